//! A fake PayPal: OAuth client credentials, Orders v2 with idempotent creation and
//! capture, webhooks and their verification endpoint.
//!
//! PayPal signs webhooks with an RSA certificate; the fake signs them with an HMAC
//! only it knows (over transmission id, time, webhook id and a digest of the event)
//! and answers `verify-webhook-signature` by checking that — which is all the gateway
//! can observe: PayPal says `SUCCESS` or `FAILURE`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use meta_commerce::{Currency, Money};
use meta_core::clock::{Clock, SystemClock};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::server::{self, Faults, Notifier, Running, lock};
use super::{Delivery, FakeError};
use crate::paypal::{
    HEADER_AUTH_ALGO, HEADER_CERT_URL, HEADER_REQUEST_ID, HEADER_TRANSMISSION_ID,
    HEADER_TRANSMISSION_SIG, HEADER_TRANSMISSION_TIME,
};
use crate::signing::{hmac_hex, verify_hmac_hex};
use crate::wire;

const CERT_PATH: &str = "/v1/notifications/certs/CERT-360caa42-fca2a594-fake";

/// Settings of a [`FakePayPal`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FakePayPalConfig {
    /// The REST app's client id the fake accepts.
    pub client_id: String,
    /// The REST app's secret the fake accepts.
    pub client_secret: SecretString,
    /// The webhook id deliveries are verified against (default `WH-FAKE-0001`).
    pub webhook_id: String,
    /// Where webhooks are delivered (settable later with [`FakePayPal::set_webhook_url`]).
    pub webhook_url: Option<String>,
    /// Lifetime of issued access tokens (default 9 hours, as PayPal issues them).
    pub token_ttl: Duration,
    /// The clock for token expiry and transmission times (default the system clock).
    pub clock: Arc<dyn Clock>,
}

impl FakePayPalConfig {
    /// Defaults with these credentials.
    #[must_use]
    pub fn new(client_id: &str, client_secret: &str) -> Self {
        FakePayPalConfig {
            client_id: client_id.to_owned(),
            client_secret: SecretString::from(client_secret),
            webhook_id: "WH-FAKE-0001".to_owned(),
            webhook_url: None,
            token_ttl: Duration::from_secs(32_400),
            clock: Arc::new(SystemClock::default()),
        }
    }

    /// Uses `clock`.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Delivers webhooks to `url`.
    #[must_use]
    pub fn with_webhook_url(mut self, url: impl Into<String>) -> Self {
        self.webhook_url = Some(url.into());
        self
    }
}

/// A capture of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FakeCapture {
    /// Capture id.
    pub id: String,
    /// `COMPLETED`, `DECLINED`…
    pub status: String,
    /// Amount.
    pub amount: Money,
}

/// An order as the fake stored it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FakePayPalOrder {
    /// Order id.
    pub id: String,
    /// `CREATED`, `PAYER_ACTION_REQUIRED`, `APPROVED`, `COMPLETED`.
    pub status: String,
    /// `purchase_units[0].reference_id`.
    pub reference_id: Option<String>,
    /// `purchase_units[0].custom_id`.
    pub custom_id: Option<String>,
    /// `purchase_units[0].amount`.
    pub amount: Money,
    /// The `PayPal-Request-Id` it was created with.
    pub request_id: Option<String>,
    /// Captures made (at most one: the intent is `CAPTURE` for the full amount).
    pub captures: Vec<FakeCapture>,
    /// The `PayPal-Request-Id` of every capture request received, in order.
    pub capture_request_ids: Vec<String>,
    /// The approval link.
    pub approve_url: String,
    /// The capture of this order will be declined by the buyer's instrument.
    pub decline_capture: bool,
}

#[derive(Debug, Default)]
struct Book {
    orders: Vec<FakePayPalOrder>,
    created_by_request: HashMap<String, String>,
    captures_by_request: HashMap<String, (StatusCode, Value)>,
    /// token → expiry on the clock's monotonic scale
    tokens: HashMap<String, Duration>,
    tokens_issued: usize,
    verify_calls: usize,
    lose_next_capture_response: bool,
    stale_reads: u32,
    counter: u64,
}

