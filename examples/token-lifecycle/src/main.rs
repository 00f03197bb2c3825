//! Run with `cargo run -p example-token-lifecycle`.
//!
//! The life of a customer's tokens, on an in-process sandbox whose clock the example
//! moves forward: log in (code → short-lived → long-lived user token), take the Page
//! tokens, register everything with the lifecycle manager (tokens sealed with AES-GCM),
//! then watch the events an application would turn into customer notifications:
//!
//! 1. 55 days later the user token enters the 5-day window: `active → expiring`, and
//!    the tick refreshes it with `fb_exchange_token`: `expiring → active`.
//! 2. An Instagram Login token is exchanged for a long-lived one, and refreshed with
//!    `ig_refresh_token` when it nears expiry.
//! 3. The user changes their password: Meta answers 190/460 and the connection goes
//!    to `needs_reauth`; after a new login, `replace_token` makes it `active` again.
//! 4. The app is removed from a Page: 190/458 → `revoked`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use meta_core::cipher::{Key, KeyId, TokenCipher};
use meta_core::clock::{Clock, Sleep};
use meta_core::{Client, RetryConfig};
use meta_graph::lifecycle::{
    ConnectionId, ConnectionKind, LifecycleEvent, LifecycleManager, MemoryTokenStore, TokenStore,
};
use meta_graph::oauth::{OAuth, State, Token};
use meta_sandbox::{Sandbox, SandboxControl};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::broadcast;

const DAY: Duration = Duration::from_secs(86_400);

/// The sandbox's clock as the SDK's clock, so both agree on what "expired" means and
/// the example can jump weeks ahead.
#[derive(Debug)]
struct SandboxClock(SandboxControl);

impl Clock for SandboxClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0.now_unix())
    }
    fn elapsed(&self) -> Duration {
        Duration::from_secs(self.0.now_unix())
    }
    fn sleep(&self, duration: Duration) -> Sleep<'_> {
        self.0.advance_clock(duration);
        Box::pin(tokio::task::yield_now())
    }
}

/// Prints the events waiting on the channel: what an application would turn into
/// e-mails or in-app notices for its customer.
fn drain(rx: &mut broadcast::Receiver<LifecycleEvent>) {
    while let Ok(e) = rx.try_recv() {
        show(&e);
    }
}

fn show(e: &LifecycleEvent) {
    let from = e.from.map_or("-", |s| s.as_str());
    println!(
        "  event: {:<22} {:>12} -> {:<12} {:?}",
        e.connection.as_str(),
        from,
        e.to.as_str(),
        e.reason
    );
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start().await?;
    let control = sandbox.control();
    let f = sandbox.fixtures().clone();
    let clock = Arc::new(SandboxClock(control.clone()));

    let client = Client::builder()
        .base_url(sandbox.base_url())
        .clock(clock.clone())
        .retry(RetryConfig::standard())
        .build()?;
    let oauth = OAuth::builder(
        f.app_id.clone(),
        SecretString::from(f.app_secret.clone()),
        f.redirect_uri.clone(),
    )
    .instagram_base_url(sandbox.base_url())
    .clock(clock.clone())
    .build()?;

    println!("1. login");
    let state = State::generate()?;
    let url = oauth.login_url(["pages_show_list", "pages_manage_posts"], &state)?;
    println!(
        "  dialog: {}",
        url.as_str().replace(state.as_str(), "<state>")
    );
    // The browser comes back with ?code=..&state=..; the sandbox gives us both.
    assert!(state.verify(state.as_str()));
    let short = oauth.exchange_code(&client, &f.oauth_code).await?;
    let long = oauth
        .exchange_long_lived(&client, short.access_token())
        .await?;
    println!(
        "  short-lived user token: {:?}, long-lived: {:?}",
        short.expires_in(),
        long.expires_in()
    );
    let pages = oauth
        .page_tokens(&client.with_access_token(long.access_token().clone()))
        .await?;
    println!("  {} Page tokens (never expiring)", pages.len());

    let cipher = TokenCipher::new(KeyId::new("2026-01")?, Key::generate()?);
    let store = Arc::new(MemoryTokenStore::new());
    let manager = LifecycleManager::builder(store.clone(), cipher, oauth.clone(), client.clone())
        .clock(clock.clone())
        .build();
    let mut events = manager.subscribe();

    let user = ConnectionId::new("acme/user")?;
    manager
        .register(user.clone(), ConnectionKind::User, "acme", &long)
        .await?;
    let page_conn = ConnectionId::new(format!("acme/page/{}", pages[0].id()))?;
    let page_token = Token::new(pages[0].access_token().clone(), None, clock.now());
    manager
        .register(page_conn.clone(), ConnectionKind::Page, "acme", &page_token)
        .await?;
    let ig = ConnectionId::new("acme/instagram")?;
    let ig_short = Token::new(
        SecretString::from(f.ig_login.access_token.clone()),
        Some(Duration::from_secs(3600)),
        clock.now(),
    );
    manager
        .register(ig.clone(), ConnectionKind::Instagram, "acme", &ig_short)
        .await?;
    let report = manager.tick().await?;
    drain(&mut events);
    println!(
        "  first tick: {} refreshed (the short-lived Instagram token was exchanged)",
        report.refreshed.len()
    );
    let row = store.load(&user).await?.ok_or("connection not stored")?;
    println!(
        "  stored sealed, never in plaintext: {}…",
        row.sealed_token.chars().take(20).collect::<String>()
    );

    println!("2. 55 days later");
    control.advance_clock(55 * DAY + Duration::from_secs(60));
    let report = manager.tick().await?;
    drain(&mut events);
    println!("  refreshed: {:?}", report.refreshed);

    println!("3. the user changes their password");
    let token = manager.access_token(&user).await?;
    control.revoke_token(token.expose_secret(), 460);
    let as_user = manager.client_for(&user).await?;
    if let Err(err) = as_user.get::<serde_json::Value>("me", ()).await {
        println!("  Meta: {err}");
        manager.observe_error(&user, &err).await?;
    }
    let code = control.new_oauth_code(&f.redirect_uri);
    let again = oauth.exchange_code(&client, &code).await?;
    let again = oauth
        .exchange_long_lived(&client, again.access_token())
        .await?;
    manager.replace_token(&user, &again).await?;
    drain(&mut events);

    println!("4. the app is removed from the Page");
    control.revoke_token(pages[0].access_token().expose_secret(), 458);
    let as_page = manager.client_for(&page_conn).await?;
    if let Err(err) = as_page
        .get::<serde_json::Value>(pages[0].id().as_str(), ())
        .await
    {
        manager.observe_error(&page_conn, &err).await?;
    }
    drain(&mut events);

    let mut finals = Vec::new();
    for id in [&user, &page_conn, &ig] {
        finals.push((id.clone(), manager.status(id).await?));
    }
    for (id, status) in finals {
        println!("final: {:<32} {status}", id.as_str());
    }
    sandbox.shutdown().await;
    Ok(())
}
