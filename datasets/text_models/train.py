#!/usr/bin/env python3
"""Train a learned layer over a lexicon-based text function (src/engine/text_model.rs):

- `--layer care` (default): the customer-care mode's (cx_sentiment*),
  src/engine/sentiment/data/care_model.tsv: negative, neutral or positive, over the care
  lexicon layer's compound, neg and pos (`cx_sentiment_scores` with the layer off).
- `--layer stage`: the moment-of-truth tagger's (moment_of_truth, moments_of_truth),
  src/engine/moments/data/stage_model.tsv: the primary stage or none, over the taxonomy's
  six stage scores (`moment_of_truth_scores`).

Each is a multinomial logistic regression over a post's tokens and adjacent token pairs,
counted, and the lexicon layer's scores. The tokens are exactly those of the Rust code
(tokens.py mirrors it; `--check` here and tests/text_models check it on every labelled
text).

Training data, every post labelled by reading it (see each set's README for how, its
source and licence), never a `test` split:
- care: datasets/care_posts `train`+`dev` (weight 1), datasets/cx_sentiment `dev` (weight
  1), the `dev` halves of datasets/real/{vader_groundtruth, uci_sentiment_labelled} (real
  tweets and reviews; weight chosen below);
- stage: datasets/care_posts `train`+`dev` (their primary stage), datasets/moments `dev` and
  `tune` (weight 1), the `dev` and `train` rows of datasets/real/stages (real tweets and
  reviews; weight chosen below).
Model selection (the L2 strength and the real sets' weight): mean macro-F1 over the sources
(each writer of datasets/care_posts, each other set), each held out in turn; the final
model is then fitted on all of them. For the stage layer, the `none` class's bias is then
moved by the number (-2 to 2, by 0.1) that gives the best score on the same held-out
predictions: the tagger's threshold against "no stage", calibrated.

  datasets/text_models/train.sh [--layer stage] [--out FILE] [--posts CSV]
  python train.py --socialcx BIN [--layer stage] [--out FILE] [--check] [--posts CSV]

Deterministic: the same inputs on the same machine write the same bytes (the weights
are written to 4 places, so another BLAS rarely moves one).
"""
import argparse
import hashlib
import csv
import os
import sys
from collections import Counter

import numpy as np
import scipy.optimize
import scipy.sparse as sp

from tokens import LAYERS, differences, engine_rows, features, model_probabilities

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


def care_posts(extra, classes):
    """(text, label, group, source) for every post the care layer may read: no `test` row."""
    posts = own_posts(extra, "label", classes)
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


def stage_posts(extra, classes):
    """(text, primary stage or none, group, source) for every post the stage layer may
    read: no `test` row, no post whose annotators disagreed."""
    posts = own_posts(extra, "primary_stage", classes)
    for r in read_csv("datasets/care_posts/labeled.csv"):
        if r["split"] in ("train", "dev") and r["primary_stage"]:
            posts.append((r["text"], r["primary_stage"], "care", "writer " + r["writer"]))
    for r in read_csv("datasets/moments/labeled.csv"):
        if r["split"] == "dev":
            posts.append((r["text"], r["primary_stage"], "care", "datasets/moments"))
    for r in read_csv("datasets/moments/tuning.csv"):
        posts.append((r["text"], r["primary_stage"], "care", "datasets/moments tuning"))
    for r in read_csv("datasets/real/stages/labeled.csv"):
        if r["split"] in ("dev", "train"):
            posts.append((r["text"], r["primary_stage"], "general", "datasets/real/stages"))
    return posts


class Setup:
    """How a layer is trained: its posts, how the model is selected, what is tried."""

    def __init__(self, posts, selection, generals, balances, l2s, header, real_share=None,
                 calibrate_none=False):
        self.posts = posts            # (extra CSVs, classes) -> [(text, label, group, source)]
        self.selection = selection    # "sources": each held out in turn; "folds": 5 folds
        self.real_share = real_share  # the real sets' share of the score (None: one set, one vote)
        self.generals = generals      # the real sets' weights to try
        self.balances = balances      # class balance to try: 0 none, 1 every class equal
        self.l2s = l2s                # L2 strengths to try
        self.header = header          # the trained file's comment lines
        self.calibrate_none = calibrate_none  # choose the `none` class's bias on held-out posts


