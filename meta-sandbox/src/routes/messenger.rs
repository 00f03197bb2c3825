//! Messenger Send API: `POST /{page}/messages` (and `/me/messages` with a Page token) for
//! text, quick replies, button and generic templates, sender actions and private
//! replies (`recipient.comment_id`), with Meta's policy errors:
//!
//! - a standard message (`RESPONSE`/`UPDATE`) or sender action more than 24 h after the
//!   person's last message → code 10, subcode 2018278, "(#10) This message is sent
//!   outside of allowed window." (facts guide §8.1 marks the subcode [MEM]);
//! - `HUMAN_AGENT` more than 7 days after it → the same error;
//! - a tag Meta no longer accepts → code 100. The sandbox accepts only `HUMAN_AGENT`,
//!   following the 2026-04-27 retirement reported in the facts guide §8.1 ([3P]);
//! - a second private reply to the same comment → code 10900, "(#10900) Activity
//!   already replied to" (the legacy private-replies error; [MEM]); one more than 7 days
//!   after the comment → the outside-window error;
//! - an unknown PSID → code 100, subcode 2018001 "No matching user found" ([3P]);
//! - malformed payloads → code 100.
//!
//! A private reply does not open the 24-hour window; only the person's own message does
//! (facts guide §8.2). Tests open it with `SandboxControl::simulate_inbound_message`.

use std::collections::HashMap;

use http::Method;
use serde_json::{Value, json};

use super::comments::{CommentNode, PRIVATE_REPLY_SECS, Platform};
use super::{Ctx, Outcome};
use crate::error::GraphError;
use crate::fixtures::short_id;
use crate::state::Object;
use crate::tokens::TokenKind;

/// The standard messaging window.
const WINDOW_SECS: u64 = 24 * 3600;
/// The `HUMAN_AGENT` window.
const HUMAN_AGENT_SECS: u64 = 7 * 86_400;
/// Tags the sandbox accepts (facts guide §8.1, 2026 retirement note).
const ACCEPTED_TAGS: &[&str] = &["HUMAN_AGENT"];
/// Tags Meta documented before the retirement; refused with a specific message.
const RETIRED_TAGS: &[&str] = &[
    "CONFIRMED_EVENT_UPDATE",
    "POST_PURCHASE_UPDATE",
    "ACCOUNT_UPDATE",
];
/// Text limit of a message ([MEM]: Messenger's documented 2,000 characters).
const MAX_TEXT: usize = 2000;
/// Quick replies per message (Messenger docs: up to 13).
const MAX_QUICK_REPLIES: usize = 13;
/// Buttons per button template or generic element (Messenger docs: 1-3).
const MAX_BUTTONS: usize = 3;
/// Elements per generic template (Messenger docs: up to 10).
const MAX_ELEMENTS: usize = 10;

/// One message (or sender action) the sandbox accepted, for test assertions.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SentMessage {
    /// The Page that sent it.
    pub page_id: String,
    /// The person it went to (the comment's author for private replies).
    pub recipient_id: String,
    /// The comment it privately replies to.
    pub comment_id: Option<String>,
    /// `RESPONSE`, `UPDATE`, `MESSAGE_TAG`, `UTILITY`, or `None` (private replies).
    pub messaging_type: Option<String>,
    /// The message tag.
    pub tag: Option<String>,
    /// The `message` object as sent.
    pub message: Option<Value>,
    /// The sender action (`MARK_SEEN`, `TYPING_ON`, `TYPING_OFF`, ...).
    pub sender_action: Option<String>,
    /// The `message_id` answered (`None` for sender actions).
    pub message_id: Option<String>,
    /// When it was accepted, sandbox clock (unix seconds).
    pub at: u64,
}

/// The Messenger area's state.
#[derive(Debug, Default)]
pub(crate) struct MessengerState {
    /// (page, PSID) → time of the person's last message to the Page.
    pub(crate) inbound: HashMap<(String, String), u64>,
    /// Comment id → message id of its private reply.
    pub(crate) private_replies: HashMap<String, String>,
    /// Everything accepted, in order.
    pub(crate) sent: Vec<SentMessage>,
    /// Message-id counter.
    pub(crate) next_mid: u64,
}

