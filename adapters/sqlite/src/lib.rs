//! # meta-store-sqlite
//!
//! The embedded default store: **every meta-graph store port on one SQLite
//! database**, a file (WAL mode) or in memory. One process with this store is how the
//! project runs out of the box; when an application outgrows it, `meta-store-postgres`
//! implements the same ports for many instances on one database.
//!
//! | port | what it keeps | tables |
//! |---|---|---|
//! | [`TokenStore`](meta_graph::lifecycle::TokenStore) | token-lifecycle connections, tokens **sealed** by `TokenCipher` | `connections` |
//! | [`PolicyStore`](meta_graph::messenger::policy::PolicyStore) | the 24-hour window per (Page, person), the one private reply per comment | `policy_inbound`, `policy_private_replies` |
//! | [`AccountStore`](meta_graph::publisher::store::AccountStore) | tenants and their Meta accounts (governance, approval, kill switches) | `tenants`, `accounts` |
//! | [`PublisherStore`](meta_graph::publisher::store::PublisherStore) | posts, the append-only audit trail, the publish-attempt log | `posts`, `post_audit`, `publish_attempts` |
//! | [`CommerceStore`](meta_commerce::store::CommerceStore) | shops, catalogs with stock, lives, buyers, the comment inbox, orders, the waitlist, the outbox, the append-only audit log | `commerce_*` |
//!
//! Guarantees, each covered by a test (and by meta-graph's conformance suite, which
//! runs against both a file and an in-memory store):
//!
//! - **No plaintext tokens.** The store only ever receives `StoredConnection`s whose
//!   token is TokenCipher output; a test registers real tokens through the lifecycle
//!   manager and scans the raw bytes of the database, WAL and shared-memory files.
//! - **Exactly-once private replies.** The reservation is an
//!   `INSERT … ON CONFLICT DO NOTHING` on the `(page_id, comment_id)` primary key and
//!   wins only when it wrote the row.
//! - **Exclusive claims.** `claim_due` selects due posts and leases them inside one
//!   `BEGIN IMMEDIATE` transaction (SQLite has one writer, and taking its lock at
//!   `BEGIN` means no other writer can slip in between the select and the update), so
//!   concurrent workers — tasks of one process, or processes sharing the file — never
//!   get the same post while its lease is live.
//! - **Optimistic locking.** `update_post`/`delete_post` are
//!   `… WHERE id = ? AND version = ?`; no row → `StoreError::Conflict`, and the audit
//!   row of the same call is not written.
//! - **An audit trail nobody can edit.** The crate has no UPDATE or DELETE for
//!   `post_audit`, and triggers refuse them (and `REPLACE`) even from raw SQL.
//!
//! ## Getting started
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use meta_graph::lifecycle::TokenStore;
//! use meta_graph::publisher::store::{AccountStore, PublisherStore};
//! use meta_store_sqlite::SqliteStore;
//!
//! // A file (created if missing; migrations applied on open) ...
//! let store = Arc::new(SqliteStore::open("meta.db").await?);
//! // ... or a private in-memory database for tests.
//! let scratch = SqliteStore::in_memory().await?;
//!
//! // One store serves every port.
//! let tokens: Arc<dyn TokenStore> = store.clone();
//! let accounts: Arc<dyn AccountStore> = store.clone();
//! let posts: Arc<dyn PublisherStore> = store.clone();
//! let due = posts.claim_due(1_740_830_400_000, "worker-1", 60_000, 10).await?;
//! # let _ = (tokens, accounts, due, scratch);
//! # Ok(()) }
//! ```
//!
//! Settings: WAL journal, `synchronous=NORMAL` (durable across process crashes; a
//! power loss may drop the last commits but never corrupts), foreign keys on, a 30 s
//! busy timeout, 8 pooled connections ([`SqliteOptions`] changes the last two). Times
//! are stored as the ports give them: unix milliseconds for the publisher, unix
//! seconds for connections, and unix nanoseconds for the policy store (so a
//! `SystemTime` round-trips exactly).
//!
//! ## Migrations
//!
//! `migrations/NNNN_name.sql`, compiled in and applied on open by [`migrate`]: each in
//! its own transaction with its row in `_meta_migrations(version, name, applied_at,
//! checksum)`. An applied migration whose SHA-256 differs from this binary's, or a
//! version this binary does not know, refuses to open the store
//! ([`SqliteError::MigrationChecksum`], [`SqliteError::UnknownMigration`]). Never edit
//! a released migration; add the next number.
//!
//! ## Errors
//!
//! [`SqliteError`] classifies every failure ([`ErrorClass`]: conflict, not found,
//! invalid, busy, backend) and converts into each port's `StoreError` (a unique
//! violation becomes `StoreError::Conflict`). Messages carry SQLite's description and
//! the operation's name; all values are bound parameters, so neither SQL text nor a
//! stored value (a sealed token, a payload) ends up in an error or a log line.
//!
//! ## Layout
//!
//! | module | what |
//! |---|---|
//! | `store` | [`SqliteStore`]: opening, pragmas, the pool, the in-process write turn, checkpoint |
//! | [`migrate`] | the embedded migrator and [`migrate::MIGRATIONS`] |
//! | `tokens` | `TokenStore` |
//! | `policy` | `PolicyStore` |
//! | `accounts` | `AccountStore` |
//! | `publisher` | `PublisherStore`: posts, audit trail, attempts, `claim_due` |
//! | `commerce` | `CommerceStore` and its `BEGIN IMMEDIATE` transaction (`CommerceTx`), batched statements |
//! | `error` | [`SqliteError`], [`ErrorClass`], conversions to the ports' errors |
//! | `convert` | integer and time conversions between the ports' types and columns |

mod accounts;
mod commerce;
mod convert;
mod error;
pub mod migrate;
mod policy;
mod publisher;
mod store;
mod tokens;

pub use error::{ErrorClass, SqliteError};
pub use store::{DEFAULT_BUSY_TIMEOUT, DEFAULT_MAX_CONNECTIONS, SqliteOptions, SqliteStore};
