//! The checked-in expected output of the seed matches the published schema.

use serde_json::Value;

use crate::util;

#[test]
fn the_seed_expected_output_matches_the_enriched_schema() {
    let text = std::fs::read_to_string(util::repo().join("seeds/expected/enriched.json")).unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    let path = util::repo().join("schemas/enriched.v1.json");
    let mut schemas = boon::Schemas::new();
    let index = boon::Compiler::new()
        .compile(path.to_str().unwrap(), &mut schemas)
        .unwrap();
    if let Err(e) = schemas.validate(&value, index) {
        panic!("seeds/expected/enriched.json does not match the schema: {e:#}");
    }
}
