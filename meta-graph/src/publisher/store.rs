// PORTS-STABLE
//! The publisher's storage ports — [`AccountStore`] (tenants and the Meta accounts they
//! publish to) and [`PublisherStore`] (posts, their audit trail and the publish-attempt
//! log) — with the records they carry and in-memory implementations
//! ([`MemoryAccountStore`], [`MemoryPublisherStore`]) for tests and single-process
//! tools.
//!
//! Rows keep times as unix milliseconds (`i64`) so every backend stores them the same
//! way; [`crate::store::to_ms`] / [`crate::store::from_ms`] convert. States, kinds and
//! platforms are stored as the stable snake_case strings of their `as_str`, read back
//! with `parse`.
//!
//! The contract every implementation honours (and `meta_graph::testing` checks):
//! - [`PublisherStore::insert_post`] and [`PublisherStore::update_post`] write the post
//!   and its audit row in one transaction; `update_post` is an optimistic lock
//!   (`… WHERE id = ? AND version = ?`, nothing updated → [`StoreError::Conflict`]).
//! - The audit trail is append-only: no method updates or deletes an audit row, and
//!   deleting a post keeps its trail.
//! - [`PublisherStore::claim_due`] hands each due post to exactly one worker while its
//!   lease is live (PostgreSQL `FOR UPDATE SKIP LOCKED`, SQLite one writer).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::store::{StoreError, StoreFuture};

// ---------------------------------------------------------------------------------
// Names stored as text
// ---------------------------------------------------------------------------------

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vm])* $v,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            /// The stable snake_case name stored in rows.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$v => $s,)+
                }
            }

            /// The value named `s` (as written by [`as_str`](Self::as_str)).
            ///
            /// # Errors
            /// [`StoreError::Invalid`] for an unknown name.
            pub fn parse(s: &str) -> Result<Self, StoreError> {
                match s {
                    $($s => Ok($name::$v),)+
                    other => Err(StoreError::Invalid(format!(
                        concat!("unknown ", stringify!($name), " {:?}"),
                        other
                    ))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = StoreError;
            fn from_str(s: &str) -> Result<Self, StoreError> {
                $name::parse(s)
            }
        }
    };
}

text_enum! {
    /// Where an account lives at Meta.
    Platform {
        /// A Facebook Page.
        Facebook => "facebook",
        /// An Instagram professional account.
        Instagram => "instagram",
        /// An ad account (`act_…`); not a publishing target, kept for the connection list.
        AdAccount => "ad_account",
    }
}

text_enum! {
    /// Where a post stands. The moves between states are the publisher's one transition
    /// table (`meta_graph::publisher::transition`).
    PostState {
        /// Being written.
        Draft => "draft",
        /// Submitted, waiting for an approver.
        PendingApproval => "pending_approval",
        /// Approved, not yet given a time.
        Approved => "approved",
        /// The approver asked for changes; the author edits and resubmits.
        ChangesRequested => "changes_requested",
        /// Refused for good.
        Rejected => "rejected",
        /// Waiting for its time (and governance's next allowed slot).
        Scheduled => "scheduled",
        /// Media being prepared (containers, unpublished uploads: safe to redo).
        Preparing => "preparing",
        /// Media ready (container `FINISHED`); the publish call is next.
        Ready => "ready",
        /// Armed: the one irreversible call is being (or was) made. Never re-sent
        /// blindly; reconciled on restart.
        Publishing => "publishing",
        /// Live at Meta (`published_id` set).
        Published => "published",
        /// Meta refused it for good (`last_error` says why).
        Failed => "failed",
        /// The outcome of the irreversible call is unknown: a person must check before
        /// reposting.
        Unconfirmed => "unconfirmed",
    }
}

