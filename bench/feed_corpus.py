"""Feed import over a corpus of feed files (feedparser's own test corpus, issue 23).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_feeds REDIS_URL=redis://127.0.0.1:6379/6 \
        .venv/bin/python bench/feed_corpus.py /path/to/feedparser/tests

Every file under the directory (recursively, any extension) is imported with
articles.content.feeds.import_feed, then imported a second time, inside one transaction per file that is
rolled back at the end: each file starts from the articles the database had before (use an empty
database) and the script leaves nothing behind. It prints how many files imported and how many
were refused and why, how many entries were skipped and why (reasons grouped, with one example
file each), how many files a second import changed (created or updated anything, or changed an
article row), and the slowest files.

With --entity-bomb it first parses the entity-expansion feed of issue 23 (one 38,000-character
entity referenced 8,000 times: 78 KB) and prints the time, the tracemalloc peak and the outcome;
when that is refused in under a second, the same shape at the 10 MB cap too. On the code before
issue 23 the 78 KB feed alone takes tens of seconds and close to 1 GB.

The tests do not need this script; bench/README.md has its figures.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402
from django.utils import translation  # noqa: E402

from articles.content.feeds import FeedError, import_feed, parse  # noqa: E402
from articles.content.models import Article  # noqa: E402


class Rollback(Exception):
    """Leaves the per-file transaction without keeping anything."""


def snapshot() -> list[tuple]:
    return list(
        Article.objects.order_by("pk").values_list(
            "pk", "guid", "canonical_url", "title", "summary", "body", "author", "published_at", "updated_at"
        )
    )


def reason_of(text: str, source: str) -> str:
    """A message with its file name, quoted values and positions taken out, to group by."""
    text = text.replace(source, "FILE")
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text)
    text = re.sub(r"\d+", "N", text)
    return text[:160]


def skipped_reasons(result, source: str) -> list[str]:
    entries = getattr(result, "skipped_entries", None)
    if entries is not None:  # the import reports skipped entries with a reason each
        return [f"{entry.reason}: {entry.message}" for entry in entries]
    return [reason_of(w, source) for w in result.warnings if w.startswith("skipped entry")]


def entity_bomb(references: int) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE rss [\n<!ENTITY big "' + "x" * 38_000 + '">\n]>\n'
        '<rss version="2.0"><channel><title>CMS</title><item><title>t</title><guid>bomb-1</guid><description>'
        + "&big;" * references
        + "</description></item></channel></rss>"
    ).encode()


def parse_bomb(data: bytes) -> float:
    tracemalloc.start()
    began = time.monotonic()
    try:
        parse(data, source="bomb")
        outcome = "parsed"
    except FeedError as error:
        outcome = f"refused: {str(error)[:90]}"
    seconds = time.monotonic() - began
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    print(f"entity-expansion feed, {len(data):,} bytes: {seconds * 1000:.1f} ms, peak {peak:.1f} MB, {outcome}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path, help="directory of feed files (searched recursively)")
    parser.add_argument("--slowest", type=int, default=5, help="how many of the slowest files to list")
    parser.add_argument("--entity-bomb", action="store_true", help="parse issue 23's entity-expansion feed first")
    options = parser.parse_args()
    if options.entity_bomb and parse_bomb(entity_bomb(8_000)) < 1:
        parse_bomb(entity_bomb(1_990_000))  # about 10 MB: the size cap of a fetched feed
    files = sorted(path for path in options.corpus.rglob("*") if path.is_file())
    imported = refused = changed_again = entries_created = 0
    refusals: Counter[str] = Counter()
    skips: Counter[str] = Counter()
    example: dict[str, str] = {}
    timings: list[tuple[float, str]] = []
    started = time.monotonic()
    translation.activate("en")  # reasons in English, as the command prints them
    for path in files:
        source = str(path)
        name = str(path.relative_to(options.corpus))
        began = time.monotonic()
        try:
            with transaction.atomic():
                try:
                    first = import_feed(source)
                except FeedError as error:
                    refused += 1
                    reason = reason_of(str(error), source)
                    refusals[reason] += 1
                    example.setdefault(reason, name)
                    raise Rollback from None
                imported += 1
                entries_created += first.created
                for reason in skipped_reasons(first, source):
                    skips[reason] += 1
                    example.setdefault(reason, name)
                before = snapshot()
                second = import_feed(source)
                if second.created or second.updated or snapshot() != before:
                    changed_again += 1
                    print(f"second import changed something: {name}: {second}")
                raise Rollback
        except Rollback:
            pass
        timings.append((time.monotonic() - began, name))
    elapsed = time.monotonic() - started
    print(f"files: {len(files)} in {elapsed:.1f} s")
    print(f"imported: {imported} ({entries_created} articles created)")
    print(f"refused: {refused}")
    for reason, count in refusals.most_common():
        print(f"  {count:5d}  {reason}   (e.g. {example[reason]})")
    print(f"entries skipped: {sum(skips.values())}")
    for reason, count in skips.most_common():
        print(f"  {count:5d}  {reason}   (e.g. {example[reason]})")
    print(f"files a second import changed: {changed_again}")
    print("slowest files:")
    for seconds, name in sorted(timings, reverse=True)[: options.slowest]:
        print(f"  {seconds * 1000:8.1f} ms  {name}")


if __name__ == "__main__":
    main()
