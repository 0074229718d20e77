"""What a feed import tells editors and operators: the skipped entries and why, a refused feed
and why, and the record of the last import of each feed (articles.models.FeedImport, shown in the
admin; the periodic FEED_URLS import has no other screen).

Reasons are codes with one message each, Arabic msgids translated in the English catalogue: the
admin shows them in the reader's language, the `import_feed` command and the task log in English
(`in_english`), so one table serves both and a code stored in a row still reads right after a
message is reworded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .models import FEED_SOURCE_LENGTH, FeedImport

# Why an entry was skipped; the rest of its feed is imported.
SKIP_REASONS: dict[str, Promise] = {
    "no_id": _("ليس للمدخل معرّف ولا رابط يُعرف به"),
    "no_title": _("ليس للمدخل عنوان (أو عنوانه وسوم بلا نص)"),
    "unsafe_link": _("رابط المدخل ليس رابط ويب آمنًا، وليس له معرّف غيره"),
}
# Why a whole feed was refused (FeedError.kind); nothing of it was imported.
REFUSALS: dict[str, Promise] = {
    "unreachable": _("تعذّر جلب الخلاصة أو رُفض جلبها"),
    "dangerous": _("رُفضت لأنها تعرّف كيانات XML، وهي قد تضخّم خلاصة صغيرة إلى ما يستنفد ذاكرة الخادم"),
    "malformed": _("ليست XML أو JSON سليمًا"),
    "not_a_feed": _("ليست خلاصة RSS أو Atom أو JSON"),
}
MAX_LISTED = 200  # entries listed per row: a feed of 10,000 bad entries must not make a huge row
MAX_LABEL = 80


@dataclass(frozen=True)
class SkippedEntry:
    position: int  # 1-based, in the feed's order
    label: str  # the entry's title, else its id or link, shortened
    reason: str  # a key of SKIP_REASONS
    detail: str = ""  # what made it so (the refused link), shortened

    @property
    def message(self) -> str:
        return str(SKIP_REASONS[self.reason])

    def as_row(self) -> dict[str, object]:
        return {"position": self.position, "label": self.label, "reason": self.reason, "detail": self.detail}


def in_english(message: Promise | str) -> str:
    with translation.override("en"):
        return str(message)


def describe_skip(skipped: SkippedEntry) -> str:
    """One line for the command's output and the task log (English)."""
    detail = f" ({skipped.detail})" if skipped.detail else ""
    return f"skipped entry {skipped.position} {skipped.label!r}: {in_english(SKIP_REASONS[skipped.reason])}{detail}"


def reason_of(row: dict[str, object]) -> str:
    """The message of a stored skipped entry, in the active language (the admin's)."""
    reason = SKIP_REASONS.get(str(row.get("reason", "")))
    return str(reason) if reason is not None else str(row.get("reason", ""))


def refusal_of(kind: str) -> str:
    reason = REFUSALS.get(kind)
    return str(reason) if reason is not None else kind


def record_import(
    *,
    source: str,
    created: int = 0,
    updated: int = 0,
    unchanged: int = 0,
    skipped: list[SkippedEntry] | None = None,
    refusal: str = "",
    error: str = "",
    now: datetime | None = None,
) -> FeedImport:
    """Replace the record of `source`'s last import with this one."""
    skipped = skipped or []
    row, _created = FeedImport.objects.update_or_create(
        source=source[:FEED_SOURCE_LENGTH],
        defaults={
            "imported_at": now or timezone.now(),
            "refusal": refusal,
            "error": error[:2000],
            "created": created,
            "updated": updated,
            "unchanged": unchanged,
            "skipped": len(skipped),
            "skipped_entries": [entry.as_row() for entry in skipped[:MAX_LISTED]],
        },
    )
    return row
