"""A reader's compact profile (ReaderProfile), built from their history and read by the batch in
one query for all its recipients.

WHAT IS STORED IS WHAT THE RANKING READS. Each click weighs exp(-age / DECAY_DAYS) (recent
interest counts more); the profile keeps the reader's *leaning*, not the raw sums:
- `sections`: their most clicked section at level 4 and, when it has at least SECOND_SHARE of the
  first's weight, the second at level 2 (newsletter.personal.ranking reads a section's share as
  its level over the sum of levels);
- `tags`: their most clicked tag at level 1, when it weighs at least TAG_SHARE of their top section;
- `shown`: the decayed impressions per section (folded in after each batch); the ranking reads
  DAMPENED for a section shown at least DAMPEN_AFTER times that the reader never clicks, else 0;
- `seen`: every article they clicked or read.
A section or tag the reader asked for less of (newsletter.subscribers.feedback) is stored in
`sections` / `tags` at level LESS (-1), in place of any level their clicks gave it: the ranking
reads it as `less_sections` / `less_tags`, and `list_key` covers it like the rest of the leaning.
A reader with such a mark and no history still gets a profile.
All clicks decay at one rate, so a leaning built from them does not change until new history
arrives: no decay is applied when the profile is read. Readers with the same leaning and the same
stories read get the same list, and `list_key` (a hash of the leaning) lets the send put them in
the same batches (newsletter.delivery.dispatch), so each list is rendered once and sent in few ESP
calls: quantised like this, a million readers lean a few hundred ways, where raw weights made
nearly every reader's list unique (bench/README.md).

IMPRESSIONS. What a reader was shown is counted after the batch that sent it (`note_shown`: one
Redis push per batch, on the send path), and folded into the profiles by the roll-up
(`fold_impressions`); an edition counts once per reader (`shown_through`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from django.db import transaction

from articles.content.models import Article
from newsletter.subscribers import feedback
from sitewide.redis_client import get_redis

from . import conf
from .history import DIRTY_KEY
from .models import ReaderEvent, ReaderProfile
from .ranking import Profile

log = logging.getLogger(__name__)

DECAY_DAYS = 14.0
SECOND_SHARE = 0.4
TAG_SHARE = 0.5
DAMPEN_AFTER = 10.0
DAMPENED = 10.0  # the ranking's shown(section) for a dampened section: discount 1 / (1 + 0.1 × 10)
SHOWN_KEY = "pe:shown"
LESS = -1  # the stored level of a section or tag the reader asked for less of


def _decay(age: timedelta) -> float:
    return math.exp(-max(age.total_seconds(), 0.0) / (DECAY_DAYS * 86400))


def leaning(sections: Mapping[int, float], tags: Mapping[int, float]) -> tuple[dict[str, int], dict[str, int]]:
    """The stored leaning of decayed click weights (see the module docstring)."""
    ranked = sorted(((w, s) for s, w in sections.items() if w > 0), key=lambda pair: (-pair[0], pair[1]))
    levels: dict[str, int] = {}
    if ranked:
        levels[str(ranked[0][1])] = 4
        if len(ranked) > 1 and ranked[1][0] >= SECOND_SHARE * ranked[0][0]:
            levels[str(ranked[1][1])] = 2
    top_tags = sorted(((w, t) for t, w in tags.items() if w > 0), key=lambda pair: (-pair[0], pair[1]))
    tag_levels = {}
    if ranked and top_tags and top_tags[0][0] >= TAG_SHARE * ranked[0][0]:
        tag_levels[str(top_tags[0][1])] = 1
    return levels, tag_levels


def dampened(sections: Mapping[str, int], shown: Mapping[str, float]) -> dict[int, float]:
    """The ranking's impressions: DAMPENED for a section shown often and never clicked."""
    return {int(s): DAMPENED for s, count in shown.items() if count >= DAMPEN_AFTER and s not in sections}


def list_key(sections: Mapping[str, int], tags: Mapping[str, int], shown: Mapping[str, float]) -> str:
    """The leaning as one short hash: readers who share it share a list (but for what they read)."""
    ranking_input = [sorted(sections.items()), sorted(tags.items()), sorted(dampened(sections, shown))]
    return hashlib.blake2b(json.dumps(ranking_input).encode(), digest_size=8).hexdigest()


