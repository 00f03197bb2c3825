//! `meta posts`: author one piece of content for several accounts, take it through
//! approval and scheduling, and inspect posts, their audit trail, their publish
//! attempts and the best times to post. Every command acts at the instant it started
//! (a frozen clock), so `--at now` is never "in the past".

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use meta_core::clock::Clock;
use meta_graph::publisher::store::PostFilter;
use meta_graph::publisher::{
    AuditEntry, CarouselMedia, Content, FixedClients, NewPost, PostKind, PostRecord, PostState,
    PublishAttempt, Publisher, Variant,
};
use serde_json::json;

use crate::store_cfg::{
    FrozenClock, GraphArgs, StoreArgs, Stores, base_client, lifecycle, local_time, open_stores,
    parse_time, publisher, require_cipher, rfc3339,
};

/// `meta posts …`.
#[derive(Debug, Args)]
pub(crate) struct PostsArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: PostsCommand,
}

#[derive(Debug, Subcommand)]
enum PostsCommand {
    /// Author one piece of content for one or more accounts (one draft per account).
    Create(CreateArgs),
    /// Change a draft's (or a post with changes requested) text, link, media or time.
    Edit(EditArgs),
    /// The author submits a post for approval (auto-approving accounts approve it).
    Submit(ActorArgs),
    /// An approver approves; a post with a time is scheduled at once.
    Approve(CommentArgs),
    /// An approver refuses a post for good (--comment says why).
    Reject(RequiredCommentArgs),
    /// An approver asks the author for changes (--comment says which).
    RequestChanges(RequiredCommentArgs),
    /// Give an approved (or failed) post its time and schedule it.
    Schedule {
        #[command(flatten)]
        who: ActorArgs,
        /// When: now, +2h, unix seconds or RFC 3339.
        #[arg(long)]
        at: String,
    },
    /// Settle an unconfirmed post after checking the account by hand.
    Resolve {
        #[command(flatten)]
        who: ActorArgs,
        /// It is live (else: it was not published; it becomes failed).
        #[arg(
            long,
            conflicts_with = "not_published",
            required_unless_present = "not_published"
        )]
        published: bool,
        /// It is not live.
        #[arg(long)]
        not_published: bool,
        /// Meta's id of the live post, when known.
        #[arg(long, requires = "published")]
        published_id: Option<String>,
    },
    /// Delete a post that is not publishing or published (its audit trail stays).
    Delete(ActorArgs),
    /// List posts.
    List(ListArgs),
    /// One post with its audit trail.
    Show {
        /// The post id.
        id: String,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// A post's publish attempts (status, Meta code/subcode, fbtrace_id, duration).
    Attempts {
        /// The post id.
        id: String,
        /// One JSON line per attempt.
        #[arg(long)]
        json: bool,
    },
    /// The account's weekly hour slots ranked from its posts' insights and its
    /// audience's online hours, with the evidence.
    BestTimes {
        /// The account id.
        #[arg(long)]
        account: String,
        /// The insight metric to rank by (default per platform).
        #[arg(long)]
        metric: Option<String>,
        /// How many slots to print.
        #[arg(long, default_value_t = 10)]
        top: usize,
        /// One JSON line per slot.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        graph: GraphArgs,
    },
}

/// The post kinds as written on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum KindArg {
    /// A Page feed post with text.
    FbText,
    /// A Page feed post sharing --link.
    FbLink,
    /// One Page photo (--media URL).
    FbPhoto,
    /// One Page post with 2–10 photos (--media URL,URL…).
    FbMultiPhoto,
    /// A Page video (--media URL; --title).
    FbVideo,
    /// An Instagram image (--media JPEG URL).
    IgImage,
    /// An Instagram reel (--media video URL).
    IgReel,
    /// An Instagram story (--media URL; --video for a video).
    IgStory,
    /// An Instagram carousel (--media 2–10 URLs).
    IgCarousel,
}

