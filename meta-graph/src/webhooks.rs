//! Typed webhook events: the body Meta POSTs to your callback, after
//! [`meta_core::webhook::Verifier`] has checked its signature.
//!
//! ```
//! use meta_graph::webhooks::{self, Change};
//!
//! let body = br#"{"object":"page","entry":[{"id":"448242228374517","time":1742667607,
//!   "changes":[{"field":"feed","value":{"item":"comment","verb":"add",
//!   "post_id":"448242228374517_122131676912594941",
//!   "comment_id":"122131676912594941_1213590066982748",
//!   "parent_id":"448242228374517_122131676912594941",
//!   "from":{"id":"7101","name":"Ana"},"message":"quiero 2 de la polera roja M",
//!   "created_time":1742667604}}]}]}"#;
//! let event = webhooks::parse(body)?;
//! for change in event.changes() {
//!     if let Change::FeedComment(c) = change {
//!         assert_eq!(c.message.as_deref(), Some("quiero 2 de la polera roja M"));
//!         assert_eq!(c.created_time.map(|t| t.unix_seconds()), Some(1742667604));
//!     }
//! }
//! # Ok::<(), meta_graph::webhooks::ParseError>(())
//! ```
//!
//! # The envelope
//!
//! `{"object": "page" | "instagram" | ..., "entry": [...]}`. Each entry holds
//! `changes[]` (Graph objects: feed, live videos, Instagram comments, leadgen) **or**
//! `messaging[]` (Messenger and Instagram messaging); both levels are read (facts guide
//! §7.3). Meta batches up to 1,000 updates per delivery.
//!
//! # Leniency
//!
//! Only a body that is not a webhook envelope fails ([`ParseError`]): not JSON, not an
//! object, no `object`, an `entry` that is not an array of objects. Inside, one change
//! never fails the batch: a field this crate does not model becomes
//! [`Change::Unknown`], and a modelled field whose value has an unexpected shape becomes
//! [`Change::Invalid`] with the reason, both keeping the raw value.
//!
//! # Ids and times
//!
//! Ids arrive as JSON strings or numbers (leadgen sends numbers) and are read into
//! [`meta_core::ids`] newtypes, which accept both. Times arrive in seconds (feed,
//! leadgen, entry `time` of Graph changes) or milliseconds (Messenger `timestamp` and
//! entry `time`); [`Timestamp`] tells them apart by size (see [`Timestamp::from_wire`]).
//!
//! # Duplicates
//!
//! Meta retries failed deliveries for up to 36 hours and some comments (on ads) arrive
//! twice, so handlers must be idempotent. [`Change::dedup_key`] and
//! [`MessagingEvent::dedup_key`] give a stable key per update.

use std::fmt;

use meta_core::ids::{AdId, CommentId, IgMediaId, LiveVideoId, PageId, PostId, UserId};
use meta_core::webhook::{Verifier, WebhookError};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

// ---------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------

/// Why a webhook body was refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The signature check failed (only from [`verify_and_parse`]); nothing was parsed.
    #[error("webhook signature rejected: {0}")]
    Signature(#[from] WebhookError),
    /// The body is not JSON.
    #[error("webhook body is not valid JSON: {0}")]
    Json(String),
    /// The body is JSON but not a Meta webhook envelope.
    #[error("webhook body is not a Meta webhook envelope: {0}")]
    Envelope(String),
}

impl ParseError {
    /// True when the signature was the problem (answer 401/403, not 400).
    #[must_use]
    pub fn is_signature(&self) -> bool {
        matches!(self, ParseError::Signature(_))
    }
}

// ---------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------

/// Parses a raw webhook body (call it after the signature was verified, or use
/// [`verify_and_parse`]).
///
/// # Errors
/// [`ParseError::Json`] when the body is not JSON, [`ParseError::Envelope`] when it is
/// not `{"object": .., "entry": [{..}, ..]}`. Unknown or malformed *changes* never fail
/// the call; see the module docs.
pub fn parse(raw: &[u8]) -> Result<WebhookEvent, ParseError> {
    let value: Value = serde_json::from_slice(raw).map_err(|e| ParseError::Json(e.to_string()))?;
    WebhookEvent::from_value(&value)
}

/// Verifies `X-Hub-Signature-256` over the **raw** bytes, then parses them.
///
/// # Errors
/// [`ParseError::Signature`] when the signature does not match (nothing is parsed),
/// otherwise as [`parse`].
pub fn verify_and_parse(
    verifier: &Verifier,
    raw: &[u8],
    signature_header: &str,
) -> Result<WebhookEvent, ParseError> {
    verifier.verify(raw, signature_header)?;
    parse(raw)
}

// ---------------------------------------------------------------------------------
// Timestamp
// ---------------------------------------------------------------------------------

/// A point in time from a webhook, stored as unix milliseconds.
///
/// Meta sends seconds in some products and milliseconds in others (facts guide §7.4,
/// §11.6). [`Timestamp::from_wire`] decides by magnitude: values above
/// [`Timestamp::MILLIS_THRESHOLD`] (10¹¹) are milliseconds. 10¹¹ seconds is the year
/// 5138 and 10¹¹ milliseconds is March 1973, so no real webhook time is ambiguous.
///
/// Serialises as an integer of unix **milliseconds**, which [`from_wire`](Self::from_wire)
/// reads back unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    millis: i64,
}

