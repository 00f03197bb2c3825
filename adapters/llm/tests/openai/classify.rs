//! `OpenAiClassifier` alone: good answers, the request it sends, and every failure
//! mapped to the right `ClassifyError`.

use std::time::Duration;

use meta_commerce::classify::{ClassifyError, Intent, IntentClassifier, ItemRequest, Lang};
use meta_llm::{OpenAiClassifier, OpenAiConfig, schema};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::fake::{FakeLlm, Reply, completion};
use crate::{MODEL, catalog, classifier, config, good_answer};

fn invalid_reason(r: Result<impl std::fmt::Debug, ClassifyError>) -> String {
    match r {
        Err(ClassifyError::InvalidAnswer(m)) => m,
        other => panic!("expected InvalidAnswer, got {other:?}"),
    }
}

fn unavailable_reason(r: Result<impl std::fmt::Debug, ClassifyError>) -> String {
    match r {
        Err(ClassifyError::Unavailable(m)) => m,
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn a_good_answer_becomes_a_classification() {
    let fake = FakeLlm::start().await;
    fake.push(Reply::answer(&good_answer()));
    let llm = classifier(&fake);
    let c = llm
        .classify("me llevo 2 de la polera roja M!!", &catalog())
        .await
        .unwrap();
    assert_eq!(c.intent, Intent::Purchase);
    assert_eq!(c.items, vec![ItemRequest::new("POL-ROJ-M", 2)]);
    assert!((c.confidence - 0.93).abs() < 1e-6, "{}", c.confidence);
    assert_eq!(c.evidence, vec!["me llevo 2 ... polera roja M".to_owned()]);
    assert_eq!(c.classifier, "llm:test-model");
    assert_eq!(llm.name(), "llm:test-model");
    assert_eq!(c.lang, Lang::Unknown);
    assert!(c.suggestions.is_empty());
}

#[tokio::test]
async fn other_intents_and_wrapped_answers_are_accepted() {
    let fake = FakeLlm::start().await;
    let question =
        json!({"intent":"question","items":[],"confidence":0.8,"evidence":"quanto custa?"});
    let cancel = json!({"intent":"cancel","items":[{"sku":"VES-FLO-S","qty":1}],"confidence":0.7,"evidence":"cancela la 7"});
    fake.push(Reply::content(&format!("```json\n{question}\n```")));
    fake.push(Reply::answer(&cancel));
    // a sold-out SKU is still a purchase: labels ignore stock
    fake.push(Reply::content(
        &json!({"intent":"purchase","items":[{"sku":"ZAP-NEG-39","qty":1}],"confidence":0.9,"evidence":"#15"})
            .to_string(),
    ));
    let llm = classifier(&fake);
    let cat = catalog();
    let q = llm.classify("quanto custa?", &cat).await.unwrap();
    assert_eq!((q.intent, q.items.len()), (Intent::Question, 0));
    let c = llm.classify("cancela la 7 porfa", &cat).await.unwrap();
    assert_eq!(c.intent, Intent::Cancel);
    assert_eq!(c.items, vec![ItemRequest::new("VES-FLO-S", 1)]);
    let p = llm.classify("quiero la 15", &cat).await.unwrap();
    assert_eq!(p.items, vec![ItemRequest::new("ZAP-NEG-39", 1)]);
}

#[tokio::test]
async fn the_request_carries_model_schema_catalog_and_comment() {
    let fake = FakeLlm::start().await;
    fake.push(Reply::answer(&good_answer()));
    let llm = OpenAiClassifier::new(config(&fake).with_max_tokens(123)).unwrap();
    llm.classify("me llevo 2 de la polera roja M", &catalog())
        .await
        .unwrap();

    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.headers["content-type"], "application/json");
    assert!(
        r.headers.get("authorization").is_none(),
        "no key, no header"
    );
    let b = &r.body;
    assert_eq!(b["model"], MODEL);
    assert_eq!(b["temperature"], json!(0));
    assert_eq!(b["max_tokens"], json!(123));

    let rf = &b["response_format"];
    assert_eq!(rf["type"], "json_schema");
    assert_eq!(rf["json_schema"]["name"], "comment_intent");
    assert_eq!(rf["json_schema"]["strict"], json!(true));
    let want: Value = serde_json::from_str(schema::INTENT_SCHEMA).unwrap();
    assert_eq!(rf["json_schema"]["schema"], want);
    assert_eq!(
        rf["json_schema"]["schema"]["properties"]["intent"]["enum"],
        json!(["purchase", "question", "cancel", "other"])
    );

    let messages = b["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["role"], "system");
    let system = messages[0]["content"].as_str().unwrap();
    for sku in ["POL-ROJ-M", "LAB-GLOS-02", "VES-FLO-S", "ZAP-NEG-39"] {
        assert!(system.contains(sku), "{sku} missing from the system prompt");
    }
    assert!(
        system.contains("VES-FLO-S | Vestido floreado talla S | vestido floreado S, floral dress S, vestido florido P | #7"),
        "{system}"
    );
    assert!(system.contains("purchase") && system.contains("cancel"));
    assert!(!system.contains("24990"), "prices stay out of the prompt");
    assert_eq!(messages[1]["role"], "user");
    assert_eq!(messages[1]["content"], "me llevo 2 de la polera roja M");
}

#[tokio::test]
async fn the_bearer_header_is_sent_only_with_a_key() {
    let fake = FakeLlm::start().await;
    fake.always(Reply::answer(&good_answer()));
    let cat = catalog();
    let keyed =
        OpenAiClassifier::new(config(&fake).with_api_key(SecretString::from("sk-test-123")))
            .unwrap();
    keyed.classify("la 1", &cat).await.unwrap();
    classifier(&fake).classify("la 1", &cat).await.unwrap();
    let reqs = fake.requests();
    assert_eq!(reqs[0].headers["authorization"], "Bearer sk-test-123");
    assert!(reqs[1].headers.get("authorization").is_none());
    assert!(!format!("{keyed:?}").contains("sk-test-123"));
}

#[tokio::test]
async fn long_comments_are_cut_and_the_prompt_follows_the_catalog() {
    let fake = FakeLlm::start().await;
    fake.always(Reply::answer(
        &json!({"intent":"other","items":[],"confidence":0.9,"evidence":""}),
    ));
    let llm = OpenAiClassifier::new(config(&fake).with_max_comment_chars(5)).unwrap();
    let cat = catalog();
    llm.classify("holaaaaaa 😍😍", &cat).await.unwrap();
    llm.classify("otra", &cat).await.unwrap();
    let smaller = std::sync::Arc::new(
        meta_commerce::Catalog::from_csv(
            "sku,name,aliases,price,currency,stock\nGOR-LAN-BEI,Gorro de lana beige,beanie|#27,199,MXN,11\n"
                .as_bytes(),
        )
        .unwrap(),
    );
    llm.classify("otra", &smaller).await.unwrap();
    let reqs = fake.requests();
    assert_eq!(reqs[0].body["messages"][1]["content"], "holaa");
    let system = |i: usize| {
        reqs[i].body["messages"][0]["content"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(system(0), system(1));
    assert!(system(2).contains("GOR-LAN-BEI") && !system(2).contains("POL-ROJ-M"));
}

#[tokio::test]
async fn schema_and_domain_violations_are_invalid_answers() {
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = good_answer();
        f(&mut v);
        Reply::answer(&v)
    };
    let cases: Vec<(&str, Reply, &str)> = vec![
        (
            "invalid JSON",
            Reply::content("{\"intent\": \"purchase\", \"items\": ["),
            "not JSON",
        ),
        (
            "prose",
            Reply::content("This is a purchase of POL-ROJ-M."),
            "not JSON",
        ),
        (
            "extra field",
            with(&|v| v["lang"] = json!("es")),
            "unknown field `lang`",
        ),
        (
            "extra item field",
            with(&|v| v["items"][0]["size"] = json!("M")),
            "unknown field `size`",
        ),
        (
            "missing field",
            with(&|v| {
                v.as_object_mut().unwrap().remove("evidence");
            }),
            "missing field `evidence`",
        ),
        (
            "intent not in enum",
            with(&|v| v["intent"] = json!("buy")),
            "intent `buy`",
        ),
        ("qty 0", with(&|v| v["items"][0]["qty"] = json!(0)), "qty 0"),
        (
            "qty fraction",
            with(&|v| v["items"][0]["qty"] = json!(1.5)),
            "not an integer",
        ),
        (
            "qty too large",
            with(&|v| v["items"][0]["qty"] = json!(5000)),
            "above 1000",
        ),
        (
            "confidence 2.0",
            with(&|v| v["confidence"] = json!(2.0)),
            "confidence 2",
        ),
        (
            "unknown SKU",
            with(&|v| v["items"][0]["sku"] = json!("POL-VER-XL")),
            "POL-VER-XL",
        ),
        (
            "purchase without items",
            with(&|v| v["items"] = json!([])),
            "at least one item",
        ),
        (
            "question with items",
            with(&|v| v["intent"] = json!("question")),
            "no items",
        ),
        (
            "refusal",
            Reply::refusal("I can't help with that."),
            "refused: I can't help",
        ),
        (
            "no choices",
            Reply::json(200, &json!({"choices": []})),
            "no choices",
        ),
        (
            "not a completion",
            Reply::raw(200, "<html>ok</html>"),
            "not a chat completion",
        ),
        (
            "null content",
            Reply::json(200, &completion(&Value::Null, &Value::Null, "stop")),
            "empty answer",
        ),
        (
            "cut at max_tokens",
            Reply::json(
                200,
                &completion(&json!("{\"intent\":\"purch"), &Value::Null, "length"),
            ),
            "max_tokens",
        ),
    ];
    let fake = FakeLlm::start().await;
    for (_, reply, _) in &cases {
        fake.push(reply.clone());
    }
    let llm = classifier(&fake);
    let cat = catalog();
    for (name, _, want) in cases {
        let reason = invalid_reason(llm.classify("quiero la polera roja M x2", &cat).await);
        assert!(reason.contains(want), "{name}: `{reason}` lacks `{want}`");
    }
}

#[tokio::test]
async fn http_errors_are_unavailable() {
    let fake = FakeLlm::start().await;
    let key = "sk-live-abcdef0123456789";
    fake.push(Reply::json(500, &json!({"error": {"message": "boom"}})));
    fake.push(Reply::json(503, &json!({"error": "loading model"})));
    fake.push(Reply::json(
        429,
        &json!({"error": {"message": "Rate limit reached", "type": "requests"}}),
    ));
    fake.push(Reply::json(
        404,
        &json!({"error": "model \"test-model\" not found, try pulling it first"}),
    ));
    // A server echoing the key in its error text: none of it may reach the error.
    fake.push(Reply::json(
        401,
        &json!({"error": {"message": format!("Incorrect API key provided: {key}")}}),
    ));
    fake.push(Reply::json(
        400,
        &json!({"error": {"message": format!("bad request for {key}")}}),
    ));
    let llm = OpenAiClassifier::new(config(&fake).with_api_key(SecretString::from(key))).unwrap();
    let cat = catalog();
    let mut reasons = Vec::new();
    for _ in 0..6 {
        reasons.push(unavailable_reason(llm.classify("la 1", &cat).await));
    }
    assert!(
        reasons[0].contains("500") && reasons[0].contains("boom"),
        "{}",
        reasons[0]
    );
    assert!(
        reasons[1].contains("503") && reasons[1].contains("loading model"),
        "{}",
        reasons[1]
    );
    assert!(
        reasons[2].contains("429") && reasons[2].contains("rate limited"),
        "{}",
        reasons[2]
    );
    assert!(
        reasons[3].contains("404") && reasons[3].contains("not found"),
        "{}",
        reasons[3]
    );
    assert!(reasons[4].contains("401"), "{}", reasons[4]);
    assert!(reasons[5].contains("[REDACTED]"), "{}", reasons[5]);
    for r in &reasons {
        assert!(!r.contains(key), "key leaked: {r}");
    }
}

#[tokio::test]
async fn a_refused_connection_is_unavailable() {
    // Take a free port, then close it so nothing listens there.
    let port = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let llm = OpenAiClassifier::new(OpenAiConfig::new(
        format!("http://127.0.0.1:{port}/v1"),
        MODEL,
    ))
    .unwrap();
    let reason = unavailable_reason(llm.classify("la 1", &catalog()).await);
    assert!(reason.contains("connection failed"), "{reason}");
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout() {
    let fake = FakeLlm::start().await;
    fake.push(Reply::answer(&good_answer()).after(Duration::from_secs(30)));
    let timeout = Duration::from_millis(300);
    let llm = OpenAiClassifier::new(config(&fake).with_timeout(timeout)).unwrap();
    match llm.classify("la 1", &catalog()).await {
        Err(ClassifyError::Timeout(d)) => assert_eq!(d, timeout),
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert_eq!(fake.hits(), 1);
}
