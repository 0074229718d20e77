"""One pooled Redis client per process, for the read counters, rate limits and send throttle.

redis-py uses hiredis for parsing when it is installed. The pool is rebuilt after fork
(Celery prefork, gunicorn) because a connection must never be shared between processes.
"""

from __future__ import annotations

import os

import redis
from django.conf import settings

_client: redis.Redis | None = None
_client_pid: int | None = None


def get_redis() -> redis.Redis:
    global _client, _client_pid
    if _client is None or _client_pid != os.getpid():
        _client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_timeout=2,
            socket_connect_timeout=2,
            health_check_interval=30,
        )
        _client_pid = os.getpid()
    return _client


def reset_redis() -> None:
    """Forget the client (tests that point REDIS_URL elsewhere call this)."""
    global _client, _client_pid
    _client = None
    _client_pid = None
