# Installs the machine packages the tests and tools need, once. Sourced by scripts/*.sh.
# As root on Debian it installs through apt; elsewhere it says what to install and fails.

_apt_updated=0
apt_install() {
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "missing: $* (install these packages, or run this script as root on Debian)" >&2
        return 1
    fi
    if [ "$_apt_updated" -eq 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
        _apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

pg_bindir() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && { echo "$d"; return 0; }
    done
    command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
    return 1
}

ensure_postgres() {
    pg_bindir >/dev/null && return 0
    echo "installing PostgreSQL (apt)" >&2
    apt_install postgresql >/dev/null && pg_bindir >/dev/null
}

ensure_flatc() {
    command -v flatc >/dev/null 2>&1 && return 0
    echo "installing flatc (apt flatbuffers-compiler)" >&2
    apt_install flatbuffers-compiler >/dev/null
}

# Debian's Chromium for browser tests (Playwright drives it with executablePath /usr/bin/chromium; no browser download).
ensure_chromium() {
    [ -x /usr/bin/chromium ] && return 0
    echo "installing chromium (apt)" >&2
    apt_install chromium >/dev/null && [ -x /usr/bin/chromium ]
}

# perf for bench/profile-fanout.sh (not needed by the tests).
ensure_perf() {
    command -v perf >/dev/null 2>&1 && return 0
    echo "installing perf (apt linux-perf)" >&2
    apt_install linux-perf >/dev/null && command -v perf >/dev/null 2>&1
}
