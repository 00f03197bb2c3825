//! `meta`: the command-line face of the toolkit.
//!
//! It formats output and holds no business logic: every command is a thin layer
//! over `meta-core` and `meta-sandbox`.
//!
//! ```text
//! meta demo                                  # a whole Facebook Live sale on loopback
//! meta demo --platform                       # the Graph transport and publishing steps
//! meta sandbox --port 8089 --seed 7          # a fake Graph API on 127.0.0.1
//! meta graph get me/accounts --all           # like `gh api`, one JSON line per item
//! meta webhook sign --secret S < body.json   # sha256=<hex>
//! meta auth appsecret-proof --app-secret S --token T
//! meta accounts connect --tenant shop --platform facebook --meta-id 123 --name Shop --token-env PAGE_TOKEN
//! meta posts create --account ID --kind fb-text --text "Hi" --author ana --at +2h
//! meta publisher run                         # the worker (store: --store / META_STORE)
//! meta serve --listen 127.0.0.1:8080         # the live-sale server (webhooks, API, worker)
//! meta commerce classify --catalog catalog.csv < comments.jsonl   # intents, items
//! ```

mod accounts;
mod comments;
mod commerce;
mod demo;
mod demo_live;
mod demo_publish;
mod ig;
mod insights;
mod live;
mod messenger;
mod oauth;
mod pages;
mod posts;
mod publisher_cmd;
mod serve;
mod store_cfg;
mod webhook_parse;

use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use futures_util::TryStreamExt;
use meta_core::{ApiVersion, Client, Error, GraphRequest, Params};
use secrecy::SecretString;

/// Command-line tools for Meta's Graph API.
#[derive(Debug, Parser)]
#[command(name = "meta", version, about)]
struct Cli {
    /// More logging (-v info, -vv debug, -vvv trace). Logs go to stderr and never
    /// contain tokens.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the end-to-end demo: a whole Facebook Live sale on loopback (`--platform`
    /// for the Graph transport and publishing steps, `--all` for both).
    Demo(demo::DemoArgs),
    /// Serve a fake Graph API on 127.0.0.1; prints one JSON line with its
    /// credentials first.
    Sandbox(SandboxArgs),
    /// Raw Graph API calls.
    #[command(subcommand)]
    Graph(GraphCommand),
    /// Webhook signatures (X-Hub-Signature-256).
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Authentication helpers.
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Instagram content publishing.
    #[command(subcommand)]
    Ig(ig::IgCommand),
    /// Facebook Page publishing.
    #[command(subcommand)]
    Pages(pages::PagesCommand),
    /// Facebook and Instagram Login: dialog URL, token exchanges, debug_token.
    #[command(subcommand)]
    Oauth(oauth::OauthCommand),
    /// Comments on Page posts, live videos and Instagram media.
    #[command(subcommand)]
    Comments(comments::CommentsCommand),
    /// Live-sale commerce tools: classify comments, evaluate the classifier.
    #[command(subcommand)]
    Commerce(commerce::CommerceCommand),
    /// Live videos and their comments (`--follow` to poll as they arrive).
    #[command(subcommand)]
    Live(live::LiveCommand),
    /// Messenger: send messages and private replies as a Page.
    #[command(subcommand)]
    Messenger(messenger::MessengerCommand),
    /// Page, post and Instagram insights.
    #[command(subcommand)]
    Insights(insights::InsightsCommand),
    /// The Meta accounts tenants publish to: connect, list, status, kill switches.
    Accounts(accounts::AccountsArgs),
    /// Posts: author, approve, schedule, list, show, attempts, best times.
    Posts(posts::PostsArgs),
    /// The publishing worker.
    Publisher(publisher_cmd::PublisherArgs),
    /// The live-sale HTTP server: Meta and payment webhooks, the JSON API, the engine
    /// worker and (with a Page token) the outbox dispatcher.
    Serve(serve::ServeArgs),
}

#[derive(Debug, Args)]
struct SandboxArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Seed: the same seed gives the same ids, tokens and data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Share of requests (0–1) failing with a transient Graph error.
    #[arg(long, default_value_t = 0.0)]
    fault_rate: f64,
    /// Require appsecret_proof on user and Page token calls.
    #[arg(long)]
    require_proof: bool,
}

