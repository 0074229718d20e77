"""The welcome email right after confirmation (issue 12): what the reader will receive and when,
in their own time zone, a link to the latest edition in the archive and to their preferences;
sent once, however many times (or how concurrently) the confirmation is posted."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from articles.content.models import Section
from newsletter.editions.models import Digest
from newsletter.orchestration import welcome
from newsletter.subscribers import lifecycle, token_links
from newsletter.subscribers.models import Subscriber
from tests.concurrency import run_concurrently

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("UTC"))  # a Monday


def pending(email: str = "reader@example.com", **fields) -> Subscriber:
    return Subscriber.objects.create(email=email, status=Subscriber.Status.PENDING, **fields)


def edition(day: date, status: str) -> Digest:
    start = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo("UTC"))
    return Digest.objects.create(
        frequency="daily", edition_date=day, status=status, period_start=start, period_end=start
    )


def welcomes(outbox) -> list:
    return [m for m in outbox() if "أهلًا بك" in str(m["Subject"]) or "Welcome" in str(m["Subject"])]


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


@pytest.mark.django_db
def test_confirming_sends_one_welcome_with_time_topics_and_links(
    outbox, settings, django_capture_on_commit_callbacks
) -> None:
    settings.NUMERALS = "latin"
    sport = Section.objects.create(name="رياضة", slug="sport")
    subscriber = pending(time_zone="Africa/Casablanca")
    subscriber.topics.set([sport])
    sent = edition(date(2026, 11, 29), Digest.Status.SENT)
    edition(date(2026, 11, 30), Digest.Status.DRAFT)

    client = Client()
    path = token_links.confirm_url(subscriber.uuid).removeprefix("http://testserver")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(path).status_code == 200
        assert client.post(path).status_code == 200  # a second click confirms nothing new

    [message] = welcomes(outbox)
    assert message["To"] == "reader@example.com"
    text = text_of(message)
    # the zone by its city in the reader's language, not by its IANA id ("Africa/Casablanca")
    assert "ستصلك النشرة اليومية كل يوم في الساعة 07:00 بتوقيت الدار البيضاء." in text
    assert "رياضة" in text
    assert "http://testserver/archive/daily/2026-11-29/" in text and sent.status == "sent"
    assert token_links.preferences_url(subscriber.uuid) in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert 'dir="rtl"' in html and token_links.preferences_url(subscriber.uuid).replace("&", "&amp;") in html


@pytest.mark.django_db
def test_weekly_time_without_local_delivery_is_the_newsrooms_hour_in_their_zone(settings) -> None:
    settings.NUMERALS = "latin"
    settings.DIGEST_LOCAL_TIME = False
    settings.TIME_ZONE = "Asia/Baghdad"  # the weekly edition: Saturday 08:00 Baghdad = 05:00 London
    subscriber = Subscriber(
        email="w@example.com", frequency="weekly", language="ar", time_zone="Europe/London", status="active"
    )
    timing = welcome.timing(subscriber, now=NOW)
    assert (timing.weekday, timing.time, timing.zone) == ("السبت", "05:00", "Europe/London")
    assert timing.first == "السبت 5 ديسمبر"


@pytest.mark.django_db
def test_local_delivery_time_and_english(settings) -> None:
    settings.DIGEST_LOCAL_TIME = True
    subscriber = Subscriber(email="e@example.com", frequency="daily", language="en", time_zone="Asia/Dubai")
    # 09:00 UTC is 13:00 in Dubai: today's 07:00 has passed, the first edition is tomorrow's.
    timing = welcome.timing(subscriber, now=NOW)
    assert (timing.time, timing.zone, timing.first) == ("07:00", "Asia/Dubai", "Tuesday 1 December")
    subscriber.save()
    message = welcome.build_welcome_email(subscriber, now=NOW)
    assert message.subject.startswith("Welcome to")
    assert "every day at 07:00, Dubai time. Your first edition: Tuesday 1 December." in message.body
    blank = Subscriber(email="b@example.com", frequency="daily", language="ar", time_zone="")
    assert welcome.timing(blank, now=NOW).zone == settings.TIME_ZONE


@pytest.mark.django_db
def test_no_edition_sent_yet_links_the_archive_and_a_left_reader_gets_nothing(
    outbox, django_capture_on_commit_callbacks
) -> None:
    subscriber = pending()
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.confirm(subscriber_uuid=subscriber.uuid)
    [message] = welcomes(outbox)
    assert re.search(r"http://testserver/archive/\s", text_of(message))

    Subscriber.objects.filter(pk=subscriber.pk).update(status=Subscriber.Status.UNSUBSCRIBED)
    assert welcome.send_welcome_email(subscriber_id=subscriber.pk) is False
    assert len(welcomes(outbox)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_confirmations_at_once_send_one_welcome(outbox) -> None:
    subscriber = pending("race@example.com")
    outcomes = run_concurrently(lambda: lifecycle.confirm(subscriber_uuid=subscriber.uuid), threads=4)
    assert sorted(outcomes).count(lifecycle.ConfirmOutcome.CONFIRMED) == 1
    assert len(welcomes(outbox)) == 1
