//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use meta_store_sqlite::SqliteStore;

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "meta-store-sqlite-{tag}-{}-{nanos}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn db(&self) -> PathBuf {
        self.0.join("meta.db")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A file store in a fresh directory (keep the directory alive while using it).
pub async fn file_store(tag: &str) -> (TempDir, SqliteStore) {
    let dir = TempDir::new(tag);
    let store = SqliteStore::open(dir.db()).await.unwrap();
    (dir, store)
}

/// Both flavours, labelled, for tests that must pass on each.
pub async fn both(tag: &str) -> Vec<(&'static str, Option<TempDir>, SqliteStore)> {
    let (dir, file) = file_store(tag).await;
    vec![
        ("file", Some(dir), file),
        ("memory", None, SqliteStore::in_memory().await.unwrap()),
    ]
}
