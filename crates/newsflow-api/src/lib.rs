//! The query API of the store, over HTTP (axum): articles by words,
//! language, entity, place, country, site and period, one article with its
//! entities, quotes and places, the top entities of a period, quotations
//! by speaker, health, metrics and an OpenAPI document.
//!
//! It is a thin layer over [`newsflow_store::ArticleStore`]: it parses and
//! bounds parameters, maps store errors to JSON errors with a status, and
//! never builds SQL (the store binds every value). It does not write to
//! the store and knows nothing of the bus; the `newsflow` binary serves
//! [`router`] next to the store stage.
//!
//! Errors are `{"error": "<message>", "status": <code>}`: 400 for a bad
//! parameter (the message says which and why), 404 for an unknown article
//! or route, 414 for an over-long URL, 503 when the database is
//! unavailable or too slow, 500 otherwise (details only in the log).

#![deny(missing_docs)]

mod metrics;
mod openapi;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::rejection::QueryRejection;
use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use newsflow_store::{
    ArticleQuery, ArticleStore, Duplicates, EntityQuery, QuoteQuery, Sort, StoreError,
};
use serde::{Deserialize, Serialize};

pub use metrics::Metrics;
pub use openapi::openapi_document;

/// Most items per page the API serves.
pub const MAX_PAGE: u32 = 100;
/// Longest accepted request target (path and query), in bytes.
pub const MAX_URI_BYTES: usize = 4096;
/// How long one request may take before it is answered 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Settings of the query API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Address to listen on. Loopback by default: put a proxy with TLS and
    /// authentication in front to serve it further.
    pub listen: String,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8090".into(),
        }
    }
}

/// The API's shared state.
struct AppState<S> {
    store: S,
    metrics: Arc<Metrics>,
}

impl<S: Clone> Clone for AppState<S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            metrics: self.metrics.clone(),
        }
    }
}

/// The API over `store`: `GET /articles`, `/articles/{id}`, `/entities`,
/// `/quotes`, `/healthz`, `/metrics`, `/openapi.json`.
pub fn router<S: ArticleStore + Clone>(store: S) -> Router {
    let state = AppState {
        store,
        metrics: Arc::new(Metrics::default()),
    };
    Router::new()
        .route("/articles", get(list_articles::<S>))
        .route("/articles/{id}", get(show_article::<S>))
        .route("/entities", get(top_entities::<S>))
        .route("/quotes", get(list_quotes::<S>))
        .route("/healthz", get(healthz::<S>))
        .route("/metrics", get(metrics_text::<S>))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), observe::<S>))
        .with_state(state)
}

/// Serve [`router`] on `listener` until `shutdown` completes, then finish
/// the requests in flight.
pub async fn serve<S: ArticleStore + Clone>(
    listener: tokio::net::TcpListener,
    store: S,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "query API listening");
    }
    axum::serve(listener, router(store))
        .with_graceful_shutdown(shutdown)
        .await
}

/// A failed request: its status and a message for the person who sent it.
#[derive(Debug)]
struct Fail {
    status: StatusCode,
    message: String,
}

/// The JSON body of every error.
#[derive(Debug, Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    status: u16,
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: &self.message,
            status: self.status.as_u16(),
        };
        (self.status, Json(body)).into_response()
    }
}

fn fail(status: StatusCode, message: impl Into<String>) -> Fail {
    Fail {
        status,
        message: message.into(),
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        if e.is_bad_request() {
            // The store's message names the parameter: "bad query: lang `x` is not …".
            let msg = e.to_string();
            return fail(
                StatusCode::BAD_REQUEST,
                msg.strip_prefix("bad query: ").unwrap_or(&msg),
            );
        }
        if e.is_transient() {
            tracing::warn!(error = %e, "store unavailable");
            return fail(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is unavailable; try again",
            );
        }
        tracing::error!(error = %e, "store query failed");
        fail(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }
}

impl From<QueryRejection> for Fail {
    fn from(r: QueryRejection) -> Self {
        fail(StatusCode::BAD_REQUEST, r.body_text())
    }
}

/// Run a store call with the request time limit.
async fn timed<T>(fut: impl Future<Output = Result<T, StoreError>>) -> Result<T, Fail> {
    match tokio::time::timeout(REQUEST_TIMEOUT, fut).await {
        Ok(r) => Ok(r?),
        Err(_) => Err(fail(
            StatusCode::SERVICE_UNAVAILABLE,
            "the query took too long; narrow it",
        )),
    }
}

fn page_limit(limit: Option<u32>) -> Result<u32, Fail> {
    match limit {
        None => Ok(newsflow_store::DEFAULT_LIMIT.min(MAX_PAGE)),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(n) => Err(fail(
            StatusCode::BAD_REQUEST,
            format!("limit {n} is out of range: 1 to {MAX_PAGE}"),
        )),
    }
}

/// Parameters of `GET /articles`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ArticlesParams {
    q: Option<String>,
    lang: Option<String>,
    entity: Option<String>,
    label: Option<String>,
    place: Option<String>,
    country: Option<String>,
    site: Option<String>,
    since: Option<String>,
    until: Option<String>,
    duplicates: Option<Duplicates>,
    sort: Option<Sort>,
    cursor: Option<String>,
    limit: Option<u32>,
}

