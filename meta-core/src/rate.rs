//! The adaptive rate governor, shared by any number of clients.
//!
//! Meta enforces several budgets at once (see the Graph "Rate Limits" page): the
//! app's platform budget (`X-App-Usage`), per-object budgets (`X-Page-Usage`,
//! `X-Ad-Account-Usage`) and the business-use-case budgets (`X-Business-Use-Case-Usage`,
//! one per business object and use-case type). Each is a **scope** here:
//!
//! | scope | fed by | blocked by |
//! |---|---|---|
//! | `app:<app>` | `X-App-Usage` | codes 4 and 341, usage ≥ `stop_at` |
//! | `object:<id>` | `X-Page-Usage`, `X-Ad-Account-Usage` | codes 17, 32, 613, 80000–80099, IG 9/2207042; ad-account usage ≥ 100 % with `reset_time_duration`; usage ≥ `stop_at` |
//! | `buc:<id>:<type>` | `X-Business-Use-Case-Usage` | `estimated_time_to_regain_access` > 0, usage ≥ `stop_at` |
//!
//! Before each request, [`RateGovernor::acquire`] applies four layers in order:
//! 1. **blocks**: while any scope of the [`RateKey`] is blocked, wait for it to open
//!    (on the injected [`Clock`]), or refuse with [`RateLimitedError`] when the wait
//!    would exceed `max_wait`;
//! 2. **adaptive slowdown**: above `slow_down_at` percent, sleep a jittered delay that
//!    grows quadratically up to `max_slowdown` as usage approaches `stop_at`;
//! 3. **pacing** (optional): a steady rate per scope with a `governor` keyed limiter
//!    driven by the same clock;
//! 4. **concurrency**: a semaphore permit, held by the returned [`RatePermit`].
//!
//! After each response, the client feeds the usage headers to
//! [`RateGovernor::observe`] and throttle errors to [`RateGovernor::on_throttle`].
//! Blocks expire by the clock alone; a missing header never resets what is known.
//! No lock is held across an `.await`.

use std::collections::BTreeMap;
use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dashmap::DashMap;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::clock::{Clock, Jitter, SystemClock};
use crate::error::{ApiError, ConfigError, RateLimitedError, is_throttle};
use crate::usage::{AdAccountUsage, AppUsage, BucUsage, Usage};

/// How often (in acquisitions) idle scopes are pruned, so a long-running service
/// touching many objects does not keep every one of them forever.
const PRUNE_EVERY: u64 = 1024;

/// Settings of a [`RateGovernor`]. Usage thresholds are **percentages 0–100**, as Meta
/// reports them.
#[derive(Debug, Clone)]
pub struct RateLimitConfig {
    adaptive: bool,
    slow_down_at: f64,
    stop_at: f64,
    max_slowdown: Duration,
    default_block: Duration,
    max_wait: Duration,
    max_concurrency: usize,
    pace_per_second: Option<NonZeroU32>,
    usage_ttl: Duration,
}

impl RateLimitConfig {
    /// The standard governor: slow down from 75 % usage, treat 95 % as blocked,
    /// at most 5 s of slowdown per request, block 60 s when Meta throttles without a
    /// regain time, wait at most 15 minutes for a blocked scope, 32 requests in
    /// flight, no steady pacing, usage readings trusted for 1 hour.
    #[must_use]
    pub fn standard() -> Self {
        RateLimitConfig {
            adaptive: true,
            slow_down_at: 75.0,
            stop_at: 95.0,
            max_slowdown: Duration::from_secs(5),
            default_block: Duration::from_secs(60),
            max_wait: Duration::from_secs(15 * 60),
            max_concurrency: 32,
            pace_per_second: None,
            usage_ttl: Duration::from_secs(3600),
        }
    }

    /// A pass-through governor: no blocks, no slowdown, no pacing; only the
    /// concurrency cap (32) applies. Usage and throttles are still recorded, so
    /// [`RateGovernor::snapshot`] keeps working. Pacing can be turned back on with
    /// [`pace_per_second`](Self::pace_per_second).
    #[must_use]
    pub fn disabled() -> Self {
        RateLimitConfig {
            adaptive: false,
            ..RateLimitConfig::standard()
        }
    }

    /// Usage percentage (0–100) from which requests are slowed down (default 75.0).
    #[must_use]
    pub fn slow_down_at(mut self, pct: f64) -> Self {
        self.slow_down_at = pct;
        self
    }

    /// Usage percentage (0–100) treated as a block until the usage drops or the
    /// block passes (default 95.0).
    #[must_use]
    pub fn stop_at(mut self, pct: f64) -> Self {
        self.stop_at = pct;
        self
    }

    /// The longest slowdown added to one request, reached at `stop_at`
    /// (default 5 s).
    #[must_use]
    pub fn max_slowdown(mut self, d: Duration) -> Self {
        self.max_slowdown = d;
        self
    }

    /// How long a scope stays blocked when Meta throttles (or usage reaches
    /// `stop_at`) without saying for how long (default 60 s, the Standard-tier
    /// Marketing API block). Must be non-zero.
    #[must_use]
    pub fn default_block(mut self, d: Duration) -> Self {
        self.default_block = d;
        self
    }

    /// The longest [`RateGovernor::acquire`] waits for blocked scopes before it
    /// refuses with [`RateLimitedError`] (default 15 minutes; zero = never wait).
    #[must_use]
    pub fn max_wait(mut self, d: Duration) -> Self {
        self.max_wait = d;
        self
    }

    /// Requests in flight at once across every client sharing the governor
    /// (default 32; at least 1).
    #[must_use]
    pub fn max_concurrency(mut self, n: usize) -> Self {
        self.max_concurrency = n;
        self
    }

    /// A steady rate per scope (the key's object, or its app when it has none), with
    /// bursts up to the same number (default `None`: no pacing).
    #[must_use]
    pub fn pace_per_second(mut self, rate: Option<NonZeroU32>) -> Self {
        self.pace_per_second = rate;
        self
    }

    /// How long a usage reading slows requests down when no newer header arrives
    /// (default 1 hour, the app budget's rolling window). Must be non-zero.
    #[must_use]
    pub fn usage_ttl(mut self, d: Duration) -> Self {
        self.usage_ttl = d;
        self
    }

    /// Whether blocks and slowdowns apply (default `true`; `false` for
    /// [`RateLimitConfig::disabled`]).
    #[must_use]
    pub fn is_adaptive(&self) -> bool {
        self.adaptive
    }

    /// The slowdown threshold in percent (default 75.0).
    #[must_use]
    pub fn get_slow_down_at(&self) -> f64 {
        self.slow_down_at
    }

    /// The stop threshold in percent (default 95.0).
    #[must_use]
    pub fn get_stop_at(&self) -> f64 {
        self.stop_at
    }

    /// The longest slowdown per request (default 5 s).
    #[must_use]
    pub fn get_max_slowdown(&self) -> Duration {
        self.max_slowdown
    }