text_enum! {
    /// What kind of post, and so which platform call publishes it.
    PostKind {
        /// A Page feed post with a message.
        FbText => "fb_text",
        /// A Page feed post with a link.
        FbLink => "fb_link",
        /// One photo on a Page.
        FbPhoto => "fb_photo",
        /// A feed post with several photos.
        FbMultiPhoto => "fb_multi_photo",
        /// A Page video.
        FbVideo => "fb_video",
        /// An Instagram image.
        IgImage => "ig_image",
        /// An Instagram reel.
        IgReel => "ig_reel",
        /// An Instagram story.
        IgStory => "ig_story",
        /// An Instagram carousel (2–10 children).
        IgCarousel => "ig_carousel",
    }
}

text_enum! {
    /// How one publish attempt ended.
    AttemptOutcome {
        /// Published.
        Published => "published",
        /// Failed in a way worth retrying (before the irreversible call, or Meta said it
        /// was not applied).
        Transient => "transient",
        /// Refused for good.
        Failed => "failed",
        /// Outcome unknown after the irreversible call.
        Unconfirmed => "unconfirmed",
        /// Governance deferred it.
        Blocked => "blocked",
    }
}

impl PostState {
    /// Whether the post may be edited or deleted in this state. `Publishing` and
    /// `Published` are protected (so are the other states where Meta may hold it).
    #[must_use]
    pub fn is_editable(self) -> bool {
        !matches!(
            self,
            PostState::Publishing | PostState::Published | PostState::Unconfirmed
        )
    }
    /// Whether a worker may claim a post in this state.
    #[must_use]
    pub fn is_claimable(self) -> bool {
        matches!(
            self,
            PostState::Scheduled | PostState::Preparing | PostState::Ready
        )
    }
    /// Whether the post is done (nothing more will happen without a person).
    #[must_use]
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            PostState::Published | PostState::Failed | PostState::Rejected | PostState::Unconfirmed
        )
    }
    /// Whether governance counts the post as published (or possibly published) for its
    /// account: `Publishing`, `Published` and `Unconfirmed`.
    #[must_use]
    pub fn counts_for_governance(self) -> bool {
        matches!(
            self,
            PostState::Publishing | PostState::Published | PostState::Unconfirmed
        )
    }
}

impl PostKind {
    /// The platform that publishes this kind.
    #[must_use]
    pub fn platform(self) -> Platform {
        match self {
            PostKind::FbText
            | PostKind::FbLink
            | PostKind::FbPhoto
            | PostKind::FbMultiPhoto
            | PostKind::FbVideo => Platform::Facebook,
            PostKind::IgImage | PostKind::IgReel | PostKind::IgStory | PostKind::IgCarousel => {
                Platform::Instagram
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------

/// A tenant: a business, or one client of an agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// Id (from the [`IdGenerator`](crate::store::IdGenerator)).
    pub id: String,
    /// Display name.
    pub name: String,
    /// When on, nothing is published for any of the tenant's accounts.
    pub kill_switch: bool,
    /// Unix ms.
    pub created_at: i64,
}

/// Per-account publishing limits, checked when a post is claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GovernanceSettings {
    /// Most posts per calendar day in the account's time zone; 0 = no cap.
    pub daily_cap: u32,
    /// Least time between two posts of the account, seconds; 0 = none.
    pub min_gap_secs: u64,
    /// Quiet hours start, minutes after local midnight (0–1439); with
    /// `quiet_end_minute`, nothing is published in `[start, end)` (wrapping past
    /// midnight when end < start).
    pub quiet_start_minute: Option<u16>,
    /// Quiet hours end, minutes after local midnight (0–1439).
    pub quiet_end_minute: Option<u16>,
}

/// Who may approve an account's posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ApprovalSettings {
    /// Submitted posts are approved at once (the audit trail says so).
    pub auto_approve: bool,
    /// The author may approve their own post.
    pub allow_self_approval: bool,
}

/// A Meta account a tenant publishes to (or, for ad accounts, manages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Id.
    pub id: String,
    /// The owning tenant.
    pub tenant_id: String,
    /// Facebook Page, Instagram account or ad account.
    pub platform: Platform,
    /// Meta's id: the Page id, the IG user id, or `act_…`. Unique per
    /// (tenant, platform).
    pub meta_id: String,
    /// Display name.
    pub name: String,
    /// The lifecycle [`ConnectionId`](crate::lifecycle::ConnectionId) whose token
    /// publishes for it.
    pub connection_id: String,
    /// IANA time zone, e.g. `America/Santiago`: days and quiet hours are local.
    pub timezone: String,
    /// Publishing limits.
    pub governance: GovernanceSettings,
    /// Approval rules.
    pub approval: ApprovalSettings,
    /// When on, nothing is published for this account.
    pub kill_switch: bool,
    /// Unix ms.
    pub created_at: i64,
}

