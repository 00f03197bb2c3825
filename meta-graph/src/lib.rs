//! # meta-graph
//!
//! Facebook Pages, Instagram, Messenger, comments, live video, insights, OAuth and the
//! token lifecycle, and typed webhook events, on top of [`meta_core`]. Every call goes
//! through a [`meta_core::Client`] — so errors are classified, usage headers feed the
//! rate governor, GETs are retried and paginated edges are lazy streams — and bad
//! input (a caption over 2,200 characters, a schedule outside 10 minutes – 30 days, a
//! carousel of 11, a send outside the 24-hour window) is refused **before any call**
//! with [`Error::Invalid`] or [`Error::Policy`].
//!
//! Publishing calls that Meta does not make idempotent (`media_publish`, feed posts,
//! sends) are never retried automatically; an unclear outcome is reported as such
//! (for Instagram, the container's status is read back: `PUBLISHED` counts as
//! published).
//!
//! # Getting started
//!
//! ```no_run
//! # async fn run() -> meta_graph::Result<()> {
//! use futures_util::TryStreamExt;
//! use meta_core::Client;
//! use meta_core::ids::{IgUserId, PageId};
//! use meta_graph::GraphExt;
//!
//! let page_client = Client::new(std::env::var("META_PAGE_TOKEN").unwrap_or_default())?;
//! let page = PageId::new("1234567890");
//!
//! // A feed post, and a scheduled one (checked against the 10 min – 30 days window).
//! let post_id = page_client.pages().post(&page).message("¡Hola!").send().await?;
//! let in_two_hours = std::time::SystemTime::now() + std::time::Duration::from_secs(7200);
//! page_client.pages().post(&page).message("Más tarde").scheduled_at(in_two_hours).send().await?;
//!
//! // Every comment on the post, one page at a time.
//! let mut comments = page_client.comments().list(post_id.as_str()).paginate()?;
//! while let Some(c) = comments.try_next().await? {
//!     println!("{:?}: {:?}", c.id, c.message);
//! }
//!
//! // Instagram: create the container, wait for FINISHED, publish once.
//! let ig = IgUserId::new("17841400000000000");
//! let outcome = page_client
//!     .instagram()
//!     .image(&ig, "https://example.com/polera-roja.jpg")
//!     .caption("Polera roja, tallas S–L")
//!     .publish()
//!     .await?;
//! println!("published: {}", outcome.is_published());
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! | module | what |
//! |---|---|
//! | [`oauth`] | login dialog URL with CSRF `state`, code and long-lived exchanges, Page tokens (`/me/accounts`, business owned/client pages), `debug_token`, Instagram Login exchange/refresh |
//! | [`lifecycle`] | per-connection token status (active, expiring, expired, revoked, needs_reauth), proactive refresh, invalidation from errors, events; the `TokenStore` port (tokens sealed with `TokenCipher`) |
//! | [`pages`] | feed posts, photos (URL or bytes), multi-photo posts, videos (`file_url` and chunked upload), scheduled posts, deletes |
//! | [`instagram`] | image, reel, story and carousel containers, resumable reel upload, status polling with backoff and a deadline, `media_publish` (never retried), `content_publishing_limit` |
//! | [`comments`] | list (as a `Paginator`), reply, hide/unhide, delete, on Page posts, live videos and Instagram media |
//! | [`live`] | live videos and a polling, de-duplicating live-comment stream |
//! | [`messenger`] | Send API (text, quick replies, templates, tags, sender actions, private replies) and the messaging-policy guard ([`messenger::policy`]) |
//! | [`insights`] | Page, post, IG account and IG media insights; metric names as data per version; one rejected metric never blanks the rest |
//! | [`webhooks`] | typed [`webhooks::WebhookEvent`]s from `changes[]` and `messaging[]`, with an `Unknown` fallback |
//! | [`publisher`], [`store`] | the duplicate-safe publisher: content per account, one transition table, approval with an append-only audit trail, governance (caps, gaps, quiet hours, IG quota, rate governor, kill switches), the durable scheduler that arms before the one irreversible call and reconciles on restart, the attempt log, best times to post; the store ports (`AccountStore`, `PublisherStore`) with in-memory implementations, and `testing` (feature `test-util`): the conformance suite every store adapter runs |
//! | [`generated`] | node types, field lists and enums generated from Meta's specs by `tools/codegen` |
//! | [`fields`], [`serde_util`] | glue for `fields=` and lenient decoding |
//! | [`error`] | [`Error`]: meta-core's error, or a refusal before any call |

pub mod comments;
pub mod error;
pub mod fields;
pub mod generated;
pub mod insights;
pub mod instagram;
pub mod lifecycle;
pub mod live;
pub mod messenger;
pub mod oauth;
pub mod pages;
pub mod publisher;
pub mod serde_util;
pub mod store;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;
pub mod webhooks;

pub use error::{ContainerFailure, Error, InvalidInput, PolicyRule, PolicyViolation, Result};

/// Adds the meta-graph areas to a [`meta_core::Client`]:
/// `client.pages()`, `client.instagram()`, `client.comments()`, `client.live_videos()`,
/// `client.messenger()`, `client.insights()`. Each returns a cheap handle holding a
/// clone of the client, so per-tenant clients (`Client::with_access_token`) work the
/// same way.
pub trait GraphExt {
    /// Facebook Page publishing.
    fn pages(&self) -> pages::Pages;
    /// Instagram content publishing.
    fn instagram(&self) -> instagram::Instagram;
    /// Comments on Page posts, Instagram media and live videos.
    fn comments(&self) -> comments::Comments;
    /// Live videos.
    fn live_videos(&self) -> live::LiveVideos;
    /// Messenger and Instagram messaging.
    fn messenger(&self) -> messenger::Messenger;
    /// Page, post and Instagram insights.
    fn insights(&self) -> insights::Insights;
}

impl GraphExt for meta_core::Client {
    fn pages(&self) -> pages::Pages {
        pages::Pages::new(self.clone())
    }
    fn instagram(&self) -> instagram::Instagram {
        instagram::Instagram::new(self.clone())
    }
    fn comments(&self) -> comments::Comments {
        comments::Comments::new(self.clone())
    }
    fn live_videos(&self) -> live::LiveVideos {
        live::LiveVideos::new(self.clone())
    }
    fn messenger(&self) -> messenger::Messenger {
        messenger::Messenger::new(self.clone())
    }
    fn insights(&self) -> insights::Insights {
        insights::Insights::new(self.clone())
    }
}
