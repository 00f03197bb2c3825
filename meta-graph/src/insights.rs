//! Page, post, Instagram account and Instagram media insights.
//!
//! ```no_run
//! # async fn run(client: meta_core::Client) -> meta_graph::Result<()> {
//! use meta_core::ids::PageId;
//! use meta_graph::GraphExt;
//! use meta_graph::insights::{MetricValue, Period};
//!
//! let report = client
//!     .insights()
//!     .page(&PageId::new("112130216863063"))
//!     .metrics(["page_post_engagements", "page_follows", "not_a_metric"])
//!     .period(Period::Day)
//!     .send()
//!     .await?;
//! // One rejected metric does not sink the others.
//! for failure in report.failures() {
//!     eprintln!("{}: {}", failure.metric(), failure.message());
//! }
//! match report.value("page_follows") {
//!     MetricValue::Missing => println!("no data"),
//!     v => println!("follows: {v:?}"),
//! }
//! # Ok(()) }
//! ```
//!
//! # Endpoints
//!
//! `GET /{page-id}/insights`, `GET /{post-id}/insights`, `GET /{ig-user-id}/insights`
//! (with `metric_type`, `breakdown`, `timeframe`) and `GET /{ig-media-id}/insights`,
//! each with `metric=a,b,c`, `period` and `since`/`until` (unix seconds).
//!
//! # One bad metric
//!
//! Meta answers a request naming one invalid or deprecated metric with a code-100 error
//! for the **whole** request. [`InsightsRequest::send`] asks for every metric at once,
//! and on a code-100 error:
//!
//! 1. when the message names the culprit — Instagram's `metric[2] must be one of the
//!    following values: …`, or a message quoting a requested metric name — it drops
//!    that metric, records a [`MetricFailure`] and asks again for the rest;
//! 2. otherwise (the Page API's `(#100) The value must be a valid insights metric`
//!    names nothing) it falls back to one call per metric, so each failure is
//!    attributed.
//!
//! Other errors (auth, throttling after retries, `1487534` "too much data") fail the
//! call: they are not about one metric.
//!
//! # Missing is not zero
//!
//! A value Meta did not send is [`MetricValue::Missing`]; a `0` is
//! [`MetricValue::Int(0)`](MetricValue::Int). A metric Meta accepted but returned no
//! series for is listed in [`InsightsReport::missing`].
//!
//! # Metric names are data
//!
//! Meta renames and retires metrics with API versions. [`MetricRegistry`] is a table
//! of known metrics per scope with the version that deprecated them and their
//! replacement. It annotates failures and can refuse known-deprecated metrics before
//! any call ([`InsightsRequest::skip_deprecated`]); it never refuses a name it does
//! not know, because Meta adds metrics faster than any table.

use std::collections::BTreeMap;
use std::sync::Arc;

use meta_core::ids::{IgMediaId, IgUserId, PageId, PostId};
use meta_core::{ApiVersion, Client, Params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{InvalidInput, Result};
use crate::generated::{InsightsResult, InstagramInsightsResult};

// ---------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------

/// Which kind of object a metric belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricScope {
    /// A Facebook Page.
    Page,
    /// A Page post.
    Post,
    /// An Instagram professional account.
    IgUser,
    /// An Instagram media object.
    IgMedia,
}

/// The aggregation period (`period=`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Period {
    /// `day`.
    Day,
    /// `week`.
    Week,
    /// `days_28`.
    Days28,
    /// `month`.
    Month,
    /// `lifetime`.
    Lifetime,
    /// `total_over_range`.
    TotalOverRange,
    /// Anything else, verbatim.
    Unknown(String),
}

impl Period {
    /// The wire form.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Days28 => "days_28",
            Period::Month => "month",
            Period::Lifetime => "lifetime",
            Period::TotalOverRange => "total_over_range",
            Period::Unknown(s) => s,
        }
    }
    /// Reads the wire form (unknown values are kept).
    #[must_use]
    pub fn from_wire(s: &str) -> Self {
        match s {
            "day" => Period::Day,
            "week" => Period::Week,
            "days_28" => Period::Days28,
            "month" => Period::Month,
            "lifetime" => Period::Lifetime,
            "total_over_range" => Period::TotalOverRange,
            other => Period::Unknown(other.to_owned()),
        }
    }
}

impl std::str::FromStr for Period {
    type Err = InvalidInput;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match Period::from_wire(s.trim()) {
            Period::Unknown(_) => Err(InvalidInput::new(
                "period",
                format!(
                    "`{s}` is not one of day, week, days_28, month, lifetime, total_over_range"
                ),
            )),
            p => Ok(p),
        }
    }
}

