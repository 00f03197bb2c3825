//! The token lifecycle: one status per connection, proactive refresh, invalidation
//! detected from Meta's errors, and events an application turns into notifications.
//!
//! A **connection** is one stored token of a customer: a Facebook user token, a Page
//! token or an Instagram Login token. Its [`TokenStatus`] is
//!
//! | status | meaning |
//! |---|---|
//! | `Active` | usable, not near expiry |
//! | `Expiring` | usable, within the refresh window (default 5 days before expiry) |
//! | `Expired` | past its expiry, or Meta answered 190/463 |
//! | `Revoked` | access was taken away: app removed (458), explicitly invalidated (466), Page role lost (492) |
//! | `NeedsReauth` | the user must log in again: password changed (460), logged out / invalid (467), unconfirmed (464), checkpoint (459), ... |
//!
//! Statuses from time are recomputed from the injected [`Clock`], so tests move a
//! [`ManualClock`](meta_core::clock::ManualClock) instead of sleeping. `Revoked`,
//! `NeedsReauth` and `Expired` stay until the application stores a new token with
//! [`LifecycleManager::replace_token`].
//!
//! [`LifecycleManager::tick`] (run it from a timer) moves statuses along and refreshes
//! what is due: Facebook user tokens with `fb_exchange_token`, Instagram Login tokens
//! with `ig_refresh_token` (or `ig_exchange_token` for a short-lived one). Page tokens
//! taken from a long-lived user token do not expire and are never refreshed. Meta
//! refreshes Instagram tokens only once they are 24 hours old, so younger ones wait.
//! Meta may answer `fb_exchange_token` on a long-lived token with a token whose expiry
//! did not move; the connection then stays `Expiring`, and the event tells the
//! application to ask its customer to log in again before it lapses.
//!
//! Every status change is a [`LifecycleEvent`] on a `tokio::sync::broadcast` channel
//! ([`LifecycleManager::subscribe`]) and in the [`TickReport`] of the call that caused
//! it.
//!
//! Tokens are stored only sealed with [`TokenCipher`] (AES-256-GCM) behind the
//! [`TokenStore`] port, with the connection id as associated data, so a sealed token
//! copied onto another connection's row does not decrypt. [`MemoryTokenStore`] is the
//! in-process implementation; database stores implement the same trait.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use meta_core::cipher::{Key, KeyId, TokenCipher};
//! use meta_graph::lifecycle::{ConnectionId, ConnectionKind, LifecycleManager, MemoryTokenStore};
//! use meta_graph::oauth::OAuth;
//! use secrecy::SecretString;
//!
//! let client = meta_core::Client::builder().build()?;
//! let oauth = OAuth::new("1234", SecretString::from("app-secret"), "https://app.example/cb")?;
//! let cipher = TokenCipher::new(KeyId::new("k1")?, Key::generate()?);
//! let manager = LifecycleManager::builder(Arc::new(MemoryTokenStore::new()), cipher, oauth, client).build();
//! let mut events = manager.subscribe();
//! # let token = meta_graph::oauth::Token::new(SecretString::from("EAAB"), None, std::time::SystemTime::now());
//! manager
//!     .register(ConnectionId::new("shop-42/user")?, ConnectionKind::User, "shop-42", &token)
//!     .await?;
//! tokio::spawn(async move {
//!     while let Ok(e) = events.recv().await {
//!         println!("{} {:?} -> {} ({:?})", e.connection, e.from, e.to, e.reason);
//!     }
//! });
//! manager.tick().await?; // from a timer, e.g. hourly
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::future::BoxFuture;
use meta_core::cipher::{CipherError, TokenCipher};
use meta_core::clock::Clock;
use meta_core::{Client, ErrorKind};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::error::InvalidInput;
use crate::oauth::{OAuth, Token};

/// The default refresh point: 5 days before expiry.
pub const DEFAULT_REFRESH_BEFORE: Duration = Duration::from_secs(5 * 86_400);
/// Meta refreshes an Instagram Login token only once it is this old.
pub const IG_MIN_REFRESH_AGE: Duration = Duration::from_secs(86_400);
/// Instagram tokens living at most this long are short-lived (1 hour) and are
/// exchanged with `ig_exchange_token` rather than refreshed.
const IG_SHORT_LIVED_MAX: Duration = Duration::from_secs(86_400);
/// Events buffered per subscriber before the slowest one starts losing the oldest.
pub const DEFAULT_EVENT_CAPACITY: usize = 256;
/// The longest connection id accepted.
pub const MAX_CONNECTION_ID_LEN: usize = 256;

// ---------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------

/// The application's name for one stored token (for example `shop-42/page/1234`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ConnectionId(String);

