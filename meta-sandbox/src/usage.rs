//! Quotas and usage headers, computed from real call counts on the sandbox clock.
//!
//! Each scope (the app, a business-use-case object, an ad account) has a [`Meter`] with a
//! fixed window. A call is admitted only if every scope it touches is below its quota;
//! admitted calls count against all of them, rejected ones against none. A scope that
//! goes over quota is blocked (BUC and ad account for a configured time, the app until
//! its window ends); when the block ends the scope starts a fresh window.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::config::QuotaConfig;
use crate::error::GraphError;

/// Milliseconds on the sandbox clock.
pub(crate) type Millis = u64;

/// Calls counted in one window for one scope.
#[derive(Debug, Clone, Default)]
pub(crate) struct Meter {
    window_start: Millis,
    count: u32,
    blocked_until: Option<Millis>,
}

impl Meter {
    fn refresh(&mut self, now: Millis, window: Millis) {
        if let Some(until) = self.blocked_until {
            if now >= until {
                *self = Meter {
                    window_start: now,
                    ..Meter::default()
                };
            }
            return;
        }
        if now >= self.window_start.saturating_add(window) {
            self.window_start = now;
            self.count = 0;
        }
    }

    fn blocked(&self, now: Millis) -> bool {
        self.blocked_until.is_some_and(|u| u > now)
    }

    fn remaining_block(&self, now: Millis) -> Millis {
        self.blocked_until.map_or(0, |u| u.saturating_sub(now))
    }

    fn pct(&self, limit: u32) -> u64 {
        u64::from(self.count) * 100 / u64::from(limit.max(1))
    }
}

/// The kind of business-use-case a call counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum BucType {
    Pages,
    AdsManagement,
}

impl BucType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pages => "pages",
            Self::AdsManagement => "ads_management",
        }
    }

    fn code(self) -> i64 {
        match self {
            Self::Pages => 80001,
            Self::AdsManagement => 80004,
        }
    }
}

/// Which quotas a call counts against, besides the app's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Scopes {
    /// The business object id and use case.
    pub(crate) buc: Option<(String, BucType)>,
    /// The ad account id (digits).
    pub(crate) ad_account: Option<String>,
}

/// All meters of a sandbox.
#[derive(Debug, Default)]
pub(crate) struct Usage {
    app: Meter,
    buc: HashMap<(String, BucType), Meter>,
    ad_accounts: HashMap<String, Meter>,
}

/// The Graph throttle error for a BUC scope.
pub(crate) fn buc_error(ty: BucType) -> GraphError {
    let message = match ty {
        BucType::Pages => {
            "(#80001) There have been too many calls to this Page account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting."
        }
        BucType::AdsManagement => {
            "(#80004) There have been too many calls to this ad-account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting#ads-management."
        }
    };
    GraphError::new("OAuthException", ty.code(), message).subcode(2_446_079)
}

/// The app-level throttle error.
pub(crate) fn app_error() -> GraphError {
    GraphError::new(
        "OAuthException",
        4,
        "(#4) Application request limit reached",
    )
    .transient(true)
}

/// The ad-account throttle error.
pub(crate) fn ad_account_error() -> GraphError {
    GraphError::new("OAuthException", 17, "(#17) User request limit reached")
        .subcode(2_446_079)
        .transient(true)
        .user(
            "Ad Account Has Too Many API Calls",
            "There have been too many calls from this ad-account. Please wait a bit and try again.",
        )
}

fn ms(d: std::time::Duration) -> Millis {
    Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX)
}

impl Usage {
    fn refresh(&mut self, scopes: &Scopes, q: &QuotaConfig, now: Millis) {
        let w = ms(q.window);
        self.app.refresh(now, w);
        if let Some(key) = &scopes.buc {
            self.buc.entry(key.clone()).or_default().refresh(now, w);
        }
        if let Some(id) = &scopes.ad_account {
            self.ad_accounts
                .entry(id.clone())
                .or_default()
                .refresh(now, w);
        }
    }

