//! [`PublisherStore`]: posts, the append-only audit trail and the attempt log.
//!
//! Multi-statement writes run in `BEGIN IMMEDIATE` transactions: SQLite has one
//! writer, and taking its lock at `BEGIN` (rather than at the first write, as a
//! deferred transaction would) means a transaction never has to upgrade a read lock —
//! the upgrade is where concurrent SQLite writers deadlock and fail with
//! `SQLITE_BUSY`. Together with the in-process write turn ([`SqliteStore`] keeps one),
//! that makes [`PublisherStore::claim_due`] exclusive: the select of due rows and the
//! lease update happen with no other writer in between, so two workers can never
//! lease the same post.
//!
//! The audit table has no UPDATE or DELETE statement anywhere in this crate, and
//! triggers refuse both (see `migrations/0002_publisher.sql`).

use meta_graph::publisher::store::{
    AttemptOutcome, AuditEntry, PostFilter, PostKind, PostRecord, PostState, PublishAttempt,
    PublisherStore,
};
use meta_graph::store::{StoreError, StoreFuture};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};

use crate::SqliteStore;
use crate::convert::{i64_to_u64, u64_to_i64};
use crate::error::{SqliteError, db};

/// `SELECT <every post column> FROM posts <tail>`.
macro_rules! select_posts {
    ($tail:literal) => {
        concat!("SELECT ", post_columns!(), " FROM posts ", $tail)
    };
}

macro_rules! post_columns {
    () => {
        "id, content_id, tenant_id, account_id, kind, payload, state, author, approver, \
         scheduled_at, not_before, blocked_reason, attempts, next_attempt_at, lease_owner, \
         lease_until, armed_at, container_id, published_id, published_at, last_error, \
         version, created_at, updated_at"
    };
}

fn post_from_row(r: &SqliteRow) -> Result<PostRecord, SqliteError> {
    let e = || db("read post");
    let kind: String = r.try_get("kind").map_err(e())?;
    let state: String = r.try_get("state").map_err(e())?;
    let payload: String = r.try_get("payload").map_err(e())?;
    let attempts: i64 = r.try_get("attempts").map_err(e())?;
    Ok(PostRecord {
        id: r.try_get("id").map_err(e())?,
        content_id: r.try_get("content_id").map_err(e())?,
        tenant_id: r.try_get("tenant_id").map_err(e())?,
        account_id: r.try_get("account_id").map_err(e())?,
        kind: PostKind::parse(&kind)
            .map_err(|err| SqliteError::invalid("kind", err.to_string()))?,
        payload: serde_json::from_str(&payload)
            .map_err(|err| SqliteError::invalid("payload", err.to_string()))?,
        state: PostState::parse(&state)
            .map_err(|err| SqliteError::invalid("state", err.to_string()))?,
        author: r.try_get("author").map_err(e())?,
        approver: r.try_get("approver").map_err(e())?,
        scheduled_at: r.try_get("scheduled_at").map_err(e())?,
        not_before: r.try_get("not_before").map_err(e())?,
        blocked_reason: r.try_get("blocked_reason").map_err(e())?,
        attempts: u32::try_from(attempts)
            .map_err(|_| SqliteError::invalid("attempts", format!("stored value {attempts}")))?,
        next_attempt_at: r.try_get("next_attempt_at").map_err(e())?,
        lease_owner: r.try_get("lease_owner").map_err(e())?,
        lease_until: r.try_get("lease_until").map_err(e())?,
        armed_at: r.try_get("armed_at").map_err(e())?,
        container_id: r.try_get("container_id").map_err(e())?,
        published_id: r.try_get("published_id").map_err(e())?,
        published_at: r.try_get("published_at").map_err(e())?,
        last_error: r.try_get("last_error").map_err(e())?,
        version: i64_to_u64("version", r.try_get("version").map_err(e())?)?,
        created_at: r.try_get("created_at").map_err(e())?,
        updated_at: r.try_get("updated_at").map_err(e())?,
    })
}

