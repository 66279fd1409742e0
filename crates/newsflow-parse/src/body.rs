//! Boilerplate removal: find the element that holds the article text, then
//! turn the page into lines of text tagged with where they come from.
//!
//! The method, in a few linear passes over the tree (each a loop over node
//! ids, so deep nesting costs no stack):
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
//! 3. **Choosing.** The best element is widened to the closest ancestor
//!    that also holds strong candidates, or blocks built like it (same tag
//!    and class under the same kind of parent: templates repeat their text
//!    component around ads and embeds); a feed of several `<article>`s
//!    narrows to the first. Hidden elements (attributes, inline style, and
//!    utility classes like `hidden`/`d-none` not undone at another screen
//!    size) are left out.
//! 4. **Rendering.** The chosen element and those of its siblings that look
//!    like article text form the content. The whole page is rendered into
//!    lines (one per block; `<br><br>` splits paragraphs), each line flagged
//!    as content or not; inside the content, link-heavy lists and boxes and
//!    image boxes are dropped.
//!
//! [`assemble`] then cleans the content lines (title repeated, datelines,
//! bylines, captions under images, "read also" links, labels of buttons and
//! media, consent placeholders of embeds, headings left without text) and
//! returns what it removed that metadata needs (bylines, datelines,
//! "Source:" lines).

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use crate::dom::{Dom, Edge, NodeId, Tag};
use crate::text::{ends_sentence, fold, fold_into, visible_and_commas, visible_len};

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
    "headlines", "une-", "flash-info", "breaking", "similar", "offscreen", "twitter-tweet",
    "instagram-media", "tiktok-embed",
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

const W_COMMENTS: u8 = 1;
const W_STRONG_NEG: u8 = 2;
const W_POS: u8 = 4;
const W_AUTHOR: u8 = 8;
const W_DATE: u8 = 16;
/// "content", "body", "text": an author hint inside these is not a byline.
const W_TEXTY: u8 = 32;
/// "commentary" is an article genre, not a comment thread.
const W_COMMENTARY: u8 = 64;
const T_WEAK_NEG: u8 = 1;
const T_POS: u8 = 2;
const T_DATE: u8 = 4;
const T_META: u8 = 8;

/// Every class/id word searched as a substring, with what it means; one
/// automaton pass per element instead of a `contains` per word.
static HINT_WORDS: LazyLock<(AhoCorasick, Vec<u8>)> = LazyLock::new(|| {
    let mut words: Vec<(&str, u8)> = Vec::new();
    let mut add = |list: &[&'static str], bit: u8| {
        for w in list {
            match words.iter_mut().find(|(x, _)| x == w) {
                Some((_, b)) => *b |= bit,
                None => words.push((w, bit)),
            }
        }
    };
    add(&["comment", "disqus", "replies", "reactions"], W_COMMENTS);
    add(STRONG_NEG, W_STRONG_NEG);
    add(POSITIVE, W_POS);
    add(AUTHOR_HINT, W_AUTHOR);
    add(DATE_HINT, W_DATE);
    add(&["content", "body", "text"], W_TEXTY);
    add(&["commentary"], W_COMMENTARY);
    // A DFA: built once, and the fastest to run on the many short class
    // strings of a page.
    let ac = AhoCorasick::builder()
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .ascii_case_insensitive(true)
        .build(words.iter().map(|(w, _)| w))
        .expect("static patterns");
    (ac, words.into_iter().map(|(_, b)| b).collect())
});

/// Whole class/id tokens with a meaning, packed into integers (they are
/// all short ASCII): a lookup compares a few integers, no strings.
static HINT_TOKENS: LazyLock<Vec<(u128, u8)>> = LazyLock::new(|| {
    let mut m: Vec<(u128, u8)> = Vec::new();
    for (list, bit) in [
        (WEAK_NEG, T_WEAK_NEG),
        (POSITIVE_TOKENS, T_POS),
        (DATE_TOKENS, T_DATE),
        (META_TOKENS, T_META),
    ] {
        for w in list {
            let key = pack(w.as_bytes()).expect("short static token");
            match m.iter_mut().find(|(k, _)| *k == key) {
                Some((_, b)) => *b |= bit,
                None => m.push((key, bit)),
            }
        }
    }
    m
});

/// Up to 16 ASCII bytes, lower-cased, as one integer.
fn pack(token: &[u8]) -> Option<u128> {
    if token.len() > 16 {
        return None;
    }
    let mut buf = [0u8; 16];
    buf[..token.len()].copy_from_slice(token);
    buf.make_ascii_lowercase();
    Some(u128::from_le_bytes(buf))
}

/// What the class/id words of an element say: the `W_*` bits of the words
/// found inside them and the `T_*` bits of their whole tokens.
fn name_bits(names: &str) -> (u8, u8) {
    let (ac, bits) = &*HINT_WORDS;
    let mut w = 0u8;
    // "commentary" is an article genre, not a comment thread: the
    // "comment" match at the same place does not count.
    // Overlapping matches end in order, so "comment" comes before the
    // "commentary" that contains it: remember where it started.
    let mut comment_bits: Option<(usize, u8)> = None;
    for m in ac.find_overlapping_iter(names) {
        let b = bits[m.pattern().as_usize()];
        if b & W_COMMENTARY != 0 {
            if comment_bits.is_some_and(|(at, _)| at == m.start()) {
                comment_bits = None;
            }
            continue;
        }
        if m.len() == "comment".len() && b & W_COMMENTS != 0 && b & W_STRONG_NEG != 0 {
            if let Some((_, pending)) = comment_bits.replace((m.start(), b)) {
                w |= pending;
            }
            continue;
        }
        w |= b;
    }
    if let Some((_, pending)) = comment_bits {
        w |= pending;
    }
    let mut t = 0u8;
    for token in names
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
    {
        if let Some(key) = pack(token.as_bytes()) {
            t |= HINT_TOKENS
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(0, |(_, b)| *b);
        }
    }
    (w, t)
}

