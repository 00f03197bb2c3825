//! `meta publisher run`: the worker. Reconciles armed posts left by a previous run,
//! then claims and publishes due posts until Ctrl-C or SIGTERM, printing one line per
//! outcome (published, failed, unconfirmed, deferred).

use std::fmt;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use meta_graph::publisher::store::PostFilter;
use meta_graph::publisher::{
    AuditEntry, GOVERNANCE_ACTOR, PostRecord, PostState, PublishAttempt, Publisher,
    PublisherConfig, PublisherStore, RunReport,
};
use meta_graph::store::{StoreFuture, UuidV7Ids};

use crate::store_cfg::{
    GraphArgs, StoreArgs, base_client, lifecycle, open_stores, parse_duration, require_cipher,
    rfc3339, system_clock,
};

/// `meta publisher …`.
#[derive(Debug, Args)]
pub(crate) struct PublisherArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: PublisherCommand,
}

#[derive(Debug, Subcommand)]
enum PublisherCommand {
    /// Run the worker: reconcile, then publish due posts until Ctrl-C / SIGTERM.
    Run(RunArgs),
}

#[derive(Debug, Args)]
struct RunArgs {
    /// This worker's id (the lease owner). Restart a crashed worker with its old id
    /// and it takes over its armed posts at once instead of waiting for the lease.
    #[arg(long)]
    worker_id: Option<String>,
    /// Reconcile, publish whatever is due now, and exit.
    #[arg(long)]
    once: bool,
    /// Time between rounds.
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    poll: Duration,
    /// Posts claimed per round.
    #[arg(long, default_value_t = 16)]
    batch: u32,
    /// How long a claim lasts.
    #[arg(long, value_parser = parse_duration, default_value = "5m")]
    lease: Duration,
    /// Crash drill: persist "armed" and stop before the irreversible call, then wait
    /// to be killed.
    #[arg(long, hide = true)]
    halt_after_arming: bool,
    #[command(flatten)]
    graph: GraphArgs,
}

/// Runs `meta publisher …`.
pub(crate) async fn run(args: PublisherArgs) -> Result<ExitCode> {
    match args.command {
        PublisherCommand::Run(r) => worker(&args.store, r).await,
    }
}

async fn worker(store: &StoreArgs, r: RunArgs) -> Result<ExitCode> {
    let stores = open_stores(store).await?;
    let cipher = require_cipher()?;
    let clock = system_clock();
    let manager = lifecycle(
        &stores,
        cipher,
        &r.graph,
        base_client(&r.graph, clock.clone())?,
    )?;
    let posts: Arc<dyn PublisherStore> = Arc::new(Announcing {
        inner: stores.posts.clone(),
        show_armed: r.halt_after_arming,
    });
    let config = PublisherConfig {
        poll_interval: r.poll,
        batch: r.batch.max(1),
        lease: r.lease,
        ..PublisherConfig::default()
    };
    let mut builder = Publisher::builder(
        stores.accounts.clone(),
        posts,
        Arc::new(manager),
        clock.clone(),
        Arc::new(UuidV7Ids::new(clock)),
    )
    .config(config)
    .halt_after_arming(r.halt_after_arming);
    if let Some(w) = &r.worker_id {
        builder = builder.worker_id(w.clone());
    }
    let p = builder.build();
    eprintln!(
        "worker {} on {} ({})",
        p.worker_id(),
        stores.label,
        if r.once { "once" } else { "Ctrl-C to stop" }
    );

    if r.once || r.halt_after_arming {
        return rounds(&p, r.once, r.halt_after_arming, r.poll).await;
    }
    p.run(shutdown_signal()).await;
    eprintln!("worker {} stopped", p.worker_id());
    Ok(ExitCode::SUCCESS)
}

/// Reconciles, then runs rounds: with `once`, until nothing due is left; with
/// `halt`, until a post was armed and halted (then it waits to be killed, as a
/// process that died there would never go on).
async fn rounds(p: &Publisher, once: bool, halt: bool, poll: Duration) -> Result<ExitCode> {
    let r = p.reconcile().await.context("reconciling armed posts")?;
    if r.examined > 0 {
        println!(
            "reconciled {} armed post(s): {} published, {} unconfirmed, {} left for later",
            r.examined, r.published, r.unconfirmed, r.errors
        );
    }
    let mut total = RunReport::default();
    // A round that claims nothing means nothing is due; the bound only guards
    // against a store that keeps handing posts back.
    for _ in 0..10_000 {
        let report = p.run_once().await.context("publisher round")?;
        add(&mut total, &report);
        if halt && report.halted > 0 {
            println!(
                "halted after arming {} post(s); waiting to be killed",
                report.halted
            );
            shutdown_signal().await;
            return Ok(ExitCode::SUCCESS);
        }
        if report.claimed == 0 {
            if once {
                break;
            }
            tokio::select! {
                () = tokio::time::sleep(poll) => {}
                () = shutdown_signal() => break,
            }
        }
    }
    println!(
        "done: {} published, {} deferred, {} retrying, {} failed, {} unconfirmed",
        total.published, total.deferred, total.retried, total.failed, total.unconfirmed
    );
    Ok(ExitCode::SUCCESS)
}

fn add(total: &mut RunReport, r: &RunReport) {
    total.claimed += r.claimed;
    total.published += r.published;
    total.deferred += r.deferred;
    total.retried += r.retried;
    total.failed += r.failed;
    total.unconfirmed += r.unconfirmed;
    total.conflicts += r.conflicts;
    total.halted += r.halted;
}

