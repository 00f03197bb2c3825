//! The commerce store port: shops, catalogs with stock, lives, buyers, the durable
//! comment inbox, orders with their lines and holds, the waitlist, the messaging
//! outbox and the append-only audit log.
//!
//! Reads and simple writes are methods of [`CommerceStore`]. Everything that must be
//! atomic — reserving stock and opening orders, expiring holds, confirming payments,
//! cancels, restocks, opt-outs — runs inside one [`CommerceTx`] from
//! [`CommerceStore::begin`]: the engine locks what it needs (stock rows first, in SKU
//! order, then orders), decides in memory, writes, and commits. Dropping a transaction
//! without committing rolls it back.
//!
//! Adapters guarantee, and the conformance suite (`meta_commerce::testing`) checks:
//! - rows returned by `lock_*`/`take_pending`/`open_orders` stay locked until commit
//!   or rollback (PostgreSQL `FOR UPDATE`; SQLite `BEGIN IMMEDIATE`; in memory a mutex);
//! - `insert_inbox` is keyed by comment id: a redelivered comment is a no-op;
//! - at most one `Open` order per (live, buyer, currency): a second insert fails with
//!   `StoreError::Conflict` (the engine retries the whole transaction);
//! - `enqueue` is keyed by `dedupe_key`: enqueuing the same message twice is a no-op;
//! - audit rows are never updated or deleted (except the buyer id, by a data-deletion
//!   request: [`CommerceTx::anonymize_buyer`]);
//! - stock columns never go negative (CHECK constraints in the SQL adapters).
//!
//! Times are unix milliseconds.

use std::fmt;

use serde::{Deserialize, Serialize};

pub use meta_graph::store::{StoreError, StoreFuture};

use crate::catalog::Product;
use crate::money::Currency;

macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vm])* $variant),+
        }

        impl $name {
            /// The stored name.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }

            /// Parses a stored name.
            ///
            /// # Errors
            /// [`StoreError::Invalid`] for a name this version does not know.
            pub fn parse(s: &str) -> Result<Self, StoreError> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    other => Err(StoreError::Invalid(format!(
                        concat!("unknown ", stringify!($name), " `{}`"), other
                    ))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A shop: one seller, its Page, its defaults and its kill switch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Shop {
    /// Id.
    pub id: String,
    /// Display name (used in messages).
    pub name: String,
    /// The Facebook Page the shop sells on (its own comments are skipped).
    pub page_id: String,
    /// ISO 3166-1 alpha-2 country (`CL`, `MX`, `BR`): picks payment gateways.
    pub country: String,
    /// The shop's main currency.
    pub currency: Currency,
    /// How long a reservation is held before it is released (default 30 min).
    pub hold_ms: i64,
    /// Purchases classified below this confidence get a "did you mean …?" reply
    /// instead of an order.
    pub min_confidence: f32,
    /// The most units of one SKU a single comment may reserve (larger = rejected).
    pub max_qty_per_item: u32,
    /// Gateways in order of preference (empty: by country and currency).
    pub gateways: Vec<String>,
    /// Stops every outbound message of the shop (inbound is still recorded).
    pub kill_switch: bool,
}

impl Shop {
    /// A shop with a 30-minute hold, confidence threshold 0.6, at most 10 units per item.
    #[must_use]
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        page_id: impl Into<String>,
        country: impl Into<String>,
        currency: Currency,
    ) -> Self {
        Shop {
            id: id.into(),
            name: name.into(),
            page_id: page_id.into(),
            country: country.into(),
            currency,
            hold_ms: 30 * 60 * 1000,
            min_confidence: 0.6,
            max_qty_per_item: 10,
            gateways: Vec::new(),
            kill_switch: false,
        }
    }
}

wire_enum! {
    /// Whether a live is taking orders.
    LiveState {
        /// Comments are processed.
        Open => "open",
        /// Comments are recorded but not turned into orders.
        Closed => "closed",
    }
}

/// A live video a shop sells on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Live {
    /// Id.
    pub id: String,
    /// The shop.
    pub shop_id: String,
    /// The live video's post id (`<page>_<video post>`): comments arrive on it.
    pub post_id: String,
    /// Title.
    pub title: String,
    /// Open or closed.
    pub state: LiveState,
    /// Stops every outbound message of this live.
    pub kill_switch: bool,
    /// When it started.
    pub started_at_ms: i64,
}

