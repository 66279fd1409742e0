//! Enrichment of article text: the language it is written in and the
//! people, organisations and places it names, with character offsets and a
//! canonical name per mention.
//!
//! Pure: text in, [`Enrichment`] out. This crate does no IO — no network,
//! no files, no model downloads; its gazetteers are compiled in. The
//! [`Enrich`] stage wraps [`annotate`] for the bus and moves the CPU-bound
//! work off the async runtime.
//!
//! Offsets are Unicode scalar values (Rust `char`s, Python `str` indices),
//! end exclusive, into the text given to [`annotate`].

#![deny(missing_docs)]

mod dates;
mod fingerprint;
mod gazetteer;
mod geo;
mod lang;
mod ner;
mod quotes;
mod summary;
mod words;

use newsflow_core::{Enriched, Enrichment, Envelope, Parsed, Stage, StageError};
use serde::{Deserialize, Serialize};

/// How many keywords an article gets.
const KEYWORDS: usize = 10;

/// Everything this crate derives from `text`, without a publication date
/// (relative dates then get a `null` value). See [`annotate_with`].
pub fn annotate(text: &str, lang_hint: Option<&str>) -> Enrichment {
    annotate_with(text, lang_hint, None)
}

/// Language, entities (geocoded places), quotes with speakers, dates,
/// keywords, summary, tone and fingerprint of `text`.
///
/// `lang_hint` is the language the page declares (`fr`, `fr-FR`); it only
/// decides when the text is too short or too mixed for the detector.
/// `published` (`YYYY-MM-DD` or RFC 3339) is what relative dates (`lundi`,
/// `hier`, `last Tuesday`) are resolved against.
pub fn annotate_with(text: &str, lang_hint: Option<&str>, published: Option<&str>) -> Enrichment {
    let (lang, lang_confidence) = lang::detect(text, lang_hint);
    let mut entities = ner::entities(text);
    geo::geocode(text, &mut entities);
    let dates = dates::dates(text, published, &lang);
    let quotes = quotes::quotes(text, &entities, &lang);
    let (keywords, summary, tone) = summary::keywords_summary_and_tone(text, KEYWORDS);
    Enrichment {
        lang,
        lang_confidence,
        entities,
        quotes,
        dates,
        keywords,
        summary,
        tone: Some(tone).filter(|t| t.words > 0),
        fingerprint: fingerprint::fingerprint(text),
    }
}

/// Settings of the enrich stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnrichConfig {
    /// Texts longer than this many characters are annotated on their first
    /// `max_text_chars` characters only, so that one huge page cannot hold a
    /// worker for minutes. Offsets stay valid: they index the full text.
    pub max_text_chars: usize,
}

impl Default for EnrichConfig {
    fn default() -> Self {
        Self {
            max_text_chars: 2_000_000,
        }
    }
}

/// The enrich stage: `parsed` → `enriched`.
#[derive(Debug, Clone)]
pub struct Enrich {
    config: EnrichConfig,
    /// Annotations running at once: one per core. The bus hands the stage
    /// up to `max_in_flight` articles together; annotating them all at once
    /// on as many threads only adds switching and per-thread heaps.
    cpu: std::sync::Arc<tokio::sync::Semaphore>,
}

impl Default for Enrich {
    fn default() -> Self {
        Self::new(EnrichConfig::default())
    }
}

impl Enrich {
    /// A stage with these settings.
    ///
    /// Builds every lazily loaded table now (gazetteers, places, lexicons,
    /// date patterns) by annotating a short sentence, so the first article
    /// does not pay the ~0.2 s start-up cost inside its latency.
    pub fn new(config: EnrichConfig) -> Self {
        let _ = annotate_with(
            "Le 3 juin, « tout va bien », a déclaré Sadio Camara à Bamako, au Mali.",
            Some("fr"),
            Some("2025-06-25"),
        );
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            config,
            cpu: std::sync::Arc::new(tokio::sync::Semaphore::new(cores)),
        }
    }

    /// Annotate an article body under this stage's limits, without a
    /// publication date.
    pub fn annotate(&self, text: &str, lang_hint: Option<&str>) -> Enrichment {
        self.annotate_with(text, lang_hint, None)
    }

    /// Annotate an article body under this stage's limits; `published`
    /// anchors relative dates (see [`annotate_with`]).
    pub fn annotate_with(
        &self,
        text: &str,
        lang_hint: Option<&str>,
        published: Option<&str>,
    ) -> Enrichment {
        match text.char_indices().nth(self.config.max_text_chars) {
            Some((cut, _)) => annotate_with(&text[..cut], lang_hint, published),
            None => annotate_with(text, lang_hint, published),
        }
    }
}

impl Stage for Enrich {
    type In = Parsed;
    type Out = Enriched;
    const NAME: &'static str = "enrich";

    async fn handle(&self, input: Envelope<Parsed>) -> Result<Vec<Envelope<Enriched>>, StageError> {
        let this = self.clone();
        let article = input.data.article.clone();
        // The semaphore is never closed; a closed one would only mean no limit.
        let _core = self.cpu.acquire().await.ok();
        // Annotation is CPU-bound (milliseconds per article, more for long
        // pages); keep it off the runtime's async workers.
        let (article, enrichment) = tokio::task::spawn_blocking(move || {
            let enrichment = this.annotate_with(
                &article.body_text,
                article.lang_hint.as_deref(),
                article.published.as_deref(),
            );
            (article, enrichment)
        })
        .await
        .map_err(|e| StageError::retry("enrich_panicked", e.to_string()))?;
        Ok(vec![input.follow(Enriched {
            article,
            enrichment,
        })])
    }
}

/// Hash maps and sets for words: foldhash is several times faster than the
/// standard SipHash on short keys, and its per-process seed keeps hostile
/// text from choosing collisions.
pub(crate) type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
/// See [`Map`].
pub(crate) type Set<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

#[cfg(test)]
mod tests;
