//! Prints the found quotes whose predicted speaker differs from the gold
//! one, with the sentence around each quote, to sort speaker errors into
//! classes. Matching is the scorer's (`eval_ner.py`): a gold quote is found
//! by the prediction overlapping it most, by at least half its length.
//!
//! `cargo run --release -p newsflow-enrich --example speaker_errors [GOLD_DIR] [fr|en]`
//!
//! Each mismatch line says whether the gold speaker is among the canonical
//! names the entity pass produced (`gold-in-entities: no` means the error
//! is one of naming, not of attribution).

use std::path::{Path, PathBuf};

use serde_json::Value;

fn norm(s: Option<&str>) -> Option<String> {
    s.map(|s| {
        s.replace('\u{2019}', "'")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    })
}

fn main() {
    let mut args = std::env::args().skip(1);
    let gold_dir = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/gold"));
    let only = args.next();
    for lang in ["fr", "en"] {
        if only.as_deref().is_some_and(|o| o != lang) {
            continue;
        }
        let path = gold_dir.join(format!("dev_{lang}.jsonl"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let (mut found, mut wrong) = (0, 0);
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let doc: Value = serde_json::from_str(line).expect("gold line is JSON");
            let body = doc["text"].as_str().unwrap_or_default();
            let chars: Vec<char> = body.chars().collect();
            let e = newsflow_enrich::annotate_with(
                body,
                doc["lang"].as_str(),
                doc["published"].as_str(),
            );
            let canon: Vec<String> = e
                .entities
                .iter()
                .filter_map(|x| norm(Some(&x.canonical)))
                .collect();
            let gold = doc["quotes"].as_array().cloned().unwrap_or_default();
            // Greedy one-to-one matching, largest overlaps first.
            let mut pairs = Vec::new();
            for (gi, g) in gold.iter().enumerate() {
                let (gs, ge) = (
                    g["start"].as_u64().unwrap_or(0) as usize,
                    g["end"].as_u64().unwrap_or(0) as usize,
                );
                for (pi, p) in e.quotes.iter().enumerate() {
                    let ov = ge.min(p.end) as isize - gs.max(p.start) as isize;
                    if ov > 0 && ov as f64 >= 0.5 * (ge - gs) as f64 {
                        pairs.push((ov, gi, pi));
                    }
                }
            }
            pairs.sort_by_key(|p| std::cmp::Reverse(p.0));
            let (mut ug, mut up) = (vec![false; gold.len()], vec![false; e.quotes.len()]);
            for (_, gi, pi) in pairs {
                if ug[gi] || up[pi] {
                    continue;
                }
                ug[gi] = true;
                up[pi] = true;
                found += 1;
                let g = &gold[gi];
                let p = &e.quotes[pi];
                let gs = norm(g["speaker"].as_str());
                let ps = norm(p.speaker.as_deref());
                if gs == ps {
                    continue;
                }
                wrong += 1;
                let from = p.start.saturating_sub(220);
                let to = (p.end + 160).min(chars.len());
                let ctx: String = chars[from..p.start]
                    .iter()
                    .chain(['⟦'].iter())
                    .chain(chars[p.start..p.end].iter().take(60))
                    .chain(['⟧'].iter())
                    .chain(chars[p.end..to].iter())
                    .collect::<String>()
                    .replace('\n', "¶");
                let in_ents = gs.as_ref().is_none_or(|g| canon.contains(g));
                println!(
                    "{} @{}  gold={:?} pred={:?} gold-in-entities: {}\n    {}\n",
                    doc["id"].as_str().unwrap_or_default(),
                    p.start,
                    g["speaker"].as_str(),
                    p.speaker,
                    if in_ents { "yes" } else { "no" },
                    ctx
                );
            }
        }
        println!("== {lang}: {wrong} wrong speakers out of {found} found quotes\n");
    }
}
