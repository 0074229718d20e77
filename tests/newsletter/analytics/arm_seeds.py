"""Builders for the personal-editions comparison tests (issue 25): an edition's readers in an arm
(Delivery rows as the send leaves them: status and arm), their opens (Engagement, human or
machine) and their story clicks (StoryClick, with Engagement.clicked_at as the click roll-up
sets it), written straight into the tables the roll-up reads; and the comparison table of the
report or the dashboard as the editor reads it."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

from django.utils import timezone

from newsletter.analytics.models import Engagement, StoryClick
from newsletter.delivery.models import Delivery
from newsletter.editions.models import Digest
from tests.integration.helpers import make_digest, make_subscribers

SENT = Delivery.Status.SENT


def sent_edition(*, started: datetime | None = None) -> Digest:
    """A sent edition (no rows yet) whose send started at `started` (default: an hour ago)."""
    digest = make_digest(stories=3, status=Digest.Status.SENT)
    started = started or timezone.now() - timedelta(hours=1)
    Digest.objects.filter(pk=digest.pk).update(sending_started_at=started, sent_at=started)
    digest.refresh_from_db()
    return digest


def readers(digest: Digest, count: int, *, arm: str, status: str = SENT) -> list[int]:
    """`count` new subscribers with a Delivery row of the edition in `arm`; their ids."""
    ids = make_subscribers(count, prefix=f"arm{arm or 'none'}{status}")
    sent_at = digest.sending_started_at or timezone.now()
    Delivery.objects.bulk_create(
        [Delivery(digest=digest, subscriber_id=pk, status=status, arm=arm, sent_at=sent_at) for pk in ids]
    )
    return ids


def opens(digest: Digest, ids: list[int], *, human: bool = True, machine: bool = False) -> None:
    """Opens of these recipients: a human open, a machine open (Apple's proxy, a scanner), or both."""
    at = (digest.sending_started_at or timezone.now()) + timedelta(minutes=30)
    for pk in ids:
        engagement, _ = Engagement.objects.get_or_create(digest=digest, subscriber_id=pk)
        engagement.human_open_at = at if human else engagement.human_open_at
        engagement.machine_open_at = at - timedelta(minutes=29) if machine else engagement.machine_open_at
        engagement.save()


def clicks(digest: Digest, ids: list[int], *, stories: int) -> None:
    """Each of these recipients clicked `stories` different stories (StoryClick rows, one per
    story, and Engagement.clicked_at, as the click roll-up writes them together; with
    `stories=0` a click whose story is unknown: Engagement.clicked_at only)."""
    at = (digest.sending_started_at or timezone.now()) + timedelta(hours=1)
    StoryClick.objects.bulk_create(
        [
            StoryClick(digest=digest, subscriber_id=pk, article_id=1000 + story, position=story, clicked_at=at)
            for pk in ids
            for story in range(1, stories + 1)
        ]
    )
    for pk in ids:
        Engagement.objects.update_or_create(digest=digest, subscriber_id=pk, defaults={"clicked_at": at})


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def arm_table(page: str) -> dict[str, tuple[str, str, str]]:
    """The comparison as the editor reads it: figure -> (personal, hold-out, lift), each cell's
    visible text (value, then its interval)."""
    block = page.split('<div id="arm-comparison">', 1)[1].split("</div>", 1)[0]
    found = {}
    for key, row in re.findall(r'<tr data-arm-figure="(\w+)">(.*?)</tr>', block, re.S):
        cells = dict(re.findall(r'<td data-arm="(\w+)">(.*?)</td>', row, re.S))
        found[key] = (_text(cells["p"]), _text(cells["h"]), _text(cells["lift"]))
    return found


def arm_block(page: str) -> str:
    """The comparison's whole block (its sentences and table) as visible text."""
    return _text(page.split('<div id="arm-comparison">', 1)[1].split("</div>", 1)[0])
