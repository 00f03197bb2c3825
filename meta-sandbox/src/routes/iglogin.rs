//! Instagram Login (Business Login for Instagram) tokens on the `graph.instagram.com`
//! paths, and token revocation for every kind of token.
//!
//! Endpoints (facts guide §3.2, from Meta's Instagram Platform docs):
//!
//! - `GET /access_token?grant_type=ig_exchange_token&client_secret=..&access_token=..`:
//!   a short-lived Instagram user token (valid **1 hour**) → a long-lived one (**60 days**),
//!   `{"access_token":"..","token_type":"bearer","expires_in":5184000}`.
//! - `GET /refresh_access_token?grant_type=ig_refresh_token&access_token=..`: a long-lived
//!   token that is **at least 24 hours old and not expired** → valid for 60 days from now.
//!   Meta is reported to hand back the same token string with a new lifetime, so the
//!   sandbox does too.
//!
//! Meta documents both paths without a Graph version; they are served with and without
//! one (`/v26.0/access_token`), since meta-core always sends a version.
//!
//! Where Meta's docs state a rule without its error body (exchanging a token that is not
//! short-lived, refreshing a token younger than 24 hours or a short-lived one), the
//! sandbox answers `OAuthException` code 100 with a descriptive message: that is the
//! sandbox's choice, not a recorded Meta payload. Token validation errors (unknown,
//! expired 190/463, revoked 190/<subcode>) are Meta's.
//!
//! Creating Instagram Login tokens: the fixture `ig_login.access_token` is a short-lived
//! token issued when the sandbox starts (so it expires after one hour of sandbox time),
//! and `SandboxControl::new_ig_login_token` issues a fresh one, standing in for the
//! authorization-code exchange on `api.instagram.com` that the sandbox does not serve.
//!
//! Revocation (`SandboxControl::revoke_token(token, subcode)`) works on every token the
//! sandbox knows — user, Page and Instagram Login — and makes each later use fail with
//! `190` and that subcode, as Meta does after a password change (460), log-out (467),
//! app removal (458) and so on.

use std::collections::HashMap;

use serde_json::json;
use subtle::ConstantTimeEq;

use super::{Ctx, Outcome};
use crate::error::GraphError;
use crate::fixtures::{Fixtures, short_id};
use crate::state::State;
use crate::time::expiry_time;
use crate::tokens;

/// A short-lived Instagram user token lives one hour.
pub(crate) const IG_SHORT_LIVED_SECS: u64 = 3_600;
/// A long-lived Instagram user token lives 60 days.
pub(crate) const IG_LONG_LIVED_SECS: u64 = 5_184_000;
/// A long-lived token can be refreshed once it is this old.
pub(crate) const IG_REFRESH_MIN_AGE_SECS: u64 = 86_400;

/// An Instagram Login token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IgToken {
    /// The Instagram professional account it acts for.
    pub(crate) ig_user_id: String,
    /// When it was issued or last refreshed.
    pub(crate) issued_at: u64,
    pub(crate) expires_at: u64,
    pub(crate) long_lived: bool,
}

/// Why a token stopped working, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Revocation {
    pub(crate) subcode: i64,
    pub(crate) at: u64,
    /// The user (or Instagram account) the token acted for, for Meta's messages.
    pub(crate) user_id: String,
}

/// Instagram Login tokens and revoked tokens of every kind.
#[derive(Debug, Clone, Default)]
pub(crate) struct IgLoginState {
    pub(crate) tokens: HashMap<String, IgToken>,
    pub(crate) revoked: HashMap<String, Revocation>,
}

/// Registers the fixture short-lived token.
pub(crate) fn seed(st: &mut State, f: &Fixtures, now: u64) {
    st.iglogin.tokens.insert(
        f.ig_login.access_token.clone(),
        IgToken {
            ig_user_id: f.ig_login.ig_user_id.clone(),
            issued_at: now,
            expires_at: now + IG_SHORT_LIVED_SECS,
            long_lived: false,
        },
    );
}

