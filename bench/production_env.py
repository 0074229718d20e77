"""The throw-away production environment of the in-process benchmarks (DEBUG off), the same
values bench/common.sh exports for the gunicorn ones. config.settings refuses to start with DEBUG
off without the keys, the webhook secret, an ESP, a sender outside example.*, a postal address
and somewhere readers can load article images from; these satisfy it (never use them for a real
site). A script applies them under its own environment: `os.environ.update({**THROWAWAY,
**os.environ})`, so a value already set wins."""

from __future__ import annotations

THROWAWAY = {
    "DEBUG": "0",
    "SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
    "HASH_KEY": "bench-hash-key-not-for-production-0123456789abcdef",
    "ANYMAIL_WEBHOOK_SECRET": "bench:not-for-production",
    # Mailgun at the local emulator's default address (`python bench/esp_emulator.py`).
    "EMAIL_BACKEND": "anymail.backends.mailgun.EmailBackend",
    "ANYMAIL_MAILGUN_API_URL": "http://127.0.0.1:8401/v3",
    "ANYMAIL_MAILGUN_API_KEY": "bench",
    "DEFAULT_FROM_EMAIL": "bench <bench@bench.invalid>",  # .invalid is fine: only example.* is refused
    "SENDER_POSTAL_ADDRESS": "Bench, 1 Load Street, Nowhere",
    "MEDIA_URL": "http://127.0.0.1/media/",
}
