//! Page publishing against meta-sandbox: feed posts, photos, multi-photo posts, videos
//! (hosted and chunked, with resume), scheduling, reading scheduled posts, deleting, and
//! every validation refusal sending nothing.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use meta_core::clock::ManualClock;
use meta_core::ids::{PageId, PhotoId, PostId, VideoId};
use meta_core::{Client, GraphRequest, RetryConfig};
use meta_graph::pages::{MAX_MESSAGE_CHARS, PhotoSource, VIDEO_OFFSET_MISMATCH_SUBCODE};
use meta_graph::{Error, GraphExt};
use meta_sandbox::{Fault, FaultRule, Sandbox};
use serde_json::Value;

const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01sandbox-jpeg";

struct Env {
    sandbox: Sandbox,
    client: Client,
    page: PageId,
    clock: Arc<ManualClock>,
}

impl Env {
    async fn start() -> Env {
        Self::start_with(RetryConfig::disabled(), 0).await
    }

    /// A Page-token client whose clock reads the sandbox clock minus `skew_secs`.
    async fn start_with(retry: RetryConfig, skew_secs: u64) -> Env {
        let sandbox = Sandbox::start().await.unwrap();
        let page = sandbox.fixtures().pages[0].clone();
        let clock = Arc::new(ManualClock::new(sandbox.control().now_unix() - skew_secs));
        let client = Client::builder()
            .base_url(sandbox.base_url())
            .access_token(page.access_token.clone())
            .retry(retry)
            .clock(clock.clone())
            .jitter_seed(7)
            .build()
            .unwrap();
        Env {
            sandbox,
            client,
            page: PageId::new(page.id),
            clock,
        }
    }

    fn requests(&self) -> usize {
        self.sandbox.control().requests().len()
    }

    fn now(&self) -> u64 {
        self.sandbox.control().now_unix()
    }

    async fn node(&self, id: &str, fields: &str) -> Value {
        self.client.get(id, [("fields", fields)]).await.unwrap()
    }
}

