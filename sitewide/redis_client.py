"""One pooled Redis client per process, for the read counters, rate limits and send throttle,
and one cache of the Lua scripts they run.

redis-py uses hiredis for parsing when it is installed. The pool is rebuilt after fork
(Celery prefork, gunicorn) because a connection must never be shared between processes.
"""

from __future__ import annotations

import os

import redis
from django.conf import settings
from redis.commands.core import Script

_client: redis.Redis | None = None
_client_pid: int | None = None
_scripts: dict[str, Script] = {}


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


def script(source: str) -> Script:
    """The Lua script `source`, registered with this process's client: EVALSHA with a fallback
    to EVAL, so the body is not resent on every call. Keyed by the client, so a new client
    (after fork, or tests resetting it) registers its own."""
    client = get_redis()
    registered = _scripts.get(source)
    if registered is None or registered.registered_client is not client:
        registered = _scripts[source] = client.register_script(source)
    return registered
