//! [`InMemoryCommerceStore`]: the reference implementation of the commerce store port
//! ([`CommerceStore`]), for tests, the demo, benchmarks and single-process tools.
//!
//! Every table lives in one struct behind a `tokio::sync::Mutex`. A transaction
//! ([`CommerceStore::begin`]) holds that mutex for its whole life, like SQLite's
//! single writer, so whatever it reads stays "locked" until it commits or is dropped.
//! It writes in place and keeps an undo log: committing forgets the log, dropping the
//! transaction replays it backwards. A transaction method that fails undoes its own
//! partial writes first, so a failed call leaves nothing behind (the SQL adapters get
//! the same from statement atomicity).
//!
//! Methods outside a transaction take the mutex briefly, so they wait while a
//! transaction is open — never call them from the task that holds the transaction.
//!
//! The rules the SQL adapters get from constraints are checked by hand: one open order
//! per (live, buyer, currency) (`Conflict`), unique live post ids, outbox dedupe keys,
//! inbox comment ids and audit ids, and no negative stock column (`Invalid`).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::future::ready;
use std::sync::Arc;

use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::catalog::Product;
use crate::money::Currency;
use crate::store::{
    AuditRecord, Buyer, CommerceCounts, CommerceStore, CommerceTx, InboxComment, InboxStatus, Live,
    LogFilter, Order, OrderFilter, OrderStatus, OutboxMessage, OutboxStatus, OutboxUpdate,
    PaymentLinkRecord, ProductRecord, Shop, StockLevel, StoreError, StoreFuture, WaitEntry,
};

/// The text that replaces comment and message texts on a data-deletion request.
const DELETED_TEXT: &str = "[deleted]";
/// The detail of pending messages suppressed by a data-deletion request.
const DELETED_DETAIL: &str = "data deleted";

/// A [`CommerceStore`] in process memory.
///
/// Clones share the same data. Reads return copies; [`ProductRecord::product`]'s
/// `stock` is read back as the unsold units on hand (`available + reserved`), which is
/// what a re-import of the same number would keep.
#[derive(Clone, Default)]
pub struct InMemoryCommerceStore {
    inner: Arc<Mutex<Tables>>,
}

impl std::fmt::Debug for InMemoryCommerceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The tables can hold millions of rows: never print them.
        f.debug_struct("InMemoryCommerceStore")
            .finish_non_exhaustive()
    }
}

impl InMemoryCommerceStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

type Pair = (String, String);

/// Every table and the indexes that keep the hot paths (pending inbox, due orders,
/// claimable outbox, open orders by buyer, waitlist by SKU) off full scans.
#[derive(Debug, Default)]
struct Tables {
    shops: BTreeMap<String, Shop>,
    /// shop → sku → the product as imported, with its stock.
    products: HashMap<String, BTreeMap<String, ProductRecord>>,
    lives: HashMap<String, Live>,
    /// post id → live id (post ids are unique).
    live_by_post: HashMap<String, String>,
    /// (shop, buyer) → buyer.
    buyers: HashMap<Pair, Buyer>,
    inbox: HashMap<String, InboxComment>,
    /// Pending inbox rows by (created_time_ms, comment_id).
    pending: BTreeSet<(i64, String)>,
    orders: HashMap<String, Order>,
    /// (live, buyer) → currency → the id of the one open order.
    open: HashMap<Pair, BTreeMap<Currency, String>>,
    /// Open orders by (hold_expires_at_ms, id).
    due: BTreeSet<(i64, String)>,
    waitlist: HashMap<String, WaitEntry>,
    /// (shop, sku) → entries by (created_time_ms, id).
    queue: HashMap<Pair, BTreeSet<(i64, String)>>,
    outbox: HashMap<String, OutboxMessage>,
    /// dedupe key → message id.
    dedupe: HashMap<String, String>,
    /// Pending messages by (created_at_ms, id).
    outbox_pending: BTreeSet<(i64, String)>,
    /// Append-only, in insertion order.
    audit: Vec<AuditRecord>,
    audit_ids: HashSet<String>,
}

/// One undo step: the row (or audit length) as it was before a transactional write.
#[derive(Debug)]
enum Undo {
    Inbox(String, Option<InboxComment>),
    Stock(StockLevel),
    Order(String, Option<Order>),
    Wait(String, Option<WaitEntry>),
    Buyer(Pair, Option<Buyer>),
    Outbox(String, Option<OutboxMessage>),
    AuditLen(usize),
    AuditBuyer(usize, Option<String>),
}

fn pair(a: &str, b: &str) -> Pair {
    (a.to_owned(), b.to_owned())
}

fn limited<T>(mut v: Vec<T>, limit: usize) -> Vec<T> {
    if limit > 0 {
        v.truncate(limit);
    }
    v
}

fn opt_eq(field: Option<&str>, wanted: Option<&String>) -> bool {
    wanted.is_none_or(|w| field == Some(w.as_str()))
}

