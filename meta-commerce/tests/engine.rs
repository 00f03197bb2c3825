//! The live-sale engine end to end on the in-memory store (the SQL adapters run the
//! same scenarios through `meta_commerce::testing::pipeline`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use meta_commerce::Money;
use meta_commerce::engine::{EngineError, PaymentOutcome};
use meta_commerce::payments::{PaymentState, PaymentStatus};
use meta_commerce::store::{InboxStatus, LogFilter, OrderStatus, OutboxKind};

#[tokio::test]
async fn a_comment_becomes_a_reservation_an_order_and_two_replies() {
    let f = fixture().await;
    f.say("1", "b1", "buy POL-ROJ-M*2").await;
    let tick = f.engine.tick().await.unwrap();
    assert_eq!(tick.processed, 1);
    assert_eq!(f.stock("POL-ROJ-M").await, (3, 2, 0));
    let orders = f.orders_of("b1").await;
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].status, OrderStatus::Open);
    assert_eq!(orders[0].total_minor, 2 * 12990);
    assert_eq!(
        orders[0].hold_expires_at_ms,
        (T0 as i64) * 1000 + 30 * 60 * 1000
    );
    let out = f.store.outbox(&LogFilter::default()).await.unwrap();
    assert_eq!(out.len(), 2, "{out:#?}");
    let public = out
        .iter()
        .find(|m| m.kind == OutboxKind::PublicReply)
        .unwrap();
    assert!(
        !public.text.contains('$') && !public.text.contains("http"),
        "{}",
        public.text
    );
    let private = out
        .iter()
        .find(|m| m.kind == OutboxKind::PrivateReply)
        .unwrap();
    assert!(
        private.text.contains("{payment_link}") && private.text.contains("$25.980 CLP"),
        "{}",
        private.text
    );
    assert_eq!(private.comment_id.as_deref(), Some("555_1"));
    let audit = f.store.audit(&LogFilter::default()).await.unwrap();
    let a = audit
        .iter()
        .find(|a| a.comment_id.as_deref() == Some("555_1"))
        .unwrap();
    assert_eq!(a.action, "reserved");
    assert_eq!(a.classifier.as_deref(), Some("script"));
    assert_eq!(a.items.as_deref(), Some(r#"[{"sku":"POL-ROJ-M","qty":2}]"#));
    f.check_invariants(&declared()).await;
}

#[tokio::test]
async fn every_webhook_delivered_three_times_makes_one_order() {
    let f = fixture().await;
    let (body, sig) = delivery(&[
        comment("1", "b1", "buy POL-ROJ-M", T0),
        comment("2", "b2", "buy POL-ROJ-L", T0),
    ]);
    let mut reports = Vec::new();
    for _ in 0..3 {
        reports.push(f.engine.ingest_webhook(&body, Some(&sig)).await.unwrap());
        f.engine.tick().await.unwrap();
    }
    assert_eq!(reports[0].new_comments, 2);
    assert_eq!(reports[1].duplicates, 2);
    assert_eq!(reports[2].duplicates, 2);
    assert_eq!(f.orders_of("b1").await.len(), 1);
    assert_eq!(f.orders_of("b2").await.len(), 1);
    assert_eq!(f.stock("POL-ROJ-M").await, (4, 1, 0));
    assert_eq!(
        f.store.outbox(&LogFilter::default()).await.unwrap().len(),
        4
    );
}

#[tokio::test]
async fn forged_unsigned_and_malformed_webhooks_store_nothing() {
    let f = fixture().await;
    let (body, _) = delivery(&[comment("1", "b1", "buy POL-ROJ-M", T0)]);
    let forged = meta_core::webhook::sign(&secrecy::SecretString::from("other"), &body);
    assert!(matches!(
        f.engine.ingest_webhook(&body, Some(&forged)).await,
        Err(EngineError::Signature(_))
    ));
    assert!(matches!(
        f.engine.ingest_webhook(&body, None).await,
        Err(EngineError::Signature(_))
    ));
    let bad = b"{not json";
    let sig = meta_core::webhook::sign(&secrecy::SecretString::from(SECRET), bad);
    let err = f.engine.ingest_webhook(bad, Some(&sig)).await.unwrap_err();
    assert!(matches!(err, EngineError::Parse(_)), "{err}");
    assert_eq!(err.status_hint(), 400);
    assert!(f.store.inbox_comment("555_1").await.unwrap().is_none());
}

#[tokio::test]
async fn sixty_four_concurrent_buyers_get_exactly_the_stock() {
    let f = fixture().await;
    let mut tasks = Vec::new();
    for i in 0..64 {
        let engine = f.engine.clone();
        tasks.push(tokio::spawn(async move {
            let (body, sig) = delivery(&[comment(
                &format!("c{i}"),
                &format!("b{i}"),
                "buy POL-ROJ-M",
                T0 + i,
            )]);
            engine.ingest_webhook(&body, Some(&sig)).await.unwrap();
            engine.process_pending().await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    f.engine.tick().await.unwrap();
    assert_eq!(f.stock("POL-ROJ-M").await, (0, 5, 0));
    let orders = f.store.orders(&Default::default()).await.unwrap();
    assert_eq!(orders.len(), 5);
    assert_eq!(f.store.waitlist_entries("shop").await.unwrap().len(), 59);
    f.check_invariants(&declared()).await;
}

#[tokio::test]
async fn first_come_first_served_by_created_time_not_arrival() {
    let f = fixture().await;
    // Arrives first but was written later.
    f.say_at("late", "late", "buy POL-ROJ-L*3", T0 + 10).await;
    f.say_at("early", "early", "buy POL-ROJ-L*3", T0 + 1).await;
    f.engine.tick().await.unwrap();
    assert_eq!(f.orders_of("early").await[0].qty_of("POL-ROJ-L"), 3);
    assert!(f.orders_of("late").await.is_empty());
    let wait = f.store.waitlist_entries("shop").await.unwrap();
    assert_eq!((wait[0].buyer_id.as_str(), wait[0].qty), ("late", 3));
}

#[tokio::test]
async fn a_short_sku_reserves_what_is_left_and_waitlists_the_rest() {
    let f = fixture().await;
    f.say("1", "b1", "buy POL-ROJ-L*2").await;
    f.say_at("2", "b2", "buy POL-ROJ-L*2", T0 + 1).await;
    f.engine.tick().await.unwrap();
    assert_eq!(f.orders_of("b2").await[0].qty_of("POL-ROJ-L"), 1);
    let wait = f.store.waitlist_entries("shop").await.unwrap();
    assert_eq!((wait[0].buyer_id.as_str(), wait[0].qty), ("b2", 1));
    let audit = f
        .store
        .audit(&LogFilter {
            comment_id: Some("555_2".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit[0].action, "partially_reserved");
}

#[tokio::test]
async fn an_expired_hold_releases_stock_and_promotes_the_waitlist() {
    let f = fixture().await;
    f.say("1", "b1", "buy POL-ROJ-L*3").await;
    f.say_at("2", "b2", "buy POL-ROJ-L", T0 + 1).await;
    f.engine.tick().await.unwrap();
    assert_eq!(f.stock("POL-ROJ-L").await, (0, 3, 0));
    f.advance(Duration::from_secs(31 * 60));
    let tick = f.engine.tick().await.unwrap();
    assert_eq!(tick.expired, 1);
    assert_eq!(f.orders_of("b1").await[0].status, OrderStatus::Expired);
    // b2 waited: one unit promoted into a new order, told by the private reply kept for it.
    let b2 = f.orders_of("b2").await;
    assert_eq!(b2.len(), 1);
    assert_eq!(b2[0].qty_of("POL-ROJ-L"), 1);
    assert_eq!(f.stock("POL-ROJ-L").await, (2, 1, 0));
    let msgs = f
        .store
        .outbox(&LogFilter {
            buyer_id: Some("b2".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(msgs.iter().any(|m| m.kind == OutboxKind::PrivateReply && m.comment_id.as_deref() == Some("555_2")));
    let b1 = f
        .store
        .outbox(&LogFilter {
            buyer_id: Some("b1".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        b1.iter()
            .any(|m| m.kind == OutboxKind::Message && m.dedupe_key.starts_with("exp:"))
    );
    assert!(f.store.waitlist_entries("shop").await.unwrap().is_empty());
    f.check_invariants(&declared()).await;
}

fn approved(order_id: &str, r: &str, minor: i64) -> PaymentStatus {
    PaymentStatus::new(
        "fake",
        order_id,
        r,
        PaymentState::Approved,
        Some(Money::new(minor, meta_commerce::Currency::CLP)),
        "approved",
    )
}

#[tokio::test]
async fn payment_commits_stock_and_repeated_notices_are_no_ops() {
    let f = fixture().await;
    f.say("1", "b1", "buy POL-ROJ-M*2").await;
    f.engine.tick().await.unwrap();
    let order = f.orders_of("b1").await.remove(0);
    let out = f
        .engine
        .confirm_payment(&approved(&order.id, "pay-1", 25980))
        .await
        .unwrap();
    assert_eq!(
        out,
        PaymentOutcome::Paid {
            order_id: order.id.clone()
        }
    );
    assert_eq!(f.stock("POL-ROJ-M").await, (3, 0, 2));
    let again = f
        .engine
        .confirm_payment(&approved(&order.id, "pay-1", 25980))
        .await
        .unwrap();
    assert_eq!(
        again,
        PaymentOutcome::AlreadyPaid {
            order_id: order.id.clone()
        }
    );
    assert_eq!(f.stock("POL-ROJ-M").await, (3, 0, 2));
    // Expiry later does nothing to a paid order.
    f.advance(Duration::from_secs(3600));
    assert_eq!(f.engine.tick().await.unwrap().expired, 0);
    f.check_invariants(&declared()).await;
}

#[tokio::test]
async fn short_payment_and_unknown_order_are_refused_without_changes() {
    let f = fixture().await;
    f.say("1", "b1", "buy POL-ROJ-M*2").await;
    f.engine.tick().await.unwrap();
    let order = f.orders_of("b1").await.remove(0);
    let out = f
        .engine
        .confirm_payment(&approved(&order.id, "pay-1", 100))
        .await
        .unwrap();
    assert!(matches!(out, PaymentOutcome::Ignored { .. }), "{out:?}");
    assert_eq!(f.stock("POL-ROJ-M").await, (3, 2, 0));
    let err = f
        .engine
        .confirm_payment(&approved("nope", "pay-2", 100))
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::UnknownOrder(_)));
    assert_eq!(err.status_hint(), 404);
}

#[tokio::test]
async fn late_payment_after_expiry_rereserves_when_units_are_free() {
    let f = fixture().await;
    f.say("1", "b1", "buy POL-ROJ-M*2").await;
    f.engine.tick().await.unwrap();
    let order = f.orders_of("b1").await.remove(0);
    f.advance(Duration::from_secs(31 * 60));
    f.engine.tick().await.unwrap();
    assert_eq!(f.stock("POL-ROJ-M").await, (5, 0, 0));
    let out = f
        .engine
        .confirm_payment(&approved(&order.id, "pay-1", 25980))
        .await
        .unwrap();
    assert_eq!(
        out,
        PaymentOutcome::PaidAfterExpiry {
            order_id: order.id.clone()
        }
    );
    assert_eq!(f.stock("POL-ROJ-M").await, (3, 0, 2));
    f.check_invariants(&declared()).await;
}

#[tokio::test]
async fn late_payment_after_the_units_were_resold_flags_a_refund() {
    let f = fixture().await;
    f.say("1", "b1", "buy POL-ROJ-L*3").await;
    f.engine.tick().await.unwrap();
    let order = f.orders_of("b1").await.remove(0);
    f.advance(Duration::from_secs(31 * 60));
    f.engine.tick().await.unwrap();
    f.say_at("2", "b2", "buy POL-ROJ-L*3", T0 + 2000).await;
    f.engine.tick().await.unwrap();
    let out = f
        .engine
        .confirm_payment(&approved(&order.id, "pay-1", 38970))
        .await
        .unwrap();
    assert!(matches!(out, PaymentOutcome::RefundDue { .. }), "{out:?}");
    let o = f.store.order(&order.id).await.unwrap().unwrap();
    assert_eq!(o.status, OrderStatus::RefundDue);
    assert_eq!(
        o.paid_ref.as_deref(),
        Some("pay-1"),
        "the money is recorded"
    );
    assert_eq!(f.stock("POL-ROJ-L").await, (0, 3, 0), "b2 keeps the units");
    let audit = f
        .store
        .audit(&LogFilter {
            order_id: Some(order.id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(audit.iter().any(|a| a.action == "refund_due"));
    f.check_invariants(&declared()).await;
}

#[tokio::test]
async fn expiry_and_payment_racing_lose_neither_money_nor_stock() {
    for round in 0..20u64 {
        let f = fixture().await;
        f.say("1", "b1", "buy POL-ROJ-L*2").await;
        f.engine.tick().await.unwrap();
        let order = f.orders_of("b1").await.remove(0);
        f.advance(Duration::from_secs(31 * 60));
        let (e, p) = (f.engine.clone(), f.engine.clone());
        let id = order.id.clone();
        let expire = tokio::spawn(async move { e.expire_due().await.unwrap() });
        let pay = tokio::spawn(async move {
            p.confirm_payment(&approved(&id, "pay", 25980))
                .await
                .unwrap()
        });
        let (_, outcome) = (expire.await.unwrap(), pay.await.unwrap());
        let o = f.store.order(&order.id).await.unwrap().unwrap();
        assert_eq!(o.status, OrderStatus::Paid, "round {round}: {outcome:?}");
        assert_eq!(f.stock("POL-ROJ-L").await, (1, 0, 2), "round {round}");
        f.check_invariants(&declared()).await;
    }
}

#[tokio::test]
async fn cancels_release_units_and_waitlist_moves() {
    let f = fixture().await;
    f.say("1", "b1", "buy POL-ROJ-L*3 POL-ROJ-M").await;
    f.say_at("2", "b2", "buy POL-ROJ-L", T0 + 1).await;
    f.engine.tick().await.unwrap();
    f.say_at("3", "b1", "cancel POL-ROJ-L*2", T0 + 2).await;
    f.engine.tick().await.unwrap();
    let b1 = f.orders_of("b1").await.remove(0);
    assert_eq!((b1.qty_of("POL-ROJ-L"), b1.qty_of("POL-ROJ-M")), (1, 1));
    assert_eq!(
        f.orders_of("b2").await[0].qty_of("POL-ROJ-L"),
        1,
        "promoted"
    );
    assert_eq!(f.stock("POL-ROJ-L").await, (1, 2, 0));
    f.say_at("4", "b1", "cancel", T0 + 3).await;
    f.engine.tick().await.unwrap();
    assert_eq!(f.orders_of("b1").await[0].status, OrderStatus::Cancelled);
    assert_eq!(f.stock("POL-ROJ-M").await, (5, 0, 0));
    f.say_at("5", "b9", "cancel", T0 + 4).await;
    f.engine.tick().await.unwrap();
    let audit = f
        .store
        .audit(&LogFilter {
            comment_id: Some("555_5".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit[0].action, "nothing_to_cancel");
    f.check_invariants(&declared()).await;
}

#[tokio::test]
async fn bad_items_get_a_clear_record_and_take_nothing() {
    let f = fixture().await;
    f.say("1", "b1", "buy POL-ROJ-M*500").await;
    f.say_at("2", "b2", "buy NOPE-1", T0 + 1).await;
    f.say_at("3", "b3", "maybe POL-ROJ-M|POL-ROJ-L", T0 + 2)
        .await;
    f.say_at("4", "b4", "ask la 7 viene en L?", T0 + 3).await;
    f.engine.tick().await.unwrap();
    assert_eq!(f.stock("POL-ROJ-M").await, (5, 0, 0));
    let audit = f.store.audit(&LogFilter::default()).await.unwrap();
    let action = |c: &str| {
        audit
            .iter()
            .find(|a| a.comment_id.as_deref() == Some(c))
            .unwrap()
            .action
            .clone()
    };
    assert_eq!(action("555_1"), "rejected_quantity");
    assert_eq!(action("555_2"), "unknown_sku");
    assert_eq!(action("555_3"), "did_you_mean");
    assert_eq!(action("555_4"), "no_action");
    let dym = f
        .store
        .outbox(&LogFilter {
            comment_id: Some("555_3".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(dym.len(), 1);
    assert!(
        dym[0].text.contains("#1 Polera roja talla M")
            && dym[0].text.contains("#2 Polera roja talla L"),
        "{}",
        dym[0].text
    );
    assert!(
        f.store
            .orders(&Default::default())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn own_page_comments_and_opted_out_buyers_are_skipped() {
    let f = fixture().await;
    f.say("1", PAGE, "buy POL-ROJ-M").await;
    assert_eq!(
        f.store
            .inbox_comment("555_1")
            .await
            .unwrap()
            .unwrap()
            .status,
        InboxStatus::Skipped
    );
    f.say_at("2", "b1", "buy POL-ROJ-M", T0 + 1).await;
    f.engine.tick().await.unwrap();
    f.say_at("3", "b1", "STOP", T0 + 2).await;
    f.engine.tick().await.unwrap();
    let msgs = f
        .store
        .outbox(&LogFilter {
            buyer_id: Some("b1".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        msgs.iter()
            .all(|m| m.status == meta_commerce::store::OutboxStatus::Suppressed),
        "{msgs:#?}"
    );
    f.say_at("4", "b1", "buy POL-ROJ-L", T0 + 3).await;
    f.engine.tick().await.unwrap();
    assert_eq!(
        f.store
            .inbox_comment("555_4")
            .await
            .unwrap()
            .unwrap()
            .status,
        InboxStatus::Skipped
    );
    assert_eq!(f.stock("POL-ROJ-L").await, (3, 0, 0));
}

#[tokio::test]
async fn data_deletion_anonymizes_and_keeps_the_accounting() {
    let f = fixture().await;
    f.say("1", "b1", "buy POL-ROJ-M").await;
    f.say_at("2", "b1", "buy LAB-MATE-05", T0 + 1).await;
    f.engine.tick().await.unwrap();
    let clp = f
        .orders_of("b1")
        .await
        .into_iter()
        .find(|o| o.currency == meta_commerce::Currency::CLP)
        .unwrap();
    f.engine
        .confirm_payment(&approved(&clp.id, "p", 12990))
        .await
        .unwrap();
    f.say_at("3", "b1", "ELIMINAR MIS DATOS", T0 + 2).await;
    f.engine.tick().await.unwrap();
    assert!(
        f.orders_of("b1").await.is_empty(),
        "no order keeps the buyer id"
    );
    let paid = f.store.order(&clp.id).await.unwrap().unwrap();
    assert_eq!((paid.status, paid.total_minor), (OrderStatus::Paid, 12990));
    assert!(paid.buyer_id.starts_with("anon-"));
    assert_eq!(
        f.stock("LAB-MATE-05").await,
        (10, 0, 0),
        "the open hold was released"
    );
    let audit = f.store.audit(&LogFilter::default()).await.unwrap();
    assert!(audit.iter().all(|a| a.buyer_id.as_deref() != Some("b1")));
    let inbox = f.store.inbox_comment("555_1").await.unwrap().unwrap();
    assert_ne!(inbox.buyer_id, "b1");
    assert!(!inbox.text.contains("POL"));
    f.check_invariants(&declared()).await;
}

#[tokio::test]
async fn restock_promotes_waiting_buyers_in_comment_order() {
    let f = fixture().await;
    f.say_at("1", "b1", "buy ZAP-NEG-39", T0 + 5).await;
    f.say_at("2", "b2", "buy ZAP-NEG-39*2", T0 + 1).await;
    f.engine.tick().await.unwrap();
    assert!(
        f.store
            .orders(&Default::default())
            .await
            .unwrap()
            .is_empty()
    );
    f.engine.restock("shop", "ZAP-NEG-39", 2).await.unwrap();
    assert_eq!(f.orders_of("b2").await[0].qty_of("ZAP-NEG-39"), 2);
    assert!(f.orders_of("b1").await.is_empty());
    let mut d = declared();
    d.insert("ZAP-NEG-39".into(), 2);
    f.check_invariants(&d).await;
    assert!(matches!(
        f.engine.restock("shop", "NOPE", 1).await,
        Err(EngineError::UnknownSku(_))
    ));
}

#[tokio::test]
async fn a_bad_catalog_imports_nothing() {
    let f = fixture().await;
    let bad =
        "sku,name,aliases,price,currency,stock\nPOL-ROJ-M,x,a|#1,1,CLP,99\nbad,y,b|#2,1,CLP,1\n";
    let err = f
        .engine
        .import_catalog_csv("shop", bad.as_bytes())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("line 3"), "{err}");
    assert_eq!(f.stock("POL-ROJ-M").await, (5, 0, 0));
}

#[tokio::test]
async fn a_closed_live_records_but_does_not_sell() {
    let f = fixture().await;
    f.engine.close_live(&f.live.id).await.unwrap();
    f.say("1", "b1", "buy POL-ROJ-M").await;
    f.engine.tick().await.unwrap();
    assert_eq!(
        f.store
            .inbox_comment("555_1")
            .await
            .unwrap()
            .unwrap()
            .status,
        InboxStatus::Skipped
    );
    assert_eq!(f.stock("POL-ROJ-M").await, (5, 0, 0));
    let _ = Arc::clone(&f.engine);
}
