//! What can be asked of a store, what it answers, and the validation that
//! turns a request into bounded, normalised filters both backends apply
//! the same way.

use chrono::{DateTime, Days, NaiveDate, Utc};
use newsflow_core::{Article, DateMention, Keyword, Tone};
use serde::{Deserialize, Serialize};

use crate::StoreError;
use crate::fold::{fold, query_terms};

/// Results per page when the query does not say.
pub const DEFAULT_LIMIT: u32 = 20;
/// Most results per page.
pub const MAX_LIMIT: u32 = 1000;
/// Most words of a full-text query that are used.
pub const MAX_TERMS: usize = 16;
/// Longest accepted text of any filter, in characters.
pub const MAX_FILTER_CHARS: usize = 500;
/// How many matches a relevance-ordered listing ranks: the newest this
/// many articles that match the words and filters. Ranking every match of
/// a common word over a large store would take seconds; the newest
/// few hundred are what a news reader wants ranked. `sort=newest` reaches
/// every match.
pub const RANK_WINDOW: u32 = 500;

/// The search of `newsflow search`: words, language, entity, a start date.
/// Every filter is optional; they combine with AND. It is the simple form
/// of [`ArticleQuery`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SearchQuery {
    /// Words to find in the title or body. Case and diacritics are ignored
    /// ("electrification" finds "Électrification"); every word must occur.
    /// Query syntax is not interpreted: quotes, `*`, `NEAR(` are plain text.
    pub text: Option<String>,
    /// Detected language of the article (ISO 639-1).
    pub lang: Option<String>,
    /// An entity of the article, by canonical name or by the text of a
    /// mention, ignoring case and diacritics.
    pub entity: Option<String>,
    /// Articles published on or after this date (`YYYY-MM-DD`).
    pub since: Option<String>,
    /// Most results to return; 0 means the default (20). At most 1000.
    pub limit: u32,
}

/// Which copies of a syndicated article a listing shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Duplicates {
    /// Every copy.
    #[default]
    Include,
    /// Only originals: articles that are not linked to an earlier copy.
    Exclude,
}

/// Order of an article listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Newest publication first (articles without a date by the time they
    /// were first stored).
    Newest,
    /// Best full-text match first, among the newest [`RANK_WINDOW`]
    /// matches; only with words to search.
    Relevance,
}

/// A listing of articles: every filter optional, all combined with AND.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArticleQuery {
    /// Words that must all occur in the title or body (case and diacritics
    /// ignored; PostgreSQL also matches other forms of a word through the
    /// article's language).
    pub text: Option<String>,
    /// Detected language (`fr`, `en`, …, or `und`).
    pub lang: Option<String>,
    /// An entity named in the article: its canonical name or any of its
    /// mentions (case and diacritics ignored).
    pub entity: Option<String>,
    /// `PER`, `ORG` or `LOC`: the class of `entity`, or alone, articles
    /// naming at least one entity of that class.
    pub label: Option<String>,
    /// A place named in the article (a `LOC` entity, geocoded or not).
    pub place: Option<String>,
    /// ISO 3166-1 alpha-2 code of a geocoded place named in the article.
    pub country: Option<String>,
    /// The site: its host (`abamako.com`, `www.` ignored) or its name.
    pub site: Option<String>,
    /// Published on or after this day (`YYYY-MM-DD`) or instant (RFC 3339).
    pub since: Option<String>,
    /// Published on or before this day, or before this instant.
    pub until: Option<String>,
    /// Whether republished copies are listed.
    pub duplicates: Duplicates,
    /// Order; by default relevance with `text`, newest first without.
    pub sort: Option<Sort>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size; 0 means 20. At most 1000.
    pub limit: u32,
}

impl From<&SearchQuery> for ArticleQuery {
    fn from(q: &SearchQuery) -> Self {
        Self {
            text: q.text.clone(),
            lang: q.lang.clone(),
            entity: q.entity.clone(),
            since: q.since.clone(),
            limit: q.limit,
            ..Self::default()
        }
    }
}

