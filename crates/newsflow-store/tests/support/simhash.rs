//! A small SimHash for tests: 64 bits over word 3-shingles of the folded
//! text, each shingle hashed with FNV-1a and mixed. The enrich stage's
//! fingerprint is the real one; this only has to behave like one (near
//! texts, near fingerprints) so the store's linking can be tested on real
//! article text.

fn mix(mut h: u64) -> u64 {
    // SplitMix64 finaliser: spreads FNV's weak low bits over all 64.
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The fingerprint of `text`, as 16 hex digits.
pub fn simhash(text: &str) -> String {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut weights = [0i64; 64];
    for shingle in words.windows(3) {
        let h = mix(fnv(&shingle.join(" ")));
        for (bit, w) in weights.iter_mut().enumerate() {
            *w += if h >> bit & 1 == 1 { 1 } else { -1 };
        }
    }
    let fp = weights
        .iter()
        .enumerate()
        .filter(|(_, w)| **w > 0)
        .fold(0u64, |acc, (bit, _)| acc | 1 << bit);
    format!("{fp:016x}")
}

/// Number of differing bits between two fingerprints.
pub fn distance(a: &str, b: &str) -> u32 {
    let p = |s: &str| u64::from_str_radix(s, 16).unwrap();
    (p(a) ^ p(b)).count_ones()
}
