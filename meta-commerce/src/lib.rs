//! # meta-commerce
//!
//! The live-sale pipeline: a buyer comments "quiero 2 de la polera roja M" on a Facebook
//! Live; the engine understands it (es/en/pt), reserves stock atomically (first come,
//! first served by the comment's time), opens one order per buyer per live, queues a
//! short public reply (no prices, no links) and one private reply with the summary and a
//! payment link, then settles: paid (stock committed), expired (stock released, the
//! waitlist promoted), cancelled, or — when a payment arrives after the units went to
//! someone else — flagged for a refund. Every decision is written to an append-only
//! audit log with the classifier, its confidence and the items.
//!
//! The crate owns the types and the ports; adapters implement them: stores
//! (`meta-store-sqlite`, `meta-store-postgres`, and [`memory`] here), payment gateways
//! (`meta-payments`), an LLM classifier (`meta-llm`), HTTP (`meta-server`). It never
//! names a database, a web framework or a payment provider.
//!
//! ## Getting started
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use meta_commerce::engine::Engine;
//! use meta_commerce::memory::InMemoryCommerceStore;
//! use meta_commerce::store::Shop;
//! use meta_commerce::Currency;
//! use meta_core::clock::SystemClock;
//! use meta_core::webhook::Verifier;
//!
//! let store = Arc::new(InMemoryCommerceStore::new());
//! let engine = Engine::builder(store, Arc::new(SystemClock::default()))
//!     .verifier(Verifier::new("app-secret".to_owned().into()))
//!     .build();
//! engine.put_shop(&Shop::new("shop-1", "Tienda", "PAGE_ID", "CL", Currency::CLP)).await?;
//! engine.import_catalog_csv("shop-1", &std::fs::read("catalog.csv")?).await?;
//! engine.open_live("shop-1", "PAGE_ID_VIDEO_POST_ID", "Sábado de poleras").await?;
//!
//! // In your webhook handler: verify + record durably, then answer 200.
//! # let (raw_body, signature): (Vec<u8>, String) = (vec![], String::new());
//! engine.ingest_webhook(&raw_body, Some(&signature)).await?;
//! // In a worker: classify, reserve, open orders, enqueue replies; expire holds.
//! engine.tick().await?;
//! # Ok(()) }
//! ```
//! A [`dispatch::Dispatcher`] drains the outbox through Meta (public replies, private
//! replies, messages inside the 24-hour window), honouring kill switches and opt-outs;
//! `meta serve` (crate `meta-server`) runs ingest, worker and dispatcher behind HTTP.
//!
//! ## Layout
//!
//! | module | what |
//! |---|---|
//! | [`catalog`] | products (SKU, aliases, lot, price, stock) and the all-or-nothing CSV import |
//! | [`classify`] | the [`IntentClassifier`](classify::IntentClassifier) port, the built-in es/en/pt rules classifier, a fallback wrapper with a circuit breaker, evaluation |
//! | [`engine`] | ingest → inbox → process (reserve, order, waitlist, audit, outbox) → settle (payments, expiry, cancels, restock, reminders, opt-out, deletion) |
//! | [`dispatch`] | the outbox dispatcher and the [`MessageSender`](dispatch::MessageSender) port (Graph implementation included) |
//! | [`payments`] | the [`PaymentGateway`](payments::PaymentGateway) port and the per-shop router with fallback |
//! | [`store`] | the [`CommerceStore`](store::CommerceStore) port and its records; [`memory`] implements it in memory |
//! | [`controls`] | opt-out words and data-deletion requests |
//! | [`money`], [`text`], [`breaker`] | minor-unit money, text folding, a clock-driven circuit breaker |
//! | [`simulate`] | a labelled live-sale comment generator for demos and benchmarks |
//! | `testing` | (feature `test-util`) the store conformance suite and engine scenarios every backend runs |

pub mod breaker;
pub mod catalog;
pub mod classify;
pub mod controls;
pub mod dispatch;
pub mod engine;
pub mod memory;
pub mod money;
pub mod payments;
pub mod simulate;
pub mod store;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;
pub mod text;

pub use catalog::{Catalog, Product};
pub use money::{Currency, Money};
