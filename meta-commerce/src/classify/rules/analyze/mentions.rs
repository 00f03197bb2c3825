//! Finding the items a comment names: SKU codes, lot numbers, product words and
//! attributes (segmented where product words stop belonging together), the role of
//! every number, inheritance of context ("la azul sí") and quantities.

use super::{Ctx, Feat, How, Mention, NumRole, Res};
use crate::classify::rules::lexicon::{Cue, flag};
use crate::classify::rules::tokens::Kind;

impl Ctx<'_, '_> {
    pub(super) fn find_skus(&mut self) {
        let n = self.n();
        let mut i = 0;
        while i < n {
            let t = &self.toks[i];
            if !matches!(t.kind, Kind::Word | Kind::Num) || self.used[i] {
                i += 1;
                continue;
            }
            let Some(cands) = self.idx.sku_first.get(t.norm.as_str()) else {
                i += 1;
                continue;
            };
            let mut best: Vec<u32> = Vec::new();
            let mut best_parts = 0;
            let mut best_end = i;
            let mut best_full = false;
            for &p in cands {
                let parts = &self.idx.products[p as usize].parts;
                let mut j = i;
                let mut m = 0;
                let mut end = i;
                while m < parts.len() {
                    while self
                        .toks
                        .get(j)
                        .is_some_and(|t| matches!(t.kind, Kind::Punct('-' | '/' | '.' | '_')))
                        && m > 0
                    {
                        j += 1;
                    }
                    let Some(tk) = self.toks.get(j) else { break };
                    let same = match (tk.kind, parts[m].parse::<u32>()) {
                        (Kind::Num, Ok(v)) => tk.value == Some(v),
                        (Kind::Word, _) => {
                            tk.norm == parts[m] || tk.raw.eq_ignore_ascii_case(&parts[m])
                        }
                        _ => false,
                    };
                    if !same {
                        break;
                    }
                    m += 1;
                    j += 1;
                    end = j;
                }
                let full = m == parts.len();
                if m < 2 && !(full && self.toks[i].raw.chars().all(|c| !c.is_lowercase())) {
                    continue;
                }
                if (full, m) > (best_full, best_parts) {
                    best = vec![p];
                    best_parts = m;
                    best_end = end;
                    best_full = full;
                } else if (full, m) == (best_full, best_parts) {
                    best.push(p);
                }
            }
            if best.is_empty() {
                i += 1;
                continue;
            }
            let res = if best.len() == 1 {
                Res::One(best[0])
            } else {
                Res::Many(best)
            };
            let how = if best_full { How::Sku } else { How::PartialSku };
            for k in i..best_end {
                self.used[k] = true;
                self.role[k] = NumRole::Used;
            }
            self.mentions.push(Mention::new(i, best_end, res, how));
            i = best_end;
        }
    }

    pub(super) fn find_lots(&mut self) {
        let n = self.n();
        let mut i = 0;
        while i < n {
            if self.used[i] {
                i += 1;
                continue;
            }
            let t = &self.toks[i];
            let mut found: Option<(usize, u32, usize)> = None; // (span start, lot, end)
            if t.is_punct('#') {
                if let Some(v) = self.num_value(i + 1) {
                    let len = self.number_word(i + 1).map_or(1, |(_, l)| l);
                    found = Some((i, v, i + 1 + len));
                }
            } else if t.kind == Kind::Word {
                let f = self.flags(i);
                let after_feature = i > 0 && self.is_feature_word_raw(i - 1);
                let size_context = f & flag::SIZEMARK != 0 && after_feature;
                let n_not_number =
                    t.norm == "n" && self.toks.get(i + 1).is_some_and(|t| t.kind != Kind::Num);
                let lotmark =
                    f & flag::LOTMARK != 0 && !size_context && !n_not_number && !self.in_cue(i);
                // A lot is singular ("la 7", "o 8"); "las dos" is "both of them".
                let plural = matches!(t.norm.as_str(), "los" | "las" | "os" | "as");
                let article = f & flag::ARTICLE != 0 && !plural;
                if (lotmark || article)
                    && let Some(v) = self.num_value(i + 1)
                    && !self.used.get(i + 1).copied().unwrap_or(true)
                {
                    let len = if self.toks[i + 1].kind == Kind::Num {
                        1
                    } else {
                        self.number_word(i + 1).map_or(1, |(_, l)| l)
                    };
                    let after = i + 1 + len;
                    let next_is_item = self.toks.get(after).is_some_and(|t| {
                        t.kind == Kind::Word
                            && (self.is_feature_word_raw(after)
                                || self.flags(after) & (flag::UNIT | flag::PAIR | flag::MEASURE)
                                    != 0)
                    }) || self.toks.get(after).is_some_and(|t| t.is_punct('%'));
                    let ok = lotmark || !next_is_item;
                    // "a 7" in Spanish is "to 7"; accept it only before the end or a claim.
                    if ok {
                        found = Some((i, v, after));
                    }
                }
            }
            if let Some((start, lot, end)) = found
                && let Some(&p) = self.idx.lots.get(&lot)
            {
                for k in start..end {
                    self.used[k] = true;
                    self.role[k] = NumRole::Used;
                }
                self.mentions
                    .push(Mention::new(start, end, Res::One(p), How::Lot));
                i = end;
                continue;
            }
            i += 1;
        }
    }

