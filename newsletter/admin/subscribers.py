"""Subscriber and suppression admin (owned by the subscriptions work): personal data, so only
superusers and users explicitly granted the newsletter.subscriber permissions see it; the
Editors group gets none of them (Django answers 403).

Built for a million rows: searching uses the LOWER(email) indexes (exact match when the term
contains "@", prefix otherwise), the topic filter is an EXISTS (no DISTINCT over the table),
the paginator counts exactly only up to COUNT_CAP rows and then uses the planner's estimate,
there is no full-table count (show_full_result_count = False), and the per-status counts are
one GROUP BY cached for a minute. Import (newsletter.admin.subscriber_import), export and erase
call newsletter.subscribers.csv_io and newsletter.privacy; the views here only move
files and messages around.

No plain delete: Django's "delete selected" action and the change page's delete button would
drop the row that says an address left, and the next import would add it back as active. Erase
(the list action, or the change page's link) is the one way to remove a subscriber; it keeps the
suppression hash. The old `<id>/delete/` address leads to the erase page. The add and change form
refuse an address that is already a subscriber or suppressed (newsletter.subscribers.forms), and
every save that adds a subscriber or changes a status appends its consent history row, with the
administrator (newsletter.subscribers.consent), shown read-only on the change page.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.db.models.functions import Lower
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from articles.content.models import Section
from newsletter import privacy
from newsletter.subscribers import consent, csv_io
from newsletter.subscribers.addresses import InvalidEmail, email_hash, normalise_email
from newsletter.subscribers.forms import SubscriberAdminForm
from newsletter.subscribers.models import Subscriber, Suppression
from sitewide import admin_display as display
from sitewide.dates import format_datetime, grouped

from .subscriber_import import SubscriberImportViews

COUNT_CAP = 10_000
STATUS_COUNTS_CACHE_KEY = "newsletter:subscriber-status-counts"
STATUS_COUNTS_TTL = 60


class EstimatedCountPaginator(Paginator):
    """Exact count up to COUNT_CAP (a LIMITed subquery), the planner's estimate beyond it, so a
    page of a million-row list never waits for COUNT(*) over the whole table."""

    @cached_property
    def count(self) -> int:
        queryset: QuerySet[Any] = self.object_list  # type: ignore[assignment]  # always a QuerySet in the admin
        exact = queryset[: COUNT_CAP + 1].count()
        if exact <= COUNT_CAP or connection.vendor != "postgresql":
            return exact
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        return max(exact, int(plan[0]["Plan"]["Plan Rows"]))


class TopicFilter(admin.SimpleListFilter):
    title = _("الموضوع")
    parameter_name = "topic"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(str(pk), name) for pk, name in Section.objects.values_list("pk", "name")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> QuerySet[Subscriber]:
        value = self.value()
        if not value or not value.isdigit():
            return queryset
        through = Subscriber.topics.through
        return queryset.filter(Exists(through.objects.filter(subscriber_id=OuterRef("pk"), section_id=int(value))))


def status_counts() -> dict[str, int]:
    counts = cache.get(STATUS_COUNTS_CACHE_KEY)
    if counts is None:
        counts = dict(
            Subscriber.objects.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n")
        )
        cache.set(STATUS_COUNTS_CACHE_KEY, counts, STATUS_COUNTS_TTL)
    return counts


def _stream_csv(queryset: QuerySet[Subscriber] | None, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_io.export_rows(queryset), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


SHOWN_TIMES = (
    "created_at",
    "updated_at",
    "confirmed_at",
    "unsubscribed_at",
    "bounced_at",
    "complained_at",
    "last_confirmation_sent_at",
)


def _shown(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(display.PREFIX + name if name in SHOWN_TIMES else name for name in names)


@admin.register(Subscriber)
# The consent record's times in the numeral and date style (sitewide.dates), on the list and the page.
@display.shown(Subscriber, *SHOWN_TIMES)
class SubscriberAdmin(SubscriberImportViews, admin.ModelAdmin):
    form = SubscriberAdminForm
    status_counts_cache_key = STATUS_COUNTS_CACHE_KEY
    list_display = ("email", "status", "frequency", "language", "source", "shown_created_at", "shown_confirmed_at")
    list_filter = ("status", "frequency", TopicFilter, "alerts", "source", "language")
    search_fields = ("email",)  # shows the box; get_search_results does the index-friendly lookup
    search_help_text = _("عنوان كامل (فيه @) للمطابقة التامة، أو بدايته للبحث بالبادئة.")
    list_select_related = False  # no foreign keys on the list; topics are not listed (M2M)
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50
    ordering = ("-pk",)
    filter_horizontal = ("topics",)  # a handful of sections, never the subscriber table
    actions = ("export_csv", "erase_selected")
    readonly_fields = (
        "uuid",
        "alerts",  # the reader's own opt-in (double opt-in, kept in the consent history): shown, never set here
        "source",
        "consent_text_version",
        "signup_ip_hash",
        "signup_user_agent_hash",
        "confirm_ip_hash",
        *_shown(SHOWN_TIMES),
        "data_export",
        "erase_link",
        "consent_history",
    )
    fieldsets = (
        (None, {"fields": ("email", "name", "status", "frequency", "language", "topics", "alerts")}),
        (
            _("سجل الموافقة"),
            {
                "fields": _shown(
                    (
                        "source",
                        "consent_text_version",
                        "created_at",
                        "confirmed_at",
                        "signup_ip_hash",
                        "signup_user_agent_hash",
                        "confirm_ip_hash",
                        "consent_history",
                    )
                )
            },
        ),
        (
            _("التواريخ"),
            {
                "fields": _shown(
                    (
                        "updated_at",
                        "unsubscribed_at",
                        "bounced_at",
                        "complained_at",
                        "last_confirmation_sent_at",
                        "uuid",
                        "data_export",
                        "erase_link",
                    )
                )
            },
        ),
    )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Subscriber], search_term: str
    ) -> tuple[QuerySet[Subscriber], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        if "@" in term:
            try:
                term = normalise_email(term)
            except InvalidEmail:
                pass
            return queryset.alias(email_lower=Lower("email")).filter(email_lower=term.lower()), False
        # Prefix search on LOWER(email): served by the text_pattern_ops index on PostgreSQL.
        return queryset.alias(email_lower=Lower("email")).filter(email_lower__startswith=term.lower()), False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra_context = extra_context or {}
        counts = status_counts()
        extra_context["status_counts"] = [(label, counts.get(value, 0)) for value, label in Subscriber.Status.choices]
        return super().changelist_view(request, extra_context)

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name="newsletter_subscriber_import"),
            path("export/", wrap(self.export_view), name="newsletter_subscriber_export"),
            path("<int:pk>/export-json/", wrap(self.export_json_view), name="newsletter_subscriber_export_json"),
            path("<int:pk>/erase/", wrap(self.erase_view), name="newsletter_subscriber_erase"),
            *super().get_urls(),
        ]

    @admin.display(description=_("تصدير البيانات"))
    def data_export(self, obj: Subscriber) -> str:
        if not obj.pk:
            return "-"
        url = reverse("admin:newsletter_subscriber_export_json", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("تنزيل كل بيانات المشترك (JSON)"))

    @admin.display(description=_("حذف البيانات"))
    def erase_link(self, obj: Subscriber) -> str:
        if not obj.pk:
            return "-"
        url = reverse("admin:newsletter_subscriber_erase", args=[obj.pk])
        return format_html(
            '<a href="{}" class="deletelink">{}</a>', url, _("حذف بيانات المشترك نهائيًا (الحق في النسيان)")
        )

    @admin.display(description=_("سجل الموافقة"))
    def consent_history(self, obj: Subscriber) -> SafeString | str:
        rows = consent.history(obj) if obj.pk else []
        if not rows:
            return "-"
        head = format_html_join(
            "",
            "<th>{}</th>",
            ((label,) for label in (_("الحدث"), _("الوقت"), _("المصدر"), _("الحالة بعده"), _("السبب"), _("المدير"))),
        )
        statuses = dict(Subscriber.Status.choices)
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    row.get_kind_display(),
                    format_datetime(row.at),
                    row.get_source_display(),
                    statuses.get(row.status, "-"),
                    row.get_reason_display() or "-",
                    row.actor.get_username() if row.actor else "-",
                )
                for row in rows
            ),
        )
        return format_html(
            '<table class="consent-history"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>', head, body
        )

    # --- no plain delete: erase only ------------------------------------------------------------
    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "show_delete": False})

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not object_id.isdigit():
            return HttpResponseRedirect(reverse("admin:newsletter_subscriber_changelist"))
        return HttpResponseRedirect(reverse("admin:newsletter_subscriber_erase", args=[int(object_id)]))

    def save_model(self, request: HttpRequest, obj: Subscriber, form: ModelForm, change: bool) -> None:
        previous = Subscriber.objects.filter(pk=obj.pk).values_list("status", flat=True).first() if change else None
        if not change:
            obj.source = Subscriber.Source.ADMIN
        super().save_model(request, obj, form, change)
        consent.admin_saved(subscriber=obj, previous_status=previous, actor_id=request.user.pk)
        cache.delete(STATUS_COUNTS_CACHE_KEY)

    # --- export -------------------------------------------------------------------------------
    @admin.action(description=_("تصدير المحدَّدين إلى CSV"), permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> StreamingHttpResponse:
        return _stream_csv(queryset, f"subscribers-{timezone.now():%Y%m%d-%H%M}.csv")

    def export_view(self, request: HttpRequest) -> StreamingHttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return _stream_csv(None, f"subscribers-{timezone.now():%Y%m%d-%H%M}.csv")

    def export_json_view(self, request: HttpRequest, pk: int) -> JsonResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        subscriber = Subscriber.objects.filter(pk=pk).first()
        if subscriber is None:
            return JsonResponse({"error": "not found"}, status=404)
        response = JsonResponse(
            privacy.export_subscriber_data(subscriber=subscriber),
            json_dumps_params={"ensure_ascii": False, "indent": 2},
        )
        response["Content-Disposition"] = f'attachment; filename="subscriber-{subscriber.uuid}.json"'
        return response

    # --- erase --------------------------------------------------------------------------------
    def _erase_confirmation(
        self, request: HttpRequest, queryset: QuerySet[Subscriber], *, action: bool
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": _("تأكيد حذف البيانات"),
            "opts": self.model._meta,
            "count": queryset.count(),
            "sample": list(queryset.values_list("email", flat=True)[:20]),
            "action": action,
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/newsletter/subscriber/erase_confirmation.html", context)

    def _erased(self, request: HttpRequest, erased: int) -> None:
        cache.delete(STATUS_COUNTS_CACHE_KEY)
        self.message_user(
            request,
            _("حُذفت البيانات وأضيفت العناوين إلى قائمة الحظر. عدد المشتركين: %(n)s") % {"n": grouped(erased)},
            messages.SUCCESS,
        )

    @admin.action(description=_("حذف بيانات المحدَّدين نهائيًا (الحق في النسيان)"), permissions=["delete"])
    def erase_selected(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> HttpResponse | None:
        if request.POST.get("confirm_erase") == "yes":
            self._erased(request, privacy.erase_many(subscribers=queryset))
            return None
        return self._erase_confirmation(request, queryset, action=True)

    def erase_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """One subscriber's erase, from the change page (GET asks, POST erases)."""
        if not self.has_delete_permission(request):
            raise PermissionDenied
        queryset = Subscriber.objects.filter(pk=pk)
        if not queryset.exists():
            return HttpResponseRedirect(reverse("admin:newsletter_subscriber_changelist"))
        if request.method == "POST" and request.POST.get("confirm_erase") == "yes":
            self._erased(request, privacy.erase_many(subscribers=queryset))
            return HttpResponseRedirect(reverse("admin:newsletter_subscriber_changelist"))
        return self._erase_confirmation(request, queryset, action=False)


@admin.register(Suppression)
@display.shown(Suppression, "created_at")
class SuppressionAdmin(admin.ModelAdmin):
    """Read-only: entries are written by erase and by bounce/complaint tracking."""

    list_display = ("short_hash", "reason", "shown_created_at")
    list_filter = ("reason",)
    search_fields = ("email_hash",)
    search_help_text = _("أدخل عنوان البريد كاملًا: يُبحث ببصمته لا بالعنوان.")
    show_full_result_count = False
    ordering = ("-pk",)

    @admin.display(description=_("البصمة"))
    def short_hash(self, obj: Suppression) -> str:
        return obj.email_hash[:16] + "…"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Suppression], search_term: str
    ) -> tuple[QuerySet[Suppression], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            term = normalise_email(term)
        except InvalidEmail:
            return queryset.none(), False
        return queryset.filter(email_hash=email_hash(term)), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Suppression | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Suppression | None = None) -> bool:
        return False
