#!/usr/bin/env bash
# Makes sure the nginx binary (and envsubst, from gettext-base, which fills deploy/nginx.conf's
# ports) are installed, from Debian's packages when missing and running as root, the way
# scripts/ensure-services.sh installs the servers. Only the binary is wanted: the Debian service
# (port 80) is never enabled or started; `npm run start:cluster` and the tests run nginx with a
# config of their own (-p <prefix under .stack/> -c <file>), on 127.0.0.1 ports only.
# Prints the binary's path.
set -euo pipefail

find_nginx() { command -v nginx 2>/dev/null || { [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx; }; }

missing=()
[[ -n "$(find_nginx || true)" ]] || missing+=(nginx)
command -v envsubst >/dev/null || missing+=(gettext-base)
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "✗ missing: ${missing[*]}; install the Debian package(s) (apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "… installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d exit 101: the package's post-install must not start the Debian nginx service on
  # port 80 (invoke-rc.d honours it; removed again right after, unless it was there before).
  policy=/usr/sbin/policy-rc.d created_policy=
  if [[ ! -e $policy ]]; then printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1; fi
  apt-get install -y -qq "${missing[@]}" >/dev/null || { [[ -z $created_policy ]] || rm -f "$policy"; exit 1; }
  [[ -z $created_policy ]] || rm -f "$policy"
fi
find_nginx
