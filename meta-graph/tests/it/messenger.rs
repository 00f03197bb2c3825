//! Messenger against meta-sandbox: the Send API shapes, the sandbox's policy errors, and
//! the messaging-policy guard refusing before any call (concurrent private replies, the
//! 7-day limit, the 24-hour window, tags as configuration).

use std::sync::Arc;
use std::time::Duration;

use meta_core::clock::{Clock, ManualClock};
use meta_core::{Client, ErrorKind, RetryConfig};
use meta_graph::generated::SenderAction;
use meta_graph::messenger::policy::{MessagingGuard, PolicyConfig};
use meta_graph::messenger::{Button, Element, Message, MessageTag, QuickReply};
use meta_graph::{Error, GraphExt, PolicyRule};
use meta_sandbox::{Sandbox, SandboxControl};

struct Env {
    sandbox: Sandbox,
    client: Client,
    clock: Arc<ManualClock>,
    page: String,
    /// A fresh comment (inside the 7-day window) by a person.
    comment: String,
    /// Its author's PSID.
    psid: String,
}

impl Env {
    async fn start() -> Env {
        let sandbox = Sandbox::start().await.unwrap();
        let page = sandbox.fixtures().pages[0].clone();
        // The client's clock starts at the sandbox's time; tests move both together.
        let clock = Arc::new(ManualClock::new(sandbox.control().now_unix()));
        let client = Client::builder()
            .base_url(sandbox.base_url())
            .access_token(page.access_token.clone())
            .retry(RetryConfig::disabled())
            .clock(clock.clone())
            .build()
            .unwrap();
        let feed: serde_json::Value = client
            .get(&format!("{}/feed", page.id), [("limit", "1")])
            .await
            .unwrap();
        let post = feed["data"][0]["id"].as_str().unwrap().to_owned();
        let comment = sandbox
            .control()
            .add_comment(
                &post,
                "7100000000000001",
                "Rosa Lima",
                "How much is the blue mug?",
            )
            .unwrap();
        Env {
            client,
            clock,
            page: page.id,
            comment,
            psid: "7100000000000001".to_owned(),
            sandbox,
        }
    }

    fn control(&self) -> SandboxControl {
        self.sandbox.control()
    }

    fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.control().advance_clock(by);
    }

    fn guard(&self, config: PolicyConfig) -> Arc<MessagingGuard> {
        Arc::new(MessagingGuard::in_memory(config))
    }

    fn calls(&self) -> usize {
        self.control().requests().len()
    }
}

