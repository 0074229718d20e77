"""One numeral and month style everywhere (issue 12): the email's dateline, the site's article
dates and the admin's edition dates follow NUMERALS and ARABIC_MONTHS; the Hijri date is
optional and labelled approximate; a bad setting refuses to start."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse
from django.utils import translation

from config.settings import env_choice
from newsletter.editions import compose
from newsletter.editions.segments import Segment
from newsletter.email.render import render_digest
from sitewide import dates
from tests.newsletter.digest_helpers import article, ranked_articles

BAGHDAD = ZoneInfo("Asia/Baghdad")


def test_default_style_is_by_language(settings) -> None:
    settings.NUMERALS = ""
    settings.ARABIC_MONTHS = "egyptian"
    assert dates.format_date(date(2026, 11, 30), language="ar") == "الاثنين ٣٠ نوفمبر ٢٠٢٦"
    assert dates.format_date(date(2026, 11, 30), language="en") == "Monday 30 November 2026"
    assert dates.digits(10, language="en") == "10"


def test_latin_numerals_and_levantine_months(settings) -> None:
    settings.NUMERALS = "latin"
    settings.ARABIC_MONTHS = "levantine"
    assert dates.format_date(date(2026, 11, 30), language="ar") == "الاثنين 30 تشرين الثاني 2026"
    assert dates.format_date(date(2026, 9, 1), language="ar", with_weekday=False) == "1 أيلول 2026"
    assert dates.format_date(date(2026, 1, 5), language="ar", with_weekday=False) == "5 كانون الثاني 2026"


def test_arabic_numerals_are_never_put_into_english_text(settings) -> None:
    settings.NUMERALS = "arabic"
    assert dates.format_date(date(2026, 11, 30), language="en", with_weekday=False) == "30 November 2026"
    assert dates.digits(7, language="ar") == "٧"


def test_decimals_and_percentages_take_the_arabic_separator_and_sign_with_arabic_digits(settings) -> None:
    settings.NUMERALS = ""
    assert dates.decimal(35.8, language="ar") == "٣٥٫٨"
    assert dates.percent(35, language="ar") == "٣٥٪"
    assert (dates.grouped(12500, language="ar"), dates.grouped(12500, language="en")) == ("١٢٬٥٠٠", "12,500")
    assert (dates.decimal(35.8, language="en"), dates.percent(35, language="en")) == ("35.8", "35%")
    settings.NUMERALS = "latin"
    assert (dates.decimal(35.8, language="ar"), dates.percent(35, language="ar")) == ("35.8", "35%")


def test_datetime_is_shown_in_the_site_time_zone(settings) -> None:
    settings.NUMERALS = "latin"
    moment = datetime(2026, 11, 30, 4, 0, tzinfo=ZoneInfo("UTC"))  # 07:00 in Baghdad
    with translation.override("ar"):
        assert dates.format_datetime(moment) == "30 نوفمبر 2026، 07:00"


def test_hijri_date_is_labelled_approximate(settings) -> None:
    settings.NUMERALS = ""
    assert dates.hijri_date(date(2026, 11, 30), language="ar") == "٢٠ جمادى الآخرة ١٤٤٨ هـ (تقريبًا)"
    english = dates.hijri_date(date(2026, 11, 30), language="en")
    assert english.startswith("20 Jumada al-Akhirah 1448") and "approx" in english


def test_bad_style_setting_refuses_to_start(monkeypatch) -> None:
    monkeypatch.setenv("NUMERALS", "roman")
    with pytest.raises(ImproperlyConfigured, match="NUMERALS"):
        env_choice("NUMERALS", "", ("", "arabic", "latin"))
    monkeypatch.setenv("NUMERALS", " Latin ")
    assert env_choice("NUMERALS", "", ("", "arabic", "latin")) == "latin"


def _published_day(html: str) -> str:
    return re.search(r'<time dir="auto" datetime="[^"]*">([^<]*)</time>', html).group(1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("numerals", "months", "expected"),
    [("", "egyptian", "٣٠ نوفمبر ٢٠٢٦"), ("latin", "levantine", "30 تشرين الثاني 2026")],
)
def test_email_site_and_admin_show_the_same_date(settings, numerals, months, expected) -> None:
    settings.NUMERALS = numerals
    settings.ARABIC_MONTHS = months
    settings.DIGEST_HIJRI_DATE = False
    at = datetime(2026, 11, 30, 10, 0, tzinfo=BAGHDAD)
    story = article("خبر اليوم عن الأحداث", readers=500, at=at)
    ranked_articles(4, at=at)
    # The edition of that day, composed then (not from the real clock's last 24 hours: issue 21).
    digest = compose.compose(frequency="daily", now=at)
    assert digest.edition_date == date(2026, 11, 30) and digest.items.count() == 5

    email = render_digest(digest, Segment(language="ar"))
    dateline = re.search(r'<p class="muted"[^>]*>([^<]*)</p>', email.html).group(1)
    assert dateline == f"الاثنين {expected}"
    assert expected in email.text

    site = Client().get(story.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert _published_day(site).startswith(expected)
    section_page = Client().get(story.section.get_absolute_url()).content.decode()
    assert expected in section_page

    user = get_user_model().objects.create_user("ed", "ed@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    editor = Client()
    editor.force_login(user)
    changelist = editor.get(reverse("admin:newsletter_digest_changelist")).content.decode()
    assert f'<td class="field-edition_day">{expected}</td>' in changelist


@pytest.mark.django_db
def test_hijri_date_beside_the_gregorian_one_only_when_asked(settings) -> None:
    settings.NUMERALS = ""
    at = datetime(2026, 11, 30, 10, 0, tzinfo=BAGHDAD)
    ranked_articles(4, at=at)
    digest = compose.compose(frequency="daily", now=at)
    assert digest.edition_date == date(2026, 11, 30)
    settings.DIGEST_HIJRI_DATE = False
    assert "هـ" not in render_digest(digest, Segment(language="ar")).html
    settings.DIGEST_HIJRI_DATE = True
    rendered = render_digest(digest, Segment(language="ar"))
    # Joined as Arabic joins two calendars' dates, never with a dot beside a digit (issue 22).
    assert "الاثنين ٣٠ نوفمبر ٢٠٢٦ الموافق ٢٠ جمادى الآخرة ١٤٤٨ هـ (تقريبًا)" in rendered.html
    assert "(تقريبًا)" in rendered.text
