#!/usr/bin/env bash
# End-to-end benchmark (not a test): generate and ingest ROWS synthetic messages, then
# run a few queries over the lake with socialcx and, in the same run, with DuckDB
# reading the same Parquet files. Prints rows/s and the socialcx/DuckDB time ratios.
#
#   bash benches/e2e.sh [ROWS]        (default 1000000)
set -euo pipefail
ROWS=${1:-1000000}
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/tmp}/.cache/socialcx-target}"
cargo build --release --locked --quiet
source scripts/python-venv.sh duckdb
exec "$PY" benches/e2e.py --bin "$CARGO_TARGET_DIR/release/socialcx" --rows "$ROWS" --out bench-out
