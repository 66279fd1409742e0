//! A guard in front of the HTML parser: cap how deeply tags nest.
//!
//! html5ever checks "is X in scope" by walking the stack of open elements,
//! so a page of 100 000 unclosed `<div>`s costs it quadratic time (tens of
//! seconds). Real articles nest a few dozen levels. This scanner walks the
//! markup once, counts open elements the way a browser roughly would, and
//! drops start and end tags beyond [`MAX_DEPTH`]; their text stays. Elements
//! whose end tag is optional (`p`, `li`, `td`, …) and void elements do not
//! count, since the parser closes them implicitly.

use std::borrow::Cow;

/// Open elements kept; deeper tags are removed (not their text).
pub(crate) const MAX_DEPTH: usize = 200;

#[rustfmt::skip]
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "keygen", "frame", "basefont", "bgsound", "image",
];
#[rustfmt::skip]
const OPTIONAL_END: &[&str] = &[
    "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "thead", "tbody", "tfoot",
    "colgroup", "rb", "rt", "rtc", "rp", "html", "head", "body",
];
#[rustfmt::skip]
const RAW_TEXT: &[&str] = &[
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "plaintext",
];

/// `html` with tags nested deeper than [`MAX_DEPTH`] removed; borrowed
/// unchanged in the usual case.
pub(crate) fn limit(html: &str) -> Cow<'_, str> {
    let bytes = html.as_bytes();
    let mut depth = 0usize;
    let mut out: Option<String> = None;
    // Start of the text not yet copied to `out`.
    let mut copied = 0usize;
    let mut i = 0usize;
    while let Some(off) = memchr_lt(&bytes[i..]) {
        let start = i + off;
        i = start + 1;
        if html[i..].starts_with("!--") {
            i = html[i..].find("-->").map_or(bytes.len(), |e| i + e + 3);
            continue;
        }
        let closing = bytes.get(i) == Some(&b'/');
        let name_start = if closing { i + 1 } else { i };
        let name_end = bytes[name_start..]
            .iter()
            .position(|b| !b.is_ascii_alphanumeric() && *b != b'-' && *b != b':')
            .map_or(bytes.len(), |p| name_start + p);
        if name_end == name_start || !bytes[name_start].is_ascii_alphabetic() {
            continue;
        }
        let Some(tag_end) = find_tag_end(bytes, name_end) else {
            break;
        };
        let name = html[name_start..name_end].to_ascii_lowercase();
        let self_closing = bytes[..tag_end].last() == Some(&b'/');
        i = tag_end + 1;
        if !closing && RAW_TEXT.contains(&name.as_str()) {
            // Skip to the matching end tag: its content is not markup.
            let close = format!("</{name}");
            i = find_ci(bytes, i, close.as_bytes()).unwrap_or(bytes.len());
            continue;
        }
        if VOID.contains(&name.as_str()) || OPTIONAL_END.contains(&name.as_str()) || self_closing {
            continue;
        }
        let drop_tag = if closing {
            let deep = depth > MAX_DEPTH;
            depth = depth.saturating_sub(1);
            deep
        } else {
            depth += 1;
            depth > MAX_DEPTH
        };
        if drop_tag {
            let o = out.get_or_insert_with(|| String::with_capacity(html.len()));
            o.push_str(&html[copied..start]);
            copied = tag_end + 1;
        }
    }
    match out {
        None => Cow::Borrowed(html),
        Some(mut o) => {
            o.push_str(&html[copied..]);
            Cow::Owned(o)
        }
    }
}

fn memchr_lt(b: &[u8]) -> Option<usize> {
    b.iter().position(|c| *c == b'<')
}

/// First position at or after `from` where `needle` (lower-case ASCII)
/// occurs, ignoring ASCII case.
fn find_ci(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || from >= bytes.len() {
        return None;
    }
    bytes[from..]
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| from + p)
}

/// Longest tag we look through for its closing `>`: beyond this the markup
/// is broken and we stop limiting rather than rescan the page.
const MAX_TAG_BYTES: usize = 64 * 1024;

/// The `>` that ends a tag whose name ends at `from`, skipping quoted
/// attribute values.
fn find_tag_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut quote: Option<u8> = None;
    for (k, &b) in bytes.iter().enumerate().skip(from).take(MAX_TAG_BYTES) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return Some(k),
            None => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_normal_pages_alone() {
        let html = "<html><body><div class=\"a>b\"><p>x<p>y<ul><li>1<li>2</ul><br/><script>if (a<b) {}</script></div></body></html>";
        assert!(matches!(limit(html), Cow::Borrowed(_)));
    }

    #[test]
    fn caps_depth_keeps_text() {
        let html = format!(
            "{}deep text{}",
            "<div>".repeat(MAX_DEPTH + 50),
            "</div>".repeat(MAX_DEPTH + 50)
        );
        let out = limit(&html);
        assert_eq!(out.matches("<div>").count(), MAX_DEPTH);
        assert_eq!(out.matches("</div>").count(), MAX_DEPTH);
        assert!(out.contains("deep text"));
    }
}
