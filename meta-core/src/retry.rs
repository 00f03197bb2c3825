//! The retry policy: a pure decision, a backoff schedule and a shared retry budget.
//!
//! The client runs one loop. After every attempt it asks [`classify`] what to do with
//! the outcome; the answer depends only on the [`RetryConfig`], the [`RetryContext`]
//! (how many attempts were made, whether the request is safe to repeat) and the
//! error's classification ([`ErrorKind`]). Keeping the decision pure means every row
//! of the policy is a table test, and the loop itself stays trivial:
//!
//! * [`RetryAction::Retry`] with [`RetryKind::Backoff`] → withdraw from the
//!   [`RetryBudget`], sleep [`backoff_delay`], try again;
//! * [`RetryAction::Retry`] with [`RetryKind::Throttle`] → the rate governor has
//!   already blocked the scope (see [`crate::rate::RateGovernor::on_throttle`]), so
//!   the next `acquire` waits for Meta's regain time; no extra backoff is needed;
//! * [`RetryAction::Stop`] → return the outcome to the caller.
//!
//! Meta's official SDKs never retry API errors and the Graph API has no idempotency
//! key, so a request that may have been applied (a POST that reached Meta) is only
//! retried when the caller marked it idempotent.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::clock::Jitter;
use crate::error::{ConfigError, Error, ErrorKind};

/// Tokens a retry withdraws from a [`RetryBudget`] (every kind but timeouts).
pub const RETRY_COST: u32 = 5;
/// Tokens a retry after a timeout withdraws: timeouts are the most expensive
/// failures for both sides, so they drain the budget twice as fast.
pub const TIMEOUT_RETRY_COST: u32 = 10;

/// How a client retries failed requests.
///
/// Build it from [`RetryConfig::standard`] (the [`Default`]) or
/// [`RetryConfig::disabled`] and adjust with the setters.
#[derive(Debug, Clone)]
pub struct RetryConfig {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    multiplier: f64,
    budget_capacity: u32,
    retry_non_idempotent: bool,
    max_throttle_wait: Duration,
}

impl RetryConfig {
    /// The standard policy: 4 attempts in total (the first try included), backoff
    /// starting at 500 ms and doubling up to 30 s with full jitter, a retry budget of
    /// 500 tokens, no retry of requests that are not idempotent, and throttles waited
    /// out for at most 15 minutes.
    #[must_use]
    pub fn standard() -> Self {
        RetryConfig {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            multiplier: 2.0,
            budget_capacity: 500,
            retry_non_idempotent: false,
            max_throttle_wait: Duration::from_secs(15 * 60),
        }
    }

    /// No retries at all: every request is tried once ([`RetryConfig::standard`]
    /// otherwise).
    #[must_use]
    pub fn disabled() -> Self {
        RetryConfig {
            max_attempts: 1,
            ..RetryConfig::standard()
        }
    }

