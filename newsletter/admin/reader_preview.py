"""Personal editions on the edition page (issue 25), mixed into DigestAdmin: "preview as a
reader" (a subscriber's address or id -> the email that reader will get and why each story is
there) and the count of distinct emails the send will make, computed on request in a task and
shown with the time it was computed (newsletter.personal.preview says why on request).

Who sees what: anyone who may view editions (the Editors group) may preview a reader, but a
subscriber's address is personal data, shown only to users who may view subscribers
(newsletter.admin.subscribers); everyone else sees "subscriber <id>". A typed address is posted,
never put in a URL (access logs, browser history): the page redirects to the reader's id.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from newsletter.clicks import targets
from newsletter.editions import conf as editions_conf
from newsletter.editions.models import Digest, Language
from newsletter.editions.state import EDITABLE_STATUSES
from newsletter.personal import lists, preview
from newsletter.subscribers.models import Subscriber
from sitewide.dates import digits


class ReaderForm(forms.Form):
    reader = forms.CharField(
        label=_("عنوان المشترك أو رقمه"),
        max_length=320,
        error_messages={"required": _("اكتب عنوان بريد المشترك أو رقمه.")},
    )

    def clean_reader(self) -> Subscriber:
        try:
            return preview.find_reader(self.cleaned_data["reader"])
        except preview.ReaderNotFound as exc:
            if exc.why == preview.NotFound.NO_ID:
                raise forms.ValidationError(
                    gettext("الرقم %(number)s لا يطابق أي مشترك.") % {"number": digits(exc.number)}
                ) from exc
            if exc.why == preview.NotFound.NO_ADDRESS:
                raise forms.ValidationError(gettext("لا مشترك بهذا العنوان.")) from exc
            raise forms.ValidationError(gettext("اكتب عنوان بريد صحيحًا أو رقم مشترك.")) from exc


class ReaderPreviewViews(admin.ModelAdmin):
    """Adds the preview as a reader and the distinct-lists count to the edition's admin."""

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/reader/", wrap(self.reader_preview_view), name="newsletter_digest_reader"),
            path("<int:pk>/lists/", wrap(require_POST(self.count_lists_view)), name="newsletter_digest_count_lists"),
            *super().get_urls(),
        ]

    def _viewable(self, request: HttpRequest, pk: int) -> Digest:
        digest = get_object_or_404(Digest, pk=pk)
        if not self.has_view_permission(request, digest):
            raise PermissionDenied
        return digest

    def _may_see_addresses(self, request: HttpRequest) -> bool:
        return self.admin_site.get_model_admin(Subscriber).has_view_permission(request)

    def reader_preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        digest = self._viewable(request, pk)
        posted = request.method == "POST"
        form = ReaderForm(request.POST if posted else request.GET if "reader" in request.GET else None)
        shown = None
        if form.is_bound and form.is_valid():
            subscriber: Subscriber = form.cleaned_data["reader"]
            if posted:
                return HttpResponseRedirect(f"{request.path}?{urlencode({'reader': subscriber.pk})}")
            shown = preview.reader_preview(digest, subscriber, now=timezone.now())
            if shown.rendered is not None:  # the preview's story links redirect through these
                targets.remember_targets(digest.pk, shown.rendered.click_targets)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": digest,
            "title": _("معاينة كقارئ: %(digest)s") % {"digest": digest},
            "form": form,
            "shown": shown,
            "may_see_address": self._may_see_addresses(request),
            "language": shown.segment.language if shown else "",
            "language_label": Language(shown.segment.language).label if shown else "",
            "editable": digest.status in EDITABLE_STATUSES,
            "widths": [600, 375],
            "min_stories": editions_conf.settings().DIGEST_MIN_STORIES,
        }
        return TemplateResponse(request, "admin/newsletter/digest/reader_preview.html", context)

    def count_lists_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        digest = self._viewable(request, pk)
        if preview.request_count(digest, now=timezone.now()):
            self.message_user(request, gettext("بدأ حساب الرسائل المختلفة؛ تظهر النتيجة هنا حين ينتهي."), messages.INFO)
        else:
            self.message_user(request, gettext("حساب الرسائل المختلفة جارٍ بالفعل."), messages.INFO)
        return HttpResponseRedirect(reverse("admin:newsletter_digest_change", args=[digest.pk]) + "#digest-lists")

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
        if digest is not None and digest.status in EDITABLE_STATUSES:
            # One Redis read, no SQL: the edition page's pinned queries stay as they are.
            context["list_count"] = preview.stored_count(digest)
            context["personal_enabled"] = lists.enabled()
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)
