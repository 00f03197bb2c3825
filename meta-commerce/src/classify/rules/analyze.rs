//! One comment through the rules: cues, clauses, item mentions (SKU codes, lots,
//! product words and attributes), quantities, polarity (negation, corrections,
//! cancels, past claims), then the intent, its confidence and the evidence.

use super::index::Index;
use super::lexicon::{Cue, EN, ES, Lexicon, PT, WordInfo, flag};
use super::tokens::{Emo, Kind, Token, tokenize};
use crate::classify::{Classification, Lang};

mod decide;
mod mentions;

/// How a token counts towards naming a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feat {
    None,
    /// A product word (its stem, or the fuzzy match in `Ctx::fuzzy`).
    Word,
    Colour(u8),
    Size(u8),
}

/// What a number token means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumRole {
    None,
    /// Part of a lot or SKU mention.
    Used,
    /// A quantity for the next (or, after `x`, the previous) item.
    Qty {
        pair: bool,
        after: bool,
    },
    /// A size, shade or volume of the item it follows.
    Attr,
    /// After a product word: a variant if some such product has it, else a quantity.
    SoftAttr,
    /// Alone: maybe a lot number.
    Bare,
    /// Money, time, percentages.
    Ignore,
}

/// How a mention was resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Res {
    One(u32),
    Many(Vec<u32>),
    Unknown(Vec<u32>),
}

/// Where an item came from (for confidence and evidence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum How {
    Sku,
    PartialSku,
    Lot,
    BareLot,
    Alias,
    Attrs,
    Partial,
    Fuzzy,
    Inherited,
}

impl How {
    fn label(self) -> &'static str {
        match self {
            How::Sku | How::PartialSku => "sku",
            How::Lot | How::BareLot => "lot",
            How::Alias => "alias",
            How::Attrs | How::Partial => "attrs",
            How::Fuzzy => "fuzzy",
            How::Inherited => "context",
        }
    }

    fn quality(self) -> f32 {
        match self {
            How::Sku | How::Lot | How::Alias => 1.0,
            How::Attrs => 0.92,
            How::BareLot | How::PartialSku => 0.85,
            How::Partial | How::Inherited => 0.8,
            How::Fuzzy => 0.75,
        }
    }
}

/// One item reference in the comment.
#[derive(Debug, Clone)]
struct Mention {
    /// Token range `[start, end)`.
    start: usize,
    end: usize,
    res: Res,
    how: How,
    /// Quantity and whether it counts pairs ("dos pares").
    qty: Option<(u32, bool)>,
    /// The token the quantity came from (for the evidence).
    qty_tok: Option<usize>,
    /// What named it, kept so a later "la azul" can borrow the product words.
    words: Vec<String>,
    colours: u32,
    sizes: u16,
    nums: Vec<u32>,
    /// Only colours, sizes or numbers, no product word ("la roja", "en L").
    attr_only: bool,
    /// Under a negation ("no quiero la 7", "la 7 no").
    negated: bool,
    /// Replaced by a correction ("…no, mejor la L") or "en vez de".
    rejected: bool,
    /// Followed by "sí" ("la azul sí").
    affirmed: bool,
}

impl Mention {
    fn new(start: usize, end: usize, res: Res, how: How) -> Self {
        Mention {
            start,
            end,
            res,
            how,
            qty: None,
            qty_tok: None,
            words: Vec::new(),
            colours: 0,
            sizes: 0,
            nums: Vec::new(),
            attr_only: false,
            negated: false,
            rejected: false,
            affirmed: false,
        }
    }
}

/// A cue phrase found in the comment.
#[derive(Debug, Clone, Copy)]
struct CueHit {
    start: usize,
    len: usize,
    cue: Cue,
    lang: u8,
}

/// A stretch of the comment between sentence punctuation (or "pero", "but").
#[derive(Debug, Default, Clone)]
struct Clause {
    start: usize,
    end: usize,
    /// Has "?" or "¿".
    qmark: bool,
    /// Asks something (an interrogative, a question-opening verb, or "?" without claim).
    question: bool,
    /// Its only question is about stock ("queda?", "still available?").
    stock_only: bool,
    /// Has a keep request ("me la guardas?") or a buying infinitive.
    keep: bool,
    /// Has a claim verb.
    claim: bool,
    /// The punctuation that ends it.
    terminal: char,
}