#[derive(Debug, Subcommand)]
enum GraphCommand {
    /// GET a path; with --all, every item of a paginated edge as JSON lines.
    Get(GraphGetArgs),
}

#[derive(Debug, Args)]
struct GraphGetArgs {
    /// Path such as `me`, `me/accounts` or `123/feed`.
    path: String,
    /// Query parameter `key=value` (repeatable).
    #[arg(long = "param", short = 'p', value_parser = parse_kv)]
    params: Vec<(String, String)>,
    /// Comma-separated fields.
    #[arg(long)]
    fields: Option<String>,
    /// Follow pagination and print every item as one JSON line.
    #[arg(long)]
    all: bool,
    /// Stop after this many items with --all.
    #[arg(long)]
    max_items: Option<u64>,
    #[command(flatten)]
    conn: ConnArgs,
}

/// Connection settings shared by commands that call Graph.
#[derive(Debug, Args)]
struct ConnArgs {
    /// Graph host (default https://graph.facebook.com; a sandbox URL in tests).
    #[arg(long, env = "META_BASE_URL")]
    base_url: Option<String>,
    /// Graph version, e.g. v26.0.
    #[arg(long)]
    api_version: Option<String>,
    /// Access token (prefer the environment variable: flags show in process lists).
    #[arg(long, env = "META_ACCESS_TOKEN", hide_env_values = true)]
    access_token: Option<String>,
    /// App secret; when set, calls carry appsecret_proof.
    #[arg(long, env = "META_APP_SECRET", hide_env_values = true)]
    app_secret: Option<String>,
    /// Per-attempt timeout in seconds.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
}

