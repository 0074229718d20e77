"""Our own Arabic plurals read correctly for every count: the source strings are Arabic with only
two forms, and the Arabic catalog (locale/ar) gives them Arabic's six (zero, one, two, 3-10,
11-99, 100 and up). Before it, "2 أيام", "11 أيام" and "5 مقالًا" were what readers and editors saw.
The number itself follows NUMERALS (sitewide/dates.py): a count is passed to the catalog as text
in the reader's digits (issue 22: "بعد 7 أيام" sat beside "٣ ديسمبر"), and every plural msgid of
ours has its six Arabic forms."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.translation import ngettext

from sitewide.dates import grouped
from tests.config.test_i18n import PO_FILE, parse_po

# The confirmation email's sentence as its template writes it: the plural is chosen by the count,
# the number shown in the reader's numerals.
CONFIRMATION = (
    "{% load i18n site_dates %}{% blocktranslate count n=n with days=n|numerals %}ينتهي هذا الرابط بعد يوم واحد."
    "{% plural %}ينتهي هذا الرابط بعد {{ days }} أيام.{% endblocktranslate %}"
)


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, "ينتهي هذا الرابط بعد يوم واحد."),
        (2, "ينتهي هذا الرابط بعد يومين."),
        (7, "ينتهي هذا الرابط بعد ٧ أيام."),
        (11, "ينتهي هذا الرابط بعد ١١ يومًا."),
        (100, "ينتهي هذا الرابط بعد ١٠٠ يوم."),
    ],
)
def test_the_confirmation_link_lifetime_in_arabic(n: int, expected: str) -> None:
    with translation.override("ar"):
        assert Template(CONFIRMATION).render(Context({"n": n})) == expected


def test_latin_numerals_when_the_setting_asks(settings) -> None:
    settings.NUMERALS = "latin"
    with translation.override("ar"):
        assert Template(CONFIRMATION).render(Context({"n": 7})) == "ينتهي هذا الرابط بعد 7 أيام."


@pytest.mark.parametrize(
    ("count", "expected"),
    [(1, "نُشر مقال واحد."), (2, "نُشر مقالان."), (5, "نُشرت ٥ مقالات."), (30, "نُشر ٣٠ مقالًا.")],
)
def test_the_publish_action_message_in_arabic(count: int, expected: str) -> None:
    with translation.override("ar"):
        assert ngettext("نُشر %(count)s مقال.", "نُشر %(count)s مقالًا.", count) % {"count": grouped(count)} == expected


def test_english_keeps_its_two_forms() -> None:
    with translation.override("en"):
        assert (
            ngettext("نُشر %(count)s مقال.", "نُشر %(count)s مقالًا.", 2) % {"count": grouped(2)}
            == "2 articles published."
        )
        assert Template(CONFIRMATION).render(Context({"n": 1})) == "This link expires in one day."


def test_every_plural_of_ours_has_its_six_arabic_forms() -> None:
    """A plural msgid of our templates and code (the English catalog lists them) with no Arabic
    entry gets gettext's two forms in Arabic: "أُنشئ 2 مشترك". Ours are in locale/ar; Django's
    own (the admin search form's result count) come from Django's Arabic catalog."""
    plurals = [entry for entry in parse_po(PO_FILE) if entry.msgid_plural is not None]
    assert len(plurals) > 10
    with translation.override("ar"):
        missing = [e.msgid for e in plurals if ngettext(e.msgid, e.msgid_plural, 2) == e.msgid_plural]
    assert not missing, missing


# The alert's cancel window as its confirmation page writes it (issue 27): "٢ ثانية" before.
CANCEL_WINDOW = (
    "{% load i18n site_dates %}{% blocktranslate count n=wait with seconds=wait|numerals %}"
    "يبقى أمامك ثانية واحدة لإلغائه قبل أن يُرسل شيء.{% plural %}"
    "يبقى أمامك {{ seconds }} ثانية لإلغائه قبل أن يُرسل شيء.{% endblocktranslate %}"
)


@pytest.mark.parametrize(
    ("wait", "expected"),
    [
        (1, "يبقى أمامك ثانية واحدة لإلغائه قبل أن يُرسل شيء."),
        (2, "يبقى أمامك ثانيتان لإلغائه قبل أن يُرسل شيء."),
        (5, "يبقى أمامك ٥ ثوانٍ لإلغائه قبل أن يُرسل شيء."),
        (60, "يبقى أمامك ٦٠ ثانية لإلغائه قبل أن يُرسل شيء."),
    ],
)
def test_the_alerts_cancel_window_in_arabic(wait: int, expected: str) -> None:
    with translation.override("ar"):
        assert Template(CANCEL_WINDOW).render(Context({"wait": wait})) == expected
    page = Path(__file__).resolve().parents[1] / "templates/admin/newsletter/alert/send.html"
    assert CANCEL_WINDOW.split("%}", 1)[1] in page.read_text(encoding="utf-8")  # the page's own sentence
