"""The delivery guarantee of newsletter.delivery (its package docstring), point by point, against
the real database and Redis; the ESP is the local Mailgun emulator (bench/esp_emulator.py) or
the development outbox."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from anymail.utils import UNSET
from django.utils import timezone

from bench.esp_emulator import Emulator
from newsletter.delivery import batch, controls, dispatch, esp, outcomes, recipients, sweeper
from newsletter.delivery.models import Delivery
from newsletter.editions.models import Digest
from newsletter.editions.segments import Segment
from newsletter.email.message import batch_message
from newsletter.email.render import MERGE_FIELDS, RenderedEmail
from newsletter.subscribers import token_links, tokens
from newsletter.subscribers.models import Subscriber
from newsletter.tasks import send_batch as send_batch_task
from tests.concurrency import run_concurrently
from tests.integration.helpers import make_digest, make_section, make_subscribers
from tests.newsletter.delivery.test_throttle import penalty_factor

pytestmark = pytest.mark.django_db
D = Delivery.Status


@pytest.fixture
def emulator(settings):
    server = Emulator().start()
    settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
    settings.ANYMAIL = {
        "MAILGUN_API_KEY": "test-key",
        "MAILGUN_API_URL": server.api_url,
        "REQUESTS_TIMEOUT": (2, 5),
    }
    settings.SEND_RETRY_BASE_SECONDS = 0.01
    settings.SEND_RETRY_MAX_SECONDS = 0.05
    yield server
    server.stop()


def no_sleep(_: float) -> None:
    pass


def test_batch_via_mailgun_one_call_each_recipient_own_unsubscribe(emulator) -> None:
    digest = make_digest()
    ids = make_subscribers(30)
    report = dispatch.send_all_sync(digest_id=digest.id)
    assert (report.sent, report.failed, report.unknown, report.skipped) == (30, 0, 0, 0)
    stats = emulator.state.stats()
    assert stats["accepted_requests"] == 1
    assert stats["unique"] == 30 and stats["duplicates"] == 0
    records = {r["to"]: r for r in emulator.state.records}
    subscribers = Subscriber.objects.filter(id__in=ids)
    urls = set()
    for sub in subscribers:
        record = records[sub.email]
        expected = token_links.unsubscribe_url(sub.uuid)
        assert record["list_unsubscribe"] == f"<{expected}>"
        assert record["list_unsubscribe_post"] == "List-Unsubscribe=One-Click"
        assert record["url_in_text"] and record["url_in_html"]
        delivery = Delivery.objects.get(digest=digest, subscriber=sub)
        assert record["metadata"]["delivery_id"] == str(delivery.id)
        assert record["metadata"]["digest_id"] == str(digest.id)
        assert delivery.esp_message_id == record["message_id"]
        urls.add(expected)
    assert len(urls) == 30
    digest.refresh_from_db()
    assert digest.status == Digest.Status.SENT and digest.sent_at is not None
    assert (digest.audience_count, digest.sent_count, digest.failed_count) == (30, 30, 0)


# --- 1. dispatch: snapshot once -----------------------------------------------------------------


def test_dispatch_snapshots_active_audience_of_the_frequency_in_batches(
    settings, django_capture_on_commit_callbacks
) -> None:
    settings.SEND_BATCH_SIZE = 10
    digest = make_digest()
    daily = make_subscribers(25)
    make_subscribers(3, frequency="weekly")
    make_subscribers(2, status=Subscriber.Status.UNSUBSCRIBED)
    make_subscribers(2, status=Subscriber.Status.PENDING)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = dispatch.dispatch(digest_id=digest.id)
    assert result.dispatched and result.audience == 25 and result.batches == [0, 1, 2]
    assert len(callbacks) == 1  # the enqueue runs only after commit
    rows = Delivery.objects.filter(digest=digest)
    assert sorted(rows.values_list("subscriber_id", flat=True)) == sorted(daily)
    assert set(rows.values_list("status", flat=True)) == {D.QUEUED}
    sizes = {b: rows.filter(batch=b).count() for b in (0, 1, 2)}
    assert sizes == {0: 10, 1: 10, 2: 5}
    digest.refresh_from_db()
    assert digest.status == Digest.Status.SENDING and digest.audience_count == 25


def test_dispatch_twice_does_nothing_the_second_time(settings) -> None:
    digest = make_digest()
    make_subscribers(5)
    assert dispatch.dispatch(digest_id=digest.id, enqueue=False).dispatched
    make_subscribers(5)  # joined after dispatch: not in this edition
    again = dispatch.dispatch(digest_id=digest.id, enqueue=False)
    assert not again.dispatched
    assert Delivery.objects.filter(digest=digest).count() == 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_dispatch_sends_nothing_twice(emulator) -> None:
    """On PostgreSQL the two dispatches race on the conditional UPDATE; on SQLite the database
    lock serialises them, so there this proves only that a second dispatch does nothing."""
    digest = make_digest()
    make_subscribers(40)
    results = run_concurrently(lambda: dispatch.dispatch(digest_id=digest.id, enqueue=False))
    assert sorted(r.dispatched for r in results) == [False, True]
    assert Delivery.objects.filter(digest=digest).count() == 40
    dispatch.send_all_sync(digest_id=digest.id)
    dispatch.send_all_sync(digest_id=digest.id)
    stats = emulator.state.stats()
    assert stats["unique"] == 40 and stats["duplicates"] == 0


def test_an_edition_without_audience_is_sent_at_once() -> None:
    digest = make_digest()
    result = dispatch.dispatch(digest_id=digest.id, enqueue=False)
    assert result.dispatched and result.audience == 0
    digest.refresh_from_db()
    assert digest.status == Digest.Status.SENT


# --- 2. claims: a batch task that runs twice ------------------------------------------------------


def test_same_batch_task_twice_sends_nothing_twice(emulator) -> None:
    digest = make_digest()
    make_subscribers(20)
    dispatch.dispatch(digest_id=digest.id, enqueue=False)
    first = send_batch_task.apply(args=(digest.id, 0)).get()
    second = send_batch_task.apply(args=(digest.id, 0)).get()
    assert first["sent"] == 20 and second["claimed"] == 0 and second["sent"] == 0
    assert emulator.state.stats()["recipients"] == 20


def test_rows_claimed_elsewhere_are_not_taken(emulator) -> None:
    digest = make_digest()
    make_subscribers(10)
    dispatch.dispatch(digest_id=digest.id, enqueue=False)
    other = timezone.now()
    taken = Delivery.objects.filter(digest=digest).order_by("id")[:4]
    Delivery.objects.filter(id__in=[d.id for d in taken]).update(status=D.CLAIMED, claimed_at=other)
    result = batch.send_batch(digest_id=digest.id, batch=0)
    assert result.claimed == 6 and result.sent == 6
    assert Delivery.objects.filter(digest=digest, status=D.CLAIMED, claimed_at=other).count() == 4


# --- 5. status re-checked at send time -------------------------------------------------------------


def test_unsubscribe_after_dispatch_is_honoured(emulator) -> None:
    digest = make_digest()
    ids = make_subscribers(6)
    dispatch.dispatch(digest_id=digest.id, enqueue=False)
    leaver = Subscriber.objects.get(id=ids[2])
    Subscriber.objects.filter(id=leaver.id).update(status=Subscriber.Status.UNSUBSCRIBED)
    report = dispatch.send_all_sync(digest_id=digest.id)
    assert (report.sent, report.skipped) == (5, 1)
    skipped = Delivery.objects.get(digest=digest, subscriber=leaver)
    assert skipped.status == D.SKIPPED and "unsubscribed" in skipped.error
    assert leaver.email not in {r["to"] for r in emulator.state.records}


def test_one_api_call_per_segment_and_no_segment_skipped(emulator, settings) -> None:
    settings.DIGEST_MIN_STORIES = 2
    politics, sport = make_section("politics", "سياسة"), make_section("sport", "رياضة")
    digest = make_digest(stories=5, sections=[politics, politics, politics, politics, sport])
    arabic = make_subscribers(4)
    english = make_subscribers(3, language="en", prefix="en")
    sporty = make_subscribers(2, prefix="sport")
    for sub in Subscriber.objects.filter(id__in=sporty):
        sub.topics.set([sport])
    report = dispatch.send_all_sync(digest_id=digest.id)
    assert (report.sent, report.skipped) == (9, 0)
    assert emulator.state.stats()["accepted_requests"] == 3  # one call per rendered segment
    assert len(arabic) + len(english) + len(sporty) == emulator.state.stats()["unique"]


def test_a_topic_follower_gets_their_sections_most_read_topped_up_never_skipped(settings, mailoutbox) -> None:
    """Issue 12: a reader following only sport received nothing when the overall top list held
    fewer than DIGEST_MIN_STORIES sport stories ("too few stories for this segment")."""
    from tests.newsletter.digest_helpers import article

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DIGEST_MIN_STORIES = 3
    politics, sport = make_section("politics", "سياسة"), make_section("sport", "رياضة")
    economy = make_section("economy", "اقتصاد")
    digest = make_digest(stories=5, sections=[politics])  # the general list: politics only
    less_read = article("مباراة الأمس في الدوري", readers=40, sec=sport)
    most_read_sport = article("نهائي الكأس الليلة", readers=90, sec=sport)
    for prefix, topics in (("sport", [sport]), ("economy", [economy]), ("two", [sport, economy]), ("all", [])):
        Subscriber.objects.get(id=make_subscribers(1, prefix=prefix)[0]).topics.set(topics)
    report = dispatch.send_all_sync(digest_id=digest.id)
    assert (report.sent, report.skipped) == (4, 0)
    bodies = {re.match(r"[a-z]+", message.to[0]).group(0): message.body for message in mailoutbox}
    sport_text = bodies["sport"]
    first, second = sport_text.index(most_read_sport.title), sport_text.index(less_read.title)
    heading = sport_text.index("الأكثر قراءة في الموقع")
    assert first < second < heading  # the sport stories first, most read first, then the top-up
    assert len(re.findall(r"خبر \d+-\d+ عن", sport_text)) == 1  # topped up to DIGEST_MIN_STORIES from the general list
    assert "الأكثر قراءة في الموقع" in bodies["economy"] and most_read_sport.title not in bodies["economy"]
    assert bodies["two"].index(most_read_sport.title) < bodies["two"].index("الأكثر قراءة في الموقع")
    assert "الأكثر قراءة في الموقع" not in bodies["all"] and most_read_sport.title not in bodies["all"]


# --- 4. retries only when not accepted; unknown never resent ---------------------------------------


@pytest.mark.parametrize("status", [429, 503])
def test_429_and_503_are_retried_with_backoff_until_accepted(emulator, status) -> None:
    digest = make_digest()
    make_subscribers(8)
    emulator.state.set_faults({"status": status, "count": 2})
    waits: list[float] = []
    report = dispatch.send_all_sync(digest_id=digest.id, sleep=waits.append)
    assert report.sent == 8
    stats = emulator.state.stats()
    assert (stats["requests"], stats["rejected_requests"], stats["recipients"]) == (3, 2, 8)
    assert len(waits) == 2 and all(0 < w <= 0.05 for w in waits)
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {3}
    assert (penalty_factor() < 1) == (status == 429)  # a 429 slows the shared rate


def test_retry_through_the_celery_task(emulator) -> None:
    digest = make_digest()
    make_subscribers(5)
    dispatch.dispatch(digest_id=digest.id, enqueue=False)
    emulator.state.set_faults({"status": 503, "count": 1})
    send_batch_task.apply(args=(digest.id, 0), throw=False)  # eager: the retry runs inline
    assert emulator.state.stats()["recipients"] == 5
    assert Delivery.objects.filter(status=D.SENT).count() == 5


def test_gives_up_after_max_attempts(emulator, settings) -> None:
    settings.SEND_MAX_ATTEMPTS = 3
    digest = make_digest()
    make_subscribers(4)
    emulator.state.set_faults({"status": 503, "count": 100})
    report = dispatch.send_all_sync(digest_id=digest.id, sleep=no_sleep)
    assert (report.sent, report.failed) == (0, 4)
    assert emulator.state.stats()["requests"] == 3
    assert "gave up after 3 attempts" in Delivery.objects.first().error
    digest.refresh_from_db()
    assert digest.failed_count == 4 and digest.status == Digest.Status.SENT


def test_connection_refused_is_retried(emulator, settings) -> None:
    settings.SEND_MAX_ATTEMPTS = 2
    closed = Emulator()
    dead_url = closed.api_url
    closed.server.server_close()  # nothing listens there now
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_API_URL": dead_url}
    digest = make_digest()
    make_subscribers(3)
    dispatch.dispatch(digest_id=digest.id, enqueue=False)
    with pytest.raises(outcomes.RetryLater):
        batch.send_batch(digest_id=digest.id, batch=0)
    assert set(Delivery.objects.values_list("status", flat=True)) == {D.QUEUED}
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_API_URL": emulator.api_url}
    assert batch.send_batch(digest_id=digest.id, batch=0).sent == 3


def test_4xx_is_failed_not_retried(emulator) -> None:
    digest = make_digest()
    make_subscribers(3)
    emulator.state.set_faults({"status": 400, "count": 1})
    report = dispatch.send_all_sync(digest_id=digest.id, sleep=no_sleep)
    assert (report.sent, report.failed) == (0, 3)
    assert emulator.state.stats()["requests"] == 1


def test_timeout_after_acceptance_is_unknown_and_never_resent(emulator, settings) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "REQUESTS_TIMEOUT": (2, 0.5)}
    digest = make_digest()
    make_subscribers(6)
    emulator.state.set_faults({"delay": 1.5, "count": 1})
    report = dispatch.send_all_sync(digest_id=digest.id, sleep=no_sleep)
    assert (report.sent, report.unknown) == (0, 6)
    assert "ReadTimeout" in Delivery.objects.first().error or "timed out" in Delivery.objects.first().error
    sweeper.sweep(now=timezone.now() + timedelta(hours=1))
    dispatch.send_all_sync(digest_id=digest.id, sleep=no_sleep)
    assert emulator.state.stats()["recipients"] == 6  # accepted once, never again
    digest.refresh_from_db()
    assert digest.unknown_count == 6 and digest.status == Digest.Status.SENT


def test_classify_error_table() -> None:
    import requests
    from anymail.exceptions import AnymailRequestsAPIError

    def wrapped(err: Exception) -> Exception:
        cls = type("AnymailRequestsAPIError", (AnymailRequestsAPIError, type(err)), {})
        try:
            try:
                raise err
            except Exception as inner:
                raise cls("posting failed") from inner
        except Exception as outer:
            return outer

    assert esp.classify_error(wrapped(requests.ConnectTimeout("connect"))) is esp.Outcome.RETRY
    assert esp.classify_error(wrapped(requests.ReadTimeout("read"))) is esp.Outcome.UNKNOWN
    assert esp.classify_error(wrapped(requests.ConnectionError("reset by peer"))) is esp.Outcome.UNKNOWN
    refused = requests.ConnectionError(ConnectionRefusedError(111, "Connection refused"))
    assert esp.classify_error(wrapped(refused)) is esp.Outcome.RETRY


def test_backoff_is_exponential_jittered_and_far_below_the_visibility_timeout(settings) -> None:
    from django.conf import settings as live

    settings.SEND_RETRY_BASE_SECONDS = 5
    settings.SEND_RETRY_MAX_SECONDS = 300
    samples = {n: [outcomes.backoff(n) for _ in range(50)] for n in (1, 2, 3, 10)}
    assert all(2.5 <= s <= 5 for s in samples[1]) and all(5 <= s <= 10 for s in samples[2])
    assert len(set(samples[3])) > 1  # jitter
    assert max(samples[10]) <= 300 < live.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] / 10


# --- 6. the sweeper ---------------------------------------------------------------------------------


def test_sweeper_requeues_claimed_settles_sending_and_reenqueues_queued(
    settings, django_capture_on_commit_callbacks
) -> None:
    settings.SEND_BATCH_SIZE = 5
    digest = make_digest()
    make_subscribers(15)
    dispatch.dispatch(digest_id=digest.id, enqueue=False)
    old = timezone.now() - timedelta(minutes=5)
    Delivery.objects.filter(batch=0).update(status=D.CLAIMED, claimed_at=old)  # worker died before the call
    Delivery.objects.filter(batch=1).update(status=D.SENDING, claimed_at=old, sending_at=old)  # died during it
    Delivery.objects.filter(batch=2).update(queued_at=old)  # its task was lost
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = sweeper.sweep()
    assert (report.requeued_claimed, report.settled_unknown, report.reenqueued_batches) == (5, 5, 2)
    assert set(Delivery.objects.filter(batch=1).values_list("status", flat=True)) == {D.UNKNOWN}
    assert len(callbacks) == 1
    # A fresh sweep right after does not enqueue the same batches again.
    assert sweeper.sweep().reenqueued_batches == 0


def test_sweeper_leaves_recent_and_retry_scheduled_rows_alone(settings) -> None:
    digest = make_digest()
    make_subscribers(5)
    dispatch.dispatch(digest_id=digest.id, enqueue=False)
    Delivery.objects.update(queued_at=timezone.now() + timedelta(minutes=2))  # a retry countdown
    report = sweeper.sweep()
    assert report.reenqueued_batches == 0 and report.requeued_claimed == 0


# --- 7. pause, resume, cancel ------------------------------------------------------------------------


def test_pause_resume_never_resends(emulator, settings, django_capture_on_commit_callbacks) -> None:
    settings.SEND_BATCH_SIZE = 4
    digest = make_digest()
    make_subscribers(12)
    dispatch.dispatch(digest_id=digest.id, enqueue=False)
    assert batch.send_batch(digest_id=digest.id, batch=0).sent == 4
    assert controls.pause(digest_id=digest.id)
    paused = batch.send_batch(digest_id=digest.id, batch=1)
    assert paused.claimed == 0 and "paused" in paused.note
    assert Delivery.objects.filter(status=D.QUEUED).count() == 8
    with django_capture_on_commit_callbacks(execute=True):
        assert controls.resume(digest_id=digest.id) == [1, 2]
    assert controls.resume(digest_id=digest.id) == []  # a second resume does nothing
    stats = emulator.state.stats()
    assert stats["unique"] == 12 and stats["duplicates"] == 0
    digest.refresh_from_db()
    assert digest.status == Digest.Status.SENT


def test_cancel_skips_the_rest(emulator, settings) -> None:
    settings.SEND_BATCH_SIZE = 5
    digest = make_digest()
    make_subscribers(10)
    dispatch.dispatch(digest_id=digest.id, enqueue=False)
    batch.send_batch(digest_id=digest.id, batch=0)
    assert controls.cancel(digest_id=digest.id).skipped == 5
    assert batch.send_batch(digest_id=digest.id, batch=1).claimed == 0
    assert emulator.state.stats()["recipients"] == 5
    assert Delivery.objects.filter(status=D.SKIPPED, error="edition cancelled").count() == 5


# --- per-recipient path (SMTP, outbox) -------------------------------------------------------------


def test_outbox_one_personal_message_per_recipient(outbox, settings) -> None:
    settings.EMAIL_BACKEND = "newsletter.backends.outbox.OutboxEmailBackend"  # pytest-django sets locmem
    settings.SEND_BATCH_SIZE = 7
    digest = make_digest()
    ids = make_subscribers(10)
    report = dispatch.send_all_sync(digest_id=digest.id)
    assert report.sent == 10
    messages = outbox()
    assert len(messages) == 10
    by_to = {str(m["To"]): m for m in messages}
    for sub in Subscriber.objects.filter(id__in=ids):
        message = by_to[sub.email]
        url = token_links.unsubscribe_url(sub.uuid)
        assert str(message["List-Unsubscribe"]).strip() == f"<{url}>"  # may be folded
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert str(message["List-Id"]).endswith("<daily-digest.example.com>")  # RFC 2919
        assert "النشرة الإخبارية" in str(message["List-Id"])  # the description, decoded
        assert url in message.get_body(("plain",)).get_content()
        assert url in message.get_body(("html",)).get_content()
        assert "[[" not in message.get_body(("html",)).get_content()
        delivery = Delivery.objects.get(subscriber=sub)
        assert delivery.esp_message_id == message["Message-ID"]


def test_per_recipient_path_shares_one_connection(settings, monkeypatch) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.core import mail
    from django.core.mail.backends.locmem import EmailBackend

    opened: list[int] = []
    original = EmailBackend.open
    monkeypatch.setattr(EmailBackend, "open", lambda self: opened.append(1) or original(self))
    digest = make_digest()
    make_subscribers(30)
    dispatch.send_all_sync(digest_id=digest.id)
    assert len(mail.outbox) == 30 and all(len(m.to) == 1 for m in mail.outbox)
    assert len(opened) == 1  # one batch, one connection


# --- hot path: queries per batch do not grow with the batch ---------------------------------------


@pytest.mark.parametrize("size", [10, 200])
def test_batch_query_count_is_constant(emulator, django_assert_num_queries, size) -> None:
    digest = make_digest()
    make_subscribers(size)
    dispatch.dispatch(digest_id=digest.id, enqueue=False)
    # Rendering (the digest engineer's queries) happens once per segment per process: warm it.

    batch.render(Digest.objects.get(id=digest.id), Segment(language="ar"), esp.current_profile())
    # digest, claim (UPDATE ... RETURNING), topics, subscribers (with their reader profiles, issue
    # 25), to-sending, sent, counters, counters add up (one Digest row), pending check over the
    # rows (last batch only), digest sent
    with django_assert_num_queries(10):
        result = batch.send_batch(digest_id=digest.id, batch=0)
    assert result.sent == size


def test_a_batch_that_is_not_the_last_never_scans_the_edition(emulator, settings, django_assert_num_queries) -> None:
    """The finish check reads the edition's counters; the rows are asked only once the counters
    add up to the audience (before, every batch scanned the edition for a pending row)."""
    settings.SEND_BATCH_SIZE = 5
    digest = make_digest()
    make_subscribers(10)
    assert dispatch.dispatch(digest_id=digest.id, enqueue=False).batches == [0, 1]
    batch.render(Digest.objects.get(id=digest.id), Segment(language="ar"), esp.current_profile())
    # digest, claim, topics, subscribers (and profiles), to-sending, sent, counters, counters add up
    with django_assert_num_queries(8) as captured:
        assert batch.send_batch(digest_id=digest.id, batch=0).sent == 5
    assert not any('"status" IN' in q["sql"] and "LIMIT 1" in q["sql"] for q in captured.captured_queries)
    assert Digest.objects.get(id=digest.id).status == Digest.Status.SENDING
    assert batch.send_batch(digest_id=digest.id, batch=1).sent == 5
    assert Digest.objects.get(id=digest.id).status == Digest.Status.SENT


def test_an_edition_whose_counters_fell_short_is_finished_by_the_sweeper(emulator, settings) -> None:
    """A worker that died after recording its rows but before adding to the counters leaves them
    short: the batch path then never finishes the edition, the sweeper's full check does."""
    digest = make_digest()
    make_subscribers(3)
    dispatch.dispatch(digest_id=digest.id, enqueue=False)
    assert batch.send_batch(digest_id=digest.id, batch=0).sent == 3
    Digest.objects.filter(id=digest.id).update(status=Digest.Status.SENDING, sent_count=1, sent_at=None)
    batch.send_batch(digest_id=digest.id, batch=0)  # nothing queued: counters say not settled
    assert Digest.objects.get(id=digest.id).status == Digest.Status.SENDING
    assert sweeper.sweep().finished_digests == 1
    assert Digest.objects.get(id=digest.id).status == Digest.Status.SENT


