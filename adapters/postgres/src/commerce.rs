//! [`CommerceStore`] on the `commerce_*` tables (migration 0003), and its transaction
//! type.
//!
//! - **Set-based statements.** Every method taking a slice is a fixed number of
//!   statements whatever the slice's length: rows travel as one array per column and
//!   are spread with `UNNEST($1::text[], $2::bigint[], …)` (multi-row inserts, upserts
//!   and `UPDATE … FROM UNNEST`), lookups are `= ANY($1)`, and the lines of many orders
//!   come from one query. Every statement is static text, so sqlx prepares it once
//!   per connection and the per-batch cost is a handful of round trips.
//! - **Transactions** ([`CommerceStore::begin`]) run at READ COMMITTED and lock rows:
//!   `lock_stock` takes `FOR UPDATE` in SKU order (byte order, the `"C"` collation, so
//!   every instance locks in the same order), orders are locked in id order,
//!   `take_pending` uses `FOR UPDATE SKIP LOCKED` so two instances processing the same
//!   backlog split it instead of queueing behind each other. Dropping the transaction
//!   rolls it back (sqlx issues the `ROLLBACK` when the connection returns).
//! - **Claiming** (`claim_outbox`) is one statement, as for the publisher's posts: a CTE
//!   picks due, unleased messages with `FOR UPDATE SKIP LOCKED` and the `UPDATE` leases
//!   them; PostgreSQL re-checks the condition on a row another claimer just committed.
//! - **Errors**: 23505 (a second open order of a (live, buyer, currency), a duplicate
//!   id) and 40001 / 40P01 / 55P03 (serialization failure, deadlock, lock timeout) are
//!   [`StoreError::Conflict`]: the engine runs the whole transaction again. CHECK and
//!   other integrity violations are [`StoreError::Invalid`]; everything else is
//!   [`StoreError::Backend`] naming the operation, never a row value.
//! - **The audit log** is append-only in the database: a trigger refuses `DELETE`,
//!   `TRUNCATE` and any `UPDATE`, except one changing `buyer_id` alone inside a
//!   transaction where `anonymize_buyer` declared a data-deletion request.

/// The `commerce_orders` columns, as a literal so statements can be `concat!`-ed into
/// `&'static str`s (and so `put_orders` binds them in this order).
macro_rules! order_columns {
    () => {
        "id, shop_id, live_id, buyer_id, currency, status, total_minor, hold_expires_at_ms, \
         created_at_ms, updated_at_ms, version, pay_gateway, pay_url, pay_ref, pay_for_version, \
         paid_ref, paid_at_ms, note, reminded"
    };
}

mod rows;
mod tx;

use meta_commerce::catalog::Product;
use meta_commerce::store::{
    AuditRecord, Buyer, CommerceCounts, CommerceStore, CommerceTx, InboxComment, Live, LogFilter,
    Order, OrderFilter, OutboxMessage, OutboxUpdate, PaymentLinkRecord, ProductRecord, Shop,
    StockLevel, StoreError, StoreFuture, WaitEntry,
};
use sqlx::Row;
use sqlx::types::Json;

use crate::PgStore;
use crate::error::{ErrorClass, PgStoreError};

use rows::{
    BUYER_COLUMNS, LINES_JSON, LIVE_COLUMNS, ORDER_COLUMNS, PRODUCT_COLUMNS, SHOP_COLUMNS,
    buyer_from_row, json_rows, live_from_row, orders_with_json_lines, product_from_row,
    shop_from_row, stock_from_row,
};

type StoreResult<T> = std::result::Result<T, StoreError>;

/// Maps a driver or adapter error of operation `op` onto the port's error (see the
/// module docs). The message is the SQLSTATE and PostgreSQL's primary message only.
pub(super) fn db<E: Into<PgStoreError>>(op: &'static str) -> impl Fn(E) -> StoreError {
    move |e| {
        let e: PgStoreError = e.into();
        let message = format!("{op}: {}", e.message());
        match e.class() {
            ErrorClass::Conflict | ErrorClass::Retryable => StoreError::Conflict(message),
            ErrorClass::Invalid | ErrorClass::Corrupt => StoreError::Invalid(message),
            ErrorClass::Unavailable | ErrorClass::Migration | ErrorClass::Backend => {
                StoreError::backend_with(message, e)
            }
        }
    }
}

