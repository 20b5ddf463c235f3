#!/usr/bin/env bash
# Backup drill on a real PostgreSQL 15: seeds a database, runs deploy/scripts/backup.sh the way the backup
# CronJob does (POSIX sh, a non-root user, libpq variables and a password file), checks retention, then runs
# deploy/scripts/restore-check.sh and compares the restored scratch database with the source on its own.
# Then the same encrypted to a gpg key made here (the plain archive never on disk, the restore check
# decrypting with the private key only after the checksum held), copied to an S3-compatible bucket (s3rver,
# a test double from the delivery checks' node packages) with deploy/scripts/offsite.sh, pulled back and
# restored from there.
# Prints one "ok N - ..." or "not ok N - ..." line per step (TAP), and exits non-zero if any step failed.
#
# Needs the PostgreSQL 15 server binaries (PG_BIN, default /usr/lib/postgresql/15/bin), an OS user
# "postgres" to run them (initdb refuses root), gpg, curl, and node with tests/Delivery/node_modules (npm ci)
# for a free port and s3rver.
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
s3rver_pid=""
stop_cluster() {
  if [[ -f "$work/data/postmaster.pid" ]]; then
    runuser -u "$os_user" -- "$pg_bin/pg_ctl" -D "$work/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [[ -n "$s3rver_pid" ]]; then kill "$s3rver_pid" 2>/dev/null || true; fi
  for home in "$work"/gnupg-*; do
    if [[ -d "$home" ]]; then runuser -u "$os_user" -- gpgconf --homedir "$home" --kill gpg-agent >/dev/null 2>&1 || true; fi
  done
  rm -rf "$work"
}
trap stop_cluster EXIT

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
port="$(free_port)"
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

# --- encrypted: to a gpg key made here; the backup job has only the public half ----------------------
# Keys as an operator makes them (docs/runbook.md): an ed25519 primary and a cv25519 encryption subkey.
make_key() {
  local home="$work/gnupg-$1"
  mkdir -m 0700 "$home"
  chown "$os_user:" "$home"
  runuser -u "$os_user" -- gpg --batch --quiet --homedir "$home" --passphrase '' \
    --quick-gen-key "bot backups $1 <backups-$1@bot.invalid>" ed25519 cert never &&
    fpr="$(runuser -u "$os_user" -- gpg --batch --homedir "$home" --with-colons --list-keys | awk -F: '/^fpr/ { print $10; exit }')" &&
    runuser -u "$os_user" -- gpg --batch --quiet --homedir "$home" --passphrase '' --quick-add-key "$fpr" cv25519 encr never &&
    runuser -u "$os_user" -- gpg --batch --homedir "$home" --armor --export >"$secrets/$1.pub.asc" &&
    runuser -u "$os_user" -- gpg --batch --homedir "$home" --armor --pinentry-mode loopback --passphrase '' \
      --export-secret-keys >"$secrets/$1.key.asc" &&
    chown "$os_user:" "$secrets/$1.pub.asc" "$secrets/$1.key.asc" && chmod 0400 "$secrets/$1.pub.asc" "$secrets/$1.key.asc"
}
enc_dir="$work/encrypted"
mkdir -p "$enc_dir"
mkdir -m 0700 "$work/gnupg-list"
chown "$os_user:" "$enc_dir"
encrypted_dumps() { find "$enc_dir" -maxdepth 1 -name 'bot-*.dump*' ! -name '*.sha256' ! -name '*.counts' | sed 's|.*/||' | sort; }
if make_key backup >"$log" 2>&1 && make_key other >>"$log" 2>&1 &&
  run_backup BACKUP_DIR="$enc_dir" BACKUP_RETENTION=1 BACKUP_ENCRYPT_PUBLIC_KEY="$secrets/backup.pub.asc" \
    BACKUP_REQUIRE_ENCRYPTION=1 >>"$log" 2>&1 && [[ "$(encrypted_dumps | wc -l)" -eq 1 ]]; then
  sealed="$(encrypted_dumps)"
  # pg_dump's custom format starts with PGDMP; no file in the directory (nor a leftover) may hold it.
  if [[ "$sealed" == *.dump.gpg ]] && ! grep -rlq PGDMP "$enc_dir" && ! pg_restore --list "$enc_dir/$sealed" >/dev/null 2>&1 &&
    { gpg --batch --homedir "$work/gnupg-list" --list-packets "$enc_dir/$sealed" 2>/dev/null || true; } | grep -q 'pubkey enc packet' &&
    (cd "$enc_dir" && sha256sum --quiet -c "$sealed.sha256") >>"$log" 2>&1; then
    ok "backup.sh with a public key wrote $sealed: gpg-encrypted, no plain archive anywhere, checksum of the encrypted file"
  else
    ls -la "$enc_dir" >>"$log"
    not_ok "backup.sh with a public key wrote only an encrypted archive" "$log"
  fi
