//! The publisher against meta-sandbox with the in-memory stores: approval with audit,
//! a governed week for several accounts, crash between arming and the result,
//! transient and permanent failures, kill switches, and two workers on one store
//! without a single duplicate.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{TimeZone, Timelike, Utc};
use meta_core::clock::{Clock, Sleep};
use meta_core::{Client, IgContainerId, IgUserId, RetryConfig};
use meta_graph::GraphExt;
use meta_graph::publisher::store::{
    ApprovalSettings, GovernanceSettings, MemoryAccountStore, MemoryPublisherStore,
};
use meta_graph::publisher::{
    Account, AccountStore, AttemptOutcome, CarouselMedia, Content, FixedClients, NewPost, Platform,
    PostFilter, PostRecord, PostState, PublishError, Publisher, PublisherConfig, PublisherStore,
    Tenant, Variant,
};
use meta_graph::store::{SequentialIds, to_ms};
use meta_sandbox::{Fault, FaultRule, Sandbox, SandboxConfig, SandboxControl};

/// The sandbox's clock is the time: sleeping (IG container polling, governor waits)
/// advances it, so nothing really sleeps.
#[derive(Debug, Clone)]
struct SandboxClock(SandboxControl);

impl Clock for SandboxClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0.now_unix())
    }
    fn elapsed(&self) -> Duration {
        Duration::from_secs(self.0.now_unix())
    }
    fn sleep(&self, duration: Duration) -> Sleep<'_> {
        self.0.advance_clock(duration.max(Duration::from_secs(1)));
        Box::pin(tokio::task::yield_now())
    }
}

struct Env {
    sb: Sandbox,
    clock: Arc<SandboxClock>,
    accounts: Arc<MemoryAccountStore>,
    posts: Arc<MemoryPublisherStore>,
    clients: Arc<FixedClients>,
    ids: Arc<SequentialIds>,
}

fn no_limits() -> GovernanceSettings {
    GovernanceSettings::default()
}

impl Env {
    async fn start() -> Env {
        Env::with(SandboxConfig::default().posts_per_page(2)).await
    }

    async fn with(config: SandboxConfig) -> Env {
        let sb = Sandbox::start_with(config).await.unwrap();
        let clock = Arc::new(SandboxClock(sb.control()));
        let client = |token: &str| {
            Client::builder()
                .base_url(sb.base_url().to_owned())
                .access_token(token.to_owned())
                .clock(clock.clone())
                .retry(RetryConfig::disabled())
                .build()
                .unwrap()
        };
        let f = sb.fixtures();
        let mut clients = FixedClients::new().with("ig", client(&f.user_token));
        for (i, page) in f.pages.iter().enumerate() {
            clients = clients.with(format!("page-{i}"), client(&page.access_token));
        }
        let env = Env {
            clock,
            accounts: Arc::new(MemoryAccountStore::new()),
            posts: Arc::new(MemoryPublisherStore::new()),
            clients: Arc::new(clients),
            ids: Arc::new(SequentialIds::new("id")),
            sb,
        };
        env.accounts
            .put_tenant(&Tenant {
                id: "t1".into(),
                name: "Tienda".into(),
                kill_switch: false,
                created_at: env.now_ms(),
            })
            .await
            .unwrap();
        env
    }

    fn now_ms(&self) -> i64 {
        to_ms(self.clock.now())
    }

    fn advance(&self, by: Duration) {
        self.sb.control().advance_clock(by);
    }

    /// Account `id` on Page `page` (index into the fixtures) or on the first Page's IG
    /// account.
    async fn account(
        &self,
        id: &str,
        platform: Platform,
        page: usize,
        tz: &str,
        governance: GovernanceSettings,
        approval: ApprovalSettings,
    ) -> Account {
        let p = &self.sb.fixtures().pages[page];
        let (meta_id, connection) = match platform {
            Platform::Instagram => (p.ig_user_id.clone(), "ig".to_owned()),
            _ => (p.id.clone(), format!("page-{page}")),
        };
        let a = Account {
            id: id.into(),
            tenant_id: "t1".into(),
            platform,
            meta_id,
            name: id.into(),
            connection_id: connection,
            timezone: tz.into(),
            governance,
            approval,
            kill_switch: false,
            created_at: self.now_ms(),
        };
        self.accounts.put_account(&a).await.unwrap();
        a
    }

