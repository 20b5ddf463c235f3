#!/usr/bin/env bash
# Backlog drain on the published Native AOT binary: CHATS chats with PER_CHAT updates each already in the inbox (as
# after an outage, when Telegram delivers what it kept), handled by one replica with the workers on, PostgreSQL with
# fsync on, replies queued for a Bot API that is not there ("handled": the inbox row is done and its reply is in the
# outbox), flood control off. A chat's updates go one at a time, so a few busy chats are the slow case: this is
# what the claim's linger (Processing:ClaimLingerMilliseconds) must not slow down. Prints, for each linger in
# LINGERS (milliseconds, default "0 10"), the time from the first /readyz 200 to an empty queue and the updates
# handled per second; the runs alternate, ROUNDS (2) of each.
#   tests/Load/backlog.sh [CHATS=4] [PER_CHAT=1500]
set -euo pipefail
cd "$(dirname "$0")/../.."
chats=${1:-4}
per_chat=${2:-1500}
rounds=${ROUNDS:-2}
read -r -a lingers <<<"${LINGERS:-0 10}"
bot=${BOT_BINARY:-artifacts/publish/Bot}
[[ -x "$bot" ]] || scripts/publish.sh artifacts/publish >/dev/null

work=$(mktemp -d /tmp/bot-backlog.XXXXXX)
chmod 755 "$work"
pid=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; fi
  scripts/pg.sh stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=scripts/lib/ports.sh
source scripts/lib/ports.sh

public_port=$(free_port 18480)
internal_port=$(free_port $((public_port + 1)))
export Database__ConnectionString
Database__ConnectionString=$(PG_OPTIONS="-c shared_buffers=256MB -c max_wal_size=2GB" scripts/pg.sh start "$work/pg")
export Telegram__BotToken=123456789:backlog-test-token-not-real-xxxxxxxx Telegram__WebhookSecret=backlog-webhook-secret-0123456789
export DOTNET_ENVIRONMENT=Production Hosting__BindAddress=127.0.0.1 Shutdown__DrainDelaySeconds=0
export Hosting__PublicPort=$public_port Hosting__InternalPort=$internal_port
export Logging__LogLevel__Default=Warning Secrets__Directory=/nonexistent Config__Directory=/nonexistent
export Telegram__ApiBaseUrl=http://127.0.0.1:9 FeatureFlags__FloodControl=false
"$bot" migrate up >/dev/null
sql() { scripts/pg.sh psql "$work/pg" -XAtqc "$1"; }
now_ms() { date +%s%3N; }

echo "backlog: $chats chats x $per_chat updates, one replica, lingers: ${lingers[*]} ms, $rounds rounds"
results=()
base=2000000000
for ((round = 1; round <= rounds; round++)); do
  for linger in "${lingers[@]}"; do
    base=$((base + 10000000))
    # Updates of a chat in update_id order, the chats interleaved, as Telegram delivers them.
    sql "INSERT INTO inbox (update_id, chat_id, kind, payload)
         SELECT $base + n, 5000 + n % $chats, 'message',
                json_build_object('update_id', $base + n, 'message', json_build_object('message_id', n, 'date', 1700000000,
                  'chat', json_build_object('id', 5000 + n % $chats, 'type', 'private', 'first_name', 'Load'),
                  'from', json_build_object('id', 5000 + n % $chats, 'is_bot', false, 'first_name', 'Load'),
                  'text', 'load ' || n))::text
         FROM generate_series(0, $((chats * per_chat - 1))) n"
    Processing__ClaimLingerMilliseconds=$linger "$bot" >"$work/bot.log" 2>&1 &
    pid=$!
    until curl -fs "http://127.0.0.1:$internal_port/readyz" >/dev/null 2>&1; do sleep 0.005; done
    started=$(now_ms)
    until [[ $(sql "SELECT count(*) FROM inbox WHERE state IN ('pending', 'processing')") == 0 ]]; do sleep 0.05; done
    elapsed=$(($(now_ms) - started))
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
    done_rows=$(sql "SELECT count(*) FROM inbox WHERE update_id >= $base AND update_id < $((base + chats * per_chat)) AND state = 'done'")
    [[ "$done_rows" == $((chats * per_chat)) ]] || { echo "backlog: $done_rows of $((chats * per_chat)) updates done" >&2; exit 1; }
    rate=$(awk -v n="$done_rows" -v ms="$elapsed" 'BEGIN { printf "%.0f", n * 1000 / ms }')
    printf 'round %d, linger %3s ms: %6d updates in %6d ms, %5s updates/s\n' "$round" "$linger" "$done_rows" "$elapsed" "$rate"
    results+=("$linger $rate")
  done
done
echo
for linger in "${lingers[@]}"; do
  printf '%s\n' "${results[@]}" | awk -v l="$linger" '$1 == l { r = r (r ? ", " : "") $2 } END { printf "linger %3s ms: %s updates/s\n", l, r }'
done
