//! Comments and live videos against meta-sandbox: listing with every option, replies,
//! hide/unhide, delete, Instagram comments, live videos, and the live-comment stream
//! driven by a scripted clock (no real sleeping).

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::TryStreamExt;
use meta_core::clock::{Clock, ManualClock, Sleep};
use meta_core::{Client, ErrorKind, RetryConfig};
use meta_graph::generated::{CommentFilter, CommentLiveFilter, CommentOrder, LiveVideoStatus};
use meta_graph::{Error, GraphExt};
use meta_sandbox::{InstagramConfig, Sandbox, SandboxConfig, SandboxControl};

pub(crate) struct Env {
    pub(crate) sandbox: Sandbox,
    pub(crate) client: Client,
    pub(crate) page_id: String,
}

pub(crate) async fn env_with(config: SandboxConfig, clock: Option<Arc<dyn Clock>>) -> Env {
    let sandbox = Sandbox::start_with(config).await.unwrap();
    let page = sandbox.fixtures().pages[0].clone();
    let mut b = Client::builder()
        .base_url(sandbox.base_url())
        .access_token(page.access_token.clone())
        .retry(RetryConfig::disabled());
    if let Some(c) = clock {
        b = b.clock(c);
    }
    Env {
        client: b.build().unwrap(),
        page_id: page.id,
        sandbox,
    }
}

async fn env() -> Env {
    env_with(SandboxConfig::default(), None).await
}

/// The newest post of the Page: it carries fresh seeded comments.
async fn newest_post(e: &Env) -> String {
    let feed: serde_json::Value = e
        .client
        .get(&format!("{}/feed", e.page_id), [("limit", "1")])
        .await
        .unwrap();
    feed["data"][0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn lists_every_comment_with_the_options() {
    let e = env().await;
    let post = newest_post(&e).await;
    let seeded = e.sandbox.control().comment_ids(&post);
    assert_eq!(seeded.len(), 12);
    let all = e
        .client
        .comments()
        .list(&post)
        .limit(5)
        .paginate()
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    let ids: Vec<String> = all.iter().map(|c| c.id.clone().unwrap()).collect();
    assert_eq!(ids, seeded, "chronological by default, across 3 pages");
    assert!(all.iter().all(|c| c.message.is_some() && c.from.is_some()));

    let newest_first: Vec<String> = e
        .client
        .comments()
        .list(&post)
        .order(CommentOrder::ReverseChronological)
        .paginate()
        .unwrap()
        .map_ok(|c| c.id.unwrap())
        .try_collect()
        .await
        .unwrap();
    let mut rev = seeded.clone();
    rev.reverse();
    assert_eq!(newest_first, rev);

    // `stream` adds the replies (2 under every fourth comment).
    let stream = e
        .client
        .comments()
        .list(&post)
        .filter(CommentFilter::Stream)
        .paginate()
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(stream.len(), 12 + 3 * 2);
    assert!(stream.iter().any(|c| c.parent.is_some()));

    // `since` keeps comments created at or after it.
    let all_times: Vec<u64> = all
        .iter()
        .map(|c| {
            meta_graph::messenger::parse_graph_time(c.created_time.as_deref().unwrap())
                .unwrap()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
        })
        .collect();
    let cut = all_times[6];
    let recent = e
        .client
        .comments()
        .list(&post)
        .since_unix(cut)
        .paginate()
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(
        recent.len(),
        all_times.iter().filter(|t| **t >= cut).count()
    );
}

#[tokio::test]
async fn replies_hide_unhide_and_delete() {
    let e = env().await;
    let post = newest_post(&e).await;
    let first = e.sandbox.control().comment_ids(&post)[1].clone();
    let c = e.client.comments();

    let reply = c.reply(&first, "Thanks! Check your inbox.").await.unwrap();
    let replies = c
        .list(&first)
        .paginate()
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    let last = replies.last().unwrap();
    assert_eq!(last.id.as_deref(), Some(reply.id.as_str()));
    assert_eq!(last.from.as_ref().unwrap()["id"], e.page_id.as_str());
    // A reply to a reply joins the top-level thread.
    let nested = c.reply(&reply.id, "Also: free shipping").await.unwrap();
    assert_eq!(
        e.sandbox.control().comment_ids(&first).last(),
        Some(&nested.id)
    );

    c.hide(&first).await.unwrap();
    assert_eq!(c.get(&first).await.unwrap().is_hidden, Some(true));
    c.unhide(&first).await.unwrap();
    assert_eq!(c.get(&first).await.unwrap().is_hidden, Some(false));
    // The Page cannot hide its own comment: Meta's code 100.
    let err = c.hide(&reply.id).await.unwrap_err();
    assert_eq!(err.meta().unwrap().kind(), ErrorKind::InvalidParameter);

    c.delete(&first).await.unwrap();
    let err = c.get(&first).await.unwrap_err();
    assert_eq!(err.meta().unwrap().api().unwrap().subcode(), Some(33));
    assert!(!e.sandbox.control().comment_ids(&post).contains(&first));

    // Bad ids and messages never reach the sandbox.
    let before = e.sandbox.control().requests().len();
    assert!(matches!(
        c.reply("1/../2", "x").await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        c.reply(&post, "   ").await,
        Err(Error::Invalid(_))
    ));
    assert!(c.list("").paginate().is_err());
    assert_eq!(e.sandbox.control().requests().len(), before);
}

#[tokio::test]
async fn moderation_needs_the_page_token() {
    let e = env().await;
    let post = newest_post(&e).await;
    let id = e.sandbox.control().comment_ids(&post)[0].clone();
    let user = e.client.with_access_token(secrecy::SecretString::from(
        e.sandbox.fixtures().user_token.clone(),
    ));
    let err = user.comments().hide(&id).await.unwrap_err();
    assert_eq!(err.meta().unwrap().kind(), ErrorKind::Permission);
}

#[tokio::test]
async fn instagram_comments_use_replies_and_hide() {
    let config = SandboxConfig::default()
        .instagram(InstagramConfig::default().image_processing(Duration::ZERO));
    let e = env_with(config, None).await;
    let ig = e.sandbox.fixtures().pages[0].ig_user_id.clone();
    // Publish an image so the media exists.
    let container: serde_json::Value = e
        .client
        .post(
            &format!("{ig}/media"),
            [
                ("image_url", "https://example.com/mug.jpg"),
                ("caption", "New mug"),
            ],
        )
        .await
        .unwrap();
    let media: serde_json::Value = e
        .client
        .post(
            &format!("{ig}/media_publish"),
            [("creation_id", container["id"].as_str().unwrap())],
        )
        .await
        .unwrap();
    let media = media["id"].as_str().unwrap().to_owned();
    let c = e.client.comments();
    assert!(
        c.list_ig(&media)
            .paginate()
            .unwrap()
            .collect_all()
            .await
            .unwrap()
            .is_empty()
    );

    let ids = e.sandbox.control().add_ig_comments(&media, &ig, 4);
    let listed = c
        .list_ig(&media)
        .limit(3)
        .paginate()
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|x| x.id.clone().unwrap())
            .collect::<Vec<_>>(),
        ids
    );
    assert!(
        listed
            .iter()
            .all(|x| x.text.is_some() && x.username.is_some())
    );

    let reply = c.ig_reply(&ids[0], "Thank you!").await.unwrap();
    let replies = c
        .ig_replies(&ids[0])
        .paginate()
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(replies[0].id.as_deref(), Some(reply.id.as_str()));
    assert_eq!(replies[0].parent_id.as_deref(), Some(ids[0].as_str()));

    c.ig_set_hidden(&ids[1], true).await.unwrap();
    assert_eq!(c.get_ig(&ids[1]).await.unwrap().hidden, Some(true));
    // The Facebook parameter is not Instagram's: Meta's code 100.
    let err = c.hide(&ids[1]).await.unwrap_err();
    assert_eq!(err.meta().unwrap().kind(), ErrorKind::InvalidParameter);
    c.delete(&ids[2]).await.unwrap();
    assert_eq!(e.sandbox.control().comment_ids(&media).len(), 3);
}

