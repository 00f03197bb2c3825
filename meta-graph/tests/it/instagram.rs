//! Instagram publishing against meta-sandbox: every media type, polling on a clock
//! linked to the sandbox, ERROR / EXPIRED / deadline, publish-once on a lost answer,
//! the quota, resumable upload and refusals before any call.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::TryStreamExt;
use meta_core::clock::{Clock, ManualClock, Sleep};
use meta_core::{Client, IgContainerId, IgUserId, RetryConfig};
use meta_graph::instagram::{
    IgContainerStatusCode, Instagram, PollConfig, PollProgress, PublishOutcome, UserTag,
};
use meta_graph::{Error, GraphExt};
use meta_sandbox::{Fault, FaultRule, InstagramConfig, Sandbox, SandboxConfig, SandboxControl};

/// A clock that never really sleeps: sleeping advances both the manual clock and the
/// sandbox's clock, so containers finish "after 5 s" instantly.
#[derive(Debug)]
struct LinkedClock {
    clock: ManualClock,
    sandbox: SandboxControl,
}

impl Clock for LinkedClock {
    fn now(&self) -> std::time::SystemTime {
        std::time::SystemTime::now() + self.clock.elapsed()
    }
    fn elapsed(&self) -> Duration {
        self.clock.elapsed()
    }
    fn sleep(&self, duration: Duration) -> Sleep<'_> {
        self.sandbox.advance_clock(duration);
        self.clock.sleep(duration)
    }
}

struct Env {
    sb: Sandbox,
    clock: Arc<LinkedClock>,
    client: Client,
    ig_user: IgUserId,
}

impl Env {
    async fn start() -> Env {
        Env::with(InstagramConfig::default()).await
    }

    async fn with(ig: InstagramConfig) -> Env {
        let sb = Sandbox::start_with(SandboxConfig::default().posts_per_page(5).instagram(ig))
            .await
            .unwrap();
        let clock = Arc::new(LinkedClock {
            clock: ManualClock::default(),
            sandbox: sb.control(),
        });
        let client = Client::builder()
            .base_url(sb.base_url().to_owned())
            .access_token(sb.fixtures().user_token.clone())
            .clock(clock.clone())
            .jitter_seed(7)
            .retry(
                RetryConfig::standard()
                    .max_attempts(3)
                    .initial_backoff(Duration::from_millis(1))
                    .max_backoff(Duration::from_millis(2)),
            )
            .build()
            .unwrap();
        let ig_user = IgUserId::new(sb.fixtures().pages[0].ig_user_id.clone());
        Env {
            sb,
            clock,
            client,
            ig_user,
        }
    }

    fn ig(&self) -> Instagram {
        self.client.instagram()
    }

    fn count(&self, method: &str, suffix: &str) -> usize {
        self.sb.control().count(method, suffix)
    }
}

const JPG: &str = "https://cdn.example.com/photos/beach.jpg";
const MP4: &str = "https://cdn.example.com/videos/surf.mp4";

