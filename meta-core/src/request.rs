//! Requests: parameters, their encoding, uploads and per-request options.
//!
//! Encoding follows Meta's own SDKs: GET and DELETE parameters go in the query
//! string; POST parameters are form-encoded, with non-string values (maps, lists,
//! booleans, numbers) JSON-encoded compactly first; uploads are
//! `multipart/form-data`.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use secrecy::SecretString;
use serde::Serialize;
use serde_json::Value;

use crate::error::{ConfigError, Error, Result};
use crate::retry::RetryConfig;
use crate::version::ApiVersion;

/// An ordered list of request parameters.
///
/// Values are stored as JSON so that nested structures (targeting specs,
/// `attached_media`, `batch`) are encoded exactly once, compactly, when the request
/// is built. `null` values are dropped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params {
    pairs: Vec<(String, Value)>,
}

impl Params {
    /// No parameters.
    #[must_use]
    pub fn new() -> Self {
        Params::default()
    }

    /// Adds or replaces `key`. Any `Serialize` value is accepted; a value that fails
    /// to serialize is recorded as a string describing the failure so nothing is
    /// silently lost (it will be rejected by Meta with a clear error).
    #[must_use]
    pub fn set(mut self, key: impl Into<String>, value: impl Serialize) -> Self {
        self.insert(key, value);
        self
    }

    /// In-place [`Params::set`].
    pub fn insert(&mut self, key: impl Into<String>, value: impl Serialize) {
        let key = key.into();
        let value = serde_json::to_value(value)
            .unwrap_or_else(|e| Value::String(format!("<unserializable: {e}>")));
        if let Some(slot) = self.pairs.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
        } else {
            self.pairs.push((key, value));
        }
    }

    /// Sets `fields` from a list of field names (joined with commas).
    #[must_use]
    pub fn fields<I, S>(self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let joined = fields
            .into_iter()
            .map(|f| f.as_ref().trim().to_owned())
            .filter(|f| !f.is_empty())
            .collect::<Vec<_>>()
            .join(",");
        self.set("fields", joined)
    }

    /// The value for `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let idx = self.pairs.iter().position(|(k, _)| k == key)?;
        Some(self.pairs.remove(idx).1)
    }

    /// True when there are no parameters.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The parameters as wire strings, in insertion order, `null`s dropped.
    #[must_use]
    pub fn encoded_pairs(&self) -> Vec<(String, String)> {
        self.pairs
            .iter()
            .filter_map(|(k, v)| encode_value(v).map(|s| (k.clone(), s)))
            .collect()
    }

    /// `application/x-www-form-urlencoded` text of the parameters.
    #[must_use]
    pub fn to_form(&self) -> String {
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in self.encoded_pairs() {
            ser.append_pair(&k, &v);
        }
        ser.finish()
    }

    /// Parses a query string (`a=1&b=2`) into string parameters.
    #[must_use]
    pub fn from_query(query: &str) -> Self {
        let mut p = Params::new();
        for (k, v) in form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
            p.insert(k.into_owned(), v.into_owned());
        }
        p
    }
}

/// Encodes one parameter value as Meta's SDKs do: strings as is, everything else as
/// compact JSON (serde_json's map is ordered by key, matching Python's `sort_keys`).
fn encode_value(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => serde_json::to_string(other).ok(),
    }
}

impl<K: Into<String>, V: Serialize> FromIterator<(K, V)> for Params {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut p = Params::new();
        for (k, v) in iter {
            p.insert(k, v);
        }
        p
    }
}

impl<K: Into<String>, V: Serialize, const N: usize> From<[(K, V); N]> for Params {
    fn from(arr: [(K, V); N]) -> Self {
        arr.into_iter().collect()
    }
}

impl From<()> for Params {
    fn from((): ()) -> Self {
        Params::new()
    }
}

/// A file to upload as one `multipart/form-data` part.
#[derive(Clone)]
pub struct FilePart {
    /// Form field name (`source`, `video_file_chunk`, …).
    pub field: String,
    /// File name sent in `Content-Disposition`.
    pub file_name: String,
    /// MIME type, e.g. `image/jpeg`.
    pub content_type: String,
    /// The bytes.
    pub data: Bytes,
}

impl fmt::Debug for FilePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilePart")
            .field("field", &self.field)
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("len", &self.data.len())
            .finish()
    }
}

