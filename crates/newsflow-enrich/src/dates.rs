//! Calendar dates a text mentions, resolved against its publication date.
//!
//! Follows `shared/gold/GUIDELINES.md` §3: specific days, months and years
//! (absolute, day-month without a year, weekdays, deictic words, relative
//! months and years) are tagged; durations, weeks, decades, seasons and
//! years inside names are not. A relative expression resolves to the most
//! recent matching day on or before the publication date (`dernier`/`last`:
//! strictly before), or, in a future context (`doit`, `will`, `jusqu'au`,
//! a verb in the future tense), to the first one on or after it.

use std::sync::LazyLock;

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use newsflow_core::DateMention;
use regex::Regex;

const WD_FR: &str = "[Ll]undi|[Mm]ardi|[Mm]ercredi|[Jj]eudi|[Vv]endredi|[Ss]amedi|[Dd]imanche";
const WD_EN: &str = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday";
const MON_FR: &str = "[Jj]anvier|[Ff][ée]vrier|[Mm]ars|[Aa]vril|[Mm]ai|[Jj]uin|[Jj]uillet|[Aa]o[ûu]t|[Ss]eptembre|[Oo]ctobre|[Nn]ovembre|[Dd][ée]cembre";
const MON_EN: &str = "January|February|March|April|May|June|July|August|September|October|November|December|Jan\\.|Feb\\.|Mar\\.|Apr\\.|Jun\\.|Jul\\.|Aug\\.|Sept\\.|Sep\\.|Oct\\.|Nov\\.|Dec\\.";
const MOD_FR: &str = "derni[eè]re?|pass[ée]e?|prochaine?";
const YEAR: &str = "1[5-9][0-9]{2}|20[0-9]{2}";
const APOS: &str = "['’]";

/// Which way a relative expression points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    /// `dernier`, `last`: strictly before the reference day.
    Last,
    /// `prochain`, `next`: strictly after.
    Next,
    /// `this`, `ce`: the reference period itself.
    This,
}

/// Words whose meaning is a day relative to another day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deictic {
    /// `aujourd'hui`, `today`.
    Today,
    /// `hier`, `yesterday`, with a day offset.
    Offset(i64),
    /// `la veille`, `le lendemain`: relative to the day of the event.
    EventOffset(i64),
    /// `l'an dernier`, `cette année`, `next year`: year offset.
    Year(i32),
    /// `le mois dernier`, `this month`: month offset.
    Month(i32),
}

/// A date expression before resolution.
#[derive(Debug, Clone, Default)]
struct Raw {
    start: usize,
    end: usize,
    day: Option<u32>,
    month: Option<u32>,
    year: Option<i32>,
    weekday: Option<Weekday>,
    dir: Option<Dir>,
    deictic: Option<Deictic>,
    /// A bare month or year: only tagged after a temporal preposition.
    needs_context: bool,
}

struct Patterns {
    day_fr: Regex,
    mdy_en: Regex,
    dmy_en: Regex,
    month_year: Regex,
    weekday_fr: Regex,
    weekday_en: Regex,
    month_alone: Regex,
    year_alone: Regex,
    deictic: Regex,
}

