//! Insights: deterministic values, Meta's code-100 rejections per API version, periods
//! and ranges, Instagram `metric_type`/`breakdown`, missing versus zero.

use std::time::Duration;

use meta_sandbox::{Sandbox, SandboxConfig};

use crate::common::{Client, Resp, start_with};

async fn sandbox(seed: u64) -> (Sandbox, Client) {
    start_with(SandboxConfig::default().seed(seed).posts_per_page(3)).await
}

async fn insights(c: &Client, version: &str, id: &str, token: &str, q: &[(&str, &str)]) -> Resp {
    let mut q = q.to_vec();
    q.push(("access_token", token));
    c.get(&format!("/{version}/{id}/insights"), &q).await
}

/// Publishes one image on the first Page's Instagram account; returns the media id.
async fn publish_media(sb: &Sandbox, c: &Client) -> String {
    let f = sb.fixtures();
    let ig = &f.pages[0].ig_user_id;
    let r = c
        .post(
            &format!("/v26.0/{ig}/media"),
            &[
                ("image_url", "https://cdn.example.com/polera.jpg"),
                ("access_token", &f.user_token),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let container = r.json["id"].as_str().unwrap().to_owned();
    sb.control().advance_clock(Duration::from_secs(60));
    let r = c
        .post(
            &format!("/v26.0/{ig}/media_publish"),
            &[("creation_id", &container), ("access_token", &f.user_token)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    r.json["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn page_insights_are_deterministic_per_seed() {
    let (sb, c) = sandbox(7).await;
    let page = &sb.fixtures().pages[0];
    let since = "1767225600"; // 2026-01-01
    let until = "1767484800"; // 2026-01-04
    let q = [
        ("metric", "page_post_engagements,page_follows"),
        ("period", "day"),
        ("since", since),
        ("until", until),
    ];
    let a = insights(&c, "v26.0", &page.id, &page.access_token, &q).await;
    assert_eq!(a.status, 200, "{}", a.json);
    let data = a.json["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["name"], "page_post_engagements");
    assert_eq!(data[0]["period"], "day");
    let values = data[0]["values"].as_array().unwrap();
    assert_eq!(values.len(), 3, "one point per day in [since, until)");
    assert_eq!(values[0]["end_time"], "2026-01-02T00:00:00+0000");
    assert_eq!(values[2]["end_time"], "2026-01-04T00:00:00+0000");
    assert!(values.iter().all(|v| v["value"].as_u64().is_some()));
    assert!(data[0]["title"].is_string() && data[0]["description"].is_string());
    assert_eq!(
        data[0]["id"],
        format!("{}/insights/page_post_engagements/day", page.id)
    );
    assert!(a.json["paging"]["next"].is_string());

    // Same seed, same numbers; another seed, other numbers.
    let (sb2, c2) = sandbox(7).await;
    let page2 = &sb2.fixtures().pages[0];
    let b = insights(&c2, "v26.0", &page2.id, &page2.access_token, &q).await;
    assert_eq!(a.json["data"][0]["values"], b.json["data"][0]["values"]);
    let (sb3, c3) = sandbox(8).await;
    let page3 = &sb3.fixtures().pages[0];
    let d = insights(&c3, "v26.0", &page3.id, &page3.access_token, &q).await;
    assert_ne!(a.json["data"][0]["values"], d.json["data"][0]["values"]);
}

#[tokio::test]
async fn one_unknown_metric_fails_the_whole_request_with_code_100() {
    let (sb, c) = sandbox(1).await;
    let page = &sb.fixtures().pages[0];
    let r = insights(
        &c,
        "v26.0",
        &page.id,
        &page.access_token,
        &[("metric", "page_post_engagements,page_bogus")],
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), 100);
    assert_eq!(
        r.json["error"]["message"],
        "(#100) The value must be a valid insights metric"
    );

    // A deprecated metric: fine before the version that retired it, named after.
    let old = insights(
        &c,
        "v24.0",
        &page.id,
        &page.access_token,
        &[("metric", "page_engaged_users")],
    )
    .await;
    assert_eq!(old.error_code(), 100);
    let q = [("metric", "page_fans")];
    let fans = insights(&c, "v24.0", &page.id, &page.access_token, &q).await;
    assert_eq!(fans.error_code(), 100);
    assert!(
        fans.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("page_fans")
    );
}

#[tokio::test]
async fn page_insights_need_the_page_token() {
    let (sb, c) = sandbox(1).await;
    let f = sb.fixtures();
    let r = insights(
        &c,
        "v26.0",
        &f.pages[0].id,
        &f.user_token,
        &[("metric", "page_follows")],
    )
    .await;
    assert_eq!(r.error_code(), 190);
    let r = insights(
        &c,
        "v26.0",
        &f.pages[0].id,
        &f.pages[1].access_token,
        &[("metric", "page_follows")],
    )
    .await;
    assert_eq!(r.error_code(), 190);
}

#[tokio::test]
async fn range_and_period_rules() {
    let (sb, c) = sandbox(1).await;
    let page = &sb.fixtures().pages[0];
    let t = &page.access_token;
    let r = insights(
        &c,
        "v26.0",
        &page.id,
        t,
        &[
            ("metric", "page_follows"),
            ("since", "1767484800"),
            ("until", "1767225600"),
        ],
    )
    .await;
    assert_eq!(r.error_code(), 100);
    let r = insights(
        &c,
        "v26.0",
        &page.id,
        t,
        &[
            ("metric", "page_follows"),
            ("since", "1700000000"),
            ("until", "1767225600"),
        ],
    )
    .await;
    assert_eq!(r.error_code(), 100);
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("93 days")
    );
    let r = insights(
        &c,
        "v26.0",
        &page.id,
        t,
        &[("metric", "page_follows"), ("period", "fortnight")],
    )
    .await;
    assert_eq!(r.error_code(), 100);
    let r = insights(&c, "v26.0", &page.id, t, &[("period", "day")]).await;
    assert_eq!(r.error_code(), 100);
    // Absurd times are refused, not overflowed.
    let r = insights(
        &c,
        "v26.0",
        &page.id,
        t,
        &[
            ("metric", "page_follows"),
            ("since", "18446744073709551615"),
        ],
    )
    .await;
    assert_eq!(r.error_code(), 100);
    // Dates work as well as unix times; week values are bigger than day values.
    let day = insights(
        &c,
        "v26.0",
        &page.id,
        t,
        &[
            ("metric", "page_media_view"),
            ("since", "2026-01-01"),
            ("until", "2026-01-02"),
        ],
    )
    .await;
    assert_eq!(day.status, 200, "{}", day.json);
    assert_eq!(day.json["data"][0]["values"].as_array().unwrap().len(), 1);
    // Default window: two days.
    let def = insights(&c, "v26.0", &page.id, t, &[("metric", "page_media_view")]).await;
    assert_eq!(def.json["data"][0]["values"].as_array().unwrap().len(), 2);
    // /{id}/insights/{metric} works too.
    let one = c
        .get(
            &format!("/v26.0/{}/insights/page_follows", page.id),
            &[("access_token", t)],
        )
        .await;
    assert_eq!(one.json["data"][0]["name"], "page_follows");
}

#[tokio::test]
async fn post_insights_missing_before_creation_and_real_zeros() {
    let (sb, c) = sandbox(3).await;
    let page = &sb.fixtures().pages[0];
    // A fresh post, so the daily series below reaches back before it existed.
    let created = c
        .post(
            &format!("/v26.0/{}/feed", page.id),
            &[
                ("message", "Hoy en vivo: poleras"),
                ("access_token", &page.access_token),
            ],
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.json);
    let post = created.json["id"].as_str().unwrap().to_owned();
    // Lifetime by default: one value, no end_time.
    let r = insights(
        &c,
        "v26.0",
        &post,
        &page.access_token,
        &[(
            "metric",
            "post_clicks,post_video_views,post_reactions_by_type_total",
        )],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["data"][0]["period"], "lifetime");
    assert!(r.json["data"][0]["values"][0]["end_time"].is_null());
    assert_eq!(
        r.json["data"][1]["values"][0]["value"], 0,
        "a text post has zero video views"
    );
    assert!(r.json["data"][2]["values"][0]["value"].is_object());

    // Daily, starting a week before the post existed: the early days have no value.
    let now = sb.control().now_unix();
    let since = (now - 10 * 86_400).to_string();
    let until = (now + 86_400).to_string();
    let r = insights(
        &c,
        "v26.0",
        &post,
        &page.access_token,
        &[
            ("metric", "post_clicks"),
            ("period", "day"),
            ("since", &since),
            ("until", &until),
        ],
    )
    .await;
    let values = r.json["data"][0]["values"].as_array().unwrap();
    assert!(
        values.iter().any(|v| v.get("value").is_none()),
        "{values:?}"
    );
    assert!(
        values.iter().any(|v| v.get("value").is_some()),
        "{values:?}"
    );
    assert!(values.iter().all(|v| v["end_time"].is_string()));
}

#[tokio::test]
async fn instagram_account_insights() {
    let (sb, c) = sandbox(5).await;
    let f = sb.fixtures();
    let ig = &f.pages[0].ig_user_id;
    let r = insights(
        &c,
        "v26.0",
        ig,
        &f.user_token,
        &[("metric", "reach,views"), ("period", "day")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["data"].as_array().unwrap().len(), 2);

    // The Instagram error names the position of the bad metric.
    let r = insights(
        &c,
        "v26.0",
        ig,
        &f.user_token,
        &[("metric", "reach,bogus,views")],
    )
    .await;
    assert_eq!(r.error_code(), 100);
    let msg = r.json["error"]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("(#100) metric[1] must be one of the following values: "),
        "{msg}"
    );
    assert!(
        !msg.contains("impressions"),
        "deprecated metrics are not offered: {msg}"
    );

    // impressions: retired in v22.
    let r = insights(
        &c,
        "v26.0",
        ig,
        &f.user_token,
        &[("metric", "reach,impressions")],
    )
    .await;
    assert_eq!(r.error_code(), 100);
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("impressions")
    );

    // total_value with a breakdown.
    let r = insights(
        &c,
        "v26.0",
        ig,
        &f.user_token,
        &[
            ("metric", "views"),
            ("period", "day"),
            ("metric_type", "total_value"),
            ("breakdown", "media_product_type"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let tv = &r.json["data"][0]["total_value"];
    let total = tv["value"].as_u64().unwrap();
    let parts: u64 = tv["breakdowns"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["value"].as_u64().unwrap())
        .sum();
    assert_eq!(parts, total);
    assert_eq!(
        tv["breakdowns"][0]["dimension_keys"][0],
        "media_product_type"
    );
    // breakdown without total_value is refused.
    let r = insights(
        &c,
        "v26.0",
        ig,
        &f.user_token,
        &[("metric", "views"), ("breakdown", "media_product_type")],
    )
    .await;
    assert_eq!(r.error_code(), 100);
    // metric_type on a Page is refused.
    let page = &f.pages[0];
    let r = insights(
        &c,
        "v26.0",
        &page.id,
        &page.access_token,
        &[("metric", "page_follows"), ("metric_type", "total_value")],
    )
    .await;
    assert_eq!(r.error_code(), 100);
}

#[tokio::test]
async fn instagram_media_insights() {
    let (sb, c) = sandbox(5).await;
    let media = publish_media(&sb, &c).await;
    let token = sb.fixtures().user_token.clone();
    let r = insights(
        &c,
        "v26.0",
        &media,
        &token,
        &[("metric", "reach,likes,saved")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["data"][0]["period"], "lifetime");
    assert!(r.json["data"][2]["values"][0]["value"].as_u64().is_some());
    let r = insights(&c, "v26.0", &media, &token, &[("metric", "reach,plays")]).await;
    assert_eq!(r.error_code(), 100);
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("plays")
    );
}
