//! Live videos: list a Page's broadcasts, read or end one, and follow the comments of a
//! broadcast while it is live with [`LiveCommentStream`] — for when webhooks are not
//! available (no public HTTPS endpoint, a CLI, a local tool).
//!
//! The stream polls `GET /{live_video_id}/comments?order=reverse_chronological`, reading
//! pages newest first until it meets a comment it has already seen, and yields the new
//! ones **oldest first**. Ids already yielded are remembered in a bounded ring
//! ([`LiveCommentStreamBuilder::dedup_capacity`]), so memory stays flat however long the
//! broadcast. Between polls it sleeps on the client's injected
//! [`Clock`](meta_core::clock::Clock). Before reading comments it reads the broadcast's
//! `status`; once that says the broadcast is over it yields the last comments and ends.
//! Dropping the stream stops it: there is no background task.
//!
//! ```no_run
//! # async fn run(client: meta_core::Client) -> meta_graph::Result<()> {
//! use std::time::Duration;
//! use futures_util::TryStreamExt;
//! use meta_graph::GraphExt;
//!
//! let mut comments = client
//!     .live_videos()
//!     .comment_stream("10159659015335730")
//!     .interval(Duration::from_secs(2))
//!     .start()?;
//! while let Some(c) = comments.try_next().await? {
//!     println!("{}: {}", c.id.unwrap_or_default(), c.message.unwrap_or_default());
//! }
//! # Ok(()) }
//! ```

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use meta_core::{Client, GraphRequest, Paginator};

use crate::comments::check_id;
use crate::error::{InvalidInput, Result};
use crate::generated::{Comment, CommentLiveFilter, LiveVideo, LiveVideoStatus};

/// Fields asked for when listing or reading live videos.
pub const DEFAULT_LIVE_VIDEO_FIELDS: &[&str] = &[
    "id",
    "title",
    "description",
    "status",
    "creation_time",
    "broadcast_start_time",
    "permalink_url",
];
/// Fields the comment stream reads.
pub const LIVE_COMMENT_FIELDS: &[&str] = &[
    "id",
    "message",
    "created_time",
    "from",
    "live_broadcast_timestamp",
];

/// Whether a broadcast with this status is over (comments will not keep coming):
/// everything but `LIVE` and the not-yet-started states (`SCHEDULED_LIVE`,
/// `SCHEDULED_UNPUBLISHED`, `UNPUBLISHED`). An unknown status counts as over, so a
/// stream never polls forever on a value this crate does not know.
#[must_use]
pub fn is_over(status: &LiveVideoStatus) -> bool {
    !matches!(
        status,
        LiveVideoStatus::Live
            | LiveVideoStatus::ScheduledLive
            | LiveVideoStatus::ScheduledUnpublished
            | LiveVideoStatus::Unpublished
    )
}

#[derive(serde::Deserialize)]
struct IdOnly {
    #[allow(dead_code)]
    id: String,
}

/// Live videos; get one with [`crate::GraphExt::live_videos`].
#[derive(Debug, Clone)]
pub struct LiveVideos {
    client: Client,
}

impl LiveVideos {
    pub(crate) fn new(client: Client) -> Self {
        LiveVideos { client }
    }

    /// Lists a Page's live videos, newest first: `GET /{page_id}/live_videos`.
    pub fn list(&self, page_id: impl Into<String>) -> ListLiveVideos {
        ListLiveVideos {
            client: self.client.clone(),
            page_id: page_id.into(),
            statuses: Vec::new(),
            limit: None,
            fields: Vec::new(),
        }
    }

    /// Reads one live video with [`DEFAULT_LIVE_VIDEO_FIELDS`].
    ///
    /// # Errors
    /// [`Error::Invalid`] for a malformed id (before any call); [`Error::Meta`] when the
    /// call fails.
    pub async fn get(&self, live_video_id: &str) -> Result<LiveVideo> {
        check_id("live_video_id", live_video_id)?;
        let req = GraphRequest::get(live_video_id).fields(DEFAULT_LIVE_VIDEO_FIELDS);
        Ok(self.client.execute::<LiveVideo>(req).await?.into_data())
    }

