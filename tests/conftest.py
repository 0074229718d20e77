"""Shared fixtures: a clean Redis database and a private outbox for every test.

Tests use the real database (PostgreSQL in CI, SQLite file otherwise) and the real Redis
(TEST_REDIS_DB on REDIS_URL's server). Only the ESP's HTTP API is ever faked.
"""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import hypothesis
import pytest
from django.conf import settings

from newsletter.delivery import batch
from sitewide.redis_client import get_redis, reset_redis
from tests import clock
from tests.requirements import under_ci


def pytest_configure(config: pytest.Config) -> None:
    clock.start_session_clock()  # TEST_NOW: the whole session at another moment (tests/clock.py)
    # Under CI the property tests draw the same examples every run (a fixed seed per test, no
    # example database): a red run is reproducible, never a dice roll. Locally they explore.
    hypothesis.settings.register_profile("ci", derandomize=True, database=None)
    if under_ci():
        hypothesis.settings.load_profile("ci")


def pytest_unconfigure(config: pytest.Config) -> None:
    clock.stop_session_clock()


def pytest_report_header(config: pytest.Config) -> str:
    moment = clock.session_moment()
    return f"clock: {'TEST_NOW=' + moment.isoformat() + ' (ticking)' if moment else 'real'}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Under CI on PostgreSQL nothing may skip (issue 16): a skip, from a helper or a plain
    `pytest.skip`/`skipif` anywhere, is reported as a failure naming the skip's reason.
    Expected failures (xfail) are not skips and stay as they are."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and under_ci() and _database_is_postgres():
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI on PostgreSQL, which must run everything: {reason}"


def _database_is_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


@pytest.fixture(autouse=True)
def clean_redis() -> None:
    reset_redis()
    get_redis().flushdb()
    yield
    reset_redis()


@pytest.fixture(autouse=True)
def fresh_edition_caches() -> None:
    # On SQLite ids are reused after a test's rollback: a worker's per-edition render caches
    # must not carry one test's edition into the next (newsletter.delivery.batch).
    batch.forget_editions()


@pytest.fixture(autouse=True)
def outbox_dir(tmp_path: Path, settings) -> Path:
    directory = tmp_path / "outbox"
    # pytest-django swaps in the locmem backend; the product's default is the .eml outbox.
    settings.EMAIL_BACKEND = "newsletter.backends.outbox.OutboxEmailBackend"
    settings.EMAIL_OUTBOX_DIR = directory
    return directory


def read_outbox(directory: Path) -> list[EmailMessage]:
    """Every .eml in the outbox, parsed, oldest first."""
    messages = []
    for path in sorted(directory.glob("*.eml")):
        with path.open("rb") as handle:
            messages.append(email.message_from_binary_file(handle, policy=email.policy.default))
    return messages


@pytest.fixture
def outbox(outbox_dir: Path):
    """Callable returning the parsed messages written so far."""
    return lambda: read_outbox(outbox_dir)


@pytest.fixture
def is_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
