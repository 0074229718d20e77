"""A newsroom for the personal-edition tests (issue 25): six politics stories (the most read; the
edition takes four, the first pinned), five sport stories, and readers whose arm this month is
chosen by their id (arms.bucket):
- `personal`: clicked three older sport stories, read the pinned story and the second one on the
  site; `twin` has the same history;
- `holdout`: the same history, in the month's hold-out;
- `off`: a profile like theirs, personal order switched off;
- `follower`: follows sport only, clicked the most-read sport story and an older one; `fan`
  follows sport only, with no history;
- `fresh`: no history; `english`: an English reader with no history.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from newsletter.editions import compose, curation
from newsletter.personal import arms, profiles
from newsletter.personal.arms import Arm
from newsletter.personal.models import ReaderEvent
from newsletter.subscribers.models import Subscriber
from tests.newsletter.digest_helpers import article, section

POLITICS = ("قمة بغداد", "جلسة البرلمان", "الموازنة العامة", "زيارة الوزير", "انتخابات المحافظات", "قانون النفط")
SPORT = ("نهائي الكأس", "انتقال المهاجم", "بطولة الشباب", "مدرب المنتخب", "سباق الخيل")
HOLDOUT_PERCENT = 10
# A story link in a digest: /c/e<edition>a<article>p<position>k<signature>/<recipient token>/
STORY_LINK = re.compile(r"/c/e\d+a(\d+)p\d+k")


def ids_in_arm(arm: Arm, month: date, count: int, start: int) -> list[int]:
    """Subscriber ids from `start` up whose arm this month is `arm` (for readers with personal
    order on): large ids, clear of the ones the database hands out."""
    found: list[int] = []
    candidate = start
    while len(found) < count:
        if (arms.bucket(candidate, month) < HOLDOUT_PERCENT) == (arm == Arm.HOLDOUT):
            found.append(candidate)
        candidate += 1
    return found


def reader(pk: int, email: str, *, language: str = "ar", personal_order: bool = True, **fields) -> Subscriber:
    return Subscriber.objects.create(
        id=pk,
        email=email,
        status=Subscriber.Status.ACTIVE,
        confirmed_at=timezone.now(),
        language=language,
        personal_order=personal_order,
        **fields,
    )


def history(subscriber: Subscriber, *, clicked=(), read=()) -> None:
    at = timezone.now() - timedelta(days=1)
    ReaderEvent.objects.bulk_create(
        [ReaderEvent(subscriber=subscriber, article=a, kind=ReaderEvent.Kind.CLICK, at=at) for a in clicked]
        + [ReaderEvent(subscriber=subscriber, article=a, kind=ReaderEvent.Kind.READ, at=at) for a in read]
    )


def stories(text: str) -> list[int]:
    """The article ids of an email's story links, in the email's order."""
    return [int(found) for found in STORY_LINK.findall(text)]


def personal_newsroom(settings: Any) -> dict[str, Any]:
    settings.NUMERALS = "latin"
    settings.DIGEST_TOP_N = 4
    settings.DIGEST_MIN_STORIES = 3
    settings.DIGEST_PERSONAL = True
    settings.DIGEST_PERSONAL_HOLDOUT_PERCENT = HOLDOUT_PERCENT
    politics = section()
    sport = section("رياضة", "sport")
    news = [article(title, readers=1000 - 10 * i) for i, title in enumerate(POLITICS)]
    # Sport read a little less than politics: a sport leaning (share 1, affinity 3) puts it first.
    games = [article(title, readers=800 - 10 * i, sec=sport) for i, title in enumerate(SPORT)]
    older = [article(f"مباراة قديمة {name}", readers=0, sec=sport) for name in ("أولى", "ثانية", "ثالثة")]
    digest = compose.compose(frequency="daily")
    curation.pin(digest_id=digest.pk, article_id=news[0].pk)
    digest.refresh_from_db()
    month = digest.edition_date
    # Drawn from one pool so no two readers share an id, whatever month the clock says (a reader
    # placed "next to" another collided with the hold-out reader on some months).
    personal = ids_in_arm(Arm.PERSONAL, month, 7, 10_000_000)
    [held] = ids_in_arm(Arm.HOLDOUT, month, 1, 10_000_000)
    readers = {
        "personal": reader(personal[0], "personal@example.com"),
        "twin": reader(personal[1], "twin@example.com"),
        "holdout": reader(held, "holdout@example.com"),
        "off": reader(personal[2], "off@example.com", personal_order=False),
        "follower": reader(personal[3], "follower@example.com"),
        "fan": reader(personal[4], "fan@example.com"),
        "fresh": reader(personal[5], "fresh@example.com"),
        "english": reader(personal[6], "english@example.com", language="en"),
    }
    readers["follower"].topics.set([sport])
    readers["fan"].topics.set([sport])
    for name in ("personal", "twin", "holdout", "off"):
        history(readers[name], clicked=older, read=news[:2])
    history(readers["follower"], clicked=[games[0], older[0]])
    profiles.build([r.pk for r in readers.values()], now=timezone.now())
    return {"digest": digest, "news": news, "games": games, "politics": politics, "sport": sport, **readers}
