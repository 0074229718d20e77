"""`python manage.py import_feed URL_OR_PATH`: import an RSS 2.0 / Atom feed (all or nothing)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from articles.feeds import FeedError, import_feed


class Command(BaseCommand):
    help = "Import articles from an RSS 2.0 or Atom feed (URL or local file)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="http(s) URL or path of the feed")

    def handle(self, *args: object, source: str, **options: object) -> None:
        try:
            result = import_feed(source)
        except FeedError as error:
            raise CommandError(f"{error}. Nothing was imported.") from error
        for warning in result.warnings:
            self.stderr.write(warning)
        summary = f"created {result.created}, updated {result.updated}, unchanged {result.unchanged}"
        self.stdout.write(summary + (f", skipped {result.skipped}" if result.skipped else ""))