#[derive(Debug, Args)]
struct ContentArgs {
    /// The text: message on Facebook, caption on Instagram, description of a video.
    #[arg(long)]
    text: Option<String>,
    /// The link (fb-link).
    #[arg(long)]
    link: Option<String>,
    /// Media URLs (repeat the flag or separate with commas).
    #[arg(long, value_delimiter = ',')]
    media: Vec<String>,
    /// A video's title (fb-video).
    #[arg(long)]
    title: Option<String>,
    /// Also show a reel in the feed (ig-reel).
    #[arg(long)]
    share_to_feed: bool,
    /// The story (or carousel item) is a video even if its URL does not say so.
    #[arg(long)]
    video: bool,
}

#[derive(Debug, Args)]
struct CreateArgs {
    /// The accounts (comma-separated): one variant per account.
    #[arg(long, value_delimiter = ',', required = true)]
    account: Vec<String>,
    /// The kind: one for every account, or one per account in the same order.
    #[arg(long, value_enum, value_delimiter = ',', required = true)]
    kind: Vec<KindArg>,
    #[command(flatten)]
    content: ContentArgs,
    /// Who writes it.
    #[arg(long, env = "META_ACTOR")]
    author: String,
    /// When it should go out once approved: now, +2h, unix seconds or RFC 3339.
    #[arg(long)]
    at: Option<String>,
    /// Print the created posts as JSON lines.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct EditArgs {
    #[command(flatten)]
    who: ActorArgs,
    #[command(flatten)]
    content: ContentArgs,
    /// A new time: now, +2h, unix seconds or RFC 3339.
    #[arg(long)]
    at: Option<String>,
}

#[derive(Debug, Args)]
struct ActorArgs {
    /// The post id.
    id: String,
    /// Who does it (kept in the audit trail).
    #[arg(long, env = "META_ACTOR")]
    actor: String,
}

#[derive(Debug, Args)]
struct CommentArgs {
    #[command(flatten)]
    who: ActorArgs,
    /// A comment for the audit trail.
    #[arg(long)]
    comment: Option<String>,
}

