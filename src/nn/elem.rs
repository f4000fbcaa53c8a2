//! Floating-point element types of the students' arithmetic (`f64`, `f32`) and the
//! branch-free `exp` behind the `f32` SiLU.
//!
//! The SiLU of each type ([`Elem::silu_pair`]) is the one [`Activation`](super::Activation)
//! and every SIMD backend evaluate, so the training kernels and the reference forward pass
//! agree to the bit: in `f64` the table-driven kernel of
//! [`engine::silu64`](super::engine::silu64), in `f32` the polynomial below.
//!
//! ```text
//! exp(x):  x = n ln2 + r, |r| <= ln2 / 2;   exp(x) = 2^n * sum_{i <= P} r^i / i!
//!          f32: P = 7  (remainder r^8 / 8!   < 6e-9 relative),  x clamped to [-87, 88],
//!               Horner steps fused
//!          f64: P = 12 (remainder r^13 / 13! < 2e-16 relative), x clamped to [-708, 709],
//!               unfused (the f64 SiLU until the table-driven kernel replaced it; kept as
//!               the generic instance and tested against libm)
//! ```
//! The clamps keep `2^n` a normal number (results then saturate); NaN stays NaN.

use std::fmt::Debug;
use std::iter::Sum;
use std::ops::{Add, Div, Mul, Neg, Sub};

/// `f64` or `f32`: what the training kernels compute in.
pub trait Elem:
    Copy
    + Debug
    + Default
    + PartialOrd
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Sum
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// Rounds an `f64` to this type.
    fn from_f64(x: f64) -> Self;
    /// Widens to `f64` (exact).
    fn to_f64(self) -> f64;
    /// `self * a + b` rounded once (`mul_add`).
    fn fused_mul_add(self, a: Self, b: Self) -> Self;
    /// `log2(e)`.
    const LOG2_E: Self;
    /// `ln 2 = LN2_HI + LN2_LO`, `n * LN2_HI` exact for the `n` that occur.
    const LN2_HI: Self;
    const LN2_LO: Self;
    /// `1.5 * 2^(mantissa bits)`: adding it rounds to an integer held in the low bits.
    const ROUND_SHIFT: Self;
    /// `1 / i!` for `i = P .. 0`, Horner order.
    const TAYLOR: &'static [Self];
    /// The range `exp` clamps its argument to, where `2^n` stays normal.
    const EXP_LO: Self;
    const EXP_HI: Self;
    /// Whether the `exp` polynomial fuses its Horner steps (`f32`: no reference to
    /// match, and one rounding per term is also the more accurate; `f64`: no, it must
    /// round as the reference activation does).
    const FUSED_HORNER: bool;
    /// `x` clamped to `[EXP_LO, EXP_HI]` as `f64::clamp` does (NaN stays NaN).
    #[inline(always)]
    fn clamp_exp(self) -> Self {
        let mut x = self;
        if x < Self::EXP_LO {
            x = Self::EXP_LO;
        }
        if x > Self::EXP_HI {
            x = Self::EXP_HI;
        }
        x
    }
    /// `2^n` from `t = x log2(e) + ROUND_SHIFT`, whose low mantissa bits hold `n`.
    fn pow2_from_shifted(t: Self) -> Self;
    /// `table[bits(self) mod 16]` (`self` a shifted `k` as in `pow2_from_shifted`).
    fn lookup16(self, table: &[Self; 16]) -> Self;
    /// `self * 2^floor(k / 16)` by adding to the exponent field, `k` in the low
    /// mantissa bits of `t` (no rounding; the caller keeps the result normal).
    fn scale_by_shifted(self, t: Self) -> Self;
    /// `(silu(z), silu'(z))`: [`super::engine::silu64`] in `f64`, [`silu_lanes`] in `f32`.
    fn silu_pair(self) -> (Self, Self);
    /// `exp(x)` to within a few ulp, branch-free and call-free so that loops over
    /// it vectorise (see the module docs).
    #[cfg(test)]
    fn exp_fast(self) -> Self {
        let mut x = [self];
        exp_lanes(&mut x);
        x[0]
    }
}

