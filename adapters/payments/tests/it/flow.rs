//! Flow (flow.cl) against the fake.

use std::sync::Arc;

use meta_commerce::payments::{
    PaymentError, PaymentErrorKind, PaymentGateway, PaymentNotification, PaymentState,
    WebhookRequest,
};
use meta_commerce::{Currency, Money};
use meta_core::clock::ManualClock;
use meta_payments::fake::{FakeFlow, FakeFlowConfig};
use meta_payments::flow::{self, FlowConfig, FlowGateway};
use secrecy::SecretString;

use crate::common::{self, Receiver};

const API_KEY: &str = "1F90971E-8276-4715-97FF-2BLG5030EE3B";
const SECRET: &str = "flow-secret";

struct Setup {
    clock: Arc<ManualClock>,
    fake: FakeFlow,
    receiver: Receiver,
    gateway: FlowGateway,
}

async fn setup() -> Setup {
    let clock = common::clock();
    let fake = FakeFlow::start_with(
        FakeFlowConfig::new(API_KEY, SECRET).with_clock(common::dyn_clock(&clock)),
    )
    .await
    .unwrap();
    let receiver = Receiver::start().await;
    let gateway = gateway_for(&fake, &clock, API_KEY, SECRET, &receiver);
    Setup {
        clock,
        fake,
        receiver,
        gateway,
    }
}

fn gateway_for(
    fake: &FakeFlow,
    clock: &Arc<ManualClock>,
    api_key: &str,
    secret: &str,
    receiver: &Receiver,
) -> FlowGateway {
    let config = FlowConfig::new(api_key, SecretString::from(secret), "pagos@tienda.cl")
        .with_base_url(fake.base_url())
        .with_urls(
            format!("{}/webhooks/flow", receiver.base_url),
            "https://shop.example/gracias",
        );
    FlowGateway::new(config, common::dyn_clock(clock)).unwrap()
}

fn kind<T: std::fmt::Debug>(r: Result<T, PaymentError>) -> PaymentErrorKind {
    r.unwrap_err().kind
}

#[test]
fn signature_matches_known_vectors() {
    // Flow's documented example parameters, with the secret "my secret":
    // sorted by name and concatenated, the text is
    //   apiKey1F90971E-8276-4715-97FF-2BLG5030EE3BtokenAJ089FF5467367
    // and, computed independently,
    //   printf '%s' 'apiKey1F90…tokenAJ089FF5467367' | openssl dgst -sha256 -hmac 'my secret'
    // gives 191947b8253f1b615adeda260fab7d8c8cc0507b22e19d4742baa00b0e464d44.
    let secret = SecretString::from("my secret");
    let params = [("token", "AJ089FF5467367"), ("apiKey", API_KEY)];
    assert_eq!(
        flow::string_to_sign(&params),
        "apiKey1F90971E-8276-4715-97FF-2BLG5030EE3BtokenAJ089FF5467367"
    );
    assert_eq!(
        flow::sign(&secret, &params),
        "191947b8253f1b615adeda260fab7d8c8cc0507b22e19d4742baa00b0e464d44"
    );

    // A payment/create: "amount12990apiKeyKEY-1commerceOrderord-1currencyCLP
    // emailpagos@tienda.clsubjectPedido ord-1urlConfirmationhttps://shop.example/flow
    // urlReturnhttps://shop.example/back" (one line), HMAC-SHA256 with "flow-secret"
    // (openssl as above) = 1f8b72fa30ffdc820490a9fb2e784cc6ed2a3f50705d3f53869b00fb910ccd79.
    let params = [
        ("urlReturn", "https://shop.example/back"),
        ("apiKey", "KEY-1"),
        ("commerceOrder", "ord-1"),
        ("subject", "Pedido ord-1"),
        ("currency", "CLP"),
        ("amount", "12990"),
        ("email", "pagos@tienda.cl"),
        ("urlConfirmation", "https://shop.example/flow"),
    ];
    assert_eq!(
        flow::sign(&SecretString::from(SECRET), &params),
        "1f8b72fa30ffdc820490a9fb2e784cc6ed2a3f50705d3f53869b00fb910ccd79"
    );
}

#[tokio::test]
async fn creates_a_signed_payment_order_and_links_to_it() {
    let s = setup().await;
    let req = common::request("ord-1", Currency::CLP, &s.clock);
    let link = s.gateway.create_link(&req).await.unwrap();

    let payments = s.fake.payments();
    assert_eq!(payments.len(), 1);
    let p = &payments[0];
    assert_eq!(link.gateway, "flow");
    assert_eq!(link.provider_ref, p.token);
    assert_eq!(
        link.url,
        format!(
            "{}/app/web/pay.php?token={}",
            s.fake.base_url().trim_end_matches("/api"),
            p.token
        )
    );
    assert_eq!(p.commerce_order, "ord-1");
    assert_eq!(p.amount, Money::new(12_990, Currency::CLP));
    assert_eq!(p.subject, "Pedido ord-1 · Tienda en vivo");
    assert_eq!(p.email, "pagos@tienda.cl");
    assert_eq!(
        p.url_confirmation,
        format!("{}/webhooks/flow", s.receiver.base_url)
    );
    assert_eq!(p.url_return, "https://shop.example/gracias");
    assert_eq!(p.timeout, Some(30 * 60), "the hold's remaining time");
    assert_eq!(link.expires_at, req.expires_at);
}

#[tokio::test]
async fn re_creating_with_the_same_key_returns_the_same_link() {
    let s = setup().await;
    let req = common::request("ord-1", Currency::CLP, &s.clock);
    let a = s.gateway.create_link(&req).await.unwrap();
    let b = s.gateway.create_link(&req).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(s.fake.payments().len(), 1);
    let mut v2 = req.clone();
    v2.idempotency_key = "ord-1-v2".into();
    let c = s.gateway.create_link(&v2).await.unwrap();
    assert_ne!(a.provider_ref, c.provider_ref);
    assert_eq!(s.fake.payments().len(), 2);
}

