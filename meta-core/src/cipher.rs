//! Encrypting access tokens at rest.
//!
//! Page and system-user tokens often do not expire, so a database dump of them is a
//! standing credential. [`TokenCipher`] seals each token with AES-256-GCM before it is
//! stored:
//!
//! - a fresh random 96-bit nonce per encryption, from the operating system;
//! - the id of the key that sealed it travels inside the sealed string, so after a
//!   rotation old rows still decrypt with the old key while every new encryption uses
//!   the current one;
//! - associated data binds the token to its owner (for example `b"page:123"`): a
//!   sealed token copied onto another row fails to decrypt there.
//!
//! # Format
//!
//! `v1.<key id>.<base64url, no padding, of nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)>`
//!
//! The GCM associated data is `v1.<key id>.` followed by the caller's associated data,
//! so the version and key id are authenticated too. Key ids contain no `.`, which keeps
//! that prefix unambiguous. This is this crate's own storage format, not Meta's.
//!
//! ```
//! use meta_core::cipher::{Key, KeyId, TokenCipher};
//! use secrecy::{ExposeSecret, SecretString};
//!
//! let cipher = TokenCipher::new(KeyId::new("2026-01")?, Key::generate()?);
//! let sealed = cipher.encrypt(&SecretString::from("EAAB-page-token"), b"page:123")?;
//! assert!(sealed.starts_with("v1.2026-01."));
//! let token = cipher.decrypt(&sealed, b"page:123")?;
//! assert_eq!(token.expose_secret(), "EAAB-page-token");
//! assert!(cipher.decrypt(&sealed, b"page:456").is_err());
//! # Ok::<(), meta_core::cipher::CipherError>(())
//! ```

use std::fmt;

use aes_gcm::aead::{Aead, Generate, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce, aead};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use secrecy::zeroize::Zeroize;
use secrecy::{ExposeSecret, SecretBox, SecretSlice, SecretString};

/// The format version written by [`TokenCipher::encrypt`].
const VERSION: &str = "v1";
/// AES-GCM nonce length in bytes.
const NONCE_LEN: usize = 12;
/// AES-GCM tag length in bytes.
const TAG_LEN: usize = 16;
/// Key length in bytes (AES-256).
pub const KEY_LEN: usize = 32;
/// The longest key id accepted.
pub const MAX_KEY_ID_LEN: usize = 32;

