"""One batch of an edition: claim its queued rows, re-check each recipient at send time, render
once per segment, hand the groups to `transport`, and record what happened (points 2-5 of the
delivery guarantee in this package's docstring). Safe to run twice: rows are claimed in SQL.

A breaking-news alert (an edition of frequency "alert", newsletter.alerts) takes the same path
with three differences: one email per language (newsletter.email.alert, no topics, no personal
lists), its readers' unsubscribe links end alerts only, and a reader who stopped alerts since
dispatch is skipped like one who left."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Sequence

from django.db.models import F
from django.utils import timezone
from redis.exceptions import RedisError

from newsletter.alerts import services as alert_services
from newsletter.alerts.models import Alert
from newsletter.clicks import targets
from newsletter.editions import segments, state
from newsletter.editions.models import ALERT, Digest
from newsletter.editions.segments import Segment, Selection
from newsletter.email.alert import render_alert
from newsletter.email.render import RenderedEmail, neutral_merge_field, render_digest, render_segment
from newsletter.email.stories import StoryCache
from newsletter.personal import lists, profiles
from newsletter.subscribers.models import Subscriber

from . import claims, esp, subject_split, throttle, transport
from .models import EditionSegment
from .outcomes import BatchResult, RetryLater, backoff
from .recipients import LinkMaker, Recipient, link_templates
from .timing import timed

log = logging.getLogger(__name__)

TOO_FEW_STORIES = "too few stories for this segment"
ARTICLE_GONE = "the alert's article was deleted, unpublished or excluded"


class _Edition:
    """An edition as a render-cache key: its id and version (`updated_at`), carrying the row."""

    __slots__ = ("digest",)

    def __init__(self, digest: Digest) -> None:
        self.digest = digest

    def _key(self) -> tuple[int, object]:
        return (self.digest.id, self.digest.updated_at)

    def __hash__(self) -> int:
        return hash(self._key())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Edition) and self._key() == other._key()


@functools.lru_cache(maxsize=8)
def _stories(edition: _Edition) -> segments.EditionStories:
    # The edition's shared stories and per-topic rankings, for all its segments in this process.
    return segments.EditionStories(edition.digest)


@functools.lru_cache(maxsize=8)
def _story_cache(edition: _Edition) -> StoryCache:
    # The edition's stories as its emails show them, for all its personal lists in this process.
    return StoryCache()


@functools.lru_cache(maxsize=128)
def _render_cached(edition: _Edition, segment: Segment, profile: esp.EspProfile) -> tuple[RenderedEmail | None, int]:
    merge_field = esp.merge_field_function(profile) or neutral_merge_field
    rendered = render_segment(_stories(edition), segment, merge_field=merge_field)
    if rendered is None:
        return None, 0
    # Its links' targets are stored before any of its emails can leave, once per process like
    # the render; then the segment as sent (its stories in this email's order).
    targets.remember_targets(edition.digest.pk, rendered.click_targets)
    return rendered, record_segment(_stories(edition), segment)


def forget_editions() -> None:
    """Drop this process's per-edition caches. A worker never needs to (an edition's key changes
    with its id or its version); tests do: on SQLite a rolled-back test's edition id comes back,
    and with the clock frozen so does its `updated_at`, so the next test would read its stories."""
    for cached in (_stories, _story_cache, _render_cached, _render_list, _render_alert):
        cached.cache_clear()
    lists.forget_leanings()


# Readers of one list are numbered into the same batches (dispatch), so a short cache holds the
# lists a worker is sending; a longer one would keep hundreds of rendered emails in memory.
@functools.lru_cache(maxsize=64)
def _render_list(
    edition: _Edition, segment: Segment, key: lists.ListKey, selection: Selection, profile: esp.EspProfile
) -> RenderedEmail | None:
    """A reader's own story list (newsletter.personal), rendered once per process and list."""
    merge_field = esp.merge_field_function(profile) or neutral_merge_field
    rendered = render_digest(edition.digest, segment, selection, merge_field=merge_field, cache=_story_cache(edition))
    if rendered is not None:
        targets.remember_targets(edition.digest.pk, rendered.click_targets)
        # One line per list this process renders: the benchmark counts the distinct lists of a send.
        log.info("personal list rendered %s", hashlib.blake2b(repr((segment, key)).encode(), digest_size=6).hexdigest())
    return rendered


