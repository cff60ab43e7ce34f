#!/usr/bin/env bash
# A client nobody here wrote: Node's `ws` package plays the join handshake against a real `sol serve`
# (tests/node-check/check.mjs). Prints its checks and, last, "N passed, N failed".
cd "$(dirname "$0")/../.."
root=$(pwd)
source scripts/lib/sol-server.sh
work=$(mktemp -d /tmp/sol-node-check.XXXXXX)
trap 'sol_stop; rm -rf "$work"' EXIT

if ! (cd tests/node-check && npm ci --no-audit --no-fund --silent >/dev/null 2>&1); then
    echo "node-ws-check: npm ci failed in tests/node-check"
    echo "0 passed, 1 failed"
    exit 0
fi
if ! sol_start "$work/server"; then
    echo "node-ws-check: sol serve did not start"
    echo "0 passed, 1 failed"
    exit 0
fi
node "$root/tests/node-check/check.mjs" "$SOL_HTTP" "$SOL_GAME" | tail -n 20
