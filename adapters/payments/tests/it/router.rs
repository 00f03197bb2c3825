//! The router in front of real gateways and their fakes.

use std::sync::Arc;
use std::time::Duration;

use meta_commerce::Currency;
use meta_commerce::payments::{PaymentErrorKind, PaymentRouter};
use meta_commerce::store::Shop;
use meta_payments::fake::{FakeFlow, FakeMercadoPago};
use meta_payments::flow::{FlowConfig, FlowGateway};
use meta_payments::mercadopago::{MercadoPagoConfig, MercadoPagoGateway};
use meta_payments::transfer::{BankAccount, TransferConfig, TransferGateway};

use crate::common;

#[tokio::test]
async fn a_chilean_shop_falls_back_from_flow_to_mercado_pago_to_transfer() {
    let clock = common::clock();
    let flow_fake = FakeFlow::start("KEY", "flow-secret").await.unwrap();
    let mp_fake = FakeMercadoPago::start("mp-secret").await.unwrap();
    let flow = FlowGateway::new(
        FlowConfig::new("KEY", "flow-secret".into(), "pagos@tienda.cl")
            .with_base_url(flow_fake.base_url())
            .with_urls("https://shop.example/flow", "https://shop.example/back"),
        common::dyn_clock(&clock),
    )
    .unwrap();
    let mp = MercadoPagoGateway::new(
        MercadoPagoConfig::new(mp_fake.access_token().into(), "mp-secret".into())
            .with_base_url(mp_fake.base_url()),
        common::dyn_clock(&clock),
    )
    .unwrap();
    let transfer = TransferGateway::new(TransferConfig::new(BankAccount::new(
        "Banco de Chile",
        "Cuenta corriente 1",
        "Tienda SpA",
        "RUT",
        "76.123.456-7",
    )));
    let router = PaymentRouter::new(common::dyn_clock(&clock))
        .with_breaker(2, Duration::from_secs(30))
        .with_gateway(Arc::new(flow))
        .with_gateway(Arc::new(mp))
        .with_gateway(Arc::new(transfer));
    let shop = Shop::new("shop-1", "Tienda", "page-1", "CL", Currency::CLP);
    let req = |id: &str| common::request(id, Currency::CLP, &clock);

    // Healthy: Flow serves.
    assert_eq!(
        router.create_link(&shop, &req("o1")).await.unwrap().gateway,
        "flow"
    );

    // Flow down: Mercado Pago serves, and Flow's breaker opens after two failures.
    flow_fake.fail_next(100);
    for id in ["o2", "o3"] {
        let (link, attempts) = router.route(&shop, &req(id)).await.unwrap();
        assert_eq!(link.gateway, "mercadopago");
        assert_eq!(attempts[0].kind, PaymentErrorKind::Transient);
    }
    assert_eq!(mp_fake.preferences().len(), 2);

    // Both down: the buyer still gets transfer instructions.
    mp_fake.fail_next(100);
    let (link, attempts) = router.route(&shop, &req("o4")).await.unwrap();
    assert_eq!(link.gateway, "transfer");
    assert!(link.instructions.unwrap().contains("76.123.456-7"));
    assert_eq!(attempts.len(), 2);
    assert!(
        attempts[0].message.contains("breaker open"),
        "{}",
        attempts[0]
    );

    // The gateway for webhooks and status is found by name.
    assert_eq!(router.gateway("mercadopago").unwrap().name(), "mercadopago");
    assert!(router.gateway("flow").unwrap().supports(Currency::CLP));
}
