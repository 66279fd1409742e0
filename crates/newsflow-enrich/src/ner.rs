//! Rule-based named entities: capitalised spans, labelled by gazetteers and
//! cue words, with in-document canonical names.
//!
//! The pipeline is: tokenise (char offsets) → find gazetteer phrases →
//! group capitalised tokens into runs (crossing French and English particles
//! only inside organisation and place names) → split runs at titles and strip
//! leading function words → label each run → label single unknown tokens from
//! what the rest of the document says → canonical names.

use crate::Map as HashMap;

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

    /// An acronym: 2–6 letters (digits allowed), mostly capitals (`ONU`,
    /// `FAMa`, `M23`, `AfD`), or two such joined by a hyphen (`PDCI-RDA`).
    fn is_acronym(&self) -> bool {
        if let Some((x, y)) = self.text.split_once('-') {
            let caps = |p: &str| {
                (2..=6).contains(&p.chars().count()) && p.chars().all(|c| c.is_ascii_uppercase())
            };
            return caps(x) && caps(y);
        }
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
    let mut out = HashMap::default();
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
                let first_ok = (toks[i].is_cap() || entry.lowercase_start)
                    && (!entry.acronym || toks[i].is_all_caps());
                let multi = j > i;
                if first_ok
                    && (last.is_cap()
                        || multi && last.kind == Kind::Word
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

    // 0. Spans fixed by their shape: datelines, names confirmed by an
    // acronym, organisation names with lower-case words, facilities and
    // towns after their generic noun, names after `le groupe`, events.
    let fixed = fixed_spans(&toks, &gaz);
    let mut fixed_at: HashMap<usize, &Fixed> = HashMap::default();
    for f in &fixed {
        fixed_at.insert(f.a, f);
    }
    let mut mentions: Vec<Mention> = Vec::new();

    // 1. Runs of capitalised tokens, with particles inside ORG/LOC names.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if let Some(f) = fixed_at.get(&i) {
            if let Some(label) = f.label {
                mentions.push(Mention {
                    a: f.a,
                    b: f.b,
                    label,
                    canonical: f.canonical.clone(),
                });
            }
            i = f.b;
            continue;
        }
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
            if b > a && fixed_at.contains_key(&b) {
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
            // `Ursula von der Leyen`, `Bénédicte de Perthuis`, `al-Burhan`:
            // particles inside a person's name.
            if !headed && content_seen && b < toks.len() {
                if is_name_particle_word(&toks[b]) && toks[b].joined {
                    b += 1;
                    continue;
                }
                let mut k = b;
                while k < toks.len()
                    && k - b < 2
                    && toks[k].joined
                    && words::PER_PARTICLES.contains(&toks[k].norm.as_str())
                {
                    k += 1;
                }
                if k > b
                    && toks.get(k).is_some_and(|t| {
                        t.is_cap() && t.joined && !gaz.contains_key(&k) && !is_skippable(t, false)
                    })
                    && toks[a..b].iter().all(|t| t.is_cap() && !is_title(t))
                {
                    b = k;
                    continue;
                }
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
    let mut unlabelled: Vec<usize> = Vec::new();
    let gazetteer = gazetteer::get();
    for k in singles {
        let t = &toks[k];
        let key = norm(&t.text);
        // Any word of a full name given in the text (`Tchiroma` after
        // `Issa Tchiroma Bakary`), when it names one person only.
        let holders = per_names.iter().filter(|n| n.contains(&key)).count();
        let known_person = holders == 1 || per_names.iter().any(|n| n.last() == Some(&key));
        let titled = k > 0 && is_title(&toks[k - 1])
            || k > 1 && toks[k - 1].text == "." && is_title(&toks[k - 2]);
        let prev = if k > 0 && toks[k].joined {
            toks[k - 1].norm.as_str()
        } else {
            ""
        };
        let prev2 = if k > 1 && toks[k - 1].joined {
            toks[k - 2].norm.as_str()
        } else {
            ""
        };
        // `», témoigne Bakary`, `soupirait Moussa`: an inverted speaker.
        let inverted = k > 1
            && toks[k - 1].is_word()
            && (speech_word(&toks[k - 1].norm)
                && toks[..k - 1]
                    .iter()
                    .rev()
                    .take(3)
                    .any(|x| matches!(x.text.as_str(), "»" | "”" | "\"")));
        let speech = speech_follows(&toks, k + 1) || inverted;
        let place_cue = words::PLACE_PREPOSITIONS.contains(&prev)
            || matches!(prev, "depuis" | "from" | "at")
            || prev == "de"
                && matches!(
                    prev2,
                    "près"
                        | "nord"
                        | "sud"
                        | "est"
                        | "ouest"
                        | "environs"
                        | "région"
                        | "habitant"
                        | "habitants"
                )
            || matches!(prev, "d'" | "de")
                && matches!(prev2, "près" | "nord" | "sud" | "est" | "ouest");
        let weak_place = gazetteer.is_weak_place(&t.norm);
        let hashtag = k > 0 && matches!(toks[k - 1].text.as_str(), "#" | "@");
        let next_lower_adj = toks.get(k + 1).is_some_and(|n| {
            n.joined
                && n.is_word()
                && !n.is_cap()
                && (is_french_adjective(n) || n.norm.ends_with('s') && n.norm.len() > 3)
        });
        let portfolio = toks[k.saturating_sub(5)..k].iter().any(is_title);
        let facility_after = toks.get(k + 1).is_some_and(|n| {
            n.joined
                && matches!(
                    n.norm.as_str(),
                    "mine"
                        | "complex"
                        | "field"
                        | "dam"
                        | "refinery"
                        | "port"
                        | "airport"
                        | "stadium"
                        | "project"
                        | "oilfield"
                        | "deposit"
                )
        });
        let org_cue = (matches!(
            prev,
            "le" | "la" | "les" | "du" | "au" | "aux" | "des" | "l'" | "the" | "chez"
        ) && !t.sent_start
            && !is_demonym(t)
            && !next_lower_adj
            && !portfolio
            || t.text.chars().skip(1).any(char::is_uppercase)
                && t.text.chars().any(char::is_lowercase)
                && !t.text.contains('-'))
            && !hashtag
            && !words::EVENT_HEADS.contains(&t.norm.as_str());
        let place_cue = place_cue || facility_after && !hashtag;
        let label = if known_person || titled || speech {
            Some(EntityLabel::PER)
        } else if weak_place || place_cue && !org_cue {
            Some(EntityLabel::LOC)
        } else if org_cue {
            Some(EntityLabel::ORG)
        } else {
            None
        };
        match label {
            Some(label) => mentions.push(Mention {
                a: k,
                b: k + 1,
                label,
                canonical: normal_case(&t.text),
            }),
            None => unlabelled.push(k),
        }
    }
    // The same word elsewhere in the text decides for a word with no cue.
    for k in unlabelled {
        let text = &toks[k].text;
        if let Some(m) = mentions
            .iter()
            .find(|m| m.b - m.a == 1 && toks[m.a].text == *text)
        {
            let (label, canonical) = (m.label, m.canonical.clone());
            mentions.push(Mention {
                a: k,
                b: k + 1,
                label,
                canonical,
            });
        }
    }
    mentions.sort_by_key(|m| m.a);

    // 4. Canonical names.
    resolve_acronyms(&toks, &mut mentions);
    resolve_people(&mut mentions);
    resolve_surname_places(&mut mentions);
    resolve_civil_names(&toks, &mut mentions);

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
                geo: None,
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
        // `Hassan Sheikh Mohamud`: an honorific between two names is part
        // of the name.
        let inside_name = matches!(toks[k].norm.as_str(), "sheikh" | "cheikh" | "cheick")
            && k > a
            && toks[k - 1].is_cap()
            && !is_title(&toks[k - 1])
            && k + 1 < b
            && toks[k + 1].is_cap();
        if is_title(&toks[k])
            && !inside_name
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
                && (is_skippable(
                    &toks[s],
                    is_demonym(&toks[s]) && !first_name_like(toks, s, e),
                ) || is_connector(toks, s)
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

/// A capitalised word the demonym rule would take (`Philippe`, `François`,
/// `Corneille` share their first letters and ending with place names) that
/// is a first name here: no article before it, a capitalised name right
/// after it in the same run, and not an English demonym ending (`Kenyan
/// President`, `Nigerian Afrobeats star` keep their demonym).
fn first_name_like(toks: &[Tok], k: usize, end: usize) -> bool {
    let t = &toks[k];
    let n = t.norm.as_str();
    let article_before = k > 0
        && matches!(
            toks[k - 1].norm.as_str(),
            "le" | "la"
                | "les"
                | "l'"
                | "un"
                | "une"
                | "des"
                | "du"
                | "au"
                | "aux"
                | "the"
                | "a"
                | "an"
        );
    let english_ending = ["an", "ans", "ian", "ians", "ese", "ish", "ch", "ic", "i"]
        .iter()
        .any(|x| n.ends_with(x));
    let next_is_name = k + 1 < end
        && toks[k + 1].joined
        && toks[k + 1].is_cap()
        && !is_title(&toks[k + 1])
        && !is_demonym(&toks[k + 1]);
    t.is_cap()
        && !t.is_all_caps()
        && !words::DEMONYMS.contains(&n)
        && !article_before
        && !english_ending
        && next_is_name
}

/// A demonym or nationality adjective: a capitalised word sharing its first
/// letters with a place name and ending like one (`Maliens`, `Russes`,
/// `Nigerian`, `Burkinabè`).
fn is_demonym(t: &Tok) -> bool {
    t.kind == Kind::Word && is_demonym_word(&t.norm)
}

/// [`is_demonym`] for a lower-case word (`malien`, `congolaise`).
pub(crate) fn is_demonym_word(n: &str) -> bool {
    if gazetteer::get().lookup(n).is_some() {
        return false;
    }
    let n = &n.to_string();
    if words::DEMONYMS.contains(&n.as_str()) {
        return true;
    }
    if n.chars().count() < 5 || !words::DEMONYM_SUFFIXES.iter().any(|s| n.ends_with(s)) {
        return false;
    }
    let n = n
        .strip_prefix("sud-")
        .or_else(|| n.strip_prefix("nord-"))
        .unwrap_or(n);
    let prefix: String = n.chars().take(4).collect();
    gazetteer::get().has_place_prefix(&prefix)
        || gazetteer::get().has_place_prefix(&fold_accents(&prefix))
}

/// `é` → `e`, `ï` → `i`: enough to compare demonym and place prefixes.
pub(crate) fn fold_accents(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            c => c,
        })
        .collect()
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
            || words::NON_ENTITIES.contains(&first) && !is_mixed_roman(t)
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
        // `vice-ministre de la Défense Iounous-Bek Evkourov`: a one-word
        // portfolio, then the holder's name.
        if b - a >= 3 && toks[a + 1..b].iter().all(|t| t.is_word() && t.is_cap()) {
            label_part(toks, a + 1, b, gaz, out, singles);
        }
        return;
    }
    let all_cap = toks[a..b].iter().all(|t| t.is_word() && t.is_cap());
    if all_cap && b - a >= 2 {
        // `Human Rights Watch`, `Kodal Minerals`: words of organisations.
        if content
            .iter()
            .any(|t| words::ORG_WORDS.contains(&t.norm.as_str()))
            && !words::LOC_TAILS.contains(&toks[b - 1].norm.as_str())
        {
            out.push(Mention {
                a,
                b,
                label: EntityLabel::ORG,
                canonical: surface,
            });
            return;
        }
        // `Black Star Square`, `Lagos State`, `Suez Canal`.
        if words::LOC_TAILS.contains(&toks[b - 1].norm.as_str()) {
            out.push(Mention {
                a,
                b,
                label: EntityLabel::LOC,
                canonical: surface,
            });
            return;
        }
        // A single-word place opening a longer name (`Vladimir Poutine`,
        // `Adama Coulibaly`, `Jordan Bardella`): a person.
        // `Samia Suluhu Hassan`: the same with a town's name elsewhere in
        // the name, as long as one word is not a place.
        let places: Vec<usize> = (a..b).filter(|k| gaz.contains_key(k)).collect();
        if !places.is_empty()
            && places.len() < b - a
            && places.iter().all(|k| {
                let (end, e) = gaz[k];
                end == k + 1 && e.label == EntityLabel::LOC
            })
            && !content
                .iter()
                .any(|t| is_demonym(t) || words::NON_ENTITIES.contains(&t.norm.as_str()))
            && !toks[a].is_all_caps()
        {
            out.push(Mention {
                a,
                b,
                label: EntityLabel::PER,
                canonical: normal_case(&surface),
            });
            return;
        }
    }
    // A gazetteer phrase with unknown words around it: keep the phrase, and
    // judge the rest on its own.
    let mut k = a;
    while k < b {
        if let Some((end, _)) = gaz.get(&k) {
            let (end, entry) = (*end, gaz[&k].1);
            if a < k {
                label_part(toks, a, k, &HashMap::default(), out, singles);
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
    // the capitalised words on either side, except for the particles of
    // people's names (`Ursula von der Leyen`, `Abdel Fattah al-Burhan`).
    if toks[a..b]
        .iter()
        .any(|t| t.kind != Kind::Word || !t.is_cap())
    {
        if person_with_particles(toks, a, b) {
            out.push(Mention {
                a,
                b,
                label: EntityLabel::PER,
                canonical: normal_case(&surface),
            });
            return;
        }
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
    // `le Kényan William Ruto`, `la Maltaise Roberta Metsola`: a
    // nationality before a name.
    if b - a >= 3
        && (is_demonym(&toks[a]) && !first_name_like(toks, a, b)
            || a > 0
                && matches!(toks[a - 1].norm.as_str(), "le" | "la" | "l'" | "the")
                && words::DEMONYM_SUFFIXES
                    .iter()
                    .any(|x| toks[a].norm.ends_with(x)))
    {
        label_part(toks, a + 1, b, gaz, out, singles);
        return;
    }
    let first_name = first_name_like(toks, a, b);
    if content.iter().enumerate().any(|(k, t)| {
        is_demonym(t) && !(k == 0 && first_name)
            || words::NON_ENTITIES.contains(&t.norm.as_str()) && !is_mixed_roman(t)
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
    let mut expansions: HashMap<String, (String, EntityLabel)> = HashMap::default();
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
            let acronym = toks[next.a].text.clone();
            // `(PDCI-RDA)` is later written `PDCI`.
            if let Some((head, _)) = acronym.split_once('-') {
                expansions.insert(head.to_string(), (m.canonical.clone(), m.label));
            }
            expansions.insert(acronym, (m.canonical.clone(), m.label));
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
        // One word of exactly one longer name (`Tchiroma` for `Issa
        // Tchiroma Bakary`, `Xi` for `Xi Jinping`).
        let part_of_one = || {
            let mut holders: Vec<&String> = names
                .iter()
                .filter(|(_, full, _)| toks.len() == 1 && full.len() > 1 && full.contains(&toks[0]))
                .map(|(_, _, c)| c)
                .collect();
            holders.sort();
            holders.dedup();
            (holders.len() == 1).then(|| holders[0].clone())
        };
        if let Some(c) = best(true).or_else(|| best(false)).or_else(part_of_one) {
            mentions[*i].canonical = c;
        }
    }
}

/// `Samia Suluhu Hassan` … `Hassan said`: a lone word taken for a town is
/// the surname of a person the document names in full.
fn resolve_surname_places(mentions: &mut [Mention]) {
    let full: Vec<(String, String)> = mentions
        .iter()
        .filter(|m| m.label == EntityLabel::PER && m.b - m.a >= 2)
        .filter_map(|m| {
            let last = name_tokens(&m.canonical).pop()?;
            Some((last, m.canonical.clone()))
        })
        .collect();
    for m in mentions.iter_mut() {
        if m.label != EntityLabel::LOC || m.b - m.a != 1 {
            continue;
        }
        let key = norm(&m.canonical);
        let mut holders: Vec<&String> = full
            .iter()
            .filter(|(last, _)| *last == key)
            .map(|(_, c)| c)
            .collect();
        holders.sort();
        holders.dedup();
        if let [name] = holders[..] {
            m.label = EntityLabel::PER;
            m.canonical = name.clone();
        }
    }
}

/// `Burna Boy …, whose real name is Damini Ebunoluwa Ogulu`: a civil name
/// given for a person already named takes the name they are known by
/// (GUIDELINES §1.6: stage names win), as do its later mentions.
fn resolve_civil_names(toks: &[Tok], mentions: &mut [Mention]) {
    for i in 0..mentions.len() {
        let m = &mentions[i];
        if m.label != EntityLabel::PER || m.a < 2 {
            continue;
        }
        let before: Vec<&str> = toks[m.a.saturating_sub(4)..m.a]
            .iter()
            .filter(|t| t.is_word())
            .map(|t| t.norm.as_str())
            .collect();
        let civil = before.windows(2).any(|w| {
            matches!(
                w,
                ["real" | "birth" | "civil" | "legal", "name"]
                    | ["vrai" | "véritable", "nom"]
                    | ["nom", "civil" | "véritable"]
                    | ["de", "naissance"]
            )
        });
        if !civil {
            continue;
        }
        let Some(known) = mentions[..i]
            .iter()
            .rev()
            .find(|p| p.label == EntityLabel::PER && p.canonical != m.canonical)
            .map(|p| p.canonical.clone())
        else {
            continue;
        };
        let civil_name = m.canonical.clone();
        for later in mentions[i..].iter_mut() {
            if later.label == EntityLabel::PER && later.canonical == civil_name {
                later.canonical = known.clone();
            }
        }
    }
}

/// A span decided by its shape before the capitalised runs; `label: None`
/// suppresses everything inside (events).
#[derive(Debug, Clone)]
struct Fixed {
    a: usize,
    b: usize,
    label: Option<EntityLabel>,
    canonical: String,
}

/// `al-Burhan`, `el-Sissi`, `ad-Dawla`: a lower-case particle joined to a
/// capitalised name by a hyphen.
fn is_name_particle_word(t: &Tok) -> bool {
    if t.kind != Kind::Word {
        return false;
    }
    let mut parts = t.text.splitn(2, '-');
    let (Some(p), Some(rest)) = (parts.next(), parts.next()) else {
        return false;
    };
    matches!(
        p,
        "al" | "el"
            | "ad"
            | "as"
            | "ar"
            | "an"
            | "at"
            | "ash"
            | "az"
            | "ed"
            | "bin"
            | "ben"
            | "ould"
            | "ag"
    ) && rest.chars().next().is_some_and(char::is_uppercase)
}

/// `Bénédicte de Perthuis`, `Ursula von der Leyen`, `Abdel Fattah
/// al-Burhan`, `Ngũgĩ wa Thiong’o`: capitalised name words with at most two
/// name particles between them, not after an article (`Les Amis de la
/// Terre` is an organisation) and with nothing that is not a name.
fn person_with_particles(toks: &[Tok], a: usize, b: usize) -> bool {
    let name_word = |k: usize| {
        let t = &toks[k];
        t.is_word()
            && t.is_cap()
            && !is_title(t)
            && (!is_demonym(t) || k == a && first_name_like(toks, k, b))
            && !words::STOP.contains(&t.norm.as_str())
            && !words::NON_ENTITIES.contains(&t.norm.as_str())
            && !words::ORG_WORDS.contains(&t.norm.as_str())
            && !words::ORG_HEADS.contains(&t.norm.as_str())
            && !words::LOC_HEADS.contains(&t.norm.as_str())
    };
    let after_article = a > 0
        && matches!(
            toks[a - 1].norm.as_str(),
            "le" | "la" | "les" | "l'" | "the" | "des" | "du" | "au" | "aux"
        );
    if after_article || b - a < 2 || !name_word(a) {
        return false;
    }
    let mut run = 0;
    for (k, t) in toks.iter().enumerate().take(b).skip(a) {
        if name_word(k) {
            run = 0;
        } else if t.is_word()
            && (words::PER_PARTICLES.contains(&t.norm.as_str()) && !t.is_cap()
                || is_name_particle_word(t))
        {
            run += usize::from(!is_name_particle_word(t));
            if run > 2 {
                return false;
            }
        } else {
            return false;
        }
    }
    // The name ends with a name word or a joined particle name (`al-Burhan`).
    name_word(b - 1) || is_name_particle_word(&toks[b - 1])
}

fn is_punct(t: &Tok, s: &str) -> bool {
    t.kind == Kind::Punct && t.text == s
}

/// A word that can stand for a name between brackets: an acronym or a
/// capitalised single word (`FAMa`, `Monusco`, `Ihéri-AB`).
fn bracket_name(t: &Tok) -> bool {
    t.is_word() && t.is_cap() && t.text.chars().count() >= 2
}

/// Initials of the words of `toks[a..b]` (hyphenated words count each
/// part), with whether each is a function word.
fn initials(toks: &[Tok], a: usize, b: usize) -> Vec<(char, bool, usize)> {
    let mut out = Vec::new();
    for (k, t) in toks.iter().enumerate().take(b).skip(a) {
        match t.kind {
            Kind::Elision => out.push((t.norm.chars().next().unwrap_or(' '), true, k)),
            Kind::Word => {
                let function = words::CONNECTORS.contains(&t.norm.as_str())
                    || matches!(
                        t.norm.as_str(),
                        "pour" | "sur" | "en" | "on" | "in" | "at" | "to" | "for"
                    );
                for part in t.text.split('-').filter(|p| !p.is_empty()) {
                    let c = part.chars().next().unwrap_or(' ');
                    out.push((c.to_lowercase().next().unwrap_or(c), function, k));
                }
            }
            Kind::Punct => {}
        }
    }
    out
}

/// The start token of the words before `end` whose initials spell
/// `acronym` (function words may be skipped), or `None`.
fn acronym_start(toks: &[Tok], from: usize, end: usize, acronym: &str) -> Option<usize> {
    let upper: Vec<char> = acronym.chars().filter(|c| c.is_uppercase()).collect();
    let letters: Vec<char> = if upper.len() >= 2 {
        upper
    } else {
        acronym.chars().filter(|c| c.is_alphabetic()).collect()
    }
    .into_iter()
    .flat_map(char::to_lowercase)
    .collect();
    if letters.len() < 2 {
        return None;
    }
    let ini = initials(toks, from, end);
    // Match from the end, backwards.
    let mut li = letters.len();
    let mut k = ini.len();
    while k > 0 && li > 0 {
        let (c, function, _) = ini[k - 1];
        if c == letters[li - 1] {
            li -= 1;
            k -= 1;
        } else if function {
            k -= 1;
        } else {
            return None;
        }
    }
    if li > 0 {
        return None;
    }
    let start = ini.get(k).map(|x| x.2)?;
    (toks[start].is_cap()).then_some(start)
}

fn fixed_spans(toks: &[Tok], gaz: &HashMap<usize, (usize, &'static GazEntry)>) -> Vec<Fixed> {
    let mut out: Vec<Fixed> = Vec::new();
    let n = toks.len();
    let covered = |out: &Vec<Fixed>, a: usize, b: usize| out.iter().any(|f| a < f.b && f.a < b);
    // Datelines: `CHARM EL-CHEIKH (Égypte) –`, `SAN ANTONIO –`, `PERTH/BAMAKO —`.
    let mut i = 0;
    while i < n {
        let t = &toks[i];
        if t.sent_start && !t.joined && t.is_word() && t.is_all_caps() {
            let mut b = i + 1;
            while b < n
                && toks[b].joined
                && toks[b].is_word()
                && (toks[b].is_all_caps() || toks[b].text.chars().all(|c| !c.is_lowercase()))
            {
                b += 1;
            }
            let next = toks.get(b).map(|t| t.text.as_str()).unwrap_or("");
            if b - i >= 2 && matches!(next, "–" | "—" | "," | "(" | "/" | "-") {
                out.push(Fixed {
                    a: i,
                    b,
                    label: Some(EntityLabel::LOC),
                    canonical: normal_case(&surface(toks, i, b)),
                });
                i = b;
                continue;
            }
        }
        i += 1;
    }
    // Names confirmed by an acronym in brackets after them.
    for p in 0..n.saturating_sub(2) {
        if !(is_punct(&toks[p], "(") && bracket_name(&toks[p + 1]) && is_punct(&toks[p + 2], ")")) {
            continue;
        }
        // The stretch before: back to punctuation, at most 14 tokens.
        let mut from = p;
        while from > 0 && p - from < 14 && toks[from - 1].kind != Kind::Punct && toks[from].joined {
            from -= 1;
        }
        let acronym = &toks[p + 1].text;
        let mut start = acronym_start(toks, from, p, acronym);
        if start.is_none() {
            // The nearest organisation head before the bracket.
            start = (from..p)
                .rev()
                .find(|&k| toks[k].is_cap() && words::ORG_HEADS.contains(&toks[k].norm.as_str()));
            // Keep the earliest such head (`Groupe de soutien à l’islam…`).
            if let Some(s0) = start
                && let Some(e) = (from..s0).find(|&k| {
                    toks[k].is_cap() && words::ORG_HEADS.contains(&toks[k].norm.as_str())
                })
            {
                start = Some(e);
            }
        }
        let Some(s0) = start else { continue };
        if p - s0 < 2 || covered(&out, s0, p) {
            continue;
        }
        // A place in the gazetteer keeps its label (`République démocratique du Congo (RDC)`).
        if let Some((end, e)) = gaz.get(&s0)
            && *end == p
            && e.label == EntityLabel::LOC
        {
            continue;
        }
        if is_skippable(&toks[s0], false) && !toks[s0].is_cap() {
            continue;
        }
        out.push(Fixed {
            a: s0,
            b: p,
            label: Some(EntityLabel::ORG),
            canonical: normal_case(&surface(toks, s0, p)),
        });
    }
    // Organisation names with lower-case words after a head:
    // `Commission électorale indépendante`, `Cour des comptes`,
    // `Comité de politique monétaire`, `ministère de la Défense`.
    let mut i = 0;
    while i < n {
        let t = &toks[i];
        let cap_head = t.is_cap()
            && words::ORG_HEADS.contains(&t.norm.as_str())
            && !words::EVENT_HEADS.contains(&t.norm.as_str());
        let low_head =
            t.is_word() && words::LOWER_ORG_HEADS.contains(&t.norm.as_str()) && !t.is_cap();
        if !(cap_head || low_head) || covered(&out, i, i + 1) {
            i += 1;
            continue;
        }
        let (b, groups) = org_extent(toks, i, gaz);
        let (lower_groups, crossed) = (groups % 100, groups >= 100);
        // `Kenya National Commission on Human Rights`: capitalised words
        // before an English head belong to the name.
        let mut a = i;
        if crossed && cap_head {
            while a > 0
                && toks[a].joined
                && toks[a - 1].is_cap()
                && !is_skippable(&toks[a - 1], is_demonym(&toks[a - 1]))
                && !is_title(&toks[a - 1])
            {
                a -= 1;
            }
        }
        let english_cross = crossed
            && cap_head
            && lower_groups == 0
            && toks[i + 1..b]
                .iter()
                .any(|t| matches!(t.norm.as_str(), "of" | "on" | "for"));
        if b - a >= 2 && (lower_groups > 0 || english_cross) && !covered(&out, a, b) {
            let last = &toks[b - 1];
            let portfolio = i >= 2 && is_title(&toks[i.saturating_sub(2)]) && low_head;
            if !(last.norm == "ministres" || portfolio) {
                out.push(Fixed {
                    a,
                    b,
                    label: Some(EntityLabel::ORG),
                    canonical: surface(toks, a, b),
                });
                i = b;
                continue;
            }
        }
        i += 1;
    }
    // Facilities and towns after their generic noun: `stade Mohammed-V`,
    // `région de Bougouni`, `fleuve Niger`.
    for i in 0..n {
        let t = &toks[i];
        if !(t.is_word() && !t.is_cap() && words::FACILITY_HEADS.contains(&t.norm.as_str())) {
            continue;
        }
        let mut k = i + 1;
        // One adjective (`stade olympique`), then `de`/`d’`/`du`.
        if toks.get(k).is_some_and(|x| {
            x.joined && is_french_adjective(x) && !words::CONNECTORS.contains(&x.norm.as_str())
        }) {
            k += 1;
        }
        if toks
            .get(k)
            .is_some_and(|x| x.joined && (matches!(x.norm.as_str(), "de" | "du" | "d'")))
        {
            k += 1;
        }
        let a = k;
        let mut b = k;
        while b < n && toks[b].joined && toks[b].is_cap() && !is_title(&toks[b]) {
            b += 1;
        }
        if b == a
            || covered(&out, a, b)
            || toks[a].is_acronym()
                && b - a == 1
                && gaz.get(&a).is_none_or(|(_, e)| e.label != EntityLabel::LOC)
        {
            continue;
        }
        // A known organisation or person keeps its own label.
        if let Some((end, e)) = gaz.get(&a)
            && *end == b
            && e.label != EntityLabel::LOC
        {
            continue;
        }
        let canonical = match gaz.get(&a) {
            Some((end, e)) if *end == b => e.canonical.clone(),
            _ => normal_case(&surface(toks, a, b)),
        };
        out.push(Fixed {
            a,
            b,
            label: Some(EntityLabel::LOC),
            canonical,
        });
    }
    // Names after an organisation noun: `le groupe minier canadien Barrick`,
    // `la fintech Wave`, `le réseau social X`.
    for i in 0..n {
        let t = &toks[i];
        if !(t.is_word() && !t.is_cap() && words::ORG_CUES.contains(&t.norm.as_str())) {
            continue;
        }
        let mut k = i + 1;
        while k < n
            && k - i <= 3
            && toks[k].joined
            && toks[k].is_word()
            && !toks[k].is_cap()
            && !words::CONNECTORS.contains(&toks[k].norm.as_str())
            && !words::STOP.contains(&toks[k].norm.as_str())
        {
            k += 1;
        }
        let a = k;
        let mut b = k;
        while b < n
            && toks[b].joined
            && toks[b].is_cap()
            && !is_title(&toks[b])
            && !is_skippable(&toks[b], false)
        {
            b += 1;
        }
        if b == a || covered(&out, a, b) {
            continue;
        }
        if let Some((end, e)) = gaz.get(&a)
            && *end >= b
            && e.label != EntityLabel::ORG
        {
            continue;
        }
        if is_demonym(&toks[a]) {
            continue;
        }
        out.push(Fixed {
            a,
            b,
            label: Some(EntityLabel::ORG),
            canonical: surface(toks, a, b),
        });
    }
    // Events: nothing inside them is tagged.
    for i in 0..n {
        let t = &toks[i];
        if !(t.is_cap() && words::EVENT_HEADS.contains(&t.norm.as_str())) || covered(&out, i, i + 1)
        {
            continue;
        }
        let mut b = i + 1;
        loop {
            if b < n && toks[b].joined && toks[b].is_cap() {
                b += 1;
                continue;
            }
            if let Some(c) = connector_then_cap(toks, b) {
                b += c;
                continue;
            }
            break;
        }
        // `Coupe d’Afrique des nations`: the lower-case tail too.
        while b + 1 < n
            && toks[b].joined
            && matches!(toks[b].norm.as_str(), "des" | "de" | "du" | "of")
            && toks[b + 1].joined
            && toks[b + 1].is_word()
            && !toks[b + 1].is_cap()
            && !words::STOP.contains(&toks[b + 1].norm.as_str())
        {
            b += 2;
        }
        if b - i >= 2 && !covered(&out, i, b) {
            // `Forum on China-Africa Cooperation (FOCAC)` was kept above.
            out.push(Fixed {
                a: i,
                b,
                label: None,
                canonical: String::new(),
            });
        }
    }
    out.sort_by_key(|f| f.a);
    out
}

/// The end of an organisation name starting with a head at `i`, and how
/// many lower-case noun groups it took: adjectives, then groups of
/// particles and a capitalised name (any number) or a lower-case noun with
/// its adjectives (one).
fn org_extent(
    toks: &[Tok],
    i: usize,
    gaz: &HashMap<usize, (usize, &'static GazEntry)>,
) -> (usize, usize) {
    let n = toks.len();
    let mut b = i + 1;
    let mut lower_groups = 0;
    let mut crossed = false;
    let adjs = |b: &mut usize| {
        while *b < n && toks[*b].joined && is_french_adjective(&toks[*b]) {
            *b += 1;
        }
    };
    adjs(&mut b);
    loop {
        if b >= n || !toks[b].joined {
            break;
        }
        let first = toks[b].norm.as_str();
        let opener = matches!(
            first,
            "de" | "du"
                | "des"
                | "d'"
                | "pour"
                | "of"
                | "for"
                | "et"
                | "and"
                | "sur"
                | "on"
                | "à"
                | "au"
                | "aux"
        );
        if !opener {
            break;
        }
        let mut k = b;
        while k < n
            && k - b < 3
            && toks[k].joined
            && (is_connector(toks, k)
                || toks[k].kind == Kind::Elision
                || matches!(toks[k].norm.as_str(), "pour" | "sur" | "on" | "for"))
        {
            k += 1;
        }
        if k >= n || !toks[k].joined {
            break;
        }
        // `au Parlement`, `à Paris`: a place or another body, not part of
        // the name; `à quatre ans` is not part of it either.
        if matches!(first, "à" | "au" | "aux") {
            break;
        }
        if toks[k].is_cap() {
            let mut e = k;
            if let Some((end, _)) = gaz.get(&k) {
                e = *end;
            } else {
                while e < n && toks[e].joined && toks[e].is_cap() {
                    e += 1;
                }
            }
            b = e;
            adjs(&mut b);
            crossed = true;
            continue;
        }
        let w = &toks[k];
        if lower_groups >= 1
            || crossed
            || !w.is_word()
            || words::STOP.contains(&w.norm.as_str())
            || w.norm.chars().count() < 3
            || w.text.chars().any(|c| c.is_ascii_digit())
        {
            break;
        }
        lower_groups += 1;
        b = k + 1;
        adjs(&mut b);
        // `musée du quai Branly`: a name right after the noun.
        while b < n && toks[b].joined && toks[b].is_cap() {
            b += 1;
        }
    }
    (b, lower_groups + usize::from(crossed) * 100)
}

/// `Xi`, `Vi`: a name, not a Roman numeral (those are written in capitals).
fn is_mixed_roman(t: &Tok) -> bool {
    matches!(
        t.norm.as_str(),
        "i" | "ii" | "iii" | "iv" | "v" | "x" | "xi" | "xii"
    ) && !t.is_all_caps()
        && t.text.chars().count() > 1
}

/// A speech verb in the present or imperfect, as used in an inversion
/// after a quote (`», témoigne Bakary`, `said Sinner`).
fn speech_word(w: &str) -> bool {
    const STEMS: &[&str] = &[
        "témoign", "soupir", "racont", "expliqu", "affirm", "confi", "estim", "ajout", "poursui",
        "insist", "lanc", "assur", "indiqu", "soulign", "déclar", "dit", "tranch", "résum",
        "rappel", "reconn", "confirm", "lâch", "gliss", "observ", "not", "regrett", "sourit",
        "s'exclam", "interrog", "précis", "prévien", "avert", "martèl", "commente",
    ];
    words::SPEECH_VERBS_EN.contains(&w)
        || w == "says"
        || w == "said"
        || STEMS.iter().any(|s| w.starts_with(s))
}
