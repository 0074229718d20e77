# Sourced by the gunicorn + wrk load scripts (click_run.sh, load_run.sh, pages_run.sh): the
# production-like environment they share, and one rule for gunicorn's connection cap.

# DEBUG off as in production; config.settings then refuses to start without these three, so the
# benchmarks set throw-away values (never use them for a real site).
export DEBUG=0
export SECRET_KEY=${SECRET_KEY:-bench-secret-key-not-for-production-0123456789abcdef}
export HASH_KEY=${HASH_KEY:-bench-hash-key-not-for-production-0123456789abcdef}
export ANYMAIL_WEBHOOK_SECRET=${ANYMAIL_WEBHOOK_SECRET:-bench:not-for-production}

# gunicorn --worker-connections: with wrk's few long-lived keep-alive connections one gthread
# process may otherwise accept them all and leave the others idle (bench/README.md, click
# redirect). Default: CONNECTIONS divided by WORKERS, rounded up; WORKER_CONNECTIONS overrides.
worker_connections() {
  local workers=${WORKERS:-2}
  echo "${WORKER_CONNECTIONS:-$(( (CONNECTIONS + workers - 1) / workers ))}"
}
