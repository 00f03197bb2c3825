//! The built-in rules classifier for Spanish (Chile, Mexico, Argentina, Spain), English
//! and Brazilian Portuguese live-sale comments.
//!
//! How a comment is read:
//! 1. [`tokens`] splits it into words (folded: no case, no accents, stretched letters
//!    collapsed, plus a light stem), numbers, punctuation, emoji, @tags and links.
//! 2. [`lexicon`] marks cue phrases: claim verbs ("me llevo", "é meu", "I'll take"),
//!    keep requests ("me la guardas?"), questions, cancels, negation, corrections,
//!    past purchases, hypotheticals, sarcasm, compliments, spam.
//! 3. Items are found by SKU code ("jea neg 30"), lot number ("#7", "la siete", "o 8"),
//!    or product words and attributes matched against the catalog's aliases
//!    ([`index`]): "la polera M roja" → `POL-ROJ-M`, colour + size across words, with
//!    typo tolerance. Quantities come from digits and number words in three languages,
//!    `x2`, "un par".
//! 4. Negation, self-correction and cancels decide which items are newly requested;
//!    clauses decide between purchase, question, cancel and other ([`analyze`]).
//!
//! Confidence reflects how the items were found: an exact code, lot or alias with a
//! clear claim verb scores about 0.93; colour + size inference or a typo, less; an
//! item that matches several products (or none) caps it under 0.5 and fills
//! `suggestions` so the pipeline can ask "did you mean …?".
//!
//! Layout: `tokens.rs` (tokenizer), `lexicon.rs` (the vocabulary per language),
//! `index.rs` (a catalog compiled for matching), `analyze.rs` (cues, language,
//! clauses), `analyze/mentions.rs` (items and quantities), `analyze/decide.rs`
//! (polarity, intent, confidence, evidence).
//!
//! The compiled catalog is cached by [`Catalog::fingerprint`], so repeated calls with
//! the same catalog only pay for the comment.

mod analyze;
mod index;
mod lexicon;
mod tokens;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::{Classification, ClassifyFuture, IntentClassifier};
use crate::catalog::Catalog;
use index::Index;

/// How many compiled catalogs are kept (a process usually serves a handful of shops).
const CACHE_CAP: usize = 64;

/// The built-in multilingual rules classifier (es, en, pt-BR). Cheap to share: the
/// compiled form of each catalog is built once and cached by fingerprint.
///
/// ```
/// use meta_commerce::Catalog;
/// use meta_commerce::classify::{Intent, ItemRequest, RulesClassifier};
///
/// let catalog = Catalog::from_csv(b"sku,name,aliases,price,currency,stock\n\
/// POL-ROJ-M,Polera roja talla M,polera roja M|red tee M|camiseta vermelha M|#1,12990,CLP,8\n\
/// POL-ROJ-L,Polera roja talla L,polera roja L|red tee L|camiseta vermelha G|#3,12990,CLP,5\n").unwrap();
/// let rules = RulesClassifier::new();
///
/// let c = rules.classify_sync("quero duas camisetas vermelhas tamanho G 🙋‍♀️", &catalog);
/// assert_eq!(c.intent, Intent::Purchase);
/// assert_eq!(c.items, [ItemRequest::new("POL-ROJ-L", 2)]);
///
/// // Two red t-shirts match: a purchase, but unsure, with the candidates.
/// let c = rules.classify_sync("me llevo la polera roja", &catalog);
/// assert!(c.confidence < 0.5 && c.items.is_empty());
/// assert_eq!(c.suggestions, ["POL-ROJ-M", "POL-ROJ-L"]);
/// ```
#[derive(Default)]
pub struct RulesClassifier {
    cache: RwLock<HashMap<u64, Arc<Index>>>,
}

impl std::fmt::Debug for RulesClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cached = self.cache.read().map_or(0, |c| c.len());
        f.debug_struct("RulesClassifier")
            .field("cached_catalogs", &cached)
            .finish()
    }
}

impl RulesClassifier {
    /// A classifier with an empty catalog cache.
    #[must_use]
    pub fn new() -> Self {
        RulesClassifier::default()
    }

    /// Classifies synchronously (the classifier does no I/O).
    #[must_use]
    pub fn classify_sync(&self, text: &str, catalog: &Catalog) -> Classification {
        let index = self.index(catalog);
        analyze::classify(text, &index, lexicon::lexicon())
    }

    /// Compiles `catalog` now, so the first comment does not pay for it.
    pub fn warm(&self, catalog: &Catalog) {
        let _ = self.index(catalog);
    }

    fn index(&self, catalog: &Catalog) -> Arc<Index> {
        let key = catalog.fingerprint();
        if let Ok(cache) = self.cache.read()
            && let Some(ix) = cache.get(&key)
        {
            return Arc::clone(ix);
        }
        let built = Arc::new(Index::build(catalog, lexicon::lexicon()));
        // A poisoned lock only means another thread panicked mid-insert; the map is
        // still a valid cache, so keep using it.
        let mut cache = self
            .cache
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() >= CACHE_CAP {
            cache.clear();
        }
        Arc::clone(cache.entry(key).or_insert(built))
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
