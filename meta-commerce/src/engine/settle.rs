//! Settlements: what happens to an order after the comment that opened it.
//!
//! - **Expiry**: open orders whose hold ran out release their units (reserved →
//!   available), become `Expired`, and the buyer is told (a message, sent only inside
//!   the 24-hour window). Released units go to the waitlist, oldest comment first.
//! - **Payment**: a provider's status (never the notification's own claims) settles the
//!   order: reserved → sold. A payment that arrives after the hold expired re-reserves
//!   the units if they are all still free, otherwise the order becomes `RefundDue` —
//!   money and stock are never lost, whichever of the two wins the race (both lock the
//!   order row first).
//! - **Restock** adds units and promotes the waitlist; **reminders** go shortly before
//!   a hold ends; **opt-out** stops messages; **data deletion** anonymizes the buyer and
//!   releases their open holds while keeping paid orders' amounts.

use std::collections::{BTreeSet, HashMap};

use meta_graph::messenger::policy::SendKind;
use meta_graph::store::from_ms;
use serde::Serialize;

use super::process::add_line;
use super::texts;
use super::{Engine, EngineError};
use crate::money::Money;
use crate::payments::{PaymentLine, PaymentRequest, PaymentState, PaymentStatus, WebhookRequest};
use crate::store::{
    AuditRecord, Buyer, LogFilter, Order, OrderStatus, OutboxKind, OutboxMessage, OutboxStatus,
    PaymentLinkRecord, Shop, StockLevel,
};

/// What a payment confirmation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[non_exhaustive]
pub enum PaymentOutcome {
    /// The order is paid; its units are sold.
    Paid {
        /// The order.
        order_id: String,
    },
    /// The order was already paid by this payment (a redelivered notification).
    AlreadyPaid {
        /// The order.
        order_id: String,
    },
    /// The hold had expired, but every unit was still free: re-reserved and sold.
    PaidAfterExpiry {
        /// The order.
        order_id: String,
    },
    /// Money arrived but cannot be matched to stock (expired and units gone, or a
    /// second payment): flagged for a refund.
    RefundDue {
        /// The order.
        order_id: String,
        /// Why.
        reason: String,
    },
    /// Nothing to do (pending, rejected, amount short, …); recorded in the audit log.
    Ignored {
        /// The order.
        order_id: String,
        /// Why.
        reason: String,
    },
}

impl Engine {
    fn audit_row(
        &self,
        shop_id: &str,
        order: Option<&Order>,
        action: &str,
        detail: String,
    ) -> AuditRecord {
        AuditRecord {
            id: self.new_id(),
            at_ms: self.now_ms(),
            shop_id: shop_id.to_owned(),
            live_id: order.map(|o| o.live_id.clone()),
            comment_id: None,
            order_id: order.map(|o| o.id.clone()),
            buyer_id: order.map(|o| o.buyer_id.clone()),
            action: action.to_owned(),
            classifier: None,
            intent: None,
            confidence: None,
            items: None,
            detail,
        }
    }

    fn message_to(
        &self,
        order: &Order,
        kind: OutboxKind,
        dedupe: String,
        text: String,
    ) -> OutboxMessage {
        let now = self.now_ms();
        OutboxMessage {
            id: self.new_id(),
            shop_id: order.shop_id.clone(),
            live_id: Some(order.live_id.clone()),
            buyer_id: order.buyer_id.clone(),
            kind,
            comment_id: None,
            order_id: Some(order.id.clone()),
            text,
            dedupe_key: dedupe,
            status: OutboxStatus::Pending,
            attempts: 0,
            next_attempt_at_ms: now,
            origin_received_at_ms: now,
            created_at_ms: now,
            finished_at_ms: None,
            detail: None,
            lease_owner: None,
            lease_until_ms: None,
        }
    }

    async fn shop_or_err(&self, shop_id: &str) -> Result<Shop, EngineError> {
        self.store
            .shop(shop_id)
            .await?
            .ok_or_else(|| EngineError::UnknownShop(shop_id.to_owned()))
    }

    // ---------------------------------------------------------------- expiry

