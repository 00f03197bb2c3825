//! Facebook Login and Instagram Login: the login dialog URL with a CSRF [`State`], code
//! exchange, long-lived tokens, app tokens, `debug_token`, Page tokens (from
//! `/me/accounts` and from a business's owned and client Pages), and Instagram Login's
//! `ig_exchange_token` / `ig_refresh_token` on `graph.instagram.com`.
//!
//! Every call goes through a [`meta_core::Client`]. The OAuth endpoints authenticate
//! with `client_id` / `client_secret`, so the client passed in may have no token at
//! all; when it has one, it is deliberately **not** sent to those endpoints.
//!
//! ```no_run
//! # async fn run() -> meta_graph::Result<()> {
//! use meta_graph::oauth::{OAuth, State};
//! use secrecy::SecretString;
//!
//! let oauth = OAuth::builder(
//!     "1234567890",
//!     SecretString::from(std::env::var("META_APP_SECRET").unwrap_or_default()),
//!     "https://app.example.com/callback",
//! )
//! .build()?;
//! // 1. Send the browser to the dialog; keep `state` in the user's session.
//! let state = State::generate()?;
//! let url = oauth.login_url(["pages_show_list", "pages_manage_posts"], &state)?;
//! # let _ = url;
//! // 2. On the callback: check `state`, then exchange the code.
//! # let (returned_state, code) = ("", "");
//! if !state.verify(returned_state) {
//!     // CSRF: refuse.
//! }
//! let client = meta_core::Client::builder().build()?;
//! let short = oauth.exchange_code(&client, code).await?;
//! let long = oauth.exchange_long_lived(&client, short.access_token()).await?;
//! // 3. Page tokens from a long-lived user token never expire.
//! let user = client.with_access_token(long.access_token().clone());
//! for page in oauth.page_tokens(&user).await? {
//!     println!("{} {}", page.id(), page.name().unwrap_or_default());
//! }
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use meta_core::clock::{Clock, SystemClock};
use meta_core::error::DecodeError;
use meta_core::{ApiVersion, BusinessId, Client, GraphRequest, PageId, Params};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use subtle::ConstantTimeEq;
use url::Url;

use crate::error::{InvalidInput, Result};

/// Where the Facebook Login dialog lives.
pub const DEFAULT_DIALOG_HOST: &str = "https://www.facebook.com";
/// The Instagram Login (Business Login for Instagram) API host.
pub const DEFAULT_INSTAGRAM_BASE_URL: &str = "https://graph.instagram.com";
/// Bytes of randomness in a generated [`State`] (256 bits).
pub const STATE_BYTES: usize = 32;

/// The fields asked for on `/me/accounts`; `tasks` is a field of that edge (the
/// user's role on the Page), not of the Page node.
const ACCOUNT_FIELDS: &str = "id,name,access_token,category,tasks";
/// The fields asked for on a business's Page edges, which list Page nodes.
const BUSINESS_PAGE_FIELDS: &str = "id,name,access_token,category";

// ---------------------------------------------------------------------------------
// CSRF state
// ---------------------------------------------------------------------------------

/// A source of random bytes for [`State`], so tests can make state values
/// reproducible. [`OsRandomness`] is the production source.
pub trait Randomness: Send + Sync {
    /// Fills `buf` with random bytes.
    ///
    /// # Errors
    /// [`InvalidInput`] (field `randomness`) when the source failed; a `State` is
    /// never built from partially random bytes.
    fn fill(&self, buf: &mut [u8]) -> std::result::Result<(), InvalidInput>;
}

/// The operating system's cryptographically secure generator (`getrandom`).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandomness;

impl Randomness for OsRandomness {
    fn fill(&self, buf: &mut [u8]) -> std::result::Result<(), InvalidInput> {
        getrandom::fill(buf).map_err(|e| {
            InvalidInput::new("randomness", format!("the system generator failed: {e}"))
        })
    }
}

/// The `state` parameter of the login dialog: an unguessable value bound to the
/// user's session, checked on the callback to stop cross-site request forgery.
///
/// Keep [`State::as_str`] in the session (a signed cookie, a server-side session),
/// rebuild it with [`State::from_stored`] on the callback and call
/// [`State::verify`] with the value Meta sent back. `Debug` is redacted.
#[derive(Clone)]
pub struct State(SecretString);

impl State {
    /// 256 random bits from the operating system, base64url without padding
    /// (43 characters).
    ///
    /// # Errors
    /// [`InvalidInput`] when the system generator fails.
    pub fn generate() -> std::result::Result<Self, InvalidInput> {
        Self::generate_with(&OsRandomness)
    }

    /// A state from an injected source of randomness.
    ///
    /// # Errors
    /// Whatever `rng` reports.
    pub fn generate_with(rng: &dyn Randomness) -> std::result::Result<Self, InvalidInput> {
        let mut bytes = [0u8; STATE_BYTES];
        rng.fill(&mut bytes)?;
        let encoded = URL_SAFE_NO_PAD.encode(bytes);
        bytes.fill(0);
        Ok(State(SecretString::from(encoded)))
    }

    /// Rebuilds a state kept in the session.
    ///
    /// # Errors
    /// [`InvalidInput`] when the value is shorter than 16 characters or is not
    /// URL-safe (letters, digits, `-`, `_`, `.`, `~`): such a value either was not
    /// generated here or would be altered in transit.
    pub fn from_stored(value: impl Into<String>) -> std::result::Result<Self, InvalidInput> {
        let value = value.into();
        if value.len() < 16 {
            return Err(InvalidInput::new(
                "state",
                "must be at least 16 characters to be unguessable",
            ));
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
        {
            return Err(InvalidInput::new(
                "state",
                "may only contain URL-safe characters (A-Z a-z 0-9 - _ . ~)",
            ));
        }
        Ok(State(SecretString::from(value)))
    }

    /// The value to send and to keep in the session.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.0.expose_secret()
    }

