//! Evaluation of a classifier on labelled comments (the `dev.jsonl` format of
//! `shared/datasets/live-comments`): per language, precision, recall and F1 of the
//! `purchase` intent, intent accuracy and exact match of the requested items, plus a
//! confusion matrix and the comments it got wrong. `meta commerce eval` prints it.
//!
//! ```
//! use meta_commerce::classify::eval::{evaluate_rules, parse_jsonl};
//! use meta_commerce::classify::RulesClassifier;
//! use meta_commerce::Catalog;
//!
//! let catalog = Catalog::from_csv(b"sku,name,aliases,price,currency,stock\n\
//! POL-ROJ-M,Polera roja talla M,polera roja M|red tee M|#1,12990,CLP,8\n").unwrap();
//! let labels = parse_jsonl(r#"{"id":"c1","lang":"es","text":"me llevo la polera roja M","intent":"purchase","items":[{"sku":"POL-ROJ-M","qty":1}]}"#).unwrap();
//! let report = evaluate_rules(&RulesClassifier::new(), &catalog, &labels);
//! assert_eq!(report.all().exact_match, 1.0);
//! println!("{report}");
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Classification, Intent, IntentClassifier, ItemRequest, RulesClassifier};
use crate::catalog::Catalog;

/// One labelled comment (a line of `dev.jsonl`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelledComment {
    /// `c0001`…
    pub id: String,
    /// `es`, `en`, `pt` or `mixed`.
    pub lang: String,
    /// The raw comment.
    pub text: String,
    /// The labelled intent.
    pub intent: Intent,
    /// The labelled items (non-empty for purchases).
    #[serde(default)]
    pub items: Vec<ItemRequest>,
}

/// A labels file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// A line is not a labelled comment.
    #[error("line {line}: {message}")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Parses JSON lines of labelled comments (blank lines are skipped).
///
/// # Errors
/// [`EvalError::BadLine`] for the first line that does not parse.
pub fn parse_jsonl(data: &str) -> Result<Vec<LabelledComment>, EvalError> {
    data.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| EvalError::BadLine {
                line: i + 1,
                message: e.to_string(),
            })
        })
        .collect()
}

/// Scores for one language group.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Scores {
    /// Comments in the group.
    pub comments: usize,
    /// Purchases predicted and labelled.
    pub purchase_tp: usize,
    /// Purchases predicted, not labelled.
    pub purchase_fp: usize,
    /// Purchases labelled, not predicted.
    pub purchase_fn: usize,
    /// `tp / (tp + fp)` (1 when nothing was predicted and nothing missed).
    pub precision: f64,
    /// `tp / (tp + fn)` (1 when there was nothing to find and nothing predicted).
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Comments whose intent was right.
    pub intent_correct: usize,
    /// `intent_correct / comments`.
    pub intent_accuracy: f64,
    /// Comments labelled purchase.
    pub purchases: usize,
    /// Of those, how many got exactly the labelled items (same SKUs and quantities).
    pub items_exact: usize,
    /// `items_exact / purchases` (1 when there are none).
    pub exact_match: f64,
}

impl Scores {
    fn finish(&mut self) {
        let (tp, fp, fn_) = (self.purchase_tp, self.purchase_fp, self.purchase_fn);
        self.precision = ratio(tp, tp + fp, fn_ == 0);
        self.recall = ratio(tp, tp + fn_, fp == 0);
        self.f1 = if self.precision + self.recall > 0.0 {
            2.0 * self.precision * self.recall / (self.precision + self.recall)
        } else {
            0.0
        };
        self.intent_accuracy = ratio(self.intent_correct, self.comments, true);
        self.exact_match = ratio(self.items_exact, self.purchases, true);
    }
}

fn ratio(num: usize, den: usize, empty_is_perfect: bool) -> f64 {
    if den == 0 {
        if empty_is_perfect { 1.0 } else { 0.0 }
    } else {
        num as f64 / den as f64
    }
}

/// A comment the classifier got wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Miss {
    /// The comment id.
    pub id: String,
    /// Its labelled language.
    pub lang: String,
    /// The comment.
    pub text: String,
    /// The labelled intent.
    pub expected: Intent,
    /// The labelled items.
    pub expected_items: Vec<ItemRequest>,
    /// The predicted intent (`other` when the classifier failed).
    pub got: Intent,
    /// The predicted items.
    pub got_items: Vec<ItemRequest>,
    /// The predicted confidence.
    pub confidence: f32,
    /// The classifier's error, when it failed.
    pub error: Option<String>,
}

