//! The adapter's own error, and its translation into each port's `StoreError`.
//!
//! Every sqlx failure is classified here once ([`ErrorClass`]) so the ports see
//! "conflict" or "backend" rather than SQLite result codes. Messages carry SQLite's
//! own description (which names tables and columns, never bound values) and a short
//! name of the operation; the SQL text is never included, and no value we bind (a
//! sealed token, a payload) can end up in an error because SQLite does not echo
//! bound parameters.

use std::fmt;

/// How a failure should be treated by a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorClass {
    /// A unique or primary-key constraint refused the write (a duplicate), or an
    /// optimistic-lock check found a newer version.
    Conflict,
    /// The row the operation needs does not exist (or a foreign key points nowhere).
    NotFound,
    /// The input cannot be stored as given (out-of-range number, bad enum name, a
    /// CHECK constraint, an attempt to edit an append-only row).
    Invalid,
    /// The database is busy or locked beyond the busy timeout, or the pool timed
    /// out: retrying later may succeed.
    Busy,
    /// Anything else: I/O, corruption, a closed pool, a schema mismatch.
    Backend,
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorClass::Conflict => "conflict",
            ErrorClass::NotFound => "not found",
            ErrorClass::Invalid => "invalid",
            ErrorClass::Busy => "busy",
            ErrorClass::Backend => "backend",
        })
    }
}

/// Why a [`SqliteStore`](crate::SqliteStore) operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqliteError {
    /// The database file could not be opened or configured.
    #[error("opening the SQLite store: {message}")]
    Open {
        /// What went wrong (the path is included; it is not secret).
        message: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// An applied migration's SQL differs from the one compiled into this binary:
    /// somebody edited a migration after it shipped. The store refuses to run rather
    /// than guess which schema the data has.
    #[error(
        "migration {version} ({name}) was applied with checksum {applied} but this binary has {expected}; refusing to run"
    )]
    MigrationChecksum {
        /// The migration's version.
        version: i64,
        /// Its name.
        name: String,
        /// The checksum recorded when it was applied.
        applied: String,
        /// The checksum of the SQL in this binary.
        expected: String,
    },
    /// The database has a migration this binary does not know: it was written by a
    /// newer release.
    #[error(
        "the database has migration {version} ({name}) that this binary does not know; upgrade"
    )]
    UnknownMigration {
        /// The unknown version.
        version: i64,
        /// Its recorded name.
        name: String,
    },
    /// A value cannot be stored or a stored value cannot be read back.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// A write clashed with an existing row in a way the schema reports through a
    /// trigger rather than a unique index (a duplicate audit entry).
    #[error("{op}: conflict: {message}")]
    Conflict {
        /// The operation.
        op: &'static str,
        /// What clashed.
        message: String,
    },
    /// Other connections kept an operation from completing; retry later.
    #[error("{op}: busy: {message}")]
    Busy {
        /// The operation.
        op: &'static str,
        /// What was in the way.
        message: String,
    },
    /// A database operation failed.
    #[error("{op}: {class}: {message}")]
    Database {
        /// The operation (a short name such as `save connection`).
        op: &'static str,
        /// The classification.
        class: ErrorClass,
        /// SQLite's description, without SQL text or bound values.
        message: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
}

