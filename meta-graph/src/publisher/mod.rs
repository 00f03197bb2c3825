//! The duplicate-safe publisher: content for Facebook Pages and Instagram accounts,
//! human approval with an append-only audit trail, governance, and a durable worker
//! that never publishes a post twice.
//!
//! # The flow (one module, top to bottom)
//!
//! 1. **Authoring** ([`Publisher::create`]): one piece of content, one variant per
//!    account ([`Variant`]) — each becomes a [`PostRecord`] in `Draft`, grouped by
//!    `content_id`. Everything is validated first (platform limits, unknown accounts,
//!    a schedule in the past); nothing is stored when anything is wrong.
//! 2. **Approval** ([`Publisher::submit`], [`Publisher::approve`],
//!    [`Publisher::reject`], [`Publisher::request_changes`]): accounts may auto-approve;
//!    the author may approve their own post only where the account allows it. Every
//!    move goes through the one transition table ([`transition()`]) and writes an audit
//!    row in the same store transaction.
//! 3. **The worker** ([`Publisher::run_once`], [`Publisher::run`]): claims due posts
//!    with a lease ([`PublisherStore::claim_due`]), checks [`governance`] (a blocked post
//!    moves to its next allowed slot with the reason recorded), prepares media (IG
//!    containers created and waited to `FINISHED`, FB photos uploaded unpublished: safe to
//!    redo), persists **armed** (`Publishing`) before the one irreversible call, then
//!    persists the result: `Published`, `Failed` with Meta's message, back to `Scheduled`
//!    with backoff when Meta answered that nothing was applied, or `Unconfirmed` when the
//!    outcome cannot be known.
//! 4. **Reconciliation** ([`Publisher::reconcile`]): armed posts whose worker died are
//!    checked — an IG container that is `PUBLISHED` means published; anything else is
//!    `Unconfirmed` for a person to check ([`Publisher::resolve`]). Never re-sent.
//!
//! Two workers never publish one post twice: a post is claimed by one lease at a time,
//! arming is an optimistic-locked write (only one writer can move `Ready → Publishing`),
//! and the daily cap and minimum gap are verified *after* arming, against every armed
//! or published post of the account, so two workers racing on one account back off
//! instead of both publishing.
//!
//! Time comes from the injected [`Clock`], ids from the injected [`IdGenerator`].

pub mod best_times;
pub mod content;
pub mod governance;
pub mod store;
pub mod transition;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use futures_util::future::BoxFuture;
use meta_core::clock::Clock;
use meta_core::{Client, IgContainerId, IgUserId, PageId, PhotoId};

use crate::GraphExt;
use crate::error::InvalidInput;
use crate::instagram::{CarouselItem, IgContainerStatusCode, NewContainer, PublishOutcome};
use crate::lifecycle::{ConnectionId, LifecycleManager};
use crate::pages::PhotoSource;
use crate::store::{IdGenerator, StoreError, to_ms};

pub use best_times::{PostPerformance, SlotRank, rank_slots};
pub use content::{CarouselMedia, Content};
pub use governance::{BlockReason, Decision, GovernanceConfig, Observed, evaluate};
pub use store::{
    Account, AccountStore, AttemptOutcome, AuditEntry, Platform, PostFilter, PostKind, PostRecord,
    PostState, PublishAttempt, PublisherStore, Tenant,
};
pub use transition::{Event, IllegalTransition, transition};

/// The actor name used for automatic approvals.
pub const AUTO_ACTOR: &str = "auto";
/// The actor name used for governance deferrals.
pub const GOVERNANCE_ACTOR: &str = "governance";

// ---------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------

/// Why a publisher operation was refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// Bad input, refused before anything was stored.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// No such account.
    #[error("unknown account {0}")]
    UnknownAccount(String),
    /// No such tenant.
    #[error("unknown tenant {0}")]
    UnknownTenant(String),
    /// No such post.
    #[error("unknown post {0}")]
    UnknownPost(String),
    /// The transition table does not allow the move.
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    /// The post is publishing, published or unconfirmed: it cannot be edited or
    /// deleted.
    #[error("post {id} is {state}: it cannot be edited or deleted")]
    Protected {
        /// The post.
        id: String,
        /// Its state.
        state: PostState,
    },
    /// The author tried to approve their own post on an account that forbids it.
    #[error("{actor} wrote post {id}; account {account} does not allow approving one's own posts")]
    SelfApproval {
        /// The post.
        id: String,
        /// The author and would-be approver.
        actor: String,
        /// The account.
        account: String,
    },
    /// Someone else changed the post meanwhile (optimistic lock); reload and retry.
    #[error("post changed concurrently: {0}")]
    Conflict(String),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
    /// A Graph call failed (best times, reconciliation).
    #[error(transparent)]
    Graph(#[from] crate::Error),
    /// No client could be made for the account (missing or unusable connection).
    #[error("no Graph client for account {account}: {reason}")]
    NoClient {
        /// The account.
        account: String,
        /// Why.
        reason: String,
    },
}

impl From<StoreError> for PublishError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => PublishError::Conflict(m),
            other => PublishError::Store(other),
        }
    }
}

// ---------------------------------------------------------------------------------
// Clients per account
// ---------------------------------------------------------------------------------

/// Gives the Graph client that publishes for an account (its connection's token).
pub trait AccountClients: Send + Sync + fmt::Debug {
    /// The client for `account`; `Err` with a reason when there is none.
    fn client_for<'a>(&'a self, account: &'a Account) -> BoxFuture<'a, Result<Client, String>>;
}

impl AccountClients for LifecycleManager {
    fn client_for<'a>(&'a self, account: &'a Account) -> BoxFuture<'a, Result<Client, String>> {
        Box::pin(async move {
            let id = ConnectionId::new(account.connection_id.clone()).map_err(|e| e.to_string())?;
            LifecycleManager::client_for(self, &id)
                .await
                .map_err(|e| e.to_string())
        })
    }
}

/// Clients given up front, by connection id, with an optional fallback (tests, the
/// demo, single-token tools).
#[derive(Debug, Clone, Default)]
pub struct FixedClients {
    by_connection: HashMap<String, Client>,
    fallback: Option<Client>,
}

impl FixedClients {
    /// No clients.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
    /// Uses `client` for accounts whose `connection_id` is `connection_id`.
    #[must_use]
    pub fn with(mut self, connection_id: impl Into<String>, client: Client) -> Self {
        self.by_connection.insert(connection_id.into(), client);
        self
    }
    /// Uses `client` for every other account.
    #[must_use]
    pub fn fallback(mut self, client: Client) -> Self {
        self.fallback = Some(client);
        self
    }
}

impl AccountClients for FixedClients {
    fn client_for<'a>(&'a self, account: &'a Account) -> BoxFuture<'a, Result<Client, String>> {
        let c = self
            .by_connection
            .get(&account.connection_id)
            .or(self.fallback.as_ref())
            .cloned()
            .ok_or_else(|| format!("no client for connection {}", account.connection_id));
        Box::pin(std::future::ready(c))
    }
}

// ---------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------

/// Worker settings.
#[derive(Debug, Clone)]
pub struct PublisherConfig {
    /// How long a claim lasts (default 5 minutes). An armed post keeps its lease; a
    /// crashed worker's posts are reconciled once it has expired.
    pub lease: Duration,
    /// Posts claimed per [`Publisher::run_once`] (default 16).
    pub batch: u32,
    /// Failures before a post is given up as `Failed` (default 5).
    pub max_attempts: u32,
    /// First retry delay, doubled per attempt (default 1 minute).
    pub backoff_base: Duration,
    /// Longest retry delay (default 1 hour).
    pub backoff_max: Duration,
    /// How long a post waits after losing a same-account race after arming
    /// (default 1 minute).
    pub contention_backoff: Duration,
    /// Sleep between rounds of [`Publisher::run`] (default 5 seconds).
    pub poll_interval: Duration,
    /// Rounds of [`Publisher::run`] between reconciliations and purges (default 60).
    pub maintenance_every: u32,
    /// How long publish attempts are kept (default 90 days).
    pub attempt_retention: Duration,
    /// Governance tunables.
    pub governance: GovernanceConfig,
}

