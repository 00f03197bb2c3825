//! The compiled form of a catalog that the rules classifier matches against: product
//! words (stemmed), colours, sizes and numbers per product, SKU codes split into parts,
//! lot numbers, and a bucketed word list for typo matching. Built once per catalog
//! fingerprint and shared.

use std::collections::HashSet;

use super::lexicon::{FastMap, Lexicon, flag};
use super::tokens::{Kind, tokenize};
use crate::catalog::Catalog;

/// One product as the matcher sees it.
#[derive(Debug)]
pub(crate) struct Prod {
    pub(crate) sku: String,
    /// The SKU's parts, lower case (`POL-ROJ-M` → `pol`, `roj`, `m`).
    pub(crate) parts: Vec<String>,
    /// Colour families (bit per colour id).
    pub(crate) colours: u32,
    /// Size classes (bit per class).
    pub(crate) sizes: u16,
    /// Numbers in its names and SKU (sizes 38, shades 05, 50 ml).
    pub(crate) nums: Vec<u32>,
    /// Sold by the pair (shoes, socks, earrings): "un par" is one unit.
    pub(crate) per_pair: bool,
    /// Each alias as its sequence of content keys (stems, colour stems, sizes, numbers).
    pub(crate) alias_keys: Vec<String>,
}

/// A catalog compiled for matching.
#[derive(Debug)]
pub(crate) struct Index {
    pub(crate) products: Vec<Prod>,
    /// Product word stem → products having it.
    pub(crate) words: FastMap<String, Vec<u32>>,
    /// Colour id → products.
    pub(crate) colours: FastMap<u8, Vec<u32>>,
    /// Size class → products.
    pub(crate) sizes: FastMap<u8, Vec<u32>>,
    /// Number → products.
    pub(crate) nums: FastMap<u32, Vec<u32>>,
    /// First SKU part → products.
    pub(crate) sku_first: FastMap<String, Vec<u32>>,
    /// Lot → product.
    pub(crate) lots: FastMap<u32, u32>,
    /// Product words (normalized, ≥ 5 letters) by first letter, with their stems: the
    /// candidates for typo matching.
    pub(crate) fuzzy: FastMap<char, Vec<(String, String)>>,
}

/// How one token of a product name counts.
pub(crate) enum Feature {
    Word(String),
    Colour(u8, String),
    Size(u8, String),
    Num(u32),
}

/// Classifies one token of a product name or alias.
fn feature_of(lex: &Lexicon, t: &super::tokens::Token<'_>) -> Option<Feature> {
    match t.kind {
        Kind::Num => t.value.map(Feature::Num),
        Kind::Word => {
            let info = lex.word(&t.norm);
            if let Some(size) = info.size
                && t.norm.len() <= 4
            {
                return Some(Feature::Size(size, t.norm.clone()));
            }
            let function =
                info.flags & (flag::FUNCTION | flag::PAIR | flag::UNIT | flag::MEASURE) != 0;
            // "tee" folds to "te", which is a function word; a stretched spelling is not.
            if function && !(t.collapsed && t.norm.len() <= 3 && info.flags & flag::FUNCTION != 0) {
                return None;
            }
            if let Some(c) = lex.colour(&t.norm) {
                return Some(Feature::Colour(c, t.stem.clone()));
            }
            if t.norm.chars().count() < 2 {
                return None;
            }
            Some(Feature::Word(t.stem.clone()))
        }
        _ => None,
    }
}

