"""The subscribers' settings (sitewide.conf says how groups are filled and read)."""

from __future__ import annotations

from dataclasses import dataclass

from sitewide.conf import room_settings


@dataclass(frozen=True)
class SubscriberSettings:
    """CONSENT_TEXT_VERSION: stored with each signup as proof of consent.
    CONFIRMATION_MAX_AGE_DAYS: the confirmation link expires after this. SIGNUP_ALLOWED_ORIGINS:
    sites allowed to frame the embeddable signup form (empty: any).
    SIGNUP_SUBMISSIONS_PER_IP_PER_HOUR, SIGNUP_EMAILS_PER_10_MIN, SIGNUP_EMAILS_PER_DAY: the abuse
    limits (newsletter.subscribers.ratelimits). SUBSCRIBER_IMPORT_MAX_ROWS: the largest CSV import.
    DIGEST_PERSONAL: personal editions (newsletter.personal): each reader's edition leaves out what
    they read and leans to what they click, and the preference page offers the switch; 0: every
    reader gets the edition's order, and no history is collected."""

    CONSENT_TEXT_VERSION: str = "2026-11"
    CONFIRMATION_MAX_AGE_DAYS: int = 7
    SIGNUP_ALLOWED_ORIGINS: tuple[str, ...] = ()
    SIGNUP_SUBMISSIONS_PER_IP_PER_HOUR: int = 30
    SIGNUP_EMAILS_PER_10_MIN: int = 1
    SIGNUP_EMAILS_PER_DAY: int = 3
    SUBSCRIBER_IMPORT_MAX_ROWS: int = 100_000
    DIGEST_PERSONAL: bool = True


def settings() -> SubscriberSettings:
    return room_settings(SubscriberSettings)
