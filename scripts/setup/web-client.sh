#!/usr/bin/env bash
# Installs what the web client's build and browser tests need on a fresh machine: Debian's chromium (driven by
# playwright-core with executablePath /usr/bin/chromium; no browser download), flatc (scripts/gen-protocol.sh),
# and the client's npm packages (esbuild, typescript, flatbuffers, playwright-core).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/deps.sh
ensure_chromium
ensure_flatc
(cd client && npm ci --no-audit --no-fund --silent)
