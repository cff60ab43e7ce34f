#!/usr/bin/env bash
# The web client: type check, unit tests of its pure parts (client/test/unit.ts), build, then headless Chromium
# against a real `sol serve` (client/test/e2e.mjs): play as a guest, fly, land and take off, jump through a gate,
# reload and resume. Screenshots go to
# $SOL_TEST_RESULTS/web-client (or a temp folder named in the log). Prints its tests and, last, "N passed, N failed".
cd "$(dirname "$0")/../.."
root=$(pwd)
source scripts/lib/sol-server.sh
work=$(mktemp -d /tmp/sol-web-client.XXXXXX)
trap 'sol_stop; rm -rf "$work"' EXIT
# Screenshots outlive the run: under SOL_TEST_RESULTS, else in a temp folder of their own (its path is printed).
shots=${SOL_TEST_RESULTS:+$SOL_TEST_RESULTS/web-client}
[ -n "$shots" ] || shots=$(mktemp -d /tmp/sol-web-client-shots.XXXXXX)

fail() {
    echo "web-client: $1"
    echo "0 passed, 1 failed"
    exit 0
}
[ -x /usr/bin/chromium ] || fail "no /usr/bin/chromium (scripts/setup/web-client.sh installs it)"
(cd client && npm ci --no-audit --no-fund --silent >/dev/null 2>&1) || fail "npm ci failed in client/"
(cd client && npx tsc --noEmit -p . >"$work/tsc.log" 2>&1) || { cat "$work/tsc.log"; fail "the client does not type-check"; }
(cd client && npm run --silent build >/dev/null) || fail "the client build failed"
# Serve the bundle just built (not a copy an older server build left beside the binary); save player state every
# 0.2 s so GET /api/me shows the ship's movement quickly; start every new player in one system, so the colony test's
# second player is in the first one's system.
export SOL_CLIENT_DIR="$root/client/dist"
sol_start "$work/server" --snapshot-interval 0.2 --starting-systems 1 || fail "sol serve did not start"

passed=0
failed=0
# Runs one suite, shows its lines, and adds its closing "N passed, N failed" to the totals.
suite() {
    local out last p f
    out=$("$@" 2>&1)
    last=$(printf '%s\n' "$out" | tail -n 1)
    printf '%s\n' "$out" | grep -v -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 40
    p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' <<<"$last")
    f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' <<<"$last")
    if [ -z "$p" ]; then
        echo "web-client: $* ended without a count"
        p=0
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
}
suite node client/test/unit.mjs
suite node client/test/e2e.mjs "$SOL_HTTP" "$shots"
echo "$passed passed, $failed failed"
