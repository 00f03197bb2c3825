//! Insights: `GET /{page-id}/insights`, `/{post-id}/insights`, `/{ig-user-id}/insights`
//! and `/{ig-media-id}/insights` (also `/{id}/insights/{metric}`).
//!
//! Values are a pure function of the seed, the object, the metric and the period end,
//! so two sandboxes with the same seed report the same numbers. What is modelled:
//!
//! - metric names per object kind and API version: an unknown metric fails the whole
//!   request with code 100, as Meta does; a deprecated one fails from the version that
//!   retired it;
//! - `period` (`day`, `week`, `days_28`, `month`, `lifetime`, `total_over_range`),
//!   `since`/`until` (unix seconds or dates) with Meta's 93-day cap, one point per day
//!   ending at UTC midnight;
//! - Instagram accounts: `metric_type=time_series|total_value`, `breakdown=`;
//! - missing is not zero: a post's days before it was created carry no `value`, and a
//!   post without a video reports `post_video_views` as a real `0`.
//!
//! Error wording: the Page form `(#100) The value must be a valid insights metric` and
//! the Instagram form `(#100) metric[N] must be one of the following values: …` are
//! Meta's as commonly reported; the deprecation messages are modelled on Meta's
//! changelog wording ([MEM]: not verified against a capture), and name the metric.

use http::Method;
use serde_json::{Map, Value, json};

use super::{Ctx, Outcome};
use crate::error::GraphError;
use crate::state::Object;
use crate::time::{graph_time, parse_time};
use crate::tokens::TokenKind;

/// Which kind of object the insights are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Page,
    Post,
    IgUser,
    IgMedia,
}

/// `(name, deprecated in major version (0 = never), replacement, title)`.
type Row = (&'static str, u32, Option<&'static str>, &'static str);

const PAGE: &[Row] = &[
    ("page_post_engagements", 0, None, "Post engagements"),
    ("page_follows", 0, None, "Page follows"),
    ("page_daily_follows", 0, None, "Daily follows"),
    ("page_daily_follows_unique", 0, None, "Daily unique follows"),
    (
        "page_daily_unfollows_unique",
        0,
        None,
        "Daily unique unfollows",
    ),
    ("page_media_view", 0, None, "Media views"),
    (
        "page_total_media_view_unique",
        0,
        None,
        "Unique media views",
    ),
    ("page_views_total", 0, None, "Total Page views"),
    ("page_total_actions", 0, None, "Total actions"),
    ("page_video_views", 0, None, "Video views"),
    (
        "page_impressions",
        24,
        Some("page_media_view"),
        "Daily Total Impressions",
    ),
    (
        "page_impressions_unique",
        24,
        Some("page_total_media_view_unique"),
        "Daily Total Reach",
    ),
    (
        "page_fans",
        24,
        Some("page_follows"),
        "Lifetime Total Likes",
    ),
    (
        "page_fan_adds",
        24,
        Some("page_daily_follows"),
        "Daily New Likes",
    ),
    (
        "page_engaged_users",
        18,
        Some("page_post_engagements"),
        "Daily Page Engaged Users",
    ),
];
const POST: &[Row] = &[
    ("post_clicks", 0, None, "Post clicks"),
    (
        "post_reactions_by_type_total",
        0,
        None,
        "Lifetime Total post Reactions by Type.",
    ),
    ("post_video_views", 0, None, "Lifetime Total Video Views"),
    ("post_media_view", 0, None, "Media views"),
    (
        "post_total_media_view_unique",
        0,
        None,
        "Unique media views",
    ),
    (
        "post_impressions",
        24,
        Some("post_media_view"),
        "Lifetime Post Total Impressions",
    ),
    (
        "post_impressions_unique",
        24,
        Some("post_total_media_view_unique"),
        "Lifetime Post Total Reach",
    ),
    ("post_engaged_users", 18, None, "Lifetime Engaged Users"),
];
const IG_USER: &[Row] = &[
    ("reach", 0, None, "Accounts reached"),
    ("follower_count", 0, None, "Follower count"),
    ("website_clicks", 0, None, "Website clicks"),
    ("profile_views", 0, None, "Profile views"),
    ("accounts_engaged", 0, None, "Accounts engaged"),
    ("total_interactions", 0, None, "Content interactions"),
    ("likes", 0, None, "Likes"),
    ("comments", 0, None, "Comments"),
    ("shares", 0, None, "Shares"),
    ("saves", 0, None, "Saves"),
    ("replies", 0, None, "Replies"),
    ("views", 0, None, "Views"),
    ("impressions", 22, Some("views"), "Impressions"),
];
const IG_MEDIA: &[Row] = &[
    ("reach", 0, None, "Accounts reached"),
    ("likes", 0, None, "Likes"),
    ("comments", 0, None, "Comments"),
    ("shares", 0, None, "Shares"),
    ("saved", 0, None, "Saved"),
    ("total_interactions", 0, None, "Interactions"),
    ("views", 0, None, "Views"),
    ("replies", 0, None, "Replies"),
    ("impressions", 22, Some("views"), "Impressions"),
    ("plays", 22, Some("views"), "Plays"),
];

/// Meta's cap on `until - since` for insights ranges.
const MAX_RANGE_SECS: u64 = 93 * 86_400;
const DAY: u64 = 86_400;
/// `since`/`until` beyond the year 3000 are not times anyone means.
const LATEST_TIME: u64 = 32_503_680_000;

fn rows(scope: Scope) -> &'static [Row] {
    match scope {
        Scope::Page => PAGE,
        Scope::Post => POST,
        Scope::IgUser => IG_USER,
        Scope::IgMedia => IG_MEDIA,
    }
}

