//! The query API through its router (tower `oneshot`) and through a real
//! listener on 127.0.0.1, on both store backends.

#[path = "../../newsflow-store/tests/support/mod.rs"]
mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use newsflow_store::{AnyStore, ArticleStore, Backend};
use serde_json::Value;
use support::{Ev, TestDb, ent, lessor_original, quote, seed};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

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
    articles_are_searched_filtered_and_paged,
    one_article_with_entities_places_quotes_and_links,
    entities_and_quotes,
    bad_parameters_get_json_errors,
    health_metrics_and_openapi,
    served_on_a_real_listener,
);

/// GET `uri` from the router; the status and the body as JSON (or as a
/// JSON string for non-JSON bodies).
async fn get(store: &AnyStore, uri: &str) -> (StatusCode, Value) {
    let app = newsflow_api::router(store.clone());
    let res = app
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let is_json = res
        .headers()
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap_or("").starts_with("application/json"));
    let bytes = axum::body::to_bytes(res.into_body(), 16 << 20)
        .await
        .unwrap();
    let body = if is_json {
        serde_json::from_slice(&bytes).unwrap()
    } else {
        Value::String(String::from_utf8(bytes.to_vec()).unwrap())
    };
    (status, body)
}

fn ids(page: &Value) -> Vec<String> {
    let mut v: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["article_id"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

/// The seed, its L'Essor original, and an unrelated English article.
async fn stocked(db: &TestDb) -> AnyStore {
    let store = db.open().await;
    store.upsert(&seed()).await.unwrap();
    store.upsert(&lessor_original()).await.unwrap();
    let other = Ev::new(
        "gh1",
        "Ghana signs power deal",
        "Accra signed an electrification deal with the World Bank.",
        "en",
        "2024-12-01",
    )
    .entities(vec![ent("World Bank", 44, "ORG", "World Bank")])
    .quotes(vec![quote(Some("John Mahama"), "We will deliver", 10)]);
    store.upsert(&other.build()).await.unwrap();
    store
}

async fn articles_are_searched_filtered_and_paged(b: Backend) {
    let db = TestDb::new(b, "api_articles").await;
    let store = stocked(&db).await;
    let (seed_id, orig_id) = (seed().article_id, lessor_original().article_id);
    let mut both = vec![seed_id.clone(), orig_id.clone()];
    both.sort();

    let (status, page) = get(&store, "/articles?q=Camara").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(ids(&page), both);
    assert!(page["next_cursor"].is_null());
    let (_, page) = get(&store, "/articles?q=Camara&duplicates=exclude").await;
    assert_eq!(ids(&page), vec![orig_id.clone()]);
    let (_, page) = get(&store, "/articles?entity=Sadio%20Camara&label=PER").await;
    assert_eq!(ids(&page), both);
    let (_, page) = get(&store, "/articles?place=Mali&site=abamako.com").await;
    assert_eq!(ids(&page), vec![seed_id.clone()]);
    let (_, page) = get(&store, "/articles?country=ml").await;
    assert_eq!(ids(&page), both, "geocoded places");
    let (_, page) = get(&store, "/articles?lang=en").await;
    assert_eq!(ids(&page), vec!["gh1"]);
    let (_, page) = get(
        &store,
        "/articles?since=2025-01-01&until=2025-12-31&lang=fr",
    )
    .await;
    assert_eq!(ids(&page), both);
    let (_, page) = get(&store, "/articles?q=%C3%A9lectrification").await;
    assert_eq!(
        ids(&page),
        vec!["gh1"],
        "accents folded: électrification = electrification"
    );
    let item = &get(&store, "/articles?q=Beloosov&site=abamako.com").await.1["items"][0];
    assert!(item["snippet"].as_str().unwrap().contains("Beloosov"));
    assert_eq!(item["duplicate_of"], Value::String(orig_id.clone()));
    assert_eq!(item["original_publisher"], "L'Essor");

    // Pages of one, newest first, linked by cursors.
    let mut seen = Vec::new();
    let mut uri = "/articles?limit=1".to_string();
    loop {
        let (status, page) = get(&store, &uri).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        seen.push(page["items"][0]["article_id"].as_str().unwrap().to_string());
        match page["next_cursor"].as_str() {
            Some(c) => uri = format!("/articles?limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 3);
    assert_eq!(seen.last().unwrap(), "gh1", "the 2024 article comes last");
}

async fn one_article_with_entities_places_quotes_and_links(b: Backend) {
    let db = TestDb::new(b, "api_article").await;
    let store = stocked(&db).await;
    let (seed_id, orig_id) = (seed().article_id, lessor_original().article_id);
    let (status, a) = get(&store, &format!("/articles/{seed_id}")).await;
    assert_eq!(status, StatusCode::OK, "{a}");
    assert_eq!(a["article_id"], Value::String(seed_id.clone()));
    assert_eq!(a["duplicate_of"], Value::String(orig_id.clone()));
    assert_eq!(a["site"], "news.abamako.com");
    assert_eq!(a["article"]["original_publisher"], "L'Essor");
    let entities = a["entities"].as_array().unwrap();
    let camara = entities
        .iter()
        .find(|e| e["canonical"] == "Sadio Camara")
        .unwrap();
    assert_eq!(camara["label"], "PER");
    assert!(camara["mentions"].as_u64().unwrap() >= 2);
    assert!(
        a["places"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "Mali")
    );
    assert!(a["quotes"].is_array());
    assert!(a["fingerprint"].is_string());
    let (_, o) = get(&store, &format!("/articles/{orig_id}")).await;
    assert_eq!(o["duplicates"], serde_json::json!([seed_id]));
    assert!(o["duplicate_of"].is_null());

    let (status, e) = get(&store, "/articles/0000000000000000").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(e["error"].as_str().unwrap().contains("0000000000000000"));
    assert_eq!(e["status"], 404);
    let (status, e) = get(&store, "/articles/a%20b").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
}

async fn entities_and_quotes(b: Backend) {
    let db = TestDb::new(b, "api_entities").await;
    let store = stocked(&db).await;
    let (status, top) = get(&store, "/entities?label=PER&limit=5").await;
    assert_eq!(status, StatusCode::OK, "{top}");
    let items = top["items"].as_array().unwrap();
    assert!(items.len() <= 5);
    assert!(items.iter().all(|e| e["label"] == "PER"));
    let camara = items
        .iter()
        .find(|e| e["canonical"] == "Sadio Camara")
        .unwrap();
    assert_eq!(camara["articles"], 1, "the copy is not counted twice");
    let (_, top) = get(&store, "/entities?label=PER&duplicates=include").await;
    let camara = top["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["canonical"] == "Sadio Camara")
        .cloned()
        .unwrap();
    assert_eq!(camara["articles"], 2);
    let (_, top) = get(&store, "/entities?since=2024-12-01&until=2024-12-01").await;
    assert_eq!(top["items"][0]["canonical"], "World Bank");

    let (status, q) = get(&store, "/quotes?speaker=mahama").await;
    assert_eq!(status, StatusCode::OK, "{q}");
    assert_eq!(q["items"].as_array().unwrap().len(), 1);
    assert_eq!(q["items"][0]["text"], "We will deliver");
    assert_eq!(q["items"][0]["article_id"], "gh1");
    // The seed's quotations, once: from the L'Essor original, not its copy.
    let orig_id = lessor_original().article_id;
    let (_, q) = get(&store, "/quotes?speaker=Beloosov").await;
    let items = q["items"].as_array().unwrap();
    assert!(!items.is_empty(), "{q}");
    assert!(items.iter().all(|i| i["article_id"] == orig_id.as_str()));
    assert!(items.iter().all(|i| i["speaker"] == "André Beloosov"));
    let (_, all) = get(&store, "/quotes?speaker=Beloosov&duplicates=include").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2 * items.len());
    let (_, q) = get(&store, "/quotes?speaker=Nobody").await;
    assert!(q["items"].as_array().unwrap().is_empty());
}

async fn bad_parameters_get_json_errors(b: Backend) {
    let db = TestDb::new(b, "api_errors").await;
    let store = stocked(&db).await;
    for (uri, needle) in [
        ("/articles?lang=fran%C3%A7ais", "lang"),
        ("/articles?label=PERSON", "label"),
        ("/articles?country=Mali", "country"),
        ("/articles?since=yesterday", "since"),
        ("/articles?since=2025-06-02&until=2025-06-01", "until"),
        ("/articles?limit=0", "limit"),
        ("/articles?limit=101", "limit"),
        ("/articles?limit=ten", "limit"),
        ("/articles?duplicates=maybe", "duplicates"),
        ("/articles?sort=relevance", "sort"),
        ("/articles?cursor=abc", "cursor"),
        ("/articles?unknown=1", "unknown"),
        ("/entities?label=THING", "label"),
        ("/quotes?cursor=zz", "cursor"),
        ("/quotes?limit=1000", "limit"),
    ] {
        let (status, e) = get(&store, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {e}");
        let msg = e["error"].as_str().unwrap_or_else(|| panic!("{uri}: {e}"));
        assert!(msg.contains(needle), "{uri}: {msg}");
        assert_eq!(e["status"], 400);
    }
    let long = format!("/articles?q={}", "a".repeat(600));
    let (status, e) = get(&store, &long).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    let longer = format!("/articles?q={}", "a".repeat(5000));
    let (status, e) = get(&store, &longer).await;
    assert_eq!(status, StatusCode::URI_TOO_LONG, "{e}");
    let (status, e) = get(&store, "/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(e["error"].as_str().unwrap().contains("openapi"));
    // Hostile text is searched as text.
    let (status, _) = get(
        &store,
        "/articles?q=%27%3B%20DROP%20TABLE%20articles%3B%20--",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(store.count().await.unwrap(), 3);
}

async fn health_metrics_and_openapi(b: Backend) {
    let db = TestDb::new(b, "api_health").await;
    let store = stocked(&db).await;
    let app = newsflow_api::router(store.clone());
    // Several requests through one router, so its counters add up.
    for uri in [
        "/healthz",
        "/articles?q=Camara",
        "/articles?lang=bad!",
        "/metrics",
    ] {
        let res = app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        if uri == "/metrics" {
            let text = String::from_utf8(
                axum::body::to_bytes(res.into_body(), 1 << 20)
                    .await
                    .unwrap()
                    .to_vec(),
            )
            .unwrap();
            assert!(
                text.contains("newsflow_api_requests_total{route=\"/articles\",status=\"200\"} 1"),
                "{text}"
            );
            assert!(
                text.contains("newsflow_api_requests_total{route=\"/articles\",status=\"400\"} 1"),
                "{text}"
            );
            assert!(
                text.contains("newsflow_api_requests_total{route=\"/healthz\",status=\"200\"} 1"),
                "{text}"
            );
            assert!(
                text.contains(&format!("newsflow_store_articles{{backend=\"{b}\"}} 3")),
                "{text}"
            );
        }
    }
    let (status, h) = get(&store, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h["status"], "ok");
    assert_eq!(h["backend"], b.to_string());

    let (status, doc) = get(&store, "/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.0.3");
    for path in [
        "/articles",
        "/articles/{id}",
        "/entities",
        "/quotes",
        "/healthz",
        "/metrics",
        "/openapi.json",
    ] {
        assert!(
            doc["paths"][path]["get"].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    let params: Vec<&str> = doc["paths"]["/articles"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for p in [
        "q",
        "lang",
        "entity",
        "label",
        "place",
        "country",
        "site",
        "since",
        "until",
        "duplicates",
        "sort",
        "cursor",
        "limit",
    ] {
        assert!(params.contains(&p), "{p} not documented");
    }
    // Every $ref points at a defined schema.
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = r.split('"').next().unwrap();
        assert!(doc["components"]["schemas"][name].is_object(), "{name}");
    }

    // A database that is gone: 503, with JSON.
    store.close().await;
    let (status, h) = get(&store, "/healthz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(h["status"], "unavailable");
    let (status, e) = get(&store, "/articles").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{e}");
    assert!(e["error"].is_string());
}

async fn served_on_a_real_listener(b: Backend) {
    let db = TestDb::new(b, "api_listener").await;
    let store = stocked(&db).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(newsflow_api::serve(listener, store, async {
        let _ = stopped.await;
    }));
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(
        b"GET /articles?q=Camara&limit=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("content-type: application/json")
    );
    assert!(response.contains("\"next_cursor\""), "{response}");
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
