//! `meta oauth`: the Facebook Login dialog URL, code and token exchanges (Facebook and
//! Instagram Login), and `debug_token`. Results go to stdout as one JSON line; the app
//! secret is read from `--app-secret` or `META_APP_SECRET` and never printed.

use std::io::Write;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use meta_core::{ApiVersion, Client};
use meta_graph::oauth::{OAuth, ResponseType, State, Token};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

/// OAuth commands.
#[derive(Debug, Subcommand)]
pub(crate) enum OauthCommand {
    /// Print the login dialog URL and the CSRF state to keep in the session.
    Url(UrlArgs),
    /// Exchange a login code (or a token) for a token.
    Exchange(ExchangeArgs),
    /// Inspect a token with debug_token (uses the app token).
    Debug(DebugArgs),
}

/// The app's credentials and where to reach Meta.
#[derive(Debug, Args)]
pub(crate) struct AppArgs {
    /// The app id.
    #[arg(long, env = "META_APP_ID")]
    app_id: String,
    /// The app secret (prefer the environment variable: flags show in process lists).
    #[arg(long, env = "META_APP_SECRET", hide_env_values = true)]
    app_secret: String,
    /// The redirect URI registered for the app.
    #[arg(long, env = "META_REDIRECT_URI")]
    redirect_uri: Option<String>,
    /// Graph host (default https://graph.facebook.com; a sandbox URL in tests).
    #[arg(long, env = "META_BASE_URL")]
    base_url: Option<String>,
    /// Instagram Login host (default https://graph.instagram.com).
    #[arg(long, env = "META_INSTAGRAM_BASE_URL")]
    instagram_base_url: Option<String>,
    /// Graph version, e.g. v26.0.
    #[arg(long)]
    api_version: Option<String>,
}

/// `meta oauth url`.
#[derive(Debug, Args)]
pub(crate) struct UrlArgs {
    /// The app id.
    #[arg(long, env = "META_APP_ID")]
    app_id: String,
    /// The redirect URI registered for the app.
    #[arg(long, env = "META_REDIRECT_URI")]
    redirect_uri: String,
    /// Permissions, comma-separated (e.g. pages_show_list,pages_manage_posts).
    #[arg(long, value_delimiter = ',')]
    scope: Vec<String>,
    /// The state to use instead of a fresh random one.
    #[arg(long)]
    state: Option<String>,
    /// A Facebook Login for Business configuration id.
    #[arg(long)]
    config_id: Option<String>,
    /// response_type: code (default), token, code-token or granted-scopes.
    #[arg(long, value_parser = parse_response_type)]
    response_type: Option<ResponseType>,
    /// Graph version of the dialog path, e.g. v26.0.
    #[arg(long)]
    api_version: Option<String>,
}

/// `meta oauth exchange`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["code", "long_lived", "ig_exchange", "ig_refresh"])))]
pub(crate) struct ExchangeArgs {
    /// A login code from the redirect → short-lived user token.
    #[arg(long)]
    code: Option<String>,
    /// A user token → long-lived user token (fb_exchange_token).
    #[arg(long)]
    long_lived: Option<String>,
    /// A short-lived Instagram Login token → long-lived (ig_exchange_token).
    #[arg(long)]
    ig_exchange: Option<String>,
    /// A long-lived Instagram Login token → refreshed (ig_refresh_token).
    #[arg(long)]
    ig_refresh: Option<String>,
    #[command(flatten)]
    app: AppArgs,
}

/// `meta oauth debug`.
#[derive(Debug, Args)]
pub(crate) struct DebugArgs {
    /// The token to inspect.
    #[arg(long, env = "META_INPUT_TOKEN", hide_env_values = true)]
    token: String,
    #[command(flatten)]
    app: AppArgs,
}

fn parse_response_type(s: &str) -> Result<ResponseType, String> {
    match s {
        "code" => Ok(ResponseType::Code),
        "token" => Ok(ResponseType::Token),
        "code-token" | "code token" => Ok(ResponseType::CodeAndToken),
        "granted-scopes" | "granted_scopes" => Ok(ResponseType::GrantedScopes),
        other => Err(format!(
            "unknown response type `{other}` (code, token, code-token, granted-scopes)"
        )),
    }
}

fn version(v: Option<&String>) -> Result<Option<ApiVersion>> {
    v.map(|v| v.parse::<ApiVersion>().context("invalid --api-version"))
        .transpose()
}

