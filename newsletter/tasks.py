"""Thin Celery tasks: each takes ids, calls one service function and returns a small dict.

The registered names (newsletter.task_names) are part of the deployment: beat rows and queue routes
refer to them. Services enqueue these tasks by name through newsletter.task_names, on commit, so they
see committed rows; this module imports the services, never the reverse.
"""

from __future__ import annotations

import math
from typing import Any

from celery import Task, shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.utils import timezone

from newsletter.orchestration import conf as orchestration_conf

from . import task_names
from .analytics import growth, rollup
from .delivery import batch as batches
from .delivery import esp, sweeper
from .delivery.outcomes import RetryLater
from .editions.models import Digest, Frequency
from .hygiene import emails as hygiene_emails
from .hygiene import rules
from .orchestration import runs, subject_tests, welcome
from .personal import history as personal_history
from .personal import preview as personal_preview
from .personal import rollup as personal_rollup
from .retention import pruning
from .subscribers import emails, signup

# Subscriber emails: 30 s, 60 s, ... up to 10 minutes between attempts, 5 retries.
EMAIL_RETRY_FACTOR = 30
EMAIL_RETRY_MAX_SECONDS = 600


def _retry_if_not_taken(task: Task, exc: Exception) -> None:
    """After a one-subscriber email failed: retry with backoff (Celery's retry raises) when the
    ESP clearly did not take it (newsletter.delivery.esp, as for digest batches); otherwise
    return and let the caller re-raise (an unknown outcome is never retried: no email twice)."""
    if esp.classify_error(exc) in (esp.Outcome.RETRY, esp.Outcome.THROTTLED):
        countdown = get_exponential_backoff_interval(
            factor=EMAIL_RETRY_FACTOR, retries=task.request.retries, maximum=EMAIL_RETRY_MAX_SECONDS, full_jitter=True
        )
        raise task.retry(exc=exc, countdown=countdown) from exc


@shared_task(name=task_names.SETTLE_KNOWN_SIGNUP)
def settle_known_signup(known: dict[str, Any]) -> str:
    """A signup of an address we already know, off the request path (signup.subscribe)."""
    return signup.settle_known_signup(known).outcome.value


@shared_task(bind=True, name=task_names.SEND_SUBSCRIBER_EMAIL, max_retries=5)
def send_subscriber_email(self: Task, subscriber_id: int, kind: str) -> bool:
    """Confirmation / "already subscribed" email for one subscriber. Retried with the digest
    batches' classification (newsletter.delivery.esp): only when the ESP clearly did not take
    it; an unknown outcome is not retried, so nobody gets the same email twice."""
    try:
        return emails.send_subscriber_email(subscriber_id=subscriber_id, kind=kind)
    except Exception as exc:
        _retry_if_not_taken(self, exc)
        raise


@shared_task(bind=True, name=task_names.SEND_WELCOME_EMAIL, max_retries=5)
def send_welcome_email(self: Task, subscriber_id: int) -> bool:
    """The welcome email after confirmation; retried like send_subscriber_email (never on an
    unknown outcome, so nobody is welcomed twice)."""
    try:
        return welcome.send_welcome_email(subscriber_id=subscriber_id)
    except Exception as exc:
        _retry_if_not_taken(self, exc)
        raise


@shared_task(bind=True, name=task_names.SEND_BATCH, acks_late=True, max_retries=None)
def send_batch(self: Task, digest_id: int, batch: int) -> dict[str, Any]:
    """Send one batch of an edition. Safe to run twice: rows are claimed in the database.
    Retry attempts are bounded by Delivery.attempts (SEND_MAX_ATTEMPTS), not by Celery."""
    try:
        return batches.send_batch(digest_id=digest_id, batch=batch).as_dict()
    except RetryLater as exc:
        # Whole seconds, rounded up: on RabbitMQ a countdown travels through native delayed
        # delivery, which counts whole seconds and refuses one under a second (Celery then drops
        # the retry: Reject without requeue), and SEND_RETRY_BASE_SECONDS may be fractional.
        raise self.retry(countdown=math.ceil(exc.countdown)) from exc


@shared_task(name=task_names.SWEEP_DELIVERIES)
def sweep_deliveries() -> dict[str, int]:
    """Periodic: re-enqueue stuck batches, settle rows stuck in `sending` as unknown."""
    return sweeper.sweep().as_dict()


@shared_task(name=task_names.RUN_SCHEDULED_DIGEST)
def run_scheduled_digest(frequency: str) -> dict[str, Any]:
    """Beat entry point (daily 07:00, weekly Saturday 08:00). Idempotent per (frequency,
    period): a second run or a second beat for the same period sends nothing more."""
    if orchestration_conf.settings().DIGEST_LOCAL_TIME:
        # Each subscriber's wave at their local edition hour (the hourly task sends the others).
        return {"waves": _waves(runs.run_waves(frequency=frequency))}
    outcome = runs.run_scheduled(frequency=frequency)
    return {"digest_id": outcome.digest.pk, "result": outcome.result.value}


