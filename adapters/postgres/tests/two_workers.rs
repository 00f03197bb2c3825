//! Two publisher workers on one PostgreSQL schema, each with its own `PgStore` (its
//! own pool, as two processes would have), publishing 1,000 posts through one
//! sandbox concurrently: every post ends `Published`, exactly once.
//!
//! "Exactly once" is checked from outside the publisher: every post carries a unique
//! marker, every Page feed and Instagram media list is read back from the sandbox and
//! each marker must appear once; the applied `POST /feed` and `POST /media_publish`
//! calls in the sandbox's request log must number exactly 1,000. Four posts in five
//! are due at once on accounts without limits (the workers race for the queue); the
//! fifth goes to accounts with a minimum gap, two due per slot (the workers race on
//! one account and must back off rather than both publish; the gap is re-checked
//! afterwards).
//!
//! Skipped with one line when `META_TEST_DATABASE_URL` is unset.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use meta_core::clock::{Clock, Sleep};
use meta_core::{Client, GraphRequest, RetryConfig};
use meta_graph::publisher::store::{ApprovalSettings, GovernanceSettings};
use meta_graph::publisher::{
    Account, AccountStore, Content, FixedClients, NewPost, Platform, PostFilter, PostState,
    Publisher, PublisherConfig, PublisherStore, Tenant, Variant,
};
use meta_graph::store::{UuidV7Ids, to_ms};
use meta_sandbox::{Sandbox, SandboxConfig, SandboxControl};

use common::with_database;

const POSTS: usize = 1000;
const PAGES: usize = 8;
const GAP_SECS: u64 = 60;

/// Real time plus an offset; advancing moves the sandbox's clock by the same amount.
/// Sleeping (container polling) advances instead of waiting.
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

fn marker(i: usize) -> String {
    format!("[two:{i:04}]")
}

fn parse_marker(text: &str) -> Option<usize> {
    let start = text.find("[two:")? + "[two:".len();
    let rest = &text[start..];
    rest[..rest.find(']')?].parse().ok()
}

