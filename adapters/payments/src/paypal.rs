//! PayPal, Orders v2: an order with intent `CAPTURE` is created per payment link and
//! the buyer approves it through its `approve` (or `payer-action`) link. Approval is
//! not payment: when [`PaymentGateway::status`] finds an `APPROVED` order it captures
//! it, with a `PayPal-Request-Id` derived from the order id so that a retried status
//! call (after a lost answer, or from a second instance) replays the first capture
//! instead of attempting another.
//!
//! Calls authenticate with an OAuth client-credentials token, cached until shortly
//! before it expires on the injected clock (and fetched again if PayPal refuses it
//! early). Webhooks are verified by PayPal itself
//! (`POST /v1/notifications/verify-webhook-signature`), after a local check that the
//! transmission time is recent.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use http::{Method, StatusCode, header};
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

use crate::wire::{self, Answer, Wire};

/// The gateway's name in links, statuses and shop preferences.
pub const NAME: &str = "paypal";
/// PayPal's live API.
pub const DEFAULT_BASE_URL: &str = "https://api-m.paypal.com";
/// PayPal's sandbox API.
pub const SANDBOX_BASE_URL: &str = "https://api-m.sandbox.paypal.com";
/// The idempotency header.
pub const HEADER_REQUEST_ID: &str = "paypal-request-id";
/// Webhook header: transmission id.
pub const HEADER_TRANSMISSION_ID: &str = "paypal-transmission-id";
/// Webhook header: transmission time (RFC 3339).
pub const HEADER_TRANSMISSION_TIME: &str = "paypal-transmission-time";
/// Webhook header: the signature.
pub const HEADER_TRANSMISSION_SIG: &str = "paypal-transmission-sig";
/// Webhook header: the signing certificate's URL.
pub const HEADER_CERT_URL: &str = "paypal-cert-url";
/// Webhook header: the signature algorithm.
pub const HEADER_AUTH_ALGO: &str = "paypal-auth-algo";

/// PayPal settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PayPalConfig {
    /// API base URL (default [`DEFAULT_BASE_URL`]; [`SANDBOX_BASE_URL`] or a fake's URL).
    pub base_url: String,
    /// The REST app's client id.
    pub client_id: String,
    /// The REST app's secret.
    pub client_secret: SecretString,
    /// The id of the webhook configured for this app (needed to verify deliveries).
    pub webhook_id: String,
    /// Currencies to charge in (default: PayPal's list minus HUF and TWD, which PayPal
    /// requires without decimals although ISO 4217 gives them two).
    pub currencies: Vec<Currency>,
    /// How far a webhook's transmission time may be from our clock (default 10 minutes).
    pub transmission_tolerance: Duration,
    /// Total time for one API call (default 20 s).
    pub timeout: Duration,
}

impl PayPalConfig {
    /// Settings with the defaults above.
    #[must_use]
    pub fn new(
        client_id: impl Into<String>,
        client_secret: SecretString,
        webhook_id: impl Into<String>,
    ) -> Self {
        PayPalConfig {
            base_url: DEFAULT_BASE_URL.to_owned(),
            client_id: client_id.into(),
            client_secret,
            webhook_id: webhook_id.into(),
            currencies: [
                "AUD", "BRL", "CAD", "CHF", "CNY", "CZK", "DKK", "EUR", "GBP", "HKD", "ILS", "JPY",
                "MXN", "MYR", "NOK", "NZD", "PHP", "PLN", "SEK", "SGD", "THB", "USD",
            ]
            .iter()
            .filter_map(|c| Currency::parse(c).ok())
            .collect(),
            transmission_tolerance: Duration::from_secs(600),
            timeout: wire::DEFAULT_TIMEOUT,
        }
    }

    /// Sets the API base URL.
    #[must_use]
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }
}

#[derive(Clone)]
struct CachedToken {
    token: SecretString,
    /// On the clock's monotonic scale.
    valid_until: Duration,
}

/// The PayPal Orders v2 gateway.
pub struct PayPalGateway {
    config: PayPalConfig,
    clock: Arc<dyn Clock>,
    wire: Wire,
    // An async mutex: concurrent callers wait for one token fetch instead of each
    // fetching their own.
    token: tokio::sync::Mutex<Option<CachedToken>>,
}

impl fmt::Debug for PayPalGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PayPalGateway")
            .field("base_url", &self.config.base_url)
            .field("client_id", &self.config.client_id)
            .finish_non_exhaustive()
    }
}