impl Live {
    /// An open live.
    #[must_use]
    pub fn new(
        id: impl Into<String>,
        shop_id: impl Into<String>,
        post_id: impl Into<String>,
        title: impl Into<String>,
        started_at_ms: i64,
    ) -> Self {
        Live {
            id: id.into(),
            shop_id: shop_id.into(),
            post_id: post_id.into(),
            title: title.into(),
            state: LiveState::Open,
            kill_switch: false,
            started_at_ms,
        }
    }
}

/// A SKU's stock. Invariant: every column ≥ 0; `available + reserved + sold` only
/// changes by a restock or an import.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StockLevel {
    /// The shop.
    pub shop_id: String,
    /// The SKU.
    pub sku: String,
    /// Units free to reserve.
    pub available: i64,
    /// Units held by open orders.
    pub reserved: i64,
    /// Units paid for.
    pub sold: i64,
}

/// A stored product: the catalog row and its stock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductRecord {
    /// The shop.
    pub shop_id: String,
    /// The product.
    pub product: Product,
    /// Its stock now.
    pub stock: StockLevel,
}

/// A buyer as one shop knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Buyer {
    /// The shop.
    pub shop_id: String,
    /// The buyer's app-scoped id (or `anon-…` after a deletion request).
    pub buyer_id: String,
    /// Name, when known (removed by a deletion request).
    pub name: Option<String>,
    /// Said STOP / parar / sair: no more messages.
    pub opted_out: bool,
    /// Data deleted at the buyer's request.
    pub anonymized: bool,
    /// First seen.
    pub first_seen_ms: i64,
}

impl Buyer {
    /// A buyer first seen at `now_ms`.
    #[must_use]
    pub fn new(
        shop_id: impl Into<String>,
        buyer_id: impl Into<String>,
        name: Option<String>,
        now_ms: i64,
    ) -> Self {
        Buyer {
            shop_id: shop_id.into(),
            buyer_id: buyer_id.into(),
            name,
            opted_out: false,
            anonymized: false,
            first_seen_ms: now_ms,
        }
    }
}

wire_enum! {
    /// Where an inbox comment stands.
    InboxStatus {
        /// Received, not yet processed.
        Pending => "pending",
        /// Processed (whatever the outcome: see the audit log).
        Processed => "processed",
        /// Deliberately not processed (the Page's own comment, an opted-out buyer, a closed live).
        Skipped => "skipped",
        /// Could not be processed (malformed, unknown live); kept with the reason.
        Rejected => "rejected",
    }
}

/// A comment in the durable inbox, keyed by `comment_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InboxComment {
    /// Meta's comment id (the idempotency key).
    pub comment_id: String,
    /// The shop.
    pub shop_id: String,
    /// The live.
    pub live_id: String,
    /// The post commented on.
    pub post_id: String,
    /// The author's id.
    pub buyer_id: String,
    /// The author's name, when sent.
    pub buyer_name: Option<String>,
    /// The text.
    pub text: String,
    /// When the comment was made (first come, first served by this).
    pub created_time_ms: i64,
    /// When we received it.
    pub received_at_ms: i64,
    /// Status.
    pub status: InboxStatus,
    /// Why skipped or rejected.
    pub detail: Option<String>,
}

wire_enum! {
    /// An order's status.
    OrderStatus {
        /// Holding stock, waiting for payment until `hold_expires_at_ms`.
        Open => "open",
        /// Paid: stock committed.
        Paid => "paid",
        /// The hold ran out: stock released.
        Expired => "expired",
        /// Cancelled by the buyer (or emptied by cancels): stock released.
        Cancelled => "cancelled",
        /// Money arrived but the stock could not be kept (a late payment after the
        /// hold expired and the units went to someone else): a refund is due.
        RefundDue => "refund_due",
    }
}

/// One line of an order: units of a SKU reserved for the buyer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OrderLine {
    /// The SKU.
    pub sku: String,
    /// Product name at the time of the order.
    pub name: String,
    /// Units reserved.
    pub qty: u32,
    /// Unit price in minor units of the order's currency.
    pub unit_price_minor: i64,
}

/// The payment link an order was last sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentLinkRecord {
    /// The gateway.
    pub gateway: String,
    /// The URL.
    pub url: String,
    /// The provider's id for the link.
    pub provider_ref: String,
    /// The order version the link charges for (a newer order version needs a new link).
    pub for_version: i64,
}

