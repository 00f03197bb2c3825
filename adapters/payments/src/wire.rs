//! HTTP plumbing every gateway shares: sending through meta-core's [`Transport`]
//! with a total timeout, classifying provider answers into [`PaymentErrorKind`]s,
//! decoding bodies, and exact decimal ⇄ minor-unit conversion.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};
use meta_commerce::payments::{PaymentError, PaymentErrorKind};
use meta_commerce::{Currency, Money};
use meta_core::error::{Error as CoreError, TransportErrorKind};
use meta_core::transport::{ReqwestTransport, Transport};
use serde::de::DeserializeOwned;

/// Default total time allowed for one provider call.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

const USER_AGENT: &str = concat!("meta-payments/", env!("CARGO_PKG_VERSION"));

/// The default transport: reqwest on rustls (ring), from meta-core.
pub(crate) fn default_transport(gateway: &str) -> Result<Arc<dyn Transport>, PaymentError> {
    ReqwestTransport::new(Duration::from_secs(10))
        .map(|t| Arc::new(t) as Arc<dyn Transport>)
        .map_err(|e| {
            PaymentError::new(
                gateway,
                PaymentErrorKind::Unsupported,
                format!("HTTP client setup failed: {e}"),
            )
        })
}

/// One gateway's HTTP edge.
#[derive(Debug, Clone)]
pub(crate) struct Wire {
    gateway: &'static str,
    base_url: String,
    transport: Arc<dyn Transport>,
    timeout: Duration,
}

/// An answer with a 2xx status.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Bytes,
}

impl Wire {
    pub(crate) fn new(
        gateway: &'static str,
        base_url: &str,
        transport: Arc<dyn Transport>,
        timeout: Duration,
    ) -> Self {
        Wire {
            gateway,
            base_url: base_url.trim_end_matches('/').to_owned(),
            transport,
            timeout,
        }
    }

    pub(crate) fn err(&self, kind: PaymentErrorKind, message: impl Into<String>) -> PaymentError {
        PaymentError::new(self.gateway, kind, message)
    }

    /// `base_url` + `path` (`path` starts with `/`).
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A request with our user agent and `Accept: application/json`.
    pub(crate) fn request(
        &self,
        method: Method,
        url: &str,
    ) -> Result<http::request::Builder, PaymentError> {
        // Validate here so a bad base URL is reported as configuration, not as a
        // transport failure later.
        let uri: http::Uri = url.parse().map_err(|_| {
            self.err(
                PaymentErrorKind::Unsupported,
                "invalid URL in configuration",
            )
        })?;
        Ok(http::Request::builder()
            .method(method)
            .uri(uri)
            .header(header::USER_AGENT, USER_AGENT)
            .header(header::ACCEPT, "application/json"))
    }

    pub(crate) fn finish(
        &self,
        builder: http::request::Builder,
        body: impl Into<Bytes>,
    ) -> Result<http::Request<Bytes>, PaymentError> {
        builder
            .body(body.into())
            .map_err(|_| self.err(PaymentErrorKind::Unsupported, "could not build the request"))
    }

    /// Sends `request` and returns a 2xx answer, or the classified failure.
    pub(crate) async fn send(
        &self,
        request: http::Request<Bytes>,
        what: &str,
    ) -> Result<Answer, PaymentError> {
        let answer = self.send_any(request, what).await?;
        self.check(answer, what)
    }

    /// Sends `request` and returns whatever status came back; only transport
    /// failures and timeouts are errors. For callers that read a refusal's body.
    pub(crate) async fn send_any(
        &self,
        request: http::Request<Bytes>,
        what: &str,
    ) -> Result<Answer, PaymentError> {
        let sent = tokio::time::timeout(self.timeout, self.transport.send(request)).await;
        match sent {
            Err(_) => Err(self.err(
                PaymentErrorKind::Transient,
                format!("{what}: timed out after {:?}", self.timeout),
            )),
            Ok(Err(e)) => Err(self.transport_error(&e, what)),
            Ok(Ok(r)) => {
                let status = r.status();
                Ok(Answer {
                    status,
                    body: r.into_body(),
                })
            }
        }
    }

