//! Text folding shared by both backends, so that "goita", "Goïta" and
//! "GOÏTA" are one key in every table and one word in every index, whatever
//! the database's own collations and extensions.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Lower-case, without diacritics, typographic apostrophes and dashes made
/// ASCII, runs of whitespace collapsed to one space, trimmed.
pub(crate) fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        push_folded(c, &mut out);
    }
    out
}

/// Append the folded form of one character.
fn push_folded(c: char, out: &mut String) {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{02BC}' | '`' | '\u{00B4}' => out.push('\''),
        '\u{2010}'..='\u{2015}' => out.push('-'),
        'œ' | 'Œ' => out.push_str("oe"),
        'æ' | 'Æ' => out.push_str("ae"),
        'ß' => out.push_str("ss"),
        c if c.is_ascii() => out.push(c.to_ascii_lowercase()),
        c => {
            for d in std::iter::once(c).nfkd().filter(|d| !is_combining_mark(*d)) {
                out.extend(d.to_lowercase());
            }
        }
    }
}

/// The folded text of `text` with, for every byte of it, the index in
/// `text` (in bytes) of the character it came from: snippets are cut from
/// the original text around a match found in the folded one.
fn fold_mapped(text: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(text.len());
    let mut map = Vec::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        let before = out.len();
        if c.is_whitespace() {
            out.push(' ');
        } else {
            push_folded(c, &mut out);
        }
        map.extend(std::iter::repeat_n(i, out.len() - before));
    }
    (out, map)
}

/// The words of a user's full-text query, folded: split on anything that
/// is not a letter or a digit (the way both indexes tokenise), at most
/// `max` of them.
pub(crate) fn query_terms(text: &str, max: usize) -> Vec<String> {
    let folded = fold(text);
    let mut terms: Vec<String> = Vec::new();
    for w in folded.split(|c: char| !c.is_alphanumeric()) {
        if !w.is_empty() && !terms.iter().any(|t| t == w) {
            terms.push(w.to_string());
        }
        if terms.len() == max {
            break;
        }
    }
    terms
}

/// Only the letters and digits of the folded text: "L'Essor" and
/// "lessor.ml" compare as "lessor" and "lessorml".
pub(crate) fn alnum_key(text: &str) -> String {
    fold(text).chars().filter(|c| c.is_alphanumeric()).collect()
}

/// About `words` words of `body` around the first place where one of the
/// folded `terms` starts a word (or a word starts with the first five
/// letters of one, for stemmed matches), else the beginning of the body.
/// Both backends use this, so a search shows the same snippet on each.
pub(crate) fn snippet(body: &str, terms: &[String], words: usize) -> String {
    let (folded, map) = fold_mapped(body);
    let at_word_start = |i: usize| {
        i == 0
            || !folded[..i]
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric)
    };
    let find = |needle: &str| {
        folded
            .match_indices(needle)
            .map(|(i, _)| i)
            .find(|&i| at_word_start(i))
    };
    let hit = terms.iter().find_map(|t| find(t)).or_else(|| {
        terms.iter().find_map(|t| {
            let stem: String = t.chars().take(5).collect();
            (stem.chars().count() >= 4).then(|| find(&stem)).flatten()
        })
    });
    let start = match hit {
        // Start a third of the window before the match, on a word boundary.
        Some(i) => {
            let origin = map[i];
            let before: Vec<(usize, &str)> = body[..origin].split_word_bounds_ws().collect();
            let keep = words / 3;
            before
                .len()
                .checked_sub(keep)
                .and_then(|k| before.get(k))
                .map_or(0, |(pos, _)| *pos)
        }
        None => 0,
    };
    let rest = &body[start..];
    let mut end = rest.len();
    for (n, (pos, _)) in rest.split_word_bounds_ws().enumerate() {
        if n == words {
            end = pos;
            break;
        }
    }
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.push_str(rest[..end].trim());
    if end < rest.len() {
        out.push('…');
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whitespace-separated words with their byte offsets.
trait WordsWithOffsets {
    fn split_word_bounds_ws(&self) -> impl Iterator<Item = (usize, &str)>;
}

impl WordsWithOffsets for str {
    fn split_word_bounds_ws(&self) -> impl Iterator<Item = (usize, &str)> {
        let base = self.as_ptr() as usize;
        self.split_whitespace()
            .map(move |w| (w.as_ptr() as usize - base, w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_accents_and_typography() {
        assert_eq!(fold("  Assimi   GOÏTA "), "assimi goita");
        assert_eq!(fold("L’Essor"), "l'essor");
        assert_eq!(fold("Électrification"), "electrification");
        assert_eq!(fold("Œuvre"), "oeuvre");
        assert_eq!(fold("Ｆｕｌｌ"), "full");
        assert_eq!(alnum_key("L'Essor"), "lessor");
    }

    #[test]
    fn query_terms_split_like_the_indexes() {
        assert_eq!(query_terms("Goïta, Bamako!", 8), vec!["goita", "bamako"]);
        assert_eq!(query_terms("l'Essor", 8), vec!["l", "essor"]);
        assert_eq!(query_terms("\" * ( )", 8), Vec::<String>::new());
        assert_eq!(query_terms("a b c a", 2), vec!["a", "b"]);
    }

    #[test]
    fn snippets_centre_on_the_match_in_the_original_text() {
        let body =
            "Un deux trois quatre cinq six sept huit neuf dix. Le Général Goïta a parlé à Bamako.";
        let s = snippet(body, &["goita".into()], 6);
        assert!(s.contains("Goïta"), "{s}");
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        let s = snippet(body, &["absent".into()], 3);
        assert_eq!(s, "Un deux trois…");
        assert_eq!(snippet("court", &[], 10), "court");
        // Stemmed match: the start of the word is enough.
        let s = snippet(body, &["bamakois".into()], 4);
        assert!(s.contains("Bamako"), "{s}");
    }
}
