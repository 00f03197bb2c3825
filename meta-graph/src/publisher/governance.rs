//! Governance: whether a post may go out now, and if not, the next slot it may —
//! a pure function ([`evaluate`]) of the account's and tenant's settings, the time and
//! what was observed (posts already out today, the last one, the Instagram quota, the
//! rate governor). Days and quiet hours are in the account's time zone
//! (`chrono-tz`), so "3 a day" means 3 between local midnights, across DST changes.
//!
//! A blocked post is never dropped: the worker moves it to `until` with the reason
//! recorded.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use crate::publisher::store::{Account, Tenant};

/// Tunables of governance that are not per-account settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GovernanceConfig {
    /// How long a kill-switched (or misconfigured) post waits before it is checked
    /// again. Default 15 minutes.
    pub recheck: Duration,
    /// How long a post waits when the Instagram quota is used up (Meta's window is a
    /// moving 24 h; the quota is read again then). Default 1 hour.
    pub quota_recheck: Duration,
}

impl Default for GovernanceConfig {
    fn default() -> Self {
        GovernanceConfig {
            recheck: Duration::from_secs(15 * 60),
            quota_recheck: Duration::from_secs(3600),
        }
    }
}

/// What the worker observed before deciding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Observed {
    /// Posts of the account that count for governance in the account's local day of
    /// `now` ([`local_day_bounds`]).
    pub published_today: u32,
    /// The latest of them (unix ms), any day.
    pub last_published_at: Option<i64>,
    /// Posts left in the Instagram quota (`content_publishing_limit`), when read.
    pub ig_quota_remaining: Option<u64>,
    /// How long the rate governor keeps a scope of the account's object blocked.
    pub rate_blocked_for: Option<Duration>,
}

/// Why a post was held back.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlockReason {
    /// The tenant's kill switch is on.
    TenantKillSwitch,
    /// The account's kill switch is on.
    AccountKillSwitch,
    /// The account's time zone is not an IANA name this build knows.
    InvalidTimezone(String),
    /// The rate governor has the account's object blocked.
    RateLimited,
    /// `content_publishing_limit` reports no posts left.
    IgQuota,
    /// The daily cap is reached for the local day.
    DailyCap(u32),
    /// Too soon after the previous post.
    MinGap(u64),
    /// Inside quiet hours.
    QuietHours,
}

impl fmt::Display for BlockReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlockReason::TenantKillSwitch => f.write_str("tenant kill switch on"),
            BlockReason::AccountKillSwitch => f.write_str("account kill switch on"),
            BlockReason::InvalidTimezone(tz) => write!(f, "unknown time zone {tz:?}"),
            BlockReason::RateLimited => f.write_str("rate limited by the governor"),
            BlockReason::IgQuota => f.write_str("instagram publishing quota used up"),
            BlockReason::DailyCap(cap) => write!(f, "daily cap of {cap} reached"),
            BlockReason::MinGap(secs) => write!(f, "minimum gap of {secs}s between posts"),
            BlockReason::QuietHours => f.write_str("quiet hours"),
        }
    }
}

/// Governance's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Publish now.
    Allow,
    /// Not before `until` (unix ms).
    Defer {
        /// The next allowed slot, unix ms.
        until: i64,
        /// The first rule that held it back.
        reason: BlockReason,
    },
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Parses an IANA time zone name.
///
/// # Errors
/// The name back, when unknown.
pub fn parse_tz(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>().map_err(|_| name.to_owned())
}

fn local(tz: Tz, at_ms: i64) -> Option<DateTime<Tz>> {
    Utc.timestamp_millis_opt(at_ms)
        .single()
        .map(|u| u.with_timezone(&tz))
}

/// The first instant at or after local `naive` (a local time skipped by a DST jump
/// resolves to the first valid minute after it).
fn resolve(tz: Tz, naive: NaiveDateTime) -> Option<i64> {
    let mut n = naive;
    for _ in 0..=24 * 60 {
        if let Some(t) = tz.from_local_datetime(&n).earliest() {
            return Some(t.timestamp_millis());
        }
        n = n.checked_add_signed(chrono::Duration::minutes(1))?;
    }
    None
}

fn midnight(tz: Tz, date: NaiveDate) -> Option<i64> {
    resolve(tz, date.and_time(NaiveTime::MIN))
}

