//! # meta-commerce
//!
//! The live-sale pipeline. (Crate docs are completed with the engine.)

pub mod breaker;
pub mod catalog;
pub mod classify;
pub mod controls;
pub mod dispatch;
pub mod engine;
pub mod memory;
pub mod money;
pub mod payments;
pub mod store;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;
pub mod text;

pub use catalog::{Catalog, Product};
pub use money::{Currency, Money};
