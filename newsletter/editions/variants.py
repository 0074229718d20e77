"""An edition's subject-line test as the editor sets it: up to four subject lines, the share of
the audience they go to first, the wait, and what the winner is chosen by. The test itself runs
in newsletter.orchestration.subject_tests; this module only writes what the editor typed.

Editing locks the edition row like every curation edit (state.lock_editable) and is refused once
the test has started, saying why: the variants are what the test share already received. With
approval required, the variants are part of what is approved: changing them sends an approved
edition back to draft, as an edition must be approved as it will go out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sitewide.dates import digits

from . import conf, state
from .models import Digest, SubjectVariant, WinnerMetric

SUBJECT_MAX = 200
SHARE_RANGE = (1, 90)  # percent: a test needs readers, the winner needs a rest to go to
WAIT_RANGE = (1, 24 * 60)  # minutes: at most a day, the edition is the day's news


class TestStarted(state.NotEditable):
    """The test share has its subject lines already."""


@dataclass(frozen=True)
class TestSettings:
    share_percent: int
    wait_minutes: int
    metric: str


def effective(digest: Digest) -> TestSettings:
    """The edition's test settings, the SUBJECT_TEST_* defaults where it has none."""
    defaults = conf.settings()
    return TestSettings(
        share_percent=digest.test_share_percent or defaults.SUBJECT_TEST_SHARE_PERCENT,
        wait_minutes=defaults.SUBJECT_TEST_WAIT_MINUTES
        if digest.test_wait_minutes is None
        else digest.test_wait_minutes,
        metric=digest.test_metric,
    )


def clean_subjects(subjects: Sequence[str]) -> list[str]:
    """The typed subject lines, one line each, empty ones dropped; refuses more than four, a line
    too long, or the same line twice (a test of a subject against itself measures nothing)."""
    cleaned = [" ".join(subject.split()) for subject in subjects]
    cleaned = [subject for subject in cleaned if subject]
    if len(cleaned) > SubjectVariant.MAX_VARIANTS:
        raise state.DigestError(
            _("أقصى عدد للعناوين المقترحة %(maximum)s.") % {"maximum": digits(SubjectVariant.MAX_VARIANTS)}
        )
    if any(len(subject) > SUBJECT_MAX for subject in cleaned):
        raise state.DigestError(_("العنوان أطول من %(maximum)s حرفًا.") % {"maximum": digits(SUBJECT_MAX)})
    if len(cleaned) == 1:
        raise state.DigestError(_("اختبار العناوين يحتاج عنوانين على الأقل؛ لعنوان واحد استعمل حقل العنوان."))
    if len(set(cleaned)) != len(cleaned):
        raise state.DigestError(_("العنوان نفسه مكتوب مرتين: اكتب عناوين مختلفة للاختبار."))
    return cleaned


def _check_range(value: int | None, bounds: tuple[int, int], message: str) -> None:
    if value is not None and not bounds[0] <= value <= bounds[1]:
        raise state.DigestError(message % {"low": digits(bounds[0]), "high": digits(bounds[1])})


def set_subject_test(
    *,
    digest_id: int,
    subjects: Sequence[str],
    share_percent: int | None = None,
    wait_minutes: int | None = None,
    metric: str = WinnerMetric.OPENS,
) -> bool:
    """Replace the edition's subject lines and test settings (None: the default). Two to four
    lines make a test; none, no test (the edition's own subject goes to everyone).
    Returns True when an approved edition went back to draft for the change."""
    cleaned = clean_subjects(subjects)
    _check_range(share_percent, SHARE_RANGE, _("نسبة جمهور الاختبار بين %(low)s و%(high)s بالمئة."))
    _check_range(wait_minutes, WAIT_RANGE, _("مدة الانتظار بين %(low)s و%(high)s دقيقة."))
    if metric not in WinnerMetric.values:
        raise state.DigestError(_("معيار الفوز غير معروف."))
    with transaction.atomic():
        digest = Digest.objects.select_for_update().filter(pk=digest_id).first()
        if digest is not None and digest.test_started_at is not None:
            raise TestStarted(
                _("بدأ اختبار العناوين وأُرسلت إلى جمهور الاختبار: لا يمكن تغيير العناوين أو إعداداتها بعد ذلك.")
            )
        digest = state.lock_editable(digest_id)
        current = list(SubjectVariant.objects.filter(digest=digest).values_list("subject", flat=True))
        unchanged = current == cleaned and (
            digest.test_share_percent,
            digest.test_wait_minutes,
            digest.test_metric,
        ) == (
            share_percent,
            wait_minutes,
            metric,
        )
        if unchanged:
            return False
        SubjectVariant.objects.filter(digest=digest).delete()
        SubjectVariant.objects.bulk_create(
            [SubjectVariant(digest=digest, position=i, subject=s) for i, s in enumerate(cleaned, start=1)]
        )
        fields = {"test_share_percent": share_percent, "test_wait_minutes": wait_minutes, "test_metric": metric}
        Digest.objects.filter(pk=digest.pk).update(**fields, updated_at=timezone.now())
        if digest.status == Digest.Status.APPROVED and conf.settings().DIGEST_REQUIRE_APPROVAL:
            return state.apply(state.Transition.UNAPPROVE, digest_id=digest.pk, approved_by=None, approved_at=None)
    return False


def subjects(digest: Digest) -> list[SubjectVariant]:
    return list(SubjectVariant.objects.filter(digest=digest).order_by("position"))
