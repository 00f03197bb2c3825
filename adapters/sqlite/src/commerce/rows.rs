//! Rows to commerce records, and the SQL fragments the statements share.
//!
//! Reads that return many rows return them as ONE row holding a JSON array, built by
//! SQLite (`json_group_array(json_object(…) ORDER BY …)`) and deserialized by serde
//! straight into the records. sqlx-sqlite hands each result row from its worker
//! thread to the caller separately, a few microseconds a row, which for the
//! hundreds of rows a pipeline batch reads (pending comments, buyers, open orders)
//! was a large share of the transaction; one row is one hand-over. It also lets an
//! order carry its lines (a correlated `json_group_array` over `commerce_order_lines`)
//! in the same statement, hence the same snapshot.
//!
//! The JSON shape of each object is the record's serde shape, so records that are
//! `#[non_exhaustive]` without a constructor (`InboxComment`, `WaitEntry`,
//! `OutboxMessage`, `AuditRecord`) can be read at all outside meta-commerce; a
//! missing or mistyped column fails as a decode error. Booleans are stored as 0/1
//! and turned into JSON `true`/`false` here. Shops, lives and products (short lists,
//! off the hot path) are read column by column.

use meta_commerce::catalog::Product;
use meta_commerce::money::{Currency, Money};
use meta_commerce::store::{Live, LiveState, ProductRecord, Shop, StockLevel};
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::error::{SqliteError, db};

/// A `commerce_inbox` row as a JSON `InboxComment`.
macro_rules! inbox_json {
    () => {
        "json_object('comment_id', comment_id, 'shop_id', shop_id, 'live_id', live_id, \
         'post_id', post_id, 'buyer_id', buyer_id, 'buyer_name', buyer_name, 'text', text, \
         'created_time_ms', created_time_ms, 'received_at_ms', received_at_ms, \
         'status', status, 'detail', detail)"
    };
}

/// A `commerce_waitlist` row as a JSON `WaitEntry`.
macro_rules! waitlist_json {
    () => {
        "json_object('id', id, 'shop_id', shop_id, 'live_id', live_id, 'sku', sku, \
         'buyer_id', buyer_id, 'qty', qty, 'comment_id', comment_id, \
         'created_time_ms', created_time_ms)"
    };
}

/// A `commerce_outbox` row as a JSON `OutboxMessage`.
macro_rules! outbox_json {
    () => {
        "json_object('id', id, 'shop_id', shop_id, 'live_id', live_id, 'buyer_id', buyer_id, \
         'kind', kind, 'comment_id', comment_id, 'order_id', order_id, 'text', text, \
         'dedupe_key', dedupe_key, 'status', status, 'attempts', attempts, \
         'next_attempt_at_ms', next_attempt_at_ms, \
         'origin_received_at_ms', origin_received_at_ms, 'created_at_ms', created_at_ms, \
         'finished_at_ms', finished_at_ms, 'detail', detail, 'lease_owner', lease_owner, \
         'lease_until_ms', lease_until_ms)"
    };
}

/// A `commerce_audit` row as a JSON `AuditRecord`.
macro_rules! audit_json {
    () => {
        "json_object('id', id, 'at_ms', at_ms, 'shop_id', shop_id, 'live_id', live_id, \
         'comment_id', comment_id, 'order_id', order_id, 'buyer_id', buyer_id, \
         'action', action, 'classifier', classifier, 'intent', intent, \
         'confidence', confidence, 'items', items, 'detail', detail)"
    };
}

/// A `commerce_buyers` row as a JSON `Buyer`.
macro_rules! buyer_json {
    () => {
        "json_object('shop_id', shop_id, 'buyer_id', buyer_id, 'name', name, \
         'opted_out', json(CASE WHEN opted_out THEN 'true' ELSE 'false' END), \
         'anonymized', json(CASE WHEN anonymized THEN 'true' ELSE 'false' END), \
         'first_seen_ms', first_seen_ms)"
    };
}

/// A `commerce_products` row's stock as a JSON `StockLevel`.
macro_rules! stock_json {
    () => {
        "json_object('shop_id', shop_id, 'sku', sku, 'available', available, \
         'reserved', reserved, 'sold', sold)"
    };
}

/// A `commerce_orders` row `o` as a JSON `Order`, its lines in position order. (A
/// scalar subquery's or a CASE's value may lose its JSON subtype, hence `json(…)`
/// around them: otherwise the array or object would be embedded as a string.)
macro_rules! order_json {
    () => {
        "json_object('id', o.id, 'shop_id', o.shop_id, 'live_id', o.live_id, \
         'buyer_id', o.buyer_id, 'currency', o.currency, 'status', o.status, \
         'lines', json((SELECT json_group_array(json_object('sku', l.sku, 'name', l.name, \
             'qty', l.qty, 'unit_price_minor', l.unit_price_minor) ORDER BY l.position) \
             FROM commerce_order_lines l WHERE l.order_id = o.id)), \
         'total_minor', o.total_minor, 'hold_expires_at_ms', o.hold_expires_at_ms, \
         'created_at_ms', o.created_at_ms, 'updated_at_ms', o.updated_at_ms, \
         'version', o.version, \
         'payment', json(CASE WHEN o.pay_gateway IS NULL THEN NULL ELSE json_object( \
             'gateway', o.pay_gateway, 'url', coalesce(o.pay_url, ''), \
             'provider_ref', coalesce(o.pay_ref, ''), \
             'for_version', coalesce(o.pay_for_version, 0)) END), \
         'paid_ref', o.paid_ref, 'paid_at_ms', o.paid_at_ms, 'note', o.note, \
         'reminded', json(CASE WHEN o.reminded THEN 'true' ELSE 'false' END))"
    };
}

