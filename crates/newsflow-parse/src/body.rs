//! Boilerplate removal: find the element that holds the article text, then
//! turn the page into lines of text tagged with where they come from.
//!
//! The method, in three passes over the tree (each iterative, so a page
//! nested 100 000 levels deep costs time, not stack):
//!
//! 1. **Raw statistics** per element: visible characters, characters inside
//!    links, commas, paragraph text, images, list items.
//! 2. **Region flags and scores.** Elements whose tag, role, class or id say
//!    "navigation, footer, comments, share bar, related links, sidebar,
//!    ticker, cookie banner…" are boilerplate, unless they wrap most of the
//!    page's paragraph text (a `<body class="has-sidebar">` is not a
//!    sidebar). Small elements hinted "author / byline / date / meta /
//!    source" are metadata regions: out of the body, but read for
//!    metadata. Every paragraph-like block outside those regions scores its
//!    ancestors (more for long text and commas, less further up); the score
//!    of an element is then discounted by its link density, and class/id
//!    hints such as `article`, `content`, `story`, `body` add to it.
//! 3. **Rendering.** The best element and those of its siblings that look
//!    like article text form the content. The whole page is rendered into
//!    lines (one per block; `<br><br>` splits paragraphs), each line flagged
//!    as content or not; inside the content, link-heavy lists and boxes and
//!    image boxes are dropped.
//!
//! [`assemble`] then cleans the content lines (title repeated, datelines,
//! bylines, captions under images, "read also" links, trailing headings)
//! and returns what it removed that metadata needs (bylines, datelines,
//! "Source:" lines).

use std::collections::{HashMap, HashSet};

use ego_tree::NodeId;
use ego_tree::iter::Edge;
use scraper::node::Element;
use scraper::{Html, Node};

use crate::text::{collapse_ws, ends_sentence, fold, visible_len};

/// Never rendered, never counted.
#[rustfmt::skip]
const HARD_SKIP: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "embed", "canvas",
    "head", "title", "meta", "link", "button", "input", "select", "textarea", "option", "audio",
    "video", "map", "dialog", "figcaption", "datalist", "source", "track",
];

/// Elements that start a new line of text.
#[rustfmt::skip]
const BLOCKS: &[&str] = &[
    "address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dir", "div",
    "dl", "dt", "fieldset", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hgroup", "hr", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary",
    "table", "tbody", "thead", "tfoot", "tr", "td", "th", "ul", "caption", "html",
];

/// Class/id words that mark boilerplate whatever else the element says.
#[rustfmt::skip]
const STRONG_NEG: &[&str] = &[
    "comment", "sidebar", "side-bar", "breadcrumb", "share", "sharing", "social", "related",
    "recommend", "newsletter", "subscribe", "cookie", "consent", "gdpr", "advert", "sponsor",
    "promo", "popular", "most-read", "mostread", "most_read", "trending", "ticker", "marquee",
    "outbrain", "taboola", "disqus", "footer", "navbar", "navigation", "menu", "caption", "credit",
    "legende", "pagination", "pager", "signup", "sign-up", "login", "skip-link", "visually-hidden",
    "visuallyhidden", "sr-only", "screen-reader", "read-more", "readmore", "lire-aussi",
    "lireaussi", "also-read", "more-stories", "more-articles", "author-bio", "author-box",
    "authorbox", "tag-list", "taglist", "toolbar", "dropdown", "modal", "popup", "overlay",
    "banner", "widget", "masthead", "pub-", "adslot", "ad-slot", "adsense", "dfp", "teaser-list",
    "headlines", "une-", "flash-info", "breaking",
];

/// Class/id tokens that mark boilerplate unless a positive hint overrides.
#[rustfmt::skip]
const WEAK_NEG: &[&str] = &[
    "nav", "ad", "ads", "adv", "pub", "publicite", "aside", "extra", "rss", "print", "tools",
    "tags", "tag", "links", "more", "hidden", "hide", "topics", "keywords", "rubriques", "partners",
    "partenaires", "services", "skyscraper", "sponsored",
];

/// Class/id words that mark article text.
#[rustfmt::skip]
const POSITIVE: &[&str] = &[
    "article", "content", "story", "entry", "post-body", "postbody", "post-content", "body", "text",
    "prose", "richtext", "rich-text", "chapo", "chapeau", "corps", "contenu", "texte", "artikel",
    "inhalt", "cuerpo", "noticia", "paragraph", "standfirst", "main",
];
#[rustfmt::skip]
const POSITIVE_TOKENS: &[&str] = &[
    "lead", "intro", "summary", "excerpt", "abstract", "dek", "detail",
];