impl Index {
    /// Compiles `catalog`.
    pub(crate) fn build(catalog: &Catalog, lex: &Lexicon) -> Index {
        let mut idx = Index {
            products: Vec::with_capacity(catalog.len()),
            words: FastMap::default(),
            colours: FastMap::default(),
            sizes: FastMap::default(),
            nums: FastMap::default(),
            sku_first: FastMap::default(),
            lots: FastMap::default(),
            fuzzy: FastMap::default(),
        };
        let mut fuzzy_seen = HashSet::new();
        for (i, p) in catalog.products().iter().enumerate() {
            let id = u32::try_from(i).unwrap_or(u32::MAX);
            let parts: Vec<String> = p.sku.split('-').map(str::to_ascii_lowercase).collect();
            let mut prod = Prod {
                sku: p.sku.clone(),
                parts,
                colours: 0,
                sizes: 0,
                nums: Vec::new(),
                per_pair: false,
                alias_keys: Vec::new(),
            };
            let mut words: HashSet<String> = HashSet::new();
            let names = p
                .aliases
                .iter()
                .map(String::as_str)
                .chain([p.name.as_str()]);
            for (k, name) in names.enumerate() {
                let is_alias = k < p.aliases.len();
                let mut key = String::new();
                for t in tokenize(name) {
                    if t.kind == Kind::Word {
                        let info = lex.word(&t.norm);
                        if info.flags & (flag::PAIR | flag::PAIRNOUN) != 0
                            || lex.word(&t.stem).flags & flag::PAIRNOUN != 0
                        {
                            prod.per_pair = true;
                        }
                    }
                    let Some(f) = feature_of(lex, &t) else {
                        continue;
                    };
                    if !key.is_empty() {
                        key.push(' ');
                    }
                    match f {
                        Feature::Word(stem) => {
                            key.push_str(&stem);
                            if t.norm.chars().count() >= 5
                                && fuzzy_seen.insert(t.norm.clone())
                                && let Some(c) = t.norm.chars().next()
                            {
                                idx.fuzzy
                                    .entry(c)
                                    .or_default()
                                    .push((t.norm.clone(), stem.clone()));
                            }
                            words.insert(stem);
                        }
                        Feature::Colour(c, stem) => {
                            key.push_str(&stem);
                            prod.colours |= 1 << c;
                        }
                        Feature::Size(s, norm) => {
                            key.push_str(&norm);
                            prod.sizes |= 1 << s;
                        }
                        Feature::Num(n) => {
                            key.push_str(&n.to_string());
                            if !prod.nums.contains(&n) {
                                prod.nums.push(n);
                            }
                        }
                    }
                }
                if is_alias && !key.is_empty() {
                    prod.alias_keys.push(key);
                }
            }
            // The SKU's last part often is the size or shade even when no alias says it.
            if let Some(last) = prod.parts.last().filter(|_| prod.parts.len() > 1) {
                if let Ok(n) = last.parse::<u32>() {
                    if !prod.nums.contains(&n) {
                        prod.nums.push(n);
                    }
                } else if let Some(s) = lex.word(last).size
                    && last.len() <= 3
                {
                    prod.sizes |= 1 << s;
                }
            }
            for w in words {
                idx.words.entry(w).or_default().push(id);
            }
            for c in 0..32u8 {
                if prod.colours & (1 << c) != 0 {
                    idx.colours.entry(c).or_default().push(id);
                }
            }
            for s in 0..16u8 {
                if prod.sizes & (1 << s) != 0 {
                    idx.sizes.entry(s).or_default().push(id);
                }
            }
            for &n in &prod.nums {
                idx.nums.entry(n).or_default().push(id);
            }
            if let Some(first) = prod.parts.first() {
                idx.sku_first.entry(first.clone()).or_default().push(id);
            }
            if let Some(lot) = p.lot {
                idx.lots.insert(lot, id);
            }
            idx.products.push(prod);
        }
        idx
    }

    /// Products having the word stem.
    pub(crate) fn word_posting(&self, stem: &str) -> &[u32] {
        self.words.get(stem).map_or(&[], Vec::as_slice)
    }

    /// The closest product word to a misspelled one (`chaketa` → `chaquet`), if close
    /// enough: edit distance 1 for 6–7 letters, 2 from 8.
    pub(crate) fn fuzzy_word(&self, norm: &str) -> Option<&str> {
        let len = norm.chars().count();
        // Five-letter words are too often other real words ("ganas" / "gafas").
        if len < 6 {
            return None;
        }
        let max = if len >= 8 { 2 } else { 1 };
        let first = norm.chars().next()?;
        let mut best: Option<(usize, &str)> = None;
        for (w, stem) in self.fuzzy.get(&first)? {
            let wl = w.chars().count();
            if wl.abs_diff(len) > max {
                continue;
            }
            if let Some(d) = distance_at_most(norm, w, max)
                && best.is_none_or(|(bd, _)| d < bd)
            {
                best = Some((d, stem.as_str()));
            }
        }
        best.map(|(_, s)| s)
    }
}

/// Whether `a` and `b` are within `max` edits (insert, delete, substitute, swap two
/// neighbours).
pub(crate) fn within_distance(a: &str, b: &str, max: usize) -> bool {
    distance_at_most(a, b, max).is_some()
}

/// The optimal-string-alignment distance of `a` and `b` when it is at most `max`.
/// ASCII words (nearly all of them) take an allocation-free path with an early exit;
/// others go through `strsim`.
fn distance_at_most(a: &str, b: &str, max: usize) -> Option<usize> {
    const CAP: usize = 48;
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    if !a.is_ascii() || !b.is_ascii() || a.len() >= CAP || b.len() >= CAP {
        let d = strsim::osa_distance(
            std::str::from_utf8(a).unwrap_or(""),
            std::str::from_utf8(b).unwrap_or(""),
        );
        return (d <= max).then_some(d);
    }
    let mut prev2 = [0usize; CAP];
    let mut prev = [0usize; CAP];
    let mut cur = [0usize; CAP];
    for (j, p) in prev.iter_mut().enumerate().take(b.len() + 1) {
        *p = j;
    }
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return None;
        }
        prev2 = prev;
        prev = cur;
    }
    let d = prev[b.len()];
    (d <= max).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_distance_agrees_with_strsim() {
        for (a, b) in [
            ("chaketa", "chaqueta"),
            ("vestdo", "vestido"),
            ("zapatiyas", "zapatilas"),
            ("abcd", "badc"),
            ("polera", "poleron"),
            ("sandalas", "sandalias"),
            ("ab", "ba"),
        ] {
            let d = strsim::osa_distance(a, b);
            for max in 0..4 {
                assert_eq!(
                    distance_at_most(a, b, max),
                    (d <= max).then_some(d),
                    "{a} {b} {max}"
                );
            }
        }
    }
}
