//! The Send API over HTTP: accepted shapes, Meta's policy errors (outside the window,
//! second private reply, retired tags, unknown people) and payload validation.

use crate::common::{Resp, start};

struct Ctx {
    client: crate::common::Client,
    sb: meta_sandbox::Sandbox,
    page: String,
    token: String,
    comment: String,
    psid: String,
}

async fn ctx() -> Ctx {
    let (sb, client) = start().await;
    let page = sb.fixtures().pages[0].clone();
    let feed = client
        .get(
            &format!("/v26.0/{}/feed", page.id),
            &[("access_token", page.access_token.as_str()), ("limit", "1")],
        )
        .await;
    let post = feed.json["data"][0]["id"].as_str().unwrap().to_owned();
    let comment = sb
        .control()
        .add_comment(
            &post,
            "7400000000000004",
            "Kai Moreau",
            "Do you have it in red?",
        )
        .unwrap();
    Ctx {
        client,
        page: page.id,
        token: page.access_token,
        comment,
        psid: "7400000000000004".to_owned(),
        sb,
    }
}

impl Ctx {
    async fn send(&self, form: &[(&str, &str)]) -> Resp {
        let mut f = vec![("access_token", self.token.as_str())];
        f.extend_from_slice(form);
        self.client
            .post(&format!("/v26.0/{}/messages", self.page), &f)
            .await
    }
}

