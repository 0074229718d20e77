"""One batch of an edition: claim its queued rows, re-check each recipient at send time, render
once per segment, hand the groups to `transport`, and record what happened (points 2-5 of the
delivery guarantee in this package's docstring). Safe to run twice: rows are claimed in SQL."""

from __future__ import annotations

import functools
import json
import logging
from collections import defaultdict
from collections.abc import Sequence

from django.db.models import F
from django.utils import timezone
from redis.exceptions import RedisError

from ..analytics import targets
from ..editions import segments
from ..email.render import RenderedEmail, Segment, neutral_merge_field
from ..models import Digest, Subscriber
from . import esp, rows, throttle, transport
from .outcomes import BatchResult, RetryLater, backoff
from .recipients import LinkMaker, Recipient, link_templates
from .timing import timed

log = logging.getLogger(__name__)

TOO_FEW_STORIES = "too few stories for this segment"


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


@functools.lru_cache(maxsize=128)
def _render_cached(edition: _Edition, segment: Segment, profile: esp.EspProfile) -> tuple[RenderedEmail | None, int]:
    merge_field = esp.merge_field_function(profile) or neutral_merge_field
    rendered = _stories(edition).render(segment, merge_field=merge_field)
    if rendered is None:
        return None, 0
    # Its links' targets are stored before any of its emails can leave, once per process like
    # the render; then the segment as sent (its stories in this email's order).
    targets.remember_targets(edition.digest.pk, rendered.click_targets)
    return rendered, segments.record(_stories(edition), segment)


def render(digest: Digest, segment: Segment, profile: esp.EspProfile) -> RenderedEmail | None:
    """Render once per (edition version, segment, ESP profile) per process."""
    return _render_cached(_Edition(digest), segment, profile)[0]


def render_segment(digest: Digest, segment: Segment, profile: esp.EspProfile) -> tuple[RenderedEmail | None, int]:
    """`render`, with the id of the segment's EditionSegment row (0 when too few stories)."""
    return _render_cached(_Edition(digest), segment, profile)


def send_batch(*, digest_id: int, batch: int) -> BatchResult:
    """Claim the batch's queued rows, re-check the audience, render per segment, send, record.

    Raises RetryLater when the ESP clearly did not accept (rows are back in `queued`)."""
    result = BatchResult(digest_id=digest_id, batch=batch)
    digest = Digest.objects.filter(id=digest_id).first()
    if digest is None or digest.status != Digest.Status.SENDING:
        result.note = f"edition is {digest.status if digest else 'gone'}"
        return result
    with timed(result.timings, "claim"):
        profile = esp.current_profile()
        token = timezone.now()
        claimed = rows.claim(digest_id=digest_id, batch=batch, token=token)
        result.claimed = len(claimed)
    if not claimed:
        result.note = "nothing queued"
        rows.finish_if_settled(digest_id)
        return result

    try:
        try:
            with timed(result.timings, "render"):
                groups, skipped = _group_by_segment(claimed)
                rows.mark_skipped(skipped)
                result.skipped += sum(len(ids) for ids in skipped.values())
                rendered_groups: transport.Groups = []
                for segment, recipients in groups.items():
                    rendered, segment_id = render_segment(digest, segment, profile)
                    if rendered is None:
                        rows.mark_skipped({TOO_FEW_STORIES: [r.delivery_id for r in recipients]})
                        result.skipped += len(recipients)
                    else:
                        rendered_groups.append(transport.Group(rendered, recipients, segment_id))
            with timed(result.timings, "throttle"):
                sendable = sum(len(group.recipients) for group in rendered_groups)
                try:
                    throttle.reserve(sendable)
                except throttle.RateLimited as exc:
                    rows.requeue(
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
            rows.requeue([delivery_id for delivery_id, _subscriber in claimed], token=token, delay=wait)
            raise RetryLater(wait, f"Redis out of reach before the ESP call: {exc}") from exc
        transport.send_groups(digest, profile, rendered_groups, token=token, result=result)
    finally:
        with timed(result.timings, "bookkeeping"):
            if result.sent or result.failed or result.unknown or result.skipped:
                Digest.objects.filter(id=digest_id).update(
                    sent_count=F("sent_count") + result.sent,
                    failed_count=F("failed_count") + result.failed,
                    unknown_count=F("unknown_count") + result.unknown,
                    skipped_count=F("skipped_count") + result.skipped,
                )
            rows.finish_if_settled(digest_id)
        log.info("batch done %s", json.dumps(result.as_dict()))
    return result


def _group_by_segment(
    claimed: Sequence[tuple[int, int]],
) -> tuple[dict[Segment, list[Recipient]], dict[str, list[int]]]:
    """Recipients by segment (language, topics), with two queries for the whole batch.
    Subscribers who left since dispatch come back in the skipped map with the reason."""
    delivery_of = {subscriber_id: delivery_id for delivery_id, subscriber_id in claimed}
    # Plain tuples, not model instances: a thousand Subscriber objects cost more than the query.
    subscribers = Subscriber.objects.filter(id__in=rows.id_set(delivery_of)).values_list(
        "id", "uuid", "email", "name", "language", "status"
    )
    topics: dict[int, list[int]] = defaultdict(list)
    through = Subscriber.topics.through
    for subscriber_id, section_id in through.objects.filter(subscriber_id__in=rows.id_set(delivery_of)).values_list(
        "subscriber_id", "section_id"
    ):
        topics[subscriber_id].append(section_id)
    groups: dict[Segment, list[Recipient]] = defaultdict(list)
    skipped: dict[str, list[int]] = defaultdict(list)
    seen = set()
    links = LinkMaker(link_templates())
    for subscriber_id, subscriber_uuid, email, name, language, status in subscribers:
        seen.add(subscriber_id)
        delivery_id = delivery_of[subscriber_id]
        if status != Subscriber.Status.ACTIVE:
            skipped[f"subscriber is {status} at send time"].append(delivery_id)
            continue
        segment = Segment(language=language, section_ids=tuple(sorted(topics[subscriber_id])))
        groups[segment].append(Recipient(delivery_id, subscriber_id, email, links.values(subscriber_uuid.hex, name)))
    missing = [delivery_of[s] for s in delivery_of if s not in seen]
    if missing:  # deleted between dispatch and send (cascade usually removes the row too)
        skipped["subscriber no longer exists"].extend(missing)
    return groups, skipped