/// A buyer's cart for one live, in one currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Order {
    /// Id.
    pub id: String,
    /// The shop.
    pub shop_id: String,
    /// The live.
    pub live_id: String,
    /// The buyer.
    pub buyer_id: String,
    /// The currency of every line.
    pub currency: Currency,
    /// Status.
    pub status: OrderStatus,
    /// The lines (a SKU appears at most once).
    pub lines: Vec<OrderLine>,
    /// Sum of the lines, in minor units.
    pub total_minor: i64,
    /// When the hold ends (meaningful while `Open`).
    pub hold_expires_at_ms: i64,
    /// Created.
    pub created_at_ms: i64,
    /// Last changed.
    pub updated_at_ms: i64,
    /// Bumped by every change.
    pub version: i64,
    /// The last payment link.
    pub payment: Option<PaymentLinkRecord>,
    /// The provider's payment id once paid (or refund due).
    pub paid_ref: Option<String>,
    /// Paid at.
    pub paid_at_ms: Option<i64>,
    /// Why a refund is due, or other notes.
    pub note: Option<String>,
    /// A payment reminder was enqueued.
    pub reminded: bool,
}

impl Order {
    /// An empty open order.
    #[must_use]
    pub fn new(
        id: impl Into<String>,
        shop_id: impl Into<String>,
        live_id: impl Into<String>,
        buyer_id: impl Into<String>,
        currency: Currency,
        now_ms: i64,
        hold_expires_at_ms: i64,
    ) -> Self {
        Order {
            id: id.into(),
            shop_id: shop_id.into(),
            live_id: live_id.into(),
            buyer_id: buyer_id.into(),
            currency,
            status: OrderStatus::Open,
            lines: Vec::new(),
            total_minor: 0,
            hold_expires_at_ms,
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
            version: 1,
            payment: None,
            paid_ref: None,
            paid_at_ms: None,
            note: None,
            reminded: false,
        }
    }

    /// Units of `sku` on the order.
    #[must_use]
    pub fn qty_of(&self, sku: &str) -> u32 {
        self.lines
            .iter()
            .filter(|l| l.sku == sku)
            .map(|l| l.qty)
            .sum()
    }

    /// Recomputes `total_minor` from the lines (saturating).
    pub fn recompute_total(&mut self) {
        self.total_minor = self
            .lines
            .iter()
            .map(|l| l.unit_price_minor.saturating_mul(i64::from(l.qty)))
            .fold(0_i64, i64::saturating_add);
    }
}

/// A buyer waiting for units of a SKU that ran out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WaitEntry {
    /// Id.
    pub id: String,
    /// The shop.
    pub shop_id: String,
    /// The live.
    pub live_id: String,
    /// The SKU.
    pub sku: String,
    /// The buyer.
    pub buyer_id: String,
    /// Units still wanted.
    pub qty: u32,
    /// The comment that asked.
    pub comment_id: String,
    /// The comment's time (the queue order).
    pub created_time_ms: i64,
}

wire_enum! {
    /// What kind of outbound message.
    OutboxKind {
        /// A public reply under the comment (no prices, no links).
        PublicReply => "public_reply",
        /// A private reply to the comment (Messenger; one per comment).
        PrivateReply => "private_reply",
        /// A Messenger message (only inside the 24-hour window).
        Message => "message",
    }
}

wire_enum! {
    /// Where an outbound message stands.
    OutboxStatus {
        /// Waiting to be sent.
        Pending => "pending",
        /// Sent.
        Sent => "sent",
        /// Not sent on purpose (kill switch, opt-out, outside the messaging window).
        Suppressed => "suppressed",
        /// Failed for good.
        Failed => "failed",
    }
}

/// An outbound message, written in the same transaction as the decision behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutboxMessage {
    /// Id.
    pub id: String,
    /// The shop.
    pub shop_id: String,
    /// The live, when the message is about one.
    pub live_id: Option<String>,
    /// The buyer.
    pub buyer_id: String,
    /// Kind.
    pub kind: OutboxKind,
    /// The comment replied to (public and private replies).
    pub comment_id: Option<String>,
    /// The order the message is about.
    pub order_id: Option<String>,
    /// The text. `{payment_link}` is replaced at send time by the order's current link.
    pub text: String,
    /// Unique: the same decision never enqueues two messages.
    pub dedupe_key: String,
    /// Status.
    pub status: OutboxStatus,
    /// Send attempts so far.
    pub attempts: u32,
    /// Not before.
    pub next_attempt_at_ms: i64,
    /// When the comment (or event) behind it was received: receipt-to-outbox latency.
    pub origin_received_at_ms: i64,
    /// Enqueued.
    pub created_at_ms: i64,
    /// Sent, suppressed or failed at.
    pub finished_at_ms: Option<i64>,
    /// Why suppressed or failed; the Graph message id when sent.
    pub detail: Option<String>,
    /// The worker holding it.
    pub lease_owner: Option<String>,
    /// Until when.
    pub lease_until_ms: Option<i64>,
}

