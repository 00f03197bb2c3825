//! Verifying Meta webhooks: the `X-Hub-Signature-256` signature on every POST and the
//! `hub.*` handshake Meta runs once, as a GET, when a subscription is created.
//!
//! # Signatures
//!
//! Meta signs each delivery with `X-Hub-Signature-256: sha256=<hex>`, the lowercase hex
//! of `HMAC-SHA256(key = app secret, msg = raw request body)`. Meta computes it over the
//! exact bytes it sent (with non-ASCII characters escaped as `\uXXXX`), so
//! **verify the raw bytes, before any JSON parsing**; re-serialising the payload breaks
//! the signature. [`Verifier`] holds one or more app secrets so a secret can be rotated
//! without dropping deliveries, and compares in constant time.
//!
//! The legacy `X-Hub-Signature: sha1=<hex>` header is not accepted: SHA-1 HMACs are
//! still sent by some products, but every product also sends the SHA-256 header.
//!
//! # Replays
//!
//! Meta's signature has no timestamp and Meta retries failed deliveries (for up to 36
//! hours on Graph webhooks), so a valid signature says nothing about freshness and the
//! same delivery can legitimately arrive twice. De-duplicating (for example by entry
//! `id` + `time`, or by Messenger `mid`) is the caller's job; this module only
//! authenticates.
//!
//! # Handshake
//!
//! When a subscription is created Meta calls
//! `GET <callback>?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=<yours>`.
//! [`Subscription::verify`] checks the mode and the token (in constant time) and returns
//! the challenge, which must be echoed as the raw `200` body (send it as `text/plain`:
//! it is caller-supplied text).
//!
//! ```
//! use meta_core::webhook::{sign, Verifier};
//! use secrecy::SecretString;
//!
//! let secret = SecretString::from("app-secret-123");
//! let body = br#"{"object":"page","entry":[]}"#;
//! let header = sign(&secret, body);
//! assert_eq!(
//!     header,
//!     "sha256=045d425314376ceef02357beda9d40971b523021cc4baad4e55bde33d2691f03"
//! );
//!
//! let verifier = Verifier::new(secret);
//! assert!(verifier.verify(body, &header).is_ok());
//! assert!(verifier.verify(b"tampered", &header).is_err());
//! ```

use std::fmt;

use hmac::Mac;
use http::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::auth::hmac_sha256;

/// The signature header Meta sends on every webhook POST (lower case, as `http`
/// stores names).
pub const HEADER_SIGNATURE_256: &str = "x-hub-signature-256";

/// The only algorithm prefix accepted in [`HEADER_SIGNATURE_256`].
const PREFIX_ALGORITHM: &str = "sha256";

/// Length of a hex-encoded SHA-256 MAC.
const HEX_LEN: usize = 64;

/// Why a webhook request was refused. Messages name the problem, never a secret or
/// the expected signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The `X-Hub-Signature-256` header is absent or empty.
    #[error("missing X-Hub-Signature-256 header")]
    MissingSignature,
    /// The header is present but is not `sha256=<64 hex digits>`.
    #[error("malformed X-Hub-Signature-256 header: {reason}")]
    MalformedSignature {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The header names another algorithm (typically the legacy `sha1=`).
    #[error("unsupported signature algorithm: only `sha256=` (X-Hub-Signature-256) is accepted")]
    UnsupportedAlgorithm,
    /// The signature is well formed but matches none of the configured app secrets.
    #[error("webhook signature does not match")]
    SignatureMismatch,
    /// The handshake's `hub.mode` is absent or not `subscribe`.
    #[error("hub.mode is not `subscribe`")]
    WrongMode,
    /// The handshake's `hub.verify_token` is absent or wrong.
    #[error("hub.verify_token does not match")]
    VerifyTokenMismatch,
    /// The handshake has no (or an empty) `hub.challenge` to echo.
    #[error("missing hub.challenge")]
    MissingChallenge,
}

