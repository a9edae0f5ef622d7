//! Criterion bench of the graph algorithms alone: weighted PageRank over 1M nodes and
//! 10M edges (heavy-tailed in-degrees, like authors engaging with a few popular
//! accounts), and thread centralities over many small reply graphs.
//!
//! `cargo bench --bench influence` (the end-to-end comparison with igraph is
//! `benches/influence_compare.sh`).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use socialcx::engine::influence::graph::{DiGraph, centrality};
use socialcx::engine::influence::table::{DAMPING, TOLERANCE};

fn bench(c: &mut Criterion) {
    let (nodes, edges) = (1_000_000u32, 10_000_000usize);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    // Destinations skewed toward low ids (x^3 of a uniform draw): a few hubs.
    let list: Vec<(u32, u32, f64)> = (0..edges)
        .map(|_| {
            let src = rng.random_range(0..nodes);
            let dst = (rng.random::<f64>().powi(3) * f64::from(nodes)) as u32;
            (src, dst.min(nodes - 1), 1.0)
        })
        .collect();
    let mut group = c.benchmark_group("pagerank");
    group.sample_size(10);
    group.throughput(Throughput::Elements(edges as u64));
    group.bench_function("build_1m_nodes_10m_edges", |b| {
        b.iter(|| black_box(DiGraph::from_edges(nodes as usize, &list)))
    });
    let graph = DiGraph::from_edges(nodes as usize, &list);
    group.bench_function("pagerank_1m_nodes_10m_edges", |b| {
        b.iter(|| black_box(graph.pagerank(DAMPING, TOLERANCE, 1000)))
    });
    group.finish();

    // 10,000 threads of 20 participants and 40 replies each.
    let threads: Vec<Vec<(u32, u32)>> = (0..10_000)
        .map(|_| {
            (0..40)
                .map(|_| (rng.random_range(0..20), rng.random_range(0..20)))
                .collect()
        })
        .collect();
    let mut group = c.benchmark_group("thread_centrality");
    group.sample_size(10);
    group.throughput(Throughput::Elements(threads.len() as u64));
    group.bench_function("10k_threads_of_20", |b| {
        b.iter(|| {
            for t in &threads {
                black_box(centrality(20, t));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
