//! The router and the server around it: graceful shutdown, and the background tasks
//! (the engine worker, the outbox dispatcher) started and stopped with it.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, StatusCode, header};
use axum::middleware::{from_fn_with_state, map_response};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use meta_commerce::dispatch::Dispatcher;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::api;
use crate::state::AppState;
use crate::webhooks;

/// The routes (see the crate docs for the table), with the body limit, JSON errors and
/// request tracing.
///
/// Request spans record the method and the **path only**: the handshake's query holds
/// the verify token, and bodies and headers (signatures, API tokens) are never
/// recorded.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/shops/{shop}/products", get(api::products))
        .route("/api/shops/{shop}/lives", get(api::lives))
        .route("/api/shops/{shop}/counts", get(api::counts))
        .route("/api/shops/{shop}/kill-switch", post(api::shop_kill_switch))
        .route("/api/lives/{live}/orders", get(api::live_orders))
        .route("/api/lives/{live}/kill-switch", post(api::live_kill_switch))
        .route("/api/orders/{id}", get(api::order))
        .route(
            "/api/orders/{id}/confirm-transfer",
            post(api::confirm_transfer),
        )
        .route_layer(from_fn_with_state(state.clone(), api::require_api_token));
    let limit = state.body_limit;
    Router::new()
        .route(
            "/webhooks/meta",
            get(webhooks::handshake).post(webhooks::meta_webhook),
        )
        .route(
            "/webhooks/payments/{gateway}",
            post(webhooks::payment_webhook),
        )
        .route("/health", get(api::health))
        .merge(api)
        .fallback(api::fallback)
        // One limit, from tower-http, instead of axum's 2 MB default on `Bytes`: it
        // also refuses a too-large `Content-Length` before reading anything.
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(limit))
        .layer(map_response(move |res: Response| json_413(res, limit)))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    tracing::info_span!(
                        "http",
                        method = %req.method(),
                        path = %req.uri().path(),
                    )
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

/// The limit layer answers a too-large `Content-Length` with plain text; give it the
/// API's JSON error shape.
async fn json_413(res: Response, limit: usize) -> Response {
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        webhooks::too_large(limit).into_response()
    } else {
        res
    }
}

/// Why the server stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The address could not be bound.
    #[error("could not listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The socket error.
        #[source]
        source: std::io::Error,
    },
    /// Accepting or serving connections failed.
    #[error("server I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A background task (the worker, the dispatcher) stopped before shutdown was
    /// asked for; the server was shut down so a supervisor can restart it.
    #[error("background task `{0}` stopped unexpectedly")]
    Background(String),
}

/// A background task: given the shutdown signal (`true` = stop), runs until it turns.
pub type BackgroundTask =
    Box<dyn FnOnce(watch::Receiver<bool>) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// A bound listener plus the background tasks to run beside the routes.
