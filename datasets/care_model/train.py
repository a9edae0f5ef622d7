#!/usr/bin/env python3
"""Train the customer-care mode's learned layer (cx_sentiment*; src/engine/text_model.rs):
src/engine/sentiment/data/care_model.tsv.

A multinomial logistic regression over a post's tokens and adjacent token pairs, counted,
and the care lexicon layer's compound, neg and pos (`cx_sentiment_scores` with the learned
layer off). The tokens are exactly those of the Rust code (care_tokens.py
mirrors it; `--check` here and tests/care_model check it on every labelled text).

Training data, every post labelled by reading it (see each set's README for how, its
source and licence), never a `test` split: datasets/care_posts `train`+`dev` (weight 1),
datasets/cx_sentiment `dev` (weight 1), the `dev` halves of
datasets/real/{vader_groundtruth, uci_sentiment_labelled} (real tweets and reviews; weight
chosen below). Model selection (the L2 strength and the real sets' weight): mean macro-F1
over the sources (each writer of datasets/care_posts, each other set), each held out in
turn; the final model is then fitted on all of them.

  datasets/care_model/train.sh [--out FILE] [--posts CSV]
  python train.py --socialcx BIN [--out FILE] [--check] [--posts CSV]

Deterministic: the same inputs on the same machine write the same bytes (the weights
are written to 4 places, so another BLAS rarely moves one).
"""
import argparse
import csv
import os
import sys
from collections import Counter

import numpy as np
import scipy.optimize
import scipy.sparse as sp

from care_tokens import CLASSES, DENSE, engine_rows, features, model_probabilities

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

# ---------------------------------------------------------------- data