#[derive(Debug, Args)]
struct RequiredCommentArgs {
    #[command(flatten)]
    who: ActorArgs,
    /// Why (required).
    #[arg(long)]
    comment: String,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Only these states (comma-separated: draft, pending_approval, approved,
    /// scheduled, publishing, published, failed, unconfirmed, …).
    #[arg(long, value_delimiter = ',')]
    state: Vec<String>,
    /// Only this account's.
    #[arg(long)]
    account: Option<String>,
    /// Only this tenant's.
    #[arg(long)]
    tenant: Option<String>,
    /// Only the variants of this content.
    #[arg(long)]
    content: Option<String>,
    /// At most this many.
    #[arg(long)]
    limit: Option<u32>,
    /// One JSON line per post.
    #[arg(long)]
    json: bool,
}

/// Runs `meta posts …`.
pub(crate) async fn run(args: PostsArgs) -> Result<ExitCode> {
    let stores = open_stores(&args.store).await?;
    let clock: Arc<dyn Clock> = Arc::new(FrozenClock::now());
    let p = publisher(&stores, clock.clone(), Arc::new(FixedClients::new()));
    match args.command {
        PostsCommand::Create(c) => create(&p, &stores, clock.as_ref(), c).await,
        PostsCommand::Edit(e) => edit(&p, clock.as_ref(), e).await,
        PostsCommand::Submit(a) => {
            let post = p.submit(&a.actor, &a.id).await?;
            print_moved(&post);
            Ok(ExitCode::SUCCESS)
        }
        PostsCommand::Approve(c) => {
            let post = p
                .approve(&c.who.actor, &c.who.id, c.comment.as_deref())
                .await?;
            print_moved(&post);
            Ok(ExitCode::SUCCESS)
        }
        PostsCommand::Reject(c) => {
            let post = p.reject(&c.who.actor, &c.who.id, &c.comment).await?;
            print_moved(&post);
            Ok(ExitCode::SUCCESS)
        }
        PostsCommand::RequestChanges(c) => {
            let post = p
                .request_changes(&c.who.actor, &c.who.id, &c.comment)
                .await?;
            print_moved(&post);
            Ok(ExitCode::SUCCESS)
        }
        PostsCommand::Schedule { who, at } => {
            let at = parse_time(&at, clock.now())?;
            let post = p.schedule(&who.actor, &who.id, at).await?;
            print_moved(&post);
            Ok(ExitCode::SUCCESS)
        }
        PostsCommand::Resolve {
            who,
            published,
            not_published: _,
            published_id,
        } => {
            let post = p
                .resolve(&who.actor, &who.id, published, published_id)
                .await?;
            print_moved(&post);
            Ok(ExitCode::SUCCESS)
        }
        PostsCommand::Delete(a) => {
            p.delete(&a.actor, &a.id).await?;
            println!("{} deleted (its audit trail stays)", a.id);
            Ok(ExitCode::SUCCESS)
        }
        PostsCommand::List(l) => list(&p, l).await,
        PostsCommand::Show { id, json } => show(&p, &stores, &id, json).await,
        PostsCommand::Attempts { id, json } => attempts(&p, &id, json).await,
        PostsCommand::BestTimes {
            account,
            metric,
            top,
            json,
            graph,
        } => best_times(&stores, &account, metric.as_deref(), top, json, &graph).await,
    }
}

fn print_moved(post: &PostRecord) {
    let when = post
        .scheduled_at
        .map(|ms| format!(" for {}", rfc3339(ms)))
        .unwrap_or_default();
    let when = if post.state == PostState::Scheduled {
        when
    } else {
        String::new()
    };
    println!("{} {}{when}", post.id, post.state);
}

fn looks_like_video(url: &str) -> bool {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    [".mp4", ".mov", ".m4v", ".webm"]
        .iter()
        .any(|e| path.ends_with(e))
}

fn one_media(kind: &str, media: &[String]) -> Result<String> {
    match media {
        [url] => Ok(url.clone()),
        [] => bail!("{kind} needs --media URL"),
        _ => bail!("{kind} takes one --media URL, got {}", media.len()),
    }
}

/// Builds the content of `kind` from the shared flags.
pub(crate) fn build_content(kind: KindArg, c: &ContentArgsView<'_>) -> Result<Content> {
    let text = c.text.map(str::to_owned);
    Ok(match kind {
        KindArg::FbText => Content::FbText {
            message: text.context("fb-text needs --text")?,
        },
        KindArg::FbLink => Content::FbLink {
            link: c.link.context("fb-link needs --link")?.to_owned(),
            message: text,
        },
        KindArg::FbPhoto => Content::FbPhoto {
            url: one_media("fb-photo", c.media)?,
            message: text,
        },
        KindArg::FbMultiPhoto => Content::FbMultiPhoto {
            urls: c.media.to_vec(),
            message: text,
        },
        KindArg::FbVideo => Content::FbVideo {
            url: one_media("fb-video", c.media)?,
            title: c.title.map(str::to_owned),
            description: text,
        },
        KindArg::IgImage => Content::IgImage {
            url: one_media("ig-image", c.media)?,
            caption: text,
        },
        KindArg::IgReel => Content::IgReel {
            url: one_media("ig-reel", c.media)?,
            caption: text,
            share_to_feed: c.share_to_feed,
        },
        KindArg::IgStory => {
            let url = one_media("ig-story", c.media)?;
            Content::IgStory {
                video: c.video || looks_like_video(&url),
                url,
            }
        }
        KindArg::IgCarousel => Content::IgCarousel {
            items: c
                .media
                .iter()
                .map(|u| CarouselMedia {
                    url: u.clone(),
                    video: looks_like_video(u),
                })
                .collect(),
            caption: text,
        },
    })
}

/// The content flags, borrowed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ContentArgsView<'a> {
    pub(crate) text: Option<&'a str>,
    pub(crate) link: Option<&'a str>,
    pub(crate) media: &'a [String],
    pub(crate) title: Option<&'a str>,
    pub(crate) share_to_feed: bool,
    pub(crate) video: bool,
}

