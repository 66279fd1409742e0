//! PostgreSQL's full-text vectors and queries, assembled here from words
//! the server stems.
//!
//! `to_tsvector` spent most of its time in the server's text parser (about
//! 0.6 ms of server CPU per article, half of what storing one cost), and
//! it ran once per article although a batch repeats the same few thousand
//! words. So the store splits the folded text into words itself, the way
//! the query terms and SQLite's index split it (runs of letters and
//! digits), asks the server for the lexemes of the words it has not seen
//! yet (`to_tsvector` on each word alone: the configuration's own
//! dictionaries, stop words and stemmer, so the lexemes are the server's),
//! keeps them in a bounded cache, and sends each vector in PostgreSQL's
//! binary format. Queries take their lexemes from the same cache, so a
//! word is always reduced the same way in articles and in queries.
//!
//! Positions and weights are those `setweight(to_tsvector(title), 'A') ||
//! setweight(to_tsvector(body), 'B')` gives: one position per word, stop
//! words included, the body's after the title's.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, RwLock};

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo};
use sqlx::{Encode, PgPool, Postgres, Row, Type};

use crate::StoreError;

/// PostgreSQL's limits on a tsvector (`ts_type.h`): the longest lexeme in
/// bytes, the total bytes of its lexemes, positions per lexeme, and the
/// largest position.
const MAX_LEXEME_BYTES: usize = 2047;
const MAX_TOTAL_BYTES: usize = (1 << 20) - 1;
const MAX_POSITIONS: usize = 255;
const MAX_POSITION: u32 = 16383;

/// Words whose lexemes are cached; past this the cache starts again
/// (news brings new names every day, so it would otherwise grow forever).
const CACHE_WORDS: usize = 500_000;

/// Weight bits of a position: A (title) and B (body).
const WEIGHT_A: u16 = 3 << 14;
const WEIGHT_B: u16 = 2 << 14;

/// A fast hash for the short words of the lexeme maps (FxHash, from a
/// random seed per map so that crafted words cannot pile into one bucket
/// of every store): SipHash was a tenth of a batch's client time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FxBuild(u64);

impl Default for FxBuild {
    fn default() -> Self {
        Self(RandomState::new().build_hasher().finish())
    }
}

impl BuildHasher for FxBuild {
    type Hasher = FxHasher;
    fn build_hasher(&self) -> FxHasher {
        FxHasher(self.0)
    }
}

/// See [`FxBuild`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            self.add(u64::from_le_bytes(b));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A hash map with [`FxBuild`].
pub(crate) type FxMap<K, V> = HashMap<K, V, FxBuild>;
/// A hash set with [`FxBuild`].
pub(crate) type FxSet<K> = HashSet<K, FxBuild>;

/// The words of folded text: runs of letters and digits.
fn words(folded: &str) -> impl Iterator<Item = &str> {
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && w.len() <= MAX_LEXEME_BYTES)
}

/// A tsvector in PostgreSQL's binary format, ready to bind.
#[derive(Debug, Clone)]
pub(crate) struct TsVector(Vec<u8>);

impl TsVector {
    /// The vector without lexemes.
    pub(crate) fn empty() -> Self {
        Self(vec![0; 4])
    }
}

impl Type<Postgres> for TsVector {
    fn type_info() -> PgTypeInfo {
        // tsvector is built in, so its OID is fixed.
        PgTypeInfo::with_oid(Oid(3614))
    }
}

impl PgHasArrayType for TsVector {
    fn array_type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(3643))
    }
}

impl Encode<'_, Postgres> for TsVector {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        buf.extend_from_slice(&self.0);
        Ok(IsNull::No)
    }
}

/// Lexemes of each word, per text-search configuration: what the server's
/// `to_tsvector(config, word)` gives (none for a stop word). Shared by the
/// clones of a store.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lexicon {
    cache: Arc<RwLock<Lexemes>>,
}

/// The lexemes of words, per configuration, then per word.
#[derive(Debug, Default)]
pub(crate) struct Lexemes {
    words: usize,
    /// Bumped whenever the cache is emptied.
    generation: u64,
    by_config: FxMap<&'static str, WordLexemes>,
}

/// The lexemes of each word of one configuration.
type WordLexemes = FxMap<Box<str>, Arc<[String]>>;

