//! Throughput of the whole stack (client → governor → HTTP → sandbox) on loopback.
//!
//! `cargo run --release -p meta-benches --bin throughput [-- CONCURRENCY REQUESTS]`
//! prints one line: requests per second for single GETs, and items per second when
//! paging a 250-post feed, each through the real client with retries and the
//! governor enabled. Bounded in count; talks only to 127.0.0.1.

use std::time::Instant;

use futures_util::TryStreamExt;
use meta_core::{Client, RateLimitConfig};
use meta_sandbox::{QuotaConfig, Sandbox, SandboxConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let concurrency: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(16)
        .clamp(1, 256);
    let requests: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000)
        .clamp(1, 1_000_000);

    // Quotas high enough that the sandbox never throttles: this measures overhead.
    let quotas = QuotaConfig::default()
        .app_calls(u32::MAX)
        .buc_calls(u32::MAX)
        .ad_account_calls(u32::MAX);
    let sb = Sandbox::start_with(SandboxConfig::default().quotas(quotas)).await?;
    let page = sb.fixtures().pages[0].clone();
    let client = Client::builder()
        .base_url(sb.base_url().to_owned())
        .access_token(page.access_token.clone())
        .rate_limit(RateLimitConfig::standard().max_concurrency(concurrency))
        .build()?;

    // Warm up connections.
    for _ in 0..concurrency {
        client.get::<serde_json::Value>(&page.id, ()).await?;
    }

    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let c = client.clone();
        let id = page.id.clone();
        let n = requests / concurrency + usize::from(w < requests % concurrency);
        tasks.push(tokio::spawn(async move {
            for _ in 0..n {
                c.get::<serde_json::Value>(&id, [("fields", "id,name")])
                    .await?;
            }
            Ok::<_, meta_core::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let get_secs = started.elapsed().as_secs_f64();

    let walks = 40_usize;
    let started = Instant::now();
    let mut items = 0_usize;
    for _ in 0..walks {
        let all: Vec<serde_json::Value> = client
            .paginate(&format!("{}/feed", page.id), [("limit", "100")])
            .try_collect()
            .await?;
        items += all.len();
    }
    let page_secs = started.elapsed().as_secs_f64();

    println!(
        "throughput: {:.0} GET/s ({requests} requests, concurrency {concurrency}, {:.2} s) · paging {:.0} items/s ({items} items in {walks} walks of 3 pages, {:.2} s)",
        requests as f64 / get_secs,
        get_secs,
        items as f64 / page_secs,
        page_secs
    );
    sb.shutdown().await;
    Ok(())
}
