//! The one public error type, and its classification.
//!
//! Every call returns [`Result<T>`]. An [`Error`] is one of a few variants, each
//! wrapping a struct with private fields and accessors so it can grow without
//! breaking callers. [`Error::kind`] and the `is_*` helpers are the single source of
//! truth for callers, the retry policy and the CLI: classification is by Meta's
//! `code` and `error_subcode`, never by searching the message text.

use std::fmt;
use std::time::Duration;

use http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::usage::Usage;

/// Shorthand for `Result<T, meta_core::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Anything that can go wrong calling Meta.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Meta answered with an error body.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// The request could not be sent or the response not read.
    #[error(transparent)]
    Transport(TransportError),
    /// The request took longer than its timeout.
    #[error(transparent)]
    Timeout(TimeoutError),
    /// Meta answered 2xx but the body was not what the caller asked for.
    #[error(transparent)]
    Decode(DecodeError),
    /// The client or request was configured wrongly; nothing was sent.
    #[error(transparent)]
    Config(ConfigError),
    /// The local rate governor refused to send: the scope is blocked for longer
    /// than the caller is willing to wait.
    #[error(transparent)]
    RateLimited(RateLimitedError),
}

/// How an error should be handled. Throttles are checked first, so an
/// `OAuthException`-typed throttle is still [`ErrorKind::Throttled`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// A rate limit was hit (4, 17, 32, 341, 613, 80000–80099, IG 9/2207042).
    /// Wait, then retry.
    Throttled,
    /// The token is invalid or expired; the user must log in again
    /// (190, 102, subcodes 458–467 and 492).
    ReAuth,
    /// A permission is missing (10, 200–299). Not retryable.
    Permission,
    /// Meta says it is temporary (1, 2, `is_transient`, HTTP 5xx). Retry with backoff.
    Transient,
    /// Temporarily blocked for policy violations (368). Do not retry automatically.
    PolicyBlock,
    /// Duplicate post (506). Never retry.
    Duplicate,
    /// An invalid parameter (100). Fix the request.
    InvalidParameter,
    /// The transport failed (connect, I/O). May be retried when safe.
    Network,
    /// The request timed out. May be retried when safe.
    Timeout,
    /// The body could not be decoded.
    Decode,
    /// Client-side configuration error.
    Config,
    /// The local governor refused to send.
    RateLimited,
    /// Anything else Meta returned.
    Other,
}

impl ErrorKind {
    /// A stable snake_case name, for logs and the CLI.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Throttled => "throttled",
            ErrorKind::ReAuth => "re_auth",
            ErrorKind::Permission => "permission",
            ErrorKind::Transient => "transient",
            ErrorKind::PolicyBlock => "policy_block",
            ErrorKind::Duplicate => "duplicate",
            ErrorKind::InvalidParameter => "invalid_parameter",
            ErrorKind::Network => "network",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Decode => "decode",
            ErrorKind::Config => "config",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Other => "other",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Classifies a Meta error by code and subcode. Pure; table-tested.
///
/// Order matters: throttles first (Meta sends some throttles typed as
/// `OAuthException`, and BUC throttles come back as HTTP 400 without
/// `is_transient`), then re-auth, permission, transient, the specific codes.
#[must_use]
pub fn classify(
    code: i64,
    subcode: Option<i64>,
    is_transient: Option<bool>,
    http_status: Option<u16>,
) -> ErrorKind {
    if is_throttle(code, subcode) {
        return ErrorKind::Throttled;
    }
    if matches!(code, 190 | 102) || subcode.is_some_and(|s| (458..=467).contains(&s) || s == 492) {
        return ErrorKind::ReAuth;
    }
    if code == 10 || (200..=299).contains(&code) {
        return ErrorKind::Permission;
    }
    if matches!(code, 1 | 2) || is_transient == Some(true) {
        return ErrorKind::Transient;
    }
    match code {
        368 => ErrorKind::PolicyBlock,
        506 => ErrorKind::Duplicate,
        100 => ErrorKind::InvalidParameter,
        _ if http_status.is_some_and(|s| s >= 500) => ErrorKind::Transient,
        _ => ErrorKind::Other,
    }
}

/// True for Meta's throttling codes: 4, 17, 32, 341, 613, the business-use-case
/// range 80000–80099, and Instagram's 9 with subcode 2207042.
#[must_use]
pub fn is_throttle(code: i64, subcode: Option<i64>) -> bool {
    matches!(code, 4 | 17 | 32 | 341 | 613)
        || (80_000..=80_099).contains(&code)
        || (code == 9 && subcode == Some(2_207_042))
}

/// An error body returned by the Graph API, with the HTTP status and usage seen.
#[derive(Clone, PartialEq)]
pub struct ApiError {
    code: i64,
    subcode: Option<i64>,
    error_type: Option<String>,
    message: String,
    user_title: Option<String>,
    user_msg: Option<String>,
    fbtrace_id: Option<String>,
    is_transient: Option<bool>,
    error_data: Option<serde_json::Value>,
    http_status: Option<u16>,
    usage: Usage,
}

/// Every field is optional and type-tolerant: a field of an unexpected type becomes
/// `None` instead of failing the whole envelope, so an odd `message` never hides the
/// `code` that classification depends on.
#[derive(Debug, Deserialize)]
struct WireError {
    #[serde(default, deserialize_with = "lenient_string")]
    message: Option<String>,
    #[serde(default, rename = "type", deserialize_with = "lenient_string")]
    error_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_i64")]
    code: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    error_subcode: Option<i64>,
    #[serde(default, deserialize_with = "lenient_string")]
    error_user_title: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    error_user_msg: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    fbtrace_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    is_transient: Option<bool>,
    #[serde(default)]
    error_data: Option<serde_json::Value>,
}

fn lenient_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn lenient_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::Bool(b) => Some(b),
        serde_json::Value::String(s) => match s.trim() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    })
}

