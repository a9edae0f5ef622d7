"""Score a corpus with the reference VADER (vaderSentiment 3.3.2) and write the
exactness reference: a Parquet file of text, neg, neu, pos, compound.

    python make_reference.py CORPUS.ndjson OUT.parquet

CORPUS is `socialcx generate --layout texts` output: one {"text": ...} per line.
Run through datasets/sentiment/regenerate.sh, which pins the versions.
"""
import json
import sys
import time

import pyarrow as pa
import pyarrow.parquet as pq
import vaderSentiment
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer


def main(corpus, out):
    with open(corpus, encoding="utf-8") as f:
        # Split on "\n" only: texts may hold other line separators (U+2028, U+0085...).
        texts = [json.loads(line)["text"] for line in f.read().split("\n") if line]
    analyzer = SentimentIntensityAnalyzer()
    started = time.perf_counter()
    scores = [analyzer.polarity_scores(t) for t in texts]
    elapsed = time.perf_counter() - started
    table = pa.table(
        {
            "text": pa.array(texts, pa.string()),
            **{k: pa.array([s[k] for s in scores], pa.float64()) for k in ("neg", "neu", "pos", "compound")},
        }
    )
    pq.write_table(table, out, compression="zstd", compression_level=19)
    print(
        f"{len(texts)} texts scored by vaderSentiment {getattr(vaderSentiment, '__version__', '3.3.2')} "
        f"in {elapsed:.1f}s ({len(texts) / elapsed:,.0f} texts/s) -> {out}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
