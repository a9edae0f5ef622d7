#!/usr/bin/env bash
# The shipped report suite over a generated lake, socialcx beside DuckDB in one run (not a
# test): wall time and peak memory of each report, then DuckDB running the same SQL over the
# same Parquet (the scores stored at ingest; author influence precomputed by socialcx). Prints a table with the ratios.
#
#   bash benches/reports_compare.sh [ROWS] [OUT]     (default 10000000, bench-out/reports)
set -euo pipefail
ROWS=${1:-10000000}
OUT=${2:-bench-out/reports}
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/tmp}/.cache/socialcx-target}"
cargo build --release --locked --quiet
# shellcheck source=../scripts/python-venv.sh
source scripts/python-venv.sh -r tests/requirements.txt
exec "$PY" benches/reports_compare.py --bin "$CARGO_TARGET_DIR/release/socialcx" --rows "$ROWS" --out "$OUT"
