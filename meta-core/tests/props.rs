//! Property tests for the pure parsers and the crypto helpers: whatever bytes arrive
//! from the network or a database, they return a value or an error, never a panic,
//! and the round trips hold.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use meta_core::cipher::{CipherError, Key, KeyId, TokenCipher};
use meta_core::error::ApiError;
use meta_core::ids::{AdAccountId, CommentId, MessageId, PageId, PostId};
use meta_core::usage::Usage;
use meta_core::webhook::{Verifier, WebhookError, sign};
use proptest::prelude::*;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

const USAGE_HEADERS: [&str; 5] = [
    "x-app-usage",
    "x-page-usage",
    "x-ad-account-usage",
    "x-business-use-case-usage",
    "x-fb-ads-insights-throttle",
];

/// Keys Meta actually uses, so generated objects often hit the real code paths.
const KNOWN_KEYS: [&str; 20] = [
    "error",
    "message",
    "type",
    "code",
    "error_subcode",
    "error_data",
    "is_transient",
    "fbtrace_id",
    "error_user_title",
    "error_user_msg",
    "call_count",
    "total_time",
    "total_cputime",
    "acc_id_util_pct",
    "app_id_util_pct",
    "reset_time_duration",
    "ads_api_access_tier",
    "estimated_time_to_regain_access",
    "66782684",
    "112130216863063",
];

fn json_key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(&KNOWN_KEYS[..]).prop_map(str::to_owned),
        1 => "[a-z_0-9]{0,8}",
    ]
}

/// Arbitrary JSON, biased towards the shapes of Meta's error bodies and headers.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        "\\PC{0,12}".prop_map(Value::String),
        // Numbers and JSON hidden in strings, as Meta sometimes sends them.
        "-?[0-9]{1,6}(\\.[0-9]{1,3})?".prop_map(Value::String),
        Just(Value::String(
            r#"{"blame_field_specs":[["name"]]}"#.to_owned()
        )),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(json_key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A header value: arbitrary bytes (often invalid for HTTP) or generated JSON text.
fn header_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<Vec<u8>>(),
        "\\PC{0,40}".prop_map(String::into_bytes),
        json().prop_map(|v| v.to_string().into_bytes()),
        // A well-shaped BUC header with arbitrary numbers.
        (
            "[0-9]{1,16}",
            "[a-z_]{1,20}",
            any::<f64>(),
            any::<i64>(),
            -1.0e6f64..1.0e6
        )
            .prop_map(|(id, t, cc, tt, eta)| {
                let cc = serde_json::Number::from_f64(cc).map_or(Value::Null, Value::Number);
                serde_json::json!({ id: [{"type": t, "call_count": cc, "total_time": tt,
                    "estimated_time_to_regain_access": eta}] })
                .to_string()
                .into_bytes()
            }),
    ]
}

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(&USAGE_HEADERS[..]).prop_map(str::to_owned),
        // The same names in other cases, which `http` folds to lower case.
        2 => prop::sample::select(&USAGE_HEADERS[..]).prop_map(str::to_uppercase),
        1 => "[a-zA-Z-]{1,20}",
    ]
}

