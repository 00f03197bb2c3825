//! Page photos, multi-photo posts and videos on the wire: multipart bodies, Meta's error
//! codes, and the chunked upload's offsets.

use serde_json::Value;

use crate::common::{Client, Resp, start};

const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01sandbox";

/// POSTs a multipart body with text `fields` and one file part.
async fn multipart(
    client: &Client,
    path: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &str, &[u8])>,
) -> Resp {
    let boundary = "----TestBoundaryAbC123";
    let mut body: Vec<u8> = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, ct, data)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"f.bin\"\r\nContent-Type: {ct}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let resp = client
        .http
        .post(format!("{}{path}", client.base))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let json: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    Resp {
        status,
        headers,
        json,
    }
}

#[tokio::test]
async fn photos_by_url_and_multipart_source() {
    let (sandbox, client) = start().await;
    let page = &sandbox.fixtures().pages[0];
    let path = format!("/v26.0/{}/photos", page.id);
    let token = page.access_token.as_str();

    let r = client
        .post(
            &path,
            &[
                ("access_token", token),
                ("url", "https://cdn.example.com/a.jpg"),
                ("caption", "A"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert!(r.json["id"].is_string());
    let post_id = r.json["post_id"].as_str().unwrap();
    assert!(post_id.starts_with(&format!("{}_", page.id)));

    let r = multipart(
        &client,
        &path,
        &[("access_token", token), ("published", "false")],
        Some(("source", "image/jpeg", JPEG)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert!(
        r.json.get("post_id").is_none(),
        "unpublished photos have no story"
    );

    // Meta's errors: unreachable URL, nothing to upload, bytes that are not an image.
    let r = client
        .post(
            &path,
            &[
                ("access_token", token),
                ("url", "https://img.invalid/a.jpg"),
            ],
        )
        .await;
    assert_eq!((r.error_code(), r.subcode()), (100, Some(3_858_258)));
    let r = client.post(&path, &[("access_token", token)]).await;
    assert_eq!(r.error_code(), 324);
    let r = multipart(
        &client,
        &path,
        &[("access_token", token)],
        Some(("source", "image/jpeg", b"not an image")),
    )
    .await;
    assert_eq!(r.error_code(), 324);
    assert_eq!(
        r.json["error"]["message"],
        "(#324) Missing or invalid image file"
    );
    // A user token may not publish.
    let r = client
        .post(
            &path,
            &[
                ("access_token", sandbox.fixtures().user_token.as_str()),
                ("url", "https://cdn.example.com/a.jpg"),
            ],
        )
        .await;
    assert_eq!((r.status, r.error_code()), (403, 200));
    // Scheduling outside the window is Meta's code 100.
    let r = client
        .post(
            &path,
            &[
                ("access_token", token),
                ("url", "https://cdn.example.com/a.jpg"),
                ("published", "false"),
                (
                    "scheduled_publish_time",
                    &(sandbox.control().now_unix() + 60).to_string(),
                ),
            ],
        )
        .await;
    assert_eq!(
        r.json["error"]["message"],
        "(#100) The specified scheduled publish time is invalid."
    );
}

#[tokio::test]
async fn attached_media_takes_unpublished_photos_of_the_page_once() {
    let (sandbox, client) = start().await;
    let page = &sandbox.fixtures().pages[0];
    let other = &sandbox.fixtures().pages[1];
    let token = page.access_token.as_str();
    let photo = |t: &'static str, page_id: String, token: String| {
        let client = &client;
        async move {
            client
                .post(
                    &format!("/v26.0/{page_id}/photos"),
                    &[
                        ("access_token", token.as_str()),
                        ("url", "https://cdn.example.com/x.jpg"),
                        ("published", t),
                    ],
                )
                .await
                .json["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let a = photo("false", page.id.clone(), page.access_token.clone()).await;
    let b = photo("false", page.id.clone(), page.access_token.clone()).await;
    let published = photo("true", page.id.clone(), page.access_token.clone()).await;
    let foreign = photo("false", other.id.clone(), other.access_token.clone()).await;
    let feed = format!("/v26.0/{}/feed", page.id);
    for bad in [
        format!(r#"[{{"media_fbid":"{published}"}}]"#),
        format!(r#"[{{"media_fbid":"{foreign}"}}]"#),
        r#"[{"media_fbid":"404"}]"#.to_owned(),
        format!(r#"[{{"media_fbid":"{a}"}},{{"media_fbid":"{a}"}}]"#),
        "[]".to_owned(),
        "nope".to_owned(),
    ] {
        let r = client
            .post(
                &feed,
                &[("access_token", token), ("attached_media", bad.as_str())],
            )
            .await;
        assert_eq!(r.error_code(), 100, "{bad}: {}", r.json);
    }
    let media = format!(r#"[{{"media_fbid":"{a}"}},{{"media_fbid":{b}}}]"#);
    let r = client
        .post(
            &feed,
            &[
                ("access_token", token),
                ("message", "two"),
                ("attached_media", media.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let post = r.json["id"].as_str().unwrap().to_owned();
    let node = client
        .get(
            &format!("/v26.0/{a}"),
            &[
                ("access_token", token),
                ("fields", "page_story_id,published"),
            ],
        )
        .await;
    assert_eq!(node.json["page_story_id"], post.as_str());
    // Once attached, a photo cannot be attached again.
    let r = client
        .post(
            &feed,
            &[("access_token", token), ("attached_media", media.as_str())],
        )
        .await;
    assert_eq!(r.error_code(), 100);
}

#[tokio::test]
async fn chunked_upload_phases_and_offsets() {
    let (sandbox, client) = start().await;
    let page = &sandbox.fixtures().pages[0];
    let token = page.access_token.as_str();
    let path = format!("/v26.0/{}/videos", page.id);
    let size = 1_572_864usize; // 1.5 MiB → 1 MiB + 0.5 MiB
    let data: Vec<u8> = (0..size).map(|i| (i % 7) as u8).collect();

    let r = client
        .post(&path, &[("access_token", token), ("upload_phase", "start")])
        .await;
    assert_eq!(r.error_code(), 100, "file_size is required");
    let r = client
        .post(
            &path,
            &[
                ("access_token", token),
                ("upload_phase", "start"),
                ("file_size", &size.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    // Meta sends offsets as strings.
    assert_eq!(r.json["start_offset"], "0");
    assert_eq!(r.json["end_offset"], "1048576");
    let session = r.json["upload_session_id"].as_str().unwrap().to_owned();
    let video = r.json["video_id"].as_str().unwrap().to_owned();

    let transfer = |start: usize, end: usize| {
        let (client, path, session, data) = (&client, &path, &session, &data);
        async move {
            multipart(
                client,
                path,
                &[
                    ("access_token", token),
                    ("upload_phase", "transfer"),
                    ("upload_session_id", session),
                    ("start_offset", &start.to_string()),
                ],
                Some((
                    "video_file_chunk",
                    "application/octet-stream",
                    &data[start..end],
                )),
            )
            .await
        }
    };
    // Finishing early is refused with the offsets still expected.
    let early = client
        .post(
            &path,
            &[
                ("access_token", token),
                ("upload_phase", "finish"),
                ("upload_session_id", &session),
            ],
        )
        .await;
    assert_eq!(early.subcode(), Some(1_363_037));

    let r = transfer(0, 1_048_576).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["start_offset"], "1048576");
    assert_eq!(r.json["end_offset"], "1572864");
    // Re-sending the first chunk: Meta's offset error, with where to resume.
    let r = transfer(0, 1_048_576).await;
    assert_eq!((r.error_code(), r.subcode()), (6001, Some(1_363_037)));
    assert_eq!(r.json["error"]["is_transient"], false);
    assert_eq!(
        r.json["error"]["error_data"],
        serde_json::json!({"start_offset": "1048576", "end_offset": "1572864"})
    );
    let r = transfer(1_048_576, size).await;
    assert_eq!(r.json["start_offset"], r.json["end_offset"]);
    let r = client
        .post(
            &path,
            &[
                ("access_token", token),
                ("upload_phase", "finish"),
                ("upload_session_id", &session),
                ("title", "T"),
            ],
        )
        .await;
    assert_eq!(r.json, serde_json::json!({"success": true}));
    let node = client
        .get(
            &format!("/v26.0/{video}"),
            &[("access_token", token), ("fields", "title,status")],
        )
        .await;
    assert_eq!(node.json["title"], "T");
    assert_eq!(node.json["status"]["video_status"], "ready");
    // A session of another Page, or none, is not accepted.
    let r = client
        .post(
            &path,
            &[
                ("access_token", token),
                ("upload_phase", "transfer"),
                ("upload_session_id", "123"),
                ("start_offset", "0"),
            ],
        )
        .await;
    assert_eq!(r.error_code(), 100);
    assert_ne!(r.subcode(), Some(1_363_037));
}

#[tokio::test]
async fn hosted_videos_and_unreachable_file_urls() {
    let (sandbox, client) = start().await;
    let page = &sandbox.fixtures().pages[0];
    let token = page.access_token.as_str();
    let path = format!("/v26.0/{}/videos", page.id);
    let r = client
        .post(
            &path,
            &[
                ("access_token", token),
                ("file_url", "https://cdn.example.com/v.mp4"),
                ("description", "hosted"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert!(r.json["id"].is_string());
    let r = client
        .post(
            &path,
            &[
                ("access_token", token),
                ("file_url", "https://cdn.invalid/v.mp4"),
            ],
        )
        .await;
    assert_eq!(r.error_code(), 389);
    let r = client.post(&path, &[("access_token", token)]).await;
    assert_eq!(r.error_code(), 324);
}
