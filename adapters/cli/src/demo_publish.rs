//! The publishing step of `meta demo`: a week of content for several accounts,
//! authored, approved (one piece rejected, one sent back for changes), scheduled and
//! published by the durable worker on an embedded SQLite file through the sandbox —
//! with a clock linked to the sandbox's, so a simulated week passes in about a second.
//!
//! It prints, per account, what was published and what governance deferred (and why),
//! checks every published post against its account's rules, and proves from the
//! sandbox's request log that no post went out twice.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};
use chrono::{Datelike, Timelike};
use meta_core::clock::{Clock, ManualClock, Sleep};
use meta_core::{Client, RetryConfig};
use meta_graph::lifecycle::{ConnectionId, ConnectionKind, LifecycleManager};
use meta_graph::oauth::{OAuth, Token};
use meta_graph::publisher::governance::parse_tz;
use meta_graph::publisher::store::{ApprovalSettings, GovernanceSettings, PostFilter};
use meta_graph::publisher::{
    Account, AccountStore, CarouselMedia, Content, GOVERNANCE_ACTOR, NewPost, Platform, PostKind,
    PostRecord, PostState, Publisher, PublisherConfig, PublisherStore, Tenant, Variant,
};
use meta_graph::store::{UuidV7Ids, to_ms};
use meta_sandbox::{Sandbox, SandboxConfig, SandboxControl};
use meta_store_sqlite::SqliteStore;
use secrecy::SecretString;

use crate::store_cfg::{hhmm, short_duration};

/// Wall time is real time plus what the demo has slept; sleeping moves the sandbox's
/// clock by the same amount and returns at once, so both sides agree on "now" while a
/// week goes by in seconds.
#[derive(Debug)]
struct LinkedClock {
    slept: ManualClock,
    sandbox: SandboxControl,
}

impl Clock for LinkedClock {
    fn now(&self) -> SystemTime {
        SystemTime::now() + self.slept.elapsed()
    }
    fn elapsed(&self) -> Duration {
        self.slept.elapsed()
    }
    fn sleep(&self, duration: Duration) -> Sleep<'_> {
        self.sandbox.advance_clock(duration);
        self.slept.sleep(duration)
    }
}

/// A temporary database file, removed (with its WAL files) on drop.
struct TempDb(PathBuf);

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.0.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(p));
        }
    }
}

/// One demo account.
struct Spec {
    id: &'static str,
    name: &'static str,
    platform: Platform,
    page: usize,
    tz: &'static str,
    cap: u32,
    gap_h: u64,
    quiet: Option<(u16, u16)>,
    auto: bool,
}

const ACCOUNTS: &[Spec] = &[
    Spec {
        id: "fb-santiago",
        name: "Café Andino (Santiago)",
        platform: Platform::Facebook,
        page: 0,
        tz: "America/Santiago",
        cap: 3,
        gap_h: 2,
        quiet: Some((22 * 60, 8 * 60)),
        auto: false,
    },
    Spec {
        id: "fb-tokyo",
        name: "Café Andino (Tokyo)",
        platform: Platform::Facebook,
        page: 1,
        tz: "Asia/Tokyo",
        cap: 2,
        gap_h: 3,
        quiet: Some((23 * 60, 7 * 60)),
        auto: false,
    },
    Spec {
        id: "ig-madrid",
        name: "@cafeandino (Madrid)",
        platform: Platform::Instagram,
        page: 0,
        tz: "Europe/Madrid",
        cap: 2,
        gap_h: 4,
        quiet: Some((0, 7 * 60)),
        auto: false,
    },
    Spec {
        id: "fb-london",
        name: "Café Andino (London)",
        platform: Platform::Facebook,
        page: 2,
        tz: "Europe/London",
        cap: 4,
        gap_h: 1,
        quiet: None,
        auto: true,
    },
];

/// What the step found; the demo fails unless every check holds.
pub(crate) struct Outcome {
    pub(crate) ok: bool,
}

