//! `newsflow extract` and `newsflow annotate`: the parse and enrich logic on
//! files, with no broker.

use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::{Context as _, bail};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Extract one HTML file: decode its bytes (BOM, then `<meta>`, then
/// detection, as the fetcher does) and return the parsed article with a
/// `"file"` field.
pub fn extract_file(file: &str, url: Option<&str>) -> anyhow::Result<Value> {
    let bytes = if file == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).context("cannot read stdin")?;
        buf
    } else {
        std::fs::read(Path::new(file)).with_context(|| format!("cannot read {file}"))?
    };
    let bytes = maybe_gunzip(bytes);
    let tld = url.and_then(url_tld);
    let (html, _, _) = newsflow_fetch::decode_html(&bytes, None, tld.as_deref());
    let article = newsflow_parse::extract(&html, url);
    let mut value = serde_json::to_value(&article)?;
    if let Value::Object(map) = &mut value {
        map.insert("file".into(), Value::String(file.to_string()));
    }
    Ok(value)
}

fn url_tld(url: &str) -> Option<String> {
    let host = url.split("://").nth(1)?.split(['/', ':', '?']).next()?;
    host.rsplit('.').next().map(str::to_string)
}

/// Corpus pages are stored gzipped; accept them as they are.
fn maybe_gunzip(bytes: Vec<u8>) -> Vec<u8> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        let mut decoder = flate2::read::GzDecoder::new(&bytes[..]);
        if std::io::Read::read_to_end(&mut decoder, &mut out).is_ok() {
            return out;
        }
    }
    bytes
}

#[derive(Deserialize)]
struct AnnotateInput {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    body_text: Option<String>,
    #[serde(default)]
    lang_hint: Option<String>,
    #[serde(default)]
    article: Option<Box<AnnotateInput>>,
    #[serde(default)]
    article_id: Option<String>,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    published: Option<String>,
}

/// Annotate one JSON line: `{"id","text","lang"?}`, a parsed article
/// (`body_text`), or a `parsed` event (`{"article":{…}}`). The output
/// carries `"id"` and the enrichment; offsets index the given text.
pub fn annotate_line(line: &str, enrich: &newsflow_enrich::Enrich) -> anyhow::Result<Value> {
    let input: AnnotateInput = serde_json::from_str(line).context("not a JSON object")?;
    let id = input
        .id
        .clone()
        .or_else(|| input.article_id.clone().map(Value::String))
        .or_else(|| input.file.clone().map(Value::String))
        .or_else(|| input.url.clone().map(Value::String))
        .or_else(|| {
            input
                .article
                .as_ref()
                .and_then(|a| a.url.clone())
                .map(Value::String)
        })
        .unwrap_or(Value::Null);
    // The publication date resolves relative dates ("hier", "last Tuesday").
    let (text, lang, published) = if let Some(text) = input.text {
        (text, input.lang, input.published)
    } else if let Some(body) = input.body_text {
        (body, input.lang.or(input.lang_hint), input.published)
    } else if let Some(article) = input.article {
        match article.body_text {
            Some(body) => (body, article.lang_hint, article.published),
            None => bail!("`article` has no `body_text`"),
        }
    } else {
        bail!("expected a `text` or `body_text` field");
    };
    let enrichment = enrich.annotate_with(&text, lang.as_deref(), published.as_deref());
    let mut out = Map::new();
    out.insert("id".into(), id);
    if let Value::Object(fields) = serde_json::to_value(&enrichment)? {
        out.extend(fields);
    }
    Ok(Value::Object(out))
}

/// Run `annotate_line` over a reader, writing one line per input line; a
/// bad line gives `{"id":…,"error":…}` and the run goes on.
pub fn annotate_stream(
    input: impl BufRead,
    mut output: impl Write,
    enrich: &newsflow_enrich::Enrich,
) -> anyhow::Result<usize> {
    let mut errors = 0;
    for (n, line) in input.lines().enumerate() {
        let line = line.context("cannot read input")?;
        if line.trim().is_empty() {
            continue;
        }
        let value = match annotate_line(&line, enrich) {
            Ok(v) => v,
            Err(e) => {
                errors += 1;
                serde_json::json!({ "line": n + 1, "error": format!("{e:#}") })
            }
        };
        serde_json::to_writer(&mut output, &value)?;
        output.write_all(b"\n")?;
    }
    Ok(errors)
}
