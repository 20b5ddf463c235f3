#!/bin/sh
# Restore check, run by the chart's restore-check CronJob: a backup is only known good once it has been
# restored. Restores the newest backup written by backup.sh into a scratch database and holds the result
# to the backup's own record: the same tables, each with the same number of rows.
#
# Connection: the standard libpq variables for the server that hosts the scratch database (PGHOST, PGPORT,
# PGUSER, PGSSLMODE, ...); the role needs CREATEDB. The password comes from PGPASSWORD_FILE (a mounted
# Secret key, preferred) or PGPASSWORD. PGDATABASE, when set, names the live database, which this script
# refuses to use as its scratch database and otherwise never touches.
#
# Settings:
#   BACKUP_DIR                          where backup.sh writes; required
#   BACKUP_PREFIX                       file name prefix (default "bot")
#   RESTORE_CHECK_DATABASE              scratch database, dropped and re-created (default "bot_restore_check")
#   RESTORE_CHECK_MAINTENANCE_DATABASE  database to connect to for CREATE/DROP DATABASE (default "postgres")
#   RESTORE_CHECK_MAX_AGE_HOURS         fail when the newest backup is older than this; 0 = no limit (default 0)
#   RESTORE_CHECK_REQUIRED_TABLES       space-separated tables (schema.table) that must exist after the restore
#   RESTORE_CHECK_JOBS                  parallel pg_restore jobs (default 1)
#   RESTORE_CHECK_KEEP                  1 keeps the scratch database afterwards for inspection (default 0)
set -eu

log() { printf '%s restore-check: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

: "${BACKUP_DIR:?BACKUP_DIR must be set}"
prefix="${BACKUP_PREFIX:-bot}"
scratch="${RESTORE_CHECK_DATABASE:-bot_restore_check}"
maintenance="${RESTORE_CHECK_MAINTENANCE_DATABASE:-postgres}"
max_age_hours="${RESTORE_CHECK_MAX_AGE_HOURS:-0}"
required="${RESTORE_CHECK_REQUIRED_TABLES:-}"
jobs="${RESTORE_CHECK_JOBS:-1}"
keep="${RESTORE_CHECK_KEEP:-0}"

case "$scratch" in
  '' | *[!a-z0-9_]*) die "RESTORE_CHECK_DATABASE may hold only a-z, 0-9 and _" ;;
esac
[ "$scratch" != "${PGDATABASE:-}" ] || die "RESTORE_CHECK_DATABASE must not be the live database ($scratch)"
[ "$scratch" != "$maintenance" ] || die "RESTORE_CHECK_DATABASE must differ from RESTORE_CHECK_MAINTENANCE_DATABASE"
case "$max_age_hours" in
  '' | *[!0-9]*) die "RESTORE_CHECK_MAX_AGE_HOURS must be a whole number" ;;
esac
case "$jobs" in
  '' | *[!0-9]* | 0) die "RESTORE_CHECK_JOBS must be a positive integer" ;;
esac
[ -d "$BACKUP_DIR" ] || die "BACKUP_DIR $BACKUP_DIR is not a directory"

if [ -n "${PGPASSWORD_FILE:-}" ]; then
  [ -r "$PGPASSWORD_FILE" ] || die "PGPASSWORD_FILE $PGPASSWORD_FILE is not readable"
  PGPASSWORD="$(cat "$PGPASSWORD_FILE")"
  export PGPASSWORD
fi

# psql against one database; -X ignores any psqlrc, ON_ERROR_STOP makes SQL errors fatal.
sql() {
  db="$1"
  shift
  PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" \
    psql --no-password -X -q -A -t -v ON_ERROR_STOP=1 --dbname="$db" "$@"
}

newest="$(find "$BACKUP_DIR" -maxdepth 1 -type f -name "${prefix}-*.dump" | sed 's|.*/||' | sort | tail -n 1)"
[ -n "$newest" ] || die "no backup named ${prefix}-*.dump in $BACKUP_DIR"
dump="$BACKUP_DIR/$newest"
log "newest backup: $newest"

if [ "$max_age_hours" -gt 0 ]; then
  fresh="$(find "$BACKUP_DIR" -maxdepth 1 -type f -name "$newest" -mmin "-$((max_age_hours * 60))")"
  [ -n "$fresh" ] || die "the newest backup $newest is older than $max_age_hours hours: is the backup job running?"
fi

[ -f "$dump.sha256" ] || die "$newest has no .sha256 file: incomplete backup"
[ -f "$dump.counts" ] || die "$newest has no .counts file: incomplete backup"
expected_sum="$(cut -d ' ' -f 1 <"$dump.sha256")"
actual_sum="$(sha256sum <"$dump" | cut -d ' ' -f 1)"
[ "$expected_sum" = "$actual_sum" ] || die "$newest does not match its checksum: the file is damaged"

drop_scratch() {
  sql "$maintenance" -c "DROP DATABASE IF EXISTS \"$scratch\" WITH (FORCE)"
}
cleanup() {
  status=$?
  if [ "$keep" != 1 ]; then
    drop_scratch || log "could not drop the scratch database $scratch"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

drop_scratch
sql "$maintenance" -c "CREATE DATABASE \"$scratch\" TEMPLATE template0"

log "restoring into scratch database $scratch"
# Owners and grants name roles that the scratch server need not have; they are not what is checked here.
pg_restore --no-password --dbname="$scratch" --no-owner --no-privileges --exit-on-error --jobs="$jobs" "$dump" ||
  die "pg_restore of $newest failed"

failures=0
tables=0
rows=0
tab="$(printf '\t')"
while IFS="$tab" read -r table expected; do
  [ -n "$table" ] || continue
  tables=$((tables + 1))
  # The names are pg_dump's, already quoted where they need it.
  actual="$(sql "$scratch" -c "SELECT count(*) FROM $table" </dev/null)" || {
    log "table $table: missing after the restore"
    failures=$((failures + 1))
    continue
  }
  if [ "$actual" != "$expected" ]; then
    log "table $table: $actual rows restored, the backup holds $expected"
    failures=$((failures + 1))
  fi
  rows=$((rows + actual))
done <"$dump.counts"

# Every ordinary table the restore created must be one the backup accounted for (extension-owned excluded).
restored_tables="$(sql "$scratch" -c "
  SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind = 'r'
    AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
    AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')")"
if [ "$restored_tables" != "$tables" ]; then
  log "the restore holds $restored_tables tables, the backup records $tables"
  failures=$((failures + 1))
fi

for table in $required; do
  # Passed as a psql variable, quoted by psql: the name never becomes SQL text.
  present="$(echo "SELECT to_regclass(:'table') IS NOT NULL;" | sql "$scratch" -v table="$table")"
  if [ "$present" != t ]; then
    log "required table $table is missing"
    failures=$((failures + 1))
  fi
done

[ "$failures" -eq 0 ] || die "$failures problem(s) restoring $newest"
log "passed: $newest restored with $tables tables and $rows rows, matching the backup"
