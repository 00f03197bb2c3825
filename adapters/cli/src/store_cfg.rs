//! What the publishing commands share: the store (`--store sqlite:PATH` or
//! `--store postgres://…`), the token cipher key (`META_TOKEN_KEY`), the Graph client
//! and token lifecycle behind the worker, the command clock, and the parsers of
//! times, durations and quiet hours.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::Args;
use meta_core::cipher::{Key, KeyId, TokenCipher};
use meta_core::clock::{Clock, Sleep, SystemClock};
use meta_core::{ApiVersion, Client};
use meta_graph::lifecycle::{LifecycleManager, TokenStore};
use meta_graph::oauth::OAuth;
use meta_graph::publisher::{AccountClients, AccountStore, Publisher, PublisherStore};
use meta_graph::store::UuidV7Ids;
use secrecy::SecretString;

/// The environment variable holding the token cipher key (base64 of 32 bytes).
pub(crate) const TOKEN_KEY_ENV: &str = "META_TOKEN_KEY";
/// The environment variable naming the key (default [`DEFAULT_KEY_ID`]); sealed
/// tokens carry it so a rotated key can still open older rows.
pub(crate) const TOKEN_KEY_ID_ENV: &str = "META_TOKEN_KEY_ID";
/// The key id used when `META_TOKEN_KEY_ID` is unset.
pub(crate) const DEFAULT_KEY_ID: &str = "cli";

/// Where posts, accounts and sealed tokens live.
#[derive(Debug, Clone, Args)]
pub(crate) struct StoreArgs {
    /// The store: `sqlite:PATH` (a file, created if missing) or
    /// `postgres://user@host/db` (many workers, one database).
    #[arg(
        long,
        env = "META_STORE",
        default_value = "sqlite:meta.db",
        global = true
    )]
    pub(crate) store: String,
    /// With PostgreSQL: the schema that keeps the tables (created if missing);
    /// default: the connection's search path.
    #[arg(long, env = "META_STORE_SCHEMA", global = true)]
    pub(crate) store_schema: Option<String>,
}

/// How the commands that call Graph reach it.
#[derive(Debug, Clone, Args)]
pub(crate) struct GraphArgs {
    /// Graph host (default https://graph.facebook.com; a sandbox URL in tests).
    #[arg(long, env = "META_BASE_URL")]
    pub(crate) base_url: Option<String>,
    /// Graph version, e.g. v26.0.
    #[arg(long)]
    pub(crate) api_version: Option<String>,
    /// The app id (only needed to refresh user tokens; Page tokens never expire).
    #[arg(long, env = "META_APP_ID")]
    pub(crate) app_id: Option<String>,
    /// The app secret; when set, calls carry appsecret_proof.
    #[arg(long, env = "META_APP_SECRET", hide_env_values = true)]
    pub(crate) app_secret: Option<String>,
    /// Per-attempt timeout in seconds.
    #[arg(long, default_value_t = 60)]
    pub(crate) timeout: u64,
}

/// Every port the publishing commands use, from one store.
pub(crate) struct Stores {
    pub(crate) accounts: Arc<dyn AccountStore>,
    pub(crate) posts: Arc<dyn PublisherStore>,
    pub(crate) tokens: Arc<dyn TokenStore>,
    /// `sqlite:PATH` or `postgres` (never the URL: it may hold a password).
    pub(crate) label: String,
}

impl fmt::Debug for Stores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stores")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

/// Opens the store named by `args` (applying migrations).
pub(crate) async fn open_stores(args: &StoreArgs) -> Result<Stores> {
    let spec = args.store.trim();
    if let Some(path) = spec.strip_prefix("sqlite:") {
        let path = path.strip_prefix("//").unwrap_or(path);
        if path.is_empty() {
            bail!("--store sqlite:PATH needs a file path, e.g. sqlite:meta.db");
        }
        let store = Arc::new(
            meta_store_sqlite::SqliteStore::open(path)
                .await
                .with_context(|| format!("opening the SQLite store `{path}`"))?,
        );
        return Ok(Stores {
            accounts: store.clone(),
            posts: store.clone(),
            tokens: store,
            label: format!("sqlite:{path}"),
        });
    }
    if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
        let store = match &args.store_schema {
            Some(schema) => meta_store_postgres::PgStore::connect_with_schema(spec, schema).await,
            None => meta_store_postgres::PgStore::connect(spec).await,
        };
        let store = Arc::new(store.context("connecting to the PostgreSQL store")?);
        return Ok(Stores {
            accounts: store.clone(),
            posts: store.clone(),
            tokens: store,
            label: "postgres".to_owned(),
        });
    }
    bail!(
        "unknown --store `{}`: use sqlite:PATH or postgres://user@host/database",
        redact_store(spec)
    )
}

