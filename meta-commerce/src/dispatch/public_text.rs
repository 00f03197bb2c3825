//! The public-text guard: a public reply under a live comment is seen by everyone, so it
//! never carries a price or a link (those go in the private reply). The engine writes
//! public texts without them; this check is defence in depth at send time.

use crate::text::fold;

/// Top-level domains that turn `label.tld` into a link even without a scheme (the
/// generic ones, the sale countries', and the short-link ones payment providers use).
const TLDS: &[&str] = &[
    "com", "net", "org", "io", "co", "me", "app", "link", "ly", "la", "gl", "to", "pay", "shop",
    "store", "site", "online", "cl", "mx", "br", "ar", "pe", "uy", "es", "us",
];

/// Currency symbols whose neighbour digit makes an amount (`$12.990`, `R$ 50`, `9 €`).
const SYMBOLS: &[char] = &['$', '€', '£', '¥', '₡', '₲', '₱', '₹', '₩', '₽'];

/// Currency codes and words that, next to a number, make an amount (`12990 CLP`,
/// `USD 10`, `10 lucas`). Folded (lower case, no accents).
const CURRENCY_WORDS: &[&str] = &[
    "clp", "mxn", "brl", "ars", "usd", "eur", "cop", "pen", "uyu", "gbp", "pesos", "peso", "reais",
    "dolares", "dolar", "dollars", "dollar", "euros", "euro", "soles", "lucas",
];

/// What a public text may not contain.
pub const PUBLIC_TEXT_REFUSAL: &str = "public replies carry no prices or links";

/// True when `text` may be posted publicly: no link (a scheme, `www.`, `label.tld`, or
/// the `{payment_link}` placeholder) and no currency amount.
#[must_use]
pub fn public_text_allowed(text: &str) -> bool {
    !contains_link(text) && !contains_amount(text)
}

/// True when `text` holds something a browser would open.
#[must_use]
pub fn contains_link(text: &str) -> bool {
    let lower = text.to_lowercase();
    if lower.contains(super::PAYMENT_LINK_PLACEHOLDER) {
        return true;
    }
    lower.split_whitespace().any(|raw| {
        let token = raw.trim_matches(|c: char| !c.is_alphanumeric() && c != '/');
        if token.contains("://") || token.starts_with("www.") {
            return true;
        }
        // `mpago.la/abc`, `tienda.cl`: a dotted host whose last label is a known TLD.
        let host = token.split('/').next().unwrap_or_default();
        let mut labels = host.split('.');
        let first = labels.next().unwrap_or_default();
        let Some(last) = host.rsplit('.').next().filter(|_| host.contains('.')) else {
            return false;
        };
        !first.is_empty()
            && first.chars().any(char::is_alphabetic)
            && labels
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
            && TLDS.contains(&last)
    })
}

/// True when `text` states an amount of money: a currency symbol next to a digit, or a
/// currency code or word next to a number.
#[must_use]
pub fn contains_amount(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if !SYMBOLS.contains(c) {
            continue;
        }
        // Skip one space either side: `$ 12.990`, `50 €`.
        let next = chars
            .get(i + 1..)
            .and_then(|rest| rest.iter().take(2).find(|c| !c.is_whitespace()).copied());
        let prev = chars[..i]
            .iter()
            .rev()
            .take(2)
            .find(|c| !c.is_whitespace())
            .copied();
        if next.is_some_and(|c| c.is_ascii_digit()) || prev.is_some_and(|c| c.is_ascii_digit()) {
            return true;
        }
    }
    let folded = fold(text);
    let words: Vec<&str> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let is_number = |w: &str| w.chars().all(|c| c.is_ascii_digit());
    words.windows(2).any(|pair| {
        (is_number(pair[0]) && CURRENCY_WORDS.contains(&pair[1]))
            || (CURRENCY_WORDS.contains(&pair[0]) && is_number(pair[1]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_refused() {
        for t in [
            "paga en https://mpago.la/abc",
            "ver http://x.io",
            "entra a www.tienda.cl",
            "link: mpago.la/2xYz",
            "tienda.cl tiene más",
            "(https://pay.example.com/o/1)",
            "pagá acá {payment_link}",
        ] {
            assert!(contains_link(t), "{t}");
            assert!(!public_text_allowed(t), "{t}");
        }
        for t in [
            "¡Reservado, Rosa! Te escribimos por privado 📩",
            "Gracias. Te escribimos",
            "Talla 3.5 disponible",
            "ok.",
            "Polera Roja M x2 ✅",
        ] {
            assert!(!contains_link(t), "{t}");
        }
    }

    #[test]
    fn amounts_are_refused() {
        for t in [
            "Total $12.990",
            "son $ 12.990 CLP",
            "R$ 50,00",
            "9 € nada más",
            "12990 CLP",
            "USD 10",
            "solo 10 lucas",
            "149 pesos",
            "quedan 20 reais",
        ] {
            assert!(contains_amount(t), "{t}");
            assert!(!public_text_allowed(t), "{t}");
        }
        for t in [
            "¡Reservado! 2 unidades de la polera 7",
            "Talla 38, color rojo",
            "quiero la 3 y la 5",
            "USD no aceptamos",
            "$ sin número",
        ] {
            assert!(!contains_amount(t), "{t}");
            assert!(public_text_allowed(t), "{t}");
        }
    }
}
