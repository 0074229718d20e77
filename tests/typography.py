"""The two ways a number reads wrong in our Arabic text, as checks on what a reader sees
(tests/visible_text.py), shared by tests/test_arabic_text.py and the browser tests.

1. A dot-like separator beside a digit (`dot_separators`): the Arabic-Indic zero is a dot, so
   "سياسة · ٣ ديسمبر" reads "٣٠ ديسمبر", and "١." in a list reads "١٠". Caught: the middle dot
   and its look-alikes (· • ∙ ⋅ ‧ ⸱ ・) next to any digit, spaces between them included; a full
   stop next to an Arabic-Indic digit (their decimal point is ٫, never "."); a full stop after a
   Western digit used as a list marker ("1. ", "1.–10.") or a spaced separator ("3 . 5"). An
   English decimal ("3.5") and an English sentence ending with a year ("… 2026.") are fine.
2. A Western digit in Arabic text (`western_digits`) when NUMERALS asks for Arabic-Indic ones:
   every number we write in Arabic follows sitewide/dates.py. Left out: URLs, email addresses
   and message ids, Latin words that carry digits ("UTF-8", "GMT+3": names, not numbers), hex
   identifiers (UUIDs), and what the page itself marks as a left-to-right run
   (tests/visible_text.py).
"""

from __future__ import annotations

import re

DIGIT = "[0-9\u0660-\u0669\u06f0-\u06f9]"
ARABIC_INDIC_DIGIT = "[\u0660-\u0669\u06f0-\u06f9]"
DOT_LIKE = "\u00b7\u2022\u2219\u22c5\u2027\u2e31\u30fb\uff65"  # · • ∙ ⋅ ‧ ⸱ ・ ･
SPACE = r"[\s\u00a0\u200e\u200f]*"  # spaces, no-break spaces and direction marks between them

_SEPARATOR = re.compile(
    rf"{DIGIT}{SPACE}[{DOT_LIKE}]|[{DOT_LIKE}]{SPACE}{DIGIT}"  # a dot-like separator beside a digit
    rf"|{ARABIC_INDIC_DIGIT}{SPACE}\.|\.{SPACE}{ARABIC_INDIC_DIGIT}"  # a full stop beside ٠-٩
    rf"|(?:^|\n){SPACE}[0-9]+\.(?![0-9])"  # "1. " opening a line: a list marker
    r"|[0-9]\.[\s\u00a0]*[\u2010-\u2015-]"  # "1.–10.": a list marker before a range dash
    r"|[0-9][\s\u00a0]+\.[\s\u00a0]|[\s\u00a0]\.[\s\u00a0]+[0-9]"  # "3 . 5": a spaced separator
)
_WESTERN_DIGIT = re.compile(r"[0-9]+")
# Runs that are not Arabic text even inside it: links, addresses, and the page's own paths.
_NOT_TEXT = re.compile(
    r"<?[\w.+-]+@[\w-]+(?:\.[\w-]+)*>?"  # addresses and message ids
    r"|(?:https?|mailto):\S+"  # links
    r"|(?<![\w\u0600-\u06ff])/[\w/.:%?=&#~-]*"  # paths
)
# Not numbers we write: Latin words with digits in them, and hex identifiers (UUIDs, hashes).
_NOT_A_NUMBER = re.compile(
    r"\b[A-Za-z][A-Za-z0-9+_/-]*[0-9][A-Za-z0-9+_/-]*"  # UTF-8, GMT+3, Etc/GMT-3
    r"|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"  # UUIDs
    r"|\b(?=[0-9a-f]*[a-f])[0-9a-f]{12,}\b"  # hashes
)


def dot_separators(texts: list[str] | str) -> list[str]:
    """Each dot-like separator or full stop beside a digit, with a little of its context."""
    if isinstance(texts, str):
        texts = [texts]
    found = []
    for text in texts:
        text = _NOT_TEXT.sub(" ", text)
        for match in _SEPARATOR.finditer(text):
            found.append(_context(text, match.start(), match.end()))
    return found


def western_digits(texts: list[str] | str) -> list[str]:
    """Each run of Western digits in the texts (for Arabic text with Arabic-Indic numerals)."""
    if isinstance(texts, str):
        texts = [texts]
    found = []
    for text in texts:
        text = _NOT_A_NUMBER.sub(" ", _NOT_TEXT.sub(" ", text))
        for match in _WESTERN_DIGIT.finditer(text):
            found.append(_context(text, match.start(), match.end()))
    return found


def _context(text: str, start: int, end: int) -> str:
    return " ".join(text[max(0, start - 25) : end + 25].split())