    /// True when `returned` (the `state` query parameter of the callback) equals
    /// this state. Constant time in the content, so the comparison leaks nothing
    /// an attacker could use to guess the value byte by byte.
    #[must_use]
    pub fn verify(&self, returned: &str) -> bool {
        let ours = self.0.expose_secret().as_bytes();
        // `ct_eq` on slices of different lengths is false without comparing bytes;
        // the length of a state is not secret.
        bool::from(ours.ct_eq(returned.as_bytes()))
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("State([redacted])")
    }
}

// ---------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------

/// An access token as the token endpoints return it, with when it was obtained.
///
/// `Debug` never shows the token.
#[derive(Clone)]
pub struct Token {
    access_token: SecretString,
    token_type: Option<String>,
    expires_in: Option<Duration>,
    obtained_at: SystemTime,
}

impl Token {
    /// A token obtained at `obtained_at`, valid for `expires_in` (`None`: Meta gave
    /// no lifetime, as for Page tokens from a long-lived user token and app tokens).
    #[must_use]
    pub fn new(
        access_token: SecretString,
        expires_in: Option<Duration>,
        obtained_at: SystemTime,
    ) -> Self {
        Token {
            access_token,
            token_type: Some("bearer".to_owned()),
            expires_in,
            obtained_at,
        }
    }

    /// The token.
    #[must_use]
    pub fn access_token(&self) -> &SecretString {
        &self.access_token
    }
    /// `token_type`, `bearer` in practice.
    #[must_use]
    pub fn token_type(&self) -> Option<&str> {
        self.token_type.as_deref()
    }
    /// `expires_in` as sent.
    #[must_use]
    pub fn expires_in(&self) -> Option<Duration> {
        self.expires_in
    }
    /// When the response arrived, on the client's clock.
    #[must_use]
    pub fn obtained_at(&self) -> SystemTime {
        self.obtained_at
    }
    /// `obtained_at + expires_in`; `None` when Meta gave no lifetime.
    #[must_use]
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_in.map(|d| self.obtained_at + d)
    }
    /// True when the token has a lifetime that has run out at `now`.
    #[must_use]
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        self.expires_at().is_some_and(|e| now >= e)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("obtained_at", &self.obtained_at)
            .finish()
    }
}

/// `{"access_token":"..","token_type":"bearer","expires_in":5183944}`.
#[derive(Deserialize)]
struct WireToken {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    token_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_u64")]
    expires_in: Option<u64>,
}

impl WireToken {
    fn into_token(self, obtained_at: SystemTime, body: &[u8]) -> meta_core::Result<Token> {
        let token = self
            .access_token
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| {
                // The snippet is built from a body without a token, so nothing secret
                // ends up in the error.
                DecodeError::new("access_token", "missing or empty access_token", body)
            })?;
        Ok(Token {
            access_token: SecretString::from(token),
            token_type: self.token_type,
            // Meta sends `expires_in: 0` for tokens that do not expire on some paths.
            expires_in: self.expires_in.filter(|s| *s > 0).map(Duration::from_secs),
            obtained_at,
        })
    }
}

fn lenient_string<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn lenient_u64<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<u64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

fn lenient_i64<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

fn lenient_strings<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        // Some endpoints send a comma-separated string instead of a list.
        Value::String(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    })
}

// ---------------------------------------------------------------------------------
// debug_token
// ---------------------------------------------------------------------------------

/// What kind of token `debug_token` inspected.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenType {
    /// A user access token.
    User,
    /// A Page access token.
    Page,
    /// An app access token.
    App,
    /// A system-user token (Business Manager).
    SystemUser,
    /// A type this crate does not know yet, as Meta wrote it.
    Unknown(String),
}

impl TokenType {
    /// Meta's spelling (`USER`, `PAGE`, `APP`, `SYSTEM_USER`).
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            TokenType::User => "USER",
            TokenType::Page => "PAGE",
            TokenType::App => "APP",
            TokenType::SystemUser => "SYSTEM_USER",
            TokenType::Unknown(s) => s,
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "USER" => TokenType::User,
            "PAGE" => TokenType::Page,
            "APP" => TokenType::App,
            "SYSTEM_USER" => TokenType::SystemUser,
            other => TokenType::Unknown(other.to_owned()),
        }
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of `granular_scopes`: a permission limited to some objects.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct GranularScope {
    /// The permission, e.g. `pages_show_list`.
    pub scope: String,
    /// The object ids it is limited to; empty when it applies to everything.
    #[serde(default, deserialize_with = "lenient_strings")]
    pub target_ids: Vec<String>,
}

/// The `error` object `debug_token` includes for an invalid token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct TokenInfoError {
    /// Meta's code, 190 for token problems.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub code: Option<i64>,
    /// The subcode (463 expired, 460 password changed, ...).
    #[serde(default, deserialize_with = "lenient_i64")]
    pub subcode: Option<i64>,
    /// The message.
    #[serde(default, deserialize_with = "lenient_string")]
    pub message: Option<String>,
}