def build(subscriber_ids: Iterable[int], *, now: datetime) -> int:
    """Build the profiles of these subscribers from their history (two queries for all). Returns
    how many profiles were written; a subscriber with no history left loses theirs."""
    ids = set(subscriber_ids)
    if not ids:
        return 0
    since = now - timedelta(days=conf.settings().PERSONAL_HISTORY_DAYS)
    events = list(
        ReaderEvent.objects.filter(subscriber_id__in=ids, at__gte=since).values_list(
            "subscriber_id", "article_id", "kind", "at"
        )
    )
    articles = {
        article.pk: article
        for article in Article.objects.filter(pk__in={e[1] for e in events})
        .only("id", "section_id")
        .prefetch_related("tags")
    }
    sections: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    tags: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    seen: dict[int, set[int]] = defaultdict(set)
    for subscriber_id, article_id, kind, at in events:
        seen[subscriber_id].add(article_id)
        article = articles.get(article_id)
        if kind != ReaderEvent.Kind.CLICK or article is None:
            continue  # interest is learned from clicks; a site read only marks the story read
        weight = _decay(now - at)
        if article.section_id is not None:
            sections[subscriber_id][article.section_id] += weight
        for tag in article.tags.all():
            tags[subscriber_id][tag.pk] += weight
    less = feedback.less_of(ids)
    existing = {p.subscriber_id: p for p in ReaderProfile.objects.filter(subscriber_id__in=ids)}
    rows = []
    for subscriber_id in ids:
        if subscriber_id not in seen and subscriber_id not in less:
            continue
        old = existing.get(subscriber_id)
        shown = {k: round(float(v) * _decay(now - old.as_of), 2) for k, v in old.shown.items()} if old else {}
        levels, tag_levels = leaning(sections[subscriber_id], tags[subscriber_id])
        less_sections, less_tags = less.get(subscriber_id, (set(), set()))
        levels.update({str(s): LESS for s in less_sections})
        tag_levels.update({str(t): LESS for t in less_tags})
        rows.append(
            ReaderProfile(
                subscriber_id=subscriber_id,
                sections=levels,
                tags=tag_levels,
                shown=shown,
                seen=sorted(seen.get(subscriber_id, ())),
                as_of=now,
                shown_through=old.shown_through if old else 0,
                list_key=list_key(levels, tag_levels, shown),
            )
        )
    with transaction.atomic():
        ReaderProfile.objects.filter(subscriber_id__in=ids - set(seen) - set(less)).delete()
        ReaderProfile.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["subscriber"],
            update_fields=["sections", "tags", "shown", "seen", "as_of", "shown_through", "list_key"],
        )
    return len(rows)


def build_dirty(*, now: datetime, chunk: int = 2000) -> int:
    """Build every profile whose history or "less like this" marks changed since the last run."""
    built = 0
    client = get_redis()
    while True:
        taken: list[bytes] = client.spop(DIRTY_KEY, chunk) or []  # type: ignore[assignment]
        changed = feedback.drain_changed(limit=chunk)
        if not taken and not changed:
            return built
        built += build([*(int(i) for i in taken), *changed], now=now)


def to_ranking(
    sections: Mapping[str, int], tags: Mapping[str, int], shown: Mapping[str, float], seen: Iterable[int]
) -> Profile:
    return Profile(
        sections={int(k): float(v) for k, v in sections.items() if v != LESS},
        tags={int(k): float(v) for k, v in tags.items() if v != LESS},
        shown=dampened(sections, shown),
        seen=frozenset(int(a) for a in seen),
        less_sections=frozenset(int(k) for k, v in sections.items() if v == LESS),
        less_tags=frozenset(int(k) for k, v in tags.items() if v == LESS),
    )


def load(subscriber_ids: Iterable[int], *, now: datetime | None = None) -> dict[int, Profile]:
    """The profiles of these subscribers (one query). A row that cannot be read is left out: that
    reader gets the edition's order."""
    found: dict[int, Profile] = {}
    rows = ReaderProfile.objects.filter(subscriber_id__in=set(subscriber_ids)).values_list(
        "subscriber_id", "sections", "tags", "shown", "seen"
    )
    for subscriber_id, sections, tags, shown, seen in rows:
        try:
            found[subscriber_id] = to_ranking(sections, tags, shown, seen)
        except (TypeError, ValueError, AttributeError):
            log.warning("reader profile %s unreadable: the edition's order for them", subscriber_id)
    return found


def note_shown(*, digest_id: int, shown: Mapping[int, Iterable[int | None]]) -> None:
    """After a batch: the sections each profiled reader was shown (one Redis push)."""
    entries = [
        f"{subscriber_id} {digest_id} {','.join(str(s) for s in sections if s is not None)}"
        for subscriber_id, sections in shown.items()
    ]
    if entries:
        get_redis().rpush(SHOWN_KEY, *entries)


def fold_impressions(*, now: datetime, limit: int = 100_000) -> int:
    """Add the impressions noted since the last run to the profiles (each edition once)."""
    taken: list[bytes] = get_redis().lpop(SHOWN_KEY, limit) or []  # type: ignore[assignment]
    by_subscriber: dict[int, dict[int, list[int]]] = defaultdict(dict)
    for entry in taken:
        subscriber, digest, listed = (entry.decode().split(" ") + [""])[:3]
        by_subscriber[int(subscriber)][int(digest)] = [int(s) for s in listed.split(",") if s]
    if not by_subscriber:
        return 0
    with transaction.atomic():
        profiles = ReaderProfile.objects.select_for_update().filter(subscriber_id__in=list(by_subscriber))
        changed = []
        for profile in profiles:
            factor = _decay(now - profile.as_of)
            shown = {k: float(v) * factor for k, v in profile.shown.items()}
            for digest_id, shown_sections in sorted(by_subscriber[profile.subscriber_id].items()):
                if digest_id <= profile.shown_through:
                    continue
                for section_id in shown_sections:
                    shown[str(section_id)] = shown.get(str(section_id), 0.0) + 1.0
                profile.shown_through = digest_id
            profile.shown = {k: round(v, 2) for k, v in shown.items() if v >= 0.01}
            profile.as_of = now
            profile.list_key = list_key(profile.sections, profile.tags, profile.shown)
            changed.append(profile)
        ReaderProfile.objects.bulk_update(changed, ["shown", "as_of", "shown_through", "list_key"])
    return len(changed)
