"""One reader's story list: the edition's candidates re-ranked for what this reader clicks and
reads. Pure: no database, no Redis, no clock; the profile comes in (newsletter.personal.profiles).

THE FORMULA. The candidates arrive in the edition's order: the editor's pinned stories first, then
the segment's most-read stories (a pool a little deeper than the edition, so a story left out has
a next one to take its slot). For a reader with a history, every unpinned candidate at edition
rank i (0 = most read) that the reader has not already clicked or read scores

    score     = popularity × affinity × discount × LESS_FACTOR ^ less
    popularity = readers / readers of the most read candidate   (the edition's window)
                 or, when no candidate's readers are known, 1 / (1 + i / SPREAD)
    affinity   = 1 + SECTION_WEIGHT × share(section) + TAG_WEIGHT × max(share(tag) for its tags)
    share(x)   = clicks(x) / Σ clicks                     the reader's clicks (their levels, below),
                 0 for a section or tag the reader asked for less of
    less       = [its section was asked for less] + [one of its tags was asked for less]   (0, 1 or 2)
    discount   = clamp((clicks(section) + PRIOR) / (PRIOR + EXPECTED_CTR × shown(section)),
                       MIN_DISCOUNT, 1)                   a section shown often, never clicked

`clicks` and `shown` come from the reader's profile: clicks time-decayed (each weighs
exp(-age / τ)) and stored as levels of their leaning (their top section 4, a close second 2,
their top tag 1), impressions as DAMPENED for a section shown often and never clicked (see
profiles.py: a few hundred leanings, so readers share lists, and each list is rendered once). The unpinned slots take the highest scores, ties
in the edition's order, under one diversity rule: no section takes more than MAX_SECTION_SHARE
of them (rounded up) while another section still has a story to give. The pinned stories keep
their places in the list for everyone, and so does everything the editor removed or excluded (it is not a
candidate). A reader with no history gets exactly the edition's order: no score is computed.

"LESS LIKE THIS". A reader who asked for less of a story's section or tags (its "less like this"
link, newsletter.feedback) has them in `less_sections` / `less_tags` until they ask for more or
undo it: their clicks on them stop counting and each of the two multiplies the story's score
by LESS_FACTOR, so such a story sinks below nearly every other (it still fills a slot when
nothing else is left: the list never runs short because of it).

Every chosen story says why it is there (`Pick.reason`): read by many (its affinity is 1), or
following the reader's clicks on its section or one of its tags (the larger of the two terms).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

SPREAD = 3.0
SECTION_WEIGHT = 2.0
TAG_WEIGHT = 1.0
PRIOR = 1.0
EXPECTED_CTR = 0.1
MIN_DISCOUNT = 0.5
MAX_SECTION_SHARE = 0.5
LESS_FACTOR = 0.1


@dataclass(frozen=True)
class Candidate:
    """A story the edition offers this reader's segment, in the edition's order."""

    article_id: int
    section_id: int | None
    tag_ids: tuple[int, ...] = ()
    pinned: bool = False
    readers: int = 0  # distinct readers in the edition's window (0: unknown)


@dataclass(frozen=True)
class Profile:
    """What the ranking knows of a reader: clicks per section and tag, impressions
    per section, the articles they already clicked or read, and the sections and tags they
    asked for less of."""

    sections: Mapping[int, float] = field(default_factory=dict)
    tags: Mapping[int, float] = field(default_factory=dict)
    shown: Mapping[int, float] = field(default_factory=dict)
    seen: frozenset[int] = frozenset()
    less_sections: frozenset[int] = frozenset()
    less_tags: frozenset[int] = frozenset()

    @property
    def empty(self) -> bool:
        return (
            not self.seen
            and not any(self.sections.values())
            and not any(self.tags.values())
            and not self.less_sections
            and not self.less_tags
        )


class Reason(enum.StrEnum):
    PINNED = "pinned"
    POPULAR = "popular"  # read by many: the edition's order
    SECTION = "section"  # follows the reader's clicks on the story's section
    TAG = "tag"  # follows the reader's clicks on one of the story's tags


@dataclass(frozen=True)
class Pick:
    article_id: int
    reason: Reason
    because: int | None = None  # the section or tag id the reason names


def _share(weights: Mapping[int, float], key: int | None) -> float:
    total = sum(weights.values())
    if key is None or total <= 0:
        return 0.0
    return max(weights.get(key, 0.0), 0.0) / total


def discount(profile: Profile, section_id: int | None) -> float:
    """The impression discount of a section (1: no discount)."""
    if section_id is None:
        return 1.0
    shown = profile.shown.get(section_id, 0.0)
    value = (profile.sections.get(section_id, 0.0) + PRIOR) / (PRIOR + EXPECTED_CTR * shown)
    return min(1.0, max(MIN_DISCOUNT, value))


def popularity(candidate: Candidate, rank: int, top_readers: int) -> float:
    if top_readers > 0:
        return max(candidate.readers, 0) / top_readers
    return 1.0 / (1.0 + rank / SPREAD)


def score(
    candidate: Candidate, rank: int, profile: Profile, *, top_readers: int = 0
) -> tuple[float, Reason, int | None]:
    """The candidate's score at edition rank `rank` (`top_readers`: the most read candidate's
    readers, 0 when unknown), with the reason it would be chosen."""
    less_section = candidate.section_id is not None and candidate.section_id in profile.less_sections
    section_term = 0.0 if less_section else SECTION_WEIGHT * _share(profile.sections, candidate.section_id)
    best_tag, tag_term, less_tag = None, 0.0, False
    for tag_id in candidate.tag_ids:
        if tag_id in profile.less_tags:
            less_tag = True
            continue
        term = TAG_WEIGHT * _share(profile.tags, tag_id)
        if term > tag_term:
            best_tag, tag_term = tag_id, term
    affinity = 1.0 + section_term + tag_term
    value = affinity * discount(profile, candidate.section_id) * popularity(candidate, rank, top_readers)
    value *= LESS_FACTOR ** (less_section + less_tag)
    if section_term == 0 and tag_term == 0:
        return value, Reason.POPULAR, None
    if section_term >= tag_term:
        return value, Reason.SECTION, candidate.section_id
    return value, Reason.TAG, best_tag


def rank(candidates: Sequence[Candidate], profile: Profile | None, *, slots: int) -> list[Pick]:
    """The reader's list: at most `slots` stories (see the module docstring)."""
    # A pinned story keeps its place in the edition's list (the editor may have put it third).
    pinned_at = {index: c for index, c in enumerate(candidates[:slots]) if c.pinned}
    free = max(slots - len(pinned_at), 0)
    unpinned = [c for c in candidates if not c.pinned]
    chosen: list[tuple[Candidate, Reason, int | None]]
    if profile is None or profile.empty:
        chosen = [(c, Reason.POPULAR, None) for c in unpinned[:free]]
    else:
        chosen = _choose(unpinned, profile, free)
    picks: list[Pick] = []
    rest = iter(chosen)
    for index in range(slots):
        if index in pinned_at:
            picks.append(Pick(pinned_at[index].article_id, Reason.PINNED))
            continue
        taken = next(rest, None)
        if taken is not None:  # a list that ran short closes up; the pins after still come
            picks.append(Pick(taken[0].article_id, taken[1], taken[2]))
    return picks