/// The outcome a dispatcher records for a claimed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxUpdate {
    /// Sent; the Graph id.
    Sent {
        /// The message or comment id Meta returned.
        graph_id: String,
    },
    /// Not sent on purpose.
    Suppressed {
        /// Why.
        reason: String,
    },
    /// Failed; try again at `retry_at_ms`, or give up when `None`.
    Failed {
        /// Why.
        reason: String,
        /// When to retry.
        retry_at_ms: Option<i64>,
    },
}

/// One append-only audit row: a decision and its grounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditRecord {
    /// Id.
    pub id: String,
    /// When.
    pub at_ms: i64,
    /// The shop.
    pub shop_id: String,
    /// The live.
    pub live_id: Option<String>,
    /// The comment behind it.
    pub comment_id: Option<String>,
    /// The order it touched.
    pub order_id: Option<String>,
    /// The buyer.
    pub buyer_id: Option<String>,
    /// What was done (`reserved`, `waitlisted`, `did_you_mean`, `skipped_own_comment`,
    /// `expired`, `paid`, `refund_due`, `cancelled`, `opted_out`, …).
    pub action: String,
    /// The classifier that decided.
    pub classifier: Option<String>,
    /// The intent.
    pub intent: Option<String>,
    /// The classifier's confidence.
    pub confidence: Option<f32>,
    /// Items, as JSON (`[{"sku":"POL-ROJ-M","qty":2}]`).
    pub items: Option<String>,
    /// Details in words.
    pub detail: String,
}

/// Filters for listing orders (build with `..Default::default()`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    /// Only this shop.
    pub shop_id: Option<String>,
    /// Only this live.
    pub live_id: Option<String>,
    /// Only this buyer.
    pub buyer_id: Option<String>,
    /// Only this status.
    pub status: Option<OrderStatus>,
    /// At most (0 = no limit).
    pub limit: usize,
}

/// Filters for listing audit rows and outbox messages (build with `..Default::default()`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    /// Only this shop.
    pub shop_id: Option<String>,
    /// Only this live.
    pub live_id: Option<String>,
    /// Only this comment.
    pub comment_id: Option<String>,
    /// Only this order.
    pub order_id: Option<String>,
    /// Only this buyer.
    pub buyer_id: Option<String>,
    /// At most (0 = no limit).
    pub limit: usize,
}

/// Row counts for a shop (summaries, health checks).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommerceCounts {
    /// Inbox rows by status name.
    pub inbox: Vec<(String, u64)>,
    /// Orders by status name.
    pub orders: Vec<(String, u64)>,
    /// Outbox rows by status name.
    pub outbox: Vec<(String, u64)>,
    /// Waitlist entries.
    pub waitlist: u64,
    /// Audit rows.
    pub audit: u64,
}

impl CommerceCounts {
    /// The count for `status` in one of the lists.
    #[must_use]
    pub fn get(list: &[(String, u64)], status: &str) -> u64 {
        list.iter()
            .find(|(s, _)| s == status)
            .map_or(0, |(_, n)| *n)
    }
}

