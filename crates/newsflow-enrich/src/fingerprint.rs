//! Near-duplicate fingerprint: a 64-bit SimHash over word shingles.
//!
//! Words are lower-cased letters and digits (accents kept, punctuation and
//! typography ignored, so `’` vs `'` or a changed line break does not
//! matter). Each run of [`SHINGLE`] consecutive words is hashed with a fixed
//! function (FNV-1a then a SplitMix64 finaliser: stable across Rust
//! versions and platforms, unlike `DefaultHasher`), and bit `i` of the
//! fingerprint is the majority vote of bit `i` over all shingles. Copies
//! that share most shingles land within a few bits of each other; unrelated
//! texts differ in about half of the 64 bits.
//!
//! **Stability:** the store compares fingerprints computed at different
//! times; changing the tokenisation, `SHINGLE` or the hash changes every
//! fingerprint, so it needs a new field or a re-computation.

/// Words per shingle. Two keeps one edited word from touching more than two
/// features, which keeps lightly edited copies close.
const SHINGLE: usize = 2;

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The SimHash of `text`, or `None` when it has no words.
pub fn simhash(text: &str) -> Option<u64> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        return None;
    }
    let mut votes = [0i64; 64];
    let mut add = |feature: &str| {
        let h = splitmix(fnv1a(feature.as_bytes()));
        for (i, v) in votes.iter_mut().enumerate() {
            if h >> i & 1 == 1 {
                *v += 1;
            } else {
                *v -= 1;
            }
        }
    };
    if words.len() < SHINGLE {
        add(&words.join(" "));
    } else {
        for w in words.windows(SHINGLE) {
            add(&w.join(" "));
        }
    }
    Some(
        votes
            .iter()
            .enumerate()
            .filter(|(_, v)| **v > 0)
            .fold(0u64, |acc, (i, _)| acc | 1 << i),
    )
}

/// The fingerprint as 16 lower-case hex digits.
pub fn fingerprint(text: &str) -> Option<String> {
    simhash(text).map(|h| format!("{h:016x}"))
}

/// Number of differing bits between two fingerprints.
#[cfg(test)]
pub fn distance(a: &str, b: &str) -> u32 {
    let a = u64::from_str_radix(a, 16).expect("hex");
    let b = u64::from_str_radix(b, 16).expect("hex");
    (a ^ b).count_ones()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = include_str!("../fixtures/000_131b8218b7f828c0.txt");

    #[test]
    fn format_and_empty() {
        let f = fingerprint("Le Mali et la Russie").unwrap();
        assert_eq!(f.len(), 16);
        assert!(
            f.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_uppercase())
        );
        assert_eq!(fingerprint(" … "), None);
        // Fixed hash: the same text gives the same value on every platform.
        assert_eq!(fingerprint("Bamako"), fingerprint("BAMAKO"));
    }

    #[test]
    fn lightly_edited_copies_are_close_and_unrelated_texts_far() {
        let original = fingerprint(SEED).unwrap();
        // A syndicated copy: typography changed, a credit line added, a
        // sentence dropped, a few words edited.
        let mut copy = SEED.replace('\'', "’").replace("Général", "général");
        copy = format!("Par Alassane Souleymane (L’Essor)\n\n{copy}\n\nSource : L’Essor");
        let first_dot = copy.find(". ").unwrap();
        copy.replace_range(first_dot..first_dot + 2, ". Lire aussi notre dossier. ");
        copy = copy.replacen("coopération", "collaboration", 2);
        let edited = fingerprint(&copy).unwrap();
        let d = distance(&original, &edited);
        assert!(d <= 6, "edited copy is {d} bits away");

        // The first half of the same article (a truncated copy) stays near.
        let half: String = SEED.chars().take(SEED.chars().count() * 3 / 4).collect();
        let d = distance(&original, &fingerprint(&half).unwrap());
        assert!(d <= 10, "truncated copy is {d} bits away");

        for other in [
            "Le gouvernement sénégalais a annoncé mardi un audit des finances publiques, après la publication \
             d’un rapport de la Cour des comptes qui révèle un déficit budgétaire largement sous-estimé entre 2019 et 2023. \
             Le Premier ministre a promis la transparence et des poursuites contre les responsables.",
            "The central bank cut its benchmark interest rate by half a percentage point on Wednesday, citing \
             slowing inflation and weak growth, and said further cuts were likely this year if prices kept easing.",
        ] {
            let d = distance(&original, &fingerprint(other).unwrap());
            assert!(d >= 18, "unrelated text only {d} bits away");
        }
    }
}
