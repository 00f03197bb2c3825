//! [`TokenStore`] on the `connections` table.
//!
//! The store receives tokens already sealed by `TokenCipher` (AES-256-GCM, the
//! connection id as associated data) and writes them as given: no plaintext token
//! ever reaches PostgreSQL, and a sealed value copied onto another row does not open.

use futures_util::future::BoxFuture;
use meta_graph::lifecycle::{ConnectionId, StoreError, StoredConnection, TokenStore};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::PgStore;
use crate::convert::{i64_to_u64, u64_to_i64};
use crate::error::{PgStoreError, Result};

const COLUMNS: &str = "id, kind, owner, sealed_token, obtained_at, expires_at, status, \
                       refreshed_at, last_error_code, last_error_subcode, updated_at";

/// Reads one `connections` row.
///
/// `StoredConnection` is `#[non_exhaustive]`, so outside meta-graph it is built
/// through its serde form (the same names and snake_case enums the port documents);
/// unknown kinds or statuses surface as a corrupt-row error instead of a panic.
fn connection_from_row(row: &PgRow) -> Result<StoredConnection> {
    let id: String = row.try_get("id")?;
    let code: Option<i64> = row.try_get("last_error_code")?;
    let subcode: Option<i64> = row.try_get("last_error_subcode")?;
    let opt_u64 = |col: &str| -> Result<Option<u64>> {
        let v: Option<i64> = row.try_get(col)?;
        v.map(|v| i64_to_u64(col, v)).transpose()
    };
    let value = serde_json::json!({
        "id": id,
        "kind": row.try_get::<String, _>("kind")?,
        "owner": row.try_get::<String, _>("owner")?,
        "sealed_token": row.try_get::<String, _>("sealed_token")?,
        "obtained_at": i64_to_u64("obtained_at", row.try_get("obtained_at")?)?,
        "expires_at": opt_u64("expires_at")?,
        "status": row.try_get::<String, _>("status")?,
        "refreshed_at": opt_u64("refreshed_at")?,
        "last_error": code.map(|c| (c, subcode)),
        "updated_at": i64_to_u64("updated_at", row.try_get("updated_at")?)?,
    });
    // The error text of serde names the field, never the sealed value.
    serde_json::from_value(value)
        .map_err(|e| PgStoreError::corrupt(format!("connection `{id}` cannot be read back: {e}")))
}

impl PgStore {
    async fn token_load(&self, id: &ConnectionId) -> Result<Option<StoredConnection>> {
        let sql = format!("SELECT {COLUMNS} FROM connections WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(connection_from_row).transpose()
    }

    async fn token_save(&self, c: &StoredConnection) -> Result<()> {
        let (code, subcode) = match c.last_error {
            Some((code, sub)) => (Some(code), sub),
            None => (None, None),
        };
        sqlx::query(
            "INSERT INTO connections (id, kind, owner, sealed_token, obtained_at, expires_at, status,
                                      refreshed_at, last_error_code, last_error_subcode, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (id) DO UPDATE SET
                 kind = EXCLUDED.kind, owner = EXCLUDED.owner, sealed_token = EXCLUDED.sealed_token,
                 obtained_at = EXCLUDED.obtained_at, expires_at = EXCLUDED.expires_at,
                 status = EXCLUDED.status, refreshed_at = EXCLUDED.refreshed_at,
                 last_error_code = EXCLUDED.last_error_code,
                 last_error_subcode = EXCLUDED.last_error_subcode, updated_at = EXCLUDED.updated_at",
        )
        .bind(c.id.as_str())
        .bind(c.kind.as_str())
        .bind(&c.owner)
        .bind(&c.sealed_token)
        .bind(u64_to_i64("obtained_at", c.obtained_at)?)
        .bind(c.expires_at.map(|v| u64_to_i64("expires_at", v)).transpose()?)
        .bind(c.status.as_str())
        .bind(c.refreshed_at.map(|v| u64_to_i64("refreshed_at", v)).transpose()?)
        .bind(code)
        .bind(subcode)
        .bind(u64_to_i64("updated_at", c.updated_at)?)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn token_delete(&self, id: &ConnectionId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM connections WHERE id = $1")
            .bind(id.as_str())
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn token_list(&self, threshold: Option<u64>) -> Result<Vec<StoredConnection>> {
        // `COLLATE "C"` orders by bytes, like the in-memory store's `String` order,
        // whatever the database's default collation.
        let rows = match threshold {
            None => {
                let sql = format!("SELECT {COLUMNS} FROM connections ORDER BY id COLLATE \"C\"");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .fetch_all(self.pool())
                    .await?
            }
            Some(t) => {
                // Every stored expiry fits an i64, so clamping keeps the meaning.
                let t = i64::try_from(t).unwrap_or(i64::MAX);
                let sql = format!(
                    "SELECT {COLUMNS} FROM connections
                     WHERE status IN ('active', 'expiring') AND expires_at IS NOT NULL AND expires_at <= $1
                     ORDER BY id COLLATE \"C\""
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(t)
                    .fetch_all(self.pool())
                    .await?
            }
        };
        rows.iter().map(connection_from_row).collect()
    }
}

impl TokenStore for PgStore {
    fn load<'a>(
        &'a self,
        id: &'a ConnectionId,
    ) -> BoxFuture<'a, Result<Option<StoredConnection>, StoreError>> {
        Box::pin(async move { Ok(self.token_load(id).await?) })
    }

    fn save<'a>(&'a self, record: &'a StoredConnection) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { Ok(self.token_save(record).await?) })
    }

    fn delete<'a>(&'a self, id: &'a ConnectionId) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move { Ok(self.token_delete(id).await?) })
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<StoredConnection>, StoreError>> {
        Box::pin(async move { Ok(self.token_list(None).await?) })
    }

    fn due(&self, threshold: u64) -> BoxFuture<'_, Result<Vec<StoredConnection>, StoreError>> {
        Box::pin(async move { Ok(self.token_list(Some(threshold)).await?) })
    }
}
