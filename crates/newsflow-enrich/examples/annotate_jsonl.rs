//! Driver for `shared/gold/eval_ner.py` and for eyeballing output: reads
//! JSON lines `{"id","text","lang"?,"published"?}` on stdin and writes one
//! enrichment line `{"id", …}` per input on stdout.
//!
//! `cargo run -q --release -p newsflow-enrich --example annotate_jsonl < dev_fr.jsonl > pred.jsonl`

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
        let enrichment =
            newsflow_enrich::annotate_with(text, doc["lang"].as_str(), doc["published"].as_str());
        let mut record = serde_json::json!({ "id": doc["id"] });
        if let (Some(map), serde_json::Value::Object(fields)) = (
            record.as_object_mut(),
            serde_json::to_value(&enrichment).expect("serialise"),
        ) {
            map.extend(fields);
            // The scorer expects the lists even when empty.
            for key in ["quotes", "dates"] {
                map.entry(key).or_insert_with(|| serde_json::json!([]));
            }
        }
        writeln!(out, "{record}").expect("write stdout");
    }
}
