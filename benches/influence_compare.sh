#!/usr/bin/env bash
# PageRank over the author interaction graph of a generated lake, socialcx beside
# igraph (and, with --networkx, networkx) on the same edges, in one run.
#
#   bash benches/influence_compare.sh [MESSAGES] [--networkx]
#
# MESSAGES (default 8,000,000) generated messages give about 1.3M authors and 10M
# interaction edges. The lake is built once and kept under ~/.cache/socialcx-bench.
# socialcx is timed end to end: `SELECT ... FROM author_influence()` from the CLI,
# reading the lake, extracting the edges in SQL and running PageRank (wall time and
# peak RSS by /usr/bin/time). The peers get the same edges, loaded from Parquet
# before their clock starts. Writes bench-out/influence_compare.json.
set -euo pipefail
MESSAGES=${1:-8000000}
NETWORKX=${2:-}
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/tmp}/.cache/socialcx-target}"
cargo build --release --locked --quiet
BIN="$CARGO_TARGET_DIR/release/socialcx"
PEERS="igraph==0.11.8 pyarrow"
[ "$NETWORKX" = "--networkx" ] && PEERS="$PEERS networkx==3.4.2 scipy==1.15.3 numpy==2.2.6"
# shellcheck source=/dev/null
source scripts/python-venv.sh $PEERS

WORK="${SOCIALCX_BENCH_DIR:-${HOME:-/tmp}/.cache/socialcx-bench}/influence-$MESSAGES"
if [ ! -f "$WORK/ready" ]; then
    rm -rf "$WORK" && mkdir -p "$WORK"
    "$BIN" generate --rows "$MESSAGES" --seed 21 --out "$WORK/messages.ndjson"
    "$BIN" --lake "$WORK/lake" ingest "$WORK/messages.ndjson"
    rm "$WORK/messages.ndjson"
    # The edges author_influence() builds (its own SQL, unfiltered), for the peers.
    sed 's/{filter}//' src/engine/influence/author_edges.sql > "$WORK/edges.sql"
    "$BIN" --lake "$WORK/lake" sql --quiet --format parquet -o "$WORK/edges.parquet" -f "$WORK/edges.sql"
    # Every author who wrote in the lake is a node, interactions or not.
    "$BIN" --lake "$WORK/lake" sql --quiet --format parquet -o "$WORK/authors.parquet" \
        "SELECT DISTINCT author_id FROM conversations"
    touch "$WORK/ready"
fi

mkdir -p bench-out
ours="$WORK/ours.csv"
best=""
for run in 1 2; do
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$BIN" --lake "$WORK/lake" sql --quiet \
        --format csv -o "$ours" "SELECT author_id, pagerank FROM author_influence()"
    read -r secs kb < "$WORK/time.txt"
    echo "socialcx run $run: ${secs}s, peak RSS $((kb / 1024)) MiB" >&2
    if [ -z "$best" ] || awk "BEGIN{exit !($secs < ${best%% *})}"; then best="$secs $kb"; fi
done
exec "$PY" benches/influence_compare.py --edges "$WORK/edges.parquet" --authors "$WORK/authors.parquet" --ours "$ours" \
    --ours-time "$best" $NETWORKX --out bench-out/influence_compare.json
