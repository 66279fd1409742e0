//! The embedded gazetteers: places and organisations named without a cue
//! word, in French and English, with the canonical name of each.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use newsflow_core::EntityLabel;

use crate::ner::{Kind, tokenize};

const PLACES: &str = include_str!("../data/places.txt");
const ORGS: &str = include_str!("../data/orgs.txt");

/// One listed name.
#[derive(Debug)]
pub(crate) struct GazEntry {
    pub label: EntityLabel,
    /// The first name of the entry's language half, apostrophes straight.
    pub canonical: String,
    /// The listed form starts with a lower-case letter (`al-Shabaab`,
    /// `île Maurice`), so a lower-case first token may match it.
    pub lowercase_start: bool,
}

/// Names keyed by their token norms joined with spaces.
#[derive(Debug)]
pub(crate) struct Gazetteer {
    entries: HashMap<String, GazEntry>,
    place_prefixes: HashSet<String>,
    /// Longest name, in tokens.
    pub max_tokens: usize,
}

impl Gazetteer {
    pub fn lookup(&self, key: &str) -> Option<&GazEntry> {
        self.entries.get(key)
    }

    /// Whether some place name has a word starting with these four letters
    /// (lower-cased); used to recognise demonyms.
    pub fn has_place_prefix(&self, prefix: &str) -> bool {
        self.place_prefixes.contains(prefix)
    }
}

/// The token key of a name, as the text's tokens would produce it.
fn key_of(name: &str) -> (String, usize) {
    let chars: Vec<char> = name.chars().collect();
    let toks = tokenize(&chars);
    let key = toks
        .iter()
        .map(|t| t.norm.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    (key, toks.len())
}

fn load(g: &mut Gazetteer, data: &str, label: EntityLabel) {
    for line in data
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        for half in line.split(';') {
            let names: Vec<&str> = half
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .collect();
            let Some(canonical) = names.first() else {
                continue;
            };
            for name in &names {
                let (key, n) = key_of(name);
                g.max_tokens = g.max_tokens.max(n);
                if label == EntityLabel::LOC {
                    let chars: Vec<char> = name.chars().collect();
                    for t in tokenize(&chars).iter().filter(|t| t.kind == Kind::Word) {
                        if t.norm.chars().count() >= 4 {
                            g.place_prefixes.insert(t.norm.chars().take(4).collect());
                        }
                    }
                }
                g.entries.entry(key).or_insert(GazEntry {
                    label,
                    canonical: canonical.replace('\u{2019}', "'"),
                    lowercase_start: name.chars().next().is_some_and(char::is_lowercase),
                });
            }
        }
    }
}

/// The gazetteer, built on first use.
pub(crate) fn get() -> &'static Gazetteer {
    static G: OnceLock<Gazetteer> = OnceLock::new();
    G.get_or_init(|| {
        let mut g = Gazetteer {
            entries: HashMap::new(),
            place_prefixes: HashSet::new(),
            max_tokens: 1,
        };
        load(&mut g, PLACES, EntityLabel::LOC);
        load(&mut g, ORGS, EntityLabel::ORG);
        g
    })
}
