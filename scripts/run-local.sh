#!/usr/bin/env bash
# Runs the bot on this machine.
# - No Database__ConnectionString: starts a PostgreSQL cluster in .data/pg (kept between runs).
# - Applies migrations, then serves: public port 8080 (webhook), internal port 9090 (health).
# - No Telegram__BotToken: runs offline with placeholder credentials and prints a request to try.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_ENVIRONMENT=${DOTNET_ENVIRONMENT:-Development} DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if [[ -z "${Database__ConnectionString:-}" ]]; then
  Database__ConnectionString=$(scripts/pg.sh start .data/pg)
  export Database__ConnectionString
  trap 'scripts/pg.sh stop .data/pg' EXIT
  echo "run-local: PostgreSQL in .data/pg: $Database__ConnectionString"
fi

if [[ -z "${Telegram__BotToken:-}" ]]; then
  export Telegram__BotToken=000000000:offline-placeholder-token-not-valid
  export Telegram__WebhookSecret=${Telegram__WebhookSecret:-local-development-secret}
  export Telegram__Mode=Webhook
  cat <<MSG
run-local: no Telegram__BotToken, so the bot runs offline. Send it an update:
  curl -i -H 'X-Telegram-Bot-Api-Secret-Token: $Telegram__WebhookSecret' -H 'Content-Type: application/json' \\
    -d '{"update_id":1,"message":{"message_id":1,"date":0,"chat":{"id":1,"type":"private"},"text":"/start"}}' \\
    http://127.0.0.1:8080/telegram/webhook
  scripts/pg.sh psql .data/pg -c 'select update_id, kind, state from inbox'   (with a cluster in .data/pg)
MSG
fi

dotnet build src/Bot -v quiet -nologo
bot=src/Bot/bin/Debug/net10.0/Bot
"$bot" migrate up
"$bot" serve
