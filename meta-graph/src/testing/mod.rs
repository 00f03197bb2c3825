//! The store conformance suite (feature `test-util`): one set of checks every
//! implementation of meta-graph's store ports must pass — in memory, SQLite and
//! PostgreSQL alike — so the publisher and the lifecycle manager behave the same
//! whichever store an application picks.
//!
//! Each `*_suite` function takes a factory returning a **fresh, empty** store (called
//! once per case) and runs every case in turn, panicking with the case name and what
//! went wrong on the first contract violation, like a test assertion. Call it from an
//! adapter's own `#[tokio::test]`:
//!
//! ```ignore
//! #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
//! async fn publisher_store_conforms() {
//!     meta_graph::testing::publisher_store_suite(|| async {
//!         Arc::new(SqliteStore::open_in_memory().await.unwrap()) as Arc<dyn PublisherStore>
//!     })
//!     .await;
//! }
//! ```
//!
//! Concurrency cases spawn tokio tasks, so run them on a multi-thread runtime to race
//! for real. Times in records are whole milliseconds and those given to the
//! [`PolicyStore`] whole seconds, so stores may keep milliseconds (or seconds for the
//! policy store).
//!
//! Inside meta-graph the module is also compiled for unit tests (`cfg(test)`), which
//! run it against [`MemoryAccountStore`](crate::publisher::store::MemoryAccountStore),
//! [`MemoryPublisherStore`](crate::publisher::store::MemoryPublisherStore),
//! [`MemoryTokenStore`](crate::lifecycle::MemoryTokenStore) and
//! [`InMemoryPolicyStore`](crate::messenger::policy::InMemoryPolicyStore) — a crate
//! cannot enable its own feature for its tests.

// A conformance suite is test code shipped as a library: failing loudly (panicking
// with a precise message) is its whole job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashSet};
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use crate::lifecycle::{ConnectionId, ConnectionKind, StoredConnection, TokenStatus, TokenStore};
use crate::messenger::policy::{PolicyStore, ReplyState};
use crate::publisher::store::{
    Account, AccountStore, ApprovalSettings, AttemptOutcome, AuditEntry, GovernanceSettings,
    Platform, PostFilter, PostKind, PostRecord, PostState, PublishAttempt, PublisherStore, Tenant,
};
use crate::store::StoreError;

/// A fixed "now" for the cases: 2025-03-01T12:00:00Z in unix ms.
pub const T0: i64 = 1_740_830_400_000;
const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;

fn ok<T, E: Debug>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("conformance: {what}: unexpected error {e:?}"),
    }
}

