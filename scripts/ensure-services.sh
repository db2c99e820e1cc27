#!/usr/bin/env bash
# Makes sure PostgreSQL, Redis and NATS (JetStream) answer where DATABASE_URL, REDIS_URL and
# NATS_URL point (local defaults otherwise). A server already listening is used as it is; a
# missing one is started from the installed binaries with its data under .stack/ (git-ignored),
# after installing the Debian package first when the binary is missing and we run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$(pwd)
stack="$root_dir/.stack"
mkdir -p "$stack"

url_part() { # url_part URL default_port -> "host port"
  node -e 'const u = new URL(process.argv[1]); console.log((u.hostname || "127.0.0.1").replace(/^\[|\]$/g, ""), u.port || process.argv[2])' "$1" "$2"
}
read -r pg_host pg_port < <(url_part "${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tweeter}" 5432)
read -r redis_host redis_port < <(url_part "${REDIS_URL:-redis://127.0.0.1:6379}" 6379)
read -r nats_host nats_port < <(url_part "${NATS_URL:-nats://127.0.0.1:4222}" 4222)

listening() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
wait_for() { # wait_for NAME HOST PORT
  for _ in $(seq 1 100); do listening "$2" "$3" && { echo "✓ $1 on $2:$3"; return 0; }; sleep 0.2; done
  echo "✗ $1 did not start on $2:$3 (see $stack/*.log)" >&2; return 1
}
is_local() { [[ "$1" == 127.* || "$1" == localhost || "$1" == ::1 ]]; }

# shellcheck source=lib/packages.sh
. scripts/lib/packages.sh
install_server() { install_pkg "$1" 'or point the URL at a running server'; }

ensure_postgres() {
  listening "$pg_host" "$pg_port" && { echo "✓ PostgreSQL on $pg_host:$pg_port"; return 0; }
  is_local "$pg_host" || { echo "✗ PostgreSQL at $pg_host:$pg_port does not answer" >&2; return 1; }
  # A machine of this kind has a Debian cluster configured for trust auth: start it as it is.
  if [[ "$pg_port" == 5432 ]] && command -v pg_ctlcluster >/dev/null && [[ -d /etc/postgresql ]] && [[ -n "$(ls /etc/postgresql 2>/dev/null)" ]]; then
    local version; version=$(ls /etc/postgresql | sort -V | tail -1)
    if [[ -d "/etc/postgresql/$version/main" ]] && grep -Eq '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "/etc/postgresql/$version/main/pg_hba.conf" 2>/dev/null; then
      pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
      listening "$pg_host" "$pg_port" && { echo "✓ PostgreSQL on $pg_host:$pg_port (cluster $version/main)"; return 0; }
    fi
  fi
  local bindir; bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [[ -z "$bindir" ]]; then install_server postgresql; bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1); fi
  # Our own cluster, trust auth on loopback only, data under .stack/.
  local data="$stack/postgres-$pg_port" run=()
  if [[ $(id -u) -eq 0 ]]; then run=(runuser -u postgres --); fi
  mkdir -p "$data"
  [[ $(id -u) -eq 0 ]] && chown postgres "$data" && chmod 700 "$data"
  if [[ ! -f "$data/PG_VERSION" ]]; then
    "${run[@]}" "$bindir/initdb" -D "$data" -U postgres --auth=trust >"$stack/postgres-initdb.log"
  fi
  "${run[@]}" "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w \
    -o "-p $pg_port -c listen_addresses=$pg_host -c unix_socket_directories=$data" start >/dev/null
  wait_for PostgreSQL "$pg_host" "$pg_port"
}

ensure_redis() {
  listening "$redis_host" "$redis_port" && { echo "✓ Redis on $redis_host:$redis_port"; return 0; }
  is_local "$redis_host" || { echo "✗ Redis at $redis_host:$redis_port does not answer" >&2; return 1; }
  command -v redis-server >/dev/null || install_server redis-server
  mkdir -p "$stack/redis"
  redis-server --daemonize yes --bind "$redis_host" --port "$redis_port" --save "" --appendonly no \
    --zset-max-listpack-entries 1024 \
    --dir "$stack/redis" --logfile "$stack/redis-$redis_port.log"
  wait_for Redis "$redis_host" "$redis_port"
}

ensure_nats() {
  listening "$nats_host" "$nats_port" && { echo "✓ NATS on $nats_host:$nats_port"; return 0; }
  is_local "$nats_host" || { echo "✗ NATS at $nats_host:$nats_port does not answer" >&2; return 1; }
  local bin; bin=$(command -v nats-server || true)
  [[ -n "$bin" || ! -x /usr/sbin/nats-server ]] || bin=/usr/sbin/nats-server
  if [[ -z "$bin" ]]; then install_server nats-server; bin=$(command -v nats-server || echo /usr/sbin/nats-server); fi
  mkdir -p "$stack/nats-$nats_port"
  nohup setsid "$bin" -a "$nats_host" -p "$nats_port" -js -sd "$stack/nats-$nats_port" \
    -l "$stack/nats-$nats_port.log" >/dev/null 2>&1 &
  wait_for NATS "$nats_host" "$nats_port"
}

ensure_postgres
ensure_redis
ensure_nats
