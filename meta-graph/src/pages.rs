//! Facebook Page publishing: feed posts, photos, multi-photo posts, videos (hosted and
//! chunked upload), scheduled posts, reading scheduled posts and deleting.
//!
//! Every call is a fluent builder ending in `.send().await`, over a plain-data request
//! struct ([`FeedPost`], [`PhotoUpload`], [`VideoDetails`]) that validates itself and
//! turns into a [`GraphRequest`] without a client, so requests can be tested and reused
//! by the CLI. Bad input (no content, a non-http link, a caption that is too long, empty
//! or non-image photo bytes, a schedule outside Meta's 10 minutes – 30 days window) is
//! refused with [`Error::Invalid`] **before any call**; the schedule window is checked
//! against the client's injected [`Clock`](meta_core::clock::Clock).
//!
//! ```no_run
//! # async fn run(client: meta_core::Client) -> meta_graph::Result<()> {
//! use std::time::{Duration, SystemTime};
//! use futures_util::TryStreamExt;
//! use meta_core::ids::PageId;
//! use meta_graph::GraphExt;
//! use meta_graph::pages::PhotoSource;
//!
//! let page = PageId::new("1234567890");
//! let post = client.pages().post(&page).message("Doors open at 9").send().await?;
//!
//! // Scheduled for tomorrow: published=false + scheduled_publish_time.
//! let tomorrow = SystemTime::now() + Duration::from_secs(86_400);
//! client.pages().post(&page).message("Sale!").scheduled_at(tomorrow).send().await?;
//! let mut scheduled = client.pages().scheduled_posts(&page);
//! while let Some(p) = scheduled.try_next().await? {
//!     println!("{:?} at {:?}", p.message, p.scheduled_publish_time);
//! }
//!
//! // Two photos in one post: uploaded unpublished, then attached.
//! let photos = [PhotoSource::url("https://example.com/a.jpg"), PhotoSource::url("https://example.com/b.jpg")];
//! client.pages().multi_photo_post(&page, photos, "Our new shop").send().await?;
//!
//! // A video in chunks, resuming from the offsets Meta gives back.
//! let bytes = std::fs::read("clip.mp4").unwrap_or_default();
//! let video = client.pages().upload_video(&page, bytes).title("Clip").send().await?;
//! client.pages().delete(&post).await?;
//! # let _ = video; Ok(()) }
//! ```

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use meta_core::ids::{PageId, PhotoId, PostId, VideoId};
use meta_core::{ApiError, Client, FilePart, GraphRequest, Paginator, Params};
use serde::{Deserialize, Serialize};

use crate::error::{Error, InvalidInput, Result};
use crate::generated::{PagePost, PagePostField};

/// The earliest a post may be scheduled: Meta requires "between 10 minutes and 30 days
/// from the time of the API request" (Pages API posts guide).
pub const MIN_SCHEDULE_LEAD: Duration = Duration::from_secs(10 * 60);
/// The latest a post may be scheduled: 30 days ahead (see [`MIN_SCHEDULE_LEAD`]).
pub const MAX_SCHEDULE_LEAD: Duration = Duration::from_secs(30 * 86_400);
/// The longest post message or photo caption, in characters: Facebook's documented post
/// length limit (63,206; from Meta's help pages, not the Graph reference).
pub const MAX_MESSAGE_CHARS: usize = 63_206;
/// The largest photo accepted as bytes. Meta's photo guidance asks for photos under
/// 4 MB (from memory of the Page photos reference; larger files are refused by Meta).
pub const MAX_PHOTO_BYTES: usize = 4 * 1024 * 1024;
/// Meta's subcode for a video chunk whose `start_offset` is not the one the upload
/// session expects; `error_data` then carries the expected `start_offset`/`end_offset`
/// (the official Python uploader resumes from them, facts guide §1.4).
pub const VIDEO_OFFSET_MISMATCH_SUBCODE: i64 = 1_363_037;

/// The image formats Page photos accept (JPEG, PNG, GIF, BMP, TIFF per Meta's photo
/// reference; WebP and HEIF from its newer guidance).
pub const PHOTO_CONTENT_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/bmp",
    "image/tiff",
    "image/webp",
    "image/heif",
];

/// The fields read for posts by [`Pages::scheduled_posts`], [`Pages::feed`] and
/// [`Pages::get_post`].
pub const DEFAULT_POST_FIELDS: &[PagePostField] = &[
    PagePostField::Id,
    PagePostField::Message,
    PagePostField::CreatedTime,
    PagePostField::IsPublished,
    PagePostField::ScheduledPublishTime,
    PagePostField::PermalinkUrl,
];

/// Facebook Page publishing; get one with [`crate::GraphExt::pages`].
///
/// Calls need the Page's own access token (from `/me/accounts`), with
/// `pages_manage_posts` and `pages_read_engagement` (`publish_video` for videos).
#[derive(Debug, Clone)]
pub struct Pages {
    client: Client,
}

impl Pages {
    pub(crate) fn new(client: Client) -> Self {
        Pages { client }
    }

    /// A feed post: `POST /{page-id}/feed`. Set a message, a link or both.
    pub fn post(&self, page: &PageId) -> FeedPostBuilder {
        FeedPostBuilder {
            client: self.client.clone(),
            page: page.clone(),
            request: FeedPost::default(),
        }
    }

    /// A photo: `POST /{page-id}/photos` by URL or bytes.
    pub fn photo(&self, page: &PageId, source: PhotoSource) -> PhotoBuilder {
        PhotoBuilder {
            client: self.client.clone(),
            page: page.clone(),
            request: PhotoUpload::new(source),
        }
    }

    /// A post with several photos: each photo is uploaded unpublished (`temporary` as
    /// well when the post is scheduled), then one `POST /{page-id}/feed` attaches them
    /// with `attached_media=[{"media_fbid":…}]`.
    pub fn multi_photo_post(
        &self,
        page: &PageId,
        photos: impl IntoIterator<Item = PhotoSource>,
        message: impl Into<String>,
    ) -> MultiPhotoPostBuilder {
        MultiPhotoPostBuilder {
            client: self.client.clone(),
            page: page.clone(),
            photos: photos.into_iter().collect(),
            post: FeedPost {
                message: Some(message.into()),
                ..FeedPost::default()
            },
        }
    }

    /// A video Meta fetches itself: `POST /{page-id}/videos` with `file_url`.
    pub fn video_from_url(&self, page: &PageId, file_url: impl Into<String>) -> VideoUrlBuilder {
        VideoUrlBuilder {
            client: self.client.clone(),
            page: page.clone(),
            file_url: file_url.into(),
            details: VideoDetails::default(),
        }
    }

