#!/usr/bin/env bash
# Point-in-time recovery drill on a real PostgreSQL 15, the mechanism CloudNativePG's object-store recovery
# uses (a base backup, archived WAL, restore_command and recovery_target_time): a primary archives its WAL
# to a directory; a base backup is taken with pg_basebackup (without WAL of its own, so that everything after
# it must come from the archive); rows are written with their times, a target time is noted, more rows are
# written; the base backup is then recovered into a new data directory up to the target and must hold exactly
# the rows up to it. A second recovery without a target must hold them all (the later rows were in the
# archive, and the target is what left them out).
# Prints one "ok N - ..." or "not ok N - ..." line per step (TAP), then "N passed, N failed"; exits non-zero
# if any step failed. Takes a few seconds.
#
# Needs the PostgreSQL 15 server binaries (PG_BIN, default /usr/lib/postgresql/15/bin) and, as root, an OS
# user "postgres" to run them (initdb refuses root).
set -euo pipefail

pg_bin="${PG_BIN:-/usr/lib/postgresql/15/bin}"
os_user=postgres

passed=0
failed=0
step=0
ok() {
  step=$((step + 1))
  passed=$((passed + 1))
  echo "ok $step - $1"
}
not_ok() {
  step=$((step + 1))
  failed=$((failed + 1))
  echo "not ok $step - $1"
  if [[ -n "${2:-}" && -s "$2" ]]; then sed 's/^/  # /' "$2" | tail -n 40; fi
}
finish() {
  echo "$passed passed, $failed failed"
  [[ "$failed" -eq 0 ]]
}

as_owner() {
  if [[ "$(id -u)" -eq 0 ]]; then runuser -u "$os_user" -- "$@"; else "$@"; fi
}