impl Timestamp {
    /// Wire values whose magnitude is above this are milliseconds, below are seconds.
    pub const MILLIS_THRESHOLD: i64 = 100_000_000_000;

    /// A wire number, seconds or milliseconds (see the type docs).
    #[must_use]
    pub fn from_wire(value: i64) -> Self {
        if value.unsigned_abs() > Self::MILLIS_THRESHOLD.unsigned_abs() {
            Timestamp { millis: value }
        } else {
            Timestamp {
                millis: value.saturating_mul(1000),
            }
        }
    }
    /// From unix seconds.
    #[must_use]
    pub fn from_unix_seconds(secs: i64) -> Self {
        Timestamp {
            millis: secs.saturating_mul(1000),
        }
    }
    /// From unix milliseconds.
    #[must_use]
    pub fn from_unix_millis(millis: i64) -> Self {
        Timestamp { millis }
    }
    /// Unix milliseconds.
    #[must_use]
    pub fn unix_millis(self) -> i64 {
        self.millis
    }
    /// Unix seconds (rounded down).
    #[must_use]
    pub fn unix_seconds(self) -> i64 {
        self.millis.div_euclid(1000)
    }

    /// Parses Graph's ISO form `2025-03-22T18:20:04+0000` (also `Z`, `+00:00`, other
    /// offsets), or a string of digits read like [`from_wire`](Self::from_wire).
    #[must_use]
    pub fn parse_str(s: &str) -> Option<Self> {
        let s = s.trim();
        if let Ok(n) = s.parse::<i64>() {
            return Some(Self::from_wire(n));
        }
        parse_iso(s).map(Self::from_unix_seconds)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.millis)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a unix time in seconds or milliseconds, or an ISO-8601 string")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
                Ok(Timestamp::from_wire(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
                i64::try_from(v)
                    .map(Timestamp::from_wire)
                    .map_err(|_| E::custom("time out of range"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Timestamp, E> {
                // Some products send fractional seconds; keep the millisecond part.
                if !v.is_finite() || v.abs() > 9.0e15 {
                    return Err(E::custom("time out of range"));
                }
                #[allow(clippy::cast_possible_truncation)]
                let whole = v.trunc() as i64;
                if whole.unsigned_abs() > Timestamp::MILLIS_THRESHOLD.unsigned_abs() {
                    Ok(Timestamp::from_unix_millis(whole))
                } else {
                    #[allow(clippy::cast_possible_truncation)]
                    let ms = (v * 1000.0).trunc() as i64;
                    Ok(Timestamp::from_unix_millis(ms))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                Timestamp::parse_str(v).ok_or_else(|| E::custom(format!("not a time: {v:?}")))
            }
        }
        d.deserialize_any(V)
    }
}

/// Days since 1970-01-01 for a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DDTHH:MM:SS[.fff](Z|+HHMM|+HH:MM)` → unix seconds.
fn parse_iso(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19
        || b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || b.get(13) != Some(&b':')
    {
        return None;
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = s.get(19..)?;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        rest = frac.get(digits..)?;
    }
    let offset = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            let digits: String = rest.get(1..)?.chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let oh: i64 = digits.get(0..2)?.parse().ok()?;
            let om: i64 = digits.get(2..4)?.parse().ok()?;
            sign * (oh * 3600 + om * 60)
        }
    };
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset)
}

// ---------------------------------------------------------------------------------
// Envelope
// ---------------------------------------------------------------------------------

/// What the subscription is about: the envelope's `object`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WebhookObject {
    /// `page`: Page feed, live videos, leadgen, Messenger.
    Page,
    /// `instagram`: Instagram comments, mentions and messaging.
    Instagram,
    /// `user`.
    User,
    /// `permissions`.
    Permissions,
    /// `application`.
    Application,
    /// `whatsapp_business_account`.
    WhatsappBusinessAccount,
    /// Anything else, verbatim.
    Other(String),
}

