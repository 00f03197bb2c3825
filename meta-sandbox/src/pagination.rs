//! Cursor pagination, shaped like Graph's: `data`, `paging.cursors.{before,after}`,
//! `paging.next`/`previous` as absolute URLs.
//!
//! Lists are shown newest first and every item has a key that strictly decreases along
//! the list (posts use their creation sequence), so a cursor stays meaningful when posts
//! are added or deleted between two page requests.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::error::GraphError;
use crate::request::GraphRequest;

/// Page size when `limit` is absent.
pub(crate) const DEFAULT_LIMIT: usize = 25;
/// Largest page size; larger requests are clamped.
pub(crate) const MAX_LIMIT: usize = 100;

/// How a list is being read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageRequest {
    pub(crate) limit: usize,
    pub(crate) after: Option<u64>,
    pub(crate) before: Option<u64>,
    /// The raw `after` cursor, echoed back by the looping Page.
    pub(crate) raw_after: Option<String>,
}

/// Encodes a cursor. `scope` ties it to one list, so a cursor from another edge is refused.
pub(crate) fn encode_cursor(scope: &str, key: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("sbx1:{scope}:{key}"))
}

fn decode_cursor(scope: &str, cursor: &str) -> Result<u64, GraphError> {
    let bad = || GraphError::param(format!("(#100) Invalid cursor: {cursor}"));
    let raw = URL_SAFE_NO_PAD.decode(cursor.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let rest = text
        .strip_prefix("sbx1:")
        .and_then(|r| r.strip_prefix(scope))
        .and_then(|r| r.strip_prefix(':'))
        .ok_or_else(bad)?;
    rest.parse().map_err(|_| bad())
}

/// Reads `limit`, `after` and `before`.
pub(crate) fn page_request(req: &GraphRequest, scope: &str) -> Result<PageRequest, GraphError> {
    let limit = match req.params.non_empty("limit") {
        None => DEFAULT_LIMIT,
        Some(l) => l
            .trim()
            .parse::<usize>()
            .map_err(|_| GraphError::param("(#100) Param limit must be a non-negative integer"))?,
    }
    .clamp(1, MAX_LIMIT);
    let raw_after = req.params.non_empty("after").map(str::to_owned);
    let after = raw_after
        .as_deref()
        .map(|c| decode_cursor(scope, c))
        .transpose()?;
    let before = req
        .params
        .non_empty("before")
        .map(|c| decode_cursor(scope, c))
        .transpose()?;
    Ok(PageRequest {
        limit,
        after,
        before,
        raw_after,
    })
}

/// Where `next`/`previous` links point.
#[derive(Debug, Clone)]
pub(crate) struct LinkBase<'a> {
    pub(crate) base_url: &'a str,
    pub(crate) version: &'a str,
    /// The path after the version, e.g. `123/feed`.
    pub(crate) path: &'a str,
}

fn link(
    base: &LinkBase<'_>,
    req: &GraphRequest,
    param: &str,
    cursor: &str,
    limit: usize,
) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in req.params.iter() {
        if !matches!(k, "after" | "before" | "limit") {
            query.append_pair(k, v);
        }
    }
    query.append_pair("limit", &limit.to_string());
    query.append_pair(param, cursor);
    format!(
        "{}/{}/{}?{}",
        base.base_url,
        base.version,
        base.path,
        query.finish()
    )
}

/// How the page is built.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Quirks {
    /// Reproduce Meta's repeating-cursor bug past the second page.
    pub(crate) loop_after_second_page: bool,
}