else
  not_ok "backup.sh with a public key succeeded" "$log"
fi

expected_now="$work/expected-now.counts"
{
  for t in public.schema_migrations public.subscribers public.inbox public.outbox 'public."JoinDecisions"' \
    public.dead_letters audit.events_2025 audit.events_2026; do
    printf '%s\t%s\n' "$t" "$(source_count bot "$t")"
  done
} | sort >"$expected_now"
if [[ -n "${sealed:-}" ]] && diff -u "$expected_now" <(sort "$enc_dir/$sealed.counts") >"$log" 2>&1; then
  ok "the encrypted backup's row counts, read from the stream on its way to gpg, match the source"
else
  not_ok "the encrypted backup's row counts match the source" "$log"
fi

sleep 1
if run_backup BACKUP_DIR="$enc_dir" BACKUP_RETENTION=1 BACKUP_ENCRYPT_PUBLIC_KEY="$secrets/backup.pub.asc" >"$log" 2>&1 &&
  [[ "$(encrypted_dumps | wc -l)" -eq 1 && "$(encrypted_dumps)" != "${sealed:-}" && ! -e "$enc_dir/${sealed:-none}.sha256" ]]; then
  sealed="$(encrypted_dumps)"
  ok "retention 1 counts encrypted archives: $sealed replaced the previous one and its files"
else
  ls -la "$enc_dir" >>"$log"
  not_ok "retention counts encrypted archives" "$log"
fi

before="$(find "$enc_dir" -type f | wc -l)"
if ! run_backup BACKUP_DIR="$enc_dir" BACKUP_REQUIRE_ENCRYPTION=1 >"$log" 2>&1 && grep -q 'refusing to write an unencrypted backup' "$log" &&
  [[ "$(find "$enc_dir" -type f | wc -l)" -eq "$before" ]]; then
  ok "backup.sh refuses an unencrypted backup where encryption is required, and writes nothing"
else
  not_ok "backup.sh refuses an unencrypted backup where encryption is required" "$log"
fi

if run_restore_check "$enc_dir" RESTORE_CHECK_DECRYPT_KEY="$secrets/backup.key.asc" RESTORE_CHECK_KEEP=1 \
  RESTORE_CHECK_MAX_AGE_HOURS=1 RESTORE_CHECK_REQUIRED_TABLES='public.schema_migrations public.inbox' >"$log" 2>&1 &&
  grep -q 'checksum verified' "$log" && grep -q 'passed' "$log" &&
  [[ "$(as_superuser -d bot_restore_check -c "$compare_sql" 2>&1)" == "$(as_superuser -d bot -c "$compare_sql")" ]]; then
  ok "restore-check.sh verified the checksum, decrypted with the private key and restored an equal database"
else
  not_ok "restore-check.sh restores an encrypted backup" "$log"
fi

if ! run_restore_check "$enc_dir" >"$log" 2>&1 && grep -q 'is encrypted: set RESTORE_CHECK_DECRYPT_KEY' "$log"; then
  ok "restore-check.sh fails on an encrypted backup without the private key"
else
  not_ok "restore-check.sh fails on an encrypted backup without the private key" "$log"
fi

if ! run_restore_check "$enc_dir" RESTORE_CHECK_DECRYPT_KEY="$secrets/other.key.asc" >"$log" 2>&1 &&
  grep -q 'could not decrypt' "$log"; then
  ok "restore-check.sh fails with another key"
else
  not_ok "restore-check.sh fails with another key" "$log"
fi

bad_enc="$work/bad-encrypted"
mkdir -p "$bad_enc"
cp "$enc_dir/${sealed:-none}" "$enc_dir/${sealed:-none}.sha256" "$enc_dir/${sealed:-none}.counts" "$bad_enc/" 2>/dev/null || true
printf 'x' | dd of="$bad_enc/${sealed:-none}" bs=1 seek=300 conv=notrunc status=none
chown -R "$os_user:" "$bad_enc"
if ! run_restore_check "$bad_enc" RESTORE_CHECK_DECRYPT_KEY="$secrets/backup.key.asc" >"$log" 2>&1 &&
  grep -q 'does not match its checksum' "$log" && ! grep -q 'checksum verified' "$log"; then
  ok "restore-check.sh refuses a damaged encrypted file on its checksum, before decrypting"
else
  not_ok "restore-check.sh refuses a damaged encrypted file before decrypting" "$log"
fi

