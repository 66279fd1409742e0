//! The rows an enriched event becomes, computed once in Rust for both
//! backends: the article row's query columns, one row per entity (with its
//! mention count and geocoding), the names it is known by, its places and
//! its quotes. Both databases store exactly these values.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use newsflow_core::{Enriched, Envelope, Geo, PlaceKind};

use crate::StoreError;
use crate::fold::{alnum_key, fold};
use crate::query::{GeoInfo, host_key};
use crate::syndication::parse_fingerprint;

/// Bumped when the derivation changes: rows derived by an older version
/// are re-derived from the stored event when a store opens.
pub(crate) const DERIVED_VERSION: i64 = 1;

/// Caps per article, so one pathological page cannot make a huge write.
const MAX_ENTITIES: usize = 2_000;
const MAX_QUOTES: usize = 1_000;

/// One article's rows.
#[derive(Debug, Clone)]
pub(crate) struct Derived {
    pub article_id: String,
    pub trace_id: String,
    pub url: String,
    pub final_url: Option<String>,
    pub canonical_url: Option<String>,
    pub title: Option<String>,
    pub authors: String,
    pub published: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    /// `YYYY-MM-DD` as the article gives it (its own time zone).
    pub published_day: Option<String>,
    pub modified: Option<String>,
    pub site: Option<String>,
    pub site_name: Option<String>,
    pub site_key: Option<String>,
    pub original_publisher: Option<String>,
    /// The page says it republishes another publisher's article.
    pub republication: bool,
    pub lang: String,
    pub lang_hint: Option<String>,
    pub description: Option<String>,
    pub image: Option<String>,
    pub sections: String,
    pub tags: String,
    pub body_text: String,
    pub summary: Option<String>,
    pub keywords: String,
    pub tone: Option<f64>,
    pub fingerprint: Option<u64>,
    pub enriched_at: DateTime<Utc>,
    pub schema_version: i64,
    /// The event as stored: its JSON without the body (see `stored_event`).
    pub event_json: String,
    pub entities: Vec<EntityRow>,
    pub aliases: Vec<AliasRow>,
    pub places: Vec<PlaceRow>,
    pub quotes: Vec<QuoteRow>,
}

#[derive(Debug, Clone)]
pub(crate) struct EntityRow {
    pub label: &'static str,
    pub canonical: String,
    pub canonical_key: String,
    pub mentions: i64,
    /// JSON array of the other surface forms.
    pub aliases: String,
    pub geo: Option<GeoInfo>,
}

/// A name an entity of the article goes by, other than its canonical one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AliasRow {
    pub label: &'static str,
    pub alias_key: String,
}

#[derive(Debug, Clone)]
pub(crate) struct PlaceRow {
    pub name: String,
    pub name_key: String,
    pub mentions: i64,
    pub geo: Option<GeoInfo>,
}

#[derive(Debug, Clone)]
pub(crate) struct QuoteRow {
    pub seq: i64,
    pub speaker: Option<String>,
    pub speaker_key: Option<String>,
    /// Last word of the folded speaker name ("camara"), so a quote can be
    /// found by surname through an index.
    pub speaker_last: Option<String>,
    pub text: String,
    pub start: i64,
    pub end: i64,
}

/// Bits of a sort key below the minute: a hash of the article id.
pub(crate) const SORT_KEY_HASH_BITS: u32 = 37;
/// Largest minute a sort key holds (2^26 - 1 minutes after 1970: 2097).
pub(crate) const SORT_KEY_MAX_MINUTE: i64 = (1 << 26) - 1;

/// The low bits of an article's sort key: 37 bits of FNV-1a of its id.
pub(crate) fn id_hash(article_id: &str) -> i64 {
    let h = article_id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (h & ((1 << SORT_KEY_HASH_BITS) - 1)) as i64
}

/// The article's place in newest-first order, one integer: the minute of
/// `sort_at` (its publication, else when it was first stored) in the high
/// bits, a hash of the id below. Equal minutes order arbitrarily but
/// stably; SQLite, whose full-text rowid it is, makes it unique by bumping
/// the rare collision.
pub(crate) fn sort_key(sort_at: DateTime<Utc>, article_id: &str) -> i64 {
    let minute = sort_at
        .timestamp()
        .div_euclid(60)
        .clamp(0, SORT_KEY_MAX_MINUTE);
    (minute << SORT_KEY_HASH_BITS) | id_hash(article_id)
}

