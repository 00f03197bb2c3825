//! The TokenStore and PolicyStore ports on SQLite (file and in-memory).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use meta_graph::lifecycle::{ConnectionId, StoredConnection, TokenStatus, TokenStore};
use meta_graph::messenger::policy::{PolicyStore, ReplyState};

fn connection(id: &str, expires_at: Option<u64>, status: &str) -> StoredConnection {
    // StoredConnection is #[non_exhaustive]: built through its serde form.
    serde_json::from_value(serde_json::json!({
        "id": id,
        "kind": "page",
        "owner": "shop-42",
        "sealed_token": format!("v1.k1.sealed-{id}"),
        "obtained_at": 1_700_000_000u64,
        "expires_at": expires_at,
        "status": status,
        "refreshed_at": null,
        "last_error": null,
        "updated_at": 1_700_000_100u64,
    }))
    .unwrap()
}

#[tokio::test]
async fn connections_round_trip_upsert_delete_and_due() {
    for (label, _dir, store) in common::both("tokens").await {
        let mut a = connection("shop-42/page/1", Some(1_700_500_000), "active");
        a.refreshed_at = Some(1_700_000_050);
        a.last_error = Some((190, Some(463)));
        store.save(&a).await.unwrap();
        assert_eq!(store.load(&a.id).await.unwrap(), Some(a.clone()), "{label}");

        // Upsert: every field replaced, including clearing optional ones.
        let mut a2 = a.clone();
        a2.sealed_token = "v1.k2.other".to_owned();
        a2.status = TokenStatus::Expiring;
        a2.last_error = Some((102, None));
        a2.refreshed_at = None;
        store.save(&a2).await.unwrap();
        assert_eq!(
            store.load(&a.id).await.unwrap(),
            Some(a2.clone()),
            "{label}"
        );

        let b = connection("shop-42/page/2", None, "active");
        let c = connection("shop-42/user", Some(1_700_100_000), "revoked");
        let d = connection("shop-7/ig", Some(1_700_200_000), "expiring");
        for x in [&b, &c, &d] {
            store.save(x).await.unwrap();
        }
        let ids: Vec<String> = store
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.id.to_string())
            .collect();
        assert_eq!(
            ids,
            [
                "shop-42/page/1",
                "shop-42/page/2",
                "shop-42/user",
                "shop-7/ig"
            ],
            "{label}"
        );

        // due: usable, expiring at or before the threshold; never-expiring and revoked
        // ones are not due.
        let due: Vec<String> = store
            .due(1_700_500_000)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.id.to_string())
            .collect();
        assert_eq!(due, ["shop-7/ig", "shop-42/page/1"], "{label}");
        assert!(
            store.due(1_700_199_999).await.unwrap().is_empty(),
            "{label}"
        );
        assert_eq!(store.due(u64::MAX).await.unwrap().len(), 2, "{label}");

        assert!(store.delete(&b.id).await.unwrap(), "{label}");
        assert!(!store.delete(&b.id).await.unwrap(), "{label}");
        assert_eq!(store.load(&b.id).await.unwrap(), None, "{label}");
    }
}