///
/// ```no_run
/// # async fn run(state: meta_server::AppState) -> Result<(), meta_server::ServeError> {
/// let server = meta_server::Server::bind(([127, 0, 0, 1], 8080).into()).await?;
/// println!("listening on {}", server.local_addr()?);
/// server.run(state, async { let _ = tokio::signal::ctrl_c().await; }).await
/// # }
/// ```
pub struct Server {
    listener: TcpListener,
    worker: bool,
    tasks: Vec<(String, BackgroundTask)>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("listener", &self.listener.local_addr().ok())
            .field("worker", &self.worker)
            .field(
                "tasks",
                &self
                    .tasks
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Server {
    /// Binds `addr` (port 0 picks a free port; see [`local_addr`](Self::local_addr)).
    ///
    /// # Errors
    /// [`ServeError::Bind`].
    pub async fn bind(addr: SocketAddr) -> Result<Server, ServeError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        Ok(Server::from_listener(listener))
    }

    /// Serves on an already bound listener.
    #[must_use]
    pub fn from_listener(listener: TcpListener) -> Server {
        Server {
            listener,
            worker: true,
            tasks: Vec::new(),
        }
    }

    /// The bound address.
    ///
    /// # Errors
    /// The socket's error.
    pub fn local_addr(&self) -> Result<SocketAddr, ServeError> {
        Ok(self.listener.local_addr()?)
    }

    /// Whether to run the engine worker ([`Engine::run_worker`](meta_commerce::engine::Engine::run_worker))
    /// beside the routes (default: yes). Turn it off for a webhook-only instance when
    /// other instances process the inbox.
    #[must_use]
    pub fn worker(mut self, on: bool) -> Self {
        self.worker = on;
        self
    }

    /// Runs `task` beside the routes (the outbox dispatcher, for one): it gets the
    /// shutdown signal and must return soon after it turns `true`. If it returns
    /// earlier, the server shuts down and [`run`](Self::run) reports
    /// [`ServeError::Background`].
    #[must_use]
    pub fn background<F, Fut>(mut self, name: impl Into<String>, task: F) -> Self
    where
        F: FnOnce(watch::Receiver<bool>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.tasks
            .push((name.into(), Box::new(move |rx| Box::pin(task(rx)))));
        self
    }

    /// Runs the outbox dispatcher beside the routes (it sends the replies and
    /// messages the engine enqueued; several instances may each run one, since claims
    /// are leased).
    #[must_use]
    pub fn dispatcher(self, dispatcher: Dispatcher) -> Self {
        self.background("outbox dispatcher", move |rx| async move {
            dispatcher.run(rx).await;
        })
    }

    /// Serves until `shutdown` completes, then stops taking connections, lets the
    /// requests in flight finish, signals the background tasks and waits for them.
    ///
    /// # Errors
    /// [`ServeError::Io`], or [`ServeError::Background`] when a background task stopped
    /// on its own (the server is then shut down too).
    pub async fn run<F>(self, state: AppState, shutdown: F) -> Result<(), ServeError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut tasks: JoinSet<String> = JoinSet::new();
        if self.worker {
            let engine = state.engine.clone();
            let rx = stop_rx.clone();
            tasks.spawn(async move {
                engine.run_worker(rx).await;
                "engine worker".to_owned()
            });
        }
        for (name, task) in self.tasks {
            let fut = task(stop_rx.clone());
            tasks.spawn(async move {
                fut.await;
                name
            });
        }
        // Watches the tasks: one ending before shutdown was asked for is a failure, and
        // a server without its worker would take orders nobody processes, so stop.
        let supervisor = {
            let stop_tx = stop_tx.clone();
            let stop_rx = stop_rx.clone();
            tokio::spawn(async move {
                let mut failed: Option<String> = None;
                while let Some(joined) = tasks.join_next().await {
                    let stopping = *stop_rx.borrow();
                    let name = match joined {
                        Ok(name) => name,
                        Err(e) => format!("task panicked: {e}"),
                    };
                    if !stopping {
                        tracing::error!(task = %name, "background task stopped; shutting down");
                        failed.get_or_insert(name);
                        let _ = stop_tx.send(true);
                    }
                }
                failed
            })
        };
        let graceful = {
            let stop_tx = stop_tx.clone();
            let mut stop_rx = stop_rx.clone();
            async move {
                tokio::select! {
                    () = shutdown => {}
                    _ = stop_rx.wait_for(|stop| *stop) => {}
                }
                let _ = stop_tx.send(true);
            }
        };
        let served = axum::serve(self.listener, router(state))
            .with_graceful_shutdown(graceful)
            .await;
        let _ = stop_tx.send(true);
        let failed = supervisor.await.unwrap_or_else(|e| Some(e.to_string()));
        served?;
        match failed {
            Some(name) => Err(ServeError::Background(name)),
            None => Ok(()),
        }
    }
}

/// Binds `addr` and serves `state` with the engine worker until `shutdown` completes
/// ([`Server::bind`] then [`Server::run`]; use [`Server`] for the dispatcher and other
/// background tasks).
///
/// # Errors
/// As [`Server::bind`] and [`Server::run`].
pub async fn serve<F>(addr: SocketAddr, state: AppState, shutdown: F) -> Result<(), ServeError>
where
    F: Future<Output = ()> + Send + 'static,
{
    Server::bind(addr).await?.run(state, shutdown).await
}
