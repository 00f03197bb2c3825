//! Shared fixtures for the engine tests: a deterministic test classifier (so engine
//! behaviour is tested apart from language understanding), a shop with a small
//! catalog, signed comment webhooks and invariant checks.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use meta_commerce::Currency;
use meta_commerce::catalog::Catalog;
use meta_commerce::classify::{
    Classification, ClassifyFuture, Intent, IntentClassifier, ItemRequest, Lang,
};
use meta_commerce::engine::Engine;
use meta_commerce::store::{CommerceStore, Live, OrderFilter, OrderStatus, Shop};
use meta_core::clock::ManualClock;
use meta_core::webhook::Verifier;
use meta_graph::store::SequentialIds;
use secrecy::SecretString;
use serde_json::json;

pub(crate) const SECRET: &str = "test-app-secret";
pub(crate) const PAGE: &str = "1000";
pub(crate) const POST: &str = "1000_555";
pub(crate) const T0: u64 = 1_790_000_000;

/// `buy SKU*N SKU`, `cancel [SKU*N]`, `maybe SKU|SKU`, `ask …`, anything else → other.
#[derive(Debug, Default)]
pub(crate) struct ScriptClassifier;

fn items(words: &[&str]) -> Vec<ItemRequest> {
    words
        .iter()
        .map(|w| match w.split_once('*') {
            Some((s, n)) => ItemRequest::new(s, n.parse().unwrap_or(1)),
            None => ItemRequest::new(*w, 1),
        })
        .collect()
}

impl IntentClassifier for ScriptClassifier {
    fn name(&self) -> &str {
        "script"
    }
    fn classify<'a>(&'a self, text: &'a str, _catalog: &'a Arc<Catalog>) -> ClassifyFuture<'a> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let c = match words.first().copied() {
            Some("buy") => {
                Classification::new(Intent::Purchase, 0.95, "script").with_items(items(&words[1..]))
            }
            Some("cancel") => {
                Classification::new(Intent::Cancel, 0.9, "script").with_items(items(&words[1..]))
            }
            Some("maybe") => Classification::new(Intent::Purchase, 0.3, "script").with_suggestions(
                words
                    .get(1)
                    .map(|w| w.split('|').map(str::to_owned).collect())
                    .unwrap_or_default(),
            ),
            Some("ask") => Classification::new(Intent::Question, 0.9, "script"),
            _ => Classification::new(Intent::Other, 0.9, "script"),
        }
        .with_lang(Lang::Es);
        Box::pin(async move { Ok(c) })
    }
}

pub(crate) const CATALOG: &str = "sku,name,aliases,price,currency,stock\n\
POL-ROJ-M,Polera roja talla M,polera roja M|#1,12990,CLP,5\n\
POL-ROJ-L,Polera roja talla L,polera roja L|#2,12990,CLP,3\n\
LAB-MATE-05,Labial mate rojo tono 05,labial rojo|#3,189,MXN,10\n\
ZAP-NEG-39,Zapatillas negras 39,zapas negras 39|#4,39990,CLP,0\n";

pub(crate) struct Fixture {
    pub(crate) store: Arc<dyn CommerceStore>,
    pub(crate) engine: Arc<Engine>,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) live: Live,
    pub(crate) verifier: Verifier,
}

pub(crate) async fn fixture_on(store: Arc<dyn CommerceStore>) -> Fixture {
    let clock = Arc::new(ManualClock::new(T0));
    let verifier = Verifier::new(SecretString::from(SECRET));
    let engine = Engine::builder(store.clone(), clock.clone())
        .classifier(Arc::new(ScriptClassifier))
        .ids(Arc::new(SequentialIds::new("id")))
        .verifier(verifier.clone())
        .build();
    engine
        .put_shop(&Shop::new("shop", "Tienda Test", PAGE, "CL", Currency::CLP))
        .await
        .unwrap();
    engine
        .import_catalog_csv("shop", CATALOG.as_bytes())
        .await
        .unwrap();
    let live = engine
        .open_live("shop", POST, "Live de prueba")
        .await
        .unwrap();
    Fixture {
        store,
        engine,
        clock,
        live,
        verifier,
    }
}

