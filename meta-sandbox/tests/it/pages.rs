use std::collections::HashSet;
use std::time::Duration;

use meta_sandbox::SandboxConfig;

use crate::common::{start, start_with};

#[tokio::test]
async fn me_accounts_lists_pages_with_tokens() {
    let (sandbox, client) = start().await;
    let f = sandbox.fixtures();
    let r = client
        .get("/v26.0/me/accounts", &[("access_token", &f.user_token)])
        .await;
    assert_eq!(r.status, 200);
    let data = r.json["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    for (item, page) in data.iter().zip(&f.pages) {
        assert_eq!(item["id"], page.id.as_str());
        assert_eq!(item["name"], page.name.as_str());
        assert_eq!(item["access_token"], page.access_token.as_str());
        assert!(item["category"].is_string());
        assert!(item["category_list"][0]["id"].is_string());
        assert!(
            item["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t == "CREATE_CONTENT")
        );
    }
    assert!(r.json["paging"]["cursors"]["before"].is_string());
    assert!(r.json["paging"]["cursors"]["after"].is_string());
    assert!(r.json["paging"].get("next").is_none());

    // Paginated with limit=2.
    let p1 = client
        .get(
            "/v26.0/me/accounts",
            &[("access_token", &f.user_token), ("limit", "2")],
        )
        .await;
    assert_eq!(p1.json["data"].as_array().unwrap().len(), 2);
    let next = p1.json["paging"]["next"].as_str().unwrap();
    let p2 = client.get_url(next).await;
    assert_eq!(p2.json["data"].as_array().unwrap().len(), 1);
    assert_eq!(p2.json["data"][0]["id"], f.pages[2].id.as_str());

    // A Page token has no accounts edge.
    let bad = client
        .get(
            "/v26.0/me/accounts",
            &[("access_token", &f.pages[0].access_token)],
        )
        .await;
    assert_eq!(bad.error_code(), 100);
}

#[tokio::test]
async fn page_node_fields() {
    let (sandbox, client) = start().await;
    let f = sandbox.fixtures();
    let page = &f.pages[1];
    let r = client
        .get(
            &format!("/v26.0/{}", page.id),
            &[("access_token", &f.user_token)],
        )
        .await;
    assert_eq!(
        r.json,
        serde_json::json!({"name": page.name, "id": page.id})
    );
    let r = client
        .get(
            &format!("/v26.0/{}", page.id),
            &[
                ("access_token", &f.user_token),
                ("fields", "access_token,instagram_business_account"),
            ],
        )
        .await;
    assert_eq!(r.json["access_token"], page.access_token.as_str());
    assert_eq!(
        r.json["instagram_business_account"]["id"],
        page.ig_user_id.as_str()
    );
    let ig = client
        .get(
            &format!("/v26.0/{}", page.ig_user_id),
            &[("access_token", &f.user_token)],
        )
        .await;
    assert_eq!(ig.json["id"], page.ig_user_id.as_str());
    let bad = client
        .get(
            &format!("/v26.0/{}", page.id),
            &[("access_token", &f.user_token), ("fields", "colour")],
        )
        .await;
    assert_eq!(
        bad.json["error"]["message"],
        "(#100) Tried accessing nonexisting field (colour) on node type (Page)"
    );
}

#[tokio::test]
async fn feed_walk_covers_every_post_once() {
    let (sandbox, client) = start().await;
    let f = sandbox.fixtures();
    let page = &f.pages[0];
    let mut seen = HashSet::new();
    let mut ordered = Vec::new();
    let mut resp = client
        .get(
            &format!("/v26.0/{}/feed", page.id),
            &[("access_token", &page.access_token)],
        )
        .await;
    let mut pages = 0;
    loop {
        pages += 1;
        let data = resp.json["data"].as_array().unwrap().clone();
        assert!(!data.is_empty());
        for item in &data {
            let id = item["id"].as_str().unwrap().to_owned();
            assert!(id.starts_with(&format!("{}_", page.id)));
            assert!(item["message"].is_string());
            assert!(item["created_time"].as_str().unwrap().ends_with("+0000"));
            assert!(seen.insert(id), "duplicate post");
            ordered.push(item["created_time"].as_str().unwrap().to_owned());
        }
        assert!(resp.json["paging"]["cursors"]["after"].is_string());
        match resp.json["paging"]["next"].as_str() {
            Some(next) => {
                assert!(next.starts_with(&format!("{}/v26.0/{}/feed?", client.base, page.id)));
                resp = client.get_url(next).await;
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 250);
    assert_eq!(pages, 10);
    let mut sorted = ordered.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(ordered, sorted, "feed must be newest first");
}

#[tokio::test]
async fn limit_is_clamped_and_previous_links_work() {
    let (sandbox, client) = start().await;
    let f = sandbox.fixtures();
    let page = &f.pages[0];
    let path = format!("/v26.0/{}/posts", page.id);
    let big = client
        .get(&path, &[("access_token", &f.user_token), ("limit", "1000")])
        .await;
    assert_eq!(big.json["data"].as_array().unwrap().len(), 100);
    let next = client
        .get_url(big.json["paging"]["next"].as_str().unwrap())
        .await;
    let prev = client
        .get_url(next.json["paging"]["previous"].as_str().unwrap())
        .await;
    assert_eq!(prev.json["data"], big.json["data"]);
    let bad = client
        .get(
            &path,
            &[("access_token", &f.user_token), ("after", "bm9wZQ")],
        )
        .await;
    assert_eq!(bad.error_code(), 100);
}

#[tokio::test]
async fn loop_page_repeats_its_cursor() {
    let (sandbox, client) = start().await;
    let f = sandbox.fixtures();
    let path = format!("/v26.0/{}/feed", f.loop_page_id);
    let p1 = client
        .get(&path, &[("access_token", &f.user_token), ("limit", "10")])
        .await;
    let p2 = client
        .get_url(p1.json["paging"]["next"].as_str().unwrap())
        .await;
    let a2 = p2.json["paging"]["cursors"]["after"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(
        p1.json["paging"]["cursors"]["after"],
        p2.json["paging"]["cursors"]["after"]
    );
    let mut current = p2;
    for _ in 0..5 {
        let next = current.json["paging"]["next"]
            .as_str()
            .expect("loop page always has next");
        current = client.get_url(next).await;
        assert_eq!(current.json["paging"]["cursors"]["after"], a2.as_str());
    }
}

#[tokio::test]
async fn publish_read_and_delete_a_post() {
    let (sandbox, client) = start().await;
    let f = sandbox.fixtures();
    let page = &f.pages[0];
    let feed = format!("/v26.0/{}/feed", page.id);

    let denied = client
        .post(&feed, &[("access_token", &f.user_token), ("message", "hi")])
        .await;
    assert_eq!(denied.status, 403);
    assert_eq!(denied.error_code(), 200);
    let other_page = client
        .post(
            &feed,
            &[
                ("access_token", &f.pages[1].access_token),
                ("message", "hi"),
            ],
        )
        .await;
    assert_eq!(other_page.error_code(), 200);
    let empty = client
        .post(&feed, &[("access_token", &page.access_token)])
        .await;
    assert_eq!(empty.error_code(), 100);

    let created = client
        .post(
            &feed,
            &[
                ("access_token", &page.access_token),
                ("message", "Hello from the sandbox"),
                ("link", "https://example.com/x"),
            ],
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.json);
    let id = created.json["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with(&format!("{}_", page.id)));

    let top = client
        .get(
            &feed,
            &[("access_token", &page.access_token), ("limit", "1")],
        )
        .await;
    assert_eq!(top.json["data"][0]["id"], id.as_str());
    assert_eq!(top.json["data"][0]["message"], "Hello from the sandbox");

    let read = client
        .get(
            &format!("/v26.0/{id}"),
            &[
                ("access_token", &page.access_token),
                ("fields", "id,link,is_published"),
            ],
        )
        .await;
    assert_eq!(read.json["link"], "https://example.com/x");
    assert_eq!(read.json["is_published"], true);

    // Query-string params are accepted for writes too.
    let via_query = client
        .http
        .post(format!("{}{feed}", client.base))
        .query(&[
            ("access_token", page.access_token.as_str()),
            ("message", "q"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(via_query.status(), 200);

    let denied = client
        .delete(&format!("/v26.0/{id}"), &[("access_token", &f.user_token)])
        .await;
    assert_eq!(denied.error_code(), 200);
    let deleted = client
        .delete(
            &format!("/v26.0/{id}"),
            &[("access_token", &page.access_token)],
        )
        .await;
    assert_eq!(deleted.json, serde_json::json!({"success": true}));
    let gone = client
        .get(
            &format!("/v26.0/{id}"),
            &[("access_token", &page.access_token)],
        )
        .await;
    assert_eq!(gone.error_code(), 100);
    assert_eq!(gone.subcode(), Some(33));

    let log = sandbox.control();
    assert_eq!(log.count("POST", "/feed"), 5);
    assert_eq!(
        log.requests()
            .iter()
            .filter(|r| r.method == "POST" && r.applied)
            .count(),
        2
    );
    assert_eq!(log.count("DELETE", &id), 2);
}

#[tokio::test]
async fn scheduled_posts_publish_on_the_sandbox_clock() {
    let (sandbox, client) = start_with(SandboxConfig::default().posts_per_page(5)).await;
    let f = sandbox.fixtures();
    let page = &f.pages[0];
    let feed = format!("/v26.0/{}/feed", page.id);
    let now = sandbox.control().now_unix();
    let too_soon = (now + 60).to_string();
    let r = client
        .post(
            &feed,
            &[
                ("access_token", &page.access_token),
                ("message", "later"),
                ("published", "false"),
                ("scheduled_publish_time", &too_soon),
            ],
        )
        .await;
    assert_eq!(r.error_code(), 100);
    let published_too = (now + 3600).to_string();
    let r = client
        .post(
            &feed,
            &[
                ("access_token", &page.access_token),
                ("message", "x"),
                ("scheduled_publish_time", &published_too),
            ],
        )
        .await;
    assert_eq!(r.error_code(), 100);

    let at = (now + 3600).to_string();
    let r = client
        .post(
            &feed,
            &[
                ("access_token", &page.access_token),
                ("message", "later"),
                ("published", "false"),
                ("scheduled_publish_time", &at),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let id = r.json["id"].as_str().unwrap().to_owned();
    let visible = client
        .get(&feed, &[("access_token", &page.access_token)])
        .await;
    assert_eq!(visible.json["data"].as_array().unwrap().len(), 5);
    let scheduled = client
        .get(
            &format!("/v26.0/{}/scheduled_posts", page.id),
            &[("access_token", &page.access_token)],
        )
        .await;
    assert_eq!(scheduled.json["data"][0]["id"], id.as_str());

    sandbox.control().advance_clock(Duration::from_secs(3601));
    let visible = client
        .get(&feed, &[("access_token", &page.access_token)])
        .await;
    assert_eq!(visible.json["data"].as_array().unwrap().len(), 6);
    assert_eq!(visible.json["data"][0]["id"], id.as_str());
}

#[tokio::test]
async fn ad_account_and_campaigns() {
    let (sandbox, client) = start().await;
    let f = sandbox.fixtures();
    let acct = &f.ad_accounts[0];
    let r = client
        .get(
            &format!("/v26.0/{}", acct.id),
            &[("access_token", &f.user_token)],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["id"], acct.id.as_str());
    assert_eq!(r.json["account_id"], acct.account_id.as_str());
    assert_eq!(r.json["name"], acct.name.as_str());
    assert_eq!(r.json["currency"], "USD");
    assert_eq!(r.json["account_status"], 1);
    let usage = r.header_json("x-ad-account-usage");
    assert!(usage["acc_id_util_pct"].is_f64());
    assert_eq!(usage["ads_api_access_tier"], "standard_access");
    let buc = r.header_json("x-business-use-case-usage");
    assert_eq!(buc[acct.account_id.as_str()][0]["type"], "ads_management");

    let path = format!("/v26.0/{}/campaigns", acct.id);
    let mut ids = HashSet::new();
    let mut resp = client
        .get(&path, &[("access_token", &f.user_token), ("limit", "7")])
        .await;
    loop {
        for c in resp.json["data"].as_array().unwrap() {
            assert!(c["objective"].as_str().unwrap().starts_with("OUTCOME_"));
            assert!(["ACTIVE", "PAUSED"].contains(&c["status"].as_str().unwrap()));
            assert!(ids.insert(c["id"].as_str().unwrap().to_owned()));
        }
        match resp.json["paging"]["next"].as_str() {
            Some(n) => resp = client.get_url(n).await,
            None => break,
        }
    }
    assert_eq!(ids.len(), 30);

    let denied = client
        .get(&path, &[("access_token", &f.pages[0].access_token)])
        .await;
    assert_eq!(denied.error_code(), 200);
    let unknown = client
        .get("/v26.0/act_1", &[("access_token", &f.user_token)])
        .await;
    assert_eq!(unknown.subcode(), Some(33));
}
