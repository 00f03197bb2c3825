//! HMAC-SHA256 helpers shared by the Mercado Pago and Flow signatures.

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &SecretString) -> Option<HmacSha256> {
    // HMAC takes keys of any length, so this never fails in practice; callers
    // treat `None` as "no valid signature" rather than panicking.
    HmacSha256::new_from_slice(secret.expose_secret().as_bytes()).ok()
}

/// Lowercase hex of HMAC-SHA256(`secret`, `message`).
pub(crate) fn hmac_hex(secret: &SecretString, message: &[u8]) -> String {
    match mac(secret) {
        Some(mut m) => {
            m.update(message);
            hex::encode(m.finalize().into_bytes())
        }
        None => String::new(),
    }
}

/// Whether `hex_sig` (either case) is HMAC-SHA256(`secret`, `message`), compared in
/// constant time.
pub(crate) fn verify_hmac_hex(secret: &SecretString, message: &[u8], hex_sig: &str) -> bool {
    let Ok(expected) = hex::decode(hex_sig.trim()) else {
        return false;
    };
    let Some(mut m) = mac(secret) else {
        return false;
    };
    m.update(message);
    m.verify_slice(&expected).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let key = SecretString::from("Jefe");
        let sig = hmac_hex(&key, b"what do ya want for nothing?");
        assert_eq!(
            sig,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(verify_hmac_hex(&key, b"what do ya want for nothing?", &sig));
        assert!(verify_hmac_hex(
            &key,
            b"what do ya want for nothing?",
            &sig.to_ascii_uppercase()
        ));
        assert!(!verify_hmac_hex(
            &key,
            b"what do ya want for nothing!",
            &sig
        ));
        assert!(!verify_hmac_hex(&key, b"x", "not hex"));
    }
}
