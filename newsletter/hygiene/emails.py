"""The two list-hygiene emails: the one reminder to a pending subscriber and the sunset
policy's "still want this?" with its one-click stay link. Build, then send, like
newsletter.subscribers.emails; the task re-reads the row and sends only if the email still
applies (confirmed or left meanwhile: nothing)."""

from __future__ import annotations

import enum

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from newsletter.email.links import absolute_url
from newsletter.email.render import render_email
from newsletter.subscribers import token_links
from newsletter.subscribers.addresses import is_suppressed
from newsletter.subscribers.models import Subscriber, SubscriberActivity
from newsletter.subscribers.tokens import Purpose, make_token
from sitewide import conf as site_conf

from . import conf


class HygieneEmail(enum.StrEnum):
    REMINDER = "reminder"
    REENGAGE = "reengage"


def stay_url(subscriber: Subscriber) -> str:
    token = make_token(subscriber.uuid, Purpose.STAY)
    return absolute_url(reverse("hygiene:stay", kwargs={"token": token}))


def build_hygiene_email(subscriber: Subscriber, kind: HygieneEmail) -> EmailMultiAlternatives:
    unsubscribe = token_links.unsubscribe_url(subscriber.uuid)
    context = {
        "confirm_url": token_links.confirm_url(subscriber.uuid),
        "unsubscribe_url": unsubscribe,
        "stay_url": stay_url(subscriber) if kind is HygieneEmail.REENGAGE else "",
        "grace_days": conf.settings().SUNSET_GRACE_DAYS,
        "SENDER_NAME": site_conf.site().SENDER_NAME,
        "SENDER_POSTAL_ADDRESS": site_conf.site().SENDER_POSTAL_ADDRESS,
        "language": subscriber.language,
    }
    rendered = render_email(kind.value, context, language=subscriber.language)
    headers = {}
    if kind is HygieneEmail.REENGAGE:
        headers = {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[subscriber.email],
        headers=headers,
    )
    message.attach_alternative(rendered.html, "text/html")
    return message


def send_hygiene_email(*, subscriber_id: int, kind: str) -> bool:
    """Send if it still applies: the reminder to a still-pending subscriber, the re-engagement
    email to a still-active one whose re-engagement is still open. True if handed to the backend."""
    email_kind = HygieneEmail(kind)
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None or is_suppressed(subscriber.email):
        return False
    if email_kind is HygieneEmail.REMINDER and subscriber.status != Subscriber.Status.PENDING:
        return False
    if email_kind is HygieneEmail.REENGAGE:
        still_open = SubscriberActivity.objects.filter(subscriber_id=subscriber_id, reengage_sent_at__isnull=False)
        if subscriber.status != Subscriber.Status.ACTIVE or not still_open.exists():
            return False
    build_hygiene_email(subscriber, email_kind).send()
    return True
