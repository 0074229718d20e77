#!/usr/bin/env bash
# Click redirect throughput (issue 14): wrk against gunicorn serving
# newsletter.clicks.wsgi (the /c/ fast path) on 127.0.0.1; every request is a valid
# signed click link (302 to the article, one Redis pipeline, no SQL). Bounded by DURATION.
# Usage (repo root): bench/click_run.sh
# Environment: DATABASE_URL, REDIS_URL (a benchmark Redis database: the click log key is
# deleted afterwards), PORT (8511), DURATION (15s), CONNECTIONS (16), WORKERS (2), THREADS (4),
# WORKER_CONNECTIONS (CONNECTIONS / WORKERS: with a few long-lived keep-alive connections a gthread
# worker may accept them all and leave the other process idle; this caps what one process holds).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
PORT=${PORT:-8511}; DURATION=${DURATION:-15s}; CONNECTIONS=${CONNECTIONS:-16}
export ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0 SITE_URL=http://127.0.0.1:$PORT
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/h_analytics}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/11}
export VAR_DIR=${VAR_DIR:-/tmp/click-bench-var} LOG_LEVEL=WARNING
PY=.venv/bin/python
CLICK_PATH=$($PY manage.py shell --no-imports -c "
import uuid
from newsletter.analytics import targets
from newsletter.subscribers.tokens import Purpose, make_token
url = targets.click_url(digest_id=1, article_id=1, position=1, url='http://127.0.0.1:$PORT/articles/x/?utm_source=newsletter', merge_field=lambda n: '[[' + n + ']]')
print(url.split('$PORT', 1)[1].replace('[[click_token]]', make_token(uuid.uuid4(), Purpose.CLICK)))")
.venv/bin/gunicorn -w "${WORKERS:-2}" -k gthread --threads "${THREADS:-4}" --keep-alive 5 -b 127.0.0.1:$PORT \
  --worker-connections "$(worker_connections)" --error-logfile "${ERROR_LOG:--}" \
  --log-level warning config.wsgi:application & GUNICORN=$!
trap 'kill $GUNICORN 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.2; done
curl -s -o /dev/null -w "check: %{http_code} -> %{redirect_url}\n" -A "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0" "http://127.0.0.1:$PORT$CLICK_PATH"
echo "== click redirect GET $CLICK_PATH"
wrk -t 2 -c "$CONNECTIONS" -d "$DURATION" --latency -H "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0" \
  "http://127.0.0.1:$PORT$CLICK_PATH" | grep -E "Requests/sec|  50%|  99%|Non-2xx|Socket errors|requests in"
if [[ -n ${COMPARE:-} ]]; then
  # The same server's read beacon fast path (/r/, one Redis script), for the machine's load at this moment.
  echo "== beacon GET /r/?id=1 (comparison, same server and load)"
  wrk -t 2 -c "$CONNECTIONS" -d "$DURATION" --latency -H "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0" \
    "http://127.0.0.1:$PORT/r/?id=1" | grep -E "Requests/sec|  50%|  99%|requests in"
fi
$PY manage.py shell --no-imports -c "
from sitewide.redis_client import get_redis
from newsletter.clicks.clicklog import CLICKS_KEY
print('clicks logged in Redis:', get_redis().zcard(CLICKS_KEY)); get_redis().delete(CLICKS_KEY)"
