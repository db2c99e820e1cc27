#!/usr/bin/env bash
# `npm run start:cluster` / `npm run stop:cluster`: the product with several instances of each
# service, on the local clusters, behind nginx.
#
#   start: the NATS JetStream cluster (scripts/nats-cluster.sh), PostgreSQL and Redis
#          (scripts/ensure-services.sh), the Redis Cluster (scripts/redis-cluster.sh), a read
#          replica (scripts/pg-standby.sh); then `npm run build` and, under a pm2 daemon of its own
#          (scripts/cluster.config.cjs): 2 command services, 2 query services (reading from the
#          replica), 2 projectors (the second a standby: one advisory lock per projection copy),
#          the webhook dispatcher, and nginx (deploy/nginx.conf) in front of the command and query
#          services. Returns once every process answers /readyz, printing the URLs.
#   stop:  stops what `start` started (the processes, nginx, and each cluster it started itself;
#          a cluster that was already running when it started is left running), nothing else.
#
# Ports (environment, defaults): CLUSTER_COMMAND_PORT 8080 and CLUSTER_QUERY_PORT 8081 (nginx),
# CLUSTER_COMMAND_PORTS 3011,3012, CLUSTER_QUERY_PORTS 3021,3022, CLUSTER_PROJECTOR_PORTS
# 3031,3032, CLUSTER_DISPATCHER_PORT 3041, CLUSTER_WEB_PORT 3051 (the web client); the clusters' own: NATS_CLUSTER_PORT, REDIS_CLUSTER_PORT,
# PG_STANDBY_PORT (and PG_STANDBY_DIR), as their scripts read them. DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/tweeter_cluster), REDIS_URL, REDIS_PREFIX (default
# tweeter-cluster:), NATS_PREFIX and every other variable of the contract are passed on. `stop`
# must be given the same CLUSTER_COMMAND_PORT as `start` (its state is .stack/cluster-<port>/).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

