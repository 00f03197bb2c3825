use std::time::Duration;

use meta_sandbox::{Fault, FaultConfig, FaultRule, SandboxConfig};

use crate::common::{start, start_with};

#[tokio::test]
async fn drop_gives_a_connection_error_and_applies_nothing() {
    let (sandbox, client) = start().await;
    let page = sandbox.fixtures().pages[0].clone();
    let feed = format!("/v26.0/{}/feed", page.id);
    sandbox.control().inject(
        FaultRule::new(Fault::Drop)
            .method("POST")
            .path_contains("/feed"),
    );
    let err = client
        .try_post(
            &feed,
            &[("access_token", &page.access_token), ("message", "lost")],
        )
        .await
        .expect_err("a dropped connection must be an error");
    assert!(!err.is_status());
    let top = client
        .get(
            &feed,
            &[("access_token", &page.access_token), ("limit", "1")],
        )
        .await;
    assert_ne!(top.json["data"][0]["message"], "lost");
    let log = sandbox.control().requests();
    let dropped = log.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(dropped.status, None);
    assert!(!dropped.applied);
    // The server keeps serving after a drop.
    let ok = client
        .post(
            &feed,
            &[("access_token", &page.access_token), ("message", "kept")],
        )
        .await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn drop_after_apply_creates_the_post() {
    let (sandbox, client) = start().await;
    let page = sandbox.fixtures().pages[0].clone();
    let feed = format!("/v26.0/{}/feed", page.id);
    sandbox
        .control()
        .inject(FaultRule::new(Fault::DropAfterApply).method("POST"));
    let err = client
        .try_post(
            &feed,
            &[
                ("access_token", &page.access_token),
                ("message", "ambiguous"),
            ],
        )
        .await;
    assert!(err.is_err());
    let top = client
        .get(
            &feed,
            &[("access_token", &page.access_token), ("limit", "1")],
        )
        .await;
    assert_eq!(top.json["data"][0]["message"], "ambiguous");
    let control = sandbox.control();
    assert_eq!(control.count("POST", "/feed"), 1);
    let rec = control
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert!(rec.applied);
    assert_eq!(rec.status, None);
}

#[tokio::test]
async fn http_graph_error_and_delay_rules() {
    let (sandbox, client) = start().await;
    let token = sandbox.fixtures().user_token.clone();
    let control = sandbox.control();
    control.inject(FaultRule::new(Fault::Http(502)).times(2));
    control.inject(FaultRule::new(Fault::GraphError {
        status: 500,
        code: 2,
        subcode: None,
        transient: Some(true),
        message: "An unexpected error has occurred. Please retry your request later.".into(),
    }));
    control.inject(FaultRule::new(Fault::Delay(Duration::from_millis(20))));
    for _ in 0..2 {
        let r = client.get("/v26.0/me", &[("access_token", &token)]).await;
        assert_eq!(r.status, 502);
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
        assert!(r.json.as_str().unwrap().contains("<html>"));
    }
    let r = client.get("/v26.0/me", &[("access_token", &token)]).await;
    assert_eq!(r.status, 500);
    assert_eq!(r.error_code(), 2);
    assert_eq!(r.json["error"]["is_transient"], true);
    let delayed = client.get("/v26.0/me", &[("access_token", &token)]).await;
    assert_eq!(delayed.status, 200);
    assert_eq!(
        client
            .get("/v26.0/me", &[("access_token", &token)])
            .await
            .status,
        200
    );
    let statuses: Vec<Option<u16>> = control.requests().iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [Some(502), Some(502), Some(500), Some(200), Some(200)]
    );
}

#[tokio::test]
async fn random_faults_are_seeded() {
    async fn run(seed: u64) -> Vec<u16> {
        let faults = FaultConfig::default().error_rate(0.3).http_5xx_rate(0.2);
        let (sandbox, client) =
            start_with(SandboxConfig::default().seed(seed).faults(faults)).await;
        let token = sandbox.fixtures().user_token.clone();
        let mut out = Vec::new();
        for _ in 0..40 {
            let r = client.get("/me", &[("access_token", &token)]).await;
            if r.status == 500 {
                assert!([1, 2].contains(&r.error_code()));
                assert_eq!(r.json["error"]["is_transient"], true);
            }
            out.push(r.status);
        }
        out
    }
    let a = run(11).await;
    assert_eq!(a, run(11).await);
    assert!(a.contains(&200));
    assert!(a.iter().any(|s| *s != 200));
    assert!(a.iter().all(|s| [200, 500, 502, 503].contains(s)));
}

#[tokio::test]
async fn set_faults_switches_at_runtime_and_drops_are_errors() {
    let (sandbox, client) = start().await;
    let token = sandbox.fixtures().user_token.clone();
    sandbox
        .control()
        .set_faults(FaultConfig::default().drop_rate(1.0));
    let err = client
        .http
        .get(format!("{}/me", client.base))
        .query(&[("access_token", &token)])
        .send()
        .await;
    assert!(err.is_err());
    sandbox.control().set_faults(FaultConfig::default());
    assert_eq!(
        client.get("/me", &[("access_token", &token)]).await.status,
        200
    );
}

#[tokio::test]
async fn request_log_never_holds_tokens() {
    let (sandbox, client) = start().await;
    let f = sandbox.fixtures();
    client
        .get("/v26.0/me", &[("access_token", &f.user_token)])
        .await;
    client
        .post(
            &format!("/v26.0/{}/feed", f.pages[0].id),
            &[("access_token", &f.pages[0].access_token), ("message", "m")],
        )
        .await;
    let dump = format!("{:?}", sandbox.control().requests());
    assert!(!dump.contains(&f.user_token));
    assert!(!dump.contains(&f.pages[0].access_token));
    assert!(!dump.contains("access_token"));
    assert_eq!(sandbox.control().count("get", "/me"), 1);
}