/// [`name_bits`] remembered per distinct class/id string of a page
/// (templates repeat a few hundred of them across thousands of elements),
/// up to a bound.
#[derive(Default)]
struct NameBitsCache(std::collections::HashMap<String, (u8, u8)>);

impl NameBitsCache {
    const MAX: usize = 4096;

    fn get(&mut self, names: &str) -> (u8, u8) {
        if let Some(&bits) = self.0.get(names) {
            return bits;
        }
        let bits = name_bits(names);
        if self.0.len() < Self::MAX {
            self.0.insert(names.to_string(), bits);
        }
        bits
    }
}

fn hint_with(
    tag: Tag,
    names: &str,
    role: &str,
    itemprop: &str,
    rel: &str,
    cache: &mut NameBitsCache,
) -> Hint {
    let tag_neg = matches!(tag, Tag::nav | Tag::aside | Tag::footer | Tag::menu)
        || !role.is_empty()
            && matches!(
                role.to_ascii_lowercase().as_str(),
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
        strong_neg: tag_neg,
        date: tag == Tag::time,
        meta: tag == Tag::address,
        ..Hint::default()
    };
    if names.is_empty() {
        return h;
    }
    let (w, t) = cache.get(names);
    h.comments = w & W_COMMENTS != 0;
    h.strong_neg |= w & W_STRONG_NEG != 0;
    h.weak_neg = t & T_WEAK_NEG != 0;
    h.pos = w & W_POS != 0 || t & T_POS != 0 || itemprop == "articleBody";
    h.author = w & W_AUTHOR != 0 || rel.contains("author");
    h.date |= w & W_DATE != 0 || t & T_DATE != 0;
    h.meta |= t & T_META != 0;
    // "author" inside a positive "article-content" class is not a byline.
    if h.pos && !tag_neg {
        h.author &= w & W_TEXTY == 0;
    }
    h
}

/// What the passes ask of every element, computed once.
#[derive(Debug, Clone, Copy, Default)]
struct ElemInfo {
    hint: Hint,
    /// Never rendered or counted (script, style, form controls, …).
    skip_tag: bool,
    hidden: bool,
    image: bool,
    /// `<main>` or `itemprop=articleBody`.
    marker: bool,
    /// For a text node: visible characters and commas.
    text_len: u32,
    commas: u32,
}

impl ElemInfo {
    fn skipped(&self, skip_hidden: bool) -> bool {
        self.skip_tag || (skip_hidden && self.hidden)
    }
}

/// What [`analyse`] reads of every node (hints, hiding, visible text),
/// whether or not hidden elements are skipped: computed once for a tree
/// and shared by the first analysis and its retry with hidden elements.
pub(crate) struct ElemInfos(Vec<ElemInfo>);

/// The [`ElemInfos`] of a parsed page.
pub(crate) fn elem_infos(dom: &Dom) -> ElemInfos {
    let mut names = String::new();
    let mut cache = NameBitsCache::default();
    let mut out: Vec<ElemInfo> = Vec::with_capacity(dom.len());
    for id in 0..dom.len() as u32 {
        let info = elem_info(dom, id, &out, &mut names, &mut cache);
        out.push(info);
    }
    ElemInfos(out)
}

/// The [`ElemInfo`] of one node, given those of the nodes before it.
fn elem_info(
    dom: &Dom,
    id: NodeId,
    before: &[ElemInfo],
    names: &mut String,
    cache: &mut NameBitsCache,
) -> ElemInfo {
    let Some(tag) = dom.tag(id) else {
        // Text inside a skipped element (a JSON-LD script, a title)
        // is never counted: do not measure it.
        let skipped_parent = dom
            .parent(id)
            .is_some_and(|p| before.get(p as usize).is_some_and(|i| i.skip_tag));
        return match dom.text(id) {
            Some(t) if !skipped_parent => {
                let (text_len, commas) = text_counts(t);
                ElemInfo {
                    text_len,
                    commas,
                    ..ElemInfo::default()
                }
            }
            _ => ElemInfo::default(),
        };
    };
    names.clear();
    let (mut role, mut itemprop, mut rel) = ("", "", "");
    let mut hidden = false;
    let mut tiny = false;
    // One pass over the attributes, for everything below.
    let mut class = None;
    for (k, v) in dom.attrs(id) {
        match k {
            "class" => class = Some(v),
            "id" | "data-component" | "data-testid" => {}
            "itemprop" => itemprop = v,
            "rel" => rel = v,
            "role" => role = v,
            "hidden" => {
                hidden = true;
                continue;
            }
            "aria-hidden" => {
                hidden |= v == "true";
                continue;
            }
            "style" => {
                hidden |= style_hides(v);
                continue;
            }
            "width" => {
                tiny = v.trim().parse::<u32>().is_ok_and(|w| w <= 2);
                continue;
            }
            _ => continue,
        }
        names.push(' ');
        names.push_str(v);
    }
    hidden |= class.is_some_and(class_hides);
    ElemInfo {
        hint: hint_with(tag, names, role, itemprop, rel, cache),
        hidden,
        skip_tag: is_hard_skip_tag(tag),
        image: matches!(tag, Tag::img | Tag::picture) && !tiny,
        marker: tag == Tag::main || itemprop == "articleBody",
        ..ElemInfo::default()
    }
}

/// Visible characters and commas of a text, in one pass.
fn text_counts(t: &str) -> (u32, u32) {
    let (vis, commas) = visible_and_commas(t);
    (
        u32::try_from(vis).unwrap_or(u32::MAX),
        u32::try_from(commas).unwrap_or(u32::MAX),
    )
}

