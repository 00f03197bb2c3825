//! Conversions between domain values and column values, each checked: a value that
//! does not fit is refused with [`ErrorClass::Invalid`](crate::ErrorClass::Invalid)
//! rather than silently wrapped.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{PgStoreError, Result};

/// A `u64` for a `BIGINT` column.
pub(crate) fn u64_to_i64(field: &str, v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| PgStoreError::invalid(format!("{field} {v} is out of range")))
}

/// A `BIGINT` read back into a `u64` (negative values cannot have been written).
pub(crate) fn i64_to_u64(field: &str, v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| PgStoreError::corrupt(format!("{field} is negative ({v})")))
}

/// A `u32` read back from a `BIGINT`.
pub(crate) fn i64_to_u32(field: &str, v: i64) -> Result<u32> {
    u32::try_from(v).map_err(|_| PgStoreError::corrupt(format!("{field} is out of range ({v})")))
}

/// A time as signed unix nanoseconds (exact for 1677–2262).
pub(crate) fn time_to_ns(field: &str, t: SystemTime) -> Result<i64> {
    let out_of_range = || PgStoreError::invalid(format!("{field} is out of the storable range"));
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).map_err(|_| out_of_range()),
        Err(before) => i64::try_from(before.duration().as_nanos())
            .map(|n| -n)
            .map_err(|_| out_of_range()),
    }
}

/// The inverse of [`time_to_ns`].
pub(crate) fn ns_to_time(field: &str, ns: i64) -> Result<SystemTime> {
    let d = Duration::from_nanos(ns.unsigned_abs());
    let t = if ns >= 0 {
        UNIX_EPOCH.checked_add(d)
    } else {
        UNIX_EPOCH.checked_sub(d)
    };
    t.ok_or_else(|| PgStoreError::corrupt(format!("{field} is not a representable time")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_exactly() {
        let samples = [
            UNIX_EPOCH,
            UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789),
            UNIX_EPOCH - Duration::new(86_400, 1),
        ];
        for t in samples {
            let ns = time_to_ns("t", t).unwrap();
            assert_eq!(ns_to_time("t", ns).unwrap(), t);
        }
        let far = UNIX_EPOCH + Duration::from_secs(400 * 365 * 86_400);
        assert!(time_to_ns("t", far).is_err());
    }

    #[test]
    fn integers_are_checked() {
        assert_eq!(u64_to_i64("x", 5).unwrap(), 5);
        assert!(u64_to_i64("x", u64::MAX).is_err());
        assert!(i64_to_u64("x", -1).is_err());
        assert!(i64_to_u32("x", i64::from(u32::MAX) + 1).is_err());
    }
}
