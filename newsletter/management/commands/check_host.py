"""`check_host`: can this machine reach what every role needs, and is the database migrated to
this release? The step of the README's deployment checklist each web, worker and beat host runs
before its service starts (issue 26): a host given the wrong address of the database, Redis or
the broker fails here, at once and naming the variable, instead of starting a worker that fails
every task.

It checks, each with a short timeout: DATABASE_URL answers and has every migration of this code
applied (run `migrate` from one host first); REDIS_URL answers PING; CELERY_BROKER_URL accepts a
connection. Prints one line per check; exits 1 when any fails. Passwords are never printed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from kombu import Connection

TIMEOUT_SECONDS = 5


def where(url: str) -> str:
    """scheme://host:port/path of a URL, without its user and password."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


def database_url() -> str:
    data = connections[DEFAULT_DB_ALIAS].settings_dict
    if data["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{data['NAME']}"
    return f"postgres://{data['HOST']}:{data['PORT'] or 5432}/{data['NAME']}"


def check_database() -> str:
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor == "postgresql":
        # An address nobody answers at would otherwise wait for the kernel's TCP retries (minutes).
        connection.settings_dict.setdefault("OPTIONS", {}).setdefault("connect_timeout", TIMEOUT_SECONDS)
    connection.ensure_connection()
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        raise CommandError(
            f"{len(pending)} migration(s) of this release not applied (first: {pending[0][0]}): "
            "run `python manage.py migrate` from one host before starting workers and beat"
        )
    return "answers, every migration applied"


def check_redis() -> str:
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()
    return "answers PING"


def check_broker() -> str:
    with Connection(
        settings.CELERY_BROKER_URL,
        connect_timeout=TIMEOUT_SECONDS,
        transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    ) as connection:
        connection.ensure_connection(max_retries=1)
    return "accepts a connection"


class Command(BaseCommand):
    help = "Check that this host reaches the database (migrated), Redis and the Celery broker."

    def handle(self, *args: Any, **options: Any) -> None:
        checks: list[tuple[str, str, Callable[[], str]]] = [
            ("DATABASE_URL", database_url(), check_database),
            ("REDIS_URL", where(settings.REDIS_URL), check_redis),
            ("CELERY_BROKER_URL", where(settings.CELERY_BROKER_URL), check_broker),
        ]
        failed = []
        for variable, url, check in checks:
            try:
                self.stdout.write(f"ok      {variable} {url}: {check()}")
            except Exception as error:  # noqa: BLE001  (each failure is reported, then the exit code says it)
                reason = " ".join(str(error).split()) or type(error).__name__
                self.stdout.write(f"FAILED  {variable} {url}: {reason}")
                failed.append(variable)
        if failed:
            raise CommandError(
                f"this host cannot use {', '.join(failed)}: fix the variable or the network, then run check_host again"
            )