    /// A video uploaded in chunks (`upload_phase` start → transfer… → finish), following
    /// the byte ranges Meta asks for.
    pub fn upload_video(&self, page: &PageId, data: impl Into<Bytes>) -> VideoUploadBuilder {
        VideoUploadBuilder {
            client: self.client.clone(),
            page: page.clone(),
            data: data.into(),
            file_name: "video.mp4".to_owned(),
            details: VideoDetails::default(),
        }
    }

    /// Picks up a chunked upload started earlier (for example by a process that
    /// crashed), from its `upload_session_id`, `video_id` and the last offsets Meta
    /// gave ([`VideoUpload::offsets`], saved after each chunk). If more bytes landed
    /// since they were saved, Meta answers the first chunk with the offsets it expects
    /// (subcode [`VIDEO_OFFSET_MISMATCH_SUBCODE`]) and the upload continues from there.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the offsets do not fit the data (`start ≤ end ≤ len`).
    pub fn resume_video_upload(
        &self,
        page: &PageId,
        upload_session_id: impl Into<String>,
        video_id: VideoId,
        data: impl Into<Bytes>,
        offsets: (u64, u64),
    ) -> Result<VideoUpload> {
        let data = data.into();
        let len = len_u64(&data);
        let (start, end) = offsets;
        if start > end || end > len {
            return Err(InvalidInput::new(
                "offsets",
                format!("{start}..{end} does not fit a {len}-byte video"),
            )
            .into());
        }
        let session_id = upload_session_id.into();
        if session_id.trim().is_empty() {
            return Err(InvalidInput::new("upload_session_id", "is empty").into());
        }
        Ok(VideoUpload {
            client: self.client.clone(),
            page: page.clone(),
            session_id,
            video_id,
            file_name: "video.mp4".to_owned(),
            details: VideoDetails::default(),
            start,
            end,
            retries_left: chunk_retry_budget(len),
            data,
        })
    }

    /// The Page's scheduled, not yet published posts (`GET /{page-id}/scheduled_posts`)
    /// with [`DEFAULT_POST_FIELDS`], one page fetched at a time.
    #[must_use]
    pub fn scheduled_posts(&self, page: &PageId) -> Paginator<PagePost> {
        self.client.paginate_request(
            GraphRequest::get(format!("{page}/scheduled_posts")).fields(DEFAULT_POST_FIELDS),
        )
    }

    /// The Page's published posts (`GET /{page-id}/feed`) with [`DEFAULT_POST_FIELDS`].
    #[must_use]
    pub fn feed(&self, page: &PageId) -> Paginator<PagePost> {
        self.client
            .paginate_request(GraphRequest::get(format!("{page}/feed")).fields(DEFAULT_POST_FIELDS))
    }

    /// One post (`GET /{post-id}`) with [`DEFAULT_POST_FIELDS`].
    ///
    /// # Errors
    /// [`Error::Invalid`] for a malformed id (nothing sent); [`Error::Meta`] for any
    /// failure of the call.
    pub async fn get_post(&self, post: &PostId) -> Result<PagePost> {
        check_id("post_id", PostId::parse(post.as_str()))?;
        let resp = self
            .client
            .execute::<PagePost>(GraphRequest::get(post.as_str()).fields(DEFAULT_POST_FIELDS))
            .await?;
        Ok(resp.into_data())
    }

    /// Deletes a post (published or scheduled): `DELETE /{post-id}`.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a malformed id (nothing sent); [`Error::Meta`] when the call
    /// fails or Meta answers `{"success": false}`.
    pub async fn delete(&self, post: &PostId) -> Result<()> {
        check_id("post_id", PostId::parse(post.as_str()))?;
        delete_node(&self.client, post.as_str()).await
    }
}

// ----------------------------------------------------------------------------------
// Feed posts
// ----------------------------------------------------------------------------------

/// `POST /{page-id}/feed` as plain data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FeedPost {
    /// The text of the post.
    pub message: Option<String>,
    /// A link to share (http or https).
    pub link: Option<String>,
    /// `published`; Meta's default is `true`. Scheduling sends `false`.
    pub published: Option<bool>,
    /// `scheduled_publish_time`, unix seconds.
    pub scheduled_publish_time: Option<u64>,
    /// Unpublished photos to attach (`attached_media`).
    pub attached_media: Vec<PhotoId>,
}

impl FeedPost {
    /// Checks the post against Meta's rules, with `now_unix` as the time of the call.
    ///
    /// # Errors
    /// [`InvalidInput`] naming the field: no message, link or media; a message over
    /// [`MAX_MESSAGE_CHARS`]; a link that is not an absolute http(s) URL; `published`
    /// together with a schedule; a schedule outside 10 minutes – 30 days ahead.
    pub fn validate(&self, now_unix: u64) -> Result<(), InvalidInput> {
        let message = self.message.as_deref().filter(|m| !m.trim().is_empty());
        if message.is_none() && self.link.is_none() && self.attached_media.is_empty() {
            return Err(InvalidInput::new(
                "message",
                "a post needs a non-empty message, a link or attached media",
            ));
        }
        if let Some(m) = message {
            check_text_len("message", m)?;
        }
        if let Some(link) = &self.link {
            check_http_url("link", link)?;
        }
        for id in &self.attached_media {
            check_id("attached_media", PhotoId::parse(id.as_str()))?;
        }
        check_schedule(self.published, self.scheduled_publish_time, now_unix)
    }

    /// The request, without validating (call [`FeedPost::validate`] first).
    #[must_use]
    pub fn to_request(&self, page: &PageId) -> GraphRequest {
        let mut params = Params::new();
        if let Some(m) = self.message.as_deref().filter(|m| !m.trim().is_empty()) {
            params.insert("message", m);
        }
        if let Some(l) = &self.link {
            params.insert("link", l);
        }
        if !self.attached_media.is_empty() {
            // Meta's SDKs JSON-encode list params; meta-core's Params does the same.
            let media: Vec<serde_json::Value> = self
                .attached_media
                .iter()
                .map(|id| serde_json::json!({ "media_fbid": id.as_str() }))
                .collect();
            params.insert("attached_media", media);
        }
        insert_schedule(&mut params, self.published, self.scheduled_publish_time);
        GraphRequest::post(format!("{page}/feed")).params(params)
    }
}

/// Builds and sends a feed post; see [`Pages::post`].
#[derive(Debug)]
#[must_use = "a builder does nothing until `.send()`"]
pub struct FeedPostBuilder {
    client: Client,
    page: PageId,
    request: FeedPost,
}