    /// Total attempts, the first try included (default 4; 1 disables retries).
    /// `0` is rejected by [`validate`](Self::validate) and treated as 1 by
    /// [`classify`].
    #[must_use]
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n;
        self
    }

    /// The backoff cap before the first retry (default 500 ms); it grows by the
    /// [`multiplier`](Self::multiplier) for each further retry.
    #[must_use]
    pub fn initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }

    /// The largest backoff cap (default 30 s).
    #[must_use]
    pub fn max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }

    /// Growth factor of the backoff cap per retry (default 2.0; must be finite and
    /// at least 1.0, see [`validate`](Self::validate)).
    #[must_use]
    pub fn multiplier(mut self, m: f64) -> Self {
        self.multiplier = m;
        self
    }

    /// Capacity of the [`RetryBudget`] a client creates from this config
    /// (default 500 tokens, i.e. 100 retries, or 50 after timeouts, before a
    /// run of successes refills it). `0` means no retry is ever funded.
    #[must_use]
    pub fn budget_capacity(mut self, tokens: u32) -> Self {
        self.budget_capacity = tokens;
        self
    }

    /// Retries requests that are not marked idempotent too (default `false`).
    ///
    /// The Graph API has no idempotency key, so a retried POST may publish twice;
    /// only enable this when every write of the client is safe to repeat. A single
    /// request can opt in through [`RetryContext::idempotent`] instead.
    #[must_use]
    pub fn retry_non_idempotent(mut self, yes: bool) -> Self {
        self.retry_non_idempotent = yes;
        self
    }

    /// The longest throttle the policy waits out (default 15 minutes). When Meta's
    /// regain time is longer, [`classify`] stops with [`StopReason::WaitTooLong`]
    /// rather than parking the caller.
    #[must_use]
    pub fn max_throttle_wait(mut self, d: Duration) -> Self {
        self.max_throttle_wait = d;
        self
    }

    /// Total attempts, the first try included (default 4).
    #[must_use]
    pub fn get_max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The backoff cap before the first retry (default 500 ms).
    #[must_use]
    pub fn get_initial_backoff(&self) -> Duration {
        self.initial_backoff
    }

    /// The largest backoff cap (default 30 s).
    #[must_use]
    pub fn get_max_backoff(&self) -> Duration {
        self.max_backoff
    }

    /// Growth factor of the backoff cap (default 2.0).
    #[must_use]
    pub fn get_multiplier(&self) -> f64 {
        self.multiplier
    }

    /// Capacity of the retry budget (default 500 tokens).
    #[must_use]
    pub fn get_budget_capacity(&self) -> u32 {
        self.budget_capacity
    }

    /// Whether requests not marked idempotent are retried (default `false`).
    #[must_use]
    pub fn get_retry_non_idempotent(&self) -> bool {
        self.retry_non_idempotent
    }

    /// The longest throttle waited out (default 15 minutes).
    #[must_use]
    pub fn get_max_throttle_wait(&self) -> Duration {
        self.max_throttle_wait
    }

    /// True when this config never retries (`max_attempts` ≤ 1).
    #[must_use]
    pub fn is_disabled(&self) -> bool {
        self.max_attempts <= 1
    }

    /// A fresh [`RetryBudget`] with this config's capacity (default 500 tokens).
    #[must_use]
    pub fn new_budget(&self) -> RetryBudget {
        RetryBudget::new(self.budget_capacity)
    }

    /// Checks the values a setter cannot reject.
    ///
    /// # Errors
    /// A [`ConfigError`] when `max_attempts` is 0, the multiplier is not a finite
    /// number ≥ 1, or `initial_backoff` exceeds `max_backoff`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_attempts == 0 {
            return Err(ConfigError::new(
                "retry max_attempts must be at least 1 (1 disables retries)",
            ));
        }
        if !self.multiplier.is_finite() || self.multiplier < 1.0 {
            return Err(ConfigError::new(format!(
                "retry multiplier must be a finite number >= 1.0, got {}",
                self.multiplier
            )));
        }
        if self.initial_backoff > self.max_backoff {
            return Err(ConfigError::new(format!(
                "retry initial_backoff ({:?}) exceeds max_backoff ({:?})",
                self.initial_backoff, self.max_backoff
            )));
        }
        Ok(())
    }
}

impl Default for RetryConfig {
    /// [`RetryConfig::standard`].
    fn default() -> Self {
        RetryConfig::standard()
    }
}

/// What the policy knows about the request being retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryContext {
    /// Attempts already made, the one that just finished included (≥ 1).
    pub attempt: u32,
    /// True when repeating the request is harmless: GET and DELETE by default, a POST
    /// only when the caller marked it.
    pub idempotent: bool,
}

impl RetryContext {
    /// The context after the first attempt of a request.
    #[must_use]
    pub fn first(idempotent: bool) -> Self {
        RetryContext {
            attempt: 1,
            idempotent,
        }
    }

    /// The context after one more attempt.
    #[must_use]
    pub fn next(self) -> Self {
        RetryContext {
            attempt: self.attempt.saturating_add(1),
            ..self
        }
    }
}

/// The policy's answer for one outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryAction {
    /// Return the outcome to the caller.
    Stop(StopReason),
    /// Try again after the wait [`RetryKind`] describes.
    Retry(RetryKind),
}

impl RetryAction {
    /// True for [`RetryAction::Retry`].
    #[must_use]
    pub fn is_retry(&self) -> bool {
        matches!(self, RetryAction::Retry(_))
    }
}

/// Why the policy stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// The request succeeded.
    Success,
    /// The error cannot be fixed by repeating the request (auth, permission,
    /// invalid parameter, decode, configuration, a local governor refusal, …).
    NotRetryable,
    /// The error is transient but the request may already have been applied and is
    /// not marked idempotent.
    NotIdempotent,
    /// The error is retryable but `max_attempts` was reached.
    AttemptsExhausted,
    /// The error is retryable but retries are disabled (`max_attempts` = 1).
    Disabled,
    /// Meta's regain time exceeds [`RetryConfig::get_max_throttle_wait`].
    WaitTooLong,
}

