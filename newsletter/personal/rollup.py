"""The personal roll-up (beat, with the analytics roll-up every 5 minutes): the site reads of
followed browsers into the history, the impressions of the last batches into the profiles, the
profiles whose history changed built again, and, once an hour, history past
PERSONAL_HISTORY_DAYS deleted."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sitewide.redis_client import get_redis

from . import history, profiles

PRUNE_FLAG = "pe:pruned"
PRUNE_EVERY_SECONDS = 3600


@dataclass
class PersonalRollup:
    reads: int = 0
    impressions: int = 0
    profiles: int = 0
    pruned: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def rollup(*, now: datetime) -> PersonalRollup:
    result = PersonalRollup()
    result.reads = history.ingest_reads()
    result.impressions = profiles.fold_impressions(now=now)
    if get_redis().set(PRUNE_FLAG, 1, nx=True, ex=PRUNE_EVERY_SECONDS):
        result.pruned = history.prune(now=now)
    result.profiles = profiles.build_dirty(now=now)
    return result
