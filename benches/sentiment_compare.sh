#!/usr/bin/env bash
# Sentiment throughput on one core, in one run: socialcx's kernels (criterion bench
# `benches/text_functions.rs`), the reference Python package vaderSentiment 3.3.2 and the
# `vader_sentiment` crate 0.1.1, all scoring the same generated social posts.
# Prints texts/s, MB/s and the ratios; writes bench-out/sentiment_compare.json.
#
#   bash benches/sentiment_compare.sh [ROWS]        (default 200000)
set -euo pipefail
ROWS=${1:-200000}
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/tmp}/.cache/socialcx-target}"
cargo build --release --locked --quiet
source scripts/python-venv.sh vaderSentiment==3.3.2
mkdir -p bench-out
POSTS=bench-out/posts.ndjson
"$CARGO_TARGET_DIR/release/socialcx" generate --rows "$ROWS" --seed 3 --out "$POSTS"

# The crate, in a throwaway project outside the repository (never part of our build).
CRATE="${HOME:-/tmp}/.cache/socialcx-vader-crate"
mkdir -p "$CRATE/src"
cat > "$CRATE/Cargo.toml" <<'TOML'
[package]
name = "vader-crate-bench"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
vader_sentiment = "=0.1.1"
serde_json = "1"
TOML
cat > "$CRATE/src/main.rs" <<'RUST'
// Scores every text of an NDJSON file with the vader_sentiment crate; prints texts/s.
use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).expect("corpus path");
    let texts: Vec<String> = std::fs::read_to_string(path).unwrap().split('\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["text"].as_str().unwrap().to_string())
        .collect();
    let analyzer = vader_sentiment::SentimentIntensityAnalyzer::new();
    let mut best = f64::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        let mut sum = 0.0;
        for t in &texts { sum += analyzer.polarity_scores(t)["compound"]; }
        std::hint::black_box(sum);
        best = best.min(started.elapsed().as_secs_f64());
    }
    println!("{} {}", texts.len(), best);
}
RUST
(cd "$CRATE" && CARGO_TARGET_DIR="$CRATE/target" cargo build --release --quiet)

# Ours: the criterion bench over the same file.
SOCIALCX_SENTIMENT_CORPUS="$POSTS" cargo bench --locked --bench text_functions -- --noplot \
    'sentiment/(vader_compound|udf_sentiment|udf_cx_sentiment)$' >&2

exec "$PY" benches/sentiment_compare.py --posts "$POSTS" --crate-bin "$CRATE/target/release/vader-crate-bench" \
    --criterion "$CARGO_TARGET_DIR/criterion" --out bench-out/sentiment_compare.json