def read_csv(rel):
    with open(os.path.join(ROOT, rel), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


GENERAL = [
    "datasets/real/vader_groundtruth/tweets.csv",
    "datasets/real/vader_groundtruth/amazon_review_snippets.csv",
    "datasets/real/uci_sentiment_labelled/amazon_cells.csv",
    "datasets/real/uci_sentiment_labelled/imdb.csv",
    "datasets/real/uci_sentiment_labelled/yelp.csv",
]


def own_posts(extra, column, classes):
    posts = []
    for path in extra:
        with open(path, newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                if r.get("split", "train") != "test":
                    if r[column] not in classes:
                        sys.exit(f"{path}: {column} {r[column]!r} is not one of {classes}")
                    posts.append((r["text"], r[column], "own", path))
    return posts


def sentiment_posts(extra):
    """(text, label, group, source) for every post this layer may read: no `test` row."""
    posts = own_posts(extra, "label", CLASSES)
    for r in read_csv("datasets/care_posts/labeled.csv"):
        if r["split"] in ("train", "dev"):
            posts.append((r["text"], r["label"], "care", "writer " + r["writer"]))
    for r in read_csv("datasets/cx_sentiment/labeled.csv"):
        if r["split"] == "dev":
            posts.append((r["text"], r["label"], "care", "datasets/cx_sentiment"))
    for rel in GENERAL:
        for r in read_csv(rel):
            if r["split"] == "dev":
                posts.append((r["text"], r["label"], "general", rel))
    return posts


def lexicon_inputs(socialcx, texts):
    """The lexicon layer's compound, neg and pos of every text, as the engine scores them."""
    rows = engine_rows(socialcx, "care_model = false\n", texts,
                       ", ".join(f"cx_sentiment_scores(text)['{d}'] AS {d}" for d in DENSE))
    return np.array([[float(r[d]) for d in DENSE] for r in rows])


def engine_probabilities(socialcx, model, texts):
    """The class probabilities the engine answers with the model file `model` loaded."""
    rows = engine_rows(socialcx, f'care_model = "{os.path.abspath(model)}"\n', texts,
                       ", ".join(f"cx_sentiment_scores(text)['{c}'] AS {c}"
                                 for c in ("neg", "neu", "pos")))
    return np.array([[float(r["neg"]), float(r["neu"]), float(r["pos"])] for r in rows])


OUT = "src/engine/sentiment/data/care_model.tsv"
HEADER = [
    "# The customer-care mode's learned layer (src/engine/sentiment/model.rs), written by",
    "# datasets/care_model/train.py; do not edit by hand. Rows: name, then one weight per",
    "# class. `dense:<x>`: the care lexicon's score x of the text; otherwise a token or two",
    "# adjacent tokens (one space between).",
    "# Training data: datasets/care_posts (train+dev), datasets/cx_sentiment (dev) and the",
    "# dev halves of datasets/real/{vader_groundtruth,uci_sentiment_labelled}; licences in",
    "# each set's README (MIT, CC BY 4.0, this project's).",
]

# ---------------------------------------------------------------- model


def design(posts, dense, vocab):
    rows, cols, vals = [], [], []
    for i, (text, *_) in enumerate(posts):
        for f, c in Counter(features(text)).items():
            j = vocab.get(f)
            if j is not None:
                rows.append(i)
                cols.append(j)
                vals.append(c)
    sparse = sp.csr_matrix((vals, (rows, cols)), shape=(len(posts), len(vocab)), dtype=np.float64)
    return sp.hstack([sp.csr_matrix(dense), sparse], format="csr")


def fit(X, y, weight, l2, k, n_dense):
    """Weighted multinomial logistic regression, L2 on the token weights (not the bias or
    the dense inputs' weights, which get a light 0.01)."""
    n, d = X.shape
    Y = np.zeros((n, k))
    Y[np.arange(n), y] = 1.0
    penalty = np.full(d, l2)
    penalty[:n_dense] = 0.01
    wsum = weight.sum()

    def loss(theta):
        W = theta[: d * k].reshape(d, k)
        b = theta[d * k:]
        Z = X @ W + b
        Z -= Z.max(axis=1, keepdims=True)
        logp = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
        P = np.exp(logp)
        nll = -(weight * (Y * logp).sum(axis=1)).sum() / wsum
        G = (P - Y) * weight[:, None] / wsum
        gW = X.T @ G + penalty[:, None] * W
        gb = G.sum(axis=0)
        return nll + 0.5 * (penalty[:, None] * W * W).sum(), np.concatenate([gW.ravel(), gb])

    theta = np.zeros(d * k + k)
    res = scipy.optimize.minimize(loss, theta, jac=True, method="L-BFGS-B",
                                  options={"maxiter": 2000, "gtol": 1e-7})
    return res.x[: d * k].reshape(d, k), res.x[d * k:]


def macro_f1(y, pred):
    """Mean F1 over the classes `y` has (the binary sets have no neutral truth)."""
    f1s = []
    for c in sorted(set(y.tolist())):
        tp = np.sum((pred == c) & (y == c))
        p = tp / max(np.sum(pred == c), 1)
        r = tp / max(np.sum(y == c), 1)
        f1s.append(0 if p + r == 0 else 2 * p * r / (p + r))
    return float(np.mean(f1s))


def train(posts, dense, idx, general, l2, min_count=2):
    """The model fitted on `posts[idx]`: (vocabulary -> column, W, b)."""
    sub = [posts[i] for i in idx]
    counts = Counter()
    for p in sub:
        counts.update(set(features(p[0])))
    nd = len(DENSE)
    vocab = {f: j + nd for j, f in enumerate(sorted(f for f, c in counts.items() if c >= min_count))}
    X = design(sub, dense[idx], {f: j - nd for f, j in vocab.items()})
    y = np.array([CLASSES.index(p[1]) for p in sub])
    w = np.array([general if p[2] == "general" else 1.0 for p in sub])
    W, b = fit(X, y, w, l2, len(CLASSES), nd)
    return vocab, W, b


def predict(posts, dense, vocab, W, b):
    nd = len(DENSE)
    X = design(posts, dense, {f: j - nd for f, j in vocab.items()})
    Z = X @ W + b
    Z -= Z.max(axis=1, keepdims=True)
    P = np.exp(Z)
    return P / P.sum(axis=1, keepdims=True)


def write_model(path, vocab, W, b, l2, general, counts):
    # Softmax is unchanged by adding one number to a row's weights: centre each row, then
    # drop the rows that no longer move any probability.
    W = W - W.mean(axis=1, keepdims=True)
    b = b - b.mean()
    lines = HEADER + [
        f"# Fitted on {counts}; L2 {l2} and real sets weighted {general}.",
        "classes\t" + "\t".join(CLASSES),
        "bias\t" + "\t".join(f"{v:.4f}" for v in b),
    ]
    for i, d in enumerate(DENSE):
        lines.append(f"dense:{d}\t" + "\t".join(f"{v:.4f}" for v in W[i]))
    kept = 0
    for f, j in sorted(vocab.items()):
        row = W[j]
        if np.abs(row).max() < 0.005:
            continue
        kept += 1
        lines.append(f + "\t" + "\t".join(f"{v:.4f}" for v in row))
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return kept


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--socialcx", required=True, help="the socialcx binary")
    ap.add_argument("--out", help="where to write the model (default: the shipped file)")
    ap.add_argument("--posts", action="append", default=[], metavar="CSV",
                    help="labelled posts of your own (columns text and label; rows with split = "
                    "test are left out), weighted as care posts; repeatable")
    ap.add_argument("--check", action="store_true",
                    help="also compare the engine's answers with this script's on every text")
    args = ap.parse_args()
    out = args.out or os.path.join(ROOT, OUT)

    posts = sentiment_posts(args.posts)
    texts = [p[0] for p in posts]
    dense = lexicon_inputs(args.socialcx, texts)
    print("posts:", dict(Counter(p[3] for p in posts)), file=sys.stderr)

    # Model selection by leaving one source out at a time: each writer of
    # datasets/care_posts (other industries, another voice) and each other set. The score is
    # the mean held-out macro-F1 over the data sets (care_posts: the mean of its writers):
    # how the model does on text unlike anything it was fitted on, which real posts are.
    sources = sorted({p[3] for p in posts})
    best = None
    for general in (0.0, 0.1, 0.3, 1.0):
        for l2 in (3e-4, 1e-3, 3e-3, 1e-2):
            f1s = {}
            for held in sources:
                fit_idx = [i for i, p in enumerate(posts)
                           if p[3] != held and (p[2] != "general" or general > 0)]
                held_idx = [i for i, p in enumerate(posts) if p[3] == held]
                vocab, W, b = train(posts, dense, fit_idx, general, l2)
                P = predict([posts[i] for i in held_idx], dense[held_idx], vocab, W, b)
                y = np.array([CLASSES.index(posts[i][1]) for i in held_idx])
                f1s[held] = macro_f1(y, P.argmax(axis=1))
            # Each data set counts once: care_posts is the mean of its writers' folds.
            by_set = {}
            for h, v in f1s.items():
                by_set.setdefault("care_posts" if h.startswith("writer ") else h, []).append(v)
            f1 = float(np.mean([np.mean(v) for v in by_set.values()]))
            each = ", ".join(f"{h.split('/')[-1]} {v:.3f}" for h, v in sorted(f1s.items()))
            print(f"general {general:<4} l2 {l2:<7} held out: macro-F1 {f1:.3f} ({each})",
                  file=sys.stderr)
            if best is None or f1 > best[0] + 1e-9:
                best = (f1, general, l2)
    _, general, l2 = best
    print(f"chosen: general {general}, l2 {l2}", file=sys.stderr)
    final = [i for i, p in enumerate(posts) if p[2] != "general" or general > 0]
    vocab, W, b = train(posts, dense, final, general, l2)
    used = dict(sorted(Counter(posts[i][3] for i in final).items()))
    kept = write_model(out, vocab, W, b, l2, general, used)
    print(f"wrote {out}: {kept} token and pair features", file=sys.stderr)

    if args.check:
        want = np.array(model_probabilities(out, texts, dense.tolist()))
        got = engine_probabilities(args.socialcx, out, texts)
        diff = np.abs(got - want).max(axis=1)
        worst = int(diff.argmax())
        print(f"check: socialcx vs this script on {len(texts)} texts: largest difference "
              f"{diff[worst]:.4f} ({texts[worst]!r})", file=sys.stderr)
        if diff[worst] > 0.002:
            sys.exit("check failed: the tokens or the arithmetic differ from the engine")


if __name__ == "__main__":
    main()