def test_fast_link_templates_equal_newsletter_links() -> None:
    sub = Subscriber.objects.get(id=make_subscribers(1)[0])
    templates = recipients.link_templates()
    fast = recipients.LinkMaker(templates).values(sub.uuid.hex, sub.name)
    assert fast["unsubscribe_url"] == token_links.unsubscribe_url(sub.uuid)
    assert fast["preferences_url"] == token_links.preferences_url(sub.uuid)
    # What one recipient's values are, built the slow way (one reverse() and one Signer each).
    reference = {
        "unsubscribe_url": token_links.unsubscribe_url(sub.uuid),
        "preferences_url": token_links.preferences_url(sub.uuid),
        "click_token": tokens.make_token(sub.uuid, tokens.Purpose.CLICK),
        "name": sub.name,
    }
    assert fast == {name: reference.get(name, "") for name in MERGE_FIELDS}


# --- admin -------------------------------------------------------------------------------------------


def test_delivery_admin_search_filter_and_edition_counts(admin_client, settings) -> None:
    from newsletter.admin.deliveries import delivery_counts

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    digest = make_digest()
    ids = make_subscribers(5)
    dispatch.send_all_sync(digest_id=digest.id)
    target = Subscriber.objects.get(id=ids[3])
    response = admin_client.get(f"/admin/newsletter/delivery/?digest__id__exact={digest.id}&q={target.email}")
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [Delivery.objects.get(subscriber=target)]
    assert admin_client.get("/admin/newsletter/delivery/?status__exact=sent").status_code == 200
    html = delivery_counts(digest)
    # the counts in the digits NUMERALS chooses: Arabic-Indic in Arabic by default, Latin when set
    assert "<th>أُرسل</th><td>٥</td>" in html
    assert f"digest__id__exact={digest.id}" not in html  # the list is linked only for who may open it
    digest.may_view_deliveries = True  # the digest admin sets it for administrators (newsletter.admin.reports)
    assert f"digest__id__exact={digest.id}" in delivery_counts(digest)
    settings.NUMERALS = "latin"
    assert "<th>أُرسل</th><td>5</td>" in delivery_counts(digest)


