//! `appsecret_proof`: proving a server-side call comes from the app's owner.
//!
//! With "Require App Secret" on, Meta rejects calls that carry an access token without
//! a proof that the caller also knows the app secret. Two forms exist:
//!
//! - **Classic**, used by every official SDK: `appsecret_proof = hex(HMAC-SHA256(key =
//!   app_secret, msg = access_token))`. It never expires, so a leaked proof is as good
//!   as the token for as long as the token lives.
//! - **Time-stamped**, from Meta's current Login-security page: the message is
//!   `access_token + "|" + unix_time` and the request also carries
//!   `appsecret_time=<unix_time>`. Meta treats it as expired after five minutes, so
//!   generate one per call. This is the default ([`ProofMode::Timed`]).
//!
//! Hex output is lowercase, as Meta's examples (`hash_hmac`, Python `hexdigest()`) are.
//!
//! ```
//! use meta_core::auth::{appsecret_proof, proof_params, ProofMode};
//! use secrecy::SecretString;
//!
//! let secret = SecretString::from("app-secret-123");
//! let token = SecretString::from("EAAB-token-abc");
//! assert_eq!(
//!     appsecret_proof(&secret, &token),
//!     "1935fab6f12b6a044c87c57633f405244e812bb67e6e7bc237a2451a622bf168"
//! );
//! let params = proof_params(ProofMode::Timed, &secret, &token, 1_700_000_000);
//! assert_eq!(params[1], ("appsecret_time", "1700000000".to_owned()));
//! ```

use hmac::digest::Key;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// The query/form parameter carrying the proof.
pub const PARAM_APPSECRET_PROOF: &str = "appsecret_proof";
/// The query/form parameter carrying the unix time a time-stamped proof was made at.
pub const PARAM_APPSECRET_TIME: &str = "appsecret_time";

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// A fresh HMAC-SHA256 keyed with `key`, for this module and [`crate::webhook`].
pub(crate) fn hmac_sha256(key: &[u8]) -> HmacSha256 {
    match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC accepts keys of any length, so this arm is not expected to run. It
        // exists so library code has no `expect`: it builds the same block-sized key
        // RFC 2104 prescribes (hash keys longer than a block, then zero-pad), which
        // gives the identical MAC.
        Err(_) => {
            let mut block = Key::<HmacSha256>::default();
            if key.len() > block.len() {
                let digest = Sha256::digest(key);
                block[..digest.len()].copy_from_slice(&digest);
            } else {
                block[..key.len()].copy_from_slice(key);
            }
            HmacSha256::new(&block)
        }
    }
}

/// Which form of `appsecret_proof` to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ProofMode {
    /// `HMAC(app_secret, access_token)`, no expiry. What the official SDKs send; use it
    /// if an endpoint or an older Graph version refuses the time-stamped form.
    Classic,
    /// `HMAC(app_secret, access_token|unix_time)` plus `appsecret_time`; Meta expires it
    /// after five minutes. The default, as Meta's Login-security page recommends.
    #[default]
    Timed,
}