/// `published` as an instant: a day is its midnight UTC, a time with an
/// offset is converted, a naive time is read as UTC.
pub(crate) fn published_at(published: &str) -> Option<DateTime<Utc>> {
    let s = published.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc());
        }
    }
    s.get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

fn published_day(published: &str) -> Option<String> {
    let d = published.trim().get(..10)?;
    NaiveDate::parse_from_str(d, "%Y-%m-%d")
        .ok()
        .map(|d| d.format("%Y-%m-%d").to_string())
}

fn kind_name(k: PlaceKind) -> String {
    match serde_json::to_value(k) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "other".into(),
    }
}

fn geo_info(g: &Geo) -> GeoInfo {
    GeoInfo {
        geonames_id: g.geonames_id,
        lat: g.lat,
        lon: g.lon,
        country_code: g.country_code.clone(),
        kind: kind_name(g.kind),
    }
}

fn label_name(l: newsflow_core::EntityLabel) -> &'static str {
    match serde_json::to_value(l) {
        Ok(serde_json::Value::String(s)) if s == "PER" => "PER",
        Ok(serde_json::Value::String(s)) if s == "ORG" => "ORG",
        _ => "LOC",
    }
}

/// The full-text configuration PostgreSQL indexes an article with.
pub(crate) fn ts_config(lang: &str) -> &'static str {
    match lang {
        "fr" => "french",
        "en" => "english",
        "es" => "spanish",
        "pt" => "portuguese",
        "de" => "german",
        "it" => "italian",
        "nl" => "dutch",
        "ru" => "russian",
        "ar" => "arabic",
        "tr" => "turkish",
        _ => "simple",
    }
}

/// Every configuration [`ts_config`] can return: a query without a
/// language filter is parsed with each, so it matches any article.
pub(crate) const TS_CONFIGS: &[&str] = &[
    "french",
    "english",
    "spanish",
    "portuguese",
    "german",
    "italian",
    "dutch",
    "russian",
    "arabic",
    "turkish",
    "simple",
];

