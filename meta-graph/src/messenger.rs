//! Messenger Send API (`POST /{page_id}/messages`, facts guide §8.1): text, quick
//! replies, button and generic templates, `messaging_type` `RESPONSE` / `UPDATE` /
//! `MESSAGE_TAG`, sender actions, and private replies to comments through
//! `recipient.comment_id` (§8.2) — behind a messaging-policy guard ([`policy`]).
//!
//! Attach one shared [`MessagingGuard`] with [`Messenger::with_guard`]: a send that would
//! break policy (a second private reply, one older than 7 days, a message outside the
//! 24-hour window, a tag not allowed) is then refused with
//! [`Error::Policy`](crate::Error::Policy) **before any call**. Malformed messages (empty
//! text, 14 quick replies, 4 buttons, 11 elements) are refused with
//! [`Error::Invalid`](crate::Error::Invalid) with or without a guard.
//!
//! ```no_run
//! # async fn run(client: meta_core::Client) -> meta_graph::Result<()> {
//! use std::sync::Arc;
//! use meta_graph::GraphExt;
//! use meta_graph::messenger::{Message, QuickReply};
//! use meta_graph::messenger::policy::{MessagingGuard, PolicyConfig};
//!
//! let guard = Arc::new(MessagingGuard::in_memory(PolicyConfig::default()));
//! let messenger = client.messenger().with_guard(guard.clone());
//! // Webhooks feed the guard: the person wrote to the Page.
//! guard.record_inbound("PAGE_ID", "PSID", std::time::SystemTime::now()).await?;
//! messenger
//!     .send("PAGE_ID", "PSID", Message::text("Which size?")
//!         .quick_reply(QuickReply::text("S", "SIZE_S"))
//!         .quick_reply(QuickReply::text("M", "SIZE_M")))
//!     .send()
//!     .await?;
//! messenger
//!     .private_reply("PAGE_ID", "COMMENT_ID", Message::text("Thanks! Here is the link."))
//!     .send()
//!     .await?;
//! # Ok(()) }
//! ```

pub mod policy;

use std::sync::Arc;
use std::time::SystemTime;

use meta_core::{Client, GraphRequest};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::comments::check_id;
use crate::error::{Error, InvalidInput, Result};
use crate::generated::{MessagingType, SenderAction};
use policy::SendKind;
pub use policy::{MessageTag, MessagingGuard, PolicyConfig};

/// Longest message text (Messenger Send API: 2,000 characters [MEM]).
pub const MAX_TEXT_CHARS: usize = 2000;
/// Most quick replies on one message (Messenger docs: 13).
pub const MAX_QUICK_REPLIES: usize = 13;
/// Most buttons on a button template or a generic element (Messenger docs: 3).
pub const MAX_BUTTONS: usize = 3;
/// Most elements in a generic template (Messenger docs: 10).
pub const MAX_ELEMENTS: usize = 10;
/// Longest quick-reply and button title (Messenger docs: 20 characters).
pub const MAX_TITLE_CHARS: usize = 20;
/// Longest button-template text (Messenger docs: 640 characters).
pub const MAX_BUTTON_TEXT_CHARS: usize = 640;
/// Longest generic-element title and subtitle (Messenger docs: 80 characters).
pub const MAX_ELEMENT_TEXT_CHARS: usize = 80;
/// Longest postback or quick-reply payload (Messenger docs: 1,000 characters).
pub const MAX_PAYLOAD_CHARS: usize = 1000;

fn chars(s: &str) -> usize {
    s.chars().count()
}

fn check_len(field: &str, s: &str, max: usize) -> Result<(), InvalidInput> {
    let n = chars(s);
    if s.trim().is_empty() {
        Err(InvalidInput::new(field, "must not be empty"))
    } else if n > max {
        Err(InvalidInput::new(
            field,
            format!("is {n} characters; at most {max} are allowed"),
        ))
    } else {
        Ok(())
    }
}

