//! Mercado Pago, Checkout Pro: a *preference* is created per order and the buyer pays
//! through its `init_point`; Mercado Pago then notifies the `notification_url` with a
//! signed webhook naming the payment, which we read back with `GET /v1/payments/{id}`.
//!
//! Webhook authenticity: the `x-signature` header is `ts=<unix time>,v1=<hex>`, where
//! `v1` is HMAC-SHA256, keyed with the application's webhook secret, of the manifest
//! `id:<data.id>;request-id:<x-request-id>;ts:<ts>;` — `data.id` taken from the
//! notification's *query string* (lower-cased when alphanumeric), parts whose value is
//! absent left out. We also refuse timestamps further than a tolerance from our clock,
//! so a captured notification cannot be replayed later.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::{Method, header};
use meta_commerce::payments::{
    PaymentError, PaymentErrorKind, PaymentFuture, PaymentGateway, PaymentLink,
    PaymentNotification, PaymentRequest, PaymentState, PaymentStatus, WebhookRequest,
};
use meta_commerce::{Currency, Money};
use meta_core::clock::Clock;
use meta_core::transport::Transport;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::signing::{hmac_hex, verify_hmac_hex};
use crate::wire::{self, Wire};

/// The gateway's name in links, statuses and shop preferences.
pub const NAME: &str = "mercadopago";
/// Mercado Pago's API.
pub const DEFAULT_BASE_URL: &str = "https://api.mercadopago.com";
/// The notification signature header.
pub const HEADER_SIGNATURE: &str = "x-signature";
/// The notification request id header (part of the signed manifest).
pub const HEADER_REQUEST_ID: &str = "x-request-id";
/// The idempotency header on creation calls.
pub const HEADER_IDEMPOTENCY: &str = "x-idempotency-key";

/// Mercado Pago settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MercadoPagoConfig {
    /// API base URL (default [`DEFAULT_BASE_URL`]; a fake's URL in tests).
    pub base_url: String,
    /// The seller's access token (`APP_USR-…`).
    pub access_token: SecretString,
    /// The application's webhook signing secret.
    pub webhook_secret: SecretString,
    /// Where Mercado Pago notifies us, unless the request names its own URL.
    pub notification_url: Option<String>,
    /// Send buyers to `sandbox_init_point` (test credentials) instead of `init_point`.
    pub sandbox: bool,
    /// Currencies the account charges in (default ARS, BRL, CLP, COP, MXN, PEN, UYU).
    pub currencies: Vec<Currency>,
    /// How far a notification's `ts` may be from our clock (default 10 minutes).
    pub signature_tolerance: Duration,
    /// Total time for one API call (default 20 s).
    pub timeout: Duration,
}

impl MercadoPagoConfig {
    /// Settings with the defaults above.
    #[must_use]
    pub fn new(access_token: SecretString, webhook_secret: SecretString) -> Self {
        MercadoPagoConfig {
            base_url: DEFAULT_BASE_URL.to_owned(),
            access_token,
            webhook_secret,
            notification_url: None,
            sandbox: false,
            currencies: ["ARS", "BRL", "CLP", "COP", "MXN", "PEN", "UYU"]
                .iter()
                .filter_map(|c| Currency::parse(c).ok())
                .collect(),
            signature_tolerance: Duration::from_secs(600),
            timeout: wire::DEFAULT_TIMEOUT,
        }
    }

    /// Sets the API base URL.
    #[must_use]
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Sets the default notification URL.
    #[must_use]
    pub fn with_notification_url(mut self, url: impl Into<String>) -> Self {
        self.notification_url = Some(url.into());
        self
    }
}

/// The Mercado Pago Checkout Pro gateway.
pub struct MercadoPagoGateway {
    config: MercadoPagoConfig,
    clock: Arc<dyn Clock>,
    wire: Wire,
}

impl fmt::Debug for MercadoPagoGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The config's secrets print as [REDACTED]; still, keep the Debug small.
        f.debug_struct("MercadoPagoGateway")
            .field("base_url", &self.config.base_url)
            .finish_non_exhaustive()
    }
}

impl MercadoPagoGateway {
    /// A gateway over meta-core's reqwest transport (rustls on ring).
    ///
    /// # Errors
    /// [`PaymentErrorKind::Unsupported`] if the HTTP client cannot be set up.
    pub fn new(config: MercadoPagoConfig, clock: Arc<dyn Clock>) -> Result<Self, PaymentError> {
        let transport = wire::default_transport(NAME)?;
        Ok(Self::with_transport(config, clock, transport))
    }