fn mutate_hex_digit(c: u8) -> u8 {
    // A different hex *value* (a case change alone would still be the same digit).
    match c.to_ascii_lowercase() {
        b'0' => b'1',
        _ => b'0',
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn usage_from_headers_never_panics(
        pairs in prop::collection::vec((header_name(), header_bytes()), 0..8)
    ) {
        let mut headers = HeaderMap::new();
        for (name, value) in &pairs {
            let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else { continue };
            // Not every byte string is a valid header value; skip those `http` refuses.
            let Ok(value) = HeaderValue::from_bytes(value) else { continue };
            headers.append(name, value);
        }
        let usage = Usage::from_headers(&headers);
        for p in &usage.problems {
            prop_assert!(USAGE_HEADERS.contains(&p.header.as_str()), "{}", p.header);
        }
        if let Some(wait) = usage.regain_after() {
            prop_assert!(wait.as_secs() <= 86_400);
        }
        if let Some(pct) = usage.max_pct() {
            prop_assert!(pct.is_finite());
        }
        let none_sent = !USAGE_HEADERS.iter().any(|h| headers.contains_key(*h));
        if none_sent {
            prop_assert!(usage.is_empty() && usage.problems.is_empty());
        }
    }

    #[test]
    fn api_error_from_arbitrary_bytes_never_panics(body in any::<Vec<u8>>(), status in 100u16..600) {
        let status = StatusCode::from_u16(status).ok();
        let _ = ApiError::from_body(status, &body, Usage::default());
        if let Some(s) = status {
            let e = ApiError::from_status(s, &body, Usage::default());
            let _ = e.to_string();
        }
    }

    #[test]
    fn api_error_from_arbitrary_json_never_panics(value in json(), wrap in any::<bool>()) {
        let body = if wrap {
            serde_json::json!({ "error": value }).to_string()
        } else {
            value.to_string()
        };
        let parsed = ApiError::from_body(Some(StatusCode::BAD_REQUEST), body.as_bytes(), Usage::default());
        if wrap && value.is_object() {
            // Any object under `error` is an error envelope.
            let e = parsed.expect("an object under `error` must parse");
            let shown = e.to_string();
            prop_assert!(shown.contains(&e.code().to_string()));
            let _ = e.kind();
            let _ = format!("{e:?}");
        }
    }

    #[test]
    fn verify_never_panics(header in "\\PC{0,100}", body in any::<Vec<u8>>()) {
        let v = Verifier::new(SecretString::from("s"));
        let _ = v.verify(&body, &header);
        // The same with a well-formed prefix, so the hex path runs too.
        let _ = v.verify(&body, &format!("sha256={header}"));
    }

    #[test]
    fn signed_bodies_verify_and_any_change_fails(
        secret in "\\PC{0,40}",
        body in prop::collection::vec(any::<u8>(), 0..512),
        index in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let secret = SecretString::from(secret);
        let v = Verifier::new(secret.clone());
        let header = sign(&secret, &body);
        prop_assert_eq!(v.verify(&body, &header), Ok(()));
        prop_assert_eq!(v.sign_for_test(&body), header.clone());

        if !body.is_empty() {
            let mut changed = body.clone();
            let i = index.index(changed.len());
            changed[i] ^= flip;
            prop_assert_eq!(v.verify(&changed, &header), Err(WebhookError::SignatureMismatch));
        }
        // One byte appended is a change too.
        let mut longer = body.clone();
        longer.push(flip);
        prop_assert_eq!(v.verify(&longer, &header), Err(WebhookError::SignatureMismatch));

        // One hex digit of the signature changed.
        let mut sig = header.into_bytes();
        let i = "sha256=".len() + index.index(64);
        sig[i] = mutate_hex_digit(sig[i]);
        let sig = String::from_utf8(sig).unwrap();
        prop_assert_eq!(v.verify(&body, &sig), Err(WebhookError::SignatureMismatch));
    }

    #[test]
    fn id_parse_never_panics_and_round_trips(input in "\\PC{0,60}") {
        if let Ok(id) = PageId::parse(&input) {
            prop_assert_eq!(id.as_str(), input.as_str());
            prop_assert_eq!(id.to_string(), input.clone());
            let json = serde_json::to_string(&id).unwrap();
            prop_assert_eq!(serde_json::from_str::<PageId>(&json).unwrap(), id);
        }
        if let Ok(act) = AdAccountId::parse(&input) {
            let json = serde_json::to_string(&act).unwrap();
            let back: AdAccountId = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(&back, &act);
            prop_assert!(act.as_act().starts_with("act_"));
            prop_assert_eq!(AdAccountId::parse(act.account_id()).unwrap(), act);
        }
        let _ = PostId::new(input.clone()).page_id();
        let _ = serde_json::from_str::<CommentId>(&input);
    }

    #[test]
    fn valid_ids_always_parse(input in "[A-Za-z0-9_:=-]{1,80}") {
        let id = MessageId::parse(&input).unwrap();
        let json = serde_json::to_string(&id).unwrap();
        prop_assert_eq!(serde_json::from_str::<MessageId>(&json).unwrap(), id);
        let act = AdAccountId::parse(&input);
        // Only `act_` alone has nothing after the prefix.
        prop_assert_eq!(act.is_err(), input == "act_");
    }

    #[test]
    fn numeric_ids_deserialise_from_numbers(n in any::<u64>()) {
        let from_number: PageId = serde_json::from_str(&n.to_string()).unwrap();
        let from_string: PageId = serde_json::from_str(&format!("\"{n}\"")).unwrap();
        prop_assert_eq!(&from_number, &from_string);
        let act: AdAccountId = serde_json::from_str(&n.to_string()).unwrap();
        prop_assert_eq!(act.as_act(), format!("act_{n}"));
    }

    #[test]
    fn decrypt_never_panics(input in "\\PC{0,200}", payload in "[A-Za-z0-9_-]{0,120}") {
        let c = cipher();
        let _ = c.decrypt(&input, b"aad");
        let _ = c.needs_rotation(&input);
        // Well-formed prefix, arbitrary base64url payload: never authentic.
        let forged = format!("v1.k1.{payload}");
        prop_assert!(c.decrypt(&forged, b"aad").is_err());
    }

    #[test]
    fn cipher_round_trips_and_binds_aad(
        plain in "\\PC{0,300}",
        aad in prop::collection::vec(any::<u8>(), 0..40),
        other in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        let c = cipher();
        let sealed = c.encrypt(&SecretString::from(plain.clone()), &aad).unwrap();
        let opened = c.decrypt(&sealed, &aad).unwrap();
        prop_assert_eq!(opened.expose_secret(), plain.as_str());
        if other != aad {
            prop_assert_eq!(c.decrypt(&sealed, &other).unwrap_err(), CipherError::Tampered);
        }
    }
}

fn cipher() -> TokenCipher {
    TokenCipher::new(KeyId::new("k1").unwrap(), Key::from_bytes([42; 32]))
}
