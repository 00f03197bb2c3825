//! PostgreSQL-specific guarantees beyond the shared conformance suite: several
//! instances (separate pools) on one database, concurrent migrations, the
//! database-enforced append-only audit trail, no plaintext token in any row, and
//! errors that never leak secrets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use meta_core::cipher::{Key, KeyId, TokenCipher};
use meta_core::transport::MockTransport;
use meta_graph::lifecycle::{ConnectionId, ConnectionKind, LifecycleManager, TokenStore};
use meta_graph::messenger::policy::PolicyStore;
use meta_graph::oauth::{OAuth, Token};
use meta_graph::publisher::store::{
    AccountStore, AttemptOutcome, Platform, PostState, PublishAttempt, PublisherStore,
};
use meta_graph::store::StoreError;
use meta_graph::testing::{T0, sample_account, sample_audit, sample_post, sample_tenant};
use meta_store_postgres::migrate::MIGRATIONS;
use meta_store_postgres::{ErrorClass, PgStore, PgStoreOptions};
use secrecy::{ExposeSecret, SecretString};
use sqlx::Row;

use common::{random_schema, with_database};

const MIN: i64 = 60_000;

async fn insert_due_posts(store: &PgStore, n: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let id = format!("p{i:04}");
        // Spread due times over the past hour, out of insertion order.
        let due = T0 - i64::try_from((i * 7919) % 3600).unwrap() * 1000;
        let post = sample_post(&id, "a1", Some(due));
        let audit = sample_audit(
            &format!("a-{id}"),
            &id,
            T0 - 2 * 3_600_000,
            None,
            post.state,
        );
        store.insert_post(&post, &audit).await.unwrap();
        ids.push(id);
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_claim_every_post_exactly_once() {
    with_database(|db| async move {
        let schema = random_schema();
        let a = Arc::new(db.store_on(&schema).await);
        let b = Arc::new(db.store_on(&schema).await);
        let ids = insert_due_posts(&a, 1000).await;
        // A post due later is not taken.
        let later = sample_post("later", "a1", Some(T0 + MIN));
        a.insert_post(
            &later,
            &sample_audit("a-later", "later", T0, None, later.state),
        )
        .await
        .unwrap();

        let mut tasks = Vec::new();
        for w in 0..8 {
            let store = if w % 2 == 0 {
                Arc::clone(&a)
            } else {
                Arc::clone(&b)
            };
            tasks.push(tokio::spawn(async move {
                let worker = format!("worker-{w}");
                let mut mine = Vec::new();
                loop {
                    let got = store.claim_due(T0, &worker, 10 * MIN, 7).await.unwrap();
                    if got.is_empty() {
                        break;
                    }
                    for p in &got {
                        assert_eq!(p.lease_owner.as_deref(), Some(worker.as_str()));
                        assert_eq!(p.lease_until, Some(T0 + 10 * MIN));
                        assert_eq!(p.version, 2);
                    }
                    // Each batch comes back in due order.
                    let dues: Vec<i64> = got.iter().map(|p| p.due_at()).collect();
                    assert!(dues.windows(2).all(|w| w[0] <= w[1]), "{dues:?}");
                    mine.extend(got.into_iter().map(|p| p.id));
                }
                mine
            }));
        }
        let mut claimed: BTreeMap<String, u32> = BTreeMap::new();
        for t in tasks {
            for id in t.await.unwrap() {
                *claimed.entry(id).or_default() += 1;
            }
        }
        let twice: Vec<_> = claimed.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "claimed more than once: {twice:?}");
        let got: HashSet<&String> = claimed.keys().collect();
        let want: HashSet<&String> = ids.iter().collect();
        assert_eq!(got, want, "every due post claimed, nothing else");

        // Live leases keep them; once the leases expire, another instance takes them.
        // (Only the post that became due meanwhile is taken.)
        let next = b.claim_due(T0 + MIN, "late", MIN, 2000).await.unwrap();
        assert_eq!(
            next.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
            ["later"]
        );
        let again = b.claim_due(T0 + 10 * MIN, "late", MIN, 2000).await.unwrap();
        assert_eq!(again.len(), 1001);
        assert!(
            again
                .iter()
                .filter(|p| p.id != "later")
                .all(|p| p.version == 3)
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn private_reply_is_reserved_once_across_instances() {
    with_database(|db| async move {
        let schema = random_schema();
        let a = Arc::new(db.store_on(&schema).await);
        let b = Arc::new(db.store_on(&schema).await);
        let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut tasks = Vec::new();
        for i in 0..60_u32 {
            let s: Arc<PgStore> = if i % 2 == 0 {
                Arc::clone(&a)
            } else {
                Arc::clone(&b)
            };
            tasks.push(tokio::spawn(async move {
                let comment = format!("c{}", i % 3);
                let won = s.reserve_private_reply("page", &comment, at).await.unwrap();
                (comment, won)
            }));
        }
        let mut wins: BTreeMap<String, u32> = BTreeMap::new();
        for t in tasks {
            let (c, won) = t.await.unwrap();
            *wins.entry(c).or_default() += u32::from(won);
        }
        assert_eq!(wins.len(), 3);
        assert!(wins.values().all(|n| *n == 1), "{wins:?}");
        // Sub-second times round-trip exactly.
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
        a.record_inbound("page", "psid", t).await.unwrap();
        assert_eq!(b.last_inbound("page", "psid").await.unwrap(), Some(t));
    })
    .await;
}

/// Every row of every table in `schema`, as text (all columns).
async fn all_rows_as_text(store: &PgStore, schema: &str) -> Vec<(String, String)> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .bind(schema)
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert!(tables.len() >= 8, "expected every table, got {tables:?}");
    let mut out = Vec::new();
    for t in tables {
        let sql = format!("SELECT t::text AS row FROM \"{schema}\".\"{t}\" t");
        for row in sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(store.pool())
            .await
            .unwrap()
        {
            out.push((t.clone(), row.try_get::<String, _>("row").unwrap()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_token_plaintext_appears_in_any_row() {
    with_database(|db| async move {
        let schema = random_schema();
        let store = Arc::new(db.store_on(&schema).await);
        let cipher = TokenCipher::new(KeyId::new("k1").unwrap(), Key::generate().unwrap());
        let client = meta_core::Client::builder()
            .transport(MockTransport::new())
            .build()
            .unwrap();
        let oauth = OAuth::new(
            "1234",
            SecretString::from("app-secret-value"),
            "https://app.example/cb",
        )
        .unwrap();
        let manager = LifecycleManager::builder(
            Arc::clone(&store) as Arc<dyn TokenStore>,
            cipher,
            oauth,
            client,
        )
        .build();

        let plaintexts = [
            "EAABplaintextUserToken0123456789",
            "EAABplaintextPageToken9876543210",
            "IGQWplaintextInstagramTokenABCDEF",
            "EAABreplacementTokenAfterReLogin42",
        ];
        let now = SystemTime::now();
        let kinds = [
            ConnectionKind::User,
            ConnectionKind::Page,
            ConnectionKind::Instagram,
        ];
        for (i, (p, kind)) in plaintexts.iter().zip(kinds).enumerate() {
            let token = Token::new(
                SecretString::from(*p),
                Some(Duration::from_secs(60 * 86_400)),
                now,
            );
            let id = ConnectionId::new(format!("shop-{i}/conn")).unwrap();
            manager.register(id, kind, "shop", &token).await.unwrap();
        }
        let first = ConnectionId::new("shop-0/conn").unwrap();
        let replacement = Token::new(SecretString::from(plaintexts[3]), None, now);
        manager.replace_token(&first, &replacement).await.unwrap();

        // The rest of the schema gets rows too, pointing at those connections.
        store.put_tenant(&sample_tenant("t1")).await.unwrap();
        let mut acc = sample_account("a1", "t1", Platform::Facebook, "1234");
        acc.connection_id = first.as_str().to_owned();
        store.put_account(&acc).await.unwrap();
        insert_due_posts(&store, 3).await;
        store
            .record_attempt(&PublishAttempt {
                id: "att-1".to_owned(),
                post_id: "p0000".to_owned(),
                account_id: "a1".to_owned(),
                started_at: T0,
                finished_at: T0 + 10,
                outcome: AttemptOutcome::Published,
                code: None,
                subcode: None,
                fbtrace_id: Some("trace".to_owned()),
                message: None,
                duration_ms: 10,
            })
            .await
            .unwrap();
        store
            .reserve_private_reply("page", "c1", now)
            .await
            .unwrap();
        store.record_inbound("page", "psid", now).await.unwrap();

        let rows = all_rows_as_text(&store, &schema).await;
        assert!(rows.iter().filter(|(t, _)| t == "connections").count() == 3);
        for (table, text) in &rows {
            for p in plaintexts {
                assert!(!text.contains(p), "plaintext token found in table {table}");
            }
        }
        // The sealed tokens really are the tokens: they open for their connection.
        assert_eq!(
            manager.access_token(&first).await.unwrap().expose_secret(),
            plaintexts[3]
        );
        let second = ConnectionId::new("shop-1/conn").unwrap();
        assert_eq!(
            manager.access_token(&second).await.unwrap().expose_secret(),
            plaintexts[1]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_migrations_apply_each_version_once() {
    with_database(|db| async move {
        let schema = random_schema();
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let db = db.clone();
            let schema = schema.clone();
            tasks.push(tokio::spawn(async move { db.store_on(&schema).await }));
        }
        let mut stores = Vec::new();
        for t in tasks {
            stores.push(t.await.unwrap());
        }
        let rows =
            sqlx::query("SELECT version, name, checksum FROM _meta_migrations ORDER BY version")
                .fetch_all(stores[0].pool())
                .await
                .unwrap();
        assert_eq!(rows.len(), MIGRATIONS.len());
        for (row, m) in rows.iter().zip(MIGRATIONS) {
            assert_eq!(row.get::<i64, _>("version"), m.version);
            assert_eq!(row.get::<String, _>("name"), m.name);
            assert_eq!(row.get::<String, _>("checksum"), m.checksum());
        }
        // Running it again does nothing.
        let report = stores[3].migrate().await.unwrap();
        assert!(report.applied.is_empty());
        assert_eq!(report.already_applied.len(), MIGRATIONS.len());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_migration_is_refused() {
    with_database(|db| async move {
        let store = db.fresh_store().await;
        sqlx::query("UPDATE _meta_migrations SET checksum = 'edited' WHERE version = 1")
            .execute(store.pool())
            .await
            .unwrap();
        let err = store.migrate().await.unwrap_err();
        assert_eq!(err.class(), ErrorClass::Migration);
        assert!(err.message().contains("migration 1"), "{err}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_refuses_to_edit_the_audit_trail() {
    with_database(|db| async move {
        let store = db.fresh_store().await;
        let post = sample_post("p1", "a1", Some(T0));
        store
            .insert_post(
                &post,
                &sample_audit("au1", "p1", T0, None, PostState::Scheduled),
            )
            .await
            .unwrap();
        for sql in [
            "UPDATE post_audit SET actor = 'mallory'",
            "DELETE FROM post_audit",
            "TRUNCATE post_audit",
        ] {
            let err = sqlx::raw_sql(sql).execute(store.pool()).await.unwrap_err();
            let err = meta_store_postgres::PgStoreError::from(err);
            assert_eq!(err.sqlstate(), Some("42501"), "{sql}: {err}");
            assert!(err.message().contains("append-only"), "{err}");
        }
        // Deleting the post keeps the trail, plus the deletion itself.
        let del = sample_audit(
            "au2",
            "p1",
            T0 + 1,
            Some(PostState::Scheduled),
            PostState::Rejected,
        );
        store.delete_post("p1", 1, &del).await.unwrap();
        let trail = store.audit_trail("p1").await.unwrap();
        assert_eq!(
            trail.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
            ["au1", "au2"]
        );
        assert_eq!(trail[0].actor, "ana");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicts_are_classified_and_quote_no_values() {
    with_database(|db| async move {
        let store = db.fresh_store().await;
        let secretish = "meta-id-7777777";
        store
            .put_account(&sample_account("a1", "t1", Platform::Instagram, secretish))
            .await
            .unwrap();
        let clash = sample_account("a2", "t1", Platform::Instagram, secretish);
        match store.put_account(&clash).await {
            Err(StoreError::Conflict(msg)) => assert!(msg.contains("already has"), "{msg}"),
            other => panic!("expected Conflict, got {other:?}"),
        }
        // The raw driver error, classified: SQLSTATE and constraint, no DETAIL.
        let raw = sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ('t', 'x', 0)");
        raw.execute(store.pool()).await.unwrap();
        let err = sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ('t', 'x', 0)")
            .execute(store.pool())
            .await
            .unwrap_err();
        let err = meta_store_postgres::PgStoreError::from(err);
        assert_eq!(err.class(), ErrorClass::Conflict);
        assert_eq!(err.sqlstate(), Some("23505"));
        assert_eq!(err.constraint(), Some("tenants_pkey"));
        assert!(!err.to_string().contains("(id)=(t)"), "{err}");
        // An optimistic-lock loss is a Conflict too, and writes no audit row.
        let post = sample_post("p1", "a1", Some(T0));
        store
            .insert_post(&post, &sample_audit("au1", "p1", T0, None, post.state))
            .await
            .unwrap();
        let mut stale = post.clone();
        stale.version = 8;
        let audit = sample_audit("au2", "p1", T0 + 1, Some(post.state), PostState::Preparing);
        assert!(
            store
                .update_post(&stale, 7, Some(&audit))
                .await
                .unwrap_err()
                .is_conflict()
        );
        assert_eq!(store.audit_trail("p1").await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn bad_configuration_is_refused_without_echoing_secrets() {
    // No database needed: these fail before (or at) connecting.
    let err = PgStore::connect_with_schema("postgres://u:hunter2@127.0.0.1/db", "Bad-Name")
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Invalid);
    assert!(!err.to_string().contains("hunter2"));

    let err = PgStore::connect("postgres://u:hunter2@[not-a-host/db")
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Invalid);
    assert!(!err.to_string().contains("hunter2"), "{err}");

    // Port 1 on localhost refuses connections: Unavailable, retryable.
    let err = PgStoreOptions::new("postgres://u:hunter2@127.0.0.1:1/db")
        .acquire_timeout(Duration::from_secs(5))
        .connect()
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(!err.to_string().contains("hunter2"), "{err}");

    let opts = PgStoreOptions::new("postgres://u:hunter2@127.0.0.1/db").schema("s1");
    assert!(!format!("{opts:?}").contains("hunter2"));
}
