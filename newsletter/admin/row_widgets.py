"""The edition page's story-row inputs (hidden, number, checkbox) and empty error lists,
rendered in Python.

Django renders each widget through the template engine (input.html including attrs.html): on
the edition page that is six inputs per story row and most of the page's rendering time. These
subclasses build the same tag with format_html from the same widget context (so the value
formatting, `checked` and every attribute follow Django's own get_context); the output is
byte-for-byte Django's, which tests/newsletter/test_row_widgets.py checks against the template
rendering for each widget and each kind of value. Likewise an error list with no errors is the
empty string without a template (the admin's row template asks every field for its errors).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin import widgets as admin_widgets
from django.forms.utils import ErrorList
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe


def _attrs(attrs: dict[str, Any]) -> str:
    # attrs.html: False drops the attribute, True writes it bare, anything else str() and escaped.
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{conditional_escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


class PythonRenderedInput:
    """Mixin for forms.Input subclasses whose template is Django's plain input tag."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]  # type: ignore[attr-defined]
        value_part = "" if widget["value"] is None else format_html(' value="{}"', str(widget["value"]))
        tag = format_html('<input type="{}" name="{}"{}', widget["type"], widget["name"], value_part)
        return mark_safe(f"{tag}{_attrs(widget['attrs'])}>")


class HiddenInput(PythonRenderedInput, forms.HiddenInput):
    pass


class FixedValueInput(PythonRenderedInput, forms.HiddenInput):
    """A hidden input that keeps its table cell: the admin's tabular rows move hidden widgets
    out of the columns, which shifted every column after it under the wrong header."""

    is_hidden = False


class NumberInput(PythonRenderedInput, forms.NumberInput):
    pass


class CheckboxInput(PythonRenderedInput, forms.CheckboxInput):
    pass


FAST = {
    forms.HiddenInput: HiddenInput,
    forms.NumberInput: NumberInput,
    admin_widgets.AdminIntegerFieldWidget: NumberInput,  # its "vIntegerField" class is in attrs
    forms.CheckboxInput: CheckboxInput,
}


def speed_up(form: forms.BaseForm) -> None:
    """Swap the form's plain hidden/number/checkbox widgets for the Python-rendered ones
    (keeping their attributes); other widgets are left as they are."""
    for field in form.fields.values():
        fast = FAST.get(type(field.widget))
        if fast is not None:
            widget = fast(attrs=field.widget.attrs)
            widget.is_required = field.widget.is_required
            widget.is_localized = field.widget.is_localized
            if isinstance(field.widget, forms.CheckboxInput):
                widget.check_test = field.widget.check_test  # type: ignore[attr-defined]
            field.widget = widget


class RowErrors(ErrorList):
    """An error list whose empty rendering skips the template (which renders nothing then)."""

    def render(self, template_name: str | None = None, context: Any = None, renderer: Any = None) -> SafeString:
        return super().render(template_name, context, renderer) if self.data else SafeString()

    __str__ = render  # the base class binds these to its own render
    __html__ = render