fn lenient_i64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

impl ApiError {
    /// Builds an error by hand (tests, fakes, adapters that map other failures).
    #[must_use]
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        ApiError {
            code,
            subcode: None,
            error_type: None,
            message: message.into(),
            user_title: None,
            user_msg: None,
            fbtrace_id: None,
            is_transient: None,
            error_data: None,
            http_status: None,
            usage: Usage::default(),
        }
    }

    /// Sets the subcode.
    #[must_use]
    pub fn with_subcode(mut self, subcode: i64) -> Self {
        self.subcode = Some(subcode);
        self
    }

    /// Sets the HTTP status.
    #[must_use]
    pub fn with_http_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }

    /// Sets `is_transient`.
    #[must_use]
    pub fn with_transient(mut self, transient: bool) -> Self {
        self.is_transient = Some(transient);
        self
    }

    /// Attaches the usage headers seen on the response.
    #[must_use]
    pub fn with_usage(mut self, usage: Usage) -> Self {
        self.usage = usage;
        self
    }

    /// Parses Meta's `{"error": {...}}` body. Returns `None` when the body is not an
    /// error envelope (so the caller can fall back to a status-only error).
    ///
    /// `error_data` is decoded when Meta sends it as a JSON-encoded string.
    #[must_use]
    pub fn from_body(status: Option<StatusCode>, body: &[u8], usage: Usage) -> Option<Self> {
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        let inner = value.get("error")?;
        // Only an object is an envelope: serde's derived struct impls would also
        // accept an array positionally (`{"error":[1]}` as `message = "1"`).
        if !inner.is_object() {
            return None;
        }
        let w = WireError::deserialize(inner).ok()?;
        let error_data = match w.error_data {
            Some(serde_json::Value::String(s)) => Some(
                serde_json::from_str::<serde_json::Value>(&s)
                    .unwrap_or(serde_json::Value::String(s)),
            ),
            Some(serde_json::Value::Null) | None => None,
            other => other,
        };
        Some(ApiError {
            code: w.code.unwrap_or(0),
            subcode: w.error_subcode,
            error_type: w.error_type,
            message: w.message.unwrap_or_default(),
            user_title: w.error_user_title.filter(|s| !s.is_empty()),
            user_msg: w.error_user_msg.filter(|s| !s.is_empty()),
            fbtrace_id: w.fbtrace_id,
            is_transient: w.is_transient,
            error_data,
            http_status: status.map(|s| s.as_u16()),
            usage,
        })
    }

    /// An error for a non-2xx response whose body is not Meta's envelope
    /// (a proxy's HTML page, an empty 502): classified by status alone.
    #[must_use]
    pub fn from_status(status: StatusCode, body: &[u8], usage: Usage) -> Self {
        let snippet = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        let mut e = ApiError::new(
            0,
            format!(
                "HTTP {} without a Graph error body{}",
                status.as_u16(),
                if snippet.trim().is_empty() {
                    String::new()
                } else {
                    format!(": {}", snippet.trim())
                }
            ),
        );
        e.http_status = Some(status.as_u16());
        e.usage = usage;
        e
    }

    /// Meta's error `code`.
    #[must_use]
    pub fn code(&self) -> i64 {
        self.code
    }
    /// `error_subcode`, when sent.
    #[must_use]
    pub fn subcode(&self) -> Option<i64> {
        self.subcode
    }
    /// The error `type`, e.g. `OAuthException`.
    #[must_use]
    pub fn error_type(&self) -> Option<&str> {
        self.error_type.as_deref()
    }
    /// The developer-facing message.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
    /// `error_user_title`: a title safe to show an end user.
    #[must_use]
    pub fn user_title(&self) -> Option<&str> {
        self.user_title.as_deref()
    }
    /// `error_user_msg`: a message safe to show an end user.
    #[must_use]
    pub fn user_msg(&self) -> Option<&str> {
        self.user_msg.as_deref()
    }
    /// `fbtrace_id`, for Meta support.
    #[must_use]
    pub fn fbtrace_id(&self) -> Option<&str> {
        self.fbtrace_id.as_deref()
    }
    /// `is_transient`, when sent.
    #[must_use]
    pub fn is_transient(&self) -> Option<bool> {
        self.is_transient
    }
    /// `error_data`, decoded from a JSON string when Meta sent it that way.
    #[must_use]
    pub fn error_data(&self) -> Option<&serde_json::Value> {
        self.error_data.as_ref()
    }
    /// The HTTP status of the response (absent for per-item batch errors Meta
    /// reported without one).
    #[must_use]
    pub fn http_status(&self) -> Option<u16> {
        self.http_status
    }
    /// The usage headers on the failing response.
    #[must_use]
    pub fn usage(&self) -> &Usage {
        &self.usage
    }
    /// The classification; see [`classify`].
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        classify(self.code, self.subcode, self.is_transient, self.http_status)
    }
    /// How long Meta asked us to wait: the BUC `estimated_time_to_regain_access`
    /// or the ad account's `reset_time_duration` from the headers on this response.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        self.usage.regain_after()
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("code", &self.code)
            .field("subcode", &self.subcode)
            .field("kind", &self.kind())
            .field("type", &self.error_type)
            .field("message", &self.message)
            .field("fbtrace_id", &self.fbtrace_id)
            .field("is_transient", &self.is_transient)
            .field("http_status", &self.http_status)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Graph API error {}", self.code)?;
        if let Some(s) = self.subcode {
            write!(f, "/{s}")?;
        }
        write!(f, " ({}): {}", self.kind(), self.message)?;
        if let Some(t) = &self.fbtrace_id {
            write!(f, " [fbtrace_id {t}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// Why the transport failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be opened: the request was certainly not sent,
    /// so even a non-idempotent call may be retried.
    Connect,
    /// The connection broke after the request may have been sent.
    Io,
    /// The request could not be built (bad URL, bad header).
    Request,
    /// Anything else.
    Other,
}

/// The request could not be sent or the response not read.
#[derive(Debug, thiserror::Error)]
#[error("transport error ({kind:?}): {message}")]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl TransportError {
    /// A transport error with a message.
    #[must_use]
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        TransportError {
            kind,
            message: message.into(),
            source: None,
        }
    }
    /// Attaches the underlying error.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }
    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }
    /// True when the request certainly never left this process.
    #[must_use]
    pub fn is_connect(&self) -> bool {
        self.kind == TransportErrorKind::Connect
    }
    /// The message.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// The request exceeded its timeout.