/// A `LIMIT` for a count the caller means literally.
pub(super) fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A `LIMIT` where 0 means "no limit" (`LIMIT NULL`).
fn limit_or_all(n: usize) -> Option<i64> {
    (n > 0).then(|| limit(n))
}

/// A `u32` for a `BIGINT` column.
pub(super) fn big(v: u32) -> i64 {
    i64::from(v)
}

// ---- statements ----

const PUT_SHOP: &str =
    "INSERT INTO commerce_shops (id, name, page_id, country, currency, hold_ms, \
     min_confidence, max_qty_per_item, gateways, kill_switch)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, page_id = EXCLUDED.page_id,
         country = EXCLUDED.country, currency = EXCLUDED.currency, hold_ms = EXCLUDED.hold_ms,
         min_confidence = EXCLUDED.min_confidence, max_qty_per_item = EXCLUDED.max_qty_per_item,
         gateways = EXCLUDED.gateways, kill_switch = EXCLUDED.kill_switch";

/// New SKUs start with everything available; existing ones keep their reserved and
/// sold units and get what the new stock leaves free. Rows arrive sorted by SKU so the
/// upsert locks them in the same order as the pipeline's transactions.
const IMPORT_PRODUCTS: &str =
    "INSERT INTO commerce_products AS p (shop_id, sku, name, aliases, lot, \
     price_minor, currency, available, reserved, sold)
     SELECT $1, u.sku, u.name, u.aliases, u.lot, u.price_minor, u.currency, u.stock, 0, 0
     FROM UNNEST($2::text[], $3::text[], $4::jsonb[], $5::bigint[], $6::bigint[], $7::text[],
                 $8::bigint[]) AS u(sku, name, aliases, lot, price_minor, currency, stock)
     ON CONFLICT (shop_id, sku) DO UPDATE SET name = EXCLUDED.name, aliases = EXCLUDED.aliases,
         lot = EXCLUDED.lot, price_minor = EXCLUDED.price_minor, currency = EXCLUDED.currency,
         available = GREATEST(EXCLUDED.available - p.reserved, 0)";

const PUT_LIVE: &str =
    "INSERT INTO commerce_lives (id, shop_id, post_id, title, state, kill_switch, \
     started_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (id) DO UPDATE SET shop_id = EXCLUDED.shop_id, post_id = EXCLUDED.post_id,
         title = EXCLUDED.title, state = EXCLUDED.state, kill_switch = EXCLUDED.kill_switch,
         started_at_ms = EXCLUDED.started_at_ms";

const INSERT_INBOX: &str = "INSERT INTO commerce_inbox (comment_id, shop_id, live_id, post_id, \
     buyer_id, buyer_name, text, created_time_ms, received_at_ms, status, detail)
     SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                          $7::text[], $8::bigint[], $9::bigint[], $10::text[], $11::text[])
     ON CONFLICT (comment_id) DO NOTHING
     RETURNING comment_id";

/// Rows per `insert_inbox` statement: large enough that a webhook burst is one or two
/// statements, small enough to bound one message's size.
const INBOX_CHUNK: usize = 2_000;

const CLAIM_OUTBOX: &str = "WITH due AS (
         SELECT id FROM commerce_outbox
         WHERE status = 'pending' AND next_attempt_at_ms <= $1
           AND (lease_until_ms IS NULL OR lease_until_ms < $1)
         ORDER BY created_at_ms, id
         LIMIT $4
         FOR UPDATE SKIP LOCKED
     )
     UPDATE commerce_outbox AS o SET lease_owner = $2, lease_until_ms = $3
     FROM due WHERE o.id = due.id
     RETURNING row_to_json(o)";

const FINISH_SENT: &str = "UPDATE commerce_outbox SET status = 'sent', attempts = attempts + 1, \
     finished_at_ms = $2, detail = $3, lease_owner = NULL, lease_until_ms = NULL WHERE id = $1";
