//! [`TokenStore`]: token-lifecycle connections in the `connections` table.
//!
//! Rows hold the token only as [`StoredConnection::sealed_token`] (TokenCipher
//! output); this module never sees, logs or returns a plaintext token.

use futures_util::future::BoxFuture;
use meta_graph::lifecycle::{
    ConnectionId, ConnectionKind, StoreError, StoredConnection, TokenStatus, TokenStore,
};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::SqliteStore;
use crate::convert::{i64_to_u64, u64_to_i64};
use crate::error::{SqliteError, db};

/// `SELECT <every column> FROM connections <tail>` as one `&'static str` (sqlx takes
/// only static SQL, which keeps values out of the text).
macro_rules! select_connections {
    ($tail:literal) => {
        concat!(
            "SELECT id, kind, owner, sealed_token, obtained_at, expires_at, status, ",
            "refreshed_at, last_error_code, last_error_subcode, updated_at FROM connections ",
            $tail
        )
    };
}

fn opt_u64(field: &'static str, v: Option<i64>) -> Result<Option<u64>, SqliteError> {
    v.map(|v| i64_to_u64(field, v)).transpose()
}

fn opt_i64(field: &'static str, v: Option<u64>) -> Result<Option<i64>, SqliteError> {
    v.map(|v| u64_to_i64(field, v)).transpose()
}

fn from_row(row: &SqliteRow) -> Result<StoredConnection, SqliteError> {
    let id: String = row.try_get("id").map_err(db("read connection"))?;
    let kind: String = row.try_get("kind").map_err(db("read connection"))?;
    let status: String = row.try_get("status").map_err(db("read connection"))?;
    let code: Option<i64> = row
        .try_get("last_error_code")
        .map_err(db("read connection"))?;
    let subcode: Option<i64> = row
        .try_get("last_error_subcode")
        .map_err(db("read connection"))?;
    let record = ConnectionRow {
        id: ConnectionId::new(id).map_err(|e| SqliteError::invalid("id", e.to_string()))?,
        kind: ConnectionKind::parse(&kind)
            .map_err(|e| SqliteError::invalid("kind", e.to_string()))?,
        owner: row.try_get("owner").map_err(db("read connection"))?,
        sealed_token: row.try_get("sealed_token").map_err(db("read connection"))?,
        obtained_at: i64_to_u64(
            "obtained_at",
            row.try_get("obtained_at").map_err(db("read connection"))?,
        )?,
        expires_at: opt_u64(
            "expires_at",
            row.try_get("expires_at").map_err(db("read connection"))?,
        )?,
        status: TokenStatus::parse(&status)
            .map_err(|e| SqliteError::invalid("status", e.to_string()))?,
        refreshed_at: opt_u64(
            "refreshed_at",
            row.try_get("refreshed_at").map_err(db("read connection"))?,
        )?,
        last_error: code.map(|c| (c, subcode)),
        updated_at: i64_to_u64(
            "updated_at",
            row.try_get("updated_at").map_err(db("read connection"))?,
        )?,
    };
    record.into_stored()
}

/// The row's fields, typed. [`StoredConnection`] is `#[non_exhaustive]` and has no
/// public constructor, so it is built through its serde form — the one stable way a
/// crate outside meta-graph can create one.
struct ConnectionRow {
    id: ConnectionId,
    kind: ConnectionKind,
    owner: String,
    sealed_token: String,
    obtained_at: u64,
    expires_at: Option<u64>,
    status: TokenStatus,
    refreshed_at: Option<u64>,
    last_error: Option<(i64, Option<i64>)>,
    updated_at: u64,
}

impl ConnectionRow {
    fn into_stored(self) -> Result<StoredConnection, SqliteError> {
        let value = serde_json::json!({
            "id": self.id,
            "kind": self.kind,
            "owner": self.owner,
            "sealed_token": self.sealed_token,
            "obtained_at": self.obtained_at,
            "expires_at": self.expires_at,
            "status": self.status,
            "refreshed_at": self.refreshed_at,
            "last_error": self.last_error,
            "updated_at": self.updated_at,
        });
        // The error names the field but cannot echo the sealed token (serde reports
        // types and positions, not string values, for these fields).
        serde_json::from_value(value)
            .map_err(|e| SqliteError::invalid("connection", format!("cannot rebuild: {e}")))
    }
}