#[derive(Debug)]
struct Shared {
    config: FakePayPalConfig,
    webhook_url: Mutex<Option<String>>,
    base_url: Mutex<String>,
    signing_key: SecretString,
    book: Mutex<Book>,
    faults: Faults,
    notifier: Notifier,
}

/// A running fake PayPal. Cheap to clone; stops when the last clone is dropped or on
/// [`FakePayPal::shutdown`].
#[derive(Debug, Clone)]
pub struct FakePayPal {
    shared: Arc<Shared>,
    server: Arc<Running>,
}

impl FakePayPal {
    /// Starts a fake accepting these credentials.
    ///
    /// # Errors
    /// [`FakeError::Bind`].
    pub async fn start(client_id: &str, client_secret: &str) -> Result<Self, FakeError> {
        Self::start_with(FakePayPalConfig::new(client_id, client_secret)).await
    }

    /// Starts a fake with `config`.
    ///
    /// # Errors
    /// [`FakeError::Bind`].
    pub async fn start_with(config: FakePayPalConfig) -> Result<Self, FakeError> {
        let shared = Arc::new(Shared {
            webhook_url: Mutex::new(config.webhook_url.clone()),
            signing_key: SecretString::from(format!("fake-paypal-signing-{}", config.client_id)),
            config,
            base_url: Mutex::new(String::new()),
            book: Mutex::new(Book::default()),
            faults: Faults::default(),
            notifier: Notifier::new(),
        });
        let app = Router::new()
            .route("/v1/oauth2/token", post(token))
            .route("/v2/checkout/orders", post(create_order))
            .route("/v2/checkout/orders/{id}", get(get_order))
            .route("/v2/checkout/orders/{id}/capture", post(capture))
            .route(
                "/v1/notifications/verify-webhook-signature",
                post(verify_signature),
            )
            .route("/checkoutnow", get(checkout).post(checkout_pay))
            .with_state(shared.clone());
        let server = Running::start(app).await?;
        *lock(&shared.base_url) = server.base_url().to_owned();
        Ok(FakePayPal {
            shared,
            server: Arc::new(server),
        })
    }

    /// `http://127.0.0.1:PORT`: the gateway's base URL.
    #[must_use]
    pub fn base_url(&self) -> &str {
        self.server.base_url()
    }

    /// The client id the fake accepts.
    #[must_use]
    pub fn client_id(&self) -> &str {
        &self.shared.config.client_id
    }

    /// The secret the fake accepts.
    #[must_use]
    pub fn client_secret(&self) -> SecretString {
        self.shared.config.client_secret.clone()
    }

    /// The webhook id deliveries are verified against.
    #[must_use]
    pub fn webhook_id(&self) -> &str {
        &self.shared.config.webhook_id
    }

    /// Delivers webhooks to `url` from now on.
    pub fn set_webhook_url(&self, url: impl Into<String>) {
        *lock(&self.shared.webhook_url) = Some(url.into());
    }

    /// Every order, oldest first.
    #[must_use]
    pub fn orders(&self) -> Vec<FakePayPalOrder> {
        lock(&self.shared.book).orders.clone()
    }

    /// One order by id.
    #[must_use]
    pub fn order(&self, id: &str) -> Option<FakePayPalOrder> {
        lock(&self.shared.book)
            .orders
            .iter()
            .find(|o| o.id == id)
            .cloned()
    }

    /// How many access tokens were issued.
    #[must_use]
    pub fn tokens_issued(&self) -> usize {
        lock(&self.shared.book).tokens_issued
    }

    /// How many `verify-webhook-signature` calls were answered.
    #[must_use]
    pub fn verify_calls(&self) -> usize {
        lock(&self.shared.book).verify_calls
    }