impl WebhookObject {
    /// The wire name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            WebhookObject::Page => "page",
            WebhookObject::Instagram => "instagram",
            WebhookObject::User => "user",
            WebhookObject::Permissions => "permissions",
            WebhookObject::Application => "application",
            WebhookObject::WhatsappBusinessAccount => "whatsapp_business_account",
            WebhookObject::Other(s) => s,
        }
    }
    fn from_wire(s: &str) -> Self {
        match s {
            "page" => WebhookObject::Page,
            "instagram" => WebhookObject::Instagram,
            "user" => WebhookObject::User,
            "permissions" => WebhookObject::Permissions,
            "application" => WebhookObject::Application,
            "whatsapp_business_account" => WebhookObject::WhatsappBusinessAccount,
            other => WebhookObject::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for WebhookObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for WebhookObject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One webhook delivery.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct WebhookEvent {
    /// The envelope's `object`.
    pub object: WebhookObject,
    /// The `entry[]` array, in order.
    pub entries: Vec<Entry>,
}

/// One `entry[]` item: one object (Page, Instagram account, user) and its updates.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Entry {
    /// The object the updates are about (Page id, Instagram account id, user id), as
    /// text; absent in some products.
    pub id: Option<String>,
    /// When Meta **sent** the notification (not when the change happened).
    pub time: Option<Timestamp>,
    /// `changes[]`: Graph object updates.
    pub changes: Vec<Change>,
    /// `messaging[]`: Messenger / Instagram messaging events.
    pub messaging: Vec<MessagingEvent>,
}

impl WebhookEvent {
    /// Builds the typed event from an already-parsed JSON value.
    ///
    /// # Errors
    /// [`ParseError::Envelope`] when `value` is not a webhook envelope.
    pub fn from_value(value: &Value) -> Result<Self, ParseError> {
        let Value::Object(map) = value else {
            return Err(ParseError::Envelope("the body is not a JSON object".into()));
        };
        let object = match map.get("object") {
            Some(Value::String(s)) => WebhookObject::from_wire(s),
            Some(_) => return Err(ParseError::Envelope("`object` is not a string".into())),
            None => return Err(ParseError::Envelope("missing `object`".into())),
        };
        let raw_entries = match map.get("entry") {
            Some(Value::Array(a)) => a.as_slice(),
            // Meta always sends `entry`; an explicit null reads as "no entries".
            Some(Value::Null) => &[],
            Some(_) => return Err(ParseError::Envelope("`entry` is not an array".into())),
            None => return Err(ParseError::Envelope("missing `entry`".into())),
        };
        let mut entries = Vec::with_capacity(raw_entries.len());
        for (i, e) in raw_entries.iter().enumerate() {
            let Value::Object(e) = e else {
                return Err(ParseError::Envelope(format!("entry[{i}] is not an object")));
            };
            entries.push(Entry::from_map(e, i)?);
        }
        Ok(WebhookEvent { object, entries })
    }

    /// Every change of every entry, in order.
    pub fn changes(&self) -> impl Iterator<Item = &Change> {
        self.entries.iter().flat_map(|e| e.changes.iter())
    }

    /// Every messaging event of every entry, in order.
    pub fn messaging(&self) -> impl Iterator<Item = &MessagingEvent> {
        self.entries.iter().flat_map(|e| e.messaging.iter())
    }

    /// How many updates (changes plus messaging events) the delivery carries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries
            .iter()
            .map(|e| e.changes.len() + e.messaging.len())
            .sum()
    }

    /// True when the delivery carries no update.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Entry {
    fn from_map(map: &Map<String, Value>, index: usize) -> Result<Self, ParseError> {
        let id = map.get("id").and_then(text_of);
        let time = map.get("time").and_then(|v| Timestamp::deserialize(v).ok());
        let changes = match map.get("changes") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a.iter().map(Change::from_value).collect(),
            Some(_) => {
                return Err(ParseError::Envelope(format!(
                    "entry[{index}].changes is not an array"
                )));
            }
        };
        let messaging = match map.get("messaging") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a.iter().map(MessagingEvent::from_value).collect(),
            Some(_) => {
                return Err(ParseError::Envelope(format!(
                    "entry[{index}].messaging is not an array"
                )));
            }
        };
        Ok(Entry {
            id,
            time,
            changes,
            messaging,
        })
    }
}

/// A string, or a number rendered as text (ids arrive both ways).
fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Deserialises an optional string that may arrive as a JSON number.
fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => text_of(&v)
            .map(Some)
            .ok_or_else(|| de::Error::custom("expected a string or a number")),
    }
}

/// Deserialises a required string that may arrive as a JSON number.
fn req_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    opt_text(d)?.ok_or_else(|| de::Error::custom("expected a string or a number"))
}

// ---------------------------------------------------------------------------------
// changes[]
// ---------------------------------------------------------------------------------

/// One `changes[]` item, typed by its `field`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Change {
    /// `field: feed`, `item: comment`: a comment added, edited, removed, hidden or
    /// unhidden on a Page post, including comments on live videos (which arrive the
    /// same way, on the live video's post).
    FeedComment(FeedComment),
    /// Any other `feed` item (post, status, photo, video, share, reaction, like...).
    Feed(FeedItem),
    /// `field: live_videos`: a live video changed status.
    LiveVideo(LiveVideoStatus),
    /// `field: comments` on an Instagram account.
    InstagramComment(InstagramComment),
    /// `field: live_comments`: a comment on an Instagram live broadcast.
    InstagramLiveComment(InstagramComment),
    /// `field: mentions`: the account was @-mentioned in a comment or caption.
    InstagramMention(InstagramMention),
    /// `field: leadgen`: a lead ad form was submitted (no PII; fetch the lead).
    Leadgen(Leadgen),
    /// A field this crate does not model; the value is kept verbatim.
    Unknown {
        /// The `field` name (empty when absent).
        field: String,
        /// The raw `value`.
        value: Value,
    },
    /// A modelled field whose value did not have the documented shape.
    Invalid {
        /// The `field` name.
        field: String,
        /// The raw `value`.
        value: Value,
        /// What was wrong.
        reason: String,
    },
}