impl Derived {
    pub(crate) fn from_event(event: &Envelope<Enriched>) -> Result<Self, StoreError> {
        let a = &event.data.article;
        let e = &event.data.enrichment;
        let site_name = a.site_name.clone().filter(|s| !s.trim().is_empty());
        let site = [&a.final_url, &a.canonical_url]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .chain([a.url.as_str()])
            .map(host_key)
            .find(|h| !h.is_empty());
        let original_publisher = a
            .original_publisher
            .clone()
            .filter(|s| !s.trim().is_empty());
        let republication = original_publisher.as_deref().is_some_and(|p| {
            let p = alnum_key(p);
            let own_name = site_name.as_deref().map(alnum_key);
            let own_host = site.as_deref().map(alnum_key);
            !p.is_empty()
                && own_name.as_deref() != Some(p.as_str())
                && !own_host.is_some_and(|h| h.contains(&p))
        });

        // Entities: one row per (label, canonical), in order of appearance.
        let mut entities: Vec<EntityRow> = Vec::new();
        let mut surface: Vec<Vec<String>> = Vec::new();
        let mut aliases: Vec<AliasRow> = Vec::new();
        let mut seen_alias: std::collections::HashSet<(&'static str, String)> =
            std::collections::HashSet::new();
        for ent in e.entities.iter().take(MAX_ENTITIES) {
            let canonical = ent.canonical.trim();
            let canonical = if canonical.is_empty() {
                ent.text.trim()
            } else {
                canonical
            };
            let canonical_key = fold(canonical);
            if canonical_key.is_empty() {
                continue;
            }
            let label = label_name(ent.label);
            let i = match entities
                .iter()
                .position(|r| r.label == label && r.canonical_key == canonical_key)
            {
                Some(i) => i,
                None => {
                    entities.push(EntityRow {
                        label,
                        canonical: canonical.to_string(),
                        canonical_key: canonical_key.clone(),
                        mentions: 0,
                        aliases: String::new(),
                        geo: None,
                    });
                    surface.push(Vec::new());
                    entities.len() - 1
                }
            };
            let row = &mut entities[i];
            row.mentions += 1;
            if row.geo.is_none() {
                row.geo = ent.geo.as_ref().map(geo_info);
            }
            let text = ent.text.trim();
            if !text.is_empty() && text != row.canonical && !surface[i].iter().any(|s| s == text) {
                surface[i].push(text.to_string());
            }
            // Other names than the canonical one ("Camara" for "Sadio
            // Camara"): the entity filter looks in both tables.
            let key = fold(text);
            if !key.is_empty() && key != canonical_key && seen_alias.insert((label, key.clone())) {
                aliases.push(AliasRow {
                    label,
                    alias_key: key,
                });
            }
        }
        for (row, names) in entities.iter_mut().zip(&surface) {
            row.aliases = serde_json::to_string(names)?;
        }
        let places = entities
            .iter()
            .filter(|r| r.label == "LOC")
            .map(|r| PlaceRow {
                name: r.canonical.clone(),
                name_key: r.canonical_key.clone(),
                mentions: r.mentions,
                geo: r.geo.clone(),
            })
            .collect();
        let quotes = e
            .quotes
            .iter()
            .take(MAX_QUOTES)
            .enumerate()
            .map(|(i, q)| {
                let speaker = q.speaker.clone().filter(|s| !s.trim().is_empty());
                let speaker_key = speaker.as_deref().map(fold);
                let speaker_last = speaker_key
                    .as_deref()
                    .and_then(|k| k.rsplit(' ').next())
                    .map(str::to_string);
                QuoteRow {
                    seq: i as i64,
                    speaker,
                    speaker_key,
                    speaker_last,
                    text: q.text.clone(),
                    start: i64::try_from(q.start).unwrap_or(i64::MAX),
                    end: i64::try_from(q.end).unwrap_or(i64::MAX),
                }
            })
            .collect();

        let fingerprint = match e.fingerprint.as_deref() {
            Some(f) => {
                let parsed = parse_fingerprint(f);
                if parsed.is_none() {
                    tracing::warn!(article_id = %event.article_id, fingerprint = f,
                        "fingerprint is not 16 hex digits; the article is not linked to copies");
                }
                parsed
            }
            None => None,
        };
        let published = a.published.clone().filter(|p| !p.trim().is_empty());
        Ok(Self {
            article_id: event.article_id.clone(),
            trace_id: event.trace_id.clone(),
            url: a.url.clone(),
            final_url: a.final_url.clone(),
            canonical_url: a.canonical_url.clone(),
            title: a.title.clone(),
            authors: serde_json::to_string(&a.authors)?,
            published_at: published.as_deref().and_then(published_at),
            published_day: published.as_deref().and_then(published_day),
            published,
            modified: a.modified.clone(),
            site,
            site_key: site_name.as_deref().map(fold),
            site_name,
            original_publisher,
            republication,
            lang: if e.lang.trim().is_empty() {
                "und".into()
            } else {
                e.lang.trim().to_ascii_lowercase()
            },
            lang_hint: a.lang_hint.clone(),
            description: a.description.clone(),
            image: a.image.clone(),
            sections: serde_json::to_string(&a.sections)?,
            tags: serde_json::to_string(&a.tags)?,
            body_text: a.body_text.clone(),
            summary: e.summary.clone(),
            keywords: serde_json::to_string(&e.keywords)?,
            tone: e.tone.as_ref().map(|t| t.score).filter(|s| s.is_finite()),
            fingerprint,
            enriched_at: event.time,
            schema_version: i64::from(event.version),
            event_json: event_json(event)?,
            entities,
            aliases,
            places,
            quotes,
        })
    }

    /// The title, folded, for the PostgreSQL index.
    pub(crate) fn title_folded(&self) -> String {
        self.title.as_deref().map(fold).unwrap_or_default()
    }

    /// The body, folded, for the PostgreSQL index.
    pub(crate) fn body_folded(&self) -> String {
        fold(&self.body_text)
    }

    /// The publication instant in microseconds since the epoch, as the
    /// entity rows carry it (exactly `published_at`, which both databases
    /// keep to the microsecond).
    pub(crate) fn published_us(&self) -> Option<i64> {
        self.published_at.map(|t| t.timestamp_micros())
    }
}

/// The event as stored (`articles.event`): its JSON without the body,
/// which `articles.body_text` holds already. The body was half of the
/// event and a third of a stored article; leaving it out sped up storing
/// 100k articles by 7 % on SQLite.
fn event_json(event: &Envelope<Enriched>) -> Result<String, serde_json::Error> {
    let mut stored = event.clone();
    stored.data.article.body_text = String::new();
    serde_json::to_string(&stored)
}

/// The event stored as `json` (see [`Derived::event_json`]), with its body
/// from `body_text` put back. Events stored whole (before the body was
/// left out) come back as they were.
pub(crate) fn stored_event(
    json: &str,
    body_text: String,
) -> Result<Envelope<Enriched>, serde_json::Error> {
    let mut event: Envelope<Enriched> = serde_json::from_str(json)?;
    if event.data.article.body_text.is_empty() {
        event.data.article.body_text = body_text;
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_keys_order_by_minute() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let a = sort_key(t("2025-06-25T10:00:00Z"), "zzz");
        let b = sort_key(t("2025-06-25T10:01:00Z"), "aaa");
        assert!(a < b);
        assert_eq!((b >> SORT_KEY_HASH_BITS) - (a >> SORT_KEY_HASH_BITS), 1);
        assert!(sort_key(t("1960-01-01T00:00:00Z"), "x") >= 0);
        assert!(sort_key(t("2200-01-01T00:00:00Z"), "x") > 0);
        assert_eq!(sort_key(t("2025-06-25T10:00:59Z"), "zzz"), a);
    }

    #[test]
    fn publication_instants() {
        let t = |s: &str| published_at(s).map(|t| t.to_rfc3339());
        assert_eq!(
            t("2025-06-25").as_deref(),
            Some("2025-06-25T00:00:00+00:00")
        );
        assert_eq!(
            t("2025-06-25T10:00:00+02:00").as_deref(),
            Some("2025-06-25T08:00:00+00:00")
        );
        assert_eq!(
            t("2025-06-25 10:00:00").as_deref(),
            Some("2025-06-25T10:00:00+00:00")
        );
        assert_eq!(t("mercredi"), None);
        assert_eq!(
            published_day("2025-06-25T23:30:00+02:00").as_deref(),
            Some("2025-06-25")
        );
    }

    fn seed() -> Envelope<Enriched> {
        let text = include_str!("../../../seeds/expected/enriched.json");
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn the_seed_derives_entities_places_and_republication() {
        let d = Derived::from_event(&seed()).unwrap();
        assert_eq!(d.site.as_deref(), Some("news.abamako.com"));
        assert!(d.republication, "abamako republishes L'Essor");
        let camara = d
            .entities
            .iter()
            .find(|e| e.canonical == "Sadio Camara")
            .unwrap();
        assert_eq!(camara.label, "PER");
        assert!(camara.mentions >= 2, "{camara:?}");
        assert!(d.places.iter().any(|p| p.name_key == "mali"));
        // "Camara" alone names Sadio Camara: an alias; the canonical name
        // itself is not repeated there.
        assert!(
            d.aliases
                .iter()
                .any(|a| a.alias_key == "camara" && a.label == "PER")
        );
        assert!(!d.aliases.iter().any(|a| a.alias_key == "sadio camara"));
        // Each (label, key) once.
        let mut keys: Vec<_> = d.aliases.iter().map(|a| (a.label, &a.alias_key)).collect();
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n);
    }

    #[test]
    fn own_publisher_is_not_a_republication() {
        let mut ev = seed();
        ev.data.article.site_name = Some("L’Essor".into());
        assert!(!Derived::from_event(&ev).unwrap().republication);
        ev.data.article.site_name = None;
        ev.data.article.url = "https://www.lessor.site/article/1".into();
        ev.data.article.canonical_url = None;
        assert!(!Derived::from_event(&ev).unwrap().republication);
    }
}
