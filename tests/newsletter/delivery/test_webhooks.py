"""Only the configured ESP's tracking webhook answers (newsletter.delivery.webhooks)."""

from __future__ import annotations

import base64
import json

import pytest

from newsletter.delivery.models import DeliveryEvent
from newsletter.subscribers.models import Subscriber

pytestmark = pytest.mark.django_db
SECRET = "hooks:s3cret-pass"


def _auth() -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(SECRET.encode()).decode()}


def postmark_complaint(email: str) -> dict[str, object]:
    # Postmark's SpamComplaint webhook: no signature of its own, only the basic auth.
    return {
        "RecordType": "SpamComplaint",
        "ID": 42,
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "MessageID": "00000000-0000-0000-0000-000000000000",
        "Email": email,
        "BouncedAt": "2026-11-30T10:00:00Z",
        "Metadata": {"delivery_id": "1"},
    }


@pytest.fixture
def mailgun_deployment(settings):
    settings.EMAIL_BACKEND = "newsletter.backends.mailgun.EmailBackend"
    settings.WEBHOOK_ESP = ""  # derived from EMAIL_BACKEND, as in production
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": "k", "MAILGUN_API_KEY": "x"}
    return settings


def test_a_forged_postmark_complaint_on_a_mailgun_deployment_is_404_and_changes_nothing(
    client, mailgun_deployment
) -> None:
    reader = Subscriber.objects.create(email="reader@example.com", status=Subscriber.Status.ACTIVE)
    response = client.post(
        "/anymail/postmark/tracking/",
        data=json.dumps(postmark_complaint(reader.email)),
        content_type="application/json",
        **_auth(),
    )
    assert response.status_code == 404
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.ACTIVE
    assert not DeliveryEvent.objects.exists()


def test_the_configured_esp_answers_and_inbound_mail_is_never_mounted(client, mailgun_deployment) -> None:
    # Mailgun's own URL is there: an unsigned payload is refused by anymail's signature check.
    response = client.post("/anymail/mailgun/tracking/", data="{}", content_type="application/json", **_auth())
    assert response.status_code not in (404, 500)
    assert client.post("/anymail/mailgun/inbound/", data="{}", content_type="application/json").status_code == 404


def test_smtp_and_the_outbox_mount_no_webhook(client, settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.WEBHOOK_ESP = ""
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    for esp in ("mailgun", "postmark", "sendgrid"):
        assert client.post(f"/anymail/{esp}/tracking/", data="{}", content_type="application/json").status_code == 404