#[tokio::test]
async fn private_replies_once_and_not_opening_the_window() {
    let c = ctx().await;
    let recipient = format!(r#"{{"comment_id":"{}"}}"#, c.comment);
    let r = c
        .send(&[
            ("recipient", &recipient),
            ("message", r#"{"text":"Yes, in red too!"}"#),
        ])
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["recipient_id"], c.psid.as_str());
    assert!(r.json["message_id"].as_str().unwrap().starts_with("m_"));
    // The comment now says it cannot be replied to privately.
    let g = c
        .client
        .get(
            &format!("/v26.0/{}", c.comment),
            &[
                ("access_token", c.token.as_str()),
                ("fields", "can_reply_privately"),
            ],
        )
        .await;
    assert_eq!(g.json["can_reply_privately"], false);

    let again = c
        .send(&[
            ("recipient", &recipient),
            ("message", r#"{"text":"again"}"#),
        ])
        .await;
    assert_eq!(again.error_code(), 10900);

    let to_person = format!(r#"{{"id":"{}"}}"#, c.psid);
    let r = c
        .send(&[
            ("recipient", &to_person),
            ("messaging_type", "RESPONSE"),
            ("message", r#"{"text":"hi"}"#),
        ])
        .await;
    assert_eq!((r.error_code(), r.subcode()), (10, Some(2_018_278)));
    let r = c
        .send(&[("recipient", &to_person), ("sender_action", "typing_on")])
        .await;
    assert_eq!(r.error_code(), 10);

    c.sb.control()
        .simulate_inbound_message(&c.page, &c.psid, "ok");
    let r = c
        .send(&[
            ("recipient", &to_person),
            ("messaging_type", "RESPONSE"),
            ("message", r#"{"text":"hi"}"#),
        ])
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let r = c
        .send(&[("recipient", &to_person), ("sender_action", "mark_seen")])
        .await;
    assert_eq!(r.json, serde_json::json!({"recipient_id": c.psid}));
    c.sb.control()
        .advance_clock(std::time::Duration::from_secs(25 * 3600));
    let r = c
        .send(&[
            ("recipient", &to_person),
            ("messaging_type", "UPDATE"),
            ("message", r#"{"text":"hi"}"#),
        ])
        .await;
    assert_eq!(r.subcode(), Some(2_018_278));
    let r = c
        .send(&[
            ("recipient", &to_person),
            ("messaging_type", "MESSAGE_TAG"),
            ("tag", "HUMAN_AGENT"),
            ("message", r#"{"text":"Ana here"}"#),
        ])
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let sent = c.sb.control().sent_messages();
    assert_eq!(sent.len(), 4);
    assert_eq!(sent[0].comment_id.as_deref(), Some(c.comment.as_str()));
    assert_eq!(sent[3].tag.as_deref(), Some("HUMAN_AGENT"));
}

#[tokio::test]
async fn old_comments_retired_tags_and_unknown_people() {
    let c = ctx().await;
    c.sb.control()
        .age_comment(&c.comment, std::time::Duration::from_secs(7 * 86_400 + 60));
    let recipient = format!(r#"{{"comment_id":"{}"}}"#, c.comment);
    let r = c
        .send(&[("recipient", &recipient), ("message", r#"{"text":"late"}"#)])
        .await;
    assert_eq!((r.error_code(), r.subcode()), (10, Some(2_018_278)));

    c.sb.control()
        .simulate_inbound_message(&c.page, &c.psid, "order?");
    let to_person = format!(r#"{{"id":"{}"}}"#, c.psid);
    for tag in [
        "POST_PURCHASE_UPDATE",
        "ACCOUNT_UPDATE",
        "CONFIRMED_EVENT_UPDATE",
        "MADE_UP",
    ] {
        let r = c
            .send(&[
                ("recipient", &to_person),
                ("messaging_type", "MESSAGE_TAG"),
                ("tag", tag),
                ("message", r#"{"text":"shipped"}"#),
            ])
            .await;
        assert_eq!(r.error_code(), 100, "{tag}");
    }
    let r = c
        .send(&[
            ("recipient", r#"{"id":"123"}"#),
            ("messaging_type", "RESPONSE"),
            ("message", r#"{"text":"x"}"#),
        ])
        .await;
    assert_eq!((r.error_code(), r.subcode()), (100, Some(2_018_001)));
    // Another Page's token: #230.
    let other = c.sb.fixtures().pages[1].access_token.clone();
    let r = c
        .client
        .post(
            &format!("/v26.0/{}/messages", c.page),
            &[
                ("access_token", other.as_str()),
                ("recipient", &to_person),
                ("message", r#"{"text":"x"}"#),
            ],
        )
        .await;
    assert_eq!(r.error_code(), 230);
}

#[tokio::test]
async fn payloads_are_validated_with_code_100() {
    let c = ctx().await;
    c.sb.control()
        .simulate_inbound_message(&c.page, &c.psid, "hi");
    let to = format!(r#"{{"id":"{}"}}"#, c.psid);
    let qr = |n: usize| {
        let items: Vec<String> = (0..n)
            .map(|i| format!(r#"{{"content_type":"text","title":"T{i}","payload":"P{i}"}}"#))
            .collect();
        format!(r#"{{"text":"pick","quick_replies":[{}]}}"#, items.join(","))
    };
    let buttons = |n: usize| {
        let items: Vec<String> = (0..n)
            .map(|i| format!(r#"{{"type":"postback","title":"B{i}","payload":"P"}}"#))
            .collect();
        format!(
            r#"{{"attachment":{{"type":"template","payload":{{"template_type":"button","text":"t","buttons":[{}]}}}}}}"#,
            items.join(",")
        )
    };
    let generic = |n: usize| {
        let items: Vec<String> = (0..n).map(|i| format!(r#"{{"title":"E{i}"}}"#)).collect();
        format!(
            r#"{{"attachment":{{"type":"template","payload":{{"template_type":"generic","elements":[{}]}}}}}}"#,
            items.join(",")
        )
    };
    let long = format!(r#"{{"text":"{}"}}"#, "x".repeat(2001));
    let cases: Vec<(String, bool)> = vec![
        (qr(13), true),
        (qr(14), false),
        (buttons(3), true),
        (buttons(4), false),
        (buttons(0), false),
        (generic(10), true),
        (generic(11), false),
        (long, false),
        (r#"{"text":""}"#.to_owned(), false),
        (r#"{"text":"a","attachment":{"type":"image","payload":{"url":"https://x.example/a.jpg"}}}"#.to_owned(), false),
        ("not json".to_owned(), false),
    ];
    for (message, ok) in cases {
        let r = c
            .send(&[
                ("recipient", &to),
                ("messaging_type", "RESPONSE"),
                ("message", &message),
            ])
            .await;
        if ok {
            assert_eq!(r.status, 200, "{message}: {}", r.json);
        } else {
            assert_eq!(r.error_code(), 100, "{message}");
        }
    }
    let r = c
        .send(&[("recipient", &to), ("message", r#"{"text":"no type"}"#)])
        .await;
    assert_eq!(r.error_code(), 100);
    let r = c
        .send(&[("recipient", &to), ("messaging_type", "RESPONSE")])
        .await;
    assert_eq!(r.error_code(), 100);
    let r = c.send(&[("message", r#"{"text":"x"}"#)]).await;
    assert_eq!(r.error_code(), 100);
}