impl WebhookError {
    /// True for errors of the GET handshake ([`WrongMode`](Self::WrongMode),
    /// [`VerifyTokenMismatch`](Self::VerifyTokenMismatch),
    /// [`MissingChallenge`](Self::MissingChallenge)); false for signature errors.
    #[must_use]
    pub fn is_handshake(&self) -> bool {
        matches!(
            self,
            WebhookError::WrongMode
                | WebhookError::VerifyTokenMismatch
                | WebhookError::MissingChallenge
        )
    }
}

/// Signs `body` the way Meta does: `"sha256=" + lowercase hex(HMAC-SHA256(secret, body))`.
///
/// Public so tools (`meta webhook sign`) and tests can build valid deliveries.
#[must_use]
pub fn sign(secret: &SecretString, body: &[u8]) -> String {
    let mut mac = hmac_sha256(secret.expose_secret().as_bytes());
    mac.update(body);
    format!(
        "{PREFIX_ALGORITHM}={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Checks `X-Hub-Signature-256` against one or more app secrets.
///
/// Several secrets let an app secret be rotated: add the new one, wait until Meta
/// signs with it, then drop the old one. A signature made with **any** configured
/// secret is accepted.
///
/// `Debug` prints only how many secrets are configured.
#[derive(Clone)]
pub struct Verifier {
    /// Never empty: `new` takes the first secret.
    secrets: Vec<SecretString>,
}

impl Verifier {
    /// A verifier for one app secret (the secret of the app that owns the
    /// subscription; for Instagram-Login apps, the Instagram app secret).
    #[must_use]
    pub fn new(secret: SecretString) -> Self {
        Verifier {
            secrets: vec![secret],
        }
    }

    /// Also accepts signatures made with `secret` (builder form of
    /// [`add_secret`](Self::add_secret)).
    #[must_use]
    pub fn with_secret(mut self, secret: SecretString) -> Self {
        self.add_secret(secret);
        self
    }

    /// Also accepts signatures made with `secret`.
    pub fn add_secret(&mut self, secret: SecretString) {
        self.secrets.push(secret);
    }

    /// How many secrets are accepted.
    #[must_use]
    pub fn secret_count(&self) -> usize {
        self.secrets.len()
    }

    /// Verifies `x_hub_signature_256` (the header's value) against the **raw** request
    /// body.
    ///
    /// The value must be `sha256=<64 hex digits>`; hex may be upper or lower case and
    /// surrounding whitespace is ignored. The MAC is compared in constant time.
    ///
    /// # Errors
    /// - [`WebhookError::MissingSignature`] for an empty value;
    /// - [`WebhookError::UnsupportedAlgorithm`] for another prefix such as `sha1=`;
    /// - [`WebhookError::MalformedSignature`] when the shape is wrong;
    /// - [`WebhookError::SignatureMismatch`] when no configured secret matches.
    pub fn verify(&self, raw_body: &[u8], x_hub_signature_256: &str) -> Result<(), WebhookError> {
        let expected = parse_signature(x_hub_signature_256)?;
        for secret in &self.secrets {
            let mut mac = hmac_sha256(secret.expose_secret().as_bytes());
            mac.update(raw_body);
            // `verify_slice` compares in constant time. Returning at the first match
            // reveals at most *which* secret matched, not anything about it.
            if mac.verify_slice(&expected).is_ok() {
                return Ok(());
            }
        }
        Err(WebhookError::SignatureMismatch)
    }

    /// Like [`verify`](Self::verify), reading [`HEADER_SIGNATURE_256`] from `headers`.
    ///
    /// # Errors
    /// As [`verify`](Self::verify); [`WebhookError::MissingSignature`] when the header
    /// is absent, [`WebhookError::MalformedSignature`] when it is not visible ASCII.
    pub fn verify_headers(&self, raw_body: &[u8], headers: &HeaderMap) -> Result<(), WebhookError> {
        let value = headers
            .get(HEADER_SIGNATURE_256)
            .ok_or(WebhookError::MissingSignature)?;
        let value = value
            .to_str()
            .map_err(|_| WebhookError::MalformedSignature {
                reason: "header value is not visible ASCII",
            })?;
        self.verify(raw_body, value)
    }

    /// **Test helper**: signs `body` with the first configured secret, producing a
    /// header value this verifier accepts. Handy for building signed fixtures; it is
    /// [`sign`] with this verifier's first secret.
    #[must_use]
    pub fn sign_for_test(&self, body: &[u8]) -> String {
        match self.secrets.first() {
            Some(secret) => sign(secret, body),
            // Unreachable (`new` stores one secret); an unusable value keeps this
            // panic-free.
            None => String::new(),
        }
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field(
                "secrets",
                &format_args!("[{} redacted]", self.secrets.len()),
            )
            .finish()
    }
}

/// Parses `sha256=<64 hex>` into the 32 MAC bytes.
fn parse_signature(header: &str) -> Result<[u8; 32], WebhookError> {
    let header = header.trim();
    if header.is_empty() {
        return Err(WebhookError::MissingSignature);
    }
    let Some((algorithm, hex_part)) = header.split_once('=') else {
        return Err(WebhookError::MalformedSignature {
            reason: if header.len() == HEX_LEN && header.bytes().all(|b| b.is_ascii_hexdigit()) {
                "the `sha256=` prefix is required"
            } else {
                "expected `sha256=<64 hex digits>`"
            },
        });
    };
    let algorithm = algorithm.trim();
    if algorithm.is_empty() {
        return Err(WebhookError::MalformedSignature {
            reason: "the `sha256=` prefix is required",
        });
    }
    if !algorithm.eq_ignore_ascii_case(PREFIX_ALGORITHM) {
        return Err(WebhookError::UnsupportedAlgorithm);
    }
    let hex_part = hex_part.trim();
    if hex_part.len() != HEX_LEN {
        return Err(WebhookError::MalformedSignature {
            reason: "expected 64 hex digits after `sha256=`",
        });
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_part, &mut out).map_err(|_| WebhookError::MalformedSignature {
        reason: "signature is not hexadecimal",
    })?;
    Ok(out)
}

/// The subscription handshake: checks Meta's `hub.*` GET against your verify token.
///
/// `Debug` never prints the token.
#[derive(Clone)]
pub struct Subscription {
    verify_token: SecretString,
}

impl Subscription {
    /// A handshake checker for the verify token you typed into the App Dashboard (or
    /// sent to `POST /{app-id}/subscriptions`).
    #[must_use]
    pub fn new(verify_token: SecretString) -> Self {
        Subscription { verify_token }
    }

    /// Checks the handshake and returns the challenge to echo as the `200` body.
    ///
    /// `mode` must be `subscribe` and `token` must equal the verify token. The token
    /// comparison is constant-time and length-independent: both sides are hashed to 32
    /// bytes first, so neither the position of the first difference nor a length
    /// mismatch shows in the timing. An empty token never matches.
    ///
    /// # Errors
    /// [`WebhookError::WrongMode`], [`WebhookError::VerifyTokenMismatch`] or
    /// [`WebhookError::MissingChallenge`], checked in that order.
    pub fn verify(
        &self,
        mode: Option<&str>,
        token: Option<&str>,
        challenge: Option<&str>,
    ) -> Result<String, WebhookError> {
        if mode != Some("subscribe") {
            return Err(WebhookError::WrongMode);
        }
        let token = token.unwrap_or_default();
        let expected = self.verify_token.expose_secret();
        let same = Sha256::digest(token.as_bytes()).ct_eq(&Sha256::digest(expected.as_bytes()));
        if token.is_empty() || expected.is_empty() || !bool::from(same) {
            return Err(WebhookError::VerifyTokenMismatch);
        }
        match challenge {
            Some(c) if !c.is_empty() => Ok(c.to_owned()),
            _ => Err(WebhookError::MissingChallenge),
        }
    }

    /// [`verify`](Self::verify) on a raw query string
    /// (`hub.mode=subscribe&hub.verify_token=..&hub.challenge=..`, with or without the
    /// leading `?`), percent-decoding it first.
    ///
    /// # Errors
    /// As [`verify`](Self::verify).
    pub fn verify_query(&self, query: &str) -> Result<String, WebhookError> {
        let q = HubQuery::from_query(query);
        self.verify(
            q.mode(),
            q.verify_token.as_ref().map(|t| t.expose_secret()),
            q.challenge(),
        )
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("verify_token", &"[redacted]")
            .finish()
    }
}

/// The `hub.*` parameters of a handshake GET, percent-decoded.
///
/// `Debug` never prints the verify token.
#[derive(Clone, Default)]
pub struct HubQuery {
    mode: Option<String>,
    verify_token: Option<SecretString>,
    challenge: Option<String>,
}

impl HubQuery {
    /// Parses `hub.mode`, `hub.verify_token` and `hub.challenge` from a query string
    /// (a leading `?` is allowed). Other parameters are ignored; when a parameter
    /// repeats, the first value wins. Never fails: absent parameters are `None`.
    #[must_use]
    pub fn from_query(query: &str) -> Self {
        let query = query.strip_prefix('?').unwrap_or(query);
        let mut out = HubQuery::default();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "hub.mode" if out.mode.is_none() => out.mode = Some(value.into_owned()),
                "hub.verify_token" if out.verify_token.is_none() => {
                    out.verify_token = Some(SecretString::from(value.into_owned()));
                }
                "hub.challenge" if out.challenge.is_none() => {
                    out.challenge = Some(value.into_owned());
                }
                _ => {}
            }
        }
        out
    }

    /// `hub.mode`.
    #[must_use]
    pub fn mode(&self) -> Option<&str> {
        self.mode.as_deref()
    }

    /// `hub.verify_token`.
    #[must_use]
    pub fn verify_token(&self) -> Option<&SecretString> {
        self.verify_token.as_ref()
    }

    /// `hub.challenge`.
    #[must_use]
    pub fn challenge(&self) -> Option<&str> {
        self.challenge.as_deref()
    }
}

