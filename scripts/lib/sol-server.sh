# sol_start DIR [EXTRA FLAGS...]: starts the built `sol` (Release) on free 127.0.0.1 ports with the SQLite database
# DIR/sol.db (a fresh one unless DIR holds one); sets SOL_HTTP (http://127.0.0.1:PORT) and SOL_GAME
# (ws://127.0.0.1:PORT/ws) once it listens. SOL_ROOT set: the `sol` of that checkout instead of this one.
# sol_stop: stops it (SIGTERM, then SIGKILL after 10 s).
SOL_PID=
sol_start() {
    local dir=$1; shift
    local root; root=${SOL_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
    local bin="$root/src/Sol.Server/bin/Release/net10.0/sol"
    [ -x "$bin" ] || dotnet build "$root/src/Sol.Server" -c Release --nologo -v q >/dev/null || return 1
    mkdir -p "$dir"
    (cd "$dir" && exec "$bin" serve --http 127.0.0.1:0 --game 127.0.0.1:0 --db "$dir/sol.db" --log-level information "$@") >"$dir/sol.log" 2>&1 &
    SOL_PID=$!
    local i
    for i in $(seq 1 300); do
        if grep -q "game port on ws://" "$dir/sol.log" 2>/dev/null; then
            SOL_HTTP=$(sed -n 's/.*HTTP API on \(http:\/\/[0-9.:]*\).*/\1/p' "$dir/sol.log" | head -n 1)
            SOL_GAME=$(sed -n 's/.*game port on \(ws:\/\/[0-9.:]*\/ws\).*/\1/p' "$dir/sol.log" | head -n 1)
            return 0
        fi
        kill -0 "$SOL_PID" 2>/dev/null || { cat "$dir/sol.log" >&2; return 1; }
        sleep 0.1
    done
    cat "$dir/sol.log" >&2
    return 1
}

sol_stop() {
    [ -n "$SOL_PID" ] || return 0
    kill -TERM "$SOL_PID" 2>/dev/null || return 0
    local i
    for i in $(seq 1 100); do
        kill -0 "$SOL_PID" 2>/dev/null || { SOL_PID=; return 0; }
        sleep 0.1
    done
    kill -KILL "$SOL_PID" 2>/dev/null
    SOL_PID=
}
