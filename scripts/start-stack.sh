#!/usr/bin/env bash
# `npm start`: makes sure the servers run, compiles the services (`npm run build`), then runs every
# process of the product under pm2 (scripts/stack.config.cjs) with prefixed logs. A process that
# crashes is restarted with a back-off while the others keep serving; Ctrl-C stops them all. Every
# variable of the contract is honoured, so a second stack can run beside the first with other
# ports, DATABASE_URL, REDIS_PREFIX and NATS_PREFIX.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-services.sh
npm run -s build
# Services log JSON when not on a terminal; under pm2 stdout is a pipe, so ask for pretty lines
# when the user is on one.
if [[ -t 1 ]]; then export LOG_PRETTY=${LOG_PRETTY:-1}; fi
# pm2 keeps its state (pid files, a socket) in PM2_HOME: one per stack, so stacks never meet.
export PM2_HOME=${PM2_HOME:-$PWD/.stack/pm2-${COMMAND_PORT:-3001}}
mkdir -p "$PM2_HOME"
exec node_modules/.bin/pm2-runtime start scripts/stack.config.cjs --formatted
