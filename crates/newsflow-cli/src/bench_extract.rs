//! `newsflow bench extract DIR`: extraction quality and speed on a corpus
//! laid out like `shared/corpus/fundus` (`reference.json` plus gzipped
//! pages), scored the way that corpus's README says, optionally next to
//! Python trafilatura run on the same decoded pages in the same run.
//!
//! Scoring. Body: `\w+` tokens (Unicode, case kept), multisets of 4-token
//! shingles (one shorter shingle for texts under 4 tokens); per page
//! precision tp/(tp+fp) and recall tp/(tp+fn), averaged over the pages where
//! they are defined (a page with fp = fn = 0 scores 1 on both, an empty
//! prediction costs recall only), F1 of the two means; accuracy is the share
//! of pages whose token sequence equals the reference's. Metadata, over pages
//! with a non-empty reference: title exact (after NFKC and whitespace
//! collapsing) and token F1 (NFKC, case-folded `\w+` tokens), authors token
//! F1 over all names joined, date correct when the calendar day matches.
//!
//! Speed is CPU time of `newsflow_parse::extract` alone, on this thread
//! (`CLOCK_THREAD_CPUTIME_ID`, through rustix): decompression, decoding and
//! scoring are outside the window.
//! Extra memory per page is the resident-set peak during extraction above
//! the resident set just before it (peak reset through
//! `/proc/self/clear_refs`), so it counts what the allocator had to ask the
//! system for, not memory it reused.

use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::LazyLock;
use std::time::Instant;

use anyhow::{Context as _, bail};
use regex::Regex;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization as _;

/// The trafilatura release compared against.
pub const TRAFILATURA_VERSION: &str = "2.3.1";

/// What to run and what to print.
#[derive(Debug, Clone, Default)]
pub struct BenchExtractOptions {
    /// Also run Python trafilatura on the same pages (installed from PyPI
    /// into `tools/py-trafilatura` by the helper script on first use).
    pub trafilatura: bool,
    /// Only the first N pages (in key order).
    pub limit: Option<usize>,
    /// Only pages whose key (`<country>/<Publisher>_<date>`) contains this.
    pub filter: Option<String>,
    /// Print the report as JSON instead of the table (see [`print_report`]).
    pub json: bool,
    /// List this many worst pages (lowest body F1, then metadata misses)
    /// with what went wrong, for error analysis.
    pub per_page: usize,
    /// Write `<key>.got.txt` / `<key>.want.txt` for every page here.
    pub dump_dir: Option<PathBuf>,
    /// Repeat the timed extraction this many times per page and keep the
    /// fastest, to steady the speed figure on a busy machine (0 and 1: once;
    /// memory is measured on the first run).
    pub repeat: usize,
    /// The repository root holding `scripts/eval_extract/` and `tools/`;
    /// the current directory when `None`.
    pub repo_root: Option<PathBuf>,
}

/// The scores of one extractor over a set of pages.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Scores {
    /// Pages scored.
    pub pages: usize,
    /// Body F1 of mean precision and mean recall.
    pub body_f1: f64,
    /// Mean body precision.
    pub body_precision: f64,
    /// Mean body recall.
    pub body_recall: f64,
    /// Share of pages whose body token sequence is exactly the reference's.
    pub body_accuracy: f64,
    /// Share of titles equal to the reference (NFKC, whitespace collapsed).
    pub title_exact: f64,
    /// Mean title token F1.
    pub title_f1: f64,
    /// Mean authors token F1.
    pub authors_f1: f64,
    /// Share of publication dates on the right calendar day.
    pub date_day: f64,
}

