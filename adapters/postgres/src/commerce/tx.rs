//! [`CommerceTx`] over one `sqlx::Transaction` (READ COMMITTED plus row locks).
//!
//! Under READ COMMITTED each statement sees what was committed when it started, and a
//! `FOR UPDATE` that had to wait re-reads the locked row's newest version and re-checks
//! the `WHERE` clause on it. So: rows are locked first, and anything read alongside
//! them (an order's lines) is read by a later statement, after the lock is held.
//! Empty inputs cost no round trip.

use std::fmt;

use meta_commerce::store::{
    AuditRecord, Buyer, CommerceTx, InboxComment, InboxStatus, Order, OrderStatus, OutboxMessage,
    StockLevel, StoreError, StoreFuture, WaitEntry,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, Row, Transaction};

use super::rows::{BUYER_COLUMNS, buyer_from_row, json_rows, orders_with_lines, stock_from_row};
use super::{StoreResult, big, db, last_occurrences};

/// By primary key. `status || ''` is deliberately not the partial index's predicate:
/// that index also holds the entries of rows processed since the last vacuum, and a
/// planner short of statistics would otherwise walk all of them for 500 ids.
const TAKE_PENDING: &str = "SELECT row_to_json(i) FROM commerce_inbox i
     WHERE comment_id = ANY($1) AND (status || '') = 'pending'
     ORDER BY created_time_ms, comment_id
     FOR UPDATE SKIP LOCKED";

const MARK_INBOX: &str = "UPDATE commerce_inbox AS i SET status = u.status, detail = u.detail
     FROM UNNEST($1::text[], $2::text[], $3::text[]) AS u(comment_id, status, detail)
     WHERE i.comment_id = u.comment_id";

const LOCK_STOCK: &str = "SELECT shop_id, sku, available, reserved, sold FROM commerce_products
     WHERE shop_id = $1 AND sku = ANY($2)
     ORDER BY sku
     FOR UPDATE";

const PUT_STOCK: &str = "UPDATE commerce_products AS p
     SET available = u.available, reserved = u.reserved, sold = u.sold
     FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])
         AS u(shop_id, sku, available, reserved, sold)
     WHERE p.shop_id = u.shop_id AND p.sku = u.sku";

/// The open orders of (live, buyer) pairs, locked in id order. The ids come from one
/// index probe per pair (the `LATERAL … OFFSET 0` keeps the planner from turning the
/// pairs into a join over every open order while the table has no statistics); the
/// rows are then locked by primary key, and the status is checked again on the
/// locked version (written so no partial index over `status` is picked instead).
const OPEN_ORDERS: &str = concat!(
    "SELECT ",
    order_columns!(),
    " FROM commerce_orders
     WHERE id = ANY(ARRAY(
         SELECT o.id FROM UNNEST($1::text[], $2::text[]) AS k(live_id, buyer_id)
         CROSS JOIN LATERAL (
             SELECT id FROM commerce_orders
             WHERE live_id = k.live_id AND buyer_id = k.buyer_id AND status = 'open'
             OFFSET 0) o))
       AND (status || '') = 'open'
     ORDER BY id FOR UPDATE"
);

/// Orders by id, any status, locked in id order.
const LOCK_ORDERS: &str = concat!(
    "SELECT ",
    order_columns!(),
    " FROM commerce_orders WHERE id = ANY($1) ORDER BY id FOR UPDATE"
);

/// The lines of many orders: one primary-key probe per order, whatever the statistics.
const ORDER_LINES: &str = "SELECT l.order_id, l.sku, l.name, l.qty, l.unit_price_minor
     FROM UNNEST($1::text[]) AS k(order_id)
     CROSS JOIN LATERAL (
         SELECT order_id, position, sku, name, qty, unit_price_minor
         FROM commerce_order_lines WHERE order_id = k.order_id OFFSET 0) l
     ORDER BY l.order_id, l.position";

/// Drops the lines of orders that existed before this `put_orders`.
const DELETE_LINES: &str = "DELETE FROM commerce_order_lines AS l
     USING UNNEST($1::text[]) AS k(order_id)
     WHERE l.order_id = k.order_id";

