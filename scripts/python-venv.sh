# Sourced by the scripts that need Python (reference scores, benchmarks, tests):
# creates the shared venv once and installs the pinned packages given as arguments.
#
#   source scripts/python-venv.sh duckdb vaderSentiment==3.3.2   ->  $PY is its python
VENV="${SOCIALCX_VENV:-${HOME:-/tmp}/.cache/socialcx-venv}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
if [ "$#" -gt 0 ]; then
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "$@"
fi
PY="$VENV/bin/python"
