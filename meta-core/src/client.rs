//! [`Client`] and [`ClientBuilder`]: one cheap-clone handle per credential.
//!
//! Every call goes through one loop: rate governor → build (auth, version,
//! appsecret_proof, encoding) → transport with timeout → usage headers fed back to the
//! governor → Graph error decoding → the pure retry decision. There is no global
//! state: two clients with different tokens run concurrently, and clients may share
//! one [`RateGovernor`] so that every tenant of an app respects the same budget.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, HeaderValue, USER_AGENT};
use http::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use tracing::Instrument;
use url::Url;

use crate::auth::{ProofMode, proof_params};
use crate::clock::{Clock, Jitter, SystemClock};
use crate::error::{ApiError, ConfigError, Error, Result, TimeoutError};
use crate::paginate::Paginator;
use crate::rate::{RateGovernor, RateKey, RateLimitConfig};
use crate::request::{
    GraphRequest, Params, encode_multipart, normalise_path, rate_object_for_path,
};
use crate::response::{RawResponse, Response};
use crate::retry::{
    RetryAction, RetryBudget, RetryConfig, RetryContext, RetryKind, backoff_delay, classify,
};
use crate::transport::Transport;
use crate::usage::Usage;
use crate::version::{ApiVersion, DEFAULT_API_VERSION};

/// The default Graph host.
pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";
/// The default per-attempt timeout: 60 s (uploads may need more; override per call).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// The default connect timeout: 10 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A Graph API client. Cheap to clone (`Arc` inside); holds one credential.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    base_url: Url,
    version: ApiVersion,
    access_token: Option<SecretString>,
    app_secret: Option<SecretString>,
    app_id: Option<String>,
    proof_mode: ProofMode,
    timeout: Duration,
    user_agent: HeaderValue,
    retry: RetryConfig,
    budget: RetryBudget,
    governor: RateGovernor,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
    jitter: Arc<Jitter>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Client")
            .field("base_url", &i.base_url.as_str())
            .field("version", &i.version)
            .field(
                "access_token",
                &i.access_token.as_ref().map(|_| "[redacted]"),
            )
            .field("app_secret", &i.app_secret.as_ref().map(|_| "[redacted]"))
            .field("app_id", &i.app_id)
            .field("timeout", &i.timeout)
            .field("retry", &i.retry)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`], validating everything once.
///
/// ```no_run
/// # async fn run() -> meta_core::Result<()> {
/// use meta_core::{Client, RetryConfig};
/// let client = Client::builder()
///     .access_token(std::env::var("META_ACCESS_TOKEN").unwrap_or_default())
///     .app_secret(std::env::var("META_APP_SECRET").unwrap_or_default())
///     .retry(RetryConfig::standard())
///     .build()?;
/// let me: serde_json::Value = client.get("me", [("fields", "id,name")]).await?;
/// # Ok(()) }
/// ```
#[derive(Default)]
pub struct ClientBuilder {
    base_url: Option<String>,
    version: Option<ApiVersion>,
    access_token: Option<SecretString>,
    app_secret: Option<SecretString>,
    app_id: Option<String>,
    proof_mode: Option<ProofMode>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    user_agent: Option<String>,
    retry: Option<RetryConfig>,
    rate_limit: Option<RateLimitConfig>,
    governor: Option<RateGovernor>,
    transport: Option<Arc<dyn Transport>>,
    clock: Option<Arc<dyn Clock>>,
    jitter: Option<Arc<Jitter>>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("version", &self.version)
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "[redacted]"),
            )
            .field(
                "app_secret",
                &self.app_secret.as_ref().map(|_| "[redacted]"),
            )
            .finish_non_exhaustive()
    }
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident, $set:ident, $field:ident : $ty:ty) => {
        $(#[$doc])*
        #[must_use]
        pub fn $name(mut self, value: impl Into<$ty>) -> Self {
            self.$field = Some(value.into());
            self
        }
        #[doc = concat!("In-place twin of [`ClientBuilder::", stringify!($name), "`]; `None` restores the default.")]
        pub fn $set(&mut self, value: Option<$ty>) -> &mut Self {
            self.$field = value;
            self
        }
    };
}