fn log_matches(
    f: &LogFilter,
    shop: &str,
    live: Option<&str>,
    comment: Option<&str>,
    order: Option<&str>,
    buyer: Option<&str>,
) -> bool {
    opt_eq(Some(shop), f.shop_id.as_ref())
        && opt_eq(live, f.live_id.as_ref())
        && opt_eq(comment, f.comment_id.as_ref())
        && opt_eq(order, f.order_id.as_ref())
        && opt_eq(buyer, f.buyer_id.as_ref())
}

fn count_by<I: Iterator<Item = &'static str>>(names: I) -> Vec<(String, u64)> {
    let mut m: BTreeMap<&'static str, u64> = BTreeMap::new();
    for n in names {
        *m.entry(n).or_default() += 1;
    }
    m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// The record as read back: the product's `stock` is the unsold units on hand.
fn read_product(r: &ProductRecord) -> ProductRecord {
    let mut r = r.clone();
    let on_hand = r.stock.available.saturating_add(r.stock.reserved);
    r.product.stock = u32::try_from(on_hand.max(0)).unwrap_or(u32::MAX);
    r
}

fn suppressed(mut m: OutboxMessage, detail: &str) -> OutboxMessage {
    m.status = OutboxStatus::Suppressed;
    m.detail = Some(detail.to_owned());
    // No clock here: a row that never finished is stamped with its creation time.
    m.finished_at_ms = Some(m.finished_at_ms.unwrap_or(m.created_at_ms));
    m
}

impl Tables {
    // ---- setters keeping the indexes; each returns the previous row ----

    fn set_inbox(&mut self, id: &str, row: Option<InboxComment>) -> Option<InboxComment> {
        let old = self.inbox.remove(id);
        if let Some(o) = &old
            && o.status == InboxStatus::Pending
        {
            self.pending
                .remove(&(o.created_time_ms, o.comment_id.clone()));
        }
        if let Some(r) = row {
            if r.status == InboxStatus::Pending {
                self.pending
                    .insert((r.created_time_ms, r.comment_id.clone()));
            }
            self.inbox.insert(id.to_owned(), r);
        }
        old
    }

    fn set_order(&mut self, id: &str, row: Option<Order>) -> Option<Order> {
        let old = self.orders.remove(id);
        if let Some(o) = &old
            && o.status == OrderStatus::Open
        {
            let key = pair(&o.live_id, &o.buyer_id);
            if let Some(by_currency) = self.open.get_mut(&key) {
                if by_currency.get(&o.currency) == Some(&o.id) {
                    by_currency.remove(&o.currency);
                }
                if by_currency.is_empty() {
                    self.open.remove(&key);
                }
            }
            self.due.remove(&(o.hold_expires_at_ms, o.id.clone()));
        }
        if let Some(r) = row {
            if r.status == OrderStatus::Open {
                self.open
                    .entry(pair(&r.live_id, &r.buyer_id))
                    .or_default()
                    .insert(r.currency, r.id.clone());
                self.due.insert((r.hold_expires_at_ms, r.id.clone()));
            }
            self.orders.insert(id.to_owned(), r);
        }
        old
    }

    fn set_wait(&mut self, id: &str, row: Option<WaitEntry>) -> Option<WaitEntry> {
        let old = self.waitlist.remove(id);
        if let Some(o) = &old {
            let key = pair(&o.shop_id, &o.sku);
            if let Some(q) = self.queue.get_mut(&key) {
                q.remove(&(o.created_time_ms, o.id.clone()));
                if q.is_empty() {
                    self.queue.remove(&key);
                }
            }
        }
        if let Some(r) = row {
            self.queue
                .entry(pair(&r.shop_id, &r.sku))
                .or_default()
                .insert((r.created_time_ms, r.id.clone()));
            self.waitlist.insert(id.to_owned(), r);
        }
        old
    }

    fn set_buyer(&mut self, key: &Pair, row: Option<Buyer>) -> Option<Buyer> {
        match row {
            Some(b) => self.buyers.insert(key.clone(), b),
            None => self.buyers.remove(key),
        }
    }

    fn set_outbox(&mut self, id: &str, row: Option<OutboxMessage>) -> Option<OutboxMessage> {
        let old = self.outbox.remove(id);
        if let Some(o) = &old {
            if self.dedupe.get(&o.dedupe_key).is_some_and(|i| i == &o.id) {
                self.dedupe.remove(&o.dedupe_key);
            }
            if o.status == OutboxStatus::Pending {
                self.outbox_pending.remove(&(o.created_at_ms, o.id.clone()));
            }
        }
        if let Some(r) = row {
            self.dedupe.insert(r.dedupe_key.clone(), r.id.clone());
            if r.status == OutboxStatus::Pending {
                self.outbox_pending.insert((r.created_at_ms, r.id.clone()));
            }
            self.outbox.insert(id.to_owned(), r);
        }
        old
    }