/// `debug_token`'s `data`: what Meta knows about a token.
///
/// Every field is optional because Meta omits most of them for invalid tokens.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct TokenInfo {
    /// The app the token belongs to.
    #[serde(default, deserialize_with = "lenient_string")]
    pub app_id: Option<String>,
    /// The app's name.
    #[serde(default, deserialize_with = "lenient_string")]
    pub application: Option<String>,
    /// The token's kind.
    #[serde(default, rename = "type", deserialize_with = "token_type")]
    pub token_type: Option<TokenType>,
    /// Whether the token can be used now.
    #[serde(default)]
    pub is_valid: bool,
    /// Unix seconds; `Some(0)` means the token never expires.
    #[serde(default, rename = "expires_at", deserialize_with = "lenient_u64")]
    pub expires_at_unix: Option<u64>,
    /// Unix seconds at which data access (90 days after the user last used the
    /// app) ends; `Some(0)` means never.
    #[serde(
        default,
        rename = "data_access_expires_at",
        deserialize_with = "lenient_u64"
    )]
    pub data_access_expires_at_unix: Option<u64>,
    /// Unix seconds the token was issued at.
    #[serde(default, rename = "issued_at", deserialize_with = "lenient_u64")]
    pub issued_at_unix: Option<u64>,
    /// Granted permissions.
    #[serde(default, deserialize_with = "lenient_strings")]
    pub scopes: Vec<String>,
    /// Permissions limited to some objects (Pages, ad accounts, businesses).
    #[serde(default)]
    pub granular_scopes: Vec<GranularScope>,
    /// The user the token acts for.
    #[serde(default, deserialize_with = "lenient_string")]
    pub user_id: Option<String>,
    /// For Page tokens, the Page.
    #[serde(default, deserialize_with = "lenient_string")]
    pub profile_id: Option<String>,
    /// Why the token is invalid.
    #[serde(default)]
    pub error: Option<TokenInfoError>,
}

fn token_type<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<TokenType>, D::Error> {
    Ok(lenient_string(d)?.map(|s| TokenType::parse(&s)))
}

fn unix(secs: Option<u64>) -> Option<SystemTime> {
    secs.filter(|s| *s > 0)
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
}

impl TokenInfo {
    /// When the token expires; `None` when it never does (`expires_at: 0`) or Meta
    /// did not say (see [`never_expires`](Self::never_expires)).
    #[must_use]
    pub fn expires_at(&self) -> Option<SystemTime> {
        unix(self.expires_at_unix)
    }
    /// True when Meta says the token never expires (`expires_at: 0`).
    #[must_use]
    pub fn never_expires(&self) -> bool {
        self.expires_at_unix == Some(0)
    }
    /// When data access ends; `None` for never or unknown.
    #[must_use]
    pub fn data_access_expires_at(&self) -> Option<SystemTime> {
        unix(self.data_access_expires_at_unix)
    }
    /// When the token was issued.
    #[must_use]
    pub fn issued_at(&self) -> Option<SystemTime> {
        unix(self.issued_at_unix)
    }
    /// True when `scope` was granted.
    #[must_use]
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

#[derive(Deserialize)]
struct DebugEnvelope {
    data: TokenInfo,
}

// ---------------------------------------------------------------------------------
// Page tokens
// ---------------------------------------------------------------------------------

/// A Page with its access token, from `/me/accounts` or a business's Page edges.
/// `Debug` never shows the token.
#[derive(Clone)]
pub struct PageToken {
    id: PageId,
    name: Option<String>,
    access_token: SecretString,
    category: Option<String>,
    tasks: Vec<String>,
}

impl PageToken {
    /// The Page id.
    #[must_use]
    pub fn id(&self) -> &PageId {
        &self.id
    }
    /// The Page name.
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    /// The Page token. From a long-lived user token it does not expire.
    #[must_use]
    pub fn access_token(&self) -> &SecretString {
        &self.access_token
    }
    /// The Page category.
    #[must_use]
    pub fn category(&self) -> Option<&str> {
        self.category.as_deref()
    }
    /// What the user may do on the Page (`MANAGE`, `CREATE_CONTENT`, ...); empty on
    /// the business edges, which do not return tasks.
    #[must_use]
    pub fn tasks(&self) -> &[String] {
        &self.tasks
    }
}

impl fmt::Debug for PageToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageToken")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("access_token", &"[redacted]")
            .field("category", &self.category)
            .field("tasks", &self.tasks)
            .finish()
    }
}

#[derive(Deserialize)]
struct WirePage {
    #[serde(deserialize_with = "page_id")]
    id: String,
    #[serde(default, deserialize_with = "lenient_string")]
    name: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    category: Option<String>,
    #[serde(default, deserialize_with = "lenient_strings")]
    tasks: Vec<String>,
}

fn page_id<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    lenient_string(d)?.ok_or_else(|| serde::de::Error::custom("Page id must be a string"))
}

/// Which of a business's Page edges to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BusinessPages {
    /// `/{business_id}/owned_pages`: Pages the business owns.
    Owned,
    /// `/{business_id}/client_pages`: Pages of clients the business was given
    /// access to.
    Client,
}

impl BusinessPages {
    /// The edge name.
    #[must_use]
    pub fn edge(self) -> &'static str {
        match self {
            BusinessPages::Owned => "owned_pages",
            BusinessPages::Client => "client_pages",
        }
    }
}

// ---------------------------------------------------------------------------------
// The login dialog
// ---------------------------------------------------------------------------------

/// `response_type` of the login dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ResponseType {
    /// `code`: a code for the server to exchange (Meta's default).
    #[default]
    Code,
    /// `token`: a user token in the URL fragment (client-side apps).
    Token,
    /// `code token`: both.
    CodeAndToken,
    /// `granted_scopes`: the granted permissions, comma-separated.
    GrantedScopes,
}

