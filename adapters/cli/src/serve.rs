//! `meta serve`: the live-sale HTTP server (meta-server) on the chosen store, with the
//! engine worker and, given a Page token, the outbox dispatcher. Optionally sets up a
//! shop, imports its catalog and opens a live first, so one command runs a sale.
//!
//! Secrets are read from environment variables whose *names* the flags give
//! (`--app-secret-env META_APP_SECRET`): values never appear in the process list.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use meta_commerce::Currency;
use meta_commerce::dispatch::{Dispatcher, GraphSender, LinkResolver};
use meta_commerce::engine::Engine;
use meta_commerce::payments::PaymentRouter;
use meta_commerce::store::{CommerceStore, Shop};
use meta_core::Client;
use meta_core::clock::Clock;
use meta_core::webhook::Verifier;
use meta_graph::messenger::policy::PolicyStore;
use meta_graph::messenger::{MessagingGuard, PolicyConfig};
use meta_payments::flow::{FlowConfig, FlowGateway};
use meta_payments::mercadopago::{MercadoPagoConfig, MercadoPagoGateway};
use meta_payments::paypal::{PayPalConfig, PayPalGateway};
use meta_payments::transfer::{BankAccount, TransferConfig, TransferGateway};
use meta_server::{AppState, DEFAULT_BODY_LIMIT, Server};
use secrecy::SecretString;

use crate::store_cfg::{StoreArgs, system_clock};

/// `meta serve …`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Address to listen on. Anything but loopback needs an API token (see
    /// --api-token-env).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Name of the environment variable holding the Meta app secret (verifies
    /// X-Hub-Signature-256 on every delivery).
    #[arg(long, default_value = "META_APP_SECRET")]
    app_secret_env: String,
    /// Name of the environment variable holding the webhook verify token (the
    /// subscription handshake).
    #[arg(long, default_value = "META_VERIFY_TOKEN")]
    verify_token_env: String,
    /// Name of the environment variable holding the API token; when it is set,
    /// `/api/*` requires `Authorization: Bearer <token>`.
    #[arg(long, default_value = "META_API_TOKEN")]
    api_token_env: String,
    /// Name of the environment variable holding the shop's Page access token; when it
    /// is set (and --shop names the shop), the outbox dispatcher runs and sends the
    /// replies and messages.
    #[arg(long, default_value = "META_PAGE_TOKEN")]
    page_token_env: String,
    /// Graph host for the dispatcher (default https://graph.facebook.com; a sandbox
    /// URL in tests).
    #[arg(long, env = "META_BASE_URL")]
    base_url: Option<String>,
    /// Largest request body accepted, in bytes.
    #[arg(long, default_value_t = DEFAULT_BODY_LIMIT)]
    body_limit: usize,
    /// This server's public base URL (e.g. `https://shop.example.com`): payment
    /// providers are told to notify `<url>/webhooks/payments/<gateway>`. Gateways come
    /// from the environment: MERCADOPAGO_ACCESS_TOKEN + MERCADOPAGO_WEBHOOK_SECRET;
    /// FLOW_API_KEY + FLOW_SECRET_KEY + FLOW_PAYER_EMAIL; PAYPAL_CLIENT_ID +
    /// PAYPAL_CLIENT_SECRET + PAYPAL_WEBHOOK_ID; TRANSFER_BANK + TRANSFER_ACCOUNT +
    /// TRANSFER_HOLDER + TRANSFER_ID (+ TRANSFER_ID_LABEL, default RUT). Each gateway also
    /// reads <NAME>_BASE_URL (sandbox hosts, local fakes).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    public_url: String,
    /// Do not run the engine worker here (a webhook-only instance; another instance
    /// on the same PostgreSQL store processes the inbox).
    #[arg(long)]
    no_worker: bool,
    /// The shop to set up (created when missing; needs --page-id then).
    #[arg(long)]
    shop: Option<String>,
    /// The shop's display name (default: its id).
    #[arg(long, requires = "shop")]
    shop_name: Option<String>,
    /// The shop's Facebook Page id.
    #[arg(long, requires = "shop")]
    page_id: Option<String>,
    /// The shop's country (ISO 3166-1 alpha-2): picks payment gateways.
    #[arg(long, default_value = "CL", requires = "shop")]
    country: String,
    /// The shop's currency.
    #[arg(long, default_value = "CLP", requires = "shop")]
    currency: String,
    /// A catalog CSV to import into the shop first (all rows or none).
    #[arg(long, requires = "shop")]
    catalog: Option<PathBuf>,
    /// Open a live on this video post id (`<page>_<post>`) before serving.
    #[arg(long, requires = "shop")]
    live_post: Option<String>,
    /// The live's title.
    #[arg(long, default_value = "Live", requires = "live_post")]
    live_title: String,
}

/// The commerce ports of the chosen store.
struct CommerceStores {
    commerce: Arc<dyn CommerceStore>,
    policy: Arc<dyn PolicyStore>,
    /// `sqlite:PATH` or `postgres` (never the URL: it may hold a password).
    label: String,
}

impl fmt::Debug for CommerceStores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommerceStores")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

