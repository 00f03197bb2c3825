//! Lenient serde helpers for Graph payloads (hand-written glue for [`crate::generated`]).
//!
//! Graph is loose with JSON types: ids and counts sometimes arrive as strings
//! (`"like_count": "12"`), and some ids as numbers (`"page_id": 123`, see the leadgen
//! webhook). These helpers accept both forms for `Option` fields, so one odd value does not
//! fail the whole response. Use them with
//! `#[serde(default, deserialize_with = "meta_graph::serde_util::opt_i64")]`.
//!
//! - [`opt_string`]: a string, or a number or boolean written as text.
//! - [`opt_i64`], [`opt_u64`]: an integer, a float with no fraction, or a string holding
//!   one (surrounding spaces allowed).
//! - [`opt_f64`]: a number or a numeric string.
//! - [`opt_bool`]: `true`/`false`, `"true"`/`"false"` (any case), `1`/`0`, `"1"`/`"0"`.
//!
//! `null` and a missing field read as `None`, and so does `""` for the number and boolean
//! helpers (an empty string stays `Some("")`). Anything else (an
//! object, an array, text that is not a number) is an error naming what was expected.

use std::fmt;

use serde::Deserializer;
use serde::de::{self, Visitor};

/// The kind of value a lenient visitor produces.
trait Lenient: Sized {
    const EXPECTING: &'static str;
    /// Whether `""` reads as `None` (numbers, booleans) or as itself (strings).
    const EMPTY_IS_NONE: bool = true;
    fn from_str<E: de::Error>(s: &str) -> Result<Self, E>;
    fn from_i64<E: de::Error>(v: i64) -> Result<Self, E>;
    fn from_u64<E: de::Error>(v: u64) -> Result<Self, E>;
    fn from_f64<E: de::Error>(v: f64) -> Result<Self, E>;
    fn from_bool<E: de::Error>(v: bool) -> Result<Self, E>;
}

impl Lenient for String {
    const EXPECTING: &'static str = "a string, number or boolean";
    const EMPTY_IS_NONE: bool = false;
    fn from_str<E: de::Error>(s: &str) -> Result<Self, E> {
        Ok(s.to_owned())
    }
    fn from_i64<E: de::Error>(v: i64) -> Result<Self, E> {
        Ok(v.to_string())
    }
    fn from_u64<E: de::Error>(v: u64) -> Result<Self, E> {
        Ok(v.to_string())
    }
    fn from_f64<E: de::Error>(v: f64) -> Result<Self, E> {
        Ok(v.to_string())
    }
    fn from_bool<E: de::Error>(v: bool) -> Result<Self, E> {
        Ok(v.to_string())
    }
}

/// Largest magnitude at which every integer is exactly representable in an `f64`.
const F64_EXACT_INT: f64 = 9_007_199_254_740_992.0;

fn integral_f64<E: de::Error>(v: f64) -> Result<f64, E> {
    if v.is_finite() && v.fract() == 0.0 && v.abs() <= F64_EXACT_INT {
        Ok(v)
    } else {
        Err(E::invalid_value(de::Unexpected::Float(v), &"an integer"))
    }
}

impl Lenient for i64 {
    const EXPECTING: &'static str = "an integer or a string holding one";
    fn from_str<E: de::Error>(s: &str) -> Result<Self, E> {
        let t = s.trim();
        t.parse::<i64>()
            .ok()
            .or_else(|| {
                t.parse::<f64>()
                    .ok()
                    .and_then(|f| Self::from_f64::<E>(f).ok())
            })
            .ok_or_else(|| E::invalid_value(de::Unexpected::Str(s), &Self::EXPECTING))
    }
    fn from_i64<E: de::Error>(v: i64) -> Result<Self, E> {
        Ok(v)
    }
    fn from_u64<E: de::Error>(v: u64) -> Result<Self, E> {
        i64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &"an i64"))
    }
    #[allow(clippy::cast_possible_truncation)] // checked: integral and within ±2^53
    fn from_f64<E: de::Error>(v: f64) -> Result<Self, E> {
        integral_f64(v).map(|f| f as i64)
    }
    fn from_bool<E: de::Error>(v: bool) -> Result<Self, E> {
        Err(E::invalid_type(de::Unexpected::Bool(v), &Self::EXPECTING))
    }
}

impl Lenient for u64 {
    const EXPECTING: &'static str = "a non-negative integer or a string holding one";
    fn from_str<E: de::Error>(s: &str) -> Result<Self, E> {
        let t = s.trim();
        t.parse::<u64>()
            .ok()
            .or_else(|| {
                t.parse::<f64>()
                    .ok()
                    .and_then(|f| Self::from_f64::<E>(f).ok())
            })
            .ok_or_else(|| E::invalid_value(de::Unexpected::Str(s), &Self::EXPECTING))
    }
    fn from_i64<E: de::Error>(v: i64) -> Result<Self, E> {
        u64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &"a u64"))
    }
    fn from_u64<E: de::Error>(v: u64) -> Result<Self, E> {
        Ok(v)
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // checked below
    fn from_f64<E: de::Error>(v: f64) -> Result<Self, E> {
        let f = integral_f64(v)?;
        if f < 0.0 {
            return Err(E::invalid_value(de::Unexpected::Float(v), &"a u64"));
        }
        Ok(f as u64)
    }
    fn from_bool<E: de::Error>(v: bool) -> Result<Self, E> {
        Err(E::invalid_type(de::Unexpected::Bool(v), &Self::EXPECTING))
    }
}