# The care layer is selected on sources held out, for text unlike any it was fitted on (the
# real care traffic it is meant for). The stage layer has every set's own posts in its
# training data (each set's dev half), so it is selected on folds of all of them, and its
# classes are balanced because what it is measured by, macro-F1, weighs the rare stages of
# real posts (awareness, purchase) as much as the common ones. Its score gives the real
# posts (datasets/real/stages) half the weight and our own sets the other half: one vote per
# set let our three own sets outvote the real one, and real posts are what it is for.
SETUP = {
    "care": Setup(care_posts, "sources", (0.0, 0.1, 0.3, 1.0), (0.0,), (3e-4, 1e-3, 3e-3, 1e-2), [
        "# The customer-care mode's learned layer (src/engine/sentiment/model.rs), written by",
        "# datasets/text_models/train.py; do not edit by hand. Rows: name, then one weight per",
        "# class. `dense:<x>`: the care lexicon's score x of the text; otherwise a token or two",
        "# adjacent tokens (one space between).",
        "# Training data: datasets/care_posts (train+dev), datasets/cx_sentiment (dev) and the",
        "# dev halves of datasets/real/{vader_groundtruth,uci_sentiment_labelled}; licences in",
        "# each set's README (MIT, CC BY 4.0, this project's).",
    ]),
    "stage": Setup(stage_posts, "folds", (0.3, 1.0, 3.0), (0.5, 1.0), (1e-3, 3e-3, 1e-2), [
        "# The moment-of-truth tagger's learned layer (src/engine/moments/model.rs), written by",
        "# datasets/text_models/train.py; do not edit by hand. Rows: name, then one weight per",
        "# class. `dense:<stage>`: the taxonomy's score of that stage in the text;",
        "# `dense:top:<stage>`: 1 when the taxonomy alone makes that stage primary; otherwise a",
        "# token or two adjacent tokens (one space between).",
        "# Training data: datasets/care_posts (train+dev), datasets/moments (dev, tune) and",
        "# datasets/real/stages (dev+train); licences in each set's README (MIT, CC BY 4.0,",
        "# this project's).",
    ], real_share=0.5, calibrate_none=True),
}


def check(socialcx, layer, model, texts, dense):
    """Exit unless the engine, with `model` loaded, answers what this script computes (the
    care probabilities within 0.002)."""
    want = model_probabilities(model, texts, dense.tolist(), layer.dense)
    rows = engine_rows(socialcx, texts, layer.answer_sql, layer.config(model), layer.config_flag)
    compared, wrong = differences(layer, texts, rows, want, tolerance=0.002)
    print(f"check: socialcx vs this script on {len(texts)} texts: {len(wrong)} of {compared} "
          f"answers differ ({len(texts) - compared} near-ties not compared)", file=sys.stderr)
    if wrong:
        text, engine, script = wrong[0]
        sys.exit(f"check failed: {text!r}: socialcx {engine}, script {script}")


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


def train(layer, posts, dense, idx, general, balance, l2, min_count=2):
    """The model fitted on `posts[idx]`: (vocabulary -> column, W, b). A post weighs its
    group's weight (`general` for the real sets, 1 otherwise) times, with `balance` b, (n /
    (k n_c))^b for its class c (b = 1: every class weighs the same in all)."""
    sub = [posts[i] for i in idx]
    counts = Counter()
    for p in sub:
        counts.update(set(features(p[0])))
    nd = len(layer.dense)
    vocab = {f: j + nd for j, f in enumerate(sorted(f for f, c in counts.items() if c >= min_count))}
    X = design(sub, dense[idx], {f: j - nd for f, j in vocab.items()})
    y = np.array([layer.classes.index(p[1]) for p in sub])
    n_c = Counter(y.tolist())
    w = np.array([(general if p[2] == "general" else 1.0)
                  * (len(sub) / (len(n_c) * n_c[c])) ** balance for p, c in zip(sub, y)])
    W, b = fit(X, y, w, l2, len(layer.classes), nd)
    return vocab, W, b


def predict(layer, posts, dense, vocab, W, b):
    nd = len(layer.dense)
    X = design(posts, dense, {f: j - nd for f, j in vocab.items()})
    Z = X @ W + b
    Z -= Z.max(axis=1, keepdims=True)
    P = np.exp(Z)
    return P / P.sum(axis=1, keepdims=True)


def write_model(layer, path, vocab, W, b, l2, general, balance, offset, counts):
    # Softmax is unchanged by adding one number to a row's weights: centre each row, then
    # drop the rows that no longer move any probability.
    W = W - W.mean(axis=1, keepdims=True)
    b = b - b.mean()
    lines = SETUP[layer.name].header + [
        f"# Fitted on {counts}; L2 {l2} and real sets weighted {general}"
        + (f"; classes balanced {balance}" if balance else "")
        + (f"; none's bias {offset:+.1f} (held out)." if offset else "."),
        "classes\t" + "\t".join(layer.classes),
        "bias\t" + "\t".join(f"{v:.4f}" for v in b),
    ]
    for i, d in enumerate(layer.dense):
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


def out_of_fold(layer, setup, posts, dense, general, balance, l2):
    """Each post's class log-probabilities from a model fitted without it: each source held
    out in turn (`sources`), or each of 5 folds by a hash of the text (`folds`)."""
    if setup.selection == "sources":
        held = [p[3] for p in posts]
    else:
        held = [int(hashlib.sha256(p[0].encode()).hexdigest()[:8], 16) % 5 for p in posts]
    logp = np.zeros((len(posts), len(layer.classes)))
    for h in sorted(set(held)):
        fit_idx = [i for i, p in enumerate(posts)
                   if held[i] != h and (p[2] != "general" or general > 0)]
        held_idx = [i for i in range(len(posts)) if held[i] == h]
        vocab, W, b = train(layer, posts, dense, fit_idx, general, balance, l2)
        P = predict(layer, [posts[i] for i in held_idx], dense[held_idx], vocab, W, b)
        logp[held_idx] = np.log(np.maximum(P, 1e-300))
    return logp


