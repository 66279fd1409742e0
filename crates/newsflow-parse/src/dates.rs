//! Dates: machine-readable values (JSON-LD, meta, `<time datetime>`),
//! dates written in visible text (French, English, German, Spanish, and
//! the month names of a few neighbours), and dates in URL paths.
//!
//! Output is RFC 3339 with its offset when the source gives a time *and* an
//! offset, else the day alone (`YYYY-MM-DD`): a wall-clock time without an
//! offset is not an instant, and inventing one would be worse than dropping
//! it.

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat};
use regex::Regex;

/// Month names, lower case, with the month number. Abbreviations included;
/// a trailing dot is allowed by the patterns.
#[rustfmt::skip]
const MONTHS: &[(&str, u32)] = &[
    // French
    ("janvier", 1), ("février", 2), ("fevrier", 2), ("mars", 3), ("avril", 4), ("mai", 5),
    ("juin", 6), ("juillet", 7), ("août", 8), ("aout", 8), ("septembre", 9), ("octobre", 10),
    ("novembre", 11), ("décembre", 12), ("decembre", 12), ("janv", 1), ("févr", 2), ("fevr", 2),
    ("avr", 4), ("juil", 7), ("déc", 12),
    // English
    ("january", 1), ("february", 2), ("march", 3), ("april", 4), ("may", 5), ("june", 6),
    ("july", 7), ("august", 8), ("september", 9), ("october", 10), ("november", 11),
    ("december", 12), ("jan", 1), ("feb", 2), ("mar", 3), ("apr", 4), ("jun", 6), ("jul", 7),
    ("aug", 8), ("sep", 9), ("sept", 9), ("oct", 10), ("nov", 11), ("dec", 12),
    // German
    ("januar", 1), ("jänner", 1), ("februar", 2), ("märz", 3), ("maerz", 3), ("juni", 6),
    ("juli", 7), ("oktober", 10), ("dezember", 12), ("okt", 10), ("dez", 12),
    // Spanish
    ("enero", 1), ("febrero", 2), ("marzo", 3), ("abril", 4), ("mayo", 5), ("junio", 6),
    ("julio", 7), ("agosto", 8), ("septiembre", 9), ("setiembre", 9), ("octubre", 10),
    ("noviembre", 11), ("diciembre", 12), ("ene", 1), ("abr", 4), ("ago", 8), ("dic", 12),
    // Portuguese and Italian (cheap to add, common in the same feeds)
    ("janeiro", 1), ("fevereiro", 2), ("março", 3), ("maio", 5), ("junho", 6), ("julho", 7),
    ("setembro", 9), ("outubro", 10), ("novembro", 11), ("dezembro", 12), ("gennaio", 1),
    ("febbraio", 2), ("aprile", 4), ("maggio", 5), ("giugno", 6), ("luglio", 7), ("settembre", 9),
    ("ottobre", 10), ("dicembre", 12),
];

fn month_number(name: &str) -> Option<u32> {
    let lower = name.to_lowercase();
    let lower = lower.trim_end_matches('.');
    MONTHS.iter().find(|(n, _)| *n == lower).map(|(_, m)| *m)
}

fn month_alternation() -> String {
    let mut names: Vec<&str> = MONTHS.iter().map(|(n, _)| *n).collect();
    // Longest first so "juillet" is not read as "juil".
    names.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
    names.join("|")
}

static DMY_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)\b(\d{{1,2}})(?:er|st|nd|rd|th|º|°)?\.?\s+(?:de\s+)?({})\b\.?,?\s+(?:de\s+|del\s+)?(\d{{4}})\b",
        month_alternation()
    ))
    .expect("static regex")
});

static MDY_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)\b({})\b\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b",
        month_alternation()
    ))
    .expect("static regex")
});

static DMY_NUM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\d{1,2})[./-](\d{1,2})[./-](\d{4})\b").expect("static regex"));

static YMD_NUM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\d{4})[./-](\d{1,2})[./-](\d{1,2})\b").expect("static regex"));

