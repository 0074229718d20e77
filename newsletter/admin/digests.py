"""Digest (edition) admin for editors: the editions list, the next edition of each frequency as
a draft, item curation (reorder, pin, remove, add by autocomplete), intro/subject/preheader,
a preview at 600 px and 375 px, a test send to the editor, approve and cancel.

Views and actions are thin: every change goes through newsletter.digests (row lock, editable
status, atomic conditional status updates), so two tabs or a double click change nothing twice.
The sending controls (pause/resume/cancel sending, delivery counts) come from
newsletter.admin.deliveries."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .. import digests, rendering
from ..models import Digest, DigestItem, Frequency, Language
from .deliveries import DIGEST_SENDING_ACTIONS, DIGEST_SENDING_READONLY

TEST_SUBJECT_PREFIX = "[تجربة] "


class DigestForm(forms.ModelForm):
    class Meta:
        model = Digest
        fields = ["subject", "preheader", "intro"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance.pk:
            # Lock the edition for the rest of this save (the admin wraps it in a transaction):
            # sending's draft/approved -> sending UPDATE waits, and nothing changes once it left.
            status = (
                Digest.objects.select_for_update().filter(pk=self.instance.pk).values_list("status", flat=True).first()
            )
            if status not in digests.EDITABLE_STATUSES:
                raise ValidationError(_("لم يعد هذا العدد قابلًا للتعديل (حالته تغيّرت)."))
        return cleaned


class DigestItemInline(admin.TabularInline):
    model = DigestItem
    extra = 1
    fields = ["article", "position", "pinned", "removed", "move_buttons"]
    readonly_fields = ["move_buttons"]
    autocomplete_fields = ["article"]
    ordering = ["removed", "position", "id"]
    verbose_name = _("مادة")
    verbose_name_plural = _("المواد (المثبّتة تبقى عند إعادة التركيب، والمحذوفة لا تعود)")

    def get_queryset(self, request: HttpRequest) -> QuerySet[DigestItem]:
        return super().get_queryset(request).select_related("article", "digest")

    def _editable(self, obj: Digest | None) -> bool:
        return obj is None or obj.status in digests.EDITABLE_STATUSES

    def has_add_permission(self, request: HttpRequest, obj: Digest | None = None) -> bool:
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Digest | None = None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Digest | None = None) -> bool:
        # Deleting an item would let a recomposition bring it back: editors tick "removed".
        return False

    @admin.display(description=_("نقل"))
    def move_buttons(self, obj: DigestItem) -> str:
        if not obj.pk or obj.removed or obj.digest.status not in digests.EDITABLE_STATUSES:
            return ""
        # formaction: these buttons submit the change form's CSRF token to the move view.
        return format_html(
            '<button type="submit" class="button" formaction="{}" formmethod="post" title="{}">▲</button> '
            '<button type="submit" class="button" formaction="{}" formmethod="post" title="{}">▼</button>',
            reverse("admin:newsletter_digest_move", args=[obj.digest_id, obj.pk, "up"]),
            _("إلى الأعلى"),
            reverse("admin:newsletter_digest_move", args=[obj.digest_id, obj.pk, "down"]),
            _("إلى الأسفل"),
        )


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    form = DigestForm
    inlines = [DigestItemInline]
    list_display = [
        "__str__",
        "frequency",
        "edition_date",
        "status_label",
        "story_count",
        "audience_count",
        "sent_count",
        "failed_count",
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
    readonly_fields = [
        "frequency",
        "edition_date",
        "status_label",
        "effective_subject",
        "period_start",
        "period_end",
        "scheduled_for",
        "approved_by",
        "approved_at",
        "sending_started_at",
        "sent_at",
        "audience_count",
        "sent_count",
        "failed_count",
        "unknown_count",
        *DIGEST_SENDING_READONLY,
    ]

    def get_fieldsets(self, request: HttpRequest, obj: Digest | None = None) -> list[tuple[Any, dict[str, Any]]]:
        fieldsets: list[tuple[Any, dict[str, Any]]] = [
            (None, {"fields": ["frequency", "edition_date", "status_label", "scheduled_for"]}),
            (
                _("النص"),
                {
                    "fields": ["effective_subject", "subject", "preheader", "intro"],
                    "description": _("اترك العنوان فارغًا ليُولَّد من تاريخ العدد وأول قصة."),
                },
            ),
            (_("الفترة والاعتماد"), {"fields": ["period_start", "period_end", "approved_by", "approved_at"]}),
            (
                _("الإرسال"),
                {
                    "fields": [
                        "sending_started_at",
                        "sent_at",
                        "audience_count",
                        "sent_count",
                        "failed_count",
                        "unknown_count",
                        *DIGEST_SENDING_READONLY,
                    ]
                },
            ),
        ]
        return fieldsets

    def get_queryset(self, request: HttpRequest) -> QuerySet[Digest]:
        return super().get_queryset(request).annotate(_stories=Count("items", filter=Q(items__removed=False)))

    # --- Permissions: editions are made by compose/next_draft, never typed in ------------------
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Digest | None = None) -> bool:
        if obj is not None and obj.status not in (
            *digests.EDITABLE_STATUSES,
            Digest.Status.SKIPPED,
            Digest.Status.CANCELLED,
        ):
            return False
        return super().has_delete_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Digest | None = None) -> bool:
        if obj is not None and obj.status not in digests.EDITABLE_STATUSES:
            return False  # shown read-only once it is sending, sent, cancelled or skipped
        return super().has_change_permission(request, obj)

    # --- Columns ------------------------------------------------------------------------------
    @admin.display(description=_("الحالة"), ordering="status")
    def status_label(self, obj: Digest) -> str:
        if digests.is_waiting_for_approval(obj):
            return format_html("{} — <strong>{}</strong>", obj.get_status_display(), _("بانتظار الاعتماد"))
        if obj.status == Digest.Status.SKIPPED and obj.skip_reason:
            return format_html("{} — {}", obj.get_status_display(), obj.skip_reason)
        return obj.get_status_display()

    @admin.display(description=_("القصص"), ordering="_stories")
    def story_count(self, obj: Digest) -> int:
        return getattr(obj, "_stories", 0)

    @admin.display(description=_("العنوان كما سيُرسل"))
    def effective_subject(self, obj: Digest) -> str:
        if obj.subject:
            return obj.subject
        first = obj.items.filter(removed=False).select_related("article").order_by("position", "id").first()
        return rendering.default_subject(obj, first.article.title if first else "", language=settings.LANGUAGE_CODE)

    # --- Saving -------------------------------------------------------------------------------
    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        items = formset.save(commit=False)
        for item in items:
            if item.pk is None:
                item.pinned = True  # an article the editor added survives recomposition
                item.position = 10_000 + item.position  # after the current items, unless renumbered
            if item.removed:
                item.pinned = False
            item.save()
        formset.save_m2m()

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        digests.normalise_positions(digest_id=form.instance.pk)

    # --- List actions -------------------------------------------------------------------------
    @admin.action(description=_("اعتماد الأعداد المحددة"), permissions=["change"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Digest]) -> None:
        for digest in queryset:
            self._approve(request, digest)

    @admin.action(description=_("إلغاء الأعداد المحددة (قبل الإرسال)"), permissions=["change"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[Digest]) -> None:
        done = sum(digests.cancel(digest) for digest in queryset)
        self.message_user(request, _("أُلغي %(count)d عدد.") % {"count": done}, messages.SUCCESS)

    def _approve(self, request: HttpRequest, digest: Digest) -> None:
        try:
            approved = digests.approve(digest, request.user)
        except digests.DigestError as exc:
            self.message_user(request, f"{digest}: {exc}", messages.ERROR)
            return
        if not approved:
            self.message_user(request, _("%(digest)s: لم يُعتمد (ليس مسودة).") % {"digest": digest}, messages.WARNING)
            return
        outcome = digests.release_if_due(digest)
        if outcome is not None and outcome.result == digests.RunResult.DISPATCHED:
            self.message_user(
                request, _("%(digest)s: اعتُمد وبدأ إرساله لأن موعده مضى.") % {"digest": digest}, messages.SUCCESS
            )
        else:
            self.message_user(request, _("%(digest)s: اعتُمد.") % {"digest": digest}, messages.SUCCESS)

    # --- Custom views -------------------------------------------------------------------------
    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("next/<str:frequency>/", wrap(self.next_view), name="newsletter_digest_next"),
            path("<int:pk>/preview/", wrap(self.preview_view), name="newsletter_digest_preview"),
            path("<int:pk>/move/<int:item_pk>/<str:direction>/", wrap(self.move_view), name="newsletter_digest_move"),
            path("<int:pk>/refresh/", wrap(self.refresh_view), name="newsletter_digest_refresh"),
            path("<int:pk>/send-test/", wrap(self.send_test_view), name="newsletter_digest_send_test"),
            path("<int:pk>/approve/", wrap(self.approve_view), name="newsletter_digest_approve"),
            path("<int:pk>/unapprove/", wrap(self.unapprove_view), name="newsletter_digest_unapprove"),
            path("<int:pk>/cancel/", wrap(self.cancel_view), name="newsletter_digest_cancel"),
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
        except digests.DigestError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        return None

    def next_view(self, request: HttpRequest, frequency: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405)
        if frequency not in Frequency.values:
            raise Http404
        if not super().has_change_permission(request):
            raise PermissionDenied
        digest = digests.next_draft(frequency)
        if digest.status != Digest.Status.DRAFT:
            self.message_user(
                request, _("العدد القادم حالته «%(status)s».") % {"status": digest.get_status_display()}, messages.INFO
            )
        return HttpResponseRedirect(self._change_url(digest))

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        digest = self._get(request, pk, change=False)
        language = request.GET.get("language", settings.LANGUAGE_CODE)
        if language not in Language.values:
            language = settings.LANGUAGE_CODE
        rendered = _render_for_editor(digest, language=language)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": digest,
            "title": _("معاينة: %(digest)s") % {"digest": digest},
            "rendered": rendered,
            "language": language,
            "languages": Language.choices,
            "widths": [600, 375],
            "min_stories": settings.DIGEST_MIN_STORIES,
        }
        return TemplateResponse(request, "admin/newsletter/digest/preview.html", context)

    def move_view(self, request: HttpRequest, pk: int, item_pk: int, direction: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405)
        digest = self._get(request, pk, change=True)
        if direction not in {"up", "down"}:
            raise Http404
        self._guard(
            request, lambda: digests.move(digest_id=digest.pk, item_id=item_pk, offset=-1 if direction == "up" else 1)
        )
        return HttpResponseRedirect(self._change_url(digest))

    def refresh_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405)
        digest = self._get(request, pk, change=True)
        self._guard(request, lambda: digests.refresh(digest))
        return HttpResponseRedirect(self._change_url(digest))

    def approve_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405)
        digest = self._get(request, pk, change=True)
        self._approve(request, digest)
        return HttpResponseRedirect(self._change_url(digest))

    def unapprove_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405)
        digest = self._get(request, pk, change=True)
        if not digests.unapprove(digest):
            self.message_user(request, _("لم يعد العدد معتمدًا بانتظار الإرسال."), messages.WARNING)
        return HttpResponseRedirect(self._change_url(digest))

    def cancel_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405)
        digest = self._get(request, pk, change=True)
        if digests.cancel(digest):
            self.message_user(request, _("أُلغي العدد."), messages.SUCCESS)
        else:
            self.message_user(
                request,
                _("لا يمكن إلغاء عدد حالته «%(status)s» من هنا.") % {"status": digest.get_status_display()},
                messages.WARNING,
            )
        return HttpResponseRedirect(self._change_url(digest))

    def send_test_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405)
        digest = self._get(request, pk, change=False)
        if not request.user.email:
            self.message_user(request, _("لا بريد إلكتروني في حسابك لإرسال التجربة إليه."), messages.ERROR)
            return HttpResponseRedirect(self._change_url(digest))
        language = request.POST.get("language", settings.LANGUAGE_CODE)
        if language not in Language.values:
            language = settings.LANGUAGE_CODE
        message = build_test_message(digest, to=request.user.email, language=language)
        if message is None:
            self.message_user(
                request,
                _("قصص هذا العدد أقل من الحد الأدنى (%(minimum)d): لا شيء يُرسل.")
                % {"minimum": settings.DIGEST_MIN_STORIES},
                messages.ERROR,
            )
        else:
            message.send()
            self.message_user(
                request, _("أُرسلت نسخة تجريبية إلى %(email)s.") % {"email": request.user.email}, messages.SUCCESS
            )
        return HttpResponseRedirect(self._change_url(digest))


def _editor_links() -> dict[str, str]:
    # An editor is not a subscriber: the per-recipient links point at the public signup page.
    signup = rendering.absolute_url(reverse("newsletter:signup"))
    return dict.fromkeys(rendering.MERGE_FIELDS, signup)


def _render_for_editor(digest: Digest, *, language: str) -> rendering.RenderedEmail | None:
    rendered = rendering.render_digest(digest, rendering.Segment(language=language))
    return None if rendered is None else rendering.merge(rendered, _editor_links())


def build_test_message(digest: Digest, *, to: str, language: str = "ar") -> EmailMultiAlternatives | None:
    """The edition as a subscriber would see it, marked as a test, for the editor's inbox."""
    rendered = _render_for_editor(digest, language=language)
    if rendered is None:
        return None
    message = EmailMultiAlternatives(
        subject=TEST_SUBJECT_PREFIX + rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"X-Newsletter-Test": "1", "Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(rendered.html, "text/html")
    return message
