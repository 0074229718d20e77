"""Right-to-left text in emails: RLM marks, `dir="ltr"` spans around Latin runs and an LRM after a
link that closes a line of text (digits, dates and separators come from sitewide/dates.py,
re-exported here). The rules come from docs/EMAIL.md (why <bdi> is not used, where RLM goes)."""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from sitewide.dates import dateline, digits, format_date, semicolon

RLM = "\u200f"
LRM = "\u200e"
# Languages written right to left that get RLM marks and dir="ltr" spans around Latin runs.
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur"})

_LATIN_RUN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-/:@%+&?=#'’]*(?: [A-Za-z0-9][A-Za-z0-9._\-/:@%+&?=#'’]*)*")
_HAS_LATIN_LETTER = re.compile(r"[A-Za-z]")
_LATIN_LEAD = re.compile(r"^\s*(?:[A-Za-z0-9]|\[\[|%|\*\|)")
# A link closing a line, or the merge field an ESP replaces with one ("%recipient.unsubscribe_url%",
# "[[preferences_url]]": every merge field of a link is named "..._url").
_TRAILING_LINK = re.compile(r"(?:https?://\S*|\S*_url\b\S*)$")


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
    """Each line of RTL text that starts Latin gets its RLM; each line that ends with a link gets
    a space and an LRM after it, which hold the link's closing "/" at its end: in a right-to-left
    line a trailing "/" takes the line's direction and is drawn at the link's other end. The
    space keeps the mark out of the link when a mail client turns the address into one."""
    if not is_rtl(language):
        return text
    return "\n".join(_line_with_marks(line, language=language) for line in text.split("\n"))


def _line_with_marks(line: str, *, language: str) -> str:
    if not line.strip():
        return line
    line = with_rlm(line, language=language)
    return f"{line} {LRM}" if _TRAILING_LINK.search(line) else line


# --- Dates and numerals ----------------------------------------------------------------------
# One style for the email, the site and the admin: sitewide/dates.py owns it (NUMERALS,
# ARABIC_MONTHS, DIGEST_HIJRI_DATE); the email's callers keep importing these names from here.

__all__ = [
    "LRM",
    "RLM",
    "dateline",
    "digits",
    "format_date",
    "is_rtl",
    "ltr_runs",
    "semicolon",
    "text_with_rlm",
    "with_rlm",
]
