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
//! | Instagram Login | `GET /access_token` (`ig_exchange_token`: 1 h → 60 days), `GET /refresh_access_token` (`ig_refresh_token`, tokens ≥ 24 h old), with or without a version; `SandboxControl::revoke_token` invalidates any token with a 190 subcode |
//! | Business | `GET /{business-id}`, `GET /{business-id}/owned_pages` \| `/client_pages` (Page tokens with `fields=access_token`) |
//! | Pages | `GET /{page-id}`, `GET /{page-id}/feed` \| `/posts` \| `/scheduled_posts`, `POST /{page-id}/feed`, `GET`/`DELETE /{post-id}`, `GET /{ig-user-id}` |
//! | Page media | `POST /{page-id}/photos` (`url` or multipart `source`; unpublished photos for `attached_media`), `POST /{page-id}/videos` (`file_url`, `source`, chunked `upload_phase` start/transfer/finish with 1 MiB offsets and subcode 1363037 on a wrong offset), `GET`/`DELETE /{photo-id}` \| `/{video-id}`; media URLs on the reserved `.invalid` TLD are unreachable |
//! | Ads | `GET /act_{id}`, `GET /act_{id}/campaigns`, `GET /{campaign-id}` |
//! | Instagram | `POST /{ig-user-id}/media` (image, `REELS`, `STORIES`, `CAROUSEL`, items; `upload_type=resumable`), `GET /{container-id}` (`status_code` IN_PROGRESS → FINISHED / ERROR / EXPIRED / PUBLISHED on the sandbox clock), `POST /{ig-user-id}/media_publish` (quota: code 9 / 2207042), `GET /{ig-user-id}/content_publishing_limit`, `GET /{ig-user-id}/media`, `GET /{media-id}` \| `/children`, `POST /ig-api-upload/{ver}/{container-id}` (rupload) |
//! | Comments | `GET`/`POST /{post-id}` \| `/{live-video-id}` \| `/{comment-id}/comments` (`filter`, `order`, `since`, `live_filter`), `GET /{ig-media-id}/comments`, `GET`/`POST /{ig-comment-id}/replies`, `GET`/`POST` (`is_hidden`; IG `hide`)/`DELETE /{comment-id}` |
//! | Live video | `GET /{page-id}/live_videos` (`broadcast_status`), `GET /{live-video-id}`, `POST /{live-video-id}` (`end_live_video`); controls add comments over time and end a broadcast |
//! | Messenger | `POST /{page-id}/messages` (text, quick replies, button and generic templates, sender actions, `recipient.comment_id` private replies) with Meta's window (10 / 2018278), second-private-reply (10900), tag and payload (100) errors |
//! | Insights | `GET /{page-id}` \| `/{post-id}` \| `/{ig-user-id}` \| `/{ig-media-id}/insights` (`metric`, `period`, `since`/`until`, `metric_type`, `breakdown`), deterministic per seed; unknown or retired metrics → code 100 naming the metric |
//! | Batch | `POST /` with `batch=[...]` (≤ 50 items) |
//!
//! The [`WebhookEmitter`] delivers signed webhook batches (`X-Hub-Signature-256` over
//! the exact bytes) to a callback on loopback — for example a simulated live sale of N
//! buyers commenting at a set rate — redelivers on non-2xx with backoff for a
//! configurable period, and can send duplicates on purpose.
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
//!   area: `oauth`, `iglogin`, `business`, `users`, `pages` (feed, photos, videos), `ads`,
//!   `instagram`, `comments`, `live`, `messenger`, `insights`. A new area adds a module and
//!   one line in `routes::AREAS`.
//! - `webhooks`: the [`WebhookEmitter`] (signed deliveries, redelivery, duplicates).
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
pub mod webhooks;

pub use config::{FaultConfig, QuotaConfig, SandboxConfig, ThrottleBurst};
pub use error::SandboxError;
pub use faults::{Fault, FaultRule};
pub use fixtures::{AdAccountFixture, BusinessFixture, Fixtures, IgLoginFixture, PageFixture};
pub use routes::instagram::InstagramConfig;
pub use routes::messenger::SentMessage;
pub use server::{Sandbox, SandboxControl};
pub use state::RecordedRequest;
pub use tokens::{appsecret_proof, appsecret_proof_timed};
pub use webhooks::{EmitError, EmitReport, LiveSale, WebhookEmitter};
