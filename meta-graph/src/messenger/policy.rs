//! The messaging-policy guard: refuses, before any call, a send that would break Meta's
//! messaging rules (facts guide §8.1–§8.2):
//!
//! - **one private reply per comment**, sent **within 7 days** of the comment's
//!   `created_time`;
//! - a **24-hour window** per (Page, person), opened by the person's own message — a
//!   private reply does *not* open it. `RESPONSE` and `UPDATE` messages (and sender
//!   actions) outside it are refused;
//! - `MESSAGE_TAG` sends only with a tag allowed by [`PolicyConfig`] (data, not code:
//!   Meta retired `CONFIRMED_EVENT_UPDATE`, `POST_PURCHASE_UPDATE` and `ACCOUNT_UPDATE`
//!   on 2026-04-27 per the facts guide's 2026 note, so the default allows only
//!   `HUMAN_AGENT`), and `HUMAN_AGENT` only within 7 days of the person's message.
//!
//! The rules are pure functions ([`check_message`], [`check_private_reply`]) of the
//! configuration, the time (from the injected clock) and what the [`PolicyStore`] knows.
//! The store is a port: [`InMemoryPolicyStore`] here, SQL stores in adapters. Its
//! [`PolicyStore::reserve_private_reply`] is a check-and-reserve in one step, so two
//! concurrent private replies to one comment can never both be sent.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use futures_util::future::BoxFuture;

use crate::error::{PolicyRule, PolicyViolation};

/// The standard messaging window (facts guide §8.1).
pub const STANDARD_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// The `HUMAN_AGENT` window (facts guide §8.1, message-tags doc).
pub const HUMAN_AGENT_WINDOW: Duration = Duration::from_secs(7 * 86_400);
/// How long after a comment a private reply may be sent (facts guide §8.2).
pub const PRIVATE_REPLY_WINDOW: Duration = Duration::from_secs(7 * 86_400);

/// A message tag (`tag` with `messaging_type=MESSAGE_TAG`). Any string is accepted so
/// new tags need no release; which ones may be *sent* is [`PolicyConfig`] data.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageTag(String);

impl MessageTag {
    /// A human agent answering within 7 days of the person's message.
    pub const HUMAN_AGENT: &'static str = "HUMAN_AGENT";
    /// Non-recurring account changes (retired 2026-04-27 per the facts guide).
    pub const ACCOUNT_UPDATE: &'static str = "ACCOUNT_UPDATE";
    /// Receipts, shipping, order changes (retired 2026-04-27 per the facts guide).
    pub const POST_PURCHASE_UPDATE: &'static str = "POST_PURCHASE_UPDATE";
    /// Updates for an event the person registered for (retired 2026-04-27 per the facts
    /// guide).
    pub const CONFIRMED_EVENT_UPDATE: &'static str = "CONFIRMED_EVENT_UPDATE";

    /// A tag by name, upper-cased as Meta spells them.
    #[must_use]
    pub fn new(tag: impl AsRef<str>) -> Self {
        MessageTag(tag.as_ref().trim().to_ascii_uppercase())
    }
    /// `HUMAN_AGENT`.
    #[must_use]
    pub fn human_agent() -> Self {
        MessageTag::new(Self::HUMAN_AGENT)
    }
    /// The wire value.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The guard's rules as data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyConfig {
    allowed_tags: BTreeSet<MessageTag>,
    window: Duration,
    human_agent_window: Duration,
    private_reply_window: Duration,
}

impl Default for PolicyConfig {
    /// Only `HUMAN_AGENT` is allowed (the 2026 retirement note); windows of 24 h
    /// (standard), 7 days (`HUMAN_AGENT`) and 7 days (private replies).
    fn default() -> Self {
        PolicyConfig {
            allowed_tags: [MessageTag::human_agent()].into_iter().collect(),
            window: STANDARD_WINDOW,
            human_agent_window: HUMAN_AGENT_WINDOW,
            private_reply_window: PRIVATE_REPLY_WINDOW,
        }
    }
}

