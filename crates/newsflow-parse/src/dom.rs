//! A fast, forgiving HTML parser into a compact arena tree, made for
//! extraction rather than for browsers.
//!
//! Why not html5ever: a spec-complete tree builder costs more than the
//! whole of extraction (about 100 MB/s here, and quadratic on deep
//! nesting), and extraction needs neither foster parenting nor the adoption
//! agency to find paragraphs. This parser makes one pass over the bytes and
//! keeps the rules that change which element text belongs to: void
//! elements, raw-text elements (`script`, `style`, …), implied end tags
//! (`<p>` closed by a block, `<li>` by the next `<li>`, cells and rows),
//! end tags that match an open element (a stray `</span>` does not close a
//! `<div>`), implied `html`/`head`/`body`, and character references (every
//! HTML5 named one, numeric ones with the spec's replacements).
//!
//! The tree is stored in pre-order: nodes are created in document order and
//! never moved, so a node's subtree is the id range `id..end(id)`, and a
//! pass over the document is a loop over ids. Text, attribute values and
//! unknown tag names live in one string arena; elements deeper than
//! [`MAX_DEPTH`] are dropped (their text stays), which bounds every
//! ancestor walk. Contents of scripts other than JSON-LD, of styles and of
//! other raw-text elements are skipped, not stored.

use std::ops::Range;

/// Open elements kept; deeper start tags are ignored (their text stays).
pub(crate) const MAX_DEPTH: usize = 256;
/// Nodes kept: the rest of a page past this many is not read, so that
/// parsing and every pass over the tree are bounded whatever the page.
/// Real pages have a few thousand elements (ten thousand nodes at most in
/// the evaluation corpus, where the article comes long before); a page of
/// 10 MB of short paragraphs would have millions.
pub(crate) const MAX_NODES: usize = 1 << 18;
/// How far down the stack of open elements an end tag looks for its match.
const END_TAG_SEARCH: usize = 128;

/// Node ids are indices; 0 is the document.
pub(crate) type NodeId = u32;
const NONE: u32 = u32::MAX;

/// Known tags. `Other` names are kept in the arena.
macro_rules! tags {
    ($($id:ident = $name:literal),* $(,)?) => {
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u8)]
        pub(crate) enum Tag { $($id,)* Other }
        const TAG_NAMES: &[&str] = &[$($name,)* ""];
        const ALL_TAGS: &[Tag] = &[$(Tag::$id,)*];
    };
}

tags! {
    a = "a", abbr = "abbr", address = "address", applet = "applet", area = "area",
    article = "article", aside = "aside", audio = "audio", b = "b", base = "base",
    basefont = "basefont", bgsound = "bgsound", big = "big", blockquote = "blockquote",
    body = "body", br = "br", button = "button", canvas = "canvas", caption = "caption",
    center = "center", cite = "cite", code = "code", col = "col", colgroup = "colgroup",
    datalist = "datalist", dd = "dd", details = "details", dialog = "dialog", dir = "dir",
    div = "div", dl = "dl", dt = "dt", em = "em", embed = "embed", fieldset = "fieldset",
    figcaption = "figcaption", figure = "figure", font = "font", footer = "footer",
    form = "form", frame = "frame", h1 = "h1", h2 = "h2", h3 = "h3", h4 = "h4", h5 = "h5",
    h6 = "h6", head = "head", header = "header", hgroup = "hgroup", hr = "hr", html = "html",
    i = "i", iframe = "iframe", image = "image", img = "img", input = "input", keygen = "keygen",
    label = "label", li = "li", link = "link", listing = "listing", main = "main", map = "map",
    marquee = "marquee", math = "math", menu = "menu", meta = "meta", nav = "nav",
    nobr = "nobr", noembed = "noembed", noframes = "noframes", noscript = "noscript",
    object = "object", ol = "ol", optgroup = "optgroup", option = "option", p = "p",
    param = "param", picture = "picture", plaintext = "plaintext", pre = "pre", q = "q",
    rb = "rb", rp = "rp", rt = "rt", rtc = "rtc", s = "s", script = "script",
    search = "search", section = "section", select = "select", small = "small",
    source = "source", span = "span", strike = "strike", strong = "strong", style = "style",
    sub = "sub", summary = "summary", sup = "sup", svg = "svg", table = "table",
    tbody = "tbody", td = "td", template = "template", textarea = "textarea", tfoot = "tfoot",
    th = "th", thead = "thead", time = "time", title = "title", tr = "tr", track = "track",
    tt = "tt", u = "u", ul = "ul", video = "video", wbr = "wbr", xmp = "xmp",
}

/// Known tag names packed into integers and sorted: a lookup is a binary
/// search over integers, not a chain of string comparisons.
static TAG_KEYS: std::sync::LazyLock<Vec<(u128, Tag)>> = std::sync::LazyLock::new(|| {
    let mut keys: Vec<(u128, Tag)> = ALL_TAGS
        .iter()
        .map(|&t| (pack_name(TAG_NAMES[t as usize].as_bytes()).unwrap_or(0), t))
        .collect();
    keys.sort_unstable_by_key(|k| k.0);
    keys
});

/// A tag name of at most 16 bytes, lower-cased, as one integer.
fn pack_name(name: &[u8]) -> Option<u128> {
    if name.len() > 16 {
        return None;
    }
    // Byte by byte: names are short, and a copy of variable length into a
    // buffer costs a call to memcpy.
    let mut key = 0u128;
    for (i, b) in name.iter().enumerate() {
        key |= u128::from(b.to_ascii_lowercase()) << (8 * i);
    }
    Some(key)
}

fn tag_of(name: &[u8]) -> Tag {
    let Some(key) = pack_name(name) else {
        return Tag::Other;
    };
    TAG_KEYS
        .binary_search_by_key(&key, |k| k.0)
        .map_or(Tag::Other, |i| TAG_KEYS[i].1)
}

