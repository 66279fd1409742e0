//! The embedded gazetteers: places and organisations named without a cue
//! word, in French and English, with the canonical name of each.

use crate::{Map as HashMap, Set as HashSet};
use std::sync::OnceLock;

use newsflow_core::EntityLabel;

use crate::ner::{Kind, tokenize};

pub(crate) const PLACES: &str = include_str!("../data/places.txt");
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
    /// The listed form is an acronym (`UN`, `AU`): only a token in capitals
    /// matches it, not the word `un` or `Au`.
    pub acronym: bool,
}

/// Names keyed by their token norms joined with spaces.
#[derive(Debug)]
pub(crate) struct Gazetteer {
    entries: HashMap<String, GazEntry>,
    place_prefixes: HashSet<String>,
    /// Names of small towns: places only where the context says so.
    weak_places: HashSet<String>,
    /// Longest name, in tokens.
    pub max_tokens: usize,
}

impl Gazetteer {
    pub fn lookup(&self, key: &str) -> Option<&GazEntry> {
        self.entries.get(key)
    }

    /// A small town's name: a place after `à`, `près de`, in a dateline.
    pub fn is_weak_place(&self, key: &str) -> bool {
        self.weak_places.contains(key)
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
                            let prefix: String = t.norm.chars().take(4).collect();
                            g.place_prefixes.insert(crate::ner::fold_accents(&prefix));
                            g.place_prefixes.insert(prefix);
                        }
                    }
                }
                g.entries.entry(key).or_insert(GazEntry {
                    label,
                    canonical: canonical.replace('\u{2019}', "'"),
                    lowercase_start: name.chars().next().is_some_and(char::is_lowercase),
                    acronym: n == 1
                        && name.chars().filter(|c| c.is_alphabetic()).count() <= 4
                        && name
                            .chars()
                            .filter(|c| c.is_alphabetic())
                            .all(char::is_uppercase),
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
            entries: HashMap::default(),
            place_prefixes: HashSet::default(),
            weak_places: HashSet::default(),
            max_tokens: 1,
        };
        load(&mut g, PLACES, EntityLabel::LOC);
        load(&mut g, ORGS, EntityLabel::ORG);
        // GeoNames names: countries, regions and large towns are places
        // wherever they appear; small towns only with a cue.
        for (key, name, strong) in crate::geo::GEO.names() {
            if !name.chars().next().is_some_and(char::is_uppercase) || g.entries.contains_key(key) {
                continue;
            }
            if strong {
                g.max_tokens = g.max_tokens.max(key.split(' ').count());
                g.entries.insert(
                    key.to_string(),
                    GazEntry {
                        label: EntityLabel::LOC,
                        canonical: name.replace('\u{2019}', "'"),
                        lowercase_start: false,
                        acronym: false,
                    },
                );
            } else {
                g.weak_places.insert(key.to_string());
            }
        }
        g
    })
}
