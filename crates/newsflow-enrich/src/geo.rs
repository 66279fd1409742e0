//! Geocoding of places with the GeoNames-derived table in
//! `data/geo/places.tsv` (see `scripts/geo/`): countries and continents with
//! their CLDR French and English names, world regions, West-African towns
//! down to small ones, African towns from 15 000 people and other cities
//! from 100 000, and a few hand-written regions, seas and rivers.
//!
//! A name can stand for several places (`Saint-Louis`: Senegal, Réunion,
//! the USA). The choice prefers a country, continent or region over a
//! town, then a town in a country the article names (or puts in brackets
//! after it: `GOULAMINA (Mali)`), then the largest town.

use crate::{Map as HashMap, Set as HashSet};
use std::sync::LazyLock;

use newsflow_core::{Entity, EntityLabel, Geo, PlaceKind};

use crate::ner::tokenize;

const PLACES_TSV: &str = include_str!("../data/geo/places.tsv");

/// One place of the table.
#[derive(Debug)]
pub(crate) struct Place {
    pub id: u64,
    pub kind: PlaceKind,
    pub country: String,
    pub lat: f64,
    pub lon: f64,
    pub population: u64,
}

impl Place {
    /// A name of this place is a place wherever it appears (a country, a
    /// region, a large town); names of small towns need a cue (`à`, `près
    /// de`, a dateline) because many are also people's names.
    pub fn is_strong(&self) -> bool {
        self.kind != PlaceKind::City || self.population >= 100_000
    }
}

/// The places and an index from name keys (token norms joined by spaces,
/// as the tokenizer produces them) to places.
pub(crate) struct GeoIndex {
    pub places: Vec<Place>,
    by_key: HashMap<String, Vec<u32>>,
    /// A name as written for each key (the first one listed).
    names: HashMap<String, String>,
    /// Longest name, in tokens.
    pub max_tokens: usize,
}

/// The token key of a name.
pub(crate) fn key_of(name: &str) -> (String, usize) {
    let chars: Vec<char> = name.chars().collect();
    let toks = tokenize(&chars);
    let key = toks
        .iter()
        .map(|t| t.norm.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    (key, toks.len())
}

fn kind_of(s: &str) -> PlaceKind {
    match s {
        "continent" => PlaceKind::Continent,
        "country" => PlaceKind::Country,
        "region" => PlaceKind::Region,
        "city" => PlaceKind::City,
        _ => PlaceKind::Other,
    }
}

pub(crate) static GEO: LazyLock<GeoIndex> = LazyLock::new(|| {
    let mut idx = GeoIndex {
        places: Vec::new(),
        by_key: HashMap::default(),
        names: HashMap::default(),
        max_tokens: 1,
    };
    for line in PLACES_TSV
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 9 {
            continue;
        }
        let n = idx.places.len() as u32;
        idx.places.push(Place {
            id: f[0].parse().unwrap_or(0),
            kind: kind_of(f[1]),
            country: f[2].to_string(),
            lat: f[3].parse().unwrap_or(0.0),
            lon: f[4].parse().unwrap_or(0.0),
            population: f[5].parse().unwrap_or(0),
        });
        for name in f[8].split('|').chain([f[6], f[7]]) {
            let (key, len) = key_of(name);
            if key.is_empty() {
                continue;
            }
            idx.max_tokens = idx.max_tokens.max(len);
            idx.names
                .entry(key.clone())
                .or_insert_with(|| name.to_string());
            let v = idx.by_key.entry(key).or_default();
            if !v.contains(&n) {
                v.push(n);
            }
        }
    }
    // The hand-written gazetteer's variants (`RDC`, `U.S.`, `Britain`)
    // point to the place one of their siblings names.
    for line in crate::gazetteer::PLACES
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let names: Vec<&str> = line
            .split([';', ','])
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect();
        let target = names.iter().find_map(|n| {
            idx.by_key.get(&key_of(n).0).and_then(|v| {
                v.iter().copied().max_by_key(|&i| {
                    (
                        idx.places[i as usize].kind != PlaceKind::City,
                        idx.places[i as usize].population,
                    )
                })
            })
        });
        if let Some(t) = target {
            for n in &names {
                let (key, len) = key_of(n);
                idx.max_tokens = idx.max_tokens.max(len);
                let v = idx.by_key.entry(key).or_default();
                if !v.contains(&t) {
                    v.insert(0, t);
                }
            }
        }
    }
    idx
});

impl GeoIndex {
    /// Places a name key can stand for.
    pub fn lookup(&self, key: &str) -> &[u32] {
        self.by_key.get(key).map_or(&[], Vec::as_slice)
    }

    /// Every name: its key, as written, and whether it is strong.
    pub fn names(&self) -> impl Iterator<Item = (&str, &str, bool)> + '_ {
        self.names
            .iter()
            .map(|(k, n)| (k.as_str(), n.as_str(), self.strong(k)))
    }

    /// Whether some place with this key is a strong name (see [`Place::is_strong`]).
    pub fn strong(&self, key: &str) -> bool {
        self.lookup(key)
            .iter()
            .any(|&i| self.places[i as usize].is_strong())
    }
}

