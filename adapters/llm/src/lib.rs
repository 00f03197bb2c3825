//! # meta-llm
//!
//! An [`IntentClassifier`] for meta-commerce backed by **any OpenAI-compatible
//! chat-completions endpoint**: OpenAI itself, or a local Ollama, vLLM or llama.cpp
//! server. It labels a live-sale comment as purchase / question / cancel / other and
//! names the catalog SKUs and quantities, following the dataset's labelling rules.
//!
//! One comment is one `POST {base}/chat/completions`:
//!
//! - the **system prompt** holds the labelling rules, condensed ([`prompt::RULES`]),
//!   and the catalog as compact lines `SKU | name | aliases | lot` (no prices or
//!   stock: labels ignore stock, and the prompt stays cacheable per catalog);
//! - the **user message** is the comment, verbatim (cut at
//!   [`OpenAiConfig::max_comment_chars`]);
//! - `temperature: 0`, `max_tokens`, and `response_format` =
//!   `{"type":"json_schema","json_schema":{"name":"comment_intent","strict":true,"schema":…}}`
//!   with [`schema::INTENT_SCHEMA`]:
//!   `{intent: purchase|question|cancel|other, items: [{sku, qty ≥ 1}], confidence: 0..1, evidence}`.
//!
//! The answer (`choices[0].message.content`) is **never trusted**: local servers often
//! treat `strict` as a hint. It is stripped of Markdown fences, validated against the
//! same schema by a hand-written validator ([`schema::parse_answer`]), then checked
//! against the domain ([`schema::to_classification`]): every SKU in the catalog,
//! `qty` in 1..=1000, items for a purchase, none for a question or other.
//!
//! | what happened | error |
//! |---|---|
//! | not JSON, schema violation, unknown SKU, bad qty, refusal, no choices | [`ClassifyError::InvalidAnswer`] |
//! | HTTP 429, 5xx, other non-2xx, connection refused | [`ClassifyError::Unavailable`] |
//! | no answer within [`OpenAiConfig::timeout`] | [`ClassifyError::Timeout`] |
//!
//! Every one of those counts as a failure for the [`FallbackClassifier`], which then
//! answers with the built-in rules and opens its circuit breaker after enough failures
//! in a row, so a dead or slow model costs one timeout, not one per comment.
//!
//! The API key is a [`SecretString`](secrecy::SecretString), sent only as a sensitive
//! `Authorization: Bearer` header (and only when configured), redacted in `Debug`,
//! never logged, and scrubbed from any server error text kept in an error.
//!
//! TLS is rustls on *ring* with the platform's trust store, configured on the client
//! (no process-global crypto provider), exactly as meta-core's transport does.
//!
//! ## Getting started
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use meta_commerce::Catalog;
//! use meta_commerce::breaker::CircuitBreaker;
//! use meta_commerce::classify::{IntentClassifier, RulesClassifier};
//! use meta_core::clock::SystemClock;
//! use meta_llm::{OpenAiClassifier, OpenAiConfig};
//! use secrecy::SecretString;
//!
//! // A local Ollama needs no key ...
//! let local = OpenAiConfig::new("http://127.0.0.1:11434/v1", "qwen2.5:7b-instruct");
//! // ... OpenAI does.
//! let hosted = OpenAiConfig::new("https://api.openai.com/v1", "gpt-4o-mini")
//!     .with_api_key(SecretString::from(std::env::var("OPENAI_API_KEY")?))
//!     .with_timeout(Duration::from_secs(10));
//! # let _ = local;
//! let llm = OpenAiClassifier::new(hosted)?;
//!
//! // Fall back to the rules after 3 failures in a row, for 60 s.
//! let breaker = CircuitBreaker::new(Arc::new(SystemClock::default()), 3, Duration::from_secs(60));
//! let classifier = meta_llm::with_fallback(
//!     llm,
//!     Arc::new(RulesClassifier::new()),
//!     breaker,
//!     Duration::from_secs(12),
//! );
//!
//! let catalog = Arc::new(Catalog::from_csv(&std::fs::read("catalog.csv")?)?);
//! let c = classifier.classify("me llevo 2 de la polera roja M", &catalog).await?;
//! println!("{} {:?} {:.2} by {}", c.intent, c.items, c.confidence, c.classifier);
//! # Ok(()) }
//! ```
//!
//! ## Layout
//!
//! | module | what it holds |
//! |---|---|
//! | [`config`] | [`OpenAiConfig`] (endpoint, model, key, timeouts, limits) and [`ConfigError`] |
//! | [`classifier`] | [`OpenAiClassifier`]: the request, the response envelope, error mapping |
//! | [`schema`] | [`schema::INTENT_SCHEMA`], its validator, and the catalog checks |
//! | [`prompt`] | the condensed labelling rules and the catalog lines |
//!
//! The tests (`tests/openai/`) run against a local fake chat-completions server
//! (axum on `127.0.0.1:0`) that answers from a script and records every request.

use std::sync::Arc;
use std::time::Duration;

use meta_commerce::breaker::CircuitBreaker;
use meta_commerce::classify::{FallbackClassifier, IntentClassifier};

#[cfg(doc)]
use meta_commerce::classify::ClassifyError;

pub mod classifier;
pub mod config;
pub mod prompt;
pub mod schema;

pub use classifier::OpenAiClassifier;
pub use config::{ConfigError, OpenAiConfig};

/// `llm` guarded by `breaker` and `timeout`, answering with `rules` whenever the
/// model fails, times out or the breaker is open (the answer's `classifier` then
/// reads `rules (fallback: <why>)`).
///
/// A shorthand for [`FallbackClassifier::new`]. `timeout` bounds the whole call from
/// the pipeline's side; keep it at or above [`OpenAiConfig::timeout`] so a slow answer
/// is reported as the classifier's own [`ClassifyError::Timeout`].
#[must_use]
pub fn with_fallback(
    llm: OpenAiClassifier,
    rules: Arc<dyn IntentClassifier>,
    breaker: CircuitBreaker,
    timeout: Duration,
) -> FallbackClassifier {
    FallbackClassifier::new(Arc::new(llm), rules, breaker, timeout)
}
