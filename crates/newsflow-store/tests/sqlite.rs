//! The SQLite store against a real database file.

use chrono::Duration;
use newsflow_core::{
    Article, Enriched, Enrichment, Entity, EntityLabel, Envelope, Stage, StageError,
};
use newsflow_store::{
    ArticleStore, SearchQuery, SqliteStore, StoreConfig, StoreError, StoreStage, UpsertOutcome,
};

fn config(dir: &tempfile::TempDir) -> StoreConfig {
    StoreConfig {
        db: dir.path().join("nested/dir/news.db").display().to_string(),
        ..StoreConfig::default()
    }
}

fn entity(text: &str, start: usize, label: EntityLabel, canonical: &str) -> Entity {
    Entity {
        start,
        end: start + text.chars().count(),
        label,
        text: text.into(),
        canonical: canonical.into(),
        geo: None,
    }
}

fn event(
    id: &str,
    title: &str,
    body: &str,
    lang: &str,
    published: &str,
    entities: Vec<Entity>,
) -> Envelope<Enriched> {
    let article = Article {
        url: format!("https://example.org/{id}"),
        title: Some(title.into()),
        published: Some(published.into()),
        site_name: Some("example.org".into()),
        authors: vec!["Oumar Diop".into()],
        body_text: body.into(),
        ..Article::default()
    };
    let enrichment = Enrichment {
        lang: lang.into(),
        lang_confidence: 1.0,
        entities,
        ..Enrichment::default()
    };
    Envelope::new(
        id,
        format!("trace-{id}"),
        Enriched {
            article,
            enrichment,
        },
    )
}

fn q() -> SearchQuery {
    SearchQuery {
        limit: 50,
        ..SearchQuery::default()
    }
}

