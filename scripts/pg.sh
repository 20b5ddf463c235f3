#!/usr/bin/env bash
# A throwaway PostgreSQL cluster from the machine's server binaries, for local runs, tests and benchmarks.
#   scripts/pg.sh start DIR [PORT]   initdb DIR when empty, start on PORT (a free one when omitted),
#                                    create database "bot", print the connection string on stdout
#   scripts/pg.sh stop DIR           stop the cluster in DIR (fast shutdown)
#   scripts/pg.sh psql DIR [ARGS]    psql into database "bot" of the running cluster in DIR
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

free_port() {
  local port
  for port in $(seq 55432 55999); do
    if ! (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  echo "pg.sh: no free port" >&2
  exit 1
}

cmd=${1:-}
dir=${2:-}
[[ -n "$cmd" && -n "$dir" ]] || { echo "usage: scripts/pg.sh start|stop|psql DIR [PORT|PSQL ARGS]" >&2; exit 2; }
bin=$(pg_bin)
[[ "$cmd" == start ]] && mkdir -p "$dir"
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
      port=${3:-$(free_port)}
      as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 ${PG_OPTIONS:-}" start >/dev/null
    fi
    if ! "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -Atqc "SELECT 1 FROM pg_database WHERE datname='bot'" postgres | grep -q 1; then
      "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres bot
    fi
    echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=bot"
    ;;
  stop)
    if [[ -f "$dir/postmaster.pid" ]]; then as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null; fi
    ;;
  psql)
    [[ -f "$dir/postmaster.pid" ]] || { echo "pg.sh: no cluster running in $dir" >&2; exit 1; }
    exec "$bin/psql" -h 127.0.0.1 -p "$(sed -n 4p "$dir/postmaster.pid")" -U postgres -d bot "${@:3}"
    ;;
  *)
    echo "usage: scripts/pg.sh start|stop|psql DIR [PORT|PSQL ARGS]" >&2
    exit 2
    ;;
esac