impl ClientBuilder {
    setter!(
        /// Graph host, default [`DEFAULT_BASE_URL`]. Point it at
        /// `meta-sandbox` in tests.
        base_url, set_base_url, base_url: String);
    setter!(
        /// Graph version, default [`DEFAULT_API_VERSION`] (`v26.0`).
        api_version, set_api_version, version: ApiVersion);
    setter!(
        /// App id: names the app's rate-limit scope (default scope `default`).
        app_id, set_app_id, app_id: String);
    setter!(
        /// How `appsecret_proof` is computed when an app secret is set; default
        /// [`ProofMode::Timed`] (`appsecret_time` + HMAC over `token|time`).
        proof_mode, set_proof_mode, proof_mode: ProofMode);
    setter!(
        /// Per-attempt total timeout, default [`DEFAULT_TIMEOUT`] (60 s).
        timeout, set_timeout, timeout: Duration);
    setter!(
        /// Connect timeout of the built-in transport, default 10 s.
        connect_timeout, set_connect_timeout, connect_timeout: Duration);
    setter!(
        /// `User-Agent`, default `meta-rs/<version>`.
        user_agent, set_user_agent, user_agent: String);
    setter!(
        /// Retry configuration, default [`RetryConfig::standard`].
        retry, set_retry, retry: RetryConfig);
    setter!(
        /// Rate-governor configuration for a governor owned by this client, default
        /// [`RateLimitConfig::standard`]. Ignored when [`ClientBuilder::governor`]
        /// is given.
        rate_limit, set_rate_limit, rate_limit: RateLimitConfig);
    setter!(
        /// Shares a governor between clients (all tenants of one app).
        governor, set_governor, governor: RateGovernor);

    /// The access token (user, Page, system-user or app token).
    #[must_use]
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.access_token = Some(SecretString::from(token.into()));
        self
    }
    /// In-place twin of [`ClientBuilder::access_token`].
    pub fn set_access_token(&mut self, token: Option<SecretString>) -> &mut Self {
        self.access_token = token;
        self
    }
    /// The app secret; when set, every call carries `appsecret_proof`.
    #[must_use]
    pub fn app_secret(mut self, secret: impl Into<String>) -> Self {
        self.app_secret = Some(SecretString::from(secret.into()));
        self
    }
    /// In-place twin of [`ClientBuilder::app_secret`].
    pub fn set_app_secret(&mut self, secret: Option<SecretString>) -> &mut Self {
        self.app_secret = secret;
        self
    }
    /// A custom transport (default: [`crate::transport::ReqwestTransport`]).
    #[must_use]
    pub fn transport(mut self, transport: impl Transport) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }
    /// A shared custom transport.
    #[must_use]
    pub fn transport_arc(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }
    /// The clock for backoff, pacing and `appsecret_time` (default: system time).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }
    /// Seeds backoff jitter, making retry delays reproducible.
    #[must_use]
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.jitter = Some(Arc::new(Jitter::seeded(seed)));
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid base URL, user agent, empty secret or
    /// governor configuration, or when no transport is available.
    pub fn build(self) -> Result<Client> {
        let base = self.base_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let base_url = Url::parse(base.trim_end_matches('/'))
            .map_err(|e| ConfigError::new(format!("invalid base URL `{base}`: {e}")))?;
        if !matches!(base_url.scheme(), "http" | "https") || base_url.host_str().is_none() {
            return Err(
                ConfigError::new(format!("base URL `{base}` must be http(s)://host")).into(),
            );
        }
        if base_url.query().is_some() || base_url.fragment().is_some() {
            return Err(ConfigError::new("base URL may not carry a query or fragment").into());
        }
        for (name, s) in [
            ("access token", &self.access_token),
            ("app secret", &self.app_secret),
        ] {
            if let Some(s) = s {
                let v = s.expose_secret();
                if v.trim().is_empty() {
                    return Err(ConfigError::new(format!("{name} is empty")).into());
                }
                if v.chars().any(|c| c.is_control() || c.is_whitespace()) {
                    return Err(ConfigError::new(format!(
                        "{name} contains whitespace or control characters"
                    ))
                    .into());
                }
            }
        }
        let ua = self
            .user_agent
            .unwrap_or_else(|| format!("meta-rs/{}", env!("CARGO_PKG_VERSION")));
        let user_agent = HeaderValue::from_str(&ua)
            .map_err(|_| ConfigError::new("user agent is not a valid header value"))?;
        let timeout = self.timeout.unwrap_or(DEFAULT_TIMEOUT);
        if timeout.is_zero() {
            return Err(ConfigError::new("timeout must be greater than zero").into());
        }
        let clock: Arc<dyn Clock> = self
            .clock
            .unwrap_or_else(|| Arc::new(SystemClock::default()));
        let jitter = self
            .jitter
            .unwrap_or_else(|| Arc::new(Jitter::from_entropy()));
        let governor = match self.governor {
            Some(g) => g,
            None => {
                let cfg = self.rate_limit.unwrap_or_default();
                cfg.validate()?;
                RateGovernor::with_clock(cfg, clock.clone(), jitter.clone())
            }
        };
        let transport: Arc<dyn Transport> = match self.transport {
            Some(t) => t,
            None => default_transport(self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT))?,
        };
        let retry = self.retry.unwrap_or_default();
        let budget = RetryBudget::new(retry.get_budget_capacity());
        Ok(Client {
            inner: Arc::new(Inner {
                base_url,
                version: self.version.unwrap_or(DEFAULT_API_VERSION),
                access_token: self.access_token,
                app_secret: self.app_secret,
                app_id: self.app_id,
                proof_mode: self.proof_mode.unwrap_or_default(),
                timeout,
                user_agent,
                retry,
                budget,
                governor,
                transport,
                clock,
                jitter,
            }),
        })
    }
}

