//! Keywords (a YAKE-like statistic), an extractive summary and a
//! lexicon-based tone.
//!
//! **Keywords.** Candidates are runs of one to three words inside a
//! sentence that neither start nor end with a stop word. Each word gets the
//! YAKE features — casing (capitalised not at a sentence start), position
//! (median sentence index), normalised frequency, relatedness (how many
//! different words surround it) and spread over sentences — combined as
//! `S(w) = rel·pos / (case + freq/rel + spread/rel)`; a candidate scores
//! `∏S(w) / (tf · (1 + ΣS(w)))`, lower is better (Campos et al., 2020).
//! The score shown is `1 / (1 + 10·S)`, in (0, 1], higher is better.
//!
//! **Summary.** Sentences are scored by the keyword weight of their words
//! (normalised by length) plus a bonus for the lead; the best two or three
//! are returned in text order.
//!
//! **Tone.** Counts of positive and negative words from the lexicons in
//! `data/tone_*.txt` (written for newsflow), a word after a negation (`pas`,
//! `jamais`, `sans`, `not`, `never`, `no`) counting for the other side.
//! `score = (pos - neg) / (pos + neg + 1)`.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use newsflow_core::{Keyword, Tone};

const STOP_FR: &str = include_str!("../data/stop_fr.txt");
const STOP_EN: &str = include_str!("../data/stop_en.txt");
const TONE_FR: &str = include_str!("../data/tone_fr.txt");
const TONE_EN: &str = include_str!("../data/tone_en.txt");

fn word_set(data: &str) -> HashSet<String> {
    data.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .flat_map(|l| l.split_whitespace())
        .map(|w| w.replace('’', "'").to_lowercase())
        .collect()
}

static STOP: LazyLock<HashSet<String>> = LazyLock::new(|| {
    let mut s = word_set(STOP_FR);
    s.extend(word_set(STOP_EN));
    s
});

/// Lexicon entries: a word or a prefix (`catastroph*`) and its polarity.
struct Lexicon {
    exact: HashMap<String, i8>,
    prefixes: Vec<(String, i8)>,
}

static TONE: LazyLock<Lexicon> = LazyLock::new(|| {
    let mut lex = Lexicon {
        exact: HashMap::new(),
        prefixes: Vec::new(),
    };
    for data in [TONE_FR, TONE_EN] {
        let mut polarity = 0i8;
        for line in data.lines().map(str::trim) {
            match line {
                "[positive]" => polarity = 1,
                "[negative]" => polarity = -1,
                l if l.is_empty() || l.starts_with('#') => {}
                l => {
                    for w in l.split_whitespace() {
                        let w = w.to_lowercase();
                        match w.strip_suffix('*') {
                            Some(p) => lex.prefixes.push((p.to_string(), polarity)),
                            None => {
                                lex.exact.insert(w, polarity);
                            }
                        }
                    }
                }
            }
        }
    }
    lex
});

impl Lexicon {
    fn polarity(&self, w: &str) -> i8 {
        if let Some(p) = self.exact.get(w) {
            return *p;
        }
        self.prefixes
            .iter()
            .find(|(p, _)| w.starts_with(p.as_str()))
            .map_or(0, |(_, v)| *v)
    }
}

/// A word of a sentence.
struct W {
    text: String,
    lower: String,
    /// Capitalised and not the sentence's first word.
    cased: bool,
    /// Punctuation separates it from the previous word.
    brk: bool,
}

