//! The messaging outbox dispatcher: claims due outbox messages, checks each one right
//! before its send (kill switches, opt-out, the order still open, the public-text
//! guard), resolves the `{payment_link}` placeholder, sends it through a
//! [`MessageSender`] and records what happened.
//!
//! ```text
//! claim_outbox(now, owner, lease, n)        (leased: no other worker gets them)
//!   for each message, in order:
//!     lease ran out?                          → left alone (another worker may have it)
//!     shop or live kill switch on             → Suppressed "kill switch"
//!     buyer opted out or anonymized           → Suppressed "opted out"
//!     public reply with a price or a link     → Failed "public replies carry no prices or links"
//!     `{payment_link}` in the text            → LinkResolver: None → Suppressed "order no
//!                                               longer open"; error → retried
//!     send by kind (public reply, private reply, message)
//!       Ok                                    → Sent (the Graph id)
//!       SendError::Policy                     → Suppressed (the rule)
//!       SendError::Transient                  → Failed, retried at now + backoff(attempts)
//!       SendError::Permanent / attempts spent → Failed for good
//! ```
//!
//! **Kill switches stop messages within one tick, even mid-batch.** The shop's and the
//! live's flags are read from the store before every send by default: two primary-key
//! reads, negligible next to the Graph call that follows. Under heavy load
//! [`DispatchConfig::kill_switch_refresh`] caps them (e.g. 50 ms of clock time between
//! reads of one shop or live). Buyers are read once per tick (an opt-out also suppresses
//! the buyer's pending rows in the store). Messages of one batch are sent one after
//! the other, so a switch turned on during a batch stops the rest of it.
//!
//! Backoff uses meta-core's schedule ([`meta_core::retry::backoff_cap`]) over the
//! dispatcher's [`RetryConfig`], on the injected clock, so tests never sleep.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # async fn run(
//! #     store: Arc<dyn meta_commerce::store::CommerceStore>,
//! #     links: Arc<dyn meta_commerce::dispatch::LinkResolver>,
//! #     client: meta_core::Client,
//! # ) {
//! use meta_commerce::dispatch::{Dispatcher, GraphSender};
//! use meta_core::clock::SystemClock;
//! use meta_graph::messenger::{MessagingGuard, PolicyConfig};
//!
//! let guard = Arc::new(MessagingGuard::in_memory(PolicyConfig::default()));
//! let sender = Arc::new(GraphSender::for_page("PAGE_ID", client, guard));
//! let dispatcher = Dispatcher::new(store, sender, links, Arc::new(SystemClock::default()));
//! let (stop, shutdown) = tokio::sync::watch::channel(false);
//! let worker = tokio::spawn(async move { dispatcher.run(shutdown).await });
//! // ... later
//! let _ = stop.send(true);
//! let _ = worker.await;
//! # }
//! ```

mod public_text;
mod sender;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::future::{Either, select};
use meta_core::RetryConfig;
use meta_core::clock::Clock;
use tokio::sync::watch;

use crate::store::{
    Buyer, CommerceStore, Live, OutboxKind, OutboxMessage, OutboxUpdate, Shop, StoreError,
};

pub use public_text::{PUBLIC_TEXT_REFUSAL, contains_amount, contains_link, public_text_allowed};
pub use sender::{
    ALREADY_REPLIED_CODE, GraphSender, MessageSender, OUTSIDE_WINDOW_SUBCODE, SendError, SendFuture,
};

/// The placeholder an outbox text carries where the order's current payment link goes;
/// replaced right before the send.
pub const PAYMENT_LINK_PLACEHOLDER: &str = "{payment_link}";

/// Detail of messages stopped by a shop or live kill switch.
pub const REASON_KILL_SWITCH: &str = "kill switch";
/// Detail of messages to a buyer who opted out or had their data deleted.
pub const REASON_OPTED_OUT: &str = "opted out";
/// Detail of payment-link messages whose order closed before the send.
pub const REASON_ORDER_CLOSED: &str = "order no longer open";

/// The boxed future a [`LinkResolver`] returns.
pub type LinkFuture<'a> = Pin<Box<dyn Future<Output = Result<Option<String>, String>> + Send + 'a>>;

/// Gives the payment link to put in place of [`PAYMENT_LINK_PLACEHOLDER`] (the engine
/// implements it with `ensure_payment_link`).
pub trait LinkResolver: Send + Sync + fmt::Debug {
    /// The order's current payment link (created if needed); `Ok(None)` when the order is
    /// no longer open (paid, expired, cancelled); `Err` when it could not be made now
    /// (the message is retried later).
    fn payment_link<'a>(&'a self, order_id: &'a str) -> LinkFuture<'a>;
}

