//! `meta demo`: a whole Facebook Live sale on loopback (`demo_live.rs`), and, with
//! `--platform` (or after the sale with `--all`), the foundation doing real work
//! against an in-process sandbox.
//!
//! The platform steps start the fake Graph API with fault injection, run the OAuth
//! exchange, page through an edge, show the governor and retries absorbing faults and
//! a throttle, show that a POST with an unclear outcome is never sent twice, run a
//! batch, and publish a week of posts.

use std::collections::HashSet;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use futures_util::TryStreamExt;
use meta_core::batch::BatchRequest;
use meta_core::{Client, ErrorKind, GraphRequest, RateLimitConfig, RetryConfig};
use meta_sandbox::{Fault, FaultConfig, FaultRule, QuotaConfig, Sandbox, SandboxConfig};
use secrecy::SecretString;
use serde::Deserialize;

/// Options of `meta demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Sandbox seed (same seed, same data and fault sequence).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Share of requests failing with a transient Graph error while paging.
    #[arg(long, default_value_t = 0.15)]
    fault_rate: f64,
    /// Run the platform steps (OAuth, paging under faults, throttle, lost POST, batch,
    /// publishing) instead of the live sale.
    #[arg(long, conflicts_with = "all")]
    platform: bool,
    /// Run the live sale, then the platform steps.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    live: crate::demo_live::LiveArgs,
}

#[derive(Debug, Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct PageAccount {
    id: String,
    name: String,
    access_token: String,
}

fn step(n: u32, title: &str) {
    println!("\n[{n}/7] {title}");
}

