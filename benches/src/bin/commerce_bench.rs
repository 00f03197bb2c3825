//! The live-sale pipeline end to end (issue 5): signed Meta webhooks → inbox →
//! classify → reserve → order → outbox, on the in-memory store, SQLite and PostgreSQL.
//!
//! ```text
//! cargo run --release -p meta-benches --bin commerce_bench -- \
//!     [--store memory|sqlite|postgres|all] [--lives 1000] [--comments 100000] \
//!     [--buyers 20000] [--shops 1] [--batch N] [--workers N] [--delivery 500] \
//!     [--rate 0] [--pg-vacuum 0] [--sqlite-dir DIR] [--seed 7] [--no-phases] \
//!     [--database-url postgres://…]
//! ```
//!
//! `all` is SQLite then PostgreSQL (`memory` is a baseline without a database).
//! `--batch` defaults to 1,000 on SQLite and PostgreSQL (500 in memory) and
//! `--workers` to 1: what measured best on two cores (see `default_batch`).
//!
//! # Set-up
//!
//! `--shops` shops (one Facebook Page each) with the demo catalog (30 SKUs, CLP and
//! MXN) at 1,000,000 units per SKU, except the SKUs the CSV stocks at 2 or fewer units
//! (three of them), which keep that stock so waitlists happen; `--lives` lives (one
//! video post each), spread over the shops. The engine runs the rules classifier, the
//! app secret's [`Verifier`] and the real [`SystemClock`].
//!
//! # Load
//!
//! `--comments` comments from [`meta_commerce::simulate::comments`] (about 55 %
//! purchases, 15 % questions, 25 % chatter, 5 % cancels), each by one of `--buyers`
//! buyers on the live that buyer watches (one comment in ten on another live), so
//! orders grow and cancels find them; `created_time` is spaced as 1,000 comments a
//! minute per live.
//! They are encoded before timing as Meta delivers them: Page `feed` changes with
//! `item: comment`, `verb: add`, `--delivery` changes per signed delivery
//! (`X-Hub-Signature-256`), grouped per Page.
//!
//! # Run
//!
//! One task ingests the deliveries back to back (`Engine::ingest_webhook`: verify,
//! parse, durable inbox; `--rate N` paces it at N comments a second instead, to see
//! the latency at a given load rather than under a backlog) while `--workers` tasks call `Engine::process_pending` in a
//! loop; a worker stops when the ingest has finished and the inbox has no pending row.
//! The rate is the comments over the wall time from the first ingest to the last
//! committed batch. Receipt→outbox is the engine's own figure (`ProcessReport::
//! latencies_ms`: the outbox row's `created_at_ms − origin_received_at_ms`, from the
//! moment the ingest read the clock to the batch's decision time); the "committed"
//! bound adds the whole `process_pending` call that carried the comment.
//!
//! # Where the time goes (unless `--no-phases`)
//!
//! - classify: `RulesClassifier::classify_sync` over every text, one thread;
//! - ingest: the deliveries ingested alone into a fresh store (verify + parse alone is
//!   printed in the detail line);
//! - process: the same store drained by the same workers with the classifications
//!   precomputed (so: pending read + transaction + engine logic, no classifier).
//!
//! # Checks (exit 1 when one fails)
//!
//! Every comment processed (no pending inbox row, processed = ingested = generated),
//! no stock column negative, `available + reserved + sold` unchanged, and per SKU
//! `reserved` equal to the units on open order lines.
//!
//! PostgreSQL reads `--database-url` or `META_TEST_DATABASE_URL`, works in fresh
//! schemas and drops them afterwards; without a URL its line says it was skipped.
//! sqlx 0.9.0 leaves Nagle's algorithm on for TCP connections (sqlx issue #4335), so
//! over TCP a statement whose request spans several packets (the engine's batched
//! writes) can wait ~40 ms for a delayed ACK; a Unix-socket URL
//! (`postgres://postgres@%2Fvar%2Frun%2Fpostgresql/test`) has no such wait, and the
//! PostgreSQL line says which one it used.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use meta_commerce::classify::{
    Classification, ClassifyFuture, Intent, IntentClassifier, RulesClassifier,
};
use meta_commerce::engine::{Engine, EngineConfig};
use meta_commerce::memory::InMemoryCommerceStore;
use meta_commerce::store::{
    AuditRecord, Buyer, CommerceCounts, CommerceStore, CommerceTx, InboxComment, InboxStatus, Live,
    LogFilter, Order, OrderFilter, OrderStatus, OutboxMessage, OutboxUpdate, PaymentLinkRecord,
    ProductRecord, Shop, StockLevel, StoreFuture, WaitEntry,
};
use meta_commerce::{Catalog, Currency, Product};
use meta_core::clock::SystemClock;
use meta_core::webhook::{Verifier, sign};
use meta_store_postgres::{PgStore, PgStoreOptions};
use meta_store_sqlite::SqliteStore;
use secrecy::SecretString;
use serde_json::{Value, json};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The demo catalog (a copy of the live-comments dataset's `catalog.csv`).
const CATALOG_CSV: &[u8] = include_bytes!("../../data/demo-catalog.csv");
/// Units per SKU, so that most purchases reserve.
const BIG_STOCK: u32 = 1_000_000;
/// SKUs the CSV stocks at this many units or fewer keep their stock (waitlists).
const SMALL_STOCK_MAX: u32 = 2;
/// Comments a minute per live (the issue's load).
const COMMENTS_PER_MINUTE_PER_LIVE: f64 = 1_000.0;
/// The app secret the deliveries are signed with.
const APP_SECRET: &str = "commerce-bench-app-secret";
/// The first comment's `created_time` (unix seconds; any fixed value will do).
const START_TIME: u64 = 1_750_000_000;

// ---------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StoreKind {
    Memory,
    Sqlite,
    Postgres,
}

impl StoreKind {
    fn name(self) -> &'static str {
        match self {
            StoreKind::Memory => "memory",
            StoreKind::Sqlite => "sqlite",
            StoreKind::Postgres => "postgres",
        }
    }

    /// The worker count that measured best on two cores: one everywhere. SQLite and
    /// the in-memory store have one writer; and `process_pending` reads the oldest
    /// pending rows without claiming them, so a second worker fetches and classifies
    /// the batch the first one is taking (on PostgreSQL it then waits on its row
    /// locks): two workers were 5–40 % slower than one on every store.
    fn default_workers(self) -> usize {
        1
    }

    /// The batch size that measured best: the in-memory store does not care; on
    /// SQLite and PostgreSQL 1,000 beat 250, 500 and 2,000 (fewer statements and
    /// commits per comment, and the ingest keeps a batch filled).
    fn default_batch(self) -> usize {
        match self {
            StoreKind::Memory => 500,
            StoreKind::Sqlite | StoreKind::Postgres => 1_000,
        }
    }
}

#[derive(Debug, Clone)]
struct Args {
    stores: Vec<StoreKind>,
    lives: usize,
    comments: usize,
    buyers: usize,
    shops: usize,
    /// Comments per processing transaction (default: per store, `default_batch`).
    batch: Option<usize>,
    workers: Option<usize>,
    delivery: usize,
    /// Comments a second the ingest is paced at (0: as fast as it goes).
    rate: f64,
    /// PostgreSQL: run `VACUUM (ANALYZE)` on the commerce tables this often during the
    /// run, standing in for autovacuum on a server that has it off (0: never).
    pg_vacuum_secs: f64,
    /// Where the SQLite files go (default: the system's temporary directory).
    sqlite_dir: Option<PathBuf>,
    seed: u64,
    phases: bool,
    database_url: Option<String>,
}

