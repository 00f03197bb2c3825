//! Text folding shared by the catalog and the classifiers: lower case, accents removed
//! (NFD then combining marks dropped), whitespace collapsed. `"Polerón  GRIS"` and
//! `"poleron gris"` fold to the same key.
//!
//! The word-level helpers ([`fold_word_into`], [`collapse_repeats`], [`light_stem`]) are
//! what the rules classifier matches on: buyers stretch words ("quierooo"), drop
//! accents and mix singular and plural, masculine and feminine ("negros", "negra"), so
//! catalog words and comment words are both reduced to the same key.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{decompose_canonical, is_combining_mark};

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

/// Appends `ch` folded (lower case, accents dropped) to `out`. ASCII takes a fast path,
/// since nearly every character of a comment is ASCII.
pub fn fold_char_into(ch: char, out: &mut String) {
    if ch.is_ascii() {
        out.push(ch.to_ascii_lowercase());
        return;
    }
    decompose_canonical(ch, |d| {
        if !is_combining_mark(d) {
            for lc in d.to_lowercase() {
                out.push(lc);
            }
        }
    });
}

/// Appends the folded form of one word to `out` (see [`fold`]; no whitespace handling).
pub fn fold_word_into(word: &str, out: &mut String) {
    for ch in word.chars() {
        fold_char_into(ch, out);
    }
}

/// Collapses every run of the same letter into one letter: `"quierooo"` → `"quiero"`,
/// `"llevo"` → `"levo"`, `"kkkk"` → `"k"`. Digits are kept as typed (`"33"` stays).
///
/// Applied to both sides of a comparison, it makes stretched words match their
/// dictionary form without a list of every stretching.
#[must_use]
pub fn collapse_repeats(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev: Option<char> = None;
    for ch in s.chars() {
        if Some(ch) == prev && ch.is_alphabetic() {
            continue;
        }
        prev = Some(ch);
        out.push(ch);
    }
    out
}

/// A light stemmer for Spanish, Portuguese and English product words, applied to an
/// already folded word: plural endings go (`marrones` → `marron`, `azuis` → `azul`,
/// `batons` → `batom`, `dresses` → `dress`), repeated letters collapse, then a final
/// gender vowel goes (`negra`, `negro` → `negr`). Stems are never shorter than three
/// letters. It is a matching key, not a linguistic stem.
#[must_use]
pub fn light_stem(folded: &str) -> String {
    let w = folded;
    let len = w.len();
    let base: std::borrow::Cow<'_, str> = if len <= 3 || !w.is_ascii() {
        w.into()
    } else if w.ends_with("ss") || w.ends_with("is") && !w.ends_with("uis") || w.ends_with("us") {
        if w.ends_with("eis") && len > 4 {
            format!("{}el", &w[..len - 3]).into()
        } else if w.ends_with("ais") && len > 4 {
            format!("{}al", &w[..len - 3]).into()
        } else if w.ends_with("ois") && len > 4 {
            format!("{}ol", &w[..len - 3]).into()
        } else {
            w.into()
        }
    } else if w.ends_with("uis") && len > 4 {
        format!("{}ul", &w[..len - 3]).into()
    } else if w.ends_with("ons") {
        format!("{}om", &w[..len - 3]).into()
    } else if w.ends_with("es")
        && len > 4
        && matches!(
            w.as_bytes()[len - 3],
            b'r' | b'l' | b'n' | b'd' | b'z' | b'x' | b's' | b'j' | b'h'
        )
    {
        w[..len - 2].into()
    } else if w.ends_with('s') {
        w[..len - 1].into()
    } else {
        w.into()
    };
    let mut out = collapse_repeats(&base);
    if out.len() > 3 && out.ends_with(['a', 'o', 'e']) {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{collapse_repeats, fold, light_stem};

    #[test]
    fn folds_case_accents_and_spaces() {
        assert_eq!(fold("  Polerón   GRIS "), "poleron gris");
        assert_eq!(fold("tênis BRANCO"), "tenis branco");
        assert_eq!(fold("Ñandú"), "nandu");
    }

    #[test]
    fn collapses_stretched_letters_but_not_digits() {
        assert_eq!(collapse_repeats("quierooo"), "quiero");
        assert_eq!(collapse_repeats("siii33"), "si33");
    }

    #[test]
    fn stems_agree_across_number_and_gender() {
        for (a, b) in [
            ("negra", "negros"),
            ("marron", "marrones"),
            ("azul", "azuis"),
            ("batom", "batons"),
            ("dress", "dresses"),
            ("gris", "grises"),
            ("lente", "lentes"),
            ("matte", "mate"),
            ("base", "bases"),
            ("gloss", "glosss"),
        ] {
            assert_eq!(light_stem(a), light_stem(b), "{a} / {b}");
        }
        assert_ne!(light_stem("polera"), light_stem("poleron"));
    }
}