/// How a [`Dispatcher`] claims, paces and retries.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DispatchConfig {
    /// The lease owner written on claimed rows: unique per worker (default `dispatcher`).
    pub owner: String,
    /// How long a claim is held (default 60 s). A message whose lease ran out before its
    /// send is left to whoever claims it next.
    pub lease: Duration,
    /// Messages claimed per tick (default 50).
    pub batch_size: usize,
    /// Sleep between ticks of [`Dispatcher::run`] when the last tick did not fill a
    /// batch (default 200 ms).
    pub poll_interval: Duration,
    /// Attempts and backoff of failed sends (default 8 attempts, 5 s doubling up to 5 min).
    /// The attempt count is the row's `attempts`; the delay is
    /// [`meta_core::retry::backoff_cap`] (no jitter: the rows' own spread suffices).
    pub retry: RetryConfig,
    /// How stale a shop's or live's kill switch may be when a message is checked, in
    /// clock time (default zero: read before every send).
    pub kill_switch_refresh: Duration,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            owner: "dispatcher".to_owned(),
            lease: Duration::from_secs(60),
            batch_size: 50,
            poll_interval: Duration::from_millis(200),
            retry: RetryConfig::standard()
                .max_attempts(8)
                .initial_backoff(Duration::from_secs(5))
                .max_backoff(Duration::from_secs(5 * 60))
                .multiplier(2.0),
            kill_switch_refresh: Duration::ZERO,
        }
    }
}

/// What one [`Dispatcher::tick`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Messages claimed.
    pub claimed: usize,
    /// Sent.
    pub sent: usize,
    /// Suppressed (kill switch, opt-out, closed order, messaging policy).
    pub suppressed: usize,
    /// Failed for good.
    pub failed: usize,
    /// Failed and scheduled for another attempt.
    pub retried: usize,
    /// Claimed but left unrecorded (the lease ran out first, or the outcome could not be
    /// written): they come back when the lease expires.
    pub abandoned: usize,
}

/// Why a tick could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DispatchError {
    /// Claiming from the outbox failed.
    #[error("outbox store: {0}")]
    Store(#[from] StoreError),
}

/// A value read from the store during one tick, with when (clock-monotonic) it was read.
#[derive(Debug)]
struct Cached<T> {
    value: T,
    read_at: Duration,
}

/// Reads cached within one tick only: the next tick starts empty.
#[derive(Debug, Default)]
struct TickCache {
    shops: HashMap<String, Cached<Option<Shop>>>,
    lives: HashMap<String, Cached<Option<Live>>>,
    buyers: HashMap<(String, String), Option<Buyer>>,
}

