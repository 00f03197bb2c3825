//! Batch requests: up to 50 Graph calls in one HTTP request.
//!
//! Meta answers a batch with an array in request order whose items are
//! `{"code", "headers", "body"}` with the body as a **JSON string**, or `null` for a
//! call that was not run (timed out on Meta's side). [`Client::batch`] chunks any
//! number of requests into batches of 50, decodes every body, retries the `null`
//! slots, and returns one `Result` per request, in order.

use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::client::{Client, status_error};
use crate::error::{ConfigError, DecodeError, Error, Result, TransportError, TransportErrorKind};
use crate::request::{GraphRequest, Params, normalise_path};
use crate::usage::Usage;

/// Meta's limit of requests per batch call.
pub const MAX_BATCH_SIZE: usize = 50;

/// How many extra rounds `null` slots are retried before reporting them failed.
const NULL_SLOT_ROUNDS: u32 = 3;

/// One request inside a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRequest {
    method: Method,
    relative_url: String,
    body: Params,
    name: Option<String>,
}

impl BatchRequest {
    /// `GET relative_url` with `params` appended to the query.
    #[must_use]
    pub fn get(path: &str, params: impl Into<Params>) -> Self {
        Self::new(Method::GET, path, params)
    }
    /// `POST relative_url` with `params` as the url-encoded body.
    #[must_use]
    pub fn post(path: &str, params: impl Into<Params>) -> Self {
        Self::new(Method::POST, path, params)
    }
    /// `DELETE relative_url`.
    #[must_use]
    pub fn delete(path: &str, params: impl Into<Params>) -> Self {
        Self::new(Method::DELETE, path, params)
    }
    fn new(method: Method, path: &str, params: impl Into<Params>) -> Self {
        BatchRequest {
            method,
            relative_url: path.trim().trim_start_matches('/').to_owned(),
            body: params.into(),
            name: None,
        }
    }
    /// Names the request so later ones can reference its result (`{result=name:$.id}`).
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// True for GET and DELETE.
    #[must_use]
    pub fn is_idempotent(&self) -> bool {
        self.method == Method::GET || self.method == Method::DELETE
    }

    /// The JSON object Meta expects for this item.
    fn to_wire(&self) -> Result<serde_json::Value> {
        let (path, query) = normalise_path(&self.relative_url)?;
        let mut obj = serde_json::Map::new();
        obj.insert("method".into(), self.method.as_str().into());
        let relative = if self.method == Method::POST {
            if !self.body.is_empty() {
                obj.insert("body".into(), self.body.to_form().into());
            }
            join_query(&path, query.as_deref(), "")
        } else {
            join_query(&path, query.as_deref(), &self.body.to_form())
        };
        obj.insert("relative_url".into(), relative.into());
        if let Some(n) = &self.name {
            obj.insert("name".into(), n.clone().into());
        }
        Ok(serde_json::Value::Object(obj))
    }
}

fn join_query(path: &str, a: Option<&str>, b: &str) -> String {
    let q: Vec<&str> = [a.unwrap_or(""), b]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    if q.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", q.join("&"))
    }
}

/// The answer to one batch item.
#[derive(Debug, Clone)]
pub struct BatchResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: serde_json::Value,
    usage: Usage,
}

impl BatchResponse {
    /// The item's HTTP status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }
    /// The item's headers.
    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
    /// The decoded body.
    #[must_use]
    pub fn body(&self) -> &serde_json::Value {
        &self.body
    }
    /// Usage headers reported for the item.
    #[must_use]
    pub fn usage(&self) -> &Usage {
        &self.usage
    }
    /// Decodes the body as `T`.
    ///
    /// # Errors
    /// [`Error::Decode`] with the JSON path.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        let bytes = serde_json::to_vec(&self.body)
            .map_err(|e| DecodeError::new(".", e.to_string(), b""))?;
        Ok(DecodeError::decode(&bytes)?)
    }
}

