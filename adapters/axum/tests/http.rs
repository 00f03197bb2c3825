//! The routes against the in-memory store: handshake, signed deliveries (once, three
//! times, forged, malformed, oversized), the read and control API, payment
//! notifications, the API token, and a real listener with the worker, the outbox
//! dispatcher, graceful shutdown and a failing background task.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use meta_commerce::engine::Engine;
use meta_commerce::memory::InMemoryCommerceStore;
use meta_commerce::store::{CommerceStore, InboxStatus, OrderStatus};
use meta_core::clock::{Clock, ManualClock, SystemClock};
use meta_server::{AppState, Server, router};
use secrecy::SecretString;
use serde_json::json;

/// Comments are made "now" on the manual clock.
const T0: i64 = 1_700_000_000;

struct Fixture {
    app: Router,
    engine: Arc<Engine>,
    store: Arc<dyn CommerceStore>,
    live: String,
}

async fn fixture_with(state: impl FnOnce(AppState) -> AppState) -> Fixture {
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(T0 as u64));
    let store: Arc<dyn CommerceStore> = Arc::new(InMemoryCommerceStore::new());
    let engine = engine(store.clone(), clock.clone(), Some(fake_payments(clock)));
    let live = seed(&engine, 5).await;
    let app = router(state(AppState::new(
        engine.clone(),
        SecretString::from(VERIFY_TOKEN),
    )));
    Fixture {
        app,
        engine,
        store,
        live,
    }
}

async fn fixture() -> Fixture {
    fixture_with(|s| s).await
}

async fn inbox_count(store: &Arc<dyn CommerceStore>) -> u64 {
    store
        .counts(SHOP)
        .await
        .unwrap()
        .inbox
        .iter()
        .map(|(_, n)| n)
        .sum()
}

