//! `meta ig`: Instagram content publishing (create → poll → publish), the container
//! status and the publishing quota. Progress goes to stderr, results to stdout as JSON.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use meta_core::{Client, IgContainerId, IgUserId};
use meta_graph::GraphExt;
use meta_graph::instagram::{
    DEFAULT_RUPLOAD_BASE_URL, Instagram, NewContainer, PollConfig, PollProgress, PublishOutcome,
};
use serde_json::json;

use crate::{ConnArgs, client_from};

/// Instagram commands.
#[derive(Debug, Subcommand)]
pub(crate) enum IgCommand {
    /// Create a container, wait for it to finish, publish it, print the media id.
    #[command(subcommand)]
    Publish(PublishCommand),
    /// Show a container's status_code and status.
    Status {
        /// The container id.
        container_id: String,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Show the account's publishing quota (content_publishing_limit).
    Limit {
        /// The Instagram account id.
        #[arg(long)]
        ig_user: String,
        #[command(flatten)]
        conn: ConnArgs,
    },
}

/// What to publish.
#[derive(Debug, Subcommand)]
pub(crate) enum PublishCommand {
    /// A feed image from a public JPEG URL.
    Image {
        /// The image URL (JPEG).
        #[arg(long)]
        url: String,
        /// Alternative text.
        #[arg(long)]
        alt_text: Option<String>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// A reel from a public video URL, or a local file sent with the resumable upload.
    Reel {
        /// The video URL.
        #[arg(long, required_unless_present = "file", conflicts_with = "file")]
        video_url: Option<String>,
        /// A local video file (resumable upload).
        #[arg(long)]
        file: Option<std::path::PathBuf>,
        /// Host of the resumable upload.
        #[arg(long, default_value = DEFAULT_RUPLOAD_BASE_URL)]
        upload_base_url: String,
        /// Also show the reel in the feed.
        #[arg(long)]
        share_to_feed: bool,
        /// Cover image URL.
        #[arg(long)]
        cover_url: Option<String>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// A story from an image or a video URL.
    Story {
        /// The image URL (JPEG).
        #[arg(
            long,
            required_unless_present = "video_url",
            conflicts_with = "video_url"
        )]
        url: Option<String>,
        /// The video URL.
        #[arg(long)]
        video_url: Option<String>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// A carousel of 2–10 images and videos (`--url` for images, `--video-url` for
    /// videos; images first, then videos).
    Carousel {
        /// An image URL (repeatable).
        #[arg(long = "url")]
        urls: Vec<String>,
        /// A video URL (repeatable).
        #[arg(long = "video-url")]
        video_urls: Vec<String>,
        #[command(flatten)]
        common: CommonArgs,
    },
}

/// Flags every publish command takes.
#[derive(Debug, Args)]
pub(crate) struct CommonArgs {
    /// The Instagram account id.
    #[arg(long)]
    ig_user: String,
    /// Caption (≤ 2,200 characters, ≤ 30 hashtags, ≤ 20 @-mentions).
    #[arg(long)]
    caption: Option<String>,
    /// Only create the container and print its id; do not wait or publish.
    #[arg(long)]
    no_wait: bool,
    /// Seconds before the second status check (then ×1.5, at most 60 s).
    #[arg(long, default_value_t = 5.0)]
    poll_interval: f64,
    /// Give up waiting after this many seconds.
    #[arg(long, default_value_t = 300)]
    deadline: u64,
    #[command(flatten)]
    conn: ConnArgs,
}

/// Runs `meta ig ...`.
pub(crate) async fn run(cmd: IgCommand) -> Result<ExitCode> {
    match cmd {
        IgCommand::Publish(p) => publish(p).await,
        IgCommand::Status { container_id, conn } => {
            let client = client_from(&conn)?;
            let s = client
                .instagram()
                .container_status(&IgContainerId::new(container_id))
                .await?;
            print_json(&json!({
                "id": s.id.as_str(),
                "status_code": s.code().as_str(),
                "status": s.status,
            }))
        }
        IgCommand::Limit { ig_user, conn } => {
            let client = client_from(&conn)?;
            let l = client
                .instagram()
                .publishing_limit(&IgUserId::new(ig_user))
                .await?;
            print_json(&json!({
                "quota_usage": l.quota_usage,
                "quota_total": l.config.and_then(|c| c.quota_total),
                "quota_duration": l.config.and_then(|c| c.quota_duration),
                "remaining": l.remaining(),
            }))
        }
    }
}

fn print_json(v: &serde_json::Value) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{v}")?;
    Ok(ExitCode::SUCCESS)
}

fn poll_config(c: &CommonArgs) -> Result<PollConfig> {
    if !c.poll_interval.is_finite() || c.poll_interval < 0.0 {
        bail!("--poll-interval must be a non-negative number of seconds");
    }
    Ok(PollConfig::default()
        .initial_interval(Duration::from_secs_f64(c.poll_interval))
        .deadline(Duration::from_secs(c.deadline)))
}

fn progress(p: &PollProgress) {
    let status = p.status.status.as_deref().unwrap_or("");
    match p.next_check {
        Some(next) => eprintln!(
            "container {}: {} (check {}, waited {:.0?}; next check in {:.1?}) {status}",
            p.status.id.as_str(),
            p.status.code(),
            p.checks,
            p.waited,
            next
        ),
        None => eprintln!(
            "container {}: {} after {:.0?} {status}",
            p.status.id.as_str(),
            p.status.code(),
            p.waited
        ),
    }
}

/// The upload client: the same credentials, another host.
fn upload_client(conn: &ConnArgs, base_url: &str) -> Result<Client> {
    let mut b = Client::builder()
        .base_url(base_url.to_owned())
        .timeout(Duration::from_secs(conn.timeout.max(1)));
    if let Some(v) = &conn.api_version {
        b = b.api_version(v.parse::<meta_core::ApiVersion>()?);
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

/// Builds the container once the client exists.
type BuildFn = Box<dyn FnOnce(&Instagram, &IgUserId) -> Result<NewContainer>>;

async fn publish(cmd: PublishCommand) -> Result<ExitCode> {
    let (common, build): (CommonArgs, BuildFn) = match cmd {
        PublishCommand::Image {
            url,
            alt_text,
            common,
        } => (
            common,
            Box::new(move |ig, user| {
                let mut c = ig.image(user, url);
                if let Some(a) = alt_text {
                    c = c.alt_text(a);
                }
                Ok(c)
            }),
        ),
        PublishCommand::Reel {
            video_url,
            file,
            upload_base_url,
            share_to_feed,
            cover_url,
            common,
        } => {
            let upload = match &file {
                Some(_) => Some(upload_client(&common.conn, &upload_base_url)?),
                None => None,
            };
            (
                common,
                Box::new(move |ig, user| {
                    let mut c = match (video_url, file, upload) {
                        (Some(u), _, _) => ig.reel(user, u),
                        (None, Some(path), Some(up)) => {
                            let bytes = std::fs::read(&path)
                                .with_context(|| format!("reading {}", path.display()))?;
                            ig.clone().with_upload_client(up).reel_upload(user, bytes)
                        }
                        _ => bail!("pass --video-url or --file"),
                    };
                    if share_to_feed {
                        c = c.share_to_feed(true);
                    }
                    if let Some(u) = cover_url {
                        c = c.cover_url(u);
                    }
                    Ok(c)
                }),
            )
        }
        PublishCommand::Story {
            url,
            video_url,
            common,
        } => (
            common,
            Box::new(move |ig, user| match (url, video_url) {
                (Some(u), None) => Ok(ig.story_image(user, u)),
                (None, Some(v)) => Ok(ig.story_video(user, v)),
                _ => bail!("pass exactly one of --url and --video-url"),
            }),
        ),
        PublishCommand::Carousel {
            urls,
            video_urls,
            common,
        } => (
            common,
            Box::new(move |ig, user| {
                let c = urls
                    .into_iter()
                    .fold(ig.carousel(user), NewContainer::image_item);
                Ok(video_urls.into_iter().fold(c, NewContainer::video_item))
            }),
        ),
    };
    let client = client_from(&common.conn)?;
    let ig = client.instagram().with_poll_config(poll_config(&common)?);
    let user = IgUserId::new(common.ig_user.clone());
    let mut container = build(&ig, &user)?.on_progress(progress);
    if let Some(c) = &common.caption {
        container = container.caption(c.clone());
    }
    if common.no_wait {
        let id = container.create().await?;
        eprintln!(
            "container {} created (not published: --no-wait)",
            id.as_str()
        );
        return print_json(&json!({ "container_id": id.as_str() }));
    }
    let outcome = container.publish().await?;
    match outcome {
        PublishOutcome::Published { media_id } => {
            eprintln!("published media {}", media_id.as_str());
            print_json(&json!({ "outcome": "published", "media_id": media_id.as_str() }))
        }
        PublishOutcome::AlreadyPublished { container_id } => print_json(&json!({
            "outcome": "already_published", "container_id": container_id.as_str(),
        })),
        PublishOutcome::PublishedAnswerLost { container_id } => {
            eprintln!("the answer was lost but the container is PUBLISHED");
            print_json(&json!({
                "outcome": "published_answer_lost", "container_id": container_id.as_str(),
            }))
        }
        PublishOutcome::Unconfirmed {
            container_id,
            cause,
        } => {
            eprintln!(
                "publish of container {} is UNCONFIRMED ({cause}); check `meta ig status {}` before retrying",
                container_id.as_str(),
                container_id.as_str()
            );
            print_json(&json!({
                "outcome": "unconfirmed", "container_id": container_id.as_str(),
            }))?;
            Ok(ExitCode::from(3))
        }
        other => {
            eprintln!("unexpected outcome: {other:?}");
            Ok(ExitCode::from(3))
        }
    }
}
