"""The breaking-news alerts' admin (newsletter.alerts): the article page's button leads to the
confirmation step (the article, the audience count, or why it may not go), confirming starts the
cancel window (a page with the cancel button and the time the alert leaves), and the alerts'
list, each with its progress and report. Thin: services do the work; the right to send is the
`add_alert` permission, which the Editors group holds (migration 0021)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from articles.content.models import Article
from newsletter.alerts import conf as alerts_conf
from newsletter.alerts import services
from newsletter.alerts.models import Alert
from newsletter.delivery import alert_audience
from newsletter.editions.models import ALERT, Digest
from sitewide.dates import digits, format_datetime


class AlertEditionsMixin:
    """For the editions' ModelAdmin: an alert's edition row opens on its alert page, never on the
    edition page, whose "send now" would skip the cancel window and whose cancel would leave the
    article taken. Its report, progress and the editions list stay the editions' own."""

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        # Decided on the row the edition page loads anyway: no query more for an edition.
        if obj is not None and obj.frequency == ALERT:
            alert_id = Alert.objects.filter(digest_id=obj.pk).values_list("pk", flat=True).first()
            if alert_id is not None:
                return HttpResponseRedirect(reverse("admin:newsletter_alert_window", args=[alert_id]))
        return super().render_change_form(request, context, add, change, form_url, obj)  # type: ignore[misc]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("headline", "created_at", "state", "audience", "sent", "created_by")
    list_select_related = ("digest", "created_by")
    show_full_result_count = False
    ordering = ("-created_at",)

    @admin.display(description=_("الحالة"))
    def state(self, alert: Alert) -> str:
        return str(alert.digest.get_status_display())

    @admin.display(description=_("الجمهور"))
    def audience(self, alert: Alert) -> str:
        return digits(alert.digest.audience_count)

    @admin.display(description=_("أُرسل"))
    def sent(self, alert: Alert) -> str:
        return digits(alert.digest.sent_count)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # an alert starts from its article's page (send_view), never from a blank form

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def may_send(self, request: HttpRequest) -> bool:
        return request.user.has_perm("newsletter.add_alert")

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("send/<int:article_id>/", wrap(self.send_view), name="newsletter_alert_send"),
            path("<int:pk>/window/", wrap(self.window_view), name="newsletter_alert_window"),
            path("<int:pk>/cancel/", wrap(require_POST(self.cancel_view)), name="newsletter_alert_cancel"),
            *super().get_urls(),
        ]

    def _context(self, request: HttpRequest, **extra: Any) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "opts": self.model._meta, **extra}

    def send_view(self, request: HttpRequest, article_id: int) -> HttpResponse:
        """GET: the confirmation step; POST: create the alert and open its cancel window. A refused
        article (unpublished, excluded, deleted, already sent) gets the reason and nothing changes."""
        if not self.may_send(request):
            raise PermissionDenied
        now = timezone.now()
        article = Article.objects.filter(pk=article_id).first()
        refusal = services.refusal(article, now=now)
        if request.method == "POST" and refusal is None:
            try:
                alert = services.alert_create(article_id=article_id, user=request.user)
            except services.AlertRefused as exc:
                refusal = str(exc)
            else:
                return HttpResponseRedirect(reverse("admin:newsletter_alert_window", args=[alert.pk]))
        context = self._context(
            request,
            title=_("إرسال تنبيه عاجل"),
            article=article,
            refusal=refusal,
            audience=alert_audience.count(now=now) if refusal is None else 0,
            wait=alerts_conf.settings().ALERT_CANCEL_SECONDS,  # shown in numerals by the template
            per_day=digits(alerts_conf.settings().ALERTS_PER_DAY),
        )
        status = 400 if request.method == "POST" and refusal else 200
        return TemplateResponse(request, "admin/newsletter/alert/send.html", context, status=status)

    def window_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The cancel window: when the alert leaves and a cancel button while it waits."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        alert = get_object_or_404(Alert.objects.select_related("digest"), pk=pk)
        digest = alert.digest
        waiting = digest.status == Digest.Status.APPROVED
        context = self._context(
            request,
            title=_("تنبيه عاجل: %(headline)s") % {"headline": alert.headline},
            alert=alert,
            digest=digest,
            waiting=waiting and self.may_send(request),
            leaves_at=format_datetime(timezone.localtime(digest.send_at)) if digest.send_at else "",
            progress_url=reverse("admin:newsletter_digest_progress", args=[digest.pk]),
            report_url=reverse("admin:newsletter_digest_report", args=[digest.pk]),
        )
        return TemplateResponse(request, "admin/newsletter/alert/window.html", context)

    def cancel_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.may_send(request):
            raise PermissionDenied
        if services.alert_cancel(alert_id=pk):
            self.message_user(request, _("أُلغي التنبيه: لم يُرسل شيء."), messages.SUCCESS)
        else:
            self.message_user(request, _("لم يُلغَ التنبيه: بدأ إرساله أو أُلغي من قبل."), messages.WARNING)
        return HttpResponseRedirect(reverse("admin:newsletter_alert_window", args=[pk]))