/// The major number of `v26.0`.
fn major(version: &str) -> u32 {
    version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}

/// The area router (see `routes::AREAS`).
pub(crate) fn route(
    ctx: &mut Ctx<'_>,
    method: &Method,
    id: &str,
    obj: &Object,
    rest: &[&str],
) -> Option<Outcome> {
    let scope = match obj {
        Object::Page(_) => Scope::Page,
        Object::Post(_) => Scope::Post,
        Object::IgUser(_) => Scope::IgUser,
        Object::IgMedia(_) => Scope::IgMedia,
        _ => return None,
    };
    let metric_in_path = match rest {
        ["insights"] => None,
        ["insights", metric] => Some((*metric).to_owned()),
        _ => return None,
    };
    if *method != Method::GET {
        return Some(Err(GraphError::unknown_object(method.as_str(), id)));
    }
    Some(insights(ctx, scope, id, obj, metric_in_path))
}

/// Page and post insights need the Page's own token, as on Graph.
fn authorize(ctx: &Ctx<'_>, scope: Scope, obj: &Object) -> Result<(), GraphError> {
    let page = match obj {
        Object::Page(p) => Some(p.id.as_str()),
        Object::Post(p) => Some(p.page_id.as_str()),
        _ => None,
    };
    match scope {
        Scope::Page | Scope::Post => {
            if ctx.token.kind == TokenKind::Page && ctx.token.page_id.as_deref() == page {
                Ok(())
            } else {
                Err(GraphError::new(
                    "OAuthException",
                    190,
                    "(#190) This method must be called with a Page Access Token",
                ))
            }
        }
        Scope::IgUser | Scope::IgMedia => {
            if ctx.token.kind == TokenKind::App {
                Err(GraphError::new(
                    "OAuthException",
                    10,
                    "(#10) Application does not have permission for this action",
                ))
            } else {
                Ok(())
            }
        }
    }
}

fn invalid_metric(scope: Scope, index: usize, version: u32) -> GraphError {
    match scope {
        Scope::Page | Scope::Post => {
            GraphError::param("(#100) The value must be a valid insights metric")
        }
        Scope::IgUser | Scope::IgMedia => {
            let valid: Vec<&str> = rows(scope)
                .iter()
                .filter(|r| r.1 == 0 || version < r.1)
                .map(|r| r.0)
                .collect();
            GraphError::param(format!(
                "(#100) metric[{index}] must be one of the following values: {}",
                valid.join(", ")
            ))
        }
    }
}