impl ResponseType {
    /// The wire value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseType::Code => "code",
            ResponseType::Token => "token",
            ResponseType::CodeAndToken => "code token",
            ResponseType::GrantedScopes => "granted_scopes",
        }
    }
}

/// Checks one permission name: Meta's are lowercase words joined by `_`
/// (`pages_show_list`); a space or comma inside one would split it on the wire.
fn check_scope(scope: &str) -> std::result::Result<(), InvalidInput> {
    if scope.is_empty() {
        return Err(InvalidInput::new("scope", "a scope may not be empty"));
    }
    if let Some(bad) = scope
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')))
    {
        return Err(InvalidInput::new(
            "scope",
            format!("`{scope}` contains {bad:?}; pass each permission separately"),
        ));
    }
    Ok(())
}

/// Builds a login dialog URL; see [`OAuth::login_dialog`].
#[derive(Debug)]
#[must_use = "call .url() to build the URL"]
pub struct LoginDialog<'a> {
    oauth: &'a OAuth,
    scopes: Vec<String>,
    state: Option<&'a State>,
    response_type: Option<ResponseType>,
    config_id: Option<String>,
}

impl<'a> LoginDialog<'a> {
    /// Adds permissions (deduplicated, order kept).
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for s in scopes {
            let s = s.as_ref().to_owned();
            if !self.scopes.contains(&s) {
                self.scopes.push(s);
            }
        }
        self
    }
    /// The CSRF state (required).
    pub fn state(mut self, state: &'a State) -> Self {
        self.state = Some(state);
        self
    }
    /// `response_type`; Meta defaults to `code` when absent.
    pub fn response_type(mut self, response_type: ResponseType) -> Self {
        self.response_type = Some(response_type);
        self
    }
    /// `config_id` of a Facebook Login for Business configuration; the
    /// configuration then decides the permissions, so scopes may be empty.
    pub fn config_id(mut self, config_id: impl Into<String>) -> Self {
        self.config_id = Some(config_id.into());
        self
    }

    /// The dialog URL.
    ///
    /// # Errors
    /// [`InvalidInput`] when the state is missing, a scope is malformed, the
    /// `config_id` is not numeric, or there are neither scopes nor a `config_id`.
    pub fn url(self) -> std::result::Result<Url, InvalidInput> {
        let state = self.state.ok_or_else(|| {
            InvalidInput::new("state", "a CSRF state is required for the login dialog")
        })?;
        for s in &self.scopes {
            check_scope(s)?;
        }
        if let Some(id) = &self.config_id
            && (id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(InvalidInput::new(
                "config_id",
                "must be the numeric id of a Login for Business configuration",
            ));
        }
        if self.scopes.is_empty() && self.config_id.is_none() {
            return Err(InvalidInput::new(
                "scope",
                "ask for at least one permission (or pass a Login for Business config_id)",
            ));
        }
        let o = self.oauth;
        let mut url = o.dialog_host.clone();
        url.set_path(&format!("/{}/dialog/oauth", o.version));
        {
            let mut q = url.query_pairs_mut();
            q.clear()
                .append_pair("client_id", &o.app_id)
                .append_pair("redirect_uri", o.redirect_uri.as_str())
                .append_pair("state", state.as_str());
            if !self.scopes.is_empty() {
                q.append_pair("scope", &self.scopes.join(","));
            }
            if let Some(rt) = self.response_type {
                q.append_pair("response_type", rt.as_str());
            }
            if let Some(id) = &self.config_id {
                q.append_pair("config_id", id);
            }
        }
        Ok(url)
    }
}

// ---------------------------------------------------------------------------------
// OAuth
// ---------------------------------------------------------------------------------

/// An app's login configuration: app id and secret, redirect URI, Graph version,
/// and the hosts for the dialog and Instagram Login. Cheap to clone. `Debug`
/// redacts the secret.
#[derive(Clone)]
pub struct OAuth {
    app_id: String,
    app_secret: SecretString,
    redirect_uri: Url,
    version: ApiVersion,
    dialog_host: Url,
    instagram_base_url: String,
    instagram_client: Option<Client>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for OAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth")
            .field("app_id", &self.app_id)
            .field("app_secret", &"[redacted]")
            .field("redirect_uri", &self.redirect_uri.as_str())
            .field("version", &self.version)
            .field("dialog_host", &self.dialog_host.as_str())
            .field("instagram_base_url", &self.instagram_base_url)
            .finish_non_exhaustive()
    }
}

/// Builds an [`OAuth`]; see [`OAuth::builder`].
#[must_use = "call .build()"]
pub struct OAuthBuilder {
    app_id: String,
    app_secret: SecretString,
    redirect_uri: String,
    version: Option<ApiVersion>,
    dialog_host: Option<String>,
    instagram_base_url: Option<String>,
    instagram_client: Option<Client>,
    clock: Option<Arc<dyn Clock>>,
}

impl fmt::Debug for OAuthBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthBuilder")
            .field("app_id", &self.app_id)
            .field("app_secret", &"[redacted]")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

