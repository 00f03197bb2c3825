//! A live-sale comment generator: realistic buyer comments in Spanish, English and
//! Portuguese for a catalog, each with the label it was written to have. The demo and
//! the benchmarks use it to drive the pipeline; comparing the labels with what the
//! classifier decided gives a live accuracy figure.
//!
//! Deterministic for a seed. It is not the evaluation set: its phrasings are simple
//! on purpose (the classifier's quality is measured on `dev.jsonl` by `meta commerce eval`).

use serde::Serialize;

use crate::catalog::{Catalog, Product};
use crate::classify::{Intent, ItemRequest, Lang};

/// One generated comment and what it means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ScriptedComment {
    /// The text.
    pub text: String,
    /// The intent it was written with.
    pub intent: Intent,
    /// The items it asks for (purchase) or withdraws (cancel).
    pub items: Vec<ItemRequest>,
    /// Its language.
    pub lang: Lang,
}

const WORDS_ES: [&str; 4] = ["", "una", "dos", "tres"];
const WORDS_EN: [&str; 4] = ["", "one", "two", "three"];
const WORDS_PT: [&str; 4] = ["", "uma", "duas", "três"];

fn qty_text(rng: &mut fastrand::Rng, lang: Lang, q: u32) -> String {
    let words = match lang {
        Lang::En => WORDS_EN,
        Lang::Pt => WORDS_PT,
        _ => WORDS_ES,
    };
    if q <= 3 && rng.bool() {
        words[q as usize].to_owned()
    } else {
        q.to_string()
    }
}

/// A name buyers use for the product: an alias, the lot or the SKU.
fn reference(rng: &mut fastrand::Rng, p: &Product, lang: Lang) -> String {
    match (rng.u8(0..10), p.lot) {
        (0..=1, Some(lot)) => match lang {
            Lang::En => format!("#{lot}"),
            Lang::Pt => format!("o {lot}"),
            _ => format!("la {lot}"),
        },
        (2, _) => p.sku.clone(),
        _ if !p.aliases.is_empty() => p.aliases[rng.usize(0..p.aliases.len())].clone(),
        _ => p.sku.clone(),
    }
}

fn lang_of(rng: &mut fastrand::Rng) -> Lang {
    match rng.u8(0..10) {
        0..=4 => Lang::Es,
        5..=7 => Lang::Pt,
        _ => Lang::En,
    }
}

/// `n` comments for `catalog`: about 55 % purchases, 15 % questions, 25 % other
/// chatter, 5 % cancels.
#[must_use]
pub fn comments(catalog: &Catalog, n: usize, seed: u64) -> Vec<ScriptedComment> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let products = catalog.products();
    let mut out = Vec::with_capacity(n);
    if products.is_empty() {
        return out;
    }
    for _ in 0..n {
        let lang = lang_of(&mut rng);
        let p = &products[rng.usize(0..products.len())];
        let r = reference(&mut rng, p, lang);
        let roll = rng.u8(0..100);
        let c = if roll < 55 {
            let q = if rng.u8(0..4) == 0 { rng.u32(2..4) } else { 1 };
            let qt = qty_text(&mut rng, lang, q);
            let text = match (lang, rng.u8(0..5), q) {
                (Lang::Es, 0, _) => format!("quiero {qt} {r}"),
                (Lang::Es, 1, 1) => format!("me llevo {r}"),
                (Lang::Es, 1, _) => format!("me llevo {qt} {r}"),
                (Lang::Es, 2, 1) => format!("yo! {r} 🙋‍♀️"),
                (Lang::Es, 3, 1) => format!("separame {r} porfa"),
                (Lang::Es, _, _) => format!("quiero {qt} {r} porfa"),
                (Lang::En, 0, 1) => format!("sold {r}"),
                (Lang::En, 1, _) => format!("I'll take {qt} {r}"),
                (Lang::En, 2, 1) => format!("mine! {r} 🙋‍♀️"),
                (Lang::En, _, 1) => format!("claiming {r} please"),
                (Lang::En, _, _) => format!("I want {qt} {r} please"),
                (_, 0, _) => format!("quero {qt} {r}"),
                (_, 1, 1) => format!("é meu! {r}"),
                (_, 2, _) => format!("vou levar {qt} {r}"),
                (_, 3, 1) => format!("separa {r} pra mim"),
                (_, _, _) => format!("quero {qt} {r} por favor"),
            };
            ScriptedComment {
                text,
                intent: Intent::Purchase,
                items: vec![ItemRequest::new(&p.sku, q)],
                lang,
            }
        } else if roll < 70 {
            let text = match (lang, rng.u8(0..3)) {
                (Lang::Es, 0) => format!("precio de {r}?"),
                (Lang::Es, 1) => format!("{r} viene en otra talla?"),
                (Lang::Es, _) => "hacen envíos a regiones?".to_owned(),
                (Lang::En, 0) => format!("how much is {r}?"),
                (Lang::En, 1) => "do you ship to Peru?".to_owned(),
                (Lang::En, _) => format!("is {r} still available?"),
                (_, 0) => format!("quanto custa {r}?"),
                (_, 1) => "vocês entregam em São Paulo?".to_owned(),
                (_, _) => format!("ainda tem {r}?"),
            };
            ScriptedComment {
                text,
                intent: Intent::Question,
                items: Vec::new(),
                lang,
            }
        } else if roll < 95 {
            let text = match (lang, rng.u8(0..3)) {
                (Lang::Es, 0) => "qué lindo todo 😍".to_owned(),
                (Lang::Es, 1) => "hola desde Temuco!!".to_owned(),
                (Lang::Es, _) => "ya me llegó mi pedido, gracias!!".to_owned(),
                (Lang::En, 0) => "love this live ❤️".to_owned(),
                (Lang::En, 1) => "hi from Toronto!".to_owned(),
                (Lang::En, _) => "@Jess look at this".to_owned(),
                (_, 0) => "que lindo 😍😍".to_owned(),
                (_, 1) => "@Bia olha isso".to_owned(),
                (_, _) => "boa noite gente!".to_owned(),
            };
            ScriptedComment {
                text,
                intent: Intent::Other,
                items: Vec::new(),
                lang,
            }
        } else {
            let text = match lang {
                Lang::En => format!("cancel {r} sorry"),
                Lang::Pt => format!("cancela {r} por favor"),
                _ => format!("cancela {r} porfa"),
            };
            ScriptedComment {
                text,
                intent: Intent::Cancel,
                items: vec![ItemRequest::new(&p.sku, 1)],
                lang,
            }
        };
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_labelled() {
        let csv = "sku,name,aliases,price,currency,stock\nPOL-ROJ-M,Polera,polera roja M|red tee M|#1,10,CLP,3\n";
        let cat = Catalog::from_csv(csv.as_bytes()).unwrap();
        let a = comments(&cat, 200, 7);
        assert_eq!(a, comments(&cat, 200, 7));
        assert!(
            a.iter()
                .any(|c| c.intent == Intent::Purchase && c.items[0].sku == "POL-ROJ-M")
        );
        assert!(a.iter().any(|c| c.intent == Intent::Question));
        assert!(a.iter().all(|c| !c.text.is_empty()));
    }
}
