//! Scale-out: two servers (two routers, two listeners, two store pools, two workers) on
//! ONE PostgreSQL store. 64 buyers race for a SKU with 5 units, their comments spread
//! over both servers (some delivered to both, as a load balancer retry would): exactly
//! 5 units end up reserved, on 5 orders.
//!
//! Needs `META_TEST_DATABASE_URL` (a fresh schema per run, dropped afterwards); prints
//! one skip line without it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use meta_commerce::store::{CommerceStore, InboxStatus, OrderStatus};
use meta_core::clock::{Clock, SystemClock};
use meta_server::{AppState, Server};
use meta_store_postgres::{PgStore, PgStoreOptions};
use secrecy::SecretString;
use sqlx::postgres::PgPoolOptions;
use tokio::sync::oneshot;

const BUYERS: usize = 64;
const STOCK: u32 = 5;

async fn pg_store(url: &str, schema: &str) -> PgStore {
    PgStoreOptions::new(url.to_owned())
        .schema(schema)
        .max_connections(4)
        .connect()
        .await
        .expect("connect to META_TEST_DATABASE_URL")
}

async fn drop_schema(url: &str, schema: &str) {
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .unwrap();
    // The name comes from `fastrand` below: [a-z0-9_] only.
    let sql = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
}

/// Starts one server with its own pool and worker; returns its address and the
/// handle that stops it.
async fn start(
    store: Arc<dyn CommerceStore>,
    clock: Arc<dyn Clock>,
) -> (
    SocketAddr,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), meta_server::ServeError>>,
) {
    let engine = engine(store, clock, None);
    let server = Server::bind(([127, 0, 0, 1], 0).into()).await.unwrap();
    let addr = server.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(server.run(
        AppState::new(engine, SecretString::from(VERIFY_TOKEN)),
        async move {
            let _ = rx.await;
        },
    ));
    (addr, tx, handle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_one_postgres_sell_each_unit_once() {
    let Ok(url) = std::env::var("META_TEST_DATABASE_URL") else {
        println!("skipped: META_TEST_DATABASE_URL is not set (PostgreSQL tests)");
        return;
    };
    let schema = format!("meta_server_test_{:016x}", fastrand::u64(..));
    let outcome = tokio::spawn(race(url.clone(), schema.clone())).await;
    drop_schema(&url, &schema).await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn race(url: String, schema: String) {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::default());
    let store_a: Arc<dyn CommerceStore> = Arc::new(pg_store(&url, &schema).await);
    let store_b: Arc<dyn CommerceStore> = Arc::new(pg_store(&url, &schema).await);
    // The shop, catalog and live are written once; the second instance reads them.
    let live = seed(&engine(store_a.clone(), clock.clone(), None), STOCK).await;

    let (addr_a, stop_a, run_a) = start(store_a.clone(), clock.clone()).await;
    let (addr_b, stop_b, run_b) = start(store_b.clone(), clock.clone()).await;
    let addrs = [addr_a, addr_b];

    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let mut deliveries = tokio::task::JoinSet::new();
    for i in 0..BUYERS {
        let body = comment_body(
            &format!("{POST}_c{i:03}"),
            &format!("buyer-{i:03}"),
            "POL-ROJ-M x 1 porfa",
            now,
        );
        // Every buyer to one server, every fourth also to the other (a redelivery).
        let mut targets = vec![addrs[i % 2]];
        if i % 4 == 0 {
            targets.push(addrs[(i + 1) % 2]);
        }
        for addr in targets {
            let body = body.clone();
            deliveries.spawn(async move {
                let sig = signature(&body);
                http_post(
                    addr,
                    "/webhooks/meta",
                    &[
                        ("X-Hub-Signature-256", &sig),
                        ("Content-Type", "application/json"),
                    ],
                    &body,
                )
                .await
            });
        }
    }
    while let Some(res) = deliveries.join_next().await {
        let (status, text) = res.unwrap();
        assert_eq!(status, 200, "{text}");
    }

    // Both workers drain the inbox; wait (bounded) until nothing is pending.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let counts = store_a.counts(SHOP).await.unwrap();
        let pending = meta_commerce::store::CommerceCounts::get(&counts.inbox, "pending");
        let total: u64 = counts.inbox.iter().map(|(_, n)| n).sum();
        if (pending == 0 && total == BUYERS as u64) || tokio::time::Instant::now() > deadline {
            assert_eq!(
                total, BUYERS as u64,
                "one inbox row per comment: {counts:?}"
            );
            assert_eq!(pending, 0, "the workers drained the inbox: {counts:?}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let stock = store_b.stock(SHOP, SKU).await.unwrap().unwrap();
    assert_eq!(stock.reserved, i64::from(STOCK), "{stock:?}");
    assert_eq!(stock.available, 0, "{stock:?}");
    assert_eq!(stock.sold, 0, "{stock:?}");

    let orders = live_orders(store_a.as_ref(), &live).await;
    let with_sku: Vec<_> = orders.iter().filter(|o| o.qty_of(SKU) > 0).collect();
    assert_eq!(with_sku.len(), STOCK as usize, "{orders:?}");
    assert!(with_sku.iter().all(|o| o.qty_of(SKU) == 1));
    assert!(with_sku.iter().all(|o| o.status == OrderStatus::Open));
    let buyers: HashSet<&str> = with_sku.iter().map(|o| o.buyer_id.as_str()).collect();
    assert_eq!(buyers.len(), STOCK as usize, "one order per winning buyer");
    for i in 0..BUYERS {
        let row = store_b
            .inbox_comment(&format!("{POST}_c{i:03}"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.status, InboxStatus::Processed, "{row:?}");
    }

    stop_a.send(()).unwrap();
    stop_b.send(()).unwrap();
    run_a.await.unwrap().unwrap();
    run_b.await.unwrap().unwrap();
}