impl PolicyConfig {
    /// The four tags Meta documented from 2020-03-04 until the 2026 retirement — for
    /// apps whose Page still has them, or for replaying old traffic.
    #[must_use]
    pub fn pre_2026_tags() -> Self {
        PolicyConfig::default().allowed_tags([
            MessageTag::HUMAN_AGENT,
            MessageTag::ACCOUNT_UPDATE,
            MessageTag::POST_PURCHASE_UPDATE,
            MessageTag::CONFIRMED_EVENT_UPDATE,
        ])
    }
    /// Replaces the allowed tags.
    #[must_use]
    pub fn allowed_tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.allowed_tags = tags.into_iter().map(MessageTag::new).collect();
        self
    }
    /// The standard window (default 24 h).
    #[must_use]
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }
    /// The `HUMAN_AGENT` window (default 7 days).
    #[must_use]
    pub fn human_agent_window(mut self, window: Duration) -> Self {
        self.human_agent_window = window;
        self
    }
    /// The private-reply window (default 7 days).
    #[must_use]
    pub fn private_reply_window(mut self, window: Duration) -> Self {
        self.private_reply_window = window;
        self
    }
    /// Whether `tag` may be sent.
    #[must_use]
    pub fn is_tag_allowed(&self, tag: &MessageTag) -> bool {
        self.allowed_tags.contains(tag)
    }
    /// The allowed tags, sorted.
    pub fn tags(&self) -> impl Iterator<Item = &MessageTag> {
        self.allowed_tags.iter()
    }
}

/// What kind of send is being checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendKind<'a> {
    /// `RESPONSE`, `UPDATE`, or a sender action: needs the standard window.
    Standard,
    /// `MESSAGE_TAG` with this tag.
    Tagged(&'a MessageTag),
}

fn age(now: SystemTime, then: SystemTime) -> Duration {
    // A time in the future (clock skew) counts as "just now".
    now.duration_since(then).unwrap_or(Duration::ZERO)
}

/// Whether a message to a person may be sent now, given the time of their last message
/// to the Page. Pure.
///
/// # Errors
/// [`PolicyRule::TagNotAllowed`] for a tag not in the configuration;
/// [`PolicyRule::OutsideMessagingWindow`] when the person has not written within the
/// window that applies (24 h, or 7 days for `HUMAN_AGENT`).
pub fn check_message(
    config: &PolicyConfig,
    now: SystemTime,
    last_inbound: Option<SystemTime>,
    kind: SendKind<'_>,
) -> Result<(), PolicyViolation> {
    let window = match kind {
        SendKind::Standard => config.window,
        SendKind::Tagged(tag) => {
            if !config.is_tag_allowed(tag) {
                let allowed: Vec<&str> = config.tags().map(MessageTag::as_str).collect();
                return Err(PolicyViolation::new(
                    PolicyRule::TagNotAllowed,
                    format!(
                        "message tag {tag} is not allowed (allowed: {})",
                        if allowed.is_empty() {
                            "none".to_owned()
                        } else {
                            allowed.join(", ")
                        }
                    ),
                ));
            }
            if tag.as_str() == MessageTag::HUMAN_AGENT {
                config.human_agent_window
            } else {
                // The other tags exist precisely to message outside the window.
                return Ok(());
            }
        }
    };
    match last_inbound {
        None => Err(PolicyViolation::new(
            PolicyRule::OutsideMessagingWindow,
            "the person has never written to this Page (a private reply does not open the window)",
        )),
        Some(t) if age(now, t) > window => Err(PolicyViolation::new(
            PolicyRule::OutsideMessagingWindow,
            format!(
                "the person last wrote {}s ago; the window is {}s",
                age(now, t).as_secs(),
                window.as_secs()
            ),
        )),
        Some(_) => Ok(()),
    }
}

/// Whether a private reply to a comment created at `comment_created` may be sent now.
/// Pure; the one-reply rule is the store's atomic reservation.
///
/// # Errors
/// [`PolicyRule::PrivateReplyAlreadySent`] when `already_replied`;
/// [`PolicyRule::PrivateReplyTooLate`] past the private-reply window.
pub fn check_private_reply(
    config: &PolicyConfig,
    now: SystemTime,
    comment_created: SystemTime,
    already_replied: bool,
) -> Result<(), PolicyViolation> {
    if already_replied {
        return Err(already_sent());
    }
    let a = age(now, comment_created);
    if a > config.private_reply_window {
        return Err(PolicyViolation::new(
            PolicyRule::PrivateReplyTooLate,
            format!(
                "the comment is {}s old; private replies are allowed for {}s",
                a.as_secs(),
                config.private_reply_window.as_secs()
            ),
        ));
    }
    Ok(())
}

