#!/usr/bin/env bash
# A local streaming hot standby of the local PostgreSQL, for the query service's read replica
# (READ_DATABASE_URL, docs/read-replica.md) and its tests. `pg_basebackup -R` of the whole primary
# cluster into .stack/pg-standby/ (PG_STANDBY_DIR), served on 127.0.0.1:PG_STANDBY_PORT (5433)
# with its unix socket in its data directory, by the primary's own PostgreSQL binaries, as the
# postgres OS user when run as root. Databases created on the primary appear on the standby once
# replayed, so one standby serves every test database of a run.
#
#   bash scripts/pg-standby.sh start   # prints READ_DATABASE_URL_TEMPLATE=postgres://…:5433/
#   bash scripts/pg-standby.sh stop    # stops it and removes its data
#   bash scripts/pg-standby.sh url     # prints the server URL only
#
# The primary (PG_PRIMARY_HOST:PG_PRIMARY_PORT, 127.0.0.1:5432, user postgres) must allow
# replication: wal_level replica or logical and max_wal_senders > 0 (Debian's defaults; changing
# them needs a restart, which this script never does), and a pg_hba.conf rule for a replication
# connection from 127.0.0.1. A missing rule is added (`host replication all 127.0.0.1/32 trust`,
# at the top of the primary's pg_hba.conf) and the primary reloaded, once, saying so.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PG_STANDBY_PORT:-5433}
dir=${PG_STANDBY_DIR:-$PWD/.stack/pg-standby}
primary_host=${PG_PRIMARY_HOST:-127.0.0.1}
primary_port=${PG_PRIMARY_PORT:-5432}
url="postgres://postgres@127.0.0.1:$port/"
hba_rule="host replication all 127.0.0.1/32 trust"

# Commands that touch the standby's files run as the postgres OS user when we are root.
as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
primary_sql() { psql -h "$primary_host" -p "$primary_port" -U postgres -d postgres -XAtqc "$1"; }
standby_sql() { psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -XAtqc "$1" 2>/dev/null; }

# The primary's own binaries (pg_basebackup and the server must match its major version).
pg_bin() {
  local major
  major=$(($(primary_sql 'SHOW server_version_num') / 10000))
  local bin="/usr/lib/postgresql/$major/bin"
  [[ -x $bin/pg_ctl ]] || bin=$(dirname "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/pg_ctl)")
  [[ -x $bin/pg_ctl ]] || { echo "✗ no PostgreSQL $major binaries (looked in /usr/lib/postgresql/$major/bin)" >&2; exit 1; }
  echo "$bin"
}

running() { [[ -f $dir/PG_VERSION ]] && as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; }
in_recovery() { [[ $(standby_sql 'SELECT pg_is_in_recovery()') == t ]]; }

replication_allowed() {
  psql "host=$primary_host port=$primary_port user=postgres replication=true" -XAtqc IDENTIFY_SYSTEM \
    >/dev/null 2>&1
}

ensure_replication() {
  local wal_level senders
  wal_level=$(primary_sql 'SHOW wal_level')
  senders=$(primary_sql 'SHOW max_wal_senders')
  if [[ $wal_level != replica && $wal_level != logical ]] || ((senders < 1)); then
    echo "✗ the primary cannot stream: wal_level=$wal_level, max_wal_senders=$senders (need replica and ≥ 1; set them and restart it)" >&2
    exit 1
  fi
  replication_allowed && return
  local hba
  hba=$(primary_sql 'SHOW hba_file')
  if ! grep -qxF "$hba_rule" "$hba" 2>/dev/null; then
    if [[ ! -w $hba ]]; then
      echo "✗ the primary refuses replication connections from 127.0.0.1; add \"$hba_rule\" to $hba and reload it" >&2
      exit 1
    fi
    # At the top: the first matching rule wins.
    { echo "$hba_rule"; cat "$hba"; } >"$hba.new" && cat "$hba.new" >"$hba" && rm -f "$hba.new"
    echo "• added \"$hba_rule\" to $hba"
  fi
  primary_sql 'SELECT pg_reload_conf()' >/dev/null
  echo "• reloaded the primary on $primary_host:$primary_port"
  for _ in $(seq 1 50); do replication_allowed && return; sleep 0.1; done
  echo "✗ the primary still refuses replication connections (see $hba)" >&2
  exit 1
}

start() {
  bin=$(pg_bin)
  if running && in_recovery; then
    echo "✓ PostgreSQL standby on 127.0.0.1:$port (already running)"
    echo "READ_DATABASE_URL_TEMPLATE=$url"
    return
  fi
  if standby_sql 'SELECT 1' >/dev/null; then
    echo "✗ port $port is taken by another server (set PG_STANDBY_PORT)" >&2
    exit 1
  fi
  ensure_replication
  stop_server
  rm -rf "$dir"
  mkdir -p "$dir"
  [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$dir"
  chmod 700 "$dir"
  # -R writes standby.signal and primary_conninfo; -c fast: no wait for the next checkpoint.
  as_pg "$bin/pg_basebackup" -h "$primary_host" -p "$primary_port" -U postgres -D "$dir" \
    -R -X stream -c fast --no-sync >"$dir.basebackup.log" 2>&1 ||
    { cat "$dir.basebackup.log" >&2; exit 1; }
  rm -f "$dir.basebackup.log"
  # Settings a hot standby must not have below the primary's, the rest our own.
  local same=''
  for name in max_connections max_worker_processes max_wal_senders max_prepared_transactions max_locks_per_transaction; do
    same+="$name = $(primary_sql "SHOW $name")"$'\n'
  done
  as_pg tee "$dir/postgresql.conf" >/dev/null <<EOF
# A local hot standby made by scripts/pg-standby.sh (a disposable copy: fsync off).
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
hot_standby = on
hot_standby_feedback = off
fsync = off
shared_buffers = 32MB
$same
EOF
  as_pg tee "$dir/pg_hba.conf" >/dev/null <<EOF
local all all trust
host all all 127.0.0.1/32 trust
EOF
  as_pg touch "$dir/pg_ident.conf"
  as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/standby.log" -w -t 60 start >/dev/null ||
    { tail -n 20 "$dir/standby.log" >&2; exit 1; }
  for _ in $(seq 1 100); do in_recovery && break; sleep 0.2; done
  in_recovery || { echo "✗ the standby on port $port is not in recovery (see $dir/standby.log)" >&2; exit 1; }
  echo "✓ PostgreSQL standby of $primary_host:$primary_port on 127.0.0.1:$port (data in $dir)"
  echo "READ_DATABASE_URL_TEMPLATE=$url"
}

stop_server() {
  if running; then as_pg "$bin/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null; fi
}

stop() {
  bin=$(pg_bin)
  stop_server
  rm -rf "$dir"
  echo "✓ PostgreSQL standby on port $port stopped, its data removed"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$url" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
