#!/usr/bin/env bash
# Burst-after-quiet rounds on the published Native AOT binary, with the workers on: PostgreSQL with fsync on, the
# bot handling what it ingests (replies queued in the outbox for a Bot API that is not there: "handled" means the
# inbox row is done and its reply is in the outbox), flood control off, and wrk from Debian on loopback.
# Every round saturates the webhook for BURST seconds (tests/Load/wrk/ingest.lua, CONNECTIONS connections, update
# ids of the round's own), counts the acknowledged updates (200s) and the inbox rows that became 'done' during the
# burst, then waits for the drain (no pending or processing row left), then stays idle QUIET seconds with
# `ANALYZE inbox; ANALYZE inbox_heads` half-way, as autoanalyze would in a quiet period, before the next round.
# The failure this guards against: statements of the workers whose plans, made with the statistics of a quiet
# period (an inbox of finished rows only), read a whole index of the unfinished rows, so that the rounds after a
# quiet period handle a fraction of what the first one did. 2 s into each burst it runs EXPLAIN (ANALYZE, BUFFERS)
# of the claim (InboxClaims.ClaimSql) and of a group completion (InboxClaims.CompleteSql, 8 ids of queued
# updates and an owner that holds none, so it changes nothing but reads what the real one reads), each in a
# rolled-back transaction, and prints their time, shared buffers and the inbox index they use.
# Prints one line per round and a table; fails when a round after a quiet period handles less than MIN_RATIO of
# what round 1 handled, when the inbox does not drain within DRAIN_TIMEOUT seconds, or when the rows stored do not
# match the acknowledgements.
#   tests/Load/bursts.sh                 (4 rounds of 20 s, 64 connections, 20 s quiet: 6-8 minutes on 2 cores)
# Also: ROUNDS (4), BURST (20), QUIET (20), CONNECTIONS (64), DRAIN_TIMEOUT (600), MIN_RATIO (0.5), EXPLAIN=0 (no
# plans), ANALYZE=0 (none in the quiet periods; with PG_OPTIONS="-c autovacuum=off", a control run in which the
# planner never sees a quiet period's statistics), BOT_BINARY, PG_OPTIONS (added to the server's options, e.g.
# auto_explain), KEEP_LOGS=1 (the bot's and the server's logs, wrk's output and the plans are kept in the work
# directory under /tmp; the database never is).
# The binary is published (scripts/publish.sh artifacts/publish) when it is missing or older than the sources.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${ROUNDS:-4}
burst=${BURST:-20}
quiet=${QUIET:-20}
connections=${CONNECTIONS:-64}
drain_timeout=${DRAIN_TIMEOUT:-600}
min_ratio=${MIN_RATIO:-0.5}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

if [[ -z "${BOT_BINARY:-}" ]]; then
  stale=
  if [[ -x artifacts/publish/Bot ]]; then
    stale=$(find src Directory.Build.props Directory.Packages.props \( -name bin -o -name obj \) -prune -o \
      -type f -newer artifacts/publish/Bot -print -quit)
  fi
  if [[ ! -x artifacts/publish/Bot || -n "$stale" ]]; then
    echo "publishing the AOT binary${stale:+ ($stale is newer than artifacts/publish/Bot)}"
    scripts/publish.sh artifacts/publish >/dev/null
  fi
fi
bot=${BOT_BINARY:-artifacts/publish/Bot}

# The statements as the workers run them, from the source, with literals for their parameters (the claim's limit:
# the workers' default concurrency; lease: the default 30 s; max attempts: the default 5).
source_file=src/Bot/Processing/InboxClaims.cs
claim_sql=$(sed -n '/const string ClaimSql =/,/""";/p' "$source_file" | sed '1,2d;$d')
[[ "$claim_sql" == *"inbox_heads"* ]] || { echo "bursts: InboxClaims.ClaimSql not found in $source_file" >&2; exit 2; }
# shellcheck disable=SC2016 # the $N are the statement's parameters, replaced literally
claim_sql=$(printf '%s\n' "$claim_sql" | sed -e 's/\$1/16/g' -e "s/\\\$2/'bursts-explain'/g" -e 's/\$3/30.0/g' -e 's/\$4/5/g')
complete_sql=$(sed -n '/const string CompleteSql =/,/""";/p' "$source_file" | sed '1,2d;$d')
[[ "$complete_sql" == *"SET state = 'done'"* ]] || { echo "bursts: the completion not found in $source_file" >&2; exit 2; }

