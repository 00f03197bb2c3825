//! The commerce store (`meta_commerce::store::CommerceStore`) on PostgreSQL: every
//! method of the contract, the database-enforced guarantees (one open order per
//! live/buyer/currency, stock never negative, the append-only audit log), and what
//! only a real server shows: concurrent claimers, concurrent transactions taking the
//! same backlog, and reservations racing on one SKU from one pool and from two
//! instances. Each test runs on its own fresh schema; all skip with one line when
//! `META_TEST_DATABASE_URL` is unset.
//!
//! The batch timing test prints how long a pipeline-sized transaction takes; run it
//! in release for meaningful figures:
//! `cargo test --release -p meta-store-postgres --test commerce batch_timing -- --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use meta_commerce::catalog::Product;
use meta_commerce::money::{Currency, Money};
use meta_commerce::store::{
    AuditRecord, Buyer, CommerceCounts, CommerceStore, InboxComment, InboxStatus, Live, LiveState,
    LogFilter, Order, OrderFilter, OrderLine, OrderStatus, OutboxMessage, OutboxStatus,
    OutboxUpdate, PaymentLinkRecord, Shop, StockLevel, StoreError, WaitEntry,
};
use meta_store_postgres::PgStore;
use serde_json::json;

use common::{random_schema, with_database};

const T0: i64 = 1_760_000_000_000;
const MIN: i64 = 60_000;
const SHOP: &str = "shop-1";
const LIVE: &str = "live-1";
const POST: &str = "page_1";

// ---- sample records (the non-exhaustive ones are built through their serde shape) ----

fn comment(id: &str, buyer: &str, created: i64) -> InboxComment {
    serde_json::from_value(json!({
        "comment_id": id, "shop_id": SHOP, "live_id": LIVE, "post_id": POST,
        "buyer_id": buyer, "buyer_name": format!("name of {buyer}"), "text": "quiero 2 #7",
        "created_time_ms": created, "received_at_ms": created + 150,
        "status": "pending", "detail": null,
    }))
    .unwrap()
}

fn message(id: &str, buyer: &str, dedupe: &str, created: i64) -> OutboxMessage {
    serde_json::from_value(json!({
        "id": id, "shop_id": SHOP, "live_id": LIVE, "buyer_id": buyer,
        "kind": "private_reply", "comment_id": format!("c-{id}"), "order_id": null,
        "text": "Reservado: {payment_link}", "dedupe_key": dedupe, "status": "pending",
        "attempts": 0, "next_attempt_at_ms": created, "origin_received_at_ms": created - 100,
        "created_at_ms": created, "finished_at_ms": null, "detail": null,
        "lease_owner": null, "lease_until_ms": null,
    }))
    .unwrap()
}

fn audit(id: &str, buyer: Option<&str>, at: i64) -> AuditRecord {
    serde_json::from_value(json!({
        "id": id, "at_ms": at, "shop_id": SHOP, "live_id": LIVE, "comment_id": format!("c-{id}"),
        "order_id": null, "buyer_id": buyer, "action": "reserved", "classifier": "rules",
        "intent": "purchase", "confidence": 0.875, "items": "[{\"sku\":\"POL-ROJ-M\",\"qty\":2}]",
        "detail": "reserved 2 units",
    }))
    .unwrap()
}

fn wait_entry(id: &str, sku: &str, buyer: &str, created: i64) -> WaitEntry {
    serde_json::from_value(json!({
        "id": id, "shop_id": SHOP, "live_id": LIVE, "sku": sku, "buyer_id": buyer,
        "qty": 1, "comment_id": format!("c-{id}"), "created_time_ms": created,
    }))
    .unwrap()
}

fn product(sku: &str, stock: u32, lot: Option<u32>) -> Product {
    let p = Product::new(
        sku,
        format!("Product {sku}"),
        Money::new(9_990, Currency::CLP),
        stock,
    )
    .with_aliases([format!("{sku} alias"), "polera".to_owned()]);
    match lot {
        Some(l) => p.with_lot(l),
        None => p,
    }
}

fn order(id: &str, buyer: &str, created: i64, lines: &[(&str, u32)]) -> Order {
    let mut o = Order::new(
        id,
        SHOP,
        LIVE,
        buyer,
        Currency::CLP,
        created,
        created + 30 * MIN,
    );
    o.lines = lines
        .iter()
        .map(|(sku, qty)| OrderLine {
            sku: (*sku).to_owned(),
            name: format!("Product {sku}"),
            qty: *qty,
            unit_price_minor: 9_990,
        })
        .collect();
    o.recompute_total();
    o
}

