//! Instagram content publishing: media containers, status polling, publishing, and the
//! publishing quota.
//!
//! Meta's flow ([DOC] developers.facebook.com/docs/instagram-platform/content-publishing):
//!
//! 1. create a **container** with `POST /{ig-user-id}/media` (an image, a reel, a story,
//!    or a carousel of 2–10 items created first with `is_carousel_item=true`);
//! 2. for a local video, upload the bytes to the resumable-upload host
//!    (`rupload.facebook.com/ig-api-upload/<ver>/<container-id>`);
//! 3. **poll** `GET /{container-id}?fields=status_code,status` until `FINISHED`
//!    (`ERROR` and `EXPIRED` are final, `status` holds Meta's explanation);
//! 4. **publish** with `POST /{ig-user-id}/media_publish?creation_id=<container-id>`.
//!
//! Bad input (a caption over 2,200 characters, more than 30 hashtags or 20 mentions, a
//! carousel of 1 or 11 items, a non-http(s) URL, a PNG where Meta only takes JPEG) is
//! refused with [`Error::Invalid`] **before any call**.
//!
//! Publishing is **never retried automatically**: a retried `media_publish` whose first
//! attempt went through would post twice. When the answer is lost, the container's
//! status is read back instead — `PUBLISHED` means it went through — and anything still
//! unclear comes back as [`PublishOutcome::Unconfirmed`] for the caller to decide.
//!
//! Polling sleeps on the client's injected clock ([`meta_core::Client::clock`]), so
//! tests run minutes of backoff instantly.
//!
//! ```no_run
//! # async fn run() -> meta_graph::Result<()> {
//! use meta_core::{Client, IgUserId};
//! use meta_graph::GraphExt;
//!
//! let client = Client::new(std::env::var("META_ACCESS_TOKEN").unwrap_or_default())?;
//! let ig = IgUserId::new("17841400000000000");
//! let outcome = client
//!     .instagram()
//!     .carousel(&ig)
//!     .image_item("https://example.com/a.jpg")
//!     .image_item("https://example.com/b.jpg")
//!     .caption("Two photos #summer")
//!     .publish()
//!     .await?;
//! println!("{:?}", outcome.media_id());
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use meta_core::{
    ApiError, Client, GraphRequest, IgContainerId, IgMediaId, IgUserId, Paginator, Params,
    RetryConfig,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{ContainerFailure, Error, InvalidInput, Result};
use crate::generated::{ContentPublishingLimit, IgContainer, IgContainerField};
pub use crate::generated::{IgContainerStatusCode, IgMedia, IgMediaField};

/// Meta's resumable-upload host for Instagram videos ([DOC] resumable-uploads). Build the
/// upload client for [`Instagram::with_upload_client`] with this base URL.
pub const DEFAULT_RUPLOAD_BASE_URL: &str = "https://rupload.facebook.com";
/// Longest caption, in characters ([MEM]; third parties agree on 2,200).
pub const MAX_CAPTION_CHARS: usize = 2200;
/// Most hashtags in a caption ([MEM]).
pub const MAX_HASHTAGS: usize = 30;
/// Most @-mentions in a caption ([MEM]).
pub const MAX_MENTIONS: usize = 20;
/// Fewest carousel items ([3P] 2–10).
pub const MIN_CAROUSEL_ITEMS: usize = 2;
/// Most carousel items ([DOC] "up to 10").
pub const MAX_CAROUSEL_ITEMS: usize = 10;
/// Most collaborators on a post ([MEM]: Meta documents up to 3 invited collaborators).
pub const MAX_COLLABORATORS: usize = 3;

/// How container status is polled.
///
/// Defaults: first check after 5 s, then ×1.5 each time up to once a minute (Meta
/// recommends querying at most about once per minute), giving up after 5 minutes (Meta's
/// advice is to poll for no more than 5 minutes).
#[derive(Debug, Clone, PartialEq)]
pub struct PollConfig {
    initial_interval: Duration,
    multiplier: f64,
    max_interval: Duration,
    deadline: Duration,
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig {
            initial_interval: Duration::from_secs(5),
            multiplier: 1.5,
            max_interval: Duration::from_secs(60),
            deadline: Duration::from_secs(300),
        }
    }
}

impl PollConfig {
    /// Wait before the second status check (the first is immediate). Default 5 s.
    #[must_use]
    pub fn initial_interval(mut self, d: Duration) -> Self {
        self.initial_interval = d;
        self
    }
    /// Growth of the interval after each check; values below 1 are read as 1. Default 1.5.
    #[must_use]
    pub fn multiplier(mut self, m: f64) -> Self {
        self.multiplier = if m.is_finite() { m.max(1.0) } else { 1.0 };
        self
    }
    /// Longest interval between checks. Default 60 s.
    #[must_use]
    pub fn max_interval(mut self, d: Duration) -> Self {
        self.max_interval = d;
        self
    }
    /// Total time to wait for `FINISHED` before failing with status `TIMEOUT`.
    /// Default 5 minutes.
    #[must_use]
    pub fn deadline(mut self, d: Duration) -> Self {
        self.deadline = d;
        self
    }
    /// The initial interval.
    #[must_use]
    pub fn get_initial_interval(&self) -> Duration {
        self.initial_interval
    }
    /// The multiplier.
    #[must_use]
    pub fn get_multiplier(&self) -> f64 {
        self.multiplier
    }
    /// The interval cap.
    #[must_use]
    pub fn get_max_interval(&self) -> Duration {
        self.max_interval
    }
    /// The deadline.
    #[must_use]
    pub fn get_deadline(&self) -> Duration {
        self.deadline
    }

    /// The wait after `checks` status checks (≥ 1): `initial × multiplier^(checks−1)`,
    /// capped by the max interval. Pure, for tests and progress display.
    #[must_use]
    pub fn interval_after(&self, checks: u32) -> Duration {
        let exp = i32::try_from(checks.saturating_sub(1)).unwrap_or(i32::MAX);
        let secs = self.initial_interval.as_secs_f64() * self.multiplier.powi(exp);
        let cap = self.max_interval.as_secs_f64();
        if !secs.is_finite() || secs >= cap {
            self.max_interval
        } else {
            Duration::from_secs_f64(secs.max(0.0))
        }
    }
}