static PATTERNS: LazyLock<Patterns> = LazyLock::new(|| {
    let re = |s: String| Regex::new(&s).expect("date pattern");
    Patterns {
        day_fr: re(format!(
            r"\b(?:({WD_FR})\s+)?(1er|[0-9]{{1,2}})\s+({MON_FR})\b(?:\s+({YEAR})\b)?(?:\s+({MOD_FR})\b)?"
        )),
        mdy_en: re(format!(
            r"\b(?:({WD_EN}),?\s+)?({MON_EN})\s+([0-9]{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+({YEAR})\b)?"
        )),
        dmy_en: re(format!(
            r"\b(?:({WD_EN}),?\s+)?([0-9]{{1,2}})\s+({MON_EN})(?:\s+({YEAR})\b)?"
        )),
        month_year: re(format!(r"\b({MON_FR}|{MON_EN})\s+({YEAR})\b")),
        weekday_fr: re(format!(r"\b({WD_FR})\b(?:\s+({MOD_FR})\b)?")),
        weekday_en: re(format!(r"\b(?:([Ll]ast|[Nn]ext|[Tt]his)\s+)?({WD_EN})\b")),
        month_alone: re(format!(r"\b({MON_FR}|{MON_EN})(?:\s+({MOD_FR})\b)?")),
        year_alone: re(format!(r"\b({YEAR})\b")),
        deictic: re(format!(
            r"\b(?:[Aa]vant-hier|[Aa]près-demain|[Hh]ier|[Aa]ujourd{APOS}hui|[Dd]emain|[Ll]a veille|[Ll]e lendemain|[Ll]{APOS}an (?:dernier|passé|prochain)|[Ll]{APOS}année (?:dernière|passée|prochaine)|[Cc]ette année|[Ll]e mois (?:dernier|prochain)|[Cc]e mois-ci|[Yy]esterday|[Tt]oday|[Tt]omorrow|(?:[Ll]ast|[Nn]ext|[Tt]his) (?:year|month))\b"
        )),
    }
});

fn month_number(s: &str) -> Option<u32> {
    let s = s.to_lowercase();
    let s = s.trim_end_matches('.');
    let n = match s {
        "janvier" | "january" | "jan" => 1,
        "février" | "fevrier" | "february" | "feb" => 2,
        "mars" | "march" | "mar" => 3,
        "avril" | "april" | "apr" => 4,
        "mai" | "may" => 5,
        "juin" | "june" | "jun" => 6,
        "juillet" | "july" | "jul" => 7,
        "août" | "aout" | "august" | "aug" => 8,
        "septembre" | "september" | "sept" | "sep" => 9,
        "octobre" | "october" | "oct" => 10,
        "novembre" | "november" | "nov" => 11,
        "décembre" | "decembre" | "december" | "dec" => 12,
        _ => return None,
    };
    Some(n)
}

fn weekday(s: &str) -> Option<Weekday> {
    Some(match s.to_lowercase().as_str() {
        "lundi" | "monday" => Weekday::Mon,
        "mardi" | "tuesday" => Weekday::Tue,
        "mercredi" | "wednesday" => Weekday::Wed,
        "jeudi" | "thursday" => Weekday::Thu,
        "vendredi" | "friday" => Weekday::Fri,
        "samedi" | "saturday" => Weekday::Sat,
        "dimanche" | "sunday" => Weekday::Sun,
        _ => return None,
    })
}

fn dir_of(s: &str) -> Option<Dir> {
    let s = s.to_lowercase();
    if s.starts_with("dern") || s.starts_with("pass") || s == "last" {
        Some(Dir::Last)
    } else if s.starts_with("proch") || s == "next" {
        Some(Dir::Next)
    } else if s == "this" {
        Some(Dir::This)
    } else {
        None
    }
}

/// Prepositions and adverbs after which a bare year or month is a date.
const STRONG_CONTEXT: &[&str] = &[
    "en", "depuis", "dès", "fin", "début", "mi", "jusqu'en", "avant", "après", "courant", "in",
    "since", "by", "until", "till", "before", "after", "early", "late", "mid", "between", "during",
    "through", "(", "ici",
];
/// Weaker ones: a bare year after them must not be followed by a noun
/// (`de 2000 soldats`).
const WEAK_CONTEXT: &[&str] = &[
    "de", "d'", "du", "of", "from", "to", "pour", "à", "au", "et", "and", "or", "ou", "for",
    "last", "this", "next", "dernier",
];

