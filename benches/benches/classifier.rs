//! `cargo bench -p meta-benches --bench classifier`: the rules classifier on the
//! live-comments dev set (150 comments in es/en/pt), per comment, with the catalog
//! index cached as in production; plus the cost of compiling a catalog's index.
//!
//! The dataset is read from `../shared/datasets/live-comments` (or
//! `META_LIVE_COMMENTS_DIR`).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use meta_commerce::Catalog;
use meta_commerce::classify::RulesClassifier;
use meta_commerce::classify::eval::parse_jsonl;

fn dataset() -> (Catalog, Vec<String>) {
    let dir = std::env::var_os("META_LIVE_COMMENTS_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets/live-comments"),
        PathBuf::from,
    );
    let catalog = std::fs::read(dir.join("catalog.csv"))
        .unwrap_or_else(|e| panic!("catalog.csv in {}: {e}", dir.display()));
    let catalog = Catalog::from_csv(&catalog).unwrap();
    let dev = std::fs::read_to_string(dir.join("dev.jsonl")).unwrap();
    let texts = parse_jsonl(&dev)
        .unwrap()
        .into_iter()
        .map(|c| c.text)
        .collect();
    (catalog, texts)
}

fn classify(c: &mut Criterion) {
    let (catalog, texts) = dataset();
    let rules = RulesClassifier::new();
    rules.warm(&catalog);
    let mut group = c.benchmark_group("rules_classifier");
    group.throughput(Throughput::Elements(texts.len() as u64));
    group.bench_function("dev_set_150_comments", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(rules.classify_sync(black_box(t), &catalog));
            }
        });
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("long_comment", |b| {
        let long = "holaaa chicas!! 😍 quiero la polera roja M y 2 calcetines negros, \
                    no perdón, mejor la L, y también la 7 porfa 🙋‍♀️ hacen envíos a Viña?";
        b.iter(|| black_box(rules.classify_sync(black_box(long), &catalog)));
    });
    group.bench_function("compile_catalog_index", |b| {
        b.iter(|| {
            let fresh = RulesClassifier::new();
            fresh.warm(black_box(&catalog));
            black_box(fresh)
        });
    });
    group.finish();
}

criterion_group!(benches, classify);
criterion_main!(benches);