fn stock(sku: &str, available: i64, reserved: i64, sold: i64) -> StockLevel {
    StockLevel {
        shop_id: SHOP.to_owned(),
        sku: sku.to_owned(),
        available,
        reserved,
        sold,
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// A filter (the filter structs are non-exhaustive: built by mutation).
fn filter<T: Default>(f: impl FnOnce(&mut T)) -> T {
    let mut l = T::default();
    f(&mut l);
    l
}

fn log_filter(f: impl FnOnce(&mut LogFilter)) -> LogFilter {
    filter(f)
}

async fn seed_shop(store: &PgStore) {
    let mut shop = Shop::new(SHOP, "Tienda", "page", "CL", Currency::CLP);
    shop.gateways = strings(&["flow", "mercadopago"]);
    store.put_shop(&shop).await.unwrap();
    store
        .put_live(&Live::new(LIVE, SHOP, POST, "Live", T0))
        .await
        .unwrap();
}

// ---- shops, lives, catalog ----

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shops_and_lives_round_trip() {
    with_database(|db| async move {
        let store = db.fresh_store().await;
        let mut shop = Shop::new(SHOP, "Tienda", "page-9", "CL", Currency::CLP);
        shop.min_confidence = 0.6;
        shop.max_qty_per_item = 7;
        shop.gateways = strings(&["flow", "khipu"]);
        store.put_shop(&shop).await.unwrap();
        assert_eq!(store.shop(SHOP).await.unwrap(), Some(shop.clone()));
        assert_eq!(store.shop("nope").await.unwrap(), None);

        // Insert or replace, the kill switch included.
        shop.name = "Tienda 2".into();
        shop.kill_switch = true;
        store.put_shop(&shop).await.unwrap();
        let mut other = Shop::new("shop-0", "Otra", "page-0", "MX", Currency::MXN);
        other.hold_ms = 5 * MIN;
        store.put_shop(&other).await.unwrap();
        assert_eq!(store.shops().await.unwrap(), vec![other, shop.clone()]);

        store.set_shop_kill_switch(SHOP, false).await.unwrap();
        assert!(!store.shop(SHOP).await.unwrap().unwrap().kill_switch);
        let err = store.set_shop_kill_switch("nope", true).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");

        let old = Live::new("live-old", SHOP, "page_old", "Old", T0 - 60 * MIN);
        let mut new = Live::new(LIVE, SHOP, POST, "New", T0);
        store.put_live(&old).await.unwrap();
        store.put_live(&new).await.unwrap();
        new.state = LiveState::Closed;
        new.title = "New (closed)".into();
        store.put_live(&new).await.unwrap();
        assert_eq!(store.live(LIVE).await.unwrap(), Some(new.clone()));
        assert_eq!(
            store.live_by_post("page_old").await.unwrap(),
            Some(old.clone())
        );
        assert_eq!(store.live_by_post("page_x").await.unwrap(), None);
        assert_eq!(store.lives(SHOP).await.unwrap(), vec![new, old]);
        store.set_live_kill_switch("live-old", true).await.unwrap();
        assert!(store.live("live-old").await.unwrap().unwrap().kill_switch);
        let err = store.set_live_kill_switch("nope", true).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");

        // A second live on the same post is a unique violation.
        let dup = Live::new("live-dup", SHOP, POST, "Dup", T0);
        let err = store.put_live(&dup).await.unwrap_err();
        assert!(err.is_conflict(), "{err:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn import_keeps_reserved_and_sold_units() {
    with_database(|db| async move {
        let store = db.fresh_store().await;
        seed_shop(&store).await;
        store
            .import_products(
                SHOP,
                &[
                    product("POL-ROJ-M", 10, Some(7)),
                    product("ZAP-NEG-40", 3, None),
                    product("POL-AZU-S", 4, Some(2)),
                    product("ABR-GRI-L", 1, None),
                ],
            )
            .await
            .unwrap();
        let skus: Vec<String> = store
            .products(SHOP)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.product.sku)
            .collect();
        // Lot order, products without a lot last (by SKU).
        assert_eq!(skus, ["POL-AZU-S", "POL-ROJ-M", "ABR-GRI-L", "ZAP-NEG-40"]);
        assert_eq!(
            store.stock(SHOP, "POL-ROJ-M").await.unwrap(),
            Some(stock("POL-ROJ-M", 10, 0, 0))
        );
        assert_eq!(store.stock(SHOP, "NOPE").await.unwrap(), None);
        assert_eq!(store.stock("other-shop", "POL-ROJ-M").await.unwrap(), None);

        // Reserve and sell some units, then re-import.
        let mut tx = store.begin().await.unwrap();
        tx.put_stock(&[stock("POL-ROJ-M", 5, 3, 2), stock("POL-AZU-S", 0, 4, 0)])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let renamed = Product::new(
            "POL-ROJ-M",
            "Polera roja M",
            Money::new(12_990, Currency::CLP),
            6,
        )
        .with_aliases(["roja m"]);
        store
            .import_products(SHOP, &[renamed.clone(), product("POL-AZU-S", 2, Some(2))])
            .await
            .unwrap();
        let recs = store.products(SHOP).await.unwrap();
        let roja = recs.iter().find(|r| r.product.sku == "POL-ROJ-M").unwrap();
        assert_eq!(
            roja.product, renamed,
            "name, aliases, lot and price replaced"
        );
        assert_eq!(
            roja.stock,
            stock("POL-ROJ-M", 3, 3, 2),
            "available = 6 - 3 reserved"
        );
        let azul = recs.iter().find(|r| r.product.sku == "POL-AZU-S").unwrap();
        assert_eq!(azul.stock, stock("POL-AZU-S", 0, 4, 0), "never below zero");
        let zap = recs.iter().find(|r| r.product.sku == "ZAP-NEG-40").unwrap();
        assert_eq!(
            zap.product,
            product("ZAP-NEG-40", 3, None),
            "unlisted SKU untouched"
        );
        assert_eq!(zap.stock, stock("ZAP-NEG-40", 3, 0, 0));
    })
    .await;
}

// ---- inbox ----

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn inbox_dedupes_per_row() {
    with_database(|db| async move {
        let store = db.fresh_store().await;
        let a = comment("c-a", "b1", T0 + 2);
        let b = comment("c-b", "b2", T0 + 1);
        let mut a2 = a.clone();
        a2.text = "redelivered with another text".into();
        // The same id twice in one call: first new, second not.
        let got = store
            .insert_inbox(&[a.clone(), b.clone(), a2])
            .await
            .unwrap();
        assert_eq!(got, [true, true, false]);
        let c = comment("c-c", "b3", T0);
        let got = store
            .insert_inbox(&[b.clone(), c.clone(), c.clone()])
            .await
            .unwrap();
        assert_eq!(got, [false, true, false]);
        assert_eq!(store.inbox_comment("c-a").await.unwrap(), Some(a.clone()));
        assert_eq!(store.inbox_comment("nope").await.unwrap(), None);
        assert!(store.insert_inbox(&[]).await.unwrap().is_empty());

        // Pending in created-time order, limited.
        let pending = store.pending_inbox(10).await.unwrap();
        assert_eq!(pending, vec![c.clone(), b.clone(), a.clone()]);
        assert_eq!(store.pending_inbox(2).await.unwrap(), vec![c, b]);

        // A large webhook burst: 1,500 rows with 100 repeats inside.
        let mut burst: Vec<InboxComment> = (0..1_400)
            .map(|i| comment(&format!("burst-{i:05}"), "b9", T0 + 10 + i))
            .collect();
        burst.extend((0..100).map(|i| comment(&format!("burst-{i:05}"), "b9", T0 + 10 + i)));
        let got = store.insert_inbox(&burst).await.unwrap();
        assert_eq!(got.iter().filter(|n| **n).count(), 1_400);
        assert!(got[..1_400].iter().all(|n| *n));
        assert!(got[1_400..].iter().all(|n| !*n));

        let mut tx = store.begin().await.unwrap();
        tx.mark_inbox(&[
            ("c-a".into(), InboxStatus::Processed, None),
            (
                "c-b".into(),
                InboxStatus::Skipped,
                Some("own comment".into()),
            ),
        ])
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let b = store.inbox_comment("c-b").await.unwrap().unwrap();
        assert_eq!(b.status, InboxStatus::Skipped);
        assert_eq!(b.detail.as_deref(), Some("own comment"));
        let pending = store.pending_inbox(5_000).await.unwrap();
        assert_eq!(pending.len(), 1_401);
        assert_eq!(pending[0].comment_id, "c-c");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn take_pending_never_hands_one_comment_to_two_transactions() {
    with_database(|db| async move {
        let store = db.fresh_store().await;
        let rows: Vec<InboxComment> = (0..200)
            .map(|i| comment(&format!("c{i:03}"), "b", T0 + (i * 37) % 200))
            .collect();
        store.insert_inbox(&rows).await.unwrap();
        let ids: Vec<String> = rows.iter().map(|r| r.comment_id.clone()).collect();

        // Transaction 1 takes half; transaction 2, while 1 is open, asks for everything.
        let mut t1 = store.begin().await.unwrap();
        let first = t1.take_pending(&ids[..100]).await.unwrap();
        assert_eq!(first.len(), 100);
        let created: Vec<i64> = first.iter().map(|c| c.created_time_ms).collect();
        assert!(
            created.windows(2).all(|w| w[0] <= w[1]),
            "created-time order"
        );
        let mut t2 = store.begin().await.unwrap();
        let second = t2.take_pending(&ids).await.unwrap();
        assert_eq!(
            second.len(),
            100,
            "the rows t1 holds are skipped, not waited for"
        );
        let a: HashSet<&str> = first.iter().map(|c| c.comment_id.as_str()).collect();
        assert!(second.iter().all(|c| !a.contains(c.comment_id.as_str())));

        // t1 processes its rows; a third transaction finds only the ones t2 holds gone.
        let marks: Vec<(String, InboxStatus, Option<String>)> = first
            .iter()
            .map(|c| (c.comment_id.clone(), InboxStatus::Processed, None))
            .collect();
        t1.mark_inbox(&marks).await.unwrap();
        t1.commit().await.unwrap();
        let mut t3 = store.begin().await.unwrap();
        assert!(t3.take_pending(&ids).await.unwrap().is_empty());
        drop(t3);
        drop(t2);
        // t2 rolled back: its rows are pending again (and unlocked once the pool has
        // flushed the ROLLBACK), t1's are processed.
        let pending: HashSet<String> = store
            .pending_inbox(1_000)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.comment_id)
            .collect();
        let b: HashSet<String> = second.iter().map(|c| c.comment_id.clone()).collect();
        assert_eq!(pending, b);

        // Many concurrent takers over one backlog: every comment taken exactly once.
        let store = Arc::new(store);
        let ids = Arc::new(ids);
        let mut tasks = Vec::new();
        for w in 0..6_usize {
            let store = Arc::clone(&store);
            let ids = Arc::clone(&ids);
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                for turn in 0.. {
                    let mut tx = store.begin().await.unwrap();
                    // Each worker asks for a rotating window of 40 ids.
                    let start = (w * 17 + turn * 40) % ids.len();
                    let want: Vec<String> =
                        ids.iter().cycle().skip(start).take(40).cloned().collect();
                    let got = tx.take_pending(&want).await.unwrap();
                    if got.is_empty() {
                        // Give the connection back before asking (a small pool).
                        drop(tx);
                        let left = store.pending_inbox(1).await.unwrap();
                        if left.is_empty() {
                            break;
                        }
                        continue;
                    }
                    let marks: Vec<_> = got
                        .iter()
                        .map(|c| (c.comment_id.clone(), InboxStatus::Processed, None))
                        .collect();
                    tx.mark_inbox(&marks).await.unwrap();
                    tx.commit().await.unwrap();
                    mine.extend(got.into_iter().map(|c| c.comment_id));
                }
                mine
            }));
        }
        let mut seen: BTreeMap<String, u32> = BTreeMap::new();
        for t in tasks {
            for id in t.await.unwrap() {
                *seen.entry(id).or_default() += 1;
            }
        }
        assert!(seen.values().all(|n| *n == 1), "a comment was taken twice");
        assert_eq!(seen.len(), 100, "the 100 rolled-back comments, each once");
    })
    .await;
}

// ---- stock ----

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lock_stock_is_sorted_and_negative_stock_is_refused() {
    with_database(|db| async move {
        let store = db.fresh_store().await;
        seed_shop(&store).await;
        store
            .import_products(
                SHOP,
                &[
                    product("B-2", 5, None),
                    product("A-1", 5, None),
                    product("C-3", 5, None),
                ],
            )
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        let locked = tx
            .lock_stock(SHOP, &strings(&["C-3", "NOPE", "A-1"]))
            .await
            .unwrap();
        assert_eq!(locked, vec![stock("A-1", 5, 0, 0), stock("C-3", 5, 0, 0)]);
        let err = tx
            .put_stock(&[stock("A-1", 4, 1, 0), stock("C-3", -1, 6, 0)])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
        // Nothing was written, and the transaction is still usable.
        assert_eq!(
            tx.lock_stock(SHOP, &strings(&["A-1"])).await.unwrap(),
            vec![stock("A-1", 5, 0, 0)]
        );
        tx.put_stock(&[stock("A-1", 4, 1, 0)]).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            store.stock(SHOP, "A-1").await.unwrap(),
            Some(stock("A-1", 4, 1, 0))
        );
        assert_eq!(
            store.stock(SHOP, "C-3").await.unwrap(),
            Some(stock("C-3", 5, 0, 0))
        );

        // The CHECK constraint is the backstop for anything that bypasses the check.
        let err = sqlx::query("UPDATE commerce_products SET available = -1 WHERE sku = 'B-2'")
            .execute(store.pool())
            .await
            .unwrap_err();
        let err = meta_store_postgres::PgStoreError::from(err);
        assert_eq!(err.sqlstate(), Some("23514"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dropping_a_transaction_rolls_it_back() {
    with_database(|db| async move {
        let store = db.fresh_store().await;
        seed_shop(&store).await;
        store
            .import_products(SHOP, &[product("A-1", 5, None)])
            .await
            .unwrap();
        store
            .insert_inbox(&[comment("c1", "b1", T0)])
            .await
            .unwrap();
        {
            let mut tx = store.begin().await.unwrap();
            tx.take_pending(&strings(&["c1"])).await.unwrap();
            tx.lock_stock(SHOP, &strings(&["A-1"])).await.unwrap();
            tx.put_stock(&[stock("A-1", 3, 2, 0)]).await.unwrap();
            tx.put_orders(&[order("o1", "b1", T0, &[("A-1", 2)])])
                .await
                .unwrap();
            tx.mark_inbox(&[("c1".into(), InboxStatus::Processed, None)])
                .await
                .unwrap();
            tx.append_audit(&[audit("a1", Some("b1"), T0)])
                .await
                .unwrap();
            tx.enqueue(&[message("m1", "b1", "k1", T0)]).await.unwrap();
            tx.put_buyers(&[Buyer::new(SHOP, "b1", None, T0)])
                .await
                .unwrap();
            tx.put_waitlist(&[wait_entry("w1", "A-1", "b1", T0)])
                .await
                .unwrap();
            // Dropped without commit.
        }
        assert_eq!(
            store.stock(SHOP, "A-1").await.unwrap(),
            Some(stock("A-1", 5, 0, 0))
        );
        assert_eq!(store.order("o1").await.unwrap(), None);
        assert_eq!(store.pending_inbox(10).await.unwrap().len(), 1);
        assert_eq!(store.buyer(SHOP, "b1").await.unwrap(), None);
        assert!(store.waitlist_entries(SHOP).await.unwrap().is_empty());
        let counts = store.counts(SHOP).await.unwrap();
        assert_eq!(counts.audit, 0);
        assert!(counts.outbox.is_empty());
        // The row locks went with it (once the pool flushed the ROLLBACK, which it does
        // as the connection comes back): a new transaction takes the comment.
        let mut taken = 0;
        for _ in 0..200 {
            let mut tx = store.begin().await.unwrap();
            taken = tx.take_pending(&strings(&["c1"])).await.unwrap().len();
            if taken == 1 {
                break;
            }
            drop(tx);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(taken, 1);
    })
    .await;
}

// ---- orders ----

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_round_trip_with_lines() {
    with_database(|db| async move {
        let store = db.fresh_store().await;
        let mut o1 = order("o1", "b1", T0, &[("A-1", 2), ("B-2", 1)]);
        let o2 = order("o2", "b2", T0 + 1, &[("A-1", 1)]);
        let mut o3 = order("o3", "b1", T0 + 2, &[("C-3", 1)]);
        o3.live_id = "live-2".into();
        o3.hold_expires_at_ms = T0 + 5 * MIN;
        let mut tx = store.begin().await.unwrap();
        tx.put_orders(&[o1.clone(), o2.clone(), o3.clone()])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.order("o1").await.unwrap(), Some(o1.clone()));
        assert_eq!(store.order("nope").await.unwrap(), None);

        // Filters AND together; creation order; limit 0 = all.
        let all = store.orders(&OrderFilter::default()).await.unwrap();
        assert_eq!(all, vec![o1.clone(), o2.clone(), o3.clone()]);
        let mut f: OrderFilter = filter(|f: &mut OrderFilter| f.buyer_id = Some("b1".into()));
        assert_eq!(
            store.orders(&f).await.unwrap(),
            vec![o1.clone(), o3.clone()]
        );
        f.live_id = Some(LIVE.into());
        assert_eq!(store.orders(&f).await.unwrap(), vec![o1.clone()]);
        let f: OrderFilter = filter(|f: &mut OrderFilter| {
            f.shop_id = Some(SHOP.into());
            f.status = Some(OrderStatus::Open);
            f.limit = 2;
        });
        assert_eq!(
            store.orders(&f).await.unwrap(),
            vec![o1.clone(), o2.clone()]
        );

        // Holds: o3 ends first.
        assert_eq!(
            store.due_expiries(T0 + 31 * MIN, 10).await.unwrap(),
            strings(&["o3", "o1", "o2"])
        );
        assert_eq!(
            store.due_expiries(T0 + 10 * MIN, 10).await.unwrap(),
            strings(&["o3"])
        );
        assert_eq!(
            store.due_expiries(T0 + 31 * MIN, 1).await.unwrap(),
            strings(&["o3"])
        );
        let due = store.due_reminders(T0 + 31 * MIN, 10).await.unwrap();
        assert_eq!(due, vec![o3.clone(), o1.clone(), o2.clone()]);

        // Payment links apply to the version they charge for only.
        let link = PaymentLinkRecord {
            gateway: "flow".into(),
            url: "https://pay.example/o1".into(),
            provider_ref: "fl_1".into(),
            for_version: 1,
        };
        store.set_payment_link("o1", &link).await.unwrap();
        let stale = PaymentLinkRecord {
            for_version: 0,
            url: "https://pay.example/stale".into(),
            ..link.clone()
        };
        store.set_payment_link("o1", &stale).await.unwrap();
        store.set_payment_link("nope", &link).await.unwrap();
        o1.payment = Some(link);
        assert_eq!(store.order("o1").await.unwrap(), Some(o1.clone()));

        // Lock, change (lines replaced, fewer of them), write back.
        let mut tx = store.begin().await.unwrap();
        let locked = tx
            .lock_orders(&strings(&["o3", "o1", "nope"]))
            .await
            .unwrap();
        assert_eq!(locked, vec![o1.clone(), o3.clone()]);
        let open = tx
            .open_orders(&[
                (LIVE.to_owned(), "b1".to_owned()),
                (LIVE.to_owned(), "b1".to_owned()),
                ("live-2".to_owned(), "b1".to_owned()),
                (LIVE.to_owned(), "nobody".to_owned()),
            ])
            .await
            .unwrap();
        assert_eq!(open, vec![o1.clone(), o3.clone()]);
        o1.lines.remove(0);
        o1.recompute_total();
        o1.version = 2;
        o1.reminded = true;
        o1.note = Some("edited".into());
        o3.status = OrderStatus::Paid;
        o3.paid_ref = Some("pay_3".into());
        o3.paid_at_ms = Some(T0 + 3 * MIN);
        tx.put_orders(&[o1.clone(), o3.clone()]).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.order("o1").await.unwrap(), Some(o1.clone()));
        assert_eq!(store.order("o3").await.unwrap(), Some(o3.clone()));
        // Paid orders are not open: no expiry, no reminder, not in open_orders.
        assert_eq!(
            store.due_expiries(T0 + 31 * MIN, 10).await.unwrap(),
            strings(&["o1", "o2"])
        );
        assert_eq!(
            store.due_reminders(T0 + 31 * MIN, 10).await.unwrap(),
            vec![o2.clone()]
        );
        let mut tx = store.begin().await.unwrap();
        let open = tx
            .open_orders(&[("live-2".to_owned(), "b1".to_owned())])
            .await
            .unwrap();
        assert!(open.is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_second_open_order_is_a_conflict() {
    with_database(|db| async move {
        let store = db.fresh_store().await;
        let mut tx = store.begin().await.unwrap();
        tx.put_orders(&[order("o1", "b1", T0, &[("A-1", 1)])])
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        let err = tx
            .put_orders(&[order("o2", "b1", T0 + 1, &[("B-2", 1)])])
            .await
            .unwrap_err();
        assert!(err.is_conflict(), "{err:?}");
        drop(tx);

        // Another currency, another buyer or another live is fine; so is a new open
        // order written in the same call that closes the old one (whatever the order
        // of the slice).
        let mut usd = order("o3", "b1", T0 + 2, &[("A-1", 1)]);
        usd.currency = Currency::USD;
        let mut tx = store.begin().await.unwrap();
        let mut old = tx.lock_orders(&strings(&["o1"])).await.unwrap().remove(0);
        old.status = OrderStatus::Expired;
        tx.put_orders(&[
            usd,
            order("o4", "b1", T0 + 3, &[("A-1", 1)]),
            old,
            order("o5", "b2", T0 + 4, &[("A-1", 1)]),
        ])
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let f: OrderFilter = filter(|f: &mut OrderFilter| f.status = Some(OrderStatus::Open));
        let open: Vec<String> = store
            .orders(&f)
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.id)
            .collect();
        assert_eq!(open, strings(&["o3", "o4", "o5"]));

        // Two transactions racing to open the same cart: one wins, one gets Conflict.
        let mut a = store.begin().await.unwrap();
        let mut b = store.begin().await.unwrap();
        a.put_orders(&[order("race-a", "b9", T0, &[("A-1", 1)])])
            .await
            .unwrap();
        let store = Arc::new(store);
        let racer = tokio::spawn(async move {
            b.put_orders(&[order("race-b", "b9", T0, &[("A-1", 1)])])
                .await
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        a.commit().await.unwrap();
        let err = racer.await.unwrap().unwrap_err();
        assert!(err.is_conflict(), "{err:?}");
        assert!(store.order("race-a").await.unwrap().is_some());
        assert!(store.order("race-b").await.unwrap().is_none());

        // A line with no units is refused by the CHECK constraint: Invalid.
        let mut tx = store.begin().await.unwrap();
        let err = tx
            .put_orders(&[order("o6", "b6", T0, &[("A-1", 0)])])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deadlock_is_a_conflict() {
    with_database(|db| async move {
        let store = Arc::new(db.fresh_store().await);
        seed_shop(&store).await;
        store
            .import_products(SHOP, &[product("A-1", 5, None), product("B-2", 5, None)])
            .await
            .unwrap();
        // Locking in opposite orders (which the engine never does: lock_stock sorts)
        // makes PostgreSQL abort one of the two with 40P01.
        let mut t1 = store.begin().await.unwrap();
        let mut t2 = store.begin().await.unwrap();
        t1.lock_stock(SHOP, &strings(&["A-1"])).await.unwrap();
        t2.lock_stock(SHOP, &strings(&["B-2"])).await.unwrap();
        let h1 = tokio::spawn(async move {
            let r = t1.lock_stock(SHOP, &strings(&["B-2"])).await.map(|_| ());
            drop(t1);
            r
        });
        let h2 = tokio::spawn(async move {
            let r = t2.lock_stock(SHOP, &strings(&["A-1"])).await.map(|_| ());
            drop(t2);
            r
        });
        let results = [h1.await.unwrap(), h2.await.unwrap()];
        let conflicts = results
            .iter()
            .filter(|r| matches!(r, Err(e) if e.is_conflict()))
            .count();
        assert_eq!(conflicts, 1, "{results:?}");
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    })
    .await;
}

// ---- waitlist and buyers ----

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn waitlist_and_buyers() {
    with_database(|db| async move {
        let store = db.fresh_store().await;
        let w1 = wait_entry("w1", "A-1", "b1", T0 + 5);
        let w2 = wait_entry("w2", "A-1", "b2", T0 + 1);
        let w3 = wait_entry("w3", "B-2", "b1", T0 + 3);
        let mut w0 = wait_entry("w0", "A-1", "b3", T0 + 5);
        let mut tx = store.begin().await.unwrap();
        tx.put_waitlist(&[w1.clone(), w2.clone(), w3.clone(), w0.clone()])
            .await
            .unwrap();
        // Queue order: created time, then id.
        assert_eq!(
            tx.waitlist(SHOP, &strings(&["A-1"])).await.unwrap(),
            vec![w2.clone(), w0.clone(), w1.clone()]
        );
        assert!(tx.waitlist(SHOP, &[]).await.unwrap().is_empty());
        w0.qty = 3;
        tx.put_waitlist(&[w0.clone()]).await.unwrap();
        tx.remove_waitlist(&strings(&["w2", "nope"])).await.unwrap();

        let mut ana = Buyer::new(SHOP, "b1", Some("Ana".into()), T0);
        let bea = Buyer::new(SHOP, "b2", None, T0 + 1);
        tx.put_buyers(&[ana.clone(), bea.clone()]).await.unwrap();
        ana.opted_out = true;
        tx.put_buyers(&[ana.clone()]).await.unwrap();
        assert_eq!(
            tx.buyers(SHOP, &strings(&["b2", "b1", "zz"]))
                .await
                .unwrap(),
            vec![ana.clone(), bea.clone()]
        );
        assert!(
            tx.buyers("other", &strings(&["b1"]))
                .await
                .unwrap()
                .is_empty()
        );
        tx.commit().await.unwrap();

        assert_eq!(
            store.waitlist_entries(SHOP).await.unwrap(),
            vec![w3, w0, w1]
        );
        assert_eq!(store.buyer(SHOP, "b1").await.unwrap(), Some(ana));
        assert_eq!(store.buyer(SHOP, "zz").await.unwrap(), None);
        assert_eq!(store.counts(SHOP).await.unwrap().waitlist, 3);
    })
    .await;
}

// ---- outbox ----

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outbox_enqueue_claim_and_finish() {
    with_database(|db| async move {
        let store = db.fresh_store().await;
        let mut later = message("m3", "b1", "k3", T0 + 2);
        later.next_attempt_at_ms = T0 + 10 * MIN;
        let mut tx = store.begin().await.unwrap();
        tx.enqueue(&[
            message("m2", "b2", "k2", T0 + 1),
            message("m1", "b1", "k1", T0),
            later,
            // The same decision again, in the same call: skipped.
            message("m1-again", "b1", "k1", T0),
        ])
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.begin().await.unwrap();
        tx.enqueue(&[message("m2-again", "b2", "k2", T0)])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let all = store.outbox(&LogFilter::default()).await.unwrap();
        let ids: Vec<&str> = all.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["m1", "m2", "m3"]);

        // Claim: due and unleased only, enqueue order, leased to the claimer.
        let got = store.claim_outbox(T0 + MIN, "w1", MIN, 10).await.unwrap();
        let ids: Vec<&str> = got.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["m1", "m2"]);
        assert!(
            got.iter().all(|m| m.lease_owner.as_deref() == Some("w1")
                && m.lease_until_ms == Some(T0 + 2 * MIN))
        );
        assert!(
            store
                .claim_outbox(T0 + MIN, "w2", MIN, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .claim_outbox(T0 + MIN, "w2", MIN, 0)
                .await
                .unwrap()
                .is_empty()
        );
        // At the lease's last millisecond it is still held; after, it can be re-claimed.
        assert!(
            store
                .claim_outbox(T0 + 2 * MIN, "w2", MIN, 10)
                .await
                .unwrap()
                .is_empty()
        );
        let again = store
            .claim_outbox(T0 + 2 * MIN + 1, "w2", MIN, 1)
            .await
            .unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].id, "m1");
        assert_eq!(again[0].lease_owner.as_deref(), Some("w2"));

        // Finish: sent.
        store
            .finish_outbox(
                "m1",
                T0 + 3 * MIN,
                &OutboxUpdate::Sent {
                    graph_id: "mid.1".into(),
                },
            )
            .await
            .unwrap();
        let m1 = &store
            .outbox(&log_filter(|f| f.comment_id = Some("c-m1".into())))
            .await
            .unwrap()[0];
        assert_eq!(m1.status, OutboxStatus::Sent);
        assert_eq!(m1.attempts, 1);
        assert_eq!(m1.finished_at_ms, Some(T0 + 3 * MIN));
        assert_eq!(m1.detail.as_deref(), Some("mid.1"));
        assert_eq!((m1.lease_owner.as_deref(), m1.lease_until_ms), (None, None));

        // Failed with a retry: stays pending, attempts + 1, due later, lease cleared.
        store
            .finish_outbox(
                "m2",
                T0 + 3 * MIN,
                &OutboxUpdate::Failed {
                    reason: "HTTP 500".into(),
                    retry_at_ms: Some(T0 + 20 * MIN),
                },
            )
            .await
            .unwrap();
        let m2 = &store
            .outbox(&log_filter(|f| f.buyer_id = Some("b2".into())))
            .await
            .unwrap()[0];
        assert_eq!(m2.status, OutboxStatus::Pending);
        assert_eq!(m2.attempts, 1);
        assert_eq!(m2.next_attempt_at_ms, T0 + 20 * MIN);
        assert_eq!(m2.finished_at_ms, None);
        assert_eq!(m2.detail.as_deref(), Some("HTTP 500"));
        assert_eq!(m2.lease_owner, None);
        let due: Vec<String> = store
            .claim_outbox(T0 + 20 * MIN, "w3", MIN, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(due, strings(&["m2", "m3"]));

        // Failed for good, and suppressed.
        store
            .finish_outbox(
                "m2",
                T0 + 21 * MIN,
                &OutboxUpdate::Failed {
                    reason: "window closed".into(),
                    retry_at_ms: None,
                },
            )
            .await
            .unwrap();
        store
            .finish_outbox(
                "m3",
                T0 + 21 * MIN,
                &OutboxUpdate::Suppressed {
                    reason: "kill switch".into(),
                },
            )
            .await
            .unwrap();
        let all = store.outbox(&LogFilter::default()).await.unwrap();
        assert_eq!(all[1].status, OutboxStatus::Failed);
        assert_eq!(all[1].attempts, 2);
        assert_eq!(all[1].finished_at_ms, Some(T0 + 21 * MIN));
        assert_eq!(all[2].status, OutboxStatus::Suppressed);
        assert_eq!(all[2].attempts, 0, "suppressing is not an attempt");
        assert_eq!(all[2].detail.as_deref(), Some("kill switch"));
        assert!(
            store
                .claim_outbox(T0 + 60 * MIN, "w4", MIN, 10)
                .await
                .unwrap()
                .is_empty()
        );

        let err = store
            .finish_outbox(
                "nope",
                T0,
                &OutboxUpdate::Sent {
                    graph_id: "x".into(),
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");

        // Filters and limit.
        assert_eq!(
            store
                .outbox(&log_filter(|f| f.limit = 2))
                .await
                .unwrap()
                .len(),
            2
        );
        assert!(
            store
                .outbox(&log_filter(|f| f.shop_id = Some("other".into())))
                .await
                .unwrap()
                .is_empty()
        );
        let counts = store.counts(SHOP).await.unwrap();
        assert_eq!(CommerceCounts::get(&counts.outbox, "sent"), 1);
        assert_eq!(CommerceCounts::get(&counts.outbox, "failed"), 1);
        assert_eq!(CommerceCounts::get(&counts.outbox, "suppressed"), 1);
        assert_eq!(CommerceCounts::get(&counts.outbox, "pending"), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_claimers_never_share_a_message() {
    with_database(|db| async move {
        let schema = random_schema();
        let a = Arc::new(db.store_on(&schema).await);
        let b = Arc::new(db.store_on(&schema).await);
        let msgs: Vec<OutboxMessage> = (0..600)
            .map(|i| {
                message(
                    &format!("m{i:04}"),
                    "b",
                    &format!("k{i}"),
                    T0 + (i * 7919) % 600,
                )
            })
            .collect();
        let mut tx = a.begin().await.unwrap();
        tx.enqueue(&msgs).await.unwrap();
        tx.commit().await.unwrap();

        let mut tasks = Vec::new();
        for w in 0..8 {
            let store = if w % 2 == 0 {
                Arc::clone(&a)
            } else {
                Arc::clone(&b)
            };
            tasks.push(tokio::spawn(async move {
                let owner = format!("w{w}");
                let mut mine = Vec::new();
                loop {
                    let got = store
                        .claim_outbox(T0 + MIN, &owner, 10 * MIN, 9)
                        .await
                        .unwrap();
                    if got.is_empty() {
                        break;
                    }
                    let keys: Vec<(i64, &str)> = got
                        .iter()
                        .map(|m| (m.created_at_ms, m.id.as_str()))
                        .collect();
                    assert!(keys.windows(2).all(|k| k[0] <= k[1]), "claim order");
                    assert!(
                        got.iter()
                            .all(|m| m.lease_owner.as_deref() == Some(owner.as_str()))
                    );
                    mine.extend(got.into_iter().map(|m| m.id));
                }
                mine
            }));
        }
        let mut seen: BTreeMap<String, u32> = BTreeMap::new();
        for t in tasks {
            for id in t.await.unwrap() {
                *seen.entry(id).or_default() += 1;
            }
        }
        assert!(
            seen.values().all(|n| *n == 1),
            "a message was claimed twice"
        );
        assert_eq!(seen.len(), 600);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn suppress_pending_and_counts() {
    with_database(|db| async move {
        let store = db.fresh_store().await;
        let mut sent = message("m0", "b1", "k0", T0);
        sent.status = OutboxStatus::Sent;
        sent.finished_at_ms = Some(T0 + 5);
        let mut tx = store.begin().await.unwrap();
        tx.enqueue(&[
            sent,
            message("m1", "b1", "k1", T0 + 1),
            message("m2", "b1", "k2", T0 + 2),
            message("m3", "b2", "k3", T0 + 3),
        ])
        .await
        .unwrap();
        assert_eq!(
            tx.suppress_pending(SHOP, "b1", "opted out").await.unwrap(),
            2
        );
        assert_eq!(
            tx.suppress_pending(SHOP, "b1", "opted out").await.unwrap(),
            0
        );
        tx.append_audit(&[audit("a1", Some("b1"), T0), audit("a2", None, T0 + 1)])
            .await
            .unwrap();
        tx.put_orders(&[order("o1", "b1", T0, &[("A-1", 1)])])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        store
            .insert_inbox(&[comment("c1", "b1", T0), comment("c2", "b2", T0)])
            .await
            .unwrap();

        let m1 = &store
            .outbox(&log_filter(|f| f.comment_id = Some("c-m1".into())))
            .await
            .unwrap()[0];
        assert_eq!(m1.status, OutboxStatus::Suppressed);
        assert_eq!(m1.detail.as_deref(), Some("opted out"));
        assert_eq!(m1.finished_at_ms, Some(T0 + 1));

        let c = store.counts(SHOP).await.unwrap();
        assert_eq!(c.inbox, vec![("pending".to_owned(), 2)]);
        assert_eq!(c.orders, vec![("open".to_owned(), 1)]);
        assert_eq!(
            c.outbox,
            vec![
                ("pending".to_owned(), 1),
                ("sent".to_owned(), 1),
                ("suppressed".to_owned(), 2)
            ]
        );
        assert_eq!((c.waitlist, c.audit), (0, 2));
        assert_eq!(
            store.counts("other").await.unwrap(),
            CommerceCounts::default()
        );
    })
    .await;
}

// ---- audit and data deletion ----

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn audit_is_append_only_but_anonymize_passes() {
    with_database(|db| async move {
        let store = db.fresh_store().await;
        seed_shop(&store).await;
        let rows = vec![
            audit("a2", Some("b1"), T0 + 1),
            audit("a1", Some("b1"), T0 + 1),
            audit("a3", Some("b2"), T0),
        ];
        let mut tx = store.begin().await.unwrap();
        tx.append_audit(&rows).await.unwrap();
        tx.put_buyers(&[Buyer::new(SHOP, "b1", Some("Ana".into()), T0)])
            .await
            .unwrap();
        let mut o = order("o1", "b1", T0, &[("A-1", 2)]);
        o.status = OrderStatus::Paid;
        tx.put_orders(&[o.clone()]).await.unwrap();
        tx.put_waitlist(&[wait_entry("w1", "A-1", "b1", T0)])
            .await
            .unwrap();
        let mut sent = message("m0", "b1", "k0", T0);
        sent.status = OutboxStatus::Sent;
        tx.enqueue(&[sent, message("m1", "b1", "k1", T0)])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        store
            .insert_inbox(&[comment("c1", "b1", T0), comment("c2", "b2", T0)])
            .await
            .unwrap();

        let all = store.audit(&LogFilter::default()).await.unwrap();
        let ids: Vec<&str> = all.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["a3", "a1", "a2"], "time order, then id");
        assert_eq!(all[1], rows[1]);
        assert_eq!(
            store
                .audit(&log_filter(|f| f.buyer_id = Some("b1".into())))
                .await
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            store
                .audit(&log_filter(|f| {
                    f.comment_id = Some("c-a3".into());
                    f.limit = 1
                }))
                .await
                .unwrap(),
            vec![rows[2].clone()]
        );

        // Raw SQL cannot rewrite history, not even the buyer id outside a deletion.
        for sql in [
            "UPDATE commerce_audit SET detail = 'rewritten'",
            "UPDATE commerce_audit SET buyer_id = 'someone-else'",
            "DELETE FROM commerce_audit",
            "TRUNCATE commerce_audit",
        ] {
            let err = sqlx::query(sql).execute(store.pool()).await.unwrap_err();
            let err = meta_store_postgres::PgStoreError::from(err);
            assert!(err.message().contains("append-only"), "{sql}: {err}");
        }
        let mut raw = store.pool().begin().await.unwrap();
        sqlx::query("SELECT set_config('meta_commerce.anonymizing', 'on', true)")
            .execute(&mut *raw)
            .await
            .unwrap();
        let err = sqlx::query("UPDATE commerce_audit SET buyer_id = 'x', detail = 'also this'")
            .execute(&mut *raw)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
        drop(raw);

        let mut tx = store.begin().await.unwrap();
        tx.anonymize_buyer(SHOP, "b1", "anon-1").await.unwrap();
        // Later in the same transaction the log is locked again.
        tx.commit().await.unwrap();

        let after = store.audit(&LogFilter::default()).await.unwrap();
        for (a, b) in after.iter().zip(&all) {
            let mut expect = b.clone();
            if expect.buyer_id.as_deref() == Some("b1") {
                expect.buyer_id = Some("anon-1".into());
            }
            assert_eq!(a, &expect, "only the buyer id changed");
        }
        let buyer = store.buyer(SHOP, "anon-1").await.unwrap().unwrap();
        assert_eq!((buyer.name, buyer.anonymized), (None, true));
        assert_eq!(store.buyer(SHOP, "b1").await.unwrap(), None);
        let mut o_after = o.clone();
        o_after.buyer_id = "anon-1".into();
        assert_eq!(
            store.order("o1").await.unwrap(),
            Some(o_after),
            "amounts and status kept"
        );
        assert_eq!(
            store.waitlist_entries(SHOP).await.unwrap()[0].buyer_id,
            "anon-1"
        );
        let c1 = store.inbox_comment("c1").await.unwrap().unwrap();
        assert_eq!(
            (c1.buyer_id.as_str(), c1.buyer_name, c1.text.as_str()),
            ("anon-1", None, "[deleted]")
        );
        let c2 = store.inbox_comment("c2").await.unwrap().unwrap();
        assert_eq!(c2.text, "quiero 2 #7", "other buyers untouched");
        let out = store.outbox(&LogFilter::default()).await.unwrap();
        assert!(
            out.iter()
                .all(|m| m.buyer_id == "anon-1" && m.text == "[deleted]")
        );
        assert_eq!(out[0].status, OutboxStatus::Sent);
        assert_eq!(out[1].status, OutboxStatus::Suppressed);
        assert_eq!(out[1].detail.as_deref(), Some("data deleted"));

        // After the deletion the flag is off again: raw updates are refused as before.
        let err = sqlx::query("UPDATE commerce_audit SET buyer_id = 'b1'")
            .execute(store.pool())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
    })
    .await;
}

// ---- reservations under contention ----

/// begin → lock_stock → reserve one unit if any is free → commit. True if reserved.
async fn reserve_one(store: &PgStore, sku: &str) -> bool {
    let mut tx = store.begin().await.unwrap();
    let locked = tx.lock_stock(SHOP, &[sku.to_owned()]).await.unwrap();
    let s = &locked[0];
    if s.available < 1 {
        return false;
    }
    tx.put_stock(&[stock(sku, s.available - 1, s.reserved + 1, s.sold)])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    true
}

async fn race(stores: &[Arc<PgStore>], tasks: usize) {
    stores[0]
        .import_products(SHOP, &[product("HOT-1", 5, Some(1))])
        .await
        .unwrap();
    let mut handles = Vec::new();
    for i in 0..tasks {
        let store = Arc::clone(&stores[i % stores.len()]);
        handles.push(tokio::spawn(
            async move { reserve_one(&store, "HOT-1").await },
        ));
    }
    let mut won = 0;
    for h in handles {
        if h.await.unwrap() {
            won += 1;
        }
    }
    assert_eq!(won, 5);
    assert_eq!(
        stores[0].stock(SHOP, "HOT-1").await.unwrap(),
        Some(stock("HOT-1", 0, 5, 0))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_reservations_never_oversell() {
    with_database(|db| async move {
        let store = Arc::new(db.fresh_store().await);
        race(&[store], 64).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_never_oversell() {
    with_database(|db| async move {
        let schema = random_schema();
        let a = Arc::new(db.store_on(&schema).await);
        let b = Arc::new(db.store_on(&schema).await);
        race(&[a, b], 64).await;
    })
    .await;
}

// ---- a pipeline-sized batch ----

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batch_timing() {
    with_database(|db| async move {
        let store = db.fresh_store().await;
        seed_shop(&store).await;
        let skus: Vec<String> = (0..30).map(|i| format!("SKU-{i:02}")).collect();
        let products: Vec<Product> = skus.iter().map(|s| product(s, 1_000_000, None)).collect();
        store.import_products(SHOP, &products).await.unwrap();

        let rounds = 6;
        let mut tx_ms = Vec::new();
        let mut inbox_ms = Vec::new();
        for round in 0..rounds {
            let base = T0 + round * 10_000;
            let rows: Vec<InboxComment> = (0..500)
                .map(|i| {
                    comment(
                        &format!("r{round}-c{i:03}"),
                        &format!("r{round}-b{}", i % 200),
                        base + i,
                    )
                })
                .collect();
            let ids: Vec<String> = rows.iter().map(|r| r.comment_id.clone()).collect();

            let started = Instant::now();
            let fresh = store.insert_inbox(&rows).await.unwrap();
            inbox_ms.push(started.elapsed().as_secs_f64() * 1e3);
            assert!(fresh.iter().all(|n| *n));

            let started = Instant::now();
            let mut tx = store.begin().await.unwrap();
            let taken = tx.take_pending(&ids).await.unwrap();
            let mut levels = tx.lock_stock(SHOP, &skus).await.unwrap();
            let keys: Vec<(String, String)> = (0..200)
                .map(|b| (LIVE.to_owned(), format!("r{round}-b{b}")))
                .collect();
            let open = tx.open_orders(&keys).await.unwrap();
            let orders: Vec<Order> = (0..200_i64)
                .map(|b| {
                    let sku_a = &skus[usize::try_from(b).unwrap() % 30];
                    let sku_b = &skus[usize::try_from(b + 7).unwrap() % 30];
                    let lines: Vec<(&str, u32)> = if b % 2 == 0 {
                        vec![(sku_a, 1)]
                    } else {
                        vec![(sku_a, 1), (sku_b, 2)]
                    };
                    order(
                        &format!("r{round}-o{b}"),
                        &format!("r{round}-b{b}"),
                        base + b,
                        &lines,
                    )
                })
                .collect();
            for o in &orders {
                for l in &o.lines {
                    let s = levels.iter_mut().find(|s| s.sku == l.sku).unwrap();
                    s.available -= i64::from(l.qty);
                    s.reserved += i64::from(l.qty);
                }
            }
            tx.put_stock(&levels).await.unwrap();
            tx.put_orders(&orders).await.unwrap();
            let marks: Vec<(String, InboxStatus, Option<String>)> = ids
                .iter()
                .map(|id| (id.clone(), InboxStatus::Processed, None))
                .collect();
            tx.mark_inbox(&marks).await.unwrap();
            let audits: Vec<AuditRecord> = (0..500)
                .map(|i| audit(&format!("r{round}-a{i}"), Some("b"), base + i))
                .collect();
            tx.append_audit(&audits).await.unwrap();
            let msgs: Vec<OutboxMessage> = (0..400)
                .map(|i| {
                    message(
                        &format!("r{round}-m{i}"),
                        "b",
                        &format!("r{round}-k{i}"),
                        base + i,
                    )
                })
                .collect();
            tx.enqueue(&msgs).await.unwrap();
            tx.commit().await.unwrap();
            tx_ms.push(started.elapsed().as_secs_f64() * 1e3);

            assert_eq!(taken.len(), 500);
            assert!(open.is_empty());
        }
        let c = store.counts(SHOP).await.unwrap();
        assert_eq!(CommerceCounts::get(&c.orders, "open"), 200 * 6);
        assert_eq!(CommerceCounts::get(&c.inbox, "processed"), 500 * 6);
        assert_eq!(c.audit, 500 * 6);
        assert_eq!(CommerceCounts::get(&c.outbox, "pending"), 400 * 6);
        let reserved: i64 = store
            .products(SHOP)
            .await
            .unwrap()
            .iter()
            .map(|r| r.stock.reserved)
            .sum();
        assert_eq!(reserved, 400 * 6);

        // The first round pays for statement preparation: medians over the others.
        let median = |v: &[f64]| {
            let mut v = v[1..].to_vec();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (inbox, tx) = (median(&inbox_ms), median(&tx_ms));
        let show = |v: &[f64]| v.iter().map(|m| format!("{m:.1}")).collect::<Vec<_>>();
        println!(
            "batch timing ({build}): insert_inbox(500) ms {:?}; transaction (take 500, lock 30 \
             stock, 200 orders / 300 lines, mark 500, 500 audit, 400 outbox, commit) ms {:?}; \
             medians {inbox:.1} + {tx:.1} ms = {:.0} comments/s of store work on one connection",
            show(&inbox_ms),
            show(&tx_ms),
            500.0 / ((inbox + tx) / 1e3),
            build = if cfg!(debug_assertions) {
                "debug build"
            } else {
                "release build"
            },
        );
    })
    .await;
}
