//! `meta insights` and `meta webhook parse`, run as a user would, against an in-process
//! sandbox.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// Runs `meta` with the sandbox URL and a token in the environment.
async fn meta(args: &[&str], base: &str, token: &str) -> Output {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let (base, token) = (base.to_owned(), token.to_owned());
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_meta"))
            .args(&args)
            .env_remove("META_APP_SECRET")
            .env("META_BASE_URL", base)
            .env("META_ACCESS_TOKEN", token)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// Runs `meta` with `stdin` piped in and no Graph connection.
fn meta_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_meta"))
        .args(args)
        .env_remove("META_APP_SECRET")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn json_out(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn page_insights_report_failed_metrics_and_keep_the_rest() {
    let sb = meta_sandbox::Sandbox::start().await.unwrap();
    let page = sb.fixtures().pages[0].clone();
    let out = meta(
        &[
            "insights",
            "page",
            &page.id,
            "--metric",
            "page_post_engagements,page_bogus",
            "--period",
            "day",
            "--since",
            "1767225600",
            "--until",
            "1767398400",
        ],
        sb.base_url(),
        &page.access_token,
    )
    .await;
    let v = json_out(&out);
    assert_eq!(v["metrics"][0]["name"], "page_post_engagements");
    assert_eq!(v["metrics"][0]["values"].as_array().unwrap().len(), 2);
    assert!(v["metrics"][0]["values"][0]["value"].is_u64());
    assert_eq!(v["failures"][0]["metric"], "page_bogus");
    assert_eq!(v["failures"][0]["code"], 100);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("page_bogus"), "{stderr}");
}

#[tokio::test]
async fn instagram_and_bad_input() {
    let sb = meta_sandbox::Sandbox::start().await.unwrap();
    let f = sb.fixtures().clone();
    let ig = &f.pages[0].ig_user_id;
    let v = json_out(
        &meta(
            &[
                "insights",
                "ig",
                ig,
                "--metric",
                "views",
                "--period",
                "day",
                "--metric-type",
                "total-value",
                "--breakdown",
                "media_product_type",
            ],
            sb.base_url(),
            &f.user_token,
        )
        .await,
    );
    assert!(v["metrics"][0]["total_value"]["value"].is_u64());

    // Every metric rejected: exit 1, reasons in the JSON.
    let out = meta(
        &["insights", "ig", ig, "--metric", "bogus"],
        sb.base_url(),
        &f.user_token,
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["failures"][0]["metric"], "bogus");

    // Refused before any call.
    let out = meta(
        &["insights", "page", "123", "--metric", "Not A Metric"],
        sb.base_url(),
        &f.user_token,
    )
    .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a metric name"));
    let out = meta(
        &[
            "insights", "page", "123", "--metric", "x", "--period", "hourly",
        ],
        sb.base_url(),
        &f.user_token,
    )
    .await;
    assert!(!out.status.success());
    assert_eq!(sb.control().count("GET", "/insights"), 2);
}

const COMMENT: &str = r#"{"object":"page","entry":[{"id":"448242228374517","time":1742667607,"changes":[{"field":"feed","value":{"from":{"id":"448242228374517","name":"SuperTester"},"message":"meow 2","post_id":"448242228374517_122131676912594941","comment_id":"122131676912594941_1213590066982748","created_time":1742667604,"item":"comment","parent_id":"122131676912594941_542072878449250","verb":"add"}}]}]}"#;

#[test]
fn webhook_parse_prints_the_typed_event() {
    let out = meta_stdin(&["webhook", "parse"], COMMENT.as_bytes());
    let v = json_out(&out);
    assert_eq!(v["object"], "page");
    let change = &v["entries"][0]["changes"][0];
    assert_eq!(change["kind"], "feed_comment");
    assert_eq!(change["verb"], "add");
    assert_eq!(change["message"], "meow 2");
    assert_eq!(change["created_time"], 1_742_667_604_000_i64);
}

#[test]
fn webhook_parse_rejects_invalid_input_with_exit_1() {
    for bad in [&b"not json"[..], br#"{"object":"page"}"#, b""] {
        let out = meta_stdin(&["webhook", "parse"], bad);
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("invalid webhook payload"), "{stderr}");
    }
}

#[test]
fn webhook_parse_can_verify_first() {
    let secret = "s3cr3t";
    let sig = String::from_utf8(
        meta_stdin(&["webhook", "sign", "--secret", secret], COMMENT.as_bytes()).stdout,
    )
    .unwrap();
    let sig = sig.trim();
    let out = meta_stdin(
        &["webhook", "parse", "--secret", secret, "--signature", sig],
        COMMENT.as_bytes(),
    );
    json_out(&out);
    let out = meta_stdin(
        &["webhook", "parse", "--secret", "other", "--signature", sig],
        COMMENT.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("signature"));
}
