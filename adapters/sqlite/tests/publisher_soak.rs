//! A soak of the publisher on SQLite under injected sandbox faults: 300 posts over 20
//! accounts (10 Pages and their Instagram accounts), two workers on one database file,
//! with random transient Graph errors, bare 5xx pages, dropped connections and
//! throttle bursts on every request, plus deterministic rules for what randomness
//! rarely hits: answers lost after the post was applied (`DropAfterApply`) on the two
//! irreversible calls, a permanent refusal, a rate-limit answer (nothing applied) and
//! a business-use-case throttle that blocks a Page for a while.
//!
//! Governance is tight (4 posts a local day, 90 minutes apart, quiet 22:00–07:00, in
//! eight time zones) and the plan ignores it on purpose, so most posts are moved.
//!
//! Afterwards, from outside the publisher:
//! - **nothing lost**: every post is `Published`, `Failed` with Meta's permanent
//!   reason, or `Unconfirmed` after an unclear answer to its publish call;
//! - **no duplicates**: every Page feed and Instagram media list is read back and each
//!   post's unique marker counted: `Published` = exactly 1 copy, `Failed` = 0,
//!   `Unconfirmed` ≤ 1; the copies add up to the applied publish calls in the sandbox
//!   log, and every `Unconfirmed` is matched by an unclear answer to a publish call in
//!   that log (applied-then-dropped when its copy exists);
//! - **no governance violation**: each account's publish times re-checked here with
//!   chrono-tz against its cap (local days), gap and quiet hours.
//!
//! Bounded: 300 posts, at most 21 simulated days in 10-minute rounds; nothing sleeps
//! (waiting moves the simulated clock).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use chrono::{TimeZone, Timelike};
use chrono_tz::Tz;
use meta_core::clock::{Clock, Sleep};
use meta_core::{Client, GraphRequest, RetryConfig};
use meta_graph::publisher::store::{ApprovalSettings, GovernanceSettings};
use meta_graph::publisher::{
    Account, AccountStore, AttemptOutcome, CarouselMedia, Content, FixedClients, NewPost, Platform,
    PostFilter, PostState, Publisher, PublisherConfig, PublisherStore, Tenant, Variant,
};
use meta_graph::store::{UuidV7Ids, from_ms, to_ms};
use meta_sandbox::{
    Fault, FaultConfig, FaultRule, Sandbox, SandboxConfig, SandboxControl, ThrottleBurst,
};

const PAGES: usize = 10;
const POSTS: usize = 300;
const ROUND: Duration = Duration::from_secs(600);
const MAX_ROUNDS: usize = 21 * 144;

/// Real time plus an offset; advancing moves the sandbox's clock by the same amount,
/// so the publisher, the client and the sandbox agree on "now". Sleeping (container
/// polling, client backoff) advances instead of waiting.
#[derive(Debug)]
struct LinkedClock {
    control: SandboxControl,
    origin: Instant,
    offset_ns: AtomicU64,
}

impl LinkedClock {
    fn advance(&self, by: Duration) {
        self.offset_ns
            .fetch_add(u64::try_from(by.as_nanos()).unwrap(), Ordering::SeqCst);
        self.control.advance_clock(by);
    }
    fn offset(&self) -> Duration {
        Duration::from_nanos(self.offset_ns.load(Ordering::SeqCst))
    }
}

impl Clock for LinkedClock {
    fn now(&self) -> SystemTime {
        SystemTime::now() + self.offset()
    }
    fn elapsed(&self) -> Duration {
        self.origin.elapsed() + self.offset()
    }
    fn sleep(&self, duration: Duration) -> Sleep<'_> {
        self.advance(duration);
        Box::pin(tokio::task::yield_now())
    }
}

const ZONES: &[&str] = &[
    "UTC",
    "America/Santiago",
    "America/New_York",
    "Europe/Madrid",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Pacific/Auckland",
];

fn marker(i: usize) -> String {
    format!("[soak:{i:04}]")
}

fn parse_marker(text: &str) -> Option<usize> {
    let start = text.find("[soak:")? + "[soak:".len();
    let rest = &text[start..];
    rest[..rest.find(']')?].parse().ok()
}

