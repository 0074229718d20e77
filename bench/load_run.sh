#!/usr/bin/env bash
# Load figures for issue 7 (proof): signups and read beacons against gunicorn on 127.0.0.1, then
# article-page latency while a 100,000-recipient edition is being sent.
# Usage (repo root): bench/load_run.sh [signup|beacon|during-send|all]   (default all)
# Environment: DATABASE_URL (a benchmark database: during-send REPLACES its subscribers and
# editions), REDIS_URL, PORT (8501), ESP_PORT (8502), DURATION (15s), CONNECTIONS (16),
# WORKERS (2) and THREADS (4) of gunicorn's gthread workers, SEND_SUBSCRIBERS (100000: the size
# of the edition during-send sends; SEND_DURATION, default DURATION, how long the page is measured
# while it sends).
set -euo pipefail
cd "$(dirname "$0")/.."
WHAT=${1:-all}
source bench/common.sh
PORT=${PORT:-8501}; ESP_PORT=${ESP_PORT:-8502}; DURATION=${DURATION:-15s}; CONNECTIONS=${CONNECTIONS:-16}
export ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0 SITE_URL=http://127.0.0.1:$PORT
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/h_e2e}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/10}
export VAR_DIR=${VAR_DIR:-/tmp/proof-load-var} LOG_LEVEL=WARNING CELERY_TASK_ALWAYS_EAGER=0
# The per-IP signup limit (default 30 an hour) would turn every request after the 30th into a
# no-op: all wrk requests come from one IP. Raised for the benchmark only.
export SIGNUP_SUBMISSIONS_PER_IP_PER_HOUR=100000000
PY=.venv/bin/python
UA="User-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"
WRK=(wrk -t 2 -c "$CONNECTIONS" -d "$DURATION" --latency -H "$UA")

$PY manage.py migrate -v0
$PY manage.py collectstatic --noinput -v0
$PY manage.py shell --no-imports -c "from articles import demo; demo.seed_articles(); demo.seed_reads()" >/dev/null
ARTICLE_ID=$($PY manage.py shell --no-imports -c "from articles.models import Article; print(Article.objects.published().order_by('-published_at').first().pk)")
ARTICLE_URL=$($PY manage.py shell --no-imports -c "from articles.models import Article; print(Article.objects.get(pk=$ARTICLE_ID).get_absolute_url())")
export ARTICLE_ID

.venv/bin/gunicorn -w "${WORKERS:-2}" -k gthread --threads "${THREADS:-4}" --keep-alive 5 -b 127.0.0.1:$PORT --log-level warning \
  --worker-connections "$(worker_connections)" \
  config.wsgi:application & GUNICORN=$!
trap 'kill $GUNICORN 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.2; done

summary() { grep -E "Requests/sec|  50%|  99%|Non-2xx|Socket errors|signup requests|requests in"; }

if [[ $WHAT == all || $WHAT == signup ]]; then
  jar=$(mktemp); page=$(curl -s -c "$jar" "http://127.0.0.1:$PORT/newsletter/")
  export CSRF_TOKEN=$(grep -o 'name="csrfmiddlewaretoken" value="[^"]*"' <<<"$page" | head -1 | sed 's/.*value="//;s/"$//')
  export CSRF_COOKIE=$(awk '$6 == "csrftoken" {print $7}' "$jar"); rm -f "$jar"
  before=$($PY manage.py shell --no-imports -c "from newsletter.models import Subscriber; print(Subscriber.objects.filter(email__startswith='load-').count())")
  echo "== signup POST /newsletter/ (distinct addresses)"
  "${WRK[@]}" -s bench/load_signup.lua "http://127.0.0.1:$PORT/newsletter/" | summary
  $PY manage.py shell --no-imports -c "
from newsletter.models import Subscriber
rows = Subscriber.objects.filter(email__startswith='load-')
print('pending subscribers created by this run:', rows.filter(status='pending').count() - $before)"
fi

if [[ $WHAT == all || $WHAT == beacon ]]; then
  echo "== beacon GET /r/?id= (1x1 GIF)"
  "${WRK[@]}" "http://127.0.0.1:$PORT/r/?id=$ARTICLE_ID" | summary
  echo "== beacon POST /r/ (sendBeacon, text/plain id)"
  "${WRK[@]}" -s bench/reads_beacon_post.lua "http://127.0.0.1:$PORT/r/" | summary
fi

if [[ $WHAT == all || $WHAT == during-send ]]; then
  echo "== article page, no send running"
  "${WRK[@]}" "http://127.0.0.1:$PORT$ARTICLE_URL" | summary
  log=$(mktemp)
  SEND_SUBSCRIBERS=${SEND_SUBSCRIBERS:-100000}
  $PY bench/send_bench.py esp --subscribers "$SEND_SUBSCRIBERS" --port "$ESP_PORT" --timeout 1800 \
    --backend newsletter.backends.mailgun.EmailBackend --logs /tmp/proof-send-logs >"$log" 2>&1 & SEND=$!
  # Start measuring once the ESP has accepted the first recipients (the send is under way).
  for _ in $(seq 600); do
    n=$(curl -s "http://127.0.0.1:$ESP_PORT/_stats" 2>/dev/null | $PY -c "import json,sys; print(json.load(sys.stdin)['recipients'])" 2>/dev/null || echo 0)
    [[ $n -gt 0 ]] && break; sleep 0.1
  done
  echo "== article page while the $SEND_SUBSCRIBERS-recipient edition is sending (ESP had $n recipients at start)"
  wrk -t 2 -c "$CONNECTIONS" -d "${SEND_DURATION:-$DURATION}" --latency -H "$UA" "http://127.0.0.1:$PORT$ARTICLE_URL" | summary
  n=$(curl -s "http://127.0.0.1:$ESP_PORT/_stats" 2>/dev/null | $PY -c "import json,sys; print(json.load(sys.stdin)['recipients'])" 2>/dev/null || echo done)
  echo "ESP recipients when the page measurement ended: $n ($SEND_SUBSCRIBERS = the send had finished)"
  wait $SEND || true
  grep -E '"subscribers"|"last_acceptance_s"|"recipients_per_s"|"duplicates"|"sent"' "$log" || tail -20 "$log"
  rm -f "$log"
fi
