use std::collections::HashSet;

use futures_util::{StreamExt, TryStreamExt};
use meta_sandbox::SandboxConfig;
use serde_json::Value;

use crate::{builder, sandbox};

#[tokio::test]
async fn walks_every_post_once_and_stops_at_the_missing_next() {
    let sb = sandbox(SandboxConfig::default()).await;
    let page = &sb.fixtures().pages[0];
    let client = builder(&sb)
        .access_token(page.access_token.clone())
        .build()
        .unwrap();
    let mut pages = client
        .paginate::<Value>(&format!("{}/feed", page.id), [("limit", "25")])
        .pages();
    let (mut n, mut ids) = (0, HashSet::new());
    while let Some(p) = pages.try_next().await.unwrap() {
        n += 1;
        for item in p.page.data {
            assert!(
                ids.insert(item["id"].as_str().unwrap().to_owned()),
                "duplicate item"
            );
        }
    }
    assert_eq!(ids.len(), 250);
    assert_eq!(n, 10);
    // One request per page: nothing fetched past the last page (which has `after` but no `next`).
    assert_eq!(sb.control().count("GET", "/feed"), 10);
}

#[tokio::test]
async fn fetches_nothing_ahead_of_demand() {
    let sb = sandbox(SandboxConfig::default()).await;
    let page = &sb.fixtures().pages[0];
    let client = builder(&sb)
        .access_token(page.access_token.clone())
        .build()
        .unwrap();
    let mut items = client.paginate::<Value>(&format!("{}/feed", page.id), [("limit", "25")]);
    assert_eq!(
        sb.control().count("GET", "/feed"),
        0,
        "created but not polled"
    );
    let _ = items.next().await.unwrap().unwrap();
    assert_eq!(sb.control().count("GET", "/feed"), 1);
    for _ in 0..24 {
        items.next().await.unwrap().unwrap();
    }
    assert_eq!(
        sb.control().count("GET", "/feed"),
        1,
        "the 25 buffered items need no request"
    );
    items.next().await.unwrap().unwrap();
    assert_eq!(sb.control().count("GET", "/feed"), 2);
}

#[tokio::test]
async fn stops_when_a_cursor_repeats() {
    let sb = sandbox(SandboxConfig::default()).await;
    let fx = sb.fixtures();
    let client = builder(&sb)
        .access_token(fx.user_token.clone())
        .build()
        .unwrap();
    let loop_token = fx
        .pages
        .iter()
        .find(|p| p.id == fx.loop_page_id)
        .map_or_else(
            || fx.pages[0].access_token.clone(),
            |p| p.access_token.clone(),
        );
    let client = client.with_access_token(loop_token.into());
    let all = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        client
            .paginate::<Value>(&format!("{}/feed", fx.loop_page_id), [("limit", "10")])
            .collect_all(),
    )
    .await
    .expect("the repeated-cursor guard ends the stream")
    .unwrap();
    assert!(!all.is_empty());
    let requests = sb.control().count("GET", "/feed");
    assert!(
        requests <= 5,
        "stopped soon after the cursor repeated, made {requests} requests"
    );
}

#[tokio::test]
async fn resumes_from_a_saved_cursor_without_overlap() {
    let sb = sandbox(SandboxConfig::default()).await;
    let page = &sb.fixtures().pages[1];
    let client = builder(&sb)
        .access_token(page.access_token.clone())
        .build()
        .unwrap();
    let path = format!("{}/feed", page.id);
    let mut first = client.paginate::<Value>(&path, [("limit", "50")]).pages();
    let p1 = first.try_next().await.unwrap().unwrap();
    let cursor = first.cursor().expect("a cursor to resume from");
    drop(first);
    let rest: Vec<Value> = client
        .paginate(&path, [("limit", "50")])
        .resume_after(cursor)
        .collect_all()
        .await
        .unwrap();
    let seen: HashSet<&str> = p1
        .page
        .data
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(p1.page.data.len() + rest.len(), 250);
    assert!(
        rest.iter()
            .all(|v| !seen.contains(v["id"].as_str().unwrap()))
    );
}

#[tokio::test]
async fn max_items_bounds_the_stream_and_usage_travels_with_pages() {
    let sb = sandbox(SandboxConfig::default()).await;
    let page = &sb.fixtures().pages[0];
    let client = builder(&sb)
        .access_token(page.access_token.clone())
        .build()
        .unwrap();
    let items: Vec<Value> = client
        .paginate(&format!("{}/feed", page.id), [("limit", "100")])
        .max_items(120)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(items.len(), 120);
    let mut pages = client
        .paginate::<Value>(&format!("{}/feed", page.id), ())
        .pages();
    let p = pages.try_next().await.unwrap().unwrap();
    assert!(p.usage.app.is_some(), "X-App-Usage parsed on every page");
}
