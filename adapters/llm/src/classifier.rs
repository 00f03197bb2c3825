//! [`OpenAiClassifier`]: one `POST {base}/chat/completions` per comment, the answer
//! checked by [`crate::schema`], errors mapped to [`ClassifyError`] so the
//! [`FallbackClassifier`](meta_commerce::classify::FallbackClassifier) can count them.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use meta_commerce::Catalog;
use meta_commerce::classify::{Classification, ClassifyError, ClassifyFuture, IntentClassifier};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use rustls_platform_verifier::BuilderVerifierExt;
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::config::{ConfigError, OpenAiConfig};
use crate::{prompt, schema};

/// Bodies above this are refused: a chat answer for one comment is a few hundred
/// bytes, so anything near a megabyte is a misrouted URL or a broken server.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// How much of a server's error message or a refusal is kept in the error.
const MAX_DETAIL_CHARS: usize = 200;

/// An [`IntentClassifier`] backed by an OpenAI-compatible chat-completions endpoint.
///
/// Named `llm:<model>`. Cheap to share behind an `Arc`; the system prompt is built
/// once per catalog [`fingerprint`](Catalog::fingerprint) and reused.
pub struct OpenAiClassifier {
    http: reqwest::Client,
    endpoint: String,
    name: String,
    config: OpenAiConfig,
    // Built once, marked sensitive so hyper and reqwest never print it.
    auth: Option<HeaderValue>,
    response_format: serde_json::Value,
    prompt: Mutex<Option<(u64, Arc<str>)>>,
}

impl fmt::Debug for OpenAiClassifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiClassifier")
            .field("endpoint", &self.endpoint)
            .field("model", &self.config.model)
            .field("api_key", &self.auth.as_ref().map(|_| "[REDACTED]"))
            .field("timeout", &self.config.timeout)
            .field("max_tokens", &self.config.max_tokens)
            .finish_non_exhaustive()
    }
}

