//! Cursor pagination: [`Page<T>`] and the [`Paginator`] stream.
//!
//! Graph list edges answer `{"data":[…],"paging":{"cursors":{"before","after"},"next"}}`.
//! `cursors.after` is present even on the last page, so the only end signal is a
//! missing `next`. The paginator rebuilds each next request from the original path,
//! parameters and the `after` cursor instead of following the `next` URL blindly (the
//! URL carries the token and could point anywhere); only when an edge pages without
//! cursors does it follow `next`, and then only on the client's own host.
//!
//! It fetches nothing until polled, one page at a time, and stops when a cursor
//! repeats — Meta has been seen returning the same `after` forever.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_util::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::client::Client;
use crate::error::Result;
use crate::request::{GraphRequest, Params};
use crate::usage::Usage;

/// One page of a list edge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct Page<T> {
    /// The items.
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    /// Paging links and cursors, absent on single-page edges.
    #[serde(default)]
    pub paging: Option<Paging>,
    /// `summary` when requested with `summary=true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<serde_json::Value>,
}

/// The `paging` object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paging {
    /// Opaque cursors.
    #[serde(default)]
    pub cursors: Option<Cursors>,
    /// URL of the next page; **absent on the last page**.
    #[serde(default)]
    pub next: Option<String>,
    /// URL of the previous page.
    #[serde(default)]
    pub previous: Option<String>,
}

/// `paging.cursors`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursors {
    /// Cursor of the first item on this page.
    #[serde(default)]
    pub before: Option<String>,
    /// Cursor of the last item on this page.
    #[serde(default)]
    pub after: Option<String>,
}

impl<T> Page<T> {
    /// The cursor to resume after this page, only when there is a next page.
    #[must_use]
    pub fn next_cursor(&self) -> Option<&str> {
        let p = self.paging.as_ref()?;
        p.next.as_ref()?;
        p.cursors.as_ref()?.after.as_deref()
    }
    /// True when Meta says there is another page.
    #[must_use]
    pub fn has_next(&self) -> bool {
        self.paging.as_ref().is_some_and(|p| p.next.is_some())
    }
}

impl<T> IntoIterator for Page<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.data.into_iter()
    }
}

/// A fetched page with the usage headers of its response.
#[derive(Debug, Clone)]
pub struct FetchedPage<T> {
    /// The page.
    pub page: Page<T>,
    /// Usage headers seen on the response.
    pub usage: Usage,
}

/// Where the next fetch goes.
#[derive(Debug, Clone)]
enum Next {
    /// First request, optionally resuming after a saved cursor.
    Start(Option<String>),
    /// The original request with `after=<cursor>`.
    After(String),
    /// A `next` URL on our own host (edges without cursors).
    Url(String),
    Done,
}

struct State {
    client: Client,
    request: GraphRequest,
    next: Next,
    seen: HashSet<String>,
    last_cursor: Arc<Mutex<Option<String>>>,
    pages: u64,
}

impl State {
    async fn fetch<T: DeserializeOwned>(&mut self) -> Option<Result<FetchedPage<T>>> {
        let req = match std::mem::replace(&mut self.next, Next::Done) {
            Next::Done => return None,
            Next::Start(cursor) => {
                let mut r = self.request.clone();
                if let Some(c) = cursor {
                    r = r.param("after", c);
                }
                r
            }
            Next::After(c) => self.request.clone().param("after", c),
            Next::Url(u) => match same_host_path(&self.client, &u) {
                Some((path, query)) => {
                    let mut r = self.request.clone();
                    r.path = path;
                    r.params = Params::from_query(&query);
                    // The token in the URL is dropped by from_query's caller below.
                    r.params.remove("access_token");
                    r.params.remove("appsecret_proof");
                    r.params.remove("appsecret_time");
                    r
                }
                None => {
                    tracing::warn!("paging.next points to another host; stopping");
                    return None;
                }
            },
        };
        let raw = match self.client.execute_raw(req).await {
            Ok(r) => r,
            Err(e) => return Some(Err(e)),
        };
        let page: Page<T> = match raw.json() {
            Ok(p) => p,
            Err(e) => return Some(Err(e)),
        };
        self.pages += 1;
        self.next = match &page.paging {
            Some(Paging {
                next: Some(next_url),
                cursors,
                ..
            }) => match cursors.as_ref().and_then(|c| c.after.clone()) {
                Some(after) => {
                    if self.seen.insert(after.clone()) {
                        if let Ok(mut l) = self.last_cursor.lock() {
                            *l = Some(after.clone());
                        }
                        Next::After(after)
                    } else {
                        tracing::warn!(cursor = %after, "pagination cursor repeated; stopping");
                        Next::Done
                    }
                }
                None => {
                    if self.seen.insert(next_url.clone()) {
                        Next::Url(next_url.clone())
                    } else {
                        Next::Done
                    }
                }
            },
            _ => Next::Done,
        };
        Some(Ok(FetchedPage {
            page,
            usage: raw.usage,
        }))
    }
}

/// Parses a `next` URL and returns its path and query if it is on the client's host.
fn same_host_path(client: &Client, next: &str) -> Option<(String, String)> {
    let u = Url::parse(next).ok()?;
    let base = client.base_url();
    if u.scheme() != base.scheme()
        || u.host_str() != base.host_str()
        || u.port_or_known_default() != base.port_or_known_default()
    {
        return None;
    }
    Some((
        u.path().to_owned(),
        u.query().unwrap_or_default().to_owned(),
    ))
}

type PageFuture<T> = BoxFuture<'static, (State, Option<Result<FetchedPage<T>>>)>;

