//! # meta-store-postgres
//!
//! Every meta-graph store port on one PostgreSQL database, for deployments that run
//! many stateless instances behind a load balancer (the single-process default is the
//! SQLite adapter). One [`PgStore`] implements all of them:
//!
//! | port | tables |
//! |---|---|
//! | [`meta_graph::lifecycle::TokenStore`] | `connections` (tokens only ever sealed by `TokenCipher`) |
//! | [`meta_graph::messenger::policy::PolicyStore`] | `policy_inbound`, `policy_private_replies` |
//! | [`meta_graph::publisher::store::AccountStore`] | `tenants`, `accounts` |
//! | [`meta_graph::publisher::store::PublisherStore`] | `posts`, `post_audit`, `publish_attempts` |
//! | [`meta_commerce::store::CommerceStore`] | `commerce_*`: shops, products (stock), lives, buyers, inbox, orders + lines, waitlist, outbox, audit |
//!
//! What makes it safe with many instances:
//!
//! - **claiming with `FOR UPDATE SKIP LOCKED`**: `claim_due` is one statement, a CTE
//!   that picks due, unleased posts in due order and locks them (skipping rows another
//!   instance holds), and an `UPDATE` that leases them and bumps their version. Two
//!   workers never get one post while its lease is live;
//! - **optimistic locking**: `update_post` / `delete_post` run
//!   `… WHERE id = $1 AND version = $2` in one transaction with the audit row; a lost
//!   race writes nothing and is a `Conflict`;
//! - **exactly-once by unique keys**: the one private reply per comment is an
//!   `INSERT … ON CONFLICT DO NOTHING` on a primary key, won by whoever affected a row;
//!   one account per (tenant, platform, Meta id) is a unique constraint;
//! - **an audit trail the database itself keeps append-only**: the store never updates
//!   or deletes `post_audit` rows, and a trigger refuses `UPDATE`, `DELETE` and
//!   `TRUNCATE` on that table from anyone;
//! - **migrations under an advisory lock**: instances starting together apply each
//!   embedded migration once; a migration changed after it was applied is refused.
//!
//! Queries are built at run time (`sqlx::query` + `bind`), so building the crate needs
//! no database; TLS uses rustls with the ring provider. Times are stored as integers
//! (unix ms for the publisher, unix seconds for connections as the port defines them,
//! unix ns for the policy store so a `SystemTime` round-trips exactly).
//!
//! # Getting started
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use meta_graph::lifecycle::TokenStore;
//! use meta_graph::messenger::policy::PolicyStore;
//! use meta_graph::publisher::store::{AccountStore, PublisherStore};
//! use meta_store_postgres::PgStore;
//!
//! // Connects, then applies the embedded migrations (safe from many instances at once).
//! let store = PgStore::connect("postgres://meta@db.internal/meta").await?;
//! let tokens: Arc<dyn TokenStore> = Arc::new(store.clone());
//! let policy: Arc<dyn PolicyStore> = Arc::new(store.clone());
//! let accounts: Arc<dyn AccountStore> = Arc::new(store.clone());
//! let posts: Arc<dyn PublisherStore> = Arc::new(store);
//!
//! // A worker's loop: take up to 10 due posts for 5 minutes.
//! let now_ms = meta_graph::store::to_ms(std::time::SystemTime::now());
//! for post in posts.claim_due(now_ms, "worker-1", 300_000, 10).await? {
//!     println!("{} due at {}", post.id, post.due_at());
//! }
//! # let _ = (tokens, policy, accounts);
//! # Ok(()) }
//! ```
//!
//! Several applications (or test runs) can share a database by each using its own
//! schema: [`PgStore::connect_with_schema`] creates it and points every pooled
//! connection's `search_path` at it (set in the pool's `after_connect`).
//! [`PgStoreOptions`] also sets the pool size and the acquire timeout.
//!
//! # Errors
//!
//! Driver errors become a [`PgStoreError`] with an [`ErrorClass`], then the port's own
//! store error:
//!
//! | PostgreSQL | [`ErrorClass`] | `meta_graph::store::StoreError` |
//! |---|---|---|
//! | `23505` unique violation, lost optimistic lock | `Conflict` | `Conflict` |
//! | `40001` serialization failure, `40P01` deadlock, `55P03` lock timeout | `Retryable` | `Backend` (source says retryable) |
//! | class `08`, `57P0x`, `53300`, I/O, pool timeout | `Unavailable` | `Backend` |
//! | class `22`, other class `23`, bad URL or schema name | `Invalid` | `Invalid` |
//! | a row this build cannot read | `Corrupt` | `Invalid` |
//!
//! Messages carry PostgreSQL's SQLSTATE and primary message only: never the `DETAIL`
//! line (it quotes row values), never the URL (it may hold a password), never a token.
//!
//! # Layout
//!
//! | file | what |
//! |---|---|
//! | `lib.rs` | [`PgStore`], [`PgStoreOptions`]: pool, schema, migration on connect |
//! | [`migrate`], `migrations/NNNN_name.sql` | the embedded migrator and its SQL (`_meta_migrations`) |
//! | `tokens.rs` | `TokenStore` |
//! | `policy.rs` | `PolicyStore` |
//! | `accounts.rs` | `AccountStore` |
//! | `posts.rs` | `PublisherStore`: posts, audit trail, claim, attempt log, governance reads |
//! | `commerce.rs`, `commerce/{tx,rows}.rs` | `CommerceStore` and its READ COMMITTED + row-lock transaction |
//! | `convert.rs` | checked conversions between domain values and columns |
//! | [`error`] | [`PgStoreError`], [`ErrorClass`], mapping to the ports' errors |
//!
//! # Testing
//!
//! `tests/conformance.rs` runs meta-graph's shared conformance suite
//! (`meta_graph::testing`) on every port; `tests/postgres.rs` adds what only a real
//! server shows: two pools claiming from one schema, concurrent migrations, the audit
//! trigger, no plaintext token in any row. Both read `META_TEST_DATABASE_URL`
//! (skipping with one line when unset) and give every store a fresh random schema,
//! dropped afterwards.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