/// Routes `POST /{page}/messages`.
pub(crate) fn route(
    ctx: &mut Ctx<'_>,
    method: &Method,
    id: &str,
    obj: &Object,
    rest: &[&str],
) -> Option<Outcome> {
    match (obj, rest) {
        (Object::Page(_), ["messages"]) if *method == Method::POST => Some(send(ctx, id)),
        _ => None,
    }
}

fn bad(message: impl Into<String>) -> GraphError {
    GraphError::param(message)
}

fn outside_window() -> GraphError {
    GraphError::new(
        "OAuthException",
        10,
        "(#10) This message is sent outside of allowed window. Learn more about the new policy here: https://developers.facebook.com/docs/messenger-platform/policy-overview",
    )
    .subcode(2_018_278)
}

/// Parses a JSON-object parameter (form params carry nested values JSON-encoded).
fn object_param(
    ctx: &Ctx<'_>,
    name: &str,
) -> Result<Option<serde_json::Map<String, Value>>, GraphError> {
    match ctx.req.params.non_empty(name) {
        None => Ok(None),
        Some(raw) => match serde_json::from_str::<Value>(raw) {
            Ok(Value::Object(m)) => Ok(Some(m)),
            _ => Err(bad(format!("(#100) param {name} must be a JSON object"))),
        },
    }
}

fn str_len(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

fn check_buttons(buttons: Option<&Value>, what: &str, required: bool) -> Result<(), GraphError> {
    let list = match buttons {
        None if !required => return Ok(()),
        None => {
            return Err(bad(format!(
                "(#100) param {what}[buttons] must be non-empty."
            )));
        }
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(bad(format!(
                "(#100) param {what}[buttons] must be an array."
            )));
        }
    };
    if (required && list.is_empty()) || list.len() > MAX_BUTTONS {
        return Err(bad(format!(
            "(#100) param {what}[buttons] must have between 1 and {MAX_BUTTONS} buttons, got {}",
            list.len()
        )));
    }
    for b in list {
        let kind = b.get("type").and_then(Value::as_str).unwrap_or_default();
        let title_ok = b
            .get("title")
            .is_some_and(|t| (1..=20).contains(&str_len(t)));
        let ok = match kind {
            "web_url" => {
                title_ok
                    && b.get("url")
                        .and_then(Value::as_str)
                        .is_some_and(|u| url::Url::parse(u).is_ok())
            }
            "postback" => {
                title_ok
                    && b.get("payload")
                        .is_some_and(|p| (1..=1000).contains(&str_len(p)))
            }
            "phone_number" => {
                title_ok
                    && b.get("payload")
                        .and_then(Value::as_str)
                        .is_some_and(|p| p.starts_with('+'))
            }
            _ => false,
        };
        if !ok {
            return Err(bad(format!(
                "(#100) Invalid button in {what}: type must be web_url (title, url), postback (title, payload) or phone_number, with a title of 1-20 characters"
            )));
        }
    }
    Ok(())
}

