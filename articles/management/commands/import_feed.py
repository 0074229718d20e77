"""`python manage.py import_feed URL_OR_PATH`: import an RSS 2.0, Atom or JSON Feed.

A refused feed imports nothing (CommandError). Otherwise every importable entry is upserted and
each skipped entry is named on stderr with its reason (in English, like the rest of the output;
editors read the same reasons in Arabic in the admin's feed import record).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from articles.content.feed_reports import describe_skip
from articles.content.feeds import FeedError, import_feed


class Command(BaseCommand):
    help = "Import articles from an RSS 2.0, Atom or JSON Feed (URL or local file)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="http(s) URL or path of the feed")

    def handle(self, *args: object, source: str, **options: object) -> None:
        try:
            result = import_feed(source)
        except FeedError as error:
            raise CommandError(f"{error}. Nothing was imported.") from error
        for warning in result.warnings:
            self.stderr.write(warning)
        for skipped in result.skipped_entries:
            self.stderr.write(describe_skip(skipped))
        summary = f"created {result.created}, updated {result.updated}, unchanged {result.unchanged}"
        self.stdout.write(summary + (f", skipped {result.skipped}" if result.skipped else ""))
