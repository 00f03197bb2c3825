//! The commerce store on SQLite, file and in memory: every method of the port, the
//! database-enforced guarantees (one open order per live/buyer/currency, no negative
//! stock, an append-only audit log), rollback on drop, exclusive outbox claims and
//! reservations under contention, and a timing figure for one pipeline-sized batch.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use meta_commerce::catalog::Product;
use meta_commerce::money::{Currency, Money};
use meta_commerce::store::{
    AuditRecord, Buyer, CommerceCounts, CommerceStore, InboxComment, InboxStatus, Live, LiveState,
    LogFilter, Order, OrderFilter, OrderLine, OrderStatus, OutboxMessage, OutboxStatus,
    OutboxUpdate, PaymentLinkRecord, Shop, StockLevel, StoreError, WaitEntry,
};
use meta_store_sqlite::SqliteStore;
use serde_json::json;

const T0: i64 = 1_780_000_000_000;
const SHOP: &str = "shop-1";
const LIVE: &str = "live-1";

// ---- builders (the records without constructors are built from their serde shape) ----

fn inbox(id: &str, buyer: &str, t: i64) -> InboxComment {
    serde_json::from_value(json!({
        "comment_id": id, "shop_id": SHOP, "live_id": LIVE, "post_id": "page_post",
        "buyer_id": buyer, "buyer_name": format!("Name of {buyer}"), "text": format!("quiero {id}"),
        "created_time_ms": t, "received_at_ms": t + 5, "status": "pending", "detail": null
    }))
    .unwrap()
}

fn outbox_msg(id: &str, buyer: &str, created: i64) -> OutboxMessage {
    serde_json::from_value(json!({
        "id": id, "shop_id": SHOP, "live_id": LIVE, "buyer_id": buyer, "kind": "private_reply",
        "comment_id": format!("c-{id}"), "order_id": null, "text": format!("hola {buyer}"),
        "dedupe_key": format!("dk-{id}"), "status": "pending", "attempts": 0,
        "next_attempt_at_ms": created, "origin_received_at_ms": created - 10,
        "created_at_ms": created, "finished_at_ms": null, "detail": null,
        "lease_owner": null, "lease_until_ms": null
    }))
    .unwrap()
}

fn audit_row(id: &str, buyer: &str, at: i64) -> AuditRecord {
    serde_json::from_value(json!({
        "id": id, "at_ms": at, "shop_id": SHOP, "live_id": LIVE, "comment_id": format!("c-{id}"),
        "order_id": null, "buyer_id": buyer, "action": "reserved", "classifier": "rules",
        "intent": "purchase", "confidence": 0.875, "items": "[{\"sku\":\"POL-ROJ-M\",\"qty\":1}]",
        "detail": "reserved 1 × POL-ROJ-M"
    }))
    .unwrap()
}

fn wait(id: &str, sku: &str, buyer: &str, t: i64) -> WaitEntry {
    serde_json::from_value(json!({
        "id": id, "shop_id": SHOP, "live_id": LIVE, "sku": sku, "buyer_id": buyer, "qty": 2,
        "comment_id": format!("c-{id}"), "created_time_ms": t
    }))
    .unwrap()
}

fn order(id: &str, buyer: &str, created: i64, lines: &[(&str, u32)]) -> Order {
    let mut o = Order::new(
        id,
        SHOP,
        LIVE,
        buyer,
        Currency::CLP,
        created,
        created + 1_800_000,
    );
    o.lines = lines
        .iter()
        .map(|(sku, qty)| OrderLine {
            sku: (*sku).to_owned(),
            name: format!("Producto {sku}"),
            qty: *qty,
            unit_price_minor: 12_990,
        })
        .collect();
    o.recompute_total();
    o
}

fn product(sku: &str, stock: u32, lot: Option<u32>) -> Product {
    let p = Product::new(
        sku,
        format!("Producto {sku}"),
        Money::new(12_990, Currency::CLP),
        stock,
    )
    .with_aliases([format!("alias {sku}"), format!("otro {sku}")]);
    match lot {
        Some(l) => p.with_lot(l),
        None => p,
    }
}