/// A quick reply under a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuickReply(QuickReplyKind);

#[derive(Debug, Clone, PartialEq, Eq)]
enum QuickReplyKind {
    Text { title: String, payload: String },
    Email,
    Phone,
}

impl QuickReply {
    /// A text chip: `title` shown, `payload` sent back in the webhook.
    #[must_use]
    pub fn text(title: impl Into<String>, payload: impl Into<String>) -> Self {
        QuickReply(QuickReplyKind::Text {
            title: title.into(),
            payload: payload.into(),
        })
    }
    /// Offers the person's e-mail address.
    #[must_use]
    pub fn user_email() -> Self {
        QuickReply(QuickReplyKind::Email)
    }
    /// Offers the person's phone number.
    #[must_use]
    pub fn user_phone_number() -> Self {
        QuickReply(QuickReplyKind::Phone)
    }
    fn validate(&self) -> Result<(), InvalidInput> {
        if let QuickReplyKind::Text { title, payload } = &self.0 {
            check_len("quick_replies.title", title, MAX_TITLE_CHARS)?;
            check_len("quick_replies.payload", payload, MAX_PAYLOAD_CHARS)?;
        }
        Ok(())
    }
    fn to_json(&self) -> Value {
        match &self.0 {
            QuickReplyKind::Text { title, payload } => {
                json!({"content_type": "text", "title": title, "payload": payload})
            }
            QuickReplyKind::Email => json!({"content_type": "user_email"}),
            QuickReplyKind::Phone => json!({"content_type": "user_phone_number"}),
        }
    }
}

/// A button of a button template or generic element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button(ButtonKind);

#[derive(Debug, Clone, PartialEq, Eq)]
enum ButtonKind {
    Url { title: String, url: String },
    Postback { title: String, payload: String },
    Call { title: String, phone: String },
}

impl Button {
    /// Opens `url`.
    #[must_use]
    pub fn url(title: impl Into<String>, url: impl Into<String>) -> Self {
        Button(ButtonKind::Url {
            title: title.into(),
            url: url.into(),
        })
    }
    /// Sends `payload` back in a `messaging_postbacks` webhook.
    #[must_use]
    pub fn postback(title: impl Into<String>, payload: impl Into<String>) -> Self {
        Button(ButtonKind::Postback {
            title: title.into(),
            payload: payload.into(),
        })
    }
    /// Calls `phone` (`+` and digits).
    #[must_use]
    pub fn call(title: impl Into<String>, phone: impl Into<String>) -> Self {
        Button(ButtonKind::Call {
            title: title.into(),
            phone: phone.into(),
        })
    }
    fn validate(&self) -> Result<(), InvalidInput> {
        match &self.0 {
            ButtonKind::Url { title, url } => {
                check_len("button.title", title, MAX_TITLE_CHARS)?;
                check_url("button.url", url)
            }
            ButtonKind::Postback { title, payload } => {
                check_len("button.title", title, MAX_TITLE_CHARS)?;
                check_len("button.payload", payload, MAX_PAYLOAD_CHARS)
            }
            ButtonKind::Call { title, phone } => {
                check_len("button.title", title, MAX_TITLE_CHARS)?;
                let ok = phone
                    .strip_prefix('+')
                    .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
                if ok {
                    Ok(())
                } else {
                    Err(InvalidInput::new(
                        "button.phone",
                        "must be `+` followed by digits",
                    ))
                }
            }
        }
    }
    fn to_json(&self) -> Value {
        match &self.0 {
            ButtonKind::Url { title, url } => {
                json!({"type": "web_url", "title": title, "url": url})
            }
            ButtonKind::Postback { title, payload } => {
                json!({"type": "postback", "title": title, "payload": payload})
            }
            ButtonKind::Call { title, phone } => {
                json!({"type": "phone_number", "title": title, "payload": phone})
            }
        }
    }
}