/// A time right after a date, with an explicit zone: "à 07:13 GMT",
/// "07h13 UTC+1". Times without a zone are matched too, so that callers can
/// tell how far the date expression reaches, but they yield no offset.
static TIME_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\s*(?:,|-|–|—|\||à|a las|at|um|@|kl\.?)?\s*(\d{1,2})\s*(?::|h|\.)\s*(\d{2})(?:\s*(am|pm|a\.m\.|p\.m\.))?(?:\s*uhr)?(?:\s*(gmt|utc|z)\s*(?:([+-])\s*(\d{1,2})(?::?(\d{2}))?)?)?",
    )
    .expect("static regex")
});

static PUBLISHED_KW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:publié|publie|publiée|mis en ligne|paru|published|posted|first published|veröffentlicht|erschienen|publicado|publicada|pubblicato|date de publication)\b",
    )
    .expect("static regex")
});

/// A "Date" label opening a line ("Datum 28.04.2023", "Date: May 3"):
/// the publication date in a list of facts about the article.
static DATE_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(?:datum|date|fecha|data de publicação)\s*:?\s").expect("static regex")
});

static MODIFIED_KW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:mis à jour|mise à jour|modifié|actualisé|updated|last updated|last modified|aktualisiert|geändert|actualizado|actualizada|aggiornato|modificado)\b",
    )
    .expect("static regex")
});

static URL_YMD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?:[/_.-]|$)").expect("static regex")
});

fn plausible(date: NaiveDate) -> bool {
    (1990..=2100).contains(&date.year())
}

fn day(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

fn with_offset(dt: DateTime<FixedOffset>) -> Option<String> {
    plausible(dt.date_naive()).then(|| dt.to_rfc3339_opts(SecondsFormat::Secs, false))
}

/// Normalise a machine-readable date ("2025-06-25T07:13:00+00:00",
/// "2025-06-25 07:13:00.389+00:00", "Wed, 25 Jun 2025 07:13:00 +0000",
/// "2025-06-25").
pub(crate) fn normalize_machine(raw: &str) -> Option<String> {
    let s = raw.trim();
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return with_offset(dt);
    }
    // "2025-06-25 07:13:00+00:00": a space instead of the T.
    let t = if s.len() > 10 && s.as_bytes().get(10) == Some(&b' ') {
        format!("{}T{}", &s[..10], s[11..].trim())
    } else {
        s.to_string()
    };
    // "+00:00" preceded by a space, or "Z" in lower case.
    let t = t.replace(" +", "+").replace(" -", "-").replace('z', "Z");
    if let Ok(dt) = DateTime::parse_from_rfc3339(&t) {
        return with_offset(dt);
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%dT%H:%M%z",
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M%:z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(&t, fmt) {
            return with_offset(dt);
        }
    }
    if let Ok(dt) = DateTime::parse_from_rfc2822(s) {
        return with_offset(dt);
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(ndt) = NaiveDateTime::parse_from_str(&t, fmt) {
            return plausible(ndt.date()).then(|| day(ndt.date()));
        }
    }
    // A bare day, possibly followed by something we do not understand.
    if let Some(c) = YMD_NUM.captures(s)
        && c.get(0).is_some_and(|m| m.start() == 0)
    {
        return ymd(&c[1], &c[2], &c[3]).map(day);
    }
    // Some sites put a human date in a machine slot.
    find_in_text(s).map(|f| f.value)
}

fn ymd(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    let date = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?;
    plausible(date).then_some(date)
}

/// A date found in text, with the byte range of the whole expression
/// (time included).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FoundDate {
    pub value: String,
    pub start: usize,
    pub end: usize,
}

/// The first four matches of `re` with their groups. The fast matcher finds
/// where; groups are then resolved on the match alone, which keeps the
/// slower capturing engine off the rest of the text.
fn caps<'t>(re: &'t Regex, text: &'t str) -> impl Iterator<Item = regex::Captures<'t>> + 't {
    re.find_iter(text)
        .take(4)
        .filter_map(move |m| re.captures_at(&text[..m.end()], m.start()))
}