/// One extractor's row: scores overall and per language, and its speed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExtractorRow {
    /// "newsflow" or "trafilatura 2.3.1".
    pub name: String,
    /// All pages.
    pub all: Scores,
    /// Per language group ("de", "en", "other").
    pub by_lang: Vec<(String, Scores)>,
    /// Pages per CPU-second of extraction alone.
    pub pages_per_cpu_sec: f64,
    /// CPU seconds of extraction, summed over pages.
    pub cpu_secs: f64,
    /// Slowest page: key and milliseconds of CPU.
    pub worst_page: Option<(String, f64)>,
    /// Largest extra resident memory of one page: key and MiB.
    pub worst_memory: Option<(String, f64)>,
}

/// A page's outcome, for `per_page`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PageResult {
    /// `<country>/<Publisher>_<date>`.
    pub key: String,
    /// Reference language.
    pub lang: String,
    /// Body precision, recall and F1 of this page.
    pub precision: f64,
    /// See `precision`.
    pub recall: f64,
    /// See `precision`.
    pub f1: f64,
    /// Title token F1, if the reference has a title.
    pub title_f1: Option<f64>,
    /// Authors token F1, if the reference has authors.
    pub authors_f1: Option<f64>,
    /// Whether the date's day matched, if the reference has a date.
    pub date_ok: Option<bool>,
    /// What the extractor said (title, authors, date) next to the reference.
    pub got_title: String,
    /// Reference title.
    pub want_title: String,
    /// Extracted authors.
    pub got_authors: Vec<String>,
    /// Reference authors.
    pub want_authors: Vec<String>,
    /// Extracted date.
    pub got_date: String,
    /// Reference date.
    pub want_date: String,
    /// CPU milliseconds of extraction.
    pub cpu_ms: f64,
    /// Extra resident MiB during extraction.
    pub extra_mib: f64,
}

/// The synthetic 10 MB page's figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyntheticResult {
    /// Size of the page in bytes.
    pub bytes: usize,
    /// CPU milliseconds.
    pub cpu_ms: f64,
    /// Extra resident MiB.
    pub extra_mib: f64,
}

/// What `bench extract` measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExtractReport {
    /// The corpus directory.
    pub dir: String,
    /// newsflow's row.
    pub newsflow: ExtractorRow,
    /// trafilatura's row (with metadata for the quality, speed without).
    pub trafilatura: Option<ExtractorRow>,
    /// trafilatura's pages per CPU-second when asked for metadata too.
    pub trafilatura_with_metadata_pages_per_cpu_sec: Option<f64>,
    /// newsflow pages/CPU-s over trafilatura's (body only).
    pub speed_ratio: Option<f64>,
    /// The synthetic 10 MB page.
    pub synthetic_10mb: SyntheticResult,
    /// The worst pages of newsflow, when asked for.
    pub worst_pages: Vec<PageResult>,
}

#[derive(Debug, Deserialize)]
struct Reference {
    file: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    authors: Vec<String>,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    body: String,
}

/// One extractor's answer for a page.
#[derive(Debug, Clone, Default)]
struct Prediction {
    title: String,
    authors: Vec<String>,
    date: String,
    body: String,
    cpu_secs: f64,
    extra_mib: f64,
}

