//! Rows to domain values, and the column lists the statements share.
//!
//! Most commerce records are `#[non_exhaustive]` without a full constructor, so they
//! cannot be built field by field outside meta-commerce; their serde shape, however,
//! is exactly the table's columns. Those rows are therefore selected as
//! `row_to_json(t)` and deserialized straight into the record: one column, no
//! intermediate value, and a missing or mistyped column fails loudly as a decode error.
//! Orders, products, lives, shops and buyers have constructors and are read column by
//! column.

use std::collections::HashMap;

use meta_commerce::catalog::Product;
use meta_commerce::money::{Currency, Money};
use meta_commerce::store::{
    Buyer, Live, LiveState, Order, OrderLine, OrderStatus, PaymentLinkRecord, ProductRecord, Shop,
    StockLevel,
};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{Decode, Postgres, Row, Type};

use crate::convert::i64_to_u32;
use crate::error::{PgStoreError, Result};

/// `commerce_orders` columns, in the order `put_orders` binds them.
pub(super) const ORDER_COLUMNS: &str = order_columns!();

/// An order's lines as one JSON column, in position order: an unlocked read gets the
/// order and its lines from one statement, hence one snapshot.
pub(super) const LINES_JSON: &str = "COALESCE((SELECT json_agg(json_build_object(\
     'sku', l.sku, 'name', l.name, 'qty', l.qty, 'unit_price_minor', l.unit_price_minor) \
     ORDER BY l.position) FROM commerce_order_lines l WHERE l.order_id = o.id), '[]'::json) AS lines";

pub(super) const PRODUCT_COLUMNS: &str =
    "shop_id, sku, name, aliases, lot, price_minor, currency, available, reserved, sold";

pub(super) const SHOP_COLUMNS: &str = "id, name, page_id, country, currency, hold_ms, \
     min_confidence, max_qty_per_item, gateways, kill_switch";

pub(super) const LIVE_COLUMNS: &str =
    "id, shop_id, post_id, title, state, kill_switch, started_at_ms";

pub(super) const BUYER_COLUMNS: &str =
    "shop_id, buyer_id, name, opted_out, anonymized, first_seen_ms";

/// Column 0 of each row, a `row_to_json(…)`, as `T`.
pub(super) fn json_rows<T>(rows: &[PgRow]) -> Result<Vec<T>>
where
    Json<T>: for<'r> Decode<'r, Postgres> + Type<Postgres>,
{
    rows.iter()
        .map(|row| {
            let Json(v) = row.try_get::<Json<T>, _>(0)?;
            Ok(v)
        })
        .collect()
}

fn currency(field: &str, s: &str) -> Result<Currency> {
    Currency::parse(s)
        .map_err(|_| PgStoreError::corrupt(format!("{field} `{s}` is not a currency")))
}

/// A `commerce_orders` row (selected with [`ORDER_COLUMNS`]) and its lines.
pub(super) fn order_from_row(row: &PgRow, lines: Vec<OrderLine>) -> Result<Order> {
    let cur: String = row.try_get("currency")?;
    let status: String = row.try_get("status")?;
    let mut o = Order::new(
        row.try_get::<String, _>("id")?,
        row.try_get::<String, _>("shop_id")?,
        row.try_get::<String, _>("live_id")?,
        row.try_get::<String, _>("buyer_id")?,
        currency("order currency", &cur)?,
        row.try_get("created_at_ms")?,
        row.try_get("hold_expires_at_ms")?,
    );
    o.status = OrderStatus::parse(&status)
        .map_err(|_| PgStoreError::corrupt(format!("unknown order status `{status}`")))?;
    o.lines = lines;
    o.total_minor = row.try_get("total_minor")?;
    o.updated_at_ms = row.try_get("updated_at_ms")?;
    o.version = row.try_get("version")?;
    let gateway: Option<String> = row.try_get("pay_gateway")?;
    o.payment = match gateway {
        Some(gateway) => Some(PaymentLinkRecord {
            gateway,
            url: row
                .try_get::<Option<String>, _>("pay_url")?
                .unwrap_or_default(),
            provider_ref: row
                .try_get::<Option<String>, _>("pay_ref")?
                .unwrap_or_default(),
            for_version: row
                .try_get::<Option<i64>, _>("pay_for_version")?
                .unwrap_or_default(),
        }),
        None => None,
    };
    o.paid_ref = row.try_get("paid_ref")?;
    o.paid_at_ms = row.try_get("paid_at_ms")?;
    o.note = row.try_get("note")?;
    o.reminded = row.try_get("reminded")?;
    Ok(o)
}

