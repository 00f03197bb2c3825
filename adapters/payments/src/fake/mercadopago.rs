//! A fake Mercado Pago: Checkout Pro preferences, payments and signed webhooks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::{get, post};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use meta_commerce::{Currency, Money};
use meta_core::clock::{Clock, SystemClock};
use secrecy::SecretString;
use serde_json::{Value, json};

use super::server::{self, Faults, Notifier, Running, lock};
use super::{Delivery, FakeError};
use crate::mercadopago::{self as mp, HEADER_IDEMPOTENCY, HEADER_REQUEST_ID, HEADER_SIGNATURE};
use crate::wire;

const COLLECTOR_ID: u64 = 202_809_963;
const STATUSES: &[&str] = &[
    "approved",
    "pending",
    "in_process",
    "authorized",
    "in_mediation",
    "rejected",
    "cancelled",
    "refunded",
    "charged_back",
];

/// Settings of a [`FakeMercadoPago`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FakeMercadoPagoConfig {
    /// The access token the fake accepts (default `APP_USR-fake-mercadopago-token`).
    pub access_token: String,
    /// The secret notifications are signed with.
    pub webhook_secret: SecretString,
    /// The clock notification timestamps are taken from (default the system clock).
    pub clock: Arc<dyn Clock>,
}

impl FakeMercadoPagoConfig {
    /// Defaults with `webhook_secret`.
    #[must_use]
    pub fn new(webhook_secret: &str) -> Self {
        FakeMercadoPagoConfig {
            access_token: "APP_USR-fake-mercadopago-token".to_owned(),
            webhook_secret: SecretString::from(webhook_secret),
            clock: Arc::new(SystemClock::default()),
        }
    }

    /// Uses `clock` for notification timestamps.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

/// A preference as the fake stored it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FakePreference {
    /// Its id.
    pub id: String,
    /// `external_reference` (our order id).
    pub external_reference: Option<String>,
    /// `notification_url`.
    pub notification_url: Option<String>,
    /// `expiration_date_to`, as sent.
    pub expiration_date_to: Option<String>,
    /// The `X-Idempotency-Key` it was created with.
    pub idempotency_key: Option<String>,
    /// The sum of its items.
    pub amount: Money,
    /// The checkout URL.
    pub init_point: String,
    /// The request body as received.
    pub request: Value,
}

/// A payment the fake made for a preference.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FakeMpPayment {
    /// Payment id.
    pub id: u64,
    /// The preference paid.
    pub preference_id: String,
    /// The preference's `external_reference`.
    pub external_reference: Option<String>,
    /// Mercado Pago status word.
    pub status: String,
    /// Amount.
    pub amount: Money,
}

#[derive(Debug, Default)]
struct Book {
    preferences: Vec<FakePreference>,
    by_idempotency: HashMap<String, String>,
    payments: Vec<FakeMpPayment>,
    counter: u64,
}

#[derive(Debug)]
struct Shared {
    config: FakeMercadoPagoConfig,
    base_url: Mutex<String>,
    book: Mutex<Book>,
    faults: Faults,
    notifier: Notifier,
}

/// A running fake Mercado Pago. Cheap to clone; stops when the last clone is dropped
/// or on [`FakeMercadoPago::shutdown`].
#[derive(Debug, Clone)]
pub struct FakeMercadoPago {
    shared: Arc<Shared>,
    server: Arc<Running>,
}

impl FakeMercadoPago {
    /// Starts a fake on a free local port, signing notifications with `webhook_secret`.
    ///
    /// # Errors
    /// [`FakeError::Bind`].
    pub async fn start(webhook_secret: &str) -> Result<Self, FakeError> {
        Self::start_with(FakeMercadoPagoConfig::new(webhook_secret)).await
    }

    /// Starts a fake with `config`.
    ///
    /// # Errors
    /// [`FakeError::Bind`].
    pub async fn start_with(config: FakeMercadoPagoConfig) -> Result<Self, FakeError> {
        let shared = Arc::new(Shared {
            config,
            base_url: Mutex::new(String::new()),
            book: Mutex::new(Book::default()),
            faults: Faults::default(),
            notifier: Notifier::new(),
        });
        let app = Router::new()
            .route("/checkout/preferences", post(create_preference))
            .route("/checkout/preferences/{id}", get(get_preference))
            .route("/v1/payments/{id}", get(get_payment))
            .route("/checkout/v1/redirect", get(checkout).post(checkout_pay))
            .with_state(shared.clone());
        let server = Running::start(app).await?;
        *lock(&shared.base_url) = server.base_url().to_owned();
        Ok(FakeMercadoPago {
            shared,
            server: Arc::new(server),
        })
    }