/// Runs `meta serve`.
pub(crate) async fn run(args: ServeArgs) -> Result<ExitCode> {
    let app_secret = required_env(&args.app_secret_env, "the Meta app secret")?;
    let verify_token = required_env(&args.verify_token_env, "the webhook verify token")?;
    let api_token = optional_env(&args.api_token_env)?;
    if api_token.is_none() && !args.listen.ip().is_loopback() {
        bail!(
            "listening on {} without an API token would let anyone flip kill switches and confirm payments: set {}",
            args.listen,
            args.api_token_env
        );
    }

    let stores = open_commerce(&args.store).await?;
    let clock = system_clock();
    let guard = Arc::new(MessagingGuard::new(
        PolicyConfig::default(),
        stores.policy.clone(),
    ));
    let mut builder = Engine::builder(stores.commerce.clone(), clock.clone())
        .verifier(Verifier::new(SecretString::from(app_secret)))
        .guard(guard.clone());
    if let Some(router) = payment_router(&args.public_url, &clock)? {
        eprintln!("payment gateways: {}", router.names().join(", "));
        builder = builder.payments(Arc::new(router));
    }
    let engine = builder.build();

    let page_id = set_up(&engine, &args).await?;
    let dispatcher = match (optional_env(&args.page_token_env)?, page_id) {
        (Some(token), Some(page)) => {
            let client = graph_client(&args, token, clock.clone())?;
            let sender = Arc::new(GraphSender::for_page(page, client, guard));
            let links: Arc<dyn LinkResolver> = engine.clone();
            Some(Dispatcher::new(
                stores.commerce.clone(),
                sender,
                links,
                clock.clone(),
            ))
        }
        (Some(_), None) => bail!(
            "{} is set but no shop was named: pass --shop so the dispatcher knows the Page",
            args.page_token_env
        ),
        (None, _) => None,
    };

    let mut state =
        AppState::new(engine, SecretString::from(verify_token)).with_body_limit(args.body_limit);
    if let Some(token) = api_token {
        state = state.with_api_token(SecretString::from(token));
    }
    let mut server = Server::bind(args.listen).await?.worker(!args.no_worker);
    let sending = dispatcher.is_some();
    if let Some(d) = dispatcher {
        server = server.dispatcher(d);
    }
    eprintln!(
        "meta serve: listening on http://{} (store {}, worker {}, dispatcher {}); Ctrl-C to stop",
        server.local_addr()?,
        stores.label,
        if args.no_worker { "off" } else { "on" },
        if sending {
            "on"
        } else {
            "off: set the Page token to send replies"
        },
    );
    server.run(state, shutdown_signal()).await?;
    eprintln!("meta serve: stopped");
    Ok(ExitCode::SUCCESS)
}

/// Creates the shop when asked (and missing), imports the catalog, opens the live.
/// Returns the shop's Page id when a shop was named.
async fn set_up(engine: &Engine, args: &ServeArgs) -> Result<Option<String>> {
    let Some(shop_id) = &args.shop else {
        return Ok(None);
    };
    let shop = match engine.store().shop(shop_id).await? {
        Some(existing) => {
            if args
                .page_id
                .as_ref()
                .is_some_and(|p| *p != existing.page_id)
            {
                bail!(
                    "shop `{shop_id}` already sells on Page {}; --page-id does not change it",
                    existing.page_id
                );
            }
            existing
        }
        None => {
            let page_id = args.page_id.as_deref().with_context(|| {
                format!("shop `{shop_id}` does not exist yet: pass --page-id to create it")
            })?;
            let currency = Currency::parse(&args.currency)
                .with_context(|| format!("--currency `{}`", args.currency))?;
            let shop = Shop::new(
                shop_id.clone(),
                args.shop_name.clone().unwrap_or_else(|| shop_id.clone()),
                page_id,
                args.country.to_ascii_uppercase(),
                currency,
            );
            engine.put_shop(&shop).await?;
            eprintln!("meta serve: created shop `{shop_id}` on Page {page_id}");
            shop
        }
    };
    if let Some(path) = &args.catalog {
        let csv = std::fs::read(path)
            .with_context(|| format!("reading the catalog `{}`", path.display()))?;
        let report = engine
            .import_catalog_csv(shop_id, &csv)
            .await
            .with_context(|| format!("importing `{}`", path.display()))?;
        eprintln!(
            "meta serve: imported {} products ({} units) into `{shop_id}`",
            report.products, report.units
        );
    }
    if let Some(post) = &args.live_post {
        let live = engine.open_live(shop_id, post, &args.live_title).await?;
        eprintln!(
            "meta serve: live `{}` open on post {} (state {})",
            live.id, live.post_id, live.state
        );
    }
    Ok(Some(shop.page_id))
}