impl OAuthBuilder {
    /// Graph version for the dialog path, default [`meta_core::DEFAULT_API_VERSION`].
    /// Calls use the version of the client they are made with.
    pub fn api_version(mut self, version: ApiVersion) -> Self {
        self.version = Some(version);
        self
    }
    /// Dialog host, default [`DEFAULT_DIALOG_HOST`].
    pub fn dialog_host(mut self, host: impl Into<String>) -> Self {
        self.dialog_host = Some(host.into());
        self
    }
    /// Instagram Login API host, default [`DEFAULT_INSTAGRAM_BASE_URL`]; point it at
    /// meta-sandbox in tests.
    pub fn instagram_base_url(mut self, url: impl Into<String>) -> Self {
        self.instagram_base_url = Some(url.into());
        self
    }
    /// A ready client for the Instagram Login host (its own transport, retries,
    /// governor). Without one, [`OAuth`] builds a plain client for
    /// [`instagram_base_url`](Self::instagram_base_url) on first use, which needs
    /// meta-core's `reqwest` feature.
    pub fn instagram_client(mut self, client: Client) -> Self {
        self.instagram_client = Some(client);
        self
    }
    /// The clock stamping [`Token::obtained_at`] for Instagram Login tokens (Facebook
    /// tokens use the clock of the client they were fetched with). Default: system time.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`InvalidInput`] for a non-numeric app id, an empty or spaced secret, a
    /// redirect URI that is not an absolute `http(s)` URL without fragment, or a bad
    /// host URL.
    pub fn build(self) -> std::result::Result<OAuth, InvalidInput> {
        let app_id = self.app_id.trim().to_owned();
        if app_id.is_empty() || !app_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidInput::new("app_id", "must be the app's numeric id"));
        }
        let secret = self.app_secret.expose_secret();
        if secret.is_empty() || secret.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(InvalidInput::new(
                "app_secret",
                "must be non-empty without whitespace",
            ));
        }
        let redirect_uri = Url::parse(self.redirect_uri.trim())
            .map_err(|e| InvalidInput::new("redirect_uri", format!("not an absolute URL: {e}")))?;
        if !matches!(redirect_uri.scheme(), "http" | "https") || redirect_uri.host().is_none() {
            return Err(InvalidInput::new(
                "redirect_uri",
                "must be an http(s) URL with a host",
            ));
        }
        if redirect_uri.fragment().is_some() {
            return Err(InvalidInput::new(
                "redirect_uri",
                "may not contain a #fragment",
            ));
        }
        let dialog = self
            .dialog_host
            .unwrap_or_else(|| DEFAULT_DIALOG_HOST.to_owned());
        let dialog_host = Url::parse(dialog.trim_end_matches('/'))
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| InvalidInput::new("dialog_host", "must be an http(s) URL"))?;
        let instagram_base_url = self
            .instagram_base_url
            .unwrap_or_else(|| DEFAULT_INSTAGRAM_BASE_URL.to_owned());
        if Url::parse(&instagram_base_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .is_none()
        {
            return Err(InvalidInput::new(
                "instagram_base_url",
                "must be an http(s) URL",
            ));
        }
        Ok(OAuth {
            app_id,
            app_secret: self.app_secret,
            redirect_uri,
            version: self.version.unwrap_or(meta_core::DEFAULT_API_VERSION),
            dialog_host,
            instagram_base_url,
            instagram_client: self.instagram_client,
            clock: self
                .clock
                .unwrap_or_else(|| Arc::new(SystemClock::default())),
        })
    }
}

/// The wire parameters that must never carry the caller's token or a proof of it:
/// OAuth endpoints authenticate with `client_id`/`client_secret`, and sending a
/// user's token there would only spread it further. A JSON `null` stops meta-core
/// from filling them in and is dropped from the encoded request.
fn without_token(req: GraphRequest) -> GraphRequest {
    req.param("access_token", Value::Null)
        .param("appsecret_proof", Value::Null)
        .param("appsecret_time", Value::Null)
}

fn check_token_input(field: &str, token: &SecretString) -> std::result::Result<(), InvalidInput> {
    let t = token.expose_secret();
    if t.trim().is_empty() {
        return Err(InvalidInput::new(field, "is empty"));
    }
    if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(InvalidInput::new(
            field,
            "contains whitespace or control characters",
        ));
    }
    Ok(())
}

impl OAuth {
    /// A builder for the app `app_id` with `app_secret`, redirecting to
    /// `redirect_uri` (which must exactly match one of the app's "Valid OAuth
    /// redirect URIs").
    pub fn builder(
        app_id: impl Into<String>,
        app_secret: SecretString,
        redirect_uri: impl Into<String>,
    ) -> OAuthBuilder {
        OAuthBuilder {
            app_id: app_id.into(),
            app_secret,
            redirect_uri: redirect_uri.into(),
            version: None,
            dialog_host: None,
            instagram_base_url: None,
            instagram_client: None,
            clock: None,
        }
    }

    /// [`OAuth::builder`] with every default.
    ///
    /// # Errors
    /// See [`OAuthBuilder::build`].
    pub fn new(
        app_id: impl Into<String>,
        app_secret: SecretString,
        redirect_uri: impl Into<String>,
    ) -> std::result::Result<Self, InvalidInput> {
        Self::builder(app_id, app_secret, redirect_uri).build()
    }

