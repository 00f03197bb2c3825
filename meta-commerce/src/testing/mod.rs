//! Test helpers shipped with the crate (feature `test-util`; also compiled for the
//! crate's own unit tests).
//!
//! - [`conformance`]: the commerce store conformance suite every backend of
//!   [`CommerceStore`](crate::store::CommerceStore) runs — in memory, SQLite and
//!   PostgreSQL alike — so the live-sale engine behaves the same on each.
//! - [`pipeline`]: engine-level scenarios (64 concurrent buyers on stock 5, triple
//!   delivery, the expiry/payment race) run through the real engine on each backend.

pub mod conformance;
pub mod pipeline;