const USAGE: &str = "usage: commerce_bench [--store memory|sqlite|postgres|all] [--lives N] \
[--comments N] [--buyers N] [--shops N] [--batch N] [--workers N] [--delivery N] [--rate N] [--pg-vacuum SECS] [--sqlite-dir DIR] [--seed N] \
[--no-phases] [--database-url URL]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        stores: vec![StoreKind::Sqlite, StoreKind::Postgres],
        lives: 1_000,
        comments: 100_000,
        buyers: 20_000,
        shops: 1,
        batch: None,
        workers: None,
        delivery: 500,
        rate: 0.0,
        pg_vacuum_secs: 0.0,
        sqlite_dir: None,
        seed: 7,
        phases: true,
        database_url: std::env::var("META_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.trim().is_empty()),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--help" | "-h" => return Err(USAGE.to_owned()),
            "--no-phases" => {
                args.phases = false;
                continue;
            }
            _ => {}
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let num = |v: &str| {
            v.parse::<usize>()
                .map_err(|_| format!("{flag}: {v:?} is not a number\n{USAGE}"))
        };
        match flag.as_str() {
            "--lives" => args.lives = num(&value)?,
            "--comments" => args.comments = num(&value)?,
            "--buyers" => args.buyers = num(&value)?,
            "--shops" => args.shops = num(&value)?,
            "--batch" => args.batch = Some(num(&value)?),
            "--workers" => args.workers = Some(num(&value)?),
            "--delivery" => args.delivery = num(&value)?,
            "--rate" => args.rate = num(&value)? as f64,
            "--pg-vacuum" => args.pg_vacuum_secs = num(&value)? as f64,
            "--sqlite-dir" => args.sqlite_dir = Some(PathBuf::from(value)),
            "--seed" => args.seed = num(&value)? as u64,
            "--database-url" | "--pg-url" => args.database_url = Some(value),
            "--store" => {
                args.stores = match value.as_str() {
                    "memory" => vec![StoreKind::Memory],
                    "sqlite" => vec![StoreKind::Sqlite],
                    "postgres" | "pg" => vec![StoreKind::Postgres],
                    "all" => vec![StoreKind::Sqlite, StoreKind::Postgres],
                    other => return Err(format!("--store: unknown store {other:?}\n{USAGE}")),
                }
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if args.lives == 0 || args.comments == 0 || args.buyers == 0 || args.shops == 0 {
        return Err("--lives, --comments, --buyers and --shops must be ≥ 1".to_owned());
    }
    if args.batch == Some(0) || args.workers == Some(0) || args.delivery == 0 {
        return Err("--batch, --workers and --delivery must be ≥ 1".to_owned());
    }
    if args.shops > args.lives {
        return Err("--shops must not exceed --lives (every shop has a live)".to_owned());
    }
    Ok(args)
}

// ---------------------------------------------------------------------------------
// The load, built before timing
// ---------------------------------------------------------------------------------

/// One signed delivery.
#[derive(Debug)]
struct Delivery {
    body: Vec<u8>,
    signature: String,
    comments: usize,
}

#[derive(Debug)]
struct ShopPlan {
    shop: Shop,
}

#[derive(Debug)]
struct LivePlan {
    shop: usize,
    post_id: String,
}

/// Everything a run needs, identical for every store.
#[derive(Debug)]
struct Load {
    catalog: Catalog,
    shops: Vec<ShopPlan>,
    lives: Vec<LivePlan>,
    deliveries: Vec<Delivery>,
    texts: Vec<String>,
    /// Units per SKU at import.
    initial_stock: HashMap<String, i64>,
}

const FIRST_NAMES: &[&str] = &[
    "Camila",
    "Valentina",
    "Sofía",
    "Isidora",
    "Fernanda",
    "Javiera",
    "Mariana",
    "Ana",
    "Beatriz",
    "Julia",
    "Emily",
    "Olivia",
    "Daniela",
    "Catalina",
    "Lucía",
    "Paula",
];
const LAST_NAMES: &[&str] = &[
    "González",
    "Muñoz",
    "Rojas",
    "Díaz",
    "Pérez",
    "Soto",
    "Silva",
    "Santos",
    "Oliveira",
    "Smith",
    "Hernández",
    "López",
    "Martínez",
    "Costa",
];

fn bench_catalog() -> Result<Catalog, BoxError> {
    let parsed = Catalog::from_csv(CATALOG_CSV)?;
    let products = parsed
        .products()
        .iter()
        .cloned()
        .map(|mut p| {
            if p.stock > SMALL_STOCK_MAX {
                p.stock = BIG_STOCK;
            }
            p
        })
        .collect();
    Ok(Catalog::new(products)?)
}

fn graph_time(unix_seconds: u64) -> String {
    let secs = i64::try_from(unix_seconds).unwrap_or(0);
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S+0000").to_string())
        .unwrap_or_default()
}

fn build_load(args: &Args) -> Result<Load, BoxError> {
    let catalog = bench_catalog()?;
    let initial_stock = catalog
        .products()
        .iter()
        .map(|p| (p.sku.clone(), i64::from(p.stock)))
        .collect();
    let shops: Vec<ShopPlan> = (0..args.shops)
        .map(|k| {
            let mut shop = Shop::new(
                format!("shop-{k}"),
                format!("Tienda en vivo {k}"),
                format!("{}", 100_000_000_000_000_u64 + k as u64),
                "CL",
                Currency::CLP,
            );
            // Large quantities are part of the load, not something to reject.
            shop.max_qty_per_item = 10;
            ShopPlan { shop }
        })
        .collect();
    let lives: Vec<LivePlan> = (0..args.lives)
        .map(|j| {
            let shop = j % args.shops;
            let video = 900_000_000_000_000_u64 + j as u64;
            LivePlan {
                shop,
                post_id: format!("{}_{video}", shops[shop].shop.page_id),
            }
        })
        .collect();
    let buyers: Vec<(String, String)> = {
        let mut rng = fastrand::Rng::with_seed(args.seed ^ 0xB0B);
        (0..args.buyers)
            .map(|b| {
                let first = FIRST_NAMES[rng.usize(0..FIRST_NAMES.len())];
                let last = LAST_NAMES[rng.usize(0..LAST_NAMES.len())];
                (
                    format!("{}", 7_000_000_000_000_000_u64 + b as u64),
                    format!("{first} {last}"),
                )
            })
            .collect()
    };
    let scripted = meta_commerce::simulate::comments(&catalog, args.comments, args.seed);
    let per_second = args.lives as f64 * COMMENTS_PER_MINUTE_PER_LIVE / 60.0;
    let mut rng = fastrand::Rng::with_seed(args.seed ^ 0xC0FFEE);
    let secret = SecretString::from(APP_SECRET);
    let mut deliveries = Vec::with_capacity(args.comments.div_ceil(args.delivery));
    let mut texts = Vec::with_capacity(args.comments);
    let indexed: Vec<(usize, &meta_commerce::simulate::ScriptedComment)> =
        scripted.iter().enumerate().collect();
    for chunk in indexed.chunks(args.delivery) {
        // Meta groups a delivery's changes per Page (one `entry` each).
        let mut entries: BTreeMap<usize, Vec<Value>> = BTreeMap::new();
        let mut last_time = START_TIME;
        for (i, c) in chunk {
            // A buyer watches one live (their comments there add to one order, and
            // their cancels find it); one comment in ten lands on another live.
            let b = rng.usize(0..buyers.len());
            let live = if rng.u8(0..10) == 0 {
                &lives[rng.usize(0..lives.len())]
            } else {
                &lives[b % lives.len()]
            };
            let (buyer_id, buyer_name) = &buyers[b];
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let created = START_TIME + (*i as f64 / per_second) as u64;
            last_time = created;
            let video = live.post_id.split('_').nth(1).unwrap_or("0");
            texts.push(c.text.clone());
            entries.entry(live.shop).or_default().push(json!({
                "field": "feed",
                "value": {
                    "from": {"id": buyer_id, "name": buyer_name},
                    "post": {
                        "status_type": "added_video",
                        "is_published": true,
                        "updated_time": graph_time(created),
                        "promotion_status": "inactive",
                        "id": live.post_id,
                    },
                    "message": c.text,
                    "post_id": live.post_id,
                    "comment_id": format!("{video}_{}", 1_000_000_000_000_000_u64 + *i as u64),
                    "created_time": created,
                    "item": "comment",
                    "parent_id": live.post_id,
                    "verb": "add",
                }
            }));
        }
        let entry: Vec<Value> = entries
            .into_iter()
            .map(|(shop, changes)| {
                json!({
                    "id": shops[shop].shop.page_id,
                    "time": last_time + 1,
                    "changes": changes,
                })
            })
            .collect();
        let body = serde_json::to_vec(&json!({"object": "page", "entry": entry}))?;
        let signature = sign(&secret, &body);
        deliveries.push(Delivery {
            body,
            signature,
            comments: chunk.len(),
        });
    }
    Ok(Load {
        catalog,
        shops,
        lives,
        deliveries,
        texts,
        initial_stock,
    })
}

// ---------------------------------------------------------------------------------
// Classifiers
// ---------------------------------------------------------------------------------

/// The rules classifier's answers computed ahead of time: the "process alone" phase
/// measures the store and the engine without the classifier's CPU.
#[derive(Debug)]
struct Precomputed {
    answers: HashMap<String, Classification>,
}

impl IntentClassifier for Precomputed {
    fn name(&self) -> &str {
        "rules"
    }
    fn classify<'a>(&'a self, text: &'a str, _catalog: &'a Arc<Catalog>) -> ClassifyFuture<'a> {
        let c = self
            .answers
            .get(text)
            .cloned()
            .unwrap_or_else(|| Classification::new(Intent::Other, 0.0, "rules"));
        Box::pin(std::future::ready(Ok(c)))
    }
}