/// Attribute names common enough that the arena starts with them once
/// instead of holding a copy per element.
#[rustfmt::skip]
const KNOWN_ATTRS: &[&str] = &[
    "class", "id", "style", "href", "src", "rel", "role", "type", "name", "content", "property",
    "itemprop", "lang", "datetime", "title", "alt", "width", "height", "hidden", "aria-hidden",
    "aria-label", "http-equiv", "charset", "target", "data-src", "srcset", "sizes", "loading",
    "itemscope", "itemtype", "data-id", "tabindex", "onclick", "value", "for", "action",
    "method", "media", "async", "defer", "crossorigin", "integrity", "decoding", "fetchpriority",
    "data-component", "data-testid", "pubdate",
];

/// The arena's prefix and, sorted by packed name, where each known name
/// sits in it.
type KnownAttrs = (String, Vec<(u128, (u32, u32))>);

static KNOWN_ATTR_ARENA: std::sync::LazyLock<KnownAttrs> = std::sync::LazyLock::new(|| {
    let mut prefix = String::new();
    let mut keys = Vec::new();
    for name in KNOWN_ATTRS {
        let s = prefix.len() as u32;
        prefix.push_str(name);
        let key = pack_name(name.as_bytes()).expect("short attribute name");
        keys.push((key, (s, prefix.len() as u32)));
    }
    keys.sort_unstable_by_key(|k| k.0);
    (prefix, keys)
});

/// Where a known attribute name (any case) sits in the arena's prefix.
fn known_attr(name: &[u8]) -> Option<(u32, u32)> {
    let key = pack_name(name)?;
    let keys = &KNOWN_ATTR_ARENA.1;
    keys.binary_search_by_key(&key, |k| k.0)
        .ok()
        .map(|i| keys[i].1)
}

impl Tag {
    fn is_void(self) -> bool {
        use Tag::*;
        matches!(
            self,
            area | base
                | basefont
                | bgsound
                | br
                | col
                | embed
                | frame
                | hr
                | image
                | img
                | input
                | keygen
                | link
                | meta
                | param
                | source
                | track
                | wbr
        )
    }

    /// A start tag of these closes an open `<p>`.
    fn closes_p(self) -> bool {
        use Tag::*;
        matches!(
            self,
            address
                | article
                | aside
                | blockquote
                | center
                | details
                | dialog
                | dir
                | div
                | dl
                | fieldset
                | figcaption
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
                | listing
                | main
                | menu
                | nav
                | ol
                | p
                | pre
                | search
                | section
                | summary
                | table
                | ul
                | plaintext
                | xmp
                | dd
                | dt
                | li
        )
    }

    /// Elements an end tag of an inline element does not cross (the spec's
    /// "special" category, roughly).
    fn is_special(self) -> bool {
        use Tag::*;
        self.closes_p()
            || matches!(
                self,
                applet
                    | body
                    | caption
                    | html
                    | marquee
                    | object
                    | table
                    | td
                    | th
                    | tr
                    | tbody
                    | thead
                    | tfoot
                    | template
                    | select
                    | button
                    | head
            )
    }

    /// Elements whose end tag the adoption agency would honour across
    /// blocks.
    fn is_formatting(self) -> bool {
        use Tag::*;
        matches!(
            self,
            a | b | big | code | em | font | i | nobr | s | small | strike | strong | tt | u
        )
    }

    fn is_scope_boundary(self) -> bool {
        use Tag::*;
        matches!(
            self,
            applet | caption | html | table | td | th | marquee | object | template
        )
    }

    /// Elements after which whitespace separates nothing more: blocks,
    /// line breaks, and the head's elements. (Not scripts or images: they
    /// sit inside sentences, between words.)
    fn separates(self) -> bool {
        use Tag::*;
        self.closes_p()
            || matches!(
                self,
                br | hr
                    | li
                    | dd
                    | dt
                    | tr
                    | td
                    | th
                    | tbody
                    | thead
                    | tfoot
                    | table
                    | caption
                    | body
                    | head
                    | html
                    | link
                    | meta
                    | base
                    | title
            )
    }

    pub(crate) fn is_heading(self) -> bool {
        use Tag::*;
        matches!(self, h1 | h2 | h3 | h4 | h5 | h6)
    }

    /// Allowed inside `<head>`; anything else opens the body.
    fn is_head_content(self) -> bool {
        use Tag::*;
        matches!(
            self,
            base | basefont
                | bgsound
                | link
                | meta
                | noscript
                | script
                | style
                | template
                | title
                | noframes
        )
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Document,
    Element {
        tag: Tag,
        /// Range in `Dom::attrs`. When `tag` is `Other` its first entry
        /// holds the element's name (and no value).
        attrs: (u32, u32),
    },
    Text(u32, u32),
}

/// A node: 20 bytes. Children and siblings are not stored: in pre-order a
/// node's first child is the next id and its next sibling starts where its
/// subtree ends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    pub parent: u32,
    /// One past the last id of this node's subtree. While the tree is
    /// built it holds the last child instead (NONE without children), which
    /// is what `end` is computed from: one field less for every node.
    pub end: u32,
    pub kind: Kind,
}

#[derive(Debug, Clone, Copy)]
struct Attr {
    name: (u32, u32),
    value: (u32, u32),
}

/// A parsed page.
#[derive(Debug, Default)]
pub(crate) struct Dom {
    nodes: Vec<Node>,
    attrs: Vec<Attr>,
    arena: String,
}

/// An edge of a depth-first walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Edge {
    Open(NodeId),
    Close(NodeId),
}

impl Dom {
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    fn str(&self, r: (u32, u32)) -> &str {
        &self.arena[r.0 as usize..r.1 as usize]
    }

    /// The tag of an element.
    pub(crate) fn tag(&self, id: NodeId) -> Option<Tag> {
        match self.nodes.get(id as usize)?.kind {
            Kind::Element { tag, .. } => Some(tag),
            _ => None,
        }
    }