/// Sentences (char ranges) and their words.
fn sentences(text: &str) -> Vec<(usize, usize, Vec<W>)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i <= chars.len() {
        let end_here = i == chars.len()
            || chars[i] == '\n'
            || (matches!(chars[i], '.' | '!' | '?')
                && chars
                    .get(i + 1)
                    .is_none_or(|c| c.is_whitespace() || matches!(c, '»' | '”' | '"'))
                && !abbreviation_before(&chars, i));
        if end_here {
            let mut e = if i < chars.len() && chars[i] != '\n' {
                i + 1
            } else {
                i
            };
            // Keep a closing quotation mark with its sentence.
            while e < chars.len() && matches!(chars[e], '»' | '”' | '"' | '\u{a0}' | '\u{202f}')
            {
                e += 1;
            }
            let s = start;
            let mut s2 = s;
            while s2 < e && chars[s2].is_whitespace() {
                s2 += 1;
            }
            if s2 < e {
                out.push((s2, e, sentence_words(&chars[s2..e])));
            }
            start = e;
            i = e.max(i + 1);
            continue;
        }
        i += 1;
    }
    out
}

fn abbreviation_before(chars: &[char], dot: usize) -> bool {
    let mut s = dot;
    while s > 0 && chars[s - 1].is_alphabetic() {
        s -= 1;
    }
    let w: String = chars[s..dot].iter().collect::<String>().to_lowercase();
    (dot - s == 1 && s < dot && chars[s].is_uppercase())
        || crate::words::ABBREVIATIONS.contains(&w.as_str())
}

fn sentence_words(chars: &[char]) -> Vec<W> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut first = true;
    let mut brk = false;
    while i < chars.len() {
        if chars[i].is_alphanumeric() {
            let s = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric()
                    || matches!(chars[i], '-' | '\'' | '’')
                        && chars.get(i + 1).is_some_and(|c| c.is_alphanumeric()))
            {
                i += 1;
            }
            let text: String = chars[s..i].iter().collect();
            // French elisions: `l’Union` is looked up as `union`, and a
            // leading `l’` is dropped from the surface.
            let (text, bare) = match text.find(['\'', '’']) {
                Some(p) if p <= 6 && text[..p].chars().all(char::is_lowercase) => {
                    let bare =
                        text[p + text[p..].chars().next().map_or(1, char::len_utf8)..].to_string();
                    (text.clone(), bare)
                }
                _ => (text.clone(), text),
            };
            let cased = !first && bare.chars().next().is_some_and(char::is_uppercase);
            first = false;
            let lower = bare.replace('’', "'").to_lowercase();
            out.push(W {
                text,
                lower,
                cased,
                brk,
            });
            brk = false;
        } else {
            if matches!(chars[i], '«' | '“' | ':' | '—' | '–') {
                first = true;
            }
            if !chars[i].is_whitespace() {
                brk = true;
            }
            i += 1;
        }
    }
    out
}

fn is_stop(w: &str) -> bool {
    STOP.contains(w) || w.chars().count() < 3 || w.chars().any(|c| c.is_ascii_digit())
}

/// Per-word YAKE statistics.
#[derive(Default)]
struct Stat {
    tf: f64,
    cased: f64,
    sentences: Vec<usize>,
    left: HashSet<String>,
    right: HashSet<String>,
}

