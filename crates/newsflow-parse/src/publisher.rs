//! The original publisher of a republished article, as the page states it:
//! a dateline naming another paper ("Publié le mercredi 25 juin 2025 |
//! L'Essor") or a source line ("Source : AFP").

use std::sync::LazyLock;

use regex::Regex;

use crate::text::{collapse_ws, compact};

static SOURCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\(?\s*(?:source|sources|quelle|fuente|fonte|fonti|kilde|bron)\s*:\s*(.{2,60}?)\s*\)?\s*\.?$")
        .expect("static regex")
});

/// The name in a "Source: X" line.
pub(crate) fn source_line(text: &str) -> Option<String> {
    let text = collapse_ws(text);
    if text.chars().count() > 100 {
        return None;
    }
    let c = SOURCE.captures(&text)?;
    clean_name(&c[1])
}

/// The name after the date in a dateline: "Publié le … 2025 | L'Essor".
pub(crate) fn from_dateline(text: &str) -> Option<String> {
    let text = collapse_ws(text);
    if text.chars().count() > 160 {
        return None;
    }
    let date = crate::dates::find_in_text(&text)?;
    let rest = text[date.end..].trim_start();
    let rest = rest.strip_prefix(['|', '–', '—', '-', '/', '·', '•'])?;
    // "| Source : L'Essor" and "| Par L'Essor" are the same statement.
    let rest = rest.trim();
    if let Some(s) = source_line(rest) {
        return Some(s);
    }
    let rest = rest
        .strip_prefix("Par ")
        .or_else(|| rest.strip_prefix("par "))
        .unwrap_or(rest);
    clean_name(rest)
}

fn clean_name(raw: &str) -> Option<String> {
    let name = collapse_ws(raw)
        .trim_matches(|c: char| c.is_whitespace() || matches!(c, '.' | ',' | ';' | '|'))
        .to_string();
    let words = name.split_whitespace().count();
    let ok = !name.is_empty()
        && words <= 6
        && name.chars().count() <= 60
        && name.chars().any(char::is_alphabetic)
        && !name.chars().any(|c| c.is_ascii_digit())
        && !crate::dates::has_date_keyword(&name)
        && !name.contains("://");
    ok.then_some(name)
}

/// Whether `name` is the site itself (its name or its host).
pub(crate) fn is_site(name: &str, site_name: Option<&str>, host: Option<&str>) -> bool {
    let key = compact(name);
    if key.is_empty() {
        return true;
    }
    if site_name.is_some_and(|s| compact(s) == key) {
        return true;
    }
    host.is_some_and(|h| {
        let labels: Vec<&str> = h.split('.').collect();
        (0..labels.len().saturating_sub(1))
            .any(|i| compact(&labels[i..].join(".")) == key || compact(labels[i]) == key)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_datelines_and_sources() {
        assert_eq!(
            from_dateline("Publié le mercredi 25 juin 2025 | L'Essor").as_deref(),
            Some("L'Essor")
        );
        assert_eq!(
            from_dateline("Publié le 25/06/2025 à 07:13 | Source : Le Républicain").as_deref(),
            Some("Le Républicain")
        );
        assert_eq!(from_dateline("Publié le mercredi 25 juin 2025"), None);
        assert_eq!(
            from_dateline("25 juin 2025 | Mis à jour le 26 juin 2025"),
            None
        );
        assert_eq!(source_line("Source: AFP").as_deref(), Some("AFP"));
        assert_eq!(
            source_line("(Source : L'Essor)").as_deref(),
            Some("L'Essor")
        );
        assert_eq!(
            source_line("Source de financement: la banque a prêté 20 millions"),
            None
        );
        assert!(is_site("Abamako.com", None, Some("news.abamako.com")));
        assert!(is_site("abamako", None, Some("news.abamako.com")));
        assert!(!is_site(
            "L'Essor",
            Some("abamako.com"),
            Some("news.abamako.com")
        ));
    }
}
