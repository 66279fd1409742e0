use newsflow_core::{Envelope, Fetched, Stage, StageError, UrlRequest};
use tokio::sync::Semaphore;

use crate::{FetchConfig, FetchError, Fetcher};

/// The fetch stage: a [`Fetcher`] behind a global concurrency limit.
#[derive(Debug)]
pub struct Fetch {
    fetcher: Fetcher,
    permits: Semaphore,
}

impl Fetch {
    /// Build the stage from its configuration.
    pub fn new(config: FetchConfig) -> Result<Self, FetchError> {
        let permits = Semaphore::new(config.max_concurrency);
        Ok(Self {
            fetcher: Fetcher::new(config)?,
            permits,
        })
    }

    /// The underlying fetcher.
    pub fn fetcher(&self) -> &Fetcher {
        &self.fetcher
    }
}

impl Stage for Fetch {
    type In = UrlRequest;
    type Out = Fetched;
    const NAME: &'static str = "fetch";

    async fn handle(
        &self,
        input: Envelope<UrlRequest>,
    ) -> Result<Vec<Envelope<Fetched>>, StageError> {
        // The semaphore is never closed, so acquiring only waits.
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| StageError::retry("shutdown", e.to_string()))?;
        let outcome = self
            .fetcher
            .fetch(&input.data.url)
            .await
            .map_err(FetchError::into_stage_error)?;
        let fetched = outcome.into_fetched(input.data.tags.clone());
        Ok(vec![input.follow(fetched)])
    }
}