/// Run the benchmark on `dir` (a folder with `reference.json`).
pub fn run(dir: &Path, opts: &BenchExtractOptions) -> anyhow::Result<ExtractReport> {
    let ref_path = dir.join("reference.json");
    let text = std::fs::read_to_string(&ref_path)
        .with_context(|| format!("cannot read {}", ref_path.display()))?;
    let refs: HashMap<String, Reference> = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a reference file", ref_path.display()))?;
    let mut keys: Vec<String> = refs
        .keys()
        .filter(|k| opts.filter.as_ref().is_none_or(|f| k.contains(f.as_str())))
        .cloned()
        .collect();
    keys.sort();
    if let Some(n) = opts.limit {
        keys.truncate(n);
    }
    if keys.is_empty() {
        bail!("no pages selected in {}", ref_path.display());
    }

    // Decode every page first: decoding is the fetch stage's job and is not
    // timed.
    let mut pages: Vec<(String, String)> = Vec::with_capacity(keys.len());
    for key in &keys {
        let r = &refs[key];
        let path = dir.join(&r.file);
        let raw = read_maybe_gz(&path)?;
        let tld = url_host(&r.url).and_then(|h| h.rsplit('.').next().map(str::to_string));
        // The corpus keeps no response headers. A server sending valid
        // UTF-8 says so in its Content-Type nearly always, so give the
        // decoder that header when the bytes are UTF-8; otherwise it reads
        // the page's own declaration or guesses, as in production.
        let header = std::str::from_utf8(&raw)
            .is_ok()
            .then_some("text/html; charset=utf-8");
        let (html, _, _) = newsflow_fetch::decode_html(&raw, header, tld.as_deref());
        pages.push((key.clone(), html));
    }

    let repeat = opts.repeat.max(1);
    let mut ours: Vec<Prediction> = Vec::with_capacity(pages.len());
    for (key, html) in &pages {
        let url = refs[key].url.as_str();
        // One process, one thread, pages one after another: as a parse
        // stage replica sees them.
        let mut best_cpu = f64::INFINITY;
        let mut article = None;
        let mut extra_mib = 0.0;
        for i in 0..repeat {
            let mem_before = if i == 0 { reset_peak_rss() } else { None };
            let t0 = thread_cpu_secs();
            let a = newsflow_parse::extract(html, Some(url));
            let t1 = thread_cpu_secs();
            if let Some(before) = mem_before {
                extra_mib = peak_rss_mib().map_or(0.0, |p| (p - before).max(0.0));
            }
            best_cpu = best_cpu.min(t1 - t0);
            article = Some(a);
        }
        let a = article.unwrap_or_default();
        ours.push(Prediction {
            title: a.title.unwrap_or_default(),
            authors: a.authors,
            date: a.published.unwrap_or_default(),
            body: a.body_text,
            cpu_secs: best_cpu,
            extra_mib,
        });
    }

    let refs_in_order: Vec<(&str, &Reference)> =
        keys.iter().map(|k| (k.as_str(), &refs[k])).collect();
    let (newsflow, results) = score_row("newsflow", &refs_in_order, &ours);

    if let Some(dump) = &opts.dump_dir {
        std::fs::create_dir_all(dump)
            .with_context(|| format!("cannot create {}", dump.display()))?;
        for ((key, r), p) in refs_in_order.iter().zip(&ours) {
            let base = key.replace('/', "__");
            std::fs::write(dump.join(format!("{base}.got.txt")), &p.body)?;
            std::fs::write(dump.join(format!("{base}.want.txt")), &r.body)?;
        }
    }

    let mut report = ExtractReport {
        dir: dir.display().to_string(),
        newsflow,
        synthetic_10mb: synthetic_page(),
        ..ExtractReport::default()
    };

    if opts.per_page > 0 {
        let mut worst = results;
        worst.sort_by(|a, b| badness(b).total_cmp(&badness(a)));
        worst.truncate(opts.per_page);
        report.worst_pages = worst;
    }

    if opts.trafilatura {
        let root = opts.repo_root.clone().unwrap_or_else(|| PathBuf::from("."));
        let (with_meta, body_only_pps) = run_trafilatura(&root, &pages, &refs)?;
        let (mut row, _) = score_row(
            &format!("trafilatura {TRAFILATURA_VERSION}"),
            &refs_in_order,
            &with_meta,
        );
        report.trafilatura_with_metadata_pages_per_cpu_sec = Some(row.pages_per_cpu_sec);
        row.pages_per_cpu_sec = body_only_pps;
        if body_only_pps > 0.0 {
            row.cpu_secs = pages.len() as f64 / body_only_pps;
        }
        if body_only_pps > 0.0 {
            report.speed_ratio = Some(report.newsflow.pages_per_cpu_sec / body_only_pps);
        }
        report.trafilatura = Some(row);
    }
    Ok(report)
}

