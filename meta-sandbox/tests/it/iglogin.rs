//! Instagram Login tokens (`ig_exchange_token`, `ig_refresh_token`) and revocation.

use std::time::Duration;

use crate::common::{Client, Resp, start};

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

async fn exchange(client: &Client, path: &str, secret: &str, token: &str) -> Resp {
    client
        .get(
            path,
            &[
                ("grant_type", "ig_exchange_token"),
                ("client_secret", secret),
                ("access_token", token),
            ],
        )
        .await
}

async fn refresh(client: &Client, token: &str) -> Resp {
    client
        .get(
            "/refresh_access_token",
            &[("grant_type", "ig_refresh_token"), ("access_token", token)],
        )
        .await
}

#[tokio::test]
async fn exchange_then_refresh_after_a_day() {
    let (sandbox, client) = start().await;
    let f = sandbox.fixtures().clone();
    assert!(f.ig_login.access_token.starts_with("IGAA"));

    // Unversioned (as Meta documents) and versioned paths both work.
    let long = exchange(
        &client,
        "/access_token",
        &f.app_secret,
        &f.ig_login.access_token,
    )
    .await;
    assert_eq!(long.status, 200, "{}", long.json);
    assert_eq!(long.json["token_type"], "bearer");
    assert_eq!(long.json["expires_in"], 5_184_000);
    let long_token = long.json["access_token"].as_str().unwrap().to_owned();
    assert!(long_token.starts_with("IGAA"));
    assert_ne!(long_token, f.ig_login.access_token);
    let fresh = sandbox.control().new_ig_login_token();
    let versioned = exchange(&client, "/v26.0/access_token", &f.app_secret, &fresh).await;
    assert_eq!(versioned.status, 200, "{}", versioned.json);

    // A long-lived token cannot be exchanged again, nor refreshed before it is 24 h old.
    let again = exchange(&client, "/access_token", &f.app_secret, &long_token).await;
    assert_eq!(again.error_code(), 100);
    let young = refresh(&client, &long_token).await;
    assert_eq!(young.error_code(), 100);
    assert!(
        young.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("24 hours")
    );

    sandbox.control().advance_clock(DAY + HOUR);
    let refreshed = refresh(&client, &long_token).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.json);
    assert_eq!(refreshed.json["access_token"], long_token.as_str());
    assert_eq!(refreshed.json["expires_in"], 5_184_000);

    // The refresh restarted the 60 days: 59 days later the token still works...
    sandbox.control().advance_clock(59 * DAY);
    let later = refresh(&client, &long_token).await;
    assert_eq!(later.status, 200, "{}", later.json);
    // ...and an expired one cannot be refreshed.
    sandbox.control().advance_clock(61 * DAY);
    let expired = refresh(&client, &long_token).await;
    assert_eq!(expired.error_code(), 190);
    assert_eq!(expired.subcode(), Some(463));
}

#[tokio::test]
async fn exchange_errors() {
    let (sandbox, client) = start().await;
    let f = sandbox.fixtures().clone();
    let short = f.ig_login.access_token.as_str();
    let wrong_secret = exchange(&client, "/access_token", "0000", short).await;
    assert_eq!(wrong_secret.error_code(), 100);
    assert_eq!(
        wrong_secret.json["error"]["message"],
        "Error validating client secret."
    );
    let wrong_grant = client
        .get(
            "/access_token",
            &[
                ("grant_type", "fb_exchange_token"),
                ("client_secret", &f.app_secret),
                ("access_token", short),
            ],
        )
        .await;
    assert_eq!(wrong_grant.error_code(), 100);
    let unknown = exchange(&client, "/access_token", &f.app_secret, "IGAAnope").await;
    assert_eq!(unknown.error_code(), 190);
    // A short-lived token cannot be refreshed.
    let short_refresh = refresh(&client, short).await;
    assert_eq!(short_refresh.error_code(), 100);
    // POST is not served.
    let post = client
        .post(
            "/refresh_access_token",
            &[("grant_type", "ig_refresh_token"), ("access_token", short)],
        )
        .await;
    assert_eq!(post.error_code(), 100);

    // Short-lived tokens live one hour.
    sandbox
        .control()
        .advance_clock(HOUR + Duration::from_secs(1));
    let late = exchange(&client, "/access_token", &f.app_secret, short).await;
    assert_eq!(late.error_code(), 190);
    assert_eq!(late.subcode(), Some(463));
}

#[tokio::test]
async fn revoked_tokens_fail_with_their_subcode() {
    let (sandbox, client) = start().await;
    let f = sandbox.fixtures().clone();
    let control = sandbox.control();

    // A user token: password changed.
    assert!(control.revoke_token(&f.user_token, 460));
    let me = client
        .get("/v26.0/me", &[("access_token", &f.user_token)])
        .await;
    assert_eq!(me.error_code(), 190);
    assert_eq!(me.subcode(), Some(460));
    assert!(
        me.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("changed their password")
    );
    // debug_token says so too.
    let app_token = format!("{}|{}", f.app_id, f.app_secret);
    let dbg = client
        .get(
            "/v26.0/debug_token",
            &[("input_token", &f.user_token), ("access_token", &app_token)],
        )
        .await;
    assert_eq!(dbg.json["data"]["is_valid"], false);
    assert_eq!(dbg.json["data"]["error"]["subcode"], 460);
    // fb_exchange_token refuses it.
    let ex = client
        .get(
            "/v26.0/oauth/access_token",
            &[
                ("grant_type", "fb_exchange_token"),
                ("client_id", &f.app_id),
                ("client_secret", &f.app_secret),
                ("fb_exchange_token", &f.user_token),
            ],
        )
        .await;
    assert_eq!(ex.subcode(), Some(460));

    // A Page token: the app was removed.
    assert!(control.revoke_token(&f.pages[0].access_token, 458));
    let page = client
        .get(
            &format!("/v26.0/{}", f.pages[0].id),
            &[("access_token", &f.pages[0].access_token)],
        )
        .await;
    assert_eq!((page.error_code(), page.subcode()), (190, Some(458)));
    // Other Page tokens are untouched.
    let other = client
        .get(
            &format!("/v26.0/{}", f.pages[1].id),
            &[("access_token", &f.pages[1].access_token)],
        )
        .await;
    assert_eq!(other.status, 200);

    // An Instagram Login token: logged out.
    assert!(control.revoke_token(&f.ig_login.access_token, 467));
    let ig = exchange(
        &client,
        "/access_token",
        &f.app_secret,
        &f.ig_login.access_token,
    )
    .await;
    assert_eq!((ig.error_code(), ig.subcode()), (190, Some(467)));

    // Unknown and app tokens are not revocable.
    assert!(!control.revoke_token("EAABnope", 460));
    assert!(!control.revoke_token(&app_token, 460));
}
