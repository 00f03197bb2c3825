//! Comments on Page posts, live videos and Instagram media: list (filter, order, since,
//! live_filter, cursor pagination), create/reply, hide/unhide, edit and delete.
//!
//! Facebook comments answer Graph's `Comment` shape (`message`, `created_time`, `from`,
//! `is_hidden`, ...); Instagram comments answer `IGComment` (`text`, `timestamp`,
//! `username`, `hidden`, ...). A reply to a reply is attached to the top-level comment,
//! as Facebook keeps comment threads two levels deep.
//!
//! Comment lists are kept in [`State::edges`] under `"<object>/comments"` (Facebook and
//! Instagram top-level comments) and `"<comment>/comments"` (replies), **oldest first**
//! (unlike the feed edges), so adding thousands of live comments is a push each.

use std::collections::{BTreeMap, HashMap};

use fastrand::Rng;
use http::Method;
use serde_json::{Map, Value, json};

use super::{Ctx, Outcome, permission, select};
use crate::config::SandboxConfig;
use crate::error::GraphError;
use crate::fixtures::{Seeded, digits};
use crate::pagination::{self, LinkBase, Quirks};
use crate::state::{Object, State};
use crate::time::{graph_time, parse_time};
use crate::tokens::TokenKind;

/// Which API a comment belongs to: the shapes and the edit parameters differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Platform {
    Facebook,
    Instagram,
}

/// A comment node.
#[derive(Debug, Clone)]
pub(crate) struct CommentNode {
    pub(crate) id: String,
    pub(crate) platform: Platform,
    /// The post, live video or IG media the comment is on.
    pub(crate) object_id: String,
    /// The Page (Facebook) or IG user (Instagram) that owns the object.
    pub(crate) owner_id: String,
    /// The top-level comment this one replies to.
    pub(crate) parent_id: Option<String>,
    pub(crate) from_id: String,
    pub(crate) from_name: String,
    pub(crate) message: String,
    pub(crate) created_time: u64,
    /// Creation order; the pagination key.
    pub(crate) seq: u64,
    pub(crate) hidden: bool,
    /// Dropped by `live_filter=filter_low_quality`.
    pub(crate) low_quality: bool,
    /// Seconds into the broadcast, for comments on live videos.
    pub(crate) live_offset: Option<u64>,
}

/// The comments area's own state.
#[derive(Debug, Default)]
pub(crate) struct CommentsState {
    /// Next comment sequence number.
    pub(crate) next_seq: u64,
    /// Everyone who commented (id → name): Messenger only knows these people and those
    /// who wrote to the Page.
    pub(crate) people: BTreeMap<String, String>,
    /// IG media id → owning IG user id, for media whose comments this area holds.
    pub(crate) ig_media: HashMap<String, String>,
    /// Draws commenter names and ids for comments added at run time.
    pub(crate) rng: Option<Rng>,
}

const FB_FIELDS: &[&str] = &[
    "id",
    "message",
    "created_time",
    "from",
    "is_hidden",
    "can_hide",
    "can_remove",
    "can_comment",
    "can_reply_privately",
    "comment_count",
    "like_count",
    "parent",
    "object",
    "permalink_url",
    "live_broadcast_timestamp",
    "user_likes",
    "is_private",
];
/// Graph's default fields for a comment.
const FB_DEFAULT: &[&str] = &["created_time", "from", "message", "id"];
const IG_FIELDS: &[&str] = &[
    "id",
    "text",
    "timestamp",
    "username",
    "from",
    "hidden",
    "like_count",
    "parent_id",
    "media",
    "user",
];
const IG_DEFAULT: &[&str] = &["timestamp", "text", "id"];

/// Private replies are allowed for 7 days after the comment
/// (facts guide §8.2, developers.facebook.com/docs/messenger-platform/discovery/private-replies).
pub(crate) const PRIVATE_REPLY_SECS: u64 = 7 * 86_400;

