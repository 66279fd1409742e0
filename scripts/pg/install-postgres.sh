#!/usr/bin/env bash
# Make PostgreSQL's server binaries (initdb, pg_ctl, postgres) available for
# the tests and the store benchmark, which start throw-away clusters of
# their own on a random loopback port. Idempotent: does nothing when the
# binaries are already there.
#
#   scripts/pg/install-postgres.sh          install if missing, print where they are
#   scripts/pg/install-postgres.sh --check  only check (exit 1 when missing)
#
# On Debian/Ubuntu it installs the distribution's `postgresql` package with
# apt-get (as root, or through sudo), without creating or starting the
# package's default cluster. Elsewhere it says what to install. The tests
# also honour NEWSFLOW_PG_BIN=<directory holding initdb and pg_ctl>.
set -euo pipefail

find_bin() {
    if [ -n "${NEWSFLOW_PG_BIN:-}" ] && [ -x "$NEWSFLOW_PG_BIN/initdb" ] && [ -x "$NEWSFLOW_PG_BIN/pg_ctl" ]; then
        echo "$NEWSFLOW_PG_BIN"
        return 0
    fi
    local initdb
    if initdb=$(command -v initdb 2>/dev/null); then
        local dir
        dir=$(dirname "$(readlink -f "$initdb")")
        if [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return 0
        fi
    fi
    # Debian keeps them off PATH, one directory per major version: take the
    # highest version.
    local best
    best=$(for dir in /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; fi
    done | sort -t/ -k5,5n | tail -n 1)
    if [ -n "$best" ]; then
        echo "$best"
        return 0
    fi
    return 1
}

report() {
    local dir=$1
    echo "PostgreSQL server binaries: $dir ($("$dir/postgres" --version 2>/dev/null || echo 'version unknown'))" >&2
    if [ "$(id -u)" = 0 ] && ! id -u postgres >/dev/null 2>&1; then
        echo "warning: running as root and there is no 'postgres' user; the tests run initdb as that user" >&2
        echo "         (create it with: useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres)" >&2
    fi
}

if dir=$(find_bin); then
    report "$dir"
    exit 0
fi

if [ "${1:-}" = "--check" ]; then
    echo "error: PostgreSQL server binaries (initdb, pg_ctl) are missing; run scripts/pg/install-postgres.sh" >&2
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: PostgreSQL server binaries (initdb, pg_ctl) are missing and this is not a Debian-like system." >&2
    echo "       Install PostgreSQL's server package with your package manager, then run this again," >&2
    echo "       or set NEWSFLOW_PG_BIN to the directory holding initdb and pg_ctl." >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "error: installing PostgreSQL needs root: run  sudo $0" >&2
        exit 1
    fi
fi

echo "installing PostgreSQL (Debian package postgresql) ..." >&2
# The tests start clusters of their own: do not create the package's
# default cluster (postgresql-common reads createcluster.d).
$SUDO mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.d/newsflow-no-main-cluster.conf >/dev/null
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null

if dir=$(find_bin); then
    report "$dir"
else
    echo "error: the postgresql package installed, but initdb and pg_ctl are still not found" >&2
    exit 1
fi
