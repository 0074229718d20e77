"""CSV import and export of subscribers (admin).

Import is two steps. `parse_import` reads and validates EVERY row first and returns a preview
(per-row errors and what would happen to each row) without writing anything. `apply_import`
then writes in one transaction. Policy (documented in the admin page):
- if any row has an error, nothing is saved unless the editor ticks "import only the valid
  rows" (the invalid rows are then reported and skipped);
- duplicates are skipped: the same address twice in the file, an address already in the table
  (whatever its status: an import never reactivates unsubscribed, bounced or complained
  subscribers) and addresses on the suppression list (erased, bounced, complained);
- new rows get source "import" and an "imported" consent history row (with the administrator
  who confirmed the import); with confirmation emails they start pending and receive the double
  opt-in email (per-address limits apply), without they are active at once (for lists whose
  consent was collected elsewhere);
- a topic is a section's id, slug or name (Arabic or English), matched after Arabic
  normalisation (articles.content.arabic.normalise: أ/ا, ة/ه, tashkeel, Arabic-Indic digits, case).

Export streams rows in primary-key order, a few thousand at a time (keyset pagination, one
topics query per chunk), so a million subscribers never sit in memory. Columns are a superset
of the import columns, so an export can be imported again; `consent_history` lists the
subscriber's consent events (newsletter.subscribers.consent), one more query per chunk. Cells that a spreadsheet would run
as a formula are prefixed with an apostrophe (CSV injection) and the prefix is removed on import.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from articles.content.arabic import normalise
from articles.content.models import Section
from newsletter.editions.models import Frequency, Language
from sitewide.dates import grouped, semicolon
from sitewide.spreadsheet import safe_cell, unescape_cell

from . import conf, consent, lifecycle
from .addresses import InvalidEmail, email_hash, normalise_email
from .models import Subscriber, Suppression

IMPORT_COLUMNS = ("email", "name", "frequency", "language", "topics")
EXPORT_COLUMNS = (
    "email",
    "name",
    "frequency",
    "language",
    "topics",
    "alerts",
    "status",
    "source",
    "created_at",
    "confirmed_at",
    "unsubscribed_at",
    "consent_history",
)
TOPIC_SEPARATOR = "|"
_CHUNK = 1000


class Action:
    CREATE = "create"
    SKIP_DUPLICATE_IN_FILE = "duplicate_in_file"
    SKIP_EXISTING = "existing"
    SKIP_SUPPRESSED = "suppressed"
    ERROR = "error"


@dataclass
class ImportRow:
    line: int
    email: str
    name: str = ""
    frequency: str = Frequency.DAILY
    language: str = Language.ARABIC
    topic_ids: list[int] = field(default_factory=list)
    action: str = Action.CREATE
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportPreview:
    rows: list[ImportRow]
    file_errors: list[str] = field(default_factory=list)

    @property
    def error_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.action == Action.ERROR]

    @property
    def to_create(self) -> list[ImportRow]:
        return [row for row in self.rows if row.action == Action.CREATE]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for row in self.rows:
            counts[row.action] += 1
        return dict(counts)


class ImportRefused(ValueError):
    """The file has invalid rows and the administrator did not choose "valid rows only"."""


@dataclass(frozen=True)
class ImportResult:
    created: int
    skipped: int
    invalid: int
    emails_queued: int


def _unescape(value: str) -> str:
    return unescape_cell(value)


def _escape(value: str) -> str:
    return str(safe_cell(value))


def parse_import(content: bytes) -> ImportPreview:
    """Validate every row; write nothing."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ImportPreview(rows=[], file_errors=[_("الملف ليس بترميز UTF-8.")])
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    if "email" not in header:
        return ImportPreview(rows=[], file_errors=[_("لا يوجد عمود email في سطر العناوين.")])
    reader.fieldnames = header
    sections = topic_keys()
    rows: list[ImportRow] = []
    seen: set[str] = set()
    try:
        for record in reader:
            if len(rows) >= conf.settings().SUBSCRIBER_IMPORT_MAX_ROWS:
                return ImportPreview(
                    rows=[],
                    file_errors=[
                        _("الملف يتجاوز الحد الأقصى لعدد الأسطر (%(max)s).")
                        % {"max": grouped(conf.settings().SUBSCRIBER_IMPORT_MAX_ROWS)}
                    ],
                )
            rows.append(_parse_row(reader.line_num, record, sections, seen))
    except csv.Error as exc:
        return ImportPreview(rows=[], file_errors=[_("ملف CSV غير صالح: %(error)s") % {"error": exc}])
    _mark_existing(rows)
    return ImportPreview(rows=rows)


