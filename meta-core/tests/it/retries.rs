use std::time::Duration;

use meta_core::{ErrorKind, GraphRequest, RetryConfig};
use meta_sandbox::{Fault, FaultConfig, FaultRule, SandboxConfig};
use serde_json::Value;

use crate::{builder, sandbox};

fn rule(method: &str, path: &str, times: u32, fault: Fault) -> FaultRule {
    FaultRule {
        method: Some(method.into()),
        path_contains: Some(path.into()),
        times,
        fault,
    }
}

fn transient(code: i64) -> Fault {
    Fault::GraphError {
        status: 500,
        code,
        subcode: None,
        transient: Some(true),
        message: "An unexpected error has occurred. Please retry your request later.".into(),
    }
}

#[tokio::test]
async fn get_is_retried_through_transient_errors() {
    let sb = sandbox(SandboxConfig::default()).await;
    let page = &sb.fixtures().pages[0];
    let client = builder(&sb)
        .access_token(page.access_token.clone())
        .build()
        .unwrap();
    sb.control().inject(rule("GET", &page.id, 2, transient(2)));
    let resp = client
        .execute::<Value>(GraphRequest::get(page.id.clone()))
        .await
        .unwrap();
    assert_eq!(resp.attempts(), 3);
    assert_eq!(sb.control().count("GET", &page.id), 3);
}

#[tokio::test]
async fn a_post_is_never_sent_twice_unless_marked_idempotent() {
    let sb = sandbox(SandboxConfig::default()).await;
    let page = &sb.fixtures().pages[0];
    let client = builder(&sb)
        .access_token(page.access_token.clone())
        .build()
        .unwrap();
    let feed = format!("{}/feed", page.id);

    // Transient error on a POST: returned, not retried.
    sb.control().inject(rule("POST", &feed, 1, transient(1)));
    let err = client
        .post::<Value>(&feed, [("message", "a")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(sb.control().count("POST", "/feed"), 1);

    // Dropped connection after the write was applied: the ambiguous case.
    sb.control()
        .inject(rule("POST", &feed, 1, Fault::DropAfterApply));
    let err = client
        .post::<Value>(&feed, [("message", "b")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert_eq!(
        sb.control().count("POST", "/feed"),
        2,
        "one more POST, not two"
    );

    // Dropped before applying: still not retried (we cannot know).
    sb.control().inject(rule("POST", &feed, 1, Fault::Drop));
    assert!(
        client
            .post::<Value>(&feed, [("message", "c")])
            .await
            .is_err()
    );
    assert_eq!(sb.control().count("POST", "/feed"), 3);

    // Marked idempotent: retried and succeeds.
    sb.control().inject(rule("POST", &feed, 1, transient(2)));
    let ok = client
        .execute::<Value>(
            GraphRequest::post(feed.clone())
                .param("message", "d")
                .idempotent(true),
        )
        .await
        .unwrap();
    assert_eq!(ok.attempts(), 2);
    assert_eq!(sb.control().count("POST", "/feed"), 5);
    let applied = sb
        .control()
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.applied)
        .count();
    assert_eq!(
        applied, 2,
        "only the DropAfterApply write and the final success took effect"
    );
}

#[tokio::test]
async fn dropped_connections_and_bare_5xx_are_retried_for_gets() {
    let sb = sandbox(SandboxConfig::default()).await;
    let page = &sb.fixtures().pages[0];
    let client = builder(&sb)
        .access_token(page.access_token.clone())
        .build()
        .unwrap();
    sb.control().inject(rule("GET", &page.id, 1, Fault::Drop));
    sb.control()
        .inject(rule("GET", &page.id, 1, Fault::Http(503)));
    let resp = client
        .execute::<Value>(GraphRequest::get(page.id.clone()))
        .await
        .unwrap();
    assert_eq!(resp.attempts(), 3);
}

#[tokio::test]
async fn non_retryable_errors_are_returned_at_once() {
    let sb = sandbox(SandboxConfig::default()).await;
    let client = builder(&sb)
        .access_token("EAABnotarealtoken")
        .build()
        .unwrap();
    let err = client.get::<Value>("me", ()).await.unwrap_err();
    assert!(err.is_auth(), "{err}");
    assert_eq!(err.api().unwrap().code(), 190);
    assert_eq!(sb.control().count("GET", "/me"), 1);
}

#[tokio::test]
async fn random_faults_are_absorbed() {
    let faults = FaultConfig::default()
        .error_rate(0.25)
        .http_5xx_rate(0.05)
        .drop_rate(0.05);
    let sb = sandbox(SandboxConfig::default().seed(11).faults(faults)).await;
    let page = &sb.fixtures().pages[0];
    let client = builder(&sb)
        .access_token(page.access_token.clone())
        .retry(
            RetryConfig::standard()
                .max_attempts(10)
                .initial_backoff(Duration::from_millis(1))
                .max_backoff(Duration::from_millis(2)),
        )
        .build()
        .unwrap();
    for _ in 0..40 {
        client.get::<Value>(&page.id, ()).await.unwrap();
    }
    let sent = sb.control().count("GET", &page.id);
    assert!(
        sent > 40,
        "some attempts failed and were retried ({sent} sent)"
    );
}

#[tokio::test]
async fn timeouts_are_classified() {
    let sb = sandbox(SandboxConfig::default()).await;
    let page = &sb.fixtures().pages[0];
    let client = builder(&sb)
        .access_token(page.access_token.clone())
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    sb.control().inject(rule(
        "GET",
        &page.id,
        1,
        Fault::Delay(Duration::from_secs(5)),
    ));
    let err = client
        .execute::<Value>(GraphRequest::get(page.id.clone()).timeout(Duration::from_millis(100)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
}