    fn publisher(&self, worker: &str) -> Publisher {
        self.publisher_with(worker, PublisherConfig::default(), false)
    }

    fn publisher_with(&self, worker: &str, config: PublisherConfig, halt: bool) -> Publisher {
        Publisher::builder(
            self.accounts.clone(),
            self.posts.clone(),
            self.clients.clone(),
            self.clock.clone(),
            self.ids.clone(),
        )
        .worker_id(worker)
        .config(config)
        .halt_after_arming(halt)
        .build()
    }

    /// Creates, submits (auto-approved) and schedules one post; returns it.
    async fn scheduled(
        &self,
        p: &Publisher,
        account: &str,
        content: Content,
        at: Option<SystemTime>,
    ) -> PostRecord {
        let created = p
            .create(NewPost {
                content_id: None,
                author: "ana".into(),
                scheduled_at: at,
                variants: vec![Variant {
                    account_id: account.into(),
                    content,
                }],
            })
            .await
            .unwrap();
        let post = p.submit("ana", &created[0].id).await.unwrap();
        if post.state == PostState::Approved {
            return p.schedule("ana", &post.id, self.clock.now()).await.unwrap();
        }
        assert_eq!(post.state, PostState::Scheduled);
        post
    }

    /// Applied requests whose path ends with `suffix`.
    fn applied(&self, method: &str, suffix: &str) -> usize {
        self.sb
            .control()
            .requests()
            .iter()
            .filter(|r| r.method == method && r.path.ends_with(suffix) && r.applied)
            .count()
    }
}

fn auto() -> ApprovalSettings {
    ApprovalSettings {
        auto_approve: true,
        allow_self_approval: false,
    }
}

fn text(s: &str) -> Content {
    Content::FbText { message: s.into() }
}

fn ig_image(caption: &str) -> Content {
    Content::IgImage {
        url: "https://example.com/polera.jpg".into(),
        caption: Some(caption.into()),
    }
}

// ---------------------------------------------------------------------------------

