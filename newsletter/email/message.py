"""The one place where a digest becomes a message: headers (List-Unsubscribe, RFC 8058's
List-Unsubscribe-Post), metadata for tracking and tags, for both ways of sending.

- `batch_message`: one AnymailMessage for a whole segment group, per-recipient values through
  anymail's merge_data / merge_headers / merge_metadata (ESPs with a batch API); with an ESP that
  merges into headers (Mailgun), List-Unsubscribe names the unsubscribe_url merge field instead.
- `personal_message`: one message for one recipient, values already substituted (SMTP, the
  outbox, ESPs without batch merge).
- `test_message`: a segment's email as its subscribers see it, marked as a test, for an editor.

Every digest carries a `List-Id` (RFC 2919) per frequency, so readers can filter it; breaking-news
alerts (frequency "alert") carry their own, `<alerts.domain>`, and their List-Unsubscribe URL (the
recipient's `unsubscribe_url`, newsletter.delivery.recipients) ends alerts only.
Both give every recipient their own `List-Unsubscribe` URL and the same metadata keys
(`digest_id`, `delivery_id`, `subscriber_id`), which the tracking receiver reads back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from email.header import Header
from email.utils import parseaddr
from typing import Any, Protocol

from anymail.message import AnymailMessage
from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from newsletter.editions.models import ALERT, Digest
from sitewide import conf as site_conf

from .render import RenderedEmail

LIST_UNSUBSCRIBE_POST = "List-Unsubscribe=One-Click"
TEST_SUBJECT_PREFIX = "[تجربة] "


class Addressee(Protocol):
    """What a message needs to know about one recipient."""

    @property
    def email(self) -> str: ...
    @property
    def delivery_id(self) -> int: ...
    @property
    def subscriber_id(self) -> int: ...
    @property
    def values(self) -> Mapping[str, str]: ...


def list_unsubscribe(unsubscribe_url: str) -> str:
    return f"<{unsubscribe_url}>"


def list_id(frequency: str) -> str:
    """RFC 2919: `<description> <daily-digest.example.com>`, the id under the sender's domain.
    The Arabic description is encoded here (RFC 2047) so the id itself stays outside the
    encoded word; Django would otherwise encode the whole header value."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2].lower() or "localhost"
    if frequency == ALERT:
        description = Header(f"{site_conf.site().SENDER_NAME} (عاجل)", "utf-8").encode()
        return f"{description} <alerts.{domain}>"
    description = Header(f"{site_conf.site().SENDER_NAME} ({frequency})", "utf-8").encode()
    return f"{description} <{frequency}-digest.{domain}>"


def _tags(digest: Digest) -> list[str]:
    return ["alert"] if digest.frequency == ALERT else ["digest", digest.frequency]


def _recipient_metadata(recipient: Addressee) -> dict[str, str]:
    return {"delivery_id": str(recipient.delivery_id), "subscriber_id": str(recipient.subscriber_id)}


def batch_message(
    *,
    digest: Digest,
    rendered: RenderedEmail,
    recipients: Sequence[Addressee],
    merge_keys: Mapping[str, str],
    connection: Any,
    unsubscribe_field: str | None = None,
) -> AnymailMessage:
    """One API call's message: `merge_keys` maps each of MERGE_FIELDS to the ESP's merge key.
    `unsubscribe_field`: the ESP's merge field for `unsubscribe_url` when it merges into headers
    (newsletter.delivery.esp.EspProfile.merges_headers): List-Unsubscribe is then one header
    naming it; otherwise each recipient's URL goes in merge_headers."""
    headers = {"List-Unsubscribe-Post": LIST_UNSUBSCRIBE_POST, "List-Id": list_id(digest.frequency)}
    if unsubscribe_field:
        headers["List-Unsubscribe"] = list_unsubscribe(unsubscribe_field)
    message = AnymailMessage(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[r.email for r in recipients],
        headers=headers,
        connection=connection,
    )
    message.attach_alternative(rendered.html, "text/html")
    message.merge_data = {r.email: {merge_keys[name]: value for name, value in r.values.items()} for r in recipients}
    message.merge_global_data = {}
    if not unsubscribe_field:
        message.merge_headers = {
            r.email: {"List-Unsubscribe": list_unsubscribe(r.values["unsubscribe_url"])} for r in recipients
        }
    message.metadata = {"digest_id": str(digest.id)}
    message.merge_metadata = {r.email: _recipient_metadata(r) for r in recipients}
    message.tags = _tags(digest)
    return message


def personal_message(
    *,
    digest: Digest,
    personal: RenderedEmail,
    recipient: Addressee,
    message_id: str,
    connection: Any,
) -> AnymailMessage:
    """One recipient's message; `personal` already carries their values (render.merge)."""
    message = AnymailMessage(
        subject=personal.subject,
        body=personal.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
        headers={
            "List-Unsubscribe": list_unsubscribe(recipient.values["unsubscribe_url"]),
            "List-Unsubscribe-Post": LIST_UNSUBSCRIBE_POST,
            "List-Id": list_id(digest.frequency),
            "Message-ID": message_id,
        },
        connection=connection,
    )
    message.attach_alternative(personal.html, "text/html")
    message.metadata = {"digest_id": str(digest.id), **_recipient_metadata(recipient)}
    message.tags = _tags(digest)
    return message


def test_message(rendered: RenderedEmail, *, to: str, label: str = "") -> EmailMultiAlternatives:
    """A segment's email as its subscribers see it (`rendered` with the editor's links, from
    newsletter.editions.segments.preview), marked as a test and named by its segment, for an
    editor's inbox."""
    message = EmailMultiAlternatives(
        subject=TEST_SUBJECT_PREFIX + (f"({label}) " if label else "") + rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"X-Newsletter-Test": "1", "Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(rendered.html, "text/html")
    return message
