//! `meta accounts`: connect the Meta accounts a tenant publishes to (token sealed with
//! `META_TOKEN_KEY` before it is stored), list them, show their token and governance
//! status, and flip kill switches.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use meta_core::cipher::{Key, TokenCipher};
use meta_core::clock::Clock;
use meta_graph::lifecycle::{
    ConnectionId, ConnectionKind, DEFAULT_REFRESH_BEFORE, status_from_expiry,
};
use meta_graph::oauth::Token;
use meta_graph::publisher::governance::{local_day_bounds, parse_tz};
use meta_graph::publisher::store::{ApprovalSettings, GovernanceSettings};
use meta_graph::publisher::{Account, Platform, Tenant};
use meta_graph::store::{IdGenerator, UuidV7Ids, to_ms};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::store_cfg::{
    FrozenClock, GraphArgs, StoreArgs, Stores, TOKEN_KEY_ENV, base_client, cipher_from_env,
    connection_id, hhmm, key_id, lifecycle, open_stores, parse_duration, parse_quiet,
    short_duration,
};

/// `meta accounts …`.
#[derive(Debug, Args)]
pub(crate) struct AccountsArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: AccountsCommand,
}

#[derive(Debug, Subcommand)]
enum AccountsCommand {
    /// Connect (or update) a Facebook Page or Instagram account of a tenant. The
    /// token is read from the environment variable named by --token-env, never from
    /// a flag, and stored sealed with META_TOKEN_KEY.
    Connect(ConnectArgs),
    /// List the connected accounts.
    List {
        /// Only this tenant's.
        #[arg(long)]
        tenant: Option<String>,
        /// One JSON line per account.
        #[arg(long)]
        json: bool,
    },
    /// Token status, kill switches and today's count per account.
    Status {
        /// Only this tenant's.
        #[arg(long)]
        tenant: Option<String>,
        /// One JSON line per account.
        #[arg(long)]
        json: bool,
    },
    /// Turn a kill switch on or off: `kill-switch ACCOUNT on|off`, or
    /// `kill-switch --tenant T on|off` for every account of a tenant.
    KillSwitch(KillSwitchArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PlatformArg {
    Facebook,
    Instagram,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TokenKindArg {
    /// A Page token (also publishes for the Page's Instagram account).
    Page,
    /// A Facebook user token.
    User,
    /// An Instagram Login token.
    Instagram,
}

#[derive(Debug, Args)]
struct ConnectArgs {
    /// The tenant (created if new).
    #[arg(long)]
    tenant: String,
    /// Facebook Page or Instagram account.
    #[arg(long, value_enum)]
    platform: PlatformArg,
    /// Meta's id: the Page id or the Instagram user id.
    #[arg(long)]
    meta_id: String,
    /// A display name.
    #[arg(long)]
    name: String,
    /// The environment variable holding the access token.
    #[arg(long)]
    token_env: String,
    /// What kind of token it is.
    #[arg(long, value_enum, default_value_t = TokenKindArg::Page)]
    token_kind: TokenKindArg,
    /// How long the token lives from now (e.g. 60d); omit for tokens that never
    /// expire (Page tokens).
    #[arg(long, value_parser = parse_duration)]
    token_expires_in: Option<Duration>,
    /// The account id to use (default: a new id; reconnecting the same tenant,
    /// platform and Meta id keeps the existing one).
    #[arg(long)]
    id: Option<String>,
    /// IANA time zone days and quiet hours are counted in.
    #[arg(long, default_value = "UTC")]
    timezone: String,
    /// Most posts per local day (0 = no cap).
    #[arg(long, default_value_t = 0)]
    daily_cap: u32,
    /// Least time between two posts (e.g. 2h; 0 = none).
    #[arg(long, value_parser = parse_duration, default_value = "0")]
    min_gap: Duration,
    /// Local quiet hours, e.g. 22:00-08:00.
    #[arg(long, value_parser = parse_quiet)]
    quiet: Option<(u16, u16)>,
    /// Submitted posts are approved at once.
    #[arg(long)]
    auto_approve: bool,
    /// Authors may approve their own posts.
    #[arg(long)]
    allow_self_approval: bool,
}

#[derive(Debug, Args)]
struct KillSwitchArgs {
    /// The tenant whose switch to flip (instead of an account's).
    #[arg(long)]
    tenant: Option<String>,
    /// `ACCOUNT on|off`, or `on|off` with --tenant.
    #[arg(num_args = 1..=2, required = true)]
    args: Vec<String>,
}

/// Runs `meta accounts …`.
pub(crate) async fn run(args: AccountsArgs) -> Result<ExitCode> {
    let stores = open_stores(&args.store).await?;
    match args.command {
        AccountsCommand::Connect(c) => connect(&stores, c).await,
        AccountsCommand::List { tenant, json } => list(&stores, tenant.as_deref(), json).await,
        AccountsCommand::Status { tenant, json } => status(&stores, tenant.as_deref(), json).await,
        AccountsCommand::KillSwitch(k) => kill_switch(&stores, k).await,
    }
}

fn platform_of(p: PlatformArg) -> Platform {
    match p {
        PlatformArg::Facebook => Platform::Facebook,
        PlatformArg::Instagram => Platform::Instagram,
    }
}

/// The cipher, generating (and printing, once) a key when none is set.
async fn cipher_or_generate(stores: &Stores) -> Result<TokenCipher> {
    if let Some(c) = cipher_from_env()? {
        return Ok(c);
    }
    // A new key cannot open tokens sealed with another one: refuse rather than
    // leave the store with rows nobody can read.
    let existing = stores
        .tokens
        .list()
        .await
        .context("reading stored connections")?;
    if !existing.is_empty() {
        bail!(
            "{TOKEN_KEY_ENV} is not set, but the store already holds {} sealed token(s): set the key they were sealed with",
            existing.len()
        );
    }
    let key = Key::generate().context("generating a token key")?;
    let encoded = key.to_base64();
    eprintln!(
        "warning: {TOKEN_KEY_ENV} was not set, so a new token key was generated. Keep it secret and set it for every later command; without it the stored tokens cannot be read:"
    );
    eprintln!("export {TOKEN_KEY_ENV}={}", encoded.expose_secret());
    Ok(TokenCipher::new(key_id()?, key))
}

async fn connect(stores: &Stores, c: ConnectArgs) -> Result<ExitCode> {
    let clock: Arc<dyn Clock> = Arc::new(FrozenClock::now());
    let now = clock.now();
    let now_ms = to_ms(now);
    // Check everything before anything is stored.
    let raw = std::env::var(&c.token_env).with_context(|| {
        format!(
            "the token environment variable `{}` is not set",
            c.token_env
        )
    })?;
    let token = SecretString::from(raw.trim().to_owned());
    if token.expose_secret().is_empty() {
        bail!("the token environment variable `{}` is empty", c.token_env);
    }
    if c.tenant.trim().is_empty() || c.meta_id.trim().is_empty() || c.name.trim().is_empty() {
        bail!("--tenant, --meta-id and --name may not be empty");
    }
    parse_tz(&c.timezone)
        .map_err(|tz| anyhow::anyhow!("--timezone: unknown IANA time zone `{tz}`"))?;
    let platform = platform_of(c.platform);
    let cipher = cipher_or_generate(stores).await?;

    if stores.accounts.get_tenant(&c.tenant).await?.is_none() {
        stores
            .accounts
            .put_tenant(&Tenant {
                id: c.tenant.clone(),
                name: c.tenant.clone(),
                kill_switch: false,
                created_at: now_ms,
            })
            .await
            .context("creating the tenant")?;
    }
    let existing = stores
        .accounts
        .list_accounts(Some(&c.tenant))
        .await?
        .into_iter()
        .find(|a| a.platform == platform && a.meta_id == c.meta_id);
    if let (Some(e), Some(id)) = (&existing, &c.id)
        && e.id != *id
    {
        bail!(
            "tenant {} already has {} account {} as `{}`",
            c.tenant,
            platform,
            c.meta_id,
            e.id
        );
    }
    let id = match (&existing, c.id.clone()) {
        (Some(e), _) => e.id.clone(),
        (None, Some(id)) => id,
        (None, None) => UuidV7Ids::new(clock.clone()).new_id(),
    };
    let connection = connection_id(&c.tenant, platform.as_str(), &c.meta_id);
    let kind = match c.token_kind {
        TokenKindArg::Page => ConnectionKind::Page,
        TokenKindArg::User => ConnectionKind::User,
        TokenKindArg::Instagram => ConnectionKind::Instagram,
    };
    // The token is sealed by the lifecycle manager (AES-256-GCM bound to the
    // connection id) before the store sees it.
    let graph = GraphArgs {
        base_url: None,
        api_version: None,
        app_id: None,
        app_secret: None,
        timeout: 60,
    };
    let manager = lifecycle(stores, cipher, &graph, base_client(&graph, clock.clone())?)?;
    let token_status = manager
        .register(
            ConnectionId::new(connection.clone())?,
            kind,
            c.tenant.clone(),
            &Token::new(token, c.token_expires_in, now),
        )
        .await
        .context("storing the sealed token")?;
    let (quiet_start, quiet_end) = c.quiet.map_or((None, None), |(s, e)| (Some(s), Some(e)));
    let account = Account {
        id: id.clone(),
        tenant_id: c.tenant.clone(),
        platform,
        meta_id: c.meta_id.clone(),
        name: c.name.clone(),
        connection_id: connection,
        timezone: c.timezone.clone(),
        governance: GovernanceSettings {
            daily_cap: c.daily_cap,
            min_gap_secs: c.min_gap.as_secs(),
            quiet_start_minute: quiet_start,
            quiet_end_minute: quiet_end,
        },
        approval: ApprovalSettings {
            auto_approve: c.auto_approve,
            allow_self_approval: c.allow_self_approval,
        },
        kill_switch: existing.as_ref().is_some_and(|e| e.kill_switch),
        created_at: existing.as_ref().map_or(now_ms, |e| e.created_at),
    };
    stores
        .accounts
        .put_account(&account)
        .await
        .context("storing the account")?;
    println!(
        "{} account {id} ({} {}) for tenant {}: token {token_status}, sealed",
        if existing.is_some() {
            "updated"
        } else {
            "connected"
        },
        platform,
        c.meta_id,
        c.tenant
    );
    Ok(ExitCode::SUCCESS)
}

fn governance_text(g: &GovernanceSettings) -> (String, String, String) {
    let cap = if g.daily_cap == 0 {
        "-".to_owned()
    } else {
        g.daily_cap.to_string()
    };
    let gap = if g.min_gap_secs == 0 {
        "-".to_owned()
    } else {
        short_duration(g.min_gap_secs)
    };
    let quiet = match (g.quiet_start_minute, g.quiet_end_minute) {
        (Some(s), Some(e)) => format!("{}-{}", hhmm(s), hhmm(e)),
        _ => "-".to_owned(),
    };
    (cap, gap, quiet)
}

async fn list(stores: &Stores, tenant: Option<&str>, json: bool) -> Result<ExitCode> {
    let accounts = stores.accounts.list_accounts(tenant).await?;
    if json {
        for a in &accounts {
            println!("{}", serde_json::to_string(a)?);
        }
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<38} {:<12} {:<10} {:<18} {:<22} {:<18} {:>4} {:>5} {:<12} {:<9} KILL",
        "ID",
        "TENANT",
        "PLATFORM",
        "META ID",
        "NAME",
        "TIMEZONE",
        "CAP",
        "GAP",
        "QUIET",
        "APPROVAL"
    );
    for a in &accounts {
        let (cap, gap, quiet) = governance_text(&a.governance);
        let approval = match (a.approval.auto_approve, a.approval.allow_self_approval) {
            (true, _) => "auto",
            (false, true) => "self-ok",
            (false, false) => "reviewer",
        };
        println!(
            "{:<38} {:<12} {:<10} {:<18} {:<22} {:<18} {:>4} {:>5} {:<12} {:<9} {}",
            a.id,
            a.tenant_id,
            a.platform.as_str(),
            a.meta_id,
            a.name,
            a.timezone,
            cap,
            gap,
            quiet,
            approval,
            if a.kill_switch { "on" } else { "off" }
        );
    }
    if accounts.is_empty() {
        eprintln!("no accounts yet: `meta accounts connect` adds one");
    }
    Ok(ExitCode::SUCCESS)
}

async fn status(stores: &Stores, tenant: Option<&str>, json: bool) -> Result<ExitCode> {
    let now = std::time::SystemTime::now();
    let now_ms = to_ms(now);
    let accounts = stores.accounts.list_accounts(tenant).await?;
    if !json {
        println!(
            "{:<38} {:<22} {:<13} {:<8} {:<8} {:>5} {:<25}",
            "ID", "NAME", "TOKEN", "ACCOUNT", "TENANT", "TODAY", "LAST POST"
        );
    }
    for a in &accounts {
        // The stored status moved along by time, as the lifecycle manager computes it,
        // without opening the token (no key needed).
        let token = match ConnectionId::new(a.connection_id.clone()) {
            Ok(cid) => match stores.tokens.load(&cid).await? {
                Some(c) if c.status.is_usable() => {
                    status_from_expiry(c.expires_at_time(), now, DEFAULT_REFRESH_BEFORE).to_string()
                }
                Some(c) => c.status.to_string(),
                None => "missing".to_owned(),
            },
            Err(_) => "invalid".to_owned(),
        };
        let tenant_kill = stores
            .accounts
            .get_tenant(&a.tenant_id)
            .await?
            .is_some_and(|t| t.kill_switch);
        let (from, to) =
            parse_tz(&a.timezone).map_or((now_ms, now_ms), |tz| local_day_bounds(tz, now_ms));
        let today = stores
            .posts
            .published_count_between(&a.id, from, to)
            .await?;
        let last = stores.posts.last_published_at(&a.id).await?;
        let cap = a.governance.daily_cap;
        if json {
            println!(
                "{}",
                json!({
                    "id": a.id,
                    "tenant_id": a.tenant_id,
                    "name": a.name,
                    "platform": a.platform,
                    "token_status": token,
                    "kill_switch": a.kill_switch,
                    "tenant_kill_switch": tenant_kill,
                    "published_today": today,
                    "daily_cap": cap,
                    "last_published_at": last,
                })
            );
        } else {
            let today_text = if cap == 0 {
                today.to_string()
            } else {
                format!("{today}/{cap}")
            };
            println!(
                "{:<38} {:<22} {:<13} {:<8} {:<8} {:>5} {:<25}",
                a.id,
                a.name,
                token,
                if a.kill_switch { "KILLED" } else { "ok" },
                if tenant_kill { "KILLED" } else { "ok" },
                today_text,
                last.map_or("-".to_owned(), |ms| crate::store_cfg::local_time(
                    ms,
                    &a.timezone
                ))
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn on_off(s: &str) -> Result<bool> {
    match s.to_ascii_lowercase().as_str() {
        "on" | "true" | "1" => Ok(true),
        "off" | "false" | "0" => Ok(false),
        other => bail!("expected on or off, got `{other}`"),
    }
}

async fn kill_switch(stores: &Stores, k: KillSwitchArgs) -> Result<ExitCode> {
    match (&k.tenant, k.args.as_slice()) {
        (Some(t), [state]) => {
            let on = on_off(state)?;
            stores
                .accounts
                .set_tenant_kill_switch(t, on)
                .await
                .with_context(|| format!("tenant {t}"))?;
            println!(
                "tenant {t}: kill switch {}",
                if on {
                    "ON — nothing is published for any of its accounts"
                } else {
                    "off"
                }
            );
        }
        (None, [account, state]) => {
            let on = on_off(state)?;
            stores
                .accounts
                .set_account_kill_switch(account, on)
                .await
                .with_context(|| format!("account {account}"))?;
            println!(
                "account {account}: kill switch {}",
                if on {
                    "ON — its posts wait (never dropped) until it is turned off"
                } else {
                    "off"
                }
            );
        }
        (Some(_), _) => bail!("with --tenant, give only on or off"),
        (None, _) => bail!("usage: meta accounts kill-switch ACCOUNT on|off"),
    }
    Ok(ExitCode::SUCCESS)
}
