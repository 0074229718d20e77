"""Configuration read from the environment: deploy checks, secret key, ANYMAIL_*, outbox, and the
refusals of development defaults (mail backend, sender, postal address, media) with DEBUG off."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]


def run_manage(*args: str, env: dict[str, str], timeout: int = 60) -> subprocess.CompletedProcess[str]:
    prefixes = ("ANYMAIL_", "EMAIL_", "DJANGO_", "AWS_", "MEDIA_")
    base = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    for name in ("SECRET_KEY", "DEBUG", "DEFAULT_FROM_EMAIL", "SENDER_POSTAL_ADDRESS"):
        base.pop(name, None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# What the README's configuration section tells a production deployment to set.
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c",
    "SECRET_KEY_FALLBACKS": "the-previous-production-secret-key-also-long-and-random-0a1b2c3d4e5f6a7b8c9d",
    "HASH_KEY": "a-separate-long-random-hash-key-kept-across-rotations-5e4d3c2b1a0f9e8d7c6b",
    "ALLOWED_HOSTS": "news.example.com",
    "SITE_URL": "https://news.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://news.example.com",
    "TRUSTED_PROXIES": "10.0.0.0/8,127.0.0.1",
    "ANYMAIL_WEBHOOK_SECRET": "tracker:a-long-random-webhook-password",
    "EMAIL_BACKEND": "anymail.backends.mailgun.EmailBackend",
    "ANYMAIL_MAILGUN_API_KEY": "key-a-production-mailgun-api-key",
    "DEFAULT_FROM_EMAIL": "النشرة الإخبارية <newsletter@news.alwatan-news.iq>",
    "SENDER_POSTAL_ADDRESS": "جريدة الوطن، شارع السعدون، بناية ١٢، بغداد ١٠٠١١، العراق",
    "AWS_STORAGE_BUCKET_NAME": "alwatan-news-media",
    "AWS_S3_REGION_NAME": "eu-central-1",
    "AWS_S3_CUSTOM_DOMAIN": "media.news.example.com",
    "FEED_URLS": "https://cms.example.com/feed/",
}


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_an_insecure_setting() -> None:
    # The same check fails when a protection is switched off: the test above can fail.
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", env={**PRODUCTION_ENV, "SESSION_COOKIE_SECURE": "0"}
    )
    assert result.returncode != 0
    assert "SESSION_COOKIE_SECURE" in result.stdout + result.stderr


def test_debug_off_without_secret_key_refuses_to_start() -> None:
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "SECRET_KEY"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("ANYMAIL_WEBHOOK_SECRET", "ANYMAIL_WEBHOOK_SECRET is not set"),
        ("HASH_KEY", "HASH_KEY is not set"),
    ],
)
def test_debug_off_without_a_required_secret_refuses_to_start(missing: str, message: str) -> None:
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != missing}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert message in result.stderr and "refuses to start" in result.stderr
    # A webhook secret without a password is as good as none.
    if missing == "ANYMAIL_WEBHOOK_SECRET":
        result = run_manage("check", env={**env, "ANYMAIL_WEBHOOK_SECRET": "tracker"})
        assert result.returncode != 0 and message in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        # Every email written to .eml files on the web machine: nobody receives anything.
        ("EMAIL_BACKEND", None, "EMAIL_BACKEND is not set"),
        ("EMAIL_BACKEND", "newsletter.backends.outbox.OutboxEmailBackend", "which delivers nothing"),
        ("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend", "which delivers nothing"),
        # Mail from a documentation domain fails SPF/DKIM/DMARC at every mailbox provider.
        ("DEFAULT_FROM_EMAIL", None, "DEFAULT_FROM_EMAIL is not set"),
        ("DEFAULT_FROM_EMAIL", "النشرة الإخبارية <newsletter@example.com>", "DEFAULT_FROM_EMAIL is 'النشرة"),
        ("DEFAULT_FROM_EMAIL", "news@mail.EXAMPLE.org", "DEFAULT_FROM_EMAIL is 'news@mail.EXAMPLE.org'"),
        ("DEFAULT_FROM_EMAIL", "Newsroom <news@example.net>", "DEFAULT_FROM_EMAIL is"),
        ("DEFAULT_FROM_EMAIL", "not an address", "DEFAULT_FROM_EMAIL is 'not an address'"),
        # The administrators' error reports: an explicit SERVER_EMAIL is checked like the sender.
        ("SERVER_EMAIL", "Errors <errors@example.org>", "SERVER_EMAIL is 'Errors <errors@example.org>'"),
        # The demo's Baghdad address in every footer, where the law wants the sender's own.
        ("SENDER_POSTAL_ADDRESS", None, "SENDER_POSTAL_ADDRESS is not set"),
        ("SENDER_POSTAL_ADDRESS", "  ", "SENDER_POSTAL_ADDRESS is not set"),
        ("SENDER_POSTAL_ADDRESS", "شارع أبي نواس،  بغداد، العراق", "SENDER_POSTAL_ADDRESS is the demo's address"),
    ],
)
def test_debug_off_with_a_development_mail_default_refuses_to_start(name: str, value: str | None, message: str) -> None:
    env = {key: val for key, val in PRODUCTION_ENV.items() if key != name}
    if value is not None:
        env[name] = value
    result = run_manage("check", env=env)
    assert result.returncode != 0, result.stdout
    assert message in result.stderr and "refuses to start" in result.stderr, result.stderr[-2000:]
    assert f"set {name} to" in result.stderr  # it says what to set


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("EMAIL_BACKEND", "newsletter.backends.mailgun.EmailBackend"),
        ("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"),
        ("DEFAULT_FROM_EMAIL", "news@bench.invalid"),  # only example.* is refused
        ("DEFAULT_FROM_EMAIL", "news@example.com.iq"),
    ],
)
def test_debug_off_starts_with_a_real_mail_configuration(name: str, value: str) -> None:
    result = run_manage("check", env={**PRODUCTION_ENV, name: value})
    assert result.returncode == 0, result.stderr


MEDIA_URL_CODE = "from django.core.files.storage import storages; s = storages['default']; print(type(s).__name__, s.url('articles/email/a.jpg'))"


@pytest.mark.parametrize("media_url", [None, "/media/", "media.news.example.com/"])
def test_debug_off_without_a_bucket_or_an_absolute_media_url_refuses_to_start(media_url: str | None) -> None:
    # Images on this machine's disk at /media/, served only with DEBUG on: every email's images broken.
    env = {key: value for key, value in PRODUCTION_ENV.items() if not key.startswith("AWS_")}
    if media_url is not None:
        env["MEDIA_URL"] = media_url
    result = run_manage("check", env=env)
    assert result.returncode != 0, result.stdout
    assert "AWS_STORAGE_BUCKET_NAME is not set" in result.stderr and "refuses to start" in result.stderr
    assert "set AWS_STORAGE_BUCKET_NAME" in result.stderr and "MEDIA_URL to its absolute URL" in result.stderr


def test_debug_off_serves_media_from_the_proxy_at_an_absolute_media_url() -> None:
    # The documented alternative to a bucket: a shared MEDIA_ROOT that nginx serves.
    env = {key: value for key, value in PRODUCTION_ENV.items() if not key.startswith("AWS_")}
    env["MEDIA_URL"] = "https://news.example.com/media/"
    assert run_manage("check", "--deploy", "--fail-level", "WARNING", env=env).returncode == 0
    result = run_manage("shell", "--no-imports", "-c", MEDIA_URL_CODE, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["FileSystemStorage", "https://news.example.com/media/articles/email/a.jpg"]


def test_debug_off_with_a_bucket_stores_media_in_it_behind_unsigned_urls() -> None:
    result = run_manage("shell", "--no-imports", "-c", MEDIA_URL_CODE, env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    # No signature, no expiry: the link in an email sent today still loads next year.
    assert result.stdout.split() == ["S3Storage", "https://media.news.example.com/articles/email/a.jpg"]


def test_debug_on_still_starts_without_them() -> None:
    result = run_manage("check", env={"DEBUG": "1"})
    assert result.returncode == 0, result.stderr


ROTATION_CODE = """
import sys, uuid
from newsletter.subscribers.tokens import Purpose, TokenError, make_token, read_token
from django.core import signing
if sys.argv[-1] == "make":
    print(make_token(uuid.UUID(int=7), Purpose.UNSUBSCRIBE), signing.dumps({"n": 1}, salt="t"))