const PUT_ORDERS: &str = concat!(
    "INSERT INTO commerce_orders (",
    order_columns!(),
    ")
     SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
         $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::text[],
         $13::text[], $14::text[], $15::bigint[], $16::text[], $17::bigint[], $18::text[],
         $19::bool[])
     ON CONFLICT (id) DO UPDATE SET shop_id = EXCLUDED.shop_id, live_id = EXCLUDED.live_id,
         buyer_id = EXCLUDED.buyer_id, currency = EXCLUDED.currency, status = EXCLUDED.status,
         total_minor = EXCLUDED.total_minor, hold_expires_at_ms = EXCLUDED.hold_expires_at_ms,
         created_at_ms = EXCLUDED.created_at_ms, updated_at_ms = EXCLUDED.updated_at_ms,
         version = EXCLUDED.version, pay_gateway = EXCLUDED.pay_gateway,
         pay_url = EXCLUDED.pay_url, pay_ref = EXCLUDED.pay_ref,
         pay_for_version = EXCLUDED.pay_for_version, paid_ref = EXCLUDED.paid_ref,
         paid_at_ms = EXCLUDED.paid_at_ms, note = EXCLUDED.note, reminded = EXCLUDED.reminded
     RETURNING id, xmax <> 0 AS existed"
);

const INSERT_LINES: &str = "INSERT INTO commerce_order_lines (order_id, position, sku, name, qty, \
     unit_price_minor)
     SELECT * FROM UNNEST($1::text[], $2::int[], $3::text[], $4::text[], $5::bigint[],
                          $6::bigint[])";

const WAITLIST: &str = "SELECT row_to_json(w) FROM commerce_waitlist w
     WHERE shop_id = $1 AND sku = ANY($2)
     ORDER BY created_time_ms, id";

const PUT_WAITLIST: &str = "INSERT INTO commerce_waitlist (id, shop_id, live_id, sku, buyer_id, \
     qty, comment_id, created_time_ms)
     SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                          $6::bigint[], $7::text[], $8::bigint[])
     ON CONFLICT (id) DO UPDATE SET shop_id = EXCLUDED.shop_id, live_id = EXCLUDED.live_id,
         sku = EXCLUDED.sku, buyer_id = EXCLUDED.buyer_id, qty = EXCLUDED.qty,
         comment_id = EXCLUDED.comment_id, created_time_ms = EXCLUDED.created_time_ms";

const PUT_BUYERS: &str = "INSERT INTO commerce_buyers (shop_id, buyer_id, name, opted_out, \
     anonymized, first_seen_ms)
     SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bool[], $5::bool[],
                          $6::bigint[])
     ON CONFLICT (shop_id, buyer_id) DO UPDATE SET name = EXCLUDED.name,
         opted_out = EXCLUDED.opted_out, anonymized = EXCLUDED.anonymized,
         first_seen_ms = EXCLUDED.first_seen_ms";

const APPEND_AUDIT: &str = "INSERT INTO commerce_audit (id, at_ms, shop_id, live_id, comment_id, \
     order_id, buyer_id, action, classifier, intent, confidence, items, detail)
     SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[],
                          $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                          $11::real[], $12::text[], $13::text[])";

const ENQUEUE: &str = "INSERT INTO commerce_outbox (id, shop_id, live_id, buyer_id, kind, \
     comment_id, order_id, text, dedupe_key, status, attempts, next_attempt_at_ms, \
     origin_received_at_ms, created_at_ms, finished_at_ms, detail, lease_owner, lease_until_ms)
     SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                          $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                          $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[],
                          $15::bigint[], $16::text[], $17::text[], $18::bigint[])
     ON CONFLICT (dedupe_key) DO NOTHING";

/// No clock inside a transaction: a suppressed message's finish time is its enqueue
/// time unless it already had one.
const SUPPRESS_PENDING: &str = "UPDATE commerce_outbox
     SET status = 'suppressed', detail = $3,
         finished_at_ms = COALESCE(finished_at_ms, created_at_ms)
     WHERE shop_id = $1 AND buyer_id = $2 AND (status || '') = 'pending'";

