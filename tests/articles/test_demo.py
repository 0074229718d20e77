"""Demo content: idempotent, and the daily and weekly most-read lists differ."""

from datetime import timedelta

import pytest
from django.utils import timezone

from articles import demo
from articles.content.models import Article, Tag
from articles.reading import reads, rollup
from articles.reading.models import ArticleDailyStats
from articles.reading.ranking import most_read
from sitewide.redis_client import get_redis


@pytest.mark.django_db
def test_demo_is_idempotent_and_lists_differ(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        count = demo.seed_articles()
    demo.seed_reads()
    assert count == len(demo.DEMO_ARTICLES) >= 28
    assert Tag.objects.filter(key__in=["الحوار الاستراتيجي", "فؤاد حسين", "داعش", "اميركا"]).count() == 4
    now = timezone.now()
    daily = [a.pk for a in most_read(now - timedelta(hours=24), now, 10)]
    weekly = [a.pk for a in most_read(now - timedelta(days=7), now, 10)]
    assert len(daily) == len(weekly) == 10 and daily != weekly
    state = (
        Article.objects.count(),
        Tag.objects.count(),
        sorted(ArticleDailyStats.objects.values_list("article", "day", "views", "readers")),
        get_redis().hgetall(reads.views_key(reads.today())),
    )
    demo.seed_articles()
    demo.seed_reads()
    assert state == (
        Article.objects.count(),
        Tag.objects.count(),
        sorted(ArticleDailyStats.objects.values_list("article", "day", "views", "readers")),
        get_redis().hgetall(reads.views_key(reads.today())),
    )
    rollup.flush_to_database()
    assert [a.pk for a in most_read(now - timedelta(days=7), now, 10)] == weekly
