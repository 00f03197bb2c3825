//! `meta demo`: the live sale, run as a user would, with a smaller crowd.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::{Command, Output, Stdio};

fn meta_demo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meta"))
        .arg("demo")
        .args(args)
        .env_remove("META_ACCESS_TOKEN")
        .env_remove("META_APP_SECRET")
        .env_remove("META_BASE_URL")
        .env_remove("META_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

/// The number after `label` on the line that has it (`"paid "` → `45`).
fn number_after(stdout: &str, label: &str) -> u64 {
    let at = stdout
        .find(label)
        .unwrap_or_else(|| panic!("no `{label}` in:\n{stdout}"));
    stdout[at + label.len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or_else(|_| panic!("no number after `{label}` in:\n{stdout}"))
}

#[test]
fn live_sale_demo_passes_its_checks() {
    let out = meta_demo(&["--buyers", "60", "--comments", "300", "--seed", "7"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "ok   oversold: 0",
        "ok   SKUs whose stock does not match the orders: 0",
        "ok   inbox rows: 300 for 300 unique comments",
        "ok   comments processed twice: 0 (300 of 300 processed)",
        "ok   duplicate orders: 0",
        "ok   comments with a second reply: 0",
        "ok   waitlisted buyers passed over: 0",
        "ok   unacknowledged webhooks: 0",
        "ok   left pending: 0 · failed sends: 0",
        "all checks passed",
    ] {
        assert!(stdout.contains(line), "missing `{line}` in:\n{stdout}");
    }
    assert!(!stdout.contains("FAIL"), "{stdout}");
    // The sale really happened: more comments were delivered than are unique
    // (duplicates and redeliveries), and orders were paid and expired.
    let summary = &stdout[stdout.find("Summary").expect("a summary")..];
    let delivered = number_after(summary, "redelivered) · ");
    assert!(delivered > 300, "{stdout}");
    assert!(number_after(summary, "· paid ") > 0, "{stdout}");
    assert!(number_after(summary, "· expired ") > 0, "{stdout}");
    assert!(number_after(summary, "public replies ") > 0, "{stdout}");
}

#[test]
fn live_sale_options_are_validated() {
    let out = meta_demo(&["--pay-share", "1.5"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--pay-share"), "{stderr}");
    let out = meta_demo(&["--platform", "--all"]);
    assert!(!out.status.success(), "--platform and --all conflict");
}