/// Top entities over a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EntityQuery {
    /// Only this class (`PER`, `ORG`, `LOC`).
    pub label: Option<String>,
    /// Articles published on or after this day or instant.
    pub since: Option<String>,
    /// Articles published on or before this day, or before this instant.
    pub until: Option<String>,
    /// Articles in this language.
    pub lang: Option<String>,
    /// Whether republished copies count (by default each story counts once).
    pub duplicates: Option<Duplicates>,
    /// How many entities; 0 means 20. At most 1000.
    pub limit: u32,
}

/// Quotations, newest article first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuoteQuery {
    /// The speaker: canonical name, or the last word of it ("Camara").
    pub speaker: Option<String>,
    /// Articles published on or after this day or instant.
    pub since: Option<String>,
    /// Articles published on or before this day, or before this instant.
    pub until: Option<String>,
    /// Articles in this language.
    pub lang: Option<String>,
    /// Whether quotes in republished copies are listed (by default not:
    /// each quotation once).
    pub duplicates: Option<Duplicates>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size; 0 means 20. At most 1000.
    pub limit: u32,
}

/// One article of a listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleSummary {
    /// Article id.
    pub article_id: String,
    /// Headline.
    pub title: Option<String>,
    /// Publication date as the article gives it.
    pub published: Option<String>,
    /// Site that served the page.
    pub site_name: Option<String>,
    /// Detected language.
    pub lang: Option<String>,
    /// The URL as requested.
    pub url: String,
    /// A short extract: around the matched words for a text search, else
    /// the beginning of the body.
    pub snippet: String,
    /// Host of the page, without `www.`.
    #[serde(default)]
    pub site: Option<String>,
    /// The publisher that first printed it, when the page says so.
    #[serde(default)]
    pub original_publisher: Option<String>,
    /// The earliest copy of this article, when it is a republication.
    #[serde(default)]
    pub duplicate_of: Option<String>,
}

/// A page of a listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items, in order.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// Where a place is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeoInfo {
    /// GeoNames id (0 for world regions without a single feature).
    pub geonames_id: u64,
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// ISO 3166-1 alpha-2, empty for regions spanning countries.
    pub country_code: String,
    /// `continent`, `country`, `region`, `city` or `other`.
    pub kind: String,
}

/// An entity of one article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityInfo {
    /// The fullest name the article gives it.
    pub canonical: String,
    /// `PER`, `ORG` or `LOC`.
    pub label: String,
    /// How many times the article names it.
    pub mentions: u32,
    /// Other forms it is named by in the article.
    pub aliases: Vec<String>,
    /// Geocoding, for places.
    pub geo: Option<GeoInfo>,
}

/// A place named in one article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaceInfo {
    /// The place's name (canonical form in the article).
    pub name: String,
    /// How many times the article names it.
    pub mentions: u32,
    /// Geocoding, when the enrich stage could place it.
    pub geo: Option<GeoInfo>,
}

/// A quotation of one article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuoteInfo {
    /// Canonical name of who said it, when the text names them.
    pub speaker: Option<String>,
    /// The quoted words.
    pub text: String,
    /// Start offset in the body (Unicode scalar values).
    pub start: u64,
    /// End offset (exclusive).
    pub end: u64,
}

/// A quotation found by [`QuoteQuery`], with its article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuoteHit {
    /// The article.
    pub article_id: String,
    /// Its headline.
    pub title: Option<String>,
    /// Its publication date.
    pub published: Option<String>,
    /// Its URL.
    pub url: String,
    /// Who said it.
    pub speaker: Option<String>,
    /// The quoted words.
    pub text: String,
}

/// An entity and how often it was named over a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityCount {
    /// Canonical name.
    pub canonical: String,
    /// `PER`, `ORG` or `LOC`.
    pub label: String,
    /// Articles naming it.
    pub articles: u64,
    /// Mentions over those articles.
    pub mentions: u64,
}

