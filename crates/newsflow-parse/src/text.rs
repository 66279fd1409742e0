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
    if s.is_ascii() {
        return s.to_ascii_lowercase().replace('`', "'");
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        let mapped = match c {
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
        };
        out.push(mapped);
    }
    out
}

/// Only the letters and digits of `s`, folded: "Abamako.com" and
/// "abamako com" compare equal.
pub(crate) fn compact(s: &str) -> String {
    fold(s).chars().filter(|c| c.is_alphanumeric()).collect()
}

/// Count of characters that are not whitespace.
pub(crate) fn visible_len(s: &str) -> usize {
    if s.is_ascii() {
        return s.bytes().filter(|b| !b.is_ascii_whitespace()).count();
    }
    s.chars().filter(|c| !c.is_whitespace()).count()
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
    }

    #[test]
    fn clips_on_char_boundary() {
        assert_eq!(clip("éé", 3), "é");
        assert_eq!(clip("abc", 10), "abc");
    }
}