    /// Every webhook sent, oldest first.
    #[must_use]
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.notifier.log()
    }

    /// The next `n` API calls answer 500 with PayPal's error body.
    pub fn fail_next(&self, n: u32) {
        self.shared.faults.arm(n, 500);
    }

    /// The next `n` API calls answer `status` with PayPal's error body.
    pub fn fail_next_with(&self, n: u32, status: u16) {
        self.shared.faults.arm(n, status);
    }

    /// Every token issued so far stops working (401), as after a credential rotation.
    pub fn revoke_tokens(&self) {
        lock(&self.shared.book).tokens.clear();
    }

    /// The next capture is carried out but its answer is lost (500), as when the
    /// connection drops after PayPal acted.
    pub fn lose_next_capture_response(&self) {
        lock(&self.shared.book).lose_next_capture_response = true;
    }

    /// The next `n` order reads show captured orders as they were before the capture
    /// (`APPROVED`), as a lagging replica would.
    pub fn stale_reads(&self, n: u32) {
        lock(&self.shared.book).stale_reads = n;
    }

    /// The buyer's instrument will decline this order's capture
    /// (422 `INSTRUMENT_DECLINED`).
    ///
    /// # Errors
    /// [`FakeError::UnknownReference`].
    pub fn decline_capture(&self, reference: &str) -> Result<(), FakeError> {
        let mut book = lock(&self.shared.book);
        let i = find(&book, reference)
            .ok_or_else(|| FakeError::UnknownReference(reference.to_owned()))?;
        book.orders[i].decline_capture = true;
        Ok(())
    }

    /// The buyer approves the order named by `reference` (its id, our order id, or a
    /// link containing `token=`): it becomes `APPROVED` and a
    /// `CHECKOUT.ORDER.APPROVED` webhook goes to the webhook URL. The money moves when
    /// the gateway captures (in `status`).
    ///
    /// # Errors
    /// [`FakeError::UnknownReference`]; [`FakeError::InvalidState`] once captured.
    pub async fn pay(&self, reference: &str) -> Result<Delivery, FakeError> {
        approve(&self.shared, reference).await
    }

    /// Stops the server (also done when the last clone is dropped).
    pub fn shutdown(&self) {
        self.server.stop();
    }
}

fn error(status: StatusCode, name: &str, message: &str, issue: Option<&str>) -> Response {
    let n = fastish_id(name, message);
    let mut body = json!({
        "name": name,
        "message": message,
        "debug_id": format!("f{n:012x}"),
        "links": [{"href": "https://developer.paypal.com/api/rest/reference/orders/v2/errors/", "rel": "information_link"}],
    });
    if let (Some(issue), Some(obj)) = (issue, body.as_object_mut()) {
        obj.insert(
            "details".into(),
            json!([{"issue": issue, "description": message}]),
        );
    }
    server::json(status, &body)
}

fn fastish_id(a: &str, b: &str) -> u64 {
    let d = Sha256::digest(format!("{a}{b}").as_bytes());
    u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], 0, 0]) >> 16
}

fn injected(shared: &Shared) -> Option<Response> {
    shared.faults.take().map(|status| {
        error(
            status,
            "INTERNAL_SERVER_ERROR",
            "An internal server error has occurred.",
            None,
        )
    })
}

/// The refusal to answer with, unless the bearer token is valid.
fn authorize(shared: &Shared, headers: &HeaderMap) -> Option<Response> {
    let now = shared.config.clock.elapsed();
    let ok = server::bearer(headers)
        .and_then(|t| lock(&shared.book).tokens.get(t).copied())
        .is_some_and(|expires| now < expires);
    (!ok).then(|| {
        server::json(
            StatusCode::UNAUTHORIZED,
            &json!({"error": "invalid_token", "error_description": "Token signature verification failed"}),
        )
    })
}