fn shop() -> Shop {
    let mut s = Shop::new(SHOP, "Tienda Uno", "page", "CL", Currency::CLP);
    s.gateways = vec!["flow".to_owned(), "transfer".to_owned()];
    s.min_confidence = 0.65;
    s
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

async fn seed_catalog(store: &SqliteStore, stock: u32) {
    store.put_shop(&shop()).await.unwrap();
    store
        .put_live(&Live::new(LIVE, SHOP, "page_post", "Live 1", T0))
        .await
        .unwrap();
    store
        .import_products(
            SHOP,
            &[
                product("POL-ROJ-M", stock, Some(2)),
                product("POL-AZU-L", stock, Some(1)),
                product("GOR-NEG", stock, None),
            ],
        )
        .await
        .unwrap();
}

// ---- shops, lives, catalog ----

#[tokio::test]
async fn shops_and_lives_round_trip_and_kill_switches() {
    for (label, _dir, store) in common::both("commerce-shops").await {
        let s = shop();
        store.put_shop(&s).await.unwrap();
        assert_eq!(store.shop(SHOP).await.unwrap(), Some(s.clone()), "{label}");
        let mut other = Shop::new("shop-0", "Otra", "page0", "MX", Currency::MXN);
        other.max_qty_per_item = 3;
        store.put_shop(&other).await.unwrap();
        assert_eq!(store.shops().await.unwrap(), vec![other, s.clone()]);
        assert!(store.shop("nope").await.unwrap().is_none());

        store.set_shop_kill_switch(SHOP, true).await.unwrap();
        assert!(store.shop(SHOP).await.unwrap().unwrap().kill_switch);
        // put_shop replaces, the kill switch included.
        store.put_shop(&s).await.unwrap();
        assert!(!store.shop(SHOP).await.unwrap().unwrap().kill_switch);
        assert!(matches!(
            store.set_shop_kill_switch("nope", true).await,
            Err(StoreError::NotFound(_))
        ));

        let old = Live::new("live-0", SHOP, "page_old", "Old", T0 - 1000);
        let mut new = Live::new(LIVE, SHOP, "page_post", "New", T0);
        store.put_live(&old).await.unwrap();
        store.put_live(&new).await.unwrap();
        new.state = LiveState::Closed;
        new.title = "Renamed".to_owned();
        store.put_live(&new).await.unwrap();
        assert_eq!(
            store.live(LIVE).await.unwrap(),
            Some(new.clone()),
            "{label}"
        );
        assert_eq!(
            store.live_by_post("page_old").await.unwrap(),
            Some(old.clone())
        );
        assert!(store.live_by_post("elsewhere").await.unwrap().is_none());
        assert_eq!(store.lives(SHOP).await.unwrap(), vec![new.clone(), old]);
        assert!(store.lives("shop-0").await.unwrap().is_empty());
        store.set_live_kill_switch(LIVE, true).await.unwrap();
        assert!(store.live(LIVE).await.unwrap().unwrap().kill_switch);
        assert!(matches!(
            store.set_live_kill_switch("nope", true).await,
            Err(StoreError::NotFound(_))
        ));
        // Another live on the same video post is a conflict, not a silent replacement.
        let clash = Live::new("live-2", SHOP, "page_post", "Clash", T0);
        assert!(matches!(
            store.put_live(&clash).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(
            store.live_by_post("page_post").await.unwrap().unwrap().id,
            LIVE
        );
    }
}

#[tokio::test]
async fn import_keeps_reserved_and_sold_and_orders_by_lot() {
    for (label, _dir, store) in common::both("commerce-import").await {
        seed_catalog(&store, 5).await;
        let listed = store.products(SHOP).await.unwrap();
        let skus: Vec<&str> = listed.iter().map(|p| p.product.sku.as_str()).collect();
        assert_eq!(
            skus,
            ["POL-AZU-L", "POL-ROJ-M", "GOR-NEG"],
            "{label}: lot, NULLs last"
        );
        assert_eq!(listed[1].product, product("POL-ROJ-M", 5, Some(2)));
        assert_eq!(listed[1].shop_id, SHOP);
        assert_eq!(
            store.stock(SHOP, "POL-ROJ-M").await.unwrap(),
            Some(StockLevel {
                shop_id: SHOP.to_owned(),
                sku: "POL-ROJ-M".to_owned(),
                available: 5,
                reserved: 0,
                sold: 0
            })
        );
        assert!(store.stock(SHOP, "NOPE").await.unwrap().is_none());
        assert!(store.stock("other", "POL-ROJ-M").await.unwrap().is_none());

        // 3 reserved, 1 sold.
        let mut tx = store.begin().await.unwrap();
        tx.put_stock(&[StockLevel {
            shop_id: SHOP.to_owned(),
            sku: "POL-ROJ-M".to_owned(),
            available: 1,
            reserved: 3,
            sold: 1,
        }])
        .await
        .unwrap();
        tx.commit().await.unwrap();

        // Re-import: POL-ROJ-M declares 2 on hand (< reserved) and gets a new price and
        // no lot; POL-AZU-L declares 9; GOR-NEG is not listed; NEW-SKU is new.
        let mut red = Product::new(
            "POL-ROJ-M",
            "Polera roja M (nueva)",
            Money::new(9_990, Currency::CLP),
            2,
        );
        red.aliases = vec!["roja".to_owned()];
        store
            .import_products(
                SHOP,
                &[
                    red.clone(),
                    product("POL-AZU-L", 9, Some(1)),
                    product("NEW-SKU", 4, Some(7)),
                ],
            )
            .await
            .unwrap();
        let by_sku: HashMap<String, _> = store
            .products(SHOP)
            .await
            .unwrap()
            .into_iter()
            .map(|p| (p.product.sku.clone(), p))
            .collect();
        let r = &by_sku["POL-ROJ-M"];
        // `stock` reads back as the units on hand: available + reserved.
        let mut on_hand = red.clone();
        on_hand.stock = 3;
        assert_eq!(
            r.product, on_hand,
            "{label}: name, aliases, lot, price replaced"
        );
        assert_eq!(
            (r.stock.available, r.stock.reserved, r.stock.sold),
            (0, 3, 1)
        );
        let b = &by_sku["POL-AZU-L"].stock;
        assert_eq!((b.available, b.reserved, b.sold), (9, 0, 0));
        let g = &by_sku["GOR-NEG"].stock;
        assert_eq!((g.available, g.reserved, g.sold), (5, 0, 0), "untouched");
        assert_eq!(by_sku["NEW-SKU"].stock.available, 4);
        assert!(store.products("other").await.unwrap().is_empty());
    }
}

// ---- inbox ----

#[tokio::test]
async fn insert_inbox_dedupes_per_row_and_pending_is_fifo() {
    for (label, _dir, store) in common::both("commerce-inbox").await {
        let rows = vec![
            inbox("c3", "b1", T0 + 3),
            inbox("c1", "b2", T0 + 1),
            inbox("c3", "b9", T0 + 99), // same id in the same call
            inbox("c2", "b3", T0 + 1),
        ];
        assert_eq!(
            store.insert_inbox(&rows).await.unwrap(),
            [true, true, false, true],
            "{label}"
        );
        // The first copy is the one kept.
        assert_eq!(
            store.inbox_comment("c3").await.unwrap(),
            Some(rows[0].clone())
        );
        // Redelivery: existing ids are no-ops, new ones are inserted.
        assert_eq!(
            store
                .insert_inbox(&[inbox("c1", "b2", T0 + 1), inbox("c4", "b4", T0 + 4)])
                .await
                .unwrap(),
            [false, true]
        );
        assert!(store.insert_inbox(&[]).await.unwrap().is_empty());
        let pending: Vec<String> = store
            .pending_inbox(10)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.comment_id)
            .collect();
        assert_eq!(pending, ["c1", "c2", "c3", "c4"], "created time, then id");
        assert_eq!(store.pending_inbox(2).await.unwrap().len(), 2);
        assert!(store.inbox_comment("nope").await.unwrap().is_none());

        // take_pending: only pending ones among the ids, in FIFO order; mark_inbox.
        let mut tx = store.begin().await.unwrap();
        let taken = tx
            .take_pending(&strings(&["c4", "c2", "nope", "c2"]))
            .await
            .unwrap();
        assert_eq!(
            taken
                .iter()
                .map(|c| c.comment_id.as_str())
                .collect::<Vec<_>>(),
            ["c2", "c4"]
        );
        tx.mark_inbox(&[
            ("c2".to_owned(), InboxStatus::Processed, None),
            (
                "c4".to_owned(),
                InboxStatus::Rejected,
                Some("first".to_owned()),
            ),
            (
                "c4".to_owned(),
                InboxStatus::Skipped,
                Some("own comment".to_owned()),
            ),
        ])
        .await
        .unwrap();
        assert!(
            tx.take_pending(&strings(&["c2", "c4"]))
                .await
                .unwrap()
                .is_empty()
        );
        tx.commit().await.unwrap();
        let c4 = store.inbox_comment("c4").await.unwrap().unwrap();
        assert_eq!(
            c4.status,
            InboxStatus::Skipped,
            "{label}: the later row wins"
        );
        assert_eq!(c4.detail.as_deref(), Some("own comment"));
        let pending: Vec<String> = store
            .pending_inbox(10)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.comment_id)
            .collect();
        assert_eq!(pending, ["c1", "c3"]);
    }
}

#[tokio::test]
async fn a_thousand_comments_cross_chunks() {
    for (label, _dir, store) in common::both("commerce-inbox-bulk").await {
        let rows: Vec<InboxComment> = (0..1_200)
            .map(|i| inbox(&format!("bulk-{i:05}"), &format!("b{}", i % 37), T0 + i))
            .collect();
        let first = store.insert_inbox(&rows[..700]).await.unwrap();
        assert!(first.iter().all(|b| *b));
        // 500 already there, 500 new: the answer lines up with the input across chunks.
        let second = store.insert_inbox(&rows[200..1_200]).await.unwrap();
        assert_eq!(second.len(), 1_000);
        assert!(second[..500].iter().all(|b| !*b), "{label}");
        assert!(second[500..].iter().all(|b| *b), "{label}");
        assert_eq!(store.pending_inbox(5_000).await.unwrap().len(), 1_200);
        let counts = store.counts(SHOP).await.unwrap();
        assert_eq!(CommerceCounts::get(&counts.inbox, "pending"), 1_200);
    }
}

// ---- orders ----

#[tokio::test]
async fn orders_round_trip_with_lines_filters_and_due_lists() {
    for (label, _dir, store) in common::both("commerce-orders").await {
        let a = order("o-a", "b1", T0, &[("POL-ROJ-M", 2), ("GOR-NEG", 1)]);
        let mut b = order("o-b", "b2", T0 + 10, &[("POL-AZU-L", 1)]);
        b.hold_expires_at_ms = T0 + 100;
        let mut paid = order("o-c", "b1", T0 + 20, &[("GOR-NEG", 3)]);
        paid.status = OrderStatus::Paid;
        paid.paid_ref = Some("pay-1".to_owned());
        paid.paid_at_ms = Some(T0 + 30);
        paid.note = Some("ok".to_owned());
        paid.payment = Some(PaymentLinkRecord {
            gateway: "flow".to_owned(),
            url: "https://pay.example/1".to_owned(),
            provider_ref: "ref-1".to_owned(),
            for_version: 1,
        });
        let empty = order("o-d", "b3", T0 + 30, &[]);

        let mut tx = store.begin().await.unwrap();
        tx.put_orders(&[a.clone(), b.clone(), paid.clone(), empty.clone()])
            .await
            .unwrap();
        tx.commit().await.unwrap();

        assert_eq!(
            store.order("o-a").await.unwrap(),
            Some(a.clone()),
            "{label}"
        );
        assert_eq!(store.order("o-c").await.unwrap(), Some(paid.clone()));
        assert_eq!(store.order("o-d").await.unwrap(), Some(empty.clone()));
        assert!(store.order("nope").await.unwrap().is_none());

        let all = store.orders(&OrderFilter::default()).await.unwrap();
        assert_eq!(all, vec![a.clone(), b.clone(), paid.clone(), empty.clone()]);
        let mut f = order_filter(|f| f.buyer_id = Some("b1".to_owned()));
        assert_eq!(
            store.orders(&f).await.unwrap(),
            vec![a.clone(), paid.clone()]
        );
        f.status = Some(OrderStatus::Open);
        assert_eq!(store.orders(&f).await.unwrap(), vec![a.clone()]);
        let mut f = order_filter(|f| {
            f.shop_id = Some(SHOP.to_owned());
            f.live_id = Some(LIVE.to_owned());
            f.limit = 2;
        });
        assert_eq!(store.orders(&f).await.unwrap(), vec![a.clone(), b.clone()]);
        f.shop_id = Some("other".to_owned());
        assert!(store.orders(&f).await.unwrap().is_empty());

        // Due lists: open orders only, soonest hold end first.
        assert_eq!(
            store.due_expiries(T0 + 1_800_000, 10).await.unwrap(),
            ["o-b", "o-a"]
        );
        assert_eq!(store.due_expiries(T0 + 100, 10).await.unwrap(), ["o-b"]);
        assert!(store.due_expiries(T0 + 99, 10).await.unwrap().is_empty());
        assert_eq!(
            store.due_expiries(T0 + 1_800_000, 1).await.unwrap(),
            ["o-b"]
        );
        let due = store.due_reminders(T0 + 1_800_000, 10).await.unwrap();
        assert_eq!(due, vec![b.clone(), a.clone()]);

        // Lines are replaced, the order updated in place; reminded drops it from reminders.
        let mut a2 = a.clone();
        a2.lines = vec![OrderLine {
            sku: "POL-AZU-L".to_owned(),
            name: "Azul".to_owned(),
            qty: 4,
            unit_price_minor: 100,
        }];
        a2.recompute_total();
        a2.version = 2;
        a2.reminded = true;
        a2.updated_at_ms = T0 + 50;
        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.lock_orders(&strings(&["o-a", "o-c", "nope"]))
                .await
                .unwrap(),
            vec![a.clone(), paid.clone()]
        );
        tx.put_orders(std::slice::from_ref(&a2)).await.unwrap();
        assert_eq!(
            tx.open_orders(&[
                ("live-1".to_owned(), "b1".to_owned()),
                ("live-1".to_owned(), "b2".to_owned()),
                ("live-1".to_owned(), "b1".to_owned()),
                ("live-9".to_owned(), "b2".to_owned()),
            ])
            .await
            .unwrap(),
            vec![a2.clone(), b.clone()],
            "{label}: open only, every pair once"
        );
        tx.commit().await.unwrap();
        assert_eq!(store.order("o-a").await.unwrap(), Some(a2.clone()));
        assert_eq!(
            store.due_reminders(T0 + 1_800_000, 10).await.unwrap(),
            vec![b.clone()]
        );

        // set_payment_link: only for the current version.
        let stale = PaymentLinkRecord {
            gateway: "flow".to_owned(),
            url: "https://pay.example/old".to_owned(),
            provider_ref: "old".to_owned(),
            for_version: 1,
        };
        store.set_payment_link("o-a", &stale).await.unwrap();
        assert_eq!(store.order("o-a").await.unwrap().unwrap().payment, None);
        let current = PaymentLinkRecord {
            for_version: 2,
            url: "https://pay.example/new".to_owned(),
            ..stale
        };
        store.set_payment_link("o-a", &current).await.unwrap();
        let got = store.order("o-a").await.unwrap().unwrap();
        assert_eq!(got.payment, Some(current.clone()));
        assert_eq!(got.version, 2);
        store.set_payment_link("nope", &current).await.unwrap();
    }
}

