#!/usr/bin/env bash
# Pipeline benchmark: webhook in -> reply sent at the fake Bot API (latency at a constant rate), and the
# sustained send rate under Telegram's limits. Uses the published Native AOT binary and a PostgreSQL cluster
# with fsync on.   tests/Load/pipeline.sh [RATE=500] [SECONDS=20] [SEND_SECONDS=60] [WARMUP_SECONDS=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
rate=${1:-500}
seconds=${2:-20}
send_seconds=${3:-60}
warmup_seconds=${4:-3}
bot=${BOT_BINARY:-artifacts/publish/Bot}
[[ -n "${BOT_BINARY:-}" || -x artifacts/publish/Bot ]] || scripts/publish.sh artifacts/publish >/dev/null
# The bot as shipped: its built-in settings (feature flags on, flood control counted on every message) sit next to it.
[[ -f "$(dirname "$bot")/appsettings.json" ]] || { echo "pipeline.sh: no appsettings.json next to $bot" >&2; exit 1; }
dotnet build tests/Load/Pipeline -c Release -v quiet -nologo >/dev/null

work=$(mktemp -d /tmp/bot-pipeline.XXXXXX)
chmod 755 "$work"
trap 'scripts/pg.sh stop "$work/pg" || true; rm -rf "$work"' EXIT
export Database__ConnectionString
Database__ConnectionString=$(PG_OPTIONS="-c shared_buffers=256MB" scripts/pg.sh start "$work/pg")
export DOTNET_ENVIRONMENT=Production Secrets__Directory=/nonexistent Config__Directory=/nonexistent
export Telegram__BotToken=123456789:pipeline-benchmark-token-not-real
"$bot" migrate up >/dev/null
dotnet tests/Load/Pipeline/bin/Release/net10.0/Pipeline.dll --binary "$bot" \
  --rate "$rate" --seconds "$seconds" --send-seconds "$send_seconds" --warmup-seconds "$warmup_seconds"