fn policy_rule(e: &Error) -> PolicyRule {
    match e {
        Error::Policy(p) => p.rule(),
        other => panic!("expected a policy refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn concurrent_private_replies_send_exactly_one() {
    let e = Env::start().await;
    let guard = e.guard(PolicyConfig::default());
    let m = e.client.messenger().with_guard(guard.clone());
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let m = m.clone();
            let page = e.page.clone();
            let comment = e.comment.clone();
            tokio::spawn(async move {
                m.private_reply(page, comment, Message::text(format!("Hi! ({i})")))
                    .send()
                    .await
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(r) => {
                ok += 1;
                assert!(r.message_id.is_some());
            }
            Err(err) => assert_eq!(policy_rule(&err), PolicyRule::PrivateReplyAlreadySent),
        }
    }
    assert_eq!(ok, 1);
    let sent: Vec<_> = e
        .control()
        .sent_messages()
        .into_iter()
        .filter(|s| s.comment_id.as_deref() == Some(e.comment.as_str()))
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].recipient_id, e.psid);
    assert_eq!(sent[0].messaging_type, None);
    // Later attempts are refused before any call, even the comment read.
    let before = e.calls();
    let err = m
        .private_reply(&e.page, &e.comment, Message::text("again"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(policy_rule(&err), PolicyRule::PrivateReplyAlreadySent);
    assert!(err.is_refused_before_call());
    assert_eq!(e.calls(), before);
}

#[tokio::test]
async fn the_sandbox_refuses_a_second_private_reply_like_meta() {
    let e = Env::start().await;
    let m = e.client.messenger();
    m.private_reply(&e.page, &e.comment, Message::text("one"))
        .send()
        .await
        .unwrap();
    let err = m
        .private_reply(&e.page, &e.comment, Message::text("two"))
        .send()
        .await
        .unwrap_err();
    let api = err.meta().unwrap().api().unwrap();
    assert_eq!(api.code(), 10900);
    assert!(api.message().contains("already replied"));
    // A fresh guard (say, after a restart) lets it through; Meta's 10900 means the
    // comment has its reply, so the guard keeps the slot taken from then on.
    let guard = e.guard(PolicyConfig::default());
    let g = m.clone().with_guard(guard.clone());
    let err = g
        .private_reply(&e.page, &e.comment, Message::text("three"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.meta().unwrap().api().unwrap().code(), 10900);
    assert!(
        guard
            .private_reply_taken(&e.page, &e.comment)
            .await
            .unwrap()
    );
    let before = e.calls();
    let err = g
        .private_reply(&e.page, &e.comment, Message::text("four"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(policy_rule(&err), PolicyRule::PrivateReplyAlreadySent);
    assert_eq!(e.calls(), before);
}

#[tokio::test]
async fn private_replies_are_refused_after_seven_days() {
    let e = Env::start().await;
    e.control()
        .age_comment(&e.comment, Duration::from_secs(8 * 86_400));
    let guard = e.guard(PolicyConfig::default());
    let before = e.calls();
    let err = e
        .client
        .messenger()
        .with_guard(guard.clone())
        .private_reply(&e.page, &e.comment, Message::text("late"))
        .comment_created_at(e.clock.now() - Duration::from_secs(8 * 86_400))
        .send()
        .await
        .unwrap_err();
    assert_eq!(policy_rule(&err), PolicyRule::PrivateReplyTooLate);
    assert_eq!(e.calls(), before, "refused before any call");
    assert!(
        !guard
            .private_reply_taken(&e.page, &e.comment)
            .await
            .unwrap()
    );

    // Without the time given, the guard reads created_time (one GET, no send).
    let err = e
        .client
        .messenger()
        .with_guard(guard)
        .private_reply(&e.page, &e.comment, Message::text("late"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(policy_rule(&err), PolicyRule::PrivateReplyTooLate);
    assert_eq!(e.control().count("POST", "/messages"), 0);

    // Unguarded, the sandbox answers Meta's outside-window error.
    let err = e
        .client
        .messenger()
        .private_reply(&e.page, &e.comment, Message::text("late"))
        .send()
        .await
        .unwrap_err();
    let api = err.meta().unwrap().api().unwrap();
    assert_eq!((api.code(), api.subcode()), (10, Some(2_018_278)));
}

#[tokio::test]
async fn the_window_opens_only_with_the_persons_message() {
    let e = Env::start().await;
    let guard = e.guard(PolicyConfig::default());
    let m = e.client.messenger().with_guard(guard.clone());
    m.private_reply(&e.page, &e.comment, Message::text("Sent you the price"))
        .send()
        .await
        .unwrap();
    // The private reply did not open the window.
    let before = e.calls();
    let err = m
        .send(&e.page, &e.psid, Message::text("Still interested?"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(policy_rule(&err), PolicyRule::OutsideMessagingWindow);
    let err = m
        .sender_action(&e.page, &e.psid, SenderAction::TypingOn)
        .await
        .unwrap_err();
    assert_eq!(policy_rule(&err), PolicyRule::OutsideMessagingWindow);
    assert_eq!(e.calls(), before);
    // Unguarded, Meta (the sandbox) refuses too.
    let err = e
        .client
        .messenger()
        .send(&e.page, &e.psid, Message::text("Still interested?"))
        .send()
        .await
        .unwrap_err();
    let api = err.meta().unwrap().api().unwrap();
    assert_eq!((api.code(), api.subcode()), (10, Some(2_018_278)));
    assert_eq!(err.meta().unwrap().kind(), ErrorKind::Permission);

    // The person writes back: webhooks feed the guard, the window opens.
    e.control()
        .simulate_inbound_message(&e.page, &e.psid, "Yes please!");
    guard
        .record_inbound(&e.page, &e.psid, e.clock.now())
        .await
        .unwrap();
    m.sender_action(&e.page, &e.psid, SenderAction::TypingOn)
        .await
        .unwrap();
    let r = m
        .send(&e.page, &e.psid, Message::text("Great, here it is"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.recipient_id.as_deref(), Some(e.psid.as_str()));
    m.send(&e.page, &e.psid, Message::text("Shipping update"))
        .update()
        .send()
        .await
        .unwrap();

    // 25 hours later the window is closed again.
    e.advance(Duration::from_secs(25 * 3600));
    let err = m
        .send(&e.page, &e.psid, Message::text("Anything else?"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(policy_rule(&err), PolicyRule::OutsideMessagingWindow);
    // ...but a human agent may still answer within 7 days.
    m.send(
        &e.page,
        &e.psid,
        Message::text("Hi, Ana from the shop here"),
    )
    .tag(MessageTag::human_agent())
    .send()
    .await
    .unwrap();
    let last = e.control().sent_messages().pop().unwrap();
    assert_eq!(last.messaging_type.as_deref(), Some("MESSAGE_TAG"));
    assert_eq!(last.tag.as_deref(), Some("HUMAN_AGENT"));
    e.advance(Duration::from_secs(7 * 86_400));
    let err = m
        .send(&e.page, &e.psid, Message::text("Hello?"))
        .tag(MessageTag::human_agent())
        .send()
        .await
        .unwrap_err();
    assert_eq!(policy_rule(&err), PolicyRule::OutsideMessagingWindow);
}

#[tokio::test]
async fn tags_are_configuration_and_retired_tags_fail_at_meta() {
    let e = Env::start().await;
    e.control()
        .simulate_inbound_message(&e.page, &e.psid, "order #12?");
    let tag = MessageTag::new(MessageTag::POST_PURCHASE_UPDATE);
    // Default configuration: retired, refused before any call.
    let strict = e.guard(PolicyConfig::default());
    let before = e.calls();
    let err = e
        .client
        .messenger()
        .with_guard(strict)
        .send(&e.page, &e.psid, Message::text("Your order shipped"))
        .tag(tag.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(policy_rule(&err), PolicyRule::TagNotAllowed);
    assert_eq!(e.calls(), before);
    // Configured back in, the guard lets it through and Meta says it is retired.
    let old = e.guard(PolicyConfig::pre_2026_tags());
    let err = e
        .client
        .messenger()
        .with_guard(old)
        .send(&e.page, &e.psid, Message::text("Your order shipped"))
        .tag(tag)
        .send()
        .await
        .unwrap_err();
    let api = err.meta().unwrap().api().unwrap();
    assert_eq!(api.code(), 100);
    assert!(api.message().contains("POST_PURCHASE_UPDATE"));
}

#[tokio::test]
async fn templates_and_quick_replies_reach_the_send_api_as_documented() {
    let e = Env::start().await;
    e.control()
        .simulate_inbound_message(&e.page, &e.psid, "show me mugs");
    let m = e.client.messenger();
    let buttons = Message::buttons(
        "The blue mug is 12 €",
        [
            Button::postback("Buy", "BUY_BLUE_MUG"),
            Button::url("Photos", "https://example.com/mugs/blue"),
        ],
    );
    let generic = Message::generic((0..10).map(|i| {
        Element::new(format!("Mug #{i}"))
            .subtitle("Hand-thrown stoneware")
            .image_url(format!("https://example.com/mugs/{i}.jpg"))
            .button(Button::postback("Buy", format!("BUY_{i}")))
    }));
    let quick = (0..13).fold(Message::text("Which colour?"), |m, i| {
        m.quick_reply(QuickReply::text(format!("Colour {i}"), format!("C{i}")))
    });
    for msg in [buttons, generic, quick] {
        m.send(&e.page, &e.psid, msg.clone()).send().await.unwrap();
        let sent = e.control().sent_messages().pop().unwrap();
        assert_eq!(sent.message.as_ref(), Some(&msg.to_json()));
        assert_eq!(sent.messaging_type.as_deref(), Some("RESPONSE"));
    }
    // One over a limit: refused before any call.
    let before = e.calls();
    let too_many = (0..14).fold(Message::text("Which colour?"), |m, i| {
        m.quick_reply(QuickReply::text(format!("{i}"), "P"))
    });
    let err = m.send(&e.page, &e.psid, too_many).send().await.unwrap_err();
    assert!(matches!(&err, Error::Invalid(i) if i.field() == "message.quick_replies"));
    assert_eq!(e.calls(), before);
    // The sandbox enforces the same limits on raw calls: code 100.
    let four: Vec<_> = (0..4)
        .map(|i| serde_json::json!({"type": "postback", "title": format!("B{i}"), "payload": "P"}))
        .collect();
    let raw = e
        .client
        .post::<serde_json::Value>(
            &format!("{}/messages", e.page),
            meta_core::Params::new()
                .set("recipient", serde_json::json!({"id": e.psid}))
                .set("messaging_type", "RESPONSE")
                .set(
                    "message",
                    serde_json::json!({"attachment": {"type": "template", "payload": {"template_type": "button", "text": "t", "buttons": four}}}),
                ),
        )
        .await
        .unwrap_err();
    assert_eq!(raw.kind(), ErrorKind::InvalidParameter);
    // An unknown person: 100 / 2018001.
    let err = m
        .send(&e.page, "5550001", Message::text("hi"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.meta().unwrap().api().unwrap().subcode(),
        Some(2_018_001)
    );
}
