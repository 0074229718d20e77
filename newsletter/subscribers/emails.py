"""Transactional emails to one subscriber: the double opt-in confirmation and the
"you are already subscribed, manage your preferences" notice.

Build, then send: `build_subscriber_email` renders the three templates
(`<kind>.subject.txt`, `<kind>.txt`, `<kind>.html`) inside the subscriber's language and returns
an EmailMultiAlternatives; `send_subscriber_email` (called by the Celery task) re-reads the row,
checks the email still makes sense and sends it. The context holds only values we generated
(links, site name, expiry) and never what the reader typed, so the form cannot carry spam.
"""

from __future__ import annotations

import enum
import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from newsletter.email.links import absolute_url
from newsletter.email.render import render_email
from sitewide import conf as site_conf

from . import conf, token_links
from .addresses import is_suppressed
from .models import Subscriber

logger = logging.getLogger(__name__)


class EmailKind(enum.StrEnum):
    """Subscriber emails; each has three templates under templates/newsletter/email/."""

    CONFIRMATION = "confirmation"
    ALREADY_SUBSCRIBED = "already_subscribed"


# Which statuses each email still makes sense for when the task finally runs.
_SENDABLE = {
    EmailKind.CONFIRMATION: {Subscriber.Status.PENDING},
    EmailKind.ALREADY_SUBSCRIBED: {Subscriber.Status.ACTIVE},
}


def build_subscriber_email(subscriber: Subscriber, kind: EmailKind) -> EmailMultiAlternatives:
    context = {
        "kind": kind.value,
        "confirm_url": token_links.confirm_url(subscriber.uuid),
        "preferences_url": token_links.preferences_url(subscriber.uuid),
        "unsubscribe_url": token_links.unsubscribe_url(subscriber.uuid),
        "signup_url": absolute_url("/newsletter/"),
        "max_age_days": conf.settings().CONFIRMATION_MAX_AGE_DAYS,
        "SENDER_NAME": site_conf.site().SENDER_NAME,
        "SENDER_POSTAL_ADDRESS": site_conf.site().SENDER_POSTAL_ADDRESS,
        "SITE_URL": settings.SITE_URL,
        "language": subscriber.language,
    }
    # The shared renderer inlines the CSS and adds the RLM marks, as for the digest.
    rendered = render_email(kind.value, context, language=subscriber.language)
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[subscriber.email],
    )
    message.attach_alternative(rendered.html, "text/html")
    return message


def send_subscriber_email(*, subscriber_id: int, kind: str) -> bool:
    """Send one subscriber email if it still applies; True if it was handed to the backend."""
    email_kind = EmailKind(kind)
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None or subscriber.status not in _SENDABLE[email_kind]:
        return False  # erased, confirmed or unsubscribed meanwhile
    if is_suppressed(subscriber.email):
        return False
    build_subscriber_email(subscriber, email_kind).send()
    return True
