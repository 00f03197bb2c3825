//! `meta pages` run as a user would, against an in-process sandbox.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

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

fn json_out(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn post_schedule_list_and_delete() {
    let sb = meta_sandbox::Sandbox::start().await.unwrap();
    let page = sb.fixtures().pages[0].clone();
    let (base, token) = (sb.base_url().to_owned(), page.access_token.clone());

    let posted = json_out(
        &meta(
            &[
                "pages",
                "post",
                "--page",
                &page.id,
                "--message",
                "Hello",
                "--link",
                "https://example.com",
            ],
            &base,
            &token,
        )
        .await,
    );
    let id = posted["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with(&format!("{}_", page.id)));

    let at = sb.control().now_unix() + 7200;
    let scheduled = json_out(
        &meta(
            &[
                "pages",
                "schedule",
                "--page",
                &page.id,
                "--message",
                "Later",
                "--at",
                &at.to_string(),
            ],
            &base,
            &token,
        )
        .await,
    );
    assert_eq!(scheduled["scheduled_publish_time"], at);
    // The relative form works too.
    json_out(
        &meta(
            &[
                "pages",
                "schedule",
                "--page",
                &page.id,
                "--message",
                "Tomorrow",
                "--at",
                "+1d",
            ],
            &base,
            &token,
        )
        .await,
    );

    let out = meta(&["pages", "scheduled", "--page", &page.id], &base, &token).await;
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().any(|l| l["id"] == scheduled["id"]));
    assert!(lines.iter().all(|l| l["is_published"] == false));

    let deleted = json_out(&meta(&["pages", "delete", &id], &base, &token).await);
    assert_eq!(deleted["success"], true);
}

#[tokio::test]
async fn refusals_send_nothing_and_graph_errors_are_reported() {
    let sb = meta_sandbox::Sandbox::start().await.unwrap();
    let page = sb.fixtures().pages[0].clone();
    let (base, token) = (sb.base_url().to_owned(), page.access_token.clone());
    let soon = (sb.control().now_unix() + 60).to_string();
    for (args, needle) in [
        (
            vec![
                "pages",
                "schedule",
                "--page",
                &page.id,
                "--message",
                "x",
                "--at",
                &soon,
            ],
            "scheduled_publish_time",
        ),
        (vec!["pages", "post", "--page", &page.id], "message"),
        (
            vec![
                "pages",
                "post",
                "--page",
                &page.id,
                "--link",
                "ftp://x.example",
            ],
            "link",
        ),
        (
            vec![
                "pages",
                "schedule",
                "--page",
                &page.id,
                "--message",
                "x",
                "--at",
                "soon",
            ],
            "RFC 3339",
        ),
    ] {
        let out = meta(&args, &base, &token).await;
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
    assert!(sb.control().requests().is_empty(), "nothing was sent");

    // A Graph error: Meta's JSON line first, the token never echoed.
    let out = meta(
        &[
            "pages",
            "photo",
            "--page",
            &page.id,
            "--url",
            "https://img.invalid/x.jpg",
        ],
        &base,
        &token,
    )
    .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let first: Value = serde_json::from_str(stderr.lines().next().unwrap()).unwrap();
    assert_eq!(first["error"]["code"], 100);
    assert_eq!(first["error"]["subcode"], 3_858_258);
    assert!(!stderr.contains(&token));
}

#[tokio::test]
async fn photo_and_video_from_files() {
    let sb = meta_sandbox::Sandbox::start().await.unwrap();
    let page = sb.fixtures().pages[0].clone();
    let (base, token) = (sb.base_url().to_owned(), page.access_token.clone());
    let dir = std::env::temp_dir().join(format!("meta-cli-pages-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let photo = dir.join("p.jpg");
    std::fs::write(&photo, b"\xff\xd8\xff\xe0\x00\x10JFIF\x00cli").unwrap();
    let video = dir.join("clip.mp4");
    std::fs::write(&video, vec![7u8; 1_500_000]).unwrap();

    let out = json_out(
        &meta(
            &[
                "pages",
                "photo",
                "--page",
                &page.id,
                "--file",
                photo.to_str().unwrap(),
                "--caption",
                "From disk",
            ],
            &base,
            &token,
        )
        .await,
    );
    assert!(out["id"].is_string() && out["post_id"].is_string());

    let out = json_out(
        &meta(
            &[
                "pages",
                "video",
                "--page",
                &page.id,
                "--file",
                video.to_str().unwrap(),
                "--title",
                "Clip",
            ],
            &base,
            &token,
        )
        .await,
    );
    assert!(out["id"].is_string());
    // start + 2 chunks + finish
    assert_eq!(sb.control().count("POST", "/videos"), 4);
    let _ = std::fs::remove_dir_all(&dir);
}
