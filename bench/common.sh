# Sourced by the gunicorn + wrk load scripts (click_run.sh, load_run.sh, pages_run.sh): the
# production-like environment they share, and one rule for gunicorn's connection cap.

# DEBUG off as in production; config.settings then refuses to start without these, so the
# benchmarks set throw-away values (never use them for a real site): the keys, the webhook
# secret, an ESP (Mailgun, at the local emulator's default address: `python bench/esp_emulator.py`),
# a sender on a .invalid domain (only example.* is refused), a postal address, and an absolute
# MEDIA_URL for article images (config.settings refuses /media/ on the app's own disk).
export DEBUG=0
export SECRET_KEY=${SECRET_KEY:-bench-secret-key-not-for-production-0123456789abcdef}
export HASH_KEY=${HASH_KEY:-bench-hash-key-not-for-production-0123456789abcdef}
export ANYMAIL_WEBHOOK_SECRET=${ANYMAIL_WEBHOOK_SECRET:-bench:not-for-production}
export EMAIL_BACKEND=${EMAIL_BACKEND:-anymail.backends.mailgun.EmailBackend}
export ANYMAIL_MAILGUN_API_URL=${ANYMAIL_MAILGUN_API_URL:-http://127.0.0.1:8401/v3}
export ANYMAIL_MAILGUN_API_KEY=${ANYMAIL_MAILGUN_API_KEY:-bench}
export DEFAULT_FROM_EMAIL=${DEFAULT_FROM_EMAIL:-bench <bench@bench.invalid>}
export SENDER_POSTAL_ADDRESS=${SENDER_POSTAL_ADDRESS:-Bench, 1 Load Street, Nowhere}
export MEDIA_URL=${MEDIA_URL:-http://127.0.0.1/media/}

# gunicorn --worker-connections: with wrk's few long-lived keep-alive connections one gthread
# process may otherwise accept them all and leave the others idle (bench/README.md, click
# redirect). Default: CONNECTIONS divided by WORKERS, rounded up; WORKER_CONNECTIONS overrides.
worker_connections() {
  local workers=${WORKERS:-2}
  echo "${WORKER_CONNECTIONS:-$(( (CONNECTIONS + workers - 1) / workers ))}"
}