/// µs per comment of the rules classifier over every text, and its answers.
fn time_classifier(load: &Load) -> (f64, Precomputed) {
    let rules = RulesClassifier::new();
    rules.warm(&load.catalog);
    let started = Instant::now();
    let mut answers: HashMap<String, Classification> = HashMap::new();
    for t in &load.texts {
        let c = rules.classify_sync(t, &load.catalog);
        if !answers.contains_key(t) {
            answers.insert(t.clone(), c);
        }
    }
    let us = per_comment_us(started.elapsed(), load.texts.len());
    (us, Precomputed { answers })
}

/// µs per comment of signature verification and parsing alone (no store).
fn time_verify_parse(load: &Load) -> Result<f64, BoxError> {
    let verifier = Verifier::new(SecretString::from(APP_SECRET));
    let started = Instant::now();
    let mut changes = 0_usize;
    for d in &load.deliveries {
        verifier.verify(&d.body, &d.signature)?;
        changes += meta_graph::webhooks::parse(&d.body)?.changes().count();
    }
    let elapsed = started.elapsed();
    if changes != load.texts.len() {
        return Err(format!("parsed {changes} changes, built {}", load.texts.len()).into());
    }
    Ok(per_comment_us(elapsed, load.texts.len()))
}

// ---------------------------------------------------------------------------------
// Timing spans: a store, transaction and classifier decorator
// ---------------------------------------------------------------------------------

/// Wall time per store method (await included: lock waits count), per transaction
/// method, per transaction lifetime and in the classifier.
#[derive(Debug, Default)]
struct Spans {
    map: std::sync::Mutex<BTreeMap<&'static str, (u64, Duration)>>,
}

impl Spans {
    fn add(&self, name: &'static str, d: Duration) {
        if let Ok(mut m) = self.map.lock() {
            let e = m.entry(name).or_default();
            e.0 += 1;
            e.1 += d;
        }
    }

    fn clear(&self) {
        if let Ok(mut m) = self.map.lock() {
            m.clear();
        }
    }

    fn snapshot(&self) -> Vec<(&'static str, u64, Duration)> {
        let mut v: Vec<(&'static str, u64, Duration)> = self
            .map
            .lock()
            .map(|m| m.iter().map(|(k, (n, d))| (*k, *n, *d)).collect())
            .unwrap_or_default();
        v.sort_by_key(|e| std::cmp::Reverse(e.2));
        v
    }
}

/// Times `fut` from `started` (taken before the call that made it: an adapter may do
/// its work eagerly, when the call is made, and hand back a ready future).
fn timed<'a, T: Send + 'a>(
    spans: &Arc<Spans>,
    name: &'static str,
    started: Instant,
    fut: StoreFuture<'a, T>,
) -> StoreFuture<'a, T> {
    let spans = spans.clone();
    Box::pin(async move {
        let r = fut.await;
        spans.add(name, started.elapsed());
        r
    })
}

/// A [`CommerceStore`] that records how long each call takes.
#[derive(Debug)]
struct TimedStore {
    inner: Arc<dyn CommerceStore>,
    spans: Arc<Spans>,
}

