//! `meta pages`: publish to a Facebook Page (posts, scheduled posts, photos, videos),
//! list scheduled posts, delete. Uses the Page's token from `META_ACCESS_TOKEN`;
//! results go to stdout as JSON (lists as one JSON line per item).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use futures_util::TryStreamExt;
use meta_core::ids::{PageId, PostId};
use meta_graph::GraphExt;
use meta_graph::pages::PhotoSource;
use serde_json::json;

use crate::{ConnArgs, client_from};

/// Page publishing commands.
#[derive(Debug, Subcommand)]
pub(crate) enum PagesCommand {
    /// Publish a feed post now; prints `{"id": …}`.
    Post {
        #[command(flatten)]
        post: PostArgs,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Schedule a feed post 10 minutes to 30 days ahead.
    Schedule {
        #[command(flatten)]
        post: PostArgs,
        /// When: unix seconds, RFC 3339 (`2026-05-01T09:00:00+02:00`) or `+90m`/`+2h`/`+3d`.
        #[arg(long)]
        at: String,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// List the Page's scheduled posts, one JSON line each.
    Scheduled {
        /// The Page id.
        #[arg(long)]
        page: String,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Upload a photo from a URL or a local file; prints `{"id", "post_id"}`.
    Photo {
        /// The Page id.
        #[arg(long)]
        page: String,
        /// A public image URL Meta downloads.
        #[arg(long, required_unless_present = "file", conflicts_with = "file")]
        url: Option<String>,
        /// A local image file (JPEG, PNG, GIF, BMP, TIFF, WebP, HEIF).
        #[arg(long)]
        file: Option<PathBuf>,
        /// Caption.
        #[arg(long)]
        caption: Option<String>,
        /// Upload without a story (for attaching to a post later).
        #[arg(long)]
        unpublished: bool,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Upload a video from a URL, or a local file in chunks; prints `{"id"}`.
    Video {
        /// The Page id.
        #[arg(long)]
        page: String,
        /// A public video URL Meta downloads (`file_url`).
        #[arg(long, required_unless_present = "file", conflicts_with = "file")]
        url: Option<String>,
        /// A local video file, sent with the chunked upload.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Title.
        #[arg(long)]
        title: Option<String>,
        /// Description (the post text).
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Delete a post (published or scheduled).
    Delete {
        /// The post id (`<page>_<post>`).
        post_id: String,
        #[command(flatten)]
        conn: ConnArgs,
    },
}

/// What a post says.
#[derive(Debug, Args)]
pub(crate) struct PostArgs {
    /// The Page id.
    #[arg(long)]
    page: String,
    /// The text.
    #[arg(long)]
    message: Option<String>,
    /// A link to share (http or https).
    #[arg(long)]
    link: Option<String>,
}

/// Runs a `meta pages` command.
pub(crate) async fn run(cmd: PagesCommand) -> Result<ExitCode> {
    match cmd {
        PagesCommand::Post { post, conn } => post_cmd(post, None, &conn).await,
        PagesCommand::Schedule { post, at, conn } => {
            let at = parse_time(&at, SystemTime::now())?;
            post_cmd(post, Some(at), &conn).await
        }
        PagesCommand::Scheduled { page, conn } => {
            let client = client_from(&conn)?;
            let mut posts = client.pages().scheduled_posts(&page_id(&page)?);
            let mut out = std::io::stdout().lock();
            while let Some(p) = posts.try_next().await? {
                writeln!(out, "{}", serde_json::to_string(&p)?)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        PagesCommand::Photo {
            page,
            url,
            file,
            caption,
            unpublished,
            conn,
        } => {
            let client = client_from(&conn)?;
            let source = match (url, file) {
                (Some(u), _) => PhotoSource::url(u),
                (None, Some(f)) => PhotoSource::bytes(
                    std::fs::read(&f).with_context(|| format!("reading {}", f.display()))?,
                ),
                (None, None) => bail!("pass --url or --file"),
            };
            let mut b = client.pages().photo(&page_id(&page)?, source);
            if let Some(c) = caption {
                b = b.caption(c);
            }
            if unpublished {
                b = b.published(false);
            }
            let posted = b.send().await.map_err(graph_error)?;
            print_json(&json!({"id": posted.id, "post_id": posted.post_id}))
        }
        PagesCommand::Video {
            page,
            url,
            file,
            title,
            description,
            conn,
        } => {
            let client = client_from(&conn)?;
            let page = page_id(&page)?;
            let id = match (url, file) {
                (Some(u), _) => {
                    let mut b = client.pages().video_from_url(&page, u);
                    if let Some(t) = title {
                        b = b.title(t);
                    }
                    if let Some(d) = description {
                        b = b.description(d);
                    }
                    b.send().await
                }
                (None, Some(f)) => {
                    let data =
                        std::fs::read(&f).with_context(|| format!("reading {}", f.display()))?;
                    let mut b = client.pages().upload_video(&page, data);
                    if let Some(name) = f.file_name().and_then(|n| n.to_str()) {
                        b = b.file_name(name);
                    }
                    if let Some(t) = title {
                        b = b.title(t);
                    }
                    if let Some(d) = description {
                        b = b.description(d);
                    }
                    b.send().await
                }
                (None, None) => bail!("pass --url or --file"),
            }
            .map_err(graph_error)?;
            print_json(&json!({ "id": id }))
        }
        PagesCommand::Delete { post_id, conn } => {
            let client = client_from(&conn)?;
            let id = PostId::parse(&post_id).context("invalid post id")?;
            client.pages().delete(&id).await.map_err(graph_error)?;
            print_json(&json!({"success": true}))
        }
    }
}

async fn post_cmd(args: PostArgs, at: Option<u64>, conn: &ConnArgs) -> Result<ExitCode> {
    let client = client_from(conn)?;
    let mut b = client.pages().post(&page_id(&args.page)?);
    if let Some(m) = args.message {
        b = b.message(m);
    }
    if let Some(l) = args.link {
        b = b.link(l);
    }
    if let Some(t) = at {
        b = b.scheduled_at_unix(t);
    }
    let id = b.send().await.map_err(graph_error)?;
    match at {
        Some(t) => print_json(&json!({"id": id, "scheduled_publish_time": t})),
        None => print_json(&json!({ "id": id })),
    }
}

fn page_id(raw: &str) -> Result<PageId> {
    PageId::parse(raw).context("invalid --page")
}

fn print_json(v: &serde_json::Value) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{v}")?;
    Ok(ExitCode::SUCCESS)
}

/// Unwraps Graph failures to `meta_core::Error` so `main` prints their JSON line.
fn graph_error(e: meta_graph::Error) -> anyhow::Error {
    match e {
        meta_graph::Error::Meta(m) => anyhow::Error::from(m),
        other => anyhow::Error::from(other),
    }
}

/// Unix seconds from unix seconds, RFC 3339, or `+<n>[smhd]` relative to `now`.
fn parse_time(raw: &str, now: SystemTime) -> Result<u64> {
    let s = raw.trim();
    if let Ok(n) = s.parse::<u64>() {
        return Ok(n);
    }
    if let Some(rel) = s.strip_prefix('+') {
        let (num, unit) = rel.split_at(rel.len().saturating_sub(1));
        let n: u64 = num
            .parse()
            .with_context(|| format!("`{raw}`: expected +<number><s|m|h|d>"))?;
        let mult = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => bail!("`{raw}`: unit must be s, m, h or d"),
        };
        let base = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        return Ok(base + n * mult);
    }
    parse_rfc3339(s).with_context(|| {
        format!("`{raw}` is not unix seconds, RFC 3339 (2026-05-01T09:00:00Z) or +2h")
    })
}

fn parse_rfc3339(s: &str) -> Result<u64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        bail!("not RFC 3339");
    }
    let num = |r: std::ops::Range<usize>| -> Result<i64> {
        s.get(r)
            .filter(|p| p.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|p| p.parse().ok())
            .context("not RFC 3339")
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        bail!("date or time out of range");
    }
    // Skip fractional seconds.
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => bail!("missing time zone"),
            };
            let (oh, om) = rest[1..].split_once(':').context("bad time zone")?;
            let (oh, om): (i64, i64) = (oh.parse()?, om.parse()?);
            sign * (oh * 3600 + om * 60)
        }
    };
    // Days from civil (Howard Hinnant's algorithm).
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy.rem_euclid(400);
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let unix = days * 86_400 + h * 3600 + mi * 60 + sec - offset;
    u64::try_from(unix).context("before 1970")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let now = UNIX_EPOCH + std::time::Duration::from_secs(1_000);
        assert_eq!(parse_time("1800000000", now).unwrap(), 1_800_000_000);
        assert_eq!(parse_time("+2h", now).unwrap(), 1_000 + 7_200);
        assert_eq!(parse_time("+90m", now).unwrap(), 1_000 + 5_400);
        assert_eq!(
            parse_time("2026-05-01T09:00:00Z", now).unwrap(),
            1_777_626_000
        );
        assert_eq!(
            parse_time("2026-05-01T11:00:00.250+02:00", now).unwrap(),
            1_777_626_000
        );
        for bad in [
            "tomorrow",
            "+2w",
            "2026-13-01T00:00:00Z",
            "2026-05-01T09:00:00",
        ] {
            assert!(parse_time(bad, now).is_err(), "{bad}");
        }
    }
}