    /// Replaces a stock row's numbers; the previous numbers, or `None` for an unknown SKU.
    fn set_stock(&mut self, level: &StockLevel) -> Option<StockLevel> {
        let rec = self.products.get_mut(&level.shop_id)?.get_mut(&level.sku)?;
        Some(std::mem::replace(&mut rec.stock, level.clone()))
    }

    fn undo(&mut self, step: Undo) {
        match step {
            Undo::Inbox(id, row) => {
                self.set_inbox(&id, row);
            }
            Undo::Stock(level) => {
                self.set_stock(&level);
            }
            Undo::Order(id, row) => {
                self.set_order(&id, row);
            }
            Undo::Wait(id, row) => {
                self.set_wait(&id, row);
            }
            Undo::Buyer(key, row) => {
                self.set_buyer(&key, row);
            }
            Undo::Outbox(id, row) => {
                self.set_outbox(&id, row);
            }
            Undo::AuditLen(len) => {
                for r in self.audit.drain(len..) {
                    self.audit_ids.remove(&r.id);
                }
            }
            Undo::AuditBuyer(i, buyer) => {
                if let Some(r) = self.audit.get_mut(i) {
                    r.buyer_id = buyer;
                }
            }
        }
    }

    // ---- logged writes (used inside transactions) ----

    fn w_inbox(&mut self, log: &mut Vec<Undo>, row: InboxComment) {
        let id = row.comment_id.clone();
        let old = self.set_inbox(&id, Some(row));
        log.push(Undo::Inbox(id, old));
    }

    fn w_order(&mut self, log: &mut Vec<Undo>, row: Order) -> Result<(), StoreError> {
        if let Some(line) = row.lines.iter().find(|l| l.qty == 0) {
            return Err(StoreError::Invalid(format!(
                "order {}: line {} has quantity 0",
                row.id, line.sku
            )));
        }
        if row.status == OrderStatus::Open
            && let Some(other) = self
                .open
                .get(&pair(&row.live_id, &row.buyer_id))
                .and_then(|m| m.get(&row.currency))
            && other != &row.id
        {
            return Err(StoreError::Conflict(format!(
                "order {}: order {other} is already open for this live, buyer and currency",
                row.id
            )));
        }
        let id = row.id.clone();
        let old = self.set_order(&id, Some(row));
        log.push(Undo::Order(id, old));
        Ok(())
    }

    fn w_wait(&mut self, log: &mut Vec<Undo>, id: &str, row: Option<WaitEntry>) {
        let old = self.set_wait(id, row);
        log.push(Undo::Wait(id.to_owned(), old));
    }

    fn w_buyer(&mut self, log: &mut Vec<Undo>, key: Pair, row: Option<Buyer>) {
        let old = self.set_buyer(&key, row);
        log.push(Undo::Buyer(key, old));
    }

    fn w_outbox(&mut self, log: &mut Vec<Undo>, row: OutboxMessage) {
        let id = row.id.clone();
        let old = self.set_outbox(&id, Some(row));
        log.push(Undo::Outbox(id, old));
    }

    // ---- reads ----

