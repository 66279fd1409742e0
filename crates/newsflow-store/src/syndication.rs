//! Linking syndicated copies. Two articles whose 64-bit SimHash
//! fingerprints differ in at most `max_distance` bits are copies of one
//! story; every copy points (`duplicate_of`) at the cluster's original,
//! chosen by [`Rank`] so that the result does not depend on which copy
//! arrived first.
//!
//! Candidates are found through four 16-bit bands of the fingerprint, each
//! indexed: if two fingerprints differ in at most `k` bits, one of the
//! four bands differs in at most `k / 4` bits (pigeonhole), so probing each
//! band with its value and every value within `k / 4` flipped bits finds
//! every match. That is 4 probes for `k` ≤ 3, 68 for `k` ≤ 7 and 548 for
//! `k` ≤ 11, the largest threshold accepted.

use chrono::{DateTime, Utc};

/// Largest accepted `duplicate_max_distance`.
pub const MAX_DISTANCE_LIMIT: u32 = 11;

/// The fingerprint's bits, from its 16 hex digits.
pub(crate) fn parse_fingerprint(hex: &str) -> Option<u64> {
    let hex = hex.trim();
    (hex.len() == 16)
        .then(|| u64::from_str_radix(hex, 16).ok())
        .flatten()
}

/// The fingerprint as the databases store it (same bits, signed).
pub(crate) fn to_db(fp: u64) -> i64 {
    i64::from_ne_bytes(fp.to_ne_bytes())
}

/// The fingerprint from its stored form.
pub(crate) fn from_db(v: i64) -> u64 {
    u64::from_ne_bytes(v.to_ne_bytes())
}

/// The four 16-bit bands, most significant first.
pub(crate) fn bands(fp: u64) -> [i64; 4] {
    [48, 32, 16, 0].map(|shift| ((fp >> shift) & 0xffff) as i64)
}

/// Number of differing bits.
pub(crate) fn distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// For each band, the values a fingerprint within `max_distance` bits of
/// `fp` may have there, at least one band matching.
pub(crate) fn probes(fp: u64, max_distance: u32) -> [Vec<i64>; 4] {
    let flips = max_distance.min(MAX_DISTANCE_LIMIT) / 4;
    bands(fp).map(|v| {
        let v = v as u16;
        let mut out = vec![i64::from(v)];
        if flips >= 1 {
            for i in 0..16 {
                out.push(i64::from(v ^ (1 << i)));
                if flips >= 2 {
                    for j in (i + 1)..16 {
                        out.push(i64::from(v ^ (1 << i) ^ (1 << j)));
                    }
                }
            }
        }
        out
    })
}

/// What decides which copy of a story is the original: a page that says
/// it republishes another publisher loses to one that does not; then the
/// earlier publication day; then the copy stored first; then the smaller
/// id, so that every store replica picks the same one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Rank {
    pub republication: bool,
    /// `None` (no date) sorts after every day.
    pub published_day: DayKey,
    pub first_stored_at: DateTime<Utc>,
    pub article_id: String,
}

/// A publication day where "unknown" is latest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum DayKey {
    /// `YYYY-MM-DD`.
    Day(String),
    /// No date.
    Unknown,
}

impl From<Option<String>> for DayKey {
    fn from(d: Option<String>) -> Self {
        d.map_or(Self::Unknown, Self::Day)
    }
}

/// One article as syndication sees it.
#[derive(Debug, Clone)]
pub(crate) struct Copy {
    pub rank: Rank,
    pub fingerprint: Option<u64>,
    pub duplicate_of: Option<String>,
}

/// Given the article just written (`this`) and the stored articles whose
/// bands matched (`candidates`, which may include false positives), the
/// roots of every cluster the article joins: the ids whose members must
/// now point at the best of them. Empty when the article matches nothing
/// and was not linked before.
pub(crate) fn roots_to_merge(this: &Copy, candidates: &[Copy], max_distance: u32) -> Vec<String> {
    let Some(fp) = this.fingerprint else {
        return Vec::new();
    };
    fn add(roots: &mut Vec<String>, id: &str) {
        if !roots.iter().any(|r| r == id) {
            roots.push(id.to_string());
        }
    }
    let mut roots: Vec<String> = Vec::new();
    for c in candidates {
        let Some(cfp) = c.fingerprint else { continue };
        if c.rank.article_id == this.rank.article_id || distance(fp, cfp) > max_distance {
            continue;
        }
        add(
            &mut roots,
            c.duplicate_of.as_deref().unwrap_or(&c.rank.article_id),
        );
    }
    if roots.is_empty() && this.duplicate_of.is_none() {
        return roots;
    }
    add(
        &mut roots,
        this.duplicate_of
            .as_deref()
            .unwrap_or(&this.rank.article_id),
    );
    roots
}

