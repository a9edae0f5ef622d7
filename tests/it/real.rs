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
/// it; `test` rows are measured once per change and never tuned on.
const RECORDED: &str = "
cx_sentiment          dev  cx_sentiment_label 360  0.775 0.763 0.122
cx_sentiment          dev  sentiment_label    360  0.528 0.527 0.35
moments               dev  moment_of_truth    271  0.871 0.857 -
real_stages           dev  moment_of_truth    193  0.813 0.515 -
uci_amazon_cells      dev  cx_sentiment_label 500  0.706 0.779 0.156
uci_amazon_cells      dev  sentiment_label    500  0.698 0.77  0.16
uci_imdb              dev  cx_sentiment_label 500  0.71  0.772 0.168
uci_imdb              dev  sentiment_label    500  0.708 0.77  0.184
uci_yelp              dev  cx_sentiment_label 500  0.674 0.745 0.188
uci_yelp              dev  sentiment_label    500  0.654 0.727 0.196
vader_amazon_snippets dev  cx_sentiment_label 1855 0.603 0.571 0.25
vader_amazon_snippets dev  sentiment_label    1855 0.598 0.563 0.274
vader_tweets          dev  cx_sentiment_label 2100 0.799 0.693 0.03
vader_tweets          dev  sentiment_label    2100 0.81  0.693 0.03
cx_sentiment          test cx_sentiment_label 360  0.65  0.639 0.172
cx_sentiment          test sentiment_label    360  0.55  0.55  0.339
moments               test moment_of_truth    269  0.632 0.631 -
real_stages           test moment_of_truth    186  0.645 0.365 -
uci_amazon_cells      test cx_sentiment_label 500  0.688 0.775 0.128
uci_amazon_cells      test sentiment_label    500  0.688 0.772 0.144
uci_imdb              test cx_sentiment_label 500  0.664 0.736 0.168
uci_imdb              test sentiment_label    500  0.676 0.746 0.18
uci_yelp              test cx_sentiment_label 500  0.646 0.724 0.176
uci_yelp              test sentiment_label    500  0.638 0.717 0.18
vader_amazon_snippets test cx_sentiment_label 1853 0.602 0.569 0.23
vader_amazon_snippets test sentiment_label    1853 0.6   0.563 0.253
vader_tweets          test cx_sentiment_label 2100 0.786 0.675 0.026
vader_tweets          test sentiment_label    2100 0.805 0.687 0.028
moments               tune moment_of_truth    480  0.777 0.751 -
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
