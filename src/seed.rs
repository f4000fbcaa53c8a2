//! Deterministic seed streams: every random draw in flowcert comes from a
//! `ChaCha8Rng::seed_from_u64(stream(..))`, so results depend only on the user's seed and
//! on *what* is drawn (a segment, an evaluation set), never on scheduling.

/// Salt of the distillation experiment's streams.
pub const DISTILL_SALT: u64 = 0x9E37_79B9_7F4A_7C15;
/// Salt of the Lipschitz-mismatch checker's streams.
pub const MISMATCH_SALT: u64 = 0x5851_F42D_4C95_7F2D;

/// Mix a salt, a seed and labels into one 64-bit stream id (SplitMix64 finaliser per part).
///
/// ```
/// use flowcert::seed::{stream, DISTILL_SALT};
/// assert_ne!(stream(DISTILL_SALT, 1, &[2, 3]), stream(DISTILL_SALT, 1, &[3, 2]));
/// assert_eq!(stream(DISTILL_SALT, 5, &[7]), stream(DISTILL_SALT, 5, &[7]));
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