/// Encodes a multipart body. Returns the body and its `Content-Type` value.
pub(crate) fn encode_multipart(
    params: &Params,
    files: &[FilePart],
    boundary_seed: u64,
) -> Result<(Bytes, String)> {
    let boundary = format!("----meta-rs-{boundary_seed:016x}");
    let mut body: Vec<u8> = Vec::new();
    let check = |s: &str, what: &str| -> Result<()> {
        if s.contains(['"', '\r', '\n']) {
            Err(Error::from(ConfigError::new(format!(
                "multipart {what} `{s}` may not contain quotes or line breaks"
            ))))
        } else {
            Ok(())
        }
    };
    for (k, v) in params.encoded_pairs() {
        check(&k, "field name")?;
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(v.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    for f in files {
        check(&f.field, "field name")?;
        check(&f.file_name, "file name")?;
        check(&f.content_type, "content type")?;
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
                f.field, f.file_name, f.content_type
            )
            .as_bytes(),
        );
        body.extend_from_slice(&f.data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Ok((
        Bytes::from(body),
        format!("multipart/form-data; boundary={boundary}"),
    ))
}

/// Per-request overrides of the client's configuration (multi-tenant tools pass a
/// different Page token per call).
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct RequestOptions {
    /// Use this token instead of the client's.
    pub access_token: Option<SecretString>,
    /// Use this Graph version instead of the client's.
    pub api_version: Option<ApiVersion>,
    /// Total timeout for one attempt.
    pub timeout: Option<Duration>,
    /// Retry configuration for this call.
    pub retry: Option<RetryConfig>,
    /// Marks the call safe to repeat. Defaults: GET and DELETE `true`, POST `false`.
    pub idempotent: Option<bool>,
    /// The object id whose rate-limit scope this call counts against; derived from
    /// the path when absent (`act_1/campaigns` → `1`, `123_456` → `123`).
    pub rate_object: Option<String>,
    /// Skip the `/vNN.N/` path prefix (Instagram Login's `graph.instagram.com/access_token`,
    /// upload hosts that carry the version elsewhere in the path).
    pub unversioned: bool,
    /// Send the token as `Authorization: OAuth <token>` instead of an `access_token`
    /// parameter (required by Meta's upload hosts).
    pub token_in_header: bool,
    /// Extra request headers (e.g. `offset`, `file_size` for resumable uploads).
    pub headers: Vec<(String, String)>,
    /// A raw body with its content type; parameters then go in the query string.
    pub raw_body: Option<(bytes::Bytes, String)>,
}

impl fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestOptions")
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "[redacted]"),
            )
            .field("api_version", &self.api_version)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("idempotent", &self.idempotent)
            .field("rate_object", &self.rate_object)
            .field("unversioned", &self.unversioned)
            .field("token_in_header", &self.token_in_header)
            .field("headers", &self.headers)
            .field(
                "raw_body_len",
                &self.raw_body.as_ref().map(|(b, _)| b.len()),
            )
            .finish()
    }
}

/// One Graph request: method, path, parameters, optional files and options.
///
/// Build it with [`GraphRequest::get`] / [`post`](GraphRequest::post) /
/// [`delete`](GraphRequest::delete) and send it with
/// [`Client::execute`](crate::Client::execute) or
/// [`Client::execute_raw`](crate::Client::execute_raw).
#[derive(Debug, Clone)]
pub struct GraphRequest {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) params: Params,
    pub(crate) files: Vec<FilePart>,
    pub(crate) options: RequestOptions,
}

