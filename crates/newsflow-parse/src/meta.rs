//! Machine-readable metadata: `<meta>` tags, `<link rel=canonical>`,
//! `<html lang>`, microdata `itemprop`s and JSON-LD.

use serde_json::Value;

use crate::authors::split_names;
use crate::dom::{Dom, Tag};
use crate::text::collapse_ws;

/// JSON-LD scripts bigger than this are skipped: real article metadata is a
/// few kilobytes, and a megabyte blob is a page's state dump.
const MAX_JSONLD_BYTES: usize = 1 << 20;
/// JSON-LD text parsed per page, all scripts together: parsing builds a
/// tree of allocations, the slowest thing done per byte here.
const MAX_JSONLD_TOTAL_BYTES: usize = 2 << 20;
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
    /// Organisations credited as author (a desk, an agency, the paper).
    pub org_authors: Vec<String>,
    pub published: Option<String>,
    pub modified: Option<String>,
    pub publisher: Option<String>,
    pub sections: Vec<String>,
    pub lang: Option<String>,
    pub description: Option<String>,
    pub image: Option<String>,
    /// `articleBody`, the full text some pages give behind a teaser.
    pub body: Option<String>,
}

impl PageMeta {
    /// The first meta value for any of `keys`, in the order of `keys`.
    pub(crate) fn get(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|k| {
            self.metas
                .iter()
                .find(|(key, v)| key == k && !v.trim().is_empty())
                .map(|(_, v)| collapse_ws(&crate::dom::decode_entities(v)))
        })
    }

    /// Every meta value for `key`.
    pub(crate) fn all(&self, key: &str) -> Vec<String> {
        self.metas
            .iter()
            .filter(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| collapse_ws(&crate::dom::decode_entities(v)))
            .collect()
    }
}

