//! Author names: splitting bylines ("Par X et Y", "By X, Y and Z",
//! "Envoyés spéciaux / X et Y"), dropping role words, and fixing the
//! capitalisation of names printed in capitals ("Oumar DIOP" → "Oumar Diop").

use std::sync::LazyLock;

use regex::Regex;

use crate::text::{collapse_ws, fold};

/// Words that introduce a byline, in the languages we see most.
static PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:(?:written|reported|posted|text|texte|textes|reportage|interview)\s+)?(?:by|par|von|por|door|av|di|af|autor(?:es|en|in)?(?:\s*/\s*autor(?:in)?)?|auteur(?:s|e)?(?:\s*/\s*auteure?)?|author(?:s)?|text|texte|redacción|redaction|rédaction)\s*[:\-–]?\s+",
    )
    .expect("static regex")
});

/// Separators between names.
static SPLIT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\s*(?:/|\||;|,|·|•|\+|&|\s(?:et|and|und|y|e|og|och|ve|na)\s)\s*")
        .expect("static regex")
});

/// Role phrases, folded (lower case, no accents). A part that starts with
/// one of these is a job description, not a name.
#[rustfmt::skip]
const ROLES: &[&str] = &[
    "envoye", "correspondan", "redaction", "redaktion", "redaccion", "stagiaire", "journaliste",
    "special correspondent", "correspondent", "staff", "reporter", "editor", "notre ", "nos ",
    "de notre", "de nos", "enviad", "corresponsal", "avec agences", "with agencies", "agences",
    "agencies", "photo", "photos", "video", "illustration", "infographie", "chef ", "directeur",
    "director", "the ", "la ", "le ", "les ", "l'", "des ", "une ", "un ", "a ", "an ", "our ",
    "unsere", "unser", "nuestro", "nuestra", "mit ", "with ", "avec ", "und ", "and ", "et ", "im ",
    "in ", "en ", "from ", "aus ", "depuis ", "a partir", "senior ", "contributor", "columnist",
    "chroniqueur", "editorialiste", "guest ", "mitarbeit", "ressort", "desk", "team", "equipe",
    "service ", "newsroom", "invite",
];

/// Labels of author boxes that are not names ("Latest Posts" under the
/// author's photo), folded.
#[rustfmt::skip]
const NOT_NAMES: &[&str] = &[
    "latest posts", "recent posts", "all posts", "more posts", "view all posts", "more articles",
    "all articles", "view profile", "follow", "contact", "email", "read more", "see all",
    "weitere artikel", "alle artikel", "mehr artikel", "plus d'articles", "tous les articles",
];

/// Job titles written after a name ("홍길동 기자", "Jean Dupont, journaliste").
#[rustfmt::skip]
const TRAILING_ROLES: &[&str] = &[
    "기자", "특파원", "記者", "特派員", "记者",
];

/// Lower-case particles inside names.
#[rustfmt::skip]
const PARTICLES: &[&str] = &[
    "de", "du", "des", "da", "das", "do", "dos", "di", "del", "della", "van", "von", "der", "den",
    "ter", "ten", "la", "le", "bin", "ibn", "al", "el", "y", "zu", "af", "av", "d'",
];

/// Whether `s` is a role phrase ("Envoyés spéciaux", "Correspondant").
pub(crate) fn is_role(s: &str) -> bool {
    let f = fold(s.trim());
    let f = f.trim_start_matches(['-', '–', '—', ' ', '(']);
    ROLES.iter().any(|r| f.starts_with(r))
}

/// Capitalise a name properly: words printed in capitals or in lower case
/// get an initial capital (hyphen and apostrophe parts too); mixed-case words
/// ("McDonald") are kept; lower-case particles stay lower-case.
pub(crate) fn proper_case(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    let mut out = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        let letters: Vec<char> = w.chars().filter(|c| c.is_alphabetic()).collect();
        let all_upper = letters.len() > 1 && letters.iter().all(|c| !c.is_lowercase());
        let all_lower = !letters.is_empty() && letters.iter().all(|c| !c.is_uppercase());
        if all_lower && i > 0 && PARTICLES.contains(w) {
            out.push((*w).to_string());
        } else if all_upper || all_lower {
            out.push(capitalise_parts(w));
        } else {
            out.push((*w).to_string());
        }
    }
    out.join(" ")
}

