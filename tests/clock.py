"""The tests' one controlled clock (time-machine, pinned in requirements-dev.txt).

Two uses:
- A test whose outcome depends on "now" sets the clock itself, with time-machine's
  `time_machine` fixture (`time_machine.move_to(moment, tick=False)`) or by passing `now=` to the
  service it calls. Never a date written into a test that the real clock must agree with.
- `TEST_NOW=<ISO 8601 instant>` starts the whole session at that instant, the clock ticking from
  there (`make test` runs the fast tests again at the awkward moments of the Makefile's
  MOMENTS: a new year that has begun in Baghdad but not in UTC, the night Europe puts its clocks
  back, a leap day half an hour before the daily edition). A test that passes today and fails
  there assumed the real date.

Only this process's clock moves: PostgreSQL's and Redis's own clocks stay real, so product code
must take "now" from Python (`timezone.now()`), never from SQL `now()` or a Redis `TIME` it
compares with a Python timestamp. Worker processes of the integration tests keep the real clock
too, which is why the moment runs leave tests/integration and tests/e2e out.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime

import time_machine

ENVIRONMENT_VARIABLE = "TEST_NOW"
# Far from any real date, each awkward for a newsroom in Baghdad (UTC+3) with readers in
# Casablanca (UTC+1, UTC+0 in Ramadan) and London (UTC+0, +1 in summer). `make test` runs the
# fast tests at each (`python -m tests.clock` prints them); test_edition_dates.py sends there.
AWKWARD_MOMENTS = (
    # 00:30 on 1 January in Baghdad, 21:30 on 31 December in London: a new year begun in one.
    datetime(2026, 12, 31, 21, 30, tzinfo=UTC),
    # 01:30 BST, half an hour before Europe puts its clocks back (01:00 UTC) on 31 October.
    datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
    # 06:30 in Baghdad on 29 February, half an hour before the daily edition (07:00).
    datetime(2028, 2, 29, 3, 30, tzinfo=UTC),
)
_travel: time_machine.travel | None = None


def session_moment() -> datetime | None:
    """The instant TEST_NOW names (it must carry its UTC offset), or None."""
    value = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{ENVIRONMENT_VARIABLE}={value!r} needs a UTC offset, e.g. 2026-12-31T21:30:00+00:00")
    return moment


def start_session_clock() -> datetime | None:
    """Move this process's clock to TEST_NOW (ticking) for the whole session, if it is set."""
    global _travel
    moment = session_moment()
    if moment is not None and _travel is None:
        _travel = time_machine.travel(moment, tick=True)
        _travel.start()
    return moment


def stop_session_clock() -> None:
    global _travel
    if _travel is not None:
        _travel.stop()
        _travel = None


if __name__ == "__main__":
    sys.stdout.write(" ".join(moment.isoformat() for moment in AWKWARD_MOMENTS) + "\n")
