"""The subject-line test on an edition's admin page, mixed into DigestAdmin: the editor's subject
lines, test share, wait and winner metric while the edition is editable; once the test started,
its state (sending to the test share, waiting until a time, the winner and why), each variant's
figures and the "choose the winner now" button.

Views are thin: the lines are saved by newsletter.editions.variants (which refuses them once the
test started, saying why) and the winner chosen by newsletter.orchestration.subject_tests (one
conditional transition: a second click changes nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from newsletter.analytics import experiment, variant_stats
from newsletter.editions import variants
from newsletter.editions.models import Digest, SubjectVariant, WinnerMetric
from newsletter.editions.state import EDITABLE_STATUSES, DigestError
from newsletter.orchestration import subject_tests
from sitewide.dates import digits, grouped
from sitewide.mail_merge import reject_mail_merge

from . import arm_comparison

FIELDS = tuple(f"subject_{i}" for i in range(1, SubjectVariant.MAX_VARIANTS + 1))


class SubjectTestForm(forms.Form):
    subject_1 = forms.CharField(label=gettext_lazy("العنوان الأول"), required=False, max_length=200)
    subject_2 = forms.CharField(label=gettext_lazy("العنوان الثاني"), required=False, max_length=200)
    subject_3 = forms.CharField(label=gettext_lazy("العنوان الثالث"), required=False, max_length=200)
    subject_4 = forms.CharField(label=gettext_lazy("العنوان الرابع"), required=False, max_length=200)
    share_percent = forms.IntegerField(label=gettext_lazy("نسبة جمهور الاختبار (٪)"), required=False)
    wait_minutes = forms.IntegerField(label=gettext_lazy("مدة انتظار النتيجة (دقائق)"), required=False)
    metric = forms.ChoiceField(label=gettext_lazy("معيار الفوز"), choices=WinnerMetric.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in FIELDS:  # a subject line is the editor's text: no mail-merge syntax
            self.fields[name].validators = [*self.fields[name].validators, reject_mail_merge]


def initial(digest: Digest) -> dict[str, Any]:
    lines = [variant.subject for variant in variants.subjects(digest)]
    values: dict[str, Any] = {name: lines[i] if i < len(lines) else "" for i, name in enumerate(FIELDS)}
    values.update(
        share_percent=digest.test_share_percent, wait_minutes=digest.test_wait_minutes, metric=digest.test_metric
    )
    return values


@dataclass(frozen=True)
class VariantLine:
    position: str
    subject: str
    recipients: str
    human_openers: str
    clickers: str
    open_rate: arm_comparison.Cell
    click_rate: arm_comparison.Cell
    won: bool


def variant_lines(digest: Digest) -> list[VariantLine]:
    """The variants' table (the edition page and the report): counts and rates with their 95%
    intervals in the page's numerals; "—" without recipients, no interval when too few to tell."""
    return [
        VariantLine(
            position=digits(row.position),
            subject=row.subject,
            recipients=grouped(row.counts.recipients),
            human_openers=grouped(row.counts.human_openers),
            clickers=grouped(row.counts.clickers),
            open_rate=arm_comparison.rate_cell(row.open_rate),
            click_rate=arm_comparison.rate_cell(row.click_rate),
            won=row.won,
        )
        for row in variant_stats.variant_rows(digest)
    ]


def subject_test_context(digest: Digest, *, may_change: bool) -> dict[str, Any]:
    """The box's context: the form while editable, the test's state and figures after."""
    defaults = variants.effective(digest)
    started = digest.test_started_at is not None
    return {
        "editable": digest.status in EDITABLE_STATUSES and not started,
        "may_change": may_change,
        "form": SubjectTestForm(initial=initial(digest)),
        "fields": FIELDS,
        "defaults": defaults,
        "started": started,
        "status": digest.status,
        "status_label": digest.get_status_display(),
        "wait_over_at": subject_tests.wait_over_at(digest),
        "may_choose": may_change and digest.status in (Digest.Status.TESTING, Digest.Status.WAITING),
        "rows": variant_lines(digest) if started else [],
        "min_recipients": grouped(experiment.MIN_RECIPIENTS),
        "min_events": digits(experiment.MIN_EVENTS),
        "metric_label": digest.get_test_metric_display(),
        "reason": digest.get_test_winner_reason_display() if digest.test_winner_reason else "",
        "decided_at": digest.test_decided_at,
    }


class SubjectTestViews(admin.ModelAdmin):
    """Adds the subject-test box to the change form, and its two POST views."""

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/subject-test/",
                wrap(require_POST(self.subject_test_view)),
                name="newsletter_digest_subject_test",
            ),
            path(
                "<int:pk>/choose-winner/",
                wrap(require_POST(self.choose_winner_view)),
                name="newsletter_digest_choose_winner",
            ),
            *super().get_urls(),
        ]

    def _may_change(self, request: HttpRequest) -> bool:
        # The model permission: a testing or waiting edition is shown read-only.
        return admin.ModelAdmin.has_change_permission(self, request)

    def _back(self, digest: Digest) -> HttpResponse:
        return HttpResponseRedirect(
            reverse("admin:newsletter_digest_change", args=[digest.pk]) + "#digest-subject-test"
        )

    def subject_test_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        digest = get_object_or_404(Digest, pk=pk)
        if not self._may_change(request):
            raise PermissionDenied
        form = SubjectTestForm(request.POST)
        if not form.is_valid():
            for field, errors in form.errors.items():
                label = form.fields[field].label if field in form.fields else ""
                for error in errors:
                    self.message_user(request, f"{label}: {error}" if label else str(error), messages.ERROR)
            return self._back(digest)
        data = form.cleaned_data
        try:
            unapproved = variants.set_subject_test(
                digest_id=digest.pk,
                subjects=[data[name] for name in FIELDS],
                share_percent=data["share_percent"],
                wait_minutes=data["wait_minutes"],
                metric=data["metric"],
            )
        except DigestError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return self._back(digest)
        self.message_user(request, _("حُفظت عناوين الاختبار."), messages.SUCCESS)
        if unapproved:
            self.message_user(
                request, _("تغيّرت العناوين فعاد العدد مسودة: اعتمده من جديد قبل الإرسال."), messages.WARNING
            )
        return self._back(digest)

    def choose_winner_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        digest = get_object_or_404(Digest, pk=pk)
        if not self._may_change(request):
            raise PermissionDenied
        if subject_tests.choose_winner(digest_id=digest.pk, now=timezone.now()):
            digest.refresh_from_db()
            self.message_user(
                request,
                _("اختير العنوان الفائز «%(subject)s» وبدأ إرساله إلى الباقين.") % {"subject": digest.subject},
                messages.SUCCESS,
            )
        else:
            digest.refresh_from_db()
            self.message_user(
                request,
                _("لم يتغير شيء: العدد حالته «%(status)s».") % {"status": digest.get_status_display()},
                messages.WARNING,
            )
        return self._back(digest)

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
            context["subject_test"] = subject_test_context(digest, may_change=self._may_change(request))
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)