    /// The block used when Meta gives no regain time (default 60 s).
    #[must_use]
    pub fn get_default_block(&self) -> Duration {
        self.default_block
    }

    /// The longest wait for a blocked scope (default 15 minutes).
    #[must_use]
    pub fn get_max_wait(&self) -> Duration {
        self.max_wait
    }

    /// The concurrency cap (default 32).
    #[must_use]
    pub fn get_max_concurrency(&self) -> usize {
        self.max_concurrency
    }

    /// The steady pacing rate (default `None`).
    #[must_use]
    pub fn get_pace_per_second(&self) -> Option<NonZeroU32> {
        self.pace_per_second
    }

    /// How long a usage reading stays relevant (default 1 hour).
    #[must_use]
    pub fn get_usage_ttl(&self) -> Duration {
        self.usage_ttl
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// A [`ConfigError`] unless `0 ≤ slow_down_at < stop_at ≤ 100` (finite numbers),
    /// `1 ≤ max_concurrency ≤` tokio's semaphore limit, and `default_block` and
    /// `usage_ttl` are non-zero.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let (slow, stop) = (self.slow_down_at, self.stop_at);
        if !slow.is_finite() || !stop.is_finite() {
            return Err(ConfigError::new(format!(
                "rate limit thresholds must be finite percentages, got slow_down_at={slow}, stop_at={stop}"
            )));
        }
        if !(0.0..=100.0).contains(&slow) || !(0.0..=100.0).contains(&stop) {
            return Err(ConfigError::new(format!(
                "rate limit thresholds are percentages 0-100, got slow_down_at={slow}, stop_at={stop}"
            )));
        }
        if slow >= stop {
            return Err(ConfigError::new(format!(
                "rate limit slow_down_at ({slow}) must be below stop_at ({stop})"
            )));
        }
        if self.max_concurrency == 0 || self.max_concurrency > Semaphore::MAX_PERMITS {
            return Err(ConfigError::new(format!(
                "rate limit max_concurrency must be between 1 and {}, got {}",
                Semaphore::MAX_PERMITS,
                self.max_concurrency
            )));
        }
        if self.default_block.is_zero() {
            return Err(ConfigError::new(
                "rate limit default_block must be non-zero (use RateLimitConfig::disabled() to turn blocking off)",
            ));
        }
        if self.usage_ttl.is_zero() {
            return Err(ConfigError::new("rate limit usage_ttl must be non-zero"));
        }
        Ok(())
    }

    /// Forces every value into range, for the constructors that cannot fail.
    fn sanitized(mut self) -> Self {
        let standard = RateLimitConfig::standard();
        if !self.stop_at.is_finite() {
            self.stop_at = standard.stop_at;
        }
        if !self.slow_down_at.is_finite() {
            self.slow_down_at = standard.slow_down_at;
        }
        self.stop_at = self.stop_at.clamp(0.0, 100.0);
        self.slow_down_at = self.slow_down_at.clamp(0.0, self.stop_at);
        self.max_concurrency = self.max_concurrency.clamp(1, Semaphore::MAX_PERMITS);
        if self.default_block.is_zero() {
            self.default_block = standard.default_block;
        }
        if self.usage_ttl.is_zero() {
            self.usage_ttl = standard.usage_ttl;
        }
        self
    }
}

impl Default for RateLimitConfig {
    /// [`RateLimitConfig::standard`].
    fn default() -> Self {
        RateLimitConfig::standard()
    }
}

/// What a request is charged to: an app and, optionally, the business object it
/// targets (ad account, Page, IG account).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RateKey {
    app: String,
    object: Option<String>,
}

impl RateKey {
    /// A key for app-level calls. `app` is the app id, or any stable label of the
    /// budget; never put a token here, as keys appear in logs and snapshots.
    #[must_use]
    pub fn app(app: impl Into<String>) -> Self {
        RateKey {
            app: app.into(),
            object: None,
        }
    }

    /// Charges the request to a business object too. `act_123` is normalised to `123`
    /// so it matches the business ids Meta uses as `X-Business-Use-Case-Usage` keys;
    /// surrounding whitespace is trimmed and an empty id means "no object".
    #[must_use]
    pub fn with_object(mut self, id: impl Into<String>) -> Self {
        let id = normalise_object(&id.into());
        self.object = (!id.is_empty()).then_some(id);
        self
    }

    /// The app label.
    #[must_use]
    pub fn app_id(&self) -> &str {
        &self.app
    }

    /// The normalised object id, if any.
    #[must_use]
    pub fn object_id(&self) -> Option<&str> {
        self.object.as_deref()
    }

    /// The scope paced by [`RateLimitConfig::pace_per_second`]: the object when
    /// there is one, else the app.
    fn pacing_scope(&self) -> String {
        match &self.object {
            Some(o) => object_scope(o),
            None => app_scope(&self.app),
        }
    }
}

fn normalise_object(id: &str) -> String {
    let id = id.trim();
    match id.strip_prefix("act_") {
        Some(rest) if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) => {
            rest.to_owned()
        }
        _ => id.to_owned(),
    }
}

fn app_scope(app: &str) -> String {
    format!("app:{app}")
}

fn object_scope(id: &str) -> String {
    format!("object:{id}")
}

fn buc_scope(id: &str, use_case: &str) -> String {
    format!("buc:{id}:{use_case}")
}

/// One scope as the governor sees it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ScopeSnapshot {
    /// `app:<id>`, `object:<id>` or `buc:<id>:<type>`.
    pub scope: String,
    /// The last usage reported for the scope, in percent (0–100).
    pub usage_pct: Option<f64>,
    /// How long the scope stays blocked, when it is.
    pub blocked_for: Option<Duration>,
}

/// Counters since the governor was created (shared by every clone).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GovernorStats {
    /// Permits granted.
    pub acquired: u64,
    /// Acquisitions that had to sleep (block, slowdown or pacing).
    pub waited: u64,
    /// Total time slept in acquisitions.
    pub total_wait: Duration,
    /// Blocks started (by a throttle, a regain time or usage ≥ `stop_at`).
    pub blocks: u64,
    /// Acquisitions refused with [`RateLimitedError`].
    pub refused: u64,
}

/// A granted request slot. Keep it until the response is read; dropping it frees the
/// concurrency slot.
#[must_use = "dropping the permit at once frees the concurrency slot before the request runs"]
#[derive(Debug)]
pub struct RatePermit {
    _permit: Option<OwnedSemaphorePermit>,
    waited: Duration,
}

impl RatePermit {
    /// How long the acquisition slept on the clock (blocks, slowdown, pacing).
    #[must_use]
    pub fn waited(&self) -> Duration {
        self.waited
    }
}

/// The adaptive rate governor. Cheap to clone; clones (and every client given one)
/// share the same state.
#[derive(Clone)]
pub struct RateGovernor {
    inner: Arc<Inner>,
}

type Pacer = RateLimiter<String, DashMapStateStore<String>, GovClock, NoOpMiddleware<Nanos>>;