    /// Ends a broadcast: `POST /{live_video_id}?end_live_video=true` (LiveVideo spec).
    ///
    /// # Errors
    /// As [`LiveVideos::get`].
    pub async fn end(&self, live_video_id: &str) -> Result<()> {
        check_id("live_video_id", live_video_id)?;
        let req = GraphRequest::post(live_video_id).param("end_live_video", true);
        self.client.execute::<IdOnly>(req).await?;
        Ok(())
    }

    /// A stream of the comments on a live video as they arrive; see the module docs.
    pub fn comment_stream(&self, live_video_id: impl Into<String>) -> LiveCommentStreamBuilder {
        LiveCommentStreamBuilder {
            client: self.client.clone(),
            live_video_id: live_video_id.into(),
            interval: Duration::from_secs(3),
            page_size: 100,
            dedup_capacity: 10_000,
            backfill: true,
            live_filter: None,
            max_pages_per_poll: 50,
        }
    }
}

/// `GET /{page}/live_videos` with its options; see [`LiveVideos::list`].
#[derive(Debug, Clone)]
#[must_use = "call .paginate() to list the live videos"]
pub struct ListLiveVideos {
    client: Client,
    page_id: String,
    statuses: Vec<LiveVideoStatus>,
    limit: Option<u32>,
    fields: Vec<String>,
}

impl ListLiveVideos {
    /// Only broadcasts with one of these statuses (`broadcast_status`).
    pub fn broadcast_status(mut self, statuses: impl IntoIterator<Item = LiveVideoStatus>) -> Self {
        self.statuses = statuses.into_iter().collect();
        self
    }
    /// Page size (at least 1).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }
    /// Fields to read instead of [`DEFAULT_LIVE_VIDEO_FIELDS`].
    pub fn fields<I, F>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = F>,
        F: AsRef<str>,
    {
        self.fields = fields.into_iter().map(|f| f.as_ref().to_owned()).collect();
        self
    }

    /// The first request.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a malformed Page id or a zero limit.
    pub fn request(&self) -> Result<GraphRequest> {
        check_id("page_id", &self.page_id)?;
        let mut req = GraphRequest::get(format!("{}/live_videos", self.page_id));
        req = if self.fields.is_empty() {
            req.fields(DEFAULT_LIVE_VIDEO_FIELDS)
        } else {
            req.fields(&self.fields)
        };
        if !self.statuses.is_empty() {
            // A list parameter: JSON-encoded, as Meta's SDKs send lists.
            let list: Vec<&str> = self.statuses.iter().map(LiveVideoStatus::as_str).collect();
            req = req.param("broadcast_status", list);
        }
        if let Some(limit) = self.limit {
            if limit == 0 {
                return Err(InvalidInput::new("limit", "must be at least 1").into());
            }
            req = req.param("limit", limit);
        }
        Ok(req)
    }

    /// A lazy stream of every live video.
    ///
    /// # Errors
    /// [`Error::Invalid`] before any call; fetch errors come out of the stream.
    pub fn paginate(self) -> Result<Paginator<LiveVideo>> {
        let req = self.request()?;
        Ok(self.client.paginate_request(req))
    }
}

/// Options of a [`LiveCommentStream`]; see [`LiveVideos::comment_stream`].
#[derive(Debug, Clone)]
#[must_use = "call .start() to follow the comments"]
pub struct LiveCommentStreamBuilder {
    client: Client,
    live_video_id: String,
    interval: Duration,
    page_size: u32,
    dedup_capacity: usize,
    backfill: bool,
    live_filter: Option<CommentLiveFilter>,
    max_pages_per_poll: u32,
}

