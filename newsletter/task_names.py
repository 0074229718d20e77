"""The app's Celery tasks by their registered names, and one way to enqueue them.

Services trigger tasks and tasks call services. Naming a task here, instead of importing
newsletter.tasks, keeps that dependency one-way (newsletter.tasks imports the services; no
service imports newsletter.tasks). The names are part of the deployment: beat rows in the
database and queue routes refer to them, so they never change.
"""

from __future__ import annotations

from typing import Any

from celery import current_app

SEND_SUBSCRIBER_EMAIL = "newsletter.tasks.send_subscriber_email"
SEND_WELCOME_EMAIL = "newsletter.tasks.send_welcome_email"
SETTLE_KNOWN_SIGNUP = "newsletter.tasks.settle_known_signup"
SEND_BATCH = "newsletter.tasks.send_batch"
SWEEP_DELIVERIES = "newsletter.tasks.sweep_deliveries"
RUN_SCHEDULED_DIGEST = "newsletter.tasks.run_scheduled_digest"
RUN_DIGEST_WAVES = "newsletter.tasks.run_digest_waves"
SEND_HYGIENE_EMAIL = "newsletter.tasks.send_hygiene_email"
ROLLUP_ANALYTICS = "newsletter.tasks.rollup_analytics"
ROLLUP_GROWTH = "newsletter.tasks.rollup_growth"
LIST_HYGIENE = "newsletter.tasks.list_hygiene"
RUN_SUNSET = "newsletter.tasks.run_sunset"
RELEASE_SCHEDULED_EDITIONS = "newsletter.tasks.release_scheduled_editions"
PRUNE_DELIVERIES = "newsletter.tasks.prune_deliveries"
FORGET_READER_HISTORY = "newsletter.tasks.forget_reader_history"
COUNT_PERSONAL_LISTS = "newsletter.tasks.count_personal_lists"
ADVANCE_SUBJECT_TESTS = "newsletter.tasks.advance_subject_tests"
RELEASE_ALERT = "newsletter.tasks.release_alert"


def enqueue(name: str, *args: Any, **options: Any) -> None:
    """apply_async on the registered task (so CELERY_TASK_ALWAYS_EAGER runs it in-process)."""
    current_app.tasks[name].apply_async(args=args, **options)