#[tokio::test]
async fn image_is_created_polled_and_published_once() {
    let env = Env::start().await;
    let seen: Arc<Mutex<Vec<PollProgress>>> = Arc::default();
    let log = seen.clone();
    let outcome = env
        .ig()
        .image(&env.ig_user, JPG)
        .caption("Beach day #summer @friend")
        .alt_text("Waves on a sandy beach")
        .user_tag(UserTag::new("friend").at(0.5, 0.4))
        .on_progress(move |p| log.lock().unwrap().push(p.clone()))
        .publish()
        .await
        .unwrap();
    let PublishOutcome::Published { media_id } = &outcome else {
        panic!("{outcome:?}");
    };
    assert!(outcome.is_published());
    // IN_PROGRESS at t=0, FINISHED after the sandbox's 5 s of processing.
    let seen = seen.lock().unwrap().clone();
    let codes: Vec<_> = seen.iter().map(|p| p.status.code()).collect();
    assert_eq!(
        codes,
        [
            IgContainerStatusCode::InProgress,
            IgContainerStatusCode::Finished
        ]
    );
    assert_eq!(seen[0].next_check, Some(Duration::from_secs(5)));
    assert_eq!(
        seen[1].status.status.as_deref(),
        Some("Finished: Media has been uploaded and it is ready to be published.")
    );
    assert_eq!(env.clock.clock.total_slept(), Duration::from_secs(5));

    let media = env.ig().media(media_id).await.unwrap();
    assert_eq!(media.media_type.as_ref().map(|t| t.as_str()), Some("IMAGE"));
    assert_eq!(
        media.media_product_type.as_ref().map(|t| t.as_str()),
        Some("FEED")
    );
    assert_eq!(media.caption.as_deref(), Some("Beach day #summer @friend"));
    assert_eq!(env.count("POST", "/media_publish"), 1);
    assert_eq!(env.count("POST", "/media"), 1);
    let limit = env.ig().publishing_limit(&env.ig_user).await.unwrap();
    assert_eq!(limit.quota_usage, Some(1));
    assert_eq!(limit.config.unwrap().quota_total, Some(100));
    assert_eq!(limit.remaining(), Some(99));
}

#[tokio::test]
async fn reels_and_stories_publish_with_their_product_type() {
    let env = Env::start().await;
    let reel = env
        .ig()
        .reel(&env.ig_user, MP4)
        .caption("Surf")
        .share_to_feed(true)
        .cover_url("https://cdn.example.com/covers/surf.jpg")
        .thumb_offset(1500)
        .audio_name("Original audio")
        .collaborator("friend")
        .publish()
        .await
        .unwrap();
    // Video processing takes 30 s in the sandbox: 5 + 7.5 + 11.25 + 16.875 s of backoff.
    assert!(env.clock.clock.total_slept() >= Duration::from_secs(30));
    let story_image = env
        .ig()
        .story_image(&env.ig_user, JPG)
        .publish()
        .await
        .unwrap();
    let story_video = env
        .ig()
        .story_video(&env.ig_user, MP4)
        .publish()
        .await
        .unwrap();
    let kinds = [
        (reel, "VIDEO", "REELS"),
        (story_image, "IMAGE", "STORY"),
        (story_video, "VIDEO", "STORY"),
    ];
    for (outcome, media_type, product) in kinds {
        let media = env.ig().media(outcome.media_id().unwrap()).await.unwrap();
        assert_eq!(
            media.media_type.as_ref().map(|t| t.as_str()),
            Some(media_type)
        );
        assert_eq!(
            media.media_product_type.as_ref().map(|t| t.as_str()),
            Some(product)
        );
    }
    assert_eq!(env.count("POST", "/media_publish"), 3);
}

#[tokio::test]
async fn carousel_creates_items_waits_for_them_and_publishes_one_album() {
    let env = Env::start().await;
    let outcome = env
        .ig()
        .carousel(&env.ig_user)
        .image_item("https://cdn.example.com/a.jpg")
        .image_item("https://cdn.example.com/b.jpg")
        .video_item("https://cdn.example.com/c.mp4")
        .caption("Three in one")
        .publish()
        .await
        .unwrap();
    let media = env.ig().media(outcome.media_id().unwrap()).await.unwrap();
    assert_eq!(
        media.media_type.as_ref().map(|t| t.as_str()),
        Some("CAROUSEL_ALBUM")
    );
    let children = env
        .ig()
        .media_children(outcome.media_id().unwrap())
        .await
        .unwrap();
    assert_eq!(children.len(), 3);
    let kinds: Vec<_> = children
        .iter()
        .map(|c| c.media_type.as_ref().unwrap().as_str().to_owned())
        .collect();
    assert_eq!(kinds, ["IMAGE", "IMAGE", "VIDEO"]);
    // 3 items + the carousel container, one publish, one post against the quota.
    assert_eq!(env.count("POST", "/media"), 4);
    assert_eq!(env.count("POST", "/media_publish"), 1);
    let limit = env.ig().publishing_limit(&env.ig_user).await.unwrap();
    assert_eq!(limit.quota_usage, Some(1));
    let listed: Vec<_> = env
        .ig()
        .list_media(&env.ig_user)
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        listed.len(),
        1,
        "carousel children are not listed on their own"
    );
}

