"""Right-to-left text in emails: RLM marks and `dir="ltr"` spans around Latin runs (digits and
dates come from config/dates.py, re-exported here). The rules come from docs/EMAIL.md (why
<bdi> is not used, where RLM goes)."""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from config.dates import dateline, digits, format_date

RLM = "\u200f"
# Languages written right to left that get RLM marks and dir="ltr" spans around Latin runs.
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur"})

_LATIN_RUN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-/:@%+&?=#'’]*(?: [A-Za-z0-9][A-Za-z0-9._\-/:@%+&?=#'’]*)*")
_HAS_LATIN_LETTER = re.compile(r"[A-Za-z]")
_LATIN_LEAD = re.compile(r"^\s*(?:[A-Za-z0-9]|\[\[|%|\*\|)")


def is_rtl(language: str) -> bool:
    return language.split("-")[0] in RTL_LANGUAGES


def ltr_runs(text: str, *, language: str) -> SafeString:
    """Escape `text` and, in right-to-left languages, wrap each run of Latin words in
    `<span dir="ltr">` (EMAIL.md: <bdi> fails in Gmail/Outlook/Yahoo; dir goes on a span)."""
    if not is_rtl(language):
        return escape(text)
    parts: list[str] = []
    last = 0
    for match in _LATIN_RUN.finditer(text):
        run = match.group(0)
        if not _HAS_LATIN_LETTER.search(run):
            continue  # digits alone are weak characters and read correctly in RTL
        parts.append(escape(text[last : match.start()]))
        parts.append(f'<span dir="ltr">{escape(run)}</span>')
        last = match.end()
    parts.append(escape(text[last:]))
    return mark_safe("".join(parts))


def with_rlm(line: str, *, language: str) -> str:
    """Prefix an RLM when an RTL line starts with a Latin letter, a digit or a URL."""
    if is_rtl(language) and _LATIN_LEAD.match(line) and not line.startswith(RLM):
        stripped = line.lstrip()
        return line[: len(line) - len(stripped)] + RLM + stripped
    return line


def text_with_rlm(text: str, *, language: str) -> str:
    if not is_rtl(language):
        return text
    return "\n".join(with_rlm(line, language=language) if line.strip() else line for line in text.split("\n"))


# --- Dates and numerals ----------------------------------------------------------------------
# One style for the email, the site and the admin: config/dates.py owns it (NUMERALS,
# ARABIC_MONTHS, DIGEST_HIJRI_DATE); the email's callers keep importing these names from here.

__all__ = ["RLM", "dateline", "digits", "format_date", "is_rtl", "ltr_runs", "text_with_rlm", "with_rlm"]
