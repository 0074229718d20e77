"""Subject-line tests (issue 27): the state machine from the test share to the rest, against the
real database; emails land in the development outbox. Each reader gets exactly one email."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from django.utils import timezone, translation

from newsletter.analytics.models import Engagement
from newsletter.delivery import batch, controls, dispatch, sweeper
from newsletter.delivery.models import Delivery
from newsletter.editions import variants
from newsletter.editions.models import Digest, SubjectVariant, WinnerMetric, WinnerReason
from newsletter.orchestration import subject_tests
from tests.concurrency import run_concurrently
from tests.integration.helpers import make_digest, make_subscribers

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def arabic():
    # The editor's messages are Arabic first (another test may leave English active).
    with translation.override("ar"):
        yield


D = Delivery.Status
S = Digest.Status
FIRST, SECOND = "الأكثر قراءة اليوم: ميزانية ٢٠٢٧", "ميزانية ٢٠٢٧ كما لم تقرأها من قبل"


def start_test(readers: int, *, share: int | None = None, wait: int | None = None, metric: str = WinnerMetric.OPENS):
    digest = make_digest()
    make_subscribers(readers)
    variants.set_subject_test(
        digest_id=digest.pk, subjects=[FIRST, SECOND], share_percent=share, wait_minutes=wait, metric=metric
    )
    result = dispatch.dispatch(digest_id=digest.pk, enqueue=False)
    for number in result.batches:
        batch.send_batch(digest_id=digest.pk, batch=number)
    digest.refresh_from_db()
    return digest, result


def subjects_sent(outbox) -> Counter[str]:
    return Counter(str(message["Subject"]).strip() for message in outbox())


def recipients_sent(outbox) -> Counter[str]:
    return Counter(str(message["To"]) for message in outbox())


def engage(digest: Digest, variant: SubjectVariant, *, human: int = 0, machine: int = 0, clicks: int = 0) -> None:
    rows = (
        Delivery.objects.filter(digest=digest, variant=variant).order_by("id").values_list("subscriber_id", flat=True)
    )
    now = timezone.now()
    subscribers = list(rows)
    engagements = [Engagement(digest=digest, subscriber_id=s, human_open_at=now) for s in subscribers[:human]]
    engagements += [
        Engagement(digest=digest, subscriber_id=s, machine_open_at=now) for s in subscribers[human : human + machine]
    ]
    Engagement.objects.bulk_create(engagements)
    Engagement.objects.filter(digest=digest, subscriber_id__in=subscribers[:clicks]).update(clicked_at=now)


def after_wait(digest: Digest, minutes: int = 1) -> datetime:
    assert digest.test_sent_at is not None and digest.test_wait_minutes is not None
    return digest.test_sent_at + timedelta(minutes=digest.test_wait_minutes + minutes)


def test_the_test_share_goes_first_split_evenly_and_the_rest_is_held(outbox) -> None:
    digest, result = start_test(100)
    assert digest.status == S.WAITING and digest.test_sent_at is not None
    assert (digest.test_share_percent, digest.test_wait_minutes) == (20, 60)  # the defaults, written at the start
    statuses = Counter(Delivery.objects.filter(digest=digest).values_list("status", flat=True))
    assert statuses == {D.SENT: 20, D.HELD: 80}
    assert subjects_sent(outbox) == {FIRST: 10, SECOND: 10}
    # One row per reader: the held rows are the rest's, no second row comes for them later.
    assert Delivery.objects.filter(digest=digest).count() == 100
    assert digest.audience_count == 20 and result.batches == [0]


def test_the_winner_by_human_opens_goes_to_the_rest_machine_opens_excluded(outbox) -> None:
    digest, _ = start_test(1000)
    first, second = SubjectVariant.objects.filter(digest=digest).order_by("position")
    engage(digest, first, human=12, machine=0)
    engage(digest, second, human=40)
    # Machine opens would make the first subject the leader if they counted.
    Engagement.objects.filter(
        digest=digest,
        subscriber_id__in=Delivery.objects.filter(digest=digest, variant=first, status=D.SENT)
        .order_by("-id")
        .values_list("subscriber_id", flat=True)[:60],
    ).update(machine_open_at=timezone.now())
    assert subject_tests.advance(now=after_wait(digest, minutes=-1)) == []  # the wait is not over
    assert subject_tests.advance(now=after_wait(digest)) == [digest.pk]
    digest.refresh_from_db()
    assert digest.status == S.SENDING
    assert (digest.test_winner, digest.test_winner_reason, digest.subject) == (second, WinnerReason.LEADER, SECOND)
    second.refresh_from_db()
    assert (second.recipients, second.human_openers) == (100, 40)
    # The rest's batches (eager tasks in tests) and the finish.
    for number in sorted(set(Delivery.objects.filter(digest=digest, status=D.QUEUED).values_list("batch", flat=True))):
        batch.send_batch(digest_id=digest.pk, batch=number)
    digest.refresh_from_db()
    assert digest.status == S.SENT and digest.audience_count == 1000
    assert subjects_sent(outbox) == {FIRST: 100, SECOND: 900}
    assert set(recipients_sent(outbox).values()) == {1} and len(recipients_sent(outbox)) == 1000


def test_winner_by_click_rate_when_the_editor_chose_clicks(outbox) -> None:
    digest, _ = start_test(1000, metric=WinnerMetric.CLICKS)
    first, second = SubjectVariant.objects.filter(digest=digest).order_by("position")
    engage(digest, first, human=80, clicks=40)  # more opens, far more clicks
    engage(digest, second, human=90, clicks=12)
    assert subject_tests.choose_winner(digest_id=digest.pk)
    digest.refresh_from_db()
    assert (digest.test_winner, digest.test_winner_reason) == (first, WinnerReason.LEADER)


def test_a_tie_sends_the_editors_first_subject(outbox) -> None:
    digest, _ = start_test(1000)
    first, second = SubjectVariant.objects.filter(digest=digest).order_by("position")
    engage(digest, first, human=30)
    engage(digest, second, human=30)
    assert subject_tests.advance(now=after_wait(digest)) == [digest.pk]
    digest.refresh_from_db()
    assert (digest.test_winner, digest.test_winner_reason) == (first, WinnerReason.TOO_CLOSE)


def test_too_close_to_call_sends_the_first_subject_even_when_the_second_leads(outbox) -> None:
    digest, _ = start_test(1000)
    first, second = SubjectVariant.objects.filter(digest=digest).order_by("position")
    engage(digest, first, human=30)
    engage(digest, second, human=36)  # ahead, but well within chance at 100 readers each
    subject_tests.choose_winner(digest_id=digest.pk)
    digest.refresh_from_db()
    assert (digest.test_winner, digest.test_winner_reason) == (first, WinnerReason.TOO_CLOSE)


def test_no_data_when_the_wait_ends_sends_the_first_subject(outbox) -> None:
    digest, _ = start_test(50)
    subject_tests.advance(now=after_wait(digest))
    digest.refresh_from_db()
    first = SubjectVariant.objects.get(digest=digest, position=1)
    assert (digest.test_winner, digest.test_winner_reason, digest.subject) == (first, WinnerReason.NO_DATA, FIRST)


def test_a_restart_during_the_wait_resumes_and_a_lost_release_is_recovered(
    outbox, django_capture_on_commit_callbacks
) -> None:
    digest, _ = start_test(100, wait=30)
    # Beat and workers restart during the wait: nothing lives outside the database, so the next
    # check picks the test up where it was.
    assert subject_tests.advance(now=after_wait(digest, minutes=-10)) == []
    # The check after the wait releases the rest, and the worker dies before its batch tasks are
    # sent to the broker (the on-commit callbacks never run).
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert subject_tests.advance(now=after_wait(digest)) == [digest.pk]
    assert callbacks  # the enqueue that was lost
    assert Counter(Delivery.objects.filter(digest=digest).values_list("status", flat=True)) == {
        D.SENT: 20,
        D.QUEUED: 80,
    }
    # A second beat run changes nothing; the sweeper re-enqueues the queued rows (eager in tests).
    assert subject_tests.advance(now=after_wait(digest, minutes=2)) == []
    with django_capture_on_commit_callbacks(execute=True):
        report = sweeper.sweep(now=timezone.now() + timedelta(hours=2))
    assert report.reenqueued_batches >= 1
    digest.refresh_from_db()
    assert digest.status == S.SENT
    assert len(recipients_sent(outbox)) == 100 and set(recipients_sent(outbox).values()) == {1}


def test_two_clicks_of_choose_the_winner_now_send_the_rest_once(outbox, django_capture_on_commit_callbacks) -> None:
    digest, _ = start_test(100)
    with django_capture_on_commit_callbacks(execute=True):
        assert subject_tests.choose_winner(digest_id=digest.pk) is True
    with django_capture_on_commit_callbacks(execute=True) as second:
        assert subject_tests.choose_winner(digest_id=digest.pk) is False
        assert subject_tests.advance(now=timezone.now() + timedelta(days=1)) == []
    assert not second
    digest.refresh_from_db()
    assert digest.status == S.SENT
    assert len(recipients_sent(outbox)) == 100 and set(recipients_sent(outbox).values()) == {1}


def test_choosing_now_while_the_test_share_still_sends_releases_the_rest(outbox) -> None:
    digest = make_digest()
    make_subscribers(40)
    variants.set_subject_test(digest_id=digest.pk, subjects=[FIRST, SECOND])
    dispatch.dispatch(digest_id=digest.pk, enqueue=False)
    assert Digest.objects.get(pk=digest.pk).status == S.TESTING
    assert subject_tests.choose_winner(digest_id=digest.pk)
    for number in sorted(set(Delivery.objects.filter(digest=digest).values_list("batch", flat=True))):
        batch.send_batch(digest_id=digest.pk, batch=number)
    assert subjects_sent(outbox) == {FIRST: 36, SECOND: 4}
    assert Digest.objects.get(pk=digest.pk).status == S.SENT


def test_cancel_during_the_wait_skips_the_held_rest(outbox) -> None:
    digest, _ = start_test(100)
    assert controls.cancel(digest_id=digest.pk).skipped == 80
    assert subject_tests.advance(now=after_wait(digest)) == []
    assert len(outbox()) == 20


def test_editing_the_subjects_after_the_test_started_is_refused_and_says_why(outbox) -> None:
    digest, _ = start_test(20)
    with pytest.raises(variants.TestStarted, match="بدأ اختبار العناوين"):
        variants.set_subject_test(digest_id=digest.pk, subjects=["عنوان آخر", "وعنوان ثالث"])
    assert list(SubjectVariant.objects.filter(digest=digest).values_list("subject", flat=True)) == [FIRST, SECOND]


@pytest.mark.parametrize(
    ("subjects", "fields", "message"),
    [
        (["أ", "ب", "ج", "د", "هـ"], {}, "أقصى عدد"),
        (["عنوان", "عنوان"], {}, "مرتين"),
        (["عنوان وحيد"], {}, "عنوانين على الأقل"),
        (["ع" * 201, "ب"], {}, "أطول"),
        (["أ", "ب"], {"share_percent": 0}, "نسبة جمهور الاختبار"),
        (["أ", "ب"], {"share_percent": 95}, "نسبة جمهور الاختبار"),
        (["أ", "ب"], {"wait_minutes": 0}, "مدة الانتظار"),
        (["أ", "ب"], {"metric": "likes"}, "معيار الفوز"),
    ],
)
def test_bad_subject_test_input_is_refused_in_arabic_and_changes_nothing(subjects, fields, message) -> None:
    digest = make_digest()
    with pytest.raises(variants.state.DigestError, match=message):
        variants.set_subject_test(digest_id=digest.pk, subjects=subjects, **fields)
    assert not SubjectVariant.objects.filter(digest=digest).exists()


def test_changing_the_subjects_of_an_approved_edition_needs_approval_again(settings) -> None:
    settings.DIGEST_REQUIRE_APPROVAL = True
    digest = make_digest(status=S.APPROVED)
    assert variants.set_subject_test(digest_id=digest.pk, subjects=[FIRST, SECOND]) is True
    assert Digest.objects.get(pk=digest.pk).status == S.DRAFT


def test_an_edition_without_variants_sends_as_before(outbox) -> None:
    digest = make_digest()
    make_subscribers(10)
    dispatch.send_all_sync(digest_id=digest.pk)
    digest.refresh_from_db()
    assert digest.status == S.SENT and digest.test_started_at is None
    assert subjects_sent(outbox) == {digest.subject: 10}


# --- The winner rule (pure) ---------------------------------------------------------------------


def counts(n: int, opens: int, clickers: int = 0):
    from newsletter.analytics.experiment import ArmCounts

    return ArmCounts(recipients=n, human_openers=opens, clickers=clickers)


def test_rule_a_clear_leader_wins_a_tie_goes_to_the_first_and_no_data_to_the_first() -> None:
    from newsletter.analytics.variant_stats import decide

    assert decide([(1, counts(500, 50)), (2, counts(500, 150))], metric=WinnerMetric.OPENS).winner == 2
    tie = decide([(1, counts(500, 100)), (2, counts(500, 100))], metric=WinnerMetric.OPENS)
    assert (tie.winner, tie.reason) == (1, WinnerReason.TOO_CLOSE)
    none = decide([(1, counts(500, 0)), (2, counts(500, 0)), (3, counts(500, 0))], metric=WinnerMetric.OPENS)
    assert (none.winner, none.reason) == (1, WinnerReason.NO_DATA)
    # Too few readers to tell, however large the gap looks.
    small = decide([(1, counts(40, 2)), (2, counts(40, 20))], metric=WinnerMetric.OPENS)
    assert (small.winner, small.reason) == (1, WinnerReason.TOO_CLOSE)
    # Of four, the leader against the runner-up; by clicks, opens do not matter.
    four = [(1, counts(500, 400, 20)), (2, counts(500, 10, 90)), (3, counts(500, 10, 30)), (4, counts(500, 10, 25))]
    assert decide(four, metric=WinnerMetric.CLICKS).winner == 2


def test_the_editions_list_cancels_a_test_that_waits(outbox, rf, admin_user) -> None:
    from django.contrib import admin as django_admin
    from django.contrib.messages.storage.fallback import FallbackStorage

    from newsletter.admin.deliveries import cancel_sending

    digest, _ = start_test(100)
    request = rf.post("/")
    request.user = admin_user
    request.session = {}
    request._messages = FallbackStorage(request)
    cancel_sending(django_admin.site._registry[Digest], request, Digest.objects.filter(pk=digest.pk))
    assert Digest.objects.get(pk=digest.pk).status == S.CANCELLED
    assert Delivery.objects.filter(digest=digest, status=D.SKIPPED).count() == 80


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_choices_release_the_rest_once(outbox) -> None:
    """Two clicks at the same instant (or a click and the beat), in two connections: one makes
    the transition and releases the rest, the other changes nothing; every reader one email."""
    digest, _ = start_test(100)
    results = run_concurrently(lambda: subject_tests.choose_winner(digest_id=digest.pk), threads=3)
    assert sorted(results) == [False, False, True]
    digest.refresh_from_db()
    assert digest.status == S.SENT and digest.audience_count == 100
    assert len(recipients_sent(outbox)) == 100 and set(recipients_sent(outbox).values()) == {1}
