use std::time::Duration;

use meta_sandbox::{SandboxConfig, appsecret_proof, appsecret_proof_timed};

use crate::common::{Client, start, start_with};

async fn login(client: &Client, f: &meta_sandbox::Fixtures, code: &str) -> crate::common::Resp {
    client
        .get(
            "/v26.0/oauth/access_token",
            &[
                ("client_id", &f.app_id),
                ("client_secret", &f.app_secret),
                ("redirect_uri", &f.redirect_uri),
                ("code", code),
            ],
        )
        .await
}

#[tokio::test]
async fn token_errors() {
    let (_sandbox, client) = start().await;
    let missing = client.get("/v26.0/me", &[]).await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.error_code(), 104);
    assert_eq!(
        missing.json["error"]["message"],
        "An access token is required to request this resource."
    );
    let garbled = client
        .get("/v26.0/me", &[("access_token", "EAABnot-a-token")])
        .await;
    assert_eq!(garbled.error_code(), 190);
    assert_eq!(
        garbled.json["error"]["message"],
        "Invalid OAuth access token - Cannot parse access token"
    );
    assert_eq!(garbled.json["error"]["type"], "OAuthException");
}

#[tokio::test]
async fn code_exchange_is_single_use_and_checks_inputs() {
    let (sandbox, client) = start().await;
    let f = sandbox.fixtures().clone();

    let wrong_secret = client
        .get(
            "/v26.0/oauth/access_token",
            &[
                ("client_id", &f.app_id),
                ("client_secret", "nope"),
                ("redirect_uri", &f.redirect_uri),
                ("code", &f.oauth_code),
            ],
        )
        .await;
    assert_eq!(wrong_secret.error_code(), 100);
    assert_eq!(
        wrong_secret.json["error"]["message"],
        "Error validating client secret."
    );

    let wrong_redirect = client
        .get(
            "/v26.0/oauth/access_token",
            &[
                ("client_id", &f.app_id),
                ("client_secret", &f.app_secret),
                ("redirect_uri", "https://evil.example/cb"),
                ("code", &f.oauth_code),
            ],
        )
        .await;
    assert_eq!(wrong_redirect.error_code(), 100);
    assert_eq!(wrong_redirect.subcode(), Some(36008));

    let ok = login(&client, &f, &f.oauth_code).await;
    assert_eq!(ok.status, 200, "{}", ok.json);
    assert_eq!(ok.json["token_type"], "bearer");
    assert_eq!(ok.json["expires_in"], 5400);
    let short = ok.json["access_token"].as_str().unwrap().to_owned();
    assert!(short.starts_with("EAAB"));
    let me = client.get("/v26.0/me", &[("access_token", &short)]).await;
    assert_eq!(me.json["id"], f.user_id.as_str());

    let again = login(&client, &f, &f.oauth_code).await;
    assert_eq!(again.error_code(), 100);
    assert_eq!(again.subcode(), Some(36009));
    assert_eq!(
        again.json["error"]["message"],
        "This authorization code has been used."
    );

    // A fresh code from the control handle works once too.
    let code = sandbox.control().new_oauth_code(&f.redirect_uri);
    assert_eq!(login(&client, &f, &code).await.status, 200);
    assert_eq!(sandbox.control().count("GET", "/oauth/access_token"), 5);
}

