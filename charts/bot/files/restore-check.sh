#!/bin/sh
# Restore check, run by the chart's restore-check CronJob: a backup is only known good once it has been
# restored. Restores the newest backup written by backup.sh into a scratch database and holds the result
# to the backup's own record: the same tables, each with the same number of rows. An encrypted backup
# (.dump.gpg) has its checksum checked first, then is decrypted with RESTORE_CHECK_DECRYPT_KEY on its way
# into pg_restore (the plain archive is written to a disk only for a parallel restore).
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
#   RESTORE_CHECK_DECRYPT_KEY           OpenPGP private key file (armored or binary) for .dump.gpg backups
#   RESTORE_CHECK_DECRYPT_PASSPHRASE_FILE  the key's passphrase, when it has one
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
decrypt_key="${RESTORE_CHECK_DECRYPT_KEY:-}"
passphrase_file="${RESTORE_CHECK_DECRYPT_PASSPHRASE_FILE:-}"

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

newest="$(find "$BACKUP_DIR" -maxdepth 1 -type f \( -name "${prefix}-*.dump" -o -name "${prefix}-*.dump.gpg" \) |
  sed 's|.*/||' | sort | tail -n 1)"
[ -n "$newest" ] || die "no backup named ${prefix}-*.dump or ${prefix}-*.dump.gpg in $BACKUP_DIR"
dump="$BACKUP_DIR/$newest"
log "newest backup: $newest"

# The backup's age is its name's: the time pg_dump started (a copy fetched from the bucket is new as a file).
if [ "$max_age_hours" -gt 0 ]; then
  stamp="${newest#"$prefix"-}"
  stamp="${stamp%%.*}"
  taken="$(echo "$stamp" | sed -n 's/^\([0-9]\{4\}\)\([0-9]\{2\}\)\([0-9]\{2\}\)T\([0-9]\{2\}\)\([0-9]\{2\}\)\([0-9]\{2\}\)Z$/\1-\2-\3 \4:\5:\6/p')"
  [ -n "$taken" ] || die "$newest does not carry a time stamp in its name (<prefix>-YYYYmmddTHHMMSSZ)"
  age=$(($(date -u +%s) - $(date -u -d "$taken" +%s)))
  [ "$age" -le $((max_age_hours * 3600)) ] ||
    die "the newest backup $newest is older than $max_age_hours hours: is the backup job running?"
fi

[ -f "$dump.sha256" ] || die "$newest has no .sha256 file: incomplete backup"
[ -f "$dump.counts" ] || die "$newest has no .counts file: incomplete backup"
expected_sum="$(cut -d ' ' -f 1 <"$dump.sha256")"
actual_sum="$(sha256sum <"$dump" | cut -d ' ' -f 1)"
[ "$expected_sum" = "$actual_sum" ] || die "$newest does not match its checksum: the file is damaged"
log "checksum verified (sha256 $actual_sum)"

work="$(mktemp -d)"
early_cleanup() {
  status=$?
  if [ -n "${GNUPGHOME:-}" ]; then gpgconf --kill gpg-agent >/dev/null 2>&1 || true; fi
  rm -rf "$work"
  exit "$status"
}
trap early_cleanup EXIT
encrypted=0
case "$newest" in
  *.gpg)
    encrypted=1
    [ -n "$decrypt_key" ] || die "$newest is encrypted: set RESTORE_CHECK_DECRYPT_KEY to the private key's file"
    [ -r "$decrypt_key" ] || die "RESTORE_CHECK_DECRYPT_KEY $decrypt_key is not readable"
    [ -z "$passphrase_file" ] || [ -r "$passphrase_file" ] || die "RESTORE_CHECK_DECRYPT_PASSPHRASE_FILE is not readable"
    command -v gpg >/dev/null || die "gpg is not installed, so $newest cannot be decrypted"
    # A home of its own for the imported key, removed (agent included) when the check ends.
    export GNUPGHOME="$work/gnupg"
    mkdir -m 0700 "$GNUPGHOME"
    gpg --batch --no-tty --quiet --import "$decrypt_key" 2>"$work/gpg.log" || {
      cat "$work/gpg.log" >&2
      die "could not import the private key from RESTORE_CHECK_DECRYPT_KEY"
    }
    ;;
esac

# The archive, decrypted when it is encrypted, on stdout.
unseal() {
  if [ -n "$passphrase_file" ]; then
    gpg --batch --no-tty --quiet --pinentry-mode loopback --passphrase-file "$passphrase_file" --decrypt "$dump"
  else
    gpg --batch --no-tty --quiet --decrypt "$dump"
  fi
}

drop_scratch() {
  sql "$maintenance" -c "DROP DATABASE IF EXISTS \"$scratch\" WITH (FORCE)"
}
cleanup() {
  status=$?
  if [ "$keep" != 1 ]; then
    drop_scratch || log "could not drop the scratch database $scratch"
  fi
  if [ -n "${GNUPGHOME:-}" ]; then gpgconf --kill gpg-agent >/dev/null 2>&1 || true; fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

drop_scratch
sql "$maintenance" -c "CREATE DATABASE \"$scratch\" TEMPLATE template0"

log "restoring into scratch database $scratch"
# Owners and grants name roles that the scratch server need not have; they are not what is checked here.
restore_options="--no-password --dbname=$scratch --no-owner --no-privileges --exit-on-error"
if [ "$encrypted" -eq 0 ]; then
  # shellcheck disable=SC2086 # the options are words
  pg_restore $restore_options --jobs="$jobs" "$dump" || die "pg_restore of $newest failed"
elif [ "$jobs" -gt 1 ]; then
  # A parallel restore reads the archive out of order: it needs a file.
  unseal >"$work/archive.dump" 2>"$work/gpg.log" || { cat "$work/gpg.log" >&2; die "could not decrypt $newest"; }
  # shellcheck disable=SC2086
  pg_restore $restore_options --jobs="$jobs" "$work/archive.dump" || die "pg_restore of $newest failed"
  rm -f "$work/archive.dump"
else
  { unseal 2>"$work/gpg.log" || echo failed >"$work/gpg.status"; } | {
    # shellcheck disable=SC2086
    pg_restore $restore_options || echo failed >"$work/restore.status"
  }
  if [ -e "$work/gpg.status" ]; then
    cat "$work/gpg.log" >&2
    die "could not decrypt $newest (wrong key, or a damaged file that passed its checksum)"
  fi
  [ ! -e "$work/restore.status" ] || die "pg_restore of $newest failed"
fi

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
