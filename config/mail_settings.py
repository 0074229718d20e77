"""Email settings: the backend every message goes through, the sender, Django's SMTP settings
and the ANYMAIL dict (every ANYMAIL_<NAME> variable). With DEBUG off, a backend that delivers
nothing, a sender at a documentation domain or no webhook secret refuses to start."""

from __future__ import annotations

import os
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from .env import DEBUG, VAR_DIR, env_bool, env_int, refuse_in_production

OUTBOX_EMAIL_BACKEND = "newsletter.backends.outbox.OutboxEmailBackend"
# Backends that deliver nothing: the development outbox and Django's own test/debug backends.
UNDELIVERING_EMAIL_BACKENDS = frozenset(
    {
        OUTBOX_EMAIL_BACKEND,
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.dummy.EmailBackend",
        "django.core.mail.backends.filebased.EmailBackend",
        "django.core.mail.backends.locmem.EmailBackend",
    }
)
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or OUTBOX_EMAIL_BACKEND
if not DEBUG and EMAIL_BACKEND in UNDELIVERING_EMAIL_BACKENDS:
    raise refuse_in_production(
        "EMAIL_BACKEND",
        problem="is not set"
        if not os.environ.get("EMAIL_BACKEND")
        else f"is {EMAIL_BACKEND!r}, which delivers nothing",
        fix="every email would be written to files on this machine (or nowhere) and no reader would get it; "
        "set EMAIL_BACKEND to your ESP's backend, e.g. anymail.backends.mailgun.EmailBackend with its ANYMAIL_* "
        "settings, or django.core.mail.backends.smtp.EmailBackend with EMAIL_HOST.",
    )
EMAIL_OUTBOX_DIR = Path(os.environ.get("EMAIL_OUTBOX_DIR") or VAR_DIR / "outbox")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "النشرة الإخبارية <newsletter@example.com>")
# example.com, .org and .net are reserved for documentation (RFC 2606): mail from them fails
# SPF/DKIM/DMARC everywhere, and the development default is one of them.
RESERVED_EMAIL_DOMAINS = ("example.com", "example.org", "example.net")


def _sender_domain(value: str) -> str:
    """The domain of a From header's address, "" when it holds no address."""
    local, at, domain = parseaddr(value)[1].rpartition("@")
    return domain.strip().rstrip(".").lower() if local and at else ""


def _reserved(domain: str) -> bool:
    return any(domain == d or domain.endswith(f".{d}") for d in RESERVED_EMAIL_DOMAINS)


if not DEBUG:
    _domain = _sender_domain(os.environ.get("DEFAULT_FROM_EMAIL", ""))
    if not _domain or _reserved(_domain):
        raise refuse_in_production(
            "DEFAULT_FROM_EMAIL",
            problem="is not set" if not os.environ.get("DEFAULT_FROM_EMAIL") else f"is {DEFAULT_FROM_EMAIL!r}",
            fix="every email would come from no address or an example.* one (reserved for documentation), which "
            "no mailbox provider accepts; set DEFAULT_FROM_EMAIL to an address at your own sending domain, whose SPF and "
            "DKIM the ESP signs, e.g. 'النشرة الإخبارية <newsletter@news.your-site.com>'.",
        )
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
if not DEBUG and os.environ.get("SERVER_EMAIL") and _reserved(_sender_domain(SERVER_EMAIL)):
    # The error reports to ADMINS would leave from an address no mailbox provider accepts.
    raise refuse_in_production(
        "SERVER_EMAIL",
        problem=f"is {SERVER_EMAIL!r}",
        fix="error reports to the administrators would come from an example.* address (reserved for documentation); "
        "set SERVER_EMAIL to an address at your own sending domain, or leave it unset (it is then DEFAULT_FROM_EMAIL).",
    )
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)


def _anymail_from_env(environ: os._Environ[str] | dict[str, str]) -> dict[str, Any]:
    """Every ANYMAIL_<NAME> variable becomes ANYMAIL["<NAME>"] (anymail reads both forms)."""
    return {
        name.removeprefix("ANYMAIL_"): value
        for name, value in environ.items()
        if name.startswith("ANYMAIL_") and len(name) > len("ANYMAIL_")
    }


ANYMAIL = _anymail_from_env(os.environ)
if not DEBUG and ":" not in ANYMAIL.get("WEBHOOK_SECRET", ""):
    # Without it the tracking webhooks would take anyone's word for bounces and complaints.
    raise ImproperlyConfigured(
        "ANYMAIL_WEBHOOK_SECRET is not set (as user:password). With DEBUG off the application refuses to start without it: "
        "the ESP's tracking webhooks (/anymail/) authenticate with it; set it to user:long-random-password "
        "and give the ESP https://user:password@your.site/anymail/<esp>/tracking/."
    )
# Anymail's own retry would resend after a read timeout, where the ESP may have accepted:
# our batch task decides what is safe to retry (newsletter.delivery).
ANYMAIL.setdefault("REQUESTS_TIMEOUT", (5, 30))
