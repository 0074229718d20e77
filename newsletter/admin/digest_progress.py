"""The progress box on an edition's admin page while it sends, mixed into DigestAdmin: sent and
settled out of the audience, the rate since the send began and an estimated finish, and the
buttons that pause, resume and cancel the send (newsletter.delivery.controls).

Everything comes from the edition's own counters (newsletter.delivery.status.progress), so a view
costs one primary-key read whatever the size of the list: no count over a 1,000,000-row edition.
static/edition_progress.js fetches `<id>/progress/` (the box alone) every PROGRESS_EVERY_SECONDS
and swaps it in; when the edition stops sending it reloads the page once for the final figures.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from newsletter.delivery import controls, status
from newsletter.delivery.sweeper import LIVE_EDITIONS
from newsletter.editions.models import Digest
from sitewide.dates import grouped

PROGRESS_EVERY_SECONDS = 5


def progress_context(digest: Digest, *, now: datetime | None = None, may_control: bool = False) -> dict[str, Any]:
    """The box's figures; `may_control`: the viewer may pause, resume and cancel the send there."""
    now = now or timezone.now()
    progress = status.progress(digest)
    finish = progress.estimated_finish(now=now)
    return {
        "live": digest.status in LIVE_EDITIONS,
        "paused": digest.status == Digest.Status.PAUSED,
        "status_label": digest.get_status_display(),
        "sent": digest.sent_count,
        "settled": progress.settled,
        "audience": progress.audience,
        "percent": int(100 * progress.fraction),
        "rate": round(progress.rate_per_second(now=now)),
        "finish": timezone.localtime(finish) if finish else None,
        "url": reverse("admin:newsletter_digest_progress", args=[digest.pk]),
        "every": PROGRESS_EVERY_SECONDS,
        "may_control": may_control and digest.status in LIVE_EDITIONS,
    }


# The send controls of the box (newsletter.delivery.controls), each a POST from the edition page.
SENDING_CONTROLS = ("pause", "resume", "cancel")


class EditionProgressViews(admin.ModelAdmin):
    """Adds the progress box to the change form and its refresh view."""

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/progress/", wrap(self.progress_view), name="newsletter_digest_progress"),
            path(
                "<int:pk>/sending/<str:control>/",
                wrap(require_POST(self.sending_control_view)),
                name="newsletter_digest_sending_control",
            ),
            *super().get_urls(),
        ]

    def _may_control(self, request: HttpRequest) -> bool:
        # The model permission: an edition that is sending is shown read-only (no object change
        # permission), yet an editor may still pause or cancel it.
        return admin.ModelAdmin.has_change_permission(self, request)

    def sending_control_view(self, request: HttpRequest, pk: int, control: str) -> HttpResponse:
        """Pause, resume or cancel the send from the progress box; a second click changes nothing."""
        digest = get_object_or_404(Digest, pk=pk)
        if control not in SENDING_CONTROLS:
            raise Http404
        if not self._may_control(request):
            raise PermissionDenied
        if control == "pause":
            done = controls.pause(digest_id=digest.pk)
            text = _("أُوقف الإرسال مؤقتًا؛ لم يُرسل شيء آخر حتى تستأنفه.")
        elif control == "resume":
            done = digest.status == Digest.Status.PAUSED  # resume() itself moves it only from paused
            controls.resume(digest_id=digest.pk)
            text = _("استؤنف الإرسال لمن لم يصلهم العدد بعد.")
        else:
            result = controls.cancel(digest_id=digest.pk)
            done = result.cancelled
            text = _("أُلغي الإرسال؛ المشتركون الذين لن يصلهم: %(n)s.") % {"n": grouped(result.skipped)}
        if done:
            self.message_user(request, text, messages.SUCCESS)
        else:
            digest.refresh_from_db()
            self.message_user(
                request,
                _("لم يتغير شيء: العدد حالته «%(status)s».") % {"status": digest.get_status_display()},
                messages.WARNING,
            )
        return HttpResponseRedirect(reverse("admin:newsletter_digest_change", args=[digest.pk]))

    def progress_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        digest = get_object_or_404(Digest, pk=pk)
        if not self.has_view_permission(request, digest):
            raise PermissionDenied
        # admin_view marks it never_cache: every poll reads the counters afresh.
        context = {"progress": progress_context(digest, may_control=self._may_control(request))}
        return TemplateResponse(request, "admin/newsletter/digest/progress.html", context)

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
        if digest is not None and digest.status in LIVE_EDITIONS:
            context["progress"] = progress_context(digest, may_control=self._may_control(request))
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)