impl CommerceStore for TimedStore {
    fn put_shop<'a>(&'a self, shop: &'a Shop) -> StoreFuture<'a, ()> {
        timed(
            &self.spans,
            "put_shop",
            Instant::now(),
            self.inner.put_shop(shop),
        )
    }
    fn shop<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Shop>> {
        timed(&self.spans, "shop", Instant::now(), self.inner.shop(id))
    }
    fn set_shop_kill_switch<'a>(&'a self, id: &'a str, on: bool) -> StoreFuture<'a, ()> {
        timed(
            &self.spans,
            "set_shop_kill_switch",
            Instant::now(),
            self.inner.set_shop_kill_switch(id, on),
        )
    }
    fn import_products<'a>(
        &'a self,
        shop_id: &'a str,
        products: &'a [Product],
    ) -> StoreFuture<'a, ()> {
        timed(
            &self.spans,
            "import_products",
            Instant::now(),
            self.inner.import_products(shop_id, products),
        )
    }
    fn products<'a>(&'a self, shop_id: &'a str) -> StoreFuture<'a, Vec<ProductRecord>> {
        timed(
            &self.spans,
            "products",
            Instant::now(),
            self.inner.products(shop_id),
        )
    }
    fn stock<'a>(&'a self, shop_id: &'a str, sku: &'a str) -> StoreFuture<'a, Option<StockLevel>> {
        timed(
            &self.spans,
            "stock",
            Instant::now(),
            self.inner.stock(shop_id, sku),
        )
    }
    fn put_live<'a>(&'a self, live: &'a Live) -> StoreFuture<'a, ()> {
        timed(
            &self.spans,
            "put_live",
            Instant::now(),
            self.inner.put_live(live),
        )
    }
    fn live<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Live>> {
        timed(&self.spans, "live", Instant::now(), self.inner.live(id))
    }
    fn live_by_post<'a>(&'a self, post_id: &'a str) -> StoreFuture<'a, Option<Live>> {
        timed(
            &self.spans,
            "live_by_post",
            Instant::now(),
            self.inner.live_by_post(post_id),
        )
    }
    fn lives<'a>(&'a self, shop_id: &'a str) -> StoreFuture<'a, Vec<Live>> {
        timed(
            &self.spans,
            "lives",
            Instant::now(),
            self.inner.lives(shop_id),
        )
    }
    fn set_live_kill_switch<'a>(&'a self, id: &'a str, on: bool) -> StoreFuture<'a, ()> {
        timed(
            &self.spans,
            "set_live_kill_switch",
            Instant::now(),
            self.inner.set_live_kill_switch(id, on),
        )
    }
    fn insert_inbox<'a>(&'a self, rows: &'a [InboxComment]) -> StoreFuture<'a, Vec<bool>> {
        timed(
            &self.spans,
            "insert_inbox",
            Instant::now(),
            self.inner.insert_inbox(rows),
        )
    }
    fn inbox_comment<'a>(&'a self, comment_id: &'a str) -> StoreFuture<'a, Option<InboxComment>> {
        timed(
            &self.spans,
            "inbox_comment",
            Instant::now(),
            self.inner.inbox_comment(comment_id),
        )
    }
    fn order<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Order>> {
        timed(&self.spans, "order", Instant::now(), self.inner.order(id))
    }
    fn orders<'a>(&'a self, filter: &'a OrderFilter) -> StoreFuture<'a, Vec<Order>> {
        timed(
            &self.spans,
            "orders",
            Instant::now(),
            self.inner.orders(filter),
        )
    }
    fn set_payment_link<'a>(
        &'a self,
        order_id: &'a str,
        link: &'a PaymentLinkRecord,
    ) -> StoreFuture<'a, ()> {
        timed(
            &self.spans,
            "set_payment_link",
            Instant::now(),
            self.inner.set_payment_link(order_id, link),
        )
    }
    fn buyer<'a>(&'a self, shop_id: &'a str, buyer_id: &'a str) -> StoreFuture<'a, Option<Buyer>> {
        timed(
            &self.spans,
            "buyer",
            Instant::now(),
            self.inner.buyer(shop_id, buyer_id),
        )
    }
    fn waitlist_entries<'a>(&'a self, shop_id: &'a str) -> StoreFuture<'a, Vec<WaitEntry>> {
        timed(
            &self.spans,
            "waitlist_entries",
            Instant::now(),
            self.inner.waitlist_entries(shop_id),
        )
    }
    fn claim_outbox<'a>(
        &'a self,
        now_ms: i64,
        owner: &'a str,
        lease_ms: i64,
        limit: usize,
    ) -> StoreFuture<'a, Vec<OutboxMessage>> {
        timed(
            &self.spans,
            "claim_outbox",
            Instant::now(),
            self.inner.claim_outbox(now_ms, owner, lease_ms, limit),
        )
    }
    fn finish_outbox<'a>(
        &'a self,
        id: &'a str,
        now_ms: i64,
        update: &'a OutboxUpdate,
    ) -> StoreFuture<'a, ()> {
        timed(
            &self.spans,
            "finish_outbox",
            Instant::now(),
            self.inner.finish_outbox(id, now_ms, update),
        )
    }
    fn outbox<'a>(&'a self, filter: &'a LogFilter) -> StoreFuture<'a, Vec<OutboxMessage>> {
        timed(
            &self.spans,
            "outbox",
            Instant::now(),
            self.inner.outbox(filter),
        )
    }
    fn audit<'a>(&'a self, filter: &'a LogFilter) -> StoreFuture<'a, Vec<AuditRecord>> {
        timed(
            &self.spans,
            "audit",
            Instant::now(),
            self.inner.audit(filter),
        )
    }
    fn counts<'a>(&'a self, shop_id: &'a str) -> StoreFuture<'a, CommerceCounts> {
        timed(
            &self.spans,
            "counts",
            Instant::now(),
            self.inner.counts(shop_id),
        )
    }
    fn shops(&self) -> StoreFuture<'_, Vec<Shop>> {
        timed(&self.spans, "shops", Instant::now(), self.inner.shops())
    }
    fn pending_inbox(&self, limit: usize) -> StoreFuture<'_, Vec<InboxComment>> {
        timed(
            &self.spans,
            "pending_inbox",
            Instant::now(),
            self.inner.pending_inbox(limit),
        )
    }
    fn due_expiries(&self, now_ms: i64, limit: usize) -> StoreFuture<'_, Vec<String>> {
        timed(
            &self.spans,
            "due_expiries",
            Instant::now(),
            self.inner.due_expiries(now_ms, limit),
        )
    }
    fn due_reminders(&self, before_ms: i64, limit: usize) -> StoreFuture<'_, Vec<Order>> {
        timed(
            &self.spans,
            "due_reminders",
            Instant::now(),
            self.inner.due_reminders(before_ms, limit),
        )
    }
    fn begin(&self) -> StoreFuture<'_, Box<dyn CommerceTx>> {
        let spans = self.spans.clone();
        let started = Instant::now();
        let begin = self.inner.begin();
        Box::pin(async move {
            let inner = begin.await?;
            spans.add("tx.begin", started.elapsed());
            Ok(Box::new(TimedTx {
                inner,
                spans,
                started,
            }) as Box<dyn CommerceTx>)
        })
    }
}

/// A transaction that records how long each call takes, and its whole life.
struct TimedTx {
    inner: Box<dyn CommerceTx>,
    spans: Arc<Spans>,
    started: Instant,
}

