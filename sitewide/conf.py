"""Product settings, grouped by the room that reads them, and the one way a room reads them.

Each room declares its settings once, in its `conf.py`: a frozen dataclass whose fields are the
settings' names, with typed defaults and a docstring saying what they do. config/settings.py
fills every group from the environment (`from_environment`: the variable named like the field,
parsed by the field's type), so Django's settings hold them under the same names and the README's
configuration table lists them. A room reads its group through `room_settings(Group)`, which
takes each field from django.conf.settings (where tests override them) and falls back to the
default; the result is cached until a setting changes (Django's `setting_changed` signal).

This module also holds the identity every room shows (the sender's name and postal address, the
privacy policy) and how numbers and dates are written: `SiteSettings`.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

T = TypeVar("T")

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


def parse(name: str, raw: str, kind: Any, choices: tuple[str, ...] | None = None) -> Any:
    """One environment value as the field's type: bool (1/true/yes/on), int, float, str, or a
    tuple of str (comma-separated). A value that does not parse refuses to start, naming it."""
    raw = raw.strip()
    try:
        if kind is bool:
            return raw.lower() in TRUE_WORDS
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name}: {raw!r} is not a number") from error
    if typing.get_origin(kind) is tuple:
        return tuple(item.strip() for item in raw.split(",") if item.strip())
    if choices is not None and raw.lower() not in choices:
        raise ImproperlyConfigured(f"{name}: {raw!r} is not one of {', '.join(repr(c) for c in choices)}")
    return raw.lower() if choices is not None else raw


def from_environment(group: type, environ: Mapping[str, str]) -> dict[str, Any]:
    """The group's settings by name: the environment's value where it sets one (an empty value
    counts as unset), else the default."""
    hints = typing.get_type_hints(group)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(group):
        raw = environ.get(field.name, "")
        if raw.strip():
            values[field.name] = parse(field.name, raw, hints[field.name], field.metadata.get("choices"))
        else:
            values[field.name] = field.default
    return values


def choice(default: str, *choices: str) -> Any:
    """A str field limited to `choices` (the environment's value is lower-cased and checked)."""
    return dataclasses.field(default=default, metadata={"choices": choices})


@functools.cache
def room_settings(group: type[T]) -> T:
    """The group's settings as Django holds them now (cached until a setting changes)."""
    from django.conf import settings

    return group(**{f.name: getattr(settings, f.name, f.default) for f in dataclasses.fields(group)})  # type: ignore[arg-type]


def _forget(**_: Any) -> None:
    room_settings.cache_clear()


setting_changed.connect(_forget, dispatch_uid="sitewide.conf.forget")

# The demo's postal address: with DEBUG off, a deployment that kept it refuses to start.
DEMO_POSTAL_ADDRESS = "شارع أبي نواس، بغداد، العراق"


@dataclasses.dataclass(frozen=True)
class SiteSettings:
    """The newsroom's identity in every email and page, and how numbers and dates are written.

    SENDER_NAME: the sender's name in email footers and page titles. SENDER_POSTAL_ADDRESS: in
    every digest footer (anti-spam laws require one). PRIVACY_POLICY_URL: linked beside every
    form and in every email footer (a path or an http(s) URL; empty: no link). NUMERALS: digits
    of Arabic text, "arabic" (٣٠) or "latin" (30); empty: Arabic-Indic in Arabic, Western in
    English. ARABIC_MONTHS: "egyptian" (يناير) or "levantine" (كانون الثاني). DIGEST_HIJRI_DATE:
    the email's dateline adds the Umm al-Qura date, labelled approximate."""

    SENDER_NAME: str = "النشرة الإخبارية"
    SENDER_POSTAL_ADDRESS: str = DEMO_POSTAL_ADDRESS
    PRIVACY_POLICY_URL: str = ""
    NUMERALS: str = choice("", "", "arabic", "latin")
    ARABIC_MONTHS: str = choice("egyptian", "egyptian", "levantine")
    DIGEST_HIJRI_DATE: bool = False


def site() -> SiteSettings:
    return room_settings(SiteSettings)
