//! HTML page → [`Article`]: the parse stage's one job.
//!
//! [`extract`] reads a decoded HTML page and returns the article it holds:
//! the main text with the page's boilerplate (navigation, tickers, share
//! bars, related links, comments, sidebars, footers, captions, bylines and
//! datelines) removed, and the metadata a reader would find (title, authors,
//! dates, site, original publisher of a republished piece, language,
//! description, image, sections). [`Parse`] wraps it as the pipeline stage
//! `Fetched → Parsed`.
//!
//! The pipeline inside: `dom` parses the page in one pass into a compact
//! pre-order tree (its own forgiving parser: html5ever alone cost more than
//! all of extraction); `meta` reads `<meta>`, JSON-LD and microdata; `body`
//! scores containers, picks the article (with the blocks built like it, and
//! the first story of a feed) and renders the page into flagged lines, then
//! cleans the article's lines; `state` finds the article of a page rendered
//! by JavaScript in its scripts' state; `dates`, `authors` and `publisher`
//! read the lines around the article. The lede printed above the text,
//! JSON-LD `articleBody` behind a teaser and the organisation credited when
//! no person is are taken from metadata.
//!
//! This crate is pure: no IO, no network, no clock, no global state besides
//! compiled regexes. It never panics on input and its cost is bounded: the
//! parser caps nesting and stops reading a page after 262,144 nodes (25
//! times the largest page of the evaluation corpus), every pass over the
//! tree is iterative and linear, JSON-LD blobs above 1 MiB (2 MiB in all)
//! and script strings above 4 MiB are skipped, metadata is looked for in a
//! bounded number of lines, and the stage refuses pages above
//! [`ParseConfig::max_html_bytes`]. `examples/worst_pages.rs` measures the
//! time and memory of every kind of pathological 10 MB page. Decoding
//! bytes to text is the fetch stage's job; this crate receives `&str`.
//!
//! Nothing here knows a particular site: the rules are general (class and
//! id hints, text and link density, repeated template blocks, patterns of
//! bylines, datelines and labels in the languages news is most read in).

mod authors;
mod body;
mod dates;
mod dom;
mod meta;
mod publisher;
mod stage;
mod state;
mod text;

pub use stage::{Parse, ParseConfig};

use newsflow_core::Article;
use url::Url;

use crate::body::{Line, Page};
use crate::meta::PageMeta;
use crate::text::{collapse_ws, compact};

