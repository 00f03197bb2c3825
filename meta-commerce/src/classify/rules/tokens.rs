//! Splitting a comment into tokens: words (folded, stretched letters collapsed, and a
//! light stem for catalog matching), numbers, punctuation, emoji, @tags and links.

use unicode_normalization::char::is_combining_mark;

use crate::text::{collapse_repeats, fold_char_into, light_stem};

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Letters.
    Word,
    /// ASCII digits (thousands separators folded in).
    Num,
    /// One punctuation character; `'\n'` marks a line break.
    Punct(char),
    /// An emoji or other symbol.
    Emoji(Emo),
    /// `@name`.
    Tag,
    /// A link or bare domain.
    Url,
}

/// The emoji that change a comment's meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Emo {
    /// 🙋 ✋ 🙌 ☝: "me!".
    Hand,
    /// 😍 ❤️ 🔥: liking.
    Love,
    /// 🙄 🙃 😒 🤡: sarcasm.
    Eyeroll,
    /// 🙏: please.
    Pray,
    /// Anything else.
    Other,
}

/// One token of a comment.
#[derive(Debug, Clone)]
pub(crate) struct Token<'a> {
    /// The original text.
    pub(crate) raw: &'a str,
    /// Words: folded with stretched letters collapsed; numbers: the digits.
    pub(crate) norm: String,
    /// Words: [`light_stem`] of the folded word; otherwise empty.
    pub(crate) stem: String,
    pub(crate) kind: Kind,
    /// Numbers: the value (when it fits).
    pub(crate) value: Option<u32>,
    /// Stretched letters were collapsed ("tee" → "te"): the word is not the short
    /// function word its normal form spells.
    pub(crate) collapsed: bool,
}

impl Token<'_> {
    pub(crate) fn is_word(&self, w: &str) -> bool {
        self.kind == Kind::Word && self.norm == w
    }

    pub(crate) fn is_punct(&self, c: char) -> bool {
        self.kind == Kind::Punct(c)
    }

    /// The raw word ends in an accented vowel (`compré`, `sí`, `é`): tells past tense
    /// and affirmations from their unaccented homographs.
    pub(crate) fn accented_end(&self) -> bool {
        self.raw
            .chars()
            .last()
            .is_some_and(|c| matches!(c, 'á' | 'é' | 'í' | 'ó' | 'ú' | 'Á' | 'É' | 'Í' | 'Ó' | 'Ú'))
    }
}

/// Size codes whose doubled letters are meaningful.
const KEEP_DOUBLE: [&str; 6] = ["xxs", "xxl", "xxxl", "gg", "xgg", "pp"];

const TLDS: [&str; 24] = [
    "com", "net", "org", "ly", "xyz", "io", "me", "co", "br", "cl", "mx", "ar", "es", "info",
    "shop", "store", "link", "site", "online", "top", "club", "app", "biz", "gl",
];

/// Does this whitespace-free chunk look like a link or a bare domain?
fn is_url(chunk: &str) -> bool {
    let lower = chunk.to_ascii_lowercase();
    if lower.contains("://") || lower.starts_with("www.") {
        return true;
    }
    let b = lower.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c != b'.' || i == 0 || !b[i - 1].is_ascii_alphanumeric() {
            continue;
        }
        let rest = &b[i + 1..];
        let n = rest.iter().take_while(|c| c.is_ascii_lowercase()).count();
        if !(2..=6).contains(&n) {
            continue;
        }
        let after = rest.get(n).copied();
        if after.is_some_and(|a| a.is_ascii_alphanumeric() || a == b'.') {
            continue;
        }
        let tld = std::str::from_utf8(&rest[..n]).unwrap_or("");
        if TLDS.contains(&tld) && (after.is_some() || i > 2) {
            return true;
        }
    }
    false
}

