//! Extraction tests on small pages: each builds a page from a body snippet
//! and checks one rule.

use chrono::Utc;
use newsflow_core::{CharsetSource, Envelope, Fetched, Stage, StageError};

use super::*;

fn page(head: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\">{head}</head><body>{body}</body></html>"
    )
}

const P1: &str = "Le Général de corps d'armée Sadio Camara est dans la délégation présidentielle lors de cette visite officielle en Fédération de Russie, a-t-on appris.";
const P2: &str = "C'est dire combien la coopération militaire prend une place prépondérante dans les relations diplomatiques entre les deux pays, selon plusieurs sources.";
const P3: &str = "Le lundi 23 juin, avant la rencontre entre les deux Chefs d'État, le Général Camara était au ministère de la Défense russe pour rencontrer son homologue.";

fn nav_and_footer(article: &str) -> String {
    format!(
        r#"<header class="site-header"><nav class="menu"><ul><li><a href="/">Accueil</a></li><li><a href="/politique">Politique</a></li><li><a href="/sport">Sport</a></li></ul></nav></header>
        <div class="ticker"><a href="/a">Autre titre qui défile, très long et plein de mots</a> <a href="/b">Encore un titre de l'actualité du jour</a></div>
        <div class="breadcrumb"><a href="/">Accueil</a> &gt; <a href="/politique">Politique</a></div>
        <div id="main">{article}</div>
        <aside class="sidebar"><h3>Les plus lus</h3><ul><li><a href="/x">Un article très lu, avec beaucoup de mots, de virgules, et de texte</a></li></ul></aside>
        <div class="cookie-banner">Ce site utilise des cookies, pour mesurer l'audience, pour vous proposer des publicités. Accepter ?</div>
        <footer><p>© 2025 Exemple. Tous droits réservés, reproduction interdite, sauf autorisation.</p></footer>"#
    )
}

#[test]
fn boilerplate_is_removed_and_paragraphs_kept() {
    let article = format!(
        r#"<article><h1>Le titre</h1><div class="share"><a href="/s">Facebook</a> <a href="/s">Twitter</a></div>
        <p>{P1}</p><h2>Un intertitre</h2><p>{P2}</p>
        <ul><li>Premier point de la liste, qui est assez long pour compter.</li><li>Second point de la liste.</li></ul>
        <blockquote><p>« Une citation importante », a-t-il dit.</p></blockquote>
        <p>{P3}</p>
        <div class="related"><h3>À lire aussi</h3><ul><li><a href="/y">Un autre article sans rapport</a></li></ul></div>
        <section id="comments"><h3>2 commentaires</h3><div class="comment"><p>Un lecteur en colère, qui écrit beaucoup, avec des virgules, et encore.</p></div></section>
        </article>"#
    );
    let a = extract(
        &page("", &nav_and_footer(&article)),
        Some("https://example.org/a"),
    );
    assert_eq!(
        a.body_text,
        format!(
            "{P1}\n\nUn intertitre\n\n{P2}\n\nPremier point de la liste, qui est assez long pour compter.\n\nSecond point de la liste.\n\n« Une citation importante », a-t-il dit.\n\n{P3}"
        )
    );
}

#[test]
fn double_br_splits_paragraphs_and_whitespace_collapses() {
    let body = format!(
        "<div class=\"texte\">{P1}<br><br>\n {P2}  <br>suite\n  du   paragraphe.<br/><br/>{P3}</div>"
    );
    let a = extract(&page("", &body), None);
    assert_eq!(
        a.body_text,
        format!("{P1}\n\n{P2} suite du paragraphe.\n\n{P3}")
    );
    assert_eq!(a.url, "");
}

