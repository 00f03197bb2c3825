//! The answer the model must give: one JSON Schema ([`INTENT_SCHEMA`]) sent in the
//! request's `response_format`, and a hand-written validator for exactly that schema
//! ([`parse_answer`]) followed by the catalog checks ([`to_classification`]).
//!
//! Servers differ in how strictly they enforce `strict: true` (OpenAI constrains
//! decoding; many local servers only hint at it), so the answer is always checked
//! here: the same shape, enum and bounds as the schema, then the domain rules the
//! schema cannot express (SKUs in the catalog, quantities, items per intent). A unit
//! test parses [`INTENT_SCHEMA`] and checks it against the validator's constants, so
//! the two cannot drift apart.

use std::collections::HashMap;

use meta_commerce::Catalog;
use meta_commerce::classify::{Classification, ClassifyError, Intent, ItemRequest};
use serde::Deserialize;

/// The schema's name in `response_format.json_schema.name`.
pub const SCHEMA_NAME: &str = "comment_intent";

/// The JSON Schema of an answer, written in the subset OpenAI's strict mode accepts
/// (every property required, `additionalProperties: false` on every object).
pub const INTENT_SCHEMA: &str = r#"{
  "type": "object",
  "properties": {
    "intent": { "type": "string", "enum": ["purchase", "question", "cancel", "other"] },
    "items": {
      "type": "array",
      "items": {
        "type": "object",
        "properties": {
          "sku": { "type": "string" },
          "qty": { "type": "integer", "minimum": 1 }
        },
        "required": ["sku", "qty"],
        "additionalProperties": false
      }
    },
    "confidence": { "type": "number", "minimum": 0, "maximum": 1 },
    "evidence": { "type": "string" }
  },
  "required": ["intent", "items", "confidence", "evidence"],
  "additionalProperties": false
}"#;

/// The intents the schema's `enum` lists, in order.
pub const INTENTS: [Intent; 4] = [
    Intent::Purchase,
    Intent::Question,
    Intent::Cancel,
    Intent::Other,
];

/// The schema's `qty.minimum`.
pub const MIN_QTY: u64 = 1;

/// The largest quantity accepted for one item (a domain rule, not in the schema: a
/// live buyer asking for more is a typo or a model slip, never a real claim).
pub const MAX_QTY: u32 = 1000;

/// Evidence longer than this (in characters) is cut, so a chatty model cannot bloat
/// audit rows.
pub const MAX_EVIDENCE_CHARS: usize = 300;

/// The `response_format` object for the request, built from [`INTENT_SCHEMA`].
///
/// # Errors
/// Only if [`INTENT_SCHEMA`] were not JSON (a unit test guards that).
pub fn response_format() -> Result<serde_json::Value, serde_json::Error> {
    let schema: serde_json::Value = serde_json::from_str(INTENT_SCHEMA)?;
    Ok(serde_json::json!({
        "type": "json_schema",
        "json_schema": { "name": SCHEMA_NAME, "strict": true, "schema": schema },
    }))
}

/// An answer that matches [`INTENT_SCHEMA`] (before the catalog checks).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelAnswer {
    /// The intent.
    pub intent: Intent,
    /// The items as the model named them.
    pub items: Vec<AnswerItem>,
    /// 0.0–1.0.
    pub confidence: f64,
    /// The model's reason.
    pub evidence: String,
}

/// One item of a [`ModelAnswer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerItem {
    /// The SKU as written by the model.
    pub sku: String,
    /// The quantity (≥ [`MIN_QTY`]).
    pub qty: u64,
}

// The wire shape: `deny_unknown_fields` is the schema's `additionalProperties: false`,
// and serde's "missing field" is its `required`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnswer {
    intent: String,
    items: Vec<RawItem>,
    confidence: f64,
    evidence: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    sku: String,
    // A JSON number rather than u64: JSON Schema's `integer` also admits `2.0`, and
    // this lets us say "qty 0" or "qty -1" instead of a serde type error.
    qty: serde_json::Number,
}

fn invalid(reason: impl Into<String>) -> ClassifyError {
    ClassifyError::InvalidAnswer(reason.into())
}