/// Data deletion in one statement (every data-modifying CTE runs to completion). The
/// audit trigger lets the last `UPDATE` through only because the transaction declared
/// the deletion first (`meta_commerce.anonymizing`), and only because it changes
/// `buyer_id` alone.
const ANONYMIZE: &str = "WITH
     b AS (UPDATE commerce_buyers SET buyer_id = $3, name = NULL, anonymized = TRUE
           WHERE shop_id = $1 AND buyer_id = $2),
     o AS (UPDATE commerce_orders SET buyer_id = $3 WHERE shop_id = $1 AND buyer_id = $2),
     w AS (UPDATE commerce_waitlist SET buyer_id = $3 WHERE shop_id = $1 AND buyer_id = $2),
     i AS (UPDATE commerce_inbox SET buyer_id = $3, buyer_name = NULL, text = '[deleted]'
           WHERE shop_id = $1 AND buyer_id = $2),
     x AS (UPDATE commerce_outbox SET buyer_id = $3, text = '[deleted]',
               detail = CASE WHEN status = 'pending' THEN 'data deleted' ELSE detail END,
               finished_at_ms = CASE WHEN status = 'pending'
                   THEN COALESCE(finished_at_ms, created_at_ms) ELSE finished_at_ms END,
               status = CASE WHEN status = 'pending' THEN 'suppressed' ELSE status END
           WHERE shop_id = $1 AND buyer_id = $2)
     UPDATE commerce_audit SET buyer_id = $3 WHERE shop_id = $1 AND buyer_id = $2";

/// A commerce transaction: one pooled connection inside `BEGIN … COMMIT`.
pub(super) struct PgCommerceTx {
    tx: Transaction<'static, Postgres>,
}

impl fmt::Debug for PgCommerceTx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgCommerceTx").finish_non_exhaustive()
    }
}

/// Locked orders, then their lines read after the locks are held.
async fn with_lines(
    conn: &mut PgConnection,
    op: &'static str,
    rows: &[PgRow],
) -> StoreResult<Vec<Order>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = rows
        .iter()
        .map(|r| r.try_get::<String, _>("id"))
        .collect::<Result<_, _>>()
        .map_err(db(op))?;
    let lines = sqlx::query(ORDER_LINES)
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await
        .map_err(db(op))?;
    orders_with_lines(rows, &lines).map_err(db(op))
}

impl PgCommerceTx {
    pub(super) fn new(tx: Transaction<'static, Postgres>) -> Self {
        PgCommerceTx { tx }
    }

    fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    async fn take_pending_rows(&mut self, ids: &[String]) -> StoreResult<Vec<InboxComment>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(TAKE_PENDING)
            .bind(ids)
            .fetch_all(self.conn())
            .await
            .map_err(db("take_pending"))?;
        json_rows(&rows).map_err(db("take_pending"))
    }

    async fn mark(&mut self, rows: &[(String, InboxStatus, Option<String>)]) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let idx = last_occurrences(rows, |r| r.0.as_str());
        let ids: Vec<&str> = idx.iter().map(|&i| rows[i].0.as_str()).collect();
        let status: Vec<&str> = idx.iter().map(|&i| rows[i].1.as_str()).collect();
        let detail: Vec<Option<&str>> = idx.iter().map(|&i| rows[i].2.as_deref()).collect();
        sqlx::query(MARK_INBOX)
            .bind(ids)
            .bind(status)
            .bind(detail)
            .execute(self.conn())
            .await
            .map_err(db("mark_inbox"))?;
        Ok(())
    }

    async fn lock(&mut self, shop_id: &str, skus: &[String]) -> StoreResult<Vec<StockLevel>> {
        if skus.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(LOCK_STOCK)
            .bind(shop_id)
            .bind(skus)
            .fetch_all(self.conn())
            .await
            .map_err(db("lock_stock"))?;
        rows.iter()
            .map(stock_from_row)
            .collect::<Result<_, _>>()
            .map_err(db("lock_stock"))
    }

    async fn write_stock(&mut self, rows: &[StockLevel]) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        // Refused before anything is written, so the transaction stays usable; the
        // CHECK constraint is the backstop.
        if let Some(bad) = rows
            .iter()
            .find(|r| r.available < 0 || r.reserved < 0 || r.sold < 0)
        {
            return Err(StoreError::Invalid(format!(
                "put_stock: negative stock for {} / {}",
                bad.shop_id, bad.sku
            )));
        }
        let mut idx = last_occurrences(rows, |r| (r.shop_id.as_str(), r.sku.as_str()));
        // SKU order, like lock_stock, should a caller write rows it did not lock.
        idx.sort_by(|&a, &b| {
            (&rows[a].shop_id, &rows[a].sku).cmp(&(&rows[b].shop_id, &rows[b].sku))
        });
        let pick =
            |f: fn(&StockLevel) -> i64| -> Vec<i64> { idx.iter().map(|&i| f(&rows[i])).collect() };
        let shop: Vec<&str> = idx.iter().map(|&i| rows[i].shop_id.as_str()).collect();
        let sku: Vec<&str> = idx.iter().map(|&i| rows[i].sku.as_str()).collect();
        sqlx::query(PUT_STOCK)
            .bind(shop)
            .bind(sku)
            .bind(pick(|r| r.available))
            .bind(pick(|r| r.reserved))
            .bind(pick(|r| r.sold))
            .execute(self.conn())
            .await
            .map_err(db("put_stock"))?;
        Ok(())
    }

    async fn open(&mut self, keys: &[(String, String)]) -> StoreResult<Vec<Order>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let lives: Vec<&str> = keys.iter().map(|k| k.0.as_str()).collect();
        let buyers: Vec<&str> = keys.iter().map(|k| k.1.as_str()).collect();
        let rows = sqlx::query(OPEN_ORDERS)
            .bind(lives)
            .bind(buyers)
            .fetch_all(self.conn())
            .await
            .map_err(db("open_orders"))?;
        with_lines(self.conn(), "open_orders", &rows).await
    }

    async fn lock_ids(&mut self, ids: &[String]) -> StoreResult<Vec<Order>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(LOCK_ORDERS)
            .bind(ids)
            .fetch_all(self.conn())
            .await
            .map_err(db("lock_orders"))?;
        with_lines(self.conn(), "lock_orders", &rows).await
    }

    async fn write_orders(&mut self, orders: &[Order]) -> StoreResult<()> {
        if orders.is_empty() {
            return Ok(());
        }
        let mut idx = last_occurrences(orders, |o| o.id.as_str());
        // Closing orders before opening others: the one-open-order index is checked row
        // by row, so an order leaving `open` must be written before its successor for
        // the same (live, buyer, currency) arrives. Then id order.
        idx.sort_by(|&a, &b| {
            let (a, b) = (&orders[a], &orders[b]);
            (a.status == OrderStatus::Open, &a.id).cmp(&(b.status == OrderStatus::Open, &b.id))
        });
        let n = idx.len();
        let mut c = OrderColumns::with_capacity(n);
        let mut lines = LineColumns::default();
        for &i in &idx {
            let o = &orders[i];
            c.push(o);
            for (pos, l) in o.lines.iter().enumerate() {
                lines.order_id.push(o.id.as_str());
                lines.position.push(
                    i32::try_from(pos)
                        .map_err(|_| StoreError::Invalid("put_orders: too many lines".into()))?,
                );
                lines.sku.push(l.sku.as_str());
                lines.name.push(l.name.as_str());
                lines.qty.push(big(l.qty));
                lines.unit_price_minor.push(l.unit_price_minor);
            }
        }
        let written = sqlx::query(PUT_ORDERS)
            .bind(c.id)
            .bind(c.shop_id)
            .bind(c.live_id)
            .bind(c.buyer_id)
            .bind(c.currency)
            .bind(c.status)
            .bind(c.total_minor)
            .bind(c.hold_expires_at_ms)
            .bind(c.created_at_ms)
            .bind(c.updated_at_ms)
            .bind(c.version)
            .bind(c.pay_gateway)
            .bind(c.pay_url)
            .bind(c.pay_ref)
            .bind(c.pay_for_version)
            .bind(c.paid_ref)
            .bind(c.paid_at_ms)
            .bind(c.note)
            .bind(c.reminded)
            .fetch_all(self.conn())
            .await
            .map_err(db("put_orders"))?;
        // The lines are replaced wholesale: the old ones of orders that already existed
        // (`xmax <> 0` on an upserted row: it was updated, not inserted) are deleted,
        // then every line is inserted in position order. A new order has nothing to
        // delete, which spares a batch of new carts one statement.
        let mut existed = Vec::new();
        for r in &written {
            if r.try_get::<bool, _>("existed").map_err(db("put_orders"))? {
                existed.push(r.try_get::<String, _>("id").map_err(db("put_orders"))?);
            }
        }
        if !existed.is_empty() {
            sqlx::query(DELETE_LINES)
                .bind(existed)
                .execute(self.conn())
                .await
                .map_err(db("put_orders"))?;
        }
        if !lines.order_id.is_empty() {
            sqlx::query(INSERT_LINES)
                .bind(lines.order_id)
                .bind(lines.position)
                .bind(lines.sku)
                .bind(lines.name)
                .bind(lines.qty)
                .bind(lines.unit_price_minor)
                .execute(self.conn())
                .await
                .map_err(db("put_orders"))?;
        }
        Ok(())
    }

    async fn waitlist_rows(
        &mut self,
        shop_id: &str,
        skus: &[String],
    ) -> StoreResult<Vec<WaitEntry>> {
        if skus.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(WAITLIST)
            .bind(shop_id)
            .bind(skus)
            .fetch_all(self.conn())
            .await
            .map_err(db("waitlist"))?;
        json_rows(&rows).map_err(db("waitlist"))
    }

    async fn write_waitlist(&mut self, entries: &[WaitEntry]) -> StoreResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let idx = last_occurrences(entries, |e| e.id.as_str());
        let s = |f: fn(&WaitEntry) -> &str| -> Vec<&str> {
            idx.iter().map(|&i| f(&entries[i])).collect()
        };
        sqlx::query(PUT_WAITLIST)
            .bind(s(|e| &e.id))
            .bind(s(|e| &e.shop_id))
            .bind(s(|e| &e.live_id))
            .bind(s(|e| &e.sku))
            .bind(s(|e| &e.buyer_id))
            .bind(idx.iter().map(|&i| big(entries[i].qty)).collect::<Vec<_>>())
            .bind(s(|e| &e.comment_id))
            .bind(
                idx.iter()
                    .map(|&i| entries[i].created_time_ms)
                    .collect::<Vec<_>>(),
            )
            .execute(self.conn())
            .await
            .map_err(db("put_waitlist"))?;
        Ok(())
    }

    async fn delete_waitlist(&mut self, ids: &[String]) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        sqlx::query("DELETE FROM commerce_waitlist WHERE id = ANY($1)")
            .bind(ids)
            .execute(self.conn())
            .await
            .map_err(db("remove_waitlist"))?;
        Ok(())
    }

    async fn buyer_rows(&mut self, shop_id: &str, ids: &[String]) -> StoreResult<Vec<Buyer>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {BUYER_COLUMNS} FROM commerce_buyers WHERE shop_id = $1 AND buyer_id = ANY($2)
             ORDER BY buyer_id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(shop_id)
            .bind(ids)
            .fetch_all(self.conn())
            .await
            .map_err(db("buyers"))?;
        rows.iter()
            .map(buyer_from_row)
            .collect::<Result<_, _>>()
            .map_err(db("buyers"))
    }

    async fn write_buyers(&mut self, buyers: &[Buyer]) -> StoreResult<()> {
        if buyers.is_empty() {
            return Ok(());
        }
        let idx = last_occurrences(buyers, |b| (b.shop_id.as_str(), b.buyer_id.as_str()));
        let flag =
            |f: fn(&Buyer) -> bool| -> Vec<bool> { idx.iter().map(|&i| f(&buyers[i])).collect() };
        sqlx::query(PUT_BUYERS)
            .bind(
                idx.iter()
                    .map(|&i| buyers[i].shop_id.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                idx.iter()
                    .map(|&i| buyers[i].buyer_id.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                idx.iter()
                    .map(|&i| buyers[i].name.as_deref())
                    .collect::<Vec<_>>(),
            )
            .bind(flag(|b| b.opted_out))
            .bind(flag(|b| b.anonymized))
            .bind(
                idx.iter()
                    .map(|&i| buyers[i].first_seen_ms)
                    .collect::<Vec<_>>(),
            )
            .execute(self.conn())
            .await
            .map_err(db("put_buyers"))?;
        Ok(())
    }

    async fn write_audit(&mut self, rows: &[AuditRecord]) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let s = |f: fn(&AuditRecord) -> &str| -> Vec<&str> { rows.iter().map(f).collect() };
        let o = |f: fn(&AuditRecord) -> Option<&str>| -> Vec<Option<&str>> {
            rows.iter().map(f).collect()
        };
        sqlx::query(APPEND_AUDIT)
            .bind(s(|r| &r.id))
            .bind(rows.iter().map(|r| r.at_ms).collect::<Vec<_>>())
            .bind(s(|r| &r.shop_id))
            .bind(o(|r| r.live_id.as_deref()))
            .bind(o(|r| r.comment_id.as_deref()))
            .bind(o(|r| r.order_id.as_deref()))
            .bind(o(|r| r.buyer_id.as_deref()))
            .bind(s(|r| &r.action))
            .bind(o(|r| r.classifier.as_deref()))
            .bind(o(|r| r.intent.as_deref()))
            .bind(rows.iter().map(|r| r.confidence).collect::<Vec<_>>())
            .bind(o(|r| r.items.as_deref()))
            .bind(s(|r| &r.detail))
            .execute(self.conn())
            .await
            .map_err(db("append_audit"))?;
        Ok(())
    }

    async fn write_outbox(&mut self, m: &[OutboxMessage]) -> StoreResult<()> {
        if m.is_empty() {
            return Ok(());
        }
        let s = |f: fn(&OutboxMessage) -> &str| -> Vec<&str> { m.iter().map(f).collect() };
        let o = |f: fn(&OutboxMessage) -> Option<&str>| -> Vec<Option<&str>> {
            m.iter().map(f).collect()
        };
        let n = |f: fn(&OutboxMessage) -> i64| -> Vec<i64> { m.iter().map(f).collect() };
        let on = |f: fn(&OutboxMessage) -> Option<i64>| -> Vec<Option<i64>> {
            m.iter().map(f).collect()
        };
        // A dedupe key already stored (or repeated in `m`) is skipped.
        sqlx::query(ENQUEUE)
            .bind(s(|r| &r.id))
            .bind(s(|r| &r.shop_id))
            .bind(o(|r| r.live_id.as_deref()))
            .bind(s(|r| &r.buyer_id))
            .bind(s(|r| r.kind.as_str()))
            .bind(o(|r| r.comment_id.as_deref()))
            .bind(o(|r| r.order_id.as_deref()))
            .bind(s(|r| &r.text))
            .bind(s(|r| &r.dedupe_key))
            .bind(s(|r| r.status.as_str()))
            .bind(n(|r| big(r.attempts)))
            .bind(n(|r| r.next_attempt_at_ms))
            .bind(n(|r| r.origin_received_at_ms))
            .bind(n(|r| r.created_at_ms))
            .bind(on(|r| r.finished_at_ms))
            .bind(o(|r| r.detail.as_deref()))
            .bind(o(|r| r.lease_owner.as_deref()))
            .bind(on(|r| r.lease_until_ms))
            .execute(self.conn())
            .await
            .map_err(db("enqueue"))?;
        Ok(())
    }

    async fn suppress(&mut self, shop_id: &str, buyer_id: &str, reason: &str) -> StoreResult<u64> {
        let done = sqlx::query(SUPPRESS_PENDING)
            .bind(shop_id)
            .bind(buyer_id)
            .bind(reason)
            .execute(self.conn())
            .await
            .map_err(db("suppress_pending"))?;
        Ok(done.rows_affected())
    }

    async fn anonymize(
        &mut self,
        shop_id: &str,
        buyer_id: &str,
        replacement: &str,
    ) -> StoreResult<()> {
        // Transaction-local: gone at commit or rollback, and switched off again below so
        // nothing later in this transaction can touch the audit log.
        sqlx::query("SELECT set_config('meta_commerce.anonymizing', 'on', true)")
            .execute(self.conn())
            .await
            .map_err(db("anonymize_buyer"))?;
        sqlx::query(ANONYMIZE)
            .bind(shop_id)
            .bind(buyer_id)
            .bind(replacement)
            .execute(self.conn())
            .await
            .map_err(db("anonymize_buyer"))?;
        sqlx::query("SELECT set_config('meta_commerce.anonymizing', 'off', true)")
            .execute(self.conn())
            .await
            .map_err(db("anonymize_buyer"))?;
        Ok(())
    }
}