#[tokio::test]
async fn a_second_open_order_is_a_conflict() {
    for (label, _dir, store) in common::both("commerce-one-open").await {
        let first = order("o-1", "b1", T0, &[("POL-ROJ-M", 1)]);
        let mut tx = store.begin().await.unwrap();
        tx.put_orders(std::slice::from_ref(&first)).await.unwrap();
        tx.commit().await.unwrap();

        let second = order("o-2", "b1", T0 + 1, &[("GOR-NEG", 1)]);
        let mut tx = store.begin().await.unwrap();
        let e = tx
            .put_orders(std::slice::from_ref(&second))
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)), "{label}: {e}");
        drop(tx);
        assert!(store.order("o-2").await.unwrap().is_none());

        // Another currency, or another buyer, is fine.
        let mut usd = order("o-3", "b1", T0 + 2, &[("GOR-NEG", 1)]);
        usd.currency = Currency::USD;
        // Closing the first and opening the next in one call is fine in any order.
        let mut closed = first.clone();
        closed.status = OrderStatus::Expired;
        let mut tx = store.begin().await.unwrap();
        tx.put_orders(&[usd.clone(), second.clone(), closed.clone()])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.order("o-2").await.unwrap(), Some(second), "{label}");
        assert_eq!(store.order("o-1").await.unwrap(), Some(closed));
        assert_eq!(store.order("o-3").await.unwrap(), Some(usd));
    }
}

// ---- stock ----