fn capitalise_parts(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut start = true;
    for c in word.chars() {
        if start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
            start = false;
        } else {
            out.extend(c.to_lowercase());
        }
        if matches!(c, '-' | '\'' | '’' | '.') {
            start = true;
        }
    }
    out
}

/// Whether `part` looks like a person's name as printed in a byline: two to
/// five words, each capitalised (or a particle, or an initial), no digits.
fn looks_like_name(part: &str, strict: bool) -> bool {
    let words: Vec<&str> = part.split_whitespace().collect();
    let min_words = if strict { 2 } else { 1 };
    if words.len() < min_words || words.len() > 5 {
        return false;
    }
    if part.chars().any(|c| {
        c.is_ascii_digit() || matches!(c, '@' | ':' | '«' | '»' | '"' | '?' | '!' | '(' | ')' | '=')
    }) {
        return false;
    }
    if part.chars().filter(|c| c.is_alphabetic()).count() < 3 {
        return false;
    }
    if !strict {
        return !part.contains("://") && !part.starts_with("www.");
    }
    words.iter().enumerate().all(|(i, w)| {
        let first = w.chars().next().unwrap_or(' ');
        first.is_uppercase() || (i > 0 && PARTICLES.contains(&w.to_lowercase().as_str()))
    })
}

