//! `meta demo`'s main part: a whole Facebook Live sale, end to end, on loopback.
//!
//! Everything a seller's deployment has, in one process and over real HTTP:
//!
//! ```text
//! meta-sandbox (fake Graph + webhook emitter) ──signed POST──▶ meta-server /webhooks/meta
//!        ▲                                                        │ engine: inbox (SQLite)
//!        │ public + private replies, messages                     ▼
//!   outbox dispatcher ◀── outbox ◀── worker: classify, reserve, orders, waitlist
//!        │ {payment_link} → Flow (CLP) / Mercado Pago (MXN) fakes
//!        ▼
//!  fake provider "pays" ──signed POST──▶ /webhooks/payments/{gateway} → Paid
//! ```
//!
//! The sale: ~3,000 comments from ~400 buyers written by
//! [`meta_commerce::simulate::comments`] (Spanish, English, Portuguese, each with its
//! label), delivered by the sandbox's emitter in batches with deliberate duplicates, a
//! tenth of the batches redelivered, and a quarter of the buyers writing to the Page on
//! Messenger (which opens their 24-hour window; a few say STOP). Then about half of the
//! open orders are paid through the fake gateways, the clock jumps 21 minutes (payment
//! reminders) and 10 more (holds expire, the waitlist is promoted), and the demo prints
//! what happened and checks it: no oversell, stock that reconciles with the orders, no
//! comment processed twice, no second open order for a buyer, no second private reply.
//!
//! Time: the engine, the dispatcher and the payment fakes share a [`JumpClock`]: real
//! time plus the jumps, so sleeps, timeouts and latencies stay real while holds can run
//! out on demand. The sandbox's clock is moved by the same jumps.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use clap::Args;
use futures_util::StreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use meta_commerce::catalog::Catalog;
use meta_commerce::classify::{Intent, ItemRequest, RulesClassifier};
use meta_commerce::dispatch::{DispatchConfig, Dispatcher, GraphSender};
use meta_commerce::engine::{Engine, EngineConfig};
use meta_commerce::payments::PaymentRouter;
use meta_commerce::simulate::{self, ScriptedComment};
use meta_commerce::store::{
    AuditRecord, CommerceCounts, CommerceStore, LogFilter, Order, OrderFilter, OrderStatus,
    OutboxKind, OutboxMessage, OutboxStatus, ProductRecord, Shop,
};
use meta_commerce::{Currency, Money};
use meta_core::Client;
use meta_core::clock::{Clock, Sleep};
use meta_core::webhook::Verifier;
use meta_graph::messenger::policy::PolicyStore;
use meta_graph::messenger::{MessagingGuard, PolicyConfig};
use meta_graph::store::to_ms;
use meta_payments::fake::{FakeFlow, FakeFlowConfig, FakeMercadoPago, FakeMercadoPagoConfig};
use meta_payments::{
    BankAccount, FlowConfig, FlowGateway, MercadoPagoConfig, MercadoPagoGateway, TransferConfig,
    TransferGateway,
};
use meta_sandbox::{LiveSale, QuotaConfig, Sandbox, SandboxConfig, WebhookEmitter};
use meta_server::{AppState, Server};
use meta_store_sqlite::SqliteStore;
use secrecy::SecretString;
use serde_json::{Value, json};

/// The demo catalog: the live-comments dataset's catalog (a Chilean clothing shop in
/// CLP merged with a Mexican cosmetics shop in MXN; lot numbers #1–#30).
const CATALOG: &[u8] = include_bytes!("../data/demo-catalog.csv");
const SHOP_ID: &str = "tienda-en-vivo";
const VERIFY_TOKEN: &str = "demo-verify-token";
const FLOW_API_KEY: &str = "demo-flow-api-key";
const FLOW_SECRET: &str = "demo-flow-secret-key";
const MP_WEBHOOK_SECRET: &str = "demo-mercadopago-webhook-secret";
/// How long the demo waits for the pipeline to settle after each phase.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(90);

/// Options of the live sale (part of `meta demo`'s options).
#[derive(Debug, Args)]
pub(crate) struct LiveArgs {
    /// Buyers in the live.
    #[arg(long, default_value_t = 400)]
    buyers: usize,
    /// Comments they write (every buyer comments once before anyone comments twice).
    #[arg(long, default_value_t = 3000)]
    comments: usize,
    /// Comments per webhook delivery.
    #[arg(long, default_value_t = 25)]
    batch_size: usize,
    /// Comments per second the emitter delivers.
    #[arg(long, default_value_t = 800.0)]
    rate: f64,
    /// Share (0–1) of the open orders whose buyers pay.
    #[arg(long, default_value_t = 0.55)]
    pay_share: f64,
}

/// Real time plus the demo's jumps: sleeps are real, "now" can leap forward.
#[derive(Debug)]
struct JumpClock {
    origin: Instant,
    jumped_ms: AtomicU64,
}

impl JumpClock {
    fn new() -> Self {
        JumpClock {
            origin: Instant::now(),
            jumped_ms: AtomicU64::new(0),
        }
    }

    fn jumped(&self) -> Duration {
        Duration::from_millis(self.jumped_ms.load(Ordering::SeqCst))
    }

