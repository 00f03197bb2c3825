//! The classifier inside `FallbackClassifier` with a `CircuitBreaker` on a
//! `ManualClock`: failures fall back to the rules, the breaker opens and the model is
//! left alone, and after the cool-down one trial request goes through.
//!
//! The rules classifier is only relied on for its name (`rules`), not its intent.

use std::sync::Arc;
use std::time::Duration;

use meta_commerce::breaker::{BreakerState, CircuitBreaker};
use meta_commerce::classify::{FallbackClassifier, IntentClassifier, RulesClassifier};
use meta_core::clock::ManualClock;
use serde_json::json;

use crate::fake::{FakeLlm, Reply};
use crate::{catalog, classifier, good_answer};

const THRESHOLD: u32 = 3;
const COOL_DOWN: Duration = Duration::from_secs(30);

fn guarded(fake: &FakeLlm, timeout: Duration) -> (FallbackClassifier, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(1_700_000_000));
    let breaker = CircuitBreaker::new(clock.clone(), THRESHOLD, COOL_DOWN);
    let fc = meta_llm::with_fallback(
        classifier(fake),
        Arc::new(RulesClassifier::new()),
        breaker,
        timeout,
    );
    (fc, clock)
}

fn assert_fallback(classifier: &str, why: &str) {
    assert!(
        classifier.starts_with("rules")
            && classifier.contains(" (fallback: ")
            && classifier.contains(why),
        "`{classifier}` should be the rules falling back because of `{why}`"
    );
}

#[tokio::test]
async fn the_breaker_opens_stops_calling_the_model_and_recovers() {
    let fake = FakeLlm::start().await;
    fake.always(Reply::json(
        500,
        &json!({"error": {"message": "overloaded"}}),
    ));
    let (fc, clock) = guarded(&fake, Duration::from_secs(10));
    assert_eq!(fc.name(), "llm:test-model (fallback rules)");
    let cat = catalog();

    for n in 1..=THRESHOLD {
        let c = fc.classify("quiero la 7", &cat).await.unwrap();
        assert_fallback(&c.classifier, "unavailable: HTTP 500");
        assert_eq!(fake.hits(), n as usize);
    }
    assert_eq!(fc.breaker().state(), BreakerState::Open);

    // Open: the rules answer and the model hears nothing.
    for _ in 0..5 {
        let c = fc.classify("quiero la 7", &cat).await.unwrap();
        assert_fallback(&c.classifier, "circuit open");
    }
    assert_eq!(fake.hits(), THRESHOLD as usize);

    // Still open just before the cool-down ends.
    clock.advance(COOL_DOWN - Duration::from_secs(1));
    let c = fc.classify("quiero la 7", &cat).await.unwrap();
    assert_fallback(&c.classifier, "circuit open");
    assert_eq!(fake.hits(), THRESHOLD as usize);

    // After it: one trial goes through, succeeds, and closes the breaker.
    clock.advance(Duration::from_secs(2));
    fake.always(Reply::answer(&good_answer()));
    let c = fc.classify("me llevo 2 polera roja M", &cat).await.unwrap();
    assert_eq!(c.classifier, "llm:test-model");
    assert_eq!(c.items.len(), 1);
    assert_eq!(fake.hits(), THRESHOLD as usize + 1);
    assert_eq!(fc.breaker().state(), BreakerState::Closed);
    let c = fc.classify("me llevo 2 polera roja M", &cat).await.unwrap();
    assert_eq!(c.classifier, "llm:test-model");
    assert_eq!(fake.hits(), THRESHOLD as usize + 2);
    assert_eq!(fc.breaker().opened_count(), 1);
}

#[tokio::test]
async fn invalid_answers_count_as_failures_and_a_failed_trial_reopens() {
    let fake = FakeLlm::start().await;
    fake.always(Reply::answer(&json!({
        "intent": "purchase",
        "items": [{ "sku": "NOPE-1", "qty": 1 }],
        "confidence": 0.9,
        "evidence": "x",
    })));
    let (fc, clock) = guarded(&fake, Duration::from_secs(10));
    let cat = catalog();
    for _ in 0..THRESHOLD {
        let c = fc.classify("la 1", &cat).await.unwrap();
        assert_fallback(
            &c.classifier,
            "answer rejected: SKU `NOPE-1` is not in the catalog",
        );
    }
    assert_eq!(fc.breaker().state(), BreakerState::Open);

    clock.advance(COOL_DOWN);
    let c = fc.classify("la 1", &cat).await.unwrap();
    assert_fallback(&c.classifier, "NOPE-1");
    assert_eq!(fake.hits(), THRESHOLD as usize + 1, "one trial");
    assert_eq!(fc.breaker().state(), BreakerState::Open);
    let c = fc.classify("la 1", &cat).await.unwrap();
    assert_fallback(&c.classifier, "circuit open");
    assert_eq!(fake.hits(), THRESHOLD as usize + 1);
    assert_eq!(fc.breaker().opened_count(), 2);
}

#[tokio::test]
async fn a_model_slower_than_the_fallback_timeout_falls_back() {
    let fake = FakeLlm::start().await;
    fake.always(Reply::answer(&good_answer()).after(Duration::from_secs(30)));
    // The pipeline-side timeout (200 ms) is shorter than the client's own (10 s).
    let (fc, _clock) = guarded(&fake, Duration::from_millis(200));
    let c = fc.classify("la 1", &catalog()).await.unwrap();
    assert_fallback(&c.classifier, "timed out");
    assert_eq!(fake.hits(), 1);
    assert_eq!(
        fc.breaker().state(),
        BreakerState::Closed,
        "one failure of three"
    );
}
