"""The alerts' table: one row per article sent (or being sent, or cancelled) as a breaking-news
alert, beside the edition row (Digest, frequency "alert") that carries it through delivery."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from newsletter.editions.models import Digest


class Alert(models.Model):
    """An article sent as an alert. One alert per article that was not cancelled (a partial
    unique constraint: the last line of defence behind the service's check, and what makes two
    concurrent clicks create one alert); a cancelled one frees the article, so an editor who
    cancelled to fix a headline can send it again. The headline is copied so the report still
    names an alert whose article was deleted since."""

    article = models.ForeignKey(
        "articles.Article",
        verbose_name=_("المقال"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    digest = models.OneToOneField(Digest, verbose_name=_("الإرسال"), on_delete=models.CASCADE, related_name="alert")
    headline = models.CharField(_("العنوان"), max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("أرسله"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("وقت الطلب"), default=timezone.now, editable=False)
    cancelled_at = models.DateTimeField(_("وقت الإلغاء"), null=True, blank=True)

    class Meta:
        verbose_name = _("تنبيه عاجل")
        verbose_name_plural = _("التنبيهات العاجلة")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["article"], condition=models.Q(cancelled_at__isnull=True), name="alert_once_per_article"
            ),
        ]

    def __str__(self) -> str:
        return self.headline