impl FeedPostBuilder {
    /// The text of the post.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.request.message = Some(message.into());
        self
    }
    /// A link to share (must be http or https).
    pub fn link(mut self, link: impl Into<String>) -> Self {
        self.request.link = Some(link.into());
        self
    }
    /// `published=false` keeps the post hidden (an unpublished "dark" post).
    pub fn published(mut self, published: bool) -> Self {
        self.request.published = Some(published);
        self
    }
    /// Schedules the post (10 minutes to 30 days ahead); sends `published=false`.
    pub fn scheduled_at(mut self, at: SystemTime) -> Self {
        self.request.scheduled_publish_time = Some(unix_secs(at));
        self
    }
    /// [`FeedPostBuilder::scheduled_at`] in unix seconds.
    pub fn scheduled_at_unix(mut self, unix_secs: u64) -> Self {
        self.request.scheduled_publish_time = Some(unix_secs);
        self
    }
    /// Attaches unpublished photos (see [`Pages::multi_photo_post`] for the whole flow).
    pub fn attached_media(mut self, photos: impl IntoIterator<Item = PhotoId>) -> Self {
        self.request.attached_media.extend(photos);
        self
    }
    /// The request as built so far.
    #[must_use]
    pub fn request(&self) -> &FeedPost {
        &self.request
    }

    /// Validates, then publishes (or schedules) the post.
    ///
    /// # Errors
    /// [`Error::Invalid`] before any call (see [`FeedPost::validate`]); [`Error::Meta`]
    /// when the call fails. Not retried automatically: a feed POST is not idempotent.
    pub async fn send(self) -> Result<PostId> {
        check_id("page_id", PageId::parse(self.page.as_str()))?;
        self.request.validate(now(&self.client))?;
        let created: Created<PostId> = self
            .client
            .execute(self.request.to_request(&self.page))
            .await?
            .into_data();
        Ok(created.id)
    }
}

// ----------------------------------------------------------------------------------
// Photos
// ----------------------------------------------------------------------------------

/// Where a photo comes from.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PhotoSource {
    /// A public URL Meta downloads (`url`).
    Url(String),
    /// The image itself, sent as the multipart `source` part.
    Bytes {
        /// The image bytes.
        data: Bytes,
        /// Its MIME type; sniffed from the bytes when `None`.
        content_type: Option<String>,
        /// The file name sent in the part (default `photo` plus the format's extension).
        file_name: Option<String>,
    },
}

impl fmt::Debug for PhotoSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhotoSource::Url(u) => f.debug_tuple("Url").field(u).finish(),
            PhotoSource::Bytes {
                data,
                content_type,
                file_name,
            } => f
                .debug_struct("Bytes")
                .field("len", &data.len())
                .field("content_type", content_type)
                .field("file_name", file_name)
                .finish(),
        }
    }
}

impl PhotoSource {
    /// A photo Meta downloads from `url`.
    pub fn url(url: impl Into<String>) -> Self {
        PhotoSource::Url(url.into())
    }
    /// A photo sent as bytes; the format is sniffed from them.
    pub fn bytes(data: impl Into<Bytes>) -> Self {
        PhotoSource::Bytes {
            data: data.into(),
            content_type: None,
            file_name: None,
        }
    }
    /// Declares the MIME type of a bytes photo (checked against the bytes).
    #[must_use]
    pub fn with_content_type(mut self, value: impl Into<String>) -> Self {
        if let PhotoSource::Bytes { content_type, .. } = &mut self {
            *content_type = Some(value.into());
        }
        self
    }
    /// Sets the file name of a bytes photo.
    #[must_use]
    pub fn with_file_name(mut self, value: impl Into<String>) -> Self {
        if let PhotoSource::Bytes { file_name, .. } = &mut self {
            *file_name = Some(value.into());
        }
        self
    }

    /// Checks the source; returns the MIME type of a bytes photo.
    fn check(&self, field: &str) -> Result<Option<&'static str>, InvalidInput> {
        match self {
            PhotoSource::Url(u) => check_http_url(field, u).map(|()| None),
            PhotoSource::Bytes {
                data,
                content_type,
                file_name,
            } => {
                if data.is_empty() {
                    return Err(InvalidInput::new(field, "the photo has no bytes"));
                }
                if data.len() > MAX_PHOTO_BYTES {
                    return Err(InvalidInput::new(
                        field,
                        format!(
                            "the photo is {} bytes; Meta accepts at most {MAX_PHOTO_BYTES}",
                            data.len()
                        ),
                    ));
                }
                let sniffed = sniff_image(data).ok_or_else(|| {
                    InvalidInput::new(
                        field,
                        format!(
                            "the bytes are not a supported image ({})",
                            PHOTO_CONTENT_TYPES.join(", ")
                        ),
                    )
                })?;
                if let Some(declared) = content_type {
                    let declared = declared.trim().to_ascii_lowercase();
                    let declared = if declared == "image/jpg" {
                        "image/jpeg".to_owned()
                    } else {
                        declared
                    };
                    if !PHOTO_CONTENT_TYPES.contains(&declared.as_str()) {
                        return Err(InvalidInput::new(
                            "content_type",
                            format!("`{declared}` is not a photo type Meta accepts"),
                        ));
                    }
                    if declared != sniffed {
                        return Err(InvalidInput::new(
                            "content_type",
                            format!("declared `{declared}` but the bytes are {sniffed}"),
                        ));
                    }
                }
                if let Some(name) = file_name {
                    check_file_name(name)?;
                }
                Ok(Some(sniffed))
            }
        }
    }

    /// Adds the source to a request: `url`, or the `source` file part.
    fn apply(&self, mut req: GraphRequest, content_type: Option<&str>) -> GraphRequest {
        match self {
            PhotoSource::Url(u) => req.param("url", u),
            PhotoSource::Bytes {
                data, file_name, ..
            } => {
                let ct = content_type.unwrap_or("application/octet-stream");
                let ext = ct.rsplit('/').next().unwrap_or("img");
                req = req.file(FilePart {
                    field: "source".to_owned(),
                    file_name: file_name.clone().unwrap_or_else(|| format!("photo.{ext}")),
                    content_type: ct.to_owned(),
                    data: data.clone(),
                });
                req
            }
        }
    }
}

/// `POST /{page-id}/photos` as plain data.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PhotoUpload {
    /// URL or bytes.
    pub source: PhotoSource,
    /// `caption` (shown as the post text).
    pub caption: Option<String>,
    /// `published`; `false` uploads the photo without a story (for `attached_media`).
    pub published: Option<bool>,
    /// `temporary`: an unpublished photo for a scheduled multi-photo post.
    pub temporary: Option<bool>,
    /// `scheduled_publish_time`, unix seconds.
    pub scheduled_publish_time: Option<u64>,
}

