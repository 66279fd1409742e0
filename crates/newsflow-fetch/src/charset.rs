//! Turning the bytes of a page into text, the way a browser would.
//!
//! Order (WHATWG "encoding sniffing", minus the parts that need a live
//! parser): byte-order mark, then the `charset` of the `Content-Type` header,
//! then a prescan of the first 1024 bytes for `<meta charset>` or
//! `<meta http-equiv="Content-Type" content="…charset=…">`, then statistical
//! detection with chardetng (the host's TLD as a hint). Labels map through
//! `Encoding::for_label`, so `ISO-8859-1` and `latin1` decode as
//! windows-1252, as browsers do.
//!
//! One departure from browsers, because declarations on the news web lie
//! often: a declaration that the bytes contradict is overruled. A page
//! declared UTF-8 that is mostly not valid UTF-8 goes to detection; a page
//! declared in a legacy encoding whose bytes are valid UTF-8 with non-ASCII
//! text is read as UTF-8 (real legacy text is practically never valid
//! UTF-8). Either way the source becomes `detected`.

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252, X_USER_DEFINED};
use newsflow_core::CharsetSource;

/// How many bytes the `<meta>` prescan looks at (the WHATWG figure).
const PRESCAN_BYTES: usize = 1024;

/// Decode a page. Returns the text, the encoding used (its `name()` is the
/// WHATWG name) and where the choice came from.
pub fn decode_html(
    bytes: &[u8],
    content_type: Option<&str>,
    host_tld: Option<&str>,
) -> (String, &'static Encoding, CharsetSource) {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let text = encoding.decode_without_bom_handling(&bytes[bom_len..]).0;
        return (text.into_owned(), encoding, CharsetSource::Bom);
    }
    let declared = if let Some(enc) = content_type.and_then(header_charset) {
        Some((enc, CharsetSource::Header))
    } else {
        prescan(&bytes[..bytes.len().min(PRESCAN_BYTES)]).map(|enc| (enc, CharsetSource::Meta))
    };
    let (encoding, source) = match declared {
        Some((enc, source)) => match contradicts(enc, bytes) {
            None => (enc, source),
            Some(actual) => (
                actual.unwrap_or_else(|| detect(bytes, host_tld)),
                CharsetSource::Detected,
            ),
        },
        None => (detect(bytes, host_tld), CharsetSource::Detected),
    };
    let text = encoding.decode_without_bom_handling(bytes).0;
    (text.into_owned(), encoding, source)
}

/// Non-ASCII characters that are valid UTF-8, and bytes that are not.
fn utf8_census(mut bytes: &[u8]) -> (usize, usize) {
    let (mut valid, mut invalid) = (0, 0);
    loop {
        match std::str::from_utf8(bytes) {
            Ok(text) => {
                return (
                    valid + text.chars().filter(|c| !c.is_ascii()).count(),
                    invalid,
                );
            }
            Err(e) => {
                let (good, rest) = bytes.split_at(e.valid_up_to());
                // `good` is valid by construction.
                valid += std::str::from_utf8(good)
                    .map_or(0, |t| t.chars().filter(|c| !c.is_ascii()).count());
                let bad = e.error_len().unwrap_or(rest.len());
                invalid += bad;
                bytes = &rest[bad..];
            }
        }
    }
}

/// Whether the bytes contradict the declared encoding: `None` when they
/// do not, `Some(Some(enc))` when they are plainly `enc`, `Some(None)`
/// when detection must decide.
fn contradicts(declared: &'static Encoding, bytes: &[u8]) -> Option<Option<&'static Encoding>> {
    let (valid, invalid) = utf8_census(bytes);
    if declared == UTF_8 {
        // A stray byte in a UTF-8 page is a typo, not a different
        // encoding; mostly-invalid text is.
        (invalid > 0 && invalid * 4 > valid).then_some(None)
    } else if declared.is_single_byte() || declared.is_ascii_compatible() {
        (invalid == 0 && valid > 0).then_some(Some(UTF_8))
    } else {
        None
    }
}

/// The encoding named by the `charset` parameter of a `Content-Type` value.
pub fn header_charset(content_type: &str) -> Option<&'static Encoding> {
    // Parameters after the first `;`; the essence never holds a charset.
    let (_, params) = content_type.split_once(';')?;
    for param in params.split(';') {
        let Some((name, value)) = param.split_once('=') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("charset") {
            let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
            return Encoding::for_label(value.as_bytes());
        }
    }
    None
}

