#!/usr/bin/env bash
# Runs the bot on this machine.
# - No Database__ConnectionString: starts a PostgreSQL cluster in .data/pg (kept between runs).
# - Applies migrations, then serves: public port 8080 (webhook), internal port 9090 (health).
# - No Telegram__BotToken: runs offline against the project's fake Bot API (tests/FakeTelegram, port 8081),
#   sends the bot one /start through its webhook and prints the reply's text as the fake received it;
#   scripts/chat.sh then lets you type more messages and read the answers.
# - With Telegram__BotToken: long-polls the real Telegram (Telegram__Mode=Polling unless you say otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_ENVIRONMENT=${DOTNET_ENVIRONMENT:-Development} DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -z "${own_pg:-}" ]] || scripts/pg.sh stop .data/pg
}
trap cleanup EXIT INT TERM

if [[ -z "${Database__ConnectionString:-}" ]]; then
  Database__ConnectionString=$(scripts/pg.sh start .data/pg)
  export Database__ConnectionString
  own_pg=1
  echo "run-local: PostgreSQL in .data/pg: $Database__ConnectionString"
fi

dotnet build src/Bot -v quiet -nologo
bot=src/Bot/bin/Debug/net10.0/Bot
"$bot" migrate up

if [[ -n "${Telegram__BotToken:-}" ]]; then
  export Telegram__Mode=${Telegram__Mode:-Polling}
  exec "$bot" serve
fi

# Offline: the fake Bot API stands in for Telegram, and the webhook is driven by hand.
export Telegram__BotToken=123456789:offline-placeholder-token-not-valid
export Telegram__WebhookSecret=${Telegram__WebhookSecret:-local-development-secret}
export Telegram__Mode=Webhook Telegram__ApiBaseUrl=http://127.0.0.1:8081
# The admin API (docs/requests.http) and the admin commands for user 1, whom scripts/chat.sh speaks as.
export Admin__Token=${Admin__Token:-local-development-admin-token} Admin__UserIds=${Admin__UserIds:-1}
dotnet build tests/FakeTelegram -v quiet -nologo
dotnet tests/FakeTelegram/bin/Debug/net10.0/FakeTelegram.dll --port 8081 | sed -u 's/^/[fake telegram] /' &
pids+=($!)
"$bot" serve &
pids+=($!)
for _ in $(seq 1 200); do curl -sf http://127.0.0.1:9090/readyz >/dev/null && break; sleep 0.1; done

# shellcheck source-path=SCRIPTDIR/..
source scripts/lib/local-chat.sh
since=$(last_call_seq)
post_text /start
echo "run-local: sent the bot /start through its webhook (answered $webhook_status)"
print_replies "$since" 15 | grep -v -E '^(seq|message) ' | sed 's/^/run-local: /'
cat <<MSG
run-local: that was the bot's reply, as the fake Bot API received it.
  Chat with it:  scripts/chat.sh   (in another terminal: type messages, read the replies)
  What it sent:  curl http://127.0.0.1:8081/_fake/calls
  The inbox:     scripts/pg.sh psql .data/pg -c 'select update_id, kind, state from inbox'
Ctrl+C stops the bot, the fake and the database.
MSG
wait "${pids[1]}"
