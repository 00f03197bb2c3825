//! Pages: the Page node, its feed (read, publish, schedule), posts, and the linked
//! Instagram account node.

use serde_json::{Map, Value, json};

use super::{Ctx, Outcome, permission, select, users};
use crate::error::GraphError;
use crate::pagination::{self, LinkBase, Quirks};
use crate::state::{Object, Post};
use crate::time::{graph_time, parse_time};
use crate::tokens::TokenKind;

const PAGE_FIELDS: &[&str] = &[
    "id",
    "name",
    "about",
    "category",
    "category_list",
    "fan_count",
    "link",
    "access_token",
    "instagram_business_account",
];
const POST_FIELDS: &[&str] = &[
    "id",
    "message",
    "created_time",
    "updated_time",
    "link",
    "is_published",
    "scheduled_publish_time",
    "permalink_url",
    "from",
];
const POST_DEFAULT: &[&str] = &["created_time", "message", "id"];
/// Scheduling window Meta accepts: 10 minutes to 30 days ahead.
const MIN_SCHEDULE_SECS: u64 = 600;
const MAX_SCHEDULE_SECS: u64 = 30 * 86_400;

/// The Page node with every field except `access_token`.
pub(crate) fn page_json(ctx: &Ctx<'_>, id: &str) -> Option<Value> {
    let p = ctx.st.page(id)?;
    let mut m = Map::new();
    m.insert("id".into(), json!(p.id));
    m.insert("name".into(), json!(p.name));
    m.insert(
        "about".into(),
        json!(format!("{} — a meta-sandbox Page.", p.name)),
    );
    m.insert("category".into(), json!(p.category));
    m.insert(
        "category_list".into(),
        json!([{"id": p.category_id, "name": p.category}]),
    );
    m.insert("fan_count".into(), json!(p.fan_count));
    m.insert(
        "link".into(),
        json!(format!("https://www.facebook.com/{}", p.id)),
    );
    if let Some(ig) = &p.ig_user_id {
        m.insert("instagram_business_account".into(), json!({ "id": ig }));
    }
    Some(Value::Object(m))
}

/// `GET /{page-id}`.
pub(crate) fn get_page(ctx: &mut Ctx<'_>, id: &str) -> Outcome {
    let fields = ctx.fields(PAGE_FIELDS, &["name", "id"], "Page")?;
    let Some(Value::Object(mut full)) = page_json(ctx, id) else {
        return Err(super::unsupported(&ctx.req.method, id));
    };
    if fields.iter().any(|f| f == "access_token") {
        let Some(token) = users::page_token_for(ctx, id) else {
            return Err(permission(
                "(#200) The access_token field requires a user access token of an admin of the Page, or the Page's own token",
            ));
        };
        full.insert("access_token".into(), json!(token));
    }
    Ok(select(&full, &fields))
}

fn post_json(post: &Post, page_name: &str, now: u64) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(post.id));
    if let Some(msg) = &post.message {
        m.insert("message".into(), json!(msg));
    }
    m.insert("created_time".into(), json!(graph_time(post.created_time)));
    m.insert("updated_time".into(), json!(graph_time(post.created_time)));
    if let Some(link) = &post.link {
        m.insert("link".into(), json!(link));
    }
    m.insert("is_published".into(), json!(post.visible(now)));
    if let Some(t) = post.scheduled_publish_time {
        m.insert("scheduled_publish_time".into(), json!(t));
    }
    let story = post.id.split('_').nth(1).unwrap_or_default();
    m.insert(
        "permalink_url".into(),
        json!(format!(
            "https://www.facebook.com/{}/posts/{story}",
            post.page_id
        )),
    );
    m.insert(
        "from".into(),
        json!({"name": page_name, "id": post.page_id}),
    );
    m
}

fn page_name(ctx: &Ctx<'_>, page_id: &str) -> String {
    ctx.st
        .page(page_id)
        .map(|p| p.name.clone())
        .unwrap_or_default()
}

/// Whether the caller holds `page_id`'s own token.
fn is_page_token(ctx: &Ctx<'_>, page_id: &str) -> bool {
    ctx.token.kind == TokenKind::Page && ctx.token.page_id.as_deref() == Some(page_id)
}

