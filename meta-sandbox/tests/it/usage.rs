use std::time::Duration;

use meta_sandbox::{Fault, FaultConfig, FaultRule, QuotaConfig, SandboxConfig, ThrottleBurst};

use crate::common::start_with;

fn quotas() -> QuotaConfig {
    QuotaConfig::default()
        .app_calls(1000)
        .buc_calls(5)
        .ad_account_calls(4)
        .window(Duration::from_secs(60))
        .buc_block(Duration::from_secs(120))
        .ad_account_block(Duration::from_secs(5))
}

#[tokio::test]
async fn page_buc_usage_grows_then_throttles_then_clears() {
    let (sandbox, client) = start_with(SandboxConfig::default().quotas(quotas())).await;
    let page = sandbox.fixtures().pages[0].clone();
    let mut last = 0;
    for i in 1..=5 {
        let r = client
            .get("/v26.0/me", &[("access_token", &page.access_token)])
            .await;
        assert_eq!(r.status, 200);
        let buc = r.header_json("x-business-use-case-usage");
        let entry = &buc[page.id.as_str()][0];
        assert_eq!(entry["type"], "pages");
        let pct = entry["call_count"].as_u64().unwrap();
        assert!(pct > last);
        assert_eq!(pct, i * 20);
        last = pct;
        assert_eq!(entry["estimated_time_to_regain_access"], 0);
        assert!(r.header_json("x-app-usage")["call_count"].is_u64());
    }
    let throttled = client
        .get("/v26.0/me", &[("access_token", &page.access_token)])
        .await;
    assert_eq!(throttled.status, 400);
    assert_eq!(throttled.error_code(), 80001);
    assert_eq!(throttled.subcode(), Some(2_446_079));
    let entry = &throttled.header_json("x-business-use-case-usage")[page.id.as_str()][0];
    assert_eq!(entry["estimated_time_to_regain_access"], 2);

    // Other Pages are unaffected; the blocked one stays blocked past the window.
    let other = sandbox.fixtures().pages[1].access_token.clone();
    assert_eq!(
        client
            .get("/v26.0/me", &[("access_token", &other)])
            .await
            .status,
        200
    );
    sandbox.control().advance_clock(Duration::from_secs(61));
    let still = client
        .get("/v26.0/me", &[("access_token", &page.access_token)])
        .await;
    assert_eq!(still.error_code(), 80001);
    sandbox.control().advance_clock(Duration::from_secs(60));
    let ok = client
        .get("/v26.0/me", &[("access_token", &page.access_token)])
        .await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn app_limit_gives_code_4() {
    let cfg = SandboxConfig::default().quotas(quotas().app_calls(3));
    let (sandbox, client) = start_with(cfg).await;
    let token = sandbox.fixtures().user_token.clone();
    for _ in 0..3 {
        assert_eq!(
            client.get("/me", &[("access_token", &token)]).await.status,
            200
        );
    }
    let r = client.get("/me", &[("access_token", &token)]).await;
    assert_eq!(r.error_code(), 4);
    assert_eq!(r.json["error"]["is_transient"], true);
    assert_eq!(r.header_json("x-app-usage")["call_count"], 100);
    sandbox.control().reset_usage();
    assert_eq!(
        client.get("/me", &[("access_token", &token)]).await.status,
        200
    );
    for _ in 0..2 {
        client.get("/me", &[("access_token", &token)]).await;
    }
    assert_eq!(
        client
            .get("/me", &[("access_token", &token)])
            .await
            .error_code(),
        4
    );
    sandbox.control().advance_clock(Duration::from_secs(60));
    assert_eq!(
        client.get("/me", &[("access_token", &token)]).await.status,
        200
    );
}

#[tokio::test]
async fn ad_account_limit_gives_code_17() {
    let (sandbox, client) = start_with(SandboxConfig::default().quotas(quotas())).await;
    let f = sandbox.fixtures();
    let acct = &f.ad_accounts[0];
    let path = format!("/v26.0/{}", acct.id);
    for i in 1..=4u32 {
        let r = client.get(&path, &[("access_token", &f.user_token)]).await;
        assert_eq!(r.status, 200);
        let pct = r.header_json("x-ad-account-usage")["acc_id_util_pct"]
            .as_f64()
            .unwrap();
        assert!((pct - f64::from(i) * 25.0).abs() < 0.01);
    }
    let r = client.get(&path, &[("access_token", &f.user_token)]).await;
    assert_eq!(r.error_code(), 17);
    assert_eq!(r.subcode(), Some(2_446_079));
    assert!(r.json["error"]["error_user_title"].is_string());
    let usage = r.header_json("x-ad-account-usage");
    assert_eq!(usage["reset_time_duration"], 5);
    // The other account is not blocked.
    let other = format!("/v26.0/{}", f.ad_accounts[1].id);
    assert_eq!(
        client
            .get(&other, &[("access_token", &f.user_token)])
            .await
            .status,
        200
    );
    sandbox.control().advance_clock(Duration::from_secs(5));
    assert_eq!(
        client
            .get(&path, &[("access_token", &f.user_token)])
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn injected_throttles_really_block() {
    let (sandbox, client) = start_with(SandboxConfig::default()).await;
    let f = sandbox.fixtures();
    let page = &f.pages[0];
    let feed = format!("/v26.0/{}/feed", page.id);
    sandbox
        .control()
        .inject(FaultRule::new(Fault::BucThrottle { minutes: 3 }).path_contains("/feed"));
    let r = client
        .get(&feed, &[("access_token", &page.access_token)])
        .await;
    assert_eq!(r.error_code(), 80001);
    let entry = &r.header_json("x-business-use-case-usage")[page.id.as_str()][0];
    assert_eq!(entry["estimated_time_to_regain_access"], 3);
    // Still blocked for any call on that Page's token, until 3 minutes pass.
    let again = client
        .get("/v26.0/me", &[("access_token", &page.access_token)])
        .await;
    assert_eq!(again.error_code(), 80001);
    sandbox.control().advance_clock(Duration::from_secs(180));
    assert_eq!(
        client
            .get(&feed, &[("access_token", &page.access_token)])
            .await
            .status,
        200
    );

    let acct = &f.ad_accounts[0];
    let campaigns = format!("/v26.0/{}/campaigns", acct.id);
    sandbox
        .control()
        .inject(FaultRule::new(Fault::BucThrottle { minutes: 1 }).path_contains("act_"));
    let r = client
        .get(&campaigns, &[("access_token", &f.user_token)])
        .await;
    assert_eq!(r.error_code(), 80004);
    assert_eq!(
        r.header_json("x-business-use-case-usage")[acct.account_id.as_str()][0]["estimated_time_to_regain_access"],
        1
    );
    sandbox.control().advance_clock(Duration::from_secs(60));

    sandbox
        .control()
        .inject(FaultRule::new(Fault::AdAccountThrottle { reset_secs: 30 }));
    let r = client
        .get(&campaigns, &[("access_token", &f.user_token)])
        .await;
    assert_eq!(r.error_code(), 17);
    let usage = r.header_json("x-ad-account-usage");
    assert_eq!(usage["acc_id_util_pct"], 100.0);
    assert_eq!(usage["reset_time_duration"], 30);
    assert_eq!(
        client
            .get(&campaigns, &[("access_token", &f.user_token)])
            .await
            .error_code(),
        17
    );
    sandbox.control().advance_clock(Duration::from_secs(30));
    assert_eq!(
        client
            .get(&campaigns, &[("access_token", &f.user_token)])
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn throttle_bursts() {
    let faults = FaultConfig::default().throttle_burst(Some(ThrottleBurst {
        every: 2,
        length: 1,
    }));
    let (sandbox, client) = start_with(SandboxConfig::default().faults(faults)).await;
    let token = sandbox.fixtures().user_token.clone();
    let mut codes = Vec::new();
    for _ in 0..6 {
        let r = client.get("/me", &[("access_token", &token)]).await;
        codes.push(r.status);
        if r.status == 400 {
            assert_eq!(r.error_code(), 4);
            assert_eq!(r.header_json("x-app-usage")["call_count"], 100);
        }
    }
    assert_eq!(codes, [200, 200, 400, 200, 200, 400]);
}
