//! Every labelled set's figures, as `datasets/evaluate.sh` prints them
//! (`datasets/real/evaluate.sql`): plain VADER (`sentiment_label`), the customer-care mode
//! (`cx_sentiment_label`) and the moments tagger, on our sets (`datasets/cx_sentiment`,
//! `datasets/moments`) and on the real, human-labelled ones (`datasets/real`). No figure
//! may get worse than recorded.

use socialcx::EngineConfig;

use crate::common::evaluation;

/// The summary (the script's last table) as measured with `datasets/evaluate.sh`: dataset,
/// split, mode, posts, accuracy, macro-F1 and the share of complaints (negative truth)
/// predicted positive (`-`: not a sentiment set). Raise a figure when a change improves
/// it; `test` rows are measured once per change and never tuned on. The care mode's
/// learned layer is fitted on `care_posts` train and dev, `cx_sentiment` dev and the real
/// sets' dev halves, and the tagger's on `care_posts` train and dev (`care_stages`), `moments`
/// dev and tune and `real_stages` dev and train (`datasets/text_models/train.py`): those rows are
/// training figures.
const RECORDED: &str = "
care_posts            dev   cx_sentiment_label 299  0.997 0.995 0.0
care_posts            dev   sentiment_label    299  0.508 0.509 0.292
care_stages           dev   moment_of_truth    276  0.819 0.62  -
cx_sentiment          dev   cx_sentiment_label 360  1.0   1.0   0.0
cx_sentiment          dev   sentiment_label    360  0.528 0.527 0.35
moments               dev   moment_of_truth    271  0.934 0.903 -
real_stages           dev   moment_of_truth    557  0.873 0.824 -
uci_amazon_cells      dev   cx_sentiment_label 500  0.902 0.908 0.152
uci_amazon_cells      dev   sentiment_label    500  0.698 0.77  0.16
uci_imdb              dev   cx_sentiment_label 500  0.916 0.917 0.136
uci_imdb              dev   sentiment_label    500  0.708 0.77  0.184
uci_yelp              dev   cx_sentiment_label 500  0.92  0.921 0.132
uci_yelp              dev   sentiment_label    500  0.654 0.727 0.196
vader_amazon_snippets dev   cx_sentiment_label 1855 0.866 0.849 0.138
vader_amazon_snippets dev   sentiment_label    1855 0.598 0.563 0.274
vader_tweets          dev   cx_sentiment_label 2100 0.893 0.861 0.026
vader_tweets          dev   sentiment_label    2100 0.81  0.693 0.03
care_posts            test  cx_sentiment_label 298  0.896 0.884 0.046
care_posts            test  sentiment_label    298  0.537 0.537 0.301
care_stages           test  moment_of_truth    278  0.658 0.551 -
cx_sentiment          test  cx_sentiment_label 360  0.878 0.877 0.089
cx_sentiment          test  sentiment_label    360  0.55  0.55  0.339
moments               test  moment_of_truth    269  0.699 0.683 -
real_stages           test  moment_of_truth    593  0.69  0.451 -
uci_amazon_cells      test  cx_sentiment_label 500  0.838 0.854 0.192
uci_amazon_cells      test  sentiment_label    500  0.688 0.772 0.144
uci_imdb              test  cx_sentiment_label 500  0.766 0.775 0.244
uci_imdb              test  sentiment_label    500  0.676 0.746 0.18
uci_yelp              test  cx_sentiment_label 500  0.824 0.833 0.228
uci_yelp              test  sentiment_label    500  0.638 0.717 0.18
vader_amazon_snippets test  cx_sentiment_label 1853 0.64  0.574 0.263
vader_amazon_snippets test  sentiment_label    1853 0.6   0.563 0.253
vader_tweets          test  cx_sentiment_label 2100 0.774 0.718 0.064
vader_tweets          test  sentiment_label    2100 0.805 0.687 0.028
care_posts            train cx_sentiment_label 900  0.999 0.999 0.0
care_posts            train sentiment_label    900  0.482 0.481 0.32
care_stages           train moment_of_truth    855  0.814 0.644 -
real_stages           train moment_of_truth    1899 0.835 0.804 -
moments               tune  moment_of_truth    480  0.938 0.909 -
";

/// What a figure of the customer-care mode or the tagger may lose (rounding, small
/// changes elsewhere) before the test fails.
const MARGIN: f64 = 0.005;

/// A figure: a summary cell, or a cell of `RECORDED` (SQL NULL is empty there, `-` here).
fn figure(cell: &str) -> Option<f64> {
    if cell.is_empty() || cell == "-" {
        None
    } else {
        Some(cell.parse().unwrap_or_else(|e| panic!("{cell:?}: {e}")))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_labelled_set_keeps_its_recorded_figures() {
    let engine = socialcx::open_with(EngineConfig::new("memory://").with_target_partitions(2))
        .await
        .expect("engine opens");
    let got = evaluation(&engine, "datasets/real").await;
    let recorded: Vec<Vec<&str>> = RECORDED
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        got.len(),
        recorded.len(),
        "one row per set, split and mode: {got:?}"
    );
    for want in &recorded {
        assert_eq!(want.len(), 7, "{want:?}");
        let (dataset, split, mode) = (want[0], want[1], want[2]);
        let row = got
            .iter()
            .find(|r| r[0] == dataset && r[1] == split && r[2] == mode)
            .unwrap_or_else(|| panic!("no row for {dataset} {split} {mode}: {got:?}"));
        let what = format!("{dataset} {split} {mode}: {row:?}, recorded {want:?}");
        assert_eq!(row[3], want[3], "posts: {what}");
        let (acc, accuracy) = (figure(&row[4]).unwrap(), figure(want[4]).unwrap());
        let (f1, macro_f1) = (figure(&row[5]).unwrap(), figure(want[5]).unwrap());
        let (positive, complaints_positive) = (figure(&row[6]), figure(want[6]));
        assert_eq!(positive.is_some(), complaints_positive.is_some(), "{what}");
        if mode == "sentiment_label" {
            // Plain VADER is the reference exactly: its figures do not move at all.
            assert!((acc - accuracy).abs() < 1e-9, "accuracy: {what}");
            assert!((f1 - macro_f1).abs() < 1e-9, "macro-F1: {what}");
            if let (Some(p), Some(recorded)) = (positive, complaints_positive) {
                assert!((p - recorded).abs() < 1e-9, "complaints positive: {what}");
            }
        } else {
            assert!(acc >= accuracy - MARGIN, "accuracy fell: {what}");
            assert!(f1 >= macro_f1 - MARGIN, "macro-F1 fell: {what}");
            if let (Some(p), Some(recorded)) = (positive, complaints_positive) {
                assert!(p <= recorded + MARGIN, "more complaints positive: {what}");
            }
        }
    }
}
