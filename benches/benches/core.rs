//! `cargo bench -p meta-benches`: the figures quoted in the closing notes.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use meta_benches::{Post, THROTTLE_BODY, feed_page, usage_headers};
use meta_core::error::DecodeError;
use meta_core::webhook::{Verifier, sign};
use meta_core::{ApiError, Page, Usage};
use secrecy::SecretString;

fn webhook_verify(c: &mut Criterion) {
    let secret = SecretString::from("0123456789abcdef0123456789abcdef".to_owned());
    let verifier = Verifier::new(secret.clone());
    let mut group = c.benchmark_group("webhook_verify");
    for size in [1024_usize, 64 * 1024, 1024 * 1024] {
        let body: Vec<u8> = (0..size).map(|i| b"{\"entry\":[]} "[i % 13]).collect();
        let sig = sign(&secret, &body);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &body, |b, body| {
            b.iter(|| verifier.verify(black_box(body), black_box(&sig)).unwrap());
        });
    }
    group.finish();
}

fn parse_headers_and_errors(c: &mut Criterion) {
    let headers = usage_headers();
    c.bench_function("usage_headers_all_five", |b| {
        b.iter(|| Usage::from_headers(black_box(&headers)))
    });
    c.bench_function("error_body_parse_classify", |b| {
        b.iter(|| {
            let e = ApiError::from_body(
                Some(http::StatusCode::BAD_REQUEST),
                black_box(THROTTLE_BODY),
                Usage::default(),
            )
            .unwrap();
            black_box(e.kind())
        });
    });
}

fn decode_page(c: &mut Criterion) {
    let body = feed_page(100);
    let mut group = c.benchmark_group("decode_page_100");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("typed", |b| {
        b.iter(|| DecodeError::decode::<Page<Post>>(black_box(&body)).unwrap())
    });
    group.bench_function("value", |b| {
        b.iter(|| DecodeError::decode::<Page<serde_json::Value>>(black_box(&body)).unwrap())
    });
    group.finish();
}

criterion_group!(
    benches,
    webhook_verify,
    parse_headers_and_errors,
    decode_page
);
criterion_main!(benches);