/// A container's state, from `GET /{container-id}?fields=id,status_code,status` (read as
/// the generated [`IgContainer`] node).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContainerStatus {
    /// The container id.
    pub id: IgContainerId,
    /// `status_code`; absent only when Meta leaves it out.
    #[serde(default)]
    pub status_code: Option<IgContainerStatusCode>,
    /// Meta's `status` text (the error explanation for `ERROR`).
    #[serde(default)]
    pub status: Option<String>,
}

impl ContainerStatus {
    /// Builds a status (tests, fakes).
    #[must_use]
    pub fn new(
        id: IgContainerId,
        status_code: Option<IgContainerStatusCode>,
        status: Option<String>,
    ) -> Self {
        ContainerStatus {
            id,
            status_code,
            status,
        }
    }

    fn from_node(asked: &IgContainerId, node: IgContainer) -> Self {
        ContainerStatus {
            id: node.id.map_or_else(|| asked.clone(), IgContainerId::new),
            status_code: node.status_code,
            status: node.status,
        }
    }

    /// The status code, `IN_PROGRESS` when Meta left it out.
    #[must_use]
    pub fn code(&self) -> IgContainerStatusCode {
        self.status_code
            .clone()
            .unwrap_or(IgContainerStatusCode::InProgress)
    }
}

/// One status check while waiting, for progress display.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PollProgress {
    /// The status just read.
    pub status: ContainerStatus,
    /// How many checks so far (1 = the first).
    pub checks: u32,
    /// Time waited so far on the client's clock.
    pub waited: Duration,
    /// The wait before the next check, `None` when polling is over.
    pub next_check: Option<Duration>,
}

type ProgressFn = Arc<dyn Fn(&PollProgress) + Send + Sync>;

/// `content_publishing_limit`'s `config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaConfig {
    /// Posts allowed per window.
    #[serde(default)]
    pub quota_total: Option<u64>,
    /// Window length in seconds (86400).
    #[serde(default)]
    pub quota_duration: Option<u64>,
}

/// The account's publishing quota, as Meta reports it (never hard-coded: Meta's pages
/// say 25, 50 and 100). Read from the generated [`ContentPublishingLimit`] node, whose
/// `config` Meta types as a bare `Object`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishingLimit {
    /// Posts published in the current window.
    #[serde(default)]
    pub quota_usage: Option<u64>,
    /// The quota itself.
    #[serde(default)]
    pub config: Option<QuotaConfig>,
}

impl PublishingLimit {
    fn from_node(node: ContentPublishingLimit) -> Self {
        PublishingLimit {
            quota_usage: node.quota_usage.and_then(|u| u64::try_from(u).ok()),
            config: node
                .config
                .and_then(|c| serde_json::from_value::<QuotaConfig>(c).ok()),
        }
    }
    /// `quota_total - quota_usage`, when both are known.
    #[must_use]
    pub fn remaining(&self) -> Option<u64> {
        let total = self.config?.quota_total?;
        Some(total.saturating_sub(self.quota_usage?))
    }
    /// True when Meta reports no posts left.
    #[must_use]
    pub fn is_exhausted(&self) -> bool {
        self.remaining() == Some(0)
    }
}

/// Fields read by [`Instagram::media`] and [`Instagram::list_media`].
pub const IG_MEDIA_FIELDS: &[IgMediaField] = &[
    IgMediaField::Id,
    IgMediaField::Caption,
    IgMediaField::MediaType,
    IgMediaField::MediaProductType,
    IgMediaField::MediaUrl,
    IgMediaField::Permalink,
    IgMediaField::Shortcode,
    IgMediaField::Timestamp,
    IgMediaField::Username,
];

/// What happened to a publish.
#[derive(Debug)]
#[non_exhaustive]
pub enum PublishOutcome {
    /// Meta published it and answered with the media id.
    Published {
        /// The new media.
        media_id: IgMediaId,
    },
    /// The container was already `PUBLISHED` before we tried: nothing was sent.
    AlreadyPublished {
        /// The container.
        container_id: IgContainerId,
    },
    /// The answer to `media_publish` was lost, and reading the container back showed
    /// `PUBLISHED`: it went through. Meta's container node does not expose the media
    /// id; list `GET /{ig-user-id}/media` to find it.
    PublishedAnswerLost {
        /// The container.
        container_id: IgContainerId,
    },
    /// The answer was lost and the container is not (yet) `PUBLISHED`: the post may or
    /// may not appear. Check again before publishing the same container again.
    Unconfirmed {
        /// The container.
        container_id: IgContainerId,
        /// Why the answer was lost.
        cause: meta_core::Error,
    },
}

impl PublishOutcome {
    /// True when the post is known to be live.
    #[must_use]
    pub fn is_published(&self) -> bool {
        !matches!(self, PublishOutcome::Unconfirmed { .. })
    }
    /// The media id, when Meta returned one.
    #[must_use]
    pub fn media_id(&self) -> Option<&IgMediaId> {
        match self {
            PublishOutcome::Published { media_id } => Some(media_id),
            _ => None,
        }
    }
}

/// A person tagged in an image or reel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserTag {
    username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    x: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    y: Option<f64>,
}

impl UserTag {
    /// Tags `username` (without `@`).
    #[must_use]
    pub fn new(username: impl Into<String>) -> Self {
        UserTag {
            username: username.into(),
            x: None,
            y: None,
        }
    }
    /// Position on an image, each coordinate in `0.0..=1.0` from the top left.
    #[must_use]
    pub fn at(mut self, x: f64, y: f64) -> Self {
        self.x = Some(x);
        self.y = Some(y);
        self
    }
}

/// One carousel item.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CarouselItem {
    /// A JPEG image URL.
    Image(String),
    /// A video URL (sent as `media_type=VIDEO`; reels cannot be carousel items).
    Video(String),
}

