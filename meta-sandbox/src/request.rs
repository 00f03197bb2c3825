//! The transport-neutral request and response the routes work on, so HTTP requests and
//! batch items go through exactly the same code.

use http::Method;
use serde_json::Value;

use crate::error::GraphError;

/// Graph versions the sandbox serves.
pub(crate) const SUPPORTED_VERSIONS: &[&str] = &["v24.0", "v25.0", "v26.0"];
/// The version used for unversioned paths.
pub(crate) const DEFAULT_VERSION: &str = "v26.0";

/// Request parameters from the query and the body, in arrival order; the second list
/// holds the file parts of a `multipart/form-data` body.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(Vec<(String, String)>, Vec<FilePart>);

/// One file part of a `multipart/form-data` body (`source`, `video_file_chunk`, ...).
#[derive(Clone)]
pub(crate) struct FilePart {
    pub(crate) name: String,
    pub(crate) content_type: Option<String>,
    pub(crate) data: Vec<u8>,
}

impl std::fmt::Debug for FilePart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilePart")
            .field("name", &self.name)
            .field("content_type", &self.content_type)
            .field("len", &self.data.len())
            .finish()
    }
}

impl Params {
    /// Appends the pairs of an `application/x-www-form-urlencoded` string.
    pub(crate) fn extend_urlencoded(&mut self, input: &[u8]) {
        self.0
            .extend(form_urlencoded::parse(input).map(|(k, v)| (k.into_owned(), v.into_owned())));
    }

    /// Appends the members of a JSON object body. Non-string values are kept JSON-encoded,
    /// the way form-encoded Graph params carry nested values.
    pub(crate) fn extend_json(&mut self, body: &[u8]) -> Result<(), GraphError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|_| GraphError::param("(#100) The request body is not valid JSON"))?;
        let Value::Object(map) = value else {
            return Err(GraphError::param(
                "(#100) The request body must be a JSON object",
            ));
        };
        for (k, v) in map {
            let v = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            self.0.push((k, v));
        }
        Ok(())
    }

    /// The last value of `key` (body params come after query params, so they win).
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A non-empty value of `key`.
    pub(crate) fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The last file part named `name`.
    pub(crate) fn file(&self, name: &str) -> Option<&FilePart> {
        self.1.iter().rev().find(|f| f.name == name)
    }

    /// Appends the parts of a `multipart/form-data` body: parts with a `filename` are
    /// files, the others text params. `content_type` is the header as sent (the boundary
    /// is case-sensitive).
    pub(crate) fn extend_multipart(
        &mut self,
        content_type: &str,
        body: &[u8],
    ) -> Result<(), GraphError> {
        let bad = || GraphError::param("(#100) The multipart request body could not be parsed");
        let boundary = content_type
            .split(';')
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
            .map(|(_, v)| v.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty())
            .ok_or_else(bad)?;
        let delimiter = format!("--{boundary}").into_bytes();
        let mut rest = match find(body, &delimiter) {
            Some(i) => &body[i + delimiter.len()..],
            None => return Err(bad()),
        };
        loop {
            if rest.starts_with(b"--") {
                return Ok(());
            }
            rest = rest.strip_prefix(b"\r\n").ok_or_else(bad)?;
            let head_end = find(rest, b"\r\n\r\n").ok_or_else(bad)?;
            let head = std::str::from_utf8(&rest[..head_end]).map_err(|_| bad())?;
            rest = &rest[head_end + 4..];
            let mut end_marker = b"\r\n".to_vec();
            end_marker.extend_from_slice(&delimiter);
            let data_end = find(rest, &end_marker).ok_or_else(bad)?;
            let data = &rest[..data_end];
            rest = &rest[data_end + end_marker.len()..];
            let (mut name, mut file_name, mut part_type) = (None, None, None);
            for line in head.split("\r\n") {
                let Some((h, v)) = line.split_once(':') else {
                    continue;
                };
                if h.trim().eq_ignore_ascii_case("content-type") {
                    part_type = Some(v.trim().to_owned());
                } else if h.trim().eq_ignore_ascii_case("content-disposition") {
                    for attr in v.split(';').filter_map(|a| a.trim().split_once('=')) {
                        let value = attr.1.trim().trim_matches('"').to_owned();
                        match attr.0.trim() {
                            "name" => name = Some(value),
                            "filename" => file_name = Some(value),
                            _ => {}
                        }
                    }
                }
            }
            let name = name.ok_or_else(bad)?;
            if file_name.is_some() {
                self.1.push(FilePart {
                    name,
                    content_type: part_type,
                    data: data.to_vec(),
                });
            } else {
                let text = std::str::from_utf8(data).map_err(|_| bad())?;
                self.0.push((name, text.to_owned()));
            }
        }
    }
}

/// The first index of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One Graph call, from an HTTP request or a batch item.
#[derive(Debug, Clone)]
pub(crate) struct GraphRequest {
    pub(crate) method: Method,
    /// The path as received, without the query (recorded in the request log).
    pub(crate) path: String,
    pub(crate) params: Params,
    /// A token from `Authorization: Bearer|OAuth <token>`.
    pub(crate) header_token: Option<String>,
    /// For batch items: the batch's own token, used when the item has none.
    pub(crate) fallback_token: Option<String>,
    /// For batch items: the batch request's version, used when `relative_url` has none.
    pub(crate) default_version: Option<String>,
}

impl GraphRequest {
    /// The access token, from the params, then the header, then the batch.
    pub(crate) fn token(&self) -> Option<&str> {
        self.params
            .non_empty("access_token")
            .or(self.header_token.as_deref())
            .or(self.fallback_token.as_deref())
    }

