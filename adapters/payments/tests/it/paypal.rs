//! PayPal Orders v2 against the fake.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;
use meta_commerce::payments::{
    PaymentError, PaymentErrorKind, PaymentGateway, PaymentNotification, PaymentState,
};
use meta_commerce::{Currency, Money};
use meta_core::clock::ManualClock;
use meta_payments::fake::{FakePayPal, FakePayPalConfig};
use meta_payments::paypal::{PayPalConfig, PayPalGateway};
use secrecy::SecretString;

use crate::common::{self, Receiver};

struct Setup {
    clock: Arc<ManualClock>,
    fake: FakePayPal,
    receiver: Receiver,
    gateway: PayPalGateway,
}

async fn setup() -> Setup {
    let clock = common::clock();
    let receiver = Receiver::start().await;
    let fake = FakePayPal::start_with(
        FakePayPalConfig::new("client-1", "secret-1")
            .with_clock(common::dyn_clock(&clock))
            .with_webhook_url(format!("{}/webhooks/paypal", receiver.base_url)),
    )
    .await
    .unwrap();
    let gateway = gateway_for(&fake, &clock, "secret-1");
    Setup {
        clock,
        fake,
        receiver,
        gateway,
    }
}

fn gateway_for(fake: &FakePayPal, clock: &Arc<ManualClock>, secret: &str) -> PayPalGateway {
    let config = PayPalConfig::new(
        fake.client_id(),
        SecretString::from(secret),
        fake.webhook_id(),
    )
    .with_base_url(fake.base_url());
    PayPalGateway::new(config, common::dyn_clock(clock)).unwrap()
}

fn usd(order: &str, clock: &ManualClock) -> meta_commerce::payments::PaymentRequest {
    let mut r = common::request(order, Currency::USD, clock);
    r.amount = Money::new(14_950, Currency::USD);
    r
}

fn kind<T: std::fmt::Debug>(r: Result<T, PaymentError>) -> PaymentErrorKind {
    r.unwrap_err().kind
}

#[tokio::test]
async fn creates_an_order_and_links_to_its_approval() {
    let s = setup().await;
    let link = s
        .gateway
        .create_link(&usd("ord-1", &s.clock))
        .await
        .unwrap();
    let orders = s.fake.orders();
    assert_eq!(orders.len(), 1);
    let o = &orders[0];
    assert_eq!(link.gateway, "paypal");
    assert_eq!(link.provider_ref, o.id);
    assert_eq!(link.url, o.approve_url);
    assert_eq!(o.status, "CREATED");
    assert_eq!(o.custom_id.as_deref(), Some("ord-1"));
    assert_eq!(o.reference_id.as_deref(), Some("ord-1"));
    assert_eq!(o.amount, Money::new(14_950, Currency::USD));
    assert_eq!(o.request_id.as_deref(), Some("ord-1-v1"));

    // With a return URL PayPal answers with a payer-action link instead.
    let mut r = usd("ord-2", &s.clock);
    r.return_url = Some("https://shop.example/gracias".into());
    let link = s.gateway.create_link(&r).await.unwrap();
    let o = s.fake.order(&link.provider_ref).unwrap();
    assert_eq!(o.status, "PAYER_ACTION_REQUIRED");
    assert_eq!(link.url, o.approve_url);
}

#[tokio::test]
async fn the_token_is_cached_until_it_expires_on_the_clock() {
    let s = setup().await;
    s.gateway
        .create_link(&usd("ord-1", &s.clock))
        .await
        .unwrap();
    s.gateway
        .create_link(&usd("ord-2", &s.clock))
        .await
        .unwrap();
    assert_eq!(s.fake.tokens_issued(), 1);

    // Nine hours later the token is past its life: a new one is fetched first.
    s.clock.advance(Duration::from_secs(9 * 3600));
    s.gateway
        .create_link(&usd("ord-3", &s.clock))
        .await
        .unwrap();
    assert_eq!(s.fake.tokens_issued(), 2);

    // A token PayPal stops honouring early is replaced once, transparently.
    s.fake.revoke_tokens();
    s.gateway
        .create_link(&usd("ord-4", &s.clock))
        .await
        .unwrap();
    assert_eq!(s.fake.tokens_issued(), 3);
    assert_eq!(s.fake.orders().len(), 4);
}