/// Which kind of container a [`NewContainer`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaKind {
    /// A feed image.
    Image,
    /// A reel (`media_type=REELS`).
    Reel,
    /// A story (`media_type=STORIES`).
    Story,
    /// A carousel (`media_type=CAROUSEL`).
    Carousel,
}

#[derive(Debug, Clone)]
enum Source {
    ImageUrl(String),
    VideoUrl(String),
    VideoBytes(Bytes),
    Items(Vec<CarouselItem>),
}

/// Entry point for Instagram publishing; get one with [`crate::GraphExt::instagram`].
#[derive(Debug, Clone)]
pub struct Instagram {
    client: Client,
    poll: PollConfig,
    upload_client: Option<Client>,
}

impl Instagram {
    pub(crate) fn new(client: Client) -> Self {
        Instagram {
            client,
            poll: PollConfig::default(),
            upload_client: None,
        }
    }

    /// Uses `poll` for every wait.
    #[must_use]
    pub fn with_poll_config(mut self, poll: PollConfig) -> Self {
        self.poll = poll;
        self
    }

    /// The client for the resumable-upload host. By default the Graph client is
    /// re-pointed at [`DEFAULT_RUPLOAD_BASE_URL`] (same token, governor and retry
    /// budget); set one to use another host, e.g. a sandbox.
    #[must_use]
    pub fn with_upload_client(mut self, client: Client) -> Self {
        self.upload_client = Some(client);
        self
    }

    /// The polling configuration.
    #[must_use]
    pub fn poll_config(&self) -> &PollConfig {
        &self.poll
    }

    fn container(&self, ig_user: &IgUserId, kind: MediaKind, source: Source) -> NewContainer {
        NewContainer {
            ig: self.clone(),
            ig_user: ig_user.clone(),
            kind,
            source,
            caption: None,
            alt_text: None,
            user_tags: Vec::new(),
            location_id: None,
            collaborators: Vec::new(),
            share_to_feed: None,
            cover_url: None,
            thumb_offset: None,
            audio_name: None,
            progress: None,
            misuse: None,
        }
    }

    /// A feed image from a public JPEG URL.
    #[must_use]
    pub fn image(&self, ig_user: &IgUserId, image_url: impl Into<String>) -> NewContainer {
        self.container(
            ig_user,
            MediaKind::Image,
            Source::ImageUrl(image_url.into()),
        )
    }

    /// A reel from a public video URL.
    #[must_use]
    pub fn reel(&self, ig_user: &IgUserId, video_url: impl Into<String>) -> NewContainer {
        self.container(ig_user, MediaKind::Reel, Source::VideoUrl(video_url.into()))
    }

    /// A reel from local bytes, sent with the resumable upload (needs
    /// [`Instagram::with_upload_client`]).
    #[must_use]
    pub fn reel_upload(&self, ig_user: &IgUserId, video: impl Into<Bytes>) -> NewContainer {
        self.container(ig_user, MediaKind::Reel, Source::VideoBytes(video.into()))
    }

    /// An image story.
    #[must_use]
    pub fn story_image(&self, ig_user: &IgUserId, image_url: impl Into<String>) -> NewContainer {
        self.container(
            ig_user,
            MediaKind::Story,
            Source::ImageUrl(image_url.into()),
        )
    }

    /// A video story.
    #[must_use]
    pub fn story_video(&self, ig_user: &IgUserId, video_url: impl Into<String>) -> NewContainer {
        self.container(
            ig_user,
            MediaKind::Story,
            Source::VideoUrl(video_url.into()),
        )
    }

    /// A carousel; add 2–10 items with [`NewContainer::image_item`] /
    /// [`NewContainer::video_item`].
    #[must_use]
    pub fn carousel(&self, ig_user: &IgUserId) -> NewContainer {
        self.container(ig_user, MediaKind::Carousel, Source::Items(Vec::new()))
    }

    /// Reads a container's `status_code` and `status`.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a malformed id; [`Error::Meta`] when the call fails.
    pub async fn container_status(&self, container: &IgContainerId) -> Result<ContainerStatus> {
        check_id("container id", container.as_str())?;
        let req = GraphRequest::get(container.as_str()).fields([
            IgContainerField::Id,
            IgContainerField::StatusCode,
            IgContainerField::Status,
        ]);
        let node = self.client.execute::<IgContainer>(req).await?.into_data();
        Ok(ContainerStatus::from_node(container, node))
    }

    /// Polls until the container is `FINISHED` (or already `PUBLISHED`), backing off as
    /// configured by [`PollConfig`] on the client's clock.
    ///
    /// # Errors
    /// [`Error::Container`] for `ERROR` or `EXPIRED` (with Meta's `status` text) and, with
    /// status `TIMEOUT`, when the deadline passes; [`Error::Meta`] when a check fails.
    pub async fn wait_until_finished(&self, container: &IgContainerId) -> Result<ContainerStatus> {
        self.poll_container(container, None).await
    }

    /// [`Instagram::wait_until_finished`], calling `progress` after every check.
    ///
    /// # Errors
    /// As [`Instagram::wait_until_finished`].
    pub async fn wait_until_finished_with(
        &self,
        container: &IgContainerId,
        progress: impl Fn(&PollProgress) + Send + Sync + 'static,
    ) -> Result<ContainerStatus> {
        self.poll_container(container, Some(Arc::new(progress)))
            .await
    }