def selection_score(layer, setup, posts, pred):
    """The mean macro-F1 over the data sets (care_posts: its writers as one set) of the
    predictions `pred`, the real sets counting `setup.real_share` when it is set; and each
    source's figure, as text."""
    y = np.array([layer.classes.index(p[1]) for p in posts])
    by_set, real, each = {}, set(), []
    for source in sorted({p[3] for p in posts}):
        idx = [i for i, p in enumerate(posts) if p[3] == source]
        f1 = macro_f1(y[idx], pred[idx])
        name = "care_posts" if source.startswith("writer ") else source
        by_set.setdefault(name, []).append(f1)
        if posts[idx[0]][2] == "general":
            real.add(name)
        each.append(f"{source.split('/')[-1]} {f1:.3f}")
    means = {name: np.mean(v) for name, v in by_set.items()}
    if setup.real_share is None:
        return float(np.mean(list(means.values()))), ", ".join(each)
    # The real sets as one half, our own sets as the other.
    score = (setup.real_share * np.mean([means[n] for n in real])
             + (1 - setup.real_share) * np.mean([m for n, m in means.items() if n not in real]))
    return float(score), ", ".join(each)


def none_offset(layer, setup, posts, logp):
    """The number added to the `none` class's bias that gives the best selection score on
    the out-of-fold log-probabilities `logp` (from -2 to 2 by 0.1; the smallest change
    among equals), and the log lines that show the choice."""
    y = np.array([layer.classes.index(p[1]) for p in posts])
    none = layer.classes.index("none")
    best, lines = None, []
    for offset in np.round(np.arange(-2.0, 2.0001, 0.1), 1):
        shifted = logp.copy()
        shifted[:, none] += offset
        pred = shifted.argmax(axis=1)
        score, _ = selection_score(layer, setup, posts, pred)
        said = np.sum(pred == none)
        precision = np.sum((pred == none) & (y == none)) / max(said, 1)
        lines.append(f"none offset {offset:+.1f}: held out {score:.3f}, none precision "
                     f"{precision:.3f} ({said} posts said none)")
        key = (round(score, 6), -abs(offset))
        if best is None or key > best[0]:
            best = (key, float(offset))
    return best[1], lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--socialcx", required=True, help="the socialcx binary")
    ap.add_argument("--layer", choices=sorted(LAYERS), default="care",
                    help="which learned layer to train (default: care)")
    ap.add_argument("--out", help="where to write the model (default: the shipped file)")
    ap.add_argument("--posts", action="append", default=[], metavar="CSV",
                    help="labelled posts of your own (columns text and label, or primary_stage "
                    "for --layer stage; rows with split = test are left out), weighted as care "
                    "posts; repeatable")
    ap.add_argument("--check", action="store_true",
                    help="also compare the engine's answers with this script's on every text")
    args = ap.parse_args()
    layer = LAYERS[args.layer]
    setup = SETUP[layer.name]
    out = args.out or os.path.join(ROOT, layer.out)

    posts = setup.posts(args.posts, layer.classes)
    texts = [p[0] for p in posts]
    dense = np.array(layer.inputs(args.socialcx, texts))
    print("posts:", dict(Counter(p[3] for p in posts)), file=sys.stderr)

    best = None
    for general in setup.generals:
        for balance in setup.balances:
            for l2 in setup.l2s:
                logp = out_of_fold(layer, setup, posts, dense, general, balance, l2)
                f1, each = selection_score(layer, setup, posts, logp.argmax(axis=1))
                print(f"general {general:<4} balance {balance:<4} l2 {l2:<7} held out: "
                      f"macro-F1 {f1:.3f} ({each})", file=sys.stderr)
                if best is None or f1 > best[0] + 1e-9:
                    best = (f1, general, balance, l2, logp)
    _, general, balance, l2, logp = best
    print(f"chosen: general {general}, balance {balance}, l2 {l2}", file=sys.stderr)
    offset = 0.0
    if setup.calibrate_none:
        offset, lines = none_offset(layer, setup, posts, logp)
        print("\n".join(lines), file=sys.stderr)
        print(f"chosen: none offset {offset:+.1f}", file=sys.stderr)
    final = [i for i, p in enumerate(posts) if p[2] != "general" or general > 0]
    vocab, W, b = train(layer, posts, dense, final, general, balance, l2)
    if offset:
        b[layer.classes.index("none")] += offset
    used = dict(sorted(Counter(posts[i][3] for i in final).items()))
    kept = write_model(layer, out, vocab, W, b, l2, general, balance, offset, used)
    print(f"wrote {out}: {kept} token and pair features", file=sys.stderr)

    if args.check:
        check(args.socialcx, layer, out, texts, dense)


if __name__ == "__main__":
    main()