fn check_url(field: &str, u: &str) -> Result<(), InvalidInput> {
    match url::Url::parse(u) {
        Ok(p) if matches!(p.scheme(), "http" | "https") => Ok(()),
        _ => Err(InvalidInput::new(
            field,
            format!("`{u}` is not an http(s) URL"),
        )),
    }
}

fn check_buttons(field: &str, buttons: &[Button], min: usize) -> Result<(), InvalidInput> {
    if buttons.len() < min || buttons.len() > MAX_BUTTONS {
        return Err(InvalidInput::new(
            field,
            format!(
                "has {} buttons; {min} to {MAX_BUTTONS} are allowed",
                buttons.len()
            ),
        ));
    }
    buttons.iter().try_for_each(Button::validate)
}

/// One card of a generic template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    title: String,
    subtitle: Option<String>,
    image_url: Option<String>,
    buttons: Vec<Button>,
}

impl Element {
    /// A card titled `title`.
    #[must_use]
    pub fn new(title: impl Into<String>) -> Self {
        Element {
            title: title.into(),
            subtitle: None,
            image_url: None,
            buttons: Vec::new(),
        }
    }
    /// The line under the title.
    #[must_use]
    pub fn subtitle(mut self, subtitle: impl Into<String>) -> Self {
        self.subtitle = Some(subtitle.into());
        self
    }
    /// The card's image.
    #[must_use]
    pub fn image_url(mut self, url: impl Into<String>) -> Self {
        self.image_url = Some(url.into());
        self
    }
    /// Adds a button (at most 3).
    #[must_use]
    pub fn button(mut self, button: Button) -> Self {
        self.buttons.push(button);
        self
    }
    fn validate(&self) -> Result<(), InvalidInput> {
        check_len("element.title", &self.title, MAX_ELEMENT_TEXT_CHARS)?;
        if let Some(s) = &self.subtitle {
            check_len("element.subtitle", s, MAX_ELEMENT_TEXT_CHARS)?;
        }
        if let Some(u) = &self.image_url {
            check_url("element.image_url", u)?;
        }
        check_buttons("element.buttons", &self.buttons, 0)
    }
    fn to_json(&self) -> Value {
        let mut v = json!({"title": self.title});
        if let Some(s) = &self.subtitle {
            v["subtitle"] = json!(s);
        }
        if let Some(u) = &self.image_url {
            v["image_url"] = json!(u);
        }
        if !self.buttons.is_empty() {
            v["buttons"] = Value::Array(self.buttons.iter().map(Button::to_json).collect());
        }
        v
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Body {
    Text(String),
    Buttons { text: String, buttons: Vec<Button> },
    Generic(Vec<Element>),
}

/// A message: text, a button template or a generic template, with optional quick
/// replies. Checked by [`Message::validate`] before any send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    body: Body,
    quick_replies: Vec<QuickReply>,
}

impl Message {
    /// A text message (1 to 2,000 characters).
    #[must_use]
    pub fn text(text: impl Into<String>) -> Self {
        Message {
            body: Body::Text(text.into()),
            quick_replies: Vec::new(),
        }
    }
    /// A button template: `text` (up to 640 characters) and 1 to 3 buttons.
    #[must_use]
    pub fn buttons(text: impl Into<String>, buttons: impl IntoIterator<Item = Button>) -> Self {
        Message {
            body: Body::Buttons {
                text: text.into(),
                buttons: buttons.into_iter().collect(),
            },
            quick_replies: Vec::new(),
        }
    }
    /// A generic template: 1 to 10 cards.
    #[must_use]
    pub fn generic(elements: impl IntoIterator<Item = Element>) -> Self {
        Message {
            body: Body::Generic(elements.into_iter().collect()),
            quick_replies: Vec::new(),
        }
    }
    /// Adds a quick reply (at most 13).
    #[must_use]
    pub fn quick_reply(mut self, reply: QuickReply) -> Self {
        self.quick_replies.push(reply);
        self
    }

