use meta_sandbox::{Fault, FaultConfig, FaultRule, SandboxConfig};
use serde_json::{Value, json};

use crate::common::{start, start_with};

fn body(slot: &Value) -> Value {
    serde_json::from_str(slot["body"].as_str().expect("body is a JSON string")).unwrap()
}

#[tokio::test]
async fn mixed_batch_keeps_order_and_per_item_errors() {
    let (sandbox, client) = start().await;
    let f = sandbox.fixtures();
    let page = &f.pages[0];
    let batch = json!([
        {"method": "GET", "relative_url": "me?fields=id,name"},
        {"method": "GET", "relative_url": "v25.0/does_not_exist"},
        {"method": "POST", "relative_url": format!("{}/feed", page.id), "body": format!("message=batched&access_token={}", page.access_token)},
        {"method": "GET", "relative_url": format!("/{}/feed?limit=2", page.id), "name": "feed"},
        {"method": "POST", "relative_url": format!("{}/feed", page.id), "body": "message=no-page-token"},
    ]);
    let r = client
        .post(
            "/v26.0/",
            &[
                ("access_token", &f.user_token),
                ("batch", &batch.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let slots = r.json.as_array().unwrap();
    assert_eq!(slots.len(), 5);

    assert_eq!(slots[0]["code"], 200);
    assert_eq!(body(&slots[0])["id"], f.user_id.as_str());
    let headers = slots[0]["headers"].as_array().unwrap();
    assert!(headers.iter().any(|h| h["name"] == "X-App-Usage"));
    assert!(headers.iter().any(|h| h["name"] == "Content-Type"));

    assert_eq!(slots[1]["code"], 400);
    assert_eq!(body(&slots[1])["error"]["error_subcode"], 33);

    assert_eq!(slots[2]["code"], 200);
    let post_id = body(&slots[2])["id"].as_str().unwrap().to_owned();
    assert_eq!(body(&slots[3])["data"][0]["id"], post_id.as_str());
    assert_eq!(body(&slots[3])["data"].as_array().unwrap().len(), 2);

    assert_eq!(slots[4]["code"], 403);
    assert_eq!(body(&slots[4])["error"]["code"], 200);

    let log = sandbox.control().requests();
    assert_eq!(log.iter().filter(|r| r.in_batch).count(), 5);
    assert_eq!(log.iter().filter(|r| r.in_batch && r.applied).count(), 1);
    assert_eq!(sandbox.control().count("POST", "/feed"), 2);
}

#[tokio::test]
async fn batch_items_count_separately_against_usage() {
    let cfg = SandboxConfig::default().quotas(meta_sandbox::QuotaConfig::default().app_calls(100));
    let (sandbox, client) = start_with(cfg).await;
    let f = sandbox.fixtures();
    let items: Vec<Value> = (0..10)
        .map(|_| json!({"method":"GET","relative_url":"me"}))
        .collect();
    let r = client
        .post(
            "/",
            &[
                ("access_token", &f.user_token),
                ("batch", &Value::Array(items).to_string()),
            ],
        )
        .await;
    assert_eq!(r.header_json("x-app-usage")["call_count"], 10);
}

#[tokio::test]
async fn null_slots_from_rules_and_rates() {
    let (sandbox, client) = start().await;
    let f = sandbox.fixtures();
    let page = &f.pages[0];
    sandbox.control().inject(
        FaultRule::new(Fault::BatchNull)
            .method("POST")
            .path_contains("/feed"),
    );
    let batch = json!([
        {"method": "GET", "relative_url": "me"},
        {"method": "POST", "relative_url": format!("{}/feed", page.id), "body": format!("message=x&access_token={}", page.access_token)},
        {"method": "GET", "relative_url": "me"},
    ]);
    let r = client
        .post(
            "/v26.0/",
            &[
                ("access_token", &f.user_token),
                ("batch", &batch.to_string()),
            ],
        )
        .await;
    let slots = r.json.as_array().unwrap();
    assert_eq!(slots[0]["code"], 200);
    assert!(slots[1].is_null());
    assert_eq!(slots[2]["code"], 200);
    // Not run, so not applied: the feed is unchanged.
    assert_eq!(
        sandbox
            .control()
            .requests()
            .iter()
            .filter(|r| r.applied)
            .count(),
        0
    );

    sandbox
        .control()
        .set_faults(FaultConfig::default().batch_null_rate(1.0));
    let r = client
        .post(
            "/v26.0/",
            &[
                ("access_token", &f.user_token),
                ("batch", &batch.to_string()),
            ],
        )
        .await;
    assert!(r.json.as_array().unwrap().iter().all(Value::is_null));
}

#[tokio::test]
async fn batch_validation_errors() {
    let (sandbox, client) = start().await;
    let token = sandbox.fixtures().user_token.clone();
    let items: Vec<Value> = (0..51)
        .map(|_| json!({"method":"GET","relative_url":"me"}))
        .collect();
    let r = client
        .post(
            "/v26.0/",
            &[
                ("access_token", &token),
                ("batch", &Value::Array(items).to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), 100);
    assert_eq!(
        r.json["error"]["message"],
        "Too many requests in batch message. Maximum batch size is 50"
    );
    let r = client
        .post("/v26.0/", &[("access_token", &token), ("batch", "[{oops")])
        .await;
    assert_eq!(r.error_code(), 100);
    let r = client
        .post(
            "/v26.0/",
            &[("batch", r#"[{"method":"GET","relative_url":"me"}]"#)],
        )
        .await;
    assert_eq!(r.error_code(), 104);
}

#[tokio::test]
async fn batch_item_faults_drop_after_apply() {
    let (sandbox, client) = start().await;
    let f = sandbox.fixtures();
    let page = &f.pages[0];
    sandbox
        .control()
        .inject(FaultRule::new(Fault::DropAfterApply).path_contains("/feed"));
    let batch = json!([
        {"method": "POST", "relative_url": format!("{}/feed", page.id), "body": format!("message=ambiguous&access_token={}", page.access_token)},
    ]);
    let r = client
        .post(
            "/v26.0/",
            &[
                ("access_token", &f.user_token),
                ("batch", &batch.to_string()),
            ],
        )
        .await;
    assert!(r.json[0].is_null());
    let top = client
        .get(
            &format!("/v26.0/{}/feed", page.id),
            &[("access_token", &f.user_token), ("limit", "1")],
        )
        .await;
    assert_eq!(top.json["data"][0]["message"], "ambiguous");
}