    /// A product word (by stem), ignoring cue status: used before features exist.
    pub(super) fn is_feature_word_raw(&self, i: usize) -> bool {
        let Some(t) = self.toks.get(i) else {
            return false;
        };
        t.kind == Kind::Word
            && self.flags(i) & flag::FUNCTION == 0
            && (!self.idx.word_posting(&t.stem).is_empty() || self.lex.colour(&t.norm).is_some())
    }

    pub(super) fn find_features(&mut self) {
        for i in 0..self.n() {
            if self.used[i] || self.toks[i].kind != Kind::Word {
                continue;
            }
            if self.in_cue(i) {
                // Soft cue words that are product words were skipped when matching.
                continue;
            }
            let t = &self.toks[i];
            let info = self.info[i];
            if let Some(s) = info.size
                && t.norm.len() <= 4
            {
                self.feat[i] = Feat::Size(s);
                continue;
            }
            let product_word = !self.idx.word_posting(&t.stem).is_empty();
            if info.flags & flag::FUNCTION != 0 && !(t.collapsed && product_word) {
                continue;
            }
            if let Some(c) = self.lex.colour(&t.norm) {
                self.feat[i] = Feat::Colour(c);
                continue;
            }
            if !self.idx.word_posting(&t.stem).is_empty() {
                self.feat[i] = Feat::Word;
                continue;
            }
            if let Some(s) = info.size {
                self.feat[i] = Feat::Size(s);
                continue;
            }
            if info.number.is_none()
                && info.lang == 0
                && let Some(stem) = self.idx.fuzzy_word(&t.norm)
            {
                self.fuzzy[i] = Some(stem);
                self.feat[i] = Feat::Word;
            }
        }
    }

