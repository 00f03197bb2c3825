//! The token lifecycle against meta-sandbox, on the sandbox's clock: expiry windows,
//! refresh, invalidation from Meta's errors, events, and sealed storage.

use std::sync::Arc;
use std::time::Duration;

use meta_core::ErrorKind;
use meta_core::cipher::{Key, KeyId, TokenCipher};
use meta_core::clock::Clock;
use meta_graph::lifecycle::{
    ConnectionId, ConnectionKind, LifecycleError, LifecycleEvent, LifecycleManager,
    MemoryTokenStore, TokenStatus, TokenStore, TransitionReason,
};
use meta_graph::oauth::Token;
use meta_sandbox::{Fault, FaultRule};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::broadcast;

use crate::oauth::{DAY, Env, HOUR};

struct Setup {
    env: Env,
    store: Arc<MemoryTokenStore>,
    manager: LifecycleManager,
    events: broadcast::Receiver<LifecycleEvent>,
}

async fn setup() -> Setup {
    let env = Env::start().await;
    let store = Arc::new(MemoryTokenStore::new());
    let cipher = TokenCipher::new(KeyId::new("k1").unwrap(), Key::generate().unwrap());
    let manager =
        LifecycleManager::builder(store.clone(), cipher, env.oauth.clone(), env.client.clone())
            .build();
    let events = manager.subscribe();
    Setup {
        env,
        store,
        manager,
        events,
    }
}

fn id(s: &str) -> ConnectionId {
    ConnectionId::new(s).unwrap()
}

fn drain(rx: &mut broadcast::Receiver<LifecycleEvent>) -> Vec<LifecycleEvent> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(e);
    }
    out
}

impl Setup {
    /// A long-lived user token for the fixture user, from a fresh login.
    async fn long_lived_user_token(&self) -> Token {
        let f = self.env.sandbox.fixtures();
        let code = self.env.control().new_oauth_code(&f.redirect_uri);
        let short = self
            .env
            .oauth
            .exchange_code(&self.env.client, &code)
            .await
            .unwrap();
        self.env
            .oauth
            .exchange_long_lived(&self.env.client, short.access_token())
            .await
            .unwrap()
    }

    async fn call_me(&self, conn: &ConnectionId) -> meta_core::Result<serde_json::Value> {
        let client = self.manager.client_for(conn).await.unwrap();
        client.get::<serde_json::Value>("me", ()).await
    }
}

#[tokio::test]
async fn user_token_turns_expiring_at_five_days_and_is_refreshed() {
    let mut s = setup().await;
    let conn = id("shop-1/user");
    let token = s.long_lived_user_token().await;
    let status = s
        .manager
        .register(conn.clone(), ConnectionKind::User, "shop-1", &token)
        .await
        .unwrap();
    assert_eq!(status, TokenStatus::Active);
    let registered = drain(&mut s.events);
    assert_eq!(registered.len(), 1);
    assert_eq!(registered[0].reason, TransitionReason::Registered);
    assert_eq!(
        (registered[0].from, registered[0].to),
        (None, TokenStatus::Active)
    );

    // The token is stored sealed, bound to the connection.
    let row = s.store.load(&conn).await.unwrap().unwrap();
    assert!(row.sealed_token.starts_with("v1.k1."));
    assert!(
        !row.sealed_token
            .contains(token.access_token().expose_secret())
    );
    assert!(!format!("{row:?}").contains(&row.sealed_token));

    // 54 days on: 6 days left, still active; nothing to do.
    s.env.control().advance_clock(54 * DAY);
    let report = s.manager.tick().await.unwrap();
    assert!(report.events.is_empty() && report.refreshed.is_empty());
    assert_eq!(s.manager.status(&conn).await.unwrap(), TokenStatus::Active);

    // One more day: inside the 5-day window, so Expiring, then refreshed.
    s.env.control().advance_clock(DAY + Duration::from_secs(1));
    assert_eq!(
        s.manager.status(&conn).await.unwrap(),
        TokenStatus::Expiring
    );
    let report = s.manager.tick().await.unwrap();
    assert_eq!(report.refreshed, vec![conn.clone()]);
    assert!(report.failed.is_empty());
    let steps: Vec<(Option<TokenStatus>, TokenStatus)> =
        report.events.iter().map(|e| (e.from, e.to)).collect();
    assert_eq!(
        steps,
        vec![
            (Some(TokenStatus::Active), TokenStatus::Expiring),
            (Some(TokenStatus::Expiring), TokenStatus::Active),
        ]
    );
    assert_eq!(report.events[0].reason, TransitionReason::Time);
    let new_expiry = s.env.clock.now() + Duration::from_secs(5_184_000);
    assert_eq!(
        report.events[1].reason,
        TransitionReason::Refreshed {
            expires_at: Some(new_expiry)
        }
    );
    // Subscribers saw the same events.
    assert_eq!(drain(&mut s.events), report.events);

    let row = s.manager.connection(&conn).await.unwrap();
    assert_eq!(row.expires_at_time(), Some(new_expiry));
    assert!(row.refreshed_at.is_some());
    // The new token works against the sandbox, after the old one's expiry.
    let fresh = s.manager.access_token(&conn).await.unwrap();
    assert_ne!(fresh.expose_secret(), token.access_token().expose_secret());
    s.env.control().advance_clock(10 * DAY);
    assert!(s.call_me(&conn).await.is_ok());
    assert_eq!(s.manager.status(&conn).await.unwrap(), TokenStatus::Active);
}