/// An Instagram Login token string: `IGAA` and an alphanumeric tail, as Meta's are.
fn ig_token_string(st: &mut State) -> String {
    loop {
        let t = format!("IGAA{}", short_id(&mut st.rng, 150));
        if !st.iglogin.tokens.contains_key(&t) {
            return t;
        }
    }
}

/// Issues a fresh short-lived token for the fixture Instagram account.
pub(crate) fn issue_short_lived(st: &mut State, f: &Fixtures) -> String {
    let now = st.now();
    let token = ig_token_string(st);
    st.iglogin.tokens.insert(
        token.clone(),
        IgToken {
            ig_user_id: f.ig_login.ig_user_id.clone(),
            issued_at: now,
            expires_at: now + IG_SHORT_LIVED_SECS,
            long_lived: false,
        },
    );
    token
}

/// True for the Instagram Login token paths, which authenticate themselves (the
/// token is the subject of the call, not a Graph token to resolve first).
pub(crate) fn is_token_path(segs: &[String]) -> bool {
    matches!(segs, [one] if one == "access_token" || one == "refresh_access_token")
}

/// Meta's error for a token invalidated with `subcode`. Messages follow Meta's for the
/// subcodes the facts guide lists; 492's wording is not recorded anywhere we trust, so
/// it is ours.
pub(crate) fn revoked_error(r: &Revocation, app_id: &str, now: u64) -> GraphError {
    let message = match r.subcode {
        458 => format!(
            "Error validating access token: User {} has not authorized application {app_id}.",
            r.user_id
        ),
        459 => "Error validating access token: You cannot access the app till you log in to www.facebook.com and follow the instructions given.".to_owned(),
        460 => "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.".to_owned(),
        463 => format!(
            "Error validating access token: Session has expired on {}. The current time is {}.",
            expiry_time(r.at),
            expiry_time(now)
        ),
        464 => format!(
            "Error validating access token: Sessions for the user {} are not allowed because the user is not a confirmed user.",
            r.user_id
        ),
        467 => "Error validating access token: The session is invalid because the user logged out.".to_owned(),
        492 => "Error validating access token: The session is invalid because the user no longer has a role on the Page.".to_owned(),
        _ => "Error validating access token: The session has been invalidated.".to_owned(),
    };
    GraphError::new("OAuthException", 190, message).subcode(r.subcode)
}

/// The error for a revoked token, if `token` was revoked.
pub(crate) fn revocation(st: &State, app_id: &str, token: &str, now: u64) -> Option<GraphError> {
    st.iglogin
        .revoked
        .get(token)
        .map(|r| revoked_error(r, app_id, now))
}

/// Revokes any token the sandbox issued. Returns false for unknown tokens.
pub(crate) fn revoke(st: &mut State, f: &Fixtures, token: &str, subcode: i64) -> bool {
    let now = st.now();
    let user_id = if let Some(info) = st.tokens.get(token) {
        info.user_id.clone()
    } else if let Some(ig) = st.iglogin.tokens.get(token) {
        ig.ig_user_id.clone()
    } else if token.split_once('|').is_some_and(|(id, _)| id == f.app_id) {
        // App tokens are the app's own credentials: Meta does not invalidate them
        // this way (it would mean resetting the app secret).
        return false;
    } else {
        return false;
    };
    st.iglogin.revoked.insert(
        token.to_owned(),
        Revocation {
            subcode,
            at: now,
            user_id,
        },
    );
    true
}

fn oauth(code: i64, message: impl Into<String>) -> GraphError {
    GraphError::new("OAuthException", code, message)
}

/// Finds a live Instagram Login token, with Meta's errors for the others.
fn resolve(ctx: &Ctx<'_>, token: &str) -> Result<IgToken, GraphError> {
    if let Some(e) = revocation(ctx.st, &ctx.shared.fixtures.app_id, token, ctx.now) {
        return Err(e);
    }
    let Some(info) = ctx.st.iglogin.tokens.get(token) else {
        return Err(oauth(
            190,
            "Invalid OAuth access token - Cannot parse access token",
        ));
    };
    if ctx.now >= info.expires_at {
        return Err(tokens::expired(info.expires_at, ctx.now));
    }
    Ok(info.clone())
}

