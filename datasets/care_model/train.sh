#!/usr/bin/env bash
# Retrain the customer-care mode's learned layer: writes
# src/engine/sentiment/data/care_model.tsv (see datasets/care_model/README.md). Makes a venv
# with numpy and scipy (from PyPI), builds the release binary (the lexicon layer's scores
# are inputs), trains, and checks the engine against the script on every text. Rebuild
# afterwards to ship the new weights (they are compiled in).
#
#   datasets/care_model/train.sh [--out FILE]
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${SOCIALCX_TRAIN_VENV:-${HOME:-/tmp}/.cache/socialcx-train-venv}"
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet -r datasets/care_model/requirements.txt
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/tmp}/.cache/socialcx-target}"
cargo build --release --locked --quiet
exec env -u SOCIALCX_LEXICON "$venv/bin/python" datasets/care_model/train.py \
    --socialcx "$CARGO_TARGET_DIR/release/socialcx" --check "$@"
