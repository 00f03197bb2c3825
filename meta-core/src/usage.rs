//! Meta's usage headers, parsed leniently.
//!
//! Meta reports how much of each rate-limit budget a caller has used in JSON-valued
//! response headers. They are the only early warning before a throttle, so every
//! response carries a parsed [`Usage`].
//!
//! Parsing is deliberately forgiving: numbers may be integers or floats, unknown keys
//! are ignored, and a malformed header is recorded in [`Usage::problems`] instead of
//! failing the call. A header that is **absent** stays `None`: Meta only sends the
//! headers "once enough calls have been made", so missing is not zero.

use std::collections::BTreeMap;
use std::time::Duration;

use http::HeaderMap;
use serde::{Deserialize, Deserializer, Serialize};

/// `X-App-Usage`.
pub const HEADER_APP_USAGE: &str = "x-app-usage";
/// `X-Page-Usage` (legacy page-level header, same shape as `X-App-Usage`).
pub const HEADER_PAGE_USAGE: &str = "x-page-usage";
/// `X-Ad-Account-Usage`.
pub const HEADER_AD_ACCOUNT_USAGE: &str = "x-ad-account-usage";
/// `X-Business-Use-Case-Usage`.
pub const HEADER_BUC_USAGE: &str = "x-business-use-case-usage";
/// `x-fb-ads-insights-throttle`.
pub const HEADER_INSIGHTS_THROTTLE: &str = "x-fb-ads-insights-throttle";

/// Every usage header Meta sent on one response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Usage {
    /// `X-App-Usage`: the app's platform budget, percentages 0–100.
    pub app: Option<AppUsage>,
    /// `X-Page-Usage`: legacy page-level budget, percentages 0–100.
    pub page: Option<AppUsage>,
    /// `X-Ad-Account-Usage`: the ad account's budget.
    pub ad_account: Option<AdAccountUsage>,
    /// `X-Business-Use-Case-Usage`: one entry per business object and use-case type.
    pub business_use_case: Vec<BucUsage>,
    /// `x-fb-ads-insights-throttle`.
    pub ads_insights: Option<InsightsThrottle>,
    /// Headers that were present but could not be understood (name and reason).
    /// They never fail a call; they are kept so a caller can log them.
    pub problems: Vec<UsageProblem>,
}

/// A usage header that was present but malformed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageProblem {
    /// Header name, lower case.
    pub header: String,
    /// Why it was not understood.
    pub reason: String,
}

/// The shape shared by `X-App-Usage` and `X-Page-Usage`. Values are percentages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AppUsage {
    /// Share of the call-count budget used, 0–100.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub call_count: Option<f64>,
    /// Share of the total-time budget used, 0–100.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub total_time: Option<f64>,
    /// Share of the CPU-time budget used, 0–100.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub total_cputime: Option<f64>,
}

impl AppUsage {
    /// The highest of the three percentages (Meta throttles when any reaches 100).
    #[must_use]
    pub fn max_pct(&self) -> Option<f64> {
        max_opt([self.call_count, self.total_time, self.total_cputime])
    }
}

/// `X-Ad-Account-Usage`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AdAccountUsage {
    /// Share of the ad account's quota used, 0–100 (a float).
    #[serde(default, deserialize_with = "lenient_f64")]
    pub acc_id_util_pct: Option<f64>,
    /// Seconds until the score resets to zero.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub reset_time_duration: Option<f64>,
    /// `development_access` or `standard_access`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub ads_api_access_tier: Option<String>,
}

impl AdAccountUsage {
    /// [`reset_time_duration`](Self::reset_time_duration) as a duration.
    #[must_use]
    pub fn reset_after(&self) -> Option<Duration> {
        self.reset_time_duration.and_then(secs_to_duration)
    }
}