impl Copy {
    /// Article `d` as it is about to be written: stored first at
    /// `first_stored_at`, pointing at `duplicate_of`.
    pub(crate) fn of_row(
        d: &crate::derive::Derived,
        first_stored_at: DateTime<Utc>,
        duplicate_of: Option<String>,
    ) -> Self {
        Self {
            rank: Rank {
                republication: d.republication,
                published_day: d.published_day.clone().into(),
                first_stored_at,
                article_id: d.article_id.clone(),
            },
            fingerprint: d.fingerprint,
            duplicate_of,
        }
    }
}

/// The columns [`Copy`] is read from.
pub(crate) const COPY_COLUMNS: &str =
    "article_id, republication, published_day, first_stored_at, fingerprint, duplicate_of";

/// The rows found for `ids`, plus a stand-in for each id not found (a
/// `duplicate_of` pointing at a deleted article): one that never wins, so
/// its former members join a real original.
pub(crate) fn with_placeholders(ids: &[String], found: Vec<Copy>) -> Vec<Copy> {
    let mut out = found;
    for id in ids {
        if !out.iter().any(|c| &c.rank.article_id == id) {
            out.push(Copy {
                rank: Rank {
                    republication: true,
                    published_day: DayKey::Unknown,
                    first_stored_at: DateTime::<Utc>::MAX_UTC,
                    article_id: id.clone(),
                },
                fingerprint: None,
                duplicate_of: None,
            });
        }
    }
    out
}

/// What linking one article needs done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Nothing (no copy near it, or already linked right).
    Done,
    /// Every article that is one of `roots` or points at one must now
    /// point at `best`, and `best` at nothing. Already applied in memory.
    Merge { best: String, roots: Vec<String> },
    /// These articles (roots of clusters it joins) must be loaded first.
    Need(Vec<String>),
}

/// Links a batch's articles in memory, given every stored article that can
/// be a copy of one of them (the batch's own rows included): one query
/// loads them all, and only merges are written back, instead of a lookup
/// per article. The caller holds the write lock for linking, so nothing
/// else changes these links meanwhile.
#[derive(Debug)]
pub(crate) struct Linker {
    max_distance: u32,
    rows: std::collections::HashMap<String, Copy>,
    /// The ids of the known articles by the value of each band of their
    /// fingerprint: an article's near ones are found by probing, as in
    /// the database, instead of measuring every known article (a batch
    /// loads thousands).
    by_band: [std::collections::HashMap<u16, Vec<String>>; 4],
}

impl Linker {
    pub(crate) fn new(max_distance: u32) -> Self {
        Self {
            max_distance,
            rows: std::collections::HashMap::new(),
            by_band: Default::default(),
        }
    }

    /// Know these stored articles.
    pub(crate) fn add(&mut self, rows: impl IntoIterator<Item = Copy>) {
        for c in rows {
            let id = c.rank.article_id.clone();
            if let Some(fp) = c.fingerprint
                && self.rows.get(&id).and_then(|known| known.fingerprint) != Some(fp)
            {
                for (band, value) in self.by_band.iter_mut().zip(bands(fp)) {
                    band.entry(value as u16).or_default().push(id.clone());
                }
            }
            self.rows.insert(id, c);
        }
    }

