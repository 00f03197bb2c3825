//! The sending port ([`MessageSender`]), its classified error ([`SendError`]) and the
//! meta-graph implementation ([`GraphSender`]).

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use meta_core::Client;
use meta_graph::messenger::{Message, MessagingGuard};
use meta_graph::{GraphExt, PolicyRule, PolicyViolation};

/// Meta's "(#10900) Activity already replied to": the comment already has its one
/// private reply (facts guide §8.2).
pub const ALREADY_REPLIED_CODE: i64 = 10_900;
/// Meta's "(#10) This message is sent outside of allowed window" subcode (facts guide
/// §8.1).
pub const OUTSIDE_WINDOW_SUBCODE: i64 = 2_018_278;

/// Why a send did not happen, classified so the dispatcher never reads message text:
/// [`Policy`](SendError::Policy) → the message is suppressed,
/// [`Transient`](SendError::Transient) → it is retried with backoff,
/// [`Permanent`](SendError::Permanent) → it fails for good.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Sending would break Meta's messaging policy (window closed, private reply
    /// already used, comment too old); nothing was sent and nothing will be.
    #[error("refused by messaging policy: {0}")]
    Policy(String),
    /// A failure that trying again later can fix (throttle, Meta's transient errors,
    /// network, timeout, the policy store being down).
    #[error("transient send failure: {0}")]
    Transient(String),
    /// A failure that repeating cannot fix (permission, invalid parameter, unknown Page,
    /// a send whose outcome is unknown and must not be repeated).
    #[error("send failed: {0}")]
    Permanent(String),
}

impl SendError {
    /// The reason, without the class.
    #[must_use]
    pub fn reason(&self) -> &str {
        match self {
            SendError::Policy(r) | SendError::Transient(r) | SendError::Permanent(r) => r,
        }
    }

    /// Classifies a meta-core error by its [`meta_core::ErrorKind`] (and, for Meta's two
    /// messaging-policy answers, by code and subcode): Meta's "outside the allowed window"
    /// (code 10, subcode 2018278) and "already replied" (10900) are policy refusals;
    /// everything [`meta_core::Error::is_retryable`] calls retryable is transient; the
    /// rest is permanent.
    #[must_use]
    pub fn from_meta(e: &meta_core::Error) -> Self {
        if let Some(api) = e.api() {
            if api.code() == ALREADY_REPLIED_CODE {
                return SendError::Policy(format!("private reply already sent (Meta: {e})"));
            }
            if api.subcode() == Some(OUTSIDE_WINDOW_SUBCODE) {
                return SendError::Policy(format!(
                    "outside the 24-hour messaging window (Meta: {e})"
                ));
            }
        }
        let reason = format!("{}: {e}", e.kind());
        if e.is_retryable() {
            SendError::Transient(reason)
        } else {
            SendError::Permanent(reason)
        }
    }

    /// Classifies a refusal of the messaging guard by its rule. The guard refuses with
    /// [`PolicyRule::Other`] when its own store failed (it fails closed): that is an
    /// outage, so it is transient, not a policy decision.
    #[must_use]
    pub fn from_policy(v: &PolicyViolation) -> Self {
        let label = match v.rule() {
            PolicyRule::PrivateReplyAlreadySent => "private reply already sent",
            PolicyRule::PrivateReplyTooLate => "comment too old for a private reply",
            PolicyRule::OutsideMessagingWindow => "outside the 24-hour messaging window",
            PolicyRule::TagNotAllowed => "message tag not allowed",
            _ => return SendError::Transient(format!("messaging guard: {}", v.detail())),
        };
        SendError::Policy(format!("{label}: {}", v.detail()))
    }

    /// Classifies a meta-graph error: guard refusals by rule ([`SendError::from_policy`]),
    /// call failures by kind ([`SendError::from_meta`]), input refused before the call
    /// (empty or over-long text) as permanent.
    #[must_use]
    pub fn from_graph(e: &meta_graph::Error) -> Self {
        match e {
            meta_graph::Error::Policy(v) => SendError::from_policy(v),
            meta_graph::Error::Meta(m) => SendError::from_meta(m),
            other => SendError::Permanent(other.to_string()),
        }
    }
}

