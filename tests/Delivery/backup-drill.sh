#!/usr/bin/env bash
# Backup drill on a real PostgreSQL 15: seeds a database, runs deploy/scripts/backup.sh the way the backup
# CronJob does (POSIX sh, a non-root user, libpq variables and a password file), checks retention, then runs
# deploy/scripts/restore-check.sh and compares the restored scratch database with the source on its own.
# Prints one "ok N - ..." or "not ok N - ..." line per step (TAP), and exits non-zero if any step failed.
#
# Needs the PostgreSQL 15 server binaries (PG_BIN, default /usr/lib/postgresql/15/bin), an OS user
# "postgres" to run them (initdb refuses root), and node for picking a free port.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
scripts="${DRILL_SCRIPTS_DIR:-$root/deploy/scripts}"
pg_bin="${PG_BIN:-/usr/lib/postgresql/15/bin}"
os_user=postgres

step=0
failed=0
ok() {
  step=$((step + 1))
  echo "ok $step - $1"
  if [[ "${DRILL_VERBOSE:-0}" == 1 && -s "${log:-}" ]]; then sed 's/^/  # /' "$log"; fi
}
not_ok() {
  step=$((step + 1))
  failed=$((failed + 1))
  echo "not ok $step - $1"
  if [[ -n "${2:-}" && -s "$2" ]]; then sed 's/^/  # /' "$2" | tail -n 40; fi
}

