//! Mercado Pago Checkout Pro against the fake.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;
use meta_commerce::payments::{
    PaymentErrorKind, PaymentGateway, PaymentNotification, PaymentState,
};
use meta_commerce::{Currency, Money};
use meta_core::clock::ManualClock;
use meta_payments::fake::{FakeMercadoPago, FakeMercadoPagoConfig};
use meta_payments::mercadopago::{self, MercadoPagoConfig, MercadoPagoGateway};
use secrecy::SecretString;

use crate::common::{self, Receiver};

const SECRET: &str = "mp-webhook-secret";

struct Setup {
    clock: Arc<ManualClock>,
    fake: FakeMercadoPago,
    receiver: Receiver,
    gateway: MercadoPagoGateway,
}

async fn setup() -> Setup {
    let clock = common::clock();
    let fake = FakeMercadoPago::start_with(
        FakeMercadoPagoConfig::new(SECRET).with_clock(common::dyn_clock(&clock)),
    )
    .await
    .unwrap();
    let receiver = Receiver::start().await;
    let gateway = gateway_for(&fake, &clock, fake.access_token(), &receiver);
    Setup {
        clock,
        fake,
        receiver,
        gateway,
    }
}

fn gateway_for(
    fake: &FakeMercadoPago,
    clock: &Arc<ManualClock>,
    token: &str,
    receiver: &Receiver,
) -> MercadoPagoGateway {
    let config = MercadoPagoConfig::new(SecretString::from(token), SecretString::from(SECRET))
        .with_base_url(fake.base_url())
        .with_notification_url(format!(
            "{}/webhooks/mercadopago?shop=shop-1",
            receiver.base_url
        ));
    MercadoPagoGateway::new(config, common::dyn_clock(clock)).unwrap()
}

