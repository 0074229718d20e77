#!/usr/bin/env bash
# Beacon and article-page throughput under gunicorn, beside a bare WSGI hello-world.
# Usage (from the repo root): bench/pages_run.sh
# Environment: DATABASE_URL (PostgreSQL), REDIS_URL, PORT (default 8101), DURATION (default 12s),
# CONNECTIONS (wrk connections, default 32).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
export ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0 SITE_URL=http://127.0.0.1:${PORT:-8101}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/h_articles}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/11}
export VAR_DIR=${VAR_DIR:-/tmp/articles-bench-var} LOG_LEVEL=WARNING
PORT=${PORT:-8101}; DURATION=${DURATION:-12s}; CONNECTIONS=${CONNECTIONS:-32}
GUNICORN_ARGS=(-w "${WORKERS:-2}" -k gthread --threads "${THREADS:-4}" --keep-alive 5 -b 127.0.0.1:$PORT --log-level warning
  --worker-connections "$(worker_connections)")
WRK_ARGS=(-t 2 -c "$CONNECTIONS" -d "$DURATION" --latency -H "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
PY=.venv/bin/python

$PY manage.py migrate -v0
$PY manage.py collectstatic --noinput -v0
$PY manage.py shell --no-imports -c "from articles import demo; demo.seed_articles(); demo.seed_reads()"
ARTICLE_ID=$($PY manage.py shell --no-imports -c "from articles.models import Article; print(Article.objects.published().filter(guid='demo:1').get().pk)")
SLUG=$($PY manage.py shell --no-imports -c "from articles.models import Article; print(Article.objects.get(pk=$ARTICLE_ID).get_absolute_url())")  # already percent-encoded
export ARTICLE_ID

run() {  # run <label> <wsgi app> <url> [wrk extra args...]
  local label=$1 app=$2 url=$3; shift 3
  .venv/bin/gunicorn "${GUNICORN_ARGS[@]}" "$app" & local pid=$!
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.2; done
  echo "== $label: $url"
  wrk "${WRK_ARGS[@]}" "$@" "$url" | grep -E "Requests/sec|50%|99%|Non-2xx|Socket errors"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

run "hello-world WSGI" bench.pages_hello:application "http://127.0.0.1:$PORT/"
run "beacon POST (sendBeacon), WSGI fast path" config.wsgi:application "http://127.0.0.1:$PORT/r/" -s bench/reads_beacon_post.lua
run "beacon GET (1x1 GIF), WSGI fast path" config.wsgi:application "http://127.0.0.1:$PORT/r/?id=$ARTICLE_ID"
run "beacon POST through the full Django stack" config.wsgi:django_application "http://127.0.0.1:$PORT/r/" -s bench/reads_beacon_post.lua
run "article page (cached HTML, read counted)" config.wsgi:application "http://127.0.0.1:$PORT$SLUG"
$PY manage.py shell --no-imports -c "
from articles import reads
print('views counted today for the benchmarked article:', reads.get_redis().hget(reads.views_key(reads.today()), '$ARTICLE_ID').decode())" 2>/dev/null || true