/// Validates a `message` object as the Send API does.
fn check_message(message: &serde_json::Map<String, Value>) -> Result<(), GraphError> {
    let text = message.get("text");
    let attachment = message.get("attachment");
    match (text, attachment) {
        (Some(_), Some(_)) => {
            return Err(bad(
                "(#100) Only one of text or attachment may be set in message",
            ));
        }
        (None, None) => {
            return Err(bad(
                "(#100) Message cannot be empty, must provide valid attachment or text",
            ));
        }
        (Some(t), None) => {
            let n = str_len(t);
            if !t.is_string() || n == 0 {
                return Err(bad(
                    "(#100) param message[text] must be a non-empty UTF-8 encoded string",
                ));
            }
            if n > MAX_TEXT {
                return Err(bad(format!(
                    "(#100) Length of param message[text] must be less than or equal to {MAX_TEXT}"
                )));
            }
        }
        (None, Some(a)) => {
            let kind = a.get("type").and_then(Value::as_str).unwrap_or_default();
            let payload = a.get("payload");
            match kind {
                "template" => {
                    let template = payload
                        .and_then(|p| p.get("template_type"))
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let payload = payload.cloned().unwrap_or(Value::Null);
                    match template {
                        "button" => {
                            let n = str_len(&payload["text"]);
                            if n == 0 || n > 640 {
                                return Err(bad(
                                    "(#100) param message[attachment][payload][text] must be 1-640 characters",
                                ));
                            }
                            check_buttons(payload.get("buttons"), "button template", true)?;
                        }
                        "generic" => {
                            let Some(elements) = payload.get("elements").and_then(Value::as_array)
                            else {
                                return Err(bad(
                                    "(#100) param message[attachment][payload][elements] must be non-empty.",
                                ));
                            };
                            if elements.is_empty() || elements.len() > MAX_ELEMENTS {
                                return Err(bad(format!(
                                    "(#100) param message[attachment][payload][elements] must have between 1 and {MAX_ELEMENTS} elements, got {}",
                                    elements.len()
                                )));
                            }
                            for e in elements {
                                let t = str_len(&e["title"]);
                                if t == 0 || t > 80 {
                                    return Err(bad(
                                        "(#100) Each generic template element needs a title of 1-80 characters",
                                    ));
                                }
                                check_buttons(e.get("buttons"), "generic template element", false)?;
                            }
                        }
                        other => {
                            return Err(bad(format!(
                                "(#100) Unsupported template_type \"{other}\" (this sandbox models button and generic)"
                            )));
                        }
                    }
                }
                "image" | "audio" | "video" | "file" => {
                    let url = payload.and_then(|p| p.get("url")).and_then(Value::as_str);
                    let reusable = payload.and_then(|p| p.get("attachment_id")).is_some();
                    if !reusable && url.is_none_or(|u| url::Url::parse(u).is_err()) {
                        return Err(bad(
                            "(#100) param message[attachment][payload][url] must be a valid URL",
                        ));
                    }
                }
                _ => {
                    return Err(bad(
                        "(#100) param message[attachment][type] must be one of {image, audio, video, file, template}",
                    ));
                }
            }
        }
    }
    if let Some(q) = message.get("quick_replies") {
        let Some(list) = q.as_array() else {
            return Err(bad("(#100) param message[quick_replies] must be an array"));
        };
        if list.is_empty() || list.len() > MAX_QUICK_REPLIES {
            return Err(bad(format!(
                "(#100) param message[quick_replies] must have between 1 and {MAX_QUICK_REPLIES} items, got {}",
                list.len()
            )));
        }
        for r in list {
            let kind = r
                .get("content_type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let ok = match kind {
                "text" => {
                    (1..=20).contains(&str_len(&r["title"]))
                        && (1..=1000).contains(&str_len(&r["payload"]))
                }
                "user_phone_number" | "user_email" => true,
                _ => false,
            };
            if !ok {
                return Err(bad(
                    "(#100) Each quick reply needs content_type text with a title (1-20 characters) and a payload (1-1000), or user_phone_number / user_email",
                ));
            }
        }
    }
    Ok(())
}