fn audit_from_row(r: &SqliteRow) -> Result<AuditEntry, SqliteError> {
    let e = || db("read audit entry");
    let from: Option<String> = r.try_get("from_state").map_err(e())?;
    let to: String = r.try_get("to_state").map_err(e())?;
    let state = |s: &str| {
        PostState::parse(s).map_err(|err| SqliteError::invalid("audit state", err.to_string()))
    };
    Ok(AuditEntry {
        id: r.try_get("id").map_err(e())?,
        post_id: r.try_get("post_id").map_err(e())?,
        at: r.try_get("at").map_err(e())?,
        actor: r.try_get("actor").map_err(e())?,
        from: from.as_deref().map(state).transpose()?,
        to: state(&to)?,
        reason: r.try_get("reason").map_err(e())?,
    })
}

fn attempt_from_row(r: &SqliteRow) -> Result<PublishAttempt, SqliteError> {
    let e = || db("read attempt");
    let outcome: String = r.try_get("outcome").map_err(e())?;
    Ok(PublishAttempt {
        id: r.try_get("id").map_err(e())?,
        post_id: r.try_get("post_id").map_err(e())?,
        account_id: r.try_get("account_id").map_err(e())?,
        started_at: r.try_get("started_at").map_err(e())?,
        finished_at: r.try_get("finished_at").map_err(e())?,
        outcome: AttemptOutcome::parse(&outcome)
            .map_err(|err| SqliteError::invalid("outcome", err.to_string()))?,
        code: r.try_get("code").map_err(e())?,
        subcode: r.try_get("subcode").map_err(e())?,
        fbtrace_id: r.try_get("fbtrace_id").map_err(e())?,
        message: r.try_get("message").map_err(e())?,
        duration_ms: i64_to_u64("duration_ms", r.try_get("duration_ms").map_err(e())?)?,
    })
}

/// The post's values that need converting before they are bound.
struct PostValues {
    payload: String,
    version: i64,
}

impl PostValues {
    fn new(p: &PostRecord) -> Result<Self, SqliteError> {
        Ok(PostValues {
            payload: serde_json::to_string(&p.payload)
                .map_err(|err| SqliteError::invalid("payload", err.to_string()))?,
            version: u64_to_i64("version", p.version)?,
        })
    }
}

async fn insert_audit(
    tx: &mut Transaction<'static, Sqlite>,
    a: &AuditEntry,
) -> Result<(), SqliteError> {
    sqlx::query(
        "INSERT INTO post_audit (id, post_id, at, actor, from_state, to_state, reason) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
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
        // The only INSERT trigger on post_audit is the duplicate guard, so its abort
        // means "this id exists": a conflict, like the UNIQUE index it pre-empts.
        if is_trigger_abort(&e) {
            SqliteError::Conflict {
                op: "append audit entry",
                message: format!("audit entry {} exists", a.id),
            }
        } else {
            SqliteError::db("append audit entry", e)
        }
    })?;
    Ok(())
}

/// `SQLITE_CONSTRAINT_TRIGGER`: a `RAISE(ABORT, …)` from a trigger.
const SQLITE_CONSTRAINT_TRIGGER: &str = "1811";

fn is_trigger_abort(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some(SQLITE_CONSTRAINT_TRIGGER))
}

fn conflict(message: String) -> StoreError {
    StoreError::Conflict(message)
}