    /// The known articles within `max_distance` bits of `fp`, but `id`.
    fn near(&self, id: &str, fp: u64) -> Vec<Copy> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for (band, values) in self.by_band.iter().zip(probes(fp, self.max_distance)) {
            for other in values
                .iter()
                .filter_map(|v| band.get(&(*v as u16)))
                .flatten()
            {
                if other == id || !seen.insert(other.as_str()) {
                    continue;
                }
                if let Some(c) = self.rows.get(other)
                    && c.fingerprint
                        .is_some_and(|f| distance(f, fp) <= self.max_distance)
                {
                    out.push(c.clone());
                }
            }
        }
        out
    }

    /// Whether article `id` is known.
    pub(crate) fn knows(&self, id: &str) -> bool {
        self.rows.contains_key(id)
    }

    /// The original known article `id` points at, as linked so far.
    pub(crate) fn original_of(&self, id: &str) -> Option<&str> {
        self.rows.get(id)?.duplicate_of.as_deref()
    }

    /// Link article `id` with the known articles near it.
    pub(crate) fn link(&mut self, id: &str) -> Step {
        let Some(this) = self.rows.get(id).cloned() else {
            return Step::Done;
        };
        let Some(fp) = this.fingerprint else {
            return Step::Done;
        };
        let near = self.near(id, fp);
        let roots = roots_to_merge(&this, &near, self.max_distance);
        if roots.len() < 2 {
            // Matches nothing, or only its own cluster.
            return Step::Done;
        }
        let missing: Vec<String> = roots
            .iter()
            .filter(|r| !self.rows.contains_key(*r))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Step::Need(missing);
        }
        let Some(best) = roots
            .iter()
            .filter_map(|r| self.rows.get(r).map(|c| &c.rank))
            .min()
            .map(|r| r.article_id.clone())
        else {
            return Step::Done;
        };
        for c in self.rows.values_mut() {
            if c.rank.article_id == best {
                c.duplicate_of = None;
            } else if roots.contains(&c.rank.article_id)
                || c.duplicate_of.as_ref().is_some_and(|d| roots.contains(d))
            {
                c.duplicate_of = Some(best.clone());
            }
        }
        Step::Merge { best, roots }
    }
}

/// For a batch of fingerprints, the band values to look up: the union of
/// each one's probes, per band, without repeats.
pub(crate) fn batch_probes(fps: &[u64], max_distance: u32) -> [Vec<i64>; 4] {
    let mut out: [std::collections::BTreeSet<i64>; 4] = Default::default();
    for &fp in fps {
        for (band, values) in probes(fp, max_distance).into_iter().enumerate() {
            out[band].extend(values);
        }
    }
    out.map(|set| set.into_iter().collect())
}

/// The merges of a batch, made one after the other in memory (see
/// [`Linker::link`]), as one mapping to write in a single statement: each
/// root a merge named, and the original it points at once every merge is
/// applied (itself, for the original). Every root was an original in the
/// stored data before the batch (a merge only joins the roots of clusters,
/// and its best is one of them), so a stored row is either one of these
/// roots or points at one of them, never both.
#[derive(Debug, Default)]
pub(crate) struct Merges {
    /// What each root pointed at after the merge that named it last.
    parent: std::collections::HashMap<String, String>,
    /// The roots, in the order they were first named.
    roots: Vec<String>,
}

impl Merges {
    /// Record that every one of `roots` and their members now point at
    /// `best` (one of them).
    pub(crate) fn add(&mut self, best: &str, roots: &[String]) {
        for r in roots {
            if !self.parent.contains_key(r) {
                self.roots.push(r.clone());
            }
            self.parent.insert(r.clone(), best.to_string());
        }
    }