/// The boxed future a [`MessageSender`] returns: the Graph id of what was created (the
/// reply comment's id, or the Messenger message id).
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<String, SendError>> + Send + 'a>>;

/// The port the dispatcher sends through. Object-safe (`Arc<dyn MessageSender>`).
///
/// Implementations enforce Meta's messaging policy themselves (one private reply per
/// comment within 7 days, standard messages only inside the 24-hour window) and answer
/// a refusal with [`SendError::Policy`].
pub trait MessageSender: Send + Sync + fmt::Debug {
    /// A public reply under `comment_id`, as the Page. Returns the reply's comment id.
    fn public_reply<'a>(
        &'a self,
        page_id: &'a str,
        comment_id: &'a str,
        text: &'a str,
    ) -> SendFuture<'a>;

    /// The one private reply (Messenger) to `comment_id`, made at `comment_created_at`.
    /// Returns the message id.
    fn private_reply<'a>(
        &'a self,
        page_id: &'a str,
        comment_id: &'a str,
        comment_created_at: SystemTime,
        text: &'a str,
    ) -> SendFuture<'a>;

    /// A standard (`RESPONSE`) Messenger message to `recipient_id`. Returns the message id.
    fn message<'a>(
        &'a self,
        page_id: &'a str,
        recipient_id: &'a str,
        text: &'a str,
    ) -> SendFuture<'a>;
}

/// [`MessageSender`] over meta-graph: one [`Client`] holding each Page's token, and one
/// shared [`MessagingGuard`] so that private replies are reserved exactly once and
/// standard messages only go inside the 24-hour window opened by the person's own
/// message (feed the guard from the Messenger webhooks with
/// [`MessagingGuard::record_inbound`]).
///
/// The guard reads time from each client's clock: give the clients the dispatcher's
/// clock.
///
/// Delivery is at least once for public replies and messages: a send that timed out
/// may have reached Meta and is retried. Private replies are at most once: when their
/// outcome is unknown the guard keeps the comment's slot, and the send is reported as
/// [`SendError::Permanent`] ("outcome unknown") rather than retried.
#[derive(Debug, Clone)]
pub struct GraphSender {
    pages: HashMap<String, Client>,
    guard: Arc<MessagingGuard>,
}

impl GraphSender {
    /// A sender with no Page yet; add them with [`GraphSender::page`].
    #[must_use]
    pub fn new(guard: Arc<MessagingGuard>) -> Self {
        GraphSender {
            pages: HashMap::new(),
            guard,
        }
    }

    /// A sender for one Page.
    #[must_use]
    pub fn for_page(
        page_id: impl Into<String>,
        client: Client,
        guard: Arc<MessagingGuard>,
    ) -> Self {
        GraphSender::new(guard).page(page_id, client)
    }

    /// Adds (or replaces) the client holding `page_id`'s Page token.
    #[must_use]
    pub fn page(mut self, page_id: impl Into<String>, client: Client) -> Self {
        self.pages.insert(page_id.into(), client);
        self
    }

    /// The shared guard.
    #[must_use]
    pub fn guard(&self) -> &Arc<MessagingGuard> {
        &self.guard
    }

    fn client(&self, page_id: &str) -> Result<&Client, SendError> {
        self.pages
            .get(page_id)
            .ok_or_else(|| SendError::Permanent(format!("no Page token for page {page_id}")))
    }

    async fn send_private_reply(
        &self,
        page_id: &str,
        comment_id: &str,
        created: SystemTime,
        text: &str,
    ) -> Result<String, SendError> {
        let client = self.client(page_id)?;
        let sent = client
            .messenger()
            .with_guard(self.guard.clone())
            .private_reply(page_id, comment_id, Message::text(text))
            .comment_created_at(created)
            .send()
            .await;
        match sent {
            Ok(r) => Ok(r.message_id.unwrap_or_default()),
            Err(e) => {
                let class = SendError::from_graph(&e);
                // A failure after the slot was reserved: when Meta answered, meta-graph
                // released the slot and a retry may succeed; when the outcome is unknown
                // (timeout, dropped connection) it kept it, so a retry would only be
                // refused as "already sent" and hide that the reply may have arrived.
                if matches!(class, SendError::Transient(_))
                    && e.meta().is_some()
                    && self
                        .guard
                        .private_reply_taken(page_id, comment_id)
                        .await
                        .unwrap_or(true)
                {
                    return Err(SendError::Permanent(format!(
                        "outcome unknown, the private reply may have been delivered and is not resent: {}",
                        class.reason()
                    )));
                }
                Err(class)
            }
        }
    }
}

