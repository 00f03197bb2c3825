//! A webhook emitter: delivers signed webhook batches to a local callback the way Meta
//! does, so receivers can be tested end to end without Meta.
//!
//! - **Signed**: every POST carries `X-Hub-Signature-256: sha256=<hex>` over the exact
//!   body bytes, with `Content-Type: application/json`. Bodies are serialised with
//!   non-ASCII characters escaped as `\uXXXX`, as Meta signs them (facts guide §7.2).
//! - **Redelivered**: a non-2xx answer (or a refused / timed-out connection) is retried
//!   at once, then with doubling back-off, until the redelivery period (Meta: 36 hours
//!   for Graph webhooks) runs out; then the batch is dropped (§7.3).
//! - **Duplicated on purpose**: with [`WebhookEmitter::duplicate_rate`] a delivered
//!   batch is sent a second time, byte for byte, as Meta sometimes does.
//! - **Handshake**: [`WebhookEmitter::verify_subscription`] runs Meta's `GET
//!   ?hub.mode=subscribe&hub.verify_token=..&hub.challenge=..` and checks the echo.
//! - **A live sale**: [`LiveSale`] simulates N buyers commenting on a live video at a
//!   set rate (`feed` / `item: comment` changes with realistic ids, names and Spanish
//!   order messages).
//!
//! Time is injected: waits go through a [`Pause`], so tests use [`RecordedPauses`]
//! (returns at once, remembers every requested wait) and check the back-off schedule
//! without sleeping. Randomness (duplicates, buyers, messages) comes from a seed.
//!
//! The callback must be plain `http://` on a loopback address: this is a test tool and
//! never sends anything off the machine. The HTTP/1.1 exchange is written directly on a
//! `TcpStream` (one request per connection): it needs no TLS, and building an HTTP
//! client here would drag process-global TLS setup into every user of the sandbox.
//!
//! ```no_run
//! # async fn run() -> Result<(), meta_sandbox::EmitError> {
//! use meta_sandbox::{LiveSale, WebhookEmitter};
//!
//! let emitter = WebhookEmitter::new("http://127.0.0.1:3000/webhook", "app-secret")?
//!     .duplicate_rate(0.1)?;
//! let report = emitter
//!     .live_sale(&LiveSale::new("448242228374517", 20).comments(60).rate_per_sec(5.0))
//!     .await;
//! println!("{} delivered, {} redeliveries", report.delivered, report.redeliveries);
//! # Ok(()) }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fastrand::Rng;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::time::graph_time;

/// Why the emitter could not be built or a handshake failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// The callback URL is not `http://<loopback>[:port]/path`.
    #[error("invalid webhook callback URL: {0}")]
    Callback(String),
    /// A setting is out of range.
    #[error("invalid webhook emitter setting: {0}")]
    Config(String),
    /// The subscription handshake failed.
    #[error("webhook subscription handshake failed: {0}")]
    Handshake(String),
}

