"""DEBUG-only pages listing the development outbox (var/outbox/*.eml) with an HTML preview.

Staff only: the messages carry live confirm, preferences and unsubscribe links, so anyone who
could read them could act for every reader. Not mounted at all with DEBUG off."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_sameorigin


def _outbox() -> Path:
    return Path(settings.EMAIL_OUTBOX_DIR)


@staff_member_required
def outbox_list(request: HttpRequest) -> HttpResponse:
    if not settings.DEBUG:
        raise Http404
    files = sorted(_outbox().glob("*.eml"), reverse=True)[:200]
    messages = []
    for path in files:
        with path.open("rb") as handle:
            parsed = email.message_from_binary_file(handle, policy=email.policy.default)
        messages.append({"name": path.name, "to": parsed["To"], "subject": parsed["Subject"], "date": parsed["Date"]})
    return render(request, "dev/outbox.html", {"messages": messages, "outbox": _outbox()})


@staff_member_required
@xframe_options_sameorigin
def outbox_message(request: HttpRequest, name: str) -> HttpResponse:
    if not settings.DEBUG or "/" in name or not name.endswith(".eml"):
        raise Http404
    path = _outbox() / name
    if not path.is_file():
        raise Http404
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    if request.GET.get("raw"):
        return HttpResponse(path.read_bytes(), content_type="text/plain; charset=utf-8")
    part = parsed.get_body(preferencelist=("html", "plain"))
    content = part.get_content() if part else ""
    if part is not None and part.get_content_type() == "text/plain":
        return HttpResponse(content, content_type="text/plain; charset=utf-8")
    return HttpResponse(content)
