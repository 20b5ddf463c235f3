#!/usr/bin/env bash
# Ingest benchmark on this machine: the published Native AOT binary, a PostgreSQL cluster with fsync on
# (acknowledged means durable), and wrk from Debian on loopback. Prints durable updates/s, ack latency
# percentiles and the bot's RSS idle and at peak.
#   tests/Load/run-local.sh [CONNECTIONS=64] [SECONDS=30]
# MIX=interactive drives the k6 scenarios' conversation mix (tests/Load/wrk/interactive.lua: commands, text,
# callbacks, join requests) instead of plain messages (tests/Load/wrk/ingest.lua); PROCESSING=true handles them.
# BOT_BINARY picks another binary (e.g. for a JIT comparison: BOT_BINARY="dotnet src/Bot/bin/Release/net10.0/Bot.dll").
set -euo pipefail
cd "$(dirname "$0")/../.."
connections=${1:-64}
seconds=${2:-30}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
[[ -n "${BOT_BINARY:-}" || -x artifacts/publish/Bot ]] || scripts/publish.sh artifacts/publish >/dev/null
bot=${BOT_BINARY:-artifacts/publish/Bot}
script=tests/Load/wrk/${MIX:-ingest}.lua
[[ -f "$script" ]] || { echo "run-local: no $script (MIX is ingest or interactive)" >&2; exit 2; }

work=$(mktemp -d /tmp/bot-load.XXXXXX)
chmod 755 "$work"
cleanup() {
  [[ -n "${pid:-}" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  scripts/pg.sh stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT

export Database__ConnectionString
Database__ConnectionString=$(PG_OPTIONS="-c shared_buffers=256MB -c max_wal_size=2GB" scripts/pg.sh start "$work/pg")
export WEBHOOK_SECRET=load-test-webhook-secret-0123456789
export Telegram__BotToken=123456789:load-test-token-not-real-xxxxxxxx Telegram__WebhookSecret=$WEBHOOK_SECRET
export DOTNET_ENVIRONMENT=Production Hosting__BindAddress=127.0.0.1 Shutdown__DrainDelaySeconds=0
export Logging__LogLevel__Default=Warning Secrets__Directory=/nonexistent Config__Directory=/nonexistent
# Ingest alone by default (PROCESSING=true adds the workers, whose replies then go nowhere: no Bot API here).
export Processing__Enabled=${PROCESSING:-false} Telegram__ApiBaseUrl=http://127.0.0.1:9
$bot migrate up >/dev/null

$bot > "$work/bot.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do curl -sf http://127.0.0.1:9090/readyz >/dev/null && break; sleep 0.05; done
# A dotnet-hosted BOT_BINARY runs the app as a child of the shell: measure the process that listens.
app_pid=$(pgrep -P "$pid" 2>/dev/null | head -n1 || true)
app_pid=${app_pid:-$pid}
rss() { awk -v k="$1" '$1 == k":" { printf "%.1f MiB", $2 / 1024 }' "/proc/$app_pid/status"; }
idle_rss=$(rss VmRSS)

psql_count() { scripts/pg.sh psql "$work/pg" -Atc "SELECT count(*) FROM inbox"; }

echo "warm-up 5 s"
ID_BASE=2000000000 wrk -t1 -c"$connections" -d5s -s "$script" http://127.0.0.1:8080 >/dev/null
before=$(psql_count)
echo "measuring ${seconds} s, ${connections} connections, 1 wrk thread"
ID_BASE=1000000000 wrk -t1 -c"$connections" -d"${seconds}s" --timeout 5s -s "$script" http://127.0.0.1:8080 | tee "$work/wrk.out" | grep -E "^(requests|latency|errors)|Non-2xx"
after=$(psql_count)
stored=$((after - before))
requests=$(sed -n 's/^requests=\([0-9]*\).*/\1/p' "$work/wrk.out")
duration=$(sed -n 's/.*duration_s=\([0-9.]*\).*/\1/p' "$work/wrk.out")
echo "durable updates: $stored of $requests requests ($(awk -v s="$stored" -v d="$duration" 'BEGIN { printf "%.0f", s / d }')/s)"
echo "bot RSS: idle $idle_rss, peak $(rss VmHWM)"
# wrk stops with up to one request per connection in flight: stored but not counted as answered.
extra=$((stored - requests))
[[ $extra -ge 0 && $extra -le $connections ]] || { echo "MISMATCH: $requests answered, $stored stored" >&2; exit 1; }