const FIRST: &[&str] = &[
    "Ana", "Bruno", "Chen", "Dara", "Elif", "Femi", "Greta", "Hugo", "Ines", "Jonas", "Keiko",
    "Luis", "Mina", "Nora", "Omar", "Priya",
];
const LAST: &[&str] = &[
    "Alves", "Brandt", "Costa", "Dubois", "Eriksen", "Fujita", "Garcia", "Haddad", "Ivanova",
    "Jensen",
];
const LINES: &[&str] = &[
    "Love this!",
    "How much is it?",
    "Do you ship to Lisbon?",
    "Is the blue one still available?",
    "I want one! Sent you a message.",
    "What sizes do you have?",
    "Sold! I'll take it.",
    "Can I pick it up on Saturday?",
    "Beautiful work 😍",
    "Price please",
    "Interested, DM me",
    "Is there a discount for two?",
];
/// What `live_filter=filter_low_quality` removes.
const SPAM: &str = "🔥🔥🔥 follow me for free followers 🔥🔥🔥";

impl CommentsState {
    pub(crate) fn rng(&mut self) -> &mut Rng {
        self.rng.get_or_insert_with(|| Rng::with_seed(0xC0FF_EE00))
    }

    /// A commenter: an existing person three times out of four, else a new one.
    fn person(&mut self) -> (String, String) {
        if !self.people.is_empty() && self.rng().u8(0..4) != 0 {
            let len = self.people.len();
            let n = self.rng().usize(0..len);
            if let Some((id, name)) = self.people.iter().nth(n) {
                return (id.clone(), name.clone());
            }
        }
        let rng = self.rng();
        let name = format!(
            "{} {}",
            FIRST[rng.usize(0..FIRST.len())],
            LAST[rng.usize(0..LAST.len())]
        );
        let id = digits(rng, 16);
        self.people.insert(id.clone(), name.clone());
        (id, name)
    }

    fn line(&mut self) -> &'static str {
        let rng = self.rng();
        LINES[rng.usize(0..LINES.len())]
    }
}

/// A new comment id: `<object story id>_<16 digits>`, as Graph's comment ids look.
fn mint_comment_id(st: &mut State, object_id: &str) -> String {
    let story = object_id.rsplit('_').next().unwrap_or(object_id).to_owned();
    loop {
        let id = format!("{story}_{}", digits(st.comments.rng(), 16));
        if !st.objects.contains_key(&id) {
            return id;
        }
    }
}

/// What a new comment is.
#[derive(Debug, Clone)]
pub(crate) struct NewComment<'a> {
    pub(crate) platform: Platform,
    pub(crate) object_id: &'a str,
    pub(crate) owner_id: &'a str,
    pub(crate) parent_id: Option<&'a str>,
    pub(crate) from: (String, String),
    pub(crate) message: String,
    pub(crate) created_time: u64,
    pub(crate) low_quality: bool,
    pub(crate) live_offset: Option<u64>,
}

/// Stores a comment and links it into its thread. Returns its id.
pub(crate) fn insert_comment(st: &mut State, c: NewComment<'_>) -> String {
    let id = mint_comment_id(st, c.object_id);
    let seq = st.comments.next_seq;
    st.comments.next_seq += 1;
    let node = CommentNode {
        id: id.clone(),
        platform: c.platform,
        object_id: c.object_id.to_owned(),
        owner_id: c.owner_id.to_owned(),
        parent_id: c.parent_id.map(str::to_owned),
        from_id: c.from.0,
        from_name: c.from.1,
        message: c.message,
        created_time: c.created_time,
        seq,
        hidden: false,
        low_quality: c.low_quality,
        live_offset: c.live_offset,
    };
    let thread = c.parent_id.unwrap_or(c.object_id).to_owned();
    st.objects.insert(id.clone(), Object::Comment(node));
    st.edge_mut(&thread, "comments").push(id.clone());
    id
}

/// Adds a comment from a random person (a returning commenter or a new one).
pub(crate) fn add_random_comment(
    st: &mut State,
    platform: Platform,
    object_id: &str,
    owner_id: &str,
    created_time: u64,
    live_offset: Option<u64>,
) -> String {
    let from = st.comments.person();
    // One comment in fifty is spam, the kind `filter_low_quality` hides on live videos.
    let spam = st.comments.rng().u8(0..50) == 0;
    let message = if spam {
        SPAM.to_owned()
    } else {
        st.comments.line().to_owned()
    };
    insert_comment(
        st,
        NewComment {
            platform,
            object_id,
            owner_id,
            parent_id: None,
            from,
            message,
            created_time,
            low_quality: spam,
            live_offset,
        },
    )
}