impl PhotoUpload {
    /// A photo upload with Meta's defaults.
    #[must_use]
    pub fn new(source: PhotoSource) -> Self {
        PhotoUpload {
            source,
            caption: None,
            published: None,
            temporary: None,
            scheduled_publish_time: None,
        }
    }

    /// Checks the upload, with `now_unix` as the time of the call.
    ///
    /// # Errors
    /// [`InvalidInput`]: a URL that is not http(s); empty, oversized or non-image
    /// bytes, or a declared content type that does not match them; a caption over
    /// [`MAX_MESSAGE_CHARS`]; `temporary` on a published photo; a schedule outside the
    /// window or together with `published`.
    pub fn validate(&self, now_unix: u64) -> Result<(), InvalidInput> {
        self.source.check("source")?;
        if let Some(c) = &self.caption {
            check_text_len("caption", c)?;
        }
        if self.temporary == Some(true) && self.published != Some(false) {
            return Err(InvalidInput::new(
                "temporary",
                "temporary photos must be uploaded with published=false",
            ));
        }
        check_schedule(self.published, self.scheduled_publish_time, now_unix)
    }

    /// The request, without validating (call [`PhotoUpload::validate`] first).
    #[must_use]
    pub fn to_request(&self, page: &PageId) -> GraphRequest {
        let content_type = match &self.source {
            PhotoSource::Bytes { data, .. } => sniff_image(data),
            PhotoSource::Url(_) => None,
        };
        let mut req = self
            .source
            .apply(GraphRequest::post(format!("{page}/photos")), content_type);
        if let Some(c) = self.caption.as_deref().filter(|c| !c.trim().is_empty()) {
            req = req.param("caption", c);
        }
        if let Some(t) = self.temporary {
            req = req.param("temporary", t);
        }
        let mut params = req.get_params().clone();
        insert_schedule(&mut params, self.published, self.scheduled_publish_time);
        req.params(params)
    }
}

/// What `POST /{page-id}/photos` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PhotoPosted {
    /// The photo.
    pub id: PhotoId,
    /// The story post created for it; absent for unpublished photos.
    #[serde(default)]
    pub post_id: Option<PostId>,
}

/// Builds and sends a photo; see [`Pages::photo`].
#[derive(Debug)]
#[must_use = "a builder does nothing until `.send()`"]
pub struct PhotoBuilder {
    client: Client,
    page: PageId,
    request: PhotoUpload,
}

impl PhotoBuilder {
    /// The caption.
    pub fn caption(mut self, caption: impl Into<String>) -> Self {
        self.request.caption = Some(caption.into());
        self
    }
    /// `published=false` uploads the photo without a story.
    pub fn published(mut self, published: bool) -> Self {
        self.request.published = Some(published);
        self
    }
    /// `temporary=true` (with `published=false`): for a scheduled multi-photo post.
    pub fn temporary(mut self, temporary: bool) -> Self {
        self.request.temporary = Some(temporary);
        self
    }
    /// Schedules the photo's post; sends `published=false`.
    pub fn scheduled_at(mut self, at: SystemTime) -> Self {
        self.request.scheduled_publish_time = Some(unix_secs(at));
        self
    }
    /// The request as built so far.
    #[must_use]
    pub fn request(&self) -> &PhotoUpload {
        &self.request
    }

    /// Validates, then uploads.
    ///
    /// # Errors
    /// [`Error::Invalid`] before any call (see [`PhotoUpload::validate`]);
    /// [`Error::Meta`] when the call fails (for example code 100, subcode 3858258 when
    /// Meta cannot download the URL).
    pub async fn send(self) -> Result<PhotoPosted> {
        check_id("page_id", PageId::parse(self.page.as_str()))?;
        self.request.validate(now(&self.client))?;
        Ok(self
            .client
            .execute::<PhotoPosted>(self.request.to_request(&self.page))
            .await?
            .into_data())
    }
}

/// The result of [`MultiPhotoPostBuilder::send`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MultiPhotoPosted {
    /// The feed post.
    pub post_id: PostId,
    /// The attached photos, in the order given.
    pub photo_ids: Vec<PhotoId>,
}

/// Builds and sends a multi-photo post; see [`Pages::multi_photo_post`].
#[derive(Debug)]
#[must_use = "a builder does nothing until `.send()`"]
pub struct MultiPhotoPostBuilder {
    client: Client,
    page: PageId,
    photos: Vec<PhotoSource>,
    post: FeedPost,
}

impl MultiPhotoPostBuilder {
    /// Schedules the post; the photos are then uploaded with `temporary=true`.
    pub fn scheduled_at(mut self, at: SystemTime) -> Self {
        self.post.scheduled_publish_time = Some(unix_secs(at));
        self
    }
    /// [`MultiPhotoPostBuilder::scheduled_at`] in unix seconds.
    pub fn scheduled_at_unix(mut self, unix_secs: u64) -> Self {
        self.post.scheduled_publish_time = Some(unix_secs);
        self
    }
    /// A link shared with the photos.
    pub fn link(mut self, link: impl Into<String>) -> Self {
        self.post.link = Some(link.into());
        self
    }

    /// The photo uploads this post makes, in order.
    #[must_use]
    pub fn photo_uploads(&self) -> Vec<PhotoUpload> {
        let scheduled = self.post.scheduled_publish_time.is_some();
        self.photos
            .iter()
            .map(|source| PhotoUpload {
                published: Some(false),
                // Meta's multi-photo guide: photos of a scheduled post are uploaded
                // as temporary so they are kept until the post goes out.
                temporary: scheduled.then_some(true),
                ..PhotoUpload::new(source.clone())
            })
            .collect()
    }

    /// Validates everything, uploads each photo unpublished, then creates the post.
    /// If an upload or the post fails, the photos already uploaded are deleted (best
    /// effort) and the error is returned.
    ///
    /// # Errors
    /// [`Error::Invalid`] before any call: no photos, any photo invalid (the field
    /// names its index), or the post invalid (see [`FeedPost::validate`]).
    /// [`Error::Meta`] for the first failed call.
    pub async fn send(self) -> Result<MultiPhotoPosted> {
        check_id("page_id", PageId::parse(self.page.as_str()))?;
        let now_unix = now(&self.client);
        if self.photos.is_empty() {
            return Err(
                InvalidInput::new("photos", "a multi-photo post needs at least one photo").into(),
            );
        }
        let uploads = self.photo_uploads();
        for (i, upload) in uploads.iter().enumerate() {
            upload
                .validate(now_unix)
                .map_err(|e| InvalidInput::new(format!("photos[{i}].{}", e.field()), e.reason()))?;
        }
        // The post is validated as it will be sent, with placeholder media ids.
        let mut probe = self.post.clone();
        probe.attached_media = vec![PhotoId::new("0")];
        probe.validate(now_unix)?;

        let mut photo_ids: Vec<PhotoId> = Vec::with_capacity(uploads.len());
        for upload in &uploads {
            match self
                .client
                .execute::<PhotoPosted>(upload.to_request(&self.page))
                .await
            {
                Ok(r) => photo_ids.push(r.into_data().id),
                Err(e) => {
                    self.clean_up(&photo_ids).await;
                    return Err(e.into());
                }
            }
        }
        let mut post = self.post.clone();
        post.attached_media = photo_ids.clone();
        match self
            .client
            .execute::<Created<PostId>>(post.to_request(&self.page))
            .await
        {
            Ok(r) => Ok(MultiPhotoPosted {
                post_id: r.into_data().id,
                photo_ids,
            }),
            Err(e) => {
                self.clean_up(&photo_ids).await;
                Err(e.into())
            }
        }
    }

