use meta_sandbox::{Sandbox, SandboxConfig};

use crate::common::{Client, start, start_with};

#[tokio::test]
async fn starts_serves_and_shuts_down() {
    let sandbox = Sandbox::start().await.unwrap();
    let base = sandbox.base_url().to_owned();
    assert!(base.starts_with("http://127.0.0.1:"));
    assert!(!base.ends_with('/'));
    let client = Client::new(&sandbox);
    let token = sandbox.fixtures().user_token.clone();
    let me = client.get("/v26.0/me", &[("access_token", &token)]).await;
    assert_eq!(me.status, 200);
    sandbox.shutdown().await;
    let after = client.http.get(format!("{base}/me")).send().await;
    assert!(after.is_err(), "server still answering after shutdown");
}

#[tokio::test]
async fn fixtures_are_deterministic_per_seed() {
    let a = Sandbox::start_with(SandboxConfig::default().seed(5))
        .await
        .unwrap();
    let b = Sandbox::start_with(SandboxConfig::default().seed(5))
        .await
        .unwrap();
    let c = Sandbox::start_with(SandboxConfig::default().seed(6))
        .await
        .unwrap();
    assert_eq!(a.fixtures(), b.fixtures());
    assert_ne!(a.fixtures().user_token, c.fixtures().user_token);
    assert_ne!(a.fixtures().pages[0].id, c.fixtures().pages[0].id);

    // Same seed, same feed content.
    let (ca, cb) = (Client::new(&a), Client::new(&b));
    let pa = &a.fixtures().pages[0];
    let q = [("access_token", pa.access_token.as_str()), ("limit", "5")];
    let fa = ca.get(&format!("/v26.0/{}/feed", pa.id), &q).await;
    let fb = cb.get(&format!("/v26.0/{}/feed", pa.id), &q).await;
    assert_eq!(fa.json["data"], fb.json["data"]);
}

#[tokio::test]
async fn info_json_lists_credentials() {
    let sandbox = Sandbox::start_with(SandboxConfig::default().pages(2))
        .await
        .unwrap();
    let info = sandbox.info_json();
    let f = sandbox.fixtures();
    assert_eq!(info["base_url"], sandbox.base_url());
    assert_eq!(info["app_id"], f.app_id.as_str());
    assert_eq!(info["user_token"], f.user_token.as_str());
    assert_eq!(info["pages"].as_array().unwrap().len(), 2);
    assert_eq!(
        info["pages"][1]["ig_user_id"],
        f.pages[1].ig_user_id.as_str()
    );
    assert!(
        info["ad_accounts"][0]["id"]
            .as_str()
            .unwrap()
            .starts_with("act_")
    );
    assert_eq!(info["oauth"]["code"], f.oauth_code.as_str());
    assert_eq!(info["oauth"]["redirect_uri"], f.redirect_uri.as_str());
    assert_eq!(info["seed"], 42);
}

#[tokio::test]
async fn versions_and_standard_headers() {
    let (sandbox, client) = start().await;
    let token = sandbox.fixtures().user_token.clone();
    for v in ["v24.0", "v25.0", "v26.0"] {
        let r = client
            .get(&format!("/{v}/me"), &[("access_token", &token)])
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("facebook-api-version").unwrap(), v);
    }
    let r = client.get("/me", &[("access_token", &token)]).await;
    assert_eq!(r.header("facebook-api-version").unwrap(), "v26.0");
    assert!(r.header("x-fb-trace-id").is_some());
    assert!(r.header("x-fb-request-id").is_some());
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert!(r.header("x-app-usage").is_some());

    let bad = client.get("/v99.0/me", &[("access_token", &token)]).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.error_code(), 2500);
    assert_eq!(
        bad.json["error"]["message"],
        "Unknown path components: /v99.0"
    );
    assert_eq!(bad.json["error"]["type"], "OAuthException");
    assert!(bad.json["error"]["fbtrace_id"].is_string());
}

#[tokio::test]
async fn me_honours_fields() {
    let (sandbox, client) = start().await;
    let f = sandbox.fixtures();
    let me = client
        .get("/v26.0/me", &[("access_token", &f.user_token)])
        .await;
    assert_eq!(
        me.json,
        serde_json::json!({"name": f.user_name, "id": f.user_id})
    );
    let first = client
        .get(
            "/v26.0/me",
            &[("access_token", &f.user_token), ("fields", "id,first_name")],
        )
        .await;
    assert_eq!(first.json["id"], f.user_id.as_str());
    assert!(first.json["first_name"].is_string());
    assert!(first.json.get("name").is_none());
    let bad = client
        .get(
            "/v26.0/me",
            &[("access_token", &f.user_token), ("fields", "id,shoe_size")],
        )
        .await;
    assert_eq!(bad.error_code(), 100);
    assert_eq!(
        bad.json["error"]["message"],
        "(#100) Tried accessing nonexisting field (shoe_size) on node type (User)"
    );
    // A Page token's `me` is the Page.
    let page = &f.pages[0];
    let pme = client
        .get("/v26.0/me", &[("access_token", &page.access_token)])
        .await;
    assert_eq!(pme.json["id"], page.id.as_str());
    assert_eq!(pme.json["name"], page.name.as_str());
}

