//! The migrator (idempotence, checksum refusal), the connection settings, and the
//! append-only audit table as seen through raw SQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use meta_graph::publisher::store::PublisherStore;
use meta_graph::testing::{T0, sample_audit, sample_post};
use meta_store_sqlite::migrate::MIGRATIONS;
use meta_store_sqlite::{ErrorClass, SqliteError, SqliteStore};
use sqlx::Row;

#[tokio::test]
async fn migrations_apply_once_and_reopening_is_a_no_op() {
    let dir = common::TempDir::new("migrate");
    let store = SqliteStore::open(dir.db()).await.unwrap();
    let first = store.applied_migrations().await.unwrap();
    assert_eq!(
        first.iter().map(|m| m.version).collect::<Vec<_>>(),
        MIGRATIONS.iter().map(|m| m.version).collect::<Vec<_>>()
    );
    for (applied, known) in first.iter().zip(MIGRATIONS) {
        assert_eq!(applied.name, known.name);
        assert_eq!(applied.checksum, known.checksum());
    }
    store.close().await;
    // Re-open twice, once concurrently with another opener: nothing is re-applied
    // (same rows, same applied_at) and no migration fails on existing tables.
    let (a, b) = tokio::join!(SqliteStore::open(dir.db()), SqliteStore::open(dir.db()));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.applied_migrations().await.unwrap(), first);
    assert_eq!(b.applied_migrations().await.unwrap(), first);
}

#[tokio::test]
async fn two_first_openers_race_and_each_migration_is_applied_once() {
    let dir = common::TempDir::new("migrate-race");
    let opens = (0..4).map(|_| SqliteStore::open(dir.db()));
    let stores: Vec<SqliteStore> = futures_util_join_all(opens).await;
    let applied = stores[0].applied_migrations().await.unwrap();
    assert_eq!(applied.len(), MIGRATIONS.len());
}

async fn futures_util_join_all<F>(futs: impl Iterator<Item = F>) -> Vec<SqliteStore>
where
    F: std::future::Future<Output = Result<SqliteStore, SqliteError>> + Send + 'static,
{
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap().unwrap());
    }
    out
}

#[tokio::test]
async fn an_edited_migration_is_refused() {
    let dir = common::TempDir::new("checksum");
    let store = SqliteStore::open(dir.db()).await.unwrap();
    // Simulate a database migrated by a binary whose 0001 differed from ours.
    sqlx::query("UPDATE _meta_migrations SET checksum = 'deadbeef' WHERE version = 1")
        .execute(store.pool())
        .await
        .unwrap();
    store.close().await;
    let e = SqliteStore::open(dir.db()).await.unwrap_err();
    match &e {
        SqliteError::MigrationChecksum {
            version,
            applied,
            expected,
            ..
        } => {
            assert_eq!(*version, 1);
            assert_eq!(applied, "deadbeef");
            assert_eq!(*expected, MIGRATIONS[0].checksum());
        }
        other => panic!("expected MigrationChecksum, got {other:?}"),
    }
    assert!(e.to_string().contains("refusing to run"), "{e}");
    assert_eq!(e.class(), ErrorClass::Backend);
}

#[tokio::test]
async fn a_database_from_a_newer_binary_is_refused() {
    let dir = common::TempDir::new("newer");
    let store = SqliteStore::open(dir.db()).await.unwrap();
    sqlx::query(
        "INSERT INTO _meta_migrations (version, name, applied_at, checksum) \
         VALUES (9999, 'from_the_future', 0, 'x')",
    )
    .execute(store.pool())
    .await
    .unwrap();
    store.close().await;
    let e = SqliteStore::open(dir.db()).await.unwrap_err();
    assert!(
        matches!(e, SqliteError::UnknownMigration { version: 9999, .. }),
        "{e:?}"
    );
}

#[tokio::test]
async fn file_connections_use_wal_normal_sync_foreign_keys_and_a_busy_timeout() {
    let (_dir, store) = common::file_store("pragmas").await;
    let mut conn = store.pool().acquire().await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(mode.to_lowercase(), "wal");
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(sync, 1, "NORMAL");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(fk, 1);
    let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(busy, 30_000);
}