impl MessageSender for GraphSender {
    fn public_reply<'a>(
        &'a self,
        page_id: &'a str,
        comment_id: &'a str,
        text: &'a str,
    ) -> SendFuture<'a> {
        Box::pin(async move {
            let client = self.client(page_id)?;
            let reply = client
                .comments()
                .reply(comment_id, text)
                .await
                .map_err(|e| SendError::from_graph(&e))?;
            Ok(reply.id)
        })
    }

    fn private_reply<'a>(
        &'a self,
        page_id: &'a str,
        comment_id: &'a str,
        comment_created_at: SystemTime,
        text: &'a str,
    ) -> SendFuture<'a> {
        Box::pin(self.send_private_reply(page_id, comment_id, comment_created_at, text))
    }

    fn message<'a>(
        &'a self,
        page_id: &'a str,
        recipient_id: &'a str,
        text: &'a str,
    ) -> SendFuture<'a> {
        Box::pin(async move {
            let client = self.client(page_id)?;
            let sent = client
                .messenger()
                .with_guard(self.guard.clone())
                .send(page_id, recipient_id, Message::text(text))
                .send()
                .await
                .map_err(|e| SendError::from_graph(&e))?;
            Ok(sent.message_id.unwrap_or_default())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meta_core::ApiError;
    use meta_core::error::{TimeoutError, TransportError, TransportErrorKind};
    use std::time::Duration;

    fn api(
        code: i64,
        subcode: Option<i64>,
        transient: Option<bool>,
        status: u16,
    ) -> meta_core::Error {
        let mut e = ApiError::new(code, "boom").with_http_status(status);
        if let Some(s) = subcode {
            e = e.with_subcode(s);
        }
        if let Some(t) = transient {
            e = e.with_transient(t);
        }
        meta_core::Error::from(e)
    }

    #[test]
    fn meta_errors_are_classified_by_kind_and_code() {
        let policy = [
            api(10, Some(OUTSIDE_WINDOW_SUBCODE), None, 400),
            api(ALREADY_REPLIED_CODE, None, None, 400),
        ];
        for e in &policy {
            assert!(
                matches!(SendError::from_meta(e), SendError::Policy(_)),
                "{e}"
            );
        }
        let transient = [
            api(2, None, None, 503),
            api(1, None, None, 500),
            api(999, None, Some(true), 400),
            api(4, None, None, 400),
            api(80_001, None, None, 400),
            meta_core::Error::from(TimeoutError::new(Duration::from_secs(5))),
            meta_core::Error::from(TransportError::new(TransportErrorKind::Connect, "refused")),
        ];
        for e in &transient {
            assert!(
                matches!(SendError::from_meta(e), SendError::Transient(_)),
                "{e}"
            );
        }
        let permanent = [
            api(100, Some(2_018_001), None, 400),
            api(10, None, None, 403),
            api(230, None, None, 403),
            api(190, Some(460), None, 401),
            api(368, None, None, 400),
        ];
        for e in &permanent {
            assert!(
                matches!(SendError::from_meta(e), SendError::Permanent(_)),
                "{e}"
            );
        }
    }

    #[test]
    fn guard_refusals_are_policy_except_store_failures() {
        let cases = [
            (PolicyRule::PrivateReplyAlreadySent, true),
            (PolicyRule::PrivateReplyTooLate, true),
            (PolicyRule::OutsideMessagingWindow, true),
            (PolicyRule::TagNotAllowed, true),
            (PolicyRule::Other, false),
        ];
        for (rule, policy) in cases {
            let e = SendError::from_policy(&PolicyViolation::new(rule, "detail"));
            assert_eq!(matches!(e, SendError::Policy(_)), policy, "{rule:?}");
            if !policy {
                assert!(matches!(e, SendError::Transient(_)));
            }
        }
        let invalid = meta_graph::Error::from(meta_graph::error::InvalidInput::new(
            "message.text",
            "empty",
        ));
        assert!(matches!(
            SendError::from_graph(&invalid),
            SendError::Permanent(_)
        ));
    }
}