struct Inner {
    config: RateLimitConfig,
    clock: Arc<dyn Clock>,
    jitter: Arc<Jitter>,
    apps: DashMap<String, ScopeState>,
    objects: DashMap<String, ObjectState>,
    concurrency: Arc<Semaphore>,
    pacer: Option<Pacer>,
    counters: Counters,
}

#[derive(Debug, Default)]
struct Counters {
    acquired: AtomicU64,
    waited: AtomicU64,
    total_wait_nanos: AtomicU64,
    blocks: AtomicU64,
    refused: AtomicU64,
}

/// Adapts our [`Clock`] to governor's, so pacing follows a [`crate::clock::ManualClock`]
/// in tests exactly as it follows real time in production.
#[derive(Debug, Clone)]
struct GovClock(Arc<dyn Clock>);

impl governor::clock::Clock for GovClock {
    type Instant = Nanos;
    fn now(&self) -> Nanos {
        Nanos::new(saturating_nanos(self.0.elapsed()))
    }
}

fn saturating_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[derive(Debug, Default, Clone)]
struct ScopeState {
    usage_pct: Option<f64>,
    /// Clock time of the reading.
    usage_at: Duration,
    /// Clock time when the block ends.
    blocked_until: Option<Duration>,
}

impl ScopeState {
    fn record_usage(&mut self, pct: f64, now: Duration) {
        self.usage_pct = Some(pct);
        self.usage_at = now;
    }

    /// Extends the block to `until`; returns true when the scope was open before.
    fn block_until(&mut self, until: Duration, now: Duration) -> bool {
        let was_open = self.remaining_block(now).is_none();
        if self.blocked_until.is_none_or(|u| u < until) {
            self.blocked_until = Some(until);
        }
        was_open
    }

    fn remaining_block(&self, now: Duration) -> Option<Duration> {
        self.blocked_until.filter(|u| *u > now).map(|u| u - now)
    }

    /// The usage that should still slow requests down: a reading older than the
    /// TTL, or taken before a block that has since passed (the window moved on while
    /// we waited), no longer counts.
    fn live_usage(&self, now: Duration, ttl: Duration) -> Option<f64> {
        let pct = self.usage_pct?;
        if now.saturating_sub(self.usage_at) > ttl {
            return None;
        }
        if let Some(until) = self.blocked_until
            && until <= now
            && self.usage_at <= until
        {
            return None;
        }
        Some(pct)
    }

    fn is_idle(&self, now: Duration, ttl: Duration) -> bool {
        self.remaining_block(now).is_none()
            && (self.usage_pct.is_none() || now.saturating_sub(self.usage_at) > ttl)
    }

    fn has_data(&self) -> bool {
        self.usage_pct.is_some() || self.blocked_until.is_some()
    }

    fn snapshot(&self, scope: String, now: Duration) -> ScopeSnapshot {
        ScopeSnapshot {
            scope,
            usage_pct: self.usage_pct,
            blocked_for: self.remaining_block(now),
        }
    }
}

/// An object's own scope and its business-use-case scopes, keyed by type.
#[derive(Debug, Default)]
struct ObjectState {
    own: ScopeState,
    buc: BTreeMap<String, ScopeState>,
}

impl RateGovernor {
    /// A governor on the system clock with OS-seeded jitter. An invalid config is
    /// forced into range (see [`RateLimitConfig::validate`]) rather than rejected;
    /// use [`RateGovernor::try_new`] to get the error instead.
    #[must_use]
    pub fn new(config: RateLimitConfig) -> Self {
        RateGovernor::with_clock(
            config,
            Arc::new(SystemClock::default()),
            Arc::new(Jitter::from_entropy()),
        )
    }

    /// Like [`RateGovernor::new`], but rejects an invalid config.
    ///
    /// # Errors
    /// The [`ConfigError`] of [`RateLimitConfig::validate`].
    pub fn try_new(config: RateLimitConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(RateGovernor::new(config))
    }

    /// A governor on an injected clock and jitter source (tests use
    /// [`crate::clock::ManualClock`] and [`Jitter::seeded`]). An invalid config is
    /// forced into range, as in [`RateGovernor::new`].
    #[must_use]
    pub fn with_clock(config: RateLimitConfig, clock: Arc<dyn Clock>, jitter: Arc<Jitter>) -> Self {
        if let Err(e) = config.validate() {
            tracing::warn!(error = %e, "invalid rate limit config; values forced into range");
        }
        let config = config.sanitized();
        let pacer = config.pace_per_second.map(|rate| {
            RateLimiter::dashmap_with_clock(Quota::per_second(rate), GovClock(Arc::clone(&clock)))
        });
        RateGovernor {
            inner: Arc::new(Inner {
                concurrency: Arc::new(Semaphore::new(config.max_concurrency)),
                config,
                clock,
                jitter,
                apps: DashMap::new(),
                objects: DashMap::new(),
                pacer,
                counters: Counters::default(),
            }),
        }
    }

    /// The clock the governor waits on.
    #[must_use]
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The config in force (after range enforcement).
    #[must_use]
    pub fn config(&self) -> &RateLimitConfig {
        &self.inner.config
    }

    /// Waits until a request for `key` may be sent and returns its permit.
    ///
    /// Layers, in order: blocked scopes of the key (its app, its object, and every
    /// business-use-case scope of that object) are waited out; usage above
    /// `slow_down_at` adds a jittered slowdown; pacing (when configured) spaces
    /// requests per scope; finally a concurrency slot is taken. If a scope was
    /// blocked while the request queued for a slot, the slot is released and the
    /// wait starts again. Cancel-safe: dropping the future holds nothing.
    ///
    /// # Errors
    /// [`RateLimitedError`] naming the blocked scope and the time left, when waiting
    /// for blocks would exceed `max_wait` in total. Slowdown and pacing waits are
    /// short by construction and never refuse.
    pub async fn acquire(&self, key: &RateKey) -> Result<RatePermit, RateLimitedError> {
        let inner = &*self.inner;
        let adaptive = inner.config.adaptive;
        let mut blocked_wait = Duration::ZERO;
        let mut waited = Duration::ZERO;
        let mut slowed = !adaptive;
        loop {
            if adaptive {
                while let Some((scope, remaining)) = inner.longest_block(key) {
                    let total = blocked_wait.saturating_add(remaining);
                    if total > inner.config.max_wait {
                        inner.counters.refused.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(
                            scope = %scope,
                            retry_after = ?remaining,
                            max_wait = ?inner.config.max_wait,
                            "rate governor refused: scope blocked beyond max_wait"
                        );
                        return Err(RateLimitedError::new(scope, remaining));
                    }
                    tracing::debug!(scope = %scope, wait = ?remaining, "waiting for a blocked scope");
                    inner.clock.sleep(remaining).await;
                    blocked_wait = total;
                    waited = waited.saturating_add(remaining);
                }
            }
            if !slowed {
                slowed = true;
                if let Some((scope, pct, delay)) = inner.slowdown(key) {
                    tracing::debug!(scope = %scope, usage_pct = pct, delay = ?delay, "slowing down: high usage");
                    inner.clock.sleep(delay).await;
                    waited = waited.saturating_add(delay);
                    // A response may have blocked a scope while we slept.
                    continue;
                }
            }
            if let Some(pacer) = &inner.pacer {
                let scope = key.pacing_scope();
                let gov_clock = GovClock(Arc::clone(&inner.clock));
                while let Err(not_until) = pacer.check_key(&scope) {
                    use governor::clock::Clock as _;
                    // A deny always lies in the future; the floor only guards against
                    // spinning if a clock ever reports otherwise.
                    let wait = not_until
                        .wait_time_from(gov_clock.now())
                        .max(Duration::from_micros(1));
                    tracing::trace!(scope = %scope, wait = ?wait, "pacing");
                    inner.clock.sleep(wait).await;
                    waited = waited.saturating_add(wait);
                }
            }
            // The semaphore is never closed; should that ever change, running without
            // a slot beats failing the request.
            let permit = Arc::clone(&inner.concurrency).acquire_owned().await.ok();
            if adaptive && inner.longest_block(key).is_some() {
                drop(permit);
                continue;
            }
            let acquired = inner.counters.acquired.fetch_add(1, Ordering::Relaxed) + 1;
            if !waited.is_zero() {
                inner.counters.waited.fetch_add(1, Ordering::Relaxed);
                inner
                    .counters
                    .total_wait_nanos
                    .fetch_add(saturating_nanos(waited), Ordering::Relaxed);
            }
            if acquired.is_multiple_of(PRUNE_EVERY) {
                inner.prune();
            }
            return Ok(RatePermit {
                _permit: permit,
                waited,
            });
        }
    }

