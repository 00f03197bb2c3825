//! claim_due under contention on SQLite: many tasks sharing one store, and several
//! stores (separate pools, as separate processes would have) on one file. Every due
//! post is claimed exactly once while its lease is live.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use meta_graph::publisher::store::{PostState, PublisherStore};
use meta_graph::testing::{T0, sample_audit, sample_post};
use meta_store_sqlite::{SqliteOptions, SqliteStore};

const HOUR: i64 = 3_600_000;

async fn seed(store: &SqliteStore, n: usize) {
    for i in 0..n {
        // Spread over 50 accounts, due times interleaved, some not due yet.
        let due = T0 - i64::try_from(i % 97).unwrap() * 1000;
        let mut p = sample_post(
            &format!("post-{i:05}"),
            &format!("acct-{}", i % 50),
            Some(due),
        );
        p.state = [PostState::Scheduled, PostState::Preparing, PostState::Ready][i % 3];
        store
            .insert_post(
                &p,
                &sample_audit(&format!("audit-{i:05}"), &p.id, T0, None, p.state),
            )
            .await
            .unwrap();
    }
    // Not claimable: in the future, or in a state a worker must not take.
    let later = sample_post("later", "acct-0", Some(T0 + HOUR));
    store
        .insert_post(
            &later,
            &sample_audit("audit-later", "later", T0, None, later.state),
        )
        .await
        .unwrap();
    let mut armed = sample_post("armed", "acct-0", Some(T0 - HOUR));
    armed.state = PostState::Publishing;
    store
        .insert_post(
            &armed,
            &sample_audit("audit-armed", "armed", T0, None, armed.state),
        )
        .await
        .unwrap();
}

/// Runs `workers` claim loops (each on the store `pick(i)` returns) until nothing is
/// left, and returns who got what.
async fn race(
    stores: Vec<Arc<SqliteStore>>,
    workers: usize,
    batch: u32,
) -> HashMap<String, Vec<String>> {
    let mut tasks = Vec::new();
    for w in 0..workers {
        let store = Arc::clone(&stores[w % stores.len()]);
        tasks.push(tokio::spawn(async move {
            let worker = format!("worker-{w}");
            let mut got = Vec::new();
            loop {
                let claimed = store.claim_due(T0, &worker, HOUR, batch).await.unwrap();
                if claimed.is_empty() {
                    break;
                }
                for p in claimed {
                    assert_eq!(p.lease_owner.as_deref(), Some(worker.as_str()));
                    assert_eq!(p.lease_until, Some(T0 + HOUR));
                    assert_eq!(p.version, 2, "claimed once, bumped once");
                    got.push(p.id);
                }
                tokio::task::yield_now().await;
            }
            (worker, got)
        }));
    }
    let mut by_worker = HashMap::new();
    for t in tasks {
        let (w, got) = t.await.unwrap();
        by_worker.insert(w, got);
    }
    by_worker
}

fn assert_exactly_once(by_worker: &HashMap<String, Vec<String>>, n: usize) {
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for (w, ids) in by_worker {
        for id in ids {
            if let Some(other) = seen.insert(id, w) {
                panic!("{id} claimed by both {other} and {w}");
            }
        }
    }
    assert_eq!(seen.len(), n, "every due post claimed");
    assert!(!seen.contains_key("later") && !seen.contains_key("armed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_tasks_on_one_file_store_claim_each_post_once() {
    let (_dir, store) = common::file_store("claim-file").await;
    seed(&store, 600).await;
    let by_worker = race(vec![Arc::new(store)], 16, 7).await;
    assert_exactly_once(&by_worker, 600);
    assert!(
        by_worker.values().filter(|v| !v.is_empty()).count() > 1,
        "the work was actually shared"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_tasks_on_the_in_memory_store_claim_each_post_once() {
    let store = SqliteStore::in_memory().await.unwrap();
    seed(&store, 300).await;
    let by_worker = race(vec![Arc::new(store)], 12, 5).await;
    assert_exactly_once(&by_worker, 300);
}

/// Separate pools have separate in-process write turns, so only SQLite's own lock
/// (`BEGIN IMMEDIATE` + busy timeout) keeps them apart — as between processes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn separate_pools_on_one_file_claim_each_post_once() {
    let dir = common::TempDir::new("claim-pools");
    let first = SqliteStore::open(dir.db()).await.unwrap();
    seed(&first, 400).await;
    let mut stores = vec![Arc::new(first)];
    for _ in 0..3 {
        stores.push(Arc::new(
            SqliteStore::open_with(dir.db(), SqliteOptions::default().max_connections(3))
                .await
                .unwrap(),
        ));
    }
    let by_worker = race(stores, 12, 9).await;
    assert_exactly_once(&by_worker, 400);
}

#[tokio::test]
async fn claims_come_earliest_due_first_and_leases_expire() {
    let store = SqliteStore::in_memory().await.unwrap();
    for (id, due) in [("c", T0 - 10), ("a", T0 - 30), ("b", T0 - 30), ("d", T0)] {
        let p = sample_post(id, "acct", Some(due));
        store
            .insert_post(&p, &sample_audit(&format!("e-{id}"), id, T0, None, p.state))
            .await
            .unwrap();
    }
    let ids = |v: Vec<meta_graph::publisher::store::PostRecord>| {
        v.into_iter().map(|p| p.id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(store.claim_due(T0, "w1", 1000, 3).await.unwrap()),
        ["a", "b", "c"]
    );
    assert_eq!(
        ids(store.claim_due(T0, "w2", 1000, 3).await.unwrap()),
        ["d"]
    );
    assert!(
        store
            .claim_due(T0 + 999, "w3", 1000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // At expiry every lease is free again; a zero limit claims nothing.
    assert!(
        store
            .claim_due(T0 + 1000, "w3", 1000, 0)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        ids(store.claim_due(T0 + 1000, "w3", 1000, 10).await.unwrap()),
        ["a", "b", "c", "d"]
    );
}
