//! The batched statements: every slice the port hands over is written with a bounded
//! number of statements, never one per row.
//!
//! - inserts and upserts are multi-row `INSERT … VALUES (…), (…)` built with
//!   [`QueryBuilder`], in chunks that stay under SQLite's bound-variable limit;
//! - multi-row updates are `WITH v(…) AS (VALUES …) UPDATE t SET … FROM v WHERE …`
//!   (one statement, each target row found by its primary key);
//! - lookups by a set of keys bind the keys as ONE JSON array and read it with
//!   `json_each`: `… IN (SELECT value FROM json_each(?))`. One bound variable whatever
//!   the count, and the SQL text never changes, so the prepared statement is reused
//!   from the connection's cache instead of being re-parsed for every batch size.
//!
//! A full-size chunk's SQL is the same every time, so it is kept in the statement
//! cache; the remainder chunk's size varies from call to call, so it is not (it
//! would only evict statements that do get reused).

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use meta_commerce::catalog::Product;
use meta_commerce::store::{
    AuditRecord, Buyer, InboxComment, InboxStatus, Order, OutboxMessage, StockLevel, WaitEntry,
};
use sqlx::query_builder::Separated;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::error::{SqliteError, db};

/// SQLite's default `SQLITE_MAX_VARIABLE_NUMBER` (since 3.32; the bundled library is
/// newer).
const MAX_VARIABLES: usize = 32_766;
/// Rows per statement at most: beyond a few hundred rows a longer statement saves
/// nothing measurable, and a smaller one keeps the cached program small.
const MAX_ROWS: usize = 500;

/// Rows per chunk for a statement binding `columns` values per row.
fn chunk_rows(columns: usize) -> usize {
    (MAX_VARIABLES / columns.max(1)).clamp(1, MAX_ROWS)
}

type Binder<'b, T> = dyn FnMut(&mut Separated<'_, Sqlite, &'static str>, &T) + Send + 'b;

/// Runs `head VALUES (…), (…) tail` over `rows` in chunks; returns the rows affected.
async fn execute_chunks<T: Sync>(
    conn: &mut SqliteConnection,
    op: &'static str,
    rows: &[T],
    columns: usize,
    head: &'static str,
    tail: &'static str,
    bind: &mut Binder<'_, T>,
) -> Result<u64, SqliteError> {
    let per = chunk_rows(columns);
    let mut affected = 0;
    for chunk in rows.chunks(per) {
        let mut qb = QueryBuilder::<Sqlite>::new(head);
        qb.push_values(chunk, |mut b, row| bind(&mut b, row));
        qb.push(tail);
        let done = qb
            .build()
            .persistent(chunk.len() == per)
            .execute(&mut *conn)
            .await
            .map_err(db(op))?;
        affected += done.rows_affected();
    }
    Ok(affected)
}

/// A JSON array of keys, for `json_each(?)`.
pub(super) fn json_keys<S: AsRef<str>>(keys: &[S]) -> Result<String, SqliteError> {
    let keys: Vec<&str> = keys.iter().map(AsRef::as_ref).collect();
    serde_json::to_string(&keys).map_err(|e| SqliteError::invalid("keys", e.to_string()))
}

/// `rows` without earlier duplicates of a key: a later row wins, as it would had the
/// rows been written one after another. (One statement cannot touch a row twice in a
/// well-defined order.)
fn last_wins<'r, T, K: Eq + Hash>(rows: &'r [T], key: impl Fn(&'r T) -> K) -> Vec<&'r T> {
    let mut last: HashMap<K, usize> = HashMap::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        last.insert(key(r), i);
    }
    if last.len() == rows.len() {
        return rows.iter().collect();
    }
    rows.iter()
        .enumerate()
        .filter(|(i, r)| last.get(&key(r)) == Some(i))
        .map(|(_, r)| r)
        .collect()
}

fn to_json<T: serde::Serialize + ?Sized>(
    field: &'static str,
    v: &T,
) -> Result<String, SqliteError> {
    serde_json::to_string(v).map_err(|e| SqliteError::invalid(field, e.to_string()))
}