    /// Splits the path into its version and segments. Unknown versions are Graph errors.
    pub(crate) fn route(&self) -> Result<(String, Vec<String>), GraphError> {
        let mut segs: Vec<String> = self
            .path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let default = self
            .default_version
            .clone()
            .unwrap_or_else(|| DEFAULT_VERSION.to_owned());
        match segs.first() {
            Some(first) if looks_like_version(first) => {
                if SUPPORTED_VERSIONS.contains(&first.as_str()) {
                    let v = segs.remove(0);
                    Ok((v, segs))
                } else {
                    Err(GraphError::unknown_path(first))
                }
            }
            _ => Ok((default, segs)),
        }
    }

    /// The requested `fields=`, top-level names only (nested `{...}` and `.modifier()`
    /// parts are accepted and ignored).
    pub(crate) fn fields(&self) -> Option<Vec<String>> {
        let raw = self.params.non_empty("fields")?;
        let mut out = Vec::new();
        let mut depth = 0usize;
        let mut current = String::new();
        let mut skipping = false;
        for c in raw.chars() {
            match c {
                '{' | '(' => {
                    depth += 1;
                    skipping = true;
                }
                '}' | ')' => depth = depth.saturating_sub(1),
                ',' if depth == 0 => {
                    push_field(&mut out, &mut current);
                    skipping = false;
                }
                '.' if depth == 0 => skipping = true,
                _ if depth == 0 && !skipping => current.push(c),
                _ => {}
            }
        }
        push_field(&mut out, &mut current);
        Some(out)
    }
}

fn push_field(out: &mut Vec<String>, current: &mut String) {
    let f = current.trim();
    if !f.is_empty() {
        out.push(f.to_owned());
    }
    current.clear();
}

fn looks_like_version(seg: &str) -> bool {
    let Some(rest) = seg.strip_prefix('v') else {
        return false;
    };
    let mut parts = rest.splitn(2, '.');
    let major = parts.next().unwrap_or_default();
    let minor = parts.next().unwrap_or("0");
    !major.is_empty()
        && major.chars().all(|c| c.is_ascii_digit())
        && !minor.is_empty()
        && minor.chars().all(|c| c.is_ascii_digit())
}

/// A response body: Graph JSON, or the HTML a load balancer sends.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Body {
    Json(Value),
    Html(String),
}

/// The answer to one [`GraphRequest`].
#[derive(Debug, Clone)]
pub(crate) struct GraphResponse {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Body,
    /// Whether a write took effect.
    pub(crate) applied: bool,
}

impl GraphResponse {
    /// The body as bytes.
    pub(crate) fn body_bytes(&self) -> Vec<u8> {
        match &self.body {
            Body::Json(v) => serde_json::to_vec(v).unwrap_or_default(),
            Body::Html(h) => h.clone().into_bytes(),
        }
    }

    /// A bare HTML error page, as a proxy in front of Graph sends.
    pub(crate) fn html(status: u16) -> Self {
        let reason = http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Error");
        Self {
            status,
            headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
            body: Body::Html(format!(
                "<!DOCTYPE html>\n<html><head><title>{status} {reason}</title></head><body><h1>{status} {reason}</h1><p>The server encountered a temporary error and could not complete your request.</p></body></html>\n"
            )),
            applied: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(path: &str, query: &str) -> GraphRequest {
        let mut params = Params::default();
        params.extend_urlencoded(query.as_bytes());
        GraphRequest {
            method: Method::GET,
            path: path.to_owned(),
            params,
            header_token: None,
            fallback_token: None,
            default_version: None,
        }
    }

    #[test]
    fn routes_versions() {
        assert_eq!(
            req("/v25.0/me/accounts", "").route().unwrap(),
            (
                "v25.0".to_owned(),
                vec!["me".to_owned(), "accounts".to_owned()]
            )
        );
        assert_eq!(req("/me", "").route().unwrap().0, "v26.0");
        let err = req("/v99.0/me", "").route().unwrap_err();
        assert_eq!(err.code, 2500);
        assert_eq!(err.message, "Unknown path components: /v99.0");
    }

    #[test]
    fn parses_fields() {
        let r = req(
            "/me",
            "fields=id,name,comments.limit(5){message,from{id,name}},insights.metric(x)",
        );
        assert_eq!(
            r.fields().unwrap(),
            ["id", "name", "comments", "insights"].map(String::from)
        );
        assert!(req("/me", "").fields().is_none());
    }

    #[test]
    fn body_params_win_and_json_is_flattened() {
        let mut r = req("/me", "a=1&access_token=q");
        r.params.extend_urlencoded(b"a=2");
        r.params.extend_json(br#"{"b":{"x":1},"c":"s"}"#).unwrap();
        assert_eq!(r.params.get("a"), Some("2"));
        assert_eq!(r.params.get("b"), Some(r#"{"x":1}"#));
        assert_eq!(r.params.get("c"), Some("s"));
        assert_eq!(r.token(), Some("q"));
        assert!(r.params.extend_json(b"[1]").is_err());
    }

    #[test]
    fn parses_multipart_text_and_file_parts() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\nhola\r\n--XyZ\r\nContent-Disposition: form-data; name=\"source\"; filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\r\n\xff\r\n--XyZ--\r\n";
        let mut p = Params::default();
        p.extend_multipart("multipart/form-data; boundary=XyZ", body)
            .unwrap();
        assert_eq!(p.get("caption"), Some("hola"));
        let f = p.file("source").unwrap();
        assert_eq!(f.data, b"\xff\xd8\r\n\xff");
        assert_eq!(f.content_type.as_deref(), Some("image/jpeg"));
        assert!(p.file("caption").is_none());
        let mut q = Params::default();
        assert!(q.extend_multipart("multipart/form-data", body).is_err());
        assert!(
            q.extend_multipart("multipart/form-data; boundary=nope", body)
                .is_err()
        );
    }
}
