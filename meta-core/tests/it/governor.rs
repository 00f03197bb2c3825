use std::sync::Arc;
use std::time::Duration;

use meta_core::{ErrorKind, GraphRequest, RateGovernor, RateLimitConfig};
use meta_sandbox::{Fault, FaultRule, SandboxConfig};
use serde_json::Value;

use crate::{LinkedClock, builder, sandbox};

#[tokio::test]
async fn a_buc_block_is_waited_out_then_the_call_succeeds() {
    let sb = sandbox(SandboxConfig::default()).await;
    let page = &sb.fixtures().pages[0];
    let clock = LinkedClock::new(sb.control());
    let client = builder(&sb)
        .access_token(page.access_token.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    sb.control().inject(FaultRule {
        method: Some("GET".into()),
        path_contains: Some(page.id.clone()),
        times: 1,
        fault: Fault::BucThrottle { minutes: 2 },
    });
    let resp = client
        .execute::<Value>(GraphRequest::get(page.id.clone()))
        .await
        .unwrap();
    assert_eq!(resp.attempts(), 2);
    assert!(
        clock.clock.total_slept() >= Duration::from_secs(120),
        "waited {:?}",
        clock.clock.total_slept()
    );
    assert!(clock.clock.total_slept() < Duration::from_secs(200));
    assert_eq!(
        sb.control().count("GET", &page.id),
        2,
        "no hammering while blocked"
    );
    assert!(client.governor().stats().blocks >= 1);
}

#[tokio::test]
async fn an_ad_account_throttle_waits_reset_time_duration() {
    let sb = sandbox(SandboxConfig::default()).await;
    let fx = sb.fixtures();
    let ad = &fx.ad_accounts[0];
    let clock = LinkedClock::new(sb.control());
    let client = builder(&sb)
        .access_token(fx.user_token.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    sb.control().inject(FaultRule {
        method: Some("GET".into()),
        path_contains: Some(ad.id.clone()),
        times: 1,
        fault: Fault::AdAccountThrottle { reset_secs: 30 },
    });
    let resp = client
        .execute::<Value>(GraphRequest::get(format!("{}/campaigns", ad.id)))
        .await
        .unwrap();
    assert_eq!(resp.attempts(), 2);
    assert!(clock.clock.total_slept() >= Duration::from_secs(30));
    assert!(
        resp.usage().ad_account.is_some(),
        "X-Ad-Account-Usage is exposed"
    );
}

#[tokio::test]
async fn a_block_longer_than_max_wait_is_refused_locally() {
    let sb = sandbox(SandboxConfig::default()).await;
    let page = &sb.fixtures().pages[0];
    let clock = LinkedClock::new(sb.control());
    let governor = RateGovernor::with_clock(
        RateLimitConfig::standard().max_wait(Duration::from_secs(30)),
        clock.clone(),
        Arc::new(meta_core::clock::Jitter::seeded(1)),
    );
    let client = builder(&sb)
        .access_token(page.access_token.clone())
        .governor(governor.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    sb.control().inject(FaultRule {
        method: Some("GET".into()),
        path_contains: Some(page.id.clone()),
        times: 1,
        fault: Fault::BucThrottle { minutes: 5 },
    });
    let err = client.get::<Value>(&page.id, ()).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::RateLimited | ErrorKind::Throttled),
        "{err}"
    );
    // A second client sharing the governor is refused without calling Meta.
    let before = sb.control().count("GET", &page.id);
    let other = client.with_access_token(page.access_token.clone().into());
    let err = other.get::<Value>(&page.id, ()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(err.retry_after().is_some());
    assert_eq!(sb.control().count("GET", &page.id), before);
}
