//! Instagram content publishing: media containers, their processing states, publishing
//! with the 24-hour quota, `content_publishing_limit`, published media, and the
//! resumable-upload host (`rupload`).
//!
//! Meta's flow ([DOC] developers.facebook.com/docs/instagram-platform/content-publishing):
//! `POST /{ig-user-id}/media` creates a container, which Meta processes (downloads the
//! media) before it can be published with `POST /{ig-user-id}/media_publish`. Here a
//! container is `IN_PROGRESS` until a configurable delay has passed on the sandbox clock,
//! then `FINISHED`, or `ERROR` when its media is unreachable or not a JPEG image;
//! `EXPIRED` 24 h after creation unless published; `PUBLISHED` after `media_publish`.
//! States are computed when read, so advancing the sandbox clock is all a test needs.
//!
//! Where the facts guide gives no wire detail (status texts, most error codes and
//! messages), the values follow what Meta is widely reported to send and are marked
//! [MEM] in comments.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use http::Method;
use serde_json::{Map, Value, json};

use super::{Ctx, Outcome, select};
use crate::error::GraphError;
use crate::pagination::{self, LinkBase, Quirks};
use crate::state::{Object, RecordedRequest, Shared};
use crate::time::graph_time;
use crate::tokens::{self, TokenKind};

/// Instagram publishing behaviour of the sandbox. Durations are on the sandbox clock.
///
/// ```
/// use std::time::Duration;
/// use meta_sandbox::InstagramConfig;
/// let ig = InstagramConfig::default().image_processing(Duration::ZERO).quota_total(2);
/// assert_eq!(ig.quota_total, 2);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InstagramConfig {
    /// How long an image container (and a carousel container) stays `IN_PROGRESS`.
    /// Default 5 s.
    pub image_processing: Duration,
    /// How long a video container (reel, video story, video carousel item) stays
    /// `IN_PROGRESS`. Default 30 s.
    pub video_processing: Duration,
    /// After this long an unpublished container is `EXPIRED`. Default 24 h, as Meta
    /// documents.
    pub container_ttl: Duration,
    /// Posts an account may publish per [`InstagramConfig::quota_duration`]; reported as
    /// `config.quota_total` by `content_publishing_limit`. Default 100 (the content
    /// publishing guide's figure; Meta's pages also say 25 and 50).
    pub quota_total: u32,
    /// The moving window of the quota. Default 24 h (`quota_duration: 86400`).
    pub quota_duration: Duration,
}

impl Default for InstagramConfig {
    fn default() -> Self {
        Self {
            image_processing: Duration::from_secs(5),
            video_processing: Duration::from_secs(30),
            container_ttl: Duration::from_secs(24 * 3600),
            quota_total: 100,
            quota_duration: Duration::from_secs(24 * 3600),
        }
    }
}

impl InstagramConfig {
    /// Sets [`InstagramConfig::image_processing`].
    #[must_use]
    pub fn image_processing(mut self, d: Duration) -> Self {
        self.image_processing = d;
        self
    }
    /// Sets [`InstagramConfig::video_processing`].
    #[must_use]
    pub fn video_processing(mut self, d: Duration) -> Self {
        self.video_processing = d;
        self
    }
    /// Sets [`InstagramConfig::container_ttl`].
    #[must_use]
    pub fn container_ttl(mut self, d: Duration) -> Self {
        self.container_ttl = d;
        self
    }
    /// Sets [`InstagramConfig::quota_total`].
    #[must_use]
    pub fn quota_total(mut self, n: u32) -> Self {
        self.quota_total = n;
        self
    }
    /// Sets [`InstagramConfig::quota_duration`].
    #[must_use]
    pub fn quota_duration(mut self, d: Duration) -> Self {
        self.quota_duration = d;
        self
    }
}

/// Per-account publishing history (the quota is a moving window over it).
#[derive(Debug, Default)]
pub(crate) struct IgState {
    /// Publish times (unix seconds) per IG user id.
    publishes: HashMap<String, Vec<u64>>,
}

/// What a container holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContainerKind {
    Image,
    /// `media_type=VIDEO`, carousel items only.
    Video,
    Reel,
    Story {
        video: bool,
    },
    Carousel,
}

