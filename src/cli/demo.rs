//! `socialcx demo`: land the shipped sample and show what the lake can answer.
//!
//! The sample ships inside the binary (from `datasets/sample/`), so the demo works
//! wherever the binary is; it lands under the names `datasets/sample/<file>`. Landing is idempotent: running the demo twice lands nothing
//! new the second time.

use std::io::Write;
use std::time::Instant;

use bytes::Bytes;

use super::exec::{SqlOptions, run_sql};
use crate::Result;
use crate::engine::Engine;
use crate::ingest::{IngestOptions, IngestSummary, ingest_bytes};
use crate::output::OutputFormat;

/// The shipped sample files: name and content.
pub const SAMPLE_FILES: [(&str, &[u8]); 3] = [
    (
        "conversations.ndjson",
        include_bytes!("../../datasets/sample/conversations.ndjson"),
    ),
    (
        "twcs_sample.csv",
        include_bytes!("../../datasets/sample/twcs_sample.csv"),
    ),
    (
        "broken_lines.ndjson",
        include_bytes!("../../datasets/sample/broken_lines.ndjson"),
    ),
];

const QUERIES: [(&str, &str); 7] = [
    (
        "Volume by channel (customer messages and brand replies)",
        "SELECT channel, count(*) FILTER (WHERE NOT is_brand) AS customer_msgs,
                count(*) FILTER (WHERE is_brand) AS brand_replies,
                count(DISTINCT author_id) AS authors
         FROM conversations GROUP BY channel ORDER BY customer_msgs DESC",
    ),
    (
        "Brand responsiveness: threads started by customers, share answered, median first response",
        "WITH roots AS (
            SELECT conversation_id, brand, created_at FROM conversations
            WHERE parent_id IS NULL AND NOT is_brand),
          first_reply AS (
            SELECT thread_id, min(created_at) AS replied_at FROM conversations
            WHERE is_brand GROUP BY thread_id)
         SELECT r.brand, count(*) AS threads,
                round(100.0 * count(f.replied_at) / count(*), 1) AS pct_answered,
                round(median(date_part('epoch', f.replied_at - r.created_at) / 60), 1)
                    AS median_minutes_to_answer
         FROM roots r LEFT JOIN first_reply f ON f.thread_id = r.conversation_id
         GROUP BY r.brand ORDER BY threads DESC",
    ),
    (
        "Customer sentiment by brand: VADER vs the customer-care mode (scores stored at ingest)",
        "SELECT brand, count(*) AS customer_msgs,
                round(100.0 * avg(CASE WHEN sentiment <= -0.05 THEN 1 ELSE 0 END), 1)
                    AS pct_negative_vader,
                round(100.0 * avg(CASE WHEN cx_sentiment <= -0.05 THEN 1 ELSE 0 END), 1)
                    AS pct_negative_cx,
                round(avg(sentiment), 3) AS mean_vader,
                round(avg(cx_sentiment), 3) AS mean_cx
         FROM conversations WHERE NOT is_brand
         GROUP BY brand ORDER BY pct_negative_cx DESC",
    ),
    (
        "Weekly volume (a date filter prunes partitions: try EXPLAIN in the shell)",
        "SELECT date_trunc('week', created_at) AS week, count(*) AS messages,
                count(DISTINCT thread_id) AS threads
         FROM conversations WHERE date >= DATE '2026-01-01'
         GROUP BY 1 ORDER BY 1",
    ),
    (
        "The most followed customers (who to build relationships with)",
        "SELECT author_id, max(author_followers) AS followers, count(*) AS messages,
                array_agg(DISTINCT brand) AS brands
         FROM conversations WHERE NOT is_brand AND author_followers IS NOT NULL
         GROUP BY author_id ORDER BY followers DESC LIMIT 5",
    ),
    (
        "A thread rebuilt from the Customer Support on Twitter layout",
        "SELECT thread_id, conversation_id, parent_id, author_id, is_brand, brand,
                substr(text, 1, 60) AS text
         FROM conversations
         WHERE thread_id = (SELECT thread_id FROM conversations WHERE channel = 'twitter'
                            AND author_followers IS NULL
                            GROUP BY thread_id ORDER BY count(*) DESC, thread_id LIMIT 1)
         ORDER BY created_at",
    ),
    (
        "Quarantined input rows, with the reason and where they came from",
        "SELECT source, line, reason, substr(raw, 1, 50) AS raw
         FROM quarantine ORDER BY source, line",
    ),
];

/// Land the sample into the engine's lake and print the demo queries.
pub async fn run(engine: &Engine) -> Result<()> {
    println!("Landing the sample in {}", engine.lake().url());
    let started = Instant::now();
    let mut summary = IngestSummary::default();
    let options = IngestOptions {
        progress: super::progress::bars(true),
        ..IngestOptions::default()
    };
    for (name, content) in SAMPLE_FILES {
        let source = format!("datasets/sample/{name}");
        let bytes = Bytes::from_static(content);
        summary
            .files
            .push(ingest_bytes(engine, &source, bytes, &options).await?);
    }
    summary.elapsed = started.elapsed();
    println!("{summary}\n");

    let mut out = std::io::stdout();
    for (title, sql) in QUERIES {
        println!("-- {title}");
        run_sql(
            engine,
            sql,
            &SqlOptions::new(OutputFormat::Table, 20),
            &mut out,
        )
        .await?;
        println!();
        out.flush()?;
    }
    println!(
        "Next: `socialcx shell` for an interactive session over {}, \
         or `socialcx sql \"SELECT ...\" --format csv`.",
        engine.lake().url()
    );
    Ok(())
}
