//! Configuration: seed, port, fixture sizes, faults and quotas.

use std::time::Duration;

/// How a sandbox is started. Every field has a sensible default (see [`Default`]);
/// the setters consume and return `self` so configs read as one expression:
///
/// ```
/// use meta_sandbox::SandboxConfig;
/// let config = SandboxConfig::default().seed(7).posts_per_page(40);
/// assert_eq!(config.seed, 7);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SandboxConfig {
    /// Seed everything derives from: ids, tokens, post texts, the fault sequence. Default 42.
    pub seed: u64,
    /// TCP port to bind on 127.0.0.1; 0 (the default) picks a free one.
    pub port: u16,
    /// When true, calls made with a user or Page token must carry `appsecret_proof`.
    /// Default false (a wrong proof is rejected either way, as Meta does).
    pub require_appsecret_proof: bool,
    /// Random faults (all off by default).
    pub faults: FaultConfig,
    /// Rate-limit quotas (generous by default).
    pub quotas: QuotaConfig,
    /// Number of Pages the fixture user manages. Default 3.
    pub pages: usize,
    /// Number of seeded posts in each Page's feed. Default 250.
    pub posts_per_page: usize,
    /// Instagram publishing: processing delays, container expiry, publishing quota.
    pub instagram: crate::routes::instagram::InstagramConfig,
    /// Number of comments seeded on the first Page's live broadcast. Default 200; the
    /// comments benchmark uses 10 000.
    pub live_comments: usize,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            port: 0,
            require_appsecret_proof: false,
            faults: FaultConfig::default(),
            quotas: QuotaConfig::default(),
            pages: 3,
            posts_per_page: 250,
            instagram: crate::routes::instagram::InstagramConfig::default(),
            live_comments: 200,
        }
    }
}

impl SandboxConfig {
    /// Sets [`SandboxConfig::seed`].
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets [`SandboxConfig::port`].
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Sets [`SandboxConfig::require_appsecret_proof`].
    #[must_use]
    pub fn require_appsecret_proof(mut self, required: bool) -> Self {
        self.require_appsecret_proof = required;
        self
    }

    /// Sets [`SandboxConfig::faults`].
    #[must_use]
    pub fn faults(mut self, faults: FaultConfig) -> Self {
        self.faults = faults;
        self
    }

    /// Sets [`SandboxConfig::quotas`].
    #[must_use]
    pub fn quotas(mut self, quotas: QuotaConfig) -> Self {
        self.quotas = quotas;
        self
    }

    /// Sets [`SandboxConfig::pages`].
    #[must_use]
    pub fn pages(mut self, pages: usize) -> Self {
        self.pages = pages;
        self
    }

    /// Sets [`SandboxConfig::posts_per_page`].
    #[must_use]
    pub fn posts_per_page(mut self, posts: usize) -> Self {
        self.posts_per_page = posts;
        self
    }

    /// Sets [`SandboxConfig::instagram`].
    #[must_use]
    pub fn instagram(mut self, instagram: crate::routes::instagram::InstagramConfig) -> Self {
        self.instagram = instagram;
        self
    }

    /// Sets [`SandboxConfig::live_comments`].
    #[must_use]
    pub fn live_comments(mut self, count: usize) -> Self {
        self.live_comments = count;
        self
    }
}

/// Random faults, drawn from an RNG seeded with [`SandboxConfig::seed`] so a run is
/// reproducible. Rates are shares in `0.0..=1.0`; all default to 0.
#[derive(Debug, Clone, Default)]
pub struct FaultConfig {
    /// Share of requests failing with a transient Graph error (code 1 or 2, HTTP 500,
    /// `is_transient: true`).
    pub error_rate: f64,
    /// Share of requests answered with a bare 502/503 and an HTML body (a load balancer, not Graph).
    pub http_5xx_rate: f64,
    /// Share of requests whose connection is dropped without a response (the write is not applied).
    pub drop_rate: f64,
    /// Delay added to every response.
    pub latency: Duration,
    /// Periodic bursts of app-level throttling (code 4).
    pub throttle_burst: Option<ThrottleBurst>,
    /// Share of batch items answered with `null` (not run, not applied).
    pub batch_null_rate: f64,
}

