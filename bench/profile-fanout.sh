#!/usr/bin/env bash
# Where a fan-out message's server CPU goes: kernel vs user space, per server, sampled with `perf` (cpu-clock, 1999 Hz)
# in the server's child process while the end-to-end harness runs one fan-out row (2,000 clients x 200 B at 20 Hz by
# default) for each server in turn. Prints a table: the harness's µs per message and the share of the samples in the
# kernel, in JIT-compiled .NET code and in native runtime libraries, with the kernel's part in µs per message, and the
# share of samples in loopback's receive path (the clients' side of TCP, run on the sender's CPU; see below) with the µs
# per message left without it; with aspnet among the servers, the ratios to it both ways.
# Needs `perf` (installed through apt as root on Debian: linux-perf) and permission to profile the child (root, or
# kernel.perf_event_paranoid <= 1).
# Usage: bench/profile-fanout.sh [--servers raw,pipelines,kestrel,aspnet,direct,floor] [--clients N] [--size B] [--rate HZ] [--seconds S]
# Writes the table to stdout; perf data and logs stay in a temporary folder (printed). For `floor` (bench/floor, C) its own
# code is counted in the "runtime + libc" column.
set -euo pipefail
cd "$(dirname "$0")/.."
servers=raw,pipelines,kestrel,aspnet,direct clients=2000 size=200 rate=20 seconds=12
while [ $# -gt 0 ]; do
    case "$1" in
        --servers) servers=$2 ;;
        --clients) clients=$2 ;;
        --size) size=$2 ;;
        --rate) rate=$2 ;;
        --seconds) seconds=$2 ;;
        *) echo "unknown option $1 (see the header of $0)" >&2; exit 2 ;;
    esac
    shift 2
done
# shellcheck source=scripts/lib/deps.sh
source scripts/lib/deps.sh
ensure_perf || { echo "perf is needed (Debian: apt-get install linux-perf)" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
dotnet build bench/Sol.Bench -c Release --nologo -v q >/dev/null
if [[ ",$servers," == *,floor,* ]]; then
    SOL_BENCH_FLOOR_SERVER=$(bench/floor/build.sh)
    export SOL_BENCH_FLOOR_SERVER
fi
bin=bench/Sol.Bench/bin/Release/net10.0/Sol.Bench
work=$(mktemp -d /tmp/sol-profile.XXXXXX)
# JIT-compiled code gets names in /tmp/perf-PID.map only without the W^X double mapping.
export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
echo "Command: bench/profile-fanout.sh --servers $servers --clients $clients --size $size --rate $rate --seconds $seconds"
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench || echo ' (with uncommitted changes)'); perf data in $work"
echo
echo "| server | µs/msg (harness) | kernel | JIT code | runtime + libc | kernel µs/msg | user µs/msg | loopback receive | µs/msg without it |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
summary=$work/summary
for server in ${servers//,/ }; do
    # No echo row. The warm-up (64 fan-out clients, about 2 s) comes first, then the measured row, longer than the
    # profile; sampling starts 4 s after the harness's server child holds more descriptors than there are clients.
    "$bin" transport-e2e --servers "$server" --clients "$clients" --sizes "$size" --rates "$rate" --idle 0 --rounds 1 --echo-clients 0 \
        --duration $((seconds + 10)) --warmup 1 >"$work/$server.log" 2>&1 &
    harness=$!
    pid=
    for _ in $(seq 1 240); do
        if [ "$server" = floor ]; then pattern=floor-server; else pattern="transport-e2e-server $server"; fi
        pid=$(pgrep -P "$harness" -f "$pattern" | head -1 || true)
        if [ -n "$pid" ] && [ "$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)" -gt "$clients" ]; then break; fi
        sleep 0.5
    done
    [ -n "$pid" ] || { echo "no server process for $server" >&2; kill "$harness" 2>/dev/null; exit 1; }
    sleep 4
    perf record -q -g -e cpu-clock -F 1999 -p "$pid" -o "$work/$server.data" -- sleep "$seconds" >/dev/null 2>&1 || true
    wait "$harness"
    per=$(grep -E "^\| fan-out" "$work/$server.log" | tail -1 | awk -F'|' '{gsub(/ /,"",$6); print $6}')
    # Loopback runs the receiving socket's whole input path (TCP receive, waking the reader) in a softirq on the
    # sender's CPU, charged to the sender: samples whose call chain holds process_backlog. On a real network that part
    # runs on the client's machine (while the ACKs the clients send back, processed in the harness here, would be the
    # server's): the last column is an estimate of that, not a measurement.
    receive=$(perf script -i "$work/$server.data" -F ip,sym 2>/dev/null |
        awk 'BEGIN { RS = "" } { n++; if ($0 ~ /process_backlog/) r++ } END { printf "%.1f", n ? 100 * r / n : 0 }')
    perf report -i "$work/$server.data" --stdio --no-children --sort dso -g none 2>/dev/null | grep -E '^ +[0-9.]+%' |
        awk -v server="$server" -v per="$per" -v receive="$receive" -v summary="$summary" '
            { share = $1; sub(/%/, "", share); $1 = ""; dso = $0
              if (dso ~ /kernel/) k += share; else if (dso ~ /JIT|memfd|perf-/) j += share; else r += share }
            END { printf "| %s | %.2f | %.1f %% | %.1f %% | %.1f %% | %.2f | %.2f | %.1f %% | %.2f |\n", server, per, k, j, r,
                      per * k / 100, per * (100 - k) / 100, receive, per * (100 - receive) / 100
                  printf "%s %f %f\n", server, per, per * (100 - receive) / 100 >> summary }'
done
# Ratios to ASP.NET Core (its µs per message over each server's), as measured and without the loopback receive path.
if [ -f "$summary" ] && grep -q '^aspnet ' "$summary"; then
    echo
    awk '{ per[$1] = $2; without[$1] = $3; order[++n] = $1 }
         END { for (i = 1; i <= n; i++) if (order[i] != "aspnet")
                   printf "%s / aspnet: %.2fx as measured, %.2fx without the loopback receive path\n", order[i],
                       per["aspnet"] / per[order[i]], without["aspnet"] / without[order[i]] }' "$summary"
fi
