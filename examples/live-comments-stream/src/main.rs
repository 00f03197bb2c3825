//! Run with `cargo run -p example-live-comments-stream`.
//!
//! Follows the comments of a live video without webhooks: the stream polls
//! `/{live_video_id}/comments` newest first, drops ids it has already seen (a bounded
//! ring, so memory stays flat), yields new comments oldest first and ends when the
//! broadcast does. It starts an in-process sandbox whose first Page is live now; a
//! background task plays the audience (comments arriving over a few seconds) and then
//! ends the broadcast.

use std::time::Duration;

use futures_util::TryStreamExt;
use meta_core::Client;
use meta_graph::GraphExt;
use meta_graph::generated::{CommentLiveFilter, LiveVideoStatus};
use meta_sandbox::{Sandbox, SandboxConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start_with(SandboxConfig::default().live_comments(30)).await?;
    let page = sandbox.fixtures().pages[0].clone();
    let client = Client::builder()
        .base_url(sandbox.base_url())
        .access_token(page.access_token.clone())
        .build()?;

    // Find the broadcast that is live now.
    let live = client
        .live_videos()
        .list(page.id.clone())
        .broadcast_status([LiveVideoStatus::Live])
        .paginate()?
        .try_next()
        .await?
        .ok_or("no live broadcast")?;
    let live_id = live.id.clone().unwrap_or_default();
    println!(
        "following {live_id} \"{}\"",
        live.title.as_deref().unwrap_or("")
    );

    // The audience: three bursts of comments, then the host ends the broadcast.
    let control = sandbox.control();
    let audience_live = live_id.clone();
    let audience = tokio::spawn(async move {
        for burst in [4, 7, 2] {
            tokio::time::sleep(Duration::from_millis(600)).await;
            control.add_live_comments(&audience_live, burst);
        }
        tokio::time::sleep(Duration::from_millis(600)).await;
        control.end_live_video(&audience_live);
    });

    let mut comments = client
        .live_videos()
        .comment_stream(live_id)
        .interval(Duration::from_millis(250))
        .live_filter(CommentLiveFilter::NoFilter)
        .start()?;
    let mut n = 0;
    while let Some(c) = comments.try_next().await? {
        n += 1;
        let who = c
            .from
            .as_ref()
            .and_then(|f| f["name"].as_str().map(str::to_owned))
            .unwrap_or_default();
        println!(
            "[{:>4}s] {who}: {}",
            c.live_broadcast_timestamp.unwrap_or(0),
            c.message.unwrap_or_default()
        );
    }
    audience.await?;
    println!("broadcast ended; {n} comments, each printed once");
    Ok(())
}