const FINISH_SUPPRESSED: &str = "UPDATE commerce_outbox SET status = 'suppressed', \
     finished_at_ms = $2, detail = $3, lease_owner = NULL, lease_until_ms = NULL WHERE id = $1";
/// A retry keeps the status as it is (`pending` for a claimed message); `$2` is the
/// retry time.
const FINISH_RETRY: &str = "UPDATE commerce_outbox SET attempts = attempts + 1, \
     next_attempt_at_ms = $2, detail = $3, lease_owner = NULL, lease_until_ms = NULL WHERE id = $1";
const FINISH_FAILED: &str = "UPDATE commerce_outbox SET status = 'failed', attempts = attempts + 1, \
     finished_at_ms = $2, detail = $3, lease_owner = NULL, lease_until_ms = NULL WHERE id = $1";

const COUNTS: &str = "SELECT 'inbox' AS t, status, count(*) AS n FROM commerce_inbox
         WHERE shop_id = $1 GROUP BY status
     UNION ALL SELECT 'orders', status, count(*) FROM commerce_orders
         WHERE shop_id = $1 GROUP BY status
     UNION ALL SELECT 'outbox', status, count(*) FROM commerce_outbox
         WHERE shop_id = $1 GROUP BY status
     UNION ALL SELECT 'waitlist', '', count(*) FROM commerce_waitlist WHERE shop_id = $1
     UNION ALL SELECT 'audit', '', count(*) FROM commerce_audit WHERE shop_id = $1";

/// Indexes of the first occurrence of each key; later duplicates are left out.
pub(super) fn first_occurrences<'a, T>(
    rows: &'a [T],
    key: impl Fn(&'a T) -> &'a str,
) -> Vec<usize> {
    let mut seen = std::collections::HashSet::with_capacity(rows.len());
    (0..rows.len())
        .filter(|&i| seen.insert(key(&rows[i])))
        .collect()
}

/// Indexes of the last occurrence of each key, in input order: an upsert that sees one
/// key twice would fail ("cannot affect row a second time"), and the later value wins.
pub(super) fn last_occurrences<'a, T, K: std::hash::Hash + Eq>(
    rows: &'a [T],
    key: impl Fn(&'a T) -> K,
) -> Vec<usize> {
    let mut last = std::collections::HashMap::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        last.insert(key(r), i);
    }
    let mut idx: Vec<usize> = last.into_values().collect();
    idx.sort_unstable();
    idx
}

impl PgStore {
    async fn commerce_put_shop(&self, s: &Shop) -> StoreResult<()> {
        sqlx::query(PUT_SHOP)
            .bind(&s.id)
            .bind(&s.name)
            .bind(&s.page_id)
            .bind(&s.country)
            .bind(s.currency.as_str())
            .bind(s.hold_ms)
            .bind(s.min_confidence)
            .bind(big(s.max_qty_per_item))
            .bind(Json(&s.gateways))
            .bind(s.kill_switch)
            .execute(self.pool())
            .await
            .map_err(db("put_shop"))?;
        Ok(())
    }