async fn entity_rows(cfg: &StoreConfig, id: &str) -> i64 {
    // A second, independent view of the file: what a reader would see.
    let path = SqliteStore::path_of(cfg).unwrap();
    let url = format!("sqlite://{}", path.display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM entities WHERE article_id = ?")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

async fn seeded(dir: &tempfile::TempDir) -> SqliteStore {
    let store = SqliteStore::open(&config(dir)).await.unwrap();
    let docs = [
        event(
            "a1",
            "Électrification rurale au Mali",
            "Le président de la Transition, le Général d’armée Assimi Goïta, a lancé le projet à Bamako.",
            "fr",
            "2025-06-25",
            vec![
                entity("Mali", 26, EntityLabel::LOC, "Mali"),
                entity("Assimi Goïta", 48, EntityLabel::PER, "Assimi Goïta"),
            ],
        ),
        event(
            "a2",
            "Sadio Camara à Moscou",
            "Le ministre Sadio Camara a rencontré son homologue André Beloosov. Camara a salué la coopération.",
            "fr",
            "2025-06-23T10:00:00+00:00",
            vec![
                entity("Sadio Camara", 12, EntityLabel::PER, "Sadio Camara"),
                entity("André Beloosov", 51, EntityLabel::PER, "André Beloosov"),
                entity("Camara", 67, EntityLabel::PER, "Sadio Camara"),
            ],
        ),
        event(
            "a3",
            "Ghana signs power deal",
            "Accra signed an electrification deal with the World Bank on Monday.",
            "en",
            "2024-12-01",
            vec![entity("World Bank", 44, EntityLabel::ORG, "World Bank")],
        ),
    ];
    for d in &docs {
        assert_eq!(store.upsert(d).await.unwrap(), UpsertOutcome::Inserted);
    }
    store
}

fn ids(results: &[newsflow_store::ArticleSummary]) -> Vec<&str> {
    let mut v: Vec<&str> = results.iter().map(|r| r.article_id.as_str()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let first = SqliteStore::open(&config(&dir)).await.unwrap();
    first
        .upsert(&event("x", "t", "b", "fr", "2025-01-01", vec![]))
        .await
        .unwrap();
    first.close().await;
    let second = SqliteStore::open(&config(&dir)).await.unwrap();
    assert_eq!(second.applied_migrations().await.unwrap(), vec![1]);
    assert_eq!(second.count().await.unwrap(), 1);
}

#[tokio::test]
async fn postgres_is_refused_clearly() {
    let cfg = StoreConfig {
        db: "postgres://u:p@localhost/newsflow".into(),
        ..StoreConfig::default()
    };
    let err = SqliteStore::open(&cfg).await.unwrap_err();
    assert!(matches!(err, StoreError::Unsupported(_)));
    assert!(err.to_string().contains("not supported yet"), "{err}");
    assert!(!err.is_transient());
}

#[tokio::test]
async fn upsert_is_idempotent_and_reenrichment_replaces_entities() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&dir);
    let store = SqliteStore::open(&cfg).await.unwrap();
    let ev = event(
        "a1",
        "Titre",
        "Sadio Camara à Bamako.",
        "fr",
        "2025-06-25",
        vec![
            entity("Sadio Camara", 0, EntityLabel::PER, "Sadio Camara"),
            entity("Bamako", 15, EntityLabel::LOC, "Bamako"),
        ],
    );
    assert_eq!(store.upsert(&ev).await.unwrap(), UpsertOutcome::Inserted);
    // A redelivery of the same event.
    assert_eq!(store.upsert(&ev).await.unwrap(), UpsertOutcome::Updated);
    assert_eq!(store.count().await.unwrap(), 1);
    assert_eq!(entity_rows(&cfg, "a1").await, 2);
    assert_eq!(
        store
            .search(&SearchQuery {
                text: Some("Bamako".into()),
                ..q()
            })
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.get("a1").await.unwrap().unwrap(), ev);

    // Re-enriched later: one entity only, and new body text.
    let mut newer = ev.clone();
    newer.time = ev.time + Duration::seconds(5);
    newer.data.article.body_text = "Sadio Camara à Kati.".into();
    newer.data.enrichment.entities =
        vec![entity("Sadio Camara", 0, EntityLabel::PER, "Sadio Camara")];
    assert_eq!(store.upsert(&newer).await.unwrap(), UpsertOutcome::Updated);
    assert_eq!(entity_rows(&cfg, "a1").await, 1);
    assert!(
        store
            .search(&SearchQuery {
                text: Some("Bamako".into()),
                ..q()
            })
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .search(&SearchQuery {
                text: Some("Kati".into()),
                ..q()
            })
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .search(&SearchQuery {
                entity: Some("Bamako".into()),
                ..q()
            })
            .await
            .unwrap()
            .is_empty()
    );

    // The old event redelivered after the new one changes nothing.
    assert_eq!(store.upsert(&ev).await.unwrap(), UpsertOutcome::Stale);
    assert_eq!(store.get("a1").await.unwrap().unwrap(), newer);
    assert_eq!(entity_rows(&cfg, "a1").await, 1);
}

#[tokio::test]
async fn search_folds_accents_and_case() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(&dir).await;
    let hits = store
        .search(&SearchQuery {
            text: Some("electrification".into()),
            ..q()
        })
        .await
        .unwrap();
    assert_eq!(ids(&hits), vec!["a1", "a3"]);
    let hits = store
        .search(&SearchQuery {
            text: Some("Goita".into()),
            ..q()
        })
        .await
        .unwrap();
    assert_eq!(ids(&hits), vec!["a1"]);
    assert!(hits[0].snippet.contains("Goïta"), "{:?}", hits[0].snippet);
    assert_eq!(
        hits[0].title.as_deref(),
        Some("Électrification rurale au Mali")
    );
    assert_eq!(hits[0].url, "https://example.org/a1");
    // Every word must occur.
    let hits = store
        .search(&SearchQuery {
            text: Some("électrification Goïta".into()),
            ..q()
        })
        .await
        .unwrap();
    assert_eq!(ids(&hits), vec!["a1"]);
}