work=$(mktemp -d /tmp/bot-bursts.XXXXXX)
chmod 755 "$work"
pid=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; fi
  scripts/pg.sh stop "$work/pg" || true
  if [[ -n "${KEEP_LOGS:-}" ]]; then
    cp "$work/pg/server.log" "$work/" 2>/dev/null || true
    rm -rf "$work/pg" "$work/pg.initdb.log"
    echo "bursts: logs kept in $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# shellcheck source=scripts/lib/ports.sh
source scripts/lib/ports.sh
public_port=$(free_port 18080)
internal_port=$(free_port 19090)

export Database__ConnectionString
Database__ConnectionString=$(PG_OPTIONS="-c shared_buffers=256MB -c max_wal_size=2GB ${PG_OPTIONS:-}" scripts/pg.sh start "$work/pg")
export WEBHOOK_SECRET=load-test-webhook-secret-0123456789
export Telegram__BotToken=123456789:load-test-token-not-real-xxxxxxxx Telegram__WebhookSecret=$WEBHOOK_SECRET
export DOTNET_ENVIRONMENT=Production Hosting__BindAddress=127.0.0.1 Shutdown__DrainDelaySeconds=0
export Hosting__PublicPort=$public_port Hosting__InternalPort=$internal_port
export Logging__LogLevel__Default=Warning Secrets__Directory=/nonexistent Config__Directory=/nonexistent
# The workers on; their replies go to a port where nothing listens (the sender's retries are no concern here).
export Processing__Enabled=true Telegram__ApiBaseUrl=http://127.0.0.1:9 FeatureFlags__FloodControl=false
$bot migrate up >/dev/null

$bot >"$work/bot.log" 2>&1 &
pid=$!
for _ in $(seq 1 400); do curl -sf "http://127.0.0.1:$internal_port/readyz" >/dev/null && break; sleep 0.05; done
curl -sf "http://127.0.0.1:$internal_port/readyz" >/dev/null ||
  { echo "bursts: the bot did not become ready" >&2; tail -n 20 "$work/bot.log" >&2; exit 1; }

sql() { scripts/pg.sh psql "$work/pg" -XAtqc "$1"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# EXPLAIN (ANALYZE, BUFFERS) of one statement in a rolled-back transaction, into FILE.
explain() {
  printf 'BEGIN;\nEXPLAIN (ANALYZE, BUFFERS)\n%s;\nROLLBACK;\n' "$2" |
    scripts/pg.sh psql "$work/pg" -XAtq -v ON_ERROR_STOP=1 >"$1" 2>&1 || true
}
explain_round() {
  sleep 2
  explain "$work/claim-$1.txt" "$claim_sql"
  local ids
  ids=$(sql "SELECT array_agg(update_id) FROM (SELECT update_id FROM inbox_heads ORDER BY update_id LIMIT 8) h")
  # shellcheck disable=SC2016 # the $N are the statement's parameters, replaced literally
  explain "$work/complete-$1.txt" "$(printf '%s\n' "$complete_sql" | sed -e "s/\\\$1/'$ids'::bigint[]/g" -e "s/\\\$2/'bursts-explain'/g")"
}
plan_summary() {
  if grep -q "Execution Time" "$1"; then
    printf '%s, %s, %s' "$(sed -n 's/^ *Execution Time: \(.*\)/\1/p' "$1")" "$(grep -m1 -o 'shared hit=.*' "$1")" \
      "$(grep -oE '(Scan using|Bitmap Index Scan on) inbox_[a-z_]+|Seq Scan on inbox ' "$1" | grep -v inbox_heads |
        sed -e 's/.* //' -e 's/^$/a sequential scan/' | sort -u | paste -sd+ -)"
  else
    printf 'EXPLAIN failed: %s' "$(head -c 300 "$1")"
  fi
}