#[tokio::test]
async fn short_lived_tokens_expire_and_exchange() {
    let (sandbox, client) = start().await;
    let f = sandbox.fixtures().clone();
    let short = login(&client, &f, &f.oauth_code).await.json["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let long = client
        .get(
            "/v26.0/oauth/access_token",
            &[
                ("grant_type", "fb_exchange_token"),
                ("client_id", &f.app_id),
                ("client_secret", &f.app_secret),
                ("fb_exchange_token", &short),
            ],
        )
        .await;
    assert_eq!(long.status, 200, "{}", long.json);
    assert_eq!(long.json["expires_in"], 5_184_000);
    let long = long.json["access_token"].as_str().unwrap().to_owned();

    // Page tokens from a short-lived user token are short-lived too.
    let accounts = client
        .get("/v26.0/me/accounts", &[("access_token", &short)])
        .await;
    let short_page_token = accounts.json["data"][0]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(short_page_token, f.pages[0].access_token);

    sandbox.control().advance_clock(Duration::from_secs(5401));
    let expired = client.get("/v26.0/me", &[("access_token", &short)]).await;
    assert_eq!(expired.error_code(), 190);
    assert_eq!(expired.subcode(), Some(463));
    assert!(
        expired.json["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Error validating access token: Session has expired on")
    );
    let expired_page = client
        .get("/v26.0/me", &[("access_token", &short_page_token)])
        .await;
    assert_eq!(expired_page.subcode(), Some(463));

    let exchange_expired = client
        .get(
            "/v26.0/oauth/access_token",
            &[
                ("grant_type", "fb_exchange_token"),
                ("client_id", &f.app_id),
                ("client_secret", &f.app_secret),
                ("fb_exchange_token", &short),
            ],
        )
        .await;
    assert_eq!(exchange_expired.error_code(), 190);
    assert_eq!(exchange_expired.subcode(), Some(463));

    // The long-lived one still works, and the fixture Page token never expires.
    assert_eq!(
        client
            .get("/v26.0/me", &[("access_token", &long)])
            .await
            .status,
        200
    );
    sandbox
        .control()
        .advance_clock(Duration::from_secs(5_184_000));
    let page = client
        .get("/v26.0/me", &[("access_token", &f.pages[0].access_token)])
        .await;
    assert_eq!(page.status, 200);
    assert_eq!(
        client
            .get("/v26.0/me", &[("access_token", &long)])
            .await
            .subcode(),
        Some(463)
    );
}

#[tokio::test]
async fn app_token_and_debug_token() {
    let (sandbox, client) = start().await;
    let f = sandbox.fixtures().clone();
    let app = client
        .get(
            "/v26.0/oauth/access_token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &f.app_id),
                ("client_secret", &f.app_secret),
            ],
        )
        .await;
    let app_token = app.json["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app_token, format!("{}|{}", f.app_id, f.app_secret));

    let user = client
        .get(
            "/v26.0/debug_token",
            &[("input_token", &f.user_token), ("access_token", &app_token)],
        )
        .await;
    let d = &user.json["data"];
    assert_eq!(d["type"], "USER");
    assert_eq!(d["is_valid"], true);
    assert_eq!(d["app_id"], f.app_id.as_str());
    assert_eq!(d["user_id"], f.user_id.as_str());
    assert!(d["expires_at"].as_u64().unwrap() > d["issued_at"].as_u64().unwrap());
    assert!(
        d["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "pages_manage_posts")
    );
    assert!(d["granular_scopes"].is_array());

    let page = client
        .get(
            "/v26.0/debug_token",
            &[
                ("input_token", &f.pages[0].access_token),
                ("access_token", &f.user_token),
            ],
        )
        .await;
    assert_eq!(page.json["data"]["type"], "PAGE");
    assert_eq!(page.json["data"]["expires_at"], 0);
    assert_eq!(page.json["data"]["profile_id"], f.pages[0].id.as_str());

    let bad = client
        .get(
            "/v26.0/debug_token",
            &[("input_token", "garbage"), ("access_token", &app_token)],
        )
        .await;
    assert_eq!(bad.status, 200);
    assert_eq!(bad.json["data"]["is_valid"], false);
    assert_eq!(bad.json["data"]["error"]["code"], 190);

    let wrong_app = client
        .get(
            "/v26.0/me",
            &[("access_token", &format!("{}|wrong", f.app_id))],
        )
        .await;
    assert_eq!(wrong_app.error_code(), 190);

    let app_me = client
        .get("/v26.0/me", &[("access_token", &app_token)])
        .await;
    assert_eq!(app_me.error_code(), 2500);
}

#[tokio::test]
async fn debug_token_reports_expired_tokens() {
    let (sandbox, client) = start().await;
    let f = sandbox.fixtures().clone();
    let short = login(&client, &f, &f.oauth_code).await.json["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    sandbox.control().advance_clock(Duration::from_secs(6000));
    let app_token = format!("{}|{}", f.app_id, f.app_secret);
    let r = client
        .get(
            "/v26.0/debug_token",
            &[("input_token", &short), ("access_token", &app_token)],
        )
        .await;
    assert_eq!(r.json["data"]["is_valid"], false);
    assert_eq!(r.json["data"]["error"]["subcode"], 463);
}

#[tokio::test]
async fn appsecret_proof_classic_and_timed() {
    let (sandbox, client) =
        start_with(SandboxConfig::default().require_appsecret_proof(true)).await;
    let f = sandbox.fixtures().clone();
    let token = f.user_token.as_str();

    let missing = client.get("/v26.0/me", &[("access_token", token)]).await;
    assert_eq!(missing.error_code(), 100);
    assert_eq!(
        missing.json["error"]["message"],
        "API calls from the server require an appsecret_proof argument"
    );

    let classic = appsecret_proof(&f.app_secret, token);
    let ok = client
        .get(
            "/v26.0/me",
            &[("access_token", token), ("appsecret_proof", &classic)],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.json);

    let now = sandbox.control().now_unix();
    let timed = appsecret_proof_timed(&f.app_secret, token, now);
    let t = now.to_string();
    let ok = client
        .get(
            "/v26.0/me",
            &[
                ("access_token", token),
                ("appsecret_proof", &timed),
                ("appsecret_time", &t),
            ],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.json);

    let wrong = client
        .get(
            "/v26.0/me",
            &[
                ("access_token", token),
                ("appsecret_proof", &"0".repeat(64)),
            ],
        )
        .await;
    assert_eq!(wrong.error_code(), 100);
    assert_eq!(
        wrong.json["error"]["message"],
        "Invalid appsecret_proof provided in the API argument"
    );

    // Time-stamped proofs expire after 5 minutes of sandbox time.
    sandbox.control().advance_clock(Duration::from_secs(301));
    let stale = client
        .get(
            "/v26.0/me",
            &[
                ("access_token", token),
                ("appsecret_proof", &timed),
                ("appsecret_time", &t),
            ],
        )
        .await;
    assert_eq!(stale.error_code(), 100);

    // App tokens need no proof.
    let app = format!("{}|{}", f.app_id, f.app_secret);
    let debug = client
        .get(
            "/v26.0/debug_token",
            &[("input_token", token), ("access_token", &app)],
        )
        .await;
    assert_eq!(debug.status, 200);
}

#[tokio::test]
async fn wrong_proof_is_rejected_even_when_not_required() {
    let (sandbox, client) = start().await;
    let token = sandbox.fixtures().user_token.clone();
    let r = client
        .get(
            "/v26.0/me",
            &[("access_token", &token), ("appsecret_proof", "deadbeef")],
        )
        .await;
    assert_eq!(r.error_code(), 100);
    assert_eq!(
        client
            .get("/v26.0/me", &[("access_token", &token)])
            .await
            .status,
        200
    );
}