fn conflict<T: Debug>(r: Result<T, StoreError>, what: &str) {
    match r {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("conformance: {what}: expected StoreError::Conflict, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------

/// A tenant with `id`, kill switch off, created at [`T0`].
#[must_use]
pub fn sample_tenant(id: &str) -> Tenant {
    Tenant {
        id: id.to_owned(),
        name: format!("Tenant {id}"),
        kill_switch: false,
        created_at: T0,
    }
}

/// A Facebook or Instagram account of `tenant_id` with every field set to a
/// non-default value (so a store that drops a field is caught).
#[must_use]
pub fn sample_account(id: &str, tenant_id: &str, platform: Platform, meta_id: &str) -> Account {
    Account {
        id: id.to_owned(),
        tenant_id: tenant_id.to_owned(),
        platform,
        meta_id: meta_id.to_owned(),
        name: format!("Cuenta {id} — ñandú"),
        connection_id: format!("conn-{id}"),
        timezone: "America/Santiago".to_owned(),
        governance: GovernanceSettings {
            daily_cap: 3,
            min_gap_secs: 5400,
            quiet_start_minute: Some(22 * 60),
            quiet_end_minute: Some(7 * 60 + 30),
        },
        approval: ApprovalSettings {
            auto_approve: true,
            allow_self_approval: false,
        },
        kill_switch: false,
        created_at: T0,
    }
}

/// A scheduled FB text post `id` for `account_id` of tenant `t1`, due at
/// `scheduled_at`, version 1, optional fields unset.
#[must_use]
pub fn sample_post(id: &str, account_id: &str, scheduled_at: Option<i64>) -> PostRecord {
    PostRecord {
        id: id.to_owned(),
        content_id: format!("content-{id}"),
        tenant_id: "t1".to_owned(),
        account_id: account_id.to_owned(),
        kind: PostKind::FbText,
        payload: serde_json::json!({ "message": format!("post {id}") }),
        state: PostState::Scheduled,
        author: "ana".to_owned(),
        approver: None,
        scheduled_at,
        not_before: None,
        blocked_reason: None,
        attempts: 0,
        next_attempt_at: None,
        lease_owner: None,
        lease_until: None,
        armed_at: None,
        container_id: None,
        published_id: None,
        published_at: None,
        last_error: None,
        version: 1,
        created_at: T0,
        updated_at: T0,
    }
}

/// An audit entry `id` for `post_id` at `at`.
#[must_use]
pub fn sample_audit(
    id: &str,
    post_id: &str,
    at: i64,
    from: Option<PostState>,
    to: PostState,
) -> AuditEntry {
    AuditEntry {
        id: id.to_owned(),
        post_id: post_id.to_owned(),
        at,
        actor: "ana".to_owned(),
        from,
        to,
        reason: Some(format!("{from:?} → {to}")),
    }
}

fn attempt(id: &str, post_id: &str, started_at: i64) -> PublishAttempt {
    PublishAttempt {
        id: id.to_owned(),
        post_id: post_id.to_owned(),
        account_id: "a1".to_owned(),
        started_at,
        finished_at: started_at + 1234,
        outcome: AttemptOutcome::Failed,
        code: Some(100),
        subcode: Some(2_207_026),
        fbtrace_id: Some("AbCdEf123".to_owned()),
        message: Some("Invalid parameter «caption»".to_owned()),
        duration_ms: 1234,
    }
}

async fn insert(store: &dyn PublisherStore, post: &PostRecord) {
    let audit = sample_audit(
        &format!("audit-create-{}", post.id),
        &post.id,
        post.created_at,
        None,
        post.state,
    );
    ok(store.insert_post(post, &audit).await, "insert_post");
}

// ---------------------------------------------------------------------------------
// AccountStore
// ---------------------------------------------------------------------------------

/// Checks an [`AccountStore`]: round trips of every field, upserts, ordering, the
/// tenant filter, kill switches, `NotFound` for unknown ids and the
/// (tenant, platform, meta_id) uniqueness.
pub async fn account_store_suite<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn AccountStore>>,
{
    // Tenants round-trip, upsert and sort by id.
    {
        let s = make().await;
        assert_eq!(ok(s.get_tenant("t1").await, "get_tenant"), None);
        let mut t2 = sample_tenant("t2");
        t2.kill_switch = true;
        ok(s.put_tenant(&t2).await, "put_tenant");
        ok(s.put_tenant(&sample_tenant("t1")).await, "put_tenant");
        assert_eq!(ok(s.get_tenant("t2").await, "get_tenant"), Some(t2.clone()));
        t2.name = "Renamed «t2»".to_owned();
        ok(s.put_tenant(&t2).await, "put_tenant update");
        let all = ok(s.list_tenants().await, "list_tenants");
        assert_eq!(
            all.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
            ["t1", "t2"],
            "tenants ordered by id, no duplicate after an update"
        );
        assert_eq!(all[1].name, "Renamed «t2»");
        ok(s.set_tenant_kill_switch("t1", true).await, "kill tenant");
        assert!(ok(s.get_tenant("t1").await, "get").unwrap().kill_switch);
        ok(s.set_tenant_kill_switch("t1", false).await, "unkill tenant");
        assert!(!ok(s.get_tenant("t1").await, "get").unwrap().kill_switch);
        assert!(
            matches!(
                s.set_tenant_kill_switch("nope", true).await,
                Err(StoreError::NotFound(_))
            ),
            "kill switch of an unknown tenant is NotFound"
        );
    }
    // Accounts round-trip every field, filter by tenant, sort by id.
    {
        let s = make().await;
        ok(s.put_tenant(&sample_tenant("t1")).await, "put_tenant");
        ok(s.put_tenant(&sample_tenant("t2")).await, "put_tenant");
        let fb = sample_account("a2", "t1", Platform::Facebook, "1001");
        let mut ig = sample_account("a1", "t1", Platform::Instagram, "17841400000000001");
        ig.governance = GovernanceSettings {
            daily_cap: 25,
            min_gap_secs: 0,
            quiet_start_minute: None,
            quiet_end_minute: None,
        };
        ig.approval = ApprovalSettings {
            auto_approve: false,
            allow_self_approval: true,
        };
        ig.timezone = "Asia/Kolkata".to_owned();
        let mut ad = sample_account("a3", "t2", Platform::AdAccount, "act_42");
        ad.kill_switch = true;
        for a in [&fb, &ig, &ad] {
            ok(s.put_account(a).await, "put_account");
        }
        assert_eq!(
            ok(s.get_account("a1").await, "get_account"),
            Some(ig.clone())
        );
        assert_eq!(
            ok(s.get_account("a2").await, "get_account"),
            Some(fb.clone())
        );
        assert_eq!(
            ok(s.get_account("a3").await, "get_account"),
            Some(ad.clone())
        );
        assert_eq!(ok(s.get_account("zz").await, "get_account"), None);
        let t1: Vec<String> = ok(s.list_accounts(Some("t1")).await, "list")
            .into_iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(t1, ["a1", "a2"]);
        let all: Vec<String> = ok(s.list_accounts(None).await, "list")
            .into_iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(all, ["a1", "a2", "a3"]);
        // An update by id keeps one row.
        let mut fb2 = fb.clone();
        fb2.name = "Nuevo nombre".to_owned();
        fb2.governance.daily_cap = 7;
        ok(s.put_account(&fb2).await, "put_account update");
        assert_eq!(ok(s.get_account("a2").await, "get").unwrap(), fb2);
        assert_eq!(ok(s.list_accounts(None).await, "list").len(), 3);
        // Kill switch.
        ok(s.set_account_kill_switch("a2", true).await, "kill account");
        assert!(ok(s.get_account("a2").await, "get").unwrap().kill_switch);
        assert!(matches!(
            s.set_account_kill_switch("zz", true).await,
            Err(StoreError::NotFound(_))
        ));
    }
    // (tenant_id, platform, meta_id) is unique; the same Meta id elsewhere is fine.
    {
        let s = make().await;
        ok(s.put_tenant(&sample_tenant("t1")).await, "put_tenant");
        ok(s.put_tenant(&sample_tenant("t2")).await, "put_tenant");
        ok(
            s.put_account(&sample_account("a1", "t1", Platform::Facebook, "555"))
                .await,
            "put",
        );
        conflict(
            s.put_account(&sample_account("a9", "t1", Platform::Facebook, "555"))
                .await,
            "second account with the same (tenant, platform, meta_id)",
        );
        assert_eq!(ok(s.get_account("a9").await, "get"), None);
        ok(
            s.put_account(&sample_account("a2", "t2", Platform::Facebook, "555"))
                .await,
            "same page in another tenant",
        );
        ok(
            s.put_account(&sample_account("a3", "t1", Platform::Instagram, "555"))
                .await,
            "same id on another platform",
        );
    }
}

// ---------------------------------------------------------------------------------
// PublisherStore
// ---------------------------------------------------------------------------------

fn full_post(id: &str, kind: PostKind, state: PostState) -> PostRecord {
    PostRecord {
        id: id.to_owned(),
        content_id: "content-full".to_owned(),
        tenant_id: "t1".to_owned(),
        account_id: "a1".to_owned(),
        kind,
        payload: serde_json::json!({
            "caption": "Polera roja — tallas S–L #ropa 🎉",
            "children": ["https://example.com/1.jpg", "https://example.com/2.jpg"],
            "n": 3,
            "nested": { "ok": true, "none": null }
        }),
        state,
        author: "ana".to_owned(),
        approver: Some("bruno".to_owned()),
        scheduled_at: Some(T0 + HOUR),
        not_before: Some(T0 + 2 * HOUR),
        blocked_reason: Some("daily cap 3 reached".to_owned()),
        attempts: 4,
        next_attempt_at: Some(T0 + 3 * HOUR),
        lease_owner: Some("worker-1".to_owned()),
        lease_until: Some(T0 + 5 * MIN),
        armed_at: Some(T0 + 7),
        container_id: Some("17890000000000001".to_owned()),
        published_id: Some("1001_2002".to_owned()),
        published_at: Some(T0 + 9),
        last_error: Some("(#100) Invalid parameter [code 100/2207026]".to_owned()),
        version: 12,
        created_at: T0 - HOUR,
        updated_at: T0 + 11,
    }
}

/// Checks a [`PublisherStore`]: round trips, optimistic locking, the append-only
/// ordered audit trail, deletes, filters, `claim_due` (due rules, ordering, limit,
/// leases, exclusivity under concurrency), `armed`, the attempt log with purge, and the
/// governance counts.
pub async fn publisher_store_suite<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn PublisherStore>>,
{
    round_trips(&make().await).await;
    optimistic_locking(&make().await).await;
    audit_trail(&make().await).await;
    deletes(&make().await).await;
    filters(&make().await).await;
    claim_rules(&make().await).await;
    claim_leases(&make().await).await;
    claim_concurrency(make().await).await;
    armed_posts(&make().await).await;
    attempt_log(&make().await).await;
    governance_counts(&make().await).await;
}

async fn round_trips(s: &Arc<dyn PublisherStore>) {
    // Every kind and every state, with every optional field set…
    for (i, kind) in PostKind::ALL.iter().enumerate() {
        let state = PostState::ALL[i % PostState::ALL.len()];
        let p = full_post(&format!("full-{i}"), *kind, state);
        insert(s.as_ref(), &p).await;
        assert_eq!(
            ok(s.get_post(&p.id).await, "get_post"),
            Some(p.clone()),
            "{kind} / {state} round trip"
        );
    }
    for (i, state) in PostState::ALL.iter().enumerate() {
        let p = full_post(&format!("state-{i}"), PostKind::IgCarousel, *state);
        insert(s.as_ref(), &p).await;
        assert_eq!(ok(s.get_post(&p.id).await, "get").unwrap().state, *state);
    }
    // …and with every optional field unset.
    let bare = sample_post("bare", "a1", None);
    insert(s.as_ref(), &bare).await;
    assert_eq!(ok(s.get_post("bare").await, "get"), Some(bare.clone()));
    assert_eq!(ok(s.get_post("missing").await, "get"), None);
    // The same id twice is a conflict, and the first row is untouched.
    let mut dup = bare.clone();
    dup.author = "mallory".to_owned();
    conflict(
        s.insert_post(
            &dup,
            &sample_audit("audit-dup", "bare", T0, None, PostState::Draft),
        )
        .await,
        "insert of an existing id",
    );
    assert_eq!(ok(s.get_post("bare").await, "get").unwrap().author, "ana");
}

async fn optimistic_locking(s: &Arc<dyn PublisherStore>) {
    let p = sample_post("p1", "a1", Some(T0));
    insert(s.as_ref(), &p).await;
    // A successful update replaces every field and bumps the version.
    let mut next = full_post("p1", PostKind::IgReel, PostState::Ready);
    next.created_at = p.created_at;
    next.version = 2;
    let a = sample_audit(
        "audit-p1-2",
        "p1",
        T0 + 1,
        Some(PostState::Scheduled),
        PostState::Ready,
    );
    ok(s.update_post(&next, 1, Some(&a)).await, "update_post");
    assert_eq!(ok(s.get_post("p1").await, "get"), Some(next.clone()));
    // A stale writer loses, and its audit row is not written.
    let mut stale = p.clone();
    stale.version = 2;
    stale.state = PostState::Failed;
    let lost = sample_audit(
        "audit-p1-lost",
        "p1",
        T0 + 2,
        Some(PostState::Scheduled),
        PostState::Failed,
    );
    conflict(
        s.update_post(&stale, 1, Some(&lost)).await,
        "update with a stale version",
    );
    assert_eq!(ok(s.get_post("p1").await, "get"), Some(next.clone()));
    let trail = ok(s.audit_trail("p1").await, "audit_trail");
    assert!(
        trail.iter().all(|e| e.id != "audit-p1-lost"),
        "a lost update must not leave an audit row"
    );
    assert_eq!(trail.len(), 2);
    // An update without an audit row.
    let mut third = next.clone();
    third.version = 3;
    third.lease_owner = None;
    third.lease_until = None;
    ok(s.update_post(&third, 2, None).await, "update without audit");
    assert_eq!(ok(s.get_post("p1").await, "get"), Some(third));
    assert_eq!(ok(s.audit_trail("p1").await, "audit").len(), 2);
    // A missing post is a conflict too (it was deleted under the writer).
    let mut ghost = sample_post("ghost", "a1", None);
    ghost.version = 2;
    conflict(
        s.update_post(&ghost, 1, None).await,
        "update of a missing post",
    );
    assert_eq!(ok(s.get_post("ghost").await, "get"), None);
}

async fn audit_trail(s: &Arc<dyn PublisherStore>) {
    let mut p = sample_post("p1", "a1", None);
    p.state = PostState::Draft;
    insert(s.as_ref(), &p).await;
    insert(s.as_ref(), &sample_post("other", "a1", None)).await;
    // Entries at the same millisecond keep insertion order; later ones come after.
    let steps = [
        (T0 + 10, PostState::Draft, PostState::PendingApproval),
        (
            T0 + 10,
            PostState::PendingApproval,
            PostState::ChangesRequested,
        ),
        (
            T0 + 10,
            PostState::ChangesRequested,
            PostState::PendingApproval,
        ),
        (T0 + 20, PostState::PendingApproval, PostState::Approved),
        (T0 + 30, PostState::Approved, PostState::Scheduled),
    ];
    // Ids deliberately sort against insertion order.
    let ids = ["zz", "yy", "xx", "ww", "vv"];
    for (i, ((at, from, to), id)) in steps.iter().zip(ids).enumerate() {
        let mut next = p.clone();
        next.state = *to;
        next.version = p.version + 1;
        let mut e = sample_audit(id, "p1", *at, Some(*from), *to);
        e.actor = format!("user-{i}");
        e.reason = if i == 1 {
            Some("Falta el precio — «por favor»".to_owned())
        } else {
            None
        };
        ok(s.update_post(&next, p.version, Some(&e)).await, "update");
        p = next;
    }
    let trail = ok(s.audit_trail("p1").await, "audit_trail");
    assert_eq!(trail.len(), 6, "creation + 5 transitions");
    assert_eq!(trail[0].from, None);
    assert_eq!(trail[0].to, PostState::Draft);
    let got: Vec<&str> = trail[1..].iter().map(|e| e.id.as_str()).collect();
    assert_eq!(got, ids, "ordered by time, then insertion");
    assert_eq!(
        trail[2].reason.as_deref(),
        Some("Falta el precio — «por favor»")
    );
    assert_eq!(trail[2].actor, "user-1");
    assert_eq!(trail[2].from, Some(PostState::PendingApproval));
    assert_eq!(trail[2].to, PostState::ChangesRequested);
    assert_eq!(trail[1].reason, None);
    assert_eq!(
        ok(s.audit_trail("other").await, "audit").len(),
        1,
        "trails are per post"
    );
    assert!(ok(s.audit_trail("nope").await, "audit").is_empty());
}

async fn deletes(s: &Arc<dyn PublisherStore>) {
    let p = sample_post("p1", "a1", None);
    insert(s.as_ref(), &p).await;
    let del = sample_audit("audit-del", "p1", T0 + 5, Some(p.state), p.state);
    conflict(
        s.delete_post("p1", 7, &del).await,
        "delete with a stale version",
    );
    assert!(ok(s.get_post("p1").await, "get").is_some());
    ok(s.delete_post("p1", 1, &del).await, "delete_post");
    assert_eq!(ok(s.get_post("p1").await, "get"), None);
    let trail = ok(s.audit_trail("p1").await, "audit_trail");
    assert_eq!(trail.len(), 2, "the trail outlives the post");
    assert_eq!(trail[1].id, "audit-del");
    conflict(
        s.delete_post(
            "p1",
            1,
            &sample_audit("audit-del2", "p1", T0, None, PostState::Draft),
        )
        .await,
        "delete of a missing post",
    );
    assert_eq!(ok(s.audit_trail("p1").await, "audit").len(), 2);
}

async fn filters(s: &Arc<dyn PublisherStore>) {
    let mut rows = Vec::new();
    for i in 0..12_i64 {
        let mut p = sample_post(&format!("p{i:02}"), &format!("a{}", i % 3), None);
        p.tenant_id = if i < 8 { "t1" } else { "t2" }.to_owned();
        p.content_id = format!("c{}", i % 2);
        p.state = [PostState::Draft, PostState::Scheduled, PostState::Published][(i % 3) as usize];
        // Creation times run backwards so the order is by created_at, not id.
        p.created_at = T0 - i * MIN;
        p.updated_at = p.created_at;
        insert(s.as_ref(), &p).await;
        rows.push(p);
    }
    let ids = |v: Vec<PostRecord>| v.into_iter().map(|p| p.id).collect::<Vec<_>>();
    let expect = |pred: &dyn Fn(&PostRecord) -> bool| {
        let mut v: Vec<&PostRecord> = rows.iter().filter(|p| pred(p)).collect();
        v.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        v.into_iter().map(|p| p.id.clone()).collect::<Vec<_>>()
    };
    let all = ok(s.list_posts(&PostFilter::default()).await, "list all");
    assert_eq!(ids(all), expect(&|_| true), "all, by created_at then id");
    let f = PostFilter {
        tenant_id: Some("t1".to_owned()),
        ..PostFilter::default()
    };
    assert_eq!(
        ids(ok(s.list_posts(&f).await, "list")),
        expect(&|p| p.tenant_id == "t1")
    );
    let f = PostFilter {
        account_id: Some("a1".to_owned()),
        states: vec![PostState::Scheduled, PostState::Draft],
        ..PostFilter::default()
    };
    assert_eq!(
        ids(ok(s.list_posts(&f).await, "list")),
        expect(
            &|p| p.account_id == "a1" && matches!(p.state, PostState::Scheduled | PostState::Draft)
        )
    );
    let f = PostFilter {
        content_id: Some("c1".to_owned()),
        tenant_id: Some("t2".to_owned()),
        ..PostFilter::default()
    };
    assert_eq!(
        ids(ok(s.list_posts(&f).await, "list")),
        expect(&|p| p.content_id == "c1" && p.tenant_id == "t2")
    );
    let f = PostFilter {
        states: vec![PostState::Published],
        limit: Some(2),
        ..PostFilter::default()
    };
    let mut want = expect(&|p| p.state == PostState::Published);
    want.truncate(2);
    assert_eq!(ids(ok(s.list_posts(&f).await, "list")), want, "limit");
    let f = PostFilter {
        states: vec![PostState::Failed],
        ..PostFilter::default()
    };
    assert!(ok(s.list_posts(&f).await, "list").is_empty());
}

async fn claim_rules(s: &Arc<dyn PublisherStore>) {
    let now = T0;
    let mut posts = Vec::new();
    // Due: scheduled in the past, in Scheduled/Preparing/Ready.
    let mut p = sample_post("due-late", "a1", Some(now - 10 * MIN));
    p.state = PostState::Ready;
    posts.push(p);
    posts.push(sample_post("due-now", "a1", Some(now)));
    let mut p = sample_post("due-unscheduled", "a1", None);
    p.state = PostState::Preparing;
    posts.push(p);
    // Due once governance's not_before and the retry time have passed.
    let mut p = sample_post("due-notbefore", "a1", Some(now - HOUR));
    p.not_before = Some(now - 5 * MIN);
    posts.push(p);
    let mut p = sample_post("due-retry", "a1", Some(now - HOUR));
    p.next_attempt_at = Some(now - MIN);
    posts.push(p);
    // An expired lease is free.
    let mut p = sample_post("due-expired-lease", "a1", Some(now - 2 * MIN));
    p.lease_owner = Some("dead-worker".to_owned());
    p.lease_until = Some(now);
    posts.push(p);
    // Not due.
    posts.push(sample_post("later", "a1", Some(now + 1)));
    let mut p = sample_post("blocked", "a1", Some(now - HOUR));
    p.not_before = Some(now + HOUR);
    posts.push(p);
    let mut p = sample_post("backing-off", "a1", Some(now - HOUR));
    p.next_attempt_at = Some(now + MIN);
    posts.push(p);
    let mut p = sample_post("leased", "a1", Some(now - HOUR));
    p.lease_owner = Some("other".to_owned());
    p.lease_until = Some(now + 1);
    posts.push(p);
    for st in [
        PostState::Draft,
        PostState::PendingApproval,
        PostState::Approved,
        PostState::ChangesRequested,
        PostState::Rejected,
        PostState::Publishing,
        PostState::Published,
        PostState::Failed,
        PostState::Unconfirmed,
    ] {
        let mut p = sample_post(&format!("state-{st}"), "a1", Some(now - HOUR));
        p.state = st;
        posts.push(p);
    }
    for p in &posts {
        insert(s.as_ref(), p).await;
    }
    let first = ok(s.claim_due(now, "w1", 5 * MIN, 4).await, "claim_due");
    let got: Vec<&str> = first.iter().map(|p| p.id.as_str()).collect();
    // Due times: unscheduled = always, late = -10 min, notbefore = -5 min,
    // expired lease = -2 min, retry = -1 min, now = 0.
    assert_eq!(
        got,
        [
            "due-unscheduled",
            "due-late",
            "due-notbefore",
            "due-expired-lease"
        ],
        "ordered by due time, limited"
    );
    for c in &first {
        assert_eq!(c.lease_owner.as_deref(), Some("w1"));
        assert_eq!(c.lease_until, Some(now + 5 * MIN));
        assert_eq!(c.version, 2, "claiming bumps the version");
        assert_eq!(c.updated_at, now);
        assert_eq!(ok(s.get_post(&c.id).await, "get").as_ref(), Some(c));
    }
    let second = ok(s.claim_due(now, "w2", 5 * MIN, 100).await, "claim_due");
    let got: Vec<&str> = second.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(got, ["due-retry", "due-now"]);
    assert!(
        ok(s.claim_due(now, "w3", 5 * MIN, 100).await, "claim").is_empty(),
        "nothing else is due"
    );
}

async fn claim_leases(s: &Arc<dyn PublisherStore>) {
    insert(s.as_ref(), &sample_post("p1", "a1", Some(T0))).await;
    insert(s.as_ref(), &sample_post("p2", "a1", Some(T0))).await;
    let c = ok(s.claim_due(T0, "w1", MIN, 10).await, "claim");
    assert_eq!(c.len(), 2);
    assert!(ok(s.claim_due(T0 + MIN - 1, "w2", MIN, 10).await, "claim").is_empty());
    // Releasing by someone else does nothing; by the holder frees it.
    assert!(!ok(s.release_lease("p1", "w2").await, "release"));
    assert!(ok(s.release_lease("p1", "w1").await, "release"));
    let after = ok(s.get_post("p1").await, "get").unwrap();
    assert_eq!(after.lease_owner, None);
    assert_eq!(after.lease_until, None);
    assert_eq!(after.version, 3, "release bumps the version");
    assert!(!ok(s.release_lease("p1", "w1").await, "release twice"));
    assert!(!ok(
        s.release_lease("missing", "w1").await,
        "release missing"
    ));
    let c = ok(s.claim_due(T0 + 1, "w2", MIN, 10).await, "claim");
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].id, "p1");
    // At expiry the other lease is free again.
    let c = ok(s.claim_due(T0 + MIN, "w3", MIN, 10).await, "claim");
    assert_eq!(c.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["p2"]);
    assert_eq!(c[0].lease_owner.as_deref(), Some("w3"));
    assert_eq!(c[0].version, 3);
    // The old holder's stale write now loses.
    let mut stale = ok(s.get_post("p2").await, "get").unwrap();
    stale.version = 2;
    let mut upd = stale.clone();
    upd.version = 3;
    upd.state = PostState::Publishing;
    conflict(
        s.update_post(&upd, 2, None).await,
        "write by a worker whose lease was taken over",
    );
}

async fn claim_concurrency(s: Arc<dyn PublisherStore>) {
    const POSTS: usize = 200;
    const WORKERS: usize = 8;
    for i in 0..POSTS {
        let at = T0 - i64::try_from(i % 17).unwrap_or(0) * MIN;
        insert(
            s.as_ref(),
            &sample_post(&format!("c{i:04}"), "a1", Some(at)),
        )
        .await;
    }
    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        let s = Arc::clone(&s);
        tasks.push(tokio::spawn(async move {
            let worker = format!("w{w}");
            let mut mine = Vec::new();
            loop {
                let got = ok(s.claim_due(T0, &worker, HOUR, 7).await, "claim_due");
                if got.is_empty() {
                    break;
                }
                for p in got {
                    assert_eq!(p.lease_owner.as_deref(), Some(worker.as_str()));
                    mine.push(p.id);
                }
                tokio::task::yield_now().await;
            }
            mine
        }));
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for t in tasks {
        for id in t.await.unwrap() {
            total += 1;
            assert!(seen.insert(id.clone()), "post {id} claimed twice");
        }
    }
    assert_eq!(total, POSTS, "every due post claimed exactly once");
    assert_eq!(seen.len(), POSTS);
}

async fn armed_posts(s: &Arc<dyn PublisherStore>) {
    for (id, state, owner, armed) in [
        ("p1", PostState::Publishing, "w1", T0 + 30),
        ("p2", PostState::Publishing, "w2", T0 + 10),
        ("p3", PostState::Publishing, "w1", T0 + 20),
        ("p4", PostState::Ready, "w1", T0),
        ("p5", PostState::Published, "w1", T0),
    ] {
        let mut p = sample_post(id, "a1", Some(T0));
        p.state = state;
        p.lease_owner = Some(owner.to_owned());
        p.lease_until = Some(T0 + HOUR);
        p.armed_at = Some(armed);
        insert(s.as_ref(), &p).await;
    }
    let all: Vec<String> = ok(s.armed(None).await, "armed")
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(all, ["p2", "p3", "p1"], "Publishing only, by armed_at");
    let w1: Vec<String> = ok(s.armed(Some("w1")).await, "armed")
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(w1, ["p3", "p1"]);
    assert!(ok(s.armed(Some("w9")).await, "armed").is_empty());
}

async fn attempt_log(s: &Arc<dyn PublisherStore>) {
    let mut a1 = attempt("att-b", "p1", T0);
    a1.outcome = AttemptOutcome::Transient;
    let mut a2 = attempt("att-a", "p1", T0);
    a2.code = None;
    a2.subcode = None;
    a2.fbtrace_id = None;
    a2.message = None;
    a2.outcome = AttemptOutcome::Published;
    let a3 = attempt("att-c", "p1", T0 - 91 * 86_400_000);
    let a4 = attempt("att-d", "p2", T0 - 100 * 86_400_000);
    let mut a5 = attempt("att-e", "p1", T0 + 5);
    a5.outcome = AttemptOutcome::Unconfirmed;
    let mut a6 = attempt("att-f", "p2", T0);
    a6.outcome = AttemptOutcome::Blocked;
    for a in [&a1, &a2, &a3, &a4, &a5, &a6] {
        ok(s.record_attempt(a).await, "record_attempt");
    }
    let got = ok(s.attempts("p1").await, "attempts");
    assert_eq!(
        got,
        vec![a3.clone(), a1.clone(), a2.clone(), a5.clone()],
        "by started_at, then insertion"
    );
    let purged = ok(
        s.purge_attempts(T0 - crate::publisher::store::DEFAULT_ATTEMPT_RETENTION_MS)
            .await,
        "purge",
    );
    assert_eq!(purged, 2, "the two attempts older than 90 days");
    assert_eq!(ok(s.attempts("p1").await, "attempts"), vec![a1, a2, a5]);
    assert_eq!(ok(s.attempts("p2").await, "attempts"), vec![a6]);
    assert_eq!(ok(s.purge_attempts(T0 - 1).await, "purge"), 0);
    assert!(ok(s.attempts("none").await, "attempts").is_empty());
}

async fn governance_counts(s: &Arc<dyn PublisherStore>) {
    // (id, account, state, armed_at, published_at)
    type Row<'a> = (&'a str, &'a str, PostState, Option<i64>, Option<i64>);
    let rows: [Row<'_>; 9] = [
        ("g1", "a1", PostState::Published, Some(T0 - 1), Some(T0)),
        (
            "g2",
            "a1",
            PostState::Published,
            Some(T0 + HOUR - 5),
            Some(T0 + HOUR),
        ),
        ("g3", "a1", PostState::Publishing, Some(T0 + 2 * HOUR), None),
        (
            "g4",
            "a1",
            PostState::Unconfirmed,
            Some(T0 + 3 * HOUR),
            None,
        ),
        ("g5", "a1", PostState::Failed, Some(T0 + HOUR), None),
        ("g6", "a1", PostState::Scheduled, None, None),
        ("g7", "a2", PostState::Published, Some(T0), Some(T0 + 10)),
        (
            "g8",
            "a1",
            PostState::Published,
            Some(T0 - HOUR),
            Some(T0 - HOUR),
        ),
        (
            "g9",
            "a1",
            PostState::Published,
            Some(T0 + 4 * HOUR),
            Some(T0 + 4 * HOUR),
        ),
    ];
    for (id, account, state, armed, published) in rows {
        let mut p = sample_post(id, account, Some(T0));
        p.state = state;
        p.armed_at = armed;
        p.published_at = published;
        insert(s.as_ref(), &p).await;
    }
    let count = |from, to| {
        let s = Arc::clone(s);
        async move { ok(s.published_count_between("a1", from, to).await, "count") }
    };
    assert_eq!(count(T0, T0 + 4 * HOUR).await, 4, "g1 g2 g3 g4; [from, to)");
    assert_eq!(count(T0, T0 + 4 * HOUR + 1).await, 5);
    assert_eq!(count(T0 + 1, T0 + HOUR).await, 0);
    assert_eq!(count(T0 - HOUR, T0 + 1).await, 2);
    assert_eq!(
        count(T0 + 2 * HOUR, T0 + 3 * HOUR + 1).await,
        2,
        "armed ones count"
    );
    assert_eq!(
        ok(
            s.published_count_between("a2", T0, T0 + HOUR).await,
            "count"
        ),
        1
    );
    assert_eq!(
        ok(
            s.published_count_between("zz", T0, T0 + HOUR).await,
            "count"
        ),
        0
    );
    assert_eq!(
        ok(s.last_published_at("a1").await, "last"),
        Some(T0 + 4 * HOUR)
    );
    assert_eq!(ok(s.last_published_at("a2").await, "last"), Some(T0 + 10));
    assert_eq!(ok(s.last_published_at("zz").await, "last"), None);
}

// ---------------------------------------------------------------------------------
// TokenStore (lifecycle)
// ---------------------------------------------------------------------------------

fn connection(id: &str, kind: ConnectionKind, expires_at: Option<u64>) -> StoredConnection {
    StoredConnection {
        id: ConnectionId::new(id).unwrap(),
        kind,
        owner: format!("owner of {id}"),
        sealed_token: format!("v1.k1.{}", "A".repeat(40)),
        obtained_at: 1_700_000_000,
        expires_at,
        status: TokenStatus::Active,
        refreshed_at: None,
        last_error: None,
        updated_at: 1_700_000_000,
    }
}

/// Checks a [`TokenStore`]: sealed tokens and every field round-trip, `save` is an
/// upsert, `delete` reports existence, `list` is ordered by id, and `due` returns the
/// usable connections expiring by the threshold.
pub async fn token_store_suite<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn TokenStore>>,
{
    let s = make().await;
    let id = ConnectionId::new("page-1").unwrap();
    assert!(ok(s.load(&id).await, "load").is_none());
    let mut full = connection("page-1", ConnectionKind::Page, Some(1_700_086_400));
    full.status = TokenStatus::Expiring;
    full.refreshed_at = Some(1_700_000_100);
    full.last_error = Some((190, Some(463)));
    ok(s.save(&full).await, "save");
    assert_eq!(ok(s.load(&id).await, "load"), Some(full.clone()));
    let bare = connection("user-1", ConnectionKind::User, None);
    ok(s.save(&bare).await, "save");
    let mut ig = connection("ig-1", ConnectionKind::Instagram, Some(1_700_000_500));
    ig.last_error = Some((10, None));
    ok(s.save(&ig).await, "save");
    assert_eq!(
        ok(s.load(&ConnectionId::new("user-1").unwrap()).await, "load"),
        Some(bare.clone())
    );
    assert_eq!(
        ok(s.load(&ConnectionId::new("ig-1").unwrap()).await, "load"),
        Some(ig.clone())
    );
    // Upsert: the new sealed token replaces the old one.
    let mut rotated = full.clone();
    rotated.sealed_token = format!("v1.k2.{}", "B".repeat(48));
    rotated.status = TokenStatus::Active;
    rotated.last_error = None;
    ok(s.save(&rotated).await, "save update");
    assert_eq!(ok(s.load(&id).await, "load"), Some(rotated.clone()));
    let ids: Vec<String> = ok(s.list().await, "list")
        .into_iter()
        .map(|c| c.id.as_str().to_owned())
        .collect();
    assert_eq!(ids, ["ig-1", "page-1", "user-1"], "ordered by id");
    // due(): usable and expiring at or before the threshold.
    let mut revoked = connection("revoked-1", ConnectionKind::User, Some(1_700_000_010));
    revoked.status = TokenStatus::Revoked;
    ok(s.save(&revoked).await, "save");
    let due = |t| {
        let s = Arc::clone(&s);
        async move {
            let mut v: Vec<String> = ok(s.due(t).await, "due")
                .into_iter()
                .map(|c| c.id.as_str().to_owned())
                .collect();
            v.sort();
            v
        }
    };
    assert_eq!(due(1_700_000_499).await, Vec::<String>::new());
    assert_eq!(due(1_700_000_500).await, ["ig-1"]);
    assert_eq!(due(1_800_000_000).await, ["ig-1", "page-1"]);
    assert!(ok(s.delete(&id).await, "delete"));
    assert!(!ok(s.delete(&id).await, "delete twice"));
    assert!(ok(s.load(&id).await, "load").is_none());
    assert_eq!(ok(s.list().await, "list").len(), 3);
}

// ---------------------------------------------------------------------------------
// PolicyStore (messenger)
// ---------------------------------------------------------------------------------

/// Checks a [`PolicyStore`]: the last inbound time keeps the latest per (Page, person),
/// and the private-reply reservation is exactly-once under concurrency, confirmable and
/// releasable only while reserved.
pub async fn policy_store_suite<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn PolicyStore>>,
{
    let at = |secs: u64| UNIX_EPOCH + Duration::from_secs(secs);
    {
        let s = make().await;
        assert_eq!(
            ok(s.last_inbound("page", "psid").await, "last_inbound"),
            None
        );
        ok(
            s.record_inbound("page", "psid", at(1_700_000_100)).await,
            "record",
        );
        ok(
            s.record_inbound("page", "psid", at(1_700_000_050)).await,
            "record older",
        );
        assert_eq!(
            ok(s.last_inbound("page", "psid").await, "last_inbound"),
            Some(at(1_700_000_100)),
            "an older webhook does not move the window back"
        );
        ok(
            s.record_inbound("page", "psid", at(1_700_000_200)).await,
            "record newer",
        );
        assert_eq!(
            ok(s.last_inbound("page", "psid").await, "last_inbound"),
            Some(at(1_700_000_200))
        );
        assert_eq!(ok(s.last_inbound("page", "other").await, "last"), None);
        assert_eq!(ok(s.last_inbound("page2", "psid").await, "last"), None);
    }
    {
        let s = make().await;
        assert_eq!(ok(s.private_reply("page", "c1").await, "state"), None);
        assert!(ok(
            s.reserve_private_reply("page", "c1", at(1)).await,
            "reserve"
        ));
        assert_eq!(
            ok(s.private_reply("page", "c1").await, "state"),
            Some(ReplyState::Reserved)
        );
        assert!(!ok(
            s.reserve_private_reply("page", "c1", at(2)).await,
            "reserve again"
        ));
        ok(s.release_private_reply("page", "c1").await, "release");
        assert_eq!(ok(s.private_reply("page", "c1").await, "state"), None);
        assert!(ok(
            s.reserve_private_reply("page", "c1", at(3)).await,
            "re-reserve"
        ));
        ok(s.confirm_private_reply("page", "c1").await, "confirm");
        assert_eq!(
            ok(s.private_reply("page", "c1").await, "state"),
            Some(ReplyState::Sent)
        );
        ok(
            s.release_private_reply("page", "c1").await,
            "release after send",
        );
        assert_eq!(
            ok(s.private_reply("page", "c1").await, "state"),
            Some(ReplyState::Sent),
            "a sent reply cannot be released"
        );
        assert!(!ok(
            s.reserve_private_reply("page", "c1", at(4)).await,
            "reserve sent"
        ));
        // The same comment id on another Page is another reply.
        assert!(ok(
            s.reserve_private_reply("page2", "c1", at(5)).await,
            "other page"
        ));
    }
    {
        // Exactly one of many concurrent reservations wins, per comment.
        let s = make().await;
        let mut tasks = Vec::new();
        for i in 0..64_u64 {
            let s = Arc::clone(&s);
            tasks.push(tokio::spawn(async move {
                let comment = format!("c{}", i % 4);
                let won = ok(
                    s.reserve_private_reply("page", &comment, at(1_700_000_000 + i))
                        .await,
                    "reserve",
                );
                (comment, won)
            }));
        }
        let mut wins: BTreeMap<String, u32> = BTreeMap::new();
        for t in tasks {
            let (comment, won) = t.await.unwrap();
            *wins.entry(comment).or_default() += u32::from(won);
        }
        assert_eq!(wins.len(), 4);
        for (comment, n) in wins {
            assert_eq!(n, 1, "comment {comment}: {n} reservations won");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::MemoryTokenStore;
    use crate::messenger::policy::InMemoryPolicyStore;
    use crate::publisher::store::{MemoryAccountStore, MemoryPublisherStore};

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn memory_account_store_conforms() {
        account_store_suite(|| async {
            Arc::new(MemoryAccountStore::new()) as Arc<dyn AccountStore>
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn memory_publisher_store_conforms() {
        publisher_store_suite(|| async {
            Arc::new(MemoryPublisherStore::new()) as Arc<dyn PublisherStore>
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn memory_token_store_conforms() {
        token_store_suite(|| async { Arc::new(MemoryTokenStore::new()) as Arc<dyn TokenStore> })
            .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn memory_policy_store_conforms() {
        policy_store_suite(|| async {
            Arc::new(InMemoryPolicyStore::new()) as Arc<dyn PolicyStore>
        })
        .await;
    }
}
