//! `meta accounts`, `meta posts` and `meta publisher run`, run as a user would: each
//! test has its own SQLite file and an in-process sandbox.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod publisher_common;

use std::io::{BufRead, BufReader};

use publisher_common::{Env, TempDir, applied, sandbox};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_connect_list_status_and_kill_switches() {
    let sb = sandbox().await;
    let dir = TempDir::new("accounts");
    let mut env = Env::new(&dir, &sb);

    // No key yet: connect generates one, prints it once with a warning, and uses it.
    env.key = None;
    let first = env
        .run(&[
            "accounts",
            "connect",
            "--tenant",
            "t1",
            "--platform",
            "facebook",
            "--meta-id",
            &env.pages[0].0.clone(),
            "--name",
            "Santiago",
            "--id",
            "fb-scl",
            "--token-env",
            "PAGE_TOKEN_0",
            "--timezone",
            "America/Santiago",
            "--daily-cap",
            "3",
            "--min-gap",
            "2h",
            "--quiet",
            "22:00-08:00",
        ])
        .await;
    assert!(first.success(), "{}", first.stderr());
    let stderr = first.stderr();
    assert!(stderr.contains("warning"), "{stderr}");
    let key = stderr
        .lines()
        .find_map(|l| l.strip_prefix("export META_TOKEN_KEY="))
        .expect("the generated key is printed")
        .to_owned();
    assert!(first.stdout().contains("connected account fb-scl"));

    // A second connect without the key is refused: a new key could not open the
    // token already stored.
    let refused = env
        .run(&[
            "accounts",
            "connect",
            "--tenant",
            "t1",
            "--platform",
            "instagram",
            "--meta-id",
            &env.pages[0].2.clone(),
            "--name",
            "IG",
            "--token-env",
            "PAGE_TOKEN_0",
        ])
        .await;
    assert!(!refused.success());
    assert!(refused.stderr().contains("already holds 1 sealed token"));

    env.key = Some(key);
    env.connect(
        "ig-mad",
        true,
        0,
        &["--timezone", "Europe/Madrid", "--auto-approve"],
    )
    .await;
    // Reconnecting the same Page updates it in place (same id).
    let again = env
        .ok(&[
            "accounts",
            "connect",
            "--tenant",
            "t1",
            "--platform",
            "facebook",
            "--meta-id",
            &env.pages[0].0.clone(),
            "--name",
            "Santiago centro",
            "--token-env",
            "PAGE_TOKEN_0",
            "--timezone",
            "America/Santiago",
            "--daily-cap",
            "4",
        ])
        .await;
    assert!(again.contains("updated account fb-scl"), "{again}");

    // The token is never a flag, and a missing variable is a clear error.
    let flag = env
        .run(&["accounts", "connect", "--token", "EAAB", "--tenant", "t1"])
        .await;
    assert!(!flag.success());
    let missing = env
        .run(&[
            "accounts",
            "connect",
            "--tenant",
            "t1",
            "--platform",
            "facebook",
            "--meta-id",
            "999",
            "--name",
            "x",
            "--token-env",
            "NO_SUCH_VARIABLE_SET",
        ])
        .await;
    assert!(!missing.success());
    assert!(missing.stderr().contains("NO_SUCH_VARIABLE_SET"));
    let bad_tz = env
        .run(&[
            "accounts",
            "connect",
            "--tenant",
            "t1",
            "--platform",
            "facebook",
            "--meta-id",
            "999",
            "--name",
            "x",
            "--token-env",
            "PAGE_TOKEN_1",
            "--timezone",
            "Mars/Olympus",
        ])
        .await;
    assert!(!bad_tz.success());
    assert!(bad_tz.stderr().contains("Mars/Olympus"));

    let list: Vec<serde_json::Value> = env
        .ok(&["accounts", "list", "--json"])
        .await
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(list.len(), 2, "{list:?}");
    let fb = list.iter().find(|a| a["id"] == "fb-scl").unwrap();
    assert_eq!(fb["name"], "Santiago centro");
    assert_eq!(fb["governance"]["daily_cap"], 4);
    assert_eq!(fb["timezone"], "America/Santiago");
    let ig = list.iter().find(|a| a["id"] == "ig-mad").unwrap();
    assert_eq!(ig["platform"], "instagram");
    assert_eq!(ig["approval"]["auto_approve"], true);
    let table = env.ok(&["accounts", "list"]).await;
    assert!(
        table.contains("fb-scl") && table.contains("Europe/Madrid"),
        "{table}"
    );

    let status = |s: String| -> Vec<serde_json::Value> {
        s.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let st = status(env.ok(&["accounts", "status", "--json"]).await);
    assert!(st.iter().all(|a| a["token_status"] == "active"), "{st:?}");
    assert!(st.iter().all(|a| a["published_today"] == 0));
    assert!(st.iter().all(|a| a["kill_switch"] == false));

    env.ok(&["accounts", "kill-switch", "fb-scl", "on"]).await;
    env.ok(&["accounts", "kill-switch", "--tenant", "t1", "on"])
        .await;
    let st = status(env.ok(&["accounts", "status", "--json"]).await);
    let fb = st.iter().find(|a| a["id"] == "fb-scl").unwrap();
    assert_eq!(fb["kill_switch"], true);
    assert!(st.iter().all(|a| a["tenant_kill_switch"] == true));
    env.ok(&["accounts", "kill-switch", "--tenant", "t1", "off"])
        .await;
    let text = env.ok(&["accounts", "status"]).await;
    assert!(text.contains("KILLED"), "{text}");
    let unknown = env.run(&["accounts", "kill-switch", "nope", "on"]).await;
    assert!(!unknown.success());
    let bad = env
        .run(&["accounts", "kill-switch", "fb-scl", "maybe"])
        .await;
    assert!(!bad.success());

    // Sealed at rest: no token plaintext anywhere in the database files.
    let token = env.pages[0].1.clone();
    for f in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(f.unwrap().path()).unwrap();
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "token plaintext in the store"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_go_through_approval_with_an_audit_trail_and_bad_input_is_refused() {
    let sb = sandbox().await;
    let dir = TempDir::new("posts");
    let env = Env::new(&dir, &sb);
    env.connect("fb", false, 0, &["--timezone", "UTC"]).await;
    env.connect("ig", true, 0, &["--timezone", "UTC"]).await;

    // One piece of content, one variant per account.
    let out = env
        .ok(&[
            "posts",
            "create",
            "--account",
            "fb,ig",
            "--kind",
            "fb-link,ig-image",
            "--text",
            "New menu",
            "--link",
            "https://cafe.example.com/menu",
            "--media",
            "https://cdn.example.com/menu.jpg",
            "--author",
            "ana",
            "--at",
            "+2h",
        ])
        .await;
    let ids: Vec<String> = out
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2, "{out}");
    let posts = env.posts().await;
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0]["content_id"], posts[1]["content_id"]);
    assert!(posts.iter().all(|p| p["state"] == "draft"));
    let (fb, ig) = (&ids[0], &ids[1]);

    assert!(
        env.ok(&["posts", "submit", fb, "--actor", "ana"])
            .await
            .contains("pending_approval")
    );
    // The author cannot approve their own post here.
    let own = env.run(&["posts", "approve", fb, "--actor", "ana"]).await;
    assert!(!own.success());
    assert!(
        own.stderr().contains("does not allow approving"),
        "{}",
        own.stderr()
    );
    // Rejecting needs a reason.
    let why = env
        .run(&["posts", "reject", fb, "--actor", "bruno", "--comment", " "])
        .await;
    assert!(!why.success());
    let approved = env
        .ok(&[
            "posts",
            "approve",
            fb,
            "--actor",
            "bruno",
            "--comment",
            "lovely",
        ])
        .await;
    assert!(approved.contains("scheduled for"), "{approved}");

    env.ok(&["posts", "submit", ig, "--actor", "ana"]).await;
    env.ok(&[
        "posts",
        "request-changes",
        ig,
        "--actor",
        "bruno",
        "--comment",
        "add the price",
    ])
    .await;
    env.ok(&[
        "posts",
        "edit",
        ig,
        "--actor",
        "ana",
        "--text",
        "New menu, $5",
    ])
    .await;
    env.ok(&["posts", "submit", ig, "--actor", "ana"]).await;
    env.ok(&[
        "posts",
        "reject",
        ig,
        "--actor",
        "bruno",
        "--comment",
        "not for IG",
    ])
    .await;
    // Rejected is final.
    let after = env
        .run(&["posts", "schedule", ig, "--actor", "bruno", "--at", "+3h"])
        .await;
    assert!(!after.success());

    // The audit trail: who, when, from, to, why.
    let shown = env.post(ig).await;
    let trail = shown["audit"].as_array().unwrap();
    let moves: Vec<(String, String)> = trail
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_owned(),
                e["to"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expect = [
        ("ana", "draft"),
        ("ana", "pending_approval"),
        ("bruno", "changes_requested"),
        ("ana", "draft"),
        ("ana", "pending_approval"),
        ("bruno", "rejected"),
    ];
    assert_eq!(
        moves,
        expect
            .iter()
            .map(|(a, s)| ((*a).to_owned(), (*s).to_owned()))
            .collect::<Vec<_>>()
    );
    assert!(
        trail
            .iter()
            .any(|e| e["reason"] == "add the price" && e["from"] == "pending_approval")
    );
    assert_eq!(shown["post"]["payload"]["caption"], "New menu, $5");
    let text = env.ok(&["posts", "show", fb]).await;
    assert!(text.contains("audit trail (4 entries)"), "{text}");
    assert!(text.contains("bruno") && text.contains("lovely"), "{text}");

    // Listing by state.
    let scheduled = env
        .ok(&["posts", "list", "--state", "scheduled", "--json"])
        .await;
    assert_eq!(scheduled.lines().count(), 1);
    let table = env.ok(&["posts", "list", "--account", "ig"]).await;
    assert!(table.contains("rejected"), "{table}");
    let bad_state = env.run(&["posts", "list", "--state", "sleeping"]).await;
    assert!(!bad_state.success());

    // Bad input is refused and nothing is stored.
    let before = env.posts().await.len();
    for (args, needle) in [
        (
            vec![
                "--account",
                "fb",
                "--kind",
                "fb-text",
                "--text",
                "x",
                "--at",
                "1000000000",
            ],
            "in the past",
        ),
        (
            vec!["--account", "nobody", "--kind", "fb-text", "--text", "x"],
            "unknown account nobody",
        ),
        (
            vec![
                "--account",
                "fb",
                "--kind",
                "ig-image",
                "--media",
                "https://a.example/x.jpg",
            ],
            "cannot be published",
        ),
        (
            vec!["--account", "fb", "--kind", "fb-link", "--text", "x"],
            "--link",
        ),
        (
            vec![
                "--account",
                "fb,ig",
                "--kind",
                "fb-text,ig-image,fb-text",
                "--text",
                "x",
            ],
            "one per account",
        ),
    ] {
        let mut full = vec!["posts", "create", "--author", "ana"];
        full.extend(args);
        let out = env.run(&full).await;
        assert!(!out.success(), "{full:?} was accepted");
        assert!(out.stderr().contains(needle), "{full:?}: {}", out.stderr());
    }
    let long = "#tag ".repeat(31);
    let out = env
        .run(&[
            "posts",
            "create",
            "--author",
            "ana",
            "--account",
            "ig",
            "--kind",
            "ig-image",
            "--media",
            "https://a.example/x.jpg",
            "--text",
            &long,
        ])
        .await;
    assert!(!out.success());
    assert!(out.stderr().contains("hashtag"), "{}", out.stderr());
    assert_eq!(env.posts().await.len(), before, "nothing stored");
    let unknown = env.run(&["posts", "show", "no-such-post"]).await;
    assert!(!unknown.success());
    assert!(unknown.stderr().contains("unknown post"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_publishes_due_posts_once_with_governance_and_attempts() {
    let sb = sandbox().await;
    let dir = TempDir::new("worker");
    let env = Env::new(&dir, &sb);
    env.connect("fb", false, 0, &["--auto-approve", "--daily-cap", "2"])
        .await;
    env.connect("ig", true, 0, &["--auto-approve"]).await;
    env.connect("fb2", false, 1, &["--auto-approve"]).await;
    env.ok(&["accounts", "kill-switch", "fb2", "on"]).await;

    let mut fb = Vec::new();
    for i in 0..3 {
        let id = env
            .create(
                "fb",
                "fb-text",
                &["--text", &format!("hello {i}"), "--at", "now"],
            )
            .await;
        env.ok(&["posts", "submit", &id, "--actor", "ana"]).await;
        fb.push(id);
    }
    let ig = env
        .create(
            "ig",
            "ig-carousel",
            &[
                "--text",
                "three cups",
                "--media",
                "https://cdn.example.com/a.jpg,https://cdn.example.com/b.jpg",
                "--media",
                "https://cdn.example.com/c.jpg",
                "--at",
                "now",
            ],
        )
        .await;
    assert!(
        env.ok(&["posts", "submit", &ig, "--actor", "ana"])
            .await
            .contains("scheduled")
    );
    let killed = env
        .create("fb2", "fb-text", &["--text", "not yet", "--at", "now"])
        .await;
    env.ok(&["posts", "submit", &killed, "--actor", "ana"])
        .await;

    let out = env
        .ok(&["publisher", "run", "--once", "--worker-id", "w1"])
        .await;
    let published: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("published "))
        .collect();
    assert_eq!(published.len(), 3, "{out}");
    assert!(
        out.contains(&format!("published {ig} ig ig_carousel")),
        "{out}"
    );
    // The cap of 2 holds the third back, with the reason; the kill switch holds fb2's.
    assert!(
        out.lines()
            .any(|l| l.starts_with("deferred ") && l.contains("daily cap of 2")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains(&killed) && l.contains("account kill switch on")),
        "{out}"
    );
    assert!(out.contains("done: 3 published, 2 deferred"), "{out}");
    assert_eq!(applied(&sb, "POST", "/feed"), 2);
    assert_eq!(applied(&sb, "POST", "/media_publish"), 1);

    // Run again: nothing due is left, nothing is sent again.
    let again = env.ok(&["publisher", "run", "--once"]).await;
    assert!(again.contains("done: 0 published"), "{again}");
    assert_eq!(applied(&sb, "POST", "/feed"), 2);
    assert_eq!(applied(&sb, "POST", "/media_publish"), 1);

    let posts = env.posts().await;
    let state = |id: &str| {
        posts.iter().find(|p| p["id"] == id).unwrap()["state"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(state(&ig), "published");
    assert_eq!(state(&killed), "scheduled", "held, never dropped");
    let held: Vec<&String> = fb.iter().filter(|id| state(id) == "scheduled").collect();
    assert_eq!(held.len(), 1);
    let held_post = env.post(held[0]).await;
    assert!(
        held_post["post"]["blocked_reason"]
            .as_str()
            .unwrap()
            .contains("daily cap")
    );

    // The attempt log.
    let attempts: Vec<serde_json::Value> = env
        .ok(&["posts", "attempts", &ig, "--json"])
        .await
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["outcome"], "published");
    let blocked = env.ok(&["posts", "attempts", held[0]]).await;
    assert!(
        blocked.contains("blocked") && blocked.contains("daily cap"),
        "{blocked}"
    );

    // Status counts today's posts against the cap.
    let st = env.ok(&["accounts", "status"]).await;
    assert!(
        st.lines()
            .any(|l| l.starts_with("fb ") && l.contains("2/2")),
        "{st}"
    );

    // Best times from the published posts' insights, with the evidence.
    let best = env
        .ok(&["posts", "best-times", "--account", "fb", "--top", "5"])
        .await;
    assert_eq!(best.lines().count(), 6, "{best}");
    assert!(best.starts_with("DAY"), "{best}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_loops_until_sigterm() {
    let sb = sandbox().await;
    let dir = TempDir::new("loop");
    let env = Env::new(&dir, &sb);
    env.connect("fb", false, 1, &["--auto-approve"]).await;
    let id = env
        .create("fb", "fb-text", &["--text", "from the loop", "--at", "now"])
        .await;
    env.ok(&["posts", "submit", &id, "--actor", "ana"]).await;

    let mut child = env
        .command(&["publisher", "run", "--poll", "100ms"])
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let pid = child.id();
    let (line, status) = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines();
        let line = lines
            .by_ref()
            .map(Result::unwrap)
            .find(|l| l.starts_with("published "))
            .unwrap();
        // Graceful stop on SIGTERM (sent with kill(1): the test stays libc-free).
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = child.wait().unwrap();
        (line, status)
    })
    .await
    .unwrap();
    assert!(line.contains(&id), "{line}");
    assert!(status.success(), "{status:?}");
    assert_eq!(applied(&sb, "POST", "/feed"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_commands_run_on_postgres() {
    let Ok(url) = std::env::var("META_TEST_DATABASE_URL") else {
        println!("skipped: META_TEST_DATABASE_URL is not set (PostgreSQL CLI test)");
        return;
    };
    let sb = sandbox().await;
    let dir = TempDir::new("pg");
    let mut env = Env::new(&dir, &sb);
    let schema = format!(
        "meta_cli_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    env.postgres = Some((url.clone(), schema.clone()));

    let result = async {
        env.connect("fb", false, 0, &["--auto-approve"]).await;
        env.connect("ig", true, 0, &["--auto-approve"]).await;
        let out = env
            .ok(&[
                "posts",
                "create",
                "--account",
                "fb,ig",
                "--kind",
                "fb-text,ig-image",
                "--text",
                "from PostgreSQL",
                "--media",
                "https://cdn.example.com/pg.jpg",
                "--author",
                "ana",
                "--at",
                "now",
            ])
            .await;
        for line in out.lines() {
            let id = line.split_whitespace().next().unwrap();
            env.ok(&["posts", "submit", id, "--actor", "ana"]).await;
        }
        let run = env.ok(&["publisher", "run", "--once"]).await;
        assert!(run.contains("done: 2 published"), "{run}");
        let again = env.ok(&["publisher", "run", "--once"]).await;
        assert!(again.contains("done: 0 published"), "{again}");
        assert_eq!(applied(&sb, "POST", "/feed"), 1);
        assert_eq!(applied(&sb, "POST", "/media_publish"), 1);
        let st = env.ok(&["accounts", "status", "--json"]).await;
        assert_eq!(st.lines().count(), 2, "{st}");
    };
    // Drop the schema whatever happened.
    let outcome = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(result)).await;
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    // The name is ours: digits and underscores only.
    let drop = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
    sqlx::query(sqlx::AssertSqlSafe(drop))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