/// `x_i <- exp(x_i)` for `N` lanes at once, one operation at a time across the lanes
/// (independent chains interleave, hiding the latency of the polynomial); every lane
/// gets the same operations as [`Elem::exp_fast`].
#[inline(always)]
#[allow(clippy::needless_range_loop)]
pub(crate) fn exp_lanes<E: Elem, const N: usize>(x: &mut [E; N]) {
    let (mut t, mut r) = ([E::ZERO; N], [E::ZERO; N]);
    for i in 0..N {
        let xi = x[i].clamp_exp();
        t[i] = xi * E::LOG2_E + E::ROUND_SHIFT;
        let n = t[i] - E::ROUND_SHIFT;
        r[i] = (xi - n * E::LN2_HI) - n * E::LN2_LO;
    }
    let mut p = [E::TAYLOR[0]; N];
    for &c in &E::TAYLOR[1..] {
        for i in 0..N {
            p[i] = if E::FUSED_HORNER {
                p[i].fused_mul_add(r[i], c)
            } else {
                p[i] * r[i] + c
            };
        }
    }
    for i in 0..N {
        x[i] = p[i] * E::pow2_from_shifted(t[i]);
    }
}

/// `ln 2 = LN2_HI + LN2_LO` (fdlibm's split): `n * LN2_HI` is exact for |n| < 2^11.
const LN2_HI_64: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO_64: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// `1.5 * 2^52`: adding it rounds to an integer held in the low mantissa bits.
const ROUND_SHIFT_64: f64 = 6_755_399_441_055_744.0;
/// `1 / i!` for `i = 12 .. 0`, Horner order (its last eight entries are also the
/// polynomial of [`engine::silu64`](super::engine::silu64)).
pub(crate) const TAYLOR_64: [f64; 13] = [
    1.0 / 479_001_600.0,
    1.0 / 39_916_800.0,
    1.0 / 3_628_800.0,
    1.0 / 362_880.0,
    1.0 / 40_320.0,
    1.0 / 5_040.0,
    1.0 / 720.0,
    1.0 / 120.0,
    1.0 / 24.0,
    1.0 / 6.0,
    0.5,
    1.0,
    1.0,
];

/// Cephes' split of `ln 2` for `f32`: `n * LN2_HI` is exact for |n| < 2^15.
const LN2_HI_32: f32 = f32::from_bits(0x3f31_8000); // 0.693359375 = 355 / 512
const LN2_LO_32: f32 = -2.121_944_4e-4;
/// `1.5 * 2^23`.
const ROUND_SHIFT_32: f32 = 12_582_912.0;
/// `1 / i!` for `i = 7 .. 0`, Horner order.
const TAYLOR_32: [f32; 8] = [
    1.0 / 5_040.0,
    1.0 / 720.0,
    1.0 / 120.0,
    1.0 / 24.0,
    1.0 / 6.0,
    0.5,
    1.0,
    1.0,
];

