"""The alerts opt-in (issue 27): a checkbox on the signup form and in the preference center,
double opt-in as for the digest (a pending reader who ticked it gets no alert until confirmed),
and a known address signing up again with new choices."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from newsletter.delivery import alert_audience
from newsletter.subscribers import consent, csv_io, lifecycle, signup, token_links
from newsletter.subscribers.models import Subscriber

pytestmark = pytest.mark.django_db


def path_of(url: str) -> str:
    return url.removeprefix("http://testserver")


def test_the_signup_checkbox_takes_effect_once_confirmed(client, django_capture_on_commit_callbacks) -> None:
    page = client.get("/newsletter/").content.decode()
    assert 'name="alerts"' in page and "تنبيهات الأخبار العاجلة" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/newsletter/", {"email": "alerts@example.com", "frequency": "daily", "alerts": "on"})
        client.post("/newsletter/", {"email": "digest@example.com", "frequency": "daily"})
    wants = Subscriber.objects.get(email="alerts@example.com")
    assert wants.alerts and wants.status == Subscriber.Status.PENDING
    assert not Subscriber.objects.get(email="digest@example.com").alerts
    now = timezone.now() + timedelta(seconds=1)
    assert alert_audience.count(now=now) == 0  # pending: not yet
    Subscriber.objects.filter(pk=wants.pk).update(status=Subscriber.Status.ACTIVE)
    assert alert_audience.count(now=now) == 1


def test_a_pending_address_signing_up_again_takes_the_new_choice() -> None:
    signup.subscribe(email="again@example.com", alerts=False)
    signup.settle_known_signup(
        signup.KnownSignup(
            address="again@example.com",
            frequency="daily",
            topic_ids=[],
            language="ar",
            name="",
            time_zone="",
            consent_fields={
                "source": "form",
                "consent_text_version": "",
                "signup_ip_hash": "",
                "signup_user_agent_hash": "",
            },
            at=timezone.now().isoformat(),
            reserved=False,
            alerts=True,
        )
    )
    assert Subscriber.objects.get(email="again@example.com").alerts


def test_the_preference_center_turns_alerts_on_and_off(client) -> None:
    subscriber = Subscriber.objects.create(email="reader@example.com", status=Subscriber.Status.ACTIVE)
    url = path_of(token_links.preferences_url(subscriber.uuid))
    page = client.get(url).content.decode()
    assert 'name="alerts"' in page and "تنبيهات الأخبار العاجلة" in page
    form = {"frequency": "daily", "language": "ar", "time_zone": "", "personal_order": "on"}
    assert client.post(url, {**form, "alerts": "on"}).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.alerts
    assert client.post(url, form).status_code == 200
    subscriber.refresh_from_db()
    assert not subscriber.alerts


def kinds(subscriber: Subscriber) -> list[str]:
    return [row["event"] for row in consent.as_export(subscriber)]


def test_every_change_of_the_alerts_choice_is_in_the_consent_history(client) -> None:
    """Alerts are a list of their own: opting in (confirmed by the signup link, or from the
    preference center) and out (there, or the alert's own unsubscribe link) are kept as consent,
    with where it happened, in the history the exports carry."""
    signup.subscribe(email="history@example.com", alerts=True)
    subscriber = Subscriber.objects.get(email="history@example.com")
    assert lifecycle.confirm(subscriber_uuid=subscriber.uuid) == lifecycle.ConfirmOutcome.CONFIRMED
    subscriber.refresh_from_db()
    assert kinds(subscriber) == ["signed_up", "confirmed", "alerts_on"]

    lifecycle.stop_alerts(subscriber=subscriber)
    lifecycle.stop_alerts(subscriber=subscriber)  # the link opened twice: one row
    url = path_of(token_links.preferences_url(subscriber.uuid))
    form = {"frequency": "daily", "language": "ar", "time_zone": "", "personal_order": "on"}
    client.post(url, {**form, "alerts": "on"})
    client.post(url, {**form, "alerts": "on"})  # saved again unchanged: no row
    subscriber.refresh_from_db()
    assert kinds(subscriber) == ["signed_up", "confirmed", "alerts_on", "alerts_off", "alerts_on"]
    sources = [row["source"] for row in consent.as_export(subscriber)][2:]
    assert sources == ["link", "link", "preferences"]

    signup.subscribe(email="digest-only@example.com", alerts=False)
    plain = Subscriber.objects.get(email="digest-only@example.com")
    lifecycle.confirm(subscriber_uuid=plain.uuid)
    assert kinds(plain) == ["signed_up", "confirmed"]


def test_the_subscriber_export_and_admin_show_the_alerts_choice(admin_client) -> None:
    """Administrators see who asked for alerts (a filter, the change page, the CSV export), and
    cannot set it for a reader: it is the reader's own double opt-in."""
    wants = Subscriber.objects.create(email="wants@example.com", status=Subscriber.Status.ACTIVE, alerts=True)
    Subscriber.objects.create(email="digest@example.com", status=Subscriber.Status.ACTIVE)
    lines = list(csv_io.export_rows())
    header = lines[0].lstrip("\ufeff").strip().split(",")
    column = header.index("alerts")
    cells = {line.split(",")[0]: line.strip().split(",")[column] for line in lines[1:]}
    assert cells == {"wants@example.com": "yes", "digest@example.com": ""}

    listed = admin_client.get("/admin/newsletter/subscriber/?alerts__exact=1").content.decode()
    assert "wants@example.com" in listed and "digest@example.com" not in listed
    page = admin_client.get(f"/admin/newsletter/subscriber/{wants.pk}/change/").content.decode()
    assert "تنبيهات الأخبار العاجلة" in page and 'name="alerts"' not in page