/// Why sealing or opening a token failed. Messages never contain key material or
/// plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CipherError {
    /// The sealed value names a key id this cipher does not hold (it was sealed with a
    /// key that has since been removed, or by another deployment).
    #[error("sealed token uses unknown key id `{0}`")]
    UnknownKey(String),
    /// The sealed value is not in the `v1.<key id>.<base64url>` format.
    #[error("malformed sealed token: {0}")]
    Malformed(&'static str),
    /// Authentication failed: the ciphertext, nonce, tag or key id was modified, or
    /// the associated data differs from the one used to seal it.
    #[error("sealed token failed authentication (tampered, or wrong associated data)")]
    Tampered,
    /// A key could not be built (wrong length, bad base64).
    #[error("invalid encryption key: {0}")]
    BadKey(&'static str),
    /// A key id is empty, too long or has characters other than ASCII letters,
    /// digits, `_` and `-`.
    #[error("invalid key id: {0}")]
    BadKeyId(&'static str),
    /// The same key id was configured twice.
    #[error("key id `{0}` is configured twice")]
    DuplicateKeyId(String),
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Randomness,
}

/// A short name for a key, stored in every sealed value so the right key can be found
/// after a rotation (for example `2026-01` or `k7`).
///
/// One to [`MAX_KEY_ID_LEN`] ASCII letters, digits, `_` or `-`. Not secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);

impl KeyId {
    /// Validates a key id.
    ///
    /// # Errors
    /// [`CipherError::BadKeyId`] when it is empty, too long or has other characters
    /// (in particular `.`, the format's separator).
    pub fn new(id: impl Into<String>) -> Result<Self, CipherError> {
        let id = id.into();
        check_key_id(&id)?;
        Ok(KeyId(id))
    }

    /// The id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for KeyId {
    type Err = CipherError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KeyId::new(s)
    }
}

fn check_key_id(id: &str) -> Result<(), CipherError> {
    if id.is_empty() {
        return Err(CipherError::BadKeyId("empty"));
    }
    if id.len() > MAX_KEY_ID_LEN {
        return Err(CipherError::BadKeyId("longer than 32 characters"));
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
    {
        return Err(CipherError::BadKeyId(
            "only ASCII letters, digits, `_` and `-` are allowed",
        ));
    }
    Ok(())
}

/// A 256-bit AES key, zeroised on drop. `Debug` is redacted.
pub struct Key(SecretBox<[u8; KEY_LEN]>);

impl Key {
    /// A key from raw bytes.
    #[must_use]
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        let mut bytes = bytes;
        let key = Key(SecretBox::init_with_mut(|k: &mut [u8; KEY_LEN]| {
            k.copy_from_slice(&bytes);
        }));
        bytes.zeroize();
        key
    }

    /// A key from a slice that must be exactly 32 bytes.
    ///
    /// # Errors
    /// [`CipherError::BadKey`] for any other length.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CipherError> {
        if bytes.len() != KEY_LEN {
            return Err(CipherError::BadKey("a key must be exactly 32 bytes"));
        }
        Ok(Key(SecretBox::init_with_mut(|k: &mut [u8; KEY_LEN]| {
            k.copy_from_slice(bytes);
        })))
    }

    /// A key from base64 of its 32 bytes (standard or URL-safe alphabet, padded or
    /// not; surrounding whitespace ignored), as [`to_base64`](Self::to_base64) writes
    /// and as keys are usually kept in environment variables.
    ///
    /// # Errors
    /// [`CipherError::BadKey`] when the text is not base64 or not 32 bytes.
    pub fn from_base64(encoded: &str) -> Result<Self, CipherError> {
        let encoded = encoded.trim();
        let decoded = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(encoded).ok())
            .ok_or(CipherError::BadKey("not valid base64"))?;
        // Zeroised when dropped, whatever happens next.
        let decoded = SecretSlice::from(decoded);
        Key::from_slice(decoded.expose_secret())
    }

    /// A new random key from the operating system's generator.
    ///
    /// # Errors
    /// [`CipherError::Randomness`] if the system generator fails.
    pub fn generate() -> Result<Self, CipherError> {
        let key = SecretBox::try_init_with(|| {
            <[u8; KEY_LEN] as Generate>::try_generate().map_err(|_| CipherError::Randomness)
        })?;
        Ok(Key(key))
    }

    /// The key as standard padded base64, for storing it in a secret manager.
    #[must_use]
    pub fn to_base64(&self) -> SecretString {
        SecretString::from(STANDARD.encode(self.0.expose_secret()))
    }

    fn aead(&self) -> Result<Aes256Gcm, CipherError> {
        Aes256Gcm::new_from_slice(self.0.expose_secret())
            .map_err(|_| CipherError::BadKey("a key must be exactly 32 bytes"))
    }
}

impl Clone for Key {
    fn clone(&self) -> Self {
        // `[u8; 32]` is not a `CloneableSecret`; copy straight into a new box.
        Key(SecretBox::init_with_mut(|k: &mut [u8; KEY_LEN]| {
            k.copy_from_slice(self.0.expose_secret());
        }))
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key([redacted])")
    }
}

/// Seals tokens for storage with AES-256-GCM; see the [module docs](self).
///
/// Holds one current key, used for every encryption, and any number of old keys,
/// used only to decrypt values sealed before a rotation. To rotate: make the new key
/// current, move the previous one to [`with_old_key`](Self::with_old_key), re-seal
/// rows that [`needs_rotation`](Self::needs_rotation), then drop the old key.
///
/// `Debug` lists key ids only.
#[derive(Clone)]
pub struct TokenCipher {
    current: (KeyId, Key),
    old: Vec<(KeyId, Key)>,
}

impl TokenCipher {
    /// A cipher encrypting with `key`, identified by `key_id`.
    #[must_use]
    pub fn new(key_id: KeyId, key: Key) -> Self {
        TokenCipher {
            current: (key_id, key),
            old: Vec::new(),
        }
    }