/// Builds one page of `items` (newest first, keys strictly decreasing).
pub(crate) fn paginate(
    items: Vec<(u64, Value)>,
    page: &PageRequest,
    scope: &str,
    base: &LinkBase<'_>,
    req: &GraphRequest,
    quirks: Quirks,
) -> Value {
    let len = items.len();
    let (start, end) = if let Some(after) = page.after {
        let start = items.iter().position(|(k, _)| *k < after).unwrap_or(len);
        (start, (start + page.limit).min(len))
    } else if let Some(before) = page.before {
        let end = items.iter().position(|(k, _)| *k <= before).unwrap_or(len);
        (end.saturating_sub(page.limit), end)
    } else {
        (0, page.limit.min(len))
    };
    let looping = quirks.loop_after_second_page && start >= 2 * page.limit;
    let first_key = items.get(start).map(|(k, _)| *k);
    let last_key = end
        .checked_sub(1)
        .and_then(|i| items.get(i))
        .map(|(k, _)| *k);
    let data: Vec<Value> = items
        .into_iter()
        .skip(start)
        .take(end - start)
        .map(|(_, v)| v)
        .collect();
    let mut out = Map::new();
    out.insert("data".into(), Value::Array(data));
    if let (Some(first), Some(last)) = (first_key, last_key) {
        let before = encode_cursor(scope, first);
        let after = match (&page.raw_after, looping) {
            (Some(raw), true) => raw.clone(),
            _ => encode_cursor(scope, last),
        };
        let mut paging = Map::new();
        paging.insert("cursors".into(), json!({"before": before, "after": after}));
        if start > 0 {
            paging.insert(
                "previous".into(),
                json!(link(base, req, "before", &before, page.limit)),
            );
        }
        if end < len || looping {
            paging.insert(
                "next".into(),
                json!(link(base, req, "after", &after, page.limit)),
            );
        }
        out.insert("paging".into(), Value::Object(paging));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::*;
    use crate::request::Params;

    fn req(query: &str) -> GraphRequest {
        let mut params = Params::default();
        params.extend_urlencoded(query.as_bytes());
        GraphRequest {
            method: Method::GET,
            path: "/v26.0/1/feed".into(),
            params,
            header_token: None,
            fallback_token: None,
            default_version: None,
        }
    }

    fn items(n: u64) -> Vec<(u64, Value)> {
        (1..=n).rev().map(|k| (k, json!(k))).collect()
    }

    const BASE: LinkBase<'static> = LinkBase {
        base_url: "http://x",
        version: "v26.0",
        path: "1/feed",
    };

    fn walk(n: u64, limit: usize) -> Vec<Value> {
        let mut seen = Vec::new();
        let mut query = format!("limit={limit}");
        loop {
            let r = req(&query);
            let page = page_request(&r, "s").unwrap();
            let out = paginate(items(n), &page, "s", &BASE, &r, Quirks::default());
            seen.extend(out["data"].as_array().unwrap().iter().cloned());
            let Some(next) = out["paging"]["next"].as_str() else {
                assert!(out["paging"]["cursors"]["after"].is_string());
                break;
            };
            query = next.split_once('?').unwrap().1.to_owned();
        }
        seen
    }

    #[test]
    fn walks_every_item_once() {
        let seen = walk(53, 10);
        assert_eq!(
            seen,
            items(53).into_iter().map(|(_, v)| v).collect::<Vec<_>>()
        );
        assert_eq!(walk(20, 10).len(), 20);
    }

    #[test]
    fn before_goes_back() {
        let r = req("limit=5");
        let p = page_request(&r, "s").unwrap();
        let first = paginate(items(20), &p, "s", &BASE, &r, Quirks::default());
        let after = first["paging"]["cursors"]["after"].as_str().unwrap();
        let r2 = req(&format!("limit=5&after={after}"));
        let p2 = page_request(&r2, "s").unwrap();
        let second = paginate(items(20), &p2, "s", &BASE, &r2, Quirks::default());
        assert_eq!(second["data"][0], 15);
        let before = second["paging"]["cursors"]["before"].as_str().unwrap();
        let r3 = req(&format!("limit=5&before={before}"));
        let p3 = page_request(&r3, "s").unwrap();
        let back = paginate(items(20), &p3, "s", &BASE, &r3, Quirks::default());
        assert_eq!(back["data"], first["data"]);
    }

    #[test]
    fn limit_is_clamped_and_cursors_are_scoped() {
        assert_eq!(page_request(&req("limit=500"), "s").unwrap().limit, 100);
        assert!(page_request(&req("limit=x"), "s").is_err());
        let c = encode_cursor("other", 3);
        assert!(page_request(&req(&format!("after={c}")), "s").is_err());
        assert!(page_request(&req("after=!!!"), "s").is_err());
    }
}
