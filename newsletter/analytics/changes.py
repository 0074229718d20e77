"""Which editions' figures changed since the roll-up last wrote them (Redis, no SQL).

The roll-up's aggregate over an edition's Delivery rows is what grows with the list (about 2.6 s
for an edition of 1,000,000 on the development machine: bench/README.md), so the five-minute
roll-up re-aggregates an edition past its first days only when something about it changed: a
tracking event that names it (every message carries `digest_id` metadata) or a click ingested for
it. `an:changed` is a sorted set, edition id -> time of its latest change. The roll-up takes the
members marked before it started and removes each afterwards only if no newer change came in
meanwhile, so a change during a roll-up is rolled up by the next one, never dropped. If Redis
loses the set, the roll-up's daily pass over every recent edition still catches up
(newsletter.analytics.rollup.FULL_ROLLUP_EVERY).
"""

from __future__ import annotations

import time
from typing import cast

from django.db import transaction

from sitewide.redis_client import get_redis, script

CHANGED_KEY = "an:changed"

# Remove a member only if its score (time of its latest change) is not newer than the roll-up's
# start: ZREM after a ZSCORE in one script, so a concurrent mark is never removed.
_FORGET = """
local removed = 0
for i, member in ipairs(ARGV) do
  if i > 1 then
    local score = redis.call('ZSCORE', KEYS[1], member)
    if score and tonumber(score) <= tonumber(ARGV[1]) then
      removed = removed + redis.call('ZREM', KEYS[1], member)
    end
  end
end
return removed
"""


def mark(digest_id: int) -> None:
    """Note that the edition's figures changed, once the current transaction commits (so a
    roll-up never reads the mark before the change itself is visible)."""

    def write() -> None:
        get_redis().zadd(CHANGED_KEY, {str(digest_id): time.time()})

    transaction.on_commit(write)


def changed(*, before: float) -> set[int]:
    """Editions marked as changed up to `before` (Unix time)."""
    raw = cast(list[bytes], get_redis().zrangebyscore(CHANGED_KEY, "-inf", before))
    return {int(member) for member in raw}


def forget(digest_ids: set[int], *, before: float) -> None:
    """Drop the marks of editions rolled up, unless they changed again after `before`."""
    if digest_ids:
        script(_FORGET)(keys=[CHANGED_KEY], args=[before, *sorted(digest_ids)])
