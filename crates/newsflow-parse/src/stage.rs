//! The parse stage: `Fetched` → `Parsed`.

use std::future::Future;

use newsflow_core::{Envelope, Fetched, Parsed, Stage, StageError};
use serde::Deserialize;

/// Configuration of the parse stage.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ParseConfig {
    /// Pages larger than this many bytes (of decoded HTML) are rejected with
    /// `too_large` instead of parsed: the fetcher caps downloads, and this is
    /// the guard for anything that slipped past it. Default 16 MiB.
    pub max_html_bytes: usize,
    /// An article whose body has fewer characters than this is rejected with
    /// `no_article` (a login wall, an index page, an empty shell). Default 1:
    /// only an empty body is rejected.
    pub min_body_chars: usize,
}

impl Default for ParseConfig {
    fn default() -> Self {
        Self {
            max_html_bytes: 16 << 20,
            min_body_chars: 1,
        }
    }
}

/// The parse stage. Extraction is CPU-bound, so it runs on tokio's blocking
/// pool and never stalls the runtime that moves messages.
#[derive(Debug, Clone, Default)]
pub struct Parse {
    config: ParseConfig,
}

impl Parse {
    /// A parse stage with this configuration.
    pub fn new(config: ParseConfig) -> Self {
        Self { config }
    }
}

impl Stage for Parse {
    type In = Fetched;
    type Out = Parsed;
    const NAME: &'static str = "parse";

    fn handle(
        &self,
        mut input: Envelope<Fetched>,
    ) -> impl Future<Output = Result<Vec<Envelope<Parsed>>, StageError>> + Send {
        let config = self.config.clone();
        async move {
            let size = input.data.html.len();
            if size > config.max_html_bytes {
                return Err(StageError::reject(
                    "too_large",
                    format!(
                        "page is {size} bytes, the limit is {}",
                        config.max_html_bytes
                    ),
                ));
            }
            let html = std::mem::take(&mut input.data.html);
            let final_url = input.data.final_url.clone();
            let article =
                tokio::task::spawn_blocking(move || crate::extract(&html, Some(&final_url)))
                    .await
                    .map_err(|e| {
                        if e.is_panic() {
                            // The same page would panic again: poison.
                            StageError::reject(
                                "extract_panic",
                                format!(
                                    "extraction panicked on {final_url_for_log}",
                                    final_url_for_log = input.data.final_url
                                ),
                            )
                        } else {
                            StageError::retry("cancelled", "extraction task was cancelled")
                        }
                    })?;
            let mut article = article;
            if article.body_text.chars().count() < config.min_body_chars.max(1) {
                return Err(StageError::reject(
                    "no_article",
                    format!("no article text found in {}", input.data.final_url),
                ));
            }
            article.url = input.data.url.clone();
            article.final_url = Some(input.data.final_url.clone());
            article.tags = input.data.tags.clone();
            tracing::debug!(
                article_id = %input.article_id,
                chars = article.body_text.len(),
                "parsed"
            );
            Ok(vec![input.follow(Parsed { article })])
        }
    }
}
