//! The outbox dispatcher against meta-sandbox through a real `GraphSender`: public and
//! private replies land, the messaging guard suppresses what policy forbids, kill
//! switches stop sends (even mid-batch) before any call, transient faults are retried on
//! the injected clock, and the payment-link placeholder is filled at send time.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use meta_commerce::Currency;
use meta_commerce::dispatch::{
    DispatchConfig, DispatchReport, Dispatcher, GraphSender, LinkFuture, LinkResolver,
    MessageSender, SendError, SendFuture,
};
use meta_commerce::memory::InMemoryCommerceStore;
use meta_commerce::store::{
    Buyer, CommerceStore, InboxComment, Live, LogFilter, OutboxKind, OutboxMessage, OutboxStatus,
    Shop,
};
use meta_core::clock::{Clock, ManualClock};
use meta_core::{Client, RetryConfig};
use meta_graph::messenger::{MessagingGuard, PolicyConfig};
use meta_sandbox::{Fault, FaultRule, Sandbox, SandboxControl};
use serde_json::json;

const SHOP: &str = "shop-1";
const LIVE: &str = "live-1";

/// Payment links by order id; `Err` entries fail once each and are then removed.
#[derive(Debug, Default)]
struct FakeLinks {
    links: Mutex<HashMap<String, Result<Option<String>, String>>>,
    calls: AtomicUsize,
}

impl FakeLinks {
    fn set(&self, order: &str, answer: Result<Option<String>, String>) {
        self.links.lock().unwrap().insert(order.to_owned(), answer);
    }
}

impl LinkResolver for FakeLinks {
    fn payment_link<'a>(&'a self, order_id: &'a str) -> LinkFuture<'a> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut links = self.links.lock().unwrap();
        let answer = match links.get(order_id).cloned() {
            Some(Err(e)) => {
                links.remove(order_id);
                Err(e)
            }
            Some(ok) => ok,
            None => Ok(None),
        };
        Box::pin(async move { answer })
    }
}

/// Delegates to the real sender and turns the shop's kill switch on after its first
/// send, as an operator would in the middle of a batch.
#[derive(Debug)]
struct FlipAfterFirst {
    inner: Arc<GraphSender>,
    store: Arc<InMemoryCommerceStore>,
    sends: AtomicUsize,
}

impl FlipAfterFirst {
    async fn after(&self, r: Result<String, SendError>) -> Result<String, SendError> {
        if self.sends.fetch_add(1, Ordering::SeqCst) == 0 {
            self.store.set_shop_kill_switch(SHOP, true).await.unwrap();
        }
        r
    }
}

impl MessageSender for FlipAfterFirst {
    fn public_reply<'a>(
        &'a self,
        page: &'a str,
        comment: &'a str,
        text: &'a str,
    ) -> SendFuture<'a> {
        Box::pin(async move {
            let r = self.inner.public_reply(page, comment, text).await;
            self.after(r).await
        })
    }
    fn private_reply<'a>(
        &'a self,
        page: &'a str,
        comment: &'a str,
        at: SystemTime,
        text: &'a str,
    ) -> SendFuture<'a> {
        Box::pin(async move {
            let r = self.inner.private_reply(page, comment, at, text).await;
            self.after(r).await
        })
    }
    fn message<'a>(&'a self, page: &'a str, to: &'a str, text: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            let r = self.inner.message(page, to, text).await;
            self.after(r).await
        })
    }
}

struct Env {
    sandbox: Sandbox,
    clock: Arc<ManualClock>,
    store: Arc<InMemoryCommerceStore>,
    guard: Arc<MessagingGuard>,
    sender: Arc<GraphSender>,
    links: Arc<FakeLinks>,
    page: String,
    post: String,
    seq: AtomicUsize,
}

fn ms(t: SystemTime) -> i64 {
    i64::try_from(t.duration_since(UNIX_EPOCH).unwrap().as_millis()).unwrap()
}

