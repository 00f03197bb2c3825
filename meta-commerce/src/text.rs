//! Text folding shared by the catalog and the classifiers: lower case, accents removed
//! (NFD then combining marks dropped), whitespace collapsed. `"Polerón  GRIS"` and
//! `"poleron gris"` fold to the same key.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Folds `s` for matching: lower case, no accents, single spaces, trimmed.
#[must_use]
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for ch in s.nfd() {
        if is_combining_mark(ch) {
            continue;
        }
        if ch.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        for lc in ch.to_lowercase() {
            out.push(lc);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn folds_case_accents_and_spaces() {
        assert_eq!(fold("  Polerón   GRIS "), "poleron gris");
        assert_eq!(fold("tênis BRANCO"), "tenis branco");
        assert_eq!(fold("Ñandú"), "nandu");
    }
}