impl Change {
    /// Types one `changes[]` item. Never fails: see [`Change::Unknown`] and
    /// [`Change::Invalid`].
    #[must_use]
    pub fn from_value(change: &Value) -> Self {
        let field = change
            .get("field")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        // Decoded by reference: the raw value is cloned only for unknown or invalid
        // changes, which keeps large batches cheap.
        let value = change.get("value").unwrap_or(&Value::Null);
        let typed = match field.as_str() {
            "feed" => {
                if value.get("item").and_then(Value::as_str) == Some("comment") {
                    decode(value).map(Change::FeedComment)
                } else {
                    decode(value).map(Change::Feed)
                }
            }
            "live_videos" => decode(value).map(Change::LiveVideo),
            "comments" => InstagramComment::decode(value).map(Change::InstagramComment),
            "live_comments" => InstagramComment::decode(value).map(Change::InstagramLiveComment),
            "mentions" => decode(value).map(Change::InstagramMention),
            "leadgen" => decode(value).map(Change::Leadgen),
            _ => {
                return Change::Unknown {
                    field,
                    value: value.clone(),
                };
            }
        };
        typed.unwrap_or_else(|reason| Change::Invalid {
            field,
            value: value.clone(),
            reason,
        })
    }

    /// The `field` this change came from.
    #[must_use]
    pub fn field(&self) -> &str {
        match self {
            Change::FeedComment(_) | Change::Feed(_) => "feed",
            Change::LiveVideo(_) => "live_videos",
            Change::InstagramComment(_) => "comments",
            Change::InstagramLiveComment(_) => "live_comments",
            Change::InstagramMention(_) => "mentions",
            Change::Leadgen(_) => "leadgen",
            Change::Unknown { field, .. } | Change::Invalid { field, .. } => field,
        }
    }

    /// A key identifying this update across redeliveries (`None` for unknown or
    /// invalid changes): the same comment edited twice gives two keys; the same
    /// delivery retried gives the same key.
    #[must_use]
    pub fn dedup_key(&self) -> Option<String> {
        match self {
            Change::FeedComment(c) => Some(format!(
                "feed:{}:{}:{}",
                c.comment_id,
                c.verb.as_str(),
                c.created_time.map_or(0, Timestamp::unix_millis)
            )),
            Change::Feed(f) => Some(format!(
                "feed:{}:{}:{}:{}",
                f.item,
                f.verb.as_deref().unwrap_or_default(),
                f.post_id.as_deref().unwrap_or_default(),
                f.created_time.map_or(0, Timestamp::unix_millis)
            )),
            Change::LiveVideo(l) => Some(format!("live_videos:{}:{}", l.id, l.status.as_str())),
            Change::InstagramComment(c) => Some(format!("comments:{}", c.comment_id)),
            Change::InstagramLiveComment(c) => Some(format!("live_comments:{}", c.comment_id)),
            Change::InstagramMention(m) => Some(format!(
                "mentions:{}:{}",
                m.media_id,
                m.comment_id.as_ref().map_or("", CommentId::as_str)
            )),
            Change::Leadgen(l) => Some(format!("leadgen:{}", l.leadgen_id)),
            Change::Unknown { .. } | Change::Invalid { .. } => None,
        }
    }
}

/// Decodes a value into `T`, turning serde's error into the `Invalid` reason.
fn decode<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T, String> {
    T::deserialize(value).map_err(|e| e.to_string())
}

/// What happened to a comment (`verb`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CommentVerb {
    /// `add`.
    Add,
    /// `edited`.
    Edited,
    /// `remove`.
    Remove,
    /// `hide`.
    Hide,
    /// `unhide`.
    Unhide,
    /// Any other verb, verbatim.
    Unknown(String),
}

impl CommentVerb {
    /// The wire form.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            CommentVerb::Add => "add",
            CommentVerb::Edited => "edited",
            CommentVerb::Remove => "remove",
            CommentVerb::Hide => "hide",
            CommentVerb::Unhide => "unhide",
            CommentVerb::Unknown(s) => s,
        }
    }
}

impl Serialize for CommentVerb {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CommentVerb {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "add" => CommentVerb::Add,
            "edited" | "edit" => CommentVerb::Edited,
            "remove" => CommentVerb::Remove,
            "hide" => CommentVerb::Hide,
            "unhide" => CommentVerb::Unhide,
            _ => CommentVerb::Unknown(s),
        })
    }
}

/// Who wrote a Facebook comment or post. `from` may be missing for people who are not
/// app-scoped, and equals the Page for the Page's own comments (facts guide §7.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Author {
    /// The author's id (the Page's id when the Page itself wrote).
    pub id: UserId,
    /// Display name, when sent.
    #[serde(default)]
    pub name: Option<String>,
}

/// The post a feed change is about, as embedded in the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FeedPost {
    /// Post id `<page>_<post>`.
    pub id: PostId,
    /// e.g. `mobile_status_update`, `added_video`.
    #[serde(default)]
    pub status_type: Option<String>,
    /// Whether the post is published.
    #[serde(default)]
    pub is_published: Option<bool>,
    /// Graph's ISO time string, verbatim.
    #[serde(default)]
    pub updated_time: Option<String>,
    /// e.g. `inactive`.
    #[serde(default)]
    pub promotion_status: Option<String>,
    /// Permalink, when sent.
    #[serde(default)]
    pub permalink_url: Option<String>,
}