#[derive(Deserialize)]
struct WireItem {
    code: u16,
    #[serde(default)]
    headers: Vec<WireHeader>,
    #[serde(default)]
    body: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct WireHeader {
    name: String,
    value: String,
}

impl Client {
    /// Sends any number of requests in batches of [`MAX_BATCH_SIZE`], returning one
    /// result per request in request order.
    ///
    /// A batch containing a POST is itself not retried on transport failure (its
    /// items may have run); `null` slots — calls Meta did not run — are retried up
    /// to three times on their own, then reported as transport errors.
    ///
    /// # Errors
    /// The outer `Err` is returned when a whole batch call fails (auth, transport,
    /// throttle): items already answered by earlier chunks are lost with it, so
    /// callers writing data should keep batches small. Per-item failures are the
    /// inner `Err`s.
    pub async fn batch(&self, requests: Vec<BatchRequest>) -> Result<Vec<Result<BatchResponse>>> {
        let mut results: Vec<Option<Result<BatchResponse>>> =
            (0..requests.len()).map(|_| None).collect();
        let mut pending: Vec<usize> = (0..requests.len()).collect();
        let mut round = 0;
        while !pending.is_empty() {
            let mut unrun = Vec::new();
            for chunk in pending.chunks(MAX_BATCH_SIZE) {
                let items: Vec<&BatchRequest> = chunk.iter().map(|&i| &requests[i]).collect();
                let answers = self.send_batch(&items).await?;
                for (&idx, answer) in chunk.iter().zip(answers) {
                    match answer {
                        Some(r) => results[idx] = Some(r),
                        None => unrun.push(idx),
                    }
                }
            }
            round += 1;
            if round > NULL_SLOT_ROUNDS {
                for idx in unrun {
                    results[idx] = Some(Err(TransportError::new(
                        TransportErrorKind::Other,
                        "Meta did not run this batch item (null slot) after retries",
                    )
                    .into()));
                }
                break;
            }
            if !unrun.is_empty() {
                tracing::info!(
                    count = unrun.len(),
                    round,
                    "retrying batch items Meta did not run"
                );
            }
            pending = unrun;
        }
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(ConfigError::new("batch item lost").into())))
            .collect())
    }

    async fn send_batch(
        &self,
        items: &[&BatchRequest],
    ) -> Result<Vec<Option<Result<BatchResponse>>>> {
        let wire = items
            .iter()
            .map(|r| r.to_wire())
            .collect::<Result<Vec<_>>>()?;
        let batch = serde_json::Value::Array(wire);
        let idempotent = items.iter().all(|r| r.is_idempotent());
        let req = GraphRequest::post("")
            .param("batch", batch)
            .param("include_headers", true)
            .idempotent(idempotent);
        let raw = self.execute_raw(req).await?;
        let slots: Vec<Option<WireItem>> = raw.json()?;
        if slots.len() != items.len() {
            return Err(DecodeError::new(
                ".",
                format!(
                    "batch answered {} items for {} requests",
                    slots.len(),
                    items.len()
                ),
                raw.body(),
            )
            .into());
        }
        Ok(slots.into_iter().map(|s| s.map(decode_item)).collect())
    }
}

fn decode_item(item: WireItem) -> Result<BatchResponse> {
    let status = StatusCode::from_u16(item.code)
        .map_err(|_| DecodeError::new("code", format!("invalid status {}", item.code), b""))?;
    let mut headers = HeaderMap::new();
    for h in item.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(h.name.as_bytes()),
            HeaderValue::from_str(&h.value),
        ) {
            headers.append(n, v);
        }
    }
    let usage = Usage::from_headers(&headers);
    // The body is a JSON document encoded as a string; decode it once more.
    let body_text = match item.body {
        Some(serde_json::Value::String(s)) => s,
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    if !status.is_success() {
        return Err(status_error(status, body_text.as_bytes(), usage));
    }
    let body = if body_text.trim().is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&body_text).map_err(|e| {
            Error::from(DecodeError::new(
                "body",
                e.to_string(),
                body_text.as_bytes(),
            ))
        })?
    };
    Ok(BatchResponse {
        status,
        headers,
        body,
        usage,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wire_format_matches_the_sdks() {
        let g = BatchRequest::get("/v26.0/me", [("fields", "id,name")])
            .to_wire()
            .unwrap();
        assert_eq!(
            g,
            json!({"method":"GET","relative_url":"me?fields=id%2Cname"})
        );
        let p = BatchRequest::post("123/feed", [("message", "hi there")])
            .name("p1")
            .to_wire()
            .unwrap();
        assert_eq!(
            p,
            json!({"method":"POST","relative_url":"123/feed","body":"message=hi+there","name":"p1"})
        );
        assert!(BatchRequest::get("http://x/y", ()).to_wire().is_err());
    }

    #[test]
    fn items_decode_strings_and_errors() {
        let ok = decode_item(WireItem {
            code: 200,
            headers: vec![WireHeader {
                name: "X-App-Usage".into(),
                value: r#"{"call_count":3}"#.into(),
            }],
            body: Some(json!("{\"id\":\"1\"}")),
        })
        .unwrap();
        assert_eq!(ok.body()["id"], "1");
        assert_eq!(ok.usage().app.as_ref().unwrap().call_count, Some(3.0));
        let err = decode_item(WireItem {
            code: 400,
            headers: vec![],
            body: Some(json!(
                "{\"error\":{\"message\":\"bad\",\"code\":100,\"type\":\"OAuthException\"}}"
            )),
        })
        .unwrap_err();
        assert_eq!(err.api().unwrap().code(), 100);
        assert!(
            decode_item(WireItem {
                code: 200,
                headers: vec![],
                body: Some(json!("{not json"))
            })
            .is_err()
        );
    }
}
