#!/bin/sh
# Backups off the cluster: copies them to an S3-compatible bucket and back, with curl's own SigV4 signing
# (curl 7.75 or later; the chart runs this in the curl image it pins, after backup.sh and before
# restore-check.sh).
#
#   offsite.sh push   uploads the newest complete backup in BACKUP_DIR: the archive, its .counts and, last,
#                     its .sha256, so that a .sha256 in the bucket means the backup beside it is whole. The
#                     archive goes up with x-amz-content-sha256 set to its recorded checksum, so the store
#                     refuses a body that differs from what backup.sh wrote; its size is read back after.
#   offsite.sh pull   downloads the newest backup whose .sha256 is in the bucket into BACKUP_DIR (which must
#                     be empty), for restore-check.sh, which checks the archive against that separate
#                     checksum object before it decrypts anything.
#
# Settings:
#   OFFSITE_BUCKET_URL       the bucket: path-style (https://s3.eu-central-1.amazonaws.com/bot-backups,
#                            https://minio.example.com:9000/bot-backups) or virtual-hosted
#                            (https://bot-backups.s3.eu-central-1.amazonaws.com); required
#   OFFSITE_PREFIX           key prefix, e.g. "bot-prod/" (A-Z, a-z, 0-9, . _ - /; default none)
#   OFFSITE_REGION           the SigV4 region (default us-east-1)
#   OFFSITE_CREDENTIALS_DIR  a directory with the files access-key-id and secret-access-key (a mounted
#                            Secret); without it AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
#   OFFSITE_CA_FILE          CA bundle for a store whose certificate a private CA signs
#   BACKUP_DIR, BACKUP_PREFIX  as in backup.sh
#
# Old objects are the bucket's business: a lifecycle rule expires them (and object lock or versioning keeps
# them from being overwritten). push needs only PutObject (and GetObject for the size check), pull only
# ListBucket and GetObject. A single PUT takes at most 5 GiB; a larger archive is refused.
set -eu

log() { printf '%s offsite: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

mode="${1:-}"
case "$mode" in
  push | pull) ;;
  *) die "usage: offsite.sh push|pull" ;;
esac
: "${BACKUP_DIR:?BACKUP_DIR must be set}"
: "${OFFSITE_BUCKET_URL:?OFFSITE_BUCKET_URL must be set}"
url="${OFFSITE_BUCKET_URL%/}"
key_prefix="${OFFSITE_PREFIX:-}"
region="${OFFSITE_REGION:-us-east-1}"
prefix="${BACKUP_PREFIX:-bot}"
ca_file="${OFFSITE_CA_FILE:-}"

case "$url" in
  https://?* | http://?*) ;;
  *) die "OFFSITE_BUCKET_URL must start with https:// (or http:// for a test double), got '$url'" ;;