/// Set `geo` on the `LOC` entities of `entities`, using the other places
/// of the text as context.
pub fn geocode(text: &str, entities: &mut [Entity]) {
    let geo = &*GEO;
    let candidates = |e: &Entity| -> Vec<u32> {
        let mut v = geo.lookup(&key_of(&e.text).0).to_vec();
        if v.is_empty() {
            v = geo.lookup(&key_of(&e.canonical).0).to_vec();
        }
        v
    };
    // Countries the text names, directly or through an unambiguous place.
    let mut countries: HashSet<String> = HashSet::default();
    for e in entities.iter().filter(|e| e.label == EntityLabel::LOC) {
        let c = candidates(e);
        let first = c.first().map(|&i| &geo.places[i as usize]);
        if let Some(p) = first
            && (p.kind == PlaceKind::Country || c.len() == 1)
            && !p.country.is_empty()
        {
            countries.insert(p.country.clone());
        }
    }
    let chars: Vec<char> = text.chars().collect();
    for k in 0..entities.len() {
        if entities[k].label != EntityLabel::LOC {
            continue;
        }
        let c = candidates(&entities[k]);
        if c.is_empty() {
            continue;
        }
        // `KIDAL (Mali)`: the country in brackets right after.
        let bracket: Option<String> = entities.get(k + 1).and_then(|n| {
            let gap: String = chars[entities[k].end..n.start].iter().collect();
            (gap.trim() == "(" && n.label == EntityLabel::LOC)
                .then(|| candidates(n))
                .and_then(|v| v.first().map(|&i| geo.places[i as usize].country.clone()))
        });
        let best = c.iter().copied().max_by_key(|&i| {
            let p = &geo.places[i as usize];
            let rank = match p.kind {
                PlaceKind::Country => 4,
                PlaceKind::Continent => 3,
                PlaceKind::Region | PlaceKind::Other => 2,
                PlaceKind::City => 1,
            };
            let in_bracket = bracket.as_deref() == Some(p.country.as_str());
            let named = countries.contains(&p.country);
            (in_bracket, rank, named, p.population)
        });
        if let Some(i) = best {
            let p = &geo.places[i as usize];
            entities[k].geo = Some(Geo {
                geonames_id: p.id,
                lat: (p.lat * 1e4).round() / 1e4,
                lon: (p.lon * 1e4).round() / 1e4,
                country_code: p.country.clone(),
                kind: p.kind,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(text: &str, name: &str) -> Entity {
        let byte = text.find(name).unwrap();
        let start = text[..byte].chars().count();
        Entity {
            start,
            end: start + name.chars().count(),
            label: EntityLabel::LOC,
            text: name.into(),
            canonical: name.into(),
            geo: None,
        }
    }

    #[test]
    fn countries_capitals_and_small_towns() {
        let text = "Bamako, Mali et RDC, Niono et Moscou.";
        let mut e = vec![
            loc(text, "Bamako"),
            loc(text, "Mali"),
            loc(text, "RDC"),
            loc(text, "Niono"),
            loc(text, "Moscou"),
        ];
        geocode(text, &mut e);
        let g: Vec<(PlaceKind, String)> = e
            .iter()
            .map(|e| {
                let g = e.geo.as_ref().unwrap();
                (g.kind, g.country_code.clone())
            })
            .collect();
        assert_eq!(
            g,
            vec![
                (PlaceKind::City, "ML".into()),
                (PlaceKind::Country, "ML".into()),
                (PlaceKind::Country, "CD".into()),
                (PlaceKind::City, "ML".into()),
                (PlaceKind::City, "RU".into()),
            ]
        );
        assert_eq!(e[1].geo.as_ref().unwrap().geonames_id, 2_453_866);
        let bamako = e[0].geo.as_ref().unwrap();
        assert!((bamako.lat - 12.65).abs() < 0.2 && (bamako.lon + 8.0).abs() < 0.2);
    }

    #[test]
    fn context_picks_the_namesake() {
        let text = "Saint-Louis, au Sénégal, a accueilli le festival.";
        let mut e = vec![loc(text, "Saint-Louis"), loc(text, "Sénégal")];
        geocode(text, &mut e);
        assert_eq!(e[0].geo.as_ref().unwrap().country_code, "SN");
        let text = "KIDAL (Mali) – calme.";
        let mut e = vec![loc(text, "KIDAL"), loc(text, "Mali")];
        geocode(text, &mut e);
        assert_eq!(e[0].geo.as_ref().unwrap().country_code, "ML");
        let text = "Le Sahel brûle.";
        let mut e = vec![loc(text, "Sahel")];
        geocode(text, &mut e);
        assert_eq!(e[0].geo.as_ref().unwrap().kind, PlaceKind::Region);
    }
}
