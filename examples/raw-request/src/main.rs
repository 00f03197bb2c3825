//! Run with `cargo run -p example-raw-request`.
//!
//! The raw door: call any Graph endpoint with the client's auth, version, retries and
//! rate limiting, and read Meta's usage headers back. Uses `META_BASE_URL` and
//! `META_ACCESS_TOKEN` when set; otherwise starts an in-process sandbox.

use meta_core::{Client, GraphRequest};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (_sandbox, base_url, token) = match (
        std::env::var("META_BASE_URL"),
        std::env::var("META_ACCESS_TOKEN"),
    ) {
        (Ok(url), Ok(token)) => (None, url, token),
        _ => {
            let sb = meta_sandbox::Sandbox::start().await?;
            let (url, token) = (sb.base_url().to_owned(), sb.fixtures().user_token.clone());
            (Some(sb), url, token)
        }
    };
    let client = Client::builder()
        .base_url(base_url)
        .access_token(token)
        .build()?;

    let me = client
        .execute::<serde_json::Value>(GraphRequest::get("me").fields(["id", "name"]))
        .await?;
    println!("me = {}", me.data());
    println!(
        "served by Graph {:?}, fbtrace {:?}",
        me.api_version(),
        me.fbtrace_id()
    );
    println!("app usage = {:?}", me.usage().app);

    match client
        .get::<serde_json::Value>("me", [("fields", "no_such_field")])
        .await
    {
        Ok(v) => println!("unexpected: {v}"),
        Err(e) => println!(
            "error classified as {} (retryable: {}): {e}",
            e.kind(),
            e.is_retryable()
        ),
    }
    Ok(())
}
