"""Absolute URLs that go into emails (SITE_URL + path), one place for every per-recipient link."""

from __future__ import annotations

import uuid

from django.urls import reverse

from newsletter.email.links import absolute_url

from .tokens import Purpose, make_token


def confirm_url(subscriber_uuid: uuid.UUID) -> str:
    return absolute_url(reverse("newsletter:confirm", kwargs={"token": make_token(subscriber_uuid, Purpose.CONFIRM)}))


def unsubscribe_url(subscriber_uuid: uuid.UUID) -> str:
    return absolute_url(
        reverse("newsletter:unsubscribe", kwargs={"token": make_token(subscriber_uuid, Purpose.UNSUBSCRIBE)})
    )


def preferences_url(subscriber_uuid: uuid.UUID) -> str:
    return absolute_url(
        reverse("newsletter:preferences", kwargs={"token": make_token(subscriber_uuid, Purpose.PREFERENCES)})
    )


def alerts_unsubscribe_url(subscriber_uuid: uuid.UUID) -> str:
    """An alert's List-Unsubscribe: ends breaking-news alerts only (the digest stays)."""
    return absolute_url(
        reverse("newsletter:alerts-unsubscribe", kwargs={"token": make_token(subscriber_uuid, Purpose.UNSUBSCRIBE)})
    )