#[derive(Debug, Clone, thiserror::Error)]
#[error("request timed out after {after:?}")]
pub struct TimeoutError {
    after: Duration,
}

impl TimeoutError {
    /// A timeout after `after`.
    #[must_use]
    pub fn new(after: Duration) -> Self {
        TimeoutError { after }
    }
    /// The timeout that expired.
    #[must_use]
    pub fn after(&self) -> Duration {
        self.after
    }
}

/// A 2xx body did not decode into the requested type.
#[derive(Debug, Clone, thiserror::Error)]
#[error("could not decode response at `{path}`: {message}")]
pub struct DecodeError {
    path: String,
    message: String,
    snippet: String,
}

impl DecodeError {
    /// A decode error at a JSON path.
    #[must_use]
    pub fn new(path: impl Into<String>, message: impl Into<String>, body: &[u8]) -> Self {
        DecodeError {
            path: path.into(),
            message: message.into(),
            snippet: String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned(),
        }
    }
    /// Decodes `body` as `T`, recording the JSON path of the first failure.
    ///
    /// # Errors
    /// A [`DecodeError`] naming the path (`data[3].id`) and serde's message.
    pub fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, DecodeError> {
        let de = &mut serde_json::Deserializer::from_slice(body);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            DecodeError::new(path, e.into_inner().to_string(), body)
        })
    }
    /// The JSON path where decoding failed (`.` for the root).
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }
    /// serde's message.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
    /// The first bytes of the body, for diagnosis.
    #[must_use]
    pub fn body_snippet(&self) -> &str {
        &self.snippet
    }
}

/// Client or request configuration was invalid; nothing was sent.
#[derive(Debug, Clone, thiserror::Error)]
#[error("configuration error: {message}")]
pub struct ConfigError {
    message: String,
}