fn detect(bytes: &[u8], host_tld: Option<&str>) -> &'static Encoding {
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let tld = host_tld.map(str::to_ascii_lowercase);
    detector.guess(tld.as_deref().map(str::as_bytes), Utf8Detection::Allow)
}

fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0c | b'\r' | b' ')
}

fn starts_with_ci(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.len() >= needle.len() && haystack[..needle.len()].eq_ignore_ascii_case(needle)
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// The WHATWG "prescan a byte stream to determine its encoding" algorithm,
/// over `bytes` (the caller limits them to the first 1024).
fn prescan(bytes: &[u8]) -> Option<&'static Encoding> {
    let mut pos = 0;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        if rest.starts_with(b"<!--") {
            pos = find(bytes, b"-->", pos + 2)? + 3;
        } else if starts_with_ci(rest, b"<meta")
            && rest.get(5).is_some_and(|&b| is_space(b) || b == b'/')
        {
            pos += 5;
            if let Some(enc) = meta_charset(bytes, &mut pos) {
                return Some(enc);
            }
        } else if rest.len() >= 2
            && ((rest[0] == b'<' && rest[1].is_ascii_alphabetic())
                || (rest.starts_with(b"</") && rest.get(2).is_some_and(u8::is_ascii_alphabetic)))
        {
            // Some other tag: skip its name and attributes, so a `>` or a
            // `<meta` inside an attribute value is not misread.
            while pos < bytes.len() && !is_space(bytes[pos]) && bytes[pos] != b'>' {
                pos += 1;
            }
            while attribute(bytes, &mut pos)?.is_some() {}
        } else if rest.starts_with(b"<!") || rest.starts_with(b"</") || rest.starts_with(b"<?") {
            pos = find(bytes, b">", pos + 1)? + 1;
        } else {
            pos += 1;
        }
    }
    None
}

/// The attributes of one `<meta>` tag, `pos` just after `<meta`.
fn meta_charset(bytes: &[u8], pos: &mut usize) -> Option<&'static Encoding> {
    let mut seen: Vec<Vec<u8>> = Vec::new();
    let mut got_pragma = false;
    let mut need_pragma: Option<bool> = None;
    let mut charset: Option<&'static Encoding> = None;
    while let Some((name, value)) = attribute(bytes, pos)? {
        if seen.contains(&name) {
            continue;
        }
        match name.as_slice() {
            b"http-equiv" => got_pragma |= value.eq_ignore_ascii_case(b"content-type"),
            b"content" if charset.is_none() => {
                if let Some(enc) = charset_from_content(&value) {
                    charset = Some(enc);
                    need_pragma = Some(true);
                }
            }
            b"charset" => {
                charset = Encoding::for_label(&value);
                need_pragma = Some(false);
            }
            _ => {}
        }
        seen.push(name);
    }
    match need_pragma {
        None => return None,
        Some(true) if !got_pragma => return None,
        _ => {}
    }
    let enc = charset?;
    // A page that could be read far enough to find this tag is not UTF-16.
    Some(if enc == UTF_16BE || enc == UTF_16LE {
        UTF_8
    } else if enc == X_USER_DEFINED {
        WINDOWS_1252
    } else {
        enc
    })
}