#[tokio::test]
async fn approval_flow_with_audit_and_refusals() {
    let env = Env::start().await;
    let manual = ApprovalSettings {
        auto_approve: false,
        allow_self_approval: false,
    };
    env.account(
        "fb",
        Platform::Facebook,
        0,
        "America/Santiago",
        no_limits(),
        manual,
    )
    .await;
    env.account(
        "ig",
        Platform::Instagram,
        0,
        "America/Santiago",
        no_limits(),
        manual,
    )
    .await;
    env.account("fb-auto", Platform::Facebook, 1, "UTC", no_limits(), auto())
        .await;
    let p = env.publisher("w1");
    let in_2h = env.clock.now() + Duration::from_secs(7200);

    // Bad input is refused and nothing is stored.
    let bad = |variants: Vec<Variant>, at: Option<SystemTime>| NewPost {
        content_id: None,
        author: "ana".into(),
        scheduled_at: at,
        variants,
    };
    let fb = |c: Content| Variant {
        account_id: "fb".into(),
        content: c,
    };
    let e = p
        .create(bad(
            vec![fb(text("x"))],
            Some(env.clock.now() - Duration::from_secs(60)),
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, PublishError::Invalid(i) if i.field() == "scheduled_at"),
        "{e}"
    );
    let e = p
        .create(bad(
            vec![
                fb(text("ok")),
                Variant {
                    account_id: "ig".into(),
                    content: ig_image(&"x".repeat(2201)),
                },
            ],
            None,
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, PublishError::Invalid(i) if i.field() == "caption"),
        "{e}"
    );
    let e = p
        .create(bad(
            vec![Variant {
                account_id: "nope".into(),
                content: text("x"),
            }],
            None,
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(e, PublishError::UnknownAccount(ref a) if a == "nope"),
        "{e}"
    );
    let e = p
        .create(bad(vec![fb(ig_image("wrong platform"))], None))
        .await
        .unwrap_err();
    assert!(matches!(e, PublishError::Invalid(_)), "{e}");
    let e = p
        .create(bad(
            vec![Variant {
                account_id: "ig".into(),
                content: Content::IgCarousel {
                    items: vec![
                        CarouselMedia {
                            url: "https://example.com/1.jpg".into(),
                            video: false
                        };
                        11
                    ],
                    caption: None,
                },
            }],
            None,
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, PublishError::Invalid(i) if i.field() == "items"),
        "{e}"
    );
    assert!(
        p.list(&PostFilter::default()).await.unwrap().is_empty(),
        "nothing stored"
    );

    // One piece of content, two account variants.
    let created = p
        .create(NewPost {
            content_id: Some("launch".into()),
            author: "ana".into(),
            scheduled_at: Some(in_2h),
            variants: vec![
                fb(text("Lanzamiento ¡hoy!")),
                Variant {
                    account_id: "ig".into(),
                    content: ig_image("Lanzamiento #hoy"),
                },
            ],
        })
        .await
        .unwrap();
    assert_eq!(created.len(), 2);
    let group = p
        .list(&PostFilter {
            content_id: Some("launch".into()),
            ..PostFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(group.len(), 2);
    let id = created[0].id.clone();

    // Approving a draft is illegal; the author cannot approve their own post.
    assert!(matches!(
        p.approve("bruno", &id, None).await.unwrap_err(),
        PublishError::Illegal(_)
    ));
    p.submit("ana", &id).await.unwrap();
    assert!(matches!(
        p.approve("ana", &id, None).await.unwrap_err(),
        PublishError::SelfApproval { .. }
    ));
    assert!(matches!(
        p.request_changes("bruno", &id, "  ").await.unwrap_err(),
        PublishError::Invalid(_)
    ));
    let post = p
        .request_changes("bruno", &id, "Falta el precio")
        .await
        .unwrap();
    assert_eq!(post.state, PostState::ChangesRequested);
    p.edit("ana", &id, Some(text("Lanzamiento hoy: $9.990")), None)
        .await
        .unwrap();
    p.submit("ana", &id).await.unwrap();
    let post = p.approve("bruno", &id, Some("ok")).await.unwrap();
    assert_eq!(
        post.state,
        PostState::Scheduled,
        "a timed post is scheduled on approval"
    );
    assert_eq!(post.approver.as_deref(), Some("bruno"));

    let trail = p.audit_trail(&id).await.unwrap();
    let moves: Vec<(Option<PostState>, PostState, &str)> = trail
        .iter()
        .map(|e| (e.from, e.to, e.actor.as_str()))
        .collect();
    use PostState as S;
    assert_eq!(
        moves,
        [
            (None, S::Draft, "ana"),
            (Some(S::Draft), S::PendingApproval, "ana"),
            (Some(S::PendingApproval), S::ChangesRequested, "bruno"),
            (Some(S::ChangesRequested), S::Draft, "ana"),
            (Some(S::Draft), S::PendingApproval, "ana"),
            (Some(S::PendingApproval), S::Approved, "bruno"),
            (Some(S::Approved), S::Scheduled, "bruno"),
        ]
    );
    assert_eq!(trail[2].reason.as_deref(), Some("Falta el precio"));

    // The other variant is rejected.
    p.submit("ana", &created[1].id).await.unwrap();
    let r = p
        .reject("bruno", &created[1].id, "No es nuestra marca")
        .await
        .unwrap();
    assert_eq!(r.state, PostState::Rejected);
    assert!(
        p.edit("ana", &r.id, Some(ig_image("otra")), None)
            .await
            .is_err()
    );

    // Auto-approval.
    let a = p
        .create(NewPost {
            content_id: None,
            author: "ana".into(),
            scheduled_at: Some(in_2h),
            variants: vec![Variant {
                account_id: "fb-auto".into(),
                content: text("auto"),
            }],
        })
        .await
        .unwrap();
    let post = p.submit("ana", &a[0].id).await.unwrap();
    assert_eq!(post.state, PostState::Scheduled);
    assert_eq!(post.approver.as_deref(), Some("auto"));
    let trail = p.audit_trail(&a[0].id).await.unwrap();
    assert_eq!(trail[2].actor, "auto");
    assert_eq!(
        trail[2].reason.as_deref(),
        Some("the account auto-approves")
    );

    // Published posts are protected.
    env.advance(Duration::from_secs(7201));
    let r = p.run_once().await.unwrap();
    assert_eq!(r.published, 2);
    let post = p.post(&id).await.unwrap();
    assert_eq!(post.state, PostState::Published);
    assert!(matches!(
        p.edit("ana", &id, Some(text("late")), None)
            .await
            .unwrap_err(),
        PublishError::Protected { .. }
    ));
    assert!(matches!(
        p.delete("ana", &id).await.unwrap_err(),
        PublishError::Protected { .. }
    ));
    assert_eq!(env.applied("POST", "/feed"), 2);
}

// ---------------------------------------------------------------------------------

fn local_minute(tz: chrono_tz::Tz, ms: i64) -> (String, u32) {
    let t = Utc.timestamp_millis_opt(ms).unwrap().with_timezone(&tz);
    (t.format("%Y-%m-%d").to_string(), t.hour() * 60 + t.minute())
}

#[tokio::test]
async fn a_governed_week_for_several_accounts() {
    let env = Env::start().await;
    let fb_gov = GovernanceSettings {
        daily_cap: 3,
        min_gap_secs: 2 * 3600,
        quiet_start_minute: Some(22 * 60),
        quiet_end_minute: Some(7 * 60),
    };
    let ig_gov = GovernanceSettings {
        daily_cap: 2,
        min_gap_secs: 3600,
        quiet_start_minute: Some(0),
        quiet_end_minute: Some(6 * 60),
    };
    let accounts = [
        env.account(
            "fb-scl",
            Platform::Facebook,
            0,
            "America/Santiago",
            fb_gov,
            auto(),
        )
        .await,
        env.account(
            "fb-tyo",
            Platform::Facebook,
            1,
            "Asia/Tokyo",
            fb_gov,
            auto(),
        )
        .await,
        env.account("ig-utc", Platform::Instagram, 2, "UTC", ig_gov, auto())
            .await,
    ];
    let p = env.publisher("w1");
    // Four posts a day per account for a week, all at "busy" times: more than the caps
    // allow, several inside quiet hours, several closer than the gap.
    let start = env.clock.now();
    let mut expected: HashMap<String, usize> = HashMap::new();
    for a in &accounts {
        for day in 0..7_u64 {
            for (i, offset_min) in [30_u64, 60, 90, 23 * 60].iter().enumerate() {
                let at = start + Duration::from_secs(day * 86_400 + offset_min * 60);
                let content = match a.platform {
                    Platform::Instagram => ig_image(&format!("{} d{day} #{i}", a.id)),
                    _ => text(&format!("{} d{day} #{i}", a.id)),
                };
                env.scheduled(&p, &a.id, content, Some(at)).await;
                *expected.entry(a.id.clone()).or_default() += 1;
            }
        }
    }
    // Run the worker every 10 minutes for 18 days.
    for _ in 0..(18 * 24 * 6) {
        p.run_once().await.unwrap();
        env.advance(Duration::from_secs(600));
    }
    let mut total_fb = 0;
    let mut total_ig = 0;
    for a in &accounts {
        let posts = p
            .list(&PostFilter {
                account_id: Some(a.id.clone()),
                ..PostFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(posts.len(), expected[&a.id]);
        for post in &posts {
            assert_eq!(
                post.state,
                PostState::Published,
                "{} not lost: {post:?}",
                a.id
            );
        }
        let tz: chrono_tz::Tz = a.timezone.parse().unwrap();
        let mut times: Vec<i64> = posts.iter().map(|p| p.published_at.unwrap()).collect();
        times.sort_unstable();
        let mut per_day: BTreeMap<String, u32> = BTreeMap::new();
        for w in times.windows(2) {
            assert!(
                w[1] - w[0] >= i64::try_from(a.governance.min_gap_secs).unwrap() * 1000,
                "{}: gap violated",
                a.id
            );
        }
        for t in &times {
            let (day, minute) = local_minute(tz, *t);
            *per_day.entry(day).or_default() += 1;
            let (qs, qe) = (
                u32::from(a.governance.quiet_start_minute.unwrap()),
                u32::from(a.governance.quiet_end_minute.unwrap()),
            );
            let quiet = if qs < qe {
                minute >= qs && minute < qe
            } else {
                minute >= qs || minute < qe
            };
            assert!(
                !quiet,
                "{}: published in quiet hours at minute {minute}",
                a.id
            );
        }
        for (day, n) in per_day {
            assert!(n <= a.governance.daily_cap, "{}: {n} posts on {day}", a.id);
        }
        // Governance moved posts, with the reason recorded.
        let mut deferred = 0;
        for post in &posts {
            let trail = p.audit_trail(&post.id).await.unwrap();
            deferred += trail.iter().filter(|e| e.actor == "governance").count();
        }
        assert!(deferred > 0, "{}: governance never deferred", a.id);
        match a.platform {
            Platform::Instagram => total_ig += posts.len(),
            _ => total_fb += posts.len(),
        }
    }
    // Exactly one publish call per post.
    assert_eq!(env.applied("POST", "/feed"), total_fb);
    assert_eq!(env.applied("POST", "/media_publish"), total_ig);
}

// ---------------------------------------------------------------------------------

#[tokio::test]
async fn crash_between_armed_and_result_is_reconciled_never_resent() {
    let env = Env::start().await;
    env.account("fb", Platform::Facebook, 0, "UTC", no_limits(), auto())
        .await;
    env.account("ig", Platform::Instagram, 0, "UTC", no_limits(), auto())
        .await;
    let crashing = env.publisher_with("w1", PublisherConfig::default(), true);
    let fb = env.scheduled(&crashing, "fb", text("crash fb"), None).await;
    let ig_sent = env
        .scheduled(&crashing, "ig", ig_image("crash ig sent"), None)
        .await;
    let ig_unsent = env
        .scheduled(&crashing, "ig", ig_image("crash ig unsent"), None)
        .await;
    let r = crashing.run_once().await.unwrap();
    assert_eq!(r.halted, 3, "{r:?}");
    for id in [&fb.id, &ig_sent.id, &ig_unsent.id] {
        let post = env.posts.get_post(id).await.unwrap().unwrap();
        assert_eq!(post.state, PostState::Publishing);
        assert!(post.armed_at.is_some());
    }
    // The worker "died" right after one media_publish went out.
    let sent = env.posts.get_post(&ig_sent.id).await.unwrap().unwrap();
    let ig_user = IgUserId::new(env.sb.fixtures().pages[0].ig_user_id.clone());
    let c = env.clients.clone();
    let account = env.accounts.get_account("ig").await.unwrap().unwrap();
    use meta_graph::publisher::AccountClients;
    let client = c.client_for(&account).await.unwrap();
    client
        .instagram()
        .publish_container(
            &ig_user,
            &IgContainerId::new(sent.container_id.clone().unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(env.applied("POST", "/media_publish"), 1);
    assert_eq!(env.applied("POST", "/feed"), 0);

    // A new instance: while the old lease is live it leaves the posts alone…
    let fresh = env.publisher("w2");
    let r = fresh.reconcile().await.unwrap();
    assert_eq!(r.examined, 0);
    assert_eq!(
        fresh.run_once().await.unwrap().claimed,
        0,
        "armed posts are never claimed"
    );
    // …and once it has expired, settles them without re-sending.
    env.advance(Duration::from_secs(301));
    let r = fresh.reconcile().await.unwrap();
    assert_eq!((r.examined, r.published, r.unconfirmed), (3, 1, 2), "{r:?}");
    let state = |id: String| {
        let posts = env.posts.clone();
        async move { posts.get_post(&id).await.unwrap().unwrap().state }
    };
    assert_eq!(state(ig_sent.id.clone()).await, PostState::Published);
    assert_eq!(state(ig_unsent.id.clone()).await, PostState::Unconfirmed);
    assert_eq!(state(fb.id.clone()).await, PostState::Unconfirmed);
    let fb_post = env.posts.get_post(&fb.id).await.unwrap().unwrap();
    assert!(fb_post.last_error.unwrap().contains("check the Page"));
    // Nothing more is sent, whatever runs.
    for _ in 0..3 {
        fresh.run_once().await.unwrap();
        fresh.reconcile().await.unwrap();
        env.advance(Duration::from_secs(600));
    }
    assert_eq!(
        env.applied("POST", "/media_publish"),
        1,
        "one publish call per post"
    );
    assert_eq!(env.applied("POST", "/feed"), 0);
    // A person settles the unconfirmed ones.
    let p = fresh.resolve("bruno", &fb.id, false, None).await.unwrap();
    assert_eq!(p.state, PostState::Failed);
    let attempts = fresh.attempts(&ig_unsent.id).await.unwrap();
    assert_eq!(
        attempts.last().unwrap().outcome,
        AttemptOutcome::Unconfirmed
    );
}

// ---------------------------------------------------------------------------------

#[tokio::test]
async fn transient_failures_retry_with_backoff() {
    let env = Env::start().await;
    env.account("fb", Platform::Facebook, 0, "UTC", no_limits(), auto())
        .await;
    env.account("ig", Platform::Instagram, 0, "UTC", no_limits(), auto())
        .await;
    let p = env.publisher("w1");
    // IG: container creation fails with a 500 (before anything irreversible).
    env.sb.control().inject(
        FaultRule::new(Fault::Http(500))
            .method("POST")
            .path_contains("/media")
            .times(1),
    );
    // FB: Meta answers a throttle on the feed call: nothing was applied.
    env.sb.control().inject(
        FaultRule::new(Fault::GraphError {
            status: 400,
            code: 613,
            subcode: None,
            transient: Some(true),
            message: "Calls to this api have exceeded the rate limit.".into(),
        })
        .method("POST")
        .path_contains("/feed")
        .times(1),
    );
    let ig = env.scheduled(&p, "ig", ig_image("retry"), None).await;
    let fb = env.scheduled(&p, "fb", text("retry"), None).await;
    let r = p.run_once().await.unwrap();
    assert_eq!(r.retried, 2, "{r:?}");
    for id in [&ig.id, &fb.id] {
        let post = env.posts.get_post(id).await.unwrap().unwrap();
        assert_eq!(post.state, PostState::Scheduled);
        assert!(post.next_attempt_at.unwrap() > env.now_ms());
        assert!(post.last_error.is_some());
    }
    // Not before the backoff.
    assert_eq!(p.run_once().await.unwrap().claimed, 0);
    env.advance(Duration::from_secs(3600));
    let r = p.run_once().await.unwrap();
    assert_eq!(r.published, 2, "{r:?}");
    assert_eq!(env.applied("POST", "/feed"), 1);
    assert_eq!(env.applied("POST", "/media_publish"), 1);
    let attempts = p.attempts(&fb.id).await.unwrap();
    let outcomes: Vec<AttemptOutcome> = attempts.iter().map(|a| a.outcome).collect();
    assert_eq!(
        outcomes,
        [AttemptOutcome::Transient, AttemptOutcome::Published]
    );
    assert_eq!(attempts[0].code, Some(613));
}

#[tokio::test]
async fn permanent_failure_ends_failed_with_metas_message() {
    let env = Env::start().await;
    env.account("fb", Platform::Facebook, 0, "UTC", no_limits(), auto())
        .await;
    let p = env.publisher("w1");
    env.sb.control().inject(
        FaultRule::new(Fault::GraphError {
            status: 400,
            code: 100,
            subcode: Some(1_487_124),
            transient: None,
            message: "(#100) The message contains a blocked link".into(),
        })
        .method("POST")
        .path_contains("/feed")
        .times(1),
    );
    let post = env.scheduled(&p, "fb", text("bad link"), None).await;
    let r = p.run_once().await.unwrap();
    assert_eq!(r.failed, 1, "{r:?}");
    let post = env.posts.get_post(&post.id).await.unwrap().unwrap();
    assert_eq!(post.state, PostState::Failed);
    let err = post.last_error.unwrap();
    assert!(
        err.contains("blocked link") && err.contains("100/1487124"),
        "{err}"
    );
    let attempts = p.attempts(&post.id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].outcome, AttemptOutcome::Failed);
    assert_eq!(
        (attempts[0].code, attempts[0].subcode),
        (Some(100), Some(1_487_124))
    );
    // Never retried on its own.
    env.advance(Duration::from_secs(86_400));
    assert_eq!(p.run_once().await.unwrap().claimed, 0);
    assert_eq!(env.applied("POST", "/feed"), 0);
}

#[tokio::test]
async fn an_unclear_feed_call_is_unconfirmed_not_resent() {
    let env = Env::start().await;
    env.account("fb", Platform::Facebook, 0, "UTC", no_limits(), auto())
        .await;
    let p = env.publisher("w1");
    env.sb.control().inject(
        FaultRule::new(Fault::DropAfterApply)
            .method("POST")
            .path_contains("/feed")
            .times(1),
    );
    let post = env.scheduled(&p, "fb", text("lost answer"), None).await;
    let r = p.run_once().await.unwrap();
    assert_eq!(r.unconfirmed, 1, "{r:?}");
    assert_eq!(
        env.posts.get_post(&post.id).await.unwrap().unwrap().state,
        PostState::Unconfirmed
    );
    env.advance(Duration::from_secs(86_400));
    p.run_once().await.unwrap();
    p.reconcile().await.unwrap();
    assert_eq!(
        env.applied("POST", "/feed"),
        1,
        "applied once, never re-sent"
    );
}

#[tokio::test]
async fn kill_switches_defer_and_never_drop() {
    let env = Env::start().await;
    env.account("fb", Platform::Facebook, 0, "UTC", no_limits(), auto())
        .await;
    let p = env.publisher("w1");
    let post = env.scheduled(&p, "fb", text("held"), None).await;
    env.accounts
        .set_tenant_kill_switch("t1", true)
        .await
        .unwrap();
    let r = p.run_once().await.unwrap();
    assert_eq!(r.deferred, 1);
    let held = env.posts.get_post(&post.id).await.unwrap().unwrap();
    assert_eq!(held.state, PostState::Scheduled);
    assert_eq!(
        held.blocked_reason.as_deref(),
        Some("tenant kill switch on")
    );
    assert!(held.not_before.unwrap() > env.now_ms());
    let trail = p.audit_trail(&post.id).await.unwrap();
    let last = trail.last().unwrap();
    assert_eq!(last.actor, "governance");
    assert_eq!(last.reason.as_deref(), Some("tenant kill switch on"));
    // The account switch holds it too after the tenant's is off.
    env.accounts
        .set_tenant_kill_switch("t1", false)
        .await
        .unwrap();
    env.accounts
        .set_account_kill_switch("fb", true)
        .await
        .unwrap();
    env.advance(Duration::from_secs(16 * 60));
    assert_eq!(p.run_once().await.unwrap().deferred, 1);
    assert_eq!(
        env.posts
            .get_post(&post.id)
            .await
            .unwrap()
            .unwrap()
            .blocked_reason
            .as_deref(),
        Some("account kill switch on")
    );
    let attempts = p.attempts(&post.id).await.unwrap();
    assert_eq!(attempts.len(), 2, "one blocked attempt per reason");
    assert!(
        attempts
            .iter()
            .all(|a| a.outcome == AttemptOutcome::Blocked)
    );
    env.accounts
        .set_account_kill_switch("fb", false)
        .await
        .unwrap();
    env.advance(Duration::from_secs(16 * 60));
    assert_eq!(p.run_once().await.unwrap().published, 1);
    assert_eq!(env.applied("POST", "/feed"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_publishers_on_one_store_never_duplicate() {
    const POSTS: usize = 1000;
    let env = Env::with(SandboxConfig::default().posts_per_page(1).pages(4)).await;
    for page in 0..4 {
        env.account(
            &format!("fb{page}"),
            Platform::Facebook,
            page,
            "UTC",
            no_limits(),
            auto(),
        )
        .await;
    }
    let config = PublisherConfig {
        batch: 25,
        ..PublisherConfig::default()
    };
    let a = env.publisher_with("w-a", config.clone(), false);
    let b = env.publisher_with("w-b", config, false);
    for i in 0..POSTS {
        env.scheduled(
            &a,
            &format!("fb{}", i % 4),
            text(&format!("post {i:04}")),
            None,
        )
        .await;
    }
    let run = |p: Publisher| {
        tokio::spawn(async move {
            let mut published = 0;
            let mut idle = 0;
            while idle < 3 {
                let r = p.run_once().await.unwrap();
                published += r.published;
                if r.claimed == 0 {
                    idle += 1;
                    tokio::task::yield_now().await;
                } else {
                    idle = 0;
                }
            }
            published
        })
    };
    let (ra, rb) = tokio::join!(run(a.clone()), run(b.clone()));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra + rb, POSTS, "a={ra} b={rb}");
    assert!(ra > 0 && rb > 0, "both workers took part: a={ra} b={rb}");
    let posts = a.list(&PostFilter::default()).await.unwrap();
    assert_eq!(posts.len(), POSTS);
    let mut ids = HashSet::new();
    for p in &posts {
        assert_eq!(p.state, PostState::Published);
        assert!(ids.insert(p.published_id.clone().unwrap()), "duplicate id");
    }
    // The sandbox saw exactly one applied feed call per post.
    assert_eq!(env.applied("POST", "/feed"), POSTS);
    assert_eq!(env.sb.control().count("POST", "/feed"), POSTS);
}

#[tokio::test]
async fn best_times_rank_the_accounts_own_posts_with_evidence() {
    let env = Env::start().await;
    env.account("fb", Platform::Facebook, 0, "UTC", no_limits(), auto())
        .await;
    let p = env.publisher("w1");
    for i in 0..4 {
        env.scheduled(&p, "fb", text(&format!("hour {i}")), None)
            .await;
        p.run_once().await.unwrap();
        env.advance(Duration::from_secs(5 * 3600));
    }
    let ranked = p.best_times("fb", None).await.unwrap();
    assert_eq!(ranked.len(), 168);
    let with_posts: Vec<_> = ranked.iter().filter(|s| s.posts > 0).collect();
    let counted: u32 = with_posts.iter().map(|s| s.posts).sum();
    assert_eq!(
        counted, 4,
        "every published post is evidence: {with_posts:?}"
    );
    // Slots with evidence rank above slots without, and carry their mean.
    assert!(ranked[0].posts > 0 && ranked[0].mean_metric.is_some());
    assert!((ranked[0].score - 1.0).abs() < 1e-9);
    let first_empty = ranked.iter().position(|s| s.posts == 0).unwrap();
    assert!(ranked[..first_empty].iter().all(|s| s.posts > 0));
    assert!(matches!(
        p.best_times("nope", None).await.unwrap_err(),
        PublishError::UnknownAccount(_)
    ));
}
