"""Subscribers, editions (Digest and its items), per-recipient deliveries and ESP events.

State changes happen in the service modules (subscriptions, digests, sending, tracking) as
atomic conditional updates; the constraints here are the last line of defence:
one subscriber per address, one edition per (frequency, date, number) and one wave of a day's
edition per UTC offset, one delivery per (edition, subscriber), one scheduled edition per
(subscriber, frequency, local date) across waves (Receipt), one stored event per ESP event id.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sitewide.dates import digits, format_date


class Frequency(models.TextChoices):
    DAILY = "daily", _("يومية")
    WEEKLY = "weekly", _("أسبوعية")


class Language(models.TextChoices):
    ARABIC = "ar", _("العربية")
    ENGLISH = "en", _("English")


class Subscriber(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("بانتظار التأكيد")
        ACTIVE = "active", _("مشترك")
        UNSUBSCRIBED = "unsubscribed", _("ألغى الاشتراك")
        BOUNCED = "bounced", _("بريد مرتد")
        COMPLAINED = "complained", _("أبلغ عن رسالة مزعجة")

    class Source(models.TextChoices):
        FORM = "form", _("نموذج الاشتراك")
        ARTICLE_BOX = "article_box", _("صندوق المقال")
        EMBED = "embed", _("نموذج مضمّن")
        IMPORT = "import", _("استيراد")
        ADMIN = "admin", _("لوحة الإدارة")

    # Public, unguessable id used inside signed tokens (never the sequential primary key).
    uuid = models.UUIDField(_("المعرّف العام"), default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(_("البريد الإلكتروني"), max_length=254)
    name = models.CharField(_("الاسم"), max_length=100, blank=True)
    status = models.CharField(_("الحالة"), max_length=12, choices=Status.choices, default=Status.PENDING)
    frequency = models.CharField(_("الدورية"), max_length=6, choices=Frequency.choices, default=Frequency.DAILY)
    topics = models.ManyToManyField(
        "articles.Section",
        verbose_name=_("المواضيع"),
        blank=True,
        related_name="subscribers",
        help_text=_("بلا مواضيع: كل الأقسام."),
    )
    language = models.CharField(_("اللغة"), max_length=2, choices=Language.choices, default=Language.ARABIC)
    # IANA name (Africa/Casablanca, Asia/Dubai, ...): the edition reaches the subscriber at the
    # edition hour of this zone (newsletter.editions.waves). Blank means the site's TIME_ZONE.
    time_zone = models.CharField(_("المنطقة الزمنية"), max_length=64, blank=True)
    # Consent record (proof of double opt-in).
    source = models.CharField(_("المصدر"), max_length=12, choices=Source.choices, default=Source.FORM)
    consent_text_version = models.CharField(_("نسخة نص الموافقة"), max_length=32, blank=True)
    signup_ip_hash = models.CharField(_("بصمة عنوان الشبكة عند الاشتراك"), max_length=64, blank=True, editable=False)
    signup_user_agent_hash = models.CharField(_("بصمة المتصفح عند الاشتراك"), max_length=64, blank=True, editable=False)
    confirm_ip_hash = models.CharField(_("بصمة عنوان الشبكة عند التأكيد"), max_length=64, blank=True, editable=False)
    # Timestamps for each status change.
    created_at = models.DateTimeField(_("تاريخ الاشتراك"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("آخر تعديل"), auto_now=True)
    confirmed_at = models.DateTimeField(_("تاريخ التأكيد"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("تاريخ الإلغاء"), null=True, blank=True)
    bounced_at = models.DateTimeField(_("تاريخ الارتداد"), null=True, blank=True)
    complained_at = models.DateTimeField(_("تاريخ الشكوى"), null=True, blank=True)
    last_confirmation_sent_at = models.DateTimeField(_("آخر رسالة تأكيد"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("مشترك")
        verbose_name_plural = _("المشتركون")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="subscriber_email_ci_unique"),
        ]
        indexes = [
            # Audience snapshot: active subscribers of one frequency, in id order.
            models.Index(fields=["status", "frequency", "id"], name="subscriber_audience"),
            # The hourly wave run reads the distinct zones of an audience from this index alone.
            models.Index(fields=["status", "frequency", "time_zone"], name="subscriber_wave_zones"),
            models.Index(fields=["-created_at"], name="subscriber_created"),
            models.Index(fields=["source"], name="subscriber_source"),
        ]

    def __str__(self) -> str:
        # Never the address: Django's admin history copies this text into its log, which would
        # keep the address after an erase. The admin shows the address in its own column.
        return _("مشترك %(number)s") % {"number": digits(self.pk) if self.pk else "-"}

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class Suppression(models.Model):
    """An address that must never be mailed or re-imported: erased (right to be forgotten),
    hard-bounced or complained. Stored as a keyed hash so no personal data is kept."""

    class Reason(models.TextChoices):
        ERASED = "erased", _("حُذفت البيانات")
        BOUNCED = "bounced", _("بريد مرتد")
        COMPLAINED = "complained", _("شكوى")

    email_hash = models.CharField(_("بصمة العنوان"), max_length=64, unique=True)
    reason = models.CharField(_("السبب"), max_length=12, choices=Reason.choices)
    created_at = models.DateTimeField(_("تاريخ الإضافة"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("عنوان محظور")
        verbose_name_plural = _("العناوين المحظورة")

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: {self.email_hash[:12]}"


class Digest(models.Model):
    """One edition of the daily or weekly digest, covering reads in [period_start, period_end).

    Status changes follow the one transition table in newsletter.editions.state, each applied as
    a conditional UPDATE, so a double click or a second beat can never send an edition twice."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("مسودة")
        APPROVED = "approved", _("معتمدة")
        SENDING = "sending", _("قيد الإرسال")
        PAUSED = "paused", _("موقوفة مؤقتًا")
        SENT = "sent", _("أُرسلت")
        CANCELLED = "cancelled", _("ملغاة")
        SKIPPED = "skipped", _("لم تُرسل")

    frequency = models.CharField(_("الدورية"), max_length=6, choices=Frequency.choices)
    edition_date = models.DateField(_("تاريخ العدد"))
    # An edition sent before its run (send now, schedule at) is `extra`, dated the day it is sent
    # on with that day's next number (newsletter.editions.schedule.date_for_sending).
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
    # An editor's "schedule at": nothing sends the edition before this (editions.schedule).
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
    # A wave (newsletter.editions.waves): the edition, copied from `wave_of` at the wave's time, for
    # subscribers whose zone is `utc_offset` minutes east of UTC. The edition itself has both NULL.
    wave_of = models.ForeignKey(
        "self", verbose_name=_("موجة من"), null=True, blank=True, on_delete=models.CASCADE, related_name="waves"
    )
    utc_offset = models.SmallIntegerField(_("فرق التوقيت (دقائق)"), null=True, blank=True)

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
        name = f"{self.get_frequency_display()} {format_date(self.edition_date, with_weekday=False)}"
        if self.number > 1:
            name = _("%(edition)s (العدد %(number)s)") % {"edition": name, "number": digits(self.number)}
        return name


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


