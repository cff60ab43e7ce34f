#!/usr/bin/env bash
# Sol.Transport against clients nobody here wrote, for every socket kind (pipelines, kestrel, raw): the echo host
# (`Sol.Bench transport-echo --port 0 --sockets KIND`, bench/Sol.Bench/Transport/TransportEchoHost.cs) is started, then
#   - tests/transport-interop/ws-check.mjs: Node's `ws` package: subprotocol, text and binary of 0 B / 125 B / 126 B /
#     64 KiB / 1 MiB, fragmented messages, ping/pong, close 1000;
#   - tests/transport-interop/browser-check.mjs: headless Chromium (/usr/bin/chromium via playwright-core), a page
#     served over http on 127.0.0.1 using the browser's WebSocket: the same sizes and kinds, clean close.
# Each check prints one line per case; this script prints them and, last, the summed "N passed, N failed".
# Needs: scripts/setup/transport-interop.sh (chromium, npm ci). Run alone: scripts/stages/transport-interop.sh
# (ECHO_KINDS="aspnet" runs the same checks against the ASP.NET Core baseline, to check the checks).
# The end-to-end benchmark of the same servers is bench/transport-e2e.sh (results: bench/results/transport-e2e.md).
cd "$(dirname "$0")/../.."
root=$(pwd)
kinds=(${ECHO_KINDS:-pipelines kestrel raw})
start_deadline=30
passed=0
failed=0
host_pid=
work=$(mktemp -d /tmp/sol-transport-interop.XXXXXX)

stop_host() {
    [ -n "$host_pid" ] || return 0
    kill -TERM "$host_pid" 2>/dev/null
    local i
    for i in $(seq 1 50); do
        kill -0 "$host_pid" 2>/dev/null || { host_pid=; return 0; }
        sleep 0.1
    done
    kill -KILL "$host_pid" 2>/dev/null
    host_pid=
}
trap 'stop_host; rm -rf "$work"' EXIT

fail() {
    echo "FAIL transport-interop: $*"
    failed=$((failed + 1))
}

# run_check NAME COMMAND...: prints the check's case lines and adds its closing count (no count = one failure).
run_check() {
    local name=$1; shift
    local out="$work/$name.out"
    timeout 180 "$@" >"$out" 2>&1
    local rc=$?
    grep -v '^[0-9]* passed, [0-9]* failed$' "$out"
    local last p f
    last=$(grep '^[0-9]* passed, [0-9]* failed$' "$out" | tail -n 1)
    if [ -z "$last" ]; then
        fail "$name printed no count (exit $rc)"
        return
    fi
    p=${last%% passed*}
    f=${last#*passed, }; f=${f%% failed*}
    passed=$((passed + p)); failed=$((failed + f))
}

if ! (cd tests/transport-interop && npm ci --no-audit --no-fund --silent >/dev/null 2>&1); then
    fail "npm ci failed in tests/transport-interop"
    echo "$passed passed, $failed failed"
    exit 0
fi
if ! dotnet build bench/Sol.Bench -c Release --nologo -v q >"$work/build.log" 2>&1; then
    grep -m 5 ' error ' "$work/build.log"
    fail "bench/Sol.Bench did not build"
    echo "$passed passed, $failed failed"
    exit 0
fi
host="$root/bench/Sol.Bench/bin/Release/net10.0/Sol.Bench"

for kind in "${kinds[@]}"; do
    log="$work/echo-$kind.log"
    "$host" transport-echo --port 0 --sockets "$kind" >"$log" 2>&1 &
    host_pid=$!
    disown "$host_pid"
    url=
    for _ in $(seq 1 $((start_deadline * 10))); do
        url=$(sed -n 's/^listening on \(ws:\/\/[0-9.:]*\/ws\)$/\1/p' "$log" | head -n 1)
        [ -n "$url" ] && break
        kill -0 "$host_pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$url" ]; then
        head -n 5 "$log"
        if kill -0 "$host_pid" 2>/dev/null; then
            fail "the $kind echo host did not start within ${start_deadline} s"
        else
            fail "the $kind echo host exited before it listened"
        fi
        stop_host
        continue
    fi
    run_check "ws-$kind" node tests/transport-interop/ws-check.mjs "$url" "ws/$kind"
    run_check "chromium-$kind" node tests/transport-interop/browser-check.mjs "$url" "chromium/$kind"
    stop_host
done
echo "$passed passed, $failed failed"