impl Env {
    async fn start() -> Env {
        let sandbox = Sandbox::start().await.unwrap();
        let page = sandbox.fixtures().pages[0].clone();
        // One clock for the dispatcher, the client and the guard, starting at the
        // sandbox's time; tests move both together.
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
        let guard = Arc::new(MessagingGuard::in_memory(PolicyConfig::default()));
        let sender = Arc::new(GraphSender::for_page(&page.id, client, guard.clone()));
        let store = Arc::new(InMemoryCommerceStore::new());
        let now = ms(clock.now());
        store
            .put_shop(&Shop::new(
                SHOP,
                "Tienda Rosa",
                &page.id,
                "CL",
                Currency::CLP,
            ))
            .await
            .unwrap();
        store
            .put_live(&Live::new(LIVE, SHOP, &post, "Live de martes", now))
            .await
            .unwrap();
        Env {
            sandbox,
            clock,
            store,
            guard,
            sender,
            links: Arc::new(FakeLinks::default()),
            page: page.id,
            post,
            seq: AtomicUsize::new(0),
        }
    }

    fn control(&self) -> SandboxControl {
        self.sandbox.control()
    }

    fn now_ms(&self) -> i64 {
        ms(self.clock.now())
    }

    fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.control().advance_clock(by);
    }

    fn dispatcher(&self) -> Dispatcher {
        self.dispatcher_with(self.sender.clone(), DispatchConfig::default())
    }

    fn dispatcher_with(
        &self,
        sender: Arc<dyn MessageSender>,
        mut config: DispatchConfig,
    ) -> Dispatcher {
        config.owner = "test-worker".to_owned();
        Dispatcher::new(
            self.store.clone(),
            sender,
            self.links.clone(),
            self.clock.clone(),
        )
        .config(config)
    }

    /// A buyer's comment on the live post: in the sandbox and in the store's inbox.
    async fn comment(&self, psid: &str, name: &str, text: &str) -> String {
        let id = self
            .control()
            .add_comment(&self.post, psid, name, text)
            .unwrap();
        let now = self.now_ms();
        let row: InboxComment = serde_json::from_value(json!({
            "comment_id": id, "shop_id": SHOP, "live_id": LIVE, "post_id": self.post,
            "buyer_id": psid, "buyer_name": name, "text": text, "created_time_ms": now,
            "received_at_ms": now, "status": "processed", "detail": null,
        }))
        .unwrap();
        self.store.insert_inbox(&[row]).await.unwrap();
        let mut tx = self.store.begin().await.unwrap();
        tx.put_buyers(&[Buyer::new(SHOP, psid, Some(name.to_owned()), now)])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        id
    }

    async fn enqueue(
        &self,
        kind: OutboxKind,
        buyer: &str,
        comment: Option<&str>,
        order: Option<&str>,
        text: &str,
    ) -> String {
        let n = self.seq.fetch_add(1, Ordering::SeqCst);
        let id = format!("out-{n:03}");
        let now = self.now_ms();
        let msg: OutboxMessage = serde_json::from_value(json!({
            "id": id, "shop_id": SHOP, "live_id": LIVE, "buyer_id": buyer,
            "kind": kind.as_str(), "comment_id": comment, "order_id": order, "text": text,
            "dedupe_key": format!("test:{id}"), "status": "pending", "attempts": 0,
            "next_attempt_at_ms": now, "origin_received_at_ms": now,
            // Claim order follows enqueue order.
            "created_at_ms": now + i64::try_from(n).unwrap(),
            "finished_at_ms": null, "detail": null, "lease_owner": null, "lease_until_ms": null,
        }))
        .unwrap();
        let mut tx = self.store.begin().await.unwrap();
        tx.enqueue(&[msg]).await.unwrap();
        tx.commit().await.unwrap();
        id
    }

    async fn row(&self, id: &str) -> OutboxMessage {
        self.store
            .outbox(&LogFilter::default())
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.id == id)
            .unwrap()
    }

    /// Opens the 24-hour window: the person wrote to the Page (sandbox and guard).
    async fn inbound(&self, psid: &str) {
        self.control()
            .simulate_inbound_message(&self.page, psid, "hola");
        self.guard
            .record_inbound(&self.page, psid, self.clock.now())
            .await
            .unwrap();
    }
}