impl SqliteStore {
    async fn load_connection(
        &self,
        id: &ConnectionId,
    ) -> Result<Option<StoredConnection>, SqliteError> {
        let row = sqlx::query(select_connections!("WHERE id = ?"))
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await
            .map_err(db("load connection"))?;
        row.as_ref().map(from_row).transpose()
    }

    async fn save_connection(&self, c: &StoredConnection) -> Result<(), SqliteError> {
        let obtained_at = u64_to_i64("obtained_at", c.obtained_at)?;
        let expires_at = opt_i64("expires_at", c.expires_at)?;
        let refreshed_at = opt_i64("refreshed_at", c.refreshed_at)?;
        let updated_at = u64_to_i64("updated_at", c.updated_at)?;
        let (code, subcode) = match c.last_error {
            Some((code, subcode)) => (Some(code), subcode),
            None => (None, None),
        };
        let _turn = self.write_lock().await;
        // One statement: an upsert keyed by id is atomic on its own.
        sqlx::query(
            "INSERT INTO connections (id, kind, owner, sealed_token, obtained_at, expires_at, \
             status, refreshed_at, last_error_code, last_error_subcode, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, owner = excluded.owner, \
             sealed_token = excluded.sealed_token, obtained_at = excluded.obtained_at, \
             expires_at = excluded.expires_at, status = excluded.status, \
             refreshed_at = excluded.refreshed_at, last_error_code = excluded.last_error_code, \
             last_error_subcode = excluded.last_error_subcode, updated_at = excluded.updated_at",
        )
        .bind(c.id.as_str())
        .bind(c.kind.as_str())
        .bind(&c.owner)
        .bind(&c.sealed_token)
        .bind(obtained_at)
        .bind(expires_at)
        .bind(c.status.as_str())
        .bind(refreshed_at)
        .bind(code)
        .bind(subcode)
        .bind(updated_at)
        .execute(self.pool())
        .await
        .map_err(db("save connection"))?;
        Ok(())
    }

    async fn delete_connection(&self, id: &ConnectionId) -> Result<bool, SqliteError> {
        let _turn = self.write_lock().await;
        let done = sqlx::query("DELETE FROM connections WHERE id = ?")
            .bind(id.as_str())
            .execute(self.pool())
            .await
            .map_err(db("delete connection"))?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_connections(&self) -> Result<Vec<StoredConnection>, SqliteError> {
        let rows = sqlx::query(select_connections!("ORDER BY id"))
            .fetch_all(self.pool())
            .await
            .map_err(db("list connections"))?;
        rows.iter().map(from_row).collect()
    }

    async fn due_connections(&self, threshold: u64) -> Result<Vec<StoredConnection>, SqliteError> {
        // A threshold past i64::MAX means "everything that expires at all".
        let threshold = i64::try_from(threshold).unwrap_or(i64::MAX);
        // The status list matches the partial index `connections_due` (and
        // `TokenStatus::is_usable`).
        let rows = sqlx::query(select_connections!(
            "WHERE expires_at IS NOT NULL AND status IN ('active', 'expiring') \
             AND expires_at <= ? ORDER BY expires_at, id"
        ))
        .bind(threshold)
        .fetch_all(self.pool())
        .await
        .map_err(db("due connections"))?;
        rows.iter().map(from_row).collect()
    }
}

impl TokenStore for SqliteStore {
    fn load<'a>(
        &'a self,
        id: &'a ConnectionId,
    ) -> BoxFuture<'a, Result<Option<StoredConnection>, StoreError>> {
        Box::pin(async move { Ok(self.load_connection(id).await?) })
    }
    fn save<'a>(&'a self, record: &'a StoredConnection) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { Ok(self.save_connection(record).await?) })
    }
    fn delete<'a>(&'a self, id: &'a ConnectionId) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move { Ok(self.delete_connection(id).await?) })
    }
    fn list(&self) -> BoxFuture<'_, Result<Vec<StoredConnection>, StoreError>> {
        Box::pin(async move { Ok(self.list_connections().await?) })
    }
    fn due(&self, threshold: u64) -> BoxFuture<'_, Result<Vec<StoredConnection>, StoreError>> {
        Box::pin(async move { Ok(self.due_connections(threshold).await?) })
    }
}
