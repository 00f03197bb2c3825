//! Test helpers shipped with the crate (feature `test-util`; also compiled for the
//! crate's own unit tests).
//!
//! - [`conformance`]: the commerce store conformance suite every backend of
//!   [`CommerceStore`](crate::store::CommerceStore) runs — in memory, SQLite and
//!   PostgreSQL alike — so the live-sale engine behaves the same on each.

pub mod conformance;
