#!/usr/bin/env bash
# One report and two full scans over a generated lake: embedded, then on a Ballista cluster
# of 1 and of 2 executors started on this machine, in one run (not a test). Prints each
# configuration's best time and its ratio to embedded; the answers must agree.
#
#   bash benches/cluster_compare.sh [ROWS] [OUT]     (default 10000000, bench-out/cluster)
set -euo pipefail
ROWS=${1:-10000000}
OUT=${2:-bench-out/cluster}
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/tmp}/.cache/socialcx-target}"
cargo build --release --locked --quiet
# shellcheck source=../scripts/python-venv.sh
source scripts/python-venv.sh -r tests/requirements.txt
exec "$PY" benches/cluster_compare.py --bin "$CARGO_TARGET_DIR/release/socialcx" --rows "$ROWS" --out "$OUT"