/// Opens the commerce ports of `--store` (applying migrations), like the publishing
/// commands open theirs.
async fn open_commerce(args: &StoreArgs) -> Result<CommerceStores> {
    let spec = args.store.trim();
    if let Some(path) = spec.strip_prefix("sqlite:") {
        let path = path.strip_prefix("//").unwrap_or(path);
        if path.is_empty() {
            bail!("--store sqlite:PATH needs a file path, e.g. sqlite:shop.db");
        }
        let store = Arc::new(
            meta_store_sqlite::SqliteStore::open(path)
                .await
                .with_context(|| format!("opening the SQLite store `{path}`"))?,
        );
        return Ok(CommerceStores {
            commerce: store.clone(),
            policy: store,
            label: format!("sqlite:{path}"),
        });
    }
    if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
        let store = match &args.store_schema {
            Some(schema) => meta_store_postgres::PgStore::connect_with_schema(spec, schema).await,
            None => meta_store_postgres::PgStore::connect(spec).await,
        };
        let store = Arc::new(store.context("connecting to the PostgreSQL store")?);
        return Ok(CommerceStores {
            commerce: store.clone(),
            policy: store,
            label: "postgres".to_owned(),
        });
    }
    let shown = match spec.split_once("://") {
        Some((scheme, _)) => format!("{scheme}://…"),
        None => spec.chars().take(40).collect(),
    };
    bail!("unknown --store `{shown}`: use sqlite:PATH or postgres://user@host/database")
}

/// The Graph client the dispatcher sends with, holding the Page token.
fn graph_client(args: &ServeArgs, page_token: String, clock: Arc<dyn Clock>) -> Result<Client> {
    let mut b = Client::builder()
        .timeout(Duration::from_secs(30))
        .clock(clock)
        .access_token(page_token);
    if let Some(u) = &args.base_url {
        b = b.base_url(u.clone());
    }
    Ok(b.build()?)
}

/// The value of environment variable `name`; an error naming it (never its value)
/// when unset or empty.
fn required_env(name: &str, what: &str) -> Result<String> {
    optional_env(name)?.with_context(|| format!("{what} is not set: export {name}"))
}

/// The value of environment variable `name`, `None` when unset or empty.
fn optional_env(name: &str) -> Result<Option<String>> {
    match std::env::var(name) {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => Ok(Some(v.trim().to_owned())),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => bail!("{name} is not valid UTF-8"),
    }
}

/// Ctrl-C, or SIGTERM on Unix (installed when called, so a signal arriving while the
/// server starts is not lost).
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate()).ok();
        async move {
            match term {
                Some(mut term) => {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = term.recv() => {}
                    }
                }
                None => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// The payment gateways configured in the environment (see `--public-url`), or `None`.
fn payment_router(public_url: &str, clock: &Arc<dyn Clock>) -> Result<Option<PaymentRouter>> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let secret = |k: &str| env(k).map(SecretString::from);
    let notify = |gw: &str| {
        format!(
            "{}/webhooks/payments/{gw}",
            public_url.trim_end_matches('/')
        )
    };
    let mut router = PaymentRouter::new(clock.clone());
    let mut any = false;
    if let (Some(token), Some(hook)) = (
        secret("MERCADOPAGO_ACCESS_TOKEN"),
        secret("MERCADOPAGO_WEBHOOK_SECRET"),
    ) {
        let mut cfg =
            MercadoPagoConfig::new(token, hook).with_notification_url(notify("mercadopago"));
        if let Some(url) = env("MERCADOPAGO_BASE_URL") {
            cfg = cfg.with_base_url(url);
        }
        router = router.with_gateway(Arc::new(MercadoPagoGateway::new(cfg, clock.clone())?));
        any = true;
    }
    if let (Some(key), Some(sk), Some(email)) = (
        env("FLOW_API_KEY"),
        secret("FLOW_SECRET_KEY"),
        env("FLOW_PAYER_EMAIL"),
    ) {
        let mut cfg = FlowConfig::new(key, sk, email).with_urls(
            notify("flow"),
            format!("{}/", public_url.trim_end_matches('/')),
        );
        if let Some(url) = env("FLOW_BASE_URL") {
            cfg = cfg.with_base_url(url);
        }
        router = router.with_gateway(Arc::new(FlowGateway::new(cfg, clock.clone())?));
        any = true;
    }
    if let (Some(id), Some(cs), Some(hook)) = (
        env("PAYPAL_CLIENT_ID"),
        secret("PAYPAL_CLIENT_SECRET"),
        env("PAYPAL_WEBHOOK_ID"),
    ) {
        let mut cfg = PayPalConfig::new(id, cs, hook);
        if let Some(url) = env("PAYPAL_BASE_URL") {
            cfg = cfg.with_base_url(url);
        }
        router = router.with_gateway(Arc::new(PayPalGateway::new(cfg, clock.clone())?));
        any = true;
    }
    if let (Some(bank), Some(account), Some(holder), Some(id)) = (
        env("TRANSFER_BANK"),
        env("TRANSFER_ACCOUNT"),
        env("TRANSFER_HOLDER"),
        env("TRANSFER_ID"),
    ) {
        let label = env("TRANSFER_ID_LABEL").unwrap_or_else(|| "RUT".to_owned());
        let account = BankAccount::new(bank, account, holder, label, id);
        router = router.with_gateway(Arc::new(TransferGateway::new(TransferConfig::new(account))));
        any = true;
    }
    Ok(any.then_some(router))
}
