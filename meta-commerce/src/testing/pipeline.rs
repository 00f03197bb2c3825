//! Engine-level scenarios every store backend runs through the real [`Engine`]: the
//! issue's concurrency and duplicate guarantees must hold on SQLite and PostgreSQL, not
//! only in memory.
//!
//! - [`concurrent_buyers`]: 64 buyers comment at once for a SKU with stock 5, ingested
//!   and processed by concurrent tasks ⇒ exactly 5 units reserved, 5 orders, 59 waiting.
//! - [`triple_delivery`]: every webhook delivered three times ⇒ one inbox row and one order.
//! - [`expiry_payment_race`]: a payment racing the hold's expiry loses neither money
//!   nor stock.
//!
//! The engine runs with [`ScriptClassifier`] (a deterministic grammar: `buy SKU*N`,
//! `cancel [SKU]`) so these tests are about the store, not language.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

use std::sync::Arc;
use std::time::Duration;

use meta_core::clock::ManualClock;
use meta_core::webhook::Verifier;
use secrecy::SecretString;
use serde_json::json;

use crate::Currency;
use crate::catalog::Catalog;
use crate::classify::{Classification, ClassifyFuture, Intent, IntentClassifier, ItemRequest};
use crate::engine::Engine;
use crate::money::Money;
use crate::payments::{PaymentState, PaymentStatus};
use crate::store::{CommerceStore, OrderFilter, OrderStatus, Shop};

/// The app secret the scenarios sign with.
pub const SECRET: &str = "pipeline-test-secret";
const PAGE: &str = "7000";
const POST: &str = "7000_777";
const T0: u64 = 1_790_000_000;

/// A deterministic classifier: `buy SKU*N SKU`, `cancel [SKU*N]`, anything else other.
#[derive(Debug, Default, Clone, Copy)]
pub struct ScriptClassifier;

impl IntentClassifier for ScriptClassifier {
    fn name(&self) -> &str {
        "script"
    }
    fn classify<'a>(&'a self, text: &'a str, _catalog: &'a Arc<Catalog>) -> ClassifyFuture<'a> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let items: Vec<ItemRequest> = words
            .iter()
            .skip(1)
            .map(|w| match w.split_once('*') {
                Some((s, n)) => ItemRequest::new(s, n.parse().unwrap_or(1)),
                None => ItemRequest::new(*w, 1),
            })
            .collect();
        let c = match words.first().copied() {
            Some("buy") => Classification::new(Intent::Purchase, 0.95, "script").with_items(items),
            Some("cancel") => Classification::new(Intent::Cancel, 0.9, "script").with_items(items),
            _ => Classification::new(Intent::Other, 0.9, "script"),
        };
        Box::pin(async move { Ok(c) })
    }
}

/// A signed delivery of comment changes `(comment id, buyer, text, created unix s)`.
#[must_use]
pub fn signed_delivery(comments: &[(String, String, String, u64)]) -> (Vec<u8>, String) {
    let changes: Vec<serde_json::Value> = comments
        .iter()
        .map(|(id, buyer, text, created)| {
            json!({"field": "feed", "value": {
                "from": {"id": buyer, "name": format!("Buyer {buyer}")},
                "post_id": POST, "comment_id": format!("777_{id}"), "parent_id": POST,
                "created_time": created, "item": "comment", "verb": "add", "message": text
            }})
        })
        .collect();
    let body = serde_json::to_vec(
        &json!({"object": "page", "entry": [{"id": PAGE, "time": T0, "changes": changes}]}),
    )
    .unwrap();
    let sig = meta_core::webhook::sign(&SecretString::from(SECRET), &body);
    (body, sig)
}

async fn engine_on(store: Arc<dyn CommerceStore>, clock: Arc<ManualClock>) -> Arc<Engine> {
    let engine = Engine::builder(store, clock)
        .classifier(Arc::new(ScriptClassifier))
        .verifier(Verifier::new(SecretString::from(SECRET)))
        .build();
    engine
        .put_shop(&Shop::new("shop", "Tienda", PAGE, "CL", Currency::CLP))
        .await
        .unwrap();
    engine
        .import_catalog_csv(
            "shop",
            b"sku,name,aliases,price,currency,stock\nPOL-ROJ-M,Polera roja M,polera roja M|#1,12990,CLP,5\n",
        )
        .await
        .unwrap();
    engine.open_live("shop", POST, "Live").await.unwrap();
    engine
}

