"""The Celery app. Configuration comes from the CELERY_* Django settings (config.settings).

A task is to a worker what a request is to the web server, for its database connection too:
`close_old_connections` before and after each task, as Django does around each request, so a
worker keeps its connection for DB_CONN_MAX_AGE seconds and drops one that errored or failed its
health check. Celery's Django fix-up would otherwise close it around every task (unless
CELERY_DB_REUSE_MAX is set, config.settings): at a million recipients, a new PostgreSQL backend
for each of the 1,000 batches, on the cores the send shares with the database
(bench/README.md, "Five per-call costs cut")."""

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("newsroom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def close_old_database_connections(task: Any = None, **_signal: Any) -> None:
    """Django's request-boundary rule (see the module docstring); eager tasks run inside the
    caller's request or test and leave its connection alone."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    close_old_connections()