/// `[start, end)` in unix ms of the local day (in `tz`) that contains `at_ms`.
#[must_use]
pub fn local_day_bounds(tz: Tz, at_ms: i64) -> (i64, i64) {
    let Some(l) = local(tz, at_ms) else {
        return (at_ms, at_ms.saturating_add(86_400_000));
    };
    let date = l.date_naive();
    let start = midnight(tz, date).unwrap_or(at_ms);
    let end = date
        .checked_add_days(Days::new(1))
        .and_then(|d| midnight(tz, d))
        .unwrap_or(at_ms.saturating_add(86_400_000));
    (start, end)
}

/// When the quiet hours that contain `at_ms` end, or `None` when `at_ms` is not in
/// quiet hours.
fn quiet_end(tz: Tz, start: u16, end: u16, at_ms: i64) -> Option<i64> {
    if start == end {
        return None;
    }
    let l = local(tz, at_ms)?;
    let minute = u16::try_from(l.hour() * 60 + l.minute()).ok()?;
    let date = l.date_naive();
    let end_time = NaiveTime::from_hms_opt(u32::from(end / 60), u32::from(end % 60), 0)?;
    if start < end {
        (minute >= start && minute < end).then(|| resolve(tz, date.and_time(end_time)))?
    } else if minute >= start {
        // Wraps past midnight: ends tomorrow.
        resolve(tz, date.checked_add_days(Days::new(1))?.and_time(end_time))
    } else if minute < end {
        resolve(tz, date.and_time(end_time))
    } else {
        None
    }
}