echo "bot: $bot ($(git rev-parse --short HEAD 2>/dev/null || echo '?')); $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
quiet_analyze=" with ANALYZE inbox, inbox_heads half-way"
[[ "${ANALYZE:-1}" != 0 ]] || quiet_analyze=" without ANALYZE"
echo "$rounds rounds: wrk ${burst} s at $connections connections, the drain, ${quiet} s quiet$quiet_analyze"
declare -a acked handled rate drain loads slow=()
failed=0
for round in $(seq 1 "$rounds"); do
  loads[round]=$(cut -d' ' -f1 /proc/loadavg)
  done_before=$(sql "SELECT count(*) FROM inbox WHERE state = 'done'")
  rows_before=$(sql "SELECT count(*) FROM inbox")
  explain_pid=
  if [[ "${EXPLAIN:-1}" != 0 ]]; then explain_round "$round" & explain_pid=$!; fi
  start=$(now)
  ID_BASE=$((1000000000 + round * 10000000)) wrk -t1 -c"$connections" -d"${burst}s" --timeout 5s \
    -s tests/Load/wrk/ingest.lua "http://127.0.0.1:$public_port" >"$work/wrk-$round.out"
  end=$(now)
  done_after=$(sql "SELECT count(*) FROM inbox WHERE state = 'done'")
  rows_after=$(sql "SELECT count(*) FROM inbox")
  if [[ -n "$explain_pid" ]]; then wait "$explain_pid"; fi

  requests=$(sed -n 's/^requests=\([0-9]*\).*/\1/p' "$work/wrk-$round.out")
  non200=$(sed -n 's/.* status=\([0-9]*\).*/\1/p' "$work/wrk-$round.out")
  acked[round]=$((requests - non200))
  handled[round]=$((done_after - done_before))
  seconds=$(elapsed "$start" "$end")
  rate[round]=$(awk -v h="${handled[round]}" -v s="$seconds" 'BEGIN { printf "%.0f", h / s }')

  # The drain: until no row is pending or processing. Polled on inbox_heads (a row per chat with unfinished
  # updates: empty exactly when the inbox has none), which costs nothing; counting the inbox's unfinished rows
  # every 0.2 s took 100-140 ms of the server's time each under load. The inbox itself is checked at the end.
  drain_start=$(now)
  while :; do
    if [[ $(sql "SELECT count(*) FROM (SELECT 1 FROM inbox_heads LIMIT 1) h") == 0 &&
      $(sql "SELECT count(*) FROM inbox WHERE state IN ('pending', 'processing')") == 0 ]]; then
      break
    fi
    if awk -v a="$drain_start" -v b="$(now)" -v t="$drain_timeout" 'BEGIN { exit !(b - a > t) }'; then
      echo "bursts: round $round: the inbox not drained ${drain_timeout} s after the burst" >&2
      exit 1
    fi
    sleep 0.2
  done
  drain[round]=$(elapsed "$drain_start" "$(now)")

  stored=$((rows_after - rows_before))
  extra=$((stored - acked[round]))
  printf 'round %d: acknowledged %d, handled during the burst %d (%s/s over %s s), drained %s s after it (load average %s at the start)\n' \
    "$round" "${acked[round]}" "${handled[round]}" "${rate[round]}" "$seconds" "${drain[round]}" "${loads[round]}"
  if [[ $non200 -gt 0 ]]; then echo "  $non200 requests answered other than 200"; fi
  # wrk stops with up to one request per connection in flight: stored but not counted as answered.
  if [[ $extra -lt 0 || $extra -gt $connections ]]; then
    echo "  MISMATCH: ${acked[round]} acknowledged, $stored stored" >&2
    failed=1
  fi
  if [[ -n "$explain_pid" ]]; then
    echo "  2 s into the burst: claim of 16 $(plan_summary "$work/claim-$round.txt")"
    echo "                      completion of 8 $(plan_summary "$work/complete-$round.txt")"
  fi

  if [[ $round -lt $rounds ]]; then
    sleep "$(awk -v q="$quiet" 'BEGIN { print q / 2 }')"
    if [[ "${ANALYZE:-1}" != 0 ]]; then sql "ANALYZE inbox; ANALYZE inbox_heads"; fi
    sleep "$(awk -v q="$quiet" 'BEGIN { print q - q / 2 }')"
  fi
done

echo
echo "| round | acknowledged | handled during the burst | handled/s | of round 1 | drain after the burst | load average |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for round in $(seq 1 "$rounds"); do
  ratio=$(awk -v r="${handled[round]}" -v f="${handled[1]}" 'BEGIN { printf "%.2f", (f > 0 ? r / f : 0) }')
  echo "| $round | ${acked[round]} | ${handled[round]} | ${rate[round]} | $ratio | ${drain[round]} s | ${loads[round]} |"
  if [[ $round -gt 1 ]] && awk -v r="$ratio" -v m="$min_ratio" 'BEGIN { exit !(r < m) }'; then
    slow+=("round $round handled $ratio x what round 1 did")
  fi
done
for line in "${slow[@]}"; do echo "FAIL: $line, after a quiet period (less than $min_ratio x)"; failed=1; done
exit "$failed"