/// A stream of every item of a paginated edge, fetched lazily one page at a time.
///
/// Implements [`Stream<Item = Result<T>>`](Stream); [`Paginator::pages`] gives
/// the pages instead. Use `futures::TryStreamExt`:
///
/// ```no_run
/// # async fn run(client: meta_core::Client) -> meta_core::Result<()> {
/// use futures_util::TryStreamExt;
/// let mut posts = client.paginate::<serde_json::Value>("1234/feed", [("limit", "100")]);
/// while let Some(post) = posts.try_next().await? {
///     println!("{}", post["id"]);
/// }
/// # Ok(()) }
/// ```
pub struct Paginator<T> {
    state: Option<State>,
    inflight: Option<PageFuture<T>>,
    buffer: VecDeque<T>,
    last_cursor: Arc<Mutex<Option<String>>>,
    max_items: Option<u64>,
    yielded: u64,
}

impl<T> fmt::Debug for Paginator<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Paginator")
            .field("buffered", &self.buffer.len())
            .field("yielded", &self.yielded)
            .field("max_items", &self.max_items)
            .finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned + Send + 'static> Paginator<T> {
    pub(crate) fn new(client: Client, request: GraphRequest) -> Self {
        let last_cursor = Arc::new(Mutex::new(None));
        Paginator {
            state: Some(State {
                client,
                request,
                next: Next::Start(None),
                seen: HashSet::new(),
                last_cursor: last_cursor.clone(),
                pages: 0,
            }),
            inflight: None,
            buffer: VecDeque::new(),
            last_cursor,
            max_items: None,
            yielded: 0,
        }
    }

    /// Resumes after a cursor saved from [`Paginator::cursor`] in an earlier run.
    #[must_use]
    pub fn resume_after(mut self, cursor: impl Into<String>) -> Self {
        let c = cursor.into();
        if let Some(s) = &mut self.state {
            s.seen.insert(c.clone());
            s.next = Next::Start(Some(c));
        }
        self
    }

    /// Stops after `n` items (a guard against unbounded edges).
    #[must_use]
    pub fn max_items(mut self, n: u64) -> Self {
        self.max_items = Some(n);
        self
    }

    /// The `after` cursor of the last page fetched that has a successor: save it
    /// to resume later with [`Paginator::resume_after`].
    #[must_use]
    pub fn cursor(&self) -> Option<String> {
        self.last_cursor.lock().ok().and_then(|c| c.clone())
    }

    /// A stream of whole pages (with their usage headers) instead of items.
    #[must_use]
    pub fn pages(self) -> PageStream<T> {
        PageStream { inner: self }
    }

    /// Collects every item.
    ///
    /// # Errors
    /// The first error of any page fetch.
    pub async fn collect_all(self) -> Result<Vec<T>> {
        use futures_util::TryStreamExt;
        self.try_collect().await
    }

    fn poll_page(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<FetchedPage<T>>>> {
        loop {
            if let Some(fut) = &mut self.inflight {
                let (state, out) = match fut.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(v) => v,
                };
                self.inflight = None;
                self.state = Some(state);
                return Poll::Ready(out);
            }
            let Some(mut state) = self.state.take() else {
                return Poll::Ready(None);
            };
            self.inflight = Some(Box::pin(async move {
                let out = state.fetch::<T>().await;
                (state, out)
            }));
        }
    }
}

impl<T> Unpin for Paginator<T> {}

impl<T: DeserializeOwned + Send + 'static> Stream for Paginator<T> {
    type Item = Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.max_items.is_some_and(|m| this.yielded >= m) {
                return Poll::Ready(None);
            }
            if let Some(item) = this.buffer.pop_front() {
                this.yielded += 1;
                return Poll::Ready(Some(Ok(item)));
            }
            match this.poll_page(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(e))) => {
                    // Stop after an error: the caller may resume from `cursor()`.
                    this.state = None;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(Some(Ok(p))) => this.buffer.extend(p.page.data),
            }
        }
    }
}

/// A stream of pages; see [`Paginator::pages`].
pub struct PageStream<T> {
    inner: Paginator<T>,
}

impl<T> fmt::Debug for PageStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageStream").finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned + Send + 'static> PageStream<T> {
    /// The resume cursor; see [`Paginator::cursor`].
    #[must_use]
    pub fn cursor(&self) -> Option<String> {
        self.inner.cursor()
    }
}

impl<T: DeserializeOwned + Send + 'static> Stream for PageStream<T> {
    type Item = Result<FetchedPage<T>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match this.inner.poll_page(cx) {
            Poll::Ready(Some(Err(e))) => {
                this.inner.state = None;
                Poll::Ready(Some(Err(e)))
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_page_has_after_but_no_next() {
        let last: Page<serde_json::Value> = serde_json::from_str(
            r#"{"data":[{"id":"1"}],"paging":{"cursors":{"before":"a","after":"b"}}}"#,
        )
        .unwrap();
        assert!(!last.has_next());
        assert_eq!(last.next_cursor(), None);
        let mid: Page<serde_json::Value> = serde_json::from_str(
            r#"{"data":[],"paging":{"cursors":{"before":"a","after":"b"},"next":"https://graph.facebook.com/v26.0/1/feed?after=b"}}"#,
        )
        .unwrap();
        assert_eq!(mid.next_cursor(), Some("b"));
        let bare: Page<u32> = serde_json::from_str(r#"{"data":[1,2,3]}"#).unwrap();
        assert_eq!(bare.into_iter().sum::<u32>(), 6);
    }
}