/// `GET /{page-id}/feed`, `/posts` and (`scheduled`) `/scheduled_posts`.
pub(crate) fn list_feed(ctx: &mut Ctx<'_>, page_id: &str, scheduled: bool) -> Outcome {
    if scheduled && !is_page_token(ctx, page_id) {
        return Err(permission(
            "(#200) Requires the Page's access token to read its scheduled posts",
        ));
    }
    let fields = ctx.fields(POST_FIELDS, POST_DEFAULT, "PagePost")?;
    let edge = if scheduled { "scheduled_posts" } else { "feed" };
    let scope = format!("{page_id}/{edge}");
    let page_req = pagination::page_request(ctx.req, &scope)?;
    let name = page_name(ctx, page_id);
    let now = ctx.now;
    let items: Vec<(u64, Value)> = ctx
        .st
        .edge(page_id, "feed")
        .iter()
        .filter_map(|id| ctx.st.post(id))
        .filter(|p| {
            if scheduled {
                !p.visible(now) && p.scheduled_publish_time.is_some()
            } else {
                p.visible(now)
            }
        })
        .map(|p| (p.seq, select(&post_json(p, &name, now), &fields)))
        .collect();
    let path = ctx.rel_path();
    let base = LinkBase {
        base_url: &ctx.shared.base_url,
        version: &ctx.version,
        path: &path,
    };
    let quirks = Quirks {
        loop_after_second_page: !scheduled && page_id == ctx.shared.fixtures.loop_page_id,
    };
    Ok(pagination::paginate(
        items, &page_req, &scope, &base, ctx.req, quirks,
    ))
}

fn parse_bool(value: Option<&str>, name: &str, default: bool) -> Result<bool, GraphError> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") => Ok(default),
        Some("true" | "1") => Ok(true),
        Some("false" | "0") => Ok(false),
        Some(_) => Err(GraphError::param(format!(
            "(#100) param {name} must be a boolean"
        ))),
    }
}

/// The message Meta sends when a non-Page token publishes to a Page.
const PUBLISH_PERMISSION: &str = "(#200) If posting to a page, requires both pages_read_engagement and pages_manage_posts as an admin with sufficient administrative permission";

/// Checks `scheduled_publish_time` against Meta's window ("between 10 minutes and 30
/// days from the time of the API request") and its pairing with `published=false`.
fn parse_schedule(ctx: &Ctx<'_>, published: bool) -> Result<Option<u64>, GraphError> {
    let Some(raw) = ctx.req.params.non_empty("scheduled_publish_time") else {
        return Ok(None);
    };
    let invalid = || GraphError::param("(#100) The specified scheduled publish time is invalid.");
    let t = parse_time(raw).ok_or_else(invalid)?;
    let ahead = t.saturating_sub(ctx.now);
    if t < ctx.now || !(MIN_SCHEDULE_SECS..=MAX_SCHEDULE_SECS).contains(&ahead) {
        return Err(invalid());
    }
    if published {
        return Err(GraphError::param(
            "(#100) Published posts cannot be scheduled: set published=false together with scheduled_publish_time",
        ));
    }
    Ok(Some(t))
}

/// Adds a post at the head of `page_id`'s feed and returns its id.
fn insert_post(
    ctx: &mut Ctx<'_>,
    page_id: &str,
    message: Option<String>,
    link: Option<String>,
    published: bool,
    scheduled: Option<u64>,
) -> String {
    let id = ctx.st.mint_id(&format!("{page_id}_"), 15);
    let seq = ctx.st.next_seq;
    ctx.st.next_seq += 1;
    let post = Post {
        id: id.clone(),
        page_id: page_id.to_owned(),
        seq,
        message,
        link,
        created_time: ctx.now,
        published,
        scheduled_publish_time: scheduled,
    };
    ctx.st.objects.insert(id.clone(), Object::Post(post));
    ctx.st.edge_mut(page_id, "feed").insert(0, id.clone());
    id
}

