//! What every fake shares: the listener and its shutdown, fault injection, the
//! notification sender and small response helpers.

use std::sync::atomic::{AtomicU16, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::response::{Html, IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use meta_core::transport::{ReqwestTransport, Transport};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::{Delivery, FakeError};

/// Locks a fake's state; a panicking handler cannot leave plain maps half-updated.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running server; stops when dropped (after the last handle clone goes).
#[derive(Debug)]
pub(crate) struct Running {
    base_url: String,
    shutdown: Mutex<Option<oneshot::Sender<()>>>,
}

impl Running {
    pub(crate) async fn start(app: Router) -> Result<Running, FakeError> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(FakeError::Bind)?;
        let addr = listener.local_addr().map_err(FakeError::Bind)?;
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let served = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = rx.await;
            });
            if let Err(e) = served.await {
                tracing::error!(error = %e, "fake payment provider stopped");
            }
        });
        Ok(Running {
            base_url: format!("http://{addr}"),
            shutdown: Mutex::new(Some(tx)),
        })
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    pub(crate) fn stop(&self) {
        if let Some(tx) = lock(&self.shutdown).take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

/// "Answer the next `n` API calls with `status`."
#[derive(Debug, Default)]
pub(crate) struct Faults {
    remaining: AtomicU32,
    status: AtomicU16,
}

impl Faults {
    pub(crate) fn arm(&self, n: u32, status: u16) {
        self.status.store(status, Ordering::SeqCst);
        self.remaining.store(n, Ordering::SeqCst);
    }

    /// The status to fail this call with, if one is armed.
    pub(crate) fn take(&self) -> Option<StatusCode> {
        self.remaining
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .ok()
            .and_then(|_| StatusCode::from_u16(self.status.load(Ordering::SeqCst)).ok())
    }
}

/// Sends notifications over real HTTP and remembers them.
#[derive(Debug)]
pub(crate) struct Notifier {
    transport: Option<Arc<dyn Transport>>,
    log: Mutex<Vec<Delivery>>,
}

impl Notifier {
    pub(crate) fn new() -> Self {
        Notifier {
            transport: ReqwestTransport::new(Duration::from_secs(5))
                .ok()
                .map(|t| Arc::new(t) as Arc<dyn Transport>),
            log: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn log(&self) -> Vec<Delivery> {
        lock(&self.log).clone()
    }

    /// POSTs `body` to `url` (which may be empty: nothing is sent, the delivery is
    /// still recorded so tests can replay it).
    pub(crate) async fn post(&self, url: &str, headers: HeaderMap, body: Bytes) -> Delivery {
        let query = url
            .split_once('?')
            .map(|(_, q)| q.to_owned())
            .unwrap_or_default();
        let mut delivery = Delivery {
            url: url.to_owned(),
            query,
            headers,
            body,
            status: None,
            error: None,
        };
        if url.is_empty() {
            delivery.error = Some("no notification URL configured".to_owned());
        } else {
            match self.send(&delivery).await {
                Ok(status) => delivery.status = Some(status),
                Err(e) => delivery.error = Some(e),
            }
        }
        if !delivery.delivered() {
            tracing::warn!(url = %delivery.url, status = ?delivery.status, error = ?delivery.error, "fake provider notification not accepted");
        }
        lock(&self.log).push(delivery.clone());
        delivery
    }

    async fn send(&self, d: &Delivery) -> Result<u16, String> {
        let transport = self
            .transport
            .as_ref()
            .ok_or_else(|| "no HTTP client".to_owned())?;
        let mut builder = http::Request::builder().method(Method::POST).uri(&d.url);
        for (k, v) in &d.headers {
            builder = builder.header(k, v);
        }
        let req = builder.body(d.body.clone()).map_err(|e| e.to_string())?;
        match tokio::time::timeout(Duration::from_secs(10), transport.send(req)).await {
            Err(_) => Err("timed out".to_owned()),
            Ok(Err(e)) => Err(e.to_string()),
            Ok(Ok(resp)) => Ok(resp.status().as_u16()),
        }
    }
}

pub(crate) fn json(status: StatusCode, value: &Value) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        value.to_string(),
    )
        .into_response()
}

pub(crate) fn html(body: String) -> Response {
    Html(body).into_response()
}

/// The bearer token of a request, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// A minimal checkout page: what the buyer sees at the link, with one button that
/// POSTs back to the same URL to pay.
pub(crate) fn checkout_page(provider: &str, what: &str, amount: &str, paid: bool) -> Response {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let action = if paid {
        "<p><strong>Pago recibido.</strong> Puedes cerrar esta ventana.</p>".to_owned()
    } else {
        "<form method=\"post\"><button type=\"submit\">Pagar</button></form>".to_owned()
    };
    html(format!(
        "<!doctype html><html lang=\"es\"><head><meta charset=\"utf-8\"><title>{p} (fake)</title></head>\
         <body><h1>{p} <small>(fake)</small></h1><p>{w}</p><p>Total: <strong>{a}</strong></p>{action}</body></html>",
        p = esc(provider),
        w = esc(what),
        a = esc(amount),
    ))
}
