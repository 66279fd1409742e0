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
    /// Near-duplicate fingerprint of the body: a 64-bit SimHash over word
    /// shingles, as 16 lower-case hex digits. Two copies of one article
    /// (a syndicated republication, a lightly edited version) differ in few
    /// bits; the store links them by Hamming distance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}