#[tokio::test]
async fn error_status_is_surfaced_with_metas_text_and_nothing_is_published() {
    let env = Env::start().await;
    let err = env
        .ig()
        .image(&env.ig_user, "https://unreachable.invalid/photo.jpg")
        .publish()
        .await
        .unwrap_err();
    let Error::Container(f) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(f.status_code(), "ERROR");
    assert!(f.status().unwrap().starts_with("Error:"), "{f}");
    assert!(f.status().unwrap().contains("2207052"), "{f}");
    assert_eq!(f.waited(), Some(Duration::from_secs(5)));
    assert_eq!(env.count("POST", "/media_publish"), 0);
}

#[tokio::test]
async fn expired_containers_are_reported_and_never_published() {
    let env = Env::start().await;
    let ig = env.ig();
    let id = ig.image(&env.ig_user, JPG).create().await.unwrap();
    env.sb
        .control()
        .advance_clock(Duration::from_secs(25 * 3600));
    let err = ig.wait_until_finished(&id).await.unwrap_err();
    let Error::Container(f) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(f.status_code(), "EXPIRED");
    assert_eq!(f.container_id(), id.as_str());
    assert!(f.status().unwrap().starts_with("Expired"));
    let err = ig.publish_container(&env.ig_user, &id).await.unwrap_err();
    assert!(matches!(err, Error::Container(_)), "{err:?}");
    assert_eq!(env.count("POST", "/media_publish"), 0);
}

#[tokio::test]
async fn the_deadline_ends_polling_with_timeout_and_the_last_status() {
    let env =
        Env::with(InstagramConfig::default().video_processing(Duration::from_secs(3600))).await;
    let ig = env.ig().with_poll_config(
        PollConfig::default()
            .initial_interval(Duration::from_secs(10))
            .multiplier(2.0)
            .max_interval(Duration::from_secs(60))
            .deadline(Duration::from_secs(120)),
    );
    let err = ig.reel(&env.ig_user, MP4).publish().await.unwrap_err();
    let Error::Container(f) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(f.status_code(), "TIMEOUT");
    assert!(f.status().unwrap().starts_with("In Progress"));
    // 10 + 20 + 40 + 50 (shortened to land on the deadline).
    assert_eq!(f.waited(), Some(Duration::from_secs(120)));
    assert_eq!(env.clock.clock.sleep_count(), 4);
    assert_eq!(env.count("GET", &format!("/{}", f.container_id())), 5);
    assert_eq!(env.count("POST", "/media_publish"), 0);
}

#[tokio::test]
async fn a_lost_publish_answer_is_resolved_from_the_status_not_by_resending() {
    let env = Env::start().await;
    let ig = env.ig();
    let id = ig.image(&env.ig_user, JPG).create().await.unwrap();
    ig.wait_until_finished(&id).await.unwrap();
    env.sb.control().inject(
        FaultRule::new(Fault::DropAfterApply)
            .method("POST")
            .path_contains("/media_publish"),
    );
    let outcome = ig.publish_container(&env.ig_user, &id).await.unwrap();
    assert!(
        matches!(&outcome, PublishOutcome::PublishedAnswerLost { container_id } if *container_id == id),
        "{outcome:?}"
    );
    assert!(outcome.is_published());
    assert_eq!(env.count("POST", "/media_publish"), 1, "never sent twice");
    assert_eq!(
        ig.container_status(&id).await.unwrap().code(),
        IgContainerStatusCode::Published
    );
    // Publishing it again sends nothing: the container is already PUBLISHED.
    let again = ig.publish_container(&env.ig_user, &id).await.unwrap();
    assert!(matches!(again, PublishOutcome::AlreadyPublished { .. }));
    assert_eq!(env.count("POST", "/media_publish"), 1);
    let listed: Vec<_> = ig
        .list_media(&env.ig_user)
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
}