    /// Admits and counts a call, or says which scope throttles it.
    pub(crate) fn admit(
        &mut self,
        scopes: &Scopes,
        q: &QuotaConfig,
        now: Millis,
    ) -> Result<(), GraphError> {
        self.refresh(scopes, q, now);
        // The app is checked first, then the ad account, then the business use case.
        if self.app.count >= q.app_calls {
            // The app limit has no separate block: it lifts when the window rolls over.
            return Err(app_error());
        }
        if let Some(id) = &scopes.ad_account {
            let m = self.ad_accounts.entry(id.clone()).or_default();
            if m.blocked(now) {
                return Err(ad_account_error());
            }
            if m.count >= q.ad_account_calls {
                m.blocked_until = Some(now.saturating_add(ms(q.ad_account_block)));
                return Err(ad_account_error());
            }
        }
        if let Some((id, ty)) = &scopes.buc {
            let m = self.buc.entry((id.clone(), *ty)).or_default();
            if m.blocked(now) {
                return Err(buc_error(*ty));
            }
            if m.count >= q.buc_calls {
                m.blocked_until = Some(now.saturating_add(ms(q.buc_block)));
                return Err(buc_error(*ty));
            }
        }
        self.app.count += 1;
        if let Some(id) = &scopes.ad_account {
            self.ad_accounts.entry(id.clone()).or_default().count += 1;
        }
        if let Some(key) = &scopes.buc {
            self.buc.entry(key.clone()).or_default().count += 1;
        }
        Ok(())
    }

    /// Blocks a BUC scope until `until`.
    pub(crate) fn block_buc(&mut self, key: (String, BucType), until: Millis) {
        self.buc.entry(key).or_default().blocked_until = Some(until);
    }

    /// Blocks an ad account until `until`.
    pub(crate) fn block_ad_account(&mut self, id: String, until: Millis) {
        self.ad_accounts.entry(id).or_default().blocked_until = Some(until);
    }

    /// The usage headers for a call touching `scopes`. `app_full` forces `X-App-Usage`
    /// to 100 % (throttle bursts).
    pub(crate) fn headers(
        &mut self,
        scopes: &Scopes,
        q: &QuotaConfig,
        now: Millis,
        app_full: bool,
    ) -> Vec<(String, String)> {
        self.refresh(scopes, q, now);
        let mut out = Vec::with_capacity(3);
        let app = if app_full {
            100
        } else {
            self.app.pct(q.app_calls)
        };
        out.push((
            "x-app-usage".to_owned(),
            json!({"call_count": app, "total_cputime": cpu(app), "total_time": time(app)})
                .to_string(),
        ));
        if let Some((id, ty)) = &scopes.buc {
            let m = self.buc.entry((id.clone(), *ty)).or_default();
            let pct = if m.blocked(now) {
                100
            } else {
                m.pct(q.buc_calls)
            };
            let mut entry = json!({
                "type": ty.as_str(),
                "call_count": pct,
                "total_cputime": cpu(pct),
                "total_time": time(pct),
                "estimated_time_to_regain_access": m.remaining_block(now).div_ceil(60_000),
            });
            if *ty == BucType::AdsManagement
                && let Value::Object(map) = &mut entry
            {
                map.insert("ads_api_access_tier".into(), json!("standard_access"));
            }
            let mut header = serde_json::Map::new();
            header.insert(id.clone(), json!([entry]));
            out.push((
                "x-business-use-case-usage".to_owned(),
                Value::Object(header).to_string(),
            ));
        }
        if let Some(id) = &scopes.ad_account {
            let window = ms(q.window);
            let m = self.ad_accounts.entry(id.clone()).or_default();
            let (pct, reset_ms) = if m.blocked(now) {
                (100.0, m.remaining_block(now))
            } else if m.count > 0 {
                let pct = f64::from(m.count) * 100.0 / f64::from(q.ad_account_calls.max(1));
                (
                    pct,
                    m.window_start.saturating_add(window).saturating_sub(now),
                )
            } else {
                (0.0, 0)
            };
            out.push((
                "x-ad-account-usage".to_owned(),
                json!({
                    "acc_id_util_pct": (pct * 100.0).round() / 100.0,
                    "reset_time_duration": reset_ms.div_ceil(1000),
                    "ads_api_access_tier": "standard_access",
                })
                .to_string(),
            ));
        }
        out
    }
}

