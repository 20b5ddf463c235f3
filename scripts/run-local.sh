#!/usr/bin/env bash
# Runs the bot on this machine.
# - No Database__ConnectionString: starts a PostgreSQL cluster in .data/pg (kept between runs).
# - Applies migrations, then serves: public port 8080 (webhook), internal port 9090 (health).
# - No Telegram__BotToken: runs offline against the project's fake Bot API (tests/FakeTelegram, port 8081),
#   sends the bot one /start through its webhook, and shows the reply arriving at the fake.
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
dotnet build tests/FakeTelegram -v quiet -nologo
dotnet tests/FakeTelegram/bin/Debug/net10.0/FakeTelegram.dll --port 8081 | sed -u 's/^/[fake telegram] /' &
pids+=($!)
"$bot" serve &
pids+=($!)
for _ in $(seq 1 200); do curl -sf http://127.0.0.1:9090/readyz >/dev/null && break; sleep 0.1; done

send() {
  curl -s -o /dev/null -w "run-local: webhook answered %{http_code}\n" \
    -H "X-Telegram-Bot-Api-Secret-Token: $Telegram__WebhookSecret" -H 'Content-Type: application/json' \
    -d "{\"update_id\":$1,\"message\":{\"message_id\":$1,\"date\":0,\"chat\":{\"id\":1,\"type\":\"private\",\"first_name\":\"You\"},\"from\":{\"id\":1,\"is_bot\":false,\"first_name\":\"You\"},\"text\":\"$2\"}}" \
    http://127.0.0.1:8080/telegram/webhook
}
send "$(date +%s)" /start
cat <<MSG
run-local: the bot took a /start through its webhook; its reply appears as a '[fake telegram] sendMessage' line.
  Send more:     curl -H 'X-Telegram-Bot-Api-Secret-Token: $Telegram__WebhookSecret' -H 'Content-Type: application/json' \\
                   -d '{"update_id":2,"message":{"message_id":2,"date":0,"chat":{"id":1,"type":"private"},"text":"/help"}}' \\
                   http://127.0.0.1:8080/telegram/webhook
  What it sent:  curl http://127.0.0.1:8081/_fake/calls
  The inbox:     scripts/pg.sh psql .data/pg -c 'select update_id, kind, state from inbox'
Ctrl+C stops the bot, the fake and the database.
MSG
wait "${pids[1]}"
