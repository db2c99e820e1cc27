#!/usr/bin/env bash
# A local Redis Cluster for tests and the clustered stack: 3 masters with one replica each, on
# loopback ports REDIS_CLUSTER_PORT (7001) to +5, data under .stack/redis-cluster/, started from
# the installed redis-server (the Debian package is installed first when missing and running as
# root). A short cluster-node-timeout lets a replica take over a killed master within seconds.
#
#   bash scripts/redis-cluster.sh start   # prints REDIS_CLUSTER_NODES=…
#   bash scripts/redis-cluster.sh stop
#   bash scripts/redis-cluster.sh nodes   # prints the node list only
set -euo pipefail
cd "$(dirname "$0")/.."
base=${REDIS_CLUSTER_PORT:-7001}
dir="$PWD/.stack/redis-cluster"
ports=()
for i in 0 1 2 3 4 5; do ports+=($((base + i))); done
nodes=$(printf '127.0.0.1:%s,' "${ports[@]}")
nodes=${nodes%,}

cluster_ok() { # every node answers and agrees the cluster is ok with 3 masters
  for port in "${ports[@]}"; do
    local info
    info=$(redis-cli -p "$port" cluster info 2>/dev/null) || return 1
    grep -q 'cluster_state:ok' <<<"$info" || return 1
    grep -q 'cluster_size:3' <<<"$info" || return 1
  done
  # …and each master has its replica, in sync (a failover test needs one to promote).
  [[ $(redis-cli -p "${ports[0]}" cluster nodes | grep -c ' slave ') -eq 3 ]] || return 1
  for port in "${ports[@]}"; do
    redis-cli -p "$port" info replication | grep -q 'role:master' && continue
    redis-cli -p "$port" info replication | grep -q 'master_link_status:up' || return 1
  done
}

start() {
  if cluster_ok 2>/dev/null; then echo "✓ Redis Cluster on $nodes (already running)"; echo "REDIS_CLUSTER_NODES=$nodes"; return; fi
  if ! command -v redis-server >/dev/null; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
      DEBIAN_FRONTEND=noninteractive apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    else
      echo "✗ redis-server is not installed (Debian package redis-server)" >&2; exit 1
    fi
  fi
  stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  for port in "${ports[@]}"; do
    mkdir -p "$dir/$port"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$port" \
      --cluster-enabled yes --cluster-config-file "$dir/$port/nodes.conf" \
      --cluster-node-timeout 2000 --cluster-replica-validity-factor 0 \
      --save "" --appendonly no --maxmemory-policy noeviction \
      --zset-max-listpack-entries 1024 \
      --dir "$dir/$port" --logfile "$dir/$port/redis.log" --pidfile "$dir/$port/redis.pid"
  done
  for port in "${ports[@]}"; do
    for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  done
  # The first three ports become masters, each later one a replica of one of them.
  redis-cli --cluster create $(printf '127.0.0.1:%s ' "${ports[@]}") --cluster-replicas 1 \
    --cluster-yes >"$dir/create.log" 2>&1 || { cat "$dir/create.log" >&2; exit 1; }
  for _ in $(seq 1 100); do cluster_ok && break; sleep 0.2; done
  cluster_ok || { echo "✗ Redis Cluster did not become ok (see $dir/*/redis.log)" >&2; exit 1; }
  echo "✓ Redis Cluster on $nodes"
  echo "REDIS_CLUSTER_NODES=$nodes"
}

stop() {
  for port in "${ports[@]}"; do redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; done
  echo "✓ Redis Cluster stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  nodes) echo "$nodes" ;;
  *) echo "usage: $0 start|stop|nodes" >&2; exit 2 ;;
esac