    pub(super) fn classify_numbers(&mut self) {
        let n = self.n();
        for i in 0..n {
            if self.used[i] {
                continue;
            }
            let t = &self.toks[i];
            let is_digit = t.kind == Kind::Num;
            let word_num = t.kind == Kind::Word && !self.in_cue(i) && self.number_word(i).is_some();
            if !is_digit && !word_num {
                // "un par de", "a pair of", "a couple of"
                if t.kind == Kind::Word && self.flags(i) & flag::PAIR != 0 && t.norm.len() <= 4 {
                    let prev_num = i > 0 && matches!(self.role[i - 1], NumRole::Qty { .. });
                    if !prev_num && self.next_is_item(i + 1) {
                        self.role[i] = NumRole::Qty {
                            pair: true,
                            after: false,
                        };
                    }
                } else if t.kind == Kind::Word && t.norm == "couple" && self.next_is_item(i + 1) {
                    self.role[i] = NumRole::Qty {
                        pair: false,
                        after: false,
                    };
                }
                continue;
            }
            let prev = i.checked_sub(1).map(|j| &self.toks[j]);
            let next = self.toks.get(i + 1);
            let next_flags = if next.is_some_and(|t| t.kind == Kind::Word) {
                self.flags(i + 1)
            } else {
                0
            };
            let prev_is = |w: &str| prev.is_some_and(|p| p.is_word(w));
            if word_num
                && self.number_word(i).is_some_and(|(v, _)| v == 6)
                && self.toks[i].norm != "seis"
                && i > 0
            {
                // "media docena": "media" is part of the number, not the socks.
                self.used[i - 1] = true;
            }
            // "una de las dos poleras": the quantity is the first number.
            let of_the_n = i >= 3
                && self.has_flag(i - 1, flag::ARTICLE)
                && self.has_flag(i - 2, flag::OF)
                && (self.num_value(i - 3).is_some() || is_one(&self.toks[i - 3].norm));
            if of_the_n {
                self.role[i] = NumRole::Ignore;
                if matches!(self.role[i - 3], NumRole::None | NumRole::Bare)
                    || is_one(&self.toks[i - 3].norm)
                {
                    self.role[i - 3] = NumRole::Qty {
                        pair: false,
                        after: false,
                    };
                }
                continue;
            }
            let role = if prev_is("x") || next.is_some_and(|t| t.is_word("x")) && is_digit {
                NumRole::Qty {
                    pair: false,
                    after: prev_is("x"),
                }
            } else if next_flags & flag::PAIR != 0 {
                NumRole::Qty {
                    pair: true,
                    after: false,
                }
            } else if next_flags & flag::UNIT != 0 {
                NumRole::Qty {
                    pair: false,
                    after: true,
                }
            } else if is_digit
                && (i > 0 && self.has_flag(i - 1, flag::SIZEMARK)
                    || i > 1
                        && self.has_flag(i - 1, flag::IN)
                        && (self.is_feature(i - 2) || self.has_flag(i - 2, flag::SIZEMARK)))
            {
                NumRole::Attr
            } else if is_digit && i > 0 && self.is_feature(i - 1) {
                NumRole::SoftAttr
            } else if prev.is_some_and(|p| p.is_punct('$'))
                || next.is_some_and(|t| t.is_punct('%'))
                || next_flags & flag::MEASURE != 0
                || t.value.is_some_and(|v| v >= 1000)
                || t.value.is_none() && is_digit
            {
                NumRole::Ignore
            } else if self.next_is_item(i + 1) {
                NumRole::Qty {
                    pair: false,
                    after: false,
                }
            } else if is_digit {
                NumRole::Bare
            } else {
                NumRole::None
            };
            self.role[i] = role;
        }
    }

    /// Does an item start at `i`, after at most two "de"/"of the" words?
    pub(super) fn next_is_item(&self, i: usize) -> bool {
        let j = self.skip_fillers(i, 3);
        if self.is_noun(j) {
            return true;
        }
        if self
            .mentions
            .iter()
            .any(|m| m.start == j || m.start + 1 == j && self.has_flag(m.start, flag::ARTICLE))
        {
            return true;
        }
        self.mentions.iter().any(|m| m.start >= i && m.start <= j)
    }

    pub(super) fn find_runs(&mut self) {
        let n = self.n();
        let mut i = 0;
        while i < n {
            if !self.starts_run(i) {
                i += 1;
                continue;
            }
            let mut run: Vec<usize> = Vec::new();
            let mut pending: Vec<usize> = Vec::new();
            let mut unknown = 0;
            let mut j = i;
            while j < n {
                let t = &self.toks[j];
                let feature = self.is_feature(j)
                    || t.kind == Kind::Num
                        && matches!(self.role[j], NumRole::Attr | NumRole::SoftAttr);
                if self.used[j] {
                    break;
                }
                if feature {
                    run.append(&mut pending);
                    run.push(j);
                    unknown = 0;
                } else if t.kind == Kind::Word
                    && self.flags(j) & flag::FILLER != 0
                    && !self.in_cue(j)
                {
                    pending.push(j);
                } else if t.kind == Kind::Word
                    && !self.in_cue(j)
                    && self.flags(j) & (flag::FUNCTION | flag::CONJ | flag::BREAK) == 0
                    && self.info[j].number.is_none()
                    && unknown < 1
                    && !run.is_empty()
                {
                    unknown += 1;
                    pending.push(j);
                } else if t.is_punct('-') && !run.is_empty() {
                    pending.push(j);
                } else {
                    break;
                }
                j += 1;
            }
            if run.is_empty() {
                i = j.max(i + 1);
                continue;
            }
            let end = run.last().map_or(i, |e| e + 1);
            self.segment_run(&run);
            i = end;
        }
    }

    pub(super) fn starts_run(&self, i: usize) -> bool {
        if self.used[i] {
            return false;
        }
        match self.feat[i] {
            Feat::Word | Feat::Colour(_) => true,
            Feat::Size(_) => {
                let prev_ok = i > 0
                    && (self.has_flag(i - 1, flag::SIZEMARK | flag::IN)
                        || self.has_flag(i - 1, flag::ARTICLE)
                            && self.toks[i].raw.chars().all(char::is_uppercase));
                let next = self.skip_fillers(i + 1, 2);
                prev_ok || self.is_noun(next)
            }
            Feat::None => self.toks[i].kind == Kind::Num && self.role[i] == NumRole::Attr,
        }
    }

