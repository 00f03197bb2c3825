//! Which items are newly requested (negation, corrections, cancels, past claims) and
//! the final intent with its confidence, items, suggestions and evidence.

use super::{Ctx, CueHit, Feat, How, NumRole, Res, is_claim};
use crate::classify::rules::lexicon::{Cue, flag};
use crate::classify::rules::tokens::Kind;
use crate::classify::{Classification, Intent, ItemRequest, Lang};

impl Ctx<'_, '_> {
    pub(super) fn polarity(&mut self) {
        let n_m = self.mentions.len();
        // Negation: the first item after "no" in its clause, or the item just before a
        // trailing "no".
        for h in self.hits.clone() {
            if h.cue != Cue::Neg {
                continue;
            }
            // "no, mejor la L" / "no perdón": the "no" belongs to the correction.
            let mut nx = h.start + h.len;
            while self
                .toks
                .get(nx)
                .is_some_and(|t| matches!(t.kind, Kind::Punct(',' | '.' | '!')))
            {
                nx += 1;
            }
            if self.cue(nx) == Some(Cue::Correction) {
                if let Some(prev) = self.mentions.iter().rposition(|m| m.end <= h.start)
                    && self.mentions.iter().any(|m| m.start > nx)
                {
                    self.mentions[prev].rejected = true;
                }
                continue;
            }
            let c = self.clause_of[h.start];
            let after = self
                .mentions
                .iter()
                .position(|m| m.start > h.start && self.clause_of[m.start] == c);
            let clause_has_more = (h.start + 1..self.clauses[c].end)
                .any(|j| matches!(self.toks[j].kind, Kind::Word | Kind::Num) && !self.in_cue(j));
            if let Some(k) = after {
                self.mentions[k].negated = true;
            } else if !clause_has_more
                && let Some(k) = self
                    .mentions
                    .iter()
                    .rposition(|m| m.end <= h.start && self.clause_of[m.start] == c)
            {
                self.mentions[k].negated = true;
            } else if !clause_has_more
                && (self.clauses[c].end - self.clauses[c].start) <= 2
                && let Some(prev) = self.mentions.iter().rposition(|m| m.end <= h.start)
                && self.mentions.iter().any(|m| m.start > h.start)
            {
                // "…la M, no, la L": a lone "no" corrects.
                self.mentions[prev].rejected = true;
            }
        }
        for h in self.hits.clone() {
            match h.cue {
                Cue::Affirm => {
                    let c = self.clause_of[h.start];
                    if let Some(k) = self
                        .mentions
                        .iter()
                        .rposition(|m| m.end <= h.start && self.clause_of[m.start] == c)
                    {
                        self.mentions[k].affirmed = true;
                        self.mentions[k].negated = false;
                    }
                }
                Cue::Correction => {
                    let prev = self
                        .mentions
                        .iter()
                        .rposition(|m| m.end <= h.start && !m.negated);
                    let next = self
                        .mentions
                        .iter()
                        .position(|m| m.start >= h.start + h.len);
                    if let (Some(p), Some(_)) = (prev, next) {
                        let only = self
                            .hits
                            .iter()
                            .any(|o| o.cue == Cue::Only && o.start > h.start);
                        if only {
                            for m in &mut self.mentions[..=p] {
                                m.rejected = true;
                            }
                        } else {
                            self.mentions[p].rejected = true;
                        }
                    }
                }
                Cue::InsteadOf => {
                    if let Some(k) = self
                        .mentions
                        .iter()
                        .position(|m| m.start >= h.start + h.len)
                    {
                        self.mentions[k].rejected = true;
                    }
                }
                Cue::Swap => {
                    let after: Vec<usize> = (0..n_m)
                        .filter(|&k| self.mentions[k].start > h.start)
                        .collect();
                    if after.len() >= 2 {
                        self.mentions[after[0]].rejected = true;
                    }
                }
                Cue::Only => {
                    // "quiero la 7 y la 8 … solo la 8"
                    let c = self.clause_of[h.start];
                    let here: Vec<usize> = (0..n_m)
                        .filter(|&k| {
                            self.mentions[k].start > h.start
                                && self.clause_of[self.mentions[k].start] == c
                        })
                        .collect();
                    if let Some(&first) = here.first() {
                        let later_claim = self.mentions[..first].iter().any(|m| !m.negated);
                        if later_claim && c > 0 {
                            for m in &mut self.mentions[..first] {
                                m.rejected = true;
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }

    // ------------------------------------------------------------------ decision

    pub(super) fn decide(mut self) -> Classification {
        if tracing::enabled!(tracing::Level::TRACE) {
            self.trace_state();
        }
        let lang = self.lang;
        let tag = self.toks.iter().any(|t| t.kind == Kind::Tag);
        if let Some(u) = self
            .toks
            .iter()
            .find(|t| t.kind == Kind::Url)
            .map(|t| t.raw)
        {
            self.evidence.push(format!("spam:{u:?}"));
            return self.finish(Intent::Other, 0.95, lang, Vec::new(), Vec::new());
        }
        if let Some(h) = self.first(Cue::Spam) {
            self.ev_cue("spam", h);
            return self.finish(Intent::Other, 0.9, lang, Vec::new(), Vec::new());
        }

        // Claims that stand: not negated, not the object of a cancel ("quero cancelar",
        // "cancel mine") or of a past verb.
        let live_claims: Vec<CueHit> = self
            .hits
            .iter()
            .copied()
            .filter(|h| is_claim(h.cue) && !self.claim_negated(h) && !self.claim_dead(h))
            .collect();
        let any_negated_claim = self
            .hits
            .iter()
            .any(|h| is_claim(h.cue) && self.claim_negated(h));
        let strong_claim = live_claims.iter().any(|h| h.cue != Cue::ClaimWeak);
        let keep = live_claims
            .iter()
            .any(|h| matches!(h.cue, Cue::Keep | Cue::BuyInf));
        let cancel_hit = self.hits.iter().copied().find(|h| {
            h.cue == Cue::Cancel
                && !self
                    .hits
                    .iter()
                    .any(|n| n.cue == Cue::Neg && n.start + 1 == h.start)
        });
        let personal = self.first(Cue::Personal);
        let everything = self.has_cue(Cue::Everything);
        let hesitate = self.first(Cue::Hesitate);

        // Sarcasm, hypotheticals, declines.
        if let Some(h) = self.first(Cue::Sarcasm)
            && (!live_claims.is_empty() || !self.mentions.is_empty() || everything)
        {
            self.ev_cue("sarcasm", h);
            return self.finish(Intent::Other, 0.75, lang, Vec::new(), Vec::new());
        }
        let deal_if = self.hits.iter().any(|h| {
            h.cue == Cue::Deal && matches!(self.toks[h.start].norm.as_str(), "si" | "if" | "se")
        });
        let cond = self.has_cue(Cue::Cond)
            || deal_if
            || self.has_cue(Cue::If) && (self.has_cue(Cue::Hypo) || self.has_cue(Cue::Deal));
        if cond {
            if let Some(h) = self
                .first(Cue::Cond)
                .or_else(|| self.first(Cue::Hypo))
                .or_else(|| self.first(Cue::If))
            {
                self.ev_cue("hypothetical", h);
            }
            let variant = self
                .mentions
                .iter()
                .any(|m| m.attr_only || matches!(m.res, Res::Unknown(_)))
                || self
                    .feat
                    .iter()
                    .any(|f| matches!(f, Feat::Size(_) | Feat::Colour(_)))
                || self.has_cue(Cue::Deal)
                || (0..self.n()).any(|i| self.has_flag(i, flag::SIZEMARK));
            if personal.is_some() || everything || !variant {
                return self.finish(Intent::Other, 0.7, lang, Vec::new(), Vec::new());
            }
            return self.finish(Intent::Question, 0.65, lang, Vec::new(), Vec::new());
        }
        if let Some(h) = personal
            && cancel_hit.is_none()
            && (!live_claims.is_empty() || !self.mentions.is_empty())
        {
            self.ev_cue("decline", h);
            return self.finish(Intent::Other, 0.7, lang, Vec::new(), Vec::new());
        }
        if let Some(h) = hesitate
            && !live_claims.is_empty()
            && !keep
        {
            self.ev_cue("hesitation", h);
            return self.finish(Intent::Other, 0.6, lang, Vec::new(), Vec::new());
        }

        // Questions: a keep request that names an item is not one ("me la guardas?").
        let question_clauses: Vec<usize> = (0..self.clauses.len())
            .filter(|&c| {
                let cl = &self.clauses[c];
                cl.question
                    && !(cl.keep && self.mentions.iter().any(|m| self.clause_of[m.start] == c))
            })
            .collect();

        // The items newly claimed.
        let additive = self.past_claim()
            && self.toks.iter().any(|t| {
                matches!(
                    t.norm.as_str(),
                    "tambien"
                        | "too"
                        | "also"
                        | "tb"
                        | "tbm"
                        | "tambem"
                        | "ahora"
                        | "now"
                        | "agora"
                        | "ademas"
                        | "alem"
                )
            });
        let claim_context = !live_claims.is_empty()
            || additive
            || self.mentions.iter().any(|m| m.affirmed)
            || self.mentions.iter().any(|m| m.rejected)
            || self.mentions.iter().any(|m| m.negated) && any_negated_claim;
        let mut claimed: Vec<usize> = (0..self.mentions.len())
            .filter(|&k| {
                let m = &self.mentions[k];
                let gov = self.governing(k);
                let c = &self.clauses[self.clause_of[m.start]];
                let asked = c.question && !c.keep && !c.claim && !c.stock_only;
                !m.negated
                    && !m.rejected
                    && !asked
                    && !matches!(gov, Some(Cue::Cancel | Cue::Past | Cue::Have))
            })
            .collect();
        let item_only = !claim_context && self.item_only(&claimed);
        if !claim_context && !item_only {
            claimed.clear();
        }

        if !claimed.is_empty() {
            // A real question alongside the claim wins unless it is a stock caveat or
            // clearly separate from a complete claim.
            let real_q: Vec<usize> = question_clauses
                .iter()
                .copied()
                .filter(|&c| {
                    let cl = &self.clauses[c];
                    let mentions_here = self.mentions.iter().any(|m| self.clause_of[m.start] == c);
                    let stock_caveat = cl.stock_only && !mentions_here && strong_claim;
                    let bare_mark = cl.claim && !self.clause_has(c, is_question_cue);
                    !stock_caveat && !bare_mark
                })
                .collect();
            let separate = real_q.iter().all(|&c| {
                let mentions_here = self.mentions.iter().any(|m| self.clause_of[m.start] == c);
                let prev_terminal =
                    c > 0 && matches!(self.clauses[c - 1].terminal, '!' | '.' | '\n');
                !mentions_here && prev_terminal && strong_claim
            });
            if !real_q.is_empty() && !separate {
                self.ev_question(real_q[0]);
                let conf = if keep { 0.6 } else { 0.8 };
                return self.finish(Intent::Question, conf, lang, Vec::new(), Vec::new());
            }
            let (items, suggestions, quality) = self.items_of(&claimed);
            for h in live_claims.iter().take(2) {
                self.ev_cue("verb", *h);
            }
            for &c in &real_q {
                // A separate question ("quiero la 7! hacen envíos?"): noted, not decisive.
                self.ev_question(c);
            }
            for k in 0..self.mentions.len() {
                if self.mentions[k].negated || self.mentions[k].rejected {
                    let s = self.span(self.mentions[k].start, self.mentions[k].end);
                    self.evidence.push(format!("rejected:{s:?}"));
                }
            }
            if let Some(h) = self.first(Cue::Neg) {
                self.ev_cue("negation", h);
            }
            if let Some(h) = self.first(Cue::Correction) {
                self.ev_cue("correction", h);
            }
            if let Some(h) = cancel_hit {
                self.ev_cue("cancel", h);
            }
            let mut conf = if keep || strong_claim {
                0.93
            } else if !live_claims.is_empty() {
                0.82
            } else if claim_context {
                0.85
            } else {
                0.72
            };
            conf *= quality;
            if !real_q.is_empty() {
                conf -= 0.12;
            }
            if tag {
                conf -= 0.05;
            }
            if cancel_hit.is_some() {
                conf -= 0.1;
            }
            if items.is_empty() && suggestions.is_empty() {
                return self.finish(Intent::Other, 0.5, lang, Vec::new(), Vec::new());
            }
            if items.is_empty() || !suggestions.is_empty() {
                conf = conf.min(0.4);
            }
            return self.finish(Intent::Purchase, conf, lang, items, suggestions);
        }

        if let Some(h) = cancel_hit {
            let how_q = question_clauses.iter().any(|&qc| {
                self.hits.iter().any(|q| {
                    self.clause_of[q.start] == qc
                        && q.cue == Cue::QuestionStart
                        && matches!(self.toks[q.start].norm.as_str(), "como" | "how")
                })
            });
            self.ev_cue("cancel", h);
            if how_q {
                return self.finish(Intent::Question, 0.7, lang, Vec::new(), Vec::new());
            }
            let c = self.clause_of[h.start];
            let scope: Vec<usize> = (0..self.mentions.len())
                .filter(|&k| {
                    let m = &self.mentions[k];
                    if m.negated {
                        // "me arrepentí, no quiero el perfume"
                        return true;
                    }
                    match self.governing(k) {
                        Some(Cue::Cancel) => true,
                        None => {
                            let mc = self.clause_of[m.start];
                            mc + 1 == c || mc == c + 1
                        }
                        _ => false,
                    }
                })
                .collect();
            let (items, suggestions, _) = self.items_of(&scope);
            let conf = if items.is_empty() { 0.85 } else { 0.9 };
            return self.finish(Intent::Cancel, conf, lang, items, suggestions);
        }

        if any_negated_claim && question_clauses.is_empty() {
            let negated: Vec<usize> = (0..self.mentions.len())
                .filter(|&k| self.mentions[k].negated)
                .collect();
            if !negated.is_empty() {
                if let Some(h) = self.first(Cue::Neg) {
                    self.ev_cue("negation", h);
                }
                let (items, suggestions, _) = self.items_of(&negated);
                return self.finish(Intent::Cancel, 0.55, lang, items, suggestions);
            }
        }

        if !question_clauses.is_empty() || self.has_cue(Cue::Show) {
            let addressed_to_friend = tag
                && !self
                    .hits
                    .iter()
                    .any(|h| matches!(h.cue, Cue::Question | Cue::StockQuestion | Cue::Topic));
            if addressed_to_friend || self.has_cue(Cue::FriendTalk) && tag {
                self.evidence.push("tag".to_owned());
                return self.finish(Intent::Other, 0.7, lang, Vec::new(), Vec::new());
            }
            let strong = question_clauses
                .iter()
                .any(|&c| self.clause_has(c, is_question_cue));
            if let Some(&c) = question_clauses.first() {
                self.ev_question(c);
            } else if let Some(h) = self.first(Cue::Show) {
                self.ev_cue("question", h);
            }
            let conf = if strong { 0.9 } else { 0.75 };
            return self.finish(Intent::Question, conf, lang, Vec::new(), Vec::new());
        }

        if let Some(h) = self.first(Cue::Past).or_else(|| self.first(Cue::Have)) {
            self.ev_cue("past", h);
            return self.finish(Intent::Other, 0.85, lang, Vec::new(), Vec::new());
        }
        if let Some(h) = live_claims.first().copied() {
            self.ev_cue("verb", h);
            self.evidence.push("no item named".to_owned());
            return self.finish(Intent::Other, 0.5, lang, Vec::new(), Vec::new());
        }
        if let Some(h) = self.first(Cue::Topic)
            && !tag
        {
            self.ev_cue("question", h);
            return self.finish(Intent::Question, 0.6, lang, Vec::new(), Vec::new());
        }
        if tag {
            self.evidence.push("tag".to_owned());
        }
        let chat = self
            .hits
            .iter()
            .any(|h| matches!(h.cue, Cue::Compliment | Cue::Greeting | Cue::FriendTalk));
        let conf = if chat || tag { 0.85 } else { 0.7 };
        self.finish(Intent::Other, conf, lang, Vec::new(), Vec::new())
    }

    /// Logs what the rules saw (`RUST_LOG=meta_commerce::classify=trace`).
    pub(super) fn trace_state(&self) {
        for h in &self.hits {
            tracing::trace!(cue = ?h.cue, text = self.span(h.start, h.start + h.len), "cue");
        }
        for m in &self.mentions {
            tracing::trace!(
                text = self.span(m.start, m.end),
                res = ?m.res,
                how = ?m.how,
                negated = m.negated,
                rejected = m.rejected,
                affirmed = m.affirmed,
                qty = ?m.qty,
                "mention"
            );
        }
        for c in &self.clauses {
            tracing::trace!(
                text = self.span(c.start, c.end),
                question = c.question,
                keep = c.keep,
                claim = c.claim,
                "clause"
            );
        }
    }

    pub(super) fn first(&self, cue: Cue) -> Option<CueHit> {
        self.hits.iter().find(|h| h.cue == cue).copied()
    }

    pub(super) fn clause_has(&self, c: usize, pred: fn(Cue) -> bool) -> bool {
        self.hits
            .iter()
            .any(|h| self.clause_of[h.start] == c && pred(h.cue))
    }

    /// "no quiero", "I don't want": a negation just before the claim, same clause.
    pub(super) fn claim_negated(&self, h: &CueHit) -> bool {
        self.hits.iter().any(|n| {
            n.cue == Cue::Neg
                && n.start < h.start
                && h.start - n.start <= 3
                && self.clause_of[n.start] == self.clause_of[h.start]
        })
    }

    /// A claim word that is really the object of a cancel or a past verb: "quero
    /// cancelar", "cancel mine", "ya pedí mía" — a cancel or past cue right next to it
    /// with no item in between.
    pub(super) fn claim_dead(&self, h: &CueHit) -> bool {
        let c = self.clause_of[h.start];
        let next = h.start + h.len;
        if self.cue(next) == Some(Cue::Cancel) {
            return true;
        }
        let before = self
            .hits
            .iter()
            .filter(|o| {
                o.start < h.start
                    && self.clause_of[o.start] == c
                    && matches!(
                        o.cue,
                        Cue::Cancel
                            | Cue::Past
                            | Cue::Have
                            | Cue::Claim
                            | Cue::Keep
                            | Cue::ClaimWeak
                    )
            })
            .max_by_key(|o| o.start);
        match before {
            Some(o) if matches!(o.cue, Cue::Cancel | Cue::Past | Cue::Have) => !self
                .mentions
                .iter()
                .any(|m| m.start >= o.start + o.len && m.end <= h.start),
            _ => false,
        }
    }

    /// The cue that governs a mention: the nearest claim, cancel or past cue before it
    /// in its clause, else the nearest after it.
    pub(super) fn governing(&self, k: usize) -> Option<Cue> {
        let m = &self.mentions[k];
        let c = self.clause_of[m.start];
        let relevant = |h: &&CueHit| {
            self.clause_of[h.start] == c
                && (is_claim(h.cue) || matches!(h.cue, Cue::Cancel | Cue::Past | Cue::Have))
        };
        let before = self
            .hits
            .iter()
            .filter(relevant)
            .filter(|h| h.start < m.start)
            .max_by_key(|h| h.start);
        let after = || {
            self.hits
                .iter()
                .filter(relevant)
                .filter(|h| h.start >= m.end)
                .min_by_key(|h| h.start)
        };
        before.or_else(after).map(|h| h.cue)
    }

    /// "ya pedí", "already claimed": the buyer says an earlier claim exists.
    pub(super) fn past_claim(&self) -> bool {
        self.hits.iter().any(|h| {
            h.cue == Cue::Past
                && (h.start..h.start + h.len).any(|i| {
                    matches!(
                        self.toks[i].norm.as_str(),
                        "pedi"
                            | "aparte"
                            | "separe"
                            | "claimed"
                            | "ordered"
                            | "reserve"
                            | "reservei"
                    )
                })
        })
    }

    /// A comment that is only an item (and a quantity, "porfa", an emoji): a claim.
    pub(super) fn item_only(&self, claimed: &[usize]) -> bool {
        if claimed.is_empty() {
            return false;
        }
        let soft_block = self.hits.iter().any(|h| {
            matches!(
                h.cue,
                Cue::Compliment
                    | Cue::Greeting
                    | Cue::FriendTalk
                    | Cue::Question
                    | Cue::QuestionStart
                    | Cue::StockQuestion
                    | Cue::Topic
                    | Cue::Past
                    | Cue::Have
                    | Cue::Hesitate
                    | Cue::Show
                    | Cue::Cancel
            )
        }) || self.toks.iter().any(|t| t.kind == Kind::Tag);
        if soft_block {
            return false;
        }
        let resolved = claimed
            .iter()
            .any(|&k| matches!(self.mentions[k].res, Res::One(_)));
        if !resolved {
            return false;
        }
        let explicit = self.has_cue(Cue::Polite)
            || self
                .mentions
                .iter()
                .any(|m| m.qty.is_some() || matches!(m.how, How::Sku | How::Lot | How::BareLot));
        let mut covered = 0usize;
        let mut total = 0usize;
        for (i, t) in self.toks.iter().enumerate() {
            if !matches!(t.kind, Kind::Word | Kind::Num) {
                continue;
            }
            total += 1;
            let in_mention = self.mentions.iter().any(|m| i >= m.start && i < m.end);
            let soft_cue = self.in_cue(i)
                && self.hits.iter().any(|h| {
                    i >= h.start
                        && i < h.start + h.len
                        && matches!(h.cue, Cue::Polite | Cue::ClaimWeak | Cue::Affirm)
                });
            if in_mention
                || self.flags(i) & (flag::FILLER | flag::CONJ) != 0
                || matches!(self.role[i], NumRole::Qty { .. })
                || soft_cue
                || self.has_flag(i, flag::UNIT | flag::PAIR)
                || t.is_word("x")
            {
                covered += 1;
            }
        }
        explicit && covered * 10 >= total * 6 || covered * 10 >= total * 8
    }

    /// The items of some mentions: resolved ones merged by SKU (repeating a claim is
    /// still one), suggestions for the rest, and the weakest match quality.
    pub(super) fn items_of(&mut self, ks: &[usize]) -> (Vec<ItemRequest>, Vec<String>, f32) {
        let mut items: Vec<ItemRequest> = Vec::new();
        let mut suggestions: Vec<String> = Vec::new();
        let mut quality = 1.0f32;
        for &k in ks {
            let m = self.mentions[k].clone();
            let span = self.span(m.start, m.end);
            match &m.res {
                Res::One(p) => {
                    let prod = &self.idx.products[*p as usize];
                    let qty = match m.qty {
                        Some((n, true)) if !prod.per_pair => n.saturating_mul(2),
                        Some((n, _)) => n,
                        None => 1,
                    }
                    .max(1);
                    self.evidence
                        .push(format!("{}:{span:?}→{}", m.how.label(), prod.sku));
                    if let Some(q) = m.qty_tok {
                        let raw = self.toks[q].raw;
                        self.evidence.push(format!("qty:{raw:?}={qty}"));
                    }
                    quality = quality.min(m.how.quality());
                    match items.iter_mut().find(|i| i.sku == prod.sku) {
                        Some(existing) => existing.qty = existing.qty.max(qty),
                        None => items.push(ItemRequest::new(prod.sku.clone(), qty)),
                    }
                }
                Res::Many(c) | Res::Unknown(c) => {
                    let skus: Vec<&str> = c
                        .iter()
                        .take(5)
                        .map(|&p| self.idx.products[p as usize].sku.as_str())
                        .collect();
                    self.evidence
                        .push(format!("ambiguous:{span:?}→{}", skus.join("|")));
                    for s in skus {
                        if !suggestions.iter().any(|x| x == s) {
                            suggestions.push(s.to_owned());
                        }
                    }
                }
            }
        }
        (items, suggestions, quality)
    }

    pub(super) fn ev_cue(&mut self, label: &str, h: CueHit) {
        let s = self.span(h.start, h.start + h.len);
        self.evidence.push(format!("{label}:{s:?}"));
    }

    pub(super) fn ev_question(&mut self, c: usize) {
        let h = self.hits.iter().copied().find(|h| {
            self.clause_of[h.start] == c
                && matches!(
                    h.cue,
                    Cue::Question | Cue::QuestionStart | Cue::StockQuestion | Cue::Topic
                )
        });
        match h {
            Some(h) => self.ev_cue("question", h),
            None => self.evidence.push("question:\"?\"".to_owned()),
        }
    }

    pub(super) fn finish(
        self,
        intent: Intent,
        confidence: f32,
        lang: Lang,
        items: Vec<ItemRequest>,
        suggestions: Vec<String>,
    ) -> Classification {
        let mut c = Classification::new(intent, confidence.clamp(0.05, 0.99), "rules")
            .with_items(items)
            .with_lang(lang)
            .with_suggestions(suggestions);
        c.evidence = self.evidence;
        c
    }
}

fn is_question_cue(cue: Cue) -> bool {
    matches!(
        cue,
        Cue::Question | Cue::QuestionStart | Cue::StockQuestion | Cue::Topic
    )
}