/// How to wait before the next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryKind {
    /// A transient failure (Meta codes 1/2, `is_transient`, HTTP 5xx, network,
    /// timeout): exponential backoff with full jitter, see [`backoff_delay`].
    Backoff,
    /// Meta throttled the request, so it was not applied. The rate governor has
    /// blocked the scope; waiting on it (the next `acquire`) is the backoff.
    Throttle {
        /// Meta's regain time from the usage headers, when it gave one.
        hint: Option<Duration>,
    },
}

/// Decides what to do with one attempt's outcome. Pure: same input, same answer.
///
/// The rules, in order:
/// 1. `Ok` → [`StopReason::Success`].
/// 2. Errors that repeating cannot fix → [`StopReason::NotRetryable`]: re-auth,
///    permission, policy block, duplicate, invalid parameter, decode, config, other,
///    and a local [`Error::RateLimited`] (the governor already waited as long as it
///    was allowed to).
/// 3. Meta throttles → [`RetryKind::Throttle`] with Meta's regain time, for any
///    method (a throttled request was not applied), unless that time exceeds
///    `max_throttle_wait` ([`StopReason::WaitTooLong`]).
/// 4. Transient API errors, timeouts and transport errors after the connection was
///    made → [`RetryKind::Backoff`] when the request is idempotent (or the config
///    retries everything), else [`StopReason::NotIdempotent`]. A connect failure
///    never left this process, so it is retried whatever the method.
/// 5. A retry is then only granted while `ctx.attempt < max_attempts`, else
///    [`StopReason::Disabled`] (`max_attempts` ≤ 1) or
///    [`StopReason::AttemptsExhausted`]. Reasons of steps 2–4 win over this one, as
///    they explain more.
#[must_use]
pub fn classify(
    config: &RetryConfig,
    ctx: &RetryContext,
    outcome: Result<(), &Error>,
) -> RetryAction {
    let error = match outcome {
        Ok(()) => return RetryAction::Stop(StopReason::Success),
        Err(e) => e,
    };
    let idempotent = ctx.idempotent || config.retry_non_idempotent;
    let guarded = |retry: RetryKind| {
        if idempotent {
            RetryAction::Retry(retry)
        } else {
            RetryAction::Stop(StopReason::NotIdempotent)
        }
    };
    let wanted = match error.kind() {
        ErrorKind::Throttled => {
            let hint = error.retry_after();
            if hint.is_some_and(|h| h > config.max_throttle_wait) {
                RetryAction::Stop(StopReason::WaitTooLong)
            } else {
                RetryAction::Retry(RetryKind::Throttle { hint })
            }
        }
        ErrorKind::Network => match error {
            // The connection was never made, so nothing reached Meta.
            Error::Transport(t) if t.is_connect() => RetryAction::Retry(RetryKind::Backoff),
            _ => guarded(RetryKind::Backoff),
        },
        ErrorKind::Transient | ErrorKind::Timeout => guarded(RetryKind::Backoff),
        ErrorKind::RateLimited
        | ErrorKind::ReAuth
        | ErrorKind::Permission
        | ErrorKind::PolicyBlock
        | ErrorKind::Duplicate
        | ErrorKind::InvalidParameter
        | ErrorKind::Decode
        | ErrorKind::Config
        | ErrorKind::Other => RetryAction::Stop(StopReason::NotRetryable),
    };
    match wanted {
        RetryAction::Retry(_) if config.max_attempts <= 1 => {
            RetryAction::Stop(StopReason::Disabled)
        }
        RetryAction::Retry(_) if ctx.attempt >= config.max_attempts => {
            RetryAction::Stop(StopReason::AttemptsExhausted)
        }
        other => other,
    }
}

/// The wait before the next attempt after `attempt` attempts (≥ 1; 0 is read as 1):
/// full jitter, uniform in `[0, min(max_backoff, initial_backoff × multiplier^(attempt−1))]`.
///
/// Full jitter spreads the retries of many clients that failed together, which is
/// what keeps a recovering server from being hit by synchronised waves.
#[must_use]
pub fn backoff_delay(config: &RetryConfig, attempt: u32, jitter: &Jitter) -> Duration {
    jitter.up_to(backoff_cap(config, attempt))
}

