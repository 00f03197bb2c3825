//! Shared by the publishing CLI tests: a temp SQLite store, the `meta` binary run
//! against an in-process sandbox, and accounts connected through the CLI.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use meta_sandbox::{InstagramConfig, Sandbox, SandboxConfig};

/// base64 of the bytes 0..32: a fixed test key.
pub const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "meta-cli-{tag}-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A sandbox whose Instagram containers finish at once (the worker polls them on
/// the real clock).
pub async fn sandbox() -> Sandbox {
    Sandbox::start_with(
        SandboxConfig::default()
            .posts_per_page(3)
            .instagram(InstagramConfig::default().image_processing(Duration::ZERO)),
    )
    .await
    .unwrap()
}

/// One test's environment: the store file, the sandbox URL and the Page tokens.
#[derive(Clone)]
pub struct Env {
    pub db: PathBuf,
    pub base_url: String,
    /// `(page id, page token, ig user id)` per fixture Page.
    pub pages: Vec<(String, String, String)>,
    pub key: Option<String>,
    /// A PostgreSQL store `(url, schema)` instead of the SQLite file.
    pub postgres: Option<(String, String)>,
}

impl Env {
    pub fn new(dir: &TempDir, sb: &Sandbox) -> Env {
        Env {
            db: dir.path().join("meta.db"),
            base_url: sb.base_url().to_owned(),
            pages: sb
                .fixtures()
                .pages
                .iter()
                .map(|p| (p.id.clone(), p.access_token.clone(), p.ig_user_id.clone()))
                .collect(),
            key: Some(KEY.to_owned()),
            postgres: None,
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_meta"));
        cmd.args(args)
            .env("META_STORE", format!("sqlite:{}", self.db.display()))
            .env_remove("META_STORE_SCHEMA")
            .env("META_BASE_URL", &self.base_url)
            .env_remove("META_ACCESS_TOKEN")
            .env_remove("META_APP_SECRET")
            .env_remove("META_APP_ID")
            .env_remove("META_ACTOR")
            .env_remove("META_TOKEN_KEY_ID")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (i, (_, token, _)) in self.pages.iter().enumerate() {
            cmd.env(format!("PAGE_TOKEN_{i}"), token);
        }
        if let Some((url, schema)) = &self.postgres {
            cmd.env("META_STORE", url).env("META_STORE_SCHEMA", schema);
        }
        match &self.key {
            Some(k) => cmd.env("META_TOKEN_KEY", k),
            None => cmd.env_remove("META_TOKEN_KEY"),
        };
        cmd
    }

    /// Runs `meta` (on a blocking thread, so the in-process sandbox keeps serving).
    pub async fn run(&self, args: &[&str]) -> Out {
        let mut cmd = self.command(args);
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        Out(out)
    }

    /// Runs `meta` and requires success; returns stdout.
    pub async fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        assert!(
            out.0.status.success(),
            "meta {args:?} failed\nstdout: {}\nstderr: {}",
            out.stdout(),
            out.stderr()
        );
        out.stdout()
    }

    /// Connects Page `i` (Facebook) or its Instagram account as account `id`.
    pub async fn connect(&self, id: &str, instagram: bool, page: usize, extra: &[&str]) {
        let (page_id, _, ig) = &self.pages[page];
        let meta_id = if instagram { ig } else { page_id };
        let token_env = format!("PAGE_TOKEN_{page}");
        let mut args = vec![
            "accounts",
            "connect",
            "--tenant",
            "t1",
            "--platform",
            if instagram { "instagram" } else { "facebook" },
            "--meta-id",
            meta_id,
            "--name",
            id,
            "--id",
            id,
            "--token-env",
            &token_env,
        ];
        args.extend_from_slice(extra);
        self.ok(&args).await;
    }

    /// Creates a post for `account` and returns its id (first whitespace field).
    pub async fn create(&self, account: &str, kind: &str, extra: &[&str]) -> String {
        let mut args = vec![
            "posts",
            "create",
            "--account",
            account,
            "--kind",
            kind,
            "--author",
            "ana",
        ];
        args.extend_from_slice(extra);
        let out = self.ok(&args).await;
        out.split_whitespace().next().unwrap().to_owned()
    }

    /// Every post as JSON.
    pub async fn posts(&self) -> Vec<serde_json::Value> {
        self.ok(&["posts", "list", "--json"])
            .await
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    pub async fn post(&self, id: &str) -> serde_json::Value {
        let v: serde_json::Value =
            serde_json::from_str(&self.ok(&["posts", "show", id, "--json"]).await).unwrap();
        v
    }
}

pub struct Out(pub Output);

impl Out {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
    pub fn success(&self) -> bool {
        self.0.status.success()
    }
}

/// Requests the sandbox applied with `method` and a path ending in `suffix`.
pub fn applied(sb: &Sandbox, method: &str, suffix: &str) -> usize {
    sb.control()
        .requests()
        .iter()
        .filter(|r| r.method == method && r.applied && r.path.ends_with(suffix))
        .count()
}