fn emoji_kind(c: char) -> Emo {
    match c as u32 {
        0x1F64B | 0x270B | 0x1F64C | 0x261D | 0x1F590 | 0x1F91A | 0x1F446 | 0x1F6D2 => Emo::Hand,
        0x1F60D
        | 0x1F970
        | 0x2764
        | 0x1F495..=0x1F49F
        | 0x1F63B
        | 0x1F929
        | 0x1F525
        | 0x2665
        | 0x1F9E1
        | 0x1F5A4
        | 0x1F90D
        | 0x1F90E => Emo::Love,
        0x1F644 | 0x1F643 | 0x1F612 | 0x1F921 | 0x1F60F => Emo::Eyeroll,
        0x1F64F => Emo::Pray,
        _ => Emo::Other,
    }
}

/// Invisible joiners, variation selectors, skin tones and gender signs: parts of an
/// emoji sequence that carry no meaning here.
fn is_emoji_modifier(c: char) -> bool {
    matches!(
        c as u32,
        0x200D | 0xFE0E | 0xFE0F | 0x1F3FB..=0x1F3FF | 0x2640 | 0x2642 | 0x20E3
    )
}

const PUNCT: &str = "#?¿!¡,.;:+&/-()\"*=%$<>[]{}|~…";

struct Builder<'a> {
    text: &'a str,
    out: Vec<Token<'a>>,
    folded: String,
    word_start: Option<usize>,
}

impl<'a> Builder<'a> {
    fn flush_word(&mut self, end: usize) {
        let Some(start) = self.word_start.take() else {
            return;
        };
        if self.folded.is_empty() {
            return;
        }
        let norm = if KEEP_DOUBLE.contains(&self.folded.as_str()) {
            self.folded.clone()
        } else {
            collapse_repeats(&self.folded)
        };
        let collapsed = norm.len() != self.folded.len();
        let stem = if self.folded.len() <= 3 {
            norm.clone()
        } else {
            light_stem(&self.folded)
        };
        self.out.push(Token {
            raw: &self.text[start..end],
            norm,
            stem,
            kind: Kind::Word,
            value: None,
            collapsed,
        });
        self.folded.clear();
    }

    fn push(&mut self, start: usize, end: usize, kind: Kind, norm: String) {
        self.out.push(Token {
            raw: &self.text[start..end],
            norm,
            stem: String::new(),
            kind,
            value: None,
            collapsed: false,
        });
    }
}

/// Splits `text` into tokens.
pub(crate) fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut b = Builder {
        text,
        out: Vec::with_capacity(16),
        folded: String::with_capacity(16),
        word_start: None,
    };
    let mut pos = 0;
    for chunk in text.split_inclusive(char::is_whitespace) {
        let start = pos;
        pos += chunk.len();
        let trimmed = chunk.trim_end_matches(char::is_whitespace);
        let end = start + trimmed.len();
        if !trimmed.is_empty() {
            if is_url(trimmed) {
                b.push(start, end, Kind::Url, String::new());
            } else {
                chunk_tokens(&mut b, start, trimmed);
            }
        }
        if chunk[trimmed.len()..].contains('\n') {
            b.push(end, end, Kind::Punct('\n'), "\n".to_owned());
        }
    }
    b.out
}