/// The first date written in `text`.
pub(crate) fn find_in_text(text: &str) -> Option<FoundDate> {
    // Every pattern below needs a digit.
    if !text.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut best: Option<(usize, usize, NaiveDate)> = None;
    let mut consider = |start: usize, end: usize, date: Option<NaiveDate>| {
        if let Some(date) = date
            && best.is_none_or(|(s, _, _)| start < s)
        {
            best = Some((start, end, date));
        }
    };
    for c in caps(&DMY_WORDS, text) {
        let m = c.get(0).map_or(0..0, |m| m.range());
        let date = month_number(&c[2])
            .and_then(|mo| NaiveDate::from_ymd_opt(c[3].parse().ok()?, mo, c[1].parse().ok()?));
        consider(m.start, m.end, date.filter(|d| plausible(*d)));
        if date.is_some() {
            break;
        }
    }
    for c in caps(&MDY_WORDS, text) {
        let m = c.get(0).map_or(0..0, |m| m.range());
        let date = month_number(&c[1])
            .and_then(|mo| NaiveDate::from_ymd_opt(c[3].parse().ok()?, mo, c[2].parse().ok()?));
        consider(m.start, m.end, date.filter(|d| plausible(*d)));
        if date.is_some() {
            break;
        }
    }
    for c in caps(&DMY_NUM, text) {
        let m = c.get(0).map_or(0..0, |m| m.range());
        let (a, b): (u32, u32) = (c[1].parse().unwrap_or(0), c[2].parse().unwrap_or(0));
        // Day first, as everywhere but the United States; month first only
        // when the first number cannot be a month... or the second cannot.
        let (d, mo) = if b > 12 && a <= 12 { (b, a) } else { (a, b) };
        let date = c[3]
            .parse()
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, mo, d));
        consider(m.start, m.end, date.filter(|d| plausible(*d)));
        if date.is_some() {
            break;
        }
    }
    for c in caps(&YMD_NUM, text) {
        let m = c.get(0).map_or(0..0, |m| m.range());
        let date = ymd(&c[1], &c[2], &c[3]);
        consider(m.start, m.end, date);
        if date.is_some() {
            break;
        }
    }
    let (start, mut end, date) = best?;
    let mut value = day(date);
    if let Some(t) = TIME_AFTER.captures(&text[end..]) {
        let whole = t.get(0).map_or(0, |m| m.end());
        end += whole;
        if t.get(4).is_some()
            && let Some(v) = zoned(date, &t)
        {
            value = v;
        }
    }
    Some(FoundDate { value, start, end })
}

fn zoned(date: NaiveDate, t: &regex::Captures<'_>) -> Option<String> {
    let mut hour: u32 = t[1].parse().ok()?;
    let minute: u32 = t[2].parse().ok()?;
    if let Some(ampm) = t.get(3) {
        let pm = ampm.as_str().to_lowercase().starts_with('p');
        if hour == 12 {
            hour = 0;
        }
        if pm {
            hour += 12;
        }
    }
    let mut secs: i32 = 0;
    if let (Some(sign), Some(h)) = (t.get(5), t.get(6)) {
        let h: i32 = h.as_str().parse().ok()?;
        let m: i32 = t.get(7).and_then(|m| m.as_str().parse().ok()).unwrap_or(0);
        secs = (h * 3600 + m * 60) * if sign.as_str() == "-" { -1 } else { 1 };
    }
    let offset = FixedOffset::east_opt(secs)?;
    let naive = date.and_hms_opt(hour, minute, 0)?;
    let dt = naive.and_local_timezone(offset).single()?;
    with_offset(dt)
}

/// Dates announced by a keyword: ("Publié le …", "Mis à jour le …").
/// Returns (published, modified).
pub(crate) fn find_keyed(text: &str) -> (Option<String>, Option<String>) {
    let after = |re: &Regex| -> Option<String> {
        for m in re.find_iter(text).take(3) {
            let rest = crate::text::clip(&text[m.end()..], 120);
            if let Some(f) = find_in_text(rest)
                && rest[..f.start].chars().count() <= 40
            {
                return Some(f.value);
            }
        }
        None
    };
    (
        after(&PUBLISHED_KW).or_else(|| after(&DATE_LABEL)),
        after(&MODIFIED_KW),
    )
}

