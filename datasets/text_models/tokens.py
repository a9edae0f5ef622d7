"""The learned layers' tokens and arithmetic, in plain Python (no dependency): the mirror
of src/engine/text_model.rs that datasets/text_models/train.py trains with and
tests/text_models checks against the engine; and `engine_rows`, how both ask the engine.
"""
import csv
import math
import os
import subprocess
import tempfile

STAGES = ["awareness", "consideration", "purchase", "experience", "service", "advocacy"]


class Layer:
    """A learned layer: its classes (the model file's columns), its dense inputs (what the
    lexicon layer computed, by name), the shipped file, and how to ask the engine."""

    def __init__(self, name, classes, dense, out, setting, config_flag, inputs_sql, dense_of,
                 answer_sql):
        self.name = name
        self.classes = classes
        self.dense = dense
        self.out = out
        self.setting = setting          # the config file's key naming the model
        self.config_flag = config_flag  # the socialcx option taking that config file
        self.inputs_sql = inputs_sql    # what the lexicon layer computes of `text`
        self.dense_of = dense_of        # a row of those -> the dense inputs, in order
        self.answer_sql = answer_sql    # what the engine answers, with the layer on

    def config(self, model):
        """A config file's text turning the layer off (`model` None) or loading `model`."""
        return f"{self.setting} = false\n" if model is None else \
            f'{self.setting} = "{os.path.abspath(model)}"\n'

    def inputs(self, socialcx, texts):
        """Every text's dense inputs, as the engine computes them with the layer off."""
        rows = engine_rows(socialcx, texts, self.inputs_sql, self.config(None), self.config_flag)
        return [self.dense_of(r) for r in rows]


# The customer-care mode: three classes over the care lexicon's compound, neg and pos;
# the engine answers with the class probabilities.
CARE = Layer(
    "care", ["negative", "neutral", "positive"], ["compound", "neg", "pos"],
    "src/engine/sentiment/data/care_model.tsv", "care_model", "--lexicon",
    ", ".join(f"cx_sentiment_scores(text)['{d}'] AS {d}" for d in ("compound", "neg", "pos")),
    lambda r: [float(r[d]) for d in ("compound", "neg", "pos")],
    ", ".join(f"cx_sentiment_scores(text)['{c}'] AS {c}" for c in ("neg", "neu", "pos")),
)
# The moment-of-truth tagger: the primary stage or none, over the taxonomy's six stage
# scores and which stage the taxonomy alone makes primary (`top:<stage>`: 1 or 0); the
# engine answers with the primary stage.
STAGE = Layer(
    "stage", ["none"] + STAGES, STAGES + [f"top:{s}" for s in STAGES],
    "src/engine/moments/data/stage_model.tsv", "stage_model", "--taxonomy",
    ", ".join([f"moment_of_truth_scores(text)['{s}'] AS {s}" for s in STAGES]
              + ["coalesce(moment_of_truth(text), '') AS top"]),
    lambda r: [float(r[s]) for s in STAGES] + [float(r["top"] == s) for s in STAGES],
    "coalesce(moment_of_truth(text), 'none') AS stage",
)
LAYERS = {layer.name: layer for layer in (CARE, STAGE)}

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


def model_probabilities(path, texts, dense, names):
    """What the engine computes from the model file at `path` (f32 aside): per text, the
    probabilities of the model's classes, given the text's lexicon scores `dense` (rows of
    the dense inputs `names`, in that order)."""
    bias, dw, feats = read_model(path)
    out = []
    for text, x in zip(texts, dense):
        z = list(bias)
        for d, v in zip(names, x):
            z = [a + v * w for a, w in zip(z, dw[d])]
        for f in features(text):
            if f in feats:
                z = [a + w for a, w in zip(z, feats[f])]
        top = max(z)
        e = [math.exp(a - top) for a in z]
        out.append([v / sum(e) for v in e])
    return out


def differences(layer, texts, rows, want, tolerance=0.001):
    """Where the engine's answers `rows` (`layer.answer_sql`, by `engine_rows`) differ from
    what this script computes, `want` (`model_probabilities`): (how many texts were
    compared, [(text, the engine's answer, the script's)]). The care layer answers its class
    probabilities, which must agree within `tolerance`; the stage layer its most probable
    class, which must be the script's, except where two classes are within f32's rounding
    (1e-4) of each other: those texts are not compared."""
    compared, wrong = 0, []
    for text, row, p in zip(texts, rows, want):
        if layer.name == "care":
            got = [float(row[c]) for c in ("neg", "neu", "pos")]
            compared += 1
            if max(abs(a - b) for a, b in zip(got, p)) > tolerance:
                wrong.append((text, got, p))
            continue
        ranked = sorted(range(len(p)), key=lambda c: -p[c])
        if p[ranked[0]] - p[ranked[1]] < 1e-4:
            continue
        compared += 1
        if row["stage"] != layer.classes[ranked[0]]:
            wrong.append((text, row["stage"], layer.classes[ranked[0]]))
    return compared, wrong


def engine_rows(socialcx, texts, columns, config="", flag="--lexicon"):
    """`SELECT i, <columns> FROM t ORDER BY i` run by the socialcx binary over a table
    `t(i, text)` of `texts`, with a config file holding `config` given as `flag`
    (`--lexicon` or `--taxonomy`; no SOCIALCX_* setting from the environment); one dict
    per text, in order."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "texts.csv")
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["i", "text"])
            for i, t in enumerate(texts):
                w.writerow([i, t])
        conf = os.path.join(tmp, "config.toml")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(config)
        sql = (
            f"CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '{path}' "
            "OPTIONS ('format.has_header' 'true');\n"
            f"SELECT i, {columns} FROM t ORDER BY i;\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALCX_")}
        out = subprocess.run(
            [socialcx, flag, conf, "--lake", "memory://", "sql", "--quiet", "--format", "csv"],
            input=sql, capture_output=True, text=True, env=env, check=True,
        ).stdout
    rows = list(csv.DictReader(out.splitlines()))
    assert len(rows) == len(texts), (len(rows), len(texts))
    return rows