fn invalid_field(e: Error) -> String {
    assert!(e.is_refused_before_call(), "{e:?}");
    match e {
        Error::Invalid(i) => i.field().to_owned(),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn feed_post_with_message_and_link_then_delete() {
    let env = Env::start().await;
    let pages = env.client.pages();
    let id = pages
        .post(&env.page)
        .message("Doors open at 9")
        .link("https://example.com/open")
        .send()
        .await
        .unwrap();
    assert_eq!(id.page_id(), Some(env.page.clone()));
    let post = pages.get_post(&id).await.unwrap();
    assert_eq!(post.message.as_deref(), Some("Doors open at 9"));
    assert_eq!(post.is_published, Some(true));
    let feed = pages
        .feed(&env.page)
        .max_items(1)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(feed[0].id.as_deref(), Some(id.as_str()));

    pages.delete(&id).await.unwrap();
    let gone = pages.get_post(&id).await.unwrap_err();
    assert_eq!(gone.meta().unwrap().api().unwrap().code(), 100);
    assert_eq!(env.sandbox.control().count("DELETE", id.as_str()), 1);
}

#[tokio::test]
async fn scheduled_post_is_listed_then_appears_in_the_feed_when_due() {
    let env = Env::start().await;
    let pages = env.client.pages();
    let at = env.now() + 3600;
    let id = pages
        .post(&env.page)
        .message("Flash sale")
        .scheduled_at_unix(at)
        .send()
        .await
        .unwrap();
    let scheduled = pages
        .scheduled_posts(&env.page)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(scheduled.len(), 1);
    assert_eq!(scheduled[0].id.as_deref(), Some(id.as_str()));
    assert_eq!(scheduled[0].is_published, Some(false));
    assert_eq!(scheduled[0].scheduled_publish_time, Some(at as f64));
    let in_feed = |feed: &[meta_graph::generated::PagePost]| {
        feed.iter().any(|p| p.id.as_deref() == Some(id.as_str()))
    };
    assert!(!in_feed(
        &pages.feed(&env.page).collect_all().await.unwrap()
    ));

    env.sandbox
        .control()
        .advance_clock(Duration::from_secs(3601));
    assert!(in_feed(&pages.feed(&env.page).collect_all().await.unwrap()));
    assert!(
        pages
            .scheduled_posts(&env.page)
            .collect_all()
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn scheduled_post_can_be_deleted_before_it_goes_out() {
    let env = Env::start().await;
    let pages = env.client.pages();
    let id = pages
        .post(&env.page)
        .message("never mind")
        .scheduled_at(UNIX_EPOCH + Duration::from_secs(env.now() + 7200))
        .send()
        .await
        .unwrap();
    pages.delete(&id).await.unwrap();
    assert!(
        pages
            .scheduled_posts(&env.page)
            .collect_all()
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn invalid_posts_are_refused_before_any_call() {
    let env = Env::start().await;
    let pages = env.client.pages();
    let now = env.now();
    let before = env.requests();
    let cases: Vec<(meta_graph::Result<PostId>, &str)> = vec![
        (pages.post(&env.page).send().await, "message"),
        (pages.post(&env.page).message("   ").send().await, "message"),
        (
            pages
                .post(&env.page)
                .message("x".repeat(MAX_MESSAGE_CHARS + 1))
                .send()
                .await,
            "message",
        ),
        (
            pages
                .post(&env.page)
                .link("ftp://example.com/file")
                .send()
                .await,
            "link",
        ),
        (
            pages
                .post(&env.page)
                .message("too soon")
                .scheduled_at_unix(now + 5 * 60)
                .send()
                .await,
            "scheduled_publish_time",
        ),
        (
            pages
                .post(&env.page)
                .message("too late")
                .scheduled_at_unix(now + 31 * 86_400)
                .send()
                .await,
            "scheduled_publish_time",
        ),
        (
            pages
                .post(&env.page)
                .message("in the past")
                .scheduled_at_unix(now - 60)
                .send()
                .await,
            "scheduled_publish_time",
        ),
        (
            pages
                .post(&env.page)
                .message("both")
                .published(true)
                .scheduled_at_unix(now + 3600)
                .send()
                .await,
            "published",
        ),
        (
            pages
                .post(&PageId::new("12/../me"))
                .message("x")
                .send()
                .await,
            "page_id",
        ),
    ];
    for (result, field) in cases {
        assert_eq!(invalid_field(result.unwrap_err()), field);
    }
    assert_eq!(
        invalid_field(pages.delete(&PostId::new("1?x=y")).await.unwrap_err()),
        "post_id"
    );
    assert_eq!(env.requests(), before, "nothing reached the sandbox");
}

#[tokio::test]
async fn the_window_is_checked_on_the_injected_clock_and_meta_still_has_the_last_word() {
    // The client's clock runs an hour behind the sandbox: 20 minutes ahead on the client
    // is 40 minutes in the past for Meta, which refuses with its own error.
    let env = Env::start_with(RetryConfig::disabled(), 3600).await;
    let client_now = env.now() - 3600;
    let err = env
        .client
        .pages()
        .post(&env.page)
        .message("skewed")
        .scheduled_at_unix(client_now + 20 * 60)
        .send()
        .await
        .unwrap_err();
    let api = err.meta().unwrap().api().unwrap();
    assert_eq!(api.code(), 100);
    assert_eq!(
        api.message(),
        "(#100) The specified scheduled publish time is invalid."
    );
    assert_eq!(env.sandbox.control().count("POST", "/feed"), 1);
    // Moving the injected clock changes the client's verdict without any sleeping.
    env.clock.advance(Duration::from_secs(3600));
    let ok = env
        .client
        .pages()
        .post(&env.page)
        .message("on time")
        .scheduled_at_unix(env.now() + 20 * 60)
        .send()
        .await;
    assert!(ok.is_ok(), "{ok:?}");
}

#[tokio::test]
async fn photos_by_url_and_bytes() {
    let env = Env::start().await;
    let pages = env.client.pages();
    let by_url = pages
        .photo(
            &env.page,
            PhotoSource::url("https://cdn.example.com/shop.jpg"),
        )
        .caption("The shop")
        .send()
        .await
        .unwrap();
    let post_id = by_url
        .post_id
        .clone()
        .expect("a published photo has a story");
    let post = pages.get_post(&post_id).await.unwrap();
    assert_eq!(post.message.as_deref(), Some("The shop"));

    let by_bytes = pages
        .photo(
            &env.page,
            PhotoSource::bytes(JPEG).with_file_name("shop.jpg"),
        )
        .caption("Bytes")
        .send()
        .await
        .unwrap();
    assert!(by_bytes.post_id.is_some());
    let node = env
        .node(by_bytes.id.as_str(), "id,name,page_story_id,published")
        .await;
    assert_eq!(node["name"], "Bytes");
    assert_eq!(node["published"], true);

    let unpublished = pages
        .photo(&env.page, PhotoSource::bytes(JPEG))
        .published(false)
        .send()
        .await
        .unwrap();
    assert_eq!(unpublished.post_id, None);
}

#[tokio::test]
async fn an_unreachable_photo_url_is_metas_error() {
    let env = Env::start().await;
    let err = env
        .client
        .pages()
        .photo(
            &env.page,
            PhotoSource::url("https://media.invalid/gone.jpg"),
        )
        .send()
        .await
        .unwrap_err();
    let api = err.meta().unwrap().api().unwrap();
    assert_eq!((api.code(), api.subcode()), (100, Some(3_858_258)));
}

#[tokio::test]
async fn invalid_photos_are_refused_before_any_call() {
    let env = Env::start().await;
    let pages = env.client.pages();
    let before = env.requests();
    let cases = [
        (PhotoSource::bytes(Vec::<u8>::new()), "source"),
        (PhotoSource::bytes(&b"%PDF-1.7 not an image"[..]), "source"),
        (
            PhotoSource::bytes(JPEG).with_content_type("image/png"),
            "content_type",
        ),
        (PhotoSource::url("ftp://example.com/a.jpg"), "source"),
    ];
    for (source, field) in cases {
        let err = pages.photo(&env.page, source).send().await.unwrap_err();
        assert_eq!(invalid_field(err), field);
    }
    let err = pages
        .photo(&env.page, PhotoSource::bytes(JPEG))
        .caption("c".repeat(MAX_MESSAGE_CHARS + 1))
        .send()
        .await
        .unwrap_err();
    assert_eq!(invalid_field(err), "caption");
    let err = pages
        .photo(&env.page, PhotoSource::bytes(JPEG))
        .temporary(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(invalid_field(err), "temporary");
    // A multi-photo post with one bad photo uploads nothing.
    let err = pages
        .multi_photo_post(
            &env.page,
            [PhotoSource::bytes(JPEG), PhotoSource::bytes(&b"nope"[..])],
            "two",
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(invalid_field(err), "photos[1].source");
    let err = pages
        .multi_photo_post(&env.page, Vec::new(), "none")
        .send()
        .await
        .unwrap_err();
    assert_eq!(invalid_field(err), "photos");
    let err = pages
        .multi_photo_post(&env.page, [PhotoSource::bytes(JPEG)], "late")
        .scheduled_at_unix(env.now() + 40 * 86_400)
        .send()
        .await
        .unwrap_err();
    assert_eq!(invalid_field(err), "scheduled_publish_time");
    assert_eq!(env.requests(), before, "nothing reached the sandbox");
}

#[tokio::test]
async fn multi_photo_post_attaches_unpublished_photos() {
    let env = Env::start().await;
    let pages = env.client.pages();
    let posted = pages
        .multi_photo_post(
            &env.page,
            [
                PhotoSource::url("https://cdn.example.com/1.jpg"),
                PhotoSource::bytes(JPEG),
                PhotoSource::url("https://cdn.example.com/3.jpg"),
            ],
            "Three photos",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(posted.photo_ids.len(), 3);
    for photo in &posted.photo_ids {
        let node = env.node(photo.as_str(), "published,page_story_id").await;
        assert_eq!(node["published"], false);
        assert_eq!(node["page_story_id"], posted.post_id.as_str());
    }
    assert_eq!(env.sandbox.control().count("POST", "/photos"), 3);
    assert_eq!(env.sandbox.control().count("POST", "/feed"), 1);
    let post = pages.get_post(&posted.post_id).await.unwrap();
    assert_eq!(post.message.as_deref(), Some("Three photos"));

    // A photo already attached cannot be attached again: Meta's error, as is.
    let err = pages
        .post(&env.page)
        .attached_media([posted.photo_ids[0].clone()])
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.meta().unwrap().api().unwrap().code(), 100);
}

#[tokio::test]
async fn scheduled_multi_photo_post_uses_temporary_photos() {
    let env = Env::start().await;
    let pages = env.client.pages();
    let builder = pages
        .multi_photo_post(
            &env.page,
            [PhotoSource::bytes(JPEG), PhotoSource::bytes(JPEG)],
            "Later",
        )
        .scheduled_at_unix(env.now() + 86_400);
    assert!(
        builder
            .photo_uploads()
            .iter()
            .all(|u| u.temporary == Some(true) && u.published == Some(false))
    );
    let posted = builder.send().await.unwrap();
    let scheduled = pages
        .scheduled_posts(&env.page)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(scheduled.len(), 1);
    assert_eq!(scheduled[0].id.as_deref(), Some(posted.post_id.as_str()));
}

#[tokio::test]
async fn a_failed_multi_photo_post_deletes_the_photos_it_uploaded() {
    let env = Env::start().await;
    env.sandbox.control().inject(
        FaultRule::new(Fault::GraphError {
            status: 400,
            code: 368,
            subcode: None,
            transient: Some(false),
            message:
                "(#368) The action attempted has been deemed abusive or is otherwise disallowed"
                    .into(),
        })
        .method("POST")
        .path_contains("/feed"),
    );
    let err = env
        .client
        .pages()
        .multi_photo_post(
            &env.page,
            [PhotoSource::bytes(JPEG), PhotoSource::bytes(JPEG)],
            "blocked",
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.meta().unwrap().api().unwrap().code(), 368);
    let deletes: Vec<_> = env
        .sandbox
        .control()
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    assert_eq!(deletes.len(), 2);
    assert!(deletes.iter().all(|r| r.applied));
}

#[tokio::test]
async fn video_from_url_and_unreachable_url() {
    let env = Env::start().await;
    let pages = env.client.pages();
    let id = pages
        .video_from_url(&env.page, "https://cdn.example.com/clip.mp4")
        .title("Clip")
        .description("Our clip")
        .send()
        .await
        .unwrap();
    let node = env.node(id.as_str(), "title,description,status").await;
    assert_eq!(node["title"], "Clip");
    assert_eq!(node["status"]["video_status"], "ready");

    let err = pages
        .video_from_url(&env.page, "https://cdn.invalid/clip.mp4")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.meta().unwrap().api().unwrap().code(), 389);

    let before = env.requests();
    let err = pages
        .video_from_url(&env.page, "file:///tmp/clip.mp4")
        .send()
        .await
        .unwrap_err();
    assert_eq!(invalid_field(err), "file_url");
    let err = pages
        .upload_video(&env.page, Vec::<u8>::new())
        .send()
        .await
        .unwrap_err();
    assert_eq!(invalid_field(err), "video");
    let err = pages
        .upload_video(&env.page, vec![1u8; 10])
        .scheduled_at(UNIX_EPOCH + Duration::from_secs(env.now() + 60))
        .send()
        .await
        .unwrap_err();
    assert_eq!(invalid_field(err), "scheduled_publish_time");
    assert_eq!(env.requests(), before);
}

fn video_bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[tokio::test]
async fn chunked_upload_follows_metas_offsets() {
    let env = Env::start().await;
    let data = video_bytes(2_621_440); // 2.5 MiB: chunks of 1 MiB, 1 MiB, 0.5 MiB
    let id = env
        .client
        .pages()
        .upload_video(&env.page, data)
        .title("Launch")
        .description("2.5 MiB in three chunks")
        .send()
        .await
        .unwrap();
    let c = env.sandbox.control();
    // start + 3 transfers + finish
    assert_eq!(c.count("POST", "/videos"), 5);
    let node = env.node(id.as_str(), "title,status,post_id").await;
    assert_eq!(node["title"], "Launch");
    assert_eq!(node["status"]["video_status"], "ready");
    assert_eq!(
        node["status"]["uploading_phase"]["bytes_transferred"],
        2_621_440
    );
    let post = env
        .client
        .pages()
        .get_post(&PostId::new(node["post_id"].as_str().unwrap()))
        .await
        .unwrap();
    assert_eq!(post.message.as_deref(), Some("2.5 MiB in three chunks"));
}

#[tokio::test]
async fn a_transient_chunk_error_in_the_middle_is_retried() {
    let env = Env::start().await;
    let data = video_bytes(2_621_440);
    let mut upload = env
        .client
        .pages()
        .upload_video(&env.page, data)
        .title("Flaky")
        .start()
        .await
        .unwrap();
    assert!(!upload.transfer_next().await.unwrap());
    assert_eq!(upload.progress(), (1_048_576, 2_621_440));
    // The second chunk fails once with a transient error.
    env.sandbox.control().inject(
        FaultRule::new(Fault::GraphError {
            status: 500,
            code: 2,
            subcode: None,
            transient: Some(true),
            message: "An unexpected error has occurred. Please retry your request later.".into(),
        })
        .method("POST")
        .path_contains("/videos"),
    );
    let slept_before = env.clock.sleep_count();
    let video_id = upload.video_id().clone();
    assert_eq!(upload.finish().await.unwrap(), video_id);
    let statuses: Vec<Option<u16>> = env
        .sandbox
        .control()
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/videos"))
        .map(|r| r.status)
        .collect();
    // start, chunk 1, failed chunk 2, chunk 2 again, chunk 3, finish
    assert_eq!(
        statuses,
        [
            Some(200),
            Some(200),
            Some(500),
            Some(200),
            Some(200),
            Some(200)
        ]
    );
    assert_eq!(
        env.clock.sleep_count(),
        slept_before + 1,
        "one pause on the injected clock"
    );
    let node = env.node(video_id.as_str(), "status").await;
    assert_eq!(
        node["status"]["uploading_phase"]["bytes_transferred"],
        2_621_440
    );
}

#[tokio::test]
async fn a_chunk_that_already_landed_resyncs_from_error_data() {
    // meta-core's own retries are on: a chunk whose response was lost is re-sent, Meta
    // answers 1363037 with the offsets it wants next, and the upload carries on.
    let env = Env::start_with(RetryConfig::standard(), 0).await;
    let data = video_bytes(2_621_440);
    let mut upload = env
        .client
        .pages()
        .upload_video(&env.page, data)
        .start()
        .await
        .unwrap();
    env.sandbox.control().inject(
        FaultRule::new(Fault::DropAfterApply)
            .method("POST")
            .path_contains("/videos"),
    );
    assert!(!upload.transfer_next().await.unwrap());
    assert_eq!(upload.progress().0, 2_097_152, "jumped to Meta's offset");
    let video = upload.finish().await.unwrap();
    let statuses: Vec<Option<u16>> = env
        .sandbox
        .control()
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/videos"))
        .map(|r| r.status)
        .collect();
    // start, chunk 1 applied but dropped, re-sent chunk 1 → 400 (1363037), chunk 2,
    // chunk 3, finish
    assert_eq!(
        statuses,
        [Some(200), None, Some(400), Some(200), Some(200), Some(200)]
    );
    let node = env.node(video.as_str(), "status").await;
    assert_eq!(node["status"]["video_status"], "ready");
}

#[tokio::test]
async fn an_interrupted_upload_resumes_from_its_session() {
    let env = Env::start().await;
    let data = video_bytes(2_621_440);
    let mut first = env
        .client
        .pages()
        .upload_video(&env.page, data.clone())
        .start()
        .await
        .unwrap();
    first.transfer_next().await.unwrap();
    // Saved after the first chunk; the second lands before the process "crashes", so
    // the saved offsets are stale.
    let saved = (
        first.session_id().to_owned(),
        first.video_id().clone(),
        first.offsets(),
    );
    assert_eq!(saved.2, (1_048_576, 2_097_152));
    first.transfer_next().await.unwrap();
    drop(first);

    let pages = env.client.pages();
    let mut resumed = pages
        .resume_video_upload(&env.page, saved.0, saved.1.clone(), data, saved.2)
        .unwrap();
    resumed.details_mut().title = Some("Resumed".into());
    assert_eq!(resumed.finish().await.unwrap(), saved.1);
    let mismatches = env
        .sandbox
        .control()
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/videos") && r.status == Some(400))
        .count();
    assert_eq!(mismatches, 1, "one 1363037 answer told us where to resume");
    let node = env.node(saved.1.as_str(), "title,status").await;
    assert_eq!(node["title"], "Resumed");
    assert_eq!(
        node["status"]["uploading_phase"]["bytes_transferred"],
        2_621_440
    );

    let before = env.requests();
    let bad = pages
        .resume_video_upload(&env.page, "1", VideoId::new("2"), vec![0u8; 10], (5, 11))
        .unwrap_err();
    assert_eq!(invalid_field(bad), "offsets");
    assert_eq!(env.requests(), before);
}

#[tokio::test]
async fn an_unknown_upload_session_is_metas_error() {
    // A session id Meta does not know is not an offset problem: the error comes back.
    let env = Env::start().await;
    let mut bogus = env
        .client
        .pages()
        .resume_video_upload(
            &env.page,
            "999",
            VideoId::new("998"),
            vec![0u8; 10],
            (0, 10),
        )
        .unwrap();
    let err = bogus.transfer_next().await.unwrap_err();
    let api = err.meta().unwrap().api().unwrap();
    assert_eq!(api.code(), 100);
    assert_ne!(api.subcode(), Some(VIDEO_OFFSET_MISMATCH_SUBCODE));
}

#[tokio::test]
async fn deleting_unpublished_photos_and_raw_door_still_works() {
    let env = Env::start().await;
    let photo = env
        .client
        .pages()
        .photo(&env.page, PhotoSource::bytes(JPEG))
        .published(false)
        .send()
        .await
        .unwrap();
    let v: Value = env
        .client
        .execute::<Value>(GraphRequest::delete(photo.id.as_str()))
        .await
        .unwrap()
        .into_data();
    assert_eq!(v["success"], true);
    let err = env
        .client
        .pages()
        .post(&env.page)
        .attached_media([PhotoId::new(photo.id.as_str())])
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.meta().unwrap().api().unwrap().code(), 100);
}