pub(crate) fn already_sent() -> PolicyViolation {
    PolicyViolation::new(
        PolicyRule::PrivateReplyAlreadySent,
        "this comment already has its one private reply",
    )
}

/// A failure of the policy store. The guard fails closed: nothing is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy store: {message}")]
pub struct StoreError {
    message: String,
}

impl StoreError {
    /// A store failure described by `message`.
    #[must_use]
    pub fn new(message: impl Into<String>) -> Self {
        StoreError {
            message: message.into(),
        }
    }
    /// The description.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Where a private reply stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplyState {
    /// Reserved by a send in flight (or one whose outcome is unknown).
    Reserved,
    /// Sent.
    Sent,
}

/// What the guard remembers, behind a port so it can live in SQLite or Postgres.
///
/// Futures are boxed so the trait can be used as `dyn PolicyStore`.
pub trait PolicyStore: Send + Sync + fmt::Debug + 'static {
    /// Records that the person wrote to the Page at `at`. Keeps the latest time
    /// (webhooks may arrive out of order).
    fn record_inbound<'a>(
        &'a self,
        page_id: &'a str,
        psid: &'a str,
        at: SystemTime,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// The person's last message to the Page.
    fn last_inbound<'a>(
        &'a self,
        page_id: &'a str,
        psid: &'a str,
    ) -> BoxFuture<'a, Result<Option<SystemTime>, StoreError>>;

    /// Where the private reply to `comment_id` stands, if anywhere.
    fn private_reply<'a>(
        &'a self,
        page_id: &'a str,
        comment_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<ReplyState>, StoreError>>;

    /// **Atomically** reserves the one private reply of `comment_id`: `true` when it
    /// was free and is now [`ReplyState::Reserved`], `false` when it was already
    /// reserved or sent. Two concurrent callers never both get `true`.
    fn reserve_private_reply<'a>(
        &'a self,
        page_id: &'a str,
        comment_id: &'a str,
        at: SystemTime,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Marks a reserved private reply as sent.
    fn confirm_private_reply<'a>(
        &'a self,
        page_id: &'a str,
        comment_id: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Frees a reservation whose send certainly failed (Meta answered with an error).
    fn release_private_reply<'a>(
        &'a self,
        page_id: &'a str,
        comment_id: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
}

#[derive(Debug, Default)]
struct Memory {
    inbound: HashMap<(String, String), SystemTime>,
    replies: HashMap<(String, String), ReplyState>,
}

/// A [`PolicyStore`] in process memory: for tests, single-process tools and the
/// examples. State is lost on restart, so a long-running service should use a durable
/// store.
#[derive(Debug, Default)]
pub struct InMemoryPolicyStore {
    inner: Mutex<Memory>,
}

impl InMemoryPolicyStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        InMemoryPolicyStore::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Memory) -> T) -> T {
        // A poisoned lock means a panic mid-update of plain maps; the data is usable.
        let mut g = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut g)
    }
}

fn key(a: &str, b: &str) -> (String, String) {
    (a.to_owned(), b.to_owned())
}

impl PolicyStore for InMemoryPolicyStore {
    fn record_inbound<'a>(
        &'a self,
        page_id: &'a str,
        psid: &'a str,
        at: SystemTime,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.with(|m| {
            let slot = m.inbound.entry(key(page_id, psid)).or_insert(at);
            if at > *slot {
                *slot = at;
            }
        });
        Box::pin(std::future::ready(Ok(())))
    }

    fn last_inbound<'a>(
        &'a self,
        page_id: &'a str,
        psid: &'a str,
    ) -> BoxFuture<'a, Result<Option<SystemTime>, StoreError>> {
        let v = self.with(|m| m.inbound.get(&key(page_id, psid)).copied());
        Box::pin(std::future::ready(Ok(v)))
    }

    fn private_reply<'a>(
        &'a self,
        page_id: &'a str,
        comment_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<ReplyState>, StoreError>> {
        let v = self.with(|m| m.replies.get(&key(page_id, comment_id)).copied());
        Box::pin(std::future::ready(Ok(v)))
    }

    fn reserve_private_reply<'a>(
        &'a self,
        page_id: &'a str,
        comment_id: &'a str,
        _at: SystemTime,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        // Check and insert under one lock: the atomic step.
        let won = self.with(|m| match m.replies.entry(key(page_id, comment_id)) {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(ReplyState::Reserved);
                true
            }
        });
        Box::pin(std::future::ready(Ok(won)))
    }

    fn confirm_private_reply<'a>(
        &'a self,
        page_id: &'a str,
        comment_id: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.with(|m| {
            m.replies.insert(key(page_id, comment_id), ReplyState::Sent);
        });
        Box::pin(std::future::ready(Ok(())))
    }

    fn release_private_reply<'a>(
        &'a self,
        page_id: &'a str,
        comment_id: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.with(|m| {
            let k = key(page_id, comment_id);
            if m.replies.get(&k) == Some(&ReplyState::Reserved) {
                m.replies.remove(&k);
            }
        });
        Box::pin(std::future::ready(Ok(())))
    }
}