    /// Checks Meta's limits.
    ///
    /// # Errors
    /// [`InvalidInput`] naming the first field out of bounds.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        match &self.body {
            Body::Text(t) => check_len("message.text", t, MAX_TEXT_CHARS)?,
            Body::Buttons { text, buttons } => {
                check_len("message.text", text, MAX_BUTTON_TEXT_CHARS)?;
                check_buttons("message.buttons", buttons, 1)?;
            }
            Body::Generic(elements) => {
                if elements.is_empty() || elements.len() > MAX_ELEMENTS {
                    return Err(InvalidInput::new(
                        "message.elements",
                        format!(
                            "has {} elements; 1 to {MAX_ELEMENTS} are allowed",
                            elements.len()
                        ),
                    ));
                }
                elements.iter().try_for_each(Element::validate)?;
            }
        }
        if self.quick_replies.len() > MAX_QUICK_REPLIES {
            return Err(InvalidInput::new(
                "message.quick_replies",
                format!(
                    "has {} quick replies; at most {MAX_QUICK_REPLIES} are allowed",
                    self.quick_replies.len()
                ),
            ));
        }
        self.quick_replies.iter().try_for_each(QuickReply::validate)
    }

    /// The `message` object as the Send API expects it.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut v = match &self.body {
            Body::Text(t) => json!({"text": t}),
            Body::Buttons { text, buttons } => {
                json!({"attachment": {"type": "template", "payload": {
                    "template_type": "button",
                    "text": text,
                    "buttons": buttons.iter().map(Button::to_json).collect::<Vec<_>>(),
                }}})
            }
            Body::Generic(elements) => json!({"attachment": {"type": "template", "payload": {
                "template_type": "generic",
                "elements": elements.iter().map(Element::to_json).collect::<Vec<_>>(),
            }}}),
        };
        if !self.quick_replies.is_empty() {
            v["quick_replies"] =
                Value::Array(self.quick_replies.iter().map(QuickReply::to_json).collect());
        }
        v
    }
}

/// What the Send API answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SendResponse {
    /// The PSID the message went to.
    #[serde(default)]
    pub recipient_id: Option<String>,
    /// The message id (absent for sender actions).
    #[serde(default)]
    pub message_id: Option<String>,
}

/// Messenger for Pages; get one with [`crate::GraphExt::messenger`]. Sends go to
/// `POST /{page_id}/messages` with the client's (Page) token.
#[derive(Debug, Clone)]
pub struct Messenger {
    client: Client,
    guard: Option<Arc<MessagingGuard>>,
}

impl Messenger {
    pub(crate) fn new(client: Client) -> Self {
        Messenger {
            client,
            guard: None,
        }
    }

    /// Checks every send against `guard` before any call. Share one guard between all
    /// handles of an app.
    #[must_use]
    pub fn with_guard(mut self, guard: Arc<MessagingGuard>) -> Self {
        self.guard = Some(guard);
        self
    }

    /// The guard, if any.
    #[must_use]
    pub fn guard(&self) -> Option<&Arc<MessagingGuard>> {
        self.guard.as_ref()
    }

    /// A message to a person (PSID). `RESPONSE` unless set otherwise on the builder.
    pub fn send(
        &self,
        page_id: impl Into<String>,
        psid: impl Into<String>,
        message: Message,
    ) -> SendMessage {
        SendMessage {
            messenger: self.clone(),
            page_id: page_id.into(),
            psid: psid.into(),
            message,
            messaging_type: MessagingType::Response,
            tag: None,
        }
    }

    /// A private reply to a comment on the Page's content (`recipient.comment_id`).
    pub fn private_reply(
        &self,
        page_id: impl Into<String>,
        comment_id: impl Into<String>,
        message: Message,
    ) -> PrivateReply {
        PrivateReply {
            messenger: self.clone(),
            page_id: page_id.into(),
            comment_id: comment_id.into(),
            message,
            comment_created: None,
        }
    }

