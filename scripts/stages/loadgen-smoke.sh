#!/usr/bin/env bash
# A short load run in the test command, so CI catches a server that cannot carry load: 50 bots (mixed) for 10 s
# against a real `sol serve`, with thresholds. Prints loadgen's report and, last, "N passed, N failed".
cd "$(dirname "$0")/../.."
root=$(pwd)
source scripts/lib/sol-server.sh
work=$(mktemp -d /tmp/sol-loadgen-smoke.XXXXXX)
trap 'sol_stop; rm -rf "$work"' EXIT

loadgen="$root/tools/loadgen/bin/Release/net10.0/loadgen"
[ -x "$loadgen" ] || dotnet build "$root/tools/loadgen" -c Release --nologo -v q >/dev/null
if ! sol_start "$work/server"; then
    echo "loadgen-smoke: sol serve did not start"
    echo "0 passed, 1 failed"
    exit 0
fi
if "$loadgen" --http "$SOL_HTTP" --game "$SOL_GAME" --bots 50 --ramp 2s --duration 10s --scenario mixed --quiet \
    --assert-p99-ms 250 --assert-max-error-rate 0; then
    echo "loadgen-smoke: 50 bots for 10 s within thresholds (input-to-ack p99 <= 250 ms, no errors)"
    echo "1 passed, 0 failed"
else
    echo "loadgen-smoke: thresholds missed (see above)"
    echo "0 passed, 1 failed"
fi
