//! Processing: one batch of pending inbox comments in one transaction.
//!
//! classify (outside the transaction: it is pure CPU or a remote call) → begin →
//! take the comments still pending (another worker may have them) → lock the buyers'
//! open orders → lock the stock rows of every SKU involved (in SKU order) → walk the
//! comments in `created_time` order, so the first buyer to comment gets the units →
//! write stock, orders, waitlist, buyers, audit rows, outbox messages and inbox
//! statuses → commit. Nothing is sent here: the outbox is drained by the dispatcher,
//! and a message exists only if the decision behind it committed.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde::Serialize;

use super::texts;
use super::{Engine, EngineError};
use crate::catalog::Catalog;
use crate::classify::{Classification, Intent, ItemRequest};
use crate::controls;
use crate::store::{
    AuditRecord, Buyer, InboxComment, InboxStatus, Live, LiveState, Order, OrderLine, OrderStatus,
    OutboxKind, OutboxMessage, OutboxStatus, Shop, StockLevel, WaitEntry,
};

/// What one [`Engine::process_pending`] call did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ProcessReport {
    /// Pending comments fetched.
    pub fetched: usize,
    /// Comments processed by this call (others were taken by another worker).
    pub processed: usize,
    /// Comments that reserved at least one unit.
    pub reserved: usize,
    /// Comments that put units on the waitlist.
    pub waitlisted: usize,
    /// Uncertain purchases answered with "did you mean …?".
    pub did_you_mean: usize,
    /// Cancels applied.
    pub cancels: usize,
    /// Comments rejected (absurd quantity, unknown SKU).
    pub rejected: usize,
    /// Comments skipped (opted-out buyer, closed live).
    pub skipped: usize,
    /// Questions and other comments (recorded, no action).
    pub no_action: usize,
    /// Messages enqueued.
    pub enqueued: usize,
    /// Transactions re-run after a conflict.
    pub retries: usize,
    /// Receipt-to-outbox latency of each processed comment, in milliseconds.
    #[serde(skip)]
    pub latencies_ms: Vec<i64>,
}

impl ProcessReport {
    fn merge(&mut self, o: ProcessReport) {
        self.processed += o.processed;
        self.reserved += o.reserved;
        self.waitlisted += o.waitlisted;
        self.did_you_mean += o.did_you_mean;
        self.cancels += o.cancels;
        self.rejected += o.rejected;
        self.skipped += o.skipped;
        self.no_action += o.no_action;
        self.enqueued += o.enqueued;
        self.retries += o.retries;
        self.latencies_ms.extend(o.latencies_ms);
    }
}

/// The outcome of one batch transaction, plus work to do after the commit.
#[derive(Default)]
struct BatchOutcome {
    report: ProcessReport,
    released: BTreeSet<String>,
    deletions: Vec<String>,
}

impl Engine {
    /// Processes one batch of pending comments (up to `batch_size`, oldest first).
    ///
    /// # Errors
    /// The store's error (the comments stay pending and are retried).
    pub async fn process_pending(&self) -> Result<ProcessReport, EngineError> {
        let rows = self.store.pending_inbox(self.config.batch_size).await?;
        let mut report = ProcessReport {
            fetched: rows.len(),
            ..ProcessReport::default()
        };
        if rows.is_empty() {
            return Ok(report);
        }
        // Group by shop, keeping order (a batch is usually one shop).
        let mut groups: Vec<(String, Vec<InboxComment>)> = Vec::new();
        for row in rows {
            match groups.iter_mut().find(|(s, _)| *s == row.shop_id) {
                Some((_, g)) => g.push(row),
                None => groups.push((row.shop_id.clone(), vec![row])),
            }
        }
        for (shop_id, group) in groups {
            let Some(shop) = self.store.shop(&shop_id).await? else {
                self.reject_all(&group, "unknown shop").await?;
                continue;
            };
            let catalog = self.catalog(&shop_id).await?;
            let mut classes: HashMap<String, Classification> = HashMap::with_capacity(group.len());
            for row in &group {
                let c = match self.classifier.classify(&row.text, &catalog).await {
                    Ok(c) => c,
                    Err(e) => {
                        // The built-in classifier cannot fail; a remote one without a
                        // fallback can: record the comment as needing a person.
                        Classification::new(Intent::Other, 0.0, self.classifier.name())
                            .with_evidence(format!("classifier failed: {e}"))
                    }
                };
                classes.insert(row.comment_id.clone(), c);
            }
            let mut lives: HashMap<String, Live> = HashMap::new();
            for row in &group {
                if !lives.contains_key(&row.live_id)
                    && let Some(l) = self.live_for_post(&row.post_id).await?
                {
                    lives.insert(l.id.clone(), l);
                }
            }
            let (outcome, retries) = self
                .with_retries(async || {
                    self.apply_batch(&shop, &catalog, &group, &classes, &lives)
                        .await
                })
                .await?;
            report.retries += retries;
            self.stats
                .processed
                .fetch_add(outcome.report.processed as u64, Ordering::Relaxed);
            self.stats
                .reservations
                .fetch_add(outcome.report.reserved as u64, Ordering::Relaxed);
            report.merge(outcome.report);
            if !outcome.released.is_empty() {
                let skus: Vec<String> = outcome.released.into_iter().collect();
                self.promote_waitlist(&shop_id, &skus).await?;
            }
            for buyer in outcome.deletions {
                self.forget_buyer(&shop_id, &buyer).await?;
            }
        }
        Ok(report)
    }

