#!/usr/bin/env bash
# `npm start`: makes sure the servers run, then starts every process of the product with
# prefixed logs. Ctrl-C stops them all. Every variable of the contract is honoured, so a second
# stack can run beside the first with other ports, DATABASE_URL, REDIS_PREFIX and NATS_PREFIX.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-services.sh
export FORCE_COLOR=${FORCE_COLOR:-1}
# Services log JSON when not on a terminal; under concurrently stdout is a pipe, so ask for pretty
# lines when the user is on one.
if [[ -t 1 ]]; then export LOG_PRETTY=${LOG_PRETTY:-1}; fi
exec npx concurrently --kill-others --names command,query,projector,webhooks \
  --prefix-colors blue,green,magenta,yellow \
  "npm run -s start -w command-service" \
  "npm run -s start -w query-service" \
  "npm run -s start -w projector" \
  "npm run -s start -w webhook-dispatcher"
