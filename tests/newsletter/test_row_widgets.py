"""newsletter.admin.row_widgets renders exactly what Django's widget and error templates render
(byte for byte), for every widget it replaces and each kind of value and attribute."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib.admin import widgets as admin_widgets
from django.forms.utils import ErrorList

from newsletter.admin import row_widgets
from newsletter.admin.digest_items import DigestItemForm

ATTRS = [
    None,
    {"class": "digest-position", "min": 0, "style": "width:4em", "id": "id_items-0-position"},
    {"disabled": True, "required": False, "id": "i", "data-x": 'a"<b>'},
]
CASES = [
    (forms.HiddenInput, row_widgets.HiddenInput, [None, 5, "", 'a"<b>&']),
    (forms.HiddenInput, row_widgets.FixedValueInput, [None, 12]),
    (forms.NumberInput, row_widgets.NumberInput, [None, 0, 3, ""]),
    (admin_widgets.AdminIntegerFieldWidget, row_widgets.NumberInput, [None, 7]),
    (forms.CheckboxInput, row_widgets.CheckboxInput, [None, True, False, "on", ""]),
]


@pytest.mark.parametrize(("original", "fast", "values"), CASES)
def test_python_rendering_equals_the_template(original, fast, values) -> None:
    for value in values:
        for attrs in ATTRS:
            # The fast widget gets the attributes the original ends up with (speed_up copies them).
            expected = original(attrs=attrs).render("items-0-x", value)
            assert fast(attrs=original(attrs=attrs).attrs).render("items-0-x", value) == expected


def test_empty_and_filled_error_lists_equal_the_template() -> None:
    assert str(row_widgets.RowErrors()) == str(ErrorList()) == ""
    assert row_widgets.RowErrors().as_ul() == ErrorList().as_ul()
    filled = ["خطأ <1>", "خطأ 2"]
    assert row_widgets.RowErrors(filled).as_ul() == ErrorList(filled).as_ul()
    assert str(row_widgets.RowErrors(filled)) == str(ErrorList(filled))


def test_speed_up_swaps_the_row_inputs_and_keeps_their_attributes() -> None:
    form = DigestItemForm()
    form.fields["hidden"] = forms.IntegerField(widget=forms.HiddenInput, required=False)
    before = {name: str(form[name]) for name in ("position", "pinned", "removed", "hidden")}
    row_widgets.speed_up(form)
    assert isinstance(form.fields["position"].widget, row_widgets.NumberInput)
    assert isinstance(form.fields["pinned"].widget, row_widgets.CheckboxInput)
    assert isinstance(form.fields["hidden"].widget, row_widgets.HiddenInput)
    assert {name: str(form[name]) for name in before} == before
