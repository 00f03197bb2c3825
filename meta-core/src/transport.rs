//! The HTTP boundary: a [`Transport`] sends one `http::Request<Bytes>` and returns
//! one `http::Response<Bytes>`.
//!
//! Nothing above this module names an HTTP library. The reqwest implementation,
//! [`ReqwestTransport`], is behind the default `reqwest` feature; bring your own by
//! implementing the trait (a recorded-replay client, a tower stack, a proxy).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
#[cfg(any(test, feature = "test-util"))]
use std::sync::Mutex;

use bytes::Bytes;

use crate::error::Error;

/// The future returned by [`Transport::send`].
pub type SendFuture<'a> =
    Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, Error>> + Send + 'a>>;

/// Sends one HTTP request.
///
/// **Contract.** Called once per attempt, after authentication, versioning and rate
/// limiting; the client applies the total timeout around it. Implementations return
/// any HTTP status as `Ok` (Graph errors are decoded by the client), and map
/// failures to [`Error::Transport`] — with
/// [`TransportErrorKind::Connect`](crate::error::TransportErrorKind::Connect) only when
/// the request certainly never left, since that makes even a POST safe to retry.
pub trait Transport: Send + Sync + fmt::Debug + 'static {
    /// Sends `request`.
    fn send(&self, request: http::Request<Bytes>) -> SendFuture<'_>;
}

#[cfg(feature = "reqwest")]
pub use reqwest_impl::ReqwestTransport;

#[cfg(feature = "reqwest")]
mod reqwest_impl {
    use std::sync::Arc;
    use std::time::Duration;

    use bytes::Bytes;
    use rustls_platform_verifier::BuilderVerifierExt;

    use super::{SendFuture, Transport};
    use crate::error::{ConfigError, Error, TransportError, TransportErrorKind};

    /// [`Transport`] over reqwest with rustls on ring, configured without touching
    /// any process-global crypto provider (safe to embed next to other TLS users).
    #[derive(Debug, Clone)]
    pub struct ReqwestTransport {
        client: reqwest::Client,
    }

    impl ReqwestTransport {
        /// A transport with the given connect timeout, using the platform's trust
        /// store.
        ///
        /// # Errors
        /// [`Error::Config`] if TLS or the HTTP client cannot be set up.
        pub fn new(connect_timeout: Duration) -> Result<Self, Error> {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let tls = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| ConfigError::new(format!("TLS protocol setup failed: {e}")))?
                .with_platform_verifier()
                .map_err(|e| ConfigError::new(format!("TLS verifier setup failed: {e}")))?
                .with_no_client_auth();
            let client = reqwest::Client::builder()
                .tls_backend_preconfigured(tls)
                .connect_timeout(connect_timeout)
                .pool_idle_timeout(Duration::from_secs(90))
                .build()
                .map_err(|e| ConfigError::new(format!("HTTP client setup failed: {e}")))?;
            Ok(ReqwestTransport { client })
        }

        /// Wraps an existing reqwest client (custom proxies, TLS, pools).
        #[must_use]
        pub fn from_client(client: reqwest::Client) -> Self {
            ReqwestTransport { client }
        }
    }

    impl Transport for ReqwestTransport {
        fn send(&self, request: http::Request<Bytes>) -> SendFuture<'_> {
            Box::pin(async move {
                let req = reqwest::Request::try_from(request).map_err(|e| {
                    Error::from(
                        TransportError::new(TransportErrorKind::Request, "could not build request")
                            .with_source(e),
                    )
                })?;
                let resp = self.client.execute(req).await.map_err(map_err)?;
                let status = resp.status();
                let version = resp.version();
                let headers = resp.headers().clone();
                let body = resp.bytes().await.map_err(map_err)?;
                let mut out = http::Response::new(body);
                *out.status_mut() = status;
                *out.version_mut() = version;
                *out.headers_mut() = headers;
                Ok(out)
            })
        }
    }

    fn map_err(e: reqwest::Error) -> Error {
        let kind = if e.is_connect() {
            TransportErrorKind::Connect
        } else if e.is_builder() {
            TransportErrorKind::Request
        } else {
            TransportErrorKind::Io
        };
        // reqwest's Display may include the URL, which carries the access token
        // for GET requests: keep only a generic message plus the error kind, and
        // strip the URL from the source.
        let msg = match kind {
            TransportErrorKind::Connect => "connection failed",
            TransportErrorKind::Request => "invalid request",
            _ if e.is_timeout() => "timed out at the transport",
            _ if e.is_body() || e.is_decode() => "response body could not be read",
            _ => "connection error",
        };
        Error::from(TransportError::new(kind, msg).with_source(e.without_url()))
    }
}

/// A transport answering from a script, for unit tests without a server.
#[cfg(any(test, feature = "test-util"))]
#[derive(Debug, Default)]
pub struct MockTransport {
    responses: Mutex<std::collections::VecDeque<Result<http::Response<Bytes>, Error>>>,
    requests: Mutex<Vec<http::Request<Bytes>>>,
}

#[cfg(any(test, feature = "test-util"))]
impl MockTransport {
    /// An empty script.
    #[must_use]
    pub fn new() -> Self {
        MockTransport::default()
    }
    /// Queues a JSON response with `status` and extra headers.
    pub fn push_json(&self, status: u16, body: &serde_json::Value, headers: &[(&str, &str)]) {
        let mut resp = http::Response::new(Bytes::from(body.to_string()));
        *resp.status_mut() =
            http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        for (k, v) in headers {
            if let (Ok(k), Ok(v)) = (
                http::header::HeaderName::from_bytes(k.as_bytes()),
                http::HeaderValue::from_str(v),
            ) {
                resp.headers_mut().append(k, v);
            }
        }
        self.push(Ok(resp));
    }
    /// Queues any outcome.
    pub fn push(&self, outcome: Result<http::Response<Bytes>, Error>) {
        if let Ok(mut q) = self.responses.lock() {
            q.push_back(outcome);
        }
    }
    /// The requests sent so far.
    #[must_use]
    pub fn requests(&self) -> Vec<http::Request<Bytes>> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

#[cfg(any(test, feature = "test-util"))]
impl Transport for MockTransport {
    fn send(&self, request: http::Request<Bytes>) -> SendFuture<'_> {
        if let Ok(mut r) = self.requests.lock() {
            r.push(request);
        }
        let next = self.responses.lock().ok().and_then(|mut q| q.pop_front());
        Box::pin(async move {
            next.unwrap_or_else(|| {
                Err(crate::error::TransportError::new(
                    crate::error::TransportErrorKind::Other,
                    "MockTransport: no scripted response left",
                )
                .into())
            })
        })
    }
}