/// Extract the article of an HTML page.
///
/// `url` is the page's URL: it becomes [`Article::url`] (empty when `None`)
/// and resolves relative links (canonical URL, image). Never panics; takes
/// time roughly linear in the size of the page.
pub fn extract(html: &str, url: Option<&str>) -> Article {
    let page_url = url.unwrap_or("").trim().to_string();
    let base = Url::parse(&page_url).ok();
    let host = base.as_ref().and_then(|u| u.host_str()).map(str::to_string);
    let doc = dom::parse(html);
    let meta = meta::collect(&doc);
    let infos = body::elem_infos(&doc);
    let mut page = body::analyse(&doc, &infos, true);

    let site_name = meta
        .get(&["og:site_name", "application-name"])
        .or_else(|| meta.ld.publisher.clone())
        .or_else(|| {
            host.as_ref()
                .map(|h| h.trim_start_matches("www.").to_string())
        });

    let h1 = first_h1(&page);
    // The headline the reader sees, when it sits with the article, is the
    // article's title; metadata titles are often rewritten for search and
    // social sharing. A headline that shares little with every metadata
    // title is probably another story's, and then metadata wins. When a
    // metadata title is the headline with or without its kicker, the
    // metadata says which of the two the page calls its title.
    let clean = |t: &str| clean_title(t, site_name.as_deref(), host.as_deref(), h1.as_deref());
    // Of metadata titles that differ only by a kicker, the one without.
    let meta_titles: Vec<String> = [
        meta.ld.headline.clone(),
        meta.get(&["og:title"]),
        meta.get(&["twitter:title"]),
    ]
    .into_iter()
    .flatten()
    .collect();
    let meta_title = meta_titles.first().map(|first| {
        let cf = clean(first);
        meta_titles[1..]
            .iter()
            .map(|m| clean(m))
            .filter(|m| m.len() < cf.len() && kicker_variant(m, &cf))
            .min_by_key(String::len)
            .unwrap_or_else(|| first.clone())
    });
    let raw_title = article_h1(&page)
        .filter(|h| {
            let others = [meta_title.as_deref(), meta.title_tag.as_deref()];
            others.iter().all(Option::is_none) || others.iter().flatten().any(|m| overlaps(h, m))
        })
        .map(|h| {
            let metas = [
                meta.get(&["og:title"]),
                meta.ld.headline.clone(),
                meta.get(&["twitter:title"]),
            ];
            metas
                .into_iter()
                .flatten()
                .map(|m| clean(&m))
                .find(|m| *m != h && kicker_variant(m, &h))
                .unwrap_or(h)
        })
        .or(meta_title)
        .or_else(|| h1.clone())
        .or_else(|| meta.title_tag.clone());
    let title = raw_title
        .map(|t| clean_title(&t, site_name.as_deref(), host.as_deref(), h1.as_deref()))
        .filter(|t| !t.is_empty());

    // The tree is not needed any more: free it before the text is
    // assembled (on a 10 MB page it is most of the memory), unless hidden
    // elements were left out: an empty body is then retried with them.
    // The retry reuses what the first analysis measured of every node.
    let doc = page.hidden_skipped.then_some((doc, infos));
    let mut body = body::assemble(&page, title.as_deref());
    if let Some((doc, infos)) = doc
        && body.paragraphs.is_empty()
    {
        // Rare: the article sits in a hidden element (pages that stream
        // their content into a hidden node for a script to move).
        let retry = body::analyse(&doc, &infos, false);
        drop((doc, infos));
        let retry_body = body::assemble(&retry, title.as_deref());
        if !retry_body.paragraphs.is_empty() {
            page = retry;
            body = retry_body;
        }
    }
    // A page that shows no article may carry it in its scripts' state.
    if body.paragraphs.iter().map(String::len).sum::<usize>() < 300
        && let Some(inner) = state::article_html(html)
    {
        let inner_doc = dom::parse(&inner);
        let inner_page = body::analyse(&inner_doc, &body::elem_infos(&inner_doc), false);
        let inner_body = body::assemble(&inner_page, title.as_deref());
        let len = |b: &body::Body| b.paragraphs.iter().map(String::len).sum::<usize>();
        if len(&inner_body) > len(&body) {
            body = inner_body;
        }
    }
    if let Some(full) = meta.ld.body.as_deref() {
        teaser_to_full(&mut body, full);
    }
    let description = meta
        .get(&["og:description", "description", "twitter:description"])
        .or_else(|| meta.ld.description.clone());
    if let Some(d) = description.as_deref() {
        prepend_lede(&mut body, &page, d);
    }
    let window = content_window(&page);

    let authors = find_authors(
        &meta,
        &page,
        &body,
        window,
        site_name.as_deref(),
        host.as_deref(),
    );
    let (published, modified) = find_dates(&meta, &page, &body, window, &page_url);
    let original_publisher = find_original_publisher(&page, &body, window)
        .filter(|p| !publisher::is_site(p, site_name.as_deref(), host.as_deref()));

    let resolve = |s: String| -> String {
        base.as_ref()
            .and_then(|b| b.join(s.trim()).ok())
            .map_or(s, |u| u.to_string())
    };

    Article {
        url: page_url.clone(),
        final_url: None,
        canonical_url: meta
            .canonical
            .clone()
            .or_else(|| meta.get(&["og:url"]))
            .map(resolve),
        title,
        authors,
        published,
        modified,
        site_name,
        original_publisher,
        lang_hint: find_lang(&meta),
        description: meta
            .get(&["og:description", "description", "twitter:description"])
            .or_else(|| meta.ld.description.clone()),
        image: meta
            .get(&[
                "og:image",
                "og:image:url",
                "og:image:secure_url",
                "twitter:image",
                "twitter:image:src",
            ])
            .or_else(|| meta.ld.image.clone())
            .map(resolve),
        sections: find_sections(&meta),
        body_text: body.paragraphs.join("\n\n"),
        tags: Vec::new(),
    }
}