/// The word before byte offset `at` (lower-cased, apostrophes straight),
/// an elided `d'`/`jusqu'` kept with its apostrophe, or `(`.
fn word_before(text: &str, at: usize) -> String {
    let before = &text[..at];
    let trimmed = before.trim_end_matches([' ', '\u{a0}', '\u{202f}']);
    if trimmed.ends_with('(') {
        return "(".into();
    }
    if trimmed.ends_with(['\'', '’']) && trimmed.len() == before.len() {
        // `d’avril`, `jusqu’en` is handled below as a word.
        let w: String = trimmed[..trimmed.len() - trimmed.chars().last().map_or(0, char::len_utf8)]
            .chars()
            .rev()
            .take_while(|c| c.is_alphabetic())
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        return format!("{}'", w.to_lowercase());
    }
    let w: String = trimmed
        .chars()
        .rev()
        .take_while(|c| c.is_alphabetic() || *c == '\'' || *c == '’' || *c == '-')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let w = w.replace('’', "'").to_lowercase();
    w.trim_end_matches('-').to_string()
}

/// The word after byte offset `at`.
fn word_after(text: &str, at: usize) -> String {
    text[at..]
        .trim_start_matches([' ', '\u{a0}', '\u{202f}'])
        .chars()
        .take_while(|c| c.is_alphanumeric())
        .collect()
}

fn in_context(text: &str, start: usize, end: usize, year: bool) -> bool {
    let before = word_before(text, start);
    let after = word_after(text, end);
    let next_char = text[end..].chars().next();
    if year {
        // Seasons (`2025-2026`, `2024/25`) and numbers (`2 000`).
        let prev_char = text[..start].chars().next_back();
        if matches!(next_char, Some('-' | '/' | '–'))
            && text[end..]
                .chars()
                .nth(1)
                .is_some_and(|c| c.is_ascii_digit())
            || matches!(prev_char, Some('-' | '/' | '–'))
        {
            return false;
        }
        let rest = &text[end..];
        let mut it = rest.chars();
        if matches!(it.next(), Some(' ' | '\u{a0}' | '\u{202f}'))
            && it.take(3).filter(char::is_ascii_digit).count() == 3
        {
            return false;
        }
        if matches!(next_char, Some('%')) || after == "%" {
            return false;
        }
    }
    if before == "(" {
        return next_char == Some(')') || !year;
    }
    let before = before.as_str();
    if STRONG_CONTEXT.contains(&before) || before.starts_with("jusqu") {
        return true;
    }
    if WEAK_CONTEXT.contains(&before) {
        let noun_follows = after
            .chars()
            .next()
            .is_some_and(|c| c.is_lowercase() && c.is_alphabetic())
            && !matches!(
                after.as_str(),
                "et" | "and" | "à" | "au" | "to" | "jusqu" | "ou" | "or" | "puis" | "then"
            );
        return !noun_follows;
    }
    false
}

/// Words that put a date in the future when they come shortly before it in
/// the same sentence.
const FUTURE_CUES: &[&str] = &[
    "doit",
    "doivent",
    "devra",
    "devront",
    "devrait",
    "devraient",
    "prévu",
    "prévue",
    "prévus",
    "prévues",
    "jusqu'au",
    "jusqu'à",
    "jusqu'en",
    "d'ici",
    "attendu",
    "attendue",
    "attendus",
    "will",
    "would",
    "shall",
    "due",
    "until",
    "till",
    "scheduled",
    "expected",
    "upcoming",
    "'ll",
    "set",
    "plans",
    "planned",
    "prochain",
    "prochaine",
    "next",
    "expire",
    "expires",
];

/// French future tense (`succédera`, `prendra`, `affronteront`).
fn is_future_verb(w: &str) -> bool {
    let n = w.chars().count();
    n >= 4
        && (w.ends_with("era")
            || w.ends_with("eront")
            || w.ends_with("ira")
            || w.ends_with("iront")
            || w.ends_with("dra")
            || w.ends_with("dront")
            || w.ends_with("ront") && n >= 6
            || matches!(
                w,
                "sera" | "seront" | "aura" | "auront" | "fera" | "feront" | "ira" | "iront"
            ))
        && !matches!(
            w,
            "opéra" | "caméra" | "ère" | "guerra" | "sierra" | "terra"
        )
}

