//! Language identification restricted to the languages newsflow annotates.

use whatlang::{Detector, Lang};

/// Languages the enrich stage recognises; anything else is `"und"`.
const SUPPORTED: &[(Lang, &str)] = &[
    (Lang::Fra, "fr"),
    (Lang::Eng, "en"),
    (Lang::Deu, "de"),
    (Lang::Spa, "es"),
    (Lang::Ita, "it"),
    (Lang::Por, "pt"),
    (Lang::Nld, "nl"),
];

/// Below this many letters whatlang's trigram statistics are noise, so the
/// answer is `"und"` unless the page's own hint settles it.
const MIN_LETTERS: usize = 20;

/// Margin over the runner-up (whatlang's confidence) above which the
/// detector is believed. whatlang's own `is_reliable` asks for 0.9, which a
/// plain one-line English sentence misses against six other languages.
const MIN_CONFIDENCE: f64 = 0.5;

/// Text looked at: the trigram statistics settle well within a few
/// paragraphs, and the detector's cost grows with the length.
const SAMPLE_BYTES: usize = 4_096;

/// The detected language (ISO 639-1 or `"und"`) and a confidence in [0, 1],
/// from the first few paragraphs.
pub fn detect(text: &str, hint: Option<&str>) -> (String, f64) {
    let cut = (0..=SAMPLE_BYTES.min(text.len()))
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let text = &text[..cut];
    let hint = hint
        .map(normalise_hint)
        .filter(|h| SUPPORTED.iter().any(|(_, c)| c == h));
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    let detector = Detector::with_allowlist(SUPPORTED.iter().map(|(l, _)| *l).collect());
    let info = detector.detect(text);
    let code = |lang: Lang| {
        SUPPORTED
            .iter()
            .find(|(l, _)| *l == lang)
            .map(|(_, c)| c.to_string())
    };
    match info {
        Some(info) if letters >= MIN_LETTERS && info.confidence() >= MIN_CONFIDENCE => {
            let detected = code(info.lang()).unwrap_or_else(|| "und".into());
            (detected, info.confidence())
        }
        // Unreliable or short: the declared language breaks the tie when the
        // detector at least does not contradict it strongly.
        Some(info) => match hint {
            Some(h) => (h.to_string(), info.confidence().max(0.5) * 0.6),
            None => ("und".into(), info.confidence().min(0.3)),
        },
        None => match hint {
            Some(h) if letters > 0 => (h.to_string(), 0.3),
            _ => ("und".into(), 0.0),
        },
    }
}

/// `fr-FR`, `fr_FR`, `FR` → `fr`.
fn normalise_hint(hint: &str) -> String {
    hint.trim()
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_and_english() {
        let (l, c) = detect(
            "Le ministre de la Défense a reçu une délégation russe conduite par le vice-ministre.",
            None,
        );
        assert_eq!(l, "fr");
        assert!(c > 0.5);
        let (l, _) = detect(
            "The minister said on Tuesday that the talks would resume next week.",
            None,
        );
        assert_eq!(l, "en");
    }

    #[test]
    fn short_text_is_und_without_hint_and_hint_breaks_ties() {
        let (l, c) = detect("Bamako", None);
        assert_eq!(l, "und");
        assert!(c <= 0.3);
        let (l, _) = detect("Le chat", Some("fr-FR"));
        assert_eq!(l, "fr");
        let (l, _) = detect("", Some("fr"));
        assert_eq!(l, "und");
        let (l, _) = detect("Le chat", Some("zz"));
        assert_eq!(l, "und");
    }
}
