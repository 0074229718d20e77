"""The alerts opt-in (issue 27): a checkbox on the signup form and in the preference center,
double opt-in as for the digest (a pending reader who ticked it gets no alert until confirmed),
and a known address signing up again with new choices."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from newsletter.delivery import alert_audience
from newsletter.subscribers import signup, token_links
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
