//! Instagram content publishing: container states on the sandbox clock, carousel rules,
//! the publishing quota, published media and the resumable-upload host.

use std::time::Duration;

use meta_sandbox::{InstagramConfig, SandboxConfig};
use serde_json::json;

use crate::common::{Client, Resp, start_with};

struct Ig {
    sb: meta_sandbox::Sandbox,
    c: Client,
    token: String,
    ig: String,
}

async fn ig_with(config: InstagramConfig) -> Ig {
    let (sb, c) = start_with(SandboxConfig::default().posts_per_page(3).instagram(config)).await;
    let token = sb.fixtures().user_token.clone();
    let ig = sb.fixtures().pages[0].ig_user_id.clone();
    Ig { sb, c, token, ig }
}

impl Ig {
    async fn create(&self, form: &[(&str, &str)]) -> Resp {
        let mut f = form.to_vec();
        f.push(("access_token", &self.token));
        self.c.post(&format!("/v26.0/{}/media", self.ig), &f).await
    }
    async fn status(&self, id: &str) -> Resp {
        self.c
            .get(
                &format!("/v26.0/{id}"),
                &[
                    ("fields", "id,status_code,status"),
                    ("access_token", &self.token),
                ],
            )
            .await
    }
    async fn code(&self, id: &str) -> String {
        let r = self.status(id).await;
        r.json["status_code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
    async fn publish(&self, id: &str) -> Resp {
        self.c
            .post(
                &format!("/v26.0/{}/media_publish", self.ig),
                &[("creation_id", id), ("access_token", &self.token)],
            )
            .await
    }
    fn advance(&self, secs: u64) {
        self.sb.control().advance_clock(Duration::from_secs(secs));
    }
}

fn id_of(r: &Resp) -> String {
    assert_eq!(r.status, 200, "{}", r.json);
    r.json["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_image_container_goes_in_progress_finished_published() {
    let t = ig_with(InstagramConfig::default()).await;
    let id = id_of(
        &t.create(&[
            ("image_url", "https://cdn.example.com/a.jpg"),
            ("caption", "hi #x"),
        ])
        .await,
    );
    assert_eq!(t.code(&id).await, "IN_PROGRESS");
    // Without fields, a container answers with its id only.
    let bare =
        t.c.get(&format!("/v26.0/{id}"), &[("access_token", &t.token)])
            .await;
    assert_eq!(bare.json, json!({ "id": id }));
    let early = t.publish(&id).await;
    assert_eq!(
        (early.error_code(), early.subcode()),
        (9007, Some(2_207_027))
    );
    t.advance(5);
    assert_eq!(t.code(&id).await, "FINISHED");
    let media = id_of(&t.publish(&id).await);
    assert_eq!(t.code(&id).await, "PUBLISHED");
    let m =
        t.c.get(
            &format!("/v26.0/{media}"),
            &[
                (
                    "fields",
                    "id,caption,media_type,media_product_type,permalink,timestamp",
                ),
                ("access_token", &t.token),
            ],
        )
        .await;
    assert_eq!(m.json["media_type"], "IMAGE");
    assert_eq!(m.json["media_product_type"], "FEED");
    assert_eq!(m.json["caption"], "hi #x");
    // Publishing the same container twice is refused.
    let again = t.publish(&id).await;
    assert_eq!(again.error_code(), 100);
    let list =
        t.c.get(
            &format!("/v26.0/{}/media", t.ig),
            &[("access_token", &t.token)],
        )
        .await;
    assert_eq!(list.json["data"], json!([{ "id": media }]));
}

#[tokio::test]
async fn unreachable_and_non_jpeg_media_end_in_error_and_containers_expire() {
    let t = ig_with(InstagramConfig::default()).await;
    let png = id_of(
        &t.create(&[("image_url", "https://cdn.example.com/a.png")])
            .await,
    );
    let gone = id_of(
        &t.create(&[("image_url", "https://unreachable.invalid/a.jpg")])
            .await,
    );
    let missing = id_of(
        &t.create(&[
            ("media_type", "REELS"),
            ("video_url", "https://cdn.example.com/404/v.mp4"),
        ])
        .await,
    );
    let fine = id_of(
        &t.create(&[("image_url", "https://cdn.example.com/b.jpg")])
            .await,
    );
    t.advance(30);
    let s = t.status(&png).await;
    assert_eq!(s.json["status_code"], "ERROR");
    assert!(
        s.json["status"].as_str().unwrap().contains("2207026"),
        "{}",
        s.json
    );
    for id in [&gone, &missing] {
        let s = t.status(id).await;
        assert_eq!(s.json["status_code"], "ERROR");
        assert!(s.json["status"].as_str().unwrap().starts_with("Error:"));
        assert!(s.json["status"].as_str().unwrap().contains("2207052"));
    }
    assert_eq!(t.publish(&png).await.error_code(), 100);
    assert_eq!(t.code(&fine).await, "FINISHED");
    t.advance(24 * 3600);
    assert_eq!(t.code(&fine).await, "EXPIRED");
    assert_eq!(t.publish(&fine).await.error_code(), 100);
}

#[tokio::test]
async fn carousel_rules() {
    let t = ig_with(InstagramConfig::default()).await;
    let mut items = Vec::new();
    for url in [
        "https://cdn.example.com/a.jpg",
        "https://cdn.example.com/b.jpg",
    ] {
        items.push(id_of(
            &t.create(&[("image_url", url), ("is_carousel_item", "true")])
                .await,
        ));
    }
    let (a, b) = (items[0].clone(), items[1].clone());
    let not_item = id_of(
        &t.create(&[("image_url", "https://cdn.example.com/c.jpg")])
            .await,
    );
    let ab = format!("{a},{b}");
    // Children must be finished.
    let r = t
        .create(&[("media_type", "CAROUSEL"), ("children", &ab)])
        .await;
    assert_eq!((r.error_code(), r.subcode()), (9007, Some(2_207_027)));
    t.advance(5);
    // One child, eleven children, a non-item child.
    let one = t
        .create(&[("media_type", "CAROUSEL"), ("children", &a)])
        .await;
    assert_eq!(one.error_code(), 100);
    let eleven = vec![a.clone(); 11].join(",");
    assert_eq!(
        t.create(&[("media_type", "CAROUSEL"), ("children", &eleven)])
            .await
            .error_code(),
        100
    );
    let mixed = format!("{a},{not_item}");
    assert_eq!(
        t.create(&[("media_type", "CAROUSEL"), ("children", &mixed)])
            .await
            .error_code(),
        100
    );
    // Reels cannot be items, VIDEO is for items only, items are not published alone.
    let reel_item = t
        .create(&[
            ("media_type", "REELS"),
            ("video_url", "https://cdn.example.com/v.mp4"),
            ("is_carousel_item", "true"),
        ])
        .await;
    assert_eq!(reel_item.error_code(), 100);
    let video = t
        .create(&[
            ("media_type", "VIDEO"),
            ("video_url", "https://cdn.example.com/v.mp4"),
        ])
        .await;
    assert_eq!(video.error_code(), 100);
    assert_eq!(t.publish(&a).await.error_code(), 100);

    let carousel = id_of(
        &t.create(&[
            ("media_type", "CAROUSEL"),
            ("children", &ab),
            ("caption", "two"),
        ])
        .await,
    );
    t.advance(5);
    let media = id_of(&t.publish(&carousel).await);
    let m =
        t.c.get(
            &format!("/v26.0/{media}"),
            &[
                ("fields", "media_type,children"),
                ("access_token", &t.token),
            ],
        )
        .await;
    assert_eq!(m.json["media_type"], "CAROUSEL_ALBUM");
    assert_eq!(m.json["children"]["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_publishing_quota_is_enforced_and_reported() {
    let t = ig_with(
        InstagramConfig::default()
            .quota_total(2)
            .image_processing(Duration::ZERO),
    )
    .await;
    let path = format!("/v26.0/{}/content_publishing_limit", t.ig);
    let bare = t.c.get(&path, &[("access_token", &t.token)]).await;
    assert_eq!(bare.json, json!({"data": [{"quota_usage": 0}]}));
    for i in 0..2 {
        let url = format!("https://cdn.example.com/{i}.jpg");
        let id = id_of(&t.create(&[("image_url", &url)]).await);
        id_of(&t.publish(&id).await);
    }
    let full =
        t.c.get(
            &path,
            &[("fields", "quota_usage,config"), ("access_token", &t.token)],
        )
        .await;
    assert_eq!(
        full.json,
        json!({"data": [{"quota_usage": 2, "config": {"quota_total": 2, "quota_duration": 86400}}]})
    );
    let id = id_of(
        &t.create(&[("image_url", "https://cdn.example.com/x.jpg")])
            .await,
    );
    let refused = t.publish(&id).await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        (refused.error_code(), refused.subcode()),
        (9, Some(2_207_042))
    );
    assert_eq!(refused.json["error"]["is_transient"], false);
    assert_eq!(
        t.code(&id).await,
        "FINISHED",
        "a refused publish changes nothing"
    );
    // The window moves: 24 h later the account may publish again.
    t.advance(24 * 3600 + 1);
    let id = id_of(
        &t.create(&[("image_url", "https://cdn.example.com/y.jpg")])
            .await,
    );
    id_of(&t.publish(&id).await);
}

#[tokio::test]
async fn another_pages_token_may_not_publish_for_this_account() {
    let t = ig_with(InstagramConfig::default()).await;
    let other = t.sb.fixtures().pages[1].access_token.clone();
    let r =
        t.c.post(
            &format!("/v26.0/{}/media", t.ig),
            &[
                ("image_url", "https://cdn.example.com/a.jpg"),
                ("access_token", &other),
            ],
        )
        .await;
    assert_eq!(r.error_code(), 10);
    let own = t.sb.fixtures().pages[0].access_token.clone();
    let r =
        t.c.post(
            &format!("/v26.0/{}/media", t.ig),
            &[
                ("image_url", "https://cdn.example.com/a.jpg"),
                ("access_token", &own),
            ],
        )
        .await;
    id_of(&r);
}

#[tokio::test]
async fn resumable_upload_host() {
    let t = ig_with(InstagramConfig::default()).await;
    let r = t
        .create(&[("media_type", "REELS"), ("upload_type", "resumable")])
        .await;
    let id = id_of(&r);
    let uri = r.json["uri"].as_str().unwrap().to_owned();
    assert_eq!(uri, format!("{}/ig-api-upload/v26.0/{id}", t.sb.base_url()));
    t.advance(3600);
    assert_eq!(t.code(&id).await, "IN_PROGRESS", "waits for the bytes");

    let send = |auth: Option<String>, file_size: &'static str, body: Vec<u8>| {
        let mut req =
            t.c.http
                .post(&uri)
                .header("offset", "0")
                .header("file_size", file_size)
                .body(body);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, body) = send(None, "4", vec![1, 2, 3, 4]).await;
    assert_eq!((status, body["error"]["code"].as_i64()), (400, Some(190)));
    let auth = Some(format!("OAuth {}", t.token));
    let (status, body) = send(auth.clone(), "5", vec![1, 2, 3, 4]).await;
    assert_eq!((status, body["error"]["code"].as_i64()), (400, Some(100)));
    let (status, body) = send(auth.clone(), "4", vec![1, 2, 3, 4]).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"success": true, "message": "Upload successful."})
    );
    assert_eq!(t.code(&id).await, "IN_PROGRESS");
    t.advance(30);
    assert_eq!(t.code(&id).await, "FINISHED");
    // A second upload to the same container is refused.
    let (status, _) = send(auth, "4", vec![1, 2, 3, 4]).await;
    assert_eq!(status, 400);
    let uploads = t.sb.control().count("POST", &id);
    assert_eq!(uploads, 4);
}
