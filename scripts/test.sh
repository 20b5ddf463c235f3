#!/usr/bin/env bash
# Runs every test suite and ends with one line "N passed, N failed" over all of them.
#   scripts/test.sh           unit tests; Native AOT publish; integration tests against the published binary;
#                             the hostile input corpus and a reduced chaos drill (tests/Load) against it;
#                             delivery checks (chart, pipeline, Terraform, backup drill) when present
#   scripts/test.sh --quick   unit and integration tests against the JIT build, no publish, no delivery checks
# PostgreSQL clusters are started by the tests themselves (scripts/pg.sh) from the machine's server binaries.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

quick=false
[[ "${1:-}" == "--quick" ]] && quick=true
results=artifacts/test-results
rm -rf "$results"
mkdir -p "$results"
passed=0
failed=0

# Adds a suite's counts from its TRX file; a suite that produced none counts as one failure.
count_trx() {
  local trx="$results/$1.trx" p f
  if [[ ! -f "$trx" ]]; then
    echo "test: suite $1 produced no results" >&2
    failed=$((failed + 1))
    return
  fi
  read -r p f < <(grep -o '<Counters [^>]*' "$trx" | awk '{
    p = 0; f = 0
    for (i = 2; i <= NF; i++) {
      split($i, kv, "="); gsub(/"/, "", kv[2])
      if (kv[1] == "passed") p = kv[2]
      if (kv[1] ~ /^(failed|error|timeout|aborted)$/) f += kv[2]
    }
    print p, f }')
  echo "test: $1: $p passed, $f failed"
  passed=$((passed + p))
  failed=$((failed + f))
}

# Each test project is a Microsoft.Testing.Platform executable (global.json's test runner): TRX (counted below)
# and JUnit (the pipeline's test report) for every suite, Cobertura coverage for those that run the code
# in-process. The integration suite drives the bot as a separate process (the AOT binary), which in-process
# coverage cannot see, so it reports none.
run_suite() {
  local name=$1 project=$2 coverage=()
  if [[ "${3:-}" == coverage ]]; then
    coverage=(--coverlet --coverlet-output-format cobertura --coverlet-file-prefix "$name")
  fi
  dotnet test --project "$project" -c Release --no-build --no-progress --results-directory "$results" \
    --report-trx --report-trx-filename "$name.trx" \
    --report-xunit-junit --report-xunit-junit-filename "$name.junit.xml" "${coverage[@]}"
  count_trx "$name"
}

# The line coverage over the suites' Cobertura files (lines covered / lines valid), for the pipeline's coverage
# figure.
report_coverage() {
  local files=("$results"/*.cobertura.*.xml)
  [[ -f "${files[0]}" ]] || return 0
  grep -ho '<coverage [^>]*' "${files[@]}" | awk '{
    for (i = 2; i <= NF; i++) {
      split($i, kv, "="); gsub(/"/, "", kv[2])
      if (kv[1] == "lines-covered") c += kv[2]
      if (kv[1] == "lines-valid") v += kv[2]
    }
  } END { if (v > 0) printf "test: line coverage %.1f%% (%d of %d lines, unit and fake Bot API suites)\n", 100 * c / v, c, v }'
}

echo "test: restoring (locked mode: exactly the packages in the packages.lock.json files)"
if ! dotnet restore Bot.sln --locked-mode -v quiet -nologo; then
  echo "test: restore failed (a packages.lock.json out of date? run dotnet restore Bot.sln and commit them)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

echo "test: building"
if ! dotnet build Bot.sln -c Release --no-restore -v quiet -nologo; then
  echo "test: build failed" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

# The pipeline's lint:format job, here too, so that a formatting slip fails before it reaches the pipeline.
echo "test: dotnet format --verify-no-changes"
if dotnet format Bot.sln --verify-no-changes --no-restore --verbosity quiet; then
  echo "test: format: 1 passed, 0 failed"
  passed=$((passed + 1))
else
  echo "test: format: 0 passed, 1 failed (run dotnet format Bot.sln)" >&2
  failed=$((failed + 1))
fi

run_suite unit tests/Unit coverage
run_suite fake-telegram tests/FakeTelegram.Tests coverage
report_coverage

if [[ "$quick" == false ]]; then
  echo "test: publishing the Native AOT binary"
  if scripts/publish.sh artifacts/publish; then
    export BOT_BINARY=$PWD/artifacts/publish/Bot
    echo "test: integration tests run against $BOT_BINARY"
  else
    echo "test: AOT publish failed" >&2
    failed=$((failed + 1))
  fi
fi

if [[ "$quick" == true || -n "${BOT_BINARY:-}" ]]; then
  # The Mini App's browser tests drive Chromium through playwright-core, installed from its lock file.
  echo "test: installing the browser driver (tests/Browser, npm ci)"
  if ! (cd tests/Browser && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
    echo "test: npm ci in tests/Browser failed; the browser tests will fail" >&2
  fi
  run_suite integration tests/Integration
fi

# Adds the counts of a script that ends with "N passed, N failed"; no such line counts as one failure.
run_counted() {
  local name=$1 log="$results/$1.log" line
  shift
  "$@" 2>&1 | tee "$log"
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  if [[ -n "$line" ]]; then
    echo "test: $name: $line"
    passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
    failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
  else
    echo "test: $name printed no summary" >&2
    failed=$((failed + 1))
  fi
}

if [[ "$quick" == false && -n "${BOT_BINARY:-}" ]]; then
  echo "test: container image from the published binary"
  REBUILD=1 PUBLISH_DIR=artifacts/publish run_counted image tests/Delivery/image-proof.sh
  echo "test: migration drill against the previous release"
  run_counted migration-drill tests/Delivery/migration-drill.sh
  echo "test: hostile input corpus against the webhook"
  run_counted hostile tests/Load/hostile/run.sh
  echo "test: chaos drill, reduced size (two replicas, a synchronous standby; crashes, a stall, a poison update, a fault storm, skewed bursts, a failover)"
  UPDATES=${CHAOS_UPDATES:-4000} RATE=400 run_counted chaos tests/Load/chaos/run.sh
fi

if [[ "$quick" == false && -x tests/Delivery/run.sh ]]; then
  echo "test: delivery checks"
  run_counted delivery tests/Delivery/run.sh
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
