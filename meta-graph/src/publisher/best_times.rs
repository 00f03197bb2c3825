//! Best times to post: an account's weekly hour slots (7 days × 24 hours, in its time
//! zone) ranked from how its past posts did and, where Meta reports it, when its
//! audience is online — each slot with the evidence behind its rank.
//!
//! [`rank_slots`] is pure; [`fetch_performance`] and [`fetch_audience`] read the
//! insights.

use std::collections::BTreeMap;

use chrono::{Datelike, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use meta_core::{Client, IgMediaId, IgUserId, PageId, PostId};
use serde::Serialize;

use crate::GraphExt;
use crate::insights::MetricValue;
use crate::publisher::store::{Account, Platform, PostRecord};

/// Weight of post performance in a slot's score when audience data exists too.
const POSTS_WEIGHT: f64 = 0.7;
/// Weight of audience-online data.
const AUDIENCE_WEIGHT: f64 = 0.3;

/// How one published post did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PostPerformance {
    /// When it was published, unix ms.
    pub published_at: i64,
    /// The metric's value (impressions, views, engagement…).
    pub value: f64,
}

/// One weekly hour slot with its rank's evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlotRank {
    /// Day of the week, local.
    pub weekday: Weekday,
    /// Hour of the day, local (0–23).
    pub hour: u8,
    /// Posts published in this slot that had the metric.
    pub posts: u32,
    /// Their mean metric value.
    pub mean_metric: Option<f64>,
    /// Mean audience online in this hour, when Meta reported it.
    pub audience_online: Option<f64>,
    /// The score the ranking used (0–1).
    pub score: f64,
}

/// Ranks all 168 slots, best first. A slot's score is its mean post metric relative to
/// the best slot's, blended (70/30) with its audience-online value relative to the
/// busiest hour's when audience data exists. Ties: more posts first, then earlier in
/// the week. `audience` is `(weekday, hour, online)` in local time.
#[must_use]
pub fn rank_slots(
    tz: Tz,
    posts: &[PostPerformance],
    audience: &[(Weekday, u8, f64)],
) -> Vec<SlotRank> {
    let mut sums = [[(0_u32, 0.0_f64); 24]; 7];
    for p in posts {
        if !p.value.is_finite() {
            continue;
        }
        let Some(t) = Utc.timestamp_millis_opt(p.published_at).single() else {
            continue;
        };
        let local = t.with_timezone(&tz);
        let d = local.weekday().num_days_from_monday() as usize;
        let h = local.hour() as usize;
        sums[d][h].0 += 1;
        sums[d][h].1 += p.value;
    }
    let mut aud = [[(0_u32, 0.0_f64); 24]; 7];
    for (day, hour, v) in audience {
        if *hour < 24 && v.is_finite() {
            let slot = &mut aud[day.num_days_from_monday() as usize][*hour as usize];
            slot.0 += 1;
            slot.1 += v;
        }
    }
    let mean = |(n, s): (u32, f64)| (n > 0).then(|| s / f64::from(n));
    let best_post = sums
        .iter()
        .flatten()
        .filter_map(|c| mean(*c))
        .fold(0.0_f64, f64::max);
    let best_aud = aud
        .iter()
        .flatten()
        .filter_map(|c| mean(*c))
        .fold(0.0_f64, f64::max);
    let have_aud = best_aud > 0.0;
    let mut out = Vec::with_capacity(168);
    for (d, row) in sums.iter().enumerate() {
        for (h, cell) in row.iter().enumerate() {
            let mean_metric = mean(*cell);
            let audience_online = mean(aud[d][h]);
            let post_score = match mean_metric {
                Some(m) if best_post > 0.0 => m / best_post,
                _ => 0.0,
            };
            let aud_score = match audience_online {
                Some(a) if have_aud => a / best_aud,
                _ => 0.0,
            };
            let score = if have_aud {
                POSTS_WEIGHT * post_score + AUDIENCE_WEIGHT * aud_score
            } else {
                post_score
            };
            out.push(SlotRank {
                weekday: weekday(d),
                hour: u8::try_from(h).unwrap_or(0),
                posts: cell.0,
                mean_metric,
                audience_online,
                score,
            });
        }
    }
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.posts.cmp(&a.posts))
            .then(
                a.weekday
                    .num_days_from_monday()
                    .cmp(&b.weekday.num_days_from_monday()),
            )
            .then(a.hour.cmp(&b.hour))
    });
    out
}

fn weekday(d: usize) -> Weekday {
    match d {
        0 => Weekday::Mon,
        1 => Weekday::Tue,
        2 => Weekday::Wed,
        3 => Weekday::Thu,
        4 => Weekday::Fri,
        5 => Weekday::Sat,
        _ => Weekday::Sun,
    }
}

/// The default metric per platform: Facebook `post_media_view` (the successor of
/// `post_impressions`), Instagram `views`.
#[must_use]
pub fn default_metric(platform: Platform) -> &'static str {
    match platform {
        Platform::Instagram => "views",
        Platform::Facebook | Platform::AdAccount => "post_media_view",
    }
}

/// Reads `metric` for each published post that has Meta's id. Posts whose metric is
/// missing or whose call fails are left out (missing is not zero).
pub async fn fetch_performance(
    client: &Client,
    account: &Account,
    posts: &[PostRecord],
    metric: Option<&str>,
) -> Vec<PostPerformance> {
    let metric = metric.unwrap_or_else(|| default_metric(account.platform));
    let insights = client.insights();
    let mut out = Vec::new();
    for p in posts {
        let (Some(id), Some(at)) = (&p.published_id, p.published_at) else {
            continue;
        };
        let req = match account.platform {
            Platform::Instagram => insights.ig_media(&IgMediaId::new(id.clone())),
            Platform::Facebook | Platform::AdAccount => insights.post(&PostId::new(id.clone())),
        };
        match req.metric(metric).send().await {
            Ok(report) => {
                if let Some(v) = report.value(metric).as_f64() {
                    out.push(PostPerformance {
                        published_at: at,
                        value: v,
                    });
                }
            }
            Err(e) => tracing::debug!(post = %p.id, error = %e, "post insights unavailable"),
        }
    }
    out
}