mod accounts;
mod commerce;
mod convert;
pub mod error;
pub mod migrate;
mod policy;
mod posts;
mod tokens;

pub use error::{ErrorClass, PgStoreError, Result};
pub use migrate::MigrationReport;

/// The default pool size per instance.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;
/// The default wait for a pooled connection.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// How to connect: URL, schema, pool size. The URL is kept as a secret (it may hold
/// a password) and never printed.
#[must_use = "call .connect()"]
pub struct PgStoreOptions {
    url: SecretString,
    schema: Option<String>,
    max_connections: u32,
    acquire_timeout: Duration,
}

impl fmt::Debug for PgStoreOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStoreOptions")
            .field("url", &"[redacted]")
            .field("schema", &self.schema)
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .finish()
    }
}

impl PgStoreOptions {
    /// Options for `url` (`postgres://user:password@host:port/database?sslmode=…`),
    /// with [`DEFAULT_MAX_CONNECTIONS`] and [`DEFAULT_ACQUIRE_TIMEOUT`] and the
    /// connection's default schema.
    pub fn new(url: impl Into<SecretString>) -> Self {
        PgStoreOptions {
            url: url.into(),
            schema: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
        }
    }
    /// Keeps every table in `schema` (created if missing): each pooled connection's
    /// `search_path` is set to it. Names are 1–63 of `[a-z0-9_]`, not starting with a
    /// digit or `pg_`.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }
    /// The most connections this instance opens; default [`DEFAULT_MAX_CONNECTIONS`].
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n.max(1);
        self
    }
    /// How long a query waits for a free connection; default
    /// [`DEFAULT_ACQUIRE_TIMEOUT`].
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// Opens the pool and applies the embedded migrations.
    ///
    /// # Errors
    /// [`ErrorClass::Invalid`] for a malformed URL or schema name;
    /// [`ErrorClass::Unavailable`] when the server cannot be reached;
    /// [`ErrorClass::Migration`] when an applied migration was changed.
    pub async fn connect(self) -> Result<PgStore> {
        let connect = PgConnectOptions::from_str(self.url.expose_secret())
            // The parse error may quote the URL: keep only that it was malformed.
            .map_err(|_| PgStoreError::invalid("the database URL is malformed"))?;
        let mut pool = PgPoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(self.acquire_timeout);
        let schema: Option<Arc<str>> = match self.schema {
            Some(s) => {
                migrate::validate_schema(&s)?;
                Some(Arc::from(s))
            }
            None => None,
        };
        if let Some(s) = schema.clone() {
            pool = pool.after_connect(move |conn, _meta| {
                let s = s.clone();
                Box::pin(async move {
                    // A bound parameter, not SQL text; the name was validated anyway.
                    sqlx::query("SELECT set_config('search_path', $1, false)")
                        .bind(format!("\"{s}\""))
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            });
        }
        let pool = pool.connect_with(connect).await?;
        let store = PgStore { pool, schema };
        store.migrate().await?;
        Ok(store)
    }
}

/// Every store port on one PostgreSQL database; see the [crate docs](crate). Cheap to
/// clone (the pool is shared).
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    schema: Option<Arc<str>>,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The pool's own Debug would print the connect options; keep to the shape.
        f.debug_struct("PgStore")
            .field("schema", &self.schema)
            .field("pool_size", &self.pool.size())
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to `url` with default [`PgStoreOptions`] and applies the migrations.
    ///
    /// # Errors
    /// As [`PgStoreOptions::connect`].
    pub async fn connect(url: &str) -> Result<PgStore> {
        PgStoreOptions::new(url).connect().await
    }

    /// Connects to `url`, keeps every table in `schema` (created if missing) and
    /// applies the migrations there.
    ///
    /// # Errors
    /// As [`PgStoreOptions::connect`].
    pub async fn connect_with_schema(url: &str, schema: &str) -> Result<PgStore> {
        PgStoreOptions::new(url).schema(schema).connect().await
    }

    /// Wraps an existing pool (its connections' `search_path` decides the schema)
    /// and applies the migrations.
    ///
    /// # Errors
    /// As [`migrate`](Self::migrate).
    pub async fn from_pool(pool: PgPool) -> Result<PgStore> {
        let store = PgStore { pool, schema: None };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the pending embedded migrations (connecting already did). Safe to run
    /// from many instances at once.
    ///
    /// # Errors
    /// [`ErrorClass::Migration`] when an applied migration was changed; database
    /// failures.
    pub async fn migrate(&self) -> Result<MigrationReport> {
        migrate::migrate(&self.pool, self.schema.as_deref()).await
    }

    /// The pool, for the application's own queries.
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The schema set with [`PgStoreOptions::schema`], if any.
    #[must_use]
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// Closes the pool, waiting for connections in use to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