/// The order columns of many orders, one vector per column (for `UNNEST`).
struct OrderColumns<'a> {
    id: Vec<&'a str>,
    shop_id: Vec<&'a str>,
    live_id: Vec<&'a str>,
    buyer_id: Vec<&'a str>,
    currency: Vec<&'a str>,
    status: Vec<&'static str>,
    total_minor: Vec<i64>,
    hold_expires_at_ms: Vec<i64>,
    created_at_ms: Vec<i64>,
    updated_at_ms: Vec<i64>,
    version: Vec<i64>,
    pay_gateway: Vec<Option<&'a str>>,
    pay_url: Vec<Option<&'a str>>,
    pay_ref: Vec<Option<&'a str>>,
    pay_for_version: Vec<Option<i64>>,
    paid_ref: Vec<Option<&'a str>>,
    paid_at_ms: Vec<Option<i64>>,
    note: Vec<Option<&'a str>>,
    reminded: Vec<bool>,
}

impl<'a> OrderColumns<'a> {
    fn with_capacity(n: usize) -> Self {
        OrderColumns {
            id: Vec::with_capacity(n),
            shop_id: Vec::with_capacity(n),
            live_id: Vec::with_capacity(n),
            buyer_id: Vec::with_capacity(n),
            currency: Vec::with_capacity(n),
            status: Vec::with_capacity(n),
            total_minor: Vec::with_capacity(n),
            hold_expires_at_ms: Vec::with_capacity(n),
            created_at_ms: Vec::with_capacity(n),
            updated_at_ms: Vec::with_capacity(n),
            version: Vec::with_capacity(n),
            pay_gateway: Vec::with_capacity(n),
            pay_url: Vec::with_capacity(n),
            pay_ref: Vec::with_capacity(n),
            pay_for_version: Vec::with_capacity(n),
            paid_ref: Vec::with_capacity(n),
            paid_at_ms: Vec::with_capacity(n),
            note: Vec::with_capacity(n),
            reminded: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, o: &'a Order) {
        self.id.push(&o.id);
        self.shop_id.push(&o.shop_id);
        self.live_id.push(&o.live_id);
        self.buyer_id.push(&o.buyer_id);
        self.currency.push(o.currency.as_str());
        self.status.push(o.status.as_str());
        self.total_minor.push(o.total_minor);
        self.hold_expires_at_ms.push(o.hold_expires_at_ms);
        self.created_at_ms.push(o.created_at_ms);
        self.updated_at_ms.push(o.updated_at_ms);
        self.version.push(o.version);
        let pay = o.payment.as_ref();
        self.pay_gateway.push(pay.map(|p| p.gateway.as_str()));
        self.pay_url.push(pay.map(|p| p.url.as_str()));
        self.pay_ref.push(pay.map(|p| p.provider_ref.as_str()));
        self.pay_for_version.push(pay.map(|p| p.for_version));
        self.paid_ref.push(o.paid_ref.as_deref());
        self.paid_at_ms.push(o.paid_at_ms);
        self.note.push(o.note.as_deref());
        self.reminded.push(o.reminded);
    }
}

/// Order lines of many orders, one vector per column.
#[derive(Default)]
struct LineColumns<'a> {
    order_id: Vec<&'a str>,
    position: Vec<i32>,
    sku: Vec<&'a str>,
    name: Vec<&'a str>,
    qty: Vec<i64>,
    unit_price_minor: Vec<i64>,
}