fn content(platform: Platform, i: usize) -> Content {
    let text = format!("Lanzamiento {} — stock limitado", marker(i));
    // No post number in media URLs: the sandbox fails any media path containing "404".
    let img = |n: usize| format!("https://cdn.example.com/soak/look-{}.jpg", (i + n) % 26);
    match (platform, i % 4) {
        (Platform::Instagram, 0 | 1) => Content::IgImage {
            url: img(0),
            caption: Some(text),
        },
        (Platform::Instagram, 2) => Content::IgCarousel {
            items: (0..3)
                .map(|n| CarouselMedia {
                    url: img(n),
                    video: n == 2,
                })
                .collect(),
            caption: Some(text),
        },
        (Platform::Instagram, _) => Content::IgReel {
            url: "https://cdn.example.com/soak/reel.mp4".into(),
            caption: Some(text),
            share_to_feed: true,
        },
        (_, 0) => Content::FbText { message: text },
        (_, 1) => Content::FbLink {
            link: format!("https://shop.example.com/p/{i}"),
            message: Some(text),
        },
        (_, 2) => Content::FbPhoto {
            url: img(0),
            message: Some(text),
        },
        _ => Content::FbMultiPhoto {
            urls: (0..2).map(img).collect(),
            message: Some(text),
        },
    }
}

/// Copies of each marker on the sandbox (feeds and Instagram media, read back).
async fn read_back(base: &Client, sb: &Sandbox) -> HashMap<usize, usize> {
    let mut copies: HashMap<usize, usize> = HashMap::new();
    for page in &sb.fixtures().pages {
        let client = base.with_access_token(page.access_token.clone().into());
        for (path, field) in [
            (format!("{}/feed", page.id), "message"),
            (format!("{}/media", page.ig_user_id), "caption"),
        ] {
            let items: Vec<serde_json::Value> = client
                .paginate_request(GraphRequest::get(path).fields([field]).param("limit", 100))
                .collect_all()
                .await
                .unwrap();
            for item in items {
                if let Some(i) = item
                    .get(field)
                    .and_then(|m| m.as_str())
                    .and_then(parse_marker)
                {
                    *copies.entry(i).or_default() += 1;
                }
            }
        }
    }
    copies
}

/// Every rule the account's publish times break, re-checked in its time zone.
fn violations(account: &Account, times: &mut [i64]) -> Vec<String> {
    let tz: Tz = account.timezone.parse().unwrap();
    let g = &account.governance;
    let mut out = Vec::new();
    times.sort_unstable();
    let gap = i64::try_from(g.min_gap_secs).unwrap() * 1000;
    for w in times.windows(2) {
        if w[1] - w[0] < gap {
            out.push(format!("{}: {} ms apart", account.id, w[1] - w[0]));
        }
    }
    let mut per_day: HashMap<chrono::NaiveDate, u32> = HashMap::new();
    let (qs, qe) = (
        u32::from(g.quiet_start_minute.unwrap()),
        u32::from(g.quiet_end_minute.unwrap()),
    );
    for &t in times.iter() {
        let local = tz.timestamp_millis_opt(t).single().unwrap();
        *per_day.entry(local.date_naive()).or_default() += 1;
        let m = local.hour() * 60 + local.minute();
        if m >= qs || m < qe {
            out.push(format!(
                "{}: published in quiet hours at {local}",
                account.id
            ));
        }
    }
    for (day, n) in per_day {
        if n > g.daily_cap {
            out.push(format!("{}: {n} posts on {day}", account.id));
        }
    }
    out
}

