//! A fake Flow (flow.cl): signed `payment/create` and `payment/getStatus`, and the
//! unsigned `token=…` confirmation POSTed to `urlConfirmation`.
//!
//! Flow's documentation does not list its error codes; the fake answers 401 for an
//! unknown `apiKey` or a wrong signature and 400 for missing or invalid parameters,
//! each with a `{"code", "message"}` body.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::{get, post};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use meta_commerce::{Currency, Money};
use meta_core::clock::{Clock, SystemClock};
use secrecy::SecretString;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::server::{self, Faults, Notifier, Running, lock};
use super::{Delivery, FakeError};
use crate::signing::verify_hmac_hex;
use crate::{flow, wire};

/// Settings of a [`FakeFlow`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FakeFlowConfig {
    /// The merchant API key the fake accepts.
    pub api_key: String,
    /// The merchant secret key signatures are checked with.
    pub secret_key: SecretString,
    /// The clock for `requestDate` (default the system clock).
    pub clock: Arc<dyn Clock>,
}

impl FakeFlowConfig {
    /// Defaults with these credentials.
    #[must_use]
    pub fn new(api_key: &str, secret_key: &str) -> Self {
        FakeFlowConfig {
            api_key: api_key.to_owned(),
            secret_key: SecretString::from(secret_key),
            clock: Arc::new(SystemClock::default()),
        }
    }

    /// Uses `clock`.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

/// A payment order as the fake stored it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FakeFlowPayment {
    /// The token (the buyer pays at `url?token=…`).
    pub token: String,
    /// Flow's order number.
    pub flow_order: u64,
    /// `commerceOrder` (our order id).
    pub commerce_order: String,
    /// `subject`.
    pub subject: String,
    /// `amount` and `currency`.
    pub amount: Money,
    /// `email`.
    pub email: String,
    /// `urlConfirmation`.
    pub url_confirmation: String,
    /// `urlReturn`.
    pub url_return: String,
    /// `timeout` in seconds, when sent.
    pub timeout: Option<u64>,
    /// 1 pending, 2 paid, 3 rejected, 4 cancelled.
    pub status: i64,
    /// When it was created (`yyyy-mm-dd hh:mm:ss`).
    pub request_date: String,
}

#[derive(Debug, Default)]
struct Book {
    payments: Vec<FakeFlowPayment>,
    counter: u64,
}

#[derive(Debug)]
struct Shared {
    config: FakeFlowConfig,
    base_url: Mutex<String>,
    book: Mutex<Book>,
    faults: Faults,
    notifier: Notifier,
}

/// A running fake Flow. Cheap to clone; stops when the last clone is dropped or on
/// [`FakeFlow::shutdown`].
#[derive(Debug, Clone)]
pub struct FakeFlow {
    shared: Arc<Shared>,
    server: Arc<Running>,
    api_base: String,
}

impl FakeFlow {
    /// Starts a fake accepting these credentials.
    ///
    /// # Errors
    /// [`FakeError::Bind`].
    pub async fn start(api_key: &str, secret_key: &str) -> Result<Self, FakeError> {
        Self::start_with(FakeFlowConfig::new(api_key, secret_key)).await
    }

    /// Starts a fake with `config`.
    ///
    /// # Errors
    /// [`FakeError::Bind`].
    pub async fn start_with(config: FakeFlowConfig) -> Result<Self, FakeError> {
        let shared = Arc::new(Shared {
            config,
            base_url: Mutex::new(String::new()),
            book: Mutex::new(Book::default()),
            faults: Faults::default(),
            notifier: Notifier::new(),
        });
        let app = Router::new()
            .route("/api/payment/create", post(create))
            .route("/api/payment/getStatus", get(get_status))
            .route("/app/web/pay.php", get(checkout).post(checkout_pay))
            .with_state(shared.clone());
        let server = Running::start(app).await?;
        *lock(&shared.base_url) = server.base_url().to_owned();
        Ok(FakeFlow {
            api_base: format!("{}/api", server.base_url()),
            shared,
            server: Arc::new(server),
        })
    }

