//! `meta comments`, `meta live` and `meta messenger` against an in-process sandbox.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use meta_sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

struct Env {
    sb: Sandbox,
    base: String,
    token: String,
    page: String,
}

async fn env(config: SandboxConfig) -> Env {
    let sb = Sandbox::start_with(config).await.unwrap();
    let page = sb.fixtures().pages[0].clone();
    Env {
        base: sb.base_url().to_owned(),
        token: page.access_token,
        page: page.id,
        sb,
    }
}

fn command(base: &str, token: &str, args: &[String]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_meta"));
    c.args(args)
        .env("META_BASE_URL", base)
        .env("META_ACCESS_TOKEN", token)
        .env_remove("META_APP_SECRET")
        .stdin(Stdio::null());
    c
}

impl Env {
    /// Runs `meta` on a blocking thread so the sandbox keeps serving.
    async fn meta(&self, args: &[&str]) -> Output {
        let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        let (base, token) = (self.base.clone(), self.token.clone());
        tokio::task::spawn_blocking(move || command(&base, &token, &args).output().unwrap())
            .await
            .unwrap()
    }

    async fn newest_post(&self) -> String {
        let out = self
            .meta(&[
                "graph",
                "get",
                &format!("{}/feed", self.page),
                "-p",
                "limit=1",
            ])
            .await;
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["data"][0]["id"].as_str().unwrap().to_owned()
    }
}

fn lines(out: &Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_replies_to_and_hides_comments() {
    let e = env(SandboxConfig::default().posts_per_page(3)).await;
    let post = e.newest_post().await;
    let listed = lines(&e.meta(&["comments", "list", &post, "--limit", "5"]).await);
    let ids: Vec<&str> = listed.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, e.sb.control().comment_ids(&post));
    let newest = lines(
        &e.meta(&[
            "comments",
            "list",
            &post,
            "--order",
            "reverse-chronological",
            "--max-items",
            "2",
        ])
        .await,
    );
    assert_eq!(newest.len(), 2);
    assert_eq!(newest[0]["id"], listed.last().unwrap()["id"]);

    let target = ids[2].to_owned();
    let reply = lines(
        &e.meta(&["comments", "reply", &target, "--message", "DM sent!"])
            .await,
    );
    let reply_id = reply[0]["id"].as_str().unwrap();
    assert_eq!(
        e.sb.control().comment_ids(&target).last().unwrap(),
        reply_id
    );

    lines(&e.meta(&["comments", "hide", &target]).await);
    let hidden = lines(
        &e.meta(&["comments", "list", &post, "--max-items", "3"])
            .await,
    );
    assert_eq!(hidden[2]["is_hidden"], true);
    lines(&e.meta(&["comments", "hide", &target, "--unhide"]).await);
    let shown = lines(
        &e.meta(&["comments", "list", &post, "--max-items", "3"])
            .await,
    );
    assert_eq!(shown[2]["is_hidden"], false);

    // Bad ids are refused before any call, with a clear message.
    let before = e.sb.control().requests().len();
    let out = e
        .meta(&["comments", "reply", "1/2", "--message", "x"])
        .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("comment_id"));
    assert_eq!(e.sb.control().requests().len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_comments_follow_prints_every_comment_until_the_live_ends() {
    let e = env(SandboxConfig::default().posts_per_page(3).live_comments(40)).await;
    let live = e.sb.control().live_video_id(&e.page).unwrap();
    let args: Vec<String> = [
        "live",
        "comments",
        &live,
        "--follow",
        "--interval-ms",
        "20",
        "--no-filter",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let child = command(&e.base, &e.token, &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let waiter = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap());
    // Comments arrive while the command follows, then the broadcast ends. Whatever the
    // interleaving, every comment must come out once, in order.
    tokio::time::sleep(Duration::from_millis(150)).await;
    e.sb.control().add_live_comments(&live, 5);
    tokio::time::sleep(Duration::from_millis(100)).await;
    e.sb.control().add_live_comments(&live, 3);
    e.sb.control().end_live_video(&live);
    let out = tokio::time::timeout(Duration::from_secs(60), waiter)
        .await
        .expect("meta live comments --follow ends with the live")
        .unwrap();
    let got: Vec<String> = lines(&out)
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, e.sb.control().comment_ids(&live));
    assert_eq!(got.len(), 48);

    // Without --follow: the comments once, then exit.
    let once = lines(&e.meta(&["live", "comments", &live, "--no-filter"]).await);
    assert_eq!(once.len(), 48);
    let videos = lines(&e.meta(&["live", "list", "--page", &e.page]).await);
    assert_eq!(videos.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messenger_private_reply_then_meta_refuses_the_second_and_out_of_window_sends() {
    let e = env(SandboxConfig::default().posts_per_page(3)).await;
    let post = e.newest_post().await;
    let comment =
        e.sb.control()
            .add_comment(&post, "7200000000000002", "Iris Novak", "Price?")
            .unwrap();
    let ok = lines(
        &e.meta(&[
            "messenger",
            "private-reply",
            "--page",
            &e.page,
            "--comment",
            &comment,
            "--text",
            "12 €, sent you the link",
        ])
        .await,
    );
    assert_eq!(ok[0]["recipient_id"], "7200000000000002");
    assert!(ok[0]["message_id"].as_str().unwrap().starts_with("m_"));

    let again = e
        .meta(&[
            "messenger",
            "private-reply",
            "--page",
            &e.page,
            "--comment",
            &comment,
            "--text",
            "again",
        ])
        .await;
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("\"code\":10900"), "{err}");

    // The private reply did not open the window: Meta refuses a RESPONSE.
    let send = e
        .meta(&[
            "messenger",
            "send",
            "--page",
            &e.page,
            "--to",
            "7200000000000002",
            "--text",
            "Still there?",
        ])
        .await;
    assert!(!send.status.success());
    let err = String::from_utf8_lossy(&send.stderr);
    assert!(err.contains("\"subcode\":2018278"), "{err}");

    // Once the person writes, it goes through, with quick replies.
    e.sb.control()
        .simulate_inbound_message(&e.page, "7200000000000002", "yes!");
    let sent = lines(
        &e.meta(&[
            "messenger",
            "send",
            "--page",
            &e.page,
            "--to",
            "7200000000000002",
            "--text",
            "Which size?",
            "--quick-reply",
            "S=SIZE_S",
            "--quick-reply",
            "M=SIZE_M",
        ])
        .await,
    );
    assert!(sent[0]["message_id"].is_string());
    let last = e.sb.control().sent_messages().pop().unwrap();
    assert_eq!(
        last.message.unwrap()["quick_replies"][1]["payload"],
        "SIZE_M"
    );
}