fn report(
    claimed: usize,
    sent: usize,
    suppressed: usize,
    failed: usize,
    retried: usize,
) -> DispatchReport {
    DispatchReport {
        claimed,
        sent,
        suppressed,
        failed,
        retried,
        abandoned: 0,
    }
}

fn transient_fault() -> Fault {
    Fault::GraphError {
        status: 503,
        code: 2,
        subcode: None,
        transient: Some(true),
        message: "Service temporarily unavailable".to_owned(),
    }
}

#[tokio::test]
async fn a_public_reply_lands_under_the_comment() {
    let env = Env::start().await;
    let c = env
        .comment("7100000000000001", "Rosa Lima", "quiero la 7 talla M")
        .await;
    let id = env
        .enqueue(
            OutboxKind::PublicReply,
            "7100000000000001",
            Some(&c),
            None,
            "¡Reservado, Rosa! Te escribimos por privado 📩",
        )
        .await;

    let r = env.dispatcher().tick().await.unwrap();
    assert_eq!(r, report(1, 1, 0, 0, 0));
    let row = env.row(&id).await;
    assert_eq!(row.status, OutboxStatus::Sent);
    assert_eq!(row.attempts, 1);
    let reply_id = row.detail.unwrap();
    assert_eq!(env.control().comment_ids(&c), vec![reply_id]);
    // Nothing left to do.
    assert_eq!(
        env.dispatcher().tick().await.unwrap(),
        DispatchReport::default()
    );
}

#[tokio::test]
async fn a_comment_gets_one_private_reply_and_the_guard_suppresses_a_second() {
    let env = Env::start().await;
    let psid = "7100000000000002";
    let c = env.comment(psid, "Ana Soto", "me llevo 2").await;
    let first = env
        .enqueue(
            OutboxKind::PrivateReply,
            psid,
            Some(&c),
            None,
            "Tu pedido: 2 x Polera",
        )
        .await;
    let second = env
        .enqueue(OutboxKind::PrivateReply, psid, Some(&c), None, "Otra vez")
        .await;

    let r = env.dispatcher().tick().await.unwrap();
    assert_eq!(r, report(2, 1, 1, 0, 0));
    assert_eq!(env.row(&first).await.status, OutboxStatus::Sent);
    let second = env.row(&second).await;
    assert_eq!(second.status, OutboxStatus::Suppressed);
    assert!(
        second
            .detail
            .unwrap()
            .contains("private reply already sent")
    );
    let sent = env.control().sent_messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].comment_id.as_deref(), Some(c.as_str()));
    assert_eq!(sent[0].recipient_id, psid);
    assert_eq!(
        sent[0].message.as_ref().unwrap()["text"],
        "Tu pedido: 2 x Polera"
    );
}

#[tokio::test]
async fn a_message_waits_for_the_buyers_own_message() {
    let env = Env::start().await;
    let psid = "7100000000000003";
    env.comment(psid, "Luis Rojas", "la 3").await;
    let calls = env.control().requests().len();
    let early = env
        .enqueue(OutboxKind::Message, psid, None, None, "¿Qué talla?")
        .await;

    let r = env.dispatcher().tick().await.unwrap();
    assert_eq!(r, report(1, 0, 1, 0, 0));
    let early = env.row(&early).await;
    assert_eq!(early.status, OutboxStatus::Suppressed);
    assert!(early.detail.unwrap().contains("24-hour"));
    // The guard refused before any call.
    assert_eq!(env.control().requests().len(), calls);

    env.inbound(psid).await;
    let later = env
        .enqueue(OutboxKind::Message, psid, None, None, "¿Qué talla?")
        .await;
    let r = env.dispatcher().tick().await.unwrap();
    assert_eq!(r, report(1, 1, 0, 0, 0));
    let later = env.row(&later).await;
    assert_eq!(later.status, OutboxStatus::Sent);
    let sent = env.control().sent_messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].recipient_id, psid);
    assert_eq!(Some(later.detail.unwrap()), sent[0].message_id);
}