command_lb=${CLUSTER_COMMAND_PORT:-8080}
query_lb=${CLUSTER_QUERY_PORT:-8081}
command_ports=${CLUSTER_COMMAND_PORTS:-3011,3012}
query_ports=${CLUSTER_QUERY_PORTS:-3021,3022}
projector_ports=${CLUSTER_PROJECTOR_PORTS:-3031,3032}
dispatcher_port=${CLUSTER_DISPATCHER_PORT:-3041}
web_port=${CLUSTER_WEB_PORT:-3051}
state=$root/.stack/cluster-$command_lb
export PM2_HOME=$state/pm2
pm2=$root/node_modules/.bin/pm2

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ports_of() { tr ',' ' ' <<<"$1"; }
all_ports() { echo "$command_lb $query_lb $(ports_of "$command_ports") $(ports_of "$query_ports") $(ports_of "$projector_ports") $dispatcher_port $web_port"; }
ready() { [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/readyz") == 200 ]]; }

# The cluster scripts keep their data in fixed folders (.stack/nats-cluster, .stack/redis-cluster):
# a second cluster on other ports from the same checkout would take over the first one's pid files
# and data. Refuse rather than disturb a cluster that runs on other ports.
guard_cluster_dirs() {
  local base pid
  base=${NATS_CLUSTER_PORT:-4301}
  for file in "$root"/.stack/nats-cluster/*/nats.pid; do
    pid=$(cat "$file" 2>/dev/null) || continue
    kill -0 "$pid" 2>/dev/null || continue
    if ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -Eq -- "-p ($base|$((base + 1))|$((base + 2))) "; then
      echo "✗ a NATS cluster from .stack/nats-cluster runs on other ports than NATS_CLUSTER_PORT=$base; use its ports or stop it first" >&2
      exit 1
    fi
  done
  base=${REDIS_CLUSTER_PORT:-7001}
  for file in "$root"/.stack/redis-cluster/*/redis.pid; do
    pid=$(cat "$file" 2>/dev/null) || continue
    kill -0 "$pid" 2>/dev/null || continue
    local port; port=$(basename "$(dirname "$file")")
    if ((port < base || port > base + 5)); then
      echo "✗ a Redis Cluster from .stack/redis-cluster runs on other ports than REDIS_CLUSTER_PORT=$base; use its ports or stop it first" >&2
      exit 1
    fi
  done
}

# Runs a cluster script's start, shows its output, remembers whether it started the cluster (a
# cluster reused as it was, or only partly restarted, is not ours to stop), and prints the value
# of the output line `$2=…`.
run_cluster() { # run_cluster NAME VARIABLE SCRIPT
  local out
  out=$(bash "scripts/$3" start) || { echo "$out" >&2; return 1; }
  sed -n '/^✓\|^•\|^✗/p' <<<"$out" | sed 's/^/  /' >&2
  if ! grep -q 'already running\|restarted' <<<"$out"; then echo "started_$1=1" >>"$state/clusters"; fi
  sed -n "s/^$2=//p" <<<"$out"
}

start() {
  if [[ -d $state ]]; then
    echo "✗ a cluster stack with CLUSTER_COMMAND_PORT=$command_lb is running or was not stopped ($state): npm run stop:cluster first" >&2
    exit 1
  fi
  for port in $(all_ports); do
    if listening "$port"; then echo "✗ port $port is taken (see the CLUSTER_* variables in scripts/cluster.sh)" >&2; exit 1; fi
  done
  guard_cluster_dirs
  mkdir -p "$state"
  # What stop needs to stop the clusters it started, with the same ports and folders.
  {
    echo "NATS_CLUSTER_PORT=${NATS_CLUSTER_PORT:-4301}"
    echo "REDIS_CLUSTER_PORT=${REDIS_CLUSTER_PORT:-7001}"
    echo "PG_STANDBY_PORT=${PG_STANDBY_PORT:-5433}"
    echo "PG_STANDBY_DIR=${PG_STANDBY_DIR:-$root/.stack/pg-standby}"
  } >"$state/clusters"

  echo "• NATS JetStream cluster"
  local nats_urls redis_nodes read_url
  nats_urls=$(run_cluster nats NATS_CLUSTER_URLS nats-cluster.sh)
  echo "• PostgreSQL, Redis"
  NATS_URL=${nats_urls%%,*} bash scripts/ensure-services.sh | sed 's/^/  /'
  echo "• Redis Cluster"
  redis_nodes=$(run_cluster redis REDIS_CLUSTER_NODES redis-cluster.sh)
  echo "• PostgreSQL read replica"
  read_url=$(run_cluster standby READ_DATABASE_URL_TEMPLATE pg-standby.sh)
  echo "• nginx"
  local nginx_bin
  nginx_bin=$(bash scripts/ensure-nginx.sh)
  echo "• npm run build"
  npm run -s build >"$state/build.log" 2>&1 || { cat "$state/build.log" >&2; false; }

  export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tweeter_cluster}
  export REDIS_PREFIX=${REDIS_PREFIX:-tweeter-cluster:}
  export NATS_URL=$nats_urls NATS_STREAM_REPLICAS=3
  export LOG_FORMAT=${LOG_FORMAT:-json}
  export CLUSTER_COMMAND_PORT=$command_lb CLUSTER_QUERY_PORT=$query_lb
  export CLUSTER_COMMAND_PORTS=$command_ports CLUSTER_QUERY_PORTS=$query_ports
  export CLUSTER_PROJECTOR_PORTS=$projector_ports CLUSTER_DISPATCHER_PORT=$dispatcher_port
  export CLUSTER_WEB_PORT=$web_port
  export CLUSTER_REDIS_CLUSTER_NODES=$redis_nodes CLUSTER_READ_DATABASE_URL=$read_url
  export CLUSTER_NGINX_BIN=$nginx_bin CLUSTER_NGINX_DIR=$state/nginx
  # Passed to the services by scripts/cluster.config.cjs as CLUSTER_* (not to this shell's tools).
  unset REDIS_CLUSTER_NODES READ_DATABASE_URL

  mkdir -p "$CLUSTER_NGINX_DIR/logs" "$CLUSTER_NGINX_DIR/tmp"
  local c=(${command_ports//,/ }) q=(${query_ports//,/ })
  NGINX_COMMAND_LISTEN=127.0.0.1:$command_lb NGINX_QUERY_LISTEN=127.0.0.1:$query_lb \
    COMMAND_SERVICE_1=127.0.0.1:${c[0]} COMMAND_SERVICE_2=127.0.0.1:${c[1]} \
    QUERY_SERVICE_1=127.0.0.1:${q[0]} QUERY_SERVICE_2=127.0.0.1:${q[1]} \
    bash deploy/render-nginx-conf.sh >"$CLUSTER_NGINX_DIR/nginx.conf"
  "$nginx_bin" -t -q -p "$CLUSTER_NGINX_DIR/" -c "$CLUSTER_NGINX_DIR/nginx.conf" -e logs/error.log

  echo "• starting the processes under pm2 (PM2_HOME=$PM2_HOME)"
  mkdir -p "$PM2_HOME"
  "$pm2" start scripts/cluster.config.cjs >"$state/pm2-start.log" 2>&1 || { cat "$state/pm2-start.log" >&2; false; }
  local deadline=$((SECONDS + ${CLUSTER_READY_TIMEOUT:-120}))
  for port in $(all_ports); do
    until ready "$port"; do
      if ((SECONDS > deadline)); then
        echo "✗ nothing ready on port $port within ${CLUSTER_READY_TIMEOUT:-120} s; the processes' last lines:" >&2
        "$pm2" logs --nostream --lines 20 >&2 2>&1 || true
        false
      fi
      sleep 0.2
    done
  done
  echo
  echo "✓ Mini Tweeter cluster stack is up"
  echo "  web client:           http://127.0.0.1:$web_port  (through nginx to the services)"
  echo "  commands (nginx):     http://127.0.0.1:$command_lb"
  echo "  queries (nginx):      http://127.0.0.1:$query_lb"
  for port in $(ports_of "$command_ports"); do echo "  command service:      http://127.0.0.1:$port"; done
  for port in $(ports_of "$query_ports"); do echo "  query service:        http://127.0.0.1:$port  (reads from $read_url)"; done
  for port in $(ports_of "$projector_ports"); do echo "  projector:            http://127.0.0.1:$port"; done
  echo "  webhook dispatcher:   http://127.0.0.1:$dispatcher_port"
  echo "  NATS cluster:         $nats_urls  (NATS_STREAM_REPLICAS=3)"
  echo "  Redis Cluster:        $redis_nodes  (timelines, with their fan-out partitions shared by the projectors; rate limits)"
  echo "  database:             $DATABASE_URL"
  echo "  logs:                 PM2_HOME=$PM2_HOME npx pm2 logs; nginx: $CLUSTER_NGINX_DIR/logs/"
  echo "  stop:                 npm run stop:cluster"
}

stop() {
  if [[ ! -d $state ]]; then
    echo "✓ no cluster stack with CLUSTER_COMMAND_PORT=$command_lb ($state does not exist)"
    return
  fi
  if [[ -d $PM2_HOME ]]; then
    # kill stops every process (SIGTERM, SIGQUIT for nginx; SIGKILL after kill_timeout) and the daemon.
    "$pm2" kill >"$state/pm2-kill.log" 2>&1 || cat "$state/pm2-kill.log" >&2
    echo "✓ processes and nginx stopped"
  fi
  local NATS_CLUSTER_PORT REDIS_CLUSTER_PORT PG_STANDBY_PORT PG_STANDBY_DIR started_nats= started_redis= started_standby=
  # shellcheck disable=SC1091
  [[ ! -f $state/clusters ]] || source "$state/clusters"
  export NATS_CLUSTER_PORT REDIS_CLUSTER_PORT PG_STANDBY_PORT PG_STANDBY_DIR
  if [[ -n $started_standby ]]; then bash scripts/pg-standby.sh stop; else echo "• read replica: left as it was (not started by start:cluster)"; fi
  if [[ -n $started_redis ]]; then bash scripts/redis-cluster.sh stop; else echo "• Redis Cluster: left as it was (not started by start:cluster)"; fi
  if [[ -n $started_nats ]]; then bash scripts/nats-cluster.sh stop; else echo "• NATS cluster: left as it was (not started by start:cluster)"; fi
  rm -rf "$state"
}

case "${1:-}" in
  start)
    # In a subshell, so that any failure (set -e) comes back here and takes down what was started.
    set +e
    (set -e; start)
    status=$?
    set -e
    if ((status != 0)); then
      echo "✗ start:cluster failed; stopping what it started" >&2
      stop >&2 || true
      exit "$status"
    fi
    ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