#[tokio::test]
async fn a_lost_answer_before_the_publish_applied_is_unconfirmed() {
    let env = Env::start().await;
    let ig = env.ig();
    let id = ig.image(&env.ig_user, JPG).create().await.unwrap();
    ig.wait_until_finished(&id).await.unwrap();
    env.sb.control().inject(
        FaultRule::new(Fault::Drop)
            .method("POST")
            .path_contains("/media_publish"),
    );
    let outcome = ig.publish_container(&env.ig_user, &id).await.unwrap();
    let PublishOutcome::Unconfirmed { cause, .. } = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(cause.kind(), meta_core::ErrorKind::Network);
    assert!(!outcome.is_published());
    assert_eq!(env.count("POST", "/media_publish"), 1);
}

#[tokio::test]
async fn an_exhausted_quota_is_refused_locally_and_by_meta_with_code_9() {
    let env = Env::with(InstagramConfig::default().quota_total(1)).await;
    let ig = env.ig();
    ig.image(&env.ig_user, JPG).publish().await.unwrap();
    let limit = ig.publishing_limit(&env.ig_user).await.unwrap();
    assert!(limit.is_exhausted());

    // The convenience path reads content_publishing_limit and refuses before any write.
    let posts_before = env.count("POST", "/media");
    let err = ig.image(&env.ig_user, JPG).publish().await.unwrap_err();
    let api = err.meta().and_then(meta_core::Error::api).unwrap();
    assert_eq!((api.code(), api.subcode()), (9, Some(2_207_042)));
    assert_eq!(api.http_status(), None, "refused locally");
    assert!(err.meta().unwrap().is_rate_limit());
    assert_eq!(env.count("POST", "/media"), posts_before);

    // Bypassing the check, Meta (the sandbox) refuses media_publish with the same code.
    let id = ig.image(&env.ig_user, JPG).create().await.unwrap();
    ig.wait_until_finished(&id).await.unwrap();
    let err = ig.publish_container(&env.ig_user, &id).await.unwrap_err();
    let api = err.meta().and_then(meta_core::Error::api).unwrap();
    assert_eq!((api.code(), api.subcode()), (9, Some(2_207_042)));
    assert_eq!(api.http_status(), Some(400));
    assert_eq!(env.count("POST", "/media_publish"), 2, "not retried");
}

#[tokio::test]
async fn publishing_an_unfinished_container_gets_metas_not_ready_error() {
    let env = Env::start().await;
    let ig = env.ig();
    let id = ig.reel(&env.ig_user, MP4).create().await.unwrap();
    let err = ig.publish_container(&env.ig_user, &id).await.unwrap_err();
    let api = err.meta().and_then(meta_core::Error::api).unwrap();
    assert_eq!((api.code(), api.subcode()), (9007, Some(2_207_027)));
    assert_eq!(env.count("POST", "/media_publish"), 1);
}

#[tokio::test]
async fn resumable_reel_upload_sends_the_bytes_to_the_upload_host() {
    let env = Env::start().await;
    // The sandbox serves the rupload host on its own address.
    let ig = env.ig().with_upload_client(env.client.clone());
    let video = bytes::Bytes::from(vec![7u8; 4096]);
    let outcome = ig
        .reel_upload(&env.ig_user, video)
        .caption("Uploaded")
        .publish()
        .await
        .unwrap();
    let media = ig.media(outcome.media_id().unwrap()).await.unwrap();
    assert_eq!(
        media.media_product_type.as_ref().map(|t| t.as_str()),
        Some("REELS")
    );
    let uploads = env
        .sb
        .control()
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/ig-api-upload/"))
        .collect::<Vec<_>>();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].status, Some(200));

    // An empty video is refused before any call.
    let before = env.sb.control().requests().len();
    let err = env
        .ig()
        .with_upload_client(env.client.clone())
        .reel_upload(&env.ig_user, Vec::<u8>::new())
        .publish()
        .await
        .unwrap_err();
    assert!(err.is_refused_before_call(), "{err:?}");
    assert_eq!(env.sb.control().requests().len(), before);
}

