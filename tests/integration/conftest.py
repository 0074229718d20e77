"""Harness for the integration tests: the ESP emulator in this process, REAL Celery worker
processes (`celery -A config worker -Q send,celery`) pointed at the pytest-django test database
(committed data: `transactional_db`) and at TEST_REDIS_DB, with the emulator as Mailgun.

The broker (issue 26): Redis (TEST_REDIS_DB) by default; the worker-process tests of the modules
in BOTH_BROKERS run twice, on Redis and on RabbitMQ (tests/integration/rabbitmq.py: a vhost of
this session's own on TEST_RABBITMQ_URL's server, its queues deleted after each test). A test
that provokes something only Redis has (its database flushed, its visibility timeout) is marked
`redis_broker` and runs on Redis only.

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
from config import broker as brokers
from config.celery import app

from . import rabbitmq

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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "redis_broker: provokes something only Redis has; runs on Redis only")
    config.addinivalue_line("markers", "rabbitmq_broker: about RabbitMQ as the broker; runs on RabbitMQ only")


# Modules whose worker-process tests run on both brokers (CI runs both, issue 26).
BOTH_BROKERS = {"test_sending_workers", "test_network_cut"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "celery_broker" not in metafunc.fixturenames:
        return
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if metafunc.definition.get_closest_marker("rabbitmq_broker"):
        kinds = [brokers.RABBITMQ]
    elif metafunc.definition.get_closest_marker("redis_broker") or module not in BOTH_BROKERS:
        kinds = [brokers.REDIS]
    else:
        kinds = [brokers.REDIS, brokers.RABBITMQ]
    metafunc.parametrize("celery_broker", kinds, indirect=True)


@pytest.fixture
def celery_broker(request, settings) -> Iterator[str]:
    """REDIS or RABBITMQ (the parameter): settings.CELERY_BROKER_URL points at it for this
    process and the workers; RabbitMQ's queues are deleted afterwards (Redis's database is
    flushed between tests anyway)."""
    kind = getattr(request, "param", brokers.REDIS)
    if kind == brokers.RABBITMQ:
        settings.CELERY_BROKER_URL = request.getfixturevalue("rabbitmq_vhost")
    yield kind
    if kind == brokers.RABBITMQ:
        rabbitmq.delete_queues(settings.CELERY_BROKER_URL)


@pytest.fixture(scope="session")
def rabbitmq_vhost() -> Iterator[str]:
    """amqp:// URL of a vhost created for this session (and deleted after it)."""
    yield from rabbitmq.session_vhost()


def use_broker(url: str) -> None:
    """Point this process's Celery app at `url` with that broker's queues and options."""
    app.conf.broker_url = url
    app.conf.broker_transport_options = brokers.transport_options(
        url, visibility_timeout=django_settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    )
    app.conf.task_queues = brokers.task_queues(
        url, default=django_settings.CELERY_TASK_DEFAULT_QUEUE, routes=django_settings.CELERY_TASK_ROUTES
    )
    for cached in ("queues", "default_queue", "router"):  # Celery caches what it derived from them
        app.amqp.__dict__.pop(cached, None)
    app.amqp.flush_routes()
    reset_broker_connections()


@pytest.fixture
def broker(settings, celery_broker) -> Iterator[None]:
    """This process publishes to the real broker too (dispatch, sweep): eager mode off."""
    previous = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager = False
    use_broker(django_settings.CELERY_BROKER_URL)
    yield
    app.conf.task_always_eager = previous[0]
    use_broker(previous[1])


@pytest.fixture
def start_worker(transactional_db, emulator, broker, tmp_path, settings) -> Iterator[Callable[..., Worker]]:
    # This process dispatches with the same backend as the workers (batch size per ESP).
    settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
    settings.ANYMAIL = {"MAILGUN_API_URL": emulator.api_url, "MAILGUN_API_KEY": "integration-key"}
    workers: list[Worker] = []

    def start(name: str = "w1", *, concurrency: int = 1, **extra_env: str) -> Worker:
        # On Redis the workers' broker follows their REDIS_URL (TEST_REDIS_DB, or the REDIS_URL a
        # test gives them); RabbitMQ is named (a test may give another URL: through a proxy).
        inherited = {name: value for name, value in os.environ.items() if name != "CELERY_BROKER_URL"}
        if brokers.kind(django_settings.CELERY_BROKER_URL) == brokers.RABBITMQ:
            inherited["CELERY_BROKER_URL"] = django_settings.CELERY_BROKER_URL
        env = {
            **inherited,
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
