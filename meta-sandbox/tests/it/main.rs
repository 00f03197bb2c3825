//! Integration tests: a real sandbox on a random port, driven over HTTP with reqwest.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

mod auth;
mod basics;
mod batch;
mod faults;
mod pages;
mod usage;
