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
