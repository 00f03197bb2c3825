//! The live-sale engine: webhook → inbox → classify → reserve → order → outbox, and
//! the settlements that follow (payment, expiry, cancel, restock, opt-out, deletion).
//!
//! Every step reads top to bottom in one module:
//! - [`ingest`](Engine::ingest_webhook) (`ingest.rs`): signature, parse, durable inbox
//!   keyed by comment id, Messenger inbound messages for the 24-hour window.
//! - [`process_pending`](Engine::process_pending) (`process.rs`): one batch of pending
//!   comments in one transaction — classify, lock, reserve first come first served by
//!   the comment's `created_time`, waitlist when short, one open order per buyer per
//!   live (and currency), audit every decision, enqueue the replies.
//! - `settle.rs`: holds that expire, payments (including the race with expiry),
//!   restocks and waitlist promotion, reminders, opt-out and data deletion.
//!
//! Transactions lock orders before stock, everywhere, so two of them never wait on
//! each other in a cycle; a `Conflict` from the store (a lost race on the unique
//! open-order key, a PostgreSQL serialization failure) re-runs the whole unit.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use meta_core::clock::Clock;
use meta_core::webhook::Verifier;
use meta_graph::messenger::policy::MessagingGuard;
use meta_graph::store::{IdGenerator, UuidV7Ids, to_ms};
use serde::Serialize;
use tokio::sync::Notify;

use crate::catalog::{Catalog, CsvImportError};
use crate::classify::{IntentClassifier, RulesClassifier};
use crate::payments::{PaymentError, PaymentRouter, RouteError};
use crate::store::{CommerceStore, Live, Shop, StoreError};

mod ingest;
mod process;
mod settle;
pub mod texts;

pub use ingest::IngestReport;
pub use process::ProcessReport;
pub use settle::PaymentOutcome;

/// How long a live read from the store is trusted: closing a live in this process
/// takes effect at once, in another process (several servers) within this time.
const LIVE_CACHE_TTL: Duration = Duration::from_secs(10);

/// Tuning knobs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EngineConfig {
    /// Comments per processing transaction.
    pub batch_size: usize,
    /// Remind buyers this long before their hold ends.
    pub reminder_before_ms: i64,
    /// How many times a transaction is re-run after a store conflict.
    pub max_tx_retries: u32,
    /// How often the worker looks for work when not woken by an ingest.
    pub worker_interval: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            batch_size: 500,
            reminder_before_ms: 10 * 60 * 1000,
            max_tx_retries: 8,
            worker_interval: Duration::from_millis(250),
        }
    }
}

impl EngineConfig {
    /// Sets the batch size (at least 1).
    #[must_use]
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }
    /// Sets the reminder lead time.
    #[must_use]
    pub fn reminder_before(mut self, d: Duration) -> Self {
        self.reminder_before_ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        self
    }
    /// Sets the worker's polling interval.
    #[must_use]
    pub fn worker_interval(mut self, d: Duration) -> Self {
        self.worker_interval = d;
        self
    }
}