impl<'a> From<&'a ContentArgs> for ContentArgsView<'a> {
    fn from(c: &'a ContentArgs) -> Self {
        ContentArgsView {
            text: c.text.as_deref(),
            link: c.link.as_deref(),
            media: &c.media,
            title: c.title.as_deref(),
            share_to_feed: c.share_to_feed,
            video: c.video,
        }
    }
}

fn kind_arg(kind: PostKind) -> KindArg {
    match kind {
        PostKind::FbText => KindArg::FbText,
        PostKind::FbLink => KindArg::FbLink,
        PostKind::FbPhoto => KindArg::FbPhoto,
        PostKind::FbMultiPhoto => KindArg::FbMultiPhoto,
        PostKind::FbVideo => KindArg::FbVideo,
        PostKind::IgImage => KindArg::IgImage,
        PostKind::IgReel => KindArg::IgReel,
        PostKind::IgStory => KindArg::IgStory,
        PostKind::IgCarousel => KindArg::IgCarousel,
    }
}

async fn create(
    p: &Publisher,
    stores: &Stores,
    clock: &dyn Clock,
    c: CreateArgs,
) -> Result<ExitCode> {
    let kinds: Vec<KindArg> = match c.kind.as_slice() {
        [one] => vec![*one; c.account.len()],
        many if many.len() == c.account.len() => many.to_vec(),
        many => bail!(
            "give one --kind for every account, or one per account ({} accounts, {} kinds)",
            c.account.len(),
            many.len()
        ),
    };
    let view = ContentArgsView::from(&c.content);
    let mut variants = Vec::with_capacity(c.account.len());
    for (account, kind) in c.account.iter().zip(kinds) {
        // Name the account before the publisher does, so the error says which.
        if stores.accounts.get_account(account).await?.is_none() {
            bail!("unknown account {account}: `meta accounts list` shows the connected ones");
        }
        variants.push(Variant {
            account_id: account.clone(),
            content: build_content(kind, &view).with_context(|| format!("account {account}"))?,
        });
    }
    let scheduled_at =
        c.at.as_deref()
            .map(|a| parse_time(a, clock.now()))
            .transpose()?;
    let posts = p
        .create(NewPost {
            content_id: None,
            author: c.author,
            scheduled_at,
            variants,
        })
        .await?;
    for post in &posts {
        if c.json {
            println!("{}", serde_json::to_string(post)?);
        } else {
            println!(
                "{} draft {} for {} (content {})",
                post.id, post.kind, post.account_id, post.content_id
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn edit(p: &Publisher, clock: &dyn Clock, e: EditArgs) -> Result<ExitCode> {
    let post = p.post(&e.who.id).await?;
    let view = ContentArgsView::from(&e.content);
    let changes_content = view.text.is_some()
        || view.link.is_some()
        || !view.media.is_empty()
        || view.title.is_some();
    let content = if changes_content {
        // Unchanged fields keep their stored values.
        let old = Content::from_payload(&post.payload)?;
        let (text, link, media, title) = old_fields(&old);
        let merged = ContentArgsView {
            text: view.text.or(text.as_deref()),
            link: view.link.or(link.as_deref()),
            media: if view.media.is_empty() {
                &media
            } else {
                view.media
            },
            title: view.title.or(title.as_deref()),
            share_to_feed: view.share_to_feed
                || matches!(
                    old,
                    Content::IgReel {
                        share_to_feed: true,
                        ..
                    }
                ),
            video: view.video || matches!(old, Content::IgStory { video: true, .. }),
        };
        Some(build_content(kind_arg(post.kind), &merged)?)
    } else {
        None
    };
    let at =
        e.at.as_deref()
            .map(|a| parse_time(a, clock.now()))
            .transpose()?;
    if content.is_none() && at.is_none() {
        bail!("nothing to change: give --text, --link, --media, --title or --at");
    }
    let post = p.edit(&e.who.actor, &e.who.id, content, at).await?;
    print_moved(&post);
    Ok(ExitCode::SUCCESS)
}

type Fields = (Option<String>, Option<String>, Vec<String>, Option<String>);

fn old_fields(c: &Content) -> Fields {
    match c {
        Content::FbText { message } => (Some(message.clone()), None, vec![], None),
        Content::FbLink { link, message } => (message.clone(), Some(link.clone()), vec![], None),
        Content::FbPhoto { url, message } => (message.clone(), None, vec![url.clone()], None),
        Content::FbMultiPhoto { urls, message } => (message.clone(), None, urls.clone(), None),
        Content::FbVideo {
            url,
            title,
            description,
        } => (description.clone(), None, vec![url.clone()], title.clone()),
        Content::IgImage { url, caption } | Content::IgReel { url, caption, .. } => {
            (caption.clone(), None, vec![url.clone()], None)
        }
        Content::IgStory { url, .. } => (None, None, vec![url.clone()], None),
        Content::IgCarousel { items, caption } => (
            caption.clone(),
            None,
            items.iter().map(|i| i.url.clone()).collect(),
            None,
        ),
        _ => (None, None, vec![], None),
    }
}

fn note(post: &PostRecord) -> String {
    let mut s = match post.state {
        PostState::Published => post
            .published_id
            .as_deref()
            .map_or_else(|| "published".to_owned(), |id| format!("live as {id}")),
        PostState::Failed | PostState::Unconfirmed => post.last_error.clone().unwrap_or_default(),
        _ => match (&post.blocked_reason, &post.last_error) {
            (Some(b), _) => format!("held: {b}"),
            (None, Some(e)) => format!("last error: {e}"),
            _ => String::new(),
        },
    };
    if s.chars().count() > 70 {
        s = s.chars().take(69).collect::<String>() + "…";
    }
    s
}

async fn list(p: &Publisher, l: ListArgs) -> Result<ExitCode> {
    let states = l
        .state
        .iter()
        .map(|s| PostState::parse(&s.trim().replace('-', "_")))
        .collect::<Result<Vec<_>, _>>()
        .context("--state")?;
    let posts = p
        .list(&PostFilter {
            tenant_id: l.tenant,
            account_id: l.account,
            states,
            content_id: l.content,
            limit: l.limit,
        })
        .await?;
    if l.json {
        for post in &posts {
            println!("{}", serde_json::to_string(post)?);
        }
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<36} {:<36} {:<14} {:<16} {:<20} {:>3} NOTE",
        "ID", "ACCOUNT", "KIND", "STATE", "DUE (UTC)", "TRY"
    );
    for post in &posts {
        let due = post.due_at();
        let due = if due == i64::MIN {
            "-".to_owned()
        } else {
            rfc3339(due)
        };
        println!(
            "{:<36} {:<36} {:<14} {:<16} {:<20} {:>3} {}",
            post.id,
            post.account_id,
            post.kind.as_str(),
            post.state.as_str(),
            due,
            post.attempts,
            note(post)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn audit_line(e: &AuditEntry) -> String {
    format!(
        "  {}  {:<18} {:>16} → {:<16} {}",
        rfc3339(e.at),
        e.actor,
        e.from.map_or("-", |s| s.as_str()),
        e.to.as_str(),
        e.reason.as_deref().unwrap_or("")
    )
}

async fn show(p: &Publisher, stores: &Stores, id: &str, json: bool) -> Result<ExitCode> {
    let post = p.post(id).await?;
    let trail = p.audit_trail(id).await?;
    if json {
        println!("{}", json!({"post": post, "audit": trail}));
        return Ok(ExitCode::SUCCESS);
    }
    let tz = stores
        .accounts
        .get_account(&post.account_id)
        .await?
        .map_or_else(|| "UTC".to_owned(), |a| a.timezone);
    let opt_time = |ms: Option<i64>| ms.map_or("-".to_owned(), |ms| local_time(ms, &tz));
    println!("post       {}", post.id);
    println!("content    {}", post.content_id);
    println!("account    {} (tenant {})", post.account_id, post.tenant_id);
    println!("kind       {}", post.kind);
    println!("state      {} (version {})", post.state, post.version);
    println!("author     {}", post.author);
    println!("approver   {}", post.approver.as_deref().unwrap_or("-"));
    println!("scheduled  {}", opt_time(post.scheduled_at));
    if post.not_before.is_some() || post.blocked_reason.is_some() {
        println!(
            "held until {} ({})",
            opt_time(post.not_before),
            post.blocked_reason.as_deref().unwrap_or("-")
        );
    }
    println!("attempts   {}", post.attempts);
    if let Some(c) = &post.container_id {
        println!("media      {c}");
    }
    if post.armed_at.is_some() {
        println!("armed      {}", opt_time(post.armed_at));
    }
    if let Some(pid) = &post.published_id {
        println!("live as    {pid} at {}", opt_time(post.published_at));
    }
    if let Some(e) = &post.last_error {
        println!("last error {e}");
    }
    println!("payload    {}", post.payload);
    println!("audit trail ({} entries):", trail.len());
    for e in &trail {
        println!("{}", audit_line(e));
    }
    Ok(ExitCode::SUCCESS)
}

fn attempt_line(a: &PublishAttempt) -> String {
    let code = match (a.code, a.subcode) {
        (Some(c), Some(s)) => format!("{c}/{s}"),
        (Some(c), None) => c.to_string(),
        _ => "-".to_owned(),
    };
    format!(
        "{}  {:<11} {:>8} {:>6}ms  {:<28} {}",
        rfc3339(a.started_at),
        a.outcome.as_str(),
        code,
        a.duration_ms,
        a.fbtrace_id.as_deref().unwrap_or("-"),
        a.message.as_deref().unwrap_or("")
    )
}

async fn attempts(p: &Publisher, id: &str, json: bool) -> Result<ExitCode> {
    // An unknown post is an error, not an empty list.
    p.post(id).await?;
    let attempts = p.attempts(id).await?;
    if json {
        for a in &attempts {
            println!("{}", serde_json::to_string(a)?);
        }
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<20}  {:<11} {:>8} {:>8}  {:<28} MESSAGE",
        "STARTED (UTC)", "OUTCOME", "CODE", "TOOK", "FBTRACE_ID"
    );
    for a in &attempts {
        println!("{}", attempt_line(a));
    }
    if attempts.is_empty() {
        eprintln!("no publish attempts yet");
    }
    Ok(ExitCode::SUCCESS)
}

async fn best_times(
    stores: &Stores,
    account: &str,
    metric: Option<&str>,
    top: usize,
    json: bool,
    graph: &GraphArgs,
) -> Result<ExitCode> {
    let clock = crate::store_cfg::system_clock();
    let manager = lifecycle(
        stores,
        require_cipher()?,
        graph,
        base_client(graph, clock.clone())?,
    )?;
    let p = publisher(stores, clock, Arc::new(manager));
    let slots = p.best_times(account, metric).await?;
    if json {
        for s in slots.iter().take(top) {
            println!("{}", serde_json::to_string(s)?);
        }
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<4} {:<4} {:>5} {:>6} {:>12} {:>9}",
        "DAY", "HOUR", "SCORE", "POSTS", "MEAN METRIC", "AUDIENCE"
    );
    for s in slots.iter().take(top) {
        println!(
            "{:<4} {:>02}h  {:>5.2} {:>6} {:>12} {:>9}",
            s.weekday.to_string(),
            s.hour,
            s.score,
            s.posts,
            s.mean_metric.map_or("-".to_owned(), |m| format!("{m:.1}")),
            s.audience_online
                .map_or("-".to_owned(), |m| format!("{m:.1}"))
        );
    }
    Ok(ExitCode::SUCCESS)
}