/// Whether a post of `account` (tenant `tenant`) may go out at `now_ms`, and if not,
/// the next slot that satisfies every rule at once: kill switches, the rate governor,
/// the Instagram quota, the minimum gap, the daily cap of the local day, and quiet
/// hours in the account's time zone.
#[must_use]
pub fn evaluate(
    account: &Account,
    tenant: &Tenant,
    now_ms: i64,
    observed: &Observed,
    config: &GovernanceConfig,
) -> Decision {
    let recheck = now_ms.saturating_add(ms(config.recheck));
    if tenant.kill_switch {
        return Decision::Defer {
            until: recheck,
            reason: BlockReason::TenantKillSwitch,
        };
    }
    if account.kill_switch {
        return Decision::Defer {
            until: recheck,
            reason: BlockReason::AccountKillSwitch,
        };
    }
    let tz = match parse_tz(&account.timezone) {
        Ok(tz) => tz,
        Err(name) => {
            return Decision::Defer {
                until: recheck,
                reason: BlockReason::InvalidTimezone(name),
            };
        }
    };
    let g = &account.governance;
    let mut t = now_ms;
    let mut first: Option<BlockReason> = None;
    let hold = |t: &mut i64, until: i64, reason: BlockReason, first: &mut Option<BlockReason>| {
        if until > *t {
            *t = until;
            first.get_or_insert(reason);
            true
        } else {
            false
        }
    };
    if let Some(b) = observed.rate_blocked_for.filter(|b| !b.is_zero()) {
        hold(
            &mut t,
            now_ms.saturating_add(ms(b)),
            BlockReason::RateLimited,
            &mut first,
        );
    }
    if observed.ig_quota_remaining == Some(0) {
        hold(
            &mut t,
            now_ms.saturating_add(ms(config.quota_recheck)),
            BlockReason::IgQuota,
            &mut first,
        );
    }
    let (_, today_end) = local_day_bounds(tz, now_ms);
    // Each rule can only move the slot later, so this settles within a few rounds.
    for _ in 0..16 {
        let mut moved = false;
        if g.min_gap_secs > 0
            && let Some(last) = observed.last_published_at
        {
            let gap_ms = i64::try_from(g.min_gap_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
            moved |= hold(
                &mut t,
                last.saturating_add(gap_ms),
                BlockReason::MinGap(g.min_gap_secs),
                &mut first,
            );
        }
        if g.daily_cap > 0 && observed.published_today >= g.daily_cap && t < today_end {
            moved |= hold(
                &mut t,
                today_end,
                BlockReason::DailyCap(g.daily_cap),
                &mut first,
            );
        }
        if let (Some(s), Some(e)) = (g.quiet_start_minute, g.quiet_end_minute)
            && let Some(end) = quiet_end(tz, s, e, t)
        {
            moved |= hold(&mut t, end, BlockReason::QuietHours, &mut first);
        }
        if !moved {
            break;
        }
    }
    match first {
        None => Decision::Allow,
        Some(reason) => Decision::Defer { until: t, reason },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publisher::store::{ApprovalSettings, GovernanceSettings, Platform};

    fn at(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    fn account(tz: &str, g: GovernanceSettings) -> Account {
        Account {
            id: "a1".into(),
            tenant_id: "t1".into(),
            platform: Platform::Facebook,
            meta_id: "1".into(),
            name: "A".into(),
            connection_id: "c".into(),
            timezone: tz.into(),
            governance: g,
            approval: ApprovalSettings::default(),
            kill_switch: false,
            created_at: 0,
        }
    }

    fn tenant() -> Tenant {
        Tenant {
            id: "t1".into(),
            name: "T".into(),
            kill_switch: false,
            created_at: 0,
        }
    }

    fn gov(cap: u32, gap: u64, quiet: Option<(u16, u16)>) -> GovernanceSettings {
        GovernanceSettings {
            daily_cap: cap,
            min_gap_secs: gap,
            quiet_start_minute: quiet.map(|q| q.0),
            quiet_end_minute: quiet.map(|q| q.1),
        }
    }

    #[test]
    fn table() {
        let cfg = GovernanceConfig::default();
        let santiago = "America/Santiago"; // UTC-3 in March 2025 (DST)
        struct Case {
            name: &'static str,
            tz: &'static str,
            g: GovernanceSettings,
            now: &'static str,
            obs: Observed,
            kill: (bool, bool),
            want: Option<(&'static str, BlockReason)>,
        }
        let none = Observed::default();
        let cases = [
            Case {
                name: "no limits",
                tz: santiago,
                g: gov(0, 0, None),
                now: "2025-03-03T15:00:00Z",
                obs: none,
                kill: (false, false),
                want: None,
            },
            Case {
                name: "under the cap",
                tz: santiago,
                g: gov(3, 0, None),
                now: "2025-03-03T15:00:00Z",
                obs: Observed {
                    published_today: 2,
                    ..none
                },
                kill: (false, false),
                want: None,
            },
            Case {
                name: "cap reached: next local midnight (03:00Z in Santiago)",
                tz: santiago,
                g: gov(3, 0, None),
                now: "2025-03-03T15:00:00Z",
                obs: Observed {
                    published_today: 3,
                    ..none
                },
                kill: (false, false),
                want: Some(("2025-03-04T03:00:00Z", BlockReason::DailyCap(3))),
            },
            Case {
                name: "cap in UTC is another day boundary",
                tz: "UTC",
                g: gov(1, 0, None),
                now: "2025-03-03T23:30:00Z",
                obs: Observed {
                    published_today: 1,
                    ..none
                },
                kill: (false, false),
                want: Some(("2025-03-04T00:00:00Z", BlockReason::DailyCap(1))),
            },
            Case {
                name: "min gap",
                tz: santiago,
                g: gov(0, 3600, None),
                now: "2025-03-03T15:00:00Z",
                obs: Observed {
                    last_published_at: Some(at("2025-03-03T14:30:00Z")),
                    ..none
                },
                kill: (false, false),
                want: Some(("2025-03-03T15:30:00Z", BlockReason::MinGap(3600))),
            },
            Case {
                name: "gap already passed",
                tz: santiago,
                g: gov(0, 3600, None),
                now: "2025-03-03T15:00:00Z",
                obs: Observed {
                    last_published_at: Some(at("2025-03-03T14:00:00Z")),
                    ..none
                },
                kill: (false, false),
                want: None,
            },
            Case {
                name: "quiet hours 22:00-07:30 local, wrapping: 23:00 local -> 07:30 next day",
                tz: santiago,
                g: gov(0, 0, Some((22 * 60, 7 * 60 + 30))),
                now: "2025-03-04T02:00:00Z", // 23:00 on the 3rd in Santiago
                obs: none,
                kill: (false, false),
                want: Some(("2025-03-04T10:30:00Z", BlockReason::QuietHours)),
            },
            Case {
                name: "quiet hours after midnight",
                tz: santiago,
                g: gov(0, 0, Some((22 * 60, 7 * 60 + 30))),
                now: "2025-03-04T08:00:00Z", // 05:00 local
                obs: none,
                kill: (false, false),
                want: Some(("2025-03-04T10:30:00Z", BlockReason::QuietHours)),
            },
            Case {
                name: "quiet end is exclusive",
                tz: santiago,
                g: gov(0, 0, Some((22 * 60, 7 * 60 + 30))),
                now: "2025-03-04T10:30:00Z",
                obs: none,
                kill: (false, false),
                want: None,
            },
            Case {
                name: "non-wrapping quiet window 12:00-14:00 local",
                tz: "Asia/Kolkata", // UTC+5:30
                g: gov(0, 0, Some((12 * 60, 14 * 60))),
                now: "2025-03-03T07:00:00Z", // 12:30 local
                obs: none,
                kill: (false, false),
                want: Some(("2025-03-03T08:30:00Z", BlockReason::QuietHours)),
            },
            Case {
                name: "gap lands in quiet hours: moved to their end",
                tz: santiago,
                g: gov(0, 7200, Some((22 * 60, 7 * 60 + 30))),
                now: "2025-03-04T00:00:00Z", // 21:00 local
                obs: Observed {
                    last_published_at: Some(at("2025-03-03T23:30:00Z")),
                    ..none
                },
                kill: (false, false),
                want: Some(("2025-03-04T10:30:00Z", BlockReason::MinGap(7200))),
            },
            Case {
                name: "cap moves to midnight, which is in quiet hours",
                tz: santiago,
                g: gov(2, 0, Some((22 * 60, 7 * 60 + 30))),
                now: "2025-03-03T20:00:00Z", // 17:00 local
                obs: Observed {
                    published_today: 2,
                    ..none
                },
                kill: (false, false),
                want: Some(("2025-03-04T10:30:00Z", BlockReason::DailyCap(2))),
            },
            Case {
                name: "tenant kill switch wins",
                tz: santiago,
                g: gov(0, 0, None),
                now: "2025-03-03T15:00:00Z",
                obs: none,
                kill: (true, true),
                want: Some(("2025-03-03T15:15:00Z", BlockReason::TenantKillSwitch)),
            },
            Case {
                name: "account kill switch",
                tz: santiago,
                g: gov(0, 0, None),
                now: "2025-03-03T15:00:00Z",
                obs: none,
                kill: (false, true),
                want: Some(("2025-03-03T15:15:00Z", BlockReason::AccountKillSwitch)),
            },
            Case {
                name: "ig quota used up",
                tz: santiago,
                g: gov(0, 0, None),
                now: "2025-03-03T15:00:00Z",
                obs: Observed {
                    ig_quota_remaining: Some(0),
                    ..none
                },
                kill: (false, false),
                want: Some(("2025-03-03T16:00:00Z", BlockReason::IgQuota)),
            },
            Case {
                name: "ig quota left",
                tz: santiago,
                g: gov(0, 0, None),
                now: "2025-03-03T15:00:00Z",
                obs: Observed {
                    ig_quota_remaining: Some(1),
                    ..none
                },
                kill: (false, false),
                want: None,
            },
            Case {
                name: "rate governor block",
                tz: santiago,
                g: gov(0, 0, None),
                now: "2025-03-03T15:00:00Z",
                obs: Observed {
                    rate_blocked_for: Some(Duration::from_secs(120)),
                    ..none
                },
                kill: (false, false),
                want: Some(("2025-03-03T15:02:00Z", BlockReason::RateLimited)),
            },
            Case {
                name: "bad time zone is held with a clear reason",
                tz: "Mars/Olympus",
                g: gov(0, 0, None),
                now: "2025-03-03T15:00:00Z",
                obs: none,
                kill: (false, false),
                want: Some((
                    "2025-03-03T15:15:00Z",
                    BlockReason::InvalidTimezone("Mars/Olympus".into()),
                )),
            },
        ];
        for c in cases {
            let mut a = account(c.tz, c.g);
            a.kill_switch = c.kill.1;
            let mut t = tenant();
            t.kill_switch = c.kill.0;
            let got = evaluate(&a, &t, at(c.now), &c.obs, &cfg);
            let want = match c.want {
                None => Decision::Allow,
                Some((until, reason)) => Decision::Defer {
                    until: at(until),
                    reason,
                },
            };
            assert_eq!(got, want, "{}", c.name);
        }
    }

    #[test]
    fn local_days_across_dst() {
        // Santiago leaves DST at 2025-04-06 00:00 local (clocks go back to 23:00 on the 5th):
        // that day is 25 hours long.
        let tz = parse_tz("America/Santiago").unwrap();
        let (s, e) = local_day_bounds(tz, at("2025-04-05T12:00:00Z"));
        assert_eq!(e - s, 25 * 3_600_000);
        // It enters DST on 2025-09-07: midnight does not exist, the day starts at 01:00
        // and is 23 hours long.
        let (s, e) = local_day_bounds(tz, at("2025-09-07T12:00:00Z"));
        assert_eq!(s, at("2025-09-07T04:00:00Z"));
        assert_eq!(e - s, 23 * 3_600_000);
        let utc = parse_tz("UTC").unwrap();
        assert_eq!(
            local_day_bounds(utc, at("2025-03-03T10:00:00Z")),
            (at("2025-03-03T00:00:00Z"), at("2025-03-04T00:00:00Z"))
        );
    }
}
