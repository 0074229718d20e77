"""Signed, purpose-bound tokens for the links in emails.

A token carries the subscriber's public uuid, signed with SECRET_KEY and a salt naming its
purpose, so an unsubscribe token cannot confirm and a tampered token is refused. Confirmation
tokens carry a timestamp and expire (CONFIRMATION_MAX_AGE_DAYS); unsubscribe and preference
tokens do not expire (an old email's unsubscribe link must keep working).
"""
from __future__ import annotations

import enum
import uuid
from datetime import timedelta

from django.conf import settings
from django.core import signing


class Purpose(enum.StrEnum):
    CONFIRM = "confirm"
    UNSUBSCRIBE = "unsubscribe"
    PREFERENCES = "preferences"


class TokenError(Exception):
    """The token is malformed, tampered with, for another purpose, or expired."""


class TokenExpired(TokenError):
    """The signature is good but the token is older than its purpose allows."""


def signer_for(purpose: Purpose) -> signing.Signer:
    """The signer for one purpose; build it once when signing many tokens (a send batch)."""
    salt = f"newsletter.tokens.{purpose.value}"
    if purpose is Purpose.CONFIRM:
        return signing.TimestampSigner(salt=salt)
    return signing.Signer(salt=salt)


def make_token(subscriber_uuid: uuid.UUID, purpose: Purpose) -> str:
    return signer_for(purpose).sign(subscriber_uuid.hex)


def read_token(token: str, purpose: Purpose, *, allow_expired: bool = False) -> uuid.UUID:
    """Return the subscriber uuid the token was made for, or raise TokenError/TokenExpired.

    allow_expired=True still checks the signature and purpose but not the age: used only to
    offer a fresh confirmation link for an expired one (it never confirms anything)."""
    if not isinstance(token, str) or len(token) > 200:
        raise TokenError("malformed token")
    signer = signer_for(purpose)
    try:
        if isinstance(signer, signing.TimestampSigner) and not allow_expired:
            value = signer.unsign(token, max_age=timedelta(days=settings.CONFIRMATION_MAX_AGE_DAYS))
        else:
            value = signer.unsign(token)
    except signing.SignatureExpired as exc:
        raise TokenExpired(str(exc)) from exc
    except signing.BadSignature as exc:
        raise TokenError(str(exc)) from exc
    try:
        return uuid.UUID(hex=value)
    except ValueError as exc:
        raise TokenError("malformed token payload") from exc
