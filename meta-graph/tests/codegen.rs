//! The generated types (`meta_graph::generated`): the committed code is what the specs
//! generate, and realistic Graph payloads decode and round-trip.
//!
//! `generated_code_is_current` needs Meta's specs at `../shared/meta-api-specs` (next to the
//! repository). Where they are missing it prints one skip line and passes: the build never
//! needs them. Where they exist it runs the generator in `--check` mode
//! (`cargo run --manifest-path tools/codegen/Cargo.toml -- --check <specs> <generated>`),
//! which regenerates in memory, formats with rustfmt, and lists every file under
//! `meta-graph/src/generated/` that differs, is missing or is stale. The generator is a
//! standalone crate outside the workspace (its only dependency is serde_json), built here into
//! this test's scratch target directory, so the workspace never depends on `tools/`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;

use meta_graph::generated::{
    Comment, CommentField, CommentFilter, ContentPublishingLimit, DatePreset, IgComment,
    IgCommentField, IgContainer, IgContainerField, IgContainerStatusCode, IgMedia, IgMediaField,
    IgMediaProductType, IgMediaType, IgUser, InsightsPeriod, InsightsResult,
    InstagramInsightsResult, LiveVideo, LiveVideoStatus, MessagingType, Page, PageField, PagePost,
    Photo, ShadowIgMediaBuilder,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn generated_code_is_current() {
    let root = repo_root();
    let specs = root.join("../shared/meta-api-specs");
    if !specs.join("specs").join("enum_types.json").is_file() {
        println!("skipped: ../shared/meta-api-specs not found");
        return;
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("codegen-target");
    let output = Command::new(cargo)
        .arg("run")
        .arg("--quiet")
        .arg("--locked")
        .arg("--manifest-path")
        .arg(root.join("tools/codegen/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .arg("--")
        .arg("--check")
        .arg(&specs)
        .arg(root.join("meta-graph/src/generated"))
        .output()
        .expect("run cargo for tools/codegen");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "meta-graph/src/generated/ is not what tools/codegen generates from {}:\n{stdout}\n{stderr}",
        specs.display()
    );
}

/// Decodes `payload`, re-encodes it, decodes that again, and checks both decodings agree.
fn round_trip<T>(payload: Value) -> T
where
    T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    let shown = payload.to_string();
    let decoded: T =
        serde_json::from_value(payload).unwrap_or_else(|e| panic!("decode {shown}: {e}"));
    let encoded = serde_json::to_value(&decoded).unwrap();
    let again: T = serde_json::from_value(encoded.clone()).unwrap();
    assert_eq!(decoded, again, "re-decoding {encoded} changed the value");
    decoded
}

#[test]
fn ig_container_status_round_trips() {
    // GET /{container-id}?fields=status_code,status (facts guide §6.1).
    let payload = json!({"status_code": "FINISHED", "id": "17889615691921648"});
    let c: IgContainer = round_trip(payload.clone());
    assert_eq!(c.status_code, Some(IgContainerStatusCode::Finished));
    assert_eq!(c.id.as_deref(), Some("17889615691921648"));
    assert_eq!(c.status, None);
    assert_eq!(
        serde_json::to_value(&c).unwrap(),
        payload,
        "exact round trip"
    );

    let payload = json!({
        "status_code": "ERROR",
        "status": "Error: Media download has failed. The media URI doesn't meet our requirements.",
        "id": "17889615691921649"
    });
    let c: ShadowIgMediaBuilder = round_trip(payload.clone());
    assert_eq!(c.status_code, Some(IgContainerStatusCode::Error));
    assert!(
        c.status
            .as_deref()
            .unwrap()
            .starts_with("Error: Media download")
    );
    assert_eq!(serde_json::to_value(&c).unwrap(), payload);

    for (wire, want) in [
        ("IN_PROGRESS", IgContainerStatusCode::InProgress),
        ("EXPIRED", IgContainerStatusCode::Expired),
        ("PUBLISHED", IgContainerStatusCode::Published),
        ("in_progress", IgContainerStatusCode::InProgress),
    ] {
        let c: IgContainer = round_trip(json!({"status_code": wire}));
        assert_eq!(c.status_code, Some(want), "{wire}");
    }

    // A status Meta adds later decodes and is sent back unchanged.
    let payload = json!({"status_code": "QUEUED_FOR_REVIEW", "id": "1"});
    let c: IgContainer = round_trip(payload.clone());
    let code = c.status_code.clone().unwrap();
    assert!(code.is_unknown());
    assert_eq!(
        code,
        IgContainerStatusCode::Unknown("QUEUED_FOR_REVIEW".into())
    );
    assert_eq!(code.to_string(), "QUEUED_FOR_REVIEW");
    assert_eq!(serde_json::to_value(&c).unwrap(), payload);
}

#[test]
fn page_comment_with_numeric_strings() {
    let payload = json!({
        "id": "122131676912594941_1213590066982748",
        "message": "meow 2",
        "created_time": "2025-03-22T18:20:04+0000",
        "from": {"id": "448242228374517", "name": "SuperTester"},
        "like_count": "3",
        "comment_count": 0,
        "is_hidden": false,
        "can_hide": "true",
        "can_reply_privately": true,
        "parent": {"id": "122131676912594941_542072878449250", "message": "first"},
        "permalink_url": "https://www.facebook.com/448242228374517/posts/122131676912594941",
        "a_field_this_crate_does_not_know": {"x": 1}
    });
    let c: Comment = round_trip(payload);
    assert_eq!(c.like_count, Some(3));
    assert_eq!(c.comment_count, Some(0));
    assert_eq!(c.can_hide, Some(true));
    assert_eq!(c.is_hidden, Some(false));
    assert_eq!(c.created_time.as_deref(), Some("2025-03-22T18:20:04+0000"));
    assert_eq!(c.from.as_ref().unwrap()["name"], "SuperTester");
    let parent = c.parent.as_deref().unwrap();
    assert_eq!(parent.message.as_deref(), Some("first"));
    // Numbers go back out as numbers.
    let out = serde_json::to_value(&c).unwrap();
    assert_eq!(out["like_count"], json!(3));
    assert!(out.get("a_field_this_crate_does_not_know").is_none());
}

#[test]
fn ig_comment_and_media() {
    let payload = json!({
        "id": "17870913679156914",
        "text": "I'll take the blue one",
        "timestamp": "2026-11-20T18:04:05+0000",
        "username": "buyer_1",
        "like_count": "2",
        "hidden": false,
        "parent_id": "17870913679156900",
        "from": {"id": "17841405822304914", "username": "buyer_1"},
        "media": {"id": "17895695668004550", "media_product_type": "REELS"}
    });
    let c: IgComment = round_trip(payload);
    assert_eq!(c.like_count, Some(2));
    assert_eq!(
        c.from.as_ref().unwrap().username.as_deref(),
        Some("buyer_1")
    );
    let media = c.media.as_deref().unwrap();
    assert_eq!(media.media_product_type, Some(IgMediaProductType::Reels));

    let payload = json!({
        "id": "17895695668004550",
        "caption": "New drop #sale",
        "media_type": "CAROUSEL_ALBUM",
        "media_product_type": "FEED",
        "comments_count": "5",
        "like_count": 12,
        "timestamp": "2026-11-20T18:04:05+0000",
        "permalink": "https://www.instagram.com/p/C0dEfGhIjKl/",
        "owner": {"id": "17841405822304914"},
        "is_comment_enabled": true
    });
    let m: IgMedia = round_trip(payload);
    assert_eq!(m.media_type, Some(IgMediaType::CarouselAlbum));
    assert_eq!(m.media_product_type, Some(IgMediaProductType::Feed));
    assert_eq!((m.comments_count, m.like_count), (Some(5), Some(12)));
    assert_eq!(
        m.owner.as_deref().unwrap().id.as_deref(),
        Some("17841405822304914")
    );

    // A media type Meta adds later.
    let m: IgMedia = round_trip(json!({"media_type": "HOLOGRAM"}));
    assert_eq!(m.media_type, Some(IgMediaType::Unknown("HOLOGRAM".into())));

    let u: IgUser = round_trip(json!({
        "id": "17841405822304914", "username": "shop", "followers_count": "1200",
        "media_count": 33, "ig_id": "8123456789"
    }));
    assert_eq!(
        (u.followers_count, u.media_count, u.ig_id),
        (Some(1200), Some(33), Some(8_123_456_789))
    );
}

#[test]
fn page_and_posts() {
    let payload = json!({
        "id": "448242228374517",
        "name": "SuperTester",
        "access_token": "EAAGm0PX4ZCpsBA-page-token",
        "category": "Shopping & retail",
        "fan_count": "1234",
        "followers_count": 1250,
        "link": "https://www.facebook.com/448242228374517",
        "instagram_business_account": {"id": "17841405822304914"},
        "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"]
    });
    let p: Page = round_trip(payload);
    assert_eq!(p.fan_count, Some(1234));
    assert_eq!(p.followers_count, Some(1250));
    assert_eq!(
        p.instagram_business_account
            .as_ref()
            .and_then(|a| a.id.as_deref()),
        Some("17841405822304914")
    );

    let post: PagePost = round_trip(json!({
        "id": "448242228374517_122131676912594941",
        "message": "Restock on Friday",
        "created_time": "2026-11-20T18:04:05+0000",
        "is_published": false,
        "scheduled_publish_time": 1_795_000_000,
        "permalink_url": "https://www.facebook.com/448242228374517/posts/122131676912594941",
        "from": {"id": "448242228374517", "name": "SuperTester"}
    }));
    assert_eq!(post.scheduled_publish_time, Some(1_795_000_000.0));
    assert_eq!(post.is_published, Some(false));

    let photo: Photo =
        round_trip(json!({"id": "122131676912594999", "height": "720", "width": 1280}));
    assert_eq!((photo.height, photo.width), (Some(720), Some(1280)));
}

#[test]
fn live_video_status() {
    let v: LiveVideo = round_trip(json!({
        "id": "10159659015335730",
        "status": "LIVE",
        "title": "Friday sale",
        "live_views": "25",
        "permalink_url": "/448242228374517/videos/10159659015335730/",
        "video": {"id": "10159659015335731"}
    }));
    assert_eq!(v.status, Some(LiveVideoStatus::Live));
    assert_eq!(v.live_views, Some(25));
    assert_eq!(
        v.video.as_ref().and_then(|a| a.id.as_deref()),
        Some("10159659015335731")
    );
    // Webhooks send the status in lower case.
    let v: LiveVideo = round_trip(json!({"status": "vod"}));
    assert_eq!(v.status, Some(LiveVideoStatus::Vod));
    assert_eq!(serde_json::to_value(&v).unwrap(), json!({"status": "VOD"}));
    let v: LiveVideo = round_trip(json!({"status": "ARCHIVED_FOR_GOOD"}));
    assert_eq!(
        v.status,
        Some(LiveVideoStatus::Unknown("ARCHIVED_FOR_GOOD".into()))
    );
}

#[test]
fn insights_results() {
    let payload = json!({
        "name": "page_impressions",
        "period": "day",
        "values": [
            {"value": 42, "end_time": "2026-11-19T08:00:00+0000"},
            {"value": {"mobile": 3, "desktop": 1}, "end_time": "2026-11-20T08:00:00+0000"}
        ],
        "title": "Daily Total Impressions",
        "description": "Daily: The number of times any content from your Page entered a person's screen.",
        "id": "448242228374517/insights/page_impressions/day"
    });
    let r: InsightsResult = round_trip(payload.clone());
    assert_eq!(r.period, Some(InsightsPeriod::Day));
    let values = r.values.as_ref().unwrap();
    assert_eq!(values[0].value, Some(json!(42)));
    assert_eq!(values[1].value.as_ref().unwrap()["mobile"], 3);
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        payload,
        "exact round trip"
    );

    let r: InstagramInsightsResult = round_trip(json!({
        "name": "reach",
        "period": "days_28",
        "total_value": {"value": 120},
        "values": [{"value": 7, "end_time": "2026-11-20T08:00:00+0000"}],
        "id": "17841405822304914/insights/reach/days_28"
    }));
    assert_eq!(r.period, Some(InsightsPeriod::Days28));
    assert_eq!(r.total_value.as_ref().unwrap()["value"], 120);
    let r: InstagramInsightsResult = round_trip(json!({"period": "days_90"}));
    assert_eq!(r.period, Some(InsightsPeriod::Unknown("days_90".into())));

    let limit: ContentPublishingLimit = round_trip(
        json!({"config": {"quota_total": 100, "quota_duration": 86400}, "quota_usage": "2"}),
    );
    assert_eq!(limit.quota_usage, Some(2));
    assert_eq!(limit.config.as_ref().unwrap()["quota_total"], 100);
}

