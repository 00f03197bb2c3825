//! meta-graph's store conformance suite against PostgreSQL: every port, each case on
//! its own freshly migrated schema.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use meta_graph::lifecycle::TokenStore;
use meta_graph::messenger::policy::PolicyStore;
use meta_graph::publisher::store::{AccountStore, PublisherStore};
use meta_graph::testing;

use common::with_database;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn token_store_conforms() {
    with_database(|db| async move {
        testing::token_store_suite(|| {
            let db = db.clone();
            async move { Arc::new(db.fresh_store().await) as Arc<dyn TokenStore> }
        })
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn policy_store_conforms() {
    with_database(|db| async move {
        testing::policy_store_suite(|| {
            let db = db.clone();
            async move { Arc::new(db.fresh_store().await) as Arc<dyn PolicyStore> }
        })
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn account_store_conforms() {
    with_database(|db| async move {
        testing::account_store_suite(|| {
            let db = db.clone();
            async move { Arc::new(db.fresh_store().await) as Arc<dyn AccountStore> }
        })
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn publisher_store_conforms() {
    with_database(|db| async move {
        testing::publisher_store_suite(|| {
            let db = db.clone();
            async move { Arc::new(db.fresh_store().await) as Arc<dyn PublisherStore> }
        })
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commerce_store_conforms() {
    with_database(|db| async move {
        meta_commerce::testing::conformance::run_all(|| {
            let db = db.clone();
            async move {
                Arc::new(db.fresh_store().await) as Arc<dyn meta_commerce::store::CommerceStore>
            }
        })
        .await;
    })
    .await;
}

/// The engine-level guarantees (64 concurrent buyers on stock 5, triple delivery, the
/// expiry/payment race) through the real engine on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commerce_engine_scenarios() {
    with_database(|db| async move {
        meta_commerce::testing::pipeline::run_all(|| {
            let db = db.clone();
            async move {
                Arc::new(db.fresh_store().await) as Arc<dyn meta_commerce::store::CommerceStore>
            }
        })
        .await;
    })
    .await;
}