    /// A sender action (`MARK_SEEN`, `TYPING_ON`, `TYPING_OFF`). With a guard, it needs
    /// the standard window like a `RESPONSE`.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a malformed id or an action other than those three;
    /// [`Error::Policy`] outside the window; [`Error::Meta`] when the call fails.
    pub async fn sender_action(
        &self,
        page_id: &str,
        psid: &str,
        action: SenderAction,
    ) -> Result<SendResponse> {
        check_id("page_id", page_id)?;
        check_id("psid", psid)?;
        if !matches!(
            action,
            SenderAction::MarkSeen | SenderAction::TypingOn | SenderAction::TypingOff
        ) {
            return Err(InvalidInput::new(
                "sender_action",
                format!(
                    "{} is not supported here (MARK_SEEN, TYPING_ON, TYPING_OFF)",
                    action.as_str()
                ),
            )
            .into());
        }
        if let Some(g) = &self.guard {
            g.check_message(page_id, psid, SendKind::Standard, self.now())
                .await?;
        }
        let req = GraphRequest::post(format!("{page_id}/messages"))
            .param("recipient", json!({"id": psid}))
            .param("sender_action", action.as_str());
        Ok(self.client.execute::<SendResponse>(req).await?.into_data())
    }

    fn now(&self) -> SystemTime {
        self.client.clock().now()
    }
}

/// A message to a person; see [`Messenger::send`].
#[derive(Debug, Clone)]
#[must_use = "call .send() to send the message"]
pub struct SendMessage {
    messenger: Messenger,
    page_id: String,
    psid: String,
    message: Message,
    messaging_type: MessagingType,
    tag: Option<MessageTag>,
}

impl SendMessage {
    /// `messaging_type=UPDATE`: a non-response update inside the window.
    pub fn update(mut self) -> Self {
        self.messaging_type = MessagingType::Update;
        self.tag = None;
        self
    }
    /// `messaging_type=MESSAGE_TAG` with `tag`.
    pub fn tag(mut self, tag: MessageTag) -> Self {
        self.messaging_type = MessagingType::MessageTag;
        self.tag = Some(tag);
        self
    }
    /// Sets `messaging_type` (`RESPONSE`, `UPDATE`; `MESSAGE_TAG` needs [`SendMessage::tag`]).
    pub fn messaging_type(mut self, messaging_type: MessagingType) -> Self {
        self.messaging_type = messaging_type;
        self
    }

    /// The request, after validation (no policy check).
    ///
    /// # Errors
    /// [`Error::Invalid`] for malformed ids, message or messaging type.
    pub fn request(&self) -> Result<GraphRequest> {
        check_id("page_id", &self.page_id)?;
        check_id("psid", &self.psid)?;
        self.message.validate()?;
        let mut req = GraphRequest::post(format!("{}/messages", self.page_id))
            .param("recipient", json!({"id": self.psid}))
            .param("messaging_type", self.messaging_type.as_str())
            .param("message", self.message.to_json());
        match (&self.messaging_type, &self.tag) {
            (MessagingType::MessageTag, Some(tag)) => req = req.param("tag", tag.as_str()),
            (MessagingType::MessageTag, None) => {
                return Err(InvalidInput::new("tag", "MESSAGE_TAG needs a tag").into());
            }
            (MessagingType::Response | MessagingType::Update, _) => {}
            (other, _) => {
                return Err(InvalidInput::new(
                    "messaging_type",
                    format!(
                        "{} is not supported by this SDK (RESPONSE, UPDATE, MESSAGE_TAG)",
                        other.as_str()
                    ),
                )
                .into());
            }
        }
        Ok(req)
    }

    /// Checks policy, then sends.
    ///
    /// # Errors
    /// [`Error::Invalid`] or [`Error::Policy`] before any call; [`Error::Meta`] when the
    /// call fails.
    pub async fn send(self) -> Result<SendResponse> {
        let req = self.request()?;
        let m = &self.messenger;
        if let Some(g) = &m.guard {
            let kind = match &self.tag {
                Some(t) => SendKind::Tagged(t),
                None => SendKind::Standard,
            };
            g.check_message(&self.page_id, &self.psid, kind, m.now())
                .await?;
        }
        Ok(m.client.execute::<SendResponse>(req).await?.into_data())
    }
}