def _choose(unpinned: Sequence[Candidate], profile: Profile, free: int) -> list[tuple[Candidate, Reason, int | None]]:
    top_readers = max((c.readers for c in unpinned), default=0)
    scored = sorted(
        (
            (-value, index, candidate, reason, because)
            for index, candidate in enumerate(c for c in unpinned if c.article_id not in profile.seen)
            for value, reason, because in (score(candidate, index, profile, top_readers=top_readers),)
        ),
        key=lambda row: (row[0], row[1]),
    )
    cap = max(1, math.ceil(free * MAX_SECTION_SHARE))
    taken: dict[int | None, int] = {}
    chosen: list[tuple[int, Candidate, Reason, int | None]] = []
    held_back: list[tuple[int, Candidate, Reason, int | None]] = []
    for _, index, candidate, reason, because in scored:
        if len(chosen) == free:
            break
        if taken.get(candidate.section_id, 0) >= cap:
            held_back.append((index, candidate, reason, because))
            continue
        taken[candidate.section_id] = taken.get(candidate.section_id, 0) + 1
        chosen.append((index, candidate, reason, because))
    # Only one section left to give: its held-back stories fill the slots rather than leave them empty.
    chosen.extend(held_back[: free - len(chosen)])
    return [(candidate, reason, because) for _, candidate, reason, because in chosen]