/// CPU and wall time shares are modelled as fixed fractions of the call share, so the
/// call count is always the first to reach 100 %, as in Meta's own examples.
fn cpu(pct: u64) -> u64 {
    pct * 3 / 4
}

fn time(pct: u64) -> u64 {
    pct * 2 / 3
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn quotas() -> QuotaConfig {
        QuotaConfig::default()
            .app_calls(10)
            .buc_calls(4)
            .ad_account_calls(3)
            .window(Duration::from_secs(60))
            .buc_block(Duration::from_secs(90))
            .ad_account_block(Duration::from_secs(5))
    }

    fn header(h: &[(String, String)], name: &str) -> Value {
        let v = &h.iter().find(|(k, _)| k == name).unwrap().1;
        serde_json::from_str(v).unwrap()
    }

    #[test]
    fn buc_blocks_and_recovers() {
        let q = quotas();
        let mut u = Usage::default();
        let s = Scopes {
            buc: Some(("p1".into(), BucType::Pages)),
            ad_account: None,
        };
        for _ in 0..4 {
            u.admit(&s, &q, 0).unwrap();
        }
        let h = u.headers(&s, &q, 0, false);
        assert_eq!(header(&h, "x-app-usage")["call_count"], 40);
        assert_eq!(
            header(&h, "x-business-use-case-usage")["p1"][0]["call_count"],
            100
        );
        assert_eq!(u.admit(&s, &q, 1).unwrap_err().code, 80001);
        let h = u.headers(&s, &q, 1, false);
        let entry = &header(&h, "x-business-use-case-usage")["p1"][0];
        assert_eq!(entry["estimated_time_to_regain_access"], 2);
        assert_eq!(entry["type"], "pages");
        // Still blocked after the window but before the block ends.
        assert!(u.admit(&s, &q, 61_000).is_err());
        u.admit(&s, &q, 90_001).unwrap();
    }

    #[test]
    fn ad_account_throttles_with_code_17() {
        let q = quotas();
        let mut u = Usage::default();
        let s = Scopes {
            buc: Some(("9".into(), BucType::AdsManagement)),
            ad_account: Some("9".into()),
        };
        for _ in 0..3 {
            u.admit(&s, &q, 0).unwrap();
        }
        let h = u.headers(&s, &q, 0, false);
        assert_eq!(header(&h, "x-ad-account-usage")["acc_id_util_pct"], 100.0);
        let e = u.admit(&s, &q, 0).unwrap_err();
        assert_eq!((e.code, e.subcode), (17, Some(2_446_079)));
        let h = u.headers(&s, &q, 1000, false);
        assert_eq!(header(&h, "x-ad-account-usage")["reset_time_duration"], 4);
        assert_eq!(
            header(&h, "x-business-use-case-usage")["9"][0]["ads_api_access_tier"],
            "standard_access"
        );
        u.admit(&s, &q, 5000).unwrap();
    }

    #[test]
    fn app_limit_lifts_with_the_window() {
        let q = quotas();
        let mut u = Usage::default();
        let s = Scopes::default();
        for _ in 0..10 {
            u.admit(&s, &q, 0).unwrap();
        }
        assert_eq!(u.admit(&s, &q, 0).unwrap_err().code, 4);
        u.admit(&s, &q, 60_000).unwrap();
    }
}
