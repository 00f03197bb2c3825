//! OAuth against meta-sandbox: code and long-lived exchange, debug_token, Page tokens
//! from `/me/accounts` and a business, and Instagram Login.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use meta_core::clock::{Clock, Sleep};
use meta_core::transport::MockTransport;
use meta_core::{BusinessId, Client, ErrorKind, Params, RetryConfig};
use meta_graph::oauth::{BusinessPages, OAuth, TokenType};
use meta_sandbox::{Sandbox, SandboxConfig, SandboxControl};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

pub(crate) const HOUR: Duration = Duration::from_secs(3600);
pub(crate) const DAY: Duration = Duration::from_secs(86_400);

/// The sandbox's own clock as a meta-core [`Clock`]: the SDK and the fake Graph agree
/// on the time, and sleeping advances both, so expiry is tested without waiting.
#[derive(Debug, Clone)]
pub(crate) struct SandboxClock(pub(crate) SandboxControl);

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

pub(crate) struct Env {
    pub(crate) sandbox: Sandbox,
    pub(crate) clock: Arc<SandboxClock>,
    /// A token-less Graph client on the sandbox.
    pub(crate) client: Client,
    pub(crate) oauth: OAuth,
}

impl Env {
    pub(crate) async fn start() -> Env {
        Self::start_with(SandboxConfig::default()).await
    }

    pub(crate) async fn start_with(config: SandboxConfig) -> Env {
        let sandbox = Sandbox::start_with(config).await.unwrap();
        let clock = Arc::new(SandboxClock(sandbox.control()));
        let client = Client::builder()
            .base_url(sandbox.base_url())
            .clock(clock.clone())
            .retry(RetryConfig::disabled())
            .build()
            .unwrap();
        let f = sandbox.fixtures();
        let oauth = OAuth::builder(
            f.app_id.clone(),
            SecretString::from(f.app_secret.clone()),
            f.redirect_uri.clone(),
        )
        .instagram_base_url(sandbox.base_url())
        .clock(clock.clone())
        .build()
        .unwrap();
        Env {
            sandbox,
            clock,
            client,
            oauth,
        }
    }

    pub(crate) fn control(&self) -> SandboxControl {
        self.sandbox.control()
    }

    pub(crate) fn as_user(&self, token: &SecretString) -> Client {
        self.client.with_access_token(token.clone())
    }
}

#[tokio::test]
async fn code_then_long_lived_then_debug() {
    let env = Env::start().await;
    let f = env.sandbox.fixtures().clone();
    let now = env.clock.now();

    let short = env
        .oauth
        .exchange_code(&env.client, &f.oauth_code)
        .await
        .unwrap();
    assert_eq!(short.token_type(), Some("bearer"));
    assert_eq!(short.expires_in(), Some(Duration::from_secs(5400)));
    assert_eq!(short.obtained_at(), now);

    let long = env
        .oauth
        .exchange_long_lived(&env.client, short.access_token())
        .await
        .unwrap();
    assert_eq!(long.expires_in(), Some(Duration::from_secs(5_184_000)));
    assert_ne!(
        long.access_token().expose_secret(),
        short.access_token().expose_secret()
    );

    let info = env
        .oauth
        .debug_token(&env.client, long.access_token())
        .await
        .unwrap();
    assert!(info.is_valid);
    assert_eq!(info.token_type, Some(TokenType::User));
    assert_eq!(info.app_id.as_deref(), Some(f.app_id.as_str()));
    assert_eq!(info.user_id.as_deref(), Some(f.user_id.as_str()));
    assert!(info.has_scope("pages_show_list"));
    assert_eq!(info.expires_at(), long.expires_at());
    assert!(info.issued_at().is_some());
    let pages_scope = info
        .granular_scopes
        .iter()
        .find(|g| g.scope == "pages_show_list")
        .unwrap();
    assert_eq!(pages_scope.target_ids.len(), f.pages.len());

    // The code is single use, and the exchange is never retried.
    let again = env
        .oauth
        .exchange_code(&env.client, &f.oauth_code)
        .await
        .unwrap_err();
    let api = again.meta().and_then(|e| e.api()).unwrap();
    assert_eq!((api.code(), api.subcode()), (100, Some(36009)));
    assert_eq!(env.control().count("GET", "/oauth/access_token"), 3);
}

