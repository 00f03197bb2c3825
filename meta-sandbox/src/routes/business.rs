//! Business portfolios (Business Manager): the business node and its Page edges,
//! `GET /{business-id}/owned_pages` and `GET /{business-id}/client_pages`, each Page with
//! its token when `fields` asks for `access_token`.
//!
//! The seeded business owns every fixture Page but the last, and has client access to the
//! last one (with one fixture Page, it owns it and has no client Pages). The fixture user
//! is its admin, so their user token (which carries `business_management`) reads both
//! edges. Page tokens come out exactly as `/me/accounts` gives them: permanent for a
//! long-lived user token, expiring with a short-lived one.

use serde_json::{Map, Value, json};

use super::{Ctx, Outcome, pages, permission, select, users};
use crate::fixtures::Fixtures;
use crate::pagination::{self, LinkBase, Quirks};
use crate::state::{Object, State};
use crate::tokens::TokenKind;

/// A business portfolio.
#[derive(Debug, Clone)]
pub(crate) struct Business {
    pub(crate) id: String,
    pub(crate) name: String,
    /// Admins: users whose tokens may read the business.
    pub(crate) admins: Vec<String>,
}

const BUSINESS_FIELDS: &[&str] = &["id", "name", "verification_status"];
/// Page fields readable on the business edges. `tasks` belongs to the user–Page
/// relation of `/me/accounts`, not to the Page node, so it is not among them.
const PAGE_FIELDS: &[&str] = &[
    "id",
    "name",
    "access_token",
    "about",
    "category",
    "category_list",
    "fan_count",
    "link",
    "instagram_business_account",
];
/// Graph's default for Page edges: id and name.
const PAGE_DEFAULT: &[&str] = &["id", "name"];

/// Adds the fixture business and its edges to a fresh state.
pub(crate) fn seed(st: &mut State, f: &Fixtures) {
    let b = &f.business;
    st.objects.insert(
        b.id.clone(),
        Object::Business(Business {
            id: b.id.clone(),
            name: b.name.clone(),
            admins: vec![f.user_id.clone()],
        }),
    );
    *st.edge_mut(&b.id, "owned_pages") = b.owned_page_ids.clone();
    *st.edge_mut(&b.id, "client_pages") = b.client_page_ids.clone();
}

/// The area router: the business node and its Page edges.
pub(crate) fn route(
    ctx: &mut Ctx<'_>,
    method: &http::Method,
    id: &str,
    obj: &Object,
    rest: &[&str],
) -> Option<Outcome> {
    let Object::Business(b) = obj else {
        return None;
    };
    if *method != http::Method::GET {
        return Some(Err(super::unsupported(method, id)));
    }
    Some(match rest {
        [] => get_business(ctx, b),
        [edge @ ("owned_pages" | "client_pages")] => page_edge(ctx, b, edge),
        [edge, ..] => Err(crate::error::GraphError::unknown_path(edge)),
    })
}

/// Only the business's admins (with a user token) may read it; Page and app tokens
/// get Graph's permission error.
fn check_admin(ctx: &Ctx<'_>, b: &Business) -> Result<(), crate::error::GraphError> {
    if ctx.token.kind == TokenKind::User && b.admins.contains(&ctx.token.user_id) {
        return Ok(());
    }
    Err(permission(
        "(#200) Requires business_management permission to manage the object",
    ))
}

fn get_business(ctx: &mut Ctx<'_>, b: &Business) -> Outcome {
    check_admin(ctx, b)?;
    let fields = ctx.fields(BUSINESS_FIELDS, &["id", "name"], "Business")?;
    let mut full = Map::new();
    full.insert("id".into(), json!(b.id));
    full.insert("name".into(), json!(b.name));
    full.insert("verification_status".into(), json!("verified"));
    Ok(select(&full, &fields))
}

fn page_edge(ctx: &mut Ctx<'_>, b: &Business, edge: &str) -> Outcome {
    check_admin(ctx, b)?;
    let fields = ctx.fields(PAGE_FIELDS, PAGE_DEFAULT, "Page")?;
    let scope = format!("{}/{edge}", b.id);
    let page_req = pagination::page_request(ctx.req, &scope)?;
    let ids: Vec<String> = ctx.st.edge(&b.id, edge).to_vec();
    let len = ids.len() as u64;
    let mut items = Vec::with_capacity(ids.len());
    for (i, page_id) in ids.iter().enumerate() {
        let mut full: Map<String, Value> = match pages::page_json(ctx, page_id) {
            Some(Value::Object(m)) => m,
            _ => continue,
        };
        if fields.iter().any(|f| f == "access_token")
            && let Some(t) = users::page_token_for(ctx, page_id)
        {
            full.insert("access_token".into(), json!(t));
        }
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
