//! Pages of 10 MB built to be expensive (every kind in `support/pages.rs`:
//! flat text, millions of tiny elements, deep nesting, giant JSON-LD,
//! attribute soup, …) finish and give a bounded, sensible result. Timing is
//! not asserted here: `examples/worst_pages.rs` measures it in release.

mod support {
    pub mod pages;
}

use support::pages;

#[test]
fn ten_megabyte_pathological_pages_give_bounded_results() {
    for kind in pages::KINDS {
        let html = pages::page(kind, 10 << 20);
        assert!(html.len() >= 10 << 20, "{kind}: {}", html.len());
        let a = newsflow_parse::extract(&html, Some("https://example.org/long"));
        // Nothing is invented: the text comes from the page, metadata is
        // short, lists are capped.
        assert!(a.body_text.len() <= html.len(), "{kind}");
        assert!(
            a.title.as_ref().is_some_and(|t| t.len() <= 600),
            "{kind}: {:?}",
            a.title
        );
        assert!(a.authors.len() <= 10, "{kind}: {:?}", a.authors);
        assert!(a.sections.len() <= 30, "{kind}");
        assert_eq!(a.url, "https://example.org/long");
        if *kind != "cli-synthetic" {
            // The metadata in the head is read whatever follows it.
            assert_eq!(
                a.published.as_deref(),
                Some("2025-06-25T07:13:00+00:00"),
                "{kind}"
            );
        }
    }
}

#[test]
fn a_page_past_the_node_bound_keeps_its_beginning() {
    // Past the node bound the tree stops growing; the article's
    // beginning is still found, even when it had to be looked for again
    // among hidden elements.
    let html = pages::page("hidden-article", 10 << 20);
    let a = newsflow_parse::extract(&html, None);
    assert!(
        a.body_text.starts_with("1. Le ministre a rappelé"),
        "{}",
        &a.body_text[..100]
    );
    let html = pages::page("cli-synthetic", 10 << 20);
    let a = newsflow_parse::extract(&html, None);
    assert!(
        a.body_text
            .starts_with("Paragraph 1 of a very long article")
    );
    assert!(a.body_text.len() > 2 << 20, "{}", a.body_text.len());
}
