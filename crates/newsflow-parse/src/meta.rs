//! Machine-readable metadata: `<meta>` tags, `<link rel=canonical>`,
//! `<html lang>`, microdata `itemprop`s and JSON-LD.

use scraper::{Html, Node};
use serde_json::Value;

use crate::authors::split_names;
use crate::text::collapse_ws;

/// JSON-LD scripts bigger than this are skipped: real article metadata is a
/// few kilobytes, and a megabyte blob is a page's state dump.
const MAX_JSONLD_BYTES: usize = 1 << 20;
/// Values visited while walking one JSON-LD document.
const MAX_JSONLD_NODES: usize = 20_000;
/// Meta tags kept.
const MAX_META: usize = 2_000;

/// What the page declares about itself.
#[derive(Debug, Default)]
pub(crate) struct PageMeta {
    /// `(key, content)`: key is the lower-cased `property`, `name`,
    /// `itemprop` or `http-equiv:<value>` of a `<meta>`.
    pub metas: Vec<(String, String)>,
    /// `<title>`.
    pub title_tag: Option<String>,
    /// `<link rel=canonical>`.
    pub canonical: Option<String>,
    /// `<html lang>`.
    pub html_lang: Option<String>,
    /// The article object of the JSON-LD, if any.
    pub ld: LdArticle,
    /// Microdata `itemprop=datePublished` / `dateModified` values.
    pub micro_published: Option<String>,
    /// See `micro_published`.
    pub micro_modified: Option<String>,
}

/// The fields of a JSON-LD `Article` (or `NewsArticle`, `BlogPosting`, …)
/// that we use.
#[derive(Debug, Default)]
pub(crate) struct LdArticle {
    pub headline: Option<String>,
    pub authors: Vec<String>,
    pub published: Option<String>,
    pub modified: Option<String>,
    pub publisher: Option<String>,
    pub sections: Vec<String>,
    pub lang: Option<String>,
    pub description: Option<String>,
    pub image: Option<String>,
}

impl PageMeta {
    /// The first meta value for any of `keys`, in the order of `keys`.
    pub(crate) fn get(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|k| {
            self.metas
                .iter()
                .find(|(key, v)| key == k && !v.trim().is_empty())
                .map(|(_, v)| collapse_ws(v))
        })
    }

    /// Every meta value for `key`.
    pub(crate) fn all(&self, key: &str) -> Vec<String> {
        self.metas
            .iter()
            .filter(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| collapse_ws(v))
            .collect()
    }
}

/// Read the metadata of a parsed page.
pub(crate) fn collect(doc: &Html) -> PageMeta {
    let mut meta = PageMeta::default();
    let mut ld_docs: Vec<Value> = Vec::new();
    for node in doc.tree.root().descendants() {
        let Node::Element(el) = node.value() else {
            continue;
        };
        match el.name() {
            "html" if meta.html_lang.is_none() => {
                meta.html_lang = el
                    .attr("lang")
                    .or_else(|| el.attr("xml:lang"))
                    .map(str::to_string);
            }
            "meta" if meta.metas.len() < MAX_META => {
                let Some(content) = el.attr("content") else {
                    continue;
                };
                for attr in ["property", "name", "itemprop"] {
                    if let Some(key) = el.attr(attr) {
                        meta.metas
                            .push((key.trim().to_lowercase(), content.to_string()));
                    }
                }
                if let Some(key) = el.attr("http-equiv") {
                    meta.metas.push((
                        format!("http-equiv:{}", key.trim().to_lowercase()),
                        content.to_string(),
                    ));
                }
            }
            "title" if meta.title_tag.is_none() => {
                // The document title, not an SVG <title> in the body.
                let in_head = node
                    .ancestors()
                    .any(|a| a.value().as_element().is_some_and(|e| e.name() == "head"));
                let text: String = node
                    .children()
                    .filter_map(|c| c.value().as_text().map(|t| t.to_string()))
                    .collect();
                let text = collapse_ws(&text);
                if in_head && !text.is_empty() {
                    meta.title_tag = Some(text);
                }
            }
            "link" if meta.canonical.is_none() => {
                let rel = el.attr("rel").unwrap_or("").to_ascii_lowercase();
                if rel.split_whitespace().any(|r| r == "canonical")
                    && let Some(href) = el.attr("href").filter(|h| !h.trim().is_empty())
                {
                    meta.canonical = Some(href.trim().to_string());
                }
            }
            "script" => {
                let ty = el.attr("type").unwrap_or("").trim().to_ascii_lowercase();
                if ty != "application/ld+json" || ld_docs.len() >= 20 {
                    continue;
                }
                let len: usize = node
                    .children()
                    .filter_map(|c| c.value().as_text().map(|t| t.len()))
                    .sum();
                if len > MAX_JSONLD_BYTES {
                    continue;
                }
                let text: String = node
                    .children()
                    .filter_map(|c| c.value().as_text().map(|t| t.to_string()))
                    .collect();
                if let Some(v) = parse_jsonld(&text) {
                    ld_docs.push(v);
                }
            }
            _ => {}
        }
        if let Some(prop) = el.attr("itemprop") {
            let value = el.attr("content").or_else(|| el.attr("datetime"));
            match prop {
                "datePublished" if meta.micro_published.is_none() => {
                    meta.micro_published = value.map(str::to_string);
                }
                "dateModified" if meta.micro_modified.is_none() => {
                    meta.micro_modified = value.map(str::to_string);
                }
                _ => {}
            }
        }
    }
    meta.ld = ld_article(&ld_docs);
    meta
}