impl GraphRequest {
    /// A request with any method. Only GET, POST and DELETE are used by Graph.
    #[must_use]
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        GraphRequest {
            method,
            path: path.into(),
            params: Params::new(),
            files: Vec::new(),
            options: RequestOptions::default(),
        }
    }
    /// `GET path`.
    #[must_use]
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }
    /// `POST path`.
    #[must_use]
    pub fn post(path: impl Into<String>) -> Self {
        Self::new(Method::POST, path)
    }
    /// `DELETE path`.
    #[must_use]
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }
    /// Replaces the parameters.
    #[must_use]
    pub fn params(mut self, params: impl Into<Params>) -> Self {
        self.params = params.into();
        self
    }
    /// Adds one parameter.
    #[must_use]
    pub fn param(mut self, key: impl Into<String>, value: impl Serialize) -> Self {
        self.params.insert(key, value);
        self
    }
    /// Sets `fields`.
    #[must_use]
    pub fn fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.params = std::mem::take(&mut self.params).fields(fields);
        self
    }
    /// Adds a file; the request is then sent as `multipart/form-data`.
    #[must_use]
    pub fn file(mut self, part: FilePart) -> Self {
        self.files.push(part);
        self
    }
    /// Uses this token for this call only.
    #[must_use]
    pub fn access_token(mut self, token: SecretString) -> Self {
        self.options.access_token = Some(token);
        self
    }
    /// Uses this Graph version for this call only.
    #[must_use]
    pub fn api_version(mut self, version: ApiVersion) -> Self {
        self.options.api_version = Some(version);
        self
    }
    /// Per-attempt timeout for this call.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = Some(timeout);
        self
    }
    /// Retry configuration for this call.
    #[must_use]
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.options.retry = Some(retry);
        self
    }
    /// Marks the call safe (or unsafe) to send more than once. A POST is retried
    /// only when marked idempotent.
    #[must_use]
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.options.idempotent = Some(idempotent);
        self
    }
    /// Counts this call against the rate-limit scope of `object_id`.
    #[must_use]
    pub fn rate_object(mut self, object_id: impl Into<String>) -> Self {
        self.options.rate_object = Some(object_id.into());
        self
    }
    /// Sends the path without the `/vNN.N/` prefix.
    #[must_use]
    pub fn unversioned(mut self) -> Self {
        self.options.unversioned = true;
        self
    }
    /// Sends the token as `Authorization: OAuth <token>` rather than as a parameter.
    #[must_use]
    pub fn token_in_header(mut self) -> Self {
        self.options.token_in_header = true;
        self
    }
    /// Adds a request header. Names and values are validated when the request is built;
    /// an invalid one fails the call with [`crate::Error::Config`] before sending.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.headers.push((name.into(), value.into()));
        self
    }
    /// Sends `body` as the raw request body with `content_type` (binary uploads);
    /// parameters then travel in the query string.
    #[must_use]
    pub fn raw_body(
        mut self,
        body: impl Into<bytes::Bytes>,
        content_type: impl Into<String>,
    ) -> Self {
        self.options.raw_body = Some((body.into(), content_type.into()));
        self
    }
    /// The method.
    #[must_use]
    pub fn method(&self) -> &Method {
        &self.method
    }
    /// The path as given.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }
    /// The parameters.
    #[must_use]
    pub fn get_params(&self) -> &Params {
        &self.params
    }
    /// The options.
    #[must_use]
    pub fn options(&self) -> &RequestOptions {
        &self.options
    }
    /// Whether the call may be repeated: the explicit marker, else GET/DELETE.
    #[must_use]
    pub fn is_idempotent(&self) -> bool {
        self.options
            .idempotent
            .unwrap_or(self.method == Method::GET || self.method == Method::DELETE)
    }
}

/// Splits a request path into the part after an optional version prefix, validating
/// it. Returns the normalised path without leading slash, and any query string.
pub(crate) fn normalise_path(path: &str) -> Result<(String, Option<String>)> {
    let p = path.trim();
    if p.contains("://") {
        return Err(ConfigError::new(format!(
            "absolute URLs are not accepted as paths (`{p}`); pass a path such as `me/accounts`"
        ))
        .into());
    }
    if p.chars().any(|c| c.is_control() || c == ' ' || c == '#') {
        return Err(ConfigError::new(format!("invalid characters in path `{p}`")).into());
    }
    let (p, query) = match p.split_once('?') {
        Some((a, q)) => (a, Some(q.to_owned())),
        None => (p, None),
    };
    let p = p.trim_start_matches('/');
    // Strip a leading version segment so callers may pass `v25.0/me` as found in
    // `paging.next` URLs or batch `relative_url`s.
    let p = match p.split_once('/') {
        Some((first, rest))
            if first.parse::<ApiVersion>().is_ok() && first.starts_with(['v', 'V']) =>
        {
            rest
        }
        None if p.parse::<ApiVersion>().is_ok() && p.starts_with(['v', 'V']) => "",
        _ => p,
    };
    if p.split('/').any(|seg| seg == "..") {
        return Err(ConfigError::new(format!("path `{path}` may not contain `..`")).into());
    }
    Ok((p.to_owned(), query))
}

