"""The delivery tables: one Delivery row per (edition, subscriber) with its status and the ESP's
facts, the Receipt ledger (one scheduled edition per subscriber, frequency and local date across
waves), the ESP's tracking events stored once per event id, and the segments (language, topics)
an edition's emails were sent as.

Status changes happen in newsletter.delivery.claims as conditional UPDATEs (the delivery guarantee
in this package's docstring); the constraints here are the last line of defence.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from newsletter.editions.models import Digest, Frequency
from newsletter.subscribers.models import Subscriber
from sitewide.dates import digits, format_date


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
        # The rest of a subject-line test's audience: queued with the winner's subject once it
        # is chosen (newsletter.delivery.subject_split), never a second row.
        HELD = "held", _("بانتظار العنوان الفائز")

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
    # claimed -> sending UPDATE (newsletter.delivery.claims.to_sending): no key, no index, so that
    # update stays HOT and costs nothing more; the roll-up counts per segment from it.
    segment = models.PositiveIntegerField(_("الشريحة"), null=True, blank=True)
    # The reader's arm this month (newsletter.personal.arms: "p" personal, "h" hold-out, "" neither),
    # written by the same claimed -> sending UPDATE: no index, so it stays HOT.
    arm = models.CharField(_("المجموعة"), max_length=1, blank=True, default="", db_default="")
    # The subject line this row gets in a subject-line test (the test share: one of the variants;
    # the rest: the winner). No key check, no index, like `segment`.
    variant = models.ForeignKey(
        "newsletter.SubjectVariant",
        verbose_name=_("العنوان"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )

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


class EditionSegment(models.Model):
    """One segment (language, topics) of an edition as it was sent. The send writes it when a
    batch first renders the segment (newsletter.editions.segments.record): who it is for and its
    stories in the email's order; the roll-up writes its figures (sent, delivered). Delivery
    and StoryClick rows name it by id, so the report gives each segment its own story rows."""

    digest = models.ForeignKey("newsletter.Digest", on_delete=models.CASCADE, related_name="+", db_index=False)
    language = models.CharField(max_length=2)
    sections = models.CharField(max_length=500, blank=True)  # sorted section ids, "3,7"; empty: all
    stories = models.JSONField(default=list)  # article ids; a story's position is its index + 1
    own_stories = models.PositiveSmallIntegerField(default=0)  # the rest: the general list's top-up
    sent = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["digest", "language", "sections"], name="editionsegment_once"),
        ]

    def __str__(self) -> str:
        return f"{self.digest_id}:{self.language}:{self.sections or '*'}"

    @property
    def section_ids(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.sections.split(",") if part)