fn parse_jsonld(raw: &str) -> Option<Value> {
    let mut s = raw.trim();
    for junk in ["<!--", "//<![CDATA[", "<![CDATA["] {
        s = s.trim_start_matches(junk).trim();
    }
    for junk in ["-->", "//]]>", "]]>", ";"] {
        s = s.trim_end_matches(junk).trim();
    }
    if let Ok(v) = serde_json::from_str(s) {
        return Some(v);
    }
    // Raw line breaks and tabs inside strings are a common publisher bug.
    let cleaned: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    serde_json::from_str(&cleaned).ok()
}

fn types_of(obj: &serde_json::Map<String, Value>) -> Vec<String> {
    match obj.get("@type") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn is_article_type(t: &str) -> bool {
    let t = t.rsplit(['/', ':']).next().unwrap_or(t);
    t.ends_with("Article")
        || t.contains("BlogPosting")
        || t == "Report"
        || t == "SocialMediaPosting"
}

/// Find the article object among the JSON-LD documents (walking `@graph`s
/// and nested values, within a node budget), falling back to a `WebPage`.
fn ld_article(docs: &[Value]) -> LdArticle {
    let mut article: Option<&serde_json::Map<String, Value>> = None;
    let mut page: Option<&serde_json::Map<String, Value>> = None;
    let mut visited = 0usize;
    let mut stack: Vec<&Value> = docs.iter().rev().collect();
    while let Some(v) = stack.pop() {
        visited += 1;
        if visited > MAX_JSONLD_NODES || article.is_some() {
            break;
        }
        match v {
            Value::Object(obj) => {
                let types = types_of(obj);
                if types.iter().any(|t| is_article_type(t)) {
                    article = Some(obj);
                } else if page.is_none() && types.iter().any(|t| t.ends_with("WebPage")) {
                    page = Some(obj);
                }
                // Depth first, document order.
                for child in obj.values().collect::<Vec<_>>().into_iter().rev() {
                    if matches!(child, Value::Object(_) | Value::Array(_)) {
                        stack.push(child);
                    }
                }
            }
            Value::Array(items) => stack.extend(items.iter().rev()),
            _ => {}
        }
    }
    let Some(obj) = article.or(page) else {
        return LdArticle::default();
    };
    let get = |k: &str| obj.get(k).and_then(ld_text);
    let mut sections = Vec::new();
    if let Some(v) = obj.get("articleSection") {
        sections.extend(ld_list(v));
    }
    if let Some(v) = obj.get("keywords") {
        sections.extend(ld_list(v));
    }
    LdArticle {
        headline: get("headline").or_else(|| get("name")),
        authors: obj
            .get("author")
            .or_else(|| obj.get("creator"))
            .map(ld_authors)
            .unwrap_or_default(),
        published: get("datePublished").or_else(|| get("dateCreated")),
        modified: get("dateModified"),
        publisher: obj.get("publisher").and_then(ld_name),
        sections,
        lang: get("inLanguage"),
        description: get("description"),
        image: obj
            .get("image")
            .or_else(|| obj.get("thumbnailUrl"))
            .and_then(ld_url),
    }
}

/// A text value: a string, a number, `{"@value": …}`, or the first of a list.
fn ld_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(collapse_ws(s)).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(o) => o.get("@value").and_then(ld_text),
        Value::Array(a) => a.iter().find_map(ld_text),
        _ => None,
    }
}