#[tokio::test]
async fn password_change_460_needs_reauth_until_a_new_token() {
    let mut s = setup().await;
    let conn = id("shop-2/user");
    let token = s.long_lived_user_token().await;
    s.manager
        .register(conn.clone(), ConnectionKind::User, "shop-2", &token)
        .await
        .unwrap();
    drain(&mut s.events);

    assert!(
        s.env
            .control()
            .revoke_token(token.access_token().expose_secret(), 460)
    );
    let err = s.call_me(&conn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReAuth);
    let event = s.manager.observe_error(&conn, &err).await.unwrap().unwrap();
    assert_eq!(event.from, Some(TokenStatus::Active));
    assert_eq!(event.to, TokenStatus::NeedsReauth);
    assert_eq!(event.owner, "shop-2");
    match &event.reason {
        TransitionReason::MetaError { code, subcode, .. } => {
            assert_eq!((*code, *subcode), (190, Some(460)));
        }
        other => panic!("unexpected reason {other:?}"),
    }
    assert_eq!(drain(&mut s.events), vec![event]);
    // The same error again changes nothing and emits nothing.
    assert!(
        s.manager
            .observe_error(&conn, &err)
            .await
            .unwrap()
            .is_none()
    );
    assert!(drain(&mut s.events).is_empty());

    // Sticky: time does not clear it, the token is refused, refresh is refused.
    s.env.control().advance_clock(DAY);
    s.manager.tick().await.unwrap();
    assert_eq!(
        s.manager.status(&conn).await.unwrap(),
        TokenStatus::NeedsReauth
    );
    assert!(matches!(
        s.manager.access_token(&conn).await,
        Err(LifecycleError::Unusable {
            status: TokenStatus::NeedsReauth,
            ..
        })
    ));
    assert!(matches!(
        s.manager.refresh(&conn).await,
        Err(LifecycleError::NotRefreshable { .. })
    ));
    let row = s.manager.connection(&conn).await.unwrap();
    assert_eq!(row.last_error, Some((190, Some(460))));

    // The user logs in again.
    let again = s.long_lived_user_token().await;
    let status = s.manager.replace_token(&conn, &again).await.unwrap();
    assert_eq!(status, TokenStatus::Active);
    let replaced = drain(&mut s.events);
    assert_eq!(replaced[0].reason, TransitionReason::TokenReplaced);
    assert_eq!(replaced[0].from, Some(TokenStatus::NeedsReauth));
    assert!(s.call_me(&conn).await.is_ok());
}

