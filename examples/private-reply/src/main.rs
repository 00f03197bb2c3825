//! Run with `cargo run -p example-private-reply`.
//!
//! A private reply to a comment, behind the messaging-policy guard: the second private
//! reply to the same comment is refused by the guard before any call, and so is a
//! regular message to the commenter — a private reply does not open the 24-hour window,
//! only the person's own message does. Starts an in-process sandbox (which enforces the
//! same rules with Meta's errors).

use std::sync::Arc;

use meta_core::Client;
use meta_graph::messenger::policy::{MessagingGuard, PolicyConfig};
use meta_graph::messenger::{Button, Message};
use meta_graph::{Error, GraphExt};
use meta_sandbox::Sandbox;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start().await?;
    let page = sandbox.fixtures().pages[0].clone();
    let client = Client::builder()
        .base_url(sandbox.base_url())
        .access_token(page.access_token.clone())
        .build()?;

    // A shopper comments on the Page's newest post.
    let feed: serde_json::Value = client
        .get(&format!("{}/feed", page.id), [("limit", "1")])
        .await?;
    let post = feed["data"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let psid = "7300000000000003";
    let comment = sandbox
        .control()
        .add_comment(
            &post,
            psid,
            "Lea Brandt",
            "Is the green vase still available?",
        )
        .ok_or("post not found")?;

    // One guard per app, shared by every Messenger handle.
    let guard = Arc::new(MessagingGuard::in_memory(PolicyConfig::default()));
    let messenger = client.messenger().with_guard(guard.clone());

    let reply = Message::buttons(
        "Yes! It's 35 €. Want us to hold it for you?",
        [
            Button::postback("Hold it", "HOLD_GREEN_VASE"),
            Button::url("See photos", "https://example.com/vases/green"),
        ],
    );
    let sent = messenger
        .private_reply(&page.id, &comment, reply)
        .send()
        .await?;
    println!("private reply sent: {:?}", sent.message_id);

    let calls = sandbox.control().requests().len();
    match messenger
        .private_reply(&page.id, &comment, Message::text("Just checking in!"))
        .send()
        .await
    {
        Err(Error::Policy(p)) => println!("second private reply refused: {p}"),
        other => println!("unexpected: {other:?}"),
    }
    match messenger
        .send(&page.id, psid, Message::text("Still interested?"))
        .send()
        .await
    {
        Err(Error::Policy(p)) => println!("message outside the window refused: {p}"),
        other => println!("unexpected: {other:?}"),
    }
    assert_eq!(
        sandbox.control().requests().len(),
        calls,
        "no call was made"
    );

    // The shopper answers (a webhook would tell the guard): the window opens.
    sandbox
        .control()
        .simulate_inbound_message(&page.id, psid, "Yes please, hold it!");
    guard
        .record_inbound(&page.id, psid, std::time::SystemTime::now())
        .await?;
    let ok = messenger
        .send(
            &page.id,
            psid,
            Message::text("Done, it's yours until Saturday."),
        )
        .send()
        .await?;
    println!("message inside the window sent: {:?}", ok.message_id);
    Ok(())
}