#[tokio::test]
async fn live_videos_list_get_and_end() {
    let e = env().await;
    let lv = e.client.live_videos();
    let all = lv
        .list(&e.page_id)
        .paginate()
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    let live = lv
        .list(&e.page_id)
        .broadcast_status([LiveVideoStatus::Live])
        .paginate()
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(live.len(), 1);
    let id = live[0].id.clone().unwrap();
    assert_eq!(
        Some(id.clone()),
        e.sandbox.control().live_video_id(&e.page_id)
    );
    let got = lv.get(&id).await.unwrap();
    assert_eq!(got.status, Some(LiveVideoStatus::Live));
    assert!(got.title.is_some());
    lv.end(&id).await.unwrap();
    assert_eq!(
        lv.get(&id).await.unwrap().status,
        Some(LiveVideoStatus::Vod)
    );
    // Ending twice is Meta's code 100.
    assert!(lv.end(&id).await.is_err());
}

#[tokio::test]
async fn live_filter_drops_low_quality_comments_by_default() {
    let e = env_with(SandboxConfig::default().live_comments(400), None).await;
    let live = e.sandbox.control().live_video_id(&e.page_id).unwrap();
    let c = e.client.comments();
    let filtered = c
        .list(&live)
        .limit(100)
        .paginate()
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    let all = c
        .list(&live)
        .limit(100)
        .fields(meta_graph::live::LIVE_COMMENT_FIELDS)
        .live_filter(CommentLiveFilter::NoFilter)
        .paginate()
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(all.len(), 400);
    assert!(filtered.len() < all.len(), "seeded spam is filtered");
    // Seconds into the broadcast, which started 30 minutes ago.
    assert!(
        all.iter()
            .all(|c| c.live_broadcast_timestamp.is_some_and(|t| t <= 1800))
    );
}

/// A clock whose sleeps run a script against the sandbox: add live comments, end the
/// broadcast. Sleeping advances both clocks and returns at once.
#[derive(Debug)]
struct ScriptedClock {
    clock: ManualClock,
    sandbox: SandboxControl,
    live: String,
    script: Mutex<VecDeque<Step>>,
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Add(usize),
    End,
    Idle,
}