    /// A 2xx answer as is; any other status as its classified error.
    pub(crate) fn check(&self, answer: Answer, what: &str) -> Result<Answer, PaymentError> {
        let status = answer.status;
        let Some(kind) = kind_for_status(status) else {
            return Ok(answer);
        };
        let message = match (kind, provider_message(&answer.body)) {
            // The provider's words for a refused credential add nothing and might
            // echo part of what we sent.
            (PaymentErrorKind::Auth, _) => {
                format!("{what}: HTTP {}: credentials refused", status.as_u16())
            }
            (_, Some(d)) => format!("{what}: HTTP {}: {d}", status.as_u16()),
            (_, None) => format!("{what}: HTTP {}", status.as_u16()),
        };
        tracing::debug!(
            gateway = self.gateway,
            status = status.as_u16(),
            what,
            "provider refused"
        );
        Err(self.err(kind, message))
    }

    fn transport_error(&self, e: &CoreError, what: &str) -> PaymentError {
        let kind = match e {
            CoreError::Transport(t) if t.kind() == TransportErrorKind::Request => {
                PaymentErrorKind::Unsupported
            }
            _ => PaymentErrorKind::Transient,
        };
        // meta-core's transport messages never carry the URL (tokens may ride in it).
        self.err(kind, format!("{what}: {e}"))
    }

    /// Decodes a JSON body, as [`PaymentErrorKind::Malformed`] when it is not what we expect.
    pub(crate) fn json<T: DeserializeOwned>(
        &self,
        body: &[u8],
        what: &str,
    ) -> Result<T, PaymentError> {
        serde_json::from_slice(body).map_err(|e| {
            self.err(
                PaymentErrorKind::Malformed,
                format!("{what}: unreadable answer: {e}"),
            )
        })
    }
}

/// How an HTTP status is classified: `None` for success.
///
/// 5xx, 408 and 429 are worth retrying or falling back; 401/403 mean the credentials
/// are wrong; 404 means the provider does not know the object; any other 4xx is a
/// refusal that retrying will not change; 1xx/3xx are not answers we asked for.
pub(crate) fn kind_for_status(status: StatusCode) -> Option<PaymentErrorKind> {
    match status.as_u16() {
        200..=299 => None,
        401 | 403 => Some(PaymentErrorKind::Auth),
        404 => Some(PaymentErrorKind::NotFound),
        408 | 429 | 500..=599 => Some(PaymentErrorKind::Transient),
        400..=499 => Some(PaymentErrorKind::Rejected),
        _ => Some(PaymentErrorKind::Malformed),
    }
}

/// A short human message from a provider's error envelope, if there is one
/// (Mercado Pago `message`, PayPal `name`/`message`/`details[].issue`, OAuth
/// `error_description`, Flow `message`).
fn provider_message(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let s = |k: &str| {
        v.get(k)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let issue = v
        .get("details")
        .and_then(|d| d.get(0))
        .and_then(|d| d.get("issue"))
        .and_then(serde_json::Value::as_str);
    let mut text = match (s("name"), s("message"), issue) {
        (Some(name), _, Some(issue)) => format!("{name}: {issue}"),
        (Some(name), Some(msg), None) => format!("{name}: {msg}"),
        (_, Some(msg), _) => msg,
        _ => s("error_description").or_else(|| s("error"))?,
    };
    if text.len() > 200 {
        let mut cut = 200;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    Some(text)
}

/// `application/x-www-form-urlencoded` from pairs.
pub(crate) fn form<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// `Content-Type` of a form body.
pub(crate) fn form_type() -> HeaderValue {
    HeaderValue::from_static("application/x-www-form-urlencoded")
}

/// `Content-Type` of a JSON body.
pub(crate) fn json_type() -> HeaderValue {
    HeaderValue::from_static("application/json")
}

/// Parses a decimal amount (`"149.00"`, `"12990"`, `"75.5"`) into minor units of
/// `currency`, exactly: no float ever holds the amount. Extra fractional digits are
/// accepted only when they are zeros (`12990.0` for CLP).
pub(crate) fn parse_decimal(text: &str, currency: Currency) -> Option<Money> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) || (digits.contains('.') && frac.is_empty()) {
        return None;
    }
    let exp = currency.exponent() as usize;
    let (kept, extra) = frac.split_at(frac.len().min(exp));
    if !extra.bytes().all(|b| b == b'0') {
        return None;
    }
    let mut minor: i64 = int.parse().ok()?;
    minor = minor.checked_mul(currency.minor_per_unit())?;
    if !kept.is_empty() {
        let scale = 10_i64.checked_pow(u32::try_from(exp - kept.len()).ok()?)?;
        let f: i64 = kept.parse().ok()?;
        minor = minor.checked_add(f.checked_mul(scale)?)?;
    }
    Some(Money::new(if negative { -minor } else { minor }, currency))
}

