//! Comments on Page posts, live videos and Instagram media: list (as a lazy
//! [`Paginator`]), reply, hide/unhide and delete.
//!
//! Facebook and Instagram differ on the wire, and this module keeps both shapes:
//!
//! | | Facebook (`Comment`) | Instagram (`IGComment`) |
//! |---|---|---|
//! | list | `GET /{object}/comments` (`filter`, `order`, `since`, `live_filter`) | `GET /{media}/comments`, `GET /{comment}/replies` |
//! | reply | `POST /{comment}/comments` | `POST /{comment}/replies` |
//! | hide | `POST /{comment}?is_hidden=true\|false` | `POST /{comment}?hide=true\|false` |
//! | delete | `DELETE /{comment}` | `DELETE /{comment}` |
//!
//! (Comment and IGComment specs in Meta's codegen `api_specs`.) Ids and messages are
//! checked before any call; a bad one is an [`Error::Invalid`](crate::Error::Invalid).
//!
//! ```no_run
//! # async fn run(client: meta_core::Client) -> meta_graph::Result<()> {
//! use futures_util::TryStreamExt;
//! use meta_graph::GraphExt;
//! use meta_graph::generated::CommentOrder;
//!
//! let mut comments = client
//!     .comments()
//!     .list("1234_5678")
//!     .order(CommentOrder::ReverseChronological)
//!     .limit(100)
//!     .paginate()?;
//! while let Some(c) = comments.try_next().await? {
//!     if c.message.as_deref().is_some_and(|m| m.contains("price")) {
//!         client.comments().reply(c.id.as_deref().unwrap_or_default(), "DM sent!").await?;
//!     }
//! }
//! # Ok(()) }
//! ```

use std::time::{SystemTime, UNIX_EPOCH};

use meta_core::{Client, GraphRequest, Paginator};
use serde::{Deserialize, Serialize};

use crate::error::{Error, InvalidInput, Result};
use crate::generated::{Comment, CommentFilter, CommentLiveFilter, CommentOrder, IgComment};

/// Fields asked for when a list or get names none: what moderation tools need.
pub const DEFAULT_COMMENT_FIELDS: &[&str] = &[
    "id",
    "message",
    "created_time",
    "from",
    "is_hidden",
    "comment_count",
    "parent",
];
/// Default fields for Instagram comments.
pub const DEFAULT_IG_COMMENT_FIELDS: &[&str] = &[
    "id",
    "text",
    "timestamp",
    "username",
    "from",
    "hidden",
    "parent_id",
];

/// The id Graph returns for a created comment or reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CommentRef {
    /// The new comment's id.
    pub id: String,
}

#[derive(Deserialize)]
struct Success {
    #[serde(default)]
    success: bool,
}

/// Checks a Graph node id before it goes into a path: non-empty, only ASCII letters,
/// digits and `_` (Graph ids are digits, `pageid_postid` pairs or `act_` ids), so a
/// value can never add path segments or a query.
pub(crate) fn check_id(field: &str, id: &str) -> Result<(), InvalidInput> {
    if id.is_empty() {
        return Err(InvalidInput::new(field, "must not be empty"));
    }
    if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(InvalidInput::new(
            field,
            format!("`{id}` is not a Graph id (only letters, digits and `_`)"),
        ));
    }
    Ok(())
}

fn check_message(field: &str, message: &str) -> Result<(), InvalidInput> {
    if message.trim().is_empty() {
        return Err(InvalidInput::new(field, "must not be empty"));
    }
    Ok(())
}

/// Seconds since the epoch, for `since`.
fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Decodes `{"success": true}`; `false` is reported as a decode error because Graph gave
/// no reason.
fn expect_success(body: &Success, what: &str) -> Result<()> {
    if body.success {
        Ok(())
    } else {
        Err(Error::Meta(meta_core::Error::from(
            meta_core::error::DecodeError::new(
                "success",
                format!("Graph answered success=false to {what}"),
                b"{\"success\":false}",
            ),
        )))
    }
}

/// Comments on Page posts, live videos and Instagram media; get one with
/// [`crate::GraphExt::comments`].
#[derive(Debug, Clone)]
pub struct Comments {
    client: Client,
}

