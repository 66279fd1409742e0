//! The enrich stage's evaluation and benchmark: annotates the gold dev sets
//! (`../shared/gold/dev_{fr,en}.jsonl` beside the repository, or the
//! folder given as the first argument), scores them with the gold set's own
//! scorer (`eval_ner.py`: entities exact span + label, quotes found at 50 %
//! overlap and their speakers, dates exact span and value), and prints the
//! targets table of issue #5, then the speed, start-up time and memory.
//!
//! `cargo run --release -p newsflow-enrich --example eval [GOLD_DIR]`
//!
//! Speed is words (whitespace-separated) per CPU-second of the whole
//! annotation (language, entities, geocoding, quotes, dates, keywords,
//! summary, tone, fingerprint) on one thread, over several passes of both
//! sets; start-up is the first call, which loads every table.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::{Value, json};

/// CPU time of this thread in seconds (Linux `schedstat`).
fn thread_cpu() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|n| n.parse::<f64>().ok())
        })
        .map_or(0.0, |ns| ns / 1e9)
}

/// Peak resident memory in MiB (`VmHWM`).
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|k| k.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn load(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("gold line is JSON"))
        .collect()
}

fn annotate(doc: &Value) -> Value {
    let e = newsflow_enrich::annotate_with(
        doc["text"].as_str().unwrap_or_default(),
        doc["lang"].as_str(),
        doc["published"].as_str(),
    );
    json!({"id": doc["id"], "entities": e.entities, "quotes": e.quotes, "dates": e.dates})
}

fn main() {
    let gold_dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/gold"));
    let gold_dir = gold_dir.canonicalize().unwrap_or(gold_dir);
    let scorer = gold_dir.join("eval_ner.py");

    // Start-up: the first call loads the gazetteers and the place table.
    let t0 = Instant::now();
    let _ = newsflow_enrich::annotate_with(
        "Bamako, 18 juin (AMAP) – Le ministre a parlé.",
        Some("fr"),
        Some("2025-06-18"),
    );
    let startup = t0.elapsed().as_secs_f64();

    let tmp = std::env::temp_dir().join(format!("newsflow-eval-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let mut rows: Vec<(String, Value)> = Vec::new();
    let mut docs_all: Vec<Value> = Vec::new();
    for lang in ["fr", "en"] {
        let gold = gold_dir.join(format!("dev_{lang}.jsonl"));
        let docs = load(&gold);
        let pred_path = tmp.join(format!("pred_{lang}.jsonl"));
        let preds: Vec<String> = docs.iter().map(|d| annotate(d).to_string()).collect();
        std::fs::write(&pred_path, preds.join("\n") + "\n").expect("write predictions");
        let out = tmp.join(format!("score_{lang}.json"));
        let status = Command::new("python3")
            .arg(&scorer)
            .arg(&pred_path)
            .arg(&gold)
            .arg("--json")
            .arg(&out)
            .output()
            .unwrap_or_else(|e| panic!("cannot run python3 {}: {e}", scorer.display()));
        if !status.status.success() {
            panic!(
                "{} failed: {}",
                scorer.display(),
                String::from_utf8_lossy(&status.stderr)
            );
        }
        let score: Value = serde_json::from_str(&std::fs::read_to_string(&out).expect("score"))
            .expect("score JSON");
        rows.push((lang.to_string(), score));
        docs_all.extend(docs);
    }

    let f = |v: &Value| v.as_f64().unwrap_or(0.0);
    println!("newsflow-enrich evaluation on {}", gold_dir.display());
    println!();
    println!("| figure | fr | en | target |");
    println!("|---|---|---|---|");
    let line = |name: &str, get: &dyn Fn(&Value) -> f64, target: &str| {
        println!(
            "| {name} | {:.3} | {:.3} | {target} |",
            get(&rows[0].1),
            get(&rows[1].1)
        );
    };
    line(
        "entity F1 (exact span + label)",
        &|s| f(&s["entities"]["micro"]["f1"]),
        ">= 0.85",
    );
    for label in ["PER", "ORG", "LOC"] {
        line(
            &format!("  {label} F1 (P / R in detail below)"),
            &|s| f(&s["entities"]["per_label"][label]["f1"]),
            "",
        );
    }
    line(
        "quotes found (recall)",
        &|s| f(&s["quotes"]["recall"]),
        ">= 0.90",
    );
    line(
        "speaker accuracy on found quotes",
        &|s| f(&s["quotes"]["speaker_accuracy"]),
        ">= 0.90",
    );
    line(
        "date value accuracy (matched spans)",
        &|s| f(&s["dates"]["value_accuracy"]),
        ">= 0.90",
    );
    line("date span F1", &|s| f(&s["dates"]["f1"]), "");
    println!();
    for (lang, s) in &rows {
        println!("{lang}: entities P/R/F1 by label");
        for label in ["PER", "ORG", "LOC"] {
            let m = &s["entities"]["per_label"][label];
            println!(
                "  {label}  P {:.3}  R {:.3}  F1 {:.3}  (tp {} fp {} fn {})",
                f(&m["precision"]),
                f(&m["recall"]),
                f(&m["f1"]),
                m["tp"],
                m["fp"],
                m["fn"]
            );
        }
        let q = &s["quotes"];
        println!(
            "  quotes: gold {} predicted {} found {}; speakers right on attributed {:.3}, on unattributed {:.3}",
            q["gold"],
            q["predicted"],
            q["found"],
            f(&q["speaker_accuracy_attributed"]),
            f(&q["speaker_accuracy_null"])
        );
    }

    // Speed: several passes over both sets on this thread.
    let words: usize = docs_all
        .iter()
        .map(|d| {
            d["text"]
                .as_str()
                .unwrap_or_default()
                .split_whitespace()
                .count()
        })
        .sum();
    let passes = 5;
    let cpu0 = thread_cpu();
    let wall0 = Instant::now();
    for _ in 0..passes {
        for d in &docs_all {
            std::hint::black_box(annotate(d));
        }
    }
    let cpu = (thread_cpu() - cpu0).max(1e-9);
    let wall = wall0.elapsed().as_secs_f64();
    println!();
    println!("| benchmark | value | target |");
    println!("|---|---|---|");
    println!(
        "| words per CPU-second, whole annotation | {:.0} | >= 40k |",
        (words * passes) as f64 / cpu
    );
    println!(
        "| words per wall-second (same run) | {:.0} | |",
        (words * passes) as f64 / wall.max(1e-9)
    );
    println!(
        "| start-up (first call, loads all data) | {:.3} s | < 1 s |",
        startup
    );
    println!(
        "| peak resident memory | {:.0} MiB | < 300 MB |",
        peak_rss_mib()
    );
    println!(
        "({} documents, {} words, {passes} passes, {:.2} CPU-s, {:.2} s wall)",
        docs_all.len(),
        words,
        cpu,
        wall
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