#[tokio::test]
async fn the_shop_kill_switch_suppresses_every_claimed_message_without_a_call() {
    let env = Env::start().await;
    let psid = "7100000000000004";
    let c = env.comment(psid, "Eva Díaz", "la 5").await;
    env.inbound(psid).await;
    let ids = [
        env.enqueue(OutboxKind::PublicReply, psid, Some(&c), None, "¡Reservado!")
            .await,
        env.enqueue(
            OutboxKind::PrivateReply,
            psid,
            Some(&c),
            Some("o-1"),
            "Paga: {payment_link}",
        )
        .await,
        env.enqueue(OutboxKind::Message, psid, None, None, "Hola")
            .await,
    ];
    env.links
        .set("o-1", Ok(Some("https://pay.example/o-1".to_owned())));
    env.store.set_shop_kill_switch(SHOP, true).await.unwrap();
    let calls = env.control().requests().len();

    let r = env.dispatcher().tick().await.unwrap();
    assert_eq!(r, report(3, 0, 3, 0, 0));
    for id in &ids {
        let row = env.row(id).await;
        assert_eq!(row.status, OutboxStatus::Suppressed);
        assert_eq!(row.detail.as_deref(), Some("kill switch"));
    }
    assert_eq!(env.control().requests().len(), calls);
    assert!(env.control().sent_messages().is_empty());
    // No payment link is made for a message that will not go out.
    assert_eq!(env.links.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn the_live_kill_switch_suppresses_that_lives_messages() {
    let env = Env::start().await;
    let psid = "7100000000000005";
    let c = env.comment(psid, "Pía Mora", "la 1").await;
    let id = env
        .enqueue(OutboxKind::PublicReply, psid, Some(&c), None, "¡Reservado!")
        .await;
    env.store.set_live_kill_switch(LIVE, true).await.unwrap();
    let calls = env.control().requests().len();

    let r = env.dispatcher().tick().await.unwrap();
    assert_eq!(r, report(1, 0, 1, 0, 0));
    assert_eq!(env.row(&id).await.detail.as_deref(), Some("kill switch"));
    assert_eq!(env.control().requests().len(), calls);
}

#[tokio::test]
async fn a_kill_switch_flipped_mid_batch_stops_the_rest() {
    let env = Env::start().await;
    let mut ids = Vec::new();
    for i in 0..4 {
        let psid = format!("71000000000001{i:02}");
        let c = env.comment(&psid, "Comprador", "la 2").await;
        ids.push(
            env.enqueue(
                OutboxKind::PublicReply,
                &psid,
                Some(&c),
                None,
                "¡Reservado!",
            )
            .await,
        );
    }
    let sender = Arc::new(FlipAfterFirst {
        inner: env.sender.clone(),
        store: env.store.clone(),
        sends: AtomicUsize::new(0),
    });
    let before = env.control().count("POST", "/comments");

    let r = env
        .dispatcher_with(sender, DispatchConfig::default())
        .tick()
        .await
        .unwrap();
    assert_eq!(r, report(4, 1, 3, 0, 0));
    assert_eq!(env.row(&ids[0]).await.status, OutboxStatus::Sent);
    for id in &ids[1..] {
        let row = env.row(id).await;
        assert_eq!(row.status, OutboxStatus::Suppressed, "{id}");
        assert_eq!(row.detail.as_deref(), Some("kill switch"));
    }
    assert_eq!(env.control().count("POST", "/comments"), before + 1);
}

#[tokio::test]
async fn a_transient_fault_is_retried_after_the_backoff_then_sent() {
    let env = Env::start().await;
    let psid = "7100000000000006";
    let c = env.comment(psid, "Sara Paz", "me llevo la 4").await;
    let id = env
        .enqueue(
            OutboxKind::PrivateReply,
            psid,
            Some(&c),
            None,
            "Tu pedido está listo",
        )
        .await;
    env.control().inject(
        FaultRule::new(transient_fault())
            .method("POST")
            .path_contains("/messages"),
    );
    let d = env.dispatcher();

    let before = env.now_ms();
    let r = d.tick().await.unwrap();
    let after = env.now_ms();
    assert_eq!(r, report(1, 0, 0, 0, 1));
    let row = env.row(&id).await;
    assert_eq!(row.status, OutboxStatus::Pending);
    assert_eq!(row.attempts, 1);
    assert!(row.detail.unwrap().starts_with("transient"));
    // First backoff of the default schedule: 5 s after the failure.
    assert!((before + 5_000..=after + 5_000).contains(&row.next_attempt_at_ms));
    assert!(env.control().sent_messages().is_empty());

    // Not due yet.
    assert_eq!(d.tick().await.unwrap(), DispatchReport::default());
    env.advance(Duration::from_secs(5));
    let r = d.tick().await.unwrap();
    assert_eq!(r, report(1, 1, 0, 0, 0));
    let row = env.row(&id).await;
    assert_eq!(row.status, OutboxStatus::Sent);
    assert_eq!(row.attempts, 2);
    // Meta answered the first attempt, so the guard released the comment's slot and the
    // retry went through once.
    assert_eq!(env.control().sent_messages().len(), 1);
}

#[tokio::test]
async fn retries_stop_after_the_configured_attempts() {
    let env = Env::start().await;
    let psid = "7100000000000007";
    env.comment(psid, "Tito Paz", "la 9").await;
    env.inbound(psid).await;
    let id = env
        .enqueue(OutboxKind::Message, psid, None, None, "Hola")
        .await;
    env.control().inject(
        FaultRule::new(transient_fault())
            .method("POST")
            .path_contains("/messages")
            .times(2),
    );
    let mut config = DispatchConfig::default();
    config.retry = RetryConfig::standard()
        .max_attempts(2)
        .initial_backoff(Duration::from_secs(1));
    let d = env.dispatcher_with(env.sender.clone(), config);

    assert_eq!(d.tick().await.unwrap(), report(1, 0, 0, 0, 1));
    env.advance(Duration::from_secs(1));
    assert_eq!(d.tick().await.unwrap(), report(1, 0, 0, 1, 0));
    let row = env.row(&id).await;
    assert_eq!(row.status, OutboxStatus::Failed);
    assert_eq!(row.attempts, 2);
    assert!(row.detail.unwrap().contains("gave up after 2 attempts"));
}

#[tokio::test]
async fn a_private_reply_with_an_unknown_outcome_is_not_resent() {
    let env = Env::start().await;
    let psid = "7100000000000008";
    let c = env.comment(psid, "Nico Vera", "la 8").await;
    let id = env
        .enqueue(OutboxKind::PrivateReply, psid, Some(&c), None, "Tu pedido")
        .await;
    // Meta applies the send, then the connection drops: we cannot know it arrived.
    env.control().inject(
        FaultRule::new(Fault::DropAfterApply)
            .method("POST")
            .path_contains("/messages"),
    );

    let r = env.dispatcher().tick().await.unwrap();
    assert_eq!(r, report(1, 0, 0, 1, 0));
    let row = env.row(&id).await;
    assert_eq!(row.status, OutboxStatus::Failed);
    assert!(row.detail.unwrap().contains("outcome unknown"));
    assert_eq!(env.control().sent_messages().len(), 1);
}

#[tokio::test]
async fn the_payment_link_is_filled_in_at_send_time() {
    let env = Env::start().await;
    let psid = "7100000000000009";
    let c1 = env.comment(psid, "Rosa Lima", "la 7").await;
    let c2 = env.comment(psid, "Rosa Lima", "y la 8").await;
    let c3 = env.comment(psid, "Rosa Lima", "y la 9").await;
    env.links
        .set("o-open", Ok(Some("https://pay.example/o-open".to_owned())));
    env.links.set("o-closed", Ok(None));
    env.links
        .set("o-flaky", Err("gateway timed out".to_owned()));
    let open = env
        .enqueue(
            OutboxKind::PrivateReply,
            psid,
            Some(&c1),
            Some("o-open"),
            "Total $12.990 CLP. Paga aquí: {payment_link}",
        )
        .await;
    let closed = env
        .enqueue(
            OutboxKind::PrivateReply,
            psid,
            Some(&c2),
            Some("o-closed"),
            "Paga aquí: {payment_link}",
        )
        .await;
    let flaky = env
        .enqueue(
            OutboxKind::PrivateReply,
            psid,
            Some(&c3),
            Some("o-flaky"),
            "Paga aquí: {payment_link}",
        )
        .await;
    let d = env.dispatcher();

    let r = d.tick().await.unwrap();
    assert_eq!(r, report(3, 1, 1, 0, 1));
    assert_eq!(env.row(&open).await.status, OutboxStatus::Sent);
    let closed = env.row(&closed).await;
    assert_eq!(closed.status, OutboxStatus::Suppressed);
    assert_eq!(closed.detail.as_deref(), Some("order no longer open"));
    let flaky_row = env.row(&flaky).await;
    assert_eq!(flaky_row.status, OutboxStatus::Pending);
    assert!(flaky_row.detail.unwrap().contains("gateway timed out"));
    let sent = env.control().sent_messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].message.as_ref().unwrap()["text"],
        "Total $12.990 CLP. Paga aquí: https://pay.example/o-open"
    );

    // The resolver recovers: the retry sends the link.
    env.links.set(
        "o-flaky",
        Ok(Some("https://pay.example/o-flaky".to_owned())),
    );
    env.advance(Duration::from_secs(5));
    assert_eq!(d.tick().await.unwrap(), report(1, 1, 0, 0, 0));
    let sent = env.control().sent_messages();
    assert_eq!(
        sent[1].message.as_ref().unwrap()["text"],
        "Paga aquí: https://pay.example/o-flaky"
    );
}