#[tokio::test]
async fn negative_stock_is_invalid_and_nothing_is_written() {
    for (label, _dir, store) in common::both("commerce-negative").await {
        seed_catalog(&store, 5).await;
        let mut tx = store.begin().await.unwrap();
        let locked = tx
            .lock_stock(
                SHOP,
                &strings(&["POL-ROJ-M", "NOPE", "GOR-NEG", "POL-ROJ-M"]),
            )
            .await
            .unwrap();
        assert_eq!(
            locked.iter().map(|s| s.sku.as_str()).collect::<Vec<_>>(),
            ["GOR-NEG", "POL-ROJ-M"],
            "{label}: sorted by SKU, unknown absent"
        );
        let mut good = locked[0].clone();
        good.available = 4;
        good.reserved = 1;
        let mut bad = locked[1].clone();
        bad.available = -1;
        bad.reserved = 6;
        let e = tx.put_stock(&[good.clone(), bad]).await.unwrap_err();
        assert!(matches!(e, StoreError::Invalid(_)), "{label}: {e}");
        // Checked before writing: not even the valid row changed.
        let now = tx.lock_stock(SHOP, &strings(&["GOR-NEG"])).await.unwrap();
        assert_eq!(now[0].available, 5);
        // A valid write goes through on the same transaction.
        tx.put_stock(std::slice::from_ref(&good)).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.stock(SHOP, "GOR-NEG").await.unwrap(), Some(good));
        assert_eq!(
            store
                .stock(SHOP, "POL-ROJ-M")
                .await
                .unwrap()
                .unwrap()
                .available,
            5
        );

        // The CHECK constraint is the backstop for SQL that bypasses the port.
        let raw = sqlx::query(
            "UPDATE commerce_products SET reserved = -1 WHERE shop_id = ? AND sku = 'GOR-NEG'",
        )
        .bind(SHOP)
        .execute(store.pool())
        .await;
        assert!(raw.is_err(), "{label}");
    }
}

#[tokio::test]
async fn reservations_under_contention_never_oversell() {
    for (label, _dir, store) in common::both("commerce-contention").await {
        seed_catalog(&store, 5).await;
        let store = Arc::new(store);
        let mut tasks = Vec::new();
        for _ in 0..64 {
            let store = Arc::clone(&store);
            tasks.push(tokio::spawn(async move {
                let mut tx = store.begin().await.unwrap();
                let rows = tx.lock_stock(SHOP, &strings(&["POL-ROJ-M"])).await.unwrap();
                let mut s = rows[0].clone();
                let got = if s.available >= 1 {
                    s.available -= 1;
                    s.reserved += 1;
                    tx.put_stock(&[s]).await.unwrap();
                    true
                } else {
                    false
                };
                // Give other tasks every chance to interleave.
                tokio::task::yield_now().await;
                tx.commit().await.unwrap();
                got
            }));
        }
        let mut winners = 0;
        for t in tasks {
            if t.await.unwrap() {
                winners += 1;
            }
        }
        let s = store.stock(SHOP, "POL-ROJ-M").await.unwrap().unwrap();
        assert_eq!(winners, 5, "{label}");
        assert_eq!((s.available, s.reserved, s.sold), (0, 5, 0), "{label}");
    }
}

// ---- waitlist and buyers ----

#[tokio::test]
async fn waitlist_and_buyers() {
    for (label, _dir, store) in common::both("commerce-waitlist").await {
        let mut tx = store.begin().await.unwrap();
        tx.put_waitlist(&[
            wait("w3", "POL-ROJ-M", "b3", T0 + 3),
            wait("w1", "POL-ROJ-M", "b1", T0 + 1),
            wait("w2", "GOR-NEG", "b2", T0 + 2),
            wait("w0", "POL-ROJ-M", "b0", T0 + 1),
        ])
        .await
        .unwrap();
        let mut updated = wait("w3", "POL-ROJ-M", "b3", T0 + 3);
        updated.qty = 1;
        tx.put_waitlist(std::slice::from_ref(&updated))
            .await
            .unwrap();
        let q = tx.waitlist(SHOP, &strings(&["POL-ROJ-M"])).await.unwrap();
        assert_eq!(
            q.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(),
            ["w0", "w1", "w3"],
            "{label}: created time, then id"
        );
        assert_eq!(q[2], updated);
        assert!(
            tx.waitlist("other", &strings(&["POL-ROJ-M"]))
                .await
                .unwrap()
                .is_empty()
        );

        let mut b1 = Buyer::new(SHOP, "b1", Some("Ana".to_owned()), T0);
        let b2 = Buyer::new(SHOP, "b2", None, T0 + 5);
        tx.put_buyers(&[b1.clone(), b2.clone()]).await.unwrap();
        b1.opted_out = true;
        tx.put_buyers(std::slice::from_ref(&b1)).await.unwrap();
        assert_eq!(
            tx.buyers(SHOP, &strings(&["b2", "b1", "b9"]))
                .await
                .unwrap(),
            vec![b1.clone(), b2.clone()]
        );
        assert!(
            tx.buyers("other", &strings(&["b1"]))
                .await
                .unwrap()
                .is_empty()
        );
        tx.remove_waitlist(&strings(&["w1", "w2", "nope"]))
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let all = store.waitlist_entries(SHOP).await.unwrap();
        assert_eq!(
            all.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(),
            ["w0", "w3"]
        );
        assert_eq!(store.buyer(SHOP, "b1").await.unwrap(), Some(b1));
        assert!(store.buyer(SHOP, "b9").await.unwrap().is_none());
    }
}

// ---- outbox ----

