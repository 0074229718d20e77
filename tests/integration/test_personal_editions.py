"""Personal editions with REAL Celery workers over two days (issue 25): two readers get the same
first edition; one of them clicks two sport stories in it and reads the next day's top politics
story on the site in the browser that clicked; the next morning's edition leaves that story out of
their email and leads with sport, while the other reader gets the edition's order.

The clock is controlled in this process (time_machine): the editions are composed at 07:00 in
the site's zone on two consecutive days, the clicks and the read happen in between, and the
beat's roll-up runs at the times it would. The workers send with the real clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from articles.content.models import Article
from articles.reading import reads
from newsletter.delivery import claims
from newsletter.delivery.models import Delivery
from newsletter.editions.models import Digest
from newsletter.orchestration import runs
from newsletter.personal.models import ReaderEvent
from newsletter.tasks import rollup_analytics
from tests.integration.conftest import wait_for
from tests.newsletter.digest_helpers import article, section, subscriber

pytestmark = pytest.mark.integration

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
# A story link in the plain text: <site>/c/e<edition>a<article>p<position>k<signature>/<token>/
STORY_LINK = re.compile(r"https?://[^/\s]+(/c/e(\d+)a(\d+)p\d+k[^/\s]+/[^/\s]+/)")


def send_wave(*, at: datetime, workers) -> int:
    """The beat's run at `at`: one wave, waited for until every recipient is sent."""
    with time_machine.travel(at, tick=True):
        outcomes = runs.run_waves(frequency="daily", now=timezone.now())
    assert [o.result for o in outcomes] == ["dispatched"]
    digest_id = outcomes[0].digest_id
    assert digest_id is not None
    wait_for(
        lambda: (
            not Delivery.objects.filter(digest_id=digest_id, status__in=claims.PENDING).exists()
            and Digest.objects.filter(id=digest_id, status=Digest.Status.SENT).exists()
        ),
        timeout=90,
        what=f"edition {digest_id}",
        workers=workers,
    )
    return digest_id


def emails_of(emulator, digest_id: int) -> dict[str, tuple[list[int], dict[int, str]]]:
    """Each recipient of the edition: its story ids in the email's order, and their click paths."""
    found: dict[str, tuple[list[int], dict[int, str]]] = {}
    for record in emulator.state.records:
        links = [(int(a), path) for path, d, a in STORY_LINK.findall(record["text"]) if int(d) == digest_id]
        if links:
            assert record["to"] not in found, "one email per recipient and edition"
            found[record["to"]] = ([a for a, _ in links], dict(links))
    return found


def edition_order(digest_id: int) -> list[int]:
    return list(
        Digest.objects.get(pk=digest_id)
        .items.filter(removed=False)
        .order_by("position")
        .values_list("article_id", flat=True)
    )


def test_a_readers_clicks_and_site_reads_shape_their_next_edition(start_worker, emulator, settings) -> None:
    settings.DIGEST_LOCAL_TIME = False
    settings.DIGEST_TOP_N = 6
    settings.DIGEST_MIN_STORIES = 3
    settings.DIGEST_PERSONAL = True
    settings.DIGEST_PERSONAL_HOLDOUT_PERCENT = 0  # both readers in the personal arm
    # 07:00 in Baghdad (UTC+3) three days ago, and the next morning.
    day1 = (datetime.now(UTC) - timedelta(days=3)).replace(hour=4, minute=0, second=0, microsecond=0)
    day2 = day1 + timedelta(days=1)
    politics, sport = section(), section("رياضة", "sport")
    # The first edition's stories, read the evening before: politics and sport alternate.
    yesterday = day1 - timedelta(hours=8)
    first = [
        article(
            f"{'خبر سياسي' if i % 2 == 0 else 'خبر رياضي'} أول {i}",
            readers=1000 - 10 * i,
            at=yesterday,
            sec=politics if i % 2 == 0 else sport,
        )
        for i in range(6)
    ]
    # The second edition's, published during the first day and read on the site that day (the
    # counters in Redis, as the site keeps them): politics read more than sport.
    today = day1 + timedelta(hours=8)
    news = [article(f"خبر سياسي ثان {i}", readers=0, at=today, sec=politics) for i in range(6)]
    games = [article(f"خبر رياضي ثان {i}", readers=0, at=today, sec=sport) for i in range(5)]
    for count, story in [
        *((60 - 3 * i, a) for i, a in enumerate(news)),
        *((50 - 3 * i, a) for i, a in enumerate(games)),
    ]:
        for visitor in range(count):
            assert reads.record_read_if_published(story.pk, f"site-reader-{visitor}", day=timezone.localdate(today))
    reader = subscriber("reader@example.com")
    other = subscriber("other@example.com")
    workers = [start_worker("w1", DIGEST_PERSONAL_HOLDOUT_PERCENT="0", DIGEST_TOP_N="6")]

    # Day one: no history yet, both readers get the edition's order.
    first_id = send_wave(at=day1, workers=workers)
    emails = emails_of(emulator, first_id)
    assert emails[reader.email][0] == emails[other.email][0] == edition_order(first_id) == [a.pk for a in first]

    # The reader clicks two sport stories of their email, minutes apart, in one browser...
    browser = Client(HTTP_USER_AGENT=BROWSER)
    links = emails[reader.email][1]
    for minutes, story in ((120, first[1]), (135, first[3])):
        with time_machine.travel(day1 + timedelta(minutes=minutes), tick=True):
            assert browser.get(links[story.pk]).status_code == 302
    with time_machine.travel(day1 + timedelta(hours=3), tick=True):
        rollup_analytics()  # the beat's roll-up: the clicks become history, the browser followed
    # ... and, that afternoon, reads the story that will lead the next edition, in that browser.
    with time_machine.travel(day1 + timedelta(hours=9), tick=True):
        assert browser.get(news[0].get_absolute_url()).status_code == 200
    with time_machine.travel(day1 + timedelta(hours=9, minutes=5), tick=True):
        rollup_analytics()
    history = set(ReaderEvent.objects.filter(subscriber=reader).values_list("article_id", "kind"))
    assert history == {(first[1].pk, "click"), (first[3].pk, "click"), (news[0].pk, "read")}
    assert not ReaderEvent.objects.filter(subscriber=other).exists()

    # Day two: the other reader gets the edition's order; this reader's email leaves out what
    # they read and leads with sport.
    second_id = send_wave(at=day2, workers=workers)
    emails = emails_of(emulator, second_id)
    order = edition_order(second_id)
    assert order[0] == news[0].pk and set(order) <= {a.pk for a in news + games}
    theirs, mine = emails[other.email][0], emails[reader.email][0]
    assert theirs == order
    assert news[0].pk not in mine
    sections = dict(Article.objects.filter(pk__in=mine).values_list("pk", "section_id"))
    assert sections[mine[0]] == sport.pk
    assert min(mine.index(g.pk) for g in games if g.pk in mine) < min(
        (theirs.index(g.pk) for g in games if g.pk in theirs), default=len(theirs)
    )
    assert politics.pk in sections.values()  # one section never takes every slot
    assert len(mine) == len(theirs)
    stats = emulator.state.stats()
    assert stats["recipients"] == 4 and stats["unique"] == 2  # one email each per edition (emails_of)
    assert set(Delivery.objects.filter(digest_id=second_id).values_list("arm", flat=True)) == {"p"}
