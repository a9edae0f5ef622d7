#!/usr/bin/env bash
# Regenerate the graph-algorithm reference data (datasets/influence/*.csv):
# generated graphs in edges.csv, scored by the real networkx 3.4.2 into
# pagerank.csv and centrality.csv. The Rust tests read the CSVs and need no Python.
#
#   bash datasets/influence/regenerate.sh [SEED]
set -euo pipefail
SEED=${1:-5}
cd "$(dirname "$0")/../.."
source scripts/python-venv.sh networkx==3.4.2 scipy==1.15.3 numpy==2.2.6
"$PY" datasets/influence/make_reference.py "$SEED"
