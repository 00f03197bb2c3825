//! Shared helpers: a webhook receiver, clocks, requests, and a server that answers
//! garbage.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use meta_commerce::payments::{PaymentLine, PaymentRequest, WebhookRequest};
use meta_commerce::{Currency, Money};
use meta_core::clock::{Clock, ManualClock};
use tokio::net::TcpListener;

/// The wall time tests start at.
pub(crate) const START: u64 = 1_750_000_000;

pub(crate) fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(START))
}

pub(crate) fn dyn_clock(c: &Arc<ManualClock>) -> Arc<dyn Clock> {
    c.clone()
}

/// A notification as our server received it.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Received {
    pub(crate) fn as_webhook(&self) -> WebhookRequest<'_> {
        WebhookRequest {
            headers: &self.headers,
            query: &self.query,
            body: &self.body,
        }
    }
}

/// A local HTTP server that records every request and answers 200.
#[derive(Debug, Clone)]
pub(crate) struct Receiver {
    pub(crate) base_url: String,
    log: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub(crate) async fn start() -> Receiver {
        let log: Arc<Mutex<Vec<Received>>> = Arc::default();
        async fn record(
            State(log): State<Arc<Mutex<Vec<Received>>>>,
            uri: axum::http::Uri,
            RawQuery(query): RawQuery,
            headers: HeaderMap,
            body: Bytes,
        ) -> StatusCode {
            log.lock().unwrap().push(Received {
                path: uri.path().to_owned(),
                query: query.unwrap_or_default(),
                headers,
                body,
            });
            StatusCode::OK
        }
        let app = Router::new().fallback(record).with_state(log.clone());
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver { base_url, log }
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap().clone()
    }

    pub(crate) fn last(&self) -> Received {
        self.received()
            .last()
            .cloned()
            .expect("a notification arrived")
    }
}

/// A server answering every request with `status` and a body that is not JSON.
pub(crate) async fn junk_server(status: u16) -> String {
    let app = Router::new().fallback(move || async move {
        (StatusCode::from_u16(status).unwrap(), "<html>oops</html>")
    });
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    base_url
}

/// A base URL nothing listens on.
pub(crate) async fn dead_url() -> String {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

/// An order of two lines, 2 × 5.990 + 1 × 1.010 = 12.990 CLP (or the same digits
/// in minor units of `currency`).
pub(crate) fn request(order_id: &str, currency: Currency, clock: &ManualClock) -> PaymentRequest {
    let unit = |minor: i64| Money::new(minor, currency);
    let mut r = PaymentRequest::new(order_id, "shop-1", unit(12_990));
    r.description = format!("Pedido {order_id} · Tienda en vivo");
    r.lines = vec![
        PaymentLine {
            sku: "A1".into(),
            title: "Polera azul".into(),
            qty: 2,
            unit_price: unit(5_990),
        },
        PaymentLine {
            sku: "B2".into(),
            title: "Calcetines".into(),
            qty: 1,
            unit_price: unit(1_010),
        },
    ];
    r.expires_at = Some(clock.now() + Duration::from_secs(30 * 60));
    r.idempotency_key = format!("{order_id}-v1");
    r
}