    /// The lower-case name of an element.
    pub(crate) fn name(&self, id: NodeId) -> Option<&str> {
        match self.nodes.get(id as usize)?.kind {
            Kind::Element {
                tag: Tag::Other,
                attrs,
            } => Some(self.str(self.attrs[attrs.0 as usize].name)),
            Kind::Element { tag, .. } => Some(TAG_NAMES[tag as usize]),
            _ => None,
        }
    }

    pub(crate) fn is_element(&self, id: NodeId) -> bool {
        matches!(self.nodes[id as usize].kind, Kind::Element { .. })
    }

    /// The text of a text node.
    pub(crate) fn text(&self, id: NodeId) -> Option<&str> {
        match self.nodes.get(id as usize)?.kind {
            Kind::Text(s, e) => Some(self.str((s, e))),
            _ => None,
        }
    }

    /// The value of attribute `name` (lower case) of an element.
    pub(crate) fn attr(&self, id: NodeId, name: &str) -> Option<&str> {
        self.attr_entries(id)
            .iter()
            .find(|a| self.str(a.name) == name)
            .map(|a| self.str(a.value))
    }

    /// The attributes of an element (the name entry of an `Other` left
    /// out).
    fn attr_entries(&self, id: NodeId) -> &[Attr] {
        match self.nodes.get(id as usize).map(|n| n.kind) {
            Some(Kind::Element { tag, attrs }) => {
                let start = attrs.0 + u32::from(tag == Tag::Other);
                &self.attrs[start as usize..attrs.1 as usize]
            }
            _ => &[],
        }
    }

    /// Every attribute of an element, as (lower-case name, value).
    pub(crate) fn attrs(&self, id: NodeId) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.attr_entries(id)
            .iter()
            .map(|a| (self.str(a.name), self.str(a.value)))
    }

    pub(crate) fn parent(&self, id: NodeId) -> Option<NodeId> {
        let p = self.nodes.get(id as usize)?.parent;
        (p != NONE).then_some(p)
    }

    /// Ancestors, nearest first (the document included).
    pub(crate) fn ancestors(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        let mut cur = self.nodes.get(id as usize).map_or(NONE, |n| n.parent);
        std::iter::from_fn(move || {
            if cur == NONE {
                return None;
            }
            let out = cur;
            cur = self.nodes[cur as usize].parent;
            Some(out)
        })
    }

    pub(crate) fn children(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        let Range { start, end } = self.subtree(id);
        let mut cur = start + 1;
        std::iter::from_fn(move || {
            if cur >= end {
                return None;
            }
            let out = cur;
            cur = self.nodes[cur as usize].end;
            Some(out)
        })
    }

    /// The ids of `id`'s subtree, itself first, in document order.
    pub(crate) fn subtree(&self, id: NodeId) -> Range<u32> {
        id..self.nodes.get(id as usize).map_or(id, |n| n.end)
    }

    /// Whether `id` is `anc` or inside it.
    pub(crate) fn is_within(&self, id: NodeId, anc: NodeId) -> bool {
        self.subtree(anc).contains(&id)
    }

    /// A depth-first walk of the whole document with open and close edges;
    /// after an open edge, [`Walk::skip_subtree`] leaves that subtree out.
    pub(crate) fn walk(&self) -> Walk<'_> {
        Walk {
            dom: self,
            next: 0,
            open: Vec::with_capacity(64),
        }
    }

    /// Concatenated text of the subtree of `id`.
    #[cfg(test)]
    pub(crate) fn text_content(&self, id: NodeId) -> String {
        let mut out = String::new();
        for d in self.subtree(id) {
            if let Some(t) = self.text(d) {
                out.push_str(t);
            }
        }
        out
    }
}

/// See [`Dom::walk`].
pub(crate) struct Walk<'a> {
    dom: &'a Dom,
    next: u32,
    /// Open nodes with their subtree end.
    open: Vec<(NodeId, u32)>,
}

impl Walk<'_> {
    /// Do not descend into the node just opened, and do not report its
    /// close edge either.
    pub(crate) fn skip_subtree(&mut self) {
        if let Some((_, end)) = self.open.pop() {
            self.next = end;
        }
    }
}

impl Iterator for Walk<'_> {
    type Item = Edge;

    fn next(&mut self) -> Option<Edge> {
        if let Some(&(id, end)) = self.open.last()
            && self.next >= end
        {
            self.open.pop();
            return Some(Edge::Close(id));
        }
        if (self.next as usize) >= self.dom.nodes.len() {
            return None;
        }
        let id = self.next;
        self.next += 1;
        self.open.push((id, self.dom.nodes[id as usize].end));
        Some(Edge::Open(id))
    }
}

// ------------------------------------------------------------------ parser

struct Builder<'a> {
    src: &'a [u8],
    html: &'a str,
    dom: Dom,
    /// Open elements: (id, tag).
    stack: Vec<(NodeId, Tag)>,
    open_p: usize,
    open_a: usize,
    html_id: Option<NodeId>,
    head_id: Option<NodeId>,
    body_id: Option<NodeId>,
    head_done: bool,
    /// Inside `<svg>` or `<math>`: self-closing tags count.
    foreign: usize,
}

