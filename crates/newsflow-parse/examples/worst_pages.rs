//! Time and memory of `extract` on pathological pages (issue #4: every page
//! up to 10 MB in under 100 ms and 64 MB of extra memory).
//!
//! ```sh
//! cargo run --release -p newsflow-parse --example worst_pages -- [--mb 10] [--repeat 5] [KIND…]
//! ```
//!
//! Each kind of page runs in a process of its own (this program again,
//! with `--one`), so that no page inherits memory another one freed. CPU
//! time is the thread's (`/proc/thread-self/schedstat`), the fastest of
//! the repeats; extra memory is the resident-set peak during the first
//! extraction above the resident set just before it (peak reset through
//! `/proc/self/clear_refs`): the method of `newsflow bench extract`, which
//! measures the `cli-synthetic` page after the corpus's small pages.

#[path = "../tests/support/pages.rs"]
mod pages;

use std::time::Instant;

fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn status_kib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
}

fn main() {
    let mut mb = 10usize;
    let mut repeat = 5usize;
    let mut kinds: Vec<String> = Vec::new();
    let mut one = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--one" => one = true,
            "--mb" => mb = args.next().and_then(|v| v.parse().ok()).expect("--mb N"),
            "--repeat" => {
                repeat = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--repeat N");
            }
            k => kinds.push(k.to_string()),
        }
    }
    if kinds.is_empty() {
        kinds = pages::KINDS.iter().map(|k| (*k).to_string()).collect();
    }
    if one {
        for kind in &kinds {
            measure(kind, mb, repeat);
        }
        return;
    }
    println!("| page | MB | CPU ms (min) | CPU ms (max) | wall ms (min) | extra MiB | body KB |");
    println!("|---|---|---|---|---|---|---|");
    let exe = std::env::current_exe().expect("own path");
    let mut worst = (String::new(), 0.0f64);
    let mut worst_mem = (String::new(), 0.0f64);
    for kind in &kinds {
        let out = std::process::Command::new(&exe)
            .args([
                "--one",
                "--mb",
                &mb.to_string(),
                "--repeat",
                &repeat.to_string(),
                kind,
            ])
            .output()
            .expect("run one page");
        let row = String::from_utf8_lossy(&out.stdout).trim().to_string();
        println!("{row}");
        let cols: Vec<&str> = row.split('|').map(str::trim).collect();
        let num = |i: usize| {
            cols.get(i)
                .and_then(|c| c.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        if num(3) > worst.1 {
            worst = (kind.clone(), num(3));
        }
        if num(6) > worst_mem.1 {
            worst_mem = (kind.clone(), num(6));
        }
    }
    println!(
        "worst: {} at {:.1} ms CPU; most memory: {} at {:.1} MiB",
        worst.0, worst.1, worst_mem.0, worst_mem.1
    );
}

/// Time one kind of page and print its row.
fn measure(kind: &str, mb: usize, repeat: usize) {
    // Compile the lazily built patterns before anything is timed, on small
    // pages of every kind (as the corpus comes before the synthetic page
    // in `newsflow bench extract`).
    for k in pages::KINDS {
        let _ = newsflow_parse::extract(&pages::page(k, 20_000), None);
    }
    {
        let html = pages::page(kind, mb << 20);
        let mut cpu = Vec::new();
        let mut wall = Vec::new();
        let mut extra = None;
        let mut body = 0usize;
        for _ in 0..repeat.max(1) {
            std::fs::write("/proc/self/clear_refs", "5").ok();
            let before = status_kib("VmRSS:").unwrap_or(0.0);
            let c0 = thread_cpu_ns();
            let w0 = Instant::now();
            let a = newsflow_parse::extract(&html, Some("https://example.org/long"));
            let w = w0.elapsed().as_secs_f64() * 1e3;
            let c = (thread_cpu_ns() - c0) as f64 / 1e6;
            let peak = status_kib("VmHWM:").unwrap_or(0.0);
            body = a.body_text.len();
            drop(a);
            cpu.push(c);
            wall.push(w);
            extra.get_or_insert((peak - before) / 1024.0);
        }
        let min = cpu.iter().copied().fold(f64::INFINITY, f64::min);
        let max = cpu.iter().copied().fold(0.0, f64::max);
        let wmin = wall.iter().copied().fold(f64::INFINITY, f64::min);
        println!(
            "| {kind} | {:.1} | {min:.1} | {max:.1} | {wmin:.1} | {:.1} | {} |",
            html.len() as f64 / 1e6,
            extra.unwrap_or(0.0),
            body / 1000
        );
    }
}