impl LiveCommentStreamBuilder {
    /// Time between polls, on the client's clock. Default 3 s. Meta's Graph budget is
    /// per app and Page (facts guide §1): a few seconds is plenty for a chat-speed feed.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }
    /// Comments per page read. Default 100.
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size;
        self
    }
    /// How many recent ids are remembered to drop repeats. Default 10 000. It must
    /// exceed the comments arriving between two polls.
    pub fn dedup_capacity(mut self, capacity: usize) -> Self {
        self.dedup_capacity = capacity;
        self
    }
    /// Whether the comments already there when the stream starts are yielded (default
    /// true) or skipped.
    pub fn backfill(mut self, backfill: bool) -> Self {
        self.backfill = backfill;
        self
    }
    /// `live_filter`; Graph's default is `filter_low_quality`.
    pub fn live_filter(mut self, filter: CommentLiveFilter) -> Self {
        self.live_filter = Some(filter);
        self
    }
    /// At most this many pages are read per poll (default 50), bounding one poll's
    /// work after a long pause; older unseen comments are then skipped.
    pub fn max_pages_per_poll(mut self, pages: u32) -> Self {
        self.max_pages_per_poll = pages;
        self
    }

    /// Starts following. Nothing is fetched until the stream is polled.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a malformed id, a zero interval, page size, capacity or
    /// page budget (before any call).
    pub fn start(self) -> Result<LiveCommentStream> {
        check_id("live_video_id", &self.live_video_id)?;
        if self.interval.is_zero() {
            return Err(InvalidInput::new("interval", "must be greater than zero").into());
        }
        if self.page_size == 0 {
            return Err(InvalidInput::new("page_size", "must be at least 1").into());
        }
        if self.dedup_capacity == 0 {
            return Err(InvalidInput::new("dedup_capacity", "must be at least 1").into());
        }
        if self.max_pages_per_poll == 0 {
            return Err(InvalidInput::new("max_pages_per_poll", "must be at least 1").into());
        }
        let state = Follow {
            seen: RecentIds::new(self.dedup_capacity),
            opts: self,
            polls: 0,
        };
        let batches = stream::unfold(Some(state), |state| async move {
            let mut st = state?;
            loop {
                if st.polls > 0 {
                    let clock = st.opts.client.clock().clone();
                    clock.sleep(st.opts.interval).await;
                }
                st.polls += 1;
                match st.poll().await {
                    Ok((batch, true)) => return Some((Ok(batch), None)),
                    Ok((batch, false)) if batch.is_empty() => {}
                    Ok((batch, false)) => return Some((Ok(batch), Some(st))),
                    Err(e) => {
                        // Transient failures were already retried by meta-core; one that
                        // is still retryable (a throttle, a blip) is reported and the
                        // stream keeps going; anything else ends it.
                        let keep = e.meta().is_some_and(meta_core::Error::is_retryable);
                        return Some((Err(e), keep.then_some(st)));
                    }
                }
            }
        });
        let items = batches
            .map(|batch| match batch {
                Ok(v) => stream::iter(v.into_iter().map(Ok)).left_stream(),
                Err(e) => stream::iter(vec![Err(e)]).right_stream(),
            })
            .flatten();
        Ok(LiveCommentStream {
            inner: items.boxed(),
        })
    }
}

/// The comments of one live video as they arrive, oldest first; see the module docs.
/// Implements `Stream<Item = meta_graph::Result<Comment>>`.
pub struct LiveCommentStream {
    inner: BoxStream<'static, Result<Comment>>,
}

impl fmt::Debug for LiveCommentStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveCommentStream").finish_non_exhaustive()
    }
}

