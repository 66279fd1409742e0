use serde::{Deserialize, Serialize};

/// An article as the parse stage extracted it. Shared by the `parsed` and
/// `enriched` events and by `newsflow extract`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Article {
    /// The URL as requested.
    pub url: String,
    /// The URL after redirects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_url: Option<String>,
    /// `<link rel=canonical>` or `og:url`, when the page declares one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical_url: Option<String>,
    /// Headline, without the site-name suffix.
    pub title: Option<String>,
    /// Author names, properly capitalised, in byline order.
    #[serde(default)]
    pub authors: Vec<String>,
    /// Publication date: RFC 3339 when the page gives a time (with its
    /// offset), `YYYY-MM-DD` when it gives only a day.
    pub published: Option<String>,
    /// Last modification date, same format as `published`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    /// Name of the site that served the page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_name: Option<String>,
    /// The publisher that first printed the article, when the page says it
    /// republishes ("Publié le … | L'Essor").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_publisher: Option<String>,
    /// Language the page declares (`<html lang>`, `og:locale`, …), as a
    /// two-letter code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang_hint: Option<String>,
    /// Meta description or lede.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Lead image URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Section, tags or keywords the page declares.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<String>,
    /// The article text: paragraphs separated by one blank line.
    pub body_text: String,
    /// Tags given with the URL request, carried through untouched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// Entity class, following `shared/gold/GUIDELINES.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EntityLabel {
    /// A person.
    PER,
    /// An organisation.
    ORG,
    /// A place.
    LOC,
}

/// One entity mention: a span of the text it was found in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entity {
    /// Start offset in Unicode scalar values.
    pub start: usize,
    /// End offset (exclusive) in Unicode scalar values.
    pub end: usize,
    /// Class.
    pub label: EntityLabel,
    /// The span's text.
    pub text: String,
    /// The fullest name the document gives this entity.
    pub canonical: String,
    /// Where a place is, for `LOC` entities the gazetteer could place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo: Option<Geo>,
}

/// What kind of place a [`Geo`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlaceKind {
    /// A continent or a large world region (`Afrique`, `Sahel`).
    Continent,
    /// A sovereign country or dependent territory.
    Country,
    /// An administrative region, province or state, or a natural region.
    Region,
    /// A city, town or village.
    City,
    /// Anything else named in GeoNames (river, lake, mine, …).
    Other,
}

/// Geocoding of a place: the GeoNames feature the name resolved to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Geo {
    /// GeoNames id (`https://www.geonames.org/<id>`); 0 for the few world
    /// regions GeoNames has no single feature for.
    pub geonames_id: u64,
    /// Latitude in degrees (WGS 84).
    pub lat: f64,
    /// Longitude in degrees (WGS 84).
    pub lon: f64,
    /// ISO 3166-1 alpha-2 code of the country, empty for continents and
    /// regions spanning several countries.
    pub country_code: String,
    /// Feature kind.
    pub kind: PlaceKind,
}

/// A quotation and who said it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quote {
    /// Start offset (Unicode scalar values) of the quoted words, inside the marks.
    pub start: usize,
    /// End offset (exclusive).
    pub end: usize,
    /// Canonical name (as in `entities`) of the person or organisation who
    /// said or wrote the words; `null` when the text does not name one.
    pub speaker: Option<String>,
    /// The quoted words.
    pub text: String,
}

/// A calendar date the text mentions, resolved against the publication date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateMention {
    /// Start offset (Unicode scalar values).
    pub start: usize,
    /// End offset (exclusive).
    pub end: usize,
    /// The expression as written (`16 juin dernier`, `last Tuesday`).
    pub text: String,
    /// ISO 8601 at the expression's precision: `YYYY-MM-DD`, `YYYY-MM` or
    /// `YYYY`. `null` when a relative expression could not be resolved
    /// (no publication date).
    pub value: Option<String>,
}

/// A key phrase of the text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keyword {
    /// The phrase, as most often written in the text.
    pub text: String,
    /// Relevance in (0, 1], higher is more relevant (YAKE-like score,
    /// inverted and squashed).
    pub score: f64,
}

/// Tone of the text from French and English polarity lexicons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tone {
    /// `(positive - negative) / (positive + negative + 1)`, in (-1, 1):
    /// below -0.2 reads negative, above 0.2 positive, between neutral or
    /// mixed. Negated words (`pas bon`, `not good`) count for the other side.
    pub score: f64,
    /// Positive lexicon words found (after negation).
    pub positive: u32,
    /// Negative lexicon words found (after negation).
    pub negative: u32,
    /// Words in the text, so counts can be read as rates.
    pub words: u32,
}

/// What the enrich stage adds to an article.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enrichment {
    /// Detected language of the body (ISO 639-1), or `"und"` when unsure.
    pub lang: String,
    /// Detector confidence in [0, 1].
    pub lang_confidence: f64,
    /// Entity mentions in `body_text`, in text order.
    #[serde(default)]
    pub entities: Vec<Entity>,
    /// Quotations with their speaker, in text order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quotes: Vec<Quote>,
    /// Calendar dates mentioned, in text order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dates: Vec<DateMention>,
    /// Key phrases, most relevant first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<Keyword>,
    /// Extractive summary: the two or three most central sentences of the
    /// body, in text order, joined by a space.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Lexicon-based tone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tone: Option<Tone>,
    /// Near-duplicate fingerprint of the body: a 64-bit SimHash over word
    /// shingles, as 16 lower-case hex digits. Two copies of one article
    /// (a syndicated republication, a lightly edited version) differ in few
    /// bits; the store links them by Hamming distance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}
