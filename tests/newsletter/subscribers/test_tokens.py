"""Signed, purpose-bound tokens: tampered, cross-purpose and expired tokens change nothing."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from django.core import signing
from django.test import Client

from newsletter.subscribers import token_links
from newsletter.subscribers.models import Subscriber
from newsletter.subscribers.tokens import Purpose, TokenError, TokenExpired, make_token, read_token

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def eml_outbox(settings, outbox_dir):
    # pytest-django forces the locmem backend; the outbox fixture reads the .eml backend's files.
    settings.EMAIL_BACKEND = "newsletter.backends.outbox.OutboxEmailBackend"


def path_of(url: str) -> str:
    return url.removeprefix("http://testserver")


def tamper(token: str) -> str:
    last = token[-1]
    return token[:-1] + ("A" if last != "A" else "B")


def test_round_trip_and_purpose_binding() -> None:
    import uuid

    value = uuid.uuid4()
    for purpose in Purpose:
        assert read_token(make_token(value, purpose), purpose) == value
    with pytest.raises(TokenError):
        read_token(make_token(value, Purpose.UNSUBSCRIBE), Purpose.CONFIRM)
    with pytest.raises(TokenError):
        read_token(tamper(make_token(value, Purpose.PREFERENCES)), Purpose.PREFERENCES)
    with pytest.raises(TokenError):
        read_token("x" * 500, Purpose.UNSUBSCRIBE)


@pytest.fixture
def pending() -> Subscriber:
    return Subscriber.objects.create(email="p@example.com", status=Subscriber.Status.PENDING)


@pytest.fixture
def active() -> Subscriber:
    return Subscriber.objects.create(email="a@example.com", status=Subscriber.Status.ACTIVE)


def test_tampered_tokens_change_nothing(client, pending, active):
    confirm = path_of(token_links.confirm_url(pending.uuid))
    unsubscribe = path_of(token_links.unsubscribe_url(active.uuid))
    preferences = path_of(token_links.preferences_url(active.uuid))
    strict = Client(enforce_csrf_checks=True)
    for url in (confirm, unsubscribe, preferences):
        head, token, tail = url.rsplit("/", 2)
        bad = f"{head}/{tamper(token)}/{tail}"
        assert client.get(bad).status_code in (400, 404)
        assert strict.post(bad).status_code in (400, 403, 404)
        assert client.post(bad, {"frequency": "weekly", "language": "en"}).status_code in (400, 404)
    pending.refresh_from_db()
    active.refresh_from_db()
    assert pending.status == Subscriber.Status.PENDING
    assert active.status == Subscriber.Status.ACTIVE and active.frequency == "daily"


def test_cross_purpose_tokens_refused(client, pending, active):
    unsubscribe_token = make_token(pending.uuid, Purpose.UNSUBSCRIBE)
    preferences_token = make_token(active.uuid, Purpose.PREFERENCES)
    confirm_token = make_token(active.uuid, Purpose.CONFIRM)
    assert client.post(f"/newsletter/confirm/{unsubscribe_token}/").status_code == 404
    assert client.post(f"/newsletter/unsubscribe/{preferences_token}/").status_code == 404
    assert client.post(f"/newsletter/unsubscribe/{confirm_token}/").status_code == 404
    assert client.get(f"/newsletter/preferences/{unsubscribe_token}/").status_code == 404
    pending.refresh_from_db()
    active.refresh_from_db()
    assert pending.status == Subscriber.Status.PENDING
    assert active.status == Subscriber.Status.ACTIVE


def test_expired_confirmation_refused_with_new_link_offer(
    client, pending, outbox, settings, monkeypatch, django_capture_on_commit_callbacks
):
    eight_days_ago = time.time() - 8 * 86400
    monkeypatch.setattr(signing.time, "time", lambda: eight_days_ago)
    old_token = make_token(pending.uuid, Purpose.CONFIRM)
    monkeypatch.undo()
    with pytest.raises(TokenExpired):
        read_token(old_token, Purpose.CONFIRM)
    page = client.get(f"/newsletter/confirm/{old_token}/")
    assert page.status_code == 410
    resend_url = f"/newsletter/confirm/{old_token}/resend/"
    assert resend_url in page.content.decode()
    assert client.post(f"/newsletter/confirm/{old_token}/").status_code == 410
    pending.refresh_from_db()
    assert pending.status == Subscriber.Status.PENDING and pending.confirmed_at is None
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(resend_url).status_code == 200
    messages = outbox()
    assert len(messages) == 1 and "/newsletter/confirm/" in messages[0].get_body(("plain",)).get_content()
    # A tampered expired token cannot ask for links.
    assert client.post(f"/newsletter/confirm/{tamper(old_token)}/resend/").status_code == 404
    assert len(outbox()) == 1


def test_confirmation_link_within_seven_days_still_works(client, pending, monkeypatch):
    six_days_ago = time.time() - 6 * 86400
    monkeypatch.setattr(signing.time, "time", lambda: six_days_ago)
    token = make_token(pending.uuid, Purpose.CONFIRM)
    monkeypatch.undo()
    assert client.post(f"/newsletter/confirm/{token}/").status_code == 200
    pending.refresh_from_db()
    assert pending.status == Subscriber.Status.ACTIVE


def test_unsubscribe_token_does_not_expire(client, active, monkeypatch):
    long_ago = time.time() - 400 * 86400
    monkeypatch.setattr(signing.time, "time", lambda: long_ago)
    token = make_token(active.uuid, Purpose.UNSUBSCRIBE)
    monkeypatch.undo()
    assert client.post(f"/newsletter/unsubscribe/{token}/").status_code == 200
    active.refresh_from_db()
    assert active.status == Subscriber.Status.UNSUBSCRIBED


# SpamAssassin's PDS_BTC_ID (+1.0, with PDS_BTC_MSGID +2.0 in all): a word that looks like a
# Bitcoin address. The old base64 tokens matched in about one email in twelve.
BITCOIN_LIKE = re.compile(r"\b[13][a-km-zA-HJ-NP-Z1-9]{25,34}\b")


def test_no_token_looks_like_a_bitcoin_address_to_spam_filters() -> None:
    for _ in range(2000):
        value = uuid.uuid4()
        for purpose in Purpose:
            token = make_token(value, purpose)
            assert not BITCOIN_LIKE.search(token), token
