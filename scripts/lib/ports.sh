# shellcheck shell=bash
# Sourced by the load scripts (from the repository root): free_port START prints the first port from START on that nothing on 127.0.0.1
# listens on (within 1,000 ports), or fails with a message.
free_port() {
  local port
  for port in $(seq "$1" $(($1 + 1000))); do
    if ! (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  echo "$(basename "$0"): no free port from $1" >&2
  exit 1
}