    /// Records the usage headers of a response to a request for `key`.
    ///
    /// `X-App-Usage` → the app scope; `X-Page-Usage` and `X-Ad-Account-Usage` → the
    /// key's object scope (ignored without an object: they cannot be attributed);
    /// each `X-Business-Use-Case-Usage` entry → its `buc:<id>:<type>` scope, blocked
    /// for `estimated_time_to_regain_access` when non-zero. An ad account at 100 %
    /// blocks the object for `reset_time_duration`. Usage at or above `stop_at`
    /// blocks the scope for Meta's regain time or `default_block`. Headers that are
    /// absent change nothing: missing is not zero.
    pub fn observe(&self, key: &RateKey, usage: &Usage) {
        let inner = &*self.inner;
        let now = inner.clock.elapsed();
        let cfg = &inner.config;

        if let Some(pct) = finite(usage.app.as_ref().and_then(AppUsage::max_pct)) {
            let scope = app_scope(&key.app);
            let mut state = inner.apps.entry(key.app.clone()).or_default();
            state.record_usage(pct, now);
            if pct >= cfg.stop_at {
                inner.block(
                    &mut state,
                    &scope,
                    cfg.default_block,
                    now,
                    "app usage at stop_at",
                );
            }
        }

        let page = finite(usage.page.as_ref().and_then(AppUsage::max_pct));
        let ad = usage.ad_account.as_ref();
        let ad_pct = finite(ad.and_then(|a| a.acc_id_util_pct));
        let object_pct = match (page, ad_pct) {
            (Some(p), Some(a)) => Some(p.max(a)),
            (p, a) => p.or(a),
        };
        if let Some(pct) = object_pct {
            match &key.object {
                Some(object) => {
                    let scope = object_scope(object);
                    let mut state = inner.objects.entry(object.clone()).or_default();
                    state.own.record_usage(pct, now);
                    let reset = ad.and_then(AdAccountUsage::reset_after);
                    if ad_pct.is_some_and(|p| p >= 100.0) || pct >= cfg.stop_at {
                        let (d, why) = match reset {
                            Some(r) => (r, "ad account reset_time_duration"),
                            None => (cfg.default_block, "object usage at stop_at"),
                        };
                        inner.block(&mut state.own, &scope, d, now, why);
                    }
                }
                None => tracing::debug!(
                    app = %key.app,
                    "object usage header on a request without an object; not attributed"
                ),
            }
        }

        for entry in &usage.business_use_case {
            inner.observe_buc(entry, now);
        }
    }

    /// Records a throttle response (`error` should be a throttle; anything else only
    /// has its usage recorded). Its usage headers are observed first.
    ///
    /// The wait is `error.retry_after()` (Meta's regain time) or, if absent, the
    /// ad account's `reset_time_duration` for object throttles, else `default_block`.
    /// Codes 4 and 341 block the app scope; 17, 32, 613, 80000–80099 and IG
    /// 9/2207042 block the key's object scope (its app scope when it has none), and
    /// every business-use-case scope in the headers with a regain time is blocked for
    /// that time.
    pub fn on_throttle(&self, key: &RateKey, error: &ApiError) {
        self.observe(key, error.usage());
        let inner = &*self.inner;
        let (code, subcode) = (error.code(), error.subcode());
        if !is_throttle(code, subcode) {
            tracing::debug!(
                code,
                ?subcode,
                "on_throttle called with a non-throttle error"
            );
            return;
        }
        let now = inner.clock.elapsed();
        let usage = error.usage();
        let app_level = matches!(code, 4 | 341);
        let wait = error
            .retry_after()
            .or_else(|| {
                (!app_level)
                    .then(|| {
                        usage
                            .ad_account
                            .as_ref()
                            .and_then(AdAccountUsage::reset_after)
                    })
                    .flatten()
            })
            .unwrap_or(inner.config.default_block);
        let why = "Meta throttle";
        match (&key.object, app_level) {
            (Some(object), false) => {
                let mut state = inner.objects.entry(object.clone()).or_default();
                inner.block(&mut state.own, &object_scope(object), wait, now, why);
            }
            _ => {
                let mut state = inner.apps.entry(key.app.clone()).or_default();
                inner.block(&mut state, &app_scope(&key.app), wait, now, why);
            }
        }
        if !app_level {
            // Already blocked by `observe` above; kept explicit so a BUC throttle
            // blocks its scopes even if observe's rules change.
            for entry in &usage.business_use_case {
                if let Some(regain) = entry.regain_after() {
                    let id = normalise_object(&entry.business_id);
                    let scope = buc_scope(&id, &entry.use_case);
                    let mut state = inner.objects.entry(id).or_default();
                    let buc = state.buc.entry(entry.use_case.clone()).or_default();
                    inner.block(buc, &scope, regain, now, why);
                }
            }
        }
    }