/// Seeds comments on the newest posts of every fixture Page, then the live videos.
/// Runs once, from `State::new`.
pub(crate) fn seed(st: &mut State, config: &SandboxConfig, seeded: &Seeded) {
    st.comments.rng = Some(Rng::with_seed(config.seed ^ 0x5EED_C0DE));
    st.comments.next_seq = 1;
    let now = st.now();
    for (p, page) in seeded.fixtures.pages.iter().enumerate() {
        let posts: Vec<String> = st.edge(&page.id, "feed").iter().take(6).cloned().collect();
        for (i, post_id) in posts.iter().enumerate() {
            // The newest post is fresh (comments within the last hours, inside the
            // private-reply window); older posts carry comments older than 7 days.
            let base = if i == 0 {
                now.saturating_sub(6 * 3600)
            } else {
                st.post(post_id)
                    .map_or(now, |x| x.created_time)
                    .min(now.saturating_sub(8 * 86_400 * (1 + i as u64)))
            };
            for k in 0..12u64 {
                let at = base + k * 600;
                let id = add_random_comment(st, Platform::Facebook, post_id, &page.id, at, None);
                if k % 4 == 0 {
                    // A short conversation under every fourth comment.
                    let from = st.comments.person();
                    insert_comment(
                        st,
                        NewComment {
                            platform: Platform::Facebook,
                            object_id: post_id,
                            owner_id: &page.id,
                            parent_id: Some(&id),
                            from,
                            message: "Same question here!".to_owned(),
                            created_time: at + 120,
                            low_quality: false,
                            live_offset: None,
                        },
                    );
                    let page_name = st
                        .page(&page.id)
                        .map(|x| x.name.clone())
                        .unwrap_or_default();
                    insert_comment(
                        st,
                        NewComment {
                            platform: Platform::Facebook,
                            object_id: post_id,
                            owner_id: &page.id,
                            parent_id: Some(&id),
                            from: (page.id.clone(), page_name),
                            message: "Thanks! We sent you the details.".to_owned(),
                            created_time: at + 300,
                            low_quality: false,
                            live_offset: None,
                        },
                    );
                }
            }
        }
        super::live::seed_page(st, config, &page.id, p == 0, now);
    }
}

/// Routes comment paths. Owns `/{object}/comments`, `/{comment}`, `/{ig-comment}/replies`
/// and `/{ig-media}/comments` for media registered with this area.
pub(crate) fn route(
    ctx: &mut Ctx<'_>,
    method: &Method,
    id: &str,
    obj: &Object,
    rest: &[&str],
) -> Option<Outcome> {
    let get = *method == Method::GET;
    let post = *method == Method::POST;
    let ig_media = ctx.st.comments.ig_media.get(id).cloned();
    Some(match (obj, rest) {
        (Object::Post(p), ["comments"]) => {
            let owner = p.page_id.clone();
            if get {
                list(ctx, id, Platform::Facebook, false)
            } else if post {
                create(ctx, Platform::Facebook, id, &owner, None)
            } else {
                return None;
            }
        }
        (Object::LiveVideo(l), ["comments"]) => {
            let owner = l.page_id.clone();
            if get {
                list(ctx, id, Platform::Facebook, true)
            } else if post {
                create(ctx, Platform::Facebook, id, &owner, None)
            } else {
                return None;
            }
        }
        (Object::Comment(c), []) => match *method {
            Method::GET => get_comment(ctx, c),
            Method::POST => update(ctx, c),
            Method::DELETE => delete(ctx, c),
            _ => return None,
        },
        (Object::Comment(c), ["comments"]) if c.platform == Platform::Facebook => {
            let top = c.parent_id.clone().unwrap_or_else(|| c.id.clone());
            if get {
                list(ctx, id, Platform::Facebook, false)
            } else if post {
                create(
                    ctx,
                    Platform::Facebook,
                    &c.object_id,
                    &c.owner_id,
                    Some(&top),
                )
            } else {
                return None;
            }
        }
        (Object::Comment(c), ["replies"]) if c.platform == Platform::Instagram => {
            let top = c.parent_id.clone().unwrap_or_else(|| c.id.clone());
            if get {
                list(ctx, &top, Platform::Instagram, false)
            } else if post {
                create(
                    ctx,
                    Platform::Instagram,
                    &c.object_id,
                    &c.owner_id,
                    Some(&top),
                )
            } else {
                return None;
            }
        }
        (_, ["comments"]) if ig_media.is_some() => {
            let owner = ig_media.unwrap_or_default();
            if get {
                list(ctx, id, Platform::Instagram, false)
            } else if post {
                create(ctx, Platform::Instagram, id, &owner, None)
            } else {
                return None;
            }
        }
        // Published media nobody has commented on yet.
        (Object::IgMedia(_), ["comments"]) if get => list(ctx, id, Platform::Instagram, false),
        _ => return None,
    })
}

