#!/usr/bin/env bash
# Makes sure Chromium is at /usr/bin/chromium for the web client's browser test (driven by
# playwright-core, which downloads no browser): Debian's `chromium` package, installed when
# missing (as root with apt). Without it the browser test says it is skipped and why.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/packages.sh
. scripts/lib/packages.sh
if [[ -x /usr/bin/chromium ]]; then
  echo "✓ chromium at /usr/bin/chromium"
else
  install_pkg chromium 'the web client browser test needs it' || true
fi