impl SqliteStore {
    /// A write transaction that holds SQLite's write lock from its first statement.
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, SqliteError> {
        self.pool()
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db("begin write transaction"))
    }

    async fn insert_post_row(&self, p: &PostRecord, audit: &AuditEntry) -> Result<(), StoreError> {
        let v = PostValues::new(p)?;
        let _turn = self.write_lock().await;
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(concat!(
            "INSERT INTO posts (",
            post_columns!(),
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO NOTHING"
        ))
        .bind(&p.id)
        .bind(&p.content_id)
        .bind(&p.tenant_id)
        .bind(&p.account_id)
        .bind(p.kind.as_str())
        .bind(&v.payload)
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
        .bind(v.version)
        .bind(p.created_at)
        .bind(p.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(db("insert post"))?;
        if inserted.rows_affected() == 0 {
            // Dropping the transaction rolls it back.
            return Err(conflict(format!("post {} exists", p.id)));
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(db("commit insert post"))?;
        Ok(())
    }

    async fn get_post_row(&self, id: &str) -> Result<Option<PostRecord>, SqliteError> {
        let row = sqlx::query(select_posts!("WHERE id = ?"))
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(db("get post"))?;
        row.as_ref().map(post_from_row).transpose()
    }

    async fn list_post_rows(&self, f: &PostFilter) -> Result<Vec<PostRecord>, SqliteError> {
        // One static statement for every filter: unset filters are NULL and match all;
        // the states travel as a JSON array read with json_each.
        let states = if f.states.is_empty() {
            None
        } else {
            let names: Vec<&str> = f.states.iter().map(|s| s.as_str()).collect();
            Some(
                serde_json::to_string(&names)
                    .map_err(|err| SqliteError::invalid("states", err.to_string()))?,
            )
        };
        // LIMIT -1 is SQLite's "no limit".
        let limit = f.limit.map_or(-1, i64::from);
        let rows = sqlx::query(select_posts!(
            "WHERE (?1 IS NULL OR tenant_id = ?1) AND (?2 IS NULL OR account_id = ?2) \
             AND (?3 IS NULL OR content_id = ?3) \
             AND (?4 IS NULL OR state IN (SELECT value FROM json_each(?4))) \
             ORDER BY created_at, id LIMIT ?5"
        ))
        .bind(&f.tenant_id)
        .bind(&f.account_id)
        .bind(&f.content_id)
        .bind(states)
        .bind(limit)
        .fetch_all(self.pool())
        .await
        .map_err(db("list posts"))?;
        rows.iter().map(post_from_row).collect()
    }

    async fn update_post_row(
        &self,
        p: &PostRecord,
        expected_version: u64,
        audit: Option<&AuditEntry>,
    ) -> Result<(), StoreError> {
        let v = PostValues::new(p)?;
        let expected = u64_to_i64("expected_version", expected_version)?;
        let _turn = self.write_lock().await;
        let mut tx = self.begin_write().await?;
        // The optimistic lock: the row changes only if nobody wrote it since it was
        // read at `expected_version`.
        let updated = sqlx::query(
            "UPDATE posts SET content_id = ?, tenant_id = ?, account_id = ?, kind = ?, \
             payload = ?, state = ?, author = ?, approver = ?, scheduled_at = ?, \
             not_before = ?, blocked_reason = ?, attempts = ?, next_attempt_at = ?, \
             lease_owner = ?, lease_until = ?, armed_at = ?, container_id = ?, \
             published_id = ?, published_at = ?, last_error = ?, version = ?, updated_at = ? \
             WHERE id = ? AND version = ?",
        )
        .bind(&p.content_id)
        .bind(&p.tenant_id)
        .bind(&p.account_id)
        .bind(p.kind.as_str())
        .bind(&v.payload)
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
        .bind(v.version)
        .bind(p.updated_at)
        .bind(&p.id)
        .bind(expected)
        .execute(&mut *tx)
        .await
        .map_err(db("update post"))?;
        if updated.rows_affected() == 0 {
            return Err(conflict(format!(
                "post {} is gone or no longer at version {expected_version}",
                p.id
            )));
        }
        if let Some(a) = audit {
            insert_audit(&mut tx, a).await?;
        }
        tx.commit().await.map_err(db("commit update post"))?;
        Ok(())
    }

    async fn delete_post_row(
        &self,
        id: &str,
        expected_version: u64,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let expected = u64_to_i64("expected_version", expected_version)?;
        let _turn = self.write_lock().await;
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM posts WHERE id = ? AND version = ?")
            .bind(id)
            .bind(expected)
            .execute(&mut *tx)
            .await
            .map_err(db("delete post"))?;
        if deleted.rows_affected() == 0 {
            return Err(conflict(format!(
                "post {id} is gone or no longer at version {expected_version}"
            )));
        }
        // The trail stays (no foreign key, no cascade) and records the deletion.
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(db("commit delete post"))?;
        Ok(())
    }

    async fn claim_due_rows(
        &self,
        now_ms: i64,
        worker_id: &str,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<PostRecord>, SqliteError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let lease_until = now_ms.saturating_add(lease_ms);
        let _turn = self.write_lock().await;
        let mut tx = self.begin_write().await?;
        // Under the write lock: pick the due posts (earliest first) whose lease is free
        // or expired...
        // The state list is PostState::is_claimable and matches the partial index
        // `posts_due`.
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM posts WHERE state IN ('scheduled', 'preparing', 'ready') \
             AND due_at <= ?1 \
             AND (lease_owner IS NULL OR lease_until IS NULL OR lease_until <= ?1) \
             ORDER BY due_at, id LIMIT ?2",
        )
        .bind(now_ms)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(db("select due posts"))?;
        // ...and lease them. No other writer can run in between, so nothing can take a
        // post after it was selected.
        let mut claimed = Vec::with_capacity(ids.len());
        for id in &ids {
            let row = sqlx::query(concat!(
                "UPDATE posts SET lease_owner = ?, lease_until = ?, version = version + 1, \
                 updated_at = ? WHERE id = ? RETURNING ",
                post_columns!()
            ))
            .bind(worker_id)
            .bind(lease_until)
            .bind(now_ms)
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db("lease post"))?;
            claimed.push(post_from_row(&row)?);
        }
        tx.commit().await.map_err(db("commit claim"))?;
        if !claimed.is_empty() {
            tracing::debug!(worker = worker_id, n = claimed.len(), "claimed due posts");
        }
        Ok(claimed)
    }

    async fn release_lease_row(&self, id: &str, worker_id: &str) -> Result<bool, SqliteError> {
        let _turn = self.write_lock().await;
        let done = sqlx::query(
            "UPDATE posts SET lease_owner = NULL, lease_until = NULL, version = version + 1 \
             WHERE id = ? AND lease_owner = ?",
        )
        .bind(id)
        .bind(worker_id)
        .execute(self.pool())
        .await
        .map_err(db("release lease"))?;
        Ok(done.rows_affected() == 1)
    }

    async fn armed_rows(&self, worker_id: Option<&str>) -> Result<Vec<PostRecord>, SqliteError> {
        let rows = sqlx::query(select_posts!(
            "WHERE state = 'publishing' AND (?1 IS NULL OR lease_owner = ?1) \
             ORDER BY armed_at, id"
        ))
        .bind(worker_id)
        .fetch_all(self.pool())
        .await
        .map_err(db("armed posts"))?;
        rows.iter().map(post_from_row).collect()
    }

    async fn audit_rows(&self, post_id: &str) -> Result<Vec<AuditEntry>, SqliteError> {
        let rows = sqlx::query(
            "SELECT id, post_id, at, actor, from_state, to_state, reason FROM post_audit \
             WHERE post_id = ? ORDER BY at, seq",
        )
        .bind(post_id)
        .fetch_all(self.pool())
        .await
        .map_err(db("audit trail"))?;
        rows.iter().map(audit_from_row).collect()
    }

    async fn record_attempt_row(&self, a: &PublishAttempt) -> Result<(), SqliteError> {
        let duration = u64_to_i64("duration_ms", a.duration_ms)?;
        let _turn = self.write_lock().await;
        sqlx::query(
            "INSERT INTO publish_attempts (id, post_id, account_id, started_at, finished_at, \
             outcome, code, subcode, fbtrace_id, message, duration_ms) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
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
        .bind(duration)
        .execute(self.pool())
        .await
        .map_err(db("record attempt"))?;
        Ok(())
    }

    async fn attempt_rows(&self, post_id: &str) -> Result<Vec<PublishAttempt>, SqliteError> {
        let rows = sqlx::query(
            "SELECT id, post_id, account_id, started_at, finished_at, outcome, code, subcode, \
             fbtrace_id, message, duration_ms FROM publish_attempts \
             WHERE post_id = ? ORDER BY started_at, seq",
        )
        .bind(post_id)
        .fetch_all(self.pool())
        .await
        .map_err(db("attempts"))?;
        rows.iter().map(attempt_from_row).collect()
    }

    async fn purge_attempt_rows(&self, older_than_ms: i64) -> Result<u64, SqliteError> {
        let _turn = self.write_lock().await;
        let done = sqlx::query("DELETE FROM publish_attempts WHERE started_at < ?")
            .bind(older_than_ms)
            .execute(self.pool())
            .await
            .map_err(db("purge attempts"))?;
        Ok(done.rows_affected())
    }

    async fn published_count(
        &self,
        account_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<u32, SqliteError> {
        // The state list and the coalesce match the partial index `posts_activity`
        // (and PostState::counts_for_governance / PostRecord::activity_at).
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM posts WHERE account_id = ? \
             AND state IN ('publishing', 'published', 'unconfirmed') \
             AND coalesce(published_at, armed_at) >= ? AND coalesce(published_at, armed_at) < ?",
        )
        .bind(account_id)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_one(self.pool())
        .await
        .map_err(db("published count"))?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn last_published(&self, account_id: &str) -> Result<Option<i64>, SqliteError> {
        let t: Option<i64> = sqlx::query_scalar(
            "SELECT max(coalesce(published_at, armed_at)) FROM posts WHERE account_id = ? \
             AND state IN ('publishing', 'published', 'unconfirmed')",
        )
        .bind(account_id)
        .fetch_one(self.pool())
        .await
        .map_err(db("last published"))?;
        Ok(t)
    }
}

impl PublisherStore for SqliteStore {
    fn insert_post<'a>(
        &'a self,
        post: &'a PostRecord,
        audit: &'a AuditEntry,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.insert_post_row(post, audit))
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
        Box::pin(self.update_post_row(post, expected_version, audit))
    }

    fn delete_post<'a>(
        &'a self,
        id: &'a str,
        expected_version: u64,
        audit: &'a AuditEntry,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.delete_post_row(id, expected_version, audit))
    }

    fn claim_due<'a>(
        &'a self,
        now_ms: i64,
        worker_id: &'a str,
        lease_ms: i64,
        limit: u32,
    ) -> StoreFuture<'a, Vec<PostRecord>> {
        Box::pin(async move {
            Ok(self
                .claim_due_rows(now_ms, worker_id, lease_ms, limit)
                .await?)
        })
    }

    fn release_lease<'a>(&'a self, id: &'a str, worker_id: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(async move { Ok(self.release_lease_row(id, worker_id).await?) })
    }

    fn armed<'a>(&'a self, worker_id: Option<&'a str>) -> StoreFuture<'a, Vec<PostRecord>> {
        Box::pin(async move { Ok(self.armed_rows(worker_id).await?) })
    }

    fn audit_trail<'a>(&'a self, post_id: &'a str) -> StoreFuture<'a, Vec<AuditEntry>> {
        Box::pin(async move { Ok(self.audit_rows(post_id).await?) })
    }

    fn record_attempt<'a>(&'a self, attempt: &'a PublishAttempt) -> StoreFuture<'a, ()> {
        Box::pin(async move { Ok(self.record_attempt_row(attempt).await?) })
    }

    fn attempts<'a>(&'a self, post_id: &'a str) -> StoreFuture<'a, Vec<PublishAttempt>> {
        Box::pin(async move { Ok(self.attempt_rows(post_id).await?) })
    }

    fn purge_attempts(&self, older_than_ms: i64) -> StoreFuture<'_, u64> {
        Box::pin(async move { Ok(self.purge_attempt_rows(older_than_ms).await?) })
    }

    fn published_count_between<'a>(
        &'a self,
        account_id: &'a str,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreFuture<'a, u32> {
        Box::pin(async move { Ok(self.published_count(account_id, from_ms, to_ms).await?) })
    }

    fn last_published_at<'a>(&'a self, account_id: &'a str) -> StoreFuture<'a, Option<i64>> {
        Box::pin(async move { Ok(self.last_published(account_id).await?) })
    }
}