impl Lexemes {
    fn get(&self, config: &str, word: &str) -> Option<&Arc<[String]>> {
        self.by_config.get(config)?.get(word)
    }

    fn insert(&mut self, config: &'static str, word: &str, lexemes: Arc<[String]>) {
        if self
            .by_config
            .entry(config)
            .or_default()
            .insert(word.into(), lexemes)
            .is_none()
        {
            self.words += 1;
        }
    }
}

/// Where [`vector`] and [`query`] find lexemes: the shared cache, and the
/// words fetched for this call in case the cache was emptied meanwhile.
pub(crate) struct View<'a> {
    cache: &'a Lexemes,
    fetched: &'a Lexemes,
}

impl View<'_> {
    /// The words of one configuration: in the cache, and fetched.
    fn of(&self, config: &str) -> (Option<&WordLexemes>, Option<&WordLexemes>) {
        (
            self.cache.by_config.get(config),
            self.fetched.by_config.get(config),
        )
    }

    fn get(&self, config: &str, word: &str) -> Option<&Arc<[String]>> {
        self.cache
            .get(config, word)
            .or_else(|| self.fetched.get(config, word))
    }
}

impl Lexicon {
    /// Call `build` once the lexemes of every `(config, word)` of `wanted`
    /// are at hand: from the cache, or from the server in one query for the
    /// words it lacks.
    pub(crate) async fn with<T>(
        &self,
        pool: &PgPool,
        wanted: &[(&'static str, &str)],
        build: impl FnOnce(&View<'_>) -> T,
    ) -> Result<T, StoreError> {
        let poisoned = || StoreError::Corrupt("lexeme cache poisoned".into());
        let mut fetched = Lexemes::default();
        let mut generation = None;
        loop {
            let missing: Vec<(&'static str, &str)> = {
                let cache = self.cache.read().map_err(|_| poisoned())?;
                if generation == Some(cache.generation) {
                    // Nothing found before was dropped since.
                    return Ok(build(&View {
                        cache: &cache,
                        fetched: &fetched,
                    }));
                }
                generation = Some(cache.generation);
                let mut seen = FxSet::default();
                wanted
                    .iter()
                    .filter(|&&(c, w)| {
                        cache.get(c, w).is_none()
                            && fetched.get(c, w).is_none()
                            && seen.insert((c, w))
                    })
                    .copied()
                    .collect()
            };
            if missing.is_empty() {
                continue;
            }
            let configs: Vec<&str> = missing.iter().map(|(c, _)| *c).collect();
            let words: Vec<&str> = missing.iter().map(|(_, w)| *w).collect();
            let rows = sqlx::query(
                "SELECT u.i, tsvector_to_array(to_tsvector(u.c::regconfig, u.w)) \
                 FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(c, w, i)",
            )
            .bind(&configs)
            .bind(&words)
            .fetch_all(pool)
            .await?;
            for r in &rows {
                let (config, word) = usize::try_from(r.try_get::<i64, _>(0)?)
                    .ok()
                    .and_then(|i| missing.get(i.checked_sub(1)?))
                    .copied()
                    .ok_or_else(|| {
                        StoreError::Corrupt("lexeme query returned a bad index".into())
                    })?;
                let lexemes: Vec<String> = r.try_get(1)?;
                fetched.insert(config, word, lexemes.into());
            }
            let mut cache = self.cache.write().map_err(|_| poisoned())?;
            if cache.words + fetched.words > CACHE_WORDS {
                let generation = cache.generation + 1;
                *cache = Lexemes {
                    generation,
                    ..Lexemes::default()
                };
            }
            for (config, words) in &fetched.by_config {
                for (word, lexemes) in words {
                    cache.insert(config, word, lexemes.clone());
                }
            }
        }
    }
}

/// The `(config, word)` pairs of a text.
pub(crate) fn pairs<'a>(
    config: &'static str,
    folded: &'a str,
) -> impl Iterator<Item = (&'static str, &'a str)> {
    words(folded).map(move |w| (config, w))
}

/// The distinct words of an article with their weighted positions: the
/// folded title's words weighted A, the folded body's B (numbered from 1
/// in each; [`vector`] shifts the body's).
pub(crate) fn positions<'a>(title: &'a str, body: &'a str) -> Vec<(&'a str, Vec<u16>)> {
    let mut index: FxMap<&str, usize> = FxMap::default();
    let mut out: Vec<(&str, Vec<u16>)> = Vec::new();
    let mut push = |w: &'a str, p: u16| {
        let i = *index.entry(w).or_insert_with(|| {
            out.push((w, Vec::new()));
            out.len() - 1
        });
        out[i].1.push(p);
    };
    for (pos, w) in words(title).enumerate() {
        push(w, ((pos + 1).min(MAX_POSITION as usize) as u16) | WEIGHT_A);
    }
    for (pos, w) in words(body).enumerate() {
        push(w, ((pos + 1).min(MAX_POSITION as usize) as u16) | WEIGHT_B);
    }
    out
}

