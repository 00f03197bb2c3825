//! Integration tests: meta-core against meta-sandbox, a fake Graph API over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod batch;
mod client;
mod governor;
mod pagination;
mod retries;

use std::sync::Arc;
use std::time::Duration;

use meta_core::clock::{Clock, ManualClock, Sleep};
use meta_core::{Client, ClientBuilder, RetryConfig};
use meta_sandbox::{Sandbox, SandboxConfig, SandboxControl};

/// A sandbox plus a client builder pointed at it.
pub(crate) async fn sandbox(config: SandboxConfig) -> Sandbox {
    Sandbox::start_with(config).await.expect("sandbox starts")
}

/// A builder with fast, deterministic retries for tests.
pub(crate) fn builder(sb: &Sandbox) -> ClientBuilder {
    Client::builder()
        .base_url(sb.base_url().to_owned())
        .app_id(sb.fixtures().app_id.clone())
        .jitter_seed(7)
        .retry(
            RetryConfig::standard()
                .max_attempts(5)
                .initial_backoff(Duration::from_millis(1))
                .max_backoff(Duration::from_millis(5)),
        )
}

/// A clock that never really sleeps: sleeping advances both the manual clock and
/// the sandbox's clock, so a block Meta asks us to wait out passes on both sides.
#[derive(Debug)]
pub(crate) struct LinkedClock {
    pub(crate) clock: ManualClock,
    pub(crate) sandbox: SandboxControl,
}

impl LinkedClock {
    pub(crate) fn new(sandbox: SandboxControl) -> Arc<Self> {
        Arc::new(LinkedClock {
            clock: ManualClock::default(),
            sandbox,
        })
    }
}

impl Clock for LinkedClock {
    fn now(&self) -> std::time::SystemTime {
        // appsecret_time must match the sandbox's view of "now".
        std::time::SystemTime::now() + self.clock.elapsed()
    }
    fn elapsed(&self) -> Duration {
        self.clock.elapsed()
    }
    fn sleep(&self, duration: Duration) -> Sleep<'_> {
        self.sandbox.advance_clock(duration);
        self.clock.sleep(duration)
    }
}