/// A utility class that hides the element ("hidden", "d-none"), unless
/// another class shows it again at some screen size ("hidden md:block",
/// "d-none d-lg-flex").
fn class_hides(class: &str) -> bool {
    let mut hides = false;
    for c in class.split_whitespace() {
        match c {
            "hidden" | "hide" | "d-none" | "is-hidden" | "invisible" => hides = true,
            _ if c.contains(':') || (c.starts_with("d-") && c.len() > 2) => return false,
            _ => {}
        }
    }
    hides
}

fn style_hides(style: &str) -> bool {
    // Most styles say neither: no copy for them.
    let has = |word: &[u8]| {
        style
            .as_bytes()
            .windows(word.len())
            .any(|w| w.eq_ignore_ascii_case(word))
    };
    if !has(b"none") && !has(b"hidden") {
        return false;
    }
    let st: String = style
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    st.contains("display:none") || st.contains("visibility:hidden")
}

fn is_block(tag: Tag) -> bool {
    use Tag::*;
    matches!(
        tag,
        address
            | article
            | aside
            | blockquote
            | body
            | center
            | dd
            | details
            | dir
            | div
            | dl
            | dt
            | fieldset
            | figure
            | footer
            | form
            | h1
            | h2
            | h3
            | h4
            | h5
            | h6
            | header
            | hgroup
            | hr
            | li
            | main
            | menu
            | nav
            | ol
            | p
            | pre
            | section
            | summary
            | table
            | tbody
            | thead
            | tfoot
            | tr
            | td
            | th
            | ul
            | caption
            | html
    )
}

/// Never rendered, never counted.
fn is_hard_skip_tag(tag: Tag) -> bool {
    use Tag::*;
    matches!(
        tag,
        script
            | style
            | noscript
            | template
            | svg
            | math
            | iframe
            | object
            | embed
            | canvas
            | head
            | title
            | meta
            | link
            | button
            | input
            | select
            | textarea
            | option
            | audio
            | video
            | map
            | dialog
            | figcaption
            | datalist
            | source
            | track
    )
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
    /// Counted (not inside a skipped or excluded subtree).
    seen: bool,
}