/// Parse a page.
pub(crate) fn parse(html: &str) -> Dom {
    let mut b = Builder {
        src: html.as_bytes(),
        html,
        dom: Dom {
            // Generous: capacity that is never written costs no memory
            // (pages are mapped on first touch), and growing would copy.
            nodes: Vec::with_capacity(html.len() / 8 + 16),
            attrs: Vec::with_capacity(html.len() / 16 + 16),
            // Decoded text and attributes never outgrow their markup.
            arena: String::with_capacity(html.len() + 64),
        },
        stack: Vec::with_capacity(64),
        open_p: 0,
        open_a: 0,
        html_id: None,
        head_id: None,
        body_id: None,
        head_done: false,
        foreign: 0,
    };
    b.dom.arena.push_str(KNOWN_ATTR_ARENA.0.as_str());
    b.dom.nodes.push(Node {
        parent: NONE,
        end: NONE,
        kind: Kind::Document,
    });
    b.run();
    b.finish()
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

impl Builder<'_> {
    fn finish(mut self) -> Dom {
        // Subtree ends: every node's subtree ends where the next node not
        // inside it starts. Walking backwards, a node's end is the max of
        // its own id + 1 and its last child's end.
        let n = self.dom.nodes.len();
        for i in (0..n).rev() {
            let last = self.dom.nodes[i].end;
            let end = if last == NONE {
                i as u32 + 1
            } else {
                self.dom.nodes[last as usize].end
            };
            self.dom.nodes[i].end = end;
        }
        self.dom
    }

    fn current(&self) -> NodeId {
        self.stack.last().map_or(0, |s| s.0)
    }

    fn append(&mut self, parent: NodeId, kind: Kind) -> NodeId {
        let id = self.dom.nodes.len() as u32;
        self.dom.nodes.push(Node {
            parent,
            end: NONE,
            kind,
        });
        self.dom.nodes[parent as usize].end = id;
        id
    }

    fn push(&mut self, id: NodeId, tag: Tag) {
        self.stack.push((id, tag));
        match tag {
            Tag::p => self.open_p += 1,
            Tag::a => self.open_a += 1,
            Tag::svg | Tag::math => self.foreign += 1,
            _ => {}
        }
    }

    fn pop(&mut self) -> Option<(NodeId, Tag)> {
        let top = self.stack.pop()?;
        match top.1 {
            Tag::p => self.open_p -= 1,
            Tag::a => self.open_a -= 1,
            Tag::svg | Tag::math => self.foreign -= 1,
            Tag::head => self.head_done = true,
            _ => {}
        }
        Some(top)
    }

    /// Pop up to and including the element at stack index `i`.
    fn pop_to(&mut self, i: usize) {
        while self.stack.len() > i {
            self.pop();
        }
    }

    fn ensure_html(&mut self) -> NodeId {
        if let Some(h) = self.html_id {
            return h;
        }
        let id = self.append(
            0,
            Kind::Element {
                tag: Tag::html,
                attrs: (0, 0),
            },
        );
        self.push(id, Tag::html);
        self.html_id = Some(id);
        id
    }

    /// Make sure content goes into a body: close an open head, create the
    /// body if the page did not.
    fn ensure_body(&mut self) {
        if self.body_id.is_some() {
            return;
        }
        let html = self.ensure_html();
        if let Some(head) = self.head_id
            && let Some(i) = self.stack.iter().position(|s| s.0 == head)
        {
            self.pop_to(i);
        }
        self.head_done = true;
        // Content after </html>: back under html.
        if !self.stack.iter().any(|s| s.0 == html) {
            self.stack.clear();
            self.push(html, Tag::html);
        }
        let id = self.append(
            html,
            Kind::Element {
                tag: Tag::body,
                attrs: (0, 0),
            },
        );
        self.push(id, Tag::body);
        self.body_id = Some(id);
    }

    fn add_text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        let in_head_phase = self.body_id.is_none();
        if in_head_phase {
            if text.bytes().all(is_ws) {
                return;
            }
            // Text inside <title> or another head element stays there.
            let in_head_elem = self
                .stack
                .last()
                .is_some_and(|s| s.1.is_head_content() && s.1 != Tag::noscript);
            if !in_head_elem {
                self.ensure_body();
            }
        }
        let parent = self.current();
        // The last child, while building (see `Node::end`).
        let last = self.dom.nodes[parent as usize].end;
        // Indentation between blocks separates nothing: leave it out (a
        // third of the nodes of a typical page).
        if text.bytes().all(is_ws)
            && (last == NONE
                || matches!(self.dom.nodes[last as usize].kind,
                    Kind::Element { tag, .. } if tag.separates()))
        {
            return;
        }
        let start = self.dom.arena.len() as u32;
        push_decoded(&mut self.dom.arena, text);
        let end = self.dom.arena.len() as u32;
        if last != NONE
            && let Kind::Text(s, e) = self.dom.nodes[last as usize].kind
            && e == start
        {
            self.dom.nodes[last as usize].kind = Kind::Text(s, end);
            return;
        }
        self.append(parent, Kind::Text(start, end));
    }

    fn add_raw_text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        let parent = self.current();
        let start = self.dom.arena.len() as u32;
        self.dom.arena.push_str(text);
        let end = self.dom.arena.len() as u32;
        self.append(parent, Kind::Text(start, end));
    }

    fn run(&mut self) {
        let src = self.src;
        let len = src.len();
        let mut i = 0usize;
        let mut text_start = 0usize;
        while i < len {
            if self.dom.nodes.len() >= MAX_NODES {
                return;
            }
            let Some(off) = memchr::memchr(b'<', &src[i..]) else {
                break;
            };
            let lt = i + off;
            i = lt + 1;
            let Some(&c) = src.get(i) else { break };
            if c == b'!' {
                self.flush_text(text_start, lt);
                i = self.skip_markup_declaration(i + 1);
                text_start = i;
            } else if c == b'?' {
                self.flush_text(text_start, lt);
                i = memchr::memchr(b'>', &src[i..]).map_or(len, |p| i + p + 1);
                text_start = i;
            } else if c == b'/' {
                let Some(&c2) = src.get(i + 1) else { break };
                if c2.is_ascii_alphabetic() {
                    self.flush_text(text_start, lt);
                    let (name_end, tag_end) = self.scan_tag(i + 1, false);
                    let name = &src[i + 1..name_end];
                    self.end_tag(name);
                    i = tag_end;
                    text_start = i;
                } else if c2 == b'>' {
                    self.flush_text(text_start, lt);
                    i += 2;
                    text_start = i;
                } else {
                    // `</ x>`: a bogus comment up to `>`.
                    self.flush_text(text_start, lt);
                    i = memchr::memchr(b'>', &src[i..]).map_or(len, |p| i + p + 1);
                    text_start = i;
                }
            } else if c.is_ascii_alphabetic() {
                self.flush_text(text_start, lt);
                i = self.start_tag(i);
                text_start = i;
            }
            // Otherwise a literal '<' in text.
        }
        self.flush_text(text_start, len);
    }

    fn flush_text(&mut self, start: usize, end: usize) {
        if start < end {
            let text = &self.html[start..end];
            self.add_text(text);
        }
    }

    /// After `<!`: a comment, doctype or CDATA section; returns where text
    /// resumes.
    fn skip_markup_declaration(&self, i: usize) -> usize {
        let src = self.src;
        let len = src.len();
        if src[i..].starts_with(b"--") {
            let from = i + 2;
            // `<!-->` and `<!--->` are empty comments.
            if src[from..].starts_with(b">") {
                return from + 1;
            }
            if src[from..].starts_with(b"->") {
                return from + 2;
            }
            let mut j = from;
            while let Some(p) = memchr::memchr(b'-', &src[j..]) {
                let k = j + p;
                if src[k..].starts_with(b"-->") {
                    return k + 3;
                }
                if src[k..].starts_with(b"--!>") {
                    return k + 4;
                }
                j = k + 1;
            }
            return len;
        }
        memchr::memchr(b'>', &src[i..]).map_or(len, |p| i + p + 1)
    }

    /// From the first byte of a tag name: (end of name, index after `>`).
    /// A tag that never ends runs to the end of the input.
    fn scan_tag(&self, from: usize, _attrs: bool) -> (usize, usize) {
        let src = self.src;
        let mut j = from;
        while j < src.len() && !is_ws(src[j]) && src[j] != b'/' && src[j] != b'>' {
            j += 1;
        }
        let name_end = j;
        let mut quote = 0u8;
        // After `=` a value may be quoted; elsewhere quotes are ordinary.
        let mut after_eq = false;
        while j < src.len() {
            let b = src[j];
            if quote != 0 {
                if b == quote {
                    quote = 0;
                }
            } else if b == b'>' {
                return (name_end, j + 1);
            } else if after_eq && (b == b'"' || b == b'\'') {
                quote = b;
            }
            if quote == 0 && !is_ws(b) {
                after_eq = b == b'=';
            }
            j += 1;
        }
        (name_end, src.len())
    }

    /// Parse a start tag whose name starts at `i`; returns where text
    /// resumes.
    fn start_tag(&mut self, i: usize) -> usize {
        let src = self.src;
        let len = src.len();
        let mut j = i;
        while j < len && !is_ws(src[j]) && src[j] != b'/' && src[j] != b'>' {
            j += 1;
        }
        let name_range_src = i..j;
        let mut tag = tag_of(&src[i..j]);
        if tag == Tag::image {
            tag = Tag::img;
        }
        // Attributes, after the name of an unknown element.
        let attr_start = self.dom.attrs.len();
        if tag == Tag::Other {
            let s = self.dom.arena.len() as u32;
            for c in self.html[name_range_src].chars() {
                self.dom.arena.push(c.to_ascii_lowercase());
            }
            self.dom.attrs.push(Attr {
                name: (s, self.dom.arena.len() as u32),
                value: (0, 0),
            });
        }
        let first_attr = self.dom.attrs.len();
        let mut self_closing = false;
        let mut ended = false;
        while j < len {
            while j < len && is_ws(src[j]) {
                j += 1;
            }
            if j >= len {
                break;
            }
            match src[j] {
                b'>' => {
                    j += 1;
                    ended = true;
                    break;
                }
                b'/' => {
                    j += 1;
                    if src.get(j) == Some(&b'>') {
                        self_closing = true;
                    }
                    continue;
                }
                _ => {}
            }
            let ns = j;
            j += 1; // A name may start with '='.
            while j < len && !is_ws(src[j]) && !matches!(src[j], b'/' | b'>' | b'=') {
                j += 1;
            }
            let aname = &self.html[ns..j];
            let mut k = j;
            while k < len && is_ws(src[k]) {
                k += 1;
            }
            let mut value: &str = "";
            if k < len && src[k] == b'=' {
                k += 1;
                while k < len && is_ws(src[k]) {
                    k += 1;
                }
                if k < len && (src[k] == b'"' || src[k] == b'\'') {
                    let q = src[k];
                    let vs = k + 1;
                    let ve = memchr::memchr(q, &src[vs..]).map_or(len, |p| vs + p);
                    value = &self.html[vs..ve];
                    j = (ve + 1).min(len);
                } else {
                    let vs = k;
                    while k < len && !is_ws(src[k]) && src[k] != b'>' {
                        k += 1;
                    }
                    value = &self.html[vs..k];
                    j = k;
                }
            }
            if self.dom.attrs.len() - first_attr < 64 {
                self.add_attr(first_attr, aname, value);
            }
        }
        if !ended {
            // A tag cut off by the end of the input is dropped.
            self.dom.attrs.truncate(attr_start);
            return len;
        }
        let attrs = (attr_start as u32, self.dom.attrs.len() as u32);
        let created = self.open_element(tag, attrs, self_closing);
        // Raw text elements: their content is not markup.
        let raw = is_raw_text(tag);
        if !raw || self_closing && self.foreign > 0 {
            return j;
        }
        let close_at = raw_text_end(src, j, tag);
        let content = &self.html[j..close_at];
        if let Some(id) = created {
            match tag {
                Tag::title | Tag::textarea => {
                    let start = self.dom.arena.len() as u32;
                    push_decoded(&mut self.dom.arena, content);
                    let end = self.dom.arena.len() as u32;
                    if start < end {
                        self.append(id, Kind::Text(start, end));
                    }
                }
                Tag::script
                    if self
                        .dom
                        .attr(id, "type")
                        .is_some_and(|t| t.to_ascii_lowercase().contains("ld+json")) =>
                {
                    self.add_raw_text(content);
                }
                _ => {}
            }
            // Close it now: the end tag is consumed here.
            if let Some(pos) = self.stack.iter().rposition(|s| s.0 == id) {
                self.pop_to(pos);
            }
        }
        if close_at >= len {
            return len;
        }
        // Skip the end tag itself.
        memchr::memchr(b'>', &src[close_at..]).map_or(len, |p| close_at + p + 1)
    }

    fn add_attr(&mut self, attr_start: usize, name: &str, value: &str) {
        let arena = &mut self.dom.arena;
        // Common names are not copied: they point into the arena's prefix.
        let (ns, ne, copied) = match known_attr(name.as_bytes()) {
            Some((s, e)) => (s as usize, e as usize, false),
            None => {
                let ns = arena.len();
                for c in name.chars() {
                    arena.push(c.to_ascii_lowercase());
                }
                (ns, arena.len(), true)
            }
        };
        // Duplicates: the first wins.
        let dup = self.dom.attrs[attr_start..]
            .iter()
            .any(|a| arena[a.name.0 as usize..a.name.1 as usize] == arena[ns..ne]);
        if dup {
            if copied {
                arena.truncate(ns);
            }
            return;
        }
        let vs = arena.len();
        push_decoded(arena, value);
        let ve = arena.len();
        self.dom.attrs.push(Attr {
            name: (ns as u32, ne as u32),
            value: (vs as u32, ve as u32),
        });
    }

    /// Apply the implied end tags of a start tag, then create and push it.
    /// Returns the new element, if one was created.
    fn open_element(&mut self, tag: Tag, attrs: (u32, u32), self_closing: bool) -> Option<NodeId> {
        let kind = Kind::Element { tag, attrs };
        match tag {
            Tag::html => {
                if self.html_id.is_some() {
                    return None;
                }
                let id = self.append(0, kind);
                self.push(id, tag);
                self.html_id = Some(id);
                return Some(id);
            }
            Tag::head => {
                if self.head_id.is_some() || self.body_id.is_some() {
                    return None;
                }
                let html = self.ensure_html();
                let id = self.append(html, kind);
                self.push(id, tag);
                self.head_id = Some(id);
                return Some(id);
            }
            Tag::body => {
                if self.body_id.is_some() {
                    return None;
                }
                let html = self.ensure_html();
                if let Some(head) = self.head_id
                    && let Some(i) = self.stack.iter().position(|s| s.0 == head)
                {
                    self.pop_to(i);
                }
                self.head_done = true;
                let id = self.append(html, kind);
                self.push(id, tag);
                self.body_id = Some(id);
                return Some(id);
            }
            _ => {}
        }
        if self.body_id.is_none() {
            if tag.is_head_content() && !self.head_done {
                // <meta>, <title>, <script> … before the body: into the head.
                if self.head_id.is_none() {
                    let html = self.ensure_html();
                    let id = self.append(
                        html,
                        Kind::Element {
                            tag: Tag::head,
                            attrs: (0, 0),
                        },
                    );
                    self.push(id, Tag::head);
                    self.head_id = Some(id);
                }
            } else if !tag.is_head_content() {
                self.ensure_body();
            }
        }
        self.implied_end_tags(tag);
        let self_closes = self_closing && (self.foreign > 0 || tag == Tag::Other);
        if self.stack.len() >= MAX_DEPTH && !tag.is_void() && !self_closes {
            return None;
        }
        let parent = self.current();
        let id = self.append(parent, kind);
        if !tag.is_void() && !self_closes {
            self.push(id, tag);
        }
        Some(id)
    }

    fn implied_end_tags(&mut self, tag: Tag) {
        if self.open_p > 0 && tag.closes_p() {
            self.close_in_scope(Tag::p, |t| t.is_scope_boundary() || t == Tag::button);
        }
        match tag {
            Tag::li => self.close_list_item(&[Tag::li]),
            Tag::dd | Tag::dt => self.close_list_item(&[Tag::dd, Tag::dt]),
            Tag::h1 | Tag::h2 | Tag::h3 | Tag::h4 | Tag::h5 | Tag::h6
                if self.stack.last().is_some_and(|s| s.1.is_heading()) =>
            {
                self.pop();
            }
            Tag::option if self.stack.last().is_some_and(|s| s.1 == Tag::option) => {
                self.pop();
            }
            Tag::a if self.open_a > 0 => {
                self.close_in_scope(Tag::a, |t| t.is_scope_boundary());
            }
            Tag::td | Tag::th => {
                self.close_any_in_scope(&[Tag::td, Tag::th], |t| {
                    matches!(t, Tag::tr | Tag::table | Tag::html | Tag::template)
                });
            }
            Tag::tr => {
                self.close_any_in_scope(&[Tag::tr], |t| {
                    matches!(
                        t,
                        Tag::table
                            | Tag::html
                            | Tag::template
                            | Tag::tbody
                            | Tag::thead
                            | Tag::tfoot
                    )
                });
            }
            Tag::tbody | Tag::thead | Tag::tfoot => {
                self.close_any_in_scope(&[Tag::tbody, Tag::thead, Tag::tfoot], |t| {
                    matches!(t, Tag::table | Tag::html | Tag::template)
                });
            }
            _ => {}
        }
    }

    fn close_in_scope(&mut self, target: Tag, boundary: impl Fn(Tag) -> bool) {
        self.close_any_in_scope(&[target], boundary);
    }

    fn close_any_in_scope(&mut self, targets: &[Tag], boundary: impl Fn(Tag) -> bool) {
        let n = self.stack.len();
        for k in (n.saturating_sub(END_TAG_SEARCH)..n).rev() {
            let t = self.stack[k].1;
            if targets.contains(&t) {
                self.pop_to(k);
                return;
            }
            if boundary(t) {
                return;
            }
        }
    }

    fn close_list_item(&mut self, items: &[Tag]) {
        let n = self.stack.len();
        for k in (n.saturating_sub(END_TAG_SEARCH)..n).rev() {
            let t = self.stack[k].1;
            if items.contains(&t) {
                self.pop_to(k);
                return;
            }
            if t.is_special() && !matches!(t, Tag::address | Tag::div | Tag::p) {
                return;
            }
        }
    }

    fn end_tag(&mut self, name: &[u8]) {
        let tag = tag_of(name);
        match tag {
            Tag::br => {
                // `</br>` is a line break.
                self.open_element(Tag::br, (0, 0), false);
                return;
            }
            Tag::html | Tag::body => return,
            Tag::head => {
                if let Some(head) = self.head_id
                    && let Some(i) = self.stack.iter().position(|s| s.0 == head)
                {
                    self.pop_to(i);
                }
                self.head_done = true;
                return;
            }
            _ => {}
        }
        let n = self.stack.len();
        let inline = !tag.is_special() && !tag.is_formatting();
        for k in (n.saturating_sub(END_TAG_SEARCH)..n).rev() {
            let (id, t) = self.stack[k];
            let matches = if tag == Tag::Other {
                t == Tag::Other
                    && self
                        .dom
                        .name(id)
                        .is_some_and(|nm| nm.as_bytes().eq_ignore_ascii_case(name))
            } else {
                t == tag
            };
            if matches {
                self.pop_to(k);
                return;
            }
            if t.is_scope_boundary() || t == Tag::body {
                return;
            }
            if inline && t.is_special() {
                return;
            }
        }
    }
}