fn ld_name(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(collapse_ws(s)).filter(|s| !s.is_empty()),
        Value::Object(o) => o.get("name").and_then(ld_text),
        Value::Array(a) => a.iter().find_map(ld_name),
        _ => None,
    }
}

fn ld_url(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Object(o) => o
            .get("url")
            .or_else(|| o.get("contentUrl"))
            .and_then(ld_url),
        Value::Array(a) => a.iter().find_map(ld_url),
        _ => None,
    }
}

/// A list value: an array, or a comma-separated string.
fn ld_list(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => s
            .split(',')
            .map(collapse_ws)
            .filter(|s| !s.is_empty())
            .collect(),
        Value::Array(a) => a.iter().filter_map(ld_text).collect(),
        _ => Vec::new(),
    }
}

/// Authors: strings, `Person` objects, or lists of them. Organisations are
/// not authors (they are usually the publisher repeated).
fn ld_authors(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().take(20).collect(),
        other => vec![other],
    };
    for item in items {
        match item {
            Value::String(s) => out.extend(split_names(s, false)),
            Value::Object(o) => {
                let types = types_of(o);
                if types.iter().any(|t| t.contains("Organization")) {
                    continue;
                }
                if let Some(name) = o.get("name").and_then(ld_text) {
                    out.extend(split_names(&name, false));
                } else if let (Some(g), Some(f)) = (
                    o.get("givenName").and_then(ld_text),
                    o.get("familyName").and_then(ld_text),
                ) {
                    out.extend(split_names(&format!("{g} {f}"), false));
                }
            }
            _ => {}
        }
    }
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_jsonld_article_in_graph() {
        let html = r#"<html><head><script type="application/ld+json">
        {"@context":"https://schema.org","@graph":[
          {"@type":"WebSite","name":"Example"},
          {"@type":["NewsArticle"],"headline":"Big news",
           "author":[{"@type":"Person","name":"JANE DOE"},{"@type":"Organization","name":"Example"}],
           "datePublished":"2025-06-25T07:13:00+02:00","publisher":{"@type":"Organization","name":"Example Daily"},
           "articleSection":["World"],"keywords":"mali, russia","image":{"@type":"ImageObject","url":"https://x.org/i.jpg"}}
        ]}</script></head><body></body></html>"#;
        let meta = collect(&Html::parse_document(html));
        assert_eq!(meta.ld.headline.as_deref(), Some("Big news"));
        assert_eq!(meta.ld.authors, vec!["Jane Doe"]);
        assert_eq!(meta.ld.publisher.as_deref(), Some("Example Daily"));
        assert_eq!(meta.ld.sections, vec!["World", "mali", "russia"]);
        assert_eq!(meta.ld.image.as_deref(), Some("https://x.org/i.jpg"));
    }

    #[test]
    fn survives_broken_jsonld() {
        let html = "<script type='application/ld+json'>{\"@type\":\"NewsArticle\",\"headline\":\"a\nb\"}</script><script type='application/ld+json'>{{{</script>";
        let meta = collect(&Html::parse_document(html));
        assert_eq!(meta.ld.headline.as_deref(), Some("a b"));
    }
}
