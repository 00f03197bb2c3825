//! [`PublisherStore`] on `posts`, `post_audit` and `publish_attempts`.
//!
//! - Writes that carry an audit row (`insert_post`, `update_post`, `delete_post`) are
//!   one transaction: the post never changes without its trail, and a lost optimistic
//!   lock writes neither.
//! - `claim_due` is one statement: a CTE picks due, unleased posts in due order with
//!   `FOR UPDATE SKIP LOCKED` and the `UPDATE` leases them. A second instance running
//!   the same statement skips the rows the first one locked, and once the first
//!   commits, PostgreSQL re-checks the lease condition on the new row version, so a
//!   post is never handed to two workers while its lease is live.
//! - `post_audit` is only ever inserted into; a trigger refuses `UPDATE`, `DELETE` and
//!   `TRUNCATE` on it from anyone.

use meta_graph::publisher::store::{
    AttemptOutcome, AuditEntry, PostFilter, PostKind, PostRecord, PostState, PublishAttempt,
    PublisherStore,
};
use meta_graph::store::StoreFuture;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{Postgres, Row, Transaction};

use crate::PgStore;
use crate::convert::{i64_to_u32, i64_to_u64, u64_to_i64};
use crate::error::{ErrorClass, PgStoreError, Result};

const POST_COLUMNS: &str = "id, content_id, tenant_id, account_id, kind, payload, state, author, \
     approver, scheduled_at, not_before, blocked_reason, attempts, next_attempt_at, lease_owner, \
     lease_until, armed_at, container_id, published_id, published_at, last_error, version, \
     created_at, updated_at";

const AUDIT_COLUMNS: &str = "id, post_id, at, actor, from_state, to_state, reason";

const ATTEMPT_COLUMNS: &str = "id, post_id, account_id, started_at, finished_at, outcome, code, \
     subcode, fbtrace_id, message, duration_ms";

/// The claim statement. States are literals, not parameters, so PostgreSQL can match
/// the partial index `posts_claim_idx` even with a generic (cached) plan; the unit test
/// below keeps them in step with `PostState::is_claimable`.
const CLAIM_SQL: &str = "WITH due AS (
         SELECT id FROM posts
         WHERE state IN ('scheduled', 'preparing', 'ready')
           AND COALESCE(GREATEST(scheduled_at, not_before, next_attempt_at), -9223372036854775808) <= $1
           AND (lease_owner IS NULL OR lease_until IS NULL OR lease_until <= $1)
         ORDER BY COALESCE(GREATEST(scheduled_at, not_before, next_attempt_at), -9223372036854775808),
                  id COLLATE \"C\"
         LIMIT $4
         FOR UPDATE SKIP LOCKED
     )
     UPDATE posts
     SET lease_owner = $2, lease_until = $3, version = posts.version + 1, updated_at = $1
     FROM due
     WHERE posts.id = due.id
     RETURNING posts.*";

/// The states governance counts, as literals for `posts_governance_idx` (kept in step
/// with `PostState::counts_for_governance` by the unit test below).
const GOVERNANCE_STATES: &str = "('publishing', 'published', 'unconfirmed')";

fn parse_state(field: &str, s: &str) -> Result<PostState> {
    PostState::parse(s).map_err(|_| PgStoreError::corrupt(format!("unknown {field} `{s}`")))
}

