#!/usr/bin/env bash
# Proves the container image as production runs it: non-root, read-only root filesystem, no capabilities,
# settings from the environment, against a throwaway PostgreSQL cluster on 127.0.0.1 (with TLS, so that the
# image's OpenSSL is exercised). Builds the image with scripts/image.sh when it is missing. See docs/image.md.
#
#   tests/Delivery/image-proof.sh
#   Environment: IMAGE_REF (localhost/bot:local), PUBLISH_DIR (artifacts/publish, only to build the image),
#                START_RUNS (5: podman run -> first /readyz 200 samples), REBUILD=1 (build even if present).
#
# One line per check, then "N passed, N failed"; exits non-zero when a check failed. Nothing but 127.0.0.1 is
# ever contacted (podman runs with --network host; the bot binds 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/../.."

image=${IMAGE_REF:-localhost/bot:local}
publish_dir=${PUBLISH_DIR:-artifacts/publish}
start_runs=${START_RUNS:-5}
app_user=65532:65532
bot_token="123456789:image-proof-token-not-real-xxxxxx"
webhook_secret="image-proof-secret-0123456789"
update='{"update_id":1,"message":{"message_id":1,"date":0,"chat":{"id":1,"type":"private"},"text":"hi"}}'
# Shutdown budget of appsettings.json (drain 5 s + timeout 20 s) plus the chart's 10 s margin (no preStop here).
grace=35

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
note() { echo "     $*"; }
one_line() { tr '\n' ' ' <<<"$1" | tr -s ' ' | sed 's/ $//' | cut -c1-400; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# --- prerequisites -----------------------------------------------------------------------------------------
need=()
command -v curl >/dev/null || need+=(curl)
command -v openssl >/dev/null || need+=(openssl)
command -v setpriv >/dev/null || need+=(util-linux)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null || need+=(postgresql)
if [[ ${#need[@]} -gt 0 ]]; then
  [[ $(id -u) -eq 0 ]] || { echo "image-proof: missing ${need[*]}" >&2; exit 1; }
  echo "image-proof: installing ${need[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [[ "${REBUILD:-0}" == 1 ]] || ! command -v podman >/dev/null || ! podman image exists "$image"; then
  echo "image-proof: building $image with scripts/image.sh" >&2
  if ! scripts/image.sh "$publish_dir" "$image" >&2; then
    fail "build: scripts/image.sh $publish_dir $image failed (output above)"
    echo "$passed passed, $failed failed"
    exit 1
  fi
fi

tmp=$(mktemp -d /tmp/image-proof.XXXXXX)
chmod 0755 "$tmp" # the cluster runs as the postgres user
containers=()
cleanup() {
  local name
  for name in "${containers[@]}"; do podman rm --force --time 0 "$name" >/dev/null 2>&1 || true; done
  if [[ -f "$tmp/pg/postmaster.pid" ]]; then scripts/pg.sh stop "$tmp/pg" >/dev/null 2>&1 || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# This sandbox kind needs runc (crun rejects its mixed cgroups) and ulimits within the host's hard limits.
limit() { local hard=$1 want=$2; [[ "$hard" == unlimited || "$hard" -gt "$want" ]] && echo "$want" || echo "$hard"; }
nofile=$(limit "$(ulimit -Hn)" 20000)
nproc=$(limit "$(ulimit -Hu)" 32768)
base=(--pull never --runtime runc --network host --ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")
hardened=(--read-only --read-only-tmpfs=false --user "$app_user" --cap-drop=ALL --security-opt no-new-privileges)

free_port() {
  local port
  for port in $(shuf -i 20000-29999 -n 200); do
    [[ "$port" == "${1:-}" ]] && continue
    if ! (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  echo "image-proof: no free port" >&2
  exit 1
}

http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time "${2:-2}" "$1" || true; }

# Polls until /healthz (or the path $2, e.g. /readyz) answers 200; prints the milliseconds since $1 (a date +%s%N),
# or fails after 30 s.
wait_healthz() {
  local started=$1 path=${2:-/healthz} deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    if [[ "$(http_code "http://127.0.0.1:$internal_port$path" 1)" == 200 ]]; then ms_since "$started"; return 0; fi
    sleep 0.01
  done
  return 1
}

# --- the image ---------------------------------------------------------------------------------------------
image_id=$(podman image inspect --format '{{.Id}}' "$image")
image_size=$(podman image inspect --format '{{.Size}}' "$image")
image_mb=$(awk -v b="$image_size" 'BEGIN { printf "%.1f", b / 1000000 }')
layer_mb=""
if [[ -f artifacts/image/bot.oci.tar ]] && command -v skopeo >/dev/null && command -v jq >/dev/null; then
  manifest=$(skopeo inspect --raw oci-archive:artifacts/image/bot.oci.tar 2>/dev/null || true)
  layer_bytes=$(jq '[.layers[].size] | add' <<<"$manifest" 2>/dev/null || true)
  # The layers' media type names their compression (…tar+zstd, …tar+gzip).
  layer_format=$(jq -r '[.layers[].mediaType | split("+")[1] // "none"] | unique | join(",")' <<<"$manifest" 2>/dev/null || true)
  [[ -n "$layer_bytes" && "$layer_bytes" != null ]] && layer_mb=$(awk -v b="$layer_bytes" 'BEGIN { printf "%.1f", b / 1000000 }')
fi

config=$(podman image inspect --format '{{json .Config.User}} {{json .Config.Entrypoint}} {{json .Config.Cmd}} {{json .Config.ExposedPorts}}' "$image")
if [[ "$config" == '"65532:65532" ["/app/Bot"] ["serve"] {"8080/tcp":{},"9090/tcp":{}}' ||
  "$config" == '"65532:65532" ["/app/Bot"] ["serve"] {"8080":{},"9090":{}}' ]]; then
  pass "image config: user 65532:65532, entrypoint /app/Bot, cmd serve, ports 8080 9090 (${image_id:0:12})"
else
  fail "image config: $config"
fi

# The files themselves: the binary and its settings, the loader and libraries, the CA bundle, the users; no
# shell, no package manager, no debug symbols, nothing setuid.
if mount=$(podman image mount "$image" 2>"$tmp/mount.err"); then
  problems=()
  for path in app/Bot app/appsettings.json usr/lib/x86_64-linux-gnu/libssl.so.3 usr/lib/x86_64-linux-gnu/libcrypto.so.3 \
    lib64/ld-linux-x86-64.so.2 etc/ssl/certs/ca-certificates.crt etc/passwd etc/group; do
    [[ -e "$mount/$path" ]] || problems+=("missing /$path")
  done
  for path in bin/sh usr/bin/sh bin/bash usr/bin/bash bin/busybox usr/bin/dpkg usr/bin/apt usr/bin/apt-get; do
    [[ ! -e "$mount/$path" && ! -L "$mount/$path" ]] || problems+=("has /$path")
  done
  [[ -z "$(find "$mount" -name '*.dbg' -print -quit)" ]] || problems+=("has *.dbg")
  [[ -z "$(find "$mount" -type f -perm /6000 -print -quit)" ]] || problems+=("has setuid/setgid files")
  grep -q '^app:x:65532:65532:' "$mount/etc/passwd" || problems+=("no app user 65532 in /etc/passwd")
  [[ "$(stat -c %a "$mount/tmp")" == 1777 ]] || problems+=("/tmp is not 1777")
  files=$(find "$mount" -type f | wc -l)
  podman image unmount "$image" >/dev/null 2>&1 || true
  if [[ ${#problems[@]} -eq 0 ]]; then
    pass "image contents: $files files; Bot, libc/libm/loader, libssl/libcrypto, CA bundle, users; no shell, no package manager"
  else
    fail "image contents: ${problems[*]}"
  fi
else
  fail "image contents: podman image mount: $(one_line "$(cat "$tmp/mount.err")")"
fi

# --- PostgreSQL with TLS, certificate from a throwaway CA --------------------------------------------------
tls="$tmp/tls"
mkdir -m 0755 "$tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=image-proof-ca \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$tls/server.ext"
openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial -days 2 \
  -extfile "$tls/server.ext" -out "$tls/server.crt" 2>/dev/null
chmod 0600 "$tls/server.key"
if [[ $(id -u) -eq 0 ]]; then chown postgres: "$tls/server.key" "$tls/server.crt"; fi
# The image's own bundle with the test CA appended: mounted over it only for the trust-store check.
mount_for_bundle=$(podman image mount "$image")
cat "$mount_for_bundle/etc/ssl/certs/ca-certificates.crt" "$tls/ca.crt" >"$tls/bundle.crt"
podman image unmount "$image" >/dev/null 2>&1 || true
chmod 0644 "$tls/bundle.crt" "$tls/ca.crt"

if ! pg_conn=$(PG_OPTIONS="-c ssl=on -c ssl_cert_file=$tls/server.crt -c ssl_key_file=$tls/server.key" scripts/pg.sh start "$tmp/pg" 2>"$tmp/pg.err"); then
  fail "postgres: scripts/pg.sh start: $(one_line "$(cat "$tmp/pg.err")")"
  echo "$passed passed, $failed failed"
  exit 1
fi
conn="$pg_conn;SSL Mode=Require"

public_port=$(free_port)
internal_port=$(free_port "$public_port")
serve_env=(
  -e DOTNET_ENVIRONMENT=Production
  -e "Database__ConnectionString=$conn"
  -e "Telegram__BotToken=$bot_token"
  -e "Telegram__WebhookSecret=$webhook_secret"
  -e "Hosting__PublicPort=$public_port"
  -e "Hosting__InternalPort=$internal_port"
  -e Hosting__BindAddress=127.0.0.1
)

# --- migrate -----------------------------------------------------------------------------------------------
if out=$(podman run --rm "${base[@]}" "${hardened[@]}" -e DOTNET_ENVIRONMENT=Production \
  -e "Database__ConnectionString=$conn" "$image" migrate up 2>&1); then
  pass "migrate up in the image (non-root, read-only, over TLS): $(one_line "$(tail -n 2 <<<"$out")")"
else
  fail "migrate up: exit $?: $(one_line "$out")"
fi

# CA trust: a certificate-verifying connection fails against the throwaway CA, and succeeds once that CA is in
# /etc/ssl/certs/ca-certificates.crt, which is therefore where the bot's TLS takes its trust from.
verify_conn="$pg_conn;SSL Mode=VerifyFull"
untrusted=$(podman run --rm "${base[@]}" "${hardened[@]}" -e "Database__ConnectionString=$verify_conn" "$image" migrate status 2>&1) &&
  untrusted_rc=0 || untrusted_rc=$?
trusted=$(podman run --rm "${base[@]}" "${hardened[@]}" -v "$tls/bundle.crt:/etc/ssl/certs/ca-certificates.crt:ro" \
  -e "Database__ConnectionString=$verify_conn" "$image" migrate status 2>&1) && trusted_rc=0 || trusted_rc=$?
if [[ $untrusted_rc -ne 0 && "$untrusted" == *SSL* && $trusted_rc -eq 0 ]]; then
  pass "CA trust from /etc/ssl/certs/ca-certificates.crt: VerifyFull accepted with the test CA added, refused without it ($(one_line "$untrusted" | cut -c1-160))"
else
  fail "CA trust: without the test CA exit $untrusted_rc ($(one_line "$untrusted")), with it exit $trusted_rc ($(one_line "$trusted"))"
fi
# The chart's way (database.caSecret): the CA as a file of its own, named by Root Certificate, the image's
# bundle untouched.
rooted=$(podman run --rm "${base[@]}" "${hardened[@]}" -v "$tls/ca.crt:/etc/bot/db-ca/ca.crt:ro" \
  -e "Database__ConnectionString=$verify_conn;Root Certificate=/etc/bot/db-ca/ca.crt" "$image" migrate status 2>&1) &&
  rooted_rc=0 || rooted_rc=$?
if [[ $rooted_rc -eq 0 ]]; then
  pass "Root Certificate=/etc/bot/db-ca/ca.crt (the chart's mounted CA): VerifyFull accepted with only that file trusted"
else
  fail "Root Certificate: VerifyFull with the CA mounted as a file: exit $rooted_rc ($(one_line "$rooted"))"
fi

# --- serve -------------------------------------------------------------------------------------------------
serve="image-proof-$$-serve"
containers+=("$serve")
started=$(date +%s%N)
if ! run_err=$(podman run -d --name "$serve" "${base[@]}" "${hardened[@]}" "${serve_env[@]}" "$image" 2>&1 >/dev/null); then
  fail "serve: podman run: $(one_line "$run_err")"
  echo "$passed passed, $failed failed"
  exit 1
fi

if first_ms=$(wait_healthz "$started"); then
  pass "/healthz 200 on the internal port $internal_port (${first_ms} ms after podman run)"
else
  fail "/healthz: no 200 within 30 s; container log: $(one_line "$(podman logs --tail 5 "$serve" 2>&1)")"
fi

code=000
for _ in $(seq 50); do
  code=$(http_code "http://127.0.0.1:$internal_port/readyz")
  [[ "$code" == 200 ]] && break
  sleep 0.1
done
if [[ "$code" == 200 ]]; then pass "/readyz 200"; else fail "/readyz: $code: $(curl -s --max-time 2 "http://127.0.0.1:$internal_port/readyz" || true)"; fi

code=$(curl -s -o "$tmp/webhook.out" -w '%{http_code}' --max-time 10 -X POST \
  -H "X-Telegram-Bot-Api-Secret-Token: $webhook_secret" -H 'Content-Type: application/json' \
  --data "$update" "http://127.0.0.1:$public_port/telegram/webhook" || true)
if [[ "$code" == 200 ]]; then pass "webhook POST with the secret: 200"; else fail "webhook POST: $code $(one_line "$(cat "$tmp/webhook.out" 2>/dev/null)")"; fi

rows=""
for _ in $(seq 50); do
  rows=$(scripts/pg.sh psql "$tmp/pg" -Atc "select count(*) from inbox" 2>&1 || true)
  [[ "$rows" == 1 ]] && break
  sleep 0.1
done
if [[ "$rows" == 1 ]]; then pass "update stored: 1 row in inbox"; else fail "inbox: expected 1 row, got: $(one_line "$rows")"; fi

tls_sessions=$(scripts/pg.sh psql "$tmp/pg" -Atc "select count(*) filter (where s.ssl) || '/' || count(*) || ' ' || coalesce(max(s.version), '-')
  from pg_stat_activity a join pg_stat_ssl s using (pid)
  where a.datname = 'bot' and a.backend_type = 'client backend' and a.pid <> pg_backend_pid()" 2>&1 || true)
if [[ "$tls_sessions" =~ ^([0-9]+)/([0-9]+)\ (.*)$ && "${BASH_REMATCH[1]}" == "${BASH_REMATCH[2]}" && "${BASH_REMATCH[1]}" -gt 0 ]]; then
  pass "bot's PostgreSQL sessions use TLS (${BASH_REMATCH[1]}/${BASH_REMATCH[2]}, ${BASH_REMATCH[3]}): libssl/libcrypto load in the image"
else
  fail "TLS sessions (encrypted/all version): $(one_line "$tls_sessions")"
fi

pid=$(podman inspect --format '{{.State.Pid}}' "$serve" 2>/dev/null || echo 0)
if [[ "$pid" -gt 0 && -r "/proc/$pid/status" ]]; then
  uids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")
  gids=$(awk '/^Gid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")
  top=$(podman top "$serve" user huser group comm 2>&1 | tail -n +2 | tr -s ' ' || true)
  if [[ "$uids" == "65532 65532 65532 65532" && "$gids" == "65532 65532 65532 65532" ]]; then
    pass "process runs as uid/gid 65532 (/proc: Uid $uids; podman top: $(one_line "$top"))"
  else
    fail "process identity: Uid $uids, Gid $gids"
  fi

  caps=$(awk '/^Cap(Inh|Prm|Eff|Bnd|Amb):/ { printf "%s%s ", $1, $2 }' "/proc/$pid/status")
  nnp=$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$pid/status")
  if [[ "$caps" =~ ^(Cap[A-Za-z]+:0+\ ){5}$ && "$nnp" == 1 ]]; then
    pass "no capabilities (all five sets empty) and no_new_privs=1"
  else
    fail "capabilities: $caps NoNewPrivs:$nnp"
  fi

  # The write goes through the container's own mount tree; host root bypasses permissions, so only the
  # read-only mount can refuse it.
  root_opts=$(awk '$5 == "/" { print $6; exit }' "/proc/$pid/mountinfo")
  write_root=$(touch "/proc/$pid/root/image-proof-write" 2>&1) && write_root_rc=0 || write_root_rc=$?
  write_tmp=$(touch "/proc/$pid/root/tmp/image-proof-write" 2>&1) && write_tmp_rc=0 || write_tmp_rc=$?
  if [[ $write_root_rc -ne 0 && "$write_root" == *"Read-only file system"* && $write_tmp_rc -ne 0 && "$root_opts" == ro* ]]; then
    pass "root filesystem read-only (mount $root_opts): writing / and /tmp fails: Read-only file system"
  else
    fail "read-only root: mount '$root_opts'; / write exit $write_root_rc ($(one_line "$write_root")); /tmp write exit $write_tmp_rc ($(one_line "$write_tmp"))"
  fi
else
  fail "process identity: no pid for $serve"
  fail "capabilities: no pid for $serve"
  fail "read-only root: no pid for $serve"
fi

if sh_out=$(podman run --rm "${base[@]}" --entrypoint /bin/sh "$image" -c true 2>&1); then
  fail "no shell: /bin/sh ran in the image: $(one_line "$sh_out")"
else
  pass "no shell: podman run --entrypoint /bin/sh fails: $(one_line "$(grep -m1 -E 'Error|error' <<<"$sh_out" || echo "$sh_out")")"
fi

# SIGTERM: readiness fails while draining, then the process exits 0 within the grace period.
stop_started=$(date +%s%N)
podman stop --time "$grace" "$serve" >"$tmp/stop.out" 2>&1 &
stopper=$!
drain_code=000
for _ in $(seq 40); do
  drain_code=$(http_code "http://127.0.0.1:$internal_port/readyz" 1)
  [[ "$drain_code" == 503 ]] && break
  sleep 0.05
done
if [[ "$drain_code" == 503 ]]; then pass "after SIGTERM /readyz answers 503 while draining"; else fail "draining: /readyz answered $drain_code"; fi
if wait "$stopper"; then stop_rc=0; else stop_rc=$?; fi
stop_ms=$(ms_since "$stop_started")
exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$serve" 2>/dev/null || echo "?")
if [[ $stop_rc -eq 0 && "$exit_code" == 0 && $stop_ms -lt $((grace * 1000)) ]]; then
  pass "podman stop (SIGTERM): exit code 0 after ${stop_ms} ms (grace ${grace} s; drain 5 s)"
else
  fail "podman stop: rc $stop_rc, exit code $exit_code after ${stop_ms} ms: $(one_line "$(cat "$tmp/stop.out")"); log: $(one_line "$(podman logs --tail 3 "$serve" 2>&1)")"
fi
podman rm --force --time 0 "$serve" >/dev/null 2>&1 || true

# --- start time ----------------------------------------------------------------------------------------------
samples=()
for run in $(seq "$start_runs"); do
  name="image-proof-$$-start-$run"
  containers+=("$name")
  started=$(date +%s%N)
  if podman run -d --name "$name" "${base[@]}" "${hardened[@]}" "${serve_env[@]}" "$image" >/dev/null 2>"$tmp/start.err" &&
    ms=$(wait_healthz "$started" /readyz); then
    samples+=("$ms")
  else
    note "start run $run: $(one_line "$(cat "$tmp/start.err")") $(one_line "$(podman logs --tail 3 "$name" 2>&1)")"
  fi
  podman rm --force --time 0 "$name" >/dev/null 2>&1 || true
done
if [[ ${#samples[@]} -eq "$start_runs" ]]; then
  sorted=$(printf '%s\n' "${samples[@]}" | sort -n)
  median=$(sed -n "$(((start_runs + 1) / 2))p" <<<"$sorted")
  pass "start: podman run -> first /readyz 200 (database reached, schema checked), median ${median} ms of $start_runs (min $(head -n1 <<<"$sorted"), max $(tail -n1 <<<"$sorted"); ms: ${samples[*]})"
else
  fail "start: ${#samples[@]} of $start_runs runs reached /readyz 200"
fi

# The floor under that figure on this host: podman's own start and exit of a container that does almost nothing (the
# binary prints its usage and exits: the runtime starts, no port, no database). Start-up targets compare against it.
floor=()
for run in $(seq "$start_runs"); do
  started=$(date +%s%N)
  if out=$(podman run --rm "${base[@]}" "${hardened[@]}" "$image" help 2>&1) && grep -q '^usage: Bot' <<<"$out"; then
    floor+=("$(ms_since "$started")")
  else
    note "floor run $run: $(one_line "$out")"
  fi
done
if [[ ${#floor[@]} -eq "$start_runs" ]]; then
  sorted=$(printf '%s\n' "${floor[@]}" | sort -n)
  pass "start floor: podman run --rm of 'Bot help' (container start and exit, nothing served), median $(sed -n "$(((start_runs + 1) / 2))p" <<<"$sorted") ms of $start_runs (ms: ${floor[*]})"
else
  fail "start floor: ${#floor[@]} of $start_runs runs of 'Bot help' printed the usage"
fi

echo "image: $image ${image_id:0:12}, ${image_mb} MB uncompressed${layer_mb:+, ${layer_mb} MB compressed layer (${layer_format}, artifacts/image/bot.oci.tar)}"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