/// Whether the words before byte `at`, back to the sentence start (at most
/// ten words), make the date a future one.
fn future_context(text: &str, at: usize, french: bool) -> bool {
    let before = &text[..at];
    let sentence_start = before
        .rfind(['.', '!', '?', '\n', ';'])
        .map_or(0, |i| i + 1);
    let words: Vec<String> = before[sentence_start..]
        .split(|c: char| {
            c.is_whitespace() || matches!(c, ',' | '«' | '»' | '“' | '”' | '"' | '(' | ')')
        })
        .filter(|w| !w.is_empty())
        .map(|w| w.replace('’', "'").to_lowercase())
        .collect();
    let tail = &words[words.len().saturating_sub(10)..];
    tail.iter().any(|w| {
        FUTURE_CUES.contains(&w.as_str())
            || w.starts_with("jusqu'")
            || w.ends_with("'ll")
            || w.starts_with("d'ici")
            || french && is_future_verb(w)
    }) || tail.windows(2).any(|p| p[0] == "à" && p[1] == "quelques")
}

/// Char offset of each byte offset (only at char boundaries).
fn char_index(text: &str) -> impl Fn(usize) -> usize + '_ {
    move |byte| text[..byte].chars().count()
}

/// Find and resolve the dates in `text`. `published` is `YYYY-MM-DD` or
/// an RFC 3339 timestamp; without it relative dates get a `null` value.
pub fn dates(text: &str, published: Option<&str>, lang: &str) -> Vec<DateMention> {
    let french = lang != "en";
    let published = published
        .and_then(|p| p.get(..10))
        .and_then(|p| NaiveDate::parse_from_str(p, "%Y-%m-%d").ok());
    let p = &*PATTERNS;
    let mut raws: Vec<Raw> = Vec::new();
    let cap = |c: &regex::Captures<'_>, i: usize| c.get(i).map(|m| m.as_str().to_string());
    for c in p.day_fr.captures_iter(text) {
        let m = c.get(0).expect("match");
        let day = cap(&c, 2).map(|d| {
            if d == "1er" {
                1
            } else {
                d.parse().unwrap_or(0)
            }
        });
        raws.push(Raw {
            start: m.start(),
            end: m.end(),
            weekday: cap(&c, 1).and_then(|w| weekday(&w)),
            day,
            month: cap(&c, 3).and_then(|m| month_number(&m)),
            year: cap(&c, 4).and_then(|y| y.parse().ok()),
            dir: cap(&c, 5).and_then(|d| dir_of(&d)),
            ..Raw::default()
        });
    }
    for c in p.mdy_en.captures_iter(text) {
        let m = c.get(0).expect("match");
        raws.push(Raw {
            start: m.start(),
            end: m.end(),
            weekday: cap(&c, 1).and_then(|w| weekday(&w)),
            month: cap(&c, 2).and_then(|m| month_number(&m)),
            day: cap(&c, 3).and_then(|d| d.parse().ok()),
            year: cap(&c, 4).and_then(|y| y.parse().ok()),
            ..Raw::default()
        });
    }
    for c in p.dmy_en.captures_iter(text) {
        let m = c.get(0).expect("match");
        raws.push(Raw {
            start: m.start(),
            end: m.end(),
            weekday: cap(&c, 1).and_then(|w| weekday(&w)),
            day: cap(&c, 2).and_then(|d| d.parse().ok()),
            month: cap(&c, 3).and_then(|m| month_number(&m)),
            year: cap(&c, 4).and_then(|y| y.parse().ok()),
            ..Raw::default()
        });
    }
    for c in p.month_year.captures_iter(text) {
        let m = c.get(0).expect("match");
        raws.push(Raw {
            start: m.start(),
            end: m.end(),
            month: cap(&c, 1).and_then(|m| month_number(&m)),
            year: cap(&c, 2).and_then(|y| y.parse().ok()),
            ..Raw::default()
        });
    }
    for c in p.weekday_fr.captures_iter(text) {
        let m = c.get(0).expect("match");
        raws.push(Raw {
            start: m.start(),
            end: m.end(),
            weekday: cap(&c, 1).and_then(|w| weekday(&w)),
            dir: cap(&c, 2).and_then(|d| dir_of(&d)),
            ..Raw::default()
        });
    }
    for c in p.weekday_en.captures_iter(text) {
        let m = c.get(0).expect("match");
        raws.push(Raw {
            start: m.start(),
            end: m.end(),
            dir: cap(&c, 1).and_then(|d| dir_of(&d)),
            weekday: cap(&c, 2).and_then(|w| weekday(&w)),
            ..Raw::default()
        });
    }
    for c in p.month_alone.captures_iter(text) {
        let m = c.get(0).expect("match");
        let name = c.get(1).expect("month").as_str();
        let french = name.chars().next().is_some_and(char::is_lowercase);
        raws.push(Raw {
            start: m.start(),
            end: m.end(),
            month: month_number(name),
            dir: cap(&c, 2).and_then(|d| dir_of(&d)),
            // A lower-case French month is a month; `May`, `March` need a
            // preposition before them.
            needs_context: !french || name == "mars" || name == "mai",
            ..Raw::default()
        });
    }
    for m in p.year_alone.find_iter(text) {
        raws.push(Raw {
            start: m.start(),
            end: m.end(),
            year: m.as_str().parse().ok(),
            needs_context: true,
            ..Raw::default()
        });
    }
    for m in p.deictic.find_iter(text) {
        let s = m.as_str().to_lowercase().replace('’', "'");
        let deictic = match s.as_str() {
            "aujourd'hui" | "today" => Deictic::Today,
            "hier" | "yesterday" => Deictic::Offset(-1),
            "avant-hier" => Deictic::Offset(-2),
            "demain" | "tomorrow" => Deictic::Offset(1),
            "après-demain" => Deictic::Offset(2),
            "la veille" => Deictic::EventOffset(-1),
            "le lendemain" => Deictic::EventOffset(1),
            "cette année" | "this year" => Deictic::Year(0),
            "ce mois-ci" | "this month" => Deictic::Month(0),
            "next year" => Deictic::Year(1),
            "last year" => Deictic::Year(-1),
            "next month" => Deictic::Month(1),
            "last month" => Deictic::Month(-1),
            s if s.starts_with("le mois") => {
                Deictic::Month(if s.ends_with("dernier") { -1 } else { 1 })
            }
            s if s.contains("prochain") => Deictic::Year(1),
            _ => Deictic::Year(-1),
        };
        // Loose constructions: `au lendemain de X`, `à la veille de X`,
        // and generic `d'aujourd'hui`.
        let before = word_before(text, m.start());
        let after = word_after(text, m.end());
        let loose = matches!(deictic, Deictic::EventOffset(_))
            && (matches!(before.as_str(), "au" | "à")
                || matches!(after.as_str(), "de" | "du" | "des" | "d"))
            || deictic == Deictic::Today && before == "d'";
        if loose {
            continue;
        }
        raws.push(Raw {
            start: m.start(),
            end: m.end(),
            deictic: Some(deictic),
            ..Raw::default()
        });
    }
    // Longest first at each start; drop overlaps and bare years/months
    // without a temporal preposition.
    raws.sort_by_key(|r| (r.start, usize::MAX - r.end));
    let mut kept: Vec<Raw> = Vec::new();
    for r in raws {
        if kept.last().is_some_and(|k| r.start < k.end) {
            continue;
        }
        if r.needs_context && !in_context(text, r.start, r.end, r.year.is_some()) {
            continue;
        }
        if r.day.is_some_and(|d| d == 0 || d > 31) {
            continue;
        }
        kept.push(r);
    }

    let to_char = char_index(text);
    let quote_ranges = quote_ranges(text);
    let mut last_day: Option<NaiveDate> = None;
    let mut out = Vec::new();
    for r in kept {
        let future = match r.dir {
            Some(Dir::Next) => true,
            Some(Dir::Last) => false,
            _ => future_context(text, r.start, french),
        };
        let in_quote = quote_ranges
            .iter()
            .any(|&(a, b)| a <= r.start && r.end <= b);
        let value = resolve(&r, published, future, last_day, in_quote);
        if let Some(v) = &value
            && v.len() == 10
        {
            last_day = NaiveDate::parse_from_str(v, "%Y-%m-%d").ok();
        }
        out.push(DateMention {
            start: to_char(r.start),
            end: to_char(r.end),
            text: text[r.start..r.end].to_string(),
            value,
        });
    }
    out
}