# --- off the cluster: an S3-compatible bucket --------------------------------------------------------
s3rver="$here/node_modules/.bin/s3rver"
s3_port="$(free_port)"
bucket_url="http://127.0.0.1:$s3_port/bot-backups"
creds="$work/offsite-credentials"
mkdir -p "$creds" "$work/s3"
printf '%s' 'S3RVER' >"$creds/access-key-id"
printf '%s' 'S3RVER' >"$creds/secret-access-key"
chown -R "$os_user:" "$creds"
chmod 0400 "$creds"/*
run_offsite() {
  local mode="$1"
  shift
  runuser -u "$os_user" -- env -i PATH="$PATH" HOME="$work" TMPDIR="$work" OFFSITE_BUCKET_URL="$bucket_url" \
    OFFSITE_PREFIX=bot-drill/ OFFSITE_REGION=eu-central-1 OFFSITE_CREDENTIALS_DIR="$creds" "$@" \
    sh "$scripts/offsite.sh" "$mode"
}
s3_keys() {
  curl -fsS --aws-sigv4 "aws:amz:eu-central-1:s3" --user S3RVER:S3RVER \
    -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
    "$bucket_url/?list-type=2&prefix=bot-drill%2F" | tr '<' '\n' | sed -n 's/^Key>//p'
}
if [[ -x "$s3rver" ]]; then
  "$s3rver" --directory "$work/s3" --address 127.0.0.1 --port "$s3_port" --configure-bucket bot-backups \
    --silent >"$work/s3rver.log" 2>&1 &
  s3rver_pid=$!
  for _ in $(seq 1 50); do (echo >"/dev/tcp/127.0.0.1/$s3_port") 2>/dev/null && break; sleep 0.1; done
fi
if [[ -n "$s3rver_pid" ]] && run_offsite push BACKUP_DIR="$enc_dir" >"$log" 2>&1 &&
  [[ "$(s3_keys | sort | tr '\n' ' ')" == "bot-drill/$sealed bot-drill/$sealed.counts bot-drill/$sealed.sha256 " ]]; then
  ok "offsite.sh push put $sealed, its .counts and its .sha256 into the bucket (s3rver on port $s3_port)"
else
  cat "$work/s3rver.log" >>"$log" 2>/dev/null || true
  not_ok "offsite.sh push uploads the newest backup" "$log"
fi

# A newer archive without its .sha256 (an upload cut short) is not a backup: pull takes the complete one.
printf 'partial' >"$work/partial-upload"
curl -fsS --aws-sigv4 "aws:amz:eu-central-1:s3" --user S3RVER:S3RVER -H "x-amz-content-sha256: $(sha256sum <"$work/partial-upload" | cut -d ' ' -f 1)" \
  -T "$work/partial-upload" "$bucket_url/bot-drill/bot-29991231T235959Z.dump.gpg" >/dev/null 2>&1 || true
pulled="$work/pulled"
mkdir -p "$pulled"
chown "$os_user:" "$pulled"
if run_offsite pull BACKUP_DIR="$pulled" >"$log" 2>&1 && [[ -f "$pulled/${sealed:-none}" ]] &&
  cmp -s "$pulled/$sealed" "$enc_dir/$sealed" && cmp -s "$pulled/$sealed.sha256" "$enc_dir/$sealed.sha256" &&
  [[ ! -e "$pulled/bot-29991231T235959Z.dump.gpg" ]]; then
  ok "offsite.sh pull fetched the newest complete backup ($sealed), not a newer archive without its checksum"
else
  ls -la "$pulled" >>"$log"
  not_ok "offsite.sh pull fetches the newest complete backup" "$log"
fi

if run_restore_check "$pulled" RESTORE_CHECK_DECRYPT_KEY="$secrets/backup.key.asc" RESTORE_CHECK_MAX_AGE_HOURS=1 >"$log" 2>&1 &&
  grep -q 'passed' "$log"; then
  ok "restore-check.sh restored the copy pulled from the bucket"
else
  not_ok "restore-check.sh restores the copy pulled from the bucket" "$log"
fi

if ! run_offsite pull BACKUP_DIR="$pulled" >"$log" 2>&1 && grep -q 'already holds backups' "$log" &&
  ! run_offsite pull BACKUP_DIR="$work/socket" OFFSITE_PREFIX=nothing-here/ >>"$log" 2>&1 && grep -q 'no complete backup' "$log"; then
  ok "offsite.sh pull refuses a directory that holds backups, and fails when the bucket has none"
else
  not_ok "offsite.sh pull refuses a used directory and an empty prefix" "$log"
fi

# The recorded checksum with its first digit changed (0 becomes 1, anything else 0): always a different checksum.
tampered="$work/tampered"
mkdir -p "$tampered"
cp "$enc_dir/$sealed" "$enc_dir/$sealed.counts" "$tampered/" && sed 's/^0/x/; s/^[^x]/0/; s/^x/1/' "$enc_dir/$sealed.sha256" >"$tampered/$sealed.sha256"
chown -R "$os_user:" "$tampered"
if ! run_offsite push BACKUP_DIR="$tampered" >"$log" 2>&1 && grep -q 'not uploading a damaged file' "$log"; then
  ok "offsite.sh push refuses an archive that does not match its checksum"
else
  not_ok "offsite.sh push refuses an archive that does not match its checksum" "$log"
fi

echo "# drill: $step steps, $failed failed"
[[ "$failed" -eq 0 ]]