/// Removes what models wrap around JSON despite being asked not to: surrounding
/// whitespace, a leading `<think>…</think>` block (reasoning models served locally)
/// and a Markdown code fence (```` ```json … ``` ````).
#[must_use]
pub fn strip_wrappers(content: &str) -> &str {
    let mut s = content.trim();
    if s.starts_with("<think>")
        && let Some(end) = s.find("</think>")
    {
        s = s[end + "</think>".len()..].trim_start();
    }
    if let Some(rest) = s.strip_prefix("```") {
        // The language tag (`json`, `JSON`) runs up to the first non-alphanumeric.
        let rest = rest.trim_start_matches(|c: char| c.is_ascii_alphanumeric());
        s = rest.trim_end().strip_suffix("```").unwrap_or(rest).trim();
    }
    s
}

/// Parses and validates `content` (the assistant message) against [`INTENT_SCHEMA`].
///
/// # Errors
/// [`ClassifyError::InvalidAnswer`] saying what is wrong: not JSON, a missing or extra
/// field, a wrong type, an intent outside the enum, a `qty` below 1 or not an integer,
/// a `confidence` outside 0..=1.
pub fn parse_answer(content: &str) -> Result<ModelAnswer, ClassifyError> {
    let json = strip_wrappers(content);
    if json.is_empty() {
        return Err(invalid("empty answer"));
    }
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| invalid(format!("answer is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(invalid("answer is not a JSON object"));
    }
    let raw: RawAnswer = serde_path_to_error::deserialize(value)
        .map_err(|e| invalid(format!("answer does not match the schema: {e}")))?;

    let intent = INTENTS
        .iter()
        .copied()
        .find(|i| i.as_str() == raw.intent)
        .ok_or_else(|| {
            invalid(format!(
                "intent `{}` is not one of purchase, question, cancel, other",
                raw.intent
            ))
        })?;
    if !(0.0..=1.0).contains(&raw.confidence) {
        return Err(invalid(format!(
            "confidence {} is outside 0..=1",
            raw.confidence
        )));
    }
    let mut items = Vec::with_capacity(raw.items.len());
    for (i, item) in raw.items.into_iter().enumerate() {
        let qty = integer(&item.qty)
            .ok_or_else(|| invalid(format!("items[{i}].qty {} is not an integer", item.qty)))?;
        if qty < i128::from(MIN_QTY) {
            return Err(invalid(format!(
                "items[{i}].qty {qty} is below the minimum {MIN_QTY}"
            )));
        }
        // Anything beyond u64 is far above MAX_QTY anyway; saturate and let the domain
        // check reject it with the usual message.
        let qty = u64::try_from(qty).unwrap_or(u64::MAX);
        items.push(AnswerItem { sku: item.sku, qty });
    }
    Ok(ModelAnswer {
        intent,
        items,
        confidence: raw.confidence,
        evidence: raw.evidence,
    })
}

fn integer(n: &serde_json::Number) -> Option<i128> {
    if let Some(v) = n.as_i64() {
        return Some(i128::from(v));
    }
    if let Some(v) = n.as_u64() {
        return Some(i128::from(v));
    }
    let f = n.as_f64()?;
    // 2.0 is an integer in JSON Schema; 2.5 is not. The cast is exact for any
    // whole f64 within i128's range, and larger ones fail the domain check anyway.
    (f.is_finite() && f.fract() == 0.0).then_some(f as i128)
}

/// Applies the catalog and the labelling rules to a schema-valid answer and builds
/// the [`Classification`] (named `classifier`).
///
/// SKUs are matched after trimming and upper-casing (catalog SKUs are upper-case, so
/// this cannot change which product is meant); an SKU named twice is merged into one
/// item with the quantities added.
///
/// # Errors
/// [`ClassifyError::InvalidAnswer`] when an SKU is not in the catalog, a quantity is
/// above [`MAX_QTY`], a purchase has no items, or a question/other has items.
pub fn to_classification(
    answer: ModelAnswer,
    catalog: &Catalog,
    classifier: &str,
) -> Result<Classification, ClassifyError> {
    match answer.intent {
        Intent::Purchase if answer.items.is_empty() => {
            return Err(invalid("a purchase must name at least one item"));
        }
        Intent::Question | Intent::Other if !answer.items.is_empty() => {
            return Err(invalid(format!(
                "a {} must have no items, got {}",
                answer.intent,
                answer.items.len()
            )));
        }
        _ => {}
    }
    let mut items: Vec<ItemRequest> = Vec::with_capacity(answer.items.len());
    let mut index: HashMap<String, usize> = HashMap::new();
    for item in answer.items {
        let sku = item.sku.trim().to_ascii_uppercase();
        if catalog.get(&sku).is_none() {
            return Err(invalid(format!(
                "SKU `{}` is not in the catalog",
                item.sku.trim()
            )));
        }
        let qty = match index.get(&sku) {
            Some(&i) => u64::from(items[i].qty).saturating_add(item.qty),
            None => item.qty,
        };
        let qty = u32::try_from(qty)
            .ok()
            .filter(|q| *q <= MAX_QTY)
            .ok_or_else(|| invalid(format!("qty {qty} of {sku} is above {MAX_QTY}")))?;
        match index.get(&sku) {
            Some(&i) => items[i].qty = qty,
            None => {
                index.insert(sku.clone(), items.len());
                items.push(ItemRequest::new(sku, qty));
            }
        }
    }
    // 0..=1 fits f32 up to rounding.
    let mut c =
        Classification::new(answer.intent, answer.confidence as f32, classifier).with_items(items);
    let evidence = answer.evidence.trim();
    if !evidence.is_empty() {
        c = c.with_evidence(
            evidence
                .chars()
                .take(MAX_EVIDENCE_CHARS)
                .collect::<String>(),
        );
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use meta_commerce::{Currency, Money, Product};
    use serde_json::{Value, json};

    fn catalog() -> Catalog {
        Catalog::new(vec![
            Product::new(
                "POL-ROJ-M",
                "Polera roja M",
                Money::new(12_990, Currency::CLP),
                8,
            )
            .with_lot(1),
            Product::new(
                "VES-FLO-S",
                "Vestido floreado S",
                Money::new(24_990, Currency::CLP),
                4,
            )
            .with_lot(7),
        ])
        .unwrap()
    }

    fn schema() -> Value {
        serde_json::from_str(INTENT_SCHEMA).unwrap()
    }

    fn good() -> Value {
        json!({"intent":"purchase","items":[{"sku":"POL-ROJ-M","qty":2}],"confidence":0.9,"evidence":"quiero 2"})
    }

    fn reason(r: Result<ModelAnswer, ClassifyError>) -> String {
        match r {
            Err(ClassifyError::InvalidAnswer(m)) => m,
            other => panic!("expected InvalidAnswer, got {other:?}"),
        }
    }

    #[test]
    fn schema_and_validator_agree_on_the_enum_and_bounds() {
        let s = schema();
        let listed: Vec<&str> = s["properties"]["intent"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let ours: Vec<&str> = INTENTS.iter().map(Intent::as_str).collect();
        assert_eq!(listed, ours);
        let item = &s["properties"]["items"]["items"];
        assert_eq!(item["properties"]["qty"]["minimum"], json!(MIN_QTY));
        assert_eq!(item["additionalProperties"], json!(false));
        assert_eq!(s["additionalProperties"], json!(false));
        assert_eq!(s["properties"]["confidence"]["minimum"], json!(0));
        assert_eq!(s["properties"]["confidence"]["maximum"], json!(1));
        let f = response_format().unwrap();
        assert_eq!(f["json_schema"]["strict"], json!(true));
        assert_eq!(f["json_schema"]["schema"], s);
    }

    #[test]
    fn schema_required_fields_are_exactly_what_the_validator_requires() {
        let s = schema();
        // strict mode: every property is required
        let props: Vec<&String> = s["properties"].as_object().unwrap().keys().collect();
        let required: Vec<&str> = s["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(props.len(), required.len());
        assert!(parse_answer(&good().to_string()).is_ok());
        for field in &required {
            let mut v = good();
            v.as_object_mut().unwrap().remove(*field);
            let r = reason(parse_answer(&v.to_string()));
            assert!(r.contains(&format!("missing field `{field}`")), "{r}");
        }
        for field in ["sku", "qty"] {
            let mut v = good();
            v["items"][0].as_object_mut().unwrap().remove(field);
            let r = reason(parse_answer(&v.to_string()));
            assert!(r.contains(field), "{r}");
        }
    }

    #[test]
    fn extra_fields_wrong_enum_and_bounds_are_rejected() {
        let mut v = good();
        v["lang"] = json!("es");
        assert!(reason(parse_answer(&v.to_string())).contains("unknown field `lang`"));
        let mut v = good();
        v["items"][0]["price"] = json!(1);
        let r = reason(parse_answer(&v.to_string()));
        assert!(
            r.contains("items[0]") && r.contains("unknown field `price`"),
            "{r}"
        );
        let mut v = good();
        v["intent"] = json!("buy");
        assert!(reason(parse_answer(&v.to_string())).contains("intent `buy`"));
        for bad in [json!(0), json!(-3), json!(1.5), json!("2")] {
            let mut v = good();
            v["items"][0]["qty"] = bad.clone();
            let r = reason(parse_answer(&v.to_string()));
            assert!(r.contains("qty"), "{bad}: {r}");
        }
        for bad in [json!(2.0), json!(-0.1), json!("high")] {
            let mut v = good();
            v["confidence"] = bad.clone();
            let r = reason(parse_answer(&v.to_string()));
            assert!(r.contains("confidence"), "{bad}: {r}");
        }
        assert!(reason(parse_answer("[1,2]")).contains("not a JSON object"));
        assert!(reason(parse_answer("I think it is a purchase")).contains("not JSON"));
        assert!(reason(parse_answer("   ")).contains("empty"));
    }

    #[test]
    fn whole_floats_count_as_integers() {
        let mut v = good();
        v["items"][0]["qty"] = json!(3.0);
        assert_eq!(parse_answer(&v.to_string()).unwrap().items[0].qty, 3);
    }

    #[test]
    fn fences_and_think_blocks_are_stripped() {
        let body = good().to_string();
        for wrapped in [
            format!("```json\n{body}\n```"),
            format!("```\n{body}\n```\n"),
            format!("```JSON {body}```"),
            format!("<think>it says quiero</think>\n```json\n{body}\n```"),
            format!("\n  {body}  \n"),
        ] {
            let a = parse_answer(&wrapped).unwrap();
            assert_eq!(a.intent, Intent::Purchase, "{wrapped}");
        }
    }

    #[test]
    fn domain_rules() {
        let c = catalog();
        let ok =
            to_classification(parse_answer(&good().to_string()).unwrap(), &c, "llm:m").unwrap();
        assert_eq!(ok.items, vec![ItemRequest::new("POL-ROJ-M", 2)]);
        assert_eq!(ok.evidence, vec!["quiero 2".to_owned()]);
        assert_eq!(ok.classifier, "llm:m");

        let check =
            |v: Value| match to_classification(parse_answer(&v.to_string()).unwrap(), &c, "x") {
                Err(ClassifyError::InvalidAnswer(m)) => m,
                other => panic!("{v}: expected InvalidAnswer, got {other:?}"),
            };
        let mut v = good();
        v["items"][0]["sku"] = json!("ZAP-NEG-99");
        assert!(check(v).contains("ZAP-NEG-99"));
        let mut v = good();
        v["items"][0]["qty"] = json!(1001);
        assert!(check(v).contains("above 1000"));
        let mut v = good();
        v["items"] = json!([]);
        assert!(check(v).contains("at least one item"));
        for intent in ["question", "other"] {
            let mut v = good();
            v["intent"] = json!(intent);
            assert!(check(v).contains("no items"));
        }
        // a cancel may or may not name what it withdraws
        for items in [json!([]), json!([{"sku":"VES-FLO-S","qty":1}])] {
            let mut v = good();
            v["intent"] = json!("cancel");
            v["items"] = items;
            assert!(to_classification(parse_answer(&v.to_string()).unwrap(), &c, "x").is_ok());
        }
    }

    #[test]
    fn skus_are_normalised_and_duplicates_merged() {
        let c = catalog();
        let v = json!({"intent":"purchase","items":[{"sku":" pol-roj-m ","qty":1},{"sku":"VES-FLO-S","qty":1},{"sku":"POL-ROJ-M","qty":2}],"confidence":0.8,"evidence":""});
        let out = to_classification(parse_answer(&v.to_string()).unwrap(), &c, "x").unwrap();
        assert_eq!(
            out.items,
            vec![
                ItemRequest::new("POL-ROJ-M", 3),
                ItemRequest::new("VES-FLO-S", 1)
            ]
        );
        assert!(out.evidence.is_empty());
        let v = json!({"intent":"purchase","items":[{"sku":"POL-ROJ-M","qty":600},{"sku":"POL-ROJ-M","qty":600}],"confidence":0.8,"evidence":""});
        assert!(to_classification(parse_answer(&v.to_string()).unwrap(), &c, "x").is_err());
    }
}