/// Everything stored about one article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleDetail {
    /// Article id.
    pub article_id: String,
    /// Trace id of the request that brought it.
    pub trace_id: String,
    /// The article as parsed.
    pub article: Article,
    /// Host of the page, without `www.`.
    pub site: Option<String>,
    /// Detected language.
    pub lang: String,
    /// Extractive summary.
    pub summary: Option<String>,
    /// Key phrases, most relevant first.
    pub keywords: Vec<Keyword>,
    /// Tone of the text.
    pub tone: Option<Tone>,
    /// Dates the text mentions.
    pub dates: Vec<DateMention>,
    /// Near-duplicate fingerprint (16 hex digits).
    pub fingerprint: Option<String>,
    /// The earliest copy, when this one is a republication.
    pub duplicate_of: Option<String>,
    /// Republications linked to this article, when it is the original.
    pub duplicates: Vec<String>,
    /// Entities, most mentioned first.
    pub entities: Vec<EntityInfo>,
    /// Places, most mentioned first.
    pub places: Vec<PlaceInfo>,
    /// Quotations in text order.
    pub quotes: Vec<QuoteInfo>,
    /// When the enrich stage produced the stored version.
    pub enriched_at: DateTime<Utc>,
    /// When the store first saw the article.
    pub first_stored_at: DateTime<Utc>,
    /// When the store last wrote it.
    pub stored_at: DateTime<Utc>,
    /// Version of the event schema it arrived in.
    pub schema_version: u32,
}

// ---------------------------------------------------------------------------
// Validation: the normalised forms the backends bind as parameters.

/// The filters of an article listing, validated and normalised.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filters {
    /// Folded words; `Some(empty)` means "text given but no word in it".
    pub terms: Option<Vec<String>>,
    pub lang: Option<String>,
    pub entity_key: Option<String>,
    pub label: Option<String>,
    pub place_key: Option<String>,
    pub country: Option<String>,
    /// Host (without `www.`) and folded name, either may match.
    pub site: Option<(String, String)>,
    pub since: Option<DateTime<Utc>>,
    /// Exclusive.
    pub until: Option<DateTime<Utc>>,
    pub exclude_duplicates: bool,
}

/// Where a page starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum After {
    /// First page.
    Start,
    /// After this (sort key, article id) in newest-first order.
    Key(i64, String),
    /// After this (sort key, article id, quote number), for quotes.
    QuoteKey(i64, String, i64),
    /// Skip this many (relevance order).
    Offset(u64),
}

/// A validated article listing.
#[derive(Debug, Clone)]
pub(crate) struct ArticlePlan {
    pub filters: Filters,
    pub sort: Sort,
    pub after: After,
    pub limit: u32,
    /// Identifies the filters and order, so a cursor is refused on another query.
    pub tag: u64,
}

impl Filters {
    /// The sort keys the publication period can have: sort keys begin with
    /// the minute of publication, so a period is a key range (a superset:
    /// the exact bounds are checked on `published_at` as well).
    pub(crate) fn key_range(&self) -> (Option<i64>, Option<i64>) {
        use crate::derive::{SORT_KEY_HASH_BITS, SORT_KEY_MAX_MINUTE};
        let minute = |t: &DateTime<Utc>| {
            t.timestamp()
                .div_euclid(60)
                .clamp(0, SORT_KEY_MAX_MINUTE + 1)
        };
        (
            self.since.as_ref().map(|t| minute(t) << SORT_KEY_HASH_BITS),
            self.until
                .as_ref()
                .map(|t| (minute(t) + 1) << SORT_KEY_HASH_BITS),
        )
    }
}

/// A validated top-entities query.
#[derive(Debug, Clone)]
pub(crate) struct EntityPlan {
    pub label: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub lang: Option<String>,
    pub exclude_duplicates: bool,
    pub limit: u32,
}

/// A validated quote query.
#[derive(Debug, Clone)]
pub(crate) struct QuotePlan {
    pub speaker_key: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub lang: Option<String>,
    pub exclude_duplicates: bool,
    pub after: After,
    pub limit: u32,
    pub tag: u64,
}

fn bad(msg: impl Into<String>) -> StoreError {
    StoreError::Query(msg.into())
}

/// The trimmed value, `None` when absent or blank; refused when too long.
fn given<'a>(name: &str, v: &'a Option<String>) -> Result<Option<&'a str>, StoreError> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > MAX_FILTER_CHARS => Err(bad(format!(
            "{name} is longer than {MAX_FILTER_CHARS} characters"
        ))),
        Some(s) if s.chars().any(char::is_control) => {
            Err(bad(format!("{name} contains control characters")))
        }
        other => Ok(other),
    }
}

fn limit(n: u32) -> u32 {
    match n {
        0 => DEFAULT_LIMIT,
        n => n.min(MAX_LIMIT),
    }
}

