//! Criterion benches of the text-function kernels (sentiment, moments of truth) on
//! one core: texts/s and MB/s over social posts (the generator's, ~65 bytes on average).
//!
//! `cargo bench --bench text_functions` (texts from the generator), or with
//! `SOCIALCX_SENTIMENT_CORPUS=posts.ndjson` (one `{"text": ...}` per line) to score
//! the file `benches/sentiment_compare.sh` also gives the Python reference and the
//! `vader_sentiment` crate.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::config::ConfigOptions;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF};
use socialcx::engine::moments::{self, Tagger};
use socialcx::engine::sentiment::vader::{Analyzer, Scratch};
use socialcx::engine::sentiment::{Sentiment, UserLexicon};
use socialcx::generator::{Generator, GeneratorConfig};

fn corpus() -> Vec<String> {
    if let Some(path) = std::env::var_os("SOCIALCX_SENTIMENT_CORPUS") {
        let text = std::fs::read_to_string(&path).expect("corpus file");
        return text
            .split('\n')
            .filter(|l| !l.is_empty())
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("NDJSON");
                v["text"].as_str().expect("a text field").to_string()
            })
            .collect();
    }
    Generator::new(GeneratorConfig {
        rows: 200_000,
        seed: 3,
        ..Default::default()
    })
    .map(|m| m.text)
    .collect()
}

fn invoke(udf: &ScalarUDF, array: &ArrayRef) -> ColumnarValue {
    let args = ScalarFunctionArgs {
        args: vec![ColumnarValue::Array(Arc::clone(array))],
        arg_fields: vec![Arc::new(Field::new("text", DataType::Utf8, true))],
        number_rows: array.len(),
        return_field: Arc::new(Field::new(
            "out",
            udf.return_type(&[DataType::Utf8]).unwrap(),
            true,
        )),
        config_options: Arc::new(ConfigOptions::default()),
    };
    udf.invoke_with_args(args).unwrap()
}

fn bench(c: &mut Criterion) {
    let texts = corpus();
    let bytes: usize = texts.iter().map(String::len).sum();
    let array: ArrayRef = Arc::new(StringArray::from_iter_values(&texts));
    let udfs = Sentiment::new(None).unwrap().udfs();
    let udf = |name: &str| udfs.iter().find(|u| u.name() == name).unwrap().clone();

    let mut group = c.benchmark_group("sentiment");
    group.sample_size(10);
    group.throughput(Throughput::Elements(texts.len() as u64));
    let vader = Analyzer::vader();
    group.bench_function("vader_compound", |b| {
        let mut scratch = Scratch::default();
        b.iter(|| {
            let mut sum = 0.0;
            for t in &texts {
                sum += vader.compound(t, &mut scratch);
            }
            black_box(sum)
        })
    });
    for name in [
        "sentiment",
        "sentiment_scores",
        "sentiment_label",
        "cx_sentiment",
    ] {
        let f = udf(name);
        group.bench_function(format!("udf_{name}"), |b| {
            b.iter(|| black_box(invoke(&f, &array)))
        });
    }
    // The customer-care mode without its learned layer: what the layer costs.
    let lexicon_only = UserLexicon::parse("care_model = false", "bench").unwrap();
    let udfs = Sentiment::new(Some(&lexicon_only)).unwrap().udfs();
    let f = udfs.iter().find(|u| u.name() == "cx_sentiment").unwrap();
    group.bench_function("udf_cx_sentiment_lexicon_layer_only", |b| {
        b.iter(|| black_box(invoke(f, &array)))
    });
    group.finish();

    let mut group = c.benchmark_group("sentiment_bytes");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes as u64));
    let f = udf("sentiment");
    group.bench_function("udf_sentiment", |b| {
        b.iter(|| black_box(invoke(&f, &array)))
    });
    group.finish();

    // Moments of truth: one Aho-Corasick pass over each text for every cue.
    let tagger = Tagger::load(None).unwrap();
    let udfs = moments::udf::udfs(&tagger);
    let mut group = c.benchmark_group("moments_bytes");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("tagger_scores", |b| {
        b.iter(|| {
            let mut sum = 0.0;
            for t in &texts {
                sum += tagger.scores(t)[0];
            }
            black_box(sum)
        })
    });
    for f in &udfs {
        group.bench_function(format!("udf_{}", f.name()), |b| {
            b.iter(|| black_box(invoke(f, &array)))
        });
    }
    // The tagger without its learned layer: what the layer costs.
    let taxonomy = moments::Taxonomy::shipped()
        .with(moments::Taxonomy::parse("stage_model = false", "bench").unwrap());
    let udfs = moments::udf::udfs(&Tagger::new(&taxonomy).unwrap());
    let f = udfs.iter().find(|u| u.name() == "moment_of_truth").unwrap();
    group.bench_function("udf_moment_of_truth_taxonomy_only", |b| {
        b.iter(|| black_box(invoke(f, &array)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