#[tokio::test]
async fn search_by_entity_lang_and_since() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(&dir).await;
    let by_entity = |e: &str| SearchQuery {
        entity: Some(e.into()),
        ..q()
    };
    assert_eq!(
        ids(&store.search(&by_entity("Sadio Camara")).await.unwrap()),
        vec!["a2"]
    );
    assert_eq!(
        ids(&store.search(&by_entity("sadio camara")).await.unwrap()),
        vec!["a2"]
    );
    assert_eq!(
        ids(&store.search(&by_entity("world bank")).await.unwrap()),
        vec!["a3"]
    );
    assert!(store.search(&by_entity("Wagner")).await.unwrap().is_empty());

    let fr = store
        .search(&SearchQuery {
            lang: Some("fr".into()),
            ..q()
        })
        .await
        .unwrap();
    assert_eq!(ids(&fr), vec!["a1", "a2"]);
    // Newest first without a text query.
    assert_eq!(fr[0].article_id, "a1");
    let en = store
        .search(&SearchQuery {
            lang: Some("en".into()),
            ..q()
        })
        .await
        .unwrap();
    assert_eq!(ids(&en), vec!["a3"]);

    let since = |d: &str| SearchQuery {
        since: Some(d.into()),
        ..q()
    };
    assert_eq!(
        ids(&store.search(&since("2025-01-01")).await.unwrap()),
        vec!["a1", "a2"]
    );
    assert_eq!(
        ids(&store.search(&since("2025-06-24")).await.unwrap()),
        vec!["a1"]
    );
    assert_eq!(
        ids(&store.search(&since("2025-06-23")).await.unwrap()),
        vec!["a1", "a2"]
    );
    assert!(matches!(
        store.search(&since("yesterday")).await,
        Err(StoreError::Query(_))
    ));

    // Filters combine.
    let combined = SearchQuery {
        text: Some("electrification".into()),
        lang: Some("fr".into()),
        since: Some("2025-01-01".into()),
        ..q()
    };
    assert_eq!(ids(&store.search(&combined).await.unwrap()), vec!["a1"]);
    let limited = store
        .search(&SearchQuery {
            limit: 1,
            ..SearchQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(limited.len(), 1);
}

#[tokio::test]
async fn hostile_query_text_never_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(&dir).await;
    for text in [
        "\"",
        "\"\"",
        "*",
        "Mali*",
        "NEAR(",
        "NEAR(Mali Bamako, 2)",
        "'; DROP TABLE articles; --",
        "title:Mali",
        "Mali OR",
        "AND",
        "(",
        ")",
        "-Mali",
        "^Mali",
        "{title body}: Mali",
        "\u{0}",
        "   ",
    ] {
        let res = store
            .search(&SearchQuery {
                text: Some(text.into()),
                ..q()
            })
            .await;
        assert!(res.is_ok(), "{text:?}: {res:?}");
        let res = store
            .search(&SearchQuery {
                entity: Some(text.into()),
                lang: Some(text.into()),
                ..q()
            })
            .await;
        assert!(res.is_ok(), "{text:?}: {res:?}");
    }
    // The words themselves are still searched.
    let hits = store
        .search(&SearchQuery {
            text: Some("NEAR(Mali".into()),
            ..q()
        })
        .await
        .unwrap();
    assert!(hits.is_empty() || ids(&hits) == vec!["a1"]);
    assert_eq!(store.count().await.unwrap(), 3, "tables intact");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_upserts_from_two_handles_do_not_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&dir);
    // Open both handles at once: migrations must not race either.
    let (a, b) = tokio::join!(SqliteStore::open(&cfg), SqliteStore::open(&cfg));
    let (a, b) = (a.unwrap(), b.unwrap());
    let events: Vec<_> = (0..40)
        .map(|i| {
            let id = format!("n{}", i % 20);
            event(
                &id,
                "Titre",
                "Sadio Camara à Bamako.",
                "fr",
                "2025-06-25",
                vec![
                    entity("Sadio Camara", 0, EntityLabel::PER, "Sadio Camara"),
                    entity("Bamako", 15, EntityLabel::LOC, "Bamako"),
                ],
            )
        })
        .collect();
    let run = |store: SqliteStore, events: Vec<Envelope<Enriched>>| {
        tokio::spawn(async move {
            for e in &events {
                store.upsert(e).await.unwrap();
            }
        })
    };
    let mut reversed = events.clone();
    reversed.reverse();
    let (r1, r2) = tokio::join!(run(a.clone(), events), run(b.clone(), reversed));
    r1.unwrap();
    r2.unwrap();
    assert_eq!(a.count().await.unwrap(), 20);
    assert_eq!(b.count().await.unwrap(), 20);
    for i in 0..20 {
        assert_eq!(entity_rows(&cfg, &format!("n{i}")).await, 2);
    }
    let hits = a
        .search(&SearchQuery {
            text: Some("Bamako".into()),
            ..q()
        })
        .await
        .unwrap();
    assert_eq!(hits.len(), 20, "one index row per article");
}

#[tokio::test]
async fn stage_stores_and_classifies_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&config(&dir)).await.unwrap();
    let stage = StoreStage::new(store.clone());
    let ev = event("s1", "T", "Body", "fr", "2025-06-25", vec![]);
    assert!(stage.handle(ev.clone()).await.unwrap().is_empty());
    assert!(stage.handle(ev).await.unwrap().is_empty());
    assert_eq!(store.count().await.unwrap(), 1);

    // A closed pool is transient: retry, not dead-letter.
    store.close().await;
    let err = stage
        .handle(event("s2", "T", "Body", "fr", "2025-06-25", vec![]))
        .await
        .unwrap_err();
    assert!(matches!(err, StageError::Retry { .. }), "{err:?}");
    assert_eq!(err.kind(), "db");
}

#[test]
fn config_defaults_and_rejects_unknown_fields() {
    let c: StoreConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(c.db, "data/newsflow.db");
    assert!(c.max_connections >= 1);
    assert!(serde_json::from_str::<StoreConfig>(r#"{"database":"x"}"#).is_err());
}