/// Everything known about one comment while it is being read; per-token vectors are
/// indexed like `toks`.
struct Ctx<'a, 'i> {
    text: &'a str,
    lex: &'static Lexicon,
    idx: &'i Index,
    toks: Vec<Token<'a>>,
    info: Vec<WordInfo>,
    cue_at: Vec<Option<usize>>,
    covered: Vec<bool>,
    hits: Vec<CueHit>,
    feat: Vec<Feat>,
    fuzzy: Vec<Option<&'i str>>,
    role: Vec<NumRole>,
    used: Vec<bool>,
    clause_of: Vec<usize>,
    clauses: Vec<Clause>,
    mentions: Vec<Mention>,
    lang: Lang,
    pt: bool,
    evidence: Vec<String>,
}

/// Classifies `text` against a compiled catalog.
pub(crate) fn classify(text: &str, idx: &Index, lex: &'static Lexicon) -> Classification {
    let toks = tokenize(text);
    let n = toks.len();
    let info = toks
        .iter()
        .map(|t| {
            if t.kind == Kind::Word {
                lex.word(&t.norm)
            } else {
                WordInfo::default()
            }
        })
        .collect();
    let mut cx = Ctx {
        text,
        lex,
        idx,
        toks,
        info,
        cue_at: vec![None; n],
        covered: vec![false; n],
        hits: Vec::new(),
        feat: vec![Feat::None; n],
        fuzzy: vec![None; n],
        role: vec![NumRole::None; n],
        used: vec![false; n],
        clause_of: vec![0; n],
        clauses: Vec::new(),
        mentions: Vec::new(),
        lang: Lang::Unknown,
        pt: false,
        evidence: Vec::new(),
    };
    cx.match_cues();
    cx.detect_lang();
    cx.positional_cues();
    cx.split_clauses();
    cx.find_skus();
    cx.find_lots();
    cx.find_features();
    cx.classify_numbers();
    cx.find_runs();
    cx.absorb_variants();
    cx.inherit_context();
    // A colour or size that fits nothing and no item before it is not an item.
    cx.mentions
        .retain(|m| !(m.attr_only && matches!(&m.res, Res::Unknown(s) if s.is_empty())));
    cx.bare_lots();
    cx.assign_quantities();
    cx.polarity();
    cx.decide()
}

impl<'a, 'i> Ctx<'a, 'i> {
    // ------------------------------------------------------------------ helpers

    fn n(&self) -> usize {
        self.toks.len()
    }

    fn word(&self, i: usize) -> Option<&str> {
        self.toks
            .get(i)
            .filter(|t| t.kind == Kind::Word)
            .map(|t| t.norm.as_str())
    }

    fn flags(&self, i: usize) -> u32 {
        self.info.get(i).map_or(0, |w| w.flags)
    }

    fn has_flag(&self, i: usize, f: u32) -> bool {
        self.toks.get(i).is_some_and(|t| t.kind == Kind::Word) && self.flags(i) & f != 0
    }

    fn cue(&self, i: usize) -> Option<Cue> {
        self.cue_at
            .get(i)
            .copied()
            .flatten()
            .map(|h| self.hits[h].cue)
    }

    fn in_cue(&self, i: usize) -> bool {
        self.covered.get(i).copied().unwrap_or(false)
    }

    fn has_cue(&self, cue: Cue) -> bool {
        self.hits.iter().any(|h| h.cue == cue)
    }

