#!/usr/bin/env bash
# What the Native AOT binary holds: publishes src/Bot with ILC's size statistics (IlcGenerateMstatFile) to
# artifacts/size and prints the bytes of compiled types and methods per assembly and per namespace, and the binary's
# largest sections (tests/Load/Size reads the .mstat file; instantiations of framework generics are counted under
# the first type argument from outside the framework). A publish takes several minutes on 2 cores.
#   tests/Load/size.sh [--markdown] [--namespaces N]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=artifacts/size
dotnet publish src/Bot -c Release -r linux-x64 -o "$out" -p:IlcGenerateMstatFile=true -v quiet -nologo >/dev/null
mstat=src/Bot/obj/Release/net10.0/linux-x64/native/Bot.mstat
[[ -f "$mstat" ]] || { echo "size: no $mstat after the publish" >&2; exit 1; }
dotnet run -c Release --project tests/Load/Size -- "$mstat" --binary "$out/Bot" "$@"
