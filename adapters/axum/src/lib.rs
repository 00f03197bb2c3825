//! # meta-server
//!
//! The HTTP face of the live-sale pipeline ([`meta_commerce::engine::Engine`]): Meta's
//! webhooks in, payment providers' notifications in, a small JSON API to read what is
//! stored and to pull the kill switches, and the engine worker (plus, optionally, the
//! outbox dispatcher) running beside the routes.
//!
//! The server holds no business logic: each route is a few lines over the engine or
//! the store port. It is stateless, so several instances can share one PostgreSQL
//! store behind a load balancer: the inbox is keyed by comment id and stock is
//! reserved in store transactions, so a comment delivered to two instances still
//! reserves once.
//!
//! ## Routes
//!
//! | Route | Answer |
//! | --- | --- |
//! | `GET /webhooks/meta` | the subscription handshake: `hub.challenge` as `text/plain`, `403` otherwise |
//! | `POST /webhooks/meta` | raw body + `X-Hub-Signature-256` → durable inbox; `200` once stored, `401` bad signature (nothing stored), `400` not a webhook, `413` too large, `503` store down (Meta redelivers) |
//! | `POST /webhooks/payments/{gateway}` | a provider notification; `200` settled or ignored, `401` bad signature, `404` unknown gateway or order, `502` provider status check failed (the provider retries) |
//! | `GET /api/shops/{shop}/products` | products with their stock |
//! | `GET /api/shops/{shop}/lives` | lives, newest first |
//! | `GET /api/shops/{shop}/counts` | inbox, order and outbox counts by status |
//! | `GET /api/lives/{live}/orders?status=&limit=` | orders of a live, oldest first |
//! | `GET /api/orders/{id}` | one order |
//! | `POST /api/shops/{shop}/kill-switch`, `POST /api/lives/{live}/kill-switch` | `{"on": bool}`: stop (or resume) outbound messages |
//! | `POST /api/orders/{id}/confirm-transfer` | the seller saw a bank transfer arrive |
//! | `GET /health` | `200` when the store answers, `503` otherwise |
//!
//! Errors are `{"error": {"code": "...", "message": "..."}}` with the engine error's
//! status ([`EngineError::status_hint`](meta_commerce::engine::EngineError::status_hint)).
//! With [`AppState::api_token`] set, `/api/*` needs `Authorization: Bearer <token>`
//! (the webhooks authenticate by signature, `/health` is open).
//!
//! Logging: requests are traced (method, path, status, latency) through tower-http's
//! `TraceLayer`; query strings (the handshake's verify token), headers (signatures,
//! API tokens) and bodies are never logged.
//!
//! # Getting started
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use meta_commerce::engine::Engine;
//! use meta_commerce::store::CommerceStore;
//! use meta_core::clock::SystemClock;
//! use meta_core::webhook::Verifier;
//! use meta_server::{AppState, Server};
//! use secrecy::SecretString;
//!
//! # async fn run(store: Arc<dyn CommerceStore>) -> Result<(), Box<dyn std::error::Error>> {
//! // `store`: the SQLite or PostgreSQL adapter, or the in-memory one in tests.
//! let engine = Engine::builder(store, Arc::new(SystemClock::default()))
//!     .verifier(Verifier::new(SecretString::from("app-secret")))
//!     .build();
//! let state = AppState::new(engine, SecretString::from("verify-token"));
//!
//! let server = Server::bind(([127, 0, 0, 1], 8080).into()).await?;
//! println!("listening on {}", server.local_addr()?);
//! // Serves and runs the engine worker until Ctrl-C, then drains and stops both.
//! server
//!     .run(state, async {
//!         let _ = tokio::signal::ctrl_c().await;
//!     })
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! In tests, [`router`] gives the bare `axum::Router` to drive with
//! `tower::ServiceExt::oneshot`. From the command line: `meta serve --listen
//! 127.0.0.1:8080 --store sqlite:shop.db`.
//!
//! # Layout
//!
//! - `state.rs`: [`AppState`] (engine, verify token, optional API token, body limit).
//! - `server.rs`: [`router`], [`Server`] / [`serve`] (graceful shutdown, background
//!   tasks), [`ServeError`].
//! - `webhooks.rs`: the Meta handshake and deliveries, the payment notifications.
//! - `api.rs`: the read and control routes, `/health`, the API token check.
//! - `error.rs`: [`ApiError`], the JSON error answer.

mod api;
mod error;
mod server;
mod state;
mod webhooks;

pub use error::ApiError;
pub use server::{BackgroundTask, ServeError, Server, router, serve};
pub use state::{AppState, DEFAULT_BODY_LIMIT};