else:
    token, signed = sys.stdin.read().split()
    try:
        print(read_token(token, Purpose.UNSUBSCRIBE) == uuid.UUID(int=7), signing.loads(signed, salt="t") == {"n": 1})
    except (TokenError, signing.BadSignature):
        print("refused")
"""


def test_rotated_secret_key_keeps_links_already_sent_valid() -> None:
    old_key, new_key = "old-secret-key-" + "a" * 50, "new-secret-key-" + "b" * 50

    def shell(mode: str, env: dict[str, str], stdin: str = "") -> str:
        result = subprocess.run(
            [sys.executable, "-c", f"import django, os; django.setup(); exec({ROTATION_CODE!r})", mode],
            cwd=BASE_DIR,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1", **env},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    sent = shell("make", {"SECRET_KEY": old_key})  # an unsubscribe link in an email already sent
    assert shell("read", {"SECRET_KEY": new_key, "SECRET_KEY_FALLBACKS": old_key}, sent) == "True True"
    assert shell("read", {"SECRET_KEY": new_key}, sent) == "refused"  # the fallback is what does it
    # New links are signed with the new key only.
    fresh = shell("make", {"SECRET_KEY": new_key, "SECRET_KEY_FALLBACKS": old_key})
    assert shell("read", {"SECRET_KEY": old_key}, fresh) == "refused"


def test_anymail_variables_reach_the_anymail_setting() -> None:
    env = {
        "EMAIL_BACKEND": "anymail.backends.mailgun.EmailBackend",
        "ANYMAIL_MAILGUN_API_KEY": "key-123",
        "ANYMAIL_MAILGUN_API_URL": "http://127.0.0.1:9/v3",
    }
    code = "from django.conf import settings; print(settings.EMAIL_BACKEND); print(settings.ANYMAIL['MAILGUN_API_KEY'], settings.ANYMAIL['MAILGUN_API_URL'])"
    result = run_manage("shell", "--no-imports", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["anymail.backends.mailgun.EmailBackend", "key-123", "http://127.0.0.1:9/v3"]


def test_email_lands_as_eml_in_the_outbox_when_no_backend_is_set(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    result = run_manage("sendtestemail", "someone@example.com", env={"EMAIL_OUTBOX_DIR": str(outbox)})
    assert result.returncode == 0, result.stderr
    files = list(outbox.glob("*.eml"))
    assert len(files) == 1
    raw = files[0].read_bytes()
    assert b"To: someone@example.com" in raw
    assert b"Subject: Test email from" in raw


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("0", False), ("", True)])
def test_env_bool(value: str, expected: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from config.settings import env_bool

    monkeypatch.setenv("SOME_FLAG", value)
    assert env_bool("SOME_FLAG", True) is expected


def test_the_suite_runs_under_the_test_settings() -> None:
    # `make test` goes through config.devrun, whose import of the Celery app sets
    # DJANGO_SETTINGS_MODULE=config.settings; the suite must still run on config.test_settings
    # (eager Celery, its own Redis database that it may flush).
    from django.conf import settings

    assert os.environ["DJANGO_SETTINGS_MODULE"] == "config.test_settings"
    assert settings.CELERY_TASK_ALWAYS_EAGER is True
    assert settings.REDIS_URL.rsplit("/", 1)[-1] == os.environ.get("TEST_REDIS_DB", "15")
