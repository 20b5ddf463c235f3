#!/bin/sh
# Logical backup of the bot's database, run by the chart's backup CronJob.
#
# Takes a pg_dump in custom format into BACKUP_DIR, proves the archive reads back, records its checksum and
# the row count of every table in it (what restore-check.sh compares a restore against), and keeps the
# newest BACKUP_RETENTION backups.
#
# Connection: the standard libpq variables (PGHOST, PGPORT, PGDATABASE, PGUSER, PGSSLMODE, ...). The
# password comes from PGPASSWORD_FILE (a mounted Secret key, preferred) or PGPASSWORD.
#
# Settings:
#   BACKUP_DIR         where backups go (a mounted volume); required
#   BACKUP_RETENTION   how many backups to keep, newest first (default 7)
#   BACKUP_PREFIX      file name prefix (default "bot")
#   BACKUP_COMPRESS    pg_dump compression level 0-9 (default 6)
#
# Files written per backup: <prefix>-<UTC timestamp>.dump, .dump.sha256 and .dump.counts.
# Exit code 0 only when the new backup is complete; a partial file never carries the final name.
set -eu

log() { printf '%s backup: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

: "${BACKUP_DIR:?BACKUP_DIR must be set}"
retention="${BACKUP_RETENTION:-7}"
prefix="${BACKUP_PREFIX:-bot}"
compress="${BACKUP_COMPRESS:-6}"

case "$retention" in
  '' | *[!0-9]*) die "BACKUP_RETENTION must be a positive integer, got '$retention'" ;;
esac
[ "$retention" -ge 1 ] || die "BACKUP_RETENTION must be at least 1"
case "$prefix" in
  '' | *[!A-Za-z0-9_-]*) die "BACKUP_PREFIX may hold only A-Z, a-z, 0-9, _ and -" ;;
esac
case "$compress" in
  [0-9]) ;;
  *) die "BACKUP_COMPRESS must be 0-9" ;;
esac
[ -d "$BACKUP_DIR" ] || die "BACKUP_DIR $BACKUP_DIR is not a directory"
[ -w "$BACKUP_DIR" ] || die "BACKUP_DIR $BACKUP_DIR is not writable"

if [ -n "${PGPASSWORD_FILE:-}" ]; then
  [ -r "$PGPASSWORD_FILE" ] || die "PGPASSWORD_FILE $PGPASSWORD_FILE is not readable"
  PGPASSWORD="$(cat "$PGPASSWORD_FILE")"
  export PGPASSWORD
fi

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
name="${prefix}-${stamp}.dump"
final="$BACKUP_DIR/$name"
partial="$BACKUP_DIR/.${name}.partial"
[ ! -e "$final" ] || die "$final already exists (two backups in the same second?)"

list="$(mktemp)"
cleanup() { rm -f "$partial" "$partial.sha256" "$partial.counts" "$partial.status" "$list"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "dumping database '${PGDATABASE:-?}' on ${PGHOST:-local socket} to $name"
pg_dump --format=custom --compress="$compress" --no-password --file="$partial"

# Reading every table's data back proves the archive is complete, and gives the row counts that the
# restore check holds the restored database to. In COPY text format one line is one row.
# sh has no pipefail: pg_restore's failure is noted in a file and checked after the pipe.
{ pg_restore --data-only --file=- "$partial" || echo failed >"$partial.status"; } | awk '
  /^COPY / && / FROM stdin;$/ { table = $2; rows = 0; copying = 1; next }
  copying && $0 == "\\." { print table "\t" rows; copying = 0; next }
  copying { rows++ }
' >"$partial.counts"
[ ! -e "$partial.status" ] || die "the new archive does not read back (pg_restore failed)"
tables="$(wc -l <"$partial.counts" | tr -d ' ')"

checksum="$(sha256sum <"$partial" | cut -d ' ' -f 1)"
printf '%s  %s\n' "$checksum" "$name" >"$partial.sha256"

mv "$partial.counts" "$final.counts"
mv "$partial.sha256" "$final.sha256"
mv "$partial" "$final"
size="$(wc -c <"$final" | tr -d ' ')"
log "wrote $name ($size bytes, $tables tables)"

# Retention: names sort by time, so everything after the newest N goes. Only complete backups count.
pruned=0
find "$BACKUP_DIR" -maxdepth 1 -type f -name "${prefix}-*.dump" | sed 's|.*/||' | sort -r | tail -n "+$((retention + 1))" >"$list"
while IFS= read -r old; do
  rm -f "$BACKUP_DIR/$old" "$BACKUP_DIR/$old.sha256" "$BACKUP_DIR/$old.counts"
  pruned=$((pruned + 1))
  log "pruned $old"
done <"$list"
# Checksums and counts whose backup is gone (a run stopped between its renames), and leftovers of
# interrupted runs older than a day.
for meta in "$BACKUP_DIR/${prefix}"-*.dump.sha256 "$BACKUP_DIR/${prefix}"-*.dump.counts; do
  [ -e "$meta" ] || continue
  [ -e "${meta%.*}" ] || rm -f "$meta"
done
find "$BACKUP_DIR" -maxdepth 1 -type f -name ".${prefix}-*.partial*" -mmin +1440 -exec rm -f {} + 2>/dev/null || true

kept="$(find "$BACKUP_DIR" -maxdepth 1 -type f -name "${prefix}-*.dump" | wc -l | tr -d ' ')"
log "done: kept $kept backup(s), pruned $pruned, retention $retention"