impl CommerceTx for PgCommerceTx {
    fn take_pending<'a>(
        &'a mut self,
        comment_ids: &'a [String],
    ) -> StoreFuture<'a, Vec<InboxComment>> {
        Box::pin(self.take_pending_rows(comment_ids))
    }

    fn mark_inbox<'a>(
        &'a mut self,
        rows: &'a [(String, InboxStatus, Option<String>)],
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.mark(rows))
    }

    fn lock_stock<'a>(
        &'a mut self,
        shop_id: &'a str,
        skus: &'a [String],
    ) -> StoreFuture<'a, Vec<StockLevel>> {
        Box::pin(self.lock(shop_id, skus))
    }

    fn put_stock<'a>(&'a mut self, rows: &'a [StockLevel]) -> StoreFuture<'a, ()> {
        Box::pin(self.write_stock(rows))
    }

    fn open_orders<'a>(&'a mut self, keys: &'a [(String, String)]) -> StoreFuture<'a, Vec<Order>> {
        Box::pin(self.open(keys))
    }

    fn lock_orders<'a>(&'a mut self, ids: &'a [String]) -> StoreFuture<'a, Vec<Order>> {
        Box::pin(self.lock_ids(ids))
    }

    fn put_orders<'a>(&'a mut self, orders: &'a [Order]) -> StoreFuture<'a, ()> {
        Box::pin(self.write_orders(orders))
    }

    fn waitlist<'a>(
        &'a mut self,
        shop_id: &'a str,
        skus: &'a [String],
    ) -> StoreFuture<'a, Vec<WaitEntry>> {
        Box::pin(self.waitlist_rows(shop_id, skus))
    }

    fn put_waitlist<'a>(&'a mut self, entries: &'a [WaitEntry]) -> StoreFuture<'a, ()> {
        Box::pin(self.write_waitlist(entries))
    }

    fn remove_waitlist<'a>(&'a mut self, ids: &'a [String]) -> StoreFuture<'a, ()> {
        Box::pin(self.delete_waitlist(ids))
    }

    fn buyers<'a>(
        &'a mut self,
        shop_id: &'a str,
        ids: &'a [String],
    ) -> StoreFuture<'a, Vec<Buyer>> {
        Box::pin(self.buyer_rows(shop_id, ids))
    }

    fn put_buyers<'a>(&'a mut self, buyers: &'a [Buyer]) -> StoreFuture<'a, ()> {
        Box::pin(self.write_buyers(buyers))
    }

    fn append_audit<'a>(&'a mut self, rows: &'a [AuditRecord]) -> StoreFuture<'a, ()> {
        Box::pin(self.write_audit(rows))
    }

    fn enqueue<'a>(&'a mut self, messages: &'a [OutboxMessage]) -> StoreFuture<'a, ()> {
        Box::pin(self.write_outbox(messages))
    }

    fn suppress_pending<'a>(
        &'a mut self,
        shop_id: &'a str,
        buyer_id: &'a str,
        reason: &'a str,
    ) -> StoreFuture<'a, u64> {
        Box::pin(self.suppress(shop_id, buyer_id, reason))
    }

    fn anonymize_buyer<'a>(
        &'a mut self,
        shop_id: &'a str,
        buyer_id: &'a str,
        replacement: &'a str,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.anonymize(shop_id, buyer_id, replacement))
    }

    fn commit(self: Box<Self>) -> StoreFuture<'static, ()> {
        // The future owns the transaction: nothing borrowed outlives this call.
        Box::pin(async move { self.tx.commit().await.map_err(db("commit")) })
    }
}