    async fn clean_up(&self, photos: &[PhotoId]) {
        for id in photos {
            if let Err(e) = delete_node(&self.client, id.as_str()).await {
                tracing::warn!(photo = %id, error = %e, "could not delete an orphaned unpublished photo");
            }
        }
    }
}

// ----------------------------------------------------------------------------------
// Videos
// ----------------------------------------------------------------------------------

/// Title, description and publishing options of a Page video (sent with `file_url`,
/// or with the `finish` phase of a chunked upload).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct VideoDetails {
    /// `title`.
    pub title: Option<String>,
    /// `description` (the post text).
    pub description: Option<String>,
    /// `published`; Meta's default is `true`.
    pub published: Option<bool>,
    /// `scheduled_publish_time`, unix seconds.
    pub scheduled_publish_time: Option<u64>,
}

impl VideoDetails {
    /// Checks lengths and the schedule, with `now_unix` as the time of the call.
    ///
    /// # Errors
    /// [`InvalidInput`]: a title or description over [`MAX_MESSAGE_CHARS`]; a schedule
    /// outside the window or together with `published`.
    pub fn validate(&self, now_unix: u64) -> Result<(), InvalidInput> {
        if let Some(t) = &self.title {
            check_text_len("title", t)?;
        }
        if let Some(d) = &self.description {
            check_text_len("description", d)?;
        }
        check_schedule(self.published, self.scheduled_publish_time, now_unix)
    }

    fn apply(&self, params: &mut Params) {
        if let Some(t) = &self.title {
            params.insert("title", t);
        }
        if let Some(d) = &self.description {
            params.insert("description", d);
        }
        insert_schedule(params, self.published, self.scheduled_publish_time);
    }
}

macro_rules! video_detail_setters {
    ($builder:ty) => {
        impl $builder {
            /// The video's title.
            pub fn title(mut self, title: impl Into<String>) -> Self {
                self.details.title = Some(title.into());
                self
            }
            /// The description (the post text).
            pub fn description(mut self, description: impl Into<String>) -> Self {
                self.details.description = Some(description.into());
                self
            }
            /// `published=false` uploads without a story.
            pub fn published(mut self, published: bool) -> Self {
                self.details.published = Some(published);
                self
            }
            /// Schedules the video's post; sends `published=false`.
            pub fn scheduled_at(mut self, at: SystemTime) -> Self {
                self.details.scheduled_publish_time = Some(unix_secs(at));
                self
            }
        }
    };
}

/// Builds and sends a hosted video; see [`Pages::video_from_url`].
#[derive(Debug)]
#[must_use = "a builder does nothing until `.send()`"]
pub struct VideoUrlBuilder {
    client: Client,
    page: PageId,
    file_url: String,
    details: VideoDetails,
}

video_detail_setters!(VideoUrlBuilder);

impl VideoUrlBuilder {
    /// The request, without validating.
    #[must_use]
    pub fn to_request(&self) -> GraphRequest {
        let mut params = Params::new().set("file_url", &self.file_url);
        self.details.apply(&mut params);
        GraphRequest::post(format!("{}/videos", self.page)).params(params)
    }

    /// Validates, then asks Meta to fetch the video.
    ///
    /// # Errors
    /// [`Error::Invalid`] before any call (a `file_url` that is not http(s), see also
    /// [`VideoDetails::validate`]); [`Error::Meta`] when the call fails.
    pub async fn send(self) -> Result<VideoId> {
        check_id("page_id", PageId::parse(self.page.as_str()))?;
        check_http_url("file_url", &self.file_url)?;
        self.details.validate(now(&self.client))?;
        let created: Created<VideoId> = self.client.execute(self.to_request()).await?.into_data();
        Ok(created.id)
    }
}

/// Builds a chunked video upload; see [`Pages::upload_video`].
#[must_use = "a builder does nothing until `.send()` or `.start()`"]
pub struct VideoUploadBuilder {
    client: Client,
    page: PageId,
    data: Bytes,
    file_name: String,
    details: VideoDetails,
}

impl fmt::Debug for VideoUploadBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VideoUploadBuilder")
            .field("page", &self.page)
            .field("len", &self.data.len())
            .field("file_name", &self.file_name)
            .field("details", &self.details)
            .finish_non_exhaustive()
    }
}

video_detail_setters!(VideoUploadBuilder);

impl VideoUploadBuilder {
    /// The file name sent with each chunk (default `video.mp4`).
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = name.into();
        self
    }

    fn validate(&self) -> Result<(), InvalidInput> {
        check_id("page_id", PageId::parse(self.page.as_str()))?;
        if self.data.is_empty() {
            return Err(InvalidInput::new("video", "the video has no bytes"));
        }
        check_file_name(&self.file_name)?;
        self.details.validate(now(&self.client))
    }

    /// Validates and opens the upload session (`upload_phase=start`), without sending
    /// any bytes yet; drive it with [`VideoUpload::transfer_next`] or
    /// [`VideoUpload::finish`]. Persist [`VideoUpload::session_id`] and
    /// [`VideoUpload::video_id`] to resume after a crash
    /// ([`Pages::resume_video_upload`]).
    ///
    /// # Errors
    /// [`Error::Invalid`] before any call (no bytes, a bad file name, see also
    /// [`VideoDetails::validate`]); [`Error::Meta`] when the start call fails.
    pub async fn start(self) -> Result<VideoUpload> {
        self.validate()?;
        let len = len_u64(&self.data);
        let req = GraphRequest::post(format!("{}/videos", self.page))
            .param("upload_phase", "start")
            .param("file_size", len);
        let started: UploadStarted = self.client.execute(req).await?.into_data();
        let mut upload = VideoUpload {
            client: self.client,
            page: self.page,
            session_id: started.upload_session_id,
            video_id: started.video_id,
            file_name: self.file_name,
            details: self.details,
            start: 0,
            end: 0,
            retries_left: chunk_retry_budget(len),
            data: self.data,
        };
        upload.set_offsets(started.offsets.start_offset, started.offsets.end_offset)?;
        Ok(upload)
    }

    /// Uploads the whole video: start, every chunk, finish.
    ///
    /// # Errors
    /// As [`VideoUploadBuilder::start`], [`VideoUpload::transfer_next`] and
    /// [`VideoUpload::finish`].
    pub async fn send(self) -> Result<VideoId> {
        self.start().await?.finish().await
    }
}