/// The photo ids of an `attached_media=[{"media_fbid":"…"},…]` parameter: each must be an
/// unpublished photo of this Page that no post uses yet.
fn attached_photos(ctx: &Ctx<'_>, page_id: &str, raw: &str) -> Result<Vec<String>, GraphError> {
    let items: Vec<Value> = serde_json::from_str(raw)
        .map_err(|_| GraphError::param("(#100) param attached_media must be an array"))?;
    let mut ids: Vec<String> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        // Sandbox wording: Meta's exact message for a bad media_fbid is not documented.
        let bad = || {
            GraphError::param(format!(
                "(#100) attached_media[{i}] must reference an unpublished photo of this Page"
            ))
        };
        let id = match item.get("media_fbid") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(bad()),
        };
        match ctx.st.objects.get(&id) {
            Some(Object::Photo(ph))
                if ph.page_id == page_id
                    && !ph.published
                    && ph.post_id.is_none()
                    && !ids.contains(&id) => {}
            _ => return Err(bad()),
        }
        ids.push(id);
    }
    if ids.is_empty() {
        return Err(GraphError::param(
            "(#100) param attached_media must be a non-empty array",
        ));
    }
    Ok(ids)
}

/// `POST /{page-id}/feed` with the Page's token.
pub(crate) fn create_post(ctx: &mut Ctx<'_>, page_id: &str) -> Outcome {
    if !is_page_token(ctx, page_id) {
        return Err(permission(PUBLISH_PERMISSION));
    }
    let params = &ctx.req.params;
    let message = params.non_empty("message").map(str::to_owned);
    let link = params.non_empty("link").map(str::to_owned);
    let attached = params.non_empty("attached_media").map(str::to_owned);
    if message.is_none() && link.is_none() && attached.is_none() {
        return Err(GraphError::param("(#100) Missing message or attachment"));
    }
    if let Some(l) = &link
        && url::Url::parse(l).is_err()
    {
        return Err(GraphError::param(
            "(#100) The link parameter is not a valid URL",
        ));
    }
    let published = parse_bool(params.get("published"), "published", true)?;
    let scheduled = parse_schedule(ctx, published)?;
    let photos = match &attached {
        Some(raw) => attached_photos(ctx, page_id, raw)?,
        None => Vec::new(),
    };
    let id = insert_post(ctx, page_id, message, link, published, scheduled);
    for photo in &photos {
        if let Some(Object::Photo(ph)) = ctx.st.objects.get_mut(photo) {
            ph.post_id = Some(id.clone());
        }
    }
    ctx.applied = true;
    Ok(json!({ "id": id }))
}

/// `GET /{post-id}`.
pub(crate) fn get_post(ctx: &mut Ctx<'_>, id: &str) -> Outcome {
    let fields = ctx.fields(POST_FIELDS, POST_DEFAULT, "PagePost")?;
    let Some(post) = ctx.st.post(id).cloned() else {
        return Err(super::unsupported(&ctx.req.method, id));
    };
    let name = page_name(ctx, &post.page_id);
    Ok(select(&post_json(&post, &name, ctx.now), &fields))
}

/// `DELETE /{post-id}` with the Page's token.
pub(crate) fn delete_post(ctx: &mut Ctx<'_>, id: &str) -> Outcome {
    let Some(page_id) = ctx.st.post(id).map(|p| p.page_id.clone()) else {
        return Err(super::unsupported(&ctx.req.method, id));
    };
    if !is_page_token(ctx, &page_id) {
        return Err(permission(
            "(#200) Requires the Page's access token with pages_manage_posts to delete its posts",
        ));
    }
    ctx.st.objects.remove(id);
    ctx.st.edge_mut(&page_id, "feed").retain(|p| p != id);
    ctx.applied = true;
    Ok(json!({"success": true}))
}

/// `GET /{ig-user-id}`.
pub(crate) fn get_ig_user(ctx: &mut Ctx<'_>, id: &str) -> Outcome {
    let fields = ctx.fields(&["id", "username", "name"], &["id"], "IGUser")?;
    let Some(Object::IgUser(ig)) = ctx.st.objects.get(id) else {
        return Err(super::unsupported(&ctx.req.method, id));
    };
    let full = json!({"id": ig.id, "username": ig.username, "name": ig.username});
    match full {
        Value::Object(m) => Ok(select(&m, &fields)),
        other => Ok(other),
    }
}

// ---------------------------------------------------------------------------------------
// Photos and videos: `POST /{page-id}/photos`, `POST /{page-id}/videos` (hosted file or the
// chunked start/transfer/finish upload), and the photo and video nodes.
// ---------------------------------------------------------------------------------------