    /// A gateway over any [`Transport`].
    #[must_use]
    pub fn with_transport(
        config: MercadoPagoConfig,
        clock: Arc<dyn Clock>,
        transport: Arc<dyn Transport>,
    ) -> Self {
        let wire = Wire::new(NAME, &config.base_url, transport, config.timeout);
        MercadoPagoGateway {
            config,
            clock,
            wire,
        }
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.config.access_token.expose_secret())
    }

    fn preference_body(&self, request: &PaymentRequest) -> Value {
        let currency = request.amount.currency;
        let title = if request.description.is_empty() {
            format!("Pedido {}", request.order_id)
        } else {
            request.description.clone()
        };
        // Itemised only when the lines add up to the amount charged (discounts or
        // shipping would otherwise make Mercado Pago charge a different total).
        let lines_total = request
            .lines
            .iter()
            .try_fold(Money::zero(currency), |acc, l| {
                l.unit_price.times(l.qty).and_then(|t| acc.checked_add(t))
            });
        let items: Vec<Value> = if !request.lines.is_empty() && lines_total == Some(request.amount)
        {
            request
                .lines
                .iter()
                .map(|l| {
                    json!({
                        "id": l.sku,
                        "title": l.title,
                        "quantity": l.qty,
                        "unit_price": wire::json_number(l.unit_price),
                        "currency_id": currency.as_str(),
                    })
                })
                .collect()
        } else {
            vec![json!({
                "id": request.order_id,
                "title": title,
                "quantity": 1,
                "unit_price": wire::json_number(request.amount),
                "currency_id": currency.as_str(),
            })]
        };
        let mut body = json!({
            "items": items,
            "external_reference": request.order_id,
            "metadata": {"order_id": request.order_id, "shop_id": request.shop_id},
        });
        if let Some(obj) = body.as_object_mut() {
            if let Some(url) = request
                .notification_url
                .as_ref()
                .or(self.config.notification_url.as_ref())
            {
                obj.insert("notification_url".into(), json!(url));
            }
            if let Some(url) = &request.return_url {
                obj.insert(
                    "back_urls".into(),
                    json!({"success": url, "pending": url, "failure": url}),
                );
                obj.insert("auto_return".into(), json!("approved"));
            }
            if let Some(at) = request.expires_at {
                obj.insert("expires".into(), json!(true));
                obj.insert("expiration_date_to".into(), json!(iso8601_millis(at)));
            }
        }
        body
    }

    fn parse_notification(
        &self,
        request: WebhookRequest<'_>,
    ) -> Result<PaymentNotification, PaymentError> {
        let bad = |m: &str| self.wire.err(PaymentErrorKind::InvalidSignature, m);
        let malformed = |m: &str| self.wire.err(PaymentErrorKind::Malformed, m);
        let signature = request
            .headers
            .get(HEADER_SIGNATURE)
            .ok_or_else(|| bad("missing x-signature"))?
            .to_str()
            .map_err(|_| bad("x-signature is not text"))?;
        let parsed =
            parse_signature_header(signature).ok_or_else(|| bad("malformed x-signature"))?;
        let request_id = match request.headers.get(HEADER_REQUEST_ID) {
            Some(v) => Some(v.to_str().map_err(|_| bad("x-request-id is not text"))?),
            None => None,
        };
        let query: Vec<(String, String)> = form_urlencoded::parse(request.query.as_bytes())
            .into_owned()
            .collect();
        let q = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let data_id = q("data.id").ok_or_else(|| malformed("no data.id in the query"))?;
        if data_id.is_empty() || data_id.len() > 64 {
            return Err(malformed("bad data.id"));
        }

        // Freshness before the MAC: both are cheap, and a stale delivery is refused
        // even when genuine.
        let ts_secs = parsed.ts_secs();
        let now = self.clock.unix_secs();
        if now.abs_diff(ts_secs) > self.config.signature_tolerance.as_secs() {
            return Err(bad("notification timestamp outside the tolerance"));
        }
        let manifest = signature_manifest(Some(data_id), request_id, parsed.ts);
        if !verify_hmac_hex(&self.config.webhook_secret, manifest.as_bytes(), parsed.v1) {
            return Err(bad("x-signature does not match"));
        }

        let body: Value = if request.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(request.body).map_err(|_| malformed("body is not JSON"))?
        };
        let kind = q("type")
            .or_else(|| q("topic"))
            .or_else(|| body.get("type").and_then(Value::as_str))
            .unwrap_or("payment");
        if kind != "payment" {
            // Signed, but about something we do not track (merchant orders, plans…):
            // the receiver should acknowledge it and move on.
            return Err(self.wire.err(
                PaymentErrorKind::Unsupported,
                format!("notification type `{kind}` is not a payment"),
            ));
        }
        let event = body
            .get("action")
            .and_then(Value::as_str)
            .unwrap_or("payment");
        Ok(PaymentNotification::new(NAME, data_id, event))
    }

    async fn fetch_status(&self, payment_id: &str) -> Result<PaymentStatus, PaymentError> {
        if payment_id.is_empty()
            || !payment_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(self.wire.err(PaymentErrorKind::Malformed, "bad payment id"));
        }
        let url = self.wire.url(&format!("/v1/payments/{payment_id}"));
        let req = self
            .wire
            .request(Method::GET, &url)?
            .header(header::AUTHORIZATION, self.bearer());
        let answer = self
            .wire
            .send(self.wire.finish(req, Vec::new())?, "get payment")
            .await?;
        let p: MpPayment = self.wire.json(&answer.body, "get payment")?;
        let state = map_status(&p.status).ok_or_else(|| {
            self.wire.err(
                PaymentErrorKind::Malformed,
                format!("unknown payment status `{}`", p.status),
            )
        })?;
        let order_id = p
            .external_reference
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                self.wire.err(
                    PaymentErrorKind::NotFound,
                    "payment has no external_reference: not one of our orders",
                )
            })?;
        let amount = match (&p.transaction_amount, p.currency_id.as_deref()) {
            (Some(v), Some(c)) => {
                let currency = Currency::parse(c).map_err(|_| {
                    self.wire
                        .err(PaymentErrorKind::Malformed, "bad currency_id in payment")
                })?;
                Some(wire::money_from_json(v, currency).ok_or_else(|| {
                    self.wire
                        .err(PaymentErrorKind::Malformed, "bad transaction_amount")
                })?)
            }
            _ => None,
        };
        Ok(PaymentStatus::new(
            NAME,
            order_id,
            id_text(&p.id),
            state,
            amount,
            p.status,
        ))
    }
}