impl OpenAiClassifier {
    /// A classifier with its own HTTP client: rustls on ring with the platform's trust
    /// store, no process-global crypto provider (the same setup as meta-core's
    /// transport).
    ///
    /// # Errors
    /// [`ConfigError`] for a bad base URL, an empty model, a zero limit, a key that
    /// cannot be a header, or a TLS/client setup failure.
    pub fn new(config: OpenAiConfig) -> Result<Self, ConfigError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ConfigError::Client(format!("TLS protocol setup failed: {e}")))?
            .with_platform_verifier()
            .map_err(|e| ConfigError::Client(format!("TLS verifier setup failed: {e}")))?
            .with_no_client_auth();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(config.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(concat!("meta-llm/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError::Client(e.to_string()))?;
        Self::with_client(config, http)
    }

    /// A classifier over an existing reqwest client (proxies, custom roots, shared
    /// pools). The client's own timeouts apply in addition to `config.timeout`.
    ///
    /// # Errors
    /// As [`new`](Self::new), minus client setup.
    pub fn with_client(config: OpenAiConfig, http: reqwest::Client) -> Result<Self, ConfigError> {
        let endpoint = endpoint(&config.base_url)?;
        if config.model.trim().is_empty() {
            return Err(ConfigError::EmptyModel);
        }
        if config.timeout.is_zero() {
            return Err(ConfigError::ZeroLimit("timeout"));
        }
        if config.max_tokens == 0 {
            return Err(ConfigError::ZeroLimit("max_tokens"));
        }
        if config.max_comment_chars == 0 {
            return Err(ConfigError::ZeroLimit("max_comment_chars"));
        }
        let auth = match &config.api_key {
            Some(key) => {
                let mut v = HeaderValue::from_str(&format!("Bearer {}", key.expose_secret()))
                    .map_err(|_| ConfigError::InvalidApiKey)?;
                v.set_sensitive(true);
                Some(v)
            }
            None => None,
        };
        if auth.is_some() && endpoint.starts_with("http://") && !is_loopback(&endpoint) {
            tracing::warn!(
                endpoint = %endpoint,
                "the LLM API key will be sent over plain HTTP to a non-local host"
            );
        }
        let response_format =
            schema::response_format().map_err(|e| ConfigError::Schema(e.to_string()))?;
        Ok(OpenAiClassifier {
            http,
            name: format!("llm:{}", config.model),
            endpoint,
            config,
            auth,
            response_format,
            prompt: Mutex::new(None),
        })
    }

    /// The URL requests go to (`…/chat/completions`).
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The configuration (its key redacted in `Debug`).
    #[must_use]
    pub fn config(&self) -> &OpenAiConfig {
        &self.config
    }

    /// The system prompt for `catalog`, cached by fingerprint.
    fn system_prompt(&self, catalog: &Catalog) -> Arc<str> {
        let fp = catalog.fingerprint();
        // Poisoning cannot leave a half-written cache entry (it is replaced whole).
        let mut cache = self.prompt.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((cached, p)) = cache.as_ref()
            && *cached == fp
        {
            return Arc::clone(p);
        }
        let p: Arc<str> = prompt::system_prompt(catalog).into();
        *cache = Some((fp, Arc::clone(&p)));
        p
    }

    /// The request body for one comment.
    #[must_use]
    pub fn request_body(&self, text: &str, catalog: &Catalog) -> serde_json::Value {
        let comment: String = text.chars().take(self.config.max_comment_chars).collect();
        serde_json::json!({
            "model": self.config.model,
            "messages": [
                { "role": "system", "content": &*self.system_prompt(catalog) },
                { "role": "user", "content": comment },
            ],
            "temperature": 0,
            "max_tokens": self.config.max_tokens,
            "response_format": self.response_format,
        })
    }

    async fn call(&self, text: &str, catalog: &Catalog) -> Result<Classification, ClassifyError> {
        let body = serde_json::to_vec(&self.request_body(text, catalog))
            .map_err(|e| ClassifyError::Unavailable(format!("could not encode request: {e}")))?;
        let mut req = self
            .http
            .post(&self.endpoint)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .timeout(self.config.timeout)
            .body(body);
        if let Some(auth) = &self.auth {
            req = req.header(AUTHORIZATION, auth.clone());
        }
        let mut resp = req.send().await.map_err(|e| self.transport_error(&e))?;
        let status = resp.status();
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport_error(&e))? {
            if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(ClassifyError::InvalidAnswer(format!(
                    "response larger than {MAX_RESPONSE_BYTES} bytes"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            let err = self.status_error(status, &bytes);
            tracing::debug!(classifier = %self.name, %status, error = %err, "chat completion failed");
            return Err(err);
        }
        let result = self.answer(&bytes, catalog);
        match &result {
            Ok(c) => tracing::debug!(
                classifier = %self.name,
                intent = %c.intent,
                items = c.items.len(),
                confidence = c.confidence,
                "chat completion classified"
            ),
            Err(e) => {
                tracing::debug!(classifier = %self.name, error = %e, "chat completion rejected")
            }
        }
        result
    }

    /// Reads a 2xx body: the envelope, then `choices[0].message`.
    fn answer(&self, body: &[u8], catalog: &Catalog) -> Result<Classification, ClassifyError> {
        let completion: Completion = serde_json::from_slice(body).map_err(|e| {
            ClassifyError::InvalidAnswer(format!("response is not a chat completion: {e}"))
        })?;
        let Some(choice) = completion.choices.into_iter().next() else {
            return Err(ClassifyError::InvalidAnswer(
                "response has no choices".to_owned(),
            ));
        };
        let truncated = choice.finish_reason.as_deref() == Some("length");
        let message = choice.message.unwrap_or_default();
        if let Some(refusal) = message.refusal.as_deref().map(str::trim)
            && !refusal.is_empty()
        {
            return Err(ClassifyError::InvalidAnswer(format!(
                "the model refused: {}",
                self.detail(refusal)
            )));
        }
        let content = message
            .content
            .as_ref()
            .map(content_text)
            .unwrap_or_default();
        let parsed = schema::parse_answer(&content).map_err(|e| match e {
            ClassifyError::InvalidAnswer(reason) if truncated => {
                ClassifyError::InvalidAnswer(format!(
                    "{reason} (answer cut at max_tokens = {})",
                    self.config.max_tokens
                ))
            }
            other => other,
        })?;
        schema::to_classification(parsed, catalog, &self.name)
    }

    fn status_error(&self, status: StatusCode, body: &[u8]) -> ClassifyError {
        // Auth errors can echo part of the key (OpenAI prints a masked one): keep none
        // of their text.
        let detail = if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            None
        } else {
            error_message(body).map(|m| self.detail(&m))
        };
        let what = if status == StatusCode::TOO_MANY_REQUESTS {
            "rate limited"
        } else if status.is_server_error() {
            "server error"
        } else {
            // 400/404 and friends: a model the server lacks, or a server without
            // json_schema support. Still "unavailable": the fallback should answer.
            "request refused"
        };
        ClassifyError::Unavailable(match detail {
            Some(d) if !d.is_empty() => format!("HTTP {status} ({what}): {d}"),
            _ => format!("HTTP {status} ({what})"),
        })
    }

    fn transport_error(&self, e: &reqwest::Error) -> ClassifyError {
        if e.is_timeout() {
            return ClassifyError::Timeout(if e.is_connect() {
                self.config.connect_timeout
            } else {
                self.config.timeout
            });
        }
        let what = if e.is_connect() {
            "connection failed"
        } else if e.is_body() || e.is_decode() {
            "response body could not be read"
        } else {
            "request failed"
        };
        // The deepest cause says what happened ("Connection refused"); reqwest's own
        // Display would add the URL, which we already know.
        let mut root: &dyn std::error::Error = e;
        while let Some(next) = root.source() {
            root = next;
        }
        ClassifyError::Unavailable(format!("{what}: {root}"))
    }

    /// Trims server-supplied text and removes the key, should a server echo it.
    fn detail(&self, text: &str) -> String {
        let mut t: String = text.trim().chars().take(MAX_DETAIL_CHARS).collect();
        if let Some(key) = &self.config.api_key {
            let key = key.expose_secret();
            if !key.is_empty() {
                t = t.replace(key, "[REDACTED]");
            }
        }
        t
    }
}

impl IntentClassifier for OpenAiClassifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn classify<'a>(&'a self, text: &'a str, catalog: &'a Arc<Catalog>) -> ClassifyFuture<'a> {
        Box::pin(self.call(text, catalog))
    }
}

