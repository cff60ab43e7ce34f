# pg_start DIR: a throwaway PostgreSQL cluster in DIR on a free 127.0.0.1 port (PG_PORT), trust auth, fsync off.
# pg_stop: stops it. Sourced by scripts/*.sh; needs deps.sh's pg_bindir.

PG_PORT=
_pg_dir=
_pg_bin=
_pg_as() {
    # initdb and postgres refuse to run as root: run them as the postgres user then.
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

_port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pg_start() {
    _pg_dir=$1
    _pg_bin=$(pg_bindir) || return 1
    mkdir -p "$_pg_dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$_pg_dir" "$(dirname "$_pg_dir")"
    _pg_as "$_pg_bin/initdb" -D "$_pg_dir/data" --auth=trust -U postgres -E UTF8 >"$_pg_dir/../pg.log" 2>&1 || return 1
    local try port
    for try in 1 2 3 4 5 6 7 8; do
        port=$(( (RANDOM * 32768 + RANDOM) % 30000 + 20000 ))
        _port_free "$port" || continue
        if _pg_as "$_pg_bin/pg_ctl" -D "$_pg_dir/data" -l "$_pg_dir/server.log" -w -t 30 \
            -o "-p $port -c listen_addresses=127.0.0.1 -k $_pg_dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
            start >>"$_pg_dir/../pg.log" 2>&1; then
            PG_PORT=$port
            pg_stop() { _pg_as "$_pg_bin/pg_ctl" -D "$_pg_dir/data" -m immediate -w stop >/dev/null 2>&1 || true; }
            return 0
        fi
    done
    return 1
}