/// The lede (standfirst, summary) is printed between the headline and the
/// text, often outside the element that holds the paragraphs, and is the
/// page's description. A line just above the content that says what the
/// description says is the lede: put it first.
fn prepend_lede(body: &mut body::Body, page: &Page, description: &str) {
    let Some(first) = page.lines.iter().position(|l| l.flags.content) else {
        return;
    };
    let key = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let d = key(description);
    if d.len() < 6 {
        return;
    }
    let lede = page.lines[first.saturating_sub(12)..first]
        .iter()
        .rev()
        .filter(|l| !l.flags.neg && l.heading == 0 && l.links * 2 < l.text.len())
        .find(|l| {
            let w = key(&l.text);
            // The description may be cut short ("…") or be the lede's
            // first sentences.
            let n = w.len().min(d.len());
            n >= 6 && w.len() * 2 >= d.len() && w[..n] == d[..n]
        });
    let Some(lede) = lede else { return };
    if body
        .paragraphs
        .first()
        .is_some_and(|p| key(p).starts_with(&key(&lede.text)[..4.min(key(&lede.text).len())]))
    {
        return;
    }
    body.paragraphs.insert(0, lede.text.clone());
}

/// A page that shows a teaser (a paywall, "read more") may give the whole
/// text as JSON-LD `articleBody`. Use it when it is much longer than what
/// the page shows and contains most of it.
fn teaser_to_full(body: &mut body::Body, full: &str) {
    let shown: usize = body.paragraphs.iter().map(|p| p.chars().count()).sum();
    let full_len = full.chars().count();
    if full_len < shown * 3 / 2 + 200 {
        return;
    }
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let full_words: std::collections::HashSet<String> = words(full).into_iter().collect();
    let shown_words: Vec<String> = body.paragraphs.iter().flat_map(|p| words(p)).collect();
    let inside = shown_words
        .iter()
        .filter(|w| full_words.contains(*w))
        .count();
    if inside * 10 < shown_words.len() * 6 {
        return;
    }
    body.paragraphs = full
        .split('\n')
        .map(collapse_ws)
        .filter(|p| !p.is_empty())
        .collect();
}

/// The `<h1>` of the article: inside the content, or just above it. A
/// headline printed in parts (a kicker line over the title, both in the
/// `<h1>`) is joined as "Kicker: Title".
fn article_h1(page: &Page) -> Option<String> {
    let first = page.lines.iter().position(|l| l.flags.content)?;
    let is_h1 = |l: &Line| l.heading == 1 && !l.flags.neg;
    let start = (0..page.lines.len())
        .find(|&i| is_h1(&page.lines[i]) && page.lines[i].flags.content)
        .or_else(|| {
            (first.saturating_sub(20)..first)
                .rev()
                .find(|&i| is_h1(&page.lines[i]))
        })?;
    // Back to the first part of this h1, then forward over its parts.
    let mut a = start;
    while a > 0 && is_h1(&page.lines[a - 1]) && start - a < 3 {
        a -= 1;
    }
    let mut out = String::new();
    let mut parts: Vec<&str> = Vec::new();
    for l in page.lines[a..].iter().take_while(|l| is_h1(l)).take(4) {
        if parts.contains(&l.text.as_str()) {
            continue;
        }
        parts.push(&l.text);
        if !out.is_empty() {
            let joined = out.trim_end().ends_with(|c: char| !c.is_alphanumeric());
            out.push_str(if joined { " " } else { ": " });
        }
        out.push_str(&l.text);
    }
    let out = text::clip(&out, MAX_TITLE_BYTES * 2).to_string();
    (out.chars().filter(|c| c.is_alphanumeric()).count() >= 8).then_some(out)
}

/// Whether metadata title `m` is headline `h` with a kicker in front
/// ("Kicker: Title" for "Title"), or `h` with its kicker dropped. A
/// metadata title that only adds words at the end adds the site's name or
/// a date, and is not preferred.
fn kicker_variant(m: &str, h: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let (wm, wh) = (words(m), words(h));
    if wm.is_empty() || wh.is_empty() {
        return false;
    }
    if wm.len() > wh.len() {
        wm.ends_with(&wh)
    } else {
        wh.windows(wm.len()).any(|w| w == wm.as_slice())
    }
}

/// Whether two titles share most of the words of one of them.
fn overlaps(a: &str, b: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let (wa, wb) = (words(a), words(b));
    if wa.is_empty() || wb.is_empty() {
        return false;
    }
    let shared_a = wa.iter().filter(|w| wb.contains(w)).count();
    let shared_b = wb.iter().filter(|w| wa.contains(w)).count();
    shared_a * 5 >= wa.len() * 3 || shared_b * 5 >= wb.len() * 3
}

/// The first `<h1>` outside boilerplate, preferring one in the content.
fn first_h1(page: &Page) -> Option<String> {
    let ok = |l: &&Line| l.heading == 1 && !l.flags.neg && !l.text.is_empty();
    page.lines
        .iter()
        .filter(ok)
        .find(|l| l.flags.content)
        .or_else(|| page.lines.iter().find(ok))
        .map(|l| l.text.clone())
}

