#!/usr/bin/env bash
# Side by side, in one run and under the same wrk load (tests/Load/wrk/ingest.lua, one wrk thread): our
# Native AOT bot (durable ingest into PostgreSQL with fsync on, replies sent afterwards by its sender) and a
# minimal grammY webhook bot (grammy-bot.mjs: answers each message through the Bot API inside the webhook
# request, stores nothing). Both reply to the fake Bot API (rate limits off, so that neither is held back by
# Telegram's). Prints throughput, latency percentiles, errors and RSS of each, and the ratios.
#   tests/Load/sidebyside/run.sh [CONNECTIONS=64] [SECONDS=20]
set -euo pipefail
cd "$(dirname "$0")/../../.."
root=$PWD
connections=${1:-64}
seconds=${2:-20}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
bot=${BOT_BINARY:-$root/artifacts/publish/Bot}
[[ -x "$bot" ]] || scripts/publish.sh artifacts/publish >/dev/null
(cd tests/Load/sidebyside && npm ci --no-audit --no-fund --silent)
dotnet build tests/FakeTelegram -c Release -v quiet -nologo >/dev/null

work=$(mktemp -d /tmp/bot-sidebyside.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  scripts/pg.sh stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=scripts/lib/ports.sh
source scripts/lib/ports.sh
wait_http() {
  local _
  for _ in $(seq 1 300); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "sidebyside: $1 did not answer" >&2
  return 1
}
rss() { awk -v k="$2" '$1 == k":" { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

fake_port=$(free_port 38081)
dotnet tests/FakeTelegram/bin/Release/net10.0/FakeTelegram.dll --port "$fake_port" --no-rate-limits --quiet \
  >"$work/fake.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$fake_port/_fake/stats"
sent() { curl -s "http://127.0.0.1:$fake_port/_fake/stats" | sed -n 's/.*"deliveries":\([0-9]*\).*/\1/p'; }

export WEBHOOK_SECRET=sidebyside-webhook-secret-0123456789

# Runs wrk against port $1 for process $2; prints "rps p50 p99 errors idle_rss peak_rss".
measure() {
  local port=$1 pid=$2 idle out
  # Idle: 5 s after it first answered, once the start has settled (ours gives back start-up's memory 3 s after
  # the start; Node's start-up work is done by then too).
  sleep 5
  idle=$(rss "$pid" VmRSS)
  ID_BASE=$3 wrk -t1 -c"$connections" -d5s -s tests/Load/wrk/ingest.lua "http://127.0.0.1:$port" >/dev/null
  # What the measured run starts from: replies at the fake so far, and the database's clock (ours).
  sent >"$work/sent.start"
  if [[ -n "${4:-}" ]]; then scripts/pg.sh psql "$work/pg" -Atc "SELECT now()" >"$work/db.start"; fi
  out=$(ID_BASE=$(($3 + 50000000)) wrk -t1 -c"$connections" -d"${seconds}s" --timeout 5s -s tests/Load/wrk/ingest.lua \
    "http://127.0.0.1:$port")
  echo "$out" >>"$work/wrk.log"
  awk -v idle="$idle" -v peak="$(rss "$pid" VmHWM)" '
    /^requests=/ { split($3, r, "="); rps = r[2] }
    /^latency_ms/ { split($2, a, "="); split($4, b, "="); p50 = a[2]; p99 = b[2] }
    /^errors/ { e = 0; for (i = 2; i <= NF; i++) { split($i, kv, "="); e += kv[2] } }
    END { print rps, p50, p99, e, idle, peak }' <<<"$out"
}

# Ours: ingest, workers and sender against the fake.
export Database__ConnectionString
Database__ConnectionString=$(PG_OPTIONS="-c shared_buffers=256MB -c max_wal_size=2GB" scripts/pg.sh start "$work/pg")
ours_public=$(free_port 18180)
ours_internal=$(free_port $((ours_public + 1)))
(
  export Telegram__BotToken=111111111:sidebyside-ours-token-not-real-xxxx Telegram__WebhookSecret=$WEBHOOK_SECRET
  export DOTNET_ENVIRONMENT=Production Hosting__BindAddress=127.0.0.1 Shutdown__DrainDelaySeconds=0
  export Hosting__PublicPort=$ours_public Hosting__InternalPort=$ours_internal
  export Logging__LogLevel__Default=Warning Secrets__Directory=/nonexistent Config__Directory=/nonexistent
  export Telegram__ApiBaseUrl=http://127.0.0.1:$fake_port FeatureFlags__FloodControl=false
  export Sender__GlobalPerSecond=1000 Sender__PrivateChatPerSecond=100 Sender__MaxInFlight=64
  "$bot" migrate up >/dev/null
  exec "$bot" >"$work/ours.log" 2>&1
) &
pids+=($!)
ours_pid=${pids[-1]}
wait_http "http://127.0.0.1:$ours_internal/readyz"
read -r o_rps o_p50 o_p99 o_err o_idle o_peak < <(measure "$ours_public" "$ours_pid" 1000000000 database)
o_sent=$(($(sent) - $(cat "$work/sent.start")))
# Handled during the measured run: the handler ran and its reply is durably queued (the inbox row is done in the
# same transaction), whichever update it was (the warm-up's come first in their chats).
o_handled=$(scripts/pg.sh psql "$work/pg" -Atc "SELECT count(*) FROM inbox WHERE state = 'done' AND processed_at >= '$(cat "$work/db.start")'")
o_stored=$(scripts/pg.sh psql "$work/pg" -Atc "SELECT count(*) FROM inbox WHERE update_id >= 1150000000")
kill "$ours_pid"
wait "$ours_pid" 2>/dev/null || true

# grammY.
g_port=$(free_port 18280)
API_ROOT=http://127.0.0.1:$fake_port BOT_TOKEN=222222222:sidebyside-grammy-token-not-real PORT=$g_port \
  node tests/Load/sidebyside/grammy-bot.mjs >"$work/grammy.log" 2>&1 &
pids+=($!)
g_pid=${pids[-1]}
wait_http "http://127.0.0.1:$g_port/"
read -r g_rps g_p50 g_p99 g_err g_idle g_peak < <(measure "$g_port" "$g_pid" 1200000000)
g_sent=$(($(sent) - $(cat "$work/sent.start")))

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo "side by side: wrk -t1 -c$connections -d${seconds}s (after 5 s warm-up), tests/Load/wrk/ingest.lua, loopback"
printf '%-36s %14s %14s %10s\n' "" "ours (AOT)" "grammY 1.46.0" "ours/grammY"
printf '%-36s %14s %14s %10s\n' "webhook requests/s" "$o_rps" "$g_rps" "$(ratio "$o_rps" "$g_rps")"
printf '%-36s %14s %14s %10s\n' "latency p50 ms" "$o_p50" "$g_p50" "$(ratio "$o_p50" "$g_p50")"
printf '%-36s %14s %14s %10s\n' "latency p99 ms" "$o_p99" "$g_p99" "$(ratio "$o_p99" "$g_p99")"
printf '%-36s %14s %14s\n' "wrk errors (non-2xx, socket)" "$o_err" "$g_err"
printf '%-36s %14s %14s %10s\n' "RSS idle MiB" "$o_idle" "$g_idle" "$(ratio "$o_idle" "$g_idle")"
printf '%-36s %14s %14s %10s\n' "RSS peak MiB" "$o_peak" "$g_peak" "$(ratio "$o_peak" "$g_peak")"
printf '%-36s %14s %14s\n' "updates durable when acknowledged" "$o_stored" "0 (none kept)"
printf '%-36s %14s %14s\n' "replies at the fake during the run" "$o_sent" "$g_sent"
printf '%-36s %14s %14s %10s\n' "updates handled during the run" "$o_handled" "$g_sent" "$(ratio "$o_handled" "$g_sent")"
echo "(ours: handler done and reply durably queued; grammY: replies made, which is when its handler is done)"