/// A chunked upload in progress.
///
/// Meta decides the byte ranges: every answer carries the next `start_offset` and
/// `end_offset`, and the upload is complete when they are equal. Each chunk POST is
/// marked idempotent: re-sending the bytes of the same range is exactly what Meta's
/// resumable protocol expects, and if an earlier attempt did land Meta answers with
/// subcode [`VIDEO_OFFSET_MISMATCH_SUBCODE`] and the offsets it wants next, from which
/// the upload resumes. So a chunk can never be applied twice.
pub struct VideoUpload {
    client: Client,
    page: PageId,
    session_id: String,
    video_id: VideoId,
    file_name: String,
    details: VideoDetails,
    data: Bytes,
    start: u64,
    end: u64,
    /// Chunk-level retries left (transient errors and offset resyncs) for the whole
    /// upload: `max(file_size / 10 MiB, 2)`, as Meta's Python uploader allows.
    retries_left: u64,
}

impl fmt::Debug for VideoUpload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VideoUpload")
            .field("page", &self.page)
            .field("session_id", &self.session_id)
            .field("video_id", &self.video_id)
            .field("start", &self.start)
            .field("end", &self.end)
            .field("len", &self.data.len())
            .field("retries_left", &self.retries_left)
            .finish_non_exhaustive()
    }
}

