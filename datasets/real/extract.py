#!/usr/bin/env python3
"""Write datasets/real/*/*.csv from the packages obtain.sh downloaded (standard library only).

    python3 datasets/real/extract.py WORKDIR

WORKDIR holds the unpacked vaderSentiment 3.3.2 sdist and npm sentiment 5.0.2 tarball
(obtain.sh's layout). Output is deterministic: running it again writes the same bytes.

Split: within each label, rows are ordered by sha256("socialcx-real/" + SET + "/" + text
normalised to lower case and single spaces), ties by id; the first half (rounded up) is
`dev`, the rest `test`. Exactly stratified, reproducible, and a text repeated under two
ids lands in one split.
"""
import ast
import csv
import hashlib
import json
import os
import sys

WORK = sys.argv[1]
OUT = os.path.dirname(os.path.abspath(__file__))


def label3(mean, band=0.5):
    """Mean human rating on -4..+4 -> 3-class label (the neutral band is ours: |mean| <= 0.5)."""
    return "positive" if mean > band else ("negative" if mean < -band else "neutral")


def with_split(name, rows):
    def key(r):
        norm = " ".join(r["text"].lower().split())
        return (hashlib.sha256(f"socialcx-real/{name}/{norm}".encode()).hexdigest(), r["id"])

    for label in sorted({r["label"] for r in rows}):
        group = sorted((r for r in rows if r["label"] == label), key=key)
        half = (len(group) + 1) // 2
        for k, r in enumerate(group):
            r["split"] = "dev" if k < half else "test"
    return rows


def write(path, rows, cols):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow([r[c] for c in cols])
    print(os.path.relpath(path, os.path.dirname(os.path.dirname(OUT))), len(rows))


# 1. VADER's human-rated ground truth: vaderSentiment 3.3.2 sdist,
#    additional_resources/hutto_ICWSM_2014.tar.gz. Left out: the NYT editorial snippets (the
#    text is New York Times copyright) and the movie-review snippets (1.5 MB of Rotten
#    Tomatoes sentences, far from care posts; add ("movieReviewSnippets",
#    "movie_review_snippets") below to write them).
src = os.path.join(WORK, "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014")
for key, name in [
    ("tweets", "tweets"),
    ("amazonReviewSnippets", "amazon_review_snippets"),
]:
    raw = open(os.path.join(src, key + "_anonDataRatings.txt"), "rb").read()
    stats = {}
    for line in raw.decode("utf-8-sig", errors="replace").splitlines():
        p = line.split("\t")
        if len(p) < 4:
            continue
        ratings = ast.literal_eval(p[3].strip())
        stats[p[0].strip()] = (p[2].strip(), len(ratings))
    txt = open(os.path.join(src, key + "_GroundTruth.txt"), "rb").read()
    try:
        txt = txt.decode("utf-8")
    except UnicodeDecodeError:
        txt = txt.decode("cp1252")
    rows = []
    for line in txt.lstrip("\ufeff").splitlines():
        p = line.split("\t", 2)
        if len(p) < 3:
            continue
        i, mean, text = p[0].strip(), float(p[1]), p[2].strip()
        sd, n = stats.get(i, ("", ""))
        rows.append(dict(id=f"{name}_{i}", label=label3(mean), score=round(mean, 4),
                         score_sd=sd, n_raters=n, text=text))
    write(os.path.join(OUT, "vader_groundtruth", name + ".csv"), with_split(name, rows),
          ["id", "split", "label", "score", "score_sd", "n_raters", "text"])

# 2. UCI Sentiment Labelled Sentences: npm sentiment@5.0.2, package/test/fixtures/*.json
for n, name in [("amazon", "amazon_cells"), ("imdb", "imdb"), ("yelp", "yelp")]:
    data = json.load(open(os.path.join(WORK, f"sentiment/test/fixtures/{n}.json"), encoding="utf-8"))
    rows = [dict(id=f"{name}_{k + 1}", label="positive" if x["class"] == 1 else "negative",
                 text=x["text"].strip())
            for k, x in enumerate(data) if x["class"] is not None]
    write(os.path.join(OUT, "uci_sentiment_labelled", name + ".csv"), with_split(name, rows),
          ["id", "split", "label", "text"])