/// The upper bound of [`backoff_delay`] for `attempt` (no jitter).
#[must_use]
pub fn backoff_cap(config: &RetryConfig, attempt: u32) -> Duration {
    let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
    // A multiplier below 1 (or NaN) is a config error; never let it shrink the wait.
    let multiplier = if config.multiplier.is_finite() && config.multiplier >= 1.0 {
        config.multiplier
    } else {
        1.0
    };
    let secs = config.initial_backoff.as_secs_f64() * multiplier.powi(exponent);
    // Overflow (inf) or an absurd value simply means "the cap".
    let grown = Duration::try_from_secs_f64(secs).unwrap_or(config.max_backoff);
    grown.min(config.max_backoff)
}

/// A token bucket that limits retries across every request of a client, so a
/// failing Graph API is not hammered by `max_attempts` times the normal traffic.
///
/// A retry withdraws [`RETRY_COST`] tokens ([`TIMEOUT_RETRY_COST`] after a timeout);
/// each success deposits one token back, up to the capacity. When the bucket cannot
/// pay, the error is returned instead of retried. Clones share the same bucket.
#[derive(Debug, Clone)]
pub struct RetryBudget {
    inner: Arc<BudgetInner>,
}

#[derive(Debug)]
struct BudgetInner {
    capacity: u32,
    tokens: AtomicU32,
}

impl RetryBudget {
    /// A full bucket of `capacity` tokens ([`RetryConfig::standard`] uses 500).
    #[must_use]
    pub fn new(capacity: u32) -> Self {
        RetryBudget {
            inner: Arc::new(BudgetInner {
                capacity,
                tokens: AtomicU32::new(capacity),
            }),
        }
    }

    /// The tokens a retry after an error of `kind` costs.
    #[must_use]
    pub fn cost(kind: ErrorKind) -> u32 {
        if kind == ErrorKind::Timeout {
            TIMEOUT_RETRY_COST
        } else {
            RETRY_COST
        }
    }

