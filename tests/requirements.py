"""What a test needs from the machine, said once: a missing tool skips locally with the reason and
FAILS under CI (the `CI` variable set), so CI can never pass by skipping what it was meant to run.

- `require(condition, reason)`: a tool (java, vnu.jar, spamassassin, redis-server, Chromium).
- `require_postgres(reason)`: a test whose subject exists only on PostgreSQL (row locks between
  concurrent writers, fillfactor/HOT, pg_terminate_backend). On SQLite it skips naming the
  reason, also under CI (the database is a configuration, not a missing tool); tests/conftest.py
  fails any skip at all when CI runs on PostgreSQL.
"""

from __future__ import annotations

import os

import pytest
from django.db import connection


def under_ci() -> bool:
    return bool(os.environ.get("CI"))


def require(condition: object, reason: str) -> None:
    if condition:
        return
    if under_ci():
        pytest.fail(f"{reason} (required under CI: nothing may skip there)")
    pytest.skip(reason)


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


def require_postgres(reason: str) -> None:
    if not on_postgres():
        pytest.skip(f"PostgreSQL only: {reason}")