/// One `X-Business-Use-Case-Usage` entry: a business object and one use-case type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BucUsage {
    /// The business object the budget belongs to (ad account, Page or IG account id).
    pub business_id: String,
    /// The use-case type: `ads_management`, `pages`, `instagram`, `messenger`, …
    pub use_case: String,
    /// Share of the call-count budget used, 0–100.
    pub call_count: Option<f64>,
    /// Share of the total-time budget used, 0–100.
    pub total_time: Option<f64>,
    /// Share of the CPU-time budget used, 0–100.
    pub total_cputime: Option<f64>,
    /// Minutes until access is regained; 0 when not blocked.
    pub estimated_time_to_regain_access: Option<f64>,
    /// `development_access` or `standard_access`, when sent.
    pub ads_api_access_tier: Option<String>,
}

impl BucUsage {
    /// The highest of the three percentages.
    #[must_use]
    pub fn max_pct(&self) -> Option<f64> {
        max_opt([self.call_count, self.total_time, self.total_cputime])
    }

    /// How long Meta says this scope stays blocked (`estimated_time_to_regain_access`
    /// is in **minutes**). `None` when zero or absent.
    #[must_use]
    pub fn regain_after(&self) -> Option<Duration> {
        self.estimated_time_to_regain_access
            .filter(|m| *m > 0.0)
            .and_then(|m| secs_to_duration(m * 60.0))
    }
}

/// `x-fb-ads-insights-throttle`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InsightsThrottle {
    /// Share of the app's insights budget used, 0–100.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub app_id_util_pct: Option<f64>,
    /// Share of the ad account's insights budget used, 0–100.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub acc_id_util_pct: Option<f64>,
    /// `development_access` or `standard_access`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub ads_api_access_tier: Option<String>,
}

impl Usage {
    /// Parses every usage header in `headers`, case-insensitively. Never fails:
    /// malformed headers land in [`Usage::problems`].
    #[must_use]
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut usage = Usage::default();
        if let Some(raw) = header_str(headers, HEADER_APP_USAGE, &mut usage.problems) {
            usage.app = parse_json(HEADER_APP_USAGE, raw, &mut usage.problems);
        }
        if let Some(raw) = header_str(headers, HEADER_PAGE_USAGE, &mut usage.problems) {
            usage.page = parse_json(HEADER_PAGE_USAGE, raw, &mut usage.problems);
        }
        if let Some(raw) = header_str(headers, HEADER_AD_ACCOUNT_USAGE, &mut usage.problems) {
            usage.ad_account = parse_json(HEADER_AD_ACCOUNT_USAGE, raw, &mut usage.problems);
        }
        if let Some(raw) = header_str(headers, HEADER_BUC_USAGE, &mut usage.problems) {
            usage.business_use_case = parse_buc(raw, &mut usage.problems);
        }
        if let Some(raw) = header_str(headers, HEADER_INSIGHTS_THROTTLE, &mut usage.problems) {
            usage.ads_insights = parse_json(HEADER_INSIGHTS_THROTTLE, raw, &mut usage.problems);
        }
        usage
    }

    /// True when Meta sent no usage header at all (which is *not* zero usage).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.app.is_none()
            && self.page.is_none()
            && self.ad_account.is_none()
            && self.business_use_case.is_empty()
            && self.ads_insights.is_none()
    }

    /// The highest percentage across every header, if any was sent.
    #[must_use]
    pub fn max_pct(&self) -> Option<f64> {
        let mut all = vec![
            self.app.as_ref().and_then(AppUsage::max_pct),
            self.page.as_ref().and_then(AppUsage::max_pct),
            self.ad_account.as_ref().and_then(|a| a.acc_id_util_pct),
        ];
        if let Some(i) = &self.ads_insights {
            all.push(i.app_id_util_pct);
            all.push(i.acc_id_util_pct);
        }
        all.extend(self.business_use_case.iter().map(BucUsage::max_pct));
        max_opt(all)
    }

    /// The longest wait Meta asked for in these headers: the largest BUC
    /// `estimated_time_to_regain_access` (minutes) or, for an ad account at or above
    /// 100 %, `reset_time_duration` (seconds).
    #[must_use]
    pub fn regain_after(&self) -> Option<Duration> {
        let buc = self
            .business_use_case
            .iter()
            .filter_map(BucUsage::regain_after)
            .max();
        let ad = self
            .ad_account
            .as_ref()
            .filter(|a| a.acc_id_util_pct.is_some_and(|p| p >= 100.0))
            .and_then(AdAccountUsage::reset_after);
        buc.max(ad)
    }
}