#[derive(Deserialize)]
struct CreatedTime {
    #[serde(default)]
    created_time: Option<String>,
}

/// A private reply; see [`Messenger::private_reply`].
#[derive(Debug, Clone)]
#[must_use = "call .send() to send the private reply"]
pub struct PrivateReply {
    messenger: Messenger,
    page_id: String,
    comment_id: String,
    message: Message,
    comment_created: Option<SystemTime>,
}

impl PrivateReply {
    /// When the comment was created (from its webhook or a read). Without it, a guarded
    /// send reads `GET /{comment_id}?fields=created_time` (Facebook comments; pass it for
    /// Instagram comments, whose time field is `timestamp`).
    pub fn comment_created_at(mut self, at: SystemTime) -> Self {
        self.comment_created = Some(at);
        self
    }

    /// The request, after validation (no policy check).
    ///
    /// # Errors
    /// [`Error::Invalid`] for malformed ids or message.
    pub fn request(&self) -> Result<GraphRequest> {
        check_id("page_id", &self.page_id)?;
        check_id("comment_id", &self.comment_id)?;
        self.message.validate()?;
        // No messaging_type: Meta's private-reply example sends recipient and message only.
        Ok(GraphRequest::post(format!("{}/messages", self.page_id))
            .param("recipient", json!({"comment_id": self.comment_id}))
            .param("message", self.message.to_json()))
    }

    /// Checks policy (one reply per comment, within 7 days: reserved atomically), then
    /// sends. When Meta answers with an error the reservation is released; when the
    /// outcome is unknown (timeout, dropped connection) it is kept, so the comment is
    /// never replied to twice.
    ///
    /// # Errors
    /// [`Error::Invalid`] or [`Error::Policy`] before the send; [`Error::Meta`] when a
    /// call fails.
    pub async fn send(self) -> Result<SendResponse> {
        let req = self.request()?;
        let m = &self.messenger;
        let Some(g) = &m.guard else {
            return Ok(m.client.execute::<SendResponse>(req).await?.into_data());
        };
        // Cheap refusal first: a known reply needs no read of the comment.
        if g.private_reply_taken(&self.page_id, &self.comment_id)
            .await?
        {
            return Err(policy::already_sent().into());
        }
        let created = match self.comment_created {
            Some(t) => t,
            None => self.read_created_time().await?,
        };
        g.reserve_private_reply(&self.page_id, &self.comment_id, created, m.now())
            .await?;
        match m.client.execute::<SendResponse>(req).await {
            Ok(resp) => {
                g.confirm_private_reply(&self.page_id, &self.comment_id)
                    .await?;
                Ok(resp.into_data())
            }
            Err(e) => {
                // Meta answered: nothing was delivered, unless it says the comment was
                // already replied to (10900), in which case the slot stays taken.
                let answered = e.api().is_some_and(|a| a.code() != 10900);
                if answered {
                    g.release_private_reply(&self.page_id, &self.comment_id)
                        .await?;
                } else {
                    g.confirm_private_reply(&self.page_id, &self.comment_id)
                        .await?;
                }
                Err(Error::Meta(e))
            }
        }
    }

    async fn read_created_time(&self) -> Result<SystemTime> {
        let c: CreatedTime = self
            .messenger
            .client
            .get(&self.comment_id, [("fields", "created_time")])
            .await?;
        let raw = c.created_time.unwrap_or_default();
        parse_graph_time(&raw).ok_or_else(|| {
            InvalidInput::new(
                "comment_created_at",
                format!("could not read the comment's created_time (`{raw}`); pass it explicitly"),
            )
            .into()
        })
    }
}