/// Inserts comments keyed by id (`INSERT … ON CONFLICT (comment_id) DO NOTHING`)
/// and says, per input row, whether this call inserted it (a second copy of an id
/// within the call is `false`). Run inside a write transaction: the ids already
/// stored are read first (one row, see `rows`) — cheaper than a `RETURNING` row per
/// inserted comment — and nobody can insert between that read and the insert.
pub(super) async fn insert_inbox(
    conn: &mut SqliteConnection,
    rows: &[InboxComment],
) -> Result<Vec<bool>, SqliteError> {
    let ids: Vec<&str> = rows.iter().map(|c| c.comment_id.as_str()).collect();
    let existing: String = sqlx::query_scalar(
        "SELECT json_group_array(comment_id) FROM commerce_inbox \
         WHERE comment_id IN (SELECT value FROM json_each(?))",
    )
    .bind(json_keys(&ids)?)
    .fetch_one(&mut *conn)
    .await
    .map_err(db("insert inbox: existing"))?;
    let existing: HashSet<String> = serde_json::from_str(&existing)
        .map_err(|e| SqliteError::invalid("inbox ids", e.to_string()))?;
    let mut seen: HashSet<&str> = HashSet::with_capacity(rows.len());
    let fresh: Vec<bool> = rows
        .iter()
        .map(|c| !existing.contains(&c.comment_id) && seen.insert(c.comment_id.as_str()))
        .collect();
    let new_rows: Vec<&InboxComment> = rows
        .iter()
        .zip(&fresh)
        .filter(|(_, f)| **f)
        .map(|(c, _)| c)
        .collect();
    execute_chunks(
        conn,
        "insert inbox",
        &new_rows,
        11,
        "INSERT INTO commerce_inbox (comment_id, shop_id, live_id, post_id, buyer_id, \
         buyer_name, text, created_time_ms, received_at_ms, status, detail) ",
        // Nothing should clash (checked above); kept so a clash can never fail the batch.
        " ON CONFLICT (comment_id) DO NOTHING",
        &mut |b, c: &&InboxComment| {
            b.push_bind(c.comment_id.as_str())
                .push_bind(c.shop_id.as_str())
                .push_bind(c.live_id.as_str())
                .push_bind(c.post_id.as_str())
                .push_bind(c.buyer_id.as_str())
                .push_bind(c.buyer_name.as_deref())
                .push_bind(c.text.as_str())
                .push_bind(c.created_time_ms)
                .push_bind(c.received_at_ms)
                .push_bind(c.status.as_str())
                .push_bind(c.detail.as_deref());
        },
    )
    .await?;
    Ok(fresh)
}

/// Sets inbox statuses and details by comment id.
pub(super) async fn mark_inbox(
    conn: &mut SqliteConnection,
    rows: &[(String, InboxStatus, Option<String>)],
) -> Result<(), SqliteError> {
    let rows = last_wins(rows, |r| r.0.as_str());
    execute_chunks(
        conn,
        "mark inbox",
        &rows,
        3,
        "WITH v (comment_id, status, detail) AS (",
        ") UPDATE commerce_inbox SET status = v.status, detail = v.detail FROM v \
         WHERE commerce_inbox.comment_id = v.comment_id",
        &mut |b, r: &&(String, InboxStatus, Option<String>)| {
            b.push_bind(r.0.as_str())
                .push_bind(r.1.as_str())
                .push_bind(r.2.as_deref());
        },
    )
    .await?;
    Ok(())
}

/// Writes absolute stock values; refuses negative ones before writing anything.
pub(super) async fn put_stock(
    conn: &mut SqliteConnection,
    rows: &[StockLevel],
) -> Result<(), SqliteError> {
    if let Some(bad) = rows
        .iter()
        .find(|s| s.available < 0 || s.reserved < 0 || s.sold < 0)
    {
        return Err(SqliteError::invalid(
            "stock",
            format!(
                "{}/{} would be negative (available {}, reserved {}, sold {})",
                bad.shop_id, bad.sku, bad.available, bad.reserved, bad.sold
            ),
        ));
    }
    let rows = last_wins(rows, |s| (s.shop_id.as_str(), s.sku.as_str()));
    execute_chunks(
        conn,
        "put stock",
        &rows,
        5,
        "WITH v (shop_id, sku, available, reserved, sold) AS (",
        ") UPDATE commerce_products SET available = v.available, reserved = v.reserved, \
         sold = v.sold FROM v \
         WHERE commerce_products.shop_id = v.shop_id AND commerce_products.sku = v.sku",
        &mut |b, s: &&StockLevel| {
            b.push_bind(s.shop_id.as_str())
                .push_bind(s.sku.as_str())
                .push_bind(s.available)
                .push_bind(s.reserved)
                .push_bind(s.sold);
        },
    )
    .await?;
    Ok(())
}