#[tokio::test]
async fn re_creating_with_the_same_request_id_returns_the_same_order() {
    let s = setup().await;
    let r = usd("ord-1", &s.clock);
    let a = s.gateway.create_link(&r).await.unwrap();
    let b = s.gateway.create_link(&r).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(s.fake.orders().len(), 1);
}

#[tokio::test]
async fn approval_webhook_is_verified_then_status_captures_once() {
    let s = setup().await;
    let link = s
        .gateway
        .create_link(&usd("ord-1", &s.clock))
        .await
        .unwrap();

    // Before the buyer approves, the order is pending and nothing is captured.
    let before = PaymentNotification::new("paypal", &link.provider_ref, "manual");
    let st = s.gateway.status(&before).await.unwrap();
    assert_eq!(st.state, PaymentState::Pending);
    assert_eq!(st.raw_status, "CREATED");

    let delivery = s.fake.pay(&link.url).await.unwrap();
    assert!(delivery.delivered(), "{delivery:?}");
    let got = s.receiver.last();
    assert_eq!(got.path, "/webhooks/paypal");
    let n = s.gateway.verify_webhook(got.as_webhook()).await.unwrap();
    assert_eq!(n.reference, link.provider_ref);
    assert_eq!(n.event, "CHECKOUT.ORDER.APPROVED");
    assert_eq!(s.fake.verify_calls(), 1);

    let st = s.gateway.status(&n).await.unwrap();
    assert_eq!(st.state, PaymentState::Approved);
    assert_eq!(st.order_id, "ord-1");
    assert_eq!(st.amount, Some(Money::new(14_950, Currency::USD)));
    let o = s.fake.order(&link.provider_ref).unwrap();
    assert_eq!(o.status, "COMPLETED");
    assert_eq!(o.captures.len(), 1);
    assert_eq!(st.provider_ref, o.captures[0].id);

    // Asking again reads the completed order; no second capture is attempted.
    let again = s.gateway.status(&n).await.unwrap();
    assert_eq!(again.state, PaymentState::Approved);
    let o = s.fake.order(&link.provider_ref).unwrap();
    assert_eq!(o.captures.len(), 1);
    assert_eq!(o.capture_request_ids.len(), 1);
}

#[tokio::test]
async fn a_retried_status_call_never_captures_twice() {
    let s = setup().await;
    let link = s
        .gateway
        .create_link(&usd("ord-1", &s.clock))
        .await
        .unwrap();
    s.fake.pay(&link.provider_ref).await.unwrap();
    let n = PaymentNotification::new("paypal", &link.provider_ref, "CHECKOUT.ORDER.APPROVED");

    // PayPal captures, but the answer is lost; and the retry's read is stale, so
    // the gateway sees APPROVED again and captures again — with the same
    // PayPal-Request-Id, which replays the first capture.
    s.fake.lose_next_capture_response();
    assert_eq!(
        kind(s.gateway.status(&n).await),
        PaymentErrorKind::Transient
    );
    s.fake.stale_reads(1);
    let st = s.gateway.status(&n).await.unwrap();
    assert_eq!(st.state, PaymentState::Approved);

    let o = s.fake.order(&link.provider_ref).unwrap();
    assert_eq!(o.captures.len(), 1, "exactly one capture");
    let expected_key = format!("capture-{}", o.id);
    assert_eq!(o.capture_request_ids, [expected_key.clone(), expected_key]);
    assert_eq!(st.provider_ref, o.captures[0].id);
}

#[tokio::test]
async fn a_declined_capture_is_a_rejected_payment() {
    let s = setup().await;
    let link = s
        .gateway
        .create_link(&usd("ord-1", &s.clock))
        .await
        .unwrap();
    s.fake.decline_capture("ord-1").unwrap();
    s.fake.pay("ord-1").await.unwrap();
    let n = PaymentNotification::new("paypal", &link.provider_ref, "x");
    let st = s.gateway.status(&n).await.unwrap();
    assert_eq!(st.state, PaymentState::Rejected);
    assert_eq!(st.raw_status, "INSTRUMENT_DECLINED");
    assert_eq!(st.order_id, "ord-1");
}

