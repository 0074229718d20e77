"""`make run` says which database and which Redis it uses (config.devrun)."""

from __future__ import annotations

import pytest

from config import devrun


def test_an_already_running_redis_is_named_with_its_database_number(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("DATABASE_URL", "postgres://news:s3cret@db.internal:5432/newsroom")
    database, redis = devrun.describe_services(private_redis=False)
    assert database == "database: postgres://news:***@db.internal:5432/newsroom"
    assert "s3cret" not in database
    assert redis.startswith("redis:    redis://127.0.0.1:6379/3 (an already running Redis")
    assert "database 3" in redis


def test_the_defaults_are_named_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    database, redis = devrun.describe_services(private_redis=True)
    assert database.startswith("database: sqlite:///") and database.endswith("db.sqlite3 (default)")
    assert "redis://127.0.0.1:6379/0 (a private Redis started for this run" in redis


def test_a_taken_address_is_said_with_the_variable_that_changes_it() -> None:
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        message = devrun.address_taken_message("127.0.0.1", port)
    assert message is not None and f"127.0.0.1:{port}" in message and f"RUN_ADDR=127.0.0.1:{port + 1}" in message
    assert devrun.address_taken_message("127.0.0.1", port) is None  # free again once it is closed


def test_run_addr_must_be_host_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUN_ADDR", "0.0.0.0:8080")
    assert devrun.run_address() == ("0.0.0.0", 8080)
    monkeypatch.setenv("RUN_ADDR", "8080")
    with pytest.raises(SystemExit, match="RUN_ADDR"):
        devrun.run_address()