work="$(mktemp -d /tmp/bot-pitr-drill.XXXXXX)"
chmod 0755 "$work"
log="$work/step.log"
servers=()
cleanup() {
  local data
  for data in "${servers[@]}"; do
    if [[ -f "$data/postmaster.pid" ]]; then as_owner "$pg_bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true; fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  local port
  for port in $(shuf -i 20000-60000 -n 50); do
    if ! (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  return 1
}

socket="$work/socket"
archive="$work/wal-archive"
primary="$work/primary"
base="$work/base"
mkdir -p "$socket" "$archive"
if [[ "$(id -u)" -eq 0 ]]; then chown -R "$os_user:" "$work"; fi

# Starts the data directory DIR on PORT (socket only); extra settings after.
start() {
  local dir="$1" port="$2"
  shift 2
  servers+=("$dir")
  as_owner "$pg_bin/pg_ctl" -D "$dir" -w -t 60 -l "$dir.log" \
    -o "-c listen_addresses='' -c unix_socket_directories='$socket' -p $port -c fsync=off $*" start
}
sql() {
  local port="$1"
  shift
  "$pg_bin/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$socket" -p "$port" -U postgres -d drill "$@"
}

# --- a primary that archives every WAL segment to a directory ---------------------------------------
primary_port="$(free_port)"
if as_owner "$pg_bin/initdb" -D "$primary" -U postgres --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 >"$log" 2>&1 &&
  printf '%s\n' "wal_level = replica" "archive_mode = on" \
    "archive_command = 'test ! -f $archive/%f && cp %p $archive/%f'" >>"$primary/postgresql.conf" &&
  start "$primary" "$primary_port" >>"$log" 2>&1 &&
  "$pg_bin/createdb" -h "$socket" -p "$primary_port" -U postgres drill >>"$log" 2>&1; then
  ok "primary started with archive_mode=on, archive_command copying WAL to a directory (port $primary_port, socket only)"
else
  cat "$primary.log" >>"$log" 2>/dev/null || true
  not_ok "primary started with WAL archiving" "$log"
  finish
  exit 1
fi

sql "$primary_port" -c "CREATE TABLE events (id serial PRIMARY KEY, batch text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())
                        ; INSERT INTO events (batch) SELECT 'before-base' FROM generate_series(1, 50)" >"$log" 2>&1

# --- the base backup: its own WAL left out, so recovery needs the archive -----------------------------
if as_owner "$pg_bin/pg_basebackup" -h "$socket" -p "$primary_port" -U postgres -D "$base" -X none --checkpoint=fast \
  --no-sync >"$log" 2>&1 && [[ -f "$base/backup_label" ]]; then
  ok "pg_basebackup took a base backup (-X none: every WAL record after it comes from the archive)"
else
  not_ok "pg_basebackup took a base backup" "$log"
fi

# --- rows before the target, the target, rows after it ---------------------------------------------
# Each batch is one transaction per row, so commits are spread over time like the bot's.
for _ in $(seq 1 40); do echo "INSERT INTO events (batch) VALUES ('before-target');"; done | sql "$primary_port" >"$log" 2>&1
sleep 0.2
target="$(sql "$primary_port" -c "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")"
sleep 0.2
for _ in $(seq 1 30); do echo "INSERT INTO events (batch) VALUES ('after-target');"; done | sql "$primary_port" >>"$log" 2>&1
expected_before="$(sql "$primary_port" -c "SELECT count(*) FROM events WHERE at <= '$target'")"
expected_all="$(sql "$primary_port" -c "SELECT count(*) FROM events")"
# Close the current segment so that the archiver ships it, then wait until it has.
segment="$(sql "$primary_port" -c "SELECT pg_walfile_name(pg_switch_wal())")"
for _ in $(seq 1 100); do [[ -f "$archive/$segment" ]] && break; sleep 0.1; done
if [[ "$expected_before" -eq 90 && "$expected_all" -eq 120 && -f "$archive/$segment" ]] &&
  [[ "$(sql "$primary_port" -c "SELECT failed_count FROM pg_stat_archiver")" -eq 0 ]]; then
  ok "wrote 40 rows, took the target time $target, wrote 30 more; WAL up to $segment archived"
else
  printf 'before target: %s, all: %s, segment %s archived: %s\n' "$expected_before" "$expected_all" "$segment" \
    "$([[ -f "$archive/$segment" ]] && echo yes || echo no)" >>"$log"
  not_ok "rows written around a target time, WAL archived" "$log"
fi
as_owner "$pg_bin/pg_ctl" -D "$primary" -m fast -w stop >/dev/null 2>&1 || true

# --- recovery into a new data directory --------------------------------------------------------------
# Recovers a copy of the base backup into DIR on PORT with the given recovery settings, and waits until
# it has promoted.
recover() {
  local dir="$1" port="$2"
  shift 2
  cp -a "$base" "$dir"
  {
    echo "restore_command = 'cp $archive/%f %p'"
    echo "archive_mode = off"
    for setting in "$@"; do echo "$setting"; done
    echo "recovery_target_action = 'promote'"
  } >>"$dir/postgresql.auto.conf"
  touch "$dir/recovery.signal"
  if [[ "$(id -u)" -eq 0 ]]; then chown -R "$os_user:" "$dir"; fi
  start "$dir" "$port" || return 1
  for _ in $(seq 1 200); do
    [[ "$(sql "$port" -c "SELECT pg_is_in_recovery()" 2>/dev/null)" == f ]] && return 0
    sleep 0.1
  done
  return 1
}

pitr="$work/pitr"
pitr_port="$(free_port)"
if recover "$pitr" "$pitr_port" "recovery_target_time = '$target'" >"$log" 2>&1; then
  ok "recovered the base backup with restore_command and recovery_target_time = '$target', promoted"
else
  cat "$pitr.log" >>"$log" 2>/dev/null || true
  not_ok "recovered to the target time" "$log"
fi

counts="$(sql "$pitr_port" -c "SELECT string_agg(batch || '=' || n, ' ' ORDER BY batch) FROM (SELECT batch, count(*) n FROM events GROUP BY batch) x" 2>&1 || true)"
if [[ "$counts" == "before-base=50 before-target=40" ]]; then
  ok "exactly the rows up to the target are there ($counts), none written after it"
else
  echo "rows by batch: $counts" >"$log"
  not_ok "exactly the rows up to the target are there" "$log"
fi

late="$(sql "$pitr_port" -c "SELECT count(*) FROM events WHERE at > '$target'" 2>&1 || true)"
early="$(sql "$pitr_port" -c "SELECT count(*) FROM events WHERE at <= '$target'" 2>&1 || true)"
if [[ "$late" == 0 && "$early" == "$expected_before" ]] && grep -q 'recovery stopping before commit' "$pitr.log"; then
  ok "by their timestamps too: $early rows at or before the target (as on the primary), 0 after; the server says it stopped before the first later commit"
else
  { echo "after the target: $late, at or before: $early (primary: $expected_before)"; grep -i recovery "$pitr.log" || true; } >"$log"
  not_ok "the recovered rows match the primary's up to the target" "$log"
fi

if [[ "$(sql "$pitr_port" -c "INSERT INTO events (batch) VALUES ('after-recovery') RETURNING 1" 2>&1)" == 1 ]]; then
  ok "the recovered server is a primary that takes writes"
else
  not_ok "the recovered server takes writes"
fi

full="$work/full"
full_port="$(free_port)"
if recover "$full" "$full_port" >"$log" 2>&1 &&
  [[ "$(sql "$full_port" -c "SELECT count(*) FROM events" 2>&1)" == "$expected_all" ]]; then
  ok "recovering without a target replays the whole archive ($expected_all rows): the later rows were there, the target left them out"
else
  cat "$full.log" >>"$log" 2>/dev/null || true
  not_ok "recovering without a target replays every archived row" "$log"
fi

finish