#[cfg(feature = "reqwest")]
fn default_transport(connect_timeout: Duration) -> Result<Arc<dyn Transport>> {
    Ok(Arc::new(crate::transport::ReqwestTransport::new(
        connect_timeout,
    )?))
}

#[cfg(not(feature = "reqwest"))]
fn default_transport(_connect_timeout: Duration) -> Result<Arc<dyn Transport>> {
    Err(ConfigError::new(
        "no transport: enable the `reqwest` feature or call ClientBuilder::transport",
    )
    .into())
}

impl Client {
    /// A builder with every default.
    #[must_use]
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client for `access_token` with every other default.
    ///
    /// # Errors
    /// See [`ClientBuilder::build`].
    pub fn new(access_token: impl Into<String>) -> Result<Self> {
        Client::builder().access_token(access_token).build()
    }

    /// A client identical to this one (transport, governor, retry budget, clock)
    /// but with another token: the multi-tenant pattern, one client per Page.
    #[must_use]
    pub fn with_access_token(&self, token: SecretString) -> Client {
        let mut inner = (*self.inner).clone();
        inner.access_token = Some(token);
        Client {
            inner: Arc::new(inner),
        }
    }

    /// A client identical to this one but talking to another host (Instagram
    /// Login's `graph.instagram.com`, the `rupload.facebook.com` upload host).
    ///
    /// # Errors
    /// [`Error::Config`] when `base_url` is not an `http(s)://host` URL.
    pub fn with_base_url(&self, base_url: &str) -> Result<Client> {
        let url = Url::parse(base_url.trim_end_matches('/'))
            .map_err(|e| ConfigError::new(format!("invalid base URL `{base_url}`: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(
                ConfigError::new(format!("base URL `{base_url}` must be http(s)://host")).into(),
            );
        }
        let mut inner = (*self.inner).clone();
        inner.base_url = url;
        Ok(Client {
            inner: Arc::new(inner),
        })
    }

    /// The Graph version requests use by default.
    #[must_use]
    pub fn api_version(&self) -> ApiVersion {
        self.inner.version
    }
    /// The base URL.
    #[must_use]
    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }
    /// The rate governor (inspect [`RateGovernor::snapshot`] for visibility).
    #[must_use]
    pub fn governor(&self) -> &RateGovernor {
        &self.inner.governor
    }
    /// The retry budget shared by this client and its token variants.
    #[must_use]
    pub fn retry_budget(&self) -> &RetryBudget {
        &self.inner.budget
    }
    /// The clock.
    #[must_use]
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// `GET path` decoded as `T` — the raw door for endpoints not modelled yet.
    ///
    /// # Errors
    /// Any [`Error`]; see [`Client::execute_raw`].
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        params: impl Into<Params>,
    ) -> Result<T> {
        self.execute_raw(GraphRequest::get(path).params(params))
            .await?
            .json()
    }

    /// `POST path` (form-encoded) decoded as `T`. Not retried unless marked
    /// idempotent through [`Client::execute`].
    ///
    /// # Errors
    /// Any [`Error`]; see [`Client::execute_raw`].
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        params: impl Into<Params>,
    ) -> Result<T> {
        self.execute_raw(GraphRequest::post(path).params(params))
            .await?
            .json()
    }

    /// `DELETE path` decoded as `T`.
    ///
    /// # Errors
    /// Any [`Error`]; see [`Client::execute_raw`].
    pub async fn delete<T: DeserializeOwned>(
        &self,
        path: &str,
        params: impl Into<Params>,
    ) -> Result<T> {
        self.execute_raw(GraphRequest::delete(path).params(params))
            .await?
            .json()
    }

    /// Sends `request` and decodes the body, keeping usage and version metadata.
    ///
    /// # Errors
    /// Any [`Error`]; see [`Client::execute_raw`].
    pub async fn execute<T: DeserializeOwned>(&self, request: GraphRequest) -> Result<Response<T>> {
        self.execute_raw(request).await?.into_typed()
    }

    /// A stream over every item of a paginated edge; see [`Paginator`].
    #[must_use]
    pub fn paginate<T: DeserializeOwned + Send + 'static>(
        &self,
        path: &str,
        params: impl Into<Params>,
    ) -> Paginator<T> {
        Paginator::new(self.clone(), GraphRequest::get(path).params(params))
    }

    /// A stream over every item of a paginated request with options.
    #[must_use]
    pub fn paginate_request<T: DeserializeOwned + Send + 'static>(
        &self,
        request: GraphRequest,
    ) -> Paginator<T> {
        Paginator::new(self.clone(), request)
    }

    /// Sends `request` with auth, version, rate limiting and retries, and returns the
    /// raw 2xx response.
    ///
    /// # Errors
    /// - [`Error::Api`] when Meta answered with an error (after retries allowed by
    ///   the policy);
    /// - [`Error::Transport`] / [`Error::Timeout`] when the call could not complete;
    /// - [`Error::RateLimited`] when the governor would wait longer than allowed;
    /// - [`Error::Config`] for an invalid path or a missing token.
    pub async fn execute_raw(&self, request: GraphRequest) -> Result<RawResponse> {
        let (path, query) = normalise_path(&request.path)?;
        let span = tracing::debug_span!("graph", method = %request.method, path = %path);
        self.run(request, path, query).instrument(span).await
    }

    async fn run(
        &self,
        request: GraphRequest,
        path: String,
        query: Option<String>,
    ) -> Result<RawResponse> {
        let i = &self.inner;
        let retry = request
            .options
            .retry
            .clone()
            .unwrap_or_else(|| i.retry.clone());
        let idempotent = request.is_idempotent();
        let object = request
            .options
            .rate_object
            .clone()
            .or_else(|| rate_object_for_path(&path));
        let mut key = RateKey::app(i.app_id.clone().unwrap_or_else(|| "default".to_owned()));
        if let Some(o) = object {
            key = key.with_object(o);
        }
        let mut params = request.params.clone();
        if let Some(q) = &query {
            for (k, v) in Params::from_query(q).encoded_pairs() {
                if params.get(&k).is_none() {
                    params.insert(k, v);
                }
            }
        }
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let permit = i.governor.acquire(&key).await?;
            let http_req = self.build_http(&request, &path, &params, attempt)?;
            let timeout = request.options.timeout.unwrap_or(i.timeout);
            let sent = tokio::time::timeout(timeout, i.transport.send(http_req)).await;
            drop(permit);
            let error = match sent {
                Err(_) => Error::from(TimeoutError::new(timeout)),
                Ok(Err(e)) => e,
                Ok(Ok(resp)) => {
                    let (parts, body) = resp.into_parts();
                    let usage = Usage::from_headers(&parts.headers);
                    if !usage.problems.is_empty() {
                        tracing::debug!(problems = ?usage.problems, "malformed usage headers ignored");
                    }
                    i.governor.observe(&key, &usage);
                    if parts.status.is_success() {
                        i.budget.deposit_success();
                        return Ok(RawResponse {
                            status: parts.status,
                            headers: parts.headers,
                            body,
                            usage,
                            attempts: attempt,
                        });
                    }
                    let api = api_error(parts.status, &body, usage);
                    if api.kind() == crate::ErrorKind::Throttled {
                        i.governor.on_throttle(&key, &api);
                    }
                    Error::from(api)
                }
            };
            let ctx = RetryContext {
                attempt,
                idempotent,
            };
            match classify(&retry, &ctx, Err(&error)) {
                RetryAction::Retry(kind) => {
                    if !i.budget.try_withdraw(error.kind()) {
                        tracing::warn!(attempt, kind = %error.kind(), "retry budget exhausted; giving up");
                        return Err(error);
                    }
                    match kind {
                        RetryKind::Throttle { hint } => {
                            if hint.is_some_and(|h| h > retry.get_max_throttle_wait()) {
                                return Err(error);
                            }
                            tracing::info!(attempt, hint = ?hint, "throttled; waiting on the governor");
                        }
                        _ => {
                            let delay = backoff_delay(&retry, attempt, &i.jitter);
                            tracing::info!(attempt, kind = %error.kind(), delay = ?delay, "retrying after backoff");
                            i.clock.sleep(delay).await;
                        }
                    }
                }
                _ => return Err(error),
            }
        }
    }

    fn build_http(
        &self,
        request: &GraphRequest,
        path: &str,
        params: &Params,
        attempt: u32,
    ) -> Result<http::Request<Bytes>> {
        let i = &self.inner;
        let version = request.options.api_version.unwrap_or(i.version);
        let mut url = i.base_url.clone();
        {
            let mut segs = url
                .path_segments_mut()
                .map_err(|()| ConfigError::new("base URL cannot be a base"))?;
            segs.pop_if_empty();
            if !request.options.unversioned {
                segs.push(&version.to_string());
            }
            for s in path.split('/').filter(|s| !s.is_empty()) {
                segs.push(s);
            }
        }
        let mut params = params.clone();
        let token = request
            .options
            .access_token
            .as_ref()
            .or(i.access_token.as_ref());
        let mut builder = http::Request::builder()
            .header(USER_AGENT, i.user_agent.clone())
            .header(ACCEPT, "application/json");
        if let Some(t) = token {
            if request.options.token_in_header {
                let mut v = HeaderValue::from_str(&format!("OAuth {}", t.expose_secret()))
                    .map_err(|_| ConfigError::new("access token is not a valid header value"))?;
                v.set_sensitive(true);
                builder = builder.header(http::header::AUTHORIZATION, v);
            } else if params.get("access_token").is_none() {
                params.insert("access_token", t.expose_secret());
            }
        }
        if let (Some(secret), Some(t)) = (&i.app_secret, token)
            && params.get("appsecret_proof").is_none()
        {
            for (k, v) in proof_params(i.proof_mode, secret, t, i.clock.unix_secs()) {
                params.insert(k, v);
            }
        }
        for (k, v) in &request.options.headers {
            let name = http::header::HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| ConfigError::new(format!("invalid header name `{k}`")))?;
            let value = HeaderValue::from_str(v)
                .map_err(|_| ConfigError::new(format!("invalid value for header `{k}`")))?;
            builder = builder.header(name, value);
        }
        let body = if let Some((raw, content_type)) = &request.options.raw_body {
            let q = params.to_form();
            url.set_query((!q.is_empty()).then_some(q.as_str()));
            builder = builder.header(CONTENT_TYPE, content_type.as_str());
            raw.clone()
        } else if request.method == Method::GET || request.method == Method::DELETE {
            let q = params.to_form();
            url.set_query((!q.is_empty()).then_some(q.as_str()));
            Bytes::new()
        } else if request.files.is_empty() {
            builder = builder.header(CONTENT_TYPE, "application/x-www-form-urlencoded");
            Bytes::from(params.to_form())
        } else {
            let seed = i.jitter.u64() ^ u64::from(attempt);
            let (body, ct) = encode_multipart(&params, &request.files, seed)?;
            builder = builder.header(CONTENT_TYPE, ct);
            body
        };
        builder
            .method(request.method.clone())
            .uri(url.as_str())
            .body(body)
            .map_err(|e| ConfigError::new(format!("could not build request: {e}")).into())
    }
}