#[tokio::test]
async fn creates_a_preference_and_links_to_its_init_point() {
    let s = setup().await;
    let req = common::request("ord-1", Currency::MXN, &s.clock);
    let link = s.gateway.create_link(&req).await.unwrap();

    let prefs = s.fake.preferences();
    assert_eq!(prefs.len(), 1);
    let p = &prefs[0];
    assert_eq!(link.gateway, "mercadopago");
    assert_eq!(link.url, p.init_point);
    assert_eq!(link.provider_ref, p.id);
    assert_eq!(link.expires_at, req.expires_at);
    assert_eq!(p.external_reference.as_deref(), Some("ord-1"));
    assert_eq!(p.idempotency_key.as_deref(), Some("ord-1-v1"));
    assert_eq!(
        p.notification_url.as_deref(),
        Some(format!("{}/webhooks/mercadopago?shop=shop-1", s.receiver.base_url).as_str())
    );
    // 30 minutes after the test clock's start, in Mercado Pago's date format.
    assert_eq!(
        p.expiration_date_to.as_deref(),
        Some("2025-06-15T15:36:40.000+00:00")
    );
    // The lines add up to the amount, so they are itemised with exact decimals.
    assert_eq!(p.amount, Money::new(12_990, Currency::MXN));
    let items = p.request["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["unit_price"].to_string(), "59.9");
    assert_eq!(items[0]["quantity"], 2);
    assert_eq!(items[1]["unit_price"].to_string(), "10.1");
    assert_eq!(items[0]["currency_id"], "MXN");
}

#[tokio::test]
async fn a_total_that_differs_from_the_lines_is_charged_as_one_item() {
    let s = setup().await;
    let mut req = common::request("ord-2", Currency::MXN, &s.clock);
    req.amount = Money::new(11_000, Currency::MXN); // a discount
    s.gateway.create_link(&req).await.unwrap();
    let p = &s.fake.preferences()[0];
    assert_eq!(p.amount, Money::new(11_000, Currency::MXN));
    assert_eq!(p.request["items"].as_array().unwrap().len(), 1);
    assert_eq!(p.request["items"][0]["unit_price"], 110);
}

#[tokio::test]
async fn re_creating_with_the_same_key_returns_the_same_preference() {
    let s = setup().await;
    let req = common::request("ord-1", Currency::MXN, &s.clock);
    let a = s.gateway.create_link(&req).await.unwrap();
    let b = s.gateway.create_link(&req).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(s.fake.preferences().len(), 1);

    let mut v2 = req.clone();
    v2.idempotency_key = "ord-1-v2".into();
    let c = s.gateway.create_link(&v2).await.unwrap();
    assert_ne!(c.provider_ref, a.provider_ref);
    assert_eq!(s.fake.preferences().len(), 2);
}

#[tokio::test]
async fn a_genuine_notification_is_verified_and_resolves_to_an_approved_payment() {
    let s = setup().await;
    let req = common::request("ord-1", Currency::MXN, &s.clock);
    let link = s.gateway.create_link(&req).await.unwrap();

    let delivery = s.fake.pay(&link.url).await.unwrap();
    assert!(delivery.delivered(), "{delivery:?}");
    let got = s.receiver.last();
    assert_eq!(got.path, "/webhooks/mercadopago");
    assert!(
        got.query.starts_with("shop=shop-1&data.id="),
        "{}",
        got.query
    );

    let n = s.gateway.verify_webhook(got.as_webhook()).await.unwrap();
    let payment = &s.fake.payments()[0];
    assert_eq!(n.gateway, "mercadopago");
    assert_eq!(n.reference, payment.id.to_string());
    assert_eq!(n.event, "payment.created");

    let st = s.gateway.status(&n).await.unwrap();
    assert_eq!(st.state, PaymentState::Approved);
    assert_eq!(st.order_id, "ord-1");
    assert_eq!(st.provider_ref, payment.id.to_string());
    assert_eq!(st.amount, Some(Money::new(12_990, Currency::MXN)));
    assert_eq!(st.raw_status, "approved");
}

#[tokio::test]
async fn forged_tampered_and_stale_notifications_are_refused() {
    let s = setup().await;
    let req = common::request("ord-1", Currency::MXN, &s.clock);
    s.gateway.create_link(&req).await.unwrap();
    s.fake.pay("ord-1").await.unwrap();
    let genuine = s.receiver.last();
    let is_bad_sig = |r: Result<PaymentNotification, meta_commerce::payments::PaymentError>| matches!(r, Err(e) if e.kind == PaymentErrorKind::InvalidSignature);

    // Forged: signed with another secret.
    let mut forged = genuine.clone();
    let request_id = forged.headers["x-request-id"].to_str().unwrap().to_owned();
    let payment_id = s.fake.payments()[0].id.to_string();
    let sig = mercadopago::sign_notification(
        &SecretString::from("not-the-secret"),
        &payment_id,
        &request_id,
        common::START,
    );
    forged
        .headers
        .insert("x-signature", HeaderValue::from_str(&sig).unwrap());
    assert!(is_bad_sig(
        s.gateway.verify_webhook(forged.as_webhook()).await
    ));

    // Tampered: the same signature, pointing at another payment.
    let mut tampered = genuine.clone();
    tampered.query = tampered.query.replace(&payment_id, "999999");
    assert!(is_bad_sig(
        s.gateway.verify_webhook(tampered.as_webhook()).await
    ));

    // Tampered: another request id.
    let mut tampered = genuine.clone();
    tampered
        .headers
        .insert("x-request-id", HeaderValue::from_static("someone-else"));
    assert!(is_bad_sig(
        s.gateway.verify_webhook(tampered.as_webhook()).await
    ));

    // No signature at all.
    let mut unsigned = genuine.clone();
    unsigned.headers.remove("x-signature");
    assert!(is_bad_sig(
        s.gateway.verify_webhook(unsigned.as_webhook()).await
    ));

    // The genuine one still passes...
    assert!(s.gateway.verify_webhook(genuine.as_webhook()).await.is_ok());
    // ...until it is too old to be anything but a replay.
    s.clock.advance(Duration::from_secs(11 * 60));
    assert!(is_bad_sig(
        s.gateway.verify_webhook(genuine.as_webhook()).await
    ));
}

#[tokio::test]
async fn non_payment_topics_are_acknowledged_as_unsupported() {
    let s = setup().await;
    let secret = SecretString::from(SECRET);
    let sig = mercadopago::sign_notification(&secret, "42", "req-1", common::START);
    let mut headers = http::HeaderMap::new();
    headers.insert("x-signature", HeaderValue::from_str(&sig).unwrap());
    headers.insert("x-request-id", HeaderValue::from_static("req-1"));
    let req = meta_commerce::payments::WebhookRequest {
        headers: &headers,
        query: "data.id=42&type=merchant_order",
        body: b"{}",
    };
    let err = s.gateway.verify_webhook(req).await.unwrap_err();
    assert_eq!(err.kind, PaymentErrorKind::Unsupported);
    // Without data.id there is nothing to look up.
    let req = meta_commerce::payments::WebhookRequest {
        headers: &headers,
        query: "type=payment",
        body: b"{}",
    };
    let err = s.gateway.verify_webhook(req).await.unwrap_err();
    assert_eq!(err.kind, PaymentErrorKind::Malformed);
}

#[tokio::test]
async fn statuses_map_pending_rejected_and_refunded() {
    let s = setup().await;
    let req = common::request("ord-1", Currency::MXN, &s.clock);
    s.gateway.create_link(&req).await.unwrap();

    for (word, state) in [
        ("in_process", PaymentState::Pending),
        ("pending", PaymentState::Pending),
        ("rejected", PaymentState::Rejected),
        ("cancelled", PaymentState::Cancelled),
    ] {
        s.fake.pay_with_status("ord-1", word).await.unwrap();
        let n = s
            .gateway
            .verify_webhook(s.receiver.last().as_webhook())
            .await
            .unwrap();
        let st = s.gateway.status(&n).await.unwrap();
        assert_eq!(st.state, state, "{word}");
        assert_eq!(st.raw_status, word);
    }

    s.fake.pay("ord-1").await.unwrap();
    let paid = s.fake.payments().last().unwrap().id;
    s.fake.set_payment_status(paid, "refunded").await.unwrap();
    let n = s
        .gateway
        .verify_webhook(s.receiver.last().as_webhook())
        .await
        .unwrap();
    assert_eq!(n.event, "payment.updated");
    assert_eq!(
        s.gateway.status(&n).await.unwrap().state,
        PaymentState::Refunded
    );
}

#[tokio::test]
async fn http_failures_are_classified() {
    let s = setup().await;
    let req = common::request("ord-1", Currency::MXN, &s.clock);

    s.fake.fail_next(1);
    let e = s.gateway.create_link(&req).await.unwrap_err();
    assert_eq!(e.kind, PaymentErrorKind::Transient);
    s.fake.fail_next_with(1, 429);
    let e = s.gateway.create_link(&req).await.unwrap_err();
    assert_eq!(e.kind, PaymentErrorKind::Transient);
    // The next call goes through.
    s.gateway.create_link(&req).await.unwrap();

    let wrong = gateway_for(&s.fake, &s.clock, "APP_USR-wrong", &s.receiver);
    let e = wrong.create_link(&req).await.unwrap_err();
    assert_eq!(e.kind, PaymentErrorKind::Auth);
    assert!(!e.message.contains("APP_USR-wrong"), "{e}");

    let mut zero = req.clone();
    zero.amount = Money::new(0, Currency::MXN);
    zero.lines.clear();
    let e = s.gateway.create_link(&zero).await.unwrap_err();
    assert_eq!(e.kind, PaymentErrorKind::Rejected);
    assert!(e.message.contains("unit_price"), "{e}");

    let n = PaymentNotification::new("mercadopago", "123", "payment");
    let e = s.gateway.status(&n).await.unwrap_err();
    assert_eq!(e.kind, PaymentErrorKind::NotFound);

    let e = s
        .gateway
        .create_link(&common::request("ord-9", Currency::USD, &s.clock))
        .await
        .unwrap_err();
    assert_eq!(e.kind, PaymentErrorKind::Unsupported);
}

#[tokio::test]
async fn unreachable_and_unreadable_providers_are_classified() {
    let clock = common::clock();
    let req = common::request("ord-1", Currency::MXN, &clock);
    let make = |url: String| {
        MercadoPagoGateway::new(
            MercadoPagoConfig::new("t".into(), SECRET.into()).with_base_url(url),
            common::dyn_clock(&clock),
        )
        .unwrap()
    };
    let e = make(common::dead_url().await)
        .create_link(&req)
        .await
        .unwrap_err();
    assert_eq!(e.kind, PaymentErrorKind::Transient);
    let e = make(common::junk_server(200).await)
        .create_link(&req)
        .await
        .unwrap_err();
    assert_eq!(e.kind, PaymentErrorKind::Malformed);
    let e = make(common::junk_server(502).await)
        .create_link(&req)
        .await
        .unwrap_err();
    assert_eq!(e.kind, PaymentErrorKind::Transient);
}

#[tokio::test]
async fn debug_output_never_shows_secrets() {
    let s = setup().await;
    let text = format!("{:?}", s.gateway);
    assert!(!text.contains(s.fake.access_token()));
    assert!(!text.contains(SECRET));
    let config = MercadoPagoConfig::new("APP_USR-123".into(), SECRET.into());
    let text = format!("{config:?}");
    assert!(
        !text.contains("APP_USR-123") && !text.contains(SECRET),
        "{text}"
    );
}
