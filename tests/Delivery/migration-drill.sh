#!/usr/bin/env bash
# Migration drill (expand/contract): the previous release must keep working on the schema the current release
# expands, before a rollout finishes and after a rollback.
#   1. The previous release (tests/Delivery/previous-release, or PREVIOUS_REF) is built from
#      git, and its own integration suite runs with every `Bot migrate ...` done by the current binary and
#      everything else (serve, the commands it tests) by the previous binary: its code on the expanded schema.
#   2. On a database with data: current `migrate up`; the previous release serves and stores updates; current
#      `migrate down` one step (the rollback of the schema) and it still serves; `migrate up` again; nothing lost.
# Uses BOT_BINARY (the current binary, default artifacts/publish/Bot). Prints one line per check and
# "N passed, N failed". A clone without the previous release in its history (shallow) skips the drill and says so.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
current=$(readlink -f "${BOT_BINARY:-artifacts/publish/Bot}")
[[ -x "$current" ]] || { echo "migration-drill: no current binary at $current (run scripts/publish.sh)" >&2; exit 1; }
# The previous release: PREVIOUS_REF, else the commit recorded in tests/Delivery/previous-release, else the
# commit before the newest migration was added (right only for a release that adds a single migration).
recorded=$(grep -v '^#' tests/Delivery/previous-release 2>/dev/null | head -n 1 || true)
newest=$(git log -n 1 --diff-filter=A --format=%H -- 'src/Bot/Migrations/Sql/*.up.sql' 'src/Bot/Features/*/Migrations/*.up.sql')
previous=${PREVIOUS_REF:-${recorded:-$newest^}}
if ! git rev-parse --verify --quiet "$previous^{commit}" >/dev/null; then
  echo "migration-drill: the previous release ($previous) is not in this clone's history; skipped"
  echo "0 passed, 0 failed"
  exit 0
fi

work=$(mktemp -d /tmp/bot-drill.XXXXXX)
chmod 755 "$work"
passed=0
failed=0
cleanup() {
  scripts/pg.sh stop "$work/pg" >/dev/null 2>&1 || true
  [[ -z "${bot_pid:-}" ]] || kill "$bot_pid" 2>/dev/null || true
  git worktree remove --force "$work/previous" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
check() {
  local name=$1
  shift
  if "$@" >"$work/check.log" 2>&1; then
    echo "ok    $name"
    passed=$((passed + 1))
  else
    echo "FAIL  $name"
    sed 's/^/      | /' "$work/check.log" | tail -n 30
    failed=$((failed + 1))
  fi
}

echo "migration-drill: previous release $(git rev-parse --short "$previous"), current binary $current"
git worktree add --detach --quiet "$work/previous" "$previous"
(cd "$work/previous" && dotnet build tests/Integration -c Release -v quiet -nologo) >"$work/build.log" 2>&1 ||
  { cat "$work/build.log" >&2; echo "0 passed, 1 failed"; exit 1; }
old="$work/previous/src/Bot/bin/Release/net10.0/Bot"
cat >"$work/bot-mixed" <<SCRIPT
#!/bin/sh
# Schema changes by the current release, everything else by the previous one.
if [ "\$1" = migrate ]; then exec "$current" "\$@"; else exec "$old" "\$@"; fi
SCRIPT
chmod +x "$work/bot-mixed"

# Runs the previous release's integration suite from its own tree, so that its global.json decides how
# `dotnet test` runs: on Microsoft.Testing.Platform when it names that runner, else on VSTest (releases before
# the move). Arguments: the TRX file's name, the results directory, an optional VSTest-syntax filter.
previous_tests() {
  local trx=$1 dir=$2 filter=${3:-} args
  if grep -q '"Microsoft.Testing.Platform"' "$work/previous/global.json" 2>/dev/null; then
    args=(--project tests/Integration --no-progress --report-trx --report-trx-filename "$trx")
  else
    args=(tests/Integration --logger "trx;LogFileName=$trx")
  fi
  [[ -z "$filter" ]] || args+=(--filter "$filter")
  (cd "$work/previous" && BOT_BINARY="$work/bot-mixed" dotnet test "${args[@]}" -c Release --no-build --results-directory "$dir")
}

previous_suite() {
  previous_tests previous.trx "$work/results" && return 0
  # The previous release's timing tests run on its JIT build here (each crash test restarts it cold), where they
  # are slower than on the AOT binary they were written for: a failed test runs once more, alone. A schema the
  # previous release cannot use fails it both times; a test that passes alone is named, not hidden.
  local failed filter
  failed=$(grep -oP 'testName="\K[^"(]+(?=[^"]*"[^>]*outcome="Failed")' "$work/results/previous.trx" | sort -u)
  [[ -n "$failed" ]] || return 1
  filter=$(awk '{print "FullyQualifiedName~" $0}' <<<"$failed" | paste -sd '|')
  echo "rerunning alone: $failed"
  previous_tests previous-rerun.trx "$work/results-rerun" "$filter" || return 1
  echo "passed alone on the rerun: $failed"
}
check "the previous release's integration suite passes on the current release's schema" previous_suite
grep -o '<Counters [^>]*' "$work"/results/*.trx 2>/dev/null | grep -o 'total="[0-9]*"\|passed="[0-9]*"' | tr '\n' ' ' | sed 's/^/      | previous suite: /; s/$/\n/'
grep -h '^passed alone on the rerun' "$work/check.log" 2>/dev/null | sed 's/^/      | /' || true

# Step 2: up, down one step, up again, with the previous release serving throughout.
export Database__ConnectionString
Database__ConnectionString=$(scripts/pg.sh start "$work/pg")
export Telegram__BotToken=123456789:migration-drill-token-not-real-xxx Telegram__WebhookSecret=migration-drill-secret-0123
export DOTNET_ENVIRONMENT=Production Hosting__BindAddress=127.0.0.1 Hosting__PublicPort=18080 Hosting__InternalPort=19090
export Shutdown__DrainDelaySeconds=0 Secrets__Directory=/nonexistent Config__Directory=/nonexistent Telegram__ApiBaseUrl=http://127.0.0.1:9
# Numbered across the infrastructure's migrations and the features' own (src/Bot/Features/<Feature>/Migrations).
latest=$(find src/Bot/Migrations/Sql src/Bot/Features/*/Migrations -name '*.up.sql' 2>/dev/null | wc -l)

