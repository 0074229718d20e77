"""The Redis log of story clicks waiting for the roll-up (no SQL on the click path).

One sorted set, `an:clicks`, scored by the click's Unix time; a member is
`<edition>|<article>|<position>|<subscriber uuid hex>|<reader id>|<time>`. The roll-up reads
the clicks older than a short settling delay (so a scanner's burst is judged whole), writes them
to the database idempotently, then removes exactly that score range: a crash in between means
the next roll-up reads them again and the unique constraint absorbs them (at least once, never
double-counted). A click made now always scores above the range being removed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from django.utils.crypto import salted_hmac

from sitewide.redis_client import get_redis

CLICKS_KEY = "an:clicks"


@dataclass(frozen=True)
class LoggedClick:
    digest_id: int
    article_id: int
    position: int
    subscriber_uuid_hex: str
    reader: str
    at: datetime


def reader_for(uuid_hex: str) -> str:
    """The reader id of a subscriber who has no `rid` cookie (stable, keyed, not reversible)."""
    return salted_hmac("newsletter.analytics.reader", uuid_hex, algorithm="sha256").hexdigest()[:32]


def member(*, digest_id: int, article_id: int, position: int, uuid_hex: str, reader: str, at: float) -> str:
    return f"{digest_id}|{article_id}|{position}|{uuid_hex}|{reader}|{at:.3f}"


def add(pipe: object, *, digest_id: int, article_id: int, position: int, uuid_hex: str, reader: str) -> None:
    """Queue the ZADD on a pipeline the caller executes (one round trip with its other reads)."""
    now = time.time()
    value = member(
        digest_id=digest_id, article_id=article_id, position=position, uuid_hex=uuid_hex, reader=reader, at=now
    )
    pipe.zadd(CLICKS_KEY, {value: now})  # type: ignore[attr-defined]


def record(*, digest_id: int, article_id: int, position: int, uuid_hex: str, reader: str) -> None:
    pipe = get_redis().pipeline(transaction=False)
    add(pipe, digest_id=digest_id, article_id=article_id, position=position, uuid_hex=uuid_hex, reader=reader)
    pipe.execute()


def parse(raw: bytes | str) -> LoggedClick | None:
    text = raw.decode() if isinstance(raw, bytes) else raw
    parts = text.split("|")
    if len(parts) != 6:
        return None
    try:
        return LoggedClick(
            digest_id=int(parts[0]),
            article_id=int(parts[1]),
            position=int(parts[2]),
            subscriber_uuid_hex=parts[3],
            reader=parts[4],
            at=datetime.fromtimestamp(float(parts[5]), tz=UTC),
        )
    except ValueError:
        return None


def settled(*, until: float, limit: int = 50_000) -> list[LoggedClick]:
    """Clicks up to `until` (Unix time), oldest first."""
    raw = cast(list[bytes], get_redis().zrangebyscore(CLICKS_KEY, "-inf", until, start=0, num=limit))
    return [click for click in (parse(item) for item in raw) if click is not None]


def forget(*, until: float) -> None:
    get_redis().zremrangebyscore(CLICKS_KEY, "-inf", until)