/// The Page that may moderate an owner: the Page itself, or the Page linked to an IG user.
fn moderating_page(ctx: &Ctx<'_>, platform: Platform, owner_id: &str) -> Option<String> {
    match platform {
        Platform::Facebook => Some(owner_id.to_owned()),
        Platform::Instagram => ctx.st.objects.values().find_map(|o| match o {
            Object::Page(p) if p.ig_user_id.as_deref() == Some(owner_id) => Some(p.id.clone()),
            _ => None,
        }),
    }
}

/// Writes need the owning Page's token (for Instagram: the linked Page's token, or a
/// user token with `instagram_manage_comments`).
fn check_moderator(ctx: &Ctx<'_>, platform: Platform, owner_id: &str) -> Result<(), GraphError> {
    let page = moderating_page(ctx, platform, owner_id);
    let ok = match ctx.token.kind {
        TokenKind::Page => page.is_some() && ctx.token.page_id == page,
        TokenKind::User => platform == Platform::Instagram,
        TokenKind::App => false,
    };
    if ok {
        Ok(())
    } else {
        Err(permission(
            "(#200) Requires the Page's access token with pages_manage_engagement (instagram_manage_comments for Instagram) to moderate these comments",
        ))
    }
}

fn enum_param<'a>(
    ctx: &'a Ctx<'_>,
    name: &str,
    allowed: &[&'a str],
    default: &'a str,
) -> Result<&'a str, GraphError> {
    match ctx.req.params.non_empty(name) {
        None => Ok(default),
        Some(v) => allowed
            .iter()
            .find(|a| a.eq_ignore_ascii_case(v.trim()))
            .copied()
            .ok_or_else(|| {
                GraphError::param(format!(
                    "(#100) param {name} must be one of {{{}}} - got \"{v}\"",
                    allowed.join(", ")
                ))
            }),
    }
}