esac
case "$key_prefix" in
  *[!A-Za-z0-9._/-]* | /*) die "OFFSITE_PREFIX may hold only A-Z, a-z, 0-9, . _ - and / (and must not start with /)" ;;
esac
case "$prefix" in
  '' | *[!A-Za-z0-9_-]*) die "BACKUP_PREFIX may hold only A-Z, a-z, 0-9, _ and -" ;;
esac
case "$region" in
  '' | *[!a-z0-9-]*) die "OFFSITE_REGION must look like eu-central-1" ;;
esac
[ -z "$ca_file" ] || [ -r "$ca_file" ] || die "OFFSITE_CA_FILE $ca_file is not readable"
[ -d "$BACKUP_DIR" ] || die "BACKUP_DIR $BACKUP_DIR is not a directory"

if [ -n "${OFFSITE_CREDENTIALS_DIR:-}" ]; then
  for file in access-key-id secret-access-key; do
    [ -r "$OFFSITE_CREDENTIALS_DIR/$file" ] || die "OFFSITE_CREDENTIALS_DIR has no readable $file"
  done
  access_key="$(cat "$OFFSITE_CREDENTIALS_DIR/access-key-id")"
  secret_key="$(cat "$OFFSITE_CREDENTIALS_DIR/secret-access-key")"
else
  access_key="${AWS_ACCESS_KEY_ID:-}"
  secret_key="${AWS_SECRET_ACCESS_KEY:-}"
fi
if [ -z "$access_key" ] || [ -z "$secret_key" ]; then
  die "no access key: set OFFSITE_CREDENTIALS_DIR (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
fi
case "$access_key$secret_key" in
  *[\"\\:[:space:]]*) die "the access key or secret holds a quote, a backslash, a colon or a space" ;;
esac

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# SHA-256 of an empty body: the payload hash of every request without one.
empty_sha256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

# One signed request. The credentials reach curl on its standard input as a config line, never as an
# argument (arguments are visible to every process in the pod).
s3() {
  if [ -n "$ca_file" ]; then set -- --cacert "$ca_file" "$@"; fi
  printf 'user = "%s:%s"\n' "$access_key" "$secret_key" |
    curl --config - --fail --silent --show-error --retry 3 --retry-delay 2 --connect-timeout 10 \
      --aws-sigv4 "aws:amz:$region:s3" "$@"
}
sha256_of() { sha256sum <"$1" | cut -d ' ' -f 1; }

# Uploads FILE as KEY, signing the file's SHA-256 (which the store checks the body against).
put() {
  s3 --upload-file "$1" -H "x-amz-content-sha256: $2" -o /dev/null "$url/$3"
}
get() {
  s3 -H "x-amz-content-sha256: $empty_sha256" -o "$2" "$url/$1"
}

# Every key under the prefix, one a line (ListObjectsV2, page by page). A query's values are sent encoded as
# SigV4 wants them ("/" as %2F), in name order.
list_keys() {
  encoded_prefix="$(printf '%s' "$key_prefix" | sed 's|/|%2F|g')"
  token=""
  pages=0
  while :; do
    query="list-type=2&prefix=$encoded_prefix"
    [ -z "$token" ] || query="continuation-token=$(printf '%s' "$token" | sed 's|+|%2B|g; s|/|%2F|g; s|=|%3D|g')&$query"
    s3 -H "x-amz-content-sha256: $empty_sha256" -o "$work/page.xml" "$url/?$query" ||
      die "listing $url under '$key_prefix' failed"
    tr '<' '\n' <"$work/page.xml" | sed -n 's/^Key>//p'
    pages=$((pages + 1))
    grep -q '<IsTruncated>true</IsTruncated>' "$work/page.xml" || break
    token="$(tr '<' '\n' <"$work/page.xml" | sed -n 's/^NextContinuationToken>//p')"
    [ -n "$token" ] || die "the listing is truncated but names no continuation token"
    [ "$pages" -lt 1000 ] || die "more than 1000 pages of objects under '$key_prefix': does a lifecycle rule expire them?"
  done
}

push() {
  newest="$(find "$BACKUP_DIR" -maxdepth 1 -type f \( -name "${prefix}-*.dump" -o -name "${prefix}-*.dump.gpg" \) |
    sed 's|.*/||' | sort | tail -n 1)"
  [ -n "$newest" ] || die "no backup named ${prefix}-*.dump or ${prefix}-*.dump.gpg in $BACKUP_DIR"
  archive="$BACKUP_DIR/$newest"
  [ -f "$archive.sha256" ] || die "$newest has no .sha256 file: incomplete backup"
  [ -f "$archive.counts" ] || die "$newest has no .counts file: incomplete backup"
  expected="$(cut -d ' ' -f 1 <"$archive.sha256")"
  [ "$(sha256_of "$archive")" = "$expected" ] || die "$newest does not match its checksum: not uploading a damaged file"
  size="$(wc -c <"$archive" | tr -d ' ')"
  [ "$size" -le 5368709120 ] || die "$newest is $size bytes, more than a single PUT takes (5 GiB)"

  log "uploading $newest ($size bytes) to $url/$key_prefix"
  put "$archive" "$expected" "$key_prefix$newest" || die "upload of $newest failed"
  put "$archive.counts" "$(sha256_of "$archive.counts")" "$key_prefix$newest.counts" || die "upload of $newest.counts failed"
  s3 --head -H "x-amz-content-sha256: $empty_sha256" -o /dev/null -D "$work/head" "$url/$key_prefix$newest" ||
    die "could not read back $newest"
  stored="$(tr -d '\r' <"$work/head" | awk -F ': *' 'tolower($1) == "content-length" { n = $2 } END { print n }')"
  [ "$stored" = "$size" ] || die "the bucket holds $stored bytes of $newest, $size were sent"
  # Last: the checksum object marks the backup complete.
  put "$archive.sha256" "$(sha256_of "$archive.sha256")" "$key_prefix$newest.sha256" || die "upload of $newest.sha256 failed"
  log "done: $newest, $newest.counts and $newest.sha256 are in the bucket"
}

pull() {
  [ -w "$BACKUP_DIR" ] || die "BACKUP_DIR $BACKUP_DIR is not writable"
  [ -z "$(find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -name "${prefix}-*")" ] || die "BACKUP_DIR $BACKUP_DIR already holds backups"
  list_keys >"$work/keys"
  checksum_key="$(grep -E "^${key_prefix}${prefix}-[0-9]{8}T[0-9]{6}Z\\.dump(\\.gpg)?\\.sha256\$" "$work/keys" | sort | tail -n 1 || true)"
  [ -n "$checksum_key" ] || die "no complete backup (${prefix}-*.sha256) in $url under '$key_prefix'"
  name="${checksum_key#"$key_prefix"}"
  name="${name%.sha256}"
  log "newest backup in the bucket: $name"
  get "$key_prefix$name.sha256" "$BACKUP_DIR/$name.sha256" || die "download of $name.sha256 failed"
  get "$key_prefix$name.counts" "$BACKUP_DIR/$name.counts" || die "download of $name.counts failed"
  get "$key_prefix$name" "$BACKUP_DIR/.$name.partial" || die "download of $name failed"
  mv "$BACKUP_DIR/.$name.partial" "$BACKUP_DIR/$name"
  log "downloaded $name ($(wc -c <"$BACKUP_DIR/$name" | tr -d ' ') bytes) with its .sha256 and .counts"
}

"$mode"