#[tokio::test]
async fn opted_out_and_anonymized_buyers_get_nothing() {
    let env = Env::start().await;
    let mut ids = Vec::new();
    for (psid, anonymized) in [("7100000000000010", false), ("7100000000000011", true)] {
        let c = env.comment(psid, "Comprador", "la 1").await;
        let mut b = Buyer::new(SHOP, psid, None, env.now_ms());
        b.opted_out = !anonymized;
        b.anonymized = anonymized;
        let mut tx = env.store.begin().await.unwrap();
        tx.put_buyers(&[b]).await.unwrap();
        tx.commit().await.unwrap();
        ids.push(
            env.enqueue(OutboxKind::PublicReply, psid, Some(&c), None, "¡Reservado!")
                .await,
        );
    }
    let calls = env.control().requests().len();

    assert_eq!(
        env.dispatcher().tick().await.unwrap(),
        report(2, 0, 2, 0, 0)
    );
    for id in &ids {
        assert_eq!(env.row(id).await.detail.as_deref(), Some("opted out"));
    }
    assert_eq!(env.control().requests().len(), calls);
}

#[tokio::test]
async fn a_public_reply_with_a_price_or_a_link_is_refused() {
    let env = Env::start().await;
    let psid = "7100000000000012";
    let c = env.comment(psid, "Rosa Lima", "precio?").await;
    let price = env
        .enqueue(
            OutboxKind::PublicReply,
            psid,
            Some(&c),
            None,
            "Sale $12.990",
        )
        .await;
    let link = env
        .enqueue(
            OutboxKind::PublicReply,
            psid,
            Some(&c),
            Some("o-1"),
            "Paga en {payment_link}",
        )
        .await;
    env.links
        .set("o-1", Ok(Some("https://pay.example/o-1".to_owned())));
    let calls = env.control().requests().len();

    assert_eq!(
        env.dispatcher().tick().await.unwrap(),
        report(2, 0, 0, 2, 0)
    );
    for id in [&price, &link] {
        let row = env.row(id).await;
        assert_eq!(row.status, OutboxStatus::Failed);
        assert_eq!(
            row.detail.as_deref(),
            Some("public replies carry no prices or links")
        );
    }
    assert_eq!(env.control().requests().len(), calls);
    assert_eq!(env.links.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_shop_whose_page_has_no_token_fails_for_good() {
    let env = Env::start().await;
    let psid = "7100000000000013";
    let c = env.comment(psid, "Rosa Lima", "la 2").await;
    let other = Shop::new(SHOP, "Tienda Rosa", "999999999", "CL", Currency::CLP);
    env.store.put_shop(&other).await.unwrap();
    let id = env
        .enqueue(OutboxKind::PublicReply, psid, Some(&c), None, "¡Reservado!")
        .await;

    assert_eq!(
        env.dispatcher().tick().await.unwrap(),
        report(1, 0, 0, 1, 0)
    );
    assert!(env.row(&id).await.detail.unwrap().contains("no Page token"));
}

#[tokio::test]
async fn run_sends_until_shut_down() {
    let env = Env::start().await;
    let psid = "7100000000000014";
    let c = env.comment(psid, "Rosa Lima", "la 2").await;
    let id = env
        .enqueue(OutboxKind::PublicReply, psid, Some(&c), None, "¡Reservado!")
        .await;
    let d = Arc::new(env.dispatcher());
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn({
        let d = d.clone();
        async move { d.run(shutdown).await }
    });

    let mut status = OutboxStatus::Pending;
    for _ in 0..10_000 {
        status = env.row(&id).await.status;
        if status != OutboxStatus::Pending {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(status, OutboxStatus::Sent);
    stop.send(true).unwrap();
    worker.await.unwrap();
    // The loop slept on the injected clock between ticks, never on the wall clock.
    assert!(env.clock.sleep_count() > 0);
}

#[tokio::test]
async fn a_capped_kill_switch_refresh_is_still_read_again_every_tick() {
    let env = Env::start().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let psid = format!("71000000000002{i:02}");
        let c = env.comment(&psid, "Comprador", "la 2").await;
        ids.push(
            env.enqueue(
                OutboxKind::PublicReply,
                &psid,
                Some(&c),
                None,
                "¡Reservado!",
            )
            .await,
        );
    }
    let sender = Arc::new(FlipAfterFirst {
        inner: env.sender.clone(),
        store: env.store.clone(),
        sends: AtomicUsize::new(0),
    });
    let mut config = DispatchConfig::default();
    // The clock does not move during the batch, so the shop read first is reused.
    config.kill_switch_refresh = Duration::from_millis(50);
    let d = env.dispatcher_with(sender, config);

    assert_eq!(d.tick().await.unwrap(), report(3, 3, 0, 0, 0));
    // The next tick starts with no cache and sees the switch.
    let psid = "7100000000000299";
    let c = env.comment(psid, "Comprador", "la 3").await;
    let late = env
        .enqueue(OutboxKind::PublicReply, psid, Some(&c), None, "¡Reservado!")
        .await;
    assert_eq!(d.tick().await.unwrap(), report(1, 0, 1, 0, 0));
    assert_eq!(env.row(&late).await.detail.as_deref(), Some("kill switch"));
}