#[tokio::test]
async fn outbox_enqueue_claim_and_finish() {
    for (label, _dir, store) in common::both("commerce-outbox").await {
        let m1 = outbox_msg("m1", "b1", T0);
        let m2 = outbox_msg("m2", "b2", T0 + 1);
        let mut later = outbox_msg("m3", "b1", T0 + 2);
        later.next_attempt_at_ms = T0 + 60_000;
        let mut tx = store.begin().await.unwrap();
        tx.enqueue(&[m1.clone(), m2.clone(), later.clone()])
            .await
            .unwrap();
        // The same decision again (same dedupe key, even under another id): skipped.
        let mut again = outbox_msg("m1-again", "b1", T0 + 5);
        again.dedupe_key = m1.dedupe_key.clone();
        tx.enqueue(&[again]).await.unwrap();
        tx.commit().await.unwrap();
        let all = store.outbox(&LogFilter::default()).await.unwrap();
        assert_eq!(all, vec![m1.clone(), m2.clone(), later.clone()], "{label}");

        // Claim: due and unleased, oldest first, leased to the owner.
        let claimed = store.claim_outbox(T0 + 10, "w1", 30_000, 10).await.unwrap();
        assert_eq!(
            claimed.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
            ["m1", "m2"]
        );
        for m in &claimed {
            assert_eq!(m.lease_owner.as_deref(), Some("w1"));
            assert_eq!(m.lease_until_ms, Some(T0 + 30_010));
        }
        // Leased: nobody else gets them until the lease has passed.
        assert!(
            store
                .claim_outbox(T0 + 20, "w2", 30_000, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .claim_outbox(T0 + 30_010, "w2", 30_000, 10)
                .await
                .unwrap()
                .is_empty()
        );
        let re = store
            .claim_outbox(T0 + 30_011, "w2", 1_000, 1)
            .await
            .unwrap();
        assert_eq!(re.len(), 1);
        assert_eq!(
            (re[0].id.as_str(), re[0].lease_owner.as_deref()),
            ("m1", Some("w2"))
        );
        assert!(store.claim_outbox(T0, "w3", 1, 0).await.unwrap().is_empty());

        // finish_outbox transitions.
        store
            .finish_outbox(
                "m1",
                T0 + 40_000,
                &OutboxUpdate::Sent {
                    graph_id: "mid.1".to_owned(),
                },
            )
            .await
            .unwrap();
        store
            .finish_outbox(
                "m2",
                T0 + 40_001,
                &OutboxUpdate::Failed {
                    reason: "throttled".to_owned(),
                    retry_at_ms: Some(T0 + 50_000),
                },
            )
            .await
            .unwrap();
        let mut by_id: HashMap<String, OutboxMessage> = store
            .outbox(&LogFilter::default())
            .await
            .unwrap()
            .into_iter()
            .map(|m| (m.id.clone(), m))
            .collect();
        let sent = by_id.remove("m1").unwrap();
        assert_eq!(sent.status, OutboxStatus::Sent, "{label}");
        assert_eq!((sent.attempts, sent.finished_at_ms), (1, Some(T0 + 40_000)));
        assert_eq!(sent.detail.as_deref(), Some("mid.1"));
        assert_eq!((sent.lease_owner, sent.lease_until_ms), (None, None));
        let retry = by_id.remove("m2").unwrap();
        assert_eq!(retry.status, OutboxStatus::Pending);
        assert_eq!(
            (
                retry.attempts,
                retry.next_attempt_at_ms,
                retry.finished_at_ms
            ),
            (1, T0 + 50_000, None)
        );
        assert_eq!(retry.detail.as_deref(), Some("throttled"));
        assert_eq!(retry.lease_owner, None);
        // Retried when due, even though its old lease had not run out.
        assert!(
            store
                .claim_outbox(T0 + 49_999, "w4", 10, 10)
                .await
                .unwrap()
                .iter()
                .all(|m| m.id != "m2")
        );
        let got = store.claim_outbox(T0 + 50_000, "w4", 10, 10).await.unwrap();
        assert_eq!(
            got.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
            ["m2"]
        );
        store
            .finish_outbox(
                "m2",
                T0 + 50_001,
                &OutboxUpdate::Failed {
                    reason: "gone".to_owned(),
                    retry_at_ms: None,
                },
            )
            .await
            .unwrap();
        store
            .finish_outbox(
                "m3",
                T0 + 50_002,
                &OutboxUpdate::Suppressed {
                    reason: "kill switch".to_owned(),
                },
            )
            .await
            .unwrap();
        let failed = store
            .outbox(&log_for(|f| f.buyer_id = Some("b2".to_owned())))
            .await
            .unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].status, OutboxStatus::Failed);
        assert_eq!(
            (failed[0].attempts, failed[0].finished_at_ms),
            (2, Some(T0 + 50_001))
        );
        assert_eq!(failed[0].detail.as_deref(), Some("gone"));
        let supp = store
            .outbox(&log_for(|f| f.comment_id = Some("c-m3".to_owned())))
            .await
            .unwrap();
        assert_eq!(supp[0].status, OutboxStatus::Suppressed);
        assert_eq!(
            (supp[0].attempts, supp[0].finished_at_ms),
            (0, Some(T0 + 50_002))
        );
        assert_eq!(supp[0].detail.as_deref(), Some("kill switch"));
        assert!(matches!(
            store
                .finish_outbox(
                    "nope",
                    T0,
                    &OutboxUpdate::Suppressed {
                        reason: "x".to_owned()
                    }
                )
                .await,
            Err(StoreError::NotFound(_))
        ));

        // Filters and limit.
        let b1 = store
            .outbox(&log_for(|f| f.buyer_id = Some("b1".to_owned())))
            .await
            .unwrap();
        assert_eq!(
            b1.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
            ["m1", "m3"]
        );
        let one = store
            .outbox(&log_for(|f| {
                f.shop_id = Some(SHOP.to_owned());
                f.limit = 1;
            }))
            .await
            .unwrap();
        assert_eq!(one.len(), 1);
        assert!(
            store
                .outbox(&log_for(|f| f.live_id = Some("x".to_owned())))
                .await
                .unwrap()
                .is_empty()
        );
    }
}

/// A filter set field by field (the type is `#[non_exhaustive]`).
fn order_filter(set: impl FnOnce(&mut OrderFilter)) -> OrderFilter {
    let mut f = OrderFilter::default();
    set(&mut f);
    f
}

/// A filter set field by field (the type is `#[non_exhaustive]`).
fn log_for(set: impl FnOnce(&mut LogFilter)) -> LogFilter {
    let mut f = LogFilter::default();
    set(&mut f);
    f
}

#[tokio::test]
async fn suppress_pending_only_touches_the_buyers_pending_rows() {
    for (label, _dir, store) in common::both("commerce-suppress").await {
        let mut tx = store.begin().await.unwrap();
        tx.enqueue(&[
            outbox_msg("m1", "b1", T0),
            outbox_msg("m2", "b1", T0 + 1),
            outbox_msg("m3", "b2", T0 + 2),
        ])
        .await
        .unwrap();
        tx.commit().await.unwrap();
        store
            .finish_outbox(
                "m1",
                T0 + 5,
                &OutboxUpdate::Sent {
                    graph_id: "g".to_owned(),
                },
            )
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.suppress_pending(SHOP, "b1", "opted out").await.unwrap(),
            1,
            "{label}"
        );
        assert_eq!(tx.suppress_pending("other", "b2", "x").await.unwrap(), 0);
        tx.commit().await.unwrap();
        let rows = store.outbox(&LogFilter::default()).await.unwrap();
        let st: Vec<(&str, OutboxStatus, Option<&str>)> = rows
            .iter()
            .map(|m| (m.id.as_str(), m.status, m.detail.as_deref()))
            .collect();
        assert_eq!(
            st,
            [
                ("m1", OutboxStatus::Sent, Some("g")),
                ("m2", OutboxStatus::Suppressed, Some("opted out")),
                ("m3", OutboxStatus::Pending, None),
            ]
        );
        assert!(rows[1].finished_at_ms.is_some());
    }
}

