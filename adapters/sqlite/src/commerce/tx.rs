//! [`CommerceTx`] on SQLite: one `BEGIN IMMEDIATE` transaction holding the store's
//! in-process write turn for its whole life.
//!
//! SQLite has one writer. Taking its lock at `BEGIN` means every row this
//! transaction reads stays as read until it commits or rolls back — that is what
//! "locked" means here (the `lock_*`, `take_pending` and `open_orders` methods are
//! plain reads) — and the transaction never has to upgrade a read lock to a write lock,
//! where concurrent SQLite writers deadlock. Readers on other pooled connections keep
//! reading the last committed state (WAL) meanwhile.

use meta_commerce::store::{
    AuditRecord, Buyer, CommerceTx, InboxComment, InboxStatus, Order, OutboxMessage, StockLevel,
    StoreFuture, WaitEntry,
};
use sqlx::{Sqlite, Transaction};
use tokio::sync::OwnedMutexGuard;

use super::batch::{self, json_keys};
use super::rows::{buyer_json, inbox_json, json_list, order_json, stock_json, waitlist_json};
use crate::error::{SqliteError, db};

/// A commerce transaction. Field order matters: the transaction drops (and so rolls
/// back) before the write turn is handed to the next writer.
pub(super) struct SqliteCommerceTx {
    tx: Transaction<'static, Sqlite>,
    _turn: OwnedMutexGuard<()>,
}

impl std::fmt::Debug for SqliteCommerceTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteCommerceTx").finish_non_exhaustive()
    }
}

impl SqliteCommerceTx {
    pub(super) fn new(tx: Transaction<'static, Sqlite>, turn: OwnedMutexGuard<()>) -> Self {
        SqliteCommerceTx { tx, _turn: turn }
    }