#[tokio::test]
async fn expired_463_revoked_458_and_other_errors() {
    let mut s = setup().await;
    let f = s.env.sandbox.fixtures().clone();

    // A short-lived user token from a login: expiring at once (1.5 h left).
    let short = s
        .env
        .oauth
        .exchange_code(&s.env.client, &f.oauth_code)
        .await
        .unwrap();
    // Registered with a lifetime longer than Meta's, so only Meta's answer can tell
    // the manager it expired.
    let user = id("shop-3/user");
    let claimed = Token::new(
        short.access_token().clone(),
        Some(30 * DAY),
        s.env.clock.now(),
    );
    let status = s
        .manager
        .register(user.clone(), ConnectionKind::User, "shop-3", &claimed)
        .await
        .unwrap();
    assert_eq!(status, TokenStatus::Active);
    // A Page token derived from it expires with it and cannot be refreshed.
    let user_client = s.env.as_user(short.access_token());
    let pages = s.env.oauth.page_tokens(&user_client).await.unwrap();
    let info = s
        .env
        .oauth
        .debug_token(&s.env.client, pages[0].access_token())
        .await
        .unwrap();
    let page_token = Token::new(
        pages[0].access_token().clone(),
        info.expires_at()
            .map(|e| e.duration_since(s.env.clock.now()).unwrap()),
        s.env.clock.now(),
    );
    let page = id("shop-3/page");
    s.manager
        .register(page.clone(), ConnectionKind::Page, "shop-3", &page_token)
        .await
        .unwrap();
    drain(&mut s.events);

    // Two hours later: Meta says 190/463 → Expired.
    s.env.control().advance_clock(2 * HOUR);
    let err = s.call_me(&user).await.unwrap_err();
    let event = s.manager.observe_error(&user, &err).await.unwrap().unwrap();
    assert_eq!(
        (event.from, event.to),
        (Some(TokenStatus::Active), TokenStatus::Expired)
    );
    assert!(matches!(
        s.manager.access_token(&user).await,
        Err(LifecycleError::Unusable {
            status: TokenStatus::Expired,
            ..
        })
    ));
    // The Page connection expires by time alone.
    let report = s.manager.tick().await.unwrap();
    assert_eq!(report.events.len(), 1);
    assert_eq!(report.events[0].connection, page);
    assert_eq!(
        (report.events[0].from, report.events[0].to),
        (Some(TokenStatus::Expiring), TokenStatus::Expired)
    );
    assert!(report.refreshed.is_empty());

    // A permanent Page token whose app was removed: 458 → Revoked.
    let perm = id("shop-3/page-permanent");
    let token = Token::new(
        SecretString::from(f.pages[1].access_token.clone()),
        None,
        s.env.clock.now(),
    );
    assert_eq!(
        s.manager
            .register(perm.clone(), ConnectionKind::Page, "shop-3", &token)
            .await
            .unwrap(),
        TokenStatus::Active
    );
    assert!(s.env.control().revoke_token(&f.pages[1].access_token, 458));
    let err = s.call_me(&perm).await.unwrap_err();
    let event = s.manager.observe_error(&perm, &err).await.unwrap().unwrap();
    assert_eq!(event.to, TokenStatus::Revoked);

    // Errors that say nothing about the token change nothing.
    let other = id("shop-3/other");
    s.manager
        .register(other.clone(), ConnectionKind::Page, "shop-3", &token)
        .await
        .unwrap();
    let throttle = meta_core::Error::from(meta_core::ApiError::new(17, "limit").with_subcode(460));
    assert!(
        s.manager
            .observe_error(&other, &throttle)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(s.manager.status(&other).await.unwrap(), TokenStatus::Active);
}

#[tokio::test]
async fn short_lived_user_token_is_upgraded_on_the_first_tick() {
    let mut s = setup().await;
    let f = s.env.sandbox.fixtures().clone();
    let short = s
        .env
        .oauth
        .exchange_code(&s.env.client, &f.oauth_code)
        .await
        .unwrap();
    let conn = id("shop-4/user");
    s.manager
        .register(conn.clone(), ConnectionKind::User, "shop-4", &short)
        .await
        .unwrap();
    drain(&mut s.events);
    let report = s.manager.tick().await.unwrap();
    assert_eq!(report.refreshed, vec![conn.clone()]);
    assert_eq!(s.manager.status(&conn).await.unwrap(), TokenStatus::Active);
    let row = s.manager.connection(&conn).await.unwrap();
    assert_eq!(
        row.expires_at_time(),
        Some(s.env.clock.now() + Duration::from_secs(5_184_000))
    );
    let events = drain(&mut s.events);
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].from, events[0].to),
        (Some(TokenStatus::Expiring), TokenStatus::Active)
    );
}

