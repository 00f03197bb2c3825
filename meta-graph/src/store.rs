//! What every store port of meta-graph shares: the error ([`StoreError`]), the boxed
//! future the ports return ([`StoreFuture`]), injected id generation ([`IdGenerator`])
//! and the unix-millisecond conversions rows use.
//!
//! The ports themselves live next to the code that needs them
//! ([`crate::publisher::store`], [`crate::lifecycle::TokenStore`],
//! [`crate::messenger::policy::PolicyStore`]); adapters (SQLite, PostgreSQL) implement
//! them, and the conformance suite (`meta_graph::testing`, feature `test-util`) checks
//! that every implementation behaves the same.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use meta_core::clock::Clock;

/// The future a store method returns: boxed so the ports stay object-safe
/// (`Arc<dyn PublisherStore>`), `Send` so workers can run it on any thread.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Why a store operation failed, classified so callers can react without reading
/// messages: a [`Conflict`](StoreError::Conflict) is retried or reported as a lost
/// race, an [`Invalid`](StoreError::Invalid) is a bug or bad data, a
/// [`Backend`](StoreError::Backend) is an outage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The row does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// An optimistic-lock mismatch (the row changed since it was read) or a unique
    /// constraint violation.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The data cannot be stored or was stored in a shape this version cannot read
    /// (an unknown state name, a negative count).
    #[error("invalid data: {0}")]
    Invalid(String),
    /// The database failed (connection lost, disk full, timeout).
    #[error("store backend: {message}")]
    Backend {
        /// What failed (never a token or other secret).
        message: String,
        /// The driver's error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl StoreError {
    /// A backend failure described by `message`.
    #[must_use]
    pub fn backend(message: impl Into<String>) -> Self {
        StoreError::Backend {
            message: message.into(),
            source: None,
        }
    }
    /// A backend failure with the driver's error attached.
    #[must_use]
    pub fn backend_with(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StoreError::Backend {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
    /// Whether this is an optimistic-lock or uniqueness conflict.
    #[must_use]
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict(_))
    }
    /// Whether the row was missing.
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::NotFound(_))
    }
}

/// Makes ids for new rows. Injected so tests get predictable ids and production gets
/// time-ordered UUIDv7 text ([`UuidV7Ids`]).
pub trait IdGenerator: Send + Sync + fmt::Debug {
    /// A new, never-before-returned id.
    fn new_id(&self) -> String;
}

/// UUIDv7 ids (time-ordered, so rows sort by creation), timestamped from the
/// injected [`Clock`] and unique within the process even when the clock stands still.
#[derive(Debug, Clone)]
pub struct UuidV7Ids {
    clock: Arc<dyn Clock>,
    // ContextV7 keeps a counter so ids made in one millisecond still sort in order; it
    // is not Sync, hence the lock.
    context: Arc<std::sync::Mutex<uuid::ContextV7>>,
}

impl UuidV7Ids {
    /// Ids stamped with `clock`'s time.
    #[must_use]
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        UuidV7Ids {
            clock,
            context: Arc::new(std::sync::Mutex::new(uuid::ContextV7::new())),
        }
    }
}

impl IdGenerator for UuidV7Ids {
    fn new_id(&self) -> String {
        let since = self
            .clock
            .now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        let ctx = self
            .context
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let ts = uuid::Timestamp::from_unix(&*ctx, since.as_secs(), since.subsec_nanos());
        uuid::Uuid::new_v7(ts).to_string()
    }
}

/// `prefix-000001`, `prefix-000002`, …: deterministic ids for tests and examples.
#[derive(Debug)]
pub struct SequentialIds {
    prefix: String,
    next: AtomicU64,
}

impl SequentialIds {
    /// Ids `"{prefix}-{n:06}"` from 1.
    #[must_use]
    pub fn new(prefix: impl Into<String>) -> Self {
        SequentialIds {
            prefix: prefix.into(),
            next: AtomicU64::new(1),
        }
    }
}

impl IdGenerator for SequentialIds {
    fn new_id(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n:06}", self.prefix)
    }
}

/// Unix milliseconds of `t` (negative before 1970, saturating far out).
#[must_use]
pub fn to_ms(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_millis()).map_or(i64::MIN, |v| -v),
    }
}

/// The time `ms` unix milliseconds denote.
#[must_use]
pub fn from_ms(ms: i64) -> SystemTime {
    if ms >= 0 {
        UNIX_EPOCH + Duration::from_millis(ms.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meta_core::clock::ManualClock;

    #[test]
    fn ms_round_trip() {
        for ms in [0_i64, 1, 1_700_000_000_123, -5_000] {
            assert_eq!(to_ms(from_ms(ms)), ms);
        }
    }

    #[test]
    fn uuid_ids_are_unique_and_ordered_under_a_frozen_clock() {
        let ids = UuidV7Ids::new(Arc::new(ManualClock::new(1_700_000_000)));
        let v: Vec<String> = (0..1000).map(|_| ids.new_id()).collect();
        let mut sorted = v.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 1000);
        assert_eq!(
            sorted, v,
            "v7 ids from one generator sort in creation order"
        );
    }

    #[test]
    fn sequential_ids() {
        let ids = SequentialIds::new("p");
        assert_eq!(ids.new_id(), "p-000001");
        assert_eq!(ids.new_id(), "p-000002");
    }
}