/// "Extract a character encoding from a meta element" (`content` attribute).
fn charset_from_content(value: &[u8]) -> Option<&'static Encoding> {
    let mut pos = 0;
    loop {
        let start = pos
            + value
                .get(pos..)?
                .windows(7)
                .position(|w| w.eq_ignore_ascii_case(b"charset"))?;
        pos = start + 7;
        while value.get(pos).is_some_and(|&b| is_space(b)) {
            pos += 1;
        }
        if value.get(pos) != Some(&b'=') {
            continue;
        }
        pos += 1;
        while value.get(pos).is_some_and(|&b| is_space(b)) {
            pos += 1;
        }
        return match value.get(pos)? {
            &q @ (b'"' | b'\'') => {
                let end = value[pos + 1..].iter().position(|&b| b == q)? + pos + 1;
                Encoding::for_label(&value[pos + 1..end])
            }
            _ => {
                let end = value[pos..]
                    .iter()
                    .position(|&b| is_space(b) || b == b';')
                    .map_or(value.len(), |i| i + pos);
                Encoding::for_label(&value[pos..end])
            }
        };
    }
}

/// "Get an attribute": `Some(None)` at the end of the tag, `None` when the
/// input runs out (the prescan then gives up, as the spec says).
#[allow(clippy::type_complexity)]
fn attribute(bytes: &[u8], pos: &mut usize) -> Option<Option<(Vec<u8>, Vec<u8>)>> {
    while *pos < bytes.len() && (is_space(bytes[*pos]) || bytes[*pos] == b'/') {
        *pos += 1;
    }
    if *bytes.get(*pos)? == b'>' {
        return Some(None);
    }
    let mut name = Vec::new();
    let mut value = Vec::new();
    loop {
        let b = *bytes.get(*pos)?;
        if b == b'=' && !name.is_empty() {
            *pos += 1;
            break;
        }
        if is_space(b) {
            while bytes.get(*pos).is_some_and(|&b| is_space(b)) {
                *pos += 1;
            }
            if *bytes.get(*pos)? != b'=' {
                return Some(Some((name, value)));
            }
            *pos += 1;
            break;
        }
        if b == b'/' || b == b'>' {
            return Some(Some((name, value)));
        }
        name.push(b.to_ascii_lowercase());
        *pos += 1;
    }
    while bytes.get(*pos).is_some_and(|&b| is_space(b)) {
        *pos += 1;
    }
    let b = *bytes.get(*pos)?;
    if b == b'"' || b == b'\'' {
        *pos += 1;
        loop {
            let c = *bytes.get(*pos)?;
            *pos += 1;
            if c == b {
                return Some(Some((name, value)));
            }
            value.push(c.to_ascii_lowercase());
        }
    }
    if b == b'>' {
        return Some(Some((name, value)));
    }
    loop {
        let c = *bytes.get(*pos)?;
        if is_space(c) || c == b'>' {
            return Some(Some((name, value)));
        }
        value.push(c.to_ascii_lowercase());
        *pos += 1;
    }
}