impl Comments {
    pub(crate) fn new(client: Client) -> Self {
        Comments { client }
    }

    /// Lists the comments on a Page post, live video or comment (its replies):
    /// `GET /{object_id}/comments`. Set options on the builder, then
    /// [`ListComments::paginate`].
    pub fn list(&self, object_id: impl Into<String>) -> ListComments {
        ListComments {
            client: self.client.clone(),
            object_id: object_id.into(),
            filter: None,
            order: None,
            since: None,
            live_filter: None,
            limit: None,
            fields: Vec::new(),
        }
    }

    /// Lists the comments on Instagram media: `GET /{media_id}/comments`.
    pub fn list_ig(&self, media_id: impl Into<String>) -> ListIgComments {
        ListIgComments {
            client: self.client.clone(),
            id: media_id.into(),
            edge: "comments",
            limit: None,
            fields: Vec::new(),
        }
    }

    /// Lists the replies to an Instagram comment: `GET /{ig_comment_id}/replies`.
    pub fn ig_replies(&self, ig_comment_id: impl Into<String>) -> ListIgComments {
        ListIgComments {
            client: self.client.clone(),
            id: ig_comment_id.into(),
            edge: "replies",
            limit: None,
            fields: Vec::new(),
        }
    }

    /// Reads one Facebook comment with [`DEFAULT_COMMENT_FIELDS`].
    ///
    /// # Errors
    /// [`Error::Invalid`] for a malformed id (before any call); [`Error::Meta`] when the
    /// call fails.
    pub async fn get(&self, comment_id: &str) -> Result<Comment> {
        check_id("comment_id", comment_id)?;
        let req = GraphRequest::get(comment_id).fields(DEFAULT_COMMENT_FIELDS);
        Ok(self.client.execute::<Comment>(req).await?.into_data())
    }

    /// Reads one Instagram comment with [`DEFAULT_IG_COMMENT_FIELDS`].
    ///
    /// # Errors
    /// As [`Comments::get`].
    pub async fn get_ig(&self, ig_comment_id: &str) -> Result<IgComment> {
        check_id("ig_comment_id", ig_comment_id)?;
        let req = GraphRequest::get(ig_comment_id).fields(DEFAULT_IG_COMMENT_FIELDS);
        Ok(self.client.execute::<IgComment>(req).await?.into_data())
    }

    /// Comments on a Page post or live video as the Page: `POST /{object_id}/comments`.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a malformed id or an empty message (before any call);
    /// [`Error::Meta`] when the call fails.
    pub async fn comment(&self, object_id: &str, message: &str) -> Result<CommentRef> {
        check_id("object_id", object_id)?;
        check_message("message", message)?;
        self.post_comment(&format!("{object_id}/comments"), message)
            .await
    }

    /// Replies to a Facebook comment as the Page: `POST /{comment_id}/comments`. (Facebook
    /// keeps threads two levels deep, so a reply to a reply joins the top-level thread.)
    ///
    /// # Errors
    /// As [`Comments::comment`].
    pub async fn reply(&self, comment_id: &str, message: &str) -> Result<CommentRef> {
        check_id("comment_id", comment_id)?;
        check_message("message", message)?;
        self.post_comment(&format!("{comment_id}/comments"), message)
            .await
    }

    /// Replies to an Instagram comment: `POST /{ig_comment_id}/replies`.
    ///
    /// # Errors
    /// As [`Comments::comment`].
    pub async fn ig_reply(&self, ig_comment_id: &str, message: &str) -> Result<CommentRef> {
        check_id("ig_comment_id", ig_comment_id)?;
        check_message("message", message)?;
        self.post_comment(&format!("{ig_comment_id}/replies"), message)
            .await
    }

    async fn post_comment(&self, path: &str, message: &str) -> Result<CommentRef> {
        let req = GraphRequest::post(path).param("message", message);
        Ok(self.client.execute::<CommentRef>(req).await?.into_data())
    }

