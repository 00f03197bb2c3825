//! Batch requests: `POST /` with `batch=[{method, relative_url, body?, name?}, ...]`.
//!
//! Each item goes through [`routes::dispatch`] exactly like an HTTP request (own usage
//! count, own errors) and comes back as `{"code","headers","body":"<JSON string>"}`, in
//! request order. Slots of items that were not run are `null`.

use std::sync::Arc;

use http::Method;
use serde_json::{Value, json};

use crate::error::GraphError;
use crate::faults::{Fault, Planned};
use crate::request::{Body, GraphRequest, GraphResponse, Params};
use crate::routes;
use crate::state::{RecordedRequest, Shared};
use crate::tokens;
use crate::usage::Scopes;

/// Meta's maximum number of items in one batch.
pub(crate) const MAX_BATCH: usize = 50;

fn batch_error(message: &str) -> GraphError {
    GraphError::new("GraphBatchException", 100, message)
}

/// One parsed item.
struct Item {
    method: Method,
    path: String,
    query: String,
    body: String,
}

fn parse_items(raw: &str) -> Result<Vec<Item>, GraphError> {
    let value: Value = serde_json::from_str(raw)
        .map_err(|_| batch_error("(#100) The parameter batch must be a JSON array of requests"))?;
    let Value::Array(list) = value else {
        return Err(batch_error(
            "(#100) The parameter batch must be a JSON array of requests",
        ));
    };
    if list.len() > MAX_BATCH {
        return Err(batch_error(
            "Too many requests in batch message. Maximum batch size is 50",
        ));
    }
    if list.is_empty() {
        return Err(batch_error(
            "(#100) The batch must contain at least one request",
        ));
    }
    list.iter()
        .enumerate()
        .map(|(i, v)| {
            let method = v.get("method").and_then(Value::as_str).unwrap_or("GET");
            let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                .map_err(|_| batch_error(&format!("(#100) Invalid method in batch request {i}")))?;
            let Some(url) = v.get("relative_url").and_then(Value::as_str) else {
                return Err(batch_error(&format!(
                    "(#100) Missing relative_url in batch request {i}"
                )));
            };
            let (path, query) = url.split_once('?').unwrap_or((url, ""));
            let body = match v.get("body") {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(_) => {
                    return Err(batch_error(&format!(
                        "(#100) The body of batch request {i} must be a URL-encoded string"
                    )));
                }
            };
            Ok(Item {
                method,
                path: format!("/{}", path.trim_start_matches('/')),
                query: query.to_owned(),
                body,
            })
        })
        .collect()
}

/// Runs a batch request.
pub(crate) async fn run(shared: &Arc<Shared>, req: &GraphRequest, version: &str) -> GraphResponse {
    let prepared = {
        let mut st = shared.lock();
        let now = st.now();
        let checked = (|| {
            let token = req.token().ok_or_else(|| {
                GraphError::new(
                    "OAuthException",
                    104,
                    "An access token is required to request this resource.",
                )
            })?;
            tokens::resolve(&st, &shared.fixtures, token, now)?;
            let raw = req
                .params
                .get("batch")
                .ok_or_else(|| batch_error("(#100) The parameter batch is required"))?;
            parse_items(raw)
        })();
        match checked {
            Ok(items) => items,
            Err(e) => return routes::fail(shared, &mut st, version, e),
        }
    };
    let include_headers = req.params.get("include_headers") != Some("false");
    let batch_token = req.token().map(str::to_owned);
    let mut results = Vec::with_capacity(prepared.len());
    for item in prepared {
        results.push(
            run_item(
                shared,
                req,
                version,
                batch_token.as_deref(),
                item,
                include_headers,
            )
            .await,
        );
    }
    let mut st = shared.lock();
    let now = st.now_ms();
    let headers = st
        .usage
        .headers(&Scopes::default(), &shared.config.quotas, now, false);
    routes::respond(&mut st, version, Ok(Value::Array(results)), headers, false)
}

