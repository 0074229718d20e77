"""The daily read statistics of each article, rolled up from the Redis counters (articles.reading.rollup)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from articles.content.models import Article
from sitewide.dates import format_date, grouped


class ArticleDailyStats(models.Model):
    """Reads of one article on one day (in TIME_ZONE), rolled up from the Redis counters.
    The roll-up writes absolute values with GREATEST, so running it twice never double-counts."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="daily_stats")
    day = models.DateField()
    views = models.PositiveIntegerField(default=0)
    readers = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("إحصاء يومي")
        verbose_name_plural = _("الإحصاءات اليومية")
        constraints = [models.UniqueConstraint(fields=["article", "day"], name="stats_article_day")]
        indexes = [
            models.Index(fields=["day", "article"], name="stats_day_article"),
            # most_read sums readers/views over a day range: answered from this index alone
            # (index-only scan). Plain key columns, not INCLUDE, so SQLite can build it too.
            models.Index(fields=["day", "article", "readers", "views"], name="stats_day_cover"),
        ]

    def __str__(self) -> str:
        # Shown in the admin (an article's delete page lists its statistics).
        return _("%(day)s — القرّاء: %(readers)s، القراءات: %(views)s") % {
            "day": format_date(self.day, with_weekday=False),
            "readers": grouped(self.readers),
            "views": grouped(self.views),
        }
