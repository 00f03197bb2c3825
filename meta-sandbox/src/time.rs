//! Calendar helpers: the sandbox formats and parses times itself so it needs no date crate.

/// Days since 1970-01-01 → (year, month 1..=12, day 1..=31). Howard Hinnant's civil algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    // The ranges are guaranteed by the algorithm, so the narrowing casts cannot truncate.
    (y, m as u32, d as u32)
}

/// Inverse of [`civil_from_days`].
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn split(unix: u64) -> (i64, u32, u32, u64, u64, u64) {
    let secs = unix % 86_400;
    let days = i64::try_from(unix / 86_400).unwrap_or(i64::MAX / 2);
    let (y, m, d) = civil_from_days(days);
    (y, m, d, secs / 3600, (secs % 3600) / 60, secs % 60)
}

/// Graph's timestamp format: `2026-01-05T10:00:00+0000`.
pub(crate) fn graph_time(unix: u64) -> String {
    let (y, m, d, hh, mm, ss) = split(unix);
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}+0000")
}

/// The format of Meta's token-expiry messages: `Friday, 09-Jan-26 10:00:00 UTC`.
pub(crate) fn expiry_time(unix: u64) -> String {
    const DAYS: [&str; 7] = [
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
    ];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, m, d, hh, mm, ss) = split(unix);
    let weekday = DAYS[usize::try_from((unix / 86_400) % 7).unwrap_or(0)];
    let month = MONTHS[usize::try_from(m.saturating_sub(1)).unwrap_or(0) % 12];
    format!(
        "{weekday}, {d:02}-{month}-{:02} {hh:02}:{mm:02}:{ss:02} UTC",
        y.rem_euclid(100)
    )
}

/// Parses a unix timestamp or an ISO-8601 date-time such as `2026-03-01T10:15:30+01:00`,
/// `2026-03-01T10:15:30Z` or `2026-03-01T10:15:30+0100`. `None` when it is neither.
pub(crate) fn parse_time(input: &str) -> Option<u64> {
    let s = input.trim();
    if let Ok(n) = s.parse::<u64>() {
        return Some(n);
    }
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || (b[10] != b'T' && b[10] != b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mi, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || hh > 23 || mi > 59 || ss > 60 {
        return None;
    }
    let mut rest = s.get(19..)?;
    // Fractional seconds are accepted and ignored.
    if let Some(frac) = rest.strip_prefix('.') {
        rest = frac.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset: i64 = match rest {
        "" | "Z" | "z" => 0,
        tz => {
            let sign = match tz.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = tz.get(1..)?.chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 {
                return None;
            }
            let h: i64 = digits.get(..2)?.parse().ok()?;
            let m: i64 = digits.get(2..)?.parse().ok()?;
            sign * (h * 3600 + m * 60)
        }
    };
    let days = days_from_civil(i64::from(y), mo, d);
    let local = days * 86_400 + i64::from(hh) * 3600 + i64::from(mi) * 60 + i64::from(ss);
    u64::try_from(local - offset).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_graph_time() {
        assert_eq!(graph_time(0), "1970-01-01T00:00:00+0000");
        assert_eq!(graph_time(1_767_225_600), "2026-01-01T00:00:00+0000");
        assert_eq!(graph_time(1_709_210_096), "2024-02-29T12:34:56+0000");
    }

    #[test]
    fn formats_expiry_time() {
        assert_eq!(
            expiry_time(1_767_225_600),
            "Thursday, 01-Jan-26 00:00:00 UTC"
        );
    }

    #[test]
    fn parses_times() {
        assert_eq!(parse_time("1767225600"), Some(1_767_225_600));
        assert_eq!(parse_time("2026-01-01T00:00:00Z"), Some(1_767_225_600));
        assert_eq!(parse_time("2026-01-01T01:00:00+01:00"), Some(1_767_225_600));
        assert_eq!(parse_time("2025-12-31T23:00:00-0100"), Some(1_767_225_600));
        assert_eq!(
            parse_time("2026-01-01T00:00:00.250+0000"),
            Some(1_767_225_600)
        );
        assert_eq!(parse_time("+2 weeks"), None);
        assert_eq!(parse_time("2026-13-01T00:00:00Z"), None);
        assert_eq!(parse_time(""), None);
    }
}