impl PayPalGateway {
    /// A gateway over meta-core's reqwest transport (rustls on ring).
    ///
    /// # Errors
    /// [`PaymentErrorKind::Unsupported`] if the HTTP client cannot be set up.
    pub fn new(config: PayPalConfig, clock: Arc<dyn Clock>) -> Result<Self, PaymentError> {
        let transport = wire::default_transport(NAME)?;
        Ok(Self::with_transport(config, clock, transport))
    }

    /// A gateway over any [`Transport`].
    #[must_use]
    pub fn with_transport(
        config: PayPalConfig,
        clock: Arc<dyn Clock>,
        transport: Arc<dyn Transport>,
    ) -> Self {
        let wire = Wire::new(NAME, &config.base_url, transport, config.timeout);
        PayPalGateway {
            config,
            clock,
            wire,
            token: tokio::sync::Mutex::new(None),
        }
    }

    async fn fetch_token(&self) -> Result<CachedToken, PaymentError> {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            self.config.client_id,
            self.config.client_secret.expose_secret()
        ));
        let req = self
            .wire
            .request(Method::POST, &self.wire.url("/v1/oauth2/token"))?
            .header(header::AUTHORIZATION, format!("Basic {basic}"))
            .header(header::CONTENT_TYPE, wire::form_type());
        let body = wire::form([("grant_type", "client_credentials")]);
        let answer = self
            .wire
            .send(self.wire.finish(req, body)?, "oauth token")
            .await?;
        let t: TokenAnswer = self.wire.json(&answer.body, "oauth token")?;
        // Refresh a minute early (or halfway, for very short tokens) so a token never
        // expires between our check and PayPal's.
        let margin = (t.expires_in / 2).min(60);
        Ok(CachedToken {
            token: SecretString::from(t.access_token),
            valid_until: self.clock.elapsed() + Duration::from_secs(t.expires_in - margin),
        })
    }

    async fn token(&self, refresh: bool) -> Result<SecretString, PaymentError> {
        let mut cached = self.token.lock().await;
        if !refresh
            && let Some(t) = cached.as_ref()
            && self.clock.elapsed() < t.valid_until
        {
            return Ok(t.token.clone());
        }
        let fresh = self.fetch_token().await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    /// Sends an authorised request built by `build`, fetching a new token once if
    /// PayPal refuses the cached one (revoked or expired early). Returns any status.
    async fn authorized(
        &self,
        what: &str,
        build: impl Fn(&str) -> Result<http::Request<bytes::Bytes>, PaymentError>,
    ) -> Result<Answer, PaymentError> {
        let mut refresh = false;
        loop {
            let token = self.token(refresh).await?;
            let bearer = format!("Bearer {}", token.expose_secret());
            let answer = self.wire.send_any(build(&bearer)?, what).await?;
            if answer.status == StatusCode::UNAUTHORIZED && !refresh {
                refresh = true;
                continue;
            }
            return Ok(answer);
        }
    }

    fn json_request(
        &self,
        method: Method,
        path: &str,
        bearer: &str,
        request_id: Option<&str>,
        body: String,
    ) -> Result<http::Request<bytes::Bytes>, PaymentError> {
        let mut req = self
            .wire
            .request(method, &self.wire.url(path))?
            .header(header::AUTHORIZATION, bearer)
            .header(header::CONTENT_TYPE, wire::json_type())
            .header("prefer", "return=representation");
        if let Some(id) = request_id {
            req = req.header(HEADER_REQUEST_ID, id);
        }
        self.wire.finish(req, body)
    }

    fn order_body(request: &PaymentRequest) -> Value {
        let mut description = if request.description.is_empty() {
            format!("Pedido {}", request.order_id)
        } else {
            request.description.clone()
        };
        truncate(&mut description, 127);
        let mut body = json!({
            "intent": "CAPTURE",
            "purchase_units": [{
                "reference_id": request.order_id,
                "custom_id": request.order_id,
                "description": description,
                "amount": {
                    "currency_code": request.amount.currency.as_str(),
                    "value": request.amount.decimal_string(),
                },
            }],
        });
        if let (Some(url), Some(obj)) = (&request.return_url, body.as_object_mut()) {
            obj.insert(
                "payment_source".into(),
                json!({"paypal": {"experience_context": {
                    "return_url": url,
                    "cancel_url": url,
                    "user_action": "PAY_NOW",
                    "shipping_preference": "NO_SHIPPING",
                }}}),
            );
        }
        body
    }

    async fn get_order(&self, id: &str) -> Result<Order, PaymentError> {
        let path = format!("/v2/checkout/orders/{id}");
        let answer = self
            .authorized("get order", |bearer| {
                self.json_request(Method::GET, &path, bearer, None, String::new())
            })
            .await?;
        let answer = self.wire.check(answer, "get order")?;
        self.wire.json(&answer.body, "get order")
    }

    /// Captures an approved order. `Ok(Err(..))` when PayPal refuses for a reason the
    /// caller handles: already captured (read it again) or the buyer's instrument
    /// declined (a rejected payment, not an error).
    async fn capture(&self, id: &str) -> Result<Result<Order, CaptureRefusal>, PaymentError> {
        let path = format!("/v2/checkout/orders/{id}/capture");
        // Stable per order: however often status() runs, PayPal sees one capture
        // request and replays its answer.
        let request_id = format!("capture-{id}");
        let answer = self
            .authorized("capture order", |bearer| {
                self.json_request(
                    Method::POST,
                    &path,
                    bearer,
                    Some(&request_id),
                    "{}".to_owned(),
                )
            })
            .await?;
        if answer.status == StatusCode::UNPROCESSABLE_ENTITY {
            let issue = serde_json::from_slice::<Value>(&answer.body)
                .ok()
                .and_then(|v| {
                    v.get("details")?
                        .get(0)?
                        .get("issue")?
                        .as_str()
                        .map(str::to_owned)
                });
            match issue.as_deref() {
                Some("ORDER_ALREADY_CAPTURED") => return Ok(Err(CaptureRefusal::AlreadyCaptured)),
                Some("INSTRUMENT_DECLINED") => return Ok(Err(CaptureRefusal::Declined)),
                _ => {}
            }
        }
        let answer = self.wire.check(answer, "capture order")?;
        Ok(Ok(self.wire.json(&answer.body, "capture order")?))
    }

    async fn fetch_status(&self, id: &str) -> Result<PaymentStatus, PaymentError> {
        if id.is_empty() || id.len() > 36 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(self.wire.err(PaymentErrorKind::Malformed, "bad order id"));
        }
        let mut order = self.get_order(id).await?;
        if order.status == "APPROVED" {
            match self.capture(id).await? {
                Ok(captured) => order = captured,
                Err(CaptureRefusal::AlreadyCaptured) => order = self.get_order(id).await?,
                Err(CaptureRefusal::Declined) => {
                    let (order_id, amount) = self.unit_facts(&order)?;
                    return Ok(PaymentStatus::new(
                        NAME,
                        order_id,
                        order.id,
                        PaymentState::Rejected,
                        amount,
                        "INSTRUMENT_DECLINED",
                    ));
                }
            }
        }
        self.order_status(&order)
    }

    fn unit_facts(&self, order: &Order) -> Result<(String, Option<Money>), PaymentError> {
        let unit = order.purchase_units.first().ok_or_else(|| {
            self.wire
                .err(PaymentErrorKind::Malformed, "order without purchase units")
        })?;
        let order_id = unit
            .custom_id
            .clone()
            .or_else(|| unit.reference_id.clone())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                self.wire.err(
                    PaymentErrorKind::NotFound,
                    "order has no custom_id/reference_id: not one of ours",
                )
            })?;
        let amount = match &unit.amount {
            Some(a) => Some(self.money(a)?),
            None => None,
        };
        Ok((order_id, amount))
    }

    fn money(&self, a: &Amount) -> Result<Money, PaymentError> {
        let currency = Currency::parse(&a.currency_code).map_err(|_| {
            self.wire
                .err(PaymentErrorKind::Malformed, "bad currency_code")
        })?;
        wire::parse_decimal(&a.value, currency).ok_or_else(|| {
            self.wire
                .err(PaymentErrorKind::Malformed, "bad amount value")
        })
    }

    fn order_status(&self, order: &Order) -> Result<PaymentStatus, PaymentError> {
        let (order_id, unit_amount) = self.unit_facts(order)?;
        let (state, provider_ref, amount, raw) = match order.status.as_str() {
            "COMPLETED" => {
                // A completed order may hold a declined or pending capture: the
                // capture's own status decides.
                let capture = order
                    .purchase_units
                    .iter()
                    .filter_map(|u| u.payments.as_ref())
                    .flat_map(|p| p.captures.iter())
                    .next_back()
                    .ok_or_else(|| {
                        self.wire.err(
                            PaymentErrorKind::Malformed,
                            "completed order without capture",
                        )
                    })?;
                let state = match capture.status.as_str() {
                    "COMPLETED" => PaymentState::Approved,
                    "PENDING" => PaymentState::Pending,
                    "DECLINED" | "FAILED" => PaymentState::Rejected,
                    "REFUNDED" | "PARTIALLY_REFUNDED" => PaymentState::Refunded,
                    other => {
                        return Err(self.wire.err(
                            PaymentErrorKind::Malformed,
                            format!("unknown capture status `{other}`"),
                        ));
                    }
                };
                let amount = match &capture.amount {
                    Some(a) => Some(self.money(a)?),
                    None => unit_amount,
                };
                (state, capture.id.clone(), amount, capture.status.clone())
            }
            "CREATED" | "SAVED" | "APPROVED" | "PAYER_ACTION_REQUIRED" => (
                PaymentState::Pending,
                order.id.clone(),
                unit_amount,
                order.status.clone(),
            ),
            "VOIDED" => (
                PaymentState::Cancelled,
                order.id.clone(),
                unit_amount,
                order.status.clone(),
            ),
            other => {
                return Err(self.wire.err(
                    PaymentErrorKind::Malformed,
                    format!("unknown order status `{other}`"),
                ));
            }
        };
        Ok(PaymentStatus::new(
            NAME,
            order_id,
            provider_ref,
            state,
            amount,
            raw,
        ))
    }

    async fn verify(
        &self,
        request: WebhookRequest<'_>,
    ) -> Result<PaymentNotification, PaymentError> {
        let bad = |m: String| self.wire.err(PaymentErrorKind::InvalidSignature, m);
        let header = |name: &str| -> Result<&str, PaymentError> {
            request
                .headers
                .get(name)
                .ok_or_else(|| bad(format!("missing {name}")))?
                .to_str()
                .map_err(|_| bad(format!("{name} is not text")))
        };
        let transmission_id = header(HEADER_TRANSMISSION_ID)?;
        let transmission_time = header(HEADER_TRANSMISSION_TIME)?;
        let transmission_sig = header(HEADER_TRANSMISSION_SIG)?;
        let cert_url = header(HEADER_CERT_URL)?;
        let auth_algo = header(HEADER_AUTH_ALGO)?;

        let sent_at = chrono::DateTime::parse_from_rfc3339(transmission_time)
            .map_err(|_| bad("transmission time is not RFC 3339".to_owned()))?;
        let now: chrono::DateTime<chrono::Utc> = self.clock.now().into();
        let skew = (now.timestamp() - sent_at.timestamp()).unsigned_abs();
        if skew > self.config.transmission_tolerance.as_secs() {
            return Err(bad("transmission time outside the tolerance".to_owned()));
        }

        let event: Value = serde_json::from_slice(request.body).map_err(|_| {
            self.wire
                .err(PaymentErrorKind::Malformed, "body is not JSON")
        })?;
        let raw_event = std::str::from_utf8(request.body).map_err(|_| {
            self.wire
                .err(PaymentErrorKind::Malformed, "body is not UTF-8")
        })?;
        // The event goes back byte for byte: PayPal checks the signature over the
        // body it sent, and re-serialising could reorder keys or change numbers.
        let q = |s: &str| Value::from(s).to_string();
        let verify_body = format!(
            "{{\"auth_algo\":{},\"cert_url\":{},\"transmission_id\":{},\"transmission_sig\":{},\"transmission_time\":{},\"webhook_id\":{},\"webhook_event\":{}}}",
            q(auth_algo),
            q(cert_url),
            q(transmission_id),
            q(transmission_sig),
            q(transmission_time),
            q(&self.config.webhook_id),
            raw_event.trim(),
        );
        let answer = self
            .authorized("verify webhook", |bearer| {
                self.json_request(
                    Method::POST,
                    "/v1/notifications/verify-webhook-signature",
                    bearer,
                    None,
                    verify_body.clone(),
                )
            })
            .await?;
        let answer = self.wire.check(answer, "verify webhook")?;
        let verdict: VerifyAnswer = self.wire.json(&answer.body, "verify webhook")?;
        if verdict.verification_status != "SUCCESS" {
            return Err(bad(format!("PayPal says {}", verdict.verification_status)));
        }

        let event_type = event
            .get("event_type")
            .and_then(Value::as_str)
            .ok_or_else(|| self.wire.err(PaymentErrorKind::Malformed, "no event_type"))?;
        let resource = event.get("resource");
        let order_id = if event_type.starts_with("CHECKOUT.ORDER.") {
            resource.and_then(|r| r.get("id")).and_then(Value::as_str)
        } else if event_type.starts_with("PAYMENT.CAPTURE.") {
            resource
                .and_then(|r| r.pointer("/supplementary_data/related_ids/order_id"))
                .and_then(Value::as_str)
        } else {
            return Err(self.wire.err(
                PaymentErrorKind::Unsupported,
                format!("event `{event_type}` is not about an order payment"),
            ));
        };
        let order_id = order_id.ok_or_else(|| {
            self.wire
                .err(PaymentErrorKind::Malformed, "event without order id")
        })?;
        Ok(PaymentNotification::new(NAME, order_id, event_type))
    }
}

