//! Insights against the sandbox: one bad metric does not sink the others, failures are
//! attributed, and missing stays distinct from zero.

use std::time::Duration;

use meta_core::ids::{IgMediaId, IgUserId, PageId, PostId};
use meta_core::{ApiVersion, Client};
use meta_graph::GraphExt;
use meta_graph::insights::{MetricStatus, MetricType, MetricValue, Period};
use meta_sandbox::{Sandbox, SandboxConfig};

async fn sandbox() -> Sandbox {
    Sandbox::start_with(SandboxConfig::default().seed(11).posts_per_page(3))
        .await
        .unwrap()
}

fn client(sb: &Sandbox, token: &str) -> Client {
    Client::builder()
        .base_url(sb.base_url())
        .access_token(token)
        .build()
        .unwrap()
}

fn page_client(sb: &Sandbox) -> (Client, PageId) {
    let page = &sb.fixtures().pages[0];
    (client(sb, &page.access_token), PageId::new(page.id.clone()))
}

#[tokio::test]
async fn all_good_metrics_take_one_call() {
    let sb = sandbox().await;
    let (c, page) = page_client(&sb);
    let report = c
        .insights()
        .page(&page)
        .metrics(["page_post_engagements", "page_follows"])
        .period(Period::Day)
        .since(1_767_225_600)
        .until(1_767_484_800)
        .send()
        .await
        .unwrap();
    assert!(report.is_complete());
    assert_eq!(report.calls(), 1);
    let m = report.metric("page_post_engagements").unwrap();
    assert_eq!(m.period, Some(Period::Day));
    assert_eq!(m.values.len(), 3);
    assert_eq!(
        m.values[0].end_time.as_deref(),
        Some("2026-01-02T00:00:00+0000")
    );
    assert!(m.title.is_some() && m.description.is_some());
    assert!(matches!(report.value("page_follows"), MetricValue::Int(n) if n >= 5000));
    assert_eq!(sb.control().count("GET", "/insights"), 1);
}

#[tokio::test]
async fn one_bad_page_metric_falls_back_to_one_call_per_metric() {
    let sb = sandbox().await;
    let (c, page) = page_client(&sb);
    let report = c
        .insights()
        .page(&page)
        .metrics(["page_post_engagements", "page_not_a_metric", "page_follows"])
        .send()
        .await
        .unwrap();
    // The Page error names no metric: 1 combined call + 3 single ones.
    assert_eq!(report.calls(), 4);
    assert_eq!(sb.control().count("GET", "/insights"), 4);
    assert!(report.metric("page_post_engagements").is_some());
    assert!(report.metric("page_follows").is_some());
    assert_eq!(report.failures().len(), 1);
    let f = report.failure("page_not_a_metric").unwrap();
    assert_eq!(f.code(), Some(100));
    assert_eq!(
        f.message(),
        "(#100) The value must be a valid insights metric"
    );
    assert_eq!(f.status(), &MetricStatus::Unknown);
    assert!(!f.refused_locally());
    assert!(report.value("page_not_a_metric").is_missing());
    assert!(!report.is_complete());
}

#[tokio::test]
async fn deprecated_page_metric_named_in_the_error_is_dropped_and_retried() {
    let sb = sandbox().await;
    let (c, page) = page_client(&sb);
    let report = c
        .insights()
        .page(&page)
        .metrics(["page_fans", "page_media_view"])
        .send()
        .await
        .unwrap();
    assert_eq!(report.calls(), 2, "the message names page_fans");
    let f = report.failure("page_fans").unwrap();
    assert!(f.message().contains("page_fans"));
    assert_eq!(
        f.status(),
        &MetricStatus::Deprecated {
            since: "v24.0".into(),
            replacement: Some("page_follows".into())
        }
    );
    assert!(report.metric("page_media_view").is_some());

    // Skipped before any call when asked.
    let before = sb.control().count("GET", "/insights");
    let report = c
        .insights()
        .page(&page)
        .metrics(["page_fans", "page_media_view"])
        .skip_deprecated(true)
        .send()
        .await
        .unwrap();
    assert_eq!(sb.control().count("GET", "/insights"), before + 1);
    assert!(report.failure("page_fans").unwrap().refused_locally());
    assert!(report.metric("page_media_view").is_some());
}

#[tokio::test]
async fn instagram_errors_name_the_metric_by_position() {
    let sb = sandbox().await;
    let f = sb.fixtures();
    let c = client(&sb, &f.user_token);
    let ig = IgUserId::new(f.pages[0].ig_user_id.clone());
    let report = c
        .insights()
        .ig_user(&ig)
        .metrics(["reach", "bogus", "impressions", "views"])
        .period(Period::Day)
        .send()
        .await
        .unwrap();
    // metric[1] → drop bogus; then "impressions … no longer supported" → drop it.
    assert_eq!(report.calls(), 3);
    let failed: Vec<&str> = report.failures().iter().map(|f| f.metric()).collect();
    assert_eq!(failed, ["bogus", "impressions"]);
    assert!(
        report
            .failure("bogus")
            .unwrap()
            .message()
            .contains("metric[1]")
    );
    assert!(matches!(
        report.failure("impressions").unwrap().status(),
        MetricStatus::Deprecated { .. }
    ));
    assert!(report.metric("reach").is_some());
    assert!(report.metric("views").is_some());
}