#[tokio::test]
async fn handshake_echoes_the_challenge_as_plain_text() {
    let f = fixture().await;
    let uri = format!(
        "/webhooks/meta?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"
    );
    let (status, headers, body) = call(&f.app, get(&uri)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(body, b"1158201444");
}

#[tokio::test]
async fn handshake_with_a_wrong_token_or_mode_is_forbidden() {
    let f = fixture().await;
    for uri in [
        "/webhooks/meta?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1".to_owned(),
        format!(
            "/webhooks/meta?hub.mode=unsubscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1"
        ),
        format!("/webhooks/meta?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}"),
        "/webhooks/meta".to_owned(),
    ] {
        let (status, body) = call_json(&f.app, get(&uri)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri}");
        assert_eq!(body["error"]["code"], "handshake_refused");
    }
}

#[tokio::test]
async fn a_signed_comment_is_acknowledged_once_it_is_in_the_inbox() {
    let f = fixture().await;
    let body = comment_body("c-1", "buyer-1", "POL-ROJ-M x 2 porfa", T0);
    let (status, report) = call_json(&f.app, signed_webhook(body)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["new_comments"], 1);
    let row = f.store.inbox_comment("c-1").await.unwrap().expect("stored");
    assert_eq!(row.status, InboxStatus::Pending);
    assert_eq!(row.buyer_id, "buyer-1");
    assert_eq!(row.text, "POL-ROJ-M x 2 porfa");
    assert_eq!(row.live_id, f.live);
}

#[tokio::test]
async fn the_same_delivery_three_times_makes_one_row_and_one_order() {
    let f = fixture().await;
    let body = comment_body("c-7", "buyer-7", "POL-ROJ-M x 2 porfa", T0);
    let mut reports = Vec::new();
    for _ in 0..3 {
        let (status, report) = call_json(&f.app, signed_webhook(body.clone())).await;
        assert_eq!(status, StatusCode::OK);
        reports.push(report);
    }
    assert_eq!(reports[0]["new_comments"], 1);
    assert_eq!(reports[1]["duplicates"], 1);
    assert_eq!(reports[2]["duplicates"], 1);
    assert_eq!(inbox_count(&f.store).await, 1);

    f.engine.tick().await.unwrap();
    let orders = live_orders(f.store.as_ref(), &f.live).await;
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(orders[0].buyer_id, "buyer-7");
    assert_eq!(orders[0].qty_of(SKU), 2);
    let stock = f.store.stock(SHOP, SKU).await.unwrap().unwrap();
    assert_eq!((stock.available, stock.reserved), (3, 2));
}

#[tokio::test]
async fn a_forged_or_missing_signature_is_401_and_stores_nothing() {
    let f = fixture().await;
    let body = comment_body("c-2", "buyer-2", "POL-ROJ-M x 1", T0);
    let forged = meta_core::webhook::sign(&SecretString::from("not-the-secret"), &body);
    let requests = [
        Request::post("/webhooks/meta")
            .header("x-hub-signature-256", forged)
            .body(Body::from(body.clone()))
            .unwrap(),
        Request::post("/webhooks/meta")
            .body(Body::from(body.clone()))
            .unwrap(),
        Request::post("/webhooks/meta")
            .header("x-hub-signature-256", "sha1=abc")
            .body(Body::from(body.clone()))
            .unwrap(),
    ];
    for req in requests {
        let (status, err) = call_json(&f.app, req).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(err["error"]["code"], "invalid_signature");
    }
    assert!(f.store.inbox_comment("c-2").await.unwrap().is_none());
    assert_eq!(inbox_count(&f.store).await, 0);
}

#[tokio::test]
async fn malformed_json_with_a_valid_signature_is_400() {
    let f = fixture().await;
    for body in [&b"{not json"[..], br#"{"entry":[]}"#, b"[1,2,3]"] {
        let (status, err) = call_json(&f.app, signed_webhook(body.to_vec())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(err["error"]["code"], "malformed_payload");
    }
    assert_eq!(inbox_count(&f.store).await, 0);
}

#[tokio::test]
async fn an_oversized_body_is_413_whether_or_not_it_announces_its_length() {
    let f = fixture_with(|s| s.with_body_limit(4096)).await;
    let mut body = comment_body("c-3", "buyer-3", "POL-ROJ-M x 1", T0);
    // Valid JSON, valid signature: only its size is wrong.
    body.truncate(body.len() - 1);
    body.extend(std::iter::repeat_n(b' ', 8000));
    body.push(b'}');
    let sig = signature(&body);

    let announced = Request::post("/webhooks/meta")
        .header("content-length", body.len())
        .header("x-hub-signature-256", &sig)
        .body(Body::from(body.clone()))
        .unwrap();
    let (status, err) = call_json(&f.app, announced).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(err["error"]["code"], "payload_too_large");

    // Streamed without a Content-Length: the limit trips while reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        body.chunks(1000).map(|c| Ok(c.to_vec())).collect();
    let streamed = Request::post("/webhooks/meta")
        .header("x-hub-signature-256", &sig)
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .unwrap();
    let (status, err) = call_json(&f.app, streamed).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(err["error"]["code"], "payload_too_large");
    assert_eq!(inbox_count(&f.store).await, 0);

    // The same comment at a normal size goes through.
    let (status, _) = call_json(
        &f.app,
        signed_webhook(comment_body("c-3", "buyer-3", "POL-ROJ-M x 1", T0)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn read_endpoints_return_what_is_stored() {
    let f = fixture().await;
    for (i, buyer) in ["ana", "bea"].iter().enumerate() {
        let body = comment_body(
            &format!("c-{i}"),
            buyer,
            "POL-ROJ-M x 2 porfa",
            T0 + i as i64,
        );
        assert_eq!(call(&f.app, signed_webhook(body)).await.0, StatusCode::OK);
    }
    f.engine.tick().await.unwrap();

    let (status, products) = call_json(&f.app, get(&format!("/api/shops/{SHOP}/products"))).await;
    assert_eq!(status, StatusCode::OK);
    let products = products.as_array().unwrap();
    assert_eq!(products.len(), 2);
    let polera = products
        .iter()
        .find(|p| p["product"]["sku"] == SKU)
        .unwrap();
    assert_eq!(polera["stock"]["available"], 1);
    assert_eq!(polera["stock"]["reserved"], 4);

    let (status, lives) = call_json(&f.app, get(&format!("/api/shops/{SHOP}/lives"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(lives[0]["id"], f.live.as_str());
    assert_eq!(lives[0]["post_id"], POST);

    let (status, orders) = call_json(
        &f.app,
        get(&format!("/api/lives/{}/orders?status=open", f.live)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let orders = orders.as_array().unwrap();
    assert_eq!(orders.len(), 2);
    let (_, paid) = call_json(
        &f.app,
        get(&format!("/api/lives/{}/orders?status=paid", f.live)),
    )
    .await;
    assert_eq!(paid.as_array().unwrap().len(), 0);
    let (_, limited) = call_json(
        &f.app,
        get(&format!("/api/lives/{}/orders?limit=1", f.live)),
    )
    .await;
    assert_eq!(limited.as_array().unwrap().len(), 1);

    let id = orders[0]["id"].as_str().unwrap();
    let (status, order) = call_json(&f.app, get(&format!("/api/orders/{id}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(order["id"], id);
    assert_eq!(order["status"], "open");
    assert_eq!(order["lines"][0]["sku"], SKU);

    let (status, counts) = call_json(&f.app, get(&format!("/api/shops/{SHOP}/counts"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(counts["orders"]["open"], 2);
    assert_eq!(counts["inbox"]["processed"], 2);

    let (status, health) = call_json(&f.app, get("/health")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["status"], "ok");
}

#[tokio::test]
async fn read_endpoints_say_what_is_missing_or_wrong() {
    let f = fixture().await;
    for (uri, code) in [
        ("/api/shops/nope/products".to_owned(), "unknown_shop"),
        ("/api/shops/nope/lives".to_owned(), "unknown_shop"),
        ("/api/shops/nope/counts".to_owned(), "unknown_shop"),
        ("/api/lives/nope/orders".to_owned(), "unknown_live"),
        ("/api/orders/nope".to_owned(), "unknown_order"),
        ("/no/such/route".to_owned(), "no_route"),
    ] {
        let (status, err) = call_json(&f.app, get(&uri)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(err["error"]["code"], code, "{uri}");
    }
    let (status, err) = call_json(
        &f.app,
        get(&format!("/api/lives/{}/orders?status=shipped", f.live)),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("shipped")
    );
}

#[tokio::test]
async fn kill_switch_endpoints_flip_the_flags() {
    let f = fixture().await;
    let uri = format!("/api/shops/{SHOP}/kill-switch");
    let (status, body) = call_json(&f.app, post_json(&uri, &json!({"on": true}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["kill_switch"], true);
    assert!(f.store.shop(SHOP).await.unwrap().unwrap().kill_switch);
    call_json(&f.app, post_json(&uri, &json!({"on": false}))).await;
    assert!(!f.store.shop(SHOP).await.unwrap().unwrap().kill_switch);

    let uri = format!("/api/lives/{}/kill-switch", f.live);
    let (status, _) = call_json(&f.app, post_json(&uri, &json!({"on": true}))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(f.store.live(&f.live).await.unwrap().unwrap().kill_switch);

    let (status, err) = call_json(
        &f.app,
        post_json("/api/lives/nope/kill-switch", &json!({"on": true})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["error"]["code"], "unknown_live");
    let (status, err) = call_json(
        &f.app,
        post_json("/api/shops/nope/kill-switch", &json!({"on": true})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["error"]["code"], "unknown_shop");

    let (status, err) = call_json(&f.app, post_json(&uri, &json!({"on": "yes"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"]["code"], "bad_request");
}

#[tokio::test]
async fn confirm_transfer_pays_the_order() {
    let f = fixture().await;
    let body = comment_body("c-9", "buyer-9", "POL-ROJ-M x 1", T0);
    call(&f.app, signed_webhook(body)).await;
    f.engine.tick().await.unwrap();
    let order = live_orders(f.store.as_ref(), &f.live).await.remove(0);

    let uri = format!("/api/orders/{}/confirm-transfer", order.id);
    let (status, outcome) =
        call_json(&f.app, Request::post(&uri).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(outcome["outcome"], "paid");
    assert_eq!(outcome["order_id"], order.id.as_str());
    let paid = f.store.order(&order.id).await.unwrap().unwrap();
    assert_eq!(paid.status, OrderStatus::Paid);
    let (_, again) = call_json(&f.app, Request::post(&uri).body(Body::empty()).unwrap()).await;
    assert_eq!(again["outcome"], "already_paid");

    let (status, err) = call_json(
        &f.app,
        Request::post("/api/orders/nope/confirm-transfer")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["error"]["code"], "unknown_order");
}

fn payment_notice(gateway: &str, order: &str, signature: &str) -> Request<Body> {
    Request::post(format!(
        "/webhooks/payments/{gateway}?type=payment&order={order}"
    ))
    .header("x-fake-signature", signature)
    .body(Body::from(r#"{"action":"payment.updated"}"#))
    .unwrap()
}

#[tokio::test]
async fn payment_webhooks_answer_by_outcome() {
    let f = fixture().await;
    call(
        &f.app,
        signed_webhook(comment_body("c-5", "buyer-5", "POL-ROJ-M x 1", T0)),
    )
    .await;
    f.engine.tick().await.unwrap();
    let order = live_orders(f.store.as_ref(), &f.live).await.remove(0);

    // Unknown gateway: 404 naming it.
    let (status, err) = call_json(&f.app, payment_notice("stripe", &order.id, "valid")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["error"]["code"], "unknown_gateway");
    assert!(err["error"]["message"].as_str().unwrap().contains("stripe"));

    // Bad signature: 401, nothing paid.
    let (status, _) = call_json(&f.app, payment_notice(FAKE_GATEWAY, &order.id, "forged")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        f.store.order(&order.id).await.unwrap().unwrap().status,
        OrderStatus::Open
    );

    // The provider's status check fails: 502 so the provider retries.
    let (status, _) = call_json(
        &f.app,
        payment_notice(FAKE_GATEWAY, "provider-down", "valid"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);

    // Unknown order: 404 naming it.
    let (status, err) = call_json(&f.app, payment_notice(FAKE_GATEWAY, "o-missing", "valid")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["error"]["code"], "unknown_order");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("o-missing")
    );

    // Authentic and approved: paid.
    let (status, outcome) =
        call_json(&f.app, payment_notice(FAKE_GATEWAY, &order.id, "valid")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(outcome["outcome"], "paid");
    assert_eq!(
        f.store.order(&order.id).await.unwrap().unwrap().status,
        OrderStatus::Paid
    );
}

#[tokio::test]
async fn payment_webhooks_without_payments_configured_are_404() {
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(T0 as u64));
    let store: Arc<dyn CommerceStore> = Arc::new(InMemoryCommerceStore::new());
    let engine = engine(store, clock, None);
    let app = router(AppState::new(engine, SecretString::from(VERIFY_TOKEN)));
    let (status, err) = call_json(&app, payment_notice("mercadopago", "o-1", "valid")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["error"]["code"], "unknown_gateway");
}

#[tokio::test]
async fn the_api_token_guards_the_api_but_not_the_webhooks() {
    let f = fixture_with(|s| s.with_api_token(SecretString::from("s3cret"))).await;
    let uri = format!("/api/shops/{SHOP}/products");
    let (status, err) = call_json(&f.app, get(&uri)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(err["error"]["code"], "unauthorized");
    let wrong = Request::get(&uri)
        .header("authorization", "Bearer nope")
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&f.app, wrong).await.0, StatusCode::UNAUTHORIZED);
    let right = Request::get(&uri)
        .header("authorization", "Bearer s3cret")
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&f.app, right).await.0, StatusCode::OK);

    let body = comment_body("c-4", "buyer-4", "POL-ROJ-M x 1", T0);
    assert_eq!(call(&f.app, signed_webhook(body)).await.0, StatusCode::OK);
    assert_eq!(call(&f.app, get("/health")).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_real_listener_runs_the_worker_and_shuts_down_gracefully() {
    // The worker sleeps on the clock between rounds: a real one here.
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::default());
    let store: Arc<dyn CommerceStore> = Arc::new(InMemoryCommerceStore::new());
    let engine = engine(store.clone(), clock, None);
    let live = seed(&engine, 5).await;
    let server = Server::bind(([127, 0, 0, 1], 0).into()).await.unwrap();
    let addr = server.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(
        AppState::new(engine, SecretString::from(VERIFY_TOKEN)),
        async move {
            let _ = stop_rx.await;
        },
    ));

    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let body = comment_body("c-live-1", "buyer-1", "POL-ROJ-M x 1", now);
    let sig = signature(&body);
    let (status, text) = http_post(
        addr,
        "/webhooks/meta",
        &[
            ("X-Hub-Signature-256", &sig),
            ("Content-Type", "application/json"),
        ],
        &body,
    )
    .await;
    assert_eq!(status, 200, "{text}");

    // The worker (woken by the ingest) turns the comment into an order.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let orders = loop {
        let orders = live_orders(store.as_ref(), &live).await;
        if !orders.is_empty() || tokio::time::Instant::now() > deadline {
            break orders;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].qty_of(SKU), 1);

    stop_tx.send(()).unwrap();
    running.await.unwrap().unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

/// A sender that records what it was asked to send.
#[derive(Debug, Default)]
struct RecordingSender {
    sent: std::sync::Mutex<Vec<(String, String)>>,
}

impl RecordingSender {
    fn record(&self, kind: &str, text: &str) -> meta_commerce::dispatch::SendFuture<'_> {
        let mut sent = self.sent.lock().unwrap();
        sent.push((kind.to_owned(), text.to_owned()));
        let id = format!("m-{}", sent.len());
        Box::pin(async move { Ok(id) })
    }
}

impl meta_commerce::dispatch::MessageSender for RecordingSender {
    fn public_reply<'a>(
        &'a self,
        _page_id: &'a str,
        _comment_id: &'a str,
        text: &'a str,
    ) -> meta_commerce::dispatch::SendFuture<'a> {
        self.record("public_reply", text)
    }
    fn private_reply<'a>(
        &'a self,
        _page_id: &'a str,
        _comment_id: &'a str,
        _comment_created_at: std::time::SystemTime,
        text: &'a str,
    ) -> meta_commerce::dispatch::SendFuture<'a> {
        self.record("private_reply", text)
    }
    fn message<'a>(
        &'a self,
        _page_id: &'a str,
        _recipient_id: &'a str,
        text: &'a str,
    ) -> meta_commerce::dispatch::SendFuture<'a> {
        self.record("message", text)
    }
}

#[derive(Debug)]
struct FixedLinks;

impl meta_commerce::dispatch::LinkResolver for FixedLinks {
    fn payment_link<'a>(&'a self, order_id: &'a str) -> meta_commerce::dispatch::LinkFuture<'a> {
        Box::pin(async move { Ok(Some(format!("https://pay.example.invalid/{order_id}"))) })
    }
}

#[tokio::test]
async fn the_dispatcher_runs_beside_the_routes_and_sends_the_replies() {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::default());
    let store: Arc<dyn CommerceStore> = Arc::new(InMemoryCommerceStore::new());
    let engine = engine(store.clone(), clock.clone(), None);
    seed(&engine, 5).await;
    let sender = Arc::new(RecordingSender::default());
    let dispatcher = meta_commerce::dispatch::Dispatcher::new(
        store.clone(),
        sender.clone(),
        Arc::new(FixedLinks),
        clock,
    );
    let server = Server::bind(([127, 0, 0, 1], 0).into())
        .await
        .unwrap()
        .dispatcher(dispatcher);
    let addr = server.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(
        AppState::new(engine, SecretString::from(VERIFY_TOKEN)),
        async move {
            let _ = stop_rx.await;
        },
    ));

    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let body = comment_body("c-send-1", "buyer-1", "POL-ROJ-M x 1", now);
    let sig = signature(&body);
    let (status, _) = http_post(
        addr,
        "/webhooks/meta",
        &[("X-Hub-Signature-256", &sig)],
        &body,
    )
    .await;
    assert_eq!(status, 200);

    // Worker: comment → order + outbox; dispatcher: outbox → sender.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let counts = loop {
        let counts = store.counts(SHOP).await.unwrap();
        let sent = meta_commerce::store::CommerceCounts::get(&counts.outbox, "sent");
        let pending = meta_commerce::store::CommerceCounts::get(&counts.outbox, "pending");
        if (sent > 0 && pending == 0) || tokio::time::Instant::now() > deadline {
            break counts;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let sent = meta_commerce::store::CommerceCounts::get(&counts.outbox, "sent");
    assert!(sent > 0, "{counts:?}");
    assert_eq!(
        meta_commerce::store::CommerceCounts::get(&counts.outbox, "pending"),
        0
    );
    let recorded = sender.sent.lock().unwrap().clone();
    assert_eq!(recorded.len() as u64, sent);
    assert!(recorded.iter().any(|(kind, _)| kind == "private_reply"));
    // The placeholder was resolved before sending.
    assert!(
        recorded
            .iter()
            .all(|(_, text)| !text.contains("{payment_link}"))
    );

    stop_tx.send(()).unwrap();
    running.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_background_task_that_stops_on_its_own_stops_the_server() {
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(T0 as u64));
    let store: Arc<dyn CommerceStore> = Arc::new(InMemoryCommerceStore::new());
    let engine = engine(store, clock, None);
    let server = Server::bind(([127, 0, 0, 1], 0).into())
        .await
        .unwrap()
        .worker(false)
        .background("quitter", |_shutdown| async {});
    // Never asked to stop: only the failed task can end `run`.
    let result = server
        .run(
            AppState::new(engine, SecretString::from(VERIFY_TOKEN)),
            std::future::pending(),
        )
        .await;
    match result {
        Err(meta_server::ServeError::Background(name)) => assert_eq!(name, "quitter"),
        other => panic!("expected a background failure, got {other:?}"),
    }
}
