#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for the storage tests.
#
#   eval "$(bash scripts/postgres.sh start)"   # prints: export CASTOR_TEST_POSTGRES=…; export CASTOR_TEST_POSTGRES_DIR=…
#   bash scripts/postgres.sh stop              # stops the server in $CASTOR_TEST_POSTGRES_DIR and removes it
#
# Uses the newest /usr/lib/postgresql/*/bin; with INSTALL=1 (as .ci/run sets) installs Debian's postgresql package when
# none is there. Runs initdb and the server as the postgres user when started as root (PostgreSQL refuses to run as root).
set -euo pipefail

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 30000))
    # A refused connection means nothing listens there.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  echo "no free port found" >&2; return 1
}

start() {
  local bin; bin=$(find_bin)
  if [ -z "$bin" ]; then
    if [ "${INSTALL:-0}" = 1 ]; then
      echo "installing postgresql (Debian package)" >&2
      DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
      bin=$(find_bin)
    fi
    [ -n "$bin" ] || { echo "PostgreSQL binaries were not found under /usr/lib/postgresql/*/bin" >&2; return 1; }
  fi
  local dir; dir=$(mktemp -d /tmp/castor-postgres.XXXXXX)
  chmod 755 "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$dir"
  fi
  local port; port=$(free_port)
  as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
  # Loopback only, socket in the temporary folder; fsync off: this data is thrown away.
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2 \
    || { cat "$dir/server.log" >&2; return 1; }
  as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "CREATE DATABASE castor_test" >&2
  echo "export CASTOR_TEST_POSTGRES='Host=127.0.0.1;Port=$port;Username=postgres;Database=castor_test'"
  echo "export CASTOR_TEST_POSTGRES_DIR='$dir'"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)" >&2
}

stop() {
  local dir=${CASTOR_TEST_POSTGRES_DIR:-}
  [ -n "$dir" ] && [ -d "$dir/data" ] || return 0
  local bin; bin=$(find_bin)
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