    async fn reject_all(&self, rows: &[InboxComment], why: &str) -> Result<(), EngineError> {
        let mut tx = self.store.begin().await?;
        let marks: Vec<(String, InboxStatus, Option<String>)> = rows
            .iter()
            .map(|r| {
                (
                    r.comment_id.clone(),
                    InboxStatus::Rejected,
                    Some(why.to_owned()),
                )
            })
            .collect();
        tx.mark_inbox(&marks).await?;
        tx.commit().await?;
        Ok(())
    }

    #[allow(clippy::too_many_lines)] // one flow, top to bottom, on purpose
    async fn apply_batch(
        &self,
        shop: &Shop,
        catalog: &Arc<Catalog>,
        group: &[InboxComment],
        classes: &HashMap<String, Classification>,
        lives: &HashMap<String, Live>,
    ) -> Result<BatchOutcome, EngineError> {
        let now = self.now_ms();
        let mut out = BatchOutcome::default();
        let mut tx = self.store.begin().await?;
        let ids: Vec<String> = group.iter().map(|r| r.comment_id.clone()).collect();
        let pending = tx.take_pending(&ids).await?;
        if pending.is_empty() {
            return Ok(out);
        }

        // Lock the buyers' open orders first (global lock order: orders, then stock).
        let keys: Vec<(String, String)> = pending
            .iter()
            .map(|r| (r.live_id.clone(), r.buyer_id.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut orders: Vec<Order> = tx.open_orders(&keys).await?;
        let buyer_ids: Vec<String> = pending
            .iter()
            .map(|r| r.buyer_id.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut buyers: HashMap<String, Buyer> = tx
            .buyers(&shop.id, &buyer_ids)
            .await?
            .into_iter()
            .map(|b| (b.buyer_id.clone(), b))
            .collect();

        // Every SKU this batch may touch.
        let mut skus: BTreeSet<String> = BTreeSet::new();
        let mut cancel_all_buyers: HashSet<(String, String)> = HashSet::new();
        for row in &pending {
            let Some(c) = classes.get(&row.comment_id) else {
                continue;
            };
            match c.intent {
                Intent::Purchase | Intent::Cancel => {
                    skus.extend(c.items.iter().map(|i| i.sku.clone()));
                }
                Intent::Question | Intent::Other => {}
            }
            if c.intent == Intent::Cancel && c.items.is_empty() {
                cancel_all_buyers.insert((row.live_id.clone(), row.buyer_id.clone()));
            }
        }
        for o in &orders {
            if cancel_all_buyers.contains(&(o.live_id.clone(), o.buyer_id.clone())) {
                skus.extend(o.lines.iter().map(|l| l.sku.clone()));
            }
        }
        let sku_list: Vec<String> = skus.iter().cloned().collect();
        let mut stock: HashMap<String, StockLevel> = if sku_list.is_empty() {
            HashMap::new()
        } else {
            tx.lock_stock(&shop.id, &sku_list)
                .await?
                .into_iter()
                .map(|s| (s.sku.clone(), s))
                .collect()
        };
        // Waitlist entries a cancel may drop: the SKUs cancels name, or — for "cancel
        // everything" — every SKU (rare; a named cancel must not read the whole queue).
        let cancels: Vec<&Classification> = pending
            .iter()
            .filter_map(|r| classes.get(&r.comment_id))
            .filter(|c| c.intent == Intent::Cancel)
            .collect();
        let mut waitlist: Vec<WaitEntry> = if cancels.is_empty() {
            Vec::new()
        } else if cancels.iter().any(|c| c.items.is_empty()) {
            let all: Vec<String> = catalog.products().iter().map(|p| p.sku.clone()).collect();
            tx.waitlist(&shop.id, &all).await?
        } else {
            let named: Vec<String> = cancels
                .iter()
                .flat_map(|c| c.items.iter().map(|i| i.sku.clone()))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            tx.waitlist(&shop.id, &named).await?
        };

        let mut dirty_stock: BTreeSet<String> = BTreeSet::new();
        let mut dirty_orders: BTreeSet<String> = BTreeSet::new();
        let mut dirty_buyers: BTreeSet<String> = BTreeSet::new();
        let mut new_waits: Vec<WaitEntry> = Vec::new();
        let mut removed_waits: Vec<String> = Vec::new();
        let mut audits: Vec<AuditRecord> = Vec::with_capacity(pending.len());
        let mut outbox: Vec<OutboxMessage> = Vec::new();
        let mut marks: Vec<(String, InboxStatus, Option<String>)> =
            Vec::with_capacity(pending.len());

        for row in &pending {
            let class = classes
                .get(&row.comment_id)
                .cloned()
                .unwrap_or_else(|| Classification::new(Intent::Other, 0.0, "none"));
            let lang = texts::pick(class.lang, shop);
            let name = texts::first_name(row.buyer_name.as_deref());
            let items_json = serde_json::to_string(&class.items).ok();
            let mut audit = AuditRecord {
                id: self.new_id(),
                at_ms: now,
                shop_id: shop.id.clone(),
                live_id: Some(row.live_id.clone()),
                comment_id: Some(row.comment_id.clone()),
                order_id: None,
                buyer_id: Some(row.buyer_id.clone()),
                action: String::new(),
                classifier: Some(class.classifier.clone()),
                intent: Some(class.intent.as_str().to_owned()),
                confidence: Some(class.confidence),
                items: items_json,
                detail: class.evidence.join("; "),
            };
            out.report.processed += 1;
            out.report.latencies_ms.push(now - row.received_at_ms);
            let buyer = buyers.entry(row.buyer_id.clone()).or_insert_with(|| {
                dirty_buyers.insert(row.buyer_id.clone());
                Buyer::new(&shop.id, &row.buyer_id, row.buyer_name.clone(), now)
            });
            if buyer.opted_out {
                audit.action = "skipped_opted_out".into();
                audits.push(audit);
                marks.push((
                    row.comment_id.clone(),
                    InboxStatus::Skipped,
                    Some("buyer opted out".into()),
                ));
                out.report.skipped += 1;
                continue;
            }
            let live_open = lives
                .get(&row.live_id)
                .is_some_and(|l| l.state == LiveState::Open);
            if !live_open {
                audit.action = "skipped_live_closed".into();
                audits.push(audit);
                marks.push((
                    row.comment_id.clone(),
                    InboxStatus::Skipped,
                    Some("live closed".into()),
                ));
                out.report.skipped += 1;
                continue;
            }
            if controls::is_data_deletion_request(&row.text) {
                audit.action = "data_deletion_requested".into();
                audits.push(audit);
                marks.push((row.comment_id.clone(), InboxStatus::Processed, None));
                out.deletions.push(row.buyer_id.clone());
                continue;
            }
            if controls::is_opt_out(&row.text) {
                buyer.opted_out = true;
                dirty_buyers.insert(row.buyer_id.clone());
                let n = tx
                    .suppress_pending(&shop.id, &row.buyer_id, "buyer opted out")
                    .await?;
                outbox.retain(|m| m.buyer_id != row.buyer_id);
                audit.action = "opted_out".into();
                audit.detail = format!("{n} pending message(s) suppressed");
                audits.push(audit);
                marks.push((row.comment_id.clone(), InboxStatus::Processed, None));
                continue;
            }
            let pub_msg = |text: String| OutboxMessage {
                id: self.new_id(),
                shop_id: shop.id.clone(),
                live_id: Some(row.live_id.clone()),
                buyer_id: row.buyer_id.clone(),
                kind: OutboxKind::PublicReply,
                comment_id: Some(row.comment_id.clone()),
                order_id: None,
                text,
                dedupe_key: format!("pub:{}", row.comment_id),
                status: OutboxStatus::Pending,
                attempts: 0,
                next_attempt_at_ms: now,
                origin_received_at_ms: row.received_at_ms,
                created_at_ms: now,
                finished_at_ms: None,
                detail: None,
                lease_owner: None,
                lease_until_ms: None,
            };
            let private_msg = |order: &Order, text: String| OutboxMessage {
                kind: OutboxKind::PrivateReply,
                order_id: Some(order.id.clone()),
                dedupe_key: format!("pr:{}", row.comment_id),
                ..pub_msg(text)
            };
            let confident = class.confidence >= shop.min_confidence && !class.items.is_empty();
            match class.intent {
                Intent::Purchase if confident => {
                    let mut reserved_orders: Vec<String> = Vec::new();
                    let mut waitlisted: Vec<(String, u32)> = Vec::new();
                    let mut too_many = false;
                    let mut unknown: Vec<String> = Vec::new();
                    for item in merge_items(&class.items) {
                        if item.qty > shop.max_qty_per_item {
                            too_many = true;
                            continue;
                        }
                        let (Some(product), Some(level)) =
                            (catalog.get(&item.sku), stock.get_mut(&item.sku))
                        else {
                            unknown.push(item.sku.clone());
                            continue;
                        };
                        let want = i64::from(item.qty);
                        let take = want.min(level.available).max(0);
                        if take > 0 {
                            level.available -= take;
                            level.reserved += take;
                            dirty_stock.insert(item.sku.clone());
                            let idx = open_order_index(
                                &mut orders,
                                shop,
                                row,
                                product.price.currency,
                                now,
                                || self.new_id(),
                            );
                            let order = &mut orders[idx];
                            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                            add_line(
                                order,
                                &product.sku,
                                &product.name,
                                take as u32,
                                product.price.minor,
                            );
                            order.version += 1;
                            order.updated_at_ms = now;
                            dirty_orders.insert(order.id.clone());
                            if !reserved_orders.contains(&order.id) {
                                reserved_orders.push(order.id.clone());
                            }
                        }
                        if want > take {
                            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                            let short = (want - take) as u32;
                            new_waits.push(WaitEntry {
                                id: self.new_id(),
                                shop_id: shop.id.clone(),
                                live_id: row.live_id.clone(),
                                sku: item.sku.clone(),
                                buyer_id: row.buyer_id.clone(),
                                qty: short,
                                comment_id: row.comment_id.clone(),
                                created_time_ms: row.created_time_ms,
                            });
                            waitlisted.push((product.name.clone(), short));
                        }
                    }
                    let mut actions: Vec<&str> = Vec::new();
                    if !reserved_orders.is_empty() {
                        actions.push(if waitlisted.is_empty() {
                            "reserved"
                        } else {
                            "partially_reserved"
                        });
                        out.report.reserved += 1;
                        outbox.push(pub_msg(texts::public_reserved(
                            &name,
                            lang,
                            !waitlisted.is_empty(),
                        )));
                        // One private reply per comment (Meta's rule): the first order's
                        // summary and link; a second currency's order gets a message.
                        for (i, oid) in reserved_orders.iter().enumerate() {
                            let Some(order) = orders.iter().find(|o| &o.id == oid) else {
                                continue;
                            };
                            let text = texts::private_summary(
                                &name,
                                lang,
                                shop,
                                order,
                                if i == 0 { &waitlisted } else { &[] },
                                now,
                            );
                            if i == 0 {
                                outbox.push(private_msg(order, text));
                            } else {
                                outbox.push(OutboxMessage {
                                    kind: OutboxKind::Message,
                                    comment_id: None,
                                    dedupe_key: format!("pr2:{}:{}", row.comment_id, order.id),
                                    ..private_msg(order, text)
                                });
                            }
                        }
                        audit.order_id = reserved_orders.first().cloned();
                    } else if !waitlisted.is_empty() {
                        actions.push("waitlisted");
                        outbox.push(pub_msg(texts::public_waitlisted(&name, lang)));
                    }
                    if !waitlisted.is_empty() {
                        out.report.waitlisted += 1;
                    }
                    if too_many {
                        actions.push("rejected_quantity");
                        if reserved_orders.is_empty() && waitlisted.is_empty() {
                            outbox.push(pub_msg(texts::public_too_many(
                                &name,
                                lang,
                                shop.max_qty_per_item,
                            )));
                        }
                    }
                    if !unknown.is_empty() {
                        actions.push("unknown_sku");
                        audit.detail =
                            format!("{}; unknown SKU(s): {}", audit.detail, unknown.join(", "));
                    }
                    if reserved_orders.is_empty() && waitlisted.is_empty() {
                        out.report.rejected += 1;
                    }
                    audit.action = actions.join("+");
                }
                Intent::Purchase => {
                    let options: Vec<String> = class
                        .suggestions
                        .iter()
                        .chain(class.items.iter().map(|i| &i.sku))
                        .filter_map(|sku| catalog.get(sku))
                        .map(|p| texts::option_label(p.lot, &p.name))
                        .collect::<Vec<_>>();
                    let mut seen = HashSet::new();
                    let options: Vec<String> = options
                        .into_iter()
                        .filter(|o| seen.insert(o.clone()))
                        .take(3)
                        .collect();
                    if options.is_empty() {
                        audit.action = "uncertain_no_action".into();
                        out.report.no_action += 1;
                    } else {
                        audit.action = "did_you_mean".into();
                        outbox.push(pub_msg(texts::public_did_you_mean(&name, lang, &options)));
                        out.report.did_you_mean += 1;
                    }
                }
                Intent::Cancel => {
                    let mut touched: Vec<String> = Vec::new();
                    for order in orders.iter_mut().filter(|o| {
                        o.live_id == row.live_id
                            && o.buyer_id == row.buyer_id
                            && o.status == OrderStatus::Open
                    }) {
                        let mut changed = false;
                        if class.items.is_empty() {
                            for line in order.lines.drain(..) {
                                release(&mut stock, &line.sku, line.qty, &mut dirty_stock);
                                out.released.insert(line.sku);
                            }
                            changed = true;
                        } else {
                            for item in merge_items(&class.items) {
                                if let Some(line) =
                                    order.lines.iter_mut().find(|l| l.sku == item.sku)
                                {
                                    let n = item.qty.min(line.qty);
                                    line.qty -= n;
                                    release(&mut stock, &item.sku, n, &mut dirty_stock);
                                    out.released.insert(item.sku.clone());
                                    changed = true;
                                }
                            }
                            order.lines.retain(|l| l.qty > 0);
                        }
                        if changed {
                            order.recompute_total();
                            order.version += 1;
                            order.updated_at_ms = now;
                            if order.lines.is_empty() {
                                order.status = OrderStatus::Cancelled;
                            }
                            dirty_orders.insert(order.id.clone());
                            touched.push(order.id.clone());
                        }
                    }
                    // The buyer's waitlist entries for what they cancel go too.
                    let named: HashSet<&str> = class.items.iter().map(|i| i.sku.as_str()).collect();
                    let mut dropped_waits = false;
                    waitlist.retain(|w| {
                        let hit = w.buyer_id == row.buyer_id
                            && w.live_id == row.live_id
                            && (named.is_empty() || named.contains(w.sku.as_str()));
                        if hit {
                            removed_waits.push(w.id.clone());
                            dropped_waits = true;
                        }
                        !hit
                    });
                    let before = new_waits.len();
                    new_waits.retain(|w| {
                        !(w.buyer_id == row.buyer_id
                            && w.live_id == row.live_id
                            && (named.is_empty() || named.contains(w.sku.as_str())))
                    });
                    dropped_waits |= new_waits.len() != before;
                    if touched.is_empty() && !dropped_waits {
                        audit.action = "nothing_to_cancel".into();
                        out.report.no_action += 1;
                    } else {
                        audit.action = "cancelled".into();
                        audit.order_id = touched.first().cloned();
                        out.report.cancels += 1;
                        outbox.push(pub_msg(texts::public_cancelled(&name, lang)));
                        if let Some(order) = orders
                            .iter()
                            .find(|o| touched.contains(&o.id) && o.status == OrderStatus::Open)
                        {
                            let text = texts::private_summary(&name, lang, shop, order, &[], now);
                            outbox.push(private_msg(order, text));
                        }
                    }
                }
                Intent::Question | Intent::Other => {
                    // Humans answer questions: the system records, the seller replies.
                    audit.action = "no_action".into();
                    out.report.no_action += 1;
                }
            }
            audits.push(audit);
            marks.push((row.comment_id.clone(), InboxStatus::Processed, None));
        }

        // Write everything, then commit.
        if !dirty_buyers.is_empty() {
            let rows: Vec<Buyer> = dirty_buyers
                .iter()
                .filter_map(|id| buyers.get(id).cloned())
                .collect();
            tx.put_buyers(&rows).await?;
        }
        if !dirty_stock.is_empty() {
            let rows: Vec<StockLevel> = dirty_stock
                .iter()
                .filter_map(|s| stock.get(s).cloned())
                .collect();
            tx.put_stock(&rows).await?;
        }
        if !dirty_orders.is_empty() {
            let rows: Vec<Order> = orders
                .iter()
                .filter(|o| dirty_orders.contains(&o.id))
                .cloned()
                .collect();
            tx.put_orders(&rows).await?;
        }
        if !new_waits.is_empty() {
            tx.put_waitlist(&new_waits).await?;
        }
        if !removed_waits.is_empty() {
            tx.remove_waitlist(&removed_waits).await?;
        }
        tx.append_audit(&audits).await?;
        if !outbox.is_empty() {
            tx.enqueue(&outbox).await?;
        }
        tx.mark_inbox(&marks).await?;
        tx.commit().await?;
        out.report.enqueued = outbox.len();
        Ok(out)
    }
}

/// Same SKU named twice in one comment counts once, with the larger quantity
/// ("la 7, sí la 7!" is one unit, not two).
fn merge_items(items: &[ItemRequest]) -> Vec<ItemRequest> {
    let mut out: Vec<ItemRequest> = Vec::with_capacity(items.len());
    for i in items {
        if i.qty == 0 {
            continue;
        }
        match out.iter_mut().find(|o| o.sku == i.sku) {
            Some(o) => o.qty = o.qty.max(i.qty),
            None => out.push(i.clone()),
        }
    }
    out
}

fn release(
    stock: &mut HashMap<String, StockLevel>,
    sku: &str,
    qty: u32,
    dirty: &mut BTreeSet<String>,
) {
    if let Some(level) = stock.get_mut(sku) {
        let n = i64::from(qty).min(level.reserved);
        level.reserved -= n;
        level.available += n;
        dirty.insert(sku.to_owned());
    }
}

pub(crate) fn add_line(order: &mut Order, sku: &str, name: &str, qty: u32, unit_price_minor: i64) {
    match order.lines.iter_mut().find(|l| l.sku == sku) {
        Some(l) => l.qty = l.qty.saturating_add(qty),
        None => order.lines.push(OrderLine {
            sku: sku.to_owned(),
            name: name.to_owned(),
            qty,
            unit_price_minor,
        }),
    }
    order.recompute_total();
}

fn open_order_index(
    orders: &mut Vec<Order>,
    shop: &Shop,
    row: &InboxComment,
    currency: crate::money::Currency,
    now: i64,
    new_id: impl FnOnce() -> String,
) -> usize {
    if let Some(i) = orders.iter().position(|o| {
        o.live_id == row.live_id
            && o.buyer_id == row.buyer_id
            && o.currency == currency
            && o.status == OrderStatus::Open
    }) {
        return i;
    }
    orders.push(Order::new(
        new_id(),
        &shop.id,
        &row.live_id,
        &row.buyer_id,
        currency,
        now,
        now.saturating_add(shop.hold_ms),
    ));
    orders.len() - 1
}