    fn span(&self, start: usize, end: usize) -> &'a str {
        let text: &'a str = self.text;
        let (Some(a), Some(b)) = (self.toks.get(start), self.toks.get(end.saturating_sub(1)))
        else {
            return "";
        };
        let s = a.raw.as_ptr() as usize - text.as_ptr() as usize;
        let e = b.raw.as_ptr() as usize - text.as_ptr() as usize + b.raw.len();
        text.get(s..e).unwrap_or("")
    }

    fn num_value(&self, i: usize) -> Option<u32> {
        let t = self.toks.get(i)?;
        match t.kind {
            Kind::Num => t.value,
            Kind::Word => self.number_word(i).map(|(v, _)| v),
            _ => None,
        }
    }

    /// A number written in words at `i` ("siete", "twenty one", "vinte e dois"):
    /// its value and how many tokens it spans.
    fn number_word(&self, i: usize) -> Option<(u32, usize)> {
        let w = self.info.get(i)?;
        let v = w.number?;
        // Portuguese "dos" is "of the" ("o preço dos tênis"); right after a claim verb or
        // at the start of a clause it is Spanish "two" even in a Portuguese-looking
        // comment ("quiero dos calça jeans").
        if self.toks[i].norm == "dos" && self.pt {
            let after_claim = i > 0
                && self.in_cue(i - 1)
                && self.hits.iter().any(|h| {
                    h.start + h.len == i && matches!(h.cue, Cue::Claim | Cue::Keep | Cue::ClaimWeak)
                });
            let clause_start =
                i == 0 || matches!(self.toks[i - 1].kind, Kind::Punct(_) | Kind::Emoji(_));
            if !after_claim && !clause_start {
                return None;
            }
        }
        // "media docena", "meia dúzia", "half a dozen"
        if v == 12 && i > 0 {
            let prev = self.toks[i - 1].norm.as_str();
            let prev2 = i.checked_sub(2).map(|j| self.toks[j].norm.as_str());
            if matches!(prev, "media" | "meia") || prev == "a" && prev2 == Some("half") {
                return Some((6, 1));
            }
        }
        if w.tens {
            let mut j = i + 1;
            if self.has_flag(j, flag::CONJ) || self.toks.get(j).is_some_and(|t| t.is_punct('-')) {
                j += 1;
            }
            if let Some(u) = self.info.get(j).and_then(|u| u.number)
                && u < 10
                && self.toks[j].kind == Kind::Word
            {
                return Some((v + u, j + 1 - i));
            }
        }
        Some((v, 1))
    }

    fn is_feature(&self, i: usize) -> bool {
        self.feat.get(i).is_some_and(|f| *f != Feat::None)
    }

    fn is_noun(&self, i: usize) -> bool {
        matches!(self.feat.get(i), Some(Feat::Word | Feat::Colour(_)))
    }

    fn stem_of(&self, i: usize) -> &str {
        self.fuzzy[i].unwrap_or(self.toks[i].stem.as_str())
    }

    /// The next index after `i` skipping up to `max` filler words.
    fn skip_fillers(&self, mut i: usize, max: usize) -> usize {
        let mut k = 0;
        while k < max && self.has_flag(i, flag::FILLER) && !self.has_flag(i, flag::SOFT) {
            i += 1;
            k += 1;
        }
        i
    }

    // ------------------------------------------------------------------ cues

    fn match_cues(&mut self) {
        let n = self.n();
        let mut i = 0;
        while i < n {
            if self.toks[i].kind != Kind::Word {
                i += 1;
                continue;
            }
            let mut matched = 0;
            if let Some(list) = self.lex.phrases.get(&self.toks[i].norm) {
                for ph in list {
                    let mut j = i + 1;
                    let ok = ph.rest.iter().all(|w| {
                        let hit = self
                            .toks
                            .get(j)
                            .is_some_and(|t| t.kind == Kind::Word && &t.norm == w);
                        j += 1;
                        hit
                    });
                    if !ok {
                        continue;
                    }
                    if ph.rest.is_empty() {
                        let t = &self.toks[i];
                        let soft = matches!(
                            ph.cue,
                            Cue::Compliment
                                | Cue::Greeting
                                | Cue::Topic
                                | Cue::FriendTalk
                                | Cue::Everything
                                | Cue::Deal
                        );
                        if soft && !self.idx.word_posting(&t.stem).is_empty() {
                            continue;
                        }
                        if ph.cue == Cue::Past && past_needs_accent(&t.norm) && !t.accented_end() {
                            continue;
                        }
                        // Spanish "se" is not English "see" stretched.
                        if ph.cue == Cue::BlockInf
                            && t.norm == "se"
                            && !t.raw.eq_ignore_ascii_case("see")
                        {
                            continue;
                        }
                        // "cuando", "donde", "cual" without the accent are conjunctions.
                        if ph.cue == Cue::Question
                            && matches!(t.norm.as_str(), "donde" | "cuando" | "cual" | "cuales")
                            && t.raw.is_ascii()
                        {
                            continue;
                        }
                    }
                    matched = 1 + ph.rest.len();
                    self.push_cue(i, matched, ph.cue);
                    if let Some(h) = self.hits.last_mut() {
                        h.lang = ph.lang;
                    }
                    break;
                }
            }
            if matched == 0 {
                let norm = &self.toks[i].norm;
                if self.lex.is_clitic_claim(norm) {
                    self.push_cue(i, 1, Cue::Keep);
                } else if norm.len() >= 6
                    && self.info[i].flags == 0
                    && self.info[i].lang == 0
                    && self.idx.word_posting(&self.toks[i].stem).is_empty()
                    && let Some(cue) = self
                        .lex
                        .fuzzy_cues
                        .iter()
                        .find(|(w, _)| {
                            // The last letter is the inflection ("aparte" is not "aparta").
                            w.len().abs_diff(norm.len()) <= 1
                                && w.chars().last() == norm.chars().last()
                                && super::index::within_distance(w, norm, 1)
                        })
                        .map(|(_, c)| *c)
                {
                    self.push_cue(i, 1, cue);
                }
                i += 1;
            } else {
                i += matched;
            }
        }
    }

    fn push_cue(&mut self, start: usize, len: usize, cue: Cue) {
        self.cue_at[start] = Some(self.hits.len());
        for c in &mut self.covered[start..start + len] {
            *c = true;
        }
        self.hits.push(CueHit {
            start,
            len,
            cue,
            lang: 0,
        });
    }

    fn detect_lang(&mut self) {
        let mut score = [0f32; 3];
        let add = |score: &mut [f32; 3], mask: u8, w: f32| {
            let bits = mask.count_ones();
            if bits == 0 {
                return;
            }
            let share = w / bits as f32;
            for (k, bit) in [ES, EN, PT].into_iter().enumerate() {
                if mask & bit != 0 {
                    score[k] += share;
                }
            }
        };
        for (i, t) in self.toks.iter().enumerate() {
            if t.kind != Kind::Word {
                continue;
            }
            add(&mut score, self.info[i].lang, 1.0);
            for c in t.raw.chars() {
                match c {
                    'ã' | 'õ' | 'ç' | 'ê' | 'ô' | 'Ã' | 'Õ' | 'Ç' | 'Ê' | 'Ô' => {
                        score[2] += 1.5
                    }
                    'ñ' | 'Ñ' => score[0] += 1.5,
                    _ => {}
                }
            }
        }
        for t in &self.toks {
            if matches!(t.kind, Kind::Punct('¿' | '¡')) {
                score[0] += 1.5;
            }
        }
        // Multi-word cues say more about the language than single words.
        for h in &self.hits {
            if h.len > 1 {
                add(&mut score, h.lang, 1.0);
            }
        }
        let (best, second) = {
            let mut order = [0usize, 1, 2];
            order.sort_by(|a, b| score[*b].total_cmp(&score[*a]));
            (order[0], order[1])
        };
        self.pt = score[2] > score[0];
        self.lang = if score[best] < 0.5 || (score[best] - score[second]).abs() < 0.01 {
            Lang::Unknown
        } else {
            [Lang::Es, Lang::En, Lang::Pt][best]
        };
    }

    /// Cues that depend on where they stand: "va"/"dale" open a clause, "yo!"/"me!"
    /// claim only when followed by an item or nothing, "+1", the raised hand.
    fn positional_cues(&mut self) {
        let n = self.n();
        let clause_start = |toks: &[Token<'_>], i: usize| {
            toks[..i]
                .iter()
                .rev()
                .find(|t| !matches!(t.kind, Kind::Emoji(_)))
                .is_none_or(|t| {
                    matches!(
                        t.kind,
                        Kind::Punct('.' | '!' | '?' | ',' | ';' | ':' | '\n' | '¡')
                    )
                })
        };
        for h in &mut self.hits {
            if h.cue == Cue::ClaimWeak && h.len == 1 && !clause_start(&self.toks, h.start) {
                h.cue = Cue::Greeting;
            }
            // "va a llegar", "va bien": not "va la negra".
            if h.cue == Cue::ClaimWeak
                && self.toks[h.start].norm == "va"
                && self
                    .toks
                    .get(h.start + 1)
                    .is_some_and(|t| t.norm == "a" || t.norm == "bien" || t.norm == "muy")
            {
                h.cue = Cue::Greeting;
            }
        }
        let mut extra = Vec::new();
        for i in 0..n {
            let t = &self.toks[i];
            match t.kind {
                Kind::Word
                    if matches!(t.norm.as_str(), "yo" | "eu" | "me" | "meu" | "minha")
                        && self.cue_at[i].is_none()
                        && !self.in_cue(i) =>
                {
                    let next = self.toks.get(i + 1);
                    let ok = match next {
                        None => clause_start(&self.toks, i),
                        Some(nx) => match nx.kind {
                            Kind::Punct('!' | '#') | Kind::Num | Kind::Emoji(_) => true,
                            Kind::Word => {
                                self.flags(i + 1) & flag::ARTICLE != 0
                                    && self.toks.get(i + 2).is_some_and(|t| t.kind == Kind::Num)
                            }
                            _ => false,
                        },
                    };
                    if ok && clause_start(&self.toks, i) {
                        extra.push((i, Cue::ClaimWeak));
                    }
                }
                Kind::Num if t.value == Some(1) && i > 0 && self.toks[i - 1].is_punct('+') => {
                    extra.push((i, Cue::ClaimWeak));
                }
                Kind::Emoji(Emo::Hand) => extra.push((i, Cue::ClaimWeak)),
                Kind::Emoji(Emo::Eyeroll) => extra.push((i, Cue::Sarcasm)),
                Kind::Emoji(Emo::Pray) => extra.push((i, Cue::Polite)),
                Kind::Emoji(Emo::Love) => extra.push((i, Cue::Compliment)),
                _ => {}
            }
        }
        for (i, cue) in extra {
            if self.cue_at[i].is_none() {
                self.push_cue(i, 1, cue);
            }
        }
        // "es igual a la mía": a possessive pronoun after an article is not a claim.
        for h in &mut self.hits {
            if h.cue == Cue::Claim
                && h.len == 1
                && matches!(
                    self.toks[h.start].norm.as_str(),
                    "mio" | "mia" | "mios" | "mias" | "mine"
                )
                && h.start > 0
                && self.info[h.start - 1].flags & flag::ARTICLE != 0
                && self.toks[h.start - 1].kind == Kind::Word
            {
                h.cue = Cue::Greeting;
            }
        }
        // "sí" at the end of a clause affirms; "si" followed by words is "if".
        for h in &mut self.hits {
            if h.cue == Cue::If && self.toks[h.start].norm == "si" && h.len == 1 {
                let next = self.toks.get(h.start + 1);
                let accented = self.toks[h.start].accented_end();
                let ends = next.is_none_or(|t| t.kind != Kind::Word)
                    || next.is_some_and(|t| t.norm == "porfa" || t.norm == "please");
                if accented || ends {
                    h.cue = Cue::Affirm;
                }
            }
            // Portuguese "no" is "in the" ("no tamanho G"); it never precedes an article.
            let next_article = self.toks.get(h.start + 1).is_some_and(|t| {
                t.kind == Kind::Word && self.info[h.start + 1].flags & flag::ARTICLE != 0
            });
            let next_word = self
                .toks
                .get(h.start + 1)
                .is_some_and(|t| t.kind == Kind::Word);
            if self.pt
                && h.cue == Cue::Neg
                && self.toks[h.start].norm == "no"
                && next_word
                && !next_article
            {
                h.cue = Cue::Polite;
            }
        }
        if self.pt {
            self.hits.retain(|h| {
                !(h.cue == Cue::Polite && h.len == 1 && self.toks[h.start].norm == "no")
            });
            self.rebuild_cue_index();
        }
        // A claim followed by "saber"/"ver" asks for information ("quiero saber");
        // followed by any other verb that is not about buying it is not a claim at all
        // ("quiero llorar", "I want to cry", "me quedo con las ganas").
        let mut blocked = Vec::new();
        let mut neutral = Vec::new();
        for (k, h) in self.hits.iter().enumerate() {
            if !matches!(h.cue, Cue::Claim | Cue::Keep) {
                continue;
            }
            let mut j = h.start + h.len;
            let to = self.word(j).is_some_and(|w| w == "to");
            if to || self.word(j).is_some_and(|w| w == "de" || w == "que") {
                j += 1;
            }
            match self
                .cue_at
                .get(j)
                .copied()
                .flatten()
                .map(|n| self.hits[n].cue)
            {
                Some(Cue::BlockInf) => blocked.push(k),
                Some(Cue::BuyInf | Cue::Keep | Cue::Claim) => {}
                _ => {
                    let Some(t) = self.toks.get(j).filter(|t| t.kind == Kind::Word) else {
                        continue;
                    };
                    let infinitive = t.norm.len() >= 4
                        && (t.norm.ends_with("ar")
                            || t.norm.ends_with("er")
                            || t.norm.ends_with("ir"))
                        && self.info[j].flags & flag::FUNCTION == 0;
                    let product = !self.idx.word_posting(&t.stem).is_empty()
                        || self.lex.colour(&t.norm).is_some();
                    if (infinitive || to && self.info[j].number.is_none()) && !product {
                        neutral.push(k);
                    }
                }
            }
        }
        for k in neutral {
            self.hits[k].cue = Cue::Greeting;
        }
        for k in blocked {
            self.hits[k].cue = Cue::Topic;
        }
    }

    fn rebuild_cue_index(&mut self) {
        self.cue_at.iter_mut().for_each(|c| *c = None);
        self.covered.iter_mut().for_each(|c| *c = false);
        for (k, h) in self.hits.iter().enumerate() {
            self.cue_at[h.start] = Some(k);
            for c in &mut self.covered[h.start..h.start + h.len] {
                *c = true;
            }
        }
    }

    // ------------------------------------------------------------------ clauses

    fn split_clauses(&mut self) {
        let n = self.n();
        let mut cur = Clause {
            start: 0,
            ..Clause::default()
        };
        for i in 0..n {
            self.clause_of[i] = self.clauses.len();
            let t = &self.toks[i];
            let brk = match t.kind {
                Kind::Punct(c @ ('.' | '!' | '?' | ';' | ',' | ':' | '\n')) => {
                    if c == '?' {
                        cur.qmark = true;
                    }
                    cur.terminal = c;
                    // "?!" and "!!" stay one break.
                    !self.toks.get(i + 1).is_some_and(|t| {
                        matches!(
                            t.kind,
                            Kind::Punct('.' | '!' | '?' | ';' | ',' | ':' | '\n')
                        )
                    })
                }
                Kind::Word => (self.pt || t.norm != "mas") && self.flags(i) & flag::BREAK != 0,
                _ => false,
            };
            if t.is_punct('¿') {
                cur.qmark = true;
            }
            if brk {
                cur.end = i + 1;
                self.clauses.push(std::mem::take(&mut cur));
                cur.start = i + 1;
            }
        }
        if cur.start < n || self.clauses.is_empty() {
            cur.end = n;
            self.clauses.push(cur);
        }
        // Clause-level cues.
        for h in &self.hits {
            let c = self.clause_of.get(h.start).copied().unwrap_or(0);
            let first_word = (self.clauses[c].start..h.start).all(|k| {
                !matches!(self.toks[k].kind, Kind::Word | Kind::Num)
                    || self.in_cue(k)
                        && matches!(
                            self.cue(k),
                            Some(
                                Cue::Greeting
                                    | Cue::Polite
                                    | Cue::Correction
                                    | Cue::Affirm
                                    | Cue::Claim
                                    | Cue::ClaimWeak
                                    | Cue::Keep
                            )
                        )
                    || self.flags(k) & flag::CONJ != 0
            }) || self.toks[h.start].norm == "do" && h.len > 1;
            let cl = &mut self.clauses[c];
            match h.cue {
                Cue::Question => cl.question = true,
                Cue::QuestionStart if first_word => cl.question = true,
                Cue::StockQuestion if first_word || cl.qmark => {
                    if !cl.question {
                        cl.stock_only = true;
                    }
                    cl.question = true;
                }
                Cue::Keep | Cue::BuyInf => cl.keep = true,
                Cue::Claim | Cue::ClaimWeak | Cue::Swap => cl.claim = true,
                _ => {}
            }
            if h.cue == Cue::Question {
                cl.stock_only = false;
            }
        }
        for cl in &mut self.clauses {
            if cl.qmark && !cl.question && !cl.claim && !cl.keep {
                cl.question = true;
            }
        }
    }
}

/// Single-word past forms whose unaccented spelling is also a present or subjunctive
/// form ("compre", "separe"): past only with the accent.
fn past_needs_accent(norm: &str) -> bool {
    matches!(
        norm,
        "compre" | "separe" | "aparte" | "reserve" | "pague" | "leve"
    )
}

fn is_claim(cue: Cue) -> bool {
    matches!(
        cue,
        Cue::Claim | Cue::ClaimWeak | Cue::Keep | Cue::BuyInf | Cue::Swap
    )
}
