"""Each recipient's story list for one batch: the segment's list for readers in the hold-out or
with no history, their own list (ranking.rank over the segment's candidates) for the others.
Readers with the same list are grouped, so each distinct list is rendered once (the batch caches
renders per process) and sent in one ESP call.

No query per recipient: the batch's profiles are loaded in one query (profiles.load). Nothing
can make a reader's email fail here: a profile that does not load, or any error in ranking,
gives the edition's order (the send goes on; the error is logged).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from articles.content.models import Article
from newsletter.editions.segments import EditionStories, Segment, Selection

from . import conf, profiles, ranking
from .arms import Arm, arm_of

log = logging.getLogger(__name__)

# Candidates beyond the segment's own stories: what a reader who read some of them gets instead.
EXTRA_CANDIDATES = 8


@dataclass(frozen=True)
class Reader:
    subscriber_id: int
    personal_order: bool


@dataclass(frozen=True)
class ListKey:
    """Recipients who get the same email: the segment, its story list, and their arm."""

    articles: tuple[int, ...]  # empty: the segment's own list
    arm: Arm


@dataclass
class Assignment:
    selection: Selection
    readers: list[int]  # subscriber ids


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
    base = stories.select(segment.section_ids)
    arms = {r.subscriber_id: arm_of(r.subscriber_id, month=month, personal_order=r.personal_order) for r in readers}
    personal = [r.subscriber_id for r in readers if arms[r.subscriber_id] == Arm.PERSONAL]
    groups: dict[ListKey, Assignment] = {}

    def add(key: ListKey, selection: Selection, subscriber_id: int) -> None:
        group = groups.get(key)
        if group is None:
            group = groups[key] = Assignment(selection, [])
        group.readers.append(subscriber_id)

    try:
        found = loaded if loaded is not None else (profiles.load(personal, now=now) if personal else {})
        pool, pool_candidates = candidates(stories, segment) if found else ([], [])
    except Exception:
        log.exception("personal lists unavailable for a batch: the edition's order for everyone")
        found, pool, pool_candidates = {}, [], []
    by_id = {article.pk: article for article in pool}
    own = tuple(article.pk for article in base.stories)
    for reader in readers:
        arm = arms[reader.subscriber_id]
        profile = found.get(reader.subscriber_id) if arm == Arm.PERSONAL else None
        if profile is None or profile.empty:
            add(ListKey((), arm), base, reader.subscriber_id)
            continue
        try:
            picks = ranking.rank(pool_candidates, profile, slots=len(base.stories))
        except Exception:
            log.exception("ranking failed for subscriber %s: the edition's order", reader.subscriber_id)
            add(ListKey((), arm), base, reader.subscriber_id)
            continue
        articles = tuple(pick.article_id for pick in picks)
        if articles == own:
            add(ListKey((), arm), base, reader.subscriber_id)
            continue
        selection = Selection(stories=tuple(by_id[a] for a in articles), top_up=base.top_up)
        add(ListKey(articles, arm), selection, reader.subscriber_id)
    if shown is not None:
        for assignment in groups.values():
            sections = [a.section_id for a in (*assignment.selection.stories, *assignment.selection.top_up)]
            for subscriber_id in assignment.readers:
                if subscriber_id in found:
                    shown[subscriber_id] = sections
    return groups


def enabled() -> bool:
    return conf.enabled()
