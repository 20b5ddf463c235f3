#!/usr/bin/env bash
# Hostile input corpus against the webhook: the published Native AOT binary, a throwaway PostgreSQL cluster,
# raw HTTP/1.1 over loopback (tests/Load/hostile/corpus.mjs). One line per case, then "N passed, N failed".
# Afterwards the process must still be alive and the inbox must hold exactly the updates that were accepted.
#   tests/Load/hostile/run.sh
# BOT_BINARY picks the binary (default artifacts/publish/Bot, published when missing).
set -euo pipefail
cd "$(dirname "$0")/../../.."
root=$PWD
bot=${BOT_BINARY:-$root/artifacts/publish/Bot}
if [[ -z "${BOT_BINARY:-}" && ! -x "$bot" ]]; then scripts/publish.sh artifacts/publish >/dev/null; fi

work=$(mktemp -d /tmp/bot-hostile.XXXXXX)
chmod 755 "$work"
pid=
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; fi
  scripts/pg.sh stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "hostile: $1"; echo "0 passed, 1 failed"; exit 1; }
command -v node >/dev/null || fail "node is required"

# shellcheck source=scripts/lib/ports.sh
source scripts/lib/ports.sh

export Database__ConnectionString
Database__ConnectionString=$(scripts/pg.sh start "$work/pg")
export WEBHOOK_SECRET=hostile-corpus-webhook-secret-0123456789
export Telegram__BotToken=123456789:hostile-corpus-token-not-real-xxxxxxx Telegram__WebhookSecret=$WEBHOOK_SECRET
export ADMIN_TOKEN=hostile-corpus-admin-write-token-0123 ADMIN_READ_TOKEN=hostile-corpus-admin-read-token-01234
export Admin__Token=$ADMIN_TOKEN Admin__ReadToken=$ADMIN_READ_TOKEN
# The corpus fails authentication hundreds of times from one address on purpose; the throttle has its own tests.
export Admin__FailedAuthenticationsPerMinute=10000 MiniApp__FailedAuthenticationsPerMinute=10000 MiniApp__RequestsPerMinute=10000
export DOTNET_ENVIRONMENT=Production Hosting__BindAddress=127.0.0.1 Shutdown__DrainDelaySeconds=0
export Secrets__Directory=/nonexistent Config__Directory=/nonexistent
# Processing on: every accepted odd payload must be handled or dead-lettered with a reason, never crash a worker.
# Nothing listens at the Bot API address, so replies stay queued.
export Processing__Enabled=true Telegram__ApiBaseUrl=http://127.0.0.1:9
# The GC heap under the development chart's memory limit (192Mi; .NET takes 75 % of a container's limit): a
# burst of 1 MiB updates must meet 503s from the ingest budget, not an out-of-memory crash.
export DOTNET_GCHeapHardLimit=0x9000000
# A short commit timeout keeps the database-down case quick (503 after twice this).
export Ingest__CommitTimeoutSeconds=2
export PUBLIC_PORT INTERNAL_PORT PG_DIR=$work/pg
PUBLIC_PORT=$(free_port 18080)
INTERNAL_PORT=$(free_port $((PUBLIC_PORT + 1)))
export Hosting__PublicPort=$PUBLIC_PORT Hosting__InternalPort=$INTERNAL_PORT

"$bot" migrate up >/dev/null
"$bot" >"$work/bot.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$INTERNAL_PORT/readyz" >/dev/null && break; sleep 0.05; done
if ! curl -sf "http://127.0.0.1:$INTERNAL_PORT/readyz" >/dev/null; then
  tail -n 20 "$work/bot.log"
  fail "the bot did not become ready"
fi

status=0
BOT_PID=$pid BOT_LOG=$work/bot.log node tests/Load/hostile/corpus.mjs || status=$?
if [[ $status -ne 0 ]]; then
  echo "hostile: last lines of the bot's log:"
  tail -n 15 "$work/bot.log" | cut -c1-400
fi
[[ $status -eq 0 ]]
