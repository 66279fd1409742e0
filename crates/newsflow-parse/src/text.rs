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
    for_each_folded(s, |c| out.push(c));
}

/// Call `f` with each character of [`fold`]`(s)`.
fn for_each_folded(s: &str, mut f: impl FnMut(char)) {
    for c in s.chars() {
        // Most characters of most languages here are ASCII: no table.
        if c.is_ascii() {
            f(if c == '`' {
                '\''
            } else {
                c.to_ascii_lowercase()
            });
            continue;
        }
        // Latin-1 letters, the accented letters of the languages here:
        // lower case is a fixed offset, no table.
        if ('\u{e0}'..='\u{ff}').contains(&c) {
            f(fold_char(c));
            continue;
        }
        if ('\u{c0}'..='\u{de}').contains(&c) && c != '\u{d7}' {
            f(fold_char(char::from_u32(c as u32 + 32).unwrap_or(c)));
            continue;
        }
        for c in c.to_lowercase() {
            f(fold_char(c));
        }
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
        let mut buf = String::from("x ");
        fold_into(&mut buf, "A`B");
        assert_eq!(buf, "x a'b");
        assert!(compacts_to("Abamako COM!", &compact("abamako.com")));
        assert!(compacts_to("Été", "ete"));
        assert!(!compacts_to("Abamako", &compact("abamako.com")));
        assert!(!compacts_to("Abamako.com.ml", &compact("abamako.com")));
    }

    #[test]
    fn clips_on_char_boundary() {
        assert_eq!(clip("éé", 3), "é");
        assert_eq!(clip("abc", 10), "abc");
    }
}