/// `GET /{object}/comments` (and `/{ig-comment}/replies`): top-level comments, or the
/// whole stream, in either order, cursor-paginated.
fn list(ctx: &mut Ctx<'_>, thread_id: &str, platform: Platform, live: bool) -> Outcome {
    let (known, default, node) = match platform {
        Platform::Facebook => (FB_FIELDS, FB_DEFAULT, "Comment"),
        Platform::Instagram => (IG_FIELDS, IG_DEFAULT, "IGComment"),
    };
    let fields = ctx.fields(known, default, node)?;
    let filter = enum_param(ctx, "filter", &["toplevel", "stream"], "toplevel")?.to_owned();
    let order = enum_param(
        ctx,
        "order",
        &["chronological", "reverse_chronological"],
        "chronological",
    )?
    .to_owned();
    // Low-quality filtering is on by default for live videos and ignored elsewhere
    // (LiveVideo /comments `live_filter` doc).
    let live_filter = enum_param(
        ctx,
        "live_filter",
        &["filter_low_quality", "no_filter"],
        "filter_low_quality",
    )?
    .to_owned();
    let since = match ctx.req.params.non_empty("since") {
        None => None,
        Some(raw) => Some(parse_time(raw).ok_or_else(|| {
            GraphError::param(format!(
                "(#100) The parameter since is not a valid time: {raw}"
            ))
        })?),
    };
    let mut ids: Vec<String> = ctx.st.edge(thread_id, "comments").to_vec();
    if filter == "stream" {
        let replies: Vec<String> = ids
            .iter()
            .flat_map(|c| ctx.st.edge(c, "comments").iter().cloned())
            .collect();
        ids.extend(replies);
    }
    let mut items: Vec<(u64, String)> = ids
        .into_iter()
        .filter_map(|id| match ctx.st.objects.get(&id) {
            Some(Object::Comment(c)) => {
                let keep = since.is_none_or(|s| c.created_time >= s)
                    && !(live && live_filter == "filter_low_quality" && c.low_quality);
                keep.then_some((c.seq, id))
            }
            _ => None,
        })
        .collect();
    items.sort_by_key(|(seq, _)| *seq);
    // The pager wants keys strictly decreasing along the list.
    let items: Vec<(u64, Value)> = if order == "reverse_chronological" {
        items
            .into_iter()
            .rev()
            .map(|(k, id)| (k, Value::String(id)))
            .collect()
    } else {
        items
            .into_iter()
            .map(|(k, id)| (u64::MAX - k, Value::String(id)))
            .collect()
    };
    let scope = format!("{thread_id}/comments/{order}");
    let page_req = pagination::page_request(ctx.req, &scope)?;
    let path = ctx.rel_path();
    let base = LinkBase {
        base_url: &ctx.shared.base_url,
        version: &ctx.version,
        path: &path,
    };
    let mut out = pagination::paginate(items, &page_req, &scope, &base, ctx.req, Quirks::default());
    // Only the ids of the page were carried through the pager; render them now.
    if let Some(Value::Array(data)) = out.get_mut("data") {
        for slot in data.iter_mut() {
            let id = slot.as_str().unwrap_or_default().to_owned();
            if let Some(Object::Comment(c)) = ctx.st.objects.get(&id) {
                *slot = select(&comment_json(ctx.st, c, ctx.now), &fields);
            }
        }
    }
    Ok(out)
}

/// The full JSON of a comment, in its platform's shape.
pub(crate) fn comment_json(st: &State, c: &CommentNode, now: u64) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(c.id));
    let replies = st.edge(&c.id, "comments").len();
    match c.platform {
        Platform::Facebook => {
            m.insert("message".into(), json!(c.message));
            m.insert("created_time".into(), json!(graph_time(c.created_time)));
            m.insert("from".into(), json!({"name": c.from_name, "id": c.from_id}));
            let own = c.from_id == c.owner_id;
            m.insert("is_hidden".into(), json!(c.hidden));
            m.insert("can_hide".into(), json!(!own));
            m.insert("can_remove".into(), json!(true));
            m.insert("can_comment".into(), json!(c.parent_id.is_none()));
            let replied = st.messenger.private_replies.contains_key(&c.id);
            let fresh = now.saturating_sub(c.created_time) <= PRIVATE_REPLY_SECS;
            m.insert(
                "can_reply_privately".into(),
                json!(!own && !replied && fresh),
            );
            m.insert("comment_count".into(), json!(replies));
            m.insert("like_count".into(), json!(0));
            m.insert("user_likes".into(), json!(false));
            m.insert("is_private".into(), json!(false));
            if let Some(p) = &c.parent_id {
                m.insert("parent".into(), json!({"id": p}));
            }
            m.insert("object".into(), json!({"id": c.object_id}));
            let story = c.object_id.rsplit('_').next().unwrap_or(&c.object_id);
            let comment = c.id.rsplit('_').next().unwrap_or(&c.id);
            m.insert(
                "permalink_url".into(),
                json!(format!(
                    "https://www.facebook.com/{}/posts/{story}?comment_id={comment}",
                    c.owner_id
                )),
            );
            if let Some(o) = c.live_offset {
                m.insert("live_broadcast_timestamp".into(), json!(o));
            }
        }
        Platform::Instagram => {
            m.insert("text".into(), json!(c.message));
            m.insert("timestamp".into(), json!(graph_time(c.created_time)));
            m.insert("username".into(), json!(c.from_name));
            m.insert(
                "from".into(),
                json!({"id": c.from_id, "username": c.from_name}),
            );
            m.insert("user".into(), json!({"id": c.from_id}));
            m.insert("hidden".into(), json!(c.hidden));
            m.insert("like_count".into(), json!(0));
            if let Some(p) = &c.parent_id {
                m.insert("parent_id".into(), json!(p));
            }
            m.insert("media".into(), json!({"id": c.object_id}));
        }
    }
    m
}

