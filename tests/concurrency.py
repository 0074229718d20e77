"""Run one callable in several threads at the same instant, as concurrent requests or workers
would: each thread has its own database connection (closed at the end), a barrier releases them
together, every result is returned and the first error is re-raised in the test."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connections

T = TypeVar("T")


def run_concurrently(target: Callable[[], T], *, threads: int = 2, timeout: float = 60) -> list[T]:
    barrier = threading.Barrier(threads)
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(target())
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout)
    if errors:
        raise errors[0]
    assert len(results) == threads, "a thread did not finish in time"
    return results
