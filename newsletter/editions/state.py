"""The edition state machine: one table of the status transitions an edition (Digest) may make,
and one function that applies a transition as a conditional UPDATE.

    draft --approve--> approved --unapprove--> draft
    draft --skip--> skipped                          (too few stories at the scheduled run)
    draft | approved --dispatch--> sending --finish--> sent
    sending --pause--> paused --resume--> sending
    draft | approved | sending | paused --cancel--> cancelled
    approved --withdraw--> cancelled                 (an alert in its cancel window: nothing sent)

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
    Transition.CANCEL: ((S.DRAFT, S.APPROVED, S.SENDING, S.PAUSED), S.CANCELLED),
    Transition.WITHDRAW: ((S.APPROVED,), S.CANCELLED),
}

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