    /// `http://127.0.0.1:PORT/api`: the gateway's base URL (Flow's include `/api`).
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.api_base
    }

    /// The API key the fake accepts.
    #[must_use]
    pub fn api_key(&self) -> &str {
        &self.shared.config.api_key
    }

    /// The secret key it checks signatures with.
    #[must_use]
    pub fn secret_key(&self) -> SecretString {
        self.shared.config.secret_key.clone()
    }

    /// Every payment order, oldest first.
    #[must_use]
    pub fn payments(&self) -> Vec<FakeFlowPayment> {
        lock(&self.shared.book).payments.clone()
    }

    /// Every confirmation sent, oldest first.
    #[must_use]
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.notifier.log()
    }

    /// The next `n` API calls answer 500.
    pub fn fail_next(&self, n: u32) {
        self.shared.faults.arm(n, 500);
    }

    /// The next `n` API calls answer `status`.
    pub fn fail_next_with(&self, n: u32, status: u16) {
        self.shared.faults.arm(n, status);
    }

    /// The buyer pays the order named by `reference` (token, `commerceOrder`, or a
    /// link containing `token=`): status 2, then `token=…` is POSTed to its
    /// `urlConfirmation`.
    ///
    /// # Errors
    /// [`FakeError::UnknownReference`].
    pub async fn pay(&self, reference: &str) -> Result<Delivery, FakeError> {
        self.set_status(reference, 2).await
    }

    /// The payment is rejected (status 3) and confirmed to the merchant.
    ///
    /// # Errors
    /// [`FakeError::UnknownReference`].
    pub async fn reject(&self, reference: &str) -> Result<Delivery, FakeError> {
        self.set_status(reference, 3).await
    }

    /// Sets any status (1 pending, 2 paid, 3 rejected, 4 cancelled) and confirms.
    ///
    /// # Errors
    /// [`FakeError::UnknownReference`]; [`FakeError::InvalidState`] for another number.
    pub async fn set_status(&self, reference: &str, status: i64) -> Result<Delivery, FakeError> {
        set_status(&self.shared, reference, status).await
    }

    /// Stops the server (also done when the last clone is dropped).
    pub fn shutdown(&self) {
        self.server.stop();
    }
}

fn error(status: StatusCode, code: i64, message: &str) -> Response {
    server::json(status, &json!({"code": code, "message": message}))
}

/// Checks apiKey and the signature `s` over every other parameter; the refusal to
/// answer with when they do not hold.
fn authenticate(shared: &Shared, params: &[(String, String)]) -> Option<Response> {
    if let Some(status) = shared.faults.take() {
        return Some(error(status, 500, "Internal error"));
    }
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if get("apiKey") != Some(shared.config.api_key.as_str()) {
        return Some(error(StatusCode::UNAUTHORIZED, 108, "Invalid apiKey"));
    }
    let Some(s) = get("s") else {
        return Some(error(StatusCode::UNAUTHORIZED, 109, "Missing signature"));
    };
    let unsigned: Vec<(&str, &str)> = params
        .iter()
        .filter(|(k, _)| k != "s")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let text = flow::string_to_sign(&unsigned);
    (!verify_hmac_hex(&shared.config.secret_key, text.as_bytes(), s))
        .then(|| error(StatusCode::UNAUTHORIZED, 110, "Invalid signature"))
}

fn parse(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes).into_owned().collect()
}

fn date(clock: &dyn Clock) -> String {
    let now: chrono::DateTime<chrono::Utc> = clock.now().into();
    now.format("%Y-%m-%d %H:%M:%S").to_string()
}

async fn create(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let params = parse(&body);
    if let Some(r) = authenticate(&shared, &params) {
        return r;
    }
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let mut missing = Vec::new();
    for k in [
        "commerceOrder",
        "subject",
        "amount",
        "email",
        "urlConfirmation",
        "urlReturn",
    ] {
        if get(k).is_none() {
            missing.push(k);
        }
    }
    if !missing.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            100,
            &format!("Missing parameters: {}", missing.join(", ")),
        );
    }
    let currency = match get("currency") {
        None => Currency::CLP,
        Some(c) => match Currency::parse(&c) {
            Ok(c) => c,
            Err(_) => return error(StatusCode::BAD_REQUEST, 101, "Invalid currency"),
        },
    };
    let Some(amount) = get("amount")
        .and_then(|a| wire::parse_decimal(&a, currency))
        .filter(|m| m.minor > 0)
    else {
        return error(StatusCode::BAD_REQUEST, 102, "Invalid amount");
    };
    let timeout = match get("timeout") {
        None => None,
        Some(t) => match t.parse::<u64>() {
            Ok(t) => Some(t),
            Err(_) => return error(StatusCode::BAD_REQUEST, 103, "Invalid timeout"),
        },
    };
    let base = lock(&shared.base_url).clone();
    let mut book = lock(&shared.book);
    book.counter += 1;
    let n = book.counter;
    let digest = Sha256::digest(format!("{}:{n}", shared.config.api_key).as_bytes());
    let token = hex::encode_upper(&digest[..20]);
    let payment = FakeFlowPayment {
        token: token.clone(),
        flow_order: 3_000_000 + n,
        commerce_order: get("commerceOrder").unwrap_or_default(),
        subject: get("subject").unwrap_or_default(),
        amount,
        email: get("email").unwrap_or_default(),
        url_confirmation: get("urlConfirmation").unwrap_or_default(),
        url_return: get("urlReturn").unwrap_or_default(),
        timeout,
        status: 1,
        request_date: date(shared.config.clock.as_ref()),
    };
    let flow_order = payment.flow_order;
    book.payments.push(payment);
    server::json(
        StatusCode::OK,
        &json!({"url": format!("{base}/app/web/pay.php"), "token": token, "flowOrder": flow_order}),
    )
}