/// Runs the demo.
pub(crate) async fn run(args: DemoArgs) -> Result<ExitCode> {
    if !(0.0..=0.5).contains(&args.fault_rate) {
        bail!("--fault-rate must be between 0 and 0.5 for the demo");
    }
    if !args.platform {
        if !crate::demo_live::run(&args.live, args.seed).await? {
            return Ok(ExitCode::FAILURE);
        }
        if !args.all {
            return Ok(ExitCode::SUCCESS);
        }
        println!();
    }
    let started = Instant::now();
    println!(
        "meta demo — the Graph transport against a fake Meta (seed {})",
        args.seed
    );

    step(1, "Start the sandbox");
    // Small quotas so the usage headers move visibly during a short demo.
    let quotas = QuotaConfig::default().app_calls(400).buc_calls(300);
    let sandbox = Sandbox::start_with(
        SandboxConfig::default()
            .seed(args.seed)
            .require_appsecret_proof(true)
            .quotas(quotas),
    )
    .await
    .context("starting the sandbox")?;
    let fx = sandbox.fixtures().clone();
    let control = sandbox.control();
    println!(
        "  base URL {} · app {} · {} pages · appsecret_proof required",
        sandbox.base_url(),
        fx.app_id,
        fx.pages.len()
    );

    let retry = RetryConfig::standard()
        .max_attempts(8)
        .initial_backoff(Duration::from_millis(20))
        .max_backoff(Duration::from_millis(400));
    let governor = meta_core::RateGovernor::new(RateLimitConfig::standard());
    let base = Client::builder()
        .base_url(sandbox.base_url().to_owned())
        .app_id(fx.app_id.clone())
        .app_secret(fx.app_secret.clone())
        .retry(retry)
        .governor(governor.clone())
        .build()?;

    step(
        2,
        "OAuth: login code → short-lived → long-lived token → debug_token → Page tokens",
    );
    let short: TokenResponse = base
        .get(
            "oauth/access_token",
            [
                ("client_id", fx.app_id.as_str()),
                ("client_secret", fx.app_secret.as_str()),
                ("redirect_uri", fx.redirect_uri.as_str()),
                ("code", fx.oauth_code.as_str()),
            ],
        )
        .await
        .context("code exchange")?;
    println!(
        "  code exchanged: short-lived user token, expires in {} s",
        short.expires_in.unwrap_or(0)
    );
    let long: TokenResponse = base
        .get(
            "oauth/access_token",
            [
                ("grant_type", "fb_exchange_token"),
                ("client_id", fx.app_id.as_str()),
                ("client_secret", fx.app_secret.as_str()),
                ("fb_exchange_token", short.access_token.as_str()),
            ],
        )
        .await
        .context("long-lived exchange")?;
    let days = long.expires_in.unwrap_or(0) / 86_400;
    println!(
        "  long-lived user token, expires in {} s (~{days} days)",
        long.expires_in.unwrap_or(0)
    );
    let app_token = format!("{}|{}", fx.app_id, fx.app_secret);
    let debug: serde_json::Value = base
        .execute::<serde_json::Value>(
            GraphRequest::get("debug_token")
                .param("input_token", long.access_token.as_str())
                .access_token(SecretString::from(app_token)),
        )
        .await
        .context("debug_token")?
        .into_data();
    println!(
        "  debug_token: type {} · valid {} · scopes {}",
        debug["data"]["type"], debug["data"]["is_valid"], debug["data"]["scopes"]
    );
    let user = base.with_access_token(SecretString::from(long.access_token.clone()));
    let me: serde_json::Value = user
        .get("me", [("fields", "id,name")])
        .await
        .context("/me")?;
    let pages: Vec<PageAccount> = user
        .paginate("me/accounts", ())
        .collect_all()
        .await
        .context("/me/accounts")?;
    println!(
        "  /me: {} ({}) · /me/accounts: {} Pages with Page tokens",
        me["name"],
        me["id"],
        pages.len()
    );
    let first = pages.first().context("the sandbox returned no pages")?;

    step(
        3,
        "Pagination under injected faults (GET is retried; the governor reads usage headers)",
    );
    control.set_faults(
        FaultConfig::default()
            .error_rate(args.fault_rate)
            .http_5xx_rate(args.fault_rate / 3.0)
            .drop_rate(args.fault_rate / 5.0),
    );
    let page_client = base.with_access_token(SecretString::from(first.access_token.clone()));
    let before = control.requests().len();
    let t = Instant::now();
    let mut stream = page_client
        .paginate::<serde_json::Value>(&format!("{}/feed", first.id), [("limit", "25")])
        .pages();
    let (mut n_pages, mut ids, mut dups) = (0_u32, HashSet::new(), 0_u32);
    let mut last_usage = None;
    while let Some(p) = stream.try_next().await.context("paging the feed")? {
        n_pages += 1;
        for item in &p.page.data {
            if !ids.insert(item["id"].as_str().unwrap_or_default().to_owned()) {
                dups += 1;
            }
        }
        last_usage = Some(p.usage);
    }
    let sent = control.requests().len() - before;
    println!(
        "  {}: {} posts in {n_pages} pages, {dups} duplicates, {:.2} s",
        first.name,
        ids.len(),
        t.elapsed().as_secs_f64()
    );
    println!(
        "  the sandbox received {sent} requests for {n_pages} pages: {} failed attempts were retried",
        sent.saturating_sub(n_pages as usize)
    );
    if let Some(u) = last_usage {
        let app = u.app.as_ref().and_then(|a| a.max_pct()).unwrap_or(0.0);
        let buc = u
            .business_use_case
            .iter()
            .filter_map(|b| b.max_pct())
            .fold(0.0_f64, f64::max);
        println!("  last usage headers: X-App-Usage max {app:.0} % · pages BUC max {buc:.0} %");
    }
    control.set_faults(FaultConfig::default());

    step(
        4,
        "A throttle: the ad account is over its budget; the governor waits it out",
    );
    let ad = fx
        .ad_accounts
        .first()
        .context("the sandbox returned no ad accounts")?;
    control.inject(FaultRule {
        method: Some("GET".into()),
        path_contains: Some(ad.id.clone()),
        times: 1,
        fault: Fault::AdAccountThrottle { reset_secs: 2 },
    });
    let t = Instant::now();
    let campaigns = user
        .execute::<serde_json::Value>(
            GraphRequest::get(format!("{}/campaigns", ad.id)).param("limit", 5),
        )
        .await
        .context("campaigns after the throttle")?;
    println!(
        "  code 17/2446079 with reset_time_duration 2 s → scope blocked → succeeded on attempt {} after {:.1} s ({} campaigns)",
        campaigns.attempts(),
        t.elapsed().as_secs_f64(),
        campaigns.data()["data"].as_array().map_or(0, Vec::len)
    );

    step(5, "A POST whose response is lost is never sent twice");
    control.inject(FaultRule {
        method: Some("POST".into()),
        path_contains: Some(format!("{}/feed", first.id)),
        times: 1,
        fault: Fault::DropAfterApply,
    });
    let posted = page_client
        .post::<serde_json::Value>(
            &format!("{}/feed", first.id),
            [("message", "Hello from meta demo")],
        )
        .await;
    let post_count = control.count("POST", "/feed");
    match posted {
        Ok(v) => println!("  unexpected success: {v}"),
        Err(e) => println!(
            "  POST failed ({}) and was not retried: the sandbox applied it {post_count} time(s) → report \"unconfirmed, check before reposting\"",
            e.kind()
        ),
    }

    step(
        6,
        "Batch: 60 requests in calls of ≤ 50, one result per request",
    );
    control.set_faults(FaultConfig::default().batch_null_rate(0.1));
    let mut post_ids: Vec<&String> = ids.iter().collect();
    post_ids.sort();
    let mut reqs: Vec<BatchRequest> = post_ids
        .iter()
        .take(58)
        .map(|id| BatchRequest::get(id, [("fields", "id,message")]))
        .collect();
    reqs.push(BatchRequest::get("me", [("fields", "not_a_field")]));
    reqs.push(BatchRequest::get(&first.id, ()));
    let before = control.requests().len();
    let results = page_client.batch(reqs).await.context("batch")?;
    let log = control.requests();
    let batch_calls = log[before..].iter().filter(|r| !r.in_batch).count();
    let null_slots = log[before..]
        .iter()
        .filter(|r| r.in_batch && r.status.is_none())
        .count();
    control.set_faults(FaultConfig::default());
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let errs: Vec<String> = results
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.as_ref().err().map(|e| (i, e)))
        .map(|(i, e)| match e.api() {
            Some(a) => format!("item {i}: #{} {} ({})", a.code(), a.kind(), a.message()),
            None => format!("item {i}: {}", e.kind()),
        })
        .collect();
    println!(
        "  {} results from {batch_calls} batch calls ({null_slots} null slots re-sent): {ok} ok, {} per-item errors",
        results.len(),
        errs.len()
    );
    for e in &errs {
        println!("    {e}");
    }

    println!("\nGovernor");
    let stats = governor.stats();
    println!(
        "  acquired {} · waited {} times, {:.1} s in total · scopes blocked {} · refused {}",
        stats.acquired,
        stats.waited,
        stats.total_wait.as_secs_f64(),
        stats.blocks,
        stats.refused
    );
    for s in governor.snapshot().iter().take(6) {
        println!(
            "  {:<40} usage {:>5} blocked {}",
            s.scope,
            s.usage_pct.map_or("-".to_owned(), |p| format!("{p:.0}%")),
            s.blocked_for
                .map_or("no".to_owned(), |d| format!("{:.1}s", d.as_secs_f64()))
        );
    }
    println!(
        "  retry budget left: {} tokens",
        base.retry_budget().available()
    );
    let kinds_ok =
        errs.len() == 1 && errs[0].contains(ErrorKind::InvalidParameter.as_str()) && ok == 59;

    step(
        7,
        "Publishing: a week of approved posts for 4 accounts, governed, on embedded SQLite",
    );
    let publishing = crate::demo_publish::run(args.seed).await?;
    println!("\ndone in {:.1} s", started.elapsed().as_secs_f64());
    sandbox.shutdown().await;
    if ids.len() as u64 == 0 || dups > 0 || !kinds_ok || !publishing.ok {
        bail!(
            "demo checks failed (posts {}, duplicates {dups})",
            ids.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}