async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(r) = injected(&shared) {
        return r;
    }
    let expected = format!(
        "{}:{}",
        shared.config.client_id,
        shared.config.client_secret.expose_secret()
    );
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok());
    if given.as_deref() != Some(expected.as_bytes()) {
        return server::json(
            StatusCode::UNAUTHORIZED,
            &json!({"error": "invalid_client", "error_description": "Client Authentication failed"}),
        );
    }
    let grant = form_urlencoded::parse(&body)
        .find(|(k, _)| k == "grant_type")
        .map(|(_, v)| v.into_owned());
    if grant.as_deref() != Some("client_credentials") {
        return server::json(
            StatusCode::BAD_REQUEST,
            &json!({"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"}),
        );
    }
    let ttl = shared.config.token_ttl;
    let mut book = lock(&shared.book);
    book.tokens_issued += 1;
    book.counter += 1;
    let token = format!(
        "A21AA-fake-{:06}-{}",
        book.counter,
        fastish_id("t", &book.counter.to_string())
    );
    book.tokens
        .insert(token.clone(), shared.config.clock.elapsed() + ttl);
    server::json(
        StatusCode::OK,
        &json!({
            "scope": "https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/applications/webhooks",
            "access_token": token,
            "token_type": "Bearer",
            "app_id": "APP-80W284485P519543T",
            "expires_in": ttl.as_secs(),
            "nonce": format!("2026-01-01T00:00:00Z{:x}", book.counter),
        }),
    )
}

fn links(base: &str, o: &FakePayPalOrder) -> Value {
    let self_link = json!({"href": format!("{base}/v2/checkout/orders/{}", o.id), "rel": "self", "method": "GET"});
    match o.status.as_str() {
        "CREATED" => json!([
            self_link,
            {"href": o.approve_url, "rel": "approve", "method": "GET"},
            {"href": format!("{base}/v2/checkout/orders/{}", o.id), "rel": "update", "method": "PATCH"},
            {"href": format!("{base}/v2/checkout/orders/{}/capture", o.id), "rel": "capture", "method": "POST"},
        ]),
        "PAYER_ACTION_REQUIRED" => json!([
            self_link,
            {"href": o.approve_url, "rel": "payer-action", "method": "GET"},
        ]),
        "APPROVED" => json!([
            self_link,
            {"href": format!("{base}/v2/checkout/orders/{}/capture", o.id), "rel": "capture", "method": "POST"},
        ]),
        _ => json!([self_link]),
    }
}

fn amount_json(m: Money) -> Value {
    json!({"currency_code": m.currency.as_str(), "value": m.decimal_string()})
}

fn order_json(base: &str, o: &FakePayPalOrder, stale: bool) -> Value {
    let (status, captures): (&str, &[FakeCapture]) = if stale && o.status == "COMPLETED" {
        ("APPROVED", &[])
    } else {
        (o.status.as_str(), &o.captures)
    };
    let mut unit = json!({
        "reference_id": o.reference_id,
        "custom_id": o.custom_id,
        "amount": amount_json(o.amount),
    });
    if !captures.is_empty()
        && let Some(obj) = unit.as_object_mut()
    {
        let caps: Vec<Value> = captures
            .iter()
            .map(|c| {
                json!({
                    "id": c.id,
                    "status": c.status,
                    "amount": amount_json(c.amount),
                    "final_capture": true,
                    "custom_id": o.custom_id,
                    "supplementary_data": {"related_ids": {"order_id": o.id}},
                })
            })
            .collect();
        obj.insert("payments".into(), json!({"captures": caps}));
    }
    let view = FakePayPalOrder {
        status: status.to_owned(),
        ..o.clone()
    };
    json!({
        "id": o.id,
        "intent": "CAPTURE",
        "status": status,
        "purchase_units": [unit],
        "links": links(base, &view),
    })
}

