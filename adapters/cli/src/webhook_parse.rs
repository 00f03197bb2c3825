//! `meta webhook parse`: a webhook body on stdin → the typed event as JSON on stdout.
//!
//! With `--signature` (and the app secret) the raw bytes are verified first, exactly as
//! a receiver must. Invalid input exits 1 with a message on stderr.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use meta_core::webhook::Verifier;
use secrecy::SecretString;

/// Parses (and optionally verifies) `body`; prints the typed event.
pub(crate) fn run(
    body: &[u8],
    secret: Option<String>,
    signature: Option<String>,
) -> Result<ExitCode> {
    let parsed = match (signature, secret) {
        (Some(sig), Some(secret)) => {
            let verifier = Verifier::new(SecretString::from(secret));
            meta_graph::webhooks::verify_and_parse(&verifier, body, &sig)
        }
        (Some(_), None) => {
            eprintln!("error: --signature needs the app secret (--secret or META_APP_SECRET)");
            return Ok(ExitCode::from(2));
        }
        (None, _) => meta_graph::webhooks::parse(body),
    };
    match parsed {
        Ok(event) => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", serde_json::to_string_pretty(&event)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: invalid webhook payload: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
