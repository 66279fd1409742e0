//! The OpenAPI 3 document served at `/openapi.json`, written by hand next
//! to the handlers it describes (a test checks every route is in it).

use serde_json::{Value, json};

use crate::{MAX_PAGE, MAX_URI_BYTES};

fn param(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

fn text(max: usize) -> Value {
    json!({"type": "string", "maxLength": max})
}

fn date() -> Value {
    json!({"type": "string", "description": "YYYY-MM-DD or an RFC 3339 time", "example": "2025-06-25"})
}

fn limit() -> Value {
    param(
        "limit",
        "Items per page.",
        json!({"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 20}),
    )
}

fn period() -> [Value; 2] {
    [
        param(
            "since",
            "Published on or after this day (or instant).",
            date(),
        ),
        param(
            "until",
            "Published on or before this day (or before this instant).",
            date(),
        ),
    ]
}

fn duplicates(default: &str) -> Value {
    param(
        "duplicates",
        "Whether republished copies (articles linked to an earlier copy) count.",
        json!({"type": "string", "enum": ["include", "exclude"], "default": default}),
    )
}

fn lang() -> Value {
    param(
        "lang",
        "Detected language of the article: ISO 639-1 (`fr`, `en`) or `und`.",
        json!({"type": "string", "pattern": "^[A-Za-z]{2,3}$"}),
    )
}

fn label() -> Value {
    json!({"type": "string", "enum": ["PER", "ORG", "LOC"]})
}

fn responses(ok: Value, extra: &[(&str, &str)]) -> Value {
    let mut r = json!({
        "200": {"description": "OK", "content": {"application/json": {"schema": ok}}},
        "400": {"description": "A parameter is invalid; the message says which.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "414": {"description": format!("The URL is longer than {MAX_URI_BYTES} bytes."), "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "503": {"description": "The database is unavailable or the query too slow.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    });
    for (code, description) in extra {
        r[*code] = json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    }
    r
}

fn page_of(item: &str) -> Value {
    json!({
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": format!("#/components/schemas/{item}")}},
            "next_cursor": {"type": "string", "nullable": true, "description": "Pass as `cursor` for the next page; null on the last page."}
        }
    })
}

fn nullable(t: &str) -> Value {
    json!({"type": t, "nullable": true})
}

/// The OpenAPI 3.0 description of the API.
pub fn openapi_document() -> Value {
    let mut articles_params = vec![
        param(
            "q",
            "Words that must all occur in the title or body (case and diacritics ignored).",
            text(500),
        ),
        lang(),
        param(
            "entity",
            "An entity the article names: canonical name or any mention (case and diacritics ignored).",
            text(500),
        ),
        param(
            "label",
            "Class of `entity`; alone, articles naming any entity of that class.",
            label(),
        ),
        param(
            "place",
            "A place the article names (its LOC entities, geocoded or not).",
            text(500),
        ),
        param(
            "country",
            "ISO 3166-1 alpha-2 code of a geocoded place the article names.",
            json!({"type": "string", "pattern": "^[A-Za-z]{2}$"}),
        ),
        param(
            "site",
            "Host of the page (`abamako.com` also matches its subdomains) or the site's name.",
            text(500),
        ),
    ];
    articles_params.extend(period());
    articles_params.extend([
        duplicates("include"),
        param(
            "sort",
            "`relevance` (default with `q`) or `newest` (default without).",
            json!({"type": "string", "enum": ["newest", "relevance"]}),
        ),
        param(
            "cursor",
            "`next_cursor` of the previous page (bound to the same filters).",
            text(1024),
        ),
        limit(),
    ]);
    let mut entity_params = vec![param("label", "Only this class.", label())];
    entity_params.extend(period());
    entity_params.extend([lang(), duplicates("exclude"), limit()]);
    let mut quote_params = vec![param(
        "speaker",
        "Who said it: canonical name, or the last word of it (surname); case and diacritics ignored.",
        text(500),
    )];
    quote_params.extend(period());
    quote_params.extend([
        lang(),
        duplicates("exclude"),
        param("cursor", "`next_cursor` of the previous page.", text(1024)),
        limit(),
    ]);

    let geo = json!({
        "type": "object", "nullable": true,
        "properties": {
            "geonames_id": {"type": "integer"}, "lat": {"type": "number"}, "lon": {"type": "number"},
            "country_code": {"type": "string"},
            "kind": {"type": "string", "enum": ["continent", "country", "region", "city", "other"]}
        }
    });

    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "newsflow query API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Search the articles newsflow stored: by words, language, entity, place, country, site and period; one article with its entities, quotes and places; the top entities of a period; quotations by speaker. Syndicated copies are linked to the earliest copy (`duplicate_of`)."
        },
        "paths": {
            "/articles": {"get": {
                "summary": "List articles",
                "description": "Every filter is optional; they combine with AND. Pages are linked by an opaque cursor.",
                "parameters": articles_params,
                "responses": responses(page_of("ArticleSummary"), &[])
            }},
            "/articles/{id}": {"get": {
                "summary": "One article with its entities, places, quotes and syndication links",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,128}$"}}],
                "responses": responses(json!({"$ref": "#/components/schemas/ArticleDetail"}), &[("404", "No article has this id.")])
            }},
            "/entities": {"get": {
                "summary": "Entities named by the most articles over a period",
                "parameters": entity_params,
                "responses": responses(json!({"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/EntityCount"}}}}), &[])
            }},
            "/quotes": {"get": {
                "summary": "Quotations, newest article first",
                "parameters": quote_params,
                "responses": responses(page_of("QuoteHit"), &[])
            }},
            "/healthz": {"get": {
                "summary": "Whether the database answers",
                "responses": {
                    "200": {"description": "Healthy", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}},
                    "503": {"description": "The database does not answer", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}
                }
            }},
            "/metrics": {"get": {
                "summary": "Prometheus metrics",
                "responses": {"200": {"description": "Text exposition format", "content": {"text/plain": {"schema": {"type": "string"}}}}}
            }},
            "/openapi.json": {"get": {
                "summary": "This document",
                "responses": {"200": {"description": "OpenAPI 3.0", "content": {"application/json": {"schema": {"type": "object"}}}}}
            }}
        },
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error", "status"], "properties": {
                "error": {"type": "string", "description": "What went wrong, for a person to read."},
                "status": {"type": "integer"}
            }},
            "Health": {"type": "object", "required": ["status", "backend"], "properties": {
                "status": {"type": "string", "enum": ["ok", "unavailable"]},
                "backend": {"type": "string", "enum": ["sqlite", "postgres"]},
                "error": {"type": "string"}
            }},
            "ArticleSummary": {"type": "object", "required": ["article_id", "url", "snippet"], "properties": {
                "article_id": {"type": "string"},
                "title": nullable("string"),
                "published": {"type": "string", "nullable": true, "description": "As the article gives it: RFC 3339 or YYYY-MM-DD."},
                "site_name": nullable("string"),
                "lang": nullable("string"),
                "url": {"type": "string"},
                "snippet": {"type": "string", "description": "Words around the match, or the start of the body."},
                "site": {"type": "string", "nullable": true, "description": "Host without www."},
                "original_publisher": {"type": "string", "nullable": true, "description": "The publisher the page says it republishes."},
                "duplicate_of": {"type": "string", "nullable": true, "description": "The earliest copy, when this is a republication."}
            }},
            "ArticleDetail": {"type": "object", "required": ["article_id", "article", "lang", "entities", "places", "quotes", "duplicates"], "properties": {
                "article_id": {"type": "string"},
                "trace_id": {"type": "string"},
                "article": {"type": "object", "description": "The parsed article (see schemas/enriched.v1.json in the repository)."},
                "site": nullable("string"),
                "lang": {"type": "string"},
                "summary": nullable("string"),
                "keywords": {"type": "array", "items": {"type": "object", "properties": {"text": {"type": "string"}, "score": {"type": "number"}}}},
                "tone": {"type": "object", "nullable": true, "properties": {"score": {"type": "number"}, "positive": {"type": "integer"}, "negative": {"type": "integer"}, "words": {"type": "integer"}}},
                "dates": {"type": "array", "items": {"type": "object"}},
                "fingerprint": {"type": "string", "nullable": true, "description": "64-bit SimHash, 16 hex digits."},
                "duplicate_of": nullable("string"),
                "duplicates": {"type": "array", "items": {"type": "string"}, "description": "Copies linked to this article."},
                "entities": {"type": "array", "items": {"type": "object", "properties": {
                    "canonical": {"type": "string"}, "label": label(), "mentions": {"type": "integer"},
                    "aliases": {"type": "array", "items": {"type": "string"}}, "geo": geo.clone()
                }}},
                "places": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string"}, "mentions": {"type": "integer"}, "geo": geo
                }}},
                "quotes": {"type": "array", "items": {"type": "object", "properties": {
                    "speaker": nullable("string"), "text": {"type": "string"},
                    "start": {"type": "integer"}, "end": {"type": "integer"}
                }}},
                "enriched_at": {"type": "string", "format": "date-time"},
                "first_stored_at": {"type": "string", "format": "date-time"},
                "stored_at": {"type": "string", "format": "date-time"},
                "schema_version": {"type": "integer"}
            }},
            "EntityCount": {"type": "object", "required": ["canonical", "label", "articles", "mentions"], "properties": {
                "canonical": {"type": "string"}, "label": label(),
                "articles": {"type": "integer", "description": "Articles naming it."},
                "mentions": {"type": "integer", "description": "Mentions over those articles."}
            }},
            "QuoteHit": {"type": "object", "required": ["article_id", "url", "text"], "properties": {
                "article_id": {"type": "string"}, "title": nullable("string"), "published": nullable("string"),
                "url": {"type": "string"}, "speaker": nullable("string"), "text": {"type": "string"}
            }}
        }}
    })
}
