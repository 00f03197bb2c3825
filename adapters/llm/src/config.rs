//! [`OpenAiConfig`]: where the endpoint is, which model, the key, and the limits.

use std::time::Duration;

use secrecy::SecretString;

/// How to reach an OpenAI-compatible chat-completions endpoint.
///
/// `Debug` shows the key as `[REDACTED]` (it is a [`SecretString`]); the key is sent
/// only as an `Authorization: Bearer` header, marked sensitive, and never logged.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OpenAiConfig {
    /// The API base, up to and including the version: `https://api.openai.com/v1`,
    /// `http://127.0.0.1:11434/v1` (Ollama), `http://127.0.0.1:8000/v1` (vLLM,
    /// llama.cpp). `/chat/completions` is appended; a URL that already ends with it is
    /// used as is. No query string or credentials in the URL: use
    /// [`api_key`](Self::api_key).
    pub base_url: String,
    /// The model name the server knows (`gpt-4o-mini`, `qwen2.5:7b-instruct`).
    pub model: String,
    /// The bearer key, when the server needs one (local servers usually do not).
    pub api_key: Option<SecretString>,
    /// The whole request's deadline, answer included (default 20 s). When it passes
    /// the classifier returns `ClassifyError::Timeout`.
    pub timeout: Duration,
    /// The TCP + TLS connect deadline (default 5 s).
    pub connect_timeout: Duration,
    /// `max_tokens` sent with each request (default 300: an answer is ~60 tokens, the
    /// rest is room for a verbose evidence line).
    pub max_tokens: u32,
    /// Comments longer than this (in characters) are cut before sending (default
    /// 2,000), so one pasted essay cannot run up the bill.
    pub max_comment_chars: usize,
}

impl OpenAiConfig {
    /// The default request timeout.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
    /// The default connect timeout.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
    /// The default `max_tokens`.
    pub const DEFAULT_MAX_TOKENS: u32 = 300;
    /// The default comment cut-off, in characters.
    pub const DEFAULT_MAX_COMMENT_CHARS: usize = 2_000;

    /// `model` at `base_url`, no key, default limits.
    #[must_use]
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        OpenAiConfig {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            timeout: Self::DEFAULT_TIMEOUT,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            max_tokens: Self::DEFAULT_MAX_TOKENS,
            max_comment_chars: Self::DEFAULT_MAX_COMMENT_CHARS,
        }
    }

    /// Sets the bearer key.
    #[must_use]
    pub fn with_api_key(mut self, key: SecretString) -> Self {
        self.api_key = Some(key);
        self
    }

    /// Sets or clears the bearer key.
    pub fn set_api_key(&mut self, key: Option<SecretString>) -> &mut Self {
        self.api_key = key;
        self
    }

    /// Sets the request timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the connect timeout.
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets `max_tokens`.
    #[must_use]
    pub fn with_max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = max_tokens;
        self
    }

    /// Sets the comment cut-off.
    #[must_use]
    pub fn with_max_comment_chars(mut self, chars: usize) -> Self {
        self.max_comment_chars = chars;
        self
    }
}

/// Why an [`OpenAiClassifier`](crate::OpenAiClassifier) could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The base URL is not an absolute `http(s)` URL without query or credentials.
    #[error("invalid base URL `{url}`: {reason}")]
    InvalidBaseUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The model name is empty.
    #[error("the model name is empty")]
    EmptyModel,
    /// A limit is zero.
    #[error("{0} must be greater than zero")]
    ZeroLimit(&'static str),
    /// The API key cannot be sent as a header (control characters, newlines).
    #[error("the API key contains characters that cannot be sent in a header")]
    InvalidApiKey,
    /// TLS or the HTTP client could not be set up.
    #[error("HTTP client setup failed: {0}")]
    Client(String),
    /// The built-in answer schema is not JSON (a bug; a unit test guards it).
    #[error("the answer schema is not valid JSON: {0}")]
    Schema(String),
}