/// 64 concurrent buyers, stock 5 ⇒ exactly 5 reserved.
pub async fn concurrent_buyers(store: Arc<dyn CommerceStore>) {
    let engine = engine_on(store.clone(), Arc::new(ManualClock::new(T0))).await;
    let mut tasks = Vec::new();
    for i in 0..64u64 {
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            let (body, sig) = signed_delivery(&[(
                format!("c{i}"),
                format!("b{i}"),
                "buy POL-ROJ-M".into(),
                T0 + i,
            )]);
            engine.ingest_webhook(&body, Some(&sig)).await.unwrap();
            engine.process_pending().await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    engine.tick().await.unwrap();
    let s = store.stock("shop", "POL-ROJ-M").await.unwrap().unwrap();
    assert_eq!(
        (s.available, s.reserved, s.sold),
        (0, 5, 0),
        "exactly the stock is reserved"
    );
    let orders = store.orders(&OrderFilter::default()).await.unwrap();
    assert_eq!(orders.len(), 5, "one order per winning buyer");
    assert!(orders.iter().all(|o| o.qty_of("POL-ROJ-M") == 1));
    // Five different buyers (which five depends on arrival: comments processed in one
    // batch are served by `created_time`, but a comment that has not arrived yet cannot
    // be served before one that has).
    let mut winners: Vec<&str> = orders.iter().map(|o| o.buyer_id.as_str()).collect();
    winners.sort_unstable();
    winners.dedup();
    assert_eq!(winners.len(), 5);
    assert_eq!(store.waitlist_entries("shop").await.unwrap().len(), 59);
}

/// Every delivery three times ⇒ one inbox row per comment and one order.
pub async fn triple_delivery(store: Arc<dyn CommerceStore>) {
    let engine = engine_on(store.clone(), Arc::new(ManualClock::new(T0))).await;
    let (body, sig) = signed_delivery(&[
        ("a".into(), "b1".into(), "buy POL-ROJ-M*2".into(), T0),
        ("b".into(), "b2".into(), "buy POL-ROJ-M".into(), T0 + 1),
    ]);
    let mut handles = Vec::new();
    for _ in 0..3 {
        let (engine, body, sig) = (engine.clone(), body.clone(), sig.clone());
        handles.push(tokio::spawn(async move {
            engine.ingest_webhook(&body, Some(&sig)).await.unwrap();
            engine.process_pending().await.unwrap();
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    engine.tick().await.unwrap();
    let orders = store.orders(&OrderFilter::default()).await.unwrap();
    assert_eq!(orders.len(), 2);
    let s = store.stock("shop", "POL-ROJ-M").await.unwrap().unwrap();
    assert_eq!((s.available, s.reserved), (2, 3));
    let counts = store.counts("shop").await.unwrap();
    assert_eq!(
        crate::store::CommerceCounts::get(&counts.inbox, "processed"),
        2
    );
}

/// Expiry and a late payment race five times (one unit each); the order ends paid (the units were
/// still free) and no unit is lost or doubled.
pub async fn expiry_payment_race(store: Arc<dyn CommerceStore>) {
    let clock = Arc::new(ManualClock::new(T0));
    let engine = engine_on(store.clone(), clock.clone()).await;
    for round in 0..5u64 {
        let (body, sig) = signed_delivery(&[(
            format!("r{round}"),
            format!("rb{round}"),
            "buy POL-ROJ-M".into(),
            T0 + round,
        )]);
        engine.ingest_webhook(&body, Some(&sig)).await.unwrap();
        engine.tick().await.unwrap();
        let order = store
            .orders(&OrderFilter {
                buyer_id: Some(format!("rb{round}")),
                ..OrderFilter::default()
            })
            .await
            .unwrap()
            .remove(0);
        clock.advance(Duration::from_secs(31 * 60));
        let (e, p) = (engine.clone(), engine.clone());
        let id = order.id.clone();
        let total = order.total_minor;
        let expire = tokio::spawn(async move { e.expire_due().await.unwrap() });
        let pay = tokio::spawn(async move {
            let st = PaymentStatus::new(
                "fake",
                &id,
                format!("pay-{id}"),
                PaymentState::Approved,
                Some(Money::new(total, Currency::CLP)),
                "approved",
            );
            p.confirm_payment(&st).await.unwrap()
        });
        expire.await.unwrap();
        let outcome = pay.await.unwrap();
        let o = store.order(&order.id).await.unwrap().unwrap();
        assert_eq!(o.status, OrderStatus::Paid, "round {round}: {outcome:?}");
    }
    let s = store.stock("shop", "POL-ROJ-M").await.unwrap().unwrap();
    assert_eq!(
        (s.available + s.reserved + s.sold, s.sold, s.reserved),
        (5, 5, 0)
    );
}

/// Runs every scenario, each on a fresh store from `make`.
pub async fn run_all<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn CommerceStore>>,
{
    concurrent_buyers(make().await).await;
    triple_delivery(make().await).await;
    expiry_payment_race(make().await).await;
}
