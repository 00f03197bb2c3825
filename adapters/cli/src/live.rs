//! `meta live`: list a Page's live videos and print (or follow) a broadcast's comments
//! as JSON lines.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Subcommand;
use futures_util::TryStreamExt;
use meta_graph::GraphExt;
use meta_graph::generated::{CommentLiveFilter, LiveVideoStatus};

use crate::{ConnArgs, client_from};

/// Live video commands.
#[derive(Debug, Subcommand)]
pub(crate) enum LiveCommand {
    /// List a Page's live videos, one JSON line each.
    List {
        /// The Page id.
        #[arg(long)]
        page: String,
        /// Only broadcasts live now.
        #[arg(long)]
        live_only: bool,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Print a live video's comments, oldest first; with --follow, keep polling and
    /// print new ones as they arrive until the broadcast ends (or Ctrl-C).
    Comments {
        /// The live video id.
        live_id: String,
        /// Keep polling until the broadcast ends.
        #[arg(long)]
        follow: bool,
        /// Milliseconds between polls with --follow.
        #[arg(long, default_value_t = 3000)]
        interval_ms: u64,
        /// Skip the comments already there (with --follow).
        #[arg(long)]
        new_only: bool,
        /// Keep low-quality comments (`live_filter=no_filter`).
        #[arg(long)]
        no_filter: bool,
        #[command(flatten)]
        conn: ConnArgs,
    },
}

/// Runs a `meta live` command.
pub(crate) async fn run(cmd: LiveCommand) -> Result<ExitCode> {
    run_inner(cmd).await.map_err(crate::comments::surface_meta)
}

async fn run_inner(cmd: LiveCommand) -> Result<ExitCode> {
    match cmd {
        LiveCommand::List {
            page,
            live_only,
            conn,
        } => {
            let client = client_from(&conn)?;
            let mut list = client.live_videos().list(page);
            if live_only {
                list = list.broadcast_status([LiveVideoStatus::Live]);
            }
            let mut items = list.paginate()?;
            let mut out = std::io::stdout().lock();
            while let Some(v) = items.try_next().await? {
                writeln!(out, "{}", serde_json::to_string(&v)?)?;
            }
            out.flush()?;
        }
        LiveCommand::Comments {
            live_id,
            follow,
            interval_ms,
            new_only,
            no_filter,
            conn,
        } => {
            let client = client_from(&conn)?;
            if !follow {
                let mut list = client.comments().list(live_id);
                if no_filter {
                    list = list.live_filter(CommentLiveFilter::NoFilter);
                }
                let mut items = list
                    .fields(meta_graph::live::LIVE_COMMENT_FIELDS)
                    .limit(100)
                    .paginate()?;
                let mut out = std::io::stdout().lock();
                while let Some(c) = items.try_next().await? {
                    writeln!(out, "{}", serde_json::to_string(&c)?)?;
                }
                out.flush()?;
                return Ok(ExitCode::SUCCESS);
            }
            let mut b = client
                .live_videos()
                .comment_stream(live_id)
                .interval(Duration::from_millis(interval_ms.max(1)))
                .backfill(!new_only);
            if no_filter {
                b = b.live_filter(CommentLiveFilter::NoFilter);
            }
            let mut stream = b.start()?;
            loop {
                tokio::select! {
                    next = stream.try_next() => match next? {
                        Some(c) => {
                            // One line per comment, flushed at once so pipes see it live.
                            let mut out = std::io::stdout().lock();
                            writeln!(out, "{}", serde_json::to_string(&c)?)?;
                            out.flush()?;
                        }
                        None => break,
                    },
                    r = tokio::signal::ctrl_c() => {
                        r.context("waiting for Ctrl-C")?;
                        break;
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