    /// The app id.
    #[must_use]
    pub fn app_id(&self) -> &str {
        &self.app_id
    }
    /// The redirect URI.
    #[must_use]
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }
    /// The Instagram Login host.
    #[must_use]
    pub fn instagram_base_url(&self) -> &str {
        &self.instagram_base_url
    }

    /// Starts a login dialog URL with optional `response_type` and `config_id`.
    pub fn login_dialog(&self) -> LoginDialog<'_> {
        LoginDialog {
            oauth: self,
            scopes: Vec::new(),
            state: None,
            response_type: None,
            config_id: None,
        }
    }

    /// `https://www.facebook.com/<ver>/dialog/oauth?client_id&redirect_uri&state&scope=a,b`.
    ///
    /// # Errors
    /// [`InvalidInput`] for a malformed or missing scope; see [`LoginDialog::url`].
    pub fn login_url<I, S>(
        &self,
        scopes: I,
        state: &State,
    ) -> std::result::Result<Url, InvalidInput>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.login_dialog().scopes(scopes).state(state).url()
    }

    /// The app token in its literal form `app_id|app_secret`, which Meta accepts
    /// wherever an app token is needed, without a call.
    #[must_use]
    pub fn app_token(&self) -> SecretString {
        SecretString::from(format!(
            "{}|{}",
            self.app_id,
            self.app_secret.expose_secret()
        ))
    }

    fn client_params(&self) -> Params {
        Params::new()
            .set("client_id", &self.app_id)
            .set("client_secret", self.app_secret.expose_secret())
    }

    async fn token_call(&self, client: &Client, req: GraphRequest) -> Result<Token> {
        let raw = client.execute_raw(without_token(req)).await?;
        let wire: WireToken = raw.json()?;
        Ok(wire.into_token(client.clock().now(), raw.body())?)
    }

    /// Exchanges the login code from the redirect for a short-lived user token:
    /// `GET /oauth/access_token?client_id&client_secret&redirect_uri&code`.
    ///
    /// The code is single use, so this call is never retried automatically.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] for an empty or spaced code (nothing sent);
    /// [`crate::Error::Meta`] with Meta's error (code 100, subcode 36009 for a used
    /// code, 36008 for a redirect URI mismatch).
    pub async fn exchange_code(&self, client: &Client, code: &str) -> Result<Token> {
        let code = code.trim();
        if code.is_empty() || code.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(
                InvalidInput::new("code", "must be the non-empty code from the redirect").into(),
            );
        }
        let req = GraphRequest::get("oauth/access_token")
            .params(
                self.client_params()
                    .set("redirect_uri", self.redirect_uri.as_str())
                    .set("code", code),
            )
            .idempotent(false);
        self.token_call(client, req).await
    }

    /// Exchanges a user token for a long-lived one (about 60 days):
    /// `GET /oauth/access_token?grant_type=fb_exchange_token&client_id&client_secret&fb_exchange_token`.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] for an empty token; [`crate::Error::Meta`] with
    /// Meta's error (190/463 when the token already expired).
    pub async fn exchange_long_lived(
        &self,
        client: &Client,
        token: &SecretString,
    ) -> Result<Token> {
        check_token_input("fb_exchange_token", token)?;
        let req = GraphRequest::get("oauth/access_token").params(
            self.client_params()
                .set("grant_type", "fb_exchange_token")
                .set("fb_exchange_token", token.expose_secret()),
        );
        self.token_call(client, req).await
    }

    /// Fetches an app token: `GET /oauth/access_token?grant_type=client_credentials`.
    /// [`OAuth::app_token`] gives the equivalent literal without a call.
    ///
    /// # Errors
    /// [`crate::Error::Meta`] with Meta's error.
    pub async fn fetch_app_token(&self, client: &Client) -> Result<Token> {
        let req = GraphRequest::get("oauth/access_token")
            .params(self.client_params().set("grant_type", "client_credentials"));
        self.token_call(client, req).await
    }

    /// Inspects a token with the app token:
    /// `GET /debug_token?input_token=<token>&access_token=<app token>`.
    ///
    /// An invalid token is not an error here: [`TokenInfo::is_valid`] is false and
    /// [`TokenInfo::error`] says why.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] for an empty token; [`crate::Error::Meta`] when the
    /// call itself fails.
    pub async fn debug_token(&self, client: &Client, input: &SecretString) -> Result<TokenInfo> {
        check_token_input("input_token", input)?;
        let req = GraphRequest::get("debug_token")
            .param("input_token", input.expose_secret())
            .access_token(self.app_token());
        let envelope: DebugEnvelope = client.execute(req).await?.into_data();
        Ok(envelope.data)
    }

    /// Every Page the client's user token manages, with Page tokens:
    /// `GET /me/accounts?fields=id,name,access_token,category,tasks`, all pages of
    /// the edge. With a long-lived user token the Page tokens never expire.
    ///
    /// # Errors
    /// [`crate::Error::Meta`] with Meta's error; a Page without an `access_token`
    /// (the user lacks a task on it) is skipped rather than failing the list.
    pub async fn page_tokens(&self, client: &Client) -> Result<Vec<PageToken>> {
        self.pages_of(client, "me/accounts", ACCOUNT_FIELDS).await
    }

    /// A business's Pages with Page tokens:
    /// `GET /{business_id}/owned_pages|client_pages?fields=id,name,access_token,category`.
    /// Needs a token of a business admin (user or system user) with
    /// `business_management`.
    ///
    /// # Errors
    /// [`crate::Error::Meta`] with Meta's error.
    pub async fn business_pages(
        &self,
        client: &Client,
        business: &BusinessId,
        which: BusinessPages,
    ) -> Result<Vec<PageToken>> {
        let path = format!("{}/{}", business.as_str(), which.edge());
        self.pages_of(client, &path, BUSINESS_PAGE_FIELDS).await
    }

    async fn pages_of(&self, client: &Client, path: &str, fields: &str) -> Result<Vec<PageToken>> {
        let items = client
            .paginate::<WirePage>(path, [("fields", fields)])
            .collect_all()
            .await?;
        Ok(items
            .into_iter()
            .filter_map(|p| {
                let token = p.access_token.filter(|t| !t.is_empty())?;
                Some(PageToken {
                    id: PageId::new(p.id),
                    name: p.name,
                    access_token: SecretString::from(token),
                    category: p.category,
                    tasks: p.tasks,
                })
            })
            .collect())
    }

    /// The client for Instagram Login calls: the one configured, or a plain one for
    /// the Instagram host.
    fn instagram(&self) -> Result<Client> {
        if let Some(c) = &self.instagram_client {
            return Ok(c.clone());
        }
        Ok(Client::builder()
            .base_url(self.instagram_base_url.clone())
            .api_version(self.version)
            .clock(self.clock.clone())
            .build()?)
    }

    /// Instagram Login: exchanges a short-lived Instagram user token (valid 1 hour)
    /// for a long-lived one (60 days):
    /// `GET https://graph.instagram.com/access_token?grant_type=ig_exchange_token&client_secret&access_token`.
    ///
    /// Sent unversioned, as Meta documents the path.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] for an empty token; [`crate::Error::Meta`] with
    /// Meta's error.
    pub async fn ig_exchange_long_lived(&self, short: &SecretString) -> Result<Token> {
        check_token_input("access_token", short)?;
        let client = self.instagram()?;
        let req = GraphRequest::get("access_token")
            .unversioned()
            .param("grant_type", "ig_exchange_token")
            .param("client_secret", self.app_secret.expose_secret())
            .param("access_token", short.expose_secret());
        self.ig_token_call(&client, req).await
    }

    /// Instagram Login: refreshes a long-lived Instagram user token for another 60
    /// days: `GET https://graph.instagram.com/refresh_access_token?grant_type=ig_refresh_token&access_token`.
    /// Meta refreshes only unexpired long-lived tokens at least 24 hours old.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] for an empty token; [`crate::Error::Meta`] with
    /// Meta's error (190/463 for an expired token).
    pub async fn ig_refresh(&self, long: &SecretString) -> Result<Token> {
        check_token_input("access_token", long)?;
        let client = self.instagram()?;
        let req = GraphRequest::get("refresh_access_token")
            .unversioned()
            .param("grant_type", "ig_refresh_token")
            .param("access_token", long.expose_secret());
        self.ig_token_call(&client, req).await
    }

    async fn ig_token_call(&self, client: &Client, req: GraphRequest) -> Result<Token> {
        // The token travels as `access_token` here: never add a proof for it.
        let req = req
            .param("appsecret_proof", Value::Null)
            .param("appsecret_time", Value::Null);
        let raw = client.execute_raw(req).await?;
        let wire: WireToken = raw.json()?;
        Ok(wire.into_token(self.clock.now(), raw.body())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(u8);
    impl Randomness for Fixed {
        fn fill(&self, buf: &mut [u8]) -> std::result::Result<(), InvalidInput> {
            buf.fill(self.0);
            Ok(())
        }
    }
    struct Broken;
    impl Randomness for Broken {
        fn fill(&self, _: &mut [u8]) -> std::result::Result<(), InvalidInput> {
            Err(InvalidInput::new("randomness", "no entropy"))
        }
    }

    fn oauth() -> OAuth {
        OAuth::new(
            "1234567890",
            SecretString::from("s3cr3t"),
            "https://app.example.com/cb?x=1",
        )
        .unwrap()
    }

    #[test]
    fn state_is_random_url_safe_and_verifies() {
        let a = State::generate().unwrap();
        let b = State::generate().unwrap();
        assert_eq!(a.as_str().len(), 43);
        assert_ne!(a.as_str(), b.as_str());
        assert!(
            a.as_str()
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert!(a.verify(a.as_str()));
        assert!(!a.verify(b.as_str()));
        assert!(!a.verify(""));
        assert!(!a.verify(&a.as_str()[..42]));
        assert_eq!(format!("{a:?}"), "State([redacted])");
        let stored = State::from_stored(a.as_str()).unwrap();
        assert!(stored.verify(a.as_str()));
    }

    #[test]
    fn injected_randomness_is_used_and_failures_surface() {
        let s = State::generate_with(&Fixed(0xff)).unwrap();
        assert_eq!(s.as_str(), URL_SAFE_NO_PAD.encode([0xffu8; 32]));
        assert!(State::generate_with(&Broken).is_err());
        assert!(State::from_stored("short").is_err());
        assert!(State::from_stored("has spaces in it, too many").is_err());
    }

    #[test]
    fn login_url_has_meta_shape() {
        let o = oauth();
        let st = State::generate_with(&Fixed(7)).unwrap();
        let url = o
            .login_url(
                ["pages_show_list", "pages_manage_posts", "pages_show_list"],
                &st,
            )
            .unwrap();
        assert_eq!(url.host_str(), Some("www.facebook.com"));
        assert_eq!(url.path(), "/v26.0/dialog/oauth");
        let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(
            q,
            vec![
                ("client_id".into(), "1234567890".into()),
                (
                    "redirect_uri".into(),
                    "https://app.example.com/cb?x=1".into()
                ),
                ("state".into(), st.as_str().to_owned()),
                ("scope".into(), "pages_show_list,pages_manage_posts".into()),
            ]
        );
    }

    #[test]
    fn login_for_business_and_response_type() {
        let o = OAuth::builder("42", SecretString::from("s"), "https://a.example/cb")
            .api_version("v25.0".parse().unwrap())
            .dialog_host("https://m.facebook.com/")
            .build()
            .unwrap();
        let st = State::generate().unwrap();
        let url = o
            .login_dialog()
            .state(&st)
            .config_id("998877")
            .response_type(ResponseType::CodeAndToken)
            .url()
            .unwrap();
        assert!(
            url.as_str()
                .starts_with("https://m.facebook.com/v25.0/dialog/oauth?")
        );
        let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(q["config_id"], "998877");
        assert_eq!(q["response_type"], "code token");
        assert!(!q.contains_key("scope"));
    }

    #[test]
    fn bad_scopes_and_missing_state_are_refused() {
        let o = oauth();
        let st = State::generate().unwrap();
        for bad in ["a b", "a,b", "", "pages\n", "é"] {
            let e = o.login_url([bad], &st).unwrap_err();
            assert_eq!(e.field(), "scope", "{bad:?}");
        }
        assert_eq!(
            o.login_url(Vec::<String>::new(), &st).unwrap_err().field(),
            "scope"
        );
        let e = o.login_dialog().scopes(["email"]).url().unwrap_err();
        assert_eq!(e.field(), "state");
        let e = o
            .login_dialog()
            .state(&st)
            .config_id("12a")
            .url()
            .unwrap_err();
        assert_eq!(e.field(), "config_id");
    }

    #[test]
    fn builder_validates() {
        let s = || SecretString::from("s");
        assert_eq!(
            OAuth::new("abc", s(), "https://a/cb").unwrap_err().field(),
            "app_id"
        );
        assert_eq!(
            OAuth::new("1", SecretString::from(" "), "https://a/cb")
                .unwrap_err()
                .field(),
            "app_secret"
        );
        for bad in ["/cb", "ftp://a/cb", "https://a/cb#frag", "not a url"] {
            assert_eq!(
                OAuth::new("1", s(), bad).unwrap_err().field(),
                "redirect_uri",
                "{bad}"
            );
        }
        let e = OAuth::builder("1", s(), "https://a/cb")
            .instagram_base_url("nope")
            .build()
            .unwrap_err();
        assert_eq!(e.field(), "instagram_base_url");
        let dbg = format!("{:?}", oauth());
        assert!(!dbg.contains("s3cr3t"), "{dbg}");
        assert_eq!(oauth().app_token().expose_secret(), "1234567890|s3cr3t");
    }

    #[test]
    fn token_decoding_is_lenient_and_redacted() {
        let at = UNIX_EPOCH + Duration::from_secs(1_000);
        let w: WireToken = serde_json::from_str(
            r#"{"access_token":"EAAB1","token_type":"bearer","expires_in":"5183944"}"#,
        )
        .unwrap();
        let t = w.into_token(at, b"").unwrap();
        assert_eq!(t.expires_in(), Some(Duration::from_secs(5_183_944)));
        assert_eq!(t.expires_at(), Some(at + Duration::from_secs(5_183_944)));
        assert!(!t.is_expired_at(at));
        assert!(t.is_expired_at(at + Duration::from_secs(5_183_944)));
        assert!(!format!("{t:?}").contains("EAAB1"));

        let never: WireToken =
            serde_json::from_str(r#"{"access_token":"x","token_type":"bearer"}"#).unwrap();
        assert_eq!(never.into_token(at, b"").unwrap().expires_at(), None);
        let empty: WireToken = serde_json::from_str(r#"{"token_type":"bearer"}"#).unwrap();
        assert!(empty.into_token(at, b"{}").is_err());
    }

    #[test]
    fn token_info_decodes_meta_shapes() {
        // The shape in the facts guide (pyfacebook's token_info.json).
        let body = r#"{"data":{"app_id":"000000","type":"USER","application":"App",
            "data_access_expires_at":1585040349,"expires_at":1577347200,"is_valid":true,
            "scopes":["pages_show_list","manage_pages"],
            "granular_scopes":[{"scope":"manage_pages"},{"scope":"pages_show_list","target_ids":["123",456]}],
            "user_id":"789"}}"#;
        let info = serde_json::from_str::<DebugEnvelope>(body).unwrap().data;
        assert_eq!(info.token_type, Some(TokenType::User));
        assert!(info.is_valid && info.has_scope("manage_pages"));
        assert_eq!(
            info.expires_at(),
            Some(UNIX_EPOCH + Duration::from_secs(1_577_347_200))
        );
        assert!(!info.never_expires());
        assert_eq!(info.granular_scopes[1].target_ids, ["123", "456"]);
        assert!(info.granular_scopes[0].target_ids.is_empty());

        let page = r#"{"data":{"type":"PAGE","expires_at":0,"is_valid":true,"profile_id":"55","scopes":[]}}"#;
        let info = serde_json::from_str::<DebugEnvelope>(page).unwrap().data;
        assert!(info.never_expires());
        assert_eq!(info.expires_at(), None);
        assert_eq!(info.profile_id.as_deref(), Some("55"));

        let sys = r#"{"data":{"type":"SYSTEM_USER","is_valid":true}}"#;
        let info = serde_json::from_str::<DebugEnvelope>(sys).unwrap().data;
        assert_eq!(info.token_type, Some(TokenType::SystemUser));
        let odd = r#"{"data":{"type":"WORKPLACE","is_valid":true}}"#;
        let info = serde_json::from_str::<DebugEnvelope>(odd).unwrap().data;
        assert_eq!(
            info.token_type,
            Some(TokenType::Unknown("WORKPLACE".into()))
        );

        let invalid = r#"{"data":{"error":{"code":190,"message":"Invalid OAuth access token - Cannot parse access token"},"is_valid":false,"scopes":[]}}"#;
        let info = serde_json::from_str::<DebugEnvelope>(invalid).unwrap().data;
        assert!(!info.is_valid);
        assert_eq!(info.error.unwrap().code, Some(190));
    }
}
