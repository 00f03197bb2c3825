//! Typed webhook events: every payload of the facts guide (§7.4) as a fixture, a
//! property test that parsing never panics, and the sandbox emitter delivering signed
//! batches to a local receiver that verifies them with `meta_core::webhook::Verifier`.

use std::path::PathBuf;

use meta_core::ids::{CommentId, PageId, PostId};
use meta_graph::webhooks::{
    self, Change, CommentVerb, IgPayloadShape, LiveStatus, MessagingKind, ParseError,
    ReactionAction, WebhookEvent, WebhookObject,
};
use proptest::prelude::*;

fn fixture(name: &str) -> Vec<u8> {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "fixtures",
        "webhooks",
        name,
    ]
    .iter()
    .collect();
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse(name: &str) -> WebhookEvent {
    webhooks::parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn only_change(ev: &WebhookEvent) -> &Change {
    let all: Vec<&Change> = ev.changes().collect();
    assert_eq!(all.len(), 1, "{ev:?}");
    all[0]
}

fn only_messaging(ev: &WebhookEvent) -> &webhooks::MessagingEvent {
    let all: Vec<_> = ev.messaging().collect();
    assert_eq!(all.len(), 1, "{ev:?}");
    all[0]
}

#[test]
fn every_fixture_parses_to_a_known_variant() {
    let dir: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", "webhooks"]
        .iter()
        .collect();
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let ev = parse(&name);
        assert!(!ev.is_empty(), "{name}");
        for c in ev.changes() {
            assert!(!matches!(c, Change::Invalid { .. }), "{name}: {c:?}");
        }
        for m in ev.messaging() {
            assert!(
                !matches!(
                    m.kind,
                    MessagingKind::Invalid { .. } | MessagingKind::Unknown { .. }
                ),
                "{name}: {m:?}"
            );
        }
        // The typed event serialises (the CLI prints it).
        serde_json::to_value(&ev).unwrap();
        n += 1;
    }
    assert!(n >= 20, "only {n} fixtures");
}

#[test]
fn generic_envelope_is_unknown_but_kept() {
    let ev = parse("generic_user_photos.json");
    assert_eq!(ev.object, WebhookObject::User);
    assert_eq!(ev.entries[0].id.as_deref(), Some("10210299214172187"));
    assert_eq!(ev.entries[0].time.unwrap().unix_seconds(), 1_520_383_571);
    match only_change(&ev) {
        Change::Unknown { field, value } => {
            assert_eq!(field, "photos");
            assert_eq!(value["object_id"], "10211885744794461");
        }
        other => panic!("{other:?}"),
    }
    assert!(only_change(&ev).dedup_key().is_none());
}

#[test]
fn feed_comment_add_from_real_capture() {
    let ev = parse("feed_comment_add.json");
    assert_eq!(ev.object, WebhookObject::Page);
    let Change::FeedComment(c) = only_change(&ev) else {
        panic!("{ev:?}")
    };
    assert_eq!(c.verb, CommentVerb::Add);
    assert_eq!(
        c.comment_id,
        CommentId::new("122131676912594941_1213590066982748")
    );
    assert_eq!(c.post_id, PostId::new("448242228374517_122131676912594941"));
    assert_eq!(c.message.as_deref(), Some("meow 2"));
    assert_eq!(c.created_time.unwrap().unix_seconds(), 1_742_667_604);
    let from = c.from.as_ref().unwrap();
    assert_eq!(from.name.as_deref(), Some("SuperTester"));
    // The Page's own comment: callers skip it to avoid reply loops.
    assert!(c.is_from_page(&PageId::new("448242228374517")));
    // parent_id is another comment here: a reply.
    assert!(c.is_reply());
    let post = c.post.as_ref().unwrap();
    assert_eq!(post.status_type.as_deref(), Some("mobile_status_update"));
    assert_eq!(post.is_published, Some(true));
    assert_eq!(
        only_change(&ev).dedup_key().unwrap(),
        "feed:122131676912594941_1213590066982748:add:1742667604000"
    );
}