/// One post: one account's variant of a piece of content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostRecord {
    /// Id.
    pub id: String,
    /// Groups the per-account variants of one piece of content.
    pub content_id: String,
    /// The tenant.
    pub tenant_id: String,
    /// The account it publishes to.
    pub account_id: String,
    /// What kind of post.
    pub kind: PostKind,
    /// The platform request (message or caption, link, media URLs, …) as JSON; see
    /// `meta_graph::publisher::Content`.
    pub payload: serde_json::Value,
    /// Where it stands.
    pub state: PostState,
    /// Who wrote it.
    pub author: String,
    /// Who approved it (or `auto`).
    pub approver: Option<String>,
    /// Unix ms it should go out at; `None` = as soon as allowed.
    pub scheduled_at: Option<i64>,
    /// Unix ms of the next slot governance allows (set when governance moved it).
    pub not_before: Option<i64>,
    /// Why governance moved it.
    pub blocked_reason: Option<String>,
    /// Publish attempts so far.
    pub attempts: u32,
    /// Unix ms of the next retry after a transient failure.
    pub next_attempt_at: Option<i64>,
    /// The worker holding it.
    pub lease_owner: Option<String>,
    /// Unix ms the lease ends.
    pub lease_until: Option<i64>,
    /// Unix ms it was armed (persisted right before the irreversible call).
    pub armed_at: Option<i64>,
    /// The prepared media: the IG container id, or the FB photo id(s) comma-separated.
    pub container_id: Option<String>,
    /// Meta's id of the published post or media.
    pub published_id: Option<String>,
    /// Unix ms it was published.
    pub published_at: Option<i64>,
    /// Meta's message (with code/subcode) of the last failure.
    pub last_error: Option<String>,
    /// Optimistic-lock version: every write bumps it by one.
    pub version: u64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

impl PostRecord {
    /// When the post is due: the latest of `scheduled_at`, `not_before` and
    /// `next_attempt_at` (unset ones ignored; all unset = due now, i.e. `i64::MIN`).
    #[must_use]
    pub fn due_at(&self) -> i64 {
        [self.scheduled_at, self.not_before, self.next_attempt_at]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(i64::MIN)
    }
    /// Whether a worker holds a live lease on it at `now_ms`.
    #[must_use]
    pub fn lease_live(&self, now_ms: i64) -> bool {
        self.lease_owner.is_some() && self.lease_until.is_some_and(|u| u > now_ms)
    }
    /// The time governance counts it at: `published_at`, else `armed_at`.
    #[must_use]
    pub fn activity_at(&self) -> Option<i64> {
        self.published_at.or(self.armed_at)
    }
}

/// One row of a post's audit trail. Append-only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Id.
    pub id: String,
    /// The post.
    pub post_id: String,
    /// Unix ms.
    pub at: i64,
    /// Who: a user, `auto`, `governance`, or `worker:<id>`.
    pub actor: String,
    /// The state before (`None` on creation).
    pub from: Option<PostState>,
    /// The state after.
    pub to: PostState,
    /// Why (the approver's comment, governance's reason, Meta's message).
    pub reason: Option<String>,
}

