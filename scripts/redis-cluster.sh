#!/usr/bin/env bash
# A local Redis Cluster for tests and the clustered stack: 3 masters with one replica each, on
# loopback ports REDIS_CLUSTER_PORT (7001) to +5, data under .stack/redis-cluster/, started from
# the installed redis-server (the Debian package is installed first when missing and running as
# root). A short cluster-node-timeout lets a replica take over a killed master within seconds.
# `start` returns once the cluster is ok with 3 masters and 3 replicas in sync: it reuses a healthy
# cluster, restarts the missing nodes of a partly running one on their nodes.conf (a killed master
# comes back as a replica of the node promoted in its place), and creates the cluster afresh
# (empty) only when no node runs or that repair fails.
#
#   bash scripts/redis-cluster.sh start        # prints REDIS_CLUSTER_NODES=…
#   bash scripts/redis-cluster.sh stop
#   bash scripts/redis-cluster.sh nodes        # prints the node list only
#   bash scripts/redis-cluster.sh masters      # the ports of the running masters, one a line
#   bash scripts/redis-cluster.sh status       # each node's view (state, role, link)
#   bash scripts/redis-cluster.sh pid 7001     # the pid of a running node
#   bash scripts/redis-cluster.sh revive 7001  # restarts a killed node on its nodes.conf, waits until ok
set -euo pipefail
cd "$(dirname "$0")/.."
base=${REDIS_CLUSTER_PORT:-7001}
dir="$PWD/.stack/redis-cluster"
ports=()
for i in 0 1 2 3 4 5; do ports+=($((base + i))); done
nodes=$(printf '127.0.0.1:%s,' "${ports[@]}")
nodes=${nodes%,}

replicas() { awk '$3 ~ /(^|,)slave(,|$)/ { n++ } END { print n + 0 }'; } # in `cluster nodes`

cluster_ok() { # every node answers and agrees the cluster is ok with 3 masters
  for port in "${ports[@]}"; do
    local info
    info=$(redis-cli -p "$port" cluster info 2>/dev/null) || return 1
    grep -q 'cluster_state:ok' <<<"$info" || return 1
    grep -q 'cluster_size:3' <<<"$info" || return 1
  done
  # …and each master has its replica, in sync (a failover test needs one to promote).
  # (Counted by the flags field: a replica's own line says `myself,slave`.)
  [[ $(redis-cli -p "${ports[0]}" cluster nodes | replicas) -eq 3 ]] || return 1
  for port in "${ports[@]}"; do
    redis-cli -p "$port" info replication | grep -q 'role:master' && continue
    redis-cli -p "$port" info replication | grep -q 'master_link_status:up' || return 1
  done
}

