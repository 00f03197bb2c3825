//! Live videos: `GET /{page}/live_videos` (with `broadcast_status`), `GET /{live-video}`,
//! `POST /{live-video}` (`end_live_video=true`, `title`, `description`), and controls to
//! add comments over time and to end a broadcast. Comments on live videos are served by
//! the comments area.
//!
//! Every fixture Page has one ended broadcast (`VOD`); the first Page also has one
//! broadcast `LIVE` now, with [`SandboxConfig::live_comments`] comments seeded over the
//! last half hour.

use http::Method;
use serde_json::{Map, Value, json};

use super::comments::{self, Platform};
use super::{Ctx, Outcome, permission, select};
use crate::config::SandboxConfig;
use crate::error::GraphError;
use crate::fixtures::digits;
use crate::pagination::{self, LinkBase, Quirks};
use crate::state::{Object, State};
use crate::time::graph_time;
use crate::tokens::TokenKind;

/// A live video node.
#[derive(Debug, Clone)]
pub(crate) struct LiveVideoNode {
    pub(crate) id: String,
    pub(crate) page_id: String,
    /// Creation order; the pagination key.
    pub(crate) seq: u64,
    pub(crate) title: String,
    pub(crate) description: String,
    /// Graph's `status`: `LIVE`, `VOD`, `LIVE_STOPPED`, `SCHEDULED_UNPUBLISHED`, ...
    pub(crate) status: String,
    pub(crate) creation_time: u64,
    pub(crate) broadcast_start_time: u64,
}

const FIELDS: &[&str] = &[
    "id",
    "title",
    "description",
    "status",
    "creation_time",
    "broadcast_start_time",
    "permalink_url",
    "from",
    "live_views",
    "embed_html",
    "video",
];
const DEFAULT_FIELDS: &[&str] = &["id", "status", "title", "description"];
/// `pagelive_videos_broadcast_status_enum_param` (codegen `enum_types.json`).
const BROADCAST_STATUSES: &[&str] = &[
    "LIVE",
    "LIVE_STOPPED",
    "PROCESSING",
    "SCHEDULED_CANCELED",
    "SCHEDULED_EXPIRED",
    "SCHEDULED_LIVE",
    "SCHEDULED_UNPUBLISHED",
    "UNPUBLISHED",
    "VOD",
];

fn mint_live(st: &mut State, page_id: &str, title: &str, status: &str, started: u64) -> String {
    let id = loop {
        let id = digits(st.comments.rng(), 16);
        if !st.objects.contains_key(&id) {
            break id;
        }
    };
    let seq = st.next_seq;
    st.next_seq += 1;
    st.objects.insert(
        id.clone(),
        Object::LiveVideo(LiveVideoNode {
            id: id.clone(),
            page_id: page_id.to_owned(),
            seq,
            title: title.to_owned(),
            description: format!("{title}: live from the shop floor."),
            status: status.to_owned(),
            creation_time: started.saturating_sub(600),
            broadcast_start_time: started,
        }),
    );
    st.edge_mut(page_id, "live_videos").insert(0, id.clone());
    id
}

/// Seeds one ended broadcast per Page, and on the first Page a broadcast live now.
pub(crate) fn seed_page(
    st: &mut State,
    config: &SandboxConfig,
    page_id: &str,
    busy: bool,
    now: u64,
) {
    let started = now.saturating_sub(3 * 86_400);
    let vod = mint_live(st, page_id, "Workshop tour", "VOD", started);
    for k in 0..20u64 {
        comments::add_random_comment(
            st,
            Platform::Facebook,
            &vod,
            page_id,
            started + k * 30,
            Some(k * 30),
        );
    }
    if busy {
        let started = now.saturating_sub(1800);
        let live = mint_live(st, page_id, "Spring sale live", "LIVE", started);
        let n = config.live_comments as u64;
        for k in 0..n {
            // Spread over the half hour so far; several comments may share a second.
            let offset = (k * 1800).checked_div(n).unwrap_or(0);
            comments::add_random_comment(
                st,
                Platform::Facebook,
                &live,
                page_id,
                started + offset,
                Some(offset),
            );
        }
    }
}

/// Routes live-video paths.
pub(crate) fn route(
    ctx: &mut Ctx<'_>,
    method: &Method,
    id: &str,
    obj: &Object,
    rest: &[&str],
) -> Option<Outcome> {
    Some(match (obj, rest, method) {
        (Object::Page(_), ["live_videos"], &Method::GET) => list(ctx, id),
        (Object::LiveVideo(l), [], &Method::GET) => get(ctx, l),
        (Object::LiveVideo(l), [], &Method::POST) => update(ctx, l),
        _ => return None,
    })
}

fn live_json(ctx: &Ctx<'_>, l: &LiveVideoNode) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(l.id));
    m.insert("title".into(), json!(l.title));
    m.insert("description".into(), json!(l.description));
    m.insert("status".into(), json!(l.status));
    m.insert("creation_time".into(), json!(graph_time(l.creation_time)));
    m.insert(
        "broadcast_start_time".into(),
        json!(graph_time(l.broadcast_start_time)),
    );
    m.insert(
        "permalink_url".into(),
        json!(format!("/{}/videos/{}/", l.page_id, l.id)),
    );
    let name = ctx
        .st
        .page(&l.page_id)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    m.insert("from".into(), json!({"name": name, "id": l.page_id}));
    let views = if l.status == "LIVE" {
        ctx.st.edge(&l.id, "comments").len() / 3 + 12
    } else {
        0
    };
    m.insert("live_views".into(), json!(views));
    m.insert(
        "embed_html".into(),
        json!(format!(
            "<iframe src=\"https://www.facebook.com/plugins/video.php?href=https%3A%2F%2Fwww.facebook.com%2F{}%2Fvideos%2F{}%2F\" width=\"1280\" height=\"720\"></iframe>",
            l.page_id, l.id
        )),
    );
    m.insert("video".into(), json!({"id": l.id}));
    m
}