/// Byte ranges between quotation marks, to resolve `aujourd'hui` in a
/// quote against the day of the statement.
fn quote_ranges(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut open: Option<usize> = None;
    for (i, c) in text.char_indices() {
        match c {
            '«' | '“' if open.is_none() => open = Some(i),
            '»' | '”' => {
                if let Some(s) = open.take() {
                    out.push((s, i));
                }
            }
            '\n' => {
                if let Some(s) = open.take() {
                    out.push((s, i));
                }
            }
            _ => {}
        }
    }
    out
}

fn iso_day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn resolve(
    r: &Raw,
    published: Option<NaiveDate>,
    future: bool,
    last_day: Option<NaiveDate>,
    in_quote: bool,
) -> Option<String> {
    if let Some(d) = r.deictic {
        let pubd = published?;
        return Some(match d {
            Deictic::Today if in_quote => iso_day(last_day.unwrap_or(pubd)),
            Deictic::Today => iso_day(pubd),
            Deictic::Offset(n) => iso_day(add_days(pubd, n)),
            Deictic::EventOffset(n) => iso_day(add_days(last_day.unwrap_or(pubd), n)),
            Deictic::Year(n) => format!("{:04}", pubd.year() + n),
            Deictic::Month(n) => {
                let first = pubd.with_day(1)?;
                let m = if n >= 0 {
                    first.checked_add_months(Months::new(n.unsigned_abs()))?
                } else {
                    first.checked_sub_months(Months::new(n.unsigned_abs()))?
                };
                m.format("%Y-%m").to_string()
            }
        });
    }
    match (r.year, r.month, r.day) {
        (Some(y), Some(m), Some(d)) => NaiveDate::from_ymd_opt(y, m, d).map(iso_day),
        (Some(y), Some(m), None) => Some(format!("{y:04}-{m:02}")),
        (Some(y), None, None) => Some(format!("{y:04}")),
        (None, Some(m), Some(d)) => {
            let pubd = published?;
            let strict = r.dir.is_some();
            let candidates = [pubd.year() - 1, pubd.year(), pubd.year() + 1]
                .into_iter()
                .filter_map(|y| NaiveDate::from_ymd_opt(y, m, d));
            pick(candidates, pubd, future, strict).map(iso_day)
        }
        (None, Some(m), None) => {
            let pubd = published?;
            let this = NaiveDate::from_ymd_opt(pubd.year(), pubd.month(), 1)?;
            let candidates = [pubd.year() - 1, pubd.year(), pubd.year() + 1]
                .into_iter()
                .filter_map(|y| NaiveDate::from_ymd_opt(y, m, 1));
            pick(candidates, this, future, r.dir.is_some()).map(|d| d.format("%Y-%m").to_string())
        }
        (None, None, None) => {
            let wd = r.weekday?;
            let pubd = published?;
            let strict = matches!(r.dir, Some(Dir::Last | Dir::Next));
            let candidates = (-8i64..=8)
                .map(|k| add_days(pubd, k))
                .filter(|d| d.weekday() == wd);
            pick(candidates, pubd, future, strict).map(iso_day)
        }
        _ => None,
    }
}