    /// Hides a Facebook comment from everyone but its author and their friends:
    /// `POST /{comment_id}?is_hidden=true`.
    ///
    /// # Errors
    /// As [`Comments::get`].
    pub async fn hide(&self, comment_id: &str) -> Result<()> {
        self.set_hidden(comment_id, true).await
    }

    /// Shows a hidden Facebook comment again: `POST /{comment_id}?is_hidden=false`.
    ///
    /// # Errors
    /// As [`Comments::get`].
    pub async fn unhide(&self, comment_id: &str) -> Result<()> {
        self.set_hidden(comment_id, false).await
    }

    /// Sets `is_hidden` on a Facebook comment. Repeating it is harmless, so the call is
    /// marked idempotent and may be retried.
    ///
    /// # Errors
    /// As [`Comments::get`].
    pub async fn set_hidden(&self, comment_id: &str, hidden: bool) -> Result<()> {
        check_id("comment_id", comment_id)?;
        let req = GraphRequest::post(comment_id)
            .param("is_hidden", hidden)
            .idempotent(true);
        let body = self.client.execute::<Success>(req).await?.into_data();
        expect_success(&body, "is_hidden")
    }

    /// Hides or shows an Instagram comment: `POST /{ig_comment_id}?hide=true|false`.
    ///
    /// # Errors
    /// As [`Comments::get`].
    pub async fn ig_set_hidden(&self, ig_comment_id: &str, hidden: bool) -> Result<()> {
        check_id("ig_comment_id", ig_comment_id)?;
        let req = GraphRequest::post(ig_comment_id)
            .param("hide", hidden)
            .idempotent(true);
        let body = self.client.execute::<Success>(req).await?.into_data();
        expect_success(&body, "hide")
    }

    /// Deletes a comment (Facebook or Instagram): `DELETE /{comment_id}`.
    ///
    /// # Errors
    /// As [`Comments::get`].
    pub async fn delete(&self, comment_id: &str) -> Result<()> {
        check_id("comment_id", comment_id)?;
        let body = self
            .client
            .execute::<Success>(GraphRequest::delete(comment_id))
            .await?
            .into_data();
        expect_success(&body, "delete")
    }
}

/// `GET /{object}/comments` with its options; see [`Comments::list`].
#[derive(Debug, Clone)]
#[must_use = "call .paginate() to list the comments"]
pub struct ListComments {
    client: Client,
    object_id: String,
    filter: Option<CommentFilter>,
    order: Option<CommentOrder>,
    since: Option<u64>,
    live_filter: Option<CommentLiveFilter>,
    limit: Option<u32>,
    fields: Vec<String>,
}

impl ListComments {
    /// `toplevel` (Graph's default: comments on the object) or `stream` (every comment
    /// and reply, in order).
    pub fn filter(mut self, filter: CommentFilter) -> Self {
        self.filter = Some(filter);
        self
    }
    /// `chronological` (Graph's default) or `reverse_chronological` (newest first).
    pub fn order(mut self, order: CommentOrder) -> Self {
        self.order = Some(order);
        self
    }
    /// Only comments created at or after `time`.
    pub fn since(mut self, time: SystemTime) -> Self {
        self.since = Some(unix(time));
        self
    }
    /// Only comments created at or after `unix_secs`.
    pub fn since_unix(mut self, unix_secs: u64) -> Self {
        self.since = Some(unix_secs);
        self
    }
    /// For live videos: `filter_low_quality` (Graph's default) or `no_filter`.
    pub fn live_filter(mut self, filter: CommentLiveFilter) -> Self {
        self.live_filter = Some(filter);
        self
    }
    /// Page size (at least 1).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }
    /// Fields to read instead of [`DEFAULT_COMMENT_FIELDS`] (`CommentField`s or strings).
    pub fn fields<I, F>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = F>,
        F: AsRef<str>,
    {
        self.fields = fields.into_iter().map(|f| f.as_ref().to_owned()).collect();
        self
    }