impl ConnectionId {
    /// Validates an id: 1 to [`MAX_CONNECTION_ID_LEN`] bytes, no control characters.
    ///
    /// # Errors
    /// [`InvalidInput`] (field `connection`) otherwise.
    pub fn new(id: impl Into<String>) -> Result<Self, InvalidInput> {
        let id = id.into();
        if id.is_empty() || id.len() > MAX_CONNECTION_ID_LEN {
            return Err(InvalidInput::new(
                "connection",
                format!("must be 1 to {MAX_CONNECTION_ID_LEN} bytes"),
            ));
        }
        if id.chars().any(char::is_control) {
            return Err(InvalidInput::new(
                "connection",
                "may not contain control characters",
            ));
        }
        Ok(ConnectionId(id))
    }
    /// The id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The associated data that binds a sealed token to this connection.
    fn aad(&self) -> Vec<u8> {
        format!("meta-graph/connection/{}", self.0).into_bytes()
    }
}

impl TryFrom<String> for ConnectionId {
    type Error = InvalidInput;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        ConnectionId::new(s)
    }
}

impl From<ConnectionId> for String {
    fn from(id: ConnectionId) -> String {
        id.0
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of token a connection holds; decides how it is refreshed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConnectionKind {
    /// A Facebook user token: refreshed with `fb_exchange_token`.
    User,
    /// A Page token: not refreshable (from a long-lived user token it never expires).
    Page,
    /// An Instagram Login token: refreshed with `ig_refresh_token`.
    Instagram,
}

impl ConnectionKind {
    /// A stable name (`user`, `page`, `instagram`) for storage.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionKind::User => "user",
            ConnectionKind::Page => "page",
            ConnectionKind::Instagram => "instagram",
        }
    }
    /// Parses [`as_str`](Self::as_str).
    ///
    /// # Errors
    /// [`InvalidInput`] for another name.
    pub fn parse(s: &str) -> Result<Self, InvalidInput> {
        match s {
            "user" => Ok(ConnectionKind::User),
            "page" => Ok(ConnectionKind::Page),
            "instagram" => Ok(ConnectionKind::Instagram),
            other => Err(InvalidInput::new(
                "kind",
                format!("unknown connection kind `{other}`"),
            )),
        }
    }
}

/// Where a connection's token stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TokenStatus {
    /// Usable and not near expiry.
    Active,
    /// Usable, but within the refresh window.
    Expiring,
    /// Past its expiry (or Meta said 190/463).
    Expired,
    /// Access was taken away (app removed, token invalidated, Page role lost).
    Revoked,
    /// The user must log in again (password changed, logged out, checkpoint, ...).
    NeedsReauth,
}

impl TokenStatus {
    /// A stable snake_case name for storage and logs.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Active => "active",
            TokenStatus::Expiring => "expiring",
            TokenStatus::Expired => "expired",
            TokenStatus::Revoked => "revoked",
            TokenStatus::NeedsReauth => "needs_reauth",
        }
    }
    /// Parses [`as_str`](Self::as_str).
    ///
    /// # Errors
    /// [`InvalidInput`] for another name.
    pub fn parse(s: &str) -> Result<Self, InvalidInput> {
        match s {
            "active" => Ok(TokenStatus::Active),
            "expiring" => Ok(TokenStatus::Expiring),
            "expired" => Ok(TokenStatus::Expired),
            "revoked" => Ok(TokenStatus::Revoked),
            "needs_reauth" => Ok(TokenStatus::NeedsReauth),
            other => Err(InvalidInput::new(
                "status",
                format!("unknown token status `{other}`"),
            )),
        }
    }
    /// True when the token can still be used (`Active` or `Expiring`).
    #[must_use]
    pub fn is_usable(self) -> bool {
        matches!(self, TokenStatus::Active | TokenStatus::Expiring)
    }
    /// Statuses that time cannot change: only a new token ends them.
    fn is_terminal(self) -> bool {
        !self.is_usable()
    }
}

impl fmt::Display for TokenStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status a token has at `now` from its expiry alone: `Expired` at or past
/// `expires_at`, `Expiring` within `refresh_before` of it, else `Active` (also when
/// it never expires).
#[must_use]
pub fn status_from_expiry(
    expires_at: Option<SystemTime>,
    now: SystemTime,
    refresh_before: Duration,
) -> TokenStatus {
    match expires_at {
        None => TokenStatus::Active,
        Some(exp) if now >= exp => TokenStatus::Expired,
        Some(exp) if exp.duration_since(now).unwrap_or_default() <= refresh_before => {
            TokenStatus::Expiring
        }
        Some(_) => TokenStatus::Active,
    }
}

/// The status a Meta error puts a token in, or `None` when the error says nothing
/// about the token (throttles, bad parameters, missing permissions, network).
///
/// Classification is by `code`/`error_subcode` only (facts guide §2.2): 190 or 102
/// (or a token subcode alone) with subcode 463 → `Expired`; 458 (app not installed),
/// 466 (explicitly invalidated), 492 (invalid session: Page role lost) → `Revoked`;
/// every other token error (460 password changed, 467 logged out, 464 unconfirmed,
/// 459 checkpoint, none) → `NeedsReauth`.
#[must_use]
pub fn status_for_error(err: &meta_core::Error) -> Option<TokenStatus> {
    let api = err.api()?;
    if api.kind() != ErrorKind::ReAuth {
        return None;
    }
    Some(match api.subcode() {
        Some(463) => TokenStatus::Expired,
        Some(458 | 466 | 492) => TokenStatus::Revoked,
        _ => TokenStatus::NeedsReauth,
    })
}

