#!/usr/bin/env bash
# End-to-end load benchmark: starts `sol serve` (SQLite, fresh data folder, free 127.0.0.1 ports) once per size, runs
# loadgen (mixed) at each size and prints a markdown table.
# Usage: bench/loadgen-e2e.sh [BOTS ...]   (default 100 500 1000 2000). DURATION (default 30s) and RAMP (default 10s)
# may be set in the environment for shorter runs; any SOL_* variable reaches the server (e.g. SOL_GAME_TRANSPORT=aspnet,
# SOL_VIEW_SHIPS=0) to compare configurations.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
source scripts/lib/sol-server.sh
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 500 1000 2000)
duration=${DURATION:-30s}
ramp=${RAMP:-10s}
ulimit -n 65536 2>/dev/null || true

dotnet build src/Sol.Server -c Release --nologo -v q >/dev/null
dotnet build tools/loadgen -c Release --nologo -v q >/dev/null
loadgen="$root/tools/loadgen/bin/Release/net10.0/loadgen"
work=$(mktemp -d /tmp/sol-loadgen-e2e.XXXXXX)
trap 'sol_stop; rm -rf "$work"' EXIT

echo "| bots | input->ack p50 (ms) | input->ack p99 (ms) | snapshot gap p99 (ms) | server tick p99 (ms) | overruns | server CPU % | loadgen CPU % | bytes/s in per bot | errors |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for bots in "${sizes[@]}"; do
    sol_start "$work/server-$bots"
    "$loadgen" --http "$SOL_HTTP" --game "$SOL_GAME" --bots "$bots" --ramp "$ramp" --duration "$duration" --scenario mixed \
        --quiet --report json --out "$work/report-$bots.json" >"$work/report-$bots.txt" 2>&1 || true
    sol_stop
    python3 - "$work/report-$bots.json" "$bots" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
errors = sum(v for k, v in r["errors"].items() if not k.startswith("game:"))
f = lambda v: "n/a" if v is None else (">last bucket" if isinstance(v, str) else f"{v:.1f}")
print(f"| {sys.argv[2]} | {r['inputToAck']['p50']:.1f} | {r['inputToAck']['p99']:.1f} | {r['snapshotGap']['p99']:.1f} | "
      f"{f(r.get('serverTickP99Ms'))} | {f(r.get('serverOverruns'))} | {f(r.get('serverCpuPercent'))} | {r['loadgenCpuPercent']:.0f} | "
      f"{r['bytesInPerBotSecond']:,.0f} | {errors} |")
PY
done
