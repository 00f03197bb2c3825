//! Graph routing: the checks every call goes through, then one module per area.
//!
//! [`dispatch`] runs, in Meta's order: version → (OAuth endpoints need no token) → token
//! → `appsecret_proof` → quotas → the handler. It is synchronous and works on a
//! [`GraphRequest`], so HTTP requests and batch items share every line of it.

pub(crate) mod ads;
pub(crate) mod business;
pub(crate) mod comments;
pub(crate) mod iglogin;
pub(crate) mod insights;
pub(crate) mod instagram;
pub(crate) mod live;
pub(crate) mod messenger;
pub(crate) mod oauth;
pub(crate) mod pages;
pub(crate) mod users;

use http::Method;
use serde_json::{Map, Value};

use crate::error::GraphError;
use crate::faults::{Fault, Planned};
use crate::request::{Body, DEFAULT_VERSION, GraphRequest, GraphResponse};
use crate::state::{Object, Shared, State};
use crate::tokens::{self, TokenInfo, TokenKind};
use crate::usage::{self, BucType, Scopes};

/// What a handler sees.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) st: &'a mut State,
    pub(crate) req: &'a GraphRequest,
    /// The caller's token (an app token for the OAuth endpoints, which need none).
    pub(crate) token: TokenInfo,
    /// The raw token string, when there was one.
    pub(crate) raw_token: Option<String>,
    pub(crate) version: String,
    pub(crate) segs: Vec<String>,
    pub(crate) now: u64,
    /// Set by handlers whose write took effect.
    pub(crate) applied: bool,
}

/// A handler's result.
pub(crate) type Outcome = Result<Value, GraphError>;

impl Ctx<'_> {
    /// The path after the version, for `next` links.
    pub(crate) fn rel_path(&self) -> String {
        self.segs.join("/")
    }

    /// The requested fields, or `default`; unknown names are Graph's error for `node`.
    pub(crate) fn fields(
        &self,
        known: &[&str],
        default: &[&str],
        node: &str,
    ) -> Result<Vec<String>, GraphError> {
        match self.req.fields() {
            None => Ok(default.iter().map(|s| (*s).to_owned()).collect()),
            Some(list) => {
                if let Some(bad) = list.iter().find(|f| !known.contains(&f.as_str())) {
                    return Err(GraphError::param(format!(
                        "(#100) Tried accessing nonexisting field ({bad}) on node type ({node})"
                    )));
                }
                Ok(list)
            }
        }
    }
}