/// Elements whose content is not markup.
fn is_raw_text(tag: Tag) -> bool {
    matches!(
        tag,
        Tag::script
            | Tag::style
            | Tag::textarea
            | Tag::title
            | Tag::xmp
            | Tag::iframe
            | Tag::noembed
            | Tag::noframes
            | Tag::noscript
            | Tag::plaintext
    )
}

/// Where the content of raw text element `tag` that starts at `from` ends.
fn raw_text_end(src: &[u8], from: usize, tag: Tag) -> usize {
    if tag == Tag::plaintext {
        return src.len();
    }
    find_end_tag(src, from, TAG_NAMES[tag as usize].as_bytes()).unwrap_or(src.len())
}

/// The start of `</name` (ASCII case-insensitive, followed by a delimiter)
/// at or after `from`.
fn find_end_tag(src: &[u8], from: usize, name: &[u8]) -> Option<usize> {
    let mut i = from;
    while let Some(p) = memchr::memchr(b'<', &src[i..]) {
        let k = i + p;
        let after = k + 2 + name.len();
        if src.get(k + 1) == Some(&b'/')
            && src.len() >= after
            && src[k + 2..after].eq_ignore_ascii_case(name)
            && src
                .get(after)
                .is_none_or(|b| is_ws(*b) || *b == b'>' || *b == b'/')
        {
            return Some(k);
        }
        i = k + 1;
    }
    None
}