impl Stream for LiveCommentStream {
    type Item = Result<Comment>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

/// The stream's state between polls.
struct Follow {
    opts: LiveCommentStreamBuilder,
    seen: RecentIds,
    polls: u64,
}

impl Follow {
    /// One poll: the status, then the new comments (oldest first), and whether the
    /// broadcast is over.
    async fn poll(&mut self) -> Result<(Vec<Comment>, bool)> {
        let o = &self.opts;
        let live: LiveVideo = o
            .client
            .get(&o.live_video_id, [("fields", "id,status")])
            .await?;
        // Read the status before the comments: a comment written before the broadcast
        // ended is then always in this last read.
        let over = live.status.as_ref().is_some_and(is_over);
        let mut req = GraphRequest::get(format!("{}/comments", o.live_video_id))
            .fields(LIVE_COMMENT_FIELDS)
            .param("order", "reverse_chronological")
            .param("limit", o.page_size);
        if let Some(f) = &o.live_filter {
            req = req.param("live_filter", f.as_str());
        }
        let first = self.polls == 1;
        // Without backfill, the first poll only learns where "now" is.
        let page_budget = if first && !o.backfill {
            1
        } else {
            o.max_pages_per_poll
        };
        let mut pages = o.client.paginate_request::<Comment>(req).pages();
        let mut fresh: Vec<Comment> = Vec::new();
        let mut read = 0;
        while read < page_budget {
            let Some(page) = pages.try_next().await? else {
                break;
            };
            read += 1;
            let mut met_seen = false;
            for c in page.page.data {
                match c.id.as_deref() {
                    Some(id) if self.seen.contains(id) => met_seen = true,
                    Some(_) => fresh.push(c),
                    None => {}
                }
            }
            // Newest first: past a comment we know, the rest is known too. The rest of
            // this page was still scanned for comments that share a timestamp.
            if met_seen {
                break;
            }
        }
        fresh.reverse();
        let mut out = Vec::with_capacity(fresh.len());
        for c in fresh {
            if let Some(id) = c.id.as_deref()
                && self.seen.insert(id)
            {
                out.push(c);
            }
        }
        if first && !o.backfill {
            out.clear();
        }
        Ok((out, over))
    }
}

/// A bounded set of recently seen ids: the oldest is forgotten when full.
#[derive(Debug)]
pub(crate) struct RecentIds {
    order: VecDeque<String>,
    set: HashSet<String>,
    capacity: usize,
}

impl RecentIds {
    pub(crate) fn new(capacity: usize) -> Self {
        RecentIds {
            order: VecDeque::with_capacity(capacity.min(1024)),
            set: HashSet::with_capacity(capacity.min(1024)),
            capacity: capacity.max(1),
        }
    }
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.set.contains(id)
    }
    /// Adds `id`; false when it was already there.
    pub(crate) fn insert(&mut self, id: &str) -> bool {
        if self.set.contains(id) {
            return false;
        }
        if self.order.len() == self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        self.order.push_back(id.to_owned());
        self.set.insert(id.to_owned());
        true
    }
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_ids_are_bounded_and_forget_the_oldest() {
        let mut r = RecentIds::new(3);
        assert!(r.insert("a"));
        assert!(!r.insert("a"));
        r.insert("b");
        r.insert("c");
        r.insert("d");
        assert_eq!(r.len(), 3);
        assert!(!r.contains("a"));
        assert!(r.contains("b") && r.contains("d"));
    }

    #[test]
    fn statuses_that_end_a_stream() {
        assert!(!is_over(&LiveVideoStatus::Live));
        assert!(!is_over(&LiveVideoStatus::ScheduledLive));
        assert!(is_over(&LiveVideoStatus::Vod));
        assert!(is_over(&LiveVideoStatus::LiveStopped));
        assert!(is_over(&LiveVideoStatus::Unknown("NEW_THING".into())));
    }

    #[test]
    fn bad_options_are_refused_before_any_call() {
        let client = Client::builder()
            .base_url("http://127.0.0.1:9")
            .build()
            .unwrap();
        let live = LiveVideos::new(client);
        assert!(live.comment_stream("1/2").start().is_err());
        assert!(
            live.comment_stream("12")
                .interval(Duration::ZERO)
                .start()
                .is_err()
        );
        assert!(live.comment_stream("12").dedup_capacity(0).start().is_err());
        let req = live
            .list("99")
            .broadcast_status([LiveVideoStatus::Live, LiveVideoStatus::Vod])
            .request()
            .unwrap();
        assert_eq!(
            req.get_params().get("broadcast_status").unwrap(),
            &serde_json::json!(["LIVE", "VOD"])
        );
    }
}