/// The object id whose rate-limit scope a path counts against: the first path
/// segment when it is an id (`123`, `act_123`, `123_456` → `123`).
#[must_use]
pub fn rate_object_for_path(path: &str) -> Option<String> {
    let first = path.trim_start_matches('/').split(['/', '?']).next()?;
    if let Some(acct) = first.strip_prefix("act_") {
        return acct
            .chars()
            .all(|c| c.is_ascii_digit())
            .then(|| acct.to_owned())
            .filter(|s| !s.is_empty());
    }
    let head = first.split('_').next().unwrap_or(first);
    (!head.is_empty() && head.chars().all(|c| c.is_ascii_digit())).then(|| head.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encodes_like_the_official_sdks() {
        let p = Params::new()
            .set("message", "hola mundo & más")
            .set("published", false)
            .set("limit", 25)
            .set(
                "targeting",
                json!({"geo_locations": {"countries": ["CL", "AR"]}, "age_min": 18}),
            )
            .set("attached_media", json!([{"media_fbid": "1"}]))
            .set("skip", Value::Null);
        let pairs = p.encoded_pairs();
        assert_eq!(pairs.len(), 5);
        assert_eq!(pairs[1], ("published".into(), "false".into()));
        assert_eq!(pairs[2], ("limit".into(), "25".into()));
        // compact, keys sorted
        assert_eq!(
            pairs[3].1,
            r#"{"age_min":18,"geo_locations":{"countries":["CL","AR"]}}"#
        );
        assert_eq!(pairs[4].1, r#"[{"media_fbid":"1"}]"#);
        let form = p.to_form();
        assert!(form.starts_with("message=hola+mundo+%26+m%C3%A1s&published=false"));
    }

    #[test]
    fn set_replaces_and_fields_join() {
        let p = Params::new()
            .set("a", 1)
            .set("a", 2)
            .fields(["id", " name ", ""]);
        assert_eq!(
            p.encoded_pairs(),
            vec![
                ("a".into(), "2".into()),
                ("fields".into(), "id,name".into())
            ]
        );
        let q = Params::from_query("?after=abc%3D&limit=5");
        assert_eq!(q.get("after"), Some(&json!("abc=")));
    }

    #[test]
    fn multipart_body_is_well_formed() {
        let p = Params::new().set("caption", "hi");
        let f = FilePart {
            field: "source".into(),
            file_name: "a.jpg".into(),
            content_type: "image/jpeg".into(),
            data: Bytes::from_static(b"\xff\xd8binary"),
        };
        let (body, ct) = encode_multipart(&p, std::slice::from_ref(&f), 7).unwrap();
        let boundary = ct.split("boundary=").nth(1).unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(text.starts_with(&format!("--{boundary}\r\n")));
        assert!(text.contains("name=\"caption\"\r\n\r\nhi\r\n"));
        assert!(text.contains("filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"));
        assert!(text.ends_with(&format!("--{boundary}--\r\n")));
        let bad = FilePart {
            file_name: "a\".jpg".into(),
            ..f
        };
        assert!(encode_multipart(&p, &[bad], 7).is_err());
    }

    #[test]
    fn paths_are_normalised_and_validated() {
        assert_eq!(
            normalise_path("/v25.0/me/accounts?limit=2").unwrap(),
            ("me/accounts".into(), Some("limit=2".into()))
        );
        assert_eq!(normalise_path("me").unwrap().0, "me");
        assert_eq!(normalise_path("").unwrap().0, "");
        assert_eq!(normalise_path("v26.0").unwrap().0, "");
        assert!(normalise_path("https://evil.example/x").is_err());
        assert!(normalise_path("me/../x").is_err());
        assert!(normalise_path("me\n").is_ok()); // trimmed
        assert!(normalise_path("m e").is_err());
    }

    #[test]
    fn rate_objects_from_paths() {
        assert_eq!(
            rate_object_for_path("act_123/campaigns").as_deref(),
            Some("123")
        );
        assert_eq!(rate_object_for_path("/123_456").as_deref(), Some("123"));
        assert_eq!(
            rate_object_for_path("1789/feed?limit=1").as_deref(),
            Some("1789")
        );
        assert_eq!(rate_object_for_path("me/accounts"), None);
        assert_eq!(rate_object_for_path("act_x"), None);
        assert_eq!(rate_object_for_path(""), None);
    }

    #[test]
    fn idempotency_defaults() {
        assert!(GraphRequest::get("me").is_idempotent());
        assert!(GraphRequest::delete("1").is_idempotent());
        assert!(!GraphRequest::post("1/feed").is_idempotent());
        assert!(
            GraphRequest::post("1/feed")
                .idempotent(true)
                .is_idempotent()
        );
    }
}