/// Why a status changed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransitionReason {
    /// The connection was registered.
    Registered,
    /// The application stored a new token (after the user logged in again).
    TokenReplaced,
    /// Time moved the token into the refresh window or past its expiry.
    Time,
    /// The token was refreshed; `expires_at` is the new expiry (`None`: never).
    Refreshed {
        /// The new expiry.
        expires_at: Option<SystemTime>,
    },
    /// Meta answered a call made with the token (or a refresh) with a token error.
    MetaError {
        /// Meta's code (190, 102).
        code: i64,
        /// Meta's subcode (460, 463, 467, ...).
        subcode: Option<i64>,
        /// Meta's message.
        message: String,
    },
    /// The connection was removed.
    Removed,
}

/// A status change of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LifecycleEvent {
    /// The connection.
    pub connection: ConnectionId,
    /// Its kind.
    pub kind: ConnectionKind,
    /// Whose it is (the application's customer).
    pub owner: String,
    /// The previous status (`None` on registration).
    pub from: Option<TokenStatus>,
    /// The new status.
    pub to: TokenStatus,
    /// Why.
    pub reason: TransitionReason,
    /// When, on the manager's clock.
    pub at: SystemTime,
}

// ---------------------------------------------------------------------------------
// Storage port
// ---------------------------------------------------------------------------------

/// One stored connection. The token is only ever here sealed by [`TokenCipher`].
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StoredConnection {
    /// The connection id (also the sealing's associated data).
    pub id: ConnectionId,
    /// The token's kind.
    pub kind: ConnectionKind,
    /// Whose it is.
    pub owner: String,
    /// `TokenCipher::encrypt` output: `v1.<key id>.<base64url>`.
    pub sealed_token: String,
    /// Unix seconds the token was obtained (or last refreshed) at.
    pub obtained_at: u64,
    /// Unix seconds it expires at; `None` = never.
    pub expires_at: Option<u64>,
    /// The last status computed.
    pub status: TokenStatus,
    /// Unix seconds of the last successful refresh.
    pub refreshed_at: Option<u64>,
    /// The last token error Meta returned for it: `(code, subcode)`.
    pub last_error: Option<(i64, Option<i64>)>,
    /// Unix seconds of the last change.
    pub updated_at: u64,
}

impl fmt::Debug for StoredConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredConnection")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("owner", &self.owner)
            .field(
                "sealed_token",
                &format_args!("[{} bytes]", self.sealed_token.len()),
            )
            .field("obtained_at", &self.obtained_at)
            .field("expires_at", &self.expires_at)
            .field("status", &self.status)
            .field("refreshed_at", &self.refreshed_at)
            .field("last_error", &self.last_error)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

impl StoredConnection {
    /// The expiry as a time.
    #[must_use]
    pub fn expires_at_time(&self) -> Option<SystemTime> {
        self.expires_at.map(from_unix)
    }
}

/// A storage failure, reported by a [`TokenStore`].
#[derive(Debug, thiserror::Error)]
#[error("token store: {message}")]
pub struct StoreError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl StoreError {
    /// A failure described by `message` (never include a token).
    #[must_use]
    pub fn new(message: impl Into<String>) -> Self {
        StoreError {
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
    /// The description.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Where connections live. Object-safe (methods return boxed futures) so an
/// application can pick a store at run time: `Arc<dyn TokenStore>`.
///
/// Implementations store [`StoredConnection`] as given; they never see a plaintext
/// token. `save` is an upsert keyed by `id`.
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The connection with `id`, if any.
    fn load<'a>(
        &'a self,
        id: &'a ConnectionId,
    ) -> BoxFuture<'a, Result<Option<StoredConnection>, StoreError>>;
    /// Inserts or replaces `record`.
    fn save<'a>(&'a self, record: &'a StoredConnection) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Removes `id`; true when it existed.
    fn delete<'a>(&'a self, id: &'a ConnectionId) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// Every connection.
    fn list(&self) -> BoxFuture<'_, Result<Vec<StoredConnection>, StoreError>>;
    /// The connections a tick must look at: usable ones that expire at or before
    /// `threshold` (unix seconds). The default filters [`list`](Self::list); database
    /// stores should override it with an indexed query.
    fn due(&self, threshold: u64) -> BoxFuture<'_, Result<Vec<StoredConnection>, StoreError>> {
        Box::pin(async move {
            Ok(self
                .list()
                .await?
                .into_iter()
                .filter(|c| c.status.is_usable() && c.expires_at.is_some_and(|e| e <= threshold))
                .collect())
        })
    }
}

/// An in-memory [`TokenStore`] for tests, examples and single-process tools.
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    rows: Mutex<HashMap<ConnectionId, StoredConnection>>,
}