/// A comment event from the Page `feed` field (facts guide §7.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FeedComment {
    /// `add`, `edited`, `remove`, `hide`, `unhide`.
    pub verb: CommentVerb,
    /// The comment.
    pub comment_id: CommentId,
    /// The post (for a live video: the live video's post).
    pub post_id: PostId,
    /// The post for top-level comments, the parent comment for replies.
    #[serde(default, deserialize_with = "opt_text")]
    pub parent_id: Option<String>,
    /// The author, when Meta sends it.
    #[serde(default)]
    pub from: Option<Author>,
    /// The text (absent on `remove`).
    #[serde(default)]
    pub message: Option<String>,
    /// When the comment was made (a unix int in webhooks).
    #[serde(default)]
    pub created_time: Option<Timestamp>,
    /// The embedded post object, when sent.
    #[serde(default)]
    pub post: Option<FeedPost>,
    /// Attached photo URL, when the comment has one.
    #[serde(default)]
    pub photo: Option<String>,
}

impl FeedComment {
    /// True for a reply to another comment (the parent is not the post).
    #[must_use]
    pub fn is_reply(&self) -> bool {
        self.parent_id
            .as_deref()
            .is_some_and(|p| p != self.post_id.as_str())
    }
    /// True when `page` itself wrote the comment; skip these to avoid reply loops.
    #[must_use]
    pub fn is_from_page(&self, page: &PageId) -> bool {
        self.from
            .as_ref()
            .is_some_and(|f| f.id.as_str() == page.as_str())
    }
}

/// A non-comment `feed` change, kept generic: Meta's item list is long and changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FeedItem {
    /// `post`, `status`, `photo`, `video`, `share`, `reaction`, `like`, ...
    #[serde(default)]
    pub item: String,
    /// `add`, `edited`, `remove`, ...
    #[serde(default)]
    pub verb: Option<String>,
    /// The post, when sent.
    #[serde(default, deserialize_with = "opt_text")]
    pub post_id: Option<String>,
    /// The author, when sent.
    #[serde(default)]
    pub from: Option<Author>,
    /// When it happened.
    #[serde(default)]
    pub created_time: Option<Timestamp>,
    /// For `reaction`: `like`, `love`, ...
    #[serde(default)]
    pub reaction_type: Option<String>,
    /// The text, when sent.
    #[serde(default)]
    pub message: Option<String>,
}

/// A live video's status (`live_videos` field).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LiveStatus {
    /// `live`: broadcasting.
    Live,
    /// `live_stopped`: the broadcast ended.
    LiveStopped,
    /// `vod`: available as a recording.
    Vod,
    /// `scheduled_unpublished`.
    ScheduledUnpublished,
    /// `scheduled_live`.
    ScheduledLive,
    /// `scheduled_expired`.
    ScheduledExpired,
    /// `scheduled_canceled`.
    ScheduledCanceled,
    /// `unpublished`.
    Unpublished,
    /// Anything else, verbatim.
    Unknown(String),
}

impl LiveStatus {
    /// The wire form (upper-case variants from Graph reads are accepted on input).
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            LiveStatus::Live => "live",
            LiveStatus::LiveStopped => "live_stopped",
            LiveStatus::Vod => "vod",
            LiveStatus::ScheduledUnpublished => "scheduled_unpublished",
            LiveStatus::ScheduledLive => "scheduled_live",
            LiveStatus::ScheduledExpired => "scheduled_expired",
            LiveStatus::ScheduledCanceled => "scheduled_canceled",
            LiveStatus::Unpublished => "unpublished",
            LiveStatus::Unknown(s) => s,
        }
    }
}

impl Serialize for LiveStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for LiveStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.to_ascii_lowercase().as_str() {
            "live" => LiveStatus::Live,
            "live_stopped" => LiveStatus::LiveStopped,
            "vod" => LiveStatus::Vod,
            "scheduled_unpublished" => LiveStatus::ScheduledUnpublished,
            "scheduled_live" => LiveStatus::ScheduledLive,
            "scheduled_expired" => LiveStatus::ScheduledExpired,
            "scheduled_canceled" | "scheduled_cancelled" => LiveStatus::ScheduledCanceled,
            "unpublished" => LiveStatus::Unpublished,
            _ => LiveStatus::Unknown(s),
        })
    }
}

/// `{"id": "<live video id>", "status": "live" | "live_stopped" | "vod" | ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LiveVideoStatus {
    /// The live video.
    pub id: LiveVideoId,
    /// Its new status.
    pub status: LiveStatus,
}

/// Which login flavour an Instagram payload has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IgPayloadShape {
    /// Instagram API with Facebook Login: `comment_id`.
    FacebookLogin,
    /// Business Login for Instagram (`graph.instagram.com`): the comment id is `id`.
    InstagramLogin,
}

/// The commenter on Instagram.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IgAuthor {
    /// Instagram-scoped id (IGSID).
    pub id: UserId,
    /// Username, when sent.
    #[serde(default)]
    pub username: Option<String>,
}

/// The media an Instagram comment is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IgMediaRef {
    /// The media.
    pub id: IgMediaId,
    /// `FEED`, `REELS`, `STORY`, `AD`, ...
    #[serde(default)]
    pub media_product_type: Option<String>,
    /// For comments on ads: the ad.
    #[serde(default)]
    pub ad_id: Option<AdId>,
    /// For comments on ads: the ad's title.
    #[serde(default)]
    pub ad_title: Option<String>,
    /// For comments on ads: the organic media the ad was made from.
    #[serde(default)]
    pub original_media_id: Option<IgMediaId>,
}

