"""The customer-care mode's learned layer, checked against its training script's mirror
(datasets/care_model/care_tokens.py): on every labelled text we ship, and on texts built
to exercise the tokenizer's rules, the engine's class probabilities (`cx_sentiment_scores`)
must be those the script computes from the shipped weights and the engine's own
lexicon-layer scores. A difference means the model the script trains is not the model the
engine runs."""
import csv
import sys

from socialcx_testing import REPO, binary

sys.path.insert(0, str(REPO / "datasets" / "care_model"))
import care_tokens  # noqa: E402

MODEL = REPO / "src" / "engine" / "sentiment" / "data" / "care_model.tsv"

SETS = [
    "datasets/care_posts/labeled.csv",
    "datasets/cx_sentiment/labeled.csv",
    "datasets/real/vader_groundtruth/tweets.csv",
    "datasets/real/vader_groundtruth/amazon_review_snippets.csv",
    "datasets/real/uci_sentiment_labelled/amazon_cells.csv",
    "datasets/real/uci_sentiment_labelled/imdb.csv",
    "datasets/real/uci_sentiment_labelled/yelp.csv",
]

# Each rule of the tokens: URLs, handles, hashtags, digit runs, apostrophes (straight,
# curly, at the edges), runs of ! and ?, emoji with skin tones and variation selectors,
# non-ASCII letters, separators Rust and Python class differently (0x1c-0x1f), tabs.
TRICKY = [
    "@SkyJet 2hrs on HOLD!!! don't… https://x.co/a #fail 😡 'quoted'",
    "why?!? ua123 at 10:45 👍🏼❤️ café's HTTPS://Y.io www.z.com wwwx",
    "a@b x @ y @_ok ’tis rock’n’roll",
    "İstanbul ÉTÉ naïve straße ΣΑΣ ½ ٣ 2½",
    "tab\there\x1cfile-sep\x1fnext\u00a0nbsp\u2003em",
    "👨‍👩‍👧 family 🏳️‍🌈 ok!!??!!",
    "@ # ...",
    "!!!",
]


def socialcx_scores(texts, lexicon, columns):
    rows = care_tokens.engine_rows(
        binary(), lexicon, texts,
        ", ".join(f"cx_sentiment_scores(text)['{c}'] AS {c}" for c in columns))
    return [[float(r[c]) for c in columns] for r in rows]


def test_the_engine_runs_the_model_the_training_script_computes():
    texts = list(TRICKY)
    for rel in SETS:
        with open(REPO / rel, newline="", encoding="utf-8") as f:
            texts += [r["text"] for r in csv.DictReader(f)]
    assert len(texts) > 13000
    lexicon = socialcx_scores(texts, "care_model = false\n", care_tokens.DENSE)
    got = socialcx_scores(texts, "", ["neg", "neu", "pos"])
    want = care_tokens.model_probabilities(str(MODEL), texts, lexicon)
    worst = max(range(len(texts)), key=lambda i: max(abs(a - b) for a, b in zip(got[i], want[i])))
    diff = max(abs(a - b) for a, b in zip(got[worst], want[worst]))
    # 3 decimal places in the engine's output, f32 weights: 0.0005 and a little more.
    assert diff <= 0.001, (texts[worst], got[worst], want[worst])


def test_the_tokens_follow_the_documented_rules():
    assert care_tokens.tokens(TRICKY[0]) == [
        "@", "0hrs", "on", "hold", "!", "don't", "…", "http", "fail", "😡", "quoted"]
    assert care_tokens.features("on hold ?") == ["on", "hold", "?", "on hold", "hold ?"]