#[tokio::test]
async fn instagram_total_value_with_breakdown() {
    let sb = sandbox().await;
    let f = sb.fixtures();
    let c = client(&sb, &f.user_token);
    let ig = IgUserId::new(f.pages[0].ig_user_id.clone());
    let report = c
        .insights()
        .ig_user(&ig)
        .metric("views")
        .period(Period::Day)
        .metric_type(MetricType::TotalValue)
        .breakdown("media_product_type")
        .send()
        .await
        .unwrap();
    let m = report.metric("views").unwrap();
    let tv = m.total_value.as_ref().unwrap();
    let total = tv.value.as_i64().unwrap();
    assert_eq!(m.latest(), MetricValue::Int(total));
    let parts: i64 = tv.breakdowns[0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"].as_i64().unwrap())
        .sum();
    assert_eq!(parts, total);
}

#[tokio::test]
async fn missing_is_not_zero() {
    let sb = sandbox().await;
    let (c, page) = page_client(&sb);
    let created: serde_json::Value = c
        .post(
            &format!("{page}/feed"),
            [("message", "Live de poleras hoy a las 20:00")],
        )
        .await
        .unwrap();
    let post = PostId::new(created["id"].as_str().unwrap());
    let now = i64::try_from(sb.control().now_unix()).unwrap();

    // Lifetime: video views of a text post are a real zero.
    let report = c
        .insights()
        .post(&post)
        .metrics(["post_video_views", "post_clicks"])
        .send()
        .await
        .unwrap();
    assert_eq!(report.value("post_video_views"), MetricValue::Int(0));
    assert!(!report.value("post_video_views").is_missing());

    // Daily from before the post existed: early days are Missing, not 0.
    let report = c
        .insights()
        .post(&post)
        .metric("post_clicks")
        .period(Period::Day)
        .since(now - 5 * 86_400)
        .until(now + 86_400)
        .send()
        .await
        .unwrap();
    let values = &report.metric("post_clicks").unwrap().values;
    assert!(values.first().unwrap().value.is_missing(), "{values:?}");
    assert!(
        values.last().unwrap().value.as_i64().is_some(),
        "{values:?}"
    );
    assert!(values.iter().all(|p| p.end_time.is_some()));
}

#[tokio::test]
async fn instagram_media_insights() {
    let sb = sandbox().await;
    let f = sb.fixtures();
    let c = client(&sb, &f.user_token);
    let ig = &f.pages[0].ig_user_id;
    let container: serde_json::Value = c
        .post(
            &format!("{ig}/media"),
            [("image_url", "https://cdn.example.com/polera.jpg")],
        )
        .await
        .unwrap();
    sb.control().advance_clock(Duration::from_secs(60));
    let media: serde_json::Value = c
        .post(
            &format!("{ig}/media_publish"),
            [("creation_id", container["id"].as_str().unwrap())],
        )
        .await
        .unwrap();
    let media = IgMediaId::new(media["id"].as_str().unwrap());
    let report = c
        .insights()
        .ig_media(&media)
        .metrics(["reach", "plays", "saved"])
        .send()
        .await
        .unwrap();
    assert_eq!(report.failure("plays").unwrap().code(), Some(100));
    assert!(matches!(report.value("reach"), MetricValue::Int(_)));
    assert!(matches!(report.value("saved"), MetricValue::Int(_)));
    assert_eq!(
        report.metric("saved").unwrap().period,
        Some(Period::Lifetime)
    );
}

#[tokio::test]
async fn bad_input_is_refused_before_any_call() {
    let sb = sandbox().await;
    let (c, page) = page_client(&sb);
    let ins = c.insights();
    let cases = [
        ins.page(&page),
        ins.page(&page).metric("page follows"),
        ins.page(&page).metric("a,b"),
        ins.page(&page).metric("page_follows").since(10).until(5),
        ins.page(&page)
            .metric("page_follows")
            .metric_type(MetricType::TotalValue),
        ins.ig_user(&IgUserId::new("1"))
            .metric("views")
            .breakdown("Media Type"),
    ];
    for req in cases {
        let err = req.send().await.unwrap_err();
        assert!(err.is_refused_before_call(), "{err}");
    }
    assert_eq!(sb.control().count("GET", "/insights"), 0);
}

#[tokio::test]
async fn auth_errors_are_not_metric_failures() {
    let sb = sandbox().await;
    let f = sb.fixtures();
    // A user token on Page insights: Meta wants the Page token (code 190).
    let c = client(&sb, &f.user_token);
    let err = c
        .insights()
        .page(&PageId::new(f.pages[0].id.clone()))
        .metric("page_follows")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.meta().unwrap().api().unwrap().code(), 190);
}

#[tokio::test]
async fn registry_follows_the_client_version() {
    let sb = sandbox().await;
    let page = &sb.fixtures().pages[0];
    let c = Client::builder()
        .base_url(sb.base_url())
        .access_token(page.access_token.clone())
        .api_version(ApiVersion::new(24, 0))
        .build()
        .unwrap();
    let reg = c.insights().registry().clone();
    assert!(matches!(
        reg.status(
            meta_graph::insights::MetricScope::IgMedia,
            "plays",
            c.api_version()
        ),
        MetricStatus::Deprecated { .. }
    ));
    let report = c
        .insights()
        .page(&PageId::new(page.id.clone()))
        .metric("page_follows")
        .send()
        .await
        .unwrap();
    assert!(report.is_complete());
    assert!(
        sb.control()
            .requests()
            .iter()
            .any(|r| r.path.starts_with("/v24.0/"))
    );
}