#[tokio::test]
async fn missing_files_can_be_refused() {
    let dir = common::TempDir::new("missing");
    let e = SqliteStore::open_with(
        dir.path().join("nope.db"),
        meta_store_sqlite::SqliteOptions::default().create_if_missing(false),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, SqliteError::Open { .. }), "{e:?}");
    assert!(e.to_string().contains("nope.db"), "{e}");
}

#[tokio::test]
async fn audit_rows_cannot_be_changed_even_with_raw_sql() {
    for (label, _dir, store) in common::both("audit-raw").await {
        let post = sample_post("p1", "a1", Some(T0));
        store
            .insert_post(&post, &sample_audit("e1", &post.id, T0, None, post.state))
            .await
            .unwrap();
        for sql in [
            "UPDATE post_audit SET actor = 'mallory'",
            "UPDATE post_audit SET reason = 'rewritten' WHERE id = 'e1'",
            "DELETE FROM post_audit",
            "DELETE FROM post_audit WHERE id = 'e1'",
            "REPLACE INTO post_audit (seq, id, post_id, at, actor, to_state) \
             SELECT seq, id, post_id, at, 'mallory', to_state FROM post_audit",
            "INSERT OR REPLACE INTO post_audit (id, post_id, at, actor, to_state) \
             VALUES ('e1', 'p1', 0, 'mallory', 'draft')",
            "INSERT INTO post_audit (id, post_id, at, actor, to_state) \
             VALUES ('e1', 'p1', 0, 'mallory', 'draft') \
             ON CONFLICT (id) DO UPDATE SET actor = 'mallory'",
        ] {
            let e = sqlx::query(sql).execute(store.pool()).await;
            // REPLACE would delete the clashing row without firing DELETE triggers;
            // the INSERT guard refuses it first.
            assert!(e.is_err(), "{label}: `{sql}` was allowed");
        }
        // Through the port, a duplicate audit id is a conflict and changes nothing.
        let mut next = post.clone();
        next.version += 1;
        let e = store
            .update_post(
                &next,
                post.version,
                Some(&sample_audit("e1", &post.id, T0, None, post.state)),
            )
            .await
            .unwrap_err();
        assert!(e.is_conflict(), "{label}: {e:?}");
        assert_eq!(
            store.get_post(&post.id).await.unwrap().unwrap().version,
            post.version,
            "{label}"
        );
        let trail = store.audit_trail(&post.id).await.unwrap();
        assert_eq!(trail.len(), 1, "{label}");
        assert_eq!(
            trail[0].actor,
            sample_audit("e1", &post.id, T0, None, post.state).actor
        );
        // The trigger's message is what a raw writer sees.
        let e = sqlx::query("DELETE FROM post_audit")
            .execute(store.pool())
            .await
            .unwrap_err();
        assert!(e.to_string().contains("append-only"), "{label}: {e}");
    }
}

#[tokio::test]
async fn deleting_a_post_keeps_its_trail() {
    let store = SqliteStore::in_memory().await.unwrap();
    let post = sample_post("p1", "a1", Some(T0));
    store
        .insert_post(&post, &sample_audit("e1", &post.id, T0, None, post.state))
        .await
        .unwrap();
    store
        .delete_post(
            &post.id,
            post.version,
            &sample_audit("e2", &post.id, T0 + 1, Some(post.state), post.state),
        )
        .await
        .unwrap();
    assert!(store.get_post(&post.id).await.unwrap().is_none());
    let ids: Vec<String> = store
        .audit_trail(&post.id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(ids, ["e1", "e2"]);
    let n: i64 = sqlx::query("SELECT count(*) AS n FROM post_audit")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get("n");
    assert_eq!(n, 2);
}

/// No statement in this crate's source updates or deletes audit rows: the triggers
/// are the backstop, this is the front line.
#[test]
fn the_source_never_updates_or_deletes_audit_rows() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut checked = 0;
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap().to_lowercase();
            let squashed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
            for bad in [
                "update post_audit",
                "delete from post_audit",
                "replace into post_audit",
                "insert or replace into post_audit",
            ] {
                assert!(
                    !squashed.contains(bad),
                    "{} contains `{bad}`",
                    path.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 5);
}