#[tokio::test]
async fn unknown_objects_and_edges() {
    let (sandbox, client) = start().await;
    let f = sandbox.fixtures();
    let r = client
        .get("/v26.0/123456", &[("access_token", &f.user_token)])
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), 100);
    assert_eq!(r.subcode(), Some(33));
    assert_eq!(r.json["error"]["type"], "GraphMethodException");
    let edge = client
        .get(
            &format!("/v26.0/{}/nonsense", f.pages[0].id),
            &[("access_token", &f.user_token)],
        )
        .await;
    assert_eq!(edge.error_code(), 2500);
}

#[tokio::test]
async fn params_from_json_body_and_auth_header() {
    let (sandbox, client) = start().await;
    let page = sandbox.fixtures().pages[0].clone();
    let resp = client
        .http
        .post(format!("{}/v26.0/{}/feed", client.base, page.id))
        .header("Authorization", format!("OAuth {}", page.access_token))
        .json(&serde_json::json!({"message": "from json"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let created: serde_json::Value = resp.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let read = client
        .http
        .get(format!("{}/v26.0/{id}", client.base))
        .bearer_auth(&page.access_token)
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = read.json().await.unwrap();
    assert_eq!(body["message"], "from json");
}

#[tokio::test]
async fn small_configs_work() {
    let (sandbox, client) = start_with(SandboxConfig::default().pages(1).posts_per_page(3)).await;
    let f = sandbox.fixtures();
    assert_eq!(f.pages.len(), 1);
    let feed = client
        .get(
            &format!("/{}/feed", f.pages[0].id),
            &[("access_token", &f.user_token)],
        )
        .await;
    assert_eq!(feed.json["data"].as_array().unwrap().len(), 3);
    assert!(feed.json["paging"].get("next").is_none());
}

#[tokio::test]
async fn bad_configs_are_refused() {
    let cfg = SandboxConfig::default().faults(meta_sandbox::FaultConfig::default().error_rate(1.5));
    assert!(matches!(
        Sandbox::start_with(cfg).await,
        Err(meta_sandbox::SandboxError::Config(_))
    ));
}

#[tokio::test]
async fn multi_id_read() {
    let (sandbox, client) = start().await;
    let f = sandbox.fixtures();
    let ids = format!("{},{}", f.pages[0].id, f.pages[1].id);
    let r = client
        .get(
            "/v26.0/",
            &[
                ("ids", ids.as_str()),
                ("access_token", &f.user_token),
                ("fields", "name"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(
        r.json[f.pages[0].id.as_str()]["name"],
        f.pages[0].name.as_str()
    );
    assert_eq!(
        r.json[f.pages[1].id.as_str()]["name"],
        f.pages[1].name.as_str()
    );
    let bad = client
        .get(
            "/v26.0/",
            &[("ids", "1,2"), ("access_token", &f.user_token)],
        )
        .await;
    assert_eq!(bad.error_code(), 100);
}

#[tokio::test]
async fn configs_build_with_struct_update_syntax() {
    let faults = meta_sandbox::FaultConfig {
        latency: std::time::Duration::from_millis(1),
        ..Default::default()
    };
    let quotas = meta_sandbox::QuotaConfig {
        app_calls: 50,
        ..Default::default()
    };
    let mut config = SandboxConfig::default().faults(faults).quotas(quotas);
    config.posts_per_page = 2;
    let (sandbox, client) = start_with(config).await;
    let token = sandbox.fixtures().user_token.clone();
    let r = client.get("/me", &[("access_token", &token)]).await;
    assert_eq!(r.header_json("x-app-usage")["call_count"], 2);
    let rule = meta_sandbox::FaultRule {
        method: None,
        path_contains: Some("/me".into()),
        times: 1,
        fault: meta_sandbox::Fault::Http(503),
    };
    sandbox.control().inject(rule);
    assert_eq!(
        client.get("/me", &[("access_token", &token)]).await.status,
        503
    );
}