pub(crate) async fn fixture() -> Fixture {
    fixture_on(Arc::new(meta_commerce::memory::InMemoryCommerceStore::new())).await
}

/// One comment change.
pub(crate) fn comment(id: &str, buyer: &str, text: &str, created: u64) -> serde_json::Value {
    json!({"field": "feed", "value": {
        "from": {"id": buyer, "name": format!("Buyer {buyer}")},
        "post_id": POST, "comment_id": format!("555_{id}"), "parent_id": POST,
        "created_time": created, "item": "comment", "verb": "add", "message": text
    }})
}

/// A signed delivery of some changes.
pub(crate) fn delivery(changes: &[serde_json::Value]) -> (Vec<u8>, String) {
    let body = serde_json::to_vec(
        &json!({"object": "page", "entry": [{"id": PAGE, "time": T0, "changes": changes}]}),
    )
    .unwrap();
    let sig = meta_core::webhook::sign(&SecretString::from(SECRET), &body);
    (body, sig)
}

impl Fixture {
    pub(crate) async fn say(&self, id: &str, buyer: &str, text: &str) {
        self.say_at(id, buyer, text, T0).await;
    }
    pub(crate) async fn say_at(&self, id: &str, buyer: &str, text: &str, created: u64) {
        let (body, sig) = delivery(&[comment(id, buyer, text, created)]);
        self.engine.ingest_webhook(&body, Some(&sig)).await.unwrap();
    }
    pub(crate) async fn stock(&self, sku: &str) -> (i64, i64, i64) {
        let s = self.store.stock("shop", sku).await.unwrap().unwrap();
        (s.available, s.reserved, s.sold)
    }
    pub(crate) fn advance(&self, d: Duration) {
        self.clock.advance(d);
    }
    pub(crate) async fn orders_of(&self, buyer: &str) -> Vec<meta_commerce::store::Order> {
        self.store
            .orders(&OrderFilter {
                buyer_id: Some(buyer.into()),
                ..Default::default()
            })
            .await
            .unwrap()
    }
    /// Stock invariants against the orders: reserved = open lines, sold = paid lines,
    /// nothing negative, nothing created or lost (`declared` = imported + restocked).
    pub(crate) async fn check_invariants(&self, declared: &HashMap<String, i64>) {
        let orders = self.store.orders(&OrderFilter::default()).await.unwrap();
        for p in self.store.products("shop").await.unwrap() {
            let s = &p.stock;
            assert!(s.available >= 0 && s.reserved >= 0 && s.sold >= 0, "{s:?}");
            let open: i64 = orders
                .iter()
                .filter(|o| o.status == OrderStatus::Open)
                .map(|o| i64::from(o.qty_of(&s.sku)))
                .sum();
            let paid: i64 = orders
                .iter()
                .filter(|o| o.status == OrderStatus::Paid)
                .map(|o| i64::from(o.qty_of(&s.sku)))
                .sum();
            assert_eq!(s.reserved, open, "reserved {} vs open lines", s.sku);
            assert_eq!(s.sold, paid, "sold {} vs paid lines", s.sku);
            let total = declared.get(&s.sku).copied().unwrap_or(0);
            assert_eq!(
                s.available + s.reserved + s.sold,
                total,
                "units of {} created or lost",
                s.sku
            );
            assert!(s.sold <= total, "oversold {}", s.sku);
        }
    }
}

pub(crate) fn declared() -> HashMap<String, i64> {
    [
        ("POL-ROJ-M", 5),
        ("POL-ROJ-L", 3),
        ("LAB-MATE-05", 10),
        ("ZAP-NEG-39", 0),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}
