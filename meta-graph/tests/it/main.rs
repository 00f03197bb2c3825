//! meta-graph against meta-sandbox. One module per area; each area's owner adds its file.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
mod comments;
mod insights;
mod instagram;
mod lifecycle;
mod messenger;
mod oauth;
mod pages;
mod publisher;
mod webhooks;