async fn list_articles<S: ArticleStore + Clone>(
    State(st): State<AppState<S>>,
    params: Result<Query<ArticlesParams>, QueryRejection>,
) -> Result<Response, Fail> {
    let Query(p) = params?;
    let limit = page_limit(p.limit)?;
    let q = ArticleQuery {
        text: p.q,
        lang: p.lang,
        entity: p.entity,
        label: p.label,
        place: p.place,
        country: p.country,
        site: p.site,
        since: p.since,
        until: p.until,
        duplicates: p.duplicates.unwrap_or_default(),
        sort: p.sort,
        cursor: p.cursor,
        limit,
    };
    Ok(Json(timed(st.store.articles(&q)).await?).into_response())
}

fn valid_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

async fn show_article<S: ArticleStore + Clone>(
    State(st): State<AppState<S>>,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    if !valid_id(&id) {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "article id: 1 to 128 letters, digits, `-`, `_`, `.` or `:`",
        ));
    }
    match timed(st.store.article(&id)).await? {
        Some(detail) => Ok(Json(detail).into_response()),
        None => Err(fail(StatusCode::NOT_FOUND, format!("no article {id}"))),
    }
}

/// Parameters of `GET /entities`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntitiesParams {
    label: Option<String>,
    since: Option<String>,
    until: Option<String>,
    lang: Option<String>,
    duplicates: Option<Duplicates>,
    limit: Option<u32>,
}

/// The answer of `GET /entities`.
#[derive(Debug, Serialize)]
struct Items<T> {
    items: Vec<T>,
}

async fn top_entities<S: ArticleStore + Clone>(
    State(st): State<AppState<S>>,
    params: Result<Query<EntitiesParams>, QueryRejection>,
) -> Result<Response, Fail> {
    let Query(p) = params?;
    let limit = page_limit(p.limit)?;
    let q = EntityQuery {
        label: p.label,
        since: p.since,
        until: p.until,
        lang: p.lang,
        duplicates: p.duplicates,
        limit,
    };
    let items = timed(st.store.top_entities(&q)).await?;
    Ok(Json(Items { items }).into_response())
}

/// Parameters of `GET /quotes`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuotesParams {
    speaker: Option<String>,
    since: Option<String>,
    until: Option<String>,
    lang: Option<String>,
    duplicates: Option<Duplicates>,
    cursor: Option<String>,
    limit: Option<u32>,
}

async fn list_quotes<S: ArticleStore + Clone>(
    State(st): State<AppState<S>>,
    params: Result<Query<QuotesParams>, QueryRejection>,
) -> Result<Response, Fail> {
    let Query(p) = params?;
    let limit = page_limit(p.limit)?;
    let q = QuoteQuery {
        speaker: p.speaker,
        since: p.since,
        until: p.until,
        lang: p.lang,
        duplicates: p.duplicates,
        cursor: p.cursor,
        limit,
    };
    Ok(Json(timed(st.store.quotes(&q)).await?).into_response())
}

async fn healthz<S: ArticleStore + Clone>(State(st): State<AppState<S>>) -> Response {
    let backend = st.store.backend().to_string();
    match tokio::time::timeout(Duration::from_secs(5), st.store.ping()).await {
        Ok(Ok(())) => Json(serde_json::json!({"status": "ok", "backend": backend})).into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(
                    serde_json::json!({"status": "unavailable", "backend": backend,
                    "error": "the database does not answer"}),
                ),
            )
                .into_response()
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(
                serde_json::json!({"status": "unavailable", "backend": backend,
                "error": "the database is too slow to answer"}),
            ),
        )
            .into_response(),
    }
}

async fn metrics_text<S: ArticleStore + Clone>(State(st): State<AppState<S>>) -> Response {
    let articles = tokio::time::timeout(Duration::from_secs(5), st.store.count())
        .await
        .ok()
        .and_then(Result::ok);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        st.metrics.render(st.store.backend(), articles),
    )
        .into_response()
}

async fn openapi() -> Response {
    Json(openapi_document()).into_response()
}

async fn not_found() -> Fail {
    fail(
        StatusCode::NOT_FOUND,
        "no such route; see /openapi.json for the API",
    )
}

/// Refuse over-long URLs and count every request by route and status.
async fn observe<S: ArticleStore + Clone>(
    State(st): State<AppState<S>>,
    req: Request,
    next: Next,
) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_string();
    let uri_len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    let started = Instant::now();
    let response = if uri_len > MAX_URI_BYTES {
        fail(
            StatusCode::URI_TOO_LONG,
            format!("the URL is longer than {MAX_URI_BYTES} bytes"),
        )
        .into_response()
    } else {
        next.run(req).await
    };
    st.metrics
        .record(&route, response.status().as_u16(), started.elapsed());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(valid_id("124b7eff03c8c9bb"));
        assert!(valid_id("a1"));
        assert!(!valid_id(""));
        assert!(!valid_id("a b"));
        assert!(!valid_id("x'; DROP"));
        assert!(!valid_id(&"a".repeat(129)));
    }

    #[test]
    fn limits() {
        assert_eq!(page_limit(None).unwrap(), 20);
        assert_eq!(page_limit(Some(100)).unwrap(), 100);
        assert!(page_limit(Some(0)).is_err());
        assert!(page_limit(Some(101)).is_err());
    }
}