#[rustfmt::skip]
const AUTHOR_HINT: &[&str] = &[
    "byline", "author", "auteur", "autor", "signature", "writer", "journalist",
];
#[rustfmt::skip]
const DATE_HINT: &[&str] = &[
    "dateline", "publish", "posted", "timestamp", "pubdate", "datetime",
];
#[rustfmt::skip]
const DATE_TOKENS: &[&str] = &[
    "date", "time", "datum", "fecha", "data", "updated", "modified",
];
#[rustfmt::skip]
const META_TOKENS: &[&str] = &[
    "meta", "info", "infos", "source", "sources", "by", "details",
];

#[derive(Debug, Clone, Copy, Default)]
struct Hint {
    /// Comments: boilerplate however much prose they hold.
    comments: bool,
    strong_neg: bool,
    weak_neg: bool,
    pos: bool,
    author: bool,
    date: bool,
    meta: bool,
}

fn hint_of(el: &Element) -> Hint {
    let mut s = String::new();
    for a in [
        "class",
        "id",
        "itemprop",
        "rel",
        "role",
        "data-component",
        "data-testid",
    ] {
        if let Some(v) = el.attr(a) {
            s.push(' ');
            s.push_str(v);
        }
    }
    // "commentary" is an article genre, not a comment thread.
    let s = s.to_ascii_lowercase().replace("commentary", "opinion");
    let tokens: Vec<&str> = s
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .collect();
    let has = |words: &[&str]| words.iter().any(|w| s.contains(w));
    let tok = |words: &[&str]| tokens.iter().any(|t| words.contains(t));
    let role = el.attr("role").unwrap_or("").to_ascii_lowercase();
    let tag = el.name();
    let tag_neg = matches!(tag, "nav" | "aside" | "footer" | "menu")
        || matches!(
            role.as_str(),
            "navigation"
                | "complementary"
                | "contentinfo"
                | "banner"
                | "search"
                | "dialog"
                | "alertdialog"
                | "menu"
                | "menubar"
        );
    let mut h = Hint {
        comments: has(&["comment", "disqus", "replies", "reactions"]),
        strong_neg: tag_neg || has(STRONG_NEG),
        weak_neg: tok(WEAK_NEG),
        pos: has(POSITIVE) || tok(POSITIVE_TOKENS) || el.attr("itemprop") == Some("articleBody"),
        author: has(AUTHOR_HINT) || el.attr("rel").is_some_and(|r| r.contains("author")),
        date: has(DATE_HINT) || tok(DATE_TOKENS) || tag == "time",
        meta: tok(META_TOKENS) || tag == "address",
    };
    // "comment" inside "commentaire-article"... no: comments are always out;
    // but "author" inside a positive "article-content" class is not a byline.
    if h.pos && !tag_neg {
        h.author &= !has(&["content", "body", "text"]);
    }
    h
}

fn is_hidden(el: &Element) -> bool {
    if el.attr("hidden").is_some() || el.attr("aria-hidden") == Some("true") {
        return true;
    }
    el.attr("style").is_some_and(|st| {
        let st: String = st
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        st.contains("display:none") || st.contains("visibility:hidden")
    })
}

fn is_block(tag: &str) -> bool {
    BLOCKS.contains(&tag)
}

fn hard_skip(el: &Element, skip_hidden: bool) -> bool {
    HARD_SKIP.contains(&el.name()) || (skip_hidden && is_hidden(el))
}

fn is_image(el: &Element) -> bool {
    matches!(el.name(), "img" | "picture")
        && !el
            .attr("width")
            .is_some_and(|w| w.trim().parse::<u32>().is_ok_and(|w| w <= 2))
}

/// Per-element counts.
#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    /// Visible characters.
    text: u32,
    /// Visible characters inside links.
    links: u32,
    /// Visible characters of text not inside a block descendant.
    inline_text: u32,
    /// Link characters of that inline text.
    inline_links: u32,
    /// Commas of that inline text.
    inline_commas: u32,
    /// Characters of paragraph-like descendants (`p`, `pre`, `blockquote`).
    p_text: u32,
    /// Paragraph count.
    paras: u32,
    /// Images.
    imgs: u32,
    /// A `<main>` or `itemprop=articleBody` inside.
    marker: bool,
}

fn count_commas(s: &str) -> u32 {
    s.chars()
        .filter(|c| matches!(c, ',' | '，' | '、' | '،'))
        .count() as u32
}

