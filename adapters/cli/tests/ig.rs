//! `meta ig ...` against an in-process sandbox.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use meta_sandbox::{InstagramConfig, Sandbox, SandboxConfig};
use serde_json::Value;

struct Env {
    sb: Sandbox,
    base: String,
    token: String,
    ig_user: String,
}

async fn env(ig: InstagramConfig) -> Env {
    let sb = Sandbox::start_with(SandboxConfig::default().posts_per_page(3).instagram(ig))
        .await
        .unwrap();
    let base = sb.base_url().to_owned();
    let token = sb.fixtures().user_token.clone();
    let ig_user = sb.fixtures().pages[0].ig_user_id.clone();
    Env {
        sb,
        base,
        token,
        ig_user,
    }
}

impl Env {
    /// Runs `meta` on a blocking thread so the sandbox keeps serving.
    async fn meta(&self, args: &[&str]) -> Output {
        let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        let (base, token) = (self.base.clone(), self.token.clone());
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_meta"))
                .args(&args)
                .env("META_BASE_URL", base)
                .env("META_ACCESS_TOKEN", token)
                .env_remove("META_APP_SECRET")
                .stdin(Stdio::null())
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    }
}

fn json_line(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    serde_json::from_str(stdout.lines().last().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_image_and_carousel_and_prints_media_ids() {
    let e = env(InstagramConfig::default()
        .image_processing(Duration::ZERO)
        .video_processing(Duration::ZERO))
    .await;
    let out = e
        .meta(&[
            "ig",
            "publish",
            "image",
            "--ig-user",
            &e.ig_user,
            "--url",
            "https://cdn.example.com/a.jpg",
            "--caption",
            "Hello #sandbox",
        ])
        .await;
    let v = json_line(&out);
    assert_eq!(v["outcome"], "published");
    assert!(
        v["media_id"]
            .as_str()
            .unwrap()
            .chars()
            .all(|c| c.is_ascii_digit())
    );

    let out = e
        .meta(&[
            "ig",
            "publish",
            "carousel",
            "--ig-user",
            &e.ig_user,
            "--url",
            "https://cdn.example.com/1.jpg",
            "--url",
            "https://cdn.example.com/2.jpg",
            "--video-url",
            "https://cdn.example.com/3.mp4",
        ])
        .await;
    assert_eq!(json_line(&out)["outcome"], "published");

    let out = e
        .meta(&[
            "ig",
            "publish",
            "reel",
            "--ig-user",
            &e.ig_user,
            "--video-url",
            "https://cdn.example.com/r.mp4",
            "--share-to-feed",
        ])
        .await;
    assert_eq!(json_line(&out)["outcome"], "published");
    let out = e
        .meta(&[
            "ig",
            "publish",
            "story",
            "--ig-user",
            &e.ig_user,
            "--url",
            "https://cdn.example.com/s.jpg",
        ])
        .await;
    assert_eq!(json_line(&out)["outcome"], "published");

    let limit = json_line(&e.meta(&["ig", "limit", "--ig-user", &e.ig_user]).await);
    assert_eq!(limit["quota_usage"], 4);
    assert_eq!(limit["quota_total"], 100);
    assert_eq!(e.sb.control().count("POST", "/media_publish"), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shows_progress_and_no_wait_returns_the_container() {
    let e = env(InstagramConfig::default().image_processing(Duration::from_secs(2))).await;
    let out = e
        .meta(&[
            "ig",
            "publish",
            "image",
            "--ig-user",
            &e.ig_user,
            "--url",
            "https://cdn.example.com/a.jpg",
            "--poll-interval",
            "0.5",
        ])
        .await;
    assert_eq!(json_line(&out)["outcome"], "published");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("IN_PROGRESS"), "{stderr}");
    assert!(stderr.contains("FINISHED"), "{stderr}");

    let out = e
        .meta(&[
            "ig",
            "publish",
            "image",
            "--ig-user",
            &e.ig_user,
            "--url",
            "https://cdn.example.com/b.jpg",
            "--no-wait",
        ])
        .await;
    let id = json_line(&out)["container_id"].as_str().unwrap().to_owned();
    let status = json_line(&e.meta(&["ig", "status", &id]).await);
    assert_eq!(status["id"], id.as_str());
    assert_eq!(status["status_code"], "IN_PROGRESS");
    assert_eq!(e.sb.control().count("POST", "/media_publish"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_bad_input_without_calling_meta() {
    let e = env(InstagramConfig::default()).await;
    let out = e
        .meta(&[
            "ig",
            "publish",
            "image",
            "--ig-user",
            &e.ig_user,
            "--url",
            "https://cdn.example.com/a.png",
        ])
        .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("JPEG"));
    let out = e
        .meta(&[
            "ig",
            "publish",
            "carousel",
            "--ig-user",
            &e.ig_user,
            "--url",
            "https://cdn.example.com/1.jpg",
        ])
        .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 to 10 items"));
    assert!(e.sb.control().requests().is_empty());
}