impl CommerceTx for TimedTx {
    fn take_pending<'a>(
        &'a mut self,
        comment_ids: &'a [String],
    ) -> StoreFuture<'a, Vec<InboxComment>> {
        timed(
            &self.spans,
            "tx.take_pending",
            Instant::now(),
            self.inner.take_pending(comment_ids),
        )
    }
    fn mark_inbox<'a>(
        &'a mut self,
        rows: &'a [(String, InboxStatus, Option<String>)],
    ) -> StoreFuture<'a, ()> {
        timed(
            &self.spans,
            "tx.mark_inbox",
            Instant::now(),
            self.inner.mark_inbox(rows),
        )
    }
    fn lock_stock<'a>(
        &'a mut self,
        shop_id: &'a str,
        skus: &'a [String],
    ) -> StoreFuture<'a, Vec<StockLevel>> {
        timed(
            &self.spans,
            "tx.lock_stock",
            Instant::now(),
            self.inner.lock_stock(shop_id, skus),
        )
    }
    fn put_stock<'a>(&'a mut self, rows: &'a [StockLevel]) -> StoreFuture<'a, ()> {
        timed(
            &self.spans,
            "tx.put_stock",
            Instant::now(),
            self.inner.put_stock(rows),
        )
    }
    fn open_orders<'a>(&'a mut self, keys: &'a [(String, String)]) -> StoreFuture<'a, Vec<Order>> {
        timed(
            &self.spans,
            "tx.open_orders",
            Instant::now(),
            self.inner.open_orders(keys),
        )
    }
    fn lock_orders<'a>(&'a mut self, ids: &'a [String]) -> StoreFuture<'a, Vec<Order>> {
        timed(
            &self.spans,
            "tx.lock_orders",
            Instant::now(),
            self.inner.lock_orders(ids),
        )
    }
    fn put_orders<'a>(&'a mut self, orders: &'a [Order]) -> StoreFuture<'a, ()> {
        timed(
            &self.spans,
            "tx.put_orders",
            Instant::now(),
            self.inner.put_orders(orders),
        )
    }
    fn waitlist<'a>(
        &'a mut self,
        shop_id: &'a str,
        skus: &'a [String],
    ) -> StoreFuture<'a, Vec<WaitEntry>> {
        timed(
            &self.spans,
            "tx.waitlist",
            Instant::now(),
            self.inner.waitlist(shop_id, skus),
        )
    }
    fn put_waitlist<'a>(&'a mut self, entries: &'a [WaitEntry]) -> StoreFuture<'a, ()> {
        timed(
            &self.spans,
            "tx.put_waitlist",
            Instant::now(),
            self.inner.put_waitlist(entries),
        )
    }
    fn remove_waitlist<'a>(&'a mut self, ids: &'a [String]) -> StoreFuture<'a, ()> {
        timed(
            &self.spans,
            "tx.remove_waitlist",
            Instant::now(),
            self.inner.remove_waitlist(ids),
        )
    }
    fn buyers<'a>(
        &'a mut self,
        shop_id: &'a str,
        ids: &'a [String],
    ) -> StoreFuture<'a, Vec<Buyer>> {
        timed(
            &self.spans,
            "tx.buyers",
            Instant::now(),
            self.inner.buyers(shop_id, ids),
        )
    }
    fn put_buyers<'a>(&'a mut self, buyers: &'a [Buyer]) -> StoreFuture<'a, ()> {
        timed(
            &self.spans,
            "tx.put_buyers",
            Instant::now(),
            self.inner.put_buyers(buyers),
        )
    }
    fn append_audit<'a>(&'a mut self, rows: &'a [AuditRecord]) -> StoreFuture<'a, ()> {
        timed(
            &self.spans,
            "tx.append_audit",
            Instant::now(),
            self.inner.append_audit(rows),
        )
    }
    fn enqueue<'a>(&'a mut self, messages: &'a [OutboxMessage]) -> StoreFuture<'a, ()> {
        timed(
            &self.spans,
            "tx.enqueue",
            Instant::now(),
            self.inner.enqueue(messages),
        )
    }
    fn suppress_pending<'a>(
        &'a mut self,
        shop_id: &'a str,
        buyer_id: &'a str,
        reason: &'a str,
    ) -> StoreFuture<'a, u64> {
        timed(
            &self.spans,
            "tx.suppress_pending",
            Instant::now(),
            self.inner.suppress_pending(shop_id, buyer_id, reason),
        )
    }
    fn anonymize_buyer<'a>(
        &'a mut self,
        shop_id: &'a str,
        buyer_id: &'a str,
        replacement: &'a str,
    ) -> StoreFuture<'a, ()> {
        timed(
            &self.spans,
            "tx.anonymize_buyer",
            Instant::now(),
            self.inner.anonymize_buyer(shop_id, buyer_id, replacement),
        )
    }
    fn commit(self: Box<Self>) -> StoreFuture<'static, ()> {
        let TimedTx {
            inner,
            spans,
            started,
        } = *self;
        let at = Instant::now();
        let commit = inner.commit();
        Box::pin(async move {
            let r = commit.await;
            spans.add("tx.commit", at.elapsed());
            spans.add("tx (begin to commit)", started.elapsed());
            r
        })
    }
}

/// A classifier that records how long each call takes.
#[derive(Debug)]
struct TimedClassifier {
    inner: Arc<dyn IntentClassifier>,
    spans: Arc<Spans>,
}

impl IntentClassifier for TimedClassifier {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn classify<'a>(&'a self, text: &'a str, catalog: &'a Arc<Catalog>) -> ClassifyFuture<'a> {
        let spans = self.spans.clone();
        // Before the call: a classifier may answer eagerly with a ready future.
        let started = Instant::now();
        let fut = self.inner.classify(text, catalog);
        Box::pin(async move {
            let r = fut.await;
            spans.add("classify", started.elapsed());
            r
        })
    }
}

// ---------------------------------------------------------------------------------
// Stores
// ---------------------------------------------------------------------------------

/// An opened store and what to clean up after it.
enum Opened {
    Memory(InMemoryCommerceStore),
    Sqlite(SqliteStore, PathBuf),
    Postgres(PgStore, String),
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Opened::Memory(_) => f.write_str("Opened::Memory"),
            Opened::Sqlite(_, dir) => write!(f, "Opened::Sqlite({})", dir.display()),
            Opened::Postgres(_, schema) => write!(f, "Opened::Postgres({schema})"),
        }
    }
}

impl Opened {
    async fn open(kind: StoreKind, args: &Args, workers: usize) -> Result<Opened, BoxError> {
        Ok(match kind {
            StoreKind::Memory => Opened::Memory(InMemoryCommerceStore::new()),
            StoreKind::Sqlite => {
                let base = args.sqlite_dir.clone().unwrap_or_else(std::env::temp_dir);
                let dir = base.join(format!(
                    "meta-commerce-bench-{}-{:016x}",
                    std::process::id(),
                    fastrand::u64(..)
                ));
                std::fs::create_dir_all(&dir)?;
                match SqliteStore::open(dir.join("meta.db")).await {
                    Ok(s) => Opened::Sqlite(s, dir),
                    Err(e) => {
                        let _ = std::fs::remove_dir_all(&dir);
                        return Err(e.into());
                    }
                }
            }
            StoreKind::Postgres => {
                let url = args
                    .database_url
                    .clone()
                    .ok_or("no PostgreSQL URL (--database-url or META_TEST_DATABASE_URL)")?;
                let schema = format!("meta_cbench_{:016x}", fastrand::u64(..));
                // Every worker holds one connection for its transaction and may read
                // with another; the ingest needs one too.
                let pool = u32::try_from(workers * 2 + 4).unwrap_or(64);
                let store = PgStoreOptions::new(url)
                    .schema(schema.clone())
                    .max_connections(pool)
                    .connect()
                    .await?;
                Opened::Postgres(store, schema)
            }
        })
    }

    fn store(&self) -> Arc<dyn CommerceStore> {
        match self {
            Opened::Memory(s) => Arc::new(s.clone()),
            Opened::Sqlite(s, _) => Arc::new(s.clone()),
            Opened::Postgres(s, _) => Arc::new(s.clone()),
        }
    }

    async fn close(self) {
        match self {
            Opened::Memory(_) => {}
            Opened::Sqlite(store, dir) => {
                store.close().await;
                let _ = std::fs::remove_dir_all(&dir);
            }
            Opened::Postgres(store, schema) => {
                // The name is ours ([a-z0-9_]); the schema goes whatever the outcome.
                let drop = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                let dropped = sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
                    .execute(store.pool())
                    .await;
                store.close().await;
                if let Err(e) = dropped {
                    eprintln!("commerce_bench: could not drop schema {schema}: {e}");
                }
            }
        }
    }
}

/// The tables `VACUUM (ANALYZE)` visits when `--pg-vacuum` is set.
const VACUUM: &str = "VACUUM (ANALYZE) commerce_inbox, commerce_orders, commerce_order_lines, \
     commerce_outbox, commerce_audit, commerce_buyers, commerce_waitlist, commerce_products";

/// Stands in for autovacuum: vacuums and analyzes the schema's commerce tables every
/// `every` until `stop` is set. Returns how many rounds ran.
fn spawn_vacuum(
    opened: &Opened,
    every: f64,
    stop: Arc<AtomicBool>,
) -> Option<tokio::task::JoinHandle<usize>> {
    let Opened::Postgres(store, _) = opened else {
        return None;
    };
    if every <= 0.0 {
        return None;
    }
    let pool = store.pool().clone();
    Some(tokio::spawn(async move {
        let mut rounds = 0;
        while !stop.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_secs_f64(every)).await;
            if stop.load(Ordering::SeqCst) {
                break;
            }
            match sqlx::raw_sql(VACUUM).execute(&pool).await {
                Ok(_) => rounds += 1,
                Err(e) => eprintln!("commerce_bench: vacuum failed: {e}"),
            }
        }
        rounds
    }))
}

