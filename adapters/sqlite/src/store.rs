//! Opening the database: pool, pragmas, migrations, the in-process write lock.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::sync::{Mutex, MutexGuard, OwnedMutexGuard};

use crate::error::{SqliteError, db};
use crate::migrate::{self, AppliedMigration, MIGRATIONS};

/// The default busy timeout: how long a write waits for another *process* holding
/// the write lock before failing with a busy error.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// The default number of pooled connections for a file database.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 8;

/// Settings for [`SqliteStore::open_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    busy_timeout: Duration,
    max_connections: u32,
    create_if_missing: bool,
}

impl Default for SqliteOptions {
    /// A 30 s busy timeout, 8 connections, create the file when missing.
    fn default() -> Self {
        SqliteOptions {
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            create_if_missing: true,
        }
    }
}

impl SqliteOptions {
    /// The busy timeout (default [`DEFAULT_BUSY_TIMEOUT`]).
    #[must_use]
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }
    /// Pooled connections, at least 1 (default [`DEFAULT_MAX_CONNECTIONS`]). Readers
    /// use them in parallel; writers take turns (SQLite has one writer).
    #[must_use]
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n.max(1);
        self
    }
    /// Whether a missing file is created (default `true`); `false` makes opening a
    /// mistyped path an error instead of a new empty store.
    #[must_use]
    pub fn create_if_missing(mut self, create: bool) -> Self {
        self.create_if_missing = create;
        self
    }
}

pub(crate) struct Inner {
    pub(crate) pool: SqlitePool,
    /// Serialises this process's write transactions. SQLite allows one writer; letting
    /// several pooled connections race for its lock makes them spin in the busy
    /// handler (unfair, and able to exhaust the timeout under load). A FIFO async
    /// mutex queues them instead; the busy timeout is left for other processes.
    /// Shared (`Arc`) so a commerce transaction can own its turn for its whole life.
    write: Arc<Mutex<()>>,
    path: Option<PathBuf>,
}

/// Every meta-graph store port on one SQLite database; see the [crate docs](crate).
/// Cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct SqliteStore {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .field("connections", &self.inner.pool.size())
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path` with
    /// [`SqliteOptions::default`] and applies pending migrations.
    ///
    /// The file runs in WAL mode with `synchronous=NORMAL` (durable across process
    /// crashes; a power loss may lose the last commits but never corrupts), foreign
    /// keys on, and a busy timeout.
    ///
    /// # Errors
    /// [`SqliteError::Open`] when the file cannot be opened; migration errors (see
    /// [`SqliteError::MigrationChecksum`], [`SqliteError::UnknownMigration`]).
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, SqliteError> {
        Self::open_with(path, SqliteOptions::default()).await
    }

    /// [`open`](Self::open) with explicit settings.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub async fn open_with(
        path: impl AsRef<Path>,
        options: SqliteOptions,
    ) -> Result<Self, SqliteError> {
        let path = path.as_ref().to_path_buf();
        let connect = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(options.create_if_missing)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(options.busy_timeout);
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections)
            .connect_with(connect)
            .await
            .map_err(|source| SqliteError::Open {
                message: format!("cannot open `{}`: {source}", path.display()),
                source,
            })?;
        Self::finish(pool, Some(path)).await
    }

    /// A private database in memory, gone when the last clone is dropped: for tests
    /// and one-shot tools.
    ///
    /// It is one connection that is never recycled (an in-memory database lives and
    /// dies with its connection); concurrent tasks queue for it, so it is safe to
    /// share but does not read in parallel.
    ///
    /// # Errors
    /// [`SqliteError::Open`] if SQLite cannot allocate it.
    pub async fn in_memory() -> Result<Self, SqliteError> {
        let connect = SqliteConnectOptions::new()
            .in_memory(true)
            .foreign_keys(true)
            .busy_timeout(DEFAULT_BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .min_connections(1)
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(connect)
            .await
            .map_err(|source| SqliteError::Open {
                message: format!("cannot open an in-memory database: {source}"),
                source,
            })?;
        Self::finish(pool, None).await
    }

    async fn finish(pool: SqlitePool, path: Option<PathBuf>) -> Result<Self, SqliteError> {
        migrate::run(&pool, MIGRATIONS).await?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                pool,
                write: Arc::new(Mutex::new(())),
                path,
            }),
        })
    }

    /// The connection pool, for queries of the application's own (the schema is
    /// this crate's: read it, but write through the ports).
    #[must_use]
    pub fn pool(&self) -> &SqlitePool {
        &self.inner.pool
    }

    /// The file path, `None` for an in-memory store.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// The migrations recorded in the database.
    ///
    /// # Errors
    /// A database failure.
    pub async fn applied_migrations(&self) -> Result<Vec<AppliedMigration>, SqliteError> {
        migrate::applied(&self.inner.pool).await
    }

    /// Copies the write-ahead log into the main file and truncates it
    /// (`PRAGMA wal_checkpoint(TRUNCATE)`), for example before a file-level backup.
    /// A no-op for an in-memory store.
    ///
    /// # Errors
    /// A database failure, or [`ErrorClass::Busy`](crate::ErrorClass::Busy) when a
    /// reader kept the checkpoint from completing.
    pub async fn checkpoint(&self) -> Result<(), SqliteError> {
        if self.inner.path.is_none() {
            return Ok(());
        }
        let _w = self.write_lock().await;
        // Returns (busy, log frames, checkpointed frames); busy = 1 means readers
        // blocked part of it.
        let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&self.inner.pool)
            .await
            .map_err(db("checkpoint"))?;
        if busy != 0 {
            return Err(SqliteError::Busy {
                op: "checkpoint",
                message: "a reader kept the checkpoint from completing".to_owned(),
            });
        }
        Ok(())
    }

    /// Closes every pooled connection (checkpointing the log as SQLite does on the
    /// last close). Later calls fail.
    pub async fn close(&self) {
        self.inner.pool.close().await;
    }

    /// Takes this process's write turn; hold it across a write transaction. Always
    /// taken *before* a connection so a one-connection pool cannot deadlock.
    pub(crate) async fn write_lock(&self) -> MutexGuard<'_, ()> {
        self.inner.write.lock().await
    }

    /// [`write_lock`](Self::write_lock) as an owned guard, for a transaction object
    /// that outlives the borrow of the store (the commerce `CommerceTx`).
    pub(crate) async fn write_lock_owned(&self) -> OwnedMutexGuard<()> {
        Arc::clone(&self.inner.write).lock_owned().await
    }
}