/// Statistics for every element (indexed by node id); `exclude` subtrees
/// are not counted.
/// `map` is reused between passes: one allocation for both.
fn stats_pass(
    dom: &Dom,
    info: &[ElemInfo],
    exclude: &[bool],
    skip_hidden: bool,
    mut map: Vec<Stats>,
) -> Vec<Stats> {
    map.clear();
    map.resize(dom.len(), Stats::default());
    // (id, is_block, is_link)
    let mut stack: Vec<(NodeId, bool, bool)> = Vec::new();
    // Indices into `stack` of the open block elements, so that inline text
    // finds its block in O(1) however deep the tree.
    let mut blocks: Vec<usize> = Vec::new();
    let mut in_link = 0usize;
    let mut walk = dom.walk();
    while let Some(edge) = walk.next() {
        match edge {
            Edge::Open(id) => {
                if let Some(tag) = dom.tag(id) {
                    let inf = &info[id as usize];
                    if inf.skipped(skip_hidden) || exclude[id as usize] {
                        walk.skip_subtree();
                        continue;
                    }
                    if tag == Tag::a {
                        in_link += 1;
                    }
                    map[id as usize] = Stats {
                        marker: inf.marker,
                        imgs: u32::from(inf.image),
                        seen: true,
                        ..Stats::default()
                    };
                    if is_block(tag) {
                        blocks.push(stack.len());
                    }
                    stack.push((id, is_block(tag), tag == Tag::a));
                } else if dom.text(id).is_some() {
                    let len = info[id as usize].text_len;
                    if len == 0 {
                        continue;
                    }
                    let commas = info[id as usize].commas;
                    let linked = in_link > 0;
                    // Inline text belongs to the nearest block ancestor.
                    if let Some(&pos) = blocks.last() {
                        let f = &mut map[stack[pos].0 as usize];
                        f.inline_text += len;
                        f.inline_commas += commas;
                        if linked {
                            f.inline_links += len;
                        }
                    }
                    if let Some(top) = stack.last() {
                        let f = &mut map[top.0 as usize];
                        f.text += len;
                        if linked {
                            f.links += len;
                        }
                    }
                }
            }
            Edge::Close(id) => {
                if !dom.is_element(id) {
                    continue;
                }
                let Some((sid, block, is_link)) = stack.pop() else {
                    continue;
                };
                debug_assert_eq!(sid, id);
                if block {
                    blocks.pop();
                }
                if is_link {
                    in_link = in_link.saturating_sub(1);
                }
                let mut st = map[id as usize];
                if matches!(dom.tag(id), Some(Tag::p | Tag::pre | Tag::blockquote)) {
                    st.p_text = st.p_text.max(st.text);
                    st.paras = st.paras.max(1);
                    map[id as usize] = st;
                }
                if let Some(parent) = stack.last() {
                    let p = &mut map[parent.0 as usize];
                    p.text += st.text;
                    p.links += st.links;
                    p.p_text += st.p_text;
                    p.paras += st.paras;
                    p.imgs += st.imgs;
                    p.marker |= st.marker;
                }
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
        if self.links == 0 {
            return 0.0;
        }
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
    /// Elements were left out for being hidden: analysing again without
    /// hiding would give another page.
    pub hidden_skipped: bool,
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
        let total = std::mem::take(&mut self.buf_vis).max(1);
        let links = std::mem::take(&mut self.buf_links);
        if !self.buf.contains(BR) {
            // One paragraph: the common case. The buffer was collapsed as
            // it was filled: copy it out at its size and reuse it.
            let text = self.buf.trim_end_matches(' ').to_string();
            self.buf.clear();
            if !text.is_empty() {
                self.lines.push(Line {
                    text,
                    flags: self.buf_flags,
                    links,
                    heading: self.buf_heading,
                    is_p: self.buf_is_p,
                    after_image: self.pending_image,
                });
                self.pending_image = false;
            }
            return;
        }
        let buf = std::mem::take(&mut self.buf);
        let mut produced = false;
        for piece in split_double_br(&buf) {
            let text = collapse_ws_br(piece);
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

/// Append `t` with every run of whitespace made one space (none at the
/// start of the buffer) and invisible characters dropped: what
/// [`crate::text::collapse_ws`] does, done once while the line is built.
fn push_collapsed(buf: &mut String, t: &str) {
    // Whether the last character written (or about to be, in the run) is a
    // space, or nothing is there yet: a space now would be one too many.
    let mut space = buf.ends_with(' ') || buf.is_empty() || buf.ends_with(BR);
    // The text is copied in runs as long as it needs no change (words and
    // single spaces: most text is one run); the run ends at a space too
    // many, other whitespace, or an invisible character. Characters
    // outside ASCII are told by their first byte (whitespace and invisible
    // ones: U+0085, U+00A0, U+00AD, U+1680, U+2000–U+205F, U+3000,
    // U+FEFF), so that most are never decoded. In a text with characters
    // outside ASCII, whitespace is `char::is_whitespace` (with the vertical
    // tab), as in the rest of the crate.
    let bytes = t.as_bytes();
    let ascii = t.is_ascii();
    let mut run = 0usize;
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        let ws_len = match b {
            b' ' => {
                if space {
                    if i > run {
                        buf.push_str(&t[run..i]);
                    }
                    run = i + 1;
                }
                space = true;
                i += 1;
                continue;
            }
            b'\t' | b'\n' | b'\x0c' | b'\r' => 1,
            0x0b if !ascii => 1,
            0xc2 | 0xe1 | 0xe2 | 0xe3 | 0xef => {
                let c = t[i..].chars().next().unwrap_or('x');
                let len = c.len_utf8();
                if matches!(c, '\u{200b}' | '\u{feff}' | '\u{ad}') {
                    if i > run {
                        buf.push_str(&t[run..i]);
                    }
                    run = i + len;
                    i += len;
                    continue;
                }
                if !c.is_whitespace() {
                    space = false;
                    i += len;
                    continue;
                }
                len
            }
            // Any other character (continuation bytes only follow the
            // first byte of one).
            _ => {
                space = false;
                i += 1;
                continue;
            }
        };
        if i > run {
            buf.push_str(&t[run..i]);
        }
        if !space {
            buf.push(' ');
            space = true;
        }
        run = i + ws_len;
        i += ws_len;
    }
    if t.len() > run {
        buf.push_str(&t[run..]);
    }
}

/// Split on two or more `<br>` in a row (whitespace between them allowed);
/// the breaks themselves are left out.
fn split_double_br(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    // The piece so far: from `start` to the end of its last character that
    // is not part of a run of breaks.
    let mut start = 0usize;
    let mut end = 0usize;
    let mut brs = 0usize;
    for (i, c) in s.char_indices() {
        if c == BR {
            brs += 1;
        } else if brs == 0 || !c.is_whitespace() {
            if brs >= 2 {
                out.push(&s[start..end]);
                start = i;
            }
            brs = 0;
            end = i + c.len_utf8();
        }
    }
    out.push(&s[start..end]);
    out
}

/// [`crate::text::collapse_ws`] with line breaks counted as whitespace.
fn collapse_ws_br(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    if s.is_ascii() {
        for w in s
            .split(|c: char| c == BR || c.is_ascii_whitespace())
            .filter(|w| !w.is_empty())
        {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(w);
        }
        return out;
    }
    let mut pending_space = false;
    for c in s.chars() {
        if c == '\u{200b}' || c == '\u{feff}' || c == '\u{ad}' {
            continue;
        }
        if c.is_whitespace() || c == BR {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

/// Analyse a parsed page: choose the content and render every line.
/// `skip_hidden` drops elements marked hidden (`hidden`, `aria-hidden`,
/// `display:none`); callers retry without it when that leaves no article,
/// as on pages that stream their content into a hidden node for a script
/// to move. `infos` are the tree's [`elem_infos`].
pub(crate) fn analyse(dom: &Dom, infos: &ElemInfos, skip_hidden: bool) -> Page {
    let n = dom.len();
    let info = infos.0.as_slice();
    debug_assert_eq!(info.len(), n);
    let raw = stats_pass(dom, info, &vec![false; n], skip_hidden, Vec::new());
    let total_p: u32 = raw.iter().map(|s| s.p_text).max().unwrap_or(0);

    // Pass 2: region flags (pre-order, inherited) and paragraph scores.
    let mut neg_root = vec![false; n];
    let mut meta_root = vec![false; n];
    for id in 0..n as u32 {
        let st = raw[id as usize];
        if !st.seen {
            continue;
        }
        let Some(tag) = dom.tag(id) else { continue };
        let h = info[id as usize].hint;
        let wrapper = matches!(tag, Tag::html | Tag::body)
            || st.marker
            || (total_p > 0 && st.p_text * 2 > total_p);
        // A "sidebar-grid" or "widget" full of plain paragraphs is a layout
        // name, not boilerplate. Comment threads look like that too, so
        // they never get this benefit.
        let prose =
            st.p_text >= 400 && st.links * 4 < st.text && st.p_text * 2 >= st.text && !h.comments;
        // A subheading is judged by the box it is in, not by its own class: a
        // "widget-title" subheading inside the text is the text's, and the
        // title of a related-links box goes with its box.
        let heading = tag.is_heading() && tag != Tag::h1;
        if (h.strong_neg || (h.weak_neg && !h.pos)) && !wrapper && !prose && !heading {
            neg_root[id as usize] = true;
        } else if (h.author || h.date || h.meta) && st.text < 400 && !wrapper {
            meta_root[id as usize] = true;
        }
    }
    let excluded: Vec<bool> = (0..n).map(|i| neg_root[i] || meta_root[i]).collect();
    let clean = stats_pass(dom, info, &excluded, skip_hidden, raw);

    // NaN: not a candidate (8 bytes a node instead of 16).
    let mut scores: Vec<f64> = vec![f64::NAN; n];
    let mut stack: Vec<NodeId> = Vec::new();
    let mut walk = dom.walk();
    while let Some(edge) = walk.next() {
        match edge {
            Edge::Open(id) => {
                if !dom.is_element(id) {
                    continue;
                }
                if info[id as usize].skipped(skip_hidden) || excluded[id as usize] {
                    walk.skip_subtree();
                    continue;
                }
                stack.push(id);
            }
            Edge::Close(id) => {
                let Some(tag) = dom.tag(id) else { continue };
                let Some(id) = stack.pop() else { continue };
                let st = clean[id as usize];
                if !st.seen || st.inline_text < 25 || st.inline_links * 2 > st.inline_text {
                    continue;
                }
                if tag.is_heading() || matches!(tag, Tag::a | Tag::span | Tag::html | Tag::body) {
                    continue;
                }
                let mut score = 1.0
                    + f64::from(st.inline_commas)
                    + (f64::from(st.inline_text) / 100.0).min(3.0);
                if matches!(tag, Tag::li | Tag::dd | Tag::dt) {
                    score *= 0.5;
                }
                // A paragraph credits its parent fully; a container with its own
                // text (`<div>text<br><br>text</div>`) credits itself.
                let own = !matches!(
                    tag,
                    Tag::p | Tag::pre | Tag::td | Tag::li | Tag::dd | Tag::dt | Tag::blockquote
                );
                let own_id = own.then_some(id);
                let chain = own_id
                    .into_iter()
                    .chain(stack.iter().rev().copied())
                    .take(5);
                for (level, anc) in chain.enumerate() {
                    let div = match level {
                        0 => 1.0,
                        1 => 2.0,
                        l => l as f64 * 3.0,
                    };
                    let entry = &mut scores[anc as usize];
                    if entry.is_nan() {
                        *entry =
                            initial_score(dom, anc, &info[anc as usize].hint, &clean[anc as usize]);
                    }
                    *entry += score / div;
                }
            }
        }
    }

    let final_score = |id: NodeId| -> f64 {
        let st = clean[id as usize];
        let ld = if st.text == 0 {
            1.0
        } else {
            f64::from(st.links) / f64::from(st.text)
        };
        let s = scores[id as usize];
        if s.is_nan() { 0.0 } else { s * (1.0 - ld) }
    };
    let mut best: Option<(NodeId, f64)> = None;
    for id in 0..n as u32 {
        if scores[id as usize].is_nan() {
            continue;
        }
        let s = final_score(id);
        if best.is_none_or(|(_, b)| s > b) {
            best = Some((id, s));
        }
    }

    // Strong candidates elsewhere under a close ancestor: the article is
    // split into blocks (around ads, or one component per few paragraphs).
    // Take the closest ancestor of the best that also holds them. A block
    // built like the best one (same tag and class, same parent) continues
    // the article however short it is: templates repeat their text
    // component, and teaser lists are link-heavy and never score.
    if let Some((top, top_score)) = best {
        let ups: Vec<NodeId> = dom
            .ancestors(top)
            .take_while(|&a| !matches!(dom.tag(a), None | Some(Tag::body | Tag::html)))
            .take(5)
            .collect();
        let top_sig = signature(dom, top);
        let mut level: Option<usize> = None;
        for id in 0..n as u32 {
            if scores[id as usize].is_nan() || id == top {
                continue;
            }
            let fs = final_score(id);
            let strong = fs >= top_score * 0.5 && !ups.is_empty();
            let twin = fs > 1.0 && top_sig.is_some() && signature(dom, id) == top_sig;
            if !strong && !twin {
                continue;
            }
            if dom.is_within(id, top) || dom.is_within(top, id) {
                continue;
            }
            let hit = dom
                .ancestors(id)
                .take(8)
                .find_map(|a| ups.iter().position(|u| *u == a))
                .filter(|&k| twin || k < 4);
            if let Some(k) = hit {
                level = Some(level.map_or(k, |l: usize| l.max(k)));
            }
        }
        if let Some(k) = level {
            let lca = ups[k];
            let st = clean[lca as usize];
            if st.links * 4 < st.text {
                best = Some((lca, top_score));
            }
        }
    }
    // Move up while the parent scores nearly as well: an article split into
    // several sections is best taken whole.
    if let Some((mut top, mut top_score)) = best {
        for _ in 0..3 {
            let Some(pid) = dom.parent(top) else { break };
            let pst = clean[pid as usize];
            if !pst.seen {
                break;
            }
            let is_root = dom
                .tag(pid)
                .is_none_or(|t| matches!(t, Tag::body | Tag::html));
            let ps = final_score(pid);
            if is_root || ps < top_score * 0.75 || pst.links * 4 > pst.text {
                break;
            }
            top = pid;
            top_score = ps;
        }
        best = Some((top, top_score));
    }
    // A feed of whole articles (infinite scroll, "next story" blocks) is
    // not one article: the first one is the page's.
    let mut feed = false;
    if let Some((top, top_score)) = best
        && let Some(first) = first_of_several_articles(dom, top, &clean)
    {
        best = Some((first, top_score));
        feed = true;
    }
    let mut content_root = vec![false; n];
    if let Some((top, top_score)) = best {
        content_root[top as usize] = true;
        if let Some(parent) = dom.parent(top).filter(|_| !feed) {
            let threshold = (top_score * 0.2).max(10.0);
            for sib in dom.children(parent) {
                if sib == top || excluded[sib as usize] {
                    continue;
                }
                let Some(tag) = dom.tag(sib) else { continue };
                if info[sib as usize].skipped(skip_hidden) {
                    continue;
                }
                let st = clean[sib as usize];
                if st.text == 0 {
                    continue;
                }
                let ld = f64::from(st.links) / f64::from(st.text);
                let raw = scores[sib as usize];
                let s = if raw.is_nan() { 0.0 } else { raw * (1.0 - ld) };
                let h = info[sib as usize].hint;
                let para_like = matches!(
                    tag,
                    Tag::p
                        | Tag::blockquote
                        | Tag::pre
                        | Tag::h2
                        | Tag::h3
                        | Tag::h4
                        | Tag::ul
                        | Tag::ol
                );
                let keep = s >= threshold
                    || (para_like && st.text > 80 && ld < 0.25)
                    || (para_like && st.text > 0 && ld == 0.0 && is_sentence_node(dom, sib))
                    || (h.pos && !h.strong_neg && st.text > 40 && ld < 0.25);
                if keep {
                    content_root[sib as usize] = true;
                }
            }
        }
    }

    // The statistics are done with: keep the one answer rendering needs and
    // give their memory back before the lines are built.
    let cleanable: Vec<bool> = (0..n)
        .map(|i| {
            dom.tag(i as NodeId)
                .is_some_and(|tag| is_cleanable(tag, &clean[i], &info[i].hint))
        })
        .collect();
    drop(clean);
    drop(scores);

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
    let mut hidden_skipped = false;
    let mut in_link = 0usize;
    // An element inside an <h1> just closed.
    let mut part_break = false;
    let mut walk = dom.walk();
    while let Some(edge) = walk.next() {
        match edge {
            Edge::Open(id) => {
                if let Some(tag) = dom.tag(id) {
                    let inf = &info[id as usize];
                    if inf.skipped(skip_hidden) {
                        // Every element the statistics saw, rendering sees.
                        hidden_skipped |= !inf.skip_tag;
                        walk.skip_subtree();
                        continue;
                    }
                    let parent = frames.last().copied();
                    let mut flags = parent.map(|f| f.flags).unwrap_or_default();
                    let i = id as usize;
                    if content_root[i] {
                        flags.content = true;
                    }
                    if neg_root[i] {
                        flags.neg = true;
                    }
                    if meta_root[i] {
                        let h = info[i].hint;
                        flags.author |= h.author;
                        flags.date |= h.date;
                        flags.meta |= h.meta;
                    }
                    if flags.content && !flags.cleaned && cleanable[i] {
                        flags.cleaned = true;
                    }
                    let heading = match tag {
                        Tag::h1 => 1,
                        Tag::h2 => 2,
                        Tag::h3 => 3,
                        Tag::h4 => 4,
                        Tag::h5 => 5,
                        Tag::h6 => 6,
                        _ => parent.map_or(0, |f| f.heading),
                    };
                    let block = is_block(tag) || parent.is_none_or(|p| p.flags != flags);
                    if block {
                        r.flush();
                    }
                    if tag == Tag::br {
                        r.buf.push(BR);
                    }
                    if tag == Tag::a {
                        in_link += 1;
                    }
                    if info[id as usize].image && flags.content && r.buf_vis == 0 {
                        r.pending_image = true;
                    }
                    if tag == Tag::time
                        && !flags.neg
                        && let Some(dt) = dom.attr(id, "datetime")
                    {
                        r.times.push(TimeTag {
                            datetime: dt.to_string(),
                            near: flags.content
                                || flags.date
                                || flags.meta
                                || dom.attr(id, "pubdate").is_some(),
                        });
                    }
                    let is_p = if is_block(tag) {
                        tag == Tag::p
                    } else {
                        parent.is_some_and(|f| f.is_p)
                    };
                    frames.push(Frame {
                        id,
                        flags,
                        block,
                        heading,
                        is_p,
                        link: tag == Tag::a,
                    });
                    if block {
                        r.buf_flags = flags;
                        r.buf_heading = heading;
                        r.buf_is_p = is_p;
                    }
                } else if let Some(t) = dom.text(id)
                    && let Some(f) = frames.last()
                {
                    if r.buf_vis == 0 {
                        r.buf_flags = f.flags;
                        r.buf_heading = f.heading;
                        r.buf_is_p = f.is_p;
                    }
                    let vis = info[id as usize].text_len as usize;
                    // A headline printed in parts ("<span>Kicker</span>
                    // <span>Title</span>", styled as blocks) would glue
                    // the parts into one word.
                    if std::mem::take(&mut part_break)
                        && f.heading == 1
                        && r.buf.ends_with(char::is_alphanumeric)
                        && t.starts_with(char::is_alphanumeric)
                    {
                        r.buf.push_str(": ");
                    }
                    push_collapsed(&mut r.buf, t);
                    r.buf_vis += vis;
                    if in_link > 0 {
                        r.buf_links += vis;
                    }
                }
            }
            Edge::Close(id) => {
                if !dom.is_element(id) {
                    continue;
                }
                let Some(frame) = frames.pop() else { continue };
                debug_assert_eq!(frame.id, id);
                if frame.link {
                    in_link = in_link.saturating_sub(1);
                }
                part_break = frame.heading == 1;
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
        hidden_skipped,
    }
}

/// Text an `<article>` needs to count as a story of a feed.
const FEED_ARTICLE_CHARS: u32 = 400;

/// When `top` holds two or more `<article>` elements side by side, each
/// with the text of a story, the first of them.
fn first_of_several_articles(dom: &Dom, top: NodeId, clean: &[Stats]) -> Option<NodeId> {
    let mut found: Vec<NodeId> = Vec::new();
    let mut range = dom.subtree(top);
    range.next();
    let mut id = range.start;
    let end = range.end;
    while id < end {
        if dom.tag(id) == Some(Tag::article) {
            if clean[id as usize].text >= FEED_ARTICLE_CHARS {
                found.push(id);
            }
            // Articles nested inside this one are its parts.
            id = dom.subtree(id).end;
        } else {
            id += 1;
        }
    }
    (found.len() >= 2).then(|| found[0])
}

/// Tag and first class of an element and of its parent: what a template
/// repeats for each block of one kind. None without any class to go by.
fn signature(dom: &Dom, id: NodeId) -> Option<(Tag, &str, Tag, &str)> {
    let first_class = |i: NodeId| {
        dom.attr(i, "class")
            .and_then(|c| c.split_whitespace().next())
            .unwrap_or("")
    };
    let parent = dom.parent(id)?;
    let sig = (
        dom.tag(id)?,
        first_class(id),
        dom.tag(parent).unwrap_or(Tag::Other),
        first_class(parent),
    );
    (!sig.1.is_empty() || !sig.3.is_empty()).then_some(sig)
}

fn is_sentence_node(dom: &Dom, id: NodeId) -> bool {
    let text: String = dom
        .subtree(id)
        .filter_map(|d| dom.text(d))
        .take(200)
        .collect();
    ends_sentence(&text)
}

fn initial_score(dom: &Dom, id: NodeId, h: &Hint, st: &Stats) -> f64 {
    let mut s: f64 = match dom.tag(id) {
        Some(Tag::article) => 10.0,
        Some(Tag::div | Tag::section | Tag::main) => 5.0,
        Some(Tag::pre | Tag::td | Tag::blockquote) => 3.0,
        Some(
            Tag::address | Tag::ol | Tag::ul | Tag::dl | Tag::dd | Tag::dt | Tag::li | Tag::form,
        ) => -3.0,
        Some(Tag::th) => -5.0,
        _ => 0.0,
    };
    // Class hints weigh in proportion to the text they cover, so that a
    // small "justify-content" or "list-articles" box does not outrank the
    // article on its class name alone.
    let weight = (f64::from(st.text) / 1000.0).min(1.0);
    if h.pos {
        s += 25.0 * weight;
    }
    if h.weak_neg || h.strong_neg {
        s -= 25.0;
    }
    s * weight.max(0.2)
}

/// Inside the content, a box or list that is mostly links (related
/// articles, tag lists, "read also"), or an image box with a short caption.
fn is_cleanable(tag: Tag, st: &Stats, hint: &Hint) -> bool {
    if !st.seen || st.text == 0 {
        return false;
    }
    let ld = f64::from(st.links) / f64::from(st.text);
    let pos = hint.pos;
    match tag {
        Tag::ul | Tag::ol | Tag::dl => ld > 0.5,
        Tag::div
        | Tag::section
        | Tag::table
        | Tag::form
        | Tag::aside
        | Tag::figure
        | Tag::center => {
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

/// Words of the placeholders that stand for an embed until the reader
/// consents (folded).
#[rustfmt::skip]
const CONSENT: &[&str] = &[
    "einwilligung", "einverstanden", "externe inhalte", "externen inhalt", "externer inhalt",
    "eingebettete inhalte", "drittanbieter", "drittplattform", "datenschutzerklarung",
    "ein klick fur den datenschutz", "third-party content", "third party content",
    "consent to", "your consent", "cookie", "privacy settings", "privacy policy",
    "consentement", "contenu externe", "contenido externo", "consentimiento", "privatsphare",
    "datenschutz-einstellungen", "personenbezogene daten",
];

static CONSENT_AC: LazyLock<AhoCorasick> = LazyLock::new(|| {
    // A DFA: it runs on every short line of the content.
    AhoCorasick::builder()
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .build(CONSENT)
        .expect("static patterns")
});

/// The consent phrases again, for a vectorised search (Teddy) that says
/// whether a line holds any of them faster than the automaton reads it:
/// there are too many phrases for the automaton to pick a prefilter of its
/// own. None where the processor lacks the instructions.
static CONSENT_PACKED: LazyLock<Option<aho_corasick::packed::Searcher>> = LazyLock::new(|| {
    aho_corasick::packed::Config::new()
        .builder()
        .extend(CONSENT)
        .build()
});

/// How many different consent phrases `folded` holds (one pass).
fn consent_hits(folded: &str) -> usize {
    // Most lines hold none: a plain search says so before the overlapping
    // one counts.
    let any = match &*CONSENT_PACKED {
        Some(s) => s.find(folded).is_some(),
        None => CONSENT_AC.is_match(folded),
    };
    if !any {
        return 0;
    }
    let mut seen = 0u64;
    for m in CONSENT_AC.find_overlapping_iter(folded) {
        seen |= 1 << (m.pattern().as_usize() % 64);
    }
    seen.count_ones() as usize
}

#[rustfmt::skip]
const LABELS: &[&str] = &[
    "advertisement", "publicite", "anzeige", "publicidad", "werbung", "pub", "sponsored",
    "partager", "share", "share this", "share this article", "tweet", "imprimer", "print", "email",
    "e-mail", "facebook", "twitter", "whatsapp", "linkedin", "commenter", "comments",
    "commentaires", "lire la suite", "continue reading", "weiterlesen", "ad", "copier le lien",
    "copy link", "envoyer", "partager sur facebook", "partager sur twitter", "up next",
    "box aufklappen box zuklappen",
];

/// Clean the content lines into the body.
pub(crate) fn assemble(page: &Page, title: Option<&str>) -> Body {
    let mut body = Body::default();
    let title_key = title.map(crate::text::compact);
    let title_chars = title.map_or(0, |t| t.chars().count());
    let mut kept: Vec<&Line> = Vec::new();
    // A long line was kept: bylines come before the text, not inside it.
    let mut kept_long = false;
    let content_lines = page.lines.iter().filter(|l| l.flags.content).count();
    let mut nth = 0usize;
    let mut folded = String::new();
    for line in &page.lines {
        let f = line.flags;
        if !f.content || f.neg || f.cleaned {
            continue;
        }
        if f.author || f.date || f.meta {
            continue;
        }
        nth += 1;
        // Datelines and source lines sit at the ends of the text.
        let at_ends = nth <= 40 || nth + 10 >= content_lines;
        let text = line.text.as_str();
        if !text.chars().any(char::is_alphanumeric) {
            continue;
        }
        let chars = text.chars().count();
        // Only short lines are matched against the lists below.
        folded.clear();
        if chars < 800 {
            fold_into(&mut folded, text);
        }
        // The title repeated as a heading (or as the first line).
        if chars <= title_chars * 2 + 10
            && (line.heading > 0 || kept.is_empty() || chars < 300)
            && title_key
                .as_ref()
                .is_some_and(|t| crate::text::compacts_to(text, t))
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
        // An embed's consent placeholder: saying so twice, or in a line of
        // a few words.
        if chars < 800 {
            let hits = consent_hits(&folded);
            if hits >= 2 || (hits == 1 && chars < 60) {
                continue;
            }
        }
        // The length of a video or audio ("02:57 Min.", "3:05").
        if chars <= 12 && is_duration(text) {
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
        let has_digit = text.bytes().any(|b| b.is_ascii_digit());
        if chars <= 160
            && has_digit
            && at_ends
            && let Some(d) = crate::dates::find_in_text(text)
        {
            let rest = chars - text[d.start..d.end].chars().count();
            if crate::dates::has_date_keyword(text) || rest <= 40 {
                body.datelines.push(text.to_string());
                continue;
            }
        }
        if chars <= 100 && at_ends && crate::publisher::source_line(text).is_some() {
            body.sources.push(text.to_string());
            continue;
        }
        // A byline at the top ("Par X", "By X and Y").
        if chars <= 150
            && !kept_long
            && starts_with_byline_word(&folded)
            && let Some(names) = crate::authors::parse_byline(text)
        {
            body.byline_names.extend(names);
            continue;
        }
        kept_long |= chars >= 120;
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

    // Headings with nothing after them (the title of a removed box), but
    // not the sentence-long headings of a list told in headings ("1. The
    // company owned 1,300 projects" over a picture each).
    let sentence = |l: &Line| l.text.split_whitespace().count() >= 6;
    let mut out: Vec<String> = Vec::with_capacity(kept.len());
    for (i, line) in kept.iter().enumerate() {
        if line.heading > 0 {
            let next = kept.get(i + 1);
            let next_is_text = next.is_some_and(|n| n.heading == 0);
            let in_heading_list = sentence(line)
                && (next.is_some_and(|n| n.heading == line.heading && sentence(n))
                    || (i > 0 && kept[i - 1].heading == line.heading && sentence(kept[i - 1])));
            if !next_is_text && !in_heading_list {
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

/// "02:57 Min.", "1:02:33", "3:05 min".
fn is_duration(text: &str) -> bool {
    let t = text.trim();
    let t = t
        .trim_end_matches('.')
        .trim_end_matches(|c: char| c.is_alphabetic())
        .trim_end();
    !t.is_empty()
        && t.contains(':')
        && t.chars().all(|c| c.is_ascii_digit() || c == ':')
        && !t.starts_with(':')
        && !t.ends_with(':')
}

fn starts_with_byline_word(folded: &str) -> bool {
    [
        "by ", "par ", "von ", "por ", "door ", "texte ", "text: ", "auteur", "author", "autor",
    ]
    .iter()
    .any(|p| folded.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`push_collapsed`] as it was written first, character by character.
    fn push_collapsed_slow(buf: &mut String, t: &str) {
        let mut space = buf.ends_with(' ') || buf.is_empty() || buf.ends_with(BR);
        let ascii = t.is_ascii();
        for c in t.chars() {
            if matches!(c, '\u{200b}' | '\u{feff}' | '\u{ad}') && !ascii {
                continue;
            }
            let ws = if ascii {
                c.is_ascii_whitespace()
            } else {
                c.is_whitespace()
            };
            if ws {
                if !space {
                    buf.push(' ');
                    space = true;
                }
            } else {
                buf.push(c);
                space = false;
            }
        }
    }

    #[test]
    fn push_collapsed_collapses_as_char_by_char() {
        let mut texts: Vec<String> = [
            "",
            " ",
            "  a  b ",
            "a\u{b}b",
            "a \u{b} b\u{b}",
            "\n\tUn mot,  deux\r\n trois ",
            "l\u{e9}  « x »\u{a0}\u{a0}y\u{202f}z",
            "x\u{200b}y \u{ad}z\u{feff} ",
            " \u{200b} a",
            "\u{3000}\u{2003}é\u{1680}\u{85}q\u{2028}",
            "It’s — “here”",
        ]
        .iter()
        .map(|s| (*s).to_string())
        .collect();
        for c in (0x80..=0x3001)
            .chain(0xfeff..=0xff0c)
            .filter_map(char::from_u32)
        {
            texts.push(format!("a{c} {c}{c}b"));
        }
        for start in ["", "x", "x ", "x\u{1}"] {
            for t in &texts {
                let mut fast = start.to_string();
                let mut slow = start.to_string();
                push_collapsed(&mut fast, t);
                push_collapsed_slow(&mut slow, t);
                assert_eq!(fast, slow, "{start:?} + {t:?}");
            }
        }
    }

    #[test]
    fn text_counts_count_visible_characters_and_commas() {
        assert_eq!(text_counts("a, b\u{a0}c，"), (5, 2));
    }
}