/// An Instagram comment (`comments` or `live_comments`), from either login flavour.
/// Comments on boosted posts and ads may arrive twice (facts guide §7.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct InstagramComment {
    /// The comment (`comment_id`, or `id` in the Instagram-Login shape).
    pub comment_id: CommentId,
    /// The text.
    pub text: Option<String>,
    /// The commenter, when sent.
    pub from: Option<IgAuthor>,
    /// The parent comment for replies.
    pub parent_id: Option<CommentId>,
    /// The media commented on.
    pub media: Option<IgMediaRef>,
    /// Which payload shape it came in.
    pub shape: IgPayloadShape,
}

#[derive(Deserialize)]
struct IgCommentWire {
    #[serde(default)]
    comment_id: Option<CommentId>,
    #[serde(default)]
    id: Option<CommentId>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    from: Option<IgAuthor>,
    #[serde(default)]
    parent_id: Option<CommentId>,
    #[serde(default)]
    media: Option<IgMediaRef>,
}

impl InstagramComment {
    fn decode(value: &Value) -> Result<Self, String> {
        let w: IgCommentWire = decode(value)?;
        let (comment_id, shape) = match (w.comment_id, w.id) {
            (Some(c), _) => (c, IgPayloadShape::FacebookLogin),
            (None, Some(id)) => (id, IgPayloadShape::InstagramLogin),
            (None, None) => return Err("missing `comment_id` (or `id`)".into()),
        };
        Ok(InstagramComment {
            comment_id,
            text: w.text,
            from: w.from,
            parent_id: w.parent_id,
            media: w.media,
            shape,
        })
    }
}

/// `{"media_id": "..", "comment_id": ".."}`: the account was mentioned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InstagramMention {
    /// The media with the mention (in its caption or one of its comments).
    pub media_id: IgMediaId,
    /// The comment with the mention; absent for caption mentions.
    #[serde(default)]
    pub comment_id: Option<CommentId>,
}

/// A lead ad submission. No PII: read it with `GET /{leadgen_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Leadgen {
    /// The lead (Meta sends it as a number).
    #[serde(deserialize_with = "req_text")]
    pub leadgen_id: String,
    /// The Page.
    #[serde(default)]
    pub page_id: Option<PageId>,
    /// The lead form.
    #[serde(default, deserialize_with = "opt_text")]
    pub form_id: Option<String>,
    /// The legacy ad id (`adgroup_id`).
    #[serde(default)]
    pub adgroup_id: Option<AdId>,
    /// The ad.
    #[serde(default)]
    pub ad_id: Option<AdId>,
    /// When the lead was submitted.
    #[serde(default)]
    pub created_time: Option<Timestamp>,
}

// ---------------------------------------------------------------------------------
// messaging[]
// ---------------------------------------------------------------------------------

/// One `messaging[]` item (Messenger, or Instagram messaging with `object: instagram`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct MessagingEvent {
    /// `sender.id`: the person (PSID/IGSID), or the Page for echoes.
    pub sender_id: Option<String>,
    /// `recipient.id`: the Page or IG account, or the person for echoes.
    pub recipient_id: Option<String>,
    /// `timestamp` (milliseconds for messaging). Messages may arrive out of order:
    /// order by this.
    pub timestamp: Option<Timestamp>,
    /// What happened.
    pub kind: MessagingKind,
}

/// What a messaging event is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum MessagingKind {
    /// A message from the person.
    Message(Message),
    /// A message sent by the Page or account (`message.is_echo: true`).
    Echo(Message),
    /// A button, persistent-menu or get-started tap.
    Postback(Postback),
    /// The person read messages.
    Read(Read),
    /// A reaction added or removed.
    Reaction(Reaction),
    /// An event this crate does not model (`delivery`, `optin`, `referral`, ...).
    Unknown {
        /// The event key (the first key other than `sender`, `recipient`,
        /// `timestamp`), empty when none.
        field: String,
        /// The whole raw event.
        value: Value,
    },
    /// A modelled event with an unexpected shape.
    Invalid {
        /// The event key.
        field: String,
        /// The whole raw event.
        value: Value,
        /// What was wrong.
        reason: String,
    },
}

/// A Messenger / Instagram message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Message {
    /// Message id (`m_…`, `mid.…` or base64-style for Instagram; kept as text because
    /// legacy ids contain dots).
    #[serde(default, deserialize_with = "opt_text")]
    pub mid: Option<String>,
    /// The text, when any.
    #[serde(default)]
    pub text: Option<String>,
    /// The quick reply tapped, when any.
    #[serde(default)]
    pub quick_reply: Option<QuickReply>,
    /// Attachments (image, audio, video, file, reel, ig_reel, sticker...).
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// True for echoes of messages the Page sent.
    #[serde(default)]
    pub is_echo: bool,
    /// Instagram: the message was deleted.
    #[serde(default)]
    pub is_deleted: bool,
    /// Instagram: the message type is not supported by the API.
    #[serde(default)]
    pub is_unsupported: bool,
    /// Echoes: the app that sent it.
    #[serde(default, deserialize_with = "opt_text")]
    pub app_id: Option<String>,
    /// What it replies to (`{mid}` or `{story:{url,id}}`), raw.
    #[serde(default)]
    pub reply_to: Option<Value>,
    /// Ad / link referral context, raw.
    #[serde(default)]
    pub referral: Option<Value>,
}

