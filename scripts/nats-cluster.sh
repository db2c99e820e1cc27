#!/usr/bin/env bash
# A local 3-node NATS JetStream cluster for tests and a clustered stack, started from the installed
# nats-server (the Debian package is installed first when missing and running as root). Everything
# listens on loopback only: client ports NATS_CLUSTER_PORT (4301) to +2, cluster routes on +2000
# (6301–6303), HTTP monitoring on +4000 (8301–8303); node <n> keeps its JetStream store, log and
# pid file under .stack/nats-cluster/<n>/. `start` returns once JetStream has a meta leader that
# every node agrees on and all 3 peers are current; it reuses a healthy cluster, restarts missing
# nodes of a partly running one on their stores, and starts afresh (empty stores) only when no
# node runs. `stop` kills the nodes and removes the data.
#
#   bash scripts/nats-cluster.sh start          # prints NATS_CLUSTER_URLS=…
#   bash scripts/nats-cluster.sh stop
#   bash scripts/nats-cluster.sh urls           # prints the URL list only
#   bash scripts/nats-cluster.sh start-node 2   # (re)starts one node on its own store (after a kill)
set -euo pipefail
cd "$(dirname "$0")/.."
base=${NATS_CLUSTER_PORT:-4301}
dir="$PWD/.stack/nats-cluster"
cluster_name=tweeter-local
nodes=(1 2 3)
client_port() { echo $((base + $1 - 1)); }
route_port() { echo $((base + 2000 + $1 - 1)); }
monitor_port() { echo $((base + 4000 + $1 - 1)); }
urls=$(for n in "${nodes[@]}"; do printf 'nats://127.0.0.1:%s,' "$(client_port "$n")"; done)
urls=${urls%,}

node_pid() { # the pid of node $1 when it is running (started from this checkout or another)
  local pid
  pid=$(cat "$dir/$1/nats.pid" 2>/dev/null) || pid=
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; return 0; fi
  pgrep -f -- "nats-server .*-p $(client_port "$1") -n tweeter-nats-$1 " | head -1 | grep .
}

jsz() { curl -s --max-time 2 "http://127.0.0.1:$(monitor_port "$1")/jsz" 2>/dev/null; }

field() { grep -o "\"$1\": *[^,}]*" | head -1 | sed 's/^[^:]*: *//; s/"//g'; }

# Every node answers /healthz, all report the same JetStream meta leader and a 3-peer meta group,
# and the leader sees the 2 other peers current (followers do not report their peers).
cluster_ok() {
  local leader=
  for n in "${nodes[@]}"; do
    local info this
    grep -q '"ok"' <<<"$(curl -s --max-time 2 "http://127.0.0.1:$(monitor_port "$n")/healthz")" || return 1
    info=$(jsz "$n")
    this=$(field leader <<<"$info")
    [[ -n $this && ( -z $leader || $leader == "$this" ) ]] || return 1
    leader=$this
    [[ $(field cluster_size <<<"$info") == 3 ]] || return 1
  done
  [[ $leader =~ ^tweeter-nats-([123])$ ]] || return 1
  [[ $(jsz "${BASH_REMATCH[1]}" | grep -c '"current": *true') -eq 2 ]]
}

# shellcheck source=lib/packages.sh
. scripts/lib/packages.sh
ensure_installed() { command -v nats-server >/dev/null || install_pkg nats-server || exit 1; }

# Starts node $1 in the background on its store (kept: a restarted node catches up from it).
start_node() {
  local n=$1 routes=
  node_pid "$n" >/dev/null && return
  for m in "${nodes[@]}"; do
    [[ $m == "$n" ]] || routes+="nats://127.0.0.1:$(route_port "$m"),"
  done
  mkdir -p "$dir/$n/store"
  setsid nohup nats-server -a 127.0.0.1 -p "$(client_port "$n")" -n "tweeter-nats-$n" \
    -m "$(monitor_port "$n")" -js -sd "$dir/$n/store" \
    --cluster_name "$cluster_name" --cluster "nats://127.0.0.1:$(route_port "$n")" \
    --routes "${routes%,}" -P "$dir/$n/nats.pid" -l "$dir/$n/nats.log" \
    </dev/null >>"$dir/$n/stdout.log" 2>&1 &
  for _ in $(seq 1 50); do node_pid "$n" >/dev/null && return; sleep 0.1; done
  echo "✗ NATS node $n did not start (see $dir/$n/nats.log)" >&2
  exit 1
}

wait_ok() {
  for _ in $(seq 1 150); do cluster_ok && return; sleep 0.2; done
  echo "✗ the NATS cluster has no JetStream meta leader with 3 current peers after 30 s (see $dir/*/nats.log)" >&2
  exit 1
}

start() {
  if cluster_ok 2>/dev/null; then
    echo "✓ NATS JetStream cluster on $urls (already running)"
    echo "NATS_CLUSTER_URLS=$urls"
    return
  fi
  ensure_installed
  local running=0
  for n in "${nodes[@]}"; do node_pid "$n" >/dev/null && running=$((running + 1)); done
  if [[ $running -gt 0 ]]; then
    # Some nodes run (a node was killed, or another test run is starting it right now): start
    # the missing ones on their stores and let them rejoin; wiping would lose everyone's streams.
    for n in "${nodes[@]}"; do start_node "$n"; done
    wait_ok
    echo "✓ NATS JetStream cluster on $urls ($((3 - running)) node(s) restarted)"
    echo "NATS_CLUSTER_URLS=$urls"
    return
  fi
  rm -rf "$dir"
  for n in "${nodes[@]}"; do start_node "$n"; done
  wait_ok
  echo "✓ NATS JetStream cluster on $urls"
  echo "NATS_CLUSTER_URLS=$urls"
}

stop() {
  for n in "${nodes[@]}"; do
    local pid
    pid=$(node_pid "$n") || continue
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$dir"
  echo "✓ NATS cluster stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  urls) echo "$urls" ;;
  pid) node_pid "${2:-}" || { echo "node ${2:-} is not running" >&2; exit 1; } ;;
  start-node)
    [[ ${2:-} =~ ^[123]$ ]] || { echo "usage: $0 start-node 1|2|3" >&2; exit 2; }
    start_node "$2"
    wait_ok
    echo "✓ NATS node $2 on nats://127.0.0.1:$(client_port "$2")"
    ;;
  *) echo "usage: $0 start|stop|urls|start-node <n>" >&2; exit 2 ;;
esac