/// Run and print: the table, or JSON when `opts.json`.
pub fn print_report(dir: &Path, opts: &BenchExtractOptions) -> anyhow::Result<()> {
    let report = run(dir, opts)?;
    if opts.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    Ok(())
}

/// Higher is worse: body error first, then metadata misses.
fn badness(p: &PageResult) -> f64 {
    (1.0 - p.f1)
        + 0.3 * (1.0 - p.title_f1.unwrap_or(1.0))
        + 0.3 * (1.0 - p.authors_f1.unwrap_or(1.0))
        + if p.date_ok == Some(false) { 0.3 } else { 0.0 }
}

fn read_maybe_gz(path: &Path) -> anyhow::Result<Vec<u8>> {
    let raw = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .with_context(|| format!("{} is not valid gzip", path.display()))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit('@').next()?.split(':').next()?;
    Some(host.to_ascii_lowercase())
}

// ---------------------------------------------------------------- scoring

static WORD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\w+").expect("static regex"));

fn tokens(s: &str) -> Vec<&str> {
    WORD.find_iter(s).map(|m| m.as_str()).collect()
}

fn shingles<'a>(toks: &[&'a str]) -> HashMap<Vec<&'a str>, usize> {
    let mut out: HashMap<Vec<&str>, usize> = HashMap::new();
    if toks.is_empty() {
        return out;
    }
    if toks.len() < 4 {
        *out.entry(toks.to_vec()).or_default() += 1;
        return out;
    }
    for w in toks.windows(4) {
        *out.entry(w.to_vec()).or_default() += 1;
    }
    out
}

/// (tp, fp, fn) of two multisets.
fn overlap<K: std::hash::Hash + Eq>(
    truth: &HashMap<K, usize>,
    pred: &HashMap<K, usize>,
) -> (usize, usize, usize) {
    let mut tp = 0;
    let mut fp = 0;
    let mut fn_ = 0;
    for (k, &c) in pred {
        let t = truth.get(k).copied().unwrap_or(0);
        tp += c.min(t);
        fp += c.saturating_sub(t);
    }
    for (k, &t) in truth {
        let c = pred.get(k).copied().unwrap_or(0);
        fn_ += t.saturating_sub(c);
    }
    (tp, fp, fn_)
}

/// Body precision (None if undefined), recall (None if undefined), and
/// whether the token sequences are equal.
fn body_scores(want: &str, got: &str) -> (Option<f64>, Option<f64>, bool) {
    let wt = tokens(want);
    let gt = tokens(got);
    let (tp, fp, fn_) = overlap(&shingles(&wt), &shingles(&gt));
    if fp == 0 && fn_ == 0 {
        return (Some(1.0), Some(1.0), wt == gt);
    }
    let p = (tp + fp > 0).then(|| tp as f64 / (tp + fp) as f64);
    let r = (tp + fn_ > 0).then(|| tp as f64 / (tp + fn_) as f64);
    (p, r, wt == gt)
}

fn norm_tokens(s: &str) -> Vec<String> {
    let n: String = s.nfkc().collect::<String>().to_lowercase();
    WORD.find_iter(&n).map(|m| m.as_str().to_string()).collect()
}

/// Token-multiset F1 of two strings (NFKC, case-folded).
fn token_f1(want: &str, got: &str) -> f64 {
    let count = |v: Vec<String>| {
        let mut m: HashMap<String, usize> = HashMap::new();
        for t in v {
            *m.entry(t).or_default() += 1;
        }
        m
    };
    let (tp, fp, fn_) = overlap(&count(norm_tokens(want)), &count(norm_tokens(got)));
    if tp == 0 {
        return if fp == 0 && fn_ == 0 { 1.0 } else { 0.0 };
    }
    let p = tp as f64 / (tp + fp) as f64;
    let r = tp as f64 / (tp + fn_) as f64;
    2.0 * p * r / (p + r)
}

