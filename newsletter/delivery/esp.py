"""What the sending pipeline needs to know about the configured email backend, as data.

One table (ESP_PROFILES) says, per EMAIL_BACKEND: how many recipients one batch task takes and,
when the ESP can personalise one API call for many recipients (anymail batch sending with
`merge_data` and per-recipient `merge_headers`), the ESP's on-the-fly merge-field syntax.
Backends missing from the table (SMTP, the development outbox, locmem, console) are sent one
personalised message per recipient over one shared connection.

`classify_error()` is the one place deciding whether a failed send may be retried: only when the
ESP clearly did not accept the request (connection refused, connect timeout, HTTP 429 or 5xx).
A timeout after the request went out, or a connection dropped mid-request, is UNKNOWN: the ESP
may have accepted it, so it is never resent blindly (anymail's own docs warn of duplicates).
"""

from __future__ import annotations

import enum
import smtplib
import socket
from collections.abc import Callable
from dataclasses import dataclass, replace

import requests
from anymail.exceptions import AnymailError, AnymailRecipientsRefused, AnymailRequestsAPIError
from django.conf import settings

from . import conf


@dataclass(frozen=True)
class EspProfile:
    name: str
    batch_size: int
    # On-the-fly merge syntax with "{}" for the field name, or None: send per recipient.
    merge_field_format: str | None = None
    # SendGrid substitutes merge_data keys literally, so the key must carry the delimiters.
    key_is_field: bool = False
    # The ESP substitutes its merge fields in custom headers too (Mailgun: recipient variables
    # apply to every `h:` header, which is how anymail sends merge_headers). Each recipient's
    # List-Unsubscribe is then one header for the whole call naming their unsubscribe_url,
    # instead of a second copy of that URL per recipient (newsletter.email.message.batch_message).
    merges_headers: bool = False

    @property
    def batches_api_calls(self) -> bool:
        return self.merge_field_format is not None

    def merge_field(self, name: str) -> str:
        assert self.merge_field_format is not None
        return self.merge_field_format.format(name)

    def merge_key(self, name: str) -> str:
        return self.merge_field(name) if self.key_is_field else name


# Batch sizes are the ESPs' per-call recipient limits (Mailgun, SendGrid, Brevo 1,000;
# Postmark 500 per batch call; Amazon SES 50 destinations). Postmark and SES only merge into
# stored templates, so we send them per recipient (one API call each, one HTTP session).
ESP_PROFILES: dict[str, EspProfile] = {
    "anymail.backends.mailgun.EmailBackend": EspProfile("mailgun", 1000, "%recipient.{}%", merges_headers=True),
    # Our drop-in subclass of it (same request, faster to build): newsletter/backends/mailgun.py.
    "newsletter.backends.mailgun.EmailBackend": EspProfile("mailgun", 1000, "%recipient.{}%", merges_headers=True),
    "anymail.backends.sendgrid.EmailBackend": EspProfile("sendgrid", 1000, "-{}-", key_is_field=True),
    "anymail.backends.brevo.EmailBackend": EspProfile("brevo", 1000, "{{{{params.{}}}}}"),
    "anymail.backends.mailjet.EmailBackend": EspProfile("mailjet", 1000, "[[var:{}]]"),
    "anymail.backends.sparkpost.EmailBackend": EspProfile("sparkpost", 1000, "{{{{{}}}}}"),
    # anymail's test backend records the batch call as-is (used by unit tests).
    "anymail.backends.test.EmailBackend": EspProfile("anymail-test", 1000, "{{{{{}}}}}"),
    "anymail.backends.postmark.EmailBackend": EspProfile("postmark", 500),
    "anymail.backends.amazon_ses.EmailBackend": EspProfile("amazon_ses", 50),
}
# Real ESPs (their anymail names; the webhooks of the configured one are mounted).
ESP_NAMES = frozenset(profile.name for profile in ESP_PROFILES.values()) - {"anymail-test"}
# SMTP, outbox, locmem: a task of 100 messages keeps a task short (well under a second at
# the measured per-recipient rate) while amortising the connection.
DEFAULT_PROFILE = EspProfile("per-recipient", 100)


def current_profile(backend: str | None = None) -> EspProfile:
    """The profile of EMAIL_BACKEND; SEND_BATCH_SIZE (when set) overrides the batch size."""
    profile = ESP_PROFILES.get(backend or settings.EMAIL_BACKEND, DEFAULT_PROFILE)
    if conf.settings().SEND_BATCH_SIZE > 0:
        profile = replace(profile, batch_size=conf.settings().SEND_BATCH_SIZE)
    return profile


def merge_field_function(profile: EspProfile) -> Callable[[str], str] | None:
    return profile.merge_field if profile.batches_api_calls else None


class Outcome(enum.Enum):
    RETRY = "retry"  # clearly not accepted: safe to send again later
    THROTTLED = "throttled"  # HTTP 429: not accepted, and slow the shared rate down
    FAILED = "failed"  # refused for good (bad address, bad request): do not retry
    UNKNOWN = "unknown"  # may have been accepted: record, never resend blindly


def _caused_by_refused_connection(exc: BaseException) -> bool:
    """requests wraps urllib3's NewConnectionError (connect() failed: nothing was sent)."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        name = type(current).__name__
        if name in {"NewConnectionError", "NameResolutionError"} or isinstance(current, ConnectionRefusedError):
            return True
        for attr in ("__cause__", "__context__"):
            nested = getattr(current, attr, None)
            if isinstance(nested, BaseException):
                stack.append(nested)
        for arg in getattr(current, "args", ()):
            if isinstance(arg, BaseException):
                stack.append(arg)
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
    return False


def classify_error(exc: BaseException, *, connected: bool = True) -> Outcome:
    """How a send failure must be handled. `connected=False` means the error came while
    opening the connection, before any message was handed over."""
    if isinstance(exc, AnymailRequestsAPIError):
        status = exc.status_code
        if status is not None:
            if status == 429:
                return Outcome.THROTTLED
            if status >= 500:
                return Outcome.RETRY
            return Outcome.FAILED
        # No HTTP response: anymail made the class a subclass of the requests exception too.
        if isinstance(exc, requests.ConnectTimeout):
            return Outcome.RETRY
        if isinstance(exc, requests.ConnectionError) and _caused_by_refused_connection(exc):
            return Outcome.RETRY
        return Outcome.UNKNOWN  # read timeout, connection reset mid-request
    if isinstance(exc, AnymailRecipientsRefused):
        return Outcome.FAILED
    if isinstance(exc, AnymailError):
        return Outcome.FAILED  # invalid address, unsupported feature: would fail again
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return Outcome.FAILED
    if isinstance(exc, smtplib.SMTPConnectError):
        return Outcome.RETRY
    if isinstance(exc, smtplib.SMTPResponseException):
        # 4xx: temporary refusal (greylisting, rate limit): the server did not take it.
        return Outcome.RETRY if 400 <= exc.smtp_code < 500 else Outcome.FAILED
    if isinstance(exc, (ConnectionRefusedError, socket.gaierror)):
        return Outcome.RETRY
    if isinstance(exc, (TimeoutError, OSError, smtplib.SMTPException)):
        return Outcome.RETRY if not connected else Outcome.UNKNOWN
    return Outcome.UNKNOWN