    /// Splits a run into items where its product words stop co-occurring, then resolves
    /// each one.
    pub(super) fn segment_run(&mut self, run: &[usize]) {
        struct Seg {
            toks: Vec<usize>,
            words: Vec<usize>,
            cands: Option<Vec<u32>>,
            pending: Vec<usize>,
        }
        let mut segs: Vec<Seg> = Vec::new();
        let mut cur = Seg {
            toks: Vec::new(),
            words: Vec::new(),
            cands: None,
            pending: Vec::new(),
        };
        for &k in run {
            match self.feat[k] {
                Feat::Word => {
                    let post = self.idx.word_posting(self.stem_of(k));
                    let inter: Vec<u32> = match &cur.cands {
                        None => post.to_vec(),
                        Some(c) => c.iter().copied().filter(|p| post.contains(p)).collect(),
                    };
                    if !cur.words.is_empty() && inter.is_empty() {
                        let pending = std::mem::take(&mut cur.pending);
                        segs.push(std::mem::replace(
                            &mut cur,
                            Seg {
                                toks: Vec::new(),
                                words: Vec::new(),
                                cands: None,
                                pending: Vec::new(),
                            },
                        ));
                        cur.toks.extend(pending);
                        cur.cands = Some(post.to_vec());
                    } else {
                        cur.toks.append(&mut cur.pending);
                        cur.cands = Some(inter);
                    }
                    cur.words.push(k);
                    cur.toks.push(k);
                }
                _ => {
                    let compatible = match &cur.cands {
                        None => true,
                        Some(c) => c.iter().any(|&p| self.attr_fits(p, k)),
                    };
                    if compatible || cur.words.is_empty() {
                        cur.toks.append(&mut cur.pending);
                        cur.toks.push(k);
                    } else {
                        cur.pending.push(k);
                    }
                }
            }
        }
        cur.toks.append(&mut cur.pending);
        segs.push(cur);
        for seg in segs {
            if seg.toks.is_empty() {
                continue;
            }
            self.resolve_segment(&seg.toks);
        }
    }

    pub(super) fn attr_fits(&self, p: u32, k: usize) -> bool {
        let prod = &self.idx.products[p as usize];
        match self.feat[k] {
            Feat::Colour(c) => prod.colours & (1 << c) != 0,
            Feat::Size(s) => prod.sizes & (1 << s) != 0,
            _ => self.toks[k].value.is_some_and(|v| prod.nums.contains(&v)),
        }
    }

    pub(super) fn resolve_segment(&mut self, toks: &[usize]) {
        let start = toks[0];
        let end = toks[toks.len() - 1] + 1;
        let mut m = Mention::new(start, end, Res::Unknown(Vec::new()), How::Attrs);
        let mut fuzzy = false;
        let mut key = String::new();
        for &k in toks {
            let t = &self.toks[k];
            let piece: String = match self.feat[k] {
                Feat::Word => {
                    fuzzy |= self.fuzzy[k].is_some();
                    m.words.push(self.stem_of(k).to_owned());
                    self.stem_of(k).to_owned()
                }
                Feat::Colour(c) => {
                    m.colours |= 1 << c;
                    t.stem.clone()
                }
                Feat::Size(s) => {
                    m.sizes |= 1 << s;
                    t.norm.clone()
                }
                Feat::None => match t.value {
                    Some(v) => {
                        m.nums.push(v);
                        v.to_string()
                    }
                    None => continue,
                },
            };
            if !key.is_empty() {
                key.push(' ');
            }
            key.push_str(&piece);
        }
        // Numbers after a product word that no such product has: a quantity ("polera 2").
        let soft: Vec<usize> = toks
            .iter()
            .copied()
            .filter(|&k| self.role[k] == NumRole::SoftAttr)
            .collect();
        for k in soft {
            let v = self.toks[k].value.unwrap_or(0);
            let any = m
                .words
                .iter()
                .flat_map(|w| self.idx.word_posting(w))
                .any(|&p| self.idx.products[p as usize].nums.contains(&v));
            if !any && !m.words.is_empty() && (1..=50).contains(&v) {
                m.nums.retain(|&x| x != v);
                self.role[k] = NumRole::Qty {
                    pair: false,
                    after: true,
                };
            } else {
                self.role[k] = NumRole::Attr;
            }
        }
        m.attr_only = m.words.is_empty();
        let (res, how) = self.resolve(&m.words, m.colours, m.sizes, &m.nums, &key);
        m.res = res;
        m.how = if fuzzy && how != How::Partial {
            How::Fuzzy
        } else {
            how
        };
        for &k in toks {
            self.used[k] = true;
        }
        self.mentions.push(m);
    }

