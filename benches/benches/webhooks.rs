//! `cargo bench -p meta-benches --bench webhooks`: parsing webhook deliveries of 1 and
//! 1,000 entries into typed events (and verify + parse for the large one).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use meta_core::webhook::{Verifier, sign};
use meta_sandbox::LiveSale;
use meta_sandbox::webhooks::meta_json;
use secrecy::SecretString;
use serde_json::{Value, json};

/// A delivery of `n` entries: live-sale comments (Page `feed`), with every fourth entry
/// a Messenger message instead, serialised the way Meta signs it.
fn delivery(n: usize) -> Vec<u8> {
    let sale = LiveSale::new("448242228374517", 50)
        .comments(n)
        .batch_size(1)
        .start_time(1_742_667_600)
        .seed(1);
    let entries: Vec<Value> = sale
        .batches()
        .into_iter()
        .enumerate()
        .map(|(i, (payload, _))| {
            if i % 4 == 3 {
                let ms = 1_742_667_600_000_u64 + i as u64;
                json!({"id": "448242228374517", "time": ms, "messaging": [{
                    "sender": {"id": "7310224455667788"},
                    "recipient": {"id": "448242228374517"},
                    "timestamp": ms,
                    "message": {"mid": format!("m_{i}"), "text": "quiero 2 de la polera roja M",
                                "quick_reply": {"payload": "SIZE_M"}}
                }]})
            } else {
                payload["entry"][0].clone()
            }
        })
        .collect();
    meta_json(&json!({"object": "page", "entry": entries})).into_bytes()
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("webhook_parse");
    for n in [1_usize, 1000] {
        let body = delivery(n);
        assert_eq!(meta_graph::webhooks::parse(&body).unwrap().len(), n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("entries", n), &body, |b, body| {
            b.iter(|| meta_graph::webhooks::parse(black_box(body)).unwrap());
        });
    }
    let secret = SecretString::from("0123456789abcdef0123456789abcdef".to_owned());
    let verifier = Verifier::new(secret.clone());
    let body = delivery(1000);
    let sig = sign(&secret, &body);
    group.throughput(Throughput::Elements(1000));
    group.bench_function("verify_and_parse/1000", |b| {
        b.iter(|| {
            meta_graph::webhooks::verify_and_parse(&verifier, black_box(&body), black_box(&sig))
                .unwrap()
        });
    });
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
