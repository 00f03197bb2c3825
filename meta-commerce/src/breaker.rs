//! A small circuit breaker on the injected clock, shared by the classifier fallback
//! and the payment router.
//!
//! Closed: calls go through; `failure_threshold` consecutive failures open it. Open:
//! calls are refused (the caller falls back) until `open_for` has passed on the clock.
//! Half-open: one trial call at a time; success closes it, failure opens it again.
//! Hand-written (crates guide §2.17) so it is tested on a `ManualClock` without sleeping.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use meta_core::clock::Clock;

/// A breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are refused until the cool-down ends.
    Open,
    /// One trial call is allowed.
    HalfOpen,
}

#[derive(Debug)]
struct Inner {
    state: BreakerState,
    consecutive_failures: u32,
    opened_at: Duration,
    trial_in_flight: bool,
    opened_count: u64,
}

/// A consecutive-failure circuit breaker.
#[derive(Debug, Clone)]
pub struct CircuitBreaker {
    clock: Arc<dyn Clock>,
    failure_threshold: u32,
    open_for: Duration,
    inner: Arc<Mutex<Inner>>,
}

impl CircuitBreaker {
    /// Opens after `failure_threshold` consecutive failures, for `open_for`.
    #[must_use]
    pub fn new(clock: Arc<dyn Clock>, failure_threshold: u32, open_for: Duration) -> Self {
        CircuitBreaker {
            clock,
            failure_threshold: failure_threshold.max(1),
            open_for,
            inner: Arc::new(Mutex::new(Inner {
                state: BreakerState::Closed,
                consecutive_failures: 0,
                opened_at: Duration::ZERO,
                trial_in_flight: false,
                opened_count: 0,
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave it inconsistent (plain fields).
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The current state (moving Open → HalfOpen when the cool-down is over).
    #[must_use]
    pub fn state(&self) -> BreakerState {
        let mut g = self.lock();
        self.refresh(&mut g);
        g.state
    }

    fn refresh(&self, g: &mut Inner) {
        if g.state == BreakerState::Open
            && self.clock.elapsed().saturating_sub(g.opened_at) >= self.open_for
        {
            g.state = BreakerState::HalfOpen;
            g.trial_in_flight = false;
        }
    }

    /// Whether a call may go through now. In half-open, only one caller gets `true`
    /// until it reports its outcome.
    #[must_use]
    pub fn allow(&self) -> bool {
        let mut g = self.lock();
        self.refresh(&mut g);
        match g.state {
            BreakerState::Closed => true,
            BreakerState::Open => false,
            BreakerState::HalfOpen => {
                if g.trial_in_flight {
                    false
                } else {
                    g.trial_in_flight = true;
                    true
                }
            }
        }
    }

    /// Reports a successful call.
    pub fn record_success(&self) {
        let mut g = self.lock();
        g.state = BreakerState::Closed;
        g.consecutive_failures = 0;
        g.trial_in_flight = false;
    }

    /// Reports a failed call.
    pub fn record_failure(&self) {
        let mut g = self.lock();
        g.trial_in_flight = false;
        g.consecutive_failures = g.consecutive_failures.saturating_add(1);
        if g.state == BreakerState::HalfOpen || g.consecutive_failures >= self.failure_threshold {
            if g.state != BreakerState::Open {
                g.opened_count += 1;
            }
            g.state = BreakerState::Open;
            g.opened_at = self.clock.elapsed();
        }
    }

    /// How many times the breaker has opened.
    #[must_use]
    pub fn opened_count(&self) -> u64 {
        self.lock().opened_count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meta_core::clock::ManualClock;

    #[test]
    fn opens_cools_down_and_half_opens() {
        let clock = Arc::new(ManualClock::new(1_700_000_000));
        let b = CircuitBreaker::new(clock.clone(), 3, Duration::from_secs(30));
        assert!(b.allow());
        b.record_failure();
        b.record_failure();
        assert_eq!(b.state(), BreakerState::Closed);
        b.record_failure();
        assert_eq!(b.state(), BreakerState::Open);
        assert!(!b.allow());
        clock.advance(Duration::from_secs(31));
        assert!(b.allow(), "one trial");
        assert!(!b.allow(), "only one trial at a time");
        b.record_failure();
        assert_eq!(b.state(), BreakerState::Open);
        clock.advance(Duration::from_secs(31));
        assert!(b.allow());
        b.record_success();
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.opened_count(), 2);
    }
}