def topic_keys() -> dict[str, int | None]:
    """Each section under its id, slug and name, normalised; None for a key two sections share
    (a name that is another section's slug): such a cell is refused rather than guessed."""
    keys: dict[str, int | None] = {}
    for pk, slug, name in Section.objects.values_list("pk", "slug", "name"):
        for key in {str(pk), normalise(slug), normalise(name)}:
            keys[key] = pk if keys.get(key, pk) == pk else None
    return keys


def _parse_row(
    line: int, record: dict[str | None, object], sections: dict[str, int | None], seen: set[str]
) -> ImportRow:
    def cell(name: str) -> str:
        value = record.get(name)
        return _unescape(value.strip()) if isinstance(value, str) else ""

    row = ImportRow(line=line, email=cell("email")[:320])
    try:
        row.email = normalise_email(row.email)
    except InvalidEmail:
        row.errors.append(_("عنوان بريد غير صالح"))
    row.name = cell("name")
    if len(row.name) > 100 or any(ord(ch) < 32 for ch in row.name):
        row.errors.append(_("الاسم أطول من ١٠٠ حرف أو فيه رموز تحكم"))
    frequency = cell("frequency").lower() or Frequency.DAILY
    if frequency not in Frequency.values:
        row.errors.append(_("دورية غير معروفة: %(value)s") % {"value": frequency[:20]})
    row.frequency = frequency
    language = cell("language").lower() or Language.ARABIC
    if language not in Language.values:
        row.errors.append(_("لغة غير معروفة: %(value)s") % {"value": language[:20]})
    row.language = language
    for topic in filter(None, (part.strip() for part in cell("topics").split(TOPIC_SEPARATOR))):
        section_id = sections.get(normalise(topic), 0)
        if section_id:
            row.topic_ids.append(section_id)
        elif section_id is None:
            row.errors.append(_("اسم يطابق أكثر من قسم: %(value)s؛ استعمل رقم القسم") % {"value": topic[:50]})
        else:
            row.errors.append(_("قسم غير معروف: %(value)s") % {"value": topic[:50]})
    if row.errors:
        row.action = Action.ERROR
    elif row.email.lower() in seen:
        row.action = Action.SKIP_DUPLICATE_IN_FILE
    else:
        seen.add(row.email.lower())
    return row


def _mark_existing(rows: list[ImportRow]) -> None:
    """Mark rows whose address exists or is suppressed, with one query per chunk of addresses."""
    candidates = [row for row in rows if row.action == Action.CREATE]
    for start in range(0, len(candidates), _CHUNK):
        chunk = candidates[start : start + _CHUNK]
        lowered = [row.email.lower() for row in chunk]
        existing = set(
            Subscriber.objects.alias(email_lower=Lower("email"))
            .filter(email_lower__in=lowered)
            .annotate(lower=Lower("email"))
            .values_list("lower", flat=True)
        )
        hashes = {row.email: email_hash(row.email) for row in chunk}
        suppressed = set(
            Suppression.objects.filter(email_hash__in=hashes.values()).values_list("email_hash", flat=True)
        )
        for row in chunk:
            if row.email.lower() in existing:
                row.action = Action.SKIP_EXISTING
            elif hashes[row.email] in suppressed:
                row.action = Action.SKIP_SUPPRESSED


def import_summary(result: ImportResult) -> str:
    """What an import did, for the administrator: each count in the page's numerals with its
    Arabic plural ("أُنشئ مشتركان", "١١ سطرًا")."""
    parts = [
        ngettext("أُنشئ مشترك واحد", "أُنشئ %(n)s مشترك", result.created),
        ngettext(
            "تُخطّي عنوان واحد (مكرر أو موجود أو محظور)", "تُخطّي %(n)s عنوان (مكرر أو موجود أو محظور)", result.skipped
        ),
        ngettext("سطر واحد غير صالح", "%(n)s سطر غير صالح", result.invalid),
        ngettext("رسالة تأكيد واحدة في الطابور", "%(n)s رسالة تأكيد في الطابور", result.emails_queued),
    ]
    counts = (result.created, result.skipped, result.invalid, result.emails_queued)
    return semicolon().join(part % {"n": grouped(count)} for part, count in zip(parts, counts, strict=True)) + "."


