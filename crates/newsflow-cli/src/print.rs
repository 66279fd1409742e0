//! Human-readable output of enriched articles (`up --demo`, `tail`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use newsflow_core::{Enriched, Envelope};

/// A multi-line summary of an enriched article, body included.
pub fn article(env: &Envelope<Enriched>, with_body: bool) -> String {
    let a = &env.data.article;
    let e = &env.data.enrichment;
    let mut out = String::new();
    let title = a.title.as_deref().unwrap_or("(no title)");
    let _ = writeln!(out, "━━ {title}");
    let _ = writeln!(
        out,
        "   id         {}   trace {}",
        env.article_id, env.trace_id
    );
    let _ = writeln!(out, "   url        {}", a.url);
    let _ = writeln!(
        out,
        "   published  {}",
        a.published.as_deref().unwrap_or("-")
    );
    let _ = writeln!(out, "   language   {} ({:.2})", e.lang, e.lang_confidence);
    let _ = writeln!(
        out,
        "   authors    {}",
        if a.authors.is_empty() {
            "-".into()
        } else {
            a.authors.join(", ")
        }
    );
    let _ = writeln!(
        out,
        "   site       {}",
        a.site_name.as_deref().unwrap_or("-")
    );
    if let Some(p) = &a.original_publisher {
        let _ = writeln!(out, "   original   {p}");
    }
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    for ent in &e.entities {
        *counts
            .entry((format!("{:?}", ent.label), ent.canonical.clone()))
            .or_default() += 1;
    }
    let mut entities: Vec<_> = counts.into_iter().collect();
    entities.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let list: Vec<String> = entities
        .iter()
        .map(|((label, name), n)| {
            if *n > 1 {
                format!("{label} {name} ×{n}")
            } else {
                format!("{label} {name}")
            }
        })
        .collect();
    let _ = writeln!(
        out,
        "   entities   {}",
        if list.is_empty() {
            "-".into()
        } else {
            list.join(", ")
        }
    );
    if with_body {
        let _ = writeln!(out);
        for paragraph in a.body_text.split("\n\n") {
            let _ = writeln!(out, "   {paragraph}\n");
        }
    }
    out
}

/// One line per article, for `newsflow tail`.
pub fn line(env: &Envelope<Enriched>) -> String {
    let a = &env.data.article;
    format!(
        "{}  {}  {}  {}  {}",
        env.article_id,
        a.published.as_deref().unwrap_or("-"),
        env.data.enrichment.lang,
        a.title.as_deref().unwrap_or("(no title)"),
        a.url
    )
}
