//! `meta insights page|post|ig|ig-media ID --metric a,b [--period day]`: prints the
//! insights report as JSON (metrics, failed metrics with Meta's reason, metrics that
//! came back without data). Metrics Meta rejects are reported, not fatal: the command
//! exits 0 when at least one metric came back, 1 when none did.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use meta_core::ids::{IgMediaId, IgUserId, PageId, PostId};
use meta_graph::GraphExt;
use meta_graph::insights::{InsightsRequest, MetricType, Period};

use crate::{ConnArgs, client_from};

/// Insights commands.
#[derive(Debug, Subcommand)]
pub(crate) enum InsightsCommand {
    /// Page insights (`GET /{page-id}/insights`; needs the Page's token).
    Page {
        /// The Page id.
        id: String,
        #[command(flatten)]
        q: Query,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Post insights (`GET /{post-id}/insights`; needs the Page's token).
    Post {
        /// The post id (`<page>_<post>`).
        id: String,
        #[command(flatten)]
        q: Query,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Instagram account insights (`GET /{ig-user-id}/insights`).
    Ig {
        /// The Instagram professional account id.
        id: String,
        #[command(flatten)]
        q: Query,
        /// `metric_type`: time-series or total-value.
        #[arg(long, value_enum)]
        metric_type: Option<MetricTypeArg>,
        /// `breakdown` dimension (repeatable or comma-separated), e.g.
        /// media_product_type; needs --metric-type total-value.
        #[arg(long, value_delimiter = ',')]
        breakdown: Vec<String>,
        /// `timeframe` for demographic metrics, e.g. this_month.
        #[arg(long)]
        timeframe: Option<String>,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Instagram media insights (`GET /{ig-media-id}/insights`).
    IgMedia {
        /// The media id.
        id: String,
        #[command(flatten)]
        q: Query,
        #[command(flatten)]
        conn: ConnArgs,
    },
}

/// What every insights query takes.
#[derive(Debug, Args)]
pub(crate) struct Query {
    /// Metrics, comma-separated (or repeat the flag).
    #[arg(long, short, value_delimiter = ',', required = true)]
    metric: Vec<String>,
    /// day, week, days_28, month, lifetime or total_over_range.
    #[arg(long)]
    period: Option<Period>,
    /// Start, unix seconds.
    #[arg(long)]
    since: Option<i64>,
    /// End, unix seconds.
    #[arg(long)]
    until: Option<i64>,
    /// Skip metrics known to be deprecated at the API version instead of asking Meta.
    #[arg(long)]
    skip_deprecated: bool,
}

/// `--metric-type`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum MetricTypeArg {
    /// One value per period.
    TimeSeries,
    /// One total over the range.
    TotalValue,
}

fn apply(mut req: InsightsRequest, q: Query) -> InsightsRequest {
    req = req.metrics(q.metric).skip_deprecated(q.skip_deprecated);
    if let Some(p) = q.period {
        req = req.period(p);
    }
    if let Some(s) = q.since {
        req = req.since(s);
    }
    if let Some(u) = q.until {
        req = req.until(u);
    }
    req
}

/// Runs one insights command.
pub(crate) async fn run(cmd: InsightsCommand) -> Result<ExitCode> {
    let req = match cmd {
        InsightsCommand::Page { id, q, conn } => {
            let client = client_from(&conn)?;
            let id = PageId::parse(&id).context("invalid Page id")?;
            apply(client.insights().page(&id), q)
        }
        InsightsCommand::Post { id, q, conn } => {
            let client = client_from(&conn)?;
            let id = PostId::parse(&id).context("invalid post id")?;
            apply(client.insights().post(&id), q)
        }
        InsightsCommand::Ig {
            id,
            q,
            metric_type,
            breakdown,
            timeframe,
            conn,
        } => {
            let client = client_from(&conn)?;
            let id = IgUserId::parse(&id).context("invalid Instagram account id")?;
            let mut req = apply(client.insights().ig_user(&id), q);
            if let Some(t) = metric_type {
                req = req.metric_type(match t {
                    MetricTypeArg::TimeSeries => MetricType::TimeSeries,
                    MetricTypeArg::TotalValue => MetricType::TotalValue,
                });
            }
            for b in breakdown {
                req = req.breakdown(b);
            }
            if let Some(t) = timeframe {
                req = req.timeframe(t);
            }
            req
        }
        InsightsCommand::IgMedia { id, q, conn } => {
            let client = client_from(&conn)?;
            let id = IgMediaId::parse(&id).context("invalid Instagram media id")?;
            apply(client.insights().ig_media(&id), q)
        }
    };
    let report = req.send().await?;
    for f in report.failures() {
        eprintln!("warning: metric {} failed: {}", f.metric(), f.message());
    }
    for m in report.missing() {
        eprintln!("warning: metric {m} came back without data");
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    Ok(if report.metrics.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