/// The decision for one claimed message.
#[derive(Debug)]
enum Outcome {
    Finish(OutboxUpdate),
    /// Leave the row to its lease (nothing sent, nothing written).
    Abandon(&'static str),
}

fn suppressed(reason: impl Into<String>) -> Outcome {
    Outcome::Finish(OutboxUpdate::Suppressed {
        reason: reason.into(),
    })
}

fn failed(reason: impl Into<String>) -> Outcome {
    Outcome::Finish(OutboxUpdate::Failed {
        reason: reason.into(),
        retry_at_ms: None,
    })
}

fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn from_unix_ms(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Sends the messaging outbox. Cheap to share as `Arc<Dispatcher>`; several dispatchers
/// (in one process or many) may run against one store, since claims are leased.
pub struct Dispatcher {
    store: Arc<dyn CommerceStore>,
    sender: Arc<dyn MessageSender>,
    links: Arc<dyn LinkResolver>,
    clock: Arc<dyn Clock>,
    config: DispatchConfig,
}

impl fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dispatcher")
            .field("sender", &self.sender)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    /// A dispatcher with [`DispatchConfig::default`].
    #[must_use]
    pub fn new(
        store: Arc<dyn CommerceStore>,
        sender: Arc<dyn MessageSender>,
        links: Arc<dyn LinkResolver>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Dispatcher {
            store,
            sender,
            links,
            clock,
            config: DispatchConfig::default(),
        }
    }

    /// Replaces the configuration.
    #[must_use]
    pub fn config(mut self, config: DispatchConfig) -> Self {
        self.config = config;
        self
    }

    /// The configuration.
    #[must_use]
    pub fn configuration(&self) -> &DispatchConfig {
        &self.config
    }

    fn now_ms(&self) -> i64 {
        unix_ms(self.clock.now())
    }

    /// Claims one batch of due messages and takes each to an outcome (see the module
    /// docs). Failures of single messages are recorded on them.
    ///
    /// # Errors
    /// [`DispatchError::Store`] when the claim itself fails.
    pub async fn tick(&self) -> Result<DispatchReport, DispatchError> {
        let now = self.now_ms();
        let batch = self
            .store
            .claim_outbox(
                now,
                &self.config.owner,
                duration_ms(self.config.lease),
                self.config.batch_size,
            )
            .await?;
        let mut report = DispatchReport {
            claimed: batch.len(),
            ..DispatchReport::default()
        };
        let mut cache = TickCache::default();
        for msg in &batch {
            let outcome = self.handle(msg, &mut cache).await;
            let update = match outcome {
                Outcome::Abandon(why) => {
                    tracing::warn!(id = %msg.id, why, "outbox message left to its lease");
                    report.abandoned += 1;
                    continue;
                }
                Outcome::Finish(u) => u,
            };
            if let Err(e) = self
                .store
                .finish_outbox(&msg.id, self.now_ms(), &update)
                .await
            {
                // A sent message not recorded is sent again when its lease expires; the
                // guard still stops a second private reply.
                tracing::error!(id = %msg.id, error = %e, ?update, "could not record an outbox outcome");
                report.abandoned += 1;
                continue;
            }
            match update {
                OutboxUpdate::Sent { .. } => report.sent += 1,
                OutboxUpdate::Suppressed { .. } => report.suppressed += 1,
                OutboxUpdate::Failed {
                    retry_at_ms: Some(_),
                    ..
                } => report.retried += 1,
                OutboxUpdate::Failed {
                    retry_at_ms: None, ..
                } => report.failed += 1,
            }
        }
        Ok(report)
    }

    /// Ticks until `shutdown` turns `true` (or its sender is dropped): again at once
    /// after a full batch, else after [`DispatchConfig::poll_interval`] on the injected
    /// clock. Store failures are logged and retried next tick.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow_and_update() {
                return;
            }
            let full = match self.tick().await {
                Ok(r) => {
                    if r.claimed > 0 {
                        tracing::debug!(report = ?r, "outbox tick");
                    }
                    self.config.batch_size > 0 && r.claimed >= self.config.batch_size
                }
                Err(e) => {
                    tracing::warn!(error = %e, "outbox tick failed; retrying");
                    false
                }
            };
            if full {
                continue;
            }
            let sleep = self.clock.sleep(self.config.poll_interval);
            let changed = Box::pin(shutdown.changed());
            if let Either::Left((Err(_), _)) = select(changed, sleep).await {
                // The sender is gone: nobody can ask us to stop any more, so stop now.
                return;
            }
        }
    }

    /// A failed attempt: retried after the backoff, or given up when the attempts are
    /// spent. `attempts` counts this one (the store adds it).
    fn retry(&self, msg: &OutboxMessage, reason: &str) -> Outcome {
        let attempts = msg.attempts.saturating_add(1);
        let max = self.config.retry.get_max_attempts().max(1);
        if attempts >= max {
            return failed(format!("{reason} (gave up after {attempts} attempts)"));
        }
        let delay = meta_core::retry::backoff_cap(&self.config.retry, attempts);
        Outcome::Finish(OutboxUpdate::Failed {
            reason: reason.to_owned(),
            retry_at_ms: Some(self.now_ms().saturating_add(duration_ms(delay))),
        })
    }

    fn is_fresh(&self, read_at: Duration) -> bool {
        self.clock.elapsed().saturating_sub(read_at) < self.config.kill_switch_refresh
    }

    async fn shop(&self, id: &str, cache: &mut TickCache) -> Result<Option<Shop>, StoreError> {
        if let Some(c) = cache.shops.get(id)
            && self.is_fresh(c.read_at)
        {
            return Ok(c.value.clone());
        }
        let value = self.store.shop(id).await?;
        let read_at = self.clock.elapsed();
        cache.shops.insert(
            id.to_owned(),
            Cached {
                value: value.clone(),
                read_at,
            },
        );
        Ok(value)
    }

    async fn live(&self, id: &str, cache: &mut TickCache) -> Result<Option<Live>, StoreError> {
        if let Some(c) = cache.lives.get(id)
            && self.is_fresh(c.read_at)
        {
            return Ok(c.value.clone());
        }
        let value = self.store.live(id).await?;
        let read_at = self.clock.elapsed();
        cache.lives.insert(
            id.to_owned(),
            Cached {
                value: value.clone(),
                read_at,
            },
        );
        Ok(value)
    }

    async fn buyer(
        &self,
        shop_id: &str,
        buyer_id: &str,
        cache: &mut TickCache,
    ) -> Result<Option<Buyer>, StoreError> {
        let key = (shop_id.to_owned(), buyer_id.to_owned());
        if let Some(b) = cache.buyers.get(&key) {
            return Ok(b.clone());
        }
        let value = self.store.buyer(shop_id, buyer_id).await?;
        cache.buyers.insert(key, value.clone());
        Ok(value)
    }

    /// The checks made right before a send: the shop (whose Page sends), its kill
    /// switch, the live's, and the buyer's opt-out. `Ok(shop)` when the send may go on.
    async fn gate(&self, msg: &OutboxMessage, cache: &mut TickCache) -> Result<Shop, Outcome> {
        let shop = match self.shop(&msg.shop_id, cache).await {
            Ok(Some(s)) => s,
            Ok(None) => return Err(failed(format!("unknown shop {}", msg.shop_id))),
            Err(e) => return Err(self.retry(msg, &format!("store: {e}"))),
        };
        if shop.kill_switch {
            return Err(suppressed(REASON_KILL_SWITCH));
        }
        if let Some(live_id) = &msg.live_id {
            match self.live(live_id, cache).await {
                Ok(Some(l)) if l.kill_switch => return Err(suppressed(REASON_KILL_SWITCH)),
                Ok(Some(_)) => {}
                Ok(None) => return Err(failed(format!("unknown live {live_id}"))),
                Err(e) => return Err(self.retry(msg, &format!("store: {e}"))),
            }
        }
        match self.buyer(&msg.shop_id, &msg.buyer_id, cache).await {
            Ok(Some(b)) if b.opted_out || b.anonymized => Err(suppressed(REASON_OPTED_OUT)),
            Ok(_) => Ok(shop),
            Err(e) => Err(self.retry(msg, &format!("store: {e}"))),
        }
    }

    async fn handle(&self, msg: &OutboxMessage, cache: &mut TickCache) -> Outcome {
        if msg
            .lease_until_ms
            .is_some_and(|until| self.now_ms() >= until)
        {
            return Outcome::Abandon("lease ran out before the send");
        }
        let mut shop = match self.gate(msg, cache).await {
            Ok(s) => s,
            Err(o) => return o,
        };
        let comment_id = match (msg.kind, msg.comment_id.as_deref()) {
            (OutboxKind::Message, _) => "",
            (_, Some(c)) => c,
            (kind, None) => return failed(format!("{kind} without a comment id")),
        };
        // Checked on the text as enqueued, before any payment link is made for it.
        if msg.kind == OutboxKind::PublicReply && !public_text_allowed(&msg.text) {
            return failed(PUBLIC_TEXT_REFUSAL);
        }
        let mut text = msg.text.clone();
        if text.contains(PAYMENT_LINK_PLACEHOLDER) {
            let Some(order_id) = msg.order_id.as_deref() else {
                return failed("payment link placeholder without an order");
            };
            match self.links.payment_link(order_id).await {
                Ok(Some(url)) => text = text.replace(PAYMENT_LINK_PLACEHOLDER, &url),
                Ok(None) => return suppressed(REASON_ORDER_CLOSED),
                Err(e) => return self.retry(msg, &format!("payment link: {e}")),
            }
            // Making the link may have taken a while: look at the switches again.
            shop = match self.gate(msg, cache).await {
                Ok(s) => s,
                Err(o) => return o,
            };
        }
        let page_id = shop.page_id.as_str();
        let sent = match msg.kind {
            OutboxKind::PublicReply => self.sender.public_reply(page_id, comment_id, &text).await,
            OutboxKind::PrivateReply => {
                let created = match self.store.inbox_comment(comment_id).await {
                    Ok(Some(c)) => from_unix_ms(c.created_time_ms),
                    Ok(None) => return failed(format!("comment {comment_id} is not in the inbox")),
                    Err(e) => return self.retry(msg, &format!("store: {e}")),
                };
                self.sender
                    .private_reply(page_id, comment_id, created, &text)
                    .await
            }
            OutboxKind::Message => self.sender.message(page_id, &msg.buyer_id, &text).await,
        };
        match sent {
            Ok(graph_id) => Outcome::Finish(OutboxUpdate::Sent { graph_id }),
            Err(SendError::Policy(reason)) => suppressed(reason),
            Err(SendError::Transient(reason)) => self.retry(msg, &reason),
            Err(SendError::Permanent(reason)) => failed(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_in_milliseconds() {
        let t = UNIX_EPOCH + Duration::from_millis(1_780_000_000_123);
        assert_eq!(unix_ms(t), 1_780_000_000_123);
        assert_eq!(from_unix_ms(1_780_000_000_123), t);
        assert_eq!(from_unix_ms(-5), UNIX_EPOCH);
    }

    #[test]
    fn default_backoff_doubles_to_its_cap_and_gives_up() {
        let c = DispatchConfig::default();
        let caps: Vec<u64> = (1..=8)
            .map(|a| meta_core::retry::backoff_cap(&c.retry, a).as_secs())
            .collect();
        assert_eq!(caps, [5, 10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(c.retry.get_max_attempts(), 8);
        assert!(c.kill_switch_refresh.is_zero());
    }
}