fn deprecated_metric(scope: Scope, row: &Row) -> GraphError {
    let (name, since, replacement, _) = *row;
    let hint = replacement
        .map(|r| format!(" Please use {r} instead."))
        .unwrap_or_default();
    match scope {
        Scope::IgUser | Scope::IgMedia => GraphError::param(format!(
            "(#100) Starting from v{since}.0, the {name} metric is no longer supported.{hint}"
        )),
        Scope::Page | Scope::Post => GraphError::param(format!(
            "(#100) The {name} metric was deprecated in v{since}.0.{hint}"
        )),
    }
}

/// A stable pseudo-random number for one data point.
fn mix(parts: &[&str], seed: u64) -> u64 {
    // FNV-1a, then a splitmix finaliser: cheap, stable across runs and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The value of `metric` on `id` for the period ending at `end` (`0` for lifetime).
fn value_of(ctx: &Ctx<'_>, scope: Scope, id: &str, metric: &str, period: &str, end: u64) -> Value {
    let seed = ctx.shared.config.seed;
    let h = mix(&[id, metric, period, &end.to_string()], seed);
    let scale: u64 = match period {
        "week" => 7,
        "days_28" => 28,
        "month" => 30,
        "lifetime" | "total_over_range" => 40,
        _ => 1,
    };
    match (scope, metric) {
        (Scope::Post, "post_reactions_by_type_total") => json!({
            "like": h % 40, "love": (h >> 8) % 15, "wow": (h >> 16) % 4, "haha": (h >> 24) % 6,
        }),
        // Sandbox posts are text posts: a real zero, not missing.
        (Scope::Post, "post_video_views") => json!(0),
        (Scope::IgUser, "follower_count") => json!(1_000 + h % 50),
        (Scope::Page, "page_follows" | "page_fans") => json!(5_000 + h % 200),
        _ => json!((h % 500 + 1) * scale),
    }
}

/// Parses `since`/`until` (unix seconds or a date Graph accepts).
fn time_param(ctx: &Ctx<'_>, key: &str) -> Result<Option<u64>, GraphError> {
    match ctx.req.params.non_empty(key) {
        None => Ok(None),
        Some(raw) => raw
            .parse::<u64>()
            .ok()
            .or_else(|| parse_time(raw))
            // Graph also takes bare dates (`2026-01-01`), read as UTC midnight.
            .or_else(|| parse_time(&format!("{raw}T00:00:00Z")))
            // Far-future values are refused rather than overflowing the day loop.
            .filter(|t| *t < LATEST_TIME)
            .map(Some)
            .ok_or_else(|| {
                GraphError::param(format!(
                    "(#100) The parameter {key} must be a unix timestamp or a date"
                ))
            }),
    }
}

fn insights(
    ctx: &mut Ctx<'_>,
    scope: Scope,
    id: &str,
    obj: &Object,
    metric_in_path: Option<String>,
) -> Outcome {
    authorize(ctx, scope, obj)?;
    let version = major(&ctx.version);
    let raw = metric_in_path
        .or_else(|| ctx.req.params.non_empty("metric").map(str::to_owned))
        .ok_or_else(|| GraphError::param("(#100) The parameter metric is required"))?;
    let names: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if names.is_empty() {
        return Err(GraphError::param("(#100) The parameter metric is required"));
    }
    let mut selected: Vec<&'static Row> = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let Some(row) = rows(scope).iter().find(|r| r.0 == *name) else {
            return Err(invalid_metric(scope, i, version));
        };
        if row.1 != 0 && version >= row.1 {
            return Err(deprecated_metric(scope, row));
        }
        selected.push(row);
    }
    let period = match ctx.req.params.non_empty("period") {
        None => match scope {
            Scope::Post | Scope::IgMedia => "lifetime",
            Scope::Page | Scope::IgUser => "day",
        },
        Some(p @ ("day" | "week" | "days_28" | "month" | "lifetime" | "total_over_range")) => p,
        Some(_) => {
            return Err(GraphError::param(
                "(#100) period must be one of the following values: day, week, days_28, month, lifetime, total_over_range",
            ));
        }
    }
    .to_owned();
    let metric_type = ctx.req.params.non_empty("metric_type").map(str::to_owned);
    let breakdown = ctx.req.params.non_empty("breakdown").map(str::to_owned);
    if scope != Scope::IgUser && (metric_type.is_some() || breakdown.is_some()) {
        return Err(GraphError::param(
            "(#100) metric_type and breakdown are only supported for Instagram users",
        ));
    }
    if let Some(t) = metric_type.as_deref()
        && !matches!(t, "time_series" | "total_value")
    {
        return Err(GraphError::param(
            "(#100) metric_type must be one of the following values: time_series, total_value",
        ));
    }
    if breakdown.is_some() && metric_type.as_deref() != Some("total_value") {
        return Err(GraphError::param(
            "(#100) The breakdown parameter is only supported with metric_type=total_value",
        ));
    }

    // The window: whole UTC days; by default the two days before today.
    let now = ctx.now;
    let today = now - now % DAY;
    let since = time_param(ctx, "since")?;
    let until = time_param(ctx, "until")?;
    let (from, to) = match (since, until) {
        (Some(s), Some(u)) => (s, u),
        (Some(s), None) => (s, now.max(s + DAY)),
        (None, Some(u)) => (u.saturating_sub(2 * DAY), u),
        (None, None) => (today.saturating_sub(2 * DAY), today),
    };
    if from >= to {
        return Err(GraphError::param("(#100) since must be earlier than until"));
    }
    if to - from > MAX_RANGE_SECS {
        return Err(GraphError::param(format!(
            "(#100) There cannot be more than 93 days ({MAX_RANGE_SECS} s) between since and until"
        )));
    }
    let created = match obj {
        Object::Post(p) => Some(p.created_time),
        _ => None,
    };

    let mut data = Vec::with_capacity(selected.len());
    for row in selected {
        let (name, _, _, title) = *row;
        let mut m = Map::new();
        m.insert("name".into(), json!(name));
        m.insert("period".into(), json!(period));
        if metric_type.as_deref() == Some("total_value") {
            let total = value_of(ctx, scope, id, name, "total_over_range", to);
            let mut tv = Map::new();
            tv.insert("value".into(), total.clone());
            if let Some(dim) = &breakdown {
                let n = total.as_u64().unwrap_or(0);
                let first = n / 2;
                tv.insert(
                    "breakdowns".into(),
                    json!([{"dimension_keys": [dim], "results": [
                        {"dimension_values": ["REEL"], "value": first},
                        {"dimension_values": ["POST"], "value": n - first},
                    ]}]),
                );
            }
            m.insert("total_value".into(), Value::Object(tv));
        } else if matches!(period.as_str(), "lifetime" | "total_over_range") {
            m.insert(
                "values".into(),
                json!([{ "value": value_of(ctx, scope, id, name, &period, 0) }]),
            );
        } else {
            let mut values = Vec::new();
            let mut day = from - from % DAY;
            while day < to {
                let end = day + DAY;
                let mut point = Map::new();
                // A post has no data for days that ended before it existed.
                if created.is_none_or(|c| end > c) {
                    point.insert("value".into(), value_of(ctx, scope, id, name, &period, end));
                }
                point.insert("end_time".into(), json!(graph_time(end)));
                values.push(Value::Object(point));
                day = end;
            }
            m.insert("values".into(), Value::Array(values));
        }
        m.insert("title".into(), json!(title));
        m.insert(
            "description".into(),
            json!(format!("{title} ({period}), from meta-sandbox.")),
        );
        m.insert("id".into(), json!(format!("{id}/insights/{name}/{period}")));
        data.push(Value::Object(m));
    }
    let base = format!("{}/{}/{id}/insights", ctx.shared.base_url, ctx.version);
    let span = to - from;
    Ok(json!({
        "data": data,
        "paging": {
            "previous": format!("{base}?metric={raw}&period={period}&since={}&until={from}", from.saturating_sub(span)),
            "next": format!("{base}?metric={raw}&period={period}&since={to}&until={}", to + span),
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_stable() {
        assert_eq!(mix(&["a", "b"], 1), mix(&["a", "b"], 1));
        assert_ne!(mix(&["a", "b"], 1), mix(&["ab"], 1));
        assert_ne!(mix(&["a", "b"], 1), mix(&["a", "b"], 2));
        assert_eq!(major("v26.0"), 26);
        assert_eq!(major("v22.0"), 22);
    }
}