    /// Every scope the governor knows, sorted by name.
    #[must_use]
    pub fn snapshot(&self) -> Vec<ScopeSnapshot> {
        let inner = &*self.inner;
        let now = inner.clock.elapsed();
        let mut out: Vec<ScopeSnapshot> = inner
            .apps
            .iter()
            .filter(|e| e.value().has_data())
            .map(|e| e.value().snapshot(app_scope(e.key()), now))
            .collect();
        for e in &inner.objects {
            let (id, state) = (e.key(), e.value());
            if state.own.has_data() {
                out.push(state.own.snapshot(object_scope(id), now));
            }
            for (use_case, buc) in &state.buc {
                out.push(buc.snapshot(buc_scope(id, use_case), now));
            }
        }
        out.sort_by(|a, b| a.scope.cmp(&b.scope));
        out
    }

    /// Counters since creation.
    #[must_use]
    pub fn stats(&self) -> GovernorStats {
        let c = &self.inner.counters;
        GovernorStats {
            acquired: c.acquired.load(Ordering::Relaxed),
            waited: c.waited.load(Ordering::Relaxed),
            total_wait: Duration::from_nanos(c.total_wait_nanos.load(Ordering::Relaxed)),
            blocks: c.blocks.load(Ordering::Relaxed),
            refused: c.refused.load(Ordering::Relaxed),
        }
    }
}

impl fmt::Debug for RateGovernor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateGovernor")
            .field("config", &self.inner.config)
            .field("clock", &self.inner.clock)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Inner {
    /// Blocks one scope until `now + wait` (extending, never shortening, a block).
    fn block(&self, state: &mut ScopeState, scope: &str, wait: Duration, now: Duration, why: &str) {
        let until = now.saturating_add(wait);
        if state.block_until(until, now) {
            self.counters.blocks.fetch_add(1, Ordering::Relaxed);
            tracing::info!(scope = %scope, block = ?wait, reason = why, "rate governor blocked scope");
        } else {
            tracing::debug!(scope = %scope, block = ?wait, reason = why, "rate governor block extended");
        }
    }

    fn observe_buc(&self, entry: &BucUsage, now: Duration) {
        let id = normalise_object(&entry.business_id);
        let scope = buc_scope(&id, &entry.use_case);
        let pct = finite(entry.max_pct());
        let regain = entry.regain_after();
        if pct.is_none() && regain.is_none() {
            return;
        }
        let mut state = self.objects.entry(id).or_default();
        let buc = state.buc.entry(entry.use_case.clone()).or_default();
        if let Some(pct) = pct {
            buc.record_usage(pct, now);
        }
        match regain {
            Some(r) => self.block(buc, &scope, r, now, "estimated_time_to_regain_access"),
            None if pct.is_some_and(|p| p >= self.config.stop_at) => {
                self.block(
                    buc,
                    &scope,
                    self.config.default_block,
                    now,
                    "BUC usage at stop_at",
                );
            }
            None => {}
        }
    }

    /// Calls `f` with every known scope of `key` (app, object, the object's
    /// business-use-case scopes) and a lazy name for it. Holds map guards only for
    /// the duration of the call, which is synchronous.
    fn visit_scopes(&self, key: &RateKey, mut f: impl FnMut(&dyn Fn() -> String, &ScopeState)) {
        if let Some(s) = self.apps.get(&key.app) {
            f(&|| app_scope(&key.app), &s);
        }
        if let Some(object) = &key.object
            && let Some(s) = self.objects.get(object)
        {
            f(&|| object_scope(object), &s.own);
            for (use_case, buc) in &s.buc {
                f(&|| buc_scope(object, use_case), buc);
            }
        }
    }

    /// The scope of `key` that stays blocked longest, with the time left.
    fn longest_block(&self, key: &RateKey) -> Option<(String, Duration)> {
        let now = self.clock.elapsed();
        let mut worst: Option<(String, Duration)> = None;
        self.visit_scopes(key, |scope, state| {
            // On a tie the later, more specific scope names the cause best.
            if let Some(r) = state.remaining_block(now)
                && worst.as_ref().is_none_or(|(_, w)| r >= *w)
            {
                worst = Some((scope(), r));
            }
        });
        worst
    }

    /// The slowdown for `key`'s highest live usage, if it is at or above
    /// `slow_down_at`: `max_slowdown × ((usage − slow_down_at) / (stop_at − slow_down_at))²`,
    /// half of it fixed and half jittered so simultaneous callers spread out.
    fn slowdown(&self, key: &RateKey) -> Option<(String, f64, Duration)> {
        let now = self.clock.elapsed();
        let ttl = self.config.usage_ttl;
        let mut highest: Option<(String, f64)> = None;
        self.visit_scopes(key, |scope, state| {
            if let Some(p) = state.live_usage(now, ttl)
                && highest.as_ref().is_none_or(|(_, h)| p > *h)
            {
                highest = Some((scope(), p));
            }
        });
        let (scope, pct) = highest?;
        let (slow, stop) = (self.config.slow_down_at, self.config.stop_at);
        if pct < slow {
            return None;
        }
        let span = stop - slow;
        let fraction = if span > 0.0 {
            ((pct - slow) / span).clamp(0.0, 1.0)
        } else {
            1.0
        };
        let max = self.config.max_slowdown;
        let base = Duration::try_from_secs_f64(max.as_secs_f64() * fraction * fraction)
            .unwrap_or(max)
            .min(max);
        if base.is_zero() {
            return None;
        }
        let half = base / 2;
        let delay = half.saturating_add(self.jitter.up_to(base - half));
        Some((scope, pct, delay))
    }

    /// Drops scopes with no block and no live usage, and idle pacing cells.
    fn prune(&self) {
        let now = self.clock.elapsed();
        let ttl = self.config.usage_ttl;
        self.apps.retain(|_, s| !s.is_idle(now, ttl));
        self.objects.retain(|_, o| {
            o.buc.retain(|_, s| !s.is_idle(now, ttl));
            !(o.own.is_idle(now, ttl) && o.buc.is_empty())
        });
        if let Some(pacer) = &self.pacer {
            pacer.retain_recent();
        }
    }
}

