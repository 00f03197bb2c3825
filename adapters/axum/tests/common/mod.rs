//! Shared fixtures: an engine with one shop, one catalog and one open live; signed
//! Meta comment deliveries; a fake payment gateway; a tiny HTTP/1.1 client for tests
//! that run a real listener.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use meta_commerce::Currency;
use meta_commerce::engine::Engine;
use meta_commerce::payments::{
    PaymentError, PaymentErrorKind, PaymentFuture, PaymentGateway, PaymentLink,
    PaymentNotification, PaymentRequest, PaymentRouter, PaymentState, PaymentStatus,
    WebhookRequest,
};
use meta_commerce::store::{CommerceStore, Order, OrderFilter, Shop};
use meta_core::clock::Clock;
use meta_core::webhook::{Verifier, sign};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

pub const APP_SECRET: &str = "test-app-secret";
pub const VERIFY_TOKEN: &str = "test-verify-token";
pub const SHOP: &str = "shop-1";
pub const PAGE: &str = "448242228374517";
pub const POST: &str = "448242228374517_122131676912594941";
pub const SKU: &str = "POL-ROJ-M";
/// The name the fake gateway answers to.
pub const FAKE_GATEWAY: &str = "fakepay";

/// Two products; `POL-ROJ-M` has `stock` units.
pub fn catalog_csv(stock: u32) -> String {
    format!(
        "sku,name,aliases,price,currency,stock\n\
         {SKU},Polera roja talla M,polera roja M|remera roja M|red tee M|#1,12990,CLP,{stock}\n\
         LAB-GLOS-02,Gloss labial rosa tono 02,gloss 02|gloss rosa|#2,4990,CLP,15\n"
    )
}

/// An engine over `store` with the app secret, and (when given) payments. The shop,
/// catalog and live are created by [`seed`].
pub fn engine(
    store: Arc<dyn CommerceStore>,
    clock: Arc<dyn Clock>,
    payments: Option<Arc<PaymentRouter>>,
) -> Arc<Engine> {
    let mut b =
        Engine::builder(store, clock).verifier(Verifier::new(SecretString::from(APP_SECRET)));
    if let Some(p) = payments {
        b = b.payments(p);
    }
    b.build()
}

/// Creates the shop, imports the catalog (`stock` units of [`SKU`]) and opens the live
/// on [`POST`]; returns the live id.
pub async fn seed(engine: &Engine, stock: u32) -> String {
    let shop = Shop::new(
        SHOP,
        "Tienda en vivo",
        PAGE,
        "CL",
        Currency::parse("CLP").unwrap(),
    );
    engine.put_shop(&shop).await.unwrap();
    engine
        .import_catalog_csv(SHOP, catalog_csv(stock).as_bytes())
        .await
        .unwrap();
    engine
        .open_live(SHOP, POST, "Live de poleras")
        .await
        .unwrap()
        .id
}

/// Every order of `live`, oldest first.
// `OrderFilter` is `#[non_exhaustive]`: it has no struct literal outside its crate.
#[allow(clippy::field_reassign_with_default)]
pub async fn live_orders(store: &dyn CommerceStore, live: &str) -> Vec<Order> {
    let mut filter = OrderFilter::default();
    filter.live_id = Some(live.to_owned());
    store.orders(&filter).await.unwrap()
}

/// A payment router with the fake gateway.
pub fn fake_payments(clock: Arc<dyn Clock>) -> Arc<PaymentRouter> {
    Arc::new(PaymentRouter::new(clock).with_gateway(Arc::new(FakeGateway)))
}

