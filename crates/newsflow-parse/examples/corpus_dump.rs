//! Extract every page of a folder of decoded pages (`KEY.html`, with the
//! page URL in `KEY.url`) and print one JSON line per page: the fields the
//! corpus scores (title, authors, date, body), for comparing two versions.
//!
//! ```sh
//! cargo run --release -p newsflow-parse --example corpus_dump -- DIR > out.jsonl
//! ```

fn main() {
    let dir = std::env::args().nth(1).expect("a folder of KEY.html files");
    let mut keys: Vec<String> = std::fs::read_dir(&dir)
        .expect("readable folder")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".html").map(str::to_string)
        })
        .collect();
    keys.sort();
    for key in keys {
        let html = std::fs::read_to_string(format!("{dir}/{key}.html")).expect("utf-8 page");
        let url = std::fs::read_to_string(format!("{dir}/{key}.url")).unwrap_or_default();
        let a = newsflow_parse::extract(&html, Some(url.trim()));
        let line = serde_json::json!({
            "key": key,
            "title": a.title,
            "authors": a.authors,
            "published": a.published,
            "body": a.body_text,
        });
        println!("{line}");
    }
}