/// Keeps only finite percentages: a NaN from a hand-built [`Usage`] must not poison
/// the comparisons.
fn finite(pct: Option<f64>) -> Option<f64> {
    pct.filter(|p| p.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use http::{HeaderMap, HeaderValue};

    fn governor(config: RateLimitConfig) -> (RateGovernor, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::default());
        let g = RateGovernor::with_clock(config, clock.clone(), Arc::new(Jitter::seeded(7)));
        (g, clock)
    }

    fn usage(headers: &[(&'static str, &str)]) -> Usage {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_str(value).expect("header"));
        }
        let u = Usage::from_headers(&map);
        assert!(u.problems.is_empty(), "{:?}", u.problems);
        u
    }

    fn buc_header(id: &str, kind: &str, call_count: u32, regain_minutes: u32) -> String {
        format!(
            r#"{{"{id}":[{{"type":"{kind}","call_count":{call_count},"total_cputime":10,"total_time":10,"estimated_time_to_regain_access":{regain_minutes}}}]}}"#
        )
    }

    fn app_header(pct: u32) -> String {
        format!(r#"{{"call_count":{pct},"total_cputime":10,"total_time":10}}"#)
    }

    fn key(object: &str) -> RateKey {
        RateKey::app("111").with_object(object)
    }

    #[tokio::test]
    async fn fresh_governor_does_not_wait() {
        let (g, clock) = governor(RateLimitConfig::standard());
        for _ in 0..100 {
            let p = g.acquire(&key("act_1")).await.expect("permit");
            assert_eq!(p.waited(), Duration::ZERO);
        }
        assert_eq!(clock.total_slept(), Duration::ZERO);
        let s = g.stats();
        assert_eq!((s.acquired, s.waited, s.blocks, s.refused), (100, 0, 0, 0));
    }

    #[tokio::test]
    async fn buc_regain_time_blocks_that_object_only() {
        let (g, clock) = governor(RateLimitConfig::standard());
        let ads = key("act_123");
        g.observe(
            &ads,
            &usage(&[(
                "x-business-use-case-usage",
                &buc_header("123", "ads_management", 100, 2),
            )]),
        );
        // Another object is not affected.
        let other = g.acquire(&key("act_456")).await.expect("permit");
        assert_eq!(other.waited(), Duration::ZERO);
        assert_eq!(clock.total_slept(), Duration::ZERO);

        let snap = g.snapshot();
        assert_eq!(snap.len(), 1);
        assert_eq!(snap[0].scope, "buc:123:ads_management");
        assert_eq!(snap[0].usage_pct, Some(100.0));
        assert_eq!(snap[0].blocked_for, Some(Duration::from_secs(120)));

        let permit = g.acquire(&ads).await.expect("passes after the block");
        assert_eq!(permit.waited(), Duration::from_secs(120));
        assert_eq!(clock.total_slept(), Duration::from_secs(120));
        // The stale 100 % reading does not add a slowdown after the block.
        let s = g.stats();
        assert_eq!((s.waited, s.blocks), (1, 1));
        assert_eq!(s.total_wait, Duration::from_secs(120));
        assert_eq!(g.snapshot()[0].blocked_for, None);
    }

    #[tokio::test]
    async fn app_usage_80_slows_down_within_bounds() {
        let (g, clock) = governor(RateLimitConfig::standard());
        let k = RateKey::app("111");
        g.observe(&k, &usage(&[("x-app-usage", &app_header(80))]));
        let p = g.acquire(&k).await.expect("permit");
        let slept = clock.total_slept();
        assert!(slept > Duration::ZERO);
        assert!(slept <= Duration::from_secs(5), "{slept:?}");
        assert_eq!(p.waited(), slept);
        // Quadratic: (80-75)/(95-75) = 0.25 → 5 s × 0.0625 = 312.5 ms, half jittered.
        assert!(slept >= Duration::from_micros(156_250), "{slept:?}");
        assert!(slept <= Duration::from_micros(312_500), "{slept:?}");
        // Below the threshold: nothing.
        let (g2, clock2) = governor(RateLimitConfig::standard());
        g2.observe(&k, &usage(&[("x-app-usage", &app_header(74))]));
        let _p = g2.acquire(&k).await.expect("permit");
        assert_eq!(clock2.total_slept(), Duration::ZERO);
    }

    #[tokio::test]
    async fn slowdown_grows_with_usage_and_reaches_max() {
        let cfg = RateLimitConfig::standard();
        let mut previous = Duration::ZERO;
        for pct in [80, 85, 90, 94] {
            let (g, clock) = governor(cfg.clone());
            let k = RateKey::app("111");
            g.observe(&k, &usage(&[("x-app-usage", &app_header(pct))]));
            let _p = g.acquire(&k).await.expect("permit");
            let base = Duration::from_secs(5).mul_f64(((f64::from(pct) - 75.0) / 20.0).powi(2));
            let slept = clock.total_slept();
            assert!(slept >= base / 2 && slept <= base, "{pct}%: {slept:?}");
            assert!(slept >= previous / 2);
            previous = slept;
        }
    }

    #[tokio::test]
    async fn usage_at_stop_at_blocks_default_block() {
        let (g, clock) = governor(RateLimitConfig::standard());
        let k = RateKey::app("111").with_object("999");
        g.observe(&k, &usage(&[("x-app-usage", &app_header(96))]));
        assert_eq!(g.snapshot()[0].scope, "app:111");
        assert_eq!(g.snapshot()[0].blocked_for, Some(Duration::from_secs(60)));
        let p = g.acquire(&k).await.expect("permit");
        assert_eq!(p.waited(), Duration::from_secs(60));
        assert_eq!(clock.total_slept(), Duration::from_secs(60));
        assert_eq!(g.stats().blocks, 1);
    }

    #[tokio::test]
    async fn max_wait_exceeded_refuses() {
        let cfg = RateLimitConfig::standard().max_wait(Duration::from_secs(60));
        let (g, clock) = governor(cfg);
        let k = key("act_123");
        g.observe(
            &k,
            &usage(&[(
                "x-business-use-case-usage",
                &buc_header("123", "ads_insights", 100, 5),
            )]),
        );
        let err = g.acquire(&k).await.expect_err("refused");
        assert_eq!(err.scope(), "buc:123:ads_insights");
        assert_eq!(err.retry_after(), Duration::from_secs(300));
        assert_eq!(clock.total_slept(), Duration::ZERO);
        assert_eq!(g.stats().refused, 1);
        assert_eq!(g.stats().acquired, 0);
        // Once time passes the scope opens again.
        clock.advance(Duration::from_secs(250));
        let p = g.acquire(&k).await.expect("permit");
        assert_eq!(p.waited(), Duration::from_secs(50));
    }

    #[tokio::test]
    async fn app_throttle_code_4_blocks_every_object() {
        let (g, clock) = governor(RateLimitConfig::standard());
        let err = ApiError::new(4, "(#4) Application request limit reached").with_http_status(400);
        g.on_throttle(&key("1"), &err);
        for (i, object) in ["1", "2", "act_3"].into_iter().enumerate() {
            let p = g.acquire(&key(object)).await.expect("permit");
            // Only the first acquisition waits; the block is over for the others.
            let expected = if i == 0 { 60 } else { 0 };
            assert_eq!(p.waited(), Duration::from_secs(expected), "{object}");
        }
        assert_eq!(clock.total_slept(), Duration::from_secs(60));
        let snap = g.snapshot();
        assert_eq!(snap.len(), 1);
        assert_eq!(snap[0].scope, "app:111");

        // The block applies to every object while it lasts.
        let (g, _) = governor(RateLimitConfig::standard().max_wait(Duration::ZERO));
        g.on_throttle(&key("1"), &ApiError::new(341, "limit"));
        for object in ["1", "2"] {
            let e = g.acquire(&key(object)).await.expect_err("blocked");
            assert_eq!(e.scope(), "app:111");
        }
        let e = g.acquire(&RateKey::app("111")).await.expect_err("blocked");
        assert_eq!(e.retry_after(), Duration::from_secs(60));
        // Another app is free.
        let _p = g.acquire(&RateKey::app("222")).await.expect("other app");
    }

    #[tokio::test]
    async fn buc_throttle_80004_uses_ad_account_reset_time() {
        let (g, clock) = governor(RateLimitConfig::standard());
        let k = key("act_42");
        let headers = usage(&[(
            "x-ad-account-usage",
            r#"{"acc_id_util_pct":99.5,"reset_time_duration":30,"ads_api_access_tier":"standard_access"}"#,
        )]);
        let err = ApiError::new(80_004, "There have been too many calls to this ad-account.")
            .with_subcode(2_446_079)
            .with_http_status(400)
            .with_usage(headers);
        g.on_throttle(&k, &err);
        let snap = g.snapshot();
        let object = snap.iter().find(|s| s.scope == "object:42").expect("scope");
        assert_eq!(object.blocked_for, Some(Duration::from_secs(30)));
        assert_eq!(object.usage_pct, Some(99.5));
        let p = g.acquire(&k).await.expect("permit");
        assert_eq!(p.waited(), Duration::from_secs(30));
        assert_eq!(clock.total_slept(), Duration::from_secs(30));
        // Other objects are free.
        let p = g.acquire(&key("act_43")).await.expect("permit");
        assert_eq!(p.waited(), Duration::ZERO);
    }

    #[tokio::test]
    async fn buc_throttle_blocks_the_buc_scopes_in_the_error() {
        let (g, clock) = governor(RateLimitConfig::standard().max_wait(Duration::ZERO));
        let k = key("555");
        let err = ApiError::new(80_001, "pages throttle")
            .with_subcode(2_446_079)
            .with_usage(usage(&[(
                "x-business-use-case-usage",
                &buc_header("555", "pages", 100, 3),
            )]));
        g.on_throttle(&k, &err);
        let e = g.acquire(&k).await.expect_err("blocked");
        assert_eq!(e.scope(), "buc:555:pages");
        assert_eq!(e.retry_after(), Duration::from_secs(180));
        let scopes: Vec<_> = g
            .snapshot()
            .into_iter()
            .map(|s| (s.scope, s.blocked_for))
            .collect();
        assert_eq!(
            scopes,
            vec![
                ("buc:555:pages".to_owned(), Some(Duration::from_secs(180))),
                ("object:555".to_owned(), Some(Duration::from_secs(180))),
            ]
        );
        assert_eq!(clock.total_slept(), Duration::ZERO);
    }

    #[tokio::test]
    async fn throttle_without_hint_uses_default_block_on_object_or_app() {
        let cfg = RateLimitConfig::standard().default_block(Duration::from_secs(90));
        let (g, _) = governor(cfg);
        g.on_throttle(&key("7"), &ApiError::new(32, "page limit"));
        g.on_throttle(&RateKey::app("222"), &ApiError::new(17, "user limit"));
        g.on_throttle(&key("8"), &ApiError::new(9, "ig").with_subcode(2_207_042));
        // Not a throttle: nothing is blocked.
        g.on_throttle(&key("9"), &ApiError::new(100, "bad param"));
        let scopes: Vec<_> = g
            .snapshot()
            .into_iter()
            .map(|s| (s.scope, s.blocked_for))
            .collect();
        let d = Some(Duration::from_secs(90));
        assert_eq!(
            scopes,
            vec![
                ("app:222".to_owned(), d),
                ("object:7".to_owned(), d),
                ("object:8".to_owned(), d),
            ]
        );
        assert_eq!(g.stats().blocks, 3);
    }

    #[tokio::test]
    async fn ad_account_full_blocks_for_reset_time() {
        let (g, clock) = governor(RateLimitConfig::standard());
        let k = key("act_77");
        g.observe(
            &k,
            &usage(&[(
                "x-ad-account-usage",
                r#"{"acc_id_util_pct":100,"reset_time_duration":45}"#,
            )]),
        );
        let _p = g.acquire(&k).await.expect("permit");
        assert_eq!(clock.total_slept(), Duration::from_secs(45));
    }

    #[tokio::test]
    async fn concurrency_cap_holds_third_caller_until_a_permit_drops() {
        let (g, _) = governor(RateLimitConfig::standard().max_concurrency(2));
        let k = key("1");
        let a = g.acquire(&k).await.expect("first");
        let _b = g.acquire(&k).await.expect("second");
        let (g2, k2) = (g.clone(), k.clone());
        let third = tokio::spawn(async move { g2.acquire(&k2).await.map(|p| p.waited()) });
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        assert!(!third.is_finished(), "third caller must wait for a slot");
        assert_eq!(g.stats().acquired, 2);
        drop(a);
        let waited = third.await.expect("task").expect("permit");
        assert_eq!(waited, Duration::ZERO);
        assert_eq!(g.stats().acquired, 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrency_cap_holds_across_threads() {
        use std::sync::atomic::AtomicUsize;
        let (g, _) = governor(RateLimitConfig::standard().max_concurrency(3));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..40)
            .map(|i| {
                let (g, in_flight, peak) = (g.clone(), in_flight.clone(), peak.clone());
                tokio::spawn(async move {
                    let permit = g
                        .acquire(&key(&format!("{}", i % 4)))
                        .await
                        .expect("permit");
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    for _ in 0..3 {
                        tokio::task::yield_now().await;
                    }
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    drop(permit);
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("task");
        }
        assert!(peak.load(Ordering::SeqCst) <= 3);
        assert_eq!(g.stats().acquired, 40);
    }

    #[tokio::test]
    async fn pacing_spaces_requests_on_the_manual_clock() {
        let rate = NonZeroU32::new(10).expect("non-zero");
        let (g, clock) = governor(RateLimitConfig::standard().pace_per_second(Some(rate)));
        let k = key("act_1");
        for _ in 0..30 {
            let _p = g.acquire(&k).await.expect("permit");
        }
        // A burst of 10, then 20 more at 100 ms each.
        let slept = clock.total_slept();
        assert!(
            slept >= Duration::from_millis(1_900) && slept <= Duration::from_millis(2_100),
            "{slept:?}"
        );
        // Pacing is per scope: another object starts with a full burst.
        let before = clock.total_slept();
        for _ in 0..10 {
            let _p = g.acquire(&key("act_2")).await.expect("permit");
        }
        assert_eq!(clock.total_slept(), before);
        assert_eq!(g.stats().acquired, 40);
    }

    #[tokio::test]
    async fn missing_headers_keep_old_usage() {
        let (g, clock) = governor(RateLimitConfig::standard());
        let k = RateKey::app("111");
        g.observe(&k, &usage(&[("x-app-usage", &app_header(85))]));
        g.observe(&k, &Usage::default());
        g.observe(
            &k,
            &usage(&[("x-ad-account-usage", r#"{"acc_id_util_pct":1}"#)]),
        );
        assert_eq!(g.snapshot()[0].usage_pct, Some(85.0));
        let _p = g.acquire(&k).await.expect("permit");
        assert!(
            clock.total_slept() > Duration::ZERO,
            "85 % still slows down"
        );
        // A newer reading replaces it.
        g.observe(&k, &usage(&[("x-app-usage", &app_header(10))]));
        let before = clock.total_slept();
        let _p = g.acquire(&k).await.expect("permit");
        assert_eq!(clock.total_slept(), before);
    }

    #[tokio::test]
    async fn old_usage_expires_after_ttl() {
        let (g, clock) = governor(RateLimitConfig::standard().usage_ttl(Duration::from_secs(600)));
        let k = RateKey::app("111");
        g.observe(&k, &usage(&[("x-app-usage", &app_header(90))]));
        clock.advance(Duration::from_secs(601));
        let _p = g.acquire(&k).await.expect("permit");
        assert_eq!(clock.total_slept(), Duration::ZERO);
    }

    #[tokio::test]
    async fn clones_share_state() {
        let (a, clock) = governor(RateLimitConfig::standard());
        let b = a.clone();
        let k = key("act_9");
        a.observe(
            &k,
            &usage(&[(
                "x-business-use-case-usage",
                &buc_header("9", "ads_management", 100, 1),
            )]),
        );
        let p = b.acquire(&k).await.expect("permit");
        assert_eq!(p.waited(), Duration::from_secs(60));
        assert_eq!(clock.total_slept(), Duration::from_secs(60));
        assert_eq!(a.stats(), b.stats());
        assert_eq!(a.snapshot(), b.snapshot());
    }

    #[tokio::test]
    async fn disabled_governor_only_caps_concurrency() {
        let (g, clock) = governor(RateLimitConfig::disabled().max_concurrency(1));
        let k = key("act_1");
        g.observe(&k, &usage(&[("x-app-usage", &app_header(99))]));
        g.on_throttle(&k, &ApiError::new(4, "limit"));
        let p = g.acquire(&k).await.expect("permit");
        assert_eq!(clock.total_slept(), Duration::ZERO);
        // Still recorded for diagnosis.
        assert!(g.snapshot().iter().any(|s| s.blocked_for.is_some()));
        let (g2, k2) = (g.clone(), k.clone());
        let second = tokio::spawn(async move { g2.acquire(&k2).await.is_ok() });
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(!second.is_finished());
        drop(p);
        assert!(second.await.expect("task"));
    }

    #[tokio::test]
    async fn block_appearing_while_queued_is_honoured() {
        let (g, clock) = governor(RateLimitConfig::standard().max_concurrency(1));
        let k = key("act_5");
        let first = g.acquire(&k).await.expect("first");
        let (g2, k2) = (g.clone(), k.clone());
        let second = tokio::spawn(async move { g2.acquire(&k2).await.map(|p| p.waited()) });
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        // The in-flight request comes back throttled before releasing its slot.
        g.on_throttle(&k, &ApiError::new(613, "too many calls"));
        drop(first);
        let waited = second.await.expect("task").expect("permit");
        assert_eq!(waited, Duration::from_secs(60));
        assert_eq!(clock.total_slept(), Duration::from_secs(60));
    }

    #[test]
    fn rate_key_normalises_ad_accounts() {
        let k = RateKey::app("111").with_object("act_123");
        assert_eq!(k.app_id(), "111");
        assert_eq!(k.object_id(), Some("123"));
        assert_eq!(k, RateKey::app("111").with_object(" 123 "));
        assert_eq!(
            RateKey::app("1").with_object("act_x").object_id(),
            Some("act_x")
        );
        assert_eq!(
            RateKey::app("1").with_object("act_").object_id(),
            Some("act_")
        );
        assert_eq!(RateKey::app("1").with_object("  ").object_id(), None);
        assert_eq!(RateKey::app("1").object_id(), None);
    }

    #[test]
    fn config_defaults() {
        let c = RateLimitConfig::default();
        assert!(c.is_adaptive());
        assert!((c.get_slow_down_at() - 75.0).abs() < f64::EPSILON);
        assert!((c.get_stop_at() - 95.0).abs() < f64::EPSILON);
        assert_eq!(c.get_max_slowdown(), Duration::from_secs(5));
        assert_eq!(c.get_default_block(), Duration::from_secs(60));
        assert_eq!(c.get_max_wait(), Duration::from_secs(900));
        assert_eq!(c.get_max_concurrency(), 32);
        assert_eq!(c.get_pace_per_second(), None);
        assert_eq!(c.get_usage_ttl(), Duration::from_secs(3600));
        assert!(c.validate().is_ok());
        let d = RateLimitConfig::disabled();
        assert!(!d.is_adaptive());
        assert!(d.validate().is_ok());
    }

    #[test]
    fn config_validation_errors() {
        let s = RateLimitConfig::standard;
        let bad = [
            (s().slow_down_at(-1.0), "0-100"),
            (s().stop_at(101.0), "0-100"),
            (s().slow_down_at(f64::NAN), "finite"),
            (s().stop_at(f64::INFINITY), "finite"),
            (s().slow_down_at(95.0), "below stop_at"),
            (s().slow_down_at(90.0).stop_at(80.0), "below stop_at"),
            (s().max_concurrency(0), "max_concurrency"),
            (s().max_concurrency(usize::MAX), "max_concurrency"),
            (s().default_block(Duration::ZERO), "default_block"),
            (s().usage_ttl(Duration::ZERO), "usage_ttl"),
        ];
        for (config, needle) in bad {
            let e = config.validate().expect_err("must be rejected");
            assert!(e.message().contains(needle), "{needle}: {}", e.message());
            assert!(RateGovernor::try_new(config.clone()).is_err());
            // The infallible constructor forces the values into range instead.
            let g = RateGovernor::with_clock(
                config,
                Arc::new(ManualClock::default()),
                Arc::new(Jitter::seeded(1)),
            );
            assert!(
                g.config().validate().is_ok()
                    || g.config().get_slow_down_at() == g.config().get_stop_at()
            );
        }
        let ok = s().slow_down_at(0.0).stop_at(100.0).max_concurrency(1);
        assert!(ok.validate().is_ok());
    }

    #[tokio::test]
    async fn sanitised_equal_thresholds_do_not_divide_by_zero() {
        let (g, clock) = governor(RateLimitConfig::standard().slow_down_at(95.0).stop_at(95.0));
        let k = RateKey::app("111");
        g.observe(&k, &usage(&[("x-app-usage", &app_header(90))]));
        let _p = g.acquire(&k).await.expect("permit");
        assert_eq!(clock.total_slept(), Duration::ZERO);
    }

    #[tokio::test]
    async fn prune_drops_idle_scopes() {
        let (g, clock) = governor(RateLimitConfig::standard());
        g.observe(&key("1"), &usage(&[("x-app-usage", &app_header(10))]));
        g.on_throttle(&key("2"), &ApiError::new(17, "x"));
        clock.advance(Duration::from_secs(7200));
        g.inner.prune();
        assert!(g.snapshot().is_empty());
    }
}
