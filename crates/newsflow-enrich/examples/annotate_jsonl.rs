//! Throwaway driver for `shared/gold/eval_ner.py`: reads JSON lines
//! `{"id","text","lang"?}` on stdin and writes `{"id","lang","entities":[…]}`
//! lines on stdout.
//!
//! `cargo run -q -p newsflow-enrich --example annotate_jsonl < dev_fr.jsonl > pred.jsonl`

use std::io::{BufRead, Write};

fn main() {
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout());
    for (n, line) in stdin.lock().lines().enumerate() {
        let line = line.expect("read stdin");
        if line.trim().is_empty() {
            continue;
        }
        let doc: serde_json::Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("line {}: {e}", n + 1);
                continue;
            }
        };
        let text = doc["text"].as_str().unwrap_or_default();
        let enrichment = newsflow_enrich::annotate(text, doc["lang"].as_str());
        let record = serde_json::json!({
            "id": doc["id"],
            "lang": enrichment.lang,
            "entities": enrichment.entities,
        });
        writeln!(out, "{record}").expect("write stdout");
    }
}