/// Waits between deliveries. Injected so tests never sleep.
pub trait Pause: Send + Sync + fmt::Debug {
    /// Waits for `duration`.
    fn pause(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// Really waits, with `tokio::time::sleep` (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioPause;

impl Pause for TokioPause {
    fn pause(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Returns at once and records every requested wait: for tests and benchmarks.
#[derive(Debug, Default)]
pub struct RecordedPauses {
    waits: Mutex<Vec<Duration>>,
}

impl RecordedPauses {
    /// An empty recorder.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
    /// Every wait requested so far, in order.
    pub fn waits(&self) -> Vec<Duration> {
        self.waits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
    /// The sum of the waits: the virtual time that passed.
    pub fn total(&self) -> Duration {
        self.waits().iter().sum()
    }
}

impl Pause for RecordedPauses {
    fn pause(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        self.waits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(duration);
        Box::pin(std::future::ready(()))
    }
}

/// What happened to one batch.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivery {
    /// POSTs made for the batch, excluding the deliberate duplicate.
    pub attempts: u32,
    /// Whether a 2xx answer came back.
    pub delivered: bool,
    /// Whether the batch was deliberately sent a second time.
    pub duplicated: bool,
    /// The last HTTP status, `None` when the last attempt could not connect or timed out.
    pub last_status: Option<u16>,
    /// Virtual time spent waiting between attempts.
    pub waited: Duration,
}

/// Totals over several batches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EmitReport {
    /// Batches attempted.
    pub batches: usize,
    /// Updates (changes) in them.
    pub events: usize,
    /// Batches acknowledged with a 2xx.
    pub delivered: usize,
    /// POSTs made, excluding deliberate duplicates.
    pub attempts: usize,
    /// POSTs after the first, per batch (`attempts - batches`).
    pub redeliveries: usize,
    /// Deliberate duplicate POSTs.
    pub duplicates: usize,
    /// Batches given up on after the redelivery period.
    pub dropped: usize,
}

impl EmitReport {
    fn add(&mut self, d: &Delivery, events: usize) {
        self.batches += 1;
        self.events += events;
        self.attempts += d.attempts as usize;
        self.redeliveries += d.attempts.saturating_sub(1) as usize;
        if d.delivered {
            self.delivered += 1;
        } else {
            self.dropped += 1;
        }
        if d.duplicated {
            self.duplicates += 1;
        }
    }
}

/// Where deliveries go.
#[derive(Debug, Clone)]
struct Callback {
    host: String,
    port: u16,
    /// Path and query, e.g. `/webhook?x=1`.
    target: String,
}

impl Callback {
    fn parse(raw: &str) -> Result<Self, EmitError> {
        let url = url::Url::parse(raw).map_err(|e| EmitError::Callback(format!("`{raw}`: {e}")))?;
        if url.scheme() != "http" {
            return Err(EmitError::Callback(format!(
                "`{raw}`: only plain http:// callbacks on loopback are supported"
            )));
        }
        let host = match url.host() {
            Some(url::Host::Ipv4(ip)) if ip.is_loopback() => ip.to_string(),
            Some(url::Host::Ipv6(ip)) if ip.is_loopback() => format!("[{ip}]"),
            Some(url::Host::Domain("localhost")) => "localhost".to_owned(),
            _ => {
                return Err(EmitError::Callback(format!(
                    "`{raw}`: the host must be a loopback address (127.0.0.1, ::1, localhost)"
                )));
            }
        };
        if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
            return Err(EmitError::Callback(format!(
                "`{raw}`: no credentials or fragment allowed"
            )));
        }
        let port = url.port_or_known_default().unwrap_or(80);
        let mut target = url.path().to_owned();
        if let Some(q) = url.query() {
            target.push('?');
            target.push_str(q);
        }
        Ok(Callback { host, port, target })
    }

    fn connect_host(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }
}

/// Delivers signed webhook batches to a loopback callback (see the module docs).
///
/// `Debug` never prints the app secret.
pub struct WebhookEmitter {
    callback: Callback,
    app_secret: String,
    redeliver_for: Duration,
    initial_backoff: Duration,
    max_backoff: Duration,
    timeout: Duration,
    duplicate_rate: f64,
    rng: Mutex<Rng>,
    pause: Arc<dyn Pause>,
}

impl fmt::Debug for WebhookEmitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookEmitter")
            .field("callback", &self.callback)
            .field("app_secret", &"[redacted]")
            .field("redeliver_for", &self.redeliver_for)
            .field("initial_backoff", &self.initial_backoff)
            .field("duplicate_rate", &self.duplicate_rate)
            .finish_non_exhaustive()
    }
}

/// Meta's redelivery window for Graph webhooks (facts guide §7.3).
pub const DEFAULT_REDELIVERY_PERIOD: Duration = Duration::from_secs(36 * 3600);

/// The biggest request a response read accepts; receivers answer with tiny bodies.
const MAX_RESPONSE: usize = 1 << 20;

impl WebhookEmitter {
    /// An emitter for `callback_url` (plain `http://` on loopback) signing with
    /// `app_secret`. Defaults: redelivery for [`DEFAULT_REDELIVERY_PERIOD`] (36 h),
    /// first retry at once then 30 s doubling up to 1 h between attempts, 5 s per
    /// attempt, no duplicates, seed 42, real waits ([`TokioPause`]).
    ///
    /// # Errors
    /// [`EmitError::Callback`] when the URL is not http on a loopback host;
    /// [`EmitError::Config`] for an empty secret.
    pub fn new(callback_url: &str, app_secret: impl Into<String>) -> Result<Self, EmitError> {
        let app_secret = app_secret.into();
        if app_secret.is_empty() {
            return Err(EmitError::Config("the app secret is empty".into()));
        }
        Ok(WebhookEmitter {
            callback: Callback::parse(callback_url)?,
            app_secret,
            redeliver_for: DEFAULT_REDELIVERY_PERIOD,
            initial_backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(3600),
            timeout: Duration::from_secs(5),
            duplicate_rate: 0.0,
            rng: Mutex::new(Rng::with_seed(42)),
            pause: Arc::new(TokioPause),
        })
    }