    /// Also decrypts values sealed with `key` under `key_id`; never encrypts with it.
    ///
    /// # Errors
    /// [`CipherError::DuplicateKeyId`] when `key_id` is already configured: two keys
    /// under one id would make decryption ambiguous.
    pub fn with_old_key(mut self, key_id: KeyId, key: Key) -> Result<Self, CipherError> {
        if self.key(&key_id.0).is_some() {
            return Err(CipherError::DuplicateKeyId(key_id.0));
        }
        self.old.push((key_id, key));
        Ok(self)
    }

    /// The id of the key new encryptions use.
    #[must_use]
    pub fn current_key_id(&self) -> &KeyId {
        &self.current.0
    }

    /// Every configured key id, current first.
    pub fn key_ids(&self) -> impl Iterator<Item = &KeyId> {
        std::iter::once(&self.current.0).chain(self.old.iter().map(|(id, _)| id))
    }

    fn key(&self, id: &str) -> Option<&Key> {
        std::iter::once(&self.current)
            .chain(self.old.iter())
            .find(|(kid, _)| kid.0 == id)
            .map(|(_, key)| key)
    }

    /// Seals `plaintext` with the current key, binding it to `aad` (which must be
    /// passed again, byte for byte, to decrypt). Each call uses a fresh random nonce,
    /// so sealing the same token twice gives different strings.
    ///
    /// # Errors
    /// [`CipherError::Randomness`] if the system generator fails; [`CipherError::BadKey`]
    /// is not expected (keys are checked on construction).
    pub fn encrypt(&self, plaintext: &SecretString, aad: &[u8]) -> Result<String, CipherError> {
        let (key_id, key) = &self.current;
        let nonce = <Nonce<aead::consts::U12> as Generate>::try_generate()
            .map_err(|_| CipherError::Randomness)?;
        let full_aad = full_aad(key_id.as_str(), aad);
        let sealed = key
            .aead()?
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.expose_secret().as_bytes(),
                    aad: &full_aad,
                },
            )
            // Only fails past GCM's 64 GiB plaintext limit.
            .map_err(|_| CipherError::Malformed("plaintext too long"))?;
        let mut blob = Vec::with_capacity(NONCE_LEN + sealed.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&sealed);
        Ok(format!(
            "{VERSION}.{key_id}.{}",
            URL_SAFE_NO_PAD.encode(&blob)
        ))
    }

    /// Opens a value sealed by [`encrypt`](Self::encrypt) (with any configured key),
    /// checking it was sealed with the same `aad`.
    ///
    /// # Errors
    /// - [`CipherError::Malformed`] when the string is not in the format;
    /// - [`CipherError::UnknownKey`] when its key id is not configured;
    /// - [`CipherError::Tampered`] when authentication fails (any modified byte, or a
    ///   different `aad`).
    pub fn decrypt(&self, sealed: &str, aad: &[u8]) -> Result<SecretString, CipherError> {
        let (key_id, blob) = split_sealed(sealed)?;
        let key = self
            .key(key_id)
            .ok_or_else(|| CipherError::UnknownKey(key_id.to_owned()))?;
        let blob = URL_SAFE_NO_PAD
            .decode(blob)
            .map_err(|_| CipherError::Malformed("payload is not unpadded base64url"))?;
        if blob.len() < NONCE_LEN + TAG_LEN {
            return Err(CipherError::Malformed("payload too short"));
        }
        let (nonce, ciphertext) = blob.split_at(NONCE_LEN);
        let nonce = <&Nonce<aead::consts::U12>>::try_from(nonce)
            .map_err(|_| CipherError::Malformed("payload too short"))?;
        let full_aad = full_aad(key_id, aad);
        let plain = key
            .aead()?
            .decrypt(
                nonce,
                Payload {
                    msg: ciphertext,
                    aad: &full_aad,
                },
            )
            .map_err(|_| CipherError::Tampered)?;
        // Zeroise the decrypted buffer however this ends; copy the text out once.
        let plain = SecretSlice::from(plain);
        match std::str::from_utf8(plain.expose_secret()) {
            Ok(text) => Ok(SecretString::from(text)),
            // Authentic but not UTF-8: sealed by something other than `encrypt`.
            Err(_) => Err(CipherError::Malformed("plaintext is not UTF-8")),
        }
    }

    /// True when `sealed` was sealed with an old key and should be re-sealed
    /// (decrypt, then encrypt) to finish a rotation.
    ///
    /// # Errors
    /// [`CipherError::Malformed`] or [`CipherError::UnknownKey`], as for
    /// [`decrypt`](Self::decrypt). Authenticity is not checked here.
    pub fn needs_rotation(&self, sealed: &str) -> Result<bool, CipherError> {
        let (key_id, _) = split_sealed(sealed)?;
        if self.key(key_id).is_none() {
            return Err(CipherError::UnknownKey(key_id.to_owned()));
        }
        Ok(key_id != self.current.0.as_str())
    }
}

