//! Fault injection: one-off rules from tests, and random faults from the seeded RNG.

use std::collections::VecDeque;
use std::time::Duration;

use fastrand::Rng;

use crate::config::FaultConfig;

/// A deterministic fault for the next `times` requests that match.
///
/// Rules are checked in the order they were injected; the first match is used and its
/// `times` decremented. They take precedence over the random faults of [`FaultConfig`],
/// and apply to batch items as well as to whole HTTP requests.
///
/// ```
/// use meta_sandbox::{Fault, FaultRule};
/// let rule = FaultRule::new(Fault::Drop).method("POST").path_contains("/feed").times(2);
/// assert_eq!(rule.times, 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    /// Only requests with this method (case-insensitive); `None` = any.
    pub method: Option<String>,
    /// Only requests whose path (without query) contains this; `None` = any.
    pub path_contains: Option<String>,
    /// How many matching requests get the fault. Default 1.
    pub times: u32,
    /// What happens to them.
    pub fault: Fault,
}

impl FaultRule {
    /// A rule matching the next request of any method and path, once.
    #[must_use]
    pub fn new(fault: Fault) -> Self {
        Self {
            method: None,
            path_contains: None,
            times: 1,
            fault,
        }
    }

    /// Restricts the rule to one HTTP method.
    #[must_use]
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// Restricts the rule to paths containing `fragment`.
    #[must_use]
    pub fn path_contains(mut self, fragment: impl Into<String>) -> Self {
        self.path_contains = Some(fragment.into());
        self
    }

    /// Sets how many matching requests the rule applies to.
    #[must_use]
    pub fn times(mut self, times: u32) -> Self {
        self.times = times;
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.times > 0
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path_contains
                .as_deref()
                .is_none_or(|p| path.contains(p))
    }
}

/// What an injected fault does.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Fault {
    /// A Graph error envelope with these values. The request is not applied.
    GraphError {
        /// HTTP status.
        status: u16,
        /// `error.code`.
        code: i64,
        /// `error.error_subcode`.
        subcode: Option<i64>,
        /// `error.is_transient` (omitted when `None`).
        transient: Option<bool>,
        /// `error.message`.
        message: String,
    },
    /// Blocks the business-use-case scope of the path's object (a Page, or an ad account
    /// for `act_` paths) for `minutes` on the sandbox clock, and answers with the BUC
    /// throttle (400, code 80001 or 80004, subcode 2446079).
    BucThrottle {
        /// Reported as `estimated_time_to_regain_access`; the scope is blocked that long.
        minutes: u32,
    },
    /// Blocks the path's ad account for `reset_secs` and answers code 17, subcode 2446079
    /// with `X-Ad-Account-Usage` at 100 %.
    AdAccountThrottle {
        /// Reported as `reset_time_duration`; the account is blocked that long.
        reset_secs: u32,
    },
    /// A bare HTTP status with an HTML body, as a load balancer sends.
    Http(u16),
    /// The connection is closed before anything is sent. The request is not applied.
    Drop,
    /// The request is applied (e.g. the post is created), then the connection is closed:
    /// the client cannot tell whether the write happened.
    DropAfterApply,
    /// The response is delayed by this long; the request then proceeds normally.
    Delay(Duration),
    /// Batch items only: the slot comes back `null` (not run, not applied).
    BatchNull,
}

/// What the engine decided for one request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Planned {
    Fault(Fault),
    /// An app-level throttle from [`crate::ThrottleBurst`].
    BurstThrottle,
}

/// Rules plus the seeded RNG for random faults.
#[derive(Debug)]
pub(crate) struct FaultEngine {
    pub(crate) config: FaultConfig,
    rules: VecDeque<FaultRule>,
    rng: Rng,
    requests: u64,
}

impl FaultEngine {
    pub(crate) fn new(config: FaultConfig, seed: u64) -> Self {
        Self {
            config,
            rules: VecDeque::new(),
            // A distinct stream from the fixture RNG, so adding faults never changes fixtures.
            rng: Rng::with_seed(seed ^ 0x5EED_FA17_0000_0001),
            requests: 0,
        }
    }

    pub(crate) fn inject(&mut self, rule: FaultRule) {
        self.rules.push_back(rule);
    }

