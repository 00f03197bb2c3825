//! A fake OpenAI-compatible chat-completions server: axum on 127.0.0.1:0, answering
//! `POST /v1/chat/completions` from a script (then a default reply) and recording
//! every request it receives.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// One scripted answer.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    status: u16,
    body: String,
    delay: Duration,
}

impl Reply {
    /// A 200 chat completion whose `choices[0].message.content` is `content`.
    pub(crate) fn content(content: &str) -> Self {
        Self::json(200, &completion(&json!(content), &Value::Null, "stop"))
    }

    /// A 200 chat completion whose content is `answer` serialized.
    pub(crate) fn answer(answer: &Value) -> Self {
        Self::content(&answer.to_string())
    }

    /// A 200 chat completion with a refusal and no content.
    pub(crate) fn refusal(text: &str) -> Self {
        Self::json(200, &completion(&Value::Null, &json!(text), "stop"))
    }

    /// Any JSON body with `status`.
    pub(crate) fn json(status: u16, body: &Value) -> Self {
        Self::raw(status, &body.to_string())
    }

    /// Any body with `status`.
    pub(crate) fn raw(status: u16, body: &str) -> Self {
        Reply {
            status,
            body: body.to_owned(),
            delay: Duration::ZERO,
        }
    }

    /// The same reply, sent after `delay`.
    pub(crate) fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// A chat-completion envelope as OpenAI sends it.
pub(crate) fn completion(content: &Value, refusal: &Value, finish_reason: &str) -> Value {
    json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "test-model",
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": content, "refusal": refusal },
            "finish_reason": finish_reason,
        }],
        "usage": { "prompt_tokens": 900, "completion_tokens": 40, "total_tokens": 940 },
    })
}

/// A request as the fake received it.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    /// The request headers.
    pub(crate) headers: HeaderMap,
    /// The body, parsed (`Null` if it was not JSON).
    pub(crate) body: Value,
}

#[derive(Debug, Default)]
struct Inner {
    script: Mutex<VecDeque<Reply>>,
    default: Mutex<Option<Reply>>,
    requests: Mutex<Vec<Recorded>>,
}

/// The running fake; stops when dropped.
#[derive(Debug)]
pub(crate) struct FakeLlm {
    addr: SocketAddr,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeLlm {
    /// Starts a fake on an ephemeral port.
    pub(crate) async fn start() -> Self {
        let inner = Arc::new(Inner::default());
        let app = Router::new()
            .route("/v1/chat/completions", post(handle))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeLlm { addr, inner, task }
    }

    /// The base URL to configure (`http://127.0.0.1:<port>/v1`).
    pub(crate) fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Queues a reply (used before the default one).
    pub(crate) fn push(&self, reply: Reply) {
        self.inner.script.lock().unwrap().push_back(reply);
    }

    /// The reply for every request once the script is empty.
    pub(crate) fn always(&self, reply: Reply) {
        *self.inner.default.lock().unwrap() = Some(reply);
    }

    /// Every request received so far.
    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.inner.requests.lock().unwrap().clone()
    }

    /// How many requests were received.
    pub(crate) fn hits(&self) -> usize {
        self.inner.requests.lock().unwrap().len()
    }
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    let parsed = serde_json::from_slice(&body).unwrap_or(Value::Null);
    inner.requests.lock().unwrap().push(Recorded {
        headers,
        body: parsed,
    });
    let next = inner.script.lock().unwrap().pop_front();
    let reply = next
        .or_else(|| inner.default.lock().unwrap().clone())
        .unwrap_or_else(|| Reply::json(500, &json!({"error": {"message": "no scripted reply"}})));
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let status = StatusCode::from_u16(reply.status).unwrap();
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        reply.body,
    )
        .into_response()
}
