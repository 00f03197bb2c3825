//! Property tests of the reserve / release / commit invariants: whatever buyers,
//! cancels, expiries, payments (on time or late, repeated) and restocks happen, in any
//! order, stock is never negative, never more is sold than was stocked, reserved units
//! equal the open orders' lines, sold units equal the paid orders' lines, and no unit
//! is created or lost.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use meta_commerce::Money;
use meta_commerce::payments::{PaymentState, PaymentStatus};
use proptest::prelude::*;

const SKUS: [&str; 4] = ["POL-ROJ-M", "POL-ROJ-L", "LAB-MATE-05", "ZAP-NEG-39"];

#[derive(Debug, Clone)]
enum Op {
    Buy { buyer: u8, items: Vec<(usize, u32)> },
    Cancel { buyer: u8, sku: Option<usize> },
    Advance { minutes: u64 },
    Pay { buyer: u8, twice: bool },
    Restock { sku: usize, qty: u32 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..8, prop::collection::vec((0usize..4, 1u32..4), 1..3)).prop_map(|(buyer, items)| Op::Buy { buyer, items }),
        1 => (0u8..8, prop::option::of(0usize..4)).prop_map(|(buyer, sku)| Op::Cancel { buyer, sku }),
        1 => (0u64..40).prop_map(|minutes| Op::Advance { minutes }),
        2 => (0u8..8, any::<bool>()).prop_map(|(buyer, twice)| Op::Pay { buyer, twice }),
        1 => (0usize..4, 1u32..4).prop_map(|(sku, qty)| Op::Restock { sku, qty }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn stock_invariants_hold(ops in prop::collection::vec(op(), 1..40)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let f = fixture().await;
            let mut declared = declared();
            for (i, op) in ops.into_iter().enumerate() {
                let created = T0 + i as u64;
                match op {
                    Op::Buy { buyer, items } => {
                        let words: Vec<String> = items.iter().map(|(s, q)| format!("{}*{q}", SKUS[*s])).collect();
                        f.say_at(&format!("c{i}"), &format!("b{buyer}"), &format!("buy {}", words.join(" ")), created).await;
                    }
                    Op::Cancel { buyer, sku } => {
                        let text = sku.map_or("cancel".to_owned(), |s| format!("cancel {}", SKUS[s]));
                        f.say_at(&format!("c{i}"), &format!("b{buyer}"), &text, created).await;
                    }
                    Op::Advance { minutes } => f.advance(Duration::from_secs(minutes * 60)),
                    Op::Pay { buyer, twice } => {
                        let orders = f.orders_of(&format!("b{buyer}")).await;
                        if let Some(o) = orders.last() {
                            let st = PaymentStatus::new("fake", &o.id, format!("pay-{i}"), PaymentState::Approved,
                                Some(Money::new(o.total_minor, o.currency)), "approved");
                            f.engine.confirm_payment(&st).await.unwrap();
                            if twice {
                                f.engine.confirm_payment(&st).await.unwrap();
                            }
                        }
                    }
                    Op::Restock { sku, qty } => {
                        f.engine.restock("shop", SKUS[sku], qty).await.unwrap();
                        *declared.get_mut(SKUS[sku]).unwrap() += i64::from(qty);
                    }
                }
                f.engine.tick().await.unwrap();
                f.check_invariants(&declared).await;
            }
        });
    }
}
