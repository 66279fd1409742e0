//! Small string helpers shared by the extractors.

/// Collapse every run of whitespace (including no-break and zero-width
/// spaces) into one ASCII space and trim the ends.
pub(crate) fn collapse_ws(s: &str) -> String {
    if s.is_ascii() {
        return collapse_ascii(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c == '\u{200b}' || c == '\u{feff}' || c == '\u{ad}' {
            continue;
        }
        if c.is_whitespace() {
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

fn collapse_ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split_ascii_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// Lower-case and strip the accents of common Latin letters, for matching
/// words like "Publié" and "publie" alike. Not for output.
pub(crate) fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    fold_into(&mut out, s);
    out
}

/// [`fold`], appended to `out` (a buffer reused line after line).
pub(crate) fn fold_into(out: &mut String, s: &str) {
    if s.is_ascii() {
        let start = out.len();
        out.push_str(s);
        out[start..].make_ascii_lowercase();
        if s.contains('`') {
            let folded = out[start..].replace('`', "'");
            out.truncate(start);
            out.push_str(&folded);
        }
        return;
    }
    // Runs of ASCII (most of the text in most languages here) are copied
    // and lower-cased whole; the other characters one by one.
    let mut rest = s;
    while !rest.is_empty() {
        let n = rest
            .bytes()
            .position(|b| !b.is_ascii())
            .unwrap_or(rest.len());
        let (run, tail) = rest.split_at(n);
        if run.contains('`') {
            out.extend(run.chars().map(fold_ascii));
        } else {
            let start = out.len();
            out.push_str(run);
            out[start..].make_ascii_lowercase();
        }
        let mut chars = tail.chars();
        if let Some(c) = chars.next() {
            fold_non_ascii(c, |c| out.push(c));
        }
        rest = chars.as_str();
    }
}

/// Call `f` with each character of [`fold`]`(s)`.
fn for_each_folded(s: &str, mut f: impl FnMut(char)) {
    for c in s.chars() {
        // Most characters of most languages here are ASCII: no table.
        if c.is_ascii() {
            f(fold_ascii(c));
        } else {
            fold_non_ascii(c, &mut f);
        }
    }
}

/// [`fold`] of an ASCII character.
fn fold_ascii(c: char) -> char {
    if c == '`' {
        '\''
    } else {
        c.to_ascii_lowercase()
    }
}

/// Call `f` with the characters of [`fold`] of one character outside ASCII.
fn fold_non_ascii(c: char, mut f: impl FnMut(char)) {
    // Latin-1 signs («, », no-break space…) and general punctuation (’,
    // “, —…) have no case: no table.
    if c < '\u{c0}' || ('\u{2000}'..='\u{206f}').contains(&c) {
        f(fold_char(c));
        return;
    }
    // Latin-1 letters, the accented letters of the languages here: lower
    // case is a fixed offset, no table.
    if ('\u{e0}'..='\u{ff}').contains(&c) {
        f(fold_char(c));
        return;
    }
    if ('\u{c0}'..='\u{de}').contains(&c) && c != '\u{d7}' {
        f(fold_char(char::from_u32(c as u32 + 32).unwrap_or(c)));
        return;
    }
    for c in c.to_lowercase() {
        f(fold_char(c));
    }
}

/// A lower-case character without its accent.
fn fold_char(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        '’' | '`' | '´' => '\'',
        other => other,
    }
}

/// Only the letters and digits of `s`, folded: "Abamako.com" and
/// "abamako com" compare equal.
pub(crate) fn compact(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for_each_folded(s, |c| {
        if c.is_alphanumeric() {
            out.push(c);
        }
    });
    out
}

/// Whether [`compact`]`(s)` is `key`, without building it.
pub(crate) fn compacts_to(s: &str, key: &str) -> bool {
    let mut key = key.chars();
    let mut same = true;
    for_each_folded(s, |c| {
        if same && c.is_alphanumeric() {
            same = key.next() == Some(c);
        }
    });
    same && key.next().is_none()
}

/// Count of characters that are not whitespace.
pub(crate) fn visible_len(s: &str) -> usize {
    visible_and_commas(s).0
}

/// Characters that are not whitespace, and commas (`,` `，` `、` `،`), in
/// one pass. Whitespace is `char::is_whitespace`, except that a text all
/// ASCII counts only ASCII whitespace (not the vertical tab).
pub(crate) fn visible_and_commas(s: &str) -> (usize, usize) {
    let bytes = s.as_bytes();
    let mut vis = 0usize;
    let mut commas = 0usize;
    if s.is_ascii() {
        for &b in bytes {
            vis += usize::from(!b.is_ascii_whitespace());
            commas += usize::from(b == b',');
        }
        return (vis, commas);
    }
    // A character counts at its first byte. Outside ASCII, the few
    // characters that are whitespace or commas (U+0085, U+00A0, U+060C,
    // U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000,
    // U+3001, U+FF0C) are told by their first three bytes, compared
    // without branches: no character is decoded.
    // In blocks short enough to count in bytes, so that the comparisons
    // run many bytes at a time.
    let n = bytes.len();
    let head = n.saturating_sub(2);
    let mut i = 0;
    while i < head {
        let end = (i + 128).min(head);
        let (mut v, mut c) = (0u8, 0u8);
        for ((&b0, &b1), &b2) in bytes[i..end]
            .iter()
            .zip(&bytes[i + 1..end + 1])
            .zip(&bytes[i + 2..end + 2])
        {
            let (x, y) = tally(b0, b1, b2);
            v += x;
            c += y;
        }
        vis += usize::from(v);
        commas += usize::from(c);
        i = end;
    }
    for i in head..n {
        let at = |k: usize| bytes.get(i + k).copied().unwrap_or(0);
        let (v, c) = tally(at(0), at(1), at(2));
        vis += usize::from(v);
        commas += usize::from(c);
    }
    (vis, commas)
}

/// Whether the character starting with bytes `b0 b1 b2` (valid UTF-8) is
/// visible and whether it is a comma, as counts; 0, 0 for a continuation
/// byte.
#[inline(always)]
fn tally(b0: u8, b1: u8, b2: u8) -> (u8, u8) {
    let ascii_ws = matches!(b0, b'\t'..=b'\r' | b' ');
    let continuation = b0 & 0xc0 == 0x80;
    let e2_80 = (b0 == 0xe2) & (b1 == 0x80);
    let ws = ascii_ws
        | ((b0 == 0xc2) & ((b1 == 0x85) | (b1 == 0xa0)))
        | ((b0 == 0xe1) & (b1 == 0x9a) & (b2 == 0x80))
        | (e2_80 & (((0x80..=0x8a).contains(&b2)) | (b2 == 0xa8) | (b2 == 0xa9) | (b2 == 0xaf)))
        | ((b0 == 0xe2) & (b1 == 0x81) & (b2 == 0x9f))
        | ((b0 == 0xe3) & (b1 == 0x80) & (b2 == 0x80));
    let comma = (b0 == b',')
        | ((b0 == 0xd8) & (b1 == 0x8c))
        | ((b0 == 0xe3) & (b1 == 0x80) & (b2 == 0x81))
        | ((b0 == 0xef) & (b1 == 0xbc) & (b2 == 0x8c));
    (u8::from(!ws & !continuation), u8::from(comma))
}

/// At most `max` bytes of `s`, cut on a character boundary.
pub(crate) fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Whether the text ends like a sentence.
pub(crate) fn ends_sentence(s: &str) -> bool {
    s.trim_end().chars().last().is_some_and(|c| {
        matches!(
            c,
            '.' | '!' | '?' | '…' | '»' | '"' | '”' | ':' | ';' | '。'
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapses_whitespace() {
        assert_eq!(collapse_ws("  a \n\t b\u{a0}\u{202f}c  "), "a b c");
        assert_eq!(collapse_ws("x\u{200b}y"), "xy");
        assert_eq!(collapse_ws(" \n "), "");
    }

    #[test]
    fn folds_accents() {
        assert_eq!(fold("Publié LE Mercredi"), "publie le mercredi");
        assert_eq!(compact("abamako.com"), compact("Abamako COM"));
        assert_eq!(fold("It`s ÉTÉ"), "it's ete");
        // The Latin-1 shortcut agrees with Unicode lower-casing.
        for c in '\u{c0}'..='\u{ff}' {
            let s = c.to_string();
            let slow: String = s
                .chars()
                .flat_map(char::to_lowercase)
                .map(fold_char)
                .collect();
            assert_eq!(fold(&s), slow, "{c}");
        }
        // So does the shortcut for characters without case.
        for c in ('\u{80}'..'\u{c0}').chain('\u{2000}'..='\u{206f}') {
            let s = format!("a{c}B");
            let slow: String = s
                .chars()
                .flat_map(char::to_lowercase)
                .map(fold_char)
                .collect();
            assert_eq!(fold(&s), slow, "{c}");
        }
        let mut buf = String::from("x ");
        fold_into(&mut buf, "A`B");
        assert_eq!(buf, "x a'b");
        assert!(compacts_to("Abamako COM!", &compact("abamako.com")));
        assert!(compacts_to("Été", "ete"));
        assert!(!compacts_to("Abamako", &compact("abamako.com")));
        assert!(!compacts_to("Abamako.com.ml", &compact("abamako.com")));
    }

    #[test]
    fn counts_visible_characters_and_commas() {
        fn slow(s: &str) -> (usize, usize) {
            let ws = |c: char| {
                if s.is_ascii() {
                    c.is_ascii_whitespace()
                } else {
                    c.is_whitespace()
                }
            };
            (
                s.chars().filter(|&c| !ws(c)).count(),
                s.chars()
                    .filter(|c| matches!(c, ',' | '，' | '、' | '،'))
                    .count(),
            )
        }
        // Every character whose bytes could be taken for one of those
        // counted specially, and a sample of the others.
        let chars = (0..0x4000)
            .chain(0xf000..=0xffff)
            .chain((0x4000..0x10_ffff).step_by(101))
            .filter_map(char::from_u32);
        for c in chars {
            for s in [
                format!("{c}"),
                format!("a{c}"),
                format!("{c}b, c"),
                format!("é {c}\u{b}{c}x"),
            ] {
                assert_eq!(visible_and_commas(&s), slow(&s), "{:?}", c as u32);
            }
        }
        for s in [
            "",
            " ",
            "a\u{b}b",
            "x,\u{a0}y ，z、",
            "\u{2003}\u{3000}\u{60c}",
        ] {
            assert_eq!(visible_and_commas(s), slow(s), "{s:?}");
            assert_eq!(visible_len(s), slow(s).0, "{s:?}");
        }
    }

    #[test]
    fn clips_on_char_boundary() {
        assert_eq!(clip("éé", 3), "é");
        assert_eq!(clip("abc", 10), "abc");
    }
}
