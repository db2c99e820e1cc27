#!/usr/bin/env bash
# Checks the monitoring files in deploy/ with Prometheus's own tool: the configuration and the
# alert rules are valid, and each alert fires on the series its unit test feeds it (and not on the
# others). promtool comes from Debian's `prometheus` package, installed when missing (as root).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/packages.sh
. scripts/lib/packages.sh
command -v promtool >/dev/null || install_pkg prometheus 'it provides promtool'
cd deploy/prometheus
promtool check config prometheus.yml
promtool check rules alerts.yml
promtool test rules alerts.test.yml
