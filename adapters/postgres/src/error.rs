//! The adapter's own error, classified, and its mapping onto the ports' store errors.
//!
//! Every `sqlx::Error` is turned into a [`PgStoreError`] at the boundary so nothing
//! below a port ever sees a driver type, and so what reaches logs is chosen here:
//! PostgreSQL's primary message and SQLSTATE, never the `DETAIL` line (which quotes
//! row values) and never the connection URL (which may hold a password).

use std::fmt;

/// How a failure should be treated by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorClass {
    /// A unique constraint (SQLSTATE 23505) or an optimistic-lock check refused the
    /// write: the caller's view is stale or the row already exists. Not retryable as is.
    Conflict,
    /// The transaction lost a race the database could not serialise (40001, 40P01,
    /// 55P03): running it again is safe and usually succeeds.
    Retryable,
    /// The database could not be reached (connection refused, pool timeout, server
    /// shutting down): retry later.
    Unavailable,
    /// The input cannot be stored (a number out of range, a bad schema name).
    Invalid,
    /// A stored row could not be read back into a domain value.
    Corrupt,
    /// The schema is not what this build expects (an applied migration changed).
    Migration,
    /// Any other database failure.
    Backend,
}

impl ErrorClass {
    /// A stable lower-case name for logs and metrics.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Conflict => "conflict",
            ErrorClass::Retryable => "retryable",
            ErrorClass::Unavailable => "unavailable",
            ErrorClass::Invalid => "invalid",
            ErrorClass::Corrupt => "corrupt",
            ErrorClass::Migration => "migration",
            ErrorClass::Backend => "backend",
        }
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure of the PostgreSQL store. The message never contains row values, tokens
/// or the connection URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("postgres store ({class}): {message}")]
pub struct PgStoreError {
    class: ErrorClass,
    message: String,
    sqlstate: Option<String>,
    constraint: Option<String>,
}

impl PgStoreError {
    /// An error of `class` described by `message`.
    #[must_use]
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        PgStoreError {
            class,
            message: message.into(),
            sqlstate: None,
            constraint: None,
        }
    }
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        PgStoreError::new(ErrorClass::Invalid, message)
    }
    pub(crate) fn corrupt(message: impl Into<String>) -> Self {
        PgStoreError::new(ErrorClass::Corrupt, message)
    }
    /// How to treat it.
    #[must_use]
    pub fn class(&self) -> ErrorClass {
        self.class
    }
    /// The description (safe to log).
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
    /// PostgreSQL's SQLSTATE, when the server answered with an error.
    #[must_use]
    pub fn sqlstate(&self) -> Option<&str> {
        self.sqlstate.as_deref()
    }
    /// The violated constraint's name, when there is one.
    #[must_use]
    pub fn constraint(&self) -> Option<&str> {
        self.constraint.as_deref()
    }
    /// True when running the same operation again may succeed
    /// ([`ErrorClass::Retryable`] or [`ErrorClass::Unavailable`]).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        matches!(self.class, ErrorClass::Retryable | ErrorClass::Unavailable)
    }
    /// True for a unique violation or an optimistic-lock conflict.
    #[must_use]
    pub fn is_conflict(&self) -> bool {
        self.class == ErrorClass::Conflict
    }
}

/// SQLSTATEs after which the whole transaction may simply be run again.
fn retryable_sqlstate(code: &str) -> bool {
    // 40001 serialization_failure, 40P01 deadlock_detected, 55P03 lock_not_available.
    matches!(code, "40001" | "40P01" | "55P03")
}

/// SQLSTATEs meaning the server (not the statement) is the problem.
fn unavailable_sqlstate(code: &str) -> bool {
    // Class 08: connection exceptions; 57P01..57P03: shutdown / cannot connect now;
    // 53300: too many connections.
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
}

