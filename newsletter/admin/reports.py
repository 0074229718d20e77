"""Edition reports and the growth dashboard in the admin, as a mixin of the digest ModelAdmin:

    admin/newsletter/digest/<id>/report/       per-edition figures, personal editions vs hold-out,
                                               and the story rows per segment
    admin/newsletter/digest/<id>/report.csv    the story rows as CSV (with a segment column)
    admin/newsletter/digest/dashboard/         growth per day, rates per edition, personal editions
                                               vs hold-out over 30 days, hygiene stages

Editors may open them (the digest view permission): they show counts, titles and URLs, no
personal data. Everything comes from newsletter.analytics.figures (pre-aggregated tables), the
editions list's figures column too, so every screen shows an edition's figures alike.

Where an editor finds them: the admin index (a "reports" module), the editions list (the
dashboard in its tools, each sent edition's figures linking to its report) and the edition page
(its report and the dashboard in its tools). The edition page links the delivery list only for
those who may open it (it shows addresses: administrators).
"""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from newsletter.analytics import charts, experiment, figures
from newsletter.editions.models import Digest
from newsletter.hygiene import rules
from sitewide.dates import percent

from . import arm_comparison, subject_test

DASHBOARD_DAYS = 90
# Editions that have (or had) deliveries, hence figures: the report is worth a link.
REPORTED_STATUSES = (
    Digest.Status.TESTING,
    Digest.Status.WAITING,
    Digest.Status.SENDING,
    Digest.Status.PAUSED,
    Digest.Status.SENT,
    Digest.Status.CANCELLED,
)


def may_view_deliveries(request: HttpRequest) -> bool:
    return bool(request.user.has_perm("newsletter.view_delivery"))


class DigestReportsMixin:
    """Adds the report and dashboard views to a ModelAdmin of Digest, and their links."""

    admin_site: Any
    model: Any

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("dashboard/", wrap(self.dashboard_view), name="newsletter_digest_dashboard"),
            path("<int:pk>/report/", wrap(self.report_view), name="newsletter_digest_report"),
            path("<int:pk>/report.csv", wrap(self.report_csv_view), name="newsletter_digest_report_csv"),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def _may_view(self, request: HttpRequest) -> None:
        if not self.has_view_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied

    # --- Links ----------------------------------------------------------------------------------
    def get_changelist_instance(self, request: HttpRequest) -> Any:
        """The page's editions get their figures in one query (the `figures` column)."""
        changelist = super().get_changelist_instance(request)  # type: ignore[misc]
        page = list(changelist.result_list)  # evaluated once; the template iterates these objects
        found = figures.figures_for(digest.pk for digest in page)
        for digest in page:
            digest.report_figures = found.get(digest.pk)
        return changelist

    @admin.display(description=gettext_lazy("الأرقام"))
    def figures(self, obj: Digest) -> str:
        found: figures.EditionFigures | None = getattr(obj, "report_figures", None)
        if found is None and obj.status not in REPORTED_STATUSES:
            return "—"
        url = reverse("admin:newsletter_digest_report", args=[obj.pk])
        if found is None:
            return format_html('<a href="{}">{}</a>', url, _("التقرير (لم تُحسب الأرقام بعد)"))
        rate = found.click_rate
        shown = "—" if rate is None else percent(rate)
        if found.deliveries_reported:
            label = _("نقر %(rate)s من الواصلة") % {"rate": shown}
        else:
            label = _("نقر %(rate)s من المُرسلة") % {"rate": shown}
        return format_html('<a href="{}">{}</a>', url, label)

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
            context["report_available"] = digest.status in REPORTED_STATUSES
            # Read by the sending box (newsletter.admin.deliveries.delivery_counts), which only
            # gets the edition: the delivery list is a link only for those who may open it.
            digest.may_view_deliveries = may_view_deliveries(request)
        return super().render_change_form(  # type: ignore[misc]
            request, context, add=add, change=change, form_url=form_url, obj=obj
        )

    # --- Views ----------------------------------------------------------------------------------
    def report_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self._may_view(request)
        report = figures.edition_report(digest=get_object_or_404(Digest, pk=pk))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": report.digest,
            "title": _("تقرير العدد: %(digest)s") % {"digest": report.digest},
            "report": report,
            "figures": report.figures,
            "timing": report.timing,
            # Personal editions vs hold-out: one query more (the edition's EditionArmStats rows).
            "arms": arm_comparison.table(experiment.edition_comparison(digest_id=report.digest.pk)),
            # A subject-line test's variants: each one's figures, the winner and why.
            "subject_test": subject_test.subject_test_context(report.digest, may_change=False)
            if report.digest.test_started_at
            else None,
        }
        return TemplateResponse(request, "admin/newsletter/digest/report.html", context)

    def report_csv_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self._may_view(request)
        report = figures.edition_report(digest=get_object_or_404(Digest, pk=pk))
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="edition-{report.digest.pk}-stories.csv"'
        writer = csv.writer(response)
        for row in figures.csv_rows(report):
            writer.writerow(row)
        return response

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        self._may_view(request)
        growth = figures.growth(days=DASHBOARD_DAYS)
        days = growth.days
        rates = figures.edition_rates(days=DASHBOARD_DAYS)
        growth_chart = charts.bars(
            [
                (_("اشتراكات"), [d.signups for d in days]),
                (_("تأكيدات"), [d.confirmations for d in days]),
                (_("إلغاءات"), [d.unsubscribes for d in days]),
                (_("ارتداد وشكاوى"), [d.bounces + d.complaints for d in days]),
            ]
        )
        rates_chart = charts.bars(
            [
                (_("نسبة الفتح"), [r.figures.human_open_rate or 0 for r in rates]),
                (_("نسبة النقر"), [r.figures.click_rate or 0 for r in rates]),
            ]
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("نمو القائمة والتفاعل"),
            "days": [d for d in days if d.moved],
            "growth_timing": growth.timing,
            "rates": rates,
            "growth_chart": growth_chart,
            "rates_chart": rates_chart,
            "stages": rules.sunset_stages(),
            "dashboard_days": DASHBOARD_DAYS,
            "arms": arm_comparison.table(experiment.recent_comparison(now=timezone.now())),
            "arm_days": experiment.WINDOW_DAYS,
        }
        return TemplateResponse(request, "admin/newsletter/digest/dashboard.html", context)