#[tokio::test]
async fn eight_claimers_never_share_a_message() {
    for (label, _dir, store) in common::both("commerce-claim").await {
        let msgs: Vec<OutboxMessage> = (0..300)
            .map(|i| outbox_msg(&format!("m{i:04}"), &format!("b{}", i % 13), T0 + i % 50))
            .collect();
        let mut tx = store.begin().await.unwrap();
        tx.enqueue(&msgs).await.unwrap();
        tx.commit().await.unwrap();
        let store = Arc::new(store);
        let mut tasks = Vec::new();
        for w in 0..8 {
            let store = Arc::clone(&store);
            tasks.push(tokio::spawn(async move {
                let owner = format!("w{w}");
                let mut got = Vec::new();
                loop {
                    let c = store
                        .claim_outbox(T0 + 100, &owner, 60_000, 7)
                        .await
                        .unwrap();
                    if c.is_empty() {
                        break;
                    }
                    for m in c {
                        assert_eq!(m.lease_owner.as_deref(), Some(owner.as_str()));
                        got.push(m.id);
                    }
                    tokio::task::yield_now().await;
                }
                (owner, got)
            }));
        }
        let mut seen: HashMap<String, String> = HashMap::new();
        let mut workers_with_work = 0;
        for t in tasks {
            let (owner, got) = t.await.unwrap();
            if !got.is_empty() {
                workers_with_work += 1;
            }
            for id in got {
                if let Some(prev) = seen.insert(id.clone(), owner.clone()) {
                    panic!("{label}: {id} claimed by {prev} and {owner}");
                }
            }
        }
        assert_eq!(
            seen.len(),
            300,
            "{label}: every message claimed exactly once"
        );
        assert!(workers_with_work >= 1);
        // The stored lease matches who got it.
        for m in store.outbox(&LogFilter::default()).await.unwrap() {
            assert_eq!(m.lease_owner.as_deref(), Some(seen[&m.id].as_str()));
        }
    }
}

// ---- audit ----

#[tokio::test]
async fn audit_is_append_only_even_for_raw_sql() {
    for (label, _dir, store) in common::both("commerce-audit").await {
        let rows = vec![
            audit_row("a2", "b1", T0 + 1),
            audit_row("a1", "b1", T0 + 1),
            audit_row("a0", "b2", T0 + 2),
        ];
        let mut tx = store.begin().await.unwrap();
        tx.append_audit(&rows).await.unwrap();
        tx.commit().await.unwrap();
        let got = store.audit(&LogFilter::default()).await.unwrap();
        assert_eq!(
            got,
            vec![rows[1].clone(), rows[0].clone(), rows[2].clone()],
            "{label}"
        );
        let b1 = store
            .audit(&log_for(|f| f.buyer_id = Some("b1".to_owned())))
            .await
            .unwrap();
        assert_eq!(b1.len(), 2);
        let lim = store
            .audit(&log_for(|f| {
                f.comment_id = Some("c-a0".to_owned());
                f.limit = 5;
            }))
            .await
            .unwrap();
        assert_eq!(lim, vec![rows[2].clone()]);

        // A duplicate id is a conflict, and the rest of that call is not kept.
        let mut tx = store.begin().await.unwrap();
        let e = tx
            .append_audit(&[audit_row("a9", "b1", T0 + 9), audit_row("a1", "b1", T0 + 9)])
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)), "{label}: {e}");
        drop(tx);
        assert_eq!(store.audit(&LogFilter::default()).await.unwrap().len(), 3);

        // Raw SQL cannot rewrite or remove history.
        for sql in [
            "UPDATE commerce_audit SET detail = 'edited' WHERE id = 'a1'",
            "UPDATE commerce_audit SET buyer_id = 'someone' WHERE id = 'a1'",
            "UPDATE commerce_audit SET buyer_id = 'x', action = 'y' WHERE id = 'a1'",
            "DELETE FROM commerce_audit WHERE id = 'a1'",
            "DELETE FROM commerce_audit",
            "INSERT OR REPLACE INTO commerce_audit (id, at_ms, shop_id, action, detail) \
             VALUES ('a1', 0, 'shop-1', 'forged', 'forged')",
            "REPLACE INTO commerce_audit (id, at_ms, shop_id, action, detail) \
             VALUES ('a1', 0, 'shop-1', 'forged', 'forged')",
        ] {
            let e = sqlx::query(sql).execute(store.pool()).await.unwrap_err();
            assert!(e.to_string().contains("append-only"), "{label}: {sql}: {e}");
        }
        assert_eq!(
            store.audit(&LogFilter::default()).await.unwrap(),
            got,
            "{label}"
        );
    }
}

#[tokio::test]
async fn anonymize_buyer_rewrites_ids_and_blanks_texts_but_keeps_the_accounting() {
    for (label, _dir, store) in common::both("commerce-anonymize").await {
        store
            .insert_inbox(&[inbox("c1", "b1", T0), inbox("c2", "b2", T0 + 1)])
            .await
            .unwrap();
        let mut paid = order("o-1", "b1", T0, &[("POL-ROJ-M", 2)]);
        paid.status = OrderStatus::Paid;
        let open = order("o-2", "b1", T0 + 1, &[("GOR-NEG", 1)]);
        let other = order("o-3", "b2", T0 + 2, &[("GOR-NEG", 1)]);
        let mut tx = store.begin().await.unwrap();
        tx.put_orders(&[paid.clone(), open.clone(), other.clone()])
            .await
            .unwrap();
        tx.put_buyers(&[
            Buyer::new(SHOP, "b1", Some("Ana".to_owned()), T0),
            Buyer::new(SHOP, "b2", Some("Bea".to_owned()), T0),
        ])
        .await
        .unwrap();
        tx.put_waitlist(&[wait("w1", "POL-ROJ-M", "b1", T0)])
            .await
            .unwrap();
        tx.enqueue(&[
            outbox_msg("m1", "b1", T0),
            outbox_msg("m2", "b1", T0 + 1),
            outbox_msg("m3", "b2", T0),
        ])
        .await
        .unwrap();
        tx.append_audit(&[audit_row("a1", "b1", T0), audit_row("a2", "b2", T0)])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        store
            .finish_outbox(
                "m1",
                T0 + 3,
                &OutboxUpdate::Sent {
                    graph_id: "g1".to_owned(),
                },
            )
            .await
            .unwrap();

        let mut tx = store.begin().await.unwrap();
        tx.anonymize_buyer(SHOP, "b1", "anon-1").await.unwrap();
        tx.commit().await.unwrap();

        assert!(store.buyer(SHOP, "b1").await.unwrap().is_none(), "{label}");
        let anon = store.buyer(SHOP, "anon-1").await.unwrap().unwrap();
        assert_eq!((anon.name, anon.anonymized), (None, true));
        assert_eq!(
            store
                .buyer(SHOP, "b2")
                .await
                .unwrap()
                .unwrap()
                .name
                .as_deref(),
            Some("Bea")
        );

        for (before, id) in [(&paid, "o-1"), (&open, "o-2")] {
            let mut expected = before.clone();
            expected.buyer_id = "anon-1".to_owned();
            assert_eq!(store.order(id).await.unwrap(), Some(expected), "{label}");
        }
        assert_eq!(store.order("o-3").await.unwrap(), Some(other));

        let c1 = store.inbox_comment("c1").await.unwrap().unwrap();
        assert_eq!(
            (c1.buyer_id.as_str(), c1.buyer_name, c1.text.as_str()),
            ("anon-1", None, "[deleted]")
        );
        assert_eq!(c1.status, InboxStatus::Pending);
        assert_eq!(
            store.inbox_comment("c2").await.unwrap().unwrap(),
            inbox("c2", "b2", T0 + 1)
        );

        assert_eq!(
            store.waitlist_entries(SHOP).await.unwrap()[0].buyer_id,
            "anon-1"
        );

        let msgs: HashMap<String, OutboxMessage> = store
            .outbox(&LogFilter::default())
            .await
            .unwrap()
            .into_iter()
            .map(|m| (m.id.clone(), m))
            .collect();
        let m1 = &msgs["m1"];
        assert_eq!(
            (m1.buyer_id.as_str(), m1.text.as_str(), m1.status),
            ("anon-1", "[deleted]", OutboxStatus::Sent)
        );
        assert_eq!(m1.detail.as_deref(), Some("g1"));
        let m2 = &msgs["m2"];
        assert_eq!(
            (m2.buyer_id.as_str(), m2.text.as_str(), m2.status),
            ("anon-1", "[deleted]", OutboxStatus::Suppressed)
        );
        assert_eq!(m2.detail.as_deref(), Some("data deleted"));
        assert_eq!(msgs["m3"], outbox_msg("m3", "b2", T0));

        let audit = store.audit(&LogFilter::default()).await.unwrap();
        let mut a1 = audit_row("a1", "b1", T0);
        a1.buyer_id = Some("anon-1".to_owned());
        assert_eq!(
            audit,
            vec![a1, audit_row("a2", "b2", T0)],
            "{label}: buyer id only"
        );
        // The permission was for that one request: raw SQL is refused again.
        let e = sqlx::query("UPDATE commerce_audit SET buyer_id = 'b1' WHERE id = 'a1'")
            .execute(store.pool())
            .await
            .unwrap_err();
        assert!(e.to_string().contains("append-only"), "{label}: {e}");
        let unlocks: i64 = sqlx::query_scalar("SELECT count(*) FROM commerce_audit_unlock")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(unlocks, 0);
    }
}