    async fn poll_container(
        &self,
        container: &IgContainerId,
        progress: Option<ProgressFn>,
    ) -> Result<ContainerStatus> {
        let clock = self.client.clock().clone();
        let start = clock.elapsed();
        let deadline = self.poll.deadline;
        let mut checks: u32 = 0;
        loop {
            checks = checks.saturating_add(1);
            let status = self.container_status(container).await?;
            let waited = clock.elapsed().saturating_sub(start);
            let report = |next_check: Option<Duration>| {
                if let Some(p) = &progress {
                    p(&PollProgress {
                        status: status.clone(),
                        checks,
                        waited,
                        next_check,
                    });
                }
            };
            match status.code() {
                IgContainerStatusCode::Finished | IgContainerStatusCode::Published => {
                    report(None);
                    return Ok(status);
                }
                code @ (IgContainerStatusCode::Error | IgContainerStatusCode::Expired) => {
                    report(None);
                    return Err(ContainerFailure::new(
                        container.as_str(),
                        code.as_str(),
                        status.status.clone(),
                        Some(waited),
                    )
                    .into());
                }
                // IN_PROGRESS, and codes newer than this crate: keep waiting.
                _ => {}
            }
            if waited >= deadline {
                report(None);
                return Err(ContainerFailure::new(
                    container.as_str(),
                    "TIMEOUT",
                    status.status.clone(),
                    Some(waited),
                )
                .into());
            }
            // The last wait is shortened so the final check lands on the deadline.
            let wait = self
                .poll
                .interval_after(checks)
                .min(deadline.saturating_sub(waited));
            report(Some(wait));
            clock.sleep(wait).await;
        }
    }

    /// Reads `content_publishing_limit` (`quota_usage` and `config`).
    ///
    /// # Errors
    /// [`Error::Invalid`] for a malformed id; [`Error::Meta`] when the call fails.
    pub async fn publishing_limit(&self, ig_user: &IgUserId) -> Result<PublishingLimit> {
        check_id("ig user id", ig_user.as_str())?;
        let page: meta_core::Page<ContentPublishingLimit> = self
            .client
            .get(
                &format!("{}/content_publishing_limit", ig_user.as_str()),
                Params::new().fields(["quota_usage", "config"]),
            )
            .await?;
        Ok(page
            .data
            .into_iter()
            .next()
            .map(PublishingLimit::from_node)
            .unwrap_or_default())
    }

    /// Publishes a container once: reads its status first (`PUBLISHED` → nothing is
    /// sent), then sends `media_publish` **without any automatic retry**. When the answer
    /// is lost (dropped connection, timeout, 5xx, transient error), the status is read
    /// back to tell what happened.
    ///
    /// # Errors
    /// [`Error::Container`] for an `ERROR`/`EXPIRED` container; [`Error::Meta`] when Meta
    /// refused the publish (e.g. 9007 not ready, 9 / 2207042 quota reached) or the first
    /// status read failed.
    pub async fn publish_container(
        &self,
        ig_user: &IgUserId,
        container: &IgContainerId,
    ) -> Result<PublishOutcome> {
        check_id("ig user id", ig_user.as_str())?;
        let before = self.container_status(container).await?;
        match before.code() {
            IgContainerStatusCode::Published => {
                return Ok(PublishOutcome::AlreadyPublished {
                    container_id: container.clone(),
                });
            }
            code @ (IgContainerStatusCode::Error | IgContainerStatusCode::Expired) => {
                return Err(ContainerFailure::new(
                    container.as_str(),
                    code.as_str(),
                    before.status,
                    None,
                )
                .into());
            }
            _ => {}
        }
        let req = GraphRequest::post(format!("{}/media_publish", ig_user.as_str()))
            .param("creation_id", container.as_str())
            .idempotent(false)
            .retry(RetryConfig::disabled());
        let cause = match self.client.execute::<IdResponse>(req).await {
            Ok(resp) => {
                return Ok(PublishOutcome::Published {
                    media_id: IgMediaId::new(resp.into_data().id),
                });
            }
            Err(e) if outcome_unclear(&e) => e,
            Err(e) => return Err(e.into()),
        };
        tracing::warn!(container = container.as_str(), error = %cause, "media_publish answer lost; reading the container back");
        match self.container_status(container).await {
            Ok(s) if s.code() == IgContainerStatusCode::Published => {
                Ok(PublishOutcome::PublishedAnswerLost {
                    container_id: container.clone(),
                })
            }
            _ => Ok(PublishOutcome::Unconfirmed {
                container_id: container.clone(),
                cause,
            }),
        }
    }

    /// The safe way to publish: refuses when `content_publishing_limit` reports the
    /// quota used up, waits for the container to finish, then
    /// [`Instagram::publish_container`].
    ///
    /// # Errors
    /// [`Error::Meta`] with Meta's code 9 / subcode 2207042 (built locally, without an
    /// HTTP status, nothing sent to `media_publish`) when the quota is exhausted; else as
    /// [`Instagram::wait_until_finished`] and [`Instagram::publish_container`].
    pub async fn publish(
        &self,
        ig_user: &IgUserId,
        container: &IgContainerId,
    ) -> Result<PublishOutcome> {
        self.check_quota(ig_user).await?;
        self.wait_until_finished(container).await?;
        self.publish_container(ig_user, container).await
    }

    async fn check_quota(&self, ig_user: &IgUserId) -> Result<()> {
        let limit = self.publishing_limit(ig_user).await?;
        if limit.is_exhausted() {
            let total = limit.config.and_then(|c| c.quota_total).unwrap_or(0);
            let used = limit.quota_usage.unwrap_or(0);
            return Err(Error::Meta(
                ApiError::new(
                    9,
                    format!(
                        "(#9) Publishing limit reached: {used} of {total} posts in the current window (content_publishing_limit checked before publishing; nothing was sent)"
                    ),
                )
                .with_subcode(2_207_042)
                .with_transient(false)
                .into(),
            ));
        }
        Ok(())
    }

    /// Uploads a local video to a container created with `upload_type=resumable`
    /// (`POST /ig-api-upload/<ver>/<container-id>` on the upload host, headers
    /// `Authorization: OAuth <token>`, `offset: 0`, `file_size`, raw body). Not retried.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the video is empty;
    /// [`Error::Meta`] when the upload fails.
    pub async fn upload_video(&self, container: &IgContainerId, video: Bytes) -> Result<()> {
        check_id("container id", container.as_str())?;
        let up = match &self.upload_client {
            Some(c) => c.clone(),
            None => self.client.with_base_url(DEFAULT_RUPLOAD_BASE_URL)?,
        };
        if video.is_empty() {
            return Err(InvalidInput::new("video", "the video is empty").into());
        }
        let size = video.len().to_string();
        let req = GraphRequest::post(format!(
            "ig-api-upload/{}/{}",
            up.api_version(),
            container.as_str()
        ))
        .unversioned()
        .token_in_header()
        .header("offset", "0")
        .header("file_size", size)
        .raw_body(video, "application/octet-stream")
        .idempotent(false)
        .retry(RetryConfig::disabled());
        let resp: serde_json::Value = up.execute(req).await?.into_data();
        if resp.get("success").and_then(serde_json::Value::as_bool) == Some(false) {
            return Err(Error::Meta(
                ApiError::new(1, format!("resumable upload refused: {resp}")).into(),
            ));
        }
        Ok(())
    }