def test_editors_cannot_see_deliveries(client, django_user_model) -> None:
    from django.contrib.auth.models import Group

    editor = django_user_model.objects.create_user("editor", password="pw-12345-long", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))  # created by a migration
    client.force_login(editor)
    assert client.get("/admin/newsletter/delivery/").status_code == 403
    assert client.get("/admin/newsletter/digest/").status_code == 200  # they do curate editions


def test_a_rolled_back_dispatch_enqueues_nothing(django_capture_on_commit_callbacks) -> None:
    from django.db import transaction

    digest = make_digest()
    make_subscribers(3)
    with django_capture_on_commit_callbacks(execute=False) as callbacks, pytest.raises(RuntimeError):
        with transaction.atomic():
            dispatch.dispatch(digest_id=digest.id)
            raise RuntimeError("the caller failed after dispatching")
    assert callbacks == []
    assert not Delivery.objects.exists()
    digest.refresh_from_db()
    assert digest.status == Digest.Status.APPROVED


def test_mailgun_names_each_readers_unsubscribe_url_in_one_list_unsubscribe_header(settings) -> None:
    """With an ESP that merges into headers, List-Unsubscribe is one header naming the reader's
    unsubscribe_url merge field (the emulator tests above check each reader gets their own URL);
    the others keep anymail's per-recipient merge_headers."""
    rendered = RenderedEmail(subject="s", html="<p>h</p>", text="t")
    reader = recipients.Recipient(1, 2, "a@example.com", {"unsubscribe_url": "https://x.example/u/t/"})
    digest = make_digest()
    mailgun = esp.current_profile("newsletter.backends.mailgun.EmailBackend")
    assert mailgun.merges_headers and esp.current_profile("anymail.backends.mailgun.EmailBackend").merges_headers
    merged = batch_message(
        digest=digest,
        rendered=rendered,
        recipients=[reader],
        merge_keys={"unsubscribe_url": "unsubscribe_url"},
        connection=None,
        unsubscribe_field=mailgun.merge_field("unsubscribe_url"),
    )
    assert merged.extra_headers["List-Unsubscribe"] == "<%recipient.unsubscribe_url%>"
    assert merged.merge_headers is UNSET
    assert not esp.current_profile("anymail.backends.sendgrid.EmailBackend").merges_headers
    plain = batch_message(
        digest=digest, rendered=rendered, recipients=[reader], merge_keys={"unsubscribe_url": "u"}, connection=None
    )
    assert "List-Unsubscribe" not in plain.extra_headers
    assert plain.merge_headers == {"a@example.com": {"List-Unsubscribe": "<https://x.example/u/t/>"}}