fn add_days(d: NaiveDate, n: i64) -> NaiveDate {
    if n >= 0 {
        d.checked_add_days(Days::new(n.unsigned_abs())).unwrap_or(d)
    } else {
        d.checked_sub_days(Days::new(n.unsigned_abs())).unwrap_or(d)
    }
}

/// The latest candidate on or before `reference` (or the earliest on or
/// after it in a future context); `strict` excludes the reference itself.
fn pick(
    candidates: impl Iterator<Item = NaiveDate>,
    reference: NaiveDate,
    future: bool,
    strict: bool,
) -> Option<NaiveDate> {
    let c: Vec<NaiveDate> = candidates.collect();
    if future {
        c.into_iter()
            .filter(|d| {
                if strict {
                    *d > reference
                } else {
                    *d >= reference
                }
            })
            .min()
    } else {
        c.into_iter()
            .filter(|d| {
                if strict {
                    *d < reference
                } else {
                    *d <= reference
                }
            })
            .max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str, published: &str) -> Vec<(String, Option<String>)> {
        dates(text, Some(published), "fr")
            .into_iter()
            .map(|d| (d.text, d.value))
            .collect()
    }

    fn pair(t: &str, v: &str) -> (String, Option<String>) {
        (t.to_string(), Some(v.to_string()))
    }

    #[test]
    fn french_absolute_relative_and_deictic() {
        let got = values(
            "BAMAKO, 18 juin (AMAP) – Le ministre a reçu lundi une délégation. Le 16 juin dernier, \
             en janvier 2024, hier soir, la veille et l’an dernier. Les écoles restent fermées jusqu’au 9 novembre.",
            "2025-06-18",
        );
        assert_eq!(
            got,
            vec![
                pair("18 juin", "2025-06-18"),
                pair("lundi", "2025-06-16"),
                pair("16 juin dernier", "2025-06-16"),
                pair("janvier 2024", "2024-01"),
                pair("hier", "2025-06-17"),
                pair("la veille", "2025-06-16"),
                pair("l’an dernier", "2024"),
                pair("9 novembre", "2025-11-09"),
            ]
        );
    }

    #[test]
    fn english_forms_and_future_context() {
        let got = values(
            "The party won the Dec. 7 vote and he was sworn in on Tuesday. Sanctions would take effect on \
             Jan. 29, 2025. It was founded in 1995 and grew last year. The pope will travel to Lebanon on Sunday.",
            "2025-01-08",
        );
        assert_eq!(
            got,
            vec![
                pair("Dec. 7", "2024-12-07"),
                pair("Tuesday", "2025-01-07"),
                pair("Jan. 29, 2025", "2025-01-29"),
                pair("1995", "1995"),
                pair("last year", "2024"),
                pair("Sunday", "2025-01-12"),
            ]
        );
    }

    #[test]
    fn what_is_not_a_date() {
        let got = values(
            "La CAN 2025 et la saison 2025-2026, plus de 2000 soldats, la semaine dernière, \
             au lendemain du vote, la France d’aujourd’hui, 2 000 morts, the 2025 Nobel Prize.",
            "2025-06-18",
        );
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn weekday_with_date_and_offsets_are_chars() {
        let d = dates(
            "« Élu » mercredi 29 janvier",
            Some("2025-01-30T10:00:00+00:00"),
            "fr",
        );
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].start, d[0].end), (8, 27));
        assert_eq!(d[0].value.as_deref(), Some("2025-01-29"));
        let d = dates("lundi", None, "fr");
        assert_eq!(d[0].value, None);
    }
}
