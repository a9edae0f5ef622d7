#!/usr/bin/env bash
# Ingest beside DuckDB, in one run (not a test): the generator's NDJSON landed by
# `socialcx ingest` (parse, validate, dedupe, thread, score, partition, write, commit) and by
# DuckDB's `COPY (SELECT ... FROM read_json(...)) TO ... (FORMAT parquet, PARTITION_BY (date))`
# (parse and partition only: no validation, ids, threads or scores). Prints rows/s, peak RSS
# and the ratio.
#
#   bash benches/ingest_compare.sh [ROWS] [OUT]     (default 2000000, bench-out/ingest)
set -euo pipefail
ROWS=${1:-2000000}
OUT=${2:-bench-out/ingest}
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/tmp}/.cache/socialcx-target}"
cargo build --release --locked --quiet
# shellcheck source=../scripts/python-venv.sh
source scripts/python-venv.sh -r tests/requirements.txt
exec "$PY" benches/ingest_compare.py --bin "$CARGO_TARGET_DIR/release/socialcx" --rows "$ROWS" --out "$OUT"