/// `GET /{page}/live_videos`, newest first, filtered by `broadcast_status` (a JSON list
/// or a comma-separated list).
fn list(ctx: &mut Ctx<'_>, page_id: &str) -> Outcome {
    let fields = ctx.fields(FIELDS, DEFAULT_FIELDS, "LiveVideo")?;
    let wanted: Option<Vec<String>> = match ctx.req.params.non_empty("broadcast_status") {
        None => None,
        Some(raw) => {
            let list: Vec<String> = match serde_json::from_str::<Vec<String>>(raw) {
                Ok(v) => v,
                Err(_) => raw
                    .split(',')
                    .map(|s| s.trim().trim_matches('"').to_owned())
                    .collect(),
            };
            for s in &list {
                if !BROADCAST_STATUSES.contains(&s.as_str()) {
                    return Err(GraphError::param(format!(
                        "(#100) param broadcast_status[0] must be one of {{{}}} - got \"{s}\"",
                        BROADCAST_STATUSES.join(", ")
                    )));
                }
            }
            Some(list)
        }
    };
    let items: Vec<(u64, Value)> = ctx
        .st
        .edge(page_id, "live_videos")
        .iter()
        .filter_map(|id| match ctx.st.objects.get(id) {
            Some(Object::LiveVideo(l)) => Some(l),
            _ => None,
        })
        .filter(|l| wanted.as_ref().is_none_or(|w| w.contains(&l.status)))
        .map(|l| (l.seq, select(&live_json(ctx, l), &fields)))
        .collect();
    let scope = format!("{page_id}/live_videos");
    let page_req = pagination::page_request(ctx.req, &scope)?;
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

fn get(ctx: &mut Ctx<'_>, l: &LiveVideoNode) -> Outcome {
    let fields = ctx.fields(FIELDS, DEFAULT_FIELDS, "LiveVideo")?;
    Ok(select(&live_json(ctx, l), &fields))
}

/// `POST /{live-video}`: `end_live_video=true` ends the broadcast (status `VOD`);
/// `title` and `description` update it. Needs the Page's token.
fn update(ctx: &mut Ctx<'_>, l: &LiveVideoNode) -> Outcome {
    if !(ctx.token.kind == TokenKind::Page && ctx.token.page_id.as_deref() == Some(&l.page_id)) {
        return Err(permission(
            "(#200) Requires the Page's access token with pages_manage_posts to update its live videos",
        ));
    }
    let params = &ctx.req.params;
    let end = matches!(params.non_empty("end_live_video"), Some("true" | "1"));
    let title = params.non_empty("title").map(str::to_owned);
    let description = params.non_empty("description").map(str::to_owned);
    if end && l.status != "LIVE" {
        return Err(GraphError::param(
            "(#100) This live video is not live and cannot be ended",
        ));
    }
    if let Some(Object::LiveVideo(node)) = ctx.st.objects.get_mut(&l.id) {
        if end {
            node.status = "VOD".to_owned();
        }
        if let Some(t) = title {
            node.title = t;
        }
        if let Some(d) = description {
            node.description = d;
        }
    }
    ctx.applied = true;
    Ok(json!({"id": l.id}))
}

mod control {
    use super::super::comments::{Platform, add_random_comment};
    use crate::server::SandboxControl;
    use crate::state::Object;

    impl SandboxControl {
        /// The Page's broadcast that is `LIVE` now, if any (the first fixture Page has one).
        pub fn live_video_id(&self, page_id: &str) -> Option<String> {
            let shared = self.shared();
            let st = shared.lock();
            st.edge(page_id, "live_videos")
                .iter()
                .find(|id| matches!(st.objects.get(id.as_str()), Some(Object::LiveVideo(l)) if l.status == "LIVE"))
                .cloned()
        }

        /// Adds `count` comments from viewers to a live video, timed now on the sandbox
        /// clock. Returns their ids, oldest first (empty for an unknown live video).
        pub fn add_live_comments(&self, live_video_id: &str, count: usize) -> Vec<String> {
            let shared = self.shared();
            let mut st = shared.lock();
            let (page_id, started) = match st.objects.get(live_video_id) {
                Some(Object::LiveVideo(l)) => (l.page_id.clone(), l.broadcast_start_time),
                _ => return Vec::new(),
            };
            let now = st.now();
            (0..count)
                .map(|_| {
                    add_random_comment(
                        &mut st,
                        Platform::Facebook,
                        live_video_id,
                        &page_id,
                        now,
                        Some(now.saturating_sub(started)),
                    )
                })
                .collect()
        }

        /// Ends a broadcast (status `VOD`), as `POST /{id}?end_live_video=true` does.
        /// Returns false when the id is not a live video.
        pub fn end_live_video(&self, live_video_id: &str) -> bool {
            let shared = self.shared();
            let mut st = shared.lock();
            match st.objects.get_mut(live_video_id) {
                Some(Object::LiveVideo(l)) => {
                    l.status = "VOD".to_owned();
                    true
                }
                _ => false,
            }
        }
    }
}