    pub(super) fn conflicts(&self, p: u32, colours: u32, sizes: u16, nums: &[u32]) -> bool {
        let prod = &self.idx.products[p as usize];
        colours & !prod.colours != 0
            || sizes != 0 && sizes & prod.sizes == 0
            || nums.iter().any(|n| !prod.nums.contains(n))
    }

    pub(super) fn resolve(
        &self,
        words: &[String],
        colours: u32,
        sizes: u16,
        nums: &[u32],
        key: &str,
    ) -> (Res, How) {
        if !words.is_empty() {
            let mut score: Vec<(u32, usize)> = Vec::new();
            for w in words {
                for &p in self.idx.word_posting(w) {
                    match score.iter_mut().find(|(q, _)| *q == p) {
                        Some(e) => e.1 += 1,
                        None => score.push((p, 1)),
                    }
                }
            }
            let fitting: Vec<(u32, usize)> = score
                .iter()
                .copied()
                .filter(|&(p, _)| !self.conflicts(p, colours, sizes, nums))
                .collect();
            let Some(best) = fitting.iter().map(|&(_, s)| s).max() else {
                // No variant fits: suggest the products closest to what was asked
                // (words plus the attributes they do have).
                let closeness = |p: u32, words: usize| {
                    let prod = &self.idx.products[p as usize];
                    words
                        + (colours & prod.colours).count_ones() as usize
                        + usize::from(sizes & prod.sizes != 0)
                        + nums.iter().filter(|n| prod.nums.contains(n)).count()
                };
                let top = score
                    .iter()
                    .map(|&(p, s)| closeness(p, s))
                    .max()
                    .unwrap_or(0);
                let sugg = score
                    .iter()
                    .filter(|&&(p, s)| closeness(p, s) == top)
                    .map(|&(p, _)| p)
                    .take(5)
                    .collect();
                return (Res::Unknown(sugg), How::Attrs);
            };
            let winners: Vec<u32> = fitting
                .iter()
                .filter(|&&(_, s)| s == best)
                .map(|&(p, _)| p)
                .collect();
            if winners.len() == 1 {
                let p = winners[0];
                let how = if self.idx.products[p as usize]
                    .alias_keys
                    .iter()
                    .any(|k| k == key)
                {
                    How::Alias
                } else if best == words.len() {
                    How::Attrs
                } else {
                    How::Partial
                };
                return (Res::One(p), how);
            }
            return (Res::Many(winners), How::Attrs);
        }
        // Attributes only: every product having all of them.
        let mut cands: Option<Vec<u32>> = None;
        let mut narrow = |list: Option<&Vec<u32>>| {
            let list = list.map_or(&[][..], Vec::as_slice);
            cands = Some(match cands.take() {
                None => list.to_vec(),
                Some(c) => c.into_iter().filter(|p| list.contains(p)).collect(),
            });
        };
        for c in 0..32u8 {
            if colours & (1 << c) != 0 {
                narrow(self.idx.colours.get(&c));
            }
        }
        for &v in nums {
            narrow(self.idx.nums.get(&v));
        }
        let mut cands = cands.unwrap_or_else(|| (0..self.idx.products.len() as u32).collect());
        if sizes != 0 {
            cands.retain(|&p| self.idx.products[p as usize].sizes & sizes != 0);
        }
        match cands.len() {
            0 => (Res::Unknown(Vec::new()), How::Attrs),
            1 => (Res::One(cands[0]), How::Attrs),
            _ => (Res::Many(cands), How::Attrs),
        }
    }

