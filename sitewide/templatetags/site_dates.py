"""Template filters that show dates and numbers in the one style sitewide/dates.py owns
(NUMERALS, ARABIC_MONTHS), in the active language: the site's and our admin pages' dates read
like the email's. `{% comma %}` and `{% semicolon %}` write that module's separators (the Arabic
comma and semicolon in Arabic), never a middle dot beside a digit."""

from __future__ import annotations

from datetime import date, datetime

from django import template

from sitewide import dates

register = template.Library()


@register.filter
def long_date(value: date | datetime | None) -> str:
    """ "30 نوفمبر 2026" / "٣٠ تشرين الثاني ٢٠٢٦", by the settings."""
    if value is None or value == "":
        return ""
    return dates.format_date(value, with_weekday=False)


@register.filter
def long_datetime(value: datetime | None) -> str:
    """ "30 نوفمبر 2026، 07:00" in the site's time zone."""
    if value is None or value == "":
        return ""
    return dates.format_datetime(value)


@register.simple_tag
def comma() -> str:
    """Between a byline's parts: "سياسة، ٣ ديسمبر" / "Politics, 3 December"."""
    return dates.comma()


@register.simple_tag
def semicolon() -> str:
    """Between parts that may hold commas themselves."""
    return dates.semicolon()


@register.filter
def numerals(value: object) -> str:
    """A number (or any text with digits) in the configured numeral style."""
    if value is None:
        return ""
    return dates.digits(value)


@register.filter
def grouped(value: int | None) -> str:
    """A count with its thousands grouped: "12,500" / "١٢٬٥٠٠", by the settings."""
    if value is None or value == "":
        return ""
    return dates.grouped(int(value))


@register.filter
def decimal(value: object) -> str:
    """ "35.8" / "٣٥٫٨", by the settings."""
    if value is None or value == "":
        return ""
    return dates.decimal(value)


@register.filter
def percent(value: object) -> str:
    """ "35%" / "٣٥٪", by the settings."""
    if value is None or value == "":
        return ""
    return dates.percent(value)
