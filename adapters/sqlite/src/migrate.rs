//! The embedded migrator.
//!
//! sqlx's own `migrate!` needs the `macros` feature (and a database at build time for
//! the rest of the macros), so the project carries a small migrator instead:
//!
//! - migrations are `migrations/NNNN_name.sql`, compiled in with `include_str!` and
//!   listed in [`MIGRATIONS`] in version order;
//! - each pending one runs in its own `BEGIN IMMEDIATE` transaction together with the
//!   row that records it in `_meta_migrations(version, name, applied_at, checksum)`,
//!   so a migration is either fully applied and recorded or not at all, and two
//!   processes opening one file at once apply each migration exactly once;
//! - before anything runs, every applied migration's recorded SHA-256 checksum is
//!   compared with the SQL in this binary: a mismatch (an edited migration) or an
//!   unknown version (a newer binary wrote the file) refuses to open the store.
//!
//! Re-opening an up-to-date database applies nothing.

use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use sqlx::{Row, SqlitePool};

use crate::error::{SqliteError, db};

/// One embedded migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// Its version: applied in increasing order, never reused.
    pub version: i64,
    /// A short name (the file name without the number and `.sql`).
    pub name: &'static str,
    /// The SQL, run as one script.
    pub sql: &'static str,
}

impl Migration {
    /// The hex SHA-256 of [`sql`](Self::sql), recorded when applied.
    #[must_use]
    pub fn checksum(&self) -> String {
        hex::encode(Sha256::digest(self.sql.as_bytes()))
    }
}

/// Every migration this binary knows, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "connections_and_policy",
        sql: include_str!("../migrations/0001_connections_and_policy.sql"),
    },
    Migration {
        version: 2,
        name: "publisher",
        sql: include_str!("../migrations/0002_publisher.sql"),
    },
    Migration {
        version: 3,
        name: "commerce",
        sql: include_str!("../migrations/0003_commerce.sql"),
    },
];

/// A migration recorded in `_meta_migrations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    /// The version.
    pub version: i64,
    /// The name recorded.
    pub name: String,
    /// Unix milliseconds it was applied at.
    pub applied_at: i64,
    /// The checksum recorded.
    pub checksum: String,
}

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS _meta_migrations (
    version    INTEGER PRIMARY KEY NOT NULL,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL,
    checksum   TEXT    NOT NULL
) STRICT";

/// The migrations recorded in the database, by version.
///
/// # Errors
/// A database failure.
pub(crate) async fn applied(pool: &SqlitePool) -> Result<Vec<AppliedMigration>, SqliteError> {
    let rows = sqlx::query(
        "SELECT version, name, applied_at, checksum FROM _meta_migrations ORDER BY version",
    )
    .fetch_all(pool)
    .await
    .map_err(db("read applied migrations"))?;
    rows.iter()
        .map(|r| {
            Ok(AppliedMigration {
                version: r
                    .try_get("version")
                    .map_err(db("read applied migrations"))?,
                name: r.try_get("name").map_err(db("read applied migrations"))?,
                applied_at: r
                    .try_get("applied_at")
                    .map_err(db("read applied migrations"))?,
                checksum: r
                    .try_get("checksum")
                    .map_err(db("read applied migrations"))?,
            })
        })
        .collect()
}

/// Refuses a database whose applied migrations differ from `known`.
fn verify(applied: &[AppliedMigration], known: &[Migration]) -> Result<(), SqliteError> {
    for a in applied {
        let Some(m) = known.iter().find(|m| m.version == a.version) else {
            return Err(SqliteError::UnknownMigration {
                version: a.version,
                name: a.name.clone(),
            });
        };
        let expected = m.checksum();
        if a.checksum != expected {
            return Err(SqliteError::MigrationChecksum {
                version: a.version,
                name: m.name.to_owned(),
                applied: a.checksum.clone(),
                expected,
            });
        }
    }
    Ok(())
}

