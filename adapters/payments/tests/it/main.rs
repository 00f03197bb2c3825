//! Integration tests: each gateway against its local fake, over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

mod flow;
mod mercadopago;
mod paypal;
mod router;
mod transfer;
