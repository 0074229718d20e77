"""In-process cost of one read through the beacon's WSGI fast path (no HTTP server, no load
generator): calls config.wsgi.application N times per case and prints microseconds per
read. What remains is our code plus one Redis round trip, so it isolates a change to the read
path from the noise of a shared machine.

    REDIS_URL=redis://127.0.0.1:6379/11 .venv/bin/python bench/beacon_inprocess.py [--reads 3000]

Cases: no cookie from one IP (the IP+UA hash), a signed cookie, a fresh signed cookie from one
IP on every read (past READS_MAX_READERS_PER_IP_PER_DAY: the cap path), one reader per IP, and
(personal editions) a reader whose browser a newsletter click identified, each read of whom the
same script appends to the followed log (the benchmark deletes that log at the end: use a Redis
database of its own).
Needs Redis only (the article is put in the beacon's index directly; no SQL runs).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
from bench.production_env import THROWAWAY

os.environ.update({**THROWAWAY, **os.environ})  # what DEBUG off requires; the environment's own values win
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/11")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from config.wsgi import application  # noqa: I001 (first: it sets Django up before any model import)
from articles.content import published
from articles.reading import reads

try:
    from articles.reading import visitors
except ImportError:  # the read path before reader cookies were signed
    visitors = None  # type: ignore[assignment]

ARTICLE_ID = 987_654_321  # far from real ids; the benchmark's reads land on it only
UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"


def environ(*, cookie: str = "", remote: str = "127.0.0.1") -> dict[str, object]:
    body = str(ARTICLE_ID).encode()
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/r/",
        "QUERY_STRING": "",
        "REMOTE_ADDR": remote,
        "HTTP_USER_AGENT": UA,
        "HTTP_COOKIE": cookie,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }


def cookie_for(visitor: str) -> str:
    value = visitors.sign_cookie(visitor) if visitors else visitor
    return f"rid={value}"


def measure(make: Callable[[int], dict[str, object]], reads_count: int) -> float:
    """Median over 5 rounds of microseconds per read."""

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        assert status.startswith("204"), status

    rounds = []
    for round_number in range(5):
        environs = [make(round_number * reads_count + i) for i in range(reads_count)]
        started = time.perf_counter()
        for env in environs:
            application(env, start_response)
        rounds.append((time.perf_counter() - started) / reads_count * 1e6)
    return statistics.median(rounds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=3000)
    args = parser.parse_args()
    published.index_articles(published=[published.IndexEntry(article_id=ARTICLE_ID, urls=())])
    application(environ(), lambda status, headers: None)  # warm: daily salt, script load
    cases: dict[str, Callable[[int], dict[str, object]]] = {
        "no cookie, one IP": lambda n: environ(),
        "signed cookie, one reader": lambda n: environ(cookie=cookie_for("benchreader0000000001")),
        "new cookie every read, one IP (capped)": lambda n: environ(cookie=cookie_for(f"benchreader{n:010d}")),
        "new reader and IP every read": lambda n: environ(
            cookie=cookie_for(f"benchreader{n:010d}"), remote=f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
        ),
    }
    if hasattr(reads, "follow"):  # personal editions (issue 25): a browser a newsletter click identified
        pipe = reads.get_redis().pipeline()
        reads.follow(pipe, visitor="benchreader9999999999", tag="bench", seconds=600)
        pipe.execute()
        cases["followed reader (personal editions)"] = lambda n: environ(cookie=cookie_for("benchreader9999999999"))
    for label, make in cases.items():
        print(f"{label:42s} {measure(make, args.reads):7.1f} µs/read")
    client = reads.get_redis()
    day = reads.today()
    keys = [reads.views_key(day), reads.readers_key(day, ARTICLE_ID)]
    if hasattr(reads, "networks_key"):
        keys.append(reads.networks_key(day, ARTICLE_ID))
    client.hdel(keys[0], str(ARTICLE_ID))
    client.delete(*keys[1:])
    client.srem(published.PUBLISHED_KEY, ARTICLE_ID)
    if hasattr(reads, "follow"):
        client.delete(reads.follow_key("benchreader9999999999"), reads.FOLLOWED_LOG)


if __name__ == "__main__":
    main()