/// Applies every pending migration of `known` (which must be sorted by version);
/// returns the versions applied by this call.
///
/// # Errors
/// [`SqliteError::MigrationChecksum`], [`SqliteError::UnknownMigration`], or the
/// failure of a migration's SQL (its transaction is rolled back).
pub(crate) async fn run(pool: &SqlitePool, known: &[Migration]) -> Result<Vec<i64>, SqliteError> {
    sqlx::query(CREATE_TABLE)
        .execute(pool)
        .await
        .map_err(db("create _meta_migrations"))?;
    // Verify everything first: nothing runs against a database we do not understand.
    verify(&applied(pool).await?, known)?;

    let mut done = Vec::new();
    for m in known {
        let mut tx = pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db("begin migration"))?;
        // Re-read under the write lock: another process may have applied it meanwhile.
        let recorded: Option<String> =
            sqlx::query_scalar("SELECT checksum FROM _meta_migrations WHERE version = ?")
                .bind(m.version)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db("read applied migrations"))?;
        if let Some(checksum) = recorded {
            let expected = m.checksum();
            if checksum != expected {
                return Err(SqliteError::MigrationChecksum {
                    version: m.version,
                    name: m.name.to_owned(),
                    applied: checksum,
                    expected,
                });
            }
            continue;
        }
        sqlx::raw_sql(m.sql)
            .execute(&mut *tx)
            .await
            .map_err(db("apply migration"))?;
        sqlx::query(
            "INSERT INTO _meta_migrations (version, name, applied_at, checksum) VALUES (?, ?, ?, ?)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(wall_clock_ms())
        .bind(m.checksum())
        .execute(&mut *tx)
        .await
        .map_err(db("record migration"))?;
        tx.commit().await.map_err(db("commit migration"))?;
        tracing::info!(
            version = m.version,
            name = m.name,
            "applied SQLite migration"
        );
        done.push(m.version);
    }
    Ok(done)
}

/// `applied_at` is bookkeeping for people reading the table, not an input to any
/// decision, so it comes from the wall clock rather than an injected one.
fn wall_clock_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_strictly_increasing_and_checksums_stable() {
        for w in MIGRATIONS.windows(2) {
            assert!(w[0].version < w[1].version);
        }
        let m = MIGRATIONS[0];
        assert_eq!(m.checksum(), m.checksum());
        assert_eq!(m.checksum().len(), 64);
    }

    #[test]
    fn verify_refuses_edits_and_unknown_versions() {
        let known = [Migration {
            version: 1,
            name: "a",
            sql: "CREATE TABLE a (x INTEGER)",
        }];
        let ok = AppliedMigration {
            version: 1,
            name: "a".to_owned(),
            applied_at: 0,
            checksum: known[0].checksum(),
        };
        assert!(verify(std::slice::from_ref(&ok), &known).is_ok());
        let edited = AppliedMigration {
            checksum: "00".to_owned(),
            ..ok.clone()
        };
        assert!(matches!(
            verify(&[edited], &known),
            Err(SqliteError::MigrationChecksum { version: 1, .. })
        ));
        let newer = AppliedMigration { version: 2, ..ok };
        assert!(matches!(
            verify(&[newer], &known),
            Err(SqliteError::UnknownMigration { version: 2, .. })
        ));
    }

    async fn memory_pool() -> SqlitePool {
        sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(sqlx::sqlite::SqliteConnectOptions::new().in_memory(true))
            .await
            .unwrap()
    }

    async fn table_exists(pool: &SqlitePool, name: &str) -> bool {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
        )
        .bind(name)
        .fetch_one(pool)
        .await
        .unwrap()
            == 1
    }

    #[tokio::test]
    async fn a_failing_migration_is_rolled_back_and_not_recorded() {
        let pool = memory_pool().await;
        let good = Migration {
            version: 1,
            name: "good",
            sql: "CREATE TABLE good (x INTEGER);",
        };
        // Its first statement succeeds, its second fails: neither may remain.
        let bad = Migration {
            version: 2,
            name: "bad",
            sql: "CREATE TABLE half (x INTEGER); INSERT INTO no_such_table VALUES (1);",
        };
        let e = run(&pool, &[good, bad]).await.unwrap_err();
        assert!(e.to_string().contains("apply migration"), "{e}");
        assert!(table_exists(&pool, "good").await);
        assert!(!table_exists(&pool, "half").await, "rolled back");
        let versions: Vec<i64> = applied(&pool)
            .await
            .unwrap()
            .iter()
            .map(|m| m.version)
            .collect();
        assert_eq!(versions, [1]);
        // Fixed, it applies; running again applies nothing.
        let fixed = Migration {
            sql: "CREATE TABLE half (x INTEGER);",
            ..bad
        };
        assert_eq!(run(&pool, &[good, fixed]).await.unwrap(), [2]);
        assert!(run(&pool, &[good, fixed]).await.unwrap().is_empty());
        assert!(table_exists(&pool, "half").await);
    }
}
