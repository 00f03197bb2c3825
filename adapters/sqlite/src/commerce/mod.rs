//! [`CommerceStore`] on SQLite: shops, catalogs with stock, lives, buyers, the comment
//! inbox, orders and their lines, the waitlist, the messaging outbox and the
//! append-only audit log (tables `commerce_*`, `migrations/0003_commerce.sql`).
//!
//! - Every write takes the store's in-process write turn before a connection, like the
//!   other ports; multi-statement writes (`import_products`, `insert_inbox`,
//!   `claim_outbox`) run in one `BEGIN IMMEDIATE` transaction.
//! - [`CommerceStore::begin`] returns a transaction that owns the write turn and a
//!   `BEGIN IMMEDIATE` transaction until it commits or is dropped (`tx`). While one is
//!   open, this process's other writes wait for it — so a task holding a transaction
//!   must not call the store's own write methods (it would wait for itself) — and, on
//!   an in-memory store (one connection), reads wait for it too.
//! - Slices are written in a bounded number of statements (`batch`), and orders are
//!   read with their lines in one joined statement (`rows`).
//! - Audit rows cannot be changed or deleted, even from raw SQL: triggers refuse it,
//!   except the `buyer_id` rewrite of a data-deletion request (`anonymize_buyer`).

mod batch;
mod rows;
mod tx;

use meta_commerce::catalog::Product;
use meta_commerce::store::{
    AuditRecord, Buyer, CommerceCounts, CommerceStore, CommerceTx, InboxComment, Live, LogFilter,
    Order, OrderFilter, OutboxMessage, OutboxUpdate, PaymentLinkRecord, ProductRecord, Shop,
    StockLevel, StoreError, StoreFuture, WaitEntry,
};
use sqlx::{QueryBuilder, Row, Sqlite, Transaction};

use self::rows::{
    audit_json, buyer_json, inbox_json, json_list, live_columns, live_from_row, order_json,
    outbox_json, product_columns, product_from_row, shop_columns, shop_from_row, stock_json,
    waitlist_json,
};
use self::tx::SqliteCommerceTx;
use crate::SqliteStore;
use crate::error::{SqliteError, db};

/// A `LIMIT` value: `usize` saturated into SQLite's signed 64-bit integer.
fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A filter's `LIMIT`: 0 means no limit (SQLite's `LIMIT -1`).
fn filter_limit(n: usize) -> i64 {
    if n == 0 { -1 } else { limit(n) }
}