enum CaptureRefusal {
    AlreadyCaptured,
    Declined,
}

impl PaymentGateway for PayPalGateway {
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
            let body = Self::order_body(request).to_string();
            let answer = self
                .authorized("create order", |bearer| {
                    self.json_request(
                        Method::POST,
                        "/v2/checkout/orders",
                        bearer,
                        Some(&request.idempotency_key),
                        body.clone(),
                    )
                })
                .await?;
            let answer = self.wire.check(answer, "create order")?;
            let order: Order = self.wire.json(&answer.body, "create order")?;
            let href = order
                .links
                .iter()
                .find(|l| l.rel == "approve" || l.rel == "payer-action")
                .map(|l| l.href.clone())
                .ok_or_else(|| {
                    self.wire
                        .err(PaymentErrorKind::Malformed, "order without an approve link")
                })?;
            Ok(PaymentLink::new(NAME, href, order.id))
        })
    }

    fn verify_webhook<'a>(
        &'a self,
        request: WebhookRequest<'a>,
    ) -> PaymentFuture<'a, PaymentNotification> {
        Box::pin(self.verify(request))
    }

    fn status<'a>(
        &'a self,
        notification: &'a PaymentNotification,
    ) -> PaymentFuture<'a, PaymentStatus> {
        Box::pin(self.fetch_status(&notification.reference))
    }
}

fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

#[derive(Debug, Deserialize)]
struct VerifyAnswer {
    verification_status: String,
}

#[derive(Debug, Deserialize)]
struct Order {
    id: String,
    status: String,
    #[serde(default)]
    purchase_units: Vec<PurchaseUnit>,
    #[serde(default)]
    links: Vec<Link>,
}

#[derive(Debug, Deserialize)]
struct PurchaseUnit {
    reference_id: Option<String>,
    custom_id: Option<String>,
    amount: Option<Amount>,
    payments: Option<Payments>,
}

#[derive(Debug, Deserialize)]
struct Payments {
    #[serde(default)]
    captures: Vec<Capture>,
}

#[derive(Debug, Deserialize)]
struct Capture {
    id: String,
    status: String,
    amount: Option<Amount>,
}

#[derive(Debug, Deserialize)]
struct Amount {
    currency_code: String,
    value: String,
}

#[derive(Debug, Deserialize)]
struct Link {
    href: String,
    rel: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_body_carries_reference_and_decimal_amount() {
        let mut r = PaymentRequest::new("ord-1", "shop-1", Money::new(14950, Currency::USD));
        r.description = "x".repeat(200);
        let b = PayPalGateway::order_body(&r);
        assert_eq!(b["intent"], "CAPTURE");
        assert_eq!(b["purchase_units"][0]["reference_id"], "ord-1");
        assert_eq!(b["purchase_units"][0]["custom_id"], "ord-1");
        assert_eq!(b["purchase_units"][0]["amount"]["value"], "149.50");
        assert_eq!(b["purchase_units"][0]["amount"]["currency_code"], "USD");
        assert_eq!(
            b["purchase_units"][0]["description"]
                .as_str()
                .unwrap()
                .len(),
            127
        );
        assert!(b.get("payment_source").is_none());
        r.return_url = Some("https://shop.example/back".to_owned());
        let b = PayPalGateway::order_body(&r);
        assert_eq!(
            b["payment_source"]["paypal"]["experience_context"]["return_url"],
            "https://shop.example/back"
        );
    }
}
