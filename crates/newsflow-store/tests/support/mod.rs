//! What every store test needs: a database on either backend, events built
//! from JSON (so new optional fields of the event types never break them),
//! the seed article and its L'Essor original.

#![allow(dead_code)]

pub mod simhash;

use newsflow_core::{Enriched, Envelope};
use newsflow_store::{AnyStore, Backend, StoreConfig, open_store};
use serde_json::{Value, json};

/// A database for one test: a SQLite file in a temporary directory, or a
/// fresh database on the process's throw-away PostgreSQL cluster.
pub struct TestDb {
    pub cfg: StoreConfig,
    pub backend: Backend,
    pub _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn new(backend: Backend, label: &str) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let cfg = StoreConfig {
                    db: dir.path().join("nested/dir/news.db").display().to_string(),
                    ..StoreConfig::default()
                };
                Self {
                    cfg,
                    backend,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let url = newsflow_store::testing::fresh_pg_database(label)
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL for the tests: {e}"));
                let cfg = StoreConfig {
                    db: url,
                    ..StoreConfig::default()
                };
                Self {
                    cfg,
                    backend,
                    _dir: None,
                }
            }
        }
    }

    /// The SQLite file at `path`, made by the test (an older schema).
    pub fn sqlite_file(path: &std::path::Path) -> Self {
        Self {
            cfg: StoreConfig {
                db: path.display().to_string(),
                ..StoreConfig::default()
            },
            backend: Backend::Sqlite,
            _dir: None,
        }
    }

    pub async fn open(&self) -> AnyStore {
        let store = open_store(&self.cfg).await.unwrap();
        assert_eq!(store_backend(&store), self.backend);
        store
    }
}

fn store_backend(s: &AnyStore) -> Backend {
    use newsflow_store::ArticleStore as _;
    s.backend()
}

/// An entity mention as JSON.
pub fn ent(text: &str, start: usize, label: &str, canonical: &str) -> Value {
    json!({
        "start": start,
        "end": start + text.chars().count(),
        "label": label,
        "text": text,
        "canonical": canonical,
    })
}

/// A geocoded place mention.
pub fn place(text: &str, start: usize, canonical: &str, cc: &str, lat: f64, lon: f64) -> Value {
    let mut e = ent(text, start, "LOC", canonical);
    e["geo"] = json!({
        "geonames_id": 2453866, "lat": lat, "lon": lon, "country_code": cc, "kind": "country"
    });
    e
}

pub fn quote(speaker: Option<&str>, text: &str, start: usize) -> Value {
    json!({ "start": start, "end": start + text.chars().count(), "speaker": speaker, "text": text })
}

/// Builder of a test event.
#[derive(Clone)]
pub struct Ev {
    pub v: Value,
}

impl Ev {
    pub fn new(id: &str, title: &str, body: &str, lang: &str, published: &str) -> Self {
        let v = json!({
            "type": "enriched",
            "version": 1,
            "article_id": id,
            "trace_id": format!("trace-{id}"),
            "time": "2025-06-26T08:00:00.000001Z",
            "data": {
                "article": {
                    "url": format!("https://example.org/{id}"),
                    "title": title,
                    "published": published,
                    "site_name": "example.org",
                    "authors": ["Oumar Diop"],
                    "body_text": body,
                },
                "enrichment": {
                    "lang": lang,
                    "lang_confidence": 1.0,
                    "entities": [],
                }
            }
        });
        Self { v }
    }
    pub fn entities(mut self, e: Vec<Value>) -> Self {
        self.v["data"]["enrichment"]["entities"] = Value::Array(e);
        self
    }
    pub fn quotes(mut self, q: Vec<Value>) -> Self {
        self.v["data"]["enrichment"]["quotes"] = Value::Array(q);
        self
    }
    pub fn site(mut self, url: &str, name: &str) -> Self {
        self.v["data"]["article"]["url"] = json!(url);
        self.v["data"]["article"]["site_name"] = json!(name);
        self
    }
    pub fn time(mut self, rfc3339: &str) -> Self {
        self.v["time"] = json!(rfc3339);
        self
    }
    pub fn fingerprint(mut self, fp: &str) -> Self {
        self.v["data"]["enrichment"]["fingerprint"] = json!(fp);
        self
    }
    pub fn set(mut self, pointer: &str, value: Value) -> Self {
        *self
            .v
            .pointer_mut(pointer)
            .unwrap_or_else(|| panic!("{pointer}")) = value;
        self
    }
    pub fn build(&self) -> Envelope<Enriched> {
        serde_json::from_value(self.v.clone()).unwrap()
    }
}

/// The seed: the abamako.com republication of an L'Essor article. Its
/// fingerprint is recomputed with our test SimHash (whatever the enrich
/// stage wrote in `seeds/expected`), so that it and its edited copy below
/// are fingerprinted the same way.
pub fn seed() -> Envelope<Enriched> {
    let text = include_str!("../../../../seeds/expected/enriched.json");
    let mut ev: Envelope<Enriched> = serde_json::from_str(text).unwrap();
    ev.data.enrichment.fingerprint = Some(simhash::simhash(&ev.data.article.body_text));
    ev
}

/// The L'Essor original of the seed: another URL and publisher, the same
/// day, lightly edited (a few words differ), its own fingerprint.
pub fn lessor_original() -> Envelope<Enriched> {
    let mut ev = seed();
    let a = &mut ev.data.article;
    a.url = "https://www.lessor.site/article/le-ministre-sadio-camara-sur-le-partenariat-militaire"
        .into();
    a.canonical_url = Some(a.url.clone());
    a.site_name = Some("L'Essor".into());
    a.original_publisher = None;
    a.image = None;
    a.body_text = a
        .body_text
        .replace("Le lundi 23 juin", "Lundi 23 juin")
        .replace("prépondérante", "importante")
        .replace("déjà bien ancrée", "bien ancrée");
    ev.article_id = newsflow_core::article_id(&newsflow_core::normalize_url(&a.url).unwrap());
    ev.trace_id = "1111111111111111".into();
    ev.data.enrichment.fingerprint = Some(simhash::simhash(&ev.data.article.body_text));
    ev
}