    /// An emitter signing with a running sandbox's app secret.
    ///
    /// # Errors
    /// As [`WebhookEmitter::new`].
    pub fn for_sandbox(sandbox: &crate::Sandbox, callback_url: &str) -> Result<Self, EmitError> {
        Self::new(callback_url, sandbox.fixtures().app_secret.clone())
    }

    /// How long failed batches are redelivered before being dropped.
    #[must_use]
    pub fn redeliver_for(mut self, period: Duration) -> Self {
        self.redeliver_for = period;
        self
    }
    /// The wait before the second retry (the first retry is immediate); it doubles
    /// after each further failure.
    #[must_use]
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }
    /// The longest wait between two attempts.
    #[must_use]
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }
    /// Per-attempt timeout (connect, write, read the status).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// Share of delivered batches (0–1) sent a second time on purpose.
    ///
    /// # Errors
    /// [`EmitError::Config`] outside `0.0..=1.0`.
    pub fn duplicate_rate(mut self, rate: f64) -> Result<Self, EmitError> {
        if !(0.0..=1.0).contains(&rate) {
            return Err(EmitError::Config(format!(
                "duplicate_rate must be within 0.0..=1.0, got {rate}"
            )));
        }
        self.duplicate_rate = rate;
        Ok(self)
    }
    /// Seeds the duplicate decisions.
    #[must_use]
    pub fn seed(self, seed: u64) -> Self {
        *self.rng.lock().unwrap_or_else(PoisonError::into_inner) = Rng::with_seed(seed);
        self
    }
    /// How waits happen (default [`TokioPause`]; [`RecordedPauses`] in tests).
    #[must_use]
    pub fn pause(mut self, pause: Arc<dyn Pause>) -> Self {
        self.pause = pause;
        self
    }

    /// `sha256=<hex>` for `body`, as Meta signs it.
    #[must_use]
    pub fn signature(&self, body: &[u8]) -> String {
        // HMAC takes keys of any length, so `new_from_slice` cannot fail; the fallback
        // only keeps this panic-free.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.app_secret.as_bytes())
            .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    /// Serialises `payload` as Meta does (non-ASCII escaped) and delivers it.
    pub async fn deliver(&self, payload: &Value) -> Delivery {
        self.deliver_raw(meta_json(payload).into_bytes()).await
    }

    /// Delivers `body` byte for byte: POSTs until a 2xx, redelivering with back-off
    /// within the redelivery period, then maybe once more on purpose.
    pub async fn deliver_raw(&self, body: Vec<u8>) -> Delivery {
        let signature = self.signature(&body);
        let mut attempts = 0u32;
        let mut waited = Duration::ZERO;
        let mut last_status;
        let mut failures = 0u32;
        loop {
            attempts += 1;
            last_status = self.post(&body, &signature).await;
            if last_status.is_some_and(|s| (200..300).contains(&s)) {
                break;
            }
            failures += 1;
            let delay = self.backoff(failures);
            if waited + delay > self.redeliver_for {
                return Delivery {
                    attempts,
                    delivered: false,
                    duplicated: false,
                    last_status,
                    waited,
                };
            }
            self.pause.pause(delay).await;
            waited += delay;
        }
        let duplicate = self.duplicate_rate > 0.0
            && self
                .rng
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .f64()
                < self.duplicate_rate;
        if duplicate {
            // The answer to a deliberate duplicate does not matter: Meta considers the
            // batch delivered already.
            let _ = self.post(&body, &signature).await;
        }
        Delivery {
            attempts,
            delivered: true,
            duplicated: duplicate,
            last_status,
            waited,
        }
    }

    /// The wait after the `failures`-th failure: 0, then `initial`, doubling, capped.
    fn backoff(&self, failures: u32) -> Duration {
        if failures <= 1 {
            return Duration::ZERO;
        }
        let factor = 1u32.checked_shl(failures - 2).unwrap_or(u32::MAX);
        self.initial_backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }

    /// The schedule of waits a batch that never succeeds goes through.
    #[must_use]
    pub fn backoff_schedule(&self) -> Vec<Duration> {
        let mut out = Vec::new();
        let mut waited = Duration::ZERO;
        for failures in 1u32.. {
            let d = self.backoff(failures);
            if waited + d > self.redeliver_for || out.len() > 10_000 {
                break;
            }
            waited += d;
            out.push(d);
        }
        out
    }

    /// Delivers every batch of a simulated live sale, pausing between batches to keep
    /// the sale's comment rate.
    pub async fn live_sale(&self, sale: &LiveSale) -> EmitReport {
        let mut report = EmitReport::default();
        let gap = sale.batch_gap();
        for (i, (payload, events)) in sale.batches().into_iter().enumerate() {
            if i > 0 && !gap.is_zero() {
                self.pause.pause(gap).await;
            }
            let d = self.deliver(&payload).await;
            report.add(&d, events);
        }
        report
    }

    /// Meta's subscription handshake: `GET <callback>?hub.mode=subscribe&
    /// hub.verify_token=<token>&hub.challenge=<random>`; the receiver must answer 200
    /// with the challenge as the body. Returns the challenge.
    ///
    /// # Errors
    /// [`EmitError::Handshake`] when the receiver is unreachable, answers non-200, or
    /// echoes something else.
    pub async fn verify_subscription(&self, verify_token: &str) -> Result<String, EmitError> {
        let challenge = {
            let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
            (0..10).map(|_| rng.digit(10)).collect::<String>()
        };
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("hub.mode", "subscribe")
            .append_pair("hub.verify_token", verify_token)
            .append_pair("hub.challenge", &challenge)
            .finish();
        let sep = if self.callback.target.contains('?') {
            '&'
        } else {
            '?'
        };
        let target = format!("{}{sep}{query}", self.callback.target);
        let (status, body) = self
            .exchange("GET", &target, &[], &[])
            .await
            .map_err(|e| EmitError::Handshake(format!("could not reach the callback: {e}")))?;
        if status != 200 {
            return Err(EmitError::Handshake(format!(
                "the callback answered {status}"
            )));
        }
        if body != challenge.as_bytes() {
            return Err(EmitError::Handshake(
                "the callback did not echo hub.challenge as its body".into(),
            ));
        }
        Ok(challenge)
    }

    /// One signed POST; the status, or `None` when no answer came.
    async fn post(&self, body: &[u8], signature: &str) -> Option<u16> {
        let headers = [
            ("Content-Type", "application/json"),
            ("X-Hub-Signature-256", signature),
        ];
        match self
            .exchange("POST", &self.callback.target, &headers, body)
            .await
        {
            Ok((status, _)) => Some(status),
            Err(e) => {
                tracing::debug!(error = %e, "webhook delivery failed");
                None
            }
        }
    }

    /// One HTTP/1.1 request on a fresh connection, within the timeout.
    async fn exchange(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<(u16, Vec<u8>)> {
        let work = async {
            let mut stream =
                TcpStream::connect((self.callback.connect_host(), self.callback.port)).await?;
            let mut head = format!(
                "{method} {target} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: facebookexternalua\r\nAccept: */*\r\nConnection: close\r\n",
                self.callback.host, self.callback.port
            );
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            if method != "GET" {
                head.push_str(&format!("Content-Length: {}\r\n", body.len()));
            }
            head.push_str("\r\n");
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body).await?;
            stream.flush().await?;
            let mut buf = Vec::new();
            let mut chunk = [0u8; 8192];
            loop {
                let n = stream.read(&mut chunk).await?;
                if n == 0 || buf.len() + n > MAX_RESPONSE {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            parse_response(&buf)
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out"))?
    }
}

/// Status and body of a raw HTTP/1.1 response (identity or chunked).
fn parse_response(raw: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| bad("headers are not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| bad("no status line"))?;
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = &raw[split + 4..];
    if !chunked {
        return Ok((status, body.to_vec()));
    }
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let size_text = std::str::from_utf8(&rest[..eol]).map_err(|_| bad("chunk size"))?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| bad("chunk size"))?;
        if size == 0 {
            break;
        }
        let start = eol + 2;
        let end = start
            .checked_add(size)
            .filter(|e| *e <= rest.len())
            .ok_or_else(|| bad("short chunk"))?;
        out.extend_from_slice(&rest[start..end]);
        rest = rest.get(end + 2..).unwrap_or_default();
    }
    Ok((status, out))
}

/// JSON with every non-ASCII character escaped as `\uXXXX` (UTF-16, lowercase hex),
/// the form Meta signs (facts guide §7.2).
#[must_use]
pub fn meta_json(value: &Value) -> String {
    let plain = value.to_string();
    let mut out = String::with_capacity(plain.len() + 16);
    let mut units = [0u16; 2];
    // Non-ASCII characters only occur inside JSON strings, so escaping them anywhere
    // in the text is exactly escaping them inside strings.
    for c in plain.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------
// Live sale
// ---------------------------------------------------------------------------------

const FIRST_NAMES: &[&str] = &[
    "Camila",
    "Valentina",
    "Javiera",
    "Martina",
    "Sofía",
    "Antonia",
    "Catalina",
    "Fernanda",
    "Constanza",
    "Isidora",
    "Matías",
    "Benjamín",
    "Joaquín",
    "Tomás",
    "Vicente",
    "Sebastián",
    "Diego",
    "Nicolás",
    "Agustín",
    "Ignacio",
];
const LAST_NAMES: &[&str] = &[
    "González",
    "Muñoz",
    "Rojas",
    "Díaz",
    "Pérez",
    "Soto",
    "Contreras",
    "Silva",
    "Martínez",
    "Sepúlveda",
    "Morales",
    "Rodríguez",
    "López",
    "Fuentes",
    "Hernández",
    "Araya",
    "Castillo",
    "Núñez",
];
const ITEMS: &[(&str, &str)] = &[
    ("la polera", "polera"),
    ("el polerón", "polerón"),
    ("la chaqueta", "chaqueta"),
    ("el jeans", "jeans"),
    ("la falda", "falda"),
];
const COLORS: &[&str] = &["roja", "azul", "negra", "blanca", "verde", "rosada"];
const SIZES: &[&str] = &["XS", "S", "M", "L", "XL"];

/// A simulated live sale: buyers commenting orders on a Page's live video.
///
/// Comments arrive as Page `feed` changes with `item: comment`, `verb: add` on the
/// live video's post (`<page>_<video post>`), the shape of facts guide §7.4. Everything
/// is derived from the seed, so a sale is reproducible.
#[derive(Debug, Clone)]
pub struct LiveSale {
    page_id: String,
    page_name: String,
    video_post_id: Option<String>,
    buyers: usize,
    comments: usize,
    rate_per_sec: f64,
    batch_size: usize,
    start_time: u64,
    seed: u64,
    messages: Option<std::sync::Arc<Vec<String>>>,
}

/// One generated comment.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SaleComment {
    /// The buyer's (app-scoped) id.
    pub buyer_id: String,
    /// The buyer's name.
    pub buyer_name: String,
    /// The comment id `<video post>_<comment>`.
    pub comment_id: String,
    /// The post id `<page>_<video post>`.
    pub post_id: String,
    /// The order text, e.g. `quiero 2 de la polera roja M`.
    pub message: String,
    /// Unix seconds.
    pub created_time: u64,
}

impl LiveSale {
    /// A sale on `page_id` with `buyers` buyers, one comment each, 2 comments a second,
    /// one comment per delivery, starting now, seed 42.
    #[must_use]
    pub fn new(page_id: impl Into<String>, buyers: usize) -> Self {
        let start_time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        LiveSale {
            page_id: page_id.into(),
            page_name: "Tienda en vivo".to_owned(),
            video_post_id: None,
            buyers: buyers.max(1),
            comments: buyers.max(1),
            rate_per_sec: 2.0,
            batch_size: 1,
            start_time,
            seed: 42,
            messages: None,
        }
    }

    /// The comment texts to use, in order (comment `i` says `messages[i % len]`)
    /// instead of the built-in Spanish order phrases: a caller with its own catalog
    /// and labelled phrasings (meta-commerce's simulator) drives the sale with them.
    #[must_use]
    pub fn messages(mut self, messages: Vec<String>) -> Self {
        if !messages.is_empty() {
            self.messages = Some(std::sync::Arc::new(messages));
        }
        self
    }
    /// Total comments (buyers comment in random order, some several times).
    #[must_use]
    pub fn comments(mut self, n: usize) -> Self {
        self.comments = n;
        self
    }
    /// Comments per second (≤ 0 means all at once).
    #[must_use]
    pub fn rate_per_sec(mut self, rate: f64) -> Self {
        self.rate_per_sec = rate;
        self
    }
    /// Comments per delivery (Meta batches up to 1,000 updates).
    #[must_use]
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.clamp(1, 1000);
        self
    }
    /// The sale's first comment time (unix seconds).
    #[must_use]
    pub fn start_time(mut self, unix_seconds: u64) -> Self {
        self.start_time = unix_seconds;
        self
    }
    /// The seed for buyers, messages and ids.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// The live video's post id part (digits); default derived from the seed.
    #[must_use]
    pub fn video_post_id(mut self, id: impl Into<String>) -> Self {
        self.video_post_id = Some(id.into());
        self
    }
    /// The Page's name in the embedded post.
    #[must_use]
    pub fn page_name(mut self, name: impl Into<String>) -> Self {
        self.page_name = name.into();
        self
    }

    /// The wait between two deliveries at the configured rate.
    #[must_use]
    pub fn batch_gap(&self) -> Duration {
        if self.rate_per_sec <= 0.0 || !self.rate_per_sec.is_finite() {
            return Duration::ZERO;
        }
        #[allow(clippy::cast_precision_loss)]
        let secs = self.batch_size as f64 / self.rate_per_sec;
        Duration::try_from_secs_f64(secs).unwrap_or(Duration::ZERO)
    }

    /// The comments, in order.
    #[must_use]
    pub fn generate(&self) -> Vec<SaleComment> {
        let mut rng = Rng::with_seed(self.seed);
        let digits = |rng: &mut Rng, n: usize| -> String {
            let mut s = String::with_capacity(n);
            s.push(char::from(b'1' + rng.u8(0..9)));
            for _ in 1..n {
                s.push(rng.digit(10));
            }
            s
        };
        let video = self
            .video_post_id
            .clone()
            .unwrap_or_else(|| digits(&mut rng, 15));
        let post_id = format!("{}_{video}", self.page_id);
        let buyers: Vec<(String, String)> = (0..self.buyers)
            .map(|_| {
                let first = FIRST_NAMES[rng.usize(0..FIRST_NAMES.len())];
                let last = LAST_NAMES[rng.usize(0..LAST_NAMES.len())];
                (digits(&mut rng, 16), format!("{first} {last}"))
            })
            .collect();
        let mut out = Vec::with_capacity(self.comments);
        for i in 0..self.comments {
            // Every buyer comments once before anyone comments twice.
            let (buyer_id, buyer_name) = if i < buyers.len() {
                buyers[i].clone()
            } else {
                buyers[rng.usize(0..buyers.len())].clone()
            };
            #[allow(
                clippy::cast_precision_loss,
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss
            )]
            let offset = if self.rate_per_sec > 0.0 && self.rate_per_sec.is_finite() {
                (i as f64 / self.rate_per_sec) as u64
            } else {
                0
            };
            out.push(SaleComment {
                buyer_id,
                buyer_name,
                comment_id: format!("{video}_{}", digits(&mut rng, 16)),
                post_id: post_id.clone(),
                message: match &self.messages {
                    Some(m) => m[i % m.len()].clone(),
                    None => order_message(&mut rng),
                },
                created_time: self.start_time + offset,
            });
        }
        out
    }

    /// The webhook bodies with the number of updates in each.
    #[must_use]
    pub fn batches(&self) -> Vec<(Value, usize)> {
        let comments = self.generate();
        comments
            .chunks(self.batch_size.max(1))
            .map(|chunk| {
                let changes: Vec<Value> = chunk
                    .iter()
                    .map(|c| {
                        json!({"field": "feed", "value": {
                            "from": {"id": c.buyer_id, "name": c.buyer_name},
                            "post": {
                                "status_type": "added_video",
                                "is_published": true,
                                "updated_time": graph_time(c.created_time),
                                "promotion_status": "inactive",
                                "id": c.post_id,
                            },
                            "message": c.message,
                            "post_id": c.post_id,
                            "comment_id": c.comment_id,
                            "created_time": c.created_time,
                            "item": "comment",
                            "parent_id": c.post_id,
                            "verb": "add",
                        }})
                    })
                    .collect();
                let sent = chunk.last().map_or(self.start_time, |c| c.created_time + 1);
                (
                    json!({"object": "page", "entry": [{
                        "id": self.page_id,
                        "time": sent,
                        "changes": changes,
                    }]}),
                    chunk.len(),
                )
            })
            .collect()
    }
}