    /// Pays for one retry after an error of `kind`. Returns `false`, withdrawing
    /// nothing, when the bucket holds too few tokens.
    pub fn try_withdraw(&self, kind: ErrorKind) -> bool {
        let cost = Self::cost(kind);
        self.inner
            .tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| t.checked_sub(cost))
            .is_ok()
    }

    /// Records a success: one token back, never above the capacity.
    pub fn deposit_success(&self) {
        let capacity = self.inner.capacity;
        // `Err` only means the bucket is already full.
        let _ = self
            .inner
            .tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                (t < capacity).then(|| t.saturating_add(1))
            });
    }

    /// Tokens left.
    #[must_use]
    pub fn available(&self) -> u32 {
        self.inner.tokens.load(Ordering::Acquire)
    }

    /// The bucket's capacity.
    #[must_use]
    pub fn capacity(&self) -> u32 {
        self.inner.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{
        ApiError, ConfigError, DecodeError, RateLimitedError, TimeoutError, TransportError,
        TransportErrorKind,
    };
    use crate::usage::{BucUsage, Usage};

    fn api(code: i64) -> Error {
        ApiError::new(code, "test").into()
    }

    fn buc_usage(minutes: f64) -> Usage {
        let mut u = Usage::default();
        u.business_use_case.push(BucUsage {
            business_id: "123".to_owned(),
            use_case: "ads_management".to_owned(),
            call_count: Some(100.0),
            estimated_time_to_regain_access: Some(minutes),
            ..BucUsage::default()
        });
        u
    }

    const RETRY: RetryAction = RetryAction::Retry(RetryKind::Backoff);
    const NOT_RETRYABLE: RetryAction = RetryAction::Stop(StopReason::NotRetryable);
    const NOT_IDEMPOTENT: RetryAction = RetryAction::Stop(StopReason::NotIdempotent);
    const THROTTLE: RetryAction = RetryAction::Retry(RetryKind::Throttle { hint: None });

    /// One row: the error, the answer for an idempotent request, the answer for a
    /// non-idempotent one (both on the first attempt of the standard config).
    fn rows() -> Vec<(&'static str, Error, RetryAction, RetryAction)> {
        vec![
            ("throttle 4", api(4), THROTTLE, THROTTLE),
            ("throttle 17", api(17), THROTTLE, THROTTLE),
            ("throttle 32", api(32), THROTTLE, THROTTLE),
            ("throttle 341", api(341), THROTTLE, THROTTLE),
            ("throttle 613", api(613), THROTTLE, THROTTLE),
            ("throttle 80000", api(80_000), THROTTLE, THROTTLE),
            ("throttle 80099", api(80_099), THROTTLE, THROTTLE),
            (
                "throttle IG 9/2207042",
                ApiError::new(9, "x").with_subcode(2_207_042).into(),
                THROTTLE,
                THROTTLE,
            ),
            (
                "throttle with regain hint",
                ApiError::new(80_004, "x")
                    .with_subcode(2_446_079)
                    .with_http_status(400)
                    .with_usage(buc_usage(2.0))
                    .into(),
                RetryAction::Retry(RetryKind::Throttle {
                    hint: Some(Duration::from_secs(120)),
                }),
                RetryAction::Retry(RetryKind::Throttle {
                    hint: Some(Duration::from_secs(120)),
                }),
            ),
            (
                "throttle beyond max_throttle_wait",
                ApiError::new(17, "x").with_usage(buc_usage(60.0)).into(),
                RetryAction::Stop(StopReason::WaitTooLong),
                RetryAction::Stop(StopReason::WaitTooLong),
            ),
            (
                "local refusal",
                RateLimitedError::new("app:1", Duration::from_secs(60)).into(),
                NOT_RETRYABLE,
                NOT_RETRYABLE,
            ),
            ("transient code 1", api(1), RETRY, NOT_IDEMPOTENT),
            ("transient code 2", api(2), RETRY, NOT_IDEMPOTENT),
            (
                "is_transient",
                ApiError::new(999, "x").with_transient(true).into(),
                RETRY,
                NOT_IDEMPOTENT,
            ),
            (
                "HTTP 503",
                ApiError::new(0, "x").with_http_status(503).into(),
                RETRY,
                NOT_IDEMPOTENT,
            ),
            (
                "connect failure",
                TransportError::new(TransportErrorKind::Connect, "refused").into(),
                RETRY,
                RETRY,
            ),
            (
                "I/O failure",
                TransportError::new(TransportErrorKind::Io, "reset").into(),
                RETRY,
                NOT_IDEMPOTENT,
            ),
            (
                "other transport failure",
                TransportError::new(TransportErrorKind::Other, "?").into(),
                RETRY,
                NOT_IDEMPOTENT,
            ),
            (
                "timeout",
                TimeoutError::new(Duration::from_secs(30)).into(),
                RETRY,
                NOT_IDEMPOTENT,
            ),
            ("re-auth 190", api(190), NOT_RETRYABLE, NOT_RETRYABLE),
            (
                "re-auth subcode 463",
                ApiError::new(999, "x").with_subcode(463).into(),
                NOT_RETRYABLE,
                NOT_RETRYABLE,
            ),
            ("permission 10", api(10), NOT_RETRYABLE, NOT_RETRYABLE),
            ("permission 200", api(200), NOT_RETRYABLE, NOT_RETRYABLE),
            ("policy block 368", api(368), NOT_RETRYABLE, NOT_RETRYABLE),
            ("duplicate 506", api(506), NOT_RETRYABLE, NOT_RETRYABLE),
            (
                "invalid parameter 100",
                api(100),
                NOT_RETRYABLE,
                NOT_RETRYABLE,
            ),
            (
                "HTTP 400 other",
                ApiError::new(12_345, "x").with_http_status(400).into(),
                NOT_RETRYABLE,
                NOT_RETRYABLE,
            ),
            (
                "decode",
                DecodeError::new("data", "bad", b"{}").into(),
                NOT_RETRYABLE,
                NOT_RETRYABLE,
            ),
            (
                "config",
                Error::Config(ConfigError::new("bad")),
                NOT_RETRYABLE,
                NOT_RETRYABLE,
            ),
        ]
    }

    #[test]
    fn classify_table_first_attempt() {
        let config = RetryConfig::standard();
        for (name, error, idempotent, not_idempotent) in rows() {
            let got = classify(&config, &RetryContext::first(true), Err(&error));
            assert_eq!(got, idempotent, "{name} (idempotent)");
            let got = classify(&config, &RetryContext::first(false), Err(&error));
            assert_eq!(got, not_idempotent, "{name} (not idempotent)");
        }
    }

    #[test]
    fn success_stops() {
        for config in [RetryConfig::standard(), RetryConfig::disabled()] {
            for attempt in [1, 4, 10] {
                let ctx = RetryContext {
                    attempt,
                    idempotent: false,
                };
                assert_eq!(
                    classify(&config, &ctx, Ok(())),
                    RetryAction::Stop(StopReason::Success)
                );
            }
        }
    }

    #[test]
    fn attempts_exhausted_only_for_retryable_errors() {
        let config = RetryConfig::standard();
        for (name, error, idempotent, _) in rows() {
            for attempt in [4, 5] {
                let ctx = RetryContext {
                    attempt,
                    idempotent: true,
                };
                let got = classify(&config, &ctx, Err(&error));
                let want = if idempotent.is_retry() {
                    RetryAction::Stop(StopReason::AttemptsExhausted)
                } else {
                    idempotent
                };
                assert_eq!(got, want, "{name} at attempt {attempt}");
            }
        }
        // Attempt 3 of 4 still retries.
        let ctx = RetryContext {
            attempt: 3,
            idempotent: true,
        };
        assert_eq!(classify(&config, &ctx, Err(&api(2))), RETRY);
    }

    #[test]
    fn disabled_config_reports_disabled() {
        let config = RetryConfig::disabled();
        assert!(config.is_disabled());
        for (name, error, idempotent, not_idempotent) in rows() {
            for (flag, expected) in [(true, idempotent), (false, not_idempotent)] {
                let got = classify(&config, &RetryContext::first(flag), Err(&error));
                let want = if expected.is_retry() {
                    RetryAction::Stop(StopReason::Disabled)
                } else {
                    expected
                };
                assert_eq!(got, want, "{name} idempotent={flag}");
            }
        }
        // max_attempts(0) is invalid but must not retry or panic.
        let zero = RetryConfig::standard().max_attempts(0);
        assert!(zero.validate().is_err());
        assert_eq!(
            classify(&zero, &RetryContext::first(true), Err(&api(2))),
            RetryAction::Stop(StopReason::Disabled)
        );
    }

    #[test]
    fn retry_non_idempotent_opt_in() {
        let config = RetryConfig::standard().retry_non_idempotent(true);
        let ctx = RetryContext::first(false);
        assert_eq!(classify(&config, &ctx, Err(&api(2))), RETRY);
        let io: Error = TransportError::new(TransportErrorKind::Io, "reset").into();
        assert_eq!(classify(&config, &ctx, Err(&io)), RETRY);
        // Opting in never makes a permanent error retryable.
        assert_eq!(classify(&config, &ctx, Err(&api(506))), NOT_RETRYABLE);
    }

    #[test]
    fn max_throttle_wait_is_configurable() {
        let error: Error = ApiError::new(17, "x").with_usage(buc_usage(60.0)).into();
        let config = RetryConfig::standard().max_throttle_wait(Duration::from_secs(3600));
        assert_eq!(
            classify(&config, &RetryContext::first(false), Err(&error)),
            RetryAction::Retry(RetryKind::Throttle {
                hint: Some(Duration::from_secs(3600))
            })
        );
    }

    #[test]
    fn defaults_and_setters() {
        let d = RetryConfig::default();
        assert_eq!(d.get_max_attempts(), 4);
        assert_eq!(d.get_initial_backoff(), Duration::from_millis(500));
        assert_eq!(d.get_max_backoff(), Duration::from_secs(30));
        assert!((d.get_multiplier() - 2.0).abs() < f64::EPSILON);
        assert_eq!(d.get_budget_capacity(), 500);
        assert!(!d.get_retry_non_idempotent());
        assert_eq!(d.get_max_throttle_wait(), Duration::from_secs(900));
        assert!(d.validate().is_ok());
        assert_eq!(RetryConfig::disabled().get_max_attempts(), 1);

        let c = RetryConfig::standard()
            .max_attempts(6)
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_secs(5))
            .budget_capacity(50)
            .max_throttle_wait(Duration::from_secs(60));
        assert_eq!(c.get_max_attempts(), 6);
        assert_eq!(c.get_initial_backoff(), Duration::from_millis(100));
        assert_eq!(c.get_max_backoff(), Duration::from_secs(5));
        assert_eq!(c.get_budget_capacity(), 50);
        assert_eq!(c.new_budget().available(), 50);
        assert_eq!(c.get_max_throttle_wait(), Duration::from_secs(60));
    }

    #[test]
    fn validation_errors() {
        let bad = [
            RetryConfig::standard().max_attempts(0),
            RetryConfig::standard().multiplier(0.5),
            RetryConfig::standard().multiplier(f64::NAN),
            RetryConfig::standard().multiplier(f64::INFINITY),
            RetryConfig::standard()
                .initial_backoff(Duration::from_secs(60))
                .max_backoff(Duration::from_secs(1)),
        ];
        for c in bad {
            let e = c.validate().expect_err("must be rejected");
            assert!(e.message().contains("retry"), "{}", e.message());
        }
    }

    #[test]
    fn backoff_caps_grow_and_saturate() {
        let c = RetryConfig::standard();
        assert_eq!(backoff_cap(&c, 0), Duration::from_millis(500));
        assert_eq!(backoff_cap(&c, 1), Duration::from_millis(500));
        assert_eq!(backoff_cap(&c, 2), Duration::from_secs(1));
        assert_eq!(backoff_cap(&c, 3), Duration::from_secs(2));
        assert_eq!(backoff_cap(&c, 7), Duration::from_secs(30)); // 32 s capped
        assert_eq!(backoff_cap(&c, u32::MAX), Duration::from_secs(30));
        // A broken multiplier never panics nor shrinks the wait.
        let broken = RetryConfig::standard().multiplier(f64::NAN);
        assert_eq!(backoff_cap(&broken, 5), Duration::from_millis(500));
        let huge = RetryConfig::standard().multiplier(f64::MAX);
        assert_eq!(backoff_cap(&huge, 3), Duration::from_secs(30));
    }

    #[test]
    fn backoff_is_bounded_and_deterministic() {
        let c = RetryConfig::standard();
        let a = Jitter::seeded(42);
        let b = Jitter::seeded(42);
        let mut distinct = std::collections::BTreeSet::new();
        for attempt in 1..=12 {
            for _ in 0..50 {
                let d = backoff_delay(&c, attempt, &a);
                assert_eq!(d, backoff_delay(&c, attempt, &b));
                assert!(d <= backoff_cap(&c, attempt), "attempt {attempt}: {d:?}");
                distinct.insert(d);
            }
        }
        // Full jitter really spreads the delays.
        assert!(distinct.len() > 500);
        let zero = RetryConfig::standard()
            .initial_backoff(Duration::ZERO)
            .max_backoff(Duration::ZERO);
        assert_eq!(backoff_delay(&zero, 3, &a), Duration::ZERO);
    }

    #[test]
    fn budget_withdraws_and_refills() {
        let budget = RetryBudget::new(20);
        assert_eq!(budget.capacity(), 20);
        assert!(budget.try_withdraw(ErrorKind::Timeout)); // 10
        assert_eq!(budget.available(), 10);
        assert!(budget.try_withdraw(ErrorKind::Transient)); // 5
        assert!(budget.try_withdraw(ErrorKind::Throttled)); // 0
        assert_eq!(budget.available(), 0);
        assert!(!budget.try_withdraw(ErrorKind::Network));
        assert_eq!(budget.available(), 0);
        for _ in 0..4 {
            budget.deposit_success();
        }
        assert_eq!(budget.available(), 4);
        assert!(!budget.try_withdraw(ErrorKind::Network), "4 < 5 tokens");
        budget.deposit_success();
        assert!(budget.try_withdraw(ErrorKind::Network));
        assert!(!budget.try_withdraw(ErrorKind::Timeout));
    }

    #[test]
    fn budget_never_exceeds_capacity_and_is_shared() {
        let budget = RetryBudget::new(7);
        let clone = budget.clone();
        for _ in 0..100 {
            clone.deposit_success();
        }
        assert_eq!(budget.available(), 7);
        assert!(clone.try_withdraw(ErrorKind::Network));
        assert_eq!(budget.available(), 2);
        let empty = RetryBudget::new(0);
        assert!(!empty.try_withdraw(ErrorKind::Network));
        empty.deposit_success();
        assert_eq!(empty.available(), 0);
    }

    #[test]
    fn budget_is_consistent_under_contention() {
        let budget = RetryBudget::new(500);
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let b = budget.clone();
                std::thread::spawn(move || {
                    (0..50)
                        .filter(|_| b.try_withdraw(ErrorKind::Network))
                        .count()
                })
            })
            .collect();
        let granted: usize = handles.into_iter().map(|h| h.join().expect("thread")).sum();
        assert_eq!(granted, 100);
        assert_eq!(budget.available(), 0);
    }
}