    /// Whether no merge was recorded.
    pub(crate) fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }

    /// Each root and the original it ends up with, as two parallel lists.
    pub(crate) fn resolved(&self) -> (Vec<String>, Vec<String>) {
        let last = self
            .roots
            .iter()
            .map(|r| {
                let mut at = r;
                // A root merged under a later merge's root follows it; a
                // chain is at most as long as the batch has merges.
                for _ in 0..=self.roots.len() {
                    match self.parent.get(at) {
                        Some(next) if next != at => at = next,
                        _ => break,
                    }
                }
                at.clone()
            })
            .collect();
        (self.roots.clone(), last)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn merges_compose_into_the_last_original_of_each_root() {
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut m = Merges::default();
        assert!(m.is_empty());
        m.add("a", &ids(&["a", "b"]));
        m.add("d", &ids(&["d", "e"]));
        // The cluster of a joins c's, whose original wins.
        m.add("c", &ids(&["c", "a"]));
        let (roots, originals) = m.resolved();
        assert_eq!(roots, ids(&["a", "b", "d", "e", "c"]));
        assert_eq!(originals, ids(&["c", "c", "d", "d", "c"]));
    }

    #[test]
    fn probes_find_everything_within_the_threshold() {
        // A fingerprint, and others at growing distances spread over bands.
        let fp: u64 = 0x0123_4567_89ab_cdef;
        let near = [
            fp ^ 0b1,
            fp ^ (1 << 63 | 1 << 40 | 1 << 20),
            fp ^ 0x8001_8001_8001_8001,
        ];
        for k in 0..=MAX_DISTANCE_LIMIT {
            let p = probes(fp, k);
            for other in near {
                let d = distance(fp, other);
                let hit = bands(other)
                    .iter()
                    .zip(&p)
                    .any(|(b, vals)| vals.contains(b));
                if d <= k {
                    assert!(hit, "k={k} d={d}");
                }
            }
        }
        assert_eq!(probes(fp, 3).iter().map(Vec::len).sum::<usize>(), 4);
        assert_eq!(probes(fp, 7).iter().map(Vec::len).sum::<usize>(), 68);
        assert_eq!(probes(fp, 11).iter().map(Vec::len).sum::<usize>(), 548);
    }

    #[test]
    fn exhaustive_pigeonhole_check_for_two_bit_distances() {
        let fp: u64 = 0xfeed_f00d_dead_beef;
        for i in 0..64 {
            for j in i..64 {
                let other = fp ^ (1 << i) ^ (1 << j);
                let p = probes(fp, 7);
                assert!(bands(other).iter().zip(&p).any(|(b, v)| v.contains(b)));
            }
        }
    }

    #[test]
    fn fingerprints_round_trip() {
        assert_eq!(parse_fingerprint("ffffffffffffffff"), Some(u64::MAX));
        assert_eq!(from_db(to_db(u64::MAX)), u64::MAX);
        assert_eq!(parse_fingerprint("abc"), None);
        assert_eq!(parse_fingerprint("zzzzzzzzzzzzzzzz"), None);
    }

    fn copy(id: &str, rep: bool, day: Option<&str>, fp: u64, dup: Option<&str>) -> Copy {
        Copy {
            rank: Rank {
                republication: rep,
                published_day: day.map(str::to_string).into(),
                first_stored_at: Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
                article_id: id.into(),
            },
            fingerprint: Some(fp),
            duplicate_of: dup.map(str::to_string),
        }
    }

    #[test]
    fn ranks_prefer_the_declared_original_then_the_earliest() {
        let republished = copy("a", true, Some("2025-06-24"), 0, None);
        let original = copy("b", false, Some("2025-06-25"), 0, None);
        assert!(original.rank < republished.rank);
        let undated = copy("c", false, None, 0, None);
        assert!(original.rank < undated.rank);
        let earlier = copy("d", false, Some("2025-06-01"), 0, None);
        assert!(earlier.rank < original.rank);
    }

    #[test]
    fn the_linker_merges_clusters_in_memory() {
        let mut l = Linker::new(3);
        l.add([
            copy("x", false, Some("2025-06-02"), 0b0000, None),
            copy("y", false, Some("2025-06-03"), 0b0011, Some("x")),
            copy("z", false, Some("2025-06-01"), 0b1111_0000_0000, None),
            copy("far", false, Some("2025-01-01"), 0xffff_0000, None),
        ]);
        // z is 4 bits from x, 6 from y: alone.
        assert_eq!(l.link("z"), Step::Done);
        // n is 2 bits from x and from z: the two clusters merge under z,
        // the earliest.
        l.add([copy("n", false, Some("2025-06-04"), 0b0011_0000_0000, None)]);
        let Step::Merge { best, mut roots } = l.link("n") else {
            panic!()
        };
        roots.sort();
        assert_eq!(best, "z");
        assert_eq!(roots, vec!["n", "x", "z"]);
        for id in ["x", "y", "n"] {
            assert_eq!(l.rows[id].duplicate_of.as_deref(), Some("z"), "{id}");
        }
        assert_eq!(l.rows["far"].duplicate_of, None);
        // Linking again changes nothing.
        assert_eq!(l.link("n"), Step::Done);
        // A member pointing at an unknown root: that root is needed.
        l.add([copy("m", false, None, 0xffff_0001, Some("r9"))]);
        assert_eq!(l.link("far"), Step::Need(vec!["r9".into()]));
    }

    #[test]
    fn batch_probes_are_unions() {
        let p = batch_probes(&[0, 0, 1], 3);
        assert_eq!(p[3], vec![0, 1]);
        assert_eq!(p[0], vec![0]);
    }

    #[test]
    fn roots_follow_links_and_ignore_far_candidates() {
        let this = copy("n", false, None, 0, None);
        let cands = [
            copy("m1", false, None, 0b111, Some("r1")),
            copy("r2", false, None, 0b1, None),
            copy("far", false, None, 0xffff, None),
        ];
        assert_eq!(roots_to_merge(&this, &cands, 3), vec!["r1", "r2", "n"]);
        assert!(roots_to_merge(&this, &cands[2..], 3).is_empty());
        let linked = copy("n", false, None, 0, Some("r0"));
        assert_eq!(roots_to_merge(&linked, &[], 3), vec!["r0"]);
    }
}
