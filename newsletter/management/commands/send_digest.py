"""`send_digest --frequency daily|weekly [--sync] [--dry-run]`: send the next edition, the one
editors see as next in the admin (newsletter.orchestration.runs.next_slot): an approved edition
goes out as approved; a draft is first refilled from the most-read list of the window ending now.

--sync     run every batch in this process (newsletter.delivery.dispatch.send_all_sync) and print how many
           were sent and failed, instead of enqueueing Celery tasks. Progress (from the edition's
           counters after each batch) is a bar (rich) on a terminal and one plain line per batch
           otherwise (a pipe, a log file, cron).
--dry-run  print the composition and write the rendered HTML (Arabic, all sections) to a file;
           the database is left as it was (the composition runs in a transaction rolled back).
An edition sent before its date takes today's (newsletter.orchestration.runs.date_for_sending), and
the command sends at most one edition of a frequency a day: a second run, or a run after the beat
sent today's, finds it and sends nothing. The same guards as the beat apply: an unapproved
edition waits when DIGEST_REQUIRE_APPROVAL is on, an edition an editor scheduled for later waits
for its time, and fewer than DIGEST_MIN_STORIES stories send nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any, cast

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from newsletter.clicks import targets
from newsletter.delivery import dispatch, status
from newsletter.editions import conf as editions_conf
from newsletter.editions import curation
from newsletter.editions.models import Digest, Frequency
from newsletter.editions.state import EDITABLE_STATUSES
from newsletter.email import links, render
from newsletter.orchestration import runs


class Command(BaseCommand):
    help = "Compose the digest for the period ending now and dispatch it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--frequency", required=True, choices=Frequency.values)
        parser.add_argument("--sync", action="store_true", help="send every batch in this process")
        parser.add_argument("--dry-run", action="store_true", help="print and render, send nothing")

    def handle(self, *args: Any, frequency: str, sync: bool, dry_run: bool, **options: Any) -> None:
        if dry_run:
            with transaction.atomic():
                # Compose and render inside a transaction that is rolled back: every table keeps
                # its rows (a test compares the row counts); only the HTML file is written.
                digest = runs.next_draft(frequency)
                self._print_composition(digest)
                self._dry_run(digest)
                transaction.set_rollback(True)
            return
        went_out = runs.sent_today(frequency)
        if went_out is not None:
            self.stdout.write(
                f"already sent today: edition {went_out.pk}: {went_out} [{went_out.status}]; nothing more sent"
            )
            return
        digest = runs.compose_next(frequency)
        self._print_composition(digest)
        if sync:
            self._sync(digest)
            return
        outcome = runs.release(digest)
        self._print_outcome(outcome)
        if outcome.result == runs.RunResult.DISPATCHED:
            self.stdout.write(f"dispatched: {outcome.digest.audience_count} recipients, batches enqueued on Celery")

    def _print_composition(self, digest: Digest) -> None:
        start, end = timezone.localtime(digest.period_start), timezone.localtime(digest.period_end)
        self.stdout.write(
            f"edition {digest.pk}: {digest} [{digest.status}] period {start:%Y-%m-%d %H:%M} -> {end:%Y-%m-%d %H:%M} ({settings.TIME_ZONE})"
        )
        for item in curation.active_items(digest):
            pin = " (pinned)" if item.pinned else ""
            self.stdout.write(f"  {item.position + 1:2d}. {item.article.title}{pin}")

    def _dry_run(self, digest: Digest) -> None:
        rendered = render.render_digest(digest, render.Segment(language=settings.LANGUAGE_CODE))
        if rendered is None:
            self.stdout.write(
                f"too few stories (minimum {editions_conf.settings().DIGEST_MIN_STORIES}): nothing would be sent"
            )
            return
        # The rendering's click targets are stored as a send stores them.
        targets.remember_targets(digest.pk, rendered.click_targets)
        path = settings.VAR_DIR / f"digest-{links.campaign_name(digest)}.html"
        path.write_text(rendered.html, encoding="utf-8")
        self.stdout.write(f"subject: {rendered.subject}")
        self.stdout.write(f"html ({len(rendered.html.encode())} bytes) written to {path}")
        self.stdout.write("dry run: nothing sent")

    def _sync(self, digest: Digest) -> None:
        if digest.status in EDITABLE_STATUSES and runs.is_waiting_for_approval(digest):
            self._print_outcome(runs.RunOutcome(digest, runs.RunResult.WAITING))
            return
        if digest.status in EDITABLE_STATUSES and runs.is_waiting_for_time(digest):
            self._print_outcome(runs.RunOutcome(digest, runs.RunResult.SCHEDULED))
            return
        if digest.status in (Digest.Status.SKIPPED, Digest.Status.CANCELLED, Digest.Status.SENT):
            self._print_outcome(runs.release(digest))
            return
        with transaction.atomic():
            runs.date_for_sending(digest_id=digest.pk, now=timezone.now())  # sent today: dated today
        with self._progress(digest.pk) as after_batch:
            report = dispatch.send_all_sync(digest_id=digest.pk, after_batch=after_batch)
        self.stdout.write(
            f"sent: {report.sent}, failed: {report.failed}, unknown: {report.unknown}, "
            f"skipped: {report.skipped}, queued: {report.queued} (audience {report.audience})"
        )

    @contextmanager
    def _progress(self, digest_id: int) -> Iterator[Callable[[], None]]:
        """A callback for after each batch: a bar on a terminal, a plain line otherwise."""

        def read() -> status.EditionProgress:
            return status.progress(Digest.objects.get(pk=digest_id))  # counters: one row, no scan

        if not self.stdout.isatty():

            def line() -> None:
                now, progress = timezone.now(), read()
                self.stdout.write(
                    f"progress: {progress.settled}/{progress.audience} ({progress.fraction:.0%}), "
                    f"{progress.rate_per_second(now=now):.0f}/s"
                )

            yield line
            return
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]:.0f}/s"),
            TimeRemainingColumn(),
        )
        # The stream under Django's OutputWrapper (call_command's stdout too): rich writes partial
        # lines and cursor moves, which the wrapper's line endings would break.
        console = Console(file=cast(IO[str], self.stdout._out))
        with Progress(*columns, console=console) as bar:
            task = bar.add_task(f"edition {digest_id}", total=None, rate=0.0)

            def update() -> None:
                progress = read()
                rate = progress.rate_per_second(now=timezone.now())
                bar.update(task, total=progress.audience, completed=progress.settled, rate=rate)

            yield update

    def _print_outcome(self, outcome: runs.RunOutcome) -> None:
        digest = outcome.digest
        if outcome.result == runs.RunResult.SKIPPED:
            self.stdout.write(f"skipped: {digest.skip_reason}")
        elif outcome.result == runs.RunResult.WAITING:
            self.stdout.write("waiting for approval (DIGEST_REQUIRE_APPROVAL is on): nothing sent")
        elif outcome.result == runs.RunResult.SCHEDULED:
            self.stdout.write(
                f"scheduled by an editor for {timezone.localtime(digest.send_at):%Y-%m-%d %H:%M}: nothing sent now"
            )
        elif outcome.result == runs.RunResult.CANCELLED:
            self.stdout.write("cancelled by an editor: nothing sent")
        elif outcome.result == runs.RunResult.ALREADY:
            self.stdout.write(f"already {digest.status}: nothing more sent")