impl Lenient for f64 {
    const EXPECTING: &'static str = "a number or a string holding one";
    fn from_str<E: de::Error>(s: &str) -> Result<Self, E> {
        s.trim()
            .parse::<f64>()
            .map_err(|_| E::invalid_value(de::Unexpected::Str(s), &Self::EXPECTING))
    }
    #[allow(clippy::cast_precision_loss)] // Graph's numbers fit; precision loss is acceptable
    fn from_i64<E: de::Error>(v: i64) -> Result<Self, E> {
        Ok(v as f64)
    }
    #[allow(clippy::cast_precision_loss)]
    fn from_u64<E: de::Error>(v: u64) -> Result<Self, E> {
        Ok(v as f64)
    }
    fn from_f64<E: de::Error>(v: f64) -> Result<Self, E> {
        Ok(v)
    }
    fn from_bool<E: de::Error>(v: bool) -> Result<Self, E> {
        Err(E::invalid_type(de::Unexpected::Bool(v), &Self::EXPECTING))
    }
}

impl Lenient for bool {
    const EXPECTING: &'static str = "a boolean, 0 or 1, or a string holding one";
    fn from_str<E: de::Error>(s: &str) -> Result<Self, E> {
        match s.trim() {
            t if t.eq_ignore_ascii_case("true") || t == "1" => Ok(true),
            t if t.eq_ignore_ascii_case("false") || t == "0" => Ok(false),
            _ => Err(E::invalid_value(de::Unexpected::Str(s), &Self::EXPECTING)),
        }
    }
    fn from_i64<E: de::Error>(v: i64) -> Result<Self, E> {
        match v {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(E::invalid_value(
                de::Unexpected::Signed(v),
                &Self::EXPECTING,
            )),
        }
    }
    fn from_u64<E: de::Error>(v: u64) -> Result<Self, E> {
        match v {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(E::invalid_value(
                de::Unexpected::Unsigned(v),
                &Self::EXPECTING,
            )),
        }
    }
    fn from_f64<E: de::Error>(v: f64) -> Result<Self, E> {
        Err(E::invalid_type(de::Unexpected::Float(v), &Self::EXPECTING))
    }
    fn from_bool<E: de::Error>(v: bool) -> Result<Self, E> {
        Ok(v)
    }
}

struct OptVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Lenient> Visitor<'de> for OptVisitor<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v.is_empty() && T::EMPTY_IS_NONE {
            Ok(None)
        } else {
            T::from_str(v).map(Some)
        }
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        T::from_i64(v).map(Some)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        T::from_u64(v).map(Some)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        T::from_f64(v).map(Some)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        T::from_bool(v).map(Some)
    }
}

fn lenient<'de, D: Deserializer<'de>, T: Lenient>(d: D) -> Result<Option<T>, D::Error> {
    d.deserialize_any(OptVisitor::<T>(std::marker::PhantomData))
}

/// An optional string; numbers and booleans are kept as their text.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    lenient(d)
}

/// An optional `i64` from a number or a numeric string.
pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    lenient(d)
}

/// An optional `u64` from a number or a numeric string.
pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    lenient(d)
}

/// An optional `f64` from a number or a numeric string.
pub fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    lenient(d)
}

/// An optional `bool` from a boolean, `0`/`1`, or their text.
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    lenient(d)
}

/// A required wire value as text (what the generated enums decode from): a string, or a
/// number or boolean written as text.
pub fn wire_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
            Ok(v.to_string())
        }
    }
    d.deserialize_any(V)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq, Default)]
    struct T {
        #[serde(default, deserialize_with = "super::opt_string")]
        s: Option<String>,
        #[serde(default, deserialize_with = "super::opt_i64")]
        i: Option<i64>,
        #[serde(default, deserialize_with = "super::opt_u64")]
        u: Option<u64>,
        #[serde(default, deserialize_with = "super::opt_f64")]
        f: Option<f64>,
        #[serde(default, deserialize_with = "super::opt_bool")]
        b: Option<bool>,
    }

    fn t(v: serde_json::Value) -> Result<T, serde_json::Error> {
        serde_json::from_value(v)
    }

    #[test]
    fn accepts_numbers_as_strings_and_back() {
        let got = t(json!({"s": 17_841_400_000_000_001_u64, "i": "-12", "u": " 42 ", "f": "1.5", "b": "TRUE"}))
            .unwrap();
        assert_eq!(
            got,
            T {
                s: Some("17841400000000001".into()),
                i: Some(-12),
                u: Some(42),
                f: Some(1.5),
                b: Some(true)
            }
        );
        let got = t(json!({"i": 3.0, "u": "7.0", "b": 0, "s": true})).unwrap();
        assert_eq!(
            (got.i, got.u, got.b, got.s.as_deref()),
            (Some(3), Some(7), Some(false), Some("true"))
        );
    }

    #[test]
    fn null_missing_and_empty_are_none() {
        assert_eq!(t(json!({})).unwrap(), T::default());
        assert_eq!(
            t(json!({"s": null, "i": null, "u": "", "f": null, "b": ""})).unwrap(),
            T::default()
        );
        assert_eq!(t(json!({"s": ""})).unwrap().s.as_deref(), Some(""));
    }

    #[test]
    fn rejects_what_is_not_a_number() {
        assert!(t(json!({"i": "twelve"})).is_err());
        assert!(t(json!({"i": 1.5})).is_err());
        assert!(t(json!({"u": -1})).is_err());
        assert!(t(json!({"b": 2})).is_err());
        assert!(t(json!({"s": {"a": 1}})).is_err());
        assert!(t(json!({"i": [1]})).is_err());
    }
}