#[tokio::test]
async fn redirect_mismatch_and_bad_input() {
    let env = Env::start().await;
    let f = env.sandbox.fixtures().clone();
    let other = OAuth::new(
        f.app_id.clone(),
        SecretString::from(f.app_secret.clone()),
        "https://elsewhere.example/cb",
    )
    .unwrap();
    let err = other
        .exchange_code(&env.client, &f.oauth_code)
        .await
        .unwrap_err();
    assert_eq!(
        err.meta().and_then(|e| e.api()).unwrap().subcode(),
        Some(36008)
    );

    // Refused before any call.
    let before = env.control().requests().len();
    let e = env.oauth.exchange_code(&env.client, " ").await.unwrap_err();
    assert!(e.is_refused_before_call());
    let e = env
        .oauth
        .exchange_long_lived(&env.client, &SecretString::from("a b"))
        .await
        .unwrap_err();
    assert!(e.is_refused_before_call());
    assert_eq!(env.control().requests().len(), before);

    // An expired user token cannot be exchanged: 190/463.
    let short = env
        .oauth
        .exchange_code(&env.client, &env.control().new_oauth_code(&f.redirect_uri))
        .await
        .unwrap();
    env.control().advance_clock(2 * HOUR);
    let e = env
        .oauth
        .exchange_long_lived(&env.client, short.access_token())
        .await
        .unwrap_err();
    let meta = e.meta().unwrap();
    assert_eq!(meta.kind(), ErrorKind::ReAuth);
    assert_eq!(meta.api().unwrap().subcode(), Some(463));
}

#[tokio::test]
async fn debug_token_of_page_app_invalid_and_revoked_tokens() {
    let env = Env::start().await;
    let f = env.sandbox.fixtures().clone();
    let page = SecretString::from(f.pages[0].access_token.clone());
    let info = env.oauth.debug_token(&env.client, &page).await.unwrap();
    assert_eq!(info.token_type, Some(TokenType::Page));
    assert!(info.never_expires());
    assert_eq!(info.profile_id.as_deref(), Some(f.pages[0].id.as_str()));

    let app = env.oauth.fetch_app_token(&env.client).await.unwrap();
    assert_eq!(
        app.access_token().expose_secret(),
        env.oauth.app_token().expose_secret()
    );
    assert_eq!(app.expires_at(), None);
    let info = env
        .oauth
        .debug_token(&env.client, app.access_token())
        .await
        .unwrap();
    assert_eq!(info.token_type, Some(TokenType::App));

    let bogus = env
        .oauth
        .debug_token(&env.client, &SecretString::from("EAABbogus"))
        .await
        .unwrap();
    assert!(!bogus.is_valid);
    assert_eq!(bogus.error.unwrap().code, Some(190));

    assert!(env.control().revoke_token(&f.user_token, 460));
    let revoked = env
        .oauth
        .debug_token(&env.client, &SecretString::from(f.user_token.clone()))
        .await
        .unwrap();
    assert!(!revoked.is_valid);
    assert_eq!(revoked.error.unwrap().subcode, Some(460));
}

#[tokio::test]
async fn page_tokens_page_through_me_accounts() {
    let env = Env::start_with(SandboxConfig::default().pages(30).posts_per_page(1)).await;
    let f = env.sandbox.fixtures().clone();
    let user = env.as_user(&SecretString::from(f.user_token.clone()));
    let pages = env.oauth.page_tokens(&user).await.unwrap();
    assert_eq!(pages.len(), 30);
    // Two requests: 25 + 5, following the cursor.
    assert_eq!(env.control().count("GET", "/me/accounts"), 2);
    for (got, want) in pages.iter().zip(&f.pages) {
        assert_eq!(got.id().as_str(), want.id);
        assert_eq!(got.name(), Some(want.name.as_str()));
        // From a long-lived user token: the permanent Page token.
        assert_eq!(got.access_token().expose_secret(), want.access_token);
        assert!(got.tasks().iter().any(|t| t == "MANAGE"));
    }
    assert!(!format!("{:?}", pages[0]).contains(&f.pages[0].access_token));

    // From a short-lived user token, the Page tokens are short-lived ones.
    let short = env
        .oauth
        .exchange_code(&env.client, &f.oauth_code)
        .await
        .unwrap();
    let derived = env
        .oauth
        .page_tokens(&env.as_user(short.access_token()))
        .await
        .unwrap();
    assert_ne!(
        derived[0].access_token().expose_secret(),
        f.pages[0].access_token
    );
    let info = env
        .oauth
        .debug_token(&env.client, derived[0].access_token())
        .await
        .unwrap();
    assert_eq!(info.token_type, Some(TokenType::Page));
    assert!(!info.never_expires());
}

