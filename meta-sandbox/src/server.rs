//! The axum server: a killable TCP listener, one catch-all handler, and the
//! [`Sandbox`] / [`SandboxControl`] handles.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body as AxumBody, Bytes};
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::serve::{IncomingStream, Listener};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::batch;
use crate::config::{FaultConfig, SandboxConfig};
use crate::error::{GraphError, SandboxError};
use crate::faults::{Fault, FaultRule, Planned};
use crate::fixtures::{self, Fixtures};
use crate::request::{GraphRequest, GraphResponse, Params};
use crate::routes;
use crate::state::{RecordedRequest, Shared};
use crate::usage::Usage;

/// A TCP stream the handler can kill: once killed, every write fails, so hyper drops the
/// connection without sending a byte and the client sees a connection error.
#[derive(Debug)]
pub(crate) struct KillableStream {
    inner: TcpStream,
    killed: Arc<AtomicBool>,
}

fn killed_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "dropped by meta-sandbox fault",
    )
}

impl AsyncRead for KillableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.killed.load(Ordering::Acquire) {
            return Poll::Ready(Err(killed_error()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.killed.load(Ordering::Acquire) {
            return Poll::Ready(Err(killed_error()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.killed.load(Ordering::Acquire) {
            return Poll::Ready(Err(killed_error()));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.killed.load(Ordering::Acquire) {
            return Poll::Ready(Err(killed_error()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Accepts [`KillableStream`]s.
#[derive(Debug)]
pub(crate) struct KillableListener {
    inner: TcpListener,
}

impl Listener for KillableListener {
    type Io = KillableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    // Small request/response pairs: don't let Nagle add latency.
                    let _ = stream.set_nodelay(true);
                    return (
                        KillableStream {
                            inner: stream,
                            killed: Arc::new(AtomicBool::new(false)),
                        },
                        addr,
                    );
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "meta-sandbox accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// Per-connection handle given to the handler, to kill its own connection.
#[derive(Debug, Clone)]
pub(crate) struct ConnHandle(Arc<AtomicBool>);

impl ConnHandle {
    fn kill(&self) {
        self.0.store(true, Ordering::Release);
    }
}

impl Connected<IncomingStream<'_, KillableListener>> for ConnHandle {
    fn connect_info(stream: IncomingStream<'_, KillableListener>) -> Self {
        Self(stream.io().killed.clone())
    }
}

/// A running sandbox. Start one per test; it serves until [`Sandbox::shutdown`] (or until
/// the runtime it was started on ends).
#[derive(Debug)]
pub struct Sandbox {
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

/// A cheap, cloneable handle to steer a running sandbox: faults, clock, request log.
#[derive(Debug, Clone)]
pub struct SandboxControl {
    shared: Arc<Shared>,
}

impl Sandbox {
    /// Starts a sandbox with the default configuration on a random port.
    ///
    /// # Errors
    /// [`SandboxError::Bind`] when no port can be bound.
    pub async fn start() -> Result<Sandbox, SandboxError> {
        Self::start_with(SandboxConfig::default()).await
    }

    /// Starts a sandbox with `config`.
    ///
    /// # Errors
    /// [`SandboxError::Bind`] when the port cannot be bound; [`SandboxError::Config`] for
    /// rates outside `0.0..=1.0`.
    pub async fn start_with(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        validate(&config.faults)?;
        let port = config.port;
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|source| SandboxError::Bind { port, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SandboxError::Bind { port, source })?;
        let base_url = format!("http://{addr}");
        let seeded = fixtures::seed(&config);
        let shared = Arc::new(Shared::new(config, &seeded, base_url));
        let app = Router::new()
            .route(
                "/ig-api-upload/{version}/{container_id}",
                axum::routing::post(routes::instagram::rupload),
            )
            .fallback(handle)
            .with_state(shared.clone())
            .into_make_service_with_connect_info::<ConnHandle>();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let server = axum::serve(KillableListener { inner: listener }, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                });
            if let Err(e) = server.await {
                tracing::error!(error = %e, "meta-sandbox server stopped");
            }
        });
        tracing::debug!(base_url = %shared.base_url, "meta-sandbox started");
        Ok(Sandbox {
            shared,
            shutdown: Some(tx),
            task,
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash or version.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The seeded credentials and ids.
    pub fn fixtures(&self) -> &Fixtures {
        &self.shared.fixtures
    }

    /// Everything a client needs, as JSON (for the CLI and the demo). Contains secrets:
    /// meant for local test use.
    pub fn info_json(&self) -> Value {
        let f = &self.shared.fixtures;
        json!({
            "base_url": self.shared.base_url,
            "app_id": f.app_id,
            "app_secret": f.app_secret,
            "user_id": f.user_id,
            "user_token": f.user_token,
            "pages": f.pages.iter().map(|p| json!({
                "id": p.id, "name": p.name, "access_token": p.access_token, "ig_user_id": p.ig_user_id,
            })).collect::<Vec<_>>(),
            "ad_accounts": f.ad_accounts.iter().map(|a| json!({
                "id": a.id, "account_id": a.account_id, "name": a.name,
            })).collect::<Vec<_>>(),
            "oauth": {"code": f.oauth_code, "redirect_uri": f.redirect_uri},
            "loop_page_id": f.loop_page_id,
            "business": {
                "id": f.business.id, "name": f.business.name,
                "owned_page_ids": f.business.owned_page_ids,
                "client_page_ids": f.business.client_page_ids,
            },
            "ig_login": {"ig_user_id": f.ig_login.ig_user_id, "access_token": f.ig_login.access_token},
            "seed": self.shared.config.seed,
        })
    }

    /// A handle to steer the running sandbox.
    pub fn control(&self) -> SandboxControl {
        SandboxControl {
            shared: self.shared.clone(),
        }
    }

    /// Stops accepting connections and waits for open ones to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Serves until the process ends.
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

fn validate(f: &FaultConfig) -> Result<(), SandboxError> {
    for (name, rate) in [
        ("error_rate", f.error_rate),
        ("http_5xx_rate", f.http_5xx_rate),
        ("drop_rate", f.drop_rate),
        ("batch_null_rate", f.batch_null_rate),
    ] {
        if !(0.0..=1.0).contains(&rate) {
            return Err(SandboxError::Config(format!(
                "{name} must be within 0.0..=1.0, got {rate}"
            )));
        }
    }
    Ok(())
}

impl SandboxControl {
    /// The shared state, for the controls each area defines in its own module.
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Replaces the random-fault configuration (injected rules are kept).
    pub fn set_faults(&self, faults: FaultConfig) {
        self.shared.lock().faults.config = faults;
    }

    /// Queues a deterministic fault; rules are consumed in the order injected.
    pub fn inject(&self, rule: FaultRule) {
        self.shared.lock().faults.inject(rule);
    }

    /// Moves the sandbox clock forward. Quotas, blocks, token expiry, scheduled posts and
    /// `appsecret_time` all read this clock.
    pub fn advance_clock(&self, by: Duration) {
        let mut st = self.shared.lock();
        st.clock_offset = st.clock_offset.saturating_add(by);
    }

    /// The sandbox clock, unix seconds.
    pub fn now_unix(&self) -> u64 {
        self.shared.lock().now()
    }

    /// Every request seen so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().log.clone()
    }

    /// How many recorded requests have `method` (case-insensitive) and a path ending in
    /// `path_suffix`.
    pub fn count(&self, method: &str, path_suffix: &str) -> usize {
        self.shared
            .lock()
            .log
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.path.ends_with(path_suffix))
            .count()
    }

    /// Clears every usage meter and block.
    pub fn reset_usage(&self) {
        self.shared.lock().usage = Usage::default();
    }

    /// Invalidates `token` (user, Page or Instagram Login) as Meta does when the user
    /// changes their password (subcode 460), logs out (467), removes the app (458), and
    /// so on: every later call with it fails with code 190 and `subcode`, and
    /// `debug_token` reports it invalid. Returns false for tokens the sandbox did not
    /// issue (app tokens included).
    pub fn revoke_token(&self, token: &str, subcode: i64) -> bool {
        let mut st = self.shared.lock();
        routes::iglogin::revoke(&mut st, &self.shared.fixtures, token, subcode)
    }

    /// Issues a fresh short-lived (one hour) Instagram Login token for the fixture
    /// Instagram account, as the Instagram authorization-code exchange would.
    pub fn new_ig_login_token(&self) -> String {
        let mut st = self.shared.lock();
        routes::iglogin::issue_short_lived(&mut st, &self.shared.fixtures)
    }

    /// Issues another single-use login code for the fixture user and `redirect_uri`.
    pub fn new_oauth_code(&self, redirect_uri: &str) -> String {
        self.shared.lock().mint_login_code(redirect_uri)
    }
}

/// The one HTTP handler: faults, then batch or [`routes::dispatch`], then the log.
async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let (plan, latency) = {
        let mut st = shared.lock();
        let latency = st.faults.config.latency;
        (st.faults.plan_request(method.as_str(), &path), latency)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let record = |status: Option<u16>, applied: bool| {
        shared.lock().log.push(RecordedRequest {
            method: method.as_str().to_owned(),
            path: path.clone(),
            applied,
            status,
            in_batch: false,
        });
    };
    let plan = match plan {
        Some(Planned::Fault(Fault::Delay(d))) => {
            tokio::time::sleep(d).await;
            None
        }
        Some(Planned::Fault(Fault::Drop)) => {
            conn.kill();
            record(None, false);
            return StatusCode::OK.into_response();
        }
        Some(Planned::Fault(Fault::Http(code))) => {
            let response = GraphResponse::html(code);
            record(Some(response.status), false);
            return to_http(response);
        }
        other => other,
    };

    let response = match build_request(&method, &uri, &headers, &body, path.clone()) {
        Err(e) => {
            let mut st = shared.lock();
            routes::fail(&shared, &mut st, crate::request::DEFAULT_VERSION, e)
        }
        Ok(req) => respond_to(&shared, &req, plan.as_ref()).await,
    };
    if matches!(plan, Some(Planned::Fault(Fault::DropAfterApply))) {
        conn.kill();
        record(None, response.applied);
        return StatusCode::OK.into_response();
    }
    record(Some(response.status), response.applied);
    to_http(response)
}

async fn respond_to(
    shared: &Arc<Shared>,
    req: &GraphRequest,
    plan: Option<&Planned>,
) -> GraphResponse {
    if let Some(Planned::Fault(Fault::GraphError {
        status,
        code,
        subcode,
        transient,
        message,
    })) = plan
    {
        let mut e = GraphError::new("OAuthException", *code, message.clone()).status(*status);
        e.subcode = *subcode;
        e.transient = *transient;
        let version = req
            .route()
            .map(|(v, _)| v)
            .unwrap_or_else(|_| crate::request::DEFAULT_VERSION.to_owned());
        let mut st = shared.lock();
        return routes::fail(shared, &mut st, &version, e);
    }
    if req.method == Method::POST
        && let Ok((version, segs)) = req.route()
        && segs.is_empty()
        && req.params.get("batch").is_some()
    {
        return batch::run(shared, req, &version).await;
    }
    let mut st = shared.lock();
    routes::dispatch(shared, &mut st, req, plan)
}

/// Turns an HTTP request into a [`GraphRequest`]: query params, then the form or JSON body.
fn build_request(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
    path: String,
) -> Result<GraphRequest, GraphError> {
    let mut params = Params::default();
    if let Some(q) = uri.query() {
        params.extend_urlencoded(q.as_bytes());
    }
    if !body.is_empty() {
        let content_type = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.starts_with("application/json") {
            params.extend_json(body)?;
        } else if content_type.starts_with("multipart/form-data") {
            // The boundary is case-sensitive: parse the header as sent.
            let raw = headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            params.extend_multipart(raw, body)?;
        } else if content_type.is_empty()
            || content_type.starts_with("application/x-www-form-urlencoded")
        {
            params.extend_urlencoded(body);
        } else {
            return Err(GraphError::param(format!(
                "(#100) Unsupported request body content type: {content_type}"
            )));
        }
    }
    let header_token = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
                .then(|| token.trim().to_owned())
        })
        .filter(|t| !t.is_empty());
    Ok(GraphRequest {
        method: method.clone(),
        path,
        params,
        header_token,
        fallback_token: None,
        default_version: None,
    })
}

fn to_http(response: GraphResponse) -> Response {
    let body = response.body_bytes();
    let mut out = Response::new(AxumBody::from(body));
    *out.status_mut() =
        StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = out.headers_mut();
    for (k, v) in response.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            h.append(name, value);
        }
    }
    out
}
