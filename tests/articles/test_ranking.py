"""most_read: distinct readers (HLL union in Redis, daily stats beyond), ties, filters."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from articles.reading import reads
from articles.reading.models import ArticleDailyStats
from articles.reading.ranking import most_read

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0"


def read(article_id: int, visitors: list[str], day=None) -> None:
    for visitor in visitors:
        reads.record_read(article_id, visitor, day=day)


@pytest.mark.django_db
def test_ranked_by_distinct_readers_union_over_days(make_article) -> None:
    a, b, c = make_article("أ"), make_article("ب"), make_article("ج")
    today = reads.today()
    read(a.pk, ["x", "y"], day=today - timedelta(days=1))
    read(a.pk, ["x", "y"], day=today)  # same two readers on two days: 2 readers, 4 views
    read(b.pk, ["p", "q", "r"])
    read(c.pk, ["z"] * 10)  # one reader, ten views
    now = timezone.now()
    ranked = most_read(now - timedelta(days=2), now, 10)
    assert [(x.pk, x.readers, x.views) for x in ranked] == [(b.pk, 3, 3), (a.pk, 2, 4), (c.pk, 1, 10)]
    assert most_read(now - timedelta(days=2), now, 2) == ranked[:2]


@pytest.mark.django_db
def test_ties_by_views_then_recency_and_exclusions(make_article, section) -> None:
    old = make_article("قديم", hours_ago=30)
    new = make_article("جديد", hours_ago=2)
    more_views = make_article("مشاهدات", hours_ago=40)
    excluded = make_article("مستبعد", exclude_from_digests=True)
    draft = make_article("مسودة", status="draft", published_at=None)
    in_section = make_article("قسم", section=section, hours_ago=50)
    for article in (old, new, excluded, draft, in_section):
        read(article.pk, ["a", "b"])
    read(more_views.pk, ["a", "b", "a"])
    now = timezone.now()
    ranked = most_read(now - timedelta(days=1), now, 10)
    assert [x.pk for x in ranked] == [more_views.pk, new.pk, old.pk, in_section.pk]
    assert [x.pk for x in most_read(now - timedelta(days=1), now, 10, sections=[section])] == [in_section.pk]
    assert ranked == most_read(now - timedelta(days=1), now, 10)  # deterministic


@pytest.mark.django_db
def test_days_beyond_retention_come_from_daily_stats(make_article, settings) -> None:
    settings.READS_RETENTION_DAYS = 3
    a = make_article("أ", body="<p>#داعش</p>", hours_ago=24 * 20)
    b = make_article("ب", hours_ago=24 * 20)
    today = reads.today()
    ArticleDailyStats.objects.create(article=a, day=today - timedelta(days=10), views=50, readers=40)
    ArticleDailyStats.objects.create(article=b, day=today - timedelta(days=10), views=30, readers=30)
    ArticleDailyStats.objects.create(article=b, day=today - timedelta(days=9), views=30, readers=30)
    read(a.pk, ["x"])
    now = timezone.now()
    ranked = most_read(now - timedelta(days=14), now, 5)
    assert [(x.pk, x.readers, x.views) for x in ranked] == [(b.pk, 60, 60), (a.pk, 41, 51)]
    tag = a.tags.get()
    assert [x.pk for x in most_read(now - timedelta(days=14), now, 5, tags=[tag])] == [a.pk]


@pytest.mark.django_db
def test_home_most_read_order_follows_distinct_readers_not_repeats_or_bots(make_article) -> None:
    first, second = make_article("الأول"), make_article("الثاني")

    def home_order() -> list[str]:
        from django.core.cache import cache

        cache.delete("articles:most-read:v1")  # cached for a minute (cache.clear() would FLUSHDB)
        html = Client().get("/").content.decode()
        box = html.split('id="most-read-title"')[1].split("</aside>")[0]
        return sorted((t for t in ("الأول", "الثاني") if t in box), key=box.index)

    for n in range(3):
        Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR=f"10.0.0.{n}").get(first.get_absolute_url())
    for n in range(2):
        Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR=f"10.0.1.{n}").get(second.get_absolute_url())
    assert home_order() == ["الأول", "الثاني"]
    # One reader re-reading, bots, prefetches and HEAD requests do not lift the second article.
    repeat = Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="10.0.1.0")
    for _ in range(5):
        repeat.get(second.get_absolute_url())
    for _ in range(5):
        Client(HTTP_USER_AGENT="Googlebot/2.1").get(second.get_absolute_url())
        Client(HTTP_USER_AGENT=BROWSER, HTTP_SEC_PURPOSE="prefetch").get(second.get_absolute_url())
        Client(HTTP_USER_AGENT=BROWSER).head(second.get_absolute_url())
    assert home_order() == ["الأول", "الثاني"]
    # Two more distinct readers do.
    for n in range(2, 4):
        Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR=f"10.0.1.{n}").get(second.get_absolute_url())
    assert home_order() == ["الثاني", "الأول"]