    /// Takes the first matching rule. `BatchNull` rules only match batch items.
    pub(crate) fn take_rule(&mut self, method: &str, path: &str, in_batch: bool) -> Option<Fault> {
        let idx = self.rules.iter().position(|r| {
            r.matches(method, path) && (in_batch || !matches!(r.fault, Fault::BatchNull))
        })?;
        let rule = self.rules.get_mut(idx)?;
        rule.times -= 1;
        let fault = rule.fault.clone();
        if rule.times == 0 {
            self.rules.remove(idx);
        }
        Some(fault)
    }

    /// The plan for a whole HTTP request: a rule, else a burst throttle, else a random draw.
    pub(crate) fn plan_request(&mut self, method: &str, path: &str) -> Option<Planned> {
        let n = self.requests;
        self.requests += 1;
        // Draw every time so the random sequence depends only on the request count.
        let r = self.rng.f64();
        let pick = self.rng.bool();
        if let Some(f) = self.take_rule(method, path, false) {
            return Some(Planned::Fault(f));
        }
        if let Some(b) = self.config.throttle_burst {
            let period = u64::from(b.every) + u64::from(b.length);
            if b.every > 0 && b.length > 0 && n % period >= u64::from(b.every) {
                return Some(Planned::BurstThrottle);
            }
        }
        let c = &self.config;
        let drop = c.drop_rate.max(0.0);
        let http = drop + c.http_5xx_rate.max(0.0);
        let err = http + c.error_rate.max(0.0);
        let fault = if r < drop {
            Fault::Drop
        } else if r < http {
            Fault::Http(if pick { 502 } else { 503 })
        } else if r < err {
            let (code, message) = if pick {
                (1, "An unknown error occurred")
            } else {
                (
                    2,
                    "An unexpected error has occurred. Please retry your request later.",
                )
            };
            Fault::GraphError {
                status: 500,
                code,
                subcode: None,
                transient: Some(true),
                message: message.to_owned(),
            }
        } else {
            return None;
        };
        Some(Planned::Fault(fault))
    }

    /// Whether a batch item slot is randomly left `null`.
    pub(crate) fn batch_null(&mut self) -> bool {
        let r = self.rng.f64();
        r < self.config.batch_null_rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ThrottleBurst;

    #[test]
    fn rules_are_consumed_in_order() {
        let mut e = FaultEngine::new(FaultConfig::default(), 1);
        e.inject(
            FaultRule::new(Fault::Http(502))
                .path_contains("/feed")
                .times(2),
        );
        e.inject(FaultRule::new(Fault::Drop).method("get"));
        assert_eq!(
            e.plan_request("GET", "/me"),
            Some(Planned::Fault(Fault::Drop))
        );
        assert_eq!(e.plan_request("GET", "/me"), None);
        for _ in 0..2 {
            assert_eq!(
                e.plan_request("POST", "/v26.0/1/feed"),
                Some(Planned::Fault(Fault::Http(502)))
            );
        }
        assert_eq!(e.plan_request("POST", "/v26.0/1/feed"), None);
    }

    #[test]
    fn batch_null_rules_skip_top_level() {
        let mut e = FaultEngine::new(FaultConfig::default(), 1);
        e.inject(FaultRule::new(Fault::BatchNull));
        assert_eq!(e.plan_request("POST", "/"), None);
        assert_eq!(e.take_rule("GET", "/me", true), Some(Fault::BatchNull));
    }

    #[test]
    fn bursts_follow_the_period() {
        let cfg = FaultConfig::default().throttle_burst(Some(ThrottleBurst {
            every: 3,
            length: 2,
        }));
        let mut e = FaultEngine::new(cfg, 1);
        let plan: Vec<bool> = (0..10)
            .map(|_| e.plan_request("GET", "/me").is_some())
            .collect();
        assert_eq!(
            plan,
            [
                false, false, false, true, true, false, false, false, true, true
            ]
        );
    }

    #[test]
    fn random_faults_are_deterministic_and_roughly_proportional() {
        let cfg = FaultConfig::default().error_rate(0.2).drop_rate(0.1);
        let run = || {
            let mut e = FaultEngine::new(cfg.clone(), 9);
            (0..1000)
                .map(|_| e.plan_request("GET", "/me"))
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let faults = a.iter().filter(|p| p.is_some()).count();
        assert!((200..400).contains(&faults), "{faults}");
    }
}
