"""Each recipient's story list for one batch: the segment's list for readers in the hold-out or
with no history, their own list (ranking.rank over the segment's candidates) for the others.
Readers with the same list are grouped, so each distinct list is rendered once (the batch caches
renders per process) and sent in one ESP call.

`choose` decides each reader's list and `assign` groups the readers by it; the batch calls
`assign`, and the editor's preview as a reader and the distinct-lists count
(newsletter.personal.preview) call the same two, so what an editor is shown is what the send does.

No query per recipient: the batch's profiles are loaded in one query (profiles.load). Nothing
can make a reader's email fail here: a profile that does not load, or any error in ranking,
gives the edition's order (the send goes on; the error is logged). A reader's own list with
fewer than DIGEST_MIN_STORIES stories in all (they read nearly every candidate) would not
render, so they get the segment's list.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from django.db.models import F, TextField
from django.db.models.functions import Cast

from articles.content.models import Article
from newsletter.editions import conf as editions_conf
from newsletter.editions.models import Digest
from newsletter.editions.segments import EditionStories, Segment, Selection

from . import conf, profiles, ranking
from .arms import Arm, arms_of

log = logging.getLogger(__name__)

# Candidates beyond the segment's own stories: what a reader who read some of them gets instead.
EXTRA_CANDIDATES = 8


@dataclass(frozen=True)
class Reader:
    subscriber_id: int
    personal_order: bool
    # The reader's profile, when the caller read it with the reader (the batch: PROFILE_COLUMNS in
    # its subscriber query); `attached` says it looked (a None profile is then no profile).
    profile: ranking.Profile | None = None
    attached: bool = False
    # The profile's list_key when read with it: readers who share it and read the same
    # candidates share one ranking (choose).
    leaning: str = ""


# The reader's profile, read with the subscriber (Subscriber -> ReaderProfile), its JSON as text:
# readers of one leaning (list_key) share its decoded form, so a batch decodes each leaning once
# and each reader's `seen` list once per distinct list (decoding four JSON columns of every row
# cost a batch of 1,000 profiled readers ~20 ms, bench/README.md "Personal editions").
PROFILE_COLUMNS: dict[str, Any] = {
    "profile_key": F("reader_profile__list_key"),
    "profile_sections": Cast("reader_profile__sections", TextField()),
    "profile_tags": Cast("reader_profile__tags", TextField()),
    "profile_shown": Cast("reader_profile__shown", TextField()),
    "profile_seen": Cast("reader_profile__seen", TextField()),
}
LEANINGS_KEPT = 4096  # decoded leanings a process keeps (a million readers lean a few hundred ways)
_leanings: dict[str, ranking.Profile] = {}  # list_key -> the leaning's profile, without `seen`


@functools.lru_cache(maxsize=LEANINGS_KEPT)
def _seen(text: str) -> frozenset[int]:
    return frozenset(int(article_id) for article_id in json.loads(text))


def forget_leanings() -> None:
    """Drop the leanings this process decoded (tests: on SQLite ids, and so list keys, repeat)."""
    _leanings.clear()
    _seen.cache_clear()


def attached_profile(row: Sequence[Any]) -> tuple[ranking.Profile | None, str]:
    """The ranking's profile from PROFILE_COLUMNS values, and its leaning's key (None: no
    profile, or unreadable)."""
    key, sections, tags, shown, seen = row
    if sections is None:
        return None, ""
    try:
        leaning = _leanings.get(key) if key else None
        if leaning is None:
            # list_key is a hash of exactly what the ranking reads of the leaning (profiles.list_key).
            leaning = profiles.to_ranking(json.loads(sections), json.loads(tags), json.loads(shown), ())
            if key:
                if len(_leanings) >= LEANINGS_KEPT:
                    _leanings.clear()
                _leanings[key] = leaning
        return replace(leaning, seen=_seen(seen)), key
    except (TypeError, ValueError, AttributeError):
        log.warning("a reader profile is unreadable: the edition's order for that reader")
        return None, ""


@dataclass(frozen=True)
class ListKey:
    """Recipients who get the same email: the segment, its story list, and their arm."""

    articles: tuple[int, ...]  # empty: the segment's own list
    arm: Arm


@dataclass
class Assignment:
    selection: Selection
    readers: list[int]  # subscriber ids


@dataclass(frozen=True)
class Choice:
    """What one reader of a segment gets (`choose`)."""

    arm: Arm
    selection: Selection  # the stories of their email
    articles: tuple[int, ...] = ()  # their own list; empty: the segment's list
    # The ranking's picks, each with its reason, when their list was ranked (the same order as
    # `selection.stories`, also when the ranking gave the segment's own order); empty otherwise.
    picks: tuple[ranking.Pick, ...] = ()
    profile: ranking.Profile | None = None  # the profile the ranking read (personal arm only)
    profiled: bool = False  # a profile was loaded for them: the batch notes what they were shown


def candidates(stories: EditionStories, segment: Segment) -> tuple[list[Article], list[ranking.Candidate]]:
    pool, pinned, readers = stories.pool(segment.section_ids, extra=EXTRA_CANDIDATES)
    return pool, [
        ranking.Candidate(
            article_id=article.pk,
            section_id=article.section_id,
            tag_ids=tuple(tag.pk for tag in article.tags.all()),
            pinned=article.pk in pinned,
            readers=readers.get(article.pk, 0),
        )
        for article in pool
    ]


def choose(
    stories: EditionStories,
    segment: Segment,
    readers: Sequence[Reader],
    *,
    now: datetime,
    month: date,
    loaded: dict[int, ranking.Profile] | None = None,
) -> dict[int, Choice]:
    """Each of the segment's readers' list, by subscriber id (see the module docstring).
    `loaded`: their profiles, already loaded (else one query for the personal arm's readers)."""
    base = stories.select(segment.section_ids)
    arms = arms_of(((r.subscriber_id, r.personal_order) for r in readers), month=month)
    personal = [r.subscriber_id for r in readers if arms[r.subscriber_id] == Arm.PERSONAL]
    try:
        if loaded is None and readers and all(r.attached for r in readers):
            loaded = {r.subscriber_id: r.profile for r in readers if r.profile is not None}
        found = loaded if loaded is not None else (profiles.load(personal, now=now) if personal else {})
        pool, pool_candidates = candidates(stories, segment) if found else ([], [])
    except Exception:
        log.exception("personal lists unavailable for a batch: the edition's order for everyone")
        found, pool, pool_candidates = {}, [], []
    by_id = {article.pk: article for article in pool}
    own = tuple(article.pk for article in base.stories)
    # Readers of one leaning who read the same candidates get the same list: ranked once each.
    ranked: dict[tuple[object, ...], tuple[ranking.Pick, ...]] = {}
    minimum = editions_conf.settings().DIGEST_MIN_STORIES
    chosen: dict[int, Choice] = {}
    plain = {arm: Choice(arm, base) for arm in Arm}  # most readers: no history, one object per arm
    for reader in readers:
        arm = arms[reader.subscriber_id]
        profiled = reader.subscriber_id in found
        if not profiled:
            chosen[reader.subscriber_id] = plain[arm]
            continue
        profile = found[reader.subscriber_id] if arm == Arm.PERSONAL else None
        if profile is None or profile.empty:
            chosen[reader.subscriber_id] = Choice(arm, base, profile=profile, profiled=profiled)
            continue
        try:
            key = _ranking_key(profile, by_id, leaning=reader.leaning)
            picks = ranked.get(key) or ranked.setdefault(
                key, tuple(ranking.rank(pool_candidates, profile, slots=len(base.stories)))
            )
        except Exception:
            log.exception("ranking failed for subscriber %s: the edition's order", reader.subscriber_id)
            chosen[reader.subscriber_id] = Choice(arm, base, profile=profile, profiled=profiled)
            continue
        articles = tuple(pick.article_id for pick in picks)
        if articles == own:
            chosen[reader.subscriber_id] = Choice(arm, base, picks=picks, profile=profile, profiled=profiled)
            continue
        selection = Selection(stories=tuple(by_id[a] for a in articles), top_up=base.top_up)
        if len(selection) < minimum:  # would not render (newsletter.email.render): the segment's list
            chosen[reader.subscriber_id] = Choice(arm, base, profile=profile, profiled=profiled)
            continue
        chosen[reader.subscriber_id] = Choice(arm, selection, articles, picks, profile, profiled)
    return chosen


def _ranking_key(profile: ranking.Profile, pool: Mapping[int, object], *, leaning: str = "") -> tuple[object, ...]:
    """Everything of a profile the ranking of this pool reads (its leaning's key stands for the
    leaning when the profile came with one)."""
    read = frozenset(a for a in profile.seen if a in pool)
    if leaning:
        return (leaning, read)
    return (
        tuple(sorted(profile.sections.items())),
        tuple(sorted(profile.tags.items())),
        tuple(sorted(profile.shown.items())),
        profile.less_sections,
        profile.less_tags,
        read,
    )


def assign(
    stories: EditionStories,
    segment: Segment,
    readers: Sequence[Reader],
    *,
    now: datetime,
    month: date,
    loaded: dict[int, ranking.Profile] | None = None,
    shown: dict[int, list[int | None]] | None = None,
) -> dict[ListKey, Assignment]:
    """The segment's recipients grouped by the list they get (see the module docstring). The
    sections each reader with a profile is shown go into `shown` (for profiles.note_shown)."""
    chosen = choose(stories, segment, readers, now=now, month=month, loaded=loaded)
    groups: dict[ListKey, Assignment] = {}
    for reader in readers:
        choice = chosen[reader.subscriber_id]
        key = ListKey(choice.articles, choice.arm)
        group = groups.get(key)
        if group is None:
            group = groups[key] = Assignment(choice.selection, [])
        group.readers.append(reader.subscriber_id)
    if shown is not None:
        for assignment in groups.values():
            sections = [a.section_id for a in (*assignment.selection.stories, *assignment.selection.top_up)]
            for subscriber_id in assignment.readers:
                if chosen[subscriber_id].profiled:
                    shown[subscriber_id] = sections
    return groups


def cluster_articles(digest_id: int) -> list[int]:
    """The edition's candidates for readers of every section: which of them a reader already
    read, with their leaning, tells which list they get (the send numbers readers of one list
    next to each other, newsletter.delivery.dispatch)."""
    digest = Digest.objects.get(pk=digest_id)
    pool, _pinned, _readers = EditionStories(digest).pool((), extra=EXTRA_CANDIDATES)
    return [article.pk for article in pool]


def enabled() -> bool:
    return conf.enabled()
