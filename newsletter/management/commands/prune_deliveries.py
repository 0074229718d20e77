"""`prune_deliveries [--dry-run]`: retention now, as the daily beat task does it
(newsletter.retention.pruning): editions that finished and began sending more than
DELIVERY_RETENTION_DAYS ago get their figures frozen on EditionStats, then lose their Delivery
and Receipt rows in chunks of DELIVERY_PRUNE_CHUNK. Running it twice is harmless.

--dry-run  list the editions that would be pruned and their rows left; change nothing."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from newsletter.retention import conf as retention_conf
from newsletter.retention import pruning


class Command(BaseCommand):
    help = "Roll up and delete per-recipient delivery rows older than DELIVERY_RETENTION_DAYS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="list what would be pruned, change nothing")

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        days = retention_conf.settings().DELIVERY_RETENTION_DAYS
        if days <= 0:
            self.stdout.write("DELIVERY_RETENTION_DAYS is 0: retention is off, nothing pruned")
            return
        if dry_run:
            due = pruning.describe_due()
            for edition in due:
                state = "figures frozen, rows left" if edition.frozen else "to roll up and prune"
                self.stdout.write(f"edition {edition.digest_id} {edition.label}: {edition.deliveries} rows ({state})")
            self.stdout.write(f"dry run: {len(due)} editions older than {days} days would be pruned; nothing changed")
            return
        result = pruning.prune()
        self.stdout.write(
            f"pruned {result.editions} editions: {result.deliveries} deliveries and {result.receipts} receipts "
            f"deleted in {result.chunks} chunks (older than {days} days)"
        )