    /// Reads one published media object with [`IG_MEDIA_FIELDS`].
    ///
    /// # Errors
    /// [`Error::Invalid`] for a malformed id; [`Error::Meta`] when the call fails.
    pub async fn media(&self, media: &IgMediaId) -> Result<IgMedia> {
        check_id("media id", media.as_str())?;
        let req = GraphRequest::get(media.as_str()).fields(IG_MEDIA_FIELDS);
        Ok(self.client.execute::<IgMedia>(req).await?.into_data())
    }

    /// The items of a published carousel (`GET /{media-id}/children`).
    ///
    /// # Errors
    /// [`Error::Invalid`] for a malformed id; [`Error::Meta`] when the call fails.
    pub async fn media_children(&self, media: &IgMediaId) -> Result<Vec<IgMedia>> {
        check_id("media id", media.as_str())?;
        let page: meta_core::Page<IgMedia> = self
            .client
            .get(
                &format!("{}/children", media.as_str()),
                Params::new().fields(IG_MEDIA_FIELDS),
            )
            .await?;
        Ok(page.data)
    }

    /// Every published media object of the account, newest first, as a lazy stream.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a malformed id (before any call).
    pub fn list_media(&self, ig_user: &IgUserId) -> Result<Paginator<IgMedia>> {
        check_id("ig user id", ig_user.as_str())?;
        Ok(self.client.paginate(
            &format!("{}/media", ig_user.as_str()),
            Params::new().fields(IG_MEDIA_FIELDS),
        ))
    }
}

#[derive(Debug, Deserialize)]
struct IdResponse {
    id: String,
}

#[derive(Debug, Deserialize)]
struct CreatedContainer {
    id: String,
}

/// True when a failed `media_publish` may nevertheless have been applied.
fn outcome_unclear(e: &meta_core::Error) -> bool {
    match e {
        // A connect failure never reached Meta.
        meta_core::Error::Transport(t) => !t.is_connect(),
        meta_core::Error::Timeout(_) | meta_core::Error::Decode(_) => true,
        meta_core::Error::Api(a) => {
            a.http_status().is_some_and(|s| s >= 500) || matches!(a.code(), 1 | 2)
        }
        _ => false,
    }
}

/// A container to create (and usually publish). Build it with [`Instagram::image`],
/// [`Instagram::reel`], [`Instagram::story_image`], [`Instagram::carousel`]...
#[derive(Clone)]
pub struct NewContainer {
    ig: Instagram,
    ig_user: IgUserId,
    kind: MediaKind,
    source: Source,
    caption: Option<String>,
    alt_text: Option<String>,
    user_tags: Vec<UserTag>,
    location_id: Option<String>,
    collaborators: Vec<String>,
    share_to_feed: Option<bool>,
    cover_url: Option<String>,
    thumb_offset: Option<u64>,
    audio_name: Option<String>,
    progress: Option<ProgressFn>,
    misuse: Option<String>,
}

impl fmt::Debug for NewContainer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewContainer")
            .field("ig_user", &self.ig_user)
            .field("kind", &self.kind)
            .field("caption", &self.caption)
            .finish_non_exhaustive()
    }
}

