#!/usr/bin/env bash
# Installs what scripts/stages/transport-interop.sh needs on a fresh machine: Debian's chromium (driven by
# playwright-core, no browser download) and the npm packages of tests/transport-interop (ws, playwright-core).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/deps.sh
ensure_chromium
(cd tests/transport-interop && npm ci --no-audit --no-fund --silent >/dev/null)