    fn orders_sorted<'a>(&self, it: impl Iterator<Item = &'a String>) -> Vec<Order> {
        let mut v: Vec<Order> = it.filter_map(|id| self.orders.get(id)).cloned().collect();
        v.sort_by(|a, b| (a.created_at_ms, &a.id).cmp(&(b.created_at_ms, &b.id)));
        v.dedup_by(|a, b| a.id == b.id);
        v
    }

    fn import(&mut self, shop_id: &str, products: &[Product]) {
        let table = self.products.entry(shop_id.to_owned()).or_default();
        for p in products {
            let stock = i64::from(p.stock);
            match table.get_mut(&p.sku) {
                Some(rec) => {
                    rec.product = p.clone();
                    rec.stock.available = (stock - rec.stock.reserved).max(0);
                }
                None => {
                    table.insert(
                        p.sku.clone(),
                        ProductRecord {
                            shop_id: shop_id.to_owned(),
                            product: p.clone(),
                            stock: StockLevel {
                                shop_id: shop_id.to_owned(),
                                sku: p.sku.clone(),
                                available: stock,
                                reserved: 0,
                                sold: 0,
                            },
                        },
                    );
                }
            }
        }
    }

    fn claim(
        &mut self,
        now_ms: i64,
        owner: &str,
        lease_ms: i64,
        limit: usize,
    ) -> Vec<OutboxMessage> {
        let ids: Vec<String> = self
            .outbox_pending
            .iter()
            .filter_map(|(_, id)| self.outbox.get(id))
            .filter(|m| {
                m.next_attempt_at_ms <= now_ms
                    && m.lease_until_ms.is_none_or(|until| until < now_ms)
            })
            .take(limit)
            .map(|m| m.id.clone())
            .collect();
        let until = now_ms.saturating_add(lease_ms);
        let mut claimed = Vec::with_capacity(ids.len());
        for id in &ids {
            if let Some(m) = self.outbox.get_mut(id) {
                m.lease_owner = Some(owner.to_owned());
                m.lease_until_ms = Some(until);
                claimed.push(m.clone());
            }
        }
        claimed
    }

    fn finish(&mut self, id: &str, now_ms: i64, update: &OutboxUpdate) -> Result<(), StoreError> {
        let Some(mut m) = self.outbox.get(id).cloned() else {
            return Err(StoreError::NotFound(format!("outbox message {id}")));
        };
        m.lease_owner = None;
        m.lease_until_ms = None;
        match update {
            OutboxUpdate::Sent { graph_id } => {
                m.status = OutboxStatus::Sent;
                m.attempts = m.attempts.saturating_add(1);
                m.finished_at_ms = Some(now_ms);
                m.detail = Some(graph_id.clone());
            }
            OutboxUpdate::Suppressed { reason } => {
                m.status = OutboxStatus::Suppressed;
                m.finished_at_ms = Some(now_ms);
                m.detail = Some(reason.clone());
            }
            OutboxUpdate::Failed {
                reason,
                retry_at_ms: Some(at),
            } => {
                m.status = OutboxStatus::Pending;
                m.attempts = m.attempts.saturating_add(1);
                m.next_attempt_at_ms = *at;
                m.detail = Some(reason.clone());
            }
            OutboxUpdate::Failed {
                reason,
                retry_at_ms: None,
            } => {
                m.status = OutboxStatus::Failed;
                m.attempts = m.attempts.saturating_add(1);
                m.finished_at_ms = Some(now_ms);
                m.detail = Some(reason.clone());
            }
        }
        self.set_outbox(id, Some(m));
        Ok(())
    }

    fn counts(&self, shop_id: &str) -> CommerceCounts {
        CommerceCounts {
            inbox: count_by(
                self.inbox
                    .values()
                    .filter(|c| c.shop_id == shop_id)
                    .map(|c| c.status.as_str()),
            ),
            orders: count_by(
                self.orders
                    .values()
                    .filter(|o| o.shop_id == shop_id)
                    .map(|o| o.status.as_str()),
            ),
            outbox: count_by(
                self.outbox
                    .values()
                    .filter(|m| m.shop_id == shop_id)
                    .map(|m| m.status.as_str()),
            ),
            waitlist: self
                .waitlist
                .values()
                .filter(|w| w.shop_id == shop_id)
                .count() as u64,
            audit: self.audit.iter().filter(|a| a.shop_id == shop_id).count() as u64,
        }
    }
}