impl MemoryTokenStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
    fn rows(&self) -> std::sync::MutexGuard<'_, HashMap<ConnectionId, StoredConnection>> {
        // A panic while holding the lock cannot leave a row half-written (each
        // operation is one map call), so a poisoned lock is simply taken over.
        self.rows.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl TokenStore for MemoryTokenStore {
    fn load<'a>(
        &'a self,
        id: &'a ConnectionId,
    ) -> BoxFuture<'a, Result<Option<StoredConnection>, StoreError>> {
        let row = self.rows().get(id).cloned();
        Box::pin(async move { Ok(row) })
    }
    fn save<'a>(&'a self, record: &'a StoredConnection) -> BoxFuture<'a, Result<(), StoreError>> {
        self.rows().insert(record.id.clone(), record.clone());
        Box::pin(async { Ok(()) })
    }
    fn delete<'a>(&'a self, id: &'a ConnectionId) -> BoxFuture<'a, Result<bool, StoreError>> {
        let existed = self.rows().remove(id).is_some();
        Box::pin(async move { Ok(existed) })
    }
    fn list(&self) -> BoxFuture<'_, Result<Vec<StoredConnection>, StoreError>> {
        let mut rows: Vec<StoredConnection> = self.rows().values().cloned().collect();
        rows.sort_by(|a, b| a.id.cmp(&b.id));
        Box::pin(async move { Ok(rows) })
    }
}

// ---------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------

/// Why a lifecycle operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LifecycleError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Sealing or opening a token failed (wrong key, tampered row, row copied from
    /// another connection).
    #[error("token cipher: {0}")]
    Cipher(#[from] CipherError),
    /// A call to Meta failed (a refresh, for instance).
    #[error(transparent)]
    Graph(#[from] crate::Error),
    /// Bad input, refused before anything was stored or sent.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// No connection has this id.
    #[error("unknown connection `{0}`")]
    UnknownConnection(ConnectionId),
    /// The token cannot be used: it is expired, revoked or needs a new login.
    #[error("connection `{connection}` is {status}; the user must log in again")]
    Unusable {
        /// The connection.
        connection: ConnectionId,
        /// Its status.
        status: TokenStatus,
    },
    /// The connection's token cannot be refreshed (a Page token, or an expired one).
    #[error("connection `{connection}` cannot be refreshed: {why}")]
    NotRefreshable {
        /// The connection.
        connection: ConnectionId,
        /// Why.
        why: &'static str,
    },
}

// ---------------------------------------------------------------------------------
// The manager
// ---------------------------------------------------------------------------------

/// What one [`LifecycleManager::tick`] (or `update_statuses` / `refresh_due`) did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct TickReport {
    /// Connections looked at.
    pub checked: usize,
    /// Connections refreshed successfully.
    pub refreshed: Vec<ConnectionId>,
    /// Refreshes that failed without saying anything about the token (network,
    /// throttling): retried on the next tick.
    pub failed: Vec<(ConnectionId, ErrorKind)>,
    /// Every status change, in order (also sent to subscribers).
    pub events: Vec<LifecycleEvent>,
}

struct Inner {
    store: Arc<dyn TokenStore>,
    cipher: TokenCipher,
    oauth: OAuth,
    client: Client,
    clock: Arc<dyn Clock>,
    refresh_before: Duration,
    events: broadcast::Sender<LifecycleEvent>,
    /// One tick at a time, so two timers never refresh the same token twice.
    tick_lock: tokio::sync::Mutex<()>,
}

/// Tracks connections' token statuses, refreshes them and emits events; see the
/// [module docs](self). Cheap to clone.
#[derive(Clone)]
pub struct LifecycleManager {
    inner: Arc<Inner>,
}

impl fmt::Debug for LifecycleManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LifecycleManager")
            .field("store", &self.inner.store)
            .field("refresh_before", &self.inner.refresh_before)
            .field("subscribers", &self.inner.events.receiver_count())
            .finish_non_exhaustive()
    }
}

/// Builds a [`LifecycleManager`].
#[must_use = "call .build()"]
pub struct LifecycleManagerBuilder {
    store: Arc<dyn TokenStore>,
    cipher: TokenCipher,
    oauth: OAuth,
    client: Client,
    clock: Option<Arc<dyn Clock>>,
    refresh_before: Duration,
    event_capacity: usize,
}

impl fmt::Debug for LifecycleManagerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LifecycleManagerBuilder")
            .field("refresh_before", &self.refresh_before)
            .field("event_capacity", &self.event_capacity)
            .finish_non_exhaustive()
    }
}

