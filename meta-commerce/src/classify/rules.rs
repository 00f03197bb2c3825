//! The built-in rules classifier (es/en/pt). PLACEHOLDER until the rules land.

use std::sync::Arc;

use super::{Classification, ClassifyFuture, Intent, IntentClassifier};
use crate::catalog::Catalog;

/// The built-in multilingual rules classifier.
#[derive(Debug, Default)]
pub struct RulesClassifier {}

impl RulesClassifier {
    /// A classifier.
    #[must_use]
    pub fn new() -> Self {
        RulesClassifier {}
    }

    /// Classifies synchronously (the classifier does no I/O).
    #[must_use]
    pub fn classify_sync(&self, _text: &str, _catalog: &Catalog) -> Classification {
        Classification::new(Intent::Other, 0.0, "rules")
    }
}

impl IntentClassifier for RulesClassifier {
    fn name(&self) -> &str {
        "rules"
    }
    fn classify<'a>(&'a self, text: &'a str, catalog: &'a Arc<Catalog>) -> ClassifyFuture<'a> {
        let c = self.classify_sync(text, catalog);
        Box::pin(async move { Ok(c) })
    }
}
