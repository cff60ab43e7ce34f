#!/usr/bin/env bash
# End to end on loopback, one run, seven servers: Sol.Transport on its raw sockets (the default), the same with one
# sendmsg per flush instead of io_uring batches ("raw-sendmsg"), on Pipelines sockets and on Kestrel sockets, a minimal
# ASP.NET Core `UseWebSockets` app doing the same, and two references that are not products: "direct" (.NET,
# plain sockets, each message framed once and sent with blocking Socket.Send to every receiver on the thread that read
# it; no queue, no backpressure), which shows about the least CPU per message for a .NET server when every message is
# its own send, and "floor" (bench/floor/floor-server.c: C, one thread, each broadcast sent to every receiver with one
# io_uring submission), a lean sample of what a message costs when little but the kernel's TCP send is left
# (both at 20 Hz; flat out the other servers write several queued messages per send and neither is a ceiling)
# (bench/Sol.Bench/Transport/). Echo (100 connections, 20 B, flat out), broadcast fan-out (16 / 256 / 2,000 clients x
# 200 B / 2 KiB, at 20 Hz and flat out) and memory per idle connection (10,000 idle connections; not for the
# references). Each server runs in a child process whose CPU time is read around every measured window; the clients
# are raw sockets in the harness process. `--servers raw,pipelines,kestrel,aspnet` leaves the references and raw-sendmsg out.
# Usage: bench/transport-e2e.sh [--quick] [harness options, see bench/Sol.Bench/Transport/EndToEndOptions.cs]
# Writes bench/results/transport-e2e.md (or $OUT) with the command, machine facts and the tables. About 7-8 minutes;
# --quick is a smoke run of about 45 s (and writes $OUT only when set).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# 10,000 idle connections need 10,000 descriptors in the server and as many in the harness.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

quick=0
for a in "$@"; do [ "$a" = "--quick" ] && quick=1; done
out=${OUT:-}
[ -n "$out" ] || [ "$quick" -eq 1 ] || out="$root/bench/results/transport-e2e.md"

dotnet build bench/Sol.Bench -c Release --nologo -v q >/dev/null
# The floor reference is a C program (bench/floor/floor-server.c); `--servers` without floor does not need it.
if SOL_BENCH_FLOOR_SERVER=$(bench/floor/build.sh); then
    export SOL_BENCH_FLOOR_SERVER
else
    echo "bench/floor/build.sh failed (needs cc): pass --servers without floor to run the others" >&2
fi
bin="$root/bench/Sol.Bench/bin/Release/net10.0/Sol.Bench"
tables=$(mktemp /tmp/sol-transport-e2e.XXXXXX)
trap 'rm -f "$tables"' EXIT
start=$(date -u +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
set +e
"$bin" transport-e2e "$@" | tee "$tables"
rc=${PIPESTATUS[0]}
set -e
echo "(run took $(( $(date -u +%s) - start )) s; harness exit code $rc)" >&2
[ -n "$out" ] || exit "$rc"

commit=$(git rev-parse --short HEAD)
dirty=$(git status --porcelain --untracked-files=no | grep -q . && echo " (with uncommitted changes)" || true)
{
    echo "# End to end: Sol.Transport vs ASP.NET Core WebSockets"
    echo
    echo "How to run: \`bench/transport-e2e.sh\` (about 7-8 minutes; \`--quick\` is a smoke run of about 45 s; other options"
    echo "in \`bench/Sol.Bench/Transport/EndToEndOptions.cs\`). Same as \`dotnet run -c Release --project bench/Sol.Bench --"
    echo "transport-e2e [options]\`. Each server runs in its own child process; its CPU time (Environment.CpuUsage: user + system,"
    echo "all threads) and allocated bytes are read right before and after each measured window. Clients are raw sockets"
    echo "in the harness process (masked frames prepared once, a reader that only counts messages)."
    echo
    echo "Command: \`bench/transport-e2e.sh${*:+ $*}\`  "
    echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), .NET $(dotnet --version)  "
    echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit$dirty  "
    echo "Load average (1/5/15 min) before the run: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "**The machine is shared and noisy** (2 cores; server and clients run on the same cores; other people build"
    echo "here). Absolute numbers move from run to run; compare the servers by the ratios within one run."
    echo
    cat "$tables"
} >"$out"
echo "wrote ${out#$root/}" >&2
exit "$rc"