impl NewContainer {
    /// The caption (≤ 2,200 characters, ≤ 30 hashtags, ≤ 20 @-mentions).
    #[must_use]
    pub fn caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }
    /// Alternative text (image posts only).
    #[must_use]
    pub fn alt_text(mut self, text: impl Into<String>) -> Self {
        self.alt_text = Some(text.into());
        self
    }
    /// Tags a user (images and reels).
    #[must_use]
    pub fn user_tag(mut self, tag: UserTag) -> Self {
        self.user_tags.push(tag);
        self
    }
    /// A location (a Page id with a location; not for stories).
    #[must_use]
    pub fn location_id(mut self, id: impl Into<String>) -> Self {
        self.location_id = Some(id.into());
        self
    }
    /// Invites a collaborator by username (up to 3; not for stories).
    #[must_use]
    pub fn collaborator(mut self, username: impl Into<String>) -> Self {
        self.collaborators.push(username.into());
        self
    }
    /// Reels: also show the reel in the feed.
    #[must_use]
    pub fn share_to_feed(mut self, yes: bool) -> Self {
        self.share_to_feed = Some(yes);
        self
    }
    /// Reels: a cover image URL.
    #[must_use]
    pub fn cover_url(mut self, url: impl Into<String>) -> Self {
        self.cover_url = Some(url.into());
        self
    }
    /// Reels: the frame used as thumbnail, in milliseconds.
    #[must_use]
    pub fn thumb_offset(mut self, millis: u64) -> Self {
        self.thumb_offset = Some(millis);
        self
    }
    /// Reels: the name of the audio track.
    #[must_use]
    pub fn audio_name(mut self, name: impl Into<String>) -> Self {
        self.audio_name = Some(name.into());
        self
    }
    /// Carousels: adds an image item.
    #[must_use]
    pub fn image_item(self, url: impl Into<String>) -> Self {
        self.item(CarouselItem::Image(url.into()))
    }
    /// Carousels: adds a video item.
    #[must_use]
    pub fn video_item(self, url: impl Into<String>) -> Self {
        self.item(CarouselItem::Video(url.into()))
    }
    /// Carousels: adds an item. (On other kinds the item is refused by validation.)
    #[must_use]
    pub fn item(mut self, item: CarouselItem) -> Self {
        match &mut self.source {
            Source::Items(items) => items.push(item),
            // Remembered so validation names the misuse instead of silently dropping it.
            _ => {
                self.misuse = Some(format!(
                    "carousel items can only be added to a carousel, not to a {:?}",
                    self.kind
                ));
            }
        }
        self
    }
    /// Calls `f` after every status check while waiting (progress display).
    #[must_use]
    pub fn on_progress(mut self, f: impl Fn(&PollProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// The kind of container.
    #[must_use]
    pub fn kind(&self) -> MediaKind {
        self.kind
    }

    /// Checks everything that can be checked without calling Meta.
    ///
    /// # Errors
    /// [`InvalidInput`] naming the field and the rule.
    pub fn validate(&self) -> std::result::Result<(), InvalidInput> {
        check_id("ig user id", self.ig_user.as_str())?;
        if let Some(m) = &self.misuse {
            return Err(InvalidInput::new("children", m.clone()));
        }
        if let Some(c) = &self.caption {
            validate_caption(c)?;
        }
        let k = self.kind;
        let only = |set: bool, field: &str, allowed: &[MediaKind], what: &str| {
            if set && !allowed.contains(&k) {
                Err(InvalidInput::new(
                    field,
                    format!("{field} is only accepted for {what}"),
                ))
            } else {
                Ok(())
            }
        };
        only(
            self.alt_text.is_some(),
            "alt_text",
            &[MediaKind::Image],
            "image posts",
        )?;
        only(
            !self.user_tags.is_empty(),
            "user_tags",
            &[MediaKind::Image, MediaKind::Reel],
            "images and reels",
        )?;
        only(
            self.location_id.is_some(),
            "location_id",
            &[MediaKind::Image, MediaKind::Reel, MediaKind::Carousel],
            "feed posts and reels",
        )?;
        only(
            !self.collaborators.is_empty(),
            "collaborators",
            &[MediaKind::Image, MediaKind::Reel, MediaKind::Carousel],
            "feed posts and reels",
        )?;
        for (set, field) in [
            (self.share_to_feed.is_some(), "share_to_feed"),
            (self.cover_url.is_some(), "cover_url"),
            (self.thumb_offset.is_some(), "thumb_offset"),
            (self.audio_name.is_some(), "audio_name"),
        ] {
            only(set, field, &[MediaKind::Reel], "reels")?;
        }
        if let Some(a) = &self.alt_text
            && a.trim().is_empty()
        {
            return Err(InvalidInput::new("alt_text", "alt_text is empty"));
        }
        if let Some(l) = &self.location_id {
            check_id("location_id", l)?;
        }
        if self.collaborators.len() > MAX_COLLABORATORS {
            return Err(InvalidInput::new(
                "collaborators",
                format!(
                    "at most {MAX_COLLABORATORS} collaborators, got {}",
                    self.collaborators.len()
                ),
            ));
        }
        for c in &self.collaborators {
            if c.trim().is_empty() || c.contains(char::is_whitespace) {
                return Err(InvalidInput::new(
                    "collaborators",
                    format!("`{c}` is not a username"),
                ));
            }
        }
        for t in &self.user_tags {
            if t.username.trim().is_empty() {
                return Err(InvalidInput::new("user_tags", "a user tag has no username"));
            }
            for v in [t.x, t.y].into_iter().flatten() {
                if !(0.0..=1.0).contains(&v) {
                    return Err(InvalidInput::new(
                        "user_tags",
                        format!("tag coordinates must be within 0.0..=1.0, got {v}"),
                    ));
                }
            }
        }
        if let Some(u) = &self.cover_url {
            check_url("cover_url", u)?;
        }
        match (&self.source, k) {
            (Source::ImageUrl(u), MediaKind::Image | MediaKind::Story) => {
                check_image_url("image_url", u)?;
            }
            (Source::VideoUrl(u), MediaKind::Reel | MediaKind::Story) => {
                check_video_url("video_url", u)?;
            }
            (Source::VideoBytes(b), MediaKind::Reel) => {
                if b.is_empty() {
                    return Err(InvalidInput::new("video", "the video is empty"));
                }
            }
            (Source::Items(items), MediaKind::Carousel) => {
                if !(MIN_CAROUSEL_ITEMS..=MAX_CAROUSEL_ITEMS).contains(&items.len()) {
                    return Err(InvalidInput::new(
                        "children",
                        format!(
                            "a carousel needs {MIN_CAROUSEL_ITEMS} to {MAX_CAROUSEL_ITEMS} items, got {}",
                            items.len()
                        ),
                    ));
                }
                for item in items {
                    match item {
                        CarouselItem::Image(u) => check_image_url("children.image_url", u)?,
                        CarouselItem::Video(u) => check_video_url("children.video_url", u)?,
                    }
                }
            }
            _ => {
                return Err(InvalidInput::new(
                    "media",
                    format!("this media source does not fit a {k:?} container"),
                ));
            }
        }
        Ok(())
    }

    /// The form parameters of `POST /{ig-user-id}/media` for a single (non-carousel)
    /// container, for inspection and tests.
    ///
    /// # Errors
    /// [`InvalidInput`] when validation fails or for a carousel (whose parameters need
    /// the item container ids).
    pub fn params(&self) -> std::result::Result<Params, InvalidInput> {
        self.validate()?;
        if self.kind == MediaKind::Carousel {
            return Err(InvalidInput::new(
                "children",
                "carousel parameters need the item containers; use create()",
            ));
        }
        Ok(self.params_with(&[]))
    }

    fn params_with(&self, children: &[IgContainerId]) -> Params {
        let mut p = Params::new();
        match (self.kind, &self.source) {
            (MediaKind::Image, Source::ImageUrl(u)) => p.insert("image_url", u),
            (MediaKind::Reel, Source::VideoUrl(u)) => {
                p.insert("media_type", "REELS");
                p.insert("video_url", u);
            }
            (MediaKind::Reel, Source::VideoBytes(_)) => {
                p.insert("media_type", "REELS");
                p.insert("upload_type", "resumable");
            }
            (MediaKind::Story, Source::ImageUrl(u)) => {
                p.insert("media_type", "STORIES");
                p.insert("image_url", u);
            }
            (MediaKind::Story, Source::VideoUrl(u)) => {
                p.insert("media_type", "STORIES");
                p.insert("video_url", u);
            }
            (MediaKind::Carousel, _) => {
                p.insert("media_type", "CAROUSEL");
                let ids: Vec<&str> = children.iter().map(IgContainerId::as_str).collect();
                p.insert("children", ids.join(","));
            }
            _ => {}
        }
        if let Some(c) = &self.caption {
            p.insert("caption", c);
        }
        if let Some(a) = &self.alt_text {
            p.insert("alt_text", a);
        }
        if !self.user_tags.is_empty() {
            p.insert("user_tags", json!(self.user_tags));
        }
        if let Some(l) = &self.location_id {
            p.insert("location_id", l);
        }
        if !self.collaborators.is_empty() {
            p.insert("collaborators", json!(self.collaborators));
        }
        if let Some(s) = self.share_to_feed {
            p.insert("share_to_feed", s);
        }
        if let Some(c) = &self.cover_url {
            p.insert("cover_url", c);
        }
        if let Some(t) = self.thumb_offset {
            p.insert("thumb_offset", t);
        }
        if let Some(a) = &self.audio_name {
            p.insert("audio_name", a);
        }
        p
    }

    async fn post_container(&self, params: Params) -> Result<IgContainerId> {
        // Container creation is not idempotent (each call makes a container and counts
        // against the 400-per-24-h container limit), so it is not retried either.
        let req = GraphRequest::post(format!("{}/media", self.ig_user.as_str()))
            .params(params)
            .idempotent(false);
        let created = self.ig.client.execute::<CreatedContainer>(req).await?;
        Ok(IgContainerId::new(created.into_data().id))
    }

    async fn wait(&self, id: &IgContainerId) -> Result<ContainerStatus> {
        self.ig.poll_container(id, self.progress.clone()).await
    }

    /// Creates the container (for a carousel: every item container, waiting for each to
    /// finish, then the carousel; for local video bytes: the resumable container and
    /// the upload). Does not wait for the final container to finish.
    ///
    /// # Errors
    /// [`Error::Invalid`] before any call; [`Error::Container`] when an item fails;
    /// [`Error::Meta`] when a call fails.
    pub async fn create(&self) -> Result<IgContainerId> {
        self.validate()?;
        match &self.source {
            Source::Items(items) => {
                let mut ids = Vec::with_capacity(items.len());
                for item in items {
                    let mut p = Params::new().set("is_carousel_item", true);
                    match item {
                        CarouselItem::Image(u) => p.insert("image_url", u),
                        CarouselItem::Video(u) => {
                            p.insert("media_type", "VIDEO");
                            p.insert("video_url", u);
                        }
                    }
                    ids.push(self.post_container(p).await?);
                }
                // Meta builds the carousel from finished items only.
                for id in &ids {
                    self.wait(id).await?;
                }
                self.post_container(self.params_with(&ids)).await
            }
            Source::VideoBytes(bytes) => {
                let id = self.post_container(self.params_with(&[])).await?;
                self.ig.upload_video(&id, bytes.clone()).await?;
                Ok(id)
            }
            _ => self.post_container(self.params_with(&[])).await,
        }
    }

    /// Creates, waits and publishes: refuses first when the publishing quota is used up
    /// (no container is created then), then [`NewContainer::create`],
    /// [`Instagram::wait_until_finished`] and [`Instagram::publish_container`].
    ///
    /// # Errors
    /// As [`NewContainer::create`] and [`Instagram::publish`].
    pub async fn publish(&self) -> Result<PublishOutcome> {
        self.validate()?;
        self.ig.check_quota(&self.ig_user).await?;
        let id = self.create().await?;
        self.wait(&id).await?;
        self.ig.publish_container(&self.ig_user, &id).await
    }
}

/// Ids go into paths: only letters, digits and `_` are accepted.
fn check_id(field: &str, id: &str) -> std::result::Result<(), InvalidInput> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(InvalidInput::new(
            field,
            format!("`{id}` is not a Graph id"),
        ));
    }
    Ok(())
}