#[tokio::test]
async fn media_lists_newest_first_across_pages() {
    let env = Env::with(InstagramConfig::default().image_processing(Duration::ZERO)).await;
    let ig = env.ig();
    let mut ids = Vec::new();
    for i in 0..3 {
        let o = ig
            .image(&env.ig_user, format!("https://cdn.example.com/{i}.jpg"))
            .caption(format!("post {i}"))
            .publish()
            .await
            .unwrap();
        ids.push(o.media_id().unwrap().clone());
    }
    // No waiting at all when processing is instant.
    assert_eq!(env.clock.clock.sleep_count(), 0);
    let listed: Vec<_> = env
        .client
        .paginate::<meta_graph::instagram::IgMedia>(
            &format!("{}/media", env.ig_user.as_str()),
            [("fields", "id,caption"), ("limit", "2")],
        )
        .try_collect()
        .await
        .unwrap();
    let got: Vec<_> = listed
        .iter()
        .map(|m| meta_core::IgMediaId::new(m.id.clone().unwrap()))
        .collect();
    ids.reverse();
    assert_eq!(got, ids);
    assert_eq!(env.count("GET", "/media"), 2, "two pages of 2");
}

#[tokio::test]
async fn bad_input_is_refused_before_any_call() {
    let env = Env::start().await;
    let ig = env.ig();
    let u = &env.ig_user;
    let eleven = (0..11).fold(ig.carousel(u), |c, i| {
        c.image_item(format!("https://cdn.example.com/{i}.jpg"))
    });
    let hashtags: String = (0..31).map(|i| format!("#t{i} ")).collect();
    let mentions: String = (0..21).map(|i| format!("@u{i} ")).collect();
    let cases = vec![
        ("caption", ig.image(u, JPG).caption("x".repeat(2201))),
        ("caption", ig.image(u, JPG).caption(hashtags)),
        ("caption", ig.image(u, JPG).caption(mentions)),
        ("children", ig.carousel(u).image_item(JPG)),
        ("children", eleven),
        (
            "children.image_url",
            ig.carousel(u)
                .image_item(JPG)
                .image_item("https://x.test/a.png"),
        ),
        ("image_url", ig.image(u, "https://cdn.example.com/a.png")),
        ("image_url", ig.image(u, "https://cdn.example.com/a.webp")),
        ("image_url", ig.image(u, "ftp://cdn.example.com/a.jpg")),
        ("video_url", ig.reel(u, "https://cdn.example.com/a.jpg")),
        ("share_to_feed", ig.image(u, JPG).share_to_feed(true)),
        ("alt_text", ig.reel(u, MP4).alt_text("x")),
        ("children", ig.image(u, JPG).image_item(JPG)),
        (
            "user_tags",
            ig.image(u, JPG).user_tag(UserTag::new("a").at(1.5, 0.0)),
        ),
        (
            "collaborators",
            ig.reel(u, MP4)
                .collaborator("a")
                .collaborator("b")
                .collaborator("c")
                .collaborator("d"),
        ),
        ("ig user id", ig.image(&IgUserId::new("1/../me"), JPG)),
    ];
    for (field, c) in cases {
        let err = c.publish().await.unwrap_err();
        let Error::Invalid(inv) = &err else {
            panic!("{field}: {err:?}")
        };
        assert_eq!(inv.field(), field, "{inv}");
        assert!(err.is_refused_before_call());
        let err = c.create().await.unwrap_err();
        assert!(err.is_refused_before_call());
    }
    assert!(
        ig.container_status(&IgContainerId::new("a?b"))
            .await
            .unwrap_err()
            .is_refused_before_call()
    );
    assert_eq!(env.sb.control().requests().len(), 0, "no request at all");
}