/// Orders selected with [`ORDER_COLUMNS`] and [`LINES_JSON`].
pub(super) fn orders_with_json_lines(rows: &[PgRow]) -> Result<Vec<Order>> {
    rows.iter()
        .map(|row| {
            let Json(lines) = row.try_get::<Json<Vec<OrderLine>>, _>("lines")?;
            order_from_row(row, lines)
        })
        .collect()
}

/// Orders selected with [`ORDER_COLUMNS`], their lines grouped from a separate
/// `order_id, sku, name, qty, unit_price_minor` query ordered by position.
pub(super) fn orders_with_lines(rows: &[PgRow], line_rows: &[PgRow]) -> Result<Vec<Order>> {
    let mut lines: HashMap<String, Vec<OrderLine>> = HashMap::new();
    for r in line_rows {
        let order_id: String = r.try_get("order_id")?;
        lines.entry(order_id).or_default().push(OrderLine {
            sku: r.try_get("sku")?,
            name: r.try_get("name")?,
            qty: i64_to_u32("line qty", r.try_get("qty")?)?,
            unit_price_minor: r.try_get("unit_price_minor")?,
        });
    }
    rows.iter()
        .map(|row| {
            let id: String = row.try_get("id")?;
            order_from_row(row, lines.remove(&id).unwrap_or_default())
        })
        .collect()
}

pub(super) fn stock_from_row(row: &PgRow) -> Result<StockLevel> {
    Ok(StockLevel {
        shop_id: row.try_get("shop_id")?,
        sku: row.try_get("sku")?,
        available: row.try_get("available")?,
        reserved: row.try_get("reserved")?,
        sold: row.try_get("sold")?,
    })
}

pub(super) fn product_from_row(row: &PgRow) -> Result<ProductRecord> {
    let cur: String = row.try_get("currency")?;
    let Json(aliases) = row.try_get::<Json<Vec<String>>, _>("aliases")?;
    let lot: Option<i64> = row.try_get("lot")?;
    let mut product = Product::new(
        row.try_get::<String, _>("sku")?,
        row.try_get::<String, _>("name")?,
        Money::new(
            row.try_get("price_minor")?,
            currency("price currency", &cur)?,
        ),
        0,
    )
    .with_aliases(aliases);
    if let Some(lot) = lot {
        product = product.with_lot(i64_to_u32("lot", lot)?);
    }
    let stock = stock_from_row(row)?;
    // `Product::stock` is the unsold units on hand, as every store reads it back.
    product.stock =
        u32::try_from(stock.available.saturating_add(stock.reserved).max(0)).unwrap_or(u32::MAX);
    Ok(ProductRecord {
        shop_id: row.try_get("shop_id")?,
        product,
        stock,
    })
}

pub(super) fn shop_from_row(row: &PgRow) -> Result<Shop> {
    let cur: String = row.try_get("currency")?;
    let mut shop = Shop::new(
        row.try_get::<String, _>("id")?,
        row.try_get::<String, _>("name")?,
        row.try_get::<String, _>("page_id")?,
        row.try_get::<String, _>("country")?,
        currency("shop currency", &cur)?,
    );
    shop.hold_ms = row.try_get("hold_ms")?;
    shop.min_confidence = row.try_get("min_confidence")?;
    shop.max_qty_per_item = i64_to_u32("max_qty_per_item", row.try_get("max_qty_per_item")?)?;
    let Json(gateways) = row.try_get::<Json<Vec<String>>, _>("gateways")?;
    shop.gateways = gateways;
    shop.kill_switch = row.try_get("kill_switch")?;
    Ok(shop)
}

pub(super) fn live_from_row(row: &PgRow) -> Result<Live> {
    let state: String = row.try_get("state")?;
    let mut live = Live::new(
        row.try_get::<String, _>("id")?,
        row.try_get::<String, _>("shop_id")?,
        row.try_get::<String, _>("post_id")?,
        row.try_get::<String, _>("title")?,
        row.try_get("started_at_ms")?,
    );
    live.state = LiveState::parse(&state)
        .map_err(|_| PgStoreError::corrupt(format!("unknown live state `{state}`")))?;
    live.kill_switch = row.try_get("kill_switch")?;
    Ok(live)
}

pub(super) fn buyer_from_row(row: &PgRow) -> Result<Buyer> {
    let mut b = Buyer::new(
        row.try_get::<String, _>("shop_id")?,
        row.try_get::<String, _>("buyer_id")?,
        row.try_get("name")?,
        row.try_get("first_seen_ms")?,
    );
    b.opted_out = row.try_get("opted_out")?;
    b.anonymized = row.try_get("anonymized")?;
    Ok(b)
}
