"""CSV cells a spreadsheet will not run as a formula (CSV injection, OWASP): a cell that starts
with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading apostrophe, which spreadsheets
show as text and our own CSV import removes again (newsletter.subscribers.csv_io). Every CSV the
product writes passes text from elsewhere (subscriber names, feed titles) through `safe_cell`."""

from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """`value` for a CSV cell: text that a spreadsheet would evaluate is prefixed with `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def unescape_cell(value: str) -> str:
    """The text `safe_cell` wrote (for reading our own exports back)."""
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_PREFIXES:
        return value[1:]
    return value