/// Chunk size the sandbox hands out in `start_offset`/`end_offset` (Meta picks its own;
/// clients must follow the offsets they are given, never assume a size).
pub(crate) const VIDEO_CHUNK: u64 = 1 << 20;
/// Meta's subcode for a transfer whose `start_offset` is not the one expected; the
/// official Python uploader resumes from `error_data.start_offset/end_offset`
/// (facts guide §1.4).
const OFFSET_MISMATCH_SUBCODE: i64 = 1_363_037;
/// Video upload errors use code 6001 ("There was a problem uploading your video"); the
/// code is from memory, the subcode and `error_data` from the official SDK.
const VIDEO_UPLOAD_CODE: i64 = 6001;
/// "Image wasn't downloaded" (facts guide §2.2): a photo `url` that cannot be fetched.
const IMAGE_NOT_DOWNLOADED_SUBCODE: i64 = 3_858_258;

/// A photo uploaded to a Page.
#[derive(Debug, Clone)]
pub(crate) struct Photo {
    pub(crate) id: String,
    pub(crate) page_id: String,
    pub(crate) caption: Option<String>,
    pub(crate) published: bool,
    pub(crate) created_time: u64,
    /// Its own story post, or the multi-photo post it was attached to.
    pub(crate) post_id: Option<String>,
}

/// A video uploaded to a Page.
#[derive(Debug, Clone)]
pub(crate) struct Video {
    pub(crate) id: String,
    pub(crate) page_id: String,
    pub(crate) title: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) created_time: u64,
    /// Bytes received (the whole file once finished).
    pub(crate) size: u64,
    /// `uploading` until the finish phase, then `ready`.
    pub(crate) status: &'static str,
    pub(crate) post_id: Option<String>,
}

/// One chunked upload: the next byte range the sandbox expects.
#[derive(Debug, Clone)]
pub(crate) struct UploadSession {
    page_id: String,
    video_id: String,
    file_size: u64,
    /// Bytes received so far: the next `start_offset`.
    received: u64,
    finished: bool,
}

impl UploadSession {
    fn end_offset(&self) -> u64 {
        self.received
            .saturating_add(VIDEO_CHUNK)
            .min(self.file_size)
    }
    fn offsets(&self) -> Value {
        // Meta sends offsets as strings.
        json!({"start_offset": self.received.to_string(), "end_offset": self.end_offset().to_string()})
    }
}

/// Page publishing state that is not a Graph node.
#[derive(Debug, Default)]
pub(crate) struct PagesState {
    /// Chunked video uploads, keyed by `upload_session_id`.
    pub(crate) uploads: std::collections::HashMap<String, UploadSession>,
}

/// The Pages area router for photos, videos and their nodes.
pub(crate) fn route(
    ctx: &mut Ctx<'_>,
    method: &http::Method,
    id: &str,
    obj: &Object,
    rest: &[&str],
) -> Option<Outcome> {
    use http::Method;
    let out = match (obj, rest) {
        (Object::Page(_), ["photos"]) if *method == Method::POST => create_photo(ctx, id),
        (Object::Page(_), ["videos"]) if *method == Method::POST => videos(ctx, id),
        (Object::Photo(_), []) if *method == Method::GET => get_photo(ctx, id),
        (Object::Video(_), []) if *method == Method::GET => get_video(ctx, id),
        (Object::Photo(_) | Object::Video(_), []) if *method == Method::DELETE => {
            delete_media(ctx, id)
        }
        _ => return None,
    };
    Some(out)
}

/// Whether a media URL can be fetched. The sandbox never leaves the machine: hosts under
/// the reserved `.invalid` TLD (RFC 2606) stand for unreachable media, everything else
/// for reachable media.
pub(crate) fn media_url_reachable(url: &url::Url) -> bool {
    url.host_str()
        .is_some_and(|h| !h.trim_end_matches('.').ends_with(".invalid") && h != "invalid")
}