#[test]
fn feed_comment_verbs() {
    for (file, verb) in [
        ("feed_comment_edited.json", CommentVerb::Edited),
        ("feed_comment_remove.json", CommentVerb::Remove),
        ("feed_comment_hide.json", CommentVerb::Hide),
    ] {
        let ev = parse(file);
        let Change::FeedComment(c) = only_change(&ev) else {
            panic!("{file}: {ev:?}")
        };
        assert_eq!(c.verb, verb, "{file}");
        assert!(!c.is_reply(), "{file}: top-level comment");
        assert!(!c.is_from_page(&PageId::new("448242228374517")));
    }
    let ev = parse("feed_comment_remove.json");
    let Change::FeedComment(c) = only_change(&ev) else {
        panic!()
    };
    assert!(c.message.is_none(), "a removed comment has no text");
}

#[test]
fn comment_on_a_live_video() {
    let ev = parse("feed_comment_live_video.json");
    let Change::FeedComment(c) = only_change(&ev) else {
        panic!("{ev:?}")
    };
    assert_eq!(c.message.as_deref(), Some("quiero 2 de la polera roja M"));
    assert_eq!(
        c.from.as_ref().unwrap().name.as_deref(),
        Some("Valentina Muñoz")
    );
    assert_eq!(
        c.post.as_ref().unwrap().status_type.as_deref(),
        Some("added_video")
    );
    assert_eq!(c.post_id.page_id(), Some(PageId::new("448242228374517")));
}

#[test]
fn live_video_status() {
    let ev = parse("live_videos_status.json");
    let Change::LiveVideo(l) = only_change(&ev) else {
        panic!("{ev:?}")
    };
    assert_eq!(l.id.as_str(), "10159659015335730");
    assert_eq!(l.status, LiveStatus::Vod);
}

#[test]
fn instagram_comment_both_login_shapes() {
    let ev = parse("instagram_comments_facebook_login.json");
    assert_eq!(ev.object, WebhookObject::Instagram);
    let Change::InstagramComment(fb) = only_change(&ev) else {
        panic!("{ev:?}")
    };
    assert_eq!(fb.shape, IgPayloadShape::FacebookLogin);
    assert_eq!(fb.comment_id.as_str(), "17865799348089039");
    assert_eq!(fb.parent_id.as_ref().unwrap().as_str(), "17865799348089001");
    assert_eq!(fb.text.as_deref(), Some("precio de la polera?"));
    assert_eq!(
        fb.from.as_ref().unwrap().username.as_deref(),
        Some("camila.rojas")
    );
    let media = fb.media.as_ref().unwrap();
    assert_eq!(media.id.as_str(), "17887498072083520");
    assert_eq!(media.ad_id.as_ref().unwrap().as_str(), "23851234567890123");
    assert_eq!(media.ad_title.as_deref(), Some("Poleras otoño"));

    let ev = parse("instagram_comments_instagram_login.json");
    let Change::InstagramComment(ig) = only_change(&ev) else {
        panic!("{ev:?}")
    };
    assert_eq!(ig.shape, IgPayloadShape::InstagramLogin);
    // Same comment, same id, whichever shape it came in.
    assert_eq!(ig.comment_id, fb.comment_id);
    assert_eq!(
        ig.media.as_ref().unwrap().media_product_type.as_deref(),
        Some("REELS")
    );

    let ev = parse("instagram_live_comments_facebook_login.json");
    let Change::InstagramLiveComment(live) = only_change(&ev) else {
        panic!("{ev:?}")
    };
    assert_eq!(live.text.as_deref(), Some("quiero 1 del polerón azul L"));
    assert_eq!(only_change(&ev).field(), "live_comments");
}