const TITLE_SEPARATORS: &[&str] = &[
    " | ", " - ", " – ", " — ", " :: ", " · ", " • ", " » ", " / ", " ~ ", " * ", "：", "｜",
    " ｜ ",
];

/// A title segment that is not part of the headline: a date ("28.04.2023")
/// or a byline ("by Jane Doe").
fn is_title_tail(tail: &str) -> bool {
    let t = tail.trim();
    // Dates and bylines are short; a long tail is part of the headline.
    if t.len() > 80 {
        return false;
    }
    if let Some(d) = dates::find_in_text(t)
        && t[..d.start].trim().is_empty()
        && t[d.end..].trim().is_empty()
    {
        return true;
    }
    let f = text::fold(t);
    ["by ", "von ", "par ", "por "]
        .iter()
        .any(|p| f.starts_with(p))
        && authors::parse_byline(t).is_some()
}

/// Remove " - Site name" suffixes (and "Site | " prefixes) from a title.
/// Longest title kept, in bytes: a headline is a sentence, and a "title"
/// of kilobytes is markup gone wrong (each rule below reads it again).
const MAX_TITLE_BYTES: usize = 600;

fn clean_title(raw: &str, site: Option<&str>, host: Option<&str>, h1: Option<&str>) -> String {
    let mut t = collapse_ws(text::clip(raw, MAX_TITLE_BYTES * 2));
    if t.len() > MAX_TITLE_BYTES {
        t = text::clip(&t, MAX_TITLE_BYTES).trim_end().to_string();
    }
    let is_site = |s: &str| {
        let s = s.trim();
        publisher::is_site(s, site, host)
            || (s.split_whitespace().count() <= 3
                && s.rsplit_once('.').is_some_and(|(_, tld)| {
                    (2..=6).contains(&tld.len()) && tld.chars().all(|c| c.is_ascii_alphabetic())
                }))
            || site.is_some_and(|n| compact(s).len() >= 4 && compact(n).contains(&compact(s)))
    };
    let h1_key = h1.map(compact);
    for _ in 0..3 {
        let mut changed = false;
        for sep in TITLE_SEPARATORS {
            if let Some(pos) = t.rfind(sep) {
                let (head, tail) = (&t[..pos], &t[pos + sep.len()..]);
                if !head.trim().is_empty()
                    && (is_site(tail)
                        || is_title_tail(tail)
                        || h1_key.as_ref().is_some_and(|k| *k == compact(head)))
                {
                    t = head.trim().to_string();
                    changed = true;
                    break;
                }
            }
            if let Some(pos) = t.find(sep) {
                let (head, tail) = (&t[..pos], &t[pos + sep.len()..]);
                if !tail.trim().is_empty() && is_site(head) {
                    t = tail.trim().to_string();
                    changed = true;
                    break;
                }
            }
        }
        if !changed {
            break;
        }
    }
    t
}

/// Line indices around the content: from a little before its first line
/// (title, dateline, byline live there) to a little after its last, and
/// within that, the head and the tail where dates and sources are looked
/// for (not the middle of a long article, which costs time and only finds
/// dates the story mentions).
#[derive(Debug, Clone, Copy)]
struct Window {
    lo: usize,
    hi: usize,
    head_end: usize,
    tail_start: usize,
}

/// Content lines searched for dates and sources at each end.
const META_HEAD_LINES: usize = 40;
const META_TAIL_LINES: usize = 8;
/// Lines searched for metadata on a page without content.
const NO_CONTENT_LINES: usize = 300;

fn content_window(page: &Page) -> Window {
    let first = page.lines.iter().position(|l| l.flags.content);
    let last = page.lines.iter().rposition(|l| l.flags.content);
    match (first, last) {
        (Some(f), Some(l)) => Window {
            lo: f.saturating_sub(15),
            hi: (l + 6).min(page.lines.len()),
            head_end: f + META_HEAD_LINES,
            tail_start: l.saturating_sub(META_TAIL_LINES),
        },
        _ => {
            // No content: the top of the page, where a headline's byline
            // and date would be (not every line of a huge page).
            let hi = page.lines.len().min(NO_CONTENT_LINES);
            Window {
                lo: 0,
                hi,
                head_end: hi,
                tail_start: hi,
            }
        }
    }
}

fn in_window(i: usize, w: Window) -> bool {
    i >= w.lo && i < w.hi
}

