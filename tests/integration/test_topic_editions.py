"""Topic editions with REAL Celery workers (issue 12): subscribers following only sport, only
economy, two sections and none each receive exactly one edition of the scheduled wave; the
sport follower's stories are the most-read sport stories first, topped up when too few."""

from __future__ import annotations

import re
from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from newsletter.delivery import claims
from newsletter.delivery.models import Delivery
from newsletter.editions.models import Digest
from newsletter.orchestration import runs
from newsletter.subscribers.models import Subscriber
from tests.integration.conftest import wait_for
from tests.newsletter.digest_helpers import article, ranked_articles, section, subscriber

pytestmark = pytest.mark.integration
TOP_UP = "الأكثر قراءة في الموقع"


def test_topic_followers_each_get_one_edition_with_their_sections_first(start_worker, emulator, settings) -> None:
    settings.DIGEST_MIN_STORIES = 3
    # A past day at 07:00 in the site's zone (Asia/Baghdad, UTC+3): the wave of blank zones.
    day = (timezone.now() - timedelta(days=2)).astimezone(UTC).replace(hour=4, minute=0, second=0)
    sport, economy = section("رياضة", "sport"), section("اقتصاد", "economy")
    ranked_articles(8, at=day - timedelta(hours=3), prefix="سياسة")  # the general top list
    sport_low = article("مباراة الأمس في الدوري", readers=30, sec=sport, at=day - timedelta(hours=3))
    sport_high = article("نهائي الكأس الليلة", readers=60, sec=sport, at=day - timedelta(hours=3))
    economics = [
        article(f"الأسواق اليوم {i}", readers=50 - i, sec=economy, at=day - timedelta(hours=3)) for i in range(4)
    ]
    followers = {
        "sport": subscriber("sport@example.com", topics=(sport,)),
        "economy": subscriber("economy@example.com", topics=(economy,)),
        "two": subscriber("two@example.com", topics=(sport, economy)),
        "none": subscriber("none@example.com"),
    }
    workers = [start_worker("w1"), start_worker("w2")]
    outcomes = runs.run_waves(frequency="daily", now=day)
    assert [o.result for o in outcomes] == ["dispatched"]
    wave_id = outcomes[0].digest_id
    wait_for(
        lambda: (
            not Delivery.objects.filter(digest_id=wave_id, status__in=claims.PENDING).exists()
            and Digest.objects.filter(id=wave_id, status=Digest.Status.SENT).exists()
        ),
        timeout=90,
        what="the wave",
        workers=workers,
    )
    assert runs.run_waves(frequency="daily", now=day + timedelta(hours=1)) == []  # nothing more due
    stats = emulator.state.stats()
    assert stats["unique"] == 4 and stats["duplicates"] == 0
    texts = {record["to"].split("@")[0]: record["text"] for record in emulator.state.records}
    sport_text = texts["sport"]
    assert sport_text.index(sport_high.title) < sport_text.index(sport_low.title) < sport_text.index(TOP_UP)
    assert len(re.findall(r"سياسة \d+ عن الأحداث", sport_text)) == 1  # topped up to DIGEST_MIN_STORIES
    economy_text = texts["economy"]
    assert TOP_UP not in economy_text and sport_high.title not in economy_text
    assert [economy_text.index(a.title) for a in economics] == sorted(economy_text.index(a.title) for a in economics)
    assert TOP_UP not in texts["two"] and sport_high.title in texts["two"] and economics[0].title in texts["two"]
    assert TOP_UP not in texts["none"] and "سياسة 0 عن الأحداث" in texts["none"]
    assert Subscriber.objects.filter(status=Subscriber.Status.ACTIVE).count() == len(followers)