/// Appends `WHERE a = ? AND b = ?` for the filter fields that are set (so SQLite can
/// use the matching index; a catch-all `?1 IS NULL OR a = ?1` cannot).
fn push_filters(qb: &mut QueryBuilder<Sqlite>, fields: &[(&'static str, Option<&str>)]) {
    let mut sep = " WHERE ";
    for (column, value) in fields {
        if let Some(v) = value {
            qb.push(sep)
                .push(column)
                .push(" = ")
                .push_bind(v.to_string());
            sep = " AND ";
        }
    }
}

impl SqliteStore {
    /// A write transaction holding SQLite's write lock from its first statement (the
    /// caller holds the write turn).
    async fn begin_commerce_write(&self) -> Result<Transaction<'static, Sqlite>, SqliteError> {
        self.pool()
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db("begin write transaction"))
    }

    async fn put_shop_row(&self, s: &Shop) -> Result<(), SqliteError> {
        let gateways = serde_json::to_string(&s.gateways)
            .map_err(|e| SqliteError::invalid("gateways", e.to_string()))?;
        let _turn = self.write_lock().await;
        sqlx::query(concat!(
            "INSERT INTO commerce_shops (",
            shop_columns!(),
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
             page_id = excluded.page_id, country = excluded.country, \
             currency = excluded.currency, hold_ms = excluded.hold_ms, \
             min_confidence = excluded.min_confidence, \
             max_qty_per_item = excluded.max_qty_per_item, gateways = excluded.gateways, \
             kill_switch = excluded.kill_switch"
        ))
        .bind(&s.id)
        .bind(&s.name)
        .bind(&s.page_id)
        .bind(&s.country)
        .bind(s.currency.as_str())
        .bind(s.hold_ms)
        .bind(s.min_confidence)
        .bind(i64::from(s.max_qty_per_item))
        .bind(gateways)
        .bind(s.kill_switch)
        .execute(self.pool())
        .await
        .map_err(db("put shop"))?;
        Ok(())
    }

    async fn shop_rows(&self, id: Option<&str>) -> Result<Vec<Shop>, SqliteError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            shop_columns!(),
            " FROM commerce_shops WHERE ?1 IS NULL OR id = ?1 ORDER BY id"
        ))
        .bind(id)
        .fetch_all(self.pool())
        .await
        .map_err(db("shops"))?;
        rows.iter().map(shop_from_row).collect()
    }

    /// `UPDATE <table> SET kill_switch = ? WHERE id = ?`; `NotFound` when no row.
    async fn set_commerce_kill_switch(
        &self,
        sql: &'static str,
        what: &'static str,
        id: &str,
        on: bool,
    ) -> Result<(), StoreError> {
        let _turn = self.write_lock().await;
        let done = sqlx::query(sql)
            .bind(on)
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(db("set kill switch"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("{what} {id}")));
        }
        Ok(())
    }

    async fn import_product_rows(
        &self,
        shop_id: &str,
        products: &[Product],
    ) -> Result<(), SqliteError> {
        let _turn = self.write_lock().await;
        let mut tx = self.begin_commerce_write().await?;
        batch::upsert_products(&mut tx, shop_id, products).await?;
        tx.commit().await.map_err(db("commit import products"))?;
        Ok(())
    }

    async fn product_rows(&self, shop_id: &str) -> Result<Vec<ProductRecord>, SqliteError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            product_columns!(),
            " FROM commerce_products WHERE shop_id = ? ORDER BY lot IS NULL, lot, sku"
        ))
        .bind(shop_id)
        .fetch_all(self.pool())
        .await
        .map_err(db("products"))?;
        rows.iter().map(product_from_row).collect()
    }

    async fn stock_row(&self, shop_id: &str, sku: &str) -> Result<Option<StockLevel>, SqliteError> {
        let row = sqlx::query(concat!(
            "SELECT json_group_array(",
            stock_json!(),
            ") FROM commerce_products WHERE shop_id = ? AND sku = ?"
        ))
        .bind(shop_id)
        .bind(sku)
        .fetch_one(self.pool())
        .await
        .map_err(db("stock"))?;
        Ok(json_list(&row, "stock level")?.pop())
    }

    async fn put_live_row(&self, l: &Live) -> Result<(), SqliteError> {
        let _turn = self.write_lock().await;
        // An upsert by id rather than INSERT OR REPLACE: another live with the same
        // post id is a conflict, not something to delete silently.
        sqlx::query(concat!(
            "INSERT INTO commerce_lives (",
            live_columns!(),
            ") VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET shop_id = excluded.shop_id, \
             post_id = excluded.post_id, title = excluded.title, state = excluded.state, \
             kill_switch = excluded.kill_switch, started_at_ms = excluded.started_at_ms"
        ))
        .bind(&l.id)
        .bind(&l.shop_id)
        .bind(&l.post_id)
        .bind(&l.title)
        .bind(l.state.as_str())
        .bind(l.kill_switch)
        .bind(l.started_at_ms)
        .execute(self.pool())
        .await
        .map_err(db("put live"))?;
        Ok(())
    }

    async fn live_row(
        &self,
        id: Option<&str>,
        post_id: Option<&str>,
    ) -> Result<Option<Live>, SqliteError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            live_columns!(),
            " FROM commerce_lives WHERE (?1 IS NULL OR id = ?1) AND (?2 IS NULL OR post_id = ?2)"
        ))
        .bind(id)
        .bind(post_id)
        .fetch_optional(self.pool())
        .await
        .map_err(db("live"))?;
        row.as_ref().map(live_from_row).transpose()
    }

    async fn live_rows(&self, shop_id: &str) -> Result<Vec<Live>, SqliteError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            live_columns!(),
            " FROM commerce_lives WHERE shop_id = ? ORDER BY started_at_ms DESC, id"
        ))
        .bind(shop_id)
        .fetch_all(self.pool())
        .await
        .map_err(db("lives"))?;
        rows.iter().map(live_from_row).collect()
    }

    async fn insert_inbox_rows(&self, rows: &[InboxComment]) -> Result<Vec<bool>, SqliteError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let _turn = self.write_lock().await;
        let mut tx = self.begin_commerce_write().await?;
        let inserted = batch::insert_inbox(&mut tx, rows).await?;
        tx.commit().await.map_err(db("commit insert inbox"))?;
        Ok(inserted)
    }

    async fn pending_inbox_rows(&self, n: usize) -> Result<Vec<InboxComment>, SqliteError> {
        let row = sqlx::query(concat!(
            "SELECT json_group_array(",
            inbox_json!(),
            " ORDER BY created_time_ms, comment_id) FROM (SELECT * FROM commerce_inbox \
             WHERE status = 'pending' ORDER BY created_time_ms, comment_id LIMIT ?)"
        ))
        .bind(limit(n))
        .fetch_one(self.pool())
        .await
        .map_err(db("pending inbox"))?;
        json_list(&row, "inbox comment")
    }

    async fn inbox_row(&self, comment_id: &str) -> Result<Option<InboxComment>, SqliteError> {
        let row = sqlx::query(concat!(
            "SELECT json_group_array(",
            inbox_json!(),
            ") FROM commerce_inbox WHERE comment_id = ?"
        ))
        .bind(comment_id)
        .fetch_one(self.pool())
        .await
        .map_err(db("inbox comment"))?;
        Ok(json_list(&row, "inbox comment")?.pop())
    }

    async fn order_rows(&self, f: &OrderFilter) -> Result<Vec<Order>, SqliteError> {
        let mut qb = QueryBuilder::<Sqlite>::new(concat!(
            "SELECT json_group_array(",
            order_json!(),
            " ORDER BY o.created_at_ms, o.id) FROM (SELECT * FROM commerce_orders"
        ));
        push_filters(
            &mut qb,
            &[
                ("shop_id", f.shop_id.as_deref()),
                ("live_id", f.live_id.as_deref()),
                ("buyer_id", f.buyer_id.as_deref()),
                ("status", f.status.map(|s| s.as_str())),
            ],
        );
        qb.push(" ORDER BY created_at_ms, id LIMIT ")
            .push_bind(filter_limit(f.limit))
            .push(") o");
        let row = qb
            .build()
            .fetch_one(self.pool())
            .await
            .map_err(db("orders"))?;
        json_list(&row, "order")
    }

    async fn order_row(&self, id: &str) -> Result<Option<Order>, SqliteError> {
        let row = sqlx::query(concat!(
            "SELECT json_group_array(",
            order_json!(),
            ") FROM commerce_orders o WHERE o.id = ?"
        ))
        .bind(id)
        .fetch_one(self.pool())
        .await
        .map_err(db("order"))?;
        Ok(json_list(&row, "order")?.pop())
    }

    async fn due_expiry_ids(&self, now_ms: i64, n: usize) -> Result<Vec<String>, SqliteError> {
        sqlx::query_scalar(
            "SELECT id FROM commerce_orders WHERE status = 'open' AND hold_expires_at_ms <= ? \
             ORDER BY hold_expires_at_ms, id LIMIT ?",
        )
        .bind(now_ms)
        .bind(limit(n))
        .fetch_all(self.pool())
        .await
        .map_err(db("due expiries"))
    }

    async fn due_reminder_rows(&self, before_ms: i64, n: usize) -> Result<Vec<Order>, SqliteError> {
        let row = sqlx::query(concat!(
            "SELECT json_group_array(",
            order_json!(),
            " ORDER BY o.hold_expires_at_ms, o.id) FROM (SELECT * FROM commerce_orders \
             WHERE status = 'open' AND reminded = 0 AND hold_expires_at_ms <= ? \
             ORDER BY hold_expires_at_ms, id LIMIT ?) o"
        ))
        .bind(before_ms)
        .bind(limit(n))
        .fetch_one(self.pool())
        .await
        .map_err(db("due reminders"))?;
        json_list(&row, "order")
    }

    async fn set_payment_link_row(
        &self,
        order_id: &str,
        link: &PaymentLinkRecord,
    ) -> Result<(), SqliteError> {
        let _turn = self.write_lock().await;
        // No row when the order moved past that version: the link is stale, a no-op.
        sqlx::query(
            "UPDATE commerce_orders SET pay_gateway = ?, pay_url = ?, pay_ref = ?, \
             pay_for_version = ? WHERE id = ? AND version = ?",
        )
        .bind(&link.gateway)
        .bind(&link.url)
        .bind(&link.provider_ref)
        .bind(link.for_version)
        .bind(order_id)
        .bind(link.for_version)
        .execute(self.pool())
        .await
        .map_err(db("set payment link"))?;
        Ok(())
    }

    async fn buyer_row(&self, shop_id: &str, buyer_id: &str) -> Result<Option<Buyer>, SqliteError> {
        let row = sqlx::query(concat!(
            "SELECT json_group_array(",
            buyer_json!(),
            ") FROM commerce_buyers WHERE shop_id = ? AND buyer_id = ?"
        ))
        .bind(shop_id)
        .bind(buyer_id)
        .fetch_one(self.pool())
        .await
        .map_err(db("buyer"))?;
        Ok(json_list(&row, "buyer")?.pop())
    }

    async fn waitlist_entry_rows(&self, shop_id: &str) -> Result<Vec<WaitEntry>, SqliteError> {
        let row = sqlx::query(concat!(
            "SELECT json_group_array(",
            waitlist_json!(),
            " ORDER BY created_time_ms, id) FROM commerce_waitlist WHERE shop_id = ?"
        ))
        .bind(shop_id)
        .fetch_one(self.pool())
        .await
        .map_err(db("waitlist entries"))?;
        json_list(&row, "waitlist entry")
    }

    async fn claim_outbox_rows(
        &self,
        now_ms: i64,
        owner: &str,
        lease_ms: i64,
        n: usize,
    ) -> Result<Vec<OutboxMessage>, SqliteError> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let _turn = self.write_lock().await;
        let mut tx = self.begin_commerce_write().await?;
        // Pick, lease, read back: all under SQLite's write lock, so no other writer
        // (task or process) can lease a row in between. Each statement answers in one
        // row (see `rows`), rather than an UPDATE … RETURNING row per message.
        let ids: String = sqlx::query_scalar(
            "SELECT json_group_array(id ORDER BY created_at_ms, id) FROM (SELECT id, \
             created_at_ms FROM commerce_outbox WHERE status = 'pending' \
             AND next_attempt_at_ms <= ?1 AND (lease_until_ms IS NULL OR lease_until_ms < ?1) \
             ORDER BY created_at_ms, id LIMIT ?2)",
        )
        .bind(now_ms)
        .bind(limit(n))
        .fetch_one(&mut *tx)
        .await
        .map_err(db("claim outbox"))?;
        if ids == "[]" {
            return Ok(Vec::new());
        }
        sqlx::query(
            "UPDATE commerce_outbox SET lease_owner = ?, lease_until_ms = ? \
             WHERE id IN (SELECT value FROM json_each(?))",
        )
        .bind(owner)
        .bind(now_ms.saturating_add(lease_ms))
        .bind(&ids)
        .execute(&mut *tx)
        .await
        .map_err(db("claim outbox: lease"))?;
        let row = sqlx::query(concat!(
            "SELECT json_group_array(",
            outbox_json!(),
            " ORDER BY created_at_ms, id) FROM commerce_outbox \
             WHERE id IN (SELECT value FROM json_each(?))"
        ))
        .bind(&ids)
        .fetch_one(&mut *tx)
        .await
        .map_err(db("claim outbox: read"))?;
        tx.commit().await.map_err(db("commit claim outbox"))?;
        json_list(&row, "outbox message")
    }

    async fn finish_outbox_row(
        &self,
        id: &str,
        now_ms: i64,
        update: &OutboxUpdate,
    ) -> Result<(), StoreError> {
        // Every outcome clears the lease.
        let (sql, detail, retry_at): (&'static str, &str, Option<i64>) = match update {
            OutboxUpdate::Sent { graph_id } => (
                "UPDATE commerce_outbox SET status = 'sent', attempts = attempts + 1, \
                 finished_at_ms = ?2, detail = ?3, lease_owner = NULL, lease_until_ms = NULL \
                 WHERE id = ?1",
                graph_id,
                None,
            ),
            OutboxUpdate::Suppressed { reason } => (
                "UPDATE commerce_outbox SET status = 'suppressed', finished_at_ms = ?2, \
                 detail = ?3, lease_owner = NULL, lease_until_ms = NULL WHERE id = ?1",
                reason,
                None,
            ),
            OutboxUpdate::Failed {
                reason,
                retry_at_ms: Some(t),
            } => (
                "UPDATE commerce_outbox SET status = 'pending', attempts = attempts + 1, \
                 next_attempt_at_ms = ?4, detail = ?3, lease_owner = NULL, \
                 lease_until_ms = NULL WHERE id = ?1",
                reason,
                Some(*t),
            ),
            OutboxUpdate::Failed {
                reason,
                retry_at_ms: None,
            } => (
                "UPDATE commerce_outbox SET status = 'failed', attempts = attempts + 1, \
                 finished_at_ms = ?2, detail = ?3, lease_owner = NULL, lease_until_ms = NULL \
                 WHERE id = ?1",
                reason,
                None,
            ),
        };
        let _turn = self.write_lock().await;
        let done = sqlx::query(sql)
            .bind(id)
            .bind(now_ms)
            .bind(detail)
            .bind(retry_at)
            .execute(self.pool())
            .await
            .map_err(db("finish outbox"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("outbox message {id}")));
        }
        Ok(())
    }

    fn log_filters(f: &LogFilter) -> [(&'static str, Option<&str>); 5] {
        [
            ("shop_id", f.shop_id.as_deref()),
            ("live_id", f.live_id.as_deref()),
            ("comment_id", f.comment_id.as_deref()),
            ("order_id", f.order_id.as_deref()),
            ("buyer_id", f.buyer_id.as_deref()),
        ]
    }

    async fn outbox_rows(&self, f: &LogFilter) -> Result<Vec<OutboxMessage>, SqliteError> {
        let mut qb = QueryBuilder::<Sqlite>::new(concat!(
            "SELECT json_group_array(",
            outbox_json!(),
            " ORDER BY created_at_ms, id) FROM (SELECT * FROM commerce_outbox"
        ));
        push_filters(&mut qb, &Self::log_filters(f));
        qb.push(" ORDER BY created_at_ms, id LIMIT ")
            .push_bind(filter_limit(f.limit))
            .push(")");
        let row = qb
            .build()
            .fetch_one(self.pool())
            .await
            .map_err(db("outbox"))?;
        json_list(&row, "outbox message")
    }

    async fn audit_rows_commerce(&self, f: &LogFilter) -> Result<Vec<AuditRecord>, SqliteError> {
        let mut qb = QueryBuilder::<Sqlite>::new(concat!(
            "SELECT json_group_array(",
            audit_json!(),
            " ORDER BY at_ms, id) FROM (SELECT * FROM commerce_audit"
        ));
        push_filters(&mut qb, &Self::log_filters(f));
        qb.push(" ORDER BY at_ms, id LIMIT ")
            .push_bind(filter_limit(f.limit))
            .push(")");
        let row = qb
            .build()
            .fetch_one(self.pool())
            .await
            .map_err(db("audit"))?;
        json_list(&row, "audit record")
    }

    async fn count_rows(&self, shop_id: &str) -> Result<CommerceCounts, SqliteError> {
        // One statement, so the counts come from one snapshot.
        let rows = sqlx::query(
            "SELECT 'inbox' AS t, status AS s, count(*) AS n FROM commerce_inbox \
                 WHERE shop_id = ?1 GROUP BY status \
             UNION ALL SELECT 'orders', status, count(*) FROM commerce_orders \
                 WHERE shop_id = ?1 GROUP BY status \
             UNION ALL SELECT 'outbox', status, count(*) FROM commerce_outbox \
                 WHERE shop_id = ?1 GROUP BY status \
             UNION ALL SELECT 'waitlist', '', count(*) FROM commerce_waitlist WHERE shop_id = ?1 \
             UNION ALL SELECT 'audit', '', count(*) FROM commerce_audit WHERE shop_id = ?1",
        )
        .bind(shop_id)
        .fetch_all(self.pool())
        .await
        .map_err(db("counts"))?;
        let mut c = CommerceCounts::default();
        for r in &rows {
            let e = || db("counts");
            let table: &str = r.try_get("t").map_err(e())?;
            let status: String = r.try_get("s").map_err(e())?;
            let n: i64 = r.try_get("n").map_err(e())?;
            let n = u64::try_from(n).unwrap_or(0);
            match table {
                "inbox" => c.inbox.push((status, n)),
                "orders" => c.orders.push((status, n)),
                "outbox" => c.outbox.push((status, n)),
                "waitlist" => c.waitlist = n,
                _ => c.audit = n,
            }
        }
        for list in [&mut c.inbox, &mut c.orders, &mut c.outbox] {
            list.sort();
        }
        Ok(c)
    }

    async fn begin_commerce(&self) -> Result<Box<dyn CommerceTx>, SqliteError> {
        // The turn before the connection, so a one-connection pool cannot deadlock.
        let turn = self.write_lock_owned().await;
        let tx = self.begin_commerce_write().await?;
        Ok(Box::new(SqliteCommerceTx::new(tx, turn)))
    }
}

