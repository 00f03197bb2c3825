#![allow(clippy::unwrap_used, clippy::expect_used)]
//! meta-llm against a local fake chat-completions server: answers, request shape,
//! error mapping, and the fallback with its circuit breaker.

use std::sync::Arc;
use std::time::Duration;

use meta_commerce::Catalog;
use meta_llm::{OpenAiClassifier, OpenAiConfig};
use serde_json::{Value, json};

mod classify;
mod fake;
mod fallback;

/// The model name every test configures.
const MODEL: &str = "test-model";

/// A few rows of `shared/datasets/live-comments/catalog.csv`.
const CATALOG_CSV: &str = "sku,name,aliases,price,currency,stock
POL-ROJ-M,Polera roja talla M,polera roja M|remera roja M|red tee M|camiseta vermelha M|#1,12990,CLP,8
LAB-GLOS-02,Gloss labial rosa tono 02,gloss 02|pink lip gloss|#2,149,MXN,15
VES-FLO-S,Vestido floreado talla S,vestido floreado S|floral dress S|vestido florido P|#7,24990,CLP,4
ZAP-NEG-39,Zapatillas negras talla 39,zapatillas negras 39|black sneakers 39|tênis preto 39|#15,39990,CLP,0
";

fn catalog() -> Arc<Catalog> {
    Arc::new(Catalog::from_csv(CATALOG_CSV.as_bytes()).unwrap())
}

fn config(fake: &fake::FakeLlm) -> OpenAiConfig {
    OpenAiConfig::new(fake.base_url(), MODEL).with_timeout(Duration::from_secs(10))
}

fn classifier(fake: &fake::FakeLlm) -> OpenAiClassifier {
    OpenAiClassifier::new(config(fake)).unwrap()
}

/// A schema-valid purchase of two red tees.
fn good_answer() -> Value {
    json!({
        "intent": "purchase",
        "items": [{ "sku": "POL-ROJ-M", "qty": 2 }],
        "confidence": 0.93,
        "evidence": "me llevo 2 ... polera roja M",
    })
}