impl LifecycleManagerBuilder {
    /// The clock statuses are computed with; default: the client's clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }
    /// How long before expiry a token becomes `Expiring` and is refreshed; default
    /// [`DEFAULT_REFRESH_BEFORE`] (5 days).
    pub fn refresh_before(mut self, before: Duration) -> Self {
        self.refresh_before = before;
        self
    }
    /// Events buffered per subscriber; default [`DEFAULT_EVENT_CAPACITY`].
    pub fn event_capacity(mut self, capacity: usize) -> Self {
        self.event_capacity = capacity.max(1);
        self
    }
    /// Builds the manager.
    pub fn build(self) -> LifecycleManager {
        let (events, _) = broadcast::channel(self.event_capacity);
        let clock = self.clock.unwrap_or_else(|| self.client.clock().clone());
        LifecycleManager {
            inner: Arc::new(Inner {
                store: self.store,
                cipher: self.cipher,
                oauth: self.oauth,
                client: self.client,
                clock,
                refresh_before: self.refresh_before,
                events,
                tick_lock: tokio::sync::Mutex::new(()),
            }),
        }
    }
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn from_unix(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

impl LifecycleManager {
    /// A builder. `client` is the Graph client used for `fb_exchange_token` (its
    /// token, if any, is not sent there) and as the base of
    /// [`client_for`](Self::client_for); `oauth` holds the app credentials and the
    /// Instagram Login host.
    pub fn builder(
        store: Arc<dyn TokenStore>,
        cipher: TokenCipher,
        oauth: OAuth,
        client: Client,
    ) -> LifecycleManagerBuilder {
        LifecycleManagerBuilder {
            store,
            cipher,
            oauth,
            client,
            clock: None,
            refresh_before: DEFAULT_REFRESH_BEFORE,
            event_capacity: DEFAULT_EVENT_CAPACITY,
        }
    }

    /// A receiver of every future [`LifecycleEvent`].
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<LifecycleEvent> {
        self.inner.events.subscribe()
    }

    /// The refresh window.
    #[must_use]
    pub fn refresh_before(&self) -> Duration {
        self.inner.refresh_before
    }

    fn now(&self) -> SystemTime {
        self.inner.clock.now()
    }

    fn emit(&self, report: Option<&mut TickReport>, event: LifecycleEvent) {
        tracing::info!(
            connection = %event.connection,
            from = ?event.from,
            to = %event.to,
            reason = ?event.reason,
            "token lifecycle transition"
        );
        // No subscriber is fine: the event is also returned to the caller.
        let _ = self.inner.events.send(event.clone());
        if let Some(r) = report {
            r.events.push(event);
        }
    }

    fn event(
        &self,
        c: &StoredConnection,
        from: Option<TokenStatus>,
        reason: TransitionReason,
    ) -> LifecycleEvent {
        LifecycleEvent {
            connection: c.id.clone(),
            kind: c.kind,
            owner: c.owner.clone(),
            from,
            to: c.status,
            reason,
            at: self.now(),
        }
    }

    async fn load(&self, id: &ConnectionId) -> Result<StoredConnection, LifecycleError> {
        self.inner
            .store
            .load(id)
            .await?
            .ok_or_else(|| LifecycleError::UnknownConnection(id.clone()))
    }

    fn seal(&self, id: &ConnectionId, token: &Token) -> Result<String, LifecycleError> {
        Ok(self.inner.cipher.encrypt(token.access_token(), &id.aad())?)
    }

    /// Stores a new connection (or overwrites one) and returns its status. Emits a
    /// `Registered` event.
    ///
    /// # Errors
    /// [`LifecycleError::Invalid`] for an empty owner; store and cipher failures.
    pub async fn register(
        &self,
        id: ConnectionId,
        kind: ConnectionKind,
        owner: impl Into<String>,
        token: &Token,
    ) -> Result<TokenStatus, LifecycleError> {
        let owner = owner.into();
        if owner.trim().is_empty() {
            return Err(InvalidInput::new("owner", "may not be empty").into());
        }
        let now = self.now();
        let status = status_from_expiry(token.expires_at(), now, self.inner.refresh_before);
        let record = StoredConnection {
            sealed_token: self.seal(&id, token)?,
            id,
            kind,
            owner,
            obtained_at: unix(token.obtained_at()),
            expires_at: token.expires_at().map(unix),
            status,
            refreshed_at: None,
            last_error: None,
            updated_at: unix(now),
        };
        self.inner.store.save(&record).await?;
        self.emit(
            None,
            self.event(&record, None, TransitionReason::Registered),
        );
        Ok(status)
    }

    /// Stores a new token for an existing connection (after the user logged in
    /// again), clearing `Revoked` / `NeedsReauth` / `Expired`. Emits a
    /// `TokenReplaced` event.
    ///
    /// # Errors
    /// [`LifecycleError::UnknownConnection`]; store and cipher failures.
    pub async fn replace_token(
        &self,
        id: &ConnectionId,
        token: &Token,
    ) -> Result<TokenStatus, LifecycleError> {
        let mut c = self.load(id).await?;
        let from = c.status;
        let now = self.now();
        c.sealed_token = self.seal(id, token)?;
        c.obtained_at = unix(token.obtained_at());
        c.expires_at = token.expires_at().map(unix);
        c.status = status_from_expiry(token.expires_at(), now, self.inner.refresh_before);
        c.last_error = None;
        c.updated_at = unix(now);
        self.inner.store.save(&c).await?;
        self.emit(
            None,
            self.event(&c, Some(from), TransitionReason::TokenReplaced),
        );
        Ok(c.status)
    }

    /// Removes a connection; true when it existed. Emits a `Removed` event (with
    /// `to` the last status).
    ///
    /// # Errors
    /// Store failures.
    pub async fn remove(&self, id: &ConnectionId) -> Result<bool, LifecycleError> {
        let Some(c) = self.inner.store.load(id).await? else {
            return Ok(false);
        };
        let existed = self.inner.store.delete(id).await?;
        if existed {
            self.emit(
                None,
                self.event(&c, Some(c.status), TransitionReason::Removed),
            );
        }
        Ok(existed)
    }

    /// The stored connection (its token stays sealed).
    ///
    /// # Errors
    /// [`LifecycleError::UnknownConnection`]; store failures.
    pub async fn connection(&self, id: &ConnectionId) -> Result<StoredConnection, LifecycleError> {
        self.load(id).await
    }

    /// The status at this moment: the stored one, moved along by time (without
    /// storing or emitting anything; [`tick`](Self::tick) does that).
    ///
    /// # Errors
    /// [`LifecycleError::UnknownConnection`]; store failures.
    pub async fn status(&self, id: &ConnectionId) -> Result<TokenStatus, LifecycleError> {
        let c = self.load(id).await?;
        Ok(self.time_status(&c))
    }

    fn time_status(&self, c: &StoredConnection) -> TokenStatus {
        if c.status.is_terminal() {
            return c.status;
        }
        status_from_expiry(c.expires_at_time(), self.now(), self.inner.refresh_before)
    }

    /// The plaintext token, for a connection that is still usable.
    ///
    /// # Errors
    /// [`LifecycleError::Unusable`] when it is expired, revoked or needs a login;
    /// [`LifecycleError::Cipher`] when the sealed value does not open for this
    /// connection; store failures.
    pub async fn access_token(&self, id: &ConnectionId) -> Result<SecretString, LifecycleError> {
        let c = self.load(id).await?;
        let status = self.time_status(&c);
        if !status.is_usable() {
            return Err(LifecycleError::Unusable {
                connection: id.clone(),
                status,
            });
        }
        Ok(self.inner.cipher.decrypt(&c.sealed_token, &id.aad())?)
    }

    /// The manager's client with this connection's token (same transport, governor
    /// and retry budget).
    ///
    /// # Errors
    /// As [`access_token`](Self::access_token).
    pub async fn client_for(&self, id: &ConnectionId) -> Result<Client, LifecycleError> {
        let token = self.access_token(id).await?;
        Ok(self.inner.client.with_access_token(token))
    }

    /// Feeds an error from a call made with this connection's token. A token error
    /// (190/102 and the token subcodes) moves the connection to `Expired`, `Revoked`
    /// or `NeedsReauth` (see [`status_for_error`]) and emits an event; any other error
    /// changes nothing and returns `None`.
    ///
    /// # Errors
    /// [`LifecycleError::UnknownConnection`]; store failures.
    pub async fn observe_error(
        &self,
        id: &ConnectionId,
        err: &meta_core::Error,
    ) -> Result<Option<LifecycleEvent>, LifecycleError> {
        let Some(to) = status_for_error(err) else {
            return Ok(None);
        };
        let mut c = self.load(id).await?;
        Ok(self.apply_error(&mut c, to, err, None).await?)
    }

    /// Records a token error on `c`; emits when the status changes.
    async fn apply_error(
        &self,
        c: &mut StoredConnection,
        to: TokenStatus,
        err: &meta_core::Error,
        report: Option<&mut TickReport>,
    ) -> Result<Option<LifecycleEvent>, StoreError> {
        let (code, subcode, message) = err.api().map_or((0, None, String::new()), |a| {
            (a.code(), a.subcode(), a.message().to_owned())
        });
        let from = c.status;
        c.status = to;
        c.last_error = Some((code, subcode));
        c.updated_at = unix(self.now());
        self.inner.store.save(c).await?;
        if from == to {
            return Ok(None);
        }
        let event = self.event(
            c,
            Some(from),
            TransitionReason::MetaError {
                code,
                subcode,
                message,
            },
        );
        self.emit(report, event.clone());
        Ok(Some(event))
    }

    /// Moves every connection's status along with time (`Active` → `Expiring` →
    /// `Expired`), storing and emitting each change. Refreshes nothing.
    ///
    /// # Errors
    /// Store failures.
    pub async fn update_statuses(&self) -> Result<TickReport, LifecycleError> {
        let _guard = self.inner.tick_lock.lock().await;
        let mut report = TickReport::default();
        self.update_locked(&mut report).await?;
        Ok(report)
    }

    /// Refreshes every connection that is due (`Expiring`, refreshable, and for
    /// Instagram at least 24 hours old). Token errors from Meta move the connection
    /// as [`observe_error`](Self::observe_error) would; other failures are listed in
    /// [`TickReport::failed`] and retried next time.
    ///
    /// # Errors
    /// Store and cipher failures (a failed refresh call is not an error here).
    pub async fn refresh_due(&self) -> Result<TickReport, LifecycleError> {
        let _guard = self.inner.tick_lock.lock().await;
        let mut report = TickReport::default();
        self.refresh_locked(&mut report).await?;
        Ok(report)
    }

    /// [`update_statuses`](Self::update_statuses) then
    /// [`refresh_due`](Self::refresh_due), in one report. Call it from a timer.
    ///
    /// # Errors
    /// Store and cipher failures.
    pub async fn tick(&self) -> Result<TickReport, LifecycleError> {
        let _guard = self.inner.tick_lock.lock().await;
        let mut report = TickReport::default();
        self.update_locked(&mut report).await?;
        self.refresh_locked(&mut report).await?;
        Ok(report)
    }

    async fn update_locked(&self, report: &mut TickReport) -> Result<(), LifecycleError> {
        let threshold = unix(self.now() + self.inner.refresh_before);
        for mut c in self.inner.store.due(threshold).await? {
            report.checked += 1;
            let to = self.time_status(&c);
            if to != c.status {
                let from = c.status;
                c.status = to;
                c.updated_at = unix(self.now());
                self.inner.store.save(&c).await?;
                let event = self.event(&c, Some(from), TransitionReason::Time);
                self.emit(Some(report), event);
            }
        }
        Ok(())
    }

    /// Whether `c` is due for a refresh now, and if not, why.
    fn refresh_check(&self, c: &StoredConnection) -> Result<(), &'static str> {
        let status = self.time_status(c);
        if !status.is_usable() {
            return Err("the token is no longer valid; the user must log in again");
        }
        match c.kind {
            ConnectionKind::Page => Err("Page tokens are not refreshable"),
            ConnectionKind::User => Ok(()),
            ConnectionKind::Instagram => {
                let age = unix(self.now()).saturating_sub(c.obtained_at);
                let lifetime = c
                    .expires_at
                    .map(|e| e.saturating_sub(c.obtained_at))
                    .unwrap_or(u64::MAX);
                // Short-lived tokens are exchanged, which has no age rule.
                if lifetime > IG_SHORT_LIVED_MAX.as_secs() && age < IG_MIN_REFRESH_AGE.as_secs() {
                    return Err("Meta refreshes Instagram tokens only once they are 24 hours old");
                }
                Ok(())
            }
        }
    }

    async fn refresh_locked(&self, report: &mut TickReport) -> Result<(), LifecycleError> {
        let threshold = unix(self.now() + self.inner.refresh_before);
        for c in self.inner.store.due(threshold).await? {
            if self.time_status(&c) != TokenStatus::Expiring || self.refresh_check(&c).is_err() {
                continue;
            }
            report.checked += 1;
            // Meta's answer is already in `report` (and in the status when it was a
            // token error), so the per-connection result is not needed here.
            let _outcome = self.refresh_one(c, Some(report)).await?;
        }
        Ok(())
    }

    /// Refreshes one connection now, whether or not it is in the refresh window.
    ///
    /// # Errors
    /// [`LifecycleError::NotRefreshable`] for Page tokens, unusable tokens and
    /// Instagram tokens younger than 24 hours (nothing sent);
    /// [`LifecycleError::Graph`] when Meta refused (a token error also moves the
    /// connection's status and emits an event); store and cipher failures.
    pub async fn refresh(&self, id: &ConnectionId) -> Result<TokenStatus, LifecycleError> {
        let _guard = self.inner.tick_lock.lock().await;
        let c = self.load(id).await?;
        if let Err(why) = self.refresh_check(&c) {
            return Err(LifecycleError::NotRefreshable {
                connection: id.clone(),
                why,
            });
        }
        match self.refresh_one(c, None).await? {
            Ok(status) => Ok(status),
            Err(e) => Err(LifecycleError::Graph(e)),
        }
    }

    /// Calls Meta for `c` and stores the outcome. The outer error is storage or
    /// cipher; the inner one is Meta's answer.
    async fn refresh_one(
        &self,
        mut c: StoredConnection,
        mut report: Option<&mut TickReport>,
    ) -> Result<Result<TokenStatus, crate::Error>, LifecycleError> {
        let current = self.inner.cipher.decrypt(&c.sealed_token, &c.id.aad())?;
        let oauth = &self.inner.oauth;
        let result = match c.kind {
            ConnectionKind::User => {
                oauth
                    .exchange_long_lived(&self.inner.client, &current)
                    .await
            }
            ConnectionKind::Instagram => {
                let lifetime = c.expires_at.map(|e| e.saturating_sub(c.obtained_at));
                if lifetime.is_some_and(|l| l <= IG_SHORT_LIVED_MAX.as_secs()) {
                    oauth.ig_exchange_long_lived(&current).await
                } else {
                    oauth.ig_refresh(&current).await
                }
            }
            ConnectionKind::Page => {
                return Err(LifecycleError::NotRefreshable {
                    connection: c.id,
                    why: "Page tokens are not refreshable",
                });
            }
        };
        match result {
            Ok(token) => {
                let from = c.status;
                let now = self.now();
                c.sealed_token = self.seal(&c.id, &token)?;
                c.obtained_at = unix(token.obtained_at());
                c.expires_at = token.expires_at().map(unix);
                c.refreshed_at = Some(unix(now));
                c.last_error = None;
                c.status = status_from_expiry(token.expires_at(), now, self.inner.refresh_before);
                c.updated_at = unix(now);
                self.inner.store.save(&c).await?;
                if let Some(r) = report.as_deref_mut() {
                    r.refreshed.push(c.id.clone());
                }
                let event = self.event(
                    &c,
                    Some(from),
                    TransitionReason::Refreshed {
                        expires_at: token.expires_at(),
                    },
                );
                self.emit(report, event);
                Ok(Ok(c.status))
            }
            Err(e) => {
                let token_error = e.meta().and_then(status_for_error);
                match (token_error, e.meta()) {
                    (Some(to), Some(meta)) => {
                        self.apply_error(&mut c, to, meta, report).await?;
                    }
                    _ => {
                        let kind = e.meta().map_or(ErrorKind::Config, meta_core::Error::kind);
                        tracing::warn!(connection = %c.id, kind = %kind, "token refresh failed; will retry");
                        if let Some(r) = report {
                            r.failed.push((c.id.clone(), kind));
                        }
                    }
                }
                Ok(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meta_core::ApiError;

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn status_from_expiry_boundaries() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let b = DEFAULT_REFRESH_BEFORE;
        assert_eq!(status_from_expiry(None, now, b), TokenStatus::Active);
        assert_eq!(
            status_from_expiry(Some(now + 6 * DAY), now, b),
            TokenStatus::Active
        );
        assert_eq!(
            status_from_expiry(Some(now + 5 * DAY), now, b),
            TokenStatus::Expiring
        );
        assert_eq!(
            status_from_expiry(Some(now + Duration::from_secs(1)), now, b),
            TokenStatus::Expiring
        );
        assert_eq!(status_from_expiry(Some(now), now, b), TokenStatus::Expired);
        assert_eq!(
            status_from_expiry(Some(now - DAY), now, b),
            TokenStatus::Expired
        );
    }

    fn api(code: i64, subcode: Option<i64>) -> meta_core::Error {
        let mut e = ApiError::new(code, "m").with_http_status(400);
        if let Some(s) = subcode {
            e = e.with_subcode(s);
        }
        meta_core::Error::from(e)
    }

    #[test]
    fn error_table() {
        let cases: &[(i64, Option<i64>, Option<TokenStatus>)] = &[
            (190, Some(463), Some(TokenStatus::Expired)),
            (190, Some(460), Some(TokenStatus::NeedsReauth)),
            (190, Some(467), Some(TokenStatus::NeedsReauth)),
            (190, Some(464), Some(TokenStatus::NeedsReauth)),
            (190, Some(459), Some(TokenStatus::NeedsReauth)),
            (190, Some(458), Some(TokenStatus::Revoked)),
            (190, Some(466), Some(TokenStatus::Revoked)),
            (190, Some(492), Some(TokenStatus::Revoked)),
            (190, None, Some(TokenStatus::NeedsReauth)),
            (102, None, Some(TokenStatus::NeedsReauth)),
            (102, Some(463), Some(TokenStatus::Expired)),
            // Throttles are checked first, even with a token subcode.
            (17, Some(460), None),
            (100, None, None),
            (200, None, None),
            (10, None, None),
            (2, None, None),
        ];
        for (code, sub, want) in cases {
            assert_eq!(status_for_error(&api(*code, *sub)), *want, "{code}/{sub:?}");
        }
        assert_eq!(status_for_error(&meta_core::Error::config("x")), None);
    }

    #[test]
    fn names_round_trip_and_ids_validate() {
        for s in [
            TokenStatus::Active,
            TokenStatus::Expiring,
            TokenStatus::Expired,
            TokenStatus::Revoked,
            TokenStatus::NeedsReauth,
        ] {
            assert_eq!(TokenStatus::parse(s.as_str()).unwrap(), s);
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        for k in [
            ConnectionKind::User,
            ConnectionKind::Page,
            ConnectionKind::Instagram,
        ] {
            assert_eq!(ConnectionKind::parse(k.as_str()).unwrap(), k);
        }
        assert!(TokenStatus::parse("gone").is_err());
        assert!(ConnectionId::new("").is_err());
        assert!(ConnectionId::new("a\nb").is_err());
        assert!(ConnectionId::new("x".repeat(257)).is_err());
        let id = ConnectionId::new("shop/1").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"shop/1\"");
        assert!(serde_json::from_str::<ConnectionId>("\"\"").is_err());
    }
}