/// `message.quick_reply`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct QuickReply {
    /// The developer-defined payload.
    #[serde(default)]
    pub payload: Option<String>,
}

/// One `message.attachments[]` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Attachment {
    /// `image`, `audio`, `video`, `file`, `reel`, `ig_reel`, `sticker`, `fallback`, ...
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The type-specific payload (`url`, `title`, `sticker_id`, ...), raw.
    #[serde(default)]
    pub payload: Option<Value>,
}

impl Attachment {
    /// `payload.url`, when there is one.
    #[must_use]
    pub fn url(&self) -> Option<&str> {
        self.payload.as_ref()?.get("url")?.as_str()
    }
}

/// `postback`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Postback {
    /// The button title.
    #[serde(default)]
    pub title: Option<String>,
    /// The developer-defined payload.
    #[serde(default)]
    pub payload: Option<String>,
    /// Message id of the postback, when sent.
    #[serde(default, deserialize_with = "opt_text")]
    pub mid: Option<String>,
    /// Referral context, raw.
    #[serde(default)]
    pub referral: Option<Value>,
}

/// `read`: Messenger sends a `watermark` (every message before it was read),
/// Instagram the `mid` read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Read {
    /// Messenger: messages sent up to this time were read.
    #[serde(default)]
    pub watermark: Option<Timestamp>,
    /// Instagram: the message read.
    #[serde(default, deserialize_with = "opt_text")]
    pub mid: Option<String>,
}

/// Whether a reaction was added or removed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReactionAction {
    /// `react`.
    React,
    /// `unreact`.
    Unreact,
    /// Anything else, verbatim.
    Unknown(String),
}

impl ReactionAction {
    /// The wire form.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            ReactionAction::React => "react",
            ReactionAction::Unreact => "unreact",
            ReactionAction::Unknown(s) => s,
        }
    }
}

impl Serialize for ReactionAction {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ReactionAction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "react" => ReactionAction::React,
            "unreact" => ReactionAction::Unreact,
            _ => ReactionAction::Unknown(s),
        })
    }
}

/// `reaction`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Reaction {
    /// The message reacted to.
    #[serde(default, deserialize_with = "opt_text")]
    pub mid: Option<String>,
    /// `react` or `unreact`.
    pub action: ReactionAction,
    /// e.g. `love`, `like`, `smile`, `other`.
    #[serde(default)]
    pub reaction: Option<String>,
    /// The emoji, when sent.
    #[serde(default)]
    pub emoji: Option<String>,
}

/// Keys of a messaging event that are not its payload.
const MESSAGING_META_KEYS: &[&str] = &["sender", "recipient", "timestamp"];

impl MessagingEvent {
    /// Types one `messaging[]` item. Never fails: see [`MessagingKind::Unknown`] and
    /// [`MessagingKind::Invalid`].
    #[must_use]
    pub fn from_value(event: &Value) -> Self {
        let id_of = |key: &str| event.get(key).and_then(|p| p.get("id")).and_then(text_of);
        let sender_id = id_of("sender");
        let recipient_id = id_of("recipient");
        let timestamp = event
            .get("timestamp")
            .and_then(|v| Timestamp::deserialize(v).ok());
        let kind = MessagingKind::from_event(event);
        MessagingEvent {
            sender_id,
            recipient_id,
            timestamp,
            kind,
        }
    }

    /// The person in the conversation: the sender, or the recipient for echoes.
    #[must_use]
    pub fn person_id(&self) -> Option<UserId> {
        let id = match self.kind {
            MessagingKind::Echo(_) => self.recipient_id.as_deref(),
            _ => self.sender_id.as_deref(),
        }?;
        UserId::parse(id).ok()
    }

    /// A key identifying this event across redeliveries: the message id when there
    /// is one, otherwise sender, kind and timestamp.
    #[must_use]
    pub fn dedup_key(&self) -> Option<String> {
        let mid = match &self.kind {
            MessagingKind::Message(m) | MessagingKind::Echo(m) => m.mid.clone(),
            MessagingKind::Postback(p) => p.mid.clone(),
            MessagingKind::Reaction(r) => {
                r.mid.as_ref().map(|m| format!("{m}:{}", r.action.as_str()))
            }
            MessagingKind::Read(_)
            | MessagingKind::Unknown { .. }
            | MessagingKind::Invalid { .. } => None,
        };
        if let Some(mid) = mid {
            return Some(format!("messaging:{mid}"));
        }
        match &self.kind {
            MessagingKind::Unknown { .. } | MessagingKind::Invalid { .. } => None,
            kind => Some(format!(
                "messaging:{}:{}:{}",
                self.sender_id.as_deref().unwrap_or_default(),
                kind.name(),
                self.timestamp.map_or(0, Timestamp::unix_millis)
            )),
        }
    }
}

