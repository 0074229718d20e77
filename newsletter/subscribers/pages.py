"""What the subscriber pages share (newsletter.subscribers.views and unsubscribe_views): the
client IP behind trusted proxies, the "invalid link" page, and resolving a signed link's token to
its subscriber (tampered, cross-purpose and erased all answer the same 404)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from sitewide.client_ip import client_ip

from .models import Subscriber
from .tokens import Purpose, TokenError, make_token, read_token


def request_ip(request: HttpRequest) -> str:
    # X-Forwarded-For is believed only from TRUSTED_PROXIES (sitewide.client_ip): the same client
    # IP feeds the signup limits, the consent hashes and read counting.
    return client_ip(request.META)


def invalid_link(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "newsletter/message.html",
        {"title": _("رابط غير صالح"), "body": _("هذا الرابط غير صالح. تأكد من نسخه كاملًا من الرسالة.")},
        status=404,
    )


def subscriber_for(token: str, purpose: Purpose) -> Subscriber | None:
    """The subscriber a valid token names; raises TokenError/TokenExpired, None if erased."""
    return Subscriber.objects.filter(uuid=read_token(token, purpose)).first()


def preferences_token(subscriber: Subscriber) -> str:
    return make_token(subscriber.uuid, Purpose.PREFERENCES)


def with_subscriber(purpose: Purpose) -> Callable[..., Any]:
    """Resolve the token to a subscriber or answer 404 (tampered, cross-purpose, erased)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, token: str, **kwargs: Any) -> HttpResponse:
            try:
                subscriber = subscriber_for(token, purpose)
            except TokenError:
                return invalid_link(request)
            if subscriber is None:
                return invalid_link(request)
            return view(request, token, subscriber, **kwargs)

        return wrapped

    return decorator
