"""What editors see of personal editions (issue 25): one reader's edition as the send will make
it, and how many different emails the send will make.

PREVIEW AS A READER. `reader_preview(digest, subscriber, now=)` decides the reader's list with
newsletter.personal.lists.choose, the function the send's batch groups its recipients with
(lists.assign): their segment (language, topics), their arm this month (arms.arm_of, the
edition's date as the batch passes it), their profile (profiles.load) and the ranking
(ranking.rank). It says why each story is there (`Why`), which of the segment's stories were left
out because the reader already clicked or read them and which gave way to stories nearer their
leanings, and renders the email with the editor's links (newsletter.email.render.editor_links);
the caller stores its click targets, as the segment preview does. Nothing is written.

THE DISTINCT-LISTS COUNT. `distinct_lists(digest, now=)` counts the emails the send would make
today for the edition's audience (the active subscribers of its frequency, as dispatch snapshots
it): one per segment that has readers and enough stories, and one more per distinct list of
their own that personal readers get (lists.assign, as the batch groups them). It walks the
audience in keyset chunks of CHUNK subscriber ids with three queries a chunk (the subscribers,
their topics, their profiles) and ranks each segment's stories once (EditionStories caches them),
holding one chunk and one 64-bit hash per distinct list, never the recipients.

For a million subscribers that is 500 chunks: tens of seconds to minutes, too slow for a page
view, and needless on every view (it changes with the edition's stories and the readers'
histories, not per view). So it runs on demand: the edition page's button (`request_count`)
enqueues a Celery task (one at a time per edition, a Redis marker), which stores the figures in
Redis with the time they were computed and the edition's version (`count_and_store`). The edition
page reads that one key (`stored_count`: no SQL, its pinned query list does not grow), shows the
count with its time, and says when the edition changed after it was computed.

Both show the edition as it stands, sent now to its whole audience. Sent in local-time waves
(DIGEST_LOCAL_TIME), each wave is a copy whose unpinned slots are ranked again at its own time
unless the edition was approved (newsletter.orchestration.waves), and renders its own emails.
"""

from __future__ import annotations

import enum
import json
import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from articles.content.models import Article, Section, Tag
from newsletter import task_names
from newsletter.editions import conf as editions_conf
from newsletter.editions.models import Digest
from newsletter.editions.segments import EditionStories, Segment, Selection
from newsletter.email.render import RenderedEmail, editor_links, merge, render_digest
from newsletter.subscribers.addresses import InvalidEmail, by_address, normalise_email
from newsletter.subscribers.models import Subscriber
from sitewide.redis_client import get_redis

from . import lists, profiles, ranking
from .arms import Arm

log = logging.getLogger(__name__)

CHUNK = 2000
COUNT_KEY = "pe:lists:{digest_id}"
RUNNING_KEY = "pe:lists:{digest_id}:running"
COUNT_KEEP_SECONDS = 7 * 86400  # an edition's count outlives its draft days, not much more
# The count task's hard time limit (newsletter.tasks) plus a margin: a killed task's marker
# expires by itself and the button works again.
COUNT_TIME_LIMIT = 1800
RUNNING_SECONDS = COUNT_TIME_LIMIT + 60
MAX_ID_DIGITS = 18  # a bigint; longer is not an id


# --- Preview as a reader ---------------------------------------------------------------------


class Why(enum.StrEnum):
    """Why a story is in a reader's email."""

    PINNED = "pinned"  # the editor pinned it: the same place for everyone
    POPULAR = "popular"  # read by many: the edition's order
    SECTION = "section"  # follows the reader's clicks on its section
    TAG = "tag"  # follows the reader's clicks on one of its tags
    TOP_UP = "top_up"  # the site's most read, topping up a topic segment with too few stories


@dataclass(frozen=True)
class Entry:
    article: Article
    why: Why
    section: Section | None = None  # the section a SECTION reason names
    tag: Tag | None = None  # the tag a TAG reason names

    @property
    def hashtag(self) -> str:
        return f"#{self.tag.name.replace(' ', '_')}" if self.tag else ""


@dataclass(frozen=True)
class ReaderPreview:
    subscriber: Subscriber
    segment: Segment
    topics: tuple[Section, ...]  # the segment's sections, by name; empty: every section
    arm: Arm
    personal_enabled: bool  # DIGEST_PERSONAL
    in_audience: bool  # active and of the edition's frequency: the send includes them
    own_list: bool  # their list is not the segment's (the ranking changed it)
    entries: tuple[Entry, ...]  # the email's stories in order: their own, then the top-up
    already_read: tuple[Article, ...]  # the segment's stories left out: they clicked or read them
    gave_way: tuple[Article, ...]  # the segment's stories left out for ones nearer their leanings
    rendered: RenderedEmail | None  # editor's links filled in; None: too few stories, no email

    @property
    def holdout(self) -> bool:
        return self.arm == Arm.HOLDOUT


