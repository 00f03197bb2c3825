//! # meta-core
//!
//! The Graph API transport every Meta call shares: one [`Client`] per credential with
//! typed, classified errors, Meta's usage headers on every response, an adaptive
//! [`RateGovernor`], retries with a pure decision function, lazy pagination streams,
//! batch, `appsecret_proof`, webhook signature verification and token encryption.
//!
//! Nothing here is global: two clients with different tokens run concurrently, and
//! any number of clients may share one governor so a whole app respects one budget.
//!
//! # Getting started
//!
//! ```no_run
//! # async fn run() -> meta_core::Result<()> {
//! use futures_util::TryStreamExt;
//! use meta_core::{Client, GraphRequest, RetryConfig};
//!
//! let client = Client::builder()
//!     .access_token(std::env::var("META_ACCESS_TOKEN").unwrap_or_default())
//!     .app_secret(std::env::var("META_APP_SECRET").unwrap_or_default()) // adds appsecret_proof
//!     .retry(RetryConfig::standard())
//!     .build()?;
//!
//! // The raw door: any endpoint, decoded into any serde type.
//! let me: serde_json::Value = client.get("me", [("fields", "id,name")]).await?;
//!
//! // Every item of a paginated edge, one page fetched at a time.
//! let mut pages = client.paginate::<serde_json::Value>("me/accounts", ());
//! while let Some(page) = pages.try_next().await? {
//!     println!("{}", page["name"]);
//! }
//!
//! // Usage headers and the served version travel with every response.
//! let resp = client.execute::<serde_json::Value>(GraphRequest::get("me")).await?;
//! println!("{:?} {:?}", resp.usage().app, resp.api_version());
//!
//! // Errors are classified by code and subcode.
//! if let Err(e) = client.get::<serde_json::Value>("nope", ()).await {
//!     println!("{} retryable={} auth={}", e.kind(), e.is_retryable(), e.is_auth());
//! }
//! # let _ = me; Ok(()) }
//! ```
//!
//! # Features
//!
//! | feature | default | what |
//! |---|---|---|
//! | `reqwest` | yes | [`transport::ReqwestTransport`]: reqwest + rustls on ring, no global crypto provider |
//! | `test-util` | no | [`transport::MockTransport`] for scripted unit tests |
//!
//! # Layout
//!
//! | module | what |
//! |---|---|
//! | [`client`] | [`Client`], [`ClientBuilder`]: the one request loop (governor → build → send → usage → decode → retry) |
//! | [`request`] | [`GraphRequest`], [`Params`] and Meta's encoding rules, uploads, per-request overrides |
//! | [`response`] | [`Response`], [`RawResponse`]: body, usage, served version, fbtrace id |
//! | [`transport`] | the [`transport::Transport`] trait and its implementations |
//! | [`error`] | [`Error`], [`ApiError`], [`ErrorKind`] and [`error::classify`] |
//! | [`usage`] | [`Usage`]: `X-App-Usage`, `X-Page-Usage`, `X-Ad-Account-Usage`, `X-Business-Use-Case-Usage`, `x-fb-ads-insights-throttle` |
//! | [`rate`] | [`RateGovernor`]: per-scope state, slow-down, blocks, pacing, concurrency cap |
//! | [`retry`] | [`RetryConfig`], the pure [`retry::classify`], backoff, retry budget |
//! | [`paginate`] | [`Page`], [`Paginator`] (a `Stream` of items or pages) |
//! | [`batch`] | [`batch::BatchRequest`] and [`Client::batch`] |
//! | [`ids`] | typed ids (`PageId`, `AdAccountId`, …) |
//! | [`auth`] | `appsecret_proof`, classic and time-stamped |
//! | [`webhook`] | [`webhook::Verifier`] for `X-Hub-Signature-256` and the subscription handshake |
//! | [`cipher`] | [`cipher::TokenCipher`]: AES-256-GCM for tokens at rest, with key rotation |
//! | [`clock`] | injected [`clock::Clock`] and [`clock::Jitter`] so time-based logic is tested without sleeping |
//! | [`version`] | [`ApiVersion`] and [`DEFAULT_API_VERSION`] |

pub mod auth;
pub mod batch;
pub mod cipher;
pub mod client;
pub mod clock;
pub mod error;
pub mod ids;
pub mod paginate;
pub mod rate;
pub mod request;
pub mod response;
pub mod retry;
pub mod transport;
pub mod usage;
pub mod version;
pub mod webhook;

pub use auth::ProofMode;
pub use cipher::{CipherError, TokenCipher};
pub use client::{Client, ClientBuilder, DEFAULT_BASE_URL};
pub use error::{ApiError, Error, ErrorKind, Result};
pub use ids::{
    AdAccountId, AdCreativeId, AdId, AdSetId, AppId, BusinessId, CampaignId, CommentId,
    ConversationId, IdError, IgContainerId, IgMediaId, IgUserId, LiveVideoId, MessageId, PageId,
    PhotoId, PixelId, PostId, UserId, VideoId,
};
pub use paginate::{Page, Paginator};
pub use rate::{GovernorStats, RateGovernor, RateKey, RateLimitConfig, RatePermit, ScopeSnapshot};
pub use request::{FilePart, GraphRequest, Params, RequestOptions};
pub use response::{RawResponse, Response};
pub use retry::{RetryAction, RetryBudget, RetryConfig, RetryContext, RetryKind, StopReason};
pub use usage::Usage;
pub use version::{ApiVersion, DEFAULT_API_VERSION};
pub use webhook::{Subscription, Verifier, WebhookError};
