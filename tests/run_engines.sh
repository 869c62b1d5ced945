#!/usr/bin/env bash
# `make test`'s suite: on SQLite and, when HELPDESK_TEST_DATABASE_URL is set, on PostgreSQL at
# the same time (two processes: on two cores the pair takes about as long as the slower run,
# not the sum). Each run gets its own Redis database, so one run's FLUSHDB never meets the other.
set -uo pipefail
python=${1:-.venv/bin/python}

if [ -z "${HELPDESK_TEST_DATABASE_URL:-}" ]; then
  HELPDESK_TEST_DB=sqlite "$python" -m pytest -q -rs
  rc=$?
  printf '\n*** HELPDESK_TEST_DATABASE_URL is not set: the PostgreSQL run was SKIPPED ***\n\n'
  exit $rc
fi

postgres_redis=()
if [ -n "${HELPDESK_TEST_REDIS_URL:-}" ]; then
  url=${HELPDESK_TEST_REDIS_URL%/}
  number=${url##*/}
  if [[ "$number" =~ ^[0-9]+$ ]]; then base=${url%/*}; else base=$url; number=0; fi
  postgres_redis=(HELPDESK_TEST_REDIS_URL="$base/$(( (number + 15) % 16 ))")
fi

logs=$(mktemp -d)
echo "Running the suite on SQLite and on PostgreSQL in parallel (logs: $logs)"
HELPDESK_TEST_DB=sqlite "$python" -m pytest -q -rs >"$logs/sqlite.log" 2>&1 &
sqlite=$!
env HELPDESK_TEST_DB=postgres "${postgres_redis[@]}" "$python" -m pytest -q -rs >"$logs/postgres.log" 2>&1 &
postgres=$!

progress() { grep -o '\[ *[0-9]*%\]' "$1" 2>/dev/null | tail -1 | tr -d '[] '; }
while kill -0 $sqlite 2>/dev/null || kill -0 $postgres 2>/dev/null; do
  sleep 60
  echo "  $(date -u +%H:%M:%S)  SQLite $(progress "$logs/sqlite.log")  PostgreSQL $(progress "$logs/postgres.log")"
done
wait $sqlite; sqlite_rc=$?
wait $postgres; postgres_rc=$?

printf '\n======================== SQLite ========================\n'
cat "$logs/sqlite.log"
printf '\n================== PostgreSQL + Redis ==================\n'
cat "$logs/postgres.log"
echo
echo "SQLite: $([ $sqlite_rc -eq 0 ] && echo passed || echo "FAILED ($sqlite_rc)")," \
     "PostgreSQL: $([ $postgres_rc -eq 0 ] && echo passed || echo "FAILED ($postgres_rc)")"
[ $sqlite_rc -eq 0 ] && [ $postgres_rc -eq 0 ]