/// The vector of an article from its [`positions`].
pub(crate) fn vector(
    lexemes: &View<'_>,
    config: &'static str,
    by_word: &[(&str, Vec<u16>)],
) -> TsVector {
    let (cache, fetched) = lexemes.of(config);
    // Each lexeme with the positions of a word reduced to it, and its
    // first eight bytes as a big-endian number: sorting on that number
    // first orders as the bytes do (a shorter lexeme, padded with zeros,
    // before a longer one it begins) and leaves few ties for the byte
    // comparison, which took most of the client's time in this function.
    let mut entries: Vec<(u64, &str, &[u16])> = Vec::with_capacity(by_word.len() + 8);
    for (w, ps) in by_word {
        let Some(ls) = cache
            .and_then(|m| m.get(*w))
            .or_else(|| fetched.and_then(|m| m.get(*w)))
        else {
            continue;
        };
        for l in ls
            .iter()
            .filter(|l| !l.is_empty() && l.len() <= MAX_LEXEME_BYTES)
        {
            let mut head = [0u8; 8];
            let n = l.len().min(8);
            head[..n].copy_from_slice(&l.as_bytes()[..n]);
            entries.push((u64::from_be_bytes(head), l.as_str(), ps.as_slice()));
        }
    }
    // Concatenation shifts the body's positions past the title's last
    // lexeme.
    let shift = entries
        .iter()
        .flat_map(|(_, _, ps)| ps.iter())
        .filter(|p| **p & WEIGHT_A == WEIGHT_A)
        .map(|p| u32::from(p & 0x3fff))
        .max()
        .unwrap_or(0);
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    // tsvectorsend's format: count, then per lexeme (in byte order) the
    // text, a NUL, the number of positions and the positions.
    let mut buf = Vec::with_capacity(4 + entries.len() * 16);
    buf.extend_from_slice(&[0; 4]);
    let mut count = 0i32;
    let mut total = 0usize;
    let mut ps: Vec<u16> = Vec::new();
    let mut i = 0;
    while i < entries.len() {
        let lexeme = entries[i].1;
        // Words reduced to one lexeme pool their positions.
        ps.clear();
        while i < entries.len() && entries[i].1 == lexeme {
            ps.extend(entries[i].2.iter().map(|&p| {
                if p & WEIGHT_A == WEIGHT_A {
                    p
                } else {
                    let pos = (u32::from(p & 0x3fff) + shift).min(MAX_POSITION) as u16;
                    pos | WEIGHT_B
                }
            }));
            i += 1;
        }
        if total + lexeme.len() > MAX_TOTAL_BYTES {
            continue;
        }
        total += lexeme.len();
        // Positions strictly increase (the server checks); past the
        // largest one they collapse into it.
        ps.sort_unstable_by_key(|p| p & 0x3fff);
        ps.dedup_by_key(|p| *p & 0x3fff);
        ps.truncate(MAX_POSITIONS);
        buf.extend_from_slice(lexeme.as_bytes());
        buf.push(0);
        buf.extend_from_slice(&(ps.len() as u16).to_be_bytes());
        for p in &ps {
            buf.extend_from_slice(&p.to_be_bytes());
        }
        count += 1;
    }
    buf[..4].copy_from_slice(&count.to_be_bytes());
    TsVector(buf)
}

