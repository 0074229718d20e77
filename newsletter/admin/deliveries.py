"""Delivery admin and the sending controls shown on an edition.

DIGEST_SENDING_ACTIONS and DIGEST_SENDING_READONLY are imported by the digest admin
(newsletter.admin.digests) so pause/resume/cancel and the per-edition counts live here.
Actions are thin: each calls newsletter.delivery.controls, whose transitions are conditional UPDATEs.

Deliveries show subscriber addresses (personal data): the Editors group has no permission on
Delivery, so only admins see the list; the digest page shows editors counts only.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from newsletter.delivery import controls, counts
from newsletter.delivery.models import Delivery
from newsletter.delivery.sweeper import LIVE_EDITIONS
from newsletter.editions.models import Digest
from newsletter.retention import pruning
from sitewide import admin_display as display
from sitewide.dates import digits, grouped


@admin.action(description=_("إيقاف الإرسال مؤقتًا"), permissions=["change"])
def pause_sending(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Digest]) -> None:
    done = sum(controls.pause(digest_id=pk) for pk in queryset.values_list("pk", flat=True))
    modeladmin.message_user(request, _("الأعداد التي أُوقف إرسالها: %(n)s") % {"n": digits(done)}, messages.SUCCESS)


@admin.action(description=_("استئناف الإرسال"), permissions=["change"])
def resume_sending(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Digest]) -> None:
    resumed = 0
    for pk in queryset.values_list("pk", flat=True):
        if Digest.objects.filter(pk=pk, status=Digest.Status.PAUSED).exists():
            controls.resume(digest_id=pk)
            resumed += 1
    modeladmin.message_user(request, _("الأعداد التي استؤنف إرسالها: %(n)s") % {"n": digits(resumed)}, messages.SUCCESS)


@admin.action(description=_("إلغاء الإرسال (لا يُرسل للباقين)"), permissions=["change"])
def cancel_sending(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Digest]) -> None:
    skipped = 0
    live = [Digest.Status.TESTING, Digest.Status.WAITING, Digest.Status.SENDING, Digest.Status.PAUSED]
    for pk in queryset.filter(status__in=live).values_list("pk", flat=True):
        skipped += controls.cancel(digest_id=pk).skipped
    modeladmin.message_user(
        request, _("أُلغي الإرسال؛ المشتركون الذين لن يصلهم: %(n)s") % {"n": grouped(skipped)}, messages.WARNING
    )


COUNT_LABELS = [
    ("audience", _("الجمهور")),
    ("sent", _("أُرسل")),
    ("failed", _("فشل")),
    ("unknown", _("غير معروف (لا يُعاد إرساله)")),
    ("skipped", _("تُخطّي")),
    ("pending", _("في الطريق")),
    ("delivered", _("سُلّم")),
    ("opened", _("فُتح")),
    ("clicked", _("نُقر")),
    ("bounced", _("ارتد")),
    ("complained", _("شكوى")),
    ("unsubscribed", _("ألغى الاشتراك")),
]


@admin.display(description=_("أرقام الإرسال"))
def delivery_counts(obj: Digest) -> str:
    if not obj or not obj.pk:
        return "-"
    if obj.status in LIVE_EDITIONS:
        # While it sends, the edition's counters (one row), not an aggregate over its rows: on a
        # 1,000,000-recipient edition that scan would run on every view of the page.
        numbers = counts.report_from_counters(obj).as_dict()
    else:
        numbers = pruning.send_report(digest_id=obj.pk).as_dict()
    rows = format_html_join(
        "", "<tr><th>{}</th><td>{}</td></tr>", ((label, digits(numbers.get(key, "-"))) for key, label in COUNT_LABELS)
    )
    table = format_html('<table dir="rtl">{}</table>', rows)
    # The list shows subscribers' addresses: linked only for those who may open it (the digest
    # admin sets this from the request; editors would get a 403).
    if not getattr(obj, "may_view_deliveries", False):
        return table
    link = reverse("admin:newsletter_delivery_changelist") + f"?digest__id__exact={obj.pk}"
    return format_html('{}<p><a href="{}">{}</a></p>', table, link, _("قائمة التسليمات (بحث وتصفية)"))


DIGEST_SENDING_ACTIONS = [pause_sending, resume_sending, cancel_sending]
DIGEST_SENDING_READONLY = [delivery_counts]


# Times and counts on the list and the read-only page in the numeral and date style (sitewide.dates).
SHOWN = [f.name for f in Delivery._meta.concrete_fields if isinstance(f, models.DateTimeField | models.IntegerField)]


@admin.register(Delivery)
@display.shown(Delivery, *SHOWN)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "shown_id",
        "digest",
        "subscriber_email",
        "status",
        "shown_batch",
        "shown_attempts",
        "shown_sent_at",
        "shown_delivered_at",
        "shown_opened_at",
        "shown_bounced_at",
        "error",
    ]
    list_filter = ["status", "digest"]
    search_fields = ["=subscriber__email"]
    raw_id_fields = ["digest", "subscriber"]
    list_select_related = ["digest", "subscriber"]
    show_full_result_count = False
    list_per_page = 100
    ordering = ["-id"]
    fields = readonly_fields = tuple(
        f"{display.PREFIX}{f.name}" if f.name in SHOWN else f.name for f in Delivery._meta.fields
    )

    @admin.display(description=_("البريد"), ordering="subscriber__email")
    def subscriber_email(self, obj: Delivery) -> str:
        return obj.subscriber.email

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows come only from dispatch()

    def has_delete_permission(self, request: HttpRequest, obj: Delivery | None = None) -> bool:
        return False  # the audit trail of who got what
