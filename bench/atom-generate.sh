#!/usr/bin/env bash
# End-to-end benchmark of `atom generate`: wall time and peak memory (RSS) of generating and storing a galaxy into
# SQLite and into PostgreSQL (a throwaway local cluster standing in for CockroachDB), side by side in one run.
# Usage: bench/atom-generate.sh [ZONES ...]   (default: 10000 100000). Prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
source scripts/lib/deps.sh
source scripts/lib/postgres.sh
ensure_postgres
command -v /usr/bin/time >/dev/null 2>&1 || [ -x /usr/bin/time ] || apt_install time >/dev/null

sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000)

dotnet build src/Sol.Atom -c Release --nologo -v q >/dev/null
atom="$root/src/Sol.Atom/bin/Release/net10.0/atom"

work=$(mktemp -d /tmp/sol-bench.XXXXXX)
chmod 755 "$work"
pg_stop() { :; }
trap 'pg_stop; rm -rf "$work"' EXIT
pg_start "$work/pg"
pg="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"

run() { # store zones -> "seconds peak_mib"
    local db=$1 zones=$2 out
    out=$( { /usr/bin/time -f "TIME %e %M" "$atom" generate --db "$db" --name "bench$zones" --zones "$zones" --seed 7 --replace --quiet >/dev/null; } 2>&1 )
    awk '/^TIME/ { printf "%s %.0f\n", $2, $3 / 1024 }' <<<"$out"
}

echo "| zones | store | wall time (s) | peak RSS (MiB) | systems+stars+planets+gates rows |"
echo "|---:|---|---:|---:|---:|"
for zones in "${sizes[@]}"; do
    for store in sqlite postgresql; do
        if [ "$store" = sqlite ]; then db="$work/sol-$zones.db"; else db=$pg; fi
        read -r secs mib < <(run "$db" "$zones")
        rows=$("$atom" inspect --db "$db" --name "bench$zones" | awk '/^(systems|stars|planets|gates) / { gsub(",", "", $2); s += $2 } END { print s }')
        echo "| $zones | $store | $secs | $mib | $rows |"
    done
done
