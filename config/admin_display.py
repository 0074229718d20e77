"""Model values on the admin pages (both apps') in the one numeral and date style (config.dates: NUMERALS,
ARABIC_MONTHS), where Django's own display would show "ديسمبر 1, 2026, 7 ص" and Latin digits
beside our "يومية ١ ديسمبر ٢٠٢٦". Each helper makes a ModelAdmin display method for one model
field, labelled and sorted like the field, for `readonly_fields`, fieldsets and `list_display`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db import models

from config.dates import digits, format_datetime

EMPTY = "-"

Display = Callable[[Any, models.Model], str]


def _display(model: type[models.Model], name: str, show: Callable[[Any], str]) -> Display:
    field = model._meta.get_field(name)

    @admin.display(description=getattr(field, "verbose_name", name), ordering=name)
    def display(admin_self: Any, obj: models.Model) -> str:
        value = getattr(obj, name)
        return EMPTY if value is None else show(value)

    display.__name__ = f"shown_{name}"
    return display


def moment(model: type[models.Model], name: str) -> Display:
    """A DateTimeField as "29 نوفمبر 2026، 07:00" in the site's time zone."""
    return _display(model, name, lambda value: format_datetime(value))


def number(model: type[models.Model], name: str) -> Display:
    """An integer field in the configured digits."""
    return _display(model, name, lambda value: digits(value))
