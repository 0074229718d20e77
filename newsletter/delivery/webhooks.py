"""The ESP webhook URLs: anymail's own views, each wrapped so a payload it cannot parse is
answered 400 instead of 500.

Anymail checks basic auth (WEBHOOK_SECRET) and the ESP's signature first, then parses the
payload; a signed payload of the wrong shape (a list where an object belongs, a text timestamp,
a year past 9999) raises inside anymail's parser. Those are bad requests, not server faults: the
ESP should not retry them forever and an operator should not be paged. Database errors are not
caught here (the ESP retries later, which is what we want).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from anymail import urls as anymail_urls
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern

log = logging.getLogger(__name__)

PAYLOAD_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError)


def refuse_unparseable(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PAYLOAD_ERRORS as exc:
            log.warning("webhook %s: unparseable payload refused (%s)", request.path, type(exc).__name__)
            return JsonResponse({"error": "unparseable webhook payload"}, status=400)

    return wrapped


app_name = anymail_urls.app_name
urlpatterns = [
    URLPattern(pattern.pattern, refuse_unparseable(pattern.callback), pattern.default_args, pattern.name)
    for pattern in anymail_urls.urlpatterns
]
