//! Criterion benches of the ingest path's CPU work: generating synthetic messages,
//! and reading + validating NDJSON, CSV and TWCS input (rows/s and MB/s).
//!
//! `cargo bench --bench ingest`

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use socialcx::generator::{Generator, GeneratorConfig, OutputLayout, generate_file};
use socialcx::ingest::readers;

const ROWS: u64 = 20_000;

fn input(layout: OutputLayout) -> Bytes {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in");
    let config = GeneratorConfig {
        rows: ROWS,
        seed: 1,
        layout,
        ..Default::default()
    };
    generate_file(&config, &path, &socialcx::progress::Silent).unwrap();
    Bytes::from(std::fs::read(&path).unwrap())
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("ingest");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ROWS));
    group.bench_function("generate", |b| {
        b.iter(|| {
            let n = Generator::new(GeneratorConfig {
                rows: ROWS,
                ..Default::default()
            })
            .count();
            black_box(n)
        })
    });
    for (name, layout, file) in [
        ("read_ndjson", OutputLayout::Ndjson, "in.ndjson"),
        ("read_csv", OutputLayout::Csv, "in.csv"),
        ("read_twcs", OutputLayout::Twcs, "in.csv"),
    ] {
        let bytes = input(layout);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let parsed = readers::read(file, &bytes, &|_| {}).unwrap();
                assert_eq!(parsed.rows.len() as u64, ROWS);
                black_box(parsed.rows.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
