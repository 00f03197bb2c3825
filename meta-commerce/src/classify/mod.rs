//! Understanding buyer comments: the [`IntentClassifier`] port, what it returns, the
//! built-in rules classifier ([`RulesClassifier`]), a fallback wrapper with a circuit
//! breaker ([`FallbackClassifier`]) and the evaluation used by `meta commerce eval`.
//!
//! A classification says what the buyer wants (purchase, question, cancel, other),
//! which catalog items and how many, how sure it is, and why (the evidence: the words
//! that decided it). The pipeline turns a purchase into a reservation only at or above
//! its confidence threshold; below it, the buyer gets a "did you mean …?" reply.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::breaker::CircuitBreaker;
use crate::catalog::Catalog;

pub mod eval;
mod rules;

pub use rules::RulesClassifier;

/// What a comment wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// A present intent to buy, claim or reserve catalog items.
    Purchase,
    /// A request for information (price, stock, sizes, shipping…).
    Question,
    /// Withdraws an earlier claim, wholly or partly.
    Cancel,
    /// Everything else: greetings, compliments, chat, sarcasm, spam.
    Other,
}

impl Intent {
    /// `purchase`, `question`, `cancel` or `other`.
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            Intent::Purchase => "purchase",
            Intent::Question => "question",
            Intent::Cancel => "cancel",
            Intent::Other => "other",
        }
    }

    /// Parses the wire name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "purchase" => Some(Intent::Purchase),
            "question" => Some(Intent::Question),
            "cancel" => Some(Intent::Cancel),
            "other" => Some(Intent::Other),
            _ => None,
        }
    }
}

impl fmt::Display for Intent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The comment's language, as far as the classifier could tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    /// Spanish (any region).
    Es,
    /// English.
    En,
    /// Brazilian Portuguese.
    Pt,
    /// Unknown or code-switched.
    Unknown,
}

impl Lang {
    /// `es`, `en`, `pt` or `unknown`.
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            Lang::Es => "es",
            Lang::En => "en",
            Lang::Pt => "pt",
            Lang::Unknown => "unknown",
        }
    }
}

/// One requested item: a catalog SKU and a quantity in catalog units.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ItemRequest {
    /// The SKU.
    pub sku: String,
    /// Units (≥ 1).
    pub qty: u32,
}

impl ItemRequest {
    /// `qty` of `sku`.
    #[must_use]
    pub fn new(sku: impl Into<String>, qty: u32) -> Self {
        ItemRequest {
            sku: sku.into(),
            qty,
        }
    }
}

/// A classifier's answer for one comment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Classification {
    /// What the comment wants.
    pub intent: Intent,
    /// For a purchase, what and how many; for a cancel, the withdrawn items when named.
    pub items: Vec<ItemRequest>,
    /// 0.0–1.0.
    pub confidence: f32,
    /// Why: matched words, rules fired, the model's reason.
    pub evidence: Vec<String>,
    /// The language detected.
    pub lang: Lang,
    /// Which classifier answered (`rules`, `llm:<model>`, `rules (fallback)`).
    pub classifier: String,
    /// For an uncertain purchase: the SKUs the buyer may have meant (for the
    /// "did you mean …?" reply).
    pub suggestions: Vec<String>,
}

impl Classification {
    /// A classification with no items, evidence or suggestions.
    #[must_use]
    pub fn new(intent: Intent, confidence: f32, classifier: impl Into<String>) -> Self {
        Classification {
            intent,
            items: Vec::new(),
            confidence,
            evidence: Vec::new(),
            lang: Lang::Unknown,
            classifier: classifier.into(),
            suggestions: Vec::new(),
        }
    }

    /// Sets the items.
    #[must_use]
    pub fn with_items(mut self, items: Vec<ItemRequest>) -> Self {
        self.items = items;
        self
    }

    /// Adds a line of evidence.
    #[must_use]
    pub fn with_evidence(mut self, evidence: impl Into<String>) -> Self {
        self.evidence.push(evidence.into());
        self
    }

    /// Sets the language.
    #[must_use]
    pub fn with_lang(mut self, lang: Lang) -> Self {
        self.lang = lang;
        self
    }

    /// Sets the suggestions.
    #[must_use]
    pub fn with_suggestions(mut self, suggestions: Vec<String>) -> Self {
        self.suggestions = suggestions;
        self
    }
}

/// Why a classifier could not answer (the fallback takes over).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClassifyError {
    /// The classifier did not answer in time.
    #[error("classifier timed out after {0:?}")]
    Timeout(Duration),
    /// The classifier's service failed (HTTP error, connection refused).
    #[error("classifier unavailable: {0}")]
    Unavailable(String),
    /// The answer did not match the expected schema or named unknown SKUs.
    #[error("classifier answer rejected: {0}")]
    InvalidAnswer(String),
    /// The circuit breaker is open: the classifier is skipped for now.
    #[error("classifier circuit open")]
    CircuitOpen,
}

/// The boxed future a classifier returns.
pub type ClassifyFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Classification, ClassifyError>> + Send + 'a>>;

/// The port: turns a comment into a [`Classification`] against a shop's catalog.
///
/// Implementations must be cheap to call repeatedly with the same catalog (the
/// built-in one caches its compiled index by [`Catalog::fingerprint`]).
pub trait IntentClassifier: Send + Sync + fmt::Debug {
    /// A short name for audit rows (`rules`, `llm:gpt-4o-mini`).
    fn name(&self) -> &str;

    /// Classifies one comment.
    fn classify<'a>(&'a self, text: &'a str, catalog: &'a Arc<Catalog>) -> ClassifyFuture<'a>;
}

/// A primary classifier (say, an LLM) with a timeout and a circuit breaker, falling
/// back to another (the built-in rules) whenever it fails, times out or is open.
#[derive(Debug)]
pub struct FallbackClassifier {
    primary: Arc<dyn IntentClassifier>,
    fallback: Arc<dyn IntentClassifier>,
    breaker: CircuitBreaker,
    timeout: Duration,
    name: String,
}

impl FallbackClassifier {
    /// `primary` guarded by `breaker` and `timeout`, else `fallback`.
    #[must_use]
    pub fn new(
        primary: Arc<dyn IntentClassifier>,
        fallback: Arc<dyn IntentClassifier>,
        breaker: CircuitBreaker,
        timeout: Duration,
    ) -> Self {
        let name = format!("{} (fallback {})", primary.name(), fallback.name());
        FallbackClassifier {
            primary,
            fallback,
            breaker,
            timeout,
            name,
        }
    }

    /// The breaker (for status pages and tests).
    #[must_use]
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }
}

impl IntentClassifier for FallbackClassifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn classify<'a>(&'a self, text: &'a str, catalog: &'a Arc<Catalog>) -> ClassifyFuture<'a> {
        Box::pin(async move {
            let why = if self.breaker.allow() {
                match tokio::time::timeout(self.timeout, self.primary.classify(text, catalog)).await
                {
                    Ok(Ok(c)) => {
                        self.breaker.record_success();
                        return Ok(c);
                    }
                    Ok(Err(e)) => {
                        self.breaker.record_failure();
                        e.to_string()
                    }
                    Err(_) => {
                        self.breaker.record_failure();
                        ClassifyError::Timeout(self.timeout).to_string()
                    }
                }
            } else {
                ClassifyError::CircuitOpen.to_string()
            };
            let mut c = self.fallback.classify(text, catalog).await?;
            c.classifier = format!("{} (fallback: {why})", c.classifier);
            Ok(c)
        })
    }
}