impl PaymentGateway for MercadoPagoGateway {
    fn name(&self) -> &str {
        NAME
    }

    fn supports(&self, currency: Currency) -> bool {
        self.config.currencies.contains(&currency)
    }

    fn create_link<'a>(&'a self, request: &'a PaymentRequest) -> PaymentFuture<'a, PaymentLink> {
        Box::pin(async move {
            if !self.supports(request.amount.currency) {
                return Err(self.wire.err(
                    PaymentErrorKind::Unsupported,
                    format!("currency {} not enabled", request.amount.currency),
                ));
            }
            let body = self.preference_body(request);
            let url = self.wire.url("/checkout/preferences");
            let req = self
                .wire
                .request(Method::POST, &url)?
                .header(header::AUTHORIZATION, self.bearer())
                .header(header::CONTENT_TYPE, wire::json_type())
                .header(HEADER_IDEMPOTENCY, request.idempotency_key.as_str());
            let answer = self
                .wire
                .send(
                    self.wire.finish(req, body.to_string())?,
                    "create preference",
                )
                .await?;
            let pref: MpPreference = self.wire.json(&answer.body, "create preference")?;
            let url = if self.config.sandbox {
                pref.sandbox_init_point.or(pref.init_point)
            } else {
                pref.init_point
            }
            .ok_or_else(|| {
                self.wire
                    .err(PaymentErrorKind::Malformed, "preference without init_point")
            })?;
            let mut link = PaymentLink::new(NAME, url, pref.id);
            link.expires_at = request.expires_at;
            Ok(link)
        })
    }

    fn verify_webhook<'a>(
        &'a self,
        request: WebhookRequest<'a>,
    ) -> PaymentFuture<'a, PaymentNotification> {
        let result = self.parse_notification(request);
        Box::pin(async move { result })
    }

    fn status<'a>(
        &'a self,
        notification: &'a PaymentNotification,
    ) -> PaymentFuture<'a, PaymentStatus> {
        Box::pin(self.fetch_status(&notification.reference))
    }
}

#[derive(Debug, Deserialize)]
struct MpPreference {
    id: String,
    init_point: Option<String>,
    sandbox_init_point: Option<String>,
}

#[derive(Debug, Deserialize)]
struct MpPayment {
    id: Value,
    status: String,
    external_reference: Option<String>,
    transaction_amount: Option<Value>,
    currency_id: Option<String>,
}

fn id_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Mercado Pago's payment `status` as our state; `None` for a word we do not know.
#[must_use]
pub fn map_status(status: &str) -> Option<PaymentState> {
    Some(match status {
        "approved" => PaymentState::Approved,
        // `authorized` is held but not captured; `in_mediation` is disputed: neither
        // is money we can count on yet.
        "pending" | "in_process" | "authorized" | "in_mediation" => PaymentState::Pending,
        "rejected" => PaymentState::Rejected,
        "cancelled" => PaymentState::Cancelled,
        "refunded" | "charged_back" => PaymentState::Refunded,
        _ => return None,
    })
}