fn header_str<'a>(
    headers: &'a HeaderMap,
    name: &str,
    problems: &mut Vec<UsageProblem>,
) -> Option<&'a str> {
    let value = headers.get(name)?;
    match value.to_str() {
        Ok(s) if s.trim().is_empty() => None,
        Ok(s) => Some(s),
        Err(_) => {
            problems.push(UsageProblem {
                header: name.to_owned(),
                reason: "header value is not visible ASCII".to_owned(),
            });
            None
        }
    }
}

fn parse_json<T: for<'de> Deserialize<'de>>(
    name: &str,
    raw: &str,
    problems: &mut Vec<UsageProblem>,
) -> Option<T> {
    let mut problem = |reason: String| {
        problems.push(UsageProblem {
            header: name.to_owned(),
            reason,
        });
    };
    let value = match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(v) => v,
        Err(e) => {
            problem(e.to_string());
            return None;
        }
    };
    // Every usage header is a JSON object. serde's derived struct impls would also
    // accept an array positionally (`[1,2]` as `acc_id_util_pct=1, ...`), silently
    // turning garbage into numbers, so check the shape first.
    if !value.is_object() {
        problem("expected a JSON object".to_owned());
        return None;
    }
    match serde_json::from_value::<T>(value) {
        Ok(v) => Some(v),
        Err(e) => {
            problem(e.to_string());
            None
        }
    }
}

#[derive(Deserialize)]
struct RawBucEntry {
    #[serde(default, rename = "type", deserialize_with = "lenient_string")]
    use_case: Option<String>,
    #[serde(default, deserialize_with = "lenient_f64")]
    call_count: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    total_time: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    total_cputime: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    estimated_time_to_regain_access: Option<f64>,
    #[serde(default, deserialize_with = "lenient_string")]
    ads_api_access_tier: Option<String>,
}

fn parse_buc(raw: &str, problems: &mut Vec<UsageProblem>) -> Vec<BucUsage> {
    let map: BTreeMap<String, serde_json::Value> = match parse_json(HEADER_BUC_USAGE, raw, problems)
    {
        Some(m) => m,
        None => return Vec::new(),
    };
    let mut out = Vec::new();
    for (business_id, value) in map {
        let mut problem = |reason: String| {
            problems.push(UsageProblem {
                header: HEADER_BUC_USAGE.to_owned(),
                reason: format!("entry for {business_id}: {reason}"),
            });
        };
        // The map's values are arrays, but a single object has been seen in the wild:
        // accept both rather than drop the whole header. Elements are checked one by
        // one so a single odd element does not hide its siblings.
        let entries = match value {
            serde_json::Value::Array(v) => v,
            obj @ serde_json::Value::Object(_) => vec![obj],
            _ => {
                problem("expected an array of objects".to_owned());
                continue;
            }
        };
        for entry in entries {
            if !entry.is_object() {
                problem("expected an object".to_owned());
                continue;
            }
            match serde_json::from_value::<RawBucEntry>(entry) {
                Ok(e) => out.push(BucUsage {
                    business_id: business_id.clone(),
                    use_case: e.use_case.unwrap_or_default(),
                    call_count: e.call_count,
                    total_time: e.total_time,
                    total_cputime: e.total_cputime,
                    estimated_time_to_regain_access: e.estimated_time_to_regain_access,
                    ads_api_access_tier: e.ads_api_access_tier,
                }),
                Err(e) => problem(e.to_string()),
            }
        }
    }
    out
}

/// Accepts an integer, a float, a numeric string or null; anything else is `None`
/// rather than an error, so one odd field never hides the rest of the header.
fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::Number(n) => n.as_f64().filter(|f| f.is_finite()),
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    })
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn max_opt<I: IntoIterator<Item = Option<f64>>>(it: I) -> Option<f64> {
    it.into_iter().flatten().fold(None, |acc, v| match acc {
        None => Some(v),
        Some(a) => Some(if v > a { v } else { a }),
    })
}

