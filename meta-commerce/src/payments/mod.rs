//! The payment port: a [`PaymentGateway`] creates a payment link for an order,
//! verifies the provider's webhook and reports a payment's status. Adapters
//! (`meta-payments`: Mercado Pago, PayPal, Flow, bank transfer) implement it; the
//! [`PaymentRouter`] picks a shop's gateway by country and currency and falls back to
//! the next (at worst bank transfer) when one fails, behind a circuit breaker each.
//!
//! A notification is never trusted for its content: after [`PaymentGateway::verify_webhook`]
//! accepts the signature, the pipeline asks [`PaymentGateway::status`] what the payment
//! really is (Flow requires this; for Mercado Pago and PayPal it also defeats replayed or
//! reordered notifications).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

use http::HeaderMap;
use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money};

mod router;

pub use router::{GatewayChoice, PaymentRouter, RouteError};

/// What to charge: one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PaymentRequest {
    /// Our order id: sent as the provider's external reference and read back from
    /// status answers.
    pub order_id: String,
    /// The shop.
    pub shop_id: String,
    /// The amount.
    pub amount: Money,
    /// A short description (`Pedido 0192 · Tienda en vivo`).
    pub description: String,
    /// The order's lines, for providers that show items.
    pub lines: Vec<PaymentLine>,
    /// When the link should stop working (the order's hold).
    pub expires_at: Option<SystemTime>,
    /// Where the provider sends the buyer back, when configured.
    pub return_url: Option<String>,
    /// Where the provider notifies us, when configured per request.
    pub notification_url: Option<String>,
    /// Stable per order version: creating the link again with the same key must not
    /// create a second charge (sent as the provider's idempotency header when it has one).
    pub idempotency_key: String,
}

impl PaymentRequest {
    /// A request for `amount` on `order_id`.
    #[must_use]
    pub fn new(order_id: impl Into<String>, shop_id: impl Into<String>, amount: Money) -> Self {
        let order_id = order_id.into();
        PaymentRequest {
            idempotency_key: order_id.clone(),
            order_id,
            shop_id: shop_id.into(),
            amount,
            description: String::new(),
            lines: Vec::new(),
            expires_at: None,
            return_url: None,
            notification_url: None,
        }
    }
}

/// One order line as the provider shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentLine {
    /// SKU.
    pub sku: String,
    /// Product name.
    pub title: String,
    /// Units.
    pub qty: u32,
    /// Price of one unit.
    pub unit_price: Money,
}

/// A link the buyer pays through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PaymentLink {
    /// The gateway that issued it (`mercadopago`, `paypal`, `flow`, `transfer`).
    pub gateway: String,
    /// The URL to send the buyer (for a transfer: a page with the instructions, or empty).
    pub url: String,
    /// The provider's id for it (preference id, PayPal order id, Flow token, transfer code).
    pub provider_ref: String,
    /// Human instructions (bank transfer), when the gateway has them.
    pub instructions: Option<String>,
    /// When it stops working, if the provider says.
    pub expires_at: Option<SystemTime>,
}

impl PaymentLink {
    /// A link.
    #[must_use]
    pub fn new(
        gateway: impl Into<String>,
        url: impl Into<String>,
        provider_ref: impl Into<String>,
    ) -> Self {
        PaymentLink {
            gateway: gateway.into(),
            url: url.into(),
            provider_ref: provider_ref.into(),
            instructions: None,
            expires_at: None,
        }
    }

    /// Sets instructions.
    #[must_use]
    pub fn with_instructions(mut self, text: impl Into<String>) -> Self {
        self.instructions = Some(text.into());
        self
    }
}

/// A provider webhook as received (raw, before any parsing).
#[derive(Debug, Clone, Copy)]
pub struct WebhookRequest<'a> {
    /// Request headers (`x-signature`, `paypal-transmission-sig`…).
    pub headers: &'a HeaderMap,
    /// The raw query string (Mercado Pago puts `data.id` and `type` there).
    pub query: &'a str,
    /// The raw body.
    pub body: &'a [u8],
}

/// What a verified provider webhook points at; [`PaymentGateway::status`] resolves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PaymentNotification {
    /// The gateway.
    pub gateway: String,
    /// The provider's id to look up (payment id, PayPal order id, Flow token).
    pub reference: String,
    /// The provider's event type (`payment`, `CHECKOUT.ORDER.APPROVED`…), for the audit.
    pub event: String,
}

