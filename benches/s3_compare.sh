#!/usr/bin/env bash
# The same ingest and queries on a local lake and on a local S3-compatible server (moto,
# through tests/s3/server.py), in one run.
#
#   bash benches/s3_compare.sh [MESSAGES]
#
# MESSAGES (default 1,000,000) generated messages are ingested into both lakes by the CLI;
# each query runs 3 times on each lake (median reported). Writes bench-out/s3_compare.json.
set -euo pipefail
MESSAGES=${1:-1000000}
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/tmp}/.cache/socialcx-target}"
cargo build --release --locked --quiet
# shellcheck source=/dev/null
source scripts/python-venv.sh -r tests/requirements.txt
mkdir -p bench-out
exec "$PY" benches/s3_compare.py --bin "$CARGO_TARGET_DIR/release/socialcx" \
    --messages "$MESSAGES" --out bench-out/s3_compare.json