#[tokio::test]
async fn instagram_tokens_are_exchanged_then_refreshed_after_a_day() {
    let mut s = setup().await;
    let f = s.env.sandbox.fixtures().clone();
    let short = Token::new(
        SecretString::from(f.ig_login.access_token.clone()),
        Some(HOUR),
        s.env.clock.now(),
    );
    let conn = id("shop-5/ig");
    assert_eq!(
        s.manager
            .register(conn.clone(), ConnectionKind::Instagram, "shop-5", &short)
            .await
            .unwrap(),
        TokenStatus::Expiring
    );
    // Short-lived: exchanged for a long-lived token at once.
    let report = s.manager.tick().await.unwrap();
    assert_eq!(report.refreshed, vec![conn.clone()]);
    assert_eq!(s.manager.status(&conn).await.unwrap(), TokenStatus::Active);
    let long = s.manager.access_token(&conn).await.unwrap();
    assert_ne!(long.expose_secret(), f.ig_login.access_token);

    // A forced refresh before 24 h is refused locally: nothing is sent.
    let before = s.env.control().count("GET", "/refresh_access_token");
    assert!(matches!(
        s.manager.refresh(&conn).await,
        Err(LifecycleError::NotRefreshable { .. })
    ));
    assert_eq!(
        s.env.control().count("GET", "/refresh_access_token"),
        before
    );

    // 56 days later it is expiring and is refreshed with ig_refresh_token.
    s.env.control().advance_clock(56 * DAY);
    drain(&mut s.events);
    let report = s.manager.tick().await.unwrap();
    assert_eq!(report.refreshed, vec![conn.clone()]);
    assert_eq!(
        s.env.control().count("GET", "/refresh_access_token"),
        before + 1
    );
    assert_eq!(report.events.last().unwrap().to, TokenStatus::Active);
    let row = s.manager.connection(&conn).await.unwrap();
    assert_eq!(
        row.expires_at_time(),
        Some(s.env.clock.now() + Duration::from_secs(5_184_000))
    );
    assert_eq!(drain(&mut s.events).len(), 2);
}

#[tokio::test]
async fn transient_refresh_failures_are_retried_next_tick() {
    let mut s = setup().await;
    let conn = id("shop-6/user");
    let token = s.long_lived_user_token().await;
    s.manager
        .register(conn.clone(), ConnectionKind::User, "shop-6", &token)
        .await
        .unwrap();
    s.env.control().advance_clock(57 * DAY);
    s.env.control().inject(
        FaultRule::new(Fault::GraphError {
            status: 500,
            code: 2,
            subcode: None,
            transient: Some(true),
            message: "An unexpected error has occurred. Please retry your request later.".into(),
        })
        .path_contains("/oauth/access_token"),
    );
    drain(&mut s.events);
    let report = s.manager.tick().await.unwrap();
    assert!(report.refreshed.is_empty());
    assert_eq!(report.failed, vec![(conn.clone(), ErrorKind::Transient)]);
    assert_eq!(
        s.manager.status(&conn).await.unwrap(),
        TokenStatus::Expiring
    );
    // Only the Active → Expiring event; the failure is not a status change.
    assert_eq!(drain(&mut s.events).len(), 1);

    let report = s.manager.tick().await.unwrap();
    assert_eq!(report.refreshed, vec![conn.clone()]);
    assert_eq!(s.manager.status(&conn).await.unwrap(), TokenStatus::Active);
}

#[tokio::test]
async fn sealed_tokens_do_not_open_on_another_connection() {
    let s = setup().await;
    let token = Token::new(SecretString::from("EAABsecret-a"), None, s.env.clock.now());
    let a = id("a");
    let b = id("b");
    s.manager
        .register(a.clone(), ConnectionKind::Page, "o", &token)
        .await
        .unwrap();
    s.manager
        .register(
            b.clone(),
            ConnectionKind::Page,
            "o",
            &Token::new(SecretString::from("EAABsecret-b"), None, s.env.clock.now()),
        )
        .await
        .unwrap();
    // Copy a's sealed token onto b's row.
    let row_a = s.store.load(&a).await.unwrap().unwrap();
    let mut row_b = s.store.load(&b).await.unwrap().unwrap();
    row_b.sealed_token = row_a.sealed_token.clone();
    s.store.save(&row_b).await.unwrap();
    assert!(matches!(
        s.manager.access_token(&b).await,
        Err(LifecycleError::Cipher(_))
    ));
    assert_eq!(
        s.manager.access_token(&a).await.unwrap().expose_secret(),
        "EAABsecret-a"
    );
    // Removal emits and forgets.
    assert!(s.manager.remove(&a).await.unwrap());
    assert!(!s.manager.remove(&a).await.unwrap());
    assert!(matches!(
        s.manager.status(&a).await,
        Err(LifecycleError::UnknownConnection(_))
    ));
}