macro_rules! shop_columns {
    () => {
        "id, name, page_id, country, currency, hold_ms, min_confidence, max_qty_per_item, \
         gateways, kill_switch"
    };
}

macro_rules! live_columns {
    () => {
        "id, shop_id, post_id, title, state, kill_switch, started_at_ms"
    };
}

macro_rules! product_columns {
    () => {
        "shop_id, sku, name, aliases, lot, price_minor, currency, available, reserved, sold"
    };
}

/// The columns of `commerce_orders`, in the order `put_orders` binds them.
macro_rules! order_columns {
    () => {
        "id, shop_id, live_id, buyer_id, currency, status, total_minor, hold_expires_at_ms, \
         created_at_ms, updated_at_ms, version, pay_gateway, pay_url, pay_ref, \
         pay_for_version, paid_ref, paid_at_ms, note, reminded"
    };
}

pub(super) use {
    audit_json, buyer_json, inbox_json, live_columns, order_columns, order_json, outbox_json,
    product_columns, shop_columns, stock_json, waitlist_json,
};

fn currency(field: &'static str, s: &str) -> Result<Currency, SqliteError> {
    Currency::parse(s).map_err(|e| SqliteError::invalid(field, e.to_string()))
}

fn to_u32(field: &'static str, v: i64) -> Result<u32, SqliteError> {
    u32::try_from(v).map_err(|_| SqliteError::invalid(field, format!("stored value {v}")))
}

/// Column 0 of the one row a `json_group_array(…)` query returns, deserialized.
pub(super) fn json_list<T: DeserializeOwned>(
    r: &SqliteRow,
    what: &'static str,
) -> Result<Vec<T>, SqliteError> {
    let text: &str = r.try_get(0).map_err(db(what))?;
    serde_json::from_str(text).map_err(|e| SqliteError::invalid(what, e.to_string()))
}

pub(super) fn shop_from_row(r: &SqliteRow) -> Result<Shop, SqliteError> {
    let e = || db("read shop");
    let cur: &str = r.try_get("currency").map_err(e())?;
    let mut shop = Shop::new(
        r.try_get::<String, _>("id").map_err(e())?,
        r.try_get::<String, _>("name").map_err(e())?,
        r.try_get::<String, _>("page_id").map_err(e())?,
        r.try_get::<String, _>("country").map_err(e())?,
        currency("shop currency", cur)?,
    );
    shop.hold_ms = r.try_get("hold_ms").map_err(e())?;
    shop.min_confidence = r.try_get("min_confidence").map_err(e())?;
    shop.max_qty_per_item = to_u32(
        "max_qty_per_item",
        r.try_get("max_qty_per_item").map_err(e())?,
    )?;
    let gateways: &str = r.try_get("gateways").map_err(e())?;
    shop.gateways = serde_json::from_str(gateways)
        .map_err(|err| SqliteError::invalid("gateways", err.to_string()))?;
    shop.kill_switch = r.try_get("kill_switch").map_err(e())?;
    Ok(shop)
}

pub(super) fn live_from_row(r: &SqliteRow) -> Result<Live, SqliteError> {
    let e = || db("read live");
    let state: &str = r.try_get("state").map_err(e())?;
    let mut live = Live::new(
        r.try_get::<String, _>("id").map_err(e())?,
        r.try_get::<String, _>("shop_id").map_err(e())?,
        r.try_get::<String, _>("post_id").map_err(e())?,
        r.try_get::<String, _>("title").map_err(e())?,
        r.try_get("started_at_ms").map_err(e())?,
    );
    live.state = LiveState::parse(state)
        .map_err(|err| SqliteError::invalid("live state", err.to_string()))?;
    live.kill_switch = r.try_get("kill_switch").map_err(e())?;
    Ok(live)
}

fn stock_from_row(r: &SqliteRow) -> Result<StockLevel, SqliteError> {
    let e = || db("read stock");
    Ok(StockLevel {
        shop_id: r.try_get("shop_id").map_err(e())?,
        sku: r.try_get("sku").map_err(e())?,
        available: r.try_get("available").map_err(e())?,
        reserved: r.try_get("reserved").map_err(e())?,
        sold: r.try_get("sold").map_err(e())?,
    })
}

pub(super) fn product_from_row(r: &SqliteRow) -> Result<ProductRecord, SqliteError> {
    let e = || db("read product");
    let cur: &str = r.try_get("currency").map_err(e())?;
    let aliases: &str = r.try_get("aliases").map_err(e())?;
    let aliases: Vec<String> = serde_json::from_str(aliases)
        .map_err(|err| SqliteError::invalid("aliases", err.to_string()))?;
    let lot: Option<i64> = r.try_get("lot").map_err(e())?;
    let stock = stock_from_row(r)?;
    let mut product = Product::new(
        r.try_get::<String, _>("sku").map_err(e())?,
        r.try_get::<String, _>("name").map_err(e())?,
        Money::new(
            r.try_get("price_minor").map_err(e())?,
            currency("price currency", cur)?,
        ),
        // The unsold units on hand (see the migration).
        u32::try_from(stock.available.saturating_add(stock.reserved).max(0)).unwrap_or(u32::MAX),
    )
    .with_aliases(aliases);
    if let Some(lot) = lot {
        product = product.with_lot(to_u32("lot", lot)?);
    }
    Ok(ProductRecord {
        shop_id: r.try_get("shop_id").map_err(e())?,
        product,
        stock,
    })
}