fn is_publish_call(method: &str, path: &str) -> bool {
    method == "POST" && (path.ends_with("/feed") || path.ends_with("/media_publish"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_on_one_database_publish_each_post_exactly_once() {
    with_database(|db| async move {
        let sb = Sandbox::start_with(
            SandboxConfig::default()
                .seed(77)
                .pages(PAGES)
                .posts_per_page(0)
                .live_comments(0),
        )
        .await
        .unwrap();
        let clock = Arc::new(LinkedClock {
            control: sb.control(),
            origin: Instant::now(),
            offset_ns: AtomicU64::new(0),
        });
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        let base = Client::builder()
            .base_url(sb.base_url().to_owned())
            .clock(dyn_clock.clone())
            .retry(RetryConfig::disabled())
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
        let ids = Arc::new(UuidV7Ids::new(dyn_clock.clone()));

        // Two instances: two pools on one schema.
        let store_a = db.fresh_store().await;
        let schema = store_a.schema().unwrap().to_owned();
        let store_b = db.store_on(&schema).await;

        let now = to_ms(clock.now());
        let accounts_a: Arc<dyn AccountStore> = Arc::new(store_a.clone());
        accounts_a
            .put_tenant(&Tenant {
                id: "t1".into(),
                name: "Agencia".into(),
                kill_switch: false,
                created_at: now,
            })
            .await
            .unwrap();
        let mut accounts = Vec::new();
        for (i, page) in sb.fixtures().pages.iter().enumerate() {
            for platform in [Platform::Facebook, Platform::Instagram] {
                let (id, meta_id) = match platform {
                    Platform::Instagram => (format!("ig-{i}"), page.ig_user_id.clone()),
                    _ => (format!("fb-{i}"), page.id.clone()),
                };
                let governance = if i % 2 == 0 {
                    GovernanceSettings::default()
                } else {
                    GovernanceSettings {
                        min_gap_secs: GAP_SECS,
                        ..GovernanceSettings::default()
                    }
                };
                let a = Account {
                    id,
                    tenant_id: "t1".into(),
                    platform,
                    meta_id,
                    name: page.name.clone(),
                    connection_id: format!("page-{i}"),
                    timezone: "UTC".into(),
                    governance,
                    approval: ApprovalSettings {
                        auto_approve: true,
                        allow_self_approval: false,
                    },
                    kill_switch: false,
                    created_at: now,
                };
                accounts_a.put_account(&a).await.unwrap();
                accounts.push(a);
            }
        }

        let config = PublisherConfig {
            batch: 20,
            contention_backoff: Duration::from_secs(GAP_SECS),
            ..PublisherConfig::default()
        };
        let publisher = |store: &meta_store_postgres::PgStore, name: &str| {
            Publisher::builder(
                Arc::new(store.clone()),
                Arc::new(store.clone()),
                clients.clone(),
                dyn_clock.clone(),
                ids.clone(),
            )
            .worker_id(name)
            .config(config.clone())
            .build()
        };
        let a = publisher(&store_a, "worker-a");
        let b = publisher(&store_b, "worker-b");

        // Everything due at once, in an hour; scheduled through worker A's instance.
        let due = clock.now() + Duration::from_secs(3600);
        let mut plan: HashMap<String, usize> = HashMap::new();
        let (free, gapped): (Vec<&Account>, Vec<&Account>) = accounts
            .iter()
            .partition(|a| a.governance.min_gap_secs == 0);
        let mut per_account: HashMap<String, u32> = HashMap::new();
        for i in 0..POSTS {
            // One post in five goes to a gap-limited account, two due at each gap
            // slot: the workers race for them on one account. The rest are all due
            // at once on accounts without limits: the workers race for the queue.
            let (account, at) = if i % 5 == 0 {
                let account = gapped[(i / 5) % gapped.len()];
                let k = per_account.entry(account.id.clone()).or_default();
                let at = due + Duration::from_secs(u64::from(*k / 2) * GAP_SECS);
                *k += 1;
                (account, at)
            } else {
                (free[i % free.len()], due)
            };
            let content = match account.platform {
                Platform::Instagram => Content::IgImage {
                    // No post number: the sandbox fails media paths containing "404".
                    url: format!("https://cdn.example.com/two/look-{}.jpg", i % 26),
                    caption: Some(format!("Nuevo ingreso {}", marker(i))),
                },
                _ => Content::FbText {
                    message: format!("Nuevo ingreso {}", marker(i)),
                },
            };
            let created = a
                .create(NewPost {
                    content_id: None,
                    author: "ana".into(),
                    scheduled_at: Some(at),
                    variants: vec![Variant {
                        account_id: account.id.clone(),
                        content,
                    }],
                })
                .await
                .unwrap();
            let post = a.submit("ana", &created[0].id).await.unwrap();
            assert_eq!(post.state, PostState::Scheduled);
            plan.insert(post.id, i);
        }

        // Both workers at once, each in its own task, until nothing is left; the clock
        // moves a minute between rounds so gap-limited accounts get their next slot.
        let drain = |p: Publisher| {
            tokio::spawn(async move {
                let (mut published, mut deferred) = (0, 0);
                loop {
                    let r = p.run_once().await.unwrap();
                    published += r.published;
                    deferred += r.deferred;
                    if r.claimed == 0 {
                        return (published, deferred);
                    }
                }
            })
        };
        let posts_b: Arc<dyn PublisherStore> = Arc::new(store_b.clone());
        clock.advance(Duration::from_secs(3601));
        let (mut by_a, mut by_b, mut deferred) = (0, 0, 0);
        for _round in 0..600 {
            let (ra, rb) = tokio::join!(drain(a.clone()), drain(b.clone()));
            let ((pa, da), (pb, db)) = (ra.unwrap(), rb.unwrap());
            (by_a, by_b, deferred) = (by_a + pa, by_b + pb, deferred + da + db);
            if by_a + by_b >= POSTS {
                break;
            }
            clock.advance(Duration::from_secs(GAP_SECS));
        }
        assert_eq!(by_a + by_b, POSTS, "a={by_a} b={by_b}");
        assert!(by_a > 0 && by_b > 0, "both workers took part: a={by_a} b={by_b}");

        // Every post Published, from the other instance's view.
        let posts = posts_b.list_posts(&PostFilter::default()).await.unwrap();
        assert_eq!(posts.len(), POSTS);
        let mut times: HashMap<&str, Vec<i64>> = HashMap::new();
        for p in &posts {
            assert_eq!(p.state, PostState::Published, "{p:?}");
            times
                .entry(p.account_id.as_str())
                .or_default()
                .push(p.published_at.unwrap());
        }

        // Exactly once on the sandbox: by marker, and by the request log.
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
                    if let Some(i) = item.get(field).and_then(|m| m.as_str()).and_then(parse_marker)
                    {
                        *copies.entry(i).or_default() += 1;
                    }
                }
            }
        }
        for (id, i) in &plan {
            assert_eq!(copies.get(i).copied(), Some(1), "post {id} (#{i}) on Meta once");
        }
        let applied = sb
            .control()
            .requests()
            .iter()
            .filter(|r| r.applied && is_publish_call(&r.method, &r.path))
            .count();
        assert_eq!(applied, POSTS, "one applied publish call per post");

        // The racing workers kept the gap on the accounts that have one.
        for account in accounts.iter().filter(|a| a.governance.min_gap_secs > 0) {
            let mut t = times.remove(account.id.as_str()).unwrap_or_default();
            t.sort_unstable();
            for w in t.windows(2) {
                assert!(
                    w[1] - w[0] >= i64::try_from(GAP_SECS).unwrap() * 1000,
                    "{}: two posts {} ms apart",
                    account.id,
                    w[1] - w[0]
                );
            }
        }
        println!(
            "two workers on one PostgreSQL schema: {POSTS} posts, worker-a {by_a}, worker-b {by_b}, \
             {deferred} deferrals (gap and same-account races), duplicates 0"
        );
        store_a.close().await;
        store_b.close().await;
        sb.shutdown().await;
    })
    .await;
}
