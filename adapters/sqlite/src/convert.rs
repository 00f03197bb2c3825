//! Conversions between the ports' Rust types and SQLite's INTEGER/TEXT columns.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::SqliteError;

/// A `u64` (unix seconds, a count) as SQLite's signed 64-bit INTEGER.
pub(crate) fn u64_to_i64(field: &'static str, v: u64) -> Result<i64, SqliteError> {
    i64::try_from(v).map_err(|_| SqliteError::invalid(field, format!("{v} exceeds {}", i64::MAX)))
}

/// An INTEGER read back as `u64`; negative values can only come from outside the
/// ports (the CHECK constraints refuse them), and are reported rather than wrapped.
pub(crate) fn i64_to_u64(field: &'static str, v: i64) -> Result<u64, SqliteError> {
    u64::try_from(v)
        .map_err(|_| SqliteError::invalid(field, format!("stored value {v} is negative")))
}

/// A time as signed unix nanoseconds: exact, and covering 1677–2262.
pub(crate) fn time_to_ns(field: &'static str, t: SystemTime) -> Result<i64, SqliteError> {
    let out_of_range = || SqliteError::invalid(field, "time outside 1677-2262");
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).map_err(|_| out_of_range()),
        Err(e) => i64::try_from(e.duration().as_nanos())
            .map(|n| -n)
            .map_err(|_| out_of_range()),
    }
}

/// The inverse of [`time_to_ns`].
pub(crate) fn ns_to_time(ns: i64) -> SystemTime {
    let d = Duration::from_nanos(ns.unsigned_abs());
    if ns >= 0 {
        UNIX_EPOCH + d
    } else {
        UNIX_EPOCH - d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_exactly() {
        for t in [
            UNIX_EPOCH,
            UNIX_EPOCH + Duration::new(1_780_000_000, 123_456_789),
            UNIX_EPOCH - Duration::new(86_400, 1),
        ] {
            assert_eq!(ns_to_time(time_to_ns("t", t).unwrap()), t);
        }
        assert!(time_to_ns("t", UNIX_EPOCH + Duration::from_secs(u64::MAX / 2)).is_err());
    }

    #[test]
    fn integers_refuse_what_does_not_fit() {
        assert_eq!(u64_to_i64("n", 5).unwrap(), 5);
        assert!(u64_to_i64("n", u64::MAX).is_err());
        assert!(i64_to_u64("n", -1).is_err());
    }
}