    async fn commerce_shops(&self, id: Option<&str>) -> StoreResult<Vec<Shop>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SHOP_COLUMNS} FROM commerce_shops WHERE $1::text IS NULL OR id = $1 ORDER BY id"
        )))
        .bind(id)
        .fetch_all(self.pool())
        .await
        .map_err(db("shops"))?;
        rows.iter()
            .map(shop_from_row)
            .collect::<Result<_, _>>()
            .map_err(db("shops"))
    }

    async fn commerce_set_kill_switch(
        &self,
        op: &'static str,
        table: &'static str,
        id: &str,
        on: bool,
    ) -> StoreResult<()> {
        // `table` is one of two literals chosen below, never input.
        let sql = format!("UPDATE {table} SET kill_switch = $2 WHERE id = $1");
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(on)
            .execute(self.pool())
            .await
            .map_err(db(op))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("{op}: no such id {id}")));
        }
        Ok(())
    }

    async fn commerce_import(&self, shop_id: &str, products: &[Product]) -> StoreResult<()> {
        let mut idx = last_occurrences(products, |p| p.sku.as_str());
        idx.sort_by(|&a, &b| products[a].sku.cmp(&products[b].sku));
        let n = idx.len();
        let (mut sku, mut name, mut aliases, mut lot, mut price, mut cur, mut stock) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for &i in &idx {
            let p = &products[i];
            sku.push(p.sku.as_str());
            name.push(p.name.as_str());
            aliases.push(Json(&p.aliases));
            lot.push(p.lot.map(big));
            price.push(p.price.minor);
            cur.push(p.price.currency.as_str());
            stock.push(big(p.stock));
        }
        // One statement: atomic on its own, so a failed import changes nothing.
        sqlx::query(IMPORT_PRODUCTS)
            .bind(shop_id)
            .bind(sku)
            .bind(name)
            .bind(aliases)
            .bind(lot)
            .bind(price)
            .bind(cur)
            .bind(stock)
            .execute(self.pool())
            .await
            .map_err(db("import_products"))?;
        Ok(())
    }

    async fn commerce_products(&self, shop_id: &str) -> StoreResult<Vec<ProductRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PRODUCT_COLUMNS} FROM commerce_products WHERE shop_id = $1
             ORDER BY lot ASC NULLS LAST, sku"
        )))
        .bind(shop_id)
        .fetch_all(self.pool())
        .await
        .map_err(db("products"))?;
        rows.iter()
            .map(product_from_row)
            .collect::<Result<_, _>>()
            .map_err(db("products"))
    }

    async fn commerce_stock(&self, shop_id: &str, sku: &str) -> StoreResult<Option<StockLevel>> {
        let row = sqlx::query(
            "SELECT shop_id, sku, available, reserved, sold FROM commerce_products
             WHERE shop_id = $1 AND sku = $2",
        )
        .bind(shop_id)
        .bind(sku)
        .fetch_optional(self.pool())
        .await
        .map_err(db("stock"))?;
        row.as_ref()
            .map(stock_from_row)
            .transpose()
            .map_err(db("stock"))
    }

    async fn commerce_put_live(&self, l: &Live) -> StoreResult<()> {
        sqlx::query(PUT_LIVE)
            .bind(&l.id)
            .bind(&l.shop_id)
            .bind(&l.post_id)
            .bind(&l.title)
            .bind(l.state.as_str())
            .bind(l.kill_switch)
            .bind(l.started_at_ms)
            .execute(self.pool())
            .await
            .map_err(db("put_live"))?;
        Ok(())
    }

    /// Lives where `column` (a literal chosen below) equals `value`, newest first.
    async fn commerce_lives(
        &self,
        op: &'static str,
        column: &'static str,
        value: &str,
    ) -> StoreResult<Vec<Live>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {LIVE_COLUMNS} FROM commerce_lives WHERE {column} = $1
             ORDER BY started_at_ms DESC, id"
        )))
        .bind(value)
        .fetch_all(self.pool())
        .await
        .map_err(db(op))?;
        rows.iter()
            .map(live_from_row)
            .collect::<Result<_, _>>()
            .map_err(db(op))
    }

    async fn commerce_insert_inbox(&self, rows: &[InboxComment]) -> StoreResult<Vec<bool>> {
        let mut out = vec![false; rows.len()];
        // The same id twice in one call: only the first can be "new".
        let firsts = first_occurrences(rows, |r| r.comment_id.as_str());
        for chunk in firsts.chunks(INBOX_CHUNK) {
            let n = chunk.len();
            let mut cols = InboxColumns::with_capacity(n);
            for &i in chunk {
                cols.push(&rows[i]);
            }
            let inserted = sqlx::query(INSERT_INBOX)
                .bind(cols.comment_id)
                .bind(cols.shop_id)
                .bind(cols.live_id)
                .bind(cols.post_id)
                .bind(cols.buyer_id)
                .bind(cols.buyer_name)
                .bind(cols.text)
                .bind(cols.created_time_ms)
                .bind(cols.received_at_ms)
                .bind(cols.status)
                .bind(cols.detail)
                .fetch_all(self.pool())
                .await
                .map_err(db("insert_inbox"))?;
            let new: std::collections::HashSet<String> = inserted
                .iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<Result<_, _>>()
                .map_err(db("insert_inbox"))?;
            for &i in chunk {
                out[i] = new.contains(&rows[i].comment_id);
            }
        }
        Ok(out)
    }

    async fn commerce_inbox(
        &self,
        comment_id: Option<&str>,
        pending_limit: i64,
    ) -> StoreResult<Vec<InboxComment>> {
        let rows = match comment_id {
            Some(id) => {
                sqlx::query("SELECT row_to_json(i) FROM commerce_inbox i WHERE comment_id = $1")
                    .bind(id)
                    .fetch_all(self.pool())
                    .await
            }
            // Literal status: the partial index `commerce_inbox_pending_idx` applies.
            None => {
                sqlx::query(
                    // Limit first, then build JSON: `row_to_json` over the whole backlog
                    // before the LIMIT cost 387 ms with 45k pending rows (47 ms this way).
                    "SELECT row_to_json(i) FROM (SELECT * FROM commerce_inbox WHERE status = 'pending'
                 ORDER BY created_time_ms, comment_id LIMIT $1) i ORDER BY i.created_time_ms, i.comment_id",
                )
                .bind(pending_limit)
                .fetch_all(self.pool())
                .await
            }
        }
        .map_err(db("inbox"))?;
        json_rows(&rows).map_err(db("inbox"))
    }

    async fn commerce_orders(&self, f: &OrderFilter) -> StoreResult<Vec<Order>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS}, {LINES_JSON} FROM commerce_orders o
             WHERE ($1::text IS NULL OR shop_id = $1) AND ($2::text IS NULL OR live_id = $2)
               AND ($3::text IS NULL OR buyer_id = $3) AND ($4::text IS NULL OR status = $4)
             ORDER BY created_at_ms, id LIMIT $5"
        )))
        .bind(f.shop_id.as_deref())
        .bind(f.live_id.as_deref())
        .bind(f.buyer_id.as_deref())
        .bind(f.status.map(|s| s.as_str()))
        .bind(limit_or_all(f.limit))
        .fetch_all(self.pool())
        .await
        .map_err(db("orders"))?;
        orders_with_json_lines(&rows).map_err(db("orders"))
    }

    async fn commerce_order(&self, id: &str) -> StoreResult<Option<Order>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS}, {LINES_JSON} FROM commerce_orders o WHERE id = $1"
        )))
        .bind(id)
        .fetch_all(self.pool())
        .await
        .map_err(db("order"))?;
        Ok(orders_with_json_lines(&rows)
            .map_err(db("order"))?
            .into_iter()
            .next())
    }

    async fn commerce_due_expiries(&self, now_ms: i64, n: usize) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "SELECT id FROM commerce_orders WHERE status = 'open' AND hold_expires_at_ms <= $1
             ORDER BY hold_expires_at_ms, id LIMIT $2",
        )
        .bind(now_ms)
        .bind(limit(n))
        .fetch_all(self.pool())
        .await
        .map_err(db("due_expiries"))?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<_, _>>()
            .map_err(db("due_expiries"))
    }

    async fn commerce_due_reminders(&self, before_ms: i64, n: usize) -> StoreResult<Vec<Order>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS}, {LINES_JSON} FROM commerce_orders o
             WHERE status = 'open' AND NOT reminded AND hold_expires_at_ms <= $1
             ORDER BY hold_expires_at_ms, id LIMIT $2"
        )))
        .bind(before_ms)
        .bind(limit(n))
        .fetch_all(self.pool())
        .await
        .map_err(db("due_reminders"))?;
        orders_with_json_lines(&rows).map_err(db("due_reminders"))
    }

    async fn commerce_set_payment_link(
        &self,
        order_id: &str,
        link: &PaymentLinkRecord,
    ) -> StoreResult<()> {
        // A newer version of the order needs a newer link: no-op when it moved on.
        sqlx::query(
            "UPDATE commerce_orders SET pay_gateway = $2, pay_url = $3, pay_ref = $4,
                 pay_for_version = $5
             WHERE id = $1 AND version = $5",
        )
        .bind(order_id)
        .bind(&link.gateway)
        .bind(&link.url)
        .bind(&link.provider_ref)
        .bind(link.for_version)
        .execute(self.pool())
        .await
        .map_err(db("set_payment_link"))?;
        Ok(())
    }

    async fn commerce_buyer(&self, shop_id: &str, buyer_id: &str) -> StoreResult<Option<Buyer>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {BUYER_COLUMNS} FROM commerce_buyers WHERE shop_id = $1 AND buyer_id = $2"
        )))
        .bind(shop_id)
        .bind(buyer_id)
        .fetch_optional(self.pool())
        .await
        .map_err(db("buyer"))?;
        row.as_ref()
            .map(buyer_from_row)
            .transpose()
            .map_err(db("buyer"))
    }

    async fn commerce_waitlist_entries(&self, shop_id: &str) -> StoreResult<Vec<WaitEntry>> {
        let rows = sqlx::query(
            "SELECT row_to_json(w) FROM commerce_waitlist w WHERE shop_id = $1
             ORDER BY created_time_ms, id",
        )
        .bind(shop_id)
        .fetch_all(self.pool())
        .await
        .map_err(db("waitlist_entries"))?;
        json_rows(&rows).map_err(db("waitlist_entries"))
    }

    async fn commerce_claim(
        &self,
        now_ms: i64,
        owner: &str,
        lease_ms: i64,
        n: usize,
    ) -> StoreResult<Vec<OutboxMessage>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(CLAIM_OUTBOX)
            .bind(now_ms)
            .bind(owner)
            .bind(now_ms.saturating_add(lease_ms))
            .bind(limit(n))
            .fetch_all(self.pool())
            .await
            .map_err(db("claim_outbox"))?;
        let mut out: Vec<OutboxMessage> = json_rows(&rows).map_err(db("claim_outbox"))?;
        // `RETURNING` does not keep the CTE's order.
        out.sort_by(|a, b| (a.created_at_ms, &a.id).cmp(&(b.created_at_ms, &b.id)));
        Ok(out)
    }

    async fn commerce_finish(
        &self,
        id: &str,
        now_ms: i64,
        update: &OutboxUpdate,
    ) -> StoreResult<()> {
        let (sql, at, detail) = match update {
            OutboxUpdate::Sent { graph_id } => (FINISH_SENT, now_ms, graph_id),
            OutboxUpdate::Suppressed { reason } => (FINISH_SUPPRESSED, now_ms, reason),
            OutboxUpdate::Failed {
                reason,
                retry_at_ms: Some(t),
            } => (FINISH_RETRY, *t, reason),
            OutboxUpdate::Failed {
                reason,
                retry_at_ms: None,
            } => (FINISH_FAILED, now_ms, reason),
        };
        let done = sqlx::query(sql)
            .bind(id)
            .bind(at)
            .bind(detail)
            .execute(self.pool())
            .await
            .map_err(db("finish_outbox"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!(
                "finish_outbox: no outbox message {id}"
            )));
        }
        Ok(())
    }

    async fn commerce_log<T>(
        &self,
        op: &'static str,
        table: &'static str,
        order_by: &'static str,
        f: &LogFilter,
    ) -> StoreResult<Vec<T>>
    where
        Json<T>: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    {
        // `table` and `order_by` are literals chosen below, never input.
        let sql = format!(
            "SELECT row_to_json(x) FROM {table} x
             WHERE ($1::text IS NULL OR shop_id = $1) AND ($2::text IS NULL OR live_id = $2)
               AND ($3::text IS NULL OR comment_id = $3) AND ($4::text IS NULL OR order_id = $4)
               AND ($5::text IS NULL OR buyer_id = $5)
             ORDER BY {order_by}, id LIMIT $6"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(f.shop_id.as_deref())
            .bind(f.live_id.as_deref())
            .bind(f.comment_id.as_deref())
            .bind(f.order_id.as_deref())
            .bind(f.buyer_id.as_deref())
            .bind(limit_or_all(f.limit))
            .fetch_all(self.pool())
            .await
            .map_err(db(op))?;
        json_rows(&rows).map_err(db(op))
    }

    async fn commerce_counts(&self, shop_id: &str) -> StoreResult<CommerceCounts> {
        let rows = sqlx::query(COUNTS)
            .bind(shop_id)
            .fetch_all(self.pool())
            .await
            .map_err(db("counts"))?;
        let mut c = CommerceCounts::default();
        for r in &rows {
            let table: String = r.try_get("t").map_err(db("counts"))?;
            let status: String = r.try_get("status").map_err(db("counts"))?;
            let n: i64 = r.try_get("n").map_err(db("counts"))?;
            let n = crate::convert::i64_to_u64("count", n).map_err(db("counts"))?;
            match table.as_str() {
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

    async fn commerce_begin(&self) -> StoreResult<Box<dyn CommerceTx>> {
        // Explicit, so a server whose default isolation was changed still gives the
        // locking behaviour this adapter is written for.
        let tx = self
            .pool()
            .begin_with("BEGIN ISOLATION LEVEL READ COMMITTED")
            .await
            .map_err(db("begin"))?;
        Ok(Box::new(tx::PgCommerceTx::new(tx)))
    }
}

/// The inbox columns of many rows, one vector per column (for `UNNEST`).
struct InboxColumns<'a> {
    comment_id: Vec<&'a str>,
    shop_id: Vec<&'a str>,
    live_id: Vec<&'a str>,
    post_id: Vec<&'a str>,
    buyer_id: Vec<&'a str>,
    buyer_name: Vec<Option<&'a str>>,
    text: Vec<&'a str>,
    created_time_ms: Vec<i64>,
    received_at_ms: Vec<i64>,
    status: Vec<&'static str>,
    detail: Vec<Option<&'a str>>,
}

impl<'a> InboxColumns<'a> {
    fn with_capacity(n: usize) -> Self {
        InboxColumns {
            comment_id: Vec::with_capacity(n),
            shop_id: Vec::with_capacity(n),
            live_id: Vec::with_capacity(n),
            post_id: Vec::with_capacity(n),
            buyer_id: Vec::with_capacity(n),
            buyer_name: Vec::with_capacity(n),
            text: Vec::with_capacity(n),
            created_time_ms: Vec::with_capacity(n),
            received_at_ms: Vec::with_capacity(n),
            status: Vec::with_capacity(n),
            detail: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, r: &'a InboxComment) {
        self.comment_id.push(&r.comment_id);
        self.shop_id.push(&r.shop_id);
        self.live_id.push(&r.live_id);
        self.post_id.push(&r.post_id);
        self.buyer_id.push(&r.buyer_id);
        self.buyer_name.push(r.buyer_name.as_deref());
        self.text.push(&r.text);
        self.created_time_ms.push(r.created_time_ms);
        self.received_at_ms.push(r.received_at_ms);
        self.status.push(r.status.as_str());
        self.detail.push(r.detail.as_deref());
    }
}

impl CommerceStore for PgStore {
    fn put_shop<'a>(&'a self, shop: &'a Shop) -> StoreFuture<'a, ()> {
        Box::pin(self.commerce_put_shop(shop))
    }

    fn shop<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Shop>> {
        Box::pin(async move { Ok(self.commerce_shops(Some(id)).await?.into_iter().next()) })
    }

    fn shops(&self) -> StoreFuture<'_, Vec<Shop>> {
        Box::pin(self.commerce_shops(None))
    }

    fn set_shop_kill_switch<'a>(&'a self, id: &'a str, on: bool) -> StoreFuture<'a, ()> {
        Box::pin(self.commerce_set_kill_switch("set_shop_kill_switch", "commerce_shops", id, on))
    }

    fn import_products<'a>(
        &'a self,
        shop_id: &'a str,
        products: &'a [Product],
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.commerce_import(shop_id, products))
    }

    fn products<'a>(&'a self, shop_id: &'a str) -> StoreFuture<'a, Vec<ProductRecord>> {
        Box::pin(self.commerce_products(shop_id))
    }

    fn stock<'a>(&'a self, shop_id: &'a str, sku: &'a str) -> StoreFuture<'a, Option<StockLevel>> {
        Box::pin(self.commerce_stock(shop_id, sku))
    }

    fn put_live<'a>(&'a self, live: &'a Live) -> StoreFuture<'a, ()> {
        Box::pin(self.commerce_put_live(live))
    }

    fn live<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Live>> {
        Box::pin(async move {
            Ok(self
                .commerce_lives("live", "id", id)
                .await?
                .into_iter()
                .next())
        })
    }

    fn live_by_post<'a>(&'a self, post_id: &'a str) -> StoreFuture<'a, Option<Live>> {
        Box::pin(async move {
            Ok(self
                .commerce_lives("live_by_post", "post_id", post_id)
                .await?
                .into_iter()
                .next())
        })
    }

    fn lives<'a>(&'a self, shop_id: &'a str) -> StoreFuture<'a, Vec<Live>> {
        Box::pin(self.commerce_lives("lives", "shop_id", shop_id))
    }

    fn set_live_kill_switch<'a>(&'a self, id: &'a str, on: bool) -> StoreFuture<'a, ()> {
        Box::pin(self.commerce_set_kill_switch("set_live_kill_switch", "commerce_lives", id, on))
    }

    fn insert_inbox<'a>(&'a self, rows: &'a [InboxComment]) -> StoreFuture<'a, Vec<bool>> {
        Box::pin(self.commerce_insert_inbox(rows))
    }

    fn pending_inbox(&self, limit: usize) -> StoreFuture<'_, Vec<InboxComment>> {
        Box::pin(self.commerce_inbox(None, self::limit(limit)))
    }

    fn inbox_comment<'a>(&'a self, comment_id: &'a str) -> StoreFuture<'a, Option<InboxComment>> {
        Box::pin(async move {
            Ok(self
                .commerce_inbox(Some(comment_id), 1)
                .await?
                .into_iter()
                .next())
        })
    }

    fn order<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Order>> {
        Box::pin(self.commerce_order(id))
    }

    fn orders<'a>(&'a self, filter: &'a OrderFilter) -> StoreFuture<'a, Vec<Order>> {
        Box::pin(self.commerce_orders(filter))
    }

    fn due_expiries(&self, now_ms: i64, limit: usize) -> StoreFuture<'_, Vec<String>> {
        Box::pin(self.commerce_due_expiries(now_ms, limit))
    }

    fn due_reminders(&self, before_ms: i64, limit: usize) -> StoreFuture<'_, Vec<Order>> {
        Box::pin(self.commerce_due_reminders(before_ms, limit))
    }

    fn set_payment_link<'a>(
        &'a self,
        order_id: &'a str,
        link: &'a PaymentLinkRecord,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.commerce_set_payment_link(order_id, link))
    }

    fn buyer<'a>(&'a self, shop_id: &'a str, buyer_id: &'a str) -> StoreFuture<'a, Option<Buyer>> {
        Box::pin(self.commerce_buyer(shop_id, buyer_id))
    }

    fn waitlist_entries<'a>(&'a self, shop_id: &'a str) -> StoreFuture<'a, Vec<WaitEntry>> {
        Box::pin(self.commerce_waitlist_entries(shop_id))
    }

    fn claim_outbox<'a>(
        &'a self,
        now_ms: i64,
        owner: &'a str,
        lease_ms: i64,
        limit: usize,
    ) -> StoreFuture<'a, Vec<OutboxMessage>> {
        Box::pin(self.commerce_claim(now_ms, owner, lease_ms, limit))
    }

    fn finish_outbox<'a>(
        &'a self,
        id: &'a str,
        now_ms: i64,
        update: &'a OutboxUpdate,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.commerce_finish(id, now_ms, update))
    }

    fn outbox<'a>(&'a self, filter: &'a LogFilter) -> StoreFuture<'a, Vec<OutboxMessage>> {
        Box::pin(self.commerce_log("outbox", "commerce_outbox", "created_at_ms", filter))
    }

    fn audit<'a>(&'a self, filter: &'a LogFilter) -> StoreFuture<'a, Vec<AuditRecord>> {
        Box::pin(self.commerce_log("audit", "commerce_audit", "at_ms", filter))
    }

    fn counts<'a>(&'a self, shop_id: &'a str) -> StoreFuture<'a, CommerceCounts> {
        Box::pin(self.commerce_counts(shop_id))
    }

    fn begin(&self) -> StoreFuture<'_, Box<dyn CommerceTx>> {
        Box::pin(self.commerce_begin())
    }
}
