"""Model values on the admin pages (both apps') in the one numeral and date style (sitewide.dates:
NUMERALS, ARABIC_MONTHS), where Django's own display would show "ديسمبر 1, 2026, 7 ص" and Latin
digits beside our "يومية ١ ديسمبر ٢٠٢٦".

`@shown(Model, "sent_at", "audience_count")` on a ModelAdmin adds `shown_sent_at` and
`shown_audience_count`: display methods labelled and sorted like their fields, for
`readonly_fields`, fieldsets and `list_display`. The field's type picks the style: a
DateTimeField as "29 نوفمبر 2026، 07:00" in the site's time zone, an integer in the configured
digits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import admin
from django.db import models

from .dates import digits, format_datetime

EMPTY = "-"
PREFIX = "shown_"

AdminClass = TypeVar("AdminClass", bound=type)


def _style(field: models.Field[Any, Any]) -> Callable[[Any], str]:
    if isinstance(field, models.DateTimeField):
        return format_datetime
    if isinstance(field, models.IntegerField):  # the positive and small integer fields too
        return digits
    raise TypeError(f"no admin display style for {type(field).__name__} ({field.name})")


def _display(model: type[models.Model], name: str) -> Callable[[Any, models.Model], str]:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    show = _style(field)

    @admin.display(description=field.verbose_name, ordering=name)
    def display(admin_self: Any, obj: models.Model) -> str:
        value = getattr(obj, name)
        return EMPTY if value is None else show(value)

    display.__name__ = PREFIX + name
    return display


def shown(model: type[models.Model], *names: str) -> Callable[[AdminClass], AdminClass]:
    """Class decorator: a `shown_<name>` display method on the ModelAdmin for each field name."""

    def decorate(cls: AdminClass) -> AdminClass:
        for name in names:
            setattr(cls, PREFIX + name, _display(model, name))
        return cls

    return decorate
