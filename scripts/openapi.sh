#!/usr/bin/env bash
# Writes the admin API's OpenAPI document (src/Bot/Admin/openapi.v1.json, served as is by the binary) from the
# routes, as OpenApiDocumentTests generates it. Run after changing an admin route, then commit the file.
set -euo pipefail
cd "$(dirname "$0")/.."
target="$PWD/src/Bot/Admin/openapi.v1.json"
[[ -f "$target" ]] || echo '{}' > "$target"
dotnet build tests/Unit -c Release -v quiet -nologo | { grep -E " error " || true; }
BOT_WRITE_OPENAPI="$target" dotnet test --project tests/Unit -c Release --no-build --filter-method '*The_served_document_is_what_the_routes_generate' >/dev/null || true
# The binary embeds the file: build again, and the test must pass with it.
dotnet build tests/Unit -c Release -v quiet -nologo | { grep -E " error " || true; }
dotnet test --project tests/Unit -c Release --no-build --filter-class '*OpenApiDocumentTests' | tail -4
