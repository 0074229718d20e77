"""The progress box on an edition's admin page while it sends, mixed into DigestAdmin: sent and
settled out of the audience, the rate since the send began and an estimated finish.

Everything comes from the edition's own counters (newsletter.delivery.status.progress), so a view
costs one primary-key read whatever the size of the list: no count over a 1,000,000-row edition.
static/edition_progress.js fetches `<id>/progress/` (the box alone) every PROGRESS_EVERY_SECONDS
and swaps it in; when the edition stops sending it reloads the page once for the final figures.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from ..delivery import status
from ..delivery.sweeper import LIVE_EDITIONS
from ..models import Digest

PROGRESS_EVERY_SECONDS = 5


def progress_context(digest: Digest, *, now: datetime | None = None) -> dict[str, Any]:
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
    }


class EditionProgressViews(admin.ModelAdmin):
    """Adds the progress box to the change form and its refresh view."""

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/progress/", wrap(self.progress_view), name="newsletter_digest_progress"),
            *super().get_urls(),
        ]

    def progress_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        digest = get_object_or_404(Digest, pk=pk)
        if not self.has_view_permission(request, digest):
            raise PermissionDenied
        # admin_view marks it never_cache: every poll reads the counters afresh.
        return TemplateResponse(
            request, "admin/newsletter/digest/progress.html", {"progress": progress_context(digest)}
        )

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
            context["progress"] = progress_context(digest)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)