impl CommerceStore for SqliteStore {
    fn put_shop<'a>(&'a self, shop: &'a Shop) -> StoreFuture<'a, ()> {
        Box::pin(async move { Ok(self.put_shop_row(shop).await?) })
    }

    fn shop<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Shop>> {
        Box::pin(async move { Ok(self.shop_rows(Some(id)).await?.pop()) })
    }

    fn shops(&self) -> StoreFuture<'_, Vec<Shop>> {
        Box::pin(async move { Ok(self.shop_rows(None).await?) })
    }

    fn set_shop_kill_switch<'a>(&'a self, id: &'a str, on: bool) -> StoreFuture<'a, ()> {
        Box::pin(self.set_commerce_kill_switch(
            "UPDATE commerce_shops SET kill_switch = ? WHERE id = ?",
            "shop",
            id,
            on,
        ))
    }

    fn import_products<'a>(
        &'a self,
        shop_id: &'a str,
        products: &'a [Product],
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move { Ok(self.import_product_rows(shop_id, products).await?) })
    }

    fn products<'a>(&'a self, shop_id: &'a str) -> StoreFuture<'a, Vec<ProductRecord>> {
        Box::pin(async move { Ok(self.product_rows(shop_id).await?) })
    }

    fn stock<'a>(&'a self, shop_id: &'a str, sku: &'a str) -> StoreFuture<'a, Option<StockLevel>> {
        Box::pin(async move { Ok(self.stock_row(shop_id, sku).await?) })
    }

    fn put_live<'a>(&'a self, live: &'a Live) -> StoreFuture<'a, ()> {
        Box::pin(async move { Ok(self.put_live_row(live).await?) })
    }

    fn live<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Live>> {
        Box::pin(async move { Ok(self.live_row(Some(id), None).await?) })
    }

    fn live_by_post<'a>(&'a self, post_id: &'a str) -> StoreFuture<'a, Option<Live>> {
        Box::pin(async move { Ok(self.live_row(None, Some(post_id)).await?) })
    }

    fn lives<'a>(&'a self, shop_id: &'a str) -> StoreFuture<'a, Vec<Live>> {
        Box::pin(async move { Ok(self.live_rows(shop_id).await?) })
    }

    fn set_live_kill_switch<'a>(&'a self, id: &'a str, on: bool) -> StoreFuture<'a, ()> {
        Box::pin(self.set_commerce_kill_switch(
            "UPDATE commerce_lives SET kill_switch = ? WHERE id = ?",
            "live",
            id,
            on,
        ))
    }

    fn insert_inbox<'a>(&'a self, rows: &'a [InboxComment]) -> StoreFuture<'a, Vec<bool>> {
        Box::pin(async move { Ok(self.insert_inbox_rows(rows).await?) })
    }

    fn pending_inbox(&self, limit: usize) -> StoreFuture<'_, Vec<InboxComment>> {
        Box::pin(async move { Ok(self.pending_inbox_rows(limit).await?) })
    }

    fn inbox_comment<'a>(&'a self, comment_id: &'a str) -> StoreFuture<'a, Option<InboxComment>> {
        Box::pin(async move { Ok(self.inbox_row(comment_id).await?) })
    }

    fn order<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Order>> {
        Box::pin(async move { Ok(self.order_row(id).await?) })
    }

    fn orders<'a>(&'a self, filter: &'a OrderFilter) -> StoreFuture<'a, Vec<Order>> {
        Box::pin(async move { Ok(self.order_rows(filter).await?) })
    }

    fn due_expiries(&self, now_ms: i64, limit: usize) -> StoreFuture<'_, Vec<String>> {
        Box::pin(async move { Ok(self.due_expiry_ids(now_ms, limit).await?) })
    }

    fn due_reminders(&self, before_ms: i64, limit: usize) -> StoreFuture<'_, Vec<Order>> {
        Box::pin(async move { Ok(self.due_reminder_rows(before_ms, limit).await?) })
    }

    fn set_payment_link<'a>(
        &'a self,
        order_id: &'a str,
        link: &'a PaymentLinkRecord,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move { Ok(self.set_payment_link_row(order_id, link).await?) })
    }

    fn buyer<'a>(&'a self, shop_id: &'a str, buyer_id: &'a str) -> StoreFuture<'a, Option<Buyer>> {
        Box::pin(async move { Ok(self.buyer_row(shop_id, buyer_id).await?) })
    }

    fn waitlist_entries<'a>(&'a self, shop_id: &'a str) -> StoreFuture<'a, Vec<WaitEntry>> {
        Box::pin(async move { Ok(self.waitlist_entry_rows(shop_id).await?) })
    }

    fn claim_outbox<'a>(
        &'a self,
        now_ms: i64,
        owner: &'a str,
        lease_ms: i64,
        limit: usize,
    ) -> StoreFuture<'a, Vec<OutboxMessage>> {
        Box::pin(async move {
            Ok(self
                .claim_outbox_rows(now_ms, owner, lease_ms, limit)
                .await?)
        })
    }

    fn finish_outbox<'a>(
        &'a self,
        id: &'a str,
        now_ms: i64,
        update: &'a OutboxUpdate,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.finish_outbox_row(id, now_ms, update))
    }

    fn outbox<'a>(&'a self, filter: &'a LogFilter) -> StoreFuture<'a, Vec<OutboxMessage>> {
        Box::pin(async move { Ok(self.outbox_rows(filter).await?) })
    }

    fn audit<'a>(&'a self, filter: &'a LogFilter) -> StoreFuture<'a, Vec<AuditRecord>> {
        Box::pin(async move { Ok(self.audit_rows_commerce(filter).await?) })
    }

    fn counts<'a>(&'a self, shop_id: &'a str) -> StoreFuture<'a, CommerceCounts> {
        Box::pin(async move { Ok(self.count_rows(shop_id).await?) })
    }

    fn begin(&self) -> StoreFuture<'_, Box<dyn CommerceTx>> {
        Box::pin(async move { Ok(self.begin_commerce().await?) })
    }
}