def record_segment(stories: segments.EditionStories, segment: Segment) -> int:
    """The id of the segment's EditionSegment row, created the first time it is sent: its own
    stories then the top-up, in the email's order (a story's position is its index + 1, as in the
    click links, newsletter.email.links). The first record stays: every batch of the edition
    ranks the same window, and rendering is cached per process."""
    selection = stories.select(segment.section_ids)
    row, _ = EditionSegment.objects.get_or_create(
        digest_id=stories.digest.pk,
        language=segment.language,
        sections=",".join(str(pk) for pk in segment.section_ids),
        defaults={
            "stories": [article.pk for article in (*selection.stories, *selection.top_up)],
            "own_stories": len(selection.stories),
        },
    )
    return row.pk


@functools.lru_cache(maxsize=16)
def _render_alert(edition: _Edition, segment: Segment, profile: esp.EspProfile) -> tuple[RenderedEmail | None, int]:
    """An alert's email in the segment's language, once per process; its EditionSegment row holds
    the one story, so the report counts its clicks as a digest story's. None: the article was
    deleted, unpublished or excluded since the editor confirmed (its readers are skipped)."""
    alert = Alert.objects.filter(digest_id=edition.digest.pk).select_related("article").first()
    if alert is None or alert.article is None or alert_services.unfit(alert.article, now=timezone.now()):
        return None, 0
    merge_field = esp.merge_field_function(profile) or neutral_merge_field
    rendered = render_alert(edition.digest, alert.article, language=segment.language, merge_field=merge_field)
    targets.remember_targets(edition.digest.pk, rendered.click_targets)
    row, _ = EditionSegment.objects.get_or_create(
        digest_id=edition.digest.pk,
        language=segment.language,
        sections="",
        defaults={"stories": [alert.article.pk], "own_stories": 1},
    )
    return rendered, row.pk


def render(digest: Digest, segment: Segment, profile: esp.EspProfile) -> RenderedEmail | None:
    """Render once per (edition version, segment, ESP profile) per process."""
    return _render_cached(_Edition(digest), segment, profile)[0]


def render_recorded(digest: Digest, segment: Segment, profile: esp.EspProfile) -> tuple[RenderedEmail | None, int]:
    """`render`, with the id of the segment's EditionSegment row (0 when too few stories)."""
    return _render_cached(_Edition(digest), segment, profile)


