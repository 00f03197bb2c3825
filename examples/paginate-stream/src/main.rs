//! Run with `cargo run -p example-paginate-stream`.
//!
//! Streams every post of a Page's feed one page at a time with `TryStreamExt`, saves
//! the cursor, and resumes from it. Starts an in-process sandbox.

use futures_util::TryStreamExt;
use meta_core::Client;
use secrecy::SecretString;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sb = meta_sandbox::Sandbox::start().await?;
    let page = sb.fixtures().pages[0].clone();
    let client = Client::builder()
        .base_url(sb.base_url().to_owned())
        .build()?;
    let client = client.with_access_token(SecretString::from(page.access_token.clone()));
    let path = format!("{}/feed", page.id);

    // Read the first 60 posts, then stop and remember where we were.
    let mut posts = client.paginate::<serde_json::Value>(&path, [("limit", "30")]);
    let mut n = 0;
    while let Some(post) = posts.try_next().await? {
        n += 1;
        if n <= 3 {
            println!("{} {}", post["created_time"], post["message"]);
        }
        if n == 60 {
            break;
        }
    }
    let cursor = posts.cursor().ok_or("no cursor")?;
    println!("read {n} posts; saved cursor {cursor}");

    // Later (another process, another day): resume after the saved cursor.
    let rest = client
        .paginate::<serde_json::Value>(&path, [("limit", "30")])
        .resume_after(cursor)
        .collect_all()
        .await?;
    println!("resumed: {} more posts", rest.len());
    sb.shutdown().await;
    Ok(())
}
