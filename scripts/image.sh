#!/usr/bin/env bash
# Builds the bot's container image without a Docker engine or a registry: a rootfs assembled from scratch
# with the same contract as the Dockerfile's final stage (mcr.microsoft.com/dotnet/runtime-deps chiseled:
# the native libraries a self-contained .NET binary needs, CA certificates, a non-root user, no shell, no
# package manager), committed with buildah and exported as an OCI archive. See docs/image.md.
#
#   scripts/image.sh [PUBLISH_DIR] [IMAGE_REF]
#     PUBLISH_DIR  output of scripts/publish.sh (default artifacts/publish): Bot and appsettings*.json
#     IMAGE_REF    image name in local containers-storage (default localhost/bot:local)
#   Environment: VERSION (0.0.0-dev), REVISION (git HEAD), CREATED (now, UTC), SOURCE (the Dockerfile's),
#                IMAGE_ARCHIVE (artifacts/image/bot.oci.tar; empty: no export),
#                IMAGE_COMPRESSION (zstd, or gzip for runtimes older than containerd 1.5 and Docker Engine 23),
#                IMAGE_COMPRESSION_LEVEL (19 for zstd, 6 for gzip).
#
# Prints the image id, its uncompressed size and the compressed layer size of the exported archive (the layer as a
# registry stores it when the pipeline pushes it with the same compression).
set -euo pipefail
cd "$(dirname "$0")/.."

publish_dir=${1:-artifacts/publish}
image_ref=${2:-localhost/bot:local}
archive=${IMAGE_ARCHIVE-artifacts/image/bot.oci.tar}
compression=${IMAGE_COMPRESSION:-zstd}
case "$compression" in
  zstd) compression_level=${IMAGE_COMPRESSION_LEVEL:-19} ;;
  gzip) compression_level=${IMAGE_COMPRESSION_LEVEL:-6} ;;
  *) echo "image: IMAGE_COMPRESSION must be zstd or gzip, not '$compression'" >&2; exit 2 ;;