pub(crate) fn lang(v: &Option<String>) -> Result<Option<String>, StoreError> {
    given("lang", v)?
        .map(|s| {
            let l = s.to_ascii_lowercase();
            let ok = (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase());
            if ok {
                Ok(l)
            } else {
                Err(bad(format!(
                    "lang `{s}` is not a language code like `fr`, `en` or `und`"
                )))
            }
        })
        .transpose()
}

pub(crate) fn label(v: &Option<String>) -> Result<Option<String>, StoreError> {
    given("label", v)?
        .map(|s| match s.to_ascii_uppercase().as_str() {
            l @ ("PER" | "ORG" | "LOC") => Ok(l.to_string()),
            _ => Err(bad(format!("label `{s}` is not one of PER, ORG, LOC"))),
        })
        .transpose()
}

fn key(name: &str, v: &Option<String>) -> Result<Option<String>, StoreError> {
    Ok(given(name, v)?.map(fold).filter(|k| !k.is_empty()))
}

fn country(v: &Option<String>) -> Result<Option<String>, StoreError> {
    given("country", v)?
        .map(|s| {
            if s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()) {
                Ok(s.to_ascii_uppercase())
            } else {
                Err(bad(format!(
                    "country `{s}` is not an ISO 3166-1 alpha-2 code like `ML`"
                )))
            }
        })
        .transpose()
}

/// Host of a URL or of a bare host name, lower-cased, without `www.`.
pub(crate) fn host_key(s: &str) -> String {
    let s = s.trim();
    let rest = s.split_once("://").map_or(s, |(_, r)| r);
    let host = rest
        .split(['/', '?', '#'])
        .next()
        .unwrap_or(rest)
        .rsplit('@')
        .next()
        .unwrap_or(rest);
    // Drop a port, but not the colons of a bracketed IPv6 literal.
    let host = match host.rfind(':') {
        Some(i) if !host.ends_with(']') => &host[..i],
        _ => host,
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host.strip_prefix("www.")
        .map(str::to_string)
        .unwrap_or(host)
}

/// A day (`YYYY-MM-DD`) or an RFC 3339 instant. `end` makes a day mean
/// "up to the end of that day" (the next midnight, exclusive).
pub(crate) fn bound(
    name: &str,
    v: &Option<String>,
    end: bool,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let Some(s) = given(name, v)? else {
        return Ok(None);
    };
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let d = if end {
            d.checked_add_days(Days::new(1))
        } else {
            Some(d)
        };
        let t = d
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .ok_or_else(|| bad(format!("{name} `{s}` is out of range")))?;
        return Ok(Some(t.and_utc()));
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|_| {
            bad(format!(
                "{name} `{s}` is not a date (YYYY-MM-DD) or an RFC 3339 time"
            ))
        })
}

/// A publication period: from (inclusive), to (exclusive).
type Period = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

fn period(since: &Option<String>, until: &Option<String>) -> Result<Period, StoreError> {
    let since_t = bound("since", since, false)?;
    let until_t = bound("until", until, true)?;
    if let (Some(s), Some(u)) = (since_t, until_t)
        && u <= s
    {
        return Err(bad("until is before since"));
    }
    Ok((since_t, until_t))
}

/// FNV-1a, to tag cursors with the query they belong to.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 1024 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The cursor of the page after one ending with `last` (its sort key and
/// item), when there is more.
pub(crate) fn next_cursor(
    plan: &ArticlePlan,
    more: bool,
    last: Option<(i64, &ArticleSummary)>,
) -> Option<String> {
    let (key, item) = last.filter(|_| more)?;
    let after = match plan.after {
        After::Offset(n) => After::Offset(n + u64::from(plan.limit)),
        _ if plan.sort == Sort::Relevance => After::Offset(u64::from(plan.limit)),
        _ => After::Key(key, item.article_id.clone()),
    };
    // The relevance window ends the listing.
    if let After::Offset(n) = after
        && n >= u64::from(RANK_WINDOW)
    {
        return None;
    }
    Some(encode_cursor(plan.tag, &after))
}