/// A buyer's order, as people type them in a live sale.
fn order_message(rng: &mut Rng) -> String {
    let (with_article, bare) = ITEMS[rng.usize(0..ITEMS.len())];
    let color = COLORS[rng.usize(0..COLORS.len())];
    let size = SIZES[rng.usize(0..SIZES.len())];
    let n = rng.u8(1..4);
    match rng.u8(0..6) {
        0 => format!("quiero {n} de {with_article} {color} {size}"),
        1 => format!("me llevo {n} {bare} {color} talla {size}"),
        2 => format!("yo! {bare} {color} {size} 🙋"),
        3 => format!("precio de {with_article} {color}?"),
        4 => format!("reservame {n} {bare} {color} {size} porfa"),
        _ => format!("{n} {bare} {color} {size}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_must_be_loopback_http() {
        for ok in [
            "http://127.0.0.1:3000/webhook",
            "http://localhost/x?y=1",
            "http://[::1]:9/",
            "http://127.1.2.3:80/",
        ] {
            assert!(Callback::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "https://127.0.0.1/",
            "http://example.com/",
            "http://10.0.0.1/",
            "http://user:pw@127.0.0.1/",
            "not a url",
        ] {
            assert!(
                matches!(Callback::parse(bad), Err(EmitError::Callback(_))),
                "{bad}"
            );
        }
        let c = Callback::parse("http://127.0.0.1:3000/hook?a=b").unwrap();
        assert_eq!((c.port, c.target.as_str()), (3000, "/hook?a=b"));
    }

    #[test]
    fn json_is_escaped_like_meta() {
        let v = json!({"m": "äöå 🙋", "k": 1});
        let s = meta_json(&v);
        assert!(s.is_ascii());
        assert!(s.contains("\\u00e4\\u00f6\\u00e5 \\ud83d\\ude4b"), "{s}");
        let back: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn backoff_is_immediate_then_doubling_within_the_period() {
        let e = WebhookEmitter::new("http://127.0.0.1:1/", "s")
            .unwrap()
            .initial_backoff(Duration::from_secs(10))
            .max_backoff(Duration::from_secs(60))
            .redeliver_for(Duration::from_secs(200));
        let secs: Vec<u64> = e.backoff_schedule().iter().map(Duration::as_secs).collect();
        assert_eq!(secs, [0, 10, 20, 40, 60, 60]);
        assert!(secs.iter().sum::<u64>() <= 200);
    }

    #[test]
    fn live_sale_is_reproducible_and_realistic() {
        let sale = LiveSale::new("448242228374517", 5)
            .comments(12)
            .rate_per_sec(4.0)
            .batch_size(5)
            .start_time(1_742_667_600)
            .seed(7);
        let a = sale.generate();
        assert_eq!(a, sale.generate());
        assert_eq!(a.len(), 12);
        let distinct: std::collections::HashSet<_> = a.iter().map(|c| &c.buyer_id).collect();
        assert_eq!(distinct.len(), 5);
        assert!(a.iter().all(|c| c.post_id.starts_with("448242228374517_")));
        assert!(a.iter().all(|c| c.comment_id.len() == 32));
        assert_eq!(a[0].created_time, 1_742_667_600);
        assert_eq!(a[11].created_time, 1_742_667_602);
        let batches = sale.batches();
        assert_eq!(batches.iter().map(|b| b.1).collect::<Vec<_>>(), [5, 5, 2]);
        assert_eq!(sale.batch_gap(), Duration::from_millis(1250));
        let first = &batches[0].0["entry"][0]["changes"][0]["value"];
        assert_eq!(first["item"], "comment");
        assert_eq!(first["verb"], "add");
        assert_eq!(first["parent_id"], first["post_id"]);
    }

    #[test]
    fn parses_identity_and_chunked_responses() {
        let (s, b) = parse_response(b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabc").unwrap();
        assert_eq!((s, b.as_slice()), (200, &b"abc"[..]));
        let (s, b) =
            parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
                .unwrap();
        assert_eq!((s, b.as_slice()), (200, &b"abcde"[..]));
        assert!(parse_response(b"garbage").is_err());
    }
}