/// The product columns of an import, converted once before binding.
struct ProductValues<'p> {
    p: &'p Product,
    aliases: String,
}

/// `import_products`' upsert: new SKUs get `available = stock`; existing ones keep
/// reserved and sold and get `available = max(stock − reserved, 0)`.
pub(super) async fn upsert_products(
    conn: &mut SqliteConnection,
    shop_id: &str,
    products: &[Product],
) -> Result<(), SqliteError> {
    let values = products
        .iter()
        .map(|p| {
            Ok(ProductValues {
                p,
                aliases: to_json("aliases", &p.aliases)?,
            })
        })
        .collect::<Result<Vec<_>, SqliteError>>()?;
    let values = last_wins(&values, |v| v.p.sku.as_str());
    execute_chunks(
        conn,
        "import products",
        &values,
        8,
        "INSERT INTO commerce_products (shop_id, sku, name, aliases, lot, price_minor, \
         currency, available, reserved, sold) ",
        " ON CONFLICT (shop_id, sku) DO UPDATE SET name = excluded.name, \
         aliases = excluded.aliases, lot = excluded.lot, price_minor = excluded.price_minor, \
         currency = excluded.currency, \
         available = max(excluded.available - commerce_products.reserved, 0)",
        &mut |b, v: &&ProductValues<'_>| {
            let p = v.p;
            b.push_bind(shop_id)
                .push_bind(p.sku.as_str())
                .push_bind(p.name.as_str())
                .push_bind(v.aliases.as_str())
                .push_bind(p.lot.map(i64::from))
                .push_bind(p.price.minor)
                .push_bind(p.price.currency.as_str())
                // `excluded.available` is the declared stock in the upsert above.
                .push_bind(i64::from(p.stock))
                .push("0, 0");
        },
    )
    .await?;
    Ok(())
}

/// Inserts or replaces buyers by (shop, buyer id).
pub(super) async fn upsert_buyers(
    conn: &mut SqliteConnection,
    buyers: &[Buyer],
) -> Result<(), SqliteError> {
    let buyers = last_wins(buyers, |b| (b.shop_id.as_str(), b.buyer_id.as_str()));
    execute_chunks(
        conn,
        "put buyers",
        &buyers,
        6,
        "INSERT INTO commerce_buyers (shop_id, buyer_id, name, opted_out, anonymized, \
         first_seen_ms) ",
        " ON CONFLICT (shop_id, buyer_id) DO UPDATE SET name = excluded.name, \
         opted_out = excluded.opted_out, anonymized = excluded.anonymized, \
         first_seen_ms = excluded.first_seen_ms",
        &mut |q, b: &&Buyer| {
            q.push_bind(b.shop_id.as_str())
                .push_bind(b.buyer_id.as_str())
                .push_bind(b.name.as_deref())
                .push_bind(b.opted_out)
                .push_bind(b.anonymized)
                .push_bind(b.first_seen_ms);
        },
    )
    .await?;
    Ok(())
}

/// Inserts or replaces waitlist entries by id.
pub(super) async fn upsert_waitlist(
    conn: &mut SqliteConnection,
    entries: &[WaitEntry],
) -> Result<(), SqliteError> {
    let entries = last_wins(entries, |w| w.id.as_str());
    execute_chunks(
        conn,
        "put waitlist",
        &entries,
        8,
        "INSERT INTO commerce_waitlist (id, shop_id, live_id, sku, buyer_id, qty, comment_id, \
         created_time_ms) ",
        " ON CONFLICT (id) DO UPDATE SET shop_id = excluded.shop_id, \
         live_id = excluded.live_id, sku = excluded.sku, buyer_id = excluded.buyer_id, \
         qty = excluded.qty, comment_id = excluded.comment_id, \
         created_time_ms = excluded.created_time_ms",
        &mut |b, w: &&WaitEntry| {
            b.push_bind(w.id.as_str())
                .push_bind(w.shop_id.as_str())
                .push_bind(w.live_id.as_str())
                .push_bind(w.sku.as_str())
                .push_bind(w.buyer_id.as_str())
                .push_bind(i64::from(w.qty))
                .push_bind(w.comment_id.as_str())
                .push_bind(w.created_time_ms);
        },
    )
    .await?;
    Ok(())
}