fn is_publish_call(method: &str, path: &str) -> bool {
    method == "POST" && (path.ends_with("/feed") || path.ends_with("/media_publish"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publisher_soak_under_faults_loses_and_duplicates_nothing() {
    let started = Instant::now();
    let faults = FaultConfig::default()
        .error_rate(0.03)
        .http_5xx_rate(0.02)
        .drop_rate(0.02)
        .throttle_burst(Some(ThrottleBurst {
            every: 97,
            length: 2,
        }));
    let sb = Sandbox::start_with(
        SandboxConfig::default()
            .seed(2024)
            .pages(PAGES)
            .posts_per_page(0)
            .live_comments(0)
            .faults(faults),
    )
    .await
    .unwrap();
    let control = sb.control();
    let clock = Arc::new(LinkedClock {
        control: control.clone(),
        origin: Instant::now(),
        offset_ns: AtomicU64::new(0),
    });
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    // The client's own retries stay on (standard policy): they are part of the stack.
    let base = Client::builder()
        .base_url(sb.base_url().to_owned())
        .clock(dyn_clock.clone())
        .retry(RetryConfig::standard())
        .build()
        .unwrap();
    let mut clients = FixedClients::new();
    for (i, page) in sb.fixtures().pages.iter().enumerate() {
        clients = clients.with(
            format!("page-{i}"),
            base.with_access_token(page.access_token.clone().into()),
        );
    }
    let clients = Arc::new(clients);

    let (_dir, store) = common::file_store("soak").await;
    let accounts_store: Arc<dyn AccountStore> = Arc::new(store.clone());
    let posts_store: Arc<dyn PublisherStore> = Arc::new(store.clone());
    let ids = Arc::new(UuidV7Ids::new(dyn_clock.clone()));

    let now = to_ms(clock.now());
    for t in 0..2 {
        accounts_store
            .put_tenant(&Tenant {
                id: format!("t{t}"),
                name: format!("Tienda {t}"),
                kill_switch: false,
                created_at: now,
            })
            .await
            .unwrap();
    }
    let governance = GovernanceSettings {
        daily_cap: 4,
        min_gap_secs: 90 * 60,
        quiet_start_minute: Some(22 * 60),
        quiet_end_minute: Some(7 * 60),
    };
    let mut accounts = Vec::new();
    for (i, page) in sb.fixtures().pages.iter().enumerate() {
        for platform in [Platform::Facebook, Platform::Instagram] {
            let n = accounts.len();
            let (id, meta_id) = match platform {
                Platform::Instagram => (format!("ig-{i}"), page.ig_user_id.clone()),
                _ => (format!("fb-{i}"), page.id.clone()),
            };
            let a = Account {
                id,
                tenant_id: format!("t{}", n % 2),
                platform,
                meta_id,
                name: page.name.clone(),
                connection_id: format!("page-{i}"),
                timezone: ZONES[n % ZONES.len()].to_owned(),
                governance,
                approval: ApprovalSettings {
                    auto_approve: true,
                    allow_self_approval: false,
                },
                kill_switch: false,
                created_at: now,
            };
            accounts_store.put_account(&a).await.unwrap();
            accounts.push(a);
        }
    }

    let config = PublisherConfig {
        batch: 8,
        // Random faults can hit one post many times in a row; giving up is not what
        // this soak is about (a give-up would show as a non-permanent Failed below).
        max_attempts: 25,
        backoff_base: Duration::from_secs(60),
        backoff_max: Duration::from_secs(1800),
        maintenance_every: 6,
        ..PublisherConfig::default()
    };
    let worker = |name: &str| {
        Publisher::builder(
            accounts_store.clone(),
            posts_store.clone(),
            clients.clone(),
            dyn_clock.clone(),
            ids.clone(),
        )
        .worker_id(name)
        .config(config.clone())
        .build()
    };
    let (a, b) = (worker("soak-a"), worker("soak-b"));

    // The plan ignores governance: bursts, quiet hours, more than the cap per day.
    // Scheduling goes through the real API; faults do not touch the store.
    let mut rng = fastrand::Rng::with_seed(99);
    let mut plan: HashMap<String, usize> = HashMap::new();
    for i in 0..POSTS {
        let account = &accounts[i % accounts.len()];
        let at = now + 60_000 + i64::from(rng.u32(0..3 * 86_400)) * 1000;
        let created = a
            .create(NewPost {
                content_id: None,
                author: "ana".into(),
                scheduled_at: Some(from_ms(at)),
                variants: vec![Variant {
                    account_id: account.id.clone(),
                    content: content(account.platform, i),
                }],
            })
            .await
            .unwrap();
        let post = a.submit("ana", &created[0].id).await.unwrap();
        assert_eq!(post.state, PostState::Scheduled);
        plan.insert(post.id, i);
    }

    let mut rounds = 0;
    loop {
        // Deterministic faults, spread over the run.
        match rounds {
            6 | 90 | 300 => {
                for path in ["/feed", "/media_publish"] {
                    control.inject(
                        FaultRule::new(Fault::DropAfterApply)
                            .method("POST")
                            .path_contains(path),
                    );
                }
            }
            30 => control.inject(
                FaultRule::new(Fault::GraphError {
                    status: 400,
                    code: 100,
                    subcode: Some(1_487_124),
                    transient: None,
                    message: "(#100) The message contains a blocked link".into(),
                })
                .method("POST")
                .path_contains("/feed"),
            ),
            60 => control.inject(
                FaultRule::new(Fault::GraphError {
                    status: 400,
                    code: 613,
                    subcode: None,
                    transient: Some(true),
                    message: "Calls to this api have exceeded the rate limit.".into(),
                })
                .method("POST")
                .path_contains("/feed")
                .times(3),
            ),
            120 => control.inject(
                FaultRule::new(Fault::BucThrottle { minutes: 45 })
                    .method("POST")
                    .path_contains("/feed"),
            ),
            _ => {}
        }
        // Both workers drain what is due, concurrently.
        let drain = |p: Publisher| async move {
            loop {
                if p.run_once().await.unwrap().claimed == 0 {
                    break;
                }
            }
        };
        tokio::join!(drain(a.clone()), drain(b.clone()));
        if rounds % 6 == 0 {
            // A restarted or slow worker's armed posts are settled, never re-sent.
            a.reconcile().await.unwrap();
        }
        let open = posts_store
            .list_posts(&PostFilter {
                states: vec![
                    PostState::Scheduled,
                    PostState::Preparing,
                    PostState::Ready,
                    PostState::Publishing,
                ],
                ..PostFilter::default()
            })
            .await
            .unwrap();
        rounds += 1;
        if open.is_empty() || rounds >= MAX_ROUNDS {
            break;
        }
        clock.advance(ROUND);
    }

    // Verification, with the faults off.
    control.set_faults(FaultConfig::default());
    let posts = posts_store
        .list_posts(&PostFilter::default())
        .await
        .unwrap();
    assert_eq!(posts.len(), POSTS, "every post is still there");
    let copies = read_back(&base, &sb).await;
    let log = control.requests();
    let applied: usize = log
        .iter()
        .filter(|r| r.applied && is_publish_call(&r.method, &r.path))
        .count();
    // Publish calls whose answer was unclear: dropped (status None) or a 5xx.
    let unclear_applied = log
        .iter()
        .filter(|r| is_publish_call(&r.method, &r.path) && r.applied && r.status.is_none())
        .count();
    let unclear_total = log
        .iter()
        .filter(|r| is_publish_call(&r.method, &r.path) && r.status.is_none_or(|s| s >= 500))
        .count();

    let mut by_state: HashMap<PostState, usize> = HashMap::new();
    let mut unconfirmed_with_copy = 0;
    let mut by_account: HashMap<String, Vec<i64>> = HashMap::new();
    let mut governance_moves = 0;
    for post in &posts {
        let i = plan[&post.id];
        let n = copies.get(&i).copied().unwrap_or(0);
        *by_state.entry(post.state).or_default() += 1;
        match post.state {
            PostState::Published => assert_eq!(n, 1, "published once: {post:?}"),
            PostState::Failed => {
                assert_eq!(n, 0, "a failed post is not on Meta: {post:?}");
                let why = post.last_error.as_deref().unwrap_or_default();
                assert!(
                    !why.is_empty() && !why.starts_with("gave up"),
                    "failed for a permanent reason, with Meta's message: {why}"
                );
            }
            PostState::Unconfirmed => {
                assert!(
                    n <= 1,
                    "an unconfirmed post went out at most once: {post:?}"
                );
                unconfirmed_with_copy += n;
                let attempts = a.attempts(&post.id).await.unwrap();
                assert_eq!(
                    attempts.last().map(|x| x.outcome),
                    Some(AttemptOutcome::Unconfirmed),
                    "{post:?}"
                );
            }
            other => panic!("post lost in state {other}: {post:?}"),
        }
        if post.state.counts_for_governance() {
            by_account
                .entry(post.account_id.clone())
                .or_default()
                .push(post.activity_at().unwrap());
        }
        governance_moves += a
            .audit_trail(&post.id)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.actor == meta_graph::publisher::GOVERNANCE_ACTOR)
            .count();
    }
    let found: usize = copies.values().sum();
    assert_eq!(
        found, applied,
        "every applied publish call in the log is exactly one post's one copy"
    );
    let unconfirmed = by_state.get(&PostState::Unconfirmed).copied().unwrap_or(0);
    assert!(
        unconfirmed <= unclear_total,
        "each unconfirmed post had an unclear answer to its publish call \
         ({unconfirmed} unconfirmed, {unclear_total} unclear answers)"
    );
    assert!(
        unconfirmed_with_copy <= unclear_applied,
        "each unconfirmed post that went out is an applied-then-dropped call \
         ({unconfirmed_with_copy} vs {unclear_applied})"
    );
    let mut all_violations = Vec::new();
    for account in &accounts {
        let mut times = by_account.remove(&account.id).unwrap_or_default();
        all_violations.extend(violations(account, &mut times));
    }
    assert!(
        all_violations.is_empty(),
        "governance violations: {all_violations:#?}"
    );

    // The soak exercised what it claims to.
    let published = by_state.get(&PostState::Published).copied().unwrap_or(0);
    let failed = by_state.get(&PostState::Failed).copied().unwrap_or(0);
    assert!(published >= POSTS * 9 / 10, "{by_state:?}");
    assert!(failed >= 1, "the permanent refusal ended a post Failed");
    assert!(unclear_applied >= 1, "an applied publish lost its answer");
    assert!(governance_moves > POSTS / 2, "governance moved posts");
    let faulted = log
        .iter()
        .filter(|r| r.status.is_none_or(|s| s >= 500))
        .count();
    assert!(faulted > 20, "random faults fired: {faulted}");
    println!(
        "soak: {POSTS} posts, {} accounts, {rounds} rounds, {} requests ({faulted} faulted) · \
         published {published} failed {failed} unconfirmed {unconfirmed} ({unconfirmed_with_copy} went out) · \
         {governance_moves} governance moves · duplicates 0 · violations 0 · lost 0 · {:.1} s",
        accounts.len(),
        log.len(),
        started.elapsed().as_secs_f64()
    );
    sb.shutdown().await;
}