node_pid() { # the pid of the node on port $1 when it runs (answers ping)
  local pid
  redis-cli -p "$1" ping >/dev/null 2>&1 || return 1
  pid=$(redis-cli -p "$1" info server 2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p')
  [[ -n $pid ]] && echo "$pid"
}

masters() { # the ports of the running nodes that are masters
  for port in "${ports[@]}"; do
    [[ $(redis-cli -p "$port" role 2>/dev/null | head -1) == master ]] && echo "$port"
  done
  return 0
}

# Starts the node on port $1 (daemonized) on its nodes.conf, if it is not running.
start_node() {
  local port=$1
  node_pid "$port" >/dev/null && return
  mkdir -p "$dir/$port"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" \
    --cluster-enabled yes --cluster-config-file "$dir/$port/nodes.conf" \
    --cluster-node-timeout 2000 --cluster-replica-validity-factor 0 \
    --save "" --appendonly no --maxmemory-policy noeviction \
    --zset-max-listpack-entries 1024 \
    --dir "$dir/$port" --logfile "$dir/$port/redis.log" --pidfile "$dir/$port/redis.pid"
  for _ in $(seq 1 50); do node_pid "$port" >/dev/null && return; sleep 0.1; done
  echo "✗ Redis node $port did not start (see $dir/$port/redis.log)" >&2
  return 1
}

status() { # each node's view, to tell why the cluster is not ok
  local port
  for port in "${ports[@]}"; do
    if ! node_pid "$port" >/dev/null; then echo "  $port: down"; continue; fi
    echo "  $port: $(redis-cli -p "$port" cluster info | tr -d '\r' | grep -E '^cluster_(state|size|known_nodes)' | tr '\n' ' ')$(redis-cli -p "$port" info replication | tr -d '\r' | grep -E '^(role|master_link_status|master_sync_in_progress)' | tr '\n' ' ')replicas seen: $(redis-cli -p "$port" cluster nodes | replicas)"
  done
}

wait_ok() { # up to $1 tenths of a second (a rejoining replica needs a full sync first)
  for _ in $(seq 1 "$1"); do cluster_ok 2>/dev/null && return; sleep 0.1; done
  return 1
}

# shellcheck source=lib/packages.sh
. scripts/lib/packages.sh
ensure_installed() { command -v redis-server >/dev/null || install_pkg redis-server || exit 1; }

# Whether the running nodes still give the dead node on port $1 slots of its own: a master whose
# replica has not taken over yet. Restarted then (no persistence), it would serve them empty.
holds_slots() {
  local id other
  id=$(awk '/myself/ { print $1 }' "$dir/$1/nodes.conf" 2>/dev/null)
  [[ -n $id ]] || return 1
  for other in "${ports[@]}"; do
    [[ $other == "$1" ]] && continue
    node_pid "$other" >/dev/null || continue
    redis-cli -p "$other" cluster nodes 2>/dev/null | awk -v id="$id" '$1 == id && $3 ~ /master/ && NF > 8 { found = 1 } END { exit !found }'
    return
  done
  return 1
}

# The folder the running nodes keep their files in: the parent of a live node's `config get dir`
# (the cluster may have been started from another checkout), else this checkout's.
running_dir() {
  local port d
  for port in "${ports[@]}"; do
    d=$(redis-cli -p "$port" config get dir 2>/dev/null | sed -n 2p)
    [[ -n $d ]] && { dirname "$d"; return; }
  done
  echo "$dir"
}

# Restarts the dead node on port $1 on its nodes.conf, once its replica has taken its slots over
# (it comes back as that one's replica); up to 15 s, then regardless (its shard had no replica).
revive_node() {
  local port=$1
  node_pid "$port" >/dev/null && return
  [[ -f $dir/$port/nodes.conf ]] || { echo "✗ no $dir/$port/nodes.conf: not a node of this cluster" >&2; return 1; }
  for _ in $(seq 1 150); do holds_slots "$port" || break; sleep 0.1; done
  if holds_slots "$port"; then
    echo "… node $port still holds slots nobody took over: it comes back empty" >&2
  fi
  start_node "$port"
}

# Restarts every node that is down (see revive_node), then waits for the cluster to be ok.
repair() {
  for port in "${ports[@]}"; do revive_node "$port" || return 1; done
  wait_ok 300
}

start() {
  if cluster_ok 2>/dev/null; then echo "✓ Redis Cluster on $nodes (already running)"; echo "REDIS_CLUSTER_NODES=$nodes"; return; fi
  ensure_installed
  local running=0
  for port in "${ports[@]}"; do node_pid "$port" >/dev/null && running=$((running + 1)); done
  if [[ $running -gt 0 ]]; then
    # Some nodes run (one was killed, or a failover or another run's start is under way): bring
    # back the missing ones and let the cluster settle; recreating would lose everyone's keys.
    if (dir=$(running_dir) && repair); then
      echo "✓ Redis Cluster on $nodes ($((6 - running)) node(s) restarted)"
      echo "REDIS_CLUSTER_NODES=$nodes"
      return
    fi
    echo "… the Redis Cluster did not become ok by restarting its nodes: creating it afresh" >&2
    status >&2
  fi
  stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  for port in "${ports[@]}"; do start_node "$port"; done
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
  masters) masters ;;
  status) status ;;
  pid)
    [[ " ${ports[*]} " == *" ${2:-none} "* ]] || { echo "usage: $0 pid <port>" >&2; exit 2; }
    node_pid "$2" || { echo "node $2 is not running" >&2; exit 1; }
    ;;
  revive)
    [[ " ${ports[*]} " == *" ${2:-none} "* ]] || { echo "usage: $0 revive <port>" >&2; exit 2; }
    ensure_installed
    dir=$(running_dir)
    was=$(node_pid "$2" >/dev/null && echo "already running, " || true)
    revive_node "$2"
    wait_ok 300 || { echo "✗ Redis Cluster not ok 30 s after node $2 came back (see $dir/*/redis.log):" >&2; status >&2; exit 1; }
    echo "✓ Redis node $2 on 127.0.0.1:$2 (${was}$(redis-cli -p "$2" role | head -1)); the cluster is ok"
    ;;
  *) echo "usage: $0 start|stop|nodes|masters|status|pid <port>|revive <port>" >&2; exit 2 ;;
esac