/// Why an engine call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// A Meta webhook without a valid `X-Hub-Signature-256`: nothing was stored.
    #[error("webhook signature rejected: {0}")]
    Signature(String),
    /// A webhook body that is not a webhook envelope.
    #[error("malformed webhook: {0}")]
    Parse(String),
    /// The engine was built without something this call needs (app secret, payments).
    #[error("not configured: {0}")]
    Config(String),
    /// A catalog CSV with bad rows: nothing was imported.
    #[error(transparent)]
    Catalog(#[from] CsvImportError),
    /// Bad input from a caller (empty SKU, zero quantity).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// No such shop.
    #[error("unknown shop `{0}`")]
    UnknownShop(String),
    /// No such live.
    #[error("unknown live `{0}`")]
    UnknownLive(String),
    /// No such order.
    #[error("unknown order `{0}`")]
    UnknownOrder(String),
    /// No such SKU.
    #[error("unknown SKU `{0}`")]
    UnknownSku(String),
    /// No payment gateway by that name.
    #[error("unknown payment gateway `{0}`")]
    UnknownGateway(String),
    /// A payment provider failed.
    #[error(transparent)]
    Payment(#[from] PaymentError),
    /// No gateway could create a link.
    #[error(transparent)]
    Route(#[from] RouteError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl EngineError {
    /// The HTTP status an adapter should answer with.
    #[must_use]
    pub fn status_hint(&self) -> u16 {
        match self {
            EngineError::Signature(_) => 401,
            EngineError::Parse(_) | EngineError::Catalog(_) | EngineError::Invalid(_) => 400,
            EngineError::UnknownShop(_)
            | EngineError::UnknownLive(_)
            | EngineError::UnknownOrder(_)
            | EngineError::UnknownSku(_)
            | EngineError::UnknownGateway(_) => 404,
            EngineError::Payment(e)
                if e.kind == crate::payments::PaymentErrorKind::InvalidSignature =>
            {
                401
            }
            EngineError::Payment(e) if e.kind == crate::payments::PaymentErrorKind::NotFound => 404,
            EngineError::Payment(_) | EngineError::Route(_) => 502,
            EngineError::Config(_) => 500,
            EngineError::Store(_) => 503,
        }
    }

    /// A short machine-readable code.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::Signature(_) => "invalid_signature",
            EngineError::Parse(_) => "malformed_payload",
            EngineError::Config(_) => "not_configured",
            EngineError::Catalog(_) => "invalid_catalog",
            EngineError::Invalid(_) => "invalid_input",
            EngineError::UnknownShop(_) => "unknown_shop",
            EngineError::UnknownLive(_) => "unknown_live",
            EngineError::UnknownOrder(_) => "unknown_order",
            EngineError::UnknownSku(_) => "unknown_sku",
            EngineError::UnknownGateway(_) => "unknown_gateway",
            EngineError::Payment(_) => "payment_provider",
            EngineError::Route(_) => "no_gateway",
            EngineError::Store(_) => "store_unavailable",
        }
    }
}

/// What a catalog import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Products imported or updated.
    pub products: usize,
    /// Total units declared.
    pub units: u64,
}

/// What one [`Engine::tick`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TickReport {
    /// Comments processed (all outcomes).
    pub processed: usize,
    /// Holds expired.
    pub expired: usize,
    /// Reminders enqueued.
    pub reminders: usize,
}

/// Counters since the engine started (cheap atomics, read by status pages and the demo).
#[derive(Debug, Default)]
pub struct EngineStats {
    /// Comments written to the inbox.
    pub ingested: AtomicU64,
    /// Redelivered or duplicate comments ignored.
    pub duplicates: AtomicU64,
    /// Comments processed.
    pub processed: AtomicU64,
    /// Purchases that reserved at least one unit.
    pub reservations: AtomicU64,
    /// Transactions re-run after a conflict.
    pub tx_retries: AtomicU64,
}