// ---- transactions ----

#[tokio::test]
async fn dropping_a_transaction_rolls_everything_back() {
    for (label, _dir, store) in common::both("commerce-rollback").await {
        seed_catalog(&store, 5).await;
        store.insert_inbox(&[inbox("c1", "b1", T0)]).await.unwrap();
        {
            let mut tx = store.begin().await.unwrap();
            let mut s = tx
                .lock_stock(SHOP, &strings(&["POL-ROJ-M"]))
                .await
                .unwrap()
                .remove(0);
            s.available -= 2;
            s.reserved += 2;
            tx.put_stock(&[s]).await.unwrap();
            tx.put_orders(&[order("o-1", "b1", T0, &[("POL-ROJ-M", 2)])])
                .await
                .unwrap();
            tx.mark_inbox(&[("c1".to_owned(), InboxStatus::Processed, None)])
                .await
                .unwrap();
            tx.append_audit(&[audit_row("a1", "b1", T0)]).await.unwrap();
            tx.enqueue(&[outbox_msg("m1", "b1", T0)]).await.unwrap();
            tx.put_buyers(&[Buyer::new(SHOP, "b1", None, T0)])
                .await
                .unwrap();
            tx.put_waitlist(&[wait("w1", "GOR-NEG", "b1", T0)])
                .await
                .unwrap();
            // Dropped without commit.
        }
        // The next transaction starts (the write turn was released) and sees nothing.
        let mut tx = tokio::time::timeout(Duration::from_secs(10), store.begin())
            .await
            .expect("the write turn is released on drop")
            .unwrap();
        assert_eq!(
            tx.lock_stock(SHOP, &strings(&["POL-ROJ-M"])).await.unwrap()[0].available,
            5,
            "{label}"
        );
        assert_eq!(tx.take_pending(&strings(&["c1"])).await.unwrap().len(), 1);
        tx.commit().await.unwrap();
        assert!(store.order("o-1").await.unwrap().is_none());
        let counts = store.counts(SHOP).await.unwrap();
        assert_eq!(counts.audit, 0);
        assert!(counts.outbox.is_empty() && counts.orders.is_empty());
        assert_eq!(counts.waitlist, 0);
        assert!(store.buyer(SHOP, "b1").await.unwrap().is_none());
    }
}

#[tokio::test]
async fn a_file_store_reads_committed_state_while_a_transaction_is_open() {
    let (_dir, store) = common::file_store("commerce-wal").await;
    seed_catalog(&store, 5).await;
    let mut tx = store.begin().await.unwrap();
    let mut s = tx
        .lock_stock(SHOP, &strings(&["GOR-NEG"]))
        .await
        .unwrap()
        .remove(0);
    s.available = 0;
    s.sold = 5;
    tx.put_stock(&[s]).await.unwrap();
    // WAL: another pooled connection still reads the last committed state.
    assert_eq!(
        store
            .stock(SHOP, "GOR-NEG")
            .await
            .unwrap()
            .unwrap()
            .available,
        5
    );
    tx.commit().await.unwrap();
    assert_eq!(
        store
            .stock(SHOP, "GOR-NEG")
            .await
            .unwrap()
            .unwrap()
            .available,
        0
    );
}

#[tokio::test]
async fn counts_per_status() {
    for (label, _dir, store) in common::both("commerce-counts").await {
        store
            .insert_inbox(&[
                inbox("c1", "b1", T0),
                inbox("c2", "b2", T0),
                inbox("c3", "b3", T0),
            ])
            .await
            .unwrap();
        let mut paid = order("o-2", "b2", T0, &[("A", 1)]);
        paid.status = OrderStatus::Paid;
        let mut tx = store.begin().await.unwrap();
        tx.mark_inbox(&[("c1".to_owned(), InboxStatus::Processed, None)])
            .await
            .unwrap();
        tx.put_orders(&[order("o-1", "b1", T0, &[("A", 1)]), paid])
            .await
            .unwrap();
        tx.enqueue(&[outbox_msg("m1", "b1", T0)]).await.unwrap();
        tx.put_waitlist(&[wait("w1", "A", "b1", T0), wait("w2", "A", "b2", T0)])
            .await
            .unwrap();
        tx.append_audit(&[audit_row("a1", "b1", T0)]).await.unwrap();
        tx.commit().await.unwrap();
        let c = store.counts(SHOP).await.unwrap();
        assert_eq!(
            c,
            CommerceCounts {
                inbox: vec![("pending".to_owned(), 2), ("processed".to_owned(), 1)],
                orders: vec![("open".to_owned(), 1), ("paid".to_owned(), 1)],
                outbox: vec![("pending".to_owned(), 1)],
                waitlist: 2,
                audit: 1,
            },
            "{label}"
        );
        assert_eq!(
            store.counts("other").await.unwrap(),
            CommerceCounts::default()
        );
    }
}

// ---- a pipeline-sized batch, timed ----