impl Default for PublisherConfig {
    fn default() -> Self {
        PublisherConfig {
            lease: Duration::from_secs(300),
            batch: 16,
            max_attempts: 5,
            backoff_base: Duration::from_secs(60),
            backoff_max: Duration::from_secs(3600),
            contention_backoff: Duration::from_secs(60),
            poll_interval: Duration::from_secs(5),
            maintenance_every: 60,
            attempt_retention: Duration::from_secs(90 * 86_400),
            governance: GovernanceConfig::default(),
        }
    }
}

fn dur_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

// ---------------------------------------------------------------------------------
// Authoring types
// ---------------------------------------------------------------------------------

/// One account's variant of a piece of content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// The account it publishes to.
    pub account_id: String,
    /// What it says and shows on that account's platform.
    pub content: Content,
}

/// A new piece of content for [`Publisher::create`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPost {
    /// Groups the variants; generated when `None`.
    pub content_id: Option<String>,
    /// Who writes it.
    pub author: String,
    /// When it should go out (applied once approved); `None` = as soon as scheduled.
    pub scheduled_at: Option<SystemTime>,
    /// One variant per account.
    pub variants: Vec<Variant>,
}

/// What one [`Publisher::run_once`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunReport {
    /// Posts claimed.
    pub claimed: usize,
    /// Published.
    pub published: usize,
    /// Held back by governance (or a same-account race).
    pub deferred: usize,
    /// Sent back to wait after a failure where nothing was applied.
    pub retried: usize,
    /// Failed for good.
    pub failed: usize,
    /// Outcome unknown.
    pub unconfirmed: usize,
    /// Lost to a concurrent change (another worker or an edit).
    pub conflicts: usize,
    /// Armed and left armed because of [`PublisherBuilder::halt_after_arming`].
    pub halted: usize,
}

/// What one [`Publisher::reconcile`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReconcileReport {
    /// Armed posts examined.
    pub examined: usize,
    /// Found published (IG container `PUBLISHED`).
    pub published: usize,
    /// Marked unconfirmed for a person to check.
    pub unconfirmed: usize,
    /// Left armed because the check itself failed (retried next time).
    pub errors: usize,
}

// ---------------------------------------------------------------------------------
// The publisher
// ---------------------------------------------------------------------------------

struct Inner {
    accounts: Arc<dyn AccountStore>,
    posts: Arc<dyn PublisherStore>,
    clients: Arc<dyn AccountClients>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    worker_id: String,
    config: PublisherConfig,
    halt_after_arming: AtomicBool,
}

/// The publisher: authoring, approval, the worker and reconciliation over the store
/// ports. Cheap to clone.
#[derive(Clone)]
pub struct Publisher {
    inner: Arc<Inner>,
}

