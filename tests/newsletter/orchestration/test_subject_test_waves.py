"""Subject-line tests with local-time waves (issue 27): the test runs in the earliest wave, the
later waves get its winner; each reader still gets one email of the day."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from newsletter.delivery.models import Delivery
from newsletter.editions import variants
from newsletter.editions.models import Digest, SubjectVariant
from newsletter.orchestration import runs, subject_tests
from newsletter.subscribers.models import Subscriber
from tests.newsletter.digest_helpers import local_seven, ranked_articles, subscriber

pytestmark = pytest.mark.django_db
FIRST, SECOND = "الأكثر قراءة: يوم الموازنة", "ما الذي تغيّره الموازنة في حياتك؟"


def test_the_earliest_wave_tests_and_the_later_waves_get_the_winner(outbox, django_capture_on_commit_callbacks) -> None:
    day = (timezone.now() - timedelta(days=3)).astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    ticks = [day + timedelta(hours=h) for h in range(24)]
    for offset in (-2, -1, 0, 1):
        ranked_articles(6, at=day + timedelta(days=offset, hours=12), prefix=f"يوم {offset}")
    for index in range(40):
        zone = "Asia/Dubai" if index < 20 else "Asia/Baghdad"
        reader = subscriber(f"wave{index}@example.com")
        Subscriber.objects.filter(pk=reader.pk).update(time_zone=zone)
    dubai, _ = local_seven("Asia/Dubai", ticks)
    baghdad, _ = local_seven("Asia/Baghdad", ticks)
    edition = runs.next_draft("daily", now=dubai - timedelta(minutes=30))
    variants.set_subject_test(digest_id=edition.pk, subjects=[FIRST, SECOND], share_percent=50)

    with django_capture_on_commit_callbacks(execute=True):
        runs.run_waves(frequency="daily", now=dubai)
    first_wave = Digest.objects.get(wave_of=edition, utc_offset__isnull=False)
    assert first_wave.status == Digest.Status.WAITING
    assert Counter(str(m["Subject"]).strip() for m in outbox()) == {FIRST: 5, SECOND: 5}
    # The edition's lines are frozen once a wave tests them.
    with pytest.raises(variants.TestStarted):
        variants.set_subject_test(digest_id=edition.pk, subjects=["آخر", "وآخر"])

    assert first_wave.test_sent_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        subject_tests.advance(now=first_wave.test_sent_at + timedelta(minutes=61))
    edition.refresh_from_db()
    assert edition.subject == FIRST and edition.test_winner == SubjectVariant.objects.get(digest=edition, position=1)

    with django_capture_on_commit_callbacks(execute=True):
        runs.run_waves(frequency="daily", now=baghdad)
    later = Digest.objects.filter(wave_of=edition).exclude(pk=first_wave.pk).get()
    assert later.status == Digest.Status.SENT and later.test_started_at is None
    assert not SubjectVariant.objects.filter(digest=later).exists()
    assert Counter(str(m["Subject"]).strip() for m in outbox()) == {FIRST: 35, SECOND: 5}
    assert Counter(Delivery.objects.values_list("subscriber_id", flat=True)).most_common(1)[0][1] == 1
    assert len({str(m["To"]) for m in outbox()}) == 40
