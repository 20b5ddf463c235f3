#!/usr/bin/env bash
# Native AOT publish of src/Bot to artifacts/publish, failing on any trim/AOT warning that does not come
# from a third-party assembly listed in README.md ("Third-party trim/AOT warnings").
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-artifacts/publish}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Locked mode: the linux-x64 graph and the ILCompiler packages exactly as src/Bot/packages.lock.json has them.
dotnet restore src/Bot -r linux-x64 -p:Configuration=Release --locked-mode -v quiet -nologo ||
  { echo "publish: locked restore failed (src/Bot/packages.lock.json out of date?)" >&2; exit 1; }
# dotnet publish's own status: with pipefail, "|| true" after the pipeline would replace it with true's.
set +e
dotnet publish src/Bot -c Release -r linux-x64 --no-restore -o "$out" -p:TrimmerSingleWarn=true 2>&1 | tee "$log" | grep -E "warning|error|->"
status=${PIPESTATUS[0]}
set -e
[[ $status -eq 0 ]] || { echo "publish: dotnet publish failed (exit $status)" >&2; exit 1; }
# Allowed: the per-assembly summaries of the packages justified in README.md.
allowed='Assembly '"'"'(Telegram\.Bot)'"'"' produced (trim|AOT analysis) warnings'
if grep -E "(warning|error) IL[0-9]{4}" "$log" | grep -vE "$allowed" | sort -u | grep .; then
  echo "publish: trim/AOT warnings above are not on the allowed list" >&2
  exit 1
fi
echo "publish: $(du -h "$out/Bot" | cut -f1) native binary at $out/Bot; third-party warnings: $(grep -cE "$allowed" "$log" || true) (allowed)"
