"""Email address normalisation, hashing and the suppression list.

One canonical form per address (trimmed, domain lower-cased and IDNA-encoded) so uniqueness,
rate limits and suppression all agree; a keyed hash so erased, bounced and complained
addresses can be blocked without keeping them.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower

from .models import Subscriber, Suppression

MAX_EMAIL_LENGTH = 254


class InvalidEmail(ValueError):
    """The address cannot be used: malformed, too long, or carrying control characters."""


def normalise_email(raw: str) -> str:
    """Trimmed, domain lower-cased and IDNA-encoded; the local part is kept as typed.

    Raises InvalidEmail for header-injection attempts (CR/LF), over-long or malformed addresses
    and domains that IDNA refuses (which also rejects most confusable Unicode)."""
    if not isinstance(raw, str):
        raise InvalidEmail("not a string")
    value = raw.strip()
    if any(ch in value for ch in "\r\n\x00") or any(ord(ch) < 32 for ch in value):
        raise InvalidEmail("control characters")
    if value.count("@") != 1:
        raise InvalidEmail("an address has exactly one @")
    local, domain = value.split("@")
    if not local or not domain:
        raise InvalidEmail("empty local part or domain")
    if any(_mixed_scripts(label) for label in domain.split(".")):
        # "exаmple.com" with a Cyrillic а: a homograph of a real domain, refused outright.
        raise InvalidEmail("domain label mixes scripts (confusable)")
    try:
        domain = domain.lower().encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidEmail("domain is not a valid internationalised name") from exc
    if not local.isascii():
        # SMTPUTF8 local parts are not deliverable through most ESPs; refuse rather than bounce.
        raise InvalidEmail("non-ASCII local part")
    address = f"{local}@{domain}"
    if len(address) > MAX_EMAIL_LENGTH:
        raise InvalidEmail("longer than 254 characters")
    try:
        validate_email(address)
    except ValidationError as exc:
        raise InvalidEmail("malformed address") from exc
    return address


def _script(ch: str) -> str:
    """The script of a letter, from its Unicode name ("LATIN", "CYRILLIC", "ARABIC", ...)."""
    try:
        return unicodedata.name(ch).split(" ")[0]
    except ValueError:
        return "UNKNOWN"


def _mixed_scripts(label: str) -> bool:
    """True when one domain label mixes letters of several scripts (a homograph attempt)."""
    if label.isascii():
        return False
    scripts = {_script(ch) for ch in label if ch.isalpha()}
    return len(scripts) > 1


def keyed_hash(value: str, *, purpose: str) -> str:
    """HMAC-SHA256 of value under a key derived from HASH_KEY and purpose (hex)."""
    key = hashlib.sha256(f"{purpose}:{settings.HASH_KEY}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def email_hash(address: str) -> str:
    """Stable hash of a normalised address, case-insensitive (for the suppression list)."""
    return keyed_hash(address.lower(), purpose="suppression")


def is_suppressed(address: str) -> bool:
    return Suppression.objects.filter(email_hash=email_hash(address)).exists()


def suppress(address: str, *, reason: str) -> None:
    """Add the address to the suppression list; adding it twice is harmless."""
    try:
        with transaction.atomic():
            Suppression.objects.get_or_create(email_hash=email_hash(address), defaults={"reason": reason})
    except IntegrityError:
        pass  # a concurrent call stored it first


def by_address(address: str) -> QuerySet[Subscriber]:
    """Subscribers with this address, through the LOWER(email) unique index (`email__iexact`
    compiles to UPPER(...) LIKE on PostgreSQL, which that index cannot serve)."""
    return Subscriber.objects.alias(email_lower=Lower("email")).filter(email_lower=address.strip().lower())