/// Reads `purchase_units[0]` of a create-order body; the error names PayPal's issue.
fn validate(body: &Value) -> Result<(Option<String>, Option<String>, Money), Box<Response>> {
    let invalid = |issue: &str, msg: &str| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            msg,
            Some(issue),
        ))
    };
    match body.get("intent").and_then(Value::as_str) {
        Some("CAPTURE" | "AUTHORIZE") => {}
        Some(_) => return Err(invalid("INVALID_PARAMETER_VALUE", "intent is invalid")),
        None => return Err(invalid("MISSING_REQUIRED_PARAMETER", "intent is missing")),
    }
    let unit = body
        .get("purchase_units")
        .and_then(Value::as_array)
        .and_then(|u| u.first())
        .ok_or_else(|| invalid("MISSING_REQUIRED_PARAMETER", "purchase_units is missing"))?;
    let amount = unit
        .get("amount")
        .ok_or_else(|| invalid("MISSING_REQUIRED_PARAMETER", "amount is missing"))?;
    let currency = amount
        .get("currency_code")
        .and_then(Value::as_str)
        .and_then(|c| Currency::parse(c).ok())
        .ok_or_else(|| invalid("INVALID_PARAMETER_VALUE", "currency_code is invalid"))?;
    let value = amount
        .get("value")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("MISSING_REQUIRED_PARAMETER", "amount.value is missing"))?;
    // PayPal takes the value as a string with exactly the currency's decimals.
    let money = wire::parse_decimal(value, currency)
        .filter(|m| m.decimal_string() == value && m.minor > 0)
        .ok_or_else(|| {
            Box::new(error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "UNPROCESSABLE_ENTITY",
                "The requested action could not be performed.",
                Some("DECIMAL_PRECISION"),
            ))
        })?;
    let text = |k: &str| unit.get(k).and_then(Value::as_str).map(str::to_owned);
    if text("custom_id").is_some_and(|c| c.len() > 127) {
        return Err(invalid(
            "INVALID_STRING_MAX_LENGTH",
            "custom_id is too long",
        ));
    }
    Ok((text("reference_id"), text("custom_id"), money))
}

async fn create_order(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = injected(&shared) {
        return r;
    }
    if let Some(r) = authorize(&shared, &headers) {
        return r;
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "Request is not well-formed",
            Some("MALFORMED_REQUEST_JSON"),
        );
    };
    let (reference_id, custom_id, amount) = match validate(&request) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let request_id = headers
        .get(HEADER_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let base = lock(&shared.base_url).clone();
    let mut book = lock(&shared.book);
    if let Some(o) = request_id
        .as_ref()
        .and_then(|k| book.created_by_request.get(k))
        .and_then(|id| book.orders.iter().find(|o| &o.id == id))
    {
        return server::json(StatusCode::OK, &order_json(&base, o, false));
    }
    book.counter += 1;
    let id = format!("FAKE{:013}", book.counter);
    let payer_action = request
        .pointer("/payment_source/paypal/experience_context/return_url")
        .is_some();
    let order = FakePayPalOrder {
        approve_url: format!("{base}/checkoutnow?token={id}"),
        id: id.clone(),
        status: if payer_action {
            "PAYER_ACTION_REQUIRED"
        } else {
            "CREATED"
        }
        .to_owned(),
        reference_id,
        custom_id,
        amount,
        request_id: request_id.clone(),
        captures: Vec::new(),
        capture_request_ids: Vec::new(),
        decline_capture: false,
    };
    let out = order_json(&base, &order, false);
    book.orders.push(order);
    if let Some(k) = request_id {
        book.created_by_request.insert(k, id);
    }
    server::json(StatusCode::CREATED, &out)
}

fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "RESOURCE_NOT_FOUND",
        "The specified resource does not exist.",
        Some("INVALID_RESOURCE_ID"),
    )
}

async fn get_order(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = injected(&shared) {
        return r;
    }
    if let Some(r) = authorize(&shared, &headers) {
        return r;
    }
    let base = lock(&shared.base_url).clone();
    let mut book = lock(&shared.book);
    let stale = book.stale_reads > 0;
    let Some(o) = book.orders.iter().find(|o| o.id == id) else {
        return not_found();
    };
    let out = order_json(&base, o, stale);
    if stale {
        book.stale_reads -= 1;
    }
    server::json(StatusCode::OK, &out)
}

