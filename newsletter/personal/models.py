"""The personal room's tables: a reader's history (ReaderEvent) and the compact profile the
ranking reads (ReaderProfile), both deleted with the subscriber (erase) and kept
PERSONAL_HISTORY_DAYS. No IP address, user agent or cookie is stored: only which article, how
(a click in an edition, a read on the site) and when."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReaderEvent(models.Model):
    """The first time a subscriber clicked an article in an edition, or read it on the site in a
    browser their click identified (newsletter.personal.history)."""

    class Kind(models.TextChoices):
        CLICK = "click", _("نقر في النشرة")
        READ = "read", _("قراءة في الموقع")

    subscriber = models.ForeignKey(
        "newsletter.Subscriber", verbose_name=_("المشترك"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    article = models.ForeignKey(
        "articles.Article", verbose_name=_("المقال"), on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    kind = models.CharField(_("النوع"), max_length=5, choices=Kind.choices)
    at = models.DateTimeField(_("الوقت"), default=timezone.now)

    class Meta:
        verbose_name = _("حدث قراءة")
        verbose_name_plural = _("سجل القراءة")
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "article", "kind"], name="reader_event_once"),
        ]
        indexes = [models.Index(fields=["at"], name="reader_event_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.article_id}"


class ReaderProfile(models.Model):
    """What the ranking knows of one reader, rebuilt from their history (profiles.build): their
    leaning (section and tag levels), decayed impressions per section as of `as_of`, the articles
    they clicked or read, and `list_key`, a hash of the leaning the send orders its batches by."""

    # related_name: the batch reads a reader's profile in the same query as the reader.
    subscriber = models.OneToOneField(
        "newsletter.Subscriber", on_delete=models.CASCADE, primary_key=True, related_name="reader_profile"
    )
    sections = models.JSONField(default=dict)
    tags = models.JSONField(default=dict)
    shown = models.JSONField(default=dict)
    seen = models.JSONField(default=list)
    as_of = models.DateTimeField(default=timezone.now)
    # The newest edition whose impressions are in `shown`: a batch retried counts them once.
    shown_through = models.BigIntegerField(default=0)
    list_key = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        verbose_name = _("ملف القارئ")
        verbose_name_plural = _("ملفات القرّاء")

    def __str__(self) -> str:
        return str(self.subscriber_id)
