//! The seed page (`seeds/abamako-300961.html`, served in windows-1252) must
//! extract to `seeds/expected/parsed.json`, field by field.

use std::path::PathBuf;

use newsflow_core::Article;

fn seeds() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../seeds")
}

fn seed_article() -> Article {
    let bytes = std::fs::read(seeds().join("abamako-300961.html")).expect("seed page");
    let (html, _, had_errors) = encoding_rs::WINDOWS_1252.decode(&bytes);
    assert!(!had_errors, "the seed page must be valid windows-1252");
    newsflow_parse::extract(&html, Some("http://news.abamako.com/h/300961.html"))
}

fn expected() -> Article {
    let text =
        std::fs::read_to_string(seeds().join("expected/parsed.json")).expect("expected article");
    serde_json::from_str(&text).expect("expected article parses as an Article")
}

#[test]
fn seed_page_matches_expected_article() {
    let got = seed_article();
    let want = expected();
    assert_eq!(got.url, want.url, "url");
    assert_eq!(got.final_url, want.final_url, "final_url");
    assert_eq!(got.canonical_url, want.canonical_url, "canonical_url");
    assert_eq!(got.title, want.title, "title");
    assert_eq!(got.authors, want.authors, "authors");
    assert_eq!(got.published, want.published, "published");
    assert_eq!(got.modified, want.modified, "modified");
    assert_eq!(got.site_name, want.site_name, "site_name");
    assert_eq!(
        got.original_publisher, want.original_publisher,
        "original_publisher"
    );
    assert_eq!(got.lang_hint, want.lang_hint, "lang_hint");
    assert_eq!(got.description, want.description, "description");
    assert_eq!(got.image, want.image, "image");
    assert_eq!(got.sections, want.sections, "sections");
    assert_eq!(got.tags, want.tags, "tags");
    if got.body_text != want.body_text {
        let g: Vec<&str> = got.body_text.split("\n\n").collect();
        let w: Vec<&str> = want.body_text.split("\n\n").collect();
        panic!(
            "body_text differs\n--- got {} paragraphs:\n{:#?}\n--- want {} paragraphs:\n{:#?}",
            g.len(),
            g,
            w.len(),
            w
        );
    }
    assert_eq!(got, want, "whole article");
}

#[test]
fn seed_page_has_no_mojibake() {
    let got = serde_json::to_string(&seed_article()).expect("serialises");
    assert!(
        !got.contains('Ã'),
        "UTF-8 read as windows-1252 somewhere: {got}"
    );
    assert!(
        !got.contains('\u{FFFD}'),
        "replacement character in output: {got}"
    );
    for word in ["Goïta", "« L’avenir est prometteur »", "Envoyés"] {
        if word == "Envoyés" {
            assert!(!got.contains(word), "the byline must not stay in the body");
        } else {
            assert!(got.contains(word), "missing {word}");
        }
    }
}

#[test]
fn body_paragraphs_are_separated_by_one_blank_line() {
    let body = seed_article().body_text;
    assert!(body.starts_with("L'économique s'impose"));
    assert!(body.ends_with("qui infestent nos terres."));
    assert!(!body.contains("\n\n\n"));
    for para in body.split("\n\n") {
        assert!(
            !para.contains('\n') && !para.contains("  ") && para == para.trim(),
            "paragraph not normalised: {para:?}"
        );
    }
    for boilerplate in [
        "Accueil",
        "Facebook",
        "Signature d`accords",
        "Articles liés",
        "Commentaires",
        "Les plus lus",
        "Tous droits réservés",
        "Publié le",
    ] {
        assert!(
            !body.contains(boilerplate),
            "boilerplate {boilerplate:?} in body"
        );
    }
}