impl CommerceStore for InMemoryCommerceStore {
    fn put_shop<'a>(&'a self, shop: &'a Shop) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.inner
                .lock()
                .await
                .shops
                .insert(shop.id.clone(), shop.clone());
            Ok(())
        })
    }

    fn shop<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Shop>> {
        Box::pin(async move { Ok(self.inner.lock().await.shops.get(id).cloned()) })
    }

    fn shops(&self) -> StoreFuture<'_, Vec<Shop>> {
        Box::pin(async move { Ok(self.inner.lock().await.shops.values().cloned().collect()) })
    }

    fn set_shop_kill_switch<'a>(&'a self, id: &'a str, on: bool) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            match self.inner.lock().await.shops.get_mut(id) {
                Some(s) => {
                    s.kill_switch = on;
                    Ok(())
                }
                None => Err(StoreError::NotFound(format!("shop {id}"))),
            }
        })
    }

    fn import_products<'a>(
        &'a self,
        shop_id: &'a str,
        products: &'a [Product],
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.inner.lock().await.import(shop_id, products);
            Ok(())
        })
    }

    fn products<'a>(&'a self, shop_id: &'a str) -> StoreFuture<'a, Vec<ProductRecord>> {
        Box::pin(async move {
            let t = self.inner.lock().await;
            let mut v: Vec<ProductRecord> = t
                .products
                .get(shop_id)
                .map(|m| m.values().map(read_product).collect())
                .unwrap_or_default();
            // Lot order, products without a lot last, then SKU.
            v.sort_by(|a, b| {
                (a.product.lot.is_none(), a.product.lot, &a.product.sku).cmp(&(
                    b.product.lot.is_none(),
                    b.product.lot,
                    &b.product.sku,
                ))
            });
            Ok(v)
        })
    }

    fn stock<'a>(&'a self, shop_id: &'a str, sku: &'a str) -> StoreFuture<'a, Option<StockLevel>> {
        Box::pin(async move {
            let t = self.inner.lock().await;
            Ok(t.products
                .get(shop_id)
                .and_then(|m| m.get(sku))
                .map(|r| r.stock.clone()))
        })
    }

    fn put_live<'a>(&'a self, live: &'a Live) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut t = self.inner.lock().await;
            if let Some(other) = t.live_by_post.get(&live.post_id)
                && other != &live.id
            {
                return Err(StoreError::Conflict(format!(
                    "live {}: post {} already belongs to live {other}",
                    live.id, live.post_id
                )));
            }
            if let Some(old) = t.lives.insert(live.id.clone(), live.clone()) {
                t.live_by_post.remove(&old.post_id);
            }
            t.live_by_post.insert(live.post_id.clone(), live.id.clone());
            Ok(())
        })
    }

    fn live<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Live>> {
        Box::pin(async move { Ok(self.inner.lock().await.lives.get(id).cloned()) })
    }

    fn live_by_post<'a>(&'a self, post_id: &'a str) -> StoreFuture<'a, Option<Live>> {
        Box::pin(async move {
            let t = self.inner.lock().await;
            Ok(t.live_by_post
                .get(post_id)
                .and_then(|id| t.lives.get(id))
                .cloned())
        })
    }

    fn lives<'a>(&'a self, shop_id: &'a str) -> StoreFuture<'a, Vec<Live>> {
        Box::pin(async move {
            let t = self.inner.lock().await;
            let mut v: Vec<Live> = t
                .lives
                .values()
                .filter(|l| l.shop_id == shop_id)
                .cloned()
                .collect();
            v.sort_by(|a, b| {
                b.started_at_ms
                    .cmp(&a.started_at_ms)
                    .then_with(|| a.id.cmp(&b.id))
            });
            Ok(v)
        })
    }

    fn set_live_kill_switch<'a>(&'a self, id: &'a str, on: bool) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            match self.inner.lock().await.lives.get_mut(id) {
                Some(l) => {
                    l.kill_switch = on;
                    Ok(())
                }
                None => Err(StoreError::NotFound(format!("live {id}"))),
            }
        })
    }

    fn insert_inbox<'a>(&'a self, rows: &'a [InboxComment]) -> StoreFuture<'a, Vec<bool>> {
        Box::pin(async move {
            let mut t = self.inner.lock().await;
            Ok(rows
                .iter()
                .map(|r| {
                    if t.inbox.contains_key(&r.comment_id) {
                        false
                    } else {
                        t.set_inbox(&r.comment_id, Some(r.clone()));
                        true
                    }
                })
                .collect())
        })
    }

    fn pending_inbox(&self, limit: usize) -> StoreFuture<'_, Vec<InboxComment>> {
        Box::pin(async move {
            let t = self.inner.lock().await;
            Ok(t.pending
                .iter()
                .take(limit)
                .filter_map(|(_, id)| t.inbox.get(id).cloned())
                .collect())
        })
    }

    fn inbox_comment<'a>(&'a self, comment_id: &'a str) -> StoreFuture<'a, Option<InboxComment>> {
        Box::pin(async move { Ok(self.inner.lock().await.inbox.get(comment_id).cloned()) })
    }

    fn order<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Order>> {
        Box::pin(async move { Ok(self.inner.lock().await.orders.get(id).cloned()) })
    }

    fn orders<'a>(&'a self, filter: &'a OrderFilter) -> StoreFuture<'a, Vec<Order>> {
        Box::pin(async move {
            let t = self.inner.lock().await;
            let mut v: Vec<Order> = t
                .orders
                .values()
                .filter(|o| {
                    opt_eq(Some(o.shop_id.as_str()), filter.shop_id.as_ref())
                        && opt_eq(Some(o.live_id.as_str()), filter.live_id.as_ref())
                        && opt_eq(Some(o.buyer_id.as_str()), filter.buyer_id.as_ref())
                        && filter.status.is_none_or(|s| s == o.status)
                })
                .cloned()
                .collect();
            v.sort_by(|a, b| (a.created_at_ms, &a.id).cmp(&(b.created_at_ms, &b.id)));
            Ok(limited(v, filter.limit))
        })
    }

    fn due_expiries(&self, now_ms: i64, limit: usize) -> StoreFuture<'_, Vec<String>> {
        Box::pin(async move {
            let t = self.inner.lock().await;
            Ok(t.due
                .iter()
                .take_while(|(at, _)| *at <= now_ms)
                .take(limit)
                .map(|(_, id)| id.clone())
                .collect())
        })
    }

    fn due_reminders(&self, before_ms: i64, limit: usize) -> StoreFuture<'_, Vec<Order>> {
        Box::pin(async move {
            let t = self.inner.lock().await;
            Ok(t.due
                .iter()
                .take_while(|(at, _)| *at <= before_ms)
                .filter_map(|(_, id)| t.orders.get(id))
                .filter(|o| !o.reminded)
                .take(limit)
                .cloned()
                .collect())
        })
    }

    fn set_payment_link<'a>(
        &'a self,
        order_id: &'a str,
        link: &'a PaymentLinkRecord,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut t = self.inner.lock().await;
            // The payment link is not indexed: updating in place keeps the indexes right.
            if let Some(o) = t.orders.get_mut(order_id)
                && o.version == link.for_version
            {
                o.payment = Some(link.clone());
            }
            Ok(())
        })
    }

    fn buyer<'a>(&'a self, shop_id: &'a str, buyer_id: &'a str) -> StoreFuture<'a, Option<Buyer>> {
        Box::pin(async move {
            Ok(self
                .inner
                .lock()
                .await
                .buyers
                .get(&pair(shop_id, buyer_id))
                .cloned())
        })
    }

    fn waitlist_entries<'a>(&'a self, shop_id: &'a str) -> StoreFuture<'a, Vec<WaitEntry>> {
        Box::pin(async move {
            let t = self.inner.lock().await;
            let mut v: Vec<WaitEntry> = t
                .waitlist
                .values()
                .filter(|w| w.shop_id == shop_id)
                .cloned()
                .collect();
            v.sort_by(|a, b| (a.created_time_ms, &a.id).cmp(&(b.created_time_ms, &b.id)));
            Ok(v)
        })
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
                .inner
                .lock()
                .await
                .claim(now_ms, owner, lease_ms, limit))
        })
    }

    fn finish_outbox<'a>(
        &'a self,
        id: &'a str,
        now_ms: i64,
        update: &'a OutboxUpdate,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move { self.inner.lock().await.finish(id, now_ms, update) })
    }

    fn outbox<'a>(&'a self, filter: &'a LogFilter) -> StoreFuture<'a, Vec<OutboxMessage>> {
        Box::pin(async move {
            let t = self.inner.lock().await;
            let mut v: Vec<OutboxMessage> = t
                .outbox
                .values()
                .filter(|m| {
                    log_matches(
                        filter,
                        &m.shop_id,
                        m.live_id.as_deref(),
                        m.comment_id.as_deref(),
                        m.order_id.as_deref(),
                        Some(m.buyer_id.as_str()),
                    )
                })
                .cloned()
                .collect();
            v.sort_by(|a, b| (a.created_at_ms, &a.id).cmp(&(b.created_at_ms, &b.id)));
            Ok(limited(v, filter.limit))
        })
    }

    fn audit<'a>(&'a self, filter: &'a LogFilter) -> StoreFuture<'a, Vec<AuditRecord>> {
        Box::pin(async move {
            let t = self.inner.lock().await;
            let mut v: Vec<AuditRecord> = t
                .audit
                .iter()
                .filter(|a| {
                    log_matches(
                        filter,
                        &a.shop_id,
                        a.live_id.as_deref(),
                        a.comment_id.as_deref(),
                        a.order_id.as_deref(),
                        a.buyer_id.as_deref(),
                    )
                })
                .cloned()
                .collect();
            v.sort_by(|a, b| (a.at_ms, &a.id).cmp(&(b.at_ms, &b.id)));
            Ok(limited(v, filter.limit))
        })
    }

    fn counts<'a>(&'a self, shop_id: &'a str) -> StoreFuture<'a, CommerceCounts> {
        Box::pin(async move { Ok(self.inner.lock().await.counts(shop_id)) })
    }

    fn begin(&self) -> StoreFuture<'_, Box<dyn CommerceTx>> {
        Box::pin(async move {
            let t = Arc::clone(&self.inner).lock_owned().await;
            Ok(Box::new(MemoryTx { t, log: Vec::new() }) as Box<dyn CommerceTx>)
        })
    }
}

