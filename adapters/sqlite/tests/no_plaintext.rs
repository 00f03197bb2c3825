//! No token plaintext anywhere in the SQLite files: tokens go through the lifecycle
//! manager (which seals them with TokenCipher) into a file store; after a checkpoint
//! the raw bytes of the database, its WAL and its shared-memory file are scanned for
//! every plaintext, in several encodings.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use meta_core::cipher::{Key, KeyId, TokenCipher};
use meta_graph::lifecycle::{ConnectionId, ConnectionKind, LifecycleManager, TokenStore};
use meta_graph::oauth::{OAuth, Token};
use meta_store_sqlite::SqliteStore;
use secrecy::{ExposeSecret, SecretString};

fn plaintexts() -> Vec<String> {
    (0..12)
        .map(|i| format!("EAAGplaintextTOKEN{i:02}x{}", "Zq9".repeat(20)))
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The byte patterns one token could leave behind: itself, a long-enough prefix,
/// UTF-16 (SQLite can store text as UTF-16), and hex or base64 of it.
fn patterns(token: &str) -> Vec<Vec<u8>> {
    let utf16le: Vec<u8> = token.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let utf16be: Vec<u8> = token.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let hex: String = token.bytes().map(|b| format!("{b:02x}")).collect();
    vec![
        token.as_bytes().to_vec(),
        token.as_bytes()[..24].to_vec(),
        utf16le,
        utf16be,
        hex.into_bytes(),
    ]
}

/// Scans the WAL before a checkpoint, then every file in `dir` after it; returns
/// where a token (or the app secret) was found.
async fn scan(store: &SqliteStore, dir: &common::TempDir, tokens: &[String]) -> Vec<String> {
    let mut scanned = Vec::new();
    if let Ok(bytes) = std::fs::read(dir.path().join("meta.db-wal")) {
        scanned.push(("meta.db-wal (before checkpoint)".to_owned(), bytes));
    }
    store.checkpoint().await.unwrap();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        scanned.push((path.display().to_string(), std::fs::read(&path).unwrap()));
    }
    assert!(
        scanned
            .iter()
            .any(|(n, b)| n.ends_with("meta.db") && b.len() > 4096),
        "the database file itself was scanned"
    );
    let mut hits = Vec::new();
    for (name, bytes) in &scanned {
        for t in tokens {
            for p in patterns(t) {
                if contains(bytes, &p) {
                    hits.push(format!(
                        "{name}: {}",
                        String::from_utf8_lossy(&p[..8.min(p.len())])
                    ));
                }
            }
        }
        // Nor the app secret, which the store never receives.
        if contains(bytes, b"app-secret-value") {
            hits.push(format!("{name}: app secret"));
        }
    }
    hits
}

/// The control: a plaintext planted as if a buggy caller stored it unsealed is found,
/// so a clean scan above means something.
#[tokio::test]
async fn the_scan_finds_a_planted_plaintext() {
    let dir = common::TempDir::new("plaintext-control");
    let store = SqliteStore::open(dir.db()).await.unwrap();
    let tokens = plaintexts();
    let planted: meta_graph::lifecycle::StoredConnection =
        serde_json::from_value(serde_json::json!({
            "id": "bad/conn", "kind": "page", "owner": "x", "sealed_token": tokens[3],
            "obtained_at": 1, "expires_at": null, "status": "active",
            "refreshed_at": null, "last_error": null, "updated_at": 1,
        }))
        .unwrap();
    store.save(&planted).await.unwrap();
    let hits = scan(&store, &dir, &tokens).await;
    assert!(hits.iter().any(|h| h.contains("meta.db")), "{hits:?}");
}

#[tokio::test]
async fn no_token_plaintext_in_the_database_files() {
    let dir = common::TempDir::new("plaintext");
    let store = Arc::new(SqliteStore::open(dir.db()).await.unwrap());
    let cipher = TokenCipher::new(KeyId::new("k1").unwrap(), Key::generate().unwrap());
    let oauth = OAuth::new(
        "1234",
        SecretString::from("app-secret-value"),
        "https://app.example/cb",
    )
    .unwrap();
    let client = meta_core::Client::builder().build().unwrap();
    let manager = LifecycleManager::builder(
        Arc::clone(&store) as Arc<dyn TokenStore>,
        cipher,
        oauth,
        client,
    )
    .build();

    let tokens = plaintexts();
    let now = SystemTime::now();
    let (first, second) = tokens.split_at(8);
    for (i, t) in first.iter().enumerate() {
        let kind = [
            ConnectionKind::User,
            ConnectionKind::Page,
            ConnectionKind::Instagram,
        ][i % 3];
        let expires = (i % 2 == 0).then(|| Duration::from_secs(60 * 86_400));
        manager
            .register(
                ConnectionId::new(format!("tenant-{i}/conn")).unwrap(),
                kind,
                format!("tenant-{i}"),
                &Token::new(SecretString::from(t.clone()), expires, now),
            )
            .await
            .unwrap();
    }
    // Replace some tokens so old sealed values sit in freed pages and WAL frames too.
    for (i, t) in second.iter().enumerate() {
        manager
            .replace_token(
                &ConnectionId::new(format!("tenant-{i}/conn")).unwrap(),
                &Token::new(SecretString::from(t.clone()), None, now),
            )
            .await
            .unwrap();
    }
    // The store hands back only sealed tokens, and they open to the right plaintext.
    for c in store.list().await.unwrap() {
        assert!(c.sealed_token.starts_with("v1.k1."), "{c:?}");
        for t in &tokens {
            assert!(!c.sealed_token.contains(t.as_str()));
        }
    }
    let opened = manager
        .access_token(&ConnectionId::new("tenant-0/conn").unwrap())
        .await
        .unwrap();
    assert_eq!(opened.expose_secret(), second[0]);
    let opened = manager
        .access_token(&ConnectionId::new("tenant-7/conn").unwrap())
        .await
        .unwrap();
    assert_eq!(opened.expose_secret(), first[7]);

    let hits = scan(&store, &dir, &tokens).await;
    assert!(hits.is_empty(), "plaintext found: {hits:?}");

    // The sealed values, on the other hand, are there: the scan does look at the data.
    let sealed = store.list().await.unwrap()[0].sealed_token.clone();
    store.close().await;
    let db = std::fs::read(dir.db()).unwrap();
    assert!(
        contains(&db, sealed.as_bytes()),
        "the scan reads the real rows"
    );
}