/// Split a byline into names. `strict` is for text read off the page, where
/// a sentence must not pass for a name; metadata (JSON-LD, meta author) is
/// trusted a little more.
pub(crate) fn split_names(raw: &str, strict: bool) -> Vec<String> {
    let line = collapse_ws(raw);
    if line.is_empty() || line.chars().count() > 200 {
        return Vec::new();
    }
    let line = PREFIX.replace(&line, "");
    // A date or time after the names ends the byline ("Par X le 25 juin").
    let line = &line[..date_cut(&line)];
    let mut names: Vec<String> = Vec::new();
    for part in SPLIT.split(line) {
        let part = part.trim_matches(|c: char| {
            c.is_whitespace() || matches!(c, '-' | '–' | '—' | '.' | ',' | ':')
        });
        let part = PREFIX.replace(part, "");
        let part = part.trim();
        // "Le 25 juin" leftovers and trailing connectors.
        let part = strip_trailing_connector(part);
        let part = strip_trailing_role(part);
        if part.is_empty()
            || is_role(part)
            || NOT_NAMES.contains(&fold(part).as_str())
            || !looks_like_name(part, strict)
        {
            continue;
        }
        let name = proper_case(part);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names.truncate(10);
    names
}

/// What follows the role words at the start of `part`, when it is
/// capitalised: "Envoyés spéciaux Oumar DIOP" → "Oumar DIOP".
fn strip_role(part: &str) -> Option<&str> {
    let mut rest = part.trim_start();
    // The first word is the role word itself, whatever its case.
    let first_end = rest.find(char::is_whitespace)?;
    rest = rest[first_end..].trim_start();
    while let Some(w) = rest.split_whitespace().next() {
        if w.chars().next().is_some_and(char::is_uppercase) {
            break;
        }
        rest = rest[w.len()..].trim_start();
    }
    (rest.split_whitespace().count() >= 2).then_some(rest)
}

/// Where the names of a byline end: at a date, or at the first digit.
fn date_cut(s: &str) -> usize {
    let digit = s.find(|c: char| c.is_ascii_digit()).unwrap_or(s.len());
    let date = crate::dates::find_in_text(s).map_or(s.len(), |d| d.start);
    digit.min(date)
}

fn strip_trailing_role(part: &str) -> &str {
    for r in TRAILING_ROLES {
        if let Some(p) = part.strip_suffix(r) {
            return p.trim_end();
        }
    }
    part
}

fn strip_trailing_connector(part: &str) -> &str {
    let mut p = part;
    for suffix in [
        " le",
        " la",
        " on",
        " am",
        " el",
        " il",
        " publié",
        " published",
        " mis",
    ] {
        if p.to_lowercase().ends_with(suffix) {
            p = p[..p.len() - suffix.len()].trim_end();
        }
    }
    p
}

/// If `line` is a byline, the names in it. A byline is short, and either
/// opens with a byline word ("By", "Par", …) or is nothing but a list of
/// names, possibly after a role ("Envoyés spéciaux / X et Y").
pub(crate) fn parse_byline(line: &str) -> Option<Vec<String>> {
    let line = collapse_ws(line);
    if line.chars().count() > 150 || line.is_empty() {
        return None;
    }
    let has_prefix = PREFIX.is_match(&line);
    let body = PREFIX.replace(&line, "");
    // Everything up to the date (or the first digit) must be names or roles.
    let cut = date_cut(&body);
    if cut < body.len() && !has_prefix {
        return None;
    }
    let head = &body[..cut];
    let mut names = Vec::new();
    let mut any_part = false;
    for part in SPLIT.split(head) {
        let part = strip_trailing_connector(part.trim_matches(|c: char| {
            c.is_whitespace() || matches!(c, '-' | '–' | '—' | '.' | ',' | ':')
        }));
        if part.is_empty() {
            continue;
        }
        any_part = true;
        let part = strip_trailing_role(part);
        if NOT_NAMES.contains(&fold(part).as_str()) {
            continue;
        }
        let part = if is_role(part) {
            // "Envoyés spéciaux Alassane SOULEYMANE" (role and name on one
            // line): the name starts at the first capitalised word after the
            // role.
            match strip_role(part) {
                Some(rest) => rest,
                None => continue,
            }
        } else {
            part
        };
        if !looks_like_name(part, true) {
            return None;
        }
        names.push(proper_case(part));
    }
    (any_part && !names.is_empty()).then_some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capitalises_names() {
        assert_eq!(proper_case("Alassane SOULEYMANE"), "Alassane Souleymane");
        assert_eq!(proper_case("JEAN-PIERRE o'neil"), "Jean-Pierre O'Neil");
        assert_eq!(proper_case("Charles de Gaulle"), "Charles de Gaulle");
        assert_eq!(proper_case("Ronald McDonald"), "Ronald McDonald");
    }

    #[test]
    fn splits_bylines() {
        let check = |input: &str, expect: &[&str]| {
            assert_eq!(split_names(input, true), expect, "input: {input}");
        };
        check(
            "Envoyés spéciaux / Alassane SOULEYMANE et Oumar DIOP",
            &["Alassane Souleymane", "Oumar Diop"],
        );
        check("By John Smith and Jane Doe", &["John Smith", "Jane Doe"]);
        check("Par Marie Dupont", &["Marie Dupont"]);
        check(
            "Awa Traoré, Moussa Keïta et Fatou Diallo",
            &["Awa Traoré", "Moussa Keïta", "Fatou Diallo"],
        );
        check(
            "Von Anna Müller und Jan Meier, 25. Juni 2025",
            &["Anna Müller", "Jan Meier"],
        );
        check("Par Jean Dupont le 25 juin 2025", &["Jean Dupont"]);
        // Gendered labels.
        check("Autorin/Autor Roman Goncharenko", &["Roman Goncharenko"]);
        check("La Rédaction", &[]);
        check("Stephanie Bazzle | Latest Posts", &["Stephanie Bazzle"]);
        // A job title after the name, as Korean bylines print it.
        assert_eq!(split_names("신현주 기자", false), vec!["신현주"]);
        check("Correspondant à Bamako", &[]);
    }

    #[test]
    fn recognises_byline_lines() {
        assert_eq!(
            parse_byline("Alassane SOULEYMANE et Oumar DIOP"),
            Some(vec![
                "Alassane Souleymane".to_string(),
                "Oumar Diop".to_string()
            ])
        );
        assert_eq!(
            parse_byline("By Jane Doe | June 25, 2025"),
            Some(vec!["Jane Doe".to_string()])
        );
        assert_eq!(parse_byline("Envoyés spéciaux"), None);
        assert_eq!(
            parse_byline("Envoyés spéciaux Alassane SOULEYMANE et Oumar DIOP"),
            Some(vec![
                "Alassane Souleymane".to_string(),
                "Oumar Diop".to_string()
            ])
        );
        assert_eq!(parse_byline("Par ailleurs, le ministre a parlé."), None);
        assert_eq!(parse_byline("By the way, this is a sentence"), None);
        assert_eq!(parse_byline("Lire aussi"), None);
    }
}