/// The commerce store port.
pub trait CommerceStore: Send + Sync + fmt::Debug + 'static {
    // ---- shops and catalog ----
    /// Inserts or replaces a shop (the kill switch included).
    fn put_shop<'a>(&'a self, shop: &'a Shop) -> StoreFuture<'a, ()>;
    /// A shop.
    fn shop<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Shop>>;
    /// Every shop.
    fn shops(&self) -> StoreFuture<'_, Vec<Shop>>;
    /// Sets a shop's kill switch (`NotFound` for an unknown shop).
    fn set_shop_kill_switch<'a>(&'a self, id: &'a str, on: bool) -> StoreFuture<'a, ()>;
    /// Imports products in one transaction: new SKUs get `available = stock`; existing
    /// SKUs keep their reserved and sold units and get `available = max(stock − reserved, 0)`
    /// (the CSV's stock counts the unsold units on hand). Names, aliases, lots and
    /// prices are replaced. Products not in the list are left as they are.
    fn import_products<'a>(
        &'a self,
        shop_id: &'a str,
        products: &'a [Product],
    ) -> StoreFuture<'a, ()>;
    /// The shop's products with their stock, in lot order then SKU.
    fn products<'a>(&'a self, shop_id: &'a str) -> StoreFuture<'a, Vec<ProductRecord>>;
    /// One SKU's stock.
    fn stock<'a>(&'a self, shop_id: &'a str, sku: &'a str) -> StoreFuture<'a, Option<StockLevel>>;

    // ---- lives ----
    /// Inserts or replaces a live.
    fn put_live<'a>(&'a self, live: &'a Live) -> StoreFuture<'a, ()>;
    /// A live by id.
    fn live<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Live>>;
    /// The live whose video post is `post_id`.
    fn live_by_post<'a>(&'a self, post_id: &'a str) -> StoreFuture<'a, Option<Live>>;
    /// A shop's lives, newest first.
    fn lives<'a>(&'a self, shop_id: &'a str) -> StoreFuture<'a, Vec<Live>>;
    /// Sets a live's kill switch (`NotFound` for an unknown live).
    fn set_live_kill_switch<'a>(&'a self, id: &'a str, on: bool) -> StoreFuture<'a, ()>;

    // ---- inbox ----
    /// Inserts comments keyed by `comment_id`; existing ids are left untouched.
    /// Returns, per input row, whether it was new.
    fn insert_inbox<'a>(&'a self, rows: &'a [InboxComment]) -> StoreFuture<'a, Vec<bool>>;
    /// Up to `limit` pending comments, oldest `created_time` first.
    fn pending_inbox(&self, limit: usize) -> StoreFuture<'_, Vec<InboxComment>>;
    /// One inbox row.
    fn inbox_comment<'a>(&'a self, comment_id: &'a str) -> StoreFuture<'a, Option<InboxComment>>;

    // ---- orders, buyers, waitlist ----
    /// An order.
    fn order<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Order>>;
    /// Orders matching `filter`, oldest first.
    fn orders<'a>(&'a self, filter: &'a OrderFilter) -> StoreFuture<'a, Vec<Order>>;
    /// Ids of open orders whose hold ended at or before `now_ms`, soonest first.
    fn due_expiries(&self, now_ms: i64, limit: usize) -> StoreFuture<'_, Vec<String>>;
    /// Open, not yet reminded orders whose hold ends at or before `before_ms`.
    fn due_reminders(&self, before_ms: i64, limit: usize) -> StoreFuture<'_, Vec<Order>>;
    /// Records the payment link sent for an order version (no-op when the order has
    /// moved past that version).
    fn set_payment_link<'a>(
        &'a self,
        order_id: &'a str,
        link: &'a PaymentLinkRecord,
    ) -> StoreFuture<'a, ()>;
    /// A buyer.
    fn buyer<'a>(&'a self, shop_id: &'a str, buyer_id: &'a str) -> StoreFuture<'a, Option<Buyer>>;
    /// The waitlist of a shop, queue order.
    fn waitlist_entries<'a>(&'a self, shop_id: &'a str) -> StoreFuture<'a, Vec<WaitEntry>>;

    // ---- outbox and audit ----
    /// Leases up to `limit` pending messages due at `now_ms` (not leased, or lease
    /// expired) to `owner` until `now_ms + lease_ms`; two workers never get the same one.
    fn claim_outbox<'a>(
        &'a self,
        now_ms: i64,
        owner: &'a str,
        lease_ms: i64,
        limit: usize,
    ) -> StoreFuture<'a, Vec<OutboxMessage>>;
    /// Records what happened to a claimed message (clears the lease).
    fn finish_outbox<'a>(
        &'a self,
        id: &'a str,
        now_ms: i64,
        update: &'a OutboxUpdate,
    ) -> StoreFuture<'a, ()>;
    /// Outbox messages matching `filter`, oldest first.
    fn outbox<'a>(&'a self, filter: &'a LogFilter) -> StoreFuture<'a, Vec<OutboxMessage>>;
    /// Audit rows matching `filter`, oldest first.
    fn audit<'a>(&'a self, filter: &'a LogFilter) -> StoreFuture<'a, Vec<AuditRecord>>;
    /// Row counts for a shop.
    fn counts<'a>(&'a self, shop_id: &'a str) -> StoreFuture<'a, CommerceCounts>;

    // ---- transactions ----
    /// Starts a transaction.
    fn begin(&self) -> StoreFuture<'_, Box<dyn CommerceTx>>;
}

