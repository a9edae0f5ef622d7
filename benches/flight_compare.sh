#!/usr/bin/env bash
# Streaming a large result over Flight SQL: rows/s and MB/s that the ADBC client receives
# from `socialcx serve`, beside pyarrow reading the same rows from the lake's Parquet files
# in-process, in one run.
#
#   bash benches/flight_compare.sh [MESSAGES]
#
# MESSAGES (default 10,000,000) generated messages are landed once in a lake kept under
# ~/.cache/socialcx-bench. The server's peak RSS is read after the query, to show that the
# result streams in bounded memory. Writes bench-out/flight_compare.json.
set -euo pipefail
MESSAGES=${1:-10000000}
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/tmp}/.cache/socialcx-target}"
cargo build --release --locked --quiet
BIN="$CARGO_TARGET_DIR/release/socialcx"
# shellcheck source=/dev/null
source scripts/python-venv.sh -r tests/requirements.txt

WORK="${SOCIALCX_BENCH_DIR:-${HOME:-/tmp}/.cache/socialcx-bench}/flight-$MESSAGES"
if [ ! -f "$WORK/ready" ]; then
    rm -rf "$WORK" && mkdir -p "$WORK"
    "$BIN" generate --rows "$MESSAGES" --seed 31 --out "$WORK/messages.ndjson"
    "$BIN" --lake "$WORK/lake" ingest "$WORK/messages.ndjson"
    rm "$WORK/messages.ndjson"
    touch "$WORK/ready"
fi

mkdir -p bench-out
"$BIN" --lake "$WORK/lake" serve --addr 127.0.0.1:0 > "$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
"$PY" benches/flight_compare.py --lake "$WORK/lake" --log "$WORK/server.log" \
    --pid "$SERVER" --messages "$MESSAGES" --out bench-out/flight_compare.json
