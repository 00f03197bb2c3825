//! # meta-payments
//!
//! Payment gateways behind meta-commerce's payment port
//! ([`meta_commerce::payments::PaymentGateway`]): Mercado Pago (Checkout Pro),
//! PayPal (Orders v2), Flow (flow.cl) and bank transfer. Each is configured with a
//! base URL (so tests point at local fakes), its credentials as `SecretString`s and
//! an injected [`Clock`](meta_core::clock::Clock) (token expiry, webhook freshness).
//! HTTP goes through meta-core's [`Transport`](meta_core::transport::Transport) —
//! reqwest on rustls with ring by default.
//!
//! Failures are classified the same way for every provider: connection errors,
//! timeouts, 5xx and 429 are `Transient` (the router falls back), 401/403 `Auth`,
//! 404 `NotFound`, other 4xx `Rejected`, unreadable bodies `Malformed`. Secrets never
//! appear in errors, logs or `Debug` output.
//!
//! # Getting started
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use meta_commerce::payments::{PaymentGateway, PaymentRequest};
//! use meta_commerce::{Currency, Money};
//! use meta_core::clock::SystemClock;
//! use meta_payments::mercadopago::{MercadoPagoConfig, MercadoPagoGateway};
//!
//! let config = MercadoPagoConfig::new(
//!     std::env::var("MP_ACCESS_TOKEN")?.into(),
//!     std::env::var("MP_WEBHOOK_SECRET")?.into(),
//! )
//! .with_notification_url("https://shop.example/webhooks/mercadopago");
//! let mp = MercadoPagoGateway::new(config, Arc::new(SystemClock::default()))?;
//!
//! let request = PaymentRequest::new("ord-0192", "shop-1", Money::from_units(149, Currency::MXN).unwrap());
//! let link = mp.create_link(&request).await?;
//! println!("pay at {}", link.url);
//! # Ok(()) }
//! ```
//!
//! Tests and the demo use the fakes (feature `fake`): real HTTP servers on
//! `127.0.0.1` that speak each provider's API and can "pay" what was created:
//!
//! ```no_run
//! # #[cfg(feature = "fake")]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use meta_payments::fake::FakeMercadoPago;
//! let fake = FakeMercadoPago::start("webhook-secret").await?;
//! // … point a MercadoPagoConfig at fake.base_url() with fake.access_token(),
//! // create a link, then:
//! let delivery = fake.pay("ord-0192").await?; // approves and POSTs the signed webhook
//! println!("notified {} → {:?}", delivery.url, delivery.status);
//! # Ok(()) }
//! ```
//!
//! # Features
//!
//! | feature | default | what |
//! |---|---|---|
//! | `fake` | no | `meta_payments::fake`: local fakes of Mercado Pago, PayPal and Flow (axum) |
//!
//! # Layout
//!
//! | module | what |
//! |---|---|
//! | [`mercadopago`] | [`MercadoPagoGateway`]: preferences, `x-signature` verification, payments |
//! | [`paypal`] | [`PayPalGateway`]: OAuth token cache, orders, capture-once, webhook verification by API |
//! | [`flow`] | [`FlowGateway`]: signed calls ([`flow::sign`]), `payment/create`, `payment/getStatus` |
//! | [`transfer`] | [`TransferGateway`]: instructions and seller confirmation |
//! | `fake` | `FakeMercadoPago`, `FakePayPal`, `FakeFlow` (feature `fake`) |

pub mod flow;
pub mod mercadopago;
pub mod paypal;
pub mod transfer;

mod signing;
mod wire;

#[cfg(feature = "fake")]
pub mod fake;

pub use flow::{FlowConfig, FlowGateway};
pub use mercadopago::{MercadoPagoConfig, MercadoPagoGateway};
pub use paypal::{PayPalConfig, PayPalGateway};
pub use transfer::{BankAccount, TransferConfig, TransferGateway};
