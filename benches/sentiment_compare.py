"""Second half of benches/sentiment_compare.sh: time the Python reference and the
vader_sentiment crate on the posts, read socialcx's criterion estimates, print the
table and the ratios."""
import argparse
import json
import subprocess
import time

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", required=True)
    ap.add_argument("--crate-bin", required=True)
    ap.add_argument("--criterion", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--python-texts", type=int, default=20000)
    args = ap.parse_args()

    with open(args.posts, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f.read().split("\n") if line]
    total_bytes = sum(len(t.encode()) for t in texts)
    rows = []

    def row(name, n, nbytes, seconds):
        rows.append({"scorer": name, "texts": n, "texts_per_s": n / seconds, "mb_per_s": nbytes / seconds / 1e6})

    # socialcx: criterion's mean time per iteration over all texts.
    for bench, name in [
        ("vader_compound", "socialcx Analyzer::compound"),
        ("udf_sentiment", "socialcx sentiment() kernel"),
        ("udf_cx_sentiment", "socialcx cx_sentiment() kernel"),
    ]:
        with open(f"{args.criterion}/sentiment/{bench}/new/estimates.json") as f:
            ns = json.load(f)["mean"]["point_estimate"]
        row(name, len(texts), total_bytes, ns / 1e9)

    out = subprocess.run([args.crate_bin, args.posts], check=True, capture_output=True, text=True).stdout.split()
    row("vader_sentiment crate 0.1.1", int(out[0]), total_bytes, float(out[1]))

    subset = texts[: args.python_texts]
    analyzer = SentimentIntensityAnalyzer()
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        for t in subset:
            analyzer.polarity_scores(t)["compound"]
        best = min(best, time.perf_counter() - started)
    row("vaderSentiment 3.3.2 (Python)", len(subset), sum(len(t.encode()) for t in subset), best)

    ours = rows[1]["texts_per_s"]
    crate = rows[3]["texts_per_s"]
    python = rows[4]["texts_per_s"]
    print(f"{len(texts)} posts, {total_bytes / len(texts):.1f} bytes on average, one core")
    print(f"{'scorer':34} {'texts/s':>12} {'MB/s':>8}")
    for r in rows:
        print(f"{r['scorer']:34} {r['texts_per_s']:>12,.0f} {r['mb_per_s']:>8.1f}")
    print(f"sentiment() vs Python reference: {ours / python:.0f}x")
    print(f"sentiment() vs vader_sentiment crate: {ours / crate:.1f}x")
    with open(args.out, "w") as f:
        json.dump({"rows": rows, "vs_python": ours / python, "vs_crate": ours / crate}, f, indent=2)


if __name__ == "__main__":
    main()
