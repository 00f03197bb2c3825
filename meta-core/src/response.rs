//! What a successful call returns: the body plus what Meta said about the call.

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{DecodeError, Result};
use crate::usage::Usage;

/// A raw 2xx response: bytes, headers and the parsed usage.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) usage: Usage,
    pub(crate) attempts: u32,
}

impl RawResponse {
    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }
    /// The response headers.
    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
    /// The body bytes.
    #[must_use]
    pub fn body(&self) -> &Bytes {
        &self.body
    }
    /// The usage headers Meta sent.
    #[must_use]
    pub fn usage(&self) -> &Usage {
        &self.usage
    }
    /// The Graph version that served the call (`facebook-api-version`), which can
    /// differ from the one requested when Meta upgrades an unversioned call.
    #[must_use]
    pub fn api_version(&self) -> Option<&str> {
        header(&self.headers, "facebook-api-version")
    }
    /// `x-fb-trace-id`, for Meta support.
    #[must_use]
    pub fn fbtrace_id(&self) -> Option<&str> {
        header(&self.headers, "x-fb-trace-id")
    }
    /// `x-fb-request-id`.
    #[must_use]
    pub fn request_id(&self) -> Option<&str> {
        header(&self.headers, "x-fb-request-id")
    }
    /// How many attempts the call took (1 = no retry).
    #[must_use]
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
    /// Decodes the body, naming the JSON path of any mismatch.
    ///
    /// # Errors
    /// [`crate::Error::Decode`] when the body is not a `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        Ok(DecodeError::decode(&self.body)?)
    }
    /// Decodes into a [`Response`] that keeps the metadata.
    ///
    /// # Errors
    /// [`crate::Error::Decode`] when the body is not a `T`.
    pub fn into_typed<T: DeserializeOwned>(self) -> Result<Response<T>> {
        let data = self.json()?;
        Ok(Response { data, raw: self })
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A decoded response with its metadata.
#[derive(Debug, Clone)]
pub struct Response<T> {
    data: T,
    raw: RawResponse,
}

impl<T> Response<T> {
    /// The decoded body.
    #[must_use]
    pub fn data(&self) -> &T {
        &self.data
    }
    /// The decoded body, by value.
    #[must_use]
    pub fn into_data(self) -> T {
        self.data
    }
    /// The usage headers Meta sent.
    #[must_use]
    pub fn usage(&self) -> &Usage {
        &self.raw.usage
    }
    /// The Graph version that served the call.
    #[must_use]
    pub fn api_version(&self) -> Option<&str> {
        self.raw.api_version()
    }
    /// `x-fb-trace-id`.
    #[must_use]
    pub fn fbtrace_id(&self) -> Option<&str> {
        self.raw.fbtrace_id()
    }
    /// Attempts taken.
    #[must_use]
    pub fn attempts(&self) -> u32 {
        self.raw.attempts
    }
    /// The raw response.
    #[must_use]
    pub fn raw(&self) -> &RawResponse {
        &self.raw
    }
}