/// A transaction: the store's mutex and the undo log of what it changed.
struct MemoryTx {
    t: OwnedMutexGuard<Tables>,
    log: Vec<Undo>,
}

impl MemoryTx {
    fn rollback_to(&mut self, mark: usize) {
        while self.log.len() > mark {
            if let Some(step) = self.log.pop() {
                self.t.undo(step);
            }
        }
    }

    /// Runs `f`; when it fails, undoes whatever it wrote, so a failed call writes nothing.
    fn atomically<T>(
        &mut self,
        f: impl FnOnce(&mut Tables, &mut Vec<Undo>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mark = self.log.len();
        let r = f(&mut self.t, &mut self.log);
        if r.is_err() {
            self.rollback_to(mark);
        }
        r
    }
}

impl Drop for MemoryTx {
    fn drop(&mut self) {
        // Not committed (commit empties the log): put everything back.
        self.rollback_to(0);
    }
}

fn unique(ids: &[String]) -> BTreeSet<&str> {
    ids.iter().map(String::as_str).collect()
}

impl CommerceTx for MemoryTx {
    fn take_pending<'a>(
        &'a mut self,
        comment_ids: &'a [String],
    ) -> StoreFuture<'a, Vec<InboxComment>> {
        let mut v: Vec<InboxComment> = unique(comment_ids)
            .into_iter()
            .filter_map(|id| self.t.inbox.get(id))
            .filter(|c| c.status == InboxStatus::Pending)
            .cloned()
            .collect();
        v.sort_by(|a, b| {
            (a.created_time_ms, &a.comment_id).cmp(&(b.created_time_ms, &b.comment_id))
        });
        Box::pin(ready(Ok(v)))
    }

    fn mark_inbox<'a>(
        &'a mut self,
        rows: &'a [(String, InboxStatus, Option<String>)],
    ) -> StoreFuture<'a, ()> {
        let r = self.atomically(|t, log| {
            for (id, status, detail) in rows {
                if let Some(mut c) = t.inbox.get(id).cloned() {
                    c.status = *status;
                    c.detail.clone_from(detail);
                    t.w_inbox(log, c);
                }
            }
            Ok(())
        });
        Box::pin(ready(r))
    }

    fn lock_stock<'a>(
        &'a mut self,
        shop_id: &'a str,
        skus: &'a [String],
    ) -> StoreFuture<'a, Vec<StockLevel>> {
        let v = match self.t.products.get(shop_id) {
            Some(table) => unique(skus)
                .into_iter()
                .filter_map(|sku| table.get(sku).map(|r| r.stock.clone()))
                .collect(),
            None => Vec::new(),
        };
        Box::pin(ready(Ok(v)))
    }

    fn put_stock<'a>(&'a mut self, rows: &'a [StockLevel]) -> StoreFuture<'a, ()> {
        let r = if let Some(bad) = rows
            .iter()
            .find(|r| r.available < 0 || r.reserved < 0 || r.sold < 0)
        {
            Err(StoreError::Invalid(format!(
                "stock of {}/{} would be negative (available {}, reserved {}, sold {})",
                bad.shop_id, bad.sku, bad.available, bad.reserved, bad.sold
            )))
        } else {
            self.atomically(|t, log| {
                for row in rows {
                    // Like an UPDATE matching no row, an unknown SKU is left alone.
                    if let Some(old) = t.set_stock(row) {
                        log.push(Undo::Stock(old));
                    }
                }
                Ok(())
            })
        };
        Box::pin(ready(r))
    }

    fn open_orders<'a>(&'a mut self, keys: &'a [(String, String)]) -> StoreFuture<'a, Vec<Order>> {
        let ids: Vec<&String> = keys
            .iter()
            .filter_map(|k| self.t.open.get(k))
            .flat_map(BTreeMap::values)
            .collect();
        let v = self.t.orders_sorted(ids.into_iter());
        Box::pin(ready(Ok(v)))
    }

    fn lock_orders<'a>(&'a mut self, ids: &'a [String]) -> StoreFuture<'a, Vec<Order>> {
        let v = self.t.orders_sorted(ids.iter());
        Box::pin(ready(Ok(v)))
    }

    fn put_orders<'a>(&'a mut self, orders: &'a [Order]) -> StoreFuture<'a, ()> {
        // In input order, each row checked against the ones before it (as a
        // multi-row upsert checks its unique index row by row).
        let r = self.atomically(|t, log| {
            for o in orders {
                t.w_order(log, o.clone())?;
            }
            Ok(())
        });
        Box::pin(ready(r))
    }

    fn waitlist<'a>(
        &'a mut self,
        shop_id: &'a str,
        skus: &'a [String],
    ) -> StoreFuture<'a, Vec<WaitEntry>> {
        let mut v: Vec<WaitEntry> = unique(skus)
            .into_iter()
            .filter_map(|sku| self.t.queue.get(&pair(shop_id, sku)))
            .flatten()
            .filter_map(|(_, id)| self.t.waitlist.get(id).cloned())
            .collect();
        v.sort_by(|a, b| (a.created_time_ms, &a.id).cmp(&(b.created_time_ms, &b.id)));
        Box::pin(ready(Ok(v)))
    }

    fn put_waitlist<'a>(&'a mut self, entries: &'a [WaitEntry]) -> StoreFuture<'a, ()> {
        let r = self.atomically(|t, log| {
            for e in entries {
                t.w_wait(log, &e.id, Some(e.clone()));
            }
            Ok(())
        });
        Box::pin(ready(r))
    }

    fn remove_waitlist<'a>(&'a mut self, ids: &'a [String]) -> StoreFuture<'a, ()> {
        let r = self.atomically(|t, log| {
            for id in ids {
                if t.waitlist.contains_key(id) {
                    t.w_wait(log, id, None);
                }
            }
            Ok(())
        });
        Box::pin(ready(r))
    }

    fn buyers<'a>(
        &'a mut self,
        shop_id: &'a str,
        ids: &'a [String],
    ) -> StoreFuture<'a, Vec<Buyer>> {
        let v = unique(ids)
            .into_iter()
            .filter_map(|id| self.t.buyers.get(&pair(shop_id, id)).cloned())
            .collect();
        Box::pin(ready(Ok(v)))
    }

    fn put_buyers<'a>(&'a mut self, buyers: &'a [Buyer]) -> StoreFuture<'a, ()> {
        let r = self.atomically(|t, log| {
            for b in buyers {
                t.w_buyer(log, pair(&b.shop_id, &b.buyer_id), Some(b.clone()));
            }
            Ok(())
        });
        Box::pin(ready(r))
    }

    fn append_audit<'a>(&'a mut self, rows: &'a [AuditRecord]) -> StoreFuture<'a, ()> {
        let r = self.atomically(|t, log| {
            log.push(Undo::AuditLen(t.audit.len()));
            for row in rows {
                if !t.audit_ids.insert(row.id.clone()) {
                    return Err(StoreError::Conflict(format!("audit row {} exists", row.id)));
                }
                t.audit.push(row.clone());
            }
            Ok(())
        });
        Box::pin(ready(r))
    }

    fn enqueue<'a>(&'a mut self, messages: &'a [OutboxMessage]) -> StoreFuture<'a, ()> {
        let r = self.atomically(|t, log| {
            for m in messages {
                if t.dedupe.contains_key(&m.dedupe_key) {
                    continue;
                }
                if t.outbox.contains_key(&m.id) {
                    return Err(StoreError::Conflict(format!(
                        "outbox message {} exists",
                        m.id
                    )));
                }
                t.w_outbox(log, m.clone());
            }
            Ok(())
        });
        Box::pin(ready(r))
    }

    fn suppress_pending<'a>(
        &'a mut self,
        shop_id: &'a str,
        buyer_id: &'a str,
        reason: &'a str,
    ) -> StoreFuture<'a, u64> {
        let r = self.atomically(|t, log| {
            let rows: Vec<OutboxMessage> = t
                .outbox_pending
                .iter()
                .filter_map(|(_, id)| t.outbox.get(id))
                .filter(|m| m.shop_id == shop_id && m.buyer_id == buyer_id)
                .cloned()
                .collect();
            let n = rows.len() as u64;
            for m in rows {
                t.w_outbox(log, suppressed(m, reason));
            }
            Ok(n)
        });
        Box::pin(ready(r))
    }

    fn anonymize_buyer<'a>(
        &'a mut self,
        shop_id: &'a str,
        buyer_id: &'a str,
        replacement: &'a str,
    ) -> StoreFuture<'a, ()> {
        let r = self.atomically(|t, log| {
            // Buyer: the row moves to the replacement id, without a name.
            let key = pair(shop_id, buyer_id);
            if let Some(mut b) = t.buyers.get(&key).cloned() {
                b.buyer_id = replacement.to_owned();
                b.name = None;
                b.anonymized = true;
                t.w_buyer(log, key, None);
                t.w_buyer(log, pair(shop_id, replacement), Some(b));
            }
            // Orders keep their amounts and statuses.
            let orders: Vec<Order> = t
                .orders
                .values()
                .filter(|o| o.shop_id == shop_id && o.buyer_id == buyer_id)
                .cloned()
                .collect();
            for mut o in orders {
                o.buyer_id = replacement.to_owned();
                t.w_order(log, o)?;
            }
            let waits: Vec<WaitEntry> = t
                .waitlist
                .values()
                .filter(|w| w.shop_id == shop_id && w.buyer_id == buyer_id)
                .cloned()
                .collect();
            for mut w in waits {
                w.buyer_id = replacement.to_owned();
                let id = w.id.clone();
                t.w_wait(log, &id, Some(w));
            }
            let comments: Vec<InboxComment> = t
                .inbox
                .values()
                .filter(|c| c.shop_id == shop_id && c.buyer_id == buyer_id)
                .cloned()
                .collect();
            for mut c in comments {
                c.buyer_id = replacement.to_owned();
                c.buyer_name = None;
                DELETED_TEXT.clone_into(&mut c.text);
                t.w_inbox(log, c);
            }
            let messages: Vec<OutboxMessage> = t
                .outbox
                .values()
                .filter(|m| m.shop_id == shop_id && m.buyer_id == buyer_id)
                .cloned()
                .collect();
            for mut m in messages {
                m.buyer_id = replacement.to_owned();
                DELETED_TEXT.clone_into(&mut m.text);
                if m.status == OutboxStatus::Pending {
                    m = suppressed(m, DELETED_DETAIL);
                }
                t.w_outbox(log, m);
            }
            // Audit: the buyer id only (the one change the append-only log allows).
            for (i, a) in t.audit.iter_mut().enumerate() {
                if a.shop_id == shop_id && a.buyer_id.as_deref() == Some(buyer_id) {
                    log.push(Undo::AuditBuyer(i, a.buyer_id.take()));
                    a.buyer_id = Some(replacement.to_owned());
                }
            }
            Ok(())
        });
        Box::pin(ready(r))
    }

    fn commit(mut self: Box<Self>) -> StoreFuture<'static, ()> {
        // Keep every change: nothing left to undo when the guard is released.
        self.log.clear();
        drop(self);
        Box::pin(ready(Ok(())))
    }
}