/// The result of an evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// The classifier's name.
    pub classifier: String,
    /// Scores per labelled language (`es`, `en`, `pt`, `mixed`, …) and `all`.
    pub by_lang: BTreeMap<String, Scores>,
    /// `confusion[labelled][predicted]`, intents in [`INTENTS`] order.
    pub confusion: [[usize; 4]; 4],
    /// Comments with a wrong intent, or with wrong items on a labelled purchase.
    pub misclassified: Vec<Miss>,
    /// Comments the classifier failed on (counted as `other`).
    pub errors: usize,
}

/// The intents in confusion-matrix order.
pub const INTENTS: [Intent; 4] = [
    Intent::Purchase,
    Intent::Question,
    Intent::Cancel,
    Intent::Other,
];

fn intent_index(i: Intent) -> usize {
    INTENTS.iter().position(|x| *x == i).unwrap_or(3)
}

/// Whether two item lists hold the same SKUs with the same quantities (order and
/// repeated lines do not matter).
#[must_use]
pub fn same_items(a: &[ItemRequest], b: &[ItemRequest]) -> bool {
    fn merged(items: &[ItemRequest]) -> BTreeMap<&str, u32> {
        let mut m = BTreeMap::new();
        for i in items {
            *m.entry(i.sku.as_str()).or_insert(0) += i.qty;
        }
        m
    }
    merged(a) == merged(b)
}

impl EvalReport {
    fn new(classifier: &str) -> Self {
        EvalReport {
            classifier: classifier.to_owned(),
            by_lang: BTreeMap::new(),
            confusion: [[0; 4]; 4],
            misclassified: Vec::new(),
            errors: 0,
        }
    }

    /// The scores over every comment.
    #[must_use]
    pub fn all(&self) -> Scores {
        self.by_lang.get("all").cloned().unwrap_or_default()
    }

    /// The scores of one labelled language (`es`, `en`, `pt`, `mixed`).
    #[must_use]
    pub fn lang(&self, lang: &str) -> Option<&Scores> {
        self.by_lang.get(lang)
    }

    fn record(&mut self, c: &LabelledComment, got: Result<&Classification, String>) {
        let (intent, items, confidence, error) = match got {
            Ok(g) => (g.intent, g.items.clone(), g.confidence, None),
            Err(e) => {
                self.errors += 1;
                (Intent::Other, Vec::new(), 0.0, Some(e))
            }
        };
        self.confusion[intent_index(c.intent)][intent_index(intent)] += 1;
        let intent_ok = intent == c.intent;
        let items_ok = c.intent != Intent::Purchase || same_items(&items, &c.items);
        for key in [c.lang.as_str(), "all"] {
            let s = self.by_lang.entry(key.to_owned()).or_default();
            s.comments += 1;
            s.intent_correct += usize::from(intent_ok);
            match (c.intent == Intent::Purchase, intent == Intent::Purchase) {
                (true, true) => s.purchase_tp += 1,
                (false, true) => s.purchase_fp += 1,
                (true, false) => s.purchase_fn += 1,
                (false, false) => {}
            }
            if c.intent == Intent::Purchase {
                s.purchases += 1;
                s.items_exact += usize::from(intent_ok && items_ok);
            }
        }
        if !intent_ok || !items_ok {
            self.misclassified.push(Miss {
                id: c.id.clone(),
                lang: c.lang.clone(),
                text: c.text.clone(),
                expected: c.intent,
                expected_items: c.items.clone(),
                got: intent,
                got_items: items,
                confidence,
                error,
            });
        }
    }

    fn finish(mut self) -> Self {
        for s in self.by_lang.values_mut() {
            s.finish();
        }
        self
    }
}

/// Evaluates any classifier (an LLM, a fallback chain…) on `comments`, one at a time.
pub async fn evaluate(
    classifier: &dyn IntentClassifier,
    catalog: &Arc<Catalog>,
    comments: &[LabelledComment],
) -> EvalReport {
    let mut report = EvalReport::new(classifier.name());
    for c in comments {
        let got = classifier.classify(&c.text, catalog).await;
        report.record(c, got.as_ref().map_err(ToString::to_string));
    }
    report.finish()
}

/// Evaluates the rules classifier synchronously.
#[must_use]
pub fn evaluate_rules(
    classifier: &RulesClassifier,
    catalog: &Catalog,
    comments: &[LabelledComment],
) -> EvalReport {
    let mut report = EvalReport::new("rules");
    for c in comments {
        let got = classifier.classify_sync(&c.text, catalog);
        report.record(c, Ok(&got));
    }
    report.finish()
}

