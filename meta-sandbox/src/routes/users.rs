//! The user node and `/me/accounts` (the Pages the user manages, with their tokens).

use serde_json::{Map, Value, json};

use super::{Ctx, Outcome, pages, permission, select};
use crate::pagination::{self, LinkBase, Quirks};
use crate::state::Object;
use crate::tokens::{DATA_ACCESS_SECS, SHORT_LIVED_SECS, TokenInfo, TokenKind};

const USER_FIELDS: &[&str] = &["id", "name", "first_name", "last_name", "short_name"];
const ACCOUNT_FIELDS: &[&str] = &[
    "id",
    "name",
    "access_token",
    "category",
    "category_list",
    "tasks",
    "instagram_business_account",
    "fan_count",
    "link",
];
const ACCOUNT_DEFAULT: &[&str] = &[
    "access_token",
    "category",
    "category_list",
    "name",
    "id",
    "tasks",
];
/// What the fixture user may do on each Page.
const TASKS: &[&str] = &[
    "ADVERTISE",
    "ANALYZE",
    "CREATE_CONTENT",
    "MESSAGING",
    "MODERATE",
    "MANAGE",
];

/// `GET /{user-id}` and `GET /me` with a user token.
pub(crate) fn get_user(ctx: &mut Ctx<'_>, id: &str) -> Outcome {
    let Some(Object::User(user)) = ctx.st.objects.get(id) else {
        return Err(super::unsupported(&ctx.req.method, id));
    };
    let fields = ctx.fields(USER_FIELDS, &["name", "id"], "User")?;
    let mut parts = user.name.splitn(2, ' ');
    let first = parts.next().unwrap_or_default();
    let last = parts.next().unwrap_or_default();
    let full = json!({
        "id": user.id,
        "name": user.name,
        "first_name": first,
        "last_name": last,
        "short_name": first,
    });
    match full {
        Value::Object(map) => Ok(select(&map, &fields)),
        other => Ok(other),
    }
}

/// The Page token a user token gets for `page_id`: the Page's permanent token for a
/// long-lived user token, a token expiring with the user token for a short-lived one
/// (as Meta documents for Page tokens).
pub(crate) fn page_token_for(ctx: &mut Ctx<'_>, page_id: &str) -> Option<String> {
    let permanent = ctx.st.page(page_id)?.access_token.clone();
    let info = &ctx.token;
    match info.kind {
        TokenKind::Page if info.page_id.as_deref() == Some(page_id) => ctx.raw_token.clone(),
        TokenKind::User => {
            let long_lived = info
                .expires_at
                .is_none_or(|e| e.saturating_sub(info.issued_at) > SHORT_LIVED_SECS);
            if long_lived {
                return Some(permanent);
            }
            let key = (
                ctx.raw_token.clone().unwrap_or_default(),
                page_id.to_owned(),
            );
            if let Some(t) = ctx.st.derived_page_tokens.get(&key) {
                return Some(t.clone());
            }
            let derived = TokenInfo {
                kind: TokenKind::Page,
                user_id: info.user_id.clone(),
                page_id: Some(page_id.to_owned()),
                issued_at: ctx.now,
                expires_at: info.expires_at,
                data_access_expires_at: ctx.now + DATA_ACCESS_SECS,
            };
            let t = ctx.st.mint_token(derived);
            ctx.st.derived_page_tokens.insert(key, t.clone());
            Some(t)
        }
        _ => None,
    }
}

/// `GET /{user-id}/accounts`.
pub(crate) fn accounts(ctx: &mut Ctx<'_>, user_id: &str) -> Outcome {
    if ctx.token.kind != TokenKind::User || ctx.token.user_id != user_id {
        return Err(permission(
            "(#200) Requires a user access token of this user to list the Pages they manage",
        ));
    }
    let fields = ctx.fields(ACCOUNT_FIELDS, ACCOUNT_DEFAULT, "Page")?;
    let scope = format!("{user_id}/accounts");
    let page_req = pagination::page_request(ctx.req, &scope)?;
    let ids: Vec<String> = ctx.st.edge(user_id, "accounts").to_vec();
    let len = ids.len() as u64;
    let mut items = Vec::with_capacity(ids.len());
    for (i, page_id) in ids.iter().enumerate() {
        let mut full: Map<String, Value> = match pages::page_json(ctx, page_id) {
            Some(Value::Object(m)) => m,
            _ => continue,
        };
        if fields.iter().any(|f| f == "access_token")
            && let Some(t) = page_token_for(ctx, page_id)
        {
            full.insert("access_token".into(), json!(t));
        }
        full.insert("tasks".into(), json!(TASKS));
        items.push((len - i as u64, select(&full, &fields)));
    }
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