/// The image format of `bytes` from its magic number, as Meta's decoders would see it.
pub(crate) fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.starts_with(b"BM") {
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

/// `POST /{page-id}/photos`: `url` or multipart `source`, `caption`/`message`,
/// `published`, `temporary`, `scheduled_publish_time` → `{"id"[, "post_id"]}`.
fn create_photo(ctx: &mut Ctx<'_>, page_id: &str) -> Outcome {
    if !is_page_token(ctx, page_id) {
        return Err(permission(PUBLISH_PERMISSION));
    }
    let params = &ctx.req.params;
    if let Some(raw) = params.non_empty("url") {
        let url = url::Url::parse(raw)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| GraphError::param("(#100) url should represent a valid URL"))?;
        if !media_url_reachable(&url) {
            return Err(
                GraphError::param("(#100) The image could not be downloaded from the url")
                    .subcode(IMAGE_NOT_DOWNLOADED_SUBCODE),
            );
        }
    } else {
        match params.file("source") {
            None => {
                return Err(GraphError::new(
                    "OAuthException",
                    324,
                    "(#324) Requires upload file",
                ));
            }
            Some(f) if sniff_image(&f.data).is_none() => {
                return Err(GraphError::new(
                    "OAuthException",
                    324,
                    "(#324) Missing or invalid image file",
                ));
            }
            Some(_) => {}
        }
    }
    let caption = params
        .non_empty("caption")
        .or_else(|| params.non_empty("message"))
        .map(str::to_owned);
    let published = parse_bool(params.get("published"), "published", true)?;
    // `temporary=true` (photos for a scheduled multi-photo post) is accepted; the
    // sandbox keeps unpublished photos either way.
    parse_bool(params.get("temporary"), "temporary", false)?;
    let scheduled = parse_schedule(ctx, published)?;
    let id = ctx.st.mint_id("", 15);
    // A published or scheduled photo gets its own story post; an unpublished one waits
    // to be attached to a multi-photo post.
    let post_id = (published || scheduled.is_some())
        .then(|| insert_post(ctx, page_id, caption.clone(), None, published, scheduled));
    ctx.st.objects.insert(
        id.clone(),
        Object::Photo(Photo {
            id: id.clone(),
            page_id: page_id.to_owned(),
            caption,
            published,
            created_time: ctx.now,
            post_id: post_id.clone(),
        }),
    );
    ctx.applied = true;
    Ok(match post_id {
        Some(post) => json!({"id": id, "post_id": post}),
        None => json!({ "id": id }),
    })
}

/// `POST /{page-id}/videos`: a hosted `file_url`, a multipart `source`, or one phase of
/// the chunked upload.
fn videos(ctx: &mut Ctx<'_>, page_id: &str) -> Outcome {
    if !is_page_token(ctx, page_id) {
        return Err(permission(PUBLISH_PERMISSION));
    }
    match ctx.req.params.non_empty("upload_phase") {
        Some("start") => upload_start(ctx, page_id),
        Some("transfer") => upload_transfer(ctx, page_id),
        Some("finish") => upload_finish(ctx, page_id),
        Some("cancel") => {
            let session = upload_session(ctx, page_id)?;
            let video_id = session.video_id.clone();
            if let Some(sid) = ctx.req.params.non_empty("upload_session_id") {
                ctx.st.pages.uploads.remove(sid);
            }
            ctx.st.objects.remove(&video_id);
            ctx.applied = true;
            Ok(json!({"success": true}))
        }
        Some(other) => Err(GraphError::param(format!(
            "(#100) param upload_phase must be one of {{START, TRANSFER, FINISH, CANCEL}}, got {other}"
        ))),
        None => {
            let params = &ctx.req.params;
            let size = if let Some(raw) = params.non_empty("file_url") {
                let url = url::Url::parse(raw)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .ok_or_else(|| {
                        GraphError::param("(#100) file_url should represent a valid URL")
                    })?;
                if !media_url_reachable(&url) {
                    // Code 389 is from memory ("Unable to fetch video file from URL").
                    return Err(GraphError::new(
                        "OAuthException",
                        389,
                        "Unable to fetch video file from URL.",
                    ));
                }
                0
            } else if let Some(f) = params.file("source") {
                u64::try_from(f.data.len()).unwrap_or(u64::MAX)
            } else {
                return Err(GraphError::new(
                    "OAuthException",
                    324,
                    "(#324) Requires upload file",
                ));
            };
            let id = ctx.st.mint_id("", 15);
            create_video(ctx, page_id, &id, size)?;
            Ok(json!({ "id": id }))
        }
    }
}