impl ContainerKind {
    fn is_video(self) -> bool {
        matches!(self, Self::Video | Self::Reel | Self::Story { video: true })
    }
}

/// A media container (`POST /{ig-user-id}/media`).
#[derive(Debug, Clone)]
pub(crate) struct IgContainer {
    id: String,
    ig_user_id: String,
    kind: ContainerKind,
    is_carousel_item: bool,
    media_url: Option<String>,
    caption: Option<String>,
    children: Vec<String>,
    created_at: u64,
    /// When processing ends; `None` while a resumable upload waits for its bytes.
    ready_at: Option<u64>,
    /// Meta's `status` text when processing fails.
    failure: Option<String>,
    published_media: Option<String>,
}

/// A published media object.
#[derive(Debug, Clone)]
pub(crate) struct IgMedia {
    id: String,
    ig_user_id: String,
    seq: u64,
    media_type: &'static str,
    media_product_type: &'static str,
    caption: Option<String>,
    media_url: Option<String>,
    timestamp: u64,
    children: Vec<String>,
}

const CONTAINER_FIELDS: &[&str] = &["id", "status", "status_code"];
const MEDIA_FIELDS: &[&str] = &[
    "id",
    "caption",
    "media_type",
    "media_product_type",
    "media_url",
    "permalink",
    "shortcode",
    "timestamp",
    "username",
    "owner",
    "children",
];
/// Meta's caption limit ([MEM]; third parties agree on 2,200).
const MAX_CAPTION_CHARS: usize = 2200;

/// Routes the Instagram paths: the IG user's `media`, `media_publish` and
/// `content_publishing_limit` edges, and the container and media nodes.
pub(crate) fn route(
    ctx: &mut Ctx<'_>,
    method: &Method,
    id: &str,
    obj: &Object,
    rest: &[&str],
) -> Option<Outcome> {
    let get = *method == Method::GET;
    let post = *method == Method::POST;
    let out = match (obj, rest) {
        (Object::IgUser(_), ["media"]) if post => create_container(ctx, id),
        (Object::IgUser(_), ["media"]) if get => list_media(ctx, id),
        (Object::IgUser(_), ["media_publish"]) if post => publish(ctx, id),
        (Object::IgUser(_), ["content_publishing_limit"]) if get => publishing_limit(ctx, id),
        (Object::IgContainer(c), []) if get => get_container(ctx, c),
        (Object::IgMedia(m), []) if get => get_media(ctx, m),
        (Object::IgMedia(m), ["children"]) if get => media_children(ctx, m),
        _ => return None,
    };
    Some(out)
}

/// The Page linked to `ig_user_id`.
fn linked_page(ctx: &Ctx<'_>, ig_user_id: &str) -> Option<String> {
    ctx.st.objects.values().find_map(|o| match o {
        Object::Page(p) if p.ig_user_id.as_deref() == Some(ig_user_id) => Some(p.id.clone()),
        _ => None,
    })
}

/// Publishing needs a token of the fixture user (who manages every seeded Page) or the
/// linked Page's own token. [MEM] Meta answers `(#10)` without `instagram_content_publish`.
fn authorize(ctx: &Ctx<'_>, ig_user_id: &str) -> Result<(), GraphError> {
    let page = linked_page(ctx, ig_user_id);
    let ok = match ctx.token.kind {
        TokenKind::User => ctx.token.user_id == ctx.shared.fixtures.user_id && page.is_some(),
        TokenKind::Page => page.is_some() && ctx.token.page_id == page,
        TokenKind::App => false,
    };
    if ok {
        Ok(())
    } else {
        Err(GraphError::new(
            "OAuthException",
            10,
            "(#10) Application does not have permission for this action",
        )
        .status(403))
    }
}

fn secs(d: Duration) -> u64 {
    d.as_secs()
}

/// The container's `status_code` and `status` at `now`.
fn container_state(c: &IgContainer, cfg: &InstagramConfig, now: u64) -> (&'static str, String) {
    // [MEM] status texts as Meta is reported to phrase them.
    if c.published_media.is_some() {
        return (
            "PUBLISHED",
            "Published: Media has been successfully published.".to_owned(),
        );
    }
    if now >= c.created_at.saturating_add(secs(cfg.container_ttl)) {
        return (
            "EXPIRED",
            "Expired: The media container was not published within 24 hours.".to_owned(),
        );
    }
    match c.ready_at {
        Some(t) if now >= t => match &c.failure {
            Some(text) => ("ERROR", text.clone()),
            None => (
                "FINISHED",
                "Finished: Media has been uploaded and it is ready to be published.".to_owned(),
            ),
        },
        Some(_) => (
            "IN_PROGRESS",
            "In Progress: Media is still being processed.".to_owned(),
        ),
        None => (
            "IN_PROGRESS",
            "In Progress: Waiting for the media upload.".to_owned(),
        ),
    }
}