    /// `http://127.0.0.1:PORT`: the gateway's base URL.
    #[must_use]
    pub fn base_url(&self) -> &str {
        self.server.base_url()
    }

    /// The access token the fake accepts.
    #[must_use]
    pub fn access_token(&self) -> &str {
        &self.shared.config.access_token
    }

    /// The webhook secret notifications are signed with.
    #[must_use]
    pub fn webhook_secret(&self) -> SecretString {
        self.shared.config.webhook_secret.clone()
    }

    /// Every preference created, oldest first.
    #[must_use]
    pub fn preferences(&self) -> Vec<FakePreference> {
        lock(&self.shared.book).preferences.clone()
    }

    /// Every payment made, oldest first.
    #[must_use]
    pub fn payments(&self) -> Vec<FakeMpPayment> {
        lock(&self.shared.book).payments.clone()
    }

    /// Every notification sent, oldest first.
    #[must_use]
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.notifier.log()
    }

    /// The next `n` API calls answer 500 with Mercado Pago's error body.
    pub fn fail_next(&self, n: u32) {
        self.shared.faults.arm(n, 500);
    }

    /// The next `n` API calls answer `status` with Mercado Pago's error body.
    pub fn fail_next_with(&self, n: u32, status: u16) {
        self.shared.faults.arm(n, status);
    }

    /// The buyer pays: an `approved` payment for the preference named by `reference`
    /// (its id, its `external_reference`, or a link containing `pref_id=`), then a
    /// signed notification to its `notification_url`.
    ///
    /// # Errors
    /// [`FakeError::UnknownReference`].
    pub async fn pay(&self, reference: &str) -> Result<Delivery, FakeError> {
        self.pay_with_status(reference, "approved").await
    }

    /// Like [`pay`](Self::pay) with any Mercado Pago status (`pending`, `rejected`…).
    ///
    /// # Errors
    /// [`FakeError::UnknownReference`]; [`FakeError::InvalidState`] for an unknown status word.
    pub async fn pay_with_status(
        &self,
        reference: &str,
        status: &str,
    ) -> Result<Delivery, FakeError> {
        pay(&self.shared, reference, status).await
    }

    /// Changes a payment's status (a refund, a charge-back) and notifies again.
    ///
    /// # Errors
    /// [`FakeError::UnknownReference`]; [`FakeError::InvalidState`] for an unknown status word.
    pub async fn set_payment_status(
        &self,
        payment_id: u64,
        status: &str,
    ) -> Result<Delivery, FakeError> {
        if !STATUSES.contains(&status) {
            return Err(FakeError::InvalidState(format!(
                "unknown status `{status}`"
            )));
        }
        let url = {
            let mut book = lock(&self.shared.book);
            let Book {
                payments,
                preferences,
                ..
            } = &mut *book;
            let p = payments
                .iter_mut()
                .find(|p| p.id == payment_id)
                .ok_or_else(|| FakeError::UnknownReference(payment_id.to_string()))?;
            p.status = status.to_owned();
            preferences
                .iter()
                .find(|f| f.id == p.preference_id)
                .and_then(|f| f.notification_url.clone())
                .unwrap_or_default()
        };
        Ok(notify(&self.shared, &url, payment_id, "payment.updated").await)
    }

    /// Stops the server (also done when the last clone is dropped).
    pub fn shutdown(&self) {
        self.server.stop();
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    server::json(
        status,
        &json!({"message": message, "error": code, "status": status.as_u16(), "cause": []}),
    )
}

/// The refusal to answer with, if the call must not go through.
fn guard(shared: &Shared, headers: &HeaderMap) -> Option<Response> {
    if let Some(status) = shared.faults.take() {
        return Some(error(status, "internal_error", "injected failure"));
    }
    match server::bearer(headers) {
        Some(t) if t == shared.config.access_token => None,
        _ => Some(error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "invalid access token",
        )),
    }
}

fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "bad_request", message)
}

fn preference_json(p: &FakePreference) -> Value {
    let mut v = p.request.clone();
    if let Some(obj) = v.as_object_mut() {
        obj.insert("id".into(), json!(p.id));
        obj.insert("collector_id".into(), json!(COLLECTOR_ID));
        obj.insert("client_id".into(), json!("6295877106812064"));
        obj.insert("init_point".into(), json!(p.init_point));
        obj.insert(
            "sandbox_init_point".into(),
            json!(format!("{}&sandbox=true", p.init_point)),
        );
        obj.insert("operation_type".into(), json!("regular_payment"));
    }
    v
}

