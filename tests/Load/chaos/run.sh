#!/usr/bin/env bash
# Chaos drill: two replicas of the published Native AOT binary, the fake Bot API (tests/FakeTelegram, as a
# process, Telegram's limits enforced with the overall one raised to SEND_RATE) and a PostgreSQL cluster with
# fsync on, all on loopback. UPDATES updates (default 100000) of /help and plain text from many private chats
# are posted at RATE per second across both replicas, retried on 503s and connection errors as Telegram does;
# the leader is SIGKILLed and restarted at 30 %, PostgreSQL restarted at 60 %. Prints posted / stored /
# handled / handled twice / sent / duplicate replies as a table and ends with "N passed, N failed"; exits
# non-zero on any loss, double handling, limit violation or crash.
#   UPDATES=5000 RATE=400 tests/Load/chaos/run.sh      (RATE defaults to 200/s: a steady state on 2 cores;
#   faster than the sender drains, the outbox backlog grows and its heads query slows with it, see docs/performance.md)
# Also: CHATS (default UPDATES/10), SEND_RATE (default 500), MAX_IN_FLIGHT (default 32), BOT_BINARY.
set -euo pipefail
cd "$(dirname "$0")/../../.."
root=$PWD
export BOT_BINARY=${BOT_BINARY:-$root/artifacts/publish/Bot}
[[ -x "$BOT_BINARY" ]] || scripts/publish.sh artifacts/publish >/dev/null

export WORK
WORK=$(mktemp -d /tmp/bot-chaos.XXXXXX)
chmod 755 "$WORK"
cleanup() {
  # Only the processes the drill started, by their ids (it records each one in $WORK/pids).
  if [[ -f "$WORK/pids" ]]; then
    while read -r child; do kill -9 "$child" 2>/dev/null || true; done <"$WORK/pids"
  fi
  scripts/pg.sh stop "$WORK/pg" || true
  [[ -n "${KEEP_LOGS:-}" ]] || rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "chaos: $1"; echo "0 passed, 1 failed"; exit 1; }
command -v node >/dev/null || fail "node is required"
dotnet build tests/FakeTelegram -c Release -v quiet -nologo >/dev/null || fail "building the fake Bot API failed"
export FAKE_DLL=$root/tests/FakeTelegram/bin/Release/net10.0/FakeTelegram.dll

free_ports() {
  local port found=()
  for port in $(seq "$1" $(($1 + 1000))); do
    if ! (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then found+=("$port"); fi
    [[ ${#found[@]} -eq $2 ]] && break
  done
  echo "${found[*]}"
}

export DB PG_DIR=$WORK/pg PG_PORT PORTS
DB=$(PG_OPTIONS="-c shared_buffers=256MB -c max_wal_size=2GB" scripts/pg.sh start "$PG_DIR")
PG_PORT=$(sed -n 4p "$PG_DIR/postmaster.pid")
PORTS=$(free_ports 28080 5)
Database__ConnectionString=$DB Telegram__BotToken=1:x DOTNET_ENVIRONMENT=Production \
  Secrets__Directory=/nonexistent Config__Directory=/nonexistent "$BOT_BINARY" migrate up >/dev/null

status=0
node tests/Load/chaos/drill.mjs || status=$?
if [[ $status -ne 0 ]]; then
  for name in bot-a bot-b fake; do
    echo "chaos: last lines of $name.log:"
    grep -av '^$' "$WORK/$name.log" | tail -n 8 || true
  done
fi
[[ $status -eq 0 ]]
