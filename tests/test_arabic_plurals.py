"""Our own Arabic plurals read correctly for every count: the source strings are Arabic with only
two forms, and the Arabic catalog (locale/ar) gives them Arabic's six (zero, one, two, 3-10,
11-99, 100 and up). Before it, "2 أيام", "11 أيام" and "5 مقالًا" were what readers and editors saw."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.translation import ngettext

CONFIRMATION = (
    "{% load i18n %}{% blocktranslate count days=n %}ينتهي هذا الرابط بعد يوم واحد.{% plural %}"
    "ينتهي هذا الرابط بعد {{ days }} أيام.{% endblocktranslate %}"
)


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, "ينتهي هذا الرابط بعد يوم واحد."),
        (2, "ينتهي هذا الرابط بعد يومين."),
        (7, "ينتهي هذا الرابط بعد 7 أيام."),
        (11, "ينتهي هذا الرابط بعد 11 يومًا."),
        (100, "ينتهي هذا الرابط بعد 100 يوم."),
    ],
)
def test_the_confirmation_link_lifetime_in_arabic(n: int, expected: str) -> None:
    with translation.override("ar"):
        assert Template(CONFIRMATION).render(Context({"n": n})) == expected


@pytest.mark.parametrize(
    ("count", "expected"),
    [(1, "نُشر مقال واحد."), (2, "نُشر مقالان."), (5, "نُشرت 5 مقالات."), (30, "نُشر 30 مقالًا.")],
)
def test_the_publish_action_message_in_arabic(count: int, expected: str) -> None:
    with translation.override("ar"):
        assert ngettext("نُشر %(count)d مقال.", "نُشر %(count)d مقالًا.", count) % {"count": count} == expected


def test_english_keeps_its_two_forms() -> None:
    with translation.override("en"):
        assert ngettext("نُشر %(count)d مقال.", "نُشر %(count)d مقالًا.", 2) % {"count": 2} == "2 articles published."
        assert Template(CONFIRMATION).render(Context({"n": 1})) == "This link expires in one day."
