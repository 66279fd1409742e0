//! Pages rendered in the browser ship their article inside a script, as a
//! JSON string of HTML (`"contentHtml":"\u003cp\u003e…"`), and show
//! nothing without JavaScript. When the page itself holds no article, the
//! longest such string is the next best source.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

/// Strings shorter than this are teasers or captions, not an article.
const MIN_HTML_CHARS: usize = 500;
/// Strings longer than this are not read (bounded work on hostile pages).
const MAX_HTML_BYTES: usize = 4 << 20;
/// Candidate strings examined per page.
const MAX_CANDIDATES: usize = 200;

/// Markers of a paragraph tag inside a JSON string: escaped or not.
const MARKERS: &[&str] = &["\\u003cp", "\\u003Cp", "<p>", "<p "];

/// The longest JSON string inside a `<script>` that holds paragraphs of
/// HTML, unescaped; looked for again inside it when the state was encoded
/// twice (a JSON document inside a JavaScript string).
pub(crate) fn article_html(html: &str) -> Option<String> {
    let found = scripts_html(html)?;
    if found.trim_start().starts_with('<') {
        return Some(found);
    }
    longest_string(&found, 0, found.len()).or(Some(found))
}

fn scripts_html(html: &str) -> Option<String> {
    let mut best: Option<(usize, usize)> = None;
    let mut seen = 0usize;
    let mut from = 0usize;
    while let Some(open) = find_script_tag(html, from, false) {
        let Some(body_start) = html[open..].find('>').map(|p| open + p + 1) else {
            break;
        };
        let close = find_script_tag(html, body_start, true).unwrap_or(html.len());
        if let Some((s, e)) = longest_span(html, body_start, close, &mut seen)
            && best.is_none_or(|(bs, be)| e - s > be - bs)
        {
            best = Some((s, e));
        }
        from = close + 1;
        if from >= html.len() {
            break;
        }
    }
    let (s, e) = best?;
    // `s - 1 ..= e` is the quoted literal.
    serde_json::from_str::<String>(&html[s - 1..=e]).ok()
}

/// The longest HTML-holding string literal in `text[from..to]`, decoded.
fn longest_string(text: &str, from: usize, to: usize) -> Option<String> {
    let mut seen = 0usize;
    let (s, e) = longest_span(text, from, to, &mut seen)?;
    serde_json::from_str::<String>(&text[s - 1..=e]).ok()
}

/// Bounds of the longest string literal in `text[from..to]` that holds a
/// paragraph marker.
fn longest_span(text: &str, from: usize, to: usize, seen: &mut usize) -> Option<(usize, usize)> {
    let script = &text[from..to];
    let mut best: Option<(usize, usize)> = None;
    for marker in MARKERS {
        let mut at = 0usize;
        while let Some(p) = script[at..].find(marker) {
            *seen += 1;
            if *seen > MAX_CANDIDATES {
                break;
            }
            let pos = at + p;
            match string_around(script, pos, at) {
                Ok((s, e)) => {
                    if e - s >= MIN_HTML_CHARS
                        && e - s <= MAX_HTML_BYTES
                        && best.is_none_or(|(bs, be)| e - s > be - bs)
                    {
                        best = Some((from + s, from + e));
                    }
                    // Past this string: its other paragraphs are the same
                    // candidate.
                    at = e;
                }
                // Past everything the failed attempt read, so that no byte
                // is scanned twice.
                Err(stop) => at = stop.max(pos + marker.len()),
            }
        }
    }
    best
}

/// The bounds (exclusive of the quotes) of the JSON string literal around
/// byte `pos` of `s`, looking back no further than `floor` (where the last
/// attempt stopped) and never more than [`MAX_HTML_BYTES`] either way. On
/// failure, where the forward scan stopped.
fn string_around(s: &str, pos: usize, floor: usize) -> Result<(usize, usize), usize> {
    let b = s.as_bytes();
    let floor = floor.max(pos.saturating_sub(MAX_HTML_BYTES));
    // Back to an unescaped quote.
    let mut i = pos;
    let start = loop {
        if i <= floor {
            return Err(pos + 1);
        }
        i -= 1;
        if b[i] == b'"' && !escaped(b, i) {
            break i + 1;
        }
        if b[i] == b'\n' {
            return Err(pos + 1);
        }
    };
    let limit = b.len().min(pos + MAX_HTML_BYTES);
    let mut j = pos;
    while j < limit {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return Ok((start, j)),
            b'\n' => return Err(j),
            _ => j += 1,
        }
    }
    Err(j.min(b.len()))
}

/// Whether the byte at `i` is preceded by an odd number of backslashes.
fn escaped(b: &[u8], i: usize) -> bool {
    let mut n = 0;
    let mut k = i;
    while k > 0 && b[k - 1] == b'\\' {
        n += 1;
        k -= 1;
    }
    n % 2 == 1
}

/// ASCII case-insensitive search for `<script` (`close` false) or
/// `</script` from `from`: a vectorised search, where a loop over every `<`
/// of a page of tags is not.
fn find_script_tag(hay: &str, from: usize, close: bool) -> Option<usize> {
    static FINDERS: LazyLock<[AhoCorasick; 2]> = LazyLock::new(|| {
        ["<script", "</script"].map(|n| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build([n])
                .expect("static pattern")
        })
    });
    let m = FINDERS[usize::from(close)].find(hay.get(from..)?)?;
    Some(from + m.start())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_longest_html_string_in_scripts() {
        let para = "Le texte de l'article, assez long pour compter comme un paragraphe. ".repeat(5);
        let content = format!("<p class=\"x\">{para}</p><p>{para}</p>");
        let state =
            serde_json::json!({"teaser": "<p>court</p>", "contentHtml": content}).to_string();
        // Escaped the way frameworks do, so that "</script>" cannot occur.
        let once = state.replace('<', "\\u003c").replace('>', "\\u003e");
        let page = format!(
            "<html><head><script>window.__STATE__ = {once};</script></head><body><div id=app></div></body></html>"
        );
        assert_eq!(article_html(&page).as_deref(), Some(content.as_str()));
        // The same state inside a JavaScript string.
        let twice = serde_json::to_string(&state).expect("string");
        let page = format!("<script>self.push([1,{twice}])</script>");
        assert_eq!(article_html(&page).as_deref(), Some(content.as_str()));
        assert_eq!(article_html("<script>var a = \"<p>x</p>\";</script>"), None);
        assert_eq!(article_html("<script>\"\\u003cp"), None);
        // Many markers and no strings: linear, and nothing found.
        let hostile = format!("<script>{}</script>", "<p>x".repeat(100_000));
        assert_eq!(article_html(&hostile), None);
    }
}