fn exact_norm(s: &str) -> String {
    s.nfkc()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn day_of(s: &str) -> Option<&str> {
    let s = s.trim();
    let d = s.get(..10)?;
    let b = d.as_bytes();
    (b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit()))
    .then_some(d)
}

fn lang_group(lang: &str) -> &'static str {
    match lang {
        "de" => "de",
        "en" => "en",
        _ => "other",
    }
}

#[derive(Default)]
struct Acc {
    pages: usize,
    p: Vec<f64>,
    r: Vec<f64>,
    exact: usize,
    title_exact: Vec<f64>,
    title_f1: Vec<f64>,
    authors_f1: Vec<f64>,
    date: Vec<f64>,
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

impl Acc {
    fn scores(&self) -> Scores {
        let p = mean(&self.p);
        let r = mean(&self.r);
        Scores {
            pages: self.pages,
            body_f1: if p + r > 0.0 {
                2.0 * p * r / (p + r)
            } else {
                0.0
            },
            body_precision: p,
            body_recall: r,
            body_accuracy: if self.pages == 0 {
                0.0
            } else {
                self.exact as f64 / self.pages as f64
            },
            title_exact: mean(&self.title_exact),
            title_f1: mean(&self.title_f1),
            authors_f1: mean(&self.authors_f1),
            date_day: mean(&self.date),
        }
    }
}

fn score_row(
    name: &str,
    refs: &[(&str, &Reference)],
    preds: &[Prediction],
) -> (ExtractorRow, Vec<PageResult>) {
    let mut all = Acc::default();
    let mut groups: HashMap<&'static str, Acc> = HashMap::new();
    let mut results = Vec::with_capacity(refs.len());
    let mut cpu = 0.0;
    let mut worst_page: Option<(String, f64)> = None;
    let mut worst_memory: Option<(String, f64)> = None;
    for ((key, r), p) in refs.iter().zip(preds) {
        let (prec, rec, exact) = body_scores(&r.body, &p.body);
        let title = (!r.title.trim().is_empty()).then(|| {
            (
                f64::from(u8::from(exact_norm(&r.title) == exact_norm(&p.title))),
                token_f1(&r.title, &p.title),
            )
        });
        let authors =
            (!r.authors.is_empty()).then(|| token_f1(&r.authors.join(" "), &p.authors.join(" ")));
        let date = r
            .published
            .as_deref()
            .and_then(day_of)
            .map(|want| day_of(&p.date) == Some(want));
        for acc in [&mut all, groups.entry(lang_group(&r.lang)).or_default()] {
            acc.pages += 1;
            acc.p.extend(prec);
            acc.r.extend(rec);
            acc.exact += usize::from(exact);
            if let Some((e, f)) = title {
                acc.title_exact.push(e);
                acc.title_f1.push(f);
            }
            acc.authors_f1.extend(authors);
            acc.date.extend(date.map(|d| f64::from(u8::from(d))));
        }
        cpu += p.cpu_secs;
        let ms = p.cpu_secs * 1000.0;
        if worst_page.as_ref().is_none_or(|(_, w)| ms > *w) {
            worst_page = Some(((*key).to_string(), ms));
        }
        if worst_memory.as_ref().is_none_or(|(_, w)| p.extra_mib > *w) {
            worst_memory = Some(((*key).to_string(), p.extra_mib));
        }
        let (pp, rr) = (prec.unwrap_or(1.0), rec.unwrap_or(1.0));
        results.push(PageResult {
            key: (*key).to_string(),
            lang: r.lang.clone(),
            precision: pp,
            recall: rr,
            f1: if pp + rr > 0.0 {
                2.0 * pp * rr / (pp + rr)
            } else {
                0.0
            },
            title_f1: title.map(|t| t.1),
            authors_f1: authors,
            date_ok: date,
            got_title: p.title.clone(),
            want_title: r.title.clone(),
            got_authors: p.authors.clone(),
            want_authors: r.authors.clone(),
            got_date: p.date.clone(),
            want_date: r.published.clone().unwrap_or_default(),
            cpu_ms: ms,
            extra_mib: p.extra_mib,
        });
    }
    let mut by_lang: Vec<(String, Scores)> = groups
        .iter()
        .map(|(k, a)| ((*k).to_string(), a.scores()))
        .collect();
    by_lang.sort_by_key(|(k, _)| match k.as_str() {
        "de" => 0,
        "en" => 1,
        _ => 2,
    });
    let row = ExtractorRow {
        name: name.to_string(),
        all: all.scores(),
        by_lang,
        pages_per_cpu_sec: if cpu > 0.0 {
            preds.len() as f64 / cpu
        } else {
            0.0
        },
        cpu_secs: cpu,
        worst_page,
        worst_memory,
    };
    (row, results)
}

// ---------------------------------------------------------------- measuring

/// CPU seconds used by this thread so far (`CLOCK_THREAD_CPUTIME_ID`).
fn thread_cpu_secs() -> f64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}