#[tokio::test]
async fn business_owned_and_client_pages() {
    let env = Env::start().await;
    let f = env.sandbox.fixtures().clone();
    let user = env.as_user(&SecretString::from(f.user_token.clone()));
    let business = BusinessId::new(f.business.id.clone());
    let owned = env
        .oauth
        .business_pages(&user, &business, BusinessPages::Owned)
        .await
        .unwrap();
    let ids: Vec<&str> = owned.iter().map(|p| p.id().as_str()).collect();
    assert_eq!(
        ids,
        f.business
            .owned_page_ids
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        owned[0].access_token().expose_secret(),
        f.pages[0].access_token
    );
    let client_pages = env
        .oauth
        .business_pages(&user, &business, BusinessPages::Client)
        .await
        .unwrap();
    assert_eq!(client_pages.len(), 1);
    assert_eq!(client_pages[0].id().as_str(), f.business.client_page_ids[0]);

    // A Page token is not a business admin: Meta's permission error.
    let page = env.as_user(&SecretString::from(f.pages[0].access_token.clone()));
    let err = env
        .oauth
        .business_pages(&page, &business, BusinessPages::Owned)
        .await
        .unwrap_err();
    assert_eq!(err.meta().unwrap().kind(), ErrorKind::Permission);
}

#[tokio::test]
async fn instagram_login_exchange_and_refresh() {
    let env = Env::start().await;
    let f = env.sandbox.fixtures().clone();
    let short = SecretString::from(f.ig_login.access_token.clone());
    let long = env.oauth.ig_exchange_long_lived(&short).await.unwrap();
    assert_eq!(long.expires_in(), Some(Duration::from_secs(5_184_000)));
    assert!(long.access_token().expose_secret().starts_with("IGAA"));
    assert_eq!(long.obtained_at(), env.clock.now());

    // Too young to refresh: Meta's rule, the sandbox's error.
    let young = env.oauth.ig_refresh(long.access_token()).await.unwrap_err();
    assert_eq!(young.meta().unwrap().api().unwrap().code(), 100);

    env.control().advance_clock(DAY + HOUR);
    let refreshed = env.oauth.ig_refresh(long.access_token()).await.unwrap();
    assert_eq!(
        refreshed.expires_at(),
        Some(env.clock.now() + Duration::from_secs(5_184_000))
    );

    // After revocation, refreshing fails with the token error.
    assert!(
        env.control()
            .revoke_token(long.access_token().expose_secret(), 467)
    );
    let e = env
        .oauth
        .ig_refresh(refreshed.access_token())
        .await
        .unwrap_err();
    assert_eq!(e.meta().unwrap().api().unwrap().subcode(), Some(467));
}

#[tokio::test]
async fn oauth_calls_never_send_the_clients_token() {
    let mock = Arc::new(MockTransport::new());
    mock.push_json(
        200,
        &json!({"access_token": "EAABnew", "token_type": "bearer", "expires_in": 5_184_000}),
        &[],
    );
    let client = Client::builder()
        .base_url("https://graph.example.test")
        .access_token("EAABclient")
        .app_secret("appsecret")
        .transport_arc(mock.clone())
        .build()
        .unwrap();
    let oauth = OAuth::new("42", SecretString::from("s3cr3t"), "https://a.example/cb").unwrap();
    let t = oauth
        .exchange_long_lived(&client, &SecretString::from("EAABshort"))
        .await
        .unwrap();
    assert_eq!(t.access_token().expose_secret(), "EAABnew");
    let req = &mock.requests()[0];
    assert_eq!(req.uri().path(), "/v26.0/oauth/access_token");
    let q = Params::from_query(req.uri().query().unwrap());
    assert_eq!(q.get("grant_type"), Some(&json!("fb_exchange_token")));
    assert_eq!(q.get("client_id"), Some(&json!("42")));
    assert_eq!(q.get("client_secret"), Some(&json!("s3cr3t")));
    assert_eq!(q.get("fb_exchange_token"), Some(&json!("EAABshort")));
    assert_eq!(q.get("access_token"), None);
    assert_eq!(q.get("appsecret_proof"), None);
    assert_eq!(q.get("appsecret_time"), None);
}
