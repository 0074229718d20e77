"""Reading the environment: the typed readers config/settings.py uses for each variable, the
paths and DEBUG every other settings module needs first, and how a variable that production
cannot do without refuses to start (naming the variable and what to set)."""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    return float(value) if value.strip() else default


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}: {value!r} is not one of {', '.join(repr(c) for c in choices)}")
    return value


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_networks(name: str) -> list[str]:
    """Comma-separated IP addresses / CIDR networks; a typo refuses to start rather than
    silently trusting nothing (or, worse, the wrong network)."""
    values = env_list(name)
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError as error:
            raise ImproperlyConfigured(f"{name}: {value!r} is not an IP address or CIDR network") from error
    return values


DEBUG = env_bool("DEBUG", True)


def secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off the application refuses to start without one: "
            "set SECRET_KEY in the environment to a long random string "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    # Development: generate a key once and keep it, so sessions and signed links survive restarts.
    key_file = VAR_DIR / "dev-secret-key"
    if not key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


def required_in_production(name: str, *, why: str) -> str:
    """A variable the process refuses to start without when DEBUG is off (like SECRET_KEY)."""
    value = os.environ.get(name, "")
    if not value and not DEBUG:
        raise ImproperlyConfigured(
            f"{name} is not set. With DEBUG off the application refuses to start without it: {why}"
        )
    return value


def refuse_in_production(name: str, *, problem: str, fix: str) -> ImproperlyConfigured:
    """The refusal of a value that would let production fail silently (mail nobody receives,
    images nobody can load): said the way SECRET_KEY's is, naming the variable and the fix."""
    return ImproperlyConfigured(
        f"{name} {problem}. With DEBUG off the application refuses to start with this setting: {fix}"
    )