#[tokio::test]
async fn the_confirmation_is_resolved_through_get_status() {
    let s = setup().await;
    let req = common::request("ord-1", Currency::CLP, &s.clock);
    let link = s.gateway.create_link(&req).await.unwrap();

    let pending = PaymentNotification::new("flow", &link.provider_ref, "manual");
    let st = s.gateway.status(&pending).await.unwrap();
    assert_eq!(st.state, PaymentState::Pending);
    assert_eq!(st.raw_status, "1");

    let delivery = s.fake.pay(&link.url).await.unwrap();
    assert!(delivery.delivered(), "{delivery:?}");
    let got = s.receiver.last();
    assert_eq!(got.path, "/webhooks/flow");
    assert_eq!(
        got.body.as_ref(),
        format!("token={}", link.provider_ref).as_bytes()
    );
    let n = s.gateway.verify_webhook(got.as_webhook()).await.unwrap();
    assert_eq!(n.reference, link.provider_ref);
    let st = s.gateway.status(&n).await.unwrap();
    assert_eq!(st.state, PaymentState::Approved);
    assert_eq!(st.order_id, "ord-1");
    assert_eq!(st.amount, Some(Money::new(12_990, Currency::CLP)));
    assert_eq!(st.provider_ref, s.fake.payments()[0].flow_order.to_string());
}

#[tokio::test]
async fn rejected_and_cancelled_payments_map() {
    let s = setup().await;
    let a = s
        .gateway
        .create_link(&common::request("ord-1", Currency::CLP, &s.clock))
        .await
        .unwrap();
    let b = s
        .gateway
        .create_link(&common::request("ord-2", Currency::CLP, &s.clock))
        .await
        .unwrap();
    s.fake.reject("ord-1").await.unwrap();
    s.fake.set_status(&b.provider_ref, 4).await.unwrap();
    let st = |r: &str| PaymentNotification::new("flow", r, "confirmation");
    assert_eq!(
        s.gateway.status(&st(&a.provider_ref)).await.unwrap().state,
        PaymentState::Rejected
    );
    assert_eq!(
        s.gateway.status(&st(&b.provider_ref)).await.unwrap().state,
        PaymentState::Cancelled
    );
}

#[tokio::test]
async fn forged_confirmations_do_not_survive_the_status_lookup() {
    let s = setup().await;
    s.gateway
        .create_link(&common::request("ord-1", Currency::CLP, &s.clock))
        .await
        .unwrap();
    let headers = http::HeaderMap::new();
    // A made-up token has the right shape, so it passes the local check, but
    // Flow (a signed call) does not know it.
    let forged = WebhookRequest {
        headers: &headers,
        query: "",
        body: b"token=ABCDEF0123456789ABCDEF0123456789ABCDEF01",
    };
    let n = s.gateway.verify_webhook(forged).await.unwrap();
    assert_eq!(kind(s.gateway.status(&n).await), PaymentErrorKind::Rejected);

    // Bodies that are not a confirmation at all.
    for body in [&b"nothing=here"[..], b"token=", b"token=..%2F..%2Fapi"] {
        let r = WebhookRequest {
            headers: &headers,
            query: "",
            body,
        };
        assert_eq!(
            kind(s.gateway.verify_webhook(r).await),
            PaymentErrorKind::Malformed
        );
    }
}

#[tokio::test]
async fn http_failures_are_classified() {
    let s = setup().await;
    let req = common::request("ord-1", Currency::CLP, &s.clock);
    s.fake.fail_next(1);
    assert_eq!(
        kind(s.gateway.create_link(&req).await),
        PaymentErrorKind::Transient
    );
    let link = s.gateway.create_link(&req).await.unwrap();

    // A wrong secret key: Flow refuses the signature.
    let wrong = gateway_for(&s.fake, &s.clock, API_KEY, "wrong-secret", &s.receiver);
    let e = wrong
        .create_link(&common::request("ord-2", Currency::CLP, &s.clock))
        .await
        .unwrap_err();
    assert_eq!(e.kind, PaymentErrorKind::Auth);
    let n = PaymentNotification::new("flow", &link.provider_ref, "confirmation");
    assert_eq!(kind(wrong.status(&n).await), PaymentErrorKind::Auth);
    // An unknown API key.
    let stranger = gateway_for(&s.fake, &s.clock, "OTHER-KEY", SECRET, &s.receiver);
    assert_eq!(kind(stranger.status(&n).await), PaymentErrorKind::Auth);

    s.fake.fail_next_with(1, 503);
    assert_eq!(
        kind(s.gateway.status(&n).await),
        PaymentErrorKind::Transient
    );

    let usd = common::request("ord-3", Currency::USD, &s.clock);
    assert_eq!(
        kind(s.gateway.create_link(&usd).await),
        PaymentErrorKind::Unsupported
    );
}

#[tokio::test]
async fn unreadable_answers_are_malformed() {
    let clock = common::clock();
    let config = FlowConfig::new(API_KEY, SECRET.into(), "pagos@tienda.cl")
        .with_base_url(common::junk_server(200).await)
        .with_urls("https://shop.example/flow", "https://shop.example/back");
    let gw = FlowGateway::new(config, common::dyn_clock(&clock)).unwrap();
    let req = common::request("ord-1", Currency::CLP, &clock);
    assert_eq!(
        kind(gw.create_link(&req).await),
        PaymentErrorKind::Malformed
    );
}