class Delivery(models.Model):
    """One edition to one subscriber. queued -> claimed -> sending -> sent | failed | unknown;
    skipped when the subscriber left before their batch ran. `sending` is written right before
    the ESP call, so a row found stuck there may have been accepted and is never resent blindly."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("في الطابور")
        CLAIMED = "claimed", _("قيد التحضير")
        SENDING = "sending", _("قيد الإرسال")
        SENT = "sent", _("أُرسلت")
        FAILED = "failed", _("فشلت")
        UNKNOWN = "unknown", _("غير معروف")
        SKIPPED = "skipped", _("تُخطّيت")

    # digest_id needs no index of its own: the (digest, subscriber) unique index leads with it.
    # No foreign-key constraints in the database: only the dispatch snapshot inserts rows (under
    # the edition's lock), the checks cost a quarter to a third of a 1,000,000-row snapshot
    # (bench/README.md) and, run at commit, failed a dispatch when a reader was erased meanwhile
    # (the batch now skips such a row); the ORM's CASCADE still deletes the rows.
    digest = models.ForeignKey(
        Digest,
        verbose_name=_("العدد"),
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
        db_constraint=False,
    )
    subscriber = models.ForeignKey(
        Subscriber,
        verbose_name=_("المشترك"),
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_constraint=False,
    )
    batch = models.PositiveIntegerField(_("الدفعة"), default=0)
    status = models.CharField(_("الحالة"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("المحاولات"), default=0)
    claimed_at = models.DateTimeField(_("وقت الحجز"), null=True, blank=True)
    # When the row was (re)queued, or the earliest time a retry may take it: the sweeper
    # re-enqueues batches whose queued rows are older than SEND_STUCK_AFTER_SECONDS.
    queued_at = models.DateTimeField(_("وقت الدخول في الطابور"), null=True, blank=True)
    # When the ESP call for this row started (status `sending`); the sweeper settles rows
    # whose call started more than SEND_STUCK_AFTER_SECONDS ago as `unknown`.
    sending_at = models.DateTimeField(_("وقت بدء الإرسال"), null=True, blank=True)
    sent_at = models.DateTimeField(_("وقت الإرسال"), null=True, blank=True)
    esp_message_id = models.CharField(_("معرّف الرسالة لدى مزوّد البريد"), max_length=255, blank=True)
    error = models.CharField(_("الخطأ"), max_length=500, blank=True)
    # Latest tracking facts (newsletter.delivery.tracking), first occurrence of each.
    delivered_at = models.DateTimeField(_("وقت التسليم"), null=True, blank=True)
    opened_at = models.DateTimeField(_("وقت الفتح"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("وقت النقر"), null=True, blank=True)
    bounced_at = models.DateTimeField(_("وقت الارتداد"), null=True, blank=True)
    complained_at = models.DateTimeField(_("وقت الشكوى"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("وقت إلغاء الاشتراك"), null=True, blank=True)
    rejected_at = models.DateTimeField(_("وقت الرفض"), null=True, blank=True)
    # The EditionSegment (language, topics) whose email this row was sent, written by the
    # claimed -> sending UPDATE (newsletter.delivery.rows.to_sending): no key, no index, so that
    # update stays HOT and costs nothing more; the roll-up counts per segment from it.
    segment = models.PositiveIntegerField(_("الشريحة"), null=True, blank=True)

    class Meta:
        verbose_name = _("تسليم")
        verbose_name_plural = _("التسليمات")
        constraints = [
            models.UniqueConstraint(fields=["digest", "subscriber"], name="delivery_once_per_edition"),
        ]
        # No index may contain a column the status updates write (status, claimed_at,
        # attempts, sending_at, sent_at, esp_message_id, queued_at): then PostgreSQL updates
        # the row in place on its page (HOT) without touching any index.
        indexes = [
            models.Index(fields=["digest", "batch"], name="delivery_digest_batch"),
        ]

    def __str__(self) -> str:
        numbers = {"digest": digits(self.digest_id), "subscriber": digits(self.subscriber_id)}
        return _("العدد %(digest)s إلى المشترك %(subscriber)s: %(status)s") % {
            **numbers,
            "status": self.get_status_display(),
        }


class Receipt(models.Model):
    """One edition per subscriber per (frequency, local edition date), whichever of the
    edition's waves or explicit sends reaches them first: written in the same statement as the
    Delivery rows (newsletter.delivery.dispatch), so concurrent waves never both take one."""

    # Written only by dispatch's INSERT ... SELECT (under the edition's row lock), deleted with its
    # edition (retention) or subscriber (CASCADE). No database foreign keys: their checks cost about
    # 9 s of a 1,000,000-recipient snapshot (bench/README.md). No index of its own on subscriber:
    # the unique (subscriber, frequency, edition_date) index leads with it.
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    frequency = models.CharField(max_length=6, choices=Frequency.choices)
    edition_date = models.DateField()
    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)

    class Meta:
        verbose_name = _("إيصال عدد")
        verbose_name_plural = _("إيصالات الأعداد")
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "frequency", "edition_date"], name="receipt_once_per_period"),
        ]
        indexes = [models.Index(fields=["digest"], name="receipt_digest")]

    def __str__(self) -> str:
        return _("المشترك %(subscriber)s: %(frequency)s %(day)s") % {
            "subscriber": digits(self.subscriber_id),
            "frequency": self.get_frequency_display(),
            "day": format_date(self.edition_date, with_weekday=False),
        }


class DeliveryEvent(models.Model):
    """An ESP tracking event, stored once per (esp, event id): a webhook delivered twice
    or out of order changes nothing the second time."""

    esp = models.CharField(_("مزوّد البريد"), max_length=30)
    event_id = models.CharField(_("معرّف الحدث"), max_length=255)
    event_type = models.CharField(_("نوع الحدث"), max_length=20)
    delivery = models.ForeignKey(
        Delivery, verbose_name=_("التسليم"), null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    recipient_hash = models.CharField(_("بصمة المستلم"), max_length=64, blank=True)
    timestamp = models.DateTimeField(_("الوقت"))
    received_at = models.DateTimeField(_("وقت الاستلام"), default=timezone.now, editable=False)
    description = models.CharField(_("الوصف"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("حدث تتبّع")
        verbose_name_plural = _("أحداث التتبّع")
        constraints = [
            models.UniqueConstraint(fields=["esp", "event_id"], name="event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.esp}:{self.event_type}:{self.event_id}"


# The analytics tables and the consent history (their own modules) re-exported: this app's models.
from .analytics.models import (  # noqa: E402
    DailyGrowth,
    EditionSegment,
    EditionStats,
    Engagement,
    StoryClick,
    StoryClickStats,
    SubscriberActivity,
)
from .subscribers.models import ConsentEvent  # noqa: E402

__all__ = ["ConsentEvent", "DailyGrowth", "Delivery", "DeliveryEvent", "Digest", "DigestItem", "EditionSegment"]
__all__ += ["EditionStats", "Engagement", "Frequency", "Language", "StoryClick", "StoryClickStats", "Subscriber"]
__all__ += ["SubscriberActivity", "Suppression"]
