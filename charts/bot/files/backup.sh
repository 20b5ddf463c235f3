#!/bin/sh
# Logical backup of the bot's database, run by the chart's backup CronJob.
#
# Takes a pg_dump in custom format into BACKUP_DIR, proves the archive reads back, records its checksum and
# the row count of every table in it (what restore-check.sh compares a restore against), and keeps the
# newest BACKUP_RETENTION backups.
#
# With BACKUP_ENCRYPT_PUBLIC_KEY the archive is encrypted with gpg to that OpenPGP public key as it is
# written: the dump streams through the row count and the encryption, so the plain archive never reaches
# a disk, and this job never holds the key that decrypts it (restore-check.sh gets that one). The checksum
# is then the encrypted file's, so it can be checked before anything is decrypted.
#
# Connection: the standard libpq variables (PGHOST, PGPORT, PGDATABASE, PGUSER, PGSSLMODE, ...). The
# password comes from PGPASSWORD_FILE (a mounted Secret key, preferred) or PGPASSWORD.
#
# Settings:
#   BACKUP_DIR         where backups go (a mounted volume); required
#   BACKUP_RETENTION   how many backups to keep, newest first (default 7)
#   BACKUP_PREFIX      file name prefix (default "bot")
#   BACKUP_COMPRESS    pg_dump compression level 0-9 (default 6)
#   BACKUP_ENCRYPT_PUBLIC_KEY   OpenPGP public key file (armored or binary) to encrypt to
#   BACKUP_REQUIRE_ENCRYPTION   1: refuse to write an unencrypted backup (default 0)
#
# Files written per backup: the archive <prefix>-<UTC timestamp>.dump (or .dump.gpg, encrypted), and beside
# it <archive>.sha256 and <archive>.counts.
# Exit code 0 only when the new backup is complete; a partial file never carries the final name.
set -eu

log() { printf '%s backup: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

: "${BACKUP_DIR:?BACKUP_DIR must be set}"
retention="${BACKUP_RETENTION:-7}"
prefix="${BACKUP_PREFIX:-bot}"
compress="${BACKUP_COMPRESS:-6}"
public_key="${BACKUP_ENCRYPT_PUBLIC_KEY:-}"
require_encryption="${BACKUP_REQUIRE_ENCRYPTION:-0}"

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
if [ -n "$public_key" ]; then
  [ -r "$public_key" ] || die "BACKUP_ENCRYPT_PUBLIC_KEY $public_key is not readable"
  command -v gpg >/dev/null || die "gpg is not installed, so the backup cannot be encrypted"
elif [ "$require_encryption" = 1 ]; then
  die "BACKUP_REQUIRE_ENCRYPTION is set but no BACKUP_ENCRYPT_PUBLIC_KEY was given: refusing to write an unencrypted backup"
fi
[ -d "$BACKUP_DIR" ] || die "BACKUP_DIR $BACKUP_DIR is not a directory"
[ -w "$BACKUP_DIR" ] || die "BACKUP_DIR $BACKUP_DIR is not writable"

if [ -n "${PGPASSWORD_FILE:-}" ]; then
  [ -r "$PGPASSWORD_FILE" ] || die "PGPASSWORD_FILE $PGPASSWORD_FILE is not readable"
  PGPASSWORD="$(cat "$PGPASSWORD_FILE")"
  export PGPASSWORD
fi

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
name="${prefix}-${stamp}.dump"
[ -z "$public_key" ] || name="$name.gpg"
final="$BACKUP_DIR/$name"
partial="$BACKUP_DIR/.${name}.partial"
[ ! -e "$final" ] || die "$final already exists (two backups in the same second?)"

work="$(mktemp -d)"
list="$work/list"
cleanup() { rm -f "$partial" "$partial.sha256" "$partial.counts"; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The archive as it is stored: encrypted to the public key, or as pg_dump wrote it. gpg needs a home of its
# own (the root filesystem is read-only); it only encrypts, so it starts no agent.
seal() {
  if [ -n "$public_key" ]; then
    mkdir -m 0700 "$work/gnupg"
    gpg --batch --no-tty --quiet --no-autostart --homedir "$work/gnupg" --trust-model always \
      --compress-algo none --recipient-file "$public_key" --encrypt --output -
  else
    cat
  fi
}

log "dumping database '${PGDATABASE:-?}' on ${PGHOST:-local socket} to $name${public_key:+ (encrypted to $(basename "$public_key"))}"
# One pass: pg_dump's archive goes through tee to pg_restore, whose reading of every table's data proves the
# archive complete and gives the row counts that the restore check holds the restored database to (in COPY
# text format one line is one row), and on to seal() and the file. sh has no pipefail: each stage notes its
# failure in a file, checked after the pipe.
mkfifo "$work/archive"
{ pg_restore --data-only --file=- <"$work/archive" || echo pg_restore >>"$work/failed"; } | awk '
  /^COPY / && / FROM stdin;$/ { table = $2; rows = 0; copying = 1; next }
  copying && $0 == "\\." { print table "\t" rows; copying = 0; next }
  copying { rows++ }
' >"$partial.counts" &
reader=$!
{ pg_dump --format=custom --compress="$compress" --no-password || echo pg_dump >>"$work/failed"; } |
  { tee "$work/archive" || echo tee >>"$work/failed"; } |
  { seal || echo encryption >>"$work/failed"; } >"$partial"
wait "$reader" || echo counting >>"$work/failed"
if [ -e "$work/failed" ]; then
  die "the backup failed ($(tr '\n' ' ' <"$work/failed" | sed 's/ $//') failed): the archive is incomplete or does not read back"
fi
[ -s "$partial" ] || die "the new archive is empty"
tables="$(wc -l <"$partial.counts" | tr -d ' ')"

checksum="$(sha256sum <"$partial" | cut -d ' ' -f 1)"
printf '%s  %s\n' "$checksum" "$name" >"$partial.sha256"

mv "$partial.counts" "$final.counts"
mv "$partial.sha256" "$final.sha256"
mv "$partial" "$final"
size="$(wc -c <"$final" | tr -d ' ')"
log "wrote $name ($size bytes, $tables tables)"

# Retention: names sort by time, so everything after the newest N goes. Only complete backups count, encrypted
# or not.
pruned=0
find "$BACKUP_DIR" -maxdepth 1 -type f \( -name "${prefix}-*.dump" -o -name "${prefix}-*.dump.gpg" \) | sed 's|.*/||' | sort -r |
  tail -n "+$((retention + 1))" >"$list"
while IFS= read -r old; do
  rm -f "$BACKUP_DIR/$old" "$BACKUP_DIR/$old.sha256" "$BACKUP_DIR/$old.counts"
  pruned=$((pruned + 1))
  log "pruned $old"
done <"$list"
# Checksums and counts whose backup is gone (a run stopped between its renames), and leftovers of
# interrupted runs older than a day.
for meta in "$BACKUP_DIR/${prefix}"-*.sha256 "$BACKUP_DIR/${prefix}"-*.counts; do
  [ -e "$meta" ] || continue
  [ -e "${meta%.*}" ] || rm -f "$meta"
done
find "$BACKUP_DIR" -maxdepth 1 -type f -name ".${prefix}-*.partial*" -mmin +1440 -exec rm -f {} + 2>/dev/null || true

kept="$(find "$BACKUP_DIR" -maxdepth 1 -type f \( -name "${prefix}-*.dump" -o -name "${prefix}-*.dump.gpg" \) | wc -l | tr -d ' ')"
log "done: kept $kept backup(s), pruned $pruned, retention $retention"