impl MessagingKind {
    fn from_event(event: &Value) -> Self {
        let field = event
            .as_object()
            .and_then(|m| {
                m.keys()
                    .find(|k| !MESSAGING_META_KEYS.contains(&k.as_str()))
            })
            .cloned()
            .unwrap_or_default();
        let invalid = |field: &str, reason: String| MessagingKind::Invalid {
            field: field.to_owned(),
            value: event.clone(),
            reason,
        };
        // Order matters: a `message` is checked first so an echo with a stray key
        // still reads as an echo.
        if let Some(m) = event.get("message") {
            return match decode::<Message>(m) {
                Ok(msg) if msg.is_echo => MessagingKind::Echo(msg),
                Ok(msg) => MessagingKind::Message(msg),
                Err(e) => invalid("message", e),
            };
        }
        if let Some(p) = event.get("postback") {
            return decode(p).map_or_else(|e| invalid("postback", e), MessagingKind::Postback);
        }
        if let Some(r) = event.get("read") {
            return decode(r).map_or_else(|e| invalid("read", e), MessagingKind::Read);
        }
        if let Some(r) = event.get("reaction") {
            return decode(r).map_or_else(|e| invalid("reaction", e), MessagingKind::Reaction);
        }
        MessagingKind::Unknown {
            field,
            value: event.clone(),
        }
    }

    /// A short name: `message`, `echo`, `postback`, `read`, `reaction`, or the
    /// unknown event's key.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            MessagingKind::Message(_) => "message",
            MessagingKind::Echo(_) => "echo",
            MessagingKind::Postback(_) => "postback",
            MessagingKind::Read(_) => "read",
            MessagingKind::Reaction(_) => "reaction",
            MessagingKind::Unknown { field, .. } | MessagingKind::Invalid { field, .. } => field,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_seconds_and_millis() {
        assert_eq!(
            Timestamp::from_wire(1_742_667_604).unix_millis(),
            1_742_667_604_000
        );
        assert_eq!(
            Timestamp::from_wire(1_458_692_752_478).unix_seconds(),
            1_458_692_752
        );
        // The boundary: 10^11 is still seconds, one more is milliseconds.
        assert_eq!(
            Timestamp::from_wire(100_000_000_000).unix_seconds(),
            100_000_000_000
        );
        assert_eq!(
            Timestamp::from_wire(100_000_000_001).unix_millis(),
            100_000_000_001
        );
        assert_eq!(
            Timestamp::parse_str("2025-03-22T18:20:04+0000").map(Timestamp::unix_seconds),
            Some(1_742_667_604)
        );
        assert_eq!(
            Timestamp::parse_str("2025-03-22T19:20:04+01:00").map(Timestamp::unix_seconds),
            Some(1_742_667_604)
        );
        assert_eq!(
            Timestamp::parse_str("2025-03-22T18:20:04.250Z").map(Timestamp::unix_seconds),
            Some(1_742_667_604)
        );
        assert_eq!(
            Timestamp::parse_str("1742667604").map(Timestamp::unix_millis),
            Some(1_742_667_604_000)
        );
        assert!(Timestamp::parse_str("yesterday").is_none());
        assert!(Timestamp::parse_str("2025-13-22T18:20:04+0000").is_none());
        let t: Timestamp = serde_json::from_str("1742667604.5").unwrap();
        assert_eq!(t.unix_millis(), 1_742_667_604_500);
        // Round trip through our own serialisation.
        let back: Timestamp = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn envelope_errors_are_clear() {
        assert!(matches!(parse(b"nope"), Err(ParseError::Json(_))));
        assert!(matches!(parse(b"[]"), Err(ParseError::Envelope(_))));
        assert!(matches!(
            parse(br#"{"entry":[]}"#),
            Err(ParseError::Envelope(_))
        ));
        assert!(matches!(
            parse(br#"{"object":"page"}"#),
            Err(ParseError::Envelope(_))
        ));
        assert!(matches!(
            parse(br#"{"object":"page","entry":{}}"#),
            Err(ParseError::Envelope(_))
        ));
        assert!(matches!(
            parse(br#"{"object":"page","entry":[1]}"#),
            Err(ParseError::Envelope(_))
        ));
        let ok = parse(br#"{"object":"page","entry":[]}"#).unwrap();
        assert!(ok.is_empty());
        assert_eq!(ok.object, WebhookObject::Page);
    }

    #[test]
    fn one_bad_change_does_not_fail_the_batch() {
        let body = br#"{"object":"page","entry":[{"id":1,"time":1,"changes":[
            {"field":"feed","value":{"item":"comment","verb":"add"}},
            {"field":"ratings","value":{"x":1}},
            {"field":"live_videos","value":{"id":"55","status":"live"}}]}]}"#;
        let ev = parse(body).unwrap();
        let c: Vec<&Change> = ev.changes().collect();
        assert!(matches!(c[0], Change::Invalid { field, .. } if field == "feed"));
        assert!(matches!(c[1], Change::Unknown { field, .. } if field == "ratings"));
        assert!(matches!(c[2], Change::LiveVideo(l) if l.status == LiveStatus::Live));
        assert_eq!(ev.entries[0].id.as_deref(), Some("1"));
    }

    #[test]
    fn verify_and_parse_checks_the_raw_bytes() {
        let secret = secrecy::SecretString::from("s3cret");
        let verifier = Verifier::new(secret.clone());
        let body = br#"{"object":"page","entry":[]}"#;
        let sig = meta_core::webhook::sign(&secret, body);
        assert!(verify_and_parse(&verifier, body, &sig).is_ok());
        let err =
            verify_and_parse(&verifier, br#"{"object":"page","entry":[ ]}"#, &sig).unwrap_err();
        assert!(err.is_signature());
    }
}