impl Clock for ScriptedClock {
    fn now(&self) -> std::time::SystemTime {
        std::time::SystemTime::now() + self.clock.elapsed()
    }
    fn elapsed(&self) -> Duration {
        self.clock.elapsed()
    }
    fn sleep(&self, duration: Duration) -> Sleep<'_> {
        let step = self.script.lock().unwrap().pop_front().unwrap_or(Step::End);
        match step {
            Step::Add(n) => {
                self.sandbox.add_live_comments(&self.live, n);
            }
            Step::End => {
                self.sandbox.end_live_video(&self.live);
            }
            Step::Idle => {}
        }
        self.sandbox.advance_clock(duration);
        self.clock.sleep(duration)
    }
}

async fn scripted(steps: &[Step], live_comments: usize) -> (Env, Arc<ScriptedClock>, String) {
    let sandbox = Sandbox::start_with(SandboxConfig::default().live_comments(live_comments))
        .await
        .unwrap();
    let page = sandbox.fixtures().pages[0].clone();
    let live = sandbox.control().live_video_id(&page.id).unwrap();
    let clock = Arc::new(ScriptedClock {
        clock: ManualClock::default(),
        sandbox: sandbox.control(),
        live: live.clone(),
        script: Mutex::new(steps.iter().copied().collect()),
    });
    let client = Client::builder()
        .base_url(sandbox.base_url())
        .access_token(page.access_token.clone())
        .retry(RetryConfig::disabled())
        .clock(clock.clone())
        .build()
        .unwrap();
    (
        Env {
            sandbox,
            client,
            page_id: page.id,
        },
        clock,
        live,
    )
}

#[tokio::test]
async fn the_live_stream_yields_each_comment_once_oldest_first_and_ends_with_the_live() {
    let steps = [
        Step::Add(3),
        Step::Idle,
        Step::Add(250),
        Step::Add(1),
        Step::End,
    ];
    let (e, clock, live) = scripted(&steps, 120).await;
    let stream = e
        .client
        .live_videos()
        .comment_stream(&live)
        .interval(Duration::from_secs(2))
        .page_size(25)
        .live_filter(CommentLiveFilter::NoFilter)
        .start()
        .unwrap();
    let got: Vec<String> = stream
        .map_ok(|c| c.id.unwrap())
        .try_collect()
        .await
        .unwrap();
    let expected = e.sandbox.control().comment_ids(&live);
    assert_eq!(expected.len(), 120 + 3 + 250 + 1);
    assert_eq!(got, expected, "every comment once, oldest first");
    assert_eq!(got.iter().collect::<HashSet<_>>().len(), got.len());
    // Five sleeps of 2 s on the injected clock, no real waiting.
    assert_eq!(clock.clock.sleep_count(), 5);
    assert_eq!(clock.clock.total_slept(), Duration::from_secs(10));
}

#[tokio::test]
async fn without_backfill_only_new_comments_come_out() {
    let steps = [Step::Add(2), Step::Add(5), Step::End];
    let (e, _clock, live) = scripted(&steps, 300).await;
    let got = e
        .client
        .live_videos()
        .comment_stream(&live)
        .backfill(false)
        .live_filter(CommentLiveFilter::NoFilter)
        .start()
        .unwrap()
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    let all = e.sandbox.control().comment_ids(&live);
    let want: Vec<String> = all[300..].to_vec();
    assert_eq!(
        got.into_iter().map(|c| c.id.unwrap()).collect::<Vec<_>>(),
        want
    );
}

#[tokio::test]
async fn dropping_the_stream_stops_polling_and_an_ended_live_yields_then_stops() {
    let (e, _clock, live) = scripted(&[Step::Idle; 100], 10).await;
    let mut stream = e
        .client
        .live_videos()
        .comment_stream(&live)
        .live_filter(CommentLiveFilter::NoFilter)
        .start()
        .unwrap();
    for _ in 0..10 {
        stream.try_next().await.unwrap().unwrap();
    }
    drop(stream);
    let polls = e.sandbox.control().count("GET", "/comments");
    tokio::task::yield_now().await;
    assert_eq!(e.sandbox.control().count("GET", "/comments"), polls);

    // A broadcast that already ended: its comments, then the end.
    e.sandbox.control().end_live_video(&live);
    let n = e
        .client
        .live_videos()
        .comment_stream(&live)
        .live_filter(CommentLiveFilter::NoFilter)
        .start()
        .unwrap()
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .len();
    assert_eq!(n, 10);
}

#[tokio::test]
async fn a_stream_on_an_unknown_video_ends_with_the_error() {
    let e = env().await;
    let mut s = e
        .client
        .live_videos()
        .comment_stream("999999")
        .start()
        .unwrap();
    let err = s.try_next().await.unwrap_err();
    assert_eq!(err.meta().unwrap().kind(), ErrorKind::InvalidParameter);
    assert!(s.try_next().await.unwrap().is_none());
}
