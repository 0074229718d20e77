"""The feedback tests' newsroom: a daily edition sent to an Arabic and an English reader, and
each reader's "more / less like this" links as their email carries them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from newsletter.delivery import dispatch
from newsletter.editions import compose
from tests.newsletter.digest_helpers import article, section, subscriber

BAGHDAD = ZoneInfo("Asia/Baghdad")
MORNING = datetime(2026, 12, 3, 7, 0, tzinfo=BAGHDAD)
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
FEEDBACK = re.compile(r"https?://[^/\s\"]+(/f/e\d+a(\d+)p\d+k[0-9a-f]+/(more|less)/[^/\s\"]+/)")
CLICK = re.compile(r"/c/e\d+a\d+p\d+k[0-9a-f]+/([^/\s\"]+)/")


def send_edition(settings, time_machine, outbox):
    """A daily edition of four politics stories (two tagged) sent to an Arabic and an English
    reader; each reader's feedback links {(article id, choice): path} from their HTML part."""
    settings.DIGEST_LOCAL_TIME = False
    settings.DIGEST_MIN_STORIES = 1
    time_machine.move_to(MORNING, tick=False)
    politics = section()
    stories = [
        article(f"خبر سياسي {i}", readers=1000 - i * 10, at=MORNING - timedelta(hours=3), sec=politics, tags=tags)
        for i, tags in enumerate([("قمة_بغداد", "النفط"), ("قمة_بغداد",), (), ()])
    ]
    readers = {"ar": subscriber("reader@example.com"), "en": subscriber("english@example.com", language="en")}
    digest = compose.compose(frequency="daily", now=timezone.now())
    dispatch.send_all_sync(digest_id=digest.pk)
    links: dict[str, dict[tuple[int, str], str]] = {}
    html: dict[str, str] = {}
    for message in outbox():
        body = message.get_body(("html",)).get_content()
        html[str(message["To"])] = body
        links[str(message["To"])] = {(int(m[2]), m[3]): m[1] for m in FEEDBACK.finditer(body)}
    return {"digest": digest, "stories": stories, "readers": readers, "links": links, "html": html}
