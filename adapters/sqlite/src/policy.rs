//! [`PolicyStore`]: the messaging-policy guard's memory in `policy_inbound` and
//! `policy_private_replies`.
//!
//! Every write is a single statement, which SQLite runs atomically; the one-reply
//! rule rests on the `(page_id, comment_id)` primary key: the reservation is
//! `INSERT … ON CONFLICT DO NOTHING` and wins only when it wrote a row.

use std::time::SystemTime;

use futures_util::future::BoxFuture;
use meta_graph::messenger::policy::{PolicyStore, ReplyState, StoreError};

use crate::SqliteStore;
use crate::convert::{ns_to_time, time_to_ns};
use crate::error::{SqliteError, db};

impl SqliteStore {
    async fn record_inbound_at(
        &self,
        page_id: &str,
        psid: &str,
        at: SystemTime,
    ) -> Result<(), SqliteError> {
        let at = time_to_ns("at", at)?;
        let _turn = self.write_lock().await;
        // Webhooks arrive out of order: keep the latest time, in the same statement.
        sqlx::query(
            "INSERT INTO policy_inbound (page_id, psid, last_at_ns) VALUES (?, ?, ?) \
             ON CONFLICT (page_id, psid) DO UPDATE \
             SET last_at_ns = max(last_at_ns, excluded.last_at_ns)",
        )
        .bind(page_id)
        .bind(psid)
        .bind(at)
        .execute(self.pool())
        .await
        .map_err(db("record inbound"))?;
        Ok(())
    }

    async fn last_inbound_at(
        &self,
        page_id: &str,
        psid: &str,
    ) -> Result<Option<SystemTime>, SqliteError> {
        let v: Option<i64> = sqlx::query_scalar(
            "SELECT last_at_ns FROM policy_inbound WHERE page_id = ? AND psid = ?",
        )
        .bind(page_id)
        .bind(psid)
        .fetch_optional(self.pool())
        .await
        .map_err(db("last inbound"))?;
        Ok(v.map(ns_to_time))
    }

    async fn reply_state(
        &self,
        page_id: &str,
        comment_id: &str,
    ) -> Result<Option<ReplyState>, SqliteError> {
        let v: Option<String> = sqlx::query_scalar(
            "SELECT state FROM policy_private_replies WHERE page_id = ? AND comment_id = ?",
        )
        .bind(page_id)
        .bind(comment_id)
        .fetch_optional(self.pool())
        .await
        .map_err(db("private reply"))?;
        match v.as_deref() {
            None => Ok(None),
            Some("reserved") => Ok(Some(ReplyState::Reserved)),
            Some("sent") => Ok(Some(ReplyState::Sent)),
            Some(other) => Err(SqliteError::invalid(
                "state",
                format!("unknown private-reply state `{other}`"),
            )),
        }
    }

    async fn reserve_reply(
        &self,
        page_id: &str,
        comment_id: &str,
        at: SystemTime,
    ) -> Result<bool, SqliteError> {
        let at = time_to_ns("at", at)?;
        let _turn = self.write_lock().await;
        let done = sqlx::query(
            "INSERT INTO policy_private_replies (page_id, comment_id, state, reserved_at_ns) \
             VALUES (?, ?, 'reserved', ?) ON CONFLICT (page_id, comment_id) DO NOTHING",
        )
        .bind(page_id)
        .bind(comment_id)
        .bind(at)
        .execute(self.pool())
        .await
        .map_err(db("reserve private reply"))?;
        // The primary key let exactly one concurrent caller write the row.
        Ok(done.rows_affected() == 1)
    }

    async fn confirm_reply(&self, page_id: &str, comment_id: &str) -> Result<(), SqliteError> {
        let _turn = self.write_lock().await;
        // An upsert: a reply that went out is recorded as sent even if its
        // reservation was released meanwhile, so it can never be sent again.
        sqlx::query(
            "INSERT INTO policy_private_replies (page_id, comment_id, state) \
             VALUES (?, ?, 'sent') ON CONFLICT (page_id, comment_id) DO UPDATE SET state = 'sent'",
        )
        .bind(page_id)
        .bind(comment_id)
        .execute(self.pool())
        .await
        .map_err(db("confirm private reply"))?;
        Ok(())
    }

    async fn release_reply(&self, page_id: &str, comment_id: &str) -> Result<(), SqliteError> {
        let _turn = self.write_lock().await;
        // Only a reservation is freed; a sent reply stays forever.
        sqlx::query(
            "DELETE FROM policy_private_replies \
             WHERE page_id = ? AND comment_id = ? AND state = 'reserved'",
        )
        .bind(page_id)
        .bind(comment_id)
        .execute(self.pool())
        .await
        .map_err(db("release private reply"))?;
        Ok(())
    }
}

impl PolicyStore for SqliteStore {
    fn record_inbound<'a>(
        &'a self,
        page_id: &'a str,
        psid: &'a str,
        at: SystemTime,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { Ok(self.record_inbound_at(page_id, psid, at).await?) })
    }

    fn last_inbound<'a>(
        &'a self,
        page_id: &'a str,
        psid: &'a str,
    ) -> BoxFuture<'a, Result<Option<SystemTime>, StoreError>> {
        Box::pin(async move { Ok(self.last_inbound_at(page_id, psid).await?) })
    }

    fn private_reply<'a>(
        &'a self,
        page_id: &'a str,
        comment_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<ReplyState>, StoreError>> {
        Box::pin(async move { Ok(self.reply_state(page_id, comment_id).await?) })
    }

    fn reserve_private_reply<'a>(
        &'a self,
        page_id: &'a str,
        comment_id: &'a str,
        at: SystemTime,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move { Ok(self.reserve_reply(page_id, comment_id, at).await?) })
    }

    fn confirm_private_reply<'a>(
        &'a self,
        page_id: &'a str,
        comment_id: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { Ok(self.confirm_reply(page_id, comment_id).await?) })
    }

    fn release_private_reply<'a>(
        &'a self,
        page_id: &'a str,
        comment_id: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { Ok(self.release_reply(page_id, comment_id).await?) })
    }
}
