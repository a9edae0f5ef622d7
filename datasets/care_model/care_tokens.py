"""The learned layer's tokens and arithmetic, in plain Python (no dependency): the mirror
of src/engine/text_model.rs that datasets/care_model/train.py trains with and
tests/care_model checks against the engine; and `engine_rows`, how both ask the engine.
"""
import csv
import math
import os
import subprocess
import tempfile

CLASSES = ["negative", "neutral", "positive"]
DENSE = ["compound", "neg", "pos"]

DECORATION = {"\ufe0e", "\ufe0f", "\u200d"} | {chr(c) for c in range(0x1F3FB, 0x1F400)}


def is_space(c):
    # Rust's char::is_whitespace: Python's isspace() without the ASCII separators 0x1c-0x1f.
    return c.isspace() and not ("\x1c" <= c <= "\x1f")


def is_word_char(c):
    if c.isascii():
        return c.isalnum()
    return c.isalpha() or c.isnumeric()


def chunks(text):
    out, cur = [], []
    for c in text:
        if is_space(c):
            if cur:
                out.append("".join(cur))
                cur = []
        else:
            cur.append(c)
    if cur:
        out.append("".join(cur))
    return out


def tokens(text):
    """The tokens of `text`, as model.rs's `tokens` hashes them."""
    out = []
    for chunk in chunks(text):
        head = "".join(c.lower() if c.isascii() else c for c in chunk[:8])
        if head.startswith(("http://", "https://", "www.")):
            out.append("http")
            continue
        word, apostrophes, last_digit, last_mark = [], 0, False, None
        i, n = 0, len(chunk)

        def end_word():
            nonlocal word, apostrophes, last_digit
            if word:
                out.append("".join(word))
            word, apostrophes, last_digit = [], 0, False

        while i < n:
            c = chunk[i]
            i += 1
            if is_word_char(c):
                word.append("'" * apostrophes)
                apostrophes = 0
                if "0" <= c <= "9":
                    if not last_digit:
                        word.append("0")
                    last_digit = True
                else:
                    last_digit = False
                    word.append(c.lower())
                last_mark = None
                continue
            if c in ("'", "\u2019"):
                if word:
                    apostrophes += 1
                continue
            if c in DECORATION:
                continue
            end_word()
            if c == "@":
                handle = False
                while i < n and (chunk[i].isascii() and (chunk[i].isalnum() or chunk[i] == "_")):
                    handle = True
                    i += 1
                if handle:
                    out.append("@")
                last_mark = None
            elif c in "!?":
                if last_mark != c:
                    out.append(c)
                last_mark = c
            elif c.isascii():
                last_mark = None
            else:
                out.append(c)
                last_mark = None
        end_word()
    return out


def features(text):
    t = tokens(text)
    return t + [a + " " + b for a, b in zip(t, t[1:])]



def read_model(path):
    """A model file's (bias, {dense input: weights}, {feature: weights})."""
    bias, dense, feats = None, {}, {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            name, *w = line.split("\t")
            if name == "classes":
                continue
            w = [float(v) for v in w]
            if name == "bias":
                bias = w
            elif name.startswith("dense:"):
                dense[name[6:]] = w
            else:
                feats[name] = w
    return bias, dense, feats


def model_probabilities(path, texts, dense):
    """What the engine computes from the model file at `path` (f32 aside): per text, the
    probabilities [negative, neutral, positive], given its lexicon scores `dense` (rows of
    compound, neg, pos)."""
    bias, dw, feats = read_model(path)
    out = []
    for text, x in zip(texts, dense):
        z = list(bias)
        for d, v in zip(DENSE, x):
            z = [a + v * w for a, w in zip(z, dw[d])]
        for f in features(text):
            if f in feats:
                z = [a + w for a, w in zip(z, feats[f])]
        top = max(z)
        e = [math.exp(a - top) for a in z]
        out.append([v / sum(e) for v in e])
    return out


def engine_rows(socialcx, lexicon, texts, columns):
    """`SELECT i, <columns> FROM t ORDER BY i` run by the socialcx binary over a table
    `t(i, text)` of `texts`, with a lexicon file holding `lexicon` (and no SOCIALCX_*
    setting from the environment); one dict per text, in order."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "texts.csv")
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["i", "text"])
            for i, t in enumerate(texts):
                w.writerow([i, t])
        lex = os.path.join(tmp, "lexicon.toml")
        with open(lex, "w", encoding="utf-8") as f:
            f.write(lexicon)
        sql = (
            f"CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '{path}' "
            "OPTIONS ('format.has_header' 'true');\n"
            f"SELECT i, {columns} FROM t ORDER BY i;\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALCX_")}
        out = subprocess.run(
            [socialcx, "--lexicon", lex, "--lake", "memory://", "sql", "--quiet", "--format", "csv"],
            input=sql, capture_output=True, text=True, env=env, check=True,
        ).stdout
    rows = list(csv.DictReader(out.splitlines()))
    assert len(rows) == len(texts), (len(rows), len(texts))
    return rows