/// The guard: configuration plus a store. Share one (`Arc`) between every
/// [`Messenger`](super::Messenger) handle of an app so they all see the same windows
/// and reservations.
#[derive(Debug, Clone)]
pub struct MessagingGuard {
    config: PolicyConfig,
    store: Arc<dyn PolicyStore>,
}

fn store_failure(e: &StoreError) -> PolicyViolation {
    PolicyViolation::new(
        PolicyRule::Other,
        format!("refused because the policy store failed: {}", e.message()),
    )
}

impl MessagingGuard {
    /// A guard over `store`.
    #[must_use]
    pub fn new(config: PolicyConfig, store: Arc<dyn PolicyStore>) -> Self {
        MessagingGuard { config, store }
    }
    /// A guard with an [`InMemoryPolicyStore`].
    #[must_use]
    pub fn in_memory(config: PolicyConfig) -> Self {
        MessagingGuard::new(config, Arc::new(InMemoryPolicyStore::new()))
    }
    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &PolicyConfig {
        &self.config
    }
    /// The store.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn PolicyStore> {
        &self.store
    }

    /// Records the person's own message to the Page (webhook `messages` events feed
    /// this): opens or extends the window.
    ///
    /// # Errors
    /// The store's failure, as a [`PolicyViolation`] of [`PolicyRule::Other`].
    pub async fn record_inbound(
        &self,
        page_id: &str,
        psid: &str,
        at: SystemTime,
    ) -> Result<(), PolicyViolation> {
        self.store
            .record_inbound(page_id, psid, at)
            .await
            .map_err(|e| store_failure(&e))
    }

    /// Checks a message to `psid` at `now`; see [`check_message`].
    ///
    /// # Errors
    /// The violated rule (or a store failure).
    pub async fn check_message(
        &self,
        page_id: &str,
        psid: &str,
        kind: SendKind<'_>,
        now: SystemTime,
    ) -> Result<(), PolicyViolation> {
        let last = self
            .store
            .last_inbound(page_id, psid)
            .await
            .map_err(|e| store_failure(&e))?;
        check_message(&self.config, now, last, kind)
    }

    /// Whether `comment_id` already has (or is getting) its private reply.
    ///
    /// # Errors
    /// A store failure.
    pub async fn private_reply_taken(
        &self,
        page_id: &str,
        comment_id: &str,
    ) -> Result<bool, PolicyViolation> {
        Ok(self
            .store
            .private_reply(page_id, comment_id)
            .await
            .map_err(|e| store_failure(&e))?
            .is_some())
    }

    /// Checks the 7-day rule, then reserves the comment's one private reply in one
    /// atomic step.
    ///
    /// # Errors
    /// [`PolicyRule::PrivateReplyTooLate`], [`PolicyRule::PrivateReplyAlreadySent`], or a
    /// store failure.
    pub async fn reserve_private_reply(
        &self,
        page_id: &str,
        comment_id: &str,
        comment_created: SystemTime,
        now: SystemTime,
    ) -> Result<(), PolicyViolation> {
        check_private_reply(&self.config, now, comment_created, false)?;
        let won = self
            .store
            .reserve_private_reply(page_id, comment_id, now)
            .await
            .map_err(|e| store_failure(&e))?;
        if won { Ok(()) } else { Err(already_sent()) }
    }

    /// Marks a reserved private reply as sent.
    ///
    /// # Errors
    /// A store failure.
    pub async fn confirm_private_reply(
        &self,
        page_id: &str,
        comment_id: &str,
    ) -> Result<(), PolicyViolation> {
        self.store
            .confirm_private_reply(page_id, comment_id)
            .await
            .map_err(|e| store_failure(&e))
    }

    /// Frees a reservation whose send certainly failed.
    ///
    /// # Errors
    /// A store failure.
    pub async fn release_private_reply(
        &self,
        page_id: &str,
        comment_id: &str,
    ) -> Result<(), PolicyViolation> {
        self.store
            .release_private_reply(page_id, comment_id)
            .await
            .map_err(|e| store_failure(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_780_000_000;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn standard_messages_need_the_24_hour_window() {
        let c = PolicyConfig::default();
        let now = at(T0);
        let cases = [
            (None, false),
            (Some(at(T0 - 60)), true),
            (Some(at(T0 - 24 * 3600)), true),
            (Some(at(T0 - 24 * 3600 - 1)), false),
            (Some(at(T0 + 5)), true), // skew: treated as just now
        ];
        for (last, ok) in cases {
            let r = check_message(&c, now, last, SendKind::Standard);
            assert_eq!(r.is_ok(), ok, "{last:?}");
            if let Err(e) = r {
                assert_eq!(e.rule(), PolicyRule::OutsideMessagingWindow);
            }
        }
    }

    #[test]
    fn tags_are_configuration() {
        let now = at(T0);
        let ha = MessageTag::human_agent();
        let ppu = MessageTag::new("post_purchase_update");
        let default = PolicyConfig::default();
        // Retired by default.
        let e = check_message(&default, now, None, SendKind::Tagged(&ppu)).unwrap_err();
        assert_eq!(e.rule(), PolicyRule::TagNotAllowed);
        assert!(e.detail().contains("HUMAN_AGENT"));
        // HUMAN_AGENT: 7 days after the person's message, not 8.
        assert!(
            check_message(
                &default,
                now,
                Some(at(T0 - 6 * 86_400)),
                SendKind::Tagged(&ha)
            )
            .is_ok()
        );
        let e = check_message(
            &default,
            now,
            Some(at(T0 - 8 * 86_400)),
            SendKind::Tagged(&ha),
        )
        .unwrap_err();
        assert_eq!(e.rule(), PolicyRule::OutsideMessagingWindow);
        // Configured back in: allowed outside any window.
        let old = PolicyConfig::pre_2026_tags();
        assert!(check_message(&old, now, None, SendKind::Tagged(&ppu)).is_ok());
        let none = PolicyConfig::default().allowed_tags(Vec::<String>::new());
        let e = check_message(&none, now, Some(now), SendKind::Tagged(&ha)).unwrap_err();
        assert!(e.detail().contains("none"));
    }

    #[test]
    fn private_replies_within_seven_days_once() {
        let c = PolicyConfig::default();
        let now = at(T0);
        assert!(check_private_reply(&c, now, at(T0 - 7 * 86_400), false).is_ok());
        let e = check_private_reply(&c, now, at(T0 - 7 * 86_400 - 1), false).unwrap_err();
        assert_eq!(e.rule(), PolicyRule::PrivateReplyTooLate);
        let e = check_private_reply(&c, now, at(T0), true).unwrap_err();
        assert_eq!(e.rule(), PolicyRule::PrivateReplyAlreadySent);
    }

    #[tokio::test]
    async fn the_store_reserves_once_and_keeps_the_latest_inbound() {
        let g = MessagingGuard::in_memory(PolicyConfig::default());
        g.record_inbound("p", "u", at(T0)).await.unwrap();
        g.record_inbound("p", "u", at(T0 - 100)).await.unwrap();
        assert_eq!(
            g.store().last_inbound("p", "u").await.unwrap(),
            Some(at(T0))
        );
        assert!(
            g.reserve_private_reply("p", "c", at(T0), at(T0))
                .await
                .is_ok()
        );
        let e = g
            .reserve_private_reply("p", "c", at(T0), at(T0))
            .await
            .unwrap_err();
        assert_eq!(e.rule(), PolicyRule::PrivateReplyAlreadySent);
        g.release_private_reply("p", "c").await.unwrap();
        assert!(!g.private_reply_taken("p", "c").await.unwrap());
        g.reserve_private_reply("p", "c", at(T0), at(T0))
            .await
            .unwrap();
        g.confirm_private_reply("p", "c").await.unwrap();
        // A confirmed reply is never released.
        g.release_private_reply("p", "c").await.unwrap();
        assert!(g.private_reply_taken("p", "c").await.unwrap());
    }
}
