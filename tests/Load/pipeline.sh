#!/usr/bin/env bash
# Pipeline benchmark: webhook in -> reply sent at the fake Bot API (latency at a constant rate), and the
# sustained send rate under Telegram's limits. Uses the published Native AOT binary and a PostgreSQL cluster
# with fsync on.   tests/Load/pipeline.sh [RATE=500] [SECONDS=20] [SEND_SECONDS=60] [WARMUP_SECONDS=3]
# Prints the CPU time per handled update (the bot's and PostgreSQL's processes over the measured run, reply included).
# Side by side: BOT_BINARIES="before=/path/Bot after=artifacts/publish/Bot" ROUNDS=3 runs the latency part for
# each in turn in every round (one PostgreSQL cluster, the order reversed every other round) and compares their CPU per
# update; SEND_SECONDS=0 leaves the sending part out. The cluster gets every binary's migrations, so a change that is
# in the schema (a migration) is compared by running each binary in an invocation, and a cluster, of its own.
set -euo pipefail
cd "$(dirname "$0")/../.."
rate=${1:-500}
seconds=${2:-20}
send_seconds=${3:-60}
warmup_seconds=${4:-3}
bot=${BOT_BINARY:-artifacts/publish/Bot}
[[ -n "${BOT_BINARY:-}" || -n "${BOT_BINARIES:-}" || -x artifacts/publish/Bot ]] || scripts/publish.sh artifacts/publish >/dev/null
read -r -a named <<<"${BOT_BINARIES:-bot=$bot}"
binary_args=(--rounds "${ROUNDS:-1}")
for entry in "${named[@]}"; do
  path=${entry#*=}
  # The bot as shipped: its built-in settings (feature flags on, flood control counted on every message) sit next to it.
  [[ -f "$(dirname "$path")/appsettings.json" ]] || { echo "pipeline.sh: no appsettings.json next to $path" >&2; exit 1; }
  binary_args+=(--binary "$entry")
done
dotnet build tests/Load/Pipeline -c Release -v quiet -nologo >/dev/null

work=$(mktemp -d /tmp/bot-pipeline.XXXXXX)
chmod 755 "$work"
trap 'scripts/pg.sh stop "$work/pg" || true; rm -rf "$work"' EXIT
export Database__ConnectionString
# STATEMENTS=1: pg_stat_statements on, and the statements that cost most printed at the end (it costs some CPU itself).
pg_options="-c shared_buffers=256MB"
[[ "${STATEMENTS:-0}" == 1 ]] && pg_options+=" -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all -c pg_stat_statements.track_planning=on"
Database__ConnectionString=$(PG_OPTIONS="$pg_options" scripts/pg.sh start "$work/pg")
export DOTNET_ENVIRONMENT=Production Secrets__Directory=/nonexistent Config__Directory=/nonexistent
export Telegram__BotToken=123456789:pipeline-benchmark-token-not-real
for entry in "${named[@]}"; do "${entry#*=}" migrate up >/dev/null; done
dotnet tests/Load/Pipeline/bin/Release/net10.0/Pipeline.dll --pg-pid-file "$work/pg/postmaster.pid" "${binary_args[@]}" \
  --rate "$rate" --seconds "$seconds" --send-seconds "$send_seconds" --warmup-seconds "$warmup_seconds"
if [[ "${STATEMENTS:-0}" == 1 ]]; then
  echo
  echo "statements by total time (all runs, warm-up included):"
  scripts/pg.sh psql "$work/pg" -X -q -P pager=off -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" -c "
    SELECT calls, round(total_exec_time::numeric, 0) AS total_ms, round(mean_exec_time::numeric, 3) AS mean_ms,
           plans, round(total_plan_time::numeric, 0) AS plan_ms, rows,
           wal_records, round(wal_bytes / 1048576.0, 1) AS wal_mib, left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS statement
    FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT 25"
fi
