//! Moment-of-truth functions: the shipped taxonomy, a user's taxonomy, every output
//! shape, nulls and scalars. (Accuracy is measured by datasets/moments/evaluate.sql.)

use socialcx::{Engine, EngineConfig};

use crate::common::rows;

async fn engine(config: EngineConfig) -> Engine {
    Engine::with_config(config.with_target_partitions(2))
        .await
        .expect("engine opens")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_shipped_taxonomy_tags_stages_in_sql() {
    let engine = engine(EngineConfig::new("memory://")).await;
    let got = rows(
        &engine,
        "WITH t(x) AS (VALUES ('Just booked Porto with @SkyHopAir!!!'), \
           ('would NOT recommend them, avoid'), (NULL), ('lovely weather today'), \
           ('ordered last week, on hold with customer service for an hour')) \
         SELECT moment_of_truth(x), moments_of_truth(x), moment_of_truth_scores(x)['advocacy'] FROM t",
    )
    .await;
    assert_eq!(got[0][0], "purchase");
    assert_eq!(
        got[1][0], "advocacy",
        "a negated recommendation is still advocacy"
    );
    assert_eq!(got[2], vec!["", "", ""], "null in, null out");
    assert_eq!(got[3][0], "", "no stage: null");
    assert_eq!(got[3][1], "[]");
    assert_eq!(
        got[4][1], "[service, purchase]",
        "every stage, strongest first"
    );
    assert!(got[1][2].parse::<f64>().unwrap() >= 2.0);
    // A scalar argument gives what the array gives.
    let scalar = rows(
        &engine,
        "SELECT moment_of_truth('Just booked Porto with @SkyHopAir!!!')",
    )
    .await;
    assert_eq!(scalar[0][0], "purchase");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_taxonomy_extends_or_replaces_the_shipped_one() {
    let dir = tempfile::tempdir().unwrap();
    let extend = dir.path().join("extend.toml");
    std::fs::write(&extend, "[stages.advocacy.cues]\n\"rave about\" = 2.0\n").unwrap();
    let replace = dir.path().join("replace.toml");
    std::fs::write(
        &replace,
        "replace = true\n[stages.service.cues]\n\"rave about\" = 2.0\n",
    )
    .unwrap();
    let sql = "SELECT moment_of_truth('I rave about them to my friends'), moment_of_truth('just booked it')";
    let shipped = rows(&engine(EngineConfig::new("memory://")).await, sql).await;
    let extended = rows(
        &engine(EngineConfig::new("memory://").with_taxonomy(&extend)).await,
        sql,
    )
    .await;
    let replaced = rows(
        &engine(EngineConfig::new("memory://").with_taxonomy(&replace)).await,
        sql,
    )
    .await;
    assert_eq!(shipped[0], vec!["", "purchase"]);
    assert_eq!(extended[0], vec!["advocacy", "purchase"]);
    assert_eq!(
        replaced[0],
        vec!["service", ""],
        "replace = true drops the shipped cues"
    );

    std::fs::write(&extend, "[stages.loyalty.cues]\n\"x\" = 1.0\n").unwrap();
    let err = Engine::with_config(EngineConfig::new("memory://").with_taxonomy(&extend))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("extend.toml") && err.to_string().contains("loyalty"),
        "{err}"
    );
}