/// One publish attempt, for the attempt log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishAttempt {
    /// Id.
    pub id: String,
    /// The post.
    pub post_id: String,
    /// Its account.
    pub account_id: String,
    /// Unix ms.
    pub started_at: i64,
    /// Unix ms.
    pub finished_at: i64,
    /// How it ended.
    pub outcome: AttemptOutcome,
    /// Meta's error code.
    pub code: Option<i64>,
    /// Meta's error subcode.
    pub subcode: Option<i64>,
    /// Meta's `fbtrace_id`.
    pub fbtrace_id: Option<String>,
    /// Meta's message, or governance's reason.
    pub message: Option<String>,
    /// How long it took, ms.
    pub duration_ms: u64,
}

/// Which posts [`PublisherStore::list_posts`] returns. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostFilter {
    /// Only this tenant's.
    pub tenant_id: Option<String>,
    /// Only this account's.
    pub account_id: Option<String>,
    /// Only posts in one of these states (empty = any).
    pub states: Vec<PostState>,
    /// Only the variants of this content.
    pub content_id: Option<String>,
    /// At most this many.
    pub limit: Option<u32>,
}

impl PostFilter {
    /// Whether `post` matches (the limit aside).
    #[must_use]
    pub fn matches(&self, post: &PostRecord) -> bool {
        self.tenant_id.as_ref().is_none_or(|t| *t == post.tenant_id)
            && self
                .account_id
                .as_ref()
                .is_none_or(|a| *a == post.account_id)
            && (self.states.is_empty() || self.states.contains(&post.state))
            && self
                .content_id
                .as_ref()
                .is_none_or(|c| *c == post.content_id)
    }
}

/// Retention of the publish-attempt log by default: 90 days, in ms.
pub const DEFAULT_ATTEMPT_RETENTION_MS: i64 = 90 * 86_400 * 1000;

// ---------------------------------------------------------------------------------
// Ports
// ---------------------------------------------------------------------------------

/// Tenants and the Meta accounts they publish to.
pub trait AccountStore: Send + Sync + fmt::Debug {
    /// Inserts or updates (by id) a tenant.
    fn put_tenant<'a>(&'a self, tenant: &'a Tenant) -> StoreFuture<'a, ()>;
    /// The tenant with `id`.
    fn get_tenant<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Tenant>>;
    /// Every tenant, ordered by id.
    fn list_tenants(&self) -> StoreFuture<'_, Vec<Tenant>>;
    /// Turns the tenant's kill switch on or off. [`StoreError::NotFound`] for an unknown
    /// tenant.
    fn set_tenant_kill_switch<'a>(&'a self, id: &'a str, on: bool) -> StoreFuture<'a, ()>;
    /// Inserts or updates (by id) an account. (tenant_id, platform, meta_id) is unique:
    /// another account with the same triple → [`StoreError::Conflict`].
    fn put_account<'a>(&'a self, account: &'a Account) -> StoreFuture<'a, ()>;
    /// The account with `id`.
    fn get_account<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Account>>;
    /// The accounts of `tenant_id` (or all), ordered by id.
    fn list_accounts<'a>(&'a self, tenant_id: Option<&'a str>) -> StoreFuture<'a, Vec<Account>>;
    /// Turns the account's kill switch on or off. [`StoreError::NotFound`] for an unknown
    /// account.
    fn set_account_kill_switch<'a>(&'a self, id: &'a str, on: bool) -> StoreFuture<'a, ()>;
}