/// Validates a preference body; returns its total.
fn validate(body: &Value) -> Result<Money, Box<Response>> {
    let bad_request = |m: &str| Box::new(bad_request(m));
    let items = body
        .get("items")
        .and_then(Value::as_array)
        .filter(|i| !i.is_empty())
        .ok_or_else(|| bad_request("items needed"))?;
    let mut total: Option<Money> = None;
    for item in items {
        let title = item.get("title").and_then(Value::as_str).unwrap_or("");
        if title.is_empty() {
            return Err(bad_request("item.title needed"));
        }
        let qty = item
            .get("quantity")
            .and_then(Value::as_u64)
            .filter(|q| *q >= 1)
            .ok_or_else(|| bad_request("item.quantity must be a positive integer"))?;
        let currency = item
            .get("currency_id")
            .and_then(Value::as_str)
            .and_then(|c| Currency::parse(c).ok())
            .ok_or_else(|| bad_request("item.currency_id invalid"))?;
        let price = item
            .get("unit_price")
            .and_then(|p| wire::money_from_json(p, currency))
            .filter(|m| m.minor > 0)
            .ok_or_else(|| bad_request("item.unit_price invalid"))?;
        let line = u32::try_from(qty)
            .ok()
            .and_then(|q| price.times(q))
            .ok_or_else(|| bad_request("item total too large"))?;
        total = Some(match total {
            None => line,
            Some(t) => t
                .checked_add(line)
                .ok_or_else(|| bad_request("items must share one currency_id"))?,
        });
    }
    if let Some(ext) = body.get("external_reference")
        && ext.as_str().is_none_or(|s| s.len() > 256)
    {
        return Err(bad_request("external_reference invalid"));
    }
    if let Some(url) = body.get("notification_url") {
        let ok = url
            .as_str()
            .and_then(|u| url::Url::parse(u).ok())
            .is_some_and(|u| matches!(u.scheme(), "http" | "https"));
        if !ok {
            return Err(bad_request("notification_url attribute must be url valid"));
        }
    }
    if let Some(date) = body.get("expiration_date_to")
        && date
            .as_str()
            .is_none_or(|d| chrono::DateTime::parse_from_rfc3339(d).is_err())
    {
        return Err(bad_request("expiration_date_to invalid"));
    }
    total.ok_or_else(|| bad_request("items needed"))
}

async fn create_preference(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = guard(&shared, &headers) {
        return r;
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return bad_request("invalid JSON body");
    };
    let amount = match validate(&request) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let key = headers
        .get(HEADER_IDEMPOTENCY)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let base_url = lock(&shared.base_url).clone();
    let mut book = lock(&shared.book);
    if let Some(existing) = key
        .as_ref()
        .and_then(|k| book.by_idempotency.get(k))
        .and_then(|id| book.preferences.iter().find(|p| &p.id == id))
    {
        return server::json(StatusCode::CREATED, &preference_json(existing));
    }
    book.counter += 1;
    let n = book.counter;
    let id = format!("{COLLECTOR_ID}-{n:08x}-0000-4000-8000-{n:012x}");
    let pref = FakePreference {
        init_point: format!("{base_url}/checkout/v1/redirect?pref_id={id}"),
        id: id.clone(),
        external_reference: request
            .get("external_reference")
            .and_then(Value::as_str)
            .map(str::to_owned),
        notification_url: request
            .get("notification_url")
            .and_then(Value::as_str)
            .map(str::to_owned),
        expiration_date_to: request
            .get("expiration_date_to")
            .and_then(Value::as_str)
            .map(str::to_owned),
        idempotency_key: key.clone(),
        amount,
        request,
    };
    let out = preference_json(&pref);
    book.preferences.push(pref);
    if let Some(k) = key {
        book.by_idempotency.insert(k, id);
    }
    server::json(StatusCode::CREATED, &out)
}

async fn get_preference(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = guard(&shared, &headers) {
        return r;
    }
    let book = lock(&shared.book);
    match book.preferences.iter().find(|p| p.id == id) {
        Some(p) => server::json(StatusCode::OK, &preference_json(p)),
        None => error(StatusCode::NOT_FOUND, "not_found", "preference not found"),
    }
}