/// Parses Graph's `2026-01-05T10:00:00+0000` (or a unix number) into a time.
#[must_use]
pub fn parse_graph_time(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u64>() {
        return Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(n));
    }
    let b = s.as_bytes();
    if b.len() < 19 || b.get(4) != Some(&b'-') || b.get(10) != Some(&b'T') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mi, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || hh > 23 || mi > 59 || ss > 60 {
        return None;
    }
    let tz = s
        .get(19..)?
        .trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match tz {
        "" | "Z" => 0,
        _ => {
            let sign = match tz.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = tz.get(1..)?.chars().filter(|c| *c != ':').collect();
            let h: i64 = digits.get(..2)?.parse().ok()?;
            let m: i64 = digits.get(2..4)?.parse().ok()?;
            sign * (h * 3600 + m * 60)
        }
    };
    // Days from civil (Howard Hinnant's algorithm).
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy.rem_euclid(400);
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mi * 60 + ss - offset;
    u64::try_from(secs)
        .ok()
        .map(|s| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn messages_serialise_as_the_send_api_expects() {
        let m = Message::buttons(
            "Pick one",
            [
                Button::postback("Buy", "BUY"),
                Button::url("See", "https://example.com/p"),
            ],
        )
        .quick_reply(QuickReply::text("Later", "LATER"));
        assert!(m.validate().is_ok());
        assert_eq!(
            m.to_json(),
            json!({"attachment": {"type": "template", "payload": {"template_type": "button", "text": "Pick one",
                "buttons": [{"type": "postback", "title": "Buy", "payload": "BUY"},
                            {"type": "web_url", "title": "See", "url": "https://example.com/p"}]}},
                   "quick_replies": [{"content_type": "text", "title": "Later", "payload": "LATER"}]})
        );
        let g = Message::generic([Element::new("Mug")
            .subtitle("12 €")
            .image_url("https://example.com/m.jpg")
            .button(Button::call("Call", "+351210000000"))]);
        assert!(g.validate().is_ok());
        assert_eq!(
            g.to_json()["attachment"]["payload"]["elements"][0]["buttons"][0]["type"],
            "phone_number"
        );
    }

    #[test]
    fn limits_are_enforced_before_any_call() {
        let field = |m: Message| m.validate().unwrap_err().field().to_owned();
        assert_eq!(field(Message::text("")), "message.text");
        assert_eq!(field(Message::text("x".repeat(2001))), "message.text");
        assert!(Message::text("é".repeat(2000)).validate().is_ok());
        let mut m = Message::text("hi");
        for i in 0..14 {
            m = m.quick_reply(QuickReply::text(format!("{i}"), "P"));
        }
        assert_eq!(field(m), "message.quick_replies");
        let four = (0..4).map(|i| Button::postback(format!("{i}"), "P"));
        assert_eq!(field(Message::buttons("t", four)), "message.buttons");
        assert_eq!(field(Message::buttons("t", [])), "message.buttons");
        let eleven = (0..11).map(|i| Element::new(format!("{i}")));
        assert_eq!(field(Message::generic(eleven)), "message.elements");
        assert_eq!(
            field(Message::text("a").quick_reply(QuickReply::text("x".repeat(21), "p"))),
            "quick_replies.title"
        );
        assert_eq!(
            field(Message::buttons("t", [Button::url("a", "ftp://x")])),
            "button.url"
        );
        assert_eq!(
            field(Message::buttons("t", [Button::call("a", "12")])),
            "button.phone"
        );
    }

    #[test]
    fn graph_times_parse() {
        let t = parse_graph_time("2026-01-01T00:00:00+0000").unwrap();
        assert_eq!(
            t,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600)
        );
        assert_eq!(parse_graph_time("2026-01-01T01:00:00+01:00"), Some(t));
        assert_eq!(parse_graph_time("1767225600"), Some(t));
        assert_eq!(parse_graph_time("yesterday"), None);
    }
}