fn keywords_and_weights(
    sents: &[(usize, usize, Vec<W>)],
    limit: usize,
) -> (Vec<Keyword>, HashMap<String, f64>) {
    let mut stats: HashMap<String, Stat> = HashMap::new();
    for (si, (_, _, ws)) in sents.iter().enumerate() {
        for (k, w) in ws.iter().enumerate() {
            let st = stats.entry(w.lower.clone()).or_default();
            st.tf += 1.0;
            if w.cased {
                st.cased += 1.0;
            }
            if st.sentences.last() != Some(&si) {
                st.sentences.push(si);
            }
            if k > 0 {
                st.left.insert(ws[k - 1].lower.clone());
            }
            if let Some(n) = ws.get(k + 1) {
                st.right.insert(n.lower.clone());
            }
        }
    }
    if stats.is_empty() {
        return (Vec::new(), HashMap::new());
    }
    let content: Vec<f64> = stats
        .iter()
        .filter(|(w, _)| !is_stop(w))
        .map(|(_, s)| s.tf)
        .collect();
    let n = content.len().max(1) as f64;
    let mean = content.iter().sum::<f64>() / n;
    let sd = (content.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    let max_tf = content.iter().copied().fold(1.0, f64::max);
    let n_sent = sents.len().max(1) as f64;
    let mut score: HashMap<String, f64> = HashMap::new();
    for (w, s) in &stats {
        let case = s.cased / (1.0 + s.tf.ln_1p());
        let median = s.sentences[s.sentences.len() / 2] as f64;
        let pos = (3.0 + median).ln().ln().max(0.01);
        let freq = s.tf / (mean + sd).max(1.0);
        let rel =
            1.0 + (s.left.len() as f64 + s.right.len() as f64) / (2.0 * s.tf) * (s.tf / max_tf);
        let spread = s.sentences.len() as f64 / n_sent;
        let sw = (rel * pos) / (case + freq / rel + spread / rel).max(1e-6);
        score.insert(w.clone(), sw);
    }
    // Candidates.
    let mut cands: HashMap<String, (f64, String, Vec<String>)> = HashMap::new();
    for (_, _, ws) in sents {
        for i in 0..ws.len() {
            for len in 1..=3 {
                if i + len > ws.len() {
                    break;
                }
                let g = &ws[i..i + len];
                if is_stop(&g[0].lower) || is_stop(&g[len - 1].lower) {
                    continue;
                }
                if g.iter()
                    .any(|w| w.lower.chars().any(|c| c.is_ascii_digit()))
                    || g[1..].iter().any(|w| w.brk)
                {
                    continue;
                }
                let key = g
                    .iter()
                    .map(|w| w.lower.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                let mut surface = g
                    .iter()
                    .map(|w| w.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                // The first word is shown without its elision (`l’Union` → `Union`).
                if let Some(p) = surface.find(['\'', '’']).filter(|&p| {
                    p <= 6 && g[0].text.len() > p && surface[..p].chars().all(char::is_lowercase)
                }) {
                    surface = surface[p..].chars().skip(1).collect();
                }
                let e = cands
                    .entry(key)
                    .or_insert_with(|| (0.0, surface, g.iter().map(|w| w.lower.clone()).collect()));
                e.0 += 1.0;
            }
        }
    }
    let mut scored: Vec<(f64, String, Vec<String>)> = cands
        .into_values()
        .map(|(tf, surface, words)| {
            let content: Vec<f64> = words
                .iter()
                .filter(|w| !is_stop(w))
                .map(|w| score.get(w).copied().unwrap_or(1.0))
                .collect();
            let prod: f64 = content.iter().product();
            let sum: f64 = content.iter().sum();
            (prod / (tf * (1.0 + sum)), surface, words)
        })
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    // Drop near-duplicates: a candidate whose words are all in a better one.
    let mut out: Vec<(f64, String, Vec<String>)> = Vec::new();
    for c in scored {
        if out.len() >= limit {
            break;
        }
        let dup = out.iter().any(|(_, s, w)| {
            s.to_lowercase() == c.1.to_lowercase()
                || c.2.iter().all(|x| w.contains(x))
                || w.iter().all(|x| c.2.contains(x))
        });
        if !dup {
            out.push(c);
        }
    }
    let weights: HashMap<String, f64> = score
        .iter()
        .filter(|(w, _)| !is_stop(w))
        .map(|(w, s)| (w.clone(), 1.0 / (1.0 + s)))
        .collect();
    let kws = out
        .into_iter()
        .map(|(s, text, _)| Keyword {
            text,
            score: (1.0 / (1.0 + 10.0 * s) * 1000.0).round() / 1000.0,
        })
        .filter(|k| k.score > 0.0)
        .collect();
    (kws, weights)
}

/// Keywords and a two- or three-sentence extractive summary.
pub fn keywords_and_summary(text: &str, limit: usize) -> (Vec<Keyword>, Option<String>) {
    let sents = sentences(text);
    let (kws, weights) = keywords_and_weights(&sents, limit);
    let chars: Vec<char> = text.chars().collect();
    let eligible: Vec<usize> = (0..sents.len())
        .filter(|&i| sents[i].2.len() >= 6 && sents[i].2.len() <= 80)
        .collect();
    if eligible.is_empty() {
        return (kws, None);
    }
    let mut ranked: Vec<(f64, usize)> = eligible
        .iter()
        .map(|&i| {
            let ws = &sents[i].2;
            let sum: f64 = ws
                .iter()
                .filter(|w| !is_stop(&w.lower))
                .map(|w| weights.get(&w.lower).copied().unwrap_or(0.0))
                .sum();
            let norm = sum / (ws.len() as f64).sqrt();
            let lead = if i == eligible[0] {
                1.5
            } else {
                1.0 + 0.3 / (1.0 + i as f64)
            };
            (norm * lead, i)
        })
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let take = if eligible.len() >= 8 { 3 } else { 2 };
    let mut chosen: Vec<usize> = ranked.iter().take(take).map(|(_, i)| *i).collect();
    chosen.sort_unstable();
    let summary = chosen
        .iter()
        .map(|&i| {
            chars[sents[i].0..sents[i].1]
                .iter()
                .collect::<String>()
                .trim()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join(" ");
    (kws, Some(summary))
}

const NEGATIONS: &[&str] = &[
    "pas", "jamais", "plus", "sans", "ni", "aucun", "aucune", "not", "never", "no", "without",
    "nor", "n't", "cannot",
];

/// The tone of `text`.
pub fn tone(text: &str) -> Tone {
    let lex = &*TONE;
    let (mut pos, mut neg, mut words) = (0u32, 0u32, 0u32);
    for (_, _, ws) in sentences(text) {
        for (k, w) in ws.iter().enumerate() {
            words += 1;
            let p = lex.polarity(&w.lower);
            if p == 0 {
                continue;
            }
            let negated = ws[k.saturating_sub(3)..k]
                .iter()
                .any(|x| NEGATIONS.contains(&x.lower.as_str()) || x.lower.ends_with("n't"));
            match (p > 0) != negated {
                true => pos += 1,
                false => neg += 1,
            }
        }
    }
    let score = (f64::from(pos) - f64::from(neg)) / (f64::from(pos) + f64::from(neg) + 1.0);
    Tone {
        score: (score * 1000.0).round() / 1000.0,
        positive: pos,
        negative: neg,
        words,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = include_str!("../fixtures/000_131b8218b7f828c0.txt");

    #[test]
    fn keywords_of_the_seed_are_about_it() {
        let (kws, summary) = keywords_and_summary(SEED, 10);
        assert_eq!(kws.len(), 10);
        let all = kws
            .iter()
            .map(|k| k.text.to_lowercase())
            .collect::<Vec<_>>()
            .join(" | ");
        assert!(
            all.contains("russie") || all.contains("coopération"),
            "{all}"
        );
        assert!(kws.windows(2).all(|w| w[0].score >= w[1].score));
        assert!(kws.iter().all(|k| k.score > 0.0 && k.score <= 1.0));
        let summary = summary.unwrap();
        assert!(
            SEED.contains(&summary.chars().take(40).collect::<String>()),
            "{summary}"
        );
        assert!(summary.len() < SEED.len() / 2);
        let n = summary.matches(['.', '!', '?']).count();
        assert!((1..=4).contains(&n), "{summary}");
    }

    #[test]
    fn tone_counts_and_negation() {
        let t = tone("Une victoire historique et un succès remarquable, saluent les supporters.");
        assert!(t.score > 0.2, "{t:?}");
        let t = tone("The attack killed dozens and the crisis worsened, a disaster.");
        assert!(t.score < -0.2, "{t:?}");
        let t = tone("Ce n'est pas une victoire.");
        assert_eq!((t.positive, t.negative), (0, 1));
        let t = tone("");
        assert_eq!((t.score, t.words), (0.0, 0));
    }

    #[test]
    fn short_texts() {
        let (kws, summary) = keywords_and_summary("Bamako", 10);
        assert!(summary.is_none());
        assert!(kws.len() <= 1);
    }
}