async fn get_status(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let params = parse(query.unwrap_or_default().as_bytes());
    if let Some(r) = authenticate(&shared, &params) {
        return r;
    }
    let Some(token) = params.iter().find(|(k, _)| k == "token").map(|(_, v)| v) else {
        return error(StatusCode::BAD_REQUEST, 100, "Missing parameters: token");
    };
    let book = lock(&shared.book);
    let Some(p) = book.payments.iter().find(|p| &p.token == token) else {
        return error(StatusCode::BAD_REQUEST, 105, "Invalid token");
    };
    let payment_data = if p.status == 2 {
        json!({
            "date": p.request_date,
            "media": "Webpay",
            "conversionDate": null,
            "conversionRate": null,
            "amount": wire::json_number(p.amount),
            "currency": p.amount.currency.as_str(),
            "fee": 0,
            "balance": wire::json_number(p.amount),
            "transferDate": null,
        })
    } else {
        Value::Null
    };
    server::json(
        StatusCode::OK,
        &json!({
            "flowOrder": p.flow_order,
            "commerceOrder": p.commerce_order,
            "requestDate": p.request_date,
            "status": p.status,
            "subject": p.subject,
            "currency": p.amount.currency.as_str(),
            "amount": wire::json_number(p.amount),
            "payer": p.email,
            "optional": null,
            "pending_info": {"media": "", "date": ""},
            "paymentData": payment_data,
            "merchantId": null,
        }),
    )
}

fn find(book: &Book, reference: &str) -> Option<usize> {
    let reference = reference
        .split_once("token=")
        .map_or(reference, |(_, rest)| {
            rest.split('&').next().unwrap_or(rest)
        });
    book.payments
        .iter()
        .position(|p| p.token == reference)
        .or_else(|| {
            book.payments
                .iter()
                .rposition(|p| p.commerce_order == reference)
        })
}

async fn set_status(shared: &Shared, reference: &str, status: i64) -> Result<Delivery, FakeError> {
    if !(1..=4).contains(&status) {
        return Err(FakeError::InvalidState(format!(
            "unknown Flow status {status}"
        )));
    }
    let (url, token) = {
        let mut book = lock(&shared.book);
        let i = find(&book, reference)
            .ok_or_else(|| FakeError::UnknownReference(reference.to_owned()))?;
        book.payments[i].status = status;
        (
            book.payments[i].url_confirmation.clone(),
            book.payments[i].token.clone(),
        )
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    let body = wire::form([("token", token.as_str())]);
    Ok(shared.notifier.post(&url, headers, Bytes::from(body)).await)
}

fn token_param(query: Option<&str>) -> String {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

async fn checkout(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let token = token_param(query.as_deref());
    let book = lock(&shared.book);
    let Some(p) = book.payments.iter().find(|p| p.token == token) else {
        return error(StatusCode::BAD_REQUEST, 105, "Invalid token");
    };
    server::checkout_page("Flow", &p.subject, &p.amount.to_string(), p.status == 2)
}

async fn checkout_pay(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let token = token_param(query.as_deref());
    match set_status(&shared, &token, 2).await {
        Ok(_) => checkout(State(shared), RawQuery(query)).await,
        Err(_) => error(StatusCode::BAD_REQUEST, 105, "Invalid token"),
    }
}
