"""Harness for the integration tests: the ESP emulator in this process, REAL Celery worker
processes (`celery -A config worker -Q send,celery`) pointed at the pytest-django test database
(committed data: `transactional_db`) and at TEST_REDIS_DB, with the emulator as Mailgun.

Everything is bounded in time and stopped (by its own pid) at the end of the test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from bench.esp_emulator import Emulator
from config.celery import app

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


def database_url() -> str:
    data = connection.settings_dict
    if data["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{data['NAME']}"
    return f"postgres://{data['USER']}:{data['PASSWORD']}@{data['HOST'] or '127.0.0.1'}:{data['PORT'] or 5432}/{data['NAME']}"


class Worker:
    def __init__(self, name: str, env: dict[str, str], log: Path, concurrency: int) -> None:
        self.name = name
        self.log = log
        self.handle = log.open("wb")
        self.process = subprocess.Popen(
            [
                CELERY,
                "-A",
                "config",
                "worker",
                "-Q",
                "send,celery",
                "-n",
                f"{name}@%h",
                "--concurrency",
                str(concurrency),
                "--pool",
                "prefork",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: SIGKILL reaches the pool children
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if b" ready." in self.log.read_bytes():
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited:\n{self.tail()}")
            time.sleep(0.2)
        raise TimeoutError(f"worker {self.name} not ready:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL the worker and its pool children (no warm shutdown, no ack)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.handle.close()

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    server = Emulator().start()
    yield server
    server.stop()


def reset_broker_connections() -> None:
    """The Celery app caches broker connections for the URL it first used: start afresh."""
    from kombu import pools

    pools.reset()  # closes and forgets kombu's global pools (a closed one would stay registered)
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker(settings) -> Iterator[None]:
    """This process publishes to the real broker too (dispatch, sweep): eager mode off."""
    previous = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager = False
    app.conf.broker_url = django_settings.CELERY_BROKER_URL
    reset_broker_connections()
    yield
    app.conf.task_always_eager, app.conf.broker_url = previous
    reset_broker_connections()


@pytest.fixture
def start_worker(transactional_db, emulator, broker, tmp_path, settings) -> Iterator[Callable[..., Worker]]:
    # This process dispatches with the same backend as the workers (batch size per ESP).
    settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
    settings.ANYMAIL = {"MAILGUN_API_URL": emulator.api_url, "MAILGUN_API_KEY": "integration-key"}
    workers: list[Worker] = []

    def start(name: str = "w1", *, concurrency: int = 1, **extra_env: str) -> Worker:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.integration.worker_settings",
            "DATABASE_URL": database_url(),
            "TEST_REDIS_DB": os.environ.get("TEST_REDIS_DB", "15"),
            "EMAIL_BACKEND": "anymail.backends.mailgun.EmailBackend",
            "ANYMAIL_MAILGUN_API_URL": emulator.api_url,
            "ANYMAIL_MAILGUN_API_KEY": "integration-key",
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "SEND_RETRY_BASE_SECONDS": "0.2",
            "SEND_RETRY_MAX_SECONDS": "1",
            "PYTHONPATH": str(ROOT),
            "LOG_LEVEL": "WARNING",
            **extra_env,
        }
        worker = Worker(name, env, tmp_path / f"{name}.log", concurrency)
        workers.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str, workers: list[Worker] = ()) -> None:  # type: ignore[assignment]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    logs = "\n".join(f"--- {w.name}\n{w.tail()}" for w in workers)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{logs}")
