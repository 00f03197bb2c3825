//! Integration tests: a real sandbox on a random port, driven over HTTP with reqwest.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

mod auth;
mod basics;
mod batch;
mod business;
mod comments;
mod faults;
mod iglogin;
mod insights;
mod instagram;
mod messenger;
mod page_media;
mod pages;
mod usage;
