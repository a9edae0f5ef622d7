//! Influence: the graph algorithms against networkx's values
//! (`datasets/influence/`, made by `datasets/influence/regenerate.sh`), and the SQL
//! functions on lakes built for the purpose.

use std::collections::{BTreeMap, HashMap};

use socialcx::engine::influence::graph::{DiGraph, centrality};
use socialcx::engine::influence::score::influence;

use crate::common::{engine_in, ingest, query, repo, rows};

/// `datasets/influence/NAME.csv` as rows of strings (header dropped).
fn csv(name: &str) -> Vec<Vec<String>> {
    let path = repo().join("datasets/influence").join(name);
    let mut reader = csv::Reader::from_path(&path).unwrap();
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// A reference graph: its nodes in order of first appearance and its edges.
type Graph = (Vec<String>, Vec<(u32, u32)>);

/// Every reference graph, by name.
fn graphs() -> BTreeMap<String, Graph> {
    let mut graphs: BTreeMap<String, Graph> = BTreeMap::new();
    let mut ids: HashMap<(String, String), u32> = HashMap::new();
    for row in csv("edges.csv") {
        let (nodes, edges) = graphs.entry(row[0].clone()).or_default();
        let mut id = |name: &str| {
            *ids.entry((row[0].clone(), name.to_string()))
                .or_insert_with(|| {
                    nodes.push(name.to_string());
                    nodes.len() as u32 - 1
                })
        };
        let (s, d) = (id(&row[1]), id(&row[2]));
        edges.push((s, d));
    }
    graphs
}

/// `graph -> node -> values` from a reference file.
fn reference(name: &str) -> HashMap<(String, String), Vec<f64>> {
    csv(name)
        .into_iter()
        .map(|r| {
            let values = r[2..].iter().map(|v| v.parse().unwrap()).collect();
            ((r[0].clone(), r[1].clone()), values)
        })
        .collect()
}

#[test]
fn pagerank_equals_networkx_on_every_reference_graph() {
    let expected = reference("pagerank.csv");
    let graphs = graphs();
    assert!(graphs.len() >= 12, "{} graphs", graphs.len());
    let mut compared = 0;
    for (name, (nodes, edges)) in &graphs {
        let weighted: Vec<(u32, u32, f64)> = edges.iter().map(|&(s, d)| (s, d, 1.0)).collect();
        let rank = DiGraph::from_edges(nodes.len(), &weighted).pagerank(0.85, 1e-15, 100_000);
        for (i, node) in nodes.iter().enumerate() {
            let want = expected[&(name.clone(), node.clone())][0];
            assert!(
                (rank[i] - want).abs() < 1e-9,
                "{name} {node}: {} vs networkx {want}",
                rank[i]
            );
            compared += 1;
        }
    }
    assert_eq!(compared, expected.len(), "every reference node compared");
}

#[test]
fn centralities_equal_networkx_on_every_reference_graph() {
    let expected = reference("centrality.csv");
    let mut compared = 0;
    for (name, (nodes, edges)) in &graphs() {
        let c = centrality(nodes.len(), edges);
        for (i, node) in nodes.iter().enumerate() {
            let want = &expected[&(name.clone(), node.clone())];
            let got = [c.degree[i], c.closeness[i], c.betweenness[i]];
            for (what, (g, w)) in ["degree", "closeness", "betweenness"]
                .iter()
                .zip(got.iter().zip(want))
            {
                assert!(
                    (g - w).abs() < 1e-12,
                    "{name} {node} {what}: {g} vs networkx {w}"
                );
            }
            compared += 1;
        }
    }
    assert_eq!(compared, expected.len());
}

/// The score at the points where the documented formula is known by hand (`docs/functions.md`:
/// reach is half of its part at 10,000 followers, engagement at 100 weighted engagements,
/// a reply weighs 3 likes and a share 2), and rising in every input.
#[test]
fn influence_follows_its_documented_formula() {
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    assert_eq!(influence(0.0, 0.0, 0.0, 0.0), 0.0);
    assert!(close(influence(9_999.0, 0.0, 0.0, 0.0), 25.0));
    assert!(close(influence(0.0, 99.0, 0.0, 0.0), 25.0));
    assert!(close(influence(9_999.0, 99.0, 0.0, 0.0), 50.0));
    // log10(1 + 999,999) = 6: r = 6 / 10.
    assert!(close(influence(999_999.0, 0.0, 0.0, 0.0), 30.0));
    assert!(close(
        influence(0.0, 0.0, 33.0, 0.0),
        influence(0.0, 0.0, 0.0, 22.0)
    ));
    assert!(close(
        influence(0.0, 0.0, 0.0, 33.0),
        influence(0.0, 99.0, 0.0, 0.0)
    ));
    // Unknown or negative counts count as none.
    assert_eq!(influence(f64::NAN, -5.0, 0.0, 0.0), 0.0);
    let base = [1_000.0, 10.0, 2.0, 3.0];
    let score = |v: [f64; 4]| influence(v[0], v[1], v[2], v[3]);
    for input in 0..4 {
        let mut previous = -1.0;
        for x in [0.0, 1.0, 5.0, 50.0, 500.0, 5e4, 5e7] {
            let mut v = base;
            v[input] = x;
            assert!(score(v) > previous, "input {input} at {x}");
            previous = score(v);
        }
    }
}

/// One message of a hand-made lake.
fn message(
    id: &str,
    parent: Option<&str>,
    author: &str,
    brand: &str,
    day: u32,
    mentions: &[&str],
    text: &str,
) -> String {
    let thread = parent.map_or(id, |p| p.split('.').next().unwrap());
    serde_json::json!({
        "conversation_id": id, "thread_id": thread, "parent_id": parent,
        "channel": "twitter", "brand": brand, "author_id": author,
        "author_followers": 100, "is_brand": author.starts_with("brand"),
        "created_at": format!("2026-03-{day:02}T12:00:00Z"), "text": text,
        "likes": 1, "shares": 0, "replies": 0, "mentions": mentions, "hashtags": [],
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn author_influence_and_thread_centrality_from_sql() {
    let dir = tempfile::tempdir().unwrap();
    // Thread t1 (Acme, 1 March): a star around "hub", plus a self-reply and a mention.
    // Thread t2 (Bolt, 5 March): a chain a -> b -> c, and an RT share of hub.
    let lines = [
        message(
            "t1",
            None,
            "hub",
            "Acme",
            1,
            &[],
            "anyone else waiting on Acme?",
        ),
        message("t1.1", Some("t1"), "ann", "Acme", 1, &[], "same here"),
        message("t1.2", Some("t1"), "bob", "Acme", 1, &["hub"], "@hub yes"),
        message("t1.3", Some("t1"), "cat", "Acme", 1, &[], "me too"),
        message("t1.4", Some("t1.3"), "cat", "Acme", 1, &[], "still"),
        message("t2", None, "a", "Bolt", 5, &[], "Bolt is down"),
        message("t2.1", Some("t2"), "b", "Bolt", 5, &[], "for me too"),
        message("t2.2", Some("t2.1"), "c", "Bolt", 5, &[], "and me"),
        message(
            "t3",
            None,
            "dee",
            "Bolt",
            5,
            &[],
            "RT @hub: anyone else waiting on Acme?",
        ),
    ];
    let file = dir.path().join("graph.ndjson");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let engine = engine_in(dir.path()).await;
    assert_eq!(ingest(&engine, &[file]).await.landed(), 9);

    let authors = rows(
        &engine,
        "SELECT author_id, in_degree, out_degree, distinct_engagers, conversations, messages, \
                influence_percentile, pagerank FROM author_influence()",
    )
    .await;
    let by: HashMap<&str, &Vec<String>> = authors.iter().map(|r| (r[0].as_str(), r)).collect();
    // hub: replies from ann, bob, cat (the reply to t1.3 is cat's own), bob's
    // mention, dee's share.
    assert_eq!(by["hub"][1..6], ["5", "0", "4", "1", "1"]);
    assert_eq!(
        authors[0][0], "hub",
        "most engaged-with author ranks first: {authors:?}"
    );
    assert_eq!(by["hub"][6], "100.0");
    assert_eq!(by["cat"][1..3], ["0", "1"], "a self-reply is no engagement");
    // PageRank equals networkx's on the same interactions (graph g13 of
    // datasets/influence: these replies, the mention, the self-reply and the share).
    let expected = reference("pagerank.csv");
    let mut compared = 0;
    for ((graph, node), values) in &expected {
        if graph == "g13" {
            let got: f64 = by[node.as_str()][7].parse().unwrap();
            assert!(
                (got - values[0]).abs() < 1e-9,
                "{node}: {got} vs networkx {}",
                values[0]
            );
            compared += 1;
        }
    }
    assert_eq!(
        compared,
        authors.len(),
        "every author, and no other, has a rank"
    );

    // A window and a brand keep only their messages' interactions.
    let bolt = rows(
        &engine,
        "SELECT author_id, in_degree FROM author_influence(TIMESTAMP '2026-03-02', NULL, 'Bolt') ORDER BY author_id",
    )
    .await;
    let bolt: Vec<String> = bolt.iter().map(|r| format!("{}={}", r[0], r[1])).collect();
    assert_eq!(bolt, ["a=1", "b=1", "c=0", "dee=0", "hub=1"]);
    let march_first = rows(
        &engine,
        "SELECT count(*) FROM author_influence('2026-03-01', '2026-03-02')",
    )
    .await;
    assert_eq!(march_first[0][0], "4", "hub, ann, bob, cat");

    // Threads: the star's centre is hub (betweenness 1), the chain's is b.
    let threads = rows(
        &engine,
        "SELECT thread_id, author_id, degree, closeness, betweenness, is_centre, centre, participants \
         FROM thread_centrality() ORDER BY thread_id, author_id",
    )
    .await;
    let t1: Vec<&Vec<String>> = threads.iter().filter(|r| r[0] == "t1").collect();
    assert_eq!(t1.len(), 4);
    let hub = t1.iter().find(|r| r[1] == "hub").unwrap();
    assert_eq!(hub[2..8], ["1.0", "1.0", "1.0", "true", "hub", "4"]);
    let t2_centre: Vec<&str> = threads
        .iter()
        .filter(|r| r[0] == "t2" && r[5] == "true")
        .map(|r| r[1].as_str())
        .collect();
    assert_eq!(t2_centre, ["b"]);
    let b = threads
        .iter()
        .find(|r| r[0] == "t2" && r[1] == "b")
        .unwrap();
    assert_eq!(
        b[4], "1.0",
        "the middle of a 3-chain is on the only path between the ends"
    );

    // Bad arguments get a clear error.
    let err = engine
        .sql("SELECT * FROM author_influence('yesterday-ish', NULL)")
        .await;
    let err = match err {
        Ok(df) => df.collect().await.unwrap_err().to_string(),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("author_influence"), "{err}");
    let err = engine
        .sql("SELECT * FROM thread_centrality(1)")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("takes no arguments, (from, to)"), "{err}");
    // The plan shows the graph node over the SQL that feeds it.
    let plan = query(&engine, "EXPLAIN SELECT * FROM author_influence()").await;
    let plan = datafusion::arrow::util::pretty::pretty_format_batches(&plan)
        .unwrap()
        .to_string();
    assert!(plan.contains("GraphExec: author_influence"), "{plan}");
}

/// Every author's row of `author_influence(args)` but the ranks, computed independently
/// in plain SQL: the edges of `src/engine/influence/author_edges.sql` (a join of the lake
/// with itself, planned by DataFusion) and the facts grouped per author.
fn author_facts_in_sql(filter: &str) -> String {
    let edges = std::fs::read_to_string(repo().join("src/engine/influence/author_edges.sql"))
        .unwrap()
        .replace("{filter}", filter);
    format!(
        "WITH e AS (SELECT src, dst FROM ({edges}) WHERE dst IS NOT NULL AND dst <> ''), \
         received AS (SELECT dst AS author_id, count(*) AS n, count(DISTINCT src) AS engagers \
                      FROM e WHERE src <> dst GROUP BY dst), \
         given AS (SELECT src AS author_id, count(*) AS n FROM e WHERE src <> dst GROUP BY src), \
         facts AS (SELECT author_id, bool_or(is_brand) AS is_brand, \
                          max(author_followers) AS followers, \
                          coalesce(sum(author_followers), 0) AS reach, \
                          count(DISTINCT thread_id) AS threads, count(*) AS messages \
                   FROM conversations {filter} GROUP BY author_id), \
         nodes AS (SELECT author_id FROM facts UNION SELECT dst FROM e) \
         SELECT n.author_id, f.is_brand, coalesce(r.n, 0), coalesce(g.n, 0), \
                coalesce(r.engagers, 0), f.followers, coalesce(f.reach, 0), \
                coalesce(f.threads, 0), coalesce(f.messages, 0) \
         FROM nodes n LEFT JOIN facts f ON f.author_id = n.author_id \
              LEFT JOIN received r ON r.author_id = n.author_id \
              LEFT JOIN given g ON g.author_id = n.author_id \
         ORDER BY n.author_id"
    )
}

/// The lines of `file` in two files beside it: those whose index `first` picks, and the rest.
fn split_lines(
    file: &std::path::Path,
    first: impl Fn(usize) -> bool,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let text = std::fs::read_to_string(file).unwrap();
    let (mut picked, mut rest) = (String::new(), String::new());
    for (i, line) in text.lines().enumerate() {
        let half = if first(i) { &mut picked } else { &mut rest };
        half.push_str(line);
        half.push('\n');
    }
    let halves = (
        file.with_extension("first.ndjson"),
        file.with_extension("rest.ndjson"),
    );
    std::fs::write(&halves.0, picked).unwrap();
    std::fs::write(&halves.1, rest).unwrap();
    halves
}

#[tokio::test(flavor = "multi_thread")]
async fn author_degrees_agree_with_plain_sql_on_a_generated_lake() {
    let dir = tempfile::tempdir().unwrap();
    let file = crate::common::generate(dir.path(), "g.ndjson", 20_000, 8, Default::default());
    // Every other message lands first: its replies to the rest land before their parents,
    // so their parent's author is not stored and is found by id; every other reply's is
    // stored at ingest. Both paths feed the graph below.
    let (first, second) = split_lines(&file, |i| i % 2 == 1);
    let engine = engine_in(&dir.path().join("lake")).await;
    ingest(&engine, &[first]).await;
    ingest(&engine, &[second]).await;
    // The stored parent's author is the parent message's author, or null when the parent
    // landed after the reply.
    let stored = rows(
        &engine,
        "SELECT count(*) FILTER (WHERE c.parent_author_id = p.author_id), \
                count(*) FILTER (WHERE c.parent_author_id IS NULL), \
                count(*) FILTER (WHERE c.parent_author_id <> p.author_id \
                                   OR p.author_id IS NULL AND c.parent_author_id IS NOT NULL) \
         FROM conversations c LEFT JOIN conversations p ON c.parent_id = p.conversation_id \
         WHERE c.parent_id IS NOT NULL",
    )
    .await;
    let [found, unresolved, wrong] = [0, 1, 2].map(|i| stored[0][i].parse::<u64>().unwrap());
    assert!(found > 1000 && unresolved > 100, "{stored:?}");
    assert_eq!(wrong, 0);
    let ours = |args: &str| {
        format!(
            "SELECT author_id, is_brand, in_degree, out_degree, distinct_engagers, followers, \
                    total_reach, conversations, messages \
             FROM author_influence({args}) ORDER BY author_id"
        )
    };
    let whole = rows(&engine, &author_facts_in_sql("")).await;
    assert!(whole.len() > 1000, "{} authors", whole.len());
    assert_eq!(rows(&engine, &ours("")).await, whole);
    // A window from the median message on (many replies there answer messages before
    // it) and one brand.
    let bounds = rows(
        &engine,
        "SELECT (SELECT arrow_cast(created_at, 'Utf8') \
                 FROM (SELECT created_at, row_number() OVER (ORDER BY created_at) AS r, \
                              count(*) OVER () AS n FROM conversations) \
                 WHERE r = n / 2 + 1), \
                (SELECT brand FROM conversations GROUP BY brand ORDER BY count(*) DESC, brand LIMIT 1)",
    )
    .await;
    let (from, brand) = (&bounds[0][0], &bounds[0][1]);
    let outside_parents = rows(
        &engine,
        &format!(
            "SELECT count(*) FROM conversations c JOIN conversations p \
               ON c.parent_id = p.conversation_id \
             WHERE c.created_at >= TIMESTAMP '{from}' AND c.brand = '{brand}' \
               AND p.created_at < TIMESTAMP '{from}'"
        ),
    )
    .await;
    assert_ne!(
        outside_parents[0][0], "0",
        "replies to messages before the window"
    );
    let filter = format!("WHERE created_at >= TIMESTAMP '{from}' AND brand = '{brand}'");
    let windowed = rows(&engine, &author_facts_in_sql(&filter)).await;
    assert_eq!(
        rows(
            &engine,
            &ours(&format!("TIMESTAMP '{from}', NULL, '{brand}'"))
        )
        .await,
        windowed
    );
    let checks = rows(
        &engine,
        "SELECT count(DISTINCT author_id) = count(*) FROM author_influence()",
    )
    .await;
    assert_eq!(checks[0], ["true"], "one row per author");
    // The SQL function against the documented formula, written out in SQL.
    let off = rows(
        &engine,
        "WITH s AS (SELECT influence(author_followers, likes, shares, replies) AS got, \
                log10(1 + greatest(coalesce(author_followers, 0), 0)) AS r, \
                log10(1 + greatest(likes, 0) + 2 * greatest(shares, 0) + 3 * greatest(replies, 0)) AS e \
              FROM conversations) \
         SELECT count(*) FROM s WHERE abs(got - 100 * (r / (r + 4) + e / (e + 2)) / 2) > 1e-9",
    )
    .await;
    assert_eq!(off[0], ["0"]);
}

/// `EXPLAIN`'s text of `sql` on `engine`.
async fn explain(engine: &socialcx::Engine, sql: &str) -> String {
    let plan = query(engine, &format!("EXPLAIN {sql}")).await;
    datafusion::arrow::util::pretty::pretty_format_batches(&plan)
        .unwrap()
        .to_string()
}

/// The stored results of `author_influence` under the lake at `lake`.
fn stored_results(lake: &std::path::Path) -> Vec<std::path::PathBuf> {
    let dir = lake.join("_results/author_influence");
    let mut files: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread")]
async fn author_influence_is_stored_for_the_next_query_over_the_same_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = crate::common::generate(dir.path(), "g.ndjson", 6_000, 3, Default::default());
    let (first_file, second_file) = split_lines(&file, |i| i < 4_000);
    let lake = dir.path().join("lake");
    let sql = "SELECT author_id, is_brand, in_degree, out_degree, distinct_engagers, followers, \
                      total_reach, conversations, messages \
               FROM author_influence() ORDER BY author_id";
    let ranks = "SELECT author_id, pagerank, influence_percentile FROM author_influence() \
                 ORDER BY author_id";

    let engine = engine_in(dir.path()).await;
    ingest(&engine, &[first_file]).await;
    let plan = explain(&engine, sql).await;
    assert!(
        plan.contains("computed and stored as _results/author_influence/"),
        "{plan}"
    );
    let computed = rows(&engine, sql).await;
    assert_eq!(computed, rows(&engine, &author_facts_in_sql("")).await);
    let computed_ranks = rows(&engine, ranks).await;
    let stored = stored_results(&lake);
    assert_eq!(stored.len(), 1, "{stored:?}");

    // Another engine (another process, a server's next query) reads the stored result.
    let engine = engine_in(dir.path()).await;
    let plan = explain(&engine, sql).await;
    assert!(
        plan.contains("stored result _results/author_influence/"),
        "{plan}"
    );
    assert_eq!(rows(&engine, sql).await, computed);
    assert_eq!(rows(&engine, ranks).await, computed_ranks);
    // ... and only reads it: a changed file changes the answer.
    let doctored = rows(
        &engine,
        &format!(
            "COPY (SELECT author_id, is_brand, pagerank, in_degree + 1000 AS in_degree, \
                          out_degree, distinct_engagers, followers, total_reach, conversations, \
                          messages, influence_percentile \
                   FROM author_influence()) TO '{}' STORED AS PARQUET",
            dir.path().join("doctored.parquet").display()
        ),
    )
    .await;
    assert_ne!(doctored[0][0], "0");
    std::fs::copy(dir.path().join("doctored.parquet"), &stored[0]).unwrap();
    let engine = engine_in(dir.path()).await;
    let read = rows(&engine, "SELECT min(in_degree) FROM author_influence()").await;
    assert!(read[0][0].parse::<i64>().unwrap() >= 1000, "{read:?}");
    // A damaged result is computed again (and stored again), not an error.
    std::fs::write(&stored[0], b"not parquet").unwrap();
    let engine = engine_in(dir.path()).await;
    assert_eq!(rows(&engine, sql).await, computed);
    let engine = engine_in(dir.path()).await;
    let plan = explain(&engine, sql).await;
    assert!(plan.contains("stored result"), "stored again: {plan}");
    assert_eq!(rows(&engine, sql).await, computed);
    assert_eq!(rows(&engine, ranks).await, computed_ranks);

    // A commit that changes the files read changes the key: the new answer is computed
    // from the new files, and equals plain SQL over them.
    ingest(&engine, &[second_file]).await;
    let plan = explain(&engine, sql).await;
    assert!(plan.contains("computed and stored as"), "{plan}");
    let after = rows(&engine, sql).await;
    assert_ne!(after, computed, "the second half adds authors and edges");
    assert_eq!(after, rows(&engine, &author_facts_in_sql("")).await);
    assert_eq!(stored_results(&lake).len(), 2);

    // Each window has its own result; only the most recent few are kept.
    let days = rows(
        &engine,
        "SELECT DISTINCT arrow_cast(date_trunc('day', created_at), 'Utf8') FROM conversations \
         ORDER BY 1 LIMIT 12",
    )
    .await;
    assert_eq!(days.len(), 12);
    for day in &days {
        let sql = format!(
            "SELECT count(*) FROM author_influence(TIMESTAMP '{}', NULL)",
            day[0]
        );
        rows(&engine, &sql).await;
    }
    let kept = stored_results(&lake);
    assert_eq!(kept.len(), socialcx::lake::results::KEEP, "{kept:?}");
}
