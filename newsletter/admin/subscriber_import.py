"""The subscriber admin's CSV import pages: upload -> preview -> confirm (newsletter.subscribers.csv_io
does the work; these views only move the file, the preview and the messages around).

The upload waits in the cache between preview and confirmation (not in the session). When the
confirmation is refused because the file has invalid rows and "valid rows only" was not ticked,
the preview stays on the page with the error above the form, so the administrator can tick the
box (or cancel) without uploading the file again.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin, messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from newsletter.subscribers import csv_io
from newsletter.subscribers.forms import ImportUploadForm
from newsletter.subscribers.models import Subscriber

IMPORT_CACHE_PREFIX = "newsletter:subscriber-import:"
IMPORT_CACHE_TTL = 3600
PREVIEW_TEMPLATE = "admin/newsletter/subscriber/import_preview.html"


class SubscriberImportViews(admin.ModelAdmin):
    """Mixed into SubscriberAdmin: `import_view` is mounted at `import/` by its get_urls."""

    status_counts_cache_key = ""  # set by SubscriberAdmin: dropped after an import

    def _import_context(self, request: HttpRequest) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "title": _("استيراد مشتركين من CSV"),
            "opts": Subscriber._meta,
        }

    def _preview_response(
        self, request: HttpRequest, content: bytes, *, key: str, send_confirmation: bool, error: str = ""
    ) -> TemplateResponse:
        preview = csv_io.parse_import(content)
        context = self._import_context(request)
        context.update(
            preview=preview,
            import_key=key,
            counts=preview.counts(),
            error_rows=preview.error_rows[:500],
            send_confirmation=send_confirmation,
            confirm_error=error,
        )
        return TemplateResponse(request, PREVIEW_TEMPLATE, context)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST" and request.POST.get("import_key"):
            return self._import_confirm(request)
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            content = form.cleaned_data["file"].read()
            key = uuid.uuid4().hex
            cache.set(IMPORT_CACHE_PREFIX + key, content, IMPORT_CACHE_TTL)
            return self._preview_response(
                request, content, key=key, send_confirmation=form.cleaned_data["send_confirmation"]
            )
        context = self._import_context(request)
        context["form"] = form
        return TemplateResponse(request, "admin/newsletter/subscriber/import.html", context)

    def _import_confirm(self, request: HttpRequest) -> HttpResponse:
        key = request.POST.get("import_key", "")
        content = cache.get(IMPORT_CACHE_PREFIX + key) if key.isalnum() else None
        if content is None:
            self.message_user(request, _("انتهت مهلة المعاينة؛ ارفع الملف من جديد."), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:newsletter_subscriber_import"))
        send_confirmation = request.POST.get("send_confirmation") == "1"
        try:
            result = csv_io.apply_import(
                content,
                send_confirmation=send_confirmation,
                only_valid_rows=request.POST.get("only_valid_rows") == "1",
                actor_id=request.user.pk,
            )
        except csv_io.ImportRefused as exc:
            return self._preview_response(
                request, content, key=key, send_confirmation=send_confirmation, error=str(exc)
            )
        except ValueError as exc:  # the file itself cannot be read: nothing to preview
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:newsletter_subscriber_import"))
        cache.delete(IMPORT_CACHE_PREFIX + key)
        cache.delete(self.status_counts_cache_key)
        self.message_user(request, csv_io.import_summary(result), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:newsletter_subscriber_changelist"))
