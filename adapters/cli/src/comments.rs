//! `meta comments`: list, reply to, hide and delete comments on Page posts, live videos
//! and Instagram media. Lists print one JSON line per comment.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use futures_util::TryStreamExt;
use meta_graph::GraphExt;
use meta_graph::generated::{CommentFilter, CommentLiveFilter, CommentOrder};
use serde_json::json;

use crate::{ConnArgs, client_from};

/// Comment commands.
#[derive(Debug, Subcommand)]
pub(crate) enum CommentsCommand {
    /// List the comments on a post, live video or comment (`--ig`: IG media), one JSON
    /// line each.
    List {
        /// The post, live video, comment or (with --ig) IG media id.
        object_id: String,
        #[command(flatten)]
        opts: ListArgs,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Reply as the Page (`--ig`: as the IG account); prints `{"id": …}`.
    Reply {
        /// The comment to reply to.
        comment_id: String,
        /// The reply.
        #[arg(long)]
        message: String,
        /// An Instagram comment (`POST /{id}/replies`).
        #[arg(long)]
        ig: bool,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Hide a comment (or show it again with --unhide).
    Hide {
        /// The comment.
        comment_id: String,
        /// Show it again.
        #[arg(long)]
        unhide: bool,
        /// An Instagram comment (`hide=` instead of `is_hidden=`).
        #[arg(long)]
        ig: bool,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Delete a comment.
    Delete {
        /// The comment.
        comment_id: String,
        #[command(flatten)]
        conn: ConnArgs,
    },
}

/// Sort order.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Order {
    /// Oldest first (Graph's default).
    Chronological,
    /// Newest first.
    ReverseChronological,
}

/// Listing options.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Sort order.
    #[arg(long, value_enum)]
    order: Option<Order>,
    /// Include replies (`filter=stream`).
    #[arg(long)]
    stream: bool,
    /// Only comments created at or after this unix time.
    #[arg(long)]
    since: Option<u64>,
    /// Keep low-quality live comments (`live_filter=no_filter`).
    #[arg(long)]
    no_filter: bool,
    /// Page size.
    #[arg(long)]
    limit: Option<u32>,
    /// Stop after this many comments.
    #[arg(long)]
    max_items: Option<u64>,
    /// The object is Instagram media.
    #[arg(long)]
    ig: bool,
}

/// Runs a `meta comments` command.
pub(crate) async fn run(cmd: CommentsCommand) -> Result<ExitCode> {
    run_inner(cmd).await.map_err(surface_meta)
}

async fn run_inner(cmd: CommentsCommand) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match cmd {
        CommentsCommand::List {
            object_id,
            opts,
            conn,
        } => {
            let client = client_from(&conn)?;
            let max = opts.max_items.unwrap_or(u64::MAX);
            if opts.ig {
                if opts.order.is_some() || opts.stream || opts.since.is_some() || opts.no_filter {
                    bail!(
                        "--order, --stream, --since and --no-filter apply to Facebook comments only"
                    );
                }
                let mut list = client.comments().list_ig(object_id);
                if let Some(l) = opts.limit {
                    list = list.limit(l);
                }
                let mut items = list.paginate()?.max_items(max);
                while let Some(c) = items.try_next().await? {
                    writeln!(out, "{}", serde_json::to_string(&c)?)?;
                }
            } else {
                let mut list = client.comments().list(object_id);
                if let Some(o) = opts.order {
                    list = list.order(match o {
                        Order::Chronological => CommentOrder::Chronological,
                        Order::ReverseChronological => CommentOrder::ReverseChronological,
                    });
                }
                if opts.stream {
                    list = list.filter(CommentFilter::Stream);
                }
                if let Some(s) = opts.since {
                    list = list.since_unix(s);
                }
                if opts.no_filter {
                    list = list.live_filter(CommentLiveFilter::NoFilter);
                }
                if let Some(l) = opts.limit {
                    list = list.limit(l);
                }
                let mut items = list.paginate()?.max_items(max);
                while let Some(c) = items.try_next().await? {
                    writeln!(out, "{}", serde_json::to_string(&c)?)?;
                }
            }
        }
        CommentsCommand::Reply {
            comment_id,
            message,
            ig,
            conn,
        } => {
            let c = client_from(&conn)?.comments();
            let r = if ig {
                c.ig_reply(&comment_id, &message).await?
            } else {
                c.reply(&comment_id, &message).await?
            };
            writeln!(out, "{}", json!({"id": r.id}))?;
        }
        CommentsCommand::Hide {
            comment_id,
            unhide,
            ig,
            conn,
        } => {
            let c = client_from(&conn)?.comments();
            if ig {
                c.ig_set_hidden(&comment_id, !unhide).await?;
            } else {
                c.set_hidden(&comment_id, !unhide).await?;
            }
            writeln!(out, "{}", json!({"id": comment_id, "hidden": !unhide}))?;
        }
        CommentsCommand::Delete { comment_id, conn } => {
            client_from(&conn)?.comments().delete(&comment_id).await?;
            writeln!(out, "{}", json!({"id": comment_id, "deleted": true}))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Unwraps a `meta_graph::Error::Meta` into the `meta_core::Error` it carries, so the
/// top-level report prints Meta's code, subcode and fbtrace id.
pub(crate) fn surface_meta(e: anyhow::Error) -> anyhow::Error {
    match e.downcast::<meta_graph::Error>() {
        Ok(meta_graph::Error::Meta(m)) => m.into(),
        Ok(other) => other.into(),
        Err(e) => e,
    }
}
