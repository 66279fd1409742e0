//! Rule-based named entities: capitalised spans, labelled by gazetteers and
//! cue words, with in-document canonical names.
//!
//! The pipeline is: tokenise (char offsets) → find gazetteer phrases →
//! group capitalised tokens into runs (crossing French and English particles
//! only inside organisation and place names) → split runs at titles and strip
//! leading function words → label each run → label single unknown tokens from
//! what the rest of the document says → canonical names.

use std::collections::HashMap;

use newsflow_core::{Entity, EntityLabel};

use crate::gazetteer::{self, GazEntry};
use crate::words;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Letters and digits, with inner hyphens, dots (`U.S.`) and apostrophes (`O’Neill`).
    Word,
    /// An elided article or preposition with its apostrophe: `d’`, `l’`, `L'`.
    Elision,
    /// Anything else, one char at a time.
    Punct,
}

/// A token with char offsets into the text.
#[derive(Debug, Clone)]
pub(crate) struct Tok {
    pub start: usize,
    pub end: usize,
    pub text: String,
    /// Lower-cased, typographic apostrophes folded: the lookup key.
    pub norm: String,
    pub kind: Kind,
    /// Separated from the previous token by spaces only (no line break), so
    /// a name may run across the gap.
    pub joined: bool,
    /// First token of a sentence, a paragraph or a quotation.
    pub sent_start: bool,
}

impl Tok {
    fn is_word(&self) -> bool {
        self.kind == Kind::Word
    }

    /// Starts with a capital letter or is a code such as `M23`.
    fn is_cap(&self) -> bool {
        self.is_word() && self.text.chars().next().is_some_and(char::is_uppercase)
    }

    /// Two or more letters, all capitals.
    fn is_all_caps(&self) -> bool {
        let letters = self.text.chars().filter(|c| c.is_alphabetic());
        let (mut n, mut upper) = (0, 0);
        for c in letters {
            n += 1;
            upper += usize::from(c.is_uppercase());
        }
        n >= 2 && n == upper
    }

    /// An acronym: 2–6 letters (digits allowed), mostly capitals (`ONU`, `FAMa`, `M23`, `AfD`).
    fn is_acronym(&self) -> bool {
        let chars: Vec<char> = self.text.chars().filter(|c| *c != '.').collect();
        let letters = chars.iter().filter(|c| c.is_alphabetic()).count();
        let upper = chars.iter().filter(|c| c.is_uppercase()).count();
        let digits = chars.iter().filter(|c| c.is_ascii_digit()).count();
        let len = chars.len();
        (2..=6).contains(&len)
            && self.is_cap()
            && letters >= 1
            && (upper >= 2 || (upper == 1 && digits >= 1))
            && upper * 3 >= letters * 2
    }
}