fn status_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
}

/// Reset the peak resident set to the current one and return it (MiB).
fn reset_peak_rss() -> Option<f64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    status_mib("VmRSS:")
}

fn peak_rss_mib() -> Option<f64> {
    status_mib("VmHWM:")
}

/// A 10 MB page: a long article inside deep layout, navigation and link
/// lists, a large inline script and a JSON-LD blob.
pub fn synthetic_html(target_bytes: usize) -> String {
    let mut s = String::with_capacity(target_bytes + 4096);
    s.push_str("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>A long page - Example</title>");
    s.push_str("<script type=\"application/ld+json\">{\"@type\":\"NewsArticle\",\"headline\":\"A long page\",\"articleBody\":\"");
    for _ in 0..2000 {
        s.push_str("Filler text of a structured data blob. ");
    }
    s.push_str("\"}</script><script>var state = [");
    for i in 0..20_000 {
        s.push_str(&format!("{{\"id\":{i},\"t\":\"<div>x</div>\"}},"));
    }
    s.push_str("0];</script></head><body><nav><ul>");
    for i in 0..2000 {
        s.push_str(&format!("<li><a href=\"/s/{i}\">Section {i}</a></li>"));
    }
    s.push_str("</ul></nav><main><article><h1>A long page</h1>");
    let mut i = 0usize;
    while s.len() < target_bytes {
        i += 1;
        s.push_str("<div class=\"wrap\"><div><section>");
        s.push_str(&format!(
            "<p>Paragraph {i} of a very long article, with commas, clauses, and <a href=\"/x/{i}\">a link</a>, written to measure how the extractor copes with size; it goes on for a while.</p>"
        ));
        if i.is_multiple_of(10) {
            s.push_str("<ul class=\"related\"><li><a href=\"/r\">Related one</a></li><li><a href=\"/r2\">Related two</a></li></ul>");
        }
        s.push_str("</section></div></div>");
    }
    s.push_str("</article></main><footer>Footer</footer></body></html>");
    s
}

fn synthetic_page() -> SyntheticResult {
    let html = synthetic_html(10 << 20);
    let before = reset_peak_rss();
    let t0 = thread_cpu_secs();
    let article = newsflow_parse::extract(&html, Some("https://example.org/long"));
    let t1 = thread_cpu_secs();
    let extra = match (before, peak_rss_mib()) {
        (Some(b), Some(p)) => (p - b).max(0.0),
        _ => 0.0,
    };
    drop(article);
    SyntheticResult {
        bytes: html.len(),
        cpu_ms: (t1 - t0) * 1000.0,
        extra_mib: extra,
    }
}

// ---------------------------------------------------------------- trafilatura