fn get_comment(ctx: &mut Ctx<'_>, c: &CommentNode) -> Outcome {
    let (known, default, node) = match c.platform {
        Platform::Facebook => (FB_FIELDS, FB_DEFAULT, "Comment"),
        Platform::Instagram => (IG_FIELDS, IG_DEFAULT, "IGComment"),
    };
    let fields = ctx.fields(known, default, node)?;
    Ok(select(&comment_json(ctx.st, c, ctx.now), &fields))
}

/// `POST /{object}/comments`, `/{comment}/comments`, `/{ig-comment}/replies`: a comment
/// by the Page (or its IG account).
fn create(
    ctx: &mut Ctx<'_>,
    platform: Platform,
    object_id: &str,
    owner_id: &str,
    parent: Option<&str>,
) -> Outcome {
    check_moderator(ctx, platform, owner_id)?;
    let message = ctx
        .req
        .params
        .non_empty("message")
        .map(str::to_owned)
        .ok_or_else(|| GraphError::param("(#100) Missing message or attachment"))?;
    let from = match platform {
        Platform::Facebook => (
            owner_id.to_owned(),
            ctx.st
                .page(owner_id)
                .map(|p| p.name.clone())
                .unwrap_or_default(),
        ),
        Platform::Instagram => (
            owner_id.to_owned(),
            match ctx.st.objects.get(owner_id) {
                Some(Object::IgUser(u)) => u.username.clone(),
                _ => String::new(),
            },
        ),
    };
    let live_offset = match ctx.st.objects.get(object_id) {
        Some(Object::LiveVideo(l)) => Some(ctx.now.saturating_sub(l.broadcast_start_time)),
        _ => None,
    };
    let id = insert_comment(
        ctx.st,
        NewComment {
            platform,
            object_id,
            owner_id,
            parent_id: parent,
            from,
            message,
            created_time: ctx.now,
            low_quality: false,
            live_offset,
        },
    );
    ctx.applied = true;
    Ok(json!({ "id": id }))
}

fn parse_flag(raw: &str, name: &str) -> Result<bool, GraphError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(GraphError::param(format!(
            "(#100) param {name} must be a boolean"
        ))),
    }
}

/// `POST /{comment}`: Facebook takes `is_hidden` (or `message` to edit the Page's own
/// comment); Instagram takes `hide`.
fn update(ctx: &mut Ctx<'_>, c: &CommentNode) -> Outcome {
    check_moderator(ctx, c.platform, &c.owner_id)?;
    let params = &ctx.req.params;
    let (hidden, message) = match c.platform {
        Platform::Facebook => {
            let hidden = params
                .non_empty("is_hidden")
                .map(|v| parse_flag(v, "is_hidden"))
                .transpose()?;
            let message = params.non_empty("message").map(str::to_owned);
            if hidden.is_none() && message.is_none() {
                return Err(GraphError::param(
                    "(#100) At least one of is_hidden, message, attachment_id, attachment_url or attachment_share_url must be specified",
                ));
            }
            (hidden, message)
        }
        Platform::Instagram => {
            let Some(raw) = params.non_empty("hide") else {
                return Err(GraphError::param("(#100) The parameter hide is required"));
            };
            (Some(parse_flag(raw, "hide")?), None)
        }
    };
    if hidden.is_some() && c.from_id == c.owner_id {
        return Err(GraphError::param(
            "(#100) A Page cannot hide its own comments",
        ));
    }
    if message.is_some() && c.from_id != c.owner_id {
        return Err(permission(
            "(#200) Only the author of a comment can edit it",
        ));
    }
    if let Some(Object::Comment(node)) = ctx.st.objects.get_mut(&c.id) {
        if let Some(h) = hidden {
            node.hidden = h;
        }
        if let Some(m) = message {
            node.message = m;
        }
    }
    ctx.applied = true;
    Ok(json!({"success": true}))
}