fn norm(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{2019}' | '\u{2018}' | '`' => '\'',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}')
}

/// French elisions that split a word: `d’Ivoire` → `d’` + `Ivoire`. An
/// upper-case `N’`/`O’` is kept whole (`N’Djamena`, `O’Neill`).
fn is_elision(prefix: &str) -> bool {
    matches!(
        prefix,
        "l" | "d"
            | "j"
            | "n"
            | "s"
            | "c"
            | "m"
            | "t"
            | "qu"
            | "jusqu"
            | "lorsqu"
            | "puisqu"
            | "presqu"
            | "quoiqu"
            | "L"
            | "D"
            | "J"
            | "C"
            | "S"
            | "Qu"
            | "Jusqu"
            | "Lorsqu"
            | "Puisqu"
    )
}

/// Split `chars` into tokens.
pub(crate) fn tokenize(chars: &[char]) -> Vec<Tok> {
    let mut toks: Vec<Tok> = Vec::new();
    let mut i = 0;
    let mut joined = false;
    let mut sent_start = true;
    let push =
        |toks: &mut Vec<Tok>, s: usize, e: usize, kind: Kind, joined: bool, sent_start: bool| {
            let text: String = chars[s..e].iter().collect();
            let norm = norm(&text);
            toks.push(Tok {
                start: s,
                end: e,
                text,
                norm,
                kind,
                joined,
                sent_start,
            });
        };
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            let mut newline = false;
            while i < chars.len() && chars[i].is_whitespace() {
                newline |= chars[i] == '\n';
                i += 1;
            }
            if newline {
                joined = false;
                sent_start = true;
            }
            continue;
        }
        if c.is_alphanumeric() {
            let s = i;
            i += 1;
            loop {
                if i >= chars.len() {
                    break;
                }
                let d = chars[i];
                let next = chars.get(i + 1).copied();
                if d.is_alphanumeric() {
                    i += 1;
                } else if (d == '-' || d == '.') && next.is_some_and(char::is_alphanumeric) {
                    // `États-Unis`, `U.S`; a dot only between single letters.
                    if d == '.' && !(i - s == 1 || chars[i - 2] == '.') {
                        break;
                    }
                    i += 1;
                } else if is_apostrophe(d) && next.is_some_and(char::is_alphabetic) {
                    let prefix: String = chars[s..i].iter().collect();
                    if is_elision(&prefix) {
                        push(&mut toks, s, i + 1, Kind::Elision, joined, sent_start);
                        joined = true;
                        sent_start = false;
                        i += 1;
                        break;
                    }
                    // English possessive: `Ghana’s` → `Ghana` + `’s`.
                    let after = chars.get(i + 2).copied();
                    if matches!(next, Some('s')) && !after.is_some_and(char::is_alphanumeric) {
                        break;
                    }
                    i += 1;
                } else {
                    break;
                }
            }
            if toks
                .last()
                .is_some_and(|t| t.kind == Kind::Elision && t.end == i)
            {
                continue;
            }
            // `U.S.`: keep the final dot of a dotted abbreviation.
            let mut e = i;
            if e < chars.len() && chars[e] == '.' && e >= s + 3 && chars[e - 2] == '.' {
                e += 1;
                i += 1;
            }
            push(&mut toks, s, e, Kind::Word, joined, sent_start);
            joined = true;
            sent_start = false;
            continue;
        }
        push(&mut toks, i, i + 1, Kind::Punct, joined, sent_start);
        let prev_word = toks
            .len()
            .checked_sub(2)
            .map(|k| toks[k].norm.clone())
            .unwrap_or_default();
        sent_start = match c {
            '.' => !words::ABBREVIATIONS.contains(&prev_word.as_str()),
            '!' | '?' | '…' | '«' | '“' | '"' | '(' | ':' | '–' | '—' | '|' => true,
            _ => false,
        };
        joined = true;
        i += 1;
    }
    toks
}

/// A labelled span over tokens `[a, b)`.
#[derive(Debug, Clone)]
struct Mention {
    a: usize,
    b: usize,
    label: EntityLabel,
    canonical: String,
}

/// Gazetteer matches starting at each token: (end token, entry).
fn gazetteer_matches(toks: &[Tok]) -> HashMap<usize, (usize, &'static GazEntry)> {
    let gaz = gazetteer::get();
    let mut out = HashMap::new();
    let mut i = 0;
    while i < toks.len() {
        if toks[i].kind == Kind::Punct {
            i += 1;
            continue;
        }
        let mut found = None;
        let mut key = String::new();
        for j in i..toks.len().min(i + gaz.max_tokens) {
            let t = &toks[j];
            if t.kind == Kind::Punct || (j > i && !t.joined) {
                break;
            }
            if j > i {
                key.push(' ');
            }
            key.push_str(&t.norm);
            if let Some(entry) = gaz.lookup(&key) {
                let last = &toks[j];
                // A name starts and ends with a capital, unless the listed
                // form itself is lower-case (`al-Shabaab`).
                let first_ok = toks[i].is_cap() || entry.lowercase_start;
                if first_ok
                    && (last.is_cap()
                        || last.kind == Kind::Word
                            && !last.text.chars().next().is_some_and(char::is_lowercase))
                {
                    found = Some((j + 1, entry));
                }
            }
        }
        if let Some((end, entry)) = found {
            out.insert(i, (end, entry));
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

fn is_connector(toks: &[Tok], i: usize) -> bool {
    toks.get(i).is_some_and(|t| {
        t.joined
            && (t.kind == Kind::Elision && matches!(t.norm.as_str(), "d'" | "l'")
                || t.kind == Kind::Word && words::CONNECTORS.contains(&t.norm.as_str()))
    })
}

/// Number of connector tokens starting at `i`, when a capitalised word follows them.
fn connector_then_cap(toks: &[Tok], i: usize) -> Option<usize> {
    let mut k = i;
    while k < toks.len() && k - i < 3 && is_connector(toks, k) {
        k += 1;
    }
    let first = toks.get(i).map(|t| t.norm.as_str()).unwrap_or("");
    let opens = words::FIRST_CONNECTORS.contains(&first);
    // `et`/`and` alone would join two names ("Mali et Russie"); only
    // `et des`, `and the`… continue one name.
    let lone_and = matches!(first, "et" | "and") && k - i < 2;
    (k > i && opens && !lone_and && toks.get(k).is_some_and(|t| t.is_cap() && t.joined))
        .then_some(k - i)
}

fn is_french_adjective(t: &Tok) -> bool {
    t.kind == Kind::Word
        && t.joined
        && t.text.chars().next().is_some_and(char::is_lowercase)
        && !words::STOP.contains(&t.norm.as_str())
        && words::ADJ_SUFFIXES.iter().any(|s| t.norm.ends_with(s))
        && t.norm.chars().count() > 3
}

fn is_title(t: &Tok) -> bool {
    t.is_word() && words::TITLES.contains(&t.norm.as_str())
}

/// A capitalised word that never begins a name: function words, titles,
/// dates, demonyms.
fn is_skippable(t: &Tok, demonym: bool) -> bool {
    let n = t.norm.as_str();
    t.kind != Kind::Word
        || words::STOP.contains(&n)
        || words::TITLES.contains(&n)
        || words::CALENDAR.contains(&n)
        || demonym
}

/// Annotate `text`: entity mentions in text order with char offsets.
pub fn entities(text: &str) -> Vec<Entity> {
    let chars: Vec<char> = text.chars().collect();
    let toks = tokenize(&chars);
    let gaz = gazetteer_matches(&toks);

    // 1. Runs of capitalised tokens, with particles inside ORG/LOC names.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let lower_head = t.is_word() && words::LOWER_ORG_HEADS.contains(&t.norm.as_str());
        let starts = t.is_cap()
            || gaz.contains_key(&i)
            || (lower_head && connector_then_cap(&toks, i + 1).is_some())
            || (lower_head && toks.get(i + 1).is_some_and(is_french_adjective));
        if !starts {
            i += 1;
            continue;
        }
        let a = i;
        let mut b = i;
        // Does the run carry an organisation or place head, which lets it
        // cross particles and lower-case adjectives?
        let mut headed = lower_head;
        let mut content_seen = false;
        loop {
            if b > a && !(b < toks.len() && toks[b].joined) {
                break;
            }
            if let Some((end, _)) = gaz.get(&b) {
                b = *end;
                content_seen = true;
                continue;
            }
            if b < toks.len() && (toks[b].is_cap() || (b == a && lower_head)) {
                let n = toks[b].norm.as_str();
                if !content_seen && !is_skippable(&toks[b], false) {
                    content_seen = true;
                    if words::ORG_HEADS.contains(&n) || words::LOC_HEADS.contains(&n) {
                        headed = true;
                    }
                }
                b += 1;
                continue;
            }
            if headed && content_seen {
                if b < toks.len() && is_french_adjective(&toks[b]) {
                    let mut k = b;
                    while k < toks.len() && k - b < 3 && is_french_adjective(&toks[k]) {
                        k += 1;
                    }
                    b = k;
                    continue;
                }
                if let Some(n) = connector_then_cap(&toks, b) {
                    b += n;
                    continue;
                }
            }
            break;
        }
        if b == a {
            b = a + 1;
        }
        runs.push((a, b));
        i = b;
    }

    // 2. Split at titles and connectors that were not absorbed, strip leading
    // function words, and label.
    let mut mentions: Vec<Mention> = Vec::new();
    let mut singles: Vec<usize> = Vec::new();
    for (a, b) in runs {
        for (pa, pb) in split_run(&toks, a, b, &gaz) {
            label_part(&toks, pa, pb, &gaz, &mut mentions, &mut singles);
        }
    }

    // 3. Single unknown capitalised tokens: people named earlier or later by
    // their full name, people introduced by a title or a speech verb.
    let per_names: Vec<Vec<String>> = mentions
        .iter()
        .filter(|m| m.label == EntityLabel::PER && m.b - m.a >= 2)
        .map(|m| name_tokens(&m.canonical))
        .collect();
    for k in singles {
        let t = &toks[k];
        let key = norm(&t.text);
        let known_person = per_names.iter().any(|n| n.last() == Some(&key));
        let titled = k > 0 && is_title(&toks[k - 1])
            || k > 1 && toks[k - 1].text == "." && is_title(&toks[k - 2]);
        let speech = speech_follows(&toks, k + 1);
        let place = k > 0
            && toks[k].joined
            && words::PLACE_PREPOSITIONS.contains(&toks[k - 1].norm.as_str());
        let label = if known_person || titled || speech {
            Some(EntityLabel::PER)
        } else if place {
            Some(EntityLabel::LOC)
        } else {
            None
        };
        if let Some(label) = label {
            mentions.push(Mention {
                a: k,
                b: k + 1,
                label,
                canonical: normal_case(&t.text),
            });
        }
    }
    mentions.sort_by_key(|m| m.a);

    // 4. Canonical names.
    resolve_acronyms(&toks, &mut mentions);
    resolve_people(&mut mentions);

    mentions
        .into_iter()
        .map(|m| {
            let (start, end) = (toks[m.a].start, toks[m.b - 1].end);
            Entity {
                start,
                end,
                label: m.label,
                text: chars[start..end].iter().collect(),
                canonical: m
                    .canonical
                    .replace('\u{2019}', "'")
                    .replace(['\u{a0}', '\u{202f}'], " "),
            }
        })
        .collect()
}

/// Split a run at title words and at particles left dangling after stripping.
fn split_run(
    toks: &[Tok],
    a: usize,
    b: usize,
    gaz: &HashMap<usize, (usize, &'static GazEntry)>,
) -> Vec<(usize, usize)> {
    let mut parts = Vec::new();
    let mut s = a;
    let mut k = a;
    while k < b {
        if let Some((end, _)) = gaz.get(&k) {
            k = *end;
            continue;
        }
        if is_title(&toks[k])
            && !(k == a && words::LOWER_ORG_HEADS.contains(&toks[k].norm.as_str()))
        {
            if s < k {
                parts.push((s, k));
            }
            s = k + 1;
        }
        k += 1;
    }
    if s < b {
        parts.push((s, b));
    }
    parts
        .into_iter()
        .filter_map(|(mut s, e)| {
            // Strip leading function words, demonyms and connectors.
            while s < e
                && !gaz.contains_key(&s)
                && (is_skippable(&toks[s], is_demonym(&toks[s]))
                    || is_connector(toks, s)
                    || toks[s].kind == Kind::Elision)
            {
                if words::LOWER_ORG_HEADS.contains(&toks[s].norm.as_str()) {
                    break;
                }
                s += 1;
            }
            let mut e = e;
            while e > s
                && (toks[e - 1].kind != Kind::Word
                    || words::CONNECTORS.contains(&toks[e - 1].norm.as_str()))
            {
                e -= 1;
            }
            (s < e).then_some((s, e))
        })
        .collect()
}

/// A demonym or nationality adjective: a capitalised word sharing its first
/// letters with a place name and ending like one (`Maliens`, `Russes`,
/// `Nigerian`, `Burkinabè`).
fn is_demonym(t: &Tok) -> bool {
    if t.kind != Kind::Word || gazetteer::get().lookup(&t.norm).is_some() {
        return false;
    }
    let n = &t.norm;
    if words::DEMONYMS.contains(&n.as_str()) {
        return true;
    }
    if n.chars().count() < 5 || !words::DEMONYM_SUFFIXES.iter().any(|s| n.ends_with(s)) {
        return false;
    }
    let prefix: String = n.chars().take(4).collect();
    gazetteer::get().has_place_prefix(&prefix)
}

fn label_part(
    toks: &[Tok],
    a: usize,
    b: usize,
    gaz: &HashMap<usize, (usize, &'static GazEntry)>,
    out: &mut Vec<Mention>,
    singles: &mut Vec<usize>,
) {
    // Exactly one gazetteer phrase.
    if let Some((end, entry)) = gaz.get(&a)
        && *end == b
    {
        out.push(Mention {
            a,
            b,
            label: entry.label,
            canonical: entry.canonical.clone(),
        });
        return;
    }
    let content: Vec<&Tok> = toks[a..b].iter().filter(|t| t.kind == Kind::Word).collect();
    let first = content[0].norm.as_str();
    let surface = surface(toks, a, b);
    // A function title's complement is a portfolio, not an organisation:
    // "ministre de la Défense", "président de la Transition".
    let after_title = a >= 2
        && (is_connector(toks, a - 1) || toks[a - 1].kind == Kind::Elision)
        && (is_title(&toks[a - 2])
            || a >= 3 && is_connector(toks, a - 2) && is_title(&toks[a - 3]));
    if b - a == 1 {
        let t = &toks[a];
        if is_skippable(t, is_demonym(t))
            || words::NON_ENTITIES.contains(&first)
            || words::ORG_HEADS.contains(&first)
            || words::LOC_HEADS.contains(&first)
        {
            return;
        }
        // A dateline: `NIONO, 18 juin` or `KIDAL –` opening a paragraph.
        let dateline_punct = toks
            .get(a + 1)
            .is_some_and(|n| matches!(n.text.as_str(), "," | "–" | "—" | "-"));
        if t.sent_start && t.is_all_caps() && dateline_punct {
            let canonical = normal_case(&t.text);
            out.push(Mention {
                a,
                b,
                label: EntityLabel::LOC,
                canonical,
            });
            return;
        }
        if t.is_acronym() && !t.is_all_caps_word_in_caps_line(toks, a) {
            out.push(Mention {
                a,
                b,
                label: EntityLabel::ORG,
                canonical: t.text.clone(),
            });
            return;
        }
        if after_title {
            return;
        }
        singles.push(a);
        return;
    }
    let org_head = words::ORG_HEADS.contains(&first) || words::LOWER_ORG_HEADS.contains(&first);
    let org_tail = content
        .iter()
        .any(|t| words::ORG_TAILS.contains(&t.norm.as_str()));
    if org_head || org_tail {
        if after_title && !org_tail && !words::LOWER_ORG_HEADS.contains(&first) {
            return;
        }
        out.push(Mention {
            a,
            b,
            label: EntityLabel::ORG,
            canonical: surface,
        });
        return;
    }
    if words::LOC_HEADS.contains(&first) {
        out.push(Mention {
            a,
            b,
            label: EntityLabel::LOC,
            canonical: surface,
        });
        return;
    }
    if after_title {
        return;
    }
    // A gazetteer phrase with unknown words around it: keep the phrase, and
    // judge the rest on its own.
    let mut k = a;
    while k < b {
        if let Some((end, _)) = gaz.get(&k) {
            let (end, entry) = (*end, gaz[&k].1);
            if a < k {
                label_part(toks, a, k, &HashMap::new(), out, singles);
            }
            out.push(Mention {
                a: k,
                b: end,
                label: entry.label,
                canonical: entry.canonical.clone(),
            });
            if end < b {
                label_part(toks, end, b, gaz, out, singles);
            }
            return;
        }
        k += 1;
    }
    // Particles only join organisation and place names; a person's name is
    // the capitalised words on either side.
    if toks[a..b]
        .iter()
        .any(|t| t.kind != Kind::Word || !t.is_cap())
    {
        let mut s = a;
        for k in a..=b {
            if k == b || !toks[k].is_cap() {
                if s < k {
                    label_part(toks, s, k, gaz, out, singles);
                }
                s = k + 1;
            }
        }
        return;
    }
    if content.iter().any(|t| {
        is_demonym(t)
            || words::NON_ENTITIES.contains(&t.norm.as_str())
            || t.norm.chars().all(|c| c.is_ascii_digit())
    }) {
        return;
    }
    out.push(Mention {
        a,
        b,
        label: EntityLabel::PER,
        canonical: normal_case(&surface),
    });
}

impl Tok {
    /// An all-caps word among other all-caps words (a shouted headline or a
    /// byline), which is not an acronym.
    fn is_all_caps_word_in_caps_line(&self, toks: &[Tok], i: usize) -> bool {
        let neighbour_caps = |j: usize| {
            toks.get(j)
                .is_some_and(|t| t.is_word() && t.is_all_caps() && t.text.chars().count() > 1)
        };
        self.is_all_caps()
            && self.text.chars().count() >= 4
            && ((i > 0 && neighbour_caps(i - 1)) || neighbour_caps(i + 1))
    }
}

fn surface(toks: &[Tok], a: usize, b: usize) -> String {
    let mut s = String::new();
    for (k, t) in toks[a..b].iter().enumerate() {
        if k > 0 && toks[a + k - 1].kind != Kind::Elision {
            s.push(' ');
        }
        s.push_str(&t.text);
    }
    s
}

/// `SOULEYMANE` → `Souleymane`; mixed-case words are kept.
fn normal_case(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            let letters = w.chars().filter(|c| c.is_alphabetic()).count();
            if letters >= 2
                && w.chars()
                    .filter(|c| c.is_alphabetic())
                    .all(char::is_uppercase)
            {
                let mut out = String::new();
                let mut up = true;
                for c in w.chars() {
                    if up {
                        out.push(c);
                    } else {
                        out.extend(c.to_lowercase());
                    }
                    up = !c.is_alphabetic();
                }
                out
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn name_tokens(canonical: &str) -> Vec<String> {
    canonical.split_whitespace().map(norm).collect()
}

fn speech_follows(toks: &[Tok], k: usize) -> bool {
    let w = |j: usize| toks.get(j).map(|t| t.norm.as_str()).unwrap_or("");
    if toks.get(k).is_some_and(|t| t.kind == Kind::Punct) {
        return false;
    }
    words::SPEECH_VERBS_EN.contains(&w(k))
        || (matches!(w(k), "a" | "avait" | "aurait")
            && words::SPEECH_PARTICIPLES_FR.contains(&w(k + 1)))
}

/// `Forces armées maliennes (FAMa)`: the acronym takes the expansion as its
/// canonical, here and wherever else it appears.
fn resolve_acronyms(toks: &[Tok], mentions: &mut [Mention]) {
    let mut expansions: HashMap<String, (String, EntityLabel)> = HashMap::new();
    for w in 0..mentions.len() {
        let m = &mentions[w];
        if m.b - m.a < 2 {
            continue;
        }
        let open = toks.get(m.b).is_some_and(|t| t.text == "(");
        let close = toks.get(m.b + 2).is_some_and(|t| t.text == ")");
        if let (true, true, Some(next)) = (open, close, mentions.get(w + 1))
            && next.a == m.b + 1
            && next.b == m.b + 2
            && toks[next.a].is_acronym()
        {
            expansions.insert(toks[next.a].text.clone(), (m.canonical.clone(), m.label));
        }
    }
    for m in mentions.iter_mut() {
        if m.b - m.a == 1
            && let Some((canonical, label)) = expansions.get(&toks[m.a].text)
        {
            m.canonical = canonical.clone();
            m.label = *label;
        }
    }
}

/// A person mentioned by part of a name takes the longest full name of the
/// document that ends with it, earlier mentions first.
fn resolve_people(mentions: &mut [Mention]) {
    let names: Vec<(usize, Vec<String>, String)> = mentions
        .iter()
        .enumerate()
        .filter(|(_, m)| m.label == EntityLabel::PER)
        .map(|(i, m)| (i, name_tokens(&m.canonical), m.canonical.clone()))
        .collect();
    for (i, toks, _) in &names {
        let best = |earlier: bool| {
            names
                .iter()
                .filter(|(j, full, _)| {
                    (*j < *i) == earlier && full.len() > toks.len() && full.ends_with(toks)
                })
                .max_by_key(|(j, full, _)| (full.len(), usize::MAX - j))
                .map(|(_, _, c)| c.clone())
        };
        if let Some(c) = best(true).or_else(|| best(false)) {
            mentions[*i].canonical = c;
        }
    }
}