#[test]
fn captions_under_images_are_removed() {
    let body = format!(
        r#"<div class="article"><div class="photo"><img src="/p.jpg" alt=""><br><span>Signature d`accords entre le Mali et la Russie</span></div>
        <figure><img src="/q.jpg"><figcaption>Une légende de figure</figcaption></figure>
        <img src="/r.jpg"><p>Une légende courte sous l'image</p>
        <p>{P1}</p><p>{P2}</p></div>"#
    );
    let a = extract(&page("", &body), None);
    assert_eq!(a.body_text, format!("{P1}\n\n{P2}"));
}

#[test]
fn trailing_byline_gives_authors_and_is_removed() {
    let body = format!(
        "<div class=\"article\"><p>{P1}</p><p>{P2}</p><p>{P3}</p><p><strong>Envoyés spéciaux</strong></p><p><strong>Alassane SOULEYMANE et Oumar DIOP</strong></p></div>"
    );
    let a = extract(&page("", &body), None);
    assert_eq!(a.authors, vec!["Alassane Souleymane", "Oumar Diop"]);
    assert_eq!(a.body_text, format!("{P1}\n\n{P2}\n\n{P3}"));
}

#[test]
fn leading_byline_and_dateline_are_removed() {
    let body = format!(
        "<div class=\"story\"><h1>Titre</h1><p>By Jane DOE and John Smith</p><p>Published June 25, 2025</p><p>{P1}</p><p>{P2}</p></div>"
    );
    let a = extract(&page("", &body), None);
    assert_eq!(a.authors, vec!["Jane Doe", "John Smith"]);
    assert_eq!(a.published.as_deref(), Some("2025-06-25"));
    assert_eq!(a.body_text, format!("{P1}\n\n{P2}"));
}

#[test]
fn byline_element_and_meta_author() {
    let body = format!(
        "<div class=\"byline\">Par <a rel=\"author\" href=\"/a\">Marie DUPONT</a></div><article><p>{P1}</p><p>{P2}</p></article>"
    );
    let a = extract(&page("", &body), None);
    assert_eq!(a.authors, vec!["Marie Dupont"]);
    let a = extract(
        &page(
            r#"<meta name="author" content="Awa Traoré, Moussa Keïta et Fatou Diallo">"#,
            &body,
        ),
        None,
    );
    assert_eq!(
        a.authors,
        vec!["Awa Traoré", "Moussa Keïta", "Fatou Diallo"]
    );
}

#[test]
fn jsonld_author_and_dates_win() {
    let head = r#"<script type="application/ld+json">{"@type":"NewsArticle","headline":"H","author":[{"@type":"Person","name":"Oumar DIOP"}],"datePublished":"2025-06-25T07:13:00+00:00","dateModified":"2025-06-26T08:00:00+00:00","articleSection":"Politique"}</script>
    <meta property="article:published_time" content="2020-01-01">"#;
    let a = extract(
        &page(head, &format!("<article><p>{P1}</p></article>")),
        None,
    );
    assert_eq!(a.authors, vec!["Oumar Diop"]);
    assert_eq!(a.published.as_deref(), Some("2025-06-25T07:13:00+00:00"));
    assert_eq!(a.modified.as_deref(), Some("2025-06-26T08:00:00+00:00"));
    assert_eq!(a.sections, vec!["Politique"]);
}