fn items_str(items: &[ItemRequest]) -> String {
    if items.is_empty() {
        return "-".to_owned();
    }
    items
        .iter()
        .map(|i| format!("{}×{}", i.sku, i.qty))
        .collect::<Vec<_>>()
        .join(" ")
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let all = self.all();
        writeln!(
            f,
            "classifier: {} — {} comments, {} errors",
            self.classifier, all.comments, self.errors
        )?;
        writeln!(
            f,
            "{:<6} {:>5}  {:>9} {:>7} {:>6}  {:>10}  {:>14}",
            "lang", "n", "purch. P", "R", "F1", "intent acc", "items exact"
        )?;
        let mut order: Vec<&String> = self.by_lang.keys().filter(|k| *k != "all").collect();
        order.sort_by_key(|k| match k.as_str() {
            "es" => 0,
            "en" => 1,
            "pt" => 2,
            "mixed" => 3,
            _ => 4,
        });
        for key in order
            .into_iter()
            .chain(self.by_lang.get_key_value("all").map(|(k, _)| k))
        {
            let s = &self.by_lang[key];
            writeln!(
                f,
                "{:<6} {:>5}  {:>9.3} {:>7.3} {:>6.3}  {:>10.3}  {:>6.3} ({}/{})",
                key,
                s.comments,
                s.precision,
                s.recall,
                s.f1,
                s.intent_accuracy,
                s.exact_match,
                s.items_exact,
                s.purchases
            )?;
        }
        writeln!(f)?;
        writeln!(f, "confusion (rows: labelled, columns: predicted)")?;
        write!(f, "{:<10}", "")?;
        for i in INTENTS {
            write!(f, "{:>10}", i.as_str())?;
        }
        writeln!(f)?;
        for (r, row) in self.confusion.iter().enumerate() {
            write!(f, "{:<10}", INTENTS[r].as_str())?;
            for v in row {
                write!(f, "{v:>10}")?;
            }
            writeln!(f)?;
        }
        writeln!(f)?;
        writeln!(f, "misclassified: {}", self.misclassified.len())?;
        for m in &self.misclassified {
            writeln!(
                f,
                "  {} [{}] {:?}: expected {} {} — got {} {} ({:.2}){}",
                m.id,
                m.lang,
                m.text,
                m.expected,
                items_str(&m.expected_items),
                m.got,
                items_str(&m.got_items),
                m.confidence,
                m.error
                    .as_deref()
                    .map(|e| format!(" error: {e}"))
                    .unwrap_or_default()
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_lists_compare_as_multisets() {
        let a = [ItemRequest::new("A", 1), ItemRequest::new("B", 2)];
        let b = [ItemRequest::new("B", 2), ItemRequest::new("A", 1)];
        assert!(same_items(&a, &b));
        assert!(!same_items(&a, &[ItemRequest::new("A", 1)]));
    }

    #[test]
    fn bad_lines_are_reported_with_their_number() {
        let err = parse_jsonl("\n{\"id\":1}\n").unwrap_err();
        assert!(matches!(err, EvalError::BadLine { line: 2, .. }), "{err}");
    }

    #[test]
    fn scores_count_purchases_per_language() {
        let mut r = EvalReport::new("t");
        let c = |id: &str, intent| LabelledComment {
            id: id.into(),
            lang: "es".into(),
            text: String::new(),
            intent,
            items: vec![ItemRequest::new("A", 1)],
        };
        let p = Classification::new(Intent::Purchase, 0.9, "t")
            .with_items(vec![ItemRequest::new("A", 1)]);
        let o = Classification::new(Intent::Other, 0.9, "t");
        r.record(&c("1", Intent::Purchase), Ok(&p));
        r.record(&c("2", Intent::Purchase), Ok(&o));
        r.record(&c("3", Intent::Other), Ok(&p));
        r.record(&c("4", Intent::Other), Err("boom".into()));
        let r = r.finish();
        let es = r.lang("es").unwrap();
        assert_eq!((es.purchase_tp, es.purchase_fp, es.purchase_fn), (1, 1, 1));
        assert!((es.precision - 0.5).abs() < 1e-9 && (es.recall - 0.5).abs() < 1e-9);
        assert!((es.intent_accuracy - 0.5).abs() < 1e-9);
        assert!((es.exact_match - 0.5).abs() < 1e-9);
        assert_eq!(r.errors, 1);
        assert_eq!(r.confusion[0][0], 1);
        assert_eq!(r.misclassified.len(), 2);
        assert!(r.to_string().contains("misclassified: 2"));
    }
}