async fn run_item(
    shared: &Arc<Shared>,
    batch: &GraphRequest,
    version: &str,
    batch_token: Option<&str>,
    item: Item,
    include_headers: bool,
) -> Value {
    let mut params = Params::default();
    params.extend_urlencoded(item.query.as_bytes());
    params.extend_urlencoded(item.body.as_bytes());
    // Items on the batch's token inherit the batch's proof of it.
    if params.non_empty("access_token").is_none() {
        for key in ["appsecret_proof", "appsecret_time"] {
            if let Some(v) = batch.params.non_empty(key) {
                params.extend_urlencoded(
                    form_urlencoded::Serializer::new(String::new())
                        .append_pair(key, v)
                        .finish()
                        .as_bytes(),
                );
            }
        }
    }
    let req = GraphRequest {
        method: item.method,
        path: item.path,
        params,
        header_token: None,
        fallback_token: batch_token.map(str::to_owned),
        default_version: Some(version.to_owned()),
    };
    let method = req.method.as_str().to_owned();
    let plan = {
        let mut st = shared.lock();
        match st.faults.take_rule(&method, &req.path, true) {
            Some(f) => Some(f),
            None if st.faults.batch_null() => Some(Fault::BatchNull),
            None => None,
        }
    };
    let record = |status: Option<u16>, applied: bool| RecordedRequest {
        method: method.clone(),
        path: req.path.clone(),
        applied,
        status,
        in_batch: true,
    };
    let plan = match plan {
        Some(Fault::BatchNull) | Some(Fault::Drop) => {
            shared.lock().log.push(record(None, false));
            return Value::Null;
        }
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            None
        }
        other => other,
    };
    let response = {
        let mut st = shared.lock();
        match &plan {
            Some(Fault::Http(code)) => GraphResponse::html(*code),
            Some(Fault::GraphError {
                status,
                code,
                subcode,
                transient,
                message,
            }) => {
                let mut e =
                    GraphError::new("OAuthException", *code, message.clone()).status(*status);
                e.subcode = *subcode;
                e.transient = *transient;
                routes::respond(&mut st, version, Err(e), Vec::new(), false)
            }
            Some(f) => routes::dispatch(shared, &mut st, &req, Some(&Planned::Fault(f.clone()))),
            None => routes::dispatch(shared, &mut st, &req, None),
        }
    };
    if matches!(plan, Some(Fault::DropAfterApply)) {
        shared.lock().log.push(record(None, response.applied));
        return Value::Null;
    }
    shared
        .lock()
        .log
        .push(record(Some(response.status), response.applied));
    slot(&response, include_headers)
}

/// Renders one answered item: the body goes back as a JSON *string*, as Meta sends it.
fn slot(response: &GraphResponse, include_headers: bool) -> Value {
    let body = match &response.body {
        Body::Json(v) => v.to_string(),
        Body::Html(h) => h.clone(),
    };
    let mut out = json!({"code": response.status, "body": body});
    if include_headers && let Value::Object(map) = &mut out {
        let headers: Vec<Value> = response
            .headers
            .iter()
            .filter(|(k, _)| k != "x-fb-request-id" && k != "x-fb-trace-id")
            .map(|(k, v)| json!({"name": display_name(k), "value": v}))
            .collect();
        map.insert("headers".into(), Value::Array(headers));
    }
    out
}

/// Batch headers use the capitalised names Meta shows there (`Content-Type`).
fn display_name(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut c = part.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_items_and_limits() {
        let items = parse_items(r#"[{"method":"post","relative_url":"v26.0/1/feed?x=1","body":"message=hi"},{"relative_url":"/me"}]"#).unwrap();
        assert_eq!(items[0].method, Method::POST);
        assert_eq!(items[0].path, "/v26.0/1/feed");
        assert_eq!(items[0].query, "x=1");
        assert_eq!(items[1].method, Method::GET);
        let many = format!("[{}]", vec![r#"{"relative_url":"me"}"#; 51].join(","));
        let e = parse_items(&many).err().unwrap();
        assert_eq!(
            e.message,
            "Too many requests in batch message. Maximum batch size is 50"
        );
        assert!(parse_items("{nope").is_err());
        assert!(parse_items(r#"[{"method":"GET"}]"#).is_err());
    }

    #[test]
    fn header_names_are_capitalised() {
        assert_eq!(display_name("x-app-usage"), "X-App-Usage");
        assert_eq!(display_name("content-type"), "Content-Type");
    }
}