def send_batch(*, digest_id: int, batch: int) -> BatchResult:
    """Claim the batch's queued rows, re-check the audience, render per segment, send, record.

    Raises RetryLater when the ESP clearly did not accept (rows are back in `queued`)."""
    result = BatchResult(digest_id=digest_id, batch=batch)
    digest = Digest.objects.filter(id=digest_id).first()
    if digest is None or digest.status not in state.SENDING_STATUSES:
        result.note = f"edition is {digest.status if digest else 'gone'}"
        return result
    with timed(result.timings, "claim"):
        profile = esp.current_profile()
        token = timezone.now()
        claimed = claims.claim(digest_id=digest_id, batch=batch, token=token)
        result.claimed = len(claimed)
    if not claimed:
        result.note = "nothing queued"
        claims.finish_if_settled(digest_id)
        return result

    rendered_groups: transport.Groups = []
    shown: dict[int, list[int | None]] = {}  # sections each profiled reader is shown
    alert = digest.frequency == ALERT
    try:
        try:
            with timed(result.timings, "render"):
                groups, skipped, readers = _group_by_segment(claimed, alert=alert)
                claims.mark_skipped(skipped)
                result.skipped += sum(len(ids) for ids in skipped.values())
                segment_emails = []
                for segment, recipients in groups.items():
                    if alert:
                        rendered, segment_id = _render_alert(_Edition(digest), segment, profile)
                    else:
                        rendered, segment_id = render_recorded(digest, segment, profile)
                    if rendered is None:
                        reason = ARTICLE_GONE if alert else TOO_FEW_STORIES
                        claims.mark_skipped({reason: [r.delivery_id for r in recipients]})
                        result.skipped += len(recipients)
                    else:
                        segment_emails.append((segment, recipients, rendered, segment_id))
            with timed(result.timings, "personal"):  # each reader's own list (newsletter.personal)
                for segment, recipients, rendered, segment_id in segment_emails:
                    if alert or not lists.enabled():
                        rendered_groups.append(transport.Group(rendered, recipients, segment_id))
                    else:
                        rendered_groups += _personal_groups(
                            digest, segment, recipients, readers, rendered, segment_id, shown
                        )
            if digest.test_started_at is not None:  # a subject-line test: each reader's subject line
                language_of = {r.delivery_id: segment.language for segment, rs in groups.items() for r in rs}
                rendered_groups = subject_split.with_variant_subjects(digest, rendered_groups, language_of)
            with timed(result.timings, "throttle"):
                sendable = sum(len(group.recipients) for group in rendered_groups)
                try:
                    throttle.reserve(sendable)
                except throttle.RateLimited as exc:
                    claims.requeue(
                        [r.delivery_id for g in rendered_groups for r in g.recipients], token=token, delay=exc.wait
                    )
                    raise RetryLater(exc.wait, "send rate limit") from exc
        except RedisError as exc:
            # Redis (the click targets, the shared send rate) is out of reach and nothing went to the
            # ESP: the rows go back to queued and the task runs again later. Failing here instead
            # would drop its message (acknowledged on failure) and leave the rows claimed until the
            # sweeper, a minute later; on RabbitMQ, which keeps delivering while Redis is down,
            # every waiting batch of the edition went that way (test_redis_pressure_rabbitmq.py).
            wait = backoff(1)
            claims.requeue([delivery_id for delivery_id, _subscriber in claimed], token=token, delay=wait)
            raise RetryLater(wait, f"Redis out of reach before the ESP call: {exc}") from exc
        transport.send_groups(digest, profile, rendered_groups, token=token, result=result)
        if shown:
            try:
                profiles.note_shown(digest_id=digest_id, shown=shown)
            except RedisError:  # sent already: the impressions are a hint, the send must not fail
                log.warning("impressions of batch %s not noted: Redis out of reach", batch)
    finally:
        with timed(result.timings, "bookkeeping"):
            if result.sent or result.failed or result.unknown or result.skipped:
                Digest.objects.filter(id=digest_id).update(
                    sent_count=F("sent_count") + result.sent,
                    failed_count=F("failed_count") + result.failed,
                    unknown_count=F("unknown_count") + result.unknown,
                    skipped_count=F("skipped_count") + result.skipped,
                )
            claims.finish_if_settled(digest_id)
        log.info("batch done %s", json.dumps(result.as_dict()))
    return result


