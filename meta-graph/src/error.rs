//! The crate's error: meta-core's transport error, or a refusal before any call.

use std::time::Duration;

/// Shorthand for `Result<T, meta_graph::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Anything a meta-graph call can fail with.
///
/// Bad input and policy violations are refused **before any call** to Meta, so an
/// [`Error::Invalid`] or [`Error::Policy`] means nothing was sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The call reached (or tried to reach) Meta and failed; see [`meta_core::Error`].
    #[error(transparent)]
    Meta(#[from] meta_core::Error),
    /// The input was refused before any call (caption too long, schedule out of
    /// window, carousel of 11 children, ...).
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// Sending would break Meta's messaging policy; nothing was sent.
    #[error(transparent)]
    Policy(#[from] PolicyViolation),
    /// An Instagram media container ended in `ERROR` or `EXPIRED`, or did not finish
    /// before the deadline.
    #[error(transparent)]
    Container(#[from] ContainerFailure),
}

impl Error {
    /// The meta-core error, when the failure came from a call.
    #[must_use]
    pub fn meta(&self) -> Option<&meta_core::Error> {
        match self {
            Error::Meta(e) => Some(e),
            _ => None,
        }
    }
    /// True when nothing was sent to Meta (validation or policy refusal).
    #[must_use]
    pub fn is_refused_before_call(&self) -> bool {
        matches!(self, Error::Invalid(_) | Error::Policy(_))
    }
}

/// Input refused before any call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct InvalidInput {
    field: String,
    reason: String,
}

impl InvalidInput {
    /// `field` is invalid because of `reason`.
    #[must_use]
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }
    /// The offending field or parameter.
    #[must_use]
    pub fn field(&self) -> &str {
        &self.field
    }
    /// Why it was refused.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// Which messaging rule a send would break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PolicyRule {
    /// A comment may get one private reply only.
    PrivateReplyAlreadySent,
    /// Private replies are allowed within 7 days of the comment.
    PrivateReplyTooLate,
    /// A standard message needs the person's own message in the last 24 hours.
    OutsideMessagingWindow,
    /// The message tag is not allowed by configuration (or retired by Meta).
    TagNotAllowed,
    /// Any other rule.
    Other,
}

/// A send refused by the messaging-policy guard.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refused by messaging policy ({rule:?}): {detail}")]
pub struct PolicyViolation {
    rule: PolicyRule,
    detail: String,
}

impl PolicyViolation {
    /// A violation of `rule`.
    #[must_use]
    pub fn new(rule: PolicyRule, detail: impl Into<String>) -> Self {
        PolicyViolation {
            rule,
            detail: detail.into(),
        }
    }
    /// The rule.
    #[must_use]
    pub fn rule(&self) -> PolicyRule {
        self.rule
    }
    /// Human-readable detail.
    #[must_use]
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

/// An Instagram container that will not publish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("container {container_id} {}: {}", status_code, status.as_deref().unwrap_or("no status text"))]
pub struct ContainerFailure {
    container_id: String,
    status_code: String,
    status: Option<String>,
    waited: Option<Duration>,
}

impl ContainerFailure {
    /// A container that ended with `status_code` (`ERROR`, `EXPIRED`, or
    /// `TIMEOUT` when the deadline passed) and Meta's `status` text.
    #[must_use]
    pub fn new(
        container_id: impl Into<String>,
        status_code: impl Into<String>,
        status: Option<String>,
        waited: Option<Duration>,
    ) -> Self {
        ContainerFailure {
            container_id: container_id.into(),
            status_code: status_code.into(),
            status,
            waited,
        }
    }
    /// The container id.
    #[must_use]
    pub fn container_id(&self) -> &str {
        &self.container_id
    }
    /// `ERROR`, `EXPIRED` or `TIMEOUT`.
    #[must_use]
    pub fn status_code(&self) -> &str {
        &self.status_code
    }
    /// Meta's `status` text, e.g. `Error: 2207026`.
    #[must_use]
    pub fn status(&self) -> Option<&str> {
        self.status.as_deref()
    }
    /// How long we polled.
    #[must_use]
    pub fn waited(&self) -> Option<Duration> {
        self.waited
    }
}