impl Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Instagram account insights: `metric_type=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MetricType {
    /// `time_series`: one value per period.
    TimeSeries,
    /// `total_value`: one total over the range, optionally broken down.
    TotalValue,
}

impl MetricType {
    /// The wire form.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::TimeSeries => "time_series",
            MetricType::TotalValue => "total_value",
        }
    }
}

// ---------------------------------------------------------------------------------
// Registry
// ---------------------------------------------------------------------------------

/// One known metric.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetricInfo {
    /// The metric name.
    pub name: String,
    /// What it applies to.
    pub scope: MetricScope,
    /// The first API version that rejects it, when deprecated.
    pub deprecated_in: Option<ApiVersion>,
    /// What to ask for instead, when Meta names a replacement.
    pub replacement: Option<String>,
}

/// What the registry knows about a metric at an API version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum MetricStatus {
    /// Known and available at this version.
    Available,
    /// Known and deprecated at this version.
    Deprecated {
        /// The first version that rejects it.
        since: String,
        /// Meta's suggested replacement, when there is one.
        replacement: Option<String>,
    },
    /// Not in the table (it may still be valid: Meta is the judge).
    Unknown,
}

/// `(name, deprecated in vMAJOR, replacement)`: `0` means not deprecated.
type Row = (&'static str, u16, Option<&'static str>);

// The tables below are Meta's metric names and deprecations as best known in 2026.
// The facts guide does not list insights metrics, so these come from Meta's changelogs
// as remembered ([MEM] in the guide's terms): treat them as advisory data, which is
// why the client always lets Meta decide and only uses them to annotate failures or,
// when asked, to skip known-deprecated names.
const PAGE_METRICS: &[Row] = &[
    ("page_post_engagements", 0, None),
    ("page_follows", 0, None),
    ("page_daily_follows", 0, None),
    ("page_daily_follows_unique", 0, None),
    ("page_daily_unfollows_unique", 0, None),
    ("page_media_view", 0, None),
    ("page_total_media_view_unique", 0, None),
    ("page_views_total", 0, None),
    ("page_total_actions", 0, None),
    ("page_video_views", 0, None),
    ("page_video_view_time", 0, None),
    ("page_actions_post_reactions_total", 0, None),
    ("page_impressions", 24, Some("page_media_view")),
    (
        "page_impressions_unique",
        24,
        Some("page_total_media_view_unique"),
    ),
    ("page_impressions_paid", 24, None),
    ("page_fans", 24, Some("page_follows")),
    ("page_fan_adds", 24, Some("page_daily_follows")),
    ("page_fan_removes", 24, Some("page_daily_unfollows_unique")),
    ("page_engaged_users", 18, Some("page_post_engagements")),
];
const POST_METRICS: &[Row] = &[
    ("post_clicks", 0, None),
    ("post_reactions_by_type_total", 0, None),
    ("post_video_views", 0, None),
    ("post_video_avg_time_watched", 0, None),
    ("post_media_view", 0, None),
    ("post_total_media_view_unique", 0, None),
    ("post_impressions", 24, Some("post_media_view")),
    (
        "post_impressions_unique",
        24,
        Some("post_total_media_view_unique"),
    ),
    ("post_engaged_users", 18, None),
];
const IG_USER_METRICS: &[Row] = &[
    ("reach", 0, None),
    ("follower_count", 0, None),
    ("website_clicks", 0, None),
    ("profile_views", 0, None),
    ("online_followers", 0, None),
    ("accounts_engaged", 0, None),
    ("total_interactions", 0, None),
    ("likes", 0, None),
    ("comments", 0, None),
    ("shares", 0, None),
    ("saves", 0, None),
    ("replies", 0, None),
    ("views", 0, None),
    ("profile_links_taps", 0, None),
    ("follows_and_unfollows", 0, None),
    ("engaged_audience_demographics", 0, None),
    ("reached_audience_demographics", 0, None),
    ("follower_demographics", 0, None),
    ("impressions", 22, Some("views")),
    ("email_contacts", 21, None),
    ("phone_call_clicks", 21, None),
    ("text_message_clicks", 21, None),
    ("get_directions_clicks", 21, None),
    ("audience_city", 18, Some("follower_demographics")),
    ("audience_country", 18, Some("follower_demographics")),
    ("audience_gender_age", 18, Some("follower_demographics")),
];
const IG_MEDIA_METRICS: &[Row] = &[
    ("reach", 0, None),
    ("likes", 0, None),
    ("comments", 0, None),
    ("shares", 0, None),
    ("saved", 0, None),
    ("total_interactions", 0, None),
    ("views", 0, None),
    ("follows", 0, None),
    ("profile_visits", 0, None),
    ("profile_activity", 0, None),
    ("navigation", 0, None),
    ("replies", 0, None),
    ("ig_reels_avg_watch_time", 0, None),
    ("ig_reels_video_view_total_time", 0, None),
    ("impressions", 22, Some("views")),
    ("plays", 22, Some("views")),
    ("clips_replays_count", 22, Some("views")),
    ("ig_reels_aggregated_all_plays_count", 22, Some("views")),
    ("video_views", 22, Some("views")),
    ("engagement", 18, Some("total_interactions")),
];

/// Known insights metrics per scope and API version: data, not enums, so a new or
/// retired metric is one table row (or one [`MetricRegistry::insert`]) away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricRegistry {
    metrics: Vec<MetricInfo>,
}

impl Default for MetricRegistry {
    fn default() -> Self {
        Self::builtin()
    }
}

impl MetricRegistry {
    /// The built-in table (see the source for its provenance).
    #[must_use]
    pub fn builtin() -> Self {
        let mut metrics = Vec::new();
        for (scope, rows) in [
            (MetricScope::Page, PAGE_METRICS),
            (MetricScope::Post, POST_METRICS),
            (MetricScope::IgUser, IG_USER_METRICS),
            (MetricScope::IgMedia, IG_MEDIA_METRICS),
        ] {
            for (name, dep, replacement) in rows {
                metrics.push(MetricInfo {
                    name: (*name).to_owned(),
                    scope,
                    deprecated_in: (*dep > 0).then(|| ApiVersion::new(*dep, 0)),
                    replacement: replacement.map(str::to_owned),
                });
            }
        }
        MetricRegistry { metrics }
    }

    /// An empty registry (every metric is [`MetricStatus::Unknown`]).
    #[must_use]
    pub fn empty() -> Self {
        MetricRegistry {
            metrics: Vec::new(),
        }
    }

    /// Adds or replaces a metric (for metrics Meta added or retired after this
    /// crate was released).
    pub fn insert(
        &mut self,
        scope: MetricScope,
        name: impl Into<String>,
        deprecated_in: Option<ApiVersion>,
        replacement: Option<String>,
    ) {
        let name = name.into();
        self.metrics
            .retain(|m| !(m.scope == scope && m.name == name));
        self.metrics.push(MetricInfo {
            name,
            scope,
            deprecated_in,
            replacement,
        });
    }

    /// The entry for `name` in `scope`.
    #[must_use]
    pub fn get(&self, scope: MetricScope, name: &str) -> Option<&MetricInfo> {
        self.metrics
            .iter()
            .find(|m| m.scope == scope && m.name == name)
    }

    /// The status of `name` in `scope` at `version`.
    #[must_use]
    pub fn status(&self, scope: MetricScope, name: &str, version: ApiVersion) -> MetricStatus {
        match self.get(scope, name) {
            None => MetricStatus::Unknown,
            Some(MetricInfo {
                deprecated_in: Some(v),
                replacement,
                ..
            }) if version >= *v => MetricStatus::Deprecated {
                since: v.to_string(),
                replacement: replacement.clone(),
            },
            Some(_) => MetricStatus::Available,
        }
    }

    /// The metrics available in `scope` at `version`.
    #[must_use]
    pub fn available(&self, scope: MetricScope, version: ApiVersion) -> Vec<&str> {
        self.metrics
            .iter()
            .filter(|m| m.scope == scope && m.deprecated_in.is_none_or(|v| version < v))
            .map(|m| m.name.as_str())
            .collect()
    }
}

// ---------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------

/// One value of a metric. Missing (Meta sent no value) is distinct from zero.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub enum MetricValue {
    /// Meta sent no value (no data for the period, or the metric is absent).
    #[default]
    Missing,
    /// An integer count (`0` is a real zero).
    Int(i64),
    /// A fractional value (averages, rates).
    Float(f64),
    /// A breakdown object such as `{"like": 3, "love": 1}`.
    Breakdown(BTreeMap<String, Value>),
    /// Anything else, verbatim.
    Other(Value),
}

impl MetricValue {
    fn from_wire(v: Option<&Value>) -> Self {
        match v {
            None | Some(Value::Null) => MetricValue::Missing,
            Some(Value::Number(n)) => match n.as_i64() {
                Some(i) => MetricValue::Int(i),
                None => n.as_f64().map_or(
                    MetricValue::Other(Value::Number(n.clone())),
                    MetricValue::Float,
                ),
            },
            Some(Value::Object(m)) => {
                MetricValue::Breakdown(m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            }
            Some(other) => MetricValue::Other(other.clone()),
        }
    }

    /// True for [`MetricValue::Missing`].
    #[must_use]
    pub fn is_missing(&self) -> bool {
        matches!(self, MetricValue::Missing)
    }

    /// The value as an integer, for [`MetricValue::Int`].
    #[must_use]
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            MetricValue::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The value as a float, for [`MetricValue::Int`] and [`MetricValue::Float`].
    #[must_use]
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            #[allow(clippy::cast_precision_loss)]
            MetricValue::Int(i) => Some(*i as f64),
            MetricValue::Float(f) => Some(*f),
            _ => None,
        }
    }
}

impl Serialize for MetricValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            MetricValue::Missing => s.serialize_none(),
            MetricValue::Int(i) => s.serialize_i64(*i),
            MetricValue::Float(f) => s.serialize_f64(*f),
            MetricValue::Breakdown(m) => m.serialize(s),
            MetricValue::Other(v) => v.serialize(s),
        }
    }
}

/// One point of a time series.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct MetricPoint {
    /// The value.
    pub value: MetricValue,
    /// End of the period, Graph's ISO string (`2026-01-05T08:00:00+0000`); absent for
    /// lifetime values.
    pub end_time: Option<String>,
}

/// An Instagram `total_value`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct TotalValue {
    /// The total.
    pub value: MetricValue,
    /// `breakdowns[]` as sent (`dimension_keys`, `results[{dimension_values, value}]`).
    pub breakdowns: Vec<Value>,
}

/// One metric as Meta returned it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Metric {
    /// The metric name.
    pub name: String,
    /// The period.
    pub period: Option<Period>,
    /// Meta's title, e.g. `Daily Total Impressions`.
    pub title: Option<String>,
    /// Meta's description.
    pub description: Option<String>,
    /// Meta's id (`<object>/insights/<metric>/<period>`).
    pub id: Option<String>,
    /// The series (empty for `total_value` answers).
    pub values: Vec<MetricPoint>,
    /// The total, for `metric_type=total_value`.
    pub total_value: Option<TotalValue>,
}

impl Metric {
    /// The most recent value: the total when there is one, else the last point, else
    /// [`MetricValue::Missing`].
    #[must_use]
    pub fn latest(&self) -> MetricValue {
        if let Some(t) = &self.total_value {
            return t.value.clone();
        }
        self.values
            .last()
            .map_or(MetricValue::Missing, |p| p.value.clone())
    }
}

/// Why a metric did not come back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetricFailure {
    metric: String,
    code: Option<i64>,
    subcode: Option<i64>,
    message: String,
    status: MetricStatus,
    refused_locally: bool,
}

impl MetricFailure {
    /// The metric.
    #[must_use]
    pub fn metric(&self) -> &str {
        &self.metric
    }
    /// Meta's error code (100), or `None` when refused before any call.
    #[must_use]
    pub fn code(&self) -> Option<i64> {
        self.code
    }
    /// Meta's error subcode.
    #[must_use]
    pub fn subcode(&self) -> Option<i64> {
        self.subcode
    }
    /// Meta's message (or why it was skipped locally).
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
    /// What the [`MetricRegistry`] knows about the metric at the client's version.
    #[must_use]
    pub fn status(&self) -> &MetricStatus {
        &self.status
    }
    /// True when it was skipped before any call ([`InsightsRequest::skip_deprecated`]).
    #[must_use]
    pub fn refused_locally(&self) -> bool {
        self.refused_locally
    }
}

/// Everything one [`InsightsRequest::send`] learnt.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct InsightsReport {
    /// The metrics returned, in Meta's order.
    pub metrics: Vec<Metric>,
    failures: Vec<MetricFailure>,
    missing: Vec<String>,
    calls: u32,
}

impl InsightsReport {
    /// The metric named `name`, when Meta returned it.
    #[must_use]
    pub fn metric(&self, name: &str) -> Option<&Metric> {
        self.metrics.iter().find(|m| m.name == name)
    }
    /// The latest value of `name` ([`MetricValue::Missing`] when absent or failed).
    #[must_use]
    pub fn value(&self, name: &str) -> MetricValue {
        self.metric(name)
            .map_or(MetricValue::Missing, Metric::latest)
    }
    /// The metrics Meta rejected (or that were skipped), with the reason.
    #[must_use]
    pub fn failures(&self) -> &[MetricFailure] {
        &self.failures
    }
    /// The failure for `name`, if it failed.
    #[must_use]
    pub fn failure(&self, name: &str) -> Option<&MetricFailure> {
        self.failures.iter().find(|f| f.metric == name)
    }
    /// Metrics Meta accepted but returned no series for.
    #[must_use]
    pub fn missing(&self) -> &[String] {
        &self.missing
    }
    /// True when every requested metric came back.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.failures.is_empty() && self.missing.is_empty()
    }
    /// How many Graph calls it took (1 when nothing was rejected).
    #[must_use]
    pub fn calls(&self) -> u32 {
        self.calls
    }
}

// Meta's result shapes come from the generated models (`InsightsResult` for Pages and
// posts, `InstagramInsightsResult` with `total_value` for Instagram); the glue below
// turns them into the public types, keeping "no value" apart from zero.
#[derive(Debug, Deserialize)]
struct WireResponse<T> {
    #[serde(default = "Vec::new")]
    data: Vec<T>,
}

fn point(value: Option<&Value>, end_time: Option<String>) -> MetricPoint {
    MetricPoint {
        value: MetricValue::from_wire(value),
        end_time,
    }
}

impl From<InsightsResult> for Metric {
    fn from(r: InsightsResult) -> Self {
        Metric {
            name: r.name.unwrap_or_default(),
            period: r.period.as_ref().map(|p| Period::from_wire(p.as_str())),
            title: r.title,
            description: r.description,
            id: r.id,
            values: r
                .values
                .unwrap_or_default()
                .into_iter()
                .map(|v| point(v.value.as_ref(), v.end_time))
                .collect(),
            total_value: None,
        }
    }
}

impl From<InstagramInsightsResult> for Metric {
    fn from(r: InstagramInsightsResult) -> Self {
        let total_value = r.total_value.as_ref().map(|t| TotalValue {
            value: MetricValue::from_wire(t.get("value")),
            breakdowns: t
                .get("breakdowns")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        });
        Metric {
            name: r.name.unwrap_or_default(),
            period: r.period.as_ref().map(|p| Period::from_wire(p.as_str())),
            title: r.title,
            description: r.description,
            id: r.id,
            values: r
                .values
                .unwrap_or_default()
                .into_iter()
                .map(|v| point(v.value.as_ref(), v.end_time))
                .collect(),
            total_value,
        }
    }
}

// ---------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------

/// Entry point for insights; get one with [`crate::GraphExt::insights`].
#[derive(Debug, Clone)]
pub struct Insights {
    client: Client,
    registry: Arc<MetricRegistry>,
}

impl Insights {
    pub(crate) fn new(client: Client) -> Self {
        Insights {
            client,
            registry: Arc::new(MetricRegistry::builtin()),
        }
    }

    /// Uses `registry` instead of the built-in table.
    #[must_use]
    pub fn with_registry(mut self, registry: MetricRegistry) -> Self {
        self.registry = Arc::new(registry);
        self
    }

    /// The registry in use.
    #[must_use]
    pub fn registry(&self) -> &MetricRegistry {
        &self.registry
    }

    fn request(&self, scope: MetricScope, id: &str) -> InsightsRequest {
        InsightsRequest {
            client: self.client.clone(),
            registry: self.registry.clone(),
            scope,
            id: id.to_owned(),
            metrics: Vec::new(),
            period: None,
            since: None,
            until: None,
            metric_type: None,
            breakdowns: Vec::new(),
            timeframe: None,
            skip_deprecated: false,
        }
    }

    /// `GET /{page-id}/insights`.
    #[must_use]
    pub fn page(&self, page: &PageId) -> InsightsRequest {
        self.request(MetricScope::Page, page.as_str())
    }
    /// `GET /{post-id}/insights`.
    #[must_use]
    pub fn post(&self, post: &PostId) -> InsightsRequest {
        self.request(MetricScope::Post, post.as_str())
    }
    /// `GET /{ig-user-id}/insights`.
    #[must_use]
    pub fn ig_user(&self, user: &IgUserId) -> InsightsRequest {
        self.request(MetricScope::IgUser, user.as_str())
    }
    /// `GET /{ig-media-id}/insights`.
    #[must_use]
    pub fn ig_media(&self, media: &IgMediaId) -> InsightsRequest {
        self.request(MetricScope::IgMedia, media.as_str())
    }
}

/// One insights query; build it fluently, then [`send`](Self::send).
#[derive(Debug, Clone)]
pub struct InsightsRequest {
    client: Client,
    registry: Arc<MetricRegistry>,
    scope: MetricScope,
    id: String,
    metrics: Vec<String>,
    period: Option<Period>,
    since: Option<i64>,
    until: Option<i64>,
    metric_type: Option<MetricType>,
    breakdowns: Vec<String>,
    timeframe: Option<String>,
    skip_deprecated: bool,
}

/// The longest metric name accepted (real ones are under 50 characters).
const MAX_METRIC_LEN: usize = 100;
/// Upper bound on rejected-metric retries, whatever Meta answers.
const MAX_DROPS: usize = 64;

impl InsightsRequest {
    /// Adds one metric.
    #[must_use]
    pub fn metric(mut self, name: impl Into<String>) -> Self {
        self.metrics.push(name.into());
        self
    }
    /// Adds metrics.
    #[must_use]
    pub fn metrics<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.metrics.extend(names.into_iter().map(Into::into));
        self
    }
    /// `period=` (Meta's default depends on the metric when absent).
    #[must_use]
    pub fn period(mut self, period: Period) -> Self {
        self.period = Some(period);
        self
    }
    /// `since=` (unix seconds, inclusive).
    #[must_use]
    pub fn since(mut self, unix_seconds: i64) -> Self {
        self.since = Some(unix_seconds);
        self
    }
    /// `until=` (unix seconds, exclusive).
    #[must_use]
    pub fn until(mut self, unix_seconds: i64) -> Self {
        self.until = Some(unix_seconds);
        self
    }
    /// `metric_type=` (Instagram accounts only).
    #[must_use]
    pub fn metric_type(mut self, metric_type: MetricType) -> Self {
        self.metric_type = Some(metric_type);
        self
    }
    /// Adds a `breakdown=` dimension such as `media_product_type` (Instagram accounts
    /// only; needs `metric_type=total_value`).
    #[must_use]
    pub fn breakdown(mut self, dimension: impl Into<String>) -> Self {
        self.breakdowns.push(dimension.into());
        self
    }
    /// `timeframe=` for demographic metrics, e.g. `this_month` (Instagram accounts
    /// only).
    #[must_use]
    pub fn timeframe(mut self, timeframe: impl Into<String>) -> Self {
        self.timeframe = Some(timeframe.into());
        self
    }
    /// Skips metrics the [`MetricRegistry`] knows to be deprecated at the client's
    /// API version, reporting them as failures without asking Meta. Default `false`.
    #[must_use]
    pub fn skip_deprecated(mut self, skip: bool) -> Self {
        self.skip_deprecated = skip;
        self
    }

    /// The metrics, validated and de-duplicated (order kept).
    fn validate(&self) -> std::result::Result<Vec<String>, InvalidInput> {
        if self.metrics.is_empty() {
            return Err(InvalidInput::new(
                "metric",
                "at least one metric is required",
            ));
        }
        let mut out: Vec<String> = Vec::with_capacity(self.metrics.len());
        for m in &self.metrics {
            let m = m.trim();
            if m.is_empty() || m.len() > MAX_METRIC_LEN {
                return Err(InvalidInput::new(
                    "metric",
                    format!("metric names are 1 to {MAX_METRIC_LEN} characters"),
                ));
            }
            if !m
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(InvalidInput::new(
                    "metric",
                    format!("`{m}` is not a metric name (lower-case letters, digits and `_`)"),
                ));
            }
            if !out.iter().any(|o| o == m) {
                out.push(m.to_owned());
            }
        }
        if let (Some(s), Some(u)) = (self.since, self.until)
            && s >= u
        {
            return Err(InvalidInput::new("since", "`since` must be before `until`"));
        }
        if self.scope != MetricScope::IgUser
            && (self.metric_type.is_some()
                || !self.breakdowns.is_empty()
                || self.timeframe.is_some())
        {
            return Err(InvalidInput::new(
                "metric_type",
                "metric_type, breakdown and timeframe apply to Instagram account insights only",
            ));
        }
        if let Some(b) = self
            .breakdowns
            .iter()
            .find(|b| b.is_empty() || !b.bytes().all(|c| c.is_ascii_lowercase() || c == b'_'))
        {
            return Err(InvalidInput::new(
                "breakdown",
                format!("`{b}` is not a breakdown name"),
            ));
        }
        Ok(out)
    }

    fn params(&self, metrics: &[String]) -> Params {
        let mut p = Params::new().set("metric", metrics.join(","));
        if let Some(period) = &self.period {
            p.insert("period", period.as_str());
        }
        if let Some(s) = self.since {
            p.insert("since", s);
        }
        if let Some(u) = self.until {
            p.insert("until", u);
        }
        if let Some(t) = self.metric_type {
            p.insert("metric_type", t.as_str());
        }
        if !self.breakdowns.is_empty() {
            p.insert("breakdown", self.breakdowns.join(","));
        }
        if let Some(t) = &self.timeframe {
            p.insert("timeframe", t.as_str());
        }
        p
    }

    async fn call(&self, metrics: &[String]) -> std::result::Result<Vec<Metric>, meta_core::Error> {
        let path = format!("{}/insights", self.id);
        let params = self.params(metrics);
        Ok(match self.scope {
            MetricScope::Page | MetricScope::Post => {
                let r: WireResponse<InsightsResult> = self.client.get(&path, params).await?;
                r.data.into_iter().map(Metric::from).collect()
            }
            MetricScope::IgUser | MetricScope::IgMedia => {
                let r: WireResponse<InstagramInsightsResult> =
                    self.client.get(&path, params).await?;
                r.data.into_iter().map(Metric::from).collect()
            }
        })
    }

    fn failure(
        &self,
        metric: &str,
        err: Option<&meta_core::ApiError>,
        message: String,
    ) -> MetricFailure {
        MetricFailure {
            metric: metric.to_owned(),
            code: err.map(meta_core::ApiError::code),
            subcode: err.and_then(meta_core::ApiError::subcode),
            message,
            status: self
                .registry
                .status(self.scope, metric, self.client.api_version()),
            refused_locally: err.is_none(),
        }
    }

    /// Sends the query, working around metrics Meta rejects (see the module docs).
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] before any call for an empty metric list, a name that
    /// is not a metric name, `since >= until`, or Instagram-only parameters on another
    /// object; [`crate::Error::Meta`] for failures that are not about one metric
    /// (auth, throttling, network, code 100 / subcode 1487534 "too much data").
    pub async fn send(self) -> Result<InsightsReport> {
        let mut pending = self.validate()?;
        let version = self.client.api_version();
        let mut failures = Vec::new();
        if self.skip_deprecated {
            pending.retain(|m| {
                let status = self.registry.status(self.scope, m, version);
                if let MetricStatus::Deprecated { since, replacement } = &status {
                    let hint = replacement
                        .as_deref()
                        .map(|r| format!("; use {r}"))
                        .unwrap_or_default();
                    failures.push(self.failure(
                        m,
                        None,
                        format!("skipped: deprecated since {since}{hint}"),
                    ));
                    false
                } else {
                    true
                }
            });
        }
        let requested = pending.clone();
        let mut metrics = Vec::new();
        let mut calls = 0u32;
        let mut per_metric = false;
        while !pending.is_empty() && !per_metric {
            calls += 1;
            match self.call(&pending).await {
                Ok(found) => {
                    metrics = found;
                    pending.clear();
                }
                Err(e) => {
                    let Some(api) = rejection(&e) else {
                        return Err(e.into());
                    };
                    let culprits = culprits(api.message(), &pending, |m| {
                        self.registry.status(self.scope, m, version) == MetricStatus::Available
                    });
                    if culprits.is_empty() || failures.len() >= MAX_DROPS {
                        per_metric = true;
                    } else {
                        for c in culprits {
                            pending.retain(|m| *m != c);
                            failures.push(self.failure(&c, Some(api), api.message().to_owned()));
                        }
                    }
                }
            }
        }
        if per_metric {
            // Meta named no culprit: ask for each metric alone so each failure is
            // attributed to the right name.
            for m in std::mem::take(&mut pending) {
                calls += 1;
                match self.call(std::slice::from_ref(&m)).await {
                    Ok(found) => metrics.extend(found),
                    Err(e) => match rejection(&e) {
                        Some(api) => {
                            failures.push(self.failure(&m, Some(api), api.message().to_owned()))
                        }
                        None => return Err(e.into()),
                    },
                }
            }
        }
        let missing = requested
            .iter()
            .filter(|m| {
                !metrics.iter().any(|x| x.name == **m) && !failures.iter().any(|f| f.metric == **m)
            })
            .cloned()
            .collect();
        Ok(InsightsReport {
            metrics,
            failures,
            missing,
            calls,
        })
    }
}

/// The Graph subcode for "too much data requested": code 100 but not about a metric.
const SUBCODE_TOO_MUCH_DATA: i64 = 1_487_534;

/// The API error when `e` is a code-100 rejection that may be about a metric.
fn rejection(e: &meta_core::Error) -> Option<&meta_core::ApiError> {
    let api = e.api()?;
    (api.code() == 100 && api.subcode() != Some(SUBCODE_TOO_MUCH_DATA)).then_some(api)
}

/// Which of `sent` the error message blames.
///
/// Instagram names the position (`metric[2] must be one of the following values: …`);
/// the list of valid values that follows would match requested names too, so the index
/// wins when present. Otherwise a requested name quoted as a whole word is the culprit.
fn culprits(message: &str, sent: &[String], is_available: impl Fn(&str) -> bool) -> Vec<String> {
    let mut by_index = Vec::new();
    let mut rest = message;
    while let Some(pos) = rest.find("metric[") {
        let after = &rest[pos + "metric[".len()..];
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        if after[digits.len()..].starts_with(']')
            && let Ok(i) = digits.parse::<usize>()
            && let Some(m) = sent.get(i)
            && !by_index.contains(m)
        {
            by_index.push(m.clone());
        }
        rest = after;
    }
    if !by_index.is_empty() {
        return by_index;
    }
    // By name: a message may also name a *replacement* ("… Please use views
    // instead."), so when several requested names appear, the ones the registry knows
    // to be available are presumed innocent; failing that, the first named is blamed.
    let mut named: Vec<(usize, &String)> = sent
        .iter()
        .filter_map(|m| word_position(message, m).map(|p| (p, m)))
        .collect();
    named.sort_by_key(|(p, _)| *p);
    if named.len() <= 1 {
        return named.into_iter().map(|(_, m)| m.clone()).collect();
    }
    let suspects: Vec<String> = named
        .iter()
        .filter(|(_, m)| !is_available(m))
        .map(|(_, m)| (*m).clone())
        .collect();
    if suspects.is_empty() {
        named.into_iter().take(1).map(|(_, m)| m.clone()).collect()
    } else {
        suspects
    }
}

/// Where `needle` first occurs in `hay` delimited by non-identifier characters.
fn word_position(hay: &str, needle: &str) -> Option<usize> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    hay.match_indices(needle).map(|(i, _)| i).find(|&i| {
        let before = hay[..i].chars().next_back();
        let after = hay[i + needle.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn culprit_by_index_beats_the_list_of_valid_values() {
        let sent = s(&["reach", "bogus", "views"]);
        let msg = "(#100) metric[1] must be one of the following values: reach, views, likes";
        assert_eq!(culprits(msg, &sent, |_| true), s(&["bogus"]));
    }

    #[test]
    fn culprit_by_name_is_a_whole_word() {
        let sent = s(&["impressions", "page_impressions", "reach"]);
        let msg = "(#100) Starting from v22.0, impressions metric is no longer supported";
        assert_eq!(culprits(msg, &sent, |_| true), s(&["impressions"]));
        assert!(
            culprits(
                "(#100) The value must be a valid insights metric",
                &sent,
                |_| true
            )
            .is_empty()
        );
        // The replacement named in the hint is not blamed.
        let sent = s(&["views", "impressions"]);
        let msg = "(#100) Starting from v22.0, the impressions metric is no longer supported. Please use views instead.";
        assert_eq!(culprits(msg, &sent, |m| m == "views"), s(&["impressions"]));
        // Without registry knowledge, the first named is blamed.
        assert_eq!(culprits(msg, &sent, |_| false).len(), 2);
        assert_eq!(culprits(msg, &sent, |_| true), s(&["impressions"]));
    }

    #[test]
    fn registry_is_versioned_data() {
        let r = MetricRegistry::builtin();
        assert_eq!(
            r.status(MetricScope::IgMedia, "impressions", ApiVersion::new(21, 0)),
            MetricStatus::Available
        );
        assert_eq!(
            r.status(MetricScope::IgMedia, "impressions", ApiVersion::new(22, 0)),
            MetricStatus::Deprecated {
                since: "v22.0".into(),
                replacement: Some("views".into())
            }
        );
        assert_eq!(
            r.status(MetricScope::Page, "reach", ApiVersion::new(26, 0)),
            MetricStatus::Unknown
        );
        assert!(
            r.available(MetricScope::IgMedia, ApiVersion::new(26, 0))
                .contains(&"views")
        );
        assert!(
            !r.available(MetricScope::IgMedia, ApiVersion::new(26, 0))
                .contains(&"plays")
        );
        let mut r = r;
        r.insert(MetricScope::Page, "page_new_thing", None, None);
        assert_eq!(
            r.status(MetricScope::Page, "page_new_thing", ApiVersion::new(26, 0)),
            MetricStatus::Available
        );
    }

    #[test]
    fn values_keep_missing_apart_from_zero() {
        assert_eq!(MetricValue::from_wire(None), MetricValue::Missing);
        assert_eq!(
            MetricValue::from_wire(Some(&Value::Null)),
            MetricValue::Missing
        );
        assert_eq!(
            MetricValue::from_wire(Some(&serde_json::json!(0))),
            MetricValue::Int(0)
        );
        assert_eq!(
            MetricValue::from_wire(Some(&serde_json::json!(1.5))),
            MetricValue::Float(1.5)
        );
        assert!(matches!(
            MetricValue::from_wire(Some(&serde_json::json!({"like": 2}))),
            MetricValue::Breakdown(m) if m["like"] == 2
        ));
    }
}