impl ConfigError {
    /// A configuration error.
    #[must_use]
    pub fn new(message: impl Into<String>) -> Self {
        ConfigError {
            message: message.into(),
        }
    }
    /// The message.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// The local governor would not send within the allowed wait.
#[derive(Debug, Clone, thiserror::Error)]
#[error("rate limited locally on scope `{scope}`; retry after {retry_after:?}")]
pub struct RateLimitedError {
    scope: String,
    retry_after: Duration,
}

impl RateLimitedError {
    /// A local refusal on `scope` for `retry_after`.
    #[must_use]
    pub fn new(scope: impl Into<String>, retry_after: Duration) -> Self {
        RateLimitedError {
            scope: scope.into(),
            retry_after,
        }
    }
    /// The blocked scope, e.g. `buc:12345:pages`.
    #[must_use]
    pub fn scope(&self) -> &str {
        &self.scope
    }
    /// How long until the scope opens.
    #[must_use]
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }
}

impl Error {
    /// The classification of this error.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Api(e) => e.kind(),
            Error::Transport(_) => ErrorKind::Network,
            Error::Timeout(_) => ErrorKind::Timeout,
            Error::Decode(_) => ErrorKind::Decode,
            Error::Config(_) => ErrorKind::Config,
            Error::RateLimited(_) => ErrorKind::RateLimited,
        }
    }

    /// The Graph API error, if Meta returned one.
    #[must_use]
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// True when retrying the *same* request could succeed: throttles, transient
    /// errors, network failures and timeouts. Whether it is *safe* to retry (a POST
    /// that may have been applied) is the retry policy's decision, not this one.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::Throttled
                | ErrorKind::Transient
                | ErrorKind::Network
                | ErrorKind::Timeout
                | ErrorKind::RateLimited
        )
    }

    /// True for Meta throttles and local governor refusals.
    #[must_use]
    pub fn is_rate_limit(&self) -> bool {
        matches!(self.kind(), ErrorKind::Throttled | ErrorKind::RateLimited)
    }

    /// True when the user must log in again.
    #[must_use]
    pub fn is_auth(&self) -> bool {
        self.kind() == ErrorKind::ReAuth
    }

    /// How long Meta (or the local governor) asked us to wait, when known.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api(e) => e.retry_after(),
            Error::RateLimited(e) => Some(e.retry_after()),
            _ => None,
        }
    }

    /// Shorthand for a configuration error.
    #[must_use]
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config(ConfigError::new(message))
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(Box::new(e))
    }
}
impl From<TransportError> for Error {
    fn from(e: TransportError) -> Self {
        Error::Transport(e)
    }
}
impl From<TimeoutError> for Error {
    fn from(e: TimeoutError) -> Self {
        Error::Timeout(e)
    }
}
impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::Decode(e)
    }
}
impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}
impl From<RateLimitedError> for Error {
    fn from(e: RateLimitedError) -> Self {
        Error::RateLimited(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue};

    /// One row of the classification table: a real error body, the HTTP status it
    /// came with, and what we expect.
    struct Case {
        name: &'static str,
        status: u16,
        body: &'static str,
        code: i64,
        subcode: Option<i64>,
        kind: ErrorKind,
    }

    // Bodies follow the shapes in the facts guide §1.3 and §2 (Graph error-handling
    // doc, Marketing rate-limiting doc, SDK fixtures).
    const CASES: &[Case] = &[
        Case {
            name: "190/460 password changed",
            status: 400,
            body: r#"{"error":{"message":"Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.","type":"OAuthException","code":190,"error_subcode":460,"fbtrace_id":"EJplcsCHuLu"}}"#,
            code: 190,
            subcode: Some(460),
            kind: ErrorKind::ReAuth,
        },
        Case {
            name: "190/463 expired",
            status: 400,
            body: r#"{"error":{"message":"Error validating access token: Session has expired on Tuesday, 10-Mar-26 10:00:00 PDT.","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"A1b2C3"}}"#,
            code: 190,
            subcode: Some(463),
            kind: ErrorKind::ReAuth,
        },
        Case {
            name: "190 without subcode",
            status: 400,
            body: r#"{"error":{"message":"Invalid OAuth access token - Cannot parse access token","type":"OAuthException","code":190,"fbtrace_id":"x"}}"#,
            code: 190,
            subcode: None,
            kind: ErrorKind::ReAuth,
        },
        Case {
            name: "102 session",
            status: 400,
            body: r#"{"error":{"message":"Session key invalid or no longer valid","type":"OAuthException","code":102}}"#,
            code: 102,
            subcode: None,
            kind: ErrorKind::ReAuth,
        },
        Case {
            name: "4 app limit, OAuthException-typed",
            status: 403,
            body: r#"{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","is_transient":true,"code":4,"fbtrace_id":"Fz"}}"#,
            code: 4,
            subcode: None,
            kind: ErrorKind::Throttled,
        },
        Case {
            name: "4/1504022",
            status: 400,
            body: r#"{"error":{"message":"(#4) There have been too many calls from this app","type":"OAuthException","code":4,"error_subcode":1504022}}"#,
            code: 4,
            subcode: Some(1_504_022),
            kind: ErrorKind::Throttled,
        },
        Case {
            name: "17/2446079 user/ad-account limit",
            status: 400,
            body: r#"{"error":{"message":"(#17) User request limit reached","type":"OAuthException","is_transient":true,"code":17,"error_subcode":2446079,"fbtrace_id":"AbC"}}"#,
            code: 17,
            subcode: Some(2_446_079),
            kind: ErrorKind::Throttled,
        },
        Case {
            name: "32 page limit",
            status: 400,
            body: r#"{"error":{"message":"(#32) Page request limit reached","type":"OAuthException","code":32}}"#,
            code: 32,
            subcode: None,
            kind: ErrorKind::Throttled,
        },
        Case {
            name: "341 application limit",
            status: 400,
            body: r#"{"error":{"message":"(#341) Application limit reached","type":"OAuthException","code":341}}"#,
            code: 341,
            subcode: None,
            kind: ErrorKind::Throttled,
        },
        Case {
            name: "613/1487742 ad-account",
            status: 400,
            body: r#"{"error":{"message":"(#613) There have been too many calls from this ad-account. Please wait a bit and try again.","type":"OAuthException","code":613,"error_subcode":1487742,"is_transient":true}}"#,
            code: 613,
            subcode: Some(1_487_742),
            kind: ErrorKind::Throttled,
        },
        Case {
            name: "80004/2446079 BUC, OAuthException, HTTP 400, no is_transient",
            status: 400,
            body: r#"{"error":{"message":"(#80004) There have been too many calls to this ad-account. Wait a bit and try again.","type":"OAuthException","code":80004,"error_subcode":2446079,"fbtrace_id":"B7"}}"#,
            code: 80_004,
            subcode: Some(2_446_079),
            kind: ErrorKind::Throttled,
        },
        Case {
            name: "80001 BUC pages",
            status: 400,
            body: r#"{"error":{"message":"(#80001) There have been too many calls to this Page account.","type":"OAuthException","code":80001,"error_subcode":2446079}}"#,
            code: 80_001,
            subcode: Some(2_446_079),
            kind: ErrorKind::Throttled,
        },
        Case {
            name: "9/2207042 IG publishing limit",
            status: 400,
            body: r#"{"error":{"message":"Application request limit reached","type":"OAuthException","is_transient":false,"code":9,"error_subcode":2207042,"error_user_title":"Can't post","error_user_msg":"You reached the maximum number of posts that can be published.","fbtrace_id":"IGx"}}"#,
            code: 9,
            subcode: Some(2_207_042),
            kind: ErrorKind::Throttled,
        },
        Case {
            name: "9 without the IG subcode is not a throttle",
            status: 400,
            body: r#"{"error":{"message":"Something","type":"OAuthException","code":9}}"#,
            code: 9,
            subcode: None,
            kind: ErrorKind::Other,
        },
        Case {
            name: "10 permission",
            status: 403,
            body: r#"{"error":{"message":"(#10) Application does not have permission for this action","type":"OAuthException","code":10}}"#,
            code: 10,
            subcode: None,
            kind: ErrorKind::Permission,
        },
        Case {
            name: "200 permissions error",
            status: 403,
            body: r#"{"error":{"message":"(#200) Permissions error","type":"OAuthException","code":200,"error_subcode":1870034}}"#,
            code: 200,
            subcode: Some(1_870_034),
            kind: ErrorKind::Permission,
        },
        Case {
            name: "294 needs ads_management",
            status: 403,
            body: r#"{"error":{"message":"(#294) Managing advertisements requires the extended permission ads_management","type":"OAuthException","code":294}}"#,
            code: 294,
            subcode: None,
            kind: ErrorKind::Permission,
        },
        Case {
            name: "1 unknown",
            status: 500,
            body: r#"{"error":{"message":"An unknown error occurred","type":"OAuthException","is_transient":true,"code":1,"error_subcode":99}}"#,
            code: 1,
            subcode: Some(99),
            kind: ErrorKind::Transient,
        },
        Case {
            name: "2 service",
            status: 503,
            body: r#"{"error":{"message":"An unexpected error has occurred. Please retry your request later.","type":"OAuthException","is_transient":true,"code":2}}"#,
            code: 2,
            subcode: None,
            kind: ErrorKind::Transient,
        },
        Case {
            name: "is_transient true on another code",
            status: 400,
            body: r#"{"error":{"message":"Error posting link","type":"FacebookApiException","is_transient":true,"code":1609005}}"#,
            code: 1_609_005,
            subcode: None,
            kind: ErrorKind::Transient,
        },
        Case {
            name: "368 policy block",
            status: 400,
            body: r#"{"error":{"message":"The action attempted has been deemed abusive or is otherwise disallowed","type":"OAuthException","code":368,"error_subcode":1390008}}"#,
            code: 368,
            subcode: Some(1_390_008),
            kind: ErrorKind::PolicyBlock,
        },
        Case {
            name: "506 duplicate",
            status: 400,
            body: r#"{"error":{"message":"(#506) Duplicate status message","type":"OAuthException","code":506}}"#,
            code: 506,
            subcode: None,
            kind: ErrorKind::Duplicate,
        },
        Case {
            name: "100/1487534 insights too much data",
            status: 400,
            body: r#"{"error":{"message":"(#100) Please reduce the amount of data you're asking for, then retry your request","type":"OAuthException","code":100,"error_subcode":1487534}}"#,
            code: 100,
            subcode: Some(1_487_534),
            kind: ErrorKind::InvalidParameter,
        },
        Case {
            name: "100 app secret proof (pyfacebook fixture)",
            status: 400,
            body: r#"{"error":{"message":"(#100) Pages Public Content Access requires either app secret proof or an app token","type":"OAuthException","code":100,"fbtrace_id":"A6lUWRtXWqMx1dQbnrGmW8Z"}}"#,
            code: 100,
            subcode: None,
            kind: ErrorKind::InvalidParameter,
        },
        Case {
            name: "HTTP 500 with an unknown code",
            status: 500,
            body: r#"{"error":{"message":"Something went wrong","type":"FacebookApiException","code":99999}}"#,
            code: 99_999,
            subcode: None,
            kind: ErrorKind::Transient,
        },
        Case {
            name: "HTTP 400 with an unknown code",
            status: 400,
            body: r#"{"error":{"message":"Something went wrong","type":"FacebookApiException","code":99999}}"#,
            code: 99_999,
            subcode: None,
            kind: ErrorKind::Other,
        },
        Case {
            name: "code and subcode as strings",
            status: 400,
            body: r#"{"error":{"message":"m","code":"190","error_subcode":" 467 "}}"#,
            code: 190,
            subcode: Some(467),
            kind: ErrorKind::ReAuth,
        },
    ];

    fn parse(status: u16, body: &str) -> ApiError {
        ApiError::from_body(
            Some(StatusCode::from_u16(status).unwrap()),
            body.as_bytes(),
            Usage::default(),
        )
        .unwrap_or_else(|| panic!("not an error envelope: {body}"))
    }

    #[test]
    fn classification_table() {
        for c in CASES {
            let e = parse(c.status, c.body);
            assert_eq!(e.code(), c.code, "{}", c.name);
            assert_eq!(e.subcode(), c.subcode, "{}", c.name);
            assert_eq!(e.kind(), c.kind, "{}", c.name);
            assert_eq!(e.http_status(), Some(c.status), "{}", c.name);
            // `classify` alone agrees with the parsed error.
            assert_eq!(
                classify(e.code(), e.subcode(), e.is_transient(), Some(c.status)),
                c.kind,
                "{}",
                c.name
            );
            // And the `Error` helpers agree with the kind.
            let err = Error::from(e);
            assert_eq!(err.kind(), c.kind, "{}", c.name);
            assert_eq!(
                err.is_retryable(),
                matches!(c.kind, ErrorKind::Throttled | ErrorKind::Transient),
                "{}",
                c.name
            );
            assert_eq!(err.is_auth(), c.kind == ErrorKind::ReAuth, "{}", c.name);
            assert_eq!(
                err.is_rate_limit(),
                c.kind == ErrorKind::Throttled,
                "{}",
                c.name
            );
        }
    }

    #[test]
    fn throttle_codes_and_ranges() {
        for code in [4, 17, 32, 341, 613, 80_000, 80_006, 80_014, 80_099] {
            assert!(is_throttle(code, None), "{code}");
        }
        for code in [3, 9, 79_999, 80_100, 100, 190] {
            assert!(!is_throttle(code, None), "{code}");
        }
        assert!(is_throttle(9, Some(2_207_042)));
        assert!(!is_throttle(9, Some(2_207_027)));
        // Throttle wins over OAuthException-looking codes and re-auth subcodes.
        assert_eq!(classify(17, Some(460), None, None), ErrorKind::Throttled);
        // Re-auth by subcode alone, including 492.
        for sub in [458, 459, 464, 467, 492] {
            assert_eq!(
                classify(0, Some(sub), None, None),
                ErrorKind::ReAuth,
                "{sub}"
            );
        }
        assert_eq!(classify(299, None, None, None), ErrorKind::Permission);
        assert_eq!(classify(300, None, None, None), ErrorKind::Other);
        // `is_transient: false` does not override a 5xx for an unknown code.
        assert_eq!(
            classify(0, None, Some(false), Some(502)),
            ErrorKind::Transient
        );
    }

    #[test]
    fn fields_are_exposed() {
        let e = parse(400, CASES[12].body);
        assert_eq!(e.error_type(), Some("OAuthException"));
        assert_eq!(e.message(), "Application request limit reached");
        assert_eq!(e.user_title(), Some("Can't post"));
        assert_eq!(
            e.user_msg(),
            Some("You reached the maximum number of posts that can be published.")
        );
        assert_eq!(e.fbtrace_id(), Some("IGx"));
        assert_eq!(e.is_transient(), Some(false));
        assert_eq!(e.error_data(), None);
    }

    #[test]
    fn error_data_string_is_decoded_object_is_kept() {
        let as_string = parse(
            400,
            r#"{"error":{"message":"Invalid parameter","type":"OAuthException","code":100,"error_subcode":1885183,"error_data":"{\"blame_field_specs\":[[\"daily_budget\"]]}"}}"#,
        );
        let data = as_string.error_data().unwrap();
        assert_eq!(data["blame_field_specs"][0][0], "daily_budget");

        let as_object = parse(
            400,
            r#"{"error":{"message":"m","code":100,"error_data":{"blame_field_specs":[["name"]]}}}"#,
        );
        assert_eq!(
            as_object.error_data().unwrap()["blame_field_specs"][0][0],
            "name"
        );

        // A string that is not JSON stays a string; null is absent.
        let text = parse(400, r#"{"error":{"code":1,"error_data":"not json"}}"#);
        assert_eq!(
            text.error_data(),
            Some(&serde_json::Value::String("not json".to_owned()))
        );
        let null = parse(400, r#"{"error":{"code":1,"error_data":null}}"#);
        assert_eq!(null.error_data(), None);
    }

    #[test]
    fn missing_and_empty_fields() {
        let e = parse(400, r#"{"error":{"message":"only a message"}}"#);
        assert_eq!(e.code(), 0);
        assert_eq!(e.subcode(), None);
        assert_eq!(e.error_type(), None);
        assert_eq!(e.fbtrace_id(), None);
        assert_eq!(e.is_transient(), None);
        assert_eq!(e.kind(), ErrorKind::Other);

        let e = parse(400, r#"{"error":{}}"#);
        assert_eq!((e.code(), e.message()), (0, ""));

        // Empty user-facing strings are treated as absent.
        let e = parse(
            400,
            r#"{"error":{"code":100,"error_user_title":"","error_user_msg":""}}"#,
        );
        assert_eq!((e.user_title(), e.user_msg()), (None, None));

        // Unknown fields and odd types on optional fields do not break parsing.
        let e = parse(
            400,
            r#"{"error":{"code":4.5,"error_subcode":null,"message":"m","new_field":[1]}}"#,
        );
        assert_eq!(e.code(), 0);
        assert_eq!(e.subcode(), None);

        // Fields of the wrong type are dropped, not fatal: the code survives.
        let e = parse(
            400,
            r#"{"error":{"message":{"nested":1},"type":7,"code":613,"fbtrace_id":[],"is_transient":"true"}}"#,
        );
        assert_eq!(e.code(), 613);
        assert_eq!(e.message(), "");
        assert_eq!(e.error_type(), Some("7"));
        assert_eq!(e.fbtrace_id(), None);
        assert_eq!(e.is_transient(), Some(true));
        assert_eq!(e.kind(), ErrorKind::Throttled);

        let no_status = ApiError::from_body(None, br#"{"error":{"code":2}}"#, Usage::default());
        assert_eq!(no_status.unwrap().http_status(), None);
    }

    #[test]
    fn from_body_is_none_for_non_error_bodies() {
        for body in [
            &b""[..],
            b"not json",
            b"[]",
            b"null",
            b"\"error\"",
            br#"{"data":[]}"#,
            br#"{"success":true}"#,
            br#"{"id":"123_456"}"#,
            br#"{"error":"a string"}"#,
            br#"{"error":null}"#,
            br#"{"error":[1]}"#,
            b"<html>502 Bad Gateway</html>",
        ] {
            assert!(
                ApiError::from_body(Some(StatusCode::BAD_REQUEST), body, Usage::default())
                    .is_none(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn from_status_classifies_by_status() {
        let e = ApiError::from_status(
            StatusCode::BAD_GATEWAY,
            b"<html>Bad gateway</html>",
            Usage::default(),
        );
        assert_eq!(e.kind(), ErrorKind::Transient);
        assert_eq!(e.http_status(), Some(502));
        assert!(e.message().contains("HTTP 502"), "{}", e.message());
        assert!(e.message().contains("Bad gateway"));

        let e = ApiError::from_status(StatusCode::NOT_FOUND, b"   ", Usage::default());
        assert_eq!(e.kind(), ErrorKind::Other);
        assert!(e.message().ends_with("body"), "{}", e.message());

        // Long and non-UTF-8 bodies are truncated and replaced, never a panic.
        let mut body = vec![0xe9u8; 10];
        body.extend(std::iter::repeat_n(b'x', 5000));
        let e = ApiError::from_status(StatusCode::BAD_REQUEST, &body, Usage::default());
        assert!(e.message().len() < 400);
    }

    #[test]
    fn display_contains_code_subcode_and_trace() {
        let e = parse(400, CASES[0].body);
        let s = e.to_string();
        assert!(s.contains("190/460"), "{s}");
        assert!(s.contains("re_auth"), "{s}");
        assert!(s.contains("EJplcsCHuLu"), "{s}");
        assert!(s.contains("changed their password"), "{s}");
        // The wrapper displays the same text (transparent).
        assert_eq!(Error::from(e.clone()).to_string(), s);

        let plain = ApiError::new(506, "dup").to_string();
        assert_eq!(plain, "Graph API error 506 (duplicate): dup");

        let dbg = format!("{e:?}");
        assert!(dbg.contains("ReAuth") && dbg.contains("190"), "{dbg}");
    }

    #[test]
    fn builders() {
        let e = ApiError::new(17, "x")
            .with_subcode(2_446_079)
            .with_http_status(400)
            .with_transient(true);
        assert_eq!(e.subcode(), Some(2_446_079));
        assert_eq!(e.http_status(), Some(400));
        assert_eq!(e.is_transient(), Some(true));
        assert_eq!(e.kind(), ErrorKind::Throttled);
    }

    #[test]
    fn retry_after_comes_from_usage_headers() {
        let mut h = HeaderMap::new();
        h.insert(
            crate::usage::HEADER_BUC_USAGE,
            HeaderValue::from_static(
                r#"{"66782684":[{"type":"ads_management","call_count":100,"total_cputime":20,"total_time":20,"estimated_time_to_regain_access":19}]}"#,
            ),
        );
        let usage = Usage::from_headers(&h);
        let e = ApiError::from_body(
            Some(StatusCode::BAD_REQUEST),
            CASES[10].body.as_bytes(),
            usage.clone(),
        )
        .unwrap();
        assert_eq!(e.usage(), &usage);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(19 * 60)));
        let err = Error::from(e);
        assert!(err.is_rate_limit() && err.is_retryable() && !err.is_auth());
        assert_eq!(err.retry_after(), Some(Duration::from_secs(19 * 60)));
        assert!(err.api().is_some());

        // No usage headers: no hint, still retryable.
        let bare = Error::from(ApiError::new(4, "x"));
        assert_eq!(bare.retry_after(), None);
        assert!(bare.is_retryable());
    }

    #[test]
    fn non_api_variants_are_consistent() {
        let transport = Error::from(TransportError::new(TransportErrorKind::Connect, "refused"));
        assert_eq!(transport.kind(), ErrorKind::Network);
        assert!(transport.is_retryable() && !transport.is_rate_limit() && !transport.is_auth());
        assert_eq!(transport.retry_after(), None);
        assert!(transport.api().is_none());

        let timeout = Error::from(TimeoutError::new(Duration::from_secs(30)));
        assert_eq!(timeout.kind(), ErrorKind::Timeout);
        assert!(timeout.is_retryable());

        let limited = Error::from(RateLimitedError::new("buc:1:pages", Duration::from_secs(5)));
        assert_eq!(limited.kind(), ErrorKind::RateLimited);
        assert!(limited.is_rate_limit() && limited.is_retryable());
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(5)));

        let decode = Error::from(DecodeError::new("data[0].id", "invalid type", b"{}"));
        assert_eq!(decode.kind(), ErrorKind::Decode);
        assert!(!decode.is_retryable());

        let config = Error::config("missing access token");
        assert_eq!(config.kind(), ErrorKind::Config);
        assert!(!config.is_retryable() && !config.is_auth());
        assert!(config.to_string().contains("missing access token"));
    }

    #[test]
    fn decode_error_reports_the_path() {
        #[derive(Debug, serde::Deserialize)]
        struct Page {
            #[allow(dead_code)]
            data: Vec<Item>,
        }
        #[derive(Debug, serde::Deserialize)]
        struct Item {
            #[allow(dead_code)]
            id: String,
        }
        let err = DecodeError::decode::<Page>(br#"{"data":[{"id":"1"},{"id":2}]}"#).unwrap_err();
        assert_eq!(err.path(), "data[1].id");
        assert!(err.body_snippet().starts_with("{\"data\""));
    }

    #[test]
    fn kind_names_are_stable() {
        assert_eq!(ErrorKind::ReAuth.as_str(), "re_auth");
        assert_eq!(ErrorKind::PolicyBlock.to_string(), "policy_block");
        assert_eq!(
            serde_json::to_string(&ErrorKind::InvalidParameter).unwrap(),
            r#""invalid_parameter""#
        );
    }
}
