"""Digest (edition) admin for editors: the editions list, the next edition of each frequency as
a draft, item curation (reorder, pin, remove, add by autocomplete), intro/subject/preheader,
a preview at 600 px and 375 px, a test send to the editor, approve and cancel.

Views and actions are thin: every change goes through newsletter.editions (row lock, editable
status, atomic conditional status updates), so two tabs or a double click change nothing twice.
The sending controls (pause/resume/cancel sending, delivery counts) come from
newsletter.admin.deliveries; the live progress box from newsletter.admin.digest_progress."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from newsletter.delivery import controls
from newsletter.editions import compose, curation
from newsletter.editions import conf as editions_conf
from newsletter.editions.models import Digest, Frequency
from newsletter.editions.state import EDITABLE_STATUSES, DigestError
from newsletter.email import render
from newsletter.orchestration import runs, waves
from sitewide import admin_display as display
from sitewide.dates import digits, format_date

from . import segment_preview
from .alerts import AlertEditionsMixin
from .deliveries import DIGEST_SENDING_ACTIONS, DIGEST_SENDING_READONLY
from .digest_form import DigestForm
from .digest_items import DigestItemInline, story_rows
from .digest_progress import EditionProgressViews
from .digest_sending import MAX_TEST_ADDRESSES, EditionSendingViews, TestSendForm, sending_note
from .reader_preview import ReaderPreviewViews
from .reports import DigestReportsMixin
from .subject_test import SubjectTestViews

# The edition's sending section (shown once it left draft/approved), all read-only.
SENDING_FIELDS = [
    "shown_sending_started_at",
    "shown_sent_at",
    "shown_audience_count",
    "shown_sent_count",
    "shown_failed_count",
    "shown_unknown_count",
    *DIGEST_SENDING_READONLY,
]


@admin.register(Digest)
# Dates, times and counts in the email's numeral and date style (sitewide.admin_display).
@display.shown(
    Digest,
    "period_start",
    "period_end",
    "scheduled_for",
    "approved_at",
    "sending_started_at",
    "sent_at",
    "audience_count",
    "sent_count",
    "failed_count",
    "unknown_count",
)
class DigestAdmin(
    AlertEditionsMixin,
    DigestReportsMixin,
    EditionProgressViews,
    EditionSendingViews,
    ReaderPreviewViews,
    SubjectTestViews,
    admin.ModelAdmin,
):
    form = DigestForm
    inlines = [DigestItemInline]
    list_display = [
        "__str__",
        "frequency",
        "edition_day",
        "status_label",
        "story_count",
        "shown_audience_count",
        "shown_sent_count",
        "shown_failed_count",
        "figures",
        "approved_by",
    ]
    list_filter = ["status", "frequency"]
    list_select_related = ["approved_by"]
    date_hierarchy = "edition_date"
    show_full_result_count = False
    list_per_page = 50
    actions = ["approve_selected", "cancel_selected", *DIGEST_SENDING_ACTIONS]
    change_form_template = "admin/newsletter/digest/change_form.html"
    change_list_template = "admin/newsletter/digest/change_list.html"
    readonly_fields: ClassVar[list[Any]] = [
        "frequency",
        "edition_day",
        "status_label",
        "effective_subject",
        "shown_period_start",
        "shown_period_end",
        "shown_scheduled_for",
        "approved_by",
        "shown_approved_at",
        *SENDING_FIELDS,
    ]

    def get_fieldsets(self, request: HttpRequest, obj: Digest | None = None) -> Any:
        fieldsets: list[tuple[Any, dict[str, Any]]] = [
            (None, {"fields": ["frequency", "edition_day", "status_label", "shown_scheduled_for"]}),
            (
                _("النص"),
                {
                    "fields": ["effective_subject", "subject", "preheader", "intro", "intro_en"],
                    "description": _("اترك العنوان فارغًا ليُولَّد من تاريخ العدد وأول قصة."),
                },
            ),
            (
                _("الفترة والاعتماد"),
                {"fields": ["shown_period_start", "shown_period_end", "approved_by", "shown_approved_at"]},
            ),
        ]
        if obj is None or obj.status in EDITABLE_STATUSES:
            # Nothing was sent yet: the sending times and counts would all be empty or zero (and
            # the delivery report is a query over the edition's deliveries).
            return fieldsets
        fieldsets.append(
            (
                _("الإرسال"),
                {"fields": SENDING_FIELDS},
            )
        )
        return fieldsets

    def get_queryset(self, request: HttpRequest) -> QuerySet[Digest]:
        return super().get_queryset(request).annotate(_stories=Count("items", filter=Q(items__removed=False)))

    # --- Permissions: editions are made by compose/next_draft, never typed in ------------------
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Digest | None = None) -> bool:
        if obj is not None and obj.status not in (
            *EDITABLE_STATUSES,
            Digest.Status.SKIPPED,
            Digest.Status.CANCELLED,
        ):
            return False
        return super().has_delete_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Digest | None = None) -> bool:
        if obj is not None and obj.status not in EDITABLE_STATUSES:
            return False  # shown read-only once it is sending, sent, cancelled or skipped
        return super().has_change_permission(request, obj)

    # --- Columns ------------------------------------------------------------------------------
    @admin.display(description=_("الحالة"), ordering="status")
    def status_label(self, obj: Digest) -> str:
        if runs.is_waiting_for_approval(obj):
            return format_html("{} — <strong>{}</strong>", obj.get_status_display(), _("بانتظار الاعتماد"))
        if obj.status == Digest.Status.SKIPPED and obj.skip_reason:
            return format_html("{} — {}", obj.get_status_display(), obj.skip_reason)
        return obj.get_status_display()

    @admin.display(description=_("تاريخ العدد"), ordering="edition_date")
    def edition_day(self, obj: Digest) -> str:
        # The email's style (sitewide/dates.py), not Django's: one numeral style everywhere.
        return format_date(obj.edition_date, with_weekday=False)

    @admin.display(description=_("القصص"), ordering="_stories")
    def story_count(self, obj: Digest) -> str:
        return digits(getattr(obj, "_stories", 0))

    @admin.display(description=_("العنوان كما سيُرسل"))
    def effective_subject(self, obj: Digest) -> str:
        if obj.subject:
            return obj.subject
        # render_change_form sets first_story_title from the rows the page already loaded.
        title = getattr(obj, "first_story_title", None)
        if title is None:
            first = obj.items.filter(removed=False).select_related("article").order_by("position", "id").first()
            title = first.article.title if first else ""
        return render.default_subject(obj, title, language=settings.LANGUAGE_CODE)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any | None = None,
    ) -> HttpResponse:
        digest = context.get("original")
        if digest is not None:
            # The story rows are loaded once, by the inline (articles and sections joined); the
            # facts, the repeat warning and the subject as sent are all taken from them.
            rows: list[Any] | None = None
            for inline_formset in context.get("inline_admin_formsets", []):
                if isinstance(inline_formset.opts, DigestItemInline):
                    rows = [form.instance for form in inline_formset.formset.initial_forms]
                    inline_formset.opts.facts_cache[digest.pk] = facts = curation.story_facts(digest, items=rows)
            if rows is None:
                facts = curation.story_facts(digest)
            repeated = curation.repeated_unpinned(digest, facts, items=rows)
            context["repeated"] = [item.article.title for item in repeated]
            if rows is not None:
                active = sorted((row for row in rows if not row.removed), key=lambda row: (row.position, row.pk))
                digest.first_story_title = active[0].article.title if active else ""
            context["may_test_send"] = admin.ModelAdmin.has_change_permission(self, request)
            context["test_form"] = TestSendForm(
                initial={"addresses": getattr(request.user, "email", "")}, frequency=digest.frequency
            )
            context["max_test_addresses"] = MAX_TEST_ADDRESSES
            context["waves"] = waves.waves_of(digest)
            context["sending_note"] = sending_note(digest)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def get_inline_formsets(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        return story_rows(super().get_inline_formsets(request, *args, **kwargs))

    # --- Saving: through newsletter.editions.curation ----------------------------------------
    def save_model(self, request: HttpRequest, obj: Digest, form: Any, change: bool) -> None:
        data = form.cleaned_data
        texts = {name: data[name] for name in ("subject", "preheader", "intro", "intro_en")}
        curation.set_texts(digest_id=obj.pk, **texts)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Apply the item rows: added articles (pinned, so a recomposition keeps them), removals,
        pins, then the order of the posted position fields."""
        digest_id = form.instance.pk
        ordered: list[tuple[int, int, int]] = []  # (posted position, row, item id)
        # What the admin's history entry lists (ModelAdmin.construct_change_message reads these).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row, item_form in enumerate(formset.forms):
            data = getattr(item_form, "cleaned_data", None) or {}
            item = item_form.instance
            if not data.get("article"):
                continue
            if item.pk is None:  # a new row: the article goes at its posted place, pinned
                added = curation.add_article(digest_id=digest_id, article_id=data["article"].pk)
                formset.new_objects.append(added)
                ordered.append((10_000 + (data.get("position") or 0), row, added.pk))
                continue
            if item_form.has_changed():
                formset.changed_objects.append((item, item_form.changed_data))
            was_removed = item_form.initial.get("removed", False)
            if data["removed"] and not was_removed:
                curation.remove(digest_id=digest_id, article_id=item.article_id)
                continue
            if not data["removed"] and was_removed:
                curation.add_article(digest_id=digest_id, article_id=item.article_id)  # brought back
            elif data["pinned"] != item_form.initial.get("pinned", False):
                pin = curation.pin if data["pinned"] else curation.unpin
                pin(digest_id=digest_id, article_id=item.article_id)
            if not data["removed"] and data.get("for_everyone", False) != item_form.initial.get("for_everyone", False):
                curation.set_for_everyone(
                    digest_id=digest_id, article_id=item.article_id, for_everyone=data.get("for_everyone", False)
                )
            if not data["removed"]:
                ordered.append((data.get("position") or 0, row, item.pk))
        curation.set_positions(digest_id=digest_id, item_ids=[pk for _, _, pk in sorted(ordered)])

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    # --- List actions -------------------------------------------------------------------------
    @admin.action(description=_("اعتماد الأعداد المحددة"), permissions=["change"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Digest]) -> None:
        for digest in queryset:
            self._approve(request, digest)

    @admin.action(description=_("إلغاء الأعداد المحددة (قبل الإرسال)"), permissions=["change"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[Digest]) -> None:
        editable = queryset.filter(status__in=EDITABLE_STATUSES).values_list("pk", flat=True)
        done = sum(controls.cancel(digest_id=pk).cancelled for pk in editable)
        self.message_user(request, _("الأعداد التي أُلغيت: %(count)s") % {"count": digits(done)}, messages.SUCCESS)

    def _approve(self, request: HttpRequest, digest: Digest) -> None:
        try:
            approved = curation.approve(digest, request.user)
        except DigestError as exc:
            self.message_user(request, f"{digest}: {exc}", messages.ERROR)
            return
        if not approved:
            self.message_user(request, _("%(digest)s: لم يُعتمد (ليس مسودة).") % {"digest": digest}, messages.WARNING)
            return
        outcome = runs.release_if_due(digest)
        if outcome is not None and outcome.result == runs.RunResult.DISPATCHED:
            self.message_user(
                request, _("%(digest)s: اعتُمد وبدأ إرساله لأن موعده مضى.") % {"digest": digest}, messages.SUCCESS
            )
        else:
            self.message_user(request, _("%(digest)s: اعتُمد.") % {"digest": digest}, messages.SUCCESS)

    # --- Custom views -------------------------------------------------------------------------
    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("next/<str:frequency>/", wrap(require_POST(self.next_view)), name="newsletter_digest_next"),
            path("<int:pk>/preview/", wrap(self.preview_view), name="newsletter_digest_preview"),
            path("schedule/", wrap(self.schedule_view), name="newsletter_digest_schedule"),
            path("<int:pk>/send/", wrap(self.send_view), name="newsletter_digest_send"),
            path("<int:pk>/refresh/", wrap(require_POST(self.refresh_view)), name="newsletter_digest_refresh"),
            path("<int:pk>/send-test/", wrap(require_POST(self.send_test_view)), name="newsletter_digest_send_test"),
            path("<int:pk>/approve/", wrap(require_POST(self.approve_view)), name="newsletter_digest_approve"),
            path("<int:pk>/unapprove/", wrap(require_POST(self.unapprove_view)), name="newsletter_digest_unapprove"),
            path("<int:pk>/cancel/", wrap(require_POST(self.cancel_view)), name="newsletter_digest_cancel"),
            *super().get_urls(),
        ]

    def _change_url(self, digest: Digest) -> str:
        return reverse("admin:newsletter_digest_change", args=[digest.pk])

    def _get(self, request: HttpRequest, pk: int, *, change: bool) -> Digest:
        digest = get_object_or_404(Digest, pk=pk)
        allowed = (
            super().has_change_permission(request, digest) if change else self.has_view_permission(request, digest)
        )
        if not allowed:
            raise PermissionDenied
        return digest

    def _guard(self, request: HttpRequest, action: Any) -> HttpResponse | None:
        """Run an editor operation, turning DigestError into a message instead of a 500."""
        try:
            action()
        except DigestError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        return None

    def next_view(self, request: HttpRequest, frequency: str) -> HttpResponse:
        if frequency not in Frequency.values:
            raise Http404
        if not super().has_change_permission(request):
            raise PermissionDenied
        digest = runs.next_draft(frequency)
        if digest.status != Digest.Status.DRAFT:
            self.message_user(
                request, _("العدد القادم حالته «%(status)s».") % {"status": digest.get_status_display()}, messages.INFO
            )
        return HttpResponseRedirect(self._change_url(digest))

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        digest = self._get(request, pk, change=False)
        # Any segment (language + topics), each segment's audience and stories, the waves.
        chosen = segment_preview.chosen_segment(request.GET)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": digest,
            "title": _("معاينة: %(digest)s") % {"digest": digest},
            **segment_preview.preview_context(digest, chosen),
            "widths": [600, 375],
            "min_stories": editions_conf.settings().DIGEST_MIN_STORIES,
        }
        return TemplateResponse(request, "admin/newsletter/digest/preview.html", context)

    def refresh_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        digest = self._get(request, pk, change=True)
        self._guard(request, lambda: compose.refresh(digest))
        return HttpResponseRedirect(self._change_url(digest))

    def approve_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        digest = self._get(request, pk, change=True)
        self._approve(request, digest)
        return HttpResponseRedirect(self._change_url(digest))

    def unapprove_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        digest = self._get(request, pk, change=True)
        if not curation.unapprove(digest):
            self.message_user(request, _("لم يعد العدد معتمدًا بانتظار الإرسال."), messages.WARNING)
        return HttpResponseRedirect(self._change_url(digest))

    def cancel_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        digest = self._get(request, pk, change=True)
        if digest.status in EDITABLE_STATUSES and controls.cancel(digest_id=digest.pk).cancelled:
            digest.refresh_from_db()
            self.message_user(request, _("أُلغي العدد."), messages.SUCCESS)
        else:
            self.message_user(
                request,
                _("لا يمكن إلغاء عدد حالته «%(status)s» من هنا.") % {"status": digest.get_status_display()},
                messages.WARNING,
            )
        return HttpResponseRedirect(self._change_url(digest))
