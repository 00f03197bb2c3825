//! The `meta` binary, run as a user would.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn meta(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_meta"));
    cmd.args(args)
        .env_remove("META_ACCESS_TOKEN")
        .env_remove("META_APP_SECRET")
        .env_remove("META_BASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn webhook_sign_and_verify_round_trip() {
    let body = br#"{"object":"page","entry":[]}"#;
    let out = meta(&["webhook", "sign", "--secret", "s3cret"], body, &[]);
    assert!(out.status.success());
    let sig = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64, "{sig}");
    let ok = meta(
        &[
            "webhook",
            "verify",
            "--secret",
            "s3cret",
            "--signature",
            &sig,
        ],
        body,
        &[],
    );
    assert_eq!(ok.status.code(), Some(0));
    let bad = meta(
        &["webhook", "verify", "--signature", &sig],
        b"tampered",
        &[("META_APP_SECRET", "s3cret")],
    );
    assert_eq!(bad.status.code(), Some(1));
}

#[test]
fn appsecret_proof_known_vector() {
    let out = meta(
        &[
            "auth",
            "appsecret-proof",
            "--app-secret",
            "secret",
            "--token",
            "token",
        ],
        b"",
        &[],
    );
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        // python3: hmac.new(b"secret", b"token", hashlib.sha256).hexdigest()
        "e941110e3d2bfe82621f0e3e1434730d7305d106c5f68c87165d0b27a4611a4a"
    );
}

#[tokio::test]
async fn graph_get_pages_and_reports_errors() {
    let sb = meta_sandbox::Sandbox::start().await.unwrap();
    let fx = sb.fixtures().clone();
    let base = sb.base_url().to_owned();
    let page = fx.pages[0].clone();
    let out = tokio::task::spawn_blocking({
        let base = base.clone();
        let page = page.clone();
        move || {
            meta(
                &[
                    "graph",
                    "get",
                    &format!("{}/feed", page.id),
                    "--all",
                    "-p",
                    "limit=100",
                ],
                b"",
                &[
                    ("META_BASE_URL", &base),
                    ("META_ACCESS_TOKEN", &page.access_token),
                ],
            )
        }
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = String::from_utf8(out.stdout).unwrap();
    assert_eq!(lines.lines().count(), 250);
    assert!(
        lines
            .lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
    );

    let err = tokio::task::spawn_blocking({
        let base = base.clone();
        move || {
            meta(
                &["graph", "get", "me", "--base-url", &base],
                b"",
                &[("META_ACCESS_TOKEN", "EAABbogus")],
            )
        }
    })
    .await
    .unwrap();
    assert!(!err.status.success());
    let stderr = String::from_utf8(err.stderr).unwrap();
    let first: serde_json::Value = serde_json::from_str(stderr.lines().next().unwrap()).unwrap();
    assert_eq!(first["error"]["code"], 190);
    assert_eq!(first["error"]["classification"], "re_auth");
    assert!(first["error"]["fbtrace_id"].is_string());
    assert!(!stderr.contains("EAABbogus"), "the token is never echoed");
}

#[test]
fn demo_runs_end_to_end() {
    // The platform steps; the live sale (the default) is tested in demo_live.rs.
    let out = meta(&["demo", "--platform"], b"", &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("250 posts"), "{stdout}");
    assert!(stdout.contains("0 duplicates"), "{stdout}");
    assert!(stdout.contains("applied it 1 time"), "{stdout}");
}

#[test]
fn sandbox_prints_its_credentials_first_and_serves() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_meta"))
        .args(["sandbox", "--port", "0", "--seed", "7"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let info: serde_json::Value = serde_json::from_str(&line).unwrap();
    for key in [
        "base_url",
        "app_id",
        "app_secret",
        "user_token",
        "pages",
        "ad_accounts",
    ] {
        assert!(!info[key].is_null(), "missing {key} in {line}");
    }
    let page = &info["pages"][0];
    for key in ["id", "name", "access_token", "ig_user_id"] {
        assert!(page[key].is_string(), "missing pages[0].{key}");
    }
    // It really serves: `meta graph get` against it with the printed Page token.
    let base = info["base_url"].as_str().unwrap();
    let token = page["access_token"].as_str().unwrap();
    let out = meta(
        &[
            "graph",
            "get",
            "me",
            "--fields",
            "id,name",
            "--base-url",
            base,
        ],
        b"",
        &[("META_ACCESS_TOKEN", token)],
    );
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let me: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(me["id"], page["id"]);
}