/// Read the metadata of a parsed page.
pub(crate) fn collect(dom: &Dom) -> PageMeta {
    let mut meta = PageMeta::default();
    let mut ld_docs: Vec<Value> = Vec::new();
    // Bytes of JSON-LD parsed so far, and whether an article was found:
    // later scripts are never read then, so they are not parsed.
    let mut ld_bytes = 0usize;
    let mut ld_done = false;
    for id in 0..dom.len() as u32 {
        let Some(tag) = dom.tag(id) else {
            continue;
        };
        match tag {
            Tag::html if meta.html_lang.is_none() => {
                meta.html_lang = dom
                    .attr(id, "lang")
                    .or_else(|| dom.attr(id, "xml:lang"))
                    .map(str::to_string);
            }
            Tag::meta if meta.metas.len() < MAX_META => {
                let Some(content) = dom.attr(id, "content") else {
                    continue;
                };
                for attr in ["property", "name", "itemprop"] {
                    if let Some(key) = dom.attr(id, attr) {
                        meta.metas
                            .push((key.trim().to_lowercase(), content.to_string()));
                    }
                }
                if let Some(key) = dom.attr(id, "http-equiv") {
                    meta.metas.push((
                        format!("http-equiv:{}", key.trim().to_lowercase()),
                        content.to_string(),
                    ));
                }
            }
            Tag::title if meta.title_tag.is_none() => {
                // The document title, not an SVG <title> in the body.
                let in_head = dom.ancestors(id).any(|a| dom.tag(a) == Some(Tag::head));
                let text: String = dom.children(id).filter_map(|c| dom.text(c)).collect();
                let text = collapse_ws(&text);
                if in_head && !text.is_empty() {
                    meta.title_tag = Some(text);
                }
            }
            Tag::link if meta.canonical.is_none() => {
                let rel = dom.attr(id, "rel").unwrap_or("").to_ascii_lowercase();
                if rel.split_whitespace().any(|r| r == "canonical")
                    && let Some(href) = dom.attr(id, "href").filter(|h| !h.trim().is_empty())
                {
                    meta.canonical = Some(href.trim().to_string());
                }
            }
            Tag::script => {
                // The parser keeps the text of JSON-LD scripts only.
                if ld_docs.len() >= 20 || ld_done {
                    continue;
                }
                let len: usize = dom
                    .children(id)
                    .filter_map(|c| dom.text(c))
                    .map(str::len)
                    .sum();
                if len == 0 || len > MAX_JSONLD_BYTES || ld_bytes + len > MAX_JSONLD_TOTAL_BYTES {
                    continue;
                }
                let text: String = dom.children(id).filter_map(|c| dom.text(c)).collect();
                // A document that names no article or page type holds
                // nothing `ld_article` takes (breadcrumbs, the site's
                // organisation): not worth parsing.
                if !LD_TYPE_WORDS.is_match(&text) {
                    continue;
                }
                ld_bytes += len;
                if let Some(v) = parse_jsonld(&text) {
                    ld_done = ends_ld_walk(&v);
                    ld_docs.push(v);
                }
            }
            _ => {}
        }
        if let Some(prop) = dom.attr(id, "itemprop") {
            let value = dom.attr(id, "content").or_else(|| dom.attr(id, "datetime"));
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

/// The words every type `ld_article` looks for contains.
static LD_TYPE_WORDS: std::sync::LazyLock<aho_corasick::AhoCorasick> =
    std::sync::LazyLock::new(|| {
        aho_corasick::AhoCorasick::new([
            "Article",
            "BlogPosting",
            "Report",
            "SocialMediaPosting",
            "WebPage",
        ])
        .expect("static patterns")
    });

/// Whether `ld_article`'s walk stops inside this document: it holds an
/// article, or more values than the walk visits. Documents after it are
/// never looked at.
fn ends_ld_walk(doc: &Value) -> bool {
    let mut visited = 0usize;
    let mut stack: Vec<&Value> = vec![doc];
    while let Some(v) = stack.pop() {
        visited += 1;
        if visited > MAX_JSONLD_NODES {
            return true;
        }
        match v {
            Value::Object(obj) => {
                if types_of(obj).iter().any(|t| is_article_type(t)) {
                    return true;
                }
                stack.extend(
                    obj.values()
                        .filter(|c| matches!(c, Value::Object(_) | Value::Array(_))),
                );
            }
            Value::Array(items) => stack.extend(items.iter()),
            _ => {}
        }
    }
    false
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
            .map(|v| ld_authors(v, false))
            .unwrap_or_default(),
        org_authors: obj
            .get("author")
            .or_else(|| obj.get("creator"))
            .map(|v| ld_authors(v, true))
            .unwrap_or_default(),
        published: get("datePublished").or_else(|| get("dateCreated")),
        modified: get("dateModified"),
        publisher: obj.get("publisher").and_then(ld_name),
        sections,
        lang: get("inLanguage"),
        description: get("description"),
        body: obj
            .get("articleBody")
            .and_then(|v| v.as_str())
            .map(|b| strip_tags(&crate::dom::decode_entities(b))),
        image: obj
            .get("image")
            .or_else(|| obj.get("thumbnailUrl"))
            .and_then(ld_url),
    }
}

/// Text with markup removed: `<p>` and `<br>` become line breaks, other
/// tags disappear.
fn strip_tags(s: &str) -> String {
    if !s.contains('<') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        let Some(j) = rest[i..].find('>') else {
            rest = "";
            break;
        };
        let tag = rest[i + 1..i + j]
            .trim_start_matches('/')
            .to_ascii_lowercase();
        if tag.starts_with('p')
            || tag.starts_with("br")
            || tag.starts_with("div")
            || tag.starts_with('h')
        {
            out.push('\n');
        }
        rest = &rest[i + j + 1..];
    }
    out.push_str(rest);
    out
}

/// A text value: a string, a number, `{"@value": …}`, or the first of a list.
fn ld_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => {
            Some(collapse_ws(&crate::dom::decode_entities(s))).filter(|s| !s.is_empty())
        }
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
/// With `orgs`, the organisations instead (their names as written).
fn ld_authors(v: &Value, orgs: bool) -> Vec<String> {
    let mut out = Vec::new();
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().take(20).collect(),
        other => vec![other],
    };
    for item in items {
        match item {
            Value::String(s) if !orgs => out.extend(split_names(s, false)),
            Value::Object(o) => {
                let types = types_of(o);
                let is_org = types.iter().any(|t| t.contains("Organization"));
                if orgs {
                    if is_org && let Some(name) = o.get("name").and_then(ld_text) {
                        out.push(name);
                    }
                    continue;
                }
                if is_org {
                    continue;
                }
                if let Some(name) = o.get("name").and_then(ld_text) {
                    let names = split_names(&name, false);
                    if names.is_empty() {
                        // A Person object names whoever the page credits
                        // ("The Associated Press", "BR24 Redaktion"): keep
                        // it as written rather than judge it a role.
                        if name.chars().count() <= 60
                            && name.chars().any(char::is_alphabetic)
                            && !name.contains("://")
                        {
                            out.push(name);
                        }
                    } else {
                        out.extend(names);
                    }
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
        let meta = collect(&crate::dom::parse(html));
        assert_eq!(meta.ld.headline.as_deref(), Some("Big news"));
        assert_eq!(meta.ld.authors, vec!["Jane Doe"]);
        assert_eq!(meta.ld.publisher.as_deref(), Some("Example Daily"));
        assert_eq!(meta.ld.sections, vec!["World", "mali", "russia"]);
        assert_eq!(meta.ld.image.as_deref(), Some("https://x.org/i.jpg"));
    }

    #[test]
    fn survives_broken_jsonld() {
        let html = "<script type='application/ld+json'>{\"@type\":\"NewsArticle\",\"headline\":\"a\nb\"}</script><script type='application/ld+json'>{{{</script>";
        let meta = collect(&crate::dom::parse(html));
        assert_eq!(meta.ld.headline.as_deref(), Some("a b"));
    }
}
