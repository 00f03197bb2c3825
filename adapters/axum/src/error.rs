//! One error type for every route: a status, a machine-readable code and a message,
//! answered as `{"error": {"code": "...", "message": "..."}}`.
//!
//! Engine errors keep the engine's own status hint and code
//! ([`EngineError::status_hint`], [`EngineError::code`]). Messages of server-side
//! failures (5xx) and signature failures are generic: the detail goes to the log,
//! inside the request's span, never to the caller (a forger learns nothing, and a
//! database message never leaves the process).

use std::fmt;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use meta_commerce::engine::EngineError;
use meta_commerce::store::StoreError;
use serde_json::json;

/// An error answered as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    /// An error with `status`, `code` and a message the caller may read.
    #[must_use]
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// `400 bad_request`.
    #[must_use]
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// `404 <code>`.
    #[must_use]
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The machine-readable code (`unknown_shop`, `invalid_signature`, …).
    #[must_use]
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The message sent to the caller.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The JSON body.
    #[must_use]
    pub fn body(&self) -> serde_json::Value {
        json!({"error": {"code": self.code, "message": self.message}})
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        let status =
            StatusCode::from_u16(e.status_hint()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let code = e.code();
        // The detail is logged here, inside the request span (TraceLayer), because
        // the caller only gets a generic message for these classes.
        let message = if status == StatusCode::UNAUTHORIZED {
            tracing::warn!(code, error = %e, "request refused");
            "signature rejected".to_owned()
        } else if status == StatusCode::SERVICE_UNAVAILABLE {
            tracing::error!(code, error = %e, "store failure");
            "the store is unavailable; try again later".to_owned()
        } else if status == StatusCode::BAD_GATEWAY {
            tracing::warn!(code, error = %e, "payment provider failure");
            match &e {
                EngineError::Payment(p) => {
                    format!("payment provider `{}` failed; try again later", p.gateway)
                }
                _ => "no payment provider could answer; try again later".to_owned(),
            }
        } else if status.is_server_error() {
            tracing::error!(code, error = %e, "engine failure");
            "internal error".to_owned()
        } else {
            // 4xx: the message names what is wrong (an unknown gateway or order, a bad
            // row) and is useful to the caller; it is also recorded in the logs.
            tracing::info!(code, error = %e, "request rejected");
            e.to_string()
        };
        ApiError::new(status, code, message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::not_found("not_found", what),
            other => ApiError::from(EngineError::Store(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_keep_their_status_and_code() {
        let e = ApiError::from(EngineError::UnknownOrder("o-1".into()));
        assert_eq!(e.status(), StatusCode::NOT_FOUND);
        assert_eq!(e.code(), "unknown_order");
        assert!(e.message().contains("o-1"));
        assert_eq!(e.body()["error"]["code"], "unknown_order");
    }

    #[test]
    fn server_side_details_stay_in_the_logs() {
        let e = ApiError::from(StoreError::backend("connection refused to 10.0.0.7"));
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(!e.message().contains("10.0.0.7"));
        let e = ApiError::from(EngineError::Signature("mismatch for secret #2".into()));
        assert_eq!(e.status(), StatusCode::UNAUTHORIZED);
        assert!(!e.message().contains("secret"));
    }
}
