#!/usr/bin/env bash
# Renders deploy/nginx.conf (a template) to stdout with envsubst (Debian's gettext-base;
# scripts/ensure-nginx.sh installs it). Only the template's own names are substituted, listed
# explicitly, so nginx's variables ($remote_addr, $http_host, …) stay as they are; an unset or
# empty one is refused here rather than rendered as an empty string nginx would misread.
#
#   COMMAND_SERVICE_1=127.0.0.1:3011 COMMAND_SERVICE_2=127.0.0.1:3012 \
#   QUERY_SERVICE_1=127.0.0.1:3021 QUERY_SERVICE_2=127.0.0.1:3022 \
#   NGINX_COMMAND_LISTEN=127.0.0.1:8080 NGINX_QUERY_LISTEN=127.0.0.1:8081 \
#     bash deploy/render-nginx-conf.sh > .stack/nginx/nginx.conf
#
# NGINX_WORKER_PROCESSES defaults to 2; NGINX_PROXY_READ_TIMEOUT to CONSISTENCY_WAIT_MS (2000 by
# default) + 10 s, at least 30 s, so a read waiting for X-Min-Position is always answered by the
# service (200, or its own 503 consistency-timeout), never cut off by nginx.
set -euo pipefail
here=$(dirname "$0")
wait_ms=${CONSISTENCY_WAIT_MS:-2000}
[[ $wait_ms =~ ^[0-9]+$ ]] || { echo "✗ CONSISTENCY_WAIT_MS must be a whole number (ms)" >&2; exit 1; }
timeout_s=$(((wait_ms + 10000 + 999) / 1000))
((timeout_s >= 30)) || timeout_s=30
export NGINX_WORKER_PROCESSES=${NGINX_WORKER_PROCESSES:-2}
export NGINX_PROXY_READ_TIMEOUT=${NGINX_PROXY_READ_TIMEOUT:-${timeout_s}s}
names=(NGINX_COMMAND_LISTEN NGINX_QUERY_LISTEN COMMAND_SERVICE_1 COMMAND_SERVICE_2
  QUERY_SERVICE_1 QUERY_SERVICE_2 NGINX_WORKER_PROCESSES NGINX_PROXY_READ_TIMEOUT)
missing=()
for name in "${names[@]}"; do [[ -n ${!name:-} ]] || missing+=("$name"); done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "✗ deploy/nginx.conf needs ${missing[*]}" >&2
  exit 1
fi
command -v envsubst >/dev/null || { echo "✗ envsubst is missing (Debian package gettext-base; bash scripts/ensure-nginx.sh)" >&2; exit 1; }
envsubst "$(printf '${%s} ' "${names[@]}")" <"$here/nginx.conf"
