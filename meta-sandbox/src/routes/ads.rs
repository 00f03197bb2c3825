//! Marketing API: ad accounts and their campaigns. Calls here count against the
//! ad-account quota and its `ads_management` business use case (see `usage`).

use serde_json::{Map, Value, json};

use super::{Ctx, Outcome, permission, select};
use crate::error::GraphError;
use crate::pagination::{self, LinkBase, Quirks};
use crate::state::{Campaign, Object};
use crate::tokens::TokenKind;

const ACCOUNT_FIELDS: &[&str] = &[
    "id",
    "account_id",
    "name",
    "currency",
    "account_status",
    "timezone_name",
    "amount_spent",
];
const ACCOUNT_DEFAULT: &[&str] = &["id", "account_id", "name", "currency", "account_status"];
const CAMPAIGN_FIELDS: &[&str] = &[
    "id",
    "account_id",
    "name",
    "status",
    "effective_status",
    "objective",
    "special_ad_categories",
];
const CAMPAIGN_DEFAULT: &[&str] = &["id", "name", "status", "objective"];

fn require_user(ctx: &Ctx<'_>) -> Result<(), GraphError> {
    if ctx.token.kind == TokenKind::User {
        Ok(())
    } else {
        Err(permission(
            "(#200) Ad account owner has NOT grant ads_management or ads_read permission",
        ))
    }
}

/// `GET /act_{id}`.
pub(crate) fn get_account(ctx: &mut Ctx<'_>, id: &str) -> Outcome {
    require_user(ctx)?;
    let fields = ctx.fields(ACCOUNT_FIELDS, ACCOUNT_DEFAULT, "AdAccount")?;
    let Some(Object::AdAccount(a)) = ctx.st.objects.get(id) else {
        return Err(super::unsupported(&ctx.req.method, id));
    };
    let full = json!({
        "id": id,
        "account_id": a.account_id,
        "name": a.name,
        "currency": a.currency,
        "account_status": 1,
        "timezone_name": "America/Los_Angeles",
        "amount_spent": "0",
    });
    match full {
        Value::Object(m) => Ok(select(&m, &fields)),
        other => Ok(other),
    }
}

fn campaign_json(c: &Campaign) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(c.id));
    m.insert("account_id".into(), json!(c.account_id));
    m.insert("name".into(), json!(c.name));
    m.insert("status".into(), json!(c.status));
    m.insert("effective_status".into(), json!(c.status));
    m.insert("objective".into(), json!(c.objective));
    m.insert("special_ad_categories".into(), json!([]));
    m
}

/// `GET /act_{id}/campaigns`.
pub(crate) fn campaigns(ctx: &mut Ctx<'_>, id: &str) -> Outcome {
    require_user(ctx)?;
    let fields = ctx.fields(CAMPAIGN_FIELDS, CAMPAIGN_DEFAULT, "Campaign")?;
    let scope = format!("{id}/campaigns");
    let page_req = pagination::page_request(ctx.req, &scope)?;
    let items: Vec<(u64, Value)> = ctx
        .st
        .edge(id, "campaigns")
        .iter()
        .filter_map(|cid| match ctx.st.objects.get(cid) {
            Some(Object::Campaign(c)) => Some((c.seq, select(&campaign_json(c), &fields))),
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

/// `GET /{campaign-id}`.
pub(crate) fn get_campaign(ctx: &mut Ctx<'_>, id: &str) -> Outcome {
    require_user(ctx)?;
    let fields = ctx.fields(CAMPAIGN_FIELDS, CAMPAIGN_DEFAULT, "Campaign")?;
    let Some(Object::Campaign(c)) = ctx.st.objects.get(id) else {
        return Err(super::unsupported(&ctx.req.method, id));
    };
    Ok(select(&campaign_json(c), &fields))
}
