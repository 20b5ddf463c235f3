#!/usr/bin/env bash
# Chaos drill: two replicas of the bot, the fake Bot API (tests/FakeTelegram, as a process, Telegram's limits
# enforced with the overall one raised to SEND_RATE) and PostgreSQL with fsync on as a primary and a streaming
# standby that every commit waits for (synchronous_standby_names = '*': acknowledged means on both), all on
# loopback. The replicas' connection string names both servers with Target Session Attributes=read-write, as a
# -rw service would follow the primary. Six phases, one after the other, each on its own update ids and chats
# (see drill.mjs):
#   crash     the leader SIGKILLed at 30 % and restarted; PostgreSQL SIGKILLed at 60 % (postmaster and every
#             backend: crash recovery) and restarted
#   stall     the leader SIGSTOPped for STALL seconds (longer than a lease), then SIGCONTed
#   poison    one update crashes every replica that handles it (FaultInjection); crashed replicas are restarted
#   storm     429s with retry_after, 5xx, timeouts and slow answers from the fake around a leader handover
#   skew      saturating bursts: normal chats alone; beside one hot chat with a backlog; again after 20 s of quiet
#             with an ANALYZE inbox; the normal chats' reply latency of each
#   failover  the primary SIGKILLed, the standby promoted; the replicas carry on against it
# Prints a table per phase and ends with "N passed, N failed"; exits non-zero on any loss, double handling,
# duplicates beyond the in-flight bound, limit violation or unexpected exit.
#   UPDATES=4000 RATE=400 tests/Load/chaos/run.sh     (the size scripts/test.sh runs, about 3 minutes)
#   UPDATES=100000 tests/Load/chaos/run.sh            (RATE defaults to 200/s, the steady state on 2 cores)
# UPDATES is split over the paced phases (crash 35 %, stall 15 %, poison 10 %, storm 15 %, failover 15 %), each
# at least long enough for its disruption; the skew bursts are SKEW normal updates each (default UPDATES/20, at
# least 1000) and HOT updates of the hot chat (default SKEW). Also: SEND_RATE (500), MAX_IN_FLIGHT (32), STALL
# (8 s), STALL_TAKEOVER (help | strict, see drill.mjs), STORM_RATE (faults per second, 40), QUIET (20 s),
# CONCURRENCY (requests in flight in a burst, 128), PHASES (a comma-separated subset, e.g. PHASES=poison,storm),
# BOT_BINARY, KEEP_LOGS=1.
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
    while read -r child; do kill -CONT "$child" 2>/dev/null || true; kill -9 "$child" 2>/dev/null || true; done <"$WORK/pids"
  fi
  scripts/pg.sh stop "$WORK/standby" 2>/dev/null || true
  scripts/pg.sh stop "$WORK/pg" 2>/dev/null || true
  if [[ -n "${KEEP_LOGS:-}" ]]; then echo "chaos: logs kept in $WORK"; else rm -rf "$WORK"; fi
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

# The primary, migrated, then its standby from a base backup; only then do commits start to wait for it.
export PG_DIR=$WORK/pg SB_DIR=$WORK/standby PG_PORT SB_PORT PORTS DB
export PG_OPTIONS="-c shared_buffers=256MB -c max_wal_size=2GB"
primary=$(scripts/pg.sh start "$PG_DIR") || fail "PostgreSQL did not start"
PG_PORT=$(sed -n 4p "$PG_DIR/postmaster.pid")
Database__ConnectionString=$primary Telegram__BotToken=1:x DOTNET_ENVIRONMENT=Production \
  Secrets__Directory=/nonexistent Config__Directory=/nonexistent "$BOT_BINARY" migrate up >/dev/null || fail "migrations failed"
scripts/pg.sh standby "$SB_DIR" "$PG_DIR" >/dev/null || fail "the standby did not start"
SB_PORT=$(sed -n 4p "$SB_DIR/postmaster.pid")
scripts/pg.sh psql "$PG_DIR" -Atq -c "ALTER SYSTEM SET synchronous_standby_names = '*'" -c "SELECT pg_reload_conf()" >/dev/null
for _ in $(seq 1 100); do
  [[ $(scripts/pg.sh psql "$PG_DIR" -Atc "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'") == 1 ]] && break
  sleep 0.1
done
[[ $(scripts/pg.sh psql "$PG_DIR" -Atc "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'") == 1 ]] ||
  fail "the standby is not a synchronous standby"
# Both servers, the writable one chosen; a host seen down is looked at again after 1 s (Npgsql's default is 10 s).
DB="Host=127.0.0.1:$PG_PORT,127.0.0.1:$SB_PORT;Username=postgres;Database=bot;Target Session Attributes=read-write;Host Recheck Seconds=1"
PORTS=$(free_ports 28080 5)

status=0
node tests/Load/chaos/drill.mjs || status=$?
[[ $status -eq 0 ]]
