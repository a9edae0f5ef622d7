"""The learned layers (the customer-care mode's and the moment-of-truth tagger's), checked
against their training script's mirror (datasets/text_models/tokens.py): on every labelled
text we ship, and on texts built to exercise the tokenizer's rules, the engine's answers
(`cx_sentiment_scores`' class probabilities; `moment_of_truth`'s primary stage) must be
those the script computes from the shipped weights and the engine's own lexicon-layer
scores. A difference means the model the script trains is not the model the engine runs."""
import csv
import sys

from socialcx_testing import REPO, binary

sys.path.insert(0, str(REPO / "datasets" / "text_models"))
import tokens  # noqa: E402

SETS = [
    "datasets/care_posts/labeled.csv",
    "datasets/cx_sentiment/labeled.csv",
    "datasets/real/vader_groundtruth/tweets.csv",
    "datasets/real/vader_groundtruth/amazon_review_snippets.csv",
    "datasets/real/uci_sentiment_labelled/amazon_cells.csv",
    "datasets/real/uci_sentiment_labelled/imdb.csv",
    "datasets/real/uci_sentiment_labelled/yelp.csv",
    "datasets/moments/labeled.csv",
    "datasets/moments/tuning.csv",
    "datasets/real/stages/labeled.csv",
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


def every_text():
    texts = list(TRICKY)
    for rel in SETS:
        with open(REPO / rel, newline="", encoding="utf-8") as f:
            texts += [r["text"] for r in csv.DictReader(f)]
    assert len(texts) > 15000
    return texts


def test_the_engine_runs_the_care_model_the_training_script_computes():
    layer = tokens.CARE
    texts = every_text()
    rows = tokens.engine_rows(binary(), texts, layer.answer_sql, "", layer.config_flag)
    want = tokens.model_probabilities(str(REPO / layer.out), texts,
                                      layer.inputs(binary(), texts), layer.dense)
    # 3 decimal places in the engine's output, f32 weights: 0.0005 and a little more.
    compared, wrong = tokens.differences(layer, texts, rows, want, tolerance=0.001)
    assert not wrong, (len(wrong), wrong[:5])


def test_the_engine_runs_the_stage_model_the_training_script_computes():
    layer = tokens.STAGE
    texts = every_text()
    rows = tokens.engine_rows(binary(), texts, layer.answer_sql, "", layer.config_flag)
    want = tokens.model_probabilities(str(REPO / layer.out), texts,
                                      layer.inputs(binary(), texts), layer.dense)
    # A tie within f32's rounding is not compared: either answer is the model's.
    compared, wrong = tokens.differences(layer, texts, rows, want)
    assert compared > len(texts) - 20, compared
    assert not wrong, (len(wrong), wrong[:5])
    # The model decides: it finds no stage in some texts the taxonomy alone tags, and the
    # reverse, so this compared the layer and not the taxonomy.
    alone = tokens.engine_rows(binary(), texts, layer.answer_sql, layer.config(None),
                               layer.config_flag)
    assert sum(a["stage"] != r["stage"] for a, r in zip(alone, rows)) > 100


def test_the_tokens_follow_the_documented_rules():
    assert tokens.tokens(TRICKY[0]) == [
        "@", "0hrs", "on", "hold", "!", "don't", "…", "http", "fail", "😡", "quoted"]
    assert tokens.features("on hold ?") == ["on", "hold", "?", "on hold", "hold ?"]