/// Reads when the audience is online (`page_fans_online` for Pages, `online_followers`
/// for Instagram) as `(weekday, hour, online)` in the account's time zone. Empty when
/// Meta (or the sandbox) does not provide it: the ranking then uses posts alone.
pub async fn fetch_audience(client: &Client, account: &Account) -> Vec<(Weekday, u8, f64)> {
    let insights = client.insights();
    let (req, metric) = match account.platform {
        Platform::Instagram => (
            insights.ig_user(&IgUserId::new(account.meta_id.clone())),
            "online_followers",
        ),
        Platform::Facebook | Platform::AdAccount => (
            insights.page(&PageId::new(account.meta_id.clone())),
            "page_fans_online",
        ),
    };
    let Ok(report) = req.metric(metric).send().await else {
        return Vec::new();
    };
    let Some(m) = report.metric(metric) else {
        return Vec::new();
    };
    let tz = crate::publisher::governance::parse_tz(&account.timezone).unwrap_or(Tz::UTC);
    let mut out = Vec::new();
    for point in &m.values {
        // Each point is one day: {"0": n, …, "23": n}, hours in the Page's reporting
        // zone; the day comes from end_time.
        let MetricValue::Breakdown(hours) = &point.value else {
            continue;
        };
        let day = point
            .end_time
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%z").ok())
            .map(|t| t.with_timezone(&tz).weekday());
        let Some(day) = day else { continue };
        let parsed: BTreeMap<u8, f64> = hours
            .iter()
            .filter_map(|(h, v)| Some((h.parse::<u8>().ok()?, v.as_f64()?)))
            .collect();
        for (h, v) in parsed {
            out.push((day, h, v));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn ranks_by_mean_metric_in_local_time_with_evidence() {
        let tz: Tz = "America/Santiago".parse().unwrap(); // UTC-3 in March 2025
        let posts = [
            // Monday 09:xx local, twice: mean 150.
            PostPerformance {
                published_at: at("2025-03-03T12:10:00Z"),
                value: 100.0,
            },
            PostPerformance {
                published_at: at("2025-03-10T12:50:00Z"),
                value: 200.0,
            },
            // Tuesday 18:xx local: 300.
            PostPerformance {
                published_at: at("2025-03-04T21:00:00Z"),
                value: 300.0,
            },
            // Friday 18:xx local: 150 (ties Monday 09 on score, one post fewer).
            PostPerformance {
                published_at: at("2025-03-07T21:30:00Z"),
                value: 150.0,
            },
            PostPerformance {
                published_at: at("2025-03-07T21:40:00Z"),
                value: f64::NAN,
            },
        ];
        let ranked = rank_slots(tz, &posts, &[]);
        assert_eq!(ranked.len(), 168);
        assert_eq!((ranked[0].weekday, ranked[0].hour), (Weekday::Tue, 18));
        assert!((ranked[0].score - 1.0).abs() < 1e-9);
        assert_eq!(ranked[0].posts, 1);
        assert_eq!((ranked[1].weekday, ranked[1].hour), (Weekday::Mon, 9));
        assert_eq!(ranked[1].posts, 2);
        assert_eq!(ranked[1].mean_metric, Some(150.0));
        assert!((ranked[1].score - 0.5).abs() < 1e-9);
        assert_eq!((ranked[2].weekday, ranked[2].hour), (Weekday::Fri, 18));
        assert_eq!(ranked[2].posts, 1, "the NaN value is not evidence");
        // Slots without evidence come last, in week order, with score 0.
        assert_eq!((ranked[3].weekday, ranked[3].hour), (Weekday::Mon, 0));
        assert_eq!(ranked[3].mean_metric, None);
        assert_eq!(ranked[3].score, 0.0);
    }

    #[test]
    fn audience_blends_in() {
        let tz = Tz::UTC;
        let posts = [
            PostPerformance {
                published_at: at("2025-03-03T10:00:00Z"), // Mon 10
                value: 100.0,
            },
            PostPerformance {
                published_at: at("2025-03-03T20:00:00Z"), // Mon 20
                value: 90.0,
            },
        ];
        let audience = [(Weekday::Mon, 20, 1000.0), (Weekday::Mon, 10, 100.0)];
        let ranked = rank_slots(tz, &posts, &audience);
        // Mon 20: 0.7*0.9 + 0.3*1.0 = 0.93 beats Mon 10: 0.7*1.0 + 0.3*0.1 = 0.73.
        assert_eq!((ranked[0].weekday, ranked[0].hour), (Weekday::Mon, 20));
        assert_eq!(ranked[0].audience_online, Some(1000.0));
        assert!((ranked[0].score - 0.93).abs() < 1e-9);
        assert_eq!((ranked[1].weekday, ranked[1].hour), (Weekday::Mon, 10));
    }

    #[test]
    fn no_data_is_all_zero_in_week_order() {
        let ranked = rank_slots(Tz::UTC, &[], &[]);
        assert_eq!(ranked.len(), 168);
        assert!(ranked.iter().all(|s| s.score == 0.0 && s.posts == 0));
        assert_eq!((ranked[0].weekday, ranked[0].hour), (Weekday::Mon, 0));
        assert_eq!((ranked[167].weekday, ranked[167].hour), (Weekday::Sun, 23));
    }
}