#[test]
fn dates_from_meta_time_text_and_url() {
    let body = format!("<article><p>{P1}</p><p>{P2}</p></article>");
    let a = extract(
        &page(
            r#"<meta property="article:published_time" content="2025-06-25T07:13:00+02:00">"#,
            &body,
        ),
        None,
    );
    assert_eq!(a.published.as_deref(), Some("2025-06-25T07:13:00+02:00"));

    let with_time =
        format!("<article><time datetime=\"2025-06-24\">hier</time><p>{P1}</p></article>");
    assert_eq!(
        extract(&page("", &with_time), None).published.as_deref(),
        Some("2025-06-24")
    );

    let text = format!(
        "<div class=\"article\"><h1>T</h1><div>Publié le mercredi 25 juin 2025 | L'Essor</div><p>{P1}</p><p>{P2}</p></div>"
    );
    let a = extract(&page("", &text), Some("http://news.example.com/h/1.html"));
    assert_eq!(a.published.as_deref(), Some("2025-06-25"));
    assert_eq!(a.original_publisher.as_deref(), Some("L'Essor"));
    assert!(!a.body_text.contains("Publié"));

    let numeric = format!(
        "<div class=\"article\"><span class=\"date\">25/06/2025 à 07:13</span><p>{P1}</p></div>"
    );
    assert_eq!(
        extract(&page("", &numeric), None).published.as_deref(),
        Some("2025-06-25")
    );

    let german = format!(
        "<div class=\"article\"><p class=\"meta\">Aktualisiert am 26. Juni 2025, veröffentlicht am 25. Juni 2025</p><p>{P1}</p></div>"
    );
    let a = extract(&page("", &german), None);
    assert_eq!(a.published.as_deref(), Some("2025-06-25"));
    assert_eq!(a.modified.as_deref(), Some("2025-06-26"));

    let a = extract(
        &page("", &body),
        Some("https://example.org/2025/06/25/story/"),
    );
    assert_eq!(a.published.as_deref(), Some("2025-06-25"));
}

#[test]
fn original_publisher_is_not_the_site() {
    let text = format!(
        "<div class=\"article\"><div>Publié le 25 juin 2025 | Abamako</div><p>{P1}</p></div>"
    );
    let a = extract(&page("", &text), Some("http://news.abamako.com/h/1.html"));
    assert_eq!(a.original_publisher, None);
    let src = format!("<div class=\"article\"><p>{P1}</p><p>{P2}</p><p>Source : AFP</p></div>");
    let a = extract(&page("", &src), Some("https://example.org/a"));
    assert_eq!(a.original_publisher.as_deref(), Some("AFP"));
    assert_eq!(a.body_text, format!("{P1}\n\n{P2}"));
}

#[test]
fn title_suffixes_are_removed() {
    let check = |head: &str, body: &str, url: Option<&str>, expect: &str| {
        let a = extract(&page(head, body), url);
        assert_eq!(a.title.as_deref(), Some(expect), "head: {head}");
    };
    let body = format!("<article><p>{P1}</p></article>");
    check(
        "<title>Le ministre parle - abamako.com</title>",
        &body,
        None,
        "Le ministre parle",
    );
    check(
        "<title>Big story | The Daily</title><meta property=\"og:site_name\" content=\"The Daily\">",
        &body,
        None,
        "Big story",
    );
    check(
        "<title>Big story – Example News</title>",
        &body,
        Some("https://www.example-news.org/x"),
        "Big story",
    );
    check(
        "<title>Example | Big story</title>",
        &body,
        Some("https://example.org/x"),
        "Big story",
    );
    check(
        "<title>Mali : « L’avenir est prometteur » - Site</title>",
        &format!("<article><h1>Mali : « L’avenir est prometteur »</h1><p>{P1}</p></article>"),
        None,
        "Mali : « L’avenir est prometteur »",
    );
    // og:title wins over <title>, and a dash inside the headline stays.
    check(
        "<title>x - y - Site</title><meta property=\"og:title\" content=\"Covid-19 - a year on\">",
        &body,
        None,
        "Covid-19 - a year on",
    );
}

#[test]
fn metadata_fields() {
    let head = r#"<meta property="og:site_name" content="Le Site"><meta property="og:locale" content="en_GB">
        <link rel="canonical" href="/a/b"><meta property="og:image" content="/img.jpg">
        <meta name="description" content="Résumé.">
        <meta property="article:section" content="Afrique"><meta property="article:tag" content="Mali">"#;
    let html =
        format!("<html><head>{head}</head><body><article><p>{P1}</p></article></body></html>");
    let a = extract(&html, Some("https://example.org/x/y"));
    assert_eq!(a.site_name.as_deref(), Some("Le Site"));
    assert_eq!(a.lang_hint.as_deref(), Some("en"));
    assert_eq!(a.canonical_url.as_deref(), Some("https://example.org/a/b"));
    assert_eq!(a.image.as_deref(), Some("https://example.org/img.jpg"));
    assert_eq!(a.description.as_deref(), Some("Résumé."));
    assert_eq!(a.sections, vec!["Afrique", "Mali"]);
    let a = extract(&page("", "<p>x</p>"), Some("https://www.example.org/x"));
    assert_eq!(a.site_name.as_deref(), Some("example.org"));
    assert_eq!(a.lang_hint.as_deref(), Some("fr"));
}

