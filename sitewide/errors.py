"""The 403 page, in the reader's or the administrator's language (Arabic first) instead of
Django's bare English "403 Forbidden": inside the admin it keeps the admin's header and
navigation, elsewhere the site's. The admin links only what a user may open
(newsletter.admin.reports), so an editor sees this only by typing an address."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    context = {"title": _("لا صلاحية لك لفتح هذه الصفحة")}
    if request.path.startswith(reverse("admin:index")):
        context = {**admin.site.each_context(request), **context}
        return render(request, "admin/403.html", context, status=403)
    return render(request, "403.html", context, status=403)
