//! The store's behaviour, the same tests on both backends: a SQLite file,
//! and a real PostgreSQL (a throw-away cluster this process starts with
//! `initdb` + `pg_ctl`; see `newsflow_store::testing`).

mod support;

use std::collections::HashSet;

use newsflow_core::{Enriched, Envelope, Stage, StageError};
use newsflow_store::{
    AnyStore, ArticleQuery, ArticleStore, ArticleSummary, Backend, Duplicates, EntityQuery,
    QuoteQuery, SearchQuery, Sort, StoreConfig, StoreError, StoreStage, UpsertOutcome, open_store,
};
use serde_json::json;
use support::{Ev, TestDb, ent, lessor_original, place, quote, seed};

/// Run each listed test against both backends: `sqlite::name` and
/// `postgres::name`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(newsflow_store::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(newsflow_store::Backend::Postgres).await
                }
            )*
        }
    };
}

on_both_backends!(
    migrations_are_idempotent_and_concurrent_opens_are_safe,
    upsert_is_idempotent_and_reenrichment_replaces_derived_rows,
    search_folds_accents_and_case,
    filters_combine,
    hostile_query_text_never_errors,
    concurrent_upserts_from_two_handles_do_not_duplicate,
    concurrent_versions_never_lose_the_newest,
    pagination_by_cursor_visits_every_article_once,
    the_seed_is_found_by_text_entity_and_place,
    syndicated_copies_are_linked_whichever_arrives_first,
    copies_stored_concurrently_by_two_replicas_are_linked,
    clusters_merge_and_the_threshold_is_tunable,
    top_entities_and_quotes,
    top_entities_of_a_period_count_like_every_article_of_it,
    text_searches_read_the_same_with_and_without_statistics,
    batch_upserts_report_each_outcome,
    stage_stores_and_classifies_errors,
    the_stage_group_commits_and_isolates_a_refused_event,
);

fn q() -> ArticleQuery {
    ArticleQuery {
        limit: 50,
        ..ArticleQuery::default()
    }
}

fn ids(results: &[ArticleSummary]) -> Vec<&str> {
    let mut v: Vec<&str> = results.iter().map(|r| r.article_id.as_str()).collect();
    v.sort();
    v
}

async fn list(store: &AnyStore, query: ArticleQuery) -> Vec<ArticleSummary> {
    store.articles(&query).await.unwrap().items
}

async fn entity_count(store: &AnyStore, id: &str) -> usize {
    store.article(id).await.unwrap().unwrap().entities.len()
}

async fn seeded(db: &TestDb) -> AnyStore {
    let store = db.open().await;
    let docs = [
        Ev::new(
            "a1",
            "Électrification rurale au Mali",
            "Le président de la Transition, le Général d’armée Assimi Goïta, a lancé le projet à Bamako.",
            "fr",
            "2025-06-25",
        )
        .entities(vec![
            place("Mali", 26, "Mali", "ML", 17.0, -4.0),
            ent("Assimi Goïta", 48, "PER", "Assimi Goïta"),
            ent("Bamako", 82, "LOC", "Bamako"),
        ])
        .site("https://www.abamako.com/a1", "aBamako"),
        Ev::new(
            "a2",
            "Sadio Camara à Moscou",
            "Le ministre Sadio Camara a rencontré son homologue André Beloosov. Camara a salué la coopération.",
            "fr",
            "2025-06-23T10:00:00+00:00",
        )
        .entities(vec![
            ent("Sadio Camara", 12, "PER", "Sadio Camara"),
            ent("André Beloosov", 51, "PER", "André Beloosov"),
            ent("Camara", 67, "PER", "Sadio Camara"),
            ent("Moscou", 0, "LOC", "Moscou"),
        ])
        .site("https://news.lessor.site/a2", "L'Essor"),
        Ev::new(
            "a3",
            "Ghana signs power deal",
            "Accra signed an electrification deal with the World Bank on Monday.",
            "en",
            "2024-12-01",
        )
        .entities(vec![
            ent("World Bank", 44, "ORG", "World Bank"),
            place("Accra", 0, "Accra", "GH", 5.6, -0.2),
        ]),
    ];
    for d in &docs {
        assert_eq!(
            store.upsert(&d.build()).await.unwrap(),
            UpsertOutcome::Inserted
        );
    }
    store
}

async fn applied(store: &AnyStore) -> Vec<i64> {
    match store {
        AnyStore::Sqlite(s) => s.applied_migrations().await.unwrap(),
        AnyStore::Postgres(s) => s.applied_migrations().await.unwrap(),
    }
}

async fn migrations_are_idempotent_and_concurrent_opens_are_safe(b: Backend) {
    let db = TestDb::new(b, "migrations").await;
    // Two handles opening a new database at once: each migration once.
    let (first, other) = tokio::join!(open_store(&db.cfg), open_store(&db.cfg));
    let (first, other) = (first.unwrap(), other.unwrap());
    first
        .upsert(&Ev::new("x", "t", "b", "fr", "2025-01-01").build())
        .await
        .unwrap();
    let versions = applied(&first).await;
    first.close().await;
    other.close().await;
    let again = db.open().await;
    assert_eq!(applied(&again).await, versions);
    assert!(!versions.is_empty());
    assert_eq!(again.count().await.unwrap(), 1);
    again.ping().await.unwrap();
}