/// Statistics for every element; `exclude` subtrees are not counted.
fn stats_pass(doc: &Html, exclude: &HashSet<NodeId>, skip_hidden: bool) -> HashMap<NodeId, Stats> {
    let mut map: HashMap<NodeId, Stats> = HashMap::new();
    // (id, stats, is_block)
    let mut stack: Vec<(NodeId, Stats, bool, bool)> = Vec::new();
    // Indices into `stack` of the open block elements, so that inline text
    // finds its block in O(1) however deep the tree.
    let mut blocks: Vec<usize> = Vec::new();
    let mut skip: Option<NodeId> = None;
    let mut in_link = 0usize;
    for edge in doc.tree.root().traverse() {
        match edge {
            Edge::Open(n) => {
                if skip.is_some() {
                    continue;
                }
                match n.value() {
                    Node::Element(el) => {
                        if hard_skip(el, skip_hidden) || exclude.contains(&n.id()) {
                            skip = Some(n.id());
                            continue;
                        }
                        if el.name() == "a" {
                            in_link += 1;
                        }
                        let marker =
                            el.name() == "main" || el.attr("itemprop") == Some("articleBody");
                        let st = Stats {
                            marker,
                            imgs: u32::from(is_image(el)),
                            ..Stats::default()
                        };
                        if is_block(el.name()) {
                            blocks.push(stack.len());
                        }
                        stack.push((n.id(), st, is_block(el.name()), el.name() == "a"));
                    }
                    Node::Text(t) => {
                        let len = visible_len(t) as u32;
                        if len == 0 {
                            continue;
                        }
                        let commas = count_commas(t);
                        let linked = in_link > 0;
                        // Inline text belongs to the nearest block ancestor.
                        if let Some(&pos) = blocks.last() {
                            let f = &mut stack[pos].1;
                            f.inline_text += len;
                            f.inline_commas += commas;
                            if linked {
                                f.inline_links += len;
                            }
                        }
                        if let Some(top) = stack.last_mut() {
                            top.1.text += len;
                            if linked {
                                top.1.links += len;
                            }
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(n) => {
                if let Some(s) = skip {
                    if s == n.id() {
                        skip = None;
                    }
                    continue;
                }
                let Node::Element(el) = n.value() else {
                    continue;
                };
                let Some((id, st, block, is_link)) = stack.pop() else {
                    continue;
                };
                if block {
                    blocks.pop();
                }
                if is_link {
                    in_link = in_link.saturating_sub(1);
                }
                let mut st = st;
                if matches!(el.name(), "p" | "pre" | "blockquote") {
                    st.p_text = st.p_text.max(st.text);
                    st.paras = st.paras.max(1);
                }
                if let Some(parent) = stack.last_mut() {
                    let p = &mut parent.1;
                    p.text += st.text;
                    p.links += st.links;
                    p.p_text += st.p_text;
                    p.paras += st.paras;
                    p.imgs += st.imgs;
                    p.marker |= st.marker;
                }
                map.insert(id, st);
            }
        }
    }
    map
}

/// Where a line of text comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Flags {
    /// Inside the chosen article container.
    pub content: bool,
    /// Inside boilerplate (navigation, comments, sidebars, …).
    pub neg: bool,
    /// Inside a small element hinted as author/byline.
    pub author: bool,
    /// Inside a small element hinted as date/time.
    pub date: bool,
    /// Inside a small element hinted as meta/info/source.
    pub meta: bool,
    /// Inside a link-heavy list or box, or an image box, within the content.
    pub cleaned: bool,
}

/// One block of text of the page.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub text: String,
    pub flags: Flags,
    /// Visible characters inside links (approximate when a block was split
    /// on `<br><br>`).
    pub links: usize,
    /// 1–6 for headings, 0 otherwise.
    pub heading: u8,
    /// The block element is a `<p>`.
    pub is_p: bool,
    /// An image came right before this line, with no text in between.
    pub after_image: bool,
}

impl Line {
    fn link_ratio(&self) -> f64 {
        let n = visible_len(&self.text).max(1);
        self.links as f64 / n as f64
    }
}

/// A `<time datetime>` outside boilerplate.
#[derive(Debug, Clone)]
pub(crate) struct TimeTag {
    pub datetime: String,
    /// Inside the content or a date/meta region, or marked `pubdate`.
    pub near: bool,
}

/// The page rendered into flagged lines.
#[derive(Debug, Default)]
pub(crate) struct Page {
    pub lines: Vec<Line>,
    pub times: Vec<TimeTag>,
}

#[derive(Clone, Copy)]
struct Frame {
    id: NodeId,
    flags: Flags,
    block: bool,
    heading: u8,
    is_p: bool,
    link: bool,
}

const BR: char = '\u{1}';

struct Renderer {
    lines: Vec<Line>,
    times: Vec<TimeTag>,
    buf: String,
    buf_links: usize,
    /// Visible characters in `buf`.
    buf_vis: usize,
    buf_flags: Flags,
    buf_heading: u8,
    buf_is_p: bool,
    pending_image: bool,
}

impl Renderer {
    fn flush(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let buf = std::mem::take(&mut self.buf);
        let total = std::mem::take(&mut self.buf_vis).max(1);
        let links = std::mem::take(&mut self.buf_links);
        let mut produced = false;
        for piece in split_double_br(&buf) {
            let text = collapse_ws(&piece.replace(BR, " "));
            if text.is_empty() {
                continue;
            }
            let share = links * visible_len(&text) / total;
            self.lines.push(Line {
                text,
                flags: self.buf_flags,
                links: share,
                heading: self.buf_heading,
                is_p: self.buf_is_p,
                after_image: self.pending_image && !produced,
            });
            produced = true;
        }
        if produced {
            self.pending_image = false;
        }
    }
}

/// Split on two or more `<br>` in a row (whitespace between them allowed).
fn split_double_br(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut brs = 0usize;
    let mut gap = String::new();
    for c in s.chars() {
        if c == BR {
            brs += 1;
            gap.push(c);
        } else if brs > 0 && c.is_whitespace() {
            gap.push(c);
        } else {
            if brs >= 2 {
                out.push(std::mem::take(&mut cur));
            } else {
                cur.push_str(&gap);
            }
            gap.clear();
            brs = 0;
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

/// Analyse a parsed page: choose the content and render every line.
/// `skip_hidden` drops elements marked hidden (`hidden`, `aria-hidden`,
/// `display:none`); callers retry without it when that leaves no article,
/// as on pages that stream their content into a hidden node for a script
/// to move.
pub(crate) fn analyse(doc: &Html, skip_hidden: bool) -> Page {
    let raw = stats_pass(doc, &HashSet::new(), skip_hidden);
    let total_p: u32 = raw.values().map(|s| s.p_text).max().unwrap_or(0);

    // Pass 2: region flags (pre-order, inherited) and paragraph scores.
    let mut neg_roots: HashSet<NodeId> = HashSet::new();
    let mut meta_roots: HashMap<NodeId, Hint> = HashMap::new();
    let mut hints: HashMap<NodeId, Hint> = HashMap::new();
    for n in doc.tree.root().descendants() {
        let Node::Element(el) = n.value() else {
            continue;
        };
        let h = hint_of(el);
        let Some(st) = raw.get(&n.id()) else { continue };
        let wrapper = matches!(el.name(), "html" | "body")
            || st.marker
            || (total_p > 0 && st.p_text * 2 > total_p);
        // A "sidebar-grid" or "widget" full of plain paragraphs is a layout
        // name, not boilerplate. Comment threads look like that too, so
        // they never get this benefit.
        let prose =
            st.p_text >= 400 && st.links * 4 < st.text && st.p_text * 2 >= st.text && !h.comments;
        if (h.strong_neg || (h.weak_neg && !h.pos)) && !wrapper && !prose {
            neg_roots.insert(n.id());
        } else if (h.author || h.date || h.meta) && st.text < 400 && !wrapper {
            meta_roots.insert(n.id(), h);
        }
        if h.pos || h.strong_neg || h.weak_neg {
            hints.insert(n.id(), h);
        }
    }
    let mut excluded = neg_roots.clone();
    excluded.extend(meta_roots.keys().copied());
    let clean = stats_pass(doc, &excluded, skip_hidden);

    let mut scores: HashMap<NodeId, f64> = HashMap::new();
    let mut stack: Vec<NodeId> = Vec::new();
    let mut skip: Option<NodeId> = None;
    for edge in doc.tree.root().traverse() {
        match edge {
            Edge::Open(n) => {
                if skip.is_some() {
                    continue;
                }
                let Node::Element(el) = n.value() else {
                    continue;
                };
                if hard_skip(el, skip_hidden) || excluded.contains(&n.id()) {
                    skip = Some(n.id());
                    continue;
                }
                stack.push(n.id());
            }
            Edge::Close(n) => {
                if let Some(s) = skip {
                    if s == n.id() {
                        skip = None;
                    }
                    continue;
                }
                let Node::Element(el) = n.value() else {
                    continue;
                };
                let Some(id) = stack.pop() else { continue };
                let Some(st) = clean.get(&id) else { continue };
                if st.inline_text < 25 || st.inline_links * 2 > st.inline_text {
                    continue;
                }
                let tag = el.name();
                if matches!(
                    tag,
                    "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "a" | "span" | "html" | "body"
                ) {
                    continue;
                }
                let mut score = 1.0
                    + f64::from(st.inline_commas)
                    + (f64::from(st.inline_text) / 100.0).min(3.0);
                if matches!(tag, "li" | "dd" | "dt") {
                    score *= 0.5;
                }
                // A paragraph credits its parent fully; a container with its own
                // text (`<div>text<br><br>text</div>`) credits itself.
                let own = !matches!(tag, "p" | "pre" | "td" | "li" | "dd" | "dt" | "blockquote");
                let mut chain: Vec<NodeId> = Vec::with_capacity(5);
                if own {
                    chain.push(id);
                }
                chain.extend(stack.iter().rev().take(5 - chain.len()).copied());
                for (level, anc) in chain.iter().enumerate() {
                    let div = match level {
                        0 => 1.0,
                        1 => 2.0,
                        l => l as f64 * 3.0,
                    };
                    let entry = scores
                        .entry(*anc)
                        .or_insert_with(|| initial_score(doc, *anc, &hints, clean.get(anc)));
                    *entry += score / div;
                }
            }
        }
    }

    let mut best: Option<(NodeId, f64)> = None;
    for (id, score) in &scores {
        let st = clean.get(id).copied().unwrap_or_default();
        let ld = if st.text == 0 {
            1.0
        } else {
            f64::from(st.links) / f64::from(st.text)
        };
        let s = score * (1.0 - ld);
        if best.is_none_or(|(bid, b)| s > b || (s == b && *id < bid)) {
            best = Some((*id, s));
        }
    }

    // Move up while the parent scores nearly as well: an article split into
    // several sections is best taken whole.
    let final_score = |id: &NodeId| -> f64 {
        let st = clean.get(id).copied().unwrap_or_default();
        let ld = if st.text == 0 {
            1.0
        } else {
            f64::from(st.links) / f64::from(st.text)
        };
        scores.get(id).copied().unwrap_or(0.0) * (1.0 - ld)
    };
    // Strong candidates elsewhere under a close ancestor: the article is
    // split into blocks (around ads, or one component per few paragraphs).
    // Take the closest ancestor of the best that also holds them.
    if let Some((top, top_score)) = best {
        let ups: Vec<NodeId> = doc
            .tree
            .get(top)
            .map(|n| {
                n.ancestors()
                    .take_while(|a| {
                        a.value()
                            .as_element()
                            .is_some_and(|e| !matches!(e.name(), "body" | "html"))
                    })
                    .take(4)
                    .map(|a| a.id())
                    .collect()
            })
            .unwrap_or_default();
        let mut level: Option<usize> = None;
        for (id, _) in scores.iter() {
            if *id == top || final_score(id) < top_score * 0.5 {
                continue;
            }
            let Some(n) = doc.tree.get(*id) else { continue };
            if n.ancestors().any(|a| a.id() == top) {
                continue;
            }
            let hit = n
                .ancestors()
                .take(8)
                .find_map(|a| ups.iter().position(|u| *u == a.id()));
            if let Some(k) = hit {
                level = Some(level.map_or(k, |l: usize| l.max(k)));
            }
        }
        if let Some(k) = level {
            let lca = ups[k];
            if clean.get(&lca).is_some_and(|st| st.links * 4 < st.text) {
                best = Some((lca, top_score));
            }
        }
    }
    if let Some((mut top, mut top_score)) = best {
        for _ in 0..3 {
            let Some(parent) = doc.tree.get(top).and_then(|n| n.parent()) else {
                break;
            };
            let pid = parent.id();
            let Some(pst) = clean.get(&pid) else { break };
            let is_root = parent
                .value()
                .as_element()
                .is_none_or(|e| matches!(e.name(), "body" | "html"));
            let ps = final_score(&pid);
            if is_root || ps < top_score * 0.75 || pst.links * 4 > pst.text {
                break;
            }
            top = pid;
            top_score = ps;
        }
        best = Some((top, top_score));
    }
    let mut content_roots: HashSet<NodeId> = HashSet::new();
    if let Some((top, top_score)) = best {
        content_roots.insert(top);
        if let Some(node) = doc.tree.get(top)
            && let Some(parent) = node.parent()
        {
            let threshold = (top_score * 0.2).max(10.0);
            for sib in parent.children() {
                if sib.id() == top || excluded.contains(&sib.id()) {
                    continue;
                }
                let Node::Element(el) = sib.value() else {
                    continue;
                };
                if hard_skip(el, skip_hidden) {
                    continue;
                }
                let st = clean.get(&sib.id()).copied().unwrap_or_default();
                if st.text == 0 {
                    continue;
                }
                let ld = f64::from(st.links) / f64::from(st.text);
                let s = scores.get(&sib.id()).copied().unwrap_or(0.0) * (1.0 - ld);
                let h = hints.get(&sib.id()).copied().unwrap_or_default();
                let para_like = matches!(
                    el.name(),
                    "p" | "blockquote" | "pre" | "h2" | "h3" | "h4" | "ul" | "ol"
                );
                let keep = s >= threshold
                    || (para_like && st.text > 80 && ld < 0.25)
                    || (para_like && st.text > 0 && ld == 0.0 && is_sentence_node(sib))
                    || (h.pos && !h.strong_neg && st.text > 40 && ld < 0.25);
                if keep {
                    content_roots.insert(sib.id());
                }
            }
        }
    }

    // Pass 3: render.
    let mut r = Renderer {
        lines: Vec::new(),
        times: Vec::new(),
        buf: String::new(),
        buf_links: 0,
        buf_vis: 0,
        buf_flags: Flags::default(),
        buf_heading: 0,
        buf_is_p: false,
        pending_image: false,
    };
    let mut frames: Vec<Frame> = Vec::new();
    let mut skip: Option<NodeId> = None;
    let mut in_link = 0usize;
    for edge in doc.tree.root().traverse() {
        match edge {
            Edge::Open(n) => {
                if skip.is_some() {
                    continue;
                }
                match n.value() {
                    Node::Element(el) => {
                        if hard_skip(el, skip_hidden) {
                            skip = Some(n.id());
                            continue;
                        }
                        let parent = frames.last().copied();
                        let mut flags = parent.map(|f| f.flags).unwrap_or_default();
                        let id = n.id();
                        if content_roots.contains(&id) {
                            flags.content = true;
                        }
                        if neg_roots.contains(&id) {
                            flags.neg = true;
                        }
                        if let Some(h) = meta_roots.get(&id) {
                            flags.author |= h.author;
                            flags.date |= h.date;
                            flags.meta |= h.meta;
                        }
                        let tag = el.name();
                        if flags.content
                            && !flags.cleaned
                            && is_cleanable(tag, clean.get(&id), hints.get(&id))
                        {
                            flags.cleaned = true;
                        }
                        let heading = match tag {
                            "h1" => 1,
                            "h2" => 2,
                            "h3" => 3,
                            "h4" => 4,
                            "h5" => 5,
                            "h6" => 6,
                            _ => parent.map_or(0, |f| f.heading),
                        };
                        let block = is_block(tag) || parent.is_none_or(|p| p.flags != flags);
                        if block {
                            r.flush();
                        }
                        if tag == "br" {
                            r.buf.push(BR);
                        }
                        if tag == "a" {
                            in_link += 1;
                        }
                        if is_image(el) && flags.content && r.buf_vis == 0 {
                            r.pending_image = true;
                        }
                        if tag == "time"
                            && !flags.neg
                            && let Some(dt) = el.attr("datetime")
                        {
                            r.times.push(TimeTag {
                                datetime: dt.to_string(),
                                near: flags.content
                                    || flags.date
                                    || flags.meta
                                    || el.attr("pubdate").is_some(),
                            });
                        }
                        let is_p = if is_block(tag) {
                            tag == "p"
                        } else {
                            parent.is_some_and(|f| f.is_p)
                        };
                        frames.push(Frame {
                            id,
                            flags,
                            block,
                            heading,
                            is_p,
                            link: tag == "a",
                        });
                        if block {
                            r.buf_flags = flags;
                            r.buf_heading = heading;
                            r.buf_is_p = is_p;
                        }
                    }
                    Node::Text(t) => {
                        if let Some(f) = frames.last() {
                            if r.buf_vis == 0 {
                                r.buf_flags = f.flags;
                                r.buf_heading = f.heading;
                                r.buf_is_p = f.is_p;
                            }
                            let vis = visible_len(t);
                            r.buf.push_str(t);
                            r.buf_vis += vis;
                            if in_link > 0 {
                                r.buf_links += vis;
                            }
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(n) => {
                if let Some(s) = skip {
                    if s == n.id() {
                        skip = None;
                    }
                    continue;
                }
                if !n.value().is_element() {
                    continue;
                }
                let Some(frame) = frames.pop() else { continue };
                debug_assert_eq!(frame.id, n.id());
                if frame.link {
                    in_link = in_link.saturating_sub(1);
                }
                if frame.block {
                    r.flush();
                    if let Some(p) = frames.last() {
                        r.buf_flags = p.flags;
                        r.buf_heading = p.heading;
                        r.buf_is_p = p.is_p;
                    }
                }
            }
        }
    }
    r.flush();
    Page {
        lines: r.lines,
        times: r.times,
    }
}

fn is_sentence_node(n: ego_tree::NodeRef<'_, Node>) -> bool {
    let text: String = n
        .descendants()
        .filter_map(|d| d.value().as_text().map(|t| t.to_string()))
        .take(200)
        .collect();
    ends_sentence(&text)
}

fn initial_score(doc: &Html, id: NodeId, hints: &HashMap<NodeId, Hint>, st: Option<&Stats>) -> f64 {
    let tag = doc
        .tree
        .get(id)
        .and_then(|n| n.value().as_element().map(|e| e.name().to_string()))
        .unwrap_or_default();
    let mut s: f64 = match tag.as_str() {
        "article" => 10.0,
        "div" | "section" | "main" => 5.0,
        "pre" | "td" | "blockquote" => 3.0,
        "address" | "ol" | "ul" | "dl" | "dd" | "dt" | "li" | "form" => -3.0,
        "th" => -5.0,
        _ => 0.0,
    };
    // Class hints weigh in proportion to the text they cover, so that a
    // small "justify-content" or "list-articles" box does not outrank the
    // article on its class name alone.
    let weight = st.map_or(0.0, |st| (f64::from(st.text) / 1000.0).min(1.0));
    if let Some(h) = hints.get(&id) {
        if h.pos {
            s += 25.0 * weight;
        }
        if h.weak_neg || h.strong_neg {
            s -= 25.0;
        }
    }
    s * weight.max(0.2)
}

/// Inside the content, a box or list that is mostly links (related
/// articles, tag lists, "read also"), or an image box with a short caption.
fn is_cleanable(tag: &str, st: Option<&Stats>, hint: Option<&Hint>) -> bool {
    let Some(st) = st else { return false };
    if st.text == 0 {
        return false;
    }
    let ld = f64::from(st.links) / f64::from(st.text);
    let pos = hint.is_some_and(|h| h.pos);
    match tag {
        "ul" | "ol" | "dl" => ld > 0.5,
        "div" | "section" | "table" | "form" | "aside" | "figure" | "span" | "center" => {
            (ld > 0.5 && !pos)
                || (ld > 0.3 && st.p_text * 3 < st.text && st.text < 600 && !pos)
                || (st.imgs > 0 && st.paras == 0 && st.text < 150)
        }
        _ => false,
    }
}

/// The cleaned body, and what cleaning removed that metadata wants.
#[derive(Debug, Default)]
pub(crate) struct Body {
    pub paragraphs: Vec<String>,
    /// Names from bylines removed from the content.
    pub byline_names: Vec<String>,
    /// Short lines removed because they carry a date ("Publié le …").
    pub datelines: Vec<String>,
    /// "Source: X" lines removed from the content.
    pub sources: Vec<String>,
}

#[rustfmt::skip]
const READ_ALSO: &[&str] = &[
    "lire aussi", "a lire aussi", "lire egalement", "voir aussi", "read also", "read more",
    "also read", "see also", "related:", "more:", "lesen sie auch", "mehr zum thema",
    "auch interessant", "lea tambien", "leer mas", "vea tambien", "tambien te puede interesar",
    "leia tambem", "leggi anche", "sur le meme sujet", "a voir aussi", "click here", "cliquez ici",
    "subscribe", "abonnez-vous", "sign up", "inscrivez-vous",
];

#[rustfmt::skip]
const LABELS: &[&str] = &[
    "advertisement", "publicite", "anzeige", "publicidad", "werbung", "pub", "sponsored",
    "partager", "share", "share this", "share this article", "tweet", "imprimer", "print", "email",
    "e-mail", "facebook", "twitter", "whatsapp", "linkedin", "commenter", "comments",
    "commentaires", "lire la suite", "continue reading", "weiterlesen", "ad", "copier le lien",
    "copy link", "envoyer", "partager sur facebook", "partager sur twitter",
];

/// Clean the content lines into the body.
pub(crate) fn assemble(page: &Page, title: Option<&str>) -> Body {
    let mut body = Body::default();
    let title_key = title.map(crate::text::compact);
    let mut kept: Vec<&Line> = Vec::new();
    for line in &page.lines {
        let f = line.flags;
        if !f.content || f.neg || f.cleaned {
            continue;
        }
        if f.author || f.date || f.meta {
            continue;
        }
        let text = line.text.as_str();
        let chars = text.chars().count();
        let folded = fold(text);
        let key = crate::text::compact(text);
        if key.is_empty() {
            continue;
        }
        // The title repeated as a heading (or as the first line).
        if title_key.as_ref().is_some_and(|t| *t == key)
            && (line.heading > 0 || kept.is_empty() || chars < 300)
        {
            continue;
        }
        if chars < 60
            && LABELS
                .iter()
                .any(|l| folded.trim_end_matches([':', '.', ' ']) == *l)
        {
            continue;
        }
        if chars < 200
            && READ_ALSO.iter().any(|p| folded.starts_with(p))
            && (line.link_ratio() > 0.3 || chars < 40)
        {
            continue;
        }
        if chars < 300 && line.link_ratio() > 0.6 {
            continue;
        }
        // A caption: a short line right under an image.
        if line.after_image && line.heading == 0 && !line.is_p && chars < 250 {
            continue;
        }
        if line.after_image && line.heading == 0 && chars < 150 && !ends_sentence(text) {
            continue;
        }
        // A dateline: a short line that is mostly a date.
        if chars <= 160
            && let Some(d) = crate::dates::find_in_text(text)
        {
            let rest = chars - text[d.start..d.end].chars().count();
            if crate::dates::has_date_keyword(text) || rest <= 40 {
                body.datelines.push(text.to_string());
                continue;
            }
        }
        if chars <= 100 && crate::publisher::source_line(text).is_some() {
            body.sources.push(text.to_string());
            continue;
        }
        // A byline at the top ("Par X", "By X and Y").
        if chars <= 150
            && kept.iter().all(|l| l.text.chars().count() < 120)
            && crate::authors::parse_byline(text).is_some()
            && starts_with_byline_word(&folded)
        {
            body.byline_names
                .extend(crate::authors::parse_byline(text).unwrap_or_default());
            continue;
        }
        kept.push(line);
    }

    // Trailing byline: names (and role lines like "Envoyés spéciaux") at the
    // end of the text, and trailing "Source:" or copyright lines.
    let mut tail_names: Vec<String> = Vec::new();
    let mut removed = 0usize;
    while let Some(last) = kept.last() {
        if removed >= 4 {
            break;
        }
        let text = last.text.as_str();
        let chars = text.chars().count();
        if chars > 120 {
            break;
        }
        if last.heading > 0 {
            // The title of a box removed below the text ("Articles liés").
            kept.pop();
            continue;
        }
        if let Some(names) = crate::authors::parse_byline(text) {
            let mut names = names;
            names.extend(tail_names);
            tail_names = names;
        } else if crate::authors::is_role(text) && chars < 60 && !ends_sentence(text) {
            // A role line; only drop it next to names.
            if tail_names.is_empty() {
                break;
            }
        } else if text.starts_with('©') || fold(text).starts_with("copyright") {
            // Copyright notice.
        } else {
            break;
        }
        kept.pop();
        removed += 1;
    }
    body.byline_names.extend(tail_names);

    // Headings with nothing after them (the title of a removed box).
    let mut out: Vec<String> = Vec::with_capacity(kept.len());
    for (i, line) in kept.iter().enumerate() {
        if line.heading > 0 {
            let next_is_text = kept.get(i + 1).is_some_and(|n| n.heading == 0);
            if !next_is_text {
                continue;
            }
        }
        if out.last().is_some_and(|l| *l == line.text) {
            continue;
        }
        out.push(line.text.clone());
    }
    body.paragraphs = out;
    body
}

fn starts_with_byline_word(folded: &str) -> bool {
    [
        "by ", "par ", "von ", "por ", "door ", "texte ", "text: ", "auteur", "author", "autor",
    ]
    .iter()
    .any(|p| folded.starts_with(p))
}