@shared_task(name=task_names.RUN_DIGEST_WAVES)
def run_digest_waves() -> dict[str, Any]:
    """Beat entry point (hourly): send the waves of each frequency whose local edition time has
    come. Idempotent: one edition per subscriber per period however often it runs."""
    if not orchestration_conf.settings().DIGEST_LOCAL_TIME:
        return {}
    return {frequency: _waves(runs.run_waves(frequency=frequency)) for frequency in Frequency.values}


def _waves(outcomes: list[Any]) -> list[dict[str, Any]]:
    return [{"utc_offset": o.wave.utc_offset, "digest_id": o.digest_id, "result": o.result.value} for o in outcomes]


@shared_task(bind=True, name=task_names.SEND_HYGIENE_EMAIL, max_retries=5)
def send_hygiene_email(self: Task, subscriber_id: int, kind: str) -> bool:
    """The pending reminder or the sunset email; retried like send_subscriber_email."""
    try:
        return hygiene_emails.send_hygiene_email(subscriber_id=subscriber_id, kind=kind)
    except Exception as exc:
        _retry_if_not_taken(self, exc)
        raise


@shared_task(name=task_names.ROLLUP_ANALYTICS)
def rollup_analytics() -> dict[str, int]:
    """Periodic (5 min): clicks from Redis, then EditionStats/StoryClickStats of recent editions;
    then the readers' histories and profiles (newsletter.personal.rollup)."""
    figures = rollup.rollup().as_dict()
    return {**figures, **{f"personal_{k}": v for k, v in personal_rollup.rollup(now=timezone.now()).as_dict().items()}}


@shared_task(name=task_names.ROLLUP_GROWTH)
def rollup_growth() -> int:
    """Periodic (hourly): DailyGrowth of the last days."""
    return growth.rollup_growth()


@shared_task(name=task_names.LIST_HYGIENE)
def list_hygiene() -> dict[str, int]:
    """Periodic (hourly): pending reminder, pending purge, soft-bounce suppression."""
    return {
        "reminded": rules.remind_pending(),
        "purged": rules.purge_pending(),
        "soft_bounce_suppressed": rules.suppress_soft_bounces(),
    }


@shared_task(name=task_names.RUN_SUNSET)
def run_sunset() -> dict[str, int]:
    """Periodic (daily): the sunset policy (SUNSET_ENABLED)."""
    return rules.run_sunset().as_dict()


@shared_task(name=task_names.RELEASE_SCHEDULED_EDITIONS)
def release_scheduled_editions() -> dict[str, Any]:
    """Periodic (every minute): send the editions an editor scheduled for a time now past.
    Dispatch is a conditional transition, so an overlapping run or a "send now" sends once."""
    outcomes = runs.release_scheduled()
    return {"released": [o.digest.pk for o in outcomes if o.result == runs.RunResult.DISPATCHED]}


@shared_task(name=task_names.ADVANCE_SUBJECT_TESTS)
def advance_subject_tests() -> dict[str, Any]:
    """Periodic (every minute): send the winner of each subject-line test whose wait has passed
    to the rest. The choice is a conditional transition, so an overlapping run or a click sends once."""
    return {"released": subject_tests.advance()}


@shared_task(name=task_names.RELEASE_ALERT)
def release_alert(digest_id: int) -> dict[str, Any]:
    """An alert's cancel window has passed: send it unless cancelled (newsletter.alerts). The minute
    beat (release_scheduled_editions) sends it if this task is lost; dispatch sends it once."""
    digest = Digest.objects.filter(pk=digest_id).first()
    if digest is None:
        return {"result": "gone"}
    return {"result": runs.release(digest).result.value}


@shared_task(name=task_names.PRUNE_DELIVERIES)
def prune_deliveries() -> dict[str, int]:
    """Periodic (daily 03:30): retention. Each chunk commits on its own, so a run cut short
    loses nothing and the next one carries on."""
    return pruning.prune().as_dict()


@shared_task(name=task_names.FORGET_READER_HISTORY)
def forget_reader_history(subscriber_id: int) -> None:
    """A reader switched personal order off: their reading history and profile go."""
    personal_history.forget(subscriber_id=subscriber_id)


@shared_task(
    name=task_names.COUNT_PERSONAL_LISTS,
    time_limit=personal_preview.COUNT_TIME_LIMIT,
    soft_time_limit=personal_preview.COUNT_TIME_LIMIT - 60,
)
def count_personal_lists(digest_id: int) -> dict[str, int]:
    """On an editor's request: how many distinct emails the edition's send would make, kept in
    Redis for the edition page. A million subscribers take minutes, past the default limits."""
    count = personal_preview.count_and_store(digest_id=digest_id, now=timezone.now())
    return {"lists": count.lists if count else 0}
