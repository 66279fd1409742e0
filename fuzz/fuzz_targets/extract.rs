//! Any bytes, read as (lossy) UTF-8, must extract without panicking; the
//! URL comes from the same input so that title, canonical and date rules
//! that read it are exercised too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (url, html) = match text.split_once('\n') {
        Some((first, rest)) if first.len() < 200 => (Some(first), rest),
        _ => (None, text.as_ref()),
    };
    let article = newsflow_parse::extract(html, url);
    // The body is normalised: paragraphs separated by one blank line.
    assert!(!article.body_text.contains("\n\n\n"));
});
