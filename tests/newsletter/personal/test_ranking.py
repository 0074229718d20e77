"""The personal ranking (newsletter.personal.ranking), a pure function: its properties under
hypothesis, and the formula of its docstring worked by hand."""

from __future__ import annotations

import math
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from newsletter.personal.ranking import (
    LESS_FACTOR,
    MAX_SECTION_SHARE,
    Candidate,
    Pick,
    Profile,
    Reason,
    discount,
    rank,
    score,
)

SECTIONS = st.sampled_from([1, 2, 3, 4])
TAGS = st.lists(st.sampled_from([10, 11, 12]), max_size=2, unique=True).map(tuple)


@st.composite
def candidates(draw: st.DrawFn) -> list[Candidate]:
    count = draw(st.integers(0, 16))
    pinned = draw(st.integers(0, min(count, 3)))
    return [
        Candidate(article_id=100 + i, section_id=draw(SECTIONS), tag_ids=draw(TAGS), pinned=i < pinned)
        for i in range(count)
    ]


WEIGHTS = st.dictionaries(st.sampled_from([1, 2, 3, 4]), st.floats(0, 20))
profiles = st.builds(
    Profile,
    sections=WEIGHTS,
    tags=st.dictionaries(st.sampled_from([10, 11, 12]), st.floats(0, 20)),
    shown=WEIGHTS,
    seen=st.frozensets(st.integers(100, 116), max_size=5),
    # "less like this" (issue 27): every property below holds with it too.
    less_sections=st.frozensets(SECTIONS, max_size=2),
    less_tags=st.frozensets(st.sampled_from([10, 11, 12]), max_size=2),
)
SLOTS = st.integers(1, 10)


def ids(picks: list[Pick]) -> list[int]:
    return [pick.article_id for pick in picks]


@st.composite
def pinned_anywhere(draw: st.DrawFn) -> list[Candidate]:
    """Like candidates(), with the pins wherever an editor put them among the first stories."""
    pool = draw(candidates())
    flags = draw(st.permutations([c.pinned for c in pool[:6]])) if pool else []
    return [
        Candidate(c.article_id, c.section_id, c.tag_ids, pinned=flags[i] if i < len(flags) else False)
        for i, c in enumerate(pool)
    ]


@given(pinned_anywhere(), SLOTS)
def test_no_history_gets_exactly_the_editions_order(pool: list[Candidate], slots: int) -> None:
    expected = [c.article_id for c in pool[:slots]]
    assert ids(rank(pool, None, slots=slots)) == expected
    assert ids(rank(pool, Profile(), slots=slots)) == expected


@given(pinned_anywhere(), profiles, SLOTS)
def test_pins_keep_their_places_and_what_was_read_stays_out(
    pool: list[Candidate], profile: Profile, slots: int
) -> None:
    picks = rank(pool, profile, slots=slots)
    pinned = {index: c.article_id for index, c in enumerate(pool[:slots]) if c.pinned}
    available = [c for c in pool if not c.pinned and (profile.empty or c.article_id not in profile.seen)]
    free = slots - len(pinned)
    # Every pin is in the list; with enough stories each keeps its very place.
    assert [p.article_id for p in picks if p.reason == Reason.PINNED] == [pinned[i] for i in sorted(pinned)]
    if len(available) >= free:
        assert all(picks[index] == Pick(article_id, Reason.PINNED) for index, article_id in pinned.items())
    unpinned = [p.article_id for p in picks if p.reason != Reason.PINNED]
    if not profile.empty:
        assert not set(unpinned) & profile.seen
    assert len(set(ids(picks))) == len(picks)  # no story twice
    assert set(ids(picks)) <= {c.article_id for c in pool}
    assert len(picks) == len(pinned) + min(free, len(available))


@given(candidates(), profiles, SLOTS)
def test_one_section_never_takes_every_slot_while_another_has_a_story(
    pool: list[Candidate], profile: Profile, slots: int
) -> None:
    picks = rank(pool, profile, slots=slots)
    section_of = {c.article_id: c.section_id for c in pool}
    unpinned = [pick for pick in picks if pick.reason != Reason.PINNED]
    free = slots - (len(picks) - len(unpinned))
    cap = max(1, math.ceil(free * MAX_SECTION_SHARE))
    counts: dict[int | None, int] = {}
    for pick in unpinned:
        counts[section_of[pick.article_id]] = counts.get(section_of[pick.article_id], 0) + 1
    over = [section for section, n in counts.items() if n > cap]
    if over and not profile.empty:
        # Over the cap only when no other section had an unread story left to give.
        chosen = set(ids(unpinned))
        left = [
            c
            for c in pool
            if not c.pinned
            and c.article_id not in profile.seen
            and c.article_id not in chosen
            and c.section_id not in over
        ]
        assert left == []


@given(candidates(), SLOTS, SECTIONS)
def test_clicks_on_a_section_never_push_its_stories_down(pool: list[Candidate], slots: int, section: int) -> None:
    plain = rank(pool, Profile(seen=frozenset({999})), slots=slots)  # a history, but no clicks
    keen = rank(pool, Profile(sections={section: 5.0}, seen=frozenset({999})), slots=slots)
    section_of = {c.article_id: c.section_id for c in pool}

    def of_section(picks: list[Pick]) -> int:
        return sum(1 for pick in picks if pick.reason != Reason.PINNED and section_of[pick.article_id] == section)

    free = max(slots - sum(1 for c in pool if c.pinned), 0)
    cap = max(1, math.ceil(free * MAX_SECTION_SHARE))
    assert of_section(keen) >= min(of_section(plain), cap)


