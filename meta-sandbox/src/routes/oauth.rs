//! Facebook Login: `/oauth/access_token` (code exchange, long-lived exchange, app token)
//! and `/debug_token`.

use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use super::{Ctx, Outcome};
use crate::error::GraphError;
use crate::tokens::{
    self, DATA_ACCESS_SECS, LONG_LIVED_SECS, SHORT_LIVED_SECS, TokenInfo, TokenKind, USER_SCOPES,
};

/// The app's display name in `debug_token`.
const APP_NAME: &str = "Meta Sandbox App";

fn oauth(code: i64, message: &str) -> GraphError {
    GraphError::new("OAuthException", code, message)
}

/// Checks `client_id` and `client_secret`.
fn check_client(ctx: &Ctx<'_>) -> Result<(), GraphError> {
    let f = &ctx.shared.fixtures;
    let Some(id) = ctx.req.params.non_empty("client_id") else {
        return Err(oauth(101, "Missing client_id parameter."));
    };
    if id != f.app_id {
        return Err(oauth(
            101,
            "Error validating application. Invalid application ID.",
        ));
    }
    let secret = ctx
        .req
        .params
        .non_empty("client_secret")
        .unwrap_or_default();
    if !bool::from(secret.as_bytes().ct_eq(f.app_secret.as_bytes())) {
        return Err(oauth(100, "Error validating client secret."));
    }
    Ok(())
}

/// `GET /oauth/access_token`.
pub(crate) fn access_token(ctx: &mut Ctx<'_>) -> Outcome {
    check_client(ctx)?;
    let grant = ctx.req.params.non_empty("grant_type").map(str::to_owned);
    match grant.as_deref() {
        Some("client_credentials") => {
            let f = &ctx.shared.fixtures;
            Ok(json!({
                "access_token": format!("{}|{}", f.app_id, f.app_secret),
                "token_type": "bearer",
            }))
        }
        Some("fb_exchange_token") => exchange(ctx),
        None | Some("authorization_code") => code_exchange(ctx),
        Some(other) => Err(oauth(100, &format!("Unsupported grant_type: {other}"))),
    }
}

fn user_token(ctx: &mut Ctx<'_>, user_id: String, lifetime: u64) -> String {
    let now = ctx.now;
    ctx.st.mint_token(TokenInfo {
        kind: TokenKind::User,
        user_id,
        page_id: None,
        issued_at: now,
        expires_at: Some(now + lifetime),
        data_access_expires_at: now + DATA_ACCESS_SECS,
    })
}

/// Login code → short-lived user token. The code is single use.
fn code_exchange(ctx: &mut Ctx<'_>) -> Outcome {
    let Some(redirect) = ctx.req.params.get("redirect_uri").map(str::to_owned) else {
        return Err(oauth(100, "Missing redirect_uri parameter."));
    };
    let Some(code) = ctx.req.params.non_empty("code").map(str::to_owned) else {
        return Err(oauth(100, "Missing code parameter."));
    };
    let Some(entry) = ctx.st.login_codes.get_mut(&code) else {
        return Err(oauth(100, "Invalid verification code format."));
    };
    if entry.used {
        return Err(oauth(100, "This authorization code has been used.").subcode(36009));
    }
    if entry.redirect_uri != redirect {
        return Err(oauth(
            100,
            "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request",
        )
        .subcode(36008));
    }
    entry.used = true;
    ctx.applied = true;
    let user_id = ctx.shared.fixtures.user_id.clone();
    let token = user_token(ctx, user_id, SHORT_LIVED_SECS);
    Ok(json!({"access_token": token, "token_type": "bearer", "expires_in": SHORT_LIVED_SECS}))
}

/// Short-lived (or long-lived) user token → a new long-lived one.
fn exchange(ctx: &mut Ctx<'_>) -> Outcome {
    let Some(input) = ctx
        .req
        .params
        .non_empty("fb_exchange_token")
        .map(str::to_owned)
    else {
        return Err(oauth(100, "Missing fb_exchange_token parameter."));
    };
    let info = tokens::resolve(ctx.st, &ctx.shared.fixtures, &input, ctx.now)?;
    if info.kind != TokenKind::User {
        return Err(oauth(
            100,
            "(#100) fb_exchange_token must be a user access token",
        ));
    }
    ctx.applied = true;
    let token = user_token(ctx, info.user_id, LONG_LIVED_SECS);
    Ok(json!({"access_token": token, "token_type": "bearer", "expires_in": LONG_LIVED_SECS}))
}

/// `GET /debug_token?input_token=...`.
pub(crate) fn debug_token(ctx: &mut Ctx<'_>) -> Outcome {
    if ctx.token.kind == TokenKind::Page {
        return Err(GraphError::param(
            "(#100) You must provide an app access token, or a user access token that is an owner or developer of the app",
        ));
    }
    let Some(input) = ctx.req.params.non_empty("input_token").map(str::to_owned) else {
        return Err(GraphError::param(
            "(#100) The parameter input_token is required",
        ));
    };
    let f = &ctx.shared.fixtures;
    let now = ctx.now;
    let known = ctx.st.tokens.get(&input).cloned();
    let data = match known {
        Some(info) => {
            let mut data = json!({
                "app_id": f.app_id,
                "type": info.kind.as_str(),
                "application": APP_NAME,
                "data_access_expires_at": info.data_access_expires_at,
                "expires_at": info.expires_at.unwrap_or(0),
                "is_valid": true,
                "issued_at": info.issued_at,
                "scopes": USER_SCOPES,
                "granular_scopes": granular(ctx),
                "user_id": info.user_id,
            });
            if let Value::Object(map) = &mut data {
                if let Some(page) = &info.page_id {
                    map.insert("profile_id".into(), json!(page));
                }
                let revoked = super::iglogin::revocation(ctx.st, &f.app_id, &input, now);
                if let Some(e) = revoked.or_else(|| {
                    info.expires_at
                        .filter(|exp| now >= *exp)
                        .map(|exp| tokens::expired(exp, now))
                }) {
                    map.insert("is_valid".into(), json!(false));
                    map.insert(
                        "error".into(),
                        json!({"code": e.code, "message": e.message, "subcode": e.subcode}),
                    );
                }
            }
            data
        }
        None => match tokens::resolve(ctx.st, f, &input, now) {
            Ok(info) if info.kind == TokenKind::App => json!({
                "app_id": f.app_id,
                "type": "APP",
                "application": APP_NAME,
                "is_valid": true,
            }),
            Ok(_) | Err(_) => json!({
                "error": {
                    "code": 190,
                    "message": "Invalid OAuth access token - Cannot parse access token",
                },
                "is_valid": false,
                "scopes": [],
            }),
        },
    };
    Ok(json!({ "data": data }))
}

fn granular(ctx: &Ctx<'_>) -> Value {
    let f = &ctx.shared.fixtures;
    let pages: Vec<&str> = f.pages.iter().map(|p| p.id.as_str()).collect();
    let accounts: Vec<&str> = f
        .ad_accounts
        .iter()
        .map(|a| a.account_id.as_str())
        .collect();
    let mut out = Vec::new();
    for scope in USER_SCOPES {
        if scope.starts_with("pages_") || scope.starts_with("instagram_") {
            out.push(json!({"scope": scope, "target_ids": pages}));
        } else if scope.starts_with("ads_") {
            out.push(json!({"scope": scope, "target_ids": accounts}));
        } else {
            out.push(json!({ "scope": scope }));
        }
    }
    Value::Array(out)
}