/// Keeps only `fields` of a full object (always in the order asked for).
pub(crate) fn select(full: &Map<String, Value>, fields: &[String]) -> Value {
    let mut out = Map::new();
    for f in fields {
        if let Some(v) = full.get(f.as_str()) {
            out.insert(f.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// A `(#200)` permission error (HTTP 403, as Graph sends for these).
pub(crate) fn permission(message: &str) -> GraphError {
    GraphError::new("OAuthException", 200, message).status(403)
}

/// Meta's answer to a request without any token.
fn missing_token() -> GraphError {
    GraphError::new(
        "OAuthException",
        104,
        "An access token is required to request this resource.",
    )
}

/// Standard headers plus the body for a result.
pub(crate) fn respond(
    st: &mut State,
    version: &str,
    result: Outcome,
    mut headers: Vec<(String, String)>,
    applied: bool,
) -> GraphResponse {
    let request_id = st.request_id();
    let trace = st.trace_id();
    headers.push(("facebook-api-version".into(), version.to_owned()));
    headers.push(("x-fb-trace-id".into(), trace.clone()));
    headers.push(("x-fb-request-id".into(), request_id));
    headers.push((
        "content-type".into(),
        "application/json; charset=UTF-8".into(),
    ));
    match result {
        Ok(body) => GraphResponse {
            status: 200,
            headers,
            body: Body::Json(body),
            applied,
        },
        Err(e) => GraphResponse {
            status: e.status,
            headers,
            body: Body::Json(e.to_json(&trace)),
            applied: false,
        },
    }
}

/// An error answer carrying the app usage header.
pub(crate) fn fail(shared: &Shared, st: &mut State, version: &str, e: GraphError) -> GraphResponse {
    let now = st.now_ms();
    let headers = st
        .usage
        .headers(&Scopes::default(), &shared.config.quotas, now, false);
    respond(st, version, Err(e), headers, false)
}

/// The object id a path is about, for the business-use-case scope of injected throttles.
fn path_scope(st: &State, segs: &[String]) -> Option<(String, BucType)> {
    let first = segs.first()?;
    if let Some(digits) = first.strip_prefix("act_") {
        return Some((digits.to_owned(), BucType::AdsManagement));
    }
    match st.objects.get(first.as_str()) {
        Some(Object::Page(p)) => Some((p.id.clone(), BucType::Pages)),
        Some(Object::Post(p)) => Some((p.page_id.clone(), BucType::Pages)),
        _ => None,
    }
}

/// The quotas a call counts against: ad-account paths count against the account and its
/// `ads_management` use case; Page-token calls against the Page's `pages` use case.
fn scopes_for(segs: &[String], token: &TokenInfo) -> Scopes {
    if let Some(digits) = segs.first().and_then(|s| s.strip_prefix("act_")) {
        return Scopes {
            buc: Some((digits.to_owned(), BucType::AdsManagement)),
            ad_account: Some(digits.to_owned()),
        };
    }
    if token.kind == TokenKind::Page
        && let Some(page) = &token.page_id
    {
        return Scopes {
            buc: Some((page.clone(), BucType::Pages)),
            ad_account: None,
        };
    }
    Scopes::default()
}

/// Runs one Graph call. `plan` is a throttle fault decided by the caller (injected BUC or
/// ad-account throttles, burst throttles); other faults are handled before this point.
pub(crate) fn dispatch(
    shared: &Shared,
    st: &mut State,
    req: &GraphRequest,
    plan: Option<&Planned>,
) -> GraphResponse {
    let (version, segs) = match req.route() {
        Ok(r) => r,
        Err(e) => return respond(st, DEFAULT_VERSION, Err(e), Vec::new(), false),
    };
    let now = st.now();
    let now_ms = st.now_ms();
    let quotas = &shared.config.quotas;

    // OAuth endpoints authenticate with client_id/client_secret, not a token.
    let is_oauth = (segs.len() == 2 && segs[0] == "oauth" && segs[1] == "access_token")
        || iglogin::is_token_path(&segs);
    let raw_token = req.token().map(str::to_owned);
    let token = if is_oauth {
        Ok(TokenInfo::app(now))
    } else {
        match &raw_token {
            None => Err(missing_token()),
            Some(t) => tokens::resolve(st, &shared.fixtures, t, now),
        }
    };
    let token = match token {
        Ok(t) => t,
        Err(e) => return fail(shared, st, &version, e),
    };
    if let (Some(raw), TokenKind::User | TokenKind::Page) = (&raw_token, token.kind)
        && !is_oauth
        && let Err(e) = tokens::check_proof(
            &shared.fixtures.app_secret,
            raw,
            req.params.non_empty("appsecret_proof"),
            req.params.non_empty("appsecret_time"),
            now,
            shared.config.require_appsecret_proof,
        )
    {
        return fail(shared, st, &version, e);
    }

    let mut scopes = scopes_for(&segs, &token);
    let mut forced: Option<GraphError> = None;
    let mut app_full = false;
    match plan {
        Some(Planned::BurstThrottle) => {
            app_full = true;
            forced = Some(usage::app_error());
        }
        Some(Planned::Fault(Fault::BucThrottle { minutes })) => {
            let until = now_ms.saturating_add(u64::from(*minutes) * 60_000);
            match scopes.buc.clone().or_else(|| path_scope(st, &segs)) {
                Some(key) => {
                    forced = Some(usage::buc_error(key.1));
                    st.usage.block_buc(key.clone(), until);
                    scopes.buc = Some(key);
                }
                None => forced = Some(usage::buc_error(BucType::Pages)),
            }
        }
        Some(Planned::Fault(Fault::AdAccountThrottle { reset_secs })) => {
            let until = now_ms.saturating_add(u64::from(*reset_secs) * 1000);
            if let Some(id) = scopes.ad_account.clone() {
                st.usage.block_ad_account(id, until);
            }
            forced = Some(usage::ad_account_error());
        }
        _ => {}
    }
    let admitted = match forced {
        Some(e) => Err(e),
        None => st.usage.admit(&scopes, quotas, now_ms),
    };
    let headers = st.usage.headers(&scopes, quotas, now_ms, app_full);
    if let Err(e) = admitted {
        return respond(st, &version, Err(e), headers, false);
    }

    let mut ctx = Ctx {
        shared,
        st,
        req,
        token,
        raw_token,
        version: version.clone(),
        segs,
        now,
        applied: false,
    };
    let result = route(&mut ctx);
    let Ctx { st, applied, .. } = ctx;
    let applied = applied && result.is_ok();
    respond(st, &version, result, headers, applied)
}

/// Picks the handler for a path.
fn route(ctx: &mut Ctx<'_>) -> Outcome {
    let method = ctx.req.method.clone();
    let segs: Vec<String> = ctx.segs.clone();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match segs.as_slice() {
        ["oauth", "access_token"] => oauth::access_token(ctx),
        ["access_token"] => iglogin::exchange(ctx),
        ["refresh_access_token"] => iglogin::refresh(ctx),
        ["debug_token"] => match method {
            Method::GET => oauth::debug_token(ctx),
            _ => Err(unsupported(&method, "debug_token")),
        },
        [] if method == Method::GET && ctx.req.params.non_empty("ids").is_some() => multi_read(ctx),
        [] => Err(GraphError::new(
            "GraphMethodException",
            100,
            format!(
                "Unsupported {} request. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
                method.as_str().to_ascii_lowercase()
            ),
        )),
        [id, rest @ ..] => {
            let id = resolve_me(ctx, id)?;
            route_object(ctx, &method, &id, rest)
        }
    }
}

/// `GET /?ids=a,b,c`: several nodes in one call, keyed by the ids as given.
fn multi_read(ctx: &mut Ctx<'_>) -> Outcome {
    let ids: Vec<String> = ctx
        .req
        .params
        .non_empty("ids")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let mut resolved = Vec::with_capacity(ids.len());
    let mut missing = Vec::new();
    for id in &ids {
        match resolve_me(ctx, id) {
            Ok(real) if ctx.st.objects.contains_key(&real) => resolved.push((id.clone(), real)),
            _ => missing.push(id.as_str()),
        }
    }
    if !missing.is_empty() {
        return Err(GraphError::param(format!(
            "(#100) Some of the aliases you requested do not exist: {}",
            missing.join(",")
        )));
    }
    let mut out = Map::new();
    for (alias, id) in resolved {
        let value = route_object(ctx, &Method::GET, &id, &[])?;
        out.insert(alias, value);
    }
    Ok(Value::Object(out))
}

/// `me` is the token's user, or its Page for Page tokens.
fn resolve_me(ctx: &Ctx<'_>, id: &str) -> Result<String, GraphError> {
    if id != "me" {
        return Ok(id.to_owned());
    }
    match ctx.token.kind {
        TokenKind::User => Ok(ctx.token.user_id.clone()),
        TokenKind::Page => Ok(ctx.token.page_id.clone().unwrap_or_default()),
        TokenKind::App => Err(GraphError::new(
            "OAuthException",
            2500,
            "An active access token must be used to query information about the current user.",
        )),
    }
}

fn unsupported(method: &Method, id: &str) -> GraphError {
    GraphError::unknown_object(method.as_str(), id)
}

/// A router for one product area (Instagram, Messenger, comments, ...): it answers
/// `Some` for the paths it owns and `None` for everything else.
pub(crate) type AreaRouter = fn(&mut Ctx<'_>, &Method, &str, &Object, &[&str]) -> Option<Outcome>;

/// The product areas, tried in order before the core Page/user/ads routes. Each area
/// lives in its own module so they can grow independently.
const AREAS: &[AreaRouter] = &[
    instagram::route,
    pages::route,
    comments::route,
    live::route,
    messenger::route,
    business::route,
    insights::route,
];

fn route_object(ctx: &mut Ctx<'_>, method: &Method, id: &str, rest: &[&str]) -> Outcome {
    let Some(obj) = ctx.st.objects.get(id).cloned() else {
        return Err(unsupported(method, id));
    };
    for area in AREAS {
        if let Some(out) = area(ctx, method, id, &obj, rest) {
            return out;
        }
    }
    let get = *method == Method::GET;
    match (obj, rest) {
        (Object::User(_), []) if get => users::get_user(ctx, id),
        (Object::User(_), ["accounts"]) if get => users::accounts(ctx, id),
        (Object::Page(_), []) if get => pages::get_page(ctx, id),
        (Object::Page(_), ["feed" | "posts"]) if get => pages::list_feed(ctx, id, false),
        (Object::Page(_), ["scheduled_posts"]) if get => pages::list_feed(ctx, id, true),
        (Object::Page(_), ["feed"]) if *method == Method::POST => pages::create_post(ctx, id),
        (Object::Page(_), ["accounts"]) => Err(GraphError::param(
            "(#100) Tried accessing nonexisting field (accounts) on node type (Page)",
        )),
        (Object::Post(_), []) if get => pages::get_post(ctx, id),
        (Object::Post(_), []) if *method == Method::DELETE => pages::delete_post(ctx, id),
        (Object::IgUser(_), []) if get => pages::get_ig_user(ctx, id),
        (Object::AdAccount(_), []) if get => ads::get_account(ctx, id),
        (Object::AdAccount(_), ["campaigns"]) if get => ads::campaigns(ctx, id),
        (Object::Campaign(_), []) if get => ads::get_campaign(ctx, id),
        (Object::User(_), ["accounts"])
        | (Object::Page(_), ["feed" | "posts" | "scheduled_posts"])
        | (Object::AdAccount(_), ["campaigns"])
        | (_, []) => Err(unsupported(method, id)),
        (_, [edge, ..]) => Err(GraphError::unknown_path(edge)),
    }
}
