//! Injected time and randomness.
//!
//! Backoff, governor pacing, scope blocks and `appsecret_time` all read time through
//! a [`Clock`], and jitter reads randomness through a [`Jitter`] source, so tests can
//! run hours of backoff in microseconds ([`ManualClock`]) and reproduce every
//! delay from a seed.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A boxed future returned by [`Clock::sleep`].
pub type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// A source of wall time, monotonic time and sleeping.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// Wall-clock time (used for `appsecret_time` and token expiry).
    fn now(&self) -> SystemTime;
    /// Monotonic time since an arbitrary fixed origin of this clock.
    fn elapsed(&self) -> Duration;
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration) -> Sleep<'_>;
    /// Seconds since the Unix epoch.
    fn unix_secs(&self) -> u64 {
        self.now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

/// The real clock: `SystemTime` for wall time and tokio's timer for sleeping, so
/// `tokio::time::pause()` also works in tests.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: tokio::time::Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock {
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
    fn elapsed(&self) -> Duration {
        self.origin.elapsed()
    }
    fn sleep(&self, duration: Duration) -> Sleep<'_> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock that only moves when told to, or when something sleeps on it: `sleep`
/// returns at once after advancing the clock. Tests use it to check backoff and
/// pacing without waiting.
#[derive(Debug)]
pub struct ManualClock {
    wall_origin: SystemTime,
    nanos: AtomicU64,
    slept_nanos: AtomicU64,
    sleeps: AtomicU64,
}

impl ManualClock {
    /// A manual clock whose wall time starts at `unix_secs`.
    #[must_use]
    pub fn new(unix_secs: u64) -> Self {
        ManualClock {
            wall_origin: UNIX_EPOCH + Duration::from_secs(unix_secs),
            nanos: AtomicU64::new(0),
            slept_nanos: AtomicU64::new(0),
            sleeps: AtomicU64::new(0),
        }
    }
    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.nanos.fetch_add(saturating_nanos(by), Ordering::SeqCst);
    }
    /// Total time spent in `sleep` so far.
    #[must_use]
    pub fn total_slept(&self) -> Duration {
        Duration::from_nanos(self.slept_nanos.load(Ordering::SeqCst))
    }
    /// Number of calls to `sleep` with a non-zero duration.
    #[must_use]
    pub fn sleep_count(&self) -> u64 {
        self.sleeps.load(Ordering::SeqCst)
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new(1_700_000_000)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        self.wall_origin + self.elapsed()
    }
    fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
    fn sleep(&self, duration: Duration) -> Sleep<'_> {
        if !duration.is_zero() {
            let n = saturating_nanos(duration);
            self.nanos.fetch_add(n, Ordering::SeqCst);
            self.slept_nanos.fetch_add(n, Ordering::SeqCst);
            self.sleeps.fetch_add(1, Ordering::SeqCst);
        }
        Box::pin(async {
            // Yield once so concurrent tasks interleave as they would on a real timer.
            tokio::task::yield_now().await;
        })
    }
}

fn saturating_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A seedable source of randomness for jitter and ids.
pub struct Jitter {
    rng: Mutex<fastrand::Rng>,
}

impl Jitter {
    /// Randomness seeded from the OS.
    #[must_use]
    pub fn from_entropy() -> Self {
        Jitter {
            rng: Mutex::new(fastrand::Rng::new()),
        }
    }
    /// Deterministic randomness: the same seed gives the same sequence.
    #[must_use]
    pub fn seeded(seed: u64) -> Self {
        Jitter {
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
        }
    }
    /// A uniform float in `[0, 1)`.
    pub fn unit(&self) -> f64 {
        match self.rng.lock() {
            Ok(mut r) => r.f64(),
            // A poisoned lock only means another thread panicked mid-draw; the RNG
            // state is still valid.
            Err(p) => p.into_inner().f64(),
        }
    }
    /// A uniform duration in `[0, max]` ("full jitter").
    pub fn up_to(&self, max: Duration) -> Duration {
        max.mul_f64(self.unit())
    }
    /// A random `u64` (boundaries, nonces that need not be secret).
    pub fn u64(&self) -> u64 {
        match self.rng.lock() {
            Ok(mut r) => r.u64(..),
            Err(p) => p.into_inner().u64(..),
        }
    }
}

impl Default for Jitter {
    fn default() -> Self {
        Jitter::from_entropy()
    }
}

impl fmt::Debug for Jitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jitter").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_clock_sleep_advances_without_waiting() {
        let c = ManualClock::new(100);
        c.sleep(Duration::from_secs(3600)).await;
        assert_eq!(c.elapsed(), Duration::from_secs(3600));
        assert_eq!(c.unix_secs(), 3700);
        assert_eq!(c.sleep_count(), 1);
        c.advance(Duration::from_secs(1));
        assert_eq!(c.total_slept(), Duration::from_secs(3600));
        assert_eq!(c.unix_secs(), 3701);
    }

    #[test]
    fn seeded_jitter_is_deterministic_and_bounded() {
        let a = Jitter::seeded(7);
        let b = Jitter::seeded(7);
        for _ in 0..100 {
            let x = a.up_to(Duration::from_secs(2));
            assert_eq!(x, b.up_to(Duration::from_secs(2)));
            assert!(x <= Duration::from_secs(2));
        }
    }
}
