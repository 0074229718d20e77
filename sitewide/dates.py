"""Dates and numerals as readers, editors and administrators see them, in one style everywhere:
the email (newsletter.email.rtl re-exports these), the site (articles' `site_dates` template
filters) and the admin pages we render ourselves.

Separators: a byline's or a list's parts are joined with `comma` ("سياسة، ٣ ديسمبر"), titles
that may hold commas of their own with `semicolon`, and the two calendars of the dateline with
"الموافق". Never a middle dot (·, •) nor a full stop between them: the Arabic-Indic zero is a dot,
so "سياسة · ٣ ديسمبر" reads "٣٠ ديسمبر" and "١." in a list reads "١٠".

Settings: NUMERALS chooses the digits of Arabic text ("arabic": ٠١٢٣, "latin": 0123; empty: by
language, Arabic-Indic in Arabic, Western otherwise); ARABIC_MONTHS chooses the month names
("egyptian": يناير … سبتمبر, "levantine": كانون الثاني … أيلول); DIGEST_HIJRI_DATE adds an
approximate Umm al-Qura Hijri date beside the Gregorian one in the email dateline.

Written out here rather than through Django's date filter, whose Arabic catalogue has neither
Arabic-Indic digits nor the Levantine month names. Other languages always get Western digits:
Arabic-Indic digits inside English text would read as a mistake."""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import conf

NUMERAL_STYLES = ("arabic", "latin")
MONTH_STYLES = ("egyptian", "levantine")

EGYPTIAN_MONTHS = (
    "يناير",
    "فبراير",
    "مارس",
    "أبريل",
    "مايو",
    "يونيو",
    "يوليو",
    "أغسطس",
    "سبتمبر",
    "أكتوبر",
    "نوفمبر",
    "ديسمبر",
)
LEVANTINE_MONTHS = (
    "كانون الثاني",
    "شباط",
    "آذار",
    "نيسان",
    "أيار",
    "حزيران",
    "تموز",
    "آب",
    "أيلول",
    "تشرين الأول",
    "تشرين الثاني",
    "كانون الأول",
)
ENGLISH_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# date.weekday(): Monday is 0.
ARABIC_WEEKDAYS = ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد")
ENGLISH_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def _arabic(language: str | None) -> bool:
    return (language or translation.get_language() or settings.LANGUAGE_CODE).startswith("ar")


def uses_arabic_digits(language: str | None = None) -> bool:
    """Whether text in `language` (default: the active one) is written with Arabic-Indic digits."""
    if not _arabic(language):
        return False
    style = conf.site().NUMERALS
    return style != "latin"  # "arabic", or empty: by language


def digits(value: object, *, language: str | None = None) -> str:
    """`value` as text in the configured numeral style for `language`."""
    text = str(value)
    return text.translate(_ARABIC_DIGITS) if uses_arabic_digits(language) else text


def grouped(value: int, *, language: str | None = None) -> str:
    """A count with thousands grouped: "12,500" / "١٢٬٥٠٠" (the Arabic thousands separator)."""
    text = f"{value:,}"
    if not uses_arabic_digits(language):
        return text
    return text.translate(_ARABIC_DIGITS).replace(",", "\u066c")


def decimal(value: object, *, language: str | None = None) -> str:
    """A decimal number ("35.8") in the configured style: with Arabic-Indic digits the decimal
    point is the Arabic decimal separator ("٣٥٫٨"); a Latin "." between them reads as a date."""
    if not uses_arabic_digits(language):
        return str(value)
    return str(value).translate(_ARABIC_DIGITS).replace(".", "\u066b")


def percent(value: object, *, language: str | None = None) -> str:
    """A percentage ("35" -> "35%" / "٣٥٪"): with Arabic-Indic digits the Arabic percent sign,
    which keeps its place after the number in right-to-left text where "%" jumps before it."""
    if not uses_arabic_digits(language):
        return f"{value}%"
    return f"{decimal(value, language=language)}\u066a"


def comma(*, language: str | None = None) -> str:
    """Between the parts of a byline or a list: the Arabic comma in Arabic, a comma otherwise."""
    return "، " if _arabic(language) else ", "


def semicolon(*, language: str | None = None) -> str:
    """Between parts that may hold commas themselves (headlines, labelled figures)."""
    return "؛ " if _arabic(language) else "; "


def month_name(month: int, *, language: str | None = None) -> str:
    if not _arabic(language):
        return ENGLISH_MONTHS[month - 1]
    names = LEVANTINE_MONTHS if conf.site().ARABIC_MONTHS == "levantine" else EGYPTIAN_MONTHS
    return names[month - 1]


def weekday_name(weekday: int, *, language: str | None = None) -> str:
    """date.weekday() (Monday 0) as a name: "السبت", "Saturday"."""
    return ARABIC_WEEKDAYS[weekday] if _arabic(language) else ENGLISH_WEEKDAYS[weekday]


def format_date(day: date, *, language: str | None = None, with_year: bool = True, with_weekday: bool = True) -> str:
    """ "الأحد ٢٩ نوفمبر ٢٠٢٦" (or "الأحد 29 تشرين الثاني 2026", by the settings) in Arabic,
    "Sunday 29 November 2026" otherwise. A datetime is first brought to the site's time zone."""
    if isinstance(day, datetime):
        day = timezone.localtime(day).date() if timezone.is_aware(day) else day.date()
    arabic = _arabic(language)
    parts = []
    if with_weekday:
        parts.append(ARABIC_WEEKDAYS[day.weekday()] if arabic else ENGLISH_WEEKDAYS[day.weekday()])
    parts.append(digits(day.day, language=language))
    parts.append(month_name(day.month, language=language))
    if with_year:
        parts.append(digits(day.year, language=language))
    return " ".join(parts)


def format_time(moment: datetime, *, language: str | None = None) -> str:
    """ "07:00" in the site's time zone (or the moment's own, when naive), in the numeral style."""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return digits(f"{moment:%H:%M}", language=language)


def format_datetime(moment: datetime, *, language: str | None = None, with_weekday: bool = False) -> str:
    """ "29 نوفمبر 2026، 07:00": the date, then the time, both in the site's time zone."""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    day = format_date(moment.date(), language=language, with_weekday=with_weekday)
    separator = "، " if _arabic(language) else ", "
    return f"{day}{separator}{format_time(moment, language=language)}"


def hijri_date(day: date, *, language: str | None = None) -> str:
    """The Umm al-Qura Hijri date of `day`, labelled approximate: the calendar is computed, and
    the month a country observes may start a day earlier or later (moon sighting)."""
    from hijridate import Gregorian  # imported on use: only editions with the setting on need it

    hijri = Gregorian(day.year, day.month, day.day).to_hijri()
    arabic = _arabic(language)
    with translation.override("ar" if arabic else "en"):
        text = _("%(day)s %(month)s %(year)s هـ (تقريبًا)") % {
            "day": digits(hijri.day, language=language),
            "month": hijri.month_name("ar" if arabic else "en"),
            "year": digits(hijri.year, language=language),
        }
    return text


def dateline(day: date, *, language: str | None = None) -> str:
    """The email's dateline: the Gregorian date, and the Hijri one beside it when
    DIGEST_HIJRI_DATE is on, joined the way Arabic writes two calendars' dates ("الموافق")."""
    text = format_date(day, language=language)
    if conf.site().DIGEST_HIJRI_DATE:
        with translation.override("ar" if _arabic(language) else "en"):
            text = _("%(gregorian)s الموافق %(hijri)s") % {
                "gregorian": text,
                "hijri": hijri_date(day, language=language),
            }
    return text