/// `POST /{page}/messages`.
fn send(ctx: &mut Ctx<'_>, page_id: &str) -> Outcome {
    if !(ctx.token.kind == TokenKind::Page && ctx.token.page_id.as_deref() == Some(page_id)) {
        // [MEM] the error Meta gives a token without pages_messaging for this Page.
        return Err(GraphError::new(
            "OAuthException",
            230,
            "(#230) Requires pages_messaging permission to manage the object",
        )
        .status(403));
    }
    let Some(recipient) = object_param(ctx, "recipient")? else {
        return Err(bad("(#100) param recipient must be non-empty."));
    };
    let message = object_param(ctx, "message")?;
    let sender_action = ctx.req.params.non_empty("sender_action").map(str::to_owned);
    let messaging_type = ctx
        .req
        .params
        .non_empty("messaging_type")
        .map(str::to_owned);
    let tag = ctx.req.params.non_empty("tag").map(str::to_owned);
    match (&message, &sender_action) {
        (Some(_), Some(_)) => {
            return Err(bad(
                "(#100) Only one of message or sender_action may be specified",
            ));
        }
        (None, None) => return Err(bad("(#100) Must send either message or sender_action")),
        _ => {}
    }
    if let Some(m) = &message {
        check_message(m)?;
    }
    if let Some(a) = &sender_action
        && !["MARK_SEEN", "TYPING_ON", "TYPING_OFF", "REACT", "UNREACT"]
            .contains(&a.to_ascii_uppercase().as_str())
    {
        return Err(bad(
            "(#100) param sender_action must be one of {MARK_SEEN, TYPING_ON, TYPING_OFF, REACT, UNREACT}",
        ));
    }
    if let Some(t) = &messaging_type
        && !["RESPONSE", "UPDATE", "MESSAGE_TAG", "UTILITY"].contains(&t.as_str())
    {
        return Err(bad(
            "(#100) param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG, UTILITY}",
        ));
    }
    let now = ctx.now;
    let recipient_keys: Vec<&str> = ["id", "comment_id", "post_id", "user_ref"]
        .into_iter()
        .filter(|k| recipient.get(*k).is_some())
        .collect();
    if recipient_keys.len() != 1 {
        return Err(bad(
            "(#100) param recipient must have exactly one of id, comment_id, post_id or user_ref",
        ));
    }
    let as_id = |v: &Value| match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let (recipient_id, comment_id) = if let Some(c) = recipient.get("comment_id") {
        let Some(comment_id) = as_id(c) else {
            return Err(bad(
                "(#100) param recipient[comment_id] must be a non-empty string",
            ));
        };
        if sender_action.is_some() {
            return Err(bad("(#100) sender_action cannot be sent to a comment"));
        }
        let comment = match ctx.st.objects.get(&comment_id) {
            Some(Object::Comment(c)) => c.clone(),
            _ => {
                return Err(bad(format!(
                    "(#100) Invalid comment_id: {comment_id} does not exist or cannot be replied to privately"
                ))
                .subcode(33));
            }
        };
        check_private_reply(ctx, page_id, &comment, now)?;
        (comment.from_id.clone(), Some(comment_id))
    } else if let Some(id) = recipient.get("id") {
        let Some(psid) = as_id(id) else {
            return Err(bad("(#100) param recipient[id] must be a non-empty string"));
        };
        let known = ctx.st.comments.people.contains_key(&psid)
            || ctx
                .st
                .messenger
                .inbound
                .contains_key(&(page_id.to_owned(), psid.clone()));
        if !known {
            return Err(bad("(#100) No matching user found").subcode(2_018_001));
        }
        if message.is_some() && messaging_type.is_none() {
            return Err(bad("(#100) param messaging_type is required"));
        }
        let last = ctx
            .st
            .messenger
            .inbound
            .get(&(page_id.to_owned(), psid.clone()))
            .copied();
        let since = last.map(|t| now.saturating_sub(t));
        match messaging_type.as_deref() {
            Some("MESSAGE_TAG") => {
                let Some(t) = &tag else {
                    return Err(bad(
                        "(#100) param tag is required when messaging_type is MESSAGE_TAG",
                    ));
                };
                if RETIRED_TAGS.contains(&t.as_str()) {
                    return Err(bad(format!(
                        "(#100) The message tag {t} has been deprecated. Use one of {{{}}}",
                        ACCEPTED_TAGS.join(", ")
                    )));
                }
                if !ACCEPTED_TAGS.contains(&t.as_str()) {
                    return Err(bad(format!(
                        "(#100) param tag must be one of {{{}}}",
                        ACCEPTED_TAGS.join(", ")
                    )));
                }
                if t == "HUMAN_AGENT" && since.is_none_or(|s| s > HUMAN_AGENT_SECS) {
                    return Err(outside_window());
                }
            }
            _ => {
                if since.is_none_or(|s| s > WINDOW_SECS) {
                    return Err(outside_window());
                }
            }
        }
        (psid, None)
    } else {
        // Visitor posts and user_ref (checkbox plugin) recipients are not modelled.
        return Err(bad(
            "(#100) This sandbox models recipient.id and recipient.comment_id only",
        ));
    };
    let message_id = message.as_ref().map(|_| {
        ctx.st.messenger.next_mid += 1;
        format!(
            "m_{}{:06}",
            short_id(&mut ctx.st.trace_rng, 20),
            ctx.st.messenger.next_mid
        )
    });
    if let (Some(c), Some(mid)) = (&comment_id, &message_id) {
        ctx.st
            .messenger
            .private_replies
            .insert(c.clone(), mid.clone());
    }
    ctx.st.messenger.sent.push(SentMessage {
        page_id: page_id.to_owned(),
        recipient_id: recipient_id.clone(),
        comment_id,
        messaging_type,
        tag,
        message: message.map(Value::Object),
        sender_action: sender_action.map(|a| a.to_ascii_uppercase()),
        message_id: message_id.clone(),
        at: now,
    });
    ctx.applied = true;
    Ok(match message_id {
        Some(mid) => json!({"recipient_id": recipient_id, "message_id": mid}),
        None => json!({"recipient_id": recipient_id}),
    })
}