/// [`api_error`] wrapped as an [`Error`] (used for batch items).
pub(crate) fn status_error(status: StatusCode, body: &[u8], usage: Usage) -> Error {
    Error::from(api_error(status, body, usage))
}

/// The error for a non-2xx answer: Meta's envelope when there is one, else a
/// status-only error (a proxy's HTML page, an empty 502).
fn api_error(status: StatusCode, body: &[u8], usage: Usage) -> ApiError {
    ApiError::from_body(Some(status), body, usage.clone())
        .unwrap_or_else(|| ApiError::from_status(status, body, usage))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::appsecret_proof_timed;
    use crate::clock::ManualClock;
    use crate::request::FilePart;
    use crate::transport::MockTransport;
    use serde_json::json;

    fn client(mock: Arc<MockTransport>) -> Client {
        Client::builder()
            .base_url("https://graph.example.test")
            .access_token("EAABtoken")
            .app_secret("appsecret")
            .user_agent("meta-rs-test")
            .clock(Arc::new(ManualClock::new(1_700_000_000)))
            .retry(RetryConfig::disabled())
            .transport_arc(mock)
            .build()
            .unwrap()
    }

    fn query_of(req: &http::Request<Bytes>) -> Params {
        Params::from_query(req.uri().query().unwrap_or_default())
    }

    #[tokio::test]
    async fn get_puts_auth_and_params_in_the_query() {
        let mock = Arc::new(MockTransport::new());
        mock.push_json(
            200,
            &json!({"id": "1"}),
            &[("facebook-api-version", "v26.0")],
        );
        let c = client(mock.clone());
        let v: serde_json::Value = c.get("/v25.0/me", [("fields", "id,name")]).await.unwrap();
        assert_eq!(v["id"], "1");
        let reqs = mock.requests();
        let r = &reqs[0];
        assert_eq!(r.method(), Method::GET);
        // A version in the path is replaced by the pinned one.
        assert_eq!(r.uri().path(), "/v26.0/me");
        let q = query_of(r);
        assert_eq!(q.get("fields"), Some(&json!("id,name")));
        assert_eq!(q.get("access_token"), Some(&json!("EAABtoken")));
        assert_eq!(q.get("appsecret_time"), Some(&json!("1700000000")));
        let want = appsecret_proof_timed(
            &SecretString::from("appsecret"),
            &SecretString::from("EAABtoken"),
            1_700_000_000,
        );
        assert_eq!(q.get("appsecret_proof"), Some(&json!(want)));
        assert_eq!(r.headers()[USER_AGENT], "meta-rs-test");
        assert!(r.body().is_empty());
    }

    #[tokio::test]
    async fn post_is_form_encoded_with_json_for_nested_values() {
        let mock = Arc::new(MockTransport::new());
        mock.push_json(200, &json!({"id": "1_2"}), &[]);
        let c = client(mock.clone());
        let _: serde_json::Value = c
            .post(
                "123/feed",
                Params::new()
                    .set("message", "hola")
                    .set("attached_media", json!([{"media_fbid": "9"}]))
                    .set("published", false),
            )
            .await
            .unwrap();
        let r = &mock.requests()[0];
        assert_eq!(r.method(), Method::POST);
        assert_eq!(
            r.uri().query(),
            None,
            "the token travels in the body, not the URL"
        );
        assert_eq!(
            r.headers()[CONTENT_TYPE],
            "application/x-www-form-urlencoded"
        );
        let body = Params::from_query(std::str::from_utf8(r.body()).unwrap());
        assert_eq!(
            body.get("attached_media"),
            Some(&json!(r#"[{"media_fbid":"9"}]"#))
        );
        assert_eq!(body.get("published"), Some(&json!("false")));
        assert_eq!(body.get("access_token"), Some(&json!("EAABtoken")));
    }

    #[tokio::test]
    async fn uploads_are_multipart() {
        let mock = Arc::new(MockTransport::new());
        mock.push_json(200, &json!({"id": "7"}), &[]);
        let c = client(mock.clone());
        let req = GraphRequest::post("123/photos")
            .param("caption", "hi")
            .file(FilePart {
                field: "source".into(),
                file_name: "p.jpg".into(),
                content_type: "image/jpeg".into(),
                data: Bytes::from_static(b"\xff\xd8\xff"),
            });
        c.execute_raw(req).await.unwrap();
        let r = &mock.requests()[0];
        let ct = r.headers()[CONTENT_TYPE].to_str().unwrap();
        assert!(ct.starts_with("multipart/form-data; boundary="));
        let body = String::from_utf8_lossy(r.body());
        assert!(body.contains("name=\"access_token\"\r\n\r\nEAABtoken\r\n"));
        assert!(body.contains("filename=\"p.jpg\""));
    }

    #[tokio::test]
    async fn raw_uploads_use_headers_and_skip_the_version() {
        let mock = Arc::new(MockTransport::new());
        mock.push_json(200, &json!({"success": true}), &[]);
        let c = client(mock.clone());
        let req = GraphRequest::post("ig-api-upload/v26.0/17890")
            .unversioned()
            .token_in_header()
            .header("offset", "0")
            .header("file_size", "3")
            .raw_body(Bytes::from_static(b"abc"), "application/octet-stream");
        c.execute_raw(req).await.unwrap();
        let r = &mock.requests()[0];
        assert_eq!(r.uri().path(), "/ig-api-upload/v26.0/17890");
        assert_eq!(r.headers()[http::header::AUTHORIZATION], "OAuth EAABtoken");
        assert!(r.headers()[http::header::AUTHORIZATION].is_sensitive());
        assert_eq!(r.headers()["offset"], "0");
        assert_eq!(r.headers()[CONTENT_TYPE], "application/octet-stream");
        assert_eq!(r.body().as_ref(), b"abc");
        assert!(query_of(r).get("access_token").is_none());
        let bad = GraphRequest::get("me").header("bad header", "x");
        assert_eq!(
            c.execute_raw(bad).await.unwrap_err().kind(),
            crate::ErrorKind::Config
        );
    }

    #[tokio::test]
    async fn errors_carry_usage_and_are_classified() {
        let mock = Arc::new(MockTransport::new());
        mock.push_json(
            400,
            &json!({"error": {"message": "(#80004) There have been too many calls to this ad-account.", "type": "OAuthException",
                   "code": 80004, "error_subcode": 2_446_079, "fbtrace_id": "Abc"}}),
            &[("x-business-use-case-usage", r#"{"123":[{"type":"ads_management","call_count":100,"total_cputime":20,"total_time":20,"estimated_time_to_regain_access":20}]}"#)],
        );
        let c = client(mock.clone());
        let err = c
            .get::<serde_json::Value>("act_123/campaigns", ())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Throttled);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(20 * 60)));
        // The governor saw the throttle and blocked the ad account's scope.
        let blocked = c
            .governor()
            .snapshot()
            .into_iter()
            .any(|s| s.scope.contains("123") && s.blocked_for.is_some());
        assert!(blocked);
    }

    #[tokio::test]
    async fn a_missing_token_is_sent_without_one_and_debug_redacts() {
        let mock = Arc::new(MockTransport::new());
        mock.push_json(
            200,
            &json!({"access_token": "x", "token_type": "bearer"}),
            &[],
        );
        let c = Client::builder()
            .base_url("https://graph.example.test")
            .transport_arc(mock.clone())
            .build()
            .unwrap();
        let _: serde_json::Value = c.get("oauth/access_token", [("code", "c")]).await.unwrap();
        assert_eq!(query_of(&mock.requests()[0]).get("access_token"), None);
        assert!(!format!("{:?}", client(mock)).contains("EAABtoken"));
    }
}