/// An amount for providers that take a JSON number (Mercado Pago `unit_price`).
///
/// The number is produced from the exact decimal text, so `123.45` goes out as
/// `123.45` (serde_json prints the shortest representation that reads back to the
/// same value, and every amount with fewer than 15 significant digits qualifies).
pub(crate) fn json_number(money: Money) -> serde_json::Value {
    let per = money.currency.minor_per_unit();
    if money.minor % per == 0 {
        return serde_json::Value::from(money.minor / per);
    }
    money
        .decimal_string()
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// Reads a JSON number or numeric string as money of `currency`.
pub(crate) fn money_from_json(value: &serde_json::Value, currency: Currency) -> Option<Money> {
    match value {
        serde_json::Value::Number(n) => parse_decimal(&n.to_string(), currency),
        serde_json::Value::String(s) => parse_decimal(s, currency),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified() {
        let k = |s: u16| kind_for_status(StatusCode::from_u16(s).unwrap());
        assert_eq!(k(200), None);
        assert_eq!(k(201), None);
        assert_eq!(k(500), Some(PaymentErrorKind::Transient));
        assert_eq!(k(503), Some(PaymentErrorKind::Transient));
        assert_eq!(k(429), Some(PaymentErrorKind::Transient));
        assert_eq!(k(401), Some(PaymentErrorKind::Auth));
        assert_eq!(k(403), Some(PaymentErrorKind::Auth));
        assert_eq!(k(404), Some(PaymentErrorKind::NotFound));
        assert_eq!(k(400), Some(PaymentErrorKind::Rejected));
        assert_eq!(k(422), Some(PaymentErrorKind::Rejected));
        assert_eq!(k(302), Some(PaymentErrorKind::Malformed));
    }

    #[test]
    fn decimals_parse_exactly() {
        let mxn = |s: &str| parse_decimal(s, Currency::MXN).map(|m| m.minor);
        assert_eq!(mxn("149.00"), Some(14900));
        assert_eq!(mxn("149"), Some(14900));
        assert_eq!(mxn("75.5"), Some(7550));
        assert_eq!(mxn("0.05"), Some(5));
        assert_eq!(mxn("-1.20"), Some(-120));
        assert_eq!(mxn("1.230"), Some(123));
        assert_eq!(mxn("1.234"), None);
        assert_eq!(mxn("1."), None);
        assert_eq!(mxn(".5"), None);
        assert_eq!(mxn("1e3"), None);
        assert_eq!(mxn("abc"), None);
        let clp = |s: &str| parse_decimal(s, Currency::CLP).map(|m| m.minor);
        assert_eq!(clp("12990"), Some(12990));
        assert_eq!(clp("12990.0"), Some(12990));
        assert_eq!(clp("12990.5"), None);
        assert_eq!(parse_decimal("99999999999999999999", Currency::MXN), None);
    }

    #[test]
    fn json_numbers_round_trip_exactly() {
        for minor in [1_i64, 5, 99, 12_345, 14_900, 99_999_999, 12_345_678_901] {
            let m = Money::new(minor, Currency::MXN);
            let v = json_number(m);
            assert_eq!(money_from_json(&v, Currency::MXN), Some(m), "{v}");
        }
        assert_eq!(
            json_number(Money::new(12345, Currency::MXN)).to_string(),
            "123.45"
        );
        assert_eq!(
            json_number(Money::new(12990, Currency::CLP)).to_string(),
            "12990"
        );
        assert_eq!(
            json_number(Money::new(14900, Currency::MXN)).to_string(),
            "149"
        );
    }

    #[test]
    fn provider_messages_are_short_and_secret_free() {
        assert_eq!(
            provider_message(br#"{"message":"invalid items","error":"bad_request","status":400}"#),
            Some("invalid items".to_owned())
        );
        assert_eq!(
            provider_message(
                br#"{"name":"UNPROCESSABLE_ENTITY","details":[{"issue":"ORDER_NOT_APPROVED"}]}"#
            ),
            Some("UNPROCESSABLE_ENTITY: ORDER_NOT_APPROVED".to_owned())
        );
        assert_eq!(
            provider_message(
                br#"{"error":"invalid_client","error_description":"Client Authentication failed"}"#
            ),
            Some("Client Authentication failed".to_owned())
        );
        assert_eq!(provider_message(b"<html>"), None);
        let long = format!(r#"{{"message":"{}"}}"#, "é".repeat(300));
        assert!(provider_message(long.as_bytes()).unwrap().len() <= 200);
    }
}