/// One private reply per comment, within 7 days, never to the Page's own comments and
/// only on this Page's content.
fn check_private_reply(
    ctx: &Ctx<'_>,
    page_id: &str,
    c: &CommentNode,
    now: u64,
) -> Result<(), GraphError> {
    let owner_page = match c.platform {
        Platform::Facebook => c.owner_id.clone(),
        Platform::Instagram => ctx
            .st
            .objects
            .values()
            .find_map(|o| match o {
                Object::Page(p) if p.ig_user_id.as_deref() == Some(c.owner_id.as_str()) => {
                    Some(p.id.clone())
                }
                _ => None,
            })
            .unwrap_or_default(),
    };
    if owner_page != page_id {
        return Err(bad(format!(
            "(#100) Invalid comment_id: {} is not on this Page's content",
            c.id
        )));
    }
    if c.from_id == c.owner_id {
        return Err(bad(
            "(#100) Cannot send a private reply to a Page's own comment",
        ));
    }
    if ctx.st.messenger.private_replies.contains_key(&c.id) {
        return Err(GraphError::new(
            "OAuthException",
            10900,
            "(#10900) Activity already replied to",
        ));
    }
    if now.saturating_sub(c.created_time) > PRIVATE_REPLY_SECS {
        return Err(outside_window());
    }
    Ok(())
}

mod control {
    use super::SentMessage;
    use crate::server::SandboxControl;

    impl SandboxControl {
        /// Simulates a person writing to a Page now (sandbox clock): opens the 24-hour
        /// window for `psid`. Returns the inbound message id.
        pub fn simulate_inbound_message(&self, page_id: &str, psid: &str, text: &str) -> String {
            let shared = self.shared();
            let mut st = shared.lock();
            let now = st.now();
            st.messenger
                .inbound
                .insert((page_id.to_owned(), psid.to_owned()), now);
            st.comments
                .people
                .entry(psid.to_owned())
                .or_insert_with(|| "Messenger User".to_owned());
            st.messenger.next_mid += 1;
            let mid = format!("m_in{:08}", st.messenger.next_mid);
            tracing::debug!(page_id, psid, len = text.len(), "simulated inbound message");
            mid
        }

        /// Every message and sender action the Send API accepted, in order.
        pub fn sent_messages(&self) -> Vec<SentMessage> {
            self.shared().lock().messenger.sent.clone()
        }
    }
}
