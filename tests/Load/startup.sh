#!/usr/bin/env bash
# Start-up benchmark: process start to the first /readyz 200, Native AOT binary vs the same app under JIT
# (dotnet Bot.dll), median of RUNS (default 10) each, against a local PostgreSQL. Also prints the binary size.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-10}
[[ -x artifacts/publish/Bot ]] || scripts/publish.sh artifacts/publish >/dev/null
dotnet build src/Bot -c Release -v quiet -nologo >/dev/null
dotnet build tests/Load/Startup -c Release -v quiet -nologo >/dev/null

work=$(mktemp -d /tmp/bot-startup.XXXXXX)
chmod 755 "$work"
trap 'scripts/pg.sh stop "$work/pg" || true; rm -rf "$work"' EXIT
export Database__ConnectionString
Database__ConnectionString="$(scripts/pg.sh start "$work/pg")${DB_EXTRA:-}"
export Telegram__BotToken=123456789:startup-bench-token-not-real-xxxxxx Telegram__WebhookSecret=startup-bench-secret-0123
export DOTNET_ENVIRONMENT=Production Shutdown__DrainDelaySeconds=0 Secrets__Directory=/nonexistent Config__Directory=/nonexistent
artifacts/publish/Bot migrate up >/dev/null

echo "binary: $(stat -c %s artifacts/publish/Bot | awk '{ printf "%.1f MiB", $1 / 1048576 }') (artifacts/publish/Bot)"
dotnet tests/Load/Startup/bin/Release/net10.0/Startup.dll --runs "$runs" \
  "aot=artifacts/publish/Bot" "jit=dotnet src/Bot/bin/Release/net10.0/Bot.dll"