async fn get_payment(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = guard(&shared, &headers) {
        return r;
    }
    let book = lock(&shared.book);
    let Some(p) = id
        .parse::<u64>()
        .ok()
        .and_then(|n| book.payments.iter().find(|p| p.id == n))
    else {
        return error(StatusCode::NOT_FOUND, "not_found", "Payment not found");
    };
    let detail = match p.status.as_str() {
        "approved" => "accredited",
        "rejected" => "cc_rejected_other_reason",
        "in_process" | "pending" => "pending_contingency",
        other => other,
    };
    server::json(
        StatusCode::OK,
        &json!({
            "id": p.id,
            "status": p.status,
            "status_detail": detail,
            "external_reference": p.external_reference,
            "transaction_amount": wire::json_number(p.amount),
            "currency_id": p.amount.currency.as_str(),
            "collector_id": COLLECTOR_ID,
            "live_mode": false,
            "order": {"type": "mercadopago", "id": p.id + 7_000_000_000},
            "metadata": {"preference_id": p.preference_id},
        }),
    )
}

fn find_preference<'a>(book: &'a Book, reference: &str) -> Option<&'a FakePreference> {
    let reference = reference
        .split_once("pref_id=")
        .map_or(reference, |(_, rest)| {
            rest.split('&').next().unwrap_or(rest)
        });
    book.preferences
        .iter()
        .find(|p| p.id == reference)
        .or_else(|| {
            book.preferences
                .iter()
                .rev()
                .find(|p| p.external_reference.as_deref() == Some(reference))
        })
}

async fn pay(shared: &Shared, reference: &str, status: &str) -> Result<Delivery, FakeError> {
    if !STATUSES.contains(&status) {
        return Err(FakeError::InvalidState(format!(
            "unknown status `{status}`"
        )));
    }
    let (url, id) = {
        let mut book = lock(&shared.book);
        let pref = find_preference(&book, reference)
            .ok_or_else(|| FakeError::UnknownReference(reference.to_owned()))?
            .clone();
        book.counter += 1;
        let id = 1_000_000_000 + book.counter;
        book.payments.push(FakeMpPayment {
            id,
            preference_id: pref.id.clone(),
            external_reference: pref.external_reference.clone(),
            status: status.to_owned(),
            amount: pref.amount,
        });
        (pref.notification_url.unwrap_or_default(), id)
    };
    Ok(notify(shared, &url, id, "payment.created").await)
}

async fn notify(
    shared: &Shared,
    notification_url: &str,
    payment_id: u64,
    action: &str,
) -> Delivery {
    let n = {
        let mut book = lock(&shared.book);
        book.counter += 1;
        book.counter
    };
    let request_id = format!("{n:08x}-fa4e-4c0d-9a11-{payment_id:012x}");
    let ts = shared.config.clock.unix_secs();
    let data_id = payment_id.to_string();
    let signature = mp::sign_notification(&shared.config.webhook_secret, &data_id, &request_id, ts);
    let url = if notification_url.is_empty() {
        String::new()
    } else {
        let sep = if notification_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!("{notification_url}{sep}data.id={data_id}&type=payment")
    };
    let body = json!({
        "action": action,
        "api_version": "v1",
        "data": {"id": data_id},
        "date_created": mp::iso8601_millis(shared.config.clock.now()),
        "id": 120_000_000_000_u64 + n,
        "live_mode": false,
        "type": "payment",
        "user_id": COLLECTOR_ID.to_string(),
    });
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&signature) {
        headers.insert(HEADER_SIGNATURE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert(HEADER_REQUEST_ID, v);
    }
    shared
        .notifier
        .post(&url, headers, Bytes::from(body.to_string()))
        .await
}

fn pref_id(query: Option<&str>) -> String {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == "pref_id")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

async fn checkout(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let id = pref_id(query.as_deref());
    let book = lock(&shared.book);
    let Some(p) = find_preference(&book, &id) else {
        return error(StatusCode::NOT_FOUND, "not_found", "preference not found");
    };
    let paid = book
        .payments
        .iter()
        .any(|x| x.preference_id == p.id && x.status == "approved");
    server::checkout_page(
        "Mercado Pago",
        &format!(
            "Pedido {}",
            p.external_reference.as_deref().unwrap_or(&p.id)
        ),
        &p.amount.to_string(),
        paid,
    )
}

async fn checkout_pay(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let id = pref_id(query.as_deref());
    match pay(&shared, &id, "approved").await {
        Ok(_) => checkout(State(shared), RawQuery(query)).await,
        Err(_) => error(StatusCode::NOT_FOUND, "not_found", "preference not found"),
    }
}
