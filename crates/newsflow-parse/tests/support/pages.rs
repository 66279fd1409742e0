//! Pathological pages of a given size, one per way a page can be big:
//! shared by the bounded-result test (`tests/pathological.rs`) and the
//! timing harness (`examples/worst_pages.rs`).

use std::fmt::Write as _;

/// A sentence of article prose (commas, an accent, an entity).
const SENTENCE: &str = "Le ministre a rappelé, lors de sa visite, que la coopération « se poursuit » et que les d&eacute;lais seront tenus. ";

/// Every kind of page, by name.
pub const KINDS: &[&str] = &[
    "cli-synthetic",
    "flat-text",
    "small-paragraphs",
    "deep-nesting",
    "deep-inline",
    "giant-jsonld",
    "many-jsonld",
    "tables-links",
    "attribute-soup",
    "br-soup",
    "hidden-article",
    "script-state",
    "one-long-line",
    "p-soup",
    "br-only",
];

/// The page of kind `kind`, at least `bytes` long.
pub fn page(kind: &str, bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + (64 << 10));
    let head = |s: &mut String| {
        s.push_str("<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Une longue page - Exemple</title>");
        s.push_str("<meta property=\"og:title\" content=\"Une longue page\"><meta name=\"author\" content=\"Awa Traoré\">");
        s.push_str(
            "<meta property=\"article:published_time\" content=\"2025-06-25T07:13:00+00:00\">",
        );
    };
    match kind {
        "cli-synthetic" => return cli_synthetic(bytes),
        "flat-text" => {
            head(&mut s);
            s.push_str("</head><body><article><h1>Une longue page</h1><p>");
            while s.len() < bytes {
                s.push_str(SENTENCE);
            }
            s.push_str("</p></article></body></html>");
        }
        "small-paragraphs" => {
            head(&mut s);
            s.push_str("</head><body><article><h1>Une longue page</h1>");
            let mut i = 0u64;
            while s.len() < bytes {
                i += 1;
                let _ = writeln!(s, "<p>Phrase {i}, courte.</p>");
            }
            s.push_str("</article></body></html>");
        }
        "deep-nesting" => {
            // Blocks nested 300 deep (past the parser's cap), text at the
            // bottom, over and over.
            head(&mut s);
            s.push_str("</head><body><main>");
            while s.len() < bytes {
                for _ in 0..300 {
                    s.push_str("<div class=\"l\">");
                }
                s.push_str(SENTENCE);
                for _ in 0..300 {
                    s.push_str("</div>");
                }
            }
            s.push_str("</main></body></html>");
        }
        "deep-inline" => {
            // Inline elements opened and never closed.
            head(&mut s);
            s.push_str("</head><body><div>");
            let mut i = 0u64;
            while s.len() < bytes {
                i += 1;
                let _ = write!(s, "<b><i><a href=\"/x/{i}\"><span>mot, {i} ");
            }
            s.push_str("</div></body></html>");
        }
        "giant-jsonld" => {
            head(&mut s);
            s.push_str("<script type=\"application/ld+json\">{\"@type\":\"NewsArticle\",\"headline\":\"Une longue page\",\"articleBody\":\"");
            while s.len() < bytes {
                s.push_str("Texte de données structurées, répété. ");
            }
            s.push_str("\"}</script></head><body><article><h1>Une longue page</h1>");
            for _ in 0..5 {
                s.push_str("<p>");
                s.push_str(SENTENCE);
                s.push_str("</p>");
            }
            s.push_str("</article></body></html>");
        }
        "many-jsonld" => {
            // Many blobs just under the size limit, each one valid JSON-LD.
            head(&mut s);
            while s.len() < bytes {
                s.push_str(
                    "<script type=\"application/ld+json\">{\"@type\":\"WebPage\",\"items\":[",
                );
                let start = s.len();
                let mut i = 0u64;
                while s.len() - start < (1 << 20) - 4096 {
                    i += 1;
                    let _ = write!(
                        s,
                        "{{\"@type\":\"Thing\",\"name\":\"Objet {i}\",\"n\":[1,2,3]}},"
                    );
                }
                s.push_str("{}]}</script>");
            }
            s.push_str("</head><body><article><h1>Une longue page</h1>");
            for _ in 0..5 {
                s.push_str("<p>");
                s.push_str(SENTENCE);
                s.push_str("</p>");
            }
            s.push_str("</article></body></html>");
        }
        "tables-links" => {
            head(&mut s);
            s.push_str("</head><body><article><h1>Une longue page</h1><p>");
            s.push_str(SENTENCE);
            s.push_str("</p>");
            let mut i = 0u64;
            while s.len() < bytes {
                s.push_str("<table class=\"data\"><tr><th>A</th><th>B</th></tr>");
                for _ in 0..20 {
                    i += 1;
                    let _ = write!(
                        s,
                        "<tr><td><a href=\"/t/{i}\">Lien {i}</a></td><td>{i}, valeur</td></tr>"
                    );
                }
                s.push_str("</table><ul>");
                for _ in 0..10 {
                    i += 1;
                    let _ = write!(s, "<li><a href=\"/l/{i}\">Article {i}</a>");
                }
                s.push_str("</ul>");
            }
            s.push_str("</article></body></html>");
        }
        "attribute-soup" => {
            head(&mut s);
            s.push_str("</head><body><article><h1>Une longue page</h1>");
            let mut i = 0u64;
            while s.len() < bytes {
                i += 1;
                let _ = write!(
                    s,
                    "<div class=\"col-md-6 content-wrapper article-body-text share-tools widget-{i} comment-count related-links\" \
                     id=\"block-{i}\" style=\"margin : 0 ; padding : 1px ; color : #333 ; font-family : Arial\" \
                     data-a=\"&amp;&lt;&gt;&quot;{i}\" data-b='x' data-c=y aria-label=\"Bloc {i}\" role=\"region\" \
                     itemprop=\"text\" data-tracking=\"{{&quot;id&quot;:{i},&quot;kind&quot;:&quot;block&quot;}}\" \
                     title=\"Un titre d&eacute;taill&eacute; {i}\"><span class=\"a b c d e f g h i j k l m n o p\" data-x=\"1\">{SENTENCE}</span></div>"
                );
            }
            s.push_str("</article></body></html>");
        }
        "br-soup" => {
            head(&mut s);
            s.push_str("</head><body><div class=\"content\">");
            while s.len() < bytes {
                s.push_str("Une ligne, un mot<br>encore<br><br>\n");
            }
            s.push_str("</div></body></html>");
        }
        "hidden-article" => {
            // The article sits in a hidden element: extraction retries
            // without hiding.
            head(&mut s);
            s.push_str(
                "</head><body><div style=\"display: none\"><article><h1>Une longue page</h1>",
            );
            let mut i = 0u64;
            while s.len() < bytes {
                i += 1;
                let _ = write!(s, "<p>{i}. {SENTENCE}<a href=\"/x/{i}\">lien</a></p>");
            }
            s.push_str("</article></div></body></html>");
        }
        "script-state" => {
            // A page rendered by JavaScript: the article is a JSON string
            // of HTML in a script, and the page shows nothing.
            head(&mut s);
            s.push_str("<script>window.__STATE__ = {\"teaser\":\"\\u003cp\\u003ecourt\\u003c/p\\u003e\",\"contentHtml\":\"");
            let mut i = 0u64;
            while s.len() < bytes {
                i += 1;
                let _ = write!(
                    s,
                    "\\u003cp class=\\\"x\\\"\\u003e{i}. Le ministre a rappel\\u00e9, lors de sa visite, que la coop\\u00e9ration se poursuit.\\u003c/p\\u003e"
                );
            }
            s.push_str("\"};</script></head><body><div id=\"app\"></div></body></html>");
        }
        "one-long-line" => {
            // One block of inline elements: a single line of megabytes.
            head(&mut s);
            s.push_str("</head><body><article><h1>Une longue page</h1><div>");
            let mut i = 0u64;
            while s.len() < bytes {
                i += 1;
                let _ = write!(
                    s,
                    "<span>{i}, mot</span> <em>et</em> <a href=\"/{i}\">lien</a> "
                );
            }
            s.push_str("</div></article></body></html>");
        }
        "p-soup" => {
            // The densest tree markup allows: a node every two bytes.
            head(&mut s);
            s.push_str("</head><body><article><h1>Une longue page</h1>");
            while s.len() < bytes {
                s.push_str("<p>x");
            }
            s.push_str("</article></body></html>");
        }
        "br-only" => {
            head(&mut s);
            s.push_str("</head><body><div>");
            s.push_str(SENTENCE);
            while s.len() < bytes {
                s.push_str("<br>");
            }
            s.push_str("</div></body></html>");
        }
        other => panic!("unknown page kind {other}"),
    }
    s
}

