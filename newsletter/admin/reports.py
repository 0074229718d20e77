"""Edition reports and the growth dashboard in the admin, as a mixin of the digest ModelAdmin:

    admin/newsletter/digest/<id>/report/       per-edition figures and the story table
    admin/newsletter/digest/<id>/report.csv    the story table as CSV
    admin/newsletter/digest/dashboard/         growth per day, rates per edition, hygiene stages

Editors may open them (the digest view permission): they show counts, titles and URLs, no
personal data. Everything comes from newsletter.analytics.reports (pre-aggregated tables).
"""

from __future__ import annotations

import csv
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _

from ..analytics import charts, hygiene, reports
from ..models import Digest

DASHBOARD_DAYS = 90


class DigestReportsMixin:
    """Adds the report and dashboard views to a ModelAdmin of Digest."""

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

    def report_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self._may_view(request)
        report = reports.edition_report(digest=get_object_or_404(Digest, pk=pk))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": report.digest,
            "title": _("تقرير العدد: %(digest)s") % {"digest": report.digest},
            "report": report,
            "stats": report.stats,
        }
        return TemplateResponse(request, "admin/newsletter/digest/report.html", context)

    def report_csv_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self._may_view(request)
        report = reports.edition_report(digest=get_object_or_404(Digest, pk=pk))
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="edition-{report.digest.pk}-stories.csv"'
        writer = csv.writer(response)
        for row in reports.csv_rows(report):
            writer.writerow(row)
        return response

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        self._may_view(request)
        days = reports.growth(days=DASHBOARD_DAYS)
        rates = reports.edition_rates(days=DASHBOARD_DAYS)
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
                (_("نسبة الفتح"), [100 * (r.open_rate or 0) for r in rates]),
                (_("نسبة النقر"), [100 * (r.click_rate or 0) for r in rates]),
            ]
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("نمو القائمة والتفاعل"),
            "days": [d for d in days if d.signups or d.confirmations or d.unsubscribes or d.bounces or d.complaints],
            "rates": rates,
            "growth_chart": growth_chart,
            "rates_chart": rates_chart,
            "stages": hygiene.sunset_stages(),
            "dashboard_days": DASHBOARD_DAYS,
        }
        return TemplateResponse(request, "admin/newsletter/digest/dashboard.html", context)
