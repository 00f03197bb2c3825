//! # meta-commerce
//!
//! The live-sale pipeline. (Crate docs are completed with the engine.)

pub mod breaker;
pub mod catalog;
pub mod classify;
pub mod money;
pub mod payments;
pub mod store;
pub mod text;

pub use catalog::{Catalog, Product};
pub use money::{Currency, Money};
