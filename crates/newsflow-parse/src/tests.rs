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
    // Dates and bylines after the headline go too.
    check(
        "<title>Big story | DW | 28.04.2023</title>",
        &body,
        Some("https://www.dw.com/x"),
        "Big story",
    );
    check(
        "<title>Big story * The Daily * by Jane Doe</title><meta property=\"og:site_name\" content=\"The Daily\">",
        &body,
        None,
        "Big story",
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

#[test]
fn organisation_credited_when_no_person_is() {
    let head = r#"<meta property="og:site_name" content="Daily"><script type="application/ld+json">{"@type":"NewsArticle","headline":"H","author":{"@type":"Organization","name":"Daily"}}</script>"#;
    let a = extract(
        &page(head, &format!("<article><p>{P1}</p></article>")),
        None,
    );
    assert_eq!(a.authors, vec!["Daily"]);
    // A person named anywhere wins over the organisation.
    let a = extract(
        &page(
            head,
            &format!("<article><p>By Jane Doe</p><p>{P1}</p><p>{P2}</p></article>"),
        ),
        None,
    );
    assert_eq!(a.authors, vec!["Jane Doe"]);
    // Agency-style meta keys are read, and the site's own name is skipped
    // for them.
    let head = r#"<meta property="og:site_name" content="Daily"><meta name="author" content="Daily"><meta name="cXenseParse:author" content="Awa Traoré">"#;
    let a = extract(
        &page(head, &format!("<article><p>{P1}</p></article>")),
        None,
    );
    assert_eq!(a.authors, vec!["Awa Traoré"]);
}

#[test]
fn visible_headline_wins_when_it_agrees_with_metadata() {
    let body = |h1: &str| format!("<article><h1>{h1}</h1><p>{P1}</p><p>{P2}</p></article>");
    let head = r#"<meta property="og:site_name" content="Site"><meta property="og:title" content="Camara in Moscow: a military visit, explained | Site">"#;
    // The page's own headline, rewritten for sharing in og:title.
    let a = extract(
        &page(head, &body("Sadio Camara in Moscow for a military visit")),
        None,
    );
    assert_eq!(
        a.title.as_deref(),
        Some("Sadio Camara in Moscow for a military visit")
    );
    // An <h1> that shares nothing with the metadata is another story's.
    let a = extract(&page(head, &body("Weather: sunny spells all week")), None);
    assert_eq!(
        a.title.as_deref(),
        Some("Camara in Moscow: a military visit, explained")
    );
    // A headline printed as kicker and title inside the <h1>.
    let a = extract(
        &page(
            "",
            &body("<span class=\"kicker\">Mali</span> <div>Camara visits Moscow</div>"),
        ),
        None,
    );
    assert_eq!(a.title.as_deref(), Some("Mali: Camara visits Moscow"));
    // The same, with nothing between the parts.
    let a = extract(
        &page(
            "",
            &body("<span class=\"kicker\">Mali</span><span>Camara visits Moscow</span>"),
        ),
        None,
    );
    assert_eq!(a.title.as_deref(), Some("Mali: Camara visits Moscow"));
}

#[test]
fn escaped_entities_in_metadata_are_decoded() {
    let head = r#"<meta property="og:title" content="R&amp;uuml;ckbau &amp;#039;jetzt&amp;#039;"><meta name="description" content="Caf&amp;eacute;">"#;
    let a = extract(&page(head, &format!("<div><p>{P1}</p></div>")), None);
    assert_eq!(a.title.as_deref(), Some("Rückbau 'jetzt'"));
    assert_eq!(a.description.as_deref(), Some("Café"));
}

#[test]
fn jsonld_article_body_replaces_a_teaser() {
    let full = format!("{P1}\\n{P2}\\n{P3}\\n{P1} {P2}\\n{P3} {P2}");
    let head = format!(
        r#"<script type="application/ld+json">{{"@type":"NewsArticle","headline":"H","articleBody":"{full}"}}</script>"#
    );
    let teaser = format!("<article><p>{P1}</p><p>Subscribe to read the rest.</p></article>");
    let a = extract(&page(&head, &teaser), None);
    assert!(a.body_text.starts_with(&format!("{P1}\n\n{P2}\n\n{P3}")));
    assert!(!a.body_text.contains("Subscribe"));
    // A page that shows the whole text keeps its own paragraphs.
    let shown = format!("<article><p>{P1}</p><p>{P2}</p><p>{P3}</p></article>");
    let head = format!(
        r#"<script type="application/ld+json">{{"@type":"NewsArticle","articleBody":"{P1} {P2} {P3}"}}</script>"#
    );
    assert_eq!(
        extract(&page(&head, &shown), None).body_text,
        format!("{P1}\n\n{P2}\n\n{P3}")
    );
}

#[test]
fn ten_megabyte_page_is_linear() {
    let mut body = String::from("<nav><ul>");
    for i in 0..2000 {
        body.push_str(&format!("<li><a href=\"/s/{i}\">Section {i}</a></li>"));
    }
    body.push_str("</ul></nav><article><h1>Long</h1>");
    let mut i = 0;
    while body.len() < 10 << 20 {
        i += 1;
        body.push_str(&format!(
            "<div class=\"wrap\"><section><p>{i}. {P1} <a href=\"/x\">lien</a> {P3}</p></section></div>"
        ));
    }
    body.push_str("</article>");
    let html = page("", &body);
    let started = std::time::Instant::now();
    let a = extract(&html, None);
    assert!(a.body_text.len() > 5 << 20, "{}", a.body_text.len());
    // Debug builds are an order of magnitude slower than release (where
    // `newsflow bench extract` measures this page); the bound catches a
    // quadratic pass, not a slow constant.
    assert!(
        started.elapsed().as_secs() < 20,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn boxes_hidden_by_class_are_left_out() {
    let body = format!(
        r#"<article><div class="intro-body__premium hidden"><p>Subscribe now to read the latest news in your city, with unlimited access, every day, everywhere.</p></div>
        <p>{P1}</p><div class="d-none d-md-block"><p>{P2}</p></div><p>{P3}</p>
        <div id="similars"><h4>Ähnliche:</h4><p>Un autre article, qui parle d'autre chose, avec des virgules, et encore du texte.</p></div></article>"#
    );
    let a = extract(&page("", &body), None);
    assert_eq!(a.body_text, format!("{P1}\n\n{P2}\n\n{P3}"));
}

#[test]
fn a_feed_of_articles_gives_the_first() {
    let story = |a: &str, b: &str| {
        format!("<article class=\"story\"><h2>T</h2><p>{a}</p><p>{b}</p><p>{a} {b}</p></article>")
    };
    let body = format!(
        "<main>{}{}{}</main>",
        story(P1, P2),
        story(P3, P1),
        story(P2, P3)
    );
    let a = extract(&page("", &body), None);
    assert_eq!(a.body_text, format!("T\n\n{P1}\n\n{P2}\n\n{P1} {P2}"));
}

#[test]
fn credited_names_are_kept_as_written() {
    // A JSON-LD Person that is an agency or a desk.
    let head = r#"<script type="application/ld+json">{"@type":"NewsArticle","author":[{"@type":"Person","name":"The Associated Press"}]}</script>"#;
    let a = extract(
        &page(head, &format!("<article><p>{P1}</p></article>")),
        None,
    );
    assert_eq!(a.authors, vec!["The Associated Press"]);
    // "Site, City, Country" in the author meta is the site's credit: the
    // organisation in JSON-LD is the better answer.
    let head = r#"<meta property="og:site_name" content="hessen.example"><meta name="author" content="hessen.example, Frankfurt, Germany"><script type="application/ld+json">{"@type":"NewsArticle","author":{"@type":"NewsMediaOrganization","name":"Redaktion hessen.example"}}</script>"#;
    let a = extract(
        &page(head, &format!("<article><p>{P1}</p></article>")),
        None,
    );
    assert_eq!(a.authors, vec!["Redaktion hessen.example"]);
}

#[test]
fn a_list_told_in_headings_is_kept() {
    let body = format!(
        r#"<article><p>{P1}</p><h3>1. The company owned more than 1,300 projects in China.</h3><img src="a.jpg"><h3>2. It owed 300 billion dollars, more than any other company.</h3><img src="b.jpg"><p>{P2}</p><h3>Lire aussi</h3></article>"#
    );
    let a = extract(&page("", &body), None);
    assert_eq!(
        a.body_text,
        format!(
            "{P1}\n\n1. The company owned more than 1,300 projects in China.\n\n2. It owed 300 billion dollars, more than any other company.\n\n{P2}"
        )
    );
}

#[test]
fn embeds_and_media_labels_are_left_out() {
    let body = format!(
        r#"<article><p>{P1}</p><blockquote class="twitter-tweet"><p>Un tweet, avec des mots, des virgules, et un lien, pour faire long.</p>— Someone (@someone) July 18, 2026</blockquote><div class="video"><span>02:57 Min.</span></div><p>{P2}</p></article>"#
    );
    let a = extract(&page("", &body), None);
    assert_eq!(a.body_text, format!("{P1}\n\n{P2}"));
}

#[test]
fn commentary_is_not_a_comment_thread() {
    let body = format!(
        r#"<div class="commentary-body"><p>{P1}</p><p>{P2}</p></div><div class="comments"><p>{P3}</p></div>"#
    );
    let a = extract(&page("", &body), None);
    assert_eq!(a.body_text, format!("{P1}\n\n{P2}"));
}

#[test]
fn consent_placeholders_are_left_out() {
    let body = format!(
        r#"<article><p>{P1}</p><div class="x1"><p>Empfohlener redaktioneller Inhalt</p><p>Externen Inhalt anzeigen</p><p>Ich bin damit einverstanden, dass mir der externe Inhalt angezeigt wird. Damit können personenbezogene Daten an Drittplattformen übermittelt werden.</p></div><p>Ein Klick für den Datenschutz</p><p>{P2}</p>
        <p>Le règlement impose le consentement des utilisateurs, a rappelé la commission, qui veut des règles plus simples pour les entreprises.</p></article>"#
    );
    let a = extract(&page("", &body), None);
    assert_eq!(
        a.body_text,
        format!(
            "{P1}\n\nEmpfohlener redaktioneller Inhalt\n\n{P2}\n\nLe règlement impose le consentement des utilisateurs, a rappelé la commission, qui veut des règles plus simples pour les entreprises."
        )
    );
}

#[test]
fn subheadings_are_judged_by_their_box() {
    let body = format!(
        r#"<article><p>{P1}</p><h2 class="widget-title">Un intertitre</h2><p>{P2}</p><div class="related"><h3 class="widget-title">À lire</h3><ul><li><a href="/x">Autre chose</a></li></ul></div><p>{P3}</p></article>"#
    );
    let a = extract(&page("", &body), None);
    assert_eq!(
        a.body_text,
        format!("{P1}\n\nUn intertitre\n\n{P2}\n\n{P3}")
    );
}

#[test]
fn huge_titles_are_clipped_not_scanned_again_and_again() {
    // Found by the fuzzer: a title of kilobytes full of separators and
    // numbers made every title rule rescan it.
    let junk = "Mot 12 juin 2025 | par X - 03.04.2025 – ".repeat(2000);
    let head = format!("<title>{junk}</title><meta property=\"og:title\" content=\"{junk}\">");
    let started = std::time::Instant::now();
    let a = extract(&page(&head, &format!("<h1>{junk}</h1><p>{P1}</p>")), None);
    assert!(a.title.is_some_and(|t| t.len() <= 600));
    assert!(
        started.elapsed().as_secs() < 5,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn metadata_title_without_its_kicker_is_preferred() {
    let head = r#"<script type="application/ld+json">{"@type":"NewsArticle","headline":"«Evnukkmakeren»: Nordmann dømt til livstid"}</script><meta property="og:title" content="Nordmann dømt til livstid">"#;
    let a = extract(&page(head, &format!("<div><p>{P1}</p></div>")), None);
    assert_eq!(a.title.as_deref(), Some("Nordmann dømt til livstid"));
}

#[test]
fn lede_above_the_text_is_kept() {
    let lede = "Le président malien est à Moscou pour une visite officielle de trois jours, la première depuis son arrivée au pouvoir.";
    let head = format!(r#"<meta property="og:description" content="{lede}">"#);
    let body = format!(
        r#"<header><h1>Le titre de l'article</h1><p class="standfirst-x">{lede}</p></header><div class="texte"><p>{P1}</p><p>{P2}</p><p>{P3}</p></div>"#
    );
    let a = extract(&page(&head, &body), None);
    assert_eq!(a.body_text, format!("{lede}\n\n{P1}\n\n{P2}\n\n{P3}"));
}

#[test]
fn blocks_built_like_the_best_continue_the_article() {
    // The text component repeated around an ad and an embed.
    let block =
        |p: &str| format!(r#"<div class="mod paragraph"><div class="box"><p>{p}</p></div></div>"#);
    let body = format!(
        r#"<div class="page">{}{}<div class="ad-slot">Publicité</div>{}<div class="embed"><iframe src="x"></iframe></div>{}</div><div class="sidebar"><p>{P2}</p></div>"#,
        block(&format!("{P1} {P2}")),
        block(P3),
        block(P1),
        block(&format!("{P3} {P1}"))
    );
    let a = extract(&page("", &body), None);
    assert_eq!(
        a.body_text,
        format!("{P1} {P2}\n\n{P3}\n\n{P1}\n\n{P3} {P1}")
    );
}

#[test]
fn article_in_the_scripts_state_of_a_javascript_page() {
    let content = format!("<p>{P1}</p><p>{P2}</p><p>{P3}</p>");
    let state = serde_json::json!({"article": {"title": "T", "contentHtml": content}}).to_string();
    let state = state.replace('<', "\\u003c").replace('>', "\\u003e");
    let html = format!(
        "<html><head><title>T</title><script>window.__DATA__ = {state};</script></head><body><div id=\"root\"></div></body></html>"
    );
    let a = extract(&html, None);
    assert_eq!(a.body_text, format!("{P1}\n\n{P2}\n\n{P3}"));
}