async fn capture(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = injected(&shared) {
        return r;
    }
    if let Some(r) = authorize(&shared, &headers) {
        return r;
    }
    let request_id = headers
        .get(HEADER_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let base = lock(&shared.base_url).clone();
    let mut book = lock(&shared.book);
    let Some(i) = book.orders.iter().position(|o| o.id == id) else {
        return not_found();
    };
    if let Some(k) = &request_id {
        book.orders[i].capture_request_ids.push(k.clone());
        if let Some((status, body)) = book.captures_by_request.get(k) {
            // Same PayPal-Request-Id: the first answer again, nothing done twice.
            return server::json(*status, body);
        }
    }
    let (status, body) = match book.orders[i].status.as_str() {
        "APPROVED" if book.orders[i].decline_capture => (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({
                "name": "UNPROCESSABLE_ENTITY",
                "message": "The requested action could not be performed.",
                "details": [{"issue": "INSTRUMENT_DECLINED", "description": "The instrument presented was declined."}],
            }),
        ),
        "APPROVED" => {
            book.counter += 1;
            let capture = FakeCapture {
                id: format!("CAP{:014}", book.counter),
                status: "COMPLETED".to_owned(),
                amount: book.orders[i].amount,
            };
            let order = &mut book.orders[i];
            order.captures.push(capture);
            order.status = "COMPLETED".to_owned();
            (StatusCode::CREATED, order_json(&base, order, false))
        }
        "COMPLETED" => (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({
                "name": "UNPROCESSABLE_ENTITY",
                "message": "The requested action could not be performed.",
                "details": [{"issue": "ORDER_ALREADY_CAPTURED", "description": "Order already captured."}],
            }),
        ),
        _ => (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({
                "name": "UNPROCESSABLE_ENTITY",
                "message": "The requested action could not be performed.",
                "details": [{"issue": "ORDER_NOT_APPROVED", "description": "Payer has not yet approved the Order for payment."}],
            }),
        ),
    };
    if let Some(k) = request_id {
        book.captures_by_request.insert(k, (status, body.clone()));
    }
    if std::mem::take(&mut book.lose_next_capture_response) {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_SERVER_ERROR",
            "An internal server error has occurred.",
            None,
        );
    }
    server::json(status, &body)
}

/// What the fake signs: transmission id, time, webhook id and a digest of the event.
fn signed_text(transmission_id: &str, time: &str, webhook_id: &str, event: &Value) -> String {
    // The event's canonical serialisation: the verify call sends it back parsed.
    let digest = hex::encode(Sha256::digest(event.to_string().as_bytes()));
    format!("{transmission_id}|{time}|{webhook_id}|{digest}")
}

async fn verify_signature(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = injected(&shared) {
        return r;
    }
    if let Some(r) = authorize(&shared, &headers) {
        return r;
    }
    lock(&shared.book).verify_calls += 1;
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "Request is not well-formed",
            Some("MALFORMED_REQUEST_JSON"),
        );
    };
    let field = |k: &str| req.get(k).and_then(Value::as_str);
    let (Some(algo), Some(cert), Some(tid), Some(sig), Some(time), Some(wid), Some(event)) = (
        field("auth_algo"),
        field("cert_url"),
        field("transmission_id"),
        field("transmission_sig"),
        field("transmission_time"),
        field("webhook_id"),
        req.get("webhook_event"),
    ) else {
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "Request is not well-formed",
            Some("MISSING_REQUIRED_PARAMETER"),
        );
    };
    let base = lock(&shared.base_url).clone();
    let sig_hex = base64::engine::general_purpose::STANDARD
        .decode(sig)
        .map(hex::encode)
        .unwrap_or_default();
    let ok = algo == "SHA256withRSA"
        && cert == format!("{base}{CERT_PATH}")
        && wid == shared.config.webhook_id
        && verify_hmac_hex(
            &shared.signing_key,
            signed_text(tid, time, wid, event).as_bytes(),
            &sig_hex,
        );
    server::json(
        StatusCode::OK,
        &json!({"verification_status": if ok { "SUCCESS" } else { "FAILURE" }}),
    )
}