#[test]
fn empty_structs_serialize_to_nothing() {
    assert_eq!(serde_json::to_value(Page::default()).unwrap(), json!({}));
    let mut c = IgContainer::default();
    c.status_code = Some(IgContainerStatusCode::InProgress);
    assert_eq!(
        serde_json::to_value(&c).unwrap(),
        json!({"status_code": "IN_PROGRESS"})
    );
}

#[test]
fn bad_values_are_errors_not_silence() {
    assert!(serde_json::from_value::<Comment>(json!({"like_count": "many"})).is_err());
    assert!(serde_json::from_value::<IgMedia>(json!({"like_count": {"n": 1}})).is_err());
}

#[test]
fn enums_parse_display_and_serialize() {
    for preset in DatePreset::ALL {
        assert_eq!(&preset.as_str().parse::<DatePreset>().unwrap(), preset);
        assert_eq!(
            serde_json::to_value(preset).unwrap(),
            json!(preset.as_str())
        );
    }
    assert_eq!(DatePreset::Last28d.as_str(), "last_28d");
    assert_eq!(InsightsPeriod::Days28.to_string(), "days_28");
    assert_eq!(CommentFilter::Toplevel.as_ref(), "toplevel");
    assert_eq!(MessagingType::MessageTag.as_str(), "MESSAGE_TAG");
    assert_eq!(
        "UPDATE".parse::<MessagingType>().unwrap(),
        MessagingType::Update
    );
    let unknown: MessagingType = serde_json::from_value(json!("SOMETHING_NEW")).unwrap();
    assert_eq!(
        serde_json::to_value(&unknown).unwrap(),
        json!("SOMETHING_NEW")
    );
}

#[test]
fn field_lists() {
    let req = meta_core::GraphRequest::get("17841405822304914/media").fields([
        IgMediaField::Id,
        IgMediaField::MediaType,
        IgMediaField::Raw("children{id}".into()),
    ]);
    assert_eq!(
        req.get_params().get("fields"),
        Some(&json!("id,media_type,children{id}"))
    );
    assert_eq!(
        meta_graph::fields::fields_param([IgContainerField::StatusCode, IgContainerField::Status]),
        "status_code,status"
    );
    assert_eq!(PageField::AccessToken.to_string(), "access_token");
    assert_eq!(CommentField::from_name("from"), CommentField::From);
    assert_eq!(IgCommentField::ALL.len(), 11);
    for f in IgMediaField::ALL {
        assert_eq!(&IgMediaField::from_name(f.as_str()), f);
    }
}