def _personal_groups(
    digest: Digest,
    segment: Segment,
    recipients: list[Recipient],
    readers_of: dict[int, lists.Reader],
    rendered: RenderedEmail,
    segment_id: int,
    shown: dict[int, list[int | None]],
) -> transport.Groups:
    """The segment's recipients by the story list each gets (newsletter.personal.lists): the
    segment's own email for the hold-out and readers with no history, one email per distinct
    list for the others; the sections each profiled reader was shown are noted for their profile."""
    now = timezone.now()
    readers = [readers_of[r.subscriber_id] for r in recipients]
    assigned = lists.assign(
        _stories(_Edition(digest)), segment, readers, now=now, month=digest.edition_date, shown=shown
    )
    by_subscriber = {r.subscriber_id: r for r in recipients}
    edition, esp_profile = _Edition(digest), esp.current_profile()
    # One ESP call per distinct email: the arms of its readers are told apart in the UPDATE only.
    emails: dict[tuple[int, ...], tuple[RenderedEmail, list[Recipient], dict[int, str]]] = {}
    for key, assignment in assigned.items():
        if key.articles not in emails:
            email = rendered
            if key.articles:
                email = _render_list(edition, segment, key, assignment.selection, esp_profile) or rendered
            emails[key.articles] = (email, [], {})
        _, members, arms = emails[key.articles]
        for subscriber_id in assignment.readers:
            recipient = by_subscriber[subscriber_id]
            members.append(recipient)
            if key.arm:
                arms[recipient.delivery_id] = key.arm.value
    return [transport.Group(email, members, segment_id, arms) for email, members, arms in emails.values()]


def _group_by_segment(
    claimed: Sequence[tuple[int, int]], *, alert: bool = False
) -> tuple[dict[Segment, list[Recipient]], dict[str, list[int]], dict[int, lists.Reader]]:
    """Recipients by segment (language, topics), with two queries for the whole batch (with
    personal editions, each reader's profile comes in the first). Subscribers who left since
    dispatch come back in the skipped map with the reason. An alert's segments are its languages
    (its readers' topics do not matter), and a reader who stopped alerts since is skipped."""
    delivery_of = {subscriber_id: delivery_id for delivery_id, subscriber_id in claimed}
    personal = lists.enabled() and not alert
    # Plain tuples, not model instances: a thousand Subscriber objects cost more than the query.
    profile_columns = lists.PROFILE_COLUMNS if personal else {}
    subscribers = (
        Subscriber.objects.filter(id__in=claims.id_set(delivery_of))
        .annotate(**profile_columns)
        .values_list(
            "id",
            "uuid",
            "email",
            "name",
            "language",
            "status",
            "personal_order",
            "alerts",
            *profile_columns,
        )
    )
    topics: dict[int, list[int]] = defaultdict(list)
    through = Subscriber.topics.through
    topic_rows = through.objects.filter(subscriber_id__in=claims.id_set(delivery_of)).values_list(
        "subscriber_id", "section_id"
    )
    for subscriber_id, section_id in [] if alert else topic_rows:  # an alert goes to every topic
        topics[subscriber_id].append(section_id)
    groups: dict[Segment, list[Recipient]] = defaultdict(list)
    skipped: dict[str, list[int]] = defaultdict(list)
    links = LinkMaker(link_templates(alert=alert))
    readers: dict[int, lists.Reader] = {}
    for subscriber_id, subscriber_uuid, email, name, language, status, personal_order, alerts, *profile in subscribers:
        reader_profile, leaning = lists.attached_profile(profile) if profile else (None, "")
        readers[subscriber_id] = lists.Reader(subscriber_id, personal_order, reader_profile, personal, leaning)
        delivery_id = delivery_of[subscriber_id]
        if status != Subscriber.Status.ACTIVE:
            skipped[f"subscriber is {status} at send time"].append(delivery_id)
            continue
        if alert and not alerts:
            skipped["subscriber stopped alerts before send time"].append(delivery_id)
            continue
        segment = Segment(language=language, section_ids=() if alert else tuple(sorted(topics[subscriber_id])))
        groups[segment].append(Recipient(delivery_id, subscriber_id, email, links.values(subscriber_uuid.hex, name)))
    missing = [delivery_of[s] for s in delivery_of if s not in readers]
    if missing:  # deleted between dispatch and send (cascade usually removes the row too)
        skipped["subscriber no longer exists"].extend(missing)
    return groups, skipped, readers
