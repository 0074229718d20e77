"""Where a batch's time goes: `timed` adds a block's wall time (perf_counter) to one entry of
`BatchResult.timings` (claim, render, throttle, api, bookkeeping), which the batch logs in its
"batch done" line.

A block that raises adds nothing unless `failures=True`: the time of a failed ESP call counts
as api time (a read timeout is most of a slow batch), while a rate-limited reservation or a
connection that would not open leaves its entry out of the log line as before.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager


@contextmanager
def timed(timings: MutableMapping[str, float], key: str, *, failures: bool = False) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    except BaseException:
        if failures:
            timings[key] = timings.get(key, 0.0) + time.perf_counter() - start
        raise
    timings[key] = timings.get(key, 0.0) + time.perf_counter() - start