/// The store spec without anything that could be a password.
fn redact_store(spec: &str) -> String {
    match spec.split_once("://") {
        Some((scheme, _)) => format!("{scheme}://…"),
        None => spec.chars().take(40).collect(),
    }
}

/// The cipher from `META_TOKEN_KEY`, or `None` when it is unset.
pub(crate) fn cipher_from_env() -> Result<Option<TokenCipher>> {
    let Some(raw) = std::env::var_os(TOKEN_KEY_ENV) else {
        return Ok(None);
    };
    let raw = raw
        .into_string()
        .map_err(|_| anyhow::anyhow!("{TOKEN_KEY_ENV} is not valid UTF-8"))?;
    if raw.trim().is_empty() {
        return Ok(None);
    }
    let key = Key::from_base64(&raw).with_context(|| {
        format!(
            "{TOKEN_KEY_ENV} must be the base64 of 32 bytes (as `meta accounts connect` prints)"
        )
    })?;
    Ok(Some(TokenCipher::new(key_id()?, key)))
}

/// The cipher, required: reading tokens without the key they were sealed with is
/// impossible.
pub(crate) fn require_cipher() -> Result<TokenCipher> {
    cipher_from_env()?.with_context(|| {
        format!(
            "{TOKEN_KEY_ENV} is not set: it is the key the stored tokens were sealed with (printed by the first `meta accounts connect`)"
        )
    })
}

pub(crate) fn key_id() -> Result<KeyId> {
    let id = std::env::var(TOKEN_KEY_ID_ENV).unwrap_or_else(|_| DEFAULT_KEY_ID.to_owned());
    KeyId::new(id).with_context(|| format!("{TOKEN_KEY_ID_ENV} is not a valid key id"))
}

/// The Graph client the worker and the insight reads use (no token: each account's
/// comes from its connection).
pub(crate) fn base_client(graph: &GraphArgs, clock: Arc<dyn Clock>) -> Result<Client> {
    let mut b = Client::builder()
        .timeout(Duration::from_secs(graph.timeout.max(1)))
        .clock(clock);
    if let Some(u) = &graph.base_url {
        b = b.base_url(u.clone());
    }
    if let Some(v) = &graph.api_version {
        b = b.api_version(v.parse::<ApiVersion>()?);
    }
    if let Some(s) = &graph.app_secret {
        b = b.app_secret(s.clone());
    }
    Ok(b.build()?)
}

/// The token lifecycle over the store: it opens each account's sealed token and gives
/// the client that publishes for it.
pub(crate) fn lifecycle(
    stores: &Stores,
    cipher: TokenCipher,
    graph: &GraphArgs,
    client: Client,
) -> Result<LifecycleManager> {
    let oauth = match (&graph.app_id, &graph.app_secret) {
        (Some(id), Some(secret)) => OAuth::new(
            id.clone(),
            SecretString::from(secret.clone()),
            "https://localhost/",
        )
        .context("META_APP_ID / META_APP_SECRET")?,
        // The CLI never refreshes tokens (it runs no lifecycle tick), so without app
        // credentials the OAuth half of the manager is simply never called.
        _ => OAuth::new("0", SecretString::from("unset"), "https://localhost/")
            .context("building the OAuth settings")?,
    };
    Ok(LifecycleManager::builder(stores.tokens.clone(), cipher, oauth, client).build())
}

/// The connection id an account's token is stored under.
pub(crate) fn connection_id(tenant: &str, platform: &str, meta_id: &str) -> String {
    format!("{tenant}/{platform}/{meta_id}")
}

/// A clock standing still at the instant the command started: a one-shot command acts
/// at one moment, so `--at now` is exactly "now" and never "a moment ago".
#[derive(Debug, Clone, Copy)]
pub(crate) struct FrozenClock {
    at: SystemTime,
}

impl FrozenClock {
    pub(crate) fn now() -> Self {
        FrozenClock {
            at: SystemTime::now(),
        }
    }
}

impl Clock for FrozenClock {
    fn now(&self) -> SystemTime {
        self.at
    }
    fn elapsed(&self) -> Duration {
        Duration::ZERO
    }
    fn sleep(&self, duration: Duration) -> Sleep<'_> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A publisher for one-shot commands (authoring, approval, listing): the frozen
/// command clock, UUIDv7 ids, and `clients` for the commands that read Graph.
pub(crate) fn publisher(
    stores: &Stores,
    clock: Arc<dyn Clock>,
    clients: Arc<dyn AccountClients>,
) -> Publisher {
    Publisher::builder(
        stores.accounts.clone(),
        stores.posts.clone(),
        clients,
        clock.clone(),
        Arc::new(UuidV7Ids::new(clock)),
    )
    .build()
}

/// The real clock, for the worker.
pub(crate) fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock::default())
}

// ---------------------------------------------------------------------------------
// Parsers
// ---------------------------------------------------------------------------------

