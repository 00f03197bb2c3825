//! Business portfolios: the node and its owned/client Page edges with Page tokens.

use crate::common::start;

#[tokio::test]
async fn owned_and_client_pages_with_tokens() {
    let (sandbox, client) = start().await;
    let f = sandbox.fixtures().clone();
    let b = &f.business;
    assert_eq!(b.owned_page_ids.len(), f.pages.len() - 1);
    assert_eq!(b.client_page_ids, vec![f.pages.last().unwrap().id.clone()]);

    let node = client
        .get(
            &format!("/v26.0/{}", b.id),
            &[("access_token", &f.user_token)],
        )
        .await;
    assert_eq!(node.status, 200, "{}", node.json);
    assert_eq!(node.json["id"], b.id.as_str());
    assert_eq!(node.json["name"], b.name.as_str());

    let owned = client
        .get(
            &format!("/v26.0/{}/owned_pages", b.id),
            &[
                ("access_token", &f.user_token),
                ("fields", "id,name,access_token"),
            ],
        )
        .await;
    assert_eq!(owned.status, 200, "{}", owned.json);
    let data = owned.json["data"].as_array().unwrap();
    let ids: Vec<&str> = data.iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        b.owned_page_ids
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    // A long-lived user token gives each Page's permanent token.
    for (item, page) in data.iter().zip(&f.pages) {
        assert_eq!(item["access_token"], page.access_token.as_str());
        assert_eq!(item["name"], page.name.as_str());
    }
    assert!(owned.json["paging"]["cursors"]["after"].is_string());

    let clients = client
        .get(
            &format!("/v26.0/{}/client_pages", b.id),
            &[("access_token", &f.user_token)],
        )
        .await;
    let data = clients.json["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    // Default fields are id and name only: no token unless asked for.
    assert_eq!(data[0]["id"], b.client_page_ids[0].as_str());
    assert!(data[0].get("access_token").is_none());
}

#[tokio::test]
async fn pagination_and_errors() {
    let (sandbox, client) = start().await;
    let f = sandbox.fixtures().clone();
    let b = &f.business;
    let first = client
        .get(
            &format!("/v26.0/{}/owned_pages", b.id),
            &[("access_token", &f.user_token), ("limit", "1")],
        )
        .await;
    assert_eq!(first.json["data"].as_array().unwrap().len(), 1);
    let next = first.json["paging"]["next"].as_str().unwrap().to_owned();
    let second = client.get_url(&next).await;
    assert_eq!(second.json["data"][0]["id"], b.owned_page_ids[1].as_str());
    assert!(second.json["paging"].get("next").is_none());

    // A Page token is not a business admin.
    let page_token = client
        .get(
            &format!("/v26.0/{}/owned_pages", b.id),
            &[("access_token", &f.pages[0].access_token)],
        )
        .await;
    assert_eq!(page_token.status, 403);
    assert_eq!(page_token.error_code(), 200);

    // `tasks` belongs to /me/accounts, not to the Page node.
    let bad_field = client
        .get(
            &format!("/v26.0/{}/owned_pages", b.id),
            &[("access_token", &f.user_token), ("fields", "id,tasks")],
        )
        .await;
    assert_eq!(bad_field.error_code(), 100);
    let unknown_edge = client
        .get(
            &format!("/v26.0/{}/pending_pages", b.id),
            &[("access_token", &f.user_token)],
        )
        .await;
    assert_eq!(unknown_edge.error_code(), 2500);

    let info = sandbox.info_json();
    assert_eq!(info["business"]["id"], b.id.as_str());
    assert_eq!(
        info["ig_login"]["ig_user_id"],
        f.ig_login.ig_user_id.as_str()
    );
}