#[test]
fn hostile_inputs_do_not_panic_and_stay_fast() {
    let deep = format!(
        "{}{}{}",
        "<div>".repeat(100_000),
        "texte profond, avec des virgules, et des mots.",
        "</div>".repeat(100_000)
    );
    let started = std::time::Instant::now();
    let _ = extract(&deep, Some("::not a url::"));
    let nested_inline = format!("{}x", "<b><i><a>".repeat(20_000));
    let _ = extract(&nested_inline, None);
    let big_ld = format!(
        "<script type=\"application/ld+json\">{{\"a\":\"{}\"}}</script>{}",
        "x".repeat(2 << 20),
        "[".repeat(10_000)
    );
    let _ = extract(&big_ld, None);
    for junk in [
        "",
        "<",
        "<html",
        "\u{0}\u{ffff}",
        "<p>&#0;&#xD800;</p>",
        "<table><td><p><li><table>",
    ] {
        let _ = extract(junk, None);
    }
    assert!(
        started.elapsed().as_secs() < 60,
        "took {:?}",
        started.elapsed()
    );
}

fn fetched(html: &str) -> Envelope<Fetched> {
    Envelope::new(
        "0123456789abcdef",
        "trace",
        Fetched {
            url: "http://example.org/a".into(),
            final_url: "https://example.org/a".into(),
            redirects: vec![],
            status: 200,
            content_type: Some("text/html".into()),
            charset: "utf-8".into(),
            charset_source: CharsetSource::Header,
            bytes: html.len() as u64,
            elapsed_ms: 1,
            fetched_at: Utc::now(),
            etag: None,
            last_modified: None,
            tags: vec!["sahel".into()],
            html: html.into(),
        },
    )
}

#[tokio::test]
async fn stage_parses_and_carries_fields() {
    let out = Parse::new(ParseConfig::default())
        .handle(fetched(&page(
            "",
            &format!("<article><p>{P1}</p></article>"),
        )))
        .await
        .unwrap();
    assert_eq!(out.len(), 1);
    let a = &out[0].data.article;
    assert_eq!(a.url, "http://example.org/a");
    assert_eq!(a.final_url.as_deref(), Some("https://example.org/a"));
    assert_eq!(a.tags, vec!["sahel"]);
    assert_eq!(a.body_text, P1);
    assert_eq!(out[0].article_id, "0123456789abcdef");
    assert_eq!(out[0].trace_id, "trace");
    assert_eq!(out[0].kind, "parsed");
}

#[tokio::test]
async fn stage_rejects_empty_and_oversize() {
    let stage = Parse::new(ParseConfig {
        max_html_bytes: 1000,
        ..ParseConfig::default()
    });
    let err = stage
        .handle(fetched(
            "<html><body><nav><a href=/>x</a></nav></body></html>",
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, StageError::Reject { .. }));
    assert_eq!(err.kind(), "no_article");
    let err = stage.handle(fetched(&"x".repeat(1001))).await.unwrap_err();
    assert_eq!(err.kind(), "too_large");
}

#[test]
fn config_rejects_unknown_fields_and_defaults() {
    let c: ParseConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(c, ParseConfig::default());
    assert_eq!(c.max_html_bytes, 16 << 20);
    assert!(serde_json::from_str::<ParseConfig>("{\"max_html_bytez\":1}").is_err());
}
