#!/usr/bin/env bash
# Retrain a learned layer (see datasets/text_models/README.md): the customer-care mode's,
# src/engine/sentiment/data/care_model.tsv (default), or with `--layer stage` the
# moment-of-truth tagger's, src/engine/moments/data/stage_model.tsv. Makes a venv with numpy
# and scipy (from PyPI), builds the release binary (the lexicon layer's scores are inputs),
# trains, and checks the engine against the script on every text. Rebuild afterwards to
# ship the new weights (they are compiled in).
#
#   datasets/text_models/train.sh [--layer care|stage] [--out FILE] [--posts CSV]
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${SOCIALCX_TRAIN_VENV:-${HOME:-/tmp}/.cache/socialcx-train-venv}"
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet -r datasets/text_models/requirements.txt
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/tmp}/.cache/socialcx-target}"
cargo build --release --locked --quiet
exec env -u SOCIALCX_LEXICON -u SOCIALCX_TAXONOMY "$venv/bin/python" datasets/text_models/train.py \
    --socialcx "$CARGO_TARGET_DIR/release/socialcx" --check "$@"
