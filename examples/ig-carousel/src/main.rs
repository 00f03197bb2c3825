//! Run with `cargo run -p example-ig-carousel`.
//!
//! Publishes a carousel of three images to Instagram: three item containers, a status
//! poll for each until `FINISHED`, the carousel container, a last poll, then one
//! `media_publish` after checking the publishing quota.
//!
//! It runs against an in-process meta-sandbox whose containers take 5 s (of sandbox
//! time) to process. The client gets a clock linked to the sandbox, so every backoff
//! sleep advances the sandbox clock instead of waiting: the whole run is instant, yet
//! the polling is exactly what a real run does.

use std::sync::Arc;
use std::time::Duration;

use meta_core::clock::{Clock, ManualClock, Sleep};
use meta_core::{Client, IgUserId};
use meta_graph::GraphExt;
use meta_graph::instagram::PublishOutcome;
use meta_sandbox::{Sandbox, SandboxControl};

/// Sleeping on this clock moves the sandbox clock forward and returns at once.
#[derive(Debug)]
struct SandboxClock {
    clock: ManualClock,
    sandbox: SandboxControl,
}

impl Clock for SandboxClock {
    fn now(&self) -> std::time::SystemTime {
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

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start().await?;
    let clock = Arc::new(SandboxClock {
        clock: ManualClock::default(),
        sandbox: sandbox.control(),
    });
    let client = Client::builder()
        .base_url(sandbox.base_url().to_owned())
        .access_token(sandbox.fixtures().user_token.clone())
        .clock(clock.clone())
        .build()?;
    let ig_user = IgUserId::new(sandbox.fixtures().pages[0].ig_user_id.clone());
    let instagram = client.instagram();

    let limit = instagram.publishing_limit(&ig_user).await?;
    println!(
        "quota: {:?} of {:?} posts used",
        limit.quota_usage,
        limit.config.and_then(|c| c.quota_total)
    );

    let outcome = instagram
        .carousel(&ig_user)
        .image_item("https://cdn.example.com/market/stall.jpg")
        .image_item("https://cdn.example.com/market/bread.jpg")
        .image_item("https://cdn.example.com/market/flowers.jpg")
        .caption("Saturday market 🧺 #market #local @bakery")
        .on_progress(|p| {
            println!(
                "  container {} → {} (check {}, waited {:?}{})",
                p.status.id.as_str(),
                p.status.code(),
                p.checks,
                p.waited,
                p.next_check
                    .map(|d| format!(", next check in {d:?}"))
                    .unwrap_or_default()
            );
        })
        .publish()
        .await?;

    match &outcome {
        PublishOutcome::Published { media_id } => {
            let media = instagram.media(media_id).await?;
            let items = instagram.media_children(media_id).await?;
            println!(
                "published {} ({}) with {} items: {}",
                media_id.as_str(),
                media.media_type.as_ref().map_or("?", |t| t.as_str()),
                items.len(),
                media.permalink.unwrap_or_default()
            );
        }
        other => println!("outcome: {other:?}"),
    }
    println!(
        "polling slept {:?} on the sandbox clock in {} waits; media_publish sent {} time(s)",
        clock.clock.total_slept(),
        clock.clock.sleep_count(),
        sandbox.control().count("POST", "/media_publish")
    );
    sandbox.shutdown().await;
    Ok(())
}