    fn jump(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.jumped_ms.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for JumpClock {
    fn now(&self) -> SystemTime {
        SystemTime::now() + self.jumped()
    }
    fn elapsed(&self) -> Duration {
        self.origin.elapsed() + self.jumped()
    }
    fn sleep(&self, duration: Duration) -> Sleep<'_> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A temporary directory for the store, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<Self> {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path =
            std::env::temp_dir().join(format!("meta-demo-live-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(TempDir(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn step(n: u32, title: &str) {
    println!("\n[{n}/6] {title}");
}

/// What the emitter did.
#[derive(Debug, Default)]
struct Tally {
    /// Comment batches (first pass).
    batches: usize,
    /// POSTs of comment batches, every attempt and duplicate included.
    posts: usize,
    /// Comments carried by those POSTs.
    comments_delivered: usize,
    /// Deliberate duplicate POSTs (Meta's at-least-once delivery).
    duplicates: usize,
    /// Batches delivered again after the sale (as after a timeout on Meta's side).
    redelivered: usize,
    /// Batches not acknowledged within the emitter's redelivery period.
    undelivered: usize,
    /// Messenger messages delivered.
    messenger: usize,
    /// Round trips of single, first-attempt POSTs, in milliseconds.
    rtt_ms: Vec<f64>,
}

impl Tally {
    async fn deliver(&mut self, emitter: &WebhookEmitter, payload: &Value, comments: usize) {
        let t = Instant::now();
        let d = emitter.deliver(payload).await;
        let took = t.elapsed();
        let posts = d.attempts as usize + usize::from(d.duplicated);
        self.posts += posts;
        self.comments_delivered += comments * posts;
        self.duplicates += usize::from(d.duplicated);
        if !d.delivered {
            self.undelivered += 1;
        }
        if d.attempts == 1 && !d.duplicated {
            self.rtt_ms.push(took.as_secs_f64() * 1000.0);
        }
    }
}

/// The progress bars (stderr; indicatif draws nothing when it is not a terminal).
struct Bars {
    multi: MultiProgress,
    delivered: ProgressBar,
    processed: ProgressBar,
    sent: ProgressBar,
}

impl Bars {
    fn new(comments: u64) -> Result<Self> {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
        let style = ProgressStyle::with_template(
            "  {prefix:<20} [{bar:32.cyan/blue}] {pos:>5}/{len:<5} {msg}",
        )?
        .progress_chars("=> ");
        let bar = |prefix: &'static str, len: u64| {
            multi.add(
                ProgressBar::new(len)
                    .with_style(style.clone())
                    .with_prefix(prefix),
            )
        };
        Ok(Bars {
            delivered: bar("comments delivered", comments),
            processed: bar("comments processed", comments),
            sent: bar("messages sent", 0),
            multi,
        })
    }

    fn finish(&self) {
        for b in [&self.delivered, &self.processed, &self.sent] {
            b.finish();
        }
        let _ = self.multi.clear();
    }
}

/// Keeps the "processed" and "messages" bars current until `stop` turns true.
fn watch_progress(
    bars: &Bars,
    engine: Arc<Engine>,
    store: Arc<dyn CommerceStore>,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    let processed = bars.processed.clone();
    let sent = bars.sent.clone();
    tokio::spawn(async move {
        while !stop.load(Ordering::SeqCst) {
            processed.set_position(engine.stats().processed.load(Ordering::Relaxed));
            if let Ok(c) = store.counts(SHOP_ID).await {
                let total: u64 = c.outbox.iter().map(|(_, n)| n).sum();
                let done = total - CommerceCounts::get(&c.outbox, "pending");
                sent.set_length(total);
                sent.set_position(done);
                sent.set_message(format!(
                    "({} suppressed)",
                    CommerceCounts::get(&c.outbox, "suppressed")
                ));
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    })
}

/// Waits until nothing is left to do: no pending comment or message, no hold due to
/// expire and no reminder due — three polls in a row, so work that is committing
/// between two polls is not missed.
async fn settle(
    store: &Arc<dyn CommerceStore>,
    clock: &JumpClock,
    reminder_before_ms: i64,
) -> Result<bool> {
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    let mut quiet = 0;
    loop {
        let c = store.counts(SHOP_ID).await?;
        let now = to_ms(clock.now());
        let idle = CommerceCounts::get(&c.inbox, "pending") == 0
            && CommerceCounts::get(&c.outbox, "pending") == 0
            && store.due_expiries(now, 1).await?.is_empty()
            && store
                .due_reminders(now + reminder_before_ms, 1)
                .await?
                .is_empty();
        quiet = if idle { quiet + 1 } else { 0 };
        if quiet >= 3 {
            return Ok(true);
        }
        if Instant::now() > deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The LiveSale's comments carry ids the sandbox does not know; the Page can only reply
/// to comments that exist, so each is also written on the sandbox's live video and the
/// webhook carries the sandbox's id for it, as Meta's would.
fn use_sandbox_ids(payload: &mut Value, ids: &HashMap<String, String>) {
    let Some(entries) = payload.get_mut("entry").and_then(Value::as_array_mut) else {
        return;
    };
    for entry in entries {
        let Some(changes) = entry.get_mut("changes").and_then(Value::as_array_mut) else {
            continue;
        };
        for change in changes {
            let Some(value) = change.get_mut("value") else {
                continue;
            };
            let new = value
                .get("comment_id")
                .and_then(Value::as_str)
                .and_then(|c| ids.get(c))
                .cloned();
            if let Some(id) = new {
                value["comment_id"] = Value::String(id);
            }
        }
    }
}

/// A Messenger webhook: one entry per message, as Meta sends them.
fn messenger_payload(page_id: &str, messages: &[(String, String, String)], at_ms: i64) -> Value {
    let entries: Vec<Value> = messages
        .iter()
        .map(|(psid, mid, text)| {
            json!({"id": page_id, "time": at_ms, "messaging": [{
                "sender": {"id": psid},
                "recipient": {"id": page_id},
                "timestamp": at_ms,
                "message": {"mid": mid, "text": text},
            }]})
        })
        .collect();
    json!({"object": "page", "entry": entries})
}

const BUYER_MESSAGES: &[&str] = &[
    "hola! cómo pago? 🙏",
    "me mandas el link de pago porfa",
    "hi! how do I pay?",
    "oi, como faço o pagamento?",
    "hacen envío a Valparaíso?",
    "gracias!! ya vi el resumen",
];

/// The p-th percentile (nearest rank) of `values`.
fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

fn pct(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        return 100.0;
    }
    #[allow(clippy::cast_precision_loss)]
    let r = part as f64 * 100.0 / whole as f64;
    r
}

/// Items as the engine applies them: one entry per SKU (largest quantity), sorted.
fn normalized(items: &[ItemRequest]) -> Vec<(String, u32)> {
    let mut by_sku: BTreeMap<String, u32> = BTreeMap::new();
    for i in items.iter().filter(|i| i.qty > 0) {
        let q = by_sku.entry(i.sku.clone()).or_default();
        *q = (*q).max(i.qty);
    }
    by_sku.into_iter().collect()
}

/// The reason of a suppressed or failed message without its details.
fn reason_of(m: &OutboxMessage) -> String {
    let detail = m.detail.as_deref().unwrap_or("no detail");
    let cut = detail.find([':', '(']).unwrap_or(detail.len());
    detail[..cut].trim().to_owned()
}

fn joined<K: std::fmt::Display, V: std::fmt::Display>(items: &[(K, V)]) -> String {
    items
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Counts by key, largest first.
fn ranked<'a>(keys: impl Iterator<Item = &'a str>) -> Vec<(&'a str, usize)> {
    let mut m: HashMap<&str, usize> = HashMap::new();
    for k in keys {
        *m.entry(k).or_default() += 1;
    }
    let mut v: Vec<(&str, usize)> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v
}

/// One of the final checks.
struct Check {
    ok: bool,
    line: String,
}

/// Runs the live sale; `Ok(false)` when a check does not hold.
#[allow(clippy::too_many_lines)] // the demo's script, read top to bottom
pub(crate) async fn run(args: &LiveArgs, seed: u64) -> Result<bool> {
    if args.buyers == 0 || args.comments == 0 {
        bail!("--buyers and --comments must be at least 1");
    }
    if !(1..=1000).contains(&args.batch_size) {
        bail!("--batch-size must be between 1 and 1000 (Meta batches up to 1,000 updates)");
    }
    if !(args.rate.is_finite() && args.rate > 0.0) {
        bail!("--rate must be a positive number of comments per second");
    }
    if !(0.0..=1.0).contains(&args.pay_share) {
        bail!("--pay-share must be between 0 and 1");
    }
    let started = Instant::now();
    println!(
        "meta demo — a Facebook Live sale, end to end on loopback (seed {seed}, {} buyers, {} comments)",
        args.buyers, args.comments
    );

    // ------------------------------------------------------------------ 1
    step(
        1,
        "Start: sandbox, SQLite store, payment fakes, engine, server",
    );
    // Quotas sized for a sale: thousands of replies in a minute (a real Page would
    // spread them; the governor still reads the usage headers).
    let sandbox = Sandbox::start_with(
        SandboxConfig::default()
            .seed(seed)
            .quotas(QuotaConfig::default().app_calls(500_000).buc_calls(500_000)),
    )
    .await
    .context("starting the sandbox")?;
    let control = sandbox.control();
    let fx = sandbox.fixtures().clone();
    let page = fx.pages.first().context("the sandbox has no Page")?.clone();
    let live_video = control
        .live_video_id(&page.id)
        .context("the sandbox's first Page has no live broadcast")?;

    let clock = Arc::new(JumpClock::new());
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let dir = TempDir::new()?;
    let db_path = dir.path().join("shop.db");
    let sqlite = Arc::new(
        SqliteStore::open(&db_path)
            .await
            .with_context(|| format!("opening {}", db_path.display()))?,
    );
    let store: Arc<dyn CommerceStore> = sqlite.clone();
    let policy: Arc<dyn PolicyStore> = sqlite;

    // Bound first: the payment providers need our notification URLs.
    let server = Server::bind(([127, 0, 0, 1], 0).into()).await?;
    let base = format!("http://{}", server.local_addr()?);

    let flow_fake = FakeFlow::start_with(
        FakeFlowConfig::new(FLOW_API_KEY, FLOW_SECRET).with_clock(dyn_clock.clone()),
    )
    .await?;
    let mp_fake = FakeMercadoPago::start_with(
        FakeMercadoPagoConfig::new(MP_WEBHOOK_SECRET).with_clock(dyn_clock.clone()),
    )
    .await?;
    let flow = FlowGateway::new(
        FlowConfig::new(
            flow_fake.api_key(),
            flow_fake.secret_key(),
            "pagos@tienda.example",
        )
        .with_base_url(flow_fake.base_url())
        .with_urls(
            format!("{base}/webhooks/payments/flow"),
            format!("{base}/gracias"),
        ),
        dyn_clock.clone(),
    )?;
    let mercadopago = MercadoPagoGateway::new(
        MercadoPagoConfig::new(
            SecretString::from(mp_fake.access_token()),
            mp_fake.webhook_secret(),
        )
        .with_base_url(mp_fake.base_url())
        .with_notification_url(format!("{base}/webhooks/payments/mercadopago")),
        dyn_clock.clone(),
    )?;
    let transfer = TransferGateway::new(TransferConfig::new(BankAccount::new(
        "Banco de Chile",
        "Cuenta corriente 00-123-45678-09",
        "Tienda en Vivo SpA",
        "RUT",
        "76.123.456-7",
    )));
    let payments = Arc::new(
        PaymentRouter::new(dyn_clock.clone())
            .with_gateway(Arc::new(flow))
            .with_gateway(Arc::new(mercadopago))
            .with_gateway(Arc::new(transfer)),
    );

    let guard = Arc::new(MessagingGuard::new(PolicyConfig::default(), policy));
    let engine_config = EngineConfig::default().worker_interval(Duration::from_millis(100));
    let reminder_before_ms = engine_config.reminder_before_ms;
    let engine = Engine::builder(store.clone(), dyn_clock.clone())
        .classifier(Arc::new(RulesClassifier::new()))
        .verifier(Verifier::new(SecretString::from(fx.app_secret.clone())))
        .guard(guard.clone())
        .payments(payments)
        .config(engine_config)
        .build();

    let graph = Client::builder()
        .base_url(sandbox.base_url().to_owned())
        .clock(dyn_clock.clone())
        .access_token(page.access_token.clone())
        .build()?;
    let sender = Arc::new(GraphSender::for_page(page.id.clone(), graph, guard));
    let mut dispatch = DispatchConfig::default();
    dispatch.poll_interval = Duration::from_millis(50);
    dispatch.batch_size = 100;
    let dispatcher =
        Dispatcher::new(store.clone(), sender, engine.clone(), dyn_clock.clone()).config(dispatch);

    let state = AppState::new(engine.clone(), SecretString::from(VERIFY_TOKEN));
    let (stop_server, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(
        server
            .worker(true)
            .dispatcher(dispatcher)
            .run(state, async move {
                let _ = stopped.await;
            }),
    );
    println!(
        "  sandbox {} · Page {} ({}) · live video {live_video}",
        sandbox.base_url(),
        page.name,
        page.id
    );
    println!("  store sqlite:{}", db_path.display());
    println!(
        "  payments: Flow (CLP) {} · Mercado Pago (MXN) {} · bank transfer as the last resort",
        flow_fake.base_url(),
        mp_fake.base_url()
    );
    println!(
        "  meta-server {base}: webhooks + engine worker + outbox dispatcher (Graph → sandbox, Page token)"
    );

    // ------------------------------------------------------------------ 2
    step(2, "The shop: catalog, live, webhook subscription");
    let shop = Shop::new(
        SHOP_ID,
        "Tienda en Vivo",
        page.id.clone(),
        "CL",
        Currency::CLP,
    );
    engine.put_shop(&shop).await?;
    let imported = engine.import_catalog_csv(SHOP_ID, CATALOG).await?;
    let catalog = Catalog::from_csv(CATALOG)?;
    let in_currency = |c: Currency| {
        catalog
            .products()
            .iter()
            .filter(|p| p.price.currency == c)
            .count()
    };
    let post_id = format!("{}_{live_video}", page.id);
    let live = engine
        .open_live(SHOP_ID, &post_id, "Liquidación de temporada")
        .await?;
    let emitter = WebhookEmitter::for_sandbox(&sandbox, &format!("{base}/webhooks/meta"))?
        .duplicate_rate(0.05)?
        .seed(seed)
        // A demo fails fast instead of redelivering for Meta's 36 hours.
        .initial_backoff(Duration::from_millis(500))
        .redeliver_for(Duration::from_secs(20));
    emitter
        .verify_subscription(VERIFY_TOKEN)
        .await
        .context("the webhook subscription handshake")?;
    println!(
        "  shop `{SHOP_ID}` (CL, CLP, holds of {} min) · {} products ({} in CLP, {} in MXN), {} units",
        shop.hold_ms / 60_000,
        imported.products,
        in_currency(Currency::CLP),
        in_currency(Currency::MXN),
        imported.units
    );
    println!("  live `{}` open on post {post_id}", live.id);
    println!("  subscription handshake: hub.challenge echoed by GET /webhooks/meta");

    // ------------------------------------------------------------------ 3
    step(
        3,
        "The live: comments delivered as signed webhooks (duplicates, redeliveries), Messenger messages",
    );
    let script = simulate::comments(&catalog, args.comments, seed);
    let sale = LiveSale::new(page.id.clone(), args.buyers)
        .comments(args.comments)
        .messages(script.iter().map(|c| c.text.clone()).collect())
        .batch_size(args.batch_size)
        .rate_per_sec(args.rate)
        .video_post_id(live_video.clone())
        .page_name(page.name.clone())
        .seed(seed);
    let generated = sale.generate();
    let mut sandbox_ids: HashMap<String, String> = HashMap::with_capacity(generated.len());
    let mut labels: HashMap<String, &ScriptedComment> = HashMap::with_capacity(generated.len());
    for (c, label) in generated.iter().zip(&script) {
        let id = control
            .add_comment(&live_video, &c.buyer_id, &c.buyer_name, &c.message)
            .context("adding a comment to the sandbox's live video")?;
        labels.insert(id.clone(), label);
        sandbox_ids.insert(c.comment_id.clone(), id);
    }
    let mut batches = sale.batches();
    for (payload, _) in &mut batches {
        use_sandbox_ids(payload, &sandbox_ids);
    }

    // A quarter of the buyers write to the Page (opening their 24-hour window); about
    // one buyer in a hundred says STOP instead.
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut buyers: Vec<&str> = Vec::new();
    let mut seen = HashSet::new();
    for c in &generated {
        if seen.insert(c.buyer_id.as_str()) {
            buyers.push(c.buyer_id.as_str());
        }
    }
    let mut writers: Vec<(String, &str)> = Vec::new();
    for b in &buyers {
        if rng.f64() >= 0.25 {
            continue;
        }
        let text = if rng.f64() < 0.04 {
            "STOP"
        } else {
            BUYER_MESSAGES[rng.usize(0..BUYER_MESSAGES.len())]
        };
        writers.push(((*b).to_owned(), text));
    }
    let opted_out = writers.iter().filter(|(_, t)| *t == "STOP").count();
    let message_chunks: Vec<&[(String, &str)]> = writers.chunks(25).collect();
    // Messenger chunk j goes after comment batch slot[j], spread over the sale.
    let slots: Vec<usize> = (0..message_chunks.len())
        .map(|j| (j + 1) * batches.len() / (message_chunks.len() + 1))
        .collect();

    let bars = Bars::new(args.comments as u64)?;
    let watching = Arc::new(AtomicBool::new(false));
    let watcher = watch_progress(&bars, engine.clone(), store.clone(), watching.clone());
    let mut tally = Tally::default();
    let gap = sale.batch_gap();
    let sale_started = tokio::time::Instant::now();
    for (i, (payload, events)) in batches.iter().enumerate() {
        // Paced by schedule, so a slow answer does not slow the sale down further.
        tokio::time::sleep_until(sale_started + gap * u32::try_from(i).unwrap_or(u32::MAX)).await;
        tally.deliver(&emitter, payload, *events).await;
        tally.batches += 1;
        bars.delivered.inc(*events as u64);
        bars.delivered
            .set_message(format!("({} duplicate POSTs)", tally.duplicates));
        for (j, chunk) in message_chunks.iter().enumerate() {
            if slots[j] != i {
                continue;
            }
            let messages: Vec<(String, String, String)> = chunk
                .iter()
                .map(|(psid, text)| {
                    let mid = control.simulate_inbound_message(&page.id, psid, text);
                    (psid.clone(), mid, (*text).to_owned())
                })
                .collect();
            let payload = messenger_payload(&page.id, &messages, to_ms(clock.now()));
            if !emitter.deliver(&payload).await.delivered {
                tally.undelivered += 1;
            }
            tally.messenger += messages.len();
        }
    }
    let delivery_time = sale_started.elapsed();
    // Meta redelivers batches whose acknowledgement it did not see in time.
    let mut order: Vec<usize> = (0..batches.len()).collect();
    rng.shuffle(&mut order);
    let again = batches.len().div_ceil(10);
    for &i in order.iter().take(again) {
        let (payload, events) = &batches[i];
        tally.deliver(&emitter, payload, *events).await;
        tally.redelivered += 1;
    }
    println!(
        "  {} comments in {} batches of {} in {:.1} s, {} batches redelivered, {} Messenger messages ({opted_out} × STOP)",
        args.comments,
        tally.batches,
        args.batch_size,
        delivery_time.as_secs_f64(),
        tally.redelivered,
        tally.messenger
    );

    // ------------------------------------------------------------------ 4
    step(4, "Drain, then buyers pay through the fake gateways");
    let drained_sale = settle(&store, &clock, reminder_before_ms).await?;
    let after_sale = started.elapsed();
    println!(
        "  inbox drained and outbox sent {:.1} s after the first comment",
        sale_started.elapsed().as_secs_f64()
    );
    let mut open = store
        .orders(&OrderFilter {
            shop_id: Some(SHOP_ID.to_owned()),
            status: Some(OrderStatus::Open),
            ..OrderFilter::default()
        })
        .await?;
    rng.shuffle(&mut open);
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let paying = ((open.len() as f64) * args.pay_share).round() as usize;
    let to_pay: Vec<String> = open.iter().take(paying).map(|o| o.id.clone()).collect();
    let pay_started = Instant::now();
    let results: Vec<Result<(String, Option<u16>, f64)>> = futures_util::stream::iter(to_pay)
        .map(|order_id| {
            let engine = engine.clone();
            let store = store.clone();
            let (flow_fake, mp_fake) = (flow_fake.clone(), mp_fake.clone());
            async move {
                let order = store
                    .order(&order_id)
                    .await?
                    .with_context(|| format!("order {order_id} vanished"))?;
                // The link the buyer was sent; a newer order version gets a fresh one,
                // as the buyer would from the last message.
                let link = match order.payment {
                    Some(p) if p.for_version == order.version => p,
                    _ => engine
                        .ensure_payment_link(&order_id)
                        .await?
                        .with_context(|| format!("order {order_id} has no payment link"))?,
                };
                let t = Instant::now();
                let status = match link.gateway.as_str() {
                    "flow" => flow_fake.pay(&link.provider_ref).await?.status,
                    "mercadopago" => mp_fake.pay(&link.provider_ref).await?.status,
                    _ => {
                        engine.confirm_transfer(&order_id).await?;
                        Some(200)
                    }
                };
                Ok((link.gateway, status, t.elapsed().as_secs_f64() * 1000.0))
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let mut by_gateway: BTreeMap<String, usize> = BTreeMap::new();
    let mut pay_rtt = Vec::new();
    let mut refused = 0;
    for r in results {
        let (gateway, status, ms) = r?;
        *by_gateway.entry(gateway).or_default() += 1;
        if status.is_some_and(|s| (200..300).contains(&s)) {
            pay_rtt.push(ms);
        } else {
            refused += 1;
        }
    }
    let drained_pay = settle(&store, &clock, reminder_before_ms).await?;
    println!(
        "  {paying} of {} open orders paid in {:.1} s ({}); notification → settled p50 {:.1} ms · p99 {:.1} ms",
        open.len(),
        pay_started.elapsed().as_secs_f64(),
        joined(&by_gateway.iter().collect::<Vec<_>>()),
        percentile(&pay_rtt, 50.0),
        percentile(&pay_rtt, 99.0)
    );

    // ------------------------------------------------------------------ 5
    step(
        5,
        "The clock jumps: +21 min (payment reminders), +10 min (holds expire, waitlist promoted)",
    );
    for (by, what) in [
        (21, "reminders enqueued"),
        (10, "holds expired, waitlist promoted"),
    ] {
        let jump = Duration::from_secs(by * 60);
        clock.jump(jump);
        control.advance_clock(jump);
        let ok = settle(&store, &clock, reminder_before_ms).await?;
        let c = store.counts(SHOP_ID).await?;
        println!(
            "  +{by} min: {what}{} · open orders {} · expired {} · waitlist {}",
            if ok { "" } else { " (NOT settled in time)" },
            CommerceCounts::get(&c.orders, "open"),
            CommerceCounts::get(&c.orders, "expired"),
            c.waitlist
        );
        if !ok {
            break;
        }
    }
    let drained_end = settle(&store, &clock, reminder_before_ms).await?;
    watching.store(true, Ordering::SeqCst);
    let _ = watcher.await;
    bars.finish();

    // ------------------------------------------------------------------ 6
    step(6, "Summary");
    let all = LogFilter {
        shop_id: Some(SHOP_ID.to_owned()),
        ..LogFilter::default()
    };
    let counts = store.counts(SHOP_ID).await?;
    let orders = store
        .orders(&OrderFilter {
            shop_id: Some(SHOP_ID.to_owned()),
            ..OrderFilter::default()
        })
        .await?;
    let outbox = store.outbox(&all).await?;
    let audit = store.audit(&all).await?;
    let products = store.products(SHOP_ID).await?;
    let waiting = store.waitlist_entries(SHOP_ID).await?;
    let sent_by_sandbox = control.sent_messages();

    let mut checks: Vec<Check> = Vec::new();
    let stats = engine.stats();
    let inbox_rows: u64 = counts.inbox.iter().map(|(_, n)| n).sum();
    println!(
        "  webhooks      {} POSTs for {} batches ({} deliberate duplicates, {} redelivered) · {} comments delivered → {inbox_rows} unique in the inbox ({} duplicates ignored)",
        tally.posts,
        tally.batches,
        tally.duplicates,
        tally.redelivered,
        tally.comments_delivered,
        stats.duplicates.load(Ordering::Relaxed)
    );
    println!(
        "  POST → 200    p50 {:.1} ms · p99 {:.1} ms (signature checked, inbox row durable)",
        percentile(&tally.rtt_ms, 50.0),
        percentile(&tally.rtt_ms, 99.0)
    );

    // Decisions and the classifier against the generator's labels.
    let decisions: Vec<&AuditRecord> = audit
        .iter()
        .filter(|a| a.comment_id.is_some() && a.classifier.is_some())
        .collect();
    let by_comment: HashMap<&str, &AuditRecord> = decisions
        .iter()
        .filter_map(|a| a.comment_id.as_deref().map(|c| (c, *a)))
        .collect();
    let (mut intent_ok, mut purchases, mut items_ok) = (0, 0, 0);
    for (comment, label) in &labels {
        let Some(a) = by_comment.get(comment.as_str()) else {
            continue;
        };
        let intent_agrees = a.intent.as_deref() == Some(label.intent.as_str());
        intent_ok += usize::from(intent_agrees);
        if label.intent == Intent::Purchase {
            purchases += 1;
            let got: Vec<ItemRequest> = a
                .items
                .as_deref()
                .and_then(|j| serde_json::from_str(j).ok())
                .unwrap_or_default();
            items_ok += usize::from(intent_agrees && normalized(&got) == normalized(&label.items));
        }
    }
    let recognised = decisions
        .iter()
        .filter(|a| a.intent.as_deref() == Some("purchase"))
        .count();
    println!(
        "  classifier    {recognised} purchases recognised ({purchases} written) · intent agrees with the label on {:.1} % of {} comments · items exact on {:.1} % of purchases",
        pct(intent_ok, labels.len()),
        labels.len(),
        pct(items_ok, purchases)
    );
    println!(
        "  decisions     {}",
        joined(&ranked(decisions.iter().map(|a| a.action.as_str())))
    );

    let status_count = |s: OrderStatus| orders.iter().filter(|o| o.status == s).count();
    let promoted = audit
        .iter()
        .filter(|a| a.action == "promoted_from_waitlist")
        .count();
    let action_count = |name: &str| audit.iter().filter(|a| a.action == name).count();
    println!(
        "  orders        opened {} · paid {} · expired {} · cancelled {} · refund due {} · open {} (holds from waitlist promotions)",
        orders.len(),
        status_count(OrderStatus::Paid),
        status_count(OrderStatus::Expired),
        status_count(OrderStatus::Cancelled),
        status_count(OrderStatus::RefundDue),
        status_count(OrderStatus::Open)
    );
    println!(
        "  waitlist      {promoted} promotions · {} entries still waiting · reminders {} sent, {} skipped (no open window)",
        counts.waitlist,
        action_count("reminder_enqueued"),
        action_count("reminder_skipped")
    );
    let sent: Vec<&OutboxMessage> = outbox
        .iter()
        .filter(|m| m.status == OutboxStatus::Sent)
        .collect();
    let kind_count = |k: OutboxKind| sent.iter().filter(|m| m.kind == k).count();
    println!(
        "  messages      {} sent (public replies {} · private replies {} · Messenger {})",
        sent.len(),
        kind_count(OutboxKind::PublicReply),
        kind_count(OutboxKind::PrivateReply),
        kind_count(OutboxKind::Message)
    );
    let suppressed: Vec<String> = outbox
        .iter()
        .filter(|m| m.status == OutboxStatus::Suppressed)
        .map(reason_of)
        .collect();
    println!(
        "                {} suppressed: {}",
        suppressed.len(),
        joined(&ranked(suppressed.iter().map(String::as_str)))
    );
    let failed: Vec<String> = outbox
        .iter()
        .filter(|m| m.status == OutboxStatus::Failed)
        .map(reason_of)
        .collect();
    if !failed.is_empty() {
        println!(
            "                {} failed: {}",
            failed.len(),
            joined(&ranked(failed.iter().map(String::as_str)))
        );
    }

    // Stock against the catalog and the orders.
    let (mut available, mut reserved, mut sold, mut stocked) = (0_i64, 0_i64, 0_i64, 0_i64);
    let mut sold_out: Vec<&str> = Vec::new();
    let mut oversold: Vec<&str> = Vec::new();
    let mut unreconciled: Vec<&str> = Vec::new();
    let held = |sku: &str, status: OrderStatus| -> i64 {
        orders
            .iter()
            .filter(|o| o.status == status)
            .map(|o| i64::from(o.qty_of(sku)))
            .sum()
    };
    for ProductRecord { product, stock, .. } in &products {
        let initial = catalog.get(&product.sku).map_or(0, |p| i64::from(p.stock));
        available += stock.available;
        reserved += stock.reserved;
        sold += stock.sold;
        stocked += initial;
        if stock.available == 0 {
            sold_out.push(&product.sku);
        }
        if stock.sold + stock.reserved > initial {
            oversold.push(&product.sku);
        }
        if stock.available + stock.reserved + stock.sold != initial
            || stock.reserved != held(&product.sku, OrderStatus::Open)
            || stock.sold != held(&product.sku, OrderStatus::Paid)
        {
            unreconciled.push(&product.sku);
        }
    }
    println!(
        "  stock         {stocked} units: sold {sold} · reserved {reserved} · available {available} · {} SKUs sold out",
        sold_out.len()
    );
    let revenue: BTreeMap<&str, i64> = orders
        .iter()
        .filter(|o| o.status == OrderStatus::Paid)
        .fold(BTreeMap::new(), |mut m, o| {
            *m.entry(o.currency.as_str()).or_default() += o.total_minor;
            m
        });
    println!(
        "  revenue       {}",
        revenue
            .iter()
            .filter_map(|(c, minor)| Currency::parse(c).ok().map(|c| Money::new(*minor, c)))
            .map(|m| m.to_string())
            .collect::<Vec<_>>()
            .join(" · ")
    );

    // Latency: receipt → public reply enqueued (each from the comment's own transaction)
    // and → sent to Meta.
    let publics: Vec<&OutboxMessage> = outbox
        .iter()
        .filter(|m| m.kind == OutboxKind::PublicReply)
        .collect();
    #[allow(clippy::cast_precision_loss)]
    let enqueued: Vec<f64> = publics
        .iter()
        .map(|m| (m.created_at_ms - m.origin_received_at_ms) as f64)
        .collect();
    #[allow(clippy::cast_precision_loss)]
    let replied: Vec<f64> = publics
        .iter()
        .filter(|m| m.status == OutboxStatus::Sent)
        .filter_map(|m| {
            m.finished_at_ms
                .map(|f| (f - m.origin_received_at_ms) as f64)
        })
        .collect();
    println!(
        "  latency       receipt → reply enqueued p50 {:.0} ms · p99 {:.0} ms · receipt → reply sent p50 {:.0} ms · p99 {:.0} ms",
        percentile(&enqueued, 50.0),
        percentile(&enqueued, 99.0),
        percentile(&replied, 50.0),
        percentile(&replied, 99.0)
    );

    // The checks.
    checks.push(Check {
        ok: oversold.is_empty(),
        line: format!("oversold: {}", oversold.len()),
    });
    checks.push(Check {
        ok: unreconciled.is_empty(),
        line: format!(
            "SKUs whose stock does not match the orders: {}",
            unreconciled.len()
        ),
    });
    let unique = labels.len() as u64;
    checks.push(Check {
        ok: inbox_rows == unique,
        line: format!("inbox rows: {inbox_rows} for {unique} unique comments"),
    });
    let mut decided: HashMap<&str, usize> = HashMap::new();
    for a in &decisions {
        if let Some(c) = a.comment_id.as_deref() {
            *decided.entry(c).or_default() += 1;
        }
    }
    let twice = decided.values().filter(|n| **n > 1).count();
    checks.push(Check {
        ok: twice == 0 && decided.len() == labels.len(),
        line: format!(
            "comments processed twice: {twice} ({} of {} processed)",
            decided.len(),
            labels.len()
        ),
    });
    let overlapping = overlapping_orders(&orders);
    checks.push(Check {
        ok: overlapping == 0,
        line: format!("duplicate orders: {overlapping}"),
    });
    // Freed units go to the waitlist at once: nobody may wait for a SKU in stock.
    let free: HashSet<&str> = products
        .iter()
        .filter(|p| p.stock.available > 0)
        .map(|p| p.product.sku.as_str())
        .collect();
    let passed_over = waiting
        .iter()
        .filter(|w| free.contains(w.sku.as_str()))
        .count();
    checks.push(Check {
        ok: passed_over == 0,
        line: format!("waitlisted buyers passed over: {passed_over}"),
    });
    let mut private_per_comment: HashMap<&str, usize> = HashMap::new();
    for m in &sent_by_sandbox {
        if let Some(c) = m.comment_id.as_deref() {
            *private_per_comment.entry(c).or_default() += 1;
        }
    }
    let second_private = private_per_comment.values().filter(|n| **n > 1).count();
    // Only the Page replies under buyers' comments in the sandbox.
    let second_public = labels
        .keys()
        .filter(|c| control.comment_ids(c).len() > 1)
        .count();
    checks.push(Check {
        ok: second_private == 0 && second_public == 0,
        line: format!(
            "comments with a second reply: {} (private replies accepted by the sandbox: {})",
            second_private + second_public,
            private_per_comment.len()
        ),
    });
    checks.push(Check {
        ok: tally.undelivered == 0 && refused == 0,
        line: format!(
            "unacknowledged webhooks: {} (payment notifications refused: {refused})",
            tally.undelivered
        ),
    });
    let left = CommerceCounts::get(&counts.inbox, "pending")
        + CommerceCounts::get(&counts.outbox, "pending");
    checks.push(Check {
        ok: drained_sale && drained_pay && drained_end && left == 0 && failed.is_empty(),
        line: format!("left pending: {left} · failed sends: {}", failed.len()),
    });
    for c in &checks {
        println!("  {} {}", if c.ok { "ok  " } else { "FAIL" }, c.line);
    }
    println!(
        "  wall time     {:.1} s (sale drained at {:.1} s)",
        started.elapsed().as_secs_f64(),
        after_sale.as_secs_f64()
    );

    let _ = stop_server.send(());
    match serving.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => eprintln!("meta demo: the server stopped with an error: {e}"),
        Err(e) => eprintln!("meta demo: the server task failed: {e}"),
    }
    flow_fake.shutdown();
    mp_fake.shutdown();
    sandbox.shutdown().await;
    drop(dir);

    let passed = checks.iter().all(|c| c.ok);
    println!(
        "\n{}",
        if passed {
            "all checks passed"
        } else {
            "SOME CHECKS FAILED"
        }
    );
    Ok(passed)
}

/// Orders of one buyer in one currency on one live that were open at the same time
/// (the next opened before the previous one closed): there must be none.
fn overlapping_orders(orders: &[Order]) -> usize {
    let mut groups: HashMap<(&str, &str, Currency), Vec<&Order>> = HashMap::new();
    for o in orders {
        groups
            .entry((o.live_id.as_str(), o.buyer_id.as_str(), o.currency))
            .or_default()
            .push(o);
    }
    let mut n = 0;
    for list in groups.values_mut() {
        list.sort_by_key(|o| o.created_at_ms);
        for pair in list.windows(2) {
            let closed_at = match pair[0].status {
                OrderStatus::Open => i64::MAX,
                _ => pair[0].updated_at_ms,
            };
            if pair[1].created_at_ms < closed_at {
                n += 1;
            }
        }
    }
    n
}