/// A parsed `x-signature` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SignatureHeader<'a> {
    ts: &'a str,
    v1: &'a str,
}

impl SignatureHeader<'_> {
    /// `ts` in seconds. Mercado Pago's docs show seconds; deliveries with
    /// milliseconds have been seen, so 13-digit values are read as milliseconds.
    fn ts_secs(&self) -> u64 {
        let n: u64 = self.ts.parse().unwrap_or(0);
        if n >= 100_000_000_000 { n / 1000 } else { n }
    }
}

fn parse_signature_header(value: &str) -> Option<SignatureHeader<'_>> {
    let mut ts = None;
    let mut v1 = None;
    for part in value.split(',') {
        let (k, v) = part.split_once('=')?;
        match k.trim() {
            "ts" => ts = Some(v.trim()),
            "v1" => v1 = Some(v.trim()),
            _ => {}
        }
    }
    let (ts, v1) = (ts?, v1?);
    if ts.is_empty() || !ts.bytes().all(|b| b.is_ascii_digit()) || ts.len() > 20 {
        return None;
    }
    Some(SignatureHeader { ts, v1 })
}

/// The signed manifest: `id:{data.id};request-id:{x-request-id};ts:{ts};`, with
/// `data.id` lower-cased when alphanumeric and absent parts left out.
#[must_use]
pub fn signature_manifest(data_id: Option<&str>, request_id: Option<&str>, ts: &str) -> String {
    let mut m = String::new();
    if let Some(id) = data_id {
        let id = if id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            id.to_ascii_lowercase()
        } else {
            id.to_owned()
        };
        m.push_str(&format!("id:{id};"));
    }
    if let Some(r) = request_id {
        m.push_str(&format!("request-id:{r};"));
    }
    m.push_str(&format!("ts:{ts};"));
    m
}

/// The `x-signature` value Mercado Pago would send for a notification about `data_id`
/// (for fakes and tests): `ts={ts},v1={hex hmac}`.
#[must_use]
pub fn sign_notification(
    secret: &SecretString,
    data_id: &str,
    request_id: &str,
    ts: u64,
) -> String {
    let ts = ts.to_string();
    let manifest = signature_manifest(Some(data_id), Some(request_id), &ts);
    format!("ts={ts},v1={}", hmac_hex(secret, manifest.as_bytes()))
}

/// `2026-05-25T13:01:08.000+00:00`, the date format Mercado Pago documents.
pub(crate) fn iso8601_millis(at: SystemTime) -> String {
    let dt: chrono::DateTime<chrono::Utc> = at.into();
    dt.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn manifest_follows_the_documented_template() {
        assert_eq!(
            signature_manifest(Some("123456"), Some("req-1"), "1704908010"),
            "id:123456;request-id:req-1;ts:1704908010;"
        );
        // Alphanumeric ids are lower-cased; ids with other characters are kept.
        assert_eq!(
            signature_manifest(Some("ORD01ABC"), None, "1"),
            "id:ord01abc;ts:1;"
        );
        assert_eq!(signature_manifest(Some("A-B"), None, "1"), "id:A-B;ts:1;");
    }

    #[test]
    fn signature_header_parses_with_spaces_and_extra_parts() {
        let h = parse_signature_header("ts=1704908010, v1=abc,v2=zzz").unwrap();
        assert_eq!(h.ts, "1704908010");
        assert_eq!(h.v1, "abc");
        assert_eq!(h.ts_secs(), 1_704_908_010);
        let ms = parse_signature_header("ts=1704908010123,v1=abc").unwrap();
        assert_eq!(ms.ts_secs(), 1_704_908_010);
        assert!(parse_signature_header("v1=abc").is_none());
        assert!(parse_signature_header("ts=12x,v1=abc").is_none());
        assert!(parse_signature_header("garbage").is_none());
    }

    #[test]
    fn statuses_map() {
        assert_eq!(map_status("approved"), Some(PaymentState::Approved));
        assert_eq!(map_status("in_process"), Some(PaymentState::Pending));
        assert_eq!(map_status("charged_back"), Some(PaymentState::Refunded));
        assert_eq!(map_status("cancelled"), Some(PaymentState::Cancelled));
        assert_eq!(map_status("weird"), None);
    }

    #[test]
    fn dates_use_milliseconds_and_offset() {
        let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_250);
        assert_eq!(iso8601_millis(at), "2023-11-14T22:13:20.250+00:00");
    }
}