/// Makes `video_id` a ready video with the title, description and publishing params
/// of the request, creating its feed post when published or scheduled.
fn create_video(
    ctx: &mut Ctx<'_>,
    page_id: &str,
    video_id: &str,
    size: u64,
) -> Result<(), GraphError> {
    let params = &ctx.req.params;
    let title = params.non_empty("title").map(str::to_owned);
    let description = params.non_empty("description").map(str::to_owned);
    let published = parse_bool(params.get("published"), "published", true)?;
    let scheduled = parse_schedule(ctx, published)?;
    let post_id = (published || scheduled.is_some()).then(|| {
        insert_post(
            ctx,
            page_id,
            description.clone(),
            None,
            published,
            scheduled,
        )
    });
    ctx.st.objects.insert(
        video_id.to_owned(),
        Object::Video(Video {
            id: video_id.to_owned(),
            page_id: page_id.to_owned(),
            title,
            description,
            created_time: ctx.now,
            size,
            status: "ready",
            post_id,
        }),
    );
    ctx.applied = true;
    Ok(())
}

fn upload_start(ctx: &mut Ctx<'_>, page_id: &str) -> Outcome {
    let size = ctx
        .req
        .params
        .non_empty("file_size")
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| GraphError::param("(#100) param file_size must be a positive integer"))?;
    let video_id = ctx.st.mint_id("", 15);
    let session_id = ctx.st.mint_id("", 16);
    ctx.st.objects.insert(
        video_id.clone(),
        Object::Video(Video {
            id: video_id.clone(),
            page_id: page_id.to_owned(),
            title: None,
            description: None,
            created_time: ctx.now,
            size: 0,
            status: "uploading",
            post_id: None,
        }),
    );
    let session = UploadSession {
        page_id: page_id.to_owned(),
        video_id: video_id.clone(),
        file_size: size,
        received: 0,
        finished: false,
    };
    let mut out = session.offsets();
    if let Value::Object(m) = &mut out {
        m.insert("upload_session_id".into(), json!(session_id));
        m.insert("video_id".into(), json!(video_id));
    }
    ctx.st.pages.uploads.insert(session_id, session);
    ctx.applied = true;
    Ok(out)
}

fn upload_session<'s>(ctx: &'s Ctx<'_>, page_id: &str) -> Result<&'s UploadSession, GraphError> {
    ctx.req
        .params
        .non_empty("upload_session_id")
        .and_then(|sid| ctx.st.pages.uploads.get(sid))
        .filter(|s| s.page_id == page_id)
        .ok_or_else(|| GraphError::param("(#100) Invalid upload_session_id"))
}

fn upload_transfer(ctx: &mut Ctx<'_>, page_id: &str) -> Outcome {
    let session = upload_session(ctx, page_id)?.clone();
    if session.finished {
        return Err(GraphError::param(
            "(#100) The upload session is already finished",
        ));
    }
    let Some(chunk) = ctx.req.params.file("video_file_chunk") else {
        return Err(GraphError::param(
            "(#100) param video_file_chunk is required",
        ));
    };
    let len = u64::try_from(chunk.data.len()).unwrap_or(u64::MAX);
    let start = ctx
        .req
        .params
        .non_empty("start_offset")
        .and_then(|s| s.trim().parse::<u64>().ok());
    let window = session.end_offset() - session.received;
    // A wrong offset (a chunk sent twice, or one lost) gets the offsets Meta expects, so
    // the client can resume from them.
    if start != Some(session.received) || len == 0 || len > window {
        return Err(GraphError::new(
            "OAuthException",
            VIDEO_UPLOAD_CODE,
            "(#6001) There was a problem uploading your video file. Please try again.",
        )
        .subcode(OFFSET_MISMATCH_SUBCODE)
        .user(
            "Video upload failed",
            "The chunk does not start at the offset the upload expects.",
        )
        .transient(false)
        .data(session.offsets()));
    }
    let sid = ctx
        .req
        .params
        .non_empty("upload_session_id")
        .unwrap_or_default()
        .to_owned();
    let Some(s) = ctx.st.pages.uploads.get_mut(&sid) else {
        return Err(GraphError::param("(#100) Invalid upload_session_id"));
    };
    s.received += len;
    let out = s.offsets();
    let (video_id, received) = (s.video_id.clone(), s.received);
    if let Some(Object::Video(v)) = ctx.st.objects.get_mut(&video_id) {
        v.size = received;
    }
    ctx.applied = true;
    Ok(out)
}