impl From<sqlx::Error> for PgStoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::Database(db) => {
                let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
                let constraint = db.constraint().map(str::to_owned);
                let class = if code == "23505" {
                    ErrorClass::Conflict
                } else if retryable_sqlstate(&code) {
                    ErrorClass::Retryable
                } else if unavailable_sqlstate(&code) {
                    ErrorClass::Unavailable
                } else if code.starts_with("22") || code.starts_with("23") {
                    // Data exceptions and other integrity violations (check, not null,
                    // foreign key): the input was refused.
                    ErrorClass::Invalid
                } else {
                    ErrorClass::Backend
                };
                // `db.message()` is the primary message only; `DETAIL`, which may quote
                // row values, is deliberately left out.
                let message = match &constraint {
                    Some(c) if class == ErrorClass::Conflict => {
                        format!("unique constraint `{c}` violated")
                    }
                    _ => format!("SQLSTATE {code}: {}", db.message()),
                };
                PgStoreError {
                    class,
                    message,
                    sqlstate: Some(code),
                    constraint,
                }
            }
            sqlx::Error::Io(io) => PgStoreError::new(
                ErrorClass::Unavailable,
                format!("i/o error talking to the database: {}", io.kind()),
            ),
            sqlx::Error::Tls(_) => PgStoreError::new(
                ErrorClass::Unavailable,
                "TLS handshake with the database failed",
            ),
            sqlx::Error::PoolTimedOut => PgStoreError::new(
                ErrorClass::Unavailable,
                "timed out waiting for a database connection",
            ),
            sqlx::Error::PoolClosed => {
                PgStoreError::new(ErrorClass::Unavailable, "the connection pool is closed")
            }
            sqlx::Error::WorkerCrashed => {
                PgStoreError::new(ErrorClass::Unavailable, "the connection worker crashed")
            }
            // Configuration errors can quote the URL; say only what kind it was.
            sqlx::Error::Configuration(_) => {
                PgStoreError::new(ErrorClass::Invalid, "invalid database configuration")
            }
            sqlx::Error::ColumnNotFound(c) => {
                PgStoreError::corrupt(format!("column `{c}` is missing"))
            }
            sqlx::Error::ColumnDecode { index, source: _ } => {
                PgStoreError::corrupt(format!("column `{index}` has an unexpected type"))
            }
            sqlx::Error::RowNotFound => PgStoreError::corrupt("an expected row is missing"),
            other => PgStoreError::new(
                ErrorClass::Backend,
                format!("driver error: {}", kind_name(&other)),
            ),
        }
    }
}

/// A value-free name for the remaining driver errors (their `Display` can quote
/// arguments).
fn kind_name(e: &sqlx::Error) -> &'static str {
    match e {
        sqlx::Error::InvalidArgument(_) => "invalid argument",
        sqlx::Error::Protocol(_) => "protocol error",
        sqlx::Error::TypeNotFound { .. } => "type not found",
        sqlx::Error::ColumnIndexOutOfBounds { .. } => "column index out of bounds",
        sqlx::Error::Encode(_) => "encode error",
        sqlx::Error::Decode(_) => "decode error",
        sqlx::Error::BeginFailed => "begin failed",
        _ => "unclassified",
    }
}

impl From<PgStoreError> for meta_graph::lifecycle::StoreError {
    fn from(e: PgStoreError) -> Self {
        meta_graph::lifecycle::StoreError::new(e.message.clone()).with_source(e)
    }
}

impl From<PgStoreError> for meta_graph::messenger::policy::StoreError {
    fn from(e: PgStoreError) -> Self {
        meta_graph::messenger::policy::StoreError::new(e.to_string())
    }
}

/// The crate's result type.
pub type Result<T, E = PgStoreError> = std::result::Result<T, E>;

impl From<PgStoreError> for meta_graph::store::StoreError {
    fn from(e: PgStoreError) -> Self {
        use meta_graph::store::StoreError;
        match e.class {
            ErrorClass::Conflict => StoreError::Conflict(e.message),
            ErrorClass::Invalid | ErrorClass::Corrupt => StoreError::Invalid(e.message),
            // Retryable and unavailable failures stay Backend (the port has no finer
            // variant); the source keeps the class for callers that downcast.
            ErrorClass::Retryable
            | ErrorClass::Unavailable
            | ErrorClass::Migration
            | ErrorClass::Backend => StoreError::backend_with(e.message.clone(), e),
        }
    }
}