/// Ctrl-C, or SIGTERM on Unix.
///
/// The handlers are installed when this is *called*, not when the future is first
/// polled: a worker busy with its first round must not be killed by a SIGTERM that
/// arrives before anything awaits the signal.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            match (term, int) {
                (Some(mut term), Some(mut int)) => {
                    tokio::select! {
                        _ = int.recv() => {}
                        _ = term.recv() => {}
                    }
                }
                (Some(mut term), None) => {
                    let _ = term.recv().await;
                }
                _ => {
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

/// The store, announcing on stdout every outcome the worker commits: the line is
/// printed only once the store accepted the write, so it never claims more than
/// happened.
struct Announcing {
    inner: Arc<dyn PublisherStore>,
    /// Also announce arming (the crash drill waits for it).
    show_armed: bool,
}

impl fmt::Debug for Announcing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Announcing")
            .field("inner", &self.inner)
            .field("show_armed", &self.show_armed)
            .finish()
    }
}

fn announce(post: &PostRecord, audit: Option<&AuditEntry>, show_armed: bool) {
    let Some(audit) = audit else { return };
    let reason = audit.reason.as_deref().unwrap_or("");
    let line = match (audit.from, post.state) {
        (_, PostState::Published) => format!(
            "published {} {} {} → {}",
            post.id,
            post.account_id,
            post.kind,
            post.published_id.as_deref().unwrap_or("(id unknown)")
        ),
        (_, PostState::Failed) => format!("failed {} {}: {reason}", post.id, post.account_id),
        (_, PostState::Unconfirmed) => {
            format!("unconfirmed {} {}: {reason}", post.id, post.account_id)
        }
        (_, PostState::Publishing) if show_armed => {
            format!("armed {} {}", post.id, post.account_id)
        }
        (Some(_), PostState::Scheduled) if audit.actor == GOVERNANCE_ACTOR => format!(
            "deferred {} {} until {}: {reason}",
            post.id,
            post.account_id,
            post.not_before.map_or("-".to_owned(), rfc3339)
        ),
        (
            Some(PostState::Preparing | PostState::Ready | PostState::Publishing),
            PostState::Scheduled,
        ) => {
            format!(
                "retrying {} {} at {}: {reason}",
                post.id,
                post.account_id,
                post.next_attempt_at.map_or("-".to_owned(), rfc3339)
            )
        }
        _ => return,
    };
    println!("{line}");
}

impl PublisherStore for Announcing {
    fn insert_post<'a>(
        &'a self,
        post: &'a PostRecord,
        audit: &'a AuditEntry,
    ) -> StoreFuture<'a, ()> {
        self.inner.insert_post(post, audit)
    }
    fn get_post<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<PostRecord>> {
        self.inner.get_post(id)
    }
    fn list_posts<'a>(&'a self, filter: &'a PostFilter) -> StoreFuture<'a, Vec<PostRecord>> {
        self.inner.list_posts(filter)
    }
    fn update_post<'a>(
        &'a self,
        post: &'a PostRecord,
        expected_version: u64,
        audit: Option<&'a AuditEntry>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.inner
                .update_post(post, expected_version, audit)
                .await?;
            announce(post, audit, self.show_armed);
            Ok(())
        })
    }
    fn delete_post<'a>(
        &'a self,
        id: &'a str,
        expected_version: u64,
        audit: &'a AuditEntry,
    ) -> StoreFuture<'a, ()> {
        self.inner.delete_post(id, expected_version, audit)
    }
    fn claim_due<'a>(
        &'a self,
        now_ms: i64,
        worker_id: &'a str,
        lease_ms: i64,
        limit: u32,
    ) -> StoreFuture<'a, Vec<PostRecord>> {
        self.inner.claim_due(now_ms, worker_id, lease_ms, limit)
    }
    fn release_lease<'a>(&'a self, id: &'a str, worker_id: &'a str) -> StoreFuture<'a, bool> {
        self.inner.release_lease(id, worker_id)
    }
    fn armed<'a>(&'a self, worker_id: Option<&'a str>) -> StoreFuture<'a, Vec<PostRecord>> {
        self.inner.armed(worker_id)
    }
    fn audit_trail<'a>(&'a self, post_id: &'a str) -> StoreFuture<'a, Vec<AuditEntry>> {
        self.inner.audit_trail(post_id)
    }
    fn record_attempt<'a>(&'a self, attempt: &'a PublishAttempt) -> StoreFuture<'a, ()> {
        self.inner.record_attempt(attempt)
    }
    fn attempts<'a>(&'a self, post_id: &'a str) -> StoreFuture<'a, Vec<PublishAttempt>> {
        self.inner.attempts(post_id)
    }
    fn purge_attempts(&self, older_than_ms: i64) -> StoreFuture<'_, u64> {
        self.inner.purge_attempts(older_than_ms)
    }
    fn published_count_between<'a>(
        &'a self,
        account_id: &'a str,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreFuture<'a, u32> {
        self.inner
            .published_count_between(account_id, from_ms, to_ms)
    }
    fn last_published_at<'a>(&'a self, account_id: &'a str) -> StoreFuture<'a, Option<i64>> {
        self.inner.last_published_at(account_id)
    }
}
