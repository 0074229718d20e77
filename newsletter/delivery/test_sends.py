"""An editor's test send: a segment's email (or each segment's) to a few addresses the editor types,
marked as a test, with the editor's links (newsletter.email.render.preview_segment).

What keeps it from being a way to mail anyone (issue 23): only who may change editions may send a
test (the admin view checks it); an address on the suppression list (erased, bounced, complained)
or of a subscriber who left, bounced or complained gets nothing, and the editor is told which; and
one editor may send at most TEST_SENDS_PER_USER_PER_HOUR messages an hour (a Redis counter shared by
every web process, counted before anything is sent: a request over the limit sends nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models.functions import Lower

from newsletter.clicks import targets
from newsletter.editions import segments
from newsletter.editions.models import Digest
from newsletter.editions.segments import Segment
from newsletter.email import message
from newsletter.email.render import preview_segment
from newsletter.subscribers.addresses import InvalidEmail, is_suppressed, normalise_email
from newsletter.subscribers.models import Subscriber
from sitewide.redis_client import get_redis

from . import conf

LIMIT_WINDOW_SECONDS = 3600
# Who left, bounced or complained gets no test either: they asked for no mail from us.
REFUSED_STATUSES = (Subscriber.Status.UNSUBSCRIBED, Subscriber.Status.BOUNCED, Subscriber.Status.COMPLAINED)


@dataclass
class TestSendResult:
    sent: list[str] = field(default_factory=list)  # segment labels sent
    too_few: list[str] = field(default_factory=list)  # segments with fewer than DIGEST_MIN_STORIES
    refused: list[str] = field(default_factory=list)  # addresses that get nothing
    over_limit: bool = False  # nothing was sent: the editor's hourly allowance is used up


def refused_addresses(addresses: Sequence[str]) -> list[str]:
    """The addresses a test must not go to: suppressed, or of a subscriber who left."""
    normalised = {}
    for address in addresses:
        try:
            normalised[address] = normalise_email(address)
        except InvalidEmail:
            normalised[address] = address
    left = set(
        Subscriber.objects.alias(email_lower=Lower("email"))
        .filter(email_lower__in=[a.lower() for a in normalised.values()], status__in=REFUSED_STATUSES)
        .annotate(lower=Lower("email"))
        .values_list("lower", flat=True)
    )
    return [a for a, n in normalised.items() if n.lower() in left or is_suppressed(n)]


def _reserve(*, user_id: int, messages: int) -> bool:
    """Count `messages` against the editor's hourly allowance; False (and nothing counted) when
    they would go over it."""
    limit = conf.settings().TEST_SENDS_PER_USER_PER_HOUR
    if limit <= 0:
        return True
    client = get_redis()
    key = f"rl:test-send:{user_id}"
    total = client.incrby(key, messages)
    client.expire(key, LIMIT_WINDOW_SECONDS, nx=True)
    if total > limit:
        client.decrby(key, messages)
        return False
    return True


def send_tests(
    *, digest: Digest, user_id: int, addresses: Sequence[str], chosen: Sequence[tuple[Segment, str]]
) -> TestSendResult:
    """Send one test per (chosen segment, allowed address); see the module docstring."""
    result = TestSendResult(refused=refused_addresses(addresses))
    allowed = [address for address in addresses if address not in result.refused]
    stories = segments.EditionStories(digest)  # shared by every segment of the test
    rendered = [(label, preview_segment(stories, segment)) for segment, label in chosen]
    result.too_few = [label for label, email in rendered if email is None]
    ready = [(label, email) for label, email in rendered if email is not None]
    for _label, email in ready:  # their links' targets, stored before any test can leave
        targets.remember_targets(digest.pk, email.click_targets)
    if not allowed or not ready:
        return result
    if not _reserve(user_id=user_id, messages=len(allowed) * len(ready)):
        result.over_limit = True
        return result
    for label, email in ready:
        for address in allowed:
            message.test_message(email, to=address, label=label).send()
        result.sent.append(label)
    return result