    async fn take_pending_rows(
        &mut self,
        ids: &[String],
    ) -> Result<Vec<InboxComment>, SqliteError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let row = sqlx::query(concat!(
            "SELECT json_group_array(",
            inbox_json!(),
            " ORDER BY created_time_ms, comment_id) FROM commerce_inbox \
             WHERE comment_id IN (SELECT value FROM json_each(?)) AND status = 'pending'"
        ))
        .bind(json_keys(ids)?)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(db("take pending"))?;
        json_list(&row, "inbox comment")
    }

    async fn lock_stock_rows(
        &mut self,
        shop_id: &str,
        skus: &[String],
    ) -> Result<Vec<StockLevel>, SqliteError> {
        if skus.is_empty() {
            return Ok(Vec::new());
        }
        let row = sqlx::query(concat!(
            "SELECT json_group_array(",
            stock_json!(),
            " ORDER BY sku) FROM commerce_products WHERE shop_id = ? \
             AND sku IN (SELECT value FROM json_each(?))"
        ))
        .bind(shop_id)
        .bind(json_keys(skus)?)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(db("lock stock"))?;
        json_list(&row, "stock level")
    }

    async fn open_order_rows(
        &mut self,
        keys: &[(String, String)],
    ) -> Result<Vec<Order>, SqliteError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let pairs: Vec<[&str; 2]> = keys
            .iter()
            .map(|(live, buyer)| [live.as_str(), buyer.as_str()])
            .collect();
        let pairs = serde_json::to_string(&pairs)
            .map_err(|e| SqliteError::invalid("order keys", e.to_string()))?;
        // The row-value IN is answered from the one-open-order index (live, buyer, …).
        let row = sqlx::query(concat!(
            "SELECT json_group_array(",
            order_json!(),
            " ORDER BY o.created_at_ms, o.id) FROM commerce_orders o \
             WHERE o.status = 'open' AND (o.live_id, o.buyer_id) IN \
             (SELECT value ->> 0, value ->> 1 FROM json_each(?))"
        ))
        .bind(pairs)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(db("open orders"))?;
        json_list(&row, "order")
    }

    async fn lock_order_rows(&mut self, ids: &[String]) -> Result<Vec<Order>, SqliteError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let row = sqlx::query(concat!(
            "SELECT json_group_array(",
            order_json!(),
            " ORDER BY o.created_at_ms, o.id) FROM commerce_orders o \
             WHERE o.id IN (SELECT value FROM json_each(?))"
        ))
        .bind(json_keys(ids)?)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(db("lock orders"))?;
        json_list(&row, "order")
    }

    async fn waitlist_rows(
        &mut self,
        shop_id: &str,
        skus: &[String],
    ) -> Result<Vec<WaitEntry>, SqliteError> {
        if skus.is_empty() {
            return Ok(Vec::new());
        }
        let row = sqlx::query(concat!(
            "SELECT json_group_array(",
            waitlist_json!(),
            " ORDER BY created_time_ms, id) FROM commerce_waitlist WHERE shop_id = ? \
             AND sku IN (SELECT value FROM json_each(?))"
        ))
        .bind(shop_id)
        .bind(json_keys(skus)?)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(db("waitlist"))?;
        json_list(&row, "waitlist entry")
    }

    async fn remove_waitlist_rows(&mut self, ids: &[String]) -> Result<(), SqliteError> {
        if ids.is_empty() {
            return Ok(());
        }
        sqlx::query("DELETE FROM commerce_waitlist WHERE id IN (SELECT value FROM json_each(?))")
            .bind(json_keys(ids)?)
            .execute(&mut *self.tx)
            .await
            .map_err(db("remove waitlist"))?;
        Ok(())
    }

    async fn buyer_rows(
        &mut self,
        shop_id: &str,
        ids: &[String],
    ) -> Result<Vec<Buyer>, SqliteError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let row = sqlx::query(concat!(
            "SELECT json_group_array(",
            buyer_json!(),
            " ORDER BY buyer_id) FROM commerce_buyers WHERE shop_id = ? \
             AND buyer_id IN (SELECT value FROM json_each(?))"
        ))
        .bind(shop_id)
        .bind(json_keys(ids)?)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(db("buyers"))?;
        json_list(&row, "buyer")
    }

    async fn suppress_pending_rows(
        &mut self,
        shop_id: &str,
        buyer_id: &str,
        reason: &str,
    ) -> Result<u64, SqliteError> {
        // The port gives no clock here: a suppressed row keeps its enqueue time as its
        // finish time (see the store contract).
        let done = sqlx::query(
            "UPDATE commerce_outbox SET status = 'suppressed', detail = ?3, \
             finished_at_ms = coalesce(finished_at_ms, created_at_ms) \
             WHERE shop_id = ?1 AND buyer_id = ?2 AND status = 'pending'",
        )
        .bind(shop_id)
        .bind(buyer_id)
        .bind(reason)
        .execute(&mut *self.tx)
        .await
        .map_err(db("suppress pending"))?;
        Ok(done.rows_affected())
    }

    async fn anonymize(
        &mut self,
        shop_id: &str,
        buyer_id: &str,
        replacement: &str,
    ) -> Result<(), SqliteError> {
        // One script, one round trip (each statement reads ?1..?3 by number). The audit
        // rows change last, between writing and removing the unlock row their guard
        // trigger looks for; nobody else can see that row (we hold the write lock).
        sqlx::query(
            "UPDATE commerce_buyers SET buyer_id = ?3, name = NULL, anonymized = 1 \
                 WHERE shop_id = ?1 AND buyer_id = ?2; \
             UPDATE commerce_orders SET buyer_id = ?3 WHERE shop_id = ?1 AND buyer_id = ?2; \
             UPDATE commerce_waitlist SET buyer_id = ?3 WHERE shop_id = ?1 AND buyer_id = ?2; \
             UPDATE commerce_inbox SET buyer_id = ?3, buyer_name = NULL, text = '[deleted]' \
                 WHERE shop_id = ?1 AND buyer_id = ?2; \
             UPDATE commerce_outbox SET buyer_id = ?3, text = '[deleted]', \
                 status = CASE WHEN status = 'pending' THEN 'suppressed' ELSE status END, \
                 detail = CASE WHEN status = 'pending' THEN 'data deleted' ELSE detail END, \
                 finished_at_ms = CASE WHEN status = 'pending' \
                     THEN coalesce(finished_at_ms, created_at_ms) ELSE finished_at_ms END \
                 WHERE shop_id = ?1 AND buyer_id = ?2; \
             INSERT INTO commerce_audit_unlock (shop_id, from_buyer, to_buyer) \
                 VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING; \
             UPDATE commerce_audit SET buyer_id = ?3 WHERE shop_id = ?1 AND buyer_id = ?2; \
             DELETE FROM commerce_audit_unlock \
                 WHERE shop_id = ?1 AND from_buyer = ?2 AND to_buyer = ?3;",
        )
        .bind(shop_id)
        .bind(buyer_id)
        .bind(replacement)
        .execute(&mut *self.tx)
        .await
        .map_err(db("anonymize buyer"))?;
        Ok(())
    }
}

