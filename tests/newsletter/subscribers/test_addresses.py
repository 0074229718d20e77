"""Address normalisation, confusables and the suppression list."""

from __future__ import annotations

import pytest

from newsletter.subscribers.addresses import InvalidEmail, email_hash, is_suppressed, normalise_email, suppress


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Reader@Example.COM ", "Reader@example.com"),
        ("user@bücher.de", "user@xn--bcher-kva.de"),
        ("user@مثال.com", "user@xn--mgbh0fb.com"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "victim@example.com\r\nBcc: x@example.com",
        "victim@example.com\nBcc: x@example.com",
        "a" * 250 + "@example.com",
        "user@exаmple.com",  # Cyrillic а mixed with Latin letters
        "раураl@example.com",  # non-ASCII local part
        "two@@example.com",
        "no-domain@",
        "",
    ],
)
def test_invalid(raw: str) -> None:
    with pytest.raises(InvalidEmail):
        normalise_email(raw)


def test_hash_is_case_insensitive_and_keyed(settings) -> None:
    first = email_hash("Reader@example.com")
    assert first == email_hash("reader@example.com")
    assert "reader" not in first
    settings.HASH_KEY = "another key"
    assert email_hash("reader@example.com") != first


@pytest.mark.django_db
def test_suppress_twice_is_harmless() -> None:
    suppress("x@example.com", reason="erased")
    suppress("X@example.com", reason="bounced")
    assert is_suppressed("x@example.com")
    assert not is_suppressed("y@example.com")