def test_the_formula_by_hand() -> None:
    """A reader with 3 decayed clicks on sport (section 2) and 1 on politics (1), tag 10 once,
    sport shown 4 times, economy (3) shown 30 times and never clicked."""
    profile = Profile(sections={2: 3.0, 1: 1.0}, tags={10: 1.0}, shown={2: 4.0, 3: 30.0})
    # A sport story at edition rank 3: popularity 1/(1+3/3) = 0.5; affinity 1 + 2×3/4 = 2.5;
    # discount min(1, (3+1)/(1+0.1×4)) = 1.
    assert score(Candidate(1, 2), 3, profile) == (0.5 * 2.5, Reason.SECTION, 2)
    # Economy at rank 0: affinity 1; discount max(0.5, (0+1)/(1+0.1×30)) = 0.5.
    assert discount(profile, 3) == 0.5
    assert score(Candidate(2, 3), 0, profile) == (0.5, Reason.POPULAR, None)
    # Tagged politics at rank 1: 1/(1+1/3) × (1 + 2×1/4 + 1×1/1) = 0.75 × 2.5; the tag term wins.
    value, reason, because = score(Candidate(3, 1, (10,)), 1, profile)
    assert math.isclose(value, 0.75 * 2.5) and (reason, because) == (Reason.TAG, 10)
    pool = [
        Candidate(10, 3),  # economy, most read
        Candidate(11, 1),  # politics
        Candidate(12, 2),  # sport
        Candidate(13, 2),  # sport
        Candidate(14, 2),  # sport
    ]
    picks = rank(pool, profile, slots=4)
    # Sport 12 at rank 2: 0.6 × 2.5 = 1.5; sport 13 at rank 3: 0.5 × 2.5 = 1.25; politics at rank
    # 1: 0.75 × 1.5 = 1.125; sport 14 at rank 4 (0.43 × 2.5 = 1.07) is held back by the diversity
    # rule (2 of 4 slots), so economy (1 × 1 × 0.5 = 0.5) takes the last slot.
    assert ids(picks) == [12, 13, 11, 10]
    assert [p.reason for p in picks] == [Reason.SECTION, Reason.SECTION, Reason.SECTION, Reason.POPULAR]


def test_popularity_is_the_share_of_the_most_read_candidates_readers() -> None:
    """With readers known: politics read by 1,000, sport by 600; a reader whose clicks are all
    sport scores sport 0.6 × (1 + 2 × 1) = 1.8 against politics 1.0 × 1 = 1.0: sport leads."""
    pool = [Candidate(1, 1, readers=1000), Candidate(2, 1, readers=900), Candidate(3, 2, readers=600)]
    fan = Profile(sections={2: 4.0})
    assert score(pool[2], 2, fan, top_readers=1000)[0] == 0.6 * 3.0
    assert ids(rank(pool, fan, slots=3)) == [3, 1, 2]
    assert ids(rank(pool, None, slots=3)) == [1, 2, 3]


@given(candidates(), profiles, SLOTS, SECTIONS)
def test_asking_for_less_of_a_section_never_brings_more_of_it(
    pool: list[Candidate], profile: Profile, slots: int, section: int
) -> None:
    """Issue 27: "less like this" on a section never gives the reader more of its stories."""
    section_of = {c.article_id: c.section_id for c in pool}
    before = replace(profile, less_sections=profile.less_sections - {section}, seen=profile.seen | {999})
    after = replace(before, less_sections=before.less_sections | {section})

    def of_section(picks: list[Pick]) -> int:
        return sum(1 for pick in picks if pick.reason != Reason.PINNED and section_of[pick.article_id] == section)

    assert of_section(rank(pool, after, slots=slots)) <= of_section(rank(pool, before, slots=slots))


def test_less_like_this_by_hand() -> None:
    """A reader whose clicks are all sport (2), who then asked for less of sport and of tag 10:
    a sport story at rank 0 scores 1 × 1 × 1 × 0.1 (its clicks stop counting), a politics story
    tagged 10 at rank 1 scores 0.75 × 0.1, a sport story tagged 10 at rank 2 0.6 × 0.01."""
    profile = Profile(sections={2: 4.0}, less_sections=frozenset({2}), less_tags=frozenset({10}))
    assert score(Candidate(1, 2), 0, profile) == (LESS_FACTOR, Reason.POPULAR, None)
    assert math.isclose(score(Candidate(2, 1, (10,)), 1, profile)[0], 0.75 * LESS_FACTOR)
    assert math.isclose(score(Candidate(3, 2, (10,)), 2, profile)[0], 0.6 * LESS_FACTOR**2)
    pool = [Candidate(1, 2), Candidate(2, 1, (10,)), Candidate(3, 2, (10,)), Candidate(4, 1), Candidate(5, 3)]
    # Politics 4 (rank 3: 0.5) and economy 5 (rank 4: 1/(1+4/3) = 0.43) lead; the asked-for-less
    # stories follow, still filling the slots rather than leaving them empty.
    assert ids(rank(pool, profile, slots=5)) == [4, 5, 1, 2, 3]
    # Only the "less" marks, no history: the reader is ranked all the same.
    assert not Profile(less_tags=frozenset({10})).empty