    /// The request this list sends first (later pages add `after`).
    ///
    /// # Errors
    /// [`Error::Invalid`] for a malformed object id or a zero limit.
    pub fn request(&self) -> Result<GraphRequest> {
        check_id("object_id", &self.object_id)?;
        let mut req = GraphRequest::get(format!("{}/comments", self.object_id));
        req = if self.fields.is_empty() {
            req.fields(DEFAULT_COMMENT_FIELDS)
        } else {
            req.fields(&self.fields)
        };
        if let Some(f) = &self.filter {
            req = req.param("filter", f.as_str());
        }
        if let Some(o) = &self.order {
            req = req.param("order", o.as_str());
        }
        if let Some(s) = self.since {
            req = req.param("since", s);
        }
        if let Some(l) = &self.live_filter {
            req = req.param("live_filter", l.as_str());
        }
        if let Some(limit) = self.limit {
            if limit == 0 {
                return Err(InvalidInput::new("limit", "must be at least 1").into());
            }
            req = req.param("limit", limit);
        }
        Ok(req)
    }

    /// A lazy stream of every comment, one page fetched at a time.
    ///
    /// # Errors
    /// [`Error::Invalid`] before any call; fetch errors come out of the stream.
    pub fn paginate(self) -> Result<Paginator<Comment>> {
        let req = self.request()?;
        Ok(self.client.paginate_request(req))
    }
}

/// `GET /{media}/comments` or `GET /{ig_comment}/replies`; see [`Comments::list_ig`].
#[derive(Debug, Clone)]
#[must_use = "call .paginate() to list the comments"]
pub struct ListIgComments {
    client: Client,
    id: String,
    edge: &'static str,
    limit: Option<u32>,
    fields: Vec<String>,
}

impl ListIgComments {
    /// Page size (at least 1).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }
    /// Fields to read instead of [`DEFAULT_IG_COMMENT_FIELDS`].
    pub fn fields<I, F>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = F>,
        F: AsRef<str>,
    {
        self.fields = fields.into_iter().map(|f| f.as_ref().to_owned()).collect();
        self
    }

    /// A lazy stream of every comment.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a malformed id or a zero limit, before any call.
    pub fn paginate(self) -> Result<Paginator<IgComment>> {
        check_id("ig_id", &self.id)?;
        let mut req = GraphRequest::get(format!("{}/{}", self.id, self.edge));
        req = if self.fields.is_empty() {
            req.fields(DEFAULT_IG_COMMENT_FIELDS)
        } else {
            req.fields(&self.fields)
        };
        if let Some(limit) = self.limit {
            if limit == 0 {
                return Err(InvalidInput::new("limit", "must be at least 1").into());
            }
            req = req.param("limit", limit);
        }
        Ok(self.client.paginate_request(req))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_before_any_call() {
        assert!(check_id("x", "123_456").is_ok());
        assert!(check_id("x", "act_12").is_ok());
        for bad in ["", "1/2", "1?x=2", "../me", "12 3", "1%2F"] {
            let e = check_id("comment_id", bad).unwrap_err();
            assert_eq!(e.field(), "comment_id", "{bad}");
        }
        assert!(check_message("message", "  ").is_err());
    }

    #[test]
    fn list_request_carries_the_options() {
        let client = Client::builder()
            .base_url("http://127.0.0.1:9")
            .build()
            .unwrap();
        let req = Comments::new(client.clone())
            .list("1_2")
            .filter(CommentFilter::Stream)
            .order(CommentOrder::ReverseChronological)
            .since_unix(1_700_000_000)
            .live_filter(CommentLiveFilter::NoFilter)
            .limit(50)
            .request()
            .unwrap();
        assert_eq!(req.path(), "1_2/comments");
        let p = req.get_params();
        assert_eq!(p.get("filter").unwrap(), "stream");
        assert_eq!(p.get("order").unwrap(), "reverse_chronological");
        assert_eq!(p.get("since").unwrap(), 1_700_000_000);
        assert_eq!(p.get("live_filter").unwrap(), "no_filter");
        assert_eq!(p.get("limit").unwrap(), 50);
        assert_eq!(
            p.get("fields").unwrap(),
            "id,message,created_time,from,is_hidden,comment_count,parent"
        );
        let err = Comments::new(client)
            .list("1_2")
            .limit(0)
            .request()
            .unwrap_err();
        assert!(err.is_refused_before_call());
    }
}
