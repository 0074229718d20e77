"""Thin Celery tasks for articles: each takes plain arguments and calls a service function."""

from __future__ import annotations

import logging

from celery import shared_task

from articles.content import conf as content_conf

log = logging.getLogger(__name__)


@shared_task(name="articles.tasks.flush_reads")
def flush_reads() -> int:
    """Roll the Redis read counters into ArticleDailyStats (idempotent)."""
    from .reading.rollup import flush_to_database

    return flush_to_database()


@shared_task(name="articles.tasks.import_configured_feeds")
def import_configured_feeds() -> dict[str, str]:
    """Import every feed in content_conf.settings().FEED_URLS; one broken feed does not stop the others. Each
    import is recorded in its FeedImport row (the admin's "استيراد الخلاصات")."""
    from .content.feed_reports import describe_skip
    from .content.feeds import FeedError, import_feed

    outcome: dict[str, str] = {}
    for url in content_conf.settings().FEED_URLS:
        try:
            result = import_feed(url)
        except FeedError as error:
            log.warning("feed import failed: %s", error)
            outcome[url] = f"error: {error}"
        else:
            for warning in result.warnings:
                log.warning("feed %s: %s", url, warning)
            for skipped in result.skipped_entries:
                log.warning("feed %s: %s", url, describe_skip(skipped))
            outcome[url] = (
                f"created={result.created} updated={result.updated} unchanged={result.unchanged} skipped={result.skipped}"
            )
    return outcome