/// Upserts orders by id (every column) and replaces their lines.
pub(super) async fn upsert_orders(
    conn: &mut SqliteConnection,
    orders: &[Order],
) -> Result<(), SqliteError> {
    let mut orders = last_wins(orders, |o| o.id.as_str());
    // Orders leaving `open` first: an order closed and its successor opened in the same
    // call must not trip the one-open-order index on the way.
    orders.sort_by_key(|o| o.status == meta_commerce::store::OrderStatus::Open);
    execute_chunks(
        conn,
        "put orders",
        &orders,
        19,
        concat!(
            "INSERT INTO commerce_orders (",
            super::rows::order_columns!(),
            ") "
        ),
        " ON CONFLICT (id) DO UPDATE SET shop_id = excluded.shop_id, \
         live_id = excluded.live_id, buyer_id = excluded.buyer_id, \
         currency = excluded.currency, status = excluded.status, \
         total_minor = excluded.total_minor, hold_expires_at_ms = excluded.hold_expires_at_ms, \
         created_at_ms = excluded.created_at_ms, updated_at_ms = excluded.updated_at_ms, \
         version = excluded.version, pay_gateway = excluded.pay_gateway, \
         pay_url = excluded.pay_url, pay_ref = excluded.pay_ref, \
         pay_for_version = excluded.pay_for_version, paid_ref = excluded.paid_ref, \
         paid_at_ms = excluded.paid_at_ms, note = excluded.note, reminded = excluded.reminded",
        &mut |b, o: &&Order| {
            let pay = o.payment.as_ref();
            b.push_bind(o.id.as_str())
                .push_bind(o.shop_id.as_str())
                .push_bind(o.live_id.as_str())
                .push_bind(o.buyer_id.as_str())
                .push_bind(o.currency.as_str())
                .push_bind(o.status.as_str())
                .push_bind(o.total_minor)
                .push_bind(o.hold_expires_at_ms)
                .push_bind(o.created_at_ms)
                .push_bind(o.updated_at_ms)
                .push_bind(o.version)
                .push_bind(pay.map(|p| p.gateway.as_str()))
                .push_bind(pay.map(|p| p.url.as_str()))
                .push_bind(pay.map(|p| p.provider_ref.as_str()))
                .push_bind(pay.map(|p| p.for_version))
                .push_bind(o.paid_ref.as_deref())
                .push_bind(o.paid_at_ms)
                .push_bind(o.note.as_deref())
                .push_bind(o.reminded);
        },
    )
    .await?;
    // Replace the lines: drop the old ones of every order written, insert the new.
    let ids: Vec<&str> = orders.iter().map(|o| o.id.as_str()).collect();
    sqlx::query(
        "DELETE FROM commerce_order_lines WHERE order_id IN (SELECT value FROM json_each(?))",
    )
    .bind(json_keys(&ids)?)
    .execute(&mut *conn)
    .await
    .map_err(db("put orders: clear lines"))?;
    let lines: Vec<(&str, i64, &meta_commerce::store::OrderLine)> = orders
        .iter()
        .flat_map(|o| {
            o.lines
                .iter()
                .zip(0_i64..)
                .map(move |(l, i)| (o.id.as_str(), i, l))
        })
        .collect();
    execute_chunks(
        conn,
        "put orders: lines",
        &lines,
        6,
        "INSERT INTO commerce_order_lines (order_id, position, sku, name, qty, \
         unit_price_minor) ",
        "",
        &mut |b, (order_id, position, l): &(&str, i64, &meta_commerce::store::OrderLine)| {
            b.push_bind(*order_id)
                .push_bind(*position)
                .push_bind(l.sku.as_str())
                .push_bind(l.name.as_str())
                .push_bind(i64::from(l.qty))
                .push_bind(l.unit_price_minor);
        },
    )
    .await?;
    Ok(())
}

