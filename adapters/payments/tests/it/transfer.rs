//! Bank transfer: instructions and the seller's confirmation.

use meta_commerce::payments::{
    PaymentErrorKind, PaymentGateway, PaymentNotification, PaymentState, WebhookRequest,
};
use meta_commerce::{Currency, Money};
use meta_payments::transfer::{self, BankAccount, TransferConfig, TransferGateway};

use crate::common;

fn gateway() -> TransferGateway {
    let account = BankAccount::new(
        "Banco de Chile",
        "Cuenta corriente 00-123-45678-09",
        "Tienda en Vivo SpA",
        "RUT",
        "76.123.456-7",
    );
    let mut config = TransferConfig::new(account);
    config.currencies = vec![Currency::CLP];
    TransferGateway::new(config)
}

#[tokio::test]
async fn the_link_carries_the_instructions_and_a_stable_code() {
    let gw = gateway();
    let clock = common::clock();
    let req = common::request("ord-0192", Currency::CLP, &clock);
    let link = gw.create_link(&req).await.unwrap();
    assert_eq!(link.gateway, "transfer");
    assert_eq!(link.url, "", "no info page configured");
    let code = transfer::reference_code("ord-0192");
    assert_eq!(link.provider_ref, code);
    let text = link.instructions.clone().unwrap();
    for part in [
        "Banco de Chile",
        "00-123-45678-09",
        "Tienda en Vivo SpA",
        "RUT: 76.123.456-7",
        "$12.990 CLP",
        code.as_str(),
    ] {
        assert!(text.contains(part), "{part} missing from {text}");
    }
    // Asking again gives the same link.
    assert_eq!(gw.create_link(&req).await.unwrap(), link);
    assert!(!gw.supports(Currency::USD));
}

#[tokio::test]
async fn pending_until_the_seller_confirms_the_full_amount() {
    let gw = gateway();
    let clock = common::clock();
    let req = common::request("ord-1", Currency::CLP, &clock);
    let link = gw.create_link(&req).await.unwrap();

    let by_code = PaymentNotification::new("transfer", &link.provider_ref, "manual");
    let by_order = PaymentNotification::new("transfer", "ord-1", "manual");
    let st = gw.status(&by_code).await.unwrap();
    assert_eq!(
        (st.state, st.order_id.as_str()),
        (PaymentState::Pending, "ord-1")
    );
    assert_eq!(st.amount, None);

    // Part of the money arrived: still pending, the amount so far reported.
    let st = gw
        .confirm("ord-1", Money::new(10_000, Currency::CLP))
        .unwrap();
    assert_eq!(st.state, PaymentState::Pending);
    assert_eq!(st.amount, Some(Money::new(10_000, Currency::CLP)));

    // The seller corrects the record to the full amount (replacing, not adding).
    let st = gw
        .confirm("ord-1", Money::new(12_990, Currency::CLP))
        .unwrap();
    assert_eq!(st.state, PaymentState::Approved);
    for n in [&by_code, &by_order] {
        let st = gw.status(n).await.unwrap();
        assert_eq!(st.state, PaymentState::Approved);
        assert_eq!(st.amount, Some(Money::new(12_990, Currency::CLP)));
    }

    let e = gw
        .confirm("ord-1", Money::new(12_990, Currency::USD))
        .unwrap_err();
    assert_eq!(e.kind, PaymentErrorKind::Rejected);
    let e = gw
        .confirm("ord-1", Money::new(0, Currency::CLP))
        .unwrap_err();
    assert_eq!(e.kind, PaymentErrorKind::Rejected);
}

#[tokio::test]
async fn there_is_no_webhook() {
    let gw = gateway();
    let headers = http::HeaderMap::new();
    let r = WebhookRequest {
        headers: &headers,
        query: "",
        body: b"{}",
    };
    assert_eq!(
        gw.verify_webhook(r).await.unwrap_err().kind,
        PaymentErrorKind::Unsupported
    );
}