#[test]
fn instagram_mention() {
    let ev = parse("instagram_mentions.json");
    let Change::InstagramMention(m) = only_change(&ev) else {
        panic!("{ev:?}")
    };
    assert_eq!(m.media_id.as_str(), "17887498072083520");
    assert_eq!(m.comment_id.as_ref().unwrap().as_str(), "17865799348089039");
}

#[test]
fn leadgen_with_numeric_ids() {
    let ev = parse("leadgen.json");
    assert_eq!(ev.entries[0].id.as_deref(), Some("153125381133"));
    let Change::Leadgen(l) = only_change(&ev) else {
        panic!("{ev:?}")
    };
    assert_eq!(l.leadgen_id, "123123123123");
    assert_eq!(l.page_id.as_ref().unwrap().as_str(), "123123123");
    assert_eq!(l.form_id.as_deref(), Some("12312312312"));
    assert_eq!(l.ad_id.as_ref().unwrap().as_str(), "12312312312");
    assert_eq!(l.adgroup_id.as_ref().unwrap().as_str(), "12312312312");
    assert_eq!(l.created_time.unwrap().unix_seconds(), 1_440_120_384);
}

#[test]
fn messenger_message_with_quick_reply_and_attachment() {
    let ev = parse("messenger_message.json");
    // Messaging times are milliseconds.
    assert_eq!(ev.entries[0].time.unwrap().unix_millis(), 1_458_692_752_478);
    let m = only_messaging(&ev);
    assert_eq!(m.sender_id.as_deref(), Some("7310224455667788"));
    assert_eq!(m.recipient_id.as_deref(), Some("448242228374517"));
    assert_eq!(m.timestamp.unwrap().unix_seconds(), 1_458_692_752);
    assert_eq!(m.person_id().unwrap().as_str(), "7310224455667788");
    let MessagingKind::Message(msg) = &m.kind else {
        panic!("{m:?}")
    };
    assert_eq!(
        msg.mid.as_deref(),
        Some("mid.1457764197618:41d102a3e1ae206a38")
    );
    assert_eq!(msg.text.as_deref(), Some("hello, world!"));
    assert_eq!(
        msg.quick_reply.as_ref().unwrap().payload.as_deref(),
        Some("SIZE_M")
    );
    assert_eq!(msg.attachments.len(), 1);
    assert_eq!(msg.attachments[0].kind, "image");
    assert_eq!(
        msg.attachments[0].url(),
        Some("https://scontent.example/photo.jpg")
    );
    assert_eq!(
        m.dedup_key().unwrap(),
        "messaging:mid.1457764197618:41d102a3e1ae206a38"
    );
}

#[test]
fn messenger_postback_echo_read() {
    let ev = parse("messenger_postback.json");
    let MessagingKind::Postback(p) = &only_messaging(&ev).kind else {
        panic!("{ev:?}")
    };
    assert_eq!(p.payload.as_deref(), Some("BUY_POLERA_ROJA_M"));
    assert_eq!(p.title.as_deref(), Some("Comprar"));

    let ev = parse("messenger_echo.json");
    let m = only_messaging(&ev);
    let MessagingKind::Echo(echo) = &m.kind else {
        panic!("{ev:?}")
    };
    assert!(echo.is_echo);
    assert_eq!(echo.app_id.as_deref(), Some("1517776481860111"));
    // For an echo the person is the recipient.
    assert_eq!(m.person_id().unwrap().as_str(), "7310224455667788");

    let ev = parse("messenger_read.json");
    let MessagingKind::Read(r) = &only_messaging(&ev).kind else {
        panic!("{ev:?}")
    };
    assert_eq!(r.watermark.unwrap().unix_millis(), 1_458_668_856_253);
}