#[derive(Debug, Deserialize)]
struct TrafOut {
    key: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    cpu: f64,
    #[serde(default)]
    cpu_body_only: f64,
}

/// Run the helper script on the decoded pages; returns predictions with
/// metadata, and pages/CPU-s of body-only extraction.
fn run_trafilatura(
    root: &Path,
    pages: &[(String, String)],
    refs: &HashMap<String, Reference>,
) -> anyhow::Result<(Vec<Prediction>, f64)> {
    let script = root.join("scripts/eval_extract/trafilatura_run.py");
    if !script.is_file() {
        bail!(
            "{} not found: run from the repository root or set the repository root",
            script.display()
        );
    }
    let target = root.join("tools/py-trafilatura");
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    let mut child = Command::new(&python)
        .arg(&script)
        .arg("--target")
        .arg(&target)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot start {python} (set PYTHON to a Python 3 interpreter)"))?;
    let mut stdin = child.stdin.take().context("no stdin")?;
    let input: Vec<String> = pages
        .iter()
        .map(|(key, html)| {
            serde_json::json!({"key": key, "url": refs[key].url, "html": html}).to_string()
        })
        .collect();
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        for line in input {
            stdin.write_all(line.as_bytes())?;
            stdin.write_all(b"\n")?;
        }
        Ok(())
    });
    let stdout = child.stdout.take().context("no stdout")?;
    let mut by_key: HashMap<String, TrafOut> = HashMap::new();
    let started = Instant::now();
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let out: TrafOut = serde_json::from_str(&line)
            .with_context(|| format!("bad line from the trafilatura helper: {line:.200}"))?;
        by_key.insert(out.key.clone(), out);
    }
    let status = child.wait()?;
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("writer thread panicked"))??;
    if !status.success() {
        bail!(
            "the trafilatura helper failed ({status}) after {:.0?}",
            started.elapsed()
        );
    }
    let mut preds = Vec::with_capacity(pages.len());
    let mut body_cpu = 0.0;
    for (key, _) in pages {
        let o = by_key
            .remove(key)
            .with_context(|| format!("the trafilatura helper skipped {key}"))?;
        body_cpu += o.cpu_body_only;
        preds.push(Prediction {
            title: o.title.unwrap_or_default(),
            authors: o
                .author
                .map(|a| {
                    a.split(';')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            date: o.date.unwrap_or_default(),
            body: o.text.unwrap_or_default(),
            cpu_secs: o.cpu,
            extra_mib: 0.0,
        });
    }
    let pps = if body_cpu > 0.0 {
        pages.len() as f64 / body_cpu
    } else {
        0.0
    };
    Ok((preds, pps))
}

// ---------------------------------------------------------------- printing

fn row_line(f: &mut fmt::Formatter<'_>, name: &str, s: &Scores) -> fmt::Result {
    writeln!(
        f,
        "| {name} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
        s.pages,
        s.body_f1,
        s.body_precision,
        s.body_recall,
        s.body_accuracy,
        s.title_exact,
        s.title_f1,
        s.authors_f1,
        s.date_day
    )
}

impl fmt::Display for ExtractReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "corpus: {}", self.dir)?;
        writeln!(f)?;
        writeln!(
            f,
            "| extractor | pages | body F1 | P | R | accuracy | title exact | title tok-F1 | authors tok-F1 | date day |"
        )?;
        writeln!(f, "|---|---|---|---|---|---|---|---|---|---|")?;
        let rows: Vec<&ExtractorRow> = std::iter::once(&self.newsflow)
            .chain(self.trafilatura.as_ref())
            .collect();
        for row in &rows {
            row_line(f, &row.name, &row.all)?;
            for (lang, s) in &row.by_lang {
                row_line(f, &format!("{} · {lang}", row.name), s)?;
            }
        }
        writeln!(f)?;
        writeln!(
            f,
            "| extractor | pages/CPU-s | CPU s | worst page | worst extra memory |"
        )?;
        writeln!(f, "|---|---|---|---|---|")?;
        for row in &rows {
            let worst = row
                .worst_page
                .as_ref()
                .map_or("—".to_string(), |(k, ms)| format!("{ms:.1} ms ({k})"));
            let mem = if row.name == "newsflow" {
                row.worst_memory
                    .as_ref()
                    .map_or("—".to_string(), |(k, m)| format!("{m:.1} MiB ({k})"))
            } else {
                "—".to_string()
            };
            writeln!(
                f,
                "| {} | {:.1} | {:.3} | {worst} | {mem} |",
                row.name, row.pages_per_cpu_sec, row.cpu_secs
            )?;
        }
        if let Some(p) = self.trafilatura_with_metadata_pages_per_cpu_sec {
            writeln!(f)?;
            writeln!(
                f,
                "trafilatura pages/CPU-s: {:.1} body only (its row and the ratio), {p:.1} with metadata (its worst page)",
                self.trafilatura
                    .as_ref()
                    .map_or(0.0, |t| t.pages_per_cpu_sec)
            )?;
        }
        if let Some(r) = self.speed_ratio {
            writeln!(f, "speed ratio newsflow / trafilatura: {r:.1}×")?;
        }
        let s = &self.synthetic_10mb;
        writeln!(
            f,
            "synthetic page of {:.1} MB: {:.1} ms CPU, {:.1} MiB extra memory",
            s.bytes as f64 / 1e6,
            s.cpu_ms,
            s.extra_mib
        )?;
        if !self.worst_pages.is_empty() {
            writeln!(f)?;
            writeln!(f, "worst pages (newsflow):")?;
            for p in &self.worst_pages {
                writeln!(
                    f,
                    "- {} [{}] body P {:.2} R {:.2} F1 {:.2}; {:.1} ms, {:.1} MiB",
                    p.key, p.lang, p.precision, p.recall, p.f1, p.cpu_ms, p.extra_mib
                )?;
                if p.title_f1.is_some_and(|t| t < 1.0) {
                    writeln!(
                        f,
                        "    title: got {:?} want {:?}",
                        p.got_title, p.want_title
                    )?;
                }
                if p.authors_f1.is_some_and(|t| t < 1.0) {
                    writeln!(
                        f,
                        "    authors: got {:?} want {:?}",
                        p.got_authors, p.want_authors
                    )?;
                }
                if p.date_ok == Some(false) {
                    writeln!(f, "    date: got {:?} want {:?}", p.got_date, p.want_date)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_scoring_follows_the_corpus_method() {
        assert_eq!(
            body_scores("a b c d e", "a b c d e"),
            (Some(1.0), Some(1.0), true)
        );
        // Empty prediction: recall 0, precision undefined.
        assert_eq!(body_scores("a b c d e", ""), (None, Some(0.0), false));
        // Short texts give one shorter shingle.
        assert_eq!(body_scores("a b", "a b"), (Some(1.0), Some(1.0), true));
        let (p, r, _) = body_scores("a b c d e", "a b c d x");
        assert_eq!((p, r), (Some(0.5), Some(0.5)));
        // Punctuation and paragraph breaks do not count.
        assert_eq!(
            body_scores("a, b\n\nc d", "a b c d."),
            (Some(1.0), Some(1.0), true)
        );
    }

    #[test]
    fn metadata_scoring() {
        assert!((token_f1("Jane Doe", "JANE DOE") - 1.0).abs() < 1e-9);
        assert!((token_f1("Jane Doe", "Jane") - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(day_of("2024-05-03 15:47:42+00:00"), Some("2024-05-03"));
        assert_eq!(day_of("2024-05-03T15:47:42+00:00"), Some("2024-05-03"));
        assert_eq!(day_of(""), None);
        assert_eq!(exact_norm("A\u{a0} b"), "A b");
    }
}