work="$(mktemp -d /tmp/bot-backup-drill.XXXXXX)"
chmod 0755 "$work"
log="$work/step.log"
stop_cluster() {
  if [[ -f "$work/data/postmaster.pid" ]]; then
    runuser -u "$os_user" -- "$pg_bin/pg_ctl" -D "$work/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap stop_cluster EXIT

port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
socket_dir="$work/socket"
backup_dir="$work/backups"
secrets="$work/secrets"
mkdir -p "$socket_dir" "$backup_dir" "$secrets"
printf '%s' 'drill-superuser-password' >"$secrets/superuser"
printf '%s' 'drill-bot-password' >"$secrets/Database__Password"
printf '%s' 'drill-restore-password' >"$secrets/restore-check-password"
chown -R "$os_user:" "$work"
chmod 0700 "$secrets"
chmod 0400 "$secrets"/*

# --- the server -----------------------------------------------------------------------------------
if runuser -u "$os_user" -- "$pg_bin/initdb" -D "$work/data" -U postgres --auth=scram-sha-256 \
  --pwfile="$secrets/superuser" --no-sync -E UTF8 --locale=C.UTF-8 >"$log" 2>&1 &&
  runuser -u "$os_user" -- "$pg_bin/pg_ctl" -D "$work/data" -w -t 60 -l "$work/server.log" \
    -o "-c listen_addresses='' -c unix_socket_directories='$socket_dir' -p $port -c fsync=off" start >>"$log" 2>&1; then
  ok "PostgreSQL 15 started (port $port, socket only)"
else
  cat "$work/server.log" >>"$log" 2>/dev/null || true
  not_ok "PostgreSQL 15 started" "$log"
  echo "# drill: $failed failed"
  exit 1
fi

export PATH="$pg_bin:$PATH"
as_superuser() {
  PGHOST="$socket_dir" PGPORT="$port" PGUSER=postgres PGPASSWORD="$(cat "$secrets/superuser")" \
    psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}

# --- a database shaped like the bot's, with the awkward cases a dump must carry ---------------------
as_superuser -d postgres >"$log" 2>&1 <<'SQL' || { not_ok "seed database" "$log"; exit 1; }
CREATE ROLE bot LOGIN PASSWORD 'drill-bot-password';
CREATE ROLE restore_check LOGIN CREATEDB PASSWORD 'drill-restore-password';
CREATE DATABASE bot OWNER bot;
\connect bot
SET ROLE bot;
CREATE TABLE schema_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
INSERT INTO schema_migrations (version) SELECT generate_series(1, 7);
CREATE TABLE subscribers (
  user_id bigint PRIMARY KEY, language text NOT NULL, active boolean NOT NULL, source text,
  subscribed_at timestamptz NOT NULL DEFAULT now());
INSERT INTO subscribers
  SELECT i, CASE WHEN i % 3 = 0 THEN 'ru' ELSE 'en' END, i % 11 <> 0, 'deep-link-' || (i % 5), now()
  FROM generate_series(1, 5000) AS i;
CREATE TABLE inbox (
  update_id bigint PRIMARY KEY, chat_id bigint, kind text NOT NULL, payload jsonb NOT NULL, state text NOT NULL);
INSERT INTO inbox
  SELECT i, i % 97, 'message',
         jsonb_build_object('text', E'line one\nline two\twith a tab and a \\ backslash', 'n', i), 'done'
  FROM generate_series(1, 2500) AS i;
CREATE TABLE outbox (id bigserial PRIMARY KEY, chat_id bigint NOT NULL, body bytea NOT NULL);
INSERT INTO outbox (chat_id, body) SELECT i, decode(md5(i::text), 'hex') FROM generate_series(1, 300) AS i;
CREATE TABLE "JoinDecisions" (id int PRIMARY KEY, "Decision" text);
INSERT INTO "JoinDecisions" VALUES (1, 'approved'), (2, 'declined'), (3, E'multi\nline');
CREATE TABLE dead_letters (id int PRIMARY KEY, error text);
CREATE SCHEMA audit;
CREATE TABLE audit.events (id bigint, at date NOT NULL, what text) PARTITION BY RANGE (at);
CREATE TABLE audit.events_2025 PARTITION OF audit.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE audit.events_2026 PARTITION OF audit.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO audit.events SELECT i, DATE '2025-06-01' + (i % 400), 'event ' || i FROM generate_series(1, 800) AS i;
CREATE VIEW active_subscribers AS SELECT * FROM subscribers WHERE active;
SQL
ok "seeded a database with plain, quoted, partitioned, empty and binary tables"

# The CronJob's environment: libpq variables, the password as a mounted file, POSIX sh, a non-root user.
run_backup() {
  runuser -u "$os_user" -- env -i PATH="$PATH" HOME="$work" TMPDIR="$work" \
    PGHOST="$socket_dir" PGPORT="$port" PGDATABASE=bot PGUSER=bot PGSSLMODE=disable \
    PGPASSWORD_FILE="$secrets/Database__Password" BACKUP_DIR="$backup_dir" "$@" \
    sh "$scripts/backup.sh"
}
run_restore_check() {
  local dir="$1"
  shift
  runuser -u "$os_user" -- env -i PATH="$PATH" HOME="$work" TMPDIR="$work" \
    PGHOST="$socket_dir" PGPORT="$port" PGUSER=restore_check PGDATABASE=bot PGSSLMODE=disable \
    PGPASSWORD_FILE="$secrets/restore-check-password" BACKUP_DIR="$dir" "$@" \
    sh "$scripts/restore-check.sh"
}
source_count() { as_superuser -d "$1" -c "SELECT count(*) FROM $2"; }
dumps() { find "$backup_dir" -maxdepth 1 -name 'bot-*.dump' | sed 's|.*/||' | sort; }

# --- backup, and what it records ------------------------------------------------------------------
if run_backup BACKUP_RETENTION=2 >"$log" 2>&1 && [[ "$(dumps | wc -l)" -eq 1 ]]; then
  first="$(dumps | tail -n 1)"
  if [[ -s "$backup_dir/$first.sha256" && -s "$backup_dir/$first.counts" ]] &&
    (cd "$backup_dir" && sha256sum --quiet -c "$first.sha256") >>"$log" 2>&1; then
    ok "backup.sh wrote $first with a valid checksum"
  else
    not_ok "backup.sh wrote a checksum and row counts" "$log"
  fi
else
  not_ok "backup.sh succeeded and wrote one backup" "$log"
fi

expected_counts="$work/expected.counts"
{
  for t in public.schema_migrations public.subscribers public.inbox public.outbox 'public."JoinDecisions"' \
    public.dead_letters audit.events_2025 audit.events_2026; do
    printf '%s\t%s\n' "$t" "$(source_count bot "$t")"
  done
} | sort >"$expected_counts"
if [[ -n "${first:-}" ]] && diff -u "$expected_counts" <(sort "$backup_dir/$first.counts") >"$log" 2>&1; then
  ok "the recorded row counts match the source database table for table"
else
  not_ok "the recorded row counts match the source database" "$log"
fi

# --- retention: three runs with BACKUP_RETENTION=2 leave the newest two ------------------------------
sleep 1
as_superuser -d bot -c "INSERT INTO subscribers SELECT i, 'en', true, NULL, now() FROM generate_series(5001, 5100) AS i" >/dev/null
second_ok=0
run_backup BACKUP_RETENTION=2 >"$log" 2>&1 && second_ok=1
sleep 1
as_superuser -d bot -c "INSERT INTO inbox SELECT i, 1, 'callback_query', '{}'::jsonb, 'pending' FROM generate_series(2501, 2542) AS i" >/dev/null
if [[ "$second_ok" -eq 1 ]] && run_backup BACKUP_RETENTION=2 >>"$log" 2>&1; then
  mapfile -t kept < <(dumps)
  leftovers="$(find "$backup_dir" -mindepth 1 \( -name '.*' -o -name "${first:-none}*" \) | wc -l)"
  if [[ "${#kept[@]}" -eq 2 && "$leftovers" -eq 0 && "${kept[0]}" != "${first:-}" ]] &&
    [[ "$(find "$backup_dir" -maxdepth 1 -type f | wc -l)" -eq 6 ]]; then
    ok "retention 2 kept the two newest backups (${kept[*]}) and pruned $first with its files"
  else
    ls -la "$backup_dir" >>"$log"
    not_ok "retention 2 kept exactly the two newest backups" "$log"
  fi
else
  not_ok "backup.sh ran again twice" "$log"
fi

if ! run_backup BACKUP_RETENTION=0 >"$log" 2>&1 && grep -q 'BACKUP_RETENTION' "$log"; then
  ok "backup.sh refuses a retention of 0"
else
  not_ok "backup.sh refuses a retention of 0" "$log"
fi

# --- restore check ----------------------------------------------------------------------------------
if run_restore_check "$backup_dir" RESTORE_CHECK_KEEP=1 RESTORE_CHECK_MAX_AGE_HOURS=1 \
  RESTORE_CHECK_REQUIRED_TABLES='public.schema_migrations public.inbox public.outbox' >"$log" 2>&1 &&
  grep -q 'passed' "$log"; then
  ok "restore-check.sh restored the newest backup and found the counts equal"
else
  not_ok "restore-check.sh passes on a good backup" "$log"
fi

# Independent of the script: the scratch database against the source, row for row.
compare_sql="SELECT string_agg(t || '=' || n, ' ' ORDER BY t) FROM (
  SELECT 'subscribers' t, count(*)::text n FROM subscribers UNION ALL
  SELECT 'inbox', count(*) || ':' || md5(string_agg(payload::text, '|' ORDER BY update_id)) FROM inbox UNION ALL
  SELECT 'outbox', count(*) || ':' || md5(string_agg(encode(body, 'hex'), '|' ORDER BY id)) FROM outbox UNION ALL
  SELECT 'joins', count(*) || ':' || md5(string_agg(\"Decision\", '|' ORDER BY id)) FROM \"JoinDecisions\" UNION ALL
  SELECT 'events', count(*)::text FROM audit.events UNION ALL
  SELECT 'dead', count(*)::text FROM dead_letters UNION ALL
  SELECT 'migrations', max(version)::text FROM schema_migrations) x"
source_state="$(as_superuser -d bot -c "$compare_sql" 2>&1 || true)"
scratch_state="$(as_superuser -d bot_restore_check -c "$compare_sql" 2>&1 || true)"
if [[ -n "$source_state" && "$source_state" == "$scratch_state" ]]; then
  ok "the scratch database equals the source (counts and content hashes)"
else
  printf 'source:  %s\nscratch: %s\n' "$source_state" "$scratch_state" >"$log"
  not_ok "the scratch database equals the source" "$log"
fi

# --- the check bites ------------------------------------------------------------------------------
bad="$work/bad"
mkdir -p "$bad"
newest="$(dumps | tail -n 1)"
cp "$backup_dir/$newest" "$backup_dir/$newest.sha256" "$backup_dir/$newest.counts" "$bad/"
awk -F '\t' -v OFS='\t' '$1 == "public.subscribers" { $2 = $2 + 1 } { print }' "$backup_dir/$newest.counts" >"$bad/$newest.counts"
chown -R "$os_user:" "$bad"
if ! run_restore_check "$bad" >"$log" 2>&1 && grep -q 'public.subscribers' "$log"; then
  ok "restore-check.sh fails when a table's rows differ from the backup's record"
else
  not_ok "restore-check.sh fails on a row count mismatch" "$log"
fi

cp "$backup_dir/$newest.counts" "$bad/$newest.counts"
printf 'x' | dd of="$bad/$newest" bs=1 seek=100 conv=notrunc status=none
if ! run_restore_check "$bad" >"$log" 2>&1 && grep -q 'checksum' "$log"; then
  ok "restore-check.sh fails on a damaged backup file"
else
  not_ok "restore-check.sh fails on a damaged backup file" "$log"
fi

if ! run_restore_check "$backup_dir" RESTORE_CHECK_DATABASE=bot >"$log" 2>&1 &&
  [[ "$(source_count bot public.subscribers)" -eq 5100 ]]; then
  ok "restore-check.sh refuses to use the live database as its scratch database"
else
  not_ok "restore-check.sh refuses the live database" "$log"
fi

if ! run_restore_check "$work/socket" >"$log" 2>&1 && grep -q 'no backup' "$log"; then
  ok "restore-check.sh fails when there is no backup"
else
  not_ok "restore-check.sh fails when there is no backup" "$log"
fi

echo "# drill: $step steps, $failed failed"
[[ "$failed" -eq 0 ]]