    /// Expires every open order whose hold has ended (up to a batch), releasing its
    /// units and promoting the waitlist. Returns how many expired.
    ///
    /// # Errors
    /// The store's error.
    pub async fn expire_due(&self) -> Result<usize, EngineError> {
        let now = self.now_ms();
        let ids = self.store.due_expiries(now, self.config.batch_size).await?;
        if ids.is_empty() {
            return Ok(0);
        }
        // Shops are read before the transaction (never read outside an open one).
        let shops: HashMap<String, Shop> = self
            .store
            .shops()
            .await?
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect();
        let ((count, released), _) = self
            .with_retries(|| self.expire_tx(&ids, now, &shops))
            .await?;
        for (shop_id, skus) in released {
            let skus: Vec<String> = skus.into_iter().collect();
            self.promote_waitlist(&shop_id, &skus).await?;
        }
        Ok(count)
    }

    async fn expire_tx(
        &self,
        ids: &[String],
        now: i64,
        shops: &HashMap<String, Shop>,
    ) -> Result<(usize, HashMap<String, BTreeSet<String>>), EngineError> {
        let mut tx = self.store.begin().await?;
        let mut orders: Vec<Order> = tx
            .lock_orders(ids)
            .await?
            .into_iter()
            .filter(|o| o.status == OrderStatus::Open && o.hold_expires_at_ms <= now)
            .collect();
        if orders.is_empty() {
            return Ok((0, HashMap::new()));
        }
        let mut by_shop: HashMap<String, BTreeSet<String>> = HashMap::new();
        for o in &orders {
            by_shop
                .entry(o.shop_id.clone())
                .or_default()
                .extend(o.lines.iter().map(|l| l.sku.clone()));
        }
        let mut stock: HashMap<(String, String), StockLevel> = HashMap::new();
        for (shop_id, skus) in &by_shop {
            let list: Vec<String> = skus.iter().cloned().collect();
            for s in tx.lock_stock(shop_id, &list).await? {
                stock.insert((s.shop_id.clone(), s.sku.clone()), s);
            }
        }
        let mut audits = Vec::new();
        let mut outbox = Vec::new();
        for o in &mut orders {
            for l in &o.lines {
                if let Some(level) = stock.get_mut(&(o.shop_id.clone(), l.sku.clone())) {
                    let n = i64::from(l.qty).min(level.reserved);
                    level.reserved -= n;
                    level.available += n;
                }
            }
            o.status = OrderStatus::Expired;
            o.version += 1;
            o.updated_at_ms = now;
            audits.push(self.audit_row(
                &o.shop_id,
                Some(o),
                "expired",
                "hold ended unpaid; units released".into(),
            ));
            if let Some(shop) = shops.get(&o.shop_id) {
                let text = texts::expired(texts::shop_lang(shop), o);
                outbox.push(self.message_to(o, OutboxKind::Message, format!("exp:{}", o.id), text));
            }
        }
        let rows: Vec<StockLevel> = stock.into_values().collect();
        tx.put_stock(&rows).await?;
        tx.put_orders(&orders).await?;
        tx.append_audit(&audits).await?;
        tx.enqueue(&outbox).await?;
        tx.commit().await?;
        Ok((orders.len(), by_shop))
    }

    // ---------------------------------------------------------------- waitlist