#[test]
fn instagram_messaging_variants() {
    let ev = parse("instagram_messaging_message.json");
    assert_eq!(ev.object, WebhookObject::Instagram);
    let MessagingKind::Message(msg) = &only_messaging(&ev).kind else {
        panic!("{ev:?}")
    };
    assert_eq!(msg.text.as_deref(), Some("hola"));
    assert_eq!(
        msg.reply_to.as_ref().unwrap()["story"]["id"],
        "17887498072083555"
    );
    assert_eq!(msg.referral.as_ref().unwrap()["source"], "ADS");
    assert_eq!(msg.attachments[0].kind, "ig_reel");

    let ev = parse("instagram_messaging_deleted.json");
    let MessagingKind::Message(msg) = &only_messaging(&ev).kind else {
        panic!("{ev:?}")
    };
    assert!(msg.is_deleted);
    assert!(msg.text.is_none());

    let ev = parse("instagram_messaging_reaction.json");
    let MessagingKind::Reaction(r) = &only_messaging(&ev).kind else {
        panic!("{ev:?}")
    };
    assert_eq!(r.action, ReactionAction::React);
    assert_eq!(r.reaction.as_deref(), Some("love"));
    assert_eq!(r.emoji.as_deref(), Some("\u{2764}\u{fe0f}"));

    let ev = parse("instagram_messaging_read.json");
    let MessagingKind::Read(r) = &only_messaging(&ev).kind else {
        panic!("{ev:?}")
    };
    assert!(r.mid.is_some());
    assert!(r.watermark.is_none());
}

#[test]
fn mixed_batch_with_unknown_and_invalid_items_keeps_the_rest() {
    let body = br#"{"object":"page","entry":[
      {"id":"1","time":1742667607,"changes":[
        {"field":"feed","value":{"item":"comment","verb":"add","post_id":"1_2","comment_id":"2_3","created_time":1742667604}},
        {"field":"feed","value":{"item":"reaction","verb":"add","post_id":"1_2","reaction_type":"love"}},
        {"field":"live_videos","value":{"id":"9","status":"LIVE_STOPPED"}},
        {"field":"leadgen","value":{"page_id":"1"}},
        {"field":"ratings","value":{"rating":5}}]},
      {"id":"1","time":1742667607123,"messaging":[
        {"sender":{"id":"5"},"recipient":{"id":"1"},"timestamp":1742667607123,"delivery":{"mids":["m_1"]}},
        {"sender":{"id":"5"},"recipient":{"id":"1"},"timestamp":1742667607124,"reaction":{"mid":"m_1"}},
        {"sender":{"id":"5"},"recipient":{"id":"1"},"timestamp":1742667607125,"message":{"mid":"m_2","text":"ok"}}]}]}"#;
    let ev = webhooks::parse(body).unwrap();
    assert_eq!(ev.len(), 8);
    let kinds: Vec<&str> = ev
        .changes()
        .map(|c| match c {
            Change::FeedComment(_) => "comment",
            Change::Feed(_) => "feed",
            Change::LiveVideo(l) => {
                assert_eq!(l.status, LiveStatus::LiveStopped);
                "live"
            }
            Change::Invalid { field, reason, .. } => {
                assert_eq!(field, "leadgen");
                assert!(reason.contains("leadgen_id"), "{reason}");
                "invalid"
            }
            Change::Unknown { .. } => "unknown",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["comment", "feed", "live", "invalid", "unknown"]);
    let kinds: Vec<&str> = ev.messaging().map(|m| m.kind.name()).collect();
    assert_eq!(kinds, ["delivery", "reaction", "message"]);
    assert!(matches!(
        ev.messaging().nth(1).unwrap().kind,
        MessagingKind::Invalid { .. }
    ));
}