def reader_preview(digest: Digest, subscriber: Subscriber, *, now: datetime) -> ReaderPreview:
    """The edition as `subscriber` will get it (see the module docstring)."""
    stories = EditionStories(digest)
    topics = tuple(subscriber.topics.all())
    segment = Segment(language=subscriber.language, section_ids=tuple(sorted(s.pk for s in topics)))
    reader = lists.Reader(subscriber.pk, subscriber.personal_order)
    choice = lists.choose(stories, segment, [reader], now=now, month=digest.edition_date)[subscriber.pk]
    base = stories.select(segment.section_ids)
    entries = _entries(stories, choice.selection, choice.picks)
    kept = {entry.article.pk for entry in entries}
    left = [article for article in base.stories if article.pk not in kept]
    seen = choice.profile.seen if choice.profile else frozenset()
    rendered = render_digest(digest, segment, choice.selection)
    return ReaderPreview(
        subscriber=subscriber,
        segment=segment,
        topics=topics,
        arm=choice.arm,
        personal_enabled=lists.enabled(),
        in_audience=subscriber.status == Subscriber.Status.ACTIVE and subscriber.frequency == digest.frequency,
        own_list=bool(choice.articles),
        entries=entries,
        already_read=tuple(article for article in left if article.pk in seen),
        gave_way=tuple(article for article in left if article.pk not in seen),
        rendered=None if rendered is None else merge(rendered, editor_links()),
    )


def _entries(stories: EditionStories, selection: Selection, picks: tuple[ranking.Pick, ...]) -> tuple[Entry, ...]:
    pinned = {item.article_id for item in stories.items if item.pinned and not item.removed}
    reasons = {pick.article_id: pick for pick in picks}
    named = {pick.because for pick in picks if pick.reason == ranking.Reason.SECTION}
    sections = Section.objects.in_bulk(named) if named else {}
    entries = []
    for article in selection.stories:
        pick = reasons.get(article.pk)
        if pick is None:  # not ranked: the edition's order
            entries.append(Entry(article, Why.PINNED if article.pk in pinned else Why.POPULAR))
        elif pick.reason == ranking.Reason.SECTION:
            entries.append(Entry(article, Why.SECTION, section=sections.get(pick.because or 0)))
        elif pick.reason == ranking.Reason.TAG:
            tag = next((t for t in article.tags.all() if t.pk == pick.because), None)  # prefetched
            entries.append(Entry(article, Why.TAG, tag=tag))
        else:
            entries.append(Entry(article, Why.PINNED if pick.reason == ranking.Reason.PINNED else Why.POPULAR))
    entries += [Entry(article, Why.TOP_UP) for article in selection.top_up]
    return tuple(entries)


class NotFound(enum.Enum):
    """Why `find_reader` found nobody."""

    MALFORMED = "malformed"  # neither an address nor an id
    NO_ADDRESS = "no_address"
    NO_ID = "no_id"


class ReaderNotFound(LookupError):
    def __init__(self, why: NotFound, number: int | None = None) -> None:
        super().__init__(why.value)
        self.why = why
        self.number = number


def find_reader(text: str) -> Subscriber:
    """The subscriber an editor typed: an address (normalised as every address we store is) or
    an id, with or without "#", in Western or Arabic-Indic digits. Raises ReaderNotFound."""
    value = text.strip().removeprefix("#").strip()
    if value.isdecimal() and len(value) <= MAX_ID_DIGITS:
        number = int(value)  # int() reads Arabic-Indic digits too
        found = Subscriber.objects.filter(pk=number).first()
        if found is None:
            raise ReaderNotFound(NotFound.NO_ID, number)
        return found
    try:
        address = normalise_email(value)
    except InvalidEmail as exc:
        raise ReaderNotFound(NotFound.MALFORMED) from exc
    found = by_address(address).first()
    if found is None:
        raise ReaderNotFound(NotFound.NO_ADDRESS)
    return found


# --- The distinct-lists count ----------------------------------------------------------------


@dataclass(frozen=True)
class ListCount:
    lists: int  # the distinct emails the send would make
    segments: int  # segments with readers and enough stories (each one email at least)
    readers: int  # the audience counted (a segment with too few stories gets no email)
    own_lists: int  # readers whose list is their own (not their segment's)
    computed_at: datetime
    version: str  # the edition's updated_at when counted


@dataclass(frozen=True)
class StoredCount:
    count: ListCount | None  # the last count, if any
    running_since: datetime | None  # a count is under way
    changed_since: bool  # the edition changed after the count was made


