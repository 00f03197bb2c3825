//! The pinned Graph API version.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ConfigError;

/// A Graph API version such as `v26.0`.
///
/// Meta supports each version for about two years; pinning one keeps payloads stable
/// while an upgrade is tested. The version Meta actually served is read back from the
/// `facebook-api-version` response header ([`crate::RawResponse::api_version`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApiVersion {
    major: u16,
    minor: u16,
}

/// The version this crate was written and tested against: `v26.0`, the version of the
/// current official Node SDK. It is the [`crate::ClientBuilder`] default.
pub const DEFAULT_API_VERSION: ApiVersion = ApiVersion::new(26, 0);

impl ApiVersion {
    /// A version from its parts: `ApiVersion::new(26, 0)` is `v26.0`.
    #[must_use]
    pub const fn new(major: u16, minor: u16) -> Self {
        ApiVersion { major, minor }
    }
    /// The major number.
    #[must_use]
    pub fn major(self) -> u16 {
        self.major
    }
    /// The minor number.
    #[must_use]
    pub fn minor(self) -> u16 {
        self.minor
    }
}

impl Default for ApiVersion {
    fn default() -> Self {
        DEFAULT_API_VERSION
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}", self.major, self.minor)
    }
}

impl FromStr for ApiVersion {
    type Err = ConfigError;

    /// Accepts `v26.0`, `26.0`, `V26.0` and `v26` (minor 0).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let t = t
            .strip_prefix('v')
            .or_else(|| t.strip_prefix('V'))
            .unwrap_or(t);
        let (maj, min) = match t.split_once('.') {
            Some((a, b)) => (a, b),
            None => (t, "0"),
        };
        let bad = || {
            ConfigError::new(format!(
                "invalid Graph API version `{s}`; expected e.g. `v26.0`"
            ))
        };
        if maj.is_empty() || min.is_empty() {
            return Err(bad());
        }
        let major: u16 = maj.parse().map_err(|_| bad())?;
        let minor: u16 = min.parse().map_err(|_| bad())?;
        if major == 0 {
            return Err(bad());
        }
        Ok(ApiVersion { major, minor })
    }
}

impl Serialize for ApiVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ApiVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for (input, want) in [
            ("v26.0", "v26.0"),
            ("25.0", "v25.0"),
            ("V24.1", "v24.1"),
            ("v23", "v23.0"),
        ] {
            assert_eq!(input.parse::<ApiVersion>().unwrap().to_string(), want);
        }
        for bad in [
            "",
            "v",
            "vx.0",
            "v26.",
            "26.a",
            "v0.0",
            "v-1.0",
            "v99999999.0",
        ] {
            assert!(bad.parse::<ApiVersion>().is_err(), "{bad}");
        }
        assert!(ApiVersion::new(26, 0) > ApiVersion::new(25, 9));
        assert_eq!(ApiVersion::default().to_string(), "v26.0");
    }
}