impl FaultConfig {
    /// Sets [`FaultConfig::error_rate`].
    #[must_use]
    pub fn error_rate(mut self, rate: f64) -> Self {
        self.error_rate = rate;
        self
    }

    /// Sets [`FaultConfig::http_5xx_rate`].
    #[must_use]
    pub fn http_5xx_rate(mut self, rate: f64) -> Self {
        self.http_5xx_rate = rate;
        self
    }

    /// Sets [`FaultConfig::drop_rate`].
    #[must_use]
    pub fn drop_rate(mut self, rate: f64) -> Self {
        self.drop_rate = rate;
        self
    }

    /// Sets [`FaultConfig::latency`].
    #[must_use]
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Sets [`FaultConfig::throttle_burst`].
    #[must_use]
    pub fn throttle_burst(mut self, burst: Option<ThrottleBurst>) -> Self {
        self.throttle_burst = burst;
        self
    }

    /// Sets [`FaultConfig::batch_null_rate`].
    #[must_use]
    pub fn batch_null_rate(mut self, rate: f64) -> Self {
        self.batch_null_rate = rate;
        self
    }
}

/// Every `every` requests, the next `length` requests get an app-level throttle
/// (`(#4) Application request limit reached`, `X-App-Usage` at 100 %).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleBurst {
    /// Period, in requests. 0 disables the burst.
    pub every: u32,
    /// How many requests of each period are throttled.
    pub length: u32,
}

/// Quotas behind the usage headers. Windows are fixed and measured on the sandbox clock
/// (see `SandboxControl::advance_clock`).
#[derive(Debug, Clone)]
pub struct QuotaConfig {
    /// Length of a usage window. Default 60 s.
    pub window: Duration,
    /// App-wide calls per window (`X-App-Usage`). Default 10 000.
    pub app_calls: u32,
    /// Calls per business object (Page, ad account) per window (`X-Business-Use-Case-Usage`). Default 5 000.
    pub buc_calls: u32,
    /// Calls per ad account per window (`X-Ad-Account-Usage`). Default 5 000.
    pub ad_account_calls: u32,
    /// How long a business-use-case scope stays blocked once over quota. Default 60 s;
    /// reported as `estimated_time_to_regain_access` in minutes, rounded up.
    pub buc_block: Duration,
    /// How long an ad account stays blocked once over quota. Default 5 s; reported as
    /// `reset_time_duration` in seconds.
    pub ad_account_block: Duration,
}

impl Default for QuotaConfig {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(60),
            app_calls: 10_000,
            buc_calls: 5_000,
            ad_account_calls: 5_000,
            buc_block: Duration::from_secs(60),
            ad_account_block: Duration::from_secs(5),
        }
    }
}

impl QuotaConfig {
    /// Sets [`QuotaConfig::window`].
    #[must_use]
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Sets [`QuotaConfig::app_calls`].
    #[must_use]
    pub fn app_calls(mut self, calls: u32) -> Self {
        self.app_calls = calls;
        self
    }

    /// Sets [`QuotaConfig::buc_calls`].
    #[must_use]
    pub fn buc_calls(mut self, calls: u32) -> Self {
        self.buc_calls = calls;
        self
    }

    /// Sets [`QuotaConfig::ad_account_calls`].
    #[must_use]
    pub fn ad_account_calls(mut self, calls: u32) -> Self {
        self.ad_account_calls = calls;
        self
    }

    /// Sets [`QuotaConfig::buc_block`].
    #[must_use]
    pub fn buc_block(mut self, block: Duration) -> Self {
        self.buc_block = block;
        self
    }

    /// Sets [`QuotaConfig::ad_account_block`].
    #[must_use]
    pub fn ad_account_block(mut self, block: Duration) -> Self {
        self.ad_account_block = block;
        self
    }
}
