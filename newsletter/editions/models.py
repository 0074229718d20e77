"""The editions' tables: an edition (Digest, one per frequency and local date, its waves and the
extra editions an editor sends early) and its stories (DigestItem); the frequencies and languages
editions come in, which subscribers choose among.

Status changes happen in newsletter.editions.state as conditional UPDATEs; the constraints here are
the last line of defence: one scheduled edition per (frequency, date), one number per day, one wave
of a day's edition per UTC offset.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sitewide.dates import digits, format_date


class Frequency(models.TextChoices):
    DAILY = "daily", _("يومية")
    WEEKLY = "weekly", _("أسبوعية")


# An edition row that carries a breaking-news alert (newsletter.alerts) through the delivery
# pipeline. Not a Frequency: readers never choose it, and the queries that look for a day's
# daily or weekly edition (runs, waves, numbering, history) never see an alert.
ALERT = "alert"
EDITION_KINDS = [*Frequency.choices, (ALERT, _("تنبيه عاجل"))]


class Language(models.TextChoices):
    ARABIC = "ar", _("العربية")
    ENGLISH = "en", _("English")


class WinnerMetric(models.TextChoices):
    """What a subject-line test's winner is chosen by (machine opens never count)."""

    OPENS = "opens", _("نسبة الفتح الفعلي")
    CLICKS = "clicks", _("نسبة النقر")


class WinnerReason(models.TextChoices):
    LEADER = "leader", _("تفوّق بفارق لا تفسّره الصدفة (فاصل ثقة ٩٥٪)")
    TOO_CLOSE = "too_close", _("النتيجة متقاربة جدًا فأُرسل العنوان الأول")
    NO_DATA = "no_data", _("لا بيانات كافية عند انتهاء الانتظار فأُرسل العنوان الأول")


