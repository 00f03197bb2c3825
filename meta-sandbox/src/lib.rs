//! A faithful, in-process fake of Meta's Graph API, in the spirit of `stripe-mock`.
//!
//! `meta-sandbox` serves the Graph wire contract on `127.0.0.1`: versioned paths
//! (`/v24.0` … `/v26.0`), Meta's error envelope and codes, access tokens of every kind
//! (short- and long-lived user tokens, Page tokens, app tokens), `appsecret_proof` in both
//! forms, Facebook Login code exchange and `debug_token`, Pages and their feeds with cursor
//! pagination, ad accounts and campaigns, batch requests, and the usage headers
//! (`X-App-Usage`, `X-Business-Use-Case-Usage`, `X-Ad-Account-Usage`) computed from real
//! call counts with real throttling. On top it injects faults — transient Graph errors,
//! bare 5xx pages, dropped connections (before or after a write is applied), delays,
//! throttles, `null` batch slots — either as one-off rules or at random from a seeded RNG.
//!
//! Everything derives from one seed: two sandboxes with the same seed hand out the same
//! ids, tokens and post texts, and draw the same fault sequence.
//!
//! It exists for the SDK's tests, the demo and the benchmarks; it never talks to Meta.
//!
//! # Getting started
//!
//! ```no_run
//! use meta_sandbox::{Fault, FaultRule, Sandbox, SandboxConfig};
//!
//! # async fn run() -> Result<(), meta_sandbox::SandboxError> {
//! let sandbox = Sandbox::start_with(SandboxConfig::default().seed(7)).await?;
//! let page = &sandbox.fixtures().pages[0];
//! println!(
//!     "GET {}/v26.0/{}/feed?access_token={}",
//!     sandbox.base_url(),
//!     page.id,
//!     page.access_token
//! );
//!
//! // The next POST to a feed creates the post, then the connection drops.
//! sandbox
//!     .control()
//!     .inject(FaultRule::new(Fault::DropAfterApply).method("POST").path_contains("/feed"));
//!
//! // ... drive the SDK against sandbox.base_url() ...
//! assert!(sandbox.control().count("POST", "/feed") <= 1);
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # What is modelled
//!
//! | Area | Endpoints |
//! |---|---|
//! | Login | `GET /oauth/access_token` (code, `fb_exchange_token`, `client_credentials`), `GET /debug_token` |
//! | Users | `GET /me`, `GET /{user-id}`, `GET /me/accounts` (Page tokens) |
//! | Pages | `GET /{page-id}`, `GET /{page-id}/feed` \| `/posts` \| `/scheduled_posts`, `POST /{page-id}/feed`, `GET`/`DELETE /{post-id}`, `GET /{ig-user-id}` |
//! | Ads | `GET /act_{id}`, `GET /act_{id}/campaigns`, `GET /{campaign-id}` |
//! | Batch | `POST /` with `batch=[...]` (≤ 50 items) |
//!
//! Parameters may come in the query, a form body or a JSON body; tokens in
//! `access_token` or `Authorization: Bearer|OAuth`.
//!
//! # Layout
//!
//! - `config`: [`SandboxConfig`], [`FaultConfig`], [`QuotaConfig`].
//! - `fixtures`: the seeded app, user, Pages, ad accounts and content ([`Fixtures`]).
//! - `state`: the one `State` (objects keyed by id, edges, tokens, meters, log) behind a mutex.
//! - `request`: the transport-neutral request/response every route works on.
//! - `routes/`: `dispatch` (version → token → proof → quotas → handler) and one module per
//!   area: `oauth`, `users`, `pages`, `ads`. New areas (Instagram, Messenger, CAPI) add a module
//!   and a line in `route_object`.
//! - `batch`: batch requests, dispatched item by item through the same routes.
//! - `usage`: meters, throttles and usage headers. `faults`: [`FaultRule`]s and random faults.
//! - `pagination`: Graph cursors and `next`/`previous` links. `tokens`: kinds, expiry,
//!   `appsecret_proof`. `time`: date formatting without a date crate.
//! - `server`: the axum app, a killable listener (for dropped connections), [`Sandbox`] and
//!   [`SandboxControl`].

mod batch;
mod config;
mod error;
mod faults;
mod fixtures;
mod pagination;
mod request;
mod routes;
mod server;
mod state;
mod time;
mod tokens;
mod usage;

pub use config::{FaultConfig, QuotaConfig, SandboxConfig, ThrottleBurst};
pub use error::SandboxError;
pub use faults::{Fault, FaultRule};
pub use fixtures::{AdAccountFixture, Fixtures, PageFixture};
pub use server::{Sandbox, SandboxControl};
pub use state::RecordedRequest;
pub use tokens::{appsecret_proof, appsecret_proof_timed};
