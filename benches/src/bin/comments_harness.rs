//! Pages through 10,000 live-video comments from meta-sandbox via meta-graph and prints
//! one line with items per second.
//!
//! `cargo run --release -p meta-benches --bin comments_harness [-- COMMENTS PAGE_SIZE]`
//! (defaults 10000 and 100). The sandbox seeds one live broadcast with `COMMENTS`
//! comments; the harness lists them with `Comments::list(..).paginate()` — the real
//! client with its governor and retries, over HTTP on 127.0.0.1 — checks that every id
//! came out once, and reports the rate. Bounded in count; talks only to loopback.

use std::collections::HashSet;
use std::time::Instant;

use futures_util::TryStreamExt;
use meta_core::Client;
use meta_graph::GraphExt;
use meta_graph::generated::CommentLiveFilter;
use meta_sandbox::{QuotaConfig, Sandbox, SandboxConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let comments: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000)
        .clamp(1, 1_000_000);
    let page_size: u32 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(100)
        .clamp(1, 100);

    // Quotas high enough that the sandbox never throttles: this measures the stack.
    let quotas = QuotaConfig::default()
        .app_calls(u32::MAX)
        .buc_calls(u32::MAX)
        .ad_account_calls(u32::MAX);
    let seeding = Instant::now();
    let sb = Sandbox::start_with(
        SandboxConfig::default()
            .quotas(quotas)
            .posts_per_page(10)
            .live_comments(comments),
    )
    .await?;
    let seed_ms = seeding.elapsed().as_millis();
    let page = sb.fixtures().pages[0].clone();
    let live = sb
        .control()
        .live_video_id(&page.id)
        .ok_or("the sandbox has no live broadcast")?;
    let client = Client::builder()
        .base_url(sb.base_url().to_owned())
        .access_token(page.access_token.clone())
        .build()?;

    let started = Instant::now();
    let mut stream = client
        .comments()
        .list(live)
        .live_filter(CommentLiveFilter::NoFilter)
        .limit(page_size)
        .paginate()?;
    let mut seen = HashSet::with_capacity(comments);
    while let Some(c) = stream.try_next().await? {
        seen.insert(c.id.unwrap_or_default());
    }
    let secs = started.elapsed().as_secs_f64();
    if seen.len() != comments {
        return Err(format!("expected {comments} distinct comments, got {}", seen.len()).into());
    }
    let pages = comments.div_ceil(page_size as usize);
    println!(
        "comments_harness: {comments} comments in {pages} pages of {page_size} in {:.3} s = {:.0} items/s ({:.1} pages/s; sandbox seeded in {seed_ms} ms)",
        secs,
        comments as f64 / secs,
        pages as f64 / secs
    );
    sb.shutdown().await;
    Ok(())
}