def _chunks(frequency: str, size: int) -> Iterator[list[tuple[int, str, bool]]]:
    """The audience in subscriber id order, `size` at a time (keyset: the audience index)."""
    audience = Subscriber.objects.filter(status=Subscriber.Status.ACTIVE, frequency=frequency).order_by("id")
    last = 0
    while True:
        rows = list(audience.filter(id__gt=last).values_list("id", "language", "personal_order")[:size])
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def distinct_lists(digest: Digest, *, now: datetime, chunk: int = CHUNK) -> ListCount:
    """How many different emails the send would make for the edition's audience today."""
    stories = EditionStories(digest)
    minimum = editions_conf.settings().DIGEST_MIN_STORIES
    through = Subscriber.topics.through
    found: set[int] = set()  # hashes of (segment, list): memory per distinct list, not per reader
    segments: set[Segment] = set()
    readers = own = 0
    for rows in _chunks(digest.frequency, chunk):
        ids = [row[0] for row in rows]
        readers += len(ids)
        topics: dict[int, list[int]] = defaultdict(list)
        for subscriber_id, section_id in through.objects.filter(subscriber_id__in=ids).values_list(
            "subscriber_id", "section_id"
        ):
            topics[subscriber_id].append(section_id)
        by_segment: dict[Segment, list[lists.Reader]] = defaultdict(list)
        for subscriber_id, language, personal_order in rows:
            segment = Segment(language=language, section_ids=tuple(sorted(topics[subscriber_id])))
            by_segment[segment].append(lists.Reader(subscriber_id, personal_order))
        # One query for the chunk (choose reads only the personal arm's profiles among them).
        loaded = profiles.load(ids, now=now)
        for segment, members in by_segment.items():
            if len(stories.select(segment.section_ids)) < minimum:
                continue  # the send skips the segment: too few stories, no email
            segments.add(segment)
            groups = lists.assign(stories, segment, members, now=now, month=digest.edition_date, loaded=loaded)
            for key, assignment in groups.items():
                found.add(hash((segment, key.articles)))  # one email whatever the readers' arms
                if key.articles:
                    own += len(assignment.readers)
    return ListCount(
        lists=len(found),
        segments=len(segments),
        readers=readers,
        own_lists=own,
        computed_at=now,
        version=digest.updated_at.isoformat(),
    )


def request_count(digest: Digest, *, now: datetime) -> bool:
    """Start counting the edition's lists in a task, unless a count is under way. Returns
    whether one was started."""
    if not get_redis().set(RUNNING_KEY.format(digest_id=digest.pk), now.isoformat(), nx=True, ex=RUNNING_SECONDS):
        return False
    try:
        task_names.enqueue(task_names.COUNT_PERSONAL_LISTS, digest.pk)
    except Exception:
        get_redis().delete(RUNNING_KEY.format(digest_id=digest.pk))  # the button works again
        raise
    return True


def count_and_store(*, digest_id: int, now: datetime) -> ListCount | None:
    """The task's work: count the edition's lists and keep the figures with their time."""
    client = get_redis()
    try:
        digest = Digest.objects.filter(pk=digest_id).first()
        if digest is None:
            return None
        count = distinct_lists(digest, now=now)
        figures = {
            "lists": count.lists,
            "segments": count.segments,
            "readers": count.readers,
            "own_lists": count.own_lists,
            "computed_at": count.computed_at.isoformat(),
            "version": count.version,
        }
        client.set(COUNT_KEY.format(digest_id=digest_id), json.dumps(figures), ex=COUNT_KEEP_SECONDS)
        return count
    finally:
        client.delete(RUNNING_KEY.format(digest_id=digest_id))


def stored_count(digest: Digest) -> StoredCount:
    """What the edition page shows: the last count and whether one is under way (one Redis call)."""
    raw, running = get_redis().mget(COUNT_KEY.format(digest_id=digest.pk), RUNNING_KEY.format(digest_id=digest.pk))
    count = None
    if raw:
        try:
            figures = json.loads(raw)
            count = ListCount(
                lists=int(figures["lists"]),
                segments=int(figures["segments"]),
                readers=int(figures["readers"]),
                own_lists=int(figures["own_lists"]),
                computed_at=datetime.fromisoformat(figures["computed_at"]),
                version=str(figures["version"]),
            )
        except (ValueError, KeyError, TypeError):
            log.warning("stored list count of edition %s unreadable: shown as not counted", digest.pk)
    return StoredCount(
        count=count,
        running_since=_moment(running),
        changed_since=count is not None and count.version != digest.updated_at.isoformat(),
    )


def _moment(value: bytes | str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value.decode() if isinstance(value, bytes) else value) if value else None
    except ValueError:
        return None
