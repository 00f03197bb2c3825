use meta_core::ErrorKind;
use meta_core::batch::BatchRequest;
use meta_sandbox::{FaultConfig, SandboxConfig};

use crate::{builder, sandbox};

#[tokio::test]
async fn one_result_per_request_in_order_with_per_item_errors() {
    let sb = sandbox(SandboxConfig::default()).await;
    let page = &sb.fixtures().pages[0];
    let client = builder(&sb)
        .access_token(page.access_token.clone())
        .build()
        .unwrap();
    let reqs = vec![
        BatchRequest::get("me", [("fields", "id,name")]),
        BatchRequest::get("me", [("fields", "no_such_field")]),
        BatchRequest::get(&page.id, ()),
        BatchRequest::post(&format!("{}/feed", page.id), [("message", "from a batch")]),
    ];
    let out = client.batch(reqs).await.unwrap();
    assert_eq!(out.len(), 4);
    assert_eq!(out[0].as_ref().unwrap().body()["id"], page.id.as_str());
    let e = out[1].as_ref().unwrap_err();
    assert_eq!(e.api().unwrap().code(), 100);
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    assert_eq!(out[2].as_ref().unwrap().body()["id"], page.id.as_str());
    let created = out[3].as_ref().unwrap().body()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(created.starts_with(&format!("{}_", page.id)));
}

#[tokio::test]
async fn large_lists_are_chunked_by_fifty() {
    let sb = sandbox(SandboxConfig::default()).await;
    let page = &sb.fixtures().pages[0];
    let client = builder(&sb)
        .access_token(page.access_token.clone())
        .build()
        .unwrap();
    let reqs: Vec<BatchRequest> = (0..120)
        .map(|_| BatchRequest::get("me", [("fields", "id")]))
        .collect();
    let out = client.batch(reqs).await.unwrap();
    assert_eq!(out.len(), 120);
    assert!(out.iter().all(Result::is_ok));
    let batch_calls = sb
        .control()
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(batch_calls, 3, "120 requests = 50 + 50 + 20");
}

#[tokio::test]
async fn null_slots_are_retried() {
    let sb =
        sandbox(SandboxConfig::default().faults(FaultConfig::default().batch_null_rate(0.3))).await;
    let page = &sb.fixtures().pages[0];
    let client = builder(&sb)
        .access_token(page.access_token.clone())
        .build()
        .unwrap();
    let reqs: Vec<BatchRequest> = (0..40)
        .map(|_| BatchRequest::get("me", [("fields", "id")]))
        .collect();
    let out = client.batch(reqs).await.unwrap();
    assert_eq!(out.len(), 40);
    let ok = out.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 40, "every null slot was re-sent until it ran");
    let batch_calls = sb
        .control()
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert!(
        batch_calls >= 2,
        "at least one retry round for null slots, saw {batch_calls}"
    );
}