/// One atomic unit of work. Lock stock before orders; commit to keep, drop to roll back.
pub trait CommerceTx: Send {
    /// Of `comment_ids`, the ones still `Pending`, locked for this transaction (a
    /// comment another transaction is processing, or already processed, is left out).
    fn take_pending<'a>(
        &'a mut self,
        comment_ids: &'a [String],
    ) -> StoreFuture<'a, Vec<InboxComment>>;
    /// Sets inbox statuses: `(comment_id, status, detail)`.
    fn mark_inbox<'a>(
        &'a mut self,
        rows: &'a [(String, InboxStatus, Option<String>)],
    ) -> StoreFuture<'a, ()>;
    /// Locks and returns the stock rows of `skus` (sorted by SKU; unknown SKUs absent).
    fn lock_stock<'a>(
        &'a mut self,
        shop_id: &'a str,
        skus: &'a [String],
    ) -> StoreFuture<'a, Vec<StockLevel>>;
    /// Writes stock rows (absolute values; the rows are locked). `Invalid` if a
    /// column would be negative.
    fn put_stock<'a>(&'a mut self, rows: &'a [StockLevel]) -> StoreFuture<'a, ()>;
    /// Locks and returns the `Open` orders of these (live, buyer) pairs, any currency.
    fn open_orders<'a>(&'a mut self, keys: &'a [(String, String)]) -> StoreFuture<'a, Vec<Order>>;
    /// Locks and returns these orders (any status).
    fn lock_orders<'a>(&'a mut self, ids: &'a [String]) -> StoreFuture<'a, Vec<Order>>;
    /// Inserts or updates orders by id, lines included. A second `Open` order for the
    /// same (live, buyer, currency) fails with `Conflict`.
    fn put_orders<'a>(&'a mut self, orders: &'a [Order]) -> StoreFuture<'a, ()>;
    /// The waitlist entries of `skus` in queue order (created time, then id).
    fn waitlist<'a>(
        &'a mut self,
        shop_id: &'a str,
        skus: &'a [String],
    ) -> StoreFuture<'a, Vec<WaitEntry>>;
    /// Inserts or updates (by id) waitlist entries.
    fn put_waitlist<'a>(&'a mut self, entries: &'a [WaitEntry]) -> StoreFuture<'a, ()>;
    /// Removes waitlist entries.
    fn remove_waitlist<'a>(&'a mut self, ids: &'a [String]) -> StoreFuture<'a, ()>;
    /// The buyers with these ids.
    fn buyers<'a>(&'a mut self, shop_id: &'a str, ids: &'a [String])
    -> StoreFuture<'a, Vec<Buyer>>;
    /// Inserts or updates buyers.
    fn put_buyers<'a>(&'a mut self, buyers: &'a [Buyer]) -> StoreFuture<'a, ()>;
    /// Appends audit rows.
    fn append_audit<'a>(&'a mut self, rows: &'a [AuditRecord]) -> StoreFuture<'a, ()>;
    /// Enqueues messages; a `dedupe_key` already present is skipped.
    fn enqueue<'a>(&'a mut self, messages: &'a [OutboxMessage]) -> StoreFuture<'a, ()>;
    /// Marks every pending message of a buyer (in a shop) suppressed with `reason`;
    /// returns how many.
    fn suppress_pending<'a>(
        &'a mut self,
        shop_id: &'a str,
        buyer_id: &'a str,
        reason: &'a str,
    ) -> StoreFuture<'a, u64>;
    /// Data deletion: replaces `buyer_id` by `replacement` everywhere (buyer, orders,
    /// waitlist, inbox, outbox, audit), blanks names and comment/message texts, keeps
    /// amounts and statuses (the accounting).
    fn anonymize_buyer<'a>(
        &'a mut self,
        shop_id: &'a str,
        buyer_id: &'a str,
        replacement: &'a str,
    ) -> StoreFuture<'a, ()>;
    /// Commits.
    fn commit(self: Box<Self>) -> StoreFuture<'static, ()>;
}