/// Splits `v1.<key id>.<blob>` and validates the first two parts.
fn split_sealed(sealed: &str) -> Result<(&str, &str), CipherError> {
    let mut parts = sealed.splitn(3, '.');
    let (Some(version), Some(key_id), Some(blob)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(CipherError::Malformed("expected `v1.<key id>.<payload>`"));
    };
    if version != VERSION {
        return Err(CipherError::Malformed("unsupported version"));
    }
    check_key_id(key_id).map_err(|_| CipherError::Malformed("invalid key id"))?;
    Ok((key_id, blob))
}

/// The associated data actually given to GCM: the format prefix, then the caller's.
fn full_aad(key_id: &str, aad: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(VERSION.len() + key_id.len() + 2 + aad.len());
    out.extend_from_slice(VERSION.as_bytes());
    out.push(b'.');
    out.extend_from_slice(key_id.as_bytes());
    out.push(b'.');
    out.extend_from_slice(aad);
    out
}

impl fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCipher")
            .field("current_key_id", &self.current.0.as_str())
            .field(
                "old_key_ids",
                &self
                    .old
                    .iter()
                    .map(|(id, _)| id.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> Key {
        Key::from_bytes([byte; KEY_LEN])
    }

    fn kid(s: &str) -> KeyId {
        KeyId::new(s).unwrap()
    }

    fn tok(s: &str) -> SecretString {
        SecretString::from(s)
    }

    fn cipher() -> TokenCipher {
        TokenCipher::new(kid("k1"), key(1))
    }

    #[test]
    fn round_trip_and_fresh_nonces() {
        let c = cipher();
        for plain in ["EAAB-token", "", "tökén ✓ with spaces", &"x".repeat(5000)] {
            let sealed = c.encrypt(&tok(plain), b"page:123").unwrap();
            assert!(sealed.starts_with("v1.k1."), "{sealed}");
            assert!(!sealed.contains(plain) || plain.is_empty());
            assert!(sealed.is_ascii());
            let opened = c.decrypt(&sealed, b"page:123").unwrap();
            assert_eq!(opened.expose_secret(), plain);
        }
        let a = c.encrypt(&tok("same"), b"").unwrap();
        let b = c.encrypt(&tok("same"), b"").unwrap();
        assert_ne!(a, b, "nonces must differ");
    }

    #[test]
    fn payload_length_is_nonce_plus_plaintext_plus_tag() {
        let sealed = cipher().encrypt(&tok("abcd"), b"").unwrap();
        let blob = URL_SAFE_NO_PAD
            .decode(sealed.rsplit('.').next().unwrap())
            .unwrap();
        assert_eq!(blob.len(), NONCE_LEN + 4 + TAG_LEN);
    }

    #[test]
    fn wrong_aad_fails() {
        let c = cipher();
        let sealed = c.encrypt(&tok("t"), b"page:123").unwrap();
        assert_eq!(
            c.decrypt(&sealed, b"page:124").unwrap_err(),
            CipherError::Tampered
        );
        assert_eq!(c.decrypt(&sealed, b"").unwrap_err(), CipherError::Tampered);
    }

    #[test]
    fn rotation() {
        let old = cipher();
        let sealed_old = old.encrypt(&tok("old-token"), b"a").unwrap();

        let rotated = TokenCipher::new(kid("k2"), key(2))
            .with_old_key(kid("k1"), key(1))
            .unwrap();
        assert_eq!(rotated.current_key_id().as_str(), "k2");
        assert_eq!(
            rotated.key_ids().map(KeyId::as_str).collect::<Vec<_>>(),
            ["k2", "k1"]
        );
        // Old values still open.
        assert_eq!(
            rotated.decrypt(&sealed_old, b"a").unwrap().expose_secret(),
            "old-token"
        );
        assert!(rotated.needs_rotation(&sealed_old).unwrap());
        // New values use the current key, and the old cipher cannot read them.
        let sealed_new = rotated.encrypt(&tok("new-token"), b"a").unwrap();
        assert!(sealed_new.starts_with("v1.k2."));
        assert!(!rotated.needs_rotation(&sealed_new).unwrap());
        assert_eq!(
            old.decrypt(&sealed_new, b"a").unwrap_err(),
            CipherError::UnknownKey("k2".to_owned())
        );
        // Duplicate ids are refused.
        assert_eq!(
            TokenCipher::new(kid("k1"), key(1))
                .with_old_key(kid("k1"), key(2))
                .unwrap_err(),
            CipherError::DuplicateKeyId("k1".to_owned())
        );
    }

    #[test]
    fn relabelled_key_id_fails_authentication() {
        // Same key bytes under two ids: moving a value from one id to the other must
        // still fail, because the key id is part of the associated data.
        let c = TokenCipher::new(kid("a"), key(7))
            .with_old_key(kid("b"), key(7))
            .unwrap();
        let sealed = c.encrypt(&tok("t"), b"").unwrap();
        let moved = sealed.replacen("v1.a.", "v1.b.", 1);
        assert_eq!(c.decrypt(&moved, b"").unwrap_err(), CipherError::Tampered);
    }

    #[test]
    fn every_flipped_bit_is_detected() {
        let c = cipher();
        let sealed = c.encrypt(&tok("token"), b"x").unwrap();
        let blob = URL_SAFE_NO_PAD
            .decode(sealed.rsplit('.').next().unwrap())
            .unwrap();
        // Nonce, ciphertext and tag: every bit of each.
        for i in 0..blob.len() * 8 {
            let mut b = blob.clone();
            b[i / 8] ^= 1 << (i % 8);
            let forged = format!("v1.k1.{}", URL_SAFE_NO_PAD.encode(&b));
            assert_eq!(
                c.decrypt(&forged, b"x").unwrap_err(),
                CipherError::Tampered,
                "bit {i}"
            );
        }
        // Truncation and extension.
        let short = format!("v1.k1.{}", URL_SAFE_NO_PAD.encode(&blob[..blob.len() - 1]));
        assert_eq!(c.decrypt(&short, b"x").unwrap_err(), CipherError::Tampered);
        let mut long = blob.clone();
        long.push(0);
        let long = format!("v1.k1.{}", URL_SAFE_NO_PAD.encode(&long));
        assert_eq!(c.decrypt(&long, b"x").unwrap_err(), CipherError::Tampered);
    }

    #[test]
    fn malformed_inputs() {
        let c = cipher();
        let good = c.encrypt(&tok("t"), b"").unwrap();
        let payload = good.rsplit('.').next().unwrap().to_owned();
        let cases: Vec<(String, CipherError)> = vec![
            (
                String::new(),
                CipherError::Malformed("expected `v1.<key id>.<payload>`"),
            ),
            (
                "v1".into(),
                CipherError::Malformed("expected `v1.<key id>.<payload>`"),
            ),
            (
                "v1.k1".into(),
                CipherError::Malformed("expected `v1.<key id>.<payload>`"),
            ),
            (
                format!("v2.k1.{payload}"),
                CipherError::Malformed("unsupported version"),
            ),
            (
                format!("v1..{payload}"),
                CipherError::Malformed("invalid key id"),
            ),
            (
                format!("v1.k 1.{payload}"),
                CipherError::Malformed("invalid key id"),
            ),
            (
                format!("v1.k9.{payload}"),
                CipherError::UnknownKey("k9".into()),
            ),
            ("v1.k1.".into(), CipherError::Malformed("payload too short")),
            (
                "v1.k1.AAAA".into(),
                CipherError::Malformed("payload too short"),
            ),
            (
                format!("v1.k1.{payload}="),
                CipherError::Malformed("payload is not unpadded base64url"),
            ),
            (
                format!("v1.k1.{payload}.extra"),
                CipherError::Malformed("payload is not unpadded base64url"),
            ),
            (
                "v1.k1.!!!!".into(),
                CipherError::Malformed("payload is not unpadded base64url"),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(c.decrypt(&input, b"").unwrap_err(), want, "{input:?}");
        }
    }

    #[test]
    fn non_utf8_plaintext_is_reported_not_panicked() {
        // Seal raw bytes directly with the same construction.
        let raw_key = [1u8; KEY_LEN];
        let nonce = [0u8; NONCE_LEN];
        let ct = Aes256Gcm::new_from_slice(&raw_key)
            .unwrap()
            .encrypt(
                <&Nonce<aead::consts::U12>>::try_from(&nonce[..]).unwrap(),
                Payload {
                    msg: &[0xff, 0xfe],
                    aad: &full_aad("k1", b""),
                },
            )
            .unwrap();
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ct);
        let sealed = format!("v1.k1.{}", URL_SAFE_NO_PAD.encode(&blob));
        assert_eq!(
            cipher().decrypt(&sealed, b"").unwrap_err(),
            CipherError::Malformed("plaintext is not UTF-8")
        );
    }

    #[test]
    fn key_ids_are_validated() {
        for ok in ["k1", "2026-01", "a_b", &"x".repeat(MAX_KEY_ID_LEN)] {
            assert!(KeyId::new(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a.b", "a b", "é", &"x".repeat(MAX_KEY_ID_LEN + 1)] {
            assert!(
                matches!(KeyId::new(bad), Err(CipherError::BadKeyId(_))),
                "{bad:?}"
            );
        }
        assert_eq!("k1".parse::<KeyId>().unwrap().to_string(), "k1");
    }

    #[test]
    fn keys_from_base64_and_slices() {
        let k = Key::generate().unwrap();
        let b64 = k.to_base64();
        let again = Key::from_base64(b64.expose_secret()).unwrap();
        assert_eq!(again.0.expose_secret(), k.0.expose_secret());
        // URL-safe and unpadded spellings of the same bytes.
        let bytes = [0xfbu8; KEY_LEN];
        for text in [
            STANDARD.encode(bytes),
            STANDARD_NO_PAD.encode(bytes),
            URL_SAFE.encode(bytes),
            format!("  {}\n", URL_SAFE_NO_PAD.encode(bytes)),
        ] {
            assert_eq!(Key::from_base64(&text).unwrap().0.expose_secret(), &bytes);
        }
        assert!(matches!(
            Key::from_base64("not base64!"),
            Err(CipherError::BadKey(_))
        ));
        assert!(matches!(
            Key::from_base64(&STANDARD.encode([0u8; 16])),
            Err(CipherError::BadKey(_))
        ));
        assert!(matches!(
            Key::from_slice(&[0u8; 31]),
            Err(CipherError::BadKey(_))
        ));
        assert!(Key::from_slice(&[0u8; 32]).is_ok());
        let a = Key::generate().unwrap();
        let b = Key::generate().unwrap();
        assert_ne!(a.0.expose_secret(), b.0.expose_secret());
        let c = a.clone();
        assert_eq!(a.0.expose_secret(), c.0.expose_secret());
    }

    #[test]
    fn debug_and_errors_redact() {
        let k = Key::from_bytes([0xab; KEY_LEN]);
        assert_eq!(format!("{k:?}"), "Key([redacted])");
        let c = TokenCipher::new(kid("cur"), k)
            .with_old_key(kid("prev"), key(3))
            .unwrap();
        let dbg = format!("{c:?}");
        assert!(dbg.contains("cur") && dbg.contains("prev"), "{dbg}");
        assert!(!dbg.to_lowercase().contains("abab"), "{dbg}");
        let sealed = c.encrypt(&tok("secret-token-value"), b"a").unwrap();
        let err = c.decrypt(&sealed, b"b").unwrap_err();
        assert!(!err.to_string().contains("secret-token-value"));
        assert!(!format!("{err:?}").contains("secret-token-value"));
    }
}
