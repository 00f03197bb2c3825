//! `meta oauth ...`: the dialog URL offline, and exchanges/debug against an in-process
//! sandbox. The app secret never appears in the output.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::{Command, Output, Stdio};

use meta_sandbox::Sandbox;
use serde_json::Value;

/// Runs `meta` on a blocking thread so the sandbox keeps serving.
async fn meta(args: &[&str], env: &[(&str, &str)]) -> Output {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_meta"));
        cmd.args(&args)
            .env_remove("META_ACCESS_TOKEN")
            .env_remove("META_APP_SECRET")
            .env_remove("META_APP_ID")
            .env_remove("META_BASE_URL")
            .env_remove("META_REDIRECT_URI")
            .env_remove("META_INSTAGRAM_BASE_URL")
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    })
    .await
    .unwrap()
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn app_env(sb: &Sandbox) -> Vec<(&'static str, String)> {
    let f = sb.fixtures();
    vec![
        ("META_APP_ID", f.app_id.clone()),
        ("META_APP_SECRET", f.app_secret.clone()),
        ("META_BASE_URL", sb.base_url().to_owned()),
        ("META_INSTAGRAM_BASE_URL", sb.base_url().to_owned()),
        ("META_REDIRECT_URI", f.redirect_uri.clone()),
    ]
}

fn borrow<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test]
async fn url_prints_the_dialog_and_state() {
    let out = meta(
        &[
            "oauth",
            "url",
            "--app-id",
            "1234",
            "--redirect-uri",
            "https://app.example/cb",
            "--scope",
            "pages_show_list,pages_manage_posts",
        ],
        &[],
    )
    .await;
    let v = json(&out);
    let url = v["url"].as_str().unwrap();
    let state = v["state"].as_str().unwrap();
    assert_eq!(state.len(), 43);
    assert!(url.starts_with("https://www.facebook.com/v26.0/dialog/oauth?client_id=1234&"));
    assert!(
        url.contains("scope=pages_show_list%2Cpages_manage_posts"),
        "{url}"
    );
    assert!(url.contains(&format!("state={state}")));

    let fixed = meta(
        &[
            "oauth",
            "url",
            "--app-id",
            "1234",
            "--redirect-uri",
            "https://app.example/cb",
            "--scope",
            "email",
            "--state",
            "a-fixed-state-value-0123456789",
        ],
        &[],
    )
    .await;
    assert_eq!(json(&fixed)["state"], "a-fixed-state-value-0123456789");

    // A scope with a space is refused before anything else.
    let bad = meta(
        &[
            "oauth",
            "url",
            "--app-id",
            "1234",
            "--redirect-uri",
            "https://app.example/cb",
            "--scope",
            "pages show",
        ],
        &[],
    )
    .await;
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid scope"));
}

#[tokio::test]
async fn exchange_and_debug_against_the_sandbox() {
    let sb = Sandbox::start().await.unwrap();
    let f = sb.fixtures().clone();
    let env = app_env(&sb);
    let env = borrow(&env);

    let short = meta(&["oauth", "exchange", "--code", &f.oauth_code], &env).await;
    let v = json(&short);
    assert_eq!(v["expires_in"], 5400);
    let short_token = v["access_token"].as_str().unwrap().to_owned();

    let long = meta(&["oauth", "exchange", "--long-lived", &short_token], &env).await;
    let v = json(&long);
    assert_eq!(v["expires_in"], 5_184_000);
    let long_token = v["access_token"].as_str().unwrap().to_owned();

    let dbg = meta(&["oauth", "debug", "--token", &long_token], &env).await;
    let v = json(&dbg);
    assert_eq!(v["is_valid"], true);
    assert_eq!(v["type"], "USER");
    assert_eq!(v["user_id"], f.user_id.as_str());

    let ig = meta(
        &[
            "oauth",
            "exchange",
            "--ig-exchange",
            &f.ig_login.access_token,
        ],
        &env,
    )
    .await;
    assert!(
        json(&ig)["access_token"]
            .as_str()
            .unwrap()
            .starts_with("IGAA")
    );

    for out in [&short, &long, &dbg, &ig] {
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains(&f.app_secret), "the app secret leaked");
    }

    // A used code: Meta's error on stderr, non-zero exit, still no secret.
    let used = meta(&["oauth", "exchange", "--code", &f.oauth_code], &env).await;
    assert!(!used.status.success());
    let err = String::from_utf8_lossy(&used.stderr);
    assert!(err.contains("\"code\":100"), "{err}");
    assert!(!err.contains(&f.app_secret));

    // Without the app secret the command refuses to run.
    let no_secret: Vec<(&str, &str)> = env
        .iter()
        .copied()
        .filter(|(k, _)| *k != "META_APP_SECRET")
        .collect();
    let missing = meta(&["oauth", "debug", "--token", &long_token], &no_secret).await;
    assert!(!missing.status.success());
    sb.shutdown().await;
}