impl PaymentNotification {
    /// A notification.
    #[must_use]
    pub fn new(
        gateway: impl Into<String>,
        reference: impl Into<String>,
        event: impl Into<String>,
    ) -> Self {
        PaymentNotification {
            gateway: gateway.into(),
            reference: reference.into(),
            event: event.into(),
        }
    }
}

/// Where a payment stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PaymentState {
    /// Not paid yet (created, in process, awaiting a transfer).
    Pending,
    /// Paid: the money is ours.
    Approved,
    /// Refused by the provider.
    Rejected,
    /// Cancelled or expired at the provider.
    Cancelled,
    /// Refunded or charged back.
    Refunded,
}

/// A payment's status as the provider reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PaymentStatus {
    /// The gateway.
    pub gateway: String,
    /// Our order id (the provider's external reference).
    pub order_id: String,
    /// The provider's payment id.
    pub provider_ref: String,
    /// The state.
    pub state: PaymentState,
    /// The amount paid, when the provider says.
    pub amount: Option<Money>,
    /// The provider's own status word (`approved`, `COMPLETED`, `2`), for the audit.
    pub raw_status: String,
}

impl PaymentStatus {
    /// A status.
    #[must_use]
    pub fn new(
        gateway: impl Into<String>,
        order_id: impl Into<String>,
        provider_ref: impl Into<String>,
        state: PaymentState,
        amount: Option<Money>,
        raw_status: impl Into<String>,
    ) -> Self {
        PaymentStatus {
            gateway: gateway.into(),
            order_id: order_id.into(),
            provider_ref: provider_ref.into(),
            state,
            amount,
            raw_status: raw_status.into(),
        }
    }
}

/// How a payment call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PaymentErrorKind {
    /// Network trouble, 5xx, 429: worth trying again or falling back.
    Transient,
    /// The provider refused the request (4xx): retrying the same will not help.
    Rejected,
    /// Credentials missing or refused.
    Auth,
    /// A webhook whose signature did not verify, or was too old.
    InvalidSignature,
    /// A webhook or answer we could not read.
    Malformed,
    /// The provider does not know the payment or order.
    NotFound,
    /// The gateway cannot do this (currency, operation).
    Unsupported,
}

/// A payment failure, classified.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{gateway}: {kind:?}: {message}")]
pub struct PaymentError {
    /// The gateway.
    pub gateway: String,
    /// The class.
    pub kind: PaymentErrorKind,
    /// What happened (never a secret).
    pub message: String,
}

impl PaymentError {
    /// An error.
    #[must_use]
    pub fn new(
        gateway: impl Into<String>,
        kind: PaymentErrorKind,
        message: impl Into<String>,
    ) -> Self {
        PaymentError {
            gateway: gateway.into(),
            kind,
            message: message.into(),
        }
    }

    /// True when falling back to another gateway (or retrying later) may help.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        matches!(self.kind, PaymentErrorKind::Transient)
    }
}

/// The boxed future a gateway returns.
pub type PaymentFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, PaymentError>> + Send + 'a>>;

/// The payment port.
pub trait PaymentGateway: Send + Sync + fmt::Debug {
    /// `mercadopago`, `paypal`, `flow`, `transfer`, …
    fn name(&self) -> &str;

    /// Whether it can charge in `currency`.
    fn supports(&self, currency: Currency) -> bool;

    /// Creates (or, for the same idempotency key, returns again) a link for `request`.
    fn create_link<'a>(&'a self, request: &'a PaymentRequest) -> PaymentFuture<'a, PaymentLink>;

    /// Checks a provider webhook's authenticity and reads what it points at. Local
    /// signature checks for most providers; PayPal's verification is an API call.
    ///
    /// Errors: [`PaymentErrorKind::InvalidSignature`] for a forged or stale
    /// notification, [`PaymentErrorKind::Malformed`] for one we cannot read.
    fn verify_webhook<'a>(
        &'a self,
        request: WebhookRequest<'a>,
    ) -> PaymentFuture<'a, PaymentNotification>;

    /// Asks the provider what a notified payment really is.
    fn status<'a>(
        &'a self,
        notification: &'a PaymentNotification,
    ) -> PaymentFuture<'a, PaymentStatus>;
}