    /// "la 7 en L": a variant right after a lot or code belongs to it; if the product
    /// has no such variant, the item is unknown (the buyer asked for something else).
    pub(super) fn absorb_variants(&mut self) {
        let mut k = 0;
        while k + 1 < self.mentions.len() {
            let (a, b) = (&self.mentions[k], &self.mentions[k + 1]);
            let close = b.start >= a.end
                && (a.end..b.start)
                    .all(|j| self.has_flag(j, flag::FILLER) || self.toks[j].is_punct('-'))
                && self
                    .clause_of
                    .get(a.end)
                    .is_none_or(|&c| Some(&c) == self.clause_of.get(a.start));
            if matches!(a.how, How::Lot | How::Sku)
                && b.attr_only
                && close
                && let Res::One(p) = a.res
            {
                {
                    let fits = !self.conflicts(p, b.colours, b.sizes, &b.nums);
                    let end = b.end;
                    let a = &mut self.mentions[k];
                    a.end = end;
                    if !fits {
                        a.res = Res::Unknown(vec![p]);
                    }
                    self.mentions.remove(k + 1);
                    continue;
                }
            }
            k += 1;
        }
    }

    /// "no quiero la polera roja, la azul sí": an attribute-only item takes the product
    /// words of the item named before it.
    pub(super) fn inherit_context(&mut self) {
        for k in 0..self.mentions.len() {
            if !self.mentions[k].attr_only
                || matches!(self.mentions[k].res, Res::One(_))
                    && self.mentions[k].colours.count_ones()
                        + self.mentions[k].sizes.count_ones()
                        + self.mentions[k].nums.len() as u32
                        >= 2
            {
                continue;
            }
            let Some(base) = self.mentions[..k]
                .iter()
                .rev()
                .find(|m| !m.words.is_empty())
            else {
                continue;
            };
            let m = &self.mentions[k];
            let colours = if m.colours != 0 {
                m.colours
            } else {
                base.colours
            };
            let sizes = if m.sizes != 0 { m.sizes } else { base.sizes };
            let nums = if m.nums.is_empty() {
                base.nums.clone()
            } else {
                m.nums.clone()
            };
            let words = base.words.clone();
            let (res, _) = self.resolve(&words, colours, sizes, &nums, "");
            if let Res::One(_) = res {
                let m = &mut self.mentions[k];
                m.res = res;
                m.how = How::Inherited;
                m.words = words;
            }
        }
    }

    /// "yo 7", "7 y 9 pa mí": bare numbers are lots when nothing else names an item.
    pub(super) fn bare_lots(&mut self) {
        let claimish = self.hits.iter().any(|h| {
            matches!(
                h.cue,
                Cue::Claim | Cue::ClaimWeak | Cue::Keep | Cue::Cancel | Cue::Polite
            )
        });
        let only_lots = self.mentions.iter().all(|m| matches!(m.how, How::Lot));
        let words = self.toks.iter().filter(|t| t.kind == Kind::Word).count();
        for i in 0..self.n() {
            if self.role[i] != NumRole::Bare || self.used[i] {
                continue;
            }
            let Some(v) = self.toks[i].value else {
                continue;
            };
            let Some(&p) = self.idx.lots.get(&v) else {
                continue;
            };
            let after_list = i > 0
                && (self.has_flag(i - 1, flag::CONJ) || self.toks[i - 1].is_punct(','))
                && self
                    .mentions
                    .iter()
                    .any(|m| m.end + 1 == i && matches!(m.how, How::Lot | How::BareLot));
            if (claimish && only_lots) || after_list || words == 0 {
                self.used[i] = true;
                self.role[i] = NumRole::Used;
                self.mentions
                    .push(Mention::new(i, i + 1, Res::One(p), How::BareLot));
            }
        }
        self.mentions.sort_by_key(|m| m.start);
    }

    pub(super) fn assign_quantities(&mut self) {
        for i in 0..self.n() {
            let NumRole::Qty { pair, after } = self.role[i] else {
                continue;
            };
            let value = if self.flags(i) & flag::PAIR != 0 || is_one(&self.toks[i].norm) {
                1
            } else if self.toks[i].norm == "couple" {
                2
            } else {
                match self.num_value(i) {
                    Some(v) if (1..=99).contains(&v) => v,
                    _ => continue,
                }
            };
            let prev = self
                .mentions
                .iter()
                .rposition(|m| m.end <= i && i - m.end <= 2);
            let next = self
                .mentions
                .iter()
                .position(|m| m.start > i && m.start - i <= 5);
            let target = if after { prev.or(next) } else { next.or(prev) };
            if let Some(k) = target {
                let m = &mut self.mentions[k];
                if m.qty.is_none() || after {
                    m.qty = Some((value, pair));
                    m.qty_tok = Some(i);
                }
            }
        }
    }
}

/// "una", "one", "um": the number one written as an article.
fn is_one(norm: &str) -> bool {
    matches!(norm, "un" | "una" | "uno" | "one" | "um" | "uma")
}