/// Records the time since `t` under `name` and restarts `t`.
fn lap(steps: &mut Vec<(&'static str, Vec<Duration>)>, name: &'static str, t: &mut Instant) {
    let now = Instant::now();
    match steps.iter_mut().find(|(n, _)| *n == name) {
        Some((_, times)) => times.push(now - *t),
        None => steps.push((name, vec![now - *t])),
    }
    *t = now;
}

/// One engine batch: 500 comments received, then one transaction that takes them,
/// locks 30 SKUs, reads the open orders of 200 buyers (100 found, with their lines),
/// writes 200 orders (1–2 lines), 500 audit rows and 400 messages.
/// Prints the time (never asserted); checks the result.
#[tokio::test]
async fn batch_transaction_timing() {
    for (label, _dir, store) in common::both("commerce-bench").await {
        store.put_shop(&shop()).await.unwrap();
        let skus: Vec<String> = (0..30).map(|i| format!("SKU-{i:02}")).collect();
        let products: Vec<Product> = skus.iter().map(|s| product(s, 1_000_000, None)).collect();
        store.import_products(SHOP, &products).await.unwrap();

        let rounds = 6_i64;
        let mut steps: Vec<(&'static str, Vec<Duration>)> = Vec::new();
        let mut insert_times = Vec::new();
        let mut tx_times = Vec::new();
        for round in 0..rounds {
            let base = T0 + round * 10_000;
            let comments: Vec<InboxComment> = (0..500)
                .map(|i| {
                    inbox(
                        &format!("r{round}-c{i:03}"),
                        &format!("r{round}-b{}", i % 200),
                        base + i,
                    )
                })
                .collect();
            let ids: Vec<String> = comments.iter().map(|c| c.comment_id.clone()).collect();
            // Half the buyers are new, half have an open order from the previous batch.
            let keys: Vec<(String, String)> = (0..200)
                .map(|i| {
                    let r = if i % 2 == 0 { round } else { round - 1 };
                    (LIVE.to_owned(), format!("r{r}-b{i}"))
                })
                .collect();
            let orders: Vec<Order> = (0..200)
                .map(|i| {
                    let a = skus[i % 30].as_str();
                    let b = skus[(i + 7) % 30].as_str();
                    let lines: Vec<(&str, u32)> = if i % 2 == 0 {
                        vec![(a, 1)]
                    } else {
                        vec![(a, 1), (b, 2)]
                    };
                    order(
                        &format!("r{round}-o{i:03}"),
                        &format!("r{round}-b{i}"),
                        base + i64::try_from(i).unwrap(),
                        &lines,
                    )
                })
                .collect();
            let audits: Vec<AuditRecord> = (0..500)
                .map(|i| {
                    audit_row(
                        &format!("r{round}-a{i:03}"),
                        &format!("r{round}-b{}", i % 200),
                        base + i,
                    )
                })
                .collect();
            let msgs: Vec<OutboxMessage> = (0..400)
                .map(|i| {
                    outbox_msg(
                        &format!("r{round}-m{i:03}"),
                        &format!("r{round}-b{}", i % 200),
                        base + i,
                    )
                })
                .collect();
            let marks: Vec<(String, InboxStatus, Option<String>)> = ids
                .iter()
                .map(|id| (id.clone(), InboxStatus::Processed, None))
                .collect();

            let started = Instant::now();
            let fresh = store.insert_inbox(&comments).await.unwrap();
            let inserted = started.elapsed();
            assert!(fresh.iter().all(|b| *b));

            let started = Instant::now();
            let mut t = started;
            let mut tx = store.begin().await.unwrap();
            lap(&mut steps, "begin", &mut t);
            let taken = tx.take_pending(&ids).await.unwrap();
            lap(&mut steps, "take_pending", &mut t);
            let stock = tx.lock_stock(SHOP, &skus).await.unwrap();
            lap(&mut steps, "lock_stock", &mut t);
            let open = tx.open_orders(&keys).await.unwrap();
            lap(&mut steps, "open_orders", &mut t);
            let new_stock: Vec<StockLevel> = stock
                .into_iter()
                .map(|mut s| {
                    s.available -= 10;
                    s.reserved += 10;
                    s
                })
                .collect();
            tx.put_stock(&new_stock).await.unwrap();
            lap(&mut steps, "put_stock", &mut t);
            tx.put_orders(&orders).await.unwrap();
            lap(&mut steps, "put_orders", &mut t);
            tx.mark_inbox(&marks).await.unwrap();
            lap(&mut steps, "mark_inbox", &mut t);
            tx.append_audit(&audits).await.unwrap();
            lap(&mut steps, "append_audit", &mut t);
            tx.enqueue(&msgs).await.unwrap();
            lap(&mut steps, "enqueue", &mut t);
            tx.commit().await.unwrap();
            lap(&mut steps, "commit", &mut t);
            let took = started.elapsed();
            assert_eq!((taken.len(), new_stock.len()), (500, 30));
            assert_eq!(open.len(), if round == 0 { 0 } else { 100 });
            assert!(open.iter().all(|o| !o.lines.is_empty()));
            insert_times.push(inserted);
            tx_times.push(took);
        }
        let c = store.counts(SHOP).await.unwrap();
        let n = u64::try_from(rounds).unwrap();
        assert_eq!(CommerceCounts::get(&c.inbox, "processed"), 500 * n);
        assert_eq!(CommerceCounts::get(&c.orders, "open"), 200 * n);
        assert_eq!(CommerceCounts::get(&c.outbox, "pending"), 400 * n);
        assert_eq!(c.audit, 500 * n);
        let lines: i64 = sqlx::query_scalar("SELECT count(*) FROM commerce_order_lines")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(lines, 300 * rounds);
        let mut total: Vec<Duration> = insert_times
            .iter()
            .zip(&tx_times)
            .map(|(a, b)| *a + *b)
            .collect();
        insert_times.sort();
        tx_times.sort();
        total.sort();
        println!(
            "commerce batch on sqlite {label}: insert_inbox(500) median {:?} (min {:?}); \
             transaction (take 500, lock 30, read 100 open orders, 200 orders/300 lines, 500 marks, 500 audit, 400 outbox) \
             median {:?} (min {:?}); per batch ≈ {:?} → ≈ {:.0} comments/s",
            insert_times[insert_times.len() / 2],
            insert_times[0],
            tx_times[tx_times.len() / 2],
            tx_times[0],
            total[total.len() / 2],
            500.0 / total[total.len() / 2].as_secs_f64()
        );
        let breakdown: Vec<String> = steps
            .iter_mut()
            .map(|(name, times)| {
                times.sort();
                format!("{name} {:?}", times[times.len() / 2])
            })
            .collect();
        println!(
            "  {label} transaction steps (median): {}",
            breakdown.join(", ")
        );
    }
}

// ---- the shared conformance suite ----

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conforms_in_memory() {
    meta_commerce::testing::conformance::run_all(|| async {
        Arc::new(SqliteStore::in_memory().await.unwrap()) as Arc<dyn CommerceStore>
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conforms_on_a_file() {
    let dir = common::TempDir::new("commerce-conformance");
    let n = std::sync::atomic::AtomicUsize::new(0);
    meta_commerce::testing::conformance::run_all(|| {
        let path = dir.path().join(format!(
            "case-{}.db",
            n.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        async move { Arc::new(SqliteStore::open(path).await.unwrap()) as Arc<dyn CommerceStore> }
    })
    .await;
}

/// The engine-level guarantees (64 concurrent buyers on stock 5, triple delivery, the
/// expiry/payment race) through the real engine on a SQLite file.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn engine_scenarios_on_a_file() {
    let dir = common::TempDir::new("commerce-engine");
    let n = std::sync::atomic::AtomicUsize::new(0);
    meta_commerce::testing::pipeline::run_all(|| {
        let path = dir.path().join(format!(
            "engine-{}.db",
            n.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        async move { Arc::new(SqliteStore::open(path).await.unwrap()) as Arc<dyn CommerceStore> }
    })
    .await;
}
