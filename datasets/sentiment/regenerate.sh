#!/usr/bin/env bash
# Regenerate the sentiment exactness reference (datasets/sentiment/reference.parquet):
# 100,000 texts from our corpus generator, scored by the real vaderSentiment 3.3.2.
# The test (tests/it/sentiment.rs) reads the file and needs no Python.
#
#   bash datasets/sentiment/regenerate.sh [ROWS] [SEED]
set -euo pipefail
ROWS=${1:-100000}
SEED=${2:-11}
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/tmp}/.cache/socialcx-target}"
cargo build --release --locked --quiet
source scripts/python-venv.sh vaderSentiment==3.3.2 pyarrow
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$CARGO_TARGET_DIR/release/socialcx" generate --layout texts --rows "$ROWS" --seed "$SEED" --out "$tmp/corpus.ndjson"
"$PY" datasets/sentiment/make_reference.py "$tmp/corpus.ndjson" datasets/sentiment/reference.parquet
