//! Access tokens: kinds, lifetimes, validation and `appsecret_proof`.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::GraphError;
use crate::fixtures::Fixtures;
use crate::state::State;
use crate::time::expiry_time;

/// Lifetime of a short-lived user token (from a login code).
pub(crate) const SHORT_LIVED_SECS: u64 = 5_400;
/// Lifetime of a long-lived user token (from `fb_exchange_token`).
pub(crate) const LONG_LIVED_SECS: u64 = 5_184_000;
/// Data access expires 90 days after a token was issued.
pub(crate) const DATA_ACCESS_SECS: u64 = 7_776_000;
/// How long a time-stamped `appsecret_proof` stays valid.
const PROOF_TTL_SECS: u64 = 300;

/// The permissions every sandbox user token carries.
pub(crate) const USER_SCOPES: &[&str] = &[
    "public_profile",
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "pages_manage_metadata",
    "instagram_basic",
    "instagram_content_publish",
    "ads_management",
    "ads_read",
    "business_management",
];

/// What a token stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    User,
    Page,
    App,
}

impl TokenKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::User => "USER",
            Self::Page => "PAGE",
            Self::App => "APP",
        }
    }
}

/// A token the sandbox issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenInfo {
    pub(crate) kind: TokenKind,
    pub(crate) user_id: String,
    /// For Page tokens.
    pub(crate) page_id: Option<String>,
    pub(crate) issued_at: u64,
    /// `None` = never expires.
    pub(crate) expires_at: Option<u64>,
    pub(crate) data_access_expires_at: u64,
}

impl TokenInfo {
    pub(crate) fn app(now: u64) -> Self {
        Self {
            kind: TokenKind::App,
            user_id: String::new(),
            page_id: None,
            issued_at: now,
            expires_at: None,
            data_access_expires_at: 0,
        }
    }
}

fn cannot_parse() -> GraphError {
    GraphError::new(
        "OAuthException",
        190,
        "Invalid OAuth access token - Cannot parse access token",
    )
}

/// Meta's error for a token whose session ended.
pub(crate) fn expired(expired_at: u64, now: u64) -> GraphError {
    GraphError::new(
        "OAuthException",
        190,
        format!(
            "Error validating access token: Session has expired on {}. The current time is {}.",
            expiry_time(expired_at),
            expiry_time(now)
        ),
    )
    .subcode(463)
}

/// Looks a token up: issued tokens, then the `APPID|APPSECRET` app token.
pub(crate) fn resolve(
    state: &State,
    fixtures: &Fixtures,
    token: &str,
    now: u64,
) -> Result<TokenInfo, GraphError> {
    if let Some(e) = crate::routes::iglogin::revocation(state, &fixtures.app_id, token, now) {
        return Err(e);
    }
    if let Some(info) = state.tokens.get(token) {
        if let Some(exp) = info.expires_at
            && now >= exp
        {
            return Err(expired(exp, now));
        }
        return Ok(info.clone());
    }
    if let Some((id, secret)) = token.split_once('|')
        && id == fixtures.app_id
    {
        if bool::from(secret.as_bytes().ct_eq(fixtures.app_secret.as_bytes())) {
            return Ok(TokenInfo::app(now));
        }
        return Err(GraphError::new(
            "OAuthException",
            190,
            "Invalid OAuth access token signature.",
        ));
    }
    Err(cannot_parse())
}

fn mac(app_secret: &str, message: &str) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail; the fallback keeps it panic-free.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(app_secret.as_bytes())
        .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
    mac.update(message.as_bytes());
    mac
}

/// `appsecret_proof` in the classic form: lowercase hex HMAC-SHA256 of the token keyed by
/// the app secret, as every official SDK computes it.
///
/// ```
/// let proof = meta_sandbox::appsecret_proof("secret", "token");
/// assert_eq!(proof.len(), 64);
/// ```
#[must_use]
pub fn appsecret_proof(app_secret: &str, access_token: &str) -> String {
    hex::encode(mac(app_secret, access_token).finalize().into_bytes())
}

/// The time-stamped `appsecret_proof`: HMAC-SHA256 of `token|unix_time`, sent with
/// `appsecret_time=<unix_time>`; valid for 5 minutes.
#[must_use]
pub fn appsecret_proof_timed(app_secret: &str, access_token: &str, unix_time: u64) -> String {
    appsecret_proof(app_secret, &format!("{access_token}|{unix_time}"))
}

fn invalid_proof() -> GraphError {
    GraphError::new(
        "GraphMethodException",
        100,
        "Invalid appsecret_proof provided in the API argument",
    )
}

/// Checks `appsecret_proof` (and `appsecret_time`) for a user or Page token.
/// A wrong proof is always rejected; a missing one only when `required`.
pub(crate) fn check_proof(
    app_secret: &str,
    token: &str,
    proof: Option<&str>,
    time: Option<&str>,
    now: u64,
    required: bool,
) -> Result<(), GraphError> {
    let Some(proof) = proof else {
        if required {
            return Err(GraphError::new(
                "GraphMethodException",
                100,
                "API calls from the server require an appsecret_proof argument",
            ));
        }
        return Ok(());
    };
    let message = match time {
        Some(t) => {
            let t: u64 = t.trim().parse().map_err(|_| invalid_proof())?;
            // Accept a little clock skew in the future, never an old proof.
            if now.saturating_sub(t) > PROOF_TTL_SECS || t > now + PROOF_TTL_SECS {
                return Err(invalid_proof());
            }
            format!("{token}|{t}")
        }
        None => token.to_owned(),
    };
    let given = hex::decode(proof.trim().to_ascii_lowercase()).map_err(|_| invalid_proof())?;
    mac(app_secret, &message)
        .verify_slice(&given)
        .map_err(|_| invalid_proof())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proof_matches_known_vector() {
        // python: hmac.new(b"key", b"The quick brown fox jumps over the lazy dog", sha256).hexdigest()
        assert_eq!(
            appsecret_proof("key", "The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn proof_checks() {
        let p = appsecret_proof("s", "t");
        assert!(check_proof("s", "t", Some(&p), None, 1000, true).is_ok());
        assert!(check_proof("s", "t", Some(&p.to_uppercase()), None, 1000, true).is_ok());
        assert!(check_proof("s", "t", None, None, 1000, false).is_ok());
        let missing = check_proof("s", "t", None, None, 1000, true).unwrap_err();
        assert!(missing.message.contains("require an appsecret_proof"));
        let wrong = check_proof("s", "t", Some("abcd"), None, 1000, false).unwrap_err();
        assert!(wrong.message.contains("Invalid appsecret_proof"));
        assert!(check_proof("s", "t", Some("zz"), None, 1000, false).is_err());

        let timed = appsecret_proof_timed("s", "t", 1000);
        assert!(check_proof("s", "t", Some(&timed), Some("1000"), 1200, true).is_ok());
        assert!(check_proof("s", "t", Some(&timed), Some("1000"), 1301, true).is_err());
        assert!(check_proof("s", "t", Some(&timed), Some("1001"), 1200, true).is_err());
        assert!(check_proof("s", "t", Some(&timed), None, 1200, true).is_err());
    }
}
