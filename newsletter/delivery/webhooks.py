"""The ESP webhook URLs: anymail's tracking views, mounted for the configured ESP only, each
wrapped so a payload it cannot parse is answered 400 instead of 500.

Only the ESP this deployment sends through answers (WEBHOOK_ESP, by default the ESP of
EMAIL_BACKEND); every other ESP's URL is a 404. Otherwise a provider whose webhooks carry no
signature of their own (Postmark) would accept a forged complaint on a Mailgun deployment, and
one POST per delivery id could suppress the whole list. Inbound-mail endpoints are never
mounted: the product receives no mail. Basic auth (ANYMAIL_WEBHOOK_SECRET) is required in
production (config.settings refuses to start without it).

Anymail checks basic auth and the ESP's signature first, then parses the payload; a signed
payload of the wrong shape (a list where an object belongs, a text timestamp, a year past 9999)
raises inside anymail's parser. Those are bad requests, not server faults: the ESP should not
retry them forever and an operator should not be paged. Database errors are not caught here
(the ESP retries later, which is what we want).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from anymail import urls as anymail_urls
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern

from . import esp

log = logging.getLogger(__name__)

PAYLOAD_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError)
TRACKING_SUFFIX = "_tracking_webhook"


def configured_esp() -> str:
    """The ESP whose tracking webhooks answer: WEBHOOK_ESP, else the one EMAIL_BACKEND sends
    through ("" for SMTP and the development outbox: no webhook answers)."""
    explicit = getattr(settings, "WEBHOOK_ESP", "")
    if explicit:
        return str(explicit)
    name = esp.current_profile().name
    return name if name in esp.ESP_NAMES else ""


def only_for(esp_name: str, view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if esp_name != configured_esp():
            raise Http404
        try:
            return view(request, *args, **kwargs)
        except PAYLOAD_ERRORS as exc:
            log.warning("webhook %s: unparseable payload refused (%s)", request.path, type(exc).__name__)
            return JsonResponse({"error": "unparseable webhook payload"}, status=400)

    return wrapped


app_name = anymail_urls.app_name
urlpatterns = [
    URLPattern(
        pattern.pattern,
        only_for(pattern.name.removesuffix(TRACKING_SUFFIX), pattern.callback),
        pattern.default_args,
        pattern.name,
    )
    for pattern in anymail_urls.urlpatterns
    if pattern.name and pattern.name.endswith(TRACKING_SUFFIX)
]