/// SQLite's extended code for a `RAISE(ABORT, …)` from a trigger.
const SQLITE_CONSTRAINT_TRIGGER: &str = "1811";

/// Appends audit rows. A duplicate id is a conflict (the append-only guard trigger
/// refuses it before the primary key would).
pub(super) async fn insert_audit(
    conn: &mut SqliteConnection,
    rows: &[AuditRecord],
) -> Result<(), SqliteError> {
    let r = execute_chunks(
        conn,
        "append audit",
        rows,
        13,
        "INSERT INTO commerce_audit (id, at_ms, shop_id, live_id, comment_id, order_id, \
         buyer_id, action, classifier, intent, confidence, items, detail) ",
        "",
        &mut |b, a: &AuditRecord| {
            b.push_bind(a.id.as_str())
                .push_bind(a.at_ms)
                .push_bind(a.shop_id.as_str())
                .push_bind(a.live_id.as_deref())
                .push_bind(a.comment_id.as_deref())
                .push_bind(a.order_id.as_deref())
                .push_bind(a.buyer_id.as_deref())
                .push_bind(a.action.as_str())
                .push_bind(a.classifier.as_deref())
                .push_bind(a.intent.as_deref())
                .push_bind(a.confidence)
                .push_bind(a.items.as_deref())
                .push_bind(a.detail.as_str());
        },
    )
    .await;
    match r {
        Ok(_) => Ok(()),
        Err(SqliteError::Database {
            source: sqlx::Error::Database(d),
            ..
        }) if d.code().as_deref() == Some(SQLITE_CONSTRAINT_TRIGGER) => {
            // The only INSERT trigger on commerce_audit is the duplicate guard.
            Err(SqliteError::Conflict {
                op: "append audit",
                message: "an audit row with one of these ids exists".to_owned(),
            })
        }
        Err(e) => Err(e),
    }
}

/// Enqueues messages; a `dedupe_key` already present is skipped.
pub(super) async fn insert_outbox(
    conn: &mut SqliteConnection,
    messages: &[OutboxMessage],
) -> Result<(), SqliteError> {
    execute_chunks(
        conn,
        "enqueue",
        messages,
        18,
        "INSERT INTO commerce_outbox (id, shop_id, live_id, buyer_id, kind, comment_id, \
         order_id, text, dedupe_key, status, attempts, next_attempt_at_ms, \
         origin_received_at_ms, created_at_ms, finished_at_ms, detail, lease_owner, \
         lease_until_ms) ",
        " ON CONFLICT (dedupe_key) DO NOTHING",
        &mut |b, m: &OutboxMessage| {
            b.push_bind(m.id.as_str())
                .push_bind(m.shop_id.as_str())
                .push_bind(m.live_id.as_deref())
                .push_bind(m.buyer_id.as_str())
                .push_bind(m.kind.as_str())
                .push_bind(m.comment_id.as_deref())
                .push_bind(m.order_id.as_deref())
                .push_bind(m.text.as_str())
                .push_bind(m.dedupe_key.as_str())
                .push_bind(m.status.as_str())
                .push_bind(i64::from(m.attempts))
                .push_bind(m.next_attempt_at_ms)
                .push_bind(m.origin_received_at_ms)
                .push_bind(m.created_at_ms)
                .push_bind(m.finished_at_ms)
                .push_bind(m.detail.as_deref())
                .push_bind(m.lease_owner.as_deref())
                .push_bind(m.lease_until_ms);
        },
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_stay_under_the_variable_limit() {
        assert_eq!(chunk_rows(19), MAX_ROWS);
        assert!(chunk_rows(100) * 100 <= MAX_VARIABLES);
        assert_eq!(chunk_rows(40_000), 1);
    }

    #[test]
    fn later_duplicates_win() {
        let rows = [("a", 1), ("b", 2), ("a", 3)];
        let kept: Vec<_> = last_wins(&rows, |r| r.0).into_iter().copied().collect();
        assert_eq!(kept, [("b", 2), ("a", 3)]);
        assert_eq!(json_keys(&["x", "y\""]).unwrap(), r#"["x","y\""]"#);
    }
}