/// In the window's head or tail.
fn in_meta_window(i: usize, w: Window) -> bool {
    in_window(i, w) && (i < w.head_end || i >= w.tail_start)
}

fn find_authors(
    meta: &PageMeta,
    page: &Page,
    body: &body::Body,
    window: Window,
    site: Option<&str>,
    host: Option<&str>,
) -> Vec<String> {
    let not_site = |names: Vec<String>| -> Vec<String> {
        names
            .into_iter()
            .filter(|n| !publisher::is_site(n, site, host))
            .collect()
    };
    let from_ld = not_site(meta.ld.authors.clone());
    if !from_ld.is_empty() {
        return from_ld;
    }
    let mut from_meta = Vec::new();
    for key in AUTHOR_META_KEYS {
        for v in meta.all(key) {
            if v.contains("://") || v.starts_with("www.") || v.starts_with('@') {
                continue;
            }
            let names = authors::split_names(&v, false);
            // "Site, City, Country" credits the site, not people.
            if names.len() != not_site(names.clone()).len() {
                continue;
            }
            from_meta.extend(names);
        }
        if !from_meta.is_empty() {
            return dedup(from_meta);
        }
    }
    let mut from_lines = Vec::new();
    for (i, l) in page.lines.iter().enumerate() {
        if !l.flags.author || l.flags.neg || !in_window(i, window) {
            continue;
        }
        from_lines.extend(authors::split_names(&l.text, true));
    }
    if from_lines.is_empty() {
        // "By X" lines just above the content.
        for (i, l) in page.lines.iter().enumerate().take(window.hi) {
            if l.flags.neg || !in_meta_window(i, window) || l.flags.content {
                continue;
            }
            let folded = text::fold(&l.text);
            if ["by ", "par ", "von ", "por "]
                .iter()
                .any(|p| folded.starts_with(p))
                && let Some(names) = authors::parse_byline(&l.text)
            {
                from_lines.extend(names);
            }
        }
    }
    let from_lines = not_site(from_lines);
    if !from_lines.is_empty() {
        return dedup(from_lines);
    }
    let from_body = not_site(body.byline_names.clone());
    if !from_body.is_empty() {
        return dedup(from_body);
    }
    // No person is credited: the organisation the page credits as author
    // (a desk, an agency, the paper itself) is the honest answer.
    let credible = |v: &String| {
        !v.contains("://") && v.chars().count() <= 60 && v.chars().any(char::is_alphabetic)
    };
    let orgs: Vec<String> = meta
        .ld
        .org_authors
        .iter()
        .filter(|v| credible(v))
        .cloned()
        .collect();
    if !orgs.is_empty() {
        return dedup(orgs);
    }
    // Credited names that were set aside for being the site's own.
    let site_credit: Vec<String> = meta
        .ld
        .authors
        .iter()
        .filter(|v| credible(v))
        .cloned()
        .collect();
    if !site_credit.is_empty() {
        return dedup(site_credit);
    }
    meta.get(&["author"])
        .filter(credible)
        .map(|v| vec![v])
        .unwrap_or_default()
}

/// Meta tags that name authors, most specific first.
const AUTHOR_META_KEYS: &[&str] = &[
    "author",
    "article:author",
    "og:article:author",
    "dc.creator",
    "parsely-author",
    "sailthru.author",
    "cxenseparse:author",
    "byl",
    "dcterms.creator",
];

fn dedup(names: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        if !out.iter().any(|o| compact(o) == compact(&n)) {
            out.push(n);
        }
    }
    out.truncate(10);
    out
}

