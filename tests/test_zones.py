"""sitewide.zones: time zones named as readers name them, in their language."""

from __future__ import annotations

from django.utils import translation

from sitewide import zones


def test_a_zone_is_its_city_and_country_in_the_readers_language() -> None:
    assert zones.place("Africa/Casablanca", language="ar") == "الدار البيضاء"
    assert zones.place("Africa/Casablanca", language="en") == "Casablanca"
    assert zones.label("America/New_York", language="ar") == "الولايات المتحدة — نيويورك"
    assert zones.label("Asia/Riyadh", language="en") == "Saudi Arabia — Riyadh"
    assert zones.label("Asia/Singapore", language="en") == "Singapore"  # the country is the city
    assert zones.label("Etc/UTC", language="ar") == "UTC"  # no country


def test_the_active_language_is_used_when_none_is_given_and_not_cached_across_languages() -> None:
    with translation.override("en"):
        assert zones.place("Asia/Dubai") == "Dubai"
    with translation.override("ar"):
        assert zones.place("Asia/Dubai") == "دبي"


def test_aliases_fold_into_the_zone_they_name_and_unknown_names_stay_as_they_are() -> None:
    assert zones.canonical("Asia/Calcutta") == "Asia/Kolkata"
    assert zones.place("Asia/Calcutta", language="en") == zones.place("Asia/Kolkata", language="en")
    assert zones.canonical("Mars/Olympus") == "Mars/Olympus"
    assert zones.place("Mars/Olympus", language="ar") == "Mars/Olympus"


def test_the_list_offers_each_zone_once_sorted_by_its_label() -> None:
    listed = zones.choices(language="ar")
    names = [name for name, _label in listed]
    assert len(names) == len(set(names)) > 300
    assert "Asia/Kolkata" in names and "Asia/Calcutta" not in names and "Etc/GMT+3" not in names
    assert [label for _name, label in listed] == sorted(label for _name, label in listed)
    assert ("Africa/Cairo", "مصر — القاهرة") in listed