/// The classic proof: lowercase hex of `HMAC-SHA256(key = app_secret, msg = access_token)`.
#[must_use]
pub fn appsecret_proof(app_secret: &SecretString, access_token: &SecretString) -> String {
    let mut mac = hmac_sha256(app_secret.expose_secret().as_bytes());
    mac.update(access_token.expose_secret().as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The time-stamped proof: lowercase hex of
/// `HMAC-SHA256(key = app_secret, msg = access_token + "|" + unix_time)`.
///
/// Send it with `appsecret_time=<unix_time>` (see [`proof_params`]); `unix_time` is in
/// seconds and should be "now", because Meta rejects proofs older than five minutes.
#[must_use]
pub fn appsecret_proof_timed(
    app_secret: &SecretString,
    access_token: &SecretString,
    unix_time: u64,
) -> String {
    let mut mac = hmac_sha256(app_secret.expose_secret().as_bytes());
    // Fed in parts so the token is never copied into a second, unzeroised buffer.
    mac.update(access_token.expose_secret().as_bytes());
    mac.update(b"|");
    mac.update(unix_time.to_string().as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The parameters to add next to `access_token` for `mode`:
/// `[("appsecret_proof", ..)]` for [`ProofMode::Classic`], and
/// `[("appsecret_proof", ..), ("appsecret_time", unix_time)]` for [`ProofMode::Timed`].
///
/// `unix_time` is ignored in classic mode.
#[must_use]
pub fn proof_params(
    mode: ProofMode,
    app_secret: &SecretString,
    access_token: &SecretString,
    unix_time: u64,
) -> Vec<(&'static str, String)> {
    match mode {
        ProofMode::Classic => vec![(
            PARAM_APPSECRET_PROOF,
            appsecret_proof(app_secret, access_token),
        )],
        ProofMode::Timed => vec![
            (
                PARAM_APPSECRET_PROOF,
                appsecret_proof_timed(app_secret, access_token, unix_time),
            ),
            (PARAM_APPSECRET_TIME, unix_time.to_string()),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> SecretString {
        SecretString::from(v)
    }

    // Every expected value below was computed with Python's `hmac.new(key, msg,
    // hashlib.sha256).hexdigest()`, independently of this crate.
    #[test]
    fn classic_vectors() {
        let cases = [
            (
                "app-secret-123",
                "EAAB-token-abc",
                "1935fab6f12b6a044c87c57633f405244e812bb67e6e7bc237a2451a622bf168",
            ),
            // Non-ASCII token: the UTF-8 bytes are what is MACed.
            (
                "s3cr3t",
                "tökén-✓",
                "64677b1d02672b273b02d4445aa61172df59f3b275ae8341cb25681b83d7c070",
            ),
            // Empty secret: allowed by HMAC, so the output is still well defined.
            (
                "",
                "EAAB-token-abc",
                "e9bed37a7441e22d5f449c1ebec1e12bf4c308bbbef690c0ce2bb4f000508fae",
            ),
            // A key longer than SHA-256's 64-byte block is hashed first.
            (
                &"k".repeat(100),
                "token",
                "86682cec918f56d5cb75d2206c046165da9592856981aebe6167f5890b42d7d1",
            ),
            // RFC 4231 test case 2.
            (
                "Jefe",
                "what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
        ];
        for (secret, token, want) in cases {
            assert_eq!(appsecret_proof(&s(secret), &s(token)), want, "{token}");
        }
    }

    #[test]
    fn timed_vectors() {
        assert_eq!(
            appsecret_proof_timed(&s("app-secret-123"), &s("EAAB-token-abc"), 1_700_000_000),
            "20c92dae73b255189c0de44cef9ec607fc68c4737c405be227d843a42d8e5637"
        );
        assert_eq!(
            appsecret_proof_timed(&s(""), &s("EAAB-token-abc"), 0),
            "d97e2585700be010c7cfa339e59d7e58e760f31c42c03fe5431b276ab249d66d"
        );
    }

    #[test]
    fn timed_equals_classic_over_token_pipe_time() {
        let secret = s("k");
        let timed = appsecret_proof_timed(&secret, &s("tok"), 42);
        assert_eq!(timed, appsecret_proof(&secret, &s("tok|42")));
        assert_ne!(timed, appsecret_proof(&secret, &s("tok")));
    }

    #[test]
    fn output_is_lowercase_hex_of_32_bytes() {
        let p = appsecret_proof(&s("a"), &s("b"));
        assert_eq!(p.len(), 64);
        assert!(
            p.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        );
    }

    #[test]
    fn params_per_mode() {
        let (secret, token) = (s("app-secret-123"), s("EAAB-token-abc"));
        assert_eq!(ProofMode::default(), ProofMode::Timed);
        assert_eq!(
            proof_params(ProofMode::Classic, &secret, &token, 1_700_000_000),
            vec![(
                "appsecret_proof",
                "1935fab6f12b6a044c87c57633f405244e812bb67e6e7bc237a2451a622bf168".to_owned()
            )]
        );
        assert_eq!(
            proof_params(ProofMode::Timed, &secret, &token, 1_700_000_000),
            vec![
                (
                    "appsecret_proof",
                    "20c92dae73b255189c0de44cef9ec607fc68c4737c405be227d843a42d8e5637".to_owned()
                ),
                ("appsecret_time", "1700000000".to_owned()),
            ]
        );
    }

    #[test]
    fn fallback_key_derivation_matches_hmac() {
        // The `Err` arm of `hmac_sha256` is unreachable in practice; check the
        // derivation it would use agrees with the real thing for short and long keys.
        for key in [&b""[..], b"short", &[7u8; 64], &[9u8; 200]] {
            let mut block = Key::<HmacSha256>::default();
            if key.len() > block.len() {
                let d = Sha256::digest(key);
                block[..d.len()].copy_from_slice(&d);
            } else {
                block[..key.len()].copy_from_slice(key);
            }
            let a = HmacSha256::new(&block)
                .chain_update(b"m")
                .finalize()
                .into_bytes();
            let b = hmac_sha256(key).chain_update(b"m").finalize().into_bytes();
            assert_eq!(a, b);
        }
    }
}