esac
version=${VERSION:-0.0.0-dev}
revision=${REVISION:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
created=${CREATED:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
source_url=${SOURCE:-https://gitlab.example.com/community/bot}
# The chiseled images' non-root convention; numeric in the config so that runAsNonRoot can verify it.
app_uid=65532

log() { echo "image: $*" >&2; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1000000 }'; }
die() { echo "image: $*" >&2; exit 1; }
# A command that fails under set -e says where, instead of ending the script silently.
set -E
trap 'echo "image: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

# --- tools -------------------------------------------------------------------------------------------------
ensure_tools() {
  local missing=() tool
  for tool in buildah podman skopeo umoci runc jq; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  [[ $(id -u) -eq 0 ]] || die "missing ${missing[*]}; install them (apt-get install buildah podman skopeo umoci runc jq)"
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends buildah podman skopeo umoci runc jq >/dev/null
}

# --- input -------------------------------------------------------------------------------------------------
[[ -x "$publish_dir/Bot" ]] ||
  die "no executable $publish_dir/Bot: run scripts/publish.sh $publish_dir first"
if [[ -d src ]] && [[ -n "$(find src -type f -newer "$publish_dir/Bot" -not -path '*/bin/*' -not -path '*/obj/*' -print -quit)" ]]; then
  log "warning: files under src/ are newer than $publish_dir/Bot (the image carries the older binary)"
fi
[[ "$(uname -m)" == x86_64 ]] || die "the bot is published for linux-x64; this host is $(uname -m)"
ensure_tools

work=$(mktemp -d /tmp/bot-image.XXXXXX)
container=""
cleanup() {
  if [[ -n "$container" ]]; then buildah rm "$container" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
root="$work/rootfs"
mkdir -m 0755 "$root"

# --- rootfs ------------------------------------------------------------------------------------------------
# Paths are copied as they are on this (merged-/usr) host: a symlink in a path (/lib -> usr/lib, the loader's
# /lib64/ld-linux-x86-64.so.2 -> ...) is recreated as the same symlink, and files are only ever written at
# their resolved path, so nothing is written through a link that points outside the rootfs.
add_dir() {
  local dir=$1 parent name
  [[ "$dir" == / ]] && return 0
  add_dir "$(dirname "$dir")"
  parent=$(readlink -f "$(dirname "$dir")")
  name=$(basename "$dir")
  if [[ -L "$dir" ]]; then
    [[ -L "$root$parent/$name" ]] || ln -s "$(readlink "$dir")" "$root$parent/$name"
    add_dir "$(readlink -f "$dir")"
  elif [[ ! -d "$root$parent/$name" ]]; then
    mkdir -m 0755 "$root$parent/$name"
  fi
}

add_file() {
  local file=$1 parent name target
  add_dir "$(dirname "$file")"
  parent=$(readlink -f "$(dirname "$file")")
  name=$(basename "$file")
  if [[ -L "$file" ]]; then
    target=$(readlink "$file")
    [[ -L "$root$parent/$name" ]] || ln -s "$target" "$root$parent/$name"
    [[ "$target" == /* ]] || target="$parent/$target"
    add_file "$target"
  elif [[ ! -e "$root$parent/$name" ]]; then
    cp --preserve=mode "$file" "$root$parent/$name"
  fi
}

# The shared objects a binary needs, as ldd resolves them on this host (vdso excluded; "not found" fails).
needed_libs() {
  local out
  out=$(ldd "$1") || die "ldd $1 failed"
  if grep -q 'not found' <<<"$out"; then die "ldd $1: $(grep 'not found' <<<"$out" | tr -s ' \t' ' ')"; fi
  awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$out"
}

# awk reads ldconfig's whole list: leaving at the first match closed the pipe while ldconfig was still writing, and
# its SIGPIPE failed the pipeline (pipefail) and with it the script, without a word.
soname_path() {
  ldconfig -p | awk -v name="$1" '$1 == name && /x86-64/ && !found { print $NF; found = 1 }'
}

log "assembling the rootfs from $publish_dir"
# /app: the binary and its settings (no debug symbols, no other publish output), read-only for the app user.
mkdir -m 0755 "$root/app"
install -m 0755 "$publish_dir/Bot" "$root/app/Bot"
settings=("$publish_dir"/appsettings*.json)
[[ -e "${settings[0]}" ]] || die "no appsettings*.json in $publish_dir"
install -m 0644 "${settings[@]}" "$root/app/"

# Libraries: exactly what ldd lists for the binary, plus OpenSSL 3 (dlopen'ed by the runtime for TLS to the
# Bot API and PostgreSQL) and what OpenSSL itself needs.
declare -A libs=()
while read -r lib; do libs[$lib]=1; done < <(needed_libs "$root/app/Bot")
for soname in libssl.so.3 libcrypto.so.3; do
  path=$(soname_path "$soname")
  [[ -n "$path" ]] || die "$soname is not installed on this host (apt-get install libssl3)"
  libs[$path]=1
  while read -r lib; do libs[$lib]=1; done < <(needed_libs "$path")
done
for lib in "${!libs[@]}"; do add_file "$lib"; done

# Licences of the packages the libraries come from, as the chiseled images keep them.
declare -A packages=([ca-certificates]=1)
for lib in "${!libs[@]}"; do
  pkg=$({ dpkg -S "$lib" || dpkg -S "$(readlink -f "$lib")"; } 2>/dev/null | head -n1 | cut -d: -f1) || true
  [[ -n "$pkg" ]] && packages[$pkg]=1
done
for pkg in "${!packages[@]}"; do
  if [[ -f "/usr/share/doc/$pkg/copyright" ]]; then add_file "/usr/share/doc/$pkg/copyright"; fi
done

# CA bundle: .NET reads OpenSSL's default locations and falls back to every file in /etc/ssl/certs.
add_file /etc/ssl/certs/ca-certificates.crt

# Users: root and the app user, neither with a login shell (there is none).
cat >"$root/etc/passwd" <<EOF
root:x:0:0:root:/root:/usr/sbin/nologin
app:x:$app_uid:$app_uid:app:/home/app:/usr/sbin/nologin
EOF
cat >"$root/etc/group" <<EOF
root:x:0:
app:x:$app_uid:
EOF
chmod 0644 "$root/etc/passwd" "$root/etc/group"
mkdir -m 0755 "$root/home"
mkdir -m 0750 "$root/home/app"
chown "$app_uid:$app_uid" "$root/home/app"
mkdir -m 0700 "$root/root"
mkdir "$root/tmp"
chmod 1777 "$root/tmp"

# The contract: no shell, no package manager, nothing setuid.
for forbidden in bin/sh usr/bin/sh bin/bash usr/bin/bash usr/bin/dpkg usr/bin/apt usr/bin/apt-get; do
  [[ ! -e "$root/$forbidden" ]] || die "rootfs has /$forbidden"
done
[[ -z "$(find "$root" -perm /6000 -type f -print -quit)" ]] || die "rootfs has setuid/setgid files"
log "rootfs: $(find "$root" -type f | wc -l) files, $(du -sh --apparent-size "$root" | cut -f1)"

# --- image -------------------------------------------------------------------------------------------------
log "building $image_ref"
old_id=$(podman image inspect --format '{{.Id}}' "$image_ref" 2>/dev/null || true)
container=$(buildah from --quiet scratch)
# One layer from a tar, so that ownership and modes are exactly the rootfs's (buildah copy would chown all to 0:0).
tar --create --file "$work/layer.tar" --directory "$root" --numeric-owner --sort=name .
buildah add --quiet "$container" "$work/layer.tar" / >/dev/null
buildah config \
  --os linux --arch amd64 \
  --workingdir /app \
  --env ASPNETCORE_HTTP_PORTS= \
  --env DOTNET_RUNNING_IN_CONTAINER=true \
  --port 8080 --port 9090 \
  --user "$app_uid:$app_uid" \
  --entrypoint '["/app/Bot"]' \
  --cmd '["serve"]' \
  --label org.opencontainers.image.title=bot \
  --label "org.opencontainers.image.description=Telegram community gatekeeper and announcements bot (Native AOT)" \
  --label "org.opencontainers.image.source=$source_url" \
  --label "org.opencontainers.image.revision=$revision" \
  --label "org.opencontainers.image.created=$created" \
  --label "org.opencontainers.image.version=$version" \
  --created-by "scripts/image.sh (runtime-deps chiseled layout, from scratch)" \
  "$container"
buildah commit --quiet --format oci --identity-label=false --iidfile "$work/iid" --rm "$container" "$image_ref" >/dev/null
container=""
image_id=$(cat "$work/iid")
image_id=${image_id#sha256:}
if [[ -n "$old_id" && "$old_id" != "$image_id" ]]; then
  podman rmi "$old_id" >/dev/null 2>&1 || true # still used by a container, or tagged elsewhere: keep it
fi

size=$(podman image inspect --format '{{.Size}}' "$image_ref")
echo "image: $image_ref"
echo "image id: ${image_id:0:12} (sha256:$image_id)"
echo "image size (uncompressed): $size bytes ($(mb "$size") MB)"

if [[ -n "$archive" ]]; then
  mkdir -p "$(dirname "$archive")"
  rm -f "$archive"
  skopeo copy --quiet --dest-compress-format "$compression" --dest-compress-level "$compression_level" \
    "containers-storage:$image_ref" "oci-archive:$archive:$image_ref"
  layers=$(skopeo inspect --raw "oci-archive:$archive" | jq '[.layers[].size] | add')
  echo "compressed layer size: $layers bytes ($(mb "$layers") MB, $compression level $compression_level)"
  echo "archive: $archive ($(du -h "$archive" | cut -f1))"
fi