/// Counts `#tag` / `@name` tokens: the sigil at the start or after a non-word character,
/// followed by a word character (so `a@b.com` and `#` alone do not count).
fn count_tags(text: &str, sigil: char) -> usize {
    let chars: Vec<char> = text.chars().collect();
    let word = |c: char| c.is_alphanumeric() || c == '_';
    chars
        .iter()
        .enumerate()
        .filter(|(i, c)| {
            **c == sigil
                && (*i == 0 || !word(chars[*i - 1]))
                && chars.get(*i + 1).is_some_and(|n| word(*n))
        })
        .count()
}

/// Caption rules: ≤ 2,200 characters, ≤ 30 hashtags, ≤ 20 @-mentions.
///
/// # Errors
/// [`InvalidInput`] on field `caption`.
pub fn validate_caption(caption: &str) -> std::result::Result<(), InvalidInput> {
    let n = caption.chars().count();
    if n > MAX_CAPTION_CHARS {
        return Err(InvalidInput::new(
            "caption",
            format!("{n} characters; Instagram allows at most {MAX_CAPTION_CHARS}"),
        ));
    }
    let tags = count_tags(caption, '#');
    if tags > MAX_HASHTAGS {
        return Err(InvalidInput::new(
            "caption",
            format!("{tags} hashtags; Instagram allows at most {MAX_HASHTAGS}"),
        ));
    }
    let mentions = count_tags(caption, '@');
    if mentions > MAX_MENTIONS {
        return Err(InvalidInput::new(
            "caption",
            format!("{mentions} @-mentions; Instagram allows at most {MAX_MENTIONS}"),
        ));
    }
    Ok(())
}