#[derive(Deserialize)]
struct Completion {
    #[serde(default)]
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    message: Option<Message>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct Message {
    #[serde(default)]
    content: Option<serde_json::Value>,
    #[serde(default)]
    refusal: Option<String>,
}

/// `content` is a string, or (some servers) an array of `{type: "text", text}` parts.
fn content_text(content: &serde_json::Value) -> String {
    match content {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(serde_json::Value::as_str))
            .collect(),
        _ => String::new(),
    }
}

/// `{"error": {"message": …}}` (OpenAI, vLLM) or `{"error": "…"}` (Ollama).
fn error_message(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let e = v.get("error")?;
    e.get("message")
        .and_then(serde_json::Value::as_str)
        .or_else(|| e.as_str())
        .map(str::to_owned)
}

fn endpoint(base: &str) -> Result<String, ConfigError> {
    let bad = |reason: &str| ConfigError::InvalidBaseUrl {
        url: base.to_owned(),
        reason: reason.to_owned(),
    };
    let url = url::Url::parse(base.trim()).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("the scheme must be http or https"));
    }
    if url.host_str().is_none() {
        return Err(bad("no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("no query string or fragment (put the key in api_key)"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("no credentials in the URL (put the key in api_key)"));
    }
    let s = url.as_str().trim_end_matches('/');
    Ok(if s.ends_with("/chat/completions") {
        s.to_owned()
    } else {
        format!("{s}/chat/completions")
    })
}

fn is_loopback(endpoint: &str) -> bool {
    url::Url::parse(endpoint).is_ok_and(|u| match u.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    #[test]
    fn endpoints() {
        for (base, want) in [
            (
                "http://127.0.0.1:11434/v1",
                "http://127.0.0.1:11434/v1/chat/completions",
            ),
            (
                "https://api.openai.com/v1/",
                "https://api.openai.com/v1/chat/completions",
            ),
            (
                "http://localhost:8000/v1/chat/completions",
                "http://localhost:8000/v1/chat/completions",
            ),
        ] {
            assert_eq!(endpoint(base).unwrap(), want);
        }
        for bad in [
            "127.0.0.1:11434/v1",
            "ftp://x/v1",
            "https://api.openai.com/v1?key=1",
            "https://user:pw@api.openai.com/v1",
            "not a url",
        ] {
            assert!(endpoint(bad).is_err(), "{bad}");
        }
        assert!(is_loopback("http://127.0.0.1:1/v1"));
        assert!(is_loopback("http://[::1]:1/v1"));
        assert!(!is_loopback("http://10.0.0.2/v1"));
    }

    #[test]
    fn config_is_checked_and_the_key_never_shows() {
        let key = "sk-test-very-secret";
        let c = OpenAiClassifier::new(
            OpenAiConfig::new("http://127.0.0.1:9/v1", "m").with_api_key(SecretString::from(key)),
        )
        .unwrap();
        assert_eq!(c.name(), "llm:m");
        let dbg = format!("{c:?} {:?}", c.config());
        assert!(!dbg.contains(key), "{dbg}");
        assert!(c.detail(&format!("bad key {key}")).contains("[REDACTED]"));

        assert!(matches!(
            OpenAiClassifier::new(OpenAiConfig::new("http://127.0.0.1:9/v1", " ")),
            Err(ConfigError::EmptyModel)
        ));
        assert!(matches!(
            OpenAiClassifier::new(
                OpenAiConfig::new("http://127.0.0.1:9/v1", "m").with_timeout(Duration::ZERO)
            ),
            Err(ConfigError::ZeroLimit("timeout"))
        ));
        assert!(matches!(
            OpenAiClassifier::new(
                OpenAiConfig::new("http://127.0.0.1:9/v1", "m")
                    .with_api_key(SecretString::from("a\nb"))
            ),
            Err(ConfigError::InvalidApiKey)
        ));
    }

    #[test]
    fn error_bodies_and_content_parts() {
        assert_eq!(
            error_message(br#"{"error":{"message":"model not found","type":"x"}}"#).as_deref(),
            Some("model not found")
        );
        assert_eq!(
            error_message(br#"{"error":"model 'x' not found"}"#).as_deref(),
            Some("model 'x' not found")
        );
        assert_eq!(error_message(b"<html>502</html>"), None);
        let parts =
            serde_json::json!([{"type":"text","text":"{\"a\":"},{"type":"text","text":"1}"}]);
        assert_eq!(content_text(&parts), "{\"a\":1}");
    }
}