/// The engine. Build with [`Engine::builder`]; share as `Arc<Engine>`.
pub struct Engine {
    store: Arc<dyn CommerceStore>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    classifier: Arc<dyn IntentClassifier>,
    verifier: Option<Verifier>,
    guard: Option<Arc<MessagingGuard>>,
    payments: Option<Arc<PaymentRouter>>,
    config: EngineConfig,
    catalogs: RwLock<HashMap<String, Arc<Catalog>>>,
    /// Lives by video post id, with when they were read (monotonic clock time).
    lives: RwLock<HashMap<String, (Live, Duration)>>,
    notify: Notify,
    stats: EngineStats,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("store", &self.store)
            .field("classifier", &self.classifier.name())
            .field("verifier", &self.verifier.is_some())
            .field("payments", &self.payments.is_some())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Builds an [`Engine`].
#[derive(Debug)]
pub struct EngineBuilder {
    store: Arc<dyn CommerceStore>,
    clock: Arc<dyn Clock>,
    ids: Option<Arc<dyn IdGenerator>>,
    classifier: Option<Arc<dyn IntentClassifier>>,
    verifier: Option<Verifier>,
    guard: Option<Arc<MessagingGuard>>,
    payments: Option<Arc<PaymentRouter>>,
    config: EngineConfig,
}

impl EngineBuilder {
    /// The intent classifier (default: the built-in [`RulesClassifier`]).
    #[must_use]
    pub fn classifier(mut self, c: Arc<dyn IntentClassifier>) -> Self {
        self.classifier = Some(c);
        self
    }
    /// Id generation (default: UUIDv7 on the engine's clock).
    #[must_use]
    pub fn ids(mut self, ids: Arc<dyn IdGenerator>) -> Self {
        self.ids = Some(ids);
        self
    }
    /// The Meta app secret's verifier: required by [`Engine::ingest_webhook`].
    #[must_use]
    pub fn verifier(mut self, v: Verifier) -> Self {
        self.verifier = Some(v);
        self
    }
    /// The messaging guard to record buyers' own messages in (opens the 24-hour window).
    #[must_use]
    pub fn guard(mut self, g: Arc<MessagingGuard>) -> Self {
        self.guard = Some(g);
        self
    }
    /// The payment router (payment links and provider webhooks).
    #[must_use]
    pub fn payments(mut self, p: Arc<PaymentRouter>) -> Self {
        self.payments = Some(p);
        self
    }
    /// Tuning.
    #[must_use]
    pub fn config(mut self, c: EngineConfig) -> Self {
        self.config = c;
        self
    }
    /// The engine.
    #[must_use]
    pub fn build(self) -> Arc<Engine> {
        let ids = self
            .ids
            .unwrap_or_else(|| Arc::new(UuidV7Ids::new(self.clock.clone())));
        Arc::new(Engine {
            store: self.store,
            clock: self.clock,
            ids,
            classifier: self
                .classifier
                .unwrap_or_else(|| Arc::new(RulesClassifier::new())),
            verifier: self.verifier,
            guard: self.guard,
            payments: self.payments,
            config: self.config,
            catalogs: RwLock::new(HashMap::new()),
            lives: RwLock::new(HashMap::new()),
            notify: Notify::new(),
            stats: EngineStats::default(),
        })
    }
}

impl Engine {
    /// A builder over `store`, on `clock`.
    #[must_use]
    pub fn builder(store: Arc<dyn CommerceStore>, clock: Arc<dyn Clock>) -> EngineBuilder {
        EngineBuilder {
            store,
            clock,
            ids: None,
            classifier: None,
            verifier: None,
            guard: None,
            payments: None,
            config: EngineConfig::default(),
        }
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn CommerceStore> {
        &self.store
    }
    /// The clock.
    #[must_use]
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
    /// The payment router, when configured.
    #[must_use]
    pub fn payments(&self) -> Option<&Arc<PaymentRouter>> {
        self.payments.as_ref()
    }
    /// The messaging guard, when configured.
    #[must_use]
    pub fn guard(&self) -> Option<&Arc<MessagingGuard>> {
        self.guard.as_ref()
    }
    /// The classifier.
    #[must_use]
    pub fn classifier(&self) -> &Arc<dyn IntentClassifier> {
        &self.classifier
    }
    /// Counters.
    #[must_use]
    pub fn stats(&self) -> &EngineStats {
        &self.stats
    }
    /// Notified after an ingest wrote new comments (the worker waits on it).
    #[must_use]
    pub fn inbox_notify(&self) -> &Notify {
        &self.notify
    }

    /// Runs one transactional unit, re-running it after a store conflict (a lost race on
    /// the unique open-order key, a PostgreSQL serialization failure or deadlock) up to
    /// `max_tx_retries` times. Returns the unit's result and how many re-runs it took.
    pub(crate) async fn with_retries<T, F, Fut>(
        &self,
        mut unit: F,
    ) -> Result<(T, usize), EngineError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, EngineError>>,
    {
        let mut attempt = 0;
        loop {
            match unit().await {
                Ok(v) => return Ok((v, attempt as usize)),
                Err(EngineError::Store(e))
                    if e.is_conflict() && attempt < self.config.max_tx_retries =>
                {
                    attempt += 1;
                    self.stats.tx_retries.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub(crate) fn now_ms(&self) -> i64 {
        to_ms(self.clock.now())
    }

    pub(crate) fn new_id(&self) -> String {
        self.ids.new_id()
    }

    // ---------------------------------------------------------------- set-up

    /// Creates or replaces a shop.
    ///
    /// # Errors
    /// [`EngineError::Invalid`] for an empty id; the store's error.
    pub async fn put_shop(&self, shop: &Shop) -> Result<(), EngineError> {
        if shop.id.is_empty() || shop.page_id.is_empty() {
            return Err(EngineError::Invalid(
                "a shop needs an id and a Page id".into(),
            ));
        }
        self.store.put_shop(shop).await?;
        Ok(())
    }

    /// Imports a catalog CSV for a shop: all rows or none.
    ///
    /// # Errors
    /// [`EngineError::Catalog`] listing every bad row (nothing imported);
    /// [`EngineError::UnknownShop`].
    pub async fn import_catalog_csv(
        &self,
        shop_id: &str,
        csv: &[u8],
    ) -> Result<ImportReport, EngineError> {
        let catalog = Catalog::from_csv(csv)?;
        self.import_catalog(shop_id, &catalog).await
    }

    /// Imports a parsed catalog for a shop.
    ///
    /// # Errors
    /// [`EngineError::UnknownShop`]; the store's error.
    pub async fn import_catalog(
        &self,
        shop_id: &str,
        catalog: &Catalog,
    ) -> Result<ImportReport, EngineError> {
        if self.store.shop(shop_id).await?.is_none() {
            return Err(EngineError::UnknownShop(shop_id.to_owned()));
        }
        self.store
            .import_products(shop_id, catalog.products())
            .await?;
        self.invalidate_catalog(shop_id);
        Ok(ImportReport {
            products: catalog.len(),
            units: catalog.products().iter().map(|p| u64::from(p.stock)).sum(),
        })
    }

    fn invalidate_catalog(&self, shop_id: &str) {
        if let Ok(mut g) = self.catalogs.write() {
            g.remove(shop_id);
        }
    }

    /// The shop's catalog as classifiers see it (cached until the next import).
    ///
    /// # Errors
    /// The store's error.
    pub async fn catalog(&self, shop_id: &str) -> Result<Arc<Catalog>, EngineError> {
        if let Ok(g) = self.catalogs.read()
            && let Some(c) = g.get(shop_id)
        {
            return Ok(c.clone());
        }
        let rows = self.store.products(shop_id).await?;
        let catalog = Catalog::new(rows.into_iter().map(|r| r.product).collect())
            .map_err(|e| EngineError::Invalid(e.to_string()))?;
        let catalog = Arc::new(catalog);
        if let Ok(mut g) = self.catalogs.write() {
            g.insert(shop_id.to_owned(), catalog.clone());
        }
        Ok(catalog)
    }

    /// Opens a live on a shop's video post.
    ///
    /// # Errors
    /// [`EngineError::UnknownShop`]; the store's error.
    pub async fn open_live(
        &self,
        shop_id: &str,
        post_id: &str,
        title: &str,
    ) -> Result<Live, EngineError> {
        if self.store.shop(shop_id).await?.is_none() {
            return Err(EngineError::UnknownShop(shop_id.to_owned()));
        }
        if post_id.is_empty() {
            return Err(EngineError::Invalid(
                "a live needs its video post id".into(),
            ));
        }
        if let Some(existing) = self.store.live_by_post(post_id).await? {
            return Ok(existing);
        }
        let live = Live::new(self.new_id(), shop_id, post_id, title, self.now_ms());
        self.store.put_live(&live).await?;
        Ok(live)
    }

    /// Closes a live: later comments are recorded but not turned into orders.
    ///
    /// # Errors
    /// [`EngineError::UnknownLive`]; the store's error.
    pub async fn close_live(&self, live_id: &str) -> Result<(), EngineError> {
        let mut live = self
            .store
            .live(live_id)
            .await?
            .ok_or_else(|| EngineError::UnknownLive(live_id.to_owned()))?;
        live.state = crate::store::LiveState::Closed;
        self.store.put_live(&live).await?;
        self.forget_live(&live.post_id);
        Ok(())
    }

    /// Sets a shop's kill switch: every outbound message stops at the dispatcher's next
    /// check (inbound is still recorded and processed).
    ///
    /// # Errors
    /// [`EngineError::UnknownShop`]; the store's error.
    pub async fn set_shop_kill_switch(&self, shop_id: &str, on: bool) -> Result<(), EngineError> {
        self.store
            .set_shop_kill_switch(shop_id, on)
            .await
            .map_err(|e| {
                if e.is_not_found() {
                    EngineError::UnknownShop(shop_id.to_owned())
                } else {
                    e.into()
                }
            })
    }

    /// Sets a live's kill switch.
    ///
    /// # Errors
    /// [`EngineError::UnknownLive`]; the store's error.
    pub async fn set_live_kill_switch(&self, live_id: &str, on: bool) -> Result<(), EngineError> {
        self.store
            .set_live_kill_switch(live_id, on)
            .await
            .map_err(|e| {
                if e.is_not_found() {
                    EngineError::UnknownLive(live_id.to_owned())
                } else {
                    e.into()
                }
            })?;
        if let Ok(mut g) = self.lives.write() {
            g.retain(|_, (l, _)| l.id != live_id);
        }
        Ok(())
    }

    fn forget_live(&self, post_id: &str) {
        if let Ok(mut g) = self.lives.write() {
            g.remove(post_id);
        }
    }

    /// The live on `post_id`, cached for [`LIVE_CACHE_TTL`] (a batch of comments on
    /// 1,000 lives must not cost 1,000 reads).
    pub(crate) async fn live_for_post(&self, post_id: &str) -> Result<Option<Live>, EngineError> {
        let now = self.clock.elapsed();
        if let Ok(g) = self.lives.read()
            && let Some((l, at)) = g.get(post_id)
            && now.saturating_sub(*at) < LIVE_CACHE_TTL
        {
            return Ok(Some(l.clone()));
        }
        let live = self.store.live_by_post(post_id).await?;
        if let Some(l) = &live
            && let Ok(mut g) = self.lives.write()
        {
            g.insert(post_id.to_owned(), (l.clone(), now));
        }
        Ok(live)
    }

    // ---------------------------------------------------------------- worker

    /// Processes pending comments until none is left, then expires due holds and
    /// enqueues due reminders.
    ///
    /// # Errors
    /// The first failing step's error.
    pub async fn tick(&self) -> Result<TickReport, EngineError> {
        let mut report = TickReport::default();
        loop {
            let r = self.process_pending().await?;
            report.processed += r.processed;
            if r.fetched == 0 {
                break;
            }
        }
        report.expired = self.expire_due().await?;
        report.reminders = self.enqueue_reminders().await?;
        Ok(report)
    }

    /// Runs [`tick`](Engine::tick) whenever an ingest notifies or every
    /// `worker_interval`, until `shutdown` turns true. Errors are logged and retried
    /// on the next round (the inbox keeps the work).
    pub async fn run_worker(self: Arc<Self>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            if let Err(e) = self.tick().await {
                tracing::warn!(error = %e, "commerce worker round failed; retrying");
            }
            tokio::select! {
                () = self.notify.notified() => {}
                () = self.clock.sleep(self.config.worker_interval) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

/// The dispatcher fills `{payment_link}` through the engine: the order's link for its
/// current contents, made on first use ([`Engine::ensure_payment_link`]).
impl crate::dispatch::LinkResolver for Engine {
    fn payment_link<'a>(&'a self, order_id: &'a str) -> crate::dispatch::LinkFuture<'a> {
        Box::pin(async move {
            self.ensure_payment_link(order_id)
                .await
                .map(|link| link.map(|l| l.url))
                .map_err(|e| e.to_string())
        })
    }
}
