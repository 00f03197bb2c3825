//! The commerce store conformance suite (`meta_commerce::testing::conformance`)
//! against the reference in-memory store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use meta_commerce::memory::InMemoryCommerceStore;
use meta_commerce::store::CommerceStore;
use meta_commerce::testing::conformance;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_memory_store_conforms() {
    conformance::run_all(|| async {
        Arc::new(InMemoryCommerceStore::new()) as Arc<dyn CommerceStore>
    })
    .await;
}

/// Also on a single-threaded runtime: a transaction holding the store must never
/// starve the tasks waiting for it.
#[tokio::test(flavor = "current_thread")]
async fn in_memory_store_conforms_on_one_thread() {
    conformance::run_all(|| async {
        Arc::new(InMemoryCommerceStore::new()) as Arc<dyn CommerceStore>
    })
    .await;
}

/// Clones share one store: a write through one is read through the other.
#[tokio::test]
async fn clones_share_the_data() {
    let a = InMemoryCommerceStore::new();
    let b = a.clone();
    let shop = conformance::sample_shop("shop-1");
    a.put_shop(&shop).await.unwrap();
    assert_eq!(b.shop("shop-1").await.unwrap(), Some(shop));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pipeline_scenarios_on_memory() {
    meta_commerce::testing::pipeline::run_all(|| async {
        std::sync::Arc::new(meta_commerce::memory::InMemoryCommerceStore::new())
            as std::sync::Arc<dyn meta_commerce::store::CommerceStore>
    })
    .await;
}
