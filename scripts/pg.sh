#!/usr/bin/env bash
# A throwaway PostgreSQL cluster from the machine's server binaries, for local runs, tests and benchmarks.
#   scripts/pg.sh start DIR [PORT]   initdb DIR when empty, start on PORT (a free one when omitted),
#                                    create database "bot", print the connection string on stdout
#   scripts/pg.sh stop DIR           stop the cluster in DIR (fast shutdown)
#   scripts/pg.sh psql DIR [ARGS]    psql into database "bot" of the running cluster in DIR
#   scripts/pg.sh standby DIR PRIMARY_DIR [PORT]
#                                    a streaming standby of the running cluster in PRIMARY_DIR: pg_basebackup -R into
#                                    DIR, started on PORT (a free one when omitted); prints its connection string
#   scripts/pg.sh promote DIR        promote the standby in DIR; returns once it accepts writes
#   scripts/pg.sh kill DIR           SIGKILL the cluster in DIR, postmaster and every child at once, as a crash of its
#                                    machine would end it (no shutdown checkpoint: the next start recovers from WAL)
# initdb refuses to run as root, so as root the cluster runs as the "postgres" user.
set -euo pipefail

pg_bin() {
  if [[ -n "${PG_BIN:-}" ]]; then echo "$PG_BIN"; return; fi
  local dir
  for dir in /usr/lib/postgresql/*/bin; do [[ -x "$dir/initdb" ]] && { echo "$dir"; return; }; done
  command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return; }
  echo "pg.sh: no PostgreSQL server binaries (install postgresql, or set PG_BIN)" >&2
  exit 1
}

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A port from $1 (55432) on that nothing listens on and no socket uses locally (one in TIME-WAIT can refuse the
# bind too).
free_port() {
  local port used
  used=" $( (ss -Htan 2>/dev/null || true) | awk '{ n = split($4, a, ":"); print a[n] }' | sort -u | tr '\n' ' ') "
  for port in $(seq "${1:-55432}" 55999); do
    [[ "$used" == *" $port "* ]] && continue
    if ! (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  echo "pg.sh: no free port" >&2
  exit 1
}

cmd=${1:-}
dir=${2:-}
usage="usage: scripts/pg.sh start|stop|psql|standby|promote|kill DIR [PORT|PSQL ARGS|PRIMARY_DIR [PORT]]"
[[ -n "$cmd" && -n "$dir" ]] || { echo "$usage" >&2; exit 2; }
bin=$(pg_bin)
[[ "$cmd" == start || "$cmd" == standby ]] && mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

case "$cmd" in
  start)
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; chmod 700 "$dir"; fi
    if [[ ! -f "$dir/PG_VERSION" ]]; then
      as_owner "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir.initdb.log" 2>&1 ||
        { cat "$dir.initdb.log" >&2; exit 1; }
    fi
    if [[ -f "$dir/postmaster.pid" ]] && as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      port=$(sed -n 4p "$dir/postmaster.pid")
    else
      # A port taken between the choice and the bind (another cluster starting at the same moment) is retried
      # on the next free one, unless the caller named the port.
      port=${3:-$(free_port)}
      for attempt in 1 2 3 4 5; do
        if as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
          -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 ${PG_OPTIONS:-}" start >/dev/null; then
          break
        fi
        if [[ -n "${3:-}" || $attempt -eq 5 ]] || ! tail -n 5 "$dir/server.log" | grep -q "Address already in use"; then
          echo "pg.sh: the server did not start (see $dir/server.log)" >&2
          exit 1
        fi
        port=$(free_port $((port + 1)))
      done
    fi
    if ! "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -Atqc "SELECT 1 FROM pg_database WHERE datname='bot'" postgres | grep -q 1; then
      "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres bot
    fi
    echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=bot"
    ;;
  stop)
    # A cluster that was killed leaves its postmaster.pid behind: nothing to stop then.
    if [[ -f "$dir/postmaster.pid" ]] && as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
    fi
    ;;
  standby)
    primary=$(cd "${3:?usage: scripts/pg.sh standby DIR PRIMARY_DIR [PORT]}" && pwd)
    [[ -f "$primary/postmaster.pid" ]] || { echo "pg.sh: no cluster running in $primary" >&2; exit 1; }
    if [[ ! -f "$dir/PG_VERSION" ]]; then
      if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; chmod 700 "$dir"; fi
      # -R writes standby.signal and primary_conninfo; the primary's socket files are skipped (a warning each).
      as_owner "$bin/pg_basebackup" -h 127.0.0.1 -p "$(sed -n 4p "$primary/postmaster.pid")" -U postgres -D "$dir" \
        -R -X stream -c fast 2>&1 | grep -v 'skipping special file' >&2 || true
      [[ -f "$dir/standby.signal" ]] || { echo "pg.sh: pg_basebackup of $primary failed" >&2; exit 1; }
    fi
    # The walreceiver reconnects within half a second of losing its primary (5 s by default).
    PG_OPTIONS="${PG_OPTIONS:-} -c cluster_name=standby -c wal_retrieve_retry_interval=500ms" exec "$0" start "$dir" "${4:-}"
    ;;
  promote)
    as_owner "$bin/pg_ctl" -D "$dir" -w -t 60 promote >/dev/null
    ;;
  kill)
    [[ -f "$dir/postmaster.pid" ]] || exit 0
    pm=$(head -n 1 "$dir/postmaster.pid")
    # Only the postmaster of this directory (its working directory is the data directory), never a reused pid.
    [[ -d "/proc/$pm" && "$(readlink "/proc/$pm/cwd")" == "$(cd "$dir" && pwd -P)" ]] || exit 0
    # Stopped first, so that it starts no child between the listing and the kill.
    kill -STOP "$pm"
    mapfile -t children < <(ps -o pid= --ppid "$pm")
    kill -KILL "$pm" "${children[@]}" 2>/dev/null || true
    for _ in $(seq 1 100); do
      alive=0
      for pid in "$pm" "${children[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
      [[ $alive -eq 0 ]] && exit 0
      sleep 0.05
    done
    echo "pg.sh: the processes of $dir did not end" >&2
    exit 1
    ;;
  psql)
    [[ -f "$dir/postmaster.pid" ]] || { echo "pg.sh: no cluster running in $dir" >&2; exit 1; }
    exec "$bin/psql" -h 127.0.0.1 -p "$(sed -n 4p "$dir/postmaster.pid")" -U postgres -d bot "${@:3}"
    ;;
  *)
    echo "$usage" >&2
    exit 2
    ;;
esac
