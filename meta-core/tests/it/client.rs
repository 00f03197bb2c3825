use meta_core::auth::ProofMode;
use meta_core::{ApiVersion, Client, ErrorKind, GraphRequest};
use meta_sandbox::SandboxConfig;
use serde::Deserialize;
use serde_json::Value;

use crate::{builder, sandbox};

#[tokio::test]
async fn two_clients_with_different_tokens_run_concurrently() {
    let sb = sandbox(SandboxConfig::default()).await;
    let fx = sb.fixtures();
    let user = builder(&sb)
        .access_token(fx.user_token.clone())
        .build()
        .unwrap();
    let page = user.with_access_token(fx.pages[0].access_token.clone().into());
    let mut tasks = Vec::new();
    for i in 0..40 {
        let c = if i % 2 == 0 {
            user.clone()
        } else {
            page.clone()
        };
        tasks.push(tokio::spawn(async move {
            (i, c.get::<Value>("me", [("fields", "id")]).await.unwrap())
        }));
    }
    for t in tasks {
        let (i, me) = t.await.unwrap();
        let want = if i % 2 == 0 {
            &fx.user_id
        } else {
            &fx.pages[0].id
        };
        assert_eq!(me["id"].as_str().unwrap(), want);
    }
}

#[tokio::test]
async fn appsecret_proof_in_both_forms_when_the_app_requires_it() {
    let sb = sandbox(SandboxConfig::default().require_appsecret_proof(true)).await;
    let fx = sb.fixtures();
    for mode in [ProofMode::Timed, ProofMode::Classic] {
        let c = builder(&sb)
            .access_token(fx.user_token.clone())
            .app_secret(fx.app_secret.clone())
            .proof_mode(mode)
            .build()
            .unwrap();
        c.get::<Value>("me", ()).await.unwrap();
    }
    let without = builder(&sb)
        .access_token(fx.user_token.clone())
        .build()
        .unwrap();
    let err = without.get::<Value>("me", ()).await.unwrap_err();
    assert_eq!(err.api().unwrap().code(), 100);
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    let wrong = builder(&sb)
        .access_token(fx.user_token.clone())
        .app_secret("not-the-secret")
        .build()
        .unwrap();
    assert!(wrong.get::<Value>("me", ()).await.is_err());
}

#[tokio::test]
async fn the_served_version_is_read_back_and_overridable() {
    let sb = sandbox(SandboxConfig::default()).await;
    let fx = sb.fixtures();
    let c = builder(&sb)
        .access_token(fx.user_token.clone())
        .build()
        .unwrap();
    let r = c.execute::<Value>(GraphRequest::get("me")).await.unwrap();
    assert_eq!(r.api_version(), Some("v26.0"));
    assert!(r.fbtrace_id().is_some());
    let r = c
        .execute::<Value>(GraphRequest::get("me").api_version(ApiVersion::new(24, 0)))
        .await
        .unwrap();
    assert_eq!(r.api_version(), Some("v24.0"));
    let err = c
        .execute::<Value>(GraphRequest::get("me").api_version(ApiVersion::new(99, 0)))
        .await
        .unwrap_err();
    assert!(err.api().is_some());
}

#[tokio::test]
async fn per_request_token_override() {
    let sb = sandbox(SandboxConfig::default()).await;
    let fx = sb.fixtures();
    let c = builder(&sb)
        .access_token(fx.user_token.clone())
        .build()
        .unwrap();
    let me = c
        .execute::<Value>(
            GraphRequest::get("me").access_token(fx.pages[1].access_token.clone().into()),
        )
        .await
        .unwrap();
    assert_eq!(me.data()["id"].as_str().unwrap(), fx.pages[1].id);
}

#[tokio::test]
async fn decode_errors_name_the_json_path() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Me {
        id: u64,
        name: Vec<String>,
    }
    let sb = sandbox(SandboxConfig::default()).await;
    let fx = sb.fixtures();
    let c = builder(&sb)
        .access_token(fx.user_token.clone())
        .build()
        .unwrap();
    let err = c
        .get::<Me>("me", [("fields", "id,name")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    let meta_core::Error::Decode(d) = &err else {
        panic!("{err}")
    };
    assert!(d.path() == "id" || d.path() == "name", "path {}", d.path());
}

#[test]
fn bad_configuration_is_a_clear_error() {
    for bad in ["not a url", "ftp://x", "http://", "http://h/?q=1"] {
        let e = Client::builder()
            .base_url(bad)
            .access_token("t")
            .build()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{bad}");
    }
    assert_eq!(
        Client::builder()
            .access_token(" ")
            .build()
            .unwrap_err()
            .kind(),
        ErrorKind::Config
    );
    assert_eq!(
        Client::builder()
            .access_token("a b")
            .build()
            .unwrap_err()
            .kind(),
        ErrorKind::Config
    );
    assert!("v2x".parse::<ApiVersion>().is_err());
    let debug = format!(
        "{:?}",
        Client::builder()
            .access_token("EAABsecret")
            .app_secret("shh")
            .build()
            .unwrap()
    );
    assert!(
        !debug.contains("EAABsecret") && !debug.contains("shh"),
        "{debug}"
    );
}