    /// Gives freed units of `skus` to waiting buyers, oldest comment first, adding them
    /// to (or opening) each buyer's order and telling them with the payment link.
    ///
    /// # Errors
    /// The store's error.
    pub async fn promote_waitlist(
        &self,
        shop_id: &str,
        skus: &[String],
    ) -> Result<usize, EngineError> {
        if skus.is_empty() {
            return Ok(0);
        }
        let shop = self.shop_or_err(shop_id).await?;
        let catalog = self.catalog(shop_id).await?;
        // Which waiting comments already used their private reply (they reserved
        // something too)? Read before the transaction — a store must not be read
        // outside a transaction while one is open — for the entries that can be
        // promoted at today's stock; an entry that turns up later counts as spent.
        let mut free: HashMap<String, i64> = HashMap::new();
        for sku in skus {
            if let Some(level) = self.store.stock(shop_id, sku).await? {
                free.insert(sku.clone(), level.available);
            }
        }
        let mut unspent: BTreeSet<String> = BTreeSet::new();
        // Only the released SKUs' queue, read in a short transaction of its own (the
        // port reads the waitlist by SKU only inside one; the whole shop's queue can be
        // thousands of rows).
        let queue = {
            let mut tx = self.store.begin().await?;
            tx.waitlist(shop_id, skus).await?
        };
        if queue.is_empty() {
            return Ok(0);
        }
        for e in queue {
            let Some(n) = free.get_mut(&e.sku) else {
                continue;
            };
            if *n <= 0 {
                continue;
            }
            *n -= i64::from(e.qty);
            let used = self
                .store
                .outbox(&LogFilter {
                    comment_id: Some(e.comment_id.clone()),
                    ..LogFilter::default()
                })
                .await?
                .iter()
                .any(|m| m.kind == OutboxKind::PrivateReply);
            if !used {
                unspent.insert(e.comment_id);
            }
        }
        let (n, _) = self
            .with_retries(|| self.promote_tx(&shop, &catalog, skus, &unspent))
            .await?;
        Ok(n)
    }