/// The opaque cursor after `after` for the query tagged `tag`.
pub(crate) fn encode_cursor(tag: u64, after: &After) -> String {
    let body = match after {
        After::Start => "s".to_string(),
        After::Key(k, id) => format!("k\u{1f}{k}\u{1f}{id}"),
        After::QuoteKey(k, id, seq) => format!("q\u{1f}{k}\u{1f}{id}\u{1f}{seq}"),
        After::Offset(n) => format!("o\u{1f}{n}"),
    };
    hex(format!("1\u{1f}{tag:016x}\u{1f}{body}").as_bytes())
}

fn decode_cursor(tag: u64, cursor: &Option<String>) -> Result<After, StoreError> {
    let Some(c) = cursor.as_deref().map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(After::Start);
    };
    let invalid = || bad("cursor is not one this server returned");
    let text = unhex(c)
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(invalid)?;
    let parts: Vec<&str> = text.split('\u{1f}').collect();
    let key = |s: &str| s.parse::<i64>().map_err(|_| invalid());
    let after = match parts.as_slice() {
        ["1", t, rest @ ..] => {
            if u64::from_str_radix(t, 16).ok() != Some(tag) {
                return Err(bad(
                    "cursor belongs to another query (the filters or order changed)",
                ));
            }
            match rest {
                ["k", k, id] => After::Key(key(k)?, (*id).to_string()),
                ["q", k, id, seq] => After::QuoteKey(
                    key(k)?,
                    (*id).to_string(),
                    seq.parse().map_err(|_| invalid())?,
                ),
                ["o", n] => {
                    let n: u64 = n.parse().map_err(|_| invalid())?;
                    if n > u64::from(RANK_WINDOW) {
                        return Err(invalid());
                    }
                    After::Offset(n)
                }
                _ => return Err(invalid()),
            }
        }
        _ => return Err(invalid()),
    };
    Ok(after)
}

impl ArticleQuery {
    pub(crate) fn plan(&self) -> Result<ArticlePlan, StoreError> {
        let terms = given("q", &self.text)?.map(|t| query_terms(t, MAX_TERMS));
        let site = given("site", &self.site)?.map(|s| (host_key(s), fold(s)));
        let (since, until) = period(&self.since, &self.until)?;
        let filters = Filters {
            terms,
            lang: lang(&self.lang)?,
            entity_key: key("entity", &self.entity)?,
            label: label(&self.label)?,
            place_key: key("place", &self.place)?,
            country: country(&self.country)?,
            site,
            since,
            until,
            exclude_duplicates: self.duplicates == Duplicates::Exclude,
        };
        let has_text = filters.terms.is_some();
        let sort = match self.sort {
            Some(Sort::Relevance) if !has_text => {
                return Err(bad("sort=relevance needs words to search (q)"));
            }
            Some(s) => s,
            None if has_text => Sort::Relevance,
            None => Sort::Newest,
        };
        let tag = fnv(&format!("articles {filters:?} {sort:?}"));
        let after = decode_cursor(tag, &self.cursor)?;
        match (&after, sort) {
            (After::Start, _)
            | (After::Key(..), Sort::Newest)
            | (After::Offset(_), Sort::Relevance) => {}
            _ => return Err(bad("cursor is not one this server returned")),
        }
        Ok(ArticlePlan {
            filters,
            sort,
            after,
            limit: limit(self.limit),
            tag,
        })
    }
}

impl EntityQuery {
    pub(crate) fn plan(&self) -> Result<EntityPlan, StoreError> {
        let (since, until) = period(&self.since, &self.until)?;
        Ok(EntityPlan {
            label: label(&self.label)?,
            since,
            until,
            lang: lang(&self.lang)?,
            exclude_duplicates: self.duplicates.unwrap_or(Duplicates::Exclude)
                == Duplicates::Exclude,
            limit: limit(self.limit),
        })
    }
}