fn upload_finish(ctx: &mut Ctx<'_>, page_id: &str) -> Outcome {
    let session = upload_session(ctx, page_id)?.clone();
    if session.finished {
        return Err(GraphError::param(
            "(#100) The upload session is already finished",
        ));
    }
    if session.received < session.file_size {
        return Err(GraphError::new(
            "OAuthException",
            VIDEO_UPLOAD_CODE,
            "(#6001) There was a problem uploading your video file. Please try again.",
        )
        .subcode(OFFSET_MISMATCH_SUBCODE)
        .transient(false)
        .data(session.offsets()));
    }
    create_video(ctx, page_id, &session.video_id, session.file_size)?;
    if let Some(sid) = ctx
        .req
        .params
        .non_empty("upload_session_id")
        .map(str::to_owned)
        && let Some(s) = ctx.st.pages.uploads.get_mut(&sid)
    {
        s.finished = true;
    }
    Ok(json!({"success": true}))
}

/// `GET /{photo-id}`.
fn get_photo(ctx: &mut Ctx<'_>, id: &str) -> Outcome {
    let fields = ctx.fields(
        &[
            "id",
            "name",
            "created_time",
            "from",
            "link",
            "page_story_id",
            "published",
        ],
        &["created_time", "name", "id"],
        "Photo",
    )?;
    let Some(Object::Photo(p)) = ctx.st.objects.get(id).cloned() else {
        return Err(super::unsupported(&ctx.req.method, id));
    };
    let mut m = Map::new();
    m.insert("id".into(), json!(p.id));
    if let Some(c) = &p.caption {
        m.insert("name".into(), json!(c));
    }
    m.insert("created_time".into(), json!(graph_time(p.created_time)));
    m.insert(
        "from".into(),
        json!({"name": page_name(ctx, &p.page_id), "id": p.page_id}),
    );
    m.insert(
        "link".into(),
        json!(format!("https://www.facebook.com/photo/?fbid={}", p.id)),
    );
    if let Some(post) = &p.post_id {
        m.insert("page_story_id".into(), json!(post));
    }
    m.insert("published".into(), json!(p.published));
    Ok(select(&m, &fields))
}

/// `GET /{video-id}`.
fn get_video(ctx: &mut Ctx<'_>, id: &str) -> Outcome {
    let fields = ctx.fields(
        &[
            "id",
            "title",
            "description",
            "created_time",
            "from",
            "status",
            "length",
            "post_id",
            "permalink_url",
        ],
        &["id", "created_time", "description"],
        "Video",
    )?;
    let Some(Object::Video(v)) = ctx.st.objects.get(id).cloned() else {
        return Err(super::unsupported(&ctx.req.method, id));
    };
    let mut m = Map::new();
    m.insert("id".into(), json!(v.id));
    if let Some(t) = &v.title {
        m.insert("title".into(), json!(t));
    }
    if let Some(d) = &v.description {
        m.insert("description".into(), json!(d));
    }
    m.insert("created_time".into(), json!(graph_time(v.created_time)));
    m.insert(
        "from".into(),
        json!({"name": page_name(ctx, &v.page_id), "id": v.page_id}),
    );
    m.insert(
        "status".into(),
        json!({"video_status": v.status, "uploading_phase": {"status": if v.status == "ready" {"complete"} else {"in_progress"}, "bytes_transferred": v.size}}),
    );
    if let Some(p) = &v.post_id {
        m.insert("post_id".into(), json!(p));
    }
    m.insert(
        "permalink_url".into(),
        json!(format!("/{}/videos/{}/", v.page_id, v.id)),
    );
    Ok(select(&m, &fields))
}

/// `DELETE /{photo-id}` or `/{video-id}` with the Page's token.
fn delete_media(ctx: &mut Ctx<'_>, id: &str) -> Outcome {
    let page_id = match ctx.st.objects.get(id) {
        Some(Object::Photo(p)) => p.page_id.clone(),
        Some(Object::Video(v)) => v.page_id.clone(),
        _ => return Err(super::unsupported(&ctx.req.method, id)),
    };
    if !is_page_token(ctx, &page_id) {
        return Err(permission(
            "(#200) Requires the Page's access token with pages_manage_posts to delete its media",
        ));
    }
    ctx.st.objects.remove(id);
    ctx.applied = true;
    Ok(json!({"success": true}))
}
