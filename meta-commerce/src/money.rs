//! Money in minor units with its currency: never floats, never a bare number.
//!
//! Catalog prices are whole units of the row's currency ("149 MXN"); [`Currency::exponent`]
//! turns them into minor units (CLP has none, MXN/BRL/USD have two), so every amount in
//! the pipeline, the stores and the payment port is an integer of the currency's smallest unit.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An ISO 4217 currency code (three upper-case ASCII letters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

/// A currency code that is not three ASCII letters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a three-letter ISO 4217 currency code")]
pub struct InvalidCurrency(pub String);

impl Currency {
    /// Chilean peso (no minor unit).
    pub const CLP: Currency = Currency(*b"CLP");
    /// Mexican peso.
    pub const MXN: Currency = Currency(*b"MXN");
    /// Brazilian real.
    pub const BRL: Currency = Currency(*b"BRL");
    /// Argentine peso.
    pub const ARS: Currency = Currency(*b"ARS");
    /// US dollar.
    pub const USD: Currency = Currency(*b"USD");
    /// Euro.
    pub const EUR: Currency = Currency(*b"EUR");

    /// Parses a code, case-insensitively (`"clp"` → `CLP`).
    ///
    /// # Errors
    /// [`InvalidCurrency`] unless the text is exactly three ASCII letters.
    pub fn parse(code: &str) -> Result<Self, InvalidCurrency> {
        let b = code.trim().as_bytes();
        if b.len() != 3 || !b.iter().all(u8::is_ascii_alphabetic) {
            return Err(InvalidCurrency(code.to_owned()));
        }
        Ok(Currency([
            b[0].to_ascii_uppercase(),
            b[1].to_ascii_uppercase(),
            b[2].to_ascii_uppercase(),
        ]))
    }

    /// The code, e.g. `"CLP"`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored (see `parse` and the constants).
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Digits after the decimal point (ISO 4217): 0 for CLP, JPY, KRW, PYG…; 2 otherwise.
    #[must_use]
    pub fn exponent(&self) -> u32 {
        match &self.0 {
            b"CLP" | b"JPY" | b"KRW" | b"PYG" | b"VND" | b"ISK" | b"UYI" | b"XAF" | b"XOF" => 0,
            b"BHD" | b"KWD" | b"OMR" | b"TND" | b"JOD" | b"IQD" | b"LYD" => 3,
            _ => 2,
        }
    }

    /// How many minor units make one whole unit (1, 100 or 1000).
    #[must_use]
    pub fn minor_per_unit(&self) -> i64 {
        10_i64.pow(self.exponent())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Currency {
    type Err = InvalidCurrency;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An amount in the currency's minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// Minor units (cents for MXN, pesos for CLP).
    pub minor: i64,
    /// The currency.
    pub currency: Currency,
}

impl Money {
    /// `minor` minor units of `currency`.
    #[must_use]
    pub fn new(minor: i64, currency: Currency) -> Self {
        Money { minor, currency }
    }

    /// Whole units (a catalog price) converted to minor units; `None` on overflow.
    #[must_use]
    pub fn from_units(units: i64, currency: Currency) -> Option<Self> {
        units
            .checked_mul(currency.minor_per_unit())
            .map(|minor| Money { minor, currency })
    }

    /// Zero of `currency`.
    #[must_use]
    pub fn zero(currency: Currency) -> Self {
        Money { minor: 0, currency }
    }

    /// `self × qty`; `None` on overflow.
    #[must_use]
    pub fn times(&self, qty: u32) -> Option<Self> {
        self.minor.checked_mul(i64::from(qty)).map(|minor| Money {
            minor,
            currency: self.currency,
        })
    }

    /// `self + other`; `None` on overflow or when the currencies differ.
    #[must_use]
    pub fn checked_add(&self, other: Money) -> Option<Self> {
        if self.currency != other.currency {
            return None;
        }
        self.minor.checked_add(other.minor).map(|minor| Money {
            minor,
            currency: self.currency,
        })
    }

    /// The amount as a decimal string in whole units, e.g. `"149.00"` or `"12990"`
    /// (what payment APIs take).
    #[must_use]
    pub fn decimal_string(&self) -> String {
        let exp = self.currency.exponent();
        if exp == 0 {
            return self.minor.to_string();
        }
        let per = self.currency.minor_per_unit();
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        let per = per.unsigned_abs();
        format!(
            "{sign}{}.{:0width$}",
            abs / per,
            abs % per,
            width = exp as usize
        )
    }
}

impl fmt::Display for Money {
    /// `$12.990 CLP`, `$149.00 MXN`: thousands grouped with dots for zero-exponent
    /// currencies as Chileans write them, plain decimals otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.currency.exponent() == 0 {
            let digits = self.minor.unsigned_abs().to_string();
            let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
            for (i, ch) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i).is_multiple_of(3) {
                    grouped.push('.');
                }
                grouped.push(ch);
            }
            let sign = if self.minor < 0 { "-" } else { "" };
            write!(f, "{sign}${grouped} {}", self.currency)
        } else {
            write!(f, "${} {}", self.decimal_string(), self.currency)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_to_minor_and_display() {
        let clp = Money::from_units(12990, Currency::CLP).unwrap();
        assert_eq!(clp.minor, 12990);
        assert_eq!(clp.to_string(), "$12.990 CLP");
        assert_eq!(clp.decimal_string(), "12990");
        let mxn = Money::from_units(149, Currency::MXN).unwrap();
        assert_eq!(mxn.minor, 14900);
        assert_eq!(mxn.to_string(), "$149.00 MXN");
        assert_eq!(Money::new(5, Currency::MXN).decimal_string(), "0.05");
        assert!(Money::from_units(i64::MAX, Currency::MXN).is_none());
        assert!(clp.checked_add(mxn).is_none());
        assert_eq!(Currency::parse("usd").unwrap(), Currency::USD);
        assert!(Currency::parse("US").is_err());
        assert!(Currency::parse("U$D").is_err());
    }
}
