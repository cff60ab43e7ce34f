#!/usr/bin/env bash
# Deleting a galaxy on PostgreSQL (a throwaway local cluster standing in for CockroachDB): the time of
# `atom generate --replace` of a small galaxy stored beside a big one whose rows the table statistics know (ANALYZE),
# while the small one's are not in them yet - the case where PostgreSQL once planned the batched delete quadratically.
# Usage: bench/galaxy-delete.sh [BIG_ZONES SMALL_ZONES] (default 60000 3000); ATOM=path/to/atom.dll compares a build.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
source scripts/lib/postgres.sh
ensure_postgres
big=${1:-60000}
small=${2:-3000}
if [ -z "${ATOM:-}" ]; then
    dotnet build src/Sol.Atom -c Release --nologo -v q >/dev/null
    ATOM=src/Sol.Atom/bin/Release/net10.0/atom.dll
fi
work=$(mktemp -d /tmp/sol-bench.XXXXXX)
chmod 755 "$work"
pg_stop() { :; }
trap 'pg_stop; rm -rf "$work"' EXIT
pg_start "$work/pg"
db="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
dotnet "$ATOM" generate --db "$db" --name huge --zones "$big" --quiet >/dev/null
psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -c "ANALYZE" postgres
dotnet "$ATOM" generate --db "$db" --name small --zones "$small" --quiet >/dev/null
start=$(date +%s.%N)
status=0
dotnet "$ATOM" generate --db "$db" --name small --zones "$small" --replace --quiet >/dev/null 2>"$work/err" || status=$?
end=$(date +%s.%N)
echo "| build | galaxies | --replace of the small one | exit |"
echo "|---|---|---:|---:|"
printf "| %s | %s + %s zones | %.1f s | %s |\n" "$ATOM" "$big" "$small" "$(echo "$end - $start" | bc)" "$status"
[ "$status" -eq 0 ] || head -c 300 "$work/err" >&2