/// An engine over `store` with the shops, catalog and lives of `load`.
async fn set_up(
    store: Arc<dyn CommerceStore>,
    load: &Load,
    batch: usize,
    classifier: Arc<dyn IntentClassifier>,
) -> Result<Arc<Engine>, BoxError> {
    let engine = Engine::builder(store, Arc::new(SystemClock::default()))
        .verifier(Verifier::new(SecretString::from(APP_SECRET)))
        .classifier(classifier)
        .config(EngineConfig::default().batch_size(batch))
        .build();
    for plan in &load.shops {
        engine.put_shop(&plan.shop).await?;
        engine.import_catalog(&plan.shop.id, &load.catalog).await?;
    }
    for (j, live) in load.lives.iter().enumerate() {
        let shop = &load.shops[live.shop].shop;
        engine
            .open_live(&shop.id, &live.post_id, &format!("Live {j}"))
            .await?;
    }
    Ok(engine)
}

// ---------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------

/// What the workers did.
#[derive(Debug, Default)]
struct WorkerTotals {
    processed: usize,
    fetched: usize,
    calls: usize,
    reserved: usize,
    waitlisted: usize,
    did_you_mean: usize,
    cancels: usize,
    rejected: usize,
    no_action: usize,
    enqueued: usize,
    retries: usize,
    busy: Duration,
    /// Receipt → outbox row, per comment (the engine's figure).
    latencies_ms: Vec<i64>,
    /// The same plus the rest of the call that carried the comment (commit included).
    committed_ms: Vec<i64>,
    /// When the last batch that processed something returned.
    last_processed: Option<Instant>,
}

