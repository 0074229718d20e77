"""Absolute URLs that go into emails (SITE_URL + path), one place for every per-recipient link."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.urls import reverse

from .tokens import Purpose, make_token


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def confirm_url(subscriber_uuid: uuid.UUID) -> str:
    return absolute(reverse("newsletter:confirm", kwargs={"token": make_token(subscriber_uuid, Purpose.CONFIRM)}))


def unsubscribe_url(subscriber_uuid: uuid.UUID) -> str:
    return absolute(
        reverse("newsletter:unsubscribe", kwargs={"token": make_token(subscriber_uuid, Purpose.UNSUBSCRIBE)})
    )


def preferences_url(subscriber_uuid: uuid.UUID) -> str:
    return absolute(
        reverse("newsletter:preferences", kwargs={"token": make_token(subscriber_uuid, Purpose.PREFERENCES)})
    )