fn content_for(platform: Platform, day: u64, slot: usize, text: &str) -> Content {
    let img = |n: &str| format!("https://cdn.example.com/cafe/{n}-d{day}.jpg");
    match (platform, slot) {
        (Platform::Instagram, 1) => Content::IgCarousel {
            items: (0..3)
                .map(|i| CarouselMedia {
                    url: img(&format!("lunch-{i}")),
                    video: false,
                })
                .collect(),
            caption: Some(format!("{text} #cafe #andino")),
        },
        (Platform::Instagram, _) => Content::IgImage {
            url: img(&format!("slot{slot}")),
            caption: Some(format!("{text} #cafe")),
        },
        (_, 0) => Content::FbText {
            message: text.to_owned(),
        },
        (_, 1) => Content::FbPhoto {
            url: img("lunch"),
            message: Some(text.to_owned()),
        },
        _ => Content::FbLink {
            link: format!("https://cafe.example.com/menu/day-{day}"),
            message: Some(text.to_owned()),
        },
    }
}

fn reason_class(reason: &str) -> &'static str {
    if reason.contains("quiet") {
        "quiet hours"
    } else if reason.contains("daily cap") {
        "daily cap"
    } else if reason.contains("gap") || reason.contains("another post") {
        "minimum gap"
    } else if reason.contains("quota") {
        "IG quota"
    } else if reason.contains("kill switch") {
        "kill switch"
    } else if reason.contains("rate") {
        "rate limit"
    } else {
        "other"
    }
}