#[tokio::test]
async fn out_of_range_seconds_are_refused_not_wrapped() {
    let store = meta_store_sqlite::SqliteStore::in_memory().await.unwrap();
    let mut a = connection("x", None, "active");
    a.obtained_at = u64::MAX;
    let e = store.save(&a).await.unwrap_err();
    assert!(e.to_string().contains("obtained_at"), "{e}");
    assert_eq!(
        store.load(&ConnectionId::new("x").unwrap()).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn the_file_store_survives_reopening() {
    let dir = common::TempDir::new("reopen");
    let a = connection("shop-1/page", Some(1_800_000_000), "active");
    {
        let store = meta_store_sqlite::SqliteStore::open(dir.db())
            .await
            .unwrap();
        store.save(&a).await.unwrap();
        store
            .record_inbound("p", "u", UNIX_EPOCH + Duration::new(1_700_000_000, 5))
            .await
            .unwrap();
        store.close().await;
    }
    let store = meta_store_sqlite::SqliteStore::open(dir.db())
        .await
        .unwrap();
    assert_eq!(store.load(&a.id).await.unwrap(), Some(a));
    assert_eq!(
        store.last_inbound("p", "u").await.unwrap(),
        Some(UNIX_EPOCH + Duration::new(1_700_000_000, 5))
    );
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[tokio::test]
async fn inbound_keeps_the_latest_time_exactly() {
    for (label, _dir, store) in common::both("inbound").await {
        assert_eq!(store.last_inbound("p", "u").await.unwrap(), None, "{label}");
        let t = UNIX_EPOCH + Duration::new(1_780_000_000, 123_456_789);
        store.record_inbound("p", "u", t).await.unwrap();
        store
            .record_inbound("p", "u", at(1_779_999_000))
            .await
            .unwrap();
        assert_eq!(
            store.last_inbound("p", "u").await.unwrap(),
            Some(t),
            "{label}"
        );
        store
            .record_inbound("p", "u", at(1_780_000_100))
            .await
            .unwrap();
        assert_eq!(
            store.last_inbound("p", "u").await.unwrap(),
            Some(at(1_780_000_100)),
            "{label}"
        );
        // Other pages and people are separate windows.
        assert_eq!(
            store.last_inbound("p2", "u").await.unwrap(),
            None,
            "{label}"
        );
        assert_eq!(
            store.last_inbound("p", "u2").await.unwrap(),
            None,
            "{label}"
        );
    }
}

#[tokio::test]
async fn private_reply_lifecycle() {
    for (label, _dir, store) in common::both("reply").await {
        let now = at(1_780_000_000);
        assert_eq!(
            store.private_reply("p", "c").await.unwrap(),
            None,
            "{label}"
        );
        assert!(
            store.reserve_private_reply("p", "c", now).await.unwrap(),
            "{label}"
        );
        assert!(
            !store.reserve_private_reply("p", "c", now).await.unwrap(),
            "{label}"
        );
        assert_eq!(
            store.private_reply("p", "c").await.unwrap(),
            Some(ReplyState::Reserved),
            "{label}"
        );
        // Released after a certain failure: free again.
        store.release_private_reply("p", "c").await.unwrap();
        assert_eq!(
            store.private_reply("p", "c").await.unwrap(),
            None,
            "{label}"
        );
        assert!(
            store.reserve_private_reply("p", "c", now).await.unwrap(),
            "{label}"
        );
        store.confirm_private_reply("p", "c").await.unwrap();
        // A sent reply is never released nor reserved again.
        store.release_private_reply("p", "c").await.unwrap();
        assert_eq!(
            store.private_reply("p", "c").await.unwrap(),
            Some(ReplyState::Sent),
            "{label}"
        );
        assert!(
            !store.reserve_private_reply("p", "c", now).await.unwrap(),
            "{label}"
        );
        // The same comment id on another Page is another comment.
        assert!(
            store.reserve_private_reply("p2", "c", now).await.unwrap(),
            "{label}"
        );
        // Confirming without a reservation still records it as sent.
        store.confirm_private_reply("p", "c9").await.unwrap();
        assert!(
            !store.reserve_private_reply("p", "c9", now).await.unwrap(),
            "{label}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_reservations_have_exactly_one_winner() {
    for (label, _dir, store) in common::both("reserve-race").await {
        let store = Arc::new(store);
        for comment in 0..20 {
            let comment = format!("c{comment}");
            let mut tasks = Vec::new();
            for _ in 0..16 {
                let store = Arc::clone(&store);
                let comment = comment.clone();
                tasks.push(tokio::spawn(async move {
                    store
                        .reserve_private_reply("page", &comment, at(1_780_000_000))
                        .await
                        .unwrap()
                }));
            }
            let mut winners = 0;
            for t in tasks {
                if t.await.unwrap() {
                    winners += 1;
                }
            }
            assert_eq!(winners, 1, "{label} {comment}");
        }
    }
}

#[tokio::test]
async fn the_guard_runs_on_the_sqlite_store() {
    use meta_graph::error::PolicyRule;
    use meta_graph::messenger::policy::{MessagingGuard, PolicyConfig, SendKind};

    let store = Arc::new(meta_store_sqlite::SqliteStore::in_memory().await.unwrap());
    let guard = MessagingGuard::new(PolicyConfig::default(), store);
    let now = at(1_780_000_000);
    let e = guard
        .check_message("p", "u", SendKind::Standard, now)
        .await
        .unwrap_err();
    assert_eq!(e.rule(), PolicyRule::OutsideMessagingWindow);
    guard
        .record_inbound("p", "u", at(1_780_000_000 - 60))
        .await
        .unwrap();
    guard
        .check_message("p", "u", SendKind::Standard, now)
        .await
        .unwrap();
    guard
        .reserve_private_reply("p", "c", at(1_780_000_000 - 3600), now)
        .await
        .unwrap();
    let e = guard
        .reserve_private_reply("p", "c", at(1_780_000_000 - 3600), now)
        .await
        .unwrap_err();
    assert_eq!(e.rule(), PolicyRule::PrivateReplyAlreadySent);
}
