//! Criterion bench of `max_by` (src/engine/max_by.rs) beside what it replaced in the
//! reports: the latest message of each thread (its author, text and a score), ties broken by
//! the greatest id, over 400,000 generated messages in memory, 2 partitions.
//!
//! `cargo bench --bench aggregates`. The three ways give the same rows (checked once before
//! timing): three `first_value(... ORDER BY ...)`, three `max_by`, and one `max_by` of a
//! struct, the form `queries/triage.sql` uses.

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use datafusion::arrow::array::{
    ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};
use socialcx::generator::{Generator, GeneratorConfig};

const ROWS: u64 = 400_000;

fn messages() -> MemTable {
    let all: Vec<_> = Generator::new(GeneratorConfig {
        rows: ROWS,
        seed: 9,
        ..Default::default()
    })
    .collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("thread_id", DataType::Utf8, true),
        Field::new("conversation_id", DataType::Utf8, false),
        Field::new("author_id", DataType::Utf8, false),
        Field::new(
            "created_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("text", DataType::Utf8, false),
        Field::new("score", DataType::Float64, false),
    ]));
    // Two partitions, as on the machine the reports are measured on.
    let partitions = all
        .chunks(all.len().div_ceil(2))
        .map(|part| {
            let columns: Vec<ArrayRef> = vec![
                Arc::new(StringArray::from_iter(
                    part.iter().map(|m| m.thread_id.clone()),
                )),
                Arc::new(StringArray::from_iter_values(
                    part.iter().map(|m| &m.conversation_id),
                )),
                Arc::new(StringArray::from_iter_values(
                    part.iter().map(|m| &m.author_id),
                )),
                Arc::new(
                    TimestampMicrosecondArray::from_iter_values(part.iter().map(|m| m.created_at))
                        .with_timezone("UTC"),
                ),
                Arc::new(StringArray::from_iter_values(part.iter().map(|m| &m.text))),
                Arc::new(Float64Array::from_iter_values(
                    part.iter().map(|m| m.likes as f64 / (1 + m.shares) as f64),
                )),
            ];
            vec![RecordBatch::try_new(Arc::clone(&schema), columns).unwrap()]
        })
        .collect();
    MemTable::try_new(schema, partitions).unwrap()
}

/// The columns of a result, whatever their names (the ways name them differently).
fn columns(batches: &[RecordBatch]) -> Vec<datafusion::arrow::array::ArrayData> {
    let all = datafusion::arrow::compute::concat_batches(&batches[0].schema(), batches).unwrap();
    all.columns().iter().map(|c| c.to_data()).collect()
}

fn bench(c: &mut Criterion) {
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
    for f in socialcx::engine::max_by::udafs() {
        ctx.register_udaf(f);
    }
    ctx.register_table("m", Arc::new(messages())).unwrap();
    // Each way's query; every one is ordered by thread_id when run.
    let ways = [
        (
            "three first_value",
            "SELECT thread_id, \
               first_value(author_id ORDER BY created_at DESC, conversation_id DESC), \
               first_value(text ORDER BY created_at DESC, conversation_id DESC), \
               first_value(score ORDER BY created_at DESC, conversation_id DESC) \
             FROM m GROUP BY thread_id",
        ),
        (
            "three max_by",
            "SELECT thread_id, \
               max_by(author_id, row(created_at, conversation_id)), \
               max_by(text, row(created_at, conversation_id)), \
               max_by(score, row(created_at, conversation_id)) \
             FROM m GROUP BY thread_id",
        ),
        (
            "one max_by of a struct",
            "SELECT thread_id, l['a'], l['t'], l['s'] FROM ( \
               SELECT thread_id, max_by(named_struct('a', author_id, 't', text, 's', score), \
                                        row(created_at, conversation_id)) AS l \
               FROM m GROUP BY thread_id)",
        ),
    ];
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let run = |query: &str| {
        let sql = format!("{query} ORDER BY thread_id");
        runtime
            .block_on(async { ctx.sql(&sql).await?.collect().await })
            .unwrap()
    };
    let reference = columns(&run(ways[0].1));
    for (name, query) in &ways[1..] {
        assert!(
            columns(&run(query)) == reference,
            "{name} differs from first_value"
        );
    }
    let mut group = c.benchmark_group("latest message per thread, 400k messages");
    group.sample_size(10);
    for (name, query) in ways {
        group.bench_function(name, |b| b.iter(|| run(query)));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