impl fmt::Debug for HubQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubQuery")
            .field("mode", &self.mode)
            .field(
                "verify_token",
                &self.verify_token.as_ref().map(|_| "[redacted]"),
            )
            .field("challenge", &self.challenge)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "app-secret-123";
    const BODY: &[u8] = br#"{"object":"page","entry":[]}"#;
    // Python: hmac.new(b"app-secret-123", BODY, hashlib.sha256).hexdigest()
    const BODY_HEX: &str = "045d425314376ceef02357beda9d40971b523021cc4baad4e55bde33d2691f03";

    fn secret(s: &str) -> SecretString {
        SecretString::from(s)
    }

    fn verifier() -> Verifier {
        Verifier::new(secret(SECRET))
    }

    #[test]
    fn sign_matches_python_vectors() {
        assert_eq!(sign(&secret(SECRET), BODY), format!("sha256={BODY_HEX}"));
        // Meta MACs the escaped form it sent; the raw UTF-8 form is a different body.
        assert_eq!(
            sign(&secret(SECRET), br#"{"m":"\u00e4\u00f6\u00e5"}"#),
            "sha256=d034c175d53d65dd511e9f14dfe05f51b6f99b7966f46b8e5e98a67b91d1ee8d"
        );
        assert_eq!(
            sign(&secret(SECRET), r#"{"m":"äöå"}"#.as_bytes()),
            "sha256=9129a7dd8afec5af23dcd6a3d7e03afc3779f7aae445dfc279f8202c6d2c1fbe"
        );
    }

    #[test]
    fn accepts_valid_signature_in_tolerated_spellings() {
        let v = verifier();
        for header in [
            format!("sha256={BODY_HEX}"),
            format!("sha256={}", BODY_HEX.to_uppercase()),
            format!("  sha256={BODY_HEX}\t"),
            format!("SHA256={BODY_HEX}"),
        ] {
            assert_eq!(v.verify(BODY, &header), Ok(()), "{header}");
        }
    }

    #[test]
    fn rejects_wrong_body_or_secret() {
        let header = format!("sha256={BODY_HEX}");
        assert_eq!(
            verifier().verify(b"{\"object\":\"page\",\"entry\":[ ]}", &header),
            Err(WebhookError::SignatureMismatch)
        );
        assert_eq!(
            Verifier::new(secret("other")).verify(BODY, &header),
            Err(WebhookError::SignatureMismatch)
        );
        // A one-digit change in the signature.
        let mut bad = BODY_HEX.to_owned();
        bad.replace_range(0..1, "1");
        assert_eq!(
            verifier().verify(BODY, &format!("sha256={bad}")),
            Err(WebhookError::SignatureMismatch)
        );
    }

    #[test]
    fn header_shape_errors() {
        let v = verifier();
        let cases: [(&str, WebhookError); 10] = [
            ("", WebhookError::MissingSignature),
            ("   ", WebhookError::MissingSignature),
            (
                "sha1=0123456789abcdef0123456789abcdef01234567",
                WebhookError::UnsupportedAlgorithm,
            ),
            ("md5=abc", WebhookError::UnsupportedAlgorithm),
            (
                BODY_HEX,
                WebhookError::MalformedSignature {
                    reason: "the `sha256=` prefix is required",
                },
            ),
            (
                "=abc",
                WebhookError::MalformedSignature {
                    reason: "the `sha256=` prefix is required",
                },
            ),
            (
                "garbage",
                WebhookError::MalformedSignature {
                    reason: "expected `sha256=<64 hex digits>`",
                },
            ),
            (
                "sha256=",
                WebhookError::MalformedSignature {
                    reason: "expected 64 hex digits after `sha256=`",
                },
            ),
            (
                "sha256=abcd",
                WebhookError::MalformedSignature {
                    reason: "expected 64 hex digits after `sha256=`",
                },
            ),
            (
                "sha256=zz5d425314376ceef02357beda9d40971b523021cc4baad4e55bde33d2691f03",
                WebhookError::MalformedSignature {
                    reason: "signature is not hexadecimal",
                },
            ),
        ];
        for (header, want) in cases {
            assert_eq!(v.verify(BODY, header), Err(want), "{header:?}");
        }
        // Multi-byte characters where hex is expected: an error, not a panic.
        assert!(
            v.verify(BODY, &format!("sha256={}", "é".repeat(32)))
                .is_err()
        );
    }

    #[test]
    fn rotation_accepts_any_configured_secret() {
        let old = secret("old-secret");
        let new = secret("new-secret");
        let v = Verifier::new(old.clone()).with_secret(new.clone());
        assert_eq!(v.secret_count(), 2);
        assert_eq!(v.verify(BODY, &sign(&old, BODY)), Ok(()));
        assert_eq!(v.verify(BODY, &sign(&new, BODY)), Ok(()));
        assert_eq!(
            v.verify(BODY, &sign(&secret("third"), BODY)),
            Err(WebhookError::SignatureMismatch)
        );
        let mut v2 = Verifier::new(old);
        v2.add_secret(new.clone());
        assert_eq!(v2.verify(BODY, &sign(&new, BODY)), Ok(()));
    }

    #[test]
    fn sign_for_test_round_trips() {
        let v = verifier();
        let h = v.sign_for_test(b"hello");
        assert_eq!(v.verify(b"hello", &h), Ok(()));
        assert_eq!(h, sign(&secret(SECRET), b"hello"));
    }

    #[test]
    fn verify_headers_reads_the_header_case_insensitively() {
        let v = verifier();
        let mut headers = HeaderMap::new();
        assert_eq!(
            v.verify_headers(BODY, &headers),
            Err(WebhookError::MissingSignature)
        );
        // Only the legacy SHA-1 header: still "missing" the one we require.
        headers.insert(
            "X-Hub-Signature",
            http::HeaderValue::from_static("sha1=0123456789abcdef0123456789abcdef01234567"),
        );
        assert_eq!(
            v.verify_headers(BODY, &headers),
            Err(WebhookError::MissingSignature)
        );
        let value = http::HeaderValue::from_str(&format!("sha256={BODY_HEX}")).unwrap();
        headers.insert("X-Hub-Signature-256", value);
        assert_eq!(v.verify_headers(BODY, &headers), Ok(()));
        headers.insert(
            "x-hub-signature-256",
            http::HeaderValue::from_bytes(b"sha256=\xff").unwrap(),
        );
        assert!(matches!(
            v.verify_headers(BODY, &headers),
            Err(WebhookError::MalformedSignature { .. })
        ));
    }

    #[test]
    fn debug_and_display_never_show_secrets() {
        let v = Verifier::new(secret("super-secret-value")).with_secret(secret("second-secret"));
        let dbg = format!("{v:?}");
        assert!(!dbg.contains("super-secret-value") && !dbg.contains("second-secret"));
        assert!(dbg.contains("2 redacted"), "{dbg}");

        let s = Subscription::new(secret("verify-me-please"));
        assert!(!format!("{s:?}").contains("verify-me-please"));

        let q = HubQuery::from_query("hub.verify_token=verify-me-please&hub.mode=subscribe");
        let dbg = format!("{q:?}");
        assert!(
            !dbg.contains("verify-me-please") && dbg.contains("subscribe"),
            "{dbg}"
        );

        for e in [
            WebhookError::SignatureMismatch,
            WebhookError::VerifyTokenMismatch,
        ] {
            let msg = e.to_string();
            assert!(!msg.contains("super-secret") && !msg.contains(BODY_HEX));
        }
    }

    #[test]
    fn handshake_table() {
        type Case<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
            Result<String, WebhookError>,
        );
        let sub = Subscription::new(secret("meatyhamhock"));
        let cases: [Case<'_>; 9] = [
            (
                Some("subscribe"),
                Some("meatyhamhock"),
                Some("1158201444"),
                Ok("1158201444".to_owned()),
            ),
            (
                None,
                Some("meatyhamhock"),
                Some("1"),
                Err(WebhookError::WrongMode),
            ),
            (
                Some("unsubscribe"),
                Some("meatyhamhock"),
                Some("1"),
                Err(WebhookError::WrongMode),
            ),
            (
                Some("Subscribe"),
                Some("meatyhamhock"),
                Some("1"),
                Err(WebhookError::WrongMode),
            ),
            (
                Some("subscribe"),
                None,
                Some("1"),
                Err(WebhookError::VerifyTokenMismatch),
            ),
            (
                Some("subscribe"),
                Some(""),
                Some("1"),
                Err(WebhookError::VerifyTokenMismatch),
            ),
            (
                Some("subscribe"),
                Some("meatyhamhock2"),
                Some("1"),
                Err(WebhookError::VerifyTokenMismatch),
            ),
            (
                Some("subscribe"),
                Some("meatyhamhock"),
                None,
                Err(WebhookError::MissingChallenge),
            ),
            (
                Some("subscribe"),
                Some("meatyhamhock"),
                Some(""),
                Err(WebhookError::MissingChallenge),
            ),
        ];
        for (mode, token, challenge, want) in cases {
            assert_eq!(
                sub.verify(mode, token, challenge),
                want,
                "{mode:?} {challenge:?}"
            );
        }
    }

    #[test]
    fn empty_configured_token_matches_nothing() {
        let sub = Subscription::new(secret(""));
        assert_eq!(
            sub.verify(Some("subscribe"), Some(""), Some("1")),
            Err(WebhookError::VerifyTokenMismatch)
        );
    }

    #[test]
    fn handshake_from_query() {
        let sub = Subscription::new(secret("meaty ham&hock"));
        assert_eq!(
            sub.verify_query(
                "?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meaty+ham%26hock"
            ),
            Ok("1158201444".to_owned())
        );
        assert_eq!(
            sub.verify_query("hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1"),
            Err(WebhookError::VerifyTokenMismatch)
        );
        assert_eq!(sub.verify_query(""), Err(WebhookError::WrongMode));

        let q =
            HubQuery::from_query("a=b&hub.challenge=x%20y&hub.challenge=second&hub.mode=subscribe");
        assert_eq!(q.challenge(), Some("x y"));
        assert_eq!(q.mode(), Some("subscribe"));
        assert!(q.verify_token().is_none());
    }

    #[test]
    fn error_classes() {
        assert!(WebhookError::WrongMode.is_handshake());
        assert!(WebhookError::MissingChallenge.is_handshake());
        assert!(!WebhookError::SignatureMismatch.is_handshake());
        assert!(!WebhookError::UnsupportedAlgorithm.is_handshake());
    }
}