/// Whether `text` announces a publication or update date.
pub(crate) fn has_date_keyword(text: &str) -> bool {
    PUBLISHED_KW.is_match(text) || MODIFIED_KW.is_match(text)
}

/// A date in the URL path: `/2025/06/25/`, `/2025-06-25-`.
pub(crate) fn from_url(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let c = URL_YMD.captures(path)?;
    ymd(&c[1], &c[2], &c[3]).map(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_dates() {
        let check = |input: &str, expect: Option<&str>| {
            assert_eq!(
                normalize_machine(input).as_deref(),
                expect,
                "input: {input}"
            );
        };
        check(
            "2025-06-25T07:13:00+00:00",
            Some("2025-06-25T07:13:00+00:00"),
        );
        check("2025-06-25T07:13:00Z", Some("2025-06-25T07:13:00+00:00"));
        check(
            "2024-05-03 15:47:42.389000+00:00",
            Some("2024-05-03T15:47:42+00:00"),
        );
        check(
            "2025-06-25T07:13:00+0200",
            Some("2025-06-25T07:13:00+02:00"),
        );
        check(
            "Wed, 25 Jun 2025 07:13:00 +0000",
            Some("2025-06-25T07:13:00+00:00"),
        );
        check("2025-06-25T07:13:00", Some("2025-06-25"));
        check("2025-06-25", Some("2025-06-25"));
        check("25 juin 2025", Some("2025-06-25"));
        check("not a date", None);
        check("2025-13-45", None);
    }

    #[test]
    fn text_dates() {
        let check = |input: &str, expect: &str| {
            assert_eq!(
                find_in_text(input).map(|f| f.value).as_deref(),
                Some(expect),
                "input: {input}"
            );
        };
        check("Publié le mercredi 25 juin 2025 | L'Essor", "2025-06-25");
        check("le 1er août 2024", "2024-08-01");
        check("25/06/2025 à 07:13", "2025-06-25");
        check("June 25, 2025", "2025-06-25");
        check("Updated Jun. 3, 2024 at 5:00 pm", "2024-06-03");
        check("25. Juni 2025, 07:13 Uhr", "2025-06-25");
        check("25 de junio de 2025", "2025-06-25");
        check("2025-06-25", "2025-06-25");
        check("25 June 2025 07:13 GMT", "2025-06-25T07:13:00+00:00");
        check("June 25, 2025 7:13 pm UTC+2", "2025-06-25T19:13:00+02:00");
        assert_eq!(find_in_text("no date in 2025 here"), None);
        assert_eq!(find_in_text("31/02/2025"), None);
    }

    #[test]
    fn date_range_covers_time() {
        let text = "Publié le 25/06/2025 à 07:13 | L'Essor";
        let f = find_in_text(text).unwrap();
        assert_eq!(&text[f.end..], " | L'Essor");
    }

    #[test]
    fn labelled_dates() {
        // A "Date" label in a list of facts beside the article.
        assert_eq!(
            find_keyed("Datum 28.04.2023").0.as_deref(),
            Some("2023-04-28")
        );
        assert_eq!(
            find_keyed("Date: 3 May 2024").0.as_deref(),
            Some("2024-05-03")
        );
    }

    #[test]
    fn keyed_dates() {
        let (p, m) = find_keyed("Publié le 24 juin 2025 à 10h, mis à jour le 25 juin 2025");
        assert_eq!(p.as_deref(), Some("2025-06-24"));
        assert_eq!(m.as_deref(), Some("2025-06-25"));
        assert_eq!(
            find_keyed("Updated: June 2, 2025").1.as_deref(),
            Some("2025-06-02")
        );
    }

    #[test]
    fn url_dates() {
        assert_eq!(
            from_url("https://x.org/2025/06/25/some-story/").as_deref(),
            Some("2025-06-25")
        );
        assert_eq!(
            from_url("https://x.org/news/2024-05-03-title").as_deref(),
            Some("2024-05-03")
        );
        assert_eq!(from_url("http://news.abamako.com/h/300961.html"), None);
    }
}