#[derive(Debug, Subcommand)]
enum WebhookCommand {
    /// Sign the body read from stdin; prints `sha256=<hex>`.
    Sign {
        /// App secret.
        #[arg(long, env = "META_APP_SECRET", hide_env_values = true)]
        secret: String,
    },
    /// Verify the body on stdin against a signature; exit 0 valid, 1 invalid.
    Verify {
        /// App secret.
        #[arg(long, env = "META_APP_SECRET", hide_env_values = true)]
        secret: String,
        /// The X-Hub-Signature-256 header value.
        #[arg(long)]
        signature: String,
    },
    /// Parse the webhook body on stdin; prints the typed event as JSON (exit 1 when
    /// it is not a webhook payload). With --signature, verifies it first.
    Parse {
        /// App secret (only needed with --signature).
        #[arg(long, env = "META_APP_SECRET", hide_env_values = true)]
        secret: Option<String>,
        /// The X-Hub-Signature-256 header value to verify before parsing.
        #[arg(long)]
        signature: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum AuthCommand {
    /// Compute appsecret_proof (classic, or time-stamped with --time).
    AppsecretProof {
        /// App secret.
        #[arg(long, env = "META_APP_SECRET", hide_env_values = true)]
        app_secret: String,
        /// Access token.
        #[arg(long, env = "META_ACCESS_TOKEN", hide_env_values = true)]
        token: String,
        /// Unix time for the time-stamped form (`appsecret_time`).
        #[arg(long)]
        time: Option<u64>,
    },
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!("expected key=value, got `{s}`")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            report(&e);
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("META_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Prints an error with its source chain; Graph errors also as one JSON line with
/// code, subcode, fbtrace_id and classification.
fn report(e: &anyhow::Error) {
    // meta-graph wraps meta-core's error; look through it so every command prints
    // Meta's code and classification the same way.
    let core = e.downcast_ref::<Error>().or_else(|| {
        e.downcast_ref::<meta_graph::Error>()
            .and_then(meta_graph::Error::meta)
    });
    if let Some(err) = core
        && let Some(api) = err.api()
    {
        {
            let line = serde_json::json!({"error": {
                "code": api.code(),
                "subcode": api.subcode(),
                "type": api.error_type(),
                "message": api.message(),
                "fbtrace_id": api.fbtrace_id(),
                "http_status": api.http_status(),
                "classification": api.kind().as_str(),
                "retryable": err.is_retryable(),
            }});
            eprintln!("{line}");
        }
    }
    eprintln!("error: {e}");
    for cause in e.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Demo(args) => demo::run(args).await,
        Command::Sandbox(args) => sandbox(args).await,
        Command::Graph(GraphCommand::Get(args)) => graph_get(args).await,
        Command::Webhook(cmd) => webhook(cmd),
        Command::Ig(cmd) => ig::run(cmd).await,
        Command::Pages(cmd) => pages::run(cmd).await,
        Command::Oauth(cmd) => oauth::run(cmd).await,
        Command::Comments(cmd) => comments::run(cmd).await,
        Command::Commerce(cmd) => commerce::run(cmd),
        Command::Live(cmd) => live::run(cmd).await,
        Command::Messenger(cmd) => messenger::run(cmd).await,
        Command::Insights(cmd) => insights::run(cmd).await,
        Command::Accounts(args) => accounts::run(args).await,
        Command::Posts(args) => posts::run(args).await,
        Command::Publisher(args) => publisher_cmd::run(args).await,
        Command::Serve(args) => serve::run(args).await,
        Command::Auth(AuthCommand::AppsecretProof {
            app_secret,
            token,
            time,
        }) => {
            let secret = SecretString::from(app_secret);
            let token = SecretString::from(token);
            let proof = match time {
                Some(t) => meta_core::auth::appsecret_proof_timed(&secret, &token, t),
                None => meta_core::auth::appsecret_proof(&secret, &token),
            };
            println!("{proof}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn sandbox(args: SandboxArgs) -> Result<ExitCode> {
    if !(0.0..=1.0).contains(&args.fault_rate) {
        bail!("--fault-rate must be between 0 and 1");
    }
    let config = meta_sandbox::SandboxConfig::default()
        .seed(args.seed)
        .port(args.port)
        .require_appsecret_proof(args.require_proof)
        .faults(meta_sandbox::FaultConfig::default().error_rate(args.fault_rate));
    let sb = meta_sandbox::Sandbox::start_with(config)
        .await
        .context("could not start the sandbox")?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", sb.info_json())?;
    out.flush()?;
    drop(out);
    eprintln!("sandbox listening on {} (Ctrl-C to stop)", sb.base_url());
    tokio::select! {
        () = sb.wait() => {}
        r = tokio::signal::ctrl_c() => { r.context("waiting for Ctrl-C")?; }
    }
    Ok(ExitCode::SUCCESS)
}

fn client_from(conn: &ConnArgs) -> Result<Client> {
    let mut b = Client::builder().timeout(Duration::from_secs(conn.timeout.max(1)));
    if let Some(u) = &conn.base_url {
        b = b.base_url(u.clone());
    }
    if let Some(v) = &conn.api_version {
        b = b.api_version(v.parse::<ApiVersion>()?);
    }
    match &conn.access_token {
        Some(t) => b = b.access_token(t.clone()),
        None => bail!("no access token: set META_ACCESS_TOKEN or pass --access-token"),
    }
    if let Some(s) = &conn.app_secret {
        b = b.app_secret(s.clone());
    }
    Ok(b.build()?)
}

async fn graph_get(args: GraphGetArgs) -> Result<ExitCode> {
    let client = client_from(&args.conn)?;
    let mut params: Params = args.params.into_iter().collect();
    if let Some(f) = &args.fields {
        params = params.fields(f.split(','));
    }
    let mut out = std::io::stdout().lock();
    if args.all {
        let mut items = client
            .paginate_request::<serde_json::Value>(GraphRequest::get(&args.path).params(params));
        if let Some(m) = args.max_items {
            items = items.max_items(m);
        }
        while let Some(item) = items.try_next().await? {
            writeln!(out, "{item}")?;
        }
    } else {
        let v: serde_json::Value = client.get(&args.path, params).await?;
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn read_stdin() -> Result<Vec<u8>> {
    let mut body = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut body)
        .context("reading the body from stdin")?;
    Ok(body)
}

fn webhook(cmd: WebhookCommand) -> Result<ExitCode> {
    match cmd {
        WebhookCommand::Sign { secret } => {
            let body = read_stdin()?;
            println!(
                "{}",
                meta_core::webhook::sign(&SecretString::from(secret), &body)
            );
            Ok(ExitCode::SUCCESS)
        }
        WebhookCommand::Parse { secret, signature } => {
            webhook_parse::run(&read_stdin()?, secret, signature)
        }
        WebhookCommand::Verify { secret, signature } => {
            let body = read_stdin()?;
            let verifier = meta_core::webhook::Verifier::new(SecretString::from(secret));
            match verifier.verify(&body, &signature) {
                Ok(()) => {
                    println!("valid");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    println!("invalid: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}
