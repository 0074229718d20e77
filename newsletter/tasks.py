"""Thin Celery tasks for the newsletter: each takes ids and calls a service function.
Tasks are triggered with transaction.on_commit / delay_on_commit so they see committed rows."""

# --- Subscriber emails (subscriptions work) --------------------------------------------------
from celery import shared_task


@shared_task(
    name="newsletter.tasks.send_subscriber_email",
    autoretry_for=(ConnectionError, TimeoutError),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=5,
)
def send_subscriber_email(subscriber_id: int, kind: str) -> bool:
    """Confirmation / "already subscribed" email for one subscriber (newsletter.subscriber_emails)."""
    from .subscriber_emails import send_subscriber_email as send

    return send(subscriber_id=subscriber_id, kind=kind)


# --- Sending (sending work): batches and the sweeper; logic in newsletter.sending ------------
@shared_task(bind=True, name="newsletter.tasks.send_batch", acks_late=True, max_retries=None)
def send_batch(self, digest_id: int, batch: int) -> dict:  # type: ignore[no-untyped-def]
    """Send one batch of an edition. Safe to run twice: rows are claimed in the database.
    Retry attempts are bounded by Delivery.attempts (SEND_MAX_ATTEMPTS), not by Celery."""
    from . import sending

    try:
        return sending.send_batch(digest_id=digest_id, batch=batch).as_dict()
    except sending.RetryLater as exc:
        raise self.retry(countdown=exc.countdown) from exc


@shared_task(name="newsletter.tasks.sweep_deliveries")
def sweep_deliveries() -> dict:
    """Periodic: re-enqueue stuck batches, settle rows stuck in `sending` as unknown."""
    from . import sending

    return sending.sweep().as_dict()


# --- Digest schedule (digest work); logic in newsletter.digests ------------------------------
@shared_task(name="newsletter.tasks.run_scheduled_digest")
def run_scheduled_digest(frequency: str) -> dict:
    """Beat entry point (daily 07:00, weekly Saturday 08:00). Idempotent per (frequency,
    period): a second run or a second beat for the same period sends nothing more."""
    from . import digests

    outcome = digests.run_scheduled(frequency=frequency)
    return {"digest_id": outcome.digest.pk, "result": outcome.result.value}
