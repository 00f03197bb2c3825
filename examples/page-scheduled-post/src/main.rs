//! Run with `cargo run -p example-page-scheduled-post`.
//!
//! Schedules a Page post, lists the Page's scheduled posts, moves the sandbox clock past
//! the publish time and finds the post in the feed; then shows that a schedule outside
//! Meta's 10 minutes – 30 days window is refused before any call. Starts an in-process
//! sandbox (scheduled posts go out on the sandbox's clock, which the example advances).

use std::sync::Arc;
use std::time::Duration;

use meta_core::Client;
use meta_core::clock::ManualClock;
use meta_core::ids::PageId;
use meta_graph::{Error, GraphExt};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = meta_sandbox::Sandbox::start().await?;
    let control = sandbox.control();
    let fixture = sandbox.fixtures().pages[0].clone();
    let page = PageId::new(fixture.id);
    // The client reads time from an injected clock; here it follows the sandbox's clock
    // so both agree on "now" when the example moves time forward.
    let clock = Arc::new(ManualClock::new(control.now_unix()));
    let client = Client::builder()
        .base_url(sandbox.base_url())
        .access_token(fixture.access_token)
        .clock(clock.clone())
        .build()?;
    let pages = client.pages();

    // 1. Schedule a post two hours ahead.
    let at = control.now_unix() + 2 * 3600;
    let post = pages
        .post(&page)
        .message("Flash sale starts now!")
        .link("https://example.com/sale")
        .scheduled_at_unix(at)
        .send()
        .await?;
    println!("scheduled {post} for {at}");

    // 2. It is listed among the Page's scheduled posts, not in the feed.
    for p in pages.scheduled_posts(&page).collect_all().await? {
        println!(
            "  scheduled: {} {:?} at {:?}",
            p.id.unwrap_or_default(),
            p.message.unwrap_or_default(),
            p.scheduled_publish_time
        );
    }
    let in_feed = |feed: &[meta_graph::generated::PagePost]| {
        feed.iter().any(|p| p.id.as_deref() == Some(post.as_str()))
    };
    println!(
        "in the feed before its time: {}",
        in_feed(&pages.feed(&page).collect_all().await?)
    );

    // 3. Two hours later (on the sandbox clock) it is published.
    control.advance_clock(Duration::from_secs(2 * 3600 + 1));
    clock.advance(Duration::from_secs(2 * 3600 + 1));
    println!(
        "in the feed after its time: {}",
        in_feed(&pages.feed(&page).collect_all().await?)
    );
    println!(
        "still scheduled: {}",
        pages.scheduled_posts(&page).collect_all().await?.len()
    );

    // 4. Five minutes ahead is too soon: refused before any request is sent.
    let sent_before = control.requests().len();
    let too_soon = pages
        .post(&page)
        .message("too soon")
        .scheduled_at_unix(control.now_unix() + 5 * 60)
        .send()
        .await;
    match too_soon {
        Err(Error::Invalid(e)) => println!("refused: {e}"),
        other => println!("unexpected: {other:?}"),
    }
    println!(
        "requests sent for the refused post: {}",
        control.requests().len() - sent_before
    );
    sandbox.shutdown().await;
    Ok(())
}