class Digest(models.Model):
    """One edition of the daily or weekly digest, covering reads in [period_start, period_end).

    Status changes follow the one transition table in newsletter.editions.state, each applied as
    a conditional UPDATE, so a double click or a second beat can never send an edition twice."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("مسودة")
        APPROVED = "approved", _("معتمدة")
        # A subject-line test (newsletter.orchestration.subject_tests): the test share is sending,
        # then waits for its readers before the winner goes to the rest (status sending).
        TESTING = "testing", _("اختبار العناوين قيد الإرسال")
        WAITING = "waiting", _("في انتظار نتيجة اختبار العناوين")
        SENDING = "sending", _("قيد الإرسال")
        PAUSED = "paused", _("موقوفة مؤقتًا")
        SENT = "sent", _("أُرسلت")
        CANCELLED = "cancelled", _("ملغاة")
        SKIPPED = "skipped", _("لم تُرسل")

    frequency = models.CharField(_("الدورية"), max_length=6, choices=EDITION_KINDS)
    edition_date = models.DateField(_("تاريخ العدد"))
    # An edition sent before its run (send now, schedule at) is `extra`, dated the day it is sent
    # on with that day's next number (newsletter.orchestration.runs.date_for_sending).
    number = models.PositiveSmallIntegerField(_("رقم العدد في اليوم"), default=1)
    extra = models.BooleanField(_("عدد إضافي"), default=False)
    period_start = models.DateTimeField(_("بداية الفترة"))
    period_end = models.DateTimeField(_("نهاية الفترة"))
    status = models.CharField(_("الحالة"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    subject = models.CharField(_("العنوان"), max_length=200, blank=True)
    preheader = models.CharField(_("النص التمهيدي"), max_length=200, blank=True)
    intro = models.TextField(_("مقدمة المحرر"), blank=True)
    # The English segment's intro: English readers never get the Arabic one (empty: no intro).
    intro_en = models.TextField(_("مقدمة المحرر بالإنجليزية"), blank=True)
    skip_reason = models.CharField(_("سبب عدم الإرسال"), max_length=300, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("اعتمدها"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("تاريخ الاعتماد"), null=True, blank=True)
    scheduled_for = models.DateTimeField(_("موعد الإرسال"), null=True, blank=True)
    # An editor's "schedule at": nothing sends the edition before this (newsletter.orchestration.runs).
    send_at = models.DateTimeField(_("موعد الإرسال الذي حدده المحرر"), null=True, blank=True)
    sending_started_at = models.DateTimeField(_("بدء الإرسال"), null=True, blank=True)
    sent_at = models.DateTimeField(_("تاريخ الإرسال"), null=True, blank=True)
    created_at = models.DateTimeField(_("تاريخ الإنشاء"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("آخر تعديل"), auto_now=True)
    # Counters maintained by newsletter.delivery (denormalised for the admin).
    audience_count = models.PositiveIntegerField(_("الجمهور"), default=0)
    sent_count = models.PositiveIntegerField(_("أُرسل"), default=0)
    failed_count = models.PositiveIntegerField(_("فشل"), default=0)
    unknown_count = models.PositiveIntegerField(_("غير معروف"), default=0)
    # Rows skipped by the batch run (left, too few stories): with the counts above, whether it may finish.
    skipped_count = models.PositiveIntegerField(_("تُخطّي"), default=0)
    # A wave (newsletter.orchestration.waves): the edition, copied from `wave_of` at the wave's time, for
    # subscribers whose zone is `utc_offset` minutes east of UTC. The edition itself has both NULL.
    wave_of = models.ForeignKey(
        "self", verbose_name=_("موجة من"), null=True, blank=True, on_delete=models.CASCADE, related_name="waves"
    )
    utc_offset = models.SmallIntegerField(_("فرق التوقيت (دقائق)"), null=True, blank=True)
    # A subject-line test (SubjectVariant rows; newsletter.orchestration.subject_tests). Share and
    # wait empty: the SUBJECT_TEST_* defaults, written here when the test starts.
    test_share_percent = models.PositiveSmallIntegerField(_("نسبة جمهور الاختبار (٪)"), null=True, blank=True)
    test_wait_minutes = models.PositiveIntegerField(_("مدة انتظار النتيجة (دقائق)"), null=True, blank=True)
    test_metric = models.CharField(
        _("معيار الفوز"), max_length=6, choices=WinnerMetric.choices, default=WinnerMetric.OPENS
    )
    test_started_at = models.DateTimeField(_("بدء اختبار العناوين"), null=True, blank=True)
    test_sent_at = models.DateTimeField(_("اكتمال إرسال الاختبار"), null=True, blank=True)
    test_winner = models.ForeignKey(
        "SubjectVariant",
        verbose_name=_("العنوان الفائز"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    test_winner_reason = models.CharField(
        _("سبب اختيار الفائز"), max_length=10, choices=WinnerReason.choices, blank=True
    )
    test_decided_at = models.DateTimeField(_("وقت اختيار الفائز"), null=True, blank=True)

    class Meta:
        ordering = ["-edition_date", "frequency"]
        verbose_name = _("عدد النشرة")
        verbose_name_plural = _("أعداد النشرة")
        constraints = [
            models.UniqueConstraint(
                fields=["frequency", "edition_date", "number"],
                condition=models.Q(utc_offset__isnull=True),
                name="digest_one_per_period",
            ),
            models.UniqueConstraint(
                fields=["frequency", "edition_date"],
                condition=models.Q(utc_offset__isnull=True, extra=False),
                name="digest_one_scheduled_per_day",
            ),
            models.UniqueConstraint(
                fields=["frequency", "edition_date", "utc_offset"],
                condition=models.Q(utc_offset__isnull=False),
                name="digest_one_wave_per_offset",
            ),
        ]

    def __str__(self) -> str:
        if self.frequency == ALERT:  # named by its headline in the editions list, reports and dashboard
            return _("تنبيه عاجل: %(headline)s") % {"headline": self.subject}
        name = f"{self.get_frequency_display()} {format_date(self.edition_date, with_weekday=False)}"
        if self.number > 1:
            name = _("%(edition)s (العدد %(number)s)") % {"edition": name, "number": digits(self.number)}
        return name


class SubjectVariant(models.Model):
    """One subject line of an edition's subject-line test (at most MAX_VARIANTS, position 1 the
    editor's first: it is sent when the test cannot tell). Frozen once the test starts; the figures
    are those the winner was chosen on (newsletter.orchestration.subject_tests)."""

    MAX_VARIANTS = 4

    digest = models.ForeignKey(Digest, verbose_name=_("العدد"), on_delete=models.CASCADE, related_name="variants")
    position = models.PositiveSmallIntegerField(_("الترتيب"))
    subject = models.CharField(_("العنوان"), max_length=200)
    recipients = models.PositiveIntegerField(_("المستلمون"), default=0)
    human_openers = models.PositiveIntegerField(_("فتحوا فعليًا"), default=0)
    clickers = models.PositiveIntegerField(_("نقروا"), default=0)

    class Meta:
        ordering = ["position"]
        verbose_name = _("عنوان مقترح")
        verbose_name_plural = _("العناوين المقترحة")
        constraints = [
            models.UniqueConstraint(fields=["digest", "position"], name="subjectvariant_once_per_position"),
        ]

    def __str__(self) -> str:
        return _("العنوان %(position)s: %(subject)s") % {"position": digits(self.position), "subject": self.subject}


class DigestItem(models.Model):
    """An article in an edition. `removed` rows are kept so a recomposition respects the
    editor's removal; `pinned` rows survive recomposition and come first."""

    digest = models.ForeignKey(Digest, verbose_name=_("العدد"), on_delete=models.CASCADE, related_name="items")
    article = models.ForeignKey(
        "articles.Article", verbose_name=_("المقال"), on_delete=models.CASCADE, related_name="+"
    )
    position = models.PositiveIntegerField(_("الترتيب"), default=0)
    pinned = models.BooleanField(_("مثبّت"), default=False)
    # A pinned story goes to the topic segments whose sections include it; with this set, to
    # every segment (newsletter.editions.segments).
    for_everyone = models.BooleanField(
        _("مثبّتة للجميع"),
        default=False,
        help_text=_("قصة مثبّتة تصل عادةً قرّاءَ قسمها فقط؛ مع هذا الخيار تصل كل الشرائح."),
    )
    removed = models.BooleanField(_("محذوف"), default=False)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("مادة")
        verbose_name_plural = _("المواد")
        constraints = [
            models.UniqueConstraint(fields=["digest", "article"], name="digestitem_unique_article"),
        ]

    def __str__(self) -> str:
        # Named in the admin's history ("changed the position of …") and on delete pages.
        return _("القصة %(position)s: %(title)s") % {"position": digits(self.position), "title": self.article.title}
