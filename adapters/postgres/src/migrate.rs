//! The embedded migrator.
//!
//! `sqlx::migrate!` needs sqlx's `macros` feature, which this workspace does not
//! enable, so the migrations are embedded with `include_str!` and applied here:
//!
//! 1. one transaction takes `pg_advisory_xact_lock` on a key derived from the target
//!    schema, so several instances starting at once apply each migration exactly once
//!    (the others wait, then find nothing left to do);
//! 2. it creates the schema (if one was named) and `_meta_migrations(version, name,
//!    applied_at, checksum)`;
//! 3. every applied migration's checksum (SHA-256 of its SQL) is compared with the
//!    embedded one: a changed migration is refused, since the database no longer
//!    matches what the code was written against;
//! 4. the pending migrations run in version order and are recorded; PostgreSQL DDL is
//!    transactional, so a failure leaves the schema as it was.

use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};

use crate::error::{ErrorClass, PgStoreError, Result};

/// One embedded migration.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Its version: applied in ascending order, each once.
    pub version: i64,
    /// A short name (the file name without the number and `.sql`).
    pub name: &'static str,
    /// The SQL, several statements.
    pub sql: &'static str,
}

impl Migration {
    /// SHA-256 of the SQL, hex: what `_meta_migrations.checksum` holds.
    #[must_use]
    pub fn checksum(&self) -> String {
        hex::encode(Sha256::digest(self.sql.as_bytes()))
    }
}

/// Every migration of this build, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "tokens_policy",
        sql: include_str!("../migrations/0001_tokens_policy.sql"),
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

/// What [`migrate`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrationReport {
    /// Versions applied by this call, in order.
    pub applied: Vec<i64>,
    /// Versions that were already applied.
    pub already_applied: Vec<i64>,
}

/// Checks a schema name: ASCII lower-case letters, digits and `_`, starting with a
/// letter or `_`, at most 63 bytes (PostgreSQL's identifier limit), not `pg_*`. Only
/// such names are ever put into SQL text, always double-quoted.
pub(crate) fn validate_schema(name: &str) -> Result<()> {
    let ok_start = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let ok_rest = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok_start || !ok_rest || name.len() > 63 || name.starts_with("pg_") {
        return Err(PgStoreError::invalid(format!(
            "schema name `{name}` must be 1-63 of [a-z0-9_], start with a letter or `_`, and not start with `pg_`"
        )));
    }
    Ok(())
}

/// Applies the pending [`MIGRATIONS`] to `schema` (or to the connection's current
/// schema when `None`). Safe to call from many instances at once.
///
/// # Errors
/// [`ErrorClass::Migration`] when an applied migration's checksum differs from the
/// embedded one; database failures.
pub async fn migrate(pool: &PgPool, schema: Option<&str>) -> Result<MigrationReport> {
    if let Some(s) = schema {
        validate_schema(s)?;
    }
    let mut tx = pool.begin().await?;
    // Serialise migrators of the same schema across every instance. The lock is held
    // until commit/rollback, so it cannot leak if this task is dropped mid-way.
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtextextended('meta-store-postgres/migrate/' || COALESCE($1, current_schema(), ''), 0))",
    )
    .bind(schema)
    .execute(&mut *tx)
    .await?;
    if let Some(s) = schema {
        // `s` was validated above: only [a-z0-9_] reaches the SQL text.
        let create = format!("CREATE SCHEMA IF NOT EXISTS \"{s}\"");
        sqlx::raw_sql(sqlx::AssertSqlSafe(create))
            .execute(&mut *tx)
            .await?;
    }
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS _meta_migrations (
             version    BIGINT PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
             checksum   TEXT NOT NULL
         )",
    )
    .execute(&mut *tx)
    .await?;
    let rows = sqlx::query("SELECT version, name, checksum FROM _meta_migrations ORDER BY version")
        .fetch_all(&mut *tx)
        .await?;
    let mut report = MigrationReport::default();
    let mut applied = Vec::with_capacity(rows.len());
    for row in rows {
        let version: i64 = row.try_get("version")?;
        let name: String = row.try_get("name")?;
        let checksum: String = row.try_get("checksum")?;
        match MIGRATIONS.iter().find(|m| m.version == version) {
            Some(m) if m.checksum() != checksum => {
                return Err(PgStoreError::new(
                    ErrorClass::Migration,
                    format!(
                        "migration {version} ({name}) was changed after it was applied: checksum {checksum} in the database, {} in this build",
                        m.checksum()
                    ),
                ));
            }
            Some(_) => {}
            None => {
                // A newer build got here first. Its migrations are additive by policy,
                // so this build keeps working; say so loudly.
                tracing::warn!(
                    version,
                    name = %name,
                    "database has a migration this build does not know"
                );
            }
        }
        applied.push(version);
    }
    for m in MIGRATIONS {
        if applied.contains(&m.version) {
            report.already_applied.push(m.version);
            continue;
        }
        sqlx::raw_sql(m.sql).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO _meta_migrations (version, name, checksum) VALUES ($1, $2, $3)")
            .bind(m.version)
            .bind(m.name)
            .bind(m.checksum())
            .execute(&mut *tx)
            .await?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
        report.applied.push(m.version);
    }
    tx.commit().await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_ascend_and_checksums_are_stable() {
        let mut last = 0;
        for m in MIGRATIONS {
            assert!(m.version > last, "versions must ascend");
            last = m.version;
            assert_eq!(m.checksum().len(), 64);
            assert_eq!(m.checksum(), m.checksum());
        }
    }

    #[test]
    fn schema_names_are_checked() {
        assert!(validate_schema("meta_test_1").is_ok());
        assert!(validate_schema("_x").is_ok());
        for bad in [
            "",
            "1abc",
            "Abc",
            "a-b",
            "a\"; DROP",
            "pg_temp",
            &"a".repeat(64),
        ] {
            assert!(validate_schema(bad).is_err(), "{bad}");
        }
    }
}