/// `90s`, `45m`, `2h`, `3d`, `500ms`, `1h30m`, or plain seconds.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty duration".to_owned());
    }
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!(
                "`{s}` is not a duration (e.g. 90s, 45m, 2h, 3d, 500ms)"
            ));
        }
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("`{s}`: number too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.chars().take_while(char::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let d = match unit {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.saturating_mul(60)),
            "h" => Duration::from_secs(n.saturating_mul(3600)),
            "d" => Duration::from_secs(n.saturating_mul(86_400)),
            _ => {
                return Err(format!(
                    "`{s}`: unknown unit `{unit}` (use ms, s, m, h or d)"
                ));
            }
        };
        total = total.saturating_add(d);
    }
    Ok(total)
}

/// `now`, `+2h` (from `now`), unix seconds, or RFC 3339.
pub(crate) fn parse_time(raw: &str, now: SystemTime) -> Result<SystemTime> {
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Some(rel) = raw.strip_prefix('+') {
        let d = parse_duration(rel).map_err(anyhow::Error::msg)?;
        return Ok(now + d);
    }
    if let Ok(secs) = raw.parse::<u64>() {
        return Ok(UNIX_EPOCH + Duration::from_secs(secs));
    }
    let t = chrono::DateTime::parse_from_rfc3339(raw).with_context(|| {
        format!("`{raw}` is not a time: use now, +2h, unix seconds or RFC 3339 (2026-05-01T09:00:00-04:00)")
    })?;
    let ms = t.timestamp_millis();
    let ms = u64::try_from(ms).with_context(|| format!("`{raw}` is before 1970"))?;
    Ok(UNIX_EPOCH + Duration::from_millis(ms))
}

/// `22:00-08:00` → minutes after midnight `(1320, 480)`.
pub(crate) fn parse_quiet(s: &str) -> Result<(u16, u16), String> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("`{s}`: quiet hours are START-END, e.g. 22:00-08:00"))?;
    let minute = |t: &str| -> Result<u16, String> {
        let (h, m) = t
            .trim()
            .split_once(':')
            .ok_or_else(|| format!("`{t}` is not HH:MM"))?;
        let h: u16 = h.parse().map_err(|_| format!("`{t}` is not HH:MM"))?;
        let m: u16 = m.parse().map_err(|_| format!("`{t}` is not HH:MM"))?;
        if h > 23 || m > 59 {
            return Err(format!("`{t}` is not a time of day"));
        }
        Ok(h * 60 + m)
    };
    let (start, end) = (minute(a)?, minute(b)?);
    if start == end {
        return Err(format!("`{s}`: start and end are the same"));
    }
    Ok((start, end))
}

/// `HH:MM` of minutes after midnight.
pub(crate) fn hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// A duration as the shortest of `2h`, `90m`, `45s`.
pub(crate) fn short_duration(secs: u64) -> String {
    if secs == 0 {
        "0".to_owned()
    } else if secs.is_multiple_of(86_400) {
        format!("{}d", secs / 86_400)
    } else if secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else if secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// Unix ms as RFC 3339 in UTC (seconds precision).
pub(crate) fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

/// Unix ms as local time in `tz` (`2026-05-01 09:00 -04`), or UTC when the zone is
/// unknown.
pub(crate) fn local_time(ms: i64, tz: &str) -> String {
    let Some(utc) = chrono::DateTime::from_timestamp_millis(ms) else {
        return ms.to_string();
    };
    match meta_graph::publisher::governance::parse_tz(tz) {
        Ok(tz) => utc
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string(),
        Err(_) => utc.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("45").unwrap(), Duration::from_secs(45));
        assert!(parse_duration("2x").is_err());
        assert!(parse_duration("h").is_err());
        assert_eq!(short_duration(7200), "2h");
        assert_eq!(short_duration(5400), "90m");
    }

    #[test]
    fn times() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(parse_time("now", now).unwrap(), now);
        assert_eq!(
            parse_time("+2h", now).unwrap(),
            now + Duration::from_secs(7200)
        );
        assert_eq!(
            parse_time("1700000000", now).unwrap(),
            UNIX_EPOCH + Duration::from_secs(1_700_000_000)
        );
        assert_eq!(
            parse_time("2023-11-14T22:13:20Z", now).unwrap(),
            UNIX_EPOCH + Duration::from_secs(1_700_000_000)
        );
        assert!(parse_time("tomorrow", now).is_err());
    }

    #[test]
    fn quiet_hours() {
        assert_eq!(parse_quiet("22:00-08:00").unwrap(), (1320, 480));
        assert!(parse_quiet("25:00-08:00").is_err());
        assert!(parse_quiet("08:00-08:00").is_err());
        assert_eq!(hhmm(1320), "22:00");
    }

    #[test]
    fn store_specs_never_echo_passwords() {
        assert_eq!(redact_store("mysql://u:secret@h/db"), "mysql://…");
    }
}