/// Posts, their audit trail and the publish-attempt log.
pub trait PublisherStore: Send + Sync + fmt::Debug {
    /// Inserts a new post and its first audit row in one transaction. An existing id →
    /// [`StoreError::Conflict`].
    fn insert_post<'a>(
        &'a self,
        post: &'a PostRecord,
        audit: &'a AuditEntry,
    ) -> StoreFuture<'a, ()>;

    /// The post with `id`.
    fn get_post<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<PostRecord>>;

    /// The posts matching `filter`, ordered by (`created_at`, `id`).
    fn list_posts<'a>(&'a self, filter: &'a PostFilter) -> StoreFuture<'a, Vec<PostRecord>>;

    /// Replaces the post (all fields but `id` and `created_at`) if its stored version is
    /// still `expected_version`, and appends `audit` in the same transaction. The caller
    /// sets `post.version = expected_version + 1`. No row with that id and version →
    /// [`StoreError::Conflict`] (and no audit row is written).
    fn update_post<'a>(
        &'a self,
        post: &'a PostRecord,
        expected_version: u64,
        audit: Option<&'a AuditEntry>,
    ) -> StoreFuture<'a, ()>;

    /// Deletes the post if its version is still `expected_version`, appending `audit`
    /// in the same transaction; the audit trail stays. Version mismatch or no row →
    /// [`StoreError::Conflict`]. (Whether the state allows deleting is the publisher's
    /// check.)
    fn delete_post<'a>(
        &'a self,
        id: &'a str,
        expected_version: u64,
        audit: &'a AuditEntry,
    ) -> StoreFuture<'a, ()>;

    /// Atomically claims up to `limit` due posts for `worker_id`: state `Scheduled`,
    /// `Preparing` or `Ready`, [`due_at`](PostRecord::due_at) `<= now_ms`, lease free or
    /// expired (`lease_until <= now_ms`). Sets `lease_owner = worker_id`,
    /// `lease_until = now_ms + lease_ms`, bumps `version` and `updated_at = now_ms`, and
    /// returns the updated rows ordered by due time, then id. Concurrent callers never
    /// get the same post while its lease is live.
    fn claim_due<'a>(
        &'a self,
        now_ms: i64,
        worker_id: &'a str,
        lease_ms: i64,
        limit: u32,
    ) -> StoreFuture<'a, Vec<PostRecord>>;

    /// Clears the lease of post `id` if `worker_id` holds it (bumping the version);
    /// `false` when it did not.
    fn release_lease<'a>(&'a self, id: &'a str, worker_id: &'a str) -> StoreFuture<'a, bool>;

    /// The posts in state `Publishing` (armed), of `worker_id` only when given, ordered
    /// by `armed_at`, then id: what reconciliation looks at on restart.
    fn armed<'a>(&'a self, worker_id: Option<&'a str>) -> StoreFuture<'a, Vec<PostRecord>>;

    /// The post's audit trail ordered by `at`, then by insertion.
    fn audit_trail<'a>(&'a self, post_id: &'a str) -> StoreFuture<'a, Vec<AuditEntry>>;

    /// Appends a publish attempt.
    fn record_attempt<'a>(&'a self, attempt: &'a PublishAttempt) -> StoreFuture<'a, ()>;

    /// The post's attempts ordered by `started_at`, then by insertion.
    fn attempts<'a>(&'a self, post_id: &'a str) -> StoreFuture<'a, Vec<PublishAttempt>>;

    /// Deletes attempts that started before `older_than_ms`; returns how many.
    fn purge_attempts(&self, older_than_ms: i64) -> StoreFuture<'_, u64>;

    /// How many of the account's posts count for governance in `[from_ms, to_ms)`:
    /// state `Publishing`, `Published` or `Unconfirmed`, with
    /// [`activity_at`](PostRecord::activity_at) (`published_at`, else `armed_at`) in the
    /// range.
    fn published_count_between<'a>(
        &'a self,
        account_id: &'a str,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreFuture<'a, u32>;

    /// The latest [`activity_at`](PostRecord::activity_at) among the account's posts in
    /// state `Publishing`, `Published` or `Unconfirmed`.
    fn last_published_at<'a>(&'a self, account_id: &'a str) -> StoreFuture<'a, Option<i64>>;
}

