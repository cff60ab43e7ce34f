#!/usr/bin/env bash
# The one test command: ./scripts/test.sh [extra dotnet test args]
# Installs what the tests need (PostgreSQL via apt when missing), starts a throwaway PostgreSQL cluster on a free
# 127.0.0.1 port, runs every test of the solution against it, stops the cluster, and ends with one line
# "N passed, N failed" counted from the test results.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# shellcheck source=scripts/lib/deps.sh
source "$root/scripts/lib/deps.sh"
ensure_postgres || { echo "0 passed, 1 failed"; exit 1; }
# Each scripts/setup/*.sh installs what one group of tests needs (npm packages, chromium, flatc ...).
for setup in "$root"/scripts/setup/*.sh; do
    [ -f "$setup" ] || continue
    bash "$setup" || { echo "setup step $(basename "$setup") failed" >&2; echo "0 passed, 1 failed"; exit 1; }
done

work=$(mktemp -d /tmp/sol-test.XXXXXX)
chmod 755 "$work"
pg_stop() { :; }
cleanup() { pg_stop; [ -n "${KEEP_TEST_WORK:-}" ] || rm -rf "$work"; }
trap cleanup EXIT

# shellcheck source=scripts/lib/postgres.sh
source "$root/scripts/lib/postgres.sh"
if ! pg_start "$work/pg"; then
    echo "could not start a PostgreSQL cluster (see $work/pg.log)" >&2
    cat "$work/pg.log" >&2 || true
    echo "0 passed, 1 failed"
    exit 1
fi
export SOL_TEST_POSTGRES="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres;Timeout=15"
echo "PostgreSQL test cluster on 127.0.0.1:$PG_PORT" >&2

results="$work/results"
export SOL_TEST_RESULTS="$results"
dotnet test "$root/Sol.sln" -c Release --nologo -tl:off --logger "trx" \
    --logger "console;verbosity=minimal" "$@"
dotnet_rc=$?

passed=0; failed=0; skipped=0
shopt -s nullglob
trx=("$results"/*/*.trx)
for f in "${trx[@]}"; do
    counters=$(grep -o '<Counters [^>]*>' "$f" | head -n 1)
    p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
    fl=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
    er=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$counters")
    ne=$(sed -n 's/.* notExecuted="\([0-9]*\)".*/\1/p' <<<"$counters")
    passed=$((passed + ${p:-0})); failed=$((failed + ${fl:-0} + ${er:-0})); skipped=$((skipped + ${ne:-0}))
done

# Test stages outside the .NET suite (scripts/stages/*.sh) print their own 'N passed, N failed' last; added here.
for stage in "$root"/scripts/stages/*.sh; do
    [ -f "$stage" ] || continue
    # Through a file and our own stderr descriptor (not `tee /dev/stderr`, which reopens the file behind stderr: with
    # O_TRUNC it wiped a log, with O_APPEND its writes and ours overwrote each other).
    bash "$stage" >"$work/stage.out" 2>&1
    cat "$work/stage.out" >&2
    out=$(tail -n 1 "$work/stage.out")
    p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' <<<"$out")
    fl=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' <<<"$out")
    if [ -z "$p" ]; then p=0; fl=1; echo "stage $(basename "$stage") printed no count" >&2; fi
    passed=$((passed + p)); failed=$((failed + fl))
done

# A build failure or a crashed test host leaves fewer result files than test projects: count it as a failure.
if [ "$dotnet_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    echo "dotnet test exited with $dotnet_rc and reported no failed test: counting the run as failed" >&2
    failed=$((failed + 1))
fi

# Start the count on a fresh line whatever the tools above left on the current one.
printf '\n'
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
