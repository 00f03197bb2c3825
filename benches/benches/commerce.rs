//! `cargo bench -p meta-benches --bench commerce`: `Engine::process_pending` on the
//! in-memory store — one batch of pending live-sale comments classified, reserved,
//! ordered, audited and enqueued in one transaction — and `Engine::ingest_webhook`
//! (verify, parse, inbox) for one signed delivery.
//!
//! The store has the demo catalog (`benches/data/demo-catalog.csv`) at large stock,
//! 100 lives and 2,000 buyers; the comments come from `meta_commerce::simulate`. The
//! database-backed figures are `commerce_bench`'s (`src/bin/commerce_bench.rs`).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use meta_commerce::engine::{Engine, EngineConfig};
use meta_commerce::memory::InMemoryCommerceStore;
use meta_commerce::store::Shop;
use meta_commerce::{Catalog, Currency};
use meta_core::clock::SystemClock;
use meta_core::webhook::{Verifier, sign};
use secrecy::SecretString;
use serde_json::json;

const CATALOG_CSV: &[u8] = include_bytes!("../data/demo-catalog.csv");
const SECRET: &str = "commerce-criterion-secret";
const PAGE: &str = "100000000000001";
const LIVES: usize = 100;
const BUYERS: usize = 2_000;

fn catalog() -> Catalog {
    let parsed = Catalog::from_csv(CATALOG_CSV).unwrap();
    let products = parsed
        .products()
        .iter()
        .cloned()
        .map(|mut p| {
            p.stock = 1_000_000;
            p
        })
        .collect();
    Catalog::new(products).unwrap()
}

/// `n` comments as signed deliveries of up to 500 changes; comment ids start at `first`.
fn deliveries(catalog: &Catalog, n: usize, first: u64) -> Vec<(Vec<u8>, String)> {
    let secret = SecretString::from(SECRET);
    let texts = meta_commerce::simulate::comments(catalog, n, first);
    let mut rng = fastrand::Rng::with_seed(first);
    let changes: Vec<_> = texts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let buyer = rng.usize(0..BUYERS);
            let post = format!("{PAGE}_{}", 900_000 + buyer % LIVES);
            json!({"field": "feed", "value": {
                "from": {"id": format!("{}", 7_000_000 + buyer), "name": "Camila Rojas"},
                "message": c.text,
                "post_id": post,
                "comment_id": format!("{}_{}", 900_000 + buyer % LIVES, first + i as u64),
                "created_time": 1_750_000_000 + i as u64 / 100,
                "item": "comment",
                "parent_id": post,
                "verb": "add",
            }})
        })
        .collect();
    changes
        .chunks(500)
        .map(|chunk| {
            let body = serde_json::to_vec(&json!({"object": "page", "entry": [{
                "id": PAGE, "time": 1_750_000_000, "changes": chunk,
            }]}))
            .unwrap();
            let sig = sign(&secret, &body);
            (body, sig)
        })
        .collect()
}

async fn engine(catalog: &Catalog, batch: usize) -> Arc<Engine> {
    let engine = Engine::builder(
        Arc::new(InMemoryCommerceStore::new()),
        Arc::new(SystemClock::default()),
    )
    .verifier(Verifier::new(SecretString::from(SECRET)))
    .config(EngineConfig::default().batch_size(batch))
    .build();
    engine
        .put_shop(&Shop::new("shop", "Tienda", PAGE, "CL", Currency::CLP))
        .await
        .unwrap();
    engine.import_catalog("shop", catalog).await.unwrap();
    for j in 0..LIVES {
        engine
            .open_live("shop", &format!("{PAGE}_{}", 900_000 + j), "live")
            .await
            .unwrap();
    }
    // Compile the classifier's catalog index outside the measurement.
    let c = engine.catalog("shop").await.unwrap();
    let _ = engine.classifier().classify("warm up", &c).await;
    engine
}

fn process(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let catalog = catalog();
    let mut group = c.benchmark_group("commerce_memory");
    group.sample_size(20);

    const BATCH: usize = 500;
    group.throughput(Throughput::Elements(BATCH as u64));
    let mut round = 0_u64;
    group.bench_function("process_pending_batch_500", |b| {
        b.iter_batched(
            || {
                // A fresh store holding one batch of pending comments.
                round += 1;
                let bodies = deliveries(&catalog, BATCH, round * 1_000_000);
                rt.block_on(async {
                    let e = engine(&catalog, BATCH).await;
                    for (body, sig) in &bodies {
                        e.ingest_webhook(body, Some(sig)).await.unwrap();
                    }
                    e
                })
            },
            |e| {
                let r = rt.block_on(e.process_pending()).unwrap();
                assert_eq!(r.processed, BATCH);
                black_box(r)
            },
            BatchSize::PerIteration,
        );
    });

    let bodies = deliveries(&catalog, BATCH, 7);
    let e = rt.block_on(engine(&catalog, BATCH));
    group.bench_function("ingest_delivery_500_redelivered", |b| {
        // After the first round every comment is a redelivery: this is verify + parse
        // + the inbox's idempotency check, the floor of an ingest.
        b.iter(|| {
            for (body, sig) in &bodies {
                black_box(rt.block_on(e.ingest_webhook(body, Some(sig))).unwrap());
            }
        });
    });
    group.finish();
}

criterion_group!(benches, process);
criterion_main!(benches);