/// `DELETE /{comment}`: removes the comment and its replies.
fn delete(ctx: &mut Ctx<'_>, c: &CommentNode) -> Outcome {
    check_moderator(ctx, c.platform, &c.owner_id)?;
    let thread = c.parent_id.clone().unwrap_or_else(|| c.object_id.clone());
    ctx.st.edge_mut(&thread, "comments").retain(|x| *x != c.id);
    let replies = ctx
        .st
        .edges
        .remove(&format!("{}/comments", c.id))
        .unwrap_or_default();
    for r in replies {
        ctx.st.objects.remove(&r);
    }
    ctx.st.objects.remove(&c.id);
    ctx.applied = true;
    Ok(json!({"success": true}))
}

/// The comment ids on an object (or replies to a comment), oldest first.
pub(crate) fn thread_ids(st: &State, id: &str) -> Vec<String> {
    st.edge(id, "comments").to_vec()
}

mod control {
    use super::{NewComment, Platform, insert_comment};
    use crate::server::SandboxControl;
    use crate::state::Object;

    impl SandboxControl {
        /// The ids of the comments on a post, live video or IG media (or of the replies
        /// to a comment), oldest first.
        pub fn comment_ids(&self, object_id: &str) -> Vec<String> {
            super::thread_ids(&self.shared().lock(), object_id)
        }

        /// Adds a comment by a person (`from_id`, `from_name`) on a post, live video or
        /// IG media, as if they had written it now on the sandbox clock. An IG media id
        /// not yet known to the sandbox is registered for `owner_ig_user_id`. Returns the
        /// comment id, or `None` when the object is unknown.
        pub fn add_comment(
            &self,
            object_id: &str,
            from_id: &str,
            from_name: &str,
            message: &str,
        ) -> Option<String> {
            let shared = self.shared();
            let mut st = shared.lock();
            let now = st.now();
            let (platform, owner, offset) = match st.objects.get(object_id) {
                Some(Object::Post(p)) => (Platform::Facebook, p.page_id.clone(), None),
                Some(Object::LiveVideo(l)) => (
                    Platform::Facebook,
                    l.page_id.clone(),
                    Some(now.saturating_sub(l.broadcast_start_time)),
                ),
                _ => match st.comments.ig_media.get(object_id) {
                    Some(ig) => (Platform::Instagram, ig.clone(), None),
                    None => return None,
                },
            };
            st.comments
                .people
                .insert(from_id.to_owned(), from_name.to_owned());
            Some(insert_comment(
                &mut st,
                NewComment {
                    platform,
                    object_id,
                    owner_id: &owner,
                    parent_id: None,
                    from: (from_id.to_owned(), from_name.to_owned()),
                    message: message.to_owned(),
                    created_time: now,
                    low_quality: false,
                    live_offset: offset,
                },
            ))
        }

        /// Registers `media_id` as Instagram media of `ig_user_id` whose comments the
        /// sandbox serves (`GET /{media}/comments`, replies, `hide`), and adds `count`
        /// comments to it. Returns the new comment ids, oldest first.
        pub fn add_ig_comments(
            &self,
            media_id: &str,
            ig_user_id: &str,
            count: usize,
        ) -> Vec<String> {
            let shared = self.shared();
            let mut st = shared.lock();
            st.comments
                .ig_media
                .insert(media_id.to_owned(), ig_user_id.to_owned());
            let now = st.now();
            (0..count)
                .map(|i| {
                    let at = now.saturating_sub((count - i) as u64 * 60);
                    super::add_random_comment(
                        &mut st,
                        Platform::Instagram,
                        media_id,
                        ig_user_id,
                        at,
                        None,
                    )
                })
                .collect()
        }

        /// Moves a comment's creation time back by `by` (to test the 7-day private-reply
        /// limit). Returns false for an unknown comment.
        pub fn age_comment(&self, comment_id: &str, by: std::time::Duration) -> bool {
            let shared = self.shared();
            let mut st = shared.lock();
            match st.objects.get_mut(comment_id) {
                Some(Object::Comment(c)) => {
                    c.created_time = c.created_time.saturating_sub(by.as_secs());
                    true
                }
                _ => false,
            }
        }
    }
}
