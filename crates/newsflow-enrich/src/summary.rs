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

use crate::{Map as HashMap, Set as HashSet};
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
    /// Prefix → (its place in the lexicon, polarity): the first listed
    /// prefix of a word decides, as in a scan of the list.
    prefixes: HashMap<String, (usize, i8)>,
    /// Length in bytes of the longest prefix.
    longest: usize,
}

static TONE: LazyLock<Lexicon> = LazyLock::new(|| {
    let mut lex = Lexicon {
        exact: HashMap::default(),
        prefixes: HashMap::default(),
        longest: 0,
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
                            Some(p) => {
                                let rank = lex.prefixes.len();
                                lex.longest = lex.longest.max(p.len());
                                lex.prefixes
                                    .entry(p.to_string())
                                    .or_insert((rank, polarity));
                            }
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
        // Each prefix of the word (up to the longest listed) is looked up.
        w.char_indices()
            .skip(1)
            .map(|(i, _)| i)
            .chain([w.len()])
            .take_while(|&end| end <= self.longest)
            .filter_map(|end| self.prefixes.get(&w[..end]))
            .min_by_key(|(rank, _)| *rank)
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

/// The words of an article's sentences as numbers: one id per distinct
/// lower-cased word, so the statistics below count and compare integers
/// instead of hashing and copying strings.
struct Vocabulary {
    /// Per sentence, the id of each word.
    ids: Vec<Vec<u32>>,
    /// Per id, the lower-cased word.
    words: Vec<String>,
    /// Per id, whether it is a stop word (see [`is_stop`]).
    stop: Vec<bool>,
}

impl Vocabulary {
    fn new(sents: &[(usize, usize, Vec<W>)]) -> Self {
        let mut index: HashMap<&str, u32> = HashMap::default();
        let mut words = Vec::new();
        let ids = sents
            .iter()
            .map(|(_, _, ws)| {
                ws.iter()
                    .map(|w| {
                        *index.entry(w.lower.as_str()).or_insert_with(|| {
                            words.push(w.lower.clone());
                            (words.len() - 1) as u32
                        })
                    })
                    .collect()
            })
            .collect();
        let stop = words.iter().map(|w| is_stop(w)).collect();
        Self { ids, words, stop }
    }
}

/// Per-word YAKE statistics.
#[derive(Default)]
struct Stat {
    tf: f64,
    cased: f64,
    sentences: Vec<usize>,
    left: HashSet<u32>,
    right: HashSet<u32>,
}

/// A keyword candidate: up to three word ids, and where it first occurs
/// (sentence, first word) for its surface form.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Gram {
    ids: [u32; 3],
    len: u8,
}

/// The keywords of the sentences and each content word's weight (by id;
/// 0 for stop words), for the summary.
fn keywords_and_weights(
    sents: &[(usize, usize, Vec<W>)],
    vocab: &Vocabulary,
    limit: usize,
) -> (Vec<Keyword>, Vec<f64>) {
    let n_words = vocab.words.len();
    if n_words == 0 {
        return (Vec::new(), Vec::new());
    }
    let mut stats: Vec<Stat> = (0..n_words).map(|_| Stat::default()).collect();
    for (si, ((_, _, ws), ids)) in sents.iter().zip(&vocab.ids).enumerate() {
        for (k, (w, &id)) in ws.iter().zip(ids).enumerate() {
            let st = &mut stats[id as usize];
            st.tf += 1.0;
            if w.cased {
                st.cased += 1.0;
            }
            if st.sentences.last() != Some(&si) {
                st.sentences.push(si);
            }
            if k > 0 {
                st.left.insert(ids[k - 1]);
            }
            if let Some(&n) = ids.get(k + 1) {
                st.right.insert(n);
            }
        }
    }
    let content: Vec<f64> = stats
        .iter()
        .zip(&vocab.stop)
        .filter(|(_, stop)| !**stop)
        .map(|(s, _)| s.tf)
        .collect();
    let n = content.len().max(1) as f64;
    let mean = content.iter().sum::<f64>() / n;
    let sd = (content.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    let max_tf = content.iter().copied().fold(1.0, f64::max);
    let n_sent = sents.len().max(1) as f64;
    let score: Vec<f64> = stats
        .iter()
        .map(|s| {
            let case = s.cased / (1.0 + s.tf.ln_1p());
            let median = s.sentences[s.sentences.len() / 2] as f64;
            let pos = (3.0 + median).ln().ln().max(0.01);
            let freq = s.tf / (mean + sd).max(1.0);
            let rel =
                1.0 + (s.left.len() as f64 + s.right.len() as f64) / (2.0 * s.tf) * (s.tf / max_tf);
            let spread = s.sentences.len() as f64 / n_sent;
            (rel * pos) / (case + freq / rel + spread / rel).max(1e-6)
        })
        .collect();
    let has_digit: Vec<bool> = vocab
        .words
        .iter()
        .map(|w| w.chars().any(|c| c.is_ascii_digit()))
        .collect();
    // Candidates: count and first occurrence.
    let mut cands: HashMap<Gram, (f64, (usize, usize))> = HashMap::default();
    for (si, ((_, _, ws), ids)) in sents.iter().zip(&vocab.ids).enumerate() {
        for i in 0..ws.len() {
            for len in 1..=3 {
                if i + len > ws.len() {
                    break;
                }
                let g = &ids[i..i + len];
                if vocab.stop[g[0] as usize] || vocab.stop[g[len - 1] as usize] {
                    continue;
                }
                if g.iter().any(|&id| has_digit[id as usize])
                    || ws[i + 1..i + len].iter().any(|w| w.brk)
                {
                    continue;
                }
                let mut key = Gram {
                    ids: [0; 3],
                    len: len as u8,
                };
                key.ids[..len].copy_from_slice(g);
                cands.entry(key).or_insert((0.0, (si, i))).0 += 1.0;
            }
        }
    }
    let surface_of = |(si, i): (usize, usize), len: usize| -> String {
        let g = &sents[si].2[i..i + len];
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
        surface
    };
    let mut scored: Vec<(f64, Gram, (usize, usize))> = cands
        .into_iter()
        .map(|(gram, (tf, at))| {
            let words = &gram.ids[..usize::from(gram.len)];
            let content = words
                .iter()
                .filter(|&&id| !vocab.stop[id as usize])
                .map(|&id| score[id as usize]);
            let prod: f64 = content.clone().product();
            let sum: f64 = content.sum();
            (prod / (tf * (1.0 + sum)), gram, at)
        })
        .collect();
    // Ties (rare) are broken by the surface form, built only for them.
    scored.sort_by(|a, b| {
        a.0.total_cmp(&b.0).then_with(|| {
            surface_of(a.2, usize::from(a.1.len)).cmp(&surface_of(b.2, usize::from(b.1.len)))
        })
    });
    // Drop near-duplicates: a candidate whose words are all in a better one.
    let mut out: Vec<(f64, String, &[u32])> = Vec::new();
    for (s, gram, at) in &scored {
        if out.len() >= limit {
            break;
        }
        let words = &gram.ids[..usize::from(gram.len)];
        let surface = surface_of(*at, usize::from(gram.len));
        let lower = surface.to_lowercase();
        let dup = out.iter().any(|(_, s, w)| {
            s.to_lowercase() == lower
                || words.iter().all(|x| w.contains(x))
                || w.iter().all(|x| words.contains(x))
        });
        if !dup {
            out.push((*s, surface, words));
        }
    }
    let weights: Vec<f64> = score
        .iter()
        .zip(&vocab.stop)
        .map(|(s, stop)| if *stop { 0.0 } else { 1.0 / (1.0 + s) })
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
#[cfg(test)]
fn keywords_and_summary(text: &str, limit: usize) -> (Vec<Keyword>, Option<String>) {
    let (kws, summary, _) = keywords_summary_and_tone(text, limit);
    (kws, summary)
}

/// Keywords, summary and tone from one pass over the sentences.
pub fn keywords_summary_and_tone(text: &str, limit: usize) -> (Vec<Keyword>, Option<String>, Tone) {
    let sents = sentences(text);
    let vocab = Vocabulary::new(&sents);
    let tone = tone_of(&vocab);
    let (kws, weights) = keywords_and_weights(&sents, &vocab, limit);
    let eligible: Vec<usize> = (0..sents.len())
        .filter(|&i| sents[i].2.len() >= 6 && sents[i].2.len() <= 80)
        .collect();
    if eligible.is_empty() {
        return (kws, None, tone);
    }
    let mut ranked: Vec<(f64, usize)> = eligible
        .iter()
        .map(|&i| {
            let ids = &vocab.ids[i];
            let sum: f64 = ids.iter().map(|&id| weights[id as usize]).sum();
            let norm = sum / (ids.len() as f64).sqrt();
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
    // Sentence bounds are char offsets: map them to bytes once.
    let bytes: Vec<usize> = text
        .char_indices()
        .map(|(b, _)| b)
        .chain([text.len()])
        .collect();
    let summary = chosen
        .iter()
        .map(|&i| text[bytes[sents[i].0]..bytes[sents[i].1]].trim())
        .collect::<Vec<_>>()
        .join(" ");
    (kws, Some(summary), tone)
}

const NEGATIONS: &[&str] = &[
    "pas", "jamais", "plus", "sans", "ni", "aucun", "aucune", "not", "never", "no", "without",
    "nor", "n't", "cannot",
];

/// The tone of `text`.
#[cfg(test)]
fn tone(text: &str) -> Tone {
    tone_of(&Vocabulary::new(&sentences(text)))
}

fn tone_of(vocab: &Vocabulary) -> Tone {
    let lex = &*TONE;
    // Each distinct word is looked up once.
    let polarity: Vec<i8> = vocab.words.iter().map(|w| lex.polarity(w)).collect();
    let negation: Vec<bool> = vocab
        .words
        .iter()
        .map(|w| NEGATIONS.contains(&w.as_str()) || w.ends_with("n't"))
        .collect();
    let (mut pos, mut neg, mut words) = (0u32, 0u32, 0u32);
    for ids in &vocab.ids {
        for (k, &id) in ids.iter().enumerate() {
            words += 1;
            let p = polarity[id as usize];
            if p == 0 {
                continue;
            }
            let negated = ids[k.saturating_sub(3)..k]
                .iter()
                .any(|&x| negation[x as usize]);
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