/// Counts rule breaks among an account's published posts: gaps shorter than the
/// minimum, local days over the cap, posts inside quiet hours.
fn violations(a: &Account, published: &[i64]) -> usize {
    let Ok(tz) = parse_tz(&a.timezone) else {
        return published.len();
    };
    let g = &a.governance;
    let mut times = published.to_vec();
    times.sort_unstable();
    let gap_ms = i64::try_from(g.min_gap_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let mut bad = times.windows(2).filter(|w| w[1] - w[0] < gap_ms).count();
    let mut per_day: BTreeMap<(i32, u32), u32> = BTreeMap::new();
    for t in &times {
        let Some(local) = chrono::DateTime::from_timestamp_millis(*t).map(|u| u.with_timezone(&tz))
        else {
            bad += 1;
            continue;
        };
        *per_day.entry((local.year(), local.ordinal())).or_default() += 1;
        if let (Some(s), Some(e)) = (g.quiet_start_minute, g.quiet_end_minute) {
            let m = u16::try_from(local.hour() * 60 + local.minute()).unwrap_or(0);
            let quiet = if s < e {
                m >= s && m < e
            } else {
                m >= s || m < e
            };
            bad += usize::from(quiet);
        }
    }
    if g.daily_cap > 0 {
        bad += per_day.values().filter(|n| **n > g.daily_cap).count();
    }
    bad
}

/// Runs the publishing step.
pub(crate) async fn run(seed: u64) -> Result<Outcome> {
    let sandbox = Sandbox::start_with(SandboxConfig::default().seed(seed))
        .await
        .context("starting the publishing sandbox")?;
    let fx = sandbox.fixtures().clone();
    let control = sandbox.control();
    let clock = Arc::new(LinkedClock {
        slept: ManualClock::default(),
        sandbox: control.clone(),
    });
    // Start the week at the next UTC midnight, so what governance does is the same
    // whatever the time of day the demo runs.
    let now_s = clock.unix_secs();
    clock
        .sleep(Duration::from_secs(86_400 - now_s % 86_400))
        .await;
    let week_start = clock.now();

    let path = std::env::temp_dir().join(format!(
        "meta-demo-{}-{}.db",
        std::process::id(),
        to_ms(SystemTime::now())
    ));
    let _cleanup = TempDb(path.clone());
    let store = Arc::new(
        SqliteStore::open(&path)
            .await
            .context("opening the demo SQLite store")?,
    );
    let accounts: Arc<dyn AccountStore> = store.clone();
    let posts: Arc<dyn PublisherStore> = store.clone();

    // Tokens sealed by the lifecycle manager in the same file.
    let key = meta_core::cipher::Key::generate()?;
    let cipher = meta_core::cipher::TokenCipher::new(meta_core::cipher::KeyId::new("demo")?, key);
    let base = Client::builder()
        .base_url(sandbox.base_url().to_owned())
        .app_id(fx.app_id.clone())
        .app_secret(fx.app_secret.clone())
        .clock(clock.clone())
        .retry(
            RetryConfig::standard()
                .initial_backoff(Duration::from_millis(50))
                .max_backoff(Duration::from_secs(2)),
        )
        .build()?;
    let oauth = OAuth::new(
        fx.app_id.clone(),
        SecretString::from(fx.app_secret.clone()),
        fx.redirect_uri.clone(),
    )?;
    let manager = LifecycleManager::builder(store.clone(), cipher, oauth, base).build();

    let now_ms = to_ms(clock.now());
    accounts
        .put_tenant(&Tenant {
            id: "cafe-andino".into(),
            name: "Café Andino".into(),
            kill_switch: false,
            created_at: now_ms,
        })
        .await?;
    let mut tokens = Vec::new();
    for s in ACCOUNTS {
        let page = fx
            .pages
            .get(s.page)
            .context("the sandbox has too few pages")?;
        let meta_id = match s.platform {
            Platform::Instagram => page.ig_user_id.clone(),
            _ => page.id.clone(),
        };
        let connection = format!("cafe-andino/{}/{meta_id}", s.platform);
        tokens.push(page.access_token.clone());
        manager
            .register(
                ConnectionId::new(connection.clone())?,
                ConnectionKind::Page,
                "cafe-andino",
                &Token::new(
                    SecretString::from(page.access_token.clone()),
                    None,
                    clock.now(),
                ),
            )
            .await?;
        accounts
            .put_account(&Account {
                id: s.id.into(),
                tenant_id: "cafe-andino".into(),
                platform: s.platform,
                meta_id,
                name: s.name.into(),
                connection_id: connection,
                timezone: s.tz.into(),
                governance: GovernanceSettings {
                    daily_cap: s.cap,
                    min_gap_secs: s.gap_h * 3600,
                    quiet_start_minute: s.quiet.map(|q| q.0),
                    quiet_end_minute: s.quiet.map(|q| q.1),
                },
                approval: ApprovalSettings {
                    auto_approve: s.auto,
                    allow_self_approval: false,
                },
                kill_switch: false,
                created_at: now_ms,
            })
            .await?;
    }
    println!(
        "  store: embedded SQLite {} · {} accounts · Page tokens sealed (AES-256-GCM)",
        path.display(),
        ACCOUNTS.len()
    );
    for s in ACCOUNTS {
        println!(
            "    {:<12} {:<9} {:<17} cap {}/day · gap {:<3} · quiet {:<11} · {}",
            s.id,
            s.platform.as_str(),
            s.tz,
            s.cap,
            short_duration(s.gap_h * 3600),
            s.quiet
                .map_or("-".to_owned(), |(a, b)| format!("{}-{}", hhmm(a), hhmm(b))),
            if s.auto { "auto-approve" } else { "reviewer" }
        );
    }

    let ids = Arc::new(UuidV7Ids::new(clock.clone()));
    let p = Publisher::builder(
        accounts.clone(),
        posts.clone(),
        Arc::new(manager),
        clock.clone(),
        ids,
    )
    .worker_id("demo-worker")
    .config(PublisherConfig {
        poll_interval: Duration::from_secs(300),
        ..PublisherConfig::default()
    })
    .build();

    // A week of content: three pieces a day at fixed UTC times, each with a variant
    // per account — the same instant is breakfast in one city and the middle of the
    // night in another.
    let slots: [(u64, &str); 3] = [
        (9 * 60, "Good morning! Fresh empanadas are out"),
        (12 * 60, "Today's lunch: pastel de choclo"),
        (13 * 60 + 30, "Tonight's menu is online"),
    ];
    let (mut pieces, mut created, mut approved) = (0, 0, 0);
    let (mut rejected, mut changes) = (0, 0);
    // Which pieces the reviewer refused or sent back (one each).
    let (mut rejected_pieces, mut changed_pieces) = (HashSet::new(), HashSet::new());
    for day in 0..7_u64 {
        for (slot, (minute, text)) in slots.iter().enumerate() {
            let at = week_start + Duration::from_secs(day * 86_400 + minute * 60);
            let text = format!("{text} (day {})", day + 1);
            // The piece the reviewer will reject goes only to reviewed accounts.
            let to_be_rejected = (day, slot) == (1, 1);
            let variants = ACCOUNTS
                .iter()
                .filter(|s| !(to_be_rejected && s.auto))
                .map(|s| Variant {
                    account_id: s.id.into(),
                    content: content_for(s.platform, day, slot, &text),
                })
                .collect();
            let drafts = p
                .create(NewPost {
                    content_id: None,
                    author: "ana".into(),
                    scheduled_at: Some(at),
                    variants,
                })
                .await?;
            pieces += 1;
            created += drafts.len();
            for d in drafts {
                let post = p.submit("ana", &d.id).await?;
                if post.state != PostState::PendingApproval {
                    approved += 1; // the account auto-approves
                    continue;
                }
                match (day, slot) {
                    (1, 1) => {
                        p.reject("bruno", &post.id, "off-brand photo; skip this one")
                            .await?;
                        rejected += 1;
                        rejected_pieces.insert(post.content_id.clone());
                    }
                    (3, 0) => {
                        p.request_changes("bruno", &post.id, "mention the new opening hours")
                            .await?;
                        changes += 1;
                        changed_pieces.insert(post.content_id.clone());
                        let fixed = format!("{text} · now open from 7:00");
                        let account = ACCOUNTS
                            .iter()
                            .find(|s| s.id == post.account_id)
                            .context("unknown demo account")?;
                        p.edit(
                            "ana",
                            &post.id,
                            Some(content_for(account.platform, day, slot, &fixed)),
                            None,
                        )
                        .await?;
                        p.submit("ana", &post.id).await?;
                        p.approve("bruno", &post.id, Some("better")).await?;
                        approved += 1;
                    }
                    _ => {
                        p.approve("bruno", &post.id, None).await?;
                        approved += 1;
                    }
                }
            }
        }
    }
    println!(
        "  authored {pieces} pieces → {created} posts (ana) · approved {approved} (bruno, or the account's auto-approval) · {} piece rejected ({rejected} posts) · {} piece sent back for changes ({changes} posts: edited, resubmitted, approved) · all scheduled",
        rejected_pieces.len(),
        changed_pieces.len()
    );

    // The worker, as `meta publisher run` runs it, until nothing is left to publish.
    let pending = PostFilter {
        states: vec![
            PostState::Scheduled,
            PostState::Preparing,
            PostState::Ready,
            PostState::Publishing,
        ],
        limit: Some(1),
        ..PostFilter::default()
    };
    let deadline = week_start + Duration::from_secs(28 * 86_400);
    let started = Instant::now();
    let sim_start = clock.now();
    {
        let posts = posts.clone();
        let clock = clock.clone();
        let pending = pending.clone();
        let shutdown = async move {
            loop {
                let left = posts.list_posts(&pending).await.map(|v| v.len());
                if matches!(left, Ok(0)) || clock.now() > deadline {
                    return;
                }
                tokio::task::yield_now().await;
            }
        };
        p.run(shutdown).await;
    }
    let simulated = clock
        .now()
        .duration_since(sim_start)
        .unwrap_or_default()
        .as_secs_f64()
        / 86_400.0;
    println!(
        "  worker: {simulated:.1} simulated days in {:.2} s of real time (poll every 5 min; the clock moves with the sandbox's)",
        started.elapsed().as_secs_f64()
    );

    // Per account: published, deferred by governance and why.
    println!(
        "    {:<12} {:>9} {:>8} {:>9}  deferred by governance (reason × times)",
        "account", "published", "rejected", "waiting"
    );
    let mut total_violations = 0;
    let mut published_all: Vec<PostRecord> = Vec::new();
    let mut not_published = 0;
    for s in ACCOUNTS {
        let mine = p
            .list(&PostFilter {
                account_id: Some(s.id.into()),
                ..PostFilter::default()
            })
            .await?;
        let mut reasons: BTreeMap<&'static str, usize> = BTreeMap::new();
        let mut deferred_posts = 0;
        for post in &mine {
            let trail = p.audit_trail(&post.id).await?;
            let defers: Vec<_> = trail
                .iter()
                .filter(|e| e.actor == GOVERNANCE_ACTOR)
                .collect();
            deferred_posts += usize::from(!defers.is_empty());
            for e in defers {
                *reasons
                    .entry(reason_class(e.reason.as_deref().unwrap_or("")))
                    .or_default() += 1;
            }
        }
        let published: Vec<&PostRecord> = mine
            .iter()
            .filter(|p| p.state == PostState::Published)
            .collect();
        let rejected = mine
            .iter()
            .filter(|p| p.state == PostState::Rejected)
            .count();
        let waiting = mine.len() - published.len() - rejected;
        not_published += waiting;
        let account = accounts
            .get_account(s.id)
            .await?
            .context("demo account vanished")?;
        let times: Vec<i64> = published.iter().filter_map(|p| p.published_at).collect();
        total_violations += violations(&account, &times);
        let why = if reasons.is_empty() {
            "-".to_owned()
        } else {
            reasons
                .iter()
                .map(|(r, n)| format!("{r} ×{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "    {:<12} {:>9} {:>8} {:>9}  {deferred_posts} posts: {why}",
            s.id,
            published.len(),
            rejected,
            waiting,
        );
        published_all.extend(published.into_iter().cloned());
    }

    // Zero duplicates, from what the sandbox actually applied.
    let log = control.requests();
    let applied = |suffix: &str| {
        log.iter()
            .filter(|r| r.method == "POST" && r.applied && r.path.ends_with(suffix))
            .count()
    };
    let (feed_calls, ig_calls) = (applied("/feed"), applied("/media_publish"));
    let fb_posts = published_all
        .iter()
        .filter(|p| p.kind.platform() == Platform::Facebook && p.kind != PostKind::FbVideo)
        .count();
    let ig_posts = published_all
        .iter()
        .filter(|p| p.kind.platform() == Platform::Instagram)
        .count();
    let distinct: HashSet<&str> = published_all
        .iter()
        .filter_map(|p| p.published_id.as_deref())
        .collect();
    let duplicates = (feed_calls + ig_calls).saturating_sub(fb_posts + ig_posts)
        + published_all.len().saturating_sub(distinct.len());
    println!(
        "  duplicates: {duplicates} — the sandbox applied {feed_calls} feed posts and {ig_calls} media_publish calls for {} published posts ({} distinct ids)",
        fb_posts + ig_posts,
        distinct.len()
    );
    println!(
        "  governance violations among published posts: {total_violations} (caps per local day, minimum gaps, quiet hours) · posts lost: {not_published}"
    );

    // No token in clear anywhere in the file.
    store.checkpoint().await.ok();
    let bytes = std::fs::read(&path).unwrap_or_default();
    let leaks = tokens
        .iter()
        .filter(|t| bytes.windows(t.len()).any(|w| w == t.as_bytes()))
        .count();
    println!(
        "  token plaintext found in the SQLite file: {leaks} of {} tokens",
        tokens.len()
    );
    store.close().await;
    sandbox.shutdown().await;
    let ok = duplicates == 0
        && total_violations == 0
        && not_published == 0
        && leaks == 0
        && feed_calls == fb_posts
        && ig_calls == ig_posts;
    Ok(Outcome { ok })
}