fn input_token(ctx: &Ctx<'_>) -> Result<String, GraphError> {
    ctx.req
        .params
        .non_empty("access_token")
        .or(ctx.req.header_token.as_deref())
        .map(str::to_owned)
        .ok_or_else(|| oauth(104, "An access token is required to request this resource."))
}

fn check_get(ctx: &Ctx<'_>, path: &str) -> Result<(), GraphError> {
    if ctx.req.method == http::Method::GET {
        Ok(())
    } else {
        Err(oauth(
            100,
            format!(
                "Unsupported request - method type: {} (only GET is supported on /{path})",
                ctx.req.method.as_str().to_ascii_lowercase()
            ),
        ))
    }
}

fn check_grant(ctx: &Ctx<'_>, want: &str) -> Result<(), GraphError> {
    match ctx.req.params.non_empty("grant_type") {
        Some(g) if g == want => Ok(()),
        Some(other) => Err(oauth(100, format!("Unsupported grant_type: {other}"))),
        None => Err(oauth(100, "Missing grant_type parameter.")),
    }
}

/// `GET /access_token?grant_type=ig_exchange_token`: short-lived → long-lived.
pub(crate) fn exchange(ctx: &mut Ctx<'_>) -> Outcome {
    check_get(ctx, "access_token")?;
    check_grant(ctx, "ig_exchange_token")?;
    let secret = ctx
        .req
        .params
        .non_empty("client_secret")
        .unwrap_or_default();
    if secret.is_empty() {
        return Err(oauth(100, "Missing client_secret parameter."));
    }
    // The sandbox's Instagram app shares the Facebook app's secret.
    if !bool::from(
        secret
            .as_bytes()
            .ct_eq(ctx.shared.fixtures.app_secret.as_bytes()),
    ) {
        return Err(oauth(100, "Error validating client secret."));
    }
    let token = input_token(ctx)?;
    let info = resolve(ctx, &token)?;
    if info.long_lived {
        return Err(oauth(
            100,
            "(#100) ig_exchange_token needs a short-lived Instagram User access token; use ig_refresh_token to extend a long-lived one",
        ));
    }
    let now = ctx.now;
    let long = ig_token_string(ctx.st);
    ctx.st.iglogin.tokens.insert(
        long.clone(),
        IgToken {
            ig_user_id: info.ig_user_id,
            issued_at: now,
            expires_at: now + IG_LONG_LIVED_SECS,
            long_lived: true,
        },
    );
    ctx.applied = true;
    Ok(json!({"access_token": long, "token_type": "bearer", "expires_in": IG_LONG_LIVED_SECS}))
}

/// `GET /refresh_access_token?grant_type=ig_refresh_token`: another 60 days.
pub(crate) fn refresh(ctx: &mut Ctx<'_>) -> Outcome {
    check_get(ctx, "refresh_access_token")?;
    check_grant(ctx, "ig_refresh_token")?;
    let token = input_token(ctx)?;
    let info = resolve(ctx, &token)?;
    if !info.long_lived {
        return Err(oauth(
            100,
            "(#100) Only long-lived Instagram User access tokens can be refreshed; exchange the short-lived token with ig_exchange_token first",
        ));
    }
    let now = ctx.now;
    let age = now.saturating_sub(info.issued_at);
    if age < IG_REFRESH_MIN_AGE_SECS {
        return Err(oauth(
            100,
            format!(
                "(#100) The access token can be refreshed once it is at least 24 hours old; it is {age} seconds old"
            ),
        ));
    }
    if let Some(t) = ctx.st.iglogin.tokens.get_mut(&token) {
        t.issued_at = now;
        t.expires_at = now + IG_LONG_LIVED_SECS;
    }
    ctx.applied = true;
    Ok(json!({"access_token": token, "token_type": "bearer", "expires_in": IG_LONG_LIVED_SECS}))
}