/// The text of a tsquery matching articles with every term, reduced with
/// each of `configs`: one branch per distinct reduction, OR-ed. Empty when
/// every term is a stop word in every configuration.
pub(crate) fn query(lexemes: &View<'_>, configs: &[&'static str], terms: &[String]) -> String {
    let mut branches: Vec<String> = Vec::new();
    for config in configs {
        let mut parts: Vec<String> = Vec::new();
        for t in terms {
            for w in words(t) {
                for l in lexemes
                    .get(config, w)
                    .map(|l| l.iter())
                    .into_iter()
                    .flatten()
                    .filter(|l| !l.is_empty())
                {
                    let quoted = format!("'{}'", l.replace('\\', "\\\\").replace('\'', "''"));
                    if !parts.contains(&quoted) {
                        parts.push(quoted);
                    }
                }
            }
        }
        if parts.is_empty() {
            continue;
        }
        let branch = format!("({})", parts.join(" & "));
        if !branches.contains(&branch) {
            branches.push(branch);
        }
    }
    branches.join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(entries: &[(&'static str, &str, &[&str])]) -> Lexemes {
        let mut out = Lexemes::default();
        for (c, w, l) in entries {
            out.insert(c, w, l.iter().map(|s| s.to_string()).collect());
        }
        out
    }

    #[test]
    fn lexemes_sharing_their_first_eight_bytes_are_in_byte_order() {
        let words = [
            "presidentielles",
            "presidentiel",
            "president",
            "pr",
            "presidentz",
            "b",
        ];
        let entries: Vec<(&'static str, &str, &[&str])> = words
            .iter()
            .map(|w| ("simple", *w, std::slice::from_ref(w)))
            .collect();
        let l = lex(&entries);
        let none = Lexemes::default();
        let v = vector(
            &View {
                cache: &l,
                fetched: &none,
            },
            "simple",
            &positions("", &words.join(" ")),
        );
        // The lexemes, read back from the binary vector.
        let mut got = Vec::new();
        let mut rest = &v.0[4..];
        while let Some(nul) = rest.iter().position(|b| *b == 0) {
            got.push(String::from_utf8_lossy(&rest[..nul]).into_owned());
            let n = u16::from_be_bytes([rest[nul + 1], rest[nul + 2]]) as usize;
            rest = &rest[nul + 3 + 2 * n..];
        }
        let mut expect: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        expect.sort();
        assert_eq!(got, expect);
    }

    #[test]
    fn vectors_have_sorted_lexemes_weighted_positions() {
        let l = lex(&[
            ("french", "les", &[]),
            ("french", "elections", &["election"]),
            ("french", "a", &[]),
            ("french", "bamako", &["bamako"]),
        ]);
        let none = Lexemes::default();
        let v = vector(
            &View {
                cache: &l,
                fetched: &none,
            },
            "french",
            &positions("elections", "les elections a bamako"),
        );
        let mut expect = vec![0, 0, 0, 2];
        expect.extend_from_slice(b"bamako\0");
        expect.extend_from_slice(&1u16.to_be_bytes());
        expect.extend_from_slice(&(5u16 | WEIGHT_B).to_be_bytes());
        expect.extend_from_slice(b"election\0");
        expect.extend_from_slice(&2u16.to_be_bytes());
        expect.extend_from_slice(&(1u16 | WEIGHT_A).to_be_bytes());
        expect.extend_from_slice(&(3u16 | WEIGHT_B).to_be_bytes());
        assert_eq!(v.0, expect);
    }

    #[test]
    fn queries_or_the_distinct_reductions() {
        let l = lex(&[
            ("french", "elections", &["election"]),
            ("english", "elections", &["elect"]),
            ("french", "mali", &["mal"]),
            ("english", "mali", &["mali"]),
            ("simple", "elections", &["elections"]),
            ("simple", "mali", &["mali"]),
            ("french", "le", &[]),
            ("english", "le", &["le"]),
        ]);
        let none = Lexemes::default();
        let l = View {
            cache: &l,
            fetched: &none,
        };
        let terms = vec!["elections".to_string(), "mali".to_string()];
        assert_eq!(
            query(&l, &["french", "english"], &terms),
            "('election' & 'mal') | ('elect' & 'mali')"
        );
        assert_eq!(query(&l, &["french"], &["le".to_string()]), "");
    }
}