fn find_dates(
    meta: &PageMeta,
    page: &Page,
    body: &body::Body,
    window: Window,
    url: &str,
) -> (Option<String>, Option<String>) {
    let norm = |v: Option<String>| v.and_then(|v| dates::normalize_machine(&v));
    let published_meta = norm(meta.ld.published.clone())
        .or_else(|| {
            norm(meta.get(&[
                "article:published_time",
                "og:published_time",
                "og:article:published_time",
                "article:published",
                "datepublished",
                "publishdate",
                "publish-date",
                "publish_date",
                "pubdate",
                "parsely-pub-date",
                "sailthru.date",
                "dc.date.issued",
                "dcterms.issued",
                "dcterms.created",
                "dc.date",
                "dcterms.date",
                "date",
                "article.published",
                "published_time",
                "cxenseparse:recs:publishtime",
            ]))
        })
        .or_else(|| norm(meta.micro_published.clone()))
        .or_else(|| {
            page.times
                .iter()
                .filter(|t| t.near)
                .find_map(|t| dates::normalize_machine(&t.datetime))
        });
    let modified_meta = norm(meta.ld.modified.clone())
        .or_else(|| {
            norm(meta.get(&[
                "article:modified_time",
                "og:updated_time",
                "article:modified",
                "datemodified",
                "last-modified",
                "dc.date.modified",
                "dcterms.modified",
            ]))
        })
        .or_else(|| norm(meta.micro_modified.clone()));

    // Visible text: lines that announce a date with a keyword first, then
    // date-hinted lines, then the datelines cleaning removed, then short
    // lines near the top of the content.
    let mut kw_pub = None;
    let mut kw_mod = None;
    let near: Vec<&Line> = page
        .lines
        .iter()
        .enumerate()
        .filter(|(i, l)| {
            !l.flags.neg && in_meta_window(*i, window) && l.text.chars().count() <= 300
        })
        .map(|(_, l)| l)
        .collect();
    for l in near.iter().filter(|l| {
        !l.flags.content || l.flags.date || l.flags.meta || l.text.chars().count() <= 160
    }) {
        let (p, m) = dates::find_keyed(&l.text);
        if kw_pub.is_none() {
            kw_pub = p;
        }
        if kw_mod.is_none() {
            kw_mod = m;
        }
    }
    let hinted = || {
        near.iter()
            .filter(|l| l.flags.date || l.flags.meta)
            .find_map(|l| dates::find_in_text(&l.text).map(|f| f.value))
    };
    let from_datelines = || {
        body.datelines
            .iter()
            .find_map(|l| dates::find_in_text(l).map(|f| f.value))
    };
    let short_top = || {
        near.iter()
            .filter(|l| l.text.chars().count() <= 100 && !l.flags.content)
            .find_map(|l| dates::find_in_text(&l.text).map(|f| f.value))
    };
    let published = published_meta
        .or(kw_pub)
        .or_else(hinted)
        .or_else(from_datelines)
        .or_else(short_top)
        .or_else(|| dates::from_url(url));
    let modified = modified_meta
        .or(kw_mod)
        .filter(|m| Some(m) != published.as_ref());
    (published, modified)
}

fn find_original_publisher(page: &Page, body: &body::Body, window: Window) -> Option<String> {
    if let Some(p) = body
        .datelines
        .iter()
        .find_map(|l| publisher::from_dateline(l))
    {
        return Some(p);
    }
    let near = page
        .lines
        .iter()
        .enumerate()
        .filter(|(i, l)| {
            !l.flags.neg && in_meta_window(*i, window) && l.text.chars().count() <= 160
        })
        .map(|(_, l)| l);
    for l in near.clone() {
        if (dates::has_date_keyword(&l.text) || l.flags.date || l.flags.meta || l.flags.content)
            && let Some(p) = publisher::from_dateline(&l.text)
        {
            return Some(p);
        }
    }
    if let Some(p) = body.sources.iter().find_map(|l| publisher::source_line(l)) {
        return Some(p);
    }
    near.filter(|l| l.flags.meta || l.flags.content)
        .find_map(|l| publisher::source_line(&l.text))
}

fn find_lang(meta: &PageMeta) -> Option<String> {
    let candidates = [
        meta.html_lang.clone(),
        meta.get(&["og:locale"]),
        meta.get(&[
            "http-equiv:content-language",
            "content-language",
            "language",
            "dc.language",
        ]),
        meta.ld.lang.clone(),
    ];
    candidates.into_iter().flatten().find_map(|v| {
        let code: String = v
            .trim()
            .split(['-', '_', ',', ' '])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        (code.len() == 2 && code.chars().all(|c| c.is_ascii_lowercase())).then_some(code)
    })
}

fn find_sections(meta: &PageMeta) -> Vec<String> {
    let mut raw: Vec<String> = meta.all("article:section");
    raw.extend(meta.ld.sections.iter().cloned());
    raw.extend(meta.all("article:tag"));
    if raw.is_empty() {
        for v in meta.all("news_keywords") {
            raw.extend(v.split(',').map(collapse_ws));
        }
    }
    let mut out: Vec<String> = Vec::new();
    for s in raw {
        let s = collapse_ws(&s);
        if s.is_empty()
            || s.chars().count() > 80
            || out.iter().any(|o| o.to_lowercase() == s.to_lowercase())
        {
            continue;
        }
        out.push(s);
        if out.len() >= 30 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests;