/// Why Meta would fail to process `url` (as `status` text), or `None`.
///
/// The sandbox never downloads anything: hosts under `.invalid` and paths containing
/// `404` stand for unreachable media; images whose extension is not JPEG stand for the
/// formats Meta refuses ("JPEG is the only image format supported").
fn processing_failure(url: &str, image: bool) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed.host_str().unwrap_or_default();
    if host.ends_with(".invalid") || parsed.path().contains("404") {
        // [MEM] 2207052: "The media could not be fetched from this URI".
        return Some(
            "Error: Media download has failed. The media URI doesn't meet our requirements. (2207052)"
                .to_owned(),
        );
    }
    if image {
        let ext = parsed
            .path()
            .rsplit('/')
            .next()
            .and_then(|name| name.rsplit_once('.'))
            .map(|(_, e)| e.to_ascii_lowercase());
        if let Some(ext) = ext
            && !matches!(ext.as_str(), "jpg" | "jpeg")
        {
            // [MEM] 2207026: unsupported media format.
            return Some(format!(
                "Error: Unsupported image format `{ext}`: only JPEG images can be published. (2207026)"
            ));
        }
    }
    None
}

fn valid_http_url(v: &str) -> bool {
    url::Url::parse(v).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

fn parse_bool(v: Option<&str>) -> bool {
    matches!(
        v.map(|s| s.trim().to_ascii_lowercase()).as_deref(),
        Some("true" | "1")
    )
}

/// `POST /{ig-user-id}/media`.
fn create_container(ctx: &mut Ctx<'_>, ig_user_id: &str) -> Outcome {
    authorize(ctx, ig_user_id)?;
    let p = &ctx.req.params;
    let media_type = p.non_empty("media_type").map(str::to_ascii_uppercase);
    let image_url = p.non_empty("image_url").map(str::to_owned);
    let video_url = p.non_empty("video_url").map(str::to_owned);
    let caption = p.non_empty("caption").map(str::to_owned);
    let is_item = parse_bool(p.get("is_carousel_item"));
    let resumable = p.non_empty("upload_type") == Some("resumable");
    let children_raw = p.non_empty("children").map(str::to_owned);
    for (name, v) in [
        ("image_url", &image_url),
        ("video_url", &video_url),
        ("cover_url", &p.non_empty("cover_url").map(str::to_owned)),
    ] {
        if let Some(v) = v
            && !valid_http_url(v)
        {
            return Err(GraphError::param(format!(
                "(#100) The parameter {name} must be a valid http(s) URL"
            )));
        }
    }
    if let Some(c) = &caption
        && c.chars().count() > MAX_CAPTION_CHARS
    {
        // [MEM] message.
        return Err(GraphError::param(
            "(#100) The caption is too long: it can have at most 2200 characters",
        ));
    }
    let need = |v: &Option<String>, name: &str| -> Result<String, GraphError> {
        v.clone()
            .ok_or_else(|| GraphError::param(format!("(#100) The parameter {name} is required")))
    };
    let kind = match media_type.as_deref() {
        None | Some("IMAGE") => ContainerKind::Image,
        Some("VIDEO") if is_item => ContainerKind::Video,
        Some("VIDEO") => {
            // Since 2023-07 single feed videos are reels; VIDEO is for carousel items only.
            return Err(GraphError::param(
                "(#100) The media_type VIDEO is only supported for carousel items; use REELS",
            ));
        }
        Some("REELS") if is_item => {
            return Err(GraphError::param("(#100) Reels cannot be carousel items"));
        }
        Some("REELS") => ContainerKind::Reel,
        Some("STORIES") => ContainerKind::Story {
            video: video_url.is_some() || (resumable && image_url.is_none()),
        },
        Some("CAROUSEL") => ContainerKind::Carousel,
        Some(other) => {
            return Err(GraphError::param(format!(
                "(#100) Param media_type must be one of {{IMAGE, VIDEO, REELS, STORIES, CAROUSEL}}, got {other}"
            )));
        }
    };
    let now = ctx.now;
    let cfg = ctx.shared.config.instagram.clone();
    let mut children = Vec::new();
    let (media_url, ready_at, failure) = match kind {
        ContainerKind::Image | ContainerKind::Story { video: false } => {
            let url = need(&image_url, "image_url")?;
            let failure = processing_failure(&url, true);
            (Some(url), Some(now + secs(cfg.image_processing)), failure)
        }
        ContainerKind::Video | ContainerKind::Reel | ContainerKind::Story { video: true } => {
            if resumable && video_url.is_none() {
                (None, None, None)
            } else {
                let url = need(&video_url, "video_url")?;
                let failure = processing_failure(&url, false);
                (Some(url), Some(now + secs(cfg.video_processing)), failure)
            }
        }
        ContainerKind::Carousel => {
            let raw = need(&children_raw, "children")?;
            children = raw
                .trim_matches(|c| c == '[' || c == ']')
                .split(',')
                .map(|s| s.trim().trim_matches('"').to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            if !(2..=10).contains(&children.len()) {
                // [MEM] message; the 2–10 range is the documented one.
                return Err(GraphError::param(format!(
                    "(#100) A carousel must have between 2 and 10 children, got {}",
                    children.len()
                )));
            }
            for child in &children {
                check_child(ctx, ig_user_id, child, &cfg)?;
            }
            (None, Some(now + secs(cfg.image_processing)), None)
        }
    };
    let id = ctx.st.mint_id("179", 14);
    let container = IgContainer {
        id: id.clone(),
        ig_user_id: ig_user_id.to_owned(),
        kind,
        is_carousel_item: is_item,
        media_url,
        caption: if is_item { None } else { caption },
        children,
        created_at: now,
        ready_at,
        failure,
        published_media: None,
    };
    ctx.st
        .objects
        .insert(id.clone(), Object::IgContainer(container));
    ctx.applied = true;
    if resumable {
        // The documented answer of a resumable container: its id and the upload URI.
        let uri = format!("{}/ig-api-upload/{}/{id}", ctx.shared.base_url, ctx.version);
        return Ok(json!({ "id": id, "uri": uri }));
    }
    Ok(json!({ "id": id }))
}

/// A carousel child must be this account's `FINISHED` carousel item.
fn check_child(
    ctx: &Ctx<'_>,
    ig_user_id: &str,
    child: &str,
    cfg: &InstagramConfig,
) -> Result<(), GraphError> {
    let Some(Object::IgContainer(c)) = ctx.st.objects.get(child) else {
        return Err(GraphError::param(format!(
            "(#100) The carousel child {child} is not a media container"
        )));
    };
    if c.ig_user_id != ig_user_id || !c.is_carousel_item {
        return Err(GraphError::param(format!(
            "(#100) The container {child} was not created with is_carousel_item=true for this account"
        )));
    }
    let (code, _) = container_state(c, cfg, ctx.now);
    if code != "FINISHED" {
        // [MEM] Meta answers 9007 / 2207027 when media is not ready yet.
        return Err(GraphError::new(
            "OAuthException",
            9007,
            format!("(#9007) The carousel child {child} is not ready ({code})"),
        )
        .subcode(2_207_027));
    }
    Ok(())
}

fn container_json(c: &IgContainer, cfg: &InstagramConfig, now: u64) -> Map<String, Value> {
    let (code, text) = container_state(c, cfg, now);
    let mut m = Map::new();
    m.insert("id".into(), json!(c.id));
    m.insert("status".into(), json!(text));
    m.insert("status_code".into(), json!(code));
    m
}

/// `GET /{container-id}`.
fn get_container(ctx: &mut Ctx<'_>, c: &IgContainer) -> Outcome {
    authorize(ctx, &c.ig_user_id)?;
    let fields = ctx.fields(CONTAINER_FIELDS, &["id"], "ShadowIGMediaBuilder")?;
    let cfg = &ctx.shared.config.instagram;
    Ok(select(&container_json(c, cfg, ctx.now), &fields))
}

fn quota_usage(ctx: &Ctx<'_>, ig_user_id: &str) -> usize {
    let window = secs(ctx.shared.config.instagram.quota_duration);
    let since = ctx.now.saturating_sub(window);
    ctx.st
        .instagram
        .publishes
        .get(ig_user_id)
        .map_or(0, |v| v.iter().filter(|t| **t > since).count())
}

/// `GET /{ig-user-id}/content_publishing_limit`. Without `fields` only `quota_usage`
/// comes back, as Meta documents.
fn publishing_limit(ctx: &mut Ctx<'_>, ig_user_id: &str) -> Outcome {
    authorize(ctx, ig_user_id)?;
    let fields = ctx.fields(
        &["quota_usage", "config"],
        &["quota_usage"],
        "ContentPublishingLimitResponse",
    )?;
    let cfg = &ctx.shared.config.instagram;
    let mut m = Map::new();
    m.insert("quota_usage".into(), json!(quota_usage(ctx, ig_user_id)));
    m.insert(
        "config".into(),
        json!({"quota_total": cfg.quota_total, "quota_duration": secs(cfg.quota_duration)}),
    );
    Ok(json!({ "data": [select(&m, &fields)] }))
}

/// `POST /{ig-user-id}/media_publish` with `creation_id`.
fn publish(ctx: &mut Ctx<'_>, ig_user_id: &str) -> Outcome {
    authorize(ctx, ig_user_id)?;
    let Some(creation_id) = ctx.req.params.non_empty("creation_id").map(str::to_owned) else {
        return Err(GraphError::param(
            "(#100) The parameter creation_id is required",
        ));
    };
    let Some(Object::IgContainer(container)) = ctx.st.objects.get(&creation_id).cloned() else {
        return Err(GraphError::unknown_object("post", &creation_id));
    };
    if container.ig_user_id != ig_user_id {
        return Err(GraphError::unknown_object("post", &creation_id));
    }
    if container.is_carousel_item {
        return Err(GraphError::param(
            "(#100) Carousel items cannot be published on their own; publish the CAROUSEL container",
        ));
    }
    let cfg = ctx.shared.config.instagram.clone();
    let (code, text) = container_state(&container, &cfg, ctx.now);
    match code {
        "FINISHED" => {}
        "IN_PROGRESS" => {
            // [DOC/MEM] 9007 + 2207027: "Media ID is not available" — not ready yet.
            return Err(GraphError::new(
                "OAuthException",
                9007,
                "(#9007) Media ID is not available",
            )
            .subcode(2_207_027)
            .user(
                "Media not ready for publishing",
                "The media is not ready for publishing, please wait for a moment",
            ));
        }
        _ => {
            // [MEM] Meta refuses ERROR, EXPIRED and already PUBLISHED containers.
            return Err(GraphError::param(format!(
                "(#100) The media container {creation_id} cannot be published: {code} ({text})"
            )));
        }
    }
    let total = usize::try_from(cfg.quota_total).unwrap_or(usize::MAX);
    if quota_usage(ctx, ig_user_id) >= total {
        // [3P] code 9, subcode 2207042 when the publishing limit is reached; the titles
        // are [MEM].
        return Err(GraphError::new(
            "OAuthException",
            9,
            "(#9) Application request limit reached",
        )
        .subcode(2_207_042)
        .transient(false)
        .user(
            "Publishing limit reached",
            "You've reached the limit of posts this account can publish through the API in 24 hours.",
        ));
    }
    let now = ctx.now;
    let media_id = ctx.st.mint_id("178", 14);
    let seq = ctx.st.next_seq;
    ctx.st.next_seq += 1;
    let (media_type, product) = match container.kind {
        ContainerKind::Image => ("IMAGE", "FEED"),
        ContainerKind::Video => ("VIDEO", "FEED"),
        ContainerKind::Reel => ("VIDEO", "REELS"),
        ContainerKind::Story { video } => (if video { "VIDEO" } else { "IMAGE" }, "STORY"),
        ContainerKind::Carousel => ("CAROUSEL_ALBUM", "FEED"),
    };
    // Carousel children become media of their own (readable through `children`).
    let mut child_media = Vec::new();
    for child in &container.children {
        if let Some(Object::IgContainer(c)) = ctx.st.objects.get(child).cloned() {
            let cid = ctx.st.mint_id("178", 14);
            let child_seq = ctx.st.next_seq;
            ctx.st.next_seq += 1;
            ctx.st.objects.insert(
                cid.clone(),
                Object::IgMedia(IgMedia {
                    id: cid.clone(),
                    ig_user_id: ig_user_id.to_owned(),
                    seq: child_seq,
                    media_type: if c.kind.is_video() { "VIDEO" } else { "IMAGE" },
                    media_product_type: "FEED",
                    caption: None,
                    media_url: c.media_url.clone(),
                    timestamp: now,
                    children: Vec::new(),
                }),
            );
            child_media.push(cid);
        }
    }
    ctx.st.objects.insert(
        media_id.clone(),
        Object::IgMedia(IgMedia {
            id: media_id.clone(),
            ig_user_id: ig_user_id.to_owned(),
            seq,
            media_type,
            media_product_type: product,
            caption: container.caption.clone(),
            media_url: container.media_url.clone(),
            timestamp: now,
            children: child_media,
        }),
    );
    if let Some(Object::IgContainer(c)) = ctx.st.objects.get_mut(&creation_id) {
        c.published_media = Some(media_id.clone());
    }
    ctx.st
        .edge_mut(ig_user_id, "media")
        .insert(0, media_id.clone());
    ctx.st
        .instagram
        .publishes
        .entry(ig_user_id.to_owned())
        .or_default()
        .push(now);
    ctx.applied = true;
    Ok(json!({ "id": media_id }))
}

fn username(ctx: &Ctx<'_>, ig_user_id: &str) -> String {
    match ctx.st.objects.get(ig_user_id) {
        Some(Object::IgUser(u)) => u.username.clone(),
        _ => String::new(),
    }
}

fn media_json(ctx: &Ctx<'_>, m: &IgMedia) -> Map<String, Value> {
    let shortcode: String = m.id.chars().rev().take(11).collect();
    let mut out = Map::new();
    out.insert("id".into(), json!(m.id));
    if let Some(c) = &m.caption {
        out.insert("caption".into(), json!(c));
    }
    out.insert("media_type".into(), json!(m.media_type));
    out.insert("media_product_type".into(), json!(m.media_product_type));
    if let Some(u) = &m.media_url {
        out.insert("media_url".into(), json!(u));
    }
    let kind = if m.media_product_type == "REELS" {
        "reel"
    } else {
        "p"
    };
    out.insert(
        "permalink".into(),
        json!(format!("https://www.instagram.com/{kind}/{shortcode}/")),
    );
    out.insert("shortcode".into(), json!(shortcode));
    out.insert("timestamp".into(), json!(graph_time(m.timestamp)));
    out.insert("username".into(), json!(username(ctx, &m.ig_user_id)));
    out.insert("owner".into(), json!({ "id": m.ig_user_id }));
    if !m.children.is_empty() {
        let data: Vec<Value> = m.children.iter().map(|c| json!({ "id": c })).collect();
        out.insert("children".into(), json!({ "data": data }));
    }
    out
}

/// `GET /{ig-media-id}`.
fn get_media(ctx: &mut Ctx<'_>, m: &IgMedia) -> Outcome {
    authorize(ctx, &m.ig_user_id)?;
    let fields = ctx.fields(MEDIA_FIELDS, &["id"], "IGMedia")?;
    Ok(select(&media_json(ctx, m), &fields))
}

/// `GET /{ig-media-id}/children`.
fn media_children(ctx: &mut Ctx<'_>, m: &IgMedia) -> Outcome {
    authorize(ctx, &m.ig_user_id)?;
    let fields = ctx.fields(MEDIA_FIELDS, &["id"], "IGMedia")?;
    let data: Vec<Value> = m
        .children
        .iter()
        .filter_map(|id| match ctx.st.objects.get(id) {
            Some(Object::IgMedia(c)) => Some(select(&media_json(ctx, c), &fields)),
            _ => None,
        })
        .collect();
    Ok(json!({ "data": data }))
}

/// `GET /{ig-user-id}/media`: published media, newest first, with cursors.
fn list_media(ctx: &mut Ctx<'_>, ig_user_id: &str) -> Outcome {
    authorize(ctx, ig_user_id)?;
    let fields = ctx.fields(MEDIA_FIELDS, &["id"], "IGMedia")?;
    let scope = format!("{ig_user_id}/media");
    let page_req = pagination::page_request(ctx.req, &scope)?;
    let items: Vec<(u64, Value)> = ctx
        .st
        .edge(ig_user_id, "media")
        .iter()
        .filter_map(|id| match ctx.st.objects.get(id) {
            Some(Object::IgMedia(m)) => Some((m.seq, select(&media_json(ctx, m), &fields))),
            _ => None,
        })
        .collect();
    let path = ctx.rel_path();
    let base = LinkBase {
        base_url: &ctx.shared.base_url,
        version: &ctx.version,
        path: &path,
    };
    Ok(pagination::paginate(
        items,
        &page_req,
        &scope,
        &base,
        ctx.req,
        Quirks::default(),
    ))
}

/// `POST /ig-api-upload/{version}/{container-id}`: the resumable-upload host
/// (`rupload.facebook.com` at Meta), served on the sandbox's own address.
///
/// [DOC] headers `Authorization: OAuth <token>`, `offset`, `file_size` and the raw bytes;
/// [3P] success body `{"success":true,"message":"Upload successful."}`. Error bodies of
/// this host are not documented; the Graph envelope is used [MEM]. The sandbox accepts
/// one upload in a single request from `offset: 0` (what the SDK sends).
pub(crate) async fn rupload(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path((version, container_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/ig-api-upload/{version}/{container_id}");
    let result = rupload_apply(&shared, &version, &container_id, &headers, &body);
    let (status, value, applied) = match result {
        Ok(v) => (200, v, true),
        Err(e) => {
            let trace = shared.lock().trace_id();
            (e.status, e.to_json(&trace), false)
        }
    };
    shared.lock().log.push(RecordedRequest {
        method: "POST".to_owned(),
        path,
        applied,
        status: Some(status),
        in_batch: false,
    });
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (code, axum::Json(value)).into_response()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn rupload_apply(
    shared: &Shared,
    version: &str,
    container_id: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Value, GraphError> {
    if !crate::request::SUPPORTED_VERSIONS.contains(&version) {
        return Err(GraphError::unknown_path(version));
    }
    let token = header(headers, "authorization")
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("oauth"))
        .map(|(_, t)| t.trim().to_owned())
        .ok_or_else(|| {
            GraphError::new(
                "OAuthException",
                190,
                "The upload requires an `Authorization: OAuth <token>` header",
            )
        })?;
    let mut st = shared.lock();
    let now = st.now();
    let info = tokens::resolve(&st, &shared.fixtures, &token, now)?;
    let offset: u64 = header(headers, "offset")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| GraphError::param("(#100) The offset header is required"))?;
    let file_size: u64 = header(headers, "file_size")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| GraphError::param("(#100) The file_size header is required"))?;
    let Some(Object::IgContainer(c)) = st.objects.get(container_id).cloned() else {
        return Err(GraphError::unknown_object("post", container_id));
    };
    let owner_ok = match info.kind {
        TokenKind::User => info.user_id == shared.fixtures.user_id,
        TokenKind::Page => st
            .page(info.page_id.as_deref().unwrap_or_default())
            .is_some_and(|p| p.ig_user_id.as_deref() == Some(c.ig_user_id.as_str())),
        TokenKind::App => false,
    };
    if !owner_ok {
        return Err(GraphError::new(
            "OAuthException",
            10,
            "(#10) Application does not have permission for this action",
        )
        .status(403));
    }
    if c.ready_at.is_some() || !c.kind.is_video() {
        return Err(GraphError::param(format!(
            "(#100) The container {container_id} was not created with upload_type=resumable"
        )));
    }
    let len = u64::try_from(body.len()).unwrap_or(u64::MAX);
    if offset != 0 || len != file_size || file_size == 0 {
        return Err(GraphError::param(format!(
            "(#100) Expected the whole file from offset 0: offset {offset}, file_size {file_size}, received {len} bytes"
        )));
    }
    let ready = now + secs(shared.config.instagram.video_processing);
    if let Some(Object::IgContainer(c)) = st.objects.get_mut(container_id) {
        c.ready_at = Some(ready);
    }
    Ok(json!({"success": true, "message": "Upload successful."}))
}