fn find(book: &Book, reference: &str) -> Option<usize> {
    let reference = reference
        .split_once("token=")
        .map_or(reference, |(_, rest)| {
            rest.split('&').next().unwrap_or(rest)
        });
    book.orders
        .iter()
        .position(|o| o.id == reference)
        .or_else(|| {
            book.orders.iter().rposition(|o| {
                o.custom_id.as_deref() == Some(reference)
                    || o.reference_id.as_deref() == Some(reference)
            })
        })
}

async fn approve(shared: &Shared, reference: &str) -> Result<Delivery, FakeError> {
    let base = lock(&shared.base_url).clone();
    let (event, n) = {
        let mut book = lock(&shared.book);
        let i = find(&book, reference)
            .ok_or_else(|| FakeError::UnknownReference(reference.to_owned()))?;
        match book.orders[i].status.as_str() {
            "CREATED" | "PAYER_ACTION_REQUIRED" | "APPROVED" => {}
            other => {
                return Err(FakeError::InvalidState(format!("order is {other}")));
            }
        }
        book.orders[i].status = "APPROVED".to_owned();
        book.counter += 1;
        let n = book.counter;
        let now: chrono::DateTime<chrono::Utc> = shared.config.clock.now().into();
        let resource = order_json(&base, &book.orders[i], false);
        (
            json!({
                "id": format!("WH-FAKE{n:010}"),
                "event_version": "1.0",
                "create_time": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "resource_type": "checkout-order",
                "resource_version": "2.0",
                "event_type": "CHECKOUT.ORDER.APPROVED",
                "summary": "An order has been approved by buyer",
                "resource": resource,
                "links": [],
            }),
            n,
        )
    };
    let (headers, body) = sign_event(shared, &base, &event, n);
    let url = lock(&shared.webhook_url).clone().unwrap_or_default();
    Ok(shared.notifier.post(&url, headers, body).await)
}

fn sign_event(shared: &Shared, base: &str, event: &Value, n: u64) -> (HeaderMap, Bytes) {
    let transmission_id = format!("{n:08x}-d67a-11e5-baa3-778b53f4ae55");
    let now: chrono::DateTime<chrono::Utc> = shared.config.clock.now().into();
    let time = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mac_hex = hmac_hex(
        &shared.signing_key,
        signed_text(&transmission_id, &time, &shared.config.webhook_id, event).as_bytes(),
    );
    let sig =
        base64::engine::general_purpose::STANDARD.encode(hex::decode(mac_hex).unwrap_or_default());
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let pairs = [
        (HEADER_TRANSMISSION_ID, transmission_id),
        (HEADER_TRANSMISSION_TIME, time),
        (HEADER_TRANSMISSION_SIG, sig),
        (HEADER_CERT_URL, format!("{base}{CERT_PATH}")),
        (HEADER_AUTH_ALGO, "SHA256withRSA".to_owned()),
    ];
    for (k, v) in pairs {
        if let Ok(v) = HeaderValue::from_str(&v) {
            headers.insert(k, v);
        }
    }
    (headers, Bytes::from(event.to_string()))
}

fn token_param(query: Option<&str>) -> String {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

async fn checkout(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let id = token_param(query.as_deref());
    let book = lock(&shared.book);
    let Some(o) = book.orders.iter().find(|o| o.id == id) else {
        return not_found();
    };
    server::checkout_page(
        "PayPal",
        &format!("Pedido {}", o.custom_id.as_deref().unwrap_or(&o.id)),
        &o.amount.to_string(),
        o.status == "APPROVED" || o.status == "COMPLETED",
    )
}

async fn checkout_pay(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let id = token_param(query.as_deref());
    match approve(&shared, &id).await {
        Ok(_) | Err(FakeError::InvalidState(_)) => checkout(State(shared), RawQuery(query)).await,
        Err(_) => not_found(),
    }
}