// ---------------------------------------------------------------------------------
// In-memory implementations
// ---------------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Accounts {
    tenants: HashMap<String, Tenant>,
    accounts: HashMap<String, Account>,
}

/// An [`AccountStore`] in process memory.
#[derive(Debug, Default)]
pub struct MemoryAccountStore {
    inner: Mutex<Accounts>,
}

impl MemoryAccountStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
    fn with<T>(&self, f: impl FnOnce(&mut Accounts) -> T) -> T {
        // Each operation checks before it writes, so a panic cannot leave a half-made
        // change: a poisoned lock is taken over.
        let mut g = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut g)
    }
}

fn ready<'a, T: Send + 'a>(v: Result<T, StoreError>) -> StoreFuture<'a, T> {
    Box::pin(std::future::ready(v))
}

impl AccountStore for MemoryAccountStore {
    fn put_tenant<'a>(&'a self, tenant: &'a Tenant) -> StoreFuture<'a, ()> {
        self.with(|m| {
            let mut t = tenant.clone();
            if let Some(old) = m.tenants.get(&t.id) {
                t.created_at = old.created_at;
            }
            m.tenants.insert(t.id.clone(), t);
        });
        ready(Ok(()))
    }
    fn get_tenant<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Tenant>> {
        ready(Ok(self.with(|m| m.tenants.get(id).cloned())))
    }
    fn list_tenants(&self) -> StoreFuture<'_, Vec<Tenant>> {
        let mut v: Vec<Tenant> = self.with(|m| m.tenants.values().cloned().collect());
        v.sort_by(|a, b| a.id.cmp(&b.id));
        ready(Ok(v))
    }
    fn set_tenant_kill_switch<'a>(&'a self, id: &'a str, on: bool) -> StoreFuture<'a, ()> {
        ready(self.with(|m| match m.tenants.get_mut(id) {
            Some(t) => {
                t.kill_switch = on;
                Ok(())
            }
            None => Err(StoreError::NotFound(format!("tenant {id}"))),
        }))
    }
    fn put_account<'a>(&'a self, account: &'a Account) -> StoreFuture<'a, ()> {
        ready(self.with(|m| {
            let clash = m.accounts.values().any(|a| {
                a.id != account.id
                    && a.tenant_id == account.tenant_id
                    && a.platform == account.platform
                    && a.meta_id == account.meta_id
            });
            if clash {
                return Err(StoreError::Conflict(format!(
                    "tenant {} already has {} account {}",
                    account.tenant_id, account.platform, account.meta_id
                )));
            }
            let mut a = account.clone();
            if let Some(old) = m.accounts.get(&a.id) {
                a.created_at = old.created_at;
            }
            m.accounts.insert(a.id.clone(), a);
            Ok(())
        }))
    }
    fn get_account<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Account>> {
        ready(Ok(self.with(|m| m.accounts.get(id).cloned())))
    }
    fn list_accounts<'a>(&'a self, tenant_id: Option<&'a str>) -> StoreFuture<'a, Vec<Account>> {
        let mut v: Vec<Account> = self.with(|m| {
            m.accounts
                .values()
                .filter(|a| tenant_id.is_none_or(|t| a.tenant_id == t))
                .cloned()
                .collect()
        });
        v.sort_by(|a, b| a.id.cmp(&b.id));
        ready(Ok(v))
    }
    fn set_account_kill_switch<'a>(&'a self, id: &'a str, on: bool) -> StoreFuture<'a, ()> {
        ready(self.with(|m| match m.accounts.get_mut(id) {
            Some(a) => {
                a.kill_switch = on;
                Ok(())
            }
            None => Err(StoreError::NotFound(format!("account {id}"))),
        }))
    }
}

#[derive(Debug, Default)]
struct Posts {
    posts: HashMap<String, PostRecord>,
    /// Append-only, in insertion order.
    audit: Vec<AuditEntry>,
    /// In insertion order.
    attempts: Vec<PublishAttempt>,
}