impl SqliteError {
    /// How the failure should be treated.
    #[must_use]
    pub fn class(&self) -> ErrorClass {
        match self {
            SqliteError::Open { .. }
            | SqliteError::MigrationChecksum { .. }
            | SqliteError::UnknownMigration { .. } => ErrorClass::Backend,
            SqliteError::Invalid { .. } => ErrorClass::Invalid,
            SqliteError::Busy { .. } => ErrorClass::Busy,
            SqliteError::Conflict { .. } => ErrorClass::Conflict,
            SqliteError::Database { class, .. } => *class,
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        SqliteError::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// Wraps a driver error from operation `op`, classifying it.
    pub(crate) fn db(op: &'static str, source: sqlx::Error) -> Self {
        let (class, message) = classify(&source);
        SqliteError::Database {
            op,
            class,
            message,
            source,
        }
    }
}

/// A closure for `map_err` naming the operation.
pub(crate) fn db(op: &'static str) -> impl FnOnce(sqlx::Error) -> SqliteError {
    move |e| SqliteError::db(op, e)
}

/// SQLite primary result codes we classify by (the low byte of the extended code).
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
/// Also the class of `SQLITE_CONSTRAINT_TRIGGER`: a `RAISE(ABORT, ...)` from one of
/// our triggers (the append-only audit guard), which is a refused input.
const SQLITE_CONSTRAINT: i64 = 19;

fn classify(e: &sqlx::Error) -> (ErrorClass, String) {
    match e {
        sqlx::Error::Database(d) => {
            let message = d.message().to_owned();
            let class = match d.kind() {
                sqlx::error::ErrorKind::UniqueViolation => ErrorClass::Conflict,
                sqlx::error::ErrorKind::ForeignKeyViolation => ErrorClass::NotFound,
                sqlx::error::ErrorKind::NotNullViolation
                | sqlx::error::ErrorKind::CheckViolation => ErrorClass::Invalid,
                _ => {
                    let code = d.code().and_then(|c| c.parse::<i64>().ok()).unwrap_or(0);
                    match code & 0xff {
                        SQLITE_BUSY | SQLITE_LOCKED => ErrorClass::Busy,
                        SQLITE_CONSTRAINT => ErrorClass::Invalid,
                        _ => ErrorClass::Backend,
                    }
                }
            };
            (class, message)
        }
        sqlx::Error::RowNotFound => (ErrorClass::NotFound, "no such row".to_owned()),
        sqlx::Error::PoolTimedOut => (
            ErrorClass::Busy,
            "timed out waiting for a pooled connection".to_owned(),
        ),
        sqlx::Error::PoolClosed => (ErrorClass::Backend, "the store is closed".to_owned()),
        sqlx::Error::ColumnDecode { index, .. } => (
            ErrorClass::Backend,
            format!("column {index} holds a value of an unexpected type"),
        ),
        sqlx::Error::ColumnNotFound(c) => (ErrorClass::Backend, format!("no column `{c}`")),
        // Remaining variants (I/O, protocol, configuration) describe the connection,
        // not our data; their Display is safe and useful.
        other => (ErrorClass::Backend, other.to_string()),
    }
}

impl From<SqliteError> for meta_graph::lifecycle::StoreError {
    fn from(e: SqliteError) -> Self {
        meta_graph::lifecycle::StoreError::new(format!("sqlite: {e}")).with_source(e)
    }
}

impl From<SqliteError> for meta_graph::messenger::policy::StoreError {
    fn from(e: SqliteError) -> Self {
        meta_graph::messenger::policy::StoreError::new(format!("sqlite: {e}"))
    }
}

impl From<SqliteError> for meta_graph::store::StoreError {
    fn from(e: SqliteError) -> Self {
        use meta_graph::store::StoreError;
        match e.class() {
            ErrorClass::Conflict => StoreError::Conflict(e.to_string()),
            ErrorClass::NotFound => StoreError::NotFound(e.to_string()),
            ErrorClass::Invalid => StoreError::Invalid(e.to_string()),
            ErrorClass::Busy | ErrorClass::Backend => {
                StoreError::backend_with(format!("sqlite: {e}"), e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_display_and_invalid_is_classified() {
        let e = SqliteError::invalid("expires_at", "out of range");
        assert_eq!(e.class(), ErrorClass::Invalid);
        assert_eq!(e.to_string(), "invalid expires_at: out of range");
        assert_eq!(ErrorClass::Conflict.to_string(), "conflict");
        let e = SqliteError::db("load", sqlx::Error::PoolTimedOut);
        assert_eq!(e.class(), ErrorClass::Busy);
        assert!(e.to_string().starts_with("load: busy:"));
    }
}