fn build_oauth(app: &AppArgs) -> Result<OAuth> {
    // The exchanges need no redirect URI except the code exchange, where it must be the
    // one the dialog used; a placeholder keeps the other commands flag-free.
    let redirect = app
        .redirect_uri
        .clone()
        .unwrap_or_else(|| "https://localhost/".to_owned());
    let mut b = OAuth::builder(
        app.app_id.clone(),
        SecretString::from(app.app_secret.clone()),
        redirect,
    );
    if let Some(v) = version(app.api_version.as_ref())? {
        b = b.api_version(v);
    }
    if let Some(u) = &app.instagram_base_url {
        b = b.instagram_base_url(u.clone());
    }
    Ok(b.build()?)
}

fn build_client(app: &AppArgs) -> Result<Client> {
    // No access token: the OAuth endpoints authenticate with the app's credentials.
    let mut b = Client::builder();
    if let Some(u) = &app.base_url {
        b = b.base_url(u.clone());
    }
    if let Some(v) = version(app.api_version.as_ref())? {
        b = b.api_version(v);
    }
    Ok(b.build()?)
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn token_json(t: &Token) -> Value {
    json!({
        "access_token": t.access_token().expose_secret(),
        "token_type": t.token_type(),
        "expires_in": t.expires_in().map(|d| d.as_secs()),
        "expires_at": t.expires_at().map(unix),
    })
}

/// Unwraps meta-graph's error so `main` prints Meta's code, subcode and fbtrace_id as
/// it does for every Graph failure.
fn graph<T>(r: meta_graph::Result<T>) -> Result<T> {
    r.map_err(|e| match e {
        meta_graph::Error::Meta(m) => anyhow::Error::from(m),
        other => anyhow::Error::from(other),
    })
}

fn print(v: &Value) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{v}")?;
    Ok(ExitCode::SUCCESS)
}

/// Runs one `meta oauth` command.
pub(crate) async fn run(cmd: OauthCommand) -> Result<ExitCode> {
    match cmd {
        OauthCommand::Url(args) => {
            // The dialog URL does not use the secret; the builder wants one, so a
            // placeholder that is never sent anywhere stands in.
            let mut b = OAuth::builder(
                args.app_id,
                SecretString::from("unused-for-the-dialog"),
                args.redirect_uri,
            );
            if let Some(v) = version(args.api_version.as_ref())? {
                b = b.api_version(v);
            }
            let oauth = b.build()?;
            let state = match args.state {
                Some(s) => State::from_stored(s)?,
                None => State::generate()?,
            };
            let mut dialog = oauth.login_dialog().scopes(&args.scope).state(&state);
            if let Some(id) = args.config_id {
                dialog = dialog.config_id(id);
            }
            if let Some(rt) = args.response_type {
                dialog = dialog.response_type(rt);
            }
            let url = dialog.url()?;
            print(&json!({"url": url.as_str(), "state": state.as_str()}))
        }
        OauthCommand::Exchange(args) => {
            let oauth = build_oauth(&args.app)?;
            let token = if let Some(code) = &args.code {
                let client = build_client(&args.app)?;
                graph(oauth.exchange_code(&client, code).await)?
            } else if let Some(t) = args.long_lived {
                let client = build_client(&args.app)?;
                graph(
                    oauth
                        .exchange_long_lived(&client, &SecretString::from(t))
                        .await,
                )?
            } else if let Some(t) = args.ig_exchange {
                graph(oauth.ig_exchange_long_lived(&SecretString::from(t)).await)?
            } else if let Some(t) = args.ig_refresh {
                graph(oauth.ig_refresh(&SecretString::from(t)).await)?
            } else {
                // clap's required group makes this unreachable; say so plainly if not.
                anyhow::bail!("pass one of --code, --long-lived, --ig-exchange, --ig-refresh");
            };
            print(&token_json(&token))
        }
        OauthCommand::Debug(args) => {
            let oauth = build_oauth(&args.app)?;
            let client = build_client(&args.app)?;
            let info = graph(
                oauth
                    .debug_token(&client, &SecretString::from(args.token))
                    .await,
            )?;
            let secs = |d: Option<SystemTime>| d.map(unix);
            print(&json!({
                "is_valid": info.is_valid,
                "type": info.token_type.as_ref().map(|t| t.as_str().to_owned()),
                "app_id": info.app_id,
                "application": info.application,
                "user_id": info.user_id,
                "profile_id": info.profile_id,
                "expires_at": secs(info.expires_at()),
                "never_expires": info.never_expires(),
                "data_access_expires_at": secs(info.data_access_expires_at()),
                "issued_at": secs(info.issued_at()),
                "scopes": info.scopes,
                "granular_scopes": info.granular_scopes.iter().map(|g| json!({
                    "scope": g.scope, "target_ids": g.target_ids,
                })).collect::<Vec<_>>(),
                "error": info.error.as_ref().map(|e| json!({
                    "code": e.code, "subcode": e.subcode, "message": e.message,
                })),
            }))
        }
    }
}
