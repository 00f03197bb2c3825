//! [`PolicyStore`] on `policy_inbound` and `policy_private_replies`.
//!
//! The one-private-reply rule holds across every instance sharing the database: the
//! reservation is `INSERT … ON CONFLICT DO NOTHING` on the `(page_id, comment_id)`
//! primary key, and only the caller whose insert affected a row wins. No read-then-
//! write window exists for two instances to slip through.

use std::time::SystemTime;

use futures_util::future::BoxFuture;
use meta_graph::messenger::policy::{PolicyStore, ReplyState, StoreError};
use sqlx::Row;

use crate::PgStore;
use crate::convert::{ns_to_time, time_to_ns};
use crate::error::{PgStoreError, Result};

impl PgStore {
    async fn policy_record_inbound(&self, page: &str, psid: &str, at: SystemTime) -> Result<()> {
        // GREATEST keeps the latest time: webhooks may arrive out of order.
        sqlx::query(
            "INSERT INTO policy_inbound (page_id, psid, last_at_ns) VALUES ($1, $2, $3)
             ON CONFLICT (page_id, psid)
             DO UPDATE SET last_at_ns = GREATEST(policy_inbound.last_at_ns, EXCLUDED.last_at_ns)",
        )
        .bind(page)
        .bind(psid)
        .bind(time_to_ns("inbound time", at)?)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn policy_last_inbound(&self, page: &str, psid: &str) -> Result<Option<SystemTime>> {
        let row =
            sqlx::query("SELECT last_at_ns FROM policy_inbound WHERE page_id = $1 AND psid = $2")
                .bind(page)
                .bind(psid)
                .fetch_optional(self.pool())
                .await?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some(ns_to_time("last_at_ns", r.try_get("last_at_ns")?)?)),
        }
    }

    async fn policy_reply(&self, page: &str, comment: &str) -> Result<Option<ReplyState>> {
        let row = sqlx::query(
            "SELECT state FROM policy_private_replies WHERE page_id = $1 AND comment_id = $2",
        )
        .bind(page)
        .bind(comment)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let state: String = row.try_get("state")?;
        match state.as_str() {
            "reserved" => Ok(Some(ReplyState::Reserved)),
            "sent" => Ok(Some(ReplyState::Sent)),
            other => Err(PgStoreError::corrupt(format!(
                "unknown private-reply state `{other}`"
            ))),
        }
    }

    async fn policy_reserve(&self, page: &str, comment: &str, at: SystemTime) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO policy_private_replies (page_id, comment_id, state, reserved_at_ns)
             VALUES ($1, $2, 'reserved', $3)
             ON CONFLICT (page_id, comment_id) DO NOTHING",
        )
        .bind(page)
        .bind(comment)
        .bind(time_to_ns("reservation time", at)?)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn policy_confirm(&self, page: &str, comment: &str) -> Result<()> {
        // An upsert, like the in-memory store: confirming a reply that was sent by
        // another path still records it, so it is never sent again.
        sqlx::query(
            "INSERT INTO policy_private_replies (page_id, comment_id, state)
             VALUES ($1, $2, 'sent')
             ON CONFLICT (page_id, comment_id) DO UPDATE SET state = 'sent'",
        )
        .bind(page)
        .bind(comment)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn policy_release(&self, page: &str, comment: &str) -> Result<()> {
        // Only a reservation is freed; a sent reply stays sent.
        sqlx::query(
            "DELETE FROM policy_private_replies
             WHERE page_id = $1 AND comment_id = $2 AND state = 'reserved'",
        )
        .bind(page)
        .bind(comment)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

impl PolicyStore for PgStore {
    fn record_inbound<'a>(
        &'a self,
        page_id: &'a str,
        psid: &'a str,
        at: SystemTime,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { Ok(self.policy_record_inbound(page_id, psid, at).await?) })
    }

    fn last_inbound<'a>(
        &'a self,
        page_id: &'a str,
        psid: &'a str,
    ) -> BoxFuture<'a, Result<Option<SystemTime>, StoreError>> {
        Box::pin(async move { Ok(self.policy_last_inbound(page_id, psid).await?) })
    }

    fn private_reply<'a>(
        &'a self,
        page_id: &'a str,
        comment_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<ReplyState>, StoreError>> {
        Box::pin(async move { Ok(self.policy_reply(page_id, comment_id).await?) })
    }

    fn reserve_private_reply<'a>(
        &'a self,
        page_id: &'a str,
        comment_id: &'a str,
        at: SystemTime,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move { Ok(self.policy_reserve(page_id, comment_id, at).await?) })
    }

    fn confirm_private_reply<'a>(
        &'a self,
        page_id: &'a str,
        comment_id: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { Ok(self.policy_confirm(page_id, comment_id).await?) })
    }

    fn release_private_reply<'a>(
        &'a self,
        page_id: &'a str,
        comment_id: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { Ok(self.policy_release(page_id, comment_id).await?) })
    }
}
