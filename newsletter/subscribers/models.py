"""The subscribers' tables: the subscriber (one per address), the suppression list (hashes of
addresses that must never be mailed again, kept after erase), the append-only consent history and
each subscriber's activity (last human open and click, the list-hygiene stages).

CONSENT HISTORY. One row per consent event of a subscriber: signed up, confirmed, unsubscribed
(with a reason), resubscribed, imported, added by an administrator, bounced, complained, and a
pending re-signup that expired. Rows are appended by the services that change a subscriber's
status, in the same transaction as the change (newsletter.subscribers.consent says who writes
what); nothing edits or deletes them except the reader's optional reason, written once on their
latest unsubscribe, and erase, which deletes the subscriber with its history (only the
suppression hash survives). No raw IP address or user agent: the keyed hashes of
newsletter.subscribers.addresses.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from newsletter.editions.models import Frequency, Language
from sitewide.dates import digits


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
    # edition hour of this zone (newsletter.orchestration.waves). Blank means the site's TIME_ZONE.
    time_zone = models.CharField(_("المنطقة الزمنية"), max_length=64, blank=True)
    # "رتّب نشرتي حسب ما أقرؤه": off, the reader gets the edition's order and no history is kept.
    personal_order = models.BooleanField(_("ترتيب شخصي للنشرة"), default=True, db_default=True)
    # "تنبيهات الأخبار العاجلة" (newsletter.alerts): takes effect once the reader is confirmed.
    alerts = models.BooleanField(_("تنبيهات الأخبار العاجلة"), default=False, db_default=False)
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
            # An alert's audience snapshot: confirmed readers who opted into alerts, in id order.
            models.Index(
                fields=["id"],
                condition=models.Q(status="active", alerts=True),
                name="subscriber_alerts_audience",
            ),
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


class ConsentEvent(models.Model):
    class Kind(models.TextChoices):
        SIGNED_UP = "signed_up", _("طلب الاشتراك")
        CONFIRMED = "confirmed", _("أكّد الاشتراك")
        UNSUBSCRIBED = "unsubscribed", _("ألغى الاشتراك")
        RESUBSCRIBED = "resubscribed", _("عاد إلى القائمة")
        IMPORTED = "imported", _("استُورد")
        ADDED_BY_ADMIN = "added_by_admin", _("أضافه مدير")
        BOUNCED = "bounced", _("ارتدّ البريد")
        COMPLAINED = "complained", _("أبلغ عن رسالة مزعجة")
        EXPIRED = "expired", _("انتهت مهلة التأكيد")
        # The breaking-news alerts list (newsletter.alerts), a consent of its own.
        ALERTS_ON = "alerts_on", _("طلب التنبيهات العاجلة")
        ALERTS_OFF = "alerts_off", _("أُوقفت التنبيهات العاجلة")

    class Source(models.TextChoices):
        FORM = "form", _("نموذج الاشتراك")
        ARTICLE_BOX = "article_box", _("صندوق المقال")
        EMBED = "embed", _("نموذج مضمّن")
        IMPORT = "import", _("استيراد")
        ADMIN = "admin", _("لوحة الإدارة")
        LINK = "link", _("رابط في رسالة")
        PREFERENCES = "preferences", _("صفحة التفضيلات")
        ESP = "esp", _("مزوّد البريد")
        HYGIENE = "hygiene", _("تنظيف القائمة")
        HISTORY = "history", _("من البيانات السابقة")

    class Reason(models.TextChoices):
        # The reader's choices on the unsubscribed page (newsletter.subscribers.forms).
        TOO_MANY = "too_many", _("تصلني رسائل كثيرة")
        NOT_RELEVANT = "not_relevant", _("المحتوى لا يهمني")
        NEVER_SIGNED_UP = "never_signed_up", _("لم أشترك في هذه النشرة")
        OTHER = "other", _("سبب آخر")
        # Written by the system.
        INACTIVE = "inactive", _("غير نشط")

    subscriber = models.ForeignKey(
        "newsletter.Subscriber",
        verbose_name=_("المشترك"),
        on_delete=models.CASCADE,
        related_name="consent_events",
        db_index=False,  # the (subscriber, at) index leads with it
    )
    kind = models.CharField(_("الحدث"), max_length=16, choices=Kind.choices)
    at = models.DateTimeField(_("الوقت"), default=timezone.now)
    source = models.CharField(_("المصدر"), max_length=12, choices=Source.choices)
    # The subscriber's status right after the event ("" for rows rebuilt by migration 0013).
    status = models.CharField(_("الحالة بعده"), max_length=12, blank=True)
    reason = models.CharField(_("السبب"), max_length=16, choices=Reason.choices, blank=True)
    consent_text_version = models.CharField(_("نسخة نص الموافقة"), max_length=32, blank=True)
    ip_hash = models.CharField(_("بصمة عنوان الشبكة"), max_length=64, blank=True)
    user_agent_hash = models.CharField(_("بصمة المتصفح"), max_length=64, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("المدير"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("حدث موافقة")
        verbose_name_plural = _("سجل الموافقة")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["subscriber", "at", "id"], name="consent_event_history")]

    def __str__(self) -> str:
        return f"{self.subscriber_id}:{self.kind}"


class SubscriberActivity(models.Model):
    """Last signs of life of a subscriber and where the hygiene policies stand for them."""

    class Reason(models.TextChoices):
        INACTIVE = "inactive", _("غير نشط")

    subscriber = models.OneToOneField(
        "newsletter.Subscriber", on_delete=models.CASCADE, primary_key=True, related_name="activity"
    )
    last_open_at = models.DateTimeField(null=True, blank=True)
    last_click_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)  # pending: the one reminder
    reengage_sent_at = models.DateTimeField(null=True, blank=True)  # sunset: "still want this?"
    unsubscribe_reason = models.CharField(max_length=12, choices=Reason.choices, blank=True)

    def __str__(self) -> str:
        return str(self.subscriber_id)


class StoryFeedback(models.Model):
    """A reader's "more / less like this" on one story of an edition they received, their latest
    choice for it (newsletter.subscribers.feedback). Personal data: deleted with the subscriber,
    kept PERSONAL_HISTORY_DAYS, no IP address or user agent."""

    class Choice(models.TextChoices):
        MORE = "more", _("المزيد مثل هذا")
        LESS = "less", _("أقل من هذا")

    subscriber = models.ForeignKey(
        "newsletter.Subscriber", verbose_name=_("المشترك"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    digest = models.ForeignKey("newsletter.Digest", on_delete=models.CASCADE, related_name="+", db_index=False)
    article = models.ForeignKey("articles.Article", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    choice = models.CharField(_("الاختيار"), max_length=4, choices=Choice.choices)
    at = models.DateTimeField(_("الوقت"), default=timezone.now)

    class Meta:
        verbose_name = _("رأي في خبر")
        verbose_name_plural = _("آراء القرّاء في الأخبار")
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "digest", "article"], name="story_feedback_once"),
        ]
        indexes = [
            # The edition report counts readers per story and choice.
            models.Index(fields=["digest", "article", "choice"], name="story_feedback_report"),
            models.Index(fields=["at"], name="story_feedback_at"),
        ]

    def __str__(self) -> str:
        return f"{self.choice}: {self.article_id}"


class LessLikeThis(models.Model):
    """A section or tag a reader asked for less of: the personal ranking counts it much less for
    them until they ask for more of it or undo it in the preference center."""

    class Kind(models.TextChoices):
        SECTION = "section", _("قسم")
        TAG = "tag", _("وسم")

    subscriber = models.ForeignKey("newsletter.Subscriber", on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=7, choices=Kind.choices)
    target_id = models.BigIntegerField()  # the section's or tag's id (a deleted one is skipped)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("طلب أقل من هذا")
        verbose_name_plural = _("طلبات أقل من هذا")
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "kind", "target_id"], name="less_like_this_once"),
        ]
        indexes = [models.Index(fields=["at"], name="less_like_this_at")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.target_id}"
