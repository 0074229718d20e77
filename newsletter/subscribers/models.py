"""The consent history table (part of the newsletter app, re-exported by newsletter.models).

One row per consent event of a subscriber: signed up, confirmed, unsubscribed (with a reason),
resubscribed, imported, added by an administrator, bounced, complained, and a pending re-signup
that expired. Rows are appended by the services that change a subscriber's status, in the same
transaction as the change (newsletter.subscribers.consent says who writes what); nothing edits
or deletes them except the reader's optional reason, written once on their latest unsubscribe,
and erase, which deletes the subscriber with its history (only the suppression hash survives).
No raw IP address or user agent: the keyed hashes of newsletter.subscribers.addresses.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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

    class Source(models.TextChoices):
        FORM = "form", _("نموذج الاشتراك")
        ARTICLE_BOX = "article_box", _("صندوق المقال")
        EMBED = "embed", _("نموذج مضمّن")
        IMPORT = "import", _("استيراد")
        ADMIN = "admin", _("لوحة الإدارة")
        LINK = "link", _("رابط في رسالة")
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
