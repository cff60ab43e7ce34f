#!/usr/bin/env bash
# Bytes a client receives, side by side: this checkout's server and another checkout's (built in Release), on the same
# galaxy (atom generate --seed 42, 200 systems), each run on a fresh copy of it, with 200 idle bots (loadgen of this
# checkout). "quiet": --starting-systems 200, the bots spread over the galaxy, about one a system; "crowded": the
# default starting systems (4), about 50 bots a zone, under --view-ships (96), so one shared snapshot a zone; "viewed":
# the same with --view-ships 24, so each client gets its own ship and the nearest 24 (the per-client path). Prints a
# markdown table; rounds alternate the order.
# Usage: bench/snapshot-bytes.sh OTHER_CHECKOUT [ROUNDS]   (DURATION, default 15s)
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: bench/snapshot-bytes.sh OTHER_CHECKOUT [ROUNDS]" >&2; exit 2; }
other=$(cd "$1" && pwd) # relative to where the script was run
rounds=${2:-2}
cd "$(dirname "$0")/.."
root=$(pwd)
duration=${DURATION:-15s}
source scripts/lib/sol-server.sh
[ -x "$other/src/Sol.Server/bin/Release/net10.0/sol" ] || { echo "build $other first: dotnet build $other/src/Sol.Server -c Release" >&2; exit 2; }
for project in src/Sol.Server src/Sol.Atom tools/loadgen; do
    log=$(dotnet build "$project" -c Release --nologo -v q 2>&1) || { echo "$log" >&2; echo "build of $project failed" >&2; exit 1; }
done
work=$(mktemp -d /tmp/sol-snapshot-bytes.XXXXXX)
# The runs' logs stay when a run fails (its report, sol.log), and go when all went well.
trap 'status=$?; sol_stop; if [ $status = 0 ]; then rm -rf "$work"; else echo "logs kept in $work" >&2; fi' EXIT
src/Sol.Atom/bin/Release/net10.0/atom generate --db "$work/galaxy.db" --seed 42 --quiet >/dev/null

run() { # name checkout config
    local dir="$work/$1-$3"
    rm -rf "$dir"; mkdir -p "$dir"; cp "$work/galaxy.db" "$dir/sol.db"
    local extra=()
    [ "$3" = quiet ] && extra=(--starting-systems 200)
    [ "$3" = viewed ] && extra=(--view-ships 24)
    SOL_ROOT=$2 sol_start "$dir" "${extra[@]}"
    tools/loadgen/bin/Release/net10.0/loadgen --http "$SOL_HTTP" --game "$SOL_GAME" --bots 200 --ramp 5s --duration "$duration" \
        --scenario idle --seed 1 --quiet --report json --out "$dir/report.json" >"$dir/report.txt" 2>&1 || true
    sol_stop
    python3 - "$dir/report.json" "$1" "$3" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
cpu = r.get("serverCpuPercent")
print(f"| {sys.argv[3]} | {sys.argv[2]} | {r['bytesInPerBotSecond']:,.0f} | {r['inputToAck']['p99']:.1f} | "
      f"{'n/a' if cpu is None else f'{cpu:.1f}'} | {sum(r['errors'].values())} |")
PY
}

echo "| zones | server | bytes/s in per bot | input->ack p99 (ms) | server CPU % | errors |"
echo "|---|---|---:|---:|---:|---:|"
for round in $(seq 1 "$rounds"); do
    for config in quiet crowded viewed; do
        if [ $((round % 2)) = 1 ]; then run this "$root" $config; run other "$other" $config
        else run other "$other" $config; run this "$root" $config; fi
    done
done