fn chunk_tokens<'a>(b: &mut Builder<'a>, offset: usize, chunk: &'a str) {
    let mut rest_start = 0;
    if let Some(name) = chunk.strip_prefix('@') {
        let n: usize = name
            .char_indices()
            .take_while(|(_, c)| c.is_alphanumeric() || *c == '.' || *c == '_')
            .map(|(_, c)| c.len_utf8())
            .sum();
        if n > 0 {
            b.push(offset, offset + 1 + n, Kind::Tag, String::new());
            rest_start = 1 + n;
        }
    }
    let s = &chunk[rest_start..];
    let base = offset + rest_start;
    let mut iter = s.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let at = base + i;
        if c.is_alphabetic() && c != 'º' && c != 'ª' {
            if b.word_start.is_none() {
                b.word_start = Some(at);
            }
            fold_char_into(c, &mut b.folded);
            continue;
        }
        if is_combining_mark(c) && b.word_start.is_some() {
            continue;
        }
        if matches!(c, '\'' | '’' | '´' | '`') {
            let next_alpha = iter.peek().is_some_and(|(_, n)| n.is_alphabetic());
            if b.word_start.is_some() && next_alpha {
                continue;
            }
            b.flush_word(at);
            continue;
        }
        b.flush_word(at);
        if c.is_ascii_digit() {
            let mut end = i + 1;
            let bytes = s.as_bytes();
            loop {
                while end < bytes.len() && bytes[end].is_ascii_digit() {
                    end += 1;
                }
                // "12.990" / "12,990": a thousands separator, not two numbers.
                let grouped = matches!(bytes.get(end), Some(b'.' | b','))
                    && bytes
                        .get(end + 1..end + 4)
                        .is_some_and(|g| g.iter().all(u8::is_ascii_digit))
                    && !bytes.get(end + 4).is_some_and(u8::is_ascii_digit);
                if grouped {
                    end += 4;
                } else {
                    break;
                }
            }
            let digits: String = s[i..end].chars().filter(char::is_ascii_digit).collect();
            let value = if digits.len() <= 9 {
                digits.parse().ok()
            } else {
                None
            };
            b.out.push(Token {
                raw: &s[i..end],
                norm: digits,
                stem: String::new(),
                kind: Kind::Num,
                value,
                collapsed: false,
            });
            while iter.peek().is_some_and(|(j, _)| *j < end) {
                iter.next();
            }
            continue;
        }
        if c == '×' {
            b.push(at, at + c.len_utf8(), Kind::Word, "x".to_owned());
            continue;
        }
        if matches!(c, 'º' | 'ª' | '°') || c.is_whitespace() {
            continue;
        }
        if PUNCT.contains(c) {
            let p = match c {
                '…' => '.',
                '¿' => '¿',
                other => other,
            };
            b.push(at, at + c.len_utf8(), Kind::Punct(p), p.to_string());
            continue;
        }
        if is_emoji_modifier(c) || c.is_control() {
            continue;
        }
        b.push(
            at,
            at + c.len_utf8(),
            Kind::Emoji(emoji_kind(c)),
            String::new(),
        );
    }
    b.flush_word(base + s.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norms(t: &str) -> Vec<String> {
        tokenize(t).into_iter().map(|t| t.norm).collect()
    }

    #[test]
    fn words_numbers_and_codes() {
        assert_eq!(
            norms("JEA-NEG-30 x2"),
            ["jea", "-", "neg", "-", "30", "x", "2"]
        );
        assert_eq!(
            norms("Quierooo la #7!!"),
            ["quiero", "la", "#", "7", "!", "!"]
        );
        assert_eq!(norms("i'll take n°7"), ["il", "take", "n", "7"]);
        assert_eq!(norms("talla XXL"), ["tala", "xxl"]);
        let t = tokenize("$12.990 y 5");
        assert_eq!(t[1].value, Some(12990));
        assert_eq!(t[3].value, Some(5));
    }

    #[test]
    fn tags_links_and_emoji() {
        let t = tokenize("@Ana mira 😍 bit.ly/xyz www.x.com");
        let kinds: Vec<Kind> = t.iter().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Tag,
                Kind::Word,
                Kind::Emoji(Emo::Love),
                Kind::Url,
                Kind::Url
            ]
        );
        assert!(!is_url("porfa.gracias"));
        assert!(is_url("tinyurl.com/free-ph0ne"));
    }

    #[test]
    fn stems_are_computed_for_words() {
        let t = tokenize("Zapatillas NEGRAS");
        assert_eq!(t[0].stem, "zapatil");
        assert_eq!(t[1].stem, "negr");
    }
}