/// `s` with character references decoded (metadata values that were
/// escaped twice, like `&amp;uuml;` in a `content` attribute).
pub(crate) fn decode_entities(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('&') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    push_decoded(&mut out, s);
    std::borrow::Cow::Owned(out)
}

/// Append `s` to `out` with character references decoded.
fn push_decoded(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    let mut last = 0usize;
    let mut i = 0usize;
    while let Some(p) = memchr::memchr(b'&', &bytes[i..]) {
        let amp = i + p;
        out.push_str(&s[last..amp]);
        match decode_ref(&s[amp + 1..]) {
            Some((c1, c2, used)) => {
                out.push(c1);
                if let Some(c2) = c2 {
                    out.push(c2);
                }
                last = amp + 1 + used;
            }
            None => {
                out.push('&');
                last = amp + 1;
            }
        }
        i = last;
    }
    out.push_str(&s[last..]);
}

/// Decode the reference after a `&`: the characters and the bytes used.
fn decode_ref(s: &str) -> Option<(char, Option<char>, usize)> {
    let b = s.as_bytes();
    if b.first() == Some(&b'#') {
        let (hex, start) = match b.get(1) {
            Some(b'x' | b'X') => (true, 2),
            _ => (false, 1),
        };
        let mut j = start;
        let mut v: u32 = 0;
        while let Some(&c) = b.get(j) {
            let d = if hex {
                (c as char).to_digit(16)
            } else {
                (c as char).to_digit(10)
            };
            let Some(d) = d else { break };
            v = v
                .saturating_mul(if hex { 16 } else { 10 })
                .saturating_add(d);
            j += 1;
        }
        if j == start {
            return None;
        }
        if b.get(j) == Some(&b';') {
            j += 1;
        }
        let c = match v {
            0 => '\u{fffd}',
            0x80..=0x9f => web_atoms::C1_REPLACEMENTS[(v - 0x80) as usize]
                .unwrap_or(char::from_u32(v).unwrap_or('\u{fffd}')),
            _ => char::from_u32(v).unwrap_or('\u{fffd}'),
        };
        return Some((c, None, j));
    }
    let name_len = b
        .iter()
        .take(40)
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    if name_len == 0 {
        return None;
    }
    let lookup = |key: &str| -> Option<(char, Option<char>)> {
        let &(c1, c2) = web_atoms::NAMED_ENTITIES.get(key)?;
        if c1 == 0 {
            return None;
        }
        Some((char::from_u32(c1)?, char::from_u32(c2).filter(|_| c2 != 0)))
    };
    if b.get(name_len) == Some(&b';')
        && let Some((c1, c2)) = lookup(&s[..=name_len])
    {
        return Some((c1, c2, name_len + 1));
    }
    // Legacy references without a semicolon ("&amp", "&copy"): the whole
    // alphanumeric run must be the name.
    lookup(&s[..name_len]).map(|(c1, c2)| (c1, c2, name_len))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree as an S-expression, text in quotes.
    fn sexp(dom: &Dom, id: NodeId) -> String {
        match dom.nodes[id as usize].kind {
            Kind::Text(..) => format!("{:?}", dom.text(id).unwrap_or("")),
            _ => {
                let kids: Vec<String> = dom.children(id).map(|c| sexp(dom, c)).collect();
                let name = dom.name(id).unwrap_or("#doc");
                if kids.is_empty() {
                    format!("({name})")
                } else {
                    format!("({name} {})", kids.join(" "))
                }
            }
        }
    }

    fn check(html: &str, expect: &str) {
        let dom = parse(html);
        let body = (0..dom.len() as u32)
            .find(|&i| dom.tag(i) == Some(Tag::body))
            .expect("a body");
        assert_eq!(sexp(&dom, body), expect, "html: {html}");
    }

    #[test]
    fn implied_end_tags() {
        check(
            "<p>a<p>b<div>c</div>",
            r#"(body (p "a") (p "b") (div "c"))"#,
        );
        check("<ul><li>a<li>b</ul>", r#"(body (ul (li "a") (li "b")))"#);
        check(
            "<table><tr><td>a<td>b<tr><td>c</table>",
            r#"(body (table (tr (td "a") (td "b")) (tr (td "c"))))"#,
        );
        check(
            "<dl><dt>a<dd>b<dt>c</dl>",
            r#"(body (dl (dt "a") (dd "b") (dt "c")))"#,
        );
        check("<h1>a<h2>b</h2>", r#"(body (h1 "a") (h2 "b"))"#);
    }

    #[test]
    fn stray_end_tags_do_not_close_blocks() {
        check(
            "<div><span>a</div></span>b</div>c",
            r#"(body (div (span "a")) "bc")"#,
        );
        check("<div><p>a</span>b</p></div>", r#"(body (div (p "ab")))"#);
        check(
            "<div><b>a<p>b</b>c</p></div>",
            r#"(body (div (b "a" (p "b")) "c"))"#,
        );
    }

    #[test]
    fn raw_text_and_references() {
        check(
            "<p>a &amp; b &lt;c&gt; &eacute;&#233;&#xE9; &copy 2025 &foo; &#0; &#150;</p>",
            "(body (p \"a & b <c> ééé © 2025 &foo; \u{fffd} –\"))",
        );
        check(
            "<body><script>if (a<b) { x = '</div>' }</script><p>t</p>",
            r#"(body (script) (p "t"))"#,
        );
        check(
            "<textarea><b>x &amp;</b></textarea>",
            r#"(body (textarea "<b>x &</b>"))"#,
        );
        let dom = parse(
            "<head><title>A &amp; B</title><script type=application/ld+json>{\"a\":\"<b>\"}</script></head>",
        );
        let texts: Vec<&str> = (0..dom.len() as u32).filter_map(|i| dom.text(i)).collect();
        assert_eq!(texts, vec!["A & B", "{\"a\":\"<b>\"}"]);
    }

    #[test]
    fn whitespace_between_blocks_is_dropped_between_words_kept() {
        check(
            "<div>\n  <p>a</p>\n  <p>b <b>c</b> <i>d</i><img src=x> <a>e</a><script></script> f</p>\n</div>",
            r#"(body (div (p "a") (p "b " (b "c") " " (i "d") (img) " " (a "e") (script) " f")))"#,
        );
    }

    #[test]
    fn attributes() {
        let dom = parse(
            r#"<div CLASS="a b" id=x data-x='1>2' class="dup" hidden title="&quot;q&quot;">t</div>"#,
        );
        let div = (0..dom.len() as u32)
            .find(|&i| dom.tag(i) == Some(Tag::div))
            .unwrap();
        assert_eq!(dom.attr(div, "class"), Some("a b"));
        assert_eq!(dom.attr(div, "id"), Some("x"));
        assert_eq!(dom.attr(div, "data-x"), Some("1>2"));
        assert_eq!(dom.attr(div, "hidden"), Some(""));
        assert_eq!(dom.attr(div, "title"), Some("\"q\""));
        assert_eq!(dom.text_content(div), "t");
    }

    #[test]
    fn head_body_and_comments() {
        let dom = parse(
            "<!DOCTYPE html><!-- c --><html lang=fr><meta charset=utf-8><title>T</title>Text<!-- x -- y --><p>p",
        );
        let names: Vec<&str> = (0..dom.len() as u32).filter_map(|i| dom.name(i)).collect();
        assert_eq!(names, vec!["html", "head", "meta", "title", "body", "p"]);
        assert_eq!(dom.attr(1, "lang"), Some("fr"));
        check("<!--a--b-->x<!-->y", r#"(body "xy")"#);
        check("a < b <3 </ x> c", r#"(body "a < b <3  c")"#);
    }

    #[test]
    fn deep_nesting_is_capped_and_walks_are_pre_order() {
        let html = format!("{}x{}", "<div>".repeat(5000), "</div>".repeat(5000));
        let dom = parse(&html);
        let divs = (0..dom.len() as u32)
            .filter(|&i| dom.tag(i) == Some(Tag::div))
            .count();
        assert!(divs < MAX_DEPTH, "{divs}");
        assert_eq!(dom.text_content(0), "x");
        let mut depth = 0i64;
        let mut max = 0;
        for e in dom.walk() {
            match e {
                Edge::Open(_) => depth += 1,
                Edge::Close(_) => depth -= 1,
            }
            max = max.max(depth);
        }
        assert_eq!(depth, 0);
        assert!(max <= MAX_DEPTH as i64 + 2);
    }

    #[test]
    fn cut_off_input() {
        for s in [
            "<",
            "<div",
            "<div class=\"x",
            "<!--",
            "<script>x",
            "&",
            "&#",
            "&#x",
            "<p>&am",
        ] {
            let dom = parse(s);
            assert!(dom.len() >= 1);
        }
    }
}