post() {
  curl -sf -o /dev/null -H "X-Telegram-Bot-Api-Secret-Token: $Telegram__WebhookSecret" -H 'Content-Type: application/json' \
    -d "{\"update_id\":$1,\"message\":{\"message_id\":$1,\"date\":0,\"chat\":{\"id\":1,\"type\":\"private\"},\"text\":\"drill\"}}" \
    http://127.0.0.1:18080/telegram/webhook
}
# The previous release serves, takes one update, and stops.
previous_serves_and_stores() {
  "$old" serve >"$work/previous-serve.log" 2>&1 &
  bot_pid=$!
  local ready=
  for _ in $(seq 1 100); do
    if curl -sf -o /dev/null http://127.0.0.1:19090/readyz; then ready=1; break; fi
    sleep 0.1
  done
  [[ -n "$ready" ]] && post "$1"
  local status=$?
  kill "$bot_pid" 2>/dev/null || true
  wait "$bot_pid" 2>/dev/null || true
  bot_pid=
  [[ $status -eq 0 ]] || cat "$work/previous-serve.log"
  return $status
}
schema_and_rows() {
  local schema rows
  schema=$(scripts/pg.sh psql "$work/pg" -Atc 'SELECT max(version) FROM schema_migrations')
  rows=$(scripts/pg.sh psql "$work/pg" -Atc 'SELECT count(*) FROM inbox')
  echo "schema $schema, inbox rows $rows"
  [[ "$schema" == "$1" && "$rows" == "$2" ]]
}
current_refuses_to_serve() { ! "$current" serve; }

check "current migrate up to $latest" "$current" migrate up
check "schema at $latest" schema_and_rows "$latest" 0
check "previous release serves on it and stores an update" previous_serves_and_stores 1
check "current migrate down one step (schema rollback)" "$current" migrate down
check "schema at $((latest - 1)), the update kept" schema_and_rows "$((latest - 1))" 1
check "current release refuses to serve on the older schema" current_refuses_to_serve
check "previous release still serves and stores an update" previous_serves_and_stores 2
check "current migrate up again" "$current" migrate up
check "schema at $latest, both updates kept" schema_and_rows "$latest" 2

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