fn check_url(field: &str, raw: &str) -> std::result::Result<url::Url, InvalidInput> {
    let url = url::Url::parse(raw.trim())
        .map_err(|e| InvalidInput::new(field, format!("`{raw}` is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
        return Err(InvalidInput::new(
            field,
            format!("`{raw}` must be a public http(s) URL (Meta downloads the media from it)"),
        ));
    }
    Ok(url)
}

fn extension(url: &url::Url) -> Option<String> {
    let name = url.path_segments()?.next_back()?;
    let (_, ext) = name.rsplit_once('.')?;
    (!ext.is_empty()).then(|| ext.to_ascii_lowercase())
}

/// Image URLs: http(s), and JPEG when the name has an extension ([DOC] "JPEG is the only
/// image format supported"; MPO and JPS are refused too).
fn check_image_url(field: &str, raw: &str) -> std::result::Result<(), InvalidInput> {
    let url = check_url(field, raw)?;
    if let Some(ext) = extension(&url)
        && !matches!(ext.as_str(), "jpg" | "jpeg" | "jfif" | "jpe")
        && is_media_extension(&ext)
    {
        return Err(InvalidInput::new(
            field,
            format!("`.{ext}` images are not accepted: Instagram publishes JPEG images only"),
        ));
    }
    Ok(())
}

/// Video URLs: http(s), and not an image file.
fn check_video_url(field: &str, raw: &str) -> std::result::Result<(), InvalidInput> {
    let url = check_url(field, raw)?;
    if let Some(ext) = extension(&url)
        && is_image_extension(&ext)
    {
        return Err(InvalidInput::new(
            field,
            format!("`.{ext}` is an image; a video (MP4 or MOV) is expected"),
        ));
    }
    Ok(())
}

fn is_image_extension(ext: &str) -> bool {
    matches!(
        ext,
        "jpg"
            | "jpeg"
            | "jfif"
            | "jpe"
            | "png"
            | "gif"
            | "webp"
            | "heic"
            | "heif"
            | "bmp"
            | "tif"
            | "tiff"
            | "svg"
            | "avif"
            | "mpo"
            | "jps"
    )
}

/// Extensions that name a media file (so an unrelated `.php` or `.aspx` endpoint that
/// serves a JPEG is not refused).
fn is_media_extension(ext: &str) -> bool {
    is_image_extension(ext) || matches!(ext, "mp4" | "mov" | "m4v" | "avi" | "webm")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caption_limits() {
        assert!(validate_caption(&"a".repeat(2200)).is_ok());
        let e = validate_caption(&"é".repeat(2201)).unwrap_err();
        assert_eq!(e.field(), "caption");
        assert!(e.reason().contains("2201"));
        let thirty: String = (0..30).map(|i| format!("#t{i} ")).collect();
        assert!(validate_caption(&thirty).is_ok());
        assert!(validate_caption(&format!("{thirty} #one_more")).is_err());
        let twenty: String = (0..20).map(|i| format!("@u{i} ")).collect();
        assert!(validate_caption(&twenty).is_ok());
        assert!(validate_caption(&format!("{twenty}@x")).is_err());
        // Emails, lone sigils and fragments are not tags.
        assert_eq!(count_tags("mail a@b.com # #1 x#y (#ok)", '#'), 2);
        assert_eq!(count_tags("a@b.com @ @me", '@'), 1);
    }

    #[test]
    fn urls_and_formats() {
        assert!(check_image_url("image_url", "https://x.test/a.jpg").is_ok());
        assert!(check_image_url("image_url", "https://x.test/a.JPEG?w=1").is_ok());
        assert!(check_image_url("image_url", "https://x.test/render?id=1").is_ok());
        assert!(check_image_url("image_url", "https://x.test/img.php").is_ok());
        let e = check_image_url("image_url", "https://x.test/a.png").unwrap_err();
        assert!(e.reason().contains("JPEG"), "{e}");
        for bad in [
            "https://x.test/a.webp",
            "https://x.test/a.gif",
            "http://x.test/b.mpo",
        ] {
            assert!(check_image_url("image_url", bad).is_err(), "{bad}");
        }
        for bad in ["ftp://x.test/a.jpg", "file:///a.jpg", "not a url", "/a.jpg"] {
            assert!(check_image_url("image_url", bad).is_err(), "{bad}");
        }
        assert!(check_video_url("video_url", "https://x.test/v.mp4").is_ok());
        assert!(check_video_url("video_url", "https://x.test/v.jpg").is_err());
        assert!(check_id("id", "1789").is_ok());
        assert!(check_id("id", "1/../me").is_err());
        assert!(check_id("id", "").is_err());
    }

    #[test]
    fn poll_intervals_back_off_to_the_cap() {
        let p = PollConfig::default();
        assert_eq!(p.interval_after(1), Duration::from_secs(5));
        assert_eq!(p.interval_after(2), Duration::from_millis(7500));
        assert_eq!(p.interval_after(3), Duration::from_millis(11250));
        assert_eq!(p.interval_after(20), Duration::from_secs(60));
        assert_eq!(p.interval_after(u32::MAX), Duration::from_secs(60));
        assert_eq!(PollConfig::default().multiplier(0.5).get_multiplier(), 1.0);
    }

    #[test]
    fn status_codes_round_trip() {
        let node: IgContainer = serde_json::from_value(json!({
            "id": "1", "status_code": "ERROR", "status": "Error: x"
        }))
        .unwrap();
        let s = ContainerStatus::from_node(&IgContainerId::new("1"), node);
        assert_eq!(s.code(), IgContainerStatusCode::Error);
        let u: IgContainerStatusCode = serde_json::from_value(json!("SOMETHING_NEW")).unwrap();
        assert_eq!(u.as_str(), "SOMETHING_NEW");
        let limit = PublishingLimit::from_node(
            serde_json::from_value(json!({
                "quota_usage": "50", "config": {"quota_total": 50, "quota_duration": 86400}
            }))
            .unwrap(),
        );
        assert!(limit.is_exhausted());
        let partial =
            PublishingLimit::from_node(serde_json::from_value(json!({"quota_usage": 2})).unwrap());
        assert_eq!(partial.remaining(), None);
        assert!(!partial.is_exhausted());
    }
}
