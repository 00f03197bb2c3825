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

/// `POST /{page-id}/feed` with the Page's token.
pub(crate) fn create_post(ctx: &mut Ctx<'_>, page_id: &str) -> Outcome {
    if !is_page_token(ctx, page_id) {
        return Err(permission(
            "(#200) If posting to a page, requires both pages_read_engagement and pages_manage_posts as an admin with sufficient administrative permission",
        ));
    }
    let params = &ctx.req.params;
    let message = params.non_empty("message").map(str::to_owned);
    let link = params.non_empty("link").map(str::to_owned);
    if message.is_none() && link.is_none() && params.non_empty("attached_media").is_none() {
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
    let scheduled = match params.non_empty("scheduled_publish_time") {
        None => None,
        Some(raw) => {
            let invalid =
                || GraphError::param("(#100) The specified scheduled publish time is invalid.");
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
            Some(t)
        }
    };
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