#[test]
fn invalid_bodies_fail_with_a_clear_error() {
    let err = webhooks::parse(b"{\"object\":").unwrap_err();
    assert!(matches!(err, ParseError::Json(_)));
    assert!(err.to_string().contains("not valid JSON"), "{err}");
    let err = webhooks::parse(br#"{"object":"page","entry":"x"}"#).unwrap_err();
    assert!(err.to_string().contains("`entry` is not an array"), "{err}");
}

/// Any JSON value.
fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        ".{0,12}".prop_map(serde_json::Value::from),
        prop_oneof![
            Just("feed"),
            Just("comment"),
            Just("comments"),
            Just("live_videos"),
            Just("live_comments"),
            Just("mentions"),
            Just("leadgen"),
            Just("add"),
            Just("page"),
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let keys = prop_oneof![
            Just("object".to_owned()),
            Just("entry".to_owned()),
            Just("changes".to_owned()),
            Just("messaging".to_owned()),
            Just("field".to_owned()),
            Just("value".to_owned()),
            Just("item".to_owned()),
            Just("verb".to_owned()),
            Just("id".to_owned()),
            Just("time".to_owned()),
            Just("comment_id".to_owned()),
            Just("post_id".to_owned()),
            Just("message".to_owned()),
            Just("timestamp".to_owned()),
            Just("sender".to_owned()),
            "[a-z_]{1,8}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(keys, inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn parse_never_panics_on_arbitrary_json(v in arb_json()) {
        let raw = serde_json::to_vec(&v).unwrap();
        let _ = webhooks::parse(&raw);
        // Wrapped in a plausible envelope too, so the inner levels get exercised.
        let env = serde_json::json!({"object":"page","entry":[{"id":"1","changes":[v.clone(), {"field":"feed","value":v.clone()}],"messaging":[v.clone()]}]});
        let raw = serde_json::to_vec(&env).unwrap();
        let parsed = webhooks::parse(&raw);
        prop_assert!(parsed.is_ok() || matches!(parsed, Err(ParseError::Envelope(_))));
    }

    #[test]
    fn parse_never_panics_on_arbitrary_bytes(raw in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = webhooks::parse(&raw);
    }
}

// ---------------------------------------------------------------------------------
// The sandbox emitter, delivering to a real local receiver.
// ---------------------------------------------------------------------------------

mod delivery {
    use std::collections::HashSet;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use axum::Router;
    use axum::body::Bytes;
    use axum::extract::{RawQuery, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::get;
    use meta_core::webhook::{Subscription, Verifier};
    use meta_graph::webhooks::{self, Change};
    use meta_sandbox::webhooks::RecordedPauses;
    use meta_sandbox::{EmitError, LiveSale, WebhookEmitter};
    use secrecy::SecretString;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";
    const VERIFY_TOKEN: &str = "meatyhamhock";

    #[derive(Default)]
    struct Seen {
        /// Answer this many POSTs with 500 before accepting.
        fail_next: usize,
        /// Always answer 503.
        always_fail: bool,
        posts: usize,
        bad_signatures: usize,
        bodies: Vec<Vec<u8>>,
        content_types: HashSet<String>,
    }

    #[derive(Clone)]
    struct Receiver {
        seen: Arc<Mutex<Seen>>,
        verifier: Verifier,
        subscription: Subscription,
    }

    async fn post(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
        let mut seen = r.seen.lock().unwrap();
        seen.posts += 1;
        if let Some(ct) = headers.get("content-type") {
            seen.content_types.insert(ct.to_str().unwrap().to_owned());
        }
        if r.verifier.verify_headers(&body, &headers).is_err() {
            seen.bad_signatures += 1;
            return StatusCode::UNAUTHORIZED;
        }
        if seen.always_fail {
            return StatusCode::SERVICE_UNAVAILABLE;
        }
        if seen.fail_next > 0 {
            seen.fail_next -= 1;
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
        seen.bodies.push(body.to_vec());
        StatusCode::OK
    }

    async fn handshake(State(r): State<Receiver>, RawQuery(q): RawQuery) -> (StatusCode, String) {
        match r.subscription.verify_query(&q.unwrap_or_default()) {
            Ok(challenge) => (StatusCode::OK, challenge),
            Err(_) => (StatusCode::FORBIDDEN, String::new()),
        }
    }

    /// Starts a receiver; returns its callback URL and what it saw.
    async fn receiver(seen: Seen) -> (String, Arc<Mutex<Seen>>) {
        let seen = Arc::new(Mutex::new(seen));
        let state = Receiver {
            seen: seen.clone(),
            verifier: Verifier::new(SecretString::from(SECRET)),
            subscription: Subscription::new(SecretString::from(VERIFY_TOKEN)),
        };
        let app = Router::new()
            .route("/webhook", get(handshake).post(post))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        (format!("http://{addr}/webhook"), seen)
    }

    #[tokio::test]
    async fn live_sale_is_delivered_signed_with_redeliveries_and_duplicates() {
        let (url, seen) = receiver(Seen {
            fail_next: 2,
            ..Seen::default()
        })
        .await;
        let pauses = Arc::new(RecordedPauses::new());
        let emitter = WebhookEmitter::new(&url, SECRET)
            .unwrap()
            .initial_backoff(Duration::from_secs(30))
            .duplicate_rate(0.5)
            .unwrap()
            .seed(3)
            .pause(pauses.clone());
        let sale = LiveSale::new("448242228374517", 10)
            .comments(30)
            .rate_per_sec(2.0)
            .batch_size(5)
            .start_time(1_742_667_600)
            .seed(9);
        let report = emitter.live_sale(&sale).await;

        assert_eq!(report.batches, 6);
        assert_eq!(report.events, 30);
        assert_eq!(report.delivered, 6);
        assert_eq!(report.dropped, 0);
        // The first batch failed twice before it was accepted.
        assert_eq!(report.redeliveries, 2);
        assert_eq!(report.attempts, 8);
        assert!(report.duplicates > 0 && report.duplicates < 6, "{report:?}");

        let seen = seen.lock().unwrap();
        assert_eq!(seen.posts, report.attempts + report.duplicates);
        assert_eq!(seen.bad_signatures, 0);
        assert_eq!(
            seen.content_types,
            HashSet::from(["application/json".to_owned()])
        );
        assert_eq!(seen.bodies.len(), 6 + report.duplicates);

        // Waits: immediate retry, then the back-off, then the sale's pace between
        // batches (5 comments at 2/s = 2.5 s); no real sleeping happened.
        let waits = pauses.waits();
        assert_eq!(waits[0], Duration::ZERO);
        assert_eq!(waits[1], Duration::from_secs(30));
        assert_eq!(waits[2..], [Duration::from_millis(2500); 5]);

        // Every delivery parses; dedup by key recovers exactly the 30 comments.
        let mut keys = HashSet::new();
        let mut comments = 0;
        let mut buyers = HashSet::new();
        for body in &seen.bodies {
            assert!(body.is_ascii(), "non-ASCII is escaped as Meta does");
            let ev = webhooks::parse(body).unwrap();
            for c in ev.changes() {
                let Change::FeedComment(fc) = c else {
                    panic!("{c:?}")
                };
                comments += 1;
                keys.insert(c.dedup_key().unwrap());
                buyers.insert(fc.from.as_ref().unwrap().id.clone());
                assert!(!fc.is_reply());
                assert!(fc.message.as_deref().unwrap().len() > 3);
            }
        }
        assert_eq!(comments, 30 + 5 * report.duplicates);
        assert_eq!(keys.len(), 30);
        assert_eq!(buyers.len(), 10);
    }

    #[tokio::test]
    async fn gives_up_after_the_redelivery_period() {
        let (url, seen) = receiver(Seen {
            always_fail: true,
            ..Seen::default()
        })
        .await;
        let pauses = Arc::new(RecordedPauses::new());
        let emitter = WebhookEmitter::new(&url, SECRET)
            .unwrap()
            .initial_backoff(Duration::from_secs(10))
            .max_backoff(Duration::from_secs(60))
            .redeliver_for(Duration::from_secs(100))
            .pause(pauses.clone());
        let payload = serde_json::json!({"object":"page","entry":[{"id":"1","time":1,
            "changes":[{"field":"live_videos","value":{"id":"10159659015335730","status":"live"}}]}]});
        let d = emitter.deliver(&payload).await;
        assert!(!d.delivered);
        assert_eq!(d.last_status, Some(503));
        // 0 + 10 + 20 + 40 = 70 s; the next wait (60 s) would pass 100 s.
        let secs: Vec<u64> = pauses.waits().iter().map(Duration::as_secs).collect();
        assert_eq!(secs, [0, 10, 20, 40]);
        assert_eq!(d.attempts, 5);
        assert_eq!(d.waited, Duration::from_secs(70));
        assert_eq!(seen.lock().unwrap().posts, 5);
    }

    #[tokio::test]
    async fn a_wrong_secret_is_rejected_by_the_receiver() {
        let (url, seen) = receiver(Seen::default()).await;
        let emitter = WebhookEmitter::new(&url, "not-the-secret")
            .unwrap()
            .redeliver_for(Duration::ZERO)
            .pause(Arc::new(RecordedPauses::new()));
        let d = emitter
            .deliver(&serde_json::json!({"object":"page","entry":[]}))
            .await;
        assert!(!d.delivered);
        assert_eq!(d.last_status, Some(401));
        // A zero period still allows Meta's immediate retry.
        assert_eq!(d.attempts, 2);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.bad_signatures, 2);
        assert!(seen.bodies.is_empty());
    }

    #[tokio::test]
    async fn subscription_handshake() {
        let (url, _seen) = receiver(Seen::default()).await;
        let emitter = WebhookEmitter::new(&url, SECRET).unwrap();
        let challenge = emitter.verify_subscription(VERIFY_TOKEN).await.unwrap();
        assert_eq!(challenge.len(), 10);
        let err = emitter.verify_subscription("wrong").await.unwrap_err();
        assert!(matches!(err, EmitError::Handshake(_)), "{err}");
    }

    #[tokio::test]
    async fn signed_bytes_survive_unicode_escaping() {
        let (url, seen) = receiver(Seen::default()).await;
        let emitter = WebhookEmitter::new(&url, SECRET).unwrap();
        let payload = serde_json::json!({"object":"page","entry":[{"id":"448242228374517","time":1742667607,
            "changes":[{"field":"feed","value":{"item":"comment","verb":"add",
            "post_id":"448242228374517_1","comment_id":"1_2","created_time":1742667604,
            "from":{"id":"7","name":"Sofía Núñez"},"message":"me llevo 1 polerón azul L 🙋"}}]}]});
        assert!(emitter.deliver(&payload).await.delivered);
        let seen = seen.lock().unwrap();
        let raw = &seen.bodies[0];
        assert!(raw.windows(6).any(|w| w == br"\u00f3"));
        let verifier = Verifier::new(SecretString::from(SECRET));
        let ev = webhooks::verify_and_parse(&verifier, raw, &emitter.signature(raw)).unwrap();
        let Some(Change::FeedComment(c)) = ev.changes().next() else {
            panic!("{ev:?}")
        };
        assert_eq!(c.message.as_deref(), Some("me llevo 1 polerón azul L 🙋"));
        assert_eq!(
            c.from.as_ref().unwrap().name.as_deref(),
            Some("Sofía Núñez")
        );
    }

    #[test]
    fn callbacks_off_the_machine_are_refused() {
        assert!(WebhookEmitter::new("http://example.com/hook", SECRET).is_err());
        assert!(WebhookEmitter::new("https://127.0.0.1/hook", SECRET).is_err());
        assert!(WebhookEmitter::new("http://127.0.0.1/hook", "").is_err());
    }
}