async fn upsert_is_idempotent_and_reenrichment_replaces_derived_rows(b: Backend) {
    let db = TestDb::new(b, "upsert").await;
    let store = db.open().await;
    let base = Ev::new(
        "a1",
        "Titre",
        "Sadio Camara à Bamako. « Nous avançons », a dit Camara.",
        "fr",
        "2025-06-25",
    )
    .entities(vec![
        ent("Sadio Camara", 0, "PER", "Sadio Camara"),
        ent("Bamako", 15, "LOC", "Bamako"),
        ent("Camara", 48, "PER", "Sadio Camara"),
    ])
    .quotes(vec![quote(Some("Sadio Camara"), "Nous avançons", 25)]);
    let ev = base.build();
    assert_eq!(store.upsert(&ev).await.unwrap(), UpsertOutcome::Inserted);
    // A redelivery of the same event.
    assert_eq!(store.upsert(&ev).await.unwrap(), UpsertOutcome::Updated);
    assert_eq!(store.count().await.unwrap(), 1);
    let detail = store.article("a1").await.unwrap().unwrap();
    assert_eq!(detail.entities.len(), 2);
    let camara = detail
        .entities
        .iter()
        .find(|e| e.canonical == "Sadio Camara")
        .unwrap();
    assert_eq!(camara.mentions, 2);
    assert_eq!(camara.aliases, vec!["Camara"]);
    assert_eq!(detail.places.len(), 1);
    assert_eq!(detail.quotes.len(), 1);
    assert_eq!(detail.quotes[0].speaker.as_deref(), Some("Sadio Camara"));
    assert_eq!(store.get("a1").await.unwrap().unwrap(), ev);
    let first_stored = detail.first_stored_at;

    // Re-enriched later: one entity, no quote, a new body.
    let newer = base
        .clone()
        .time("2025-06-26T09:00:00Z")
        .set("/data/article/body_text", json!("Sadio Camara à Kati."))
        .entities(vec![ent("Sadio Camara", 0, "PER", "Sadio Camara")])
        .quotes(vec![])
        .build();
    assert_eq!(store.upsert(&newer).await.unwrap(), UpsertOutcome::Updated);
    let detail = store.article("a1").await.unwrap().unwrap();
    assert_eq!(detail.entities.len(), 1);
    assert!(detail.places.is_empty() && detail.quotes.is_empty());
    assert_eq!(detail.first_stored_at, first_stored, "first seen is kept");
    assert!(detail.stored_at >= first_stored);
    let text = |t: &str| ArticleQuery {
        text: Some(t.into()),
        ..q()
    };
    assert!(list(&store, text("Bamako")).await.is_empty());
    assert_eq!(list(&store, text("Kati")).await.len(), 1);
    let entity = |e: &str| ArticleQuery {
        entity: Some(e.into()),
        ..q()
    };
    assert!(list(&store, entity("Bamako")).await.is_empty());
    assert!(
        list(
            &store,
            ArticleQuery {
                place: Some("Bamako".into()),
                ..q()
            }
        )
        .await
        .is_empty()
    );
    assert!(
        store
            .quotes(&QuoteQuery::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );

    // The old event redelivered after the new one changes nothing.
    assert_eq!(store.upsert(&ev).await.unwrap(), UpsertOutcome::Stale);
    assert_eq!(store.get("a1").await.unwrap().unwrap(), newer);
    assert_eq!(entity_count(&store, "a1").await, 1);
    fts_integrity(&db).await;
    assert!(store.article("nope").await.unwrap().is_none());
    assert!(store.get("nope").await.unwrap().is_none());
}

async fn search_folds_accents_and_case(b: Backend) {
    let db = TestDb::new(b, "fold").await;
    let store = seeded(&db).await;
    let text = |t: &str| SearchQuery {
        text: Some(t.into()),
        limit: 50,
        ..SearchQuery::default()
    };
    let hits = store.search(&text("electrification")).await.unwrap();
    assert_eq!(ids(&hits), vec!["a1", "a3"]);
    let hits = store.search(&text("GOITA")).await.unwrap();
    assert_eq!(ids(&hits), vec!["a1"]);
    assert!(hits[0].snippet.contains("Goïta"), "{:?}", hits[0].snippet);
    assert_eq!(
        hits[0].title.as_deref(),
        Some("Électrification rurale au Mali")
    );
    assert_eq!(hits[0].url, "https://www.abamako.com/a1");
    // Every word must occur.
    let hits = store.search(&text("électrification Goïta")).await.unwrap();
    assert_eq!(ids(&hits), vec!["a1"]);
    // Title words weigh more than body words: a title hit ranks first.
    let hits = store.search(&text("Camara")).await.unwrap();
    assert_eq!(ids(&hits), vec!["a2"]);
    // Entity names fold too.
    let by_entity = |e: &str| SearchQuery {
        entity: Some(e.into()),
        ..SearchQuery::default()
    };
    assert_eq!(
        ids(&store.search(&by_entity("assimi goita")).await.unwrap()),
        vec!["a1"]
    );
    assert_eq!(
        ids(&store.search(&by_entity("SADIO CAMARA")).await.unwrap()),
        vec!["a2"]
    );
    // By a mention's text, not only the canonical name.
    assert_eq!(
        ids(&store.search(&by_entity("camara")).await.unwrap()),
        vec!["a2"]
    );
    assert!(store.search(&by_entity("Wagner")).await.unwrap().is_empty());
}

async fn filters_combine(b: Backend) {
    let db = TestDb::new(b, "filters").await;
    let store = seeded(&db).await;
    let fr = list(
        &store,
        ArticleQuery {
            lang: Some("fr".into()),
            ..q()
        },
    )
    .await;
    assert_eq!(ids(&fr), vec!["a1", "a2"]);
    // Newest first without words.
    assert_eq!(fr[0].article_id, "a1");
    assert_eq!(
        ids(&list(
            &store,
            ArticleQuery {
                lang: Some("EN".into()),
                ..q()
            }
        )
        .await),
        vec!["a3"]
    );

    let since = |d: &str| ArticleQuery {
        since: Some(d.into()),
        ..q()
    };
    assert_eq!(
        ids(&list(&store, since("2025-01-01")).await),
        vec!["a1", "a2"]
    );
    assert_eq!(ids(&list(&store, since("2025-06-24")).await), vec!["a1"]);
    assert_eq!(
        ids(&list(&store, since("2025-06-23")).await),
        vec!["a1", "a2"]
    );
    assert_eq!(
        ids(&list(&store, since("2025-06-23T10:00:01Z")).await),
        vec!["a1"]
    );
    let until = |d: &str| ArticleQuery {
        until: Some(d.into()),
        ..q()
    };
    assert_eq!(
        ids(&list(&store, until("2025-06-23")).await),
        vec!["a2", "a3"]
    );
    assert_eq!(ids(&list(&store, until("2025-06-22")).await), vec!["a3"]);
    assert!(matches!(
        store.articles(&since("yesterday")).await,
        Err(StoreError::Query(_))
    ));

    let label = |l: &str, e: Option<&str>| ArticleQuery {
        label: Some(l.into()),
        entity: e.map(Into::into),
        ..q()
    };
    assert_eq!(ids(&list(&store, label("ORG", None)).await), vec!["a3"]);
    assert_eq!(
        ids(&list(&store, label("PER", Some("Sadio Camara"))).await),
        vec!["a2"]
    );
    assert!(
        list(&store, label("ORG", Some("Sadio Camara")))
            .await
            .is_empty()
    );

    let place = |p: &str| ArticleQuery {
        place: Some(p.into()),
        ..q()
    };
    assert_eq!(ids(&list(&store, place("mali")).await), vec!["a1"]);
    assert_eq!(
        ids(&list(&store, place("Moscou")).await),
        vec!["a2"],
        "places need no geocoding"
    );
    let country = |c: &str| ArticleQuery {
        country: Some(c.into()),
        ..q()
    };
    assert_eq!(ids(&list(&store, country("ml")).await), vec!["a1"]);
    assert_eq!(ids(&list(&store, country("GH")).await), vec!["a3"]);
    assert!(list(&store, country("RU")).await.is_empty());

    let site = |s: &str| ArticleQuery {
        site: Some(s.into()),
        ..q()
    };
    assert_eq!(ids(&list(&store, site("abamako.com")).await), vec!["a1"]);
    assert_eq!(
        ids(&list(&store, site("https://www.abamako.com/x")).await),
        vec!["a1"]
    );
    assert_eq!(
        ids(&list(&store, site("lessor.site")).await),
        vec!["a2"],
        "subdomains"
    );
    assert_eq!(
        ids(&list(&store, site("l’essor")).await),
        vec!["a2"],
        "by name"
    );
    assert!(list(&store, site("essor.site")).await.is_empty());

    let combined = ArticleQuery {
        text: Some("electrification".into()),
        lang: Some("fr".into()),
        since: Some("2025-01-01".into()),
        until: Some("2025-12-31".into()),
        place: Some("Mali".into()),
        entity: Some("Assimi Goïta".into()),
        site: Some("abamako.com".into()),
        duplicates: Duplicates::Exclude,
        ..q()
    };
    assert_eq!(ids(&list(&store, combined).await), vec!["a1"]);
    let limited = list(
        &store,
        ArticleQuery {
            limit: 1,
            ..ArticleQuery::default()
        },
    )
    .await;
    assert_eq!(limited.len(), 1);
    // Invalid filters are refused, not ignored.
    for bad in [
        ArticleQuery {
            lang: Some("français".into()),
            ..q()
        },
        ArticleQuery {
            label: Some("PERSON".into()),
            ..q()
        },
        ArticleQuery {
            country: Some("Mali".into()),
            ..q()
        },
        ArticleQuery {
            sort: Some(Sort::Relevance),
            ..q()
        },
        ArticleQuery {
            cursor: Some("garbage".into()),
            ..q()
        },
    ] {
        let err = store.articles(&bad).await.unwrap_err();
        assert!(err.is_bad_request(), "{bad:?}: {err}");
    }
}

async fn hostile_query_text_never_errors(b: Backend) {
    let db = TestDb::new(b, "hostile").await;
    let store = seeded(&db).await;
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
        "   ",
        "!",
        "Mali & Bamako | !Accra",
        "Mali:*",
        "'",
        "\\",
        "%",
        "_",
        "le la les",
    ] {
        let res = store
            .articles(&ArticleQuery {
                text: Some(text.into()),
                ..q()
            })
            .await;
        assert!(res.is_ok(), "{text:?}: {res:?}");
        let res = store
            .articles(&ArticleQuery {
                entity: Some(text.into()),
                place: Some(text.into()),
                site: Some(text.into()),
                ..q()
            })
            .await;
        assert!(res.is_ok(), "{text:?}: {res:?}");
        let res = store
            .quotes(&QuoteQuery {
                speaker: Some(text.into()),
                ..QuoteQuery::default()
            })
            .await;
        assert!(res.is_ok(), "{text:?}: {res:?}");
    }
    // The words themselves are still searched.
    let hits = list(
        &store,
        ArticleQuery {
            text: Some("NEAR(Mali".into()),
            ..q()
        },
    )
    .await;
    assert!(hits.is_empty() || ids(&hits) == vec!["a1"]);
    let hits = list(
        &store,
        ArticleQuery {
            text: Some("'; DROP TABLE".into()),
            ..q()
        },
    )
    .await;
    assert!(hits.is_empty());
    // A `%` in a site filter is not a wildcard.
    assert!(
        list(
            &store,
            ArticleQuery {
                site: Some("%".into()),
                ..q()
            }
        )
        .await
        .is_empty()
    );
    assert_eq!(store.count().await.unwrap(), 3, "tables intact");
}

