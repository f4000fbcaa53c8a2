//! Deterministic random streams and stable content hashes.
//!
//! Every random generator that is *derived* from a user's seed comes from [`rng`]: the
//! result depends only on the seed, on the experiment (its [`Salt`]) and on *what* is drawn
//! (labels such as a segment index), never on scheduling. Two experiments with the same
//! seed draw independent numbers because their salts differ. (A generator that uses the
//! user's seed as it is, for a single stream, is seeded with it directly.)
//!
//! The content hash (FNV-1a, crate-private) names result-store cells and fingerprints query
//! files.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// How an experiment derives its generators from a seed and labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Salt {
    /// `ChaCha8Rng::seed_from_u64(stream(salt, seed, labels))`: SplitMix64 mixing of the
    /// seed, the salt and the labels ([`stream`]). Every new stream uses this.
    Mix(u64),
    /// Legacy: the ChaCha8 stream `labels[0]` of the key `seed` (`set_stream`). The stability
    /// checker and `flowcert queries` derived their streams this way first; it is kept so
    /// that the pinned stability tables and users' query files do not move.
    ChaChaStream,
}

/// The distillation experiment (teacher pairs, student initialisation, evaluation points).
pub const DISTILL: Salt = Salt::Mix(0x9E37_79B9_7F4A_7C15);
/// The Lipschitz-mismatch checker (pair search, teacher pairs, students, evaluation).
pub const MISMATCH: Salt = Salt::Mix(0x5851_F42D_4C95_7F2D);
/// The composition checker (perturbations and start points).
pub const COMPOSITION: Salt = Salt::Mix(0xD6E8_FEB8_6659_FD93);
/// The score-approximation checker (Monte Carlo samples of `p_t`, one stream per time).
pub const SCORE: Salt = Salt::Mix(0xA076_1D64_78BD_642F);
/// The stability checker (samples of `p_{t_i}`, one stream per segment; legacy scheme).
pub const STABILITY: Salt = Salt::ChaChaStream;
/// The query sets of `flowcert queries` (one stream per kind of query; legacy scheme).
pub const QUERIES: Salt = Salt::ChaChaStream;

/// The generator of the draws labelled `parts` of an experiment salted `salt`, from `seed`.
///
/// ```
/// use flowcert::seed::{rng, DISTILL, MISMATCH, STABILITY};
/// use rand::RngExt;
/// let draw = |salt, parts: &[u64]| rng(salt, 7, parts).random::<u64>();
/// assert_eq!(draw(DISTILL, &[1, 2]), draw(DISTILL, &[1, 2]));
/// assert_ne!(draw(DISTILL, &[1, 2]), draw(DISTILL, &[2, 1]));
/// assert_ne!(draw(DISTILL, &[1]), draw(MISMATCH, &[1]));
/// assert_ne!(draw(STABILITY, &[1]), draw(STABILITY, &[2]));
/// ```
pub fn rng(salt: Salt, seed: u64, parts: &[u64]) -> ChaCha8Rng {
    match salt {
        Salt::Mix(s) => ChaCha8Rng::seed_from_u64(stream(s, seed, parts)),
        Salt::ChaChaStream => {
            let mut r = ChaCha8Rng::seed_from_u64(seed);
            r.set_stream(parts.first().copied().unwrap_or(0));
            r
        }
    }
}

/// Mix a salt, a seed and labels into one 64-bit stream id (SplitMix64 finaliser per part).
///
/// ```
/// use flowcert::seed::stream;
/// assert_ne!(stream(1, 1, &[2, 3]), stream(1, 1, &[3, 2]));
/// assert_eq!(stream(1, 5, &[7]), stream(1, 5, &[7]));
/// ```
pub fn stream(salt: u64, seed: u64, parts: &[u64]) -> u64 {
    let mut z = seed ^ salt;
    for &p in parts {
        z = z
            .wrapping_add(p.wrapping_mul(0xBF58_476D_1CE4_E5B9))
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
    }
    z
}

/// FNV-1a (64 bit) of bytes: stable across runs and platforms (result-store keys, query
/// file fingerprints, the mixture hash of a query manifest).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn legacy_stream_is_set_stream() {
        use rand::RngExt;
        let mut a = ChaCha8Rng::seed_from_u64(3);
        a.set_stream(5);
        assert_eq!(a.random::<u64>(), rng(STABILITY, 3, &[5]).random::<u64>());
    }
}
