"""The edition state machine: one table of the status transitions an edition (Digest) may make,
and one function that applies a transition as a conditional UPDATE.

    draft --approve--> approved --unapprove--> draft
    draft --skip--> skipped                          (too few stories at the scheduled run)
    draft | approved --dispatch--> sending --finish--> sent
    sending --pause--> paused --resume--> sending
    draft | approved | testing | waiting | sending | paused --cancel--> cancelled
    approved --withdraw--> cancelled                 (an alert in its cancel window: nothing sent)

A subject-line test (newsletter.orchestration.subject_tests) takes the longer road:

    draft | approved --start_test--> testing --test_sent--> waiting --choose_winner--> sending
                                     testing --choose_winner--> sending   (an editor who does not wait)

`start_test` sends the test share (the rest is held), `test_sent` marks the share settled and
starts the wait, `choose_winner` stores the winner and why in the same UPDATE and releases the rest:
two clicks of "choose the winner now", or a click and the beat, release it once.

`apply` moves the row only from one of the transition's source statuses, in one statement, so
of two concurrent callers (a double click, two beats, a click and the beat) exactly one gets
True; the other changes nothing. Every transition stamps `updated_at` (the sweeper's window for
cancelled editions and the render cache key read it).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Digest

S = Digest.Status


class Transition(enum.StrEnum):
    APPROVE = "approve"
    UNAPPROVE = "unapprove"
    SKIP = "skip"
    DISPATCH = "dispatch"
    FINISH = "finish"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    START_TEST = "start_test"
    TEST_SENT = "test_sent"
    CHOOSE_WINNER = "choose_winner"
    WITHDRAW = "withdraw"


# transition: (statuses it may start from, status it ends in)
TRANSITIONS: dict[Transition, tuple[tuple[str, ...], str]] = {
    Transition.APPROVE: ((S.DRAFT,), S.APPROVED),
    Transition.UNAPPROVE: ((S.APPROVED,), S.DRAFT),
    Transition.SKIP: ((S.DRAFT,), S.SKIPPED),
    Transition.DISPATCH: ((S.DRAFT, S.APPROVED), S.SENDING),
    Transition.FINISH: ((S.SENDING,), S.SENT),
    Transition.PAUSE: ((S.SENDING,), S.PAUSED),
    Transition.RESUME: ((S.PAUSED,), S.SENDING),
    Transition.CANCEL: ((S.DRAFT, S.APPROVED, S.TESTING, S.WAITING, S.SENDING, S.PAUSED), S.CANCELLED),
    Transition.START_TEST: ((S.DRAFT, S.APPROVED), S.TESTING),
    Transition.TEST_SENT: ((S.TESTING,), S.WAITING),
    Transition.CHOOSE_WINNER: ((S.TESTING, S.WAITING), S.SENDING),
    Transition.WITHDRAW: ((S.APPROVED,), S.CANCELLED),
}

# Statuses whose queued rows the batch tasks send: the test share (testing), everyone (sending).
SENDING_STATUSES: tuple[str, ...] = (S.TESTING, S.SENDING)
# Statuses of an edition that went out to readers, at least in part.
LIVE_STATUSES: tuple[str, ...] = (S.TESTING, S.WAITING, S.SENDING, S.PAUSED)

# Statuses in which editors may still change the edition.
EDITABLE_STATUSES = TRANSITIONS[Transition.DISPATCH][0]


def apply(transition: Transition, *, digest_id: int, **fields: Any) -> bool:
    """Make `transition` if the edition is in one of its source statuses; True only for the
    call that moved it. `fields` are written in the same UPDATE (timestamps, approver, reason)."""
    sources, target = TRANSITIONS[transition]
    fields.setdefault("updated_at", timezone.now())
    return bool(Digest.objects.filter(id=digest_id, status__in=sources).update(status=target, **fields))


def may(transition: Transition, status: str) -> bool:
    """Whether an edition in `status` may make `transition` (for buttons and early checks)."""
    return status in TRANSITIONS[transition][0]


class DigestError(Exception):
    """An editor operation that cannot be done; the message is shown to the editor."""


class NotEditable(DigestError):
    """The edition is no longer a draft or approved (sending, sent, cancelled, skipped)."""


def lock_editable(digest_id: int, *, statuses: Sequence[str] = EDITABLE_STATUSES) -> Digest:
    """Lock the edition row for an edit; refuse once it is past draft/approved. Call inside
    transaction.atomic(). The lock makes the dispatch transition's UPDATE wait for us."""
    digest = Digest.objects.select_for_update().filter(pk=digest_id).first()
    if digest is None:
        raise DigestError(_("العدد غير موجود."))
    if digest.status not in statuses:
        raise NotEditable(_("لا يمكن تعديل عدد حالته «%(status)s».") % {"status": digest.get_status_display()})
    return digest