impl VideoUpload {
    /// The `upload_session_id`.
    #[must_use]
    pub fn session_id(&self) -> &str {
        &self.session_id
    }
    /// The video being uploaded.
    #[must_use]
    pub fn video_id(&self) -> &VideoId {
        &self.video_id
    }
    /// The byte range Meta asked for next (`start_offset`, `end_offset`): save it with
    /// the session and video ids to resume later ([`Pages::resume_video_upload`]).
    #[must_use]
    pub fn offsets(&self) -> (u64, u64) {
        (self.start, self.end)
    }
    /// Bytes Meta has confirmed so far (the next `start_offset`) and the file size.
    #[must_use]
    pub fn progress(&self) -> (u64, u64) {
        (self.start, len_u64(&self.data))
    }
    /// Whether every byte has been transferred.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.start >= self.end
    }
    /// Title, description and publishing options sent with `finish`.
    pub fn details_mut(&mut self) -> &mut VideoDetails {
        &mut self.details
    }

    fn set_offsets(&mut self, start: Option<u64>, end: Option<u64>) -> Result<()> {
        let len = len_u64(&self.data);
        match (start, end) {
            (Some(s), Some(e)) if s <= e && e <= len => {
                self.start = s;
                self.end = e;
                Ok(())
            }
            (s, e) => Err(Error::Meta(meta_core::Error::config(format!(
                "Meta asked for bytes {s:?}..{e:?} of a {len}-byte video"
            )))),
        }
    }

    /// Sends the next chunk. Returns `true` once every byte is transferred.
    ///
    /// A chunk that fails with a transient error is sent again after a one-second
    /// pause on the client's clock; one refused with subcode
    /// [`VIDEO_OFFSET_MISMATCH_SUBCODE`] is replaced by the range in Meta's
    /// `error_data`. Both draw on one budget for the whole upload (see the struct docs).
    ///
    /// # Errors
    /// [`Error::Meta`] when a chunk fails for another reason, the budget is spent, or
    /// Meta asks for a range outside the file.
    pub async fn transfer_next(&mut self) -> Result<bool> {
        loop {
            if self.is_complete() {
                return Ok(true);
            }
            let (Ok(start), Ok(end)) = (usize::try_from(self.start), usize::try_from(self.end))
            else {
                return Err(Error::Meta(meta_core::Error::config("offset out of range")));
            };
            let req = GraphRequest::post(format!("{}/videos", self.page))
                .param("upload_phase", "transfer")
                .param("upload_session_id", &self.session_id)
                .param("start_offset", self.start)
                .file(FilePart {
                    field: "video_file_chunk".to_owned(),
                    file_name: self.file_name.clone(),
                    content_type: "application/octet-stream".to_owned(),
                    data: self.data.slice(start..end),
                })
                // Safe to repeat: see the struct docs.
                .idempotent(true);
            match self.client.execute::<Offsets>(req).await {
                Ok(resp) => {
                    let o = resp.into_data();
                    self.set_offsets(o.start_offset, o.end_offset)?;
                    return Ok(self.is_complete());
                }
                Err(e) => {
                    if self.retries_left == 0 {
                        return Err(e.into());
                    }
                    if let Some((s, en)) = expected_offsets(&e) {
                        tracing::info!(
                            start = s,
                            end = en,
                            "video upload resyncing to Meta's offsets"
                        );
                        self.retries_left -= 1;
                        self.set_offsets(Some(s), Some(en))?;
                        continue;
                    }
                    let transient =
                        e.is_retryable() || e.api().and_then(ApiError::is_transient) == Some(true);
                    if !transient {
                        return Err(e.into());
                    }
                    tracing::info!(error = %e, "video chunk failed; retrying");
                    self.retries_left -= 1;
                    self.client.clock().sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// Transfers the remaining chunks, then closes the upload (`upload_phase=finish`
    /// with the title, description and publishing options).
    ///
    /// # Errors
    /// As [`VideoUpload::transfer_next`]; [`Error::Invalid`] when the details are
    /// invalid (checked before any remaining call); [`Error::Meta`] when finish fails
    /// or Meta answers `{"success": false}`.
    pub async fn finish(mut self) -> Result<VideoId> {
        self.details.validate(now(&self.client))?;
        while !self.transfer_next().await? {}
        let mut params = Params::new()
            .set("upload_phase", "finish")
            .set("upload_session_id", &self.session_id);
        self.details.apply(&mut params);
        let done: Success = self
            .client
            .execute(GraphRequest::post(format!("{}/videos", self.page)).params(params))
            .await?
            .into_data();
        if done.success != Some(true) {
            return Err(unsuccessful("upload_phase=finish"));
        }
        Ok(self.video_id)
    }
}

/// The offsets in a subcode-1363037 error's `error_data`, when present.
fn expected_offsets(e: &meta_core::Error) -> Option<(u64, u64)> {
    let api = e.api()?;
    if api.subcode() != Some(VIDEO_OFFSET_MISMATCH_SUBCODE) {
        return None;
    }
    let data = api.error_data()?;
    let num = |k: &str| match data.get(k)? {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    Some((num("start_offset")?, num("end_offset")?))
}

/// The upload's chunk-level retry budget: `max(file_size / 10 MiB, 2)`.
fn chunk_retry_budget(len: u64) -> u64 {
    (len / (10 * 1024 * 1024)).max(2)
}

#[derive(Debug, Deserialize)]
struct Offsets {
    #[serde(default, deserialize_with = "crate::serde_util::opt_u64")]
    start_offset: Option<u64>,
    #[serde(default, deserialize_with = "crate::serde_util::opt_u64")]
    end_offset: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct UploadStarted {
    upload_session_id: String,
    video_id: VideoId,
    #[serde(flatten)]
    offsets: Offsets,
}

// ----------------------------------------------------------------------------------
// Shared helpers
// ----------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct Created<T> {
    id: T,
}

#[derive(Debug, Deserialize)]
struct Success {
    #[serde(default, deserialize_with = "crate::serde_util::opt_bool")]
    success: Option<bool>,
}

fn unsuccessful(what: &str) -> Error {
    Error::Meta(meta_core::Error::from(ApiError::new(
        0,
        format!("Meta answered {{\"success\": false}} to {what}"),
    )))
}

async fn delete_node(client: &Client, id: &str) -> Result<()> {
    let done: Success = client.execute(GraphRequest::delete(id)).await?.into_data();
    if done.success == Some(true) {
        Ok(())
    } else {
        Err(unsuccessful(&format!("DELETE /{id}")))
    }
}

fn now(client: &Client) -> u64 {
    client.clock().unix_secs()
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn len_u64(b: &Bytes) -> u64 {
    u64::try_from(b.len()).unwrap_or(u64::MAX)
}

fn check_id<T>(
    field: &str,
    parsed: std::result::Result<T, meta_core::IdError>,
) -> Result<(), InvalidInput> {
    parsed
        .map(|_| ())
        .map_err(|e| InvalidInput::new(field, e.to_string()))
}

fn check_text_len(field: &str, text: &str) -> Result<(), InvalidInput> {
    let n = text.chars().count();
    if n > MAX_MESSAGE_CHARS {
        return Err(InvalidInput::new(
            field,
            format!("{n} characters; Facebook allows at most {MAX_MESSAGE_CHARS}"),
        ));
    }
    Ok(())
}

fn check_http_url(field: &str, raw: &str) -> Result<(), InvalidInput> {
    let url = url::Url::parse(raw.trim())
        .map_err(|e| InvalidInput::new(field, format!("`{raw}` is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(InvalidInput::new(
            field,
            format!("`{raw}` must be an http(s) URL with a host"),
        ));
    }
    Ok(())
}

fn check_file_name(name: &str) -> Result<(), InvalidInput> {
    if name.trim().is_empty() || name.contains(['"', '\r', '\n', '/', '\\']) {
        return Err(InvalidInput::new(
            "file_name",
            "must be a plain file name without quotes, slashes or line breaks",
        ));
    }
    Ok(())
}

/// Meta's scheduling rules: `published=false` with a time 10 minutes – 30 days ahead.
fn check_schedule(
    published: Option<bool>,
    at: Option<u64>,
    now_unix: u64,
) -> Result<(), InvalidInput> {
    let Some(at) = at else {
        return Ok(());
    };
    if published == Some(true) {
        return Err(InvalidInput::new(
            "published",
            "a scheduled post is sent with published=false; do not set published(true)",
        ));
    }
    let earliest = now_unix.saturating_add(MIN_SCHEDULE_LEAD.as_secs());
    let latest = now_unix.saturating_add(MAX_SCHEDULE_LEAD.as_secs());
    if at < earliest || at > latest {
        return Err(InvalidInput::new(
            "scheduled_publish_time",
            format!(
                "{at} is {}; Meta accepts 10 minutes to 30 days ahead ({earliest}..={latest})",
                describe_offset(at, now_unix)
            ),
        ));
    }
    Ok(())
}

fn describe_offset(at: u64, now_unix: u64) -> String {
    if at >= now_unix {
        format!("{} s ahead", at - now_unix)
    } else {
        format!("{} s in the past", now_unix - at)
    }
}

fn insert_schedule(params: &mut Params, published: Option<bool>, at: Option<u64>) {
    match at {
        Some(t) => {
            params.insert("published", false);
            params.insert("scheduled_publish_time", t);
        }
        None => {
            if let Some(p) = published {
                params.insert("published", p);
            }
        }
    }
}

/// The image MIME type of `bytes` from its magic number.
#[must_use]
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.starts_with(b"BM") && bytes.len() > 14 {
        Some("image/bmp")
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        Some("image/tiff")
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if bytes.len() >= 12
        && &bytes[4..8] == b"ftyp"
        && matches!(&bytes[8..12], b"heic" | b"heix" | b"mif1" | b"msf1")
    {
        Some("image/heif")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: u64 = 1_800_000_000;

    fn page() -> PageId {
        PageId::new("111")
    }

    fn field_of(r: Result<(), InvalidInput>) -> String {
        r.unwrap_err().field().to_owned()
    }

    #[test]
    fn feed_post_request_is_plain_data() {
        let post = FeedPost {
            message: Some("hola".into()),
            link: Some("https://example.com/a?b=c".into()),
            scheduled_publish_time: Some(NOW + 3600),
            attached_media: vec![PhotoId::new("9"), PhotoId::new("10")],
            ..FeedPost::default()
        };
        post.validate(NOW).unwrap();
        let req = post.to_request(&page());
        assert_eq!(req.method(), http::Method::POST);
        assert_eq!(req.path(), "111/feed");
        let p = req.get_params();
        assert_eq!(p.get("message"), Some(&json!("hola")));
        assert_eq!(p.get("link"), Some(&json!("https://example.com/a?b=c")));
        assert_eq!(p.get("published"), Some(&json!(false)));
        assert_eq!(p.get("scheduled_publish_time"), Some(&json!(NOW + 3600)));
        assert_eq!(
            p.get("attached_media"),
            Some(&json!([{"media_fbid": "9"}, {"media_fbid": "10"}]))
        );
        assert!(!req.is_idempotent(), "a feed POST is never retried blindly");
        // Unscheduled: no published param unless set.
        let plain = FeedPost {
            message: Some("x".into()),
            ..FeedPost::default()
        };
        assert_eq!(
            plain.to_request(&page()).get_params().get("published"),
            None
        );
    }

    #[test]
    fn feed_post_validation() {
        assert_eq!(field_of(FeedPost::default().validate(NOW)), "message");
        let blank = FeedPost {
            message: Some("  \n".into()),
            ..FeedPost::default()
        };
        assert_eq!(field_of(blank.validate(NOW)), "message");
        let long = FeedPost {
            message: Some("é".repeat(MAX_MESSAGE_CHARS + 1)),
            ..FeedPost::default()
        };
        assert_eq!(field_of(long.validate(NOW)), "message");
        let exact = FeedPost {
            message: Some("é".repeat(MAX_MESSAGE_CHARS)),
            ..FeedPost::default()
        };
        exact.validate(NOW).unwrap();
        for bad in [
            "ftp://example.com/x",
            "example.com",
            "javascript:alert(1)",
            "http://",
        ] {
            let p = FeedPost {
                link: Some(bad.into()),
                ..FeedPost::default()
            };
            assert_eq!(field_of(p.validate(NOW)), "link", "{bad}");
        }
        let link_only = FeedPost {
            link: Some("http://example.com".into()),
            ..FeedPost::default()
        };
        link_only.validate(NOW).unwrap();
    }

    #[test]
    fn schedule_window_is_ten_minutes_to_thirty_days() {
        let at = |t: u64| FeedPost {
            message: Some("m".into()),
            scheduled_publish_time: Some(t),
            ..FeedPost::default()
        };
        for ok in [NOW + 600, NOW + 3600, NOW + 30 * 86_400] {
            at(ok).validate(NOW).unwrap();
        }
        for bad in [0, NOW - 1, NOW, NOW + 599, NOW + 30 * 86_400 + 1] {
            let e = at(bad).validate(NOW).unwrap_err();
            assert_eq!(e.field(), "scheduled_publish_time", "{bad}");
        }
        let mut published = at(NOW + 3600);
        published.published = Some(true);
        assert_eq!(field_of(published.validate(NOW)), "published");
    }

    #[test]
    fn photo_validation_and_sniffing() {
        let jpeg = Bytes::from_static(b"\xff\xd8\xff\xe0rest-of-a-jpeg");
        let png = Bytes::from_static(b"\x89PNG\r\n\x1a\nrest");
        assert_eq!(sniff_image(&jpeg), Some("image/jpeg"));
        assert_eq!(sniff_image(&png), Some("image/png"));
        assert_eq!(sniff_image(b"GIF89a..."), Some("image/gif"));
        assert_eq!(sniff_image(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff_image(b"hello"), None);
        assert_eq!(sniff_image(b""), None);

        PhotoUpload::new(PhotoSource::bytes(jpeg.clone()))
            .validate(NOW)
            .unwrap();
        PhotoUpload::new(PhotoSource::bytes(jpeg.clone()).with_content_type("image/jpg"))
            .validate(NOW)
            .unwrap();
        let cases = [
            (PhotoSource::bytes(Bytes::new()), "source"),
            (PhotoSource::bytes(&b"plain text"[..]), "source"),
            (
                PhotoSource::bytes([0xFF_u8, 0xD8, 0xFF].repeat(MAX_PHOTO_BYTES / 3 + 1)),
                "source",
            ),
            (
                PhotoSource::bytes(jpeg.clone()).with_content_type("image/png"),
                "content_type",
            ),
            (
                PhotoSource::bytes(png.clone()).with_content_type("application/pdf"),
                "content_type",
            ),
            (
                PhotoSource::bytes(png.clone()).with_file_name("a\"b.png"),
                "file_name",
            ),
            (PhotoSource::url("file:///etc/passwd"), "source"),
            (PhotoSource::url("not a url"), "source"),
        ];
        for (source, field) in cases {
            let dbg = format!("{source:?}");
            assert_eq!(
                field_of(PhotoUpload::new(source).validate(NOW)),
                field,
                "{dbg}"
            );
        }
        let mut temp = PhotoUpload::new(PhotoSource::url("https://example.com/a.jpg"));
        temp.temporary = Some(true);
        assert_eq!(field_of(temp.validate(NOW)), "temporary");
        temp.published = Some(false);
        temp.validate(NOW).unwrap();
        let mut long = PhotoUpload::new(PhotoSource::url("https://example.com/a.jpg"));
        long.caption = Some("x".repeat(MAX_MESSAGE_CHARS + 1));
        assert_eq!(field_of(long.validate(NOW)), "caption");
    }

    #[test]
    fn photo_request_by_url() {
        let mut up = PhotoUpload::new(PhotoSource::url("https://example.com/a.jpg"));
        up.caption = Some("cap".into());
        up.published = Some(false);
        up.temporary = Some(true);
        let req = up.to_request(&page());
        assert_eq!(req.path(), "111/photos");
        let p = req.get_params();
        assert_eq!(p.get("url"), Some(&json!("https://example.com/a.jpg")));
        assert_eq!(p.get("caption"), Some(&json!("cap")));
        assert_eq!(p.get("published"), Some(&json!(false)));
        assert_eq!(p.get("temporary"), Some(&json!(true)));
        assert!(format!("{:?}", PhotoSource::bytes(vec![1u8; 9])).contains("len: 9"));
    }

    #[test]
    fn offsets_come_from_error_data() {
        let body = json!({"error": {"message": "(#6001) There was a problem uploading your video file.",
            "code": 6001, "error_subcode": 1_363_037,
            "error_data": "{\"start_offset\":\"1048576\",\"end_offset\":2097152}"}});
        let api = ApiError::from_body(
            None,
            body.to_string().as_bytes(),
            meta_core::Usage::default(),
        )
        .unwrap();
        assert_eq!(
            expected_offsets(&meta_core::Error::from(api)),
            Some((1_048_576, 2_097_152))
        );
        let other = ApiError::new(6001, "x").with_subcode(1);
        assert_eq!(expected_offsets(&meta_core::Error::from(other)), None);
        assert_eq!(chunk_retry_budget(1), 2);
        assert_eq!(chunk_retry_budget(100 * 1024 * 1024), 10);
    }

    #[test]
    fn video_details_go_with_the_request() {
        let d = VideoDetails {
            title: Some("T".into()),
            description: Some("D".into()),
            scheduled_publish_time: Some(NOW + 700),
            ..VideoDetails::default()
        };
        d.validate(NOW).unwrap();
        let mut p = Params::new();
        d.apply(&mut p);
        assert_eq!(p.get("title"), Some(&json!("T")));
        assert_eq!(p.get("published"), Some(&json!(false)));
        let late = VideoDetails {
            scheduled_publish_time: Some(NOW + 31 * 86_400),
            ..VideoDetails::default()
        };
        assert_eq!(field_of(late.validate(NOW)), "scheduled_publish_time");
    }
}