impl fmt::Debug for Publisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publisher")
            .field("worker_id", &self.inner.worker_id)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Publisher`].
#[must_use]
pub struct PublisherBuilder {
    accounts: Arc<dyn AccountStore>,
    posts: Arc<dyn PublisherStore>,
    clients: Arc<dyn AccountClients>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    worker_id: Option<String>,
    config: PublisherConfig,
    halt_after_arming: bool,
}

impl fmt::Debug for PublisherBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublisherBuilder")
            .field("worker_id", &self.worker_id)
            .finish_non_exhaustive()
    }
}

impl PublisherBuilder {
    /// The worker's id (default: a fresh id from the generator). Give a restarted
    /// worker its old id so [`Publisher::reconcile`] takes over its armed posts at once.
    pub fn worker_id(mut self, id: impl Into<String>) -> Self {
        self.worker_id = Some(id.into());
        self
    }
    /// Worker settings.
    pub fn config(mut self, config: PublisherConfig) -> Self {
        self.config = config;
        self
    }
    /// Crash drill: the worker persists the armed state and then stops before the
    /// irreversible call, as if the process died there. For tests of reconciliation.
    pub fn halt_after_arming(mut self, halt: bool) -> Self {
        self.halt_after_arming = halt;
        self
    }
    /// The publisher.
    #[must_use]
    pub fn build(self) -> Publisher {
        let worker_id = self
            .worker_id
            .unwrap_or_else(|| format!("worker-{}", self.ids.new_id()));
        Publisher {
            inner: Arc::new(Inner {
                accounts: self.accounts,
                posts: self.posts,
                clients: self.clients,
                clock: self.clock,
                ids: self.ids,
                worker_id,
                config: self.config,
                halt_after_arming: AtomicBool::new(self.halt_after_arming),
            }),
        }
    }
}

/// What the worker decided for one claimed post.
enum Step {
    Published,
    Deferred,
    Retried,
    Failed,
    Unconfirmed,
    Conflict,
    Halted,
}

/// How a failed call left things at Meta.
enum CallFailure {
    /// Meta answered that nothing was applied (or nothing was sent).
    NotApplied {
        transient: bool,
        quota: bool,
        code: Option<i64>,
        subcode: Option<i64>,
        fbtrace_id: Option<String>,
        message: String,
        retry_after: Option<Duration>,
    },
    /// The call may or may not have been applied.
    Unclear { message: String },
}

fn classify(e: &crate::Error) -> CallFailure {
    let not_applied = |transient: bool, message: String| CallFailure::NotApplied {
        transient,
        quota: false,
        code: None,
        subcode: None,
        fbtrace_id: None,
        message,
        retry_after: None,
    };
    match e {
        crate::Error::Invalid(_) | crate::Error::Policy(_) => not_applied(false, e.to_string()),
        // Container failures are read before media_publish is sent, so nothing was
        // published. `ERROR` means Meta rejected the media (bad URL, wrong format):
        // retrying the same media cannot help. `EXPIRED` and a polling deadline are
        // worth a fresh container later.
        crate::Error::Container(c) => not_applied(c.status_code() != "ERROR", e.to_string()),
        crate::Error::Meta(m) => match m {
            meta_core::Error::RateLimited(_) => CallFailure::NotApplied {
                transient: true,
                quota: false,
                code: None,
                subcode: None,
                fbtrace_id: None,
                message: m.to_string(),
                retry_after: m.retry_after(),
            },
            meta_core::Error::Config(_) => not_applied(false, m.to_string()),
            meta_core::Error::Transport(t) if t.is_connect() => not_applied(true, m.to_string()),
            meta_core::Error::Api(a)
                if a.http_status().is_none_or(|s| s < 500) && !matches!(a.code(), 1 | 2) =>
            {
                let transient = matches!(
                    a.kind(),
                    meta_core::ErrorKind::Throttled | meta_core::ErrorKind::Transient
                );
                CallFailure::NotApplied {
                    transient,
                    quota: a.code() == 9 && a.subcode() == Some(2_207_042),
                    code: Some(a.code()),
                    subcode: a.subcode(),
                    fbtrace_id: a.fbtrace_id().map(str::to_owned),
                    message: describe_api(a),
                    retry_after: a.retry_after(),
                }
            }
            _ => CallFailure::Unclear {
                message: m.to_string(),
            },
        },
    }
}

fn describe_api(a: &meta_core::ApiError) -> String {
    match a.subcode() {
        Some(s) => format!("{} [code {}/{s}]", a.message(), a.code()),
        None => format!("{} [code {}]", a.message(), a.code()),
    }
}

impl Publisher {
    /// A builder over the stores, the clients, the clock and the id generator.
    pub fn builder(
        accounts: Arc<dyn AccountStore>,
        posts: Arc<dyn PublisherStore>,
        clients: Arc<dyn AccountClients>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
    ) -> PublisherBuilder {
        PublisherBuilder {
            accounts,
            posts,
            clients,
            clock,
            ids,
            worker_id: None,
            config: PublisherConfig::default(),
            halt_after_arming: false,
        }
    }

    /// This worker's id (the lease owner it writes).
    #[must_use]
    pub fn worker_id(&self) -> &str {
        &self.inner.worker_id
    }

    /// The post store.
    #[must_use]
    pub fn posts(&self) -> &Arc<dyn PublisherStore> {
        &self.inner.posts
    }

    /// The account store.
    #[must_use]
    pub fn accounts(&self) -> &Arc<dyn AccountStore> {
        &self.inner.accounts
    }

    fn now_ms(&self) -> i64 {
        to_ms(self.inner.clock.now())
    }

    fn audit(
        &self,
        post_id: &str,
        actor: &str,
        from: Option<PostState>,
        to: PostState,
        reason: Option<String>,
    ) -> AuditEntry {
        AuditEntry {
            id: self.inner.ids.new_id(),
            post_id: post_id.to_owned(),
            at: self.now_ms(),
            actor: actor.to_owned(),
            from,
            to,
            reason,
        }
    }

    async fn load(&self, id: &str) -> Result<PostRecord, PublishError> {
        self.inner
            .posts
            .get_post(id)
            .await?
            .ok_or_else(|| PublishError::UnknownPost(id.to_owned()))
    }

    async fn account(&self, id: &str) -> Result<Account, PublishError> {
        self.inner
            .accounts
            .get_account(id)
            .await?
            .ok_or_else(|| PublishError::UnknownAccount(id.to_owned()))
    }

    /// Applies `event` to `post` through the transition table, lets `change` adjust the
    /// other fields, and writes it with its audit row (optimistic lock on the version).
    async fn apply(
        &self,
        post: &PostRecord,
        event: Event,
        actor: &str,
        reason: Option<String>,
        change: impl FnOnce(&mut PostRecord),
    ) -> Result<PostRecord, PublishError> {
        let to = transition(post.state, event)?;
        let mut next = post.clone();
        next.state = to;
        change(&mut next);
        next.version = post.version + 1;
        next.updated_at = self.now_ms();
        let audit = self.audit(&post.id, actor, Some(post.state), to, reason);
        self.inner
            .posts
            .update_post(&next, post.version, Some(&audit))
            .await?;
        Ok(next)
    }

    /// Writes a change that is not a state move (a container id, a lease), without an
    /// audit row.
    async fn save(
        &self,
        post: &PostRecord,
        change: impl FnOnce(&mut PostRecord),
    ) -> Result<PostRecord, PublishError> {
        let mut next = post.clone();
        change(&mut next);
        next.version = post.version + 1;
        next.updated_at = self.now_ms();
        self.inner
            .posts
            .update_post(&next, post.version, None)
            .await?;
        Ok(next)
    }

    // -----------------------------------------------------------------------------
    // Authoring and approval
    // -----------------------------------------------------------------------------

    fn check_schedule(&self, at: Option<SystemTime>) -> Result<Option<i64>, PublishError> {
        let Some(at) = at else { return Ok(None) };
        let at = to_ms(at);
        if at < self.now_ms() {
            return Err(InvalidInput::new(
                "scheduled_at",
                format!(
                    "{} is in the past",
                    chrono::DateTime::from_timestamp_millis(at)
                        .map_or_else(|| at.to_string(), |d| d.to_rfc3339())
                ),
            )
            .into());
        }
        Ok(Some(at))
    }

    async fn check_variant(&self, v: &Variant) -> Result<Account, PublishError> {
        let account = self.account(&v.account_id).await?;
        if account.platform != v.content.platform() {
            return Err(InvalidInput::new(
                "content",
                format!(
                    "{} content cannot be published to {} account {}",
                    v.content.kind(),
                    account.platform,
                    account.id
                ),
            )
            .into());
        }
        v.content.validate(self.inner.clock.unix_secs())?;
        Ok(account)
    }

    /// Creates one `Draft` post per variant, after validating all of them: an unknown
    /// account, content for the wrong platform, content over the platform's limits or a
    /// schedule in the past refuses the whole piece and stores nothing.
    ///
    /// # Errors
    /// [`PublishError::Invalid`], [`PublishError::UnknownAccount`]; store failures.
    pub async fn create(&self, new: NewPost) -> Result<Vec<PostRecord>, PublishError> {
        if new.author.trim().is_empty() {
            return Err(InvalidInput::new("author", "is empty").into());
        }
        if new.variants.is_empty() {
            return Err(InvalidInput::new("variants", "a post needs at least one account").into());
        }
        let scheduled_at = self.check_schedule(new.scheduled_at)?;
        let mut accounts = Vec::with_capacity(new.variants.len());
        for (i, v) in new.variants.iter().enumerate() {
            if new.variants[..i]
                .iter()
                .any(|o| o.account_id == v.account_id)
            {
                return Err(InvalidInput::new(
                    "variants",
                    format!("account {} appears twice", v.account_id),
                )
                .into());
            }
            accounts.push(self.check_variant(v).await?);
        }
        let content_id = new
            .content_id
            .clone()
            .unwrap_or_else(|| self.inner.ids.new_id());
        let now = self.now_ms();
        let mut out = Vec::with_capacity(accounts.len());
        for (v, account) in new.variants.iter().zip(accounts) {
            let post = PostRecord {
                id: self.inner.ids.new_id(),
                content_id: content_id.clone(),
                tenant_id: account.tenant_id.clone(),
                account_id: account.id.clone(),
                kind: v.content.kind(),
                payload: v.content.to_payload(),
                state: PostState::Draft,
                author: new.author.clone(),
                approver: None,
                scheduled_at,
                not_before: None,
                blocked_reason: None,
                attempts: 0,
                next_attempt_at: None,
                lease_owner: None,
                lease_until: None,
                armed_at: None,
                container_id: None,
                published_id: None,
                published_at: None,
                last_error: None,
                version: 1,
                created_at: now,
                updated_at: now,
            };
            let audit = self.audit(
                &post.id,
                &new.author,
                None,
                PostState::Draft,
                Some("created".to_owned()),
            );
            self.inner.posts.insert_post(&post, &audit).await?;
            out.push(post);
        }
        Ok(out)
    }

    /// Changes the content and/or the time of a post (`None` leaves it). An approved or
    /// scheduled post goes back to `Draft` and needs approving again.
    ///
    /// # Errors
    /// [`PublishError::Protected`] for publishing, published and unconfirmed posts;
    /// [`PublishError::Invalid`]; [`PublishError::Illegal`] (e.g. a rejected post);
    /// [`PublishError::Conflict`].
    pub async fn edit(
        &self,
        actor: &str,
        id: &str,
        content: Option<Content>,
        scheduled_at: Option<SystemTime>,
    ) -> Result<PostRecord, PublishError> {
        let post = self.load(id).await?;
        if !post.state.is_editable() {
            return Err(PublishError::Protected {
                id: post.id,
                state: post.state,
            });
        }
        let scheduled_at = self.check_schedule(scheduled_at)?;
        if let Some(c) = &content {
            self.check_variant(&Variant {
                account_id: post.account_id.clone(),
                content: c.clone(),
            })
            .await?;
        }
        self.apply(&post, Event::Edit, actor, Some("edited".to_owned()), |p| {
            if let Some(c) = &content {
                p.kind = c.kind();
                p.payload = c.to_payload();
                // Prepared media belongs to the old content.
                p.container_id = None;
            }
            if scheduled_at.is_some() {
                p.scheduled_at = scheduled_at;
            }
            p.approver = None;
            p.not_before = None;
            p.blocked_reason = None;
            p.lease_owner = None;
            p.lease_until = None;
        })
        .await
    }

    /// Deletes a post; its audit trail stays.
    ///
    /// # Errors
    /// [`PublishError::Protected`] for publishing, published and unconfirmed posts;
    /// [`PublishError::Conflict`].
    pub async fn delete(&self, actor: &str, id: &str) -> Result<(), PublishError> {
        let post = self.load(id).await?;
        if !post.state.is_editable() {
            return Err(PublishError::Protected {
                id: post.id,
                state: post.state,
            });
        }
        let audit = self.audit(
            &post.id,
            actor,
            Some(post.state),
            post.state,
            Some("deleted".to_owned()),
        );
        self.inner
            .posts
            .delete_post(&post.id, post.version, &audit)
            .await?;
        Ok(())
    }

    /// The author submits a post for approval. On an auto-approving account it is
    /// approved at once (actor [`AUTO_ACTOR`]) and, when it has a time, scheduled.
    ///
    /// # Errors
    /// [`PublishError::Illegal`] unless the post is a draft or has changes requested.
    pub async fn submit(&self, actor: &str, id: &str) -> Result<PostRecord, PublishError> {
        let post = self.load(id).await?;
        let account = self.account(&post.account_id).await?;
        let post = self
            .apply(&post, Event::Submit, actor, None, |_| {})
            .await?;
        if account.approval.auto_approve {
            let post = self
                .apply(
                    &post,
                    Event::Approve,
                    AUTO_ACTOR,
                    Some("the account auto-approves".to_owned()),
                    |p| p.approver = Some(AUTO_ACTOR.to_owned()),
                )
                .await?;
            return self.schedule_if_timed(post, AUTO_ACTOR).await;
        }
        Ok(post)
    }

    async fn schedule_if_timed(
        &self,
        post: PostRecord,
        actor: &str,
    ) -> Result<PostRecord, PublishError> {
        match post.scheduled_at {
            Some(at) => {
                let reason = chrono::DateTime::from_timestamp_millis(at)
                    .map(|d| format!("scheduled for {}", d.to_rfc3339()));
                self.apply(&post, Event::Schedule, actor, reason, |_| {})
                    .await
            }
            None => Ok(post),
        }
    }

    /// An approver approves; the post is scheduled at once when it has a time.
    ///
    /// # Errors
    /// [`PublishError::SelfApproval`] when the approver wrote it and the account does
    /// not allow that; [`PublishError::Illegal`] unless pending approval.
    pub async fn approve(
        &self,
        actor: &str,
        id: &str,
        comment: Option<&str>,
    ) -> Result<PostRecord, PublishError> {
        let post = self.load(id).await?;
        let account = self.account(&post.account_id).await?;
        if post.author == actor && !account.approval.allow_self_approval {
            return Err(PublishError::SelfApproval {
                id: post.id,
                actor: actor.to_owned(),
                account: account.id,
            });
        }
        let post = self
            .apply(
                &post,
                Event::Approve,
                actor,
                comment.map(str::to_owned),
                |p| {
                    p.approver = Some(actor.to_owned());
                },
            )
            .await?;
        self.schedule_if_timed(post, actor).await
    }

    fn require_comment(comment: &str) -> Result<String, PublishError> {
        let c = comment.trim();
        if c.is_empty() {
            return Err(InvalidInput::new("comment", "say why").into());
        }
        Ok(c.to_owned())
    }

    /// An approver refuses the post for good, saying why.
    ///
    /// # Errors
    /// [`PublishError::Invalid`] for an empty comment; [`PublishError::Illegal`] unless
    /// pending approval.
    pub async fn reject(
        &self,
        actor: &str,
        id: &str,
        comment: &str,
    ) -> Result<PostRecord, PublishError> {
        let comment = Self::require_comment(comment)?;
        let post = self.load(id).await?;
        self.apply(&post, Event::Reject, actor, Some(comment), |_| {})
            .await
    }

    /// An approver asks for changes, saying which.
    ///
    /// # Errors
    /// As [`Publisher::reject`].
    pub async fn request_changes(
        &self,
        actor: &str,
        id: &str,
        comment: &str,
    ) -> Result<PostRecord, PublishError> {
        let comment = Self::require_comment(comment)?;
        let post = self.load(id).await?;
        self.apply(&post, Event::RequestChanges, actor, Some(comment), |_| {})
            .await
    }

    /// Sets the time of an approved (or failed, to try again) post and schedules it.
    ///
    /// # Errors
    /// [`PublishError::Invalid`] for a time in the past; [`PublishError::Illegal`].
    pub async fn schedule(
        &self,
        actor: &str,
        id: &str,
        at: SystemTime,
    ) -> Result<PostRecord, PublishError> {
        let at = self.check_schedule(Some(at))?;
        let post = self.load(id).await?;
        let reason = at
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|d| format!("scheduled for {}", d.to_rfc3339()));
        let from_failed = post.state == PostState::Failed;
        self.apply(&post, Event::Schedule, actor, reason, |p| {
            p.scheduled_at = at;
            p.not_before = None;
            p.blocked_reason = None;
            p.next_attempt_at = None;
            if from_failed {
                p.attempts = 0;
            }
        })
        .await
    }

    /// A person settles an unconfirmed post after checking the account: published
    /// (with Meta's id when known) or not.
    ///
    /// # Errors
    /// [`PublishError::Illegal`] unless the post is unconfirmed.
    pub async fn resolve(
        &self,
        actor: &str,
        id: &str,
        published: bool,
        published_id: Option<String>,
    ) -> Result<PostRecord, PublishError> {
        let post = self.load(id).await?;
        let now = self.now_ms();
        if published {
            self.apply(
                &post,
                Event::ResolvePublished,
                actor,
                Some("checked: published".to_owned()),
                |p| {
                    p.published_id = published_id;
                    p.published_at = p.published_at.or(p.armed_at).or(Some(now));
                },
            )
            .await
        } else {
            self.apply(
                &post,
                Event::ResolveNotPublished,
                actor,
                Some("checked: not published".to_owned()),
                |_| {},
            )
            .await
        }
    }

    /// One post.
    ///
    /// # Errors
    /// [`PublishError::UnknownPost`]; store failures.
    pub async fn post(&self, id: &str) -> Result<PostRecord, PublishError> {
        self.load(id).await
    }

    /// Posts matching `filter`.
    ///
    /// # Errors
    /// Store failures.
    pub async fn list(&self, filter: &PostFilter) -> Result<Vec<PostRecord>, PublishError> {
        Ok(self.inner.posts.list_posts(filter).await?)
    }

    /// A post's audit trail.
    ///
    /// # Errors
    /// Store failures.
    pub async fn audit_trail(&self, id: &str) -> Result<Vec<AuditEntry>, PublishError> {
        Ok(self.inner.posts.audit_trail(id).await?)
    }

    /// A post's publish attempts.
    ///
    /// # Errors
    /// Store failures.
    pub async fn attempts(&self, id: &str) -> Result<Vec<PublishAttempt>, PublishError> {
        Ok(self.inner.posts.attempts(id).await?)
    }

    /// Deletes attempts older than the retention (90 days by default).
    ///
    /// # Errors
    /// Store failures.
    pub async fn purge_attempts(&self) -> Result<u64, PublishError> {
        let cutoff = self
            .now_ms()
            .saturating_sub(dur_ms(self.inner.config.attempt_retention));
        Ok(self.inner.posts.purge_attempts(cutoff).await?)
    }

    // -----------------------------------------------------------------------------
    // The worker
    // -----------------------------------------------------------------------------

    /// Runs until `shutdown` completes: reconciles first, then claims and publishes due
    /// posts every `poll_interval`, reconciling and purging old attempts every
    /// `maintenance_every` rounds. Store errors are logged and retried next round.
    pub async fn run(&self, shutdown: impl Future<Output = ()> + Send) {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut round: u32 = 0;
        loop {
            if round.is_multiple_of(self.inner.config.maintenance_every.max(1)) {
                if let Err(e) = self.reconcile().await {
                    tracing::warn!(error = %e, "reconciliation failed; retrying next round");
                }
                if let Err(e) = self.purge_attempts().await {
                    tracing::warn!(error = %e, "purging old attempts failed");
                }
            }
            round = round.wrapping_add(1);
            match self.run_once().await {
                Ok(r) if r.claimed > 0 => tracing::debug!(report = ?r, "publisher round"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "publisher round failed; retrying"),
            }
            let sleep = self.inner.clock.sleep(self.inner.config.poll_interval);
            match futures_util::future::select(shutdown.as_mut(), sleep).await {
                futures_util::future::Either::Left(_) => return,
                futures_util::future::Either::Right(_) => {}
            }
        }
    }

    /// One round: claims up to `batch` due posts and takes each as far as it can go.
    ///
    /// # Errors
    /// Store failures while claiming. Failures of single posts are recorded on them.
    pub async fn run_once(&self) -> Result<RunReport, PublishError> {
        let now = self.now_ms();
        let claimed = self
            .inner
            .posts
            .claim_due(
                now,
                &self.inner.worker_id,
                dur_ms(self.inner.config.lease),
                self.inner.config.batch,
            )
            .await?;
        let mut report = RunReport {
            claimed: claimed.len(),
            ..RunReport::default()
        };
        for post in claimed {
            let id = post.id.clone();
            let step = match self.process(post).await {
                Ok(s) => s,
                Err(PublishError::Conflict(_)) => Step::Conflict,
                Err(e) => {
                    // The lease expires and another round tries again.
                    tracing::warn!(post = %id, error = %e, "processing a post failed");
                    Step::Conflict
                }
            };
            match step {
                Step::Published => report.published += 1,
                Step::Deferred => report.deferred += 1,
                Step::Retried => report.retried += 1,
                Step::Failed => report.failed += 1,
                Step::Unconfirmed => report.unconfirmed += 1,
                Step::Conflict => report.conflicts += 1,
                Step::Halted => report.halted += 1,
            }
        }
        Ok(report)
    }

    async fn record(
        &self,
        post: &PostRecord,
        started_ms: i64,
        started: Duration,
        outcome: AttemptOutcome,
        failure: Option<&CallFailure>,
    ) {
        let (code, subcode, fbtrace_id, message) = match failure {
            Some(CallFailure::NotApplied {
                code,
                subcode,
                fbtrace_id,
                message,
                ..
            }) => (*code, *subcode, fbtrace_id.clone(), Some(message.clone())),
            Some(CallFailure::Unclear { message }) => (None, None, None, Some(message.clone())),
            None => (None, None, None, None),
        };
        let attempt = PublishAttempt {
            id: self.inner.ids.new_id(),
            post_id: post.id.clone(),
            account_id: post.account_id.clone(),
            started_at: started_ms,
            finished_at: self.now_ms(),
            outcome,
            code,
            subcode,
            fbtrace_id,
            message,
            duration_ms: u64::try_from(
                self.inner
                    .clock
                    .elapsed()
                    .saturating_sub(started)
                    .as_millis(),
            )
            .unwrap_or(u64::MAX),
        };
        // The attempt log is diagnostics: losing a row must not change the outcome.
        if let Err(e) = self.inner.posts.record_attempt(&attempt).await {
            tracing::warn!(post = %post.id, error = %e, "could not record a publish attempt");
        }
    }

    async fn observe(
        &self,
        account: &Account,
        client: Option<&Client>,
        with_network: bool,
    ) -> Result<Observed, PublishError> {
        let now = self.now_ms();
        let (from, to) = match governance::parse_tz(&account.timezone) {
            Ok(tz) => governance::local_day_bounds(tz, now),
            Err(_) => (now, now),
        };
        let posts = &self.inner.posts;
        let published_today = posts.published_count_between(&account.id, from, to).await?;
        let last_published_at = posts.last_published_at(&account.id).await?;
        let mut observed = Observed {
            published_today,
            last_published_at,
            ..Observed::default()
        };
        if let Some(client) = client {
            observed.rate_blocked_for = client
                .governor()
                .snapshot()
                .into_iter()
                .filter(|s| s.scope.contains(account.meta_id.as_str()))
                .filter_map(|s| s.blocked_for)
                .max();
            if with_network && account.platform == Platform::Instagram {
                match client
                    .instagram()
                    .publishing_limit(&IgUserId::new(account.meta_id.clone()))
                    .await
                {
                    Ok(l) => observed.ig_quota_remaining = l.remaining(),
                    // Unknown is not zero: media_publish answers 9/2207042 if it is.
                    Err(e) => tracing::debug!(account = %account.id, error = %e, "quota unread"),
                }
            }
        }
        Ok(observed)
    }

    /// Moves a post back to wait until `until` with `reason` (governance or a race).
    async fn defer(
        &self,
        post: &PostRecord,
        event: Event,
        until: i64,
        reason: String,
        started: (i64, Duration),
    ) -> Result<Step, PublishError> {
        let changed = post.blocked_reason.as_deref() != Some(reason.as_str());
        let next = self
            .apply(post, event, GOVERNANCE_ACTOR, Some(reason.clone()), |p| {
                p.not_before = Some(until);
                p.blocked_reason = Some(reason.clone());
                p.armed_at = None;
                p.lease_owner = None;
                p.lease_until = None;
            })
            .await?;
        // One attempt row per new reason, not one per round of a long block.
        if changed {
            let f = CallFailure::NotApplied {
                transient: true,
                quota: false,
                code: None,
                subcode: None,
                fbtrace_id: None,
                message: reason,
                retry_after: None,
            };
            self.record(
                &next,
                started.0,
                started.1,
                AttemptOutcome::Blocked,
                Some(&f),
            )
            .await;
        }
        Ok(Step::Deferred)
    }

    fn backoff(&self, attempts: u32) -> i64 {
        let c = &self.inner.config;
        let factor = 1_u32
            .checked_shl(attempts.saturating_sub(1))
            .unwrap_or(u32::MAX);
        dur_ms(c.backoff_base.saturating_mul(factor).min(c.backoff_max))
    }

    /// A failure where nothing was applied: back to wait with backoff, or `Failed`
    /// when permanent or out of attempts.
    async fn not_applied(
        &self,
        post: &PostRecord,
        failure: &CallFailure,
        started: (i64, Duration),
        counted: bool,
    ) -> Result<Step, PublishError> {
        let CallFailure::NotApplied {
            transient,
            quota,
            message,
            retry_after,
            ..
        } = failure
        else {
            return Ok(Step::Conflict);
        };
        let now = self.now_ms();
        let back_event = if post.state == PostState::Publishing {
            Event::Disarm
        } else {
            Event::Defer
        };
        if *quota {
            let until = now.saturating_add(dur_ms(self.inner.config.governance.quota_recheck));
            let step = self
                .defer(
                    post,
                    back_event,
                    until,
                    BlockReason::IgQuota.to_string(),
                    started,
                )
                .await;
            return step;
        }
        let attempts = if counted {
            post.attempts
        } else {
            post.attempts + 1
        };
        if !transient || attempts >= self.inner.config.max_attempts {
            let why = if *transient {
                format!("gave up after {attempts} attempts: {message}")
            } else {
                message.clone()
            };
            let next = self
                .apply(post, Event::Fail, &self.actor(), Some(why.clone()), |p| {
                    p.attempts = attempts;
                    p.last_error = Some(why.clone());
                    p.lease_owner = None;
                    p.lease_until = None;
                })
                .await?;
            self.record(
                &next,
                started.0,
                started.1,
                AttemptOutcome::Failed,
                Some(failure),
            )
            .await;
            return Ok(Step::Failed);
        }
        let wait = retry_after
            .map(dur_ms)
            .unwrap_or(0)
            .max(self.backoff(attempts));
        let next = self
            .apply(
                post,
                back_event,
                &self.actor(),
                Some(format!("will retry: {message}")),
                |p| {
                    p.attempts = attempts;
                    p.next_attempt_at = Some(now.saturating_add(wait));
                    p.last_error = Some(message.clone());
                    p.armed_at = None;
                    p.lease_owner = None;
                    p.lease_until = None;
                },
            )
            .await?;
        self.record(
            &next,
            started.0,
            started.1,
            AttemptOutcome::Transient,
            Some(failure),
        )
        .await;
        Ok(Step::Retried)
    }

    fn actor(&self) -> String {
        format!("worker:{}", self.inner.worker_id)
    }

    async fn fail_now(
        &self,
        post: &PostRecord,
        why: String,
        started: (i64, Duration),
    ) -> Result<Step, PublishError> {
        let f = CallFailure::NotApplied {
            transient: false,
            quota: false,
            code: None,
            subcode: None,
            fbtrace_id: None,
            message: why,
            retry_after: None,
        };
        self.not_applied(post, &f, started, false).await
    }

    async fn process(&self, post: PostRecord) -> Result<Step, PublishError> {
        let started = (self.now_ms(), self.inner.clock.elapsed());
        let Some(account) = self.inner.accounts.get_account(&post.account_id).await? else {
            return self
                .fail_now(
                    &post,
                    format!("account {} no longer exists", post.account_id),
                    started,
                )
                .await;
        };
        let Some(tenant) = self.inner.accounts.get_tenant(&account.tenant_id).await? else {
            return self
                .fail_now(
                    &post,
                    format!("tenant {} no longer exists", account.tenant_id),
                    started,
                )
                .await;
        };
        let content = match Content::from_payload(&post.payload) {
            Ok(c) => c,
            Err(e) => return self.fail_now(&post, e.to_string(), started).await,
        };
        let client = match self.inner.clients.client_for(&account).await {
            Ok(c) => c,
            Err(reason) => {
                let f = CallFailure::NotApplied {
                    transient: true,
                    quota: false,
                    code: None,
                    subcode: None,
                    fbtrace_id: None,
                    message: format!("no usable connection: {reason}"),
                    retry_after: None,
                };
                return self.not_applied(&post, &f, started, false).await;
            }
        };

        // Governance at claim time, with the network checks (IG quota).
        let observed = self.observe(&account, Some(&client), true).await?;
        let cfg = &self.inner.config.governance;
        if let Decision::Defer { until, reason } =
            evaluate(&account, &tenant, started.0, &observed, cfg)
        {
            return self
                .defer(&post, Event::Defer, until, reason.to_string(), started)
                .await;
        }

        // Prepare media (safe to redo).
        let post = match self.prepare(post, &account, &content, &client).await {
            Ok(p) => p,
            Err((p, failure)) => return self.not_applied(&p, &failure, started, false).await,
        };

        // Governance again (preparing may have taken a while), from the store only.
        let observed = Observed {
            ig_quota_remaining: None,
            ..self.observe(&account, Some(&client), false).await?
        };
        let now = self.now_ms();
        if let Decision::Defer { until, reason } = evaluate(&account, &tenant, now, &observed, cfg)
        {
            return self
                .defer(&post, Event::Defer, until, reason.to_string(), started)
                .await;
        }

        // Arm: the last write before the irreversible call.
        let lease_until = now.saturating_add(dur_ms(self.inner.config.lease));
        let armed = self
            .apply(&post, Event::Arm, &self.actor(), None, |p| {
                p.armed_at = Some(now);
                p.attempts += 1;
                p.not_before = None;
                p.blocked_reason = None;
                p.next_attempt_at = None;
                p.lease_until = Some(lease_until);
            })
            .await?;

        // Verify after arming: every armed or published post of the account is visible
        // now, so two workers racing on one account cannot both pass.
        if let Some(reason) = self.contention(&account, now).await? {
            let until = now.saturating_add(dur_ms(self.inner.config.contention_backoff));
            // The arm did not lead to a call: it is not an attempt.
            let attempts = armed.attempts.saturating_sub(1);
            let next = self.save(&armed, |p| p.attempts = attempts).await?;
            return self
                .defer(&next, Event::Disarm, until, reason, started)
                .await;
        }

        if self.inner.halt_after_arming.load(Ordering::SeqCst) {
            return Ok(Step::Halted);
        }

        // The one irreversible call.
        let result = self.publish_call(&armed, &account, &content, &client).await;
        let now = self.now_ms();
        match result {
            Ok(published_id) => {
                let next = self
                    .apply(&armed, Event::Confirm, &self.actor(), None, |p| {
                        p.published_id = published_id;
                        p.published_at = Some(now);
                        p.last_error = None;
                        p.lease_owner = None;
                        p.lease_until = None;
                    })
                    .await?;
                self.record(&next, started.0, started.1, AttemptOutcome::Published, None)
                    .await;
                Ok(Step::Published)
            }
            Err(failure @ CallFailure::NotApplied { .. }) => {
                self.not_applied(&armed, &failure, started, true).await
            }
            Err(failure @ CallFailure::Unclear { .. }) => {
                let CallFailure::Unclear { message } = &failure else {
                    return Ok(Step::Conflict);
                };
                let why = format!("outcome unknown, check before reposting: {message}");
                let next = self
                    .apply(
                        &armed,
                        Event::LoseTrack,
                        &self.actor(),
                        Some(why.clone()),
                        |p| {
                            p.last_error = Some(why.clone());
                            p.lease_owner = None;
                            p.lease_until = None;
                        },
                    )
                    .await?;
                self.record(
                    &next,
                    started.0,
                    started.1,
                    AttemptOutcome::Unconfirmed,
                    Some(&failure),
                )
                .await;
                Ok(Step::Unconfirmed)
            }
        }
    }

    /// After arming a post at `now`: another armed or published post of the account
    /// inside the minimum gap, or over the day's cap, means a concurrent worker got
    /// there too; the reason is returned and this one backs off.
    async fn contention(
        &self,
        account: &Account,
        now: i64,
    ) -> Result<Option<String>, PublishError> {
        let g = &account.governance;
        let posts = &self.inner.posts;
        if g.min_gap_secs > 0 {
            let gap = i64::try_from(g.min_gap_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
            let n = posts
                .published_count_between(
                    &account.id,
                    now.saturating_sub(gap).saturating_add(1),
                    now.saturating_add(gap),
                )
                .await?;
            if n > 1 {
                return Ok(Some(format!(
                    "another post of the account went out within {}s",
                    g.min_gap_secs
                )));
            }
        }
        if g.daily_cap > 0
            && let Ok(tz) = governance::parse_tz(&account.timezone)
        {
            let (from, to) = governance::local_day_bounds(tz, now);
            let n = posts.published_count_between(&account.id, from, to).await?;
            if n > g.daily_cap {
                return Ok(Some(format!(
                    "daily cap of {} reached by a concurrent post",
                    g.daily_cap
                )));
            }
        }
        Ok(None)
    }

    /// Prepares media; returns the post in `Ready` (container or photo ids stored), or
    /// the post as it stands with the failure (nothing was published).
    async fn prepare(
        &self,
        post: PostRecord,
        account: &Account,
        content: &Content,
        client: &Client,
    ) -> Result<PostRecord, (PostRecord, CallFailure)> {
        let mut post = if post.state == PostState::Scheduled {
            match self
                .apply(&post, Event::Prepare, &self.actor(), None, |p| {
                    p.blocked_reason = None;
                    p.not_before = None;
                })
                .await
            {
                Ok(p) => p,
                Err(e) => return Err((post, store_failure(&e))),
            }
        } else {
            post
        };
        if post.state == PostState::Ready {
            return Ok(post);
        }
        let media: Result<Option<String>, crate::Error> = match content {
            Content::FbPhoto { url, .. } => {
                self.upload_photos(&post, account, std::slice::from_ref(url), client)
                    .await
            }
            Content::FbMultiPhoto { urls, .. } => {
                self.upload_photos(&post, account, urls, client).await
            }
            Content::IgImage { .. }
            | Content::IgReel { .. }
            | Content::IgStory { .. }
            | Content::IgCarousel { .. } => {
                self.ig_container(&mut post, account, content, client).await
            }
            Content::FbText { .. } | Content::FbLink { .. } | Content::FbVideo { .. } => Ok(None),
        };
        match media {
            Ok(container) => {
                let reason = container.as_ref().map(|c| format!("media ready: {c}"));
                match self
                    .apply(&post, Event::MediaReady, &self.actor(), reason, |p| {
                        if container.is_some() {
                            p.container_id = container.clone();
                        }
                    })
                    .await
                {
                    Ok(p) => Ok(p),
                    Err(e) => Err((post, store_failure(&e))),
                }
            }
            Err(e) => {
                let mut failure = classify(&e);
                // Before the irreversible call nothing is published, whatever the
                // transport says: an unclear answer is a retry here.
                if let CallFailure::Unclear { message } = failure {
                    failure = CallFailure::NotApplied {
                        transient: true,
                        quota: false,
                        code: None,
                        subcode: None,
                        fbtrace_id: None,
                        message,
                        retry_after: None,
                    };
                }
                // A failed container is not reused.
                let post = if matches!(e, crate::Error::Container(_)) {
                    match self.save(&post, |p| p.container_id = None).await {
                        Ok(p) => p,
                        Err(se) => return Err((post, store_failure(&se))),
                    }
                } else {
                    post
                };
                Err((post, failure))
            }
        }
    }

    async fn upload_photos(
        &self,
        post: &PostRecord,
        account: &Account,
        urls: &[String],
        client: &Client,
    ) -> Result<Option<String>, crate::Error> {
        if let Some(ids) = &post.container_id {
            return Ok(Some(ids.clone()));
        }
        let page = PageId::new(account.meta_id.clone());
        let mut ids = Vec::with_capacity(urls.len());
        for url in urls {
            // Unpublished uploads create no story: redoing them is harmless.
            let posted = client
                .pages()
                .photo(&page, PhotoSource::url(url.clone()))
                .published(false)
                .send()
                .await?;
            ids.push(posted.id.as_str().to_owned());
        }
        Ok(Some(ids.join(",")))
    }

    async fn ig_container(
        &self,
        post: &mut PostRecord,
        account: &Account,
        content: &Content,
        client: &Client,
    ) -> Result<Option<String>, crate::Error> {
        let ig = client.instagram();
        if let Some(id) = &post.container_id {
            let cid = IgContainerId::new(id.clone());
            match ig.container_status(&cid).await?.code() {
                IgContainerStatusCode::Finished => return Ok(Some(id.clone())),
                IgContainerStatusCode::Error | IgContainerStatusCode::Expired => {}
                IgContainerStatusCode::Published => {
                    return Err(InvalidInput::new(
                        "container_id",
                        format!("container {id} is already published; check the account"),
                    )
                    .into());
                }
                _ => {
                    ig.wait_until_finished(&cid).await?;
                    return Ok(Some(id.clone()));
                }
            }
        }
        let user = IgUserId::new(account.meta_id.clone());
        let builder: NewContainer = match content {
            Content::IgImage { url, caption } => {
                let b = ig.image(&user, url.clone());
                match caption {
                    Some(c) => b.caption(c.clone()),
                    None => b,
                }
            }
            Content::IgReel {
                url,
                caption,
                share_to_feed,
            } => {
                let b = ig.reel(&user, url.clone()).share_to_feed(*share_to_feed);
                match caption {
                    Some(c) => b.caption(c.clone()),
                    None => b,
                }
            }
            Content::IgStory { url, video } => {
                if *video {
                    ig.story_video(&user, url.clone())
                } else {
                    ig.story_image(&user, url.clone())
                }
            }
            Content::IgCarousel { items, caption } => {
                let mut b = ig.carousel(&user);
                for item in items {
                    b = b.item(if item.video {
                        CarouselItem::Video(item.url.clone())
                    } else {
                        CarouselItem::Image(item.url.clone())
                    });
                }
                match caption {
                    Some(c) => b.caption(c.clone()),
                    None => b,
                }
            }
            _ => {
                return Err(InvalidInput::new("kind", "not instagram content").into());
            }
        };
        let container = builder.create().await?;
        // Saved before waiting, so a retry after a crash or a timeout reuses it.
        match self
            .save(post, |p| {
                p.container_id = Some(container.as_str().to_owned())
            })
            .await
        {
            Ok(saved) => *post = saved,
            Err(e) => {
                return Err(crate::Error::Meta(meta_core::Error::config(format!(
                    "could not save container {}: {e}",
                    container.as_str()
                ))));
            }
        }
        ig.wait_until_finished(&container).await?;
        Ok(Some(container.as_str().to_owned()))
    }

    /// The one irreversible call. `Ok(Some(id))` = published with Meta's id.
    async fn publish_call(
        &self,
        armed: &PostRecord,
        account: &Account,
        content: &Content,
        client: &Client,
    ) -> Result<Option<String>, CallFailure> {
        let page = PageId::new(account.meta_id.clone());
        let result: Result<Option<String>, crate::Error> = match content {
            Content::FbText { message } => client
                .pages()
                .post(&page)
                .message(message.clone())
                .send()
                .await
                .map(|id| Some(id.as_str().to_owned())),
            Content::FbLink { link, message } => {
                let mut b = client.pages().post(&page).link(link.clone());
                if let Some(m) = message {
                    b = b.message(m.clone());
                }
                b.send().await.map(|id| Some(id.as_str().to_owned()))
            }
            Content::FbPhoto { message, .. } | Content::FbMultiPhoto { message, .. } => {
                let photos: Vec<PhotoId> = armed
                    .container_id
                    .as_deref()
                    .unwrap_or_default()
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| PhotoId::new(s.to_owned()))
                    .collect();
                let mut b = client.pages().post(&page).attached_media(photos);
                if let Some(m) = message {
                    b = b.message(m.clone());
                }
                b.send().await.map(|id| Some(id.as_str().to_owned()))
            }
            Content::FbVideo {
                url,
                title,
                description,
            } => {
                let mut b = client.pages().video_from_url(&page, url.clone());
                if let Some(t) = title {
                    b = b.title(t.clone());
                }
                if let Some(d) = description {
                    b = b.description(d.clone());
                }
                b.send().await.map(|id| Some(id.as_str().to_owned()))
            }
            _ => {
                let Some(container) = armed.container_id.clone() else {
                    return Err(CallFailure::NotApplied {
                        transient: true,
                        quota: false,
                        code: None,
                        subcode: None,
                        fbtrace_id: None,
                        message: "no prepared container".to_owned(),
                        retry_after: None,
                    });
                };
                let user = IgUserId::new(account.meta_id.clone());
                match client
                    .instagram()
                    .publish_container(&user, &IgContainerId::new(container))
                    .await
                {
                    Ok(PublishOutcome::Published { media_id }) => {
                        Ok(Some(media_id.as_str().to_owned()))
                    }
                    Ok(PublishOutcome::Unconfirmed { cause, .. }) => {
                        return Err(CallFailure::Unclear {
                            message: cause.to_string(),
                        });
                    }
                    // Published, but Meta's answer (and so the media id) was lost.
                    Ok(_) => Ok(None),
                    Err(e) => Err(e),
                }
            }
        };
        result.map_err(|e| classify(&e))
    }

    // -----------------------------------------------------------------------------
    // Reconciliation
    // -----------------------------------------------------------------------------

    /// Settles armed posts whose worker is gone (lease expired, or this worker's own
    /// from before a restart): an IG container that is `PUBLISHED` → `Published`;
    /// anything else → `Unconfirmed` for a person to check. Nothing is re-sent.
    ///
    /// # Errors
    /// Store failures. A failed status read leaves the post armed for next time.
    pub async fn reconcile(&self) -> Result<ReconcileReport, PublishError> {
        let now = self.now_ms();
        let me = self.inner.worker_id.as_str();
        let mut report = ReconcileReport::default();
        for post in self.inner.posts.armed(None).await? {
            let orphaned = post.lease_owner.as_deref() == Some(me) || !post.lease_live(now);
            if !orphaned {
                continue;
            }
            report.examined += 1;
            let started = (now, self.inner.clock.elapsed());
            match self.reconcile_one(&post).await {
                Ok(Some(true)) => {
                    let next = self
                        .apply(
                            &post,
                            Event::Confirm,
                            &self.actor(),
                            Some("reconciled: container PUBLISHED".to_owned()),
                            |p| {
                                p.published_at = p.armed_at.or(Some(now));
                                p.lease_owner = None;
                                p.lease_until = None;
                            },
                        )
                        .await;
                    match next {
                        Ok(next) => {
                            self.record(
                                &next,
                                started.0,
                                started.1,
                                AttemptOutcome::Published,
                                None,
                            )
                            .await;
                            report.published += 1;
                        }
                        Err(PublishError::Conflict(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(Some(false)) | Ok(None) => {
                    let why = if post.kind.platform() == Platform::Instagram {
                        "reconciled after a restart: the container is not PUBLISHED; check the account before reposting"
                    } else {
                        "reconciled after a restart: the feed call may or may not have gone out; check the Page before reposting"
                    };
                    let next = self
                        .apply(
                            &post,
                            Event::LoseTrack,
                            &self.actor(),
                            Some(why.to_owned()),
                            |p| {
                                p.last_error = Some(why.to_owned());
                                p.lease_owner = None;
                                p.lease_until = None;
                            },
                        )
                        .await;
                    match next {
                        Ok(next) => {
                            let f = CallFailure::Unclear {
                                message: why.to_owned(),
                            };
                            self.record(
                                &next,
                                started.0,
                                started.1,
                                AttemptOutcome::Unconfirmed,
                                Some(&f),
                            )
                            .await;
                            report.unconfirmed += 1;
                        }
                        Err(PublishError::Conflict(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
                Err(e) => {
                    tracing::warn!(post = %post.id, error = %e, "reconciliation check failed");
                    report.errors += 1;
                }
            }
        }
        Ok(report)
    }

    /// `Some(true)` = known published, `Some(false)` = not known published, `None` =
    /// no way to check (Facebook).
    async fn reconcile_one(&self, post: &PostRecord) -> Result<Option<bool>, PublishError> {
        if post.kind.platform() != Platform::Instagram {
            return Ok(None);
        }
        let Some(container) = &post.container_id else {
            return Ok(Some(false));
        };
        let account = self.account(&post.account_id).await?;
        let client = self
            .inner
            .clients
            .client_for(&account)
            .await
            .map_err(|reason| PublishError::NoClient {
                account: account.id.clone(),
                reason,
            })?;
        let status = client
            .instagram()
            .container_status(&IgContainerId::new(container.clone()))
            .await?;
        Ok(Some(status.code() == IgContainerStatusCode::Published))
    }

    // -----------------------------------------------------------------------------
    // Best times
    // -----------------------------------------------------------------------------

    /// Ranks the account's weekly hour slots (7 × 24, in its time zone) from the
    /// performance of its published posts (`metric`, default `post_media_view` on
    /// Facebook and `views` on Instagram) and, where Meta provides it, its audience's
    /// online hours (`page_fans_online` / `online_followers`). Posts whose metric is
    /// missing are left out (missing is not zero).
    ///
    /// # Errors
    /// [`PublishError::UnknownAccount`], [`PublishError::NoClient`]; store failures.
    pub async fn best_times(
        &self,
        account_id: &str,
        metric: Option<&str>,
    ) -> Result<Vec<SlotRank>, PublishError> {
        let account = self.account(account_id).await?;
        let client = self
            .inner
            .clients
            .client_for(&account)
            .await
            .map_err(|reason| PublishError::NoClient {
                account: account.id.clone(),
                reason,
            })?;
        let posts = self
            .inner
            .posts
            .list_posts(&PostFilter {
                account_id: Some(account.id.clone()),
                states: vec![PostState::Published],
                ..PostFilter::default()
            })
            .await?;
        let perf = best_times::fetch_performance(&client, &account, &posts, metric).await;
        let audience = best_times::fetch_audience(&client, &account).await;
        let tz = governance::parse_tz(&account.timezone).map_err(|name| {
            PublishError::Invalid(InvalidInput::new(
                "timezone",
                format!("unknown time zone {name:?}"),
            ))
        })?;
        Ok(rank_slots(tz, &perf, &audience))
    }
}

fn store_failure(e: &PublishError) -> CallFailure {
    CallFailure::NotApplied {
        transient: true,
        quota: false,
        code: None,
        subcode: None,
        fbtrace_id: None,
        message: e.to_string(),
        retry_after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_transient(f: &CallFailure) -> Option<bool> {
        match f {
            CallFailure::NotApplied { transient, .. } => Some(*transient),
            CallFailure::Unclear { .. } => None,
        }
    }

    #[test]
    fn container_failures_before_publish_are_classified_by_status() {
        let err = |code: &str| {
            crate::Error::Container(crate::ContainerFailure::new(
                "17",
                code,
                Some("Error: 2207052".into()),
                None,
            ))
        };
        // Meta rejected the media: retrying the same media cannot help.
        assert_eq!(is_transient(&classify(&err("ERROR"))), Some(false));
        // Expired containers and polling deadlines get a fresh container later.
        assert_eq!(is_transient(&classify(&err("EXPIRED"))), Some(true));
        assert_eq!(is_transient(&classify(&err("TIMEOUT"))), Some(true));
    }
}