impl QuoteQuery {
    pub(crate) fn plan(&self) -> Result<QuotePlan, StoreError> {
        let (since, until) = period(&self.since, &self.until)?;
        let speaker_key = key("speaker", &self.speaker)?;
        let lang = lang(&self.lang)?;
        let exclude_duplicates =
            self.duplicates.unwrap_or(Duplicates::Exclude) == Duplicates::Exclude;
        let tag = fnv(&format!(
            "quotes {speaker_key:?} {since:?} {until:?} {lang:?} {exclude_duplicates}"
        ));
        let after = decode_cursor(tag, &self.cursor)?;
        if !matches!(after, After::Start | After::QuoteKey(..)) {
            return Err(bad("cursor is not one this server returned"));
        }
        Ok(QuotePlan {
            speaker_key,
            since,
            until,
            lang,
            exclude_duplicates,
            after,
            limit: limit(self.limit),
            tag,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(host_key("https://WWW.Abamako.com/h/1.html"), "abamako.com");
        assert_eq!(host_key("news.abamako.com"), "news.abamako.com");
        assert_eq!(host_key("http://u:p@host.ml:8080/x"), "host.ml");
        assert_eq!(host_key("http://[::1]/x"), "[::1]");
    }

    #[test]
    fn bounds_are_days_or_instants() {
        let d = |s: &str, end| bound("since", &Some(s.into()), end).unwrap().unwrap();
        assert_eq!(
            d("2025-06-25", false).to_rfc3339(),
            "2025-06-25T00:00:00+00:00"
        );
        assert_eq!(
            d("2025-06-25", true).to_rfc3339(),
            "2025-06-26T00:00:00+00:00"
        );
        assert_eq!(
            d("2025-06-25T10:00:00+02:00", true).to_rfc3339(),
            "2025-06-25T08:00:00+00:00"
        );
        assert!(bound("since", &Some("yesterday".into()), false).is_err());
        assert!(
            ArticleQuery {
                since: Some("2025-06-26".into()),
                until: Some("2025-06-25".into()),
                ..Default::default()
            }
            .plan()
            .is_err()
        );
    }

    #[test]
    fn filters_are_validated() {
        let plan = |q: ArticleQuery| q.plan();
        assert!(
            plan(ArticleQuery {
                lang: Some("french".into()),
                ..Default::default()
            })
            .is_err()
        );
        assert!(
            plan(ArticleQuery {
                label: Some("PERSON".into()),
                ..Default::default()
            })
            .is_err()
        );
        assert!(
            plan(ArticleQuery {
                country: Some("MLI".into()),
                ..Default::default()
            })
            .is_err()
        );
        assert!(
            plan(ArticleQuery {
                entity: Some("x".repeat(501)),
                ..Default::default()
            })
            .is_err()
        );
        assert!(
            plan(ArticleQuery {
                entity: Some("a\u{0}b".into()),
                ..Default::default()
            })
            .is_err()
        );
        assert!(
            plan(ArticleQuery {
                sort: Some(Sort::Relevance),
                ..Default::default()
            })
            .is_err()
        );
        let p = plan(ArticleQuery {
            lang: Some(" FR ".into()),
            label: Some("per".into()),
            country: Some("ml".into()),
            entity: Some("Assimi  GOÏTA".into()),
            limit: 5000,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(p.filters.lang.as_deref(), Some("fr"));
        assert_eq!(p.filters.label.as_deref(), Some("PER"));
        assert_eq!(p.filters.country.as_deref(), Some("ML"));
        assert_eq!(p.filters.entity_key.as_deref(), Some("assimi goita"));
        assert_eq!(p.limit, MAX_LIMIT);
        assert_eq!(p.sort, Sort::Newest);
    }

    #[test]
    fn cursors_round_trip_and_belong_to_their_query() {
        let q = ArticleQuery {
            lang: Some("fr".into()),
            ..Default::default()
        };
        let p = q.plan().unwrap();
        let c = encode_cursor(p.tag, &After::Key(-42, "abc".into()));
        let again = ArticleQuery {
            cursor: Some(c.clone()),
            ..q.clone()
        }
        .plan()
        .unwrap();
        assert_eq!(again.after, After::Key(-42, "abc".into()));
        let other = ArticleQuery {
            lang: Some("en".into()),
            cursor: Some(c),
            ..Default::default()
        };
        assert!(
            other
                .plan()
                .unwrap_err()
                .to_string()
                .contains("another query")
        );
        for junk in ["zz", "00", "31", &"ab".repeat(600)] {
            let q = ArticleQuery {
                cursor: Some(junk.into()),
                ..Default::default()
            };
            assert!(matches!(q.plan(), Err(StoreError::Query(_))), "{junk}");
        }
    }
}
