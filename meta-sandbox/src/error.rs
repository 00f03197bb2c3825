//! Errors: [`SandboxError`] for the Rust API, and the Graph error envelope the server sends.

use serde_json::{Map, Value, json};

/// Why a sandbox could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The TCP listener could not be bound (port in use, no permission...).
    #[error("could not bind 127.0.0.1:{port}")]
    Bind {
        /// The port that was asked for (0 = any).
        port: u16,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The configuration cannot describe a working sandbox.
    #[error("invalid sandbox configuration: {0}")]
    Config(String),
}

/// A Graph API error, rendered as Meta's `{"error":{...}}` envelope.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GraphError {
    pub(crate) status: u16,
    pub(crate) code: i64,
    pub(crate) subcode: Option<i64>,
    pub(crate) kind: &'static str,
    pub(crate) message: String,
    pub(crate) transient: Option<bool>,
    /// The rarely set parts, boxed to keep `Result<_, GraphError>` small.
    pub(crate) details: Option<Box<ErrorDetails>>,
}

/// `error_user_title`, `error_user_msg` and `error_data` of a [`GraphError`].
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ErrorDetails {
    pub(crate) user_title: Option<String>,
    pub(crate) user_msg: Option<String>,
    /// `error.error_data` (e.g. the offsets a chunked video upload expects next).
    pub(crate) error_data: Option<Value>,
}

impl GraphError {
    /// A 400 error with the given type, code and message.
    pub(crate) fn new(kind: &'static str, code: i64, message: impl Into<String>) -> Self {
        Self {
            status: 400,
            code,
            subcode: None,
            kind,
            message: message.into(),
            transient: None,
            details: None,
        }
    }

    /// `OAuthException` with code 100, the common "bad parameter" error.
    pub(crate) fn param(message: impl Into<String>) -> Self {
        Self::new("OAuthException", 100, message)
    }

    pub(crate) fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    pub(crate) fn subcode(mut self, subcode: i64) -> Self {
        self.subcode = Some(subcode);
        self
    }

    pub(crate) fn transient(mut self, transient: bool) -> Self {
        self.transient = Some(transient);
        self
    }

    pub(crate) fn user(mut self, title: &str, msg: &str) -> Self {
        let d = self.details.get_or_insert_with(Box::default);
        d.user_title = Some(title.to_owned());
        d.user_msg = Some(msg.to_owned());
        self
    }

    /// Sets `error.error_data`.
    pub(crate) fn data(mut self, data: Value) -> Self {
        self.details.get_or_insert_with(Box::default).error_data = Some(data);
        self
    }

    /// Meta's answer for an id that does not exist (or is not visible to this token).
    pub(crate) fn unknown_object(method: &str, id: &str) -> Self {
        Self::new(
            "GraphMethodException",
            100,
            format!(
                "Unsupported {} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
                method.to_ascii_lowercase()
            ),
        )
        .subcode(33)
    }

    /// Meta's answer for an edge or version it does not know.
    pub(crate) fn unknown_path(component: &str) -> Self {
        Self::new(
            "OAuthException",
            2500,
            format!("Unknown path components: /{component}"),
        )
    }

    /// The envelope, with the given trace id.
    pub(crate) fn to_json(&self, fbtrace_id: &str) -> Value {
        let mut e = Map::new();
        e.insert("message".into(), json!(self.message));
        e.insert("type".into(), json!(self.kind));
        e.insert("code".into(), json!(self.code));
        if let Some(sub) = self.subcode {
            e.insert("error_subcode".into(), json!(sub));
        }
        if let Some(t) = self.transient {
            e.insert("is_transient".into(), json!(t));
        }
        let details = self.details.as_deref();
        if let Some(t) = details.and_then(|d| d.user_title.as_ref()) {
            e.insert("error_user_title".into(), json!(t));
        }
        if let Some(m) = details.and_then(|d| d.user_msg.as_ref()) {
            e.insert("error_user_msg".into(), json!(m));
        }
        if let Some(v) = details.and_then(|d| d.error_data.as_ref()) {
            e.insert("error_data".into(), v.clone());
        }
        e.insert("fbtrace_id".into(), json!(fbtrace_id));
        json!({ "error": e })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_meta_shape() {
        let e = GraphError::new("OAuthException", 190, "Invalid")
            .subcode(463)
            .transient(false)
            .to_json("AbC");
        assert_eq!(
            e,
            json!({"error":{"message":"Invalid","type":"OAuthException","code":190,"error_subcode":463,"is_transient":false,"fbtrace_id":"AbC"}})
        );
    }
}
