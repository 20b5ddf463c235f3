#!/usr/bin/env bash
# Table sizes over a long soak: the tables that grow with traffic must level off once their retention has passed
# (the leader's purge; README "Retention"). A 30-minute soak cannot show it, as the shortest retention is a day:
# run soak.js for longer than the longest retention in force (SOAK_DURATION=52h with the defaults of 48 h for
# handled updates and sent messages), sample alongside it, then check the samples taken after the retention.
#   DATABASE_URL=postgres://... tests/Load/table-sizes.sh sample [INTERVAL_SECONDS] >> sizes.csv   (default 600)
#   tests/Load/table-sizes.sh check sizes.csv SETTLE_HOURS [TOLERANCE_PERCENT]                     (default 10)
# sample appends "unix_time,table,rows" lines (exact counts) until stopped. check takes, for each table, its first
# sample at least SETTLE_HOURS after the first sample of the file, and fails if any later sample is more than
# TOLERANCE_PERCENT above it (at a steady rate a bounded table holds about rate x retention rows). Dead letters and
# join decisions keep 14 and 180 days by default: lower Processing__DeadLetterRetentionDays and
# Bot__JoinDecisionRetentionDays for the soak, or read their lines as "growing until then".
set -euo pipefail
tables=(inbox outbox join_requests conversation_state flood_windows inbox_heads)

case "${1:-}" in
  sample)
    interval=${2:-600}
    : "${DATABASE_URL:?set DATABASE_URL to the bot database}"
    query=$(printf "SELECT extract(epoch FROM now())::bigint || ',%s,' || (SELECT count(*) FROM %s);" \
      "${tables[0]}" "${tables[0]}")
    for table in "${tables[@]:1}"; do
      query+=$(printf " SELECT extract(epoch FROM now())::bigint || ',%s,' || (SELECT count(*) FROM %s);" "$table" "$table")
    done
    while true; do
      psql "$DATABASE_URL" -X -q -A -t -v ON_ERROR_STOP=1 -c "$query"
      sleep "$interval"
    done
    ;;
  check)
    file=${2:?usage: table-sizes.sh check FILE SETTLE_HOURS [TOLERANCE_PERCENT]}
    settle=${3:?usage: table-sizes.sh check FILE SETTLE_HOURS [TOLERANCE_PERCENT]}
    tolerance=${4:-10}
    awk -F, -v settle="$settle" -v tolerance="$tolerance" '
      NR == 1 { start = $1 }
      $1 - start >= settle * 3600 {
        if (!($2 in base)) { base[$2] = $3; at[$2] = $1 }
        if ($3 > peak[$2] + 0) { peak[$2] = $3; peakAt[$2] = $1 }
      }
      END {
        failed = 0
        for (t in base) {
          limit = base[t] * (1 + tolerance / 100) + 100
          verdict = peak[t] <= limit ? "flat" : "GROWING"
          if (verdict == "GROWING") failed = 1
          printf "%-20s %s: %d rows at +%.1f h, at most %d after (limit %d)\n", t, verdict, base[t], (at[t] - start) / 3600, peak[t], limit
        }
        if (length(base) == 0) { print "no samples after " settle " h"; exit 2 }
        exit failed
      }' "$file"
    ;;
  *)
    sed -n '2,12p' "$0" >&2
    exit 2
    ;;
esac
