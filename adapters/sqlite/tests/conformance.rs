//! meta-graph's store conformance suite (`meta_graph::testing`) against the SQLite
//! store: once on fresh database files, once in memory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use meta_graph::lifecycle::TokenStore;
use meta_graph::messenger::policy::PolicyStore;
use meta_graph::publisher::store::{AccountStore, PublisherStore};
use meta_graph::testing;
use meta_store_sqlite::SqliteStore;

/// Fresh database files inside one directory that is removed when the test ends.
struct Files {
    dir: common::TempDir,
    n: AtomicU64,
}

impl Files {
    fn new(tag: &str) -> Self {
        Files {
            dir: common::TempDir::new(tag),
            n: AtomicU64::new(0),
        }
    }
    fn next(&self) -> PathBuf {
        let n = self.n.fetch_add(1, Ordering::Relaxed);
        self.dir.path().join(format!("case-{n}.db"))
    }
    async fn store(&self) -> Arc<SqliteStore> {
        Arc::new(SqliteStore::open(self.next()).await.unwrap())
    }
}

async fn memory() -> Arc<SqliteStore> {
    Arc::new(SqliteStore::in_memory().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn token_store_conforms_on_file() {
    let files = Files::new("conf-tokens");
    testing::token_store_suite(|| async { files.store().await as Arc<dyn TokenStore> }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn token_store_conforms_in_memory() {
    testing::token_store_suite(|| async { memory().await as Arc<dyn TokenStore> }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn policy_store_conforms_on_file() {
    let files = Files::new("conf-policy");
    testing::policy_store_suite(|| async { files.store().await as Arc<dyn PolicyStore> }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn policy_store_conforms_in_memory() {
    testing::policy_store_suite(|| async { memory().await as Arc<dyn PolicyStore> }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn account_store_conforms_on_file() {
    let files = Files::new("conf-accounts");
    testing::account_store_suite(|| async { files.store().await as Arc<dyn AccountStore> }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn account_store_conforms_in_memory() {
    testing::account_store_suite(|| async { memory().await as Arc<dyn AccountStore> }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn publisher_store_conforms_on_file() {
    let files = Files::new("conf-publisher");
    testing::publisher_store_suite(|| async { files.store().await as Arc<dyn PublisherStore> })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn publisher_store_conforms_in_memory() {
    testing::publisher_store_suite(|| async { memory().await as Arc<dyn PublisherStore> }).await;
}