/// Converts non-negative finite seconds to a duration, capped at one day so a
/// nonsense header cannot park a client forever.
fn secs_to_duration(secs: f64) -> Option<Duration> {
    // `+inf` is allowed through to the cap: header values are finite, but a huge
    // `estimated_time_to_regain_access` times 60 can overflow to infinity, and that
    // still means "blocked for a long time", not "not blocked".
    if secs.is_nan() || secs <= 0.0 {
        return None;
    }
    Some(Duration::from_secs_f64(secs.min(86_400.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        h
    }

    fn approx(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    #[test]
    fn pyfacebook_captures() {
        // Real headers from sns-sdks/python-facebook's tests (facts guide §1.1).
        let u = Usage::from_headers(&headers(&[
            (
                "x-app-usage",
                r#"{"call_count":16,"total_cputime":15,"total_time":12}"#,
            ),
            (
                "x-business-use-case-usage",
                r#"{"112130216863063":[{"type":"pages","call_count":1,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":0}]}"#,
            ),
        ]));
        assert!(u.problems.is_empty(), "{:?}", u.problems);
        let app = u.app.as_ref().unwrap();
        assert_eq!(app.call_count, Some(16.0));
        assert_eq!(app.total_cputime, Some(15.0));
        assert_eq!(app.total_time, Some(12.0));
        assert_eq!(app.max_pct(), Some(16.0));
        assert_eq!(u.business_use_case.len(), 1);
        let b = &u.business_use_case[0];
        assert_eq!(b.business_id, "112130216863063");
        assert_eq!(b.use_case, "pages");
        assert_eq!(b.estimated_time_to_regain_access, Some(0.0));
        // Zero minutes means "not blocked", not "retry now".
        assert_eq!(b.regain_after(), None);
        assert_eq!(u.regain_after(), None);
        assert_eq!(u.max_pct(), Some(16.0));
        assert!(u.page.is_none() && u.ad_account.is_none() && u.ads_insights.is_none());
        assert!(!u.is_empty());
    }

    #[test]
    fn buc_with_several_types_and_business_ids() {
        let raw = r#"{
            "66782684":[
                {"type":"ads_management","call_count":95,"total_cputime":20,"total_time":20,"estimated_time_to_regain_access":19,"ads_api_access_tier":"development_access"},
                {"type":"ads_insights","call_count":3,"total_cputime":1,"total_time":2,"estimated_time_to_regain_access":0}
            ],
            "17841400008460056":[{"type":"instagram","call_count":50.5,"total_cputime":7,"total_time":9,"estimated_time_to_regain_access":2}]
        }"#
        .replace(['\n', ' '], "");
        let u = Usage::from_headers(&headers(&[("x-business-use-case-usage", &raw)]));
        assert!(u.problems.is_empty(), "{:?}", u.problems);
        assert_eq!(u.business_use_case.len(), 3);
        let find = |id: &str, t: &str| {
            u.business_use_case
                .iter()
                .find(|b| b.business_id == id && b.use_case == t)
                .unwrap()
        };
        let ads = find("66782684", "ads_management");
        assert_eq!(ads.call_count, Some(95.0));
        assert_eq!(
            ads.ads_api_access_tier.as_deref(),
            Some("development_access")
        );
        assert_eq!(ads.regain_after(), Some(Duration::from_secs(19 * 60)));
        assert_eq!(find("66782684", "ads_insights").ads_api_access_tier, None);
        let ig = find("17841400008460056", "instagram");
        assert_eq!(ig.call_count, Some(50.5));
        assert_eq!(ig.regain_after(), Some(Duration::from_secs(120)));
        // The longest wait across every entry wins.
        assert_eq!(u.regain_after(), Some(Duration::from_secs(19 * 60)));
        assert_eq!(u.max_pct(), Some(95.0));
    }

    #[test]
    fn ad_account_floats_and_reset_seconds() {
        let u = Usage::from_headers(&headers(&[(
            "x-ad-account-usage",
            r#"{"acc_id_util_pct":9.67,"reset_time_duration":100,"ads_api_access_tier":"standard_access"}"#,
        )]));
        let a = u.ad_account.as_ref().unwrap();
        assert!(approx(a.acc_id_util_pct, 9.67));
        assert_eq!(a.reset_time_duration, Some(100.0));
        assert_eq!(a.reset_after(), Some(Duration::from_secs(100)));
        assert_eq!(a.ads_api_access_tier.as_deref(), Some("standard_access"));
        // Under 100 % the reset time is informational, not a wait.
        assert_eq!(u.regain_after(), None);

        let full = Usage::from_headers(&headers(&[(
            "x-ad-account-usage",
            r#"{"acc_id_util_pct":100,"reset_time_duration":37.5}"#,
        )]));
        assert_eq!(full.regain_after(), Some(Duration::from_millis(37_500)));
    }

    #[test]
    fn insights_throttle_and_page_usage() {
        let u = Usage::from_headers(&headers(&[
            (
                "x-fb-ads-insights-throttle",
                r#"{"app_id_util_pct":0.1,"acc_id_util_pct":72,"ads_api_access_tier":"standard_access"}"#,
            ),
            (
                "x-page-usage",
                r#"{"call_count":5,"total_cputime":1,"total_time":3}"#,
            ),
        ]));
        let i = u.ads_insights.as_ref().unwrap();
        assert!(approx(i.app_id_util_pct, 0.1));
        assert_eq!(i.acc_id_util_pct, Some(72.0));
        assert_eq!(i.ads_api_access_tier.as_deref(), Some("standard_access"));
        assert_eq!(u.page.as_ref().unwrap().call_count, Some(5.0));
        assert_eq!(u.max_pct(), Some(72.0));
    }

    #[test]
    fn ints_floats_numeric_strings_and_unknown_keys() {
        let u = Usage::from_headers(&headers(&[(
            "x-app-usage",
            // IG Basic Display once sent `call_volume` and `cpu_time`; odd values
            // (a string, null, a bool) must not hide the good ones.
            r#"{"call_count":"28","total_time":25.5,"total_cputime":null,"call_volume":3,"cpu_time":4,"extra":{"x":[1]}}"#,
        )]));
        assert!(u.problems.is_empty(), "{:?}", u.problems);
        let app = u.app.unwrap();
        assert_eq!(app.call_count, Some(28.0));
        assert_eq!(app.total_time, Some(25.5));
        assert_eq!(app.total_cputime, None);

        let odd = Usage::from_headers(&headers(&[(
            "x-app-usage",
            r#"{"call_count":true,"total_time":"n/a","total_cputime":" 7 "}"#,
        )]));
        let app = odd.app.unwrap();
        assert_eq!((app.call_count, app.total_time), (None, None));
        assert_eq!(app.total_cputime, Some(7.0));
        assert!(odd.problems.is_empty());
    }

    #[test]
    fn missing_headers_are_none_not_zero() {
        let u = Usage::from_headers(&HeaderMap::new());
        assert_eq!(u, Usage::default());
        assert!(u.is_empty());
        assert_eq!(u.max_pct(), None);
        assert_eq!(u.regain_after(), None);
        // Present but blank behaves as absent, without a problem.
        let u = Usage::from_headers(&headers(&[("x-app-usage", "  ")]));
        assert!(u.app.is_none() && u.problems.is_empty());
        // An empty object is present: fields unknown, not zero.
        let u = Usage::from_headers(&headers(&[("x-app-usage", "{}")]));
        assert_eq!(u.app, Some(AppUsage::default()));
        assert_eq!(u.max_pct(), None);
    }

    #[test]
    fn malformed_headers_are_recorded_without_failing_the_others() {
        let u = Usage::from_headers(&headers(&[
            ("x-app-usage", r#"{"call_count":16"#),
            ("x-ad-account-usage", "[1,2]"),
            (
                "x-business-use-case-usage",
                r#"{"1":[{"type":"pages","call_count":4},[1,2]],"2":42,"3":{"type":"messenger","call_count":9}}"#,
            ),
            ("x-page-usage", r#"{"call_count":3}"#),
        ]));
        let names: Vec<&str> = u.problems.iter().map(|p| p.header.as_str()).collect();
        assert_eq!(
            names,
            [
                "x-app-usage",
                "x-ad-account-usage",
                "x-business-use-case-usage",
                "x-business-use-case-usage"
            ]
        );
        assert!(u.problems[1].reason.contains("object"), "{:?}", u.problems);
        assert!(
            u.problems[2].reason.contains("entry for 1"),
            "{:?}",
            u.problems
        );
        assert!(
            u.problems[3].reason.contains("entry for 2"),
            "{:?}",
            u.problems
        );
        assert!(u.app.is_none() && u.ad_account.is_none());
        assert_eq!(u.page.unwrap().call_count, Some(3.0));
        // The good BUC entries survive, including the single-object form.
        let kinds: Vec<(&str, &str)> = u
            .business_use_case
            .iter()
            .map(|b| (b.business_id.as_str(), b.use_case.as_str()))
            .collect();
        assert_eq!(kinds, [("1", "pages"), ("3", "messenger")]);

        let not_a_map = Usage::from_headers(&headers(&[("x-business-use-case-usage", "[]")]));
        assert!(not_a_map.business_use_case.is_empty());
        assert_eq!(not_a_map.problems.len(), 1);
    }

    #[test]
    fn non_ascii_header_value_is_a_problem() {
        let mut h = HeaderMap::new();
        h.insert(
            HEADER_APP_USAGE,
            HeaderValue::from_bytes(b"{\"call_count\":\xe9}").unwrap(),
        );
        let u = Usage::from_headers(&h);
        assert!(u.app.is_none());
        assert_eq!(u.problems.len(), 1);
        assert_eq!(u.problems[0].header, "x-app-usage");
    }

    #[test]
    fn header_names_are_case_insensitive() {
        let u = Usage::from_headers(&headers(&[
            ("X-App-Usage", r#"{"call_count":1}"#),
            ("X-BUSINESS-USE-CASE-USAGE", r#"{"9":[{"type":"pages"}]}"#),
            ("x-Ad-Account-Usage", r#"{"acc_id_util_pct":2}"#),
            ("X-FB-Ads-Insights-Throttle", r#"{"acc_id_util_pct":3}"#),
            ("X-Page-USAGE", r#"{"call_count":4}"#),
        ]));
        assert_eq!(u.app.unwrap().call_count, Some(1.0));
        assert_eq!(u.business_use_case[0].business_id, "9");
        assert_eq!(u.ad_account.unwrap().acc_id_util_pct, Some(2.0));
        assert_eq!(u.ads_insights.unwrap().acc_id_util_pct, Some(3.0));
        assert_eq!(u.page.unwrap().call_count, Some(4.0));
    }

    #[test]
    fn regain_after_units_and_caps() {
        let buc = |minutes: f64| BucUsage {
            estimated_time_to_regain_access: Some(minutes),
            ..BucUsage::default()
        };
        assert_eq!(buc(1.0).regain_after(), Some(Duration::from_secs(60)));
        assert_eq!(buc(0.5).regain_after(), Some(Duration::from_secs(30)));
        assert_eq!(buc(0.0).regain_after(), None);
        assert_eq!(buc(-3.0).regain_after(), None);
        // Capped at one day, including values whose seconds overflow to infinity.
        assert_eq!(
            buc(10_000.0).regain_after(),
            Some(Duration::from_secs(86_400))
        );
        assert_eq!(buc(1e308).regain_after(), Some(Duration::from_secs(86_400)));
        assert_eq!(BucUsage::default().regain_after(), None);

        let ad = |secs: f64| AdAccountUsage {
            reset_time_duration: Some(secs),
            ..AdAccountUsage::default()
        };
        assert_eq!(ad(100.0).reset_after(), Some(Duration::from_secs(100)));
        assert_eq!(ad(0.0).reset_after(), None);
        assert_eq!(ad(1e12).reset_after(), Some(Duration::from_secs(86_400)));
    }

    #[test]
    fn usage_round_trips_through_serde() {
        let u = Usage::from_headers(&headers(&[
            ("x-app-usage", r#"{"call_count":16,"total_time":1}"#),
            (
                "x-business-use-case-usage",
                r#"{"1":[{"type":"pages","call_count":4,"estimated_time_to_regain_access":3}]}"#,
            ),
        ]));
        let json = serde_json::to_string(&u).unwrap();
        let back: Usage = serde_json::from_str(&json).unwrap();
        assert_eq!(back, u);
    }
}