fn post_from_row(row: &PgRow) -> Result<PostRecord> {
    let kind: String = row.try_get("kind")?;
    let state: String = row.try_get("state")?;
    let Json(payload): Json<serde_json::Value> = row.try_get("payload")?;
    Ok(PostRecord {
        id: row.try_get("id")?,
        content_id: row.try_get("content_id")?,
        tenant_id: row.try_get("tenant_id")?,
        account_id: row.try_get("account_id")?,
        kind: PostKind::parse(&kind)
            .map_err(|_| PgStoreError::corrupt(format!("unknown post kind `{kind}`")))?,
        payload,
        state: parse_state("post state", &state)?,
        author: row.try_get("author")?,
        approver: row.try_get("approver")?,
        scheduled_at: row.try_get("scheduled_at")?,
        not_before: row.try_get("not_before")?,
        blocked_reason: row.try_get("blocked_reason")?,
        attempts: i64_to_u32("attempts", row.try_get("attempts")?)?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        lease_owner: row.try_get("lease_owner")?,
        lease_until: row.try_get("lease_until")?,
        armed_at: row.try_get("armed_at")?,
        container_id: row.try_get("container_id")?,
        published_id: row.try_get("published_id")?,
        published_at: row.try_get("published_at")?,
        last_error: row.try_get("last_error")?,
        version: i64_to_u64("version", row.try_get("version")?)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn audit_from_row(row: &PgRow) -> Result<AuditEntry> {
    let from: Option<String> = row.try_get("from_state")?;
    let to: String = row.try_get("to_state")?;
    Ok(AuditEntry {
        id: row.try_get("id")?,
        post_id: row.try_get("post_id")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        from: from
            .map(|s| parse_state("audit from-state", &s))
            .transpose()?,
        to: parse_state("audit to-state", &to)?,
        reason: row.try_get("reason")?,
    })
}

fn attempt_from_row(row: &PgRow) -> Result<PublishAttempt> {
    let outcome: String = row.try_get("outcome")?;
    Ok(PublishAttempt {
        id: row.try_get("id")?,
        post_id: row.try_get("post_id")?,
        account_id: row.try_get("account_id")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        outcome: AttemptOutcome::parse(&outcome)
            .map_err(|_| PgStoreError::corrupt(format!("unknown attempt outcome `{outcome}`")))?,
        code: row.try_get("code")?,
        subcode: row.try_get("subcode")?,
        fbtrace_id: row.try_get("fbtrace_id")?,
        message: row.try_get("message")?,
        duration_ms: i64_to_u64("duration_ms", row.try_get("duration_ms")?)?,
    })
}

fn conflict(message: String) -> PgStoreError {
    PgStoreError::new(ErrorClass::Conflict, message)
}

/// Sorts claimed rows by (due time, id): `RETURNING` does not keep the CTE's order.
fn sort_by_due(posts: &mut [PostRecord]) {
    posts.sort_by(|a, b| (a.due_at(), &a.id).cmp(&(b.due_at(), &b.id)));
}

async fn insert_audit(tx: &mut Transaction<'static, Postgres>, a: &AuditEntry) -> Result<()> {
    sqlx::query(
        "INSERT INTO post_audit (id, post_id, at, actor, from_state, to_state, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&a.id)
    .bind(&a.post_id)
    .bind(a.at)
    .bind(&a.actor)
    .bind(a.from.map(PostState::as_str))
    .bind(a.to.as_str())
    .bind(&a.reason)
    .execute(&mut **tx)
    .await
    .map_err(|e| {
        let e = PgStoreError::from(e);
        if e.is_conflict() {
            conflict(format!("audit entry {} exists", a.id))
        } else {
            e
        }
    })?;
    Ok(())
}

/// The Conflict for a lost optimistic lock, saying whether the row is gone or at
/// another version. Asked on the transaction's own connection: taking a second one
/// from the pool while holding the first could starve a small pool.
async fn version_conflict(
    tx: &mut Transaction<'static, Postgres>,
    id: &str,
    expected: u64,
) -> PgStoreError {
    let current = sqlx::query("SELECT version FROM posts WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await;
    match current {
        Ok(Some(row)) => match row.try_get::<i64, _>("version") {
            Ok(v) => conflict(format!("post {id} is at version {v}, not {expected}")),
            Err(_) => conflict(format!("post {id} is not at version {expected}")),
        },
        Ok(None) => conflict(format!("post {id} is gone")),
        Err(_) => conflict(format!("post {id} is not at version {expected}")),
    }
}

impl PgStore {
    async fn insert_post_tx(&self, p: &PostRecord, audit: &AuditEntry) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        let sql = format!(
            "INSERT INTO posts ({POST_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                     $18, $19, $20, $21, $22, $23, $24)"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&p.id)
            .bind(&p.content_id)
            .bind(&p.tenant_id)
            .bind(&p.account_id)
            .bind(p.kind.as_str())
            .bind(Json(&p.payload))
            .bind(p.state.as_str())
            .bind(&p.author)
            .bind(&p.approver)
            .bind(p.scheduled_at)
            .bind(p.not_before)
            .bind(&p.blocked_reason)
            .bind(i64::from(p.attempts))
            .bind(p.next_attempt_at)
            .bind(&p.lease_owner)
            .bind(p.lease_until)
            .bind(p.armed_at)
            .bind(&p.container_id)
            .bind(&p.published_id)
            .bind(p.published_at)
            .bind(&p.last_error)
            .bind(u64_to_i64("version", p.version)?)
            .bind(p.created_at)
            .bind(p.updated_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                let e = PgStoreError::from(e);
                if e.is_conflict() {
                    conflict(format!("post {} exists", p.id))
                } else {
                    e
                }
            })?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_post_row(&self, id: &str) -> Result<Option<PostRecord>> {
        let sql = format!("SELECT {POST_COLUMNS} FROM posts WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(post_from_row).transpose()
    }

    async fn list_post_rows(&self, f: &PostFilter) -> Result<Vec<PostRecord>> {
        let states: Vec<&str> = f.states.iter().map(|s| s.as_str()).collect();
        // One fixed statement: each filter is "unset or equal", so no SQL is built
        // from input. LIMIT NULL means no limit.
        let sql = format!(
            "SELECT {POST_COLUMNS} FROM posts
             WHERE ($1::text IS NULL OR tenant_id = $1)
               AND ($2::text IS NULL OR account_id = $2)
               AND (cardinality($3::text[]) = 0 OR state = ANY($3))
               AND ($4::text IS NULL OR content_id = $4)
             ORDER BY created_at, id COLLATE \"C\"
             LIMIT $5"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(f.tenant_id.as_deref())
            .bind(f.account_id.as_deref())
            .bind(states)
            .bind(f.content_id.as_deref())
            .bind(f.limit.map(i64::from))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(post_from_row).collect()
    }

    async fn update_post_tx(
        &self,
        p: &PostRecord,
        expected: u64,
        audit: Option<&AuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        // Every column but id and created_at, guarded by the version read earlier.
        let done = sqlx::query(
            "UPDATE posts SET
                 content_id = $3, tenant_id = $4, account_id = $5, kind = $6, payload = $7,
                 state = $8, author = $9, approver = $10, scheduled_at = $11, not_before = $12,
                 blocked_reason = $13, attempts = $14, next_attempt_at = $15, lease_owner = $16,
                 lease_until = $17, armed_at = $18, container_id = $19, published_id = $20,
                 published_at = $21, last_error = $22, version = $23, updated_at = $24
             WHERE id = $1 AND version = $2",
        )
        .bind(&p.id)
        .bind(u64_to_i64("expected version", expected)?)
        .bind(&p.content_id)
        .bind(&p.tenant_id)
        .bind(&p.account_id)
        .bind(p.kind.as_str())
        .bind(Json(&p.payload))
        .bind(p.state.as_str())
        .bind(&p.author)
        .bind(&p.approver)
        .bind(p.scheduled_at)
        .bind(p.not_before)
        .bind(&p.blocked_reason)
        .bind(i64::from(p.attempts))
        .bind(p.next_attempt_at)
        .bind(&p.lease_owner)
        .bind(p.lease_until)
        .bind(p.armed_at)
        .bind(&p.container_id)
        .bind(&p.published_id)
        .bind(p.published_at)
        .bind(&p.last_error)
        .bind(u64_to_i64("version", p.version)?)
        .bind(p.updated_at)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            // Dropping `tx` afterwards rolls back; nothing was written.
            return Err(version_conflict(&mut tx, &p.id, expected).await);
        }
        if let Some(a) = audit {
            insert_audit(&mut tx, a).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn delete_post_tx(&self, id: &str, expected: u64, audit: &AuditEntry) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query("DELETE FROM posts WHERE id = $1 AND version = $2")
            .bind(id)
            .bind(u64_to_i64("expected version", expected)?)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(version_conflict(&mut tx, id, expected).await);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn claim(
        &self,
        now_ms: i64,
        worker: &str,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<PostRecord>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // The due expression is written exactly as in `posts_claim_idx`, so the index
        // serves both the filter and the order.
        let rows = sqlx::query(CLAIM_SQL)
            .bind(now_ms)
            .bind(worker)
            .bind(now_ms.saturating_add(lease_ms))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        let mut posts = rows.iter().map(post_from_row).collect::<Result<Vec<_>>>()?;
        sort_by_due(&mut posts);
        Ok(posts)
    }

    async fn release(&self, id: &str, worker: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE posts SET lease_owner = NULL, lease_until = NULL, version = version + 1
             WHERE id = $1 AND lease_owner = $2",
        )
        .bind(id)
        .bind(worker)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn armed_rows(&self, worker: Option<&str>) -> Result<Vec<PostRecord>> {
        let sql = format!(
            "SELECT {POST_COLUMNS} FROM posts
             WHERE state = 'publishing' AND ($1::text IS NULL OR lease_owner = $1)
             ORDER BY armed_at ASC NULLS FIRST, id COLLATE \"C\""
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(worker)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(post_from_row).collect()
    }

    async fn audit_rows(&self, post_id: &str) -> Result<Vec<AuditEntry>> {
        let sql =
            format!("SELECT {AUDIT_COLUMNS} FROM post_audit WHERE post_id = $1 ORDER BY at, seq");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(post_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(audit_from_row).collect()
    }

    async fn insert_attempt(&self, a: &PublishAttempt) -> Result<()> {
        let sql = format!(
            "INSERT INTO publish_attempts ({ATTEMPT_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&a.id)
            .bind(&a.post_id)
            .bind(&a.account_id)
            .bind(a.started_at)
            .bind(a.finished_at)
            .bind(a.outcome.as_str())
            .bind(a.code)
            .bind(a.subcode)
            .bind(&a.fbtrace_id)
            .bind(&a.message)
            .bind(u64_to_i64("duration_ms", a.duration_ms)?)
            .execute(self.pool())
            .await
            .map_err(|e| {
                let e = PgStoreError::from(e);
                if e.is_conflict() {
                    conflict(format!("attempt {} exists", a.id))
                } else {
                    e
                }
            })?;
        Ok(())
    }

    async fn attempt_rows(&self, post_id: &str) -> Result<Vec<PublishAttempt>> {
        let sql = format!(
            "SELECT {ATTEMPT_COLUMNS} FROM publish_attempts WHERE post_id = $1 ORDER BY started_at, seq"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(post_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(attempt_from_row).collect()
    }

    async fn purge(&self, older_than_ms: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM publish_attempts WHERE started_at < $1")
            .bind(older_than_ms)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }

    async fn governance_count(&self, account: &str, from_ms: i64, to_ms: i64) -> Result<u32> {
        let sql = format!(
            "SELECT COUNT(*) FROM posts
             WHERE account_id = $1 AND state IN {GOVERNANCE_STATES}
               AND COALESCE(published_at, armed_at) >= $2
               AND COALESCE(published_at, armed_at) < $3"
        );
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(account)
            .bind(from_ms)
            .bind(to_ms)
            .fetch_one(self.pool())
            .await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn governance_last(&self, account: &str) -> Result<Option<i64>> {
        let sql = format!(
            "SELECT MAX(COALESCE(published_at, armed_at)) FROM posts
             WHERE account_id = $1 AND state IN {GOVERNANCE_STATES}"
        );
        let t: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(account)
            .fetch_one(self.pool())
            .await?;
        Ok(t)
    }
}

impl PublisherStore for PgStore {
    fn insert_post<'a>(
        &'a self,
        post: &'a PostRecord,
        audit: &'a AuditEntry,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move { Ok(self.insert_post_tx(post, audit).await?) })
    }

    fn get_post<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<PostRecord>> {
        Box::pin(async move { Ok(self.get_post_row(id).await?) })
    }

    fn list_posts<'a>(&'a self, filter: &'a PostFilter) -> StoreFuture<'a, Vec<PostRecord>> {
        Box::pin(async move { Ok(self.list_post_rows(filter).await?) })
    }

    fn update_post<'a>(
        &'a self,
        post: &'a PostRecord,
        expected_version: u64,
        audit: Option<&'a AuditEntry>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move { Ok(self.update_post_tx(post, expected_version, audit).await?) })
    }

    fn delete_post<'a>(
        &'a self,
        id: &'a str,
        expected_version: u64,
        audit: &'a AuditEntry,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move { Ok(self.delete_post_tx(id, expected_version, audit).await?) })
    }

    fn claim_due<'a>(
        &'a self,
        now_ms: i64,
        worker_id: &'a str,
        lease_ms: i64,
        limit: u32,
    ) -> StoreFuture<'a, Vec<PostRecord>> {
        Box::pin(async move { Ok(self.claim(now_ms, worker_id, lease_ms, limit).await?) })
    }

    fn release_lease<'a>(&'a self, id: &'a str, worker_id: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(async move { Ok(self.release(id, worker_id).await?) })
    }

    fn armed<'a>(&'a self, worker_id: Option<&'a str>) -> StoreFuture<'a, Vec<PostRecord>> {
        Box::pin(async move { Ok(self.armed_rows(worker_id).await?) })
    }

    fn audit_trail<'a>(&'a self, post_id: &'a str) -> StoreFuture<'a, Vec<AuditEntry>> {
        Box::pin(async move { Ok(self.audit_rows(post_id).await?) })
    }

    fn record_attempt<'a>(&'a self, attempt: &'a PublishAttempt) -> StoreFuture<'a, ()> {
        Box::pin(async move { Ok(self.insert_attempt(attempt).await?) })
    }

    fn attempts<'a>(&'a self, post_id: &'a str) -> StoreFuture<'a, Vec<PublishAttempt>> {
        Box::pin(async move { Ok(self.attempt_rows(post_id).await?) })
    }

    fn purge_attempts(&self, older_than_ms: i64) -> StoreFuture<'_, u64> {
        Box::pin(async move { Ok(self.purge(older_than_ms).await?) })
    }

    fn published_count_between<'a>(
        &'a self,
        account_id: &'a str,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreFuture<'a, u32> {
        Box::pin(async move { Ok(self.governance_count(account_id, from_ms, to_ms).await?) })
    }

    fn last_published_at<'a>(&'a self, account_id: &'a str) -> StoreFuture<'a, Option<i64>> {
        Box::pin(async move { Ok(self.governance_last(account_id).await?) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_literals_match_the_domain() {
        for s in PostState::ALL {
            let quoted = format!("'{}'", s.as_str());
            assert_eq!(
                CLAIM_SQL.contains(&quoted),
                s.is_claimable(),
                "claim SQL vs is_claimable for {s}"
            );
            assert_eq!(
                GOVERNANCE_STATES.contains(&quoted),
                s.counts_for_governance(),
                "governance SQL vs counts_for_governance for {s}"
            );
        }
        assert_eq!(PostState::Publishing.as_str(), "publishing");
    }
}
