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

mod gazetteer;
mod lang;
mod ner;
mod words;

use newsflow_core::{Enriched, Enrichment, Envelope, Parsed, Stage, StageError};
use serde::{Deserialize, Serialize};

/// Language and entities of `text`.
///
/// `lang_hint` is the language the page declares (`fr`, `fr-FR`); it only
/// decides when the text is too short or too mixed for the detector.
pub fn annotate(text: &str, lang_hint: Option<&str>) -> Enrichment {
    let (lang, lang_confidence) = lang::detect(text, lang_hint);
    Enrichment {
        lang,
        lang_confidence,
        entities: ner::entities(text),
        fingerprint: None,
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
#[derive(Debug, Clone, Default)]
pub struct Enrich {
    config: EnrichConfig,
}

impl Enrich {
    /// A stage with these settings.
    pub fn new(config: EnrichConfig) -> Self {
        Self { config }
    }

    /// Annotate an article body under this stage's limits.
    pub fn annotate(&self, text: &str, lang_hint: Option<&str>) -> Enrichment {
        match text.char_indices().nth(self.config.max_text_chars) {
            Some((cut, _)) => annotate(&text[..cut], lang_hint),
            None => annotate(text, lang_hint),
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
        // Annotation is CPU-bound (milliseconds per article, more for long
        // pages); keep it off the runtime's async workers.
        let (article, enrichment) = tokio::task::spawn_blocking(move || {
            let enrichment = this.annotate(&article.body_text, article.lang_hint.as_deref());
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

#[cfg(test)]
mod tests;