    async fn promote_tx(
        &self,
        shop: &Shop,
        catalog: &crate::catalog::Catalog,
        skus: &[String],
        unspent: &BTreeSet<String>,
    ) -> Result<usize, EngineError> {
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        let mut entries = tx.waitlist(&shop.id, skus).await?;
        if entries.is_empty() {
            return Ok(0);
        }
        let keys: Vec<(String, String)> = entries
            .iter()
            .map(|e| (e.live_id.clone(), e.buyer_id.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut orders = tx.open_orders(&keys).await?;
        let mut stock: HashMap<String, StockLevel> = tx
            .lock_stock(&shop.id, skus)
            .await?
            .into_iter()
            .map(|s| (s.sku.clone(), s))
            .collect();
        let mut promoted = 0;
        let mut touched_orders: BTreeSet<String> = BTreeSet::new();
        let mut updated = Vec::new();
        let mut removed = Vec::new();
        let mut audits = Vec::new();
        let mut pending_msgs: Vec<(usize, String, String, u32, String)> = Vec::new();
        for e in &mut entries {
            let Some(level) = stock.get_mut(&e.sku) else {
                continue;
            };
            let Some(product) = catalog.get(&e.sku) else {
                continue;
            };
            if level.available <= 0 {
                continue;
            }
            let take = i64::from(e.qty).min(level.available);
            level.available -= take;
            level.reserved += take;
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let take = take as u32;
            let idx = match orders.iter().position(|o| {
                o.live_id == e.live_id
                    && o.buyer_id == e.buyer_id
                    && o.currency == product.price.currency
                    && o.status == OrderStatus::Open
            }) {
                Some(i) => i,
                None => {
                    orders.push(Order::new(
                        self.new_id(),
                        &shop.id,
                        &e.live_id,
                        &e.buyer_id,
                        product.price.currency,
                        now,
                        now.saturating_add(shop.hold_ms),
                    ));
                    orders.len() - 1
                }
            };
            let order = &mut orders[idx];
            add_line(
                order,
                &product.sku,
                &product.name,
                take,
                product.price.minor,
            );
            order.version += 1;
            order.updated_at_ms = now;
            touched_orders.insert(order.id.clone());
            e.qty -= take;
            if e.qty == 0 {
                removed.push(e.id.clone());
            } else {
                updated.push(e.clone());
            }
            promoted += 1;
            audits.push(AuditRecord {
                comment_id: Some(e.comment_id.clone()),
                ..self.audit_row(
                    &shop.id,
                    Some(order),
                    "promoted_from_waitlist",
                    format!("{take} × {} freed up", product.sku),
                )
            });
            pending_msgs.push((
                idx,
                e.comment_id.clone(),
                product.name.clone(),
                take,
                e.id.clone(),
            ));
        }
        if promoted == 0 {
            return Ok(0);
        }
        let mut outbox = Vec::new();
        for (idx, comment_id, name, take, entry_id) in pending_msgs {
            let order = &orders[idx];
            let text = texts::promoted(texts::shop_lang(shop), shop, order, &name, take, now);
            // The waitlisted comment's private reply was kept unused for this moment
            // (a comment that only waitlisted got a public reply); if that comment
            // also reserved something, its private reply is spent: send a message.
            let spent = !unspent.contains(&comment_id);
            let mut msg = if spent {
                self.message_to(
                    order,
                    OutboxKind::Message,
                    format!("promo:{entry_id}:{}", order.version),
                    text,
                )
            } else {
                self.message_to(
                    order,
                    OutboxKind::PrivateReply,
                    format!("pr:{comment_id}"),
                    text,
                )
            };
            if !spent {
                msg.comment_id = Some(comment_id);
            }
            outbox.push(msg);
        }
        let rows: Vec<StockLevel> = stock.into_values().collect();
        tx.put_stock(&rows).await?;
        let changed: Vec<Order> = orders
            .iter()
            .filter(|o| touched_orders.contains(&o.id))
            .cloned()
            .collect();
        tx.put_orders(&changed).await?;
        if !updated.is_empty() {
            tx.put_waitlist(&updated).await?;
        }
        if !removed.is_empty() {
            tx.remove_waitlist(&removed).await?;
        }
        tx.append_audit(&audits).await?;
        tx.enqueue(&outbox).await?;
        tx.commit().await?;
        Ok(promoted)
    }

    // ---------------------------------------------------------------- restock

    /// Adds `qty` units of `sku` and promotes its waitlist.
    ///
    /// # Errors
    /// [`EngineError::Invalid`] for 0 units, [`EngineError::UnknownSku`].
    pub async fn restock(&self, shop_id: &str, sku: &str, qty: u32) -> Result<(), EngineError> {
        if qty == 0 {
            return Err(EngineError::Invalid(
                "restock needs at least one unit".into(),
            ));
        }
        let mut tx = self.store.begin().await?;
        let skus = [sku.to_owned()];
        let Some(mut level) = tx.lock_stock(shop_id, &skus).await?.into_iter().next() else {
            return Err(EngineError::UnknownSku(sku.to_owned()));
        };
        level.available += i64::from(qty);
        tx.put_stock(std::slice::from_ref(&level)).await?;
        tx.append_audit(&[self.audit_row(shop_id, None, "restocked", format!("+{qty} × {sku}"))])
            .await?;
        tx.commit().await?;
        self.promote_waitlist(shop_id, &skus).await?;
        Ok(())
    }

    // ---------------------------------------------------------------- payments

    /// The order's payment link for its current contents: the stored one when it was
    /// made for this version, else a new one from the shop's gateways. `None` when the
    /// order is no longer open (paid, expired, cancelled). For a bank transfer the
    /// record's `url` holds the transfer instructions.
    ///
    /// # Errors
    /// [`EngineError::Config`] without payments, [`EngineError::Route`] when every
    /// gateway failed, [`EngineError::UnknownOrder`].
    pub async fn ensure_payment_link(
        &self,
        order_id: &str,
    ) -> Result<Option<PaymentLinkRecord>, EngineError> {
        let order = self
            .store
            .order(order_id)
            .await?
            .ok_or_else(|| EngineError::UnknownOrder(order_id.to_owned()))?;
        if order.status != OrderStatus::Open {
            return Ok(None);
        }
        if let Some(p) = &order.payment
            && p.for_version == order.version
        {
            return Ok(Some(p.clone()));
        }
        let router = self
            .payments
            .as_ref()
            .ok_or_else(|| EngineError::Config("no payment gateways configured".into()))?;
        let shop = self.shop_or_err(&order.shop_id).await?;
        let mut req = PaymentRequest::new(
            order.id.clone(),
            shop.id.clone(),
            Money::new(order.total_minor, order.currency),
        );
        req.description = format!("Pedido {} · {}", texts::order_ref(&order.id), shop.name);
        req.lines = order
            .lines
            .iter()
            .map(|l| PaymentLine {
                sku: l.sku.clone(),
                title: l.name.clone(),
                qty: l.qty,
                unit_price: Money::new(l.unit_price_minor, order.currency),
            })
            .collect();
        req.expires_at = Some(from_ms(order.hold_expires_at_ms));
        req.idempotency_key = format!("{}-v{}", order.id, order.version);
        let link = router.create_link(&shop, &req).await?;
        let url = if link.url.is_empty() {
            link.instructions.clone().unwrap_or_default()
        } else {
            link.url.clone()
        };
        let rec = PaymentLinkRecord {
            gateway: link.gateway.clone(),
            url,
            provider_ref: link.provider_ref.clone(),
            for_version: order.version,
        };
        self.store.set_payment_link(&order.id, &rec).await?;
        Ok(Some(rec))
    }

    /// A payment provider's webhook: verified by the gateway, then the payment's real
    /// status is fetched from the provider and applied.
    ///
    /// # Errors
    /// [`EngineError::Config`] without payments, [`EngineError::UnknownGateway`],
    /// [`EngineError::Payment`] (bad signature → 401 hint), [`EngineError::UnknownOrder`].
    pub async fn handle_payment_webhook(
        &self,
        gateway: &str,
        req: WebhookRequest<'_>,
    ) -> Result<PaymentOutcome, EngineError> {
        let router = self
            .payments
            .as_ref()
            .ok_or_else(|| EngineError::Config("no payment gateways configured".into()))?;
        let gw = router
            .gateway(gateway)
            .ok_or_else(|| EngineError::UnknownGateway(gateway.to_owned()))?;
        let notification = gw.verify_webhook(req).await?;
        let status = gw.status(&notification).await?;
        self.confirm_payment(&status).await
    }

    /// A bank transfer the seller saw arrive: pays the order for its total.
    ///
    /// # Errors
    /// [`EngineError::UnknownOrder`]; the store's error.
    pub async fn confirm_transfer(&self, order_id: &str) -> Result<PaymentOutcome, EngineError> {
        let order = self
            .store
            .order(order_id)
            .await?
            .ok_or_else(|| EngineError::UnknownOrder(order_id.to_owned()))?;
        let status = PaymentStatus::new(
            "transfer",
            order_id,
            format!("transfer:{order_id}"),
            PaymentState::Approved,
            Some(Money::new(order.total_minor, order.currency)),
            "confirmed by the seller",
        );
        self.confirm_payment(&status).await
    }

    /// Applies a payment status to its order (idempotent: a repeated status is a no-op).
    ///
    /// # Errors
    /// [`EngineError::UnknownOrder`]; the store's error.
    pub async fn confirm_payment(
        &self,
        status: &PaymentStatus,
    ) -> Result<PaymentOutcome, EngineError> {
        let Some(order) = self.store.order(&status.order_id).await? else {
            return Err(EngineError::UnknownOrder(status.order_id.clone()));
        };
        let shop = self.shop_or_err(&order.shop_id).await?;
        let ((outcome, released), _) = self.with_retries(|| self.confirm_tx(&shop, status)).await?;
        if !released.is_empty() {
            self.promote_waitlist(&shop.id, &released).await?;
        }
        Ok(outcome)
    }

    #[allow(clippy::too_many_lines)] // the race table reads best in one place
    async fn confirm_tx(
        &self,
        shop: &Shop,
        status: &PaymentStatus,
    ) -> Result<(PaymentOutcome, Vec<String>), EngineError> {
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        let ids = [status.order_id.clone()];
        let Some(mut order) = tx.lock_orders(&ids).await?.into_iter().next() else {
            return Err(EngineError::UnknownOrder(status.order_id.clone()));
        };
        let oid = order.id.clone();
        let lang = texts::shop_lang(shop);
        let detail = format!(
            "{} payment {} is {} ({:?})",
            status.gateway, status.provider_ref, status.raw_status, status.state
        );
        let ignored = |reason: &str| PaymentOutcome::Ignored {
            order_id: oid.clone(),
            reason: reason.to_owned(),
        };
        let (outcome, action) = match (&status.state, order.status) {
            (PaymentState::Pending, _) => (ignored("payment pending"), "payment_pending"),
            (PaymentState::Rejected | PaymentState::Cancelled, _) => {
                (ignored("payment not approved"), "payment_rejected")
            }
            (PaymentState::Refunded, _) => (
                ignored("payment refunded at the provider"),
                "payment_refunded",
            ),
            (PaymentState::Approved, OrderStatus::Paid | OrderStatus::RefundDue)
                if order.paid_ref.as_deref() == Some(status.provider_ref.as_str()) =>
            {
                (
                    PaymentOutcome::AlreadyPaid {
                        order_id: oid.clone(),
                    },
                    "payment_duplicate_notice",
                )
            }
            (PaymentState::Approved, OrderStatus::Paid | OrderStatus::RefundDue) => {
                order.note = Some(format!(
                    "second payment {} must be refunded",
                    status.provider_ref
                ));
                order.updated_at_ms = now;
                tx.put_orders(std::slice::from_ref(&order)).await?;
                (
                    PaymentOutcome::RefundDue {
                        order_id: oid.clone(),
                        reason: "the order was already paid".into(),
                    },
                    "double_payment_refund_due",
                )
            }
            (PaymentState::Approved, state) => {
                if let Some(paid) = status.amount
                    && (paid.currency != order.currency || paid.minor < order.total_minor)
                {
                    let why = format!(
                        "paid {paid} for a total of {}",
                        Money::new(order.total_minor, order.currency)
                    );
                    order.note = Some(why.clone());
                    tx.put_orders(std::slice::from_ref(&order)).await?;
                    tx.append_audit(&[self.audit_row(
                        &shop.id,
                        Some(&order),
                        "amount_mismatch",
                        format!("{detail}; {why}"),
                    )])
                    .await?;
                    tx.commit().await?;
                    return Ok((ignored(&why), Vec::new()));
                }
                let skus: Vec<String> = order
                    .lines
                    .iter()
                    .map(|l| l.sku.clone())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                let mut stock: HashMap<String, StockLevel> = tx
                    .lock_stock(&shop.id, &skus)
                    .await?
                    .into_iter()
                    .map(|s| (s.sku.clone(), s))
                    .collect();
                let held = state == OrderStatus::Open;
                let all_free = order.lines.iter().all(|l| {
                    stock.get(&l.sku).is_some_and(|s| {
                        if held {
                            s.reserved >= i64::from(l.qty)
                        } else {
                            s.available >= i64::from(l.qty)
                        }
                    })
                });
                order.paid_ref = Some(status.provider_ref.clone());
                order.paid_at_ms = Some(now);
                order.updated_at_ms = now;
                order.version += 1;
                if all_free {
                    for l in &order.lines {
                        if let Some(s) = stock.get_mut(&l.sku) {
                            let q = i64::from(l.qty);
                            if held {
                                s.reserved -= q;
                            } else {
                                s.available -= q;
                            }
                            s.sold += q;
                        }
                    }
                    order.status = OrderStatus::Paid;
                    let rows: Vec<StockLevel> = stock.into_values().collect();
                    tx.put_stock(&rows).await?;
                    tx.put_orders(std::slice::from_ref(&order)).await?;
                    tx.enqueue(&[self.message_to(
                        &order,
                        OutboxKind::Message,
                        format!("paid:{}", order.id),
                        texts::paid(lang, &order),
                    )])
                    .await?;
                    if held {
                        (
                            PaymentOutcome::Paid {
                                order_id: oid.clone(),
                            },
                            "paid",
                        )
                    } else {
                        (
                            PaymentOutcome::PaidAfterExpiry {
                                order_id: oid.clone(),
                            },
                            "paid_after_expiry",
                        )
                    }
                } else {
                    let reason = if held {
                        "the reserved units are missing".to_owned()
                    } else {
                        format!(
                            "payment arrived after the hold {} and the units were taken",
                            order.status
                        )
                    };
                    // An open order whose units are somehow not reserved releases what
                    // it still holds, so stock is never stranded.
                    let mut released = Vec::new();
                    if held {
                        for l in &order.lines {
                            if let Some(s) = stock.get_mut(&l.sku) {
                                let n = i64::from(l.qty).min(s.reserved);
                                s.reserved -= n;
                                s.available += n;
                                released.push(l.sku.clone());
                            }
                        }
                        let rows: Vec<StockLevel> = stock.into_values().collect();
                        tx.put_stock(&rows).await?;
                    }
                    order.status = OrderStatus::RefundDue;
                    order.note = Some(reason.clone());
                    tx.put_orders(std::slice::from_ref(&order)).await?;
                    tx.enqueue(&[self.message_to(
                        &order,
                        OutboxKind::Message,
                        format!("refund:{}", order.id),
                        texts::refund_due(lang, &order),
                    )])
                    .await?;
                    tx.append_audit(&[self.audit_row(
                        &shop.id,
                        Some(&order),
                        "refund_due",
                        format!("{detail}; {reason}"),
                    )])
                    .await?;
                    tx.commit().await?;
                    return Ok((
                        PaymentOutcome::RefundDue {
                            order_id: oid,
                            reason,
                        },
                        released,
                    ));
                }
            }
        };
        tx.append_audit(&[self.audit_row(&shop.id, Some(&order), action, detail)])
            .await?;
        tx.commit().await?;
        Ok((outcome, Vec::new()))
    }

    // ---------------------------------------------------------------- reminders

    /// Enqueues a payment reminder for open orders whose hold ends within
    /// `reminder_before`, once per order, and only when the buyer can be messaged (they
    /// wrote to the Page in the last 24 hours; a private reply does not count).
    ///
    /// # Errors
    /// The store's error.
    pub async fn enqueue_reminders(&self) -> Result<usize, EngineError> {
        let now = self.now_ms();
        let due = self
            .store
            .due_reminders(
                now.saturating_add(self.config.reminder_before_ms),
                self.config.batch_size,
            )
            .await?;
        let mut n = 0;
        for candidate in due {
            let shop = self.shop_or_err(&candidate.shop_id).await?;
            let allowed = match &self.guard {
                Some(g) => g
                    .check_message(
                        &shop.page_id,
                        &candidate.buyer_id,
                        SendKind::Standard,
                        self.clock.now(),
                    )
                    .await
                    .is_ok(),
                None => false,
            };
            let mut tx = self.store.begin().await?;
            let ids = [candidate.id.clone()];
            let Some(mut order) = tx.lock_orders(&ids).await?.into_iter().next() else {
                continue;
            };
            if order.status != OrderStatus::Open || order.reminded {
                continue;
            }
            order.reminded = true;
            tx.put_orders(std::slice::from_ref(&order)).await?;
            if allowed {
                let text = texts::reminder(texts::shop_lang(&shop), &order, now);
                tx.enqueue(&[self.message_to(
                    &order,
                    OutboxKind::Message,
                    format!("rem:{}", order.id),
                    text,
                )])
                .await?;
                tx.append_audit(&[self.audit_row(
                    &shop.id,
                    Some(&order),
                    "reminder_enqueued",
                    String::new(),
                )])
                .await?;
                n += 1;
            } else {
                tx.append_audit(&[self.audit_row(
                    &shop.id,
                    Some(&order),
                    "reminder_skipped",
                    "outside the 24-hour messaging window".into(),
                )])
                .await?;
            }
            tx.commit().await?;
        }
        Ok(n)
    }

    // ---------------------------------------------------------------- controls

    /// Stops messaging a buyer: pending messages are suppressed, later ones skipped.
    ///
    /// # Errors
    /// The store's error.
    pub async fn opt_out(
        &self,
        shop_id: &str,
        buyer_id: &str,
        why: &str,
    ) -> Result<(), EngineError> {
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        let ids = [buyer_id.to_owned()];
        let mut buyer = tx
            .buyers(shop_id, &ids)
            .await?
            .into_iter()
            .next()
            .unwrap_or_else(|| Buyer::new(shop_id, buyer_id, None, now));
        buyer.opted_out = true;
        tx.put_buyers(std::slice::from_ref(&buyer)).await?;
        let n = tx
            .suppress_pending(shop_id, buyer_id, "buyer opted out")
            .await?;
        let mut audit = self.audit_row(
            shop_id,
            None,
            "opted_out",
            format!("{why}; {n} pending message(s) suppressed"),
        );
        audit.buyer_id = Some(buyer_id.to_owned());
        tx.append_audit(&[audit]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A data-deletion request: the buyer's open holds are cancelled (units released),
    /// their waitlist entries dropped, and every record's buyer id replaced by an
    /// anonymous one, names and texts blanked; paid orders keep their amounts. Returns
    /// the anonymous id.
    ///
    /// # Errors
    /// The store's error.
    pub async fn forget_buyer(&self, shop_id: &str, buyer_id: &str) -> Result<String, EngineError> {
        let anon = format!("anon-{}", self.new_id());
        let (released, _) = self
            .with_retries(|| self.forget_tx(shop_id, buyer_id, &anon))
            .await?;
        if !released.is_empty() {
            self.promote_waitlist(shop_id, &released).await?;
        }
        Ok(anon)
    }

    async fn forget_tx(
        &self,
        shop_id: &str,
        buyer_id: &str,
        anon: &str,
    ) -> Result<Vec<String>, EngineError> {
        let now = self.now_ms();
        let open = self
            .store
            .orders(&crate::store::OrderFilter {
                shop_id: Some(shop_id.to_owned()),
                buyer_id: Some(buyer_id.to_owned()),
                status: Some(OrderStatus::Open),
                ..Default::default()
            })
            .await?;
        let catalog = self.catalog(shop_id).await?;
        let mut tx = self.store.begin().await?;
        let ids: Vec<String> = open.iter().map(|o| o.id.clone()).collect();
        let mut orders: Vec<Order> = tx
            .lock_orders(&ids)
            .await?
            .into_iter()
            .filter(|o| o.status == OrderStatus::Open)
            .collect();
        let skus: Vec<String> = orders
            .iter()
            .flat_map(|o| o.lines.iter().map(|l| l.sku.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut stock: HashMap<String, StockLevel> = if skus.is_empty() {
            HashMap::new()
        } else {
            tx.lock_stock(shop_id, &skus)
                .await?
                .into_iter()
                .map(|s| (s.sku.clone(), s))
                .collect()
        };
        for o in &mut orders {
            for l in &o.lines {
                if let Some(s) = stock.get_mut(&l.sku) {
                    let n = i64::from(l.qty).min(s.reserved);
                    s.reserved -= n;
                    s.available += n;
                }
            }
            o.status = OrderStatus::Cancelled;
            o.note = Some("cancelled by a data-deletion request".into());
            o.version += 1;
            o.updated_at_ms = now;
        }
        if !stock.is_empty() {
            let rows: Vec<StockLevel> = stock.into_values().collect();
            tx.put_stock(&rows).await?;
        }
        if !orders.is_empty() {
            tx.put_orders(&orders).await?;
        }
        let all: Vec<String> = catalog.products().iter().map(|p| p.sku.clone()).collect();
        let waits: Vec<String> = tx
            .waitlist(shop_id, &all)
            .await?
            .into_iter()
            .filter(|w| w.buyer_id == buyer_id)
            .map(|w| w.id)
            .collect();
        if !waits.is_empty() {
            tx.remove_waitlist(&waits).await?;
        }
        tx.anonymize_buyer(shop_id, buyer_id, anon).await?;
        let mut audit = self.audit_row(
            shop_id,
            None,
            "data_deleted",
            format!(
                "{} open order(s) cancelled; personal data removed",
                orders.len()
            ),
        );
        audit.buyer_id = Some(anon.to_owned());
        tx.append_audit(&[audit]).await?;
        tx.commit().await?;
        Ok(skus)
    }
}