def apply_import(
    content: bytes, *, send_confirmation: bool, only_valid_rows: bool, actor_id: int | None = None
) -> ImportResult:
    """Re-validate the uploaded file and create the new subscribers in one transaction.
    Raises ValueError if the file cannot be read, ImportRefused if it has invalid rows and
    only_valid_rows is False (nothing saved either way)."""
    preview = parse_import(content)
    if preview.file_errors:
        raise ValueError("; ".join(preview.file_errors))
    if preview.error_rows and not only_valid_rows:
        raise ImportRefused(_("في الملف أسطر غير صالحة؛ لم يُحفظ شيء. صحّحها أو اختر استيراد الأسطر الصالحة فقط."))
    now = timezone.now()
    status = Subscriber.Status.PENDING if send_confirmation else Subscriber.Status.ACTIVE
    emails_queued = 0
    with transaction.atomic():
        new = [
            Subscriber(
                uuid=uuid.uuid4(),
                email=row.email,
                name=row.name,
                frequency=row.frequency,
                language=row.language,
                status=status,
                source=Subscriber.Source.IMPORT,
                consent_text_version=conf.settings().CONSENT_TEXT_VERSION,
                created_at=now,
                confirmed_at=None if send_confirmation else now,
            )
            for row in preview.to_create
        ]
        # ignore_conflicts: an address added by a signup since the preview is skipped, not an error.
        Subscriber.objects.bulk_create(new, batch_size=_CHUNK, ignore_conflicts=True)
        by_uuid = {row_obj.uuid: row for row_obj, row in zip(new, preview.to_create, strict=True)}
        created = list(_fetch_by_uuids(list(by_uuid)))
        through = Subscriber.topics.through
        links = [
            through(subscriber_id=subscriber.pk, section_id=section_id)
            for subscriber in created
            for section_id in by_uuid[subscriber.uuid].topic_ids
        ]
        through.objects.bulk_create(links, batch_size=_CHUNK, ignore_conflicts=True)
        consent.append_many(
            consent.event(
                subscriber_id=subscriber.pk,
                kind=consent.Kind.IMPORTED,
                source=consent.Source.IMPORT,
                status=status,
                at=now,
                consent_text_version=conf.settings().CONSENT_TEXT_VERSION,
                actor_id=actor_id,
            )
            for subscriber in created
        )
        if send_confirmation:
            for subscriber in created:
                emails_queued += lifecycle.enqueue_email(subscriber, lifecycle.EmailKind.CONFIRMATION)
    invalid = len(preview.error_rows)
    return ImportResult(
        created=len(created),
        skipped=len(preview.rows) - len(created) - invalid,
        invalid=invalid,
        emails_queued=emails_queued,
    )


def _fetch_by_uuids(uuids: list[uuid.UUID]) -> Iterator[Subscriber]:
    for start in range(0, len(uuids), _CHUNK):
        yield from Subscriber.objects.filter(uuid__in=uuids[start : start + _CHUNK]).only("id", "uuid", "email")


class _Echo:
    """csv.writer target that hands each line back instead of buffering it."""

    def write(self, value: str) -> str:
        return value


def export_rows(queryset: QuerySet[Subscriber] | None = None, *, chunk_size: int = 5000) -> Iterator[str]:
    """CSV lines (header first) for the given subscribers queryset, streamed by keyset chunks."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(EXPORT_COLUMNS)  # BOM: spreadsheets then read Arabic as UTF-8
    base = (queryset if queryset is not None else Subscriber.objects.all()).order_by("pk")
    slugs = dict(Section.objects.values_list("pk", "slug"))
    last_pk = 0
    fields = (
        "pk",
        "email",
        "name",
        "frequency",
        "language",
        "alerts",
        "status",
        "source",
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
    )
    while True:
        chunk = list(base.filter(pk__gt=last_pk).values_list(*fields)[:chunk_size])
        if not chunk:
            return
        topics: dict[int, list[str]] = defaultdict(list)
        pks = [values[0] for values in chunk]
        histories = consent.csv_cells(pks)
        for subscriber_id, section_id in Subscriber.topics.through.objects.filter(subscriber_id__in=pks).values_list(
            "subscriber_id", "section_id"
        ):
            topics[subscriber_id].append(slugs.get(section_id, ""))
        for pk, email, name, frequency, language, alerts, status, source, created, confirmed, unsubscribed in chunk:
            yield writer.writerow(
                [
                    _escape(email),
                    _escape(name),
                    frequency,
                    language,
                    TOPIC_SEPARATOR.join(sorted(topics.get(pk, []))),
                    "yes" if alerts else "",  # the breaking-news alerts list (newsletter.alerts)
                    status,
                    source,
                    created.isoformat() if created else "",
                    confirmed.isoformat() if confirmed else "",
                    unsubscribed.isoformat() if unsubscribed else "",
                    histories.get(pk, ""),
                ]
            )
        last_pk = chunk[-1][0]