/// SQLite's own check of its full-text index (entries replaced with the
/// 'delete' command must have left it consistent). Nothing to check on
/// PostgreSQL, whose index is maintained by the server.
async fn fts_integrity(db: &TestDb) {
    if db.backend != Backend::Sqlite {
        return;
    }
    let path = newsflow_store::SqliteStore::path_of(&db.cfg).unwrap();
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

fn camara_event(id: &str, time: &str, body: &str) -> Envelope<Enriched> {
    Ev::new(id, "Titre", body, "fr", "2025-06-25")
        .time(time)
        .entities(vec![
            ent("Sadio Camara", 0, "PER", "Sadio Camara"),
            ent("Bamako", 15, "LOC", "Bamako"),
        ])
        .quotes(vec![quote(Some("Sadio Camara"), "Bamako", 15)])
        .build()
}

async fn concurrent_upserts_from_two_handles_do_not_duplicate(b: Backend) {
    let db = TestDb::new(b, "concurrent").await;
    let (a, c) = tokio::join!(open_store(&db.cfg), open_store(&db.cfg));
    let (a, c) = (a.unwrap(), c.unwrap());
    let events: Vec<_> = (0..40)
        .map(|i| {
            camara_event(
                &format!("n{}", i % 20),
                "2025-06-26T08:00:00Z",
                "Sadio Camara à Bamako.",
            )
        })
        .collect();
    let run = |store: AnyStore, events: Vec<Envelope<Enriched>>| {
        tokio::spawn(async move {
            for e in &events {
                store.upsert(e).await.unwrap();
            }
        })
    };
    let mut reversed = events.clone();
    reversed.reverse();
    let (r1, r2) = tokio::join!(run(a.clone(), events), run(c.clone(), reversed));
    r1.unwrap();
    r2.unwrap();
    assert_eq!(a.count().await.unwrap(), 20);
    assert_eq!(c.count().await.unwrap(), 20);
    for i in 0..20 {
        let d = a.article(&format!("n{i}")).await.unwrap().unwrap();
        assert_eq!(d.entities.len(), 2);
        assert_eq!(d.quotes.len(), 1);
        assert_eq!(d.places.len(), 1);
    }
    let hits = list(
        &a,
        ArticleQuery {
            text: Some("Bamako".into()),
            ..q()
        },
    )
    .await;
    assert_eq!(hits.len(), 20, "one index entry per article");
    let hits = list(
        &a,
        ArticleQuery {
            entity: Some("Sadio Camara".into()),
            ..q()
        },
    )
    .await;
    assert_eq!(hits.len(), 20);
    let quotes = a
        .quotes(&QuoteQuery {
            speaker: Some("Camara".into()),
            limit: 100,
            ..QuoteQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(quotes.items.len(), 20);
}

async fn concurrent_versions_never_lose_the_newest(b: Backend) {
    // Two replicas receive versions 0..8 of the same ten articles in
    // opposite orders: whatever the interleaving, each article ends at
    // its newest version, with that version's derived rows only.
    let db = TestDb::new(b, "versions").await;
    let (a, c) = tokio::join!(open_store(&db.cfg), open_store(&db.cfg));
    let (a, c) = (a.unwrap(), c.unwrap());
    let versions = 8;
    let events: Vec<_> = (0..versions)
        .flat_map(|v| {
            (0..10).map(move |i| {
                camara_event(
                    &format!("v{i}"),
                    &format!("2025-06-26T08:00:0{v}Z"),
                    &format!("Sadio Camara à Bamako, version{v}."),
                )
            })
        })
        .collect();
    let run = |store: AnyStore, events: Vec<Envelope<Enriched>>| {
        tokio::spawn(async move {
            for e in &events {
                store.upsert(e).await.unwrap();
            }
        })
    };
    let mut reversed = events.clone();
    reversed.reverse();
    let (r1, r2) = tokio::join!(run(a.clone(), events), run(c.clone(), reversed));
    r1.unwrap();
    r2.unwrap();
    assert_eq!(a.count().await.unwrap(), 10);
    let newest = format!("version{}", versions - 1);
    for i in 0..10 {
        let ev = a.get(&format!("v{i}")).await.unwrap().unwrap();
        assert!(
            ev.data.article.body_text.contains(&newest),
            "{}",
            ev.data.article.body_text
        );
        assert_eq!(entity_count(&a, &format!("v{i}")).await, 2);
    }
    let hits = list(
        &a,
        ArticleQuery {
            text: Some(newest),
            ..q()
        },
    )
    .await;
    assert_eq!(hits.len(), 10);
    let old = list(
        &a,
        ArticleQuery {
            text: Some("version0".into()),
            ..q()
        },
    )
    .await;
    assert!(old.is_empty(), "the index holds the newest text only");
    fts_integrity(&db).await;
}

async fn pagination_by_cursor_visits_every_article_once(b: Backend) {
    let db = TestDb::new(b, "pages").await;
    let store = db.open().await;
    // 45 articles over 15 days, three per day (ties on the sort time).
    let events: Vec<_> = (0..45)
        .map(|i| {
            Ev::new(
                &format!("p{i:02}"),
                &format!("Article {i}"),
                &format!("Bamako numéro {i}. Bamako encore."),
                "fr",
                &format!("2025-06-{:02}", 1 + i / 3),
            )
            .build()
        })
        .collect();
    store.upsert_batch(&events).await.unwrap();
    for (query, expect_order) in [
        (
            ArticleQuery {
                limit: 10,
                ..ArticleQuery::default()
            },
            true,
        ),
        (
            ArticleQuery {
                limit: 7,
                text: Some("bamako".into()),
                sort: Some(Sort::Newest),
                ..ArticleQuery::default()
            },
            true,
        ),
        (
            ArticleQuery {
                limit: 10,
                text: Some("bamako".into()),
                ..ArticleQuery::default()
            },
            false,
        ),
    ] {
        let mut seen = Vec::new();
        let mut cursor = None;
        let mut pages = 0;
        loop {
            let page = store
                .articles(&ArticleQuery {
                    cursor: cursor.clone(),
                    ..query.clone()
                })
                .await
                .unwrap();
            assert!(page.items.len() <= query.limit as usize);
            seen.extend(
                page.items
                    .iter()
                    .map(|s| (s.published.clone().unwrap(), s.article_id.clone())),
            );
            pages += 1;
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
            assert!(pages < 20, "runaway pagination");
        }
        let unique: HashSet<_> = seen.iter().map(|(_, id)| id.clone()).collect();
        assert_eq!(seen.len(), 45, "{query:?}");
        assert_eq!(unique.len(), 45, "{query:?}");
        if expect_order {
            // Newest first (articles of one minute in a fixed, arbitrary order).
            let days: Vec<&String> = seen.iter().map(|(day, _)| day).collect();
            let mut sorted = days.clone();
            sorted.sort_by(|x, y| y.cmp(x));
            assert_eq!(days, sorted, "newest first");
        }
    }
    // A cursor is bound to its query.
    let page = store
        .articles(&ArticleQuery {
            limit: 10,
            ..ArticleQuery::default()
        })
        .await
        .unwrap();
    let other = ArticleQuery {
        limit: 10,
        lang: Some("fr".into()),
        cursor: page.next_cursor,
        ..ArticleQuery::default()
    };
    assert!(store.articles(&other).await.unwrap_err().is_bad_request());
}

async fn the_seed_is_found_by_text_entity_and_place(b: Backend) {
    let db = TestDb::new(b, "seed").await;
    let store = db.open().await;
    let seed = seed();
    store.upsert(&seed).await.unwrap();
    let id = seed.article_id.as_str();
    for query in [
        ArticleQuery {
            text: Some("Camara".into()),
            ..q()
        },
        ArticleQuery {
            text: Some("coopération militaire Russie".into()),
            ..q()
        },
        ArticleQuery {
            entity: Some("Sadio Camara".into()),
            ..q()
        },
        ArticleQuery {
            entity: Some("Assimi Goïta".into()),
            label: Some("PER".into()),
            ..q()
        },
        ArticleQuery {
            place: Some("Mali".into()),
            ..q()
        },
        ArticleQuery {
            site: Some("abamako.com".into()),
            ..q()
        },
        ArticleQuery {
            since: Some("2025-06-25".into()),
            until: Some("2025-06-25".into()),
            ..q()
        },
    ] {
        let hits = list(&store, query.clone()).await;
        assert_eq!(ids(&hits), vec![id], "{query:?}");
    }
    let hit = &list(
        &store,
        ArticleQuery {
            text: Some("Beloosov".into()),
            ..q()
        },
    )
    .await[0];
    assert!(hit.snippet.contains("Beloosov"), "{}", hit.snippet);
    assert_eq!(hit.original_publisher.as_deref(), Some("L'Essor"));
    let detail = store.article(id).await.unwrap().unwrap();
    assert_eq!(detail.site.as_deref(), Some("news.abamako.com"));
    for name in [
        "Sadio Camara",
        "Assimi Goïta",
        "André Beloosov",
        "Mali",
        "Russie",
    ] {
        assert!(
            detail.entities.iter().any(|e| e.canonical == name),
            "missing {name}"
        );
    }
    assert!(detail.places.iter().any(|p| p.name == "Mali"));
    assert_eq!(detail.article.title, seed.data.article.title);
}

async fn syndicated_copies_are_linked_whichever_arrives_first(b: Backend) {
    let (republished, original) = (seed(), lessor_original());
    let d = support::simhash::distance(
        republished.data.enrichment.fingerprint.as_deref().unwrap(),
        original.data.enrichment.fingerprint.as_deref().unwrap(),
    );
    assert!(
        d <= StoreConfig::default().duplicate_max_distance,
        "test copies {d} bits apart"
    );
    for order in [[&republished, &original], [&original, &republished]] {
        let db = TestDb::new(b, "syndication").await;
        let store = db.open().await;
        // Unrelated articles around them must stay unlinked.
        store
            .upsert(
                &Ev::new(
                    "u1",
                    "Autre",
                    "Un tout autre sujet à Kayes.",
                    "fr",
                    "2025-06-25",
                )
                .fingerprint(&support::simhash::simhash("Un tout autre sujet à Kayes."))
                .build(),
            )
            .await
            .unwrap();
        for ev in order {
            store.upsert(ev).await.unwrap();
        }
        // L'Essor is the original: abamako says it republishes it.
        assert_copy_of(&store, &republished.article_id, &original.article_id).await;
        assert!(
            store
                .article("u1")
                .await
                .unwrap()
                .unwrap()
                .duplicate_of
                .is_none()
        );
        // Listings show or hide the copy.
        let all = list(
            &store,
            ArticleQuery {
                text: Some("Camara".into()),
                ..q()
            },
        )
        .await;
        assert_eq!(all.len(), 2);
        let originals = list(
            &store,
            ArticleQuery {
                text: Some("Camara".into()),
                duplicates: Duplicates::Exclude,
                ..q()
            },
        )
        .await;
        assert_eq!(ids(&originals), vec![original.article_id.as_str()]);
        // Redelivering either copy keeps the link.
        for ev in order {
            store.upsert(ev).await.unwrap();
        }
        let rep = store
            .article(&republished.article_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            rep.duplicate_of.as_deref(),
            Some(original.article_id.as_str())
        );
    }
    // Both copies in one batch, in either order: linked as they are
    // written, and a second batch bringing them again changes nothing.
    for order in [[&republished, &original], [&original, &republished]] {
        let db = TestDb::new(b, "syndication-batch").await;
        let store = db.open().await;
        let batch: Vec<_> = order.iter().map(|e| (*e).clone()).collect();
        for _ in 0..2 {
            store.upsert_batch(&batch).await.unwrap();
            assert_copy_of(&store, &republished.article_id, &original.article_id).await;
        }
    }
}

/// `copy` points at `original`, which points at nothing and lists `copy`
/// as its only copy.
async fn assert_copy_of(store: &AnyStore, copy: &str, original: &str) {
    let c = store.article(copy).await.unwrap().unwrap();
    let o = store.article(original).await.unwrap().unwrap();
    assert_eq!(c.duplicate_of.as_deref(), Some(original));
    assert_eq!(o.duplicate_of, None);
    assert_eq!(o.duplicates, vec![copy.to_string()]);
}

async fn copies_stored_concurrently_by_two_replicas_are_linked(b: Backend) {
    let db = TestDb::new(b, "syndication-race").await;
    let (s1, s2) = tokio::join!(open_store(&db.cfg), open_store(&db.cfg));
    let (s1, s2) = (s1.unwrap(), s2.unwrap());
    // Sixty distinct stories, each as two copies (one word differs, one
    // fingerprint bit); one
    // replica stores the first copies while the other stores the second
    // ones, in batches that overlap in time: every pair must end up linked
    // (neither transaction may miss the other's copy).
    let mut pairs = Vec::new();
    for i in 0..60 {
        let words: Vec<String> = (0..150)
            .map(|k| format!("mot{}", (k * 7919 + i * 104_729) % 100_003))
            .collect();
        let text = words.join(" ");
        let copy = text.replacen("mot", "MOTS", 1);
        let fp = support::simhash::simhash(&text);
        // One bit apart: a copy for any threshold.
        let fp2 = format!("{:016x}", u64::from_str_radix(&fp, 16).unwrap() ^ 1);
        let e1 = Ev::new(&format!("s{i}a"), "T", &text, "fr", "2025-06-25")
            .fingerprint(&fp)
            .build();
        let e2 = Ev::new(&format!("s{i}b"), "T", &copy, "fr", "2025-06-25")
            .fingerprint(&fp2)
            .build();
        pairs.push((e1, e2));
    }
    for chunk in pairs.chunks(20) {
        let firsts: Vec<_> = chunk.iter().map(|(a, _)| a.clone()).collect();
        let seconds: Vec<_> = chunk.iter().map(|(_, b)| b.clone()).collect();
        let (r1, r2) = tokio::join!(s1.upsert_batch(&firsts), s2.upsert_batch(&seconds));
        r1.unwrap();
        r2.unwrap();
    }
    // And one at a time, at the same moment.
    let mut tasks = Vec::new();
    for (e1, e2) in &pairs[..10] {
        let (s1, s2, e1, e2) = (s1.clone(), s2.clone(), e1.clone(), e2.clone());
        tasks.push(tokio::spawn(async move {
            let (r1, r2) = tokio::join!(s1.upsert(&e1), s2.upsert(&e2));
            r1.unwrap();
            r2.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for (e1, e2) in &pairs {
        let a = s1.article(&e1.article_id).await.unwrap().unwrap();
        let c = s1.article(&e2.article_id).await.unwrap().unwrap();
        let linked = a.duplicate_of.as_deref() == Some(c.article_id.as_str())
            || c.duplicate_of.as_deref() == Some(a.article_id.as_str());
        assert!(linked, "{} / {} not linked", a.article_id, c.article_id);
        // Same day, no declared publisher, stored at about the same time:
        // whichever is the original, exactly one points at the other.
        assert!(a.duplicate_of.is_none() || c.duplicate_of.is_none());
    }
}

async fn clusters_merge_and_the_threshold_is_tunable(b: Backend) {
    let db = TestDb::new(b, "clusters").await;
    // A threshold above 3: candidates come from probing flipped band values.
    let store = open_store(&StoreConfig {
        duplicate_max_distance: 6,
        ..db.cfg.clone()
    })
    .await
    .unwrap();
    // Three copies: x and z are 8 bits apart, y sits between them (4 and
    // 4): with a threshold of 6, x-y and y-z link, so all three are one
    // story even if y arrives last.
    let x = 0x0f0f_0f0f_0f0f_0f0fu64;
    let y = x ^ 0x0000_0000_0000_000f;
    let z = y ^ 0x0000_0000_0000_00f0;
    let ev = |id: &str, fp: u64, day: &str| {
        Ev::new(id, "T", "texte", "fr", day)
            .fingerprint(&format!("{fp:016x}"))
            .build()
    };
    store.upsert(&ev("z", z, "2025-06-03")).await.unwrap();
    store.upsert(&ev("x", x, "2025-06-02")).await.unwrap();
    assert!(
        store
            .article("x")
            .await
            .unwrap()
            .unwrap()
            .duplicate_of
            .is_none()
    );
    assert!(
        store
            .article("z")
            .await
            .unwrap()
            .unwrap()
            .duplicate_of
            .is_none()
    );
    store.upsert(&ev("y", y, "2025-06-04")).await.unwrap();
    for id in ["y", "z"] {
        let d = store.article(id).await.unwrap().unwrap();
        assert_eq!(
            d.duplicate_of.as_deref(),
            Some("x"),
            "{id}: the earliest is the original"
        );
    }
    let xd = store.article("x").await.unwrap().unwrap();
    assert_eq!(xd.duplicates, vec!["y", "z"]);
    // An earlier copy arriving later becomes the original of the whole cluster.
    store.upsert(&ev("w", x ^ 1, "2025-06-01")).await.unwrap();
    for id in ["x", "y", "z"] {
        let d = store.article(id).await.unwrap().unwrap();
        assert_eq!(d.duplicate_of.as_deref(), Some("w"), "{id}");
    }
    store.close().await;

    // Threshold 0: only identical fingerprints link.
    let strict = StoreConfig {
        duplicate_max_distance: 0,
        ..db.cfg.clone()
    };
    let strict_db = TestDb::new(b, "clusters-strict").await;
    let strict = open_store(&StoreConfig {
        db: strict_db.cfg.db.clone(),
        ..strict
    })
    .await
    .unwrap();
    strict.upsert(&ev("x", x, "2025-06-02")).await.unwrap();
    strict.upsert(&ev("y", y, "2025-06-04")).await.unwrap();
    strict.upsert(&ev("x2", x, "2025-06-05")).await.unwrap();
    assert!(
        strict
            .article("y")
            .await
            .unwrap()
            .unwrap()
            .duplicate_of
            .is_none()
    );
    assert_eq!(
        strict
            .article("x2")
            .await
            .unwrap()
            .unwrap()
            .duplicate_of
            .as_deref(),
        Some("x")
    );
    // Out-of-range thresholds are refused.
    let bad = StoreConfig {
        duplicate_max_distance: 40,
        ..strict_db.cfg.clone()
    };
    assert!(matches!(open_store(&bad).await, Err(StoreError::Config(_))));
}

/// Top entities of a period come from the entity rows' own publication
/// instants (and the period's copies): the same counts as going through
/// the period's articles, which a language filter still does.
async fn top_entities_of_a_period_count_like_every_article_of_it(b: Backend) {
    let db = TestDb::new(b, "period").await;
    let store = db.open().await;
    let events: Vec<_> = (0..300)
        .map(|i| {
            let mut e = newsflow_store::bench::synthetic_event(5, i);
            e.data.enrichment.lang = "fr".into();
            if i % 50 == 7 {
                e.data.article.published = None;
            }
            e
        })
        .collect();
    store.upsert_batch(&events).await.unwrap();
    let periods = [
        (Some("2025-03-01"), Some("2025-03-31")),
        (Some("2025-06-01"), None),
        (None, Some("2025-02-14")),
        (Some("2025-05-10T12:00:00Z"), Some("2025-08-01T06:30:00.5Z")),
    ];
    for (since, until) in periods {
        for duplicates in [None, Some(Duplicates::Include)] {
            for label in [None, Some("PER"), Some("LOC")] {
                let q = EntityQuery {
                    label: label.map(Into::into),
                    since: since.map(Into::into),
                    until: until.map(Into::into),
                    duplicates,
                    limit: 1000,
                    ..EntityQuery::default()
                };
                let fast = store.top_entities(&q).await.unwrap();
                let through_articles = store
                    .top_entities(&EntityQuery {
                        lang: Some("fr".into()),
                        ..q.clone()
                    })
                    .await
                    .unwrap();
                assert!(!fast.is_empty(), "{q:?}");
                assert_eq!(fast, through_articles, "{q:?}");
            }
        }
    }
}

/// The pages of some text searches, in order: best match first (two
/// pages), newest first (three pages, following cursors), and within a
/// month of one language, originals only.
async fn text_pages(store: &AnyStore, words: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for w in words {
        for (sort, limit, pages) in [(Sort::Relevance, 20, 2), (Sort::Newest, 7, 3)] {
            for month in [false, true] {
                let mut query = ArticleQuery {
                    text: Some(w.clone()),
                    sort: Some(sort),
                    limit,
                    ..ArticleQuery::default()
                };
                if month {
                    query.lang = Some("fr".into());
                    query.since = Some("2025-03-01".into());
                    query.until = Some("2025-03-31".into());
                    query.duplicates = Duplicates::Exclude;
                }
                for _ in 0..pages {
                    let page = store.articles(&query).await.unwrap();
                    out.push(page.items.iter().map(|s| s.article_id.clone()).collect());
                    match page.next_cursor {
                        Some(c) => query.cursor = Some(c),
                        None => break,
                    }
                }
            }
        }
    }
    out
}

/// Text searches look at the newest articles first, then further back
/// when they found too few; PostgreSQL sizes those ranges from the
/// planner's statistics, and SQLite's planner uses its own. The pages are
/// the same with statistics as without.
async fn text_searches_read_the_same_with_and_without_statistics(b: Backend) {
    let db = TestDb::new(b, "ranges").await;
    let store = db.open().await;
    let events: Vec<_> = (0..2600)
        .map(|i| newsflow_store::bench::synthetic_event(9, i))
        .collect();
    for chunk in events.chunks(500) {
        store.upsert_batch(chunk).await.unwrap();
    }
    // Words from common (a body's first ones) to rare (a title's last).
    let mut words: Vec<String> = events[0]
        .data
        .article
        .body_text
        .split_whitespace()
        .take(3)
        .map(String::from)
        .collect();
    for i in [100, 1000, 2500] {
        let title = events[i].data.article.title.clone().unwrap();
        words.push(title.split_whitespace().last().unwrap().to_string());
    }
    words.push(format!("{} {}", words[0], words[4]));
    let before = text_pages(&store, &words).await;
    assert!(before.iter().filter(|p| !p.is_empty()).count() > 20);
    store.close().await;
    match b {
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&db.cfg.db).await.unwrap();
            sqlx::query("ANALYZE").execute(&pool).await.unwrap();
            pool.close().await;
        }
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", db.cfg.db))
                .await
                .unwrap();
            sqlx::query("ANALYZE").execute(&pool).await.unwrap();
            pool.close().await;
        }
    }
    let store = db.open().await;
    assert_eq!(text_pages(&store, &words).await, before);
}

async fn top_entities_and_quotes(b: Backend) {
    let db = TestDb::new(b, "entities").await;
    let store = seeded(&db).await;
    store.upsert(&seed()).await.unwrap();
    store.upsert(&lessor_original()).await.unwrap();
    let top = store
        .top_entities(&EntityQuery {
            label: Some("PER".into()),
            ..EntityQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(top[0].canonical, "Sadio Camara", "{top:?}");
    // a2 and the L'Essor original (its abamako copy is not counted twice).
    assert_eq!(top[0].articles, 2, "{top:?}");
    assert!(top.iter().all(|e| e.label == "PER"));
    let with_copies = store
        .top_entities(&EntityQuery {
            label: Some("PER".into()),
            duplicates: Some(Duplicates::Include),
            ..EntityQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(with_copies[0].articles, 3);
    let period = store
        .top_entities(&EntityQuery {
            since: Some("2024-11-01".into()),
            until: Some("2024-12-31".into()),
            ..EntityQuery::default()
        })
        .await
        .unwrap();
    let names: HashSet<&str> = period.iter().map(|e| e.canonical.as_str()).collect();
    assert_eq!(names, HashSet::from(["World Bank", "Accra"]));
    assert!(
        store
            .top_entities(&EntityQuery {
                label: Some("X".into()),
                ..EntityQuery::default()
            })
            .await
            .is_err()
    );

    // Quotes: from a stored article with speakers.
    let quoted = Ev::new(
        "qq",
        "Q",
        "« Le Mali avance », a dit Assimi Goïta. « Oui », a dit Camara. « Anonyme ».",
        "fr",
        "2025-06-27",
    )
    .entities(vec![ent("Assimi Goïta", 26, "PER", "Assimi Goïta")])
    .quotes(vec![
        quote(Some("Assimi Goïta"), "Le Mali avance", 2),
        quote(Some("Sadio Camara"), "Oui", 43),
        quote(None, "Anonyme", 62),
    ])
    .build();
    store.upsert(&quoted).await.unwrap();
    let day = || Some("2025-06-27".to_string());
    let by = |s: &str| QuoteQuery {
        speaker: Some(s.into()),
        since: day(),
        ..QuoteQuery::default()
    };
    let goita = store.quotes(&by("assimi goita")).await.unwrap();
    // (The seed may carry quotes too: from here on, only this article's day.)
    assert_eq!(goita.items.len(), 1);
    assert_eq!(goita.items[0].text, "Le Mali avance");
    assert_eq!(goita.items[0].article_id, "qq");
    assert_eq!(
        store.quotes(&by("Goïta")).await.unwrap().items.len(),
        1,
        "by surname"
    );
    assert!(store.quotes(&by("Assimi")).await.unwrap().items.is_empty());
    let all = store
        .quotes(&QuoteQuery {
            limit: 2,
            since: day(),
            ..QuoteQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(all.items.len(), 2);
    let rest = store
        .quotes(&QuoteQuery {
            limit: 2,
            since: day(),
            cursor: all.next_cursor.clone(),
            ..QuoteQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert!(rest.next_cursor.is_none());
    assert_eq!(rest.items[0].speaker, None);
    let detail = store.article("qq").await.unwrap().unwrap();
    let speakers: Vec<_> = detail.quotes.iter().map(|q| q.speaker.as_deref()).collect();
    assert_eq!(
        speakers,
        vec![Some("Assimi Goïta"), Some("Sadio Camara"), None]
    );
}

async fn batch_upserts_report_each_outcome(b: Backend) {
    let db = TestDb::new(b, "batch").await;
    let store = db.open().await;
    let old = Ev::new("b1", "T", "ancien texte", "fr", "2025-06-25").time("2025-06-26T08:00:00Z");
    let new = old
        .clone()
        .time("2025-06-26T09:00:00Z")
        .set("/data/article/body_text", json!("nouveau texte"));
    let other = Ev::new("b2", "T", "autre", "fr", "2025-06-25");
    let batch = vec![new.build(), other.build(), old.build(), other.build()];
    let out = store.upsert_batch(&batch).await.unwrap();
    assert_eq!(
        out,
        vec![
            UpsertOutcome::Inserted,
            UpsertOutcome::Inserted,
            UpsertOutcome::Stale,
            UpsertOutcome::Updated,
        ]
    );
    assert_eq!(store.count().await.unwrap(), 2);
    assert_eq!(
        store
            .get("b1")
            .await
            .unwrap()
            .unwrap()
            .data
            .article
            .body_text,
        "nouveau texte"
    );
    assert!(store.upsert_batch(&[]).await.unwrap().is_empty());
}

async fn stage_stores_and_classifies_errors(b: Backend) {
    let db = TestDb::new(b, "stage").await;
    let store = db.open().await;
    let stage = StoreStage::new(store.clone());
    let ev = Ev::new("s1", "T", "Body", "fr", "2025-06-25").build();
    assert!(stage.handle(ev.clone()).await.unwrap().is_empty());
    assert!(stage.handle(ev).await.unwrap().is_empty());
    assert_eq!(store.count().await.unwrap(), 1);

    // A closed pool means the database is unavailable: wait, not dead-letter.
    store.close().await;
    let err = stage
        .handle(Ev::new("s2", "T", "Body", "fr", "2025-06-25").build())
        .await
        .unwrap_err();
    assert!(matches!(err, StageError::Unavailable { .. }), "{err:?}");
    assert_eq!(err.kind(), "db");
}

/// A real store that refuses, as a database would refuse a row, every
/// batch holding one given article, and records the batch sizes.
#[derive(Clone)]
struct Refusing {
    inner: AnyStore,
    poison: String,
    batches: std::sync::Arc<std::sync::Mutex<Vec<usize>>>,
}

impl ArticleStore for Refusing {
    async fn upsert_batch(
        &self,
        events: &[Envelope<Enriched>],
    ) -> Result<Vec<UpsertOutcome>, StoreError> {
        self.batches.lock().unwrap().push(events.len());
        if events.iter().any(|e| e.article_id == self.poison) {
            return Err(StoreError::Corrupt("refused for the test".into()));
        }
        self.inner.upsert_batch(events).await
    }
    async fn articles(
        &self,
        q: &ArticleQuery,
    ) -> Result<newsflow_store::Page<ArticleSummary>, StoreError> {
        self.inner.articles(q).await
    }
    async fn article(&self, id: &str) -> Result<Option<newsflow_store::ArticleDetail>, StoreError> {
        self.inner.article(id).await
    }
    async fn top_entities(
        &self,
        q: &EntityQuery,
    ) -> Result<Vec<newsflow_store::EntityCount>, StoreError> {
        self.inner.top_entities(q).await
    }
    async fn quotes(
        &self,
        q: &QuoteQuery,
    ) -> Result<newsflow_store::Page<newsflow_store::QuoteHit>, StoreError> {
        self.inner.quotes(q).await
    }
    async fn get(&self, id: &str) -> Result<Option<Envelope<Enriched>>, StoreError> {
        self.inner.get(id).await
    }
    async fn count(&self) -> Result<u64, StoreError> {
        self.inner.count().await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
    fn backend(&self) -> Backend {
        self.inner.backend()
    }
}

async fn the_stage_group_commits_and_isolates_a_refused_event(b: Backend) {
    let db = TestDb::new(b, "group").await;
    let store = db.open().await;
    let refusing = Refusing {
        inner: store.clone(),
        poison: "g07".into(),
        batches: Default::default(),
    };
    let stage = StoreStage::with_max_batch(refusing.clone(), 8);
    // 24 events at once, as the bus hands them over; g03 twice, its newer
    // version second.
    let mut events: Vec<Envelope<Enriched>> = (0..24)
        .map(|i| {
            Ev::new(
                &format!("g{i:02}"),
                "T",
                "Corps du texte",
                "fr",
                "2025-06-25",
            )
            .build()
        })
        .collect();
    let mut newer = Ev::new("g03", "T", "version deux", "fr", "2025-06-25").build();
    newer.time = events[3].time + chrono::Duration::seconds(5);
    events.push(newer);
    let results = futures::future::join_all(events.into_iter().map(|ev| {
        let stage = stage.clone();
        async move {
            let id = ev.article_id.clone();
            (id, stage.handle(ev).await)
        }
    }))
    .await;
    for (id, result) in &results {
        if id == "g07" {
            let err = result.as_ref().unwrap_err();
            assert!(matches!(err, StageError::Reject { .. }), "{err:?}");
            assert!(err.to_string().contains("refused for the test"), "{err}");
        } else {
            assert!(result.is_ok(), "{id}: {result:?}");
        }
    }
    // Everyone else was stored, the newest g03 kept.
    assert_eq!(store.count().await.unwrap(), 23);
    assert!(store.get("g07").await.unwrap().is_none());
    let g03 = store.get("g03").await.unwrap().unwrap();
    assert_eq!(g03.data.article.body_text, "version deux");
    // Batched (never above the cap), and the refused batch was redone one
    // event at a time.
    let batches = refusing.batches.lock().unwrap().clone();
    assert!(batches.iter().all(|&n| n <= 8), "{batches:?}");
    assert!(batches.iter().any(|&n| n > 1), "never batched: {batches:?}");
    assert!(batches.len() < 25, "{batches:?}");
}

// ---------------------------------------------------------------------------
// Backend-specific behaviour.

#[tokio::test]
async fn sqlite_store_refuses_postgres_urls_clearly() {
    let cfg = StoreConfig {
        db: "postgres://u:p@localhost/newsflow".into(),
        ..StoreConfig::default()
    };
    let err = newsflow_store::SqliteStore::open(&cfg).await.unwrap_err();
    assert!(matches!(err, StoreError::Unsupported(_)));
    assert!(err.to_string().contains("open_store"), "{err}");
    assert!(!err.to_string().contains(":p@"), "{err}");
    assert!(!err.is_transient());
}

#[tokio::test]
async fn an_unreachable_postgres_is_a_transient_error() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = StoreConfig {
        db: format!("postgres://u:secret@127.0.0.1:{port}/x"),
        ..StoreConfig::default()
    };
    let err = open_store(&cfg).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert!(!err.to_string().contains("secret"), "{err}");
}

#[tokio::test]
async fn a_version_1_sqlite_database_is_upgraded_and_rederived() {
    // A database written by the first store: schema 1, entity mention rows.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::raw_sql(include_str!("../migrations/sqlite/0001_init.sql"))
        .execute(&pool)
        .await
        .unwrap();
    sqlx::raw_sql(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY NOT NULL, applied_at TEXT NOT NULL);
         INSERT INTO schema_migrations VALUES (1, '2025-06-26T00:00:00.000000Z');",
    )
    .execute(&pool)
    .await
    .unwrap();
    let ev = seed();
    sqlx::query(
        "INSERT INTO articles (article_id, trace_id, url, title, published, body_text, enriched_at,
             stored_at, schema_version, event) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
    )
    .bind(&ev.article_id)
    .bind(&ev.trace_id)
    .bind(&ev.data.article.url)
    .bind(&ev.data.article.title)
    .bind(&ev.data.article.published)
    .bind(&ev.data.article.body_text)
    .bind("2025-06-25T07:14:02.000000Z")
    .bind("2025-06-25T07:15:00.000000Z")
    .bind(serde_json::to_string(&ev).unwrap())
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO articles_fts (article_id, title, body) VALUES (?, ?, ?)")
        .bind(&ev.article_id)
        .bind(&ev.data.article.title)
        .bind(&ev.data.article.body_text)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let store = TestDb::sqlite_file(&path).open().await;
    assert_eq!(applied(&store).await, vec![1, 2, 3, 4, 5, 6, 7]);
    let hits = list(
        &store,
        ArticleQuery {
            entity: Some("Sadio Camara".into()),
            ..q()
        },
    )
    .await;
    assert_eq!(ids(&hits), vec![ev.article_id.as_str()]);
    let hits = list(
        &store,
        ArticleQuery {
            text: Some("Camara".into()),
            ..q()
        },
    )
    .await;
    assert_eq!(
        hits.len(),
        1,
        "the old index row was replaced, not duplicated"
    );
    let detail = store.article(&ev.article_id).await.unwrap().unwrap();
    assert_eq!(
        detail.stored_at.to_rfc3339(),
        "2025-06-25T07:15:00+00:00",
        "kept"
    );
    assert!(!detail.entities.is_empty());
}

#[tokio::test]
async fn a_version_2_sqlite_database_gets_the_leaner_index() {
    // A database written by the first PostgreSQL-era store (schema 2: a
    // positional full-text index with contentless_delete).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    for sql in [
        include_str!("../migrations/sqlite/0001_init.sql"),
        include_str!("../migrations/sqlite/0002_queries.sql"),
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY NOT NULL, applied_at TEXT NOT NULL);
         INSERT INTO schema_migrations VALUES (1, '2025-06-26T00:00:00.000000Z'), (2, '2025-06-26T00:00:00.000000Z');",
    ] {
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    }
    let ev = seed();
    sqlx::query(
        "INSERT INTO articles (article_id, trace_id, url, title, published, body_text, enriched_at,
             stored_at, first_stored_at, sort_at, sort_key, schema_version, derived_version, event)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 42, 1, 1, ?)",
    )
    .bind(&ev.article_id)
    .bind(&ev.trace_id)
    .bind(&ev.data.article.url)
    .bind(&ev.data.article.title)
    .bind(&ev.data.article.published)
    .bind(&ev.data.article.body_text)
    .bind("2025-06-25T07:14:02.000000Z")
    .bind("2025-06-25T07:15:00.000000Z")
    .bind("2025-06-25T07:15:00.000000Z")
    .bind("2025-06-25T00:00:00.000000Z")
    .bind(serde_json::to_string(&ev).unwrap())
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO articles_fts (rowid, title, body) VALUES (42, ?, ?)")
        .bind(&ev.data.article.title)
        .bind(&ev.data.article.body_text)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let db = TestDb::sqlite_file(&path);
    let store = db.open().await;
    assert_eq!(applied(&store).await, vec![1, 2, 3, 4, 5, 6, 7]);
    for query in [
        ArticleQuery {
            text: Some("Camara".into()),
            ..q()
        },
        ArticleQuery {
            entity: Some("Camara".into()),
            ..q()
        },
    ] {
        let hits = list(&store, query.clone()).await;
        assert_eq!(ids(&hits), vec![ev.article_id.as_str()], "{query:?}");
    }
    // Re-storing it replaces its new index entry cleanly.
    store.upsert(&ev).await.unwrap();
    assert_eq!(
        list(
            &store,
            ArticleQuery {
                text: Some("Beloosov".into()),
                ..q()
            }
        )
        .await
        .len(),
        1
    );
    fts_integrity(&db).await;
}

#[tokio::test]
async fn a_version_6_sqlite_database_keeps_its_derived_rows_in_arrival_order() {
    // Schema 6 held entity, place and quote rows keyed by article id;
    // migration 7 moves them under the articles' arrival numbers without
    // re-deriving them.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v6.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    for sql in [
        include_str!("../migrations/sqlite/0001_init.sql"),
        include_str!("../migrations/sqlite/0002_queries.sql"),
        include_str!("../migrations/sqlite/0003_leaner_index.sql"),
        include_str!("../migrations/sqlite/0004_entity_period.sql"),
        include_str!("../migrations/sqlite/0005_band_fingerprints.sql"),
        include_str!("../migrations/sqlite/0006_fewer_merges.sql"),
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY NOT NULL, applied_at TEXT NOT NULL);
         INSERT INTO schema_migrations VALUES (1, '2026-01-01T00:00:00.000000Z'),
             (2, '2026-01-01T00:00:00.000000Z'), (3, '2026-01-01T00:00:00.000000Z'),
             (4, '2026-01-01T00:00:00.000000Z'), (5, '2026-01-01T00:00:00.000000Z'),
             (6, '2026-01-01T00:00:00.000000Z');",
    ] {
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    }
    // Two articles as schema 6 stored them, derived rows included (the
    // derivation is current, so nothing is re-derived on open).
    for (n, id, person) in [(1, "old-1", "Sadio Camara"), (2, "old-2", "Assimi Goïta")] {
        let ev = Ev::new(id, "Titre", "Texte", "fr", "2025-06-25").build();
        sqlx::query(
            "INSERT INTO articles (article_id, trace_id, url, title, published, body_text,
                 enriched_at, stored_at, first_stored_at, sort_at, sort_key, schema_version,
                 derived_version, event, published_at)
             VALUES (?, 't', ?, 'Titre', '2025-06-25', 'Texte', '2025-06-25T07:14:02.000000Z',
                 '2025-06-25T07:15:00.000000Z', '2025-06-25T07:15:00.000000Z',
                 '2025-06-25T00:00:00.000000Z', ?, 1, 1, ?, '2025-06-25T00:00:00.000000Z')",
        )
        .bind(id)
        .bind(format!("https://x.ml/{id}"))
        .bind(n)
        .bind(serde_json::to_string(&ev).unwrap())
        .execute(&pool)
        .await
        .unwrap();
        let key = person.to_lowercase().replace('ï', "i");
        sqlx::query(
            "INSERT INTO entities (article_id, label, canonical, canonical_key, mentions, aliases,
                 published_us) VALUES (?, 'PER', ?, ?, 2, '[]', 1750809600000000)",
        )
        .bind(id)
        .bind(person)
        .bind(&key)
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO places (article_id, name_key, name, mentions, country)
             VALUES (?, 'bamako', 'Bamako', 1, 'ML')",
        )
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO quotes (article_id, seq, speaker, speaker_key, speaker_last, text, start, \"end\")
             VALUES (?, 0, ?, ?, 'x', 'Nous avançons', 0, 5)",
        )
        .bind(id)
        .bind(person)
        .bind(&key)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;

    let db = TestDb::sqlite_file(&path);
    let store = db.open().await;
    assert_eq!(applied(&store).await, vec![1, 2, 3, 4, 5, 6, 7]);
    let d = store.article("old-2").await.unwrap().unwrap();
    assert_eq!(d.entities.len(), 1);
    assert_eq!(d.entities[0].canonical, "Assimi Goïta");
    assert_eq!(d.places.len(), 1);
    assert_eq!(d.quotes.len(), 1);
    let hits = list(
        &store,
        ArticleQuery {
            entity: Some("Sadio Camara".into()),
            ..q()
        },
    )
    .await;
    assert_eq!(ids(&hits), vec!["old-1"]);
    // A new article is numbered after them, and an old one keeps its
    // number (and its rows) when it is stored again.
    store
        .upsert(
            &Ev::new("new-1", "Titre", "Texte", "fr", "2025-06-26")
                .entities(vec![ent("Bamako", 0, "LOC", "Bamako")])
                .build(),
        )
        .await
        .unwrap();
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let arrivals: Vec<(String, i64)> =
        sqlx::query_as("SELECT article_id, arrival FROM articles ORDER BY arrival")
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    assert_eq!(arrivals.len(), 3);
    assert_eq!(arrivals[2].0, "new-1");
    assert!(arrivals[2].1 > arrivals[1].1);
    let hits = list(
        &store,
        ArticleQuery {
            place: Some("Bamako".into()),
            ..q()
        },
    )
    .await;
    assert_eq!(ids(&hits), vec!["new-1", "old-1", "old-2"]);
}