/// The page `newsflow bench extract` measures (its `synthetic_html`): a
/// long article inside deep layout, navigation and link lists, a large
/// inline script and a JSON-LD blob.
fn cli_synthetic(target_bytes: usize) -> String {
    let mut s = String::with_capacity(target_bytes + 4096);
    s.push_str("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>A long page - Example</title>");
    s.push_str("<script type=\"application/ld+json\">{\"@type\":\"NewsArticle\",\"headline\":\"A long page\",\"articleBody\":\"");
    for _ in 0..2000 {
        s.push_str("Filler text of a structured data blob. ");
    }
    s.push_str("\"}</script><script>var state = [");
    for i in 0..20_000 {
        let _ = write!(s, "{{\"id\":{i},\"t\":\"<div>x</div>\"}},");
    }
    s.push_str("0];</script></head><body><nav><ul>");
    for i in 0..2000 {
        let _ = write!(s, "<li><a href=\"/s/{i}\">Section {i}</a></li>");
    }
    s.push_str("</ul></nav><main><article><h1>A long page</h1>");
    let mut i = 0usize;
    while s.len() < target_bytes {
        i += 1;
        s.push_str("<div class=\"wrap\"><div><section>");
        let _ = write!(
            s,
            "<p>Paragraph {i} of a very long article, with commas, clauses, and <a href=\"/x/{i}\">a link</a>, written to measure how the extractor copes with size; it goes on for a while.</p>"
        );
        if i.is_multiple_of(10) {
            s.push_str("<ul class=\"related\"><li><a href=\"/r\">Related one</a></li><li><a href=\"/r2\">Related two</a></li></ul>");
        }
        s.push_str("</section></div></div>");
    }
    s.push_str("</article></main><footer>Footer</footer></body></html>");
    s
}