impl Elem for f64 {
    const ZERO: f64 = 0.0;
    const ONE: f64 = 1.0;
    const LOG2_E: f64 = std::f64::consts::LOG2_E;
    const LN2_HI: f64 = LN2_HI_64;
    const LN2_LO: f64 = LN2_LO_64;
    const ROUND_SHIFT: f64 = ROUND_SHIFT_64;
    const TAYLOR: &'static [f64] = &TAYLOR_64;
    const EXP_LO: f64 = -708.0;
    const EXP_HI: f64 = 709.0;
    const FUSED_HORNER: bool = false;
    #[inline(always)]
    fn from_f64(x: f64) -> f64 {
        x
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn fused_mul_add(self, a: f64, b: f64) -> f64 {
        self.mul_add(a, b)
    }
    #[inline(always)]
    fn pow2_from_shifted(t: f64) -> f64 {
        // low 12 mantissa bits of t hold n mod 2^12; add the exponent bias and shift
        f64::from_bits(t.to_bits().wrapping_add(1023) << 52)
    }
    #[inline(always)]
    fn lookup16(self, table: &[f64; 16]) -> f64 {
        table[(self.to_bits() & 15) as usize]
    }
    #[inline(always)]
    fn scale_by_shifted(self, t: f64) -> f64 {
        f64::from_bits(self.to_bits().wrapping_add((t.to_bits() >> 4) << 52))
    }
    #[inline(always)]
    fn silu_pair(self) -> (f64, f64) {
        super::engine::silu64::silu_pair(self)
    }
}

impl Elem for f32 {
    const ZERO: f32 = 0.0;
    const ONE: f32 = 1.0;
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = LN2_HI_32;
    const LN2_LO: f32 = LN2_LO_32;
    const ROUND_SHIFT: f32 = ROUND_SHIFT_32;
    const TAYLOR: &'static [f32] = &TAYLOR_32;
    const EXP_LO: f32 = -87.0;
    const EXP_HI: f32 = 88.0;
    const FUSED_HORNER: bool = true;
    #[inline(always)]
    fn from_f64(x: f64) -> f32 {
        x as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn fused_mul_add(self, a: f32, b: f32) -> f32 {
        self.mul_add(a, b)
    }
    #[inline(always)]
    fn pow2_from_shifted(t: f32) -> f32 {
        // low 9 mantissa bits of t hold n mod 2^9; add the exponent bias and shift
        f32::from_bits(t.to_bits().wrapping_add(127) << 23)
    }
    #[inline(always)]
    fn lookup16(self, table: &[f32; 16]) -> f32 {
        table[(self.to_bits() & 15) as usize]
    }
    #[inline(always)]
    fn scale_by_shifted(self, t: f32) -> f32 {
        f32::from_bits(self.to_bits().wrapping_add((t.to_bits() >> 4) << 23))
    }
    #[inline(always)]
    fn silu_pair(self) -> (f32, f32) {
        let (mut v, mut d) = ([self], [0.0]);
        silu_lanes(&mut v, &mut d);
        (v[0], d[0])
    }
}

/// `(silu(z), silu'(z))` with one `exp`:
/// `s = 1 / (1 + e^{-z})`, `silu = z s`, `silu' = s (1 + z (1 - s))` ([`Elem::silu_pair`]).
#[inline(always)]
pub(crate) fn silu_pair<E: Elem>(z: E) -> (E, E) {
    z.silu_pair()
}

/// The `f32` SiLU on `N` lanes: `z_i <- silu(z_i)`, `d_i <- silu'(z_i)`, interleaved as
/// in [`exp_lanes`] (the generic polynomial; `f64` uses [`super::engine::silu64`]).
#[inline(always)]
#[allow(clippy::needless_range_loop)]
pub(crate) fn silu_lanes<E: Elem, const N: usize>(z: &mut [E; N], d: &mut [E; N]) {
    let mut e = [E::ZERO; N];
    for i in 0..N {
        e[i] = -z[i];
    }
    exp_lanes(&mut e);
    for i in 0..N {
        let s = E::ONE / (E::ONE + e[i]);
        d[i] = s * (E::ONE + z[i] * (E::ONE - s));
        z[i] = z[i] * s;
    }
}

/// `(relu(z), relu'(z))` with `relu'(0) = 0`; NaN gives `(NaN, NaN)`.
#[inline(always)]
pub(crate) fn relu_pair<E: Elem>(z: E) -> (E, E) {
    if z > E::ZERO {
        (z, E::ONE)
    } else if z <= E::ZERO {
        (E::ZERO, E::ZERO)
    } else {
        (z, z)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative error of the inlined exp, in units of the type's epsilon.
    const EXP_ULPS: f64 = 4.0;

    #[test]
    fn exp_matches_libm_in_both_precisions() {
        let (mut worst64, mut worst32): (f64, f64) = (0.0, 0.0);
        for i in 0..=200_000 {
            let x = -700.0 + i as f64 * 0.007_000_3;
            let (fast, libm) = (x.exp_fast(), x.exp());
            worst64 = worst64.max(((fast - libm) / libm).abs());
            let x32 = (x / 8.1) as f32;
            let libm32 = (x32 as f64).exp();
            worst32 = worst32.max(((x32.exp_fast() as f64 - libm32) / libm32).abs());
        }
        assert!(
            worst64 <= EXP_ULPS * f64::EPSILON,
            "f64: worst relative error {worst64:e}"
        );
        assert!(
            worst32 <= EXP_ULPS * f32::EPSILON as f64,
            "f32: worst relative error {worst32:e}"
        );
        assert_eq!(0.0f64.exp_fast(), 1.0);
        assert_eq!(0.0f32.exp_fast(), 1.0);
        assert!(f64::NAN.exp_fast().is_nan() && f32::NAN.exp_fast().is_nan());
        assert!(f64::exp_fast(-1e4) < 1e-300 && f64::exp_fast(1e4) > 1e300);
        assert!(f32::exp_fast(-1e4) < 1e-37 && f32::exp_fast(1e4) > 1e38);
    }

    #[test]
    fn silu_pair_agrees_across_precisions() {
        for i in -400..=400 {
            let z = i as f64 * 0.05;
            let (v64, d64) = silu_pair(z);
            let (v32, d32) = silu_pair(z as f32);
            let tol = 8.0 * f32::EPSILON as f64;
            assert!(
                (v32 as f64 - v64).abs() <= tol * v64.abs().max(1.0),
                "silu({z})"
            );
            assert!(
                (d32 as f64 - d64).abs() <= tol * d64.abs().max(1.0),
                "silu'({z})"
            );
        }
        assert_eq!(relu_pair(-0.0f32), (0.0, 0.0));
        assert!(relu_pair(f64::NAN).1.is_nan());
    }
}
