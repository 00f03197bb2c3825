//! The process-level crash test: `meta publisher run` is SIGKILLed between persisting
//! "armed" and the result, then restarted. No post is published twice; the armed posts
//! are reconciled (an Instagram container found `PUBLISHED` → published, a Facebook
//! feed call that may or may not have gone out → unconfirmed); the rest are published.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod publisher_common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};

use meta_core::{Client, IgContainerId, IgUserId};
use meta_graph::GraphExt;
use meta_graph::publisher::{PostState, PublisherStore};
use meta_store_sqlite::SqliteStore;
use publisher_common::{Env, TempDir, applied, sandbox};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_between_armed_and_result_never_publishes_twice() {
    let sb = sandbox().await;
    let dir = TempDir::new("crash");
    let env = Env::new(&dir, &sb);
    env.connect("fb", false, 0, &["--auto-approve"]).await;
    env.connect("ig", true, 0, &["--auto-approve"]).await;

    // Five approved, scheduled posts, due now, in this order.
    let image = ["--media", "https://cdn.example.com/cup.jpg"];
    let mut ids = Vec::new();
    for (account, kind, text) in [
        ("ig", "ig-image", "A: armed, sent before the crash"),
        ("fb", "fb-text", "B: armed, never sent"),
        ("ig", "ig-image", "C: after the restart"),
        ("fb", "fb-text", "D: after the restart"),
        ("fb", "fb-link", "E: after the restart"),
    ] {
        let mut extra = vec!["--text", text, "--at", "now"];
        match kind {
            "ig-image" => extra.extend_from_slice(&image),
            "fb-link" => extra.extend_from_slice(&["--link", "https://cafe.example.com"]),
            _ => {}
        }
        let id = env.create(account, kind, &extra).await;
        let out = env.ok(&["posts", "submit", &id, "--actor", "ana"]).await;
        assert!(out.contains("scheduled"), "{out}");
        ids.push(id);
    }
    let (a, b) = (ids[0].clone(), ids[1].clone());

    // The worker, told to stop right after persisting "armed" (batch of 2: A and B).
    let mut child = env
        .command(&[
            "publisher",
            "run",
            "--worker-id",
            "w1",
            "--batch",
            "2",
            "--poll",
            "100ms",
            "--halt-after-arming",
        ])
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (armed, mut child) = tokio::task::spawn_blocking(move || {
        let mut armed = HashSet::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(rest) = line.strip_prefix("armed ") {
                armed.insert(rest.split_whitespace().next().unwrap().to_owned());
            }
            if line.starts_with("halted after arming") {
                break;
            }
        }
        (armed, child)
    })
    .await
    .unwrap();
    assert_eq!(armed, HashSet::from([a.clone(), b.clone()]));

    // The store says so too, durably, before anything irreversible happened.
    let store = SqliteStore::open(&env.db).await.unwrap();
    for id in [&a, &b] {
        let post = store.get_post(id).await.unwrap().unwrap();
        assert_eq!(post.state, PostState::Publishing);
        assert!(post.armed_at.is_some());
        assert_eq!(post.lease_owner.as_deref(), Some("w1"));
    }
    assert_eq!(applied(&sb, "POST", "/media_publish"), 0);
    assert_eq!(applied(&sb, "POST", "/feed"), 0);

    // A's media_publish reached Meta just before the process died: the call a real
    // crash would have made, with A's prepared container.
    let container = store
        .get_post(&a)
        .await
        .unwrap()
        .unwrap()
        .container_id
        .unwrap();
    let (_, token, ig_user) = env.pages[0].clone();
    let client = Client::builder()
        .base_url(env.base_url.clone())
        .access_token(token)
        .build()
        .unwrap();
    client
        .instagram()
        .publish_container(&IgUserId::new(ig_user), &IgContainerId::new(container))
        .await
        .unwrap();
    assert_eq!(applied(&sb, "POST", "/media_publish"), 1);

    // SIGKILL (Child::kill on Unix): no cleanup, no last write.
    tokio::task::spawn_blocking(move || {
        child.kill().unwrap();
        child.wait().unwrap()
    })
    .await
    .unwrap();

    // Another worker while the dead one's lease is live: it leaves A and B alone and
    // publishes the rest.
    let other = env
        .ok(&["publisher", "run", "--once", "--worker-id", "w2"])
        .await;
    assert!(!other.contains("reconciled"), "{other}");
    assert!(other.contains("done: 3 published"), "{other}");
    for id in [&a, &b] {
        assert!(!other.contains(id.as_str()), "{other}");
        let post = store.get_post(id).await.unwrap().unwrap();
        assert_eq!(
            post.state,
            PostState::Publishing,
            "armed posts are never claimed"
        );
    }

    // The crashed worker restarts under its own id: it reconciles at once, resending
    // nothing.
    let restarted = env
        .ok(&["publisher", "run", "--once", "--worker-id", "w1"])
        .await;
    assert!(
        restarted.contains("reconciled 2 armed post(s): 1 published, 1 unconfirmed"),
        "{restarted}"
    );
    assert!(restarted.contains("done: 0 published"), "{restarted}");

    let a_post = store.get_post(&a).await.unwrap().unwrap();
    assert_eq!(a_post.state, PostState::Published);
    let b_post = store.get_post(&b).await.unwrap().unwrap();
    assert_eq!(b_post.state, PostState::Unconfirmed);
    assert!(
        b_post
            .last_error
            .as_deref()
            .unwrap()
            .contains("check the Page"),
        "{b_post:?}"
    );
    for id in &ids[2..] {
        let post = store.get_post(id).await.unwrap().unwrap();
        assert_eq!(post.state, PostState::Published, "{post:?}");
        assert!(post.published_id.is_some());
    }
    let trail = store.audit_trail(&a).await.unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e.reason.as_deref() == Some("reconciled: container PUBLISHED"))
    );

    // Exactly one publishing call per published post; B was never sent.
    let again = env
        .ok(&["publisher", "run", "--once", "--worker-id", "w1"])
        .await;
    assert!(again.contains("done: 0 published"), "{again}");
    assert_eq!(applied(&sb, "POST", "/media_publish"), 2, "A once, C once");
    assert_eq!(applied(&sb, "POST", "/feed"), 2, "D and E once, B never");
    let shown = env.ok(&["posts", "list", "--state", "unconfirmed"]).await;
    assert!(shown.contains(&b), "{shown}");

    // A person checks the Page and settles B.
    env.ok(&[
        "posts",
        "resolve",
        &b,
        "--actor",
        "bruno",
        "--not-published",
    ])
    .await;
    assert_eq!(
        store.get_post(&b).await.unwrap().unwrap().state,
        PostState::Failed
    );
    store.close().await;
}
