#!/usr/bin/env bash
# Every sentiment and moments figure in one run: plain VADER (sentiment_label), the
# customer-care mode (cx_sentiment_label) and the moment_of_truth tagger on our labelled
# sets (datasets/cx_sentiment, datasets/moments) and the real, human-labelled ones
# (datasets/real/*), per split. Prints per-class precision/recall/F1, confusion matrices
# (rows = truth, columns = predicted) and a summary per set, split and mode (accuracy,
# macro-F1, complaints scored positive, ...). Tune on `dev` only; `test` is the figure to
# report. The SQL is datasets/real/evaluate.sql; tests/it/real.rs holds its figures.
#
#   datasets/evaluate.sh                 (from anywhere; extra arguments go to `socialcx sql`:
#                                         `--format csv` writes the summary table only)
#
# SOCIALCX_BIN=/path/to/socialcx runs that binary instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${SOCIALCX_BIN:-}" ]]; then
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/tmp}/.cache/socialcx-target}"
    cargo build --release --locked --quiet
    SOCIALCX_BIN="$CARGO_TARGET_DIR/release/socialcx"
fi
# The shipped lexicons and taxonomy only: a user's files would change the figures.
exec env -u SOCIALCX_LEXICON -u SOCIALCX_TAXONOMY -u SOCIALCX_LAKE \
    "$SOCIALCX_BIN" --lake memory:// sql --quiet --max-rows 0 -f datasets/real/evaluate.sql "$@"