/// Whether a body with no `Content-Type` looks like HTML: the WHATWG MIME
/// sniffing patterns for `text/html`, after leading whitespace.
pub fn sniff_html(bytes: &[u8]) -> bool {
    const TAGS: &[&[u8]] = &[
        b"<!doctype html",
        b"<html",
        b"<head",
        b"<script",
        b"<iframe",
        b"<h1",
        b"<div",
        b"<font",
        b"<table",
        b"<a",
        b"<style",
        b"<title",
        b"<b",
        b"<body",
        b"<br",
        b"<p",
        b"<!--",
    ];
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes
        .iter()
        .position(|&b| !is_space(b))
        .unwrap_or(bytes.len());
    let rest = &bytes[start..];
    TAGS.iter().any(|tag| {
        starts_with_ci(rest, tag) && rest.get(tag.len()).is_some_and(|&b| b == b' ' || b == b'>')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Mali–Russie : « coopération » réussie" with an en dash and
    /// guillemets, in windows-1252.
    const CP1252_TEXT: &[u8] = b"Mali\x96Russie : \xAB coop\xE9ration \xBB r\xE9ussie";
    const UTF8_TEXT: &str = "Mali–Russie : « coopération » réussie";

    fn page(head: &str, body: &[u8]) -> Vec<u8> {
        let mut out = format!("<!DOCTYPE html><html><head>{head}<title>t</title></head><body><p>")
            .into_bytes();
        out.extend_from_slice(body);
        out.extend_from_slice(b"</p></body></html>");
        out
    }

    #[test]
    fn windows_1252_declared_by_meta() {
        for head in [
            r#"<meta charset="windows-1252">"#,
            r#"<meta charset=iso-8859-1>"#,
            r#"<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=ISO-8859-1">"#,
            r#"<meta content='text/html;charset="windows-1252"' http-equiv=content-type />"#,
        ] {
            let (text, enc, source) =
                decode_html(&page(head, CP1252_TEXT), Some("text/html"), Some("ml"));
            assert_eq!(enc, WINDOWS_1252, "{head}");
            assert_eq!(source, CharsetSource::Meta, "{head}");
            assert!(text.contains(UTF8_TEXT), "{head}: {text}");
        }
    }

    #[test]
    fn windows_1252_declared_by_header() {
        let body = page("", CP1252_TEXT);
        for ct in [
            "text/html; charset=ISO-8859-1",
            "text/html;charset=\"windows-1252\"",
            "text/html; Charset=latin1",
        ] {
            let (text, enc, source) = decode_html(&body, Some(ct), None);
            assert_eq!(enc.name(), "windows-1252", "{ct}");
            assert_eq!(source, CharsetSource::Header, "{ct}");
            assert!(text.contains(UTF8_TEXT));
        }
    }

    #[test]
    fn header_wins_over_meta() {
        let body = page(r#"<meta charset="utf-8">"#, CP1252_TEXT);
        let (_, enc, source) = decode_html(&body, Some("text/html; charset=windows-1252"), None);
        assert_eq!((enc, source), (WINDOWS_1252, CharsetSource::Header));
    }

    #[test]
    fn undeclared_windows_1252_is_detected() {
        let mut text = Vec::new();
        for _ in 0..20 {
            text.extend_from_slice(
                b"Le minist\xE8re de la D\xE9fense a re\xE7u une d\xE9l\xE9gation \xE0 Bamako. ",
            );
        }
        let (decoded, enc, source) = decode_html(&page("", &text), None, Some("fr"));
        assert_eq!(enc, WINDOWS_1252);
        assert_eq!(source, CharsetSource::Detected);
        assert!(decoded.contains("Le ministère de la Défense a reçu une délégation à Bamako."));
    }

    #[test]
    fn undeclared_utf8_is_detected() {
        let (decoded, enc, source) = decode_html(&page("", UTF8_TEXT.as_bytes()), None, Some("ml"));
        assert_eq!((enc, source), (UTF_8, CharsetSource::Detected));
        assert!(decoded.contains(UTF8_TEXT));
    }

    #[test]
    fn utf8_with_bom() {
        let mut body = b"\xEF\xBB\xBF".to_vec();
        body.extend(page(
            r#"<meta charset="windows-1252">"#,
            UTF8_TEXT.as_bytes(),
        ));
        let (text, enc, source) = decode_html(&body, Some("text/html; charset=iso-8859-1"), None);
        assert_eq!((enc, source), (UTF_8, CharsetSource::Bom));
        assert!(text.starts_with("<!DOCTYPE"), "BOM is stripped");
        assert!(text.contains(UTF8_TEXT));
    }

    #[test]
    fn iso_8859_15_is_not_windows_1252() {
        // 0xA4 is the euro sign in ISO-8859-15 and the currency sign in 1252.
        let body = page(r#"<meta charset="ISO-8859-15">"#, b"Prix : 100 \xA4, \xBD");
        let (text, enc, source) = decode_html(&body, None, None);
        assert_eq!(enc.name(), "ISO-8859-15");
        assert_eq!(source, CharsetSource::Meta);
        assert!(text.contains("100 €, œ"), "{text}");
    }

    #[test]
    fn utf16_declared_in_meta_means_utf8() {
        let body = page(r#"<meta charset="utf-16">"#, UTF8_TEXT.as_bytes());
        let (text, enc, source) = decode_html(&body, None, None);
        assert_eq!((enc, source), (UTF_8, CharsetSource::Meta));
        assert!(text.contains(UTF8_TEXT));
    }

    #[test]
    fn prescan_ignores_comments_attributes_and_far_metas() {
        assert_eq!(
            prescan(br#"<!-- <meta charset="koi8-r"> --><meta charset="utf-8">"#),
            Some(UTF_8)
        );
        assert_eq!(
            prescan(br#"<div title='<meta charset="koi8-r">'><meta charset="utf-8">"#),
            Some(UTF_8)
        );
        assert_eq!(
            prescan(br#"<meta content="text/html; charset=koi8-r">"#),
            None,
            "content without http-equiv"
        );
        assert_eq!(
            prescan(br#"<meta charset="bogus"><meta charset="utf-8">"#),
            Some(UTF_8)
        );
        let mut far = vec![b' '; PRESCAN_BYTES];
        far.extend_from_slice(br#"<meta charset="koi8-r">"#);
        let (_, _, source) = decode_html(&far, None, None);
        assert_eq!(source, CharsetSource::Detected);
    }

    #[test]
    fn lying_declarations_are_overruled() {
        // Declared UTF-8 (header), bytes in windows-1252.
        let body = page(r#"<meta charset="utf-8">"#, CP1252_TEXT);
        for ct in [Some("text/html; charset=utf-8"), None] {
            let (text, enc, source) = decode_html(&body, ct, Some("ml"));
            assert_eq!(enc, WINDOWS_1252, "{ct:?}");
            assert_eq!(source, CharsetSource::Detected);
            assert!(text.contains(UTF8_TEXT), "{text}");
        }
        // Declared ISO-8859-1 (header or meta), bytes in UTF-8.
        let body = page(r#"<meta charset="iso-8859-1">"#, UTF8_TEXT.as_bytes());
        for ct in [Some("text/html; charset=ISO-8859-1"), None] {
            let (text, enc, source) = decode_html(&body, ct, None);
            assert_eq!((enc, source), (UTF_8, CharsetSource::Detected), "{ct:?}");
            assert!(text.contains(UTF8_TEXT), "{text}");
        }
        // A UTF-8 page with one stray byte keeps its declaration.
        let mut mostly = UTF8_TEXT.as_bytes().to_vec();
        mostly.push(0xE9);
        let body = page(r#"<meta charset="utf-8">"#, &mostly);
        let (text, enc, source) = decode_html(&body, None, None);
        assert_eq!((enc, source), (UTF_8, CharsetSource::Meta));
        assert!(text.contains(UTF8_TEXT));
        // Pure ASCII agrees with every declaration.
        let body = page(r#"<meta charset="windows-1252">"#, b"plain");
        assert_eq!(decode_html(&body, None, None).2, CharsetSource::Meta);
    }

    #[test]
    fn utf8_census_counts() {
        assert_eq!(utf8_census("aé€".as_bytes()), (2, 0));
        assert_eq!(utf8_census(b"a\xE9b\xFF"), (0, 2));
        assert_eq!(utf8_census(b"\xC3\xA9\xE9"), (1, 1));
    }

    #[test]
    fn header_charset_parsing() {
        assert_eq!(header_charset("text/html; charset=UTF-8"), Some(UTF_8));
        assert_eq!(
            header_charset("text/html ; foo=bar; charset = 'latin1'"),
            Some(WINDOWS_1252)
        );
        assert_eq!(header_charset("text/html"), None);
        assert_eq!(header_charset("text/html; charset=nonsense"), None);
    }

    #[test]
    fn sniffs_html() {
        assert!(sniff_html(b"  \n<!DOCTYPE html><html>"));
        assert!(sniff_html(b"<HTML lang=fr>"));
        assert!(sniff_html(b"\xEF\xBB\xBF<p>hi</p>"));
        assert!(!sniff_html(b"%PDF-1.7"));
        assert!(!sniff_html(b"{\"a\": 1}"));
        assert!(!sniff_html(b"<?xml version=\"1.0\"?><rss>"));
        assert!(!sniff_html(b"<html"));
    }
}
