"""A reader's compact profile (ReaderProfile), built from their history and read by the batch in
one query for all its recipients.

TIME DECAY. Each click weighs exp(-age / DECAY_DAYS) days old, and so does each impression: the
profile stores the sums as of `as_of`, and `load` carries them on to now (one factor for all of
them, so a reader's shares stay as built and only the impression discount's prior changes).
Interest is rounded to tenths of a click and impressions to whole ones, so readers whose tastes
differ by noise share one story list (and one rendered email).

IMPRESSIONS. What a reader was shown is counted after the batch that sent it (`note_shown`: one
Redis push per batch, on the send path), and folded into the profiles by the roll-up
(`fold_impressions`); an edition counts once per reader (`shown_through`).
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from django.db import transaction

from articles.content.models import Article
from sitewide.redis_client import get_redis

from . import conf
from .history import DIRTY_KEY
from .models import ReaderEvent, ReaderProfile
from .ranking import Profile

log = logging.getLogger(__name__)

DECAY_DAYS = 14.0
SHOWN_KEY = "pe:shown"


def _decay(age: timedelta) -> float:
    return math.exp(-max(age.total_seconds(), 0.0) / (DECAY_DAYS * 86400))


def _rounded(weights: Mapping[int, float], step: float) -> dict[str, float]:
    return {str(key): round(round(value / step) * step, 3) for key, value in weights.items() if value >= step / 2}


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
    existing = {p.subscriber_id: p for p in ReaderProfile.objects.filter(subscriber_id__in=ids)}
    rows = []
    for subscriber_id in ids:
        old = existing.get(subscriber_id)
        shown = {int(k): v * _decay(now - old.as_of) for k, v in old.shown.items()} if old else {}
        if subscriber_id not in seen:
            continue
        rows.append(
            ReaderProfile(
                subscriber_id=subscriber_id,
                sections=_rounded(sections[subscriber_id], 0.1),
                tags=_rounded(tags[subscriber_id], 0.1),
                shown=_rounded(shown, 1.0),
                seen=sorted(seen[subscriber_id]),
                as_of=now,
                shown_through=old.shown_through if old else 0,
            )
        )
    with transaction.atomic():
        ReaderProfile.objects.filter(subscriber_id__in=ids - set(seen)).delete()
        ReaderProfile.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["subscriber"],
            update_fields=["sections", "tags", "shown", "seen", "as_of", "shown_through"],
        )
    return len(rows)


def build_dirty(*, now: datetime, chunk: int = 2000) -> int:
    """Build every profile whose history changed since the last run."""
    built = 0
    client = get_redis()
    while True:
        taken: list[bytes] = client.spop(DIRTY_KEY, chunk) or []  # type: ignore[assignment]
        if not taken:
            return built
        built += build((int(i) for i in taken), now=now)


def _from_row(
    sections: dict[str, float], tags: dict[str, float], shown: dict[str, float], seen: list[int], factor: float
) -> Profile:
    return Profile(
        sections={int(k): float(v) * factor for k, v in sections.items()},
        tags={int(k): float(v) * factor for k, v in tags.items()},
        shown={int(k): float(v) * factor for k, v in shown.items()},
        seen=frozenset(int(a) for a in seen),
    )


def load(subscriber_ids: Iterable[int], *, now: datetime) -> dict[int, Profile]:
    """The profiles of these subscribers, decayed to now (one query). A row that cannot be read is
    left out: that reader gets the edition's order."""
    found: dict[int, Profile] = {}
    rows = ReaderProfile.objects.filter(subscriber_id__in=set(subscriber_ids)).values_list(
        "subscriber_id", "sections", "tags", "shown", "seen", "as_of"
    )
    for subscriber_id, sections, tags, shown, seen, as_of in rows:
        try:
            found[subscriber_id] = _from_row(sections, tags, shown, seen, _decay(now - as_of))
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
            shown = {int(k): float(v) * factor for k, v in profile.shown.items()}
            for digest_id, shown_sections in sorted(by_subscriber[profile.subscriber_id].items()):
                if digest_id <= profile.shown_through:
                    continue
                for section_id in shown_sections:
                    shown[section_id] = shown.get(section_id, 0.0) + 1.0
                profile.shown_through = digest_id
            sections_factor = {int(k): float(v) * factor for k, v in profile.sections.items()}
            tags_factor = {int(k): float(v) * factor for k, v in profile.tags.items()}
            profile.sections = _rounded(sections_factor, 0.1)
            profile.tags = _rounded(tags_factor, 0.1)
            profile.shown = _rounded(shown, 1.0)
            profile.as_of = now
            changed.append(profile)
        ReaderProfile.objects.bulk_update(changed, ["sections", "tags", "shown", "as_of", "shown_through"])
    return len(changed)