/// A [`PublisherStore`] in process memory: one lock makes every method atomic, so it
/// honours the same claim exclusivity and optimistic locking as the SQL stores.
#[derive(Debug, Default)]
pub struct MemoryPublisherStore {
    inner: Mutex<Posts>,
}

impl MemoryPublisherStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
    fn with<T>(&self, f: impl FnOnce(&mut Posts) -> T) -> T {
        // Every method validates before mutating, so a poisoned lock holds consistent
        // data and is taken over.
        let mut g = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut g)
    }
}

fn sort_stable_by_at<T>(v: &mut [T], at: impl Fn(&T) -> i64) {
    // A stable sort keeps insertion order among equal times.
    v.sort_by_key(|x| at(x));
}

impl PublisherStore for MemoryPublisherStore {
    fn insert_post<'a>(
        &'a self,
        post: &'a PostRecord,
        audit: &'a AuditEntry,
    ) -> StoreFuture<'a, ()> {
        ready(self.with(|m| {
            if m.posts.contains_key(&post.id) {
                return Err(StoreError::Conflict(format!("post {} exists", post.id)));
            }
            m.posts.insert(post.id.clone(), post.clone());
            m.audit.push(audit.clone());
            Ok(())
        }))
    }

    fn get_post<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<PostRecord>> {
        ready(Ok(self.with(|m| m.posts.get(id).cloned())))
    }

    fn list_posts<'a>(&'a self, filter: &'a PostFilter) -> StoreFuture<'a, Vec<PostRecord>> {
        let mut v: Vec<PostRecord> = self.with(|m| {
            m.posts
                .values()
                .filter(|p| filter.matches(p))
                .cloned()
                .collect()
        });
        v.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        if let Some(limit) = filter.limit {
            v.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        }
        ready(Ok(v))
    }

    fn update_post<'a>(
        &'a self,
        post: &'a PostRecord,
        expected_version: u64,
        audit: Option<&'a AuditEntry>,
    ) -> StoreFuture<'a, ()> {
        ready(self.with(|m| {
            let Some(row) = m.posts.get_mut(&post.id) else {
                return Err(StoreError::Conflict(format!("post {} is gone", post.id)));
            };
            if row.version != expected_version {
                return Err(StoreError::Conflict(format!(
                    "post {} is at version {}, not {expected_version}",
                    post.id, row.version
                )));
            }
            let created_at = row.created_at;
            *row = post.clone();
            row.created_at = created_at;
            if let Some(a) = audit {
                m.audit.push(a.clone());
            }
            Ok(())
        }))
    }

    fn delete_post<'a>(
        &'a self,
        id: &'a str,
        expected_version: u64,
        audit: &'a AuditEntry,
    ) -> StoreFuture<'a, ()> {
        ready(self.with(|m| {
            match m.posts.get(id) {
                Some(p) if p.version == expected_version => {}
                Some(p) => {
                    return Err(StoreError::Conflict(format!(
                        "post {id} is at version {}, not {expected_version}",
                        p.version
                    )));
                }
                None => return Err(StoreError::Conflict(format!("post {id} is gone"))),
            }
            m.posts.remove(id);
            m.audit.push(audit.clone());
            Ok(())
        }))
    }

    fn claim_due<'a>(
        &'a self,
        now_ms: i64,
        worker_id: &'a str,
        lease_ms: i64,
        limit: u32,
    ) -> StoreFuture<'a, Vec<PostRecord>> {
        let claimed = self.with(|m| {
            let mut due: Vec<(i64, String)> = m
                .posts
                .values()
                .filter(|p| p.state.is_claimable() && p.due_at() <= now_ms && !p.lease_live(now_ms))
                .map(|p| (p.due_at(), p.id.clone()))
                .collect();
            due.sort();
            due.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            let mut out = Vec::with_capacity(due.len());
            for (_, id) in due {
                if let Some(p) = m.posts.get_mut(&id) {
                    p.lease_owner = Some(worker_id.to_owned());
                    p.lease_until = Some(now_ms.saturating_add(lease_ms));
                    p.version += 1;
                    p.updated_at = now_ms;
                    out.push(p.clone());
                }
            }
            out
        });
        ready(Ok(claimed))
    }

    fn release_lease<'a>(&'a self, id: &'a str, worker_id: &'a str) -> StoreFuture<'a, bool> {
        ready(Ok(self.with(|m| match m.posts.get_mut(id) {
            Some(p) if p.lease_owner.as_deref() == Some(worker_id) => {
                p.lease_owner = None;
                p.lease_until = None;
                p.version += 1;
                true
            }
            _ => false,
        })))
    }

    fn armed<'a>(&'a self, worker_id: Option<&'a str>) -> StoreFuture<'a, Vec<PostRecord>> {
        let mut v: Vec<PostRecord> = self.with(|m| {
            m.posts
                .values()
                .filter(|p| {
                    p.state == PostState::Publishing
                        && worker_id.is_none_or(|w| p.lease_owner.as_deref() == Some(w))
                })
                .cloned()
                .collect()
        });
        v.sort_by(|a, b| (a.armed_at, &a.id).cmp(&(b.armed_at, &b.id)));
        ready(Ok(v))
    }

    fn audit_trail<'a>(&'a self, post_id: &'a str) -> StoreFuture<'a, Vec<AuditEntry>> {
        let mut v: Vec<AuditEntry> = self.with(|m| {
            m.audit
                .iter()
                .filter(|a| a.post_id == post_id)
                .cloned()
                .collect()
        });
        sort_stable_by_at(&mut v, |a| a.at);
        ready(Ok(v))
    }

    fn record_attempt<'a>(&'a self, attempt: &'a PublishAttempt) -> StoreFuture<'a, ()> {
        ready(self.with(|m| {
            if m.attempts.iter().any(|a| a.id == attempt.id) {
                return Err(StoreError::Conflict(format!(
                    "attempt {} exists",
                    attempt.id
                )));
            }
            m.attempts.push(attempt.clone());
            Ok(())
        }))
    }

    fn attempts<'a>(&'a self, post_id: &'a str) -> StoreFuture<'a, Vec<PublishAttempt>> {
        let mut v: Vec<PublishAttempt> = self.with(|m| {
            m.attempts
                .iter()
                .filter(|a| a.post_id == post_id)
                .cloned()
                .collect()
        });
        sort_stable_by_at(&mut v, |a| a.started_at);
        ready(Ok(v))
    }

    fn purge_attempts(&self, older_than_ms: i64) -> StoreFuture<'_, u64> {
        let n = self.with(|m| {
            let before = m.attempts.len();
            m.attempts.retain(|a| a.started_at >= older_than_ms);
            (before - m.attempts.len()) as u64
        });
        ready(Ok(n))
    }

    fn published_count_between<'a>(
        &'a self,
        account_id: &'a str,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreFuture<'a, u32> {
        let n = self.with(|m| {
            m.posts
                .values()
                .filter(|p| {
                    p.account_id == account_id
                        && p.state.counts_for_governance()
                        && p.activity_at().is_some_and(|t| t >= from_ms && t < to_ms)
                })
                .count()
        });
        ready(Ok(u32::try_from(n).unwrap_or(u32::MAX)))
    }

    fn last_published_at<'a>(&'a self, account_id: &'a str) -> StoreFuture<'a, Option<i64>> {
        let t = self.with(|m| {
            m.posts
                .values()
                .filter(|p| p.account_id == account_id && p.state.counts_for_governance())
                .filter_map(PostRecord::activity_at)
                .max()
        });
        ready(Ok(t))
    }
}