#[tokio::test]
async fn forged_tampered_and_stale_webhooks_are_refused() {
    let s = setup().await;
    s.gateway
        .create_link(&usd("ord-1", &s.clock))
        .await
        .unwrap();
    s.gateway
        .create_link(&usd("ord-2", &s.clock))
        .await
        .unwrap();
    s.fake.pay("ord-1").await.unwrap();
    let genuine = s.receiver.last();
    let bad = |r: Result<PaymentNotification, PaymentError>| matches!(r, Err(e) if e.kind == PaymentErrorKind::InvalidSignature);

    // Forged signature.
    let mut forged = genuine.clone();
    forged.headers.insert(
        "paypal-transmission-sig",
        HeaderValue::from_static("bm90IGEgc2lnbmF0dXJl"),
    );
    assert!(bad(s.gateway.verify_webhook(forged.as_webhook()).await));

    // Tampered body: the event now points at the other order.
    let other = s.fake.orders()[1].id.clone();
    let first = s.fake.orders()[0].id.clone();
    let mut tampered = genuine.clone();
    tampered.body = String::from_utf8(tampered.body.to_vec())
        .unwrap()
        .replace(&first, &other)
        .into();
    assert!(bad(s.gateway.verify_webhook(tampered.as_webhook()).await));

    // A certificate from elsewhere.
    let mut foreign = genuine.clone();
    foreign.headers.insert(
        "paypal-cert-url",
        HeaderValue::from_static("https://evil.example/cert.pem"),
    );
    assert!(bad(s.gateway.verify_webhook(foreign.as_webhook()).await));
    assert_eq!(s.fake.verify_calls(), 3);

    // Missing header: refused locally.
    let mut bare = genuine.clone();
    bare.headers.remove("paypal-transmission-id");
    assert!(bad(s.gateway.verify_webhook(bare.as_webhook()).await));

    assert!(s.gateway.verify_webhook(genuine.as_webhook()).await.is_ok());
    assert_eq!(s.fake.verify_calls(), 4);

    // Stale: refused locally, PayPal is not even asked.
    s.clock.advance(Duration::from_secs(11 * 60));
    assert!(bad(s.gateway.verify_webhook(genuine.as_webhook()).await));
    assert_eq!(s.fake.verify_calls(), 4);
}

#[tokio::test]
async fn http_failures_are_classified() {
    let s = setup().await;
    let r = usd("ord-1", &s.clock);
    s.fake.fail_next(1);
    assert_eq!(
        kind(s.gateway.create_link(&r).await),
        PaymentErrorKind::Transient
    );
    s.fake.fail_next_with(1, 503);
    assert_eq!(
        kind(s.gateway.create_link(&r).await),
        PaymentErrorKind::Transient
    );
    s.gateway.create_link(&r).await.unwrap();

    let wrong = gateway_for(&s.fake, &s.clock, "not-the-secret");
    let e = wrong.create_link(&r).await.unwrap_err();
    assert_eq!(e.kind, PaymentErrorKind::Auth);
    assert!(!e.message.contains("not-the-secret"));

    // PayPal wants exactly the currency's decimals; a currency it does not take is
    // refused before any call.
    let mut clp = usd("ord-2", &s.clock);
    clp.amount = Money::new(12_990, Currency::CLP);
    assert_eq!(
        kind(s.gateway.create_link(&clp).await),
        PaymentErrorKind::Unsupported
    );

    let n = PaymentNotification::new("paypal", "NOPE0000000000001", "x");
    assert_eq!(kind(s.gateway.status(&n).await), PaymentErrorKind::NotFound);
    let n = PaymentNotification::new("paypal", "../../v1/oauth2", "x");
    assert_eq!(
        kind(s.gateway.status(&n).await),
        PaymentErrorKind::Malformed
    );
}

#[tokio::test]
async fn debug_output_never_shows_secrets() {
    let s = setup().await;
    s.gateway
        .create_link(&usd("ord-1", &s.clock))
        .await
        .unwrap();
    let text = format!("{:?}", s.gateway);
    assert!(!text.contains("secret-1"), "{text}");
    assert!(!text.contains("A21AA"), "{text}");
}
