//! Run with `cargo run -p example-multi-tenant-tokens`.
//!
//! One client per credential, no global token state: a user client lists the Pages,
//! then one derived client per Page token runs concurrently, all sharing one
//! transport, retry budget and rate governor. Starts an in-process sandbox.

use meta_core::Client;
use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Account {
    id: String,
    name: String,
    access_token: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sb = meta_sandbox::Sandbox::start().await?;
    let user = Client::builder()
        .base_url(sb.base_url().to_owned())
        .access_token(sb.fixtures().user_token.clone())
        .build()?;
    let accounts: Vec<Account> = user.paginate("me/accounts", ()).collect_all().await?;
    let mut tasks = Vec::new();
    for acc in accounts {
        let page_client = user.with_access_token(SecretString::from(acc.access_token));
        tasks.push(tokio::spawn(async move {
            let me: serde_json::Value = page_client.get("me", [("fields", "id,name")]).await?;
            Ok::<_, meta_core::Error>((acc.name, acc.id, me))
        }));
    }
    for t in tasks {
        let (name, id, me) = t.await??;
        println!(
            "{name}: the Page token acts as {} (expected {id})",
            me["id"]
        );
    }
    for s in user.governor().snapshot() {
        println!("scope {} usage {:?}", s.scope, s.usage_pct);
    }
    sb.shutdown().await;
    Ok(())
}