/// A Meta `feed` delivery with one top-level comment on the live.
pub fn comment_body(comment_id: &str, buyer_id: &str, text: &str, created_secs: i64) -> Vec<u8> {
    json!({
        "object": "page",
        "entry": [{
            "id": PAGE,
            "time": created_secs + 1,
            "changes": [{
                "field": "feed",
                "value": {
                    "item": "comment",
                    "verb": "add",
                    "post_id": POST,
                    "comment_id": comment_id,
                    "parent_id": POST,
                    "from": {"id": buyer_id, "name": format!("Buyer {buyer_id}")},
                    "message": text,
                    "created_time": created_secs,
                }
            }]
        }]
    })
    .to_string()
    .into_bytes()
}

/// `X-Hub-Signature-256` for `body` with the test app secret.
pub fn signature(body: &[u8]) -> String {
    sign(&SecretString::from(APP_SECRET), body)
}

/// A signed `POST /webhooks/meta`.
pub fn signed_webhook(body: Vec<u8>) -> Request<Body> {
    let sig = signature(&body);
    Request::post("/webhooks/meta")
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sig)
        .body(Body::from(body))
        .unwrap()
}

/// Sends `req` through the router; returns the status, headers and body.
pub async fn call(app: &Router, req: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, body.to_vec())
}

/// Like [`call`], with the body parsed as JSON.
pub async fn call_json(app: &Router, req: Request<Body>) -> (StatusCode, Value) {
    let (status, headers, body) = call(app, req).await;
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        ct.starts_with("application/json"),
        "expected JSON, got `{ct}`: {}",
        String::from_utf8_lossy(&body)
    );
    (status, serde_json::from_slice(&body).unwrap())
}

pub fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

pub fn post_json(uri: &str, body: &Value) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// One HTTP/1.1 request over a fresh connection (`Connection: close`); returns the
/// status and the body. Enough for tests against a real listener.
pub async fn http_post(
    addr: std::net::SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A payment provider for tests: a notification is authentic when it carries
/// `x-fake-signature: valid`; its query names the order (`order=<id>`); the order
/// `provider-down` makes the status check fail as a provider outage would.
#[derive(Debug)]
pub struct FakeGateway;

impl PaymentGateway for FakeGateway {
    fn name(&self) -> &str {
        FAKE_GATEWAY
    }

    fn supports(&self, _currency: Currency) -> bool {
        true
    }

    fn create_link<'a>(&'a self, request: &'a PaymentRequest) -> PaymentFuture<'a, PaymentLink> {
        Box::pin(async move {
            Ok(PaymentLink::new(
                FAKE_GATEWAY,
                format!("https://pay.example.invalid/{}", request.order_id),
                format!("pref-{}", request.order_id),
            ))
        })
    }

    fn verify_webhook<'a>(
        &'a self,
        request: WebhookRequest<'a>,
    ) -> PaymentFuture<'a, PaymentNotification> {
        Box::pin(async move {
            let authentic = request
                .headers
                .get("x-fake-signature")
                .is_some_and(|v| v == "valid");
            if !authentic {
                return Err(PaymentError::new(
                    FAKE_GATEWAY,
                    PaymentErrorKind::InvalidSignature,
                    "bad signature",
                ));
            }
            let order = request
                .query
                .split('&')
                .find_map(|kv| kv.strip_prefix("order="))
                .ok_or_else(|| {
                    PaymentError::new(FAKE_GATEWAY, PaymentErrorKind::Malformed, "no order")
                })?;
            Ok(PaymentNotification::new(FAKE_GATEWAY, order, "payment"))
        })
    }

    fn status<'a>(
        &'a self,
        notification: &'a PaymentNotification,
    ) -> PaymentFuture<'a, PaymentStatus> {
        Box::pin(async move {
            if notification.reference == "provider-down" {
                return Err(PaymentError::new(
                    FAKE_GATEWAY,
                    PaymentErrorKind::Transient,
                    "503 from the provider",
                ));
            }
            Ok(PaymentStatus::new(
                FAKE_GATEWAY,
                notification.reference.clone(),
                format!("pay-{}", notification.reference),
                PaymentState::Approved,
                None,
                "approved",
            ))
        })
    }
}