impl WorkerTotals {
    fn merge(&mut self, o: WorkerTotals) {
        self.processed += o.processed;
        self.fetched += o.fetched;
        self.calls += o.calls;
        self.reserved += o.reserved;
        self.waitlisted += o.waitlisted;
        self.did_you_mean += o.did_you_mean;
        self.cancels += o.cancels;
        self.rejected += o.rejected;
        self.no_action += o.no_action;
        self.enqueued += o.enqueued;
        self.retries += o.retries;
        self.busy += o.busy;
        self.latencies_ms.extend(o.latencies_ms);
        self.committed_ms.extend(o.committed_ms);
        self.last_processed = match (self.last_processed, o.last_processed) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
}

/// Calls `process_pending` until `ingest_done` was set before a call that found
/// nothing pending.
async fn worker(
    engine: Arc<Engine>,
    ingest_done: Arc<AtomicBool>,
) -> Result<WorkerTotals, BoxError> {
    let mut t = WorkerTotals::default();
    loop {
        let done_before = ingest_done.load(Ordering::SeqCst);
        let started = Instant::now();
        let r = engine.process_pending().await?;
        let took = started.elapsed();
        t.calls += 1;
        if r.fetched == 0 {
            if done_before {
                return Ok(t);
            }
            // Woken by the next ingest, or a short poll (notify_one wakes one worker).
            tokio::select! {
                () = engine.inbox_notify().notified() => {}
                () = tokio::time::sleep(Duration::from_millis(2)) => {}
            }
            continue;
        }
        t.busy += took;
        t.fetched += r.fetched;
        if r.processed > 0 {
            t.last_processed = Some(Instant::now());
        }
        t.processed += r.processed;
        t.reserved += r.reserved;
        t.waitlisted += r.waitlisted;
        t.did_you_mean += r.did_you_mean;
        t.cancels += r.cancels;
        t.rejected += r.rejected;
        t.no_action += r.no_action;
        t.enqueued += r.enqueued;
        t.retries += r.retries;
        let call_ms = i64::try_from(took.as_millis()).unwrap_or(i64::MAX);
        t.committed_ms
            .extend(r.latencies_ms.iter().map(|l| l.saturating_add(call_ms)));
        t.latencies_ms.extend(r.latencies_ms);
    }
}

/// What the ingest task did.
#[derive(Debug, Default)]
struct IngestTotals {
    new_comments: usize,
    duplicates: usize,
    busy: Duration,
    /// Per delivery: how long until it could be acknowledged.
    ack_ms: Vec<f64>,
    finished: Option<Instant>,
}

async fn ingest_all(engine: &Engine, load: &Load, rate: f64) -> Result<IngestTotals, BoxError> {
    let mut t = IngestTotals {
        ack_ms: Vec::with_capacity(load.deliveries.len()),
        ..IngestTotals::default()
    };
    let origin = Instant::now();
    let mut sent = 0_usize;
    for d in &load.deliveries {
        if rate > 0.0 {
            // Deliveries arrive when their comments would have been made.
            let due = origin + Duration::from_secs_f64(sent as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
        }
        sent += d.comments;
        let started = Instant::now();
        let r = engine.ingest_webhook(&d.body, Some(&d.signature)).await?;
        let took = started.elapsed();
        t.busy += took;
        t.ack_ms.push(took.as_secs_f64() * 1000.0);
        t.new_comments += r.new_comments;
        t.duplicates += r.duplicates;
        if r.new_comments + r.duplicates != d.comments {
            return Err(format!(
                "a delivery of {} comments recorded {} new and {} duplicates ({} ignored)",
                d.comments, r.new_comments, r.duplicates, r.ignored
            )
            .into());
        }
    }
    t.finished = Some(Instant::now());
    Ok(t)
}

/// The pipeline: one ingest task and `workers` processing tasks at once.
#[derive(Debug)]
struct PipelineOutcome {
    wall: Duration,
    ingest: IngestTotals,
    ingest_wall: Duration,
    workers: WorkerTotals,
}

async fn pipeline(
    engine: &Arc<Engine>,
    load: &Arc<Load>,
    workers: usize,
    rate: f64,
) -> Result<PipelineOutcome, BoxError> {
    let ingest_done = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::with_capacity(workers);
    for _ in 0..workers {
        handles.push(tokio::spawn(worker(engine.clone(), ingest_done.clone())));
    }
    let started = Instant::now();
    let ingest = {
        let engine = engine.clone();
        let load = load.clone();
        let done = ingest_done.clone();
        tokio::spawn(async move {
            let r = ingest_all(&engine, &load, rate).await;
            // Set even on failure, so the workers stop.
            done.store(true, Ordering::SeqCst);
            r
        })
    };
    let ingest = ingest.await??;
    let mut totals = WorkerTotals::default();
    let mut first_err: Option<BoxError> = None;
    for h in handles {
        match h.await? {
            Ok(t) => totals.merge(t),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    let end = totals.last_processed.unwrap_or_else(Instant::now);
    Ok(PipelineOutcome {
        wall: end.saturating_duration_since(started),
        ingest_wall: ingest
            .finished
            .map_or(Duration::ZERO, |f| f.saturating_duration_since(started)),
        ingest,
        workers: totals,
    })
}

/// Drains the inbox with `workers` tasks (nothing is being ingested).
async fn drain(engine: &Arc<Engine>, workers: usize) -> Result<(Duration, WorkerTotals), BoxError> {
    let done = Arc::new(AtomicBool::new(true));
    let started = Instant::now();
    let handles: Vec<_> = (0..workers)
        .map(|_| tokio::spawn(worker(engine.clone(), done.clone())))
        .collect();
    let mut totals = WorkerTotals::default();
    for h in handles {
        totals.merge(h.await??);
    }
    Ok((started.elapsed(), totals))
}

// ---------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Checks {
    lines: Vec<String>,
    failed: bool,
}

impl Checks {
    fn check(&mut self, ok: bool, what: &str) {
        self.failed |= !ok;
        self.lines
            .push(format!("{} {what}", if ok { "ok" } else { "FAILED" }));
    }
}

async fn verify_state(
    store: &Arc<dyn CommerceStore>,
    load: &Load,
    o: &PipelineOutcome,
) -> Result<Checks, BoxError> {
    let mut c = Checks::default();
    let generated = load.texts.len();
    let mut pending = 0_u64;
    let mut done = 0_u64;
    for plan in &load.shops {
        let counts = store.counts(&plan.shop.id).await?;
        pending += CommerceCounts::get(&counts.inbox, "pending");
        done += ["processed", "skipped", "rejected"]
            .iter()
            .map(|s| CommerceCounts::get(&counts.inbox, s))
            .sum::<u64>();
    }
    c.check(
        pending == 0
            && done == generated as u64
            && o.ingest.new_comments == generated
            && o.workers.processed == generated,
        &format!(
            "all comments processed: generated {generated}, ingested {}, processed {}, inbox done {done}, pending {pending}",
            o.ingest.new_comments, o.workers.processed
        ),
    );
    let mut negative = 0_usize;
    let mut drifted = 0_usize;
    let mut mismatched: Vec<String> = Vec::new();
    let mut skus = 0_usize;
    let mut reserved_total = 0_i64;
    let mut open_orders = 0_usize;
    for plan in &load.shops {
        let open = store
            .orders(&OrderFilter {
                shop_id: Some(plan.shop.id.clone()),
                status: Some(OrderStatus::Open),
                ..OrderFilter::default()
            })
            .await?;
        open_orders += open.len();
        let mut on_orders: HashMap<String, i64> = HashMap::new();
        for order in &open {
            for line in &order.lines {
                *on_orders.entry(line.sku.clone()).or_default() += i64::from(line.qty);
            }
        }
        for rec in store.products(&plan.shop.id).await? {
            let s = &rec.stock;
            skus += 1;
            reserved_total += s.reserved;
            if s.available < 0 || s.reserved < 0 || s.sold < 0 {
                negative += 1;
            }
            let initial = load.initial_stock.get(&s.sku).copied().unwrap_or(-1);
            if s.available + s.reserved + s.sold != initial {
                drifted += 1;
            }
            let lines = on_orders.get(&s.sku).copied().unwrap_or(0);
            if lines != s.reserved {
                mismatched.push(format!(
                    "{}/{}: reserved {} vs lines {lines}",
                    s.shop_id, s.sku, s.reserved
                ));
            }
        }
    }
    c.check(
        negative == 0,
        &format!("no stock column negative ({skus} SKUs, {negative} negative)"),
    );
    c.check(
        drifted == 0,
        &format!("available + reserved + sold unchanged ({drifted} SKUs drifted)"),
    );
    c.check(
        mismatched.is_empty(),
        &format!(
            "reserved == units on open order lines ({reserved_total} units on {open_orders} open orders){}",
            mismatched
                .first()
                .map(|m| format!("; first mismatch {m}"))
                .unwrap_or_default()
        ),
    );
    Ok(c)
}

// ---------------------------------------------------------------------------------
// One store
// ---------------------------------------------------------------------------------

/// The "where the time goes" figures.
#[derive(Debug, Default, Clone, Copy)]
struct Phases {
    classify_us: f64,
    verify_parse_us: f64,
    ingest_us: Option<f64>,
    process_us: Option<f64>,
}

async fn bench_store(
    kind: StoreKind,
    args: &Args,
    load: &Arc<Load>,
    phases: Phases,
    precomputed: &Arc<Precomputed>,
) -> Result<bool, BoxError> {
    let workers = args.workers.unwrap_or_else(|| kind.default_workers());
    let batch = args.batch.unwrap_or_else(|| kind.default_batch());
    let mut phases = phases;
    let n = load.texts.len();

    if args.phases {
        // Ingest alone, then processing alone without the classifier, on a fresh store.
        let opened = Opened::open(kind, args, workers).await?;
        let result = async {
            let engine = set_up(opened.store(), load, batch, precomputed.clone()).await?;
            let stop = Arc::new(AtomicBool::new(false));
            let vacuum = spawn_vacuum(&opened, args.pg_vacuum_secs, stop.clone());
            let timed = async {
                let ingest = ingest_all(&engine, load, 0.0).await?;
                let (_, drained) = drain(&engine, workers).await?;
                Ok::<_, BoxError>((ingest, drained))
            }
            .await;
            stop.store(true, Ordering::SeqCst);
            if let Some(h) = vacuum {
                h.await?;
            }
            timed
        }
        .await;
        opened.close().await;
        let (ingest, drained) = result?;
        phases.ingest_us = Some(per_comment_us(ingest.busy, n));
        // Wall time over the comments (with one worker, its busy time).
        phases.process_us = Some(per_comment_us(drained.busy, n) / workers as f64);
    }

    let opened = Opened::open(kind, args, workers).await?;
    let store = opened.store();
    let spans = Arc::new(Spans::default());
    let result = async {
        let timed_store = Arc::new(TimedStore {
            inner: store.clone(),
            spans: spans.clone(),
        });
        let classifier = Arc::new(TimedClassifier {
            inner: Arc::new(RulesClassifier::new()),
            spans: spans.clone(),
        });
        let engine = set_up(timed_store, load, batch, classifier).await?;
        // The classifier compiles the catalog's index on first use: not part of the run.
        let catalog = engine.catalog(&load.shops[0].shop.id).await?;
        let _ = engine.classifier().classify("warm up", &catalog).await;
        let server_pids = match &opened {
            Opened::Postgres(pg, _) => pg_backend_pids(pg, workers * 2 + 4).await,
            _ => Vec::new(),
        };
        spans.clear();
        let cpu_before = CpuMark::now(&server_pids);
        let stop = Arc::new(AtomicBool::new(false));
        let vacuum = spawn_vacuum(&opened, args.pg_vacuum_secs, stop.clone());
        let outcome = pipeline(&engine, load, workers, args.rate).await;
        stop.store(true, Ordering::SeqCst);
        let vacuums = match vacuum {
            Some(h) => Some(h.await?),
            None => None,
        };
        let outcome = outcome?;
        let cpu = cpu_before.describe(
            CpuMark::now(&server_pids),
            load.texts.len(),
            !server_pids.is_empty(),
        );
        let profile = spans.snapshot();
        let checks = verify_state(&store, load, &outcome).await?;
        Ok::<_, BoxError>((
            outcome,
            checks,
            engine.stats().tx_retries.load(Ordering::Relaxed),
            profile,
            vacuums,
            cpu,
        ))
    }
    .await;
    opened.close().await;
    let (mut o, checks, tx_retries, profile, vacuums, cpu) = result?;

    o.workers.latencies_ms.sort_unstable();
    o.workers.committed_ms.sort_unstable();
    o.ingest.ack_ms.sort_by(f64::total_cmp);
    let secs = o.wall.as_secs_f64();
    let rate = n as f64 / secs.max(1e-9);
    let opt_us = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |us| format!("{us:.1} µs/c"));
    println!(
        "commerce {}: {n} comments in {secs:.2} s = {} comments/s; receipt→outbox p50 {} ms p99 {} ms; {} lives, {} buyers, batch {}, workers {workers} (classify {:.1} µs/c, ingest {}, process {}); loadavg {}",
        kind.name(),
        thousands(rate),
        pct(&o.workers.latencies_ms, 0.50),
        pct(&o.workers.latencies_ms, 0.99),
        args.lives,
        args.buyers,
        batch,
        phases.classify_us,
        opt_us(phases.ingest_us),
        opt_us(phases.process_us),
        loadavg(),
    );
    let w = &o.workers;
    println!(
        "  detail {}: ingest done at {:.2} s ({} deliveries of ≤ {}, ack p50 {:.1} ms p99 {:.1} ms; verify+parse {:.1} µs/c); committed p50 ≤ {} ms p99 ≤ {} ms; {} process calls, {:.0} comments/call, workers busy {:.0} %, {} fetched by two workers, {} tx retries ({}); reserved {} waitlisted {} did-you-mean {} cancels {} rejected {} no-action {}, {} messages enqueued",
        kind.name(),
        o.ingest_wall.as_secs_f64(),
        load.deliveries.len(),
        args.delivery,
        pctf(&o.ingest.ack_ms, 0.50),
        pctf(&o.ingest.ack_ms, 0.99),
        phases.verify_parse_us,
        pct(&w.committed_ms, 0.50),
        pct(&w.committed_ms, 0.99),
        w.calls,
        w.processed as f64 / (w.calls.max(1)) as f64,
        100.0 * w.busy.as_secs_f64() / (secs * workers as f64).max(1e-9),
        w.fetched.saturating_sub(w.processed),
        w.retries,
        tx_retries,
        w.reserved,
        w.waitlisted,
        w.did_you_mean,
        w.cancels,
        w.rejected,
        w.no_action,
        w.enqueued,
    );
    let spans: Vec<String> = profile
        .iter()
        .filter(|(_, _, d)| per_comment_us(*d, n) >= 0.05)
        .map(|(name, calls, d)| format!("{name} {:.1} ({calls})", per_comment_us(*d, n)))
        .collect();
    println!(
        "  spans {} (wall µs per comment, calls; awaits and lock waits included, workers and ingest overlap): {}",
        kind.name(),
        spans.join(", ")
    );
    println!("  cpu {}: {cpu}", kind.name());
    if kind == StoreKind::Postgres {
        let url = args.database_url.as_deref().unwrap_or("");
        let socket = url.contains("%2F") || url.contains("%2f") || url.contains("host=/");
        println!(
            "  note postgres: connected over {}",
            if socket {
                "a Unix socket"
            } else {
                "TCP, where sqlx 0.9.0 leaves Nagle on (sqlx#4335): big statements can wait ~40 ms for a delayed ACK; a Unix-socket URL avoids it"
            }
        );
    }
    if let Some(rounds) = vacuums {
        println!(
            "  note {}: VACUUM (ANALYZE) ran {rounds} times during the run (--pg-vacuum {})",
            kind.name(),
            args.pg_vacuum_secs
        );
    }
    for line in &checks.lines {
        println!("  check {}: {line}", kind.name());
    }
    Ok(!checks.failed)
}

// ---------------------------------------------------------------------------------
// CPU accounting
// ---------------------------------------------------------------------------------

/// Linux clock ticks per second (`getconf CLK_TCK`; 100 on every mainstream kernel).
const TICKS_PER_SEC: f64 = 100.0;

/// User + system CPU ticks of a process (`/proc/<pid>/stat`, fields 14 and 15).
fn process_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: fields are counted after its closing `)`.
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Machine-wide (busy, steal, total) ticks from `/proc/stat`.
fn machine_ticks() -> Option<(u64, u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal …
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    let steal = v.get(7).copied().unwrap_or(0);
    Some((total - idle - steal, steal, total))
}

/// The server process ids behind every connection of a PostgreSQL pool: opens them
/// all at once so each is asked once (the pool keeps them for the run).
async fn pg_backend_pids(store: &PgStore, n: usize) -> Vec<String> {
    let mut held = Vec::with_capacity(n);
    let mut pids = Vec::with_capacity(n);
    for _ in 0..n {
        let Ok(mut conn) = store.pool().acquire().await else {
            break;
        };
        if let Ok(pid) = sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid()")
            .fetch_one(&mut *conn)
            .await
        {
            pids.push(pid.to_string());
        }
        held.push(conn);
    }
    pids
}

/// CPU used between two [`CpuMark`]s.
#[derive(Debug, Clone, Copy, Default)]
struct CpuMark {
    bench: u64,
    server: u64,
    machine_busy: u64,
    machine_steal: u64,
    machine_total: u64,
}

impl CpuMark {
    fn now(server_pids: &[String]) -> CpuMark {
        let (machine_busy, machine_steal, machine_total) = machine_ticks().unwrap_or_default();
        CpuMark {
            bench: process_ticks("self").unwrap_or(0),
            server: server_pids.iter().filter_map(|p| process_ticks(p)).sum(),
            machine_busy,
            machine_steal,
            machine_total,
        }
    }

    /// "bench X µs/c[, PostgreSQL Y µs/c]; machine busy Z %, steal W %".
    fn describe(self, later: CpuMark, n: usize, with_server: bool) -> String {
        let us = |ticks: u64| ticks as f64 / TICKS_PER_SEC * 1e6 / n.max(1) as f64;
        let total = later
            .machine_total
            .saturating_sub(self.machine_total)
            .max(1) as f64;
        let mut out = format!(
            "CPU: this process {:.0} µs/c",
            us(later.bench.saturating_sub(self.bench))
        );
        if with_server {
            out.push_str(&format!(
                ", PostgreSQL backends {:.0} µs/c",
                us(later.server.saturating_sub(self.server))
            ));
        }
        out.push_str(&format!(
            "; machine busy {:.0} %, steal {:.0} %",
            100.0 * later.machine_busy.saturating_sub(self.machine_busy) as f64 / total,
            100.0 * later.machine_steal.saturating_sub(self.machine_steal) as f64 / total,
        ));
        out
    }
}

// ---------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------

fn per_comment_us(d: Duration, n: usize) -> f64 {
    d.as_secs_f64() * 1e6 / n.max(1) as f64
}

/// `sorted[q]`, nearest rank.
fn pct(sorted: &[i64], q: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn pctf(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// `19530.4` → `19,530`.
fn thousands(x: f64) -> String {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let digits = (x.max(0.0).round() as u64).to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The one-minute load average.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "n/a".to_owned())
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            std::process::exit(2);
        }
    };
    let load = match build_load(&args) {
        Ok(l) => Arc::new(l),
        Err(e) => {
            eprintln!("commerce_bench: could not build the load: {e}");
            std::process::exit(1);
        }
    };
    let (classify_us, precomputed) = time_classifier(&load);
    let verify_parse_us = match time_verify_parse(&load) {
        Ok(us) => us,
        Err(e) => {
            eprintln!("commerce_bench: the deliveries do not verify or parse: {e}");
            std::process::exit(1);
        }
    };
    let phases = Phases {
        classify_us,
        verify_parse_us,
        ..Phases::default()
    };
    let precomputed = Arc::new(precomputed);
    let mut ok = true;
    for kind in args.stores.clone() {
        if kind == StoreKind::Postgres && args.database_url.is_none() {
            println!(
                "commerce postgres: skipped: META_TEST_DATABASE_URL is not set (or pass --database-url); loadavg {}",
                loadavg()
            );
            continue;
        }
        match bench_store(kind, &args, &load, phases, &precomputed).await {
            Ok(clean) => ok &= clean,
            Err(e) => {
                println!("commerce {}: error: {e}", kind.name());
                ok = false;
            }
        }
    }
    if !ok {
        std::process::exit(1);
    }
}
