//! Comments and live videos over HTTP: paging with Meta's cursors and `next` links, the
//! options of `/comments`, moderation and its errors, live videos and `end_live_video`.

use std::collections::HashSet;

use meta_sandbox::SandboxConfig;

use crate::common::{Client, start, start_with};

async fn newest_post(client: &Client, page: &str, token: &str) -> String {
    let r = client
        .get(
            &format!("/v26.0/{page}/feed"),
            &[("access_token", token), ("limit", "1")],
        )
        .await;
    r.json["data"][0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn comment_lists_page_with_cursors_and_next_links() {
    let (sb, client) = start_with(SandboxConfig::default().live_comments(230)).await;
    let page = &sb.fixtures().pages[0];
    let live = sb.control().live_video_id(&page.id).unwrap();
    let t = page.access_token.as_str();
    let mut url: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let r = match &url {
            None => {
                client
                    .get(
                        &format!("/v26.0/{live}/comments"),
                        &[
                            ("access_token", t),
                            ("limit", "100"),
                            ("live_filter", "no_filter"),
                        ],
                    )
                    .await
            }
            Some(u) => client.get_url(u).await,
        };
        assert_eq!(r.status, 200, "{}", r.json);
        for c in r.json["data"].as_array().unwrap() {
            seen.push(c["id"].as_str().unwrap().to_owned());
            // Graph's default comment fields.
            assert!(c["created_time"].as_str().unwrap().ends_with("+0000"));
            assert!(c["from"]["id"].is_string() && c["message"].is_string());
        }
        // `after` is there on every page, `next` only while there is more.
        assert!(r.json["paging"]["cursors"]["after"].is_string());
        match r.json["paging"]["next"].as_str() {
            Some(n) => url = Some(n.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 230);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 230);
    assert_eq!(seen, sb.control().comment_ids(&live));
}

#[tokio::test]
async fn comment_options_follow_the_spec() {
    let (sb, client) = start().await;
    let page = &sb.fixtures().pages[0];
    let t = page.access_token.as_str();
    let post = newest_post(&client, &page.id, t).await;
    let get = |q: Vec<(&'static str, String)>| {
        let client = &client;
        let post = post.clone();
        async move {
            let mut query: Vec<(&str, &str)> = vec![("access_token", t)];
            query.extend(q.iter().map(|(k, v)| (*k, v.as_str())));
            client.get(&format!("/v26.0/{post}/comments"), &query).await
        }
    };
    let top = get(vec![]).await;
    assert_eq!(top.json["data"].as_array().unwrap().len(), 12);
    let stream = get(vec![("filter", "stream".into()), ("limit", "100".into())]).await;
    assert_eq!(stream.json["data"].as_array().unwrap().len(), 18);
    let rev = get(vec![("order", "reverse_chronological".into())]).await;
    assert_eq!(rev.json["data"][0]["id"], top.json["data"][11]["id"]);
    let fields = get(vec![(
        "fields",
        "id,is_hidden,can_reply_privately,parent".into(),
    )])
    .await;
    let first = &fields.json["data"][0];
    assert_eq!(first["is_hidden"], false);
    assert_eq!(first["can_reply_privately"], true);
    assert!(first.get("message").is_none());
    // Unknown field and bad enum: code 100.
    let bad = get(vec![("fields", "id,nope".into())]).await;
    assert_eq!(bad.error_code(), 100);
    assert!(
        bad.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("(Comment)")
    );
    let bad = get(vec![("order", "newest".into())]).await;
    assert_eq!(bad.error_code(), 100);
    let bad = get(vec![("since", "soon".into())]).await;
    assert_eq!(bad.error_code(), 100);
    // A cursor from another order is refused.
    let after = top.json["paging"]["cursors"]["after"]
        .as_str()
        .unwrap()
        .to_owned();
    let bad = get(vec![
        ("order", "reverse_chronological".into()),
        ("after", after),
    ])
    .await;
    assert_eq!(bad.error_code(), 100);
}

#[tokio::test]
async fn moderation_reply_hide_delete_and_their_errors() {
    let (sb, client) = start().await;
    let f = sb.fixtures();
    let page = &f.pages[0];
    let t = page.access_token.as_str();
    let post = newest_post(&client, &page.id, t).await;
    let c = sb.control().comment_ids(&post)[0].clone();

    let r = client
        .post(
            &format!("/v26.0/{c}/comments"),
            &[("access_token", t), ("message", "Thanks!")],
        )
        .await;
    let reply = r.json["id"].as_str().unwrap().to_owned();
    assert!(sb.control().comment_ids(&c).contains(&reply));
    let r = client
        .post(&format!("/v26.0/{c}/comments"), &[("access_token", t)])
        .await;
    assert_eq!(r.error_code(), 100);

    // is_hidden with the Page token; the user token is refused with #200 (HTTP 403).
    let r = client
        .post(
            &format!("/v26.0/{c}"),
            &[
                ("access_token", f.user_token.as_str()),
                ("is_hidden", "true"),
            ],
        )
        .await;
    assert_eq!((r.status, r.error_code()), (403, 200));
    let r = client
        .post(
            &format!("/v26.0/{c}"),
            &[("access_token", t), ("is_hidden", "true")],
        )
        .await;
    assert_eq!(r.json, serde_json::json!({"success": true}));
    let r = client
        .get(
            &format!("/v26.0/{c}"),
            &[("access_token", t), ("fields", "is_hidden")],
        )
        .await;
    assert_eq!(r.json["is_hidden"], true);
    // Instagram's parameter means nothing to a Facebook comment.
    let r = client
        .post(
            &format!("/v26.0/{c}"),
            &[("access_token", t), ("hide", "true")],
        )
        .await;
    assert_eq!(r.error_code(), 100);

    let r = client
        .delete(&format!("/v26.0/{c}"), &[("access_token", t)])
        .await;
    assert_eq!(r.json["success"], true);
    let r = client
        .get(&format!("/v26.0/{reply}"), &[("access_token", t)])
        .await;
    assert_eq!(
        (r.error_code(), r.subcode()),
        (100, Some(33)),
        "replies go with it"
    );
}

#[tokio::test]
async fn live_videos_filter_by_status_and_end() {
    let (sb, client) = start().await;
    let page = &sb.fixtures().pages[0];
    let t = page.access_token.as_str();
    let list = |status: &'static str| {
        let client = &client;
        let page = page.id.clone();
        async move {
            client
                .get(
                    &format!("/v26.0/{page}/live_videos"),
                    &[
                        ("access_token", t),
                        ("broadcast_status", status),
                        ("fields", "id,status,title"),
                    ],
                )
                .await
        }
    };
    let live = list(r#"["LIVE"]"#).await;
    assert_eq!(live.json["data"].as_array().unwrap().len(), 1);
    let id = live.json["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        list("LIVE,VOD").await.json["data"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(list(r#"["NOPE"]"#).await.error_code(), 100);

    let r = client
        .post(
            &format!("/v26.0/{id}"),
            &[("access_token", t), ("end_live_video", "true")],
        )
        .await;
    assert_eq!(r.json["id"], id.as_str());
    let r = client
        .get(
            &format!("/v26.0/{id}"),
            &[("access_token", t), ("fields", "status")],
        )
        .await;
    assert_eq!(r.json["status"], "VOD");
    assert!(
        list(r#"["LIVE"]"#).await.json["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let r = client
        .post(
            &format!("/v26.0/{id}"),
            &[("access_token", t), ("end_live_video", "true")],
        )
        .await;
    assert_eq!(r.error_code(), 100);
    // Another Page's token may not end it.
    let other = sb.fixtures().pages[1].access_token.as_str();
    let r = client
        .post(
            &format!("/v26.0/{id}"),
            &[("access_token", other), ("title", "x")],
        )
        .await;
    assert_eq!(r.error_code(), 200);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_comments() {
    let (a, _) = start().await;
    let (b, _) = start().await;
    let page = &a.fixtures().pages[0].id;
    let la = a.control().live_video_id(page).unwrap();
    assert_eq!(Some(la.clone()), b.control().live_video_id(page));
    assert_eq!(a.control().comment_ids(&la), b.control().comment_ids(&la));
}