impl CommerceTx for SqliteCommerceTx {
    fn take_pending<'a>(
        &'a mut self,
        comment_ids: &'a [String],
    ) -> StoreFuture<'a, Vec<InboxComment>> {
        Box::pin(async move { Ok(self.take_pending_rows(comment_ids).await?) })
    }

    fn mark_inbox<'a>(
        &'a mut self,
        rows: &'a [(String, InboxStatus, Option<String>)],
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move { Ok(batch::mark_inbox(&mut self.tx, rows).await?) })
    }

    fn lock_stock<'a>(
        &'a mut self,
        shop_id: &'a str,
        skus: &'a [String],
    ) -> StoreFuture<'a, Vec<StockLevel>> {
        Box::pin(async move { Ok(self.lock_stock_rows(shop_id, skus).await?) })
    }

    fn put_stock<'a>(&'a mut self, rows: &'a [StockLevel]) -> StoreFuture<'a, ()> {
        Box::pin(async move { Ok(batch::put_stock(&mut self.tx, rows).await?) })
    }

    fn open_orders<'a>(&'a mut self, keys: &'a [(String, String)]) -> StoreFuture<'a, Vec<Order>> {
        Box::pin(async move { Ok(self.open_order_rows(keys).await?) })
    }

    fn lock_orders<'a>(&'a mut self, ids: &'a [String]) -> StoreFuture<'a, Vec<Order>> {
        Box::pin(async move { Ok(self.lock_order_rows(ids).await?) })
    }

    fn put_orders<'a>(&'a mut self, orders: &'a [Order]) -> StoreFuture<'a, ()> {
        Box::pin(async move { Ok(batch::upsert_orders(&mut self.tx, orders).await?) })
    }

    fn waitlist<'a>(
        &'a mut self,
        shop_id: &'a str,
        skus: &'a [String],
    ) -> StoreFuture<'a, Vec<WaitEntry>> {
        Box::pin(async move { Ok(self.waitlist_rows(shop_id, skus).await?) })
    }

    fn put_waitlist<'a>(&'a mut self, entries: &'a [WaitEntry]) -> StoreFuture<'a, ()> {
        Box::pin(async move { Ok(batch::upsert_waitlist(&mut self.tx, entries).await?) })
    }

    fn remove_waitlist<'a>(&'a mut self, ids: &'a [String]) -> StoreFuture<'a, ()> {
        Box::pin(async move { Ok(self.remove_waitlist_rows(ids).await?) })
    }

    fn buyers<'a>(
        &'a mut self,
        shop_id: &'a str,
        ids: &'a [String],
    ) -> StoreFuture<'a, Vec<Buyer>> {
        Box::pin(async move { Ok(self.buyer_rows(shop_id, ids).await?) })
    }

    fn put_buyers<'a>(&'a mut self, buyers: &'a [Buyer]) -> StoreFuture<'a, ()> {
        Box::pin(async move { Ok(batch::upsert_buyers(&mut self.tx, buyers).await?) })
    }

    fn append_audit<'a>(&'a mut self, rows: &'a [AuditRecord]) -> StoreFuture<'a, ()> {
        Box::pin(async move { Ok(batch::insert_audit(&mut self.tx, rows).await?) })
    }

    fn enqueue<'a>(&'a mut self, messages: &'a [OutboxMessage]) -> StoreFuture<'a, ()> {
        Box::pin(async move { Ok(batch::insert_outbox(&mut self.tx, messages).await?) })
    }

    fn suppress_pending<'a>(
        &'a mut self,
        shop_id: &'a str,
        buyer_id: &'a str,
        reason: &'a str,
    ) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            Ok(self
                .suppress_pending_rows(shop_id, buyer_id, reason)
                .await?)
        })
    }

    fn anonymize_buyer<'a>(
        &'a mut self,
        shop_id: &'a str,
        buyer_id: &'a str,
        replacement: &'a str,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move { Ok(self.anonymize(shop_id, buyer_id, replacement).await?) })
    }

    fn commit(self: Box<Self>) -> StoreFuture<'static, ()> {
        Box::pin(async move {
            let SqliteCommerceTx { tx, _turn: turn } = *self;
            tx.commit().await.map_err(db("commit"))?;
            // Only now may the next writer of this process begin.
            drop(turn);
            Ok(())
        })
    }
}
