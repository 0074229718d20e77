"""Time zones as readers see them: "الدار البيضاء" and "المغرب — الدار البيضاء" rather than the
IANA name "Africa/Casablanca", in the reader's language (the welcome email, the preference
center's zone list).

The names come from the Unicode CLDR through Babel (a well-kept library carrying every zone's
city and country in every language), not from a table of our own: ours would cover the Arab
world and leave a reader in Montreal or Jakarta with an English id. Babel also knows the old
aliases browsers still report (Chrome's "Asia/Calcutta" is "Asia/Kolkata"), which `canonical`
folds so that a zone appears once in the list."""

from __future__ import annotations

import functools
from zoneinfo import available_timezones

from babel.core import Locale, UnknownLocaleError, get_global
from babel.dates import get_timezone_location
from django.conf import settings
from django.utils import translation

# Territories that are not countries: "ZZ" (unknown), "001" (the world) for UTC and Etc/GMT+3.
_NOT_A_COUNTRY = {"ZZ", "001"}
_SEPARATOR = " — "


def canonical(name: str) -> str:
    """The zone's current IANA name ("Asia/Calcutta" -> "Asia/Kolkata"); unknown names unchanged."""
    return str(get_global("zone_aliases").get(name, name))


def _language(language: str | None) -> str:
    """A language Babel knows: the one given, else the active one, else the site's."""
    for code in (language, translation.get_language(), settings.LANGUAGE_CODE):
        try:
            return Locale.parse((code or "").split("-")[0]).language
        except (UnknownLocaleError, ValueError, TypeError):
            continue
    return "ar"


def place(name: str, *, language: str | None = None) -> str:
    """The zone's city in `language` (default: the active one): "الدار البيضاء", "Casablanca".
    An unknown name is returned as it is (it still names the zone for whoever set it)."""
    return _place(name, _language(language))


def label(name: str, *, language: str | None = None) -> str:
    """Country and city, for a list to choose from: "المغرب — الدار البيضاء"; the city alone
    where there is no country (UTC) or the country is the city (سنغافورة)."""
    return _label(name, _language(language))


def choices(*, language: str | None = None) -> list[tuple[str, str]]:
    """Every zone a reader can choose, once each (canonical names), sorted by their label in
    `language` (default: the active one)."""
    return list(_choices(_language(language)))


@functools.lru_cache(maxsize=4096)
def _place(name: str, language: str) -> str:
    zone = canonical(name)
    if zone not in get_global("zone_territories"):
        return name
    return str(get_timezone_location(zone, locale=language, return_city=True))


@functools.lru_cache(maxsize=4096)
def _label(name: str, language: str) -> str:
    zone = canonical(name)
    city = _place(zone, language)
    territory = get_global("zone_territories").get(zone)
    if territory is None or territory in _NOT_A_COUNTRY:
        return city
    country = Locale.parse(language).territories.get(territory, territory)
    return city if country == city else f"{country}{_SEPARATOR}{city}"


@functools.lru_cache(maxsize=8)
def _choices(language: str) -> tuple[tuple[str, str], ...]:
    territories = get_global("zone_territories")
    names = {canonical(name) for name in available_timezones() if "/" in name}
    # The fixed-offset Etc/ zones (Etc/GMT+3 is UTC-3, backwards) only confuse a list of
    # places; UTC stays for readers who want it.
    zones = sorted(
        (zone for zone in names if zone in territories and (not zone.startswith("Etc/") or zone == "Etc/UTC")),
        key=lambda zone: _label(zone, language),
    )
    return tuple((zone, _label(zone, language)) for zone in zones)
