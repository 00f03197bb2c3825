//! Local fakes of the providers' APIs (feature `fake`): real axum servers on
//! `127.0.0.1:0` that implement the endpoints the gateways call — with the
//! providers' authentication, Flow's request signatures, idempotency keys and error
//! envelopes — keep what was created, and offer a control API to "pay" it, which
//! POSTs a correctly signed notification to the URL the provider would notify.
//!
//! | fake | API | control |
//! |---|---|---|
//! | [`FakeMercadoPago`] | `POST /checkout/preferences`, `GET /checkout/preferences/{id}`, `GET /v1/payments/{id}` | [`FakeMercadoPago::pay`], [`FakeMercadoPago::pay_with_status`], [`FakeMercadoPago::set_payment_status`] |
//! | [`FakePayPal`] | `POST /v1/oauth2/token`, `POST /v2/checkout/orders`, `GET /v2/checkout/orders/{id}`, `POST …/{id}/capture`, `POST /v1/notifications/verify-webhook-signature` | [`FakePayPal::pay`], [`FakePayPal::decline_capture`], [`FakePayPal::lose_next_capture_response`], [`FakePayPal::stale_reads`], [`FakePayPal::revoke_tokens`] |
//! | [`FakeFlow`] | `POST /api/payment/create`, `GET /api/payment/getStatus` | [`FakeFlow::pay`], [`FakeFlow::reject`], [`FakeFlow::set_status`] |
//!
//! Every fake also has `fail_next(n)` (the next `n` API calls answer 500 in the
//! provider's error shape), `fail_next_with(n, status)`, `deliveries()` (every
//! notification sent, replayable into `verify_webhook` with
//! [`Delivery::as_webhook`]) and a browser checkout page at the link it hands out, so
//! a demo buyer can click "Pagar".
//!
//! Where a provider's exact behaviour is not documented (Flow's error codes, PayPal's
//! signing certificate), the fake picks something plausible and says so; the fakes
//! are for exercising our side, not a specification of theirs.

mod flow;
mod mercadopago;
mod paypal;
mod server;

use bytes::Bytes;
use http::HeaderMap;
use meta_commerce::payments::WebhookRequest;

pub use flow::{FakeFlow, FakeFlowConfig, FakeFlowPayment};
pub use mercadopago::{FakeMercadoPago, FakeMercadoPagoConfig, FakeMpPayment, FakePreference};
pub use paypal::{FakeCapture, FakePayPal, FakePayPalConfig, FakePayPalOrder};

/// What a fake control call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FakeError {
    /// The listener could not be bound.
    #[error("could not bind the fake server: {0}")]
    Bind(#[source] std::io::Error),
    /// No preference, order or payment matches the reference.
    #[error("nothing created matches `{0}`")]
    UnknownReference(String),
    /// The object is not in a state that allows the operation.
    #[error("invalid state: {0}")]
    InvalidState(String),
}

/// A notification a fake sent (or tried to send).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Delivery {
    /// The full URL posted to (with the query), or empty when none was configured.
    pub url: String,
    /// The query string alone (what [`WebhookRequest::query`] carries).
    pub query: String,
    /// The request headers (signature headers included).
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Bytes,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why it was not delivered, when it was not.
    pub error: Option<String>,
}

impl Delivery {
    /// True when the receiver answered 2xx.
    #[must_use]
    pub fn delivered(&self) -> bool {
        matches!(self.status, Some(200..=299))
    }

    /// The notification as a gateway receives it, to feed `verify_webhook` directly.
    #[must_use]
    pub fn as_webhook(&self) -> WebhookRequest<'_> {
        WebhookRequest {
            headers: &self.headers,
            query: &self.query,
            body: &self.body,
        }
    }
}
